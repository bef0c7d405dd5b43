//! Signed webhook events handled per second, in-process, on the embedded in-memory store.
//! Run: cargo bench --workspace --bench webhook

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use serde_json::json;
use shared::catalog::Catalog;
use shared::handlers::webhook::{WebhookContext, handle_webhook};
use shared::line::client::NullLineApi;
use shared::line::signature::ChannelSecret;
use shared::store::LocalStore;

fn body(n: usize) -> Vec<u8> {
    let user = format!("U{:032x}", n % 20_000);
    let kind = match n % 4 {
        0 => {
            json!({"type": "postback", "postback": {"data": "v1:birth", "params": {"date": format!("2025-{:02}-{:02}", n % 12 + 1, n % 28 + 1)}}})
        }
        1 => json!({"type": "message", "message": {"type": "text", "id": "1", "text": "登録内容"}}),
        2 => {
            json!({"type": "postback", "postback": {"data": "v1:due", "params": {"date": "2027-03-01"}}})
        }
        _ => json!({"type": "follow", "follow": {"isUnblocked": false}}),
    };
    let mut event = json!({
        "mode": "active", "timestamp": 1_763_773_200_000i64 + n as i64,
        "webhookEventId": format!("01BENCH{n:020}"), "deliveryContext": {"isRedelivery": false},
        "source": {"type": "user", "userId": user}, "replyToken": format!("rt{n}"),
    });
    if let (Some(e), Some(k)) = (event.as_object_mut(), kind.as_object()) {
        e.extend(k.clone());
    }
    serde_json::to_vec(&json!({"destination": "U0", "events": [event]})).unwrap_or_default()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let catalog = Catalog::from_source(&shared::catalog::example_source()).expect("catalog");
    let secret = ChannelSecret::new("bench-secret");
    let store = LocalStore::in_memory();
    let line = NullLineApi;
    let total = 100_000;
    let requests: Vec<(Vec<u8>, String)> = (0..total)
        .map(|n| {
            let b = body(n);
            let s = secret.sign(&b);
            (b, s)
        })
        .collect();
    let ctx = WebhookContext {
        store: &store,
        line: &line,
        events: &shared::reservations::events::NoEvents,
        catalog: &catalog,
        secret: &secret,
        now: Utc
            .with_ymd_and_hms(2026, 11, 22, 1, 0, 0)
            .single()
            .expect("time"),
    };
    let mut latencies: Vec<Duration> = Vec::with_capacity(total);
    let started = Instant::now();
    runtime.block_on(async {
        for (b, s) in &requests {
            let t = Instant::now();
            let r = handle_webhook(&ctx, Some(s), b).await;
            latencies.push(t.elapsed());
            assert_eq!(r.status, 200);
        }
    });
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "webhook: {total} signed events (one per request; follow / 登録内容 / due date / birthdate) on the in-memory store"
    );
    println!(
        "  total {:.2?}  →  {:.0} events/s on one thread",
        elapsed,
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  per event: p50 {:?}  p99 {:?}  max {:?}",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    println!("  residents stored: {}", store.resident_count());
}
