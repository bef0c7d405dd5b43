//! The DynamoDB booking's retry path under injected transaction conflicts: moto never
//! reports `TransactionConflict` (its transactions take no locks), so an SDK interceptor
//! answers chosen `TransactWriteItems` calls with the `TransactionCanceledException` DynamoDB
//! sends when another transaction holds an item, and the real SDK parses it. The store must
//! retry (at most `BOOKING_CONFLICT_RETRIES` times), book exactly once, and, when the slot
//! stays busy, give up as unavailable with nothing stored.

#![cfg(feature = "aws")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use chrono::{NaiveDate, TimeZone, Utc};
use shared::aws::DynamoStore;
use shared::aws::dynamo::create_table;
use shared::aws::testing::{moto_config, moto_endpoint, table_dump, unique_name};
use shared::domain::{Resident, UserId};
use shared::reservations::{
    BookingFor, BookingId, FOR_RESIDENT, Schedule, ServiceId, Slot, SlotRef,
};
use shared::store::bookings::{
    BOOKING_CONFLICT_RETRIES, BookingError, BookingRequest, BookingStore,
};
use shared::store::{Store, StoreError, booking_contract};

/// What DynamoDB answers when the first of a transaction's three items (the slot) is being
/// written by another transaction at that instant.
const CANCELLED_BY_CONFLICT: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None, None]","CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"},{"Code":"None"}]}"#;

/// Cancels the next `armed` `TransactWriteItems` calls of its client with
/// [`CANCELLED_BY_CONFLICT`], and counts every `TransactWriteItems` call.
///
/// A cancelled transaction writes nothing, so moto must not run it: the call goes out as a
/// `ListTables` (a read), and the answer to it is replaced by the cancellation before the SDK
/// deserializes it. The hooks cannot see each other's request, so the replacement applies to
/// the next response the client receives: one request at a time on this client, as a single
/// booking makes them.
#[derive(Debug, Clone, Default)]
struct Conflicts {
    armed: Arc<AtomicUsize>,
    transactions: Arc<AtomicUsize>,
    replace_next_response: Arc<AtomicBool>,
}

impl Conflicts {
    /// The next `n` transactions conflict; the count starts again from zero.
    fn arm(&self, n: usize) {
        self.armed.store(n, Ordering::SeqCst);
        self.transactions.store(0, Ordering::SeqCst);
    }

    fn transactions(&self) -> usize {
        self.transactions.load(Ordering::SeqCst)
    }
}

impl Intercept for Conflicts {
    fn name(&self) -> &'static str {
        "Conflicts"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        if request.headers().get("x-amz-target") != Some("DynamoDB_20120810.TransactWriteItems") {
            return Ok(());
        }
        self.transactions.fetch_add(1, Ordering::SeqCst);
        let conflict = self
            .armed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if conflict {
            let body = r#"{"Limit":1}"#;
            let headers = request.headers_mut();
            headers.insert("x-amz-target", "DynamoDB_20120810.ListTables");
            headers.insert("content-length", body.len().to_string());
            *request.body_mut() = body.into();
            self.replace_next_response.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !self.replace_next_response.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let response = context.response_mut();
        *response.status_mut() = 400u16.try_into()?;
        let headers = response.headers_mut();
        headers.insert("content-type", "application/x-amz-json-1.0");
        headers.insert("content-length", CANCELLED_BY_CONFLICT.len().to_string());
        *response.body_mut() = CANCELLED_BY_CONFLICT.into();
        Ok(())
    }
}

struct Fixture {
    store: DynamoStore,
    conflicts: Conflicts,
    resident: Resident,
    slot: SlotRef,
}

/// A table on moto with a slot of two seats and one resident, on a client that cancels the
/// transactions it is told to.
async fn fixture(endpoint: &str) -> Fixture {
    let config = moto_config(endpoint).await;
    let conflicts = Conflicts::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(conflicts.clone())
            .build(),
    );
    let table = unique_name("conflicts");
    create_table(&client, &table).await.expect("create table");
    let store = DynamoStore::new(client, table);
    let id = ServiceId::parse("consult").expect("service");
    let slot = SlotRef::parse("consult@2027-01-15T10:00").expect("slot");
    let schedule = Schedule {
        services: [(id.clone(), booking_contract::service(id.as_str()))]
            .into_iter()
            .collect(),
        slots: [(
            slot.clone(),
            Slot {
                end: slot.start,
                slot: slot.clone(),
                capacity: 2,
            },
        )]
        .into_iter()
        .collect(),
    };
    store
        .publish_schedule(&schedule, now())
        .await
        .expect("publish");
    let resident = store
        .save_resident(
            &Resident::new(UserId::parse("Uconflicted").expect("id")),
            None,
        )
        .await
        .expect("save");
    Fixture {
        store,
        conflicts,
        resident,
        slot,
    }
}

