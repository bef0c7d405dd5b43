//! The webhook handler driven with signed LINE request bodies, on the embedded store and the
//! in-memory LINE API: authenticity, de-duplication, standby, unknown events, and failures
//! that must not lose a registration.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use shared::catalog::{Catalog, example_source};
use shared::delivery::Recipient;
use shared::domain::{AnchorEntry, AnchorRange, Resident, UserId};
use shared::handlers::webhook::{
    REPLY_DEADLINE, STORE_DEADLINE, WebhookContext, WebhookResponse, handle_verified,
    handle_webhook, verify_request,
};
use shared::line::signature::ChannelSecret;
use shared::line::{LineCall, LineError, MemoryLineApi};
use shared::store::{EventClaim, LocalStore, Store, StoreError};

const USER: &str = "U0123456789abcdef0123456789abcdef";

/// 2026-11-22 10:00 JST.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 1, 0, 0)
        .single()
        .expect("time")
}

fn event(id: &str, body: Value) -> Value {
    let mut e = json!({
        "mode": "active",
        "timestamp": 1_763_773_200_000i64,
        "webhookEventId": id,
        "deliveryContext": {"isRedelivery": false},
        "source": {"type": "user", "userId": USER},
        "replyToken": format!("reply-{id}"),
    });
    if let (Some(e), Some(b)) = (e.as_object_mut(), body.as_object()) {
        for (k, v) in b {
            e.insert(k.clone(), v.clone());
        }
    }
    e
}

fn callback(events: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"destination": "Uffffffffffffffffffffffffffffffff", "events": events}),
    )
    .expect("json")
}

fn follow(id: &str) -> Value {
    event(
        id,
        json!({"type": "follow", "follow": {"isUnblocked": false}}),
    )
}

fn pick(id: &str, data: &str, date: &str) -> Value {
    event(
        id,
        json!({"type": "postback", "postback": {"data": data, "params": {"date": date}}}),
    )
}

struct Harness<S> {
    store: S,
    line: MemoryLineApi,
    catalog: Catalog,
    secret: ChannelSecret,
}

impl Harness<LocalStore> {
    fn new() -> Self {
        Harness::with_store(LocalStore::in_memory())
    }
}

impl<S: Store + shared::store::BookingStore> Harness<S> {
    fn with_store(store: S) -> Self {
        Harness {
            store,
            line: MemoryLineApi::new(),
            catalog: Catalog::from_source(&example_source()).expect("catalog"),
            secret: ChannelSecret::new("test-channel-secret"),
        }
    }

    async fn post(&self, body: &[u8], signature: Option<&str>) -> WebhookResponse {
        let ctx = WebhookContext {
            store: &self.store,
            line: &self.line,
            events: &shared::reservations::events::NoEvents,
            catalog: &self.catalog,
            secret: &self.secret,
            now: now(),
        };
        handle_webhook(&ctx, signature, body).await
    }

    async fn post_signed(&self, body: &[u8]) -> WebhookResponse {
        let sig = self.secret.sign(body);
        self.post(body, Some(&sig)).await
    }

    async fn resident(&self) -> Option<Resident> {
        self.store
            .resident(&UserId::parse(USER).expect("id"))
            .await
            .expect("read")
    }

    fn replies(&self) -> Vec<String> {
        self.line
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                LineCall::Reply { messages, .. } => Some(
                    messages
                        .iter()
                        .map(|m| m.plain_text().to_string())
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                _ => None,
            })
            .collect()
    }
}

#[tokio::test]
async fn verification_request_gets_200() {
    let h = Harness::new();
    let r = h.post_signed(&callback(vec![])).await;
    assert_eq!(r.status, 200);
    assert!(h.line.calls().is_empty());
}

