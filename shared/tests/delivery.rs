//! The daily scan and the sender together, on the embedded store, the in-process queue and
//! the in-memory LINE API: exact days (month ends, leap years, gestational weeks+days),
//! grouping, re-runs, retries and permanent failures.

use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use shared::catalog::Catalog;
use shared::clock::FixedClock;
use shared::dates::tokyo_instant;
use shared::domain::{Pregnancy, Resident, UserId};
use shared::handlers::scan::{ScanReport, run_daily_scan};
use shared::handlers::send::{DrainPolicy, DrainReport, Settled, drain, settle};
use shared::line::{LineCall, LineError, MemoryLineApi};
use shared::pacer::Pacer;
use shared::queue::{MemoryQueue, Queue};
use shared::quiet_hours::QuietRules;
use shared::store::{LocalStore, Store};

const CATALOG: &str = r#"
categories:
  - {id: health, label: 健診・予防接種}
milestones:
  - id: dental-checkup
    anchor: due_date
    at: {weeks: 24}
    category: health
    text: "妊婦歯科検診のご案内"
    easy_text: "はいしゃさんの けんしん"
  - id: ga-16w3d
    anchor: due_date
    at: {weeks: 16, days: 3}
    category: health
    text: "妊娠16週3日です"
  - id: one-month
    anchor: birth_date
    at: {months: 1}
    category: health
    text: "生後1か月です"
  - id: one-month-checkup
    anchor: birth_date
    at: {months: 1}
    category: health
    text: "1か月児健診のご案内"
  - id: first-birthday
    anchor: birth_date
    at: {years: 1}
    category: health
    text: "1歳おめでとう"
  - id: fluoride
    anchor: birth_date
    at: {years: 1, months: 2}
    category: health
    text: "フッ化物塗布"
  - id: one-week
    anchor: birth_date
    at: {weeks: 1}
    category: health
    text: "1週間誕生日"
"#;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn user(n: usize) -> UserId {
    UserId::parse(&format!("U{n:032x}")).expect("id")
}

struct World {
    store: LocalStore,
    queue: MemoryQueue,
    line: MemoryLineApi,
    catalog: Catalog,
    clock: FixedClock,
    pacer: Pacer,
}

impl World {
    fn new() -> World {
        World {
            store: LocalStore::in_memory(),
            queue: MemoryQueue::new(),
            line: MemoryLineApi::new(),
            catalog: Catalog::from_yaml(CATALOG).expect("catalog"),
            clock: FixedClock::new(
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                    .single()
                    .expect("t"),
            ),
            pacer: Pacer::per_second(100_000),
        }
    }

    async fn child(&self, n: usize, births: &[&str]) {
        let mut r = Resident::new(user(n));
        for b in births {
            r.add_child(d(b));
        }
        self.store.save_resident(&r, None).await.expect("save");
    }

    async fn pregnant(&self, n: usize, due: &str, easy: bool) {
        let mut r = Resident::new(user(n));
        r.pregnancy = Some(Pregnancy { due_date: d(due) });
        r.easy_japanese = easy;
        self.store.save_resident(&r, None).await.expect("save");
    }

    async fn day(&self, day: &str) -> (ScanReport, DrainReport) {
        let at = tokyo_instant(d(day), 9);
        self.clock.set(at);
        let scan = run_daily_scan(&self.store, &self.queue, &self.catalog, d(day), at)
            .await
            .expect("scan");
        let policy = DrainPolicy {
            base_delay: Duration::from_millis(5),
            ..DrainPolicy::default()
        };
        let sent = drain(&self.store, &self.queue, &self.line, &self.pacer, &policy)
            .await
            .expect("drain");
        (scan, sent)
    }

    async fn dead_letters(&self) -> Vec<(String, String)> {
        self.queue.dead_lettered().await.expect("dead letters")
    }

