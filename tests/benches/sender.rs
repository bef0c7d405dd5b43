//! The sender at the channel's rate: four sender instances (each its own pacer at its share
//! of the channel, its own HTTPS-less HTTP client) drain one queue against the fake LINE API
//! answering every request after 20 ms, on the embedded store in memory.
//!
//! 1. **Multicast**: one milestone due for 400,000 children born the same day: cohort-identical,
//!    so 800 multicasts of 500. Configured rate: LINE's 200/s for the channel.
//! 2. **Push**: 8,000 children, each with their own ニックネーム in the text: 8,000 pushes.
//!    Configured rate: LINE's 2,000/s.
//!
//! For each: achieved request rate (requests over the span from the first to the last arrival
//! at the fake) against the configured rate, the most requests the fake saw in any sliding
//! one-second window (must never be above the configured rate), API requests per delivered
//! message, end-to-end deliveries per second (scan + send), and proof that every child got
//! its message exactly once and the fake found nothing against the spec. Then the same
//! multicast day with the pacer out of the way and LINE in memory: what sukusuku's own code
//! can do per second on the memory store.
//!
//! Run: cargo bench --workspace --features sukusuku/aws --bench sender

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use shared::catalog::Catalog;
use shared::dates::tokyo_instant;
use shared::domain::{Resident, UserId};
use shared::handlers::scan::run_daily_scan;
use shared::handlers::send::{DrainPolicy, DrainReport, drain};
use shared::line::{HttpLineApi, LineApi, MemoryLineApi};
use shared::pacer::{ChannelRate, Pacer};
use shared::queue::MemoryQueue;
use shared::store::{LocalStore, Store};
use sukusuku_tests::fake_line::{Endpoint, FakeLine};
use sukusuku_tests::server::ACCESS_TOKEN;

const INSTANCES: u32 = 4;
const LATENCY: Duration = Duration::from_millis(20);
const COHORT: usize = 400_000;
const PERSONAL: usize = 8_000;

const CATALOG: &str = r#"
categories:
  - {id: health, label: 健診・予防接種}
milestones:
  - id: one-week
    anchor: birth_date
    at: {weeks: 1}
    category: health
    text: "1週間誕生日です。赤ちゃんの様子で気になることがあれば、保健センターにご相談ください。"
  - id: one-month
    anchor: birth_date
    at: {months: 1}
    category: health
    text: "{nickname}ちゃん、生後1か月ですね。1か月児健診のご案内です。"
"#;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 4, 15).expect("date")
}

fn user(n: usize) -> UserId {
    UserId::parse(&format!("U{n:032x}")).expect("user id")
}

/// `count` children born on `birth`, from user number `first`; named when `named`.
async fn register(store: &LocalStore, first: usize, count: usize, birth: NaiveDate, named: bool) {
    for n in first..first + count {
        let mut r = Resident::new(user(n));
        r.add_child(birth);
        if named {
            r.children[0].nickname = Some(format!("こ{n}"));
        }
        store.save_resident(&r, None).await.expect("save");
    }
}

struct Run {
    requests: usize,
    span: Duration,
    max_one_second: usize,
    delivered: usize,
    wall: Duration,
    report: DrainReport,
}

/// Scans the day, then four instances drain the queue at once against `fake`.
async fn send_day(
    store: Arc<LocalStore>,
    catalog: &Catalog,
    fake: &FakeLine,
    endpoint: Endpoint,
) -> Run {
    let queue = Arc::new(MemoryQueue::new());
    let started = Instant::now();
    run_daily_scan(&*store, &*queue, catalog, day(), tokyo_instant(day(), 9))
        .await
        .expect("scan");
    let share = ChannelRate::LINE.share(INSTANCES).expect("share");
    let mut instances = Vec::new();
    for _ in 0..INSTANCES {
        let (store, queue) = (store.clone(), queue.clone());
        let line = HttpLineApi::new(&fake.base_url, ACCESS_TOKEN).expect("client");
        instances.push(tokio::spawn(async move {
            let pacer = Pacer::at(share);
            drain(&*store, &*queue, &line, &pacer, &DrainPolicy::default())
                .await
                .expect("drain")
        }));
    }
    let mut report = DrainReport::default();
    for i in instances {
        let r = i.await.expect("instance");
        report.sent += r.sent;
        report.jobs_sent += r.jobs_sent;
        report.retries += r.retries;
        report.dead_lettered += r.dead_lettered;
        report.left_in_queue += r.left_in_queue;
    }
    let wall = started.elapsed();
    let arrivals = fake.arrivals(endpoint);
    let span = match (arrivals.first(), arrivals.last()) {
        (Some(a), Some(b)) => *b - *a,
        _ => Duration::ZERO,
    };
    Run {
        requests: arrivals.len(),
        span,
        max_one_second: fake.max_in_one_second(endpoint),
        delivered: fake.deliveries().len(),
        wall,
        report,
    }
}