#[tokio::test]
async fn forged_or_missing_signatures_get_401_and_change_nothing() {
    let h = Harness::new();
    let body = callback(vec![follow("e1"), pick("e2", "v1:due", "2027-03-01")]);
    assert_eq!(h.post(&body, None).await.status, 401);
    assert_eq!(h.post(&body, Some("")).await.status, 401);
    let forged = ChannelSecret::new("someone-else").sign(&body);
    assert_eq!(h.post(&body, Some(&forged)).await.status, 401);
    // A signature over different bytes does not cover these.
    let other = h.secret.sign(&callback(vec![]));
    assert_eq!(h.post(&body, Some(&other)).await.status, 401);
    assert_eq!(h.resident().await, None);
    assert!(h.line.calls().is_empty());
    // The same body, properly signed, is processed: nothing was claimed by the forgeries.
    assert_eq!(h.post_signed(&body).await.status, 200);
    assert!(h.resident().await.is_some());
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_rejected() {
    let h = Harness::new();
    for body in [&b"{"[..], b"", b"[]", br#"{"events": "no"}"#, b"\xff\xfe"] {
        let r = h.post_signed(body).await;
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(body));
        assert!(r.body.contains("message"));
    }
    let big = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(h.post_signed(&big).await.status, 413);
    // The 1 MiB limit is inclusive: a body of exactly 1 MiB is judged on its content.
    let mut exact = callback(vec![]);
    exact.resize(1024 * 1024, b' ');
    assert_eq!(h.post_signed(&exact).await.status, 200);
}

#[tokio::test]
async fn registration_end_to_end_through_the_handler() {
    let h = Harness::new();
    assert_eq!(
        h.post_signed(&callback(vec![follow("e1")])).await.status,
        200
    );
    assert!(h.replies()[0].contains("友だち追加ありがとうございます"));
    assert_eq!(h.resident().await, None);
    let body = callback(vec![pick("e2", "v1:due", "2027-03-01")]);
    assert_eq!(h.post_signed(&body).await.status, 200);
    let r = h.resident().await.expect("registered");
    assert_eq!(
        r.pregnancy.map(|p| p.due_date.to_string()),
        Some("2027-03-01".to_string())
    );
    let entries: Vec<AnchorEntry> = h
        .store
        .anchored(&AnchorRange {
            kind: shared::domain::AnchorKind::DueDate,
            first: chrono::NaiveDate::from_ymd_opt(2027, 3, 1).expect("date"),
            last: chrono::NaiveDate::from_ymd_opt(2027, 3, 1).expect("date"),
        })
        .await
        .expect("lookup");
    assert_eq!(entries.len(), 1, "the registration is in the anchor index");
    assert!(h.replies()[1].contains("今日は妊娠25週6日"));
}

#[tokio::test]
async fn redelivered_events_are_processed_once() {
    let h = Harness::new();
    let mut redelivered = pick("e-child", "v1:birth", "2025-11-20");
    h.post_signed(&callback(vec![redelivered.clone()])).await;
    redelivered["deliveryContext"]["isRedelivery"] = json!(true);
    let r = h.post_signed(&callback(vec![redelivered])).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        h.resident().await.map(|r| r.children.len()),
        Some(1),
        "no second child"
    );
    assert_eq!(h.replies().len(), 1, "no second reply");
}

#[tokio::test]
async fn standby_unknown_and_group_events_change_nothing() {
    let h = Harness::new();
    let mut standby = pick("s1", "v1:due", "2027-03-01");
    standby["mode"] = json!("standby");
    let unknown = event(
        "u1",
        json!({"type": "somethingNew", "somethingNew": {"x": [1, 2]}}),
    );
    let mut group_text = event(
        "g1",
        json!({"type": "message", "message": {"type": "text", "id": "1", "text": "登録"}}),
    );
    group_text["source"] = json!({"type": "group", "groupId": "Cabc", "userId": USER});
    let broken = json!({"type": "postback", "postback": "not an object"});
    let r = h
        .post_signed(&callback(vec![
            standby,
            unknown,
            group_text,
            broken,
            json!(null),
        ]))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(h.resident().await, None);
    assert!(h.line.calls().is_empty());
    let mut join = event("j1", json!({"type": "join"}));
    join["source"] = json!({"type": "group", "groupId": "Cabc"});
    assert_eq!(h.post_signed(&callback(vec![join])).await.status, 200);
    assert!(h.replies()[0].contains("1対1のトーク"));
}

