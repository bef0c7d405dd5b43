//! The real LINE client (`HttpLineApi`) over HTTP against the spec-checking fake: the
//! `LineApi` contract both clients pass, the headers and bodies the spec requires, reading
//! a rotated channel access token again (from a stand-in source, and from SSM on moto), and
//! the per-call timeouts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use shared::domain::UserId;
use shared::line::client::contract::{self, LineHarness, Refusal};
use shared::line::{
    Accepted, AccessTokenSource, Action, HttpLineApi, LineApi, LineError, Message, RetryKey,
    TokenFuture,
};
use sukusuku_tests::fake_line::{FakeLine, Received};
use sukusuku_tests::server::ACCESS_TOKEN;

fn user(n: u32) -> UserId {
    UserId::parse(&format!("U{n:032x}")).expect("id")
}

fn msg() -> [Message; 1] {
    [Message::text("お知らせ")]
}

/// `HttpLineApi` with a fixed token, against its own fake LINE.
struct Harness {
    line: FakeLine,
    api: HttpLineApi,
}

impl Harness {
    async fn start() -> Harness {
        let line = FakeLine::start(ACCESS_TOKEN).await;
        let api = HttpLineApi::new(&line.base_url, ACCESS_TOKEN).expect("client");
        Harness { line, api }
    }

    fn accepted(&self, reply: bool) -> usize {
        self.line
            .received()
            .iter()
            .filter(|r| r.status == 200 && r.path.ends_with("/reply") == reply)
            .count()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Every request of the contract suite must also be what the spec allows.
        if !std::thread::panicking() {
            assert_eq!(self.line.violations(), Vec::<String>::new());
        }
    }
}

impl LineHarness for Harness {
    type Api = HttpLineApi;

    fn api(&self) -> &HttpLineApi {
        &self.api
    }

    fn refuse_next_send(&self, refusal: Refusal) {
        self.line.refuse_next_send(refusal);
    }

    fn accepted_sends(&self) -> usize {
        self.accepted(false)
    }

    fn accepted_replies(&self) -> usize {
        self.accepted(true)
    }
}

#[tokio::test]
async fn http_line_meets_the_line_contract() {
    contract::run_all(Harness::start).await;
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
    assert_eq!(received[2].status, 409);
    assert_eq!(received[3].body["to"].as_array().map(Vec::len), Some(500));
}

#[tokio::test]
async fn a_wrong_token_or_no_server_fails_as_it_should() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    // A fixed token LINE refuses: nowhere to read another, so the 401 is final at once.
    let wrong = HttpLineApi::new(&line.base_url, "not-the-token").expect("client");
    let e = wrong
        .push(&user(1), &msg(), &RetryKey::derive("e"))
        .await
        .expect_err("401");
    assert!(e.is_unauthorized(), "{e:?}");
    assert!(!e.is_retryable());
    assert_eq!(line.received().len(), 1);
    // Nobody listening: a transport failure, worth retrying.
    let port = sukusuku_tests::server::free_port();
    let gone = HttpLineApi::new(&format!("http://127.0.0.1:{port}"), ACCESS_TOKEN).expect("client");
    let e = gone
        .push(&user(1), &msg(), &RetryKey::derive("f"))
        .await
        .expect_err("refused");
    assert!(matches!(e, LineError::Transport(_)), "{e:?}");
    assert!(e.is_retryable());
}

/// A stand-in for the token's parameter: holds a value, counts reads, can be slow or fail.
#[derive(Clone)]
struct StoredToken(Arc<StoredTokenInner>);

struct StoredTokenInner {
    value: String,
    reads: AtomicUsize,
    delay: Option<Duration>,
    unavailable: bool,
}

impl StoredToken {
    fn holding(value: &str) -> StoredToken {
        StoredToken::with(value, None, false)
    }

    fn with(value: &str, delay: Option<Duration>, unavailable: bool) -> StoredToken {
        StoredToken(Arc::new(StoredTokenInner {
            value: value.to_string(),
            reads: AtomicUsize::new(0),
            delay,
            unavailable,
        }))
    }

    fn reads(&self) -> usize {
        self.0.reads.load(Ordering::SeqCst)
    }
}

impl AccessTokenSource for StoredToken {
    fn read(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            self.0.reads.fetch_add(1, Ordering::SeqCst);
            if let Some(delay) = self.0.delay {
                tokio::time::sleep(delay).await;
            }
            if self.0.unavailable {
                return Err(LineError::TokenUnavailable("throttled".into()));
            }
            Ok(self.0.value.clone())
        })
    }
}

