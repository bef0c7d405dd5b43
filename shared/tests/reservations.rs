//! 予約 in the chat, driven through the webhook handler with signed events on the embedded
//! store: the resident taps the buttons the replies carry, as on a phone, and the store is
//! checked after each step. Every reply is checked against LINE's limits by the in-memory
//! LINE API.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use shared::catalog::Catalog;
use shared::domain::UserId;
use shared::handlers::webhook::{WebhookContext, handle_webhook};
use shared::line::signature::ChannelSecret;
use shared::line::{Action, LineCall, MemoryLineApi, Message};
use shared::reservations::events::{BookingEventKind, MemoryEvents};
use shared::reservations::{
    AbsenceReason, Age, BookingFor, BookingId, BookingStatus, Eligibility, Schedule, Service,
    ServiceId, Slot, SlotRef,
};
use shared::store::{BookingRequest, BookingStore, LocalStore, Store};

const CATALOG: &str = "categories:\n  - {id: checkup, label: 健診}\nmilestones:\n  - {id: m, anchor: birth_date, at: {months: 3}, category: checkup, service: checkup-4m, text: 4か月児健診のご案内}\n";

/// 2027-01-04 10:00 JST.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 4, 1, 0, 0)
        .single()
        .expect("time")
}

fn d(s: &str) -> NaiveDate {
    shared::dates::parse_ymd(s).expect("date")
}

fn service(id: &str, name: &str, who: Eligibility, many: bool) -> Service {
    Service {
        id: ServiceId::parse(id).expect("id"),
        name: name.into(),
        place: "保健センター 2階".into(),
        description: "母子健康手帳をお持ちください。".into(),
        who,
        opens_days_before: 60,
        closes_days_before: 1,
        many_per_resident: many,
        remind_days_before: 1,
        offer_hours: 24,
        easy_name: None,
        easy_description: None,
    }
}

fn slot(r: &str, minutes: i64, capacity: u32) -> Slot {
    let slot = SlotRef::parse(r).expect("slot");
    Slot {
        end: slot.start + Duration::minutes(minutes),
        slot,
        capacity,
    }
}

/// 4か月児健診 for children from 3 months to before 5, and a 相談 open to anyone.
fn schedule() -> Schedule {
    let checkup = service(
        "checkup-4m",
        "4か月児健診",
        Eligibility::Child {
            from: Some(Age {
                months: 3,
                ..Age::default()
            }),
            before: Some(Age {
                months: 5,
                ..Age::default()
            }),
        },
        false,
    );
    let checkup = Service {
        easy_name: Some("4かげつの けんしん".into()),
        easy_description: Some("ぼしけんこうてちょうを もって きて ください。".into()),
        ..checkup
    };
    let consult = service("consult", "育児相談", Eligibility::Anyone, true);
    let slots = [
        slot("checkup-4m@2027-01-15T13:30", 30, 2),
        slot("checkup-4m@2027-01-15T14:00", 30, 2),
        slot("checkup-4m@2027-01-22T13:30", 30, 1),
        slot("consult@2027-01-12T10:00", 60, 3),
    ];
    Schedule {
        services: [checkup, consult]
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect(),
        slots: slots.into_iter().map(|s| (s.slot.clone(), s)).collect(),
    }
}

struct Chat {
    /// Shared by the chats of several residents on one store.
    store: std::sync::Arc<LocalStore>,
    line: MemoryLineApi,
    events: MemoryEvents,
    catalog: Catalog,
    secret: ChannelSecret,
    now: DateTime<Utc>,
    user: String,
    sent: u64,
    last: Vec<Message>,
}

impl Chat {
    async fn new(user: &str) -> Chat {
        let store = LocalStore::in_memory();
        store
            .publish_schedule(&schedule(), start())
            .await
            .expect("publish");
        Chat::on(store, user)
    }

    fn on(store: LocalStore, user: &str) -> Chat {
        Chat::sharing(std::sync::Arc::new(store), user)
    }

    /// Another resident's chat on the same store.
    fn beside(&self, user: &str) -> Chat {
        Chat::sharing(self.store.clone(), user)
    }

    fn sharing(store: std::sync::Arc<LocalStore>, user: &str) -> Chat {
        Chat {
            store,
            line: MemoryLineApi::new(),
            events: MemoryEvents::new(),
            catalog: Catalog::from_yaml(CATALOG).expect("catalog"),
            secret: ChannelSecret::new("secret"),
            now: start(),
            user: user.into(),
            sent: 0,
            last: Vec::new(),
        }
    }

    fn user_id(&self) -> UserId {
        UserId::parse(&self.user).expect("user")
    }

    async fn send(&mut self, body: Value) -> &mut Chat {
        self.sent += 1;
        let id = format!("{}-{}", self.user, self.sent);
        let mut event = json!({
            "mode": "active",
            "timestamp": self.now.timestamp_millis(),
            "webhookEventId": id,
            "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": self.user},
            "replyToken": format!("reply-{id}"),
        });
        if let (Some(e), Some(b)) = (event.as_object_mut(), body.as_object()) {
            e.extend(b.clone());
        }
        let raw =
            serde_json::to_vec(&json!({"destination": "U0", "events": [event]})).expect("json");
        let ctx = WebhookContext {
            store: &*self.store,
            line: &self.line,
            events: &self.events,
            catalog: &self.catalog,
            secret: &self.secret,
            now: self.now,
        };
        let sig = self.secret.sign(&raw);
        let answer = handle_webhook(&ctx, Some(&sig), &raw).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        self.last = match self.line.take_calls().pop() {
            Some(LineCall::Reply { messages, .. }) => messages,
            other => panic!("expected a reply, got {other:?}"),
        };
        let last = self.last.last().expect("a reply");
        assert!(
            !last.actions().is_empty(),
            "dead end: {}",
            last.plain_text()
        );
        self
    }

    async fn say(&mut self, text: &str) -> &mut Chat {
        self.send(json!({"type": "message", "message": {"type": "text", "id": "1", "text": text}}))
            .await
    }

    async fn postback(&mut self, data: &str) -> &mut Chat {
        self.send(json!({"type": "postback", "postback": {"data": data}}))
            .await
    }

    async fn register_child(&mut self, birth: &str) -> &mut Chat {
        self.send(json!({"type": "postback", "postback": {"data": "v1:birth", "params": {"date": birth}}}))
            .await
    }

    fn text(&self) -> String {
        self.last
            .iter()
            .map(|m| m.plain_text().into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn expect(&self, fragment: &str) -> &Chat {
        let text = self.text();
        assert!(text.contains(fragment), "expected `{fragment}` in:\n{text}");
        self
    }

    fn buttons(&self) -> Vec<(String, String)> {
        self.last
            .iter()
            .flat_map(|m| m.actions())
            .filter_map(|a| match a {
                Action::Postback { label, data, .. } => Some((label.clone(), data.clone())),
                _ => None,
            })
            .collect()
    }

    fn data_of(&self, label: &str) -> String {
        self.buttons()
            .into_iter()
            .find(|(l, _)| l == label)
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("no button `{label}` in {:?}", self.buttons()))
    }

    async fn tap(&mut self, label: &str) -> &mut Chat {
        let data = self.data_of(label);
        self.postback(&data).await
    }

    async fn seats(&self, slot: &str) -> u32 {
        let slot = SlotRef::parse(slot).expect("slot");
        self.store
            .slot_states(&slot.service, slot.date, slot.date)
            .await
            .expect("slots")
            .into_iter()
            .find(|s| s.slot.slot == slot)
            .map_or(u32::MAX, |s| s.booked)
    }

    async fn bookings(&self) -> Vec<shared::reservations::Booking> {
        self.store
            .bookings_of(&self.user_id())
            .await
            .expect("bookings")
    }
}

