//! The behaviour every [`LineApi`] must have, as the webhook and the sender rely on it.
//! Each implementation's tests call [`run_all`] with a factory of fresh [`LineHarness`]es:
//! the in-memory client refuses through `fail_next`, the HTTP client runs against the fake
//! LINE API in `tests/` (which answers the refusal's status and body).

use std::future::Future;
use std::time::Duration;

use super::{Accepted, LineApi, LineError, RetryKey};
use crate::domain::UserId;
use crate::line::message::{Action, Message};

/// How LINE turns a request down: the status, the `message` of its JSON body and the
/// `Retry-After` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl Refusal {
    pub fn new(status: u16, message: &str) -> Refusal {
        Refusal {
            status,
            message: message.to_string(),
            retry_after: None,
        }
    }

    /// LINE's answer when the channel's messages for the month are used up.
    pub fn monthly_limit() -> Refusal {
        Refusal::new(429, "You have reached your monthly limit.")
    }

    /// LINE's answer above the rate limit.
    pub fn too_many_requests(retry_after: Option<Duration>) -> Refusal {
        Refusal {
            retry_after,
            ..Refusal::new(429, "Too many requests")
        }
    }

    /// The error a client reports for this refusal.
    pub fn as_error(&self) -> LineError {
        LineError::Status {
            status: self.status,
            message: self.message.clone(),
            retry_after: self.retry_after,
        }
    }
}

/// A client under test and the LINE it talks to.
pub trait LineHarness: Send + Sync {
    type Api: LineApi;
    fn api(&self) -> &Self::Api;
    /// LINE answers the next push or multicast with `refusal` (replies are not affected).
    fn refuse_next_send(&self, refusal: Refusal);
    /// Pushes and multicasts LINE accepted (200), not counting 409s.
    fn accepted_sends(&self) -> usize;
    fn accepted_replies(&self) -> usize;
}

pub async fn run_all<H: LineHarness, F: Fn() -> Fut, Fut: Future<Output = H>>(make: F) {
    every_kind_of_call_is_accepted(&make().await).await;
    a_retry_key_is_accepted_once(&make().await).await;
    a_refused_send_leaves_its_key_unused(&make().await).await;
    rate_limits_are_retried_after_the_wait(&make().await).await;
    the_monthly_limit_is_final(&make().await).await;
    other_refusals_are_classified(&make().await).await;
    limits_are_checked_before_anything_is_sent(&make().await).await;
}

fn user(n: u32) -> UserId {
    UserId::parse(&format!("U{n:032x}")).expect("valid test id")
}

fn messages() -> Vec<Message> {
    vec![Message::text_with(
        "妊婦歯科検診のご案内です。",
        vec![Action::postback("配信停止", "v1:stop")],
    )]
}

async fn every_kind_of_call_is_accepted<H: LineHarness>(h: &H) {
    let api = h.api();
    assert_eq!(api.reply("reply-token", &messages()).await, Ok(()));
    let key = RetryKey::derive("job-push");
    assert_eq!(
        api.push(&user(1), &messages(), &key).await,
        Ok(Accepted::Now)
    );
    let everyone: Vec<UserId> = (0..500).map(user).collect();
    let key = RetryKey::derive("job-multi");
    assert_eq!(
        api.multicast(&everyone, &messages(), &key).await,
        Ok(Accepted::Now)
    );
    assert_eq!(h.accepted_replies(), 1);
    assert_eq!(h.accepted_sends(), 2);
}

async fn a_retry_key_is_accepted_once<H: LineHarness>(h: &H) {
    let api = h.api();
    let key = RetryKey::derive("job-1");
    assert_eq!(
        api.push(&user(1), &messages(), &key).await,
        Ok(Accepted::Now)
    );
    // LINE answers 409 to a key it already accepted: success, and nothing sent twice.
    assert_eq!(
        api.push(&user(1), &messages(), &key).await,
        Ok(Accepted::Earlier)
    );
    let to = [user(1), user(2)];
    let key = RetryKey::derive("job-2");
    assert_eq!(
        api.multicast(&to, &messages(), &key).await,
        Ok(Accepted::Now)
    );
    assert_eq!(
        api.multicast(&to, &messages(), &key).await,
        Ok(Accepted::Earlier)
    );
    assert_eq!(h.accepted_sends(), 2);
}

