//! The AWS chain on moto, through the same handlers the Lambda functions run: API Gateway v2
//! events into the webhook → DynamoDB → the scanner for a date → SQS → the sender fed the SQS
//! messages as a Lambda SQS event → the fake LINE API. A LINE failure in the middle is
//! finished by SQS redelivery without a duplicate.

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use base64::Engine;
use chrono::{Days, NaiveDate, Utc};
use serde_json::{Value, json};
use shared::aws::dynamo::create_table;
use shared::aws::lambda::{ScanFailure, ScannerFunction, SenderFunction, WebhookFunction};
use shared::aws::sqs::create_queues;
use shared::aws::testing::{RequestCounter, moto_config, moto_endpoint, unique_name};
use shared::aws::{DynamoStore, LineCredentials, LiveCatalog, SqsQueue, publish_catalog};
use shared::catalog::example_source;
use shared::handlers::send::DrainPolicy;
use shared::line::HttpLineApi;
use shared::pacer::Pacer;
use shared::queue::Queue;
use shared::store::Store;
use sukusuku_tests::fake_line::FakeLine;
use sukusuku_tests::server::{ACCESS_TOKEN, CHANNEL_SECRET, Resident, callback, sign};

/// Everything logged in this test binary at the deployed level (`RUST_LOG=info`), in the
/// functions' JSON format, so a test can check that no personal data reached the logs.
fn captured_logs() -> &'static std::sync::Mutex<Vec<u8>> {
    use std::sync::{Mutex, OnceLock};
    static LOGS: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_writer(move || LogSink(logs))
            .try_init();
        logs
    })
}

struct LogSink(&'static std::sync::Mutex<Vec<u8>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An HTTP API (payload 2.0) request as API Gateway hands it to Lambda.
fn api_gateway_event(body: &[u8], signature: Option<&str>, base64_body: bool) -> Value {
    let mut headers = json!({
        "content-type": "application/json; charset=utf-8",
        "host": "abc123.execute-api.ap-northeast-1.amazonaws.com",
        "user-agent": "LineBotWebhook/2.0",
    });
    if let Some(sig) = signature {
        headers["x-line-signature"] = json!(sig);
    }
    let body = if base64_body {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        String::from_utf8(body.to_vec()).expect("utf-8 body")
    };
    json!({
        "version": "2.0",
        "routeKey": "POST /webhook",
        "rawPath": "/webhook",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.ap-northeast-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": "/webhook",
                "protocol": "HTTP/1.1",
                "sourceIp": "147.92.150.192",
                "userAgent": "LineBotWebhook/2.0"
            },
            "requestId": "req-1",
            "routeKey": "POST /webhook",
            "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1_795_305_600_000u64
        },
        "body": body,
        "isBase64Encoded": base64_body
    })
}

/// Posts `body` to a webhook function as API Gateway would; the status and the body.
async fn post_to(
    webhook: &WebhookFunction,
    body: &[u8],
    signature: Option<&str>,
    base64_body: bool,
) -> (u16, String) {
    let event = api_gateway_event(body, signature, base64_body).to_string();
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway event");
    let response = webhook.handle(request, Utc::now()).await;
    let status = response.status().as_u16();
    let text = match response.body() {
        lambda_http::Body::Text(t) => t.clone(),
        lambda_http::Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    (status, text)
}

struct Chain {
    line: FakeLine,
    webhook: WebhookFunction,
    scanner: ScannerFunction,
    sender: SenderFunction,
    queue: SqsQueue,
    /// Every AWS request each function's clients sent.
    requests: Requests,
}

#[derive(Default)]
struct Requests {
    webhook: RequestCounter,
    scanner: RequestCounter,
    sender: RequestCounter,
}

/// A DynamoDB store and an SQS queue whose clients count their requests into `counter`.
fn counted(
    config: &aws_config::SdkConfig,
    counter: &RequestCounter,
    table: &str,
    queue: &SqsQueue,
) -> (DynamoStore, SqsQueue) {
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(config)
            .interceptor(counter.clone())
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(config)
            .interceptor(counter.clone())
            .build(),
    );
    (
        DynamoStore::new(dynamo, table),
        SqsQueue::new(sqs, queue.url(), queue.dead_letter_url()),
    )
}

