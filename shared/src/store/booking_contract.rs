//! The behaviour every [`BookingStore`] must have: the embedded store runs it in memory and
//! journaled, the DynamoDB store on moto. The heart of it is
//! [`concurrent_bookings_never_overbook`]: 200 residents asking at once for 20 seats.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use futures_util::future::join_all;

use super::bookings::{
    BookingError, BookingRequest, BookingStore, Release, SeatChange, Stranding, WaitChange,
    WaitRequest,
};
use super::{EventClaim, Store, StoreError};
use crate::domain::{Resident, UserId};
use crate::reservations::{
    AbsenceReason, BookingFor, BookingId, BookingStatus, CancelledBy, Eligibility, FOR_RESIDENT,
    Schedule, Service, ServiceId, Slot, SlotRef,
};

/// How many residents ask at once, and for how many seats, in the concurrency test.
pub const CONCURRENT_RESIDENTS: u32 = 200;
pub const CONCURRENT_SEATS: u32 = 20;

/// `make` yields a fresh, empty store.
pub async fn run_booking_suite<S, F, Fut>(make: F)
where
    S: Store + BookingStore,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = S>,
{
    a_schedule_is_published_and_republished(&make().await).await;
    a_booking_takes_a_seat_once(&make().await).await;
    a_full_slot_refuses_politely(&make().await).await;
    one_future_booking_per_resident_where_the_service_says_so(&make().await).await;
    a_change_takes_the_new_seat_before_freeing_the_old(&make().await).await;
    cancel_and_absence_free_the_seat(&make().await).await;
    a_stop_frees_every_seat_and_keeps_no_booking(&make().await).await;
    a_shrinking_publish_cancels_the_latest_bookings(&make().await).await;
    a_reminder_is_sent_once_per_slot(&make().await).await;
    twins_each_hold_their_own_seat(&make().await).await;
    concurrent_bookings_never_overbook(&make().await).await;
    a_full_slot_keeps_a_waiting_list_in_order(&make().await).await;
    a_freed_seat_is_offered_to_the_first_in_line_only(&make().await).await;
    an_offer_passes_on_when_declined_or_lapsed(&make().await).await;
    an_offered_seat_is_promised_once_under_concurrency(&make().await).await;
    a_publish_offers_new_seats_and_withdraws_offers_before_bookings(&make().await).await;
    a_stop_leaves_the_waiting_lists(&make().await).await;
    a_change_takes_a_seat_offered_to_it(&make().await).await;
    a_list_ends_when_bookings_close(&make().await).await;
    an_offer_is_told_once_while_it_stands(&make().await).await;
    a_refusing_publish_cancels_nothing(&make().await).await;
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 4, 1, 0, 0)
        .single()
        .expect("time")
}

fn service_id(s: &str) -> ServiceId {
    ServiceId::parse(s).expect("service id")
}

/// A service open to anyone, booked from 60 days ahead until the slot starts, many per
/// resident: the contract's, and other store tests' (`testing` feature).
pub fn service(id: &str) -> Service {
    Service {
        id: service_id(id),
        name: format!("{id}の相談"),
        place: "保健センター".into(),
        description: String::new(),
        who: Eligibility::Anyone,
        opens_days_before: 60,
        closes_days_before: 0,
        many_per_resident: true,
        remind_days_before: 1,
        offer_hours: 24,
        easy_name: None,
        easy_description: None,
    }
}

fn slot_ref(service: &str, date: &str, start: &str) -> SlotRef {
    SlotRef::parse(&format!("{service}@{date}T{start}")).expect("slot")
}

fn slot(service: &str, date: &str, start: &str, capacity: u32) -> Slot {
    let slot = slot_ref(service, date, start);
    Slot {
        end: slot.start + Duration::minutes(30),
        slot,
        capacity,
    }
}

fn schedule(services: &[&str], slots: &[Slot]) -> Schedule {
    Schedule {
        services: services
            .iter()
            .map(|id| (service_id(id), service(id)))
            .collect(),
        slots: slots.iter().map(|s| (s.slot.clone(), s.clone())).collect(),
    }
}

fn user(n: u32) -> UserId {
    UserId::parse(&format!("Ubook{n:028x}")).expect("user id")
}

/// A stored resident, as a turn would have read it.
async fn resident<S: Store>(store: &S, n: u32) -> Resident {
    store
        .save_resident(&Resident::new(user(n)), None)
        .await
        .expect("save resident")
}

fn request(r: &Resident, slot: &SlotRef, seed: &str) -> BookingRequest {
    BookingRequest {
        id: BookingId::derive(&format!("{seed}/{slot}")),
        user: r.user_id.clone(),
        resident_version: r.version,
        slot: slot.clone(),
        booked_for: BookingFor(FOR_RESIDENT.into()),
        one_per_resident: false,
        now: now(),
        claim: None,
    }
}

/// A change of `booking` by the resident as just read, now, without a webhook claim.
fn seat<'a>(r: &'a Resident, booking: &'a BookingId) -> SeatChange<'a> {
    SeatChange {
        user: &r.user_id,
        booking,
        resident_version: r.version,
        now: now(),
        claim: None,
    }
}

async fn reread<S: Store>(store: &S, r: &Resident) -> Resident {
    store
        .resident(&r.user_id)
        .await
        .expect("read")
        .expect("stored")
}

async fn seats_taken<S: BookingStore>(store: &S, slot: &SlotRef) -> u32 {
    store
        .slot_states(&slot.service, slot.date, slot.date)
        .await
        .expect("slots")
        .into_iter()
        .find(|s| s.slot.slot == *slot)
        .map_or(u32::MAX, |s| s.booked)
}

fn d(s: &str) -> NaiveDate {
    crate::dates::parse_ymd(s).expect("date")
}

