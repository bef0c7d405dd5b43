//! 予約: the services a resident may book (by their registered pregnancy or child's age),
//! the next open dates with their times as cards, a confirmation, then the booking; 予約の
//!確認 with 変更 / キャンセル / 欠席連絡 on each booking, at any hour.
//!
//! Still pure: the webhook handler reads what a turn needs into a [`ReservationView`]
//! (services, the slots of the service in question, the resident's bookings) before the
//! turn, carries out the [`SeatAct`] the turn asks for in one atomic store step, and has
//! [`outcome`] word the result — a seat taken, or 満席 with the next open slots.

pub mod command;

use chrono::{DateTime, NaiveDate, Utc};

use super::command::Command;
use super::common::{Lang, action, child_label, main_actions, menu_action};
use super::turn::{Change, Response, Turn};
use crate::dates;
use crate::domain::{PREGNANCY_SUBJECT, Resident};
use crate::line::{Action, Bubble, FlexBox, FlexButton, FlexContainer, FlexText, Message};
use crate::reservations::{
    AbsenceReason, Booking, BookingFor, BookingId, FOR_ANY, FOR_RESIDENT, Service, SlotRef,
    SlotState, Waiting,
};
use crate::store::{BookingError, Release, StoreError};
pub use command::ReserveCommand;

/// Dates shown at once (one card each), and times on one date's card.
const DATES_SHOWN: usize = 10;
const TIMES_PER_DATE: usize = 8;
/// Bookings shown in 予約の確認 (a carousel holds 12 cards).
const BOOKINGS_SHOWN: usize = 12;
/// Characters of a service's description shown on its card.
const DESCRIPTION_CHARS: usize = 120;

const GREEN: &str = "#06C755";
const GREY: &str = "#8C8C8C";
const OUTLINE: &str = "#D9D9D9";

/// What the store holds that a 予約 turn reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReservationView {
    pub now: DateTime<Utc>,
    pub services: Vec<Service>,
    /// The slots of the service this turn is about (empty when it is about none).
    pub slots: Vec<SlotState>,
    /// This resident's bookings.
    pub bookings: Vec<Booking>,
    /// This resident's places on waiting lists (offers included).
    pub waiting: Vec<Waiting>,
}

impl ReservationView {
    fn service(&self, id: &crate::reservations::ServiceId) -> Option<&Service> {
        self.services.iter().find(|s| s.id == *id)
    }

    fn slot(&self, slot: &SlotRef) -> Option<&SlotState> {
        self.slots.iter().find(|s| s.slot.slot == *slot)
    }

    /// An active booking whose slot has not started: the only kind a resident can still
    /// change, cancel or report absent from (an old card tapped later changes nothing).
    fn active(&self, id: &BookingId) -> Option<&Booking> {
        self.bookings
            .iter()
            .find(|b| b.id == *id && b.is_active() && self.ahead(b))
    }

    fn ahead(&self, b: &Booking) -> bool {
        dates::tokyo_at(b.slot.date, b.slot.start) > self.now
    }

    /// This registration's place on the slot's waiting list.
    fn waiting_for(&self, slot: &SlotRef, booked_for: &BookingFor) -> Option<&Waiting> {
        self.waiting
            .iter()
            .find(|w| w.slot == *slot && w.booked_for == *booked_for)
    }

    /// Whether a seat of `slot` is held for `booked_for` now.
    fn held_for(&self, slot: &SlotRef, booked_for: &BookingFor) -> bool {
        self.waiting_for(slot, booked_for)
            .is_some_and(|w| w.has_offer(self.now))
    }

    /// Places on waiting lists of slots that have not started, soonest first.
    fn upcoming_waits(&self) -> Vec<&Waiting> {
        let mut out: Vec<&Waiting> = self
            .waiting
            .iter()
            .filter(|w| dates::tokyo_at(w.slot.date, w.slot.start) > self.now)
            .filter(|w| !w.offer_lapsed(self.now))
            .collect();
        out.sort_by_key(|w| (w.slot.date, w.slot.start));
        out
    }

    /// Active bookings whose slot has not started, soonest first.
    fn upcoming(&self) -> Vec<&Booking> {
        let mut out: Vec<&Booking> = self
            .bookings
            .iter()
            .filter(|b| b.is_active() && self.ahead(b))
            .collect();
        out.sort_by_key(|b| (b.slot.date, b.slot.start));
        out
    }
}

/// What a 予約 turn asks the store to do, in one atomic step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatAct {
    Book {
        slot: SlotRef,
        booked_for: BookingFor,
        one_per_resident: bool,
    },
    Release {
        booking: BookingId,
        how: Release,
    },
    Move {
        booking: BookingId,
        to: SlotRef,
    },
    /// Join a full slot's waiting list.
    Wait {
        slot: SlotRef,
        booked_for: BookingFor,
    },
    /// Leave a waiting list, or decline the seat it offered.
    Unwait {
        slot: SlotRef,
        booked_for: BookingFor,
    },
}

/// What a [`SeatAct`] left the resident with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seat {
    Booking(Booking),
    Waiting(Waiting),
}

pub type SeatResult = Result<Seat, BookingError>;

fn cmd(c: ReserveCommand) -> Command {
    Command::Reserve(c)
}

fn reserve_action(l: Lang) -> Action {
    action(l.pick("予約する", "よやく する"), cmd(ReserveCommand::Menu))
}

/// 予約する on a milestone's notice: books `service` for whichever registration may.
pub fn book_service_action(easy: bool, service: &crate::reservations::ServiceId) -> Action {
    let l = if easy { Lang::EASY } else { Lang::PLAIN };
    action(
        l.pick("予約する", "よやく する"),
        cmd(ReserveCommand::Dates {
            service: service.clone(),
            booked_for: BookingFor(FOR_ANY.into()),
        }),
    )
}

/// What a resident can do with one of their bookings, wherever it is shown (its card in
/// 予約の確認, its reminder): 日時を変更, キャンセル, 欠席連絡.
fn booking_actions(l: Lang, id: &BookingId) -> Vec<Action> {
    vec![
        change_action(l, id),
        action(
            l.pick("キャンセル", "やめる"),
            cmd(ReserveCommand::CancelAsk(id.clone())),
        ),
        action(
            l.pick("欠席連絡", "やすむ れんらく"),
            cmd(ReserveCommand::AbsentAsk(id.clone())),
        ),
    ]
}

fn change_action(l: Lang, id: &BookingId) -> Action {
    action(
        l.pick("日時を変更", "ひにちを かえる"),
        cmd(ReserveCommand::ChangeDates(id.clone())),
    )
}

fn list_action(l: Lang) -> Action {
    action(
        l.pick("予約の確認", "よやくを みる"),
        cmd(ReserveCommand::List),
    )
}

/// The quick reply under every 予約 answer: never a dead end.
fn actions(l: Lang) -> Vec<Action> {
    vec![reserve_action(l), list_action(l), menu_action(l)]
}

/// 13:30〜14:00
fn time_range(state: &SlotState) -> String {
    format!(
        "{}〜{}",
        state.slot.slot.start_label(),
        state.slot.end.format("%H:%M")
    )
}

/// 1月15日（金）13:30 — a slot as a resident reads it.
fn when(slot: &SlotRef) -> String {
    format!("{}{}", when_date(slot.date), slot.start_label())
}

/// For whom, as a card or confirmation names it (nothing for the resident themself).
fn whom(l: Lang, resident: Option<&Resident>, booked_for: &BookingFor) -> Option<String> {
    match booked_for.as_str() {
        FOR_RESIDENT => None,
        PREGNANCY_SUBJECT => Some(
            l.pick("妊娠中のご本人", "おなかに 赤ちゃんが いる ひと")
                .into(),
        ),
        child => {
            let r = resident?;
            let c = r.child(child)?;
            Some(match &c.nickname {
                Some(name) => name.clone(),
                None => child_label(l, r, c),
            })
        }
    }
}

/// The registrations of this resident the service may be booked for on some day it takes
/// bookings for (from today to the furthest day it opens).
fn bookable_for(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    service: &Service,
) -> Vec<BookingFor> {
    let fresh;
    let r = match resident {
        Some(r) => r,
        None => {
            fresh = Resident::new(turn.user_id.clone());
            &fresh
        }
    };
    let mut out: Vec<BookingFor> = Vec::new();
    for offset in 0..=service.opens_days_before as i64 {
        let Some(day) = dates::add_days(turn.today, offset) else {
            break;
        };
        for who in service.who.who_may_book(r, day) {
            if !out.contains(&who) {
                out.push(who);
            }
        }
    }
    out
}

