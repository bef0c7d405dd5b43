//! The webhook handler driven with signed LINE request bodies, on the embedded store and the
//! in-memory LINE API: authenticity, de-duplication, standby, unknown events, and failures
//! that must not lose a registration.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use shared::catalog::Catalog;
use shared::domain::{AnchorEntry, AnchorRange, Resident, UserId};
use shared::handlers::webhook::{WebhookContext, WebhookResponse, handle_webhook};
use shared::line::signature::ChannelSecret;
use shared::line::{LineCall, LineError, MemoryLineApi};
use shared::store::{LocalStore, Store, StoreError};

const CATALOG: &str = include_str!("../../infra/catalog/example.yaml");
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

impl<S: Store> Harness<S> {
    fn with_store(store: S) -> Self {
        Harness {
            store,
            line: MemoryLineApi::new(),
            catalog: Catalog::from_yaml(CATALOG).expect("catalog"),
            secret: ChannelSecret::new("test-channel-secret"),
        }
    }

    async fn post(&self, body: &[u8], signature: Option<&str>) -> WebhookResponse {
        let ctx = WebhookContext {
            store: &self.store,
            line: &self.line,
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

/// The embedded store, with saves that fail while `down` is set and reads that take
/// `read_delay` (so concurrent turns reliably overlap).
struct FlakyStore {
    inner: LocalStore,
    down: AtomicBool,
    read_delay: std::time::Duration,
}

impl FlakyStore {
    fn new(down: bool, read_delay_ms: u64) -> FlakyStore {
        FlakyStore {
            inner: LocalStore::in_memory(),
            down: AtomicBool::new(down),
            read_delay: std::time::Duration::from_millis(read_delay_ms),
        }
    }
}

impl Store for FlakyStore {
    async fn resident(&self, user: &UserId) -> Result<Option<Resident>, StoreError> {
        let read = self.inner.resident(user).await;
        tokio::time::sleep(self.read_delay).await;
        read
    }
    async fn save_resident(&self, r: &Resident) -> Result<Resident, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("simulated outage".into()));
        }
        self.inner.save_resident(r).await
    }
    async fn delete_resident(&self, user: &UserId) -> Result<bool, StoreError> {
        self.inner.delete_resident(user).await
    }
    async fn anchored(&self, range: &AnchorRange) -> Result<Vec<AnchorEntry>, StoreError> {
        self.inner.anchored(range).await
    }
    async fn claim_event(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.inner.claim_event(id, now).await
    }
    async fn release_event(&self, id: &str) -> Result<(), StoreError> {
        self.inner.release_event(id).await
    }
    async fn delivered_among(
        &self,
        scope: &str,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<std::collections::HashSet<UserId>, StoreError> {
        self.inner.delivered_among(scope, users, now).await
    }
    async fn record_delivery(
        &self,
        job: &str,
        scope: &str,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.inner.record_delivery(job, scope, users, now).await
    }
    async fn job_done(&self, job: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.inner.job_done(job, now).await
    }
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
