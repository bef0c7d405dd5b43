//! The behaviour every [`Store`] must have. Each implementation's tests call [`run_all`]
//! with a factory of fresh, empty stores; the DynamoDB store runs the same suite on moto.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use super::{EVENT_CLAIM_TTL, EventClaim, Store, StoreError};
use crate::delivery::{Mark, Recipient};
use crate::domain::{AnchorKind, AnchorRange, Pregnancy, Resident, Settings, UserId};

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
    claims_are_one_step_with_the_change(&make().await).await;
    deliveries_are_remembered_per_subject(&make().await).await;
    corrections_keep_what_was_delivered(&make().await).await;
    no_delivery_record_outlives_a_stop(&make().await).await;
    large_delivery_batches(&make().await).await;
    scans_are_recorded(&make().await).await;
    settings_reach_the_index_entries(&make().await).await;
    series_steps_are_one_number_per_series(&make().await).await;
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("time")
}

fn claim(id: &str, now: DateTime<Utc>) -> EventClaim {
    EventClaim {
        event_id: id.to_string(),
        now,
    }
}

fn to(user: &UserId, subjects: &[&str]) -> Recipient {
    Recipient {
        user: user.clone(),
        subjects: subjects.iter().map(|s| s.to_string()).collect(),
    }
}

async fn residents_round_trip<S: Store>(store: &S) {
    assert_eq!(store.resident(&user(1)).await, Ok(None));
    let mut r = Resident::new(user(1));
    r.pregnancy = Some(Pregnancy {
        due_date: d(2027, 3, 1),
    });
    r.add_child(d(2025, 11, 20));
    r.easy_japanese = true;
    let saved = store.save_resident(&r, None).await.expect("first save");
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
    let v1 = store.save_resident(&r, None).await.expect("create");
    // A second create of the same resident is a conflict, not an overwrite.
    assert_eq!(
        store.save_resident(&r, None).await,
        Err(StoreError::Conflict)
    );
    let mut a = v1.clone();
    a.add_child(d(2024, 1, 1));
    let v2 = store.save_resident(&a, None).await.expect("update from v1");
    assert_eq!(v2.version, 2);
    let mut b = v1.clone();
    b.easy_japanese = true;
    assert_eq!(
        store.save_resident(&b, None).await,
        Err(StoreError::Conflict)
    );
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
    let r = store.save_resident(&r, None).await.expect("save");
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
    store.save_resident(&moved, None).await.expect("move");
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
        store.save_resident(&r, None).await.expect("save");
    }
    let mut twins = Resident::new(user(5));
    twins.add_child(d(2027, 1, 28));
    twins.add_child(d(2027, 1, 28));
    twins.pregnancy = Some(Pregnancy {
        due_date: d(2027, 1, 28),
    });
    store.save_resident(&twins, None).await.expect("save");
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
    store.save_resident(&r, None).await.expect("save");
    assert_eq!(store.delete_resident(&user(1), None).await, Ok(true));
    assert_eq!(store.delete_resident(&user(1), None).await, Ok(false));
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
        .save_resident(&Resident::new(user(1)), None)
        .await
        .expect("re-register");
    assert_eq!(again.version, 1);
}

async fn event_claims_are_once_until_expiry<S: Store>(store: &S) {
    let now = now();
    assert_eq!(store.claim_event(&claim("01HEVENT", now)).await, Ok(true));
    assert_eq!(store.claim_event(&claim("01HEVENT", now)).await, Ok(false));
    assert_eq!(store.claim_event(&claim("01HOTHER", now)).await, Ok(true));
    let later = now + EVENT_CLAIM_TTL + Duration::seconds(1);
    assert_eq!(
        store.claim_event(&claim("01HEVENT", later)).await,
        Ok(true),
        "expired claims free the id"
    );
}

