//! The LINE API boundary: reply, push and multicast. [`HttpLineApi`] talks to
//! `$LINE_API_BASE/v2/bot/...`; [`MemoryLineApi`] records calls for tests and can be told
//! to fail. Both check messages against LINE's limits first.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::limits;
use super::message::{Message, validate_messages};
use crate::domain::UserId;

/// `X-Line-Retry-Key`: a UUID derived from the delivery job, so a retry of the same job
/// reuses it and LINE accepts the job at most once within 24 h.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryKey(String);

impl RetryKey {
    /// Name-based UUID (RFC 9562 version 8, SHA-256 of the name): same name, same key.
    pub fn derive(name: &str) -> RetryKey {
        let digest = Sha256::digest(name.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest[..16]);
        b[6] = (b[6] & 0x0f) | 0x80;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        RetryKey(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How LINE took a push or multicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Now,
    /// 409: a request with this retry key was already accepted. Success, not an error.
    Earlier,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LineError {
    #[error("LINE API answered {status}: {message}")]
    Status {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("could not reach the LINE API: {0}")]
    Transport(String),
    #[error("request breaks a LINE limit: {0}")]
    Invalid(String),
}

impl LineError {
    /// 429, 5xx and transport failures may succeed later; other 4xx never will.
    pub fn is_retryable(&self) -> bool {
        match self {
            LineError::Status { status, .. } => *status == 429 || *status >= 500,
            LineError::Transport(_) => true,
            LineError::Invalid(_) => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LineError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

pub trait LineApi: Send + Sync {
    fn reply(
        &self,
        reply_token: &str,
        messages: &[Message],
    ) -> impl Future<Output = Result<(), LineError>> + Send;

    fn push(
        &self,
        to: &UserId,
        messages: &[Message],
        retry_key: &RetryKey,
    ) -> impl Future<Output = Result<Accepted, LineError>> + Send;

    fn multicast(
        &self,
        to: &[UserId],
        messages: &[Message],
        retry_key: &RetryKey,
    ) -> impl Future<Output = Result<Accepted, LineError>> + Send;
}

/// What LINE would reject, caught before the request: 1–5 valid messages and, for a
/// multicast, 1–500 recipients.
fn check_request(messages: &[Message], multicast_to: Option<&[UserId]>) -> Result<(), LineError> {
    validate_messages(messages).map_err(LineError::Invalid)?;
    if let Some(to) = multicast_to
        && (to.is_empty() || to.len() > limits::MAX_MULTICAST_RECIPIENTS)
    {
        return Err(LineError::Invalid(format!(
            "multicast to {} users; LINE takes 1–{}",
            to.len(),
            limits::MAX_MULTICAST_RECIPIENTS
        )));
    }
    Ok(())
}

/// The real client.
#[derive(Clone)]
pub struct HttpLineApi {
    client: reqwest::Client,
    base: String,
    access_token: String,
}

impl HttpLineApi {
    pub fn new(base: &str, access_token: &str) -> Result<HttpLineApi, LineError> {
        let client = reqwest::Client::builder()
            // LINE answers in well under a second; a stuck call must not hold a reply token
            // or a queue message for long.
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| LineError::Transport(e.to_string()))?;
        Ok(HttpLineApi {
            client,
            base: base.trim_end_matches('/').to_string(),
            access_token: access_token.to_string(),
        })
    }

    /// Opens the TLS connection during a function's init with a harmless read
    /// (`GET /v2/bot/info`), so the first reply of a cold start does not pay for it.
    /// Failures are only logged: the real calls report their own errors.
    pub async fn warm(&self) {
        let result = self
            .client
            .get(format!("{}/v2/bot/info", self.base))
            .bearer_auth(&self.access_token)
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

    async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
        retry_key: Option<&RetryKey>,
    ) -> Result<Accepted, LineError> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.access_token)
            .json(&body);
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
        Err(LineError::Status {
            status,
            message,
            retry_after,
        })
    }
}

/// reqwest errors can carry the URL; keep messages free of anything but the cause.
fn without_url(e: reqwest::Error) -> String {
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
        self.post("/v2/bot/message/reply", body, None)
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
        self.post("/v2/bot/message/push", body, Some(retry_key))
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
        self.post("/v2/bot/message/multicast", body, Some(retry_key))
            .await
    }
}

/// One call made to [`MemoryLineApi`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineCall {
    Reply {
        reply_token: String,
        messages: Vec<Message>,
    },
    Push {
        to: UserId,
        messages: Vec<Message>,
        retry_key: String,
    },
    Multicast {
        to: Vec<UserId>,
        messages: Vec<Message>,
        retry_key: String,
    },
}

/// In-memory LINE: records every accepted call, answers 409 for a reused retry key like
/// LINE does, and fails the next calls with errors queued by [`MemoryLineApi::fail_next`].
#[derive(Default)]
pub struct MemoryLineApi {
    calls: Mutex<Vec<LineCall>>,
    failures: Mutex<VecDeque<LineError>>,
    accepted_keys: Mutex<std::collections::HashSet<String>>,
}

impl MemoryLineApi {
    pub fn new() -> MemoryLineApi {
        MemoryLineApi::default()
    }

