//! A fake LINE Messaging API on 127.0.0.1: records every request, rejects (400) and reports
//! any that breaks the spec, answers 401 to a token it does not (or no longer) accept, and
//! keeps LINE's rules: a push or multicast whose `X-Line-Retry-Key` was accepted before
//! answers 409 and delivers nothing, a reply token is good for one reply, and a channel on
//! a limited plan gets the monthly-limit 429 once its messages are used up
//! (`GET /v2/bot/message/quota` and `/quota/consumption` report the plan and the usage).
//! It has two listeners, as LINE has two hosts: `base_url` for the API and `data_url` for
//! uploads (the rich menu's image; see [`rich_menu`]).
//!
//! Tests can make it misbehave per endpoint ([`Endpoint`]): scripted [`Fault`]s for the next
//! requests (refusals, slow answers, no answer, a reset before or after reading the body,
//! before or after taking the request), seeded random [`Storm`]s, a latency, and a rate
//! limit of its own. Every request's arrival time is kept, to find the busiest second.
//!
//! ```ignore
//! line.script(Endpoint::Push, [Fault::too_many_requests(Some(1)), Fault::AcceptThenReset]);
//! line.limit_rate(Endpoint::Multicast, 200);
//! line.check_each_delivered_once(expected)?;
//! ```

mod conn;
mod faults;
mod messages;
mod rich_menu;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use shared::line::client::contract::Refusal;

pub use conn::Connection;
pub use faults::{Endpoint, Fault, Quota, Storm, max_in_window};
pub use rich_menu::{FakeImage, FakeRichMenu, RichMenuCall};

/// `Received::status` of a request that got no answer (its connection was cut, or it was
/// still unanswered when the fake stopped).
pub const NO_ANSWER: u16 = 0;

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Sent to the data host (`data_url`) rather than the API host.
    pub data_host: bool,
    pub retry_key: Option<String>,
    /// The bearer token it carried.
    pub token: Option<String>,
    pub body: Value,
    /// What the fake answered; [`NO_ANSWER`] if nothing (or nothing yet: a request is
    /// recorded when it has passed the checks, before any latency).
    pub status: u16,
    /// The fake took it: a reply or a message was delivered (even if the answer was lost).
    pub delivered: bool,
    /// When it arrived, from the fake's start.
    pub at: Duration,
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    violations: Vec<String>,
    /// Refusals for the next pushes and multicasts, whichever comes first.
    failures: VecDeque<Refusal>,
    /// Retry key → the request id LINE gave it and the ids of the messages it sent.
    accepted_keys: HashMap<String, (String, Vec<String>)>,
    /// Reply tokens already used by a reply.
    used_reply_tokens: HashSet<String>,
    /// Channel access tokens that are valid now.
    tokens: HashSet<String>,
    endpoints: faults::Endpoints,
    quota: Quota,
    /// Messages delivered by push and multicast this month (one per recipient per request).
    usage: u64,
    /// Requests answered so far, for request and message ids.
    requests: u64,
    rich: rich_menu::RichMenus,
}

struct Shared {
    inner: Mutex<Inner>,
    started: Instant,
    /// Turns true when the fake stops: requests left hanging give up then.
    closing: tokio::sync::watch::Sender<bool>,
}

