//! The DynamoDB store and the SQS queue, through the real AWS SDK over HTTP against the
//! moto server: the same contract suites the in-memory implementations pass, plus what only
//! the AWS side has (transactions racing, batches, throttling reported, the catalog item).

#![cfg(feature = "aws")]

use chrono::{TimeZone, Utc};
use shared::aws::dynamo::create_table;
use shared::aws::sqs::create_queues;
use shared::aws::testing::{moto_config, moto_endpoint, table_dump, unique_name};
use shared::aws::{ConfigError, DynamoStore, SqsQueue, load_catalog, publish_catalog};
use shared::catalog::{Catalog, CatalogSource, example_source};
use shared::domain::{Resident, UserId};
use shared::reservations::{
    BookingFor, BookingId, FOR_RESIDENT, Schedule, ServiceId, Slot, SlotRef,
};
use shared::store::bookings::{
    BookingRequest, BookingStore, Release, SeatChange, Stranding, WaitRequest,
};
use shared::store::{EventClaim, Store, StoreError, booking_contract};

async fn fresh_store(endpoint: &str) -> DynamoStore {
    let config = moto_config(endpoint).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("sukusuku");
    create_table(&client, &table).await.expect("create table");
    DynamoStore::new(client, table)
}

async fn fresh_queue(endpoint: &str) -> SqsQueue {
    let config = moto_config(endpoint).await;
    let client = aws_sdk_sqs::Client::new(&config);
    let (url, dlq) = create_queues(&client, &unique_name("jobs"), 8)
        .await
        .expect("create queues");
    SqsQueue::new(client, url, dlq)
}

#[tokio::test]
async fn dynamodb_store_meets_the_store_contract_on_moto() {
    let Some(ep) = moto_endpoint() else { return };
    shared::store::contract::run_all(|| fresh_store(&ep)).await;
}

#[tokio::test]
async fn a_stop_leaves_nothing_of_the_resident_in_the_table() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    shared::store::contract::deletion_leaves_no_trace(&store, |s| {
        let (client, table) = (s.client().clone(), s.table().to_string());
        async move { table_dump(&client, &table).await }
    })
    .await;
}

/// Later features keep more under the resident's partition (settings, bookings, saved
/// places); a stop finds and deletes all of it through the one key, however many items.
#[tokio::test]
async fn a_stop_deletes_every_item_under_the_resident_however_many() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let user = UserId::parse("Umanyitems").expect("id");
    let mut r = Resident::new(user.clone());
    r.add_child(chrono::NaiveDate::from_ymd_opt(2025, 7, 7).expect("date"));
    store.save_resident(&r, None).await.expect("save");
    for n in 0..230 {
        store
            .client()
            .put_item()
            .table_name(store.table())
            .item(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S("user#Umanyitems".into()),
            )
            .item(
                "sk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("place#{n:03}")),
            )
            .send()
            .await
            .expect("put");
    }
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time");
    let claim = EventClaim {
        event_id: "ev-stop".into(),
        now,
    };
    assert_eq!(store.delete_resident(&user, Some(&claim)).await, Ok(true));
    let dump = table_dump(store.client(), store.table()).await;
    assert!(!dump.contains("Umanyitems"), "{dump}");
    assert_eq!(store.claim_event(&claim).await, Ok(false));
}

#[tokio::test]
async fn dynamodb_store_meets_the_booking_contract_on_moto() {
    let Some(ep) = moto_endpoint() else { return };
    // 200 residents book 20 seats at once among it. Transactions take turns on moto only
    // (see `with_serialized_transactions`); every outcome is still the conditions' verdict.
    shared::store::booking_contract::run_booking_suite(|| async {
        fresh_store(&ep).await.with_serialized_transactions()
    })
    .await;
}

fn slot(raw: &str, capacity: u32) -> Slot {
    let slot = SlotRef::parse(raw).expect("slot");
    Slot {
        end: slot.start,
        slot,
        capacity,
    }
}

fn booking_request(r: &Resident, slot: &SlotRef, one_per_resident: bool) -> BookingRequest {
    BookingRequest {
        id: BookingId::derive(&format!("{}/{slot}", r.version)),
        user: r.user_id.clone(),
        resident_version: r.version,
        slot: slot.clone(),
        booked_for: BookingFor(FOR_RESIDENT.into()),
        one_per_resident,
        now: Utc
            .with_ymd_and_hms(2027, 1, 4, 1, 0, 0)
            .single()
            .expect("time"),
        claim: None,
    }
}