/// The claim of a webhook event is stored with the change it causes, or not at all.
async fn claims_are_one_step_with_the_change<S: Store>(store: &S) {
    let now = now();
    let mut r = Resident::new(user(1));
    r.add_child(d(2025, 6, 1));
    let saved = store
        .save_resident(&r, Some(&claim("ev-save", now)))
        .await
        .expect("save with claim");
    // The same event again: refused as a duplicate, nothing changes.
    let mut again = saved.clone();
    again.add_child(d(2025, 6, 2));
    assert_eq!(
        store
            .save_resident(&again, Some(&claim("ev-save", now)))
            .await,
        Err(StoreError::DuplicateEvent)
    );
    assert_eq!(store.claim_event(&claim("ev-save", now)).await, Ok(false));
    assert_eq!(
        store.resident(&user(1)).await.expect("read"),
        Some(saved.clone())
    );
    // A conflicting save stores neither the change nor the claim.
    let mut stale = r.clone();
    stale.easy_japanese = true;
    assert_eq!(
        store
            .save_resident(&stale, Some(&claim("ev-stale", now)))
            .await,
        Err(StoreError::Conflict)
    );
    assert_eq!(store.claim_event(&claim("ev-stale", now)).await, Ok(true));
    // A delete under an already processed event changes nothing.
    assert_eq!(
        store
            .delete_resident(&user(1), Some(&claim("ev-save", now)))
            .await,
        Err(StoreError::DuplicateEvent)
    );
    assert!(store.resident(&user(1)).await.expect("read").is_some());
    assert_eq!(
        store
            .delete_resident(&user(1), Some(&claim("ev-stop", now)))
            .await,
        Ok(true)
    );
    assert_eq!(store.claim_event(&claim("ev-stop", now)).await, Ok(false));
    // Deleting someone unknown still records the event (a repeated unfollow).
    assert_eq!(
        store
            .delete_resident(&user(9), Some(&claim("ev-nobody", now)))
            .await,
        Ok(false)
    );
    assert_eq!(store.claim_event(&claim("ev-nobody", now)).await, Ok(false));
}

async fn deliveries_are_remembered_per_subject<S: Store>(store: &S) {
    let mut twins = Resident::new(user(1));
    twins.add_child(d(2026, 1, 10));
    twins.add_child(d(2026, 1, 10));
    store.save_resident(&twins, None).await.expect("save");
    let mut single = Resident::new(user(2));
    single.add_child(d(2026, 1, 10));
    store.save_resident(&single, None).await.expect("save");
    let job = [
        to(&user(1), &["c1", "c2"]),
        to(&user(2), &["c1"]),
        to(&user(3), &["c1"]),
    ];
    assert_eq!(
        store
            .undelivered(&Mark::Milestone("m1"), &job)
            .await
            .expect("check"),
        vec![to(&user(1), &["c1", "c2"]), to(&user(2), &["c1"])],
        "an unregistered resident is nobody to send to"
    );
    store
        .record_delivery(&Mark::Milestone("m1"), &[to(&user(1), &["c1"])])
        .await
        .expect("record");
    assert_eq!(
        store
            .undelivered(&Mark::Milestone("m1"), &job)
            .await
            .expect("check"),
        vec![to(&user(1), &["c2"]), to(&user(2), &["c1"])]
    );
    store
        .record_delivery(
            &Mark::Milestone("m1"),
            &[to(&user(1), &["c2"]), to(&user(2), &["c1"])],
        )
        .await
        .expect("record");
    assert_eq!(
        store
            .undelivered(&Mark::Milestone("m1"), &job)
            .await
            .expect("check"),
        vec![]
    );
    assert_eq!(
        store
            .undelivered(&Mark::Milestone("m2"), &job)
            .await
            .expect("check")
            .len(),
        2,
        "other milestones are not affected"
    );
    let entries = store
        .anchored(&range(
            AnchorKind::BirthDate,
            d(2026, 1, 10),
            d(2026, 1, 10),
        ))
        .await
        .expect("lookup");
    assert_eq!(entries.len(), 3);
    for e in entries {
        assert_eq!(e.delivered, BTreeSet::from(["m1".to_string()]));
    }
}