pub struct FakeLine {
    /// The API host (`LINE_API_BASE`).
    pub base_url: String,
    /// The data host (`LINE_API_DATA_BASE`).
    pub data_url: String,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.inner.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeLine {
    pub async fn start(token: &str) -> FakeLine {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                tokens: HashSet::from([token.to_string()]),
                ..Inner::default()
            }),
            started: Instant::now(),
            closing: tokio::sync::watch::Sender::new(false),
        });
        let app = Router::new()
            .route("/v2/bot/message/quota", get(messages::quota))
            .route(
                "/v2/bot/message/quota/consumption",
                get(messages::consumption),
            )
            .route("/v2/bot/message/{kind}", post(messages::message))
            .route("/v2/bot/info", get(bot_info))
            .route("/v2/bot/richmenu", any(rich_menu::api))
            .route("/v2/bot/richmenu/{*rest}", any(rich_menu::api))
            .route("/v2/bot/user/all/richmenu", any(rich_menu::api))
            .route("/v2/bot/user/all/richmenu/{*rest}", any(rich_menu::api))
            .fallback(unexpected)
            .with_state(shared.clone());
        let data = Router::new()
            .fallback(rich_menu::data)
            .with_state(shared.clone());
        let listener = bind().await;
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let api_task = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<Connection>();
            let _ = axum::serve(conn::CuttableListener(listener), app).await;
        });
        let listener = bind().await;
        let data_url = format!("http://{}", listener.local_addr().expect("addr"));
        let data_task = tokio::spawn(async move {
            let _ = axum::serve(listener, data).await;
        });
        FakeLine {
            base_url,
            data_url,
            shared,
            tasks: vec![api_task, data_task],
        }
    }

    /// The next push/multicast requests are answered with these statuses, in order (for
    /// a particular message or `Retry-After`, use [`FakeLine::refuse_next_send`]).
    pub fn fail_next_sends(&self, statuses: &[u16]) {
        let refusals = statuses
            .iter()
            .map(|&status| Refusal::new(status, "simulated failure"));
        lock(&self.shared).failures.extend(refusals);
    }

    /// The next push/multicast request is answered with exactly this status, body message
    /// and `Retry-After`.
    pub fn refuse_next_send(&self, refusal: Refusal) {
        lock(&self.shared).failures.push_back(refusal);
    }

    /// From now on only these channel access tokens are valid (a rotation); others get 401.
    pub fn accept_only_tokens(&self, tokens: &[&str]) {
        lock(&self.shared).tokens = tokens.iter().map(|t| t.to_string()).collect();
    }

    /// The next requests to `endpoint` meet these faults, one each, in order; the ones
    /// after them are answered as usual (or by the storm).
    pub fn script(&self, endpoint: Endpoint, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.shared).endpoints.get(endpoint).script(faults);
    }

    /// Every request to `endpoint` from now on meets the storm's fault with its share.
    pub fn storm(&self, endpoint: Endpoint, storm: Storm) {
        lock(&self.shared)
            .endpoints
            .get(endpoint)
            .set_storm(Some(storm));
    }

    /// Every answer from `endpoint` takes `latency` more (`Duration::ZERO` for none).
    pub fn set_latency(&self, endpoint: Endpoint, latency: Duration) {
        let latency = (!latency.is_zero()).then(|| Arc::new(move |_| latency) as _);
        lock(&self.shared)
            .endpoints
            .get(endpoint)
            .set_latency(latency);
    }

    /// The answer to the `n`th request to `endpoint` (from 0) takes `latency(n)` more.
    pub fn set_latency_with(
        &self,
        endpoint: Endpoint,
        latency: impl Fn(u64) -> Duration + Send + Sync + 'static,
    ) {
        let latency: faults::LatencyFn = Arc::new(latency);
        let mut inner = lock(&self.shared);
        inner.endpoints.get(endpoint).set_latency(Some(latency));
    }

    /// At most `per_second` requests to `endpoint` in any sliding second are taken; the
    /// others are answered LINE's rate-limit 429 (`Too many requests`, no `Retry-After`).
    pub fn limit_rate(&self, endpoint: Endpoint, per_second: u32) {
        let mut inner = lock(&self.shared);
        inner
            .endpoints
            .get(endpoint)
            .set_rate_limit(Some(per_second));
    }

    /// `endpoint` behaves again: no script, storm, latency or rate limit (arrivals are kept).
    pub fn calm(&self, endpoint: Endpoint) {
        let mut inner = lock(&self.shared);
        let state = inner.endpoints.get(endpoint);
        let arrivals = std::mem::take(&mut state.arrivals);
        *state = faults::EndpointState::default();
        state.arrivals = arrivals;
    }

    /// The channel's plan. On `Quota::Limited(n)`, a push or multicast that would take
    /// this month's usage past `n` is refused whole with the monthly-limit 429.
    pub fn set_quota(&self, quota: Quota) {
        lock(&self.shared).quota = quota;
    }

    /// Sets this month's usage (messages already sent), e.g. to start near the limit;
    /// `set_usage(0)` starts a new month.
    pub fn set_usage(&self, messages: u64) {
        lock(&self.shared).usage = messages;
    }

    /// Messages delivered by push and multicast this month, as `totalUsage` reports it:
    /// one per recipient of each request, however many message objects it held.
    pub fn usage(&self) -> u64 {
        lock(&self.shared).usage
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared).received.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        lock(&self.shared).violations.clone()
    }

    /// Texts of delivered replies, one string per reply request.
    pub fn replies(&self) -> Vec<String> {
        self.received()
            .into_iter()
            .filter(|r| r.path.ends_with("/reply") && r.delivered)
            .map(|r| texts(&r.body).join("\n"))
            .collect()
    }

    /// Reply requests that carried `reply_token`, whatever their answer.
    pub fn replies_to(&self, reply_token: &str) -> usize {
        lock(&self.shared)
            .received
            .iter()
            .filter(|r| r.path == Endpoint::Reply.path() && r.body["replyToken"] == reply_token)
            .count()
    }

    /// (user id, text) for every message delivered by push or multicast, in arrival order.
    pub fn deliveries(&self) -> Vec<(String, String)> {
        let inner = lock(&self.shared);
        let mut out = Vec::new();
        for r in inner.received.iter().filter(|r| is_send(r) && r.delivered) {
            for text in texts(&r.body) {
                for user in recipients(&r.body) {
                    out.push((user, text.clone()));
                }
            }
        }
        out
    }

    /// How many times each (user id, text) was delivered by push or multicast.
    pub fn delivery_counts(&self) -> BTreeMap<(String, String), usize> {
        let mut counts = BTreeMap::new();
        for pair in self.deliveries() {
            *counts.entry(pair).or_insert(0) += 1;
        }
        counts
    }

    /// Each expected (user id, text) delivered exactly once and nothing else delivered;
    /// otherwise what is missing, repeated or unexpected.
    pub fn check_each_delivered_once<U: Into<String>, T: Into<String>>(
        &self,
        expected: impl IntoIterator<Item = (U, T)>,
    ) -> Result<(), String> {
        let expected: BTreeSet<(String, String)> = expected
            .into_iter()
            .map(|(u, t)| (u.into(), t.into()))
            .collect();
        let counts = self.delivery_counts();
        let missing: Vec<_> = expected
            .iter()
            .filter(|p| !counts.contains_key(*p))
            .collect();
        let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
        let unexpected: Vec<_> = counts.keys().filter(|p| !expected.contains(*p)).collect();
        if missing.is_empty() && repeated.is_empty() && unexpected.is_empty() {
            return Ok(());
        }
        let show =
            |what: &str, n: usize, sample: String| format!("{n} {what} (first ones: {sample})");
        Err([
            show(
                "missing",
                missing.len(),
                format!("{:?}", &missing[..missing.len().min(5)]),
            ),
            show(
                "delivered more than once",
                repeated.len(),
                format!("{:?}", &repeated[..repeated.len().min(5)]),
            ),
            show(
                "unexpected",
                unexpected.len(),
                format!("{:?}", &unexpected[..unexpected.len().min(5)]),
            ),
        ]
        .join("; "))
    }

    /// When each request to `endpoint` arrived, from the fake's start, in arrival order.
    pub fn arrivals(&self, endpoint: Endpoint) -> Vec<Duration> {
        lock(&self.shared).endpoints.arrivals(endpoint).to_vec()
    }

    /// The most requests to `endpoint` that arrived within any one second.
    pub fn max_in_one_second(&self, endpoint: Endpoint) -> usize {
        max_in_window(&self.arrivals(endpoint), Duration::from_secs(1))
    }
}

