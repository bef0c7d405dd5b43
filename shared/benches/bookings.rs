//! Bookings through the real SDK against moto, 200 at once: how many per second, and how many
//! DynamoDB requests each costs (every request the SDK transmits is counted by operation,
//! retries included). Two rounds: 200 residents for one slot of 20 seats (180 are told 満席),
//! then 200 residents spread over 10 slots of 20 (all get a seat).
//!
//! `cargo bench -p shared --features aws,testing --bench bookings` (starts moto from
//! target/test-venv — run scripts/test.sh once — unless SUKUSUKU_MOTO_ENDPOINT names a
//! running one). moto's transactions take turns here (they are not isolated there) and each
//! copies the whole table, so the rate is moto's, far below DynamoDB's; the request counts
//! are what DynamoDB would bill.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use futures_util::future::join_all;
use shared::aws::DynamoStore;
use shared::aws::dynamo::create_table;
use shared::aws::testing::{RequestCounter, moto_config, moto_for_bench, unique_name};
use shared::domain::{Resident, UserId};
use shared::reservations::{
    BookingFor, BookingId, Eligibility, FOR_RESIDENT, Schedule, Service, ServiceId, Slot, SlotRef,
};
use shared::store::bookings::{BookingError, BookingRequest, BookingStore};

const AT_ONCE: u32 = 200;
const SEATS: u32 = 20;
const SPREAD_SLOTS: u32 = 10;

fn summary(counts: &BTreeMap<String, u64>) -> (u64, String) {
    let total = counts
        .iter()
        .filter(|(k, _)| !k.contains('.'))
        .map(|(_, v)| v)
        .sum();
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    (total, parts.join(", "))
}

fn main() {
    let (endpoint, _moto) = moto_for_bench();
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(run(&endpoint));
}

fn slot(raw: &str) -> Slot {
    let slot = SlotRef::parse(raw).unwrap_or_else(|| panic!("slot {raw}"));
    Slot {
        end: slot.start + Duration::minutes(30),
        slot,
        capacity: SEATS,
    }
}

async fn run(endpoint: &str) {
    let config = moto_config(endpoint).await;
    let counter = RequestCounter::default();
    let dynamo = counter.dynamo_client(&config);
    let table = unique_name("bench-bookings");
    create_table(&dynamo, &table)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = DynamoStore::new(dynamo, &table).with_serialized_transactions();
    let now = Utc
        .with_ymd_and_hms(2027, 1, 4, 1, 0, 0)
        .single()
        .unwrap_or_else(|| panic!("time"));
    let id = ServiceId::parse("checkup").unwrap_or_else(|| panic!("service"));
    let mut schedule = Schedule::default();
    schedule.services.insert(
        id.clone(),
        Service {
            id,
            name: "4か月児健診".into(),
            place: "保健センター".into(),
            description: String::new(),
            who: Eligibility::Anyone,
            opens_days_before: 60,
            closes_days_before: 0,
            many_per_resident: false,
            remind_days_before: 1,
            offer_hours: 24,
            easy_name: None,
            easy_description: None,
        },
    );
    let contended = slot("checkup@2027-01-15T13:30");
    schedule
        .slots
        .insert(contended.slot.clone(), contended.clone());
    let spread: Vec<Slot> = (0..SPREAD_SLOTS)
        .map(|n| slot(&format!("checkup@2027-01-{:02}T10:00", 16 + n)))
        .collect();
    for s in &spread {
        schedule.slots.insert(s.slot.clone(), s.clone());
    }
    store
        .publish_schedule(&schedule, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let residents: Vec<Resident> = (0..2 * AT_ONCE)
        .map(|n| {
            Resident::new(UserId::parse(&format!("U{n:032x}")).unwrap_or_else(|| panic!("id")))
        })
        .collect();
    let residents = store
        .import(&residents)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    counter.take();

    let request = |r: &Resident, s: &SlotRef| BookingRequest {
        id: BookingId::derive(&format!("{}/{s}", r.user_id.as_str())),
        user: r.user_id.clone(),
        resident_version: r.version,
        slot: s.clone(),
        booked_for: BookingFor(FOR_RESIDENT.into()),
        one_per_resident: true,
        now,
        claim: None,
    };

    let rounds = [
        (
            format!("{AT_ONCE} residents for one slot of {SEATS}"),
            residents[..AT_ONCE as usize]
                .iter()
                .map(|r| request(r, &contended.slot))
                .collect::<Vec<_>>(),
        ),
        (
            format!("{AT_ONCE} residents over {SPREAD_SLOTS} slots of {SEATS}"),
            residents[AT_ONCE as usize..]
                .iter()
                .enumerate()
                .map(|(i, r)| request(r, &spread[i % spread.len()].slot))
                .collect(),
        ),
    ];
    memory_rounds(&schedule, &rounds, now).await;
    for (name, requests) in rounds {
        let started = Instant::now();
        let outcomes = join_all(requests.iter().map(|r| store.book(r))).await;
        let elapsed = started.elapsed().as_secs_f64();
        let booked = outcomes.iter().filter(|o| o.is_ok()).count();
        let full = outcomes
            .iter()
            .filter(|o| matches!(o, Err(BookingError::Full)))
            .count();
        let other = outcomes.len() - booked - full;
        let (total, ops) = summary(&counter.take());
        println!(
            "{name}: {booked} booked, {full} full, {other} other, in {:.2} s = {:.0} answers/s on moto",
            elapsed,
            outcomes.len() as f64 / elapsed
        );
        println!(
            "  DynamoDB requests: {total} ({ops}) = {:.2} per answer",
            total as f64 / outcomes.len() as f64
        );
        assert_eq!(
            booked,
            if full > 0 {
                SEATS as usize
            } else {
                AT_ONCE as usize
            }
        );
        assert_eq!(other, 0, "every answer is a seat or 満席");
    }
}

/// The same rounds on the embedded store (`serve`), each booking its own task on the
/// multi-threaded runtime, checked like the moto rounds.
async fn memory_rounds(
    schedule: &Schedule,
    rounds: &[(String, Vec<BookingRequest>)],
    now: chrono::DateTime<Utc>,
) {
    use shared::store::{LocalStore, Store};
    use std::sync::Arc;
    for (name, requests) in rounds {
        let store = Arc::new(LocalStore::in_memory());
        store
            .publish_schedule(schedule, now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut prepared = Vec::new();
        for r in requests {
            let saved = store
                .save_resident(&Resident::new(r.user.clone()), None)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut r = r.clone();
            r.resident_version = saved.version;
            prepared.push(r);
        }
        let started = Instant::now();
        let tasks: Vec<_> = prepared
            .into_iter()
            .map(|r| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.book(&r).await })
            })
            .collect();
        let outcomes: Vec<_> = join_all(tasks)
            .await
            .into_iter()
            .map(|t| t.unwrap_or_else(|e| panic!("task: {e}")))
            .collect();
        let elapsed = started.elapsed().as_secs_f64();
        let booked = outcomes.iter().filter(|o| o.is_ok()).count();
        let full = outcomes
            .iter()
            .filter(|o| matches!(o, Err(BookingError::Full)))
            .count();
        assert_eq!(
            booked + full,
            outcomes.len(),
            "every answer is a seat or 満席"
        );
        assert_eq!(
            booked,
            if full > 0 {
                SEATS as usize
            } else {
                AT_ONCE as usize
            }
        );
        println!(
            "{name}: {booked} booked, {full} full, in {:.2} ms = {:.0} answers/s in memory",
            elapsed * 1000.0,
            outcomes.len() as f64 / elapsed
        );
    }
}