/// A corrected date moves the entry but keeps what was delivered: once per pregnancy or
/// child. A pregnancy or child removed and registered again is a new subject.
async fn corrections_keep_what_was_delivered<S: Store>(store: &S) {
    let mut r = Resident::new(user(1));
    r.pregnancy = Some(Pregnancy {
        due_date: d(2027, 3, 1),
    });
    let r = store.save_resident(&r, None).await.expect("save");
    store
        .record_delivery(
            &Mark::Milestone("pregnancy-2m"),
            &[to(&user(1), &["pregnancy"])],
        )
        .await
        .expect("record");
    let mut corrected = r.clone();
    corrected.pregnancy = Some(Pregnancy {
        due_date: d(2027, 3, 8),
    });
    let corrected = store
        .save_resident(&corrected, None)
        .await
        .expect("correct");
    let found = store
        .anchored(&range(AnchorKind::DueDate, d(2027, 3, 8), d(2027, 3, 8)))
        .await
        .expect("lookup");
    assert_eq!(found.len(), 1);
    assert!(found[0].delivered.contains("pregnancy-2m"));
    assert_eq!(
        store
            .undelivered(
                &Mark::Milestone("pregnancy-2m"),
                &[to(&user(1), &["pregnancy"])]
            )
            .await
            .expect("check"),
        vec![]
    );
    // Removing the pregnancy removes its record; a new one starts afresh.
    let mut ended = corrected.clone();
    ended.pregnancy = None;
    let ended = store.save_resident(&ended, None).await.expect("remove");
    let mut next = ended.clone();
    next.pregnancy = Some(Pregnancy {
        due_date: d(2028, 1, 1),
    });
    store
        .save_resident(&next, None)
        .await
        .expect("new pregnancy");
    assert_eq!(
        store
            .undelivered(
                &Mark::Milestone("pregnancy-2m"),
                &[to(&user(1), &["pregnancy"])]
            )
            .await
            .expect("check"),
        vec![to(&user(1), &["pregnancy"])]
    );
}

/// A send that finishes after the resident stopped leaves no record behind.
async fn no_delivery_record_outlives_a_stop<S: Store>(store: &S) {
    let mut r = Resident::new(user(1));
    r.add_child(d(2026, 2, 2));
    store.save_resident(&r, None).await.expect("save");
    assert_eq!(store.delete_resident(&user(1), None).await, Ok(true));
    store
        .record_delivery(&Mark::Milestone("m1"), &[to(&user(1), &["c1"])])
        .await
        .expect("recording for nobody is not an error");
    let mut back = Resident::new(user(1));
    back.add_child(d(2026, 2, 2));
    store
        .save_resident(&back, None)
        .await
        .expect("register again");
    assert_eq!(
        store
            .undelivered(&Mark::Milestone("m1"), &[to(&user(1), &["c1"])])
            .await
            .expect("check"),
        vec![to(&user(1), &["c1"])]
    );
}

/// More recipients than one batch request carries (100 keys a read on DynamoDB).
async fn large_delivery_batches<S: Store>(store: &S) {
    let users: Vec<UserId> = (0..260).map(user).collect();
    let mut recipients = Vec::new();
    for u in &users {
        let mut r = Resident::new(u.clone());
        r.add_child(d(2026, 3, 3));
        store.save_resident(&r, None).await.expect("save");
        recipients.push(to(u, &["c1"]));
    }
    store
        .record_delivery(&Mark::Milestone("big"), &recipients[..230])
        .await
        .expect("record");
    let left = store
        .undelivered(&Mark::Milestone("big"), &recipients)
        .await
        .expect("check");
    assert_eq!(left, recipients[230..].to_vec());
}

async fn scans_are_recorded<S: Store>(store: &S) {
    assert_eq!(store.last_scanned_before(d(2026, 11, 23)).await, Ok(None));
    store
        .record_scan(d(2026, 11, 21), now())
        .await
        .expect("record");
    store
        .record_scan(d(2026, 11, 22), now())
        .await
        .expect("record");
    store
        .record_scan(d(2026, 11, 20), now())
        .await
        .expect("a backfill");
    assert_eq!(
        store.last_scanned_before(d(2026, 11, 23)).await,
        Ok(Some(d(2026, 11, 22)))
    );
    // A run for a later day (by hand) does not hide the days before it.
    store
        .record_scan(d(2026, 12, 24), now())
        .await
        .expect("a run for a later day");
    assert_eq!(
        store.last_scanned_before(d(2026, 11, 25)).await,
        Ok(Some(d(2026, 11, 22)))
    );
    assert_eq!(
        store.last_scanned_before(d(2026, 11, 22)).await,
        Ok(Some(d(2026, 11, 21)))
    );
    assert_eq!(store.last_scanned_before(d(2026, 11, 20)).await, Ok(None));
}