/// The slots of the view open for booking for `booked_for`, with seats left, soonest first.
fn open_slots<'v>(
    view: &'v ReservationView,
    service: &Service,
    resident: Option<&Resident>,
    booked_for: &BookingFor,
    except: Option<&SlotRef>,
    user: &crate::domain::UserId,
) -> Vec<&'v SlotState> {
    bookable_slots(view, service, resident, booked_for, except, user, false)
}

/// As [`open_slots`], and with `full` also the full ones (whose waiting list may be joined)
/// and those holding a seat offered to `booked_for`.
fn bookable_slots<'v>(
    view: &'v ReservationView,
    service: &Service,
    resident: Option<&Resident>,
    booked_for: &BookingFor,
    except: Option<&SlotRef>,
    user: &crate::domain::UserId,
    full: bool,
) -> Vec<&'v SlotState> {
    let fresh = Resident::new(user.clone());
    let r = resident.unwrap_or(&fresh);
    let mut out: Vec<&SlotState> = view
        .slots
        .iter()
        .filter(|s| s.slot.slot.service == service.id)
        .filter(|s| Some(&s.slot.slot) != except)
        .filter(|s| {
            let offered = view
                .waiting_for(&s.slot.slot, booked_for)
                .is_some_and(|w| w.has_offer(view.now));
            (s.seats_left() > 0 || full || offered) && service.is_open(&s.slot, view.now)
        })
        .filter(|s| {
            service
                .who
                .who_may_book(r, s.slot.slot.date)
                .contains(booked_for)
        })
        .collect();
    out.sort_by_key(|s| (s.slot.slot.date, s.slot.slot.start));
    out
}

/// Whether `booked_for` of this resident may book `slot` of `service` by who they are (the
/// registration exists and is of the age), whatever the booking window says.
fn may_book(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    service: &Service,
    slot: &SlotRef,
    booked_for: &BookingFor,
) -> bool {
    let fresh = Resident::new(turn.user_id.clone());
    service
        .who
        .who_may_book(resident.unwrap_or(&fresh), slot.date)
        .contains(booked_for)
}

/// The next open dates as cards, each with its times to tap (`tap` makes a time's command;
/// `held` says which full times hold a seat for this resident).
fn date_cards(
    l: Lang,
    service: &Service,
    open: &[&SlotState],
    held: impl Fn(&SlotRef) -> bool,
    tap: impl Fn(&SlotRef) -> ReserveCommand,
) -> Option<Message> {
    let mut by_date: Vec<(NaiveDate, Vec<&SlotState>)> = Vec::new();
    for s in open {
        match by_date.last_mut() {
            Some((d, times)) if *d == s.slot.slot.date => times.push(s),
            _ => by_date.push((s.slot.slot.date, vec![s])),
        }
    }
    let cards: Vec<Bubble> = by_date
        .into_iter()
        .take(DATES_SHOWN)
        .map(|(date, times)| {
            let mut body = vec![
                FlexText::new(l.pick("時間をタップしてください", "じかんを おして ください"))
                    .size("xs")
                    .color(GREY)
                    .into(),
            ];
            for s in times.into_iter().take(TIMES_PER_DATE) {
                let left = s.seats_left();
                let (seats, colour) = match (left, l.easy()) {
                    (0, false) if held(&s.slot.slot) => ("お取りしています".to_string(), GREEN),
                    (0, true) if held(&s.slot.slot) => ("とって あります".to_string(), GREEN),
                    (0, false) => ("満席・キャンセル待ち".to_string(), GREY),
                    (0, true) => ("いっぱい・まてます".to_string(), GREY),
                    (n, false) => (format!("残り{n}"), GREEN),
                    (n, true) => (format!("あと {n}にん"), GREEN),
                };
                let label = time_range(s);
                let tap = Action::postback_shown(
                    &label,
                    &cmd(tap(&s.slot.slot)).data(),
                    &format!("{} {label}", dates::japanese_date(date)),
                );
                body.push(
                    FlexBox::horizontal(vec![
                        FlexText::new(label).size("sm").flex(3).into(),
                        FlexText::new(seats)
                            .size("xs")
                            .flex(2)
                            .align_end()
                            .color(colour)
                            .into(),
                    ])
                    .padding("md")
                    .outlined(OUTLINE)
                    .on_tap(tap)
                    .into(),
                );
            }
            Bubble {
                kind: Default::default(),
                size: Some("kilo".into()),
                header: Some(
                    FlexBox::vertical(vec![
                        FlexText::new(dates::japanese_date(date))
                            .bold()
                            .size("md")
                            .into(),
                        FlexText::new(service.name_for(l.easy()).to_string())
                            .size("xs")
                            .color(GREY)
                            .margin("sm")
                            .into(),
                    ])
                    .padding("lg"),
                ),
                body: Some(FlexBox::vertical(body).spacing("sm").padding("lg")),
                footer: None,
            }
        })
        .collect();
    if cards.is_empty() {
        return None;
    }
    let alt = if l.easy() {
        format!("{}の あいて いる ひ", service.name_for(l.easy()))
    } else {
        format!("{}の空いている日", service.name_for(l.easy()))
    };
    Some(Message::flex(
        &alt,
        FlexContainer::carousel(cards),
        actions(l),
    ))
}

/// Why no date can be offered: booking has not opened yet for the next slots (and when it
/// does), every slot is full, or there is no slot at all.
fn no_open_dates(l: Lang, service: &Service, view: &ReservationView) -> Message {
    let today = dates::tokyo_date(view.now);
    let of_service = || {
        view.slots
            .iter()
            .filter(|s| s.slot.slot.service == service.id && service.is_open_later(s, view.now))
    };
    let opens = of_service()
        .filter_map(|s| {
            dates::add_days(s.slot.slot.date, -(service.opens_days_before as i64))
                .filter(|d| *d > today)
        })
        .min();
    let any_full = view.slots.iter().any(|s| {
        s.slot.slot.service == service.id
            && s.seats_left() == 0
            && service.is_open(&s.slot, view.now)
    });
    let text = match (opens, any_full, l.easy()) {
        (Some(d), _, false) => format!(
            "「{}」の次の日程の予約受付は、{}からです。その日からこの画面で予約できます。",
            service.name_for(l.easy()),
            dates::japanese_date(d)
        ),
        (Some(d), _, true) => format!(
            "「{}」の よやくは {}から できます。",
            service.name_for(l.easy()),
            dates::japanese_date(d)
        ),
        (None, true, false) => format!(
            "「{}」は、いま予約できる空きがありません。キャンセルが出ると空きができます。",
            service.name_for(l.easy())
        ),
        (None, true, true) => format!(
            "「{}」は、いま あいて いる ひが ありません。キャンセルが でると あきが でます。",
            service.name_for(l.easy())
        ),
        (None, false, false) => format!(
            "「{}」は、いま予約できる日程がありません。日程が決まるとここから予約できます。",
            service.name_for(l.easy())
        ),
        (None, false, true) => format!(
            "「{}」は、いま よやく できる ひが ありません。",
            service.name_for(l.easy())
        ),
    };
    Message::text_with(text, actions(l))
}

/// The dates of a service for one registration, or why there are none.
fn dates_reply(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    view: &ReservationView,
    service: &Service,
    booked_for: &BookingFor,
) -> Message {
    let l = Lang::of(resident);
    let open = bookable_slots(
        view,
        service,
        resident,
        booked_for,
        None,
        turn.user_id,
        true,
    );
    date_cards(
        l,
        service,
        &open,
        |slot| view.held_for(slot, booked_for),
        |slot| ReserveCommand::Pick {
            slot: slot.clone(),
            booked_for: booked_for.clone(),
        },
    )
    .unwrap_or_else(|| no_open_dates(l, service, view))
}

