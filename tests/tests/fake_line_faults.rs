//! The fake LINE API's fault modes, each proved with plain HTTP (reqwest) so that the
//! suites built on it can trust it: refusals and storms, slow answers and answers that never
//! come, connection resets before and after the request was taken, its own rate limit and
//! the busiest second, `X-Line-Retry-Key` and reply-token rules, the monthly quota, and the
//! delivery counts.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sukusuku_tests::fake_line::{Endpoint, FakeLine, Fault, NO_ANSWER, Quota, Storm};
use sukusuku_tests::server::ACCESS_TOKEN;

const KEY_A: &str = "123e4567-e89b-12d3-a456-426614174000";
const KEY_B: &str = "123e4567-e89b-12d3-a456-426614174001";

fn user(n: usize) -> String {
    format!("U{n:032x}")
}

/// The n-th distinct retry key.
fn key(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn text(t: &str) -> Value {
    json!([{"type": "text", "text": t}])
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(line: &FakeLine) -> Client {
        Client::with_timeout(line, Duration::from_secs(10))
    }

    fn with_timeout(line: &FakeLine, timeout: Duration) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("client"),
            base: line.base_url.clone(),
        }
    }

    async fn post(
        &self,
        endpoint: Endpoint,
        body: Value,
        retry_key: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .http
            .post(format!("{}{}", self.base, endpoint.path()))
            .bearer_auth(ACCESS_TOKEN)
            .json(&body);
        if let Some(key) = retry_key {
            request = request.header("x-line-retry-key", key);
        }
        request.send().await
    }

    async fn push(&self, to: &str, t: &str, key: &str) -> reqwest::Result<reqwest::Response> {
        let body = json!({"to": to, "messages": text(t)});
        self.post(Endpoint::Push, body, Some(key)).await
    }

    async fn multicast(
        &self,
        to: &[String],
        t: &str,
        key: &str,
    ) -> reqwest::Result<reqwest::Response> {
        let body = json!({"to": to, "messages": text(t)});
        self.post(Endpoint::Multicast, body, Some(key)).await
    }

    async fn reply(&self, token: &str, t: &str) -> reqwest::Result<reqwest::Response> {
        let body = json!({"replyToken": token, "messages": text(t)});
        self.post(Endpoint::Reply, body, None).await
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    let value = r.headers().get(name)?.to_str().ok()?;
    Some(value.to_string())
}

/// Status, `Retry-After` and the body of an answer.
async fn read(r: reqwest::Result<reqwest::Response>) -> (u16, Option<String>, Value) {
    let r = r.expect("an answer");
    let status = r.status().as_u16();
    let after = header(&r, "retry-after");
    (status, after, r.json().await.unwrap_or(Value::Null))
}

async fn status(r: reqwest::Result<reqwest::Response>) -> u16 {
    read(r).await.0
}