fn check_once(fake: &FakeLine, users: std::ops::Range<usize>) {
    let counts: BTreeMap<(String, String), usize> = fake.delivery_counts();
    let mut per_user: BTreeMap<String, usize> = BTreeMap::new();
    for ((u, _), n) in &counts {
        *per_user.entry(u.clone()).or_default() += n;
    }
    let expected = users.len();
    assert_eq!(per_user.len(), expected, "every child got it");
    assert!(per_user.values().all(|n| *n == 1), "no child got it twice");
    assert!(
        fake.violations().is_empty(),
        "against the spec: {:?}",
        fake.violations()
    );
}

fn print(title: &str, configured: u32, run: &Run) {
    let rate = run.requests.saturating_sub(1) as f64 / run.span.as_secs_f64().max(1e-9);
    println!("{title}");
    println!(
        "  requests {} in {:.2} s: {:.1}/s of {configured}/s configured ({:.1} %); most in any one second: {} (limit {configured})",
        run.requests,
        run.span.as_secs_f64(),
        rate,
        100.0 * rate / f64::from(configured),
        run.max_one_second,
    );
    println!(
        "  delivered {} messages, {:.4} API requests per message (1/{:.0}); end to end (scan + send) {:.2} s: {:.0} deliveries/s",
        run.delivered,
        run.requests as f64 / run.delivered.max(1) as f64,
        run.delivered as f64 / run.requests.max(1) as f64,
        run.wall.as_secs_f64(),
        run.delivered as f64 / run.wall.as_secs_f64(),
    );
    println!(
        "  sender: {} jobs, {} retries, {} dead-lettered, {} left",
        run.report.jobs_sent,
        run.report.retries,
        run.report.dead_lettered,
        run.report.left_in_queue
    );
    assert!(
        run.max_one_second <= configured as usize,
        "{title}: {} requests in one second, above {configured}",
        run.max_one_second
    );
    assert_eq!(run.report.dead_lettered + run.report.left_in_queue, 0);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let catalog = Catalog::from_yaml(CATALOG).expect("catalog");
        let week_old = day() - chrono::Duration::days(7);
        let month_old = NaiveDate::from_ymd_opt(2027, 3, 15).expect("date");
        println!(
            "{INSTANCES} sender instances, fake LINE answering after {} ms, memory store",
            LATENCY.as_millis()
        );
        let share = ChannelRate::LINE.share(INSTANCES).expect("share");
        println!(
            "each instance's share: push {}/s, multicast {}/s",
            share.push, share.multicast
        );

        // 1. Multicast.
        let store = Arc::new(LocalStore::in_memory());
        let t = Instant::now();
        register(&store, 0, COHORT, week_old, false).await;
        println!("registered {COHORT} children in {:.1} s", t.elapsed().as_secs_f64());
        let fake = FakeLine::start(ACCESS_TOKEN).await;
        fake.set_latency(Endpoint::Multicast, LATENCY);
        let run = send_day(store, &catalog, &fake, Endpoint::Multicast).await;
        print(
            "multicast, one milestone for a whole cohort",
            ChannelRate::LINE.multicast,
            &run,
        );
        check_once(&fake, 0..COHORT);

        // 2. Push.
        let store = Arc::new(LocalStore::in_memory());
        register(&store, COHORT, PERSONAL, month_old, true).await;
        let fake = FakeLine::start(ACCESS_TOKEN).await;
        fake.set_latency(Endpoint::Push, LATENCY);
        let run = send_day(store, &catalog, &fake, Endpoint::Push).await;
        print(
            "push, a text of its own for each child",
            ChannelRate::LINE.push,
            &run,
        );
        check_once(&fake, COHORT..COHORT + PERSONAL);

        // 3. sukusuku's own ceiling: no pacing, LINE in memory.
        let store = LocalStore::in_memory();
        register(&store, 0, COHORT, week_old, false).await;
        let queue = MemoryQueue::new();
        let line = MemoryLineApi::new();
        let started = Instant::now();
        run_daily_scan(&store, &queue, &catalog, day(), tokyo_instant(day(), 9))
            .await
            .expect("scan");
        let report = drain(
            &store,
            &queue,
            &line,
            &Pacer::per_second(1_000_000),
            &DrainPolicy::default(),
        )
        .await
        .expect("drain");
        let wall = started.elapsed();
        let requests = line.calls().len();
        assert_eq!(report.sent, COHORT);
        assert_eq!(line.quota().await.map(|q| q.used).unwrap_or(0), COHORT as u64);
        println!(
            "unpaced, LINE in memory: {} deliveries in {} requests, scan + send {:.2} s: {:.0} deliveries/s",
            report.sent,
            requests,
            wall.as_secs_f64(),
            report.sent as f64 / wall.as_secs_f64()
        );
    });
}
