//! The webhook under a slow or broken DynamoDB and a slow or silent LINE. The real
//! `WebhookFunction`, built as `functions/webhook` builds it (`webhook_sdk_config` over a
//! fault-injecting proxy in front of moto, the LINE client of `webhook_line_client` against
//! the fake LINE), is fed signed API Gateway v2 events and timed by the wall clock.
//!
//! LINE waits 2 s for an answer. Every answer must come within that, a 5xx whenever the work
//! was not stored (LINE redelivers: a 5xx beats a hang), and each `webhookEventId` is
//! processed once: redelivered or not, sent again after the fault or eight times together.
//! The local `serve` is checked with a silent LINE too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use serde_json::Value;
use shared::aws::lambda::{WebhookFunction, webhook_line_client, webhook_sdk_config};
use shared::aws::testing::{moto_config, moto_endpoint};
use shared::aws::{DynamoStore, EventBridgeEvents, LiveCatalog};
use shared::domain::UserId;
use shared::line::signature::ChannelSecret;
use shared::store::Store;
use sukusuku_tests::apigw::post_to;
use sukusuku_tests::fake_line::{Endpoint, FakeLine, Fault};
use sukusuku_tests::fault_proxy::{FaultProxy, ProxyFault};
use sukusuku_tests::server::{
    ACCESS_TOKEN, CHANNEL_SECRET, Resident, Sukusuku, callback, example_catalog, redelivered, sign,
};
use sukusuku_tests::stack::Stack;

/// How long LINE waits for the webhook's answer.
const LINE_WAITS: Duration = Duration::from_secs(2);
/// As in `functions/webhook`.
const CATALOG_MAX_AGE: Duration = Duration::from_secs(300);

fn birth() -> NaiveDate {
    let today = shared::dates::tokyo_date(Utc::now());
    today.checked_sub_days(Days::new(30)).expect("date")
}

fn reply_token(event: &Value) -> &str {
    event["replyToken"].as_str().expect("reply token")
}

/// A follow, then a birthdate picked: one greeting, one registration.
fn registration(r: &mut Resident) -> Vec<Value> {
    vec![r.follow(), r.pick_date("v1:birth", birth())]
}

struct Rig {
    proxy: FaultProxy,
    line: FakeLine,
    webhook: Arc<WebhookFunction>,
    table: String,
    /// The same table straight to moto: what is stored, whatever the proxy does.
    direct: DynamoStore,
}

impl Rig {
    async fn new(endpoint: &str) -> Rig {
        let table = Stack::create(endpoint, "faults", 8).await.table;
        let direct = DynamoStore::from_config(&moto_config(endpoint).await, &table);
        let proxy = FaultProxy::start(endpoint).await;
        let line = FakeLine::start(ACCESS_TOKEN).await;
        let webhook = Arc::new(function(&proxy, &line, &table, CATALOG_MAX_AGE).await);
        Rig {
            proxy,
            line,
            webhook,
            table,
            direct,
        }
    }

    /// (children, version) of what is stored for `r`; the version counts the saves.
    async fn stored(&self, r: &Resident) -> Option<(usize, u64)> {
        let user = UserId::parse(&r.user_id).expect("user id");
        let stored = self.direct.resident(&user).await.expect("read");
        stored.map(|s| (s.children.len(), s.version))
    }

    /// One child, saved once; and no reply sent twice for any event.
    async fn assert_registered_once(&self, r: &Resident, events: &[Value], what: &str) {
        assert_eq!(
            self.stored(r).await,
            Some((1, 1)),
            "{what}: one child, one save"
        );
        for e in events {
            let n = self.line.replies_to(reply_token(e));
            assert!(n <= 1, "{what}: {n} replies to one event");
        }
    }
}