fn assert_spec_kept(line: &FakeLine) {
    assert_eq!(line.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn scripted_refusals_are_answered_as_line_words_them_and_deliver_nothing() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::new(&line);
    line.script(
        Endpoint::Push,
        [
            Fault::too_many_requests(Some(3)),
            Fault::too_many_requests(None),
            Fault::monthly_limit(),
            Fault::status(500),
            Fault::status(503),
        ],
    );
    let expected = [
        (429, Some("3"), "Too many requests"),
        (429, None, "Too many requests"),
        (429, None, "You have reached your monthly limit."),
        (500, None, "Internal server error"),
        (503, None, "Service unavailable"),
    ];
    for (status, after, message) in expected {
        let (s, a, body) = read(c.push(&user(1), "お知らせ", KEY_A).await).await;
        assert_eq!((s, a.as_deref()), (status, after));
        assert_eq!(body, json!({"message": message}));
    }
    assert!(line.deliveries().is_empty());
    // None of those took the retry key, and the script is used up: the next one delivers.
    assert_eq!(status(c.push(&user(1), "お知らせ", KEY_A).await).await, 200);
    assert_eq!(line.deliveries(), vec![(user(1), "お知らせ".to_string())]);
    // Faults are per endpoint: a multicast and a reply were never scripted.
    line.script(Endpoint::Multicast, [Fault::status(500)]);
    assert_eq!(status(c.reply("rt-1", "はい").await).await, 200);
    assert_eq!(status(c.push(&user(2), "x", KEY_B).await).await, 200);
    assert_eq!(
        status(c.multicast(&[user(3)], "x", &key(9)).await).await,
        500
    );
    assert_spec_kept(&line);
}

#[tokio::test]
async fn a_storm_is_random_but_repeats_for_its_seed() {
    async fn statuses(seed: u64) -> (Vec<u16>, usize) {
        let line = FakeLine::start(ACCESS_TOKEN).await;
        let c = Client::new(&line);
        line.storm(
            Endpoint::Multicast,
            Storm::too_many_requests(0.3, Some(1), seed),
        );
        let mut out = Vec::new();
        for n in 0..200 {
            let (s, after, _) = read(c.multicast(&[user(n)], "x", &key(n)).await).await;
            if s == 429 {
                assert_eq!(after.as_deref(), Some("1"));
            }
            out.push(s);
        }
        // Pushes are not in the storm.
        assert_eq!(status(c.push(&user(1), "x", KEY_A).await).await, 200);
        line.calm(Endpoint::Multicast);
        assert_eq!(
            status(c.multicast(&[user(1)], "y", &key(1000)).await).await,
            200
        );
        assert_spec_kept(&line);
        (out, line.deliveries().len())
    }
    let (first, delivered) = statuses(42).await;
    let refused = first.iter().filter(|s| **s == 429).count();
    assert!((30..90).contains(&refused), "about 30% of 200: {refused}");
    assert_eq!(delivered, 200 - refused + 2, "refused ones deliver nothing");
    assert_eq!(statuses(42).await.0, first, "the same seed, the same storm");
    assert_ne!(statuses(43).await.0, first);
}

#[tokio::test]
async fn slow_answers_take_the_latency_asked_for() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::new(&line);
    line.set_latency(Endpoint::Push, Duration::from_millis(60));
    let started = Instant::now();
    assert_eq!(status(c.push(&user(1), "x", &key(1)).await).await, 200);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(60), "{took:?}");
    // Replies are not slowed.
    let started = Instant::now();
    assert_eq!(status(c.reply("rt", "x").await).await, 200);
    assert!(started.elapsed() < Duration::from_millis(60));

    // Per request: the n-th waits n × 40 ms.
    line.set_latency_with(Endpoint::Multicast, |n| Duration::from_millis(40 * n));
    for n in 0..3u64 {
        let started = Instant::now();
        let r = c.multicast(&[user(1)], "x", &key(10 + n as usize)).await;
        assert_eq!(status(r).await, 200);
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(40 * n), "{n}: {took:?}");
        assert!(took < Duration::from_millis(40 * n + 500), "{n}: {took:?}");
    }

    // A slow answer the client stops waiting for was still taken (as LINE may have).
    line.set_latency(Endpoint::Push, Duration::ZERO);
    line.script(Endpoint::Push, [Fault::Slow(Duration::from_millis(400))]);
    let impatient = Client::with_timeout(&line, Duration::from_millis(100));
    let e = impatient
        .push(&user(2), "late", &key(2))
        .await
        .expect_err("timed out");
    assert!(e.is_timeout(), "{e:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(line.deliveries().contains(&(user(2), "late".to_string())));
    let (s, _, body) = read(c.push(&user(2), "late", &key(2)).await).await;
    assert_eq!(s, 409, "{body}");
    assert_spec_kept(&line);
}