async fn a_schedule_is_published_and_republished<S: Store + BookingStore>(store: &S) {
    assert!(store.services().await.expect("services").is_empty());
    let first = schedule(
        &["consult", "class"],
        &[
            slot("consult", "2027-01-15", "10:00", 3),
            slot("consult", "2027-01-15", "13:30", 3),
            slot("consult", "2027-02-01", "10:00", 3),
            slot("class", "2027-01-15", "10:00", 8),
        ],
    );
    store
        .publish_schedule(&first, now())
        .await
        .expect("publish");
    let services: Vec<ServiceId> = store
        .services()
        .await
        .expect("services")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(services, vec![service_id("class"), service_id("consult")]);
    let january = store
        .slot_states(&service_id("consult"), d("2027-01-01"), d("2027-01-31"))
        .await
        .expect("slots");
    assert_eq!(
        january
            .iter()
            .map(|s| s.slot.slot.start)
            .collect::<Vec<_>>(),
        vec![
            NaiveTime::from_hms_opt(10, 0, 0).expect("t"),
            NaiveTime::from_hms_opt(13, 30, 0).expect("t")
        ],
        "only this service's slots in the range, in time order"
    );
    assert!(january.iter().all(|s| s.booked == 0 && s.seats_left() == 3));
    // Republish: one capacity changed, one slot removed, one added.
    let second = schedule(
        &["consult"],
        &[
            slot("consult", "2027-01-15", "10:00", 5),
            slot("consult", "2027-02-02", "10:00", 3),
        ],
    );
    let published = store
        .publish_schedule(&second, now())
        .await
        .expect("republish");
    assert!(published.cancelled.is_empty());
    let all = store
        .slot_states(&service_id("consult"), d("2027-01-01"), d("2027-12-31"))
        .await
        .expect("slots");
    assert_eq!(
        all.iter()
            .map(|s| (s.slot.slot.to_string(), s.slot.capacity))
            .collect::<Vec<_>>(),
        vec![
            ("consult@2027-01-15T10:00".to_string(), 5),
            ("consult@2027-02-02T10:00".to_string(), 3)
        ]
    );
    assert_eq!(store.services().await.expect("services").len(), 1);
}

async fn a_booking_takes_a_seat_once<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 3);
    store
        .publish_schedule(&schedule(&["consult"], std::slice::from_ref(&s)), now())
        .await
        .expect("publish");
    let r = resident(store, 1).await;
    let booking = store
        .book(&request(&r, &s.slot, "ev1"))
        .await
        .expect("booked");
    assert_eq!(booking.status, BookingStatus::Booked);
    assert_eq!(booking.slot, s.slot);
    assert_eq!(seats_taken(store, &s.slot).await, 1);
    let after = reread(store, &r).await;
    assert!(
        after.version > r.version,
        "a booking bumps the resident's version, so a turn that read it is redone"
    );
    // The same turn again (a stale read) is a conflict, not a second seat.
    assert_eq!(
        store.book(&request(&r, &s.slot, "ev2")).await,
        Err(BookingError::Store(StoreError::Conflict))
    );
    // A double tap, read afresh: the same slot is already held.
    match store.book(&request(&after, &s.slot, "ev3")).await {
        Err(BookingError::AlreadyBooked(held)) => assert_eq!(held.id, booking.id),
        other => panic!("expected AlreadyBooked, got {other:?}"),
    }
    // A redelivered event that was already processed books nothing.
    let claim = EventClaim {
        event_id: "ev-claimed".into(),
        now: now(),
    };
    let r2 = resident(store, 2).await;
    let mut first = request(&r2, &s.slot, "ev-claimed");
    first.claim = Some(claim.clone());
    store.book(&first).await.expect("booked with its claim");
    let r2 = reread(store, &r2).await;
    let mut again = request(&r2, &s.slot, "ev-claimed");
    again.claim = Some(claim);
    assert_eq!(
        store.book(&again).await,
        Err(BookingError::Store(StoreError::DuplicateEvent))
    );
    assert_eq!(seats_taken(store, &s.slot).await, 2);
    // A slot that does not exist, and a resident who does not.
    let r3 = resident(store, 3).await;
    assert_eq!(
        store
            .book(&request(
                &r3,
                &slot_ref("consult", "2027-01-16", "10:00"),
                "ev4"
            ))
            .await,
        Err(BookingError::NoSuchSlot)
    );
    let ghost = Resident::new(user(99));
    assert_eq!(
        store.book(&request(&ghost, &s.slot, "ev5")).await,
        Err(BookingError::Store(StoreError::Conflict))
    );
    assert_eq!(seats_taken(store, &s.slot).await, 2);
    let mine = store.bookings_of(&r.user_id).await.expect("bookings");
    assert_eq!(mine, vec![booking]);
}

async fn a_full_slot_refuses_politely<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 2);
    store
        .publish_schedule(&schedule(&["consult"], std::slice::from_ref(&s)), now())
        .await
        .expect("publish");
    for n in 1..=2 {
        let r = resident(store, n).await;
        store
            .book(&request(&r, &s.slot, "ev"))
            .await
            .expect("a seat");
    }
    let third = resident(store, 3).await;
    assert_eq!(
        store.book(&request(&third, &s.slot, "ev")).await,
        Err(BookingError::Full)
    );
    assert_eq!(seats_taken(store, &s.slot).await, 2);
    assert_eq!(
        reread(store, &third).await.version,
        third.version,
        "a refused booking changes nothing"
    );
    assert!(
        store
            .bookings_of(&third.user_id)
            .await
            .expect("bookings")
            .is_empty()
    );
}

