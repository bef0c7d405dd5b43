//! What one daily scan and its sends cost in AWS requests, measured through the real SDK
//! against moto with 10,000 registered residents: DynamoDB requests per item due, SQS
//! requests per delivery job. Every HTTP request the SDK transmits is counted by operation
//! (retries included), so the figures are what AWS would bill.
//!
//! `cargo bench --workspace --bench aws_requests` (the workspace turns on `aws,testing`)
//! (starts moto from target/test-venv — run scripts/test.sh once — unless
//! SUKUSUKU_MOTO_ENDPOINT names a running one).

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use shared::aws::dynamo::create_table;
use shared::aws::sqs::create_queues;
use shared::aws::testing::{RequestCounter, moto_config, moto_for_bench, unique_name};
use shared::aws::{DynamoStore, SqsQueue, publish_catalog};
use shared::catalog::Catalog;
use shared::domain::{Pregnancy, Resident, UserId};
use shared::handlers::scan::run_daily_scan;
use shared::handlers::send::{DrainPolicy, drain};
use shared::line::MemoryLineApi;
use shared::pacer::Pacer;

const RESIDENTS: u32 = 10_000;

fn summary(counts: &BTreeMap<String, u64>) -> (u64, String) {
    let total = counts.values().sum();
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    (total, parts.join(", "))
}

fn main() {
    let (endpoint, _moto) = moto_for_bench();
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(run(&endpoint));
}

async fn run(endpoint: &str) {
    let config = moto_config(endpoint).await;
    let dynamo_counter = RequestCounter::default();
    let sqs_counter = RequestCounter::default();
    let dynamo = dynamo_counter.dynamo_client(&config);
    let sqs = sqs_counter.sqs_client(&config);
    let table = unique_name("bench");
    create_table(&dynamo, &table)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = DynamoStore::new(dynamo, &table);
    let (url, dlq) = create_queues(&sqs, &unique_name("bench-jobs"), 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let queue = SqsQueue::new(sqs, url, dlq);
    let source = shared::catalog::example_source();
    let catalog = Catalog::from_source(&source).unwrap_or_else(|e| panic!("{e}"));
    let now = Utc
        .with_ymd_and_hms(2026, 12, 15, 0, 0, 0)
        .single()
        .unwrap_or_else(|| panic!("time"));
    publish_catalog(&store, &source, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // 10,000 residents: children born over the last six years (a fifth with a second
    // child), and 2,000 pregnancies due over the next 280 days.
    let day = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap_or_else(|| panic!("date"));
    let started = Instant::now();
    let mut children = 0;
    let mut residents = Vec::new();
    for n in 0..RESIDENTS {
        let mut r =
            Resident::new(UserId::parse(&format!("U{n:032x}")).unwrap_or_else(|| panic!("id")));
        if n % 5 == 0 {
            r.pregnancy = Some(Pregnancy {
                due_date: day + Days::new(u64::from(n / 5 % 280)),
            });
        } else {
            r.add_child(day - Days::new(u64::from(n * 7919 % 2190)));
            children += 1;
            if n % 5 == 1 {
                r.add_child(day - Days::new(u64::from(n * 104_729 % 2190)));
                children += 1;
            }
        }
        residents.push(r);
    }
    // Bulk-loaded: moto copies the whole table for each transaction, which would make
    // 10,000 individual registrations take far longer than the scan being measured.
    store
        .import(&residents)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "registered {RESIDENTS} residents ({children} children, {} pregnancies) in {:.1} s",
        RESIDENTS / 5,
        started.elapsed().as_secs_f64()
    );
    dynamo_counter.take();
    sqs_counter.take();

    let started = Instant::now();
    let report = run_daily_scan(&store, &queue, &catalog, day, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let scan_time = started.elapsed();
    let (dynamo_total, dynamo_ops) = summary(&dynamo_counter.take());
    let (sqs_total, sqs_ops) = summary(&sqs_counter.take());
    println!(
        "scan of {day}: {} due, {} jobs, {} anchor lookups, {:.0} ms on moto",
        report.due,
        report.jobs,
        report.lookups,
        scan_time.as_secs_f64() * 1e3
    );
    println!(
        "  DynamoDB requests: {dynamo_total} ({dynamo_ops}) = {:.3} per item due",
        dynamo_total as f64 / report.due.max(1) as f64
    );
    println!(
        "  SQS requests: {sqs_total} ({sqs_ops}) = {:.2} per job",
        sqs_total as f64 / report.jobs.max(1) as f64
    );

    let line = MemoryLineApi::new();
    let sent = drain(
        &store,
        &queue,
        &line,
        &Pacer::per_second(10_000),
        &DrainPolicy::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let (dynamo_total, dynamo_ops) = summary(&dynamo_counter.take());
    let (sqs_total, sqs_ops) = summary(&sqs_counter.take());
    let jobs = sent.jobs_sent.max(1) as f64;
    println!("send: {} jobs, {} messages", sent.jobs_sent, sent.sent);
    println!(
        "  DynamoDB requests: {dynamo_total} ({dynamo_ops}) = {:.2} per job",
        dynamo_total as f64 / jobs
    );
    println!(
        "  SQS requests (local drain: receive + delete; in Lambda the event source does these): \
         {sqs_total} ({sqs_ops}) = {:.2} per job",
        sqs_total as f64 / jobs
    );

    // Re-running the same day: every resident was served, nothing is enqueued.
    let again = run_daily_scan(&store, &queue, &catalog, day, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (dynamo_total, _) = summary(&dynamo_counter.take());
    println!(
        "re-run of {day}: {} already delivered, {} enqueued, {dynamo_total} DynamoDB requests",
        again.already_delivered, again.enqueued
    );
}