#[tokio::test]
async fn an_answer_that_never_comes_makes_the_client_time_out() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::with_timeout(&line, Duration::from_millis(300));
    line.script(Endpoint::Reply, [Fault::Hang]);
    line.script(Endpoint::Push, [Fault::Hang, Fault::AcceptThenHang]);
    let started = Instant::now();
    let e = c.reply("rt", "x").await.expect_err("no answer");
    assert!(e.is_timeout(), "{e:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let e = c.push(&user(1), "x", KEY_A).await.expect_err("no answer");
    assert!(e.is_timeout(), "{e:?}");
    assert!(
        line.deliveries().is_empty(),
        "a hang before taking delivers nothing"
    );
    let e = c.push(&user(1), "x", KEY_A).await.expect_err("no answer");
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(line.deliveries().len(), 1, "taken, then silence");
    let sent = line.received();
    assert!(sent.iter().all(|r| r.status == NO_ANSWER), "{sent:?}");
    // The token of the reply that hung was never used.
    assert_eq!(status(c.reply("rt", "x").await).await, 200);
    assert_eq!(line.replies_to("rt"), 2);
    assert_spec_kept(&line);
}

#[tokio::test]
async fn a_reset_closes_the_connection_without_an_answer() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::new(&line);
    line.script(
        Endpoint::Push,
        [
            Fault::ResetBeforeBody,
            Fault::ResetAfterBody,
            Fault::AcceptThenReset,
        ],
    );
    for (n, delivered) in [(1, 0), (2, 0), (3, 1)] {
        let started = Instant::now();
        let e = c
            .push(&user(1), "お知らせ", KEY_A)
            .await
            .expect_err("no answer");
        assert!(!e.is_timeout(), "{n}: a reset, not a timeout: {e:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{n}: at once");
        assert_eq!(line.deliveries().len(), delivered, "{n}");
    }
    let sent = line.received();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].body, Value::Null, "reset before the body was read");
    assert_eq!(sent[1].body["to"], json!(user(1)), "read, then reset");
    assert!(sent.iter().all(|r| r.status == NO_ANSWER));
    assert_eq!(
        sent.iter().map(|r| r.delivered).collect::<Vec<_>>(),
        [false, false, true]
    );

    // The answer was lost, but LINE took the request: the retry with the same key is a
    // 409 naming it, and nothing is delivered twice.
    let r = c.push(&user(1), "お知らせ", KEY_A).await.expect("answer");
    assert_eq!(r.status().as_u16(), 409);
    let accepted = header(&r, "x-line-accepted-request-id").expect("accepted request id");
    assert!(r.headers().contains_key("x-line-request-id"));
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["message"], "The retry key is already accepted");
    assert_eq!(body["sentMessages"].as_array().map(Vec::len), Some(1));
    assert!(accepted.starts_with("req-"), "{accepted}");
    assert_eq!(line.delivery_counts().values().sum::<usize>(), 1);
    // Resets work on replies and multicasts too.
    line.script(Endpoint::Reply, [Fault::ResetAfterBody]);
    line.script(Endpoint::Multicast, [Fault::ResetBeforeBody]);
    assert!(c.reply("rt", "x").await.is_err());
    assert!(c.multicast(&[user(1)], "x", KEY_B).await.is_err());
    assert_eq!(status(c.reply("rt", "x").await).await, 200);
    assert_spec_kept(&line);
}

