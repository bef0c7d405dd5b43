//! The daily scan over 1,000,000 registered children: wall time and store lookups. The
//! lookups must equal the catalog's anchor ranges for the day (≤ distinct offsets), not grow
//! with the population. Run: cargo bench --workspace --bench daily_scan

use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use shared::catalog::Catalog;
use shared::dates::add_days;
use shared::domain::{Pregnancy, Resident, UserId};
use shared::handlers::scan::run_daily_scan;
use shared::queue::{MemoryQueue, Queue};
use shared::store::{LocalStore, Store};

const CHILDREN: usize = 1_000_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let catalog = Catalog::from_source(&shared::catalog::example_source()).expect("catalog");
    let store = LocalStore::in_memory();
    let newest = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let span_days = 18 * 365;
    let loading = Instant::now();
    runtime.block_on(async {
        // Families of one to three children with birthdates spread over 18 years, and one
        // pregnancy for every tenth family.
        let (mut children, mut family) = (0usize, 0usize);
        while children < CHILDREN {
            let mut r = Resident::new(UserId::parse(&format!("U{family:032x}")).expect("id"));
            for k in 0..(1 + family % 3).min(CHILDREN - children) {
                let back = ((family * 7919 + k * 104_729) % span_days) as i64;
                r.add_child(add_days(newest, -back).expect("date"));
                children += 1;
            }
            if family % 10 == 0 {
                r.pregnancy = Some(Pregnancy { due_date: add_days(newest, (family % 280) as i64).expect("date") });
            }
            r.easy_japanese = family % 20 == 0;
            store.save_resident(&r, None).await.expect("save");
            family += 1;
        }
        println!("daily scan: {children} children in {family} families (+{} pregnancies), loaded in {:.1?}", family / 10 + 1, loading.elapsed());
    });
    println!(
        "catalog: {} milestones, {} distinct offsets",
        catalog.milestones().len(),
        catalog.distinct_offsets()
    );
    for day in ["2026-12-15", "2027-02-28", "2027-03-31"] {
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("date");
        let queue = MemoryQueue::new();
        let before = store.anchor_lookups();
        let started = Instant::now();
        let report = runtime
            .block_on(run_daily_scan(
                &store,
                &queue,
                &catalog,
                day,
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                    .single()
                    .expect("t"),
            ))
            .expect("scan");
        let elapsed = started.elapsed();
        let lookups = store.anchor_lookups() - before;
        let depth = runtime.block_on(queue.depth()).expect("depth");
        println!(
            "  {day}: {elapsed:.2?} wall, {lookups} store lookups (anchor ranges that day: {}), {} due, {} jobs ({} queued)",
            catalog.lookups_for(day).len(),
            report.due,
            report.jobs,
            depth.visible
        );
        assert_eq!(lookups as usize, catalog.lookups_for(day).len());
    }
}
