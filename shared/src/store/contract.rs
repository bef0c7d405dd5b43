//! The behaviour every [`Store`] must have. Each implementation's tests call [`run_all`]
//! with a factory of fresh, empty stores; the DynamoDB store runs the same suite on moto.

use chrono::{Duration, NaiveDate, TimeZone, Utc};

use super::{DELIVERY_RECORD_TTL, EVENT_CLAIM_TTL, Store, StoreError};
use crate::domain::{AnchorKind, AnchorRange, Pregnancy, Resident, UserId};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

fn user(n: u32) -> UserId {
    UserId::parse(&format!("U{n:032x}")).expect("valid test id")
}

fn range(kind: AnchorKind, first: NaiveDate, last: NaiveDate) -> AnchorRange {
    AnchorRange { kind, first, last }
}

/// `make` yields a fresh, empty store (async: a DynamoDB table has to be created).
pub async fn run_all<S: Store, F: Fn() -> Fut, Fut: std::future::Future<Output = S>>(make: F) {
    residents_round_trip(&make().await).await;
    stale_writes_conflict(&make().await).await;
    anchors_follow_the_resident(&make().await).await;
    anchor_ranges_are_inclusive_and_kind_specific(&make().await).await;
    delete_removes_everything(&make().await).await;
    event_claims_are_once_until_expiry(&make().await).await;
    deliveries_are_remembered(&make().await).await;
    large_delivery_batches(&make().await).await;
}

/// More recipients than one batch request carries (100 reads, 25 writes on DynamoDB).
async fn large_delivery_batches<S: Store>(store: &S) {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time");
    let users: Vec<UserId> = (0..260).map(user).collect();
    store
        .record_delivery("job-big", "m#2026-11-22#big", &users[..230], now)
        .await
        .expect("record");
    let got = store
        .delivered_among("m#2026-11-22#big", &users, now)
        .await
        .expect("check");
    assert_eq!(got.len(), 230);
    assert!(users[..230].iter().all(|u| got.contains(u)));
}

async fn residents_round_trip<S: Store>(store: &S) {
    assert_eq!(store.resident(&user(1)).await, Ok(None));
    let mut r = Resident::new(user(1));
    r.pregnancy = Some(Pregnancy {
        due_date: d(2027, 3, 1),
    });
    r.add_child(d(2025, 11, 20));
    r.easy_japanese = true;
    let saved = store.save_resident(&r).await.expect("first save");
    assert_eq!(saved.version, 1);
    let read = store
        .resident(&user(1))
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(read, saved);
    assert_eq!(store.resident(&user(2)).await, Ok(None));
}

async fn stale_writes_conflict<S: Store>(store: &S) {
    let r = Resident::new(user(1));
    let v1 = store.save_resident(&r).await.expect("create");
    // A second create of the same resident is a conflict, not an overwrite.
    assert_eq!(store.save_resident(&r).await, Err(StoreError::Conflict));
    let mut a = v1.clone();
    a.add_child(d(2024, 1, 1));
    let v2 = store.save_resident(&a).await.expect("update from v1");
    assert_eq!(v2.version, 2);
    let mut b = v1.clone();
    b.easy_japanese = true;
    assert_eq!(store.save_resident(&b).await, Err(StoreError::Conflict));
    let read = store
        .resident(&user(1))
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(read.children.len(), 1, "the losing write changed nothing");
    assert!(!read.easy_japanese);
}

async fn anchors_follow_the_resident<S: Store>(store: &S) {
    let mut r = Resident::new(user(1));
    r.pregnancy = Some(Pregnancy {
        due_date: d(2027, 3, 1),
    });
    let r = store.save_resident(&r).await.expect("save");
    let due = range(AnchorKind::DueDate, d(2027, 3, 1), d(2027, 3, 1));
    let found = store.anchored(&due).await.expect("lookup");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].user_id, user(1));
    assert_eq!(found[0].subject, "pregnancy");
    // Changing the due date moves the entry; nothing stays at the old date.
    let mut moved = r.clone();
    moved.pregnancy = Some(Pregnancy {
        due_date: d(2027, 3, 8),
    });
    moved.easy_japanese = true;
    store.save_resident(&moved).await.expect("move");
    assert!(store.anchored(&due).await.expect("lookup").is_empty());
    let new = store
        .anchored(&range(AnchorKind::DueDate, d(2027, 3, 8), d(2027, 3, 8)))
        .await
        .expect("lookup");
    assert_eq!(new.len(), 1);
    assert!(
        new[0].easy_japanese,
        "entries carry the delivery preferences"
    );
}