impl Chain {
    async fn new(endpoint: &str) -> Chain {
        let config = moto_config(endpoint).await;
        let table = unique_name("sukusuku");
        let store = DynamoStore::from_config(&config, &table);
        create_table(store.client(), &table)
            .await
            .expect("create table");
        publish_catalog(&store, &example_source(), Utc::now())
            .await
            .expect("publish catalog");
        let sqs = aws_sdk_sqs::Client::new(&config);
        let (url, dlq) = create_queues(&sqs, &unique_name("jobs"), 8)
            .await
            .expect("queues");
        let queue = SqsQueue::new(sqs, url, dlq);

        // The credentials come from SSM SecureString parameters, as in the deployed stack.
        let ssm = aws_sdk_ssm::Client::new(&config);
        let prefix = unique_name("/sukusuku");
        for (name, value) in [("secret", CHANNEL_SECRET), ("token", ACCESS_TOKEN)] {
            ssm.put_parameter()
                .name(format!("{prefix}/{name}"))
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .send()
                .await
                .expect("put parameter");
        }
        let credentials = LineCredentials::from_ssm_names(
            &config,
            &format!("{prefix}/secret"),
            &format!("{prefix}/token"),
        )
        .await
        .expect("credentials from SSM");

        let line = FakeLine::start(ACCESS_TOKEN).await;
        let http = HttpLineApi::new(&line.base_url, &credentials.access_token).expect("client");
        http.warm().await;
        let requests = Requests::default();
        let (webhook_store, _) = counted(&config, &requests.webhook, &table, &queue);
        let (scanner_store, scanner_queue) = counted(&config, &requests.scanner, &table, &queue);
        let (sender_store, sender_queue) = counted(&config, &requests.sender, &table, &queue);
        let catalog = LiveCatalog::load(webhook_store.clone(), Duration::from_secs(300))
            .await
            .expect("catalog");
        requests.webhook.take();
        Chain {
            webhook: WebhookFunction {
                store: webhook_store,
                line: http.clone(),
                secret: credentials.secret,
                catalog,
            },
            scanner: ScannerFunction {
                store: scanner_store,
                queue: scanner_queue,
                metrics_namespace: None,
            },
            sender: SenderFunction {
                store: sender_store,
                queue: sender_queue,
                line: http,
                pacer: Pacer::per_second(200),
                // Retries become visible at once so the test need not wait out a backoff.
                policy: DrainPolicy {
                    max_attempts: 5,
                    base_delay: Duration::ZERO,
                    max_delay: Duration::ZERO,
                    deadline: Duration::ZERO,
                },
            },
            queue,
            line,
            requests,
        }
    }

    async fn post(&self, body: &[u8], signature: Option<&str>, base64_body: bool) -> (u16, String) {
        post_to(&self.webhook, body, signature, base64_body).await
    }

    async fn events(&self, events: Vec<Value>, base64_body: bool) -> u16 {
        let body = callback(events);
        self.post(&body, Some(&sign(&body)), base64_body).await.0
    }

    /// What Lambda's SQS event source would hand the sender: up to ten received messages.
    async fn sqs_event(&self) -> (SqsEvent, usize) {
        let out = self
            .queue
            .client()
            .receive_message()
            .queue_url(self.queue.url())
            .max_number_of_messages(10)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive");
        let records: Vec<Value> = out
            .messages()
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, Value> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_string(), json!(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:ap-northeast-1:123456789012:jobs",
                    "awsRegion": "ap-northeast-1"
                })
            })
            .collect();
        let n = records.len();
        let event: SqsEvent =
            serde_json::from_value(json!({ "Records": records })).expect("an SQS event");
        (event, n)
    }
}