fn service_card(
    l: Lang,
    resident: Option<&Resident>,
    service: &Service,
    whom_list: &[BookingFor],
) -> Bubble {
    let mut body = vec![
        FlexText::new(format!("{}{}", l.pick("場所：", "ばしょ："), service.place))
            .size("sm")
            .into(),
    ];
    let description = service.description_for(l.easy());
    if !description.is_empty() {
        let mut text: String = description.chars().take(DESCRIPTION_CHARS).collect();
        if description.chars().count() > DESCRIPTION_CHARS {
            text.push('…');
        }
        body.push(
            FlexText::new(text)
                .size("xs")
                .color(GREY)
                .margin("md")
                .into(),
        );
    }
    let buttons: Vec<_> = whom_list
        .iter()
        .take(crate::domain::MAX_CHILDREN)
        .map(|who| {
            let label = match whom(l, resident, who) {
                Some(name) if who.as_str() != PREGNANCY_SUBJECT => {
                    super::common::with_suffix(name, l.pick("の予約", "の よやく"))
                }
                _ => l.pick("日にちを選ぶ", "ひにちを えらぶ").to_string(),
            };
            let label: String = label
                .chars()
                .take(crate::line::limits::MAX_ACTION_LABEL_CHARS)
                .collect();
            FlexButton::new(
                action(
                    &label,
                    cmd(ReserveCommand::Dates {
                        service: service.id.clone(),
                        booked_for: who.clone(),
                    }),
                ),
                true,
            )
            .into()
        })
        .collect();
    Bubble {
        kind: Default::default(),
        size: Some("kilo".into()),
        header: Some(
            FlexBox::vertical(vec![
                FlexText::new(service.name_for(l.easy()).to_string())
                    .bold()
                    .size("md")
                    .into(),
            ])
            .padding("lg"),
        ),
        body: Some(FlexBox::vertical(body).spacing("sm").padding("lg")),
        footer: Some(FlexBox::vertical(buttons).spacing("sm")),
    }
}

fn menu(turn: &Turn<'_>, resident: Option<&Resident>, view: &ReservationView) -> Response {
    let l = Lang::of(resident);
    let cards: Vec<Bubble> = view
        .services
        .iter()
        .filter_map(|s| {
            let who = bookable_for(turn, resident, s);
            (!who.is_empty()).then(|| service_card(l, resident, s, &who))
        })
        .collect();
    if cards.is_empty() {
        let text = l.pick(
            "いま予約できるものが見つかりませんでした。健診などは、出産予定日やお子さまの生年月日を登録すると、時期に合わせて予約できるようになります。",
            "いま よやく できる ものが ありません。うまれる 予定日や 子どもの 誕生日を とうろく すると、よやく できる ものが でます。",
        );
        return Response::reply(
            Change::Keep,
            Message::text_with(text, main_actions(turn.today, resident)),
        );
    }
    let intro = Message::text(l.pick(
        "予約できるものです。カードのボタンから日にちを選んでください。予約の変更やキャンセルは「予約の確認」からいつでもできます。",
        "よやく できる ものです。ボタンを おして ひにちを えらんで ください。よやくを かえる ときや やめる ときは「よやくを みる」を おして ください。",
    ));
    let alt = l.pick("予約できるもの", "よやく できる もの");
    // Carousels of twelve (a file holds at most 48 services: four of them and the intro).
    let pages: Vec<Vec<Bubble>> = cards.chunks(12).map(<[Bubble]>::to_vec).collect();
    let last = pages.len().saturating_sub(1);
    let mut replies = vec![intro];
    for (i, page) in pages.into_iter().enumerate() {
        let quick = if i == last { actions(l) } else { Vec::new() };
        replies.push(Message::flex(alt, FlexContainer::carousel(page), quick));
    }
    Response {
        change: Change::Keep,
        replies,
    }
}

/// Why a slot cannot be booked now, if it cannot (checked again by the store for seats).
/// A full slot a new booking asks for (`wait`) offers its waiting list instead.
fn refusal(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    view: &ReservationView,
    service: &Service,
    slot: &SlotRef,
    booked_for: &BookingFor,
    wait: bool,
) -> Option<Response> {
    let l = Lang::of(resident);
    let open = open_slots(view, service, resident, booked_for, None, turn.user_id);
    if open.iter().any(|s| s.slot.slot == *slot) {
        return None;
    }
    // Open and for this registration, only full.
    let full = bookable_slots(
        view,
        service,
        resident,
        booked_for,
        None,
        turn.user_id,
        true,
    )
    .iter()
    .any(|s| s.slot.slot == *slot);
    if wait && full {
        return Some(full_slot(l, view, service, slot, booked_for));
    }
    let why = match view.slot(slot) {
        None => l.pick(
            "その日時の枠はなくなりました（予定が変わったのかもしれません）。",
            "その ひの よやくは なくなりました。",
        ),
        Some(_) if full => l.pick(
            "申し訳ありません。その日時は満席になりました。",
            "ごめんなさい。その じかんは いっぱいに なりました。",
        ),
        Some(_) => l.pick(
            "その日時は、いまは予約できません（受付期間の外か、対象の時期ではありません）。",
            "その じかんは いまは よやく できません。",
        ),
    };
    let mut replies = vec![Message::text(why)];
    replies.push(dates_reply(turn, resident, view, service, booked_for));
    Some(Response {
        change: Change::Keep,
        replies,
    })
}

/// The confirmation before a booking or a change: what, when, where, for whom.
fn summary(
    l: Lang,
    resident: Option<&Resident>,
    service: &Service,
    state: &SlotState,
    booked_for: &BookingFor,
) -> String {
    let mut text = format!(
        "{}\n{} {}\n{}{}",
        service.name_for(l.easy()),
        dates::japanese_date(state.slot.slot.date),
        time_range(state),
        l.pick("場所：", "ばしょ："),
        service.place
    );
    if let Some(name) = whom(l, resident, booked_for) {
        text.push_str(&format!("\n{}{name}", l.pick("対象：", "だれ：")));
    }
    text
}

/// A full slot the resident picked: its waiting list, or where they stand on it.
fn full_slot(
    l: Lang,
    view: &ReservationView,
    service: &Service,
    slot: &SlotRef,
    booked_for: &BookingFor,
) -> Response {
    let other_dates = action(
        l.pick("ほかの日時を見る", "ほかの ひを みる"),
        cmd(ReserveCommand::Dates {
            service: service.id.clone(),
            booked_for: booked_for.clone(),
        }),
    );
    let unwait = action(
        l.pick("キャンセル待ちをやめる", "まつのを やめる"),
        cmd(ReserveCommand::Unwait {
            slot: slot.clone(),
            booked_for: booked_for.clone(),
        }),
    );
    let (text, buttons) = match view.waiting_for(slot, booked_for) {
        Some(w) if w.offered_until.is_none() => (
            l.pick(
                "この日時はキャンセル待ちに登録済みです。空きが出たら、順番にLINEでお知らせします。",
                "この じかんは もう まって います。あきが でたら LINEで しらせます。",
            )
            .to_string(),
            vec![other_dates, unwait, list_action(l)],
        ),
        // Their hold ran out (the sweep passes it on within a minute); or it is held
        // for them, which the caller books instead of coming here.
        Some(w) if !w.has_offer(view.now) => (
            l.pick(
                "お取りしていた期限を過ぎたため、この枠は次にお待ちの方にご案内しています。",
                "きげんが すぎたので、つぎの ひとに あんない して います。",
            )
            .to_string(),
            vec![other_dates, list_action(l), menu_action(l)],
        ),
        _ => (
            if l.easy() {
                format!(
                    "{}は いっぱいです。\n「まつ」を おすと、あきが でた とき じゅんばんに LINEで しらせます。",
                    when(slot)
                )
            } else {
                format!(
                    "{}は満席です。\nキャンセル待ちに登録すると、空きが出たときに登録順にLINEでお知らせします。お知らせから{}時間以内（受付の締め切りまで）にお申し込みいただくと予約できます。",
                    when(slot),
                    service.offer_hours
                )
            },
            vec![
                action(
                    l.pick("キャンセル待ちに登録", "まつ"),
                    cmd(ReserveCommand::Wait {
                        slot: slot.clone(),
                        booked_for: booked_for.clone(),
                    }),
                ),
                other_dates,
                menu_action(l),
            ],
        ),
    };
    Response::reply(Change::Keep, Message::text_with(text, buttons))
}

/// By when an offer must be taken, with its particle: 「1月15日（金）10:00までに」; a hold to
/// midnight reads as the whole day before, 「1月14日（木）中に」 (「…の うちに」 in やさしい日本語).
fn by_deadline(l: Lang, until: DateTime<Utc>) -> String {
    let local = until.with_timezone(&dates::tokyo());
    if local.time() == chrono::NaiveTime::MIN {
        let day = dates::add_days(local.date_naive(), -1).unwrap_or(local.date_naive());
        return format!("{}{}", when_date(day), l.pick("中に", "の うちに"));
    }
    format!(
        "{}{}までに",
        when_date(local.date_naive()),
        local.format("%H:%M")
    )
}

