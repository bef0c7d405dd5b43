//! In-memory LINE: records every accepted call, answers like LINE does to a reused retry
//! key (409, i.e. [`Accepted::Earlier`]), and fails the next calls with errors queued by
//! [`MemoryLineApi::fail_next`]. Those helpers are on the struct, not on [`LineApi`].

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use super::{Accepted, LineApi, LineError, Quota, RetryKey, check_request};
use crate::domain::UserId;
use crate::line::message::Message;

/// One call accepted by [`MemoryLineApi`].
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

pub struct MemoryLineApi {
    calls: Mutex<Vec<LineCall>>,
    failures: Mutex<VecDeque<LineError>>,
    accepted_keys: Mutex<HashSet<String>>,
    quota: Mutex<Quota>,
}

impl Default for MemoryLineApi {
    fn default() -> Self {
        MemoryLineApi {
            calls: Mutex::default(),
            failures: Mutex::default(),
            accepted_keys: Mutex::default(),
            quota: Mutex::new(Quota::UNLIMITED),
        }
    }
}

impl MemoryLineApi {
    pub fn new() -> MemoryLineApi {
        MemoryLineApi::default()
    }

    /// A plan of `limit` messages a month, `used` of them already sent: sends count their
    /// recipients, and one that would pass the limit is refused with LINE's monthly-limit 429.
    pub fn set_quota(&self, limit: Option<u64>, used: u64) {
        *lock(&self.quota) = Quota { limit, used };
    }

    /// The next call (of any kind) fails with `error`; queued errors are used in order.
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
        // A refused request does not use up its retry key, as on LINE.
        if let Some(error) = lock(&self.failures).pop_front() {
            return Err(error);
        }
        if let Some(key) = key
            && lock(&self.accepted_keys).contains(key.as_str())
        {
            return Ok(Accepted::Earlier);
        }
        let messages = match &call {
            LineCall::Reply { .. } => 0,
            LineCall::Push { .. } => 1,
            LineCall::Multicast { to, .. } => to.len() as u64,
        };
        {
            let mut quota = lock(&self.quota);
            if quota
                .limit
                .is_some_and(|limit| quota.used + messages > limit)
            {
                return Err(LineError::Status {
                    status: 429,
                    message: "You have reached your monthly limit.".to_string(),
                    retry_after: None,
                });
            }
            quota.used += messages;
        }
        if let Some(key) = key {
            lock(&self.accepted_keys).insert(key.as_str().to_string());
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

    async fn quota(&self) -> Result<Quota, LineError> {
        Ok(*lock(&self.quota))
    }
}

/// Accepts and forgets every call without checking it: benchmarks use it to time sukusuku's
/// own work, not a LINE stand-in's bookkeeping.
#[cfg(any(test, feature = "testing"))]
pub struct NullLineApi;

#[cfg(any(test, feature = "testing"))]
impl LineApi for NullLineApi {
    async fn reply(&self, _: &str, _: &[Message]) -> Result<(), LineError> {
        Ok(())
    }

    async fn push(&self, _: &UserId, _: &[Message], _: &RetryKey) -> Result<Accepted, LineError> {
        Ok(Accepted::Now)
    }

    async fn multicast(
        &self,
        _: &[UserId],
        _: &[Message],
        _: &RetryKey,
    ) -> Result<Accepted, LineError> {
        Ok(Accepted::Now)
    }

    async fn quota(&self) -> Result<Quota, LineError> {
        Ok(Quota::UNLIMITED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::client::contract::{self, LineHarness, Refusal};

    impl LineHarness for MemoryLineApi {
        type Api = MemoryLineApi;

        fn api(&self) -> &MemoryLineApi {
            self
        }

        fn refuse_next_send(&self, refusal: Refusal) {
            self.fail_next(refusal.as_error());
        }

        fn accepted_sends(&self) -> usize {
            self.calls()
                .iter()
                .filter(|c| !matches!(c, LineCall::Reply { .. }))
                .count()
        }

        fn accepted_replies(&self) -> usize {
            self.calls().len() - self.accepted_sends()
        }
    }

    #[tokio::test]
    async fn memory_line_meets_the_line_contract() {
        contract::run_all(|| async { MemoryLineApi::new() }).await;
    }
}
