//! Fault injection for delivery, counted at the fake LINE API. One day's notices for
//! thousands of residents (a cohort that shares one text, and residents whose texts carry
//! their child's ニックネーム) go through SQS on moto to four sender processes — the real
//! `SenderFunction`, fed as Lambda's event source feeds it — while the fake LINE API answers
//! a 429 storm (some with `Retry-After`), 5xx, connection resets before and after reading,
//! requests it takes but whose answer is lost (reset or silence until the client's timeout),
//! and slow answers; the senders are killed with SIGKILL at random moments, mid-batch
//! included, and replaced; every job is in the queue twice (a scan run twice, as SQS's
//! at-least-once delivery may also hand a message out twice); and the queue's visibility
//! timeout is short, so a slow batch is redelivered to another sender while the first is
//! still at it.
//!
//! What must hold, counted at the fake: each (resident, text) delivered exactly once, none
//! missing, nothing else; the configured channel rate never passed in any sliding second;
//! nothing in the dead-letter queue; every request within the spec.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use shared::aws::testing::{moto_config, moto_endpoint};
use shared::aws::{DynamoStore, SqsQueue};
use shared::catalog::Catalog;
use shared::dates::tokyo_instant;
use shared::domain::{Resident, UserId};
use shared::handlers::scan::run_daily_scan;
use shared::queue::Queue;
use sukusuku_tests::fake_line::{Endpoint, FakeLine, Fault, Storm};
use sukusuku_tests::server::ACCESS_TOKEN;
use sukusuku_tests::stack::Stack;

const COHORT: usize = 2_000;
const PERSONAL: usize = 300;
const SENDERS: usize = 4;
const PUSH_RATE: u32 = 120;
const MULTICAST_RATE: u32 = 12;

const CATALOG: &str = r#"
categories:
  - {id: health, label: 健診・予防接種}
milestones:
  - id: one-week
    anchor: birth_date
    at: {weeks: 1}
    category: health
    text: "1週間誕生日です。"
  - id: one-month
    anchor: birth_date
    at: {months: 1}
    category: health
    text: "{nickname}ちゃん、生後1か月ですね。"
"#;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 4, 15).expect("date")
}

fn user(n: usize) -> UserId {
    UserId::parse(&format!("U{n:032x}")).expect("user id")
}

fn nickname(n: usize) -> String {
    format!("こ{n}")
}

/// A small deterministic generator for the kill schedule.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

struct Senders {
    environment: Vec<(&'static str, String)>,
    running: Vec<Child>,
    killed: usize,
}

impl Senders {
    fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_sender_worker"))
            .env_clear()
            .envs(self.environment.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a sender");
        self.running.push(child);
    }