/// A resident who held seats (active, released, one with a per-service hold, 60 in all so
/// the stop spans several transactions) stops: every seat is free, and no item anywhere in
/// the table names them, slots' holder maps included.
#[tokio::test]
async fn a_stop_with_bookings_frees_the_seats_and_leaves_no_trace() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let services = ["consult", "checkup"].map(|id| {
        let id = ServiceId::parse(id).expect("service");
        (id.clone(), booking_contract::service(id.as_str()))
    });
    let mut schedule = Schedule {
        services: services.into_iter().collect(),
        slots: Default::default(),
    };
    let mut slots = Vec::new();
    for day in 10..=29 {
        for hour in [9, 10, 13] {
            let s = slot(&format!("consult@2027-01-{day}T{hour:02}:00"), 2);
            slots.push(s.slot.clone());
            schedule.slots.insert(s.slot.clone(), s);
        }
    }
    let checkup = slot("checkup@2027-01-20T13:30", 3);
    schedule.slots.insert(checkup.slot.clone(), checkup.clone());
    store
        .publish_schedule(&schedule, Utc::now())
        .await
        .expect("publish");
    let gone = UserId::parse("U0ddba11c0ffee000000000000000beef").expect("id");
    let stays = store
        .save_resident(&Resident::new(UserId::parse("Ustays").expect("id")), None)
        .await
        .expect("save");
    let mut r = store
        .save_resident(&Resident::new(gone.clone()), None)
        .await
        .expect("save");
    let mut held = Vec::new();
    for s in &slots {
        held.push(
            store
                .book(&booking_request(&r, s, false))
                .await
                .expect("book"),
        );
        r = store.resident(&gone).await.expect("read").expect("stored");
    }
    store
        .book(&booking_request(&r, &checkup.slot, true))
        .await
        .expect("book with a hold");
    r = store.resident(&gone).await.expect("read").expect("stored");
    store
        .release(
            &SeatChange {
                user: &gone,
                booking: &held[0].id,
                resident_version: r.version,
                now: Utc::now(),
                claim: None,
            },
            Release::Cancel,
        )
        .await
        .expect("release");
    store
        .book(&booking_request(&stays, &slots[1], false))
        .await
        .expect("someone else's seat");
    assert_eq!(store.bookings_of(&gone).await.expect("bookings").len(), 61);
    assert!(store.delete_resident(&gone, None).await.expect("stop"));
    for service in ["consult", "checkup"] {
        let states = store
            .slot_states(
                &ServiceId::parse(service).expect("service"),
                chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"),
                chrono::NaiveDate::from_ymd_opt(2027, 1, 31).expect("date"),
            )
            .await
            .expect("slots");
        for s in states {
            let expected = u32::from(s.slot.slot == slots[1]);
            assert_eq!(s.booked, expected, "{:?}", s.slot.slot);
        }
    }
    let dump = table_dump(store.client(), store.table()).await;
    assert!(!dump.contains(gone.as_str()), "{dump}");
    assert!(dump.contains("Ustays"), "the other resident's seat stays");
}

