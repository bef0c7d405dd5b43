//! Thousands of malformed, correctly signed webhook bodies: random bytes, truncations, byte
//! flips, wrong types at every field, deep nesting. The handler never panics; a body that is
//! not a LINE callback gets 400, and anything else is 200 (unknown shapes are ignored).

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use shared::catalog::{Catalog, example_source};
use shared::handlers::webhook::{WebhookContext, handle_webhook};
use shared::line::MemoryLineApi;
use shared::line::signature::ChannelSecret;
use shared::store::LocalStore;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn valid_events() -> Vec<Value> {
    let base = |kind: &str, extra: Value| {
        let mut e = json!({
            "type": kind, "mode": "active", "timestamp": 1_700_000_000_000i64,
            "webhookEventId": "01FUZZ", "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": "U0123456789abcdef0123456789abcdef"},
            "replyToken": "rt"
        });
        if let (Some(o), Some(x)) = (e.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        e
    };
    vec![
        base("follow", json!({"follow": {"isUnblocked": false}})),
        base(
            "message",
            json!({"message": {"type": "text", "id": "1", "text": "登録内容"}}),
        ),
        base(
            "postback",
            json!({"postback": {"data": "v1:due", "params": {"date": "2027-03-01"}}}),
        ),
        base(
            "postback",
            json!({"postback": {"data": "v1:birth", "params": {"date": "2025-11-20"}}}),
        ),
        base("unfollow", json!({})),
    ]
}

fn weird_value(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(1e308),
        4 => json!(u64::MAX),
        5 => json!("x".repeat(rng.below(3000))),
        6 => json!([1, "a", null, {"b": []}]),
        7 => json!({"nested": {"deeper": [[[]]]}}),
        8 => json!("\u{0}\u{FFFF}🙂"),
        _ => json!("2027-02-30"),
    }
}

/// Replaces one value somewhere in the tree with a weird one.
fn mutate(v: &mut Value, rng: &mut Rng) {
    match v {
        Value::Object(map) if !map.is_empty() && rng.below(4) != 0 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[rng.below(keys.len())];
            if let Some(child) = map.get_mut(key) {
                mutate(child, rng);
            }
        }
        Value::Array(items) if !items.is_empty() && rng.below(4) != 0 => {
            let i = rng.below(items.len());
            mutate(&mut items[i], rng);
        }
        _ => *v = weird_value(rng),
    }
}

fn is_callback(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .is_some_and(|v| v.get("events").is_some_and(Value::is_array))
}

#[tokio::test]
async fn malformed_bodies_never_panic_and_get_4xx() {
    let store = LocalStore::in_memory();
    let line = MemoryLineApi::new();
    let catalog = Catalog::from_source(&example_source()).expect("catalog");
    let secret = ChannelSecret::new("fuzz-secret");
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
    let mut rng = Rng(0x5EED_CAFE_F00D_u64);
    let valid =
        serde_json::to_vec(&json!({"destination": "U0", "events": valid_events()})).expect("json");
    let (mut rejected, mut accepted) = (0, 0);
    for i in 0..6000 {
        let body: Vec<u8> = match i % 6 {
            0 => (0..rng.below(512)).map(|_| rng.next() as u8).collect(),
            1 => valid[..rng.below(valid.len())].to_vec(),
            2 => {
                let mut b = valid.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(b.len());
                    b[at] = rng.next() as u8;
                }
                b
            }
            3 => {
                let mut v = json!({"destination": "U0", "events": valid_events()});
                for _ in 0..1 + rng.below(3) {
                    mutate(&mut v, &mut rng);
                }
                serde_json::to_vec(&v).expect("json")
            }
            4 => {
                let depth = 100 + rng.below(400);
                let mut s = String::from(r#"{"events":["#);
                s.push_str(&"[".repeat(depth));
                s.push_str(&"]".repeat(depth));
                s.push_str("]}");
                s.into_bytes()
            }
            _ => {
                let junk = [
                    "",
                    "null",
                    "[]",
                    "{}",
                    "\"events\"",
                    r#"{"events":null}"#,
                    r#"{"events":{}}"#,
                    "\u{feff}{}",
                ];
                junk[rng.below(junk.len())].as_bytes().to_vec()
            }
        };
        let signature = secret.sign(&body);
        let response = handle_webhook(&ctx, Some(&signature), &body).await;
        if is_callback(&body) {
            assert_eq!(
                response.status,
                200,
                "case {i}: a callback is answered 200: {}",
                String::from_utf8_lossy(&body)
            );
            accepted += 1;
        } else {
            assert_eq!(
                response.status,
                400,
                "case {i}: {}",
                String::from_utf8_lossy(&body)
            );
            rejected += 1;
        }
        // The same body without a valid signature never gets past 401.
        assert_eq!(handle_webhook(&ctx, Some("AAAA"), &body).await.status, 401);
    }
    assert!(
        rejected > 3000 && accepted > 500,
        "the generator covers both sides: {rejected} / {accepted}"
    );
}