async fn one_future_booking_per_resident_where_the_service_says_so<S: Store + BookingStore>(
    store: &S,
) {
    let a = slot("checkup", "2027-01-15", "10:00", 5);
    let b = slot("checkup", "2027-01-22", "10:00", 5);
    let other = slot("consult", "2027-01-15", "13:00", 5);
    store
        .publish_schedule(
            &schedule(
                &["checkup", "consult"],
                &[a.clone(), b.clone(), other.clone()],
            ),
            now(),
        )
        .await
        .expect("publish");
    let r = resident(store, 1).await;
    let mut first = request(&r, &a.slot, "ev1");
    first.one_per_resident = true;
    let held = store.book(&first).await.expect("first");
    let r = reread(store, &r).await;
    let mut second = request(&r, &b.slot, "ev2");
    second.one_per_resident = true;
    match store.book(&second).await {
        Err(BookingError::LimitReached(existing)) => assert_eq!(existing.id, held.id),
        other => panic!("expected LimitReached, got {other:?}"),
    }
    // Another service is not limited by this one.
    let r = reread(store, &r).await;
    let mut elsewhere = request(&r, &other.slot, "ev3");
    elsewhere.one_per_resident = true;
    store.book(&elsewhere).await.expect("another service");
    // Once the first is cancelled, the second can be booked.
    let r = reread(store, &r).await;
    store
        .release(&seat(&r, &held.id), Release::Cancel)
        .await
        .expect("cancel");
    let r = reread(store, &r).await;
    let mut retry = request(&r, &b.slot, "ev4");
    retry.one_per_resident = true;
    store.book(&retry).await.expect("after the cancel");
    // A booking whose slot has passed does not count.
    let r = reread(store, &r).await;
    let mut later = request(&r, &a.slot, "ev5");
    later.one_per_resident = true;
    later.now = b.starts_at() + Duration::hours(1);
    store
        .book(&later)
        .await
        .expect("the held booking is in the past by then");
}

async fn a_change_takes_the_new_seat_before_freeing_the_old<S: Store + BookingStore>(store: &S) {
    let a = slot("consult", "2027-01-15", "10:00", 1);
    let full = slot("consult", "2027-01-15", "11:00", 1);
    let open = slot("consult", "2027-01-15", "13:00", 1);
    store
        .publish_schedule(
            &schedule(&["consult"], &[a.clone(), full.clone(), open.clone()]),
            now(),
        )
        .await
        .expect("publish");
    let other = resident(store, 2).await;
    store
        .book(&request(&other, &full.slot, "ev0"))
        .await
        .expect("someone holds the 11:00 seat");
    let r = resident(store, 1).await;
    let booking = store
        .book(&request(&r, &a.slot, "ev1"))
        .await
        .expect("booked");
    let r = reread(store, &r).await;
    let change = seat(&r, &booking.id);
    assert_eq!(
        store.change_slot(&change, &full.slot).await,
        Err(BookingError::Full)
    );
    assert_eq!(seats_taken(store, &a.slot).await, 1, "the old seat is kept");
    assert_eq!(
        store
            .change_slot(&change, &slot_ref("consult", "2027-01-15", "15:00"))
            .await,
        Err(BookingError::NoSuchSlot)
    );
    let moved = store.change_slot(&change, &open.slot).await.expect("moved");
    assert_eq!(moved.id, booking.id, "the 予約番号 stays");
    assert_eq!(moved.slot, open.slot);
    assert_eq!(seats_taken(store, &a.slot).await, 0);
    assert_eq!(seats_taken(store, &open.slot).await, 1);
    assert_eq!(
        store.bookings_of(&r.user_id).await.expect("bookings"),
        vec![moved]
    );
}

async fn cancel_and_absence_free_the_seat<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 2);
    store
        .publish_schedule(&schedule(&["consult"], std::slice::from_ref(&s)), now())
        .await
        .expect("publish");
    let r1 = resident(store, 1).await;
    let r2 = resident(store, 2).await;
    let b1 = store.book(&request(&r1, &s.slot, "ev1")).await.expect("1");
    let b2 = store.book(&request(&r2, &s.slot, "ev2")).await.expect("2");
    let r1 = reread(store, &r1).await;
    // Someone else's booking id is not yours to cancel.
    assert_eq!(
        store.release(&seat(&r1, &b2.id), Release::Cancel).await,
        Err(BookingError::NoSuchBooking)
    );
    let cancelled = store
        .release(&seat(&r1, &b1.id), Release::Cancel)
        .await
        .expect("cancel");
    assert_eq!(
        cancelled.status,
        BookingStatus::Cancelled {
            at: now(),
            by: CancelledBy::Resident
        }
    );
    assert_eq!(seats_taken(store, &s.slot).await, 1);
    let r2 = reread(store, &r2).await;
    let absent = store
        .release(&seat(&r2, &b2.id), Release::Absent(AbsenceReason::Illness))
        .await
        .expect("absence");
    assert_eq!(
        absent.status,
        BookingStatus::Absent {
            at: now(),
            reason: AbsenceReason::Illness
        }
    );
    assert_eq!(seats_taken(store, &s.slot).await, 0);
    // Released twice: nothing to release.
    let r2 = reread(store, &r2).await;
    assert_eq!(
        store.release(&seat(&r2, &b2.id), Release::Cancel).await,
        Err(BookingError::NoSuchBooking)
    );
    // Staff see both, with what happened.
    let seen = store
        .bookings_between(s.slot.date, s.slot.date)
        .await
        .expect("export");
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|b| !b.is_active()));
}

async fn a_stop_frees_every_seat_and_keeps_no_booking<S: Store + BookingStore>(store: &S) {
    let a = slot("consult", "2027-01-15", "10:00", 1);
    let b = slot("class", "2027-01-20", "10:00", 4);
    store
        .publish_schedule(
            &schedule(&["consult", "class"], &[a.clone(), b.clone()]),
            now(),
        )
        .await
        .expect("publish");
    let r = resident(store, 1).await;
    let first = store.book(&request(&r, &a.slot, "ev1")).await.expect("a");
    let r = reread(store, &r).await;
    store.book(&request(&r, &b.slot, "ev2")).await.expect("b");
    let r = reread(store, &r).await;
    store
        .release(&seat(&r, &first.id), Release::Cancel)
        .await
        .expect("cancel a");
    let r = reread(store, &r).await;
    store
        .book(&request(&r, &a.slot, "ev3"))
        .await
        .expect("a again");
    assert!(store.delete_resident(&r.user_id, None).await.expect("stop"));
    assert_eq!(seats_taken(store, &a.slot).await, 0);
    assert_eq!(seats_taken(store, &b.slot).await, 0);
    assert!(
        store
            .bookings_of(&r.user_id)
            .await
            .expect("bookings")
            .is_empty()
    );
    assert!(
        store
            .bookings_between(d("2027-01-01"), d("2027-12-31"))
            .await
            .expect("export")
            .iter()
            .all(|b| b.user != r.user_id),
        "nothing of the resident stays"
    );
    // The freed seat is there for the next resident.
    let next = resident(store, 2).await;
    store
        .book(&request(&next, &a.slot, "ev4"))
        .await
        .expect("the freed seat");
}