async fn a_refused_send_leaves_its_key_unused<H: LineHarness>(h: &H) {
    let key = RetryKey::derive("job-1");
    h.refuse_next_send(Refusal::new(500, "Internal server error"));
    let e = h
        .api()
        .push(&user(1), &messages(), &key)
        .await
        .expect_err("refused");
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(
        h.api().push(&user(1), &messages(), &key).await,
        Ok(Accepted::Now),
        "the retry of a refused send is accepted"
    );
    assert_eq!(h.accepted_sends(), 1);
}

async fn rate_limits_are_retried_after_the_wait<H: LineHarness>(h: &H) {
    h.refuse_next_send(Refusal::too_many_requests(Some(Duration::from_secs(2))));
    let e = h
        .api()
        .multicast(&[user(1), user(2)], &messages(), &RetryKey::derive("a"))
        .await
        .expect_err("429");
    assert!(e.is_retryable(), "{e:?}");
    assert!(!e.is_monthly_limit());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    h.refuse_next_send(Refusal::too_many_requests(None));
    let e = h
        .api()
        .push(&user(1), &messages(), &RetryKey::derive("b"))
        .await
        .expect_err("429");
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(e.retry_after(), None);
    assert_eq!(h.accepted_sends(), 0);
}

async fn the_monthly_limit_is_final<H: LineHarness>(h: &H) {
    h.refuse_next_send(Refusal::monthly_limit());
    let e = h
        .api()
        .multicast(&[user(1), user(2)], &messages(), &RetryKey::derive("a"))
        .await
        .expect_err("429");
    assert!(e.is_monthly_limit(), "{e:?}");
    assert!(
        !e.is_retryable(),
        "retrying cannot help before the month ends"
    );
    // The dead-letter reason says why.
    assert!(
        e.to_string().contains("429") && e.to_string().contains("monthly limit"),
        "{e}"
    );
    h.refuse_next_send(Refusal::monthly_limit());
    let e = h
        .api()
        .push(&user(1), &messages(), &RetryKey::derive("b"))
        .await
        .expect_err("429");
    assert!(!e.is_retryable(), "{e:?}");
    assert_eq!(h.accepted_sends(), 0);
}

async fn other_refusals_are_classified<H: LineHarness>(h: &H) {
    let cases = [
        (500, "Internal server error", true),
        (503, "Service unavailable", true),
        (400, "The request body has 1 error(s)", false),
        (401, "Authentication failed", false),
        (
            403,
            "Access to this API is not available for your account",
            false,
        ),
    ];
    for (n, (status, message, retryable)) in cases.into_iter().enumerate() {
        h.refuse_next_send(Refusal::new(status, message));
        let key = RetryKey::derive(&format!("job-{n}"));
        let e = h
            .api()
            .push(&user(1), &messages(), &key)
            .await
            .expect_err("refused");
        assert_eq!(e.is_retryable(), retryable, "{status}: {e:?}");
        assert_eq!(e, Refusal::new(status, message).as_error());
    }
    assert_eq!(h.accepted_sends(), 0);
}

async fn limits_are_checked_before_anything_is_sent<H: LineHarness>(h: &H) {
    let api = h.api();
    // Waits for the first request that reaches LINE.
    h.refuse_next_send(Refusal::new(500, "Internal server error"));
    let key = RetryKey::derive("job");
    let invalid = |r: Result<Accepted, LineError>| matches!(r, Err(LineError::Invalid(_)));
    let too_many: Vec<UserId> = (0..501).map(user).collect();
    assert!(invalid(api.multicast(&too_many, &messages(), &key).await));
    assert!(invalid(api.multicast(&[], &messages(), &key).await));
    assert!(invalid(
        api.push(&user(1), &vec![Message::text("x"); 6], &key).await
    ));
    assert!(invalid(
        api.push(&user(1), &[Message::text("あ".repeat(5001))], &key)
            .await
    ));
    assert!(invalid(api.push(&user(1), &[], &key).await));
    assert!(matches!(
        api.reply("reply-token", &[]).await,
        Err(LineError::Invalid(_))
    ));
    // None of those reached LINE: the refusal is still waiting for the first real send.
    let e = api
        .push(&user(1), &messages(), &key)
        .await
        .expect_err("the queued refusal");
    assert_eq!(e, Refusal::new(500, "Internal server error").as_error());
    assert_eq!(h.accepted_sends() + h.accepted_replies(), 0);
}