/// 1月15日（金）: a date without its year (residents book months, not years, ahead).
fn when_date(date: NaiveDate) -> String {
    let full = dates::japanese_date(date);
    full.split_once('年')
        .map_or(full.clone(), |(_, rest)| rest.to_string())
}

/// キャンセル待ち: join, leave or take the seat offered, after checking the view.
fn waiting_turn(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    view: &ReservationView,
    command: &ReserveCommand,
) -> Response {
    let l = Lang::of(resident);
    let (slot, booked_for) = match command {
        ReserveCommand::Wait { slot, booked_for }
        | ReserveCommand::Unwait { slot, booked_for }
        | ReserveCommand::TakeOffer { slot, booked_for } => (slot, booked_for),
        _ => return list(resident, view),
    };
    let mine = view.waiting_for(slot, booked_for);
    let Some(service) = view.service(&slot.service) else {
        return match (command, mine) {
            // Leaving a list whose service went is still possible.
            (ReserveCommand::Unwait { .. }, Some(_)) => {
                Response::silent(Change::Seat(SeatAct::Unwait {
                    slot: slot.clone(),
                    booked_for: booked_for.clone(),
                }))
            }
            _ => gone_service(turn, resident, view),
        };
    };
    match command {
        ReserveCommand::Wait { .. } => {
            if let Some(held) = view
                .bookings
                .iter()
                .find(|b| b.is_active() && b.slot == *slot && b.booked_for == *booked_for)
            {
                return already_booked(l, held);
            }
            let pick = ReserveCommand::Pick {
                slot: slot.clone(),
                booked_for: booked_for.clone(),
            };
            // A seat free for anyone, or held for them: book it rather than wait.
            if open_slots(view, service, resident, booked_for, None, turn.user_id)
                .iter()
                .any(|s| s.slot.slot == *slot)
            {
                return respond(turn, resident, view, &pick);
            }
            if mine.is_some() {
                return full_slot(l, view, service, slot, booked_for);
            }
            let waitable =
                bookable_slots(view, service, resident, booked_for, None, turn.user_id, true)
                    .iter()
                    .any(|s| s.slot.slot == *slot);
            if !waitable {
                // Gone, closed or not for this child: the refusal says which.
                return refusal(turn, resident, view, service, slot, booked_for, false)
                    .unwrap_or_else(|| respond(turn, resident, view, &pick));
            }
            Response::silent(Change::Seat(SeatAct::Wait {
                slot: slot.clone(),
                booked_for: booked_for.clone(),
            }))
        }
        ReserveCommand::Unwait { .. } => match mine {
            Some(_) => Response::silent(Change::Seat(SeatAct::Unwait {
                slot: slot.clone(),
                booked_for: booked_for.clone(),
            })),
            None => not_waiting(l),
        },
        _ => match mine {
            Some(w) if w.has_offer(view.now) && !may_book(turn, resident, service, slot, booked_for) => {
                // Held for a registration that may no longer book it (a child removed or
                // corrected): say so, with the way to let the seat go on.
                Response::reply(
                    Change::Keep,
                    Message::text_with(
                        l.pick(
                            "いまのご登録では、この枠は予約できません（お子さまの登録が変わったためかもしれません）。お取りしている枠は「辞退する」で次の方にお譲りください。",
                            "いまの とうろくでは この よやくは できません。「ことわる」を おして ください。",
                        ),
                        offer_actions(l, w).into_iter().skip(1).collect(),
                    ),
                )
            }
            Some(w) if w.has_offer(view.now) => {
                // One booking per registration: taking the seat moves the one held.
                let held = (!service.many_per_resident)
                    .then(|| {
                        view.upcoming().into_iter().find(|b| {
                            b.slot.service == slot.service && b.booked_for == *booked_for
                        })
                    })
                    .flatten();
                Response::silent(Change::Seat(match held {
                    Some(b) => SeatAct::Move {
                        booking: b.id.clone(),
                        to: slot.clone(),
                    },
                    None => SeatAct::Book {
                        slot: slot.clone(),
                        booked_for: booked_for.clone(),
                        one_per_resident: !service.many_per_resident,
                    },
                }))
            }
            Some(w) if w.offered_until.is_some() => Response::reply(
                Change::Keep,
                Message::text_with(
                    l.pick(
                        "申し訳ありません。お取りしていた期限を過ぎたため、この枠は次の方にご案内しました。",
                        "ごめんなさい。きげんが すぎたので、つぎの ひとに あんない しました。",
                    ),
                    actions(l),
                ),
            ),
            Some(_) => Response::reply(
                Change::Keep,
                Message::text_with(
                    l.pick(
                        "この枠はいま空きがありません。キャンセル待ちの順番はそのままです。空きが出たらお知らせします。",
                        "いまは あいて いません。あきが でたら しらせます。",
                    ),
                    actions(l),
                ),
            ),
            None => match view
                .bookings
                .iter()
                .find(|b| b.is_active() && b.slot == *slot && b.booked_for == *booked_for)
            {
                Some(held) => already_booked(l, held),
                None => not_waiting(l),
            },
        },
    }
}

fn not_waiting(l: Lang) -> Response {
    Response::reply(
        Change::Keep,
        Message::text_with(
            l.pick(
                "このキャンセル待ちは見つかりませんでした（取り消し済みか、ご案内の期限が過ぎました）。いまの予約とキャンセル待ちは「予約の確認」で見られます。",
                "この キャンセルまちは ありません。「よやくを みる」で いまの ようすが みられます。",
            ),
            actions(l),
        ),
    )
}

/// The push to the first in line when a seat is held for them: what, when, until when,
/// and 予約する / 辞退する right there.
pub fn offer(resident: Option<&Resident>, service: &Service, w: &Waiting) -> Message {
    let l = Lang::of(resident);
    let until = w
        .offered_until
        .map(|t| by_deadline(l, t))
        .unwrap_or_default();
    // A hold cut at the close of bookings passes to nobody after it.
    let to_closing = w.offered_until == Some(service.closes_at(&w.slot));
    let after = match (to_closing, l.easy()) {
        (false, false) => "期限を過ぎると、次にお待ちの方にご案内します。",
        (false, true) => "すぎると つぎの ひとに あんない します。",
        (true, false) => "この日時の受付の締め切りです。",
        (true, true) => "これが しめきりです。",
    };
    let who = whom(l, resident, &w.booked_for)
        .map(|name| format!("\n{}{name}", l.pick("対象：", "だれ：")))
        .unwrap_or_default();
    let text = if l.easy() {
        format!(
            "【あきが でました】\nまって いた じかんに あきが でました。\n{}\n{}{who}\n\n{until}「よやく する」を おして ください。{after}",
            service.name_for(true),
            when(&w.slot),
        )
    } else {
        format!(
            "【キャンセル待ちのご案内】\nお待ちいただいていた枠に空きが出ました。\n{}\n{}\n場所：{}{who}\n\n{until}お申し込みください。{after}",
            service.name_for(false),
            when(&w.slot),
            service.place,
        )
    };
    Message::text_with(text, offer_actions(l, w))
}

fn offer_actions(l: Lang, w: &Waiting) -> Vec<Action> {
    vec![
        action(
            l.pick("予約する", "よやく する"),
            cmd(ReserveCommand::TakeOffer {
                slot: w.slot.clone(),
                booked_for: w.booked_for.clone(),
            }),
        ),
        action(
            l.pick("辞退する", "ことわる"),
            cmd(ReserveCommand::Unwait {
                slot: w.slot.clone(),
                booked_for: w.booked_for.clone(),
            }),
        ),
        list_action(l),
    ]
}

/// A service's name as this reader reads it, or its id when it is no longer published.
fn service_name(l: Lang, service: Option<&Service>, slot: &SlotRef) -> String {
    service.map_or_else(
        || slot.service.to_string(),
        |s| s.name_for(l.easy()).to_string(),
    )
}