/// Residents on waiting lists stop: one holding an offered seat, one waiting (on one slot,
/// and for a child on a slot where their twins hold both seats). Their places go with them,
/// the offered seat and the booked ones are free, and no item anywhere in the table names
/// them, slots' holder and line maps and the GSI's places included.
#[tokio::test]
async fn a_stop_off_waiting_lists_frees_the_seats_and_leaves_no_trace() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let now = Utc
        .with_ymd_and_hms(2027, 1, 4, 1, 0, 0)
        .single()
        .expect("time");
    let id = ServiceId::parse("consult").expect("service");
    let mut schedule = Schedule::default();
    schedule
        .services
        .insert(id.clone(), booking_contract::service(id.as_str()));
    let a = slot("consult@2027-01-15T10:00", 1);
    let b = slot("consult@2027-01-16T10:00", 2);
    for s in [&a, &b] {
        schedule.slots.insert(s.slot.clone(), s.clone());
    }
    store
        .publish_schedule(&schedule, now)
        .await
        .expect("publish");
    let save = |raw: &str| {
        let store = store.clone();
        let user = UserId::parse(raw).expect("id");
        async move {
            store
                .save_resident(&Resident::new(user), None)
                .await
                .expect("save")
        }
    };
    let reread = |r: &Resident| {
        let store = store.clone();
        let user = r.user_id.clone();
        async move { store.resident(&user).await.expect("read").expect("stored") }
    };
    let wait = |r: &Resident, s: &SlotRef, who: &str, minutes: i64| WaitRequest {
        user: r.user_id.clone(),
        resident_version: r.version,
        slot: s.clone(),
        booked_for: BookingFor::parse(who).expect("for"),
        now: now + chrono::Duration::minutes(minutes),
        claim: None,
    };
    let holder = save("Uholderstays").await;
    let stays = save("Ustaysinline").await;
    let offered = save("U0ffe7ed0000000000000000000c0ffe").await;
    let waiting = save("Uwa171n90000000000000000000c0ffe").await;
    let booked = store
        .book(&booking_request(&holder, &a.slot, false))
        .await
        .expect("a is full");
    let holder = reread(&holder).await;
    store
        .join_waitlist(&wait(&offered, &a.slot, "resident", 1))
        .await
        .expect("first in line");
    store
        .join_waitlist(&wait(&waiting, &a.slot, "resident", 2))
        .await
        .expect("second in line");
    store
        .join_waitlist(&wait(&stays, &a.slot, "resident", 3))
        .await
        .expect("third in line");
    // On b the waiting resident holds both seats, for twins, and waits for a third child:
    // the stop frees all three with one update of b (a transaction touches an item once).
    let mut waiting = reread(&waiting).await;
    for twin in ["c2", "c3"] {
        let mut request = booking_request(&waiting, &b.slot, false);
        request.booked_for = BookingFor::parse(twin).expect("for");
        store.book(&request).await.expect("a seat of b");
        waiting = reread(&waiting).await;
    }
    store
        .join_waitlist(&wait(&waiting, &b.slot, "c1", 4))
        .await
        .expect("the third child waits for b");
    store
        .release(
            &SeatChange {
                user: &holder.user_id,
                booking: &booked.id,
                resident_version: holder.version,
                now,
                claim: None,
            },
            Release::Cancel,
        )
        .await
        .expect("a seat of a frees");
    let offers = store
        .offer_seats(&a.slot, Some(now + chrono::Duration::hours(24)), now)
        .await
        .expect("offer");
    assert_eq!(offers.offered.len(), 1);
    assert_eq!(offers.offered[0].user, offered.user_id);
    let before = table_dump(store.client(), store.table()).await;
    for r in [&offered, &waiting] {
        assert!(before.contains(r.user_id.as_str()));
        assert!(store.delete_resident(&r.user_id, None).await.expect("stop"));
        assert!(
            store
                .waiting_of(&r.user_id)
                .await
                .expect("places")
                .is_empty()
        );
    }
    let states = store
        .slot_states(&a.slot.service, a.slot.date, b.slot.date)
        .await
        .expect("slots");
    let counts: Vec<(u32, u32, u32)> = states
        .iter()
        .map(|s| (s.booked, s.offered, s.waiting))
        .collect();
    assert_eq!(counts, vec![(0, 0, 1), (0, 0, 0)], "{states:?}");
    let lists = store.waitlists().await.expect("lists");
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(lists[0].slot, a.slot);
    assert_eq!(
        lists[0].free, 1,
        "the offered seat is free for the next in line"
    );
    let dump = table_dump(store.client(), store.table()).await;
    for r in [&offered, &waiting] {
        assert!(!dump.contains(r.user_id.as_str()), "{dump}");
    }
    assert!(
        dump.contains(stays.user_id.as_str()),
        "the other place stays"
    );
}

#[tokio::test]
async fn sqs_queue_meets_the_queue_contract_on_moto() {
    let Some(ep) = moto_endpoint() else { return };
    shared::queue::contract::run_all(|| fresh_queue(&ep)).await;
}

#[tokio::test]
async fn concurrent_saves_of_one_resident_lose_nothing_on_dynamodb() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let user = UserId::parse("Uconcurrent").expect("id");
    store
        .save_resident(&Resident::new(user.clone()), None)
        .await
        .expect("create");
    // Eight writers each add a child with read-modify-write; the version condition makes
    // losers re-read, so all eight children end up stored with their anchor entries.
    // The reads race freely, so most saves carry a stale version. The transactions
    // themselves take turns: moto's TransactWriteItems is not isolated (a failing one
    // restores a whole-table copy taken when it started, undoing writes that finished in
    // between), which DynamoDB's are.
    let turns = std::sync::Arc::new(tokio::sync::Mutex::new(()));
    let conflicts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for day in 1..=8u32 {
        let store = store.clone();
        let user = user.clone();
        let turns = turns.clone();
        let conflicts = conflicts.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..40 {
                let mut r = store.resident(&user).await.expect("read").expect("exists");
                r.add_child(chrono::NaiveDate::from_ymd_opt(2026, 1, day).expect("date"));
                tokio::task::yield_now().await;
                let saved = {
                    let _turn = turns.lock().await;
                    store.save_resident(&r, None).await
                };
                match saved {
                    Ok(_) => return true,
                    Err(StoreError::Conflict) => {
                        conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        continue;
                    }
                    Err(e) => panic!("unexpected store error: {e}"),
                }
            }
            false
        }));
    }
    for t in tasks {
        assert!(t.await.expect("task"), "a writer gave up");
    }
    assert!(
        conflicts.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the writers never raced"
    );
    let r = store.resident(&user).await.expect("read").expect("exists");
    assert_eq!(r.children.len(), 8);
    assert_eq!(r.version, 9);
    let range = shared::domain::AnchorRange {
        kind: shared::domain::AnchorKind::BirthDate,
        first: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        last: chrono::NaiveDate::from_ymd_opt(2026, 1, 31).expect("date"),
    };
    assert_eq!(store.anchored(&range).await.expect("lookup").len(), 8);
}

