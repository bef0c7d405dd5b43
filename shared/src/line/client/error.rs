//! How a LINE call failed, and whether trying again can help: the sender retries what is
//! retryable (later, after `Retry-After` if LINE gave one) and dead-letters the rest with
//! the error's text as the reason.

use std::time::Duration;

/// The words LINE uses in a 429 body when the channel's messages for the month are used up
/// ("You have reached your monthly limit."); a rate-limit 429 says "Too many requests".
const MONTHLY_LIMIT_WORDS: &str = "monthly limit";

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
    /// LINE refused the access token and reading it again from where it is kept failed.
    #[error("LINE refused the channel access token and it could not be read again: {0}")]
    TokenUnavailable(String),
    /// A 2xx answer whose body is not what the spec promises (e.g. no `richMenuId`).
    #[error("LINE API answered something unexpected: {0}")]
    Unexpected(String),
}

impl LineError {
    /// 5xx, a rate-limit 429 and transport failures may succeed later; other 4xx never will.
    /// A 429 for the monthly limit will not pass before the month ends or the plan changes,
    /// so it is permanent: the job goes to the dead-letter queue with LINE's message, for an
    /// operator to redrive. (LINE's FAQ notes the same 429 can appear while another
    /// delivery's messages are reserved; a redrive after it finishes covers that too.)
    pub fn is_retryable(&self) -> bool {
        match self {
            LineError::Status { status: 429, .. } => !self.is_monthly_limit(),
            LineError::Status { status, .. } => *status >= 500,
            LineError::Transport(_) => true,
            // Most likely SSM throttled or briefly unreachable; a later attempt reads again.
            LineError::TokenUnavailable(_) => true,
            LineError::Invalid(_) | LineError::Unexpected(_) => false,
        }
    }

    /// The channel has sent all the messages its plan allows this month.
    pub fn is_monthly_limit(&self) -> bool {
        matches!(self, LineError::Status { status: 429, message, .. }
            if message.to_ascii_lowercase().contains(MONTHLY_LIMIT_WORDS))
    }

    /// 401: the channel access token was not accepted (expired, revoked or rotated).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, LineError::Status { status: 401, .. })
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LineError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, message: &str) -> LineError {
        LineError::Status {
            status,
            message: message.to_string(),
            retry_after: None,
        }
    }

    #[test]
    fn retryable_means_rate_limit_5xx_or_transport() {
        assert!(status(429, "Too many requests").is_retryable());
        assert!(status(500, "").is_retryable());
        assert!(status(503, "").is_retryable());
        assert!(!status(400, "").is_retryable());
        assert!(!status(401, "Authentication failed").is_retryable());
        assert!(!status(403, "").is_retryable());
        assert!(LineError::Transport("x".into()).is_retryable());
        assert!(LineError::TokenUnavailable("x".into()).is_retryable());
        assert!(!LineError::Invalid("x".into()).is_retryable());
    }

    #[test]
    fn the_monthly_limit_is_not_a_rate_limit() {
        let e = status(429, "You have reached your monthly limit.");
        assert!(e.is_monthly_limit());
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("monthly limit"), "{e}");
        assert!(!status(429, "Too many requests").is_monthly_limit());
        // Only a 429 says so; the words elsewhere mean nothing.
        assert!(!status(400, "monthly limit").is_monthly_limit());
    }
}