#[tokio::test]
async fn a_failed_reply_keeps_the_registration() {
    let h = Harness::new();
    h.line.fail_next(LineError::Status {
        status: 400,
        message: "Invalid reply token".into(),
        retry_after: None,
    });
    let r = h
        .post_signed(&callback(vec![pick("e1", "v1:due", "2027-03-01")]))
        .await;
    assert_eq!(r.status, 200);
    assert!(h.resident().await.is_some());
}

/// How a call of [`FlakyStore`] fails to come back, standing for the function dying (a
/// crash, a timeout) at that point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Crash {
    /// Call number `k` (from 1) never reaches the store.
    Before(usize),
    /// Call number `k` is done by the store, but its answer never comes back.
    After(usize),
}

/// The embedded store, with saves that fail while `down` is set, reads that take
/// `read_delay` (so concurrent turns reliably overlap), a count of calls, and a crash point.
struct FlakyStore {
    inner: LocalStore,
    down: AtomicBool,
    read_delay: std::time::Duration,
    calls: AtomicUsize,
    crash: std::sync::Mutex<Option<Crash>>,
}

impl FlakyStore {
    fn new(down: bool, read_delay_ms: u64) -> FlakyStore {
        FlakyStore {
            inner: LocalStore::in_memory(),
            down: AtomicBool::new(down),
            read_delay: std::time::Duration::from_millis(read_delay_ms),
            calls: AtomicUsize::new(0),
            crash: std::sync::Mutex::new(None),
        }
    }

    fn crash_at(&self, crash: Option<Crash>) {
        self.calls.store(0, Ordering::SeqCst);
        *self.crash.lock().expect("lock") = crash;
    }

    /// Runs one store call, or hangs forever where the crash point says.
    async fn call<T>(&self, op: impl std::future::Future<Output = T>) -> T {
        let k = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let crash = *self.crash.lock().expect("lock");
        if crash == Some(Crash::Before(k)) {
            std::future::pending::<()>().await;
        }
        let out = op.await;
        if crash == Some(Crash::After(k)) {
            std::future::pending::<()>().await;
        }
        out
    }
}

impl Store for FlakyStore {
    async fn resident(&self, user: &UserId) -> Result<Option<Resident>, StoreError> {
        self.call(async {
            let read = self.inner.resident(user).await;
            tokio::time::sleep(self.read_delay).await;
            read
        })
        .await
    }
    async fn save_resident(
        &self,
        r: &Resident,
        claim: Option<&EventClaim>,
    ) -> Result<Resident, StoreError> {
        self.call(async {
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("simulated outage".into()));
            }
            self.inner.save_resident(r, claim).await
        })
        .await
    }
    async fn delete_resident(
        &self,
        user: &UserId,
        claim: Option<&EventClaim>,
    ) -> Result<bool, StoreError> {
        self.call(self.inner.delete_resident(user, claim)).await
    }
    async fn claim_event(&self, claim: &EventClaim) -> Result<bool, StoreError> {
        self.call(self.inner.claim_event(claim)).await
    }
    async fn anchored(&self, range: &AnchorRange) -> Result<Vec<AnchorEntry>, StoreError> {
        self.call(self.inner.anchored(range)).await
    }
    async fn undelivered(
        &self,
        milestone: &shared::delivery::Mark<'_>,
        recipients: &[Recipient],
    ) -> Result<Vec<Recipient>, StoreError> {
        self.call(self.inner.undelivered(milestone, recipients))
            .await
    }
    async fn record_delivery(
        &self,
        milestone: &shared::delivery::Mark<'_>,
        recipients: &[Recipient],
    ) -> Result<(), StoreError> {
        self.call(self.inner.record_delivery(milestone, recipients))
            .await
    }
    async fn record_scan(&self, day: NaiveDate, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.call(self.inner.record_scan(day, now)).await
    }
    async fn last_scanned_before(&self, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        self.call(self.inner.last_scanned_before(day)).await
    }
}

