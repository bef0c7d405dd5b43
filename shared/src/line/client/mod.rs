//! The LINE API boundary: reply, push and multicast. [`HttpLineApi`] talks to
//! `$LINE_API_BASE/v2/bot/...`; [`MemoryLineApi`] records calls and can be told to fail. Both check messages against LINE's limits first and
//! pass the same [`contract`]; the HTTP one runs it against the fake LINE API in `tests/`.
//! [`RichMenuClient`] is the staff tool's client for the rich menu, on the same base URLs.

#[cfg(any(test, feature = "testing"))]
pub mod contract;
mod error;
mod http;
mod memory;
mod richmenu;
mod token;

use std::future::Future;

use sha2::{Digest, Sha256};

use super::limits;
use super::message::{Message, validate_messages};
use crate::domain::UserId;
pub use error::LineError;
pub use http::{HttpLineApi, HttpLineApiBuilder};
#[cfg(any(test, feature = "testing"))]
pub use memory::NullLineApi;
pub use memory::{LineCall, MemoryLineApi};
pub use richmenu::{RichMenuClient, RichMenuId, RichMenuSummary};
pub use token::{AccessTokenSource, TokenFuture};

/// Where every LINE call goes unless `LINE_API_BASE` says otherwise (`$base/v2/bot/...`).
pub const DEFAULT_API_BASE: &str = "https://api.line.me";
/// Where uploads (the rich menu's image) go unless `LINE_API_DATA_BASE` says otherwise.
pub const DEFAULT_DATA_BASE: &str = "https://api-data.line.me";

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

/// The channel's messages for this month, from `/v2/bot/message/quota` and
/// `/v2/bot/message/quota/consumption`. A municipal plan (地方公共団体プラン) has no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// `None`: LINE reports no limit (`"type": "none"`).
    pub limit: Option<u64>,
    /// Messages sent so far this month (one per recipient of a push or multicast).
    pub used: u64,
}

impl Quota {
    pub const UNLIMITED: Quota = Quota {
        limit: None,
        used: 0,
    };
}

/// What sukusuku sends to LINE. Operator and test helpers (recorded calls, queued failures)
/// live on the implementations, never here.
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

    /// This month's message quota and how much of it is used.
    fn quota(&self) -> impl Future<Output = Result<Quota, LineError>> + Send;
}

/// What LINE would reject, caught before the request: 1–5 valid messages and, for a
/// multicast, 1–500 recipients. Every `LineApi` implementation checks this first.
pub fn check_request(
    messages: &[Message],
    multicast_to: Option<&[UserId]>,
) -> Result<(), LineError> {
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
}
