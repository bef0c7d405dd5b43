//! A fake LINE Messaging API on 127.0.0.1: records every request, rejects (400) and reports
//! any that breaks the spec, answers 401 to a token it does not (or no longer) accept and
//! 409 to a reused `X-Line-Retry-Key` as LINE does, and refuses the next sends as told.
//! It has two listeners, as LINE has two hosts: `base_url` for the API and `data_url` for
//! uploads (the rich menu's image; see [`rich_menu`]).

mod rich_menu;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, post};
use serde_json::{Value, json};
use shared::line::client::contract::Refusal;

use crate::spec::check_request;
pub use rich_menu::{FakeImage, FakeRichMenu, RichMenuCall};

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
    /// What the fake answered.
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    violations: Vec<String>,
    failures: VecDeque<Refusal>,
    /// Retry key → the request id LINE gave it.
    accepted_keys: HashMap<String, String>,
    /// Channel access tokens that are valid now.
    tokens: HashSet<String>,
    rich: rich_menu::RichMenus,
}

struct Shared {
    inner: Mutex<Inner>,
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
        });
        let app = Router::new()
            .route("/v2/bot/message/{kind}", post(message))
            .route("/v2/bot/info", axum::routing::get(bot_info))
            .route("/v2/bot/richmenu", any(rich_menu::api))
            .route("/v2/bot/richmenu/{*rest}", any(rich_menu::api))
            .route("/v2/bot/user/all/richmenu", any(rich_menu::api))
            .route("/v2/bot/user/all/richmenu/{*rest}", any(rich_menu::api))
            .fallback(unexpected)
            .with_state(shared.clone());
        let data = Router::new()
            .fallback(rich_menu::data)
            .with_state(shared.clone());
        let (base_url, api_task) = serve(app).await;
        let (data_url, data_task) = serve(data).await;
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

    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared).received.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        lock(&self.shared).violations.clone()
    }

    /// Texts of accepted replies, one string per reply request.
    pub fn replies(&self) -> Vec<String> {
        self.received()
            .into_iter()
            .filter(|r| r.path.ends_with("/reply") && r.status == 200)
            .map(|r| texts(&r.body).join("\n"))
            .collect()
    }

    /// (user id, text) for every message accepted by push or multicast, in arrival order.
    pub fn deliveries(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for r in self.received() {
            if r.status != 200
                || !r.path.starts_with("/v2/bot/message/")
                || r.path.ends_with("/reply")
            {
                continue;
            }
            let to: Vec<String> = match &r.body["to"] {
                Value::String(s) => vec![s.clone()],
                Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => vec![],
            };
            for text in texts(&r.body) {
                for user in &to {
                    out.push((user.clone(), text.clone()));
                }
            }
        }
        out
    }
}

impl Drop for FakeLine {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Serves `app` on a fresh loopback port: its base URL and the server task.
async fn serve(app: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind fake LINE");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
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

async fn message(
    Path(kind): Path<String>,
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let path = format!("/v2/bot/message/{kind}");
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let retry_key = header("x-line-retry-key");
    let bearer = header("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_string))
        .filter(|t| !t.is_empty());
    let mut inner = lock(&shared);
    let record = |inner: &mut Inner, body: Value, status: u16| {
        inner.received.push(Received {
            method: "POST".to_string(),
            path: path.clone(),
            data_host: false,
            retry_key: retry_key.clone(),
            token: bearer.clone(),
            body,
            status,
        });
    };
    let Ok(json_body) = serde_json::from_slice::<Value>(&body) else {
        inner.violations.push(format!("{path}: body is not JSON"));
        record(&mut inner, Value::Null, 400);
        return (
            StatusCode::BAD_REQUEST,
            HeaderMap::new(),
            axum::Json(json!({"message": "The request body has 1 error(s)"})),
        );
    };
    if let Some(token) = &bearer
        && !inner.tokens.contains(token)
    {
        record(&mut inner, json_body, 401);
        return (
            StatusCode::UNAUTHORIZED,
            HeaderMap::new(),
            axum::Json(
                json!({"message": "Authentication failed. Confirm that the access token in the authorization header is valid."}),
            ),
        );
    }
    let problems = check_request(
        &path,
        header("authorization").as_deref(),
        header("content-type").as_deref(),
        retry_key.as_deref(),
        &json_body,
        bearer.as_deref().unwrap_or_default(),
    );
    if !problems.is_empty() {
        inner
            .violations
            .extend(problems.iter().map(|p| format!("{path}: {p}")));
        record(&mut inner, json_body, 400);
        return (
            StatusCode::BAD_REQUEST,
            HeaderMap::new(),
            axum::Json(json!({"message": problems.join("; ")})),
        );
    }
    let request_id = format!("req-{:08x}", inner.received.len());
    if kind != "reply" {
        if let Some(refusal) = inner.failures.pop_front() {
            record(&mut inner, json_body, refusal.status);
            let code =
                StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut headers = HeaderMap::new();
            if let Some(after) = refusal.retry_after {
                headers.insert("retry-after", after.as_secs().into());
            }
            return (
                code,
                headers,
                axum::Json(json!({"message": refusal.message})),
            );
        }
        if let Some(key) = &retry_key {
            if let Some(accepted) = inner.accepted_keys.get(key).cloned() {
                record(&mut inner, json_body, 409);
                let mut headers = HeaderMap::new();
                if let Ok(v) = accepted.parse() {
                    headers.insert("x-line-accepted-request-id", v);
                }
                return (
                    StatusCode::CONFLICT,
                    headers,
                    axum::Json(json!({"message": "The retry key is already accepted"})),
                );
            }
            inner.accepted_keys.insert(key.clone(), request_id.clone());
        }
    }
    record(&mut inner, json_body, 200);
    let response = if kind == "multicast" {
        json!({})
    } else {
        json!({"sentMessages": [{"id": "461230966842064897"}]})
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = request_id.parse() {
        headers.insert("x-line-request-id", v);
    }
    (StatusCode::OK, headers, axum::Json(response))
}