#[tokio::test]
async fn an_unreachable_dynamodb_is_unavailable_not_lost() {
    // Nothing listens on port 9 of loopback: every call fails fast as retryable.
    let config = moto_config("http://127.0.0.1:9").await;
    let config = config
        .to_builder()
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), "nowhere");
    let err = store
        .save_resident(&Resident::new(UserId::parse("Ux").expect("id")), None)
        .await
        .expect_err("cannot save");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_missing_table_is_a_permanent_refusal() {
    let Some(ep) = moto_endpoint() else { return };
    let config = moto_config(&ep).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), "no-such-table");
    let err = store
        .resident(&UserId::parse("Ux").expect("id"))
        .await
        .expect_err("no table");
    assert!(matches!(err, StoreError::Rejected(_)), "{err:?}");
}

#[tokio::test]
async fn catalogs_are_validated_before_they_go_live() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    assert!(matches!(
        load_catalog(&store).await,
        Err(ConfigError::NoCatalog(_))
    ));
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time");
    let published = publish_catalog(&store, &example_source(), now)
        .await
        .expect("publish");
    assert_eq!(published.sha256.len(), 64);
    let broken = "categories:\n  - {id: health, label: 健診}\nmilestones:\n  - id: x\n    anchor: due_date\n    at: {months: 2}\n    category: health\n    text: hi\n";
    let err = publish_catalog(&store, &CatalogSource::without_files(broken), now)
        .await
        .expect_err("invalid catalog");
    assert!(err.to_string().contains("line 6"), "{err}");
    // A catalog whose steps file is not in the bundle is refused too.
    let mut without_steps = example_source();
    without_steps.files.clear();
    let err = publish_catalog(&store, &without_steps, now)
        .await
        .expect_err("steps file missing");
    assert!(err.to_string().contains("pregnancy-weekly.yaml"), "{err}");
    let live = load_catalog(&store).await.expect("still the good one");
    assert_eq!(
        live.milestones().len(),
        published.catalog.milestones().len()
    );
}

/// The bundle a publish stores is exactly what was checked: the catalog and its steps
/// files, compressed into the one catalog item, and every function loads the same series.
#[tokio::test]
async fn a_catalog_with_steps_files_is_published_and_loaded_whole() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time");
    let source = example_source();
    let published = publish_catalog(&store, &source, now)
        .await
        .expect("publish");
    assert!(
        published.stored_bytes * 2 < published.text_bytes,
        "compressed: {} of {} bytes",
        published.stored_bytes,
        published.text_bytes
    );
    let stored = store
        .published_catalog()
        .await
        .expect("read")
        .expect("published");
    assert_eq!(stored.source, source);
    assert_eq!(stored.sha256, published.sha256);
    let live = load_catalog(&store).await.expect("load");
    let local = Catalog::from_source(&source).expect("valid");
    assert_eq!(live.series(), local.series());
    let weekly = live.series_named("pregnancy-weekly").expect("series");
    assert_eq!(weekly.steps.len(), 38);
    assert_eq!(live.questions(), local.questions());
    assert_eq!(live.milestones(), local.milestones());
}

/// Pseudo-random kanji and kana: Japanese text that does not compress, to fill an item.
fn incompressible_japanese(seed: u64, chars: usize) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..chars)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            char::from_u32(0x4E00 + ((x >> 33) % 20_000) as u32).unwrap_or('あ')
        })
        .collect()
}

#[tokio::test]
async fn a_catalog_too_large_for_one_item_is_refused_with_its_sizes() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time");
    publish_catalog(&store, &example_source(), now)
        .await
        .expect("publish");
    // 300 daily steps of 1,000 characters that do not compress: ~900 KB of text.
    let main = "categories:\n  - {id: daily, label: 毎日}\nseries:\n  - id: daily\n    anchor: \
                birth_date\n    from: {days: 0}\n    to: {days: 299}\n    every: {days: 1}\n    \
                category: daily\n    steps_file: daily.yaml\n";
    let steps: String = (0..300u64)
        .map(|n| {
            format!(
                "- at: {{days: {n}}}\n  text: \"{}\"\n",
                incompressible_japanese(n, 1000)
            )
        })
        .collect();
    let big = CatalogSource {
        main: main.to_string(),
        files: [("daily.yaml".to_string(), steps)].into(),
    };
    assert!(
        Catalog::from_source(&big).is_ok(),
        "the catalog itself is valid"
    );
    let err = publish_catalog(&store, &big, now)
        .await
        .expect_err("too large");
    let ConfigError::CatalogTooLarge {
        text_bytes,
        compressed_bytes,
        item_bytes,
        limit,
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(*limit, 400 * 1024);
    assert!(*text_bytes > 900_000, "{err}");
    assert!(
        *item_bytes > *limit && *compressed_bytes < *item_bytes,
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("one DynamoDB item of at most 409600 bytes"),
        "{message}"
    );
    // Nothing changed: the example is still live.
    let live = load_catalog(&store).await.expect("still live");
    assert_eq!(live.series().len(), 3);
}