    pub fn fail_next(&self, error: LineError) {
        lock(&self.failures).push_back(error);
    }

    pub fn calls(&self) -> Vec<LineCall> {
        lock(&self.calls).clone()
    }

    pub fn take_calls(&self) -> Vec<LineCall> {
        std::mem::take(&mut *lock(&self.calls))
    }

    fn record(&self, call: LineCall, key: Option<&RetryKey>) -> Result<Accepted, LineError> {
        if let Some(error) = lock(&self.failures).pop_front() {
            return Err(error);
        }
        if let Some(key) = key
            && !lock(&self.accepted_keys).insert(key.as_str().to_string())
        {
            return Ok(Accepted::Earlier);
        }
        lock(&self.calls).push(call);
        Ok(Accepted::Now)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere must not wedge the test double.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LineApi for MemoryLineApi {
    async fn reply(&self, reply_token: &str, messages: &[Message]) -> Result<(), LineError> {
        check_request(messages, None)?;
        let call = LineCall::Reply {
            reply_token: reply_token.to_string(),
            messages: messages.to_vec(),
        };
        self.record(call, None).map(|_| ())
    }

    async fn push(
        &self,
        to: &UserId,
        messages: &[Message],
        retry_key: &RetryKey,
    ) -> Result<Accepted, LineError> {
        check_request(messages, None)?;
        let call = LineCall::Push {
            to: to.clone(),
            messages: messages.to_vec(),
            retry_key: retry_key.as_str().to_string(),
        };
        self.record(call, Some(retry_key))
    }

    async fn multicast(
        &self,
        to: &[UserId],
        messages: &[Message],
        retry_key: &RetryKey,
    ) -> Result<Accepted, LineError> {
        check_request(messages, Some(to))?;
        let call = LineCall::Multicast {
            to: to.to_vec(),
            messages: messages.to_vec(),
            retry_key: retry_key.as_str().to_string(),
        };
        self.record(call, Some(retry_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_keys_are_stable_uuids() {
        let a = RetryKey::derive("job-1");
        assert_eq!(a, RetryKey::derive("job-1"));
        assert_ne!(a, RetryKey::derive("job-2"));
        let s = a.as_str();
        assert_eq!(s.len(), 36);
        let groups: Vec<usize> = s.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12]);
        assert!(s.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(&s[14..15], "8");
    }

    #[test]
    fn retryable_means_429_5xx_or_transport() {
        let status = |s| LineError::Status {
            status: s,
            message: String::new(),
            retry_after: None,
        };
        assert!(status(429).is_retryable());
        assert!(status(500).is_retryable());
        assert!(status(503).is_retryable());
        assert!(!status(400).is_retryable());
        assert!(!status(403).is_retryable());
        assert!(LineError::Transport("x".into()).is_retryable());
        assert!(!LineError::Invalid("x".into()).is_retryable());
    }
}