impl Drop for FakeLine {
    fn drop(&mut self) {
        self.shared.closing.send_replace(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn bind() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind fake LINE")
}

fn is_send(r: &Received) -> bool {
    r.path == Endpoint::Push.path() || r.path == Endpoint::Multicast.path()
}

/// The user ids a push (`to` a string) or multicast (`to` a list) went to.
fn recipients(body: &Value) -> Vec<String> {
    match &body["to"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

fn texts(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| {
                    // A Flex message reads as its alt text, which states the same in words.
                    m["text"]
                        .as_str()
                        .or_else(|| m["template"]["text"].as_str())
                        .or_else(|| m["altText"].as_str())
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The bot's own profile (`GET /v2/bot/info`), which the functions read once to warm up.
async fn bot_info(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> impl IntoResponse {
    if !headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7)
    {
        lock(&shared)
            .violations
            .push("/v2/bot/info without a bearer token".to_string());
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Authentication failed"})),
        );
    }
    (
        StatusCode::OK,
        axum::Json(json!({
            "userId": "Ub0000000000000000000000000000000",
            "basicId": "@sukusuku",
            "displayName": "すくすく",
            "chatMode": "bot",
            "markAsReadMode": "auto"
        })),
    )
}

async fn unexpected(uri: axum::http::Uri, State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    lock(&shared)
        .violations
        .push(format!("request to an unexpected path {}", uri.path()));
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": "Not found"})),
    )
}