/// A webhook function as `functions/webhook/src/main.rs` builds one, its DynamoDB calls
/// going through the proxy.
async fn function(
    proxy: &FaultProxy,
    line: &FakeLine,
    table: &str,
    catalog_max_age: Duration,
) -> WebhookFunction {
    let config = webhook_sdk_config(&moto_config(&proxy.url).await);
    // DynamoDB's transactions are serializable, moto's are not (see the method).
    let store = DynamoStore::from_config(&config, table).with_serialized_transactions();
    let catalog = LiveCatalog::load(store.clone(), catalog_max_age)
        .await
        .expect("catalog");
    let http = webhook_line_client(&line.base_url, ACCESS_TOKEN)
        .build()
        .expect("LINE client");
    http.warm().await;
    WebhookFunction {
        store,
        line: http,
        // A registration publishes no booking event: the bus is never called.
        events: EventBridgeEvents::from_config(&config, "sukusuku-bookings"),
        secret: ChannelSecret::new(CHANNEL_SECRET),
        catalog,
    }
}

/// Posts `events` signed, as API Gateway hands LINE's request to the function: the status
/// and how long the answer took.
async fn post(webhook: &WebhookFunction, events: &[Value]) -> (u16, Duration) {
    let body = callback(events.to_vec());
    let started = Instant::now();
    let (status, _) = post_to(webhook, &body, Some(&sign(&body)), false).await;
    (status, started.elapsed())
}

fn redelivery(events: &[Value]) -> Vec<Value> {
    events.iter().map(redelivered).collect()
}

/// A DynamoDB that never answers (requests lost, answers lost, or the write done and its
/// answer lost) or resets every connection: a 5xx within LINE's 2 s, never a 200. Once it
/// heals, LINE's redelivery and a plain duplicate store the registration once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_or_broken_dynamodb_gets_a_5xx_in_time_and_the_redelivery_is_stored_once() {
    let Some(ep) = moto_endpoint() else { return };
    let rig = Rig::new(&ep).await;
    // (what, only calls containing, fault, whether the registration is stored anyway)
    let faults = [
        ("requests lost", None, ProxyFault::Blackhole, false),
        ("answers lost", None, ProxyFault::LoseAnswer, false),
        (
            "transactions done, answers lost",
            Some("TransactWriteItems"),
            ProxyFault::LoseAnswer,
            true,
        ),
        ("connections reset", None, ProxyFault::Reset, false),
    ];
    let mut sent = Vec::new();
    for (n, (what, only, fault, stored)) in faults.into_iter().enumerate() {
        match only {
            Some(text) => rig.proxy.set_when(text, fault),
            None => rig.proxy.set(fault),
        }
        let mut r = Resident::new(100 + n as u32);
        let events = registration(&mut r);
        let (status, took) = post(&rig.webhook, &events).await;
        eprintln!("DynamoDB {what}: {status} in {} ms", took.as_millis());
        assert!(status >= 500, "{what}: {status}, not a 5xx");
        assert!(took < LINE_WAITS, "{what}: answered after {took:?}");
        rig.proxy.heal();
        let expected = stored.then_some((1, 1));
        assert_eq!(
            rig.stored(&r).await,
            expected,
            "{what}: stored during the fault"
        );
        sent.push((what, r, events, stored));
    }
    for (what, r, events, stored_during_fault) in &sent {
        let (status, took) = post(&rig.webhook, &redelivery(events)).await;
        eprintln!(
            "redelivery after {what}: {status} in {} ms",
            took.as_millis()
        );
        assert_eq!(status, 200, "{what}: the redelivery");
        assert_eq!(
            post(&rig.webhook, events).await.0,
            200,
            "{what}: a duplicate"
        );
        rig.assert_registered_once(r, events, what).await;
        if !stored_during_fault {
            // Nothing was stored before: the redelivery did it all, replies included.
            for e in events {
                assert_eq!(rig.line.replies_to(reply_token(e)), 1, "{what}");
            }
        }
    }
    assert_eq!(rig.line.violations(), Vec::<String>::new());
}

/// A catalog refresh is bounded by the same deadline as the store work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_refresh_against_a_silent_dynamodb_is_bounded_too() {
    let Some(ep) = moto_endpoint() else { return };
    let rig = Rig::new(&ep).await;
    let stale = function(&rig.proxy, &rig.line, &rig.table, Duration::ZERO).await;
    rig.proxy.set(ProxyFault::Blackhole);
    let mut r = Resident::new(1);
    let (status, took) = post(&stale, &registration(&mut r)).await;
    eprintln!(
        "catalog refresh, DynamoDB silent: {status} in {} ms",
        took.as_millis()
    );
    assert!(
        status >= 500 && took < LINE_WAITS,
        "{status} after {took:?}"
    );
    rig.proxy.heal();
    assert_eq!(post(&stale, &registration(&mut r)).await.0, 200);
}