/// The user id of the resident [`deletion_leaves_no_trace`] registers and deletes.
pub const NO_TRACE_USER: &str = "U7e1f0c0ffee5ca1ab1e0000000000042";

/// After a stop, the whole store (read by `dump`, e.g. a table scan or the journal file)
/// holds nothing of the resident: not the user id, not a date, nothing derived from them.
pub async fn deletion_leaves_no_trace<S, D, Fut>(store: &S, dump: D)
where
    S: Store,
    D: Fn(&S) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let gone = UserId::parse(NO_TRACE_USER).expect("id");
    // Someone else stays, so an empty store cannot pass by accident.
    let mut stays = Resident::new(user(7));
    stays.add_child(d(2024, 4, 4));
    store.save_resident(&stays, None).await.expect("save");
    let mut r = Resident::new(gone.clone());
    r.pregnancy = Some(Pregnancy {
        due_date: d(2027, 9, 19),
    });
    r.add_child(d(2023, 8, 17));
    r.add_child(d(2023, 8, 17));
    r.children[0].nickname = Some("ひまりちゃん".into());
    r.settings.district = Some("kita-district".into());
    let r = store
        .save_resident(&r, Some(&claim("ev-register", now())))
        .await
        .expect("save");
    let mut corrected = r.clone();
    corrected.pregnancy = Some(Pregnancy {
        due_date: d(2027, 9, 26),
    });
    store
        .save_resident(&corrected, None)
        .await
        .expect("correct");
    store
        .record_delivery(
            &Mark::Milestone("fluoride-1y2m"),
            &[to(&gone, &["c1", "c2"]), to(&user(7), &["c1"])],
        )
        .await
        .expect("record");
    store
        .record_delivery(
            &Mark::Milestone("pregnancy-7m"),
            &[to(&gone, &["pregnancy"])],
        )
        .await
        .expect("record");
    store
        .record_delivery(
            &Mark::Step {
                series: "pregnancy-daily",
                day: 61,
            },
            &[to(&gone, &["pregnancy"])],
        )
        .await
        .expect("record");
    let before = dump(store).await;
    for trace in [
        NO_TRACE_USER,
        "2027-09-26",
        "2023-08-17",
        "fluoride-1y2m",
        "ひまりちゃん",
        "kita-district",
        "pregnancy-daily",
    ] {
        assert!(
            before.contains(trace),
            "the dump shows {trace} before the stop"
        );
    }
    assert_eq!(
        store
            .delete_resident(&gone, Some(&claim("ev-stop", now())))
            .await,
        Ok(true)
    );
    let after = dump(store).await;
    for trace in [
        NO_TRACE_USER,
        "2027-09-26",
        "2027-09-19",
        "2023-08-17",
        "2027-09",
        "2023-08",
        "pregnancy-7m",
        "ひまりちゃん",
        "kita-district",
        "pregnancy-daily",
    ] {
        assert!(
            !after.contains(trace),
            "`{trace}` is still in the store after the stop:\n{after}"
        );
    }
    assert!(after.contains("2024-04-04"), "the other resident stays");
    assert!(after.contains(user(7).as_str()));
}