    fn kill(&mut self, which: usize) {
        let mut child = self.running.swap_remove(which % self.running.len());
        let _ = child.kill();
        let _ = child.wait();
        self.killed += 1;
    }
}

impl Drop for Senders {
    fn drop(&mut self) {
        for child in &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_arrives_once_through_storms_crashes_and_redeliveries() {
    let Some(moto) = moto_endpoint() else { return };
    let stack = Stack::create(&moto, "faults", 1000).await;
    let config = moto_config(&moto).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    // A batch slowed by the faults outlives its visibility and goes to a second sender.
    sqs.set_queue_attributes()
        .queue_url(&stack.queue_url)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "6",
        )
        .send()
        .await
        .expect("visibility timeout");
    let store = DynamoStore::from_config(&config, &stack.table);
    let queue = SqsQueue::new(sqs, stack.queue_url.clone(), stack.dead_letter_url.clone());

    let week_old = day() - chrono::Duration::days(7);
    let month_old = NaiveDate::from_ymd_opt(2027, 3, 15).expect("date");
    let residents: Vec<Resident> = (0..COHORT + PERSONAL)
        .map(|n| {
            let mut r = Resident::new(user(n));
            if n < COHORT {
                r.add_child(week_old);
            } else {
                r.add_child(month_old);
                r.children[0].nickname = Some(nickname(n));
            }
            r
        })
        .collect();
    store.seed_residents(&residents).await.expect("seed");
    let mut expected: Vec<(String, String)> = Vec::new();
    for n in 0..COHORT + PERSONAL {
        let text = if n < COHORT {
            "1週間誕生日です。".to_string()
        } else {
            format!("{}ちゃん、生後1か月ですね。", nickname(n))
        };
        expected.push((user(n).as_str().to_string(), text));
    }

    let fake = FakeLine::start(ACCESS_TOKEN).await;
    for endpoint in [Endpoint::Push, Endpoint::Multicast] {
        fake.storm(endpoint, Storm::too_many_requests(0.12, Some(1), 11));
    }
    fake.script(
        Endpoint::Push,
        [
            Fault::status(500),
            Fault::AcceptThenReset,
            Fault::ResetBeforeBody,
            Fault::status(503),
            Fault::ResetAfterBody,
            Fault::Slow(Duration::from_secs(3)),
            Fault::AcceptThenHang,
            Fault::status(502),
            Fault::AcceptThenReset,
            Fault::Hang,
        ],
    );
    fake.script(
        Endpoint::Multicast,
        [
            Fault::AcceptThenReset,
            Fault::status(500),
            Fault::ResetAfterBody,
        ],
    );

    // The day's scan, twice before anything is sent: every job is queued twice.
    let catalog = Catalog::from_yaml(CATALOG).expect("catalog");
    let at = tokyo_instant(day(), 9);
    let first = run_daily_scan(&store, &queue, &catalog, day(), at)
        .await
        .expect("scan");
    let second = run_daily_scan(&store, &queue, &catalog, day(), at)
        .await
        .expect("scan");
    assert_eq!(first.jobs, second.jobs);
    assert_eq!(first.jobs, COHORT.div_ceil(500) + PERSONAL);

    let mut environment = stack.environment(&moto, &fake.base_url);
    environment.extend([
        ("MAX_CONCURRENCY", SENDERS.to_string()),
        ("CHANNEL_PUSH_RATE", PUSH_RATE.to_string()),
        ("CHANNEL_MULTICAST_RATE", MULTICAST_RATE.to_string()),
        // Whatever the hour the test runs at.
        ("QUIET_HOURS", "off".to_string()),
        ("RUST_LOG", "warn".to_string()),
    ]);
    let mut senders = Senders {
        environment,
        running: Vec::new(),
        killed: 0,
    };
    for _ in 0..SENDERS {
        senders.start();
    }
    // Kill one at a random moment every 0.5–2 s for the first 20 s, and start another.
    let mut random = SplitMix(7);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(500 + random.next() % 1500)).await;
        senders.kill(random.next() as usize);
        senders.start();
    }
    // Then let them finish: nothing left in the queue, visible or in flight.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let depth = queue.depth().await.expect("depth");
        if depth.visible + depth.hidden == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still queued after 5 minutes: {depth:?}; delivered so far {}",
            fake.deliveries().len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let senders_killed = senders.killed;
    drop(senders);

    assert!(
        queue.dead_lettered().await.expect("dlq").is_empty(),
        "dead letters: {:?}",
        queue.dead_lettered().await
    );
    if let Err(problems) = fake.check_each_delivered_once(expected) {
        panic!("{problems}");
    }
    for (endpoint, limit) in [
        (Endpoint::Push, PUSH_RATE),
        (Endpoint::Multicast, MULTICAST_RATE),
    ] {
        let most = fake.max_in_one_second(endpoint);
        assert!(
            most <= limit as usize,
            "{endpoint:?}: {most} requests in one second, above {limit}"
        );
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    assert!(senders_killed >= 10, "only {senders_killed} senders killed");
    eprintln!(
        "{} deliveries in {} requests; {senders_killed} senders killed; {:.0} s",
        fake.deliveries().len(),
        fake.received().len(),
        started.elapsed().as_secs_f64()
    );
}