/// A catalog published before bundles (its YAML in `yaml`) still loads after an upgrade.
#[tokio::test]
async fn a_catalog_published_before_bundles_still_loads() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let yaml = "categories:\n  - {id: health, label: 健診}\nmilestones:\n  - id: dental\n    anchor: due_date\n    at: {weeks: 24}\n    category: health\n    text: 歯科健診\n";
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_string());
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("pk", s("catalog"))
        .item("sk", s("current"))
        .item("yaml", s(yaml))
        .item("sha256", s("old"))
        .item("published_at", s("2026-01-01T00:00:00+00:00"))
        .send()
        .await
        .expect("put");
    let live = load_catalog(&store).await.expect("old item loads");
    assert_eq!(live.milestones().len(), 1);
    // A damaged bundle is reported, not guessed at.
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("pk", s("catalog"))
        .item("sk", s("current"))
        .item(
            "bundle",
            aws_sdk_dynamodb::types::AttributeValue::B(vec![1, 2, 3].into()),
        )
        .item("sha256", s("x"))
        .item("published_at", s("2026-01-01T00:00:00+00:00"))
        .send()
        .await
        .expect("put");
    let err = load_catalog(&store).await.expect_err("damaged");
    assert!(err.to_string().contains("unreadable"), "{err}");
}

/// A stand-in DynamoDB endpoint on loopback that answers every request with `status` and
/// `body`, as DynamoDB does when it throttles or refuses.
async fn answering(status: u16, body: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the headers, then as much body as Content-Length says.
                loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn throttling_is_retryable_and_a_refusal_is_not() {
    let throttled = answering(
        400,
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate of requests exceeds the allowed throughput."}"#,
    )
    .await;
    let config = moto_config(&throttled)
        .await
        .to_builder()
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(std::time::Duration::from_millis(1)),
        )
        .build();
    let store = DynamoStore::from_config(&config, "t");
    let user = UserId::parse("Uthrottled").expect("id");
    let err = store
        .save_resident(&Resident::new(user.clone()), None)
        .await
        .expect_err("throttled");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time");
    assert!(matches!(
        store
            .claim_event(&EventClaim {
                event_id: "01HX".into(),
                now
            })
            .await,
        Err(StoreError::Unavailable(_))
    ));

    let refused = answering(
        400,
        r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"Item size has exceeded the maximum allowed size"}"#,
    )
    .await;
    let store = DynamoStore::from_config(&moto_config(&refused).await, "t");
    let err = store.resident(&user).await.expect_err("refused");
    assert!(matches!(err, StoreError::Rejected(_)), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn imported_residents_are_readable_indexed_and_editable() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let day = chrono::NaiveDate::from_ymd_opt(2025, 4, 10).expect("date");
    let residents: Vec<Resident> = (0..30)
        .map(|n| {
            let mut r = Resident::new(UserId::parse(&format!("Uimport{n}")).expect("id"));
            r.add_child(day);
            r
        })
        .collect();
    let stored = store.import(&residents).await.expect("import");
    assert!(stored.iter().all(|r| r.version == 1));
    let range = shared::domain::AnchorRange {
        kind: shared::domain::AnchorKind::BirthDate,
        first: day,
        last: day,
    };
    assert_eq!(store.anchored(&range).await.expect("lookup").len(), 30);
    let mut first = store
        .resident(&residents[0].user_id)
        .await
        .expect("read")
        .expect("imported");
    assert_eq!(first, stored[0]);
    first.children.clear();
    store
        .save_resident(&first, None)
        .await
        .expect("edit after import");
    assert_eq!(store.anchored(&range).await.expect("lookup").len(), 29);
}