#[tokio::test]
async fn a_parent_books_changes_and_cancels_a_checkup_from_the_chat() {
    let mut chat = Chat::new("Uparent").await;
    chat.register_child("2026-10-01").await;
    chat.say("予約").await;
    chat.expect("4か月児健診").expect("育児相談");
    // The child's own button on the 健診 card, the resident's on the 相談 card.
    chat.tap("2026年10月1日生まれの予約").await;
    chat.expect("2027年1月15日（金）").expect("残り2");
    chat.tap("13:30〜14:00").await;
    chat.expect("この内容で予約しますか？")
        .expect("保健センター 2階")
        .expect("2026年10月1日生まれ");
    chat.tap("予約する").await;
    chat.expect("予約しました。").expect("予約番号：");
    let booked = chat.bookings().await;
    assert_eq!(booked.len(), 1);
    assert_eq!(booked[0].booked_for, BookingFor::parse("c1").expect("c1"));
    assert_eq!(chat.seats("checkup-4m@2027-01-15T13:30").await, 1);
    assert!(chat.text().contains(booked[0].id.as_str()));

    // 予約の確認 → 日時を変更 → another time: the seat moves, the 予約番号 stays.
    chat.tap("予約の確認").await;
    chat.expect("1月15日").expect(booked[0].id.as_str());
    chat.tap("日時を変更").await;
    chat.expect("いまの予約：1月15日（金）13:30");
    chat.tap("14:00〜14:30").await;
    chat.expect("変更しますか");
    assert_eq!(
        chat.seats("checkup-4m@2027-01-15T13:30").await,
        1,
        "nothing moves before the confirmation"
    );
    chat.tap("変更する").await;
    chat.expect("予約を変更しました。");
    let changed = chat.events.events().pop().expect("an event");
    assert_eq!(changed.kind, BookingEventKind::Changed);
    assert_eq!(
        changed.previous_slot.map(|s| s.start).as_deref(),
        Some("13:30")
    );
    assert_eq!(chat.seats("checkup-4m@2027-01-15T13:30").await, 0);
    assert_eq!(chat.seats("checkup-4m@2027-01-15T14:00").await, 1);
    let moved = chat.bookings().await;
    assert_eq!(moved[0].id, booked[0].id);

    // One 健診 per child at a time: a second booking is refused with the way to change it.
    let second = SlotRef::parse("checkup-4m@2027-01-22T13:30").expect("slot");
    chat.postback(&format!("v1:rsv:book:{}:c1", second.token()))
        .await;
    chat.expect("すでに予約があります");
    assert_eq!(chat.seats("checkup-4m@2027-01-22T13:30").await, 0);

    // キャンセル, confirmed: the seat is free again.
    chat.tap("日時を変更").await;
    chat.tap("予約の確認").await;
    chat.tap("キャンセル").await;
    chat.expect("キャンセルしますか");
    chat.tap("キャンセルする").await;
    chat.expect("予約をキャンセルしました");
    assert_eq!(chat.seats("checkup-4m@2027-01-15T14:00").await, 0);
    assert!(!chat.bookings().await[0].is_active());
    chat.tap("予約の確認").await;
    chat.expect("いま予約はありません");
}

#[tokio::test]
async fn a_slot_that_filled_meanwhile_answers_full_with_the_next_open_dates() {
    let mut chat = Chat::new("Ulate").await;
    chat.register_child("2026-10-01").await;
    chat.say("予約").await;
    chat.tap("2026年10月1日生まれの予約").await;
    chat.tap("13:30〜14:00").await;
    let book = chat.data_of("予約する");
    // Two other parents take both seats while this one reads the confirmation.
    for n in 0..2 {
        let user = UserId::parse(&format!("Uother{n}")).expect("user");
        let r = chat
            .store
            .save_resident(&shared::domain::Resident::new(user.clone()), None)
            .await
            .expect("save");
        chat.store
            .book(&BookingRequest {
                id: BookingId::derive(&format!("other{n}")),
                user,
                resident_version: r.version,
                slot: SlotRef::parse("checkup-4m@2027-01-15T13:30").expect("slot"),
                booked_for: BookingFor::parse("resident").expect("for"),
                one_per_resident: false,
                now: start(),
                claim: None,
            })
            .await
            .expect("another parent's booking");
    }
    chat.postback(&book).await;
    chat.expect("満席").expect("キャンセル待ちに登録");
    chat.tap("ほかの日時を見る").await;
    chat.expect("14:00〜14:30").expect("2027年1月22日");
    assert!(chat.bookings().await.is_empty(), "nothing booked");
    // Tapping the stale button again gives the same answer, never a third seat.
    chat.postback(&book).await;
    chat.expect("満席");
    assert_eq!(chat.seats("checkup-4m@2027-01-15T13:30").await, 2);
}

#[tokio::test]
async fn an_absence_frees_the_seat_keeps_the_reason_and_offers_the_next_dates() {
    let mut chat = Chat::new("Uabsent").await;
    chat.register_child("2026-10-01").await;
    chat.say("予約").await;
    chat.tap("2026年10月1日生まれの予約").await;
    chat.tap("13:30〜14:00").await;
    chat.tap("予約する").await;
    chat.say("予約の確認").await;
    chat.tap("欠席連絡").await;
    chat.expect("理由を選んでください");
    chat.tap("体調不良").await;
    chat.expect("欠席のご連絡を受け付けました")
        .expect("次の日程を予約できます")
        .expect("2027年1月22日");
    let b = &chat.bookings().await[0];
    assert!(matches!(
        b.status,
        BookingStatus::Absent {
            reason: AbsenceReason::Illness,
            ..
        }
    ));
    let absent = chat.events.events().pop().expect("an event");
    assert_eq!(absent.kind, BookingEventKind::Absent);
    assert_eq!(absent.reason, Some(AbsenceReason::Illness));
    assert_eq!(absent.days_ahead, 11);
    assert_eq!(chat.seats("checkup-4m@2027-01-15T13:30").await, 0);
    // Staff see it with its reason.
    let seen = chat
        .store
        .bookings_between(d("2027-01-15"), d("2027-01-15"))
        .await
        .expect("export");
    assert_eq!(seen.len(), 1);
}