/// The daily scan filters on what the index lookup returns, so every save must copy the
/// resident's settings (and nicknames) onto the entries, and a settings change alone must
/// rewrite them, keeping what was delivered.
async fn settings_reach_the_index_entries<S: Store>(store: &S) {
    let mut r = Resident::new(user(1));
    r.add_child(d(2025, 11, 20));
    r.pregnancy = Some(Pregnancy {
        due_date: d(2027, 3, 1),
    });
    let r = store.save_resident(&r, None).await.expect("save");
    store
        .record_delivery(&Mark::Milestone("one-week"), &[to(&user(1), &["c1"])])
        .await
        .expect("record");
    let births = range(AnchorKind::BirthDate, d(2025, 11, 20), d(2025, 11, 20));
    let entry = store.anchored(&births).await.expect("lookup").remove(0);
    assert_eq!(entry.settings, Settings::default());
    assert_eq!(entry.nickname, None);

    let mut changed = r.clone();
    changed.settings.muted.insert("events".into());
    changed.settings.district = Some("chuo".into());
    changed.settings.household.insert("single-parent".into());
    changed.settings.nursery = Some("planning".into());
    changed.easy_japanese = true;
    changed.children[0].nickname = Some("はるちゃん".into());
    let changed = store
        .save_resident(&changed, None)
        .await
        .expect("save settings");
    let entry = store.anchored(&births).await.expect("lookup").remove(0);
    assert_eq!(
        entry.settings, changed.settings,
        "settings are on the child's entry"
    );
    assert_eq!(entry.nickname.as_deref(), Some("はるちゃん"));
    assert!(entry.easy_japanese);
    assert!(
        entry.delivered.contains("one-week"),
        "a settings change keeps deliveries"
    );
    let dues = range(AnchorKind::DueDate, d(2027, 3, 1), d(2027, 3, 1));
    let pregnancy = store.anchored(&dues).await.expect("lookup").remove(0);
    assert_eq!(
        pregnancy.settings, changed.settings,
        "and on the pregnancy's"
    );
    assert_eq!(pregnancy.nickname, None);

    // Back to the default: nothing stale is left on the entry.
    let mut reset = changed.clone();
    reset.settings = Settings::default();
    reset.children[0].nickname = None;
    store.save_resident(&reset, None).await.expect("save reset");
    let entry = store.anchored(&births).await.expect("lookup").remove(0);
    assert_eq!(entry.settings, Settings::default());
    assert_eq!(entry.nickname, None);
}

async fn series_steps_are_one_number_per_series<S: Store>(store: &S) {
    let mut r = Resident::new(user(1));
    r.add_child(d(2026, 10, 1));
    let r = store.save_resident(&r, None).await.expect("save");
    let step = |day| Mark::Step {
        series: "newborn-daily",
        day,
    };
    let child = [to(&user(1), &["c1"])];
    assert_eq!(
        store
            .undelivered(&step(5), &child)
            .await
            .expect("check")
            .len(),
        1
    );
    store
        .record_delivery(&step(5), &child)
        .await
        .expect("record");
    assert_eq!(
        store.undelivered(&step(5), &child).await.expect("check"),
        vec![]
    );
    assert_eq!(
        store.undelivered(&step(4), &child).await.expect("check"),
        vec![],
        "an earlier step counts as sent"
    );
    assert_eq!(
        store
            .undelivered(&step(6), &child)
            .await
            .expect("check")
            .len(),
        1
    );
    store
        .record_delivery(&step(9), &child)
        .await
        .expect("record");
    // A late record of an earlier step never lowers the last one.
    store
        .record_delivery(&step(6), &child)
        .await
        .expect("record");
    let other = Mark::Step {
        series: "weekly",
        day: 9,
    };
    assert_eq!(
        store
            .undelivered(&other, &child)
            .await
            .expect("check")
            .len(),
        1,
        "series are separate"
    );
    assert_eq!(
        store
            .undelivered(&Mark::Milestone("newborn-daily"), &child)
            .await
            .expect("check")
            .len(),
        1,
        "a series is not a milestone"
    );
    let births = range(AnchorKind::BirthDate, d(2026, 10, 1), d(2026, 10, 1));
    let entry = store.anchored(&births).await.expect("lookup").remove(0);
    assert_eq!(entry.steps.get("newborn-daily"), Some(&9));
    assert!(entry.delivered.is_empty());
    // A corrected birthdate keeps the series where it was.
    let mut corrected = r.clone();
    corrected.children[0].birth_date = d(2026, 10, 2);
    store
        .save_resident(&corrected, None)
        .await
        .expect("correct");
    let moved = range(AnchorKind::BirthDate, d(2026, 10, 2), d(2026, 10, 2));
    let entry = store.anchored(&moved).await.expect("lookup").remove(0);
    assert_eq!(entry.steps.get("newborn-daily"), Some(&9));
    // A subject that is gone gets no step record.
    let gone = [to(&user(1), &["c7"]), to(&user(2), &["c1"])];
    store
        .record_delivery(&step(20), &gone)
        .await
        .expect("record");
    assert_eq!(
        store.undelivered(&step(20), &gone).await.expect("check"),
        vec![]
    );
}