#[tokio::test]
async fn a_retry_key_delivers_once_and_then_answers_409() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::new(&line);
    let first = c.push(&user(1), "一度だけ", KEY_A).await.expect("answer");
    assert_eq!(first.status().as_u16(), 200);
    let request_id = header(&first, "x-line-request-id").expect("request id");
    let sent: Value = first.json().await.expect("json");
    let again = c.push(&user(1), "一度だけ", KEY_A).await.expect("answer");
    assert_eq!(again.status().as_u16(), 409);
    assert_eq!(
        header(&again, "x-line-accepted-request-id"),
        Some(request_id)
    );
    let body: Value = again.json().await.expect("json");
    assert_eq!(body["sentMessages"], sent["sentMessages"]);
    // A multicast's 409 has no sentMessages, like its 200.
    let to = [user(1), user(2)];
    assert_eq!(read(c.multicast(&to, "m", KEY_B).await).await.2, json!({}));
    let (s, _, body) = read(c.multicast(&to, "m", KEY_B).await).await;
    assert_eq!(
        (s, body),
        (409, json!({"message": "The retry key is already accepted"}))
    );

    // Eight at once with one key: one is taken.
    let answers = at_once(8, |_| {
        let c = c.clone();
        async move { c.push(&user(3), "同時", &key(77)).await }
    })
    .await;
    let mut statuses: Vec<u16> = Vec::new();
    for a in answers {
        statuses.push(status(a).await);
    }
    statuses.sort();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    line.check_each_delivered_once([
        (user(1), "一度だけ"),
        (user(1), "m"),
        (user(2), "m"),
        (user(3), "同時"),
    ])
    .expect("each once");

    // A reply token is good for one reply.
    assert_eq!(status(c.reply("rt-1", "a").await).await, 200);
    let (s, _, body) = read(c.reply("rt-1", "b").await).await;
    assert_eq!((s, body), (400, json!({"message": "Invalid reply token"})));
    assert_eq!(line.replies(), ["a"]);
    assert_eq!(line.replies_to("rt-1"), 2);
    assert_spec_kept(&line);
}

/// Runs `n` requests at once, each on its own task.
async fn at_once<F, Fut>(n: usize, f: F) -> Vec<reqwest::Result<reqwest::Response>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("request task"));
    }
    out
}

#[tokio::test]
async fn its_own_rate_limit_refuses_above_n_per_sliding_second() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::new(&line);
    line.limit_rate(Endpoint::Multicast, 10);
    let started = Instant::now();
    let answers = at_once(30, |n| {
        let c = c.clone();
        async move { c.multicast(&[user(n)], "x", &key(n)).await }
    })
    .await;
    let mut ok = 0;
    for a in answers {
        match read(a).await {
            (200, _, _) => ok += 1,
            (429, after, body) => {
                assert_eq!(after, None);
                assert_eq!(body, json!({"message": "Too many requests"}));
            }
            other => panic!("{other:?}"),
        }
    }
    // All within the same second (a slow machine could let one window slide).
    if started.elapsed() < Duration::from_millis(900) {
        assert_eq!(ok, 10);
    }
    assert_eq!(line.max_in_one_second(Endpoint::Multicast), 30);
    assert_eq!(line.arrivals(Endpoint::Multicast).len(), 30);
    // A second later the window has room again; pushes were never limited.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        status(c.multicast(&[user(1)], "y", &key(100)).await).await,
        200
    );
    assert_eq!(status(c.push(&user(1), "y", &key(101)).await).await, 200);

    // A client paced at 5 a second never has more than 5 in any second.
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::new(&line);
    for n in 0..12 {
        assert_eq!(status(c.push(&user(n), "x", &key(n)).await).await, 200);
        tokio::time::sleep(Duration::from_millis(210)).await;
    }
    assert_eq!(line.max_in_one_second(Endpoint::Push), 5);
    assert_eq!(line.max_in_one_second(Endpoint::Reply), 0);
}