#[tokio::test]
async fn tampered_stale_and_double_taps_change_nothing() {
    let mut chat = Chat::new("Utamper").await;
    chat.register_child("2026-10-01").await;
    let slot = SlotRef::parse("checkup-4m@2027-01-15T13:30").expect("slot");
    // A child that is not theirs.
    chat.postback(&format!("v1:rsv:book:{}:c7", slot.token()))
        .await;
    chat.expect("いまは予約できません");
    // A slot that was never published, and one in the past.
    let gone = SlotRef::parse("checkup-4m@2027-01-16T13:30").expect("slot");
    chat.postback(&format!("v1:rsv:book:{}:c1", gone.token()))
        .await;
    chat.expect("枠はなくなりました");
    // Someone else's 予約番号.
    chat.postback("v1:rsv:cx-ok:ABCDEFGH").await;
    chat.expect("この予約は見つかりませんでした");
    // A broken button.
    chat.postback("v1:rsv:book:nonsense").await;
    chat.expect("このボタンは使えなくなりました");
    assert!(chat.bookings().await.is_empty());
    assert_eq!(chat.seats("checkup-4m@2027-01-15T13:30").await, 0);
    // A double tap on 予約する: one booking.
    let data = format!("v1:rsv:book:{}:c1", slot.token());
    chat.postback(&data).await;
    chat.expect("予約しました");
    chat.postback(&data).await;
    chat.expect("すでに予約済みです");
    assert_eq!(chat.bookings().await.len(), 1);
    assert_eq!(chat.seats("checkup-4m@2027-01-15T13:30").await, 1);
    // Past its closing day (1 day before), the slot cannot be booked any more.
    chat.now = Utc
        .with_ymd_and_hms(2027, 1, 14, 15, 30, 0)
        .single()
        .expect("t");
    let other = SlotRef::parse("checkup-4m@2027-01-15T14:00").expect("slot");
    chat.postback(&format!("v1:rsv:pick:{}:c1", other.token()))
        .await;
    chat.expect("いまは予約できません");
}

#[tokio::test]
async fn an_open_consultation_needs_no_registration_and_a_stop_frees_the_seat() {
    let mut chat = Chat::new("Unew").await;
    chat.say("予約").await;
    chat.expect("育児相談");
    assert!(
        !chat.text().contains("4か月児健診"),
        "nothing this resident may not book"
    );
    chat.tap("日にちを選ぶ").await;
    chat.tap("10:00〜11:00").await;
    chat.tap("予約する").await;
    chat.expect("予約しました");
    assert_eq!(chat.seats("consult@2027-01-12T10:00").await, 1);
    chat.say("配信停止").await;
    chat.tap("停止する").await;
    assert_eq!(chat.seats("consult@2027-01-12T10:00").await, 0);
    assert!(chat.bookings().await.is_empty());
    // The city's systems heard of the booking and of its cancellation by the stop.
    let kinds: Vec<BookingEventKind> = chat.events.events().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![BookingEventKind::Booked, BookingEventKind::Cancelled]
    );
    let json = serde_json::to_string(&chat.events.events()).expect("json");
    assert!(!json.contains("Unew"), "no user id in events: {json}");
}

#[tokio::test]
async fn easy_japanese_readers_book_in_easy_japanese() {
    let mut chat = Chat::new("Ueasy").await;
    chat.postback("v1:easy:on").await;
    chat.register_child("2026-10-01").await;
    chat.say("よやく").await;
    chat.expect("よやく できる ものです")
        .expect("4かげつの けんしん")
        .expect("ぼしけんこうてちょうを もって きて ください。");
    assert!(!chat.text().contains("4か月児健診"), "{}", chat.text());
    chat.tap("2026年10月1日うまれの よやく").await;
    chat.expect("じかんを おして ください");
    chat.tap("13:30〜14:00").await;
    chat.expect("この よやくで いいですか？");
    chat.tap("よやく する").await;
    chat.expect("よやく しました。");
    for plain in ["予約しました", "お子さま", "選んで"] {
        assert!(!chat.text().contains(plain), "`{plain}` in {}", chat.text());
    }
}

