//! The AWS chain on moto, through the same handlers the Lambda functions run: API Gateway v2
//! events into the webhook → DynamoDB → the scanner for a date → SQS → the sender fed the SQS
//! messages as a Lambda SQS event → the fake LINE API. A LINE failure in the middle is
//! finished by SQS redelivery without a duplicate.

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
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
use sukusuku_tests::apigw::{api_gateway_event, post_to};
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
    let dynamo = counter.dynamo_client(config);
    let sqs = counter.sqs_client(config);
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
        // Booking events go to a bus of their own, as in the deployed stack.
        let bus = unique_name("bookings");
        aws_sdk_eventbridge::Client::new(&config)
            .create_event_bus()
            .name(&bus)
            .send()
            .await
            .expect("create event bus");
        let events = shared::aws::EventBridgeEvents::from_config(&config, &bus);

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
                events: events.clone(),
                secret: credentials.secret,
                catalog,
            },
            scanner: ScannerFunction {
                store: scanner_store,
                queue: scanner_queue,
                events: events.clone(),
                metrics_namespace: None,
                quiet: None,
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
                    ..DrainPolicy::default()
                },
                metrics_namespace: None,
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
    let response = chain.sender.handle(event, chrono::Utc::now()).await;
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
    let response = chain.sender.handle(event, chrono::Utc::now()).await;
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

/// Feeds the sender everything in the queue, as Lambda's event source would; returns how
/// many messages it handled.
async fn drain(chain: &Chain) -> usize {
    let mut handled = 0;
    loop {
        let (event, n) = chain.sqs_event().await;
        if n == 0 {
            return handled;
        }
        let response = chain.sender.handle(event, chrono::Utc::now()).await;
        assert!(response.batch_item_failures.is_empty());
        handled += n;
    }
}

/// The first line of each text delivered to `user` (the notice's title), sorted.
fn titles_for(line: &FakeLine, user: &Resident) -> Vec<String> {
    let mut titles: Vec<String> = line
        .deliveries()
        .into_iter()
        .filter(|(to, _)| *to == user.user_id)
        .map(|(_, text)| text.lines().next().unwrap_or_default().to_string())
        .collect();
    titles.sort();
    titles
}