#[tokio::test]
async fn a_live_catalog_picks_up_a_publish_after_its_max_age() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time");
    publish_catalog(&store, &example_source(), now)
        .await
        .expect("publish");
    let fresh = shared::aws::LiveCatalog::load(store.clone(), std::time::Duration::ZERO)
        .await
        .expect("load");
    let cached =
        shared::aws::LiveCatalog::load(store.clone(), std::time::Duration::from_secs(3600))
            .await
            .expect("load");
    assert_eq!(fresh.get().await.milestones().len(), 54);
    let smaller = "categories:\n  - {id: health, label: 健診}\nmilestones:\n  - id: dental\n    anchor: due_date\n    at: {weeks: 24}\n    category: health\n    text: 歯科健診\n";
    publish_catalog(&store, &CatalogSource::without_files(smaller), now)
        .await
        .expect("publish");
    assert_eq!(
        fresh.get().await.milestones().len(),
        1,
        "re-read after max_age"
    );
    assert_eq!(
        cached.get().await.milestones().len(),
        54,
        "kept within max_age"
    );
}

/// The webhook's SDK settings bound a DynamoDB that accepts connections but never answers:
/// the call fails as retryable (LINE redelivers) well inside LINE's 2 seconds.
#[tokio::test]
async fn the_webhook_gives_up_on_a_silent_dynamodb_in_time() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let config =
        shared::aws::lambda::webhook_sdk_config(&moto_config(&format!("http://{addr}")).await);
    let store = DynamoStore::from_config(&config, "t");
    // Without the bound the SDK would wait forever; the margin is for a busy test machine
    // (the bound itself is `STORE_DEADLINE`, 1.2 s).
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        store.resident(&UserId::parse("Usilent").expect("id")),
    )
    .await
    .expect("the SDK gave up by itself");
    let err = read.expect_err("no answer");
    assert!(err.is_retryable(), "{err:?}");
}

/// The consult service the waiting-list tests publish, bookings open 60 days ahead.
fn consult_schedule(slots: &[&Slot]) -> Schedule {
    let id = ServiceId::parse("consult").expect("service");
    let mut schedule = Schedule::default();
    schedule
        .services
        .insert(id.clone(), booking_contract::service(id.as_str()));
    for s in slots {
        schedule.slots.insert(s.slot.clone(), (*s).clone());
    }
    schedule
}

/// 2027-01-04 10:00 JST, and minutes after.
fn at(minutes: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 4, 1, 0, 0)
        .single()
        .expect("time")
        + chrono::Duration::minutes(minutes)
}

async fn saved(store: &DynamoStore, raw: &str) -> Resident {
    store
        .save_resident(&Resident::new(UserId::parse(raw).expect("id")), None)
        .await
        .expect("save")
}

async fn reread(store: &DynamoStore, r: &Resident) -> Resident {
    store
        .resident(&r.user_id)
        .await
        .expect("read")
        .expect("stored")
}

fn cancel<'a>(r: &'a Resident, booking: &'a BookingId) -> SeatChange<'a> {
    SeatChange {
        user: &r.user_id,
        booking,
        resident_version: r.version,
        now: at(0),
        claim: None,
    }
}

fn wait_for(r: &Resident, s: &SlotRef, minutes: i64) -> WaitRequest {
    WaitRequest {
        user: r.user_id.clone(),
        resident_version: r.version,
        slot: s.clone(),
        booked_for: BookingFor(FOR_RESIDENT.into()),
        now: at(minutes),
        claim: None,
    }
}

/// Runs `race` (once) just before the next `TransactWriteItems` of its client goes out:
/// another writer's step landing between a read and the transaction built on it.
#[derive(Clone, Default)]
struct RaceBeforeTransaction(std::sync::Arc<std::sync::Mutex<Option<Race>>>);

/// Another writer's step, run synchronously.
type Race = Box<dyn FnOnce() + Send>;

impl std::fmt::Debug for RaceBeforeTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RaceBeforeTransaction")
    }
}

impl RaceBeforeTransaction {
    fn arm(&self, race: impl FnOnce() + Send + 'static) {
        *self.0.lock().expect("lock") = Some(Box::new(race));
    }

    fn ran(&self) -> bool {
        self.0.lock().expect("lock").is_none()
    }
}

impl aws_sdk_dynamodb::config::Intercept for RaceBeforeTransaction {
    fn name(&self) -> &'static str {
        "RaceBeforeTransaction"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = context.request().headers().get("x-amz-target");
        if target == Some("DynamoDB_20120810.TransactWriteItems") {
            let race = self.0.lock().expect("lock").take();
            if let Some(race) = race {
                race();
            }
        }
        Ok(())
    }
}

