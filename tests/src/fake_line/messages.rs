//! The fake's message endpoints (`/v2/bot/message/{reply,push,multicast}`) with the faults a
//! test asked for, and the quota endpoints. A request goes: arrival (recorded; a scripted
//! reset before the body happens here) → body, token and spec checks → refusals queued by
//! `fail_next_sends` → the rate limit → the scripted or storm fault and the latency → LINE's
//! own rules (a used retry key or reply token, the monthly limit) → delivery.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use shared::line::client::contract::Refusal;

use super::faults::Decision;
use super::{Connection, Endpoint, Fault, Inner, NO_ANSWER, Quota, Received, Shared, lock};
use crate::spec::check_request;

/// LINE's answer to a push or multicast whose retry key it accepted before.
const RETRY_KEY_ACCEPTED: &str = "The retry key is already accepted";
/// LINE's answer to a second reply with the same reply token.
const INVALID_REPLY_TOKEN: &str = "Invalid reply token";
/// The first message id handed out; LINE's ids are decimal strings like this one.
const FIRST_MESSAGE_ID: u64 = 461_230_966_842_064_897;

type Answer = (StatusCode, HeaderMap, Json<Value>);

fn answer(status: u16, body: Value) -> Answer {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, HeaderMap::new(), Json(body))
}

fn refused(refusal: &Refusal) -> Answer {
    let mut a = answer(refusal.status, json!({"message": refusal.message}));
    if let Some(after) = refusal.retry_after {
        a.1.insert("retry-after", after.as_secs().into());
    }
    a
}

/// Every answer carries a request id, as LINE's do.
fn with_request_id(inner: &mut Inner, mut a: Answer) -> Response {
    inner.requests += 1;
    if let Ok(v) = HeaderValue::from_str(&request_id(inner.requests)) {
        a.1.insert("x-line-request-id", v);
    }
    a.into_response()
}

fn request_id(n: u64) -> String {
    format!("req-{n:08x}")
}

fn record(inner: &mut Inner, r: &Received, status: u16, delivered: bool) {
    inner.received.push(Received {
        status,
        delivered,
        ..r.clone()
    });
}