async fn a_shrinking_publish_cancels_the_latest_bookings<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 3);
    let gone = slot("consult", "2027-01-16", "10:00", 3);
    store
        .publish_schedule(&schedule(&["consult"], &[s.clone(), gone.clone()]), now())
        .await
        .expect("publish");
    let mut ids = Vec::new();
    for n in 1..=3 {
        let r = resident(store, n).await;
        let mut req = request(&r, &s.slot, "ev");
        req.now = now() + Duration::minutes(n as i64);
        ids.push(store.book(&req).await.expect("booked").id);
    }
    let r = resident(store, 4).await;
    let on_gone = store
        .book(&request(&r, &gone.slot, "ev"))
        .await
        .expect("booked");
    let mut smaller = s.clone();
    smaller.capacity = 1;
    let published = store
        .publish_schedule(&schedule(&["consult"], &[smaller]), now())
        .await
        .expect("republish");
    let mut cancelled: Vec<BookingId> = published.cancelled.iter().map(|b| b.id.clone()).collect();
    cancelled.sort();
    let mut expected = vec![ids[1].clone(), ids[2].clone(), on_gone.id.clone()];
    expected.sort();
    assert_eq!(cancelled, expected, "the earliest booker keeps the seat");
    assert!(published.cancelled.iter().all(|b| matches!(
        b.status,
        BookingStatus::Cancelled {
            by: CancelledBy::Staff,
            ..
        }
    )));
    assert_eq!(seats_taken(store, &s.slot).await, 1);
    let kept = store.bookings_of(&user(1)).await.expect("bookings");
    assert!(kept[0].is_active());
    let lost = store.bookings_of(&user(4)).await.expect("bookings");
    assert!(!lost[0].is_active(), "{lost:?}");
}

async fn a_reminder_is_sent_once_per_slot<S: Store + BookingStore>(store: &S) {
    use crate::delivery::{Mark, Recipient};
    let a = slot("consult", "2027-01-15", "10:00", 2);
    let b = slot("consult", "2027-01-16", "10:00", 2);
    store
        .publish_schedule(&schedule(&["consult"], &[a.clone(), b.clone()]), now())
        .await
        .expect("publish");
    let r = resident(store, 1).await;
    let booking = store
        .book(&request(&r, &a.slot, "ev1"))
        .await
        .expect("booked");
    let to = |id: &BookingId| {
        vec![Recipient {
            user: r.user_id.clone(),
            subjects: vec![id.to_string()],
        }]
    };
    let on_a = a.slot.to_string();
    let mark_a = Mark::Reminder { slot: &on_a };
    assert_eq!(
        store
            .undelivered(&mark_a, &to(&booking.id))
            .await
            .expect("due"),
        to(&booking.id)
    );
    store
        .record_delivery(&mark_a, &to(&booking.id))
        .await
        .expect("record");
    assert!(
        store
            .undelivered(&mark_a, &to(&booking.id))
            .await
            .expect("due")
            .is_empty(),
        "reminded once"
    );
    // Moved to another slot: that slot's reminder is due; the old one is not.
    let r = reread(store, &r).await;
    store
        .change_slot(&seat(&r, &booking.id), &b.slot)
        .await
        .expect("moved");
    let on_b = b.slot.to_string();
    let mark_b = Mark::Reminder { slot: &on_b };
    assert_eq!(
        store
            .undelivered(&mark_b, &to(&booking.id))
            .await
            .expect("due"),
        to(&booking.id)
    );
    assert!(
        store
            .undelivered(&mark_a, &to(&booking.id))
            .await
            .expect("due")
            .is_empty()
    );
    // Cancelled: nothing to remind; a record for it changes nothing.
    let r = reread(store, &r).await;
    store
        .release(&seat(&r, &booking.id), Release::Cancel)
        .await
        .expect("cancelled");
    assert!(
        store
            .undelivered(&mark_b, &to(&booking.id))
            .await
            .expect("due")
            .is_empty()
    );
    store
        .record_delivery(&mark_b, &to(&booking.id))
        .await
        .expect("no-op");
    // Unknown or malformed 予約番号 are simply not due.
    let ghost = vec![Recipient {
        user: r.user_id.clone(),
        subjects: vec!["NOTANID!".into(), BookingId::derive("nobody").to_string()],
    }];
    assert!(
        store
            .undelivered(&mark_b, &ghost)
            .await
            .expect("due")
            .is_empty()
    );
}

