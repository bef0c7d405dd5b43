//! The real LINE client (`HttpLineApi`) over HTTP against the spec-checking fake: headers,
//! bodies, 409 on a reused retry key, and which failures are worth retrying.

use std::time::Duration;

use shared::domain::UserId;
use shared::line::{Accepted, Action, HttpLineApi, LineApi, LineError, Message, RetryKey};
use sukusuku_tests::fake_line::FakeLine;
use sukusuku_tests::server::ACCESS_TOKEN;

fn user(n: u32) -> UserId {
    UserId::parse(&format!("U{n:032x}")).expect("id")
}

#[tokio::test]
async fn sends_what_the_spec_requires() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let api = HttpLineApi::new(&format!("{}/", line.base_url), ACCESS_TOKEN).expect("client");
    let messages = vec![Message::text_with(
        "お知らせ",
        vec![Action::postback("配信停止", "v1:stop")],
    )];
    api.reply("reply-token", &messages).await.expect("reply");
    let key = RetryKey::derive("job-1");
    assert_eq!(api.push(&user(1), &messages, &key).await, Ok(Accepted::Now));
    // The same key again: LINE already accepted it, which is success.
    assert_eq!(
        api.push(&user(1), &messages, &key).await,
        Ok(Accepted::Earlier)
    );
    let to: Vec<UserId> = (0..500).map(user).collect();
    assert_eq!(
        api.multicast(&to, &messages, &RetryKey::derive("job-2"))
            .await,
        Ok(Accepted::Now)
    );
    assert_eq!(line.violations(), Vec::<String>::new());
    let received = line.received();
    assert_eq!(received.len(), 4);
    assert_eq!(received[0].retry_key, None, "reply takes no retry key");
    assert_eq!(received[1].retry_key.as_deref(), Some(key.as_str()));
    assert_eq!(received[3].body["to"].as_array().map(Vec::len), Some(500));
}

#[tokio::test]
async fn limits_are_enforced_before_anything_is_sent() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let api = HttpLineApi::new(&line.base_url, ACCESS_TOKEN).expect("client");
    let key = RetryKey::derive("job");
    let too_many: Vec<UserId> = (0..501).map(user).collect();
    let r = api.multicast(&too_many, &[Message::text("x")], &key).await;
    assert!(matches!(r, Err(LineError::Invalid(_))), "{r:?}");
    let r = api.push(&user(1), &vec![Message::text("x"); 6], &key).await;
    assert!(matches!(r, Err(LineError::Invalid(_))));
    let r = api
        .push(&user(1), &[Message::text("あ".repeat(5001))], &key)
        .await;
    assert!(matches!(r, Err(LineError::Invalid(_))));
    assert!(line.received().is_empty());
}

#[tokio::test]
async fn failures_say_whether_a_retry_can_help() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let api = HttpLineApi::new(&line.base_url, ACCESS_TOKEN).expect("client");
    let msg = [Message::text("x")];
    line.fail_next_sends(&[500, 429, 400, 403]);
    let e = api
        .push(&user(1), &msg, &RetryKey::derive("a"))
        .await
        .expect_err("500");
    assert!(e.is_retryable());
    let e = api
        .push(&user(1), &msg, &RetryKey::derive("b"))
        .await
        .expect_err("429");
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    let e = api
        .push(&user(1), &msg, &RetryKey::derive("c"))
        .await
        .expect_err("400");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("400"), "{e}");
    let e = api
        .push(&user(1), &msg, &RetryKey::derive("d"))
        .await
        .expect_err("403");
    assert!(!e.is_retryable());
    // A wrong token is rejected by the fake (as LINE would) and is not retried.
    let wrong = HttpLineApi::new(&line.base_url, "not-the-token").expect("client");
    let e = wrong
        .push(&user(1), &msg, &RetryKey::derive("e"))
        .await
        .expect_err("401-like");
    assert!(!e.is_retryable());
    // Nobody listening: a transport failure, worth retrying.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let gone = HttpLineApi::new(&format!("http://127.0.0.1:{port}"), ACCESS_TOKEN).expect("client");
    let e = gone
        .push(&user(1), &msg, &RetryKey::derive("f"))
        .await
        .expect_err("refused");
    assert!(matches!(e, LineError::Transport(_)), "{e:?}");
    assert!(e.is_retryable());
}