/// What a handler returns after cutting its connection: it never reaches the client.
fn no_answer() -> Response {
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// Waits until the fake stops: a request that is never answered.
async fn hang(shared: &Shared) {
    let mut closing = shared.closing.subscribe();
    let _ = closing.wait_for(|stop| *stop).await;
}

pub(super) async fn message(
    Path(kind): Path<String>,
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Connection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let arrived = Instant::now();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let bearer = header("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_string))
        .filter(|t| !t.is_empty());
    let mut received = Received {
        method: "POST".to_string(),
        path: format!("/v2/bot/message/{kind}"),
        data_host: false,
        retry_key: header("x-line-retry-key"),
        token: bearer.clone(),
        body: Value::Null,
        status: NO_ANSWER,
        delivered: false,
        at: arrived.duration_since(shared.started),
    };
    let endpoint = Endpoint::of_kind(&kind);
    // The request's number at its endpoint, for a per-request latency.
    let mut nth = 0;
    if let Some(endpoint) = endpoint {
        let mut inner = lock(&shared);
        let state = inner.endpoints.get(endpoint);
        state.arrivals.push(received.at);
        nth = state.arrivals.len() as u64 - 1;
        if state.take_reset_before_body() {
            record(&mut inner, &received, NO_ANSWER, false);
            conn.cut();
            return no_answer();
        }
    }
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        // The client went away while sending.
        return no_answer();
    };

    // The checks and the decision, under the lock; the waiting comes after.
    let checked = check(
        &shared,
        &mut received,
        endpoint,
        &headers,
        &bytes,
        arrived,
        nth,
    );
    let (endpoint, decision, at) = match checked {
        Checked::Passed(endpoint, decision, at) => (endpoint, decision, at),
        Checked::Answered(response) => return response,
    };

    // Once the request is in, it is processed even if the client stops waiting, as LINE
    // would: the client leaving drops this handler, not the task.
    let task = tokio::spawn(finish(shared, conn, endpoint, decision, received, at));
    task.await.unwrap_or_else(|_| no_answer())
}

/// Waits as told, then refuses, cuts, hangs or takes the request.
async fn finish(
    shared: Arc<Shared>,
    conn: Connection,
    endpoint: Endpoint,
    decision: Decision,
    received: Received,
    at: usize,
) -> Response {
    let slow = match &decision.fault {
        Some(Fault::Slow(d)) => *d,
        _ => std::time::Duration::ZERO,
    };
    let delay = decision.latency + slow;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match &decision.fault {
        Some(Fault::Refuse(refusal)) => {
            let mut inner = lock(&shared);
            inner.received[at].status = refusal.status;
            return with_request_id(&mut inner, refused(refusal));
        }
        Some(Fault::ResetAfterBody) => {
            conn.cut();
            return no_answer();
        }
        Some(Fault::Hang) => {
            hang(&shared).await;
            conn.cut();
            return no_answer();
        }
        _ => {}
    }

    let answered = !matches!(
        decision.fault,
        Some(Fault::AcceptThenReset | Fault::AcceptThenHang)
    );
    let response = {
        let mut inner = lock(&shared);
        let (a, delivered) = take(&mut inner, endpoint, &received);
        let recorded = &mut inner.received[at];
        recorded.delivered = delivered;
        if answered {
            recorded.status = a.0.as_u16();
        }
        with_request_id(&mut inner, a)
    };
    match decision.fault {
        Some(Fault::AcceptThenReset) => {
            conn.cut();
            no_answer()
        }
        Some(Fault::AcceptThenHang) => {
            hang(&shared).await;
            conn.cut();
            no_answer()
        }
        _ => response,
    }
}

/// What the checks made of a request: answered already, or passed on to its endpoint with
/// what it meets and where it is recorded.
enum Checked {
    Answered(Response),
    Passed(Endpoint, Decision, usize),
}

/// The spec and token checks, the queued refusals and the rate limit: the answer if one of
/// them refuses the request, else its endpoint, what it meets and where it is recorded.
fn check(
    shared: &Shared,
    received: &mut Received,
    endpoint: Option<Endpoint>,
    headers: &HeaderMap,
    bytes: &[u8],
    arrived: Instant,
    nth: u64,
) -> Checked {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let bearer = received.token.clone();
    let mut inner = lock(shared);
    let path = received.path.clone();
    let Ok(json_body) = serde_json::from_slice::<Value>(bytes) else {
        inner.violations.push(format!("{path}: body is not JSON"));
        record(&mut inner, received, 400, false);
        let a = answer(400, json!({"message": "The request body has 1 error(s)"}));
        return Checked::Answered(with_request_id(&mut inner, a));
    };
    received.body = json_body;
    if let Some(token) = &bearer
        && !inner.tokens.contains(token)
    {
        record(&mut inner, received, 401, false);
        let a = answer(
            401,
            json!({"message": "Authentication failed. Confirm that the access token in the authorization header is valid."}),
        );
        return Checked::Answered(with_request_id(&mut inner, a));
    }
    let problems = check_request(
        &path,
        header("authorization").as_deref(),
        header("content-type").as_deref(),
        received.retry_key.as_deref(),
        &received.body,
        bearer.as_deref().unwrap_or_default(),
    );
    let Some(endpoint) = endpoint.filter(|_| problems.is_empty()) else {
        inner
            .violations
            .extend(problems.iter().map(|p| format!("{path}: {p}")));
        record(&mut inner, received, 400, false);
        let a = answer(400, json!({"message": problems.join("; ")}));
        return Checked::Answered(with_request_id(&mut inner, a));
    };
    if endpoint != Endpoint::Reply
        && let Some(refusal) = inner.failures.pop_front()
    {
        record(&mut inner, received, refusal.status, false);
        return Checked::Answered(with_request_id(&mut inner, refused(&refusal)));
    }
    let state = inner.endpoints.get(endpoint);
    if !state.admit(arrived) {
        let refusal = Refusal::too_many_requests(None);
        record(&mut inner, received, refusal.status, false);
        return Checked::Answered(with_request_id(&mut inner, refused(&refusal)));
    }
    let decision = state.decide(nth);
    // Recorded now, unanswered: a test sees the request while it waits or hangs.
    record(&mut inner, received, NO_ANSWER, false);
    let at = inner.received.len() - 1;
    Checked::Passed(endpoint, decision, at)
}

/// LINE's own rules for a valid request, and the delivery: the answer and whether the
/// request was taken. The request id handed out is the one `with_request_id` gives next.
fn take(inner: &mut Inner, endpoint: Endpoint, r: &Received) -> (Answer, bool) {
    let request = request_id(inner.requests + 1);
    let count = r.body["messages"].as_array().map_or(0, Vec::len) as u64;
    let first = FIRST_MESSAGE_ID + inner.requests * 5;
    let ids: Vec<String> = (first..first + count).map(|id| id.to_string()).collect();
    let sent = |ids: &[String]| -> Value { ids.iter().map(|id| json!({"id": id})).collect() };
    if endpoint == Endpoint::Reply {
        let token = r.body["replyToken"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !inner.used_reply_tokens.insert(token) {
            return (answer(400, json!({"message": INVALID_REPLY_TOKEN})), false);
        }
        return (answer(200, json!({"sentMessages": sent(&ids)})), true);
    }
    if let Some(key) = &r.retry_key
        && let Some((accepted, ids)) = inner.accepted_keys.get(key)
    {
        let mut body = json!({"message": RETRY_KEY_ACCEPTED});
        if endpoint == Endpoint::Push {
            body["sentMessages"] = sent(ids);
        }
        let mut a = answer(409, body);
        if let Ok(v) = HeaderValue::from_str(accepted) {
            a.1.insert("x-line-accepted-request-id", v);
        }
        return (a, false);
    }
    let recipients = super::recipients(&r.body).len() as u64;
    if let Quota::Limited(limit) = inner.quota
        && inner.usage + recipients > limit
    {
        return (refused(&Refusal::monthly_limit()), false);
    }
    inner.usage += recipients;
    if let Some(key) = &r.retry_key {
        inner
            .accepted_keys
            .insert(key.clone(), (request, ids.clone()));
    }
    let body = match endpoint {
        Endpoint::Multicast => json!({}),
        _ => json!({"sentMessages": sent(&ids)}),
    };
    (answer(200, body), true)
}

/// `GET /v2/bot/message/quota`: the plan's monthly limit.
pub(super) async fn quota(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    quota_call(
        &shared,
        &headers,
        "/v2/bot/message/quota",
        |inner| match inner.quota {
            Quota::Unlimited => json!({"type": "none"}),
            Quota::Limited(n) => json!({"type": "limited", "value": n}),
        },
    )
}

/// `GET /v2/bot/message/quota/consumption`: messages sent this month.
pub(super) async fn consumption(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let path = "/v2/bot/message/quota/consumption";
    quota_call(
        &shared,
        &headers,
        path,
        |inner| json!({"totalUsage": inner.usage}),
    )
}

fn quota_call(
    shared: &Shared,
    headers: &HeaderMap,
    path: &str,
    body: impl Fn(&Inner) -> Value,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let mut inner = lock(shared);
    let received = Received {
        method: "GET".to_string(),
        path: path.to_string(),
        data_host: false,
        retry_key: None,
        token: bearer.clone(),
        body: Value::Null,
        status: NO_ANSWER,
        delivered: false,
        at: shared.started.elapsed(),
    };
    let a = match &bearer {
        None => {
            inner
                .violations
                .push(format!("{path} without a bearer token"));
            answer(401, json!({"message": "Authentication failed"}))
        }
        Some(token) if !inner.tokens.contains(token) => {
            answer(401, json!({"message": "Authentication failed"}))
        }
        Some(_) => answer(200, body(&inner)),
    };
    record(&mut inner, &received, a.0.as_u16(), false);
    with_request_id(&mut inner, a)
}