/// A notice that a resident's wait is over: its title, `plain` or `easy` by the reader's
/// register, and the way to another time.
fn waiting_over(l: Lang, plain: String, easy: String) -> Message {
    let text = if l.easy() {
        format!(
            "【キャンセルまちが おわりました】\n{easy}\n\nほかの ひは「よやく する」で えらべます。"
        )
    } else {
        format!(
            "【キャンセル待ち終了のお知らせ】\n{plain}\n\nほかの日時は「予約する」から選べます。"
        )
    };
    Message::text_with(text, vec![reserve_action(l), list_action(l)])
}

/// What a resident whose offer ran out is told: the seat went on, and so did their place.
pub fn offer_lapsed(
    resident: Option<&Resident>,
    service: Option<&Service>,
    w: &Waiting,
) -> Message {
    let l = Lang::of(resident);
    let (name, time) = (service_name(l, service, &w.slot), when(&w.slot));
    waiting_over(
        l,
        format!(
            "{name}（{time}）の空きは、お申し込みの期限を過ぎたため、次にお待ちの方にご案内しました。キャンセル待ちは終了しています。"
        ),
        format!(
            "{name}（{time}）の あきは、きげんまでに よやくが なかったので、つぎの ひとに あんない しました。"
        ),
    )
}

/// What a resident still in line (or holding a seat they did not take) when bookings close
/// is told.
pub fn waiting_list_ended(
    resident: Option<&Resident>,
    service: Option<&Service>,
    w: &Waiting,
) -> Message {
    let l = Lang::of(resident);
    let (name, time) = (service_name(l, service, &w.slot), when(&w.slot));
    waiting_over(
        l,
        format!("{name}（{time}）は予約の受付を締め切りました。キャンセル待ちは終了しました。"),
        format!("{name}（{time}）の よやくは しめきりに なりました。まつのは おわりです。"),
    )
}

/// What a resident is told when staff lowered a capacity and took back the seat held for
/// them: their place in line stays.
pub fn offer_withdrawn(
    resident: Option<&Resident>,
    service: Option<&Service>,
    w: &Waiting,
) -> Message {
    let l = Lang::of(resident);
    let name = service_name(l, service, &w.slot);
    let text = if l.easy() {
        format!(
            "【あんないを とりけしました】\nごめんなさい。しやくしょの つごうで、{name}（{}）の あきが なくなりました。まつ じゅんばんは そのままです。",
            when(&w.slot)
        )
    } else {
        format!(
            "【ご案内取り消しのお知らせ】\n申し訳ありません。日程の変更により定員が減ったため、ご案内した{name}（{}）の空きを取り消しました。キャンセル待ちの順番はそのままです。空きが出たら、あらためてお知らせします。",
            when(&w.slot)
        )
    };
    Message::text_with(text, vec![list_action(l), reserve_action(l)])
}

/// What a resident on a removed slot's waiting list is told.
pub fn waiting_list_closed(
    resident: Option<&Resident>,
    service: Option<&Service>,
    w: &Waiting,
) -> Message {
    let l = Lang::of(resident);
    let (name, time) = (service_name(l, service, &w.slot), when(&w.slot));
    waiting_over(
        l,
        format!(
            "日程の変更により、キャンセル待ちをされていた次の枠がなくなりました。\n{name}\n{time}"
        ),
        format!("しやくしょの つごうで、まって いた じかんが なくなりました。\n{name}\n{time}"),
    )
}

fn waiting_card(
    l: Lang,
    resident: Option<&Resident>,
    view: &ReservationView,
    w: &Waiting,
) -> Bubble {
    let offered = w.has_offer(view.now);
    let until = w
        .offered_until
        .map(|t| by_deadline(l, t))
        .unwrap_or_default();
    let status = match (offered, l.easy()) {
        (true, false) => format!("空きが出ました。{until}お申し込みください。"),
        (true, true) => format!("あきが でました。{until} よやく して ください。"),
        (false, false) => "キャンセル待ち中です。空きが出たらお知らせします。".into(),
        (false, true) => "まって います。あきが でたら しらせます。".into(),
    };
    let buttons = if offered {
        offer_actions(l, w).into_iter().take(2).collect()
    } else {
        vec![action(
            l.pick("キャンセル待ちをやめる", "まつのを やめる"),
            cmd(ReserveCommand::Unwait {
                slot: w.slot.clone(),
                booked_for: w.booked_for.clone(),
            }),
        )]
    };
    let label = if offered {
        l.pick("キャンセル待ち（空きあり）", "まって いる（あき あり）")
    } else {
        l.pick("キャンセル待ち", "まって いる")
    };
    slot_card(
        l,
        resident,
        view,
        (&w.slot, &w.booked_for),
        Some(label),
        FlexText::new(status).color(if offered { GREEN } else { GREY }),
        buttons,
    )
}

fn expired(resident: Option<&Resident>) -> Response {
    let l = Lang::of(resident);
    Response::reply(
        Change::Keep,
        Message::text_with(
            l.pick(
                "この予約は見つかりませんでした（すでにキャンセルされたか、終わった予約です）。いまの予約は「予約の確認」で見られます。",
                "この よやくは ありません。いまの よやくは「よやくを みる」で みられます。",
            ),
            actions(l),
        ),
    )
}

fn gone_service(turn: &Turn<'_>, resident: Option<&Resident>, view: &ReservationView) -> Response {
    let l = Lang::of(resident);
    let mut r = menu(turn, resident, view);
    r.replies.insert(
        0,
        Message::text(l.pick(
            "そのサービスは、いまは予約を受け付けていません。",
            "それは いまは よやく できません。",
        )),
    );
    r
}

fn list(resident: Option<&Resident>, view: &ReservationView) -> Response {
    let l = Lang::of(resident);
    let upcoming = view.upcoming();
    let waits = view.upcoming_waits();
    if upcoming.is_empty() && waits.is_empty() {
        return Response::reply(
            Change::Keep,
            Message::text_with(
                l.pick("いま予約はありません。", "いま よやくは ありません。"),
                actions(l),
            ),
        );
    }
    // Offers first (they run out), then bookings, then the places still waiting.
    let (offers, waiting): (Vec<&Waiting>, Vec<&Waiting>) =
        waits.iter().partition(|w| w.has_offer(view.now));
    let cards: Vec<Bubble> = offers
        .iter()
        .map(|w| waiting_card(l, resident, view, w))
        .chain(upcoming.iter().map(|b| booking_card(l, resident, view, b)))
        .chain(waiting.iter().map(|w| waiting_card(l, resident, view, w)))
        .take(BOOKINGS_SHOWN)
        .collect();
    let alt = match (waits.is_empty(), l.easy()) {
        (true, false) => format!("予約 {}件", upcoming.len()),
        (true, true) => format!("よやく {}こ", upcoming.len()),
        (false, false) => format!(
            "予約 {}件・キャンセル待ち {}件",
            upcoming.len(),
            waits.len()
        ),
        (false, true) => format!("よやく {}こ・まって いる {}こ", upcoming.len(), waits.len()),
    };
    Response::reply(
        Change::Keep,
        Message::flex(&alt, FlexContainer::carousel(cards), actions(l)),
    )
}

fn booking_card(
    l: Lang,
    resident: Option<&Resident>,
    view: &ReservationView,
    b: &Booking,
) -> Bubble {
    let number = FlexText::new(format!(
        "{}{}",
        l.pick("予約番号：", "よやく ばんごう："),
        b.id
    ))
    .color(GREY);
    slot_card(
        l,
        resident,
        view,
        (&b.slot, &b.booked_for),
        None,
        number,
        booking_actions(l, &b.id),
    )
}

/// A card in 予約の確認: the service (under a small `label`), when, where, for whom, a last
/// line (`note`) and the buttons.
fn slot_card(
    l: Lang,
    resident: Option<&Resident>,
    view: &ReservationView,
    (slot, booked_for): (&SlotRef, &BookingFor),
    label: Option<&str>,
    note: FlexText,
    buttons: Vec<Action>,
) -> Bubble {
    let service = view.service(&slot.service);
    let name = service_name(l, service, slot);
    let mut body = vec![
        FlexText::new(format!(
            "{} {}",
            dates::japanese_date(slot.date),
            slot.start_label()
        ))
        .size("sm")
        .bold()
        .into(),
    ];
    if let Some(s) = service {
        body.push(
            FlexText::new(format!("{}{}", l.pick("場所：", "ばしょ："), s.place))
                .size("sm")
                .into(),
        );
    }
    if let Some(who) = whom(l, resident, booked_for) {
        body.push(
            FlexText::new(format!("{}{who}", l.pick("対象：", "だれ：")))
                .size("sm")
                .into(),
        );
    }
    body.push(note.size("xs").margin("md").into());
    let mut header = Vec::new();
    if let Some(label) = label {
        header.push(FlexText::new(label).size("xs").color(GREY).into());
    }
    header.push(FlexText::new(name).bold().size("md").into());
    Bubble {
        kind: Default::default(),
        size: Some("kilo".into()),
        header: Some(FlexBox::vertical(header).padding("lg")),
        body: Some(FlexBox::vertical(body).spacing("sm").padding("lg")),
        footer: Some(
            FlexBox::vertical(
                buttons
                    .into_iter()
                    .map(|a| FlexButton::new(a, false).into())
                    .collect(),
            )
            .spacing("sm"),
        ),
    }
}