/// 受信設定 chosen in LINE (API Gateway events into the webhook) is copied onto the
/// DynamoDB index entries, and one scan day through SQS and the sender delivers to each
/// resident what their settings ask for: a muted category is not sent, an audience notice
/// reaches only its audience, やさしい日本語 readers get the easy text, a nickname is filled in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_chosen_in_line_decide_deliveries_through_dynamodb_and_sqs() {
    let Some(ep) = moto_endpoint() else { return };
    let chain = Chain::new(&ep).await;
    let today = shared::dates::tokyo_date(Utc::now());
    let catalog = shared::catalog::Catalog::from_source(&example_source()).expect("catalog");
    // Six months old today: the example's 一時預かり notice for everyone and its 保活 guide
    // for 申込予定 fall due. Two weeks old: the 産婦健診 notice and the weekly series' step.
    let six_months = catalog
        .lookups_for(today)
        .iter()
        .flat_map(|l| l.milestones.iter())
        .find(|(_, m)| m.id == "hokatsu-guide")
        .map(|(range, _)| range.first)
        .expect("some birthdate is six months old today");
    let two_weeks = days_ago(14);

    let mut plain = Resident::new(1);
    let mut planning = Resident::new(2);
    let mut planning_muted = Resident::new(3);
    let mut planning_easy = Resident::new(4);
    let mut nick = Resident::new(5);
    let mut daily_muted = Resident::new(6);
    let mut checkup_muted_easy = Resident::new(7);
    let settings: Vec<(&mut Resident, NaiveDate, Vec<&str>)> = vec![
        (&mut plain, six_months, vec![]),
        (&mut planning, six_months, vec!["v1:nursery:planning"]),
        (
            &mut planning_muted,
            six_months,
            vec!["v1:nursery:planning", "v1:cat:childcare:off"],
        ),
        (
            &mut planning_easy,
            six_months,
            vec!["v1:easy:on", "v1:nursery:planning"],
        ),
        (&mut nick, two_weeks, vec!["v1:nick:c1"]),
        (
            &mut daily_muted,
            two_weeks,
            vec!["v1:cat:daily:off", "v1:district:hokubu"],
        ),
        (
            &mut checkup_muted_easy,
            two_weeks,
            vec!["v1:cat:checkup:off", "v1:easy:on"],
        ),
    ];
    // One event a request: the webhook's deadline counts from a request's arrival, and this
    // test shares moto with the others running beside it.
    for (r, born, taps) in settings {
        let mut events = vec![r.follow(), r.pick_date("v1:birth", born)];
        events.extend(taps.iter().map(|data| r.postback(data)));
        for e in events {
            assert_eq!(chain.events(vec![e], false).await, 200);
        }
    }
    assert_eq!(chain.events(vec![nick.text("はるちゃん")], true).await, 200);
    assert!(
        chain
            .line
            .replies()
            .last()
            .is_some_and(|r| r.contains("「はるちゃん」で登録しました")),
        "{:?}",
        chain.line.replies().last()
    );

    let report = chain
        .scanner
        .handle(json!({"date": today.to_string()}), Utc::now())
        .await
        .expect("scan");
    // 4 × 2 milestones at six months; 3 × (a milestone and a step) at two weeks.
    assert_eq!((report.due, report.not_targeted), (14, 4), "{report:?}");
    assert_eq!(report.enqueued, 10, "{report:?}");
    assert_eq!(drain(&chain).await, report.jobs);

    let care = "【一時預かり・ファミリー・サポート】";
    let hokatsu = "【保育所（園）の申込みを予定している方へ】";
    let postpartum = "【産婦健康診査・産後ケア】";
    let sorted = |mut v: Vec<&str>| {
        v.sort();
        v.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let line = &chain.line;
    assert_eq!(titles_for(line, &plain), sorted(vec![care]));
    assert_eq!(titles_for(line, &planning), sorted(vec![care, hokatsu]));
    assert_eq!(titles_for(line, &planning_muted), sorted(vec![hokatsu]));
    assert_eq!(
        titles_for(line, &planning_easy),
        sorted(vec![care, "【ほいくえんに もうしこむ よていの かたへ】"])
    );
    assert_eq!(
        titles_for(line, &nick),
        sorted(vec![postpartum, "【はるちゃんは今日で生後14日】"])
    );
    assert_eq!(titles_for(line, &daily_muted), sorted(vec![postpartum]));
    assert_eq!(
        titles_for(line, &checkup_muted_easy),
        sorted(vec!["【こどもは きょうで うまれて 14にち】"])
    );
    assert_eq!(line.deliveries().len(), 10);
    assert!(line.violations().is_empty(), "{:?}", line.violations());

    // A change of mind is on the index entry at once: the same day re-run after
    // `planning_muted` turns 一時預かり back on sends it that notice, and nothing twice.
    assert_eq!(
        chain
            .events(vec![planning_muted.postback("v1:cat:childcare:on")], false)
            .await,
        200
    );
    let again = chain
        .scanner
        .handle(json!({"date": today.to_string()}), Utc::now())
        .await
        .expect("scan");
    assert_eq!(
        (again.enqueued, again.already_delivered, again.not_targeted),
        (1, 10, 3),
        "{again:?}"
    );
    drain(&chain).await;
    assert_eq!(
        titles_for(line, &planning_muted),
        sorted(vec![care, hokatsu])
    );
    assert_eq!(line.deliveries().len(), 11);
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
    let response = chain.sender.handle(event, chrono::Utc::now()).await;
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
        events: chain.webhook.events.clone(),
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
    let response = chain.sender.handle(event, chrono::Utc::now()).await;
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
        events: chain.webhook.events.clone(),
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

/// 受信設定 of resident `n` of a population: some categories muted, a district, household
/// attributes, a nursery answer, やさしい日本語, spread as a city's would be.
fn settings_mix(n: usize) -> shared::domain::Settings {
    let q = |i: usize, ids: &[&str]| ids[i % ids.len()].to_string();
    let mut s = shared::domain::Settings::default();
    if n.is_multiple_of(3) {
        s.muted.insert(q(n, &["daily", "events", "library"]));
    }
    if n.is_multiple_of(9) {
        s.muted.insert("play".to_string());
    }
    if n.is_multiple_of(2) {
        s.district = Some(q(n / 2, &["chuo", "hokubu", "nanbu", "tobu", "kawakita"]));
    }
    if n.is_multiple_of(10) {
        s.household
            .insert(q(n / 10, &["single-parent", "multiple-birth"]));
    }
    if n.is_multiple_of(4) {
        s.nursery = Some(q(n / 4, &["none", "planning", "applied"]));
    }
    s
}

/// What one population's run cost: each function's requests, and the scan's report.
struct PopulationRun {
    requests: [(&'static str, Counts); 3],
    report: shared::handlers::scan::ScanReport,
    /// Index entries of the population that the day's lookups cover although nothing is due
    /// for them (inside a series' span, off its steps).
    read_not_due: usize,
}

/// Registers `others` residents who are not due today (each with its own 受信設定; some
/// inside the example's series spans, so the lookups read them, some outside) plus a fixed
/// due set (some of it muted), then counts the requests of a webhook turn (a registration
/// and a stop), the daily scan and the sends.
async fn requests_with_population(ep: &str, others: usize) -> PopulationRun {
    use shared::domain::{AnchorKind, Pregnancy, Settings, UserId};
    let chain = Chain::new(ep).await;
    let today = shared::dates::tokyo_date(Utc::now());
    let catalog = shared::catalog::Catalog::from_source(&example_source()).expect("catalog");
    let lookups = catalog.lookups_for(today);
    assert!(
        lookups.iter().any(|l| !l.series.is_empty()),
        "the example's series are looked up today"
    );
    let read = |kind: AnchorKind, d: NaiveDate| lookups.iter().any(|l| l.range.contains(kind, d));
    let due = |kind: AnchorKind, d: NaiveDate| {
        lookups.iter().any(|l| {
            l.milestones.iter().any(|(r, _)| r.contains(kind, d))
                || (l.range.contains(kind, d)
                    && l.series.iter().any(|s| s.step_on(d, today).is_some()))
        })
    };
    // Birthdates and due dates on which nothing is due today: some read by a lookup (inside
    // a series' span), some not.
    let births: Vec<NaiveDate> = (1..200)
        .map(days_ago)
        .filter(|d| !due(AnchorKind::BirthDate, *d))
        .collect();
    let (births_read, births_unread): (Vec<NaiveDate>, Vec<NaiveDate>) = births
        .into_iter()
        .partition(|d| read(AnchorKind::BirthDate, *d));
    let dues_read: Vec<NaiveDate> = (1..250)
        .map(|n| today.checked_add_days(Days::new(n)).expect("date"))
        .filter(|d| !due(AnchorKind::DueDate, *d) && read(AnchorKind::DueDate, *d))
        .collect();
    assert!(!births_read.is_empty() && !births_unread.is_empty() && !dues_read.is_empty());
    let mut population = Vec::new();
    let mut read_not_due = 0;
    for n in 0..others {
        let mut r =
            shared::domain::Resident::new(UserId::parse(&format!("Uquiet{n:08}")).expect("id"));
        if n.is_multiple_of(2) {
            r.add_child(births_read[n % births_read.len()]);
            read_not_due += 1;
        } else {
            r.add_child(births_unread[n % births_unread.len()]);
        }
        if n.is_multiple_of(5) {
            r.pregnancy = Some(Pregnancy {
                due_date: dues_read[n % dues_read.len()],
            });
            read_not_due += 1;
        }
        r.settings = settings_mix(n);
        r.easy_japanese = n.is_multiple_of(6);
        population.push(r);
    }
    // The due set, the same in every population: 20 one-week-olds with varied settings,
    // 5 more who turned 手続き off, and 4 two-week-olds (the weekly series' first step), 2 of
    // whom turned 毎日のひとこと off.
    for n in 0..29 {
        let mut r =
            shared::domain::Resident::new(UserId::parse(&format!("Udue{n:08}")).expect("id"));
        r.settings = settings_mix(n);
        r.settings.muted.remove("daily");
        match n {
            0..20 => {
                r.add_child(days_ago(7));
            }
            20..25 => {
                r.add_child(days_ago(7));
                r.settings.muted.insert("procedures".to_string());
            }
            _ => {
                r.add_child(days_ago(14));
                if n.is_multiple_of(2) {
                    r.settings.muted.insert("daily".to_string());
                }
            }
        }
        r.settings.muted.remove("checkup");
        population.push(r);
    }
    assert!(population.iter().any(|r| r.settings != Settings::default()));
    let config = moto_config(ep).await;
    DynamoStore::from_config(&config, chain.webhook.store.table())
        .import(&population)
        .await
        .expect("import");

    let mut a = Resident::new(1);
    assert_eq!(chain.events(vec![a.follow()], false).await, 200);
    for e in [
        a.pick_date("v1:birth", days_ago(7)),
        a.postback("v1:district:hokubu"),
        a.postback("v1:cat:daily:off"),
    ] {
        assert_eq!(chain.events(vec![e], false).await, 200);
    }
    let report = chain
        .scanner
        .handle(
            json!({"scheduled_time": format!("{today}T00:00:00Z")}),
            Utc::now(),
        )
        .await
        .expect("scan");
    // 21 one-week notices, 4 産婦健診 notices and 2 series steps.
    assert_eq!(report.enqueued, 27, "{report:?}");
    assert_eq!(report.not_targeted, 5 + 2, "{report:?}");
    assert_eq!(drain(&chain).await, report.jobs);
    assert_eq!(chain.line.deliveries().len(), 27);
    // A stop (blocking the account) deletes the resident.
    assert_eq!(chain.events(vec![a.unfollow()], false).await, 200);
    PopulationRun {
        requests: [
            ("webhook", chain.requests.webhook.take()),
            ("scanner", chain.requests.scanner.take()),
            ("sender", chain.requests.sender.take()),
        ],
        report,
        read_not_due,
    }
}

/// The daily scan never walks the table: no function sends a `Scan`, and ten times the
/// registered residents (with their own 受信設定, many inside the series' spans so the
/// lookups read them) cost exactly the same requests for the same due set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_requests_follow_what_is_due_not_who_is_registered() {
    let Some(ep) = moto_endpoint() else { return };
    let small_run = requests_with_population(&ep, 60).await;
    let large_run = requests_with_population(&ep, 600).await;
    // The larger population really was in the lookups' way: the scan read every entry of it
    // inside a series' span, and found the same due set.
    assert_eq!(
        large_run.report.entries_read - small_run.report.entries_read,
        large_run.read_not_due - small_run.read_not_due,
        "{:?} / {:?}",
        small_run.report,
        large_run.report
    );
    assert_eq!(
        (small_run.report.due, small_run.report.enqueued),
        (large_run.report.due, large_run.report.enqueued)
    );
    eprintln!(
        "entries read: {} with 60 others, {} with 600",
        small_run.report.entries_read, large_run.report.entries_read
    );
    let (small, large) = (small_run.requests, large_run.requests);
    for (function, counts) in small.iter().chain(large.iter()) {
        assert!(
            !counts.contains_key("Scan"),
            "{function} scanned: {counts:?}"
        );
        assert!(!counts.is_empty(), "{function} sent nothing");
    }
    assert_eq!(small, large, "requests grew with the population");
    eprintln!("requests per function: {small:?}");
    // Every request is one the function's IAM role allows, and every DynamoDB action a role
    // grants is used here, but for the waiting list's, which the booking chain test uses.
    check_grants(&small, |function, action| {
        !WAITING_LIST_ONLY.contains(&(function, action))
    });
}

/// DynamoDB grants that only the waiting list uses (checked by the booking chain test).
const WAITING_LIST_ONLY: &[(&str, &str)] = &[
    ("scanner", "dynamodb:BatchGetItem"),
    ("scanner", "dynamodb:UpdateItem"),
    ("scanner", "dynamodb:DeleteItem"),
    ("sender", "dynamodb:Query"),
    ("sender", "dynamodb:GetItem"),
];

/// Every request counted is one the function's IAM role allows (shared::aws::iam, which
/// the template test holds template.yaml to); and the other way round, every DynamoDB
/// action a role grants that `must_use(function, action)` is one the function used (SSM is
/// read before the counters start; the queue polling, the logs and the scan DLQ are used by
/// Lambda itself, see iam.rs).
fn check_grants(requests: &[(&str, Counts)], must_use: impl Fn(&str, &str) -> bool) {
    for (function, counts) in requests {
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
            if must_use(function, grant.action) {
                assert!(
                    used.iter().any(|a| a == grant.action),
                    "{function} is granted {} but never calls it: {counts:?}",
                    grant.action
                );
            }
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

/// 予約 through the Lambda chain on moto: a schedule published into the DynamoDB table, a
/// booking and a 満席 through API Gateway events into the webhook, キャンセル待ち, the
/// scanner's reminder through SQS and the sender to the fake LINE, then 欠席連絡 freeing the
/// seat in DynamoDB, the scanner's waiting-list sweep holding it for the one in line, the
/// sender's push of the offer, and the booking from its button.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_its_reminder_and_an_absence_through_dynamodb_and_sqs() {
    use shared::reservations::{
        Age, BookingStatus, Eligibility, Schedule, Service, ServiceId, Slot, SlotRef,
    };
    use shared::store::BookingStore;
    let Some(ep) = moto_endpoint() else { return };
    let chain = Chain::new(&ep).await;
    let today = shared::dates::tokyo_date(Utc::now());
    let first = today + Days::new(10);
    let second = today + Days::new(17);
    let service = Service {
        id: ServiceId::parse("checkup-4m").expect("id"),
        name: "4か月児健診".into(),
        place: "保健センター".into(),
        description: String::new(),
        who: Eligibility::Child {
            from: Some(Age {
                months: 3,
                ..Age::default()
            }),
            before: Some(Age {
                months: 5,
                ..Age::default()
            }),
        },
        opens_days_before: 60,
        closes_days_before: 1,
        many_per_resident: false,
        remind_days_before: 1,
        offer_hours: 24,
        easy_name: None,
        easy_description: None,
    };
    let slot = |date: NaiveDate, capacity| {
        let slot = SlotRef::parse(&format!("checkup-4m@{date}T10:00")).expect("slot");
        Slot {
            end: slot.start,
            slot,
            capacity,
        }
    };
    let (a_slot, b_slot) = (slot(first, 1), slot(second, 2));
    let schedule = Schedule {
        services: [(service.id.clone(), service)].into(),
        slots: [a_slot.clone(), b_slot]
            .into_iter()
            .map(|s| (s.slot.clone(), s))
            .collect(),
    };
    chain
        .webhook
        .store
        .publish_schedule(&schedule, Utc::now())
        .await
        .expect("publish");

    let mut a = Resident::new(41);
    let mut b = Resident::new(42);
    let mut c = Resident::new(43);
    for r in [&mut a, &mut b, &mut c] {
        assert_eq!(
            chain
                .events(
                    vec![r.follow(), r.pick_date("v1:birth", days_ago(105))],
                    false
                )
                .await,
            200
        );
    }
    let book = format!("v1:rsv:book:{}:c1", a_slot.slot.token());
    assert_eq!(chain.events(vec![a.postback(&book)], false).await, 200);
    assert!(
        chain
            .line
            .replies()
            .last()
            .is_some_and(|r| r.contains("予約しました")),
        "{:?}",
        chain.line.replies().last()
    );
    assert_eq!(chain.events(vec![b.postback(&book)], true).await, 200);
    assert!(
        chain
            .line
            .replies()
            .last()
            .is_some_and(|r| r.contains("満席")),
        "{:?}",
        chain.line.replies().last()
    );
    // With no waiting list anywhere, the minute's sweep costs one index query.
    chain.requests.scanner.take();
    let idle = chain
        .scanner
        .invoke(json!({"sweep": "offers"}), Utc::now())
        .await
        .expect("sweep");
    assert_eq!(idle["lists"], 0, "{idle}");
    assert_eq!(
        chain.requests.scanner.take(),
        Counts::from([("Query".to_string(), 1)]),
        "an idle sweep"
    );
    let wait = format!("v1:rsv:wait:{}:c1", a_slot.slot.token());
    for r in [&mut b, &mut c] {
        assert_eq!(chain.events(vec![r.postback(&wait)], false).await, 200);
        assert!(
            chain
                .line
                .replies()
                .last()
                .is_some_and(|r| r.contains("キャンセル待ちに登録しました")),
            "{:?}",
            chain.line.replies().last()
        );
    }
    let seats = |s: &SlotRef| {
        let (store, s) = (chain.webhook.store.clone(), s.clone());
        async move {
            store
                .slot_states(&s.service, s.date, s.date)
                .await
                .expect("slots")[0]
                .booked
        }
    };
    assert_eq!(seats(&a_slot.slot).await, 1);

    // The day before: the scanner finds the booking, SQS carries the reminder, the sender
    // pushes it once.
    let report = chain
        .scanner
        .handle(
            json!({"date": (first - Days::new(1)).to_string()}),
            Utc::now(),
        )
        .await
        .expect("scan");
    assert_eq!(report.reminders, 1);
    drain(&chain).await;
    let reminded: Vec<(String, String)> = chain
        .line
        .deliveries()
        .into_iter()
        .filter(|(_, t)| t.contains("ご予約日"))
        .collect();
    assert_eq!(reminded.len(), 1, "{reminded:?}");
    assert_eq!(reminded[0].0, a.user_id);

    // 欠席連絡: the seat is free again in DynamoDB, with the reason kept.
    let user = shared::domain::UserId::parse(&a.user_id).expect("id");
    let held = chain
        .webhook
        .store
        .bookings_of(&user)
        .await
        .expect("bookings");
    let data = format!("v1:rsv:ab-ok:{}:ill", held[0].id);
    assert_eq!(chain.events(vec![a.postback(&data)], false).await, 200);
    assert!(
        chain
            .line
            .replies()
            .last()
            .is_some_and(|r| r.contains("欠席のご連絡を受け付けました")),
        "{:?}",
        chain.line.replies().last()
    );
    let after = chain
        .webhook
        .store
        .bookings_of(&user)
        .await
        .expect("bookings");
    assert!(matches!(after[0].status, BookingStatus::Absent { .. }));
    assert_eq!(seats(&a_slot.slot).await, 0);

    // The minute's sweep holds the freed seat for B; SQS and the sender push the offer.
    chain.requests.scanner.take();
    chain.requests.sender.take();
    let offered_to = |chain: &Chain| -> Vec<String> {
        chain
            .line
            .deliveries()
            .into_iter()
            .filter(|(_, t)| t.contains("キャンセル待ちのご案内"))
            .map(|(user, _)| user)
            .collect()
    };
    let swept = chain
        .scanner
        .invoke(json!({"sweep": "offers"}), Utc::now())
        .await
        .expect("sweep");
    assert_eq!(swept["offered"], 1, "{swept}");
    assert_eq!(drain(&chain).await, 1);
    assert_eq!(offered_to(&chain), vec![b.user_id.clone()]);
    // B lets it lapse: a day later the sweep passes it to C.
    let later = Utc::now() + chrono::Duration::hours(25);
    let swept = chain
        .scanner
        .invoke(json!({"sweep": "offers"}), later)
        .await
        .expect("sweep");
    assert_eq!(
        (&swept["lapsed"], &swept["offered"]),
        (&json!(1), &json!(1)),
        "{swept}"
    );
    // C's offer, and B's notice that the hold ran out.
    assert_eq!(drain(&chain).await, 2);
    assert!(
        chain
            .line
            .deliveries()
            .iter()
            .any(|(user, t)| *user == b.user_id && t.contains("お申し込みの期限を過ぎたため")),
        "{:?}",
        chain.line.deliveries()
    );
    assert_eq!(
        offered_to(&chain),
        vec![b.user_id.clone(), c.user_id.clone()]
    );
    let requests = [
        ("scanner", chain.requests.scanner.take()),
        ("sender", chain.requests.sender.take()),
    ];
    eprintln!("waiting-list sweep and offer push: {requests:?}");
    check_grants(&requests, |function, action| {
        WAITING_LIST_ONLY.contains(&(function, action))
    });
    // A second sweep finds nothing to do.
    let again = chain
        .scanner
        .invoke(json!({"sweep": "offers"}), Utc::now())
        .await
        .expect("sweep");
    assert_eq!(again["offered"], 0, "{again}");
    let take = format!("v1:rsv:take:{}:c1", a_slot.slot.token());
    assert_eq!(chain.events(vec![c.postback(&take)], false).await, 200);
    assert!(
        chain
            .line
            .replies()
            .last()
            .is_some_and(|r| r.contains("予約しました")),
        "{:?}",
        chain.line.replies().last()
    );
    assert_eq!(seats(&a_slot.slot).await, 1);
    assert!(
        chain.line.violations().is_empty(),
        "{:?}",
        chain.line.violations()
    );
}
