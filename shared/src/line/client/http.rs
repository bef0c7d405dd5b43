//! The real client: HTTPS to `$LINE_API_BASE/v2/bot/message/...` with the channel access
//! token. A 401 makes it read the token again from its [`AccessTokenSource`] (if it has one)
//! and repeat the call once; every call is bounded by a total timeout chosen per kind of
//! call, so a webhook's reply can be held well inside LINE's 2 seconds while the sender
//! keeps a patient one.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::token::{AccessToken, AccessTokenSource};
use super::{Accepted, LineApi, LineError, Quota, RetryKey, check_request};
use crate::domain::UserId;
use crate::line::message::Message;

/// LINE answers in well under a second; a stuck call must not hold a reply token or a
/// queue message for long.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The warm-up is only an optimisation: a slow LINE must not hold a cold start for long.
const WARM_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct HttpLineApi {
    client: reqwest::Client,
    base: String,
    token: Arc<AccessToken>,
    reply_timeout: Duration,
    send_timeout: Duration,
}

/// Settings for [`HttpLineApi`] beyond the base URL and the token.
pub struct HttpLineApiBuilder {
    base: String,
    token: String,
    source: Option<Box<dyn AccessTokenSource>>,
    connect_timeout: Duration,
    reply_timeout: Duration,
    send_timeout: Duration,
}

impl HttpLineApiBuilder {
    /// Where to read the token again when LINE refuses it (401). Without one, a 401 is final.
    pub fn reread_token_from(mut self, source: impl AccessTokenSource + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Time to open a connection (default 3 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Total time for one reply call, a token re-read and its repeat included (default 10 s).
    pub fn reply_timeout(mut self, timeout: Duration) -> Self {
        self.reply_timeout = timeout;
        self
    }

    /// Total time for one push or multicast call, as for replies (default 10 s).
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    pub fn build(self) -> Result<HttpLineApi, LineError> {
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|e| LineError::Transport(e.to_string()))?;
        Ok(HttpLineApi {
            client,
            base: self.base.trim_end_matches('/').to_string(),
            token: Arc::new(AccessToken::new(&self.token, self.source)),
            reply_timeout: self.reply_timeout,
            send_timeout: self.send_timeout,
        })
    }
}

impl HttpLineApi {
    /// A client with a fixed token and the default timeouts.
    pub fn new(base: &str, access_token: &str) -> Result<HttpLineApi, LineError> {
        HttpLineApi::builder(base, access_token).build()
    }

    pub fn builder(base: &str, access_token: &str) -> HttpLineApiBuilder {
        HttpLineApiBuilder {
            base: base.to_string(),
            token: access_token.to_string(),
            source: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            reply_timeout: DEFAULT_CALL_TIMEOUT,
            send_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// Opens the TLS connection during a function's init with a harmless read
    /// (`GET /v2/bot/info`), so the first reply of a cold start does not pay for it.
    /// Failures are only logged: the real calls report their own errors.
    pub async fn warm(&self) {
        let result = self
            .client
            .get(format!("{}/v2/bot/info", self.base))
            .bearer_auth(&*self.token.current())
            .timeout(self.send_timeout.min(WARM_TIMEOUT))
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => tracing::warn!(
                status = r.status().as_u16(),
                "LINE bot info answered an error; check the access token"
            ),
            Err(e) => tracing::warn!(error = %e, "LINE is not reachable yet"),
        }
    }

    /// One call within `timeout`: a refused token is read again once and the call repeated.
    async fn call(
        &self,
        path: &str,
        body: serde_json::Value,
        retry_key: Option<&RetryKey>,
        timeout: Duration,
    ) -> Result<Accepted, LineError> {
        let attempt = async {
            let token = self.token.current();
            match self.post(path, &body, retry_key, &token).await {
                Err(e) if e.is_unauthorized() => match self.token.renew(&token).await? {
                    // LINE did not accept the refused request, so the retry key is unused.
                    Some(fresh) => self.post(path, &body, retry_key, &fresh).await,
                    None => Err(e),
                },
                other => other,
            }
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(LineError::Transport(format!(
                    "timed out: no answer within {} ms",
                    timeout.as_millis()
                )))
            })
    }

    async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
        retry_key: Option<&RetryKey>,
        token: &str,
    ) -> Result<Accepted, LineError> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = retry_key {
            request = request.header("X-Line-Retry-Key", key.as_str());
        }
        let response = request
            .send()
            .await
            .map_err(|e| LineError::Transport(without_url(e)))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(Accepted::Now);
        }
        if status == 409 && retry_key.is_some() {
            return Ok(Accepted::Earlier);
        }
        Err(refusal(response).await)
    }
}