fn tokens(received: &[Received]) -> Vec<(u16, String)> {
    received
        .iter()
        .map(|r| (r.status, r.token.clone().unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn a_rotated_token_is_read_again_once_and_the_call_repeated() {
    let line = FakeLine::start("new-token").await;
    let stored = StoredToken::holding("new-token");
    let api = HttpLineApi::builder(&line.base_url, "old-token")
        .reread_token_from(stored.clone())
        .build()
        .expect("client");
    let key = RetryKey::derive("job-1");
    assert_eq!(api.push(&user(1), &msg(), &key).await, Ok(Accepted::Now));
    assert_eq!(stored.reads(), 1);
    assert_eq!(
        tokens(&line.received()),
        vec![(401, "old-token".into()), (200, "new-token".into())]
    );
    // The new token stays in use: no more reads, one request per call; clones share it.
    let clone = api.clone();
    clone.reply("reply-token", &msg()).await.expect("reply");
    let key = RetryKey::derive("job-2");
    assert_eq!(
        clone.multicast(&[user(1), user(2)], &msg(), &key).await,
        Ok(Accepted::Now)
    );
    assert_eq!(stored.reads(), 1);
    assert_eq!(line.received().len(), 4);
    assert_eq!(line.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn a_token_still_refused_after_the_reread_is_final_without_a_loop() {
    let line = FakeLine::start("the-valid-token").await;
    let stored = StoredToken::holding("also-refused");
    let api = HttpLineApi::builder(&line.base_url, "old-token")
        .reread_token_from(stored.clone())
        .build()
        .expect("client");
    let e = api
        .push(&user(1), &msg(), &RetryKey::derive("a"))
        .await
        .expect_err("401");
    assert!(e.is_unauthorized() && !e.is_retryable(), "{e:?}");
    assert_eq!(stored.reads(), 1, "exactly one re-read");
    assert_eq!(
        tokens(&line.received()),
        vec![(401, "old-token".into()), (401, "also-refused".into())]
    );
    // The next call does not read again straight away either: one request, no read.
    let e = api
        .push(&user(1), &msg(), &RetryKey::derive("b"))
        .await
        .expect_err("401");
    assert!(!e.is_retryable());
    assert_eq!(stored.reads(), 1);
    assert_eq!(line.received().len(), 3);
}

#[tokio::test]
async fn an_unchanged_stored_token_is_not_tried_again() {
    let line = FakeLine::start("the-valid-token").await;
    let stored = StoredToken::holding("old-token");
    let api = HttpLineApi::builder(&line.base_url, "old-token")
        .reread_token_from(stored.clone())
        .build()
        .expect("client");
    let e = api.reply("reply-token", &msg()).await.expect_err("401");
    assert!(e.is_unauthorized() && !e.is_retryable(), "{e:?}");
    assert_eq!(stored.reads(), 1);
    assert_eq!(line.received().len(), 1, "the same token is not sent twice");
}

#[tokio::test]
async fn concurrent_refusals_share_one_reread() {
    let line = FakeLine::start("new-token").await;
    let stored = StoredToken::with("new-token", Some(Duration::from_millis(50)), false);
    let api = HttpLineApi::builder(&line.base_url, "old-token")
        .reread_token_from(stored.clone())
        .build()
        .expect("client");
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..20 {
        let api = api.clone();
        calls.spawn(async move {
            api.push(&user(1), &msg(), &RetryKey::derive(&format!("job-{n}")))
                .await
        });
    }
    let results = calls.join_all().await;
    assert!(
        results.iter().all(|r| *r == Ok(Accepted::Now)),
        "{results:?}"
    );
    assert_eq!(stored.reads(), 1);
}

#[tokio::test]
async fn a_token_store_that_cannot_be_read_makes_the_call_retryable() {
    let line = FakeLine::start("new-token").await;
    let stored = StoredToken::with("new-token", None, true);
    let api = HttpLineApi::builder(&line.base_url, "old-token")
        .reread_token_from(stored.clone())
        .build()
        .expect("client");
    let e = api
        .push(&user(1), &msg(), &RetryKey::derive("a"))
        .await
        .expect_err("unavailable");
    assert!(matches!(e, LineError::TokenUnavailable(_)), "{e:?}");
    assert!(e.is_retryable(), "the next attempt can read it");
    assert_eq!(stored.reads(), 1);
}

/// A LINE that answers every request `delay` late (raw HTTP/1.1, one response per
/// connection).
async fn slow_line(delay: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                    )
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn replies_and_sends_have_their_own_total_timeouts() {
    let base = slow_line(Duration::from_millis(700)).await;
    let api = HttpLineApi::builder(&base, ACCESS_TOKEN)
        .reply_timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let started = Instant::now();
    let e = api
        .reply("reply-token", &msg())
        .await
        .expect_err("too slow");
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(e, LineError::Transport(ref m) if m.contains("timed out")),
        "{e:?}"
    );
    // Sends keep the default (10 s) and wait for the slow answer.
    assert_eq!(
        api.push(&user(1), &msg(), &RetryKey::derive("a")).await,
        Ok(Accepted::Now)
    );
    let short = HttpLineApi::builder(&base, ACCESS_TOKEN)
        .send_timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let e = short
        .push(&user(1), &msg(), &RetryKey::derive("b"))
        .await
        .expect_err("too slow");
    assert!(e.is_retryable(), "{e:?}");
}

#[tokio::test]
async fn the_timeout_covers_the_token_reread() {
    let line = FakeLine::start("new-token").await;
    let stored = StoredToken::with("new-token", Some(Duration::from_secs(2)), false);
    let api = HttpLineApi::builder(&line.base_url, "old-token")
        .reread_token_from(stored.clone())
        .reply_timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let started = Instant::now();
    let e = api
        .reply("reply-token", &msg())
        .await
        .expect_err("too slow");
    assert!(matches!(e, LineError::Transport(_)), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

/// The deployed path: the token lives in an SSM SecureString parameter (moto), is rotated
/// there, and the client picks the new one up on LINE's 401.
#[tokio::test]
async fn a_token_rotated_in_ssm_is_picked_up_on_401() {
    use shared::aws::SsmAccessToken;
    use shared::aws::testing::{moto_config, moto_endpoint, unique_name};
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let config = moto_config(&endpoint).await;
    let ssm = aws_sdk_ssm::Client::new(&config);
    let name = unique_name("/sukusuku/token");
    let put = |value: &'static str| {
        ssm.put_parameter()
            .name(&name)
            .value(value)
            .overwrite(true)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
    };
    put("old-token").await.expect("put parameter");
    let line = FakeLine::start("old-token").await;
    let api = HttpLineApi::builder(&line.base_url, "old-token")
        .reread_token_from(SsmAccessToken::new(&config, &name))
        .build()
        .expect("client");
    assert_eq!(
        api.push(&user(1), &msg(), &RetryKey::derive("a")).await,
        Ok(Accepted::Now)
    );
    // The operator reissues the token: SSM first, then LINE stops accepting the old one.
    put("new-token").await.expect("rotate");
    line.accept_only_tokens(&["new-token"]);
    assert_eq!(
        api.push(&user(1), &msg(), &RetryKey::derive("b")).await,
        Ok(Accepted::Now)
    );
    assert_eq!(
        tokens(&line.received()),
        vec![
            (200, "old-token".into()),
            (401, "old-token".into()),
            (200, "new-token".into())
        ]
    );
    // A parameter that is gone: the call can be retried once it is back.
    let missing = HttpLineApi::builder(&line.base_url, "old-token")
        .reread_token_from(SsmAccessToken::new(&config, &unique_name("/nope")))
        .build()
        .expect("client");
    let e = missing
        .push(&user(1), &msg(), &RetryKey::derive("c"))
        .await
        .expect_err("no parameter");
    assert!(matches!(e, LineError::TokenUnavailable(_)), "{e:?}");
    assert!(e.is_retryable());
}

/// The fake holds every send to a valid bearer token: an empty or missing one is a spec
/// violation, not a pass.
#[tokio::test]
async fn the_fake_reports_a_send_without_a_token() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let body = serde_json::json!({"to": "U0123456789abcdef0123456789abcdef", "messages": [{"type": "text", "text": "hi"}]});
    let client = reqwest::Client::new();
    for authorization in [Some("Bearer "), None] {
        let mut request = client
            .post(format!("{}/v2/bot/message/push", line.base_url))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send().await.expect("the fake answers");
    }
    let violations = line.violations();
    let about_the_token = violations
        .iter()
        .filter(|v| v.contains("Authorization"))
        .count();
    assert_eq!(about_the_token, 2, "{violations:?}");
}