/// The turn for a 予約 button. `view` is what the handler read for it.
pub fn respond(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    view: &ReservationView,
    command: &ReserveCommand,
) -> Response {
    let l = Lang::of(resident);
    match command {
        ReserveCommand::Menu => menu(turn, resident, view),
        ReserveCommand::List => list(resident, view),
        ReserveCommand::Dates {
            service,
            booked_for,
        } => {
            let Some(service) = view.service(service) else {
                return gone_service(turn, resident, view);
            };
            let who = bookable_for(turn, resident, service);
            if booked_for.as_str() == FOR_ANY {
                // From a notice's 予約する: go straight on when only one may book it.
                return match who.as_slice() {
                    [] => not_eligible(resident, service),
                    [only] => Response::reply(
                        Change::Keep,
                        dates_reply(turn, resident, view, service, only),
                    ),
                    many => Response::reply(
                        Change::Keep,
                        Message::flex(
                            service.name_for(l.easy()),
                            FlexContainer::Bubble(Box::new(service_card(
                                l, resident, service, many,
                            ))),
                            actions(l),
                        ),
                    ),
                };
            }
            if !who.contains(booked_for) {
                return gone_service(turn, resident, view);
            }
            Response::reply(
                Change::Keep,
                dates_reply(turn, resident, view, service, booked_for),
            )
        }
        ReserveCommand::Pick { slot, booked_for } | ReserveCommand::Book { slot, booked_for } => {
            let Some(service) = view.service(&slot.service) else {
                return gone_service(turn, resident, view);
            };
            if let Some(held) = view
                .bookings
                .iter()
                .find(|b| b.is_active() && b.slot == *slot && b.booked_for == *booked_for)
            {
                return already_booked(l, held);
            }
            if let Some(refused) = refusal(turn, resident, view, service, slot, booked_for, true) {
                return refused;
            }
            let Some(state) = view.slot(slot) else {
                return gone_service(turn, resident, view);
            };
            if matches!(command, ReserveCommand::Book { .. }) {
                return Response {
                    change: Change::Seat(SeatAct::Book {
                        slot: slot.clone(),
                        booked_for: booked_for.clone(),
                        one_per_resident: !service.many_per_resident,
                    }),
                    replies: Vec::new(),
                };
            }
            let text = format!(
                "{}\n\n{}",
                l.pick("この内容で予約しますか？", "この よやくで いいですか？"),
                summary(l, resident, service, state, booked_for)
            );
            Response::reply(
                Change::Keep,
                Message::text_with(
                    text,
                    vec![
                        action(
                            l.pick("予約する", "よやく する"),
                            cmd(ReserveCommand::Book {
                                slot: slot.clone(),
                                booked_for: booked_for.clone(),
                            }),
                        ),
                        action(
                            l.pick("ほかの日時にする", "ほかの ひに する"),
                            cmd(ReserveCommand::Dates {
                                service: service.id.clone(),
                                booked_for: booked_for.clone(),
                            }),
                        ),
                        action(l.pick("やめる", "もどる"), Command::Cancel),
                    ],
                ),
            )
        }
        ReserveCommand::CancelAsk(id) => {
            let Some(b) = view.active(id) else {
                return expired(resident);
            };
            let name = view
                .service(&b.slot.service)
                .map_or("", |s| s.name_for(l.easy()));
            Response::reply(
                Change::Keep,
                Message::text_with(
                    if l.easy() {
                        format!("{name}（{}）の よやくを やめますか？", when(&b.slot))
                    } else {
                        format!("{name}（{}）の予約をキャンセルしますか？", when(&b.slot))
                    },
                    vec![
                        action(
                            l.pick("キャンセルする", "やめる"),
                            cmd(ReserveCommand::CancelConfirm(id.clone())),
                        ),
                        action(l.pick("やめておく", "もどる"), cmd(ReserveCommand::List)),
                    ],
                ),
            )
        }
        ReserveCommand::CancelConfirm(id) => match view.active(id) {
            Some(_) => Response::silent(Change::Seat(SeatAct::Release {
                booking: id.clone(),
                how: Release::Cancel,
            })),
            None => expired(resident),
        },
        ReserveCommand::ChangeDates(id) => {
            let Some(b) = view.active(id) else {
                return expired(resident);
            };
            let Some(service) = view.service(&b.slot.service) else {
                return gone_service(turn, resident, view);
            };
            let open = open_slots(
                view,
                service,
                resident,
                &b.booked_for,
                Some(&b.slot),
                turn.user_id,
            );
            let head = Message::text(if l.easy() {
                format!(
                    "いまの よやく：{}\nあたらしい ひにちを えらんで ください。",
                    when(&b.slot)
                )
            } else {
                format!(
                    "いまの予約：{}\n新しい日時を選んでください。選ぶまで、いまの予約はそのままです。",
                    when(&b.slot)
                )
            });
            let cards = date_cards(
                l,
                service,
                &open,
                |slot| view.held_for(slot, &b.booked_for),
                |slot| ReserveCommand::MoveAsk {
                    booking: id.clone(),
                    slot: slot.clone(),
                },
            )
            .unwrap_or_else(|| no_open_dates(l, service, view));
            Response {
                change: Change::Keep,
                replies: vec![head, cards],
            }
        }
        ReserveCommand::MoveAsk { booking, slot }
        | ReserveCommand::MoveConfirm { booking, slot } => {
            let Some(b) = view.active(booking) else {
                return expired(resident);
            };
            let Some(service) = view
                .service(&b.slot.service)
                .filter(|s| s.id == slot.service)
            else {
                return gone_service(turn, resident, view);
            };
            if let Some(refused) =
                refusal(turn, resident, view, service, slot, &b.booked_for, false)
            {
                return refused;
            }
            if matches!(command, ReserveCommand::MoveConfirm { .. }) {
                return Response::silent(Change::Seat(SeatAct::Move {
                    booking: booking.clone(),
                    to: slot.clone(),
                }));
            }
            let text = if l.easy() {
                format!("{} から {} に かえますか？", when(&b.slot), when(slot))
            } else {
                format!(
                    "{}の予約を、{}に変更しますか？\n（変更が済むまで、いまの予約はそのままです）",
                    when(&b.slot),
                    when(slot)
                )
            };
            Response::reply(
                Change::Keep,
                Message::text_with(
                    text,
                    vec![
                        action(
                            l.pick("変更する", "かえる"),
                            cmd(ReserveCommand::MoveConfirm {
                                booking: booking.clone(),
                                slot: slot.clone(),
                            }),
                        ),
                        action(l.pick("やめておく", "もどる"), cmd(ReserveCommand::List)),
                    ],
                ),
            )
        }
        ReserveCommand::AbsentAsk(id) => {
            let Some(b) = view.active(id) else {
                return expired(resident);
            };
            let reasons = [
                (
                    AbsenceReason::Illness,
                    "体調不良",
                    "からだの ぐあいが わるい",
                ),
                (
                    AbsenceReason::Inconvenient,
                    "都合が悪くなった",
                    "ようじが できた",
                ),
                (AbsenceReason::Other, "その他", "そのほか"),
            ];
            let mut buttons: Vec<Action> = reasons
                .iter()
                .map(|(reason, plain, easy)| {
                    action(
                        l.pick(plain, easy),
                        cmd(ReserveCommand::Absent {
                            booking: id.clone(),
                            reason: *reason,
                        }),
                    )
                })
                .collect();
            buttons.push(action(
                l.pick("やめておく", "もどる"),
                cmd(ReserveCommand::List),
            ));
            Response::reply(
                Change::Keep,
                Message::text_with(
                    if l.easy() {
                        format!(
                            "{}を やすむ れんらくを します。りゆうを えらんで ください。",
                            when(&b.slot)
                        )
                    } else {
                        format!(
                            "{}の欠席連絡をします。理由を選んでください。",
                            when(&b.slot)
                        )
                    },
                    buttons,
                ),
            )
        }
        ReserveCommand::Absent { booking, reason } => match view.active(booking) {
            Some(_) => Response::silent(Change::Seat(SeatAct::Release {
                booking: booking.clone(),
                how: Release::Absent(*reason),
            })),
            None => expired(resident),
        },
        ReserveCommand::Wait { .. }
        | ReserveCommand::Unwait { .. }
        | ReserveCommand::TakeOffer { .. } => waiting_turn(turn, resident, view, command),
    }
}