    /// (recipient, text) for every accepted push/multicast since the last call.
    fn delivered(&self) -> Vec<(UserId, String)> {
        let mut out = Vec::new();
        for call in self.line.take_calls() {
            match call {
                LineCall::Push { to, messages, .. } => {
                    out.push((to, messages[0].plain_text().to_string()));
                }
                LineCall::Multicast { to, messages, .. } => {
                    out.extend(
                        to.into_iter()
                            .map(|u| (u, messages[0].plain_text().to_string())),
                    );
                }
                LineCall::Reply { .. } => {}
            }
        }
        out.sort();
        out
    }
}

#[tokio::test]
async fn month_end_births_reach_one_month_on_the_clamped_day() {
    let w = World::new();
    w.child(1, &["2027-01-28"]).await;
    w.child(2, &["2027-01-29"]).await;
    w.child(3, &["2027-01-31"]).await;
    w.child(4, &["2027-01-27"]).await;
    let (scan, sent) = w.day("2027-02-28").await;
    // Jan 28, 29, 31 all reach one month on Feb 28 (common year); two milestones each.
    assert_eq!(scan.enqueued, 6);
    assert_eq!(sent.sent, 6);
    let got = w.delivered();
    let texts = |n| {
        got.iter()
            .filter(|(u, _)| *u == user(n))
            .map(|(_, t)| t.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts(1),
        vec![
            "1か月児健診のご案内".to_string(),
            "生後1か月です".to_string()
        ]
    );
    assert_eq!(texts(3).len(), 2);
    assert!(texts(4).is_empty(), "Jan 27 was due on Feb 27");
    // Nobody born in February reaches one month on Mar 29-31.
    w.child(5, &["2027-02-28"]).await;
    for day in ["2027-03-29", "2027-03-30", "2027-03-31"] {
        w.day(day).await;
    }
    assert!(w.delivered().is_empty());
    w.day("2027-03-28").await;
    assert_eq!(w.delivered().len(), 2);
}

#[tokio::test]
async fn leap_day_births_have_birthdays_on_feb_28_in_common_years() {
    let w = World::new();
    w.child(1, &["2024-02-29"]).await;
    w.day("2025-02-28").await;
    assert_eq!(w.delivered(), vec![(user(1), "1歳おめでとう".to_string())]);
    w.day("2025-03-01").await;
    assert!(w.delivered().is_empty());
    // 1 year 2 months after Jan 31 is Mar 31: no clamping when the day exists.
    w.child(2, &["2024-01-31"]).await;
    w.day("2025-03-31").await;
    assert_eq!(w.delivered(), vec![(user(2), "フッ化物塗布".to_string())]);
}

#[tokio::test]
async fn gestational_milestones_fire_on_weeks_and_days() {
    let w = World::new();
    w.pregnant(1, "2027-03-01", false).await;
    w.pregnant(2, "2027-03-01", true).await;
    w.pregnant(3, "2027-03-02", false).await;
    // 24w0d for due 2027-03-01 is 112 days before: 2026-11-09.
    let (scan, _) = w.day("2026-11-09").await;
    assert_eq!(scan.jobs, 2, "the easy and plain texts are separate jobs");
    assert_eq!(
        w.delivered(),
        vec![
            (user(1), "妊婦歯科検診のご案内".to_string()),
            (user(2), "はいしゃさんの けんしん".to_string())
        ]
    );
    // 16w3d = 115 days: 165 days before the due date.
    w.day("2026-09-17").await;
    assert_eq!(w.delivered().len(), 2);
    w.day("2026-09-18").await;
    assert_eq!(
        w.delivered(),
        vec![(user(3), "妊娠16週3日です".to_string())]
    );
}

#[tokio::test]
async fn twins_get_one_message_and_big_groups_are_split_at_500() {
    let w = World::new();
    w.child(1, &["2026-03-01", "2026-03-01"]).await;
    for n in 2..=1201 {
        w.child(n, &["2026-03-01"]).await;
    }
    let (scan, sent) = w.day("2026-03-08").await;
    assert_eq!(scan.due, 1202, "each twin is due");
    assert_eq!(scan.enqueued, 1201, "one message per resident");
    assert_eq!(scan.jobs, 3, "500 + 500 + 201");
    assert_eq!(sent.sent, 1201);
    let calls = w.line.take_calls();
    assert_eq!(calls.len(), 3);
    for c in &calls {
        match c {
            LineCall::Multicast { to, .. } => assert!(to.len() <= 500),
            other => panic!("expected multicast, got {other:?}"),
        }
    }
    // One recipient alone gets a push.
    w.child(5000, &["2026-03-02"]).await;
    w.day("2026-03-09").await;
    assert!(matches!(
        w.line.take_calls().as_slice(),
        [LineCall::Push { .. }]
    ));
}

#[tokio::test]
async fn running_the_same_day_twice_sends_nothing_twice() {
    let w = World::new();
    w.child(1, &["2026-03-01"]).await;
    w.child(2, &["2026-03-01"]).await;
    let (first, sent) = w.day("2026-03-08").await;
    assert_eq!((first.enqueued, sent.sent), (2, 2));
    let (second, sent) = w.day("2026-03-08").await;
    assert_eq!((second.enqueued, sent.sent), (0, 0));
    assert_eq!(second.already_delivered, 2);
    // Someone registering between two runs gets theirs; the others do not get it again.
    w.child(3, &["2026-03-01"]).await;
    let (third, sent) = w.day("2026-03-08").await;
    assert_eq!((third.enqueued, sent.sent), (1, 1));
    w.delivered();
    // The same job enqueued twice (two scans racing before either sent) is sent once.
    w.child(4, &["2026-03-02"]).await;
    let at = tokyo_instant(d("2026-03-09"), 9);
    run_daily_scan(&w.store, &w.queue, &w.catalog, d("2026-03-09"), at)
        .await
        .expect("scan");
    run_daily_scan(&w.store, &w.queue, &w.catalog, d("2026-03-09"), at)
        .await
        .expect("scan");
    let policy = DrainPolicy::default();
    let report = drain(&w.store, &w.queue, &w.line, &w.pacer, &policy)
        .await
        .expect("drain");
    assert_eq!((report.sent, report.already_done), (1, 1));
    assert_eq!(w.delivered().len(), 1);
}

#[tokio::test]
async fn transient_failures_are_retried_and_permanent_ones_dead_lettered() {
    let w = World::new();
    w.child(1, &["2026-03-01"]).await;
    w.child(2, &["2026-03-01"]).await;
    w.line.fail_next(LineError::Status {
        status: 500,
        message: "boom".into(),
        retry_after: None,
    });
    w.line.fail_next(LineError::Status {
        status: 429,
        message: "slow down".into(),
        retry_after: None,
    });
    w.line.fail_next(LineError::Transport("timed out".into()));
    let (_, sent) = w.day("2026-03-08").await;
    assert_eq!((sent.sent, sent.retries, sent.dead_lettered), (2, 3, 0));
    assert_eq!(w.delivered().len(), 2, "delivered once, after the retries");

    w.child(3, &["2026-03-02"]).await;
    w.line.fail_next(LineError::Status {
        status: 400,
        message: "bad request".into(),
        retry_after: None,
    });
    let (_, sent) = w.day("2026-03-09").await;
    assert_eq!((sent.sent, sent.dead_lettered), (0, 1));
    let dead = w.queue.dead_lettered().await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert!(dead[0].1.contains("400"), "{}", dead[0].1);

    // A LINE that never recovers: the job ends in the dead-letter queue after max attempts.
    w.child(4, &["2026-03-03"]).await;
    for _ in 0..5 {
        w.line.fail_next(LineError::Status {
            status: 503,
            message: "down".into(),
            retry_after: None,
        });
    }
    let (_, sent) = w.day("2026-03-10").await;
    assert_eq!((sent.sent, sent.retries, sent.dead_lettered), (0, 4, 1));
}

#[tokio::test]
async fn scan_cost_is_one_lookup_per_distinct_offset_whatever_the_population() {
    let w = World::new();
    let day = d("2026-06-15");
    let expected = w.catalog.lookups_for(day).len();
    assert_eq!(expected, 6, "7 milestones, two share the one-month offset");
    let before = w.store.anchor_lookups();
    let (scan, _) = w.day("2026-06-15").await;
    assert_eq!(scan.lookups, expected);
    assert_eq!(w.store.anchor_lookups() - before, expected as u64);
    for n in 0..3000 {
        w.child(n, &[&format!("2025-{:02}-{:02}", n % 12 + 1, n % 28 + 1)])
            .await;
    }
    let before = w.store.anchor_lookups();
    let (scan, _) = w.day("2026-06-16").await;
    assert_eq!(scan.lookups, expected);
    assert_eq!(
        w.store.anchor_lookups() - before,
        expected as u64,
        "population does not change the lookups"
    );
}

/// A corrected birth date moves the child's milestones, but one already received is not
/// sent again: once per child, whatever corrections happen.
#[tokio::test]
async fn a_corrected_date_does_not_resend_a_milestone() {
    let w = World::new();
    w.child(1, &["2026-03-01"]).await;
    w.day("2026-03-08").await;
    assert_eq!(w.delivered().len(), 1, "one week old");
    // The parent corrects the birth date by a day: the one-week milestone is due again
    // on the new date, but this child already had it.
    let mut r = w
        .store
        .resident(&user(1))
        .await
        .expect("read")
        .expect("stored");
    r.children[0].birth_date = d("2026-03-02");
    w.store.save_resident(&r, None).await.expect("correct");
    let (scan, sent) = w.day("2026-03-09").await;
    assert_eq!((scan.due, scan.already_delivered, sent.sent), (1, 1, 0));
    assert!(w.delivered().is_empty());
    // A twin registered later is a new child and gets it.
    let mut r = w
        .store
        .resident(&user(1))
        .await
        .expect("read")
        .expect("stored");
    r.add_child(d("2026-03-02"));
    w.store.save_resident(&r, None).await.expect("twin");
    let (_, sent) = w.day("2026-03-09").await;
    assert_eq!(sent.sent, 1);
}

/// A resident who stops between the scan and the send gets nothing, and the send leaves no
/// record behind.
#[tokio::test]
async fn a_stop_between_scan_and_send_sends_nothing() {
    let w = World::new();
    w.child(1, &["2026-03-01"]).await;
    w.child(2, &["2026-03-01"]).await;
    let at = tokyo_instant(d("2026-03-08"), 9);
    w.clock.set(at);
    run_daily_scan(&w.store, &w.queue, &w.catalog, d("2026-03-08"), at)
        .await
        .expect("scan");
    w.store.delete_resident(&user(1), None).await.expect("stop");
    let report = drain(
        &w.store,
        &w.queue,
        &w.line,
        &w.pacer,
        &DrainPolicy::default(),
    )
    .await
    .expect("drain");
    assert_eq!(report.sent, 1);
    assert_eq!(w.delivered(), vec![(user(2), "1週間誕生日".to_string())]);
    assert!(!w.store.dump().contains(user(1).as_str()));
}

/// LINE's "monthly limit reached" is not a rate limit: retrying soon cannot help, and the
/// message must not be lost either. The job stays in the queue (parked for a later look),
/// nothing goes to the dead-letter queue, and the next job is held without asking LINE.
#[tokio::test]
async fn a_monthly_limit_refusal_keeps_the_job_for_later() {
    let w = World::new();
    w.child(1, &["2026-03-01"]).await;
    w.child(2, &["2026-03-02"]).await;
    w.line.fail_next(LineError::Status {
        status: 429,
        message: "You have reached your monthly limit.".into(),
        retry_after: None,
    });
    let (scan, sent) = w.day("2026-03-08").await;
    assert_eq!(scan.jobs, 1);
    assert_eq!((sent.sent, sent.held, sent.dead_lettered), (0, 1, 0));
    assert_eq!(sent.parked, 1, "kept in the queue");
    assert!(w.dead_letters().await.is_empty());
    let (_, sent) = w.day("2026-03-09").await;
    assert_eq!(
        (sent.sent, sent.held),
        (0, 1),
        "held without another refusal"
    );
    assert_eq!(sent.parked, 2);
    assert!(w.delivered().is_empty());
}

fn tokyo(day: &str, hour: u32, minute: u32) -> chrono::DateTime<Utc> {
    tokyo_instant(d(day), hour) + chrono::Duration::minutes(i64::from(minute))
}

/// The day's scan for `day`, its jobs received (hidden) from the queue.
async fn queued(w: &World, day: &str) -> Vec<shared::queue::QueuedJob> {
    run_daily_scan(&w.store, &w.queue, &w.catalog, d(day), tokyo(day, 9, 0))
        .await
        .expect("scan");
    w.queue.receive(10).await.expect("receive")
}

async fn settle_at(
    w: &World,
    pacer: &Pacer,
    message: &shared::queue::QueuedJob,
    policy: &DrainPolicy,
    now: chrono::DateTime<Utc>,
) -> Settled {
    settle(&w.store, &w.queue, &w.line, pacer, message, policy, now)
        .await
        .expect("settled")
}

/// A push met at 22:30 waits in the queue until the quiet hours end (08:00, spread over a
/// few minutes), and goes when it is handed out again in the morning; a kind the city
/// exempts goes at once; `None` (`/dev/daily`) sends at any hour.
#[tokio::test]
async fn pushes_wait_out_the_quiet_hours_and_go_in_the_morning() {
    let w = World::new();
    w.child(1, &["2026-03-01"]).await;
    let jobs = queued(&w, "2026-03-08").await;
    assert_eq!(jobs.len(), 1);
    let quiet = DrainPolicy {
        quiet: Some(QuietRules::standard()),
        ..DrainPolicy::default()
    };
    let night = tokyo("2026-03-08", 22, 30);
    assert_eq!(
        settle_at(&w, &w.pacer, &jobs[0], &quiet, night).await,
        Settled::Deferred
    );
    assert!(w.delivered().is_empty(), "nothing at night");
    let wait = w.queue.next_visible_in().expect("still queued");
    let until_eight = Duration::from_secs(9 * 3600 + 30 * 60);
    assert!(
        wait > until_eight - Duration::from_secs(5)
            && wait <= until_eight + Duration::from_secs(300),
        "{wait:?}"
    );
    let depth = w.queue.depth().await.expect("depth");
    assert_eq!((depth.hidden, depth.parked), (1, 1));
    // Handed out again at 08:02.
    let morning = tokyo("2026-03-09", 8, 2);
    assert_eq!(
        settle_at(&w, &w.pacer, &jobs[0], &quiet, morning).await,
        Settled::Sent { recipients: 1 }
    );
    assert_eq!(w.delivered(), vec![(user(1), "1週間誕生日".to_string())]);

    // Milestones exempted: sent at night.
    w.child(2, &["2026-03-02"]).await;
    let jobs = queued(&w, "2026-03-09").await;
    let exempt = DrainPolicy {
        quiet: QuietRules::parse(Some("21:00-08:00"), Some("milestone")).expect("rules"),
        ..DrainPolicy::default()
    };
    assert_eq!(
        settle_at(&w, &w.pacer, &jobs[0], &exempt, tokyo("2026-03-09", 23, 0)).await,
        Settled::Sent { recipients: 1 }
    );
    // No quiet hours at all.
    w.child(3, &["2026-03-03"]).await;
    let jobs = queued(&w, "2026-03-10").await;
    assert_eq!(
        settle_at(
            &w,
            &w.pacer,
            &jobs[0],
            &DrainPolicy::default(),
            tokyo("2026-03-10", 3, 0)
        )
        .await,
        Settled::Sent { recipients: 1 }
    );
}

/// A job still failing close to 24 hours after its first receive is not tried again under
/// a retry key LINE may have forgotten: it goes to the dead-letter queue saying so.
#[tokio::test]
async fn retries_stop_before_the_retry_key_expires() {
    let w = World::new();
    w.child(1, &["2026-03-01"]).await;
    let mut jobs = queued(&w, "2026-03-08").await;
    let now = tokyo("2026-03-09", 8, 0);
    let policy = DrainPolicy {
        base_delay: Duration::from_secs(10),
        max_delay: Duration::from_secs(900),
        max_attempts: u32::MAX,
        ..DrainPolicy::default()
    };
    let unavailable = || LineError::Status {
        status: 503,
        message: "down".into(),
        retry_after: None,
    };
    jobs[0].receive_count = 40;
    jobs[0].first_received = Some(now - chrono::Duration::minutes(22 * 60 + 30));
    w.line.fail_next(unavailable());
    assert_eq!(
        settle_at(&w, &w.pacer, &jobs[0], &policy, now).await,
        Settled::Retrying,
        "22.5 h in: still inside the window"
    );
    jobs[0].first_received = Some(now - chrono::Duration::minutes(23 * 60 - 1));
    w.line.fail_next(unavailable());
    assert_eq!(
        settle_at(&w, &w.pacer, &jobs[0], &policy, now).await,
        Settled::DeadLettered
    );
    let dead = w.queue.dead_lettered().await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].1.contains("503") && dead[0].1.contains("retry key"),
        "{}",
        dead[0].1
    );
    assert!(w.delivered().is_empty());
}