async fn twins_each_hold_their_own_seat<S: Store + BookingStore>(store: &S) {
    let a = slot("checkup", "2027-01-15", "10:00", 3);
    let b = slot("checkup", "2027-01-22", "10:00", 3);
    store
        .publish_schedule(&schedule(&["checkup"], &[a.clone(), b.clone()]), now())
        .await
        .expect("publish");
    let r = resident(store, 1).await;
    let mut booked = Vec::new();
    for child in ["c1", "c2"] {
        let r = reread(store, &r).await;
        let mut req = request(&r, &a.slot, child);
        req.booked_for = BookingFor::parse(child).expect("child");
        req.one_per_resident = true;
        booked.push(store.book(&req).await.expect("each twin's seat"));
    }
    assert_eq!(seats_taken(store, &a.slot).await, 2);
    // One child never twice, nor a second future booking of the service.
    let r = reread(store, &r).await;
    let mut again = request(&r, &a.slot, "again");
    again.booked_for = BookingFor::parse("c1").expect("child");
    assert!(matches!(
        store.book(&again).await,
        Err(BookingError::AlreadyBooked(_))
    ));
    let mut other_day = request(&r, &b.slot, "other");
    other_day.booked_for = BookingFor::parse("c2").expect("child");
    other_day.one_per_resident = true;
    assert!(matches!(
        store.book(&other_day).await,
        Err(BookingError::LimitReached(_))
    ));
    // Moving one twin leaves the other's seat alone; cancelling frees only its own.
    let r = reread(store, &r).await;
    store
        .change_slot(&seat(&r, &booked[0].id), &b.slot)
        .await
        .expect("moved");
    assert_eq!(seats_taken(store, &a.slot).await, 1);
    assert_eq!(seats_taken(store, &b.slot).await, 1);
    let r = reread(store, &r).await;
    store
        .release(&seat(&r, &booked[1].id), Release::Cancel)
        .await
        .expect("cancelled");
    assert_eq!(seats_taken(store, &a.slot).await, 0);
    assert_eq!(seats_taken(store, &b.slot).await, 1);
    // A stop frees the rest.
    assert!(store.delete_resident(&r.user_id, None).await.expect("stop"));
    assert_eq!(seats_taken(store, &b.slot).await, 0);
}

/// 200 residents tap 予約する at once for 20 seats: exactly 20 get one, every other one is
/// told the slot is full, and the slot's count matches the bookings stored.
pub async fn concurrent_bookings_never_overbook<S: Store + BookingStore>(store: &S) {
    let s = slot("checkup", "2027-01-15", "13:30", CONCURRENT_SEATS);
    store
        .publish_schedule(&schedule(&["checkup"], std::slice::from_ref(&s)), now())
        .await
        .expect("publish");
    let residents = join_all((1..=CONCURRENT_RESIDENTS).map(|n| resident(store, n))).await;
    let target = &s.slot;
    let outcomes = join_all(
        residents
            .iter()
            .map(|r| async move { store.book(&request(r, target, "tap")).await }),
    )
    .await;
    let mut tally: BTreeMap<String, u32> = BTreeMap::new();
    for o in &outcomes {
        let key = match o {
            Ok(_) => "booked".to_string(),
            Err(e) => format!("{e:?}"),
        };
        *tally.entry(key).or_default() += 1;
    }
    assert_eq!(
        tally,
        BTreeMap::from([
            ("booked".to_string(), CONCURRENT_SEATS),
            ("Full".to_string(), CONCURRENT_RESIDENTS - CONCURRENT_SEATS),
        ]),
        "exactly the seats, and a 満席 for everyone else"
    );
    assert_eq!(seats_taken(store, &s.slot).await, CONCURRENT_SEATS);
    let stored = store
        .bookings_between(s.slot.date, s.slot.date)
        .await
        .expect("bookings");
    assert_eq!(
        stored.iter().filter(|b| b.is_active()).count() as u32,
        CONCURRENT_SEATS,
        "the count matches the bookings"
    );
}

fn wait(r: &Resident, slot: &SlotRef, minutes: i64) -> WaitRequest {
    WaitRequest {
        user: r.user_id.clone(),
        resident_version: r.version,
        slot: slot.clone(),
        booked_for: BookingFor(FOR_RESIDENT.into()),
        now: now() + Duration::minutes(minutes),
        claim: None,
    }
}

fn leave<'a>(r: &'a Resident, slot: &'a SlotRef, who: &'a BookingFor) -> WaitChange<'a> {
    WaitChange {
        user: &r.user_id,
        slot,
        booked_for: who,
        resident_version: r.version,
        now: now(),
        claim: None,
    }
}

async fn state_of<S: BookingStore>(store: &S, slot: &SlotRef) -> (u32, u32, u32) {
    store
        .slot_states(&slot.service, slot.date, slot.date)
        .await
        .expect("slots")
        .into_iter()
        .find(|s| s.slot.slot == *slot)
        .map_or((u32::MAX, u32::MAX, u32::MAX), |s| {
            (s.booked, s.offered, s.waiting)
        })
}

/// A full slot of capacity 1, booked by resident 1, and the residents `waiting` in line
/// (joined a minute apart, in that order), each as read after joining.
async fn full_with_line<S: Store + BookingStore>(
    store: &S,
    s: &Slot,
    waiting: &[u32],
) -> (Resident, Vec<Resident>) {
    store
        .publish_schedule(&schedule(&["consult"], std::slice::from_ref(s)), now())
        .await
        .expect("publish");
    let holder = resident(store, 1).await;
    store
        .book(&request(&holder, &s.slot, "first"))
        .await
        .expect("booked");
    let holder = reread(store, &holder).await;
    let mut line = Vec::new();
    for (i, n) in waiting.iter().enumerate() {
        let r = resident(store, *n).await;
        store
            .join_waitlist(&wait(&r, &s.slot, i as i64 + 1))
            .await
            .expect("joined");
        line.push(reread(store, &r).await);
    }
    (holder, line)
}

/// The holder of a full line's one seat lets it go: the seat is the line's.
async fn let_go<S: BookingStore>(store: &S, holder: &Resident, how: Release) {
    let held = store.bookings_of(&holder.user_id).await.expect("held");
    store
        .release(&seat(holder, &held[0].id), how)
        .await
        .expect("let go");
}

fn later(minutes: i64) -> DateTime<Utc> {
    now() + Duration::minutes(minutes)
}