/// 100 ms a call still stores and answers 200; 400 ms a call (each within the SDK's
/// attempt timeout, together past the store deadline) and 800 ms a call get a 5xx in time,
/// and their redeliveries store each registration once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_dynamodb_answers_200_and_a_very_slow_one_a_5xx_in_time() {
    let Some(ep) = moto_endpoint() else { return };
    let rig = Rig::new(&ep).await;
    let mut slow = Vec::new();
    for (n, ms) in [100u64, 400, 800].into_iter().enumerate() {
        rig.proxy
            .set(ProxyFault::SlowAnswer(Duration::from_millis(ms)));
        let mut r = Resident::new(200 + n as u32);
        let events = registration(&mut r);
        let (status, took) = post(&rig.webhook, &events).await;
        eprintln!(
            "DynamoDB {ms} ms a call: {status} in {} ms",
            took.as_millis()
        );
        assert!(took < LINE_WAITS, "{ms} ms a call: answered after {took:?}");
        if ms == 100 {
            assert_eq!(status, 200, "{ms} ms a call");
            rig.assert_registered_once(&r, &events, "100 ms").await;
            for e in &events {
                assert_eq!(rig.line.replies_to(reply_token(e)), 1);
            }
        } else {
            assert!(status >= 500, "{ms} ms a call: {status}");
            assert_ne!(rig.stored(&r).await.map(|s| s.0), Some(1), "not registered");
            slow.push((ms, r, events));
        }
    }
    rig.proxy.heal();
    for (ms, r, events) in &slow {
        assert_eq!(post(&rig.webhook, &redelivery(events)).await.0, 200);
        rig.assert_registered_once(r, events, &format!("{ms} ms"))
            .await;
        // The greeting's claim may have landed while its answer was late (then its
        // redelivery is skipped, reply and all); the registration never did.
        let registered = &events[1];
        assert_eq!(rig.line.replies_to(reply_token(registered)), 1, "{ms} ms");
    }
}

/// One DynamoDB call lost in the network: the SDK's attempt timeout gives up on it and the
/// retry, on a new connection, finishes well within LINE's 2 s. Four times, since the
/// SDK's default backoff before a retry is random (up to 1 s) and would pass now and then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_lost_call_is_retried_within_the_deadline() {
    let Some(ep) = moto_endpoint() else { return };
    let rig = Rig::new(&ep).await;
    for n in 0..4 {
        rig.proxy.next_calls([ProxyFault::Blackhole]);
        let mut r = Resident::new(300 + n);
        let events = registration(&mut r);
        let (status, took) = post(&rig.webhook, &events).await;
        eprintln!(
            "one DynamoDB call lost: {status} in {} ms",
            took.as_millis()
        );
        assert_eq!(status, 200, "after {took:?}");
        // 500 ms for the lost attempt, the retry at once, then the rest of the work.
        assert!(took < Duration::from_millis(1000), "{took:?}");
        rig.assert_registered_once(&r, &events, "one call lost")
            .await;
    }
}

/// LINE's reply API slow, silent, or dropping the connection: the registration is stored,
/// the webhook still answers 200 within 2 s, and a later duplicate changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_or_silent_line_reply_does_not_hold_the_answer() {
    let Some(ep) = moto_endpoint() else { return };
    let rig = Rig::new(&ep).await;
    let cases = [
        ("replies never answered", [Fault::Hang, Fault::Hang]),
        (
            "replies slow, then taken and reset",
            [
                Fault::Slow(Duration::from_millis(1500)),
                Fault::AcceptThenReset,
            ],
        ),
        (
            "replies reset, then refused",
            [Fault::ResetBeforeBody, Fault::status(500)],
        ),
    ];
    let mut sent = Vec::new();
    for (n, (what, faults)) in cases.into_iter().enumerate() {
        rig.line.script(Endpoint::Reply, faults);
        let mut r = Resident::new(400 + n as u32);
        let events = registration(&mut r);
        let (status, took) = post(&rig.webhook, &events).await;
        eprintln!("LINE {what}: {status} in {} ms", took.as_millis());
        assert_eq!(status, 200, "{what}");
        assert!(took < LINE_WAITS, "{what}: answered after {took:?}");
        rig.assert_registered_once(&r, &events, what).await;
        sent.push((what, r, events));
    }
    for (what, r, events) in &sent {
        let replies = |e| rig.line.replies_to(reply_token(e));
        let before: Vec<usize> = events.iter().map(replies).collect();
        assert_eq!(post(&rig.webhook, &redelivery(events)).await.0, 200);
        assert_eq!(post(&rig.webhook, events).await.0, 200);
        rig.assert_registered_once(r, events, what).await;
        let after: Vec<usize> = events.iter().map(replies).collect();
        assert_eq!(after, before, "{what}: no reply again");
    }
    assert_eq!(rig.line.violations(), Vec::<String>::new());
}