/// A notice's 予約する for a service none of this resident's registrations may book (yet, or
/// any more): say so, with the way to what they can book.
fn not_eligible(resident: Option<&Resident>, service: &Service) -> Response {
    let l = Lang::of(resident);
    Response::reply(
        Change::Keep,
        Message::text_with(
            if l.easy() {
                format!(
                    "「{}」は、いま よやく できる 子どもが いません。",
                    service.name_for(l.easy())
                )
            } else {
                format!(
                    "「{}」は、いまご登録の内容では予約できる時期ではありません（対象の月齢・週数を過ぎたか、まだ先です）。",
                    service.name_for(l.easy())
                )
            },
            actions(l),
        ),
    )
}

fn already_booked(l: Lang, held: &Booking) -> Response {
    Response::reply(
        Change::Keep,
        Message::text_with(
            if l.easy() {
                format!(
                    "この じかんは もう よやく して います（よやく ばんごう {}）。",
                    held.id
                )
            } else {
                format!("この日時はすでに予約済みです（予約番号 {}）。", held.id)
            },
            actions(l),
        ),
    )
}

/// What the resident is told once the store carried out `act` (or refused it). `view` is
/// what was read before the act: it offers the next open slots after a 満席.
pub fn outcome(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    view: &ReservationView,
    act: &SeatAct,
    result: &SeatResult,
) -> Vec<Message> {
    let l = Lang::of(resident);
    let service_of = |slot: &SlotRef| view.service(&slot.service);
    match (act, result) {
        (_, Ok(Seat::Waiting(w))) => {
            let name = service_of(&w.slot).map_or("", |s| s.name_for(l.easy()));
            let text = match (act, w.offered_until.is_some(), l.easy()) {
                (SeatAct::Wait { .. }, _, false) => format!(
                    "キャンセル待ちに登録しました。\n{name}\n{}\n\n空きが出たら、登録順にLINEでお知らせします。取り消しは「予約の確認」からできます。",
                    when(&w.slot)
                ),
                (SeatAct::Wait { .. }, _, true) => format!(
                    "まつ ひとに いれました。\n{name}\n{}\n\nあきが でたら LINEで しらせます。",
                    when(&w.slot)
                ),
                (_, true, false) => format!(
                    "ご案内した枠（{name} {}）を辞退しました。次にお待ちの方にご案内します。",
                    when(&w.slot)
                ),
                (_, true, true) => format!(
                    "{name}（{}）を ことわりました。",
                    when(&w.slot)
                ),
                (_, false, false) => format!(
                    "キャンセル待ちを取り消しました（{name} {}）。",
                    when(&w.slot)
                ),
                (_, false, true) => format!(
                    "まつのを やめました（{name} {}）。",
                    when(&w.slot)
                ),
            };
            vec![Message::text_with(text, actions(l))]
        }
        (SeatAct::Wait { slot, booked_for }, Err(BookingError::SeatsLeft)) => vec![Message::text_with(
            format!(
                "{}\n{}",
                l.pick(
                    "ちょうど空きが出ました。キャンセル待ちではなく、そのまま予約できます。",
                    "いま あいて います。そのまま よやく できます。",
                ),
                when(slot)
            ),
            vec![
                action(
                    l.pick("予約する", "よやく する"),
                    cmd(ReserveCommand::Book {
                        slot: slot.clone(),
                        booked_for: booked_for.clone(),
                    }),
                ),
                list_action(l),
                menu_action(l),
            ],
        )],
        (_, Err(BookingError::AlreadyWaiting(w))) => vec![Message::text_with(
            format!(
                "{}\n{}",
                l.pick(
                    "この日時はキャンセル待ちに登録済みです。空きが出たらお知らせします。",
                    "この じかんは もう まって います。",
                ),
                when(&w.slot)
            ),
            actions(l),
        )],
        (_, Err(BookingError::NotWaiting | BookingError::SeatsLeft)) => not_waiting(l).replies,
        (SeatAct::Wait { .. } | SeatAct::Unwait { .. }, Ok(Seat::Booking(_))) => {
            // A waiting act never yields a booking; say where to look.
            list(resident, view).replies
        }
        (SeatAct::Book { .. }, Ok(Seat::Booking(b))) | (SeatAct::Move { .. }, Ok(Seat::Booking(b))) => {
            let head = match act {
                SeatAct::Move { .. } => l.pick("予約を変更しました。", "よやくを かえました。"),
                _ => l.pick("予約しました。", "よやく しました。"),
            };
            let mut text = format!(
                "{head}\n{}{}\n",
                l.pick("予約番号：", "よやく ばんごう："),
                b.id
            );
            if let (Some(service), Some(state)) = (service_of(&b.slot), view.slot(&b.slot)) {
                text.push('\n');
                text.push_str(&summary(l, resident, service, state, &b.booked_for));
                // Promised only when the daily 09:00 run of the reminder's day is still ahead.
                let reminded = service.remind_days_before > 0
                    && dates::add_days(b.slot.date, -(service.remind_days_before as i64))
                        .is_some_and(|day| dates::tokyo_instant(day, 9) > view.now);
                if reminded {
                    text.push_str(&if l.easy() {
                        format!("\n\n{}にち まえに おしらせを おくります。", service.remind_days_before)
                    } else {
                        format!(
                            "\n\n{}日前に確認のお知らせをお送りします。変更・キャンセルは「予約の確認」からいつでもできます。",
                            service.remind_days_before
                        )
                    });
                } else if !l.easy() {
                    text.push_str("\n\n変更・キャンセルは「予約の確認」からいつでもできます。");
                }
            }
            vec![Message::text_with(text, actions(l))]
        }
        (SeatAct::Release { how, .. }, Ok(Seat::Booking(b))) => {
            let mut replies = vec![Message::text_with(
                match (how, l.easy()) {
                    (Release::Cancel, false) => format!("予約をキャンセルしました（予約番号 {}）。", b.id),
                    (Release::Cancel, true) => format!("よやくを やめました（よやく ばんごう {}）。", b.id),
                    (Release::Absent(_), false) => format!(
                        "欠席のご連絡を受け付けました（予約番号 {}）。担当者に伝えます。",
                        b.id
                    ),
                    (Release::Absent(_), true) => format!(
                        "やすむ れんらくを うけとりました（よやく ばんごう {}）。たんとうの ひとに つたえます。",
                        b.id
                    ),
                },
                actions(l),
            )];
            // After an absence, the next dates to rebook are right there.
            if let (Release::Absent(_), Some(service)) = (how, service_of(&b.slot)) {
                // Days after the missed one: a sick child is not booked for that afternoon.
                let open: Vec<&SlotState> =
                    open_slots(view, service, resident, &b.booked_for, Some(&b.slot), turn.user_id)
                        .into_iter()
                        .filter(|s| s.slot.slot.date > b.slot.date)
                        .collect();
                if let Some(cards) = date_cards(
                    l,
                    service,
                    &open,
                    |slot| view.held_for(slot, &b.booked_for),
                    |slot| ReserveCommand::Pick {
                        slot: slot.clone(),
                        booked_for: b.booked_for.clone(),
                    },
                ) {
                    replies.push(Message::text(l.pick(
                        "次の日程を予約できます。",
                        "つぎの ひを よやく できます。",
                    )));
                    replies.push(cards);
                }
            }
            replies
        }
        (_, Err(BookingError::Full)) => {
            let mut replies = vec![Message::text(l.pick(
                "申し訳ありません。ちょうど満席になりました。",
                "ごめんなさい。いっぱいに なりました。",
            ))];
            let (slot, booked_for, except) = match act {
                SeatAct::Book {
                    slot, booked_for, ..
                } => {
                    if let Some(service) = service_of(slot) {
                        // Lost the race for the last seat: the waiting list is one tap away.
                        let mut r = full_slot(l, view, service, slot, booked_for).replies;
                        r.insert(0, replies.remove(0));
                        return r;
                    }
                    (slot, booked_for.clone(), None)
                }
                SeatAct::Move { booking, to } => {
                    let Some(b) = view.active(booking) else {
                        return expired(resident).replies;
                    };
                    replies[0] = Message::text(l.pick(
                        "申し訳ありません。その日時はちょうど満席になりました。いまの予約はそのままです。",
                        "ごめんなさい。その じかんは いっぱいです。いまの よやくは そのままです。",
                    ));
                    (to, b.booked_for.clone(), Some(b.slot.clone()))
                }
                SeatAct::Release { .. } | SeatAct::Wait { .. } | SeatAct::Unwait { .. } => {
                    replies[0] = Message::text_with(replies[0].plain_text().into_owned(), actions(l));
                    return replies;
                }
            };
            if let Some(service) = service_of(slot) {
                let open: Vec<&SlotState> =
                    open_slots(view, service, resident, &booked_for, except.as_ref(), turn.user_id)
                        .into_iter()
                        .filter(|s| s.slot.slot != *slot)
                        .collect();
                let tap = |s: &SlotRef| match act {
                    SeatAct::Move { booking, .. } => ReserveCommand::MoveAsk {
                        booking: booking.clone(),
                        slot: s.clone(),
                    },
                    _ => ReserveCommand::Pick {
                        slot: s.clone(),
                        booked_for: booked_for.clone(),
                    },
                };
                replies.push(
                    date_cards(l, service, &open, |s| view.held_for(s, &booked_for), tap)
                        .unwrap_or_else(|| no_open_dates(l, service, view)),
                );
            } else {
                replies[0] = Message::text_with(replies[0].plain_text().into_owned(), actions(l));
            }
            replies
        }
        (_, Err(BookingError::AlreadyBooked(held))) => already_booked(l, held).replies,
        (_, Err(BookingError::LimitReached(held))) => {
            let name = service_of(&held.slot).map_or("", |s| s.name_for(l.easy()));
            vec![Message::text_with(
                if l.easy() {
                    format!(
                        "{name}は もう よやくが あります（{}）。ひにちを かえる ときは「ひにちを かえる」を おして ください。",
                        when(&held.slot)
                    )
                } else {
                    format!(
                        "「{name}」はすでに予約があります（{}）。日時を変えるときは「日時を変更」を押してください。",
                        when(&held.slot)
                    )
                },
                vec![change_action(l, &held.id), list_action(l), menu_action(l)],
            )]
        }
        (_, Err(BookingError::NoSuchSlot)) => vec![Message::text_with(
            l.pick(
                "その日時の枠はなくなりました。ほかの日時を選んでください。",
                "その ひの よやくは なくなりました。ほかの ひを えらんで ください。",
            ),
            actions(l),
        )],
        (_, Err(BookingError::NoSuchBooking)) => expired(resident).replies,
        (_, Err(BookingError::Store(_))) => vec![Message::text_with(
            l.pick(
                "ただいま混み合っていて、予約を受け付けられませんでした。少し時間をおいて、もう一度お試しください。",
                "いま こんで います。すこし まってから もう いちど おして ください。",
            ),
            actions(l),
        )],
    }
}