async fn a_full_slot_keeps_a_waiting_list_in_order<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 1);
    let open = slot("consult", "2027-01-16", "10:00", 1);
    store
        .publish_schedule(&schedule(&["consult"], &[s.clone(), open.clone()]), now())
        .await
        .expect("publish");
    let holder = resident(store, 1).await;
    store
        .book(&request(&holder, &s.slot, "first"))
        .await
        .expect("booked");
    let holder = reread(store, &holder).await;
    let b = resident(store, 2).await;
    let joined = store
        .join_waitlist(&wait(&b, &s.slot, 1))
        .await
        .expect("joined");
    assert_eq!(joined.offered_until, None);
    let c = resident(store, 3).await;
    store
        .join_waitlist(&wait(&c, &s.slot, 2))
        .await
        .expect("joined");
    assert_eq!(
        store.join_waitlist(&wait(&b, &s.slot, 3)).await,
        Err(StoreError::Conflict.into()),
        "joining bumps the resident's version, so a stale turn is redone"
    );
    let b = reread(store, &b).await;
    assert!(matches!(
        store.join_waitlist(&wait(&b, &s.slot, 3)).await,
        Err(BookingError::AlreadyWaiting(w)) if w.user == b.user_id
    ));
    assert!(matches!(
        store.join_waitlist(&wait(&holder, &s.slot, 3)).await,
        Err(BookingError::AlreadyBooked(_))
    ));
    assert_eq!(
        store.join_waitlist(&wait(&b, &open.slot, 3)).await,
        Err(BookingError::SeatsLeft),
        "a slot with seats is booked, not waited for"
    );
    assert_eq!(
        store
            .join_waitlist(&wait(&b, &slot_ref("consult", "2027-01-17", "10:00"), 3))
            .await,
        Err(BookingError::NoSuchSlot)
    );
    assert_eq!(state_of(store, &s.slot).await, (1, 0, 2));
    let lists = store.waitlists().await.expect("lists");
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(lists[0].slot, s.slot);
    assert_eq!(lists[0].free, 0);
    let order: Vec<&UserId> = lists[0].entries.iter().map(|w| &w.user).collect();
    assert_eq!(
        order,
        vec![&b.user_id, &c.user_id],
        "first come, first in line"
    );
    let mine = store.waiting_of(&b.user_id).await.expect("mine");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].slot, s.slot);
    // Leaving takes them off; asking again finds nothing.
    let who = BookingFor(FOR_RESIDENT.into());
    store
        .leave_waitlist(&leave(&b, &s.slot, &who))
        .await
        .expect("left");
    let b = reread(store, &b).await;
    assert_eq!(
        store.leave_waitlist(&leave(&b, &s.slot, &who)).await,
        Err(BookingError::NotWaiting)
    );
    assert!(store.waiting_of(&b.user_id).await.expect("mine").is_empty());
    assert_eq!(state_of(store, &s.slot).await, (1, 0, 1));
}

async fn a_freed_seat_is_offered_to_the_first_in_line_only<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 1);
    let (holder, line) = full_with_line(store, &s, &[2, 3]).await;
    let_go(store, &holder, Release::Cancel).await;
    // The freed seat is the line's: someone who never waited cannot take it.
    let walk_in = resident(store, 9).await;
    assert_eq!(
        store.book(&request(&walk_in, &s.slot, "walk-in")).await,
        Err(BookingError::Full)
    );
    assert_eq!(state_of(store, &s.slot).await, (0, 0, 2));
    let until = later(24 * 60);
    let offers = store
        .offer_seats(&s.slot, Some(until), later(10))
        .await
        .expect("offer");
    assert!(offers.lapsed.is_empty());
    assert_eq!(offers.offered.len(), 1);
    assert_eq!(offers.offered[0].user, line[0].user_id, "the first in line");
    assert_eq!(offers.offered[0].offered_until, Some(until));
    assert_eq!(state_of(store, &s.slot).await, (0, 1, 1));
    // Offering again promises nothing more: the one seat is held.
    let again = store
        .offer_seats(&s.slot, Some(until), later(11))
        .await
        .expect("offer");
    assert!(again.offered.is_empty(), "{again:?}");
    let mine = store.waiting_of(&line[0].user_id).await.expect("mine");
    assert!(mine[0].has_offer(later(12)));
    // The second in line and the walk-in still find it full; the first takes it.
    let mut second = request(&line[1], &s.slot, "second");
    second.now = later(12);
    assert_eq!(store.book(&second).await, Err(BookingError::Full));
    let mut first = request(&line[0], &s.slot, "first-in-line");
    first.now = later(12);
    let booked = store.book(&first).await.expect("the offered seat");
    assert!(booked.is_active());
    assert_eq!(state_of(store, &s.slot).await, (1, 0, 1));
    assert!(
        store
            .waiting_of(&line[0].user_id)
            .await
            .expect("mine")
            .is_empty(),
        "a taken offer leaves the list"
    );
}

async fn an_offer_passes_on_when_declined_or_lapsed<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 1);
    let (holder, line) = full_with_line(store, &s, &[2, 3]).await;
    let_go(store, &holder, Release::Absent(AbsenceReason::Illness)).await;
    let first = store
        .offer_seats(&s.slot, Some(later(60)), now())
        .await
        .expect("offer");
    assert_eq!(first.offered[0].user, line[0].user_id);
    // 辞退: the seat goes to the next in line.
    let who = BookingFor(FOR_RESIDENT.into());
    let declined = store
        .leave_waitlist(&leave(&line[0], &s.slot, &who))
        .await
        .expect("declined");
    assert!(declined.offered_until.is_some());
    assert_eq!(state_of(store, &s.slot).await, (0, 0, 1));
    let second = store
        .offer_seats(&s.slot, Some(later(120)), now())
        .await
        .expect("offer");
    assert_eq!(second.offered.len(), 1);
    assert_eq!(second.offered[0].user, line[1].user_id);
    // The offer runs out: until the sweep passes it on, the seat stays held, and the
    // resident can no longer take it.
    let mut too_late = request(&line[1], &s.slot, "too-late");
    too_late.now = later(121);
    assert_eq!(store.book(&too_late).await, Err(BookingError::Full));
    let swept = store
        .offer_seats(&s.slot, Some(later(121 + 60)), later(121))
        .await
        .expect("sweep");
    assert_eq!(swept.lapsed.len(), 1);
    assert_eq!(swept.lapsed[0].user, line[1].user_id);
    assert!(swept.offered.is_empty(), "nobody is left in line");
    assert!(store.waitlists().await.expect("lists").is_empty());
    // With nobody in line the seat is anyone's again.
    let walk_in = resident(store, 9).await;
    let mut req = request(&walk_in, &s.slot, "walk-in");
    req.now = later(122);
    store.book(&req).await.expect("the free seat");
    assert_eq!(state_of(store, &s.slot).await, (1, 0, 0));
}