/// Backoff doubles from the base, with jitter of up to as much again, capped; different jobs
/// spread out; LINE's `Retry-After` is a floor.
#[test]
fn backoff_has_jitter_and_honours_retry_after() {
    let policy = DrainPolicy {
        base_delay: Duration::from_secs(10),
        max_delay: Duration::from_secs(900),
        ..DrainPolicy::default()
    };
    for attempt in 1..=5u32 {
        let floor = Duration::from_secs(10 * 2u64.pow(attempt - 1));
        for id in ["a", "b", "c"] {
            let d = policy.delay(attempt, None, id);
            assert!(d >= floor && d < floor * 2, "attempt {attempt}: {d:?}");
            assert_eq!(
                d,
                policy.delay(attempt, None, id),
                "the same job, the same wait"
            );
        }
    }
    assert_eq!(
        policy.delay(30, None, "a"),
        Duration::from_secs(900),
        "capped"
    );
    let spread: std::collections::BTreeSet<Duration> = (0..20)
        .map(|n| policy.delay(3, None, &format!("job-{n}")))
        .collect();
    assert!(spread.len() >= 15, "jobs spread out: {spread:?}");
    assert!(policy.delay(1, Some(Duration::from_secs(60)), "a") >= Duration::from_secs(60));
    assert!(policy.delay(1, Some(Duration::from_secs(3600)), "a") >= Duration::from_secs(3600));
}