/// The race a reviewer found: staff lower a slot to the bookings they saw, and a walk-in
/// books between the publish's read of the slot and its update. The refusing publish must
/// answer Conflict with the slot as it was: its capacity, every booking, the offer held.
#[tokio::test]
async fn a_walk_in_racing_a_refusing_publish_keeps_the_seat_and_the_capacity() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let s = slot("consult@2027-01-15T10:00", 4);
    store
        .publish_schedule(&consult_schedule(&[&s]), at(0))
        .await
        .expect("publish");
    // Two bookings stay, an offer holds a third seat, the fourth is free for anyone.
    let mut holders = Vec::new();
    for raw in ["Uholda", "Uholdb", "Uholdx", "Uholdy"] {
        let r = saved(&store, raw).await;
        let b = store
            .book(&booking_request(&r, &s.slot, false))
            .await
            .expect("book");
        holders.push((reread(&store, &r).await, b));
    }
    let offered = saved(&store, "Uofferedc").await;
    store
        .join_waitlist(&wait_for(&offered, &s.slot, 1))
        .await
        .expect("in line");
    for (r, b) in &holders[2..] {
        store
            .release(&cancel(r, &b.id), Release::Cancel)
            .await
            .expect("cancel");
        store
            .offer_seats(&s.slot, Some(at(24 * 60)), at(2))
            .await
            .expect("sweep");
    }
    let states = store
        .slot_states(&s.slot.service, s.slot.date, s.slot.date)
        .await
        .expect("slots");
    assert_eq!(
        (states[0].booked, states[0].offered, states[0].waiting),
        (2, 1, 0)
    );

    let race = RaceBeforeTransaction::default();
    let config = moto_config(&ep).await;
    let publisher = DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&config)
                .interceptor(race.clone())
                .build(),
        ),
        store.table(),
    );
    let walk_in = saved(&store, "Uwalkind").await;
    let (ep2, table, request) = (
        ep.clone(),
        store.table().to_string(),
        booking_request(&walk_in, &s.slot, false),
    );
    race.arm(move || {
        // The interceptor cannot await: the walk-in books on its own thread and runtime.
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async move {
                    let config = moto_config(&ep2).await;
                    let other = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
                    other.book(&request).await.expect("the walk-in's seat");
                })
        })
        .join()
        .expect("walk-in");
    });
    let mut two = s.clone();
    two.capacity = 2;
    let published = publisher
        .publish(&consult_schedule(&[&two]), at(3), Stranding::Refuse)
        .await;
    assert!(race.ran(), "the publish reached its transaction");
    assert_eq!(published, Err(StoreError::Conflict));
    let states = store
        .slot_states(&s.slot.service, s.slot.date, s.slot.date)
        .await
        .expect("slots");
    assert_eq!(states[0].slot.capacity, 4, "the slot is left as it was");
    assert_eq!(
        (states[0].booked, states[0].offered, states[0].waiting),
        (3, 1, 0)
    );
    let bookings = store
        .bookings_between(s.slot.date, s.slot.date)
        .await
        .expect("bookings");
    assert_eq!(bookings.iter().filter(|b| b.is_active()).count(), 3);
    let mine = store.waiting_of(&offered.user_id).await.expect("mine");
    assert_eq!(mine[0].offered_until, Some(at(24 * 60)), "the offer stands");
    // Without the walk-in the same publish goes through, taking the offer back.
    let gone = store.bookings_of(&walk_in.user_id).await.expect("walk-in");
    let walk_in = reread(&store, &walk_in).await;
    store
        .release(&cancel(&walk_in, &gone[0].id), Release::Cancel)
        .await
        .expect("the walk-in cancels");
    let published = publisher
        .publish(&consult_schedule(&[&two]), at(4), Stranding::Refuse)
        .await
        .expect("fits");
    assert!(published.cancelled.is_empty());
    let withdrawn: Vec<&UserId> = published.withdrawn.iter().map(|w| &w.user).collect();
    assert_eq!(withdrawn, vec![&offered.user_id]);
    assert_eq!(published.withdrawn[0].offered_until, Some(at(24 * 60)));
}

/// A refusing publish leaves a removed slot that holds a booking as it was (its list too);
/// a cancelling one removes it.
#[tokio::test]
async fn a_refusing_publish_keeps_a_removed_slot_that_holds_bookings() {
    let Some(ep) = moto_endpoint() else { return };
    let store = fresh_store(&ep).await;
    let kept = slot("consult@2027-01-15T10:00", 2);
    let removed = slot("consult@2027-01-16T10:00", 1);
    store
        .publish_schedule(&consult_schedule(&[&kept, &removed]), at(0))
        .await
        .expect("publish");
    let holder = saved(&store, "Uholdsremoved").await;
    store
        .book(&booking_request(&holder, &removed.slot, false))
        .await
        .expect("book");
    let waiting = saved(&store, "Uwaitsremoved").await;
    store
        .join_waitlist(&wait_for(&waiting, &removed.slot, 1))
        .await
        .expect("in line");
    assert_eq!(
        store
            .publish(&consult_schedule(&[&kept]), at(2), Stranding::Refuse)
            .await,
        Err(StoreError::Conflict)
    );
    let states = store
        .slot_states(&removed.slot.service, removed.slot.date, removed.slot.date)
        .await
        .expect("slots");
    assert_eq!(states[0].slot.capacity, 1, "the slot is left as it was");
    assert_eq!((states[0].booked, states[0].waiting), (1, 1));
    assert_eq!(
        store
            .waiting_of(&waiting.user_id)
            .await
            .expect("mine")
            .len(),
        1
    );
    let published = store
        .publish(&consult_schedule(&[&kept]), at(3), Stranding::Cancel)
        .await
        .expect("cancelling");
    assert_eq!(published.cancelled.len(), 1);
    assert_eq!(published.dropped.len(), 1);
    assert!(store.waitlists().await.expect("lists").is_empty());
}