impl HttpLineApi {
    /// A GET whose JSON answer is read, within the send timeout.
    async fn get_json(&self, path: &str) -> Result<serde_json::Value, LineError> {
        let attempt = async {
            let response = self
                .client
                .get(format!("{}{path}", self.base))
                .bearer_auth(&*self.token.current())
                .send()
                .await
                .map_err(|e| LineError::Transport(without_url(e)))?;
            if !response.status().is_success() {
                return Err(refusal(response).await);
            }
            response
                .json::<serde_json::Value>()
                .await
                .map_err(|e| LineError::Unexpected(format!("{path}: {}", e.without_url())))
        };
        tokio::time::timeout(self.send_timeout, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(LineError::Transport(format!(
                    "timed out: no answer within {} ms",
                    self.send_timeout.as_millis()
                )))
            })
    }
}

/// `{"type":"none"}` or `{"type":"limited","value":N}` and `{"totalUsage":N}` as a [`Quota`].
fn parse_quota(
    quota: &serde_json::Value,
    consumption: Option<&serde_json::Value>,
) -> Result<Quota, LineError> {
    match quota.get("type").and_then(|t| t.as_str()) {
        Some("none") => Ok(Quota::UNLIMITED),
        Some("limited") => {
            let limit = quota.get("value").and_then(|v| v.as_u64()).ok_or_else(|| {
                LineError::Unexpected("quota of type `limited` without a `value`".into())
            })?;
            let used = consumption
                .and_then(|c| c.get("totalUsage"))
                .and_then(|v| v.as_u64())
                .ok_or_else(|| {
                    LineError::Unexpected("quota consumption without `totalUsage`".into())
                })?;
            Ok(Quota {
                limit: Some(limit),
                used,
            })
        }
        other => Err(LineError::Unexpected(format!(
            "quota `type` is {other:?}, not `none` or `limited`"
        ))),
    }
}

/// A LINE answer outside 2xx as an error: the status, LINE's `message` (or the start of
/// the body) and `Retry-After`.
pub(super) async fn refusal(response: reqwest::Response) -> LineError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| text.chars().take(200).collect());
    LineError::Status {
        status,
        message,
        retry_after,
    }
}

/// reqwest errors can carry the URL; keep messages free of anything but the cause.
pub(super) fn without_url(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    format!("{kind}: {}", e.without_url())
}

impl LineApi for HttpLineApi {
    async fn reply(&self, reply_token: &str, messages: &[Message]) -> Result<(), LineError> {
        check_request(messages, None)?;
        let body = json!({"replyToken": reply_token, "messages": messages});
        self.call("/v2/bot/message/reply", body, None, self.reply_timeout)
            .await
            .map(|_| ())
    }

    async fn push(
        &self,
        to: &UserId,
        messages: &[Message],
        retry_key: &RetryKey,
    ) -> Result<Accepted, LineError> {
        check_request(messages, None)?;
        let body = json!({"to": to.as_str(), "messages": messages});
        self.call(
            "/v2/bot/message/push",
            body,
            Some(retry_key),
            self.send_timeout,
        )
        .await
    }

    async fn multicast(
        &self,
        to: &[UserId],
        messages: &[Message],
        retry_key: &RetryKey,
    ) -> Result<Accepted, LineError> {
        check_request(messages, Some(to))?;
        let ids: Vec<&str> = to.iter().map(UserId::as_str).collect();
        let body = json!({"to": ids, "messages": messages});
        self.call(
            "/v2/bot/message/multicast",
            body,
            Some(retry_key),
            self.send_timeout,
        )
        .await
    }

    async fn quota(&self) -> Result<Quota, LineError> {
        let quota = self.get_json("/v2/bot/message/quota").await?;
        // The consumption is only worth a request when there is a limit to compare it with.
        let consumption = if quota.get("type").and_then(|t| t.as_str()) == Some("limited") {
            Some(self.get_json("/v2/bot/message/quota/consumption").await?)
        } else {
            None
        };
        parse_quota(&quota, consumption.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_read_as_line_writes_them() {
        let none = serde_json::json!({"type": "none"});
        assert_eq!(parse_quota(&none, None), Ok(Quota::UNLIMITED));
        let limited = serde_json::json!({"type": "limited", "value": 5000});
        let used = serde_json::json!({"totalUsage": 4200});
        assert_eq!(
            parse_quota(&limited, Some(&used)),
            Ok(Quota {
                limit: Some(5000),
                used: 4200
            })
        );
        for (q, c) in [
            (serde_json::json!({"type": "limited"}), Some(used.clone())),
            (limited.clone(), None),
            (limited.clone(), Some(serde_json::json!({"total": 1}))),
            (serde_json::json!({"type": "unknown"}), None),
            (serde_json::json!([]), None),
        ] {
            assert!(
                matches!(parse_quota(&q, c.as_ref()), Err(LineError::Unexpected(_))),
                "{q} {c:?}"
            );
        }
    }

    /// A LINE that accepts the connection and never answers delays a cold start by at most
    /// the warm-up bound, not the 10 s a send may take.
    #[tokio::test]
    async fn warming_up_gives_up_on_a_silent_line_quickly() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let line = HttpLineApi::new(&format!("http://{addr}"), "token").expect("client");
        // Generous against a busy machine, and still far below the 10 s send timeout.
        tokio::time::timeout(Duration::from_secs(5), line.warm())
            .await
            .expect("warm() gave up by itself");
    }
}