async fn anchor_ranges_are_inclusive_and_kind_specific<S: Store>(store: &S) {
    for (n, day) in [(1, 27), (2, 28), (3, 29), (4, 31)] {
        let mut r = Resident::new(user(n));
        r.add_child(d(2027, 1, day));
        store.save_resident(&r).await.expect("save");
    }
    let mut twins = Resident::new(user(5));
    twins.add_child(d(2027, 1, 28));
    twins.add_child(d(2027, 1, 28));
    twins.pregnancy = Some(Pregnancy {
        due_date: d(2027, 1, 28),
    });
    store.save_resident(&twins).await.expect("save");
    let births = store
        .anchored(&range(
            AnchorKind::BirthDate,
            d(2027, 1, 28),
            d(2027, 1, 31),
        ))
        .await
        .expect("lookup");
    let mut seen: Vec<(UserId, String)> = births
        .iter()
        .map(|e| (e.user_id.clone(), e.subject.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (user(2), "c1".to_string()),
            (user(3), "c1".to_string()),
            (user(4), "c1".to_string()),
            (user(5), "c1".to_string()),
            (user(5), "c2".to_string()),
        ]
    );
    let dues = store
        .anchored(&range(AnchorKind::DueDate, d(2027, 1, 28), d(2027, 1, 28)))
        .await
        .expect("lookup");
    assert_eq!(dues.len(), 1);
    assert!(
        store
            .anchored(&range(AnchorKind::BirthDate, d(2027, 2, 1), d(2027, 2, 28)))
            .await
            .expect("lookup")
            .is_empty()
    );
}

async fn delete_removes_everything<S: Store>(store: &S) {
    let mut r = Resident::new(user(1));
    r.add_child(d(2025, 5, 5));
    r.pregnancy = Some(Pregnancy {
        due_date: d(2027, 5, 5),
    });
    store.save_resident(&r).await.expect("save");
    assert_eq!(store.delete_resident(&user(1)).await, Ok(true));
    assert_eq!(store.delete_resident(&user(1)).await, Ok(false));
    assert_eq!(store.resident(&user(1)).await, Ok(None));
    for (kind, day) in [
        (AnchorKind::BirthDate, d(2025, 5, 5)),
        (AnchorKind::DueDate, d(2027, 5, 5)),
    ] {
        assert!(
            store
                .anchored(&range(kind, day, day))
                .await
                .expect("lookup")
                .is_empty()
        );
    }
    // Registering again after a stop starts from version 0.
    let again = store
        .save_resident(&Resident::new(user(1)))
        .await
        .expect("re-register");
    assert_eq!(again.version, 1);
}

async fn event_claims_are_once_until_expiry<S: Store>(store: &S) {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time");
    assert_eq!(store.claim_event("01HEVENT", now).await, Ok(true));
    assert_eq!(store.claim_event("01HEVENT", now).await, Ok(false));
    assert_eq!(store.claim_event("01HOTHER", now).await, Ok(true));
    store.release_event("01HEVENT").await.expect("release");
    assert_eq!(store.claim_event("01HEVENT", now).await, Ok(true));
    let later = now + EVENT_CLAIM_TTL + Duration::seconds(1);
    assert_eq!(
        store.claim_event("01HEVENT", later).await,
        Ok(true),
        "expired claims free the id"
    );
    store
        .release_event("never-claimed")
        .await
        .expect("release of an unknown id is fine");
}

async fn deliveries_are_remembered<S: Store>(store: &S) {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time");
    let users = [user(1), user(2), user(3)];
    assert!(
        store
            .delivered_among("m#2026-11-22#x", &users, now)
            .await
            .expect("check")
            .is_empty()
    );
    assert_eq!(store.job_done("job-a", now).await, Ok(false));
    store
        .record_delivery("job-a", "m#2026-11-22#x", &users[..2], now)
        .await
        .expect("record");
    let got = store
        .delivered_among("m#2026-11-22#x", &users, now)
        .await
        .expect("check");
    assert_eq!(got.len(), 2);
    assert!(got.contains(&user(1)) && got.contains(&user(2)) && !got.contains(&user(3)));
    assert!(
        store
            .delivered_among("m#2026-11-23#x", &users, now)
            .await
            .expect("check")
            .is_empty()
    );
    assert_eq!(store.job_done("job-a", now).await, Ok(true));
    assert_eq!(store.job_done("job-b", now).await, Ok(false));
    let much_later = now + DELIVERY_RECORD_TTL + Duration::days(1);
    assert_eq!(store.job_done("job-a", much_later).await, Ok(false));
}