/// The same request eight times at once, half of them marked as redeliveries, on a healthy
/// and on a slow DynamoDB: one registration, one reply per event, every answer in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_at_once_are_processed_once() {
    let Some(ep) = moto_endpoint() else { return };
    let rig = Rig::new(&ep).await;
    for (n, slow) in [None, Some(Duration::from_millis(50))]
        .into_iter()
        .enumerate()
    {
        let what = match slow {
            Some(d) => format!("DynamoDB {} ms a call", d.as_millis()),
            None => "DynamoDB healthy".to_string(),
        };
        rig.proxy
            .set(slow.map_or(ProxyFault::Pass, ProxyFault::SlowAnswer));
        let mut r = Resident::new(500 + n as u32);
        let events = registration(&mut r);
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let webhook = rig.webhook.clone();
                let batch = if i % 2 == 0 {
                    events.clone()
                } else {
                    redelivery(&events)
                };
                tokio::spawn(async move { post(&webhook, &batch).await })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.expect("request task"));
        }
        let slowest = answers.iter().map(|a| a.1).max().unwrap_or_default();
        eprintln!(
            "8 duplicates at once, {what}: {:?}, slowest {} ms",
            answers.iter().map(|a| a.0).collect::<Vec<_>>(),
            slowest.as_millis()
        );
        assert!(slowest < LINE_WAITS, "{what}: {slowest:?}");
        assert!(
            answers.iter().all(|(s, _)| *s == 200 || *s >= 500),
            "{what}: {answers:?}"
        );
        assert!(
            answers.iter().any(|(s, _)| *s == 200),
            "{what}: {answers:?}"
        );
        rig.assert_registered_once(&r, &events, &what).await;
        for e in &events {
            assert_eq!(rig.line.replies_to(reply_token(e)), 1, "{what}");
        }
    }
}

/// `sukusuku serve` (embedded store, LINE client with its default timeouts): with LINE's
/// reply API silent, every answer still comes within 2 s. The first event's reply uses up
/// the request's time, so the second is left to LINE's redelivery (a 5xx); the redelivery
/// and a duplicate store nothing twice and reply to nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_in_time_when_line_does_not() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let dir = std::env::temp_dir().join(format!("sukusuku-faults-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = Sukusuku::start(&line.base_url, &dir, &example_catalog()).await;
    line.script(Endpoint::Reply, [Fault::Hang, Fault::Hang]);
    let mut r = Resident::new(600);
    let events = registration(&mut r);
    for (what, batch) in [
        ("first delivery", events.clone()),
        ("redelivery", redelivery(&events)),
        ("redelivery", redelivery(&events)),
        ("duplicate", events.clone()),
    ] {
        let started = Instant::now();
        let status = server.webhook(batch).await;
        let took = started.elapsed();
        eprintln!(
            "serve, LINE silent, {what}: {status} in {} ms",
            took.as_millis()
        );
        assert!(status == 200 || status >= 500, "{what}: {status}");
        assert!(took < LINE_WAITS, "{what}: {took:?}");
    }
    for e in &events {
        assert_eq!(line.replies_to(reply_token(e)), 1);
    }
    // What is registered: one child.
    assert_eq!(server.webhook(vec![r.text("登録内容")]).await, 200);
    let shown = line.replies().last().cloned().unwrap_or_default();
    assert_eq!(shown.matches("生まれ（").count(), 1, "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}