/// Many sweeps at once over one freed seat, then everyone in line and outside it tapping
/// 予約する at once: one offer, one booking.
async fn an_offered_seat_is_promised_once_under_concurrency<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 1);
    let waiting: Vec<u32> = (2..=11).collect();
    let (holder, line) = full_with_line(store, &s, &waiting).await;
    let_go(store, &holder, Release::Cancel).await;
    let sweeps = join_all(
        (0..8)
            .map(|i| store.offer_seats(&s.slot, Some(later(60)), later(1) + Duration::seconds(i))),
    )
    .await;
    let offered: Vec<UserId> = sweeps
        .into_iter()
        .flat_map(|o| o.expect("sweep").offered)
        .map(|w| w.user)
        .collect();
    assert_eq!(
        offered,
        vec![line[0].user_id.clone()],
        "one seat, one promise"
    );
    let mut walk_ins = Vec::new();
    for n in 20..25 {
        walk_ins.push(resident(store, n).await);
    }
    let target = &s.slot;
    let taps = join_all(line.iter().chain(walk_ins.iter()).map(|r| async move {
        let mut req = request(r, target, "tap");
        req.now = later(2);
        store.book(&req).await
    }))
    .await;
    let booked: Vec<&UserId> = taps
        .iter()
        .filter_map(|t| t.as_ref().ok())
        .map(|b| &b.user)
        .collect();
    assert_eq!(booked, vec![&line[0].user_id]);
    assert!(
        taps.iter()
            .filter(|t| t.is_err())
            .all(|t| *t == Err(BookingError::Full)),
        "{taps:?}"
    );
    assert_eq!(state_of(store, &s.slot).await, (1, 0, 9));
}

async fn a_publish_offers_new_seats_and_withdraws_offers_before_bookings<
    S: Store + BookingStore,
>(
    store: &S,
) {
    let s = slot("consult", "2027-01-15", "10:00", 1);
    let (_, line) = full_with_line(store, &s, &[2, 3, 4]).await;
    let mut bigger = s.clone();
    bigger.capacity = 3;
    let gone = slot("consult", "2027-01-20", "10:00", 1);
    let published = store
        .publish_schedule(
            &schedule(&["consult"], &[bigger.clone(), gone.clone()]),
            now(),
        )
        .await
        .expect("republish");
    assert!(published.cancelled.is_empty() && published.dropped.is_empty());
    let lists = store.waitlists().await.expect("lists");
    assert_eq!(
        lists[0].free, 2,
        "the raised capacity's seats wait for the line"
    );
    let offers = store
        .offer_seats(&s.slot, Some(later(60)), later(1))
        .await
        .expect("offer");
    let offered: Vec<&UserId> = offers.offered.iter().map(|w| &w.user).collect();
    assert_eq!(offered, vec![&line[0].user_id, &line[1].user_id]);
    assert_eq!(state_of(store, &s.slot).await, (1, 2, 1));
    // Lowered to 2: an offer goes (the latest in line back to waiting), no booking does.
    let mut smaller = s.clone();
    smaller.capacity = 2;
    let published = store
        .publish_schedule(
            &schedule(&["consult"], &[smaller.clone(), gone.clone()]),
            now(),
        )
        .await
        .expect("republish");
    assert!(published.cancelled.is_empty(), "{published:?}");
    let withdrawn: Vec<&UserId> = published.withdrawn.iter().map(|w| &w.user).collect();
    assert_eq!(
        withdrawn,
        vec![&line[1].user_id],
        "the latest in line gives way"
    );
    assert_eq!(state_of(store, &s.slot).await, (1, 1, 2));
    let second = store.waiting_of(&line[1].user_id).await.expect("mine");
    assert_eq!(second[0].offered_until, None, "back in line");
    let lists = store.waitlists().await.expect("lists");
    let order: Vec<&UserId> = lists[0].entries.iter().map(|w| &w.user).collect();
    assert_eq!(
        order,
        vec![&line[0].user_id, &line[1].user_id, &line[2].user_id],
        "in the order they joined"
    );
    // A waiting list goes with its slot.
    let mut on_gone = resident(store, 30).await;
    let filler = resident(store, 31).await;
    store
        .book(&request(&filler, &gone.slot, "filler"))
        .await
        .expect("booked");
    on_gone = reread(store, &on_gone).await;
    store
        .join_waitlist(&wait(&on_gone, &gone.slot, 5))
        .await
        .expect("joined");
    let published = store
        .publish_schedule(&schedule(&["consult"], &[smaller]), now())
        .await
        .expect("republish");
    assert_eq!(published.cancelled.len(), 1);
    let dropped: Vec<&UserId> = published.dropped.iter().map(|w| &w.user).collect();
    assert_eq!(dropped, vec![&on_gone.user_id]);
    assert!(
        store
            .waiting_of(&on_gone.user_id)
            .await
            .expect("mine")
            .is_empty()
    );
}

async fn a_stop_leaves_the_waiting_lists<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 1);
    let (holder, line) = full_with_line(store, &s, &[2, 3, 4]).await;
    let_go(store, &holder, Release::Cancel).await;
    store
        .offer_seats(&s.slot, Some(later(60)), now())
        .await
        .expect("offer");
    // The one offered and one waiting stop: the offered seat is free for the last in line.
    for r in &line[..2] {
        assert!(store.delete_resident(&r.user_id, None).await.expect("stop"));
        assert!(store.waiting_of(&r.user_id).await.expect("mine").is_empty());
    }
    let lists = store.waitlists().await.expect("lists");
    let left: Vec<&UserId> = lists[0].entries.iter().map(|w| &w.user).collect();
    assert_eq!(left, vec![&line[2].user_id]);
    assert_eq!(lists[0].free, 1);
    let offers = store
        .offer_seats(&s.slot, Some(later(60)), later(1))
        .await
        .expect("offer");
    assert_eq!(offers.offered[0].user, line[2].user_id);
}