/// The store error the webhook must answer with a retry (LINE redelivers): a conflict is
/// redone by the handler, a duplicate skipped; everything else is worded by [`outcome`].
pub fn store_error(result: &SeatResult) -> Option<&StoreError> {
    match result {
        Err(BookingError::Store(e @ (StoreError::Conflict | StoreError::DuplicateEvent))) => {
            Some(e)
        }
        _ => None,
    }
}

/// What a resident is told when staff removed or shrank their slot and their booking was
/// cancelled (`reservations publish --cancel-bookings`), with the way to book again.
pub fn cancelled_by_city(
    resident: Option<&Resident>,
    service: Option<&Service>,
    booking: &Booking,
) -> Message {
    let l = Lang::of(resident);
    let name = service_name(l, service, &booking.slot);
    let text = if l.easy() {
        format!(
            "【よやくが なくなりました】\nごめんなさい。しやくしょの つごうで、この よやくが なくなりました。\n{name}\n{}\nよやく ばんごう：{}\n\nほかの ひは「よやく する」で えらべます。",
            when(&booking.slot),
            booking.id
        )
    } else {
        format!(
            "【予約取り消しのお知らせ】\n申し訳ありません。日程の変更により、次のご予約を取り消しました。\n{name}\n{}\n予約番号：{}\n\nほかの日時は「予約する」から選べます。ご不明な点は担当窓口にお問い合わせください。",
            when(&booking.slot),
            booking.id
        )
    };
    Message::text_with(text, vec![reserve_action(l), list_action(l)])
}

/// The reminder a booking gets `days` days before its slot, with what the resident may want
/// to do about it right there: 予約の確認, 日時を変更, キャンセル, 欠席連絡.
pub fn reminder(
    resident: Option<&Resident>,
    service: &Service,
    booking: &Booking,
    days: u32,
) -> Message {
    let l = Lang::of(resident);
    let when_text = when(&booking.slot);
    let text = if l.easy() {
        let soon = match days {
            0 => "きょう".to_string(),
            1 => "あした".to_string(),
            n => format!("{n}にち あと"),
        };
        format!(
            "【よやくの おしらせ】\n{soon}（{when_text}）は「{}」の よやくの ひです。\nばしょ：{}\nよやく ばんごう：{}\n\nいけなく なった ときは「やすむ れんらく」を おして ください。",
            service.name_for(l.easy()),
            service.place,
            booking.id
        )
    } else {
        let soon = match days {
            0 => "本日".to_string(),
            1 => "明日".to_string(),
            n => format!("{n}日後"),
        };
        format!(
            "【予約日のお知らせ】\n{soon}（{when_text}）は「{}」のご予約日です。\n場所：{}\n予約番号：{}\n\n都合が悪くなったときは、日時の変更やキャンセル、欠席連絡がこのボタンからできます。",
            service.name_for(l.easy()),
            service.place,
            booking.id
        )
    };
    let mut actions = vec![list_action(l)];
    actions.extend(booking_actions(l, &booking.id));
    Message::text_with(text, actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_cut_at_closing_promises_no_next_in_line() {
        use crate::reservations::{Eligibility, ServiceId};
        let service = Service {
            id: ServiceId::parse("checkup").expect("id"),
            name: "4か月児健診".into(),
            place: "保健センター".into(),
            description: String::new(),
            who: Eligibility::Anyone,
            opens_days_before: 30,
            closes_days_before: 1,
            many_per_resident: false,
            remind_days_before: 1,
            offer_hours: 24,
            easy_name: None,
            easy_description: None,
        };
        let slot = SlotRef::parse("checkup@2027-01-15T13:30").expect("slot");
        let mut w = Waiting {
            user: crate::domain::UserId::parse("U1").expect("id"),
            slot: slot.clone(),
            booked_for: BookingFor(FOR_RESIDENT.into()),
            joined_at: DateTime::<Utc>::MIN_UTC,
            offered_until: Some(service.closes_at(&slot)),
            told: false,
        };
        let text = offer(None, &service, &w).plain_text().into_owned();
        assert!(
            text.contains("1月14日（木）中にお申し込みください。この日時の受付の締め切りです。"),
            "{text}"
        );
        assert!(!text.contains("次にお待ちの方"), "{text}");
        w.offered_until = Some(service.closes_at(&slot) - chrono::Duration::hours(3));
        let text = offer(None, &service, &w).plain_text().into_owned();
        assert!(text.contains("1月14日（木）21:00までにお申し込みください。期限を過ぎると、次にお待ちの方にご案内します。"), "{text}");
    }

    #[test]
    fn a_hold_to_midnight_reads_as_the_whole_day_before() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        assert_eq!(
            by_deadline(Lang::PLAIN, at("2027-01-15T00:00:00+09:00")),
            "1月14日（木）中に"
        );
        assert_eq!(
            by_deadline(Lang::EASY, at("2027-01-15T00:00:00+09:00")),
            "1月14日（木）の うちに"
        );
        assert_eq!(
            by_deadline(Lang::PLAIN, at("2027-01-15T13:30:00+09:00")),
            "1月15日（金）13:30までに"
        );
    }
}