/// `told` is kept on the line entry and on the place alike, a withdrawn offer forgets it;
/// when bookings close, a list longer than one transaction ends whole and leaves no place
/// (item or GSI entry) behind.
#[tokio::test]
async fn an_offer_told_reads_told_everywhere_and_a_closed_list_leaves_no_place() {
    let Some(ep) = moto_endpoint() else { return };
    let counter = shared::aws::testing::RequestCounter::default();
    let config = moto_config(&ep).await;
    let store = DynamoStore::new(counter.dynamo_client(&config), unique_name("told"));
    create_table(store.client(), store.table())
        .await
        .expect("create table");
    let s = slot("consult@2027-01-15T10:00", 1);
    store
        .publish_schedule(&consult_schedule(&[&s]), at(0))
        .await
        .expect("publish");
    let holder = saved(&store, "Uholdertold").await;
    let booked = store
        .book(&booking_request(&holder, &s.slot, false))
        .await
        .expect("book");
    let holder = reread(&store, &holder).await;
    let mut line = Vec::new();
    for n in 0..110 {
        let r = saved(&store, &format!("Uinline{n:03}")).await;
        store
            .join_waitlist(&wait_for(&r, &s.slot, n + 1))
            .await
            .expect("in line");
        line.push(r);
    }
    store
        .release(&cancel(&holder, &booked.id), Release::Cancel)
        .await
        .expect("cancel");
    let offers = store
        .offer_seats(&s.slot, Some(at(24 * 60)), at(200))
        .await
        .expect("offer");
    let first = &offers.offered[0];
    assert_eq!(first.user, line[0].user_id);
    counter.take();
    assert!(store.offer_told(first).await.expect("told"));
    assert_eq!(
        counter.take().get("TransactWriteItems"),
        Some(&1),
        "one transaction"
    );
    assert!(store.waiting_of(&first.user).await.expect("mine")[0].told);
    assert!(store.waitlists().await.expect("lists")[0].entries[0].told);
    // Closed for a while (capacity 0), the offer is withdrawn and forgotten; offered again
    // it is a new offer, not told yet.
    let mut closed = s.clone();
    closed.capacity = 0;
    let published = store
        .publish_schedule(&consult_schedule(&[&closed]), at(201))
        .await
        .expect("close");
    assert!(published.withdrawn[0].told, "as it was");
    let mine = store.waiting_of(&first.user).await.expect("mine");
    assert_eq!((mine[0].offered_until, mine[0].told), (None, false));
    assert!(!store.waitlists().await.expect("lists")[0].entries[0].told);
    assert!(!store.offer_told(first).await.expect("withdrawn"));
    counter.take();
    store
        .publish_schedule(&consult_schedule(&[&s]), at(202))
        .await
        .expect("reopen");
    let requests = counter.take();
    assert_eq!(
        (requests.get("UpdateItem"), requests.get("GetItem")),
        (Some(&1), None),
        "a slot whose seats fit is one request: {requests:?}"
    );
    let again = store
        .offer_seats(&s.slot, Some(at(25 * 60)), at(203))
        .await
        .expect("offer again");
    assert!(!again.offered[0].told);
    assert!(!store.waiting_of(&first.user).await.expect("mine")[0].told);
    // Bookings close: everyone leaves the line, over more than one transaction.
    counter.take();
    let ended = store
        .offer_seats(&s.slot, None, at(204))
        .await
        .expect("close the list");
    assert!(counter.take().get("TransactWriteItems") >= Some(&2));
    assert_eq!(ended.ended.len(), line.len());
    assert!(ended.lapsed.is_empty() && ended.offered.is_empty());
    assert_eq!(ended.ended[0].offered_until, Some(at(25 * 60)));
    assert!(store.waitlists().await.expect("lists").is_empty());
    let states = store
        .slot_states(&s.slot.service, s.slot.date, s.slot.date)
        .await
        .expect("slots");
    assert_eq!(
        (states[0].booked, states[0].offered, states[0].waiting),
        (0, 0, 0)
    );
    let dump = table_dump(store.client(), store.table()).await;
    assert!(
        !dump.contains("wait#") && !dump.contains("waitlists") && !dump.contains("Uinline000|"),
        "{dump}"
    );
}