async fn a_change_takes_a_seat_offered_to_it<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 1);
    let other = slot("consult", "2027-01-22", "10:00", 2);
    store
        .publish_schedule(&schedule(&["consult"], &[s.clone(), other.clone()]), now())
        .await
        .expect("publish");
    let holder = resident(store, 1).await;
    let held = store
        .book(&request(&holder, &s.slot, "first"))
        .await
        .expect("booked");
    let holder = reread(store, &holder).await;
    // Resident 2 holds a later date and waits for the earlier one.
    let r = resident(store, 2).await;
    let mine = store
        .book(&request(&r, &other.slot, "later"))
        .await
        .expect("booked");
    let r = reread(store, &r).await;
    store
        .join_waitlist(&wait(&r, &s.slot, 1))
        .await
        .expect("joined");
    let r = reread(store, &r).await;
    store
        .release(&seat(&holder, &held.id), Release::Cancel)
        .await
        .expect("cancelled");
    store
        .offer_seats(&s.slot, Some(later(60)), now())
        .await
        .expect("offer");
    let mut change = seat(&r, &mine.id);
    change.now = later(5);
    let moved = store.change_slot(&change, &s.slot).await.expect("moved");
    assert_eq!(moved.id, mine.id);
    assert_eq!(moved.slot, s.slot);
    assert_eq!(state_of(store, &s.slot).await, (1, 0, 0));
    assert_eq!(state_of(store, &other.slot).await, (0, 0, 0));
    assert!(store.waitlists().await.expect("lists").is_empty());
}

/// When bookings close, the list ends: everyone still in line leaves it, and a seat held
/// for one of them is free again.
async fn a_list_ends_when_bookings_close<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 1);
    let (holder, line) = full_with_line(store, &s, &[2, 3]).await;
    let_go(store, &holder, Release::Cancel).await;
    store
        .offer_seats(&s.slot, Some(later(60)), now())
        .await
        .expect("offer");
    let closed = store
        .offer_seats(&s.slot, None, later(1))
        .await
        .expect("close");
    assert!(closed.offered.is_empty() && closed.lapsed.is_empty());
    let ended: Vec<&UserId> = closed.ended.iter().map(|w| &w.user).collect();
    assert_eq!(ended, vec![&line[0].user_id, &line[1].user_id]);
    assert!(
        closed.ended[0].offered_until.is_some(),
        "the held seat ends too"
    );
    assert!(store.waitlists().await.expect("lists").is_empty());
    for r in &line {
        assert!(store.waiting_of(&r.user_id).await.expect("mine").is_empty());
    }
    assert_eq!(state_of(store, &s.slot).await, (0, 0, 0));
}

/// The sweep records that an offer's push is on its way, once; a lapsed offer cannot be.
async fn an_offer_is_told_once_while_it_stands<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 1);
    let (holder, _line) = full_with_line(store, &s, &[2, 3]).await;
    let_go(store, &holder, Release::Cancel).await;
    let offers = store
        .offer_seats(&s.slot, Some(later(60)), now())
        .await
        .expect("offer");
    let offered = &offers.offered[0];
    assert!(!offered.told);
    let lists = store.waitlists().await.expect("lists");
    assert!(lists[0].needs_offers(later(1)), "an offer not told yet");
    assert!(store.offer_told(offered).await.expect("told"));
    assert!(store.offer_told(offered).await.expect("told again"));
    let lists = store.waitlists().await.expect("lists");
    assert!(lists[0].entries[0].told);
    assert!(
        !lists[0].needs_offers(later(1)),
        "nothing to do until it lapses"
    );
    // The same resident's offer of another time (or after it lapsed) is not this one.
    let mut other = offered.clone();
    other.offered_until = Some(later(61));
    assert!(!store.offer_told(&other).await.expect("not that offer"));
    store
        .offer_seats(&s.slot, Some(later(200)), later(60))
        .await
        .expect("lapse");
    assert!(!store.offer_told(offered).await.expect("lapsed"));
}

/// A publish told not to cancel bookings refuses, whoever booked since the caller looked:
/// no booking is cancelled, and the slot keeps its capacity.
async fn a_refusing_publish_cancels_nothing<S: Store + BookingStore>(store: &S) {
    let s = slot("consult", "2027-01-15", "10:00", 3);
    store
        .publish_schedule(&schedule(&["consult"], std::slice::from_ref(&s)), now())
        .await
        .expect("publish");
    for n in 1..=2 {
        let r = resident(store, n).await;
        store
            .book(&request(&r, &s.slot, "ev"))
            .await
            .expect("booked");
    }
    let mut smaller = s.clone();
    smaller.capacity = 1;
    assert_eq!(
        store
            .publish(
                &schedule(&["consult"], &[smaller]),
                now(),
                Stranding::Refuse
            )
            .await,
        Err(StoreError::Conflict)
    );
    assert_eq!(seats_taken(store, &s.slot).await, 2);
    let states = store
        .slot_states(&s.slot.service, s.slot.date, s.slot.date)
        .await
        .expect("slots");
    assert_eq!(states[0].slot.capacity, 3, "the slot is left as it was");
    assert!(
        store
            .bookings_between(s.slot.date, s.slot.date)
            .await
            .expect("bookings")
            .iter()
            .all(|b| b.is_active())
    );
    // Lowered to what the bookings need, it goes through.
    let mut fits = s.clone();
    fits.capacity = 2;
    store
        .publish(&schedule(&["consult"], &[fits]), now(), Stranding::Refuse)
        .await
        .expect("fits");
}