#[tokio::test]
async fn the_quota_endpoints_report_the_plan_and_the_month_ends_with_a_429() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::new(&line);
    let quota = "/v2/bot/message/quota";
    let consumption = "/v2/bot/message/quota/consumption";
    assert_eq!(
        c.get(quota, ACCESS_TOKEN).await,
        (200, json!({"type": "none"}))
    );
    assert_eq!(
        c.get(consumption, ACCESS_TOKEN).await,
        (200, json!({"totalUsage": 0}))
    );
    assert_eq!(c.get(quota, "wrong").await.0, 401);

    line.set_quota(Quota::Limited(10));
    assert_eq!(
        c.get(quota, ACCESS_TOKEN).await,
        (200, json!({"type": "limited", "value": 10}))
    );
    // Usage counts recipients, not message objects; replies are free.
    let four: Vec<String> = (0..4).map(user).collect();
    let two_messages = json!({"to": four, "messages": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]});
    let r = c
        .post(Endpoint::Multicast, two_messages, Some(&key(1)))
        .await;
    assert_eq!(status(r).await, 200);
    assert_eq!(status(c.reply("rt", "x").await).await, 200);
    assert_eq!(line.usage(), 4);
    let six: Vec<String> = (4..10).map(user).collect();
    assert_eq!(status(c.multicast(&six, "c", &key(2)).await).await, 200);
    assert_eq!(
        c.get(consumption, ACCESS_TOKEN).await,
        (200, json!({"totalUsage": 10}))
    );
    // The month is used up: sends are refused with LINE's monthly-limit 429 and deliver
    // nothing; replies still go.
    let (s, after, body) = read(c.push(&user(1), "d", &key(3)).await).await;
    assert_eq!(
        (s, after, body),
        (
            429,
            None,
            json!({"message": "You have reached your monthly limit."})
        )
    );
    assert_eq!(status(c.reply("rt-2", "x").await).await, 200);
    // A request that would go past the limit is refused whole.
    line.set_usage(8);
    let three: Vec<String> = (0..3).map(user).collect();
    assert_eq!(status(c.multicast(&three, "e", &key(4)).await).await, 429);
    assert_eq!(
        status(c.multicast(&three[..2], "e", &key(4)).await).await,
        200
    );
    assert_eq!(line.usage(), 10);
    // A new month.
    line.set_usage(0);
    assert_eq!(status(c.push(&user(1), "d", &key(3)).await).await, 200);
    assert_eq!(line.usage(), 1);
    assert_eq!(line.deliveries().len(), 4 * 2 + 6 + 2 + 1);
    assert_spec_kept(&line);
}

#[tokio::test]
async fn deliveries_are_counted_per_resident_and_text_by_the_thousand() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::new(&line);
    let residents: Vec<String> = (0..2000).map(user).collect();
    let started = Instant::now();
    for (n, chunk) in residents.chunks(500).enumerate() {
        assert_eq!(
            status(c.multicast(chunk, "今日のお知らせ", &key(n)).await).await,
            200
        );
    }
    let expected: Vec<(String, String)> = residents
        .iter()
        .map(|u| (u.clone(), "今日のお知らせ".to_string()))
        .collect();
    line.check_each_delivered_once(expected.clone())
        .expect("each once");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // One more to someone: repeated. One expected that never came: missing.
    assert_eq!(
        status(c.push(&user(7), "今日のお知らせ", &key(99)).await).await,
        200
    );
    let mut more = expected.clone();
    more.push((user(5000), "今日のお知らせ".to_string()));
    let e = line.check_each_delivered_once(more).expect_err("not once");
    assert!(e.contains("1 missing"), "{e}");
    assert!(e.contains("1 delivered more than once"), "{e}");
    assert!(e.contains("0 unexpected"), "{e}");
    assert_eq!(
        line.delivery_counts()
            .get(&(user(7), "今日のお知らせ".to_string())),
        Some(&2)
    );
    let e = line
        .check_each_delivered_once(expected[1..].to_vec())
        .expect_err("one more than expected");
    assert!(e.contains("1 unexpected"), "{e}");
}

#[tokio::test]
async fn spec_checks_come_first_and_keep_a_scripted_fault_for_the_next_valid_request() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let c = Client::new(&line);
    line.script(Endpoint::Push, [Fault::status(500)]);
    // No retry key: the spec wants one on a push.
    let body = json!({"to": user(1), "messages": text("x")});
    assert_eq!(status(c.post(Endpoint::Push, body, None).await).await, 400);
    assert_eq!(line.violations().len(), 1, "{:?}", line.violations());
    assert_eq!(status(c.push(&user(1), "x", KEY_A).await).await, 500);
}