fn days_ago(n: u64) -> NaiveDate {
    shared::dates::tokyo_date(Utc::now())
        .checked_sub_days(Days::new(n))
        .expect("date")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_in_line_becomes_a_milestone_message_through_dynamodb_and_sqs() {
    let Some(ep) = moto_endpoint() else { return };
    let logs = captured_logs();
    let chain = Chain::new(&ep).await;
    let today = shared::dates::tokyo_date(Utc::now());

    // Two residents register children born a week ago: one body plain, one base64-encoded
    // as API Gateway sends binary payloads. Both must verify against the raw bytes.
    let mut a = Resident::new(1);
    let mut b = Resident::new(2);
    assert_eq!(chain.events(vec![a.follow()], false).await, 200);
    assert_eq!(
        chain
            .events(vec![a.pick_date("v1:birth", days_ago(7))], false)
            .await,
        200
    );
    assert_eq!(
        chain
            .events(vec![b.follow(), b.pick_date("v1:birth", days_ago(7))], true)
            .await,
        200
    );
    assert!(
        chain
            .line
            .replies()
            .iter()
            .any(|r| r.contains("今日で") || r.contains("生年月日")),
        "the registration was confirmed: {:?}",
        chain.line.replies()
    );
    let stored = chain
        .webhook
        .store
        .resident(&shared::domain::UserId::parse(&b.user_id).expect("id"))
        .await
        .expect("read")
        .expect("B is stored in DynamoDB");
    assert_eq!(stored.children.len(), 1);

    // A forged signature changes nothing.
    let mut c = Resident::new(3);
    let forged = callback(vec![c.follow(), c.pick_date("v1:birth", days_ago(7))]);
    let (status, _) = chain.post(&forged, Some("Zm9yZ2Vk"), true).await;
    assert_eq!(status, 401);

    // The scanner for today enqueues one job for both (same text, one multicast).
    let report = chain
        .scanner
        .handle(json!({"date": today.to_string()}), Utc::now())
        .await
        .expect("scan");
    assert_eq!(
        (report.due, report.enqueued, report.jobs),
        (2, 2, 1),
        "{report:?}"
    );

    // LINE fails the first send; the record is reported as failed and comes back.
    chain.line.fail_next_sends(&[500]);
    let (event, n) = chain.sqs_event().await;
    assert_eq!(n, 1);
    let response = chain.sender.handle(event).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert!(chain.line.deliveries().is_empty());

    let (event, n) = chain.sqs_event().await;
    assert_eq!(n, 1, "SQS redelivered the failed job");
    assert_eq!(
        event.records[0]
            .attributes
            .get("ApproximateReceiveCount")
            .map(String::as_str),
        Some("2")
    );
    let response = chain.sender.handle(event).await;
    assert!(response.batch_item_failures.is_empty());
    let deliveries = chain.line.deliveries();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert!(deliveries.iter().all(|(_, t)| t.contains("1週間誕生日")));
    let mut users: Vec<&str> = deliveries.iter().map(|(u, _)| u.as_str()).collect();
    users.sort();
    assert_eq!(users, vec![a.user_id.as_str(), b.user_id.as_str()]);
    // Both attempts carried the same retry key, so LINE could not have sent it twice.
    let keys: Vec<Option<String>> = chain
        .line
        .received()
        .iter()
        .filter(|r| r.path.ends_with("/multicast"))
        .map(|r| r.retry_key.clone())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
    assert!(keys[0].is_some());

    // Re-running the day (a backfill by hand) sends nothing twice.
    let again = chain
        .scanner
        .handle(json!({"date": today.to_string()}), Utc::now())
        .await
        .expect("scan");
    assert_eq!((again.already_delivered, again.enqueued), (2, 0));
    let (_, n) = chain.sqs_event().await;
    assert_eq!(n, 0);
    assert!(
        chain.line.violations().is_empty(),
        "{:?}",
        chain.line.violations()
    );

    // The retried send and the scan were logged, without the residents' ids or birthdates.
    let logs =
        String::from_utf8_lossy(&logs.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(logs.contains("send will be retried"), "{logs}");
    assert!(logs.contains("daily scan done"), "{logs}");
    for secret in [&a.user_id, &b.user_id, &days_ago(7).to_string()] {
        assert!(
            !logs.contains(secret.as_str()),
            "personal data in the logs: {logs}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_payloads_and_bodies_are_reported_not_retried_forever() {
    let Some(ep) = moto_endpoint() else { return };
    let chain = Chain::new(&ep).await;
    let now = Utc::now();
    for payload in [
        json!({"date": "2026-02-30"}),
        json!({"date": 20261122}),
        json!({"day": "2026-11-22"}),
        json!("today"),
    ] {
        let err = chain
            .scanner
            .handle(payload.clone(), now)
            .await
            .expect_err("bad payload");
        assert!(
            matches!(err, ScanFailure::BadPayload(_)),
            "{payload}: {err}"
        );
    }
    // The schedule's own payload and a missing one both mean today.
    assert!(chain.scanner.handle(json!({}), now).await.is_ok());
    assert!(chain.scanner.handle(Value::Null, now).await.is_ok());

    // A body that is not a delivery job goes to the DLQ with the reason, and is not retried.
    chain
        .queue
        .enqueue_bodies(&["{\"hello\": 1}".to_string()])
        .await
        .expect("send");
    let (event, n) = chain.sqs_event().await;
    assert_eq!(n, 1);
    let response = chain.sender.handle(event).await;
    assert!(response.batch_item_failures.is_empty());
    let dead = chain.queue.dead_lettered().await.expect("dlq");
    assert_eq!(dead.len(), 1);
    assert!(dead[0].1.contains("not a delivery job"), "{}", dead[0].1);

    // A webhook body that is not LINE's JSON: 400, nothing stored.
    let body = b"{\"events\": 5}".to_vec();
    let (status, _) = chain.post(&body, Some(&sign(&body)), false).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_cannot_reach_dynamodb_answers_5xx_so_line_redelivers() {
    let Some(ep) = moto_endpoint() else { return };
    let chain = Chain::new(&ep).await;
    let unreachable = moto_config("http://127.0.0.1:9")
        .await
        .to_builder()
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    let broken = WebhookFunction {
        store: DynamoStore::from_config(&unreachable, chain.webhook.store.table()),
        line: chain.webhook.line.clone(),
        secret: shared::line::signature::ChannelSecret::new(CHANNEL_SECRET),
        catalog: LiveCatalog::load(chain.webhook.store.clone(), Duration::from_secs(300))
            .await
            .expect("catalog"),
    };
    let mut a = Resident::new(9);
    let body = callback(vec![a.follow(), a.pick_date("v1:birth", days_ago(30))]);
    let event = api_gateway_event(&body, Some(&sign(&body)), false).to_string();
    let request = lambda_http::request::from_str(&event).expect("event");
    let response = broken.handle(request, Utc::now()).await;
    assert_eq!(response.status().as_u16(), 500);
    // LINE's redelivery reaches a healthy instance and is processed.
    let (status, _) = chain.post(&body, Some(&sign(&body)), false).await;
    assert_eq!(status, 200);
    assert!(
        chain
            .webhook
            .store
            .resident(&shared::domain::UserId::parse(&a.user_id).expect("id"))
            .await
            .expect("read")
            .is_some_and(|r| r.children.len() == 1),
        "the redelivered registration is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_line_refusal_goes_to_the_dead_letter_queue_with_its_reason() {
    let Some(ep) = moto_endpoint() else { return };
    let chain = Chain::new(&ep).await;
    let today = shared::dates::tokyo_date(Utc::now());
    let mut a = Resident::new(4);
    assert_eq!(
        chain
            .events(
                vec![a.follow(), a.pick_date("v1:birth", days_ago(7))],
                false
            )
            .await,
        200
    );
    let report = chain
        .scanner
        .handle(json!({"date": today.to_string()}), Utc::now())
        .await
        .expect("scan");
    assert_eq!(report.jobs, 1);
    chain.line.fail_next_sends(&[400]);
    let (event, n) = chain.sqs_event().await;
    assert_eq!(n, 1);
    let response = chain.sender.handle(event).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "a permanent failure is not retried"
    );
    let dead = chain.queue.dead_lettered().await.expect("dlq");
    assert_eq!(dead.len(), 1);
    assert!(dead[0].1.contains("400"), "{}", dead[0].1);
    assert!(
        dead[0].0.contains("1週間誕生日"),
        "the DLQ keeps the whole job for a redrive"
    );
    let (_, n) = chain.sqs_event().await;
    assert_eq!(n, 0, "nothing left to retry");
    assert!(chain.line.deliveries().is_empty());
}

/// A forged or oversized request is refused before anything is read: no catalog refresh, no
/// store access, not one AWS request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_request_costs_no_aws_request() {
    let Some(ep) = moto_endpoint() else { return };
    let chain = Chain::new(&ep).await;
    let counter = RequestCounter::default();
    let config = moto_config(&ep).await;
    let (store, _) = counted(&config, &counter, chain.webhook.store.table(), &chain.queue);
    // A catalog that is always stale: a request that reached it would read the table.
    let webhook = WebhookFunction {
        store: store.clone(),
        line: chain.webhook.line.clone(),
        secret: shared::line::signature::ChannelSecret::new(CHANNEL_SECRET),
        catalog: LiveCatalog::load(store, Duration::ZERO)
            .await
            .expect("catalog"),
    };
    counter.take();
    let mut c = Resident::new(3);
    let body = callback(vec![c.follow(), c.pick_date("v1:birth", days_ago(7))]);
    assert_eq!(
        post_to(&webhook, &body, Some("Zm9yZ2Vk"), false).await.0,
        401
    );
    assert_eq!(post_to(&webhook, &body, None, true).await.0, 401);
    let huge = vec![b'{'; 1024 * 1024 + 1];
    assert_eq!(
        post_to(&webhook, &huge, Some(&sign(&huge)), false).await.0,
        413
    );
    assert_eq!(
        counter.take(),
        std::collections::BTreeMap::new(),
        "refused requests sent AWS requests"
    );
    assert_eq!(
        post_to(&webhook, &body, Some(&sign(&body)), false).await.0,
        200
    );
    assert!(counter.total() > 0, "a genuine request does read");
}

/// What one function sent, by operation.
type Counts = std::collections::BTreeMap<String, u64>;

/// Registers `others` residents who are not due today plus a due set of 21, then counts the
/// requests of a webhook turn (a registration and a stop), the daily scan and the sends.
async fn requests_with_population(ep: &str, others: usize) -> [(&'static str, Counts); 3] {
    let chain = Chain::new(ep).await;
    let today = shared::dates::tokyo_date(Utc::now());
    let catalog = shared::catalog::Catalog::from_source(&example_source()).expect("catalog");
    let due = catalog.lookups_for(today);
    // Birthdays in the same index months as the due ones, on days nothing is due.
    let quiet: Vec<NaiveDate> = (1..90)
        .map(days_ago)
        .filter(|d| {
            !due.iter()
                .any(|l| l.range.contains(shared::domain::AnchorKind::BirthDate, *d))
        })
        .collect();
    let mut population = Vec::new();
    for n in 0..others {
        let mut r = shared::domain::Resident::new(
            shared::domain::UserId::parse(&format!("Uquiet{n:08}")).expect("id"),
        );
        r.add_child(quiet[n % quiet.len()]);
        population.push(r);
    }
    for n in 0..20 {
        let mut r = shared::domain::Resident::new(
            shared::domain::UserId::parse(&format!("Udue{n:08}")).expect("id"),
        );
        r.add_child(days_ago(7));
        population.push(r);
    }
    let config = moto_config(ep).await;
    DynamoStore::from_config(&config, chain.webhook.store.table())
        .import(&population)
        .await
        .expect("import");

    let mut a = Resident::new(1);
    assert_eq!(chain.events(vec![a.follow()], false).await, 200);
    assert_eq!(
        chain
            .events(vec![a.pick_date("v1:birth", days_ago(7))], false)
            .await,
        200
    );
    let report = chain
        .scanner
        .handle(
            json!({"scheduled_time": format!("{today}T00:00:00Z")}),
            Utc::now(),
        )
        .await
        .expect("scan");
    assert_eq!(report.enqueued, 21, "{report:?}");
    let mut sent = 0;
    loop {
        let (event, n) = chain.sqs_event().await;
        if n == 0 {
            break;
        }
        let response = chain.sender.handle(event).await;
        assert!(response.batch_item_failures.is_empty());
        sent += n;
    }
    assert!(sent >= 1);
    assert_eq!(chain.line.deliveries().len(), 21);
    // A stop (blocking the account) deletes the resident.
    assert_eq!(chain.events(vec![a.unfollow()], false).await, 200);
    [
        ("webhook", chain.requests.webhook.take()),
        ("scanner", chain.requests.scanner.take()),
        ("sender", chain.requests.sender.take()),
    ]
}

/// The daily scan never walks the table: no function sends a `Scan`, and ten times the
/// registered residents cost exactly the same requests for the same due set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_requests_follow_what_is_due_not_who_is_registered() {
    let Some(ep) = moto_endpoint() else { return };
    let small = requests_with_population(&ep, 60).await;
    let large = requests_with_population(&ep, 600).await;
    for (function, counts) in small.iter().chain(large.iter()) {
        assert!(
            !counts.contains_key("Scan"),
            "{function} scanned: {counts:?}"
        );
        assert!(!counts.is_empty(), "{function} sent nothing");
    }
    assert_eq!(small, large, "requests grew with the population");
    eprintln!("requests per function: {small:?}");
    // Every request is one the function's IAM role allows (shared::aws::iam, which the
    // template test holds template.yaml to).
    // And the other way round: every DynamoDB action a role grants is one the function
    // used here (SSM is read before the counters start; the queue polling, the logs and the
    // scan DLQ are used by Lambda itself, see iam.rs).
    for (function, counts) in &small {
        let grants = shared::aws::iam::FUNCTIONS
            .iter()
            .find(|(name, _)| name == function)
            .map(|(_, grants)| *grants)
            .expect("a function in iam.rs");
        let used: Vec<String> = counts.keys().flat_map(|op| iam_actions(op)).collect();
        for operation in counts.keys() {
            for action in iam_actions(operation) {
                assert!(
                    grants.iter().any(|g| g.action == action),
                    "{function} sent {operation}, which needs {action}: not in its IAM role"
                );
            }
        }
        for grant in grants.iter().filter(|g| g.action.starts_with("dynamodb:")) {
            assert!(
                used.iter().any(|a| a == grant.action),
                "{function} is granted {} but never calls it: {counts:?}",
                grant.action
            );
        }
    }
}

/// The IAM actions one API operation needs.
fn iam_actions(operation: &str) -> Vec<String> {
    match operation {
        // Authorised per contained item, counted as `TransactWriteItems.<kind>`.
        "TransactWriteItems" => vec![],
        transaction if transaction.starts_with("TransactWriteItems.") => {
            let kind = transaction.trim_start_matches("TransactWriteItems.");
            let action = if kind == "ConditionCheck" {
                "ConditionCheckItem".to_string()
            } else {
                format!("{kind}Item")
            };
            vec![format!("dynamodb:{action}")]
        }
        "SendMessageBatch" => vec!["sqs:SendMessage".to_string()],
        "DeleteMessageBatch" => vec!["sqs:DeleteMessage".to_string()],
        "ChangeMessageVisibilityBatch" => vec!["sqs:ChangeMessageVisibility".to_string()],
        sqs if sqs.contains("Message") || sqs.starts_with("GetQueue") => vec![format!("sqs:{sqs}")],
        ssm if ssm.starts_with("GetParameter") => vec![format!("ssm:{ssm}")],
        dynamodb => vec![format!("dynamodb:{dynamodb}")],
    }
}

/// 受信設定 through the deployed functions: residents answer in the chat (API Gateway events
/// into the webhook, settings onto their DynamoDB index entries), the scanner targets from
/// the index alone, the sender delivers from SQS; each resident gets what their answers say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_chosen_in_the_chat_target_the_notices_on_dynamodb() {
    let Some(ep) = moto_endpoint() else { return };
    let chain = Chain::new(&ep).await;
    // Two months old on the scanned day: the example's 予防接種, 救急 and, for the northern
    // districts only, the 北部保健センター notices fall due. Fixed dates, so no month end
    // clamps them onto another day.
    let born = NaiveDate::from_ymd_opt(2025, 1, 10).expect("date");
    let day = NaiveDate::from_ymd_opt(2025, 3, 10).expect("date");
    let mut north = Resident::new(11);
    let mut south = Resident::new(12);
    let mut muted = Resident::new(13);
    let mut only_north = Resident::new(14);
    let answers: [(&mut Resident, &[&str]); 4] = [
        (&mut north, &["v1:district:hokubu"]),
        (&mut south, &["v1:district:nanbu"]),
        (
            &mut muted,
            &["v1:district:hokubu", "v1:cat:consultation:off"],
        ),
        (
            &mut only_north,
            &[
                "v1:district:yamate",
                "v1:cat:vaccination:off",
                "v1:cat:medical:off",
            ],
        ),
    ];
    for (r, taps) in answers {
        let mut events = vec![r.follow(), r.pick_date("v1:birth", born)];
        events.extend(taps.iter().map(|data| r.postback(data)));
        for e in events {
            assert_eq!(chain.events(vec![e], false).await, 200);
        }
    }
    let report = chain
        .scanner
        .handle(json!({"date": day.to_string()}), Utc::now())
        .await
        .expect("scan");
    assert_eq!(
        (report.due, report.not_targeted, report.enqueued),
        (12, 4, 8),
        "{report:?}"
    );
    loop {
        let (event, n) = chain.sqs_event().await;
        if n == 0 {
            break;
        }
        let response = chain.sender.handle(event).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let mut got: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (user, text) in chain.line.deliveries() {
        got.entry(user).or_default().push(text);
    }
    let has_north = |user: &str| {
        got.get(user)
            .is_some_and(|texts| texts.iter().any(|t| t.contains("北部保健センター")))
    };
    let count = |user: &str| got.get(user).map_or(0, Vec::len);
    assert!(
        has_north(&north.user_id) && count(&north.user_id) == 3,
        "{got:?}"
    );
    assert!(
        !has_north(&south.user_id) && count(&south.user_id) == 2,
        "{got:?}"
    );
    assert!(
        !has_north(&muted.user_id) && count(&muted.user_id) == 2,
        "{got:?}"
    );
    assert!(
        has_north(&only_north.user_id) && count(&only_north.user_id) == 1,
        "{got:?}"
    );
    assert!(
        chain.line.violations().is_empty(),
        "{:?}",
        chain.line.violations()
    );
}