/// The daily scan reminds a booking the day before (the service's `remind_days_before`),
/// once; the reminder's buttons lead to 欠席連絡. (A booking moved to another slot is
/// reminded for that slot: the booking contract checks it on both stores.)
#[tokio::test]
async fn the_day_before_a_booking_brings_one_reminder_whose_button_reports_an_absence() {
    use shared::handlers::scan::run_daily_scan;
    use shared::handlers::send::{DrainPolicy, drain};
    use shared::pacer::Pacer;
    use shared::queue::MemoryQueue;
    let mut chat = Chat::new("Uremind").await;
    chat.register_child("2026-10-01").await;
    chat.say("予約").await;
    chat.tap("2026年10月1日生まれの予約").await;
    chat.tap("13:30〜14:00").await;
    chat.tap("予約する").await;
    let queue = MemoryQueue::new();
    let pacer = Pacer::per_second(100_000);
    let policy = DrainPolicy {
        base_delay: std::time::Duration::from_millis(5),
        ..DrainPolicy::default()
    };
    let run = |day: &'static str| {
        let (store, queue, catalog) = (&*chat.store, &queue, &chat.catalog);
        async move {
            let at = shared::dates::tokyo_instant(d(day), 9);
            let report = run_daily_scan(store, queue, catalog, d(day), at)
                .await
                .expect("scan");
            (report, at)
        }
    };
    let (early, _) = run("2027-01-13").await;
    assert_eq!(early.reminders, 0, "two days before: not yet");
    let (report, _) = run("2027-01-14").await;
    assert_eq!(report.reminders, 1);
    drain(&*chat.store, &queue, &chat.line, &pacer, &policy)
        .await
        .expect("drain");
    let pushes: Vec<Message> = chat
        .line
        .take_calls()
        .into_iter()
        .filter_map(|c| match c {
            LineCall::Push { to, messages, .. } => {
                assert_eq!(to, chat.user_id());
                Some(messages[0].clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(pushes.len(), 1);
    let text = pushes[0].plain_text().into_owned();
    assert!(
        text.contains("明日（1月15日（金）13:30）は「4か月児健診」のご予約日です"),
        "{text}"
    );
    // Re-running the day sends nothing more.
    run("2027-01-14").await;
    drain(&*chat.store, &queue, &chat.line, &pacer, &policy)
        .await
        .expect("drain");
    assert!(
        chat.line.take_calls().is_empty(),
        "one reminder per booking and slot"
    );
    // The reminder's own 欠席連絡 button, tapped the next morning.
    chat.last = pushes;
    chat.now = shared::dates::tokyo_instant(d("2027-01-15"), 8);
    chat.tap("欠席連絡").await;
    chat.tap("都合が悪くなった").await;
    chat.expect("欠席のご連絡を受け付けました");
    assert_eq!(chat.seats("checkup-4m@2027-01-15T13:30").await, 0);
}

/// A milestone that names a service carries 予約する on its notice; the tap opens that
/// service's dates for the one child who may go, or asks which when twins may.
#[tokio::test]
async fn a_milestones_notice_offers_to_book_its_service_for_the_right_child() {
    use shared::handlers::scan::run_daily_scan;
    use shared::handlers::send::{DrainPolicy, drain};
    use shared::pacer::Pacer;
    use shared::queue::MemoryQueue;
    let mut chat = Chat::new("Unotice").await;
    chat.register_child("2026-10-01").await;
    let queue = MemoryQueue::new();
    let day = d("2027-01-01");
    run_daily_scan(
        &*chat.store,
        &queue,
        &chat.catalog,
        day,
        shared::dates::tokyo_instant(day, 9),
    )
    .await
    .expect("scan");
    let policy = DrainPolicy {
        base_delay: std::time::Duration::from_millis(5),
        ..DrainPolicy::default()
    };
    drain(
        &*chat.store,
        &queue,
        &chat.line,
        &Pacer::per_second(100_000),
        &policy,
    )
    .await
    .expect("drain");
    let notice: Vec<Message> = chat
        .line
        .take_calls()
        .into_iter()
        .find_map(|c| match c {
            LineCall::Push { messages, .. } | LineCall::Multicast { messages, .. } => {
                Some(messages)
            }
            _ => None,
        })
        .expect("the notice");
    assert!(notice[0].plain_text().contains("4か月児健診のご案内"));
    chat.last = notice;
    assert_eq!(chat.data_of("予約する"), "v1:rsv:svc:checkup-4m:any");
    chat.tap("予約する").await;
    chat.expect("2027年1月15日（金）").expect("残り2");
    chat.tap("13:30〜14:00").await;
    chat.expect("2026年10月1日生まれ");

    // Twins: the same button asks which child.
    let mut twins = Chat::new("Utwins").await;
    twins.register_child("2026-10-01").await;
    twins.register_child("2026-10-01").await;
    twins.postback("v1:rsv:svc:checkup-4m:any").await;
    let labels: Vec<String> = twins.buttons().into_iter().map(|(l, _)| l).collect();
    // (の予約 does not fit LINE's 20 characters after a twin's label: the label alone.)
    assert!(
        labels.contains(&"2026年10月1日生まれ（1人目）".to_string()),
        "{labels:?}"
    );
    assert!(
        labels.contains(&"2026年10月1日生まれ（2人目）".to_string()),
        "{labels:?}"
    );
    // Nobody who may: said so, with the way on.
    let mut none = Chat::new("Unone").await;
    none.register_child("2025-01-01").await;
    none.postback("v1:rsv:svc:checkup-4m:any").await;
    none.expect("予約できる時期ではありません");
}

/// Twins each get their own seat (one child never two); a booking whose slot has started
/// can no longer be changed, cancelled or reported absent from an old card; a service whose
/// booking opens later says when; after an absence the dates offered are later days.
#[tokio::test]
async fn twins_started_slots_later_openings_and_rebooking_after_an_absence() {
    let mut chat = Chat::new("Utwins2").await;
    chat.register_child("2026-10-01").await;
    chat.register_child("2026-10-01").await;
    let slot = SlotRef::parse("checkup-4m@2027-01-15T13:30").expect("slot");
    for child in ["c1", "c2"] {
        chat.postback(&format!("v1:rsv:book:{}:{child}", slot.token()))
            .await;
        chat.expect("予約しました");
    }
    assert_eq!(chat.seats("checkup-4m@2027-01-15T13:30").await, 2);
    chat.postback(&format!("v1:rsv:book:{}:c1", slot.token()))
        .await;
    chat.expect("すでに予約済みです");
    assert_eq!(chat.bookings().await.len(), 2);

    // The next afternoon the 13:30 booking has started: its old card changes nothing.
    let id = chat.bookings().await[0].id.clone();
    chat.now = shared::dates::tokyo_instant(d("2027-01-15"), 14);
    chat.postback(&format!("v1:rsv:cx-ok:{id}")).await;
    chat.expect("この予約は見つかりませんでした");
    chat.say("予約の確認").await;
    chat.expect("いま予約はありません");
    assert!(chat.bookings().await.iter().all(|b| b.is_active()));

    // 育児相談 opens 60 days ahead: a slot 70 days away is not bookable yet, and the chat
    // says from when.
    let mut early = Chat::new("Uearly").await;
    early.now = Utc
        .with_ymd_and_hms(2026, 11, 1, 1, 0, 0)
        .single()
        .expect("t");
    early.postback("v1:rsv:svc:consult:resident").await;
    early.expect("予約受付は、2026年11月13日（金）からです");

    // 欠席連絡 for the 15th offers later days only.
    let mut sick = Chat::new("Usick").await;
    sick.register_child("2026-10-01").await;
    sick.postback(&format!(
        "v1:rsv:book:{}:c1",
        SlotRef::parse("checkup-4m@2027-01-15T14:00")
            .expect("s")
            .token()
    ))
    .await;
    let id = sick.bookings().await[0].id.clone();
    sick.postback(&format!("v1:rsv:ab-ok:{id}:ill")).await;
    sick.expect("欠席のご連絡を受け付けました")
        .expect("2027年1月22日");
    assert!(!sick.text().contains("2027年1月15日"), "{}", sick.text());
}

/// However many services a city offers (the file allows 48) and however many children may
/// go, every one is on the menu within LINE's limits.
#[tokio::test]
async fn forty_eight_services_and_ten_children_all_fit_the_menu() {
    let store = LocalStore::in_memory();
    let mut schedule = Schedule::default();
    for n in 0..48 {
        let s = service(
            &format!("s{n:02}"),
            &format!("相談{n}"),
            Eligibility::Child {
                from: None,
                before: None,
            },
            true,
        );
        schedule.services.insert(s.id.clone(), s);
    }
    store
        .publish_schedule(&schedule, start())
        .await
        .expect("publish");
    let mut chat = Chat::on(store, "Umany");
    for n in 0..10 {
        chat.register_child(&format!("2026-0{}-1{n}", 1 + n % 9))
            .await;
    }
    chat.say("予約").await;
    let cards: usize = chat
        .last
        .iter()
        .map(|m| match m {
            Message::Flex { contents, .. } => contents.bubbles().len(),
            _ => 0,
        })
        .sum();
    assert_eq!(cards, 48);
    assert!(chat.last.len() <= 5);
    shared::line::message::validate_messages(&chat.last).expect("within LINE's limits");
    let per_card = chat
        .buttons()
        .iter()
        .filter(|(_, d)| d.starts_with("v1:rsv:svc:s00:"))
        .count();
    assert_eq!(per_card, 10, "a button for each child");
}

/// キャンセル待ち from the chat: a full time offers the waiting list; a cancellation frees
/// the seat for the first in line only; the sweep holds it for them and tells them by push;
/// one tap books it. An offer not taken in time passes to the next, whose 辞退 frees the
/// seat for anyone.
#[tokio::test]
async fn a_full_time_takes_a_waiting_list_and_a_freed_seat_goes_to_the_first_in_line() {
    use shared::handlers::offers::pass_on_seats;
    use shared::handlers::send::{DrainPolicy, drain};
    use shared::pacer::Pacer;
    use shared::queue::MemoryQueue;
    let only = SlotRef::parse("checkup-4m@2027-01-22T13:30").expect("slot");
    let pick = format!("v1:rsv:pick:{}:c1", only.token());
    // The one seat of the 22nd goes to a first parent.
    let mut first = Chat::new("Ufirst").await;
    first.register_child("2026-10-01").await;
    first.postback(&pick).await;
    first.tap("予約する").await;
    first.expect("予約しました");
    // The next parent sees the time as full, and joins its waiting list.
    let mut waiting = first.beside("Uwaiting");
    waiting.register_child("2026-10-02").await;
    waiting.say("予約").await;
    waiting.tap("2026年10月2日生まれの予約").await;
    waiting.expect("満席・キャンセル待ち");
    waiting.postback(&pick).await;
    waiting
        .expect("1月22日（金）13:30は満席です")
        .expect("24時間以内");
    waiting.tap("キャンセル待ちに登録").await;
    waiting.expect("キャンセル待ちに登録しました");
    waiting.postback(&pick).await;
    waiting.expect("キャンセル待ちに登録済みです");
    let mut third = first.beside("Uthird");
    third.now = first.now + Duration::minutes(1);
    third.register_child("2026-10-03").await;
    third.postback(&pick).await;
    third.tap("キャンセル待ちに登録").await;
    waiting.say("予約の確認").await;
    waiting.expect("キャンセル待ち中");
    // The first parent cancels: the seat is the line's, not a passer-by's.
    first.say("予約の確認").await;
    first.tap("キャンセル").await;
    first.tap("キャンセルする").await;
    first.expect("キャンセルしました");
    let mut passer = first.beside("Upasser");
    passer.register_child("2026-10-04").await;
    passer.postback(&pick).await;
    passer.expect("満席");
    // The sweep holds it for the first in line and tells them.
    let queue = MemoryQueue::new();
    let pacer = Pacer::per_second(100_000);
    let policy = DrainPolicy {
        base_delay: std::time::Duration::from_millis(5),
        ..DrainPolicy::default()
    };
    let report = pass_on_seats(&*first.store, &queue, &first.events, first.now)
        .await
        .expect("sweep");
    assert_eq!((report.lists, report.offered), (1, 1));
    drain(&*first.store, &queue, &first.line, &pacer, &policy)
        .await
        .expect("drain");
    let pushes = pushes_to(&first.line, &waiting.user_id());
    assert_eq!(pushes.len(), 1, "one push, to the first in line");
    let offer = pushes[0].plain_text().into_owned();
    assert!(offer.contains("キャンセル待ちのご案内"), "{offer}");
    assert!(offer.contains("1月5日（火）10:00までに"), "{offer}");
    let event = first.events.events().pop().expect("an event");
    assert_eq!(event.kind, BookingEventKind::Offered);
    assert!(
        !serde_json::to_string(&event)
            .expect("json")
            .contains("Uwaiting")
    );
    // Their dates show the time as held for them.
    waiting.postback("v1:rsv:svc:checkup-4m:c1").await;
    waiting.expect("お取りしています");
    // The third in line may not take it; the first taps 予約する on the push.
    third
        .postback(&format!("v1:rsv:take:{}:c1", only.token()))
        .await;
    third.expect("いま空きがありません");
    waiting.last = pushes;
    waiting.tap("予約する").await;
    waiting.expect("予約しました");
    assert_eq!(waiting.bookings().await.len(), 1);
    assert_eq!(waiting.seats(&only.to_string()).await, 1);
    // The seat freed again (an absence) is offered to the third; they let it lapse.
    waiting.say("予約の確認").await;
    waiting.tap("欠席連絡").await;
    waiting.tap("体調不良").await;
    pass_on_seats(&*first.store, &queue, &first.events, first.now)
        .await
        .expect("sweep");
    drain(&*first.store, &queue, &first.line, &pacer, &policy)
        .await
        .expect("drain");
    let pushes = pushes_to(&first.line, &third.user_id());
    assert_eq!(pushes.len(), 1);
    third.say("予約の確認").await;
    third.expect("空きが出ました");
    // Past its time the offer is not honoured, even before the sweep passes it on.
    let late = first.now + Duration::hours(25);
    third.now = late;
    third.last = pushes.clone();
    third.tap("予約する").await;
    third.expect("期限を過ぎたため");
    let report = pass_on_seats(&*first.store, &queue, &first.events, late)
        .await
        .expect("sweep");
    assert_eq!((report.lapsed, report.offered), (1, 0));
    drain(&*first.store, &queue, &first.line, &pacer, &policy)
        .await
        .expect("drain");
    let told = pushes_to(&first.line, &third.user_id());
    assert_eq!(told.len(), 1, "the lapse is told");
    let text = told[0].plain_text().into_owned();
    assert!(text.contains("お申し込みの期限を過ぎたため"), "{text}");
    third.last = pushes;
    third.tap("予約する").await;
    third.expect("期限が過ぎました");
    assert!(third.bookings().await.is_empty());
    // Nobody is in line any more: the seat is anyone's.
    passer.now = late;
    passer.postback(&pick).await;
    passer.tap("予約する").await;
    passer.expect("予約しました");
}

/// 辞退 on an offer passes the seat on at the next sweep; leaving a list from 予約の確認
/// takes the resident off it.
#[tokio::test]
async fn declining_an_offer_or_leaving_the_list_lets_the_next_one_in() {
    use shared::handlers::offers::pass_on_seats;
    use shared::queue::MemoryQueue;
    let (mut first, mut line, pick) = one_seat_and_a_line(&["Ua", "Ub"]).await;
    let (mut a, mut b) = (line.remove(0), line.remove(0));
    // b leaves the list from 予約の確認.
    b.say("予約の確認").await;
    b.tap("キャンセル待ちをやめる").await;
    b.expect("キャンセル待ちを取り消しました");
    b.say("予約の確認").await;
    b.expect("いま予約はありません");
    first.say("予約の確認").await;
    first.tap("キャンセル").await;
    first.tap("キャンセルする").await;
    let queue = MemoryQueue::new();
    pass_on_seats(&*first.store, &queue, &first.events, first.now)
        .await
        .expect("sweep");
    a.say("予約の確認").await;
    a.expect("空きが出ました");
    a.tap("辞退する").await;
    a.expect("辞退しました");
    // The offer's push, still queued, is not sent once the seat is no longer held for them.
    let sent = shared::handlers::send::drain(
        &*first.store,
        &queue,
        &first.line,
        &shared::pacer::Pacer::per_second(100_000),
        &shared::handlers::send::DrainPolicy::default(),
    )
    .await
    .expect("drain");
    assert_eq!((sent.sent, sent.already_done), (0, 1), "{sent:?}");
    assert!(pushes_to(&first.line, &a.user_id()).is_empty());
    let report = pass_on_seats(&*first.store, &queue, &first.events, first.now)
        .await
        .expect("sweep");
    assert_eq!(report.offered, 0, "nobody left in line");
    b.postback(&pick).await;
    b.tap("予約する").await;
    b.expect("予約しました");
}

/// In the quiet hours the scheduled sweep offers nobody a freed seat (the hold would run
/// out while they sleep); the seat stays kept for the line, and the first sweep after 08:00
/// offers it.
#[tokio::test]
async fn a_seat_freed_at_night_is_offered_in_the_morning() {
    use shared::dates::{tokyo_date, tokyo_instant};
    use shared::handlers::offers::sweep;
    use shared::queue::MemoryQueue;
    use shared::quiet_hours::QuietRules;
    let (mut first, mut line, pick) = one_seat_and_a_line(&["Ua"]).await;
    let mut a = line.remove(0);
    first.say("予約の確認").await;
    first.tap("キャンセル").await;
    first.tap("キャンセルする").await;
    let queue = MemoryQueue::new();
    let quiet = QuietRules::standard();
    let today = tokyo_date(first.now);
    let night = tokyo_instant(today, 23);
    let report = sweep(&*first.store, &queue, &first.events, night, Some(&quiet))
        .await
        .expect("night sweep");
    assert_eq!((report.lists, report.offered, report.pushes), (1, 0, 0));
    a.say("予約の確認").await;
    a.expect("キャンセル待ち");
    assert!(!a.text().contains("空きが出ました"), "{}", a.text());
    // A walk-in still cannot take the seat kept for the line.
    let mut c = first.beside("Uc");
    c.register_child("2026-10-03").await;
    c.postback(&pick).await;
    c.expect("満席");
    let morning = tokyo_instant(today.succ_opt().expect("tomorrow"), 8);
    let report = sweep(&*first.store, &queue, &first.events, morning, Some(&quiet))
        .await
        .expect("morning sweep");
    assert_eq!((report.offered, report.pushes), (1, 1));
}

/// The 4か月児健診 slot of one seat, booked by `Ufirst`, and `waiters` on its waiting list in
/// that order; with the button data that picks the slot.
async fn one_seat_and_a_line(waiters: &[&str]) -> (Chat, Vec<Chat>, String) {
    let only = SlotRef::parse("checkup-4m@2027-01-22T13:30").expect("slot");
    let pick = format!("v1:rsv:pick:{}:c1", only.token());
    let mut first = Chat::new("Ufirst").await;
    first.register_child("2026-10-01").await;
    first.postback(&pick).await;
    first.tap("予約する").await;
    let mut line = Vec::new();
    for user in waiters {
        let mut chat = first.beside(user);
        chat.register_child("2026-10-02").await;
        chat.postback(&pick).await;
        chat.tap("キャンセル待ちに登録").await;
        line.push(chat);
    }
    (first, line, pick)
}

fn pushes_to(line: &MemoryLineApi, user: &UserId) -> Vec<Message> {
    line.take_calls()
        .into_iter()
        .filter_map(|c| match c {
            LineCall::Push { to, messages, .. } if to == *user => Some(messages),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Waiting-list buttons that are stale or tampered with: a time with seats is booked, not
/// waited for; a gone slot, someone else's child or a double tap change nothing.
#[tokio::test]
async fn stale_and_tampered_waiting_list_buttons_change_nothing() {
    let mut chat = Chat::new("Uwaitbad").await;
    chat.register_child("2026-10-01").await;
    let open = SlotRef::parse("checkup-4m@2027-01-15T13:30").expect("slot");
    chat.postback(&format!("v1:rsv:wait:{}:c1", open.token()))
        .await;
    chat.expect("この内容で予約しますか？");
    let gone = SlotRef::parse("checkup-4m@2027-01-16T13:30").expect("slot");
    chat.postback(&format!("v1:rsv:wait:{}:c1", gone.token()))
        .await;
    chat.expect("枠はなくなりました");
    let full = SlotRef::parse("checkup-4m@2027-01-22T13:30").expect("slot");
    let mut other = chat.beside("Uholder");
    other.register_child("2026-10-01").await;
    other
        .postback(&format!("v1:rsv:book:{}:c1", full.token()))
        .await;
    other.expect("予約しました");
    chat.postback(&format!("v1:rsv:wait:{}:c7", full.token()))
        .await;
    chat.expect("いまは予約できません");
    chat.postback(&format!("v1:rsv:unwait:{}:c1", full.token()))
        .await;
    chat.expect("このキャンセル待ちは見つかりませんでした");
    chat.postback(&format!("v1:rsv:take:{}:c1", full.token()))
        .await;
    chat.expect("このキャンセル待ちは見つかりませんでした");
    assert!(chat.store.waitlists().await.expect("lists").is_empty());
    let wait = format!("v1:rsv:wait:{}:c1", full.token());
    chat.postback(&wait).await;
    chat.expect("キャンセル待ちに登録しました");
    chat.postback(&wait).await;
    chat.expect("登録済み");
    let lists = chat.store.waitlists().await.expect("lists");
    assert_eq!(lists[0].entries.len(), 1, "one place for a double tap");
    // The one holding the seat cannot also wait for it.
    other
        .postback(&format!("v1:rsv:wait:{}:c1", full.token()))
        .await;
    other.expect("すでに予約済みです");
}

/// キャンセル待ち in やさしい日本語: the full time, joining, the list and the offer.
#[tokio::test]
async fn easy_japanese_readers_wait_in_easy_japanese() {
    use shared::handlers::offers::pass_on_seats;
    use shared::handlers::send::{DrainPolicy, drain};
    use shared::pacer::Pacer;
    use shared::queue::MemoryQueue;
    let full = SlotRef::parse("checkup-4m@2027-01-22T13:30").expect("slot");
    let pick = format!("v1:rsv:pick:{}:c1", full.token());
    let mut holder = Chat::new("Uholder").await;
    holder.register_child("2026-10-01").await;
    holder.postback(&pick).await;
    holder.tap("予約する").await;
    let mut chat = holder.beside("Ueasywait");
    chat.postback("v1:easy:on").await;
    chat.register_child("2026-10-01").await;
    chat.postback(&pick).await;
    chat.expect("いっぱいです");
    chat.tap("まつ").await;
    chat.expect("まつ ひとに いれました");
    chat.say("よやく").await;
    chat.tap("よやくを みる").await;
    chat.expect("まって います");
    holder.say("予約の確認").await;
    holder.tap("キャンセル").await;
    holder.tap("キャンセルする").await;
    let queue = MemoryQueue::new();
    pass_on_seats(&*chat.store, &queue, &chat.events, chat.now)
        .await
        .expect("sweep");
    drain(
        &*chat.store,
        &queue,
        &chat.line,
        &Pacer::per_second(100_000),
        &DrainPolicy::default(),
    )
    .await
    .expect("drain");
    let push = pushes_to(&chat.line, &chat.user_id());
    let text = push[0].plain_text().into_owned();
    assert!(text.contains("あきが でました"), "{text}");
    assert!(text.contains("4かげつの けんしん"), "{text}");
    chat.last = push;
    chat.tap("よやく する").await;
    chat.expect("よやく しました。");
    for plain in ["キャンセル待ち", "予約しました", "満席"] {
        assert!(!chat.text().contains(plain), "`{plain}` in {}", chat.text());
    }
}

/// One booking per child: a parent holding the 15th waits for the fuller 22nd; when its seat
/// is offered, 予約する moves the booking they hold (same 予約番号), freeing the 15th.
#[tokio::test]
async fn taking_an_offer_moves_the_one_booking_a_child_may_hold() {
    use shared::handlers::offers::pass_on_seats;
    use shared::queue::MemoryQueue;
    let later = SlotRef::parse("checkup-4m@2027-01-22T13:30").expect("slot");
    let mut holder = Chat::new("Uholder22").await;
    holder.register_child("2026-10-01").await;
    holder
        .postback(&format!("v1:rsv:pick:{}:c1", later.token()))
        .await;
    holder.tap("予約する").await;
    let mut chat = holder.beside("Umover");
    chat.register_child("2026-10-01").await;
    chat.postback("v1:rsv:pick:checkup-4m@202701151330:c1")
        .await;
    chat.tap("予約する").await;
    chat.expect("予約しました");
    let held = chat.bookings().await[0].id.clone();
    chat.postback(&format!("v1:rsv:wait:{}:c1", later.token()))
        .await;
    chat.expect("キャンセル待ちに登録しました");
    holder.say("予約の確認").await;
    holder.tap("キャンセル").await;
    holder.tap("キャンセルする").await;
    pass_on_seats(&*chat.store, &MemoryQueue::new(), &chat.events, chat.now)
        .await
        .expect("sweep");
    chat.postback(&format!("v1:rsv:take:{}:c1", later.token()))
        .await;
    chat.expect("予約を変更しました");
    let active: Vec<_> = chat
        .bookings()
        .await
        .into_iter()
        .filter(|b| b.is_active())
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(
        (active[0].id.clone(), active[0].slot.clone()),
        (held, later)
    );
    assert_eq!(chat.seats("checkup-4m@2027-01-15T13:30").await, 0);
    assert_eq!(chat.seats("checkup-4m@2027-01-22T13:30").await, 1);
}

/// Nothing of a list outlives its slot: when bookings close, everyone still in line is told
/// and leaves it. And an offer whose push was never queued (a sweep that died after making
/// it) is pushed by the next sweep, once.
#[tokio::test]
async fn a_list_ends_at_closing_and_an_untold_offer_is_pushed_by_the_next_sweep() {
    use shared::handlers::offers::pass_on_seats;
    use shared::handlers::send::{DrainPolicy, drain};
    use shared::pacer::Pacer;
    use shared::queue::MemoryQueue;
    let full = SlotRef::parse("checkup-4m@2027-01-22T13:30").expect("slot");
    let pick = format!("v1:rsv:pick:{}:c1", full.token());
    let mut holder = Chat::new("Uholder").await;
    holder.register_child("2026-10-01").await;
    holder.postback(&pick).await;
    holder.tap("予約する").await;
    let mut a = holder.beside("Ua");
    let mut b = holder.beside("Ub");
    b.now = holder.now + Duration::minutes(1);
    for chat in [&mut a, &mut b] {
        chat.register_child("2026-10-02").await;
        chat.postback(&pick).await;
        chat.tap("キャンセル待ちに登録").await;
    }
    holder.say("予約の確認").await;
    holder.tap("キャンセル").await;
    holder.tap("キャンセルする").await;
    // A sweep that held the seat for A and died before queuing the push.
    let queue = MemoryQueue::new();
    let policy = DrainPolicy::default();
    let pacer = Pacer::per_second(100_000);
    let until = holder.now + Duration::hours(24);
    let held = holder
        .store
        .offer_seats(&full, Some(until), holder.now)
        .await
        .expect("offer");
    assert_eq!(held.offered.len(), 1);
    let report = pass_on_seats(&*holder.store, &queue, &holder.events, holder.now)
        .await
        .expect("sweep");
    assert_eq!((report.offered, report.pushes), (0, 1), "{report:?}");
    drain(&*holder.store, &queue, &holder.line, &pacer, &policy)
        .await
        .expect("drain");
    assert_eq!(pushes_to(&holder.line, &a.user_id()).len(), 1);
    let again = pass_on_seats(&*holder.store, &queue, &holder.events, holder.now)
        .await
        .expect("sweep");
    assert_eq!(again.pushes, 0, "told once");
    // Bookings close at the end of the 21st: the list ends, and both are told.
    let closing = shared::dates::tokyo_instant(d("2027-01-22"), 0);
    let report = pass_on_seats(&*holder.store, &queue, &holder.events, closing)
        .await
        .expect("sweep");
    // (A's hold ran out on the 5th, unswept: a lapse; B is still in line: the end.)
    assert_eq!(
        (report.lapsed, report.ended, report.pushes),
        (1, 1, 2),
        "{report:?}"
    );
    b.say("配信停止").await;
    b.tap("停止する").await;
    drain(&*holder.store, &queue, &holder.line, &pacer, &policy)
        .await
        .expect("drain");
    let calls = holder.line.take_calls();
    // At closing nothing passes on: A hears that bookings closed, naming the service; B
    // stopped (配信停止) before the notice went out, and gets nothing.
    let told = |user: &UserId| -> Vec<String> {
        calls
            .iter()
            .filter_map(|c| match c {
                LineCall::Push { to, messages, .. } if to == user => {
                    Some(messages[0].plain_text().into_owned())
                }
                _ => None,
            })
            .collect()
    };
    let to_a = told(&a.user_id());
    assert_eq!(to_a.len(), 1, "{to_a:?}");
    assert!(
        to_a[0].contains("4か月児健診（1月22日（金）13:30）は予約の受付を締め切りました"),
        "{}",
        to_a[0]
    );
    assert!(told(&b.user_id()).is_empty(), "no notice after a stop");
    assert!(holder.store.waitlists().await.expect("lists").is_empty());
    assert_eq!(
        pass_on_seats(&*holder.store, &queue, &holder.events, closing)
            .await
            .expect("sweep")
            .lists,
        0,
        "no list left to read"
    );
}

/// A seat held for a child whose registration was removed meanwhile is not booked for
/// them: the resident is told why, with 辞退する to let it go on.
#[tokio::test]
async fn an_offer_for_a_removed_child_is_not_booked() {
    use shared::handlers::offers::pass_on_seats;
    use shared::queue::MemoryQueue;
    let full = SlotRef::parse("checkup-4m@2027-01-22T13:30").expect("slot");
    let mut holder = Chat::new("Uholder").await;
    holder.register_child("2026-10-01").await;
    holder
        .postback(&format!("v1:rsv:pick:{}:c1", full.token()))
        .await;
    holder.tap("予約する").await;
    let mut chat = holder.beside("Uremoved");
    chat.register_child("2026-10-01").await;
    chat.postback(&format!("v1:rsv:wait:{}:c1", full.token()))
        .await;
    chat.expect("キャンセル待ちに登録しました");
    chat.postback("v1:rm-ok:c1").await;
    holder.say("予約の確認").await;
    holder.tap("キャンセル").await;
    holder.tap("キャンセルする").await;
    pass_on_seats(&*chat.store, &MemoryQueue::new(), &chat.events, chat.now)
        .await
        .expect("sweep");
    chat.postback(&format!("v1:rsv:take:{}:c1", full.token()))
        .await;
    chat.expect("いまのご登録では、この枠は予約できません");
    assert!(chat.bookings().await.is_empty());
    chat.tap("辞退する").await;
    chat.expect("辞退しました");
}

/// A booking made after its reminder went out for the day is not promised one.
#[tokio::test]
async fn a_booking_after_its_reminder_day_is_not_promised_a_reminder() {
    let mut chat = Chat::new("Ulate").await;
    chat.register_child("2026-10-01").await;
    // The 14th, 10:00 Tokyo: the day-before reminders for the 15th went out at 09:00.
    chat.now = shared::dates::tokyo_instant(d("2027-01-14"), 10);
    chat.postback("v1:rsv:book:checkup-4m@202701151330:c1")
        .await;
    chat.expect("予約しました")
        .expect("変更・キャンセルは「予約の確認」からいつでもできます");
    assert!(
        !chat.text().contains("確認のお知らせをお送りします"),
        "{}",
        chat.text()
    );
    // Booked a day earlier, the reminder is still ahead and promised.
    let mut early = chat.beside("Uearly");
    early.register_child("2026-10-01").await;
    early
        .postback("v1:rsv:book:checkup-4m@202701151400:c1")
        .await;
    early.expect("1日前に確認のお知らせをお送りします");
}

/// A hold taken back (a lower capacity) and offered again later is one push, with the new
/// time: the first offer's push, still queued, is not sent with its old deadline.
#[tokio::test]
async fn a_hold_offered_again_is_pushed_once_with_its_new_time() {
    use shared::handlers::offers::pass_on_seats;
    use shared::handlers::send::{DrainPolicy, drain};
    use shared::pacer::Pacer;
    use shared::queue::MemoryQueue;
    let full = SlotRef::parse("checkup-4m@2027-01-22T13:30").expect("slot");
    let mut holder = Chat::new("Uholder").await;
    holder.register_child("2026-10-01").await;
    holder
        .postback(&format!("v1:rsv:pick:{}:c1", full.token()))
        .await;
    holder.tap("予約する").await;
    let mut a = holder.beside("Ua");
    a.register_child("2026-10-02").await;
    a.postback(&format!("v1:rsv:wait:{}:c1", full.token()))
        .await;
    holder.say("予約の確認").await;
    holder.tap("キャンセル").await;
    holder.tap("キャンセルする").await;
    let queue = MemoryQueue::new();
    pass_on_seats(&*a.store, &queue, &a.events, a.now)
        .await
        .expect("sweep");
    // Staff take the seat back, then give it again an hour later.
    let mut shrunk = schedule();
    if let Some(s) = shrunk.slots.get_mut(&full) {
        s.capacity = 0;
    }
    let published = a
        .store
        .publish_schedule(&shrunk, a.now)
        .await
        .expect("shrink");
    assert_eq!(published.withdrawn.len(), 1);
    a.store
        .publish_schedule(&schedule(), a.now)
        .await
        .expect("restore");
    let later = a.now + Duration::hours(1);
    pass_on_seats(&*a.store, &queue, &a.events, later)
        .await
        .expect("sweep");
    drain(
        &*a.store,
        &queue,
        &a.line,
        &Pacer::per_second(100_000),
        &DrainPolicy::default(),
    )
    .await
    .expect("drain");
    let pushes = pushes_to(&a.line, &a.user_id());
    assert_eq!(pushes.len(), 1, "one push for the hold that stands");
    let text = pushes[0].plain_text().into_owned();
    assert!(text.contains("1月5日（火）11:00までに"), "{text}");
}