impl shared::store::BookingStore for FlakyStore {
    async fn services(&self) -> Result<Vec<shared::reservations::Service>, StoreError> {
        self.call(self.inner.services()).await
    }
    async fn slot_states(
        &self,
        service: &shared::reservations::ServiceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<shared::reservations::SlotState>, StoreError> {
        self.call(self.inner.slot_states(service, from, to)).await
    }
    async fn publish_schedule(
        &self,
        schedule: &shared::reservations::Schedule,
        now: DateTime<Utc>,
    ) -> Result<shared::store::bookings::Published, StoreError> {
        self.call(self.inner.publish_schedule(schedule, now)).await
    }
    async fn publish(
        &self,
        schedule: &shared::reservations::Schedule,
        now: DateTime<Utc>,
        stranding: shared::store::Stranding,
    ) -> Result<shared::store::bookings::Published, StoreError> {
        self.call(self.inner.publish(schedule, now, stranding))
            .await
    }
    async fn book(
        &self,
        request: &shared::store::BookingRequest,
    ) -> Result<shared::reservations::Booking, shared::store::BookingError> {
        self.call(self.inner.book(request)).await
    }
    async fn release(
        &self,
        change: &shared::store::SeatChange<'_>,
        how: shared::store::Release,
    ) -> Result<shared::reservations::Booking, shared::store::BookingError> {
        self.call(self.inner.release(change, how)).await
    }
    async fn change_slot(
        &self,
        change: &shared::store::SeatChange<'_>,
        to: &shared::reservations::SlotRef,
    ) -> Result<shared::reservations::Booking, shared::store::BookingError> {
        self.call(self.inner.change_slot(change, to)).await
    }
    async fn bookings_of(
        &self,
        user: &UserId,
    ) -> Result<Vec<shared::reservations::Booking>, StoreError> {
        self.call(self.inner.bookings_of(user)).await
    }
    async fn bookings_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<shared::reservations::Booking>, StoreError> {
        self.call(self.inner.bookings_between(from, to)).await
    }
    async fn join_waitlist(
        &self,
        request: &shared::store::WaitRequest,
    ) -> Result<shared::reservations::Waiting, shared::store::BookingError> {
        self.call(self.inner.join_waitlist(request)).await
    }
    async fn leave_waitlist(
        &self,
        change: &shared::store::WaitChange<'_>,
    ) -> Result<shared::reservations::Waiting, shared::store::BookingError> {
        self.call(self.inner.leave_waitlist(change)).await
    }
    async fn waiting_of(
        &self,
        user: &UserId,
    ) -> Result<Vec<shared::reservations::Waiting>, StoreError> {
        self.call(self.inner.waiting_of(user)).await
    }
    async fn waitlists(&self) -> Result<Vec<shared::reservations::Waitlist>, StoreError> {
        self.call(self.inner.waitlists()).await
    }
    async fn offer_seats(
        &self,
        slot: &shared::reservations::SlotRef,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<shared::store::Offers, StoreError> {
        self.call(self.inner.offer_seats(slot, until, now)).await
    }
    async fn offer_told(
        &self,
        offered: &shared::reservations::Waiting,
    ) -> Result<bool, StoreError> {
        self.call(self.inner.offer_told(offered)).await
    }
}

#[tokio::test]
async fn a_forged_request_touches_no_store() {
    let h = Harness::with_store(FlakyStore::new(false, 0));
    let body = callback(vec![pick("e1", "v1:birth", "2025-11-20")]);
    let forged = h.post(&body, Some("bm90IHRoZSBzaWduYXR1cmU=")).await;
    assert_eq!(forged.status, 401);
    let oversized = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(h.post(&oversized, Some("x")).await.status, 413);
    assert_eq!(
        h.store.calls.load(Ordering::SeqCst),
        0,
        "no store call before the signature"
    );
    assert_eq!(h.post_signed(&body).await.status, 200);
    assert!(h.store.calls.load(Ordering::SeqCst) > 0);
}

/// A registration whose processing dies at any point (before or after each store call, or
/// in the reply) and is then redelivered by LINE is registered exactly once: never lost (the
/// claim without the change), never twice (the change without the claim).
#[tokio::test(start_paused = true)]
async fn a_crash_at_any_point_then_a_redelivery_registers_exactly_once() {
    let body = callback(vec![pick("e1", "v1:birth", "2025-11-20")]);
    // A clean run, to know how many store calls a turn makes.
    let clean = Harness::with_store(FlakyStore::new(false, 0));
    assert_eq!(clean.post_signed(&body).await.status, 200);
    let calls = clean.store.calls.load(Ordering::SeqCst);
    assert!(calls >= 2, "a turn reads and then stores");
    let expected = clean.resident().await.expect("registered");
    let mut points = Vec::new();
    for k in 1..=calls {
        points.push(Crash::Before(k));
        points.push(Crash::After(k));
    }
    for point in points {
        let h = Harness::with_store(FlakyStore::new(false, 0));
        h.store.crash_at(Some(point));
        let first = h.post_signed(&body).await;
        assert_eq!(
            first.status, 500,
            "{point:?}: a request that died is not a 200"
        );
        h.store.crash_at(None);
        let mut redelivery: Value = serde_json::from_slice(&body).expect("json");
        redelivery["events"][0]["deliveryContext"]["isRedelivery"] = json!(true);
        let redelivery = serde_json::to_vec(&redelivery).expect("json");
        assert_eq!(h.post_signed(&redelivery).await.status, 200, "{point:?}");
        // And once more, as LINE may redeliver twice.
        assert_eq!(h.post_signed(&redelivery).await.status, 200, "{point:?}");
        let r = h.resident().await;
        assert_eq!(
            r.as_ref(),
            Some(&expected),
            "{point:?}: registered exactly once"
        );
        assert!(
            h.replies().len() <= 1,
            "{point:?}: at most one confirmation"
        );
    }
}

/// LINE that never answers a reply.
struct SilentLine;

impl shared::line::LineApi for SilentLine {
    async fn reply(&self, _: &str, _: &[shared::line::Message]) -> Result<(), LineError> {
        std::future::pending().await
    }
    async fn push(
        &self,
        _: &UserId,
        _: &[shared::line::Message],
        _: &shared::line::RetryKey,
    ) -> Result<shared::line::Accepted, LineError> {
        std::future::pending().await
    }
    async fn multicast(
        &self,
        _: &[UserId],
        _: &[shared::line::Message],
        _: &shared::line::RetryKey,
    ) -> Result<shared::line::Accepted, LineError> {
        std::future::pending().await
    }
    async fn quota(&self) -> Result<shared::line::Quota, LineError> {
        std::future::pending().await
    }
}

/// Time spent before the handler (the Lambda adapter's catalog refresh) counts against the
/// same deadline: a request that already used it up answers 500 without storing anything,
/// instead of answering LINE late.
#[tokio::test(start_paused = true)]
async fn the_deadline_counts_from_the_requests_arrival() {
    let h = Harness::new();
    let body = callback(vec![pick("e1", "v1:birth", "2025-11-20")]);
    let request = verify_request(&h.secret, Some(&h.secret.sign(&body)), &body).expect("verified");
    let arrived = tokio::time::Instant::now();
    tokio::time::advance(STORE_DEADLINE).await;
    let ctx = WebhookContext {
        store: &h.store,
        line: &h.line,
        events: &shared::reservations::events::NoEvents,
        catalog: &h.catalog,
        secret: &h.secret,
        now: now(),
    };
    assert_eq!(handle_verified(&ctx, request, arrived).await.status, 500);
    assert_eq!(h.resident().await, None);
    assert!(h.line.calls().is_empty());
    // The same request arriving now has its whole budget.
    let request = verify_request(&h.secret, Some(&h.secret.sign(&body)), &body).expect("verified");
    let fresh = tokio::time::Instant::now();
    assert_eq!(handle_verified(&ctx, request, fresh).await.status, 200);
    assert!(h.resident().await.is_some());
}

/// A reply that hangs does not make LINE redeliver a stored change: the request answers
/// 200 in time without it.
#[tokio::test(start_paused = true)]
async fn a_hanging_reply_still_answers_in_time() {
    let store = LocalStore::in_memory();
    let secret = ChannelSecret::new("test-channel-secret");
    let catalog = Catalog::from_source(&example_source()).expect("catalog");
    let ctx = WebhookContext {
        store: &store,
        line: &SilentLine,
        events: &shared::reservations::events::NoEvents,
        catalog: &catalog,
        secret: &secret,
        now: now(),
    };
    let body = callback(vec![pick("e1", "v1:birth", "2025-11-20")]);
    let started = tokio::time::Instant::now();
    let r = handle_webhook(&ctx, Some(&secret.sign(&body)), &body).await;
    assert_eq!(r.status, 200);
    assert!(started.elapsed() <= REPLY_DEADLINE);
    let user = UserId::parse(USER).expect("id");
    let stored = store.resident(&user).await.expect("read");
    assert_eq!(stored.map(|r| r.children.len()), Some(1));
}

#[tokio::test]
async fn a_store_outage_answers_5xx_so_line_redelivers() {
    let h = Harness::with_store(FlakyStore::new(true, 0));
    let body = callback(vec![pick("e1", "v1:birth", "2025-11-20")]);
    let r = h.post_signed(&body).await;
    assert_eq!(r.status, 500);
    assert!(
        h.line.calls().is_empty(),
        "no confirmation for something not stored"
    );
    // LINE redelivers the same event once the store is back: it is processed, not skipped.
    h.store.down.store(false, Ordering::SeqCst);
    assert_eq!(h.post_signed(&body).await.status, 200);
    assert_eq!(h.resident().await.map(|r| r.children.len()), Some(1));
    assert_eq!(h.replies().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_for_one_resident_are_never_lost() {
    let h = std::sync::Arc::new(Harness::with_store(FlakyStore::new(false, 5)));
    let bodies: Vec<Vec<u8>> = (1..=8)
        .map(|i| {
            callback(vec![pick(
                &format!("c{i}"),
                "v1:birth",
                &format!("2025-0{i}-15"),
            )])
        })
        .collect();
    let mut pending = bodies;
    // A request that loses every optimistic-concurrency retry answers 500 and LINE
    // redelivers it; keep redelivering until all are accepted.
    for _round in 0..20 {
        if pending.is_empty() {
            break;
        }
        let tasks: Vec<_> = pending
            .into_iter()
            .map(|body| {
                let h = h.clone();
                tokio::spawn(async move {
                    let status = h.post_signed(&body).await.status;
                    (status, body)
                })
            })
            .collect();
        pending = Vec::new();
        for t in tasks {
            let (status, body) = t.await.expect("task");
            assert!(status == 200 || status == 500, "status {status}");
            if status == 500 {
                pending.push(body);
            }
        }
    }
    assert!(
        pending.is_empty(),
        "every registration was eventually accepted"
    );
    let r = h.resident().await.expect("stored");
    let mut births: Vec<String> = r
        .children
        .iter()
        .map(|c| c.birth_date.to_string())
        .collect();
    births.sort();
    assert_eq!(
        births,
        (1..=8).map(|i| format!("2025-0{i}-15")).collect::<Vec<_>>(),
        "no update was lost"
    );
    let mut ids: Vec<&str> = r.children.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "child ids stay unique");
}