/// The quota guard stops before the limit: a job that fits goes, and is counted; the next,
/// which would pass the limit, is held in the queue without a request to LINE. A plan with
/// no limit (a municipal plan) never holds anything.
#[tokio::test]
async fn the_quota_guard_stops_before_the_limit_and_keeps_the_work() {
    let w = World::new();
    w.child(1, &["2026-03-01"]).await;
    w.child(2, &["2026-03-01"]).await;
    w.child(3, &["2026-03-02"]).await;
    w.line.set_quota(Some(10), 8);
    let pacer = Pacer::per_second(100_000);
    let policy = DrainPolicy::default();
    let noon = tokyo("2026-03-08", 12, 0);
    let first = queued(&w, "2026-03-08").await;
    assert_eq!(
        settle_at(&w, &pacer, &first[0], &policy, noon).await,
        Settled::Sent { recipients: 2 },
        "8 + 2 = 10: exactly the limit"
    );
    let second = queued(&w, "2026-03-09").await;
    assert_eq!(
        settle_at(&w, &pacer, &second[0], &policy, noon).await,
        Settled::Held
    );
    assert_eq!(w.delivered().len(), 2, "the held job made no request");
    assert!(w.dead_letters().await.is_empty());
    let depth = w.queue.depth().await.expect("depth");
    assert_eq!(depth.parked, 1, "kept in the queue for a later look");
    // Staff move to an unlimited plan: the next reading lets it go.
    w.line.set_quota(None, 10);
    let fresh = Pacer::per_second(100_000);
    assert_eq!(
        settle_at(&w, &fresh, &second[0], &policy, noon).await,
        Settled::Sent { recipients: 1 }
    );
    assert_eq!(w.delivered(), vec![(user(3), "1週間誕生日".to_string())]);
}