/// 2027-01-04 10:00 JST.
fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 4, 1, 0, 0)
        .single()
        .expect("time")
}

fn request(f: &Fixture) -> BookingRequest {
    BookingRequest {
        id: BookingId::derive("conflicted-booking"),
        user: f.resident.user_id.clone(),
        resident_version: f.resident.version,
        slot: f.slot.clone(),
        booked_for: BookingFor(FOR_RESIDENT.into()),
        one_per_resident: false,
        now: now(),
        claim: None,
    }
}

/// Seats taken in the slot, the resident's bookings and version, and the booking items in
/// the whole table.
async fn stored(f: &Fixture) -> (u32, usize, u64, usize) {
    let day = NaiveDate::from_ymd_opt(2027, 1, 15).expect("date");
    let states = f
        .store
        .slot_states(&f.slot.service, day, day)
        .await
        .expect("slots");
    assert_eq!(states.len(), 1, "{states:?}");
    let bookings = f
        .store
        .bookings_of(&f.resident.user_id)
        .await
        .expect("bookings");
    let version = f
        .store
        .resident(&f.resident.user_id)
        .await
        .expect("read")
        .expect("stored")
        .version;
    let dump = table_dump(f.store.client(), f.store.table()).await;
    let items = dump.matches("sk=S(\"booking#").count();
    (states[0].booked, bookings.len(), version, items)
}

#[tokio::test]
async fn a_booking_that_meets_conflicts_is_retried_and_takes_one_seat() {
    let Some(ep) = moto_endpoint() else { return };
    let f = fixture(&ep).await;
    f.conflicts.arm(3);
    let booking = f.store.book(&request(&f)).await.expect("booked");
    assert_eq!(
        f.conflicts.transactions(),
        4,
        "three cancelled by a conflict, then the one that went through"
    );
    assert_eq!(booking.slot, f.slot);
    assert_eq!(
        stored(&f).await,
        (1, 1, f.resident.version + 1, 1),
        "one seat, one booking, one version step, one booking item"
    );
    let bookings = f
        .store
        .bookings_of(&f.resident.user_id)
        .await
        .expect("bookings");
    assert_eq!(bookings[0].id, booking.id);
    assert!(bookings[0].is_active());
}

/// The last retry still books: the budget is exactly `BOOKING_CONFLICT_RETRIES` retries.
#[tokio::test]
async fn a_booking_gets_through_on_its_last_retry() {
    let Some(ep) = moto_endpoint() else { return };
    let f = fixture(&ep).await;
    f.conflicts.arm(BOOKING_CONFLICT_RETRIES);
    f.store.book(&request(&f)).await.expect("booked");
    assert_eq!(f.conflicts.transactions(), BOOKING_CONFLICT_RETRIES + 1);
    assert_eq!(stored(&f).await, (1, 1, f.resident.version + 1, 1));
}

#[tokio::test]
async fn a_slot_that_stays_busy_is_unavailable_and_nothing_is_stored() {
    let Some(ep) = moto_endpoint() else { return };
    let f = fixture(&ep).await;
    f.conflicts.arm(BOOKING_CONFLICT_RETRIES + 5);
    let err = f.store.book(&request(&f)).await.expect_err("busy");
    match &err {
        BookingError::Store(e @ StoreError::Unavailable(message)) => {
            assert!(message.contains("busy"), "{message}");
            assert!(e.is_retryable(), "the resident is asked to try again");
        }
        other => panic!("expected the store to be unavailable, got {other:?}"),
    }
    assert_eq!(
        f.conflicts.transactions(),
        BOOKING_CONFLICT_RETRIES + 1,
        "the first try and every retry, then it gives up"
    );
    assert_eq!(
        stored(&f).await,
        (0, 0, f.resident.version, 0),
        "no seat, no booking, the resident unchanged"
    );
    // Nothing half-done stands in the way: once the slot is free, the same booking goes
    // through.
    f.conflicts.arm(0);
    f.store.book(&request(&f)).await.expect("booked");
    assert_eq!(f.conflicts.transactions(), 1);
    assert_eq!(stored(&f).await, (1, 1, f.resident.version + 1, 1));
}
