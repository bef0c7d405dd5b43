//! Reservations on DynamoDB ([`BookingStore`]); the items are listed in [`codec`](super::codec).
//!
//! A seat changes hands in one `TransactWriteItems` whose conditions are the rules: the slot
//! has `booked < capacity`, nobody waiting for it and no holder or waiting-list entry for the
//! registration; the booking item is new; the resident's per-service hold is free or already
//! started (one future booking per resident); the profile still has the version the turn read
//! (so a booking never survives a concurrent turn or stop, which bump or delete it); the
//! webhook event is not claimed yet. When DynamoDB cancels the transaction, its reasons,
//! position by position, say why: full, no such slot, already held, limit reached, a changed
//! resident, a redelivered event, or a seat offered to this very registration, which a second
//! transaction then takes (see [`waitlist`](super::waitlist)). A `TransactionConflict` (another
//! transaction on the same slot at that instant) is retried with jittered backoff, at most
//! [`BOOKING_CONFLICT_RETRIES`] times.
//!
//! The slot item counts its seats taken (`booked`, the number the condition compares: bookings
//! and offers alike) and keeps a map of its holders (resident → 予約番号 and when the seat was
//! taken): the condition that a resident holds a slot once, and the order in which a
//! shrinking publish cancels (the latest first). A stop removes the resident's holder entries
//! with its bookings.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec::{
    CLAIM_SK, Item, PROFILE_SK, event_pk, key, n, s, set_expression, string, user_pk,
};
use super::error::{Reason, cancellation, classify};
use super::waitlist::{LINE, OFFER, QUEUED, line_of, offer_in, stamp};
use super::{ANCHOR_INDEX, DynamoStore, TTL_ATTRIBUTE};
use crate::dates;
use crate::domain::UserId;
use crate::reservations::{
    Booking, BookingFor, BookingId, BookingStatus, CancelledBy, Schedule, Service, ServiceId, Slot,
    SlotRef, SlotState, Waiting, Waitlist,
};
use crate::store::bookings::{
    BOOKING_CONFLICT_RETRIES, BookingError, BookingRequest, BookingStore, Offers, Published,
    Release, SeatChange, Stranding, WaitChange, WaitRequest,
};
use crate::store::{EventClaim, StoreError};

/// `pk` of the published services (`sk` = the service id).
pub(super) const SERVICES_PK: &str = "services";
pub(super) const SLOT_PREFIX: &str = "slot#";
pub(super) const BOOKING_PREFIX: &str = "booking#";
const HOLD_PREFIX: &str = "hold#";
const BOOKINGS_PREFIX: &str = "bookings#";

/// Slot attributes. `booked` counts the seats taken, by bookings and by offers alike.
pub(super) const BOOKED: &str = "booked";
pub(super) const CAPACITY: &str = "capacity";
pub(super) const END: &str = "end";
pub(super) const HOLDERS: &str = "holders";
/// Booking attributes (`status` and `slot` are also read by a stop's Query).
pub(super) const STATUS: &str = "status";
pub(super) const SLOT: &str = "slot";
pub(super) const STATUS_BOOKED: &str = "booked";
/// The slot a booking's reminder was sent for.
pub(super) const REMINDED: &str = "reminded";
/// Hold attributes.
const HOLD_STARTS: &str = "starts_at";
const HOLD_BOOKING: &str = "booking";

pub(super) fn slot_key(slot: &SlotRef) -> Item {
    key(&slot_pk(&slot.service), &slot.when_key())
}

fn slot_pk(service: &ServiceId) -> String {
    format!("{SLOT_PREFIX}{service}")
}

pub(super) fn booking_key(user: &UserId, id: &BookingId) -> Item {
    key(&user_pk(user), &format!("{BOOKING_PREFIX}{id}"))
}

/// One hold per resident, service and registration (twins each hold their own).
fn hold_key(user: &UserId, service: &ServiceId, who: &BookingFor) -> Item {
    key(
        &user_pk(user),
        &format!("{HOLD_PREFIX}{service}#{}", who.as_str()),
    )
}

/// A slot's holder entry is per resident and registration: twins may sit side by side,
/// one child never twice. (Ids and registrations never contain `|`.)
pub(super) fn holder_name(user: &UserId, who: &BookingFor) -> String {
    format!("{}|{}", user.as_str(), who.as_str())
}

/// The GSI partition of bookings whose slot is in `date`'s month.
fn bookings_partition(date: NaiveDate) -> String {
    format!("{BOOKINGS_PREFIX}{}", date.format("%Y-%m"))
}

/// `15T13:30#checkup#K7Q2M9XA`: slot order within the month.
fn bookings_sort(slot: &SlotRef, id: &BookingId) -> String {
    format!(
        "{}T{}#{}#{}",
        slot.date.format("%d"),
        slot.start.format("%H:%M"),
        slot.service,
        id
    )
}

pub(super) fn rejected(e: impl std::fmt::Display) -> StoreError {
    StoreError::Rejected(e.to_string())
}

/// A seat change's refusal where only a store error can be reported (a publish, a sweep):
/// the store's own errors stay what they are.
pub(super) fn store_error(e: BookingError) -> StoreError {
    match e {
        BookingError::Store(e) => e,
        other => StoreError::Rejected(other.to_string()),
    }
}

/// A unit enum as the string serde names it (`staff`, `illness`).
fn word<T: Serialize>(v: &T) -> AttributeValue {
    // Unit variants always serialize to a string.
    serde_dynamo::to_attribute_value(v).unwrap_or_else(|_| AttributeValue::Null(true))
}

fn from_word<T: DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    let v = item
        .get(name)
        .ok_or_else(|| StoreError::Corrupt(format!("booking attribute `{name}` is missing")))?;
    serde_dynamo::from_attribute_value(v.clone())
        .map_err(|e| StoreError::Corrupt(format!("booking `{name}`: {e}")))
}

fn number(item: &Item, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("`{name}` is not a whole number"))),
        _ => Err(StoreError::Corrupt(format!(
            "attribute `{name}` is missing"
        ))),
    }
}

pub(super) fn instant(item: &Item, name: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(&string(item, name)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("`{name}` is not a time")))
}

/// A booking's status as (name, value) pairs: `status`, and for a released one when and why.
fn status_attributes(status: &BookingStatus) -> Vec<(&'static str, AttributeValue)> {
    match status {
        BookingStatus::Booked => vec![(STATUS, s(STATUS_BOOKED))],
        BookingStatus::Cancelled { at, by } => vec![
            (STATUS, s("cancelled")),
            ("released_at", s(&at.to_rfc3339())),
            ("cancelled_by", word(by)),
        ],
        BookingStatus::Absent { at, reason } => vec![
            (STATUS, s("absent")),
            ("released_at", s(&at.to_rfc3339())),
            ("reason", word(reason)),
        ],
    }
}

/// Where a booking is: its slot and the GSI keys that list it by the slot's date.
fn placement_attributes(slot: &SlotRef, id: &BookingId) -> Vec<(&'static str, AttributeValue)> {
    vec![
        (SLOT, s(&slot.to_string())),
        ("apk", s(&bookings_partition(slot.date))),
        ("ask", s(&bookings_sort(slot, id))),
    ]
}

fn booking_item(b: &Booking) -> Item {
    let mut item = booking_key(&b.user, &b.id);
    let attributes = [
        ("id", s(b.id.as_str())),
        ("user", s(b.user.as_str())),
        ("for", s(&b.booked_for.0)),
        ("booked_at", s(&b.booked_at.to_rfc3339())),
    ]
    .into_iter()
    .chain(placement_attributes(&b.slot, &b.id))
    .chain(status_attributes(&b.status));
    for (name, value) in attributes {
        item.insert(name.to_string(), value);
    }
    item
}

fn booking_from(item: &Item) -> Result<Booking, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("booking {what} is malformed"));
    let status = match string(item, STATUS)?.as_str() {
        STATUS_BOOKED => BookingStatus::Booked,
        "cancelled" => BookingStatus::Cancelled {
            at: instant(item, "released_at")?,
            by: from_word(item, "cancelled_by")?,
        },
        "absent" => BookingStatus::Absent {
            at: instant(item, "released_at")?,
            reason: from_word(item, "reason")?,
        },
        _ => return Err(corrupt("status")),
    };
    Ok(Booking {
        id: BookingId::parse(&string(item, "id")?).ok_or_else(|| corrupt("id"))?,
        user: UserId::parse(&string(item, "user")?).ok_or_else(|| corrupt("user"))?,
        slot: SlotRef::parse(&string(item, SLOT)?).ok_or_else(|| corrupt("slot"))?,
        booked_for: BookingFor(string(item, "for")?),
        booked_at: instant(item, "booked_at")?,
        status,
    })
}

/// A holder entry of a slot: the 予約番号 and when the seat was taken (ms).
fn holder(id: &BookingId, at: DateTime<Utc>) -> AttributeValue {
    AttributeValue::M(
        [
            ("b".to_string(), s(id.as_str())),
            ("at".to_string(), n(at.timestamp_millis())),
        ]
        .into(),
    )
}

/// A slot item's holders: (when, 予約番号, resident), in the order the seats were taken.
fn holders_of(item: &Item) -> Vec<(i64, BookingId, UserId)> {
    let Some(AttributeValue::M(map)) = item.get(HOLDERS) else {
        return Vec::new();
    };
    let mut out: Vec<_> = map
        .iter()
        .filter_map(|(user, entry)| {
            let AttributeValue::M(entry) = entry else {
                return None;
            };
            let at = number(entry, "at").ok()?;
            let id = BookingId::parse(&string(entry, "b").ok()?)?;
            let user = user.split_once('|').map_or(user.as_str(), |(u, _)| u);
            Some((at, id, UserId::parse(user)?))
        })
        .collect();
    out.sort();
    out
}

pub(super) fn holder_booking(item: &Item, user: &UserId, who: &BookingFor) -> Option<BookingId> {
    match item.get(HOLDERS) {
        Some(AttributeValue::M(map)) => match map.get(&holder_name(user, who)) {
            Some(AttributeValue::M(entry)) => BookingId::parse(&string(entry, "b").ok()?),
            _ => None,
        },
        _ => None,
    }
}

/// A slot item as read: the slot, its seats taken and its waiting list.
pub(super) struct SlotItem {
    pub slot: Slot,
    /// Seats taken by bookings and by offers (what a booking's condition compares).
    pub taken: u32,
    /// Residents on the list without an offer, as counted (a walk-in needs none).
    pub queued: u32,
    /// The waiting list, offers included, in its order.
    pub line: Vec<Waiting>,
}

impl SlotItem {
    pub fn offered(&self) -> u32 {
        self.line
            .iter()
            .filter(|w| w.offered_until.is_some())
            .count() as u32
    }

    /// Seats neither booked nor held by an offer.
    pub fn free(&self) -> u32 {
        self.slot.capacity.saturating_sub(self.taken)
    }

    fn state(&self) -> SlotState {
        let offered = self.offered();
        SlotState {
            slot: self.slot.clone(),
            booked: self.taken.saturating_sub(offered),
            offered,
            waiting: self.line.len() as u32 - offered,
        }
    }
}

pub(super) fn slot_from(service: &ServiceId, item: &Item) -> Result<SlotItem, StoreError> {
    let when = string(item, "sk")?;
    let slot = SlotRef::parse(&format!("{service}@{when}"))
        .ok_or_else(|| StoreError::Corrupt("a slot's key is malformed".into()))?;
    let end = crate::reservations::parse_hm(&string(item, END)?)
        .ok_or_else(|| StoreError::Corrupt("a slot's end is malformed".into()))?;
    let count = |name: &str| {
        let stored = match item.get(name) {
            // Slots stored before waiting lists count nobody in line.
            None if name == QUEUED => 0,
            _ => number(item, name)?,
        };
        u32::try_from(stored)
            .map_err(|_| StoreError::Corrupt(format!("a slot's `{name}` is out of range")))
    };
    Ok(SlotItem {
        line: line_of(&slot, item)?,
        slot: Slot {
            slot,
            end,
            capacity: count(CAPACITY)?,
        },
        taken: count(BOOKED)?,
        queued: count(QUEUED)?,
    })
}

/// One try of a seat change: done, refused for good, or to be tried again (a transaction
/// conflict, or the state changed between a read and the transaction).
pub(super) enum Attempt {
    Refused(BookingError),
    Again,
    /// The seat asked for is held for this registration by an offer: take it as such.
    Offered,
}

impl From<StoreError> for Attempt {
    fn from(e: StoreError) -> Attempt {
        Attempt::Refused(e.into())
    }
}

impl From<BookingError> for Attempt {
    fn from(e: BookingError) -> Attempt {
        Attempt::Refused(e)
    }
}

/// Runs `attempt` until it is done or refused, trying again after a conflict with jittered
/// exponential backoff; still conflicting after the retries, the store is busy.
pub(super) async fn with_retries<T, F, Fut>(attempt: F) -> Result<T, BookingError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Attempt>>,
{
    attempt
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(20))
                .with_max_delay(Duration::from_millis(1000))
                .with_max_times(BOOKING_CONFLICT_RETRIES)
                .with_jitter(),
        )
        .when(|e| matches!(e, Attempt::Again))
        .await
        .map_err(|e| match e {
            Attempt::Refused(e) => e,
            Attempt::Again | Attempt::Offered => StoreError::Unavailable(
                "the slot stayed busy with other bookings; try again".into(),
            )
            .into(),
        })
}

/// What a cancelled transaction's reasons say, read by position.
pub(super) struct Reasons(Vec<Reason>);

impl Reasons {
    pub(super) fn failed(&self, at: Option<usize>) -> bool {
        at.and_then(|i| self.0.get(i))
            .is_some_and(Reason::failed_condition)
    }

    pub(super) fn old_item(&self, at: usize) -> Option<&Item> {
        self.0.get(at).and_then(|r| r.item.as_ref())
    }

    /// A failed condition no position explains, or a conflict: try again.
    pub(super) fn otherwise(&self) -> Attempt {
        if self
            .0
            .iter()
            .any(|r| r.conflicted() || r.failed_condition())
        {
            Attempt::Again
        } else {
            let codes: Vec<&str> = self.0.iter().filter_map(|r| r.code.as_deref()).collect();
            StoreError::Unavailable(format!("transaction cancelled: {}", codes.join(", "))).into()
        }
    }
}

impl DynamoStore {
    /// Runs one transaction; `Ok(Some(reasons))` if DynamoDB cancelled it.
    pub(super) async fn try_transaction(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Reasons>, StoreError> {
        let _turn = self.transaction_turn().await;
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(e) => match cancellation(&e) {
                Some(reasons) => Ok(Some(Reasons(reasons))),
                None => Err(classify(e)),
            },
        }
    }

    pub(super) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item)
    }

    async fn stored_booking(
        &self,
        user: &UserId,
        id: &BookingId,
    ) -> Result<Option<Booking>, StoreError> {
        self.get(booking_key(user, id))
            .await?
            .as_ref()
            .map(booking_from)
            .transpose()
    }

    /// The booking the resident's hold of `service` points to, if any.
    async fn hold(
        &self,
        user: &UserId,
        service: &ServiceId,
        who: &BookingFor,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(hold_key(user, service, who))
            .await?
            .and_then(|item| string(&item, HOLD_BOOKING).ok()))
    }

    /// Why a change of a booking that is not there (or not active) is refused, in the order
    /// the embedded store decides: a processed event, then a changed resident, then `missing`.
    pub(super) async fn refusal(
        &self,
        user: &UserId,
        resident_version: u64,
        claim: Option<&EventClaim>,
        missing: BookingError,
    ) -> BookingError {
        if let Some(c) = claim {
            match self.get(key(&event_pk(&c.event_id), CLAIM_SK)).await {
                Ok(Some(item))
                    if number(&item, TTL_ATTRIBUTE).is_ok_and(|t| t > c.now.timestamp()) =>
                {
                    return StoreError::DuplicateEvent.into();
                }
                Ok(_) => {}
                Err(e) => return e.into(),
            }
        }
        match self.profile(user).await {
            Ok(Some(r)) if r.version == resident_version => missing,
            Ok(_) => StoreError::Conflict.into(),
            Err(e) => e.into(),
        }
    }

    /// Takes a seat of `slot` for `user`, if one is left, nobody waits for it and the
    /// registration neither holds one there nor is in line (a seat offered to it is taken by
    /// [`take_offered_seat`](Self::take_offered_seat)). On failure DynamoDB returns the slot
    /// as it was, which tells why.
    fn take_seat(
        &self,
        slot: &SlotRef,
        user: &UserId,
        who: &BookingFor,
        id: &BookingId,
        at: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(slot_key(slot)))
            .update_expression("SET #n = #n + :one, #h.#u = :holder")
            .condition_expression(
                "attribute_exists(pk) AND #n < #c AND attribute_not_exists(#h.#u) \
                 AND attribute_not_exists(#l.#u) AND (attribute_not_exists(#q) OR #q = :zero)",
            )
            .expression_attribute_names("#n", BOOKED)
            .expression_attribute_names("#c", CAPACITY)
            .expression_attribute_names("#h", HOLDERS)
            .expression_attribute_names("#l", LINE)
            .expression_attribute_names("#q", QUEUED)
            .expression_attribute_names("#u", holder_name(user, who))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":holder", holder(id, at))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Takes the seat of `slot` offered to `user`'s registration, whatever the count: the
    /// offer becomes the booking's seat (`booked` stays), and the registration leaves the line.
    fn take_offered_seat(
        &self,
        slot: &SlotRef,
        user: &UserId,
        who: &BookingFor,
        id: &BookingId,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(slot_key(slot)))
            .update_expression("SET #h.#u = :holder REMOVE #l.#u")
            .condition_expression(
                "attribute_exists(pk) AND #l.#u.#o > :now AND attribute_not_exists(#h.#u)",
            )
            .expression_attribute_names("#h", HOLDERS)
            .expression_attribute_names("#l", LINE)
            .expression_attribute_names("#o", OFFER)
            .expression_attribute_names("#u", holder_name(user, who))
            .expression_attribute_values(":holder", holder(id, at))
            .expression_attribute_values(":now", s(&stamp(now)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Frees `user`'s seat of `slot` (their holder entry must be there).
    fn free_seat(
        &self,
        slot: &SlotRef,
        user: &UserId,
        who: &BookingFor,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(slot_key(slot)))
            .update_expression("SET #n = #n - :one REMOVE #h.#u")
            .condition_expression("attribute_exists(#h.#u)")
            .expression_attribute_names("#n", BOOKED)
            .expression_attribute_names("#h", HOLDERS)
            .expression_attribute_names("#u", holder_name(user, who))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The resident's version moves on, if it still is the one the turn read.
    pub(super) fn bump_version(
        &self,
        user: &UserId,
        read: u64,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&user_pk(user), PROFILE_SK)))
            .update_expression("ADD version :one")
            .condition_expression("version = :v")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":v", n(read as i64))
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn put_new_booking(&self, b: &Booking) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(booking_item(b)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Sets `attributes` on an active booking that is still in `slot`.
    fn update_active_booking(
        &self,
        user: &UserId,
        id: &BookingId,
        slot: &SlotRef,
        attributes: Vec<(&'static str, AttributeValue)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let (expression, mut names, mut values) = set_expression(attributes);
        names.insert("#st".into(), STATUS.into());
        names.insert("#sl".into(), SLOT.into());
        values.insert(":booked".into(), s(STATUS_BOOKED));
        values.insert(":slot".into(), s(&slot.to_string()));
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(booking_key(user, id)))
            .update_expression(expression)
            .condition_expression("#st = :booked AND #sl = :slot")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Deletes an active booking that is still in `slot` (a stop).
    pub(super) fn delete_active_booking(
        &self,
        booking_key: Item,
        slot: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(booking_key))
            .condition_expression("#st = :booked AND #sl = :slot")
            .expression_attribute_names("#st", STATUS)
            .expression_attribute_names("#sl", SLOT)
            .expression_attribute_values(":booked", s(STATUS_BOOKED))
            .expression_attribute_values(":slot", s(slot))
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The resident's one future booking of a service, unless a held one has not started.
    fn put_hold(
        &self,
        user: &UserId,
        who: &BookingFor,
        slot: &SlotRef,
        id: &BookingId,
        now: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item = hold_key(user, &slot.service, who);
        item.insert(HOLD_STARTS.into(), n(starts_at(slot).timestamp()));
        item.insert(HOLD_BOOKING.into(), s(id.as_str()));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #t <= :now")
            .expression_attribute_names("#t", HOLD_STARTS)
            .expression_attribute_values(":now", n(now.timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Lets the hold go with the booking it points to.
    fn delete_hold(
        &self,
        user: &UserId,
        who: &BookingFor,
        service: &ServiceId,
        id: &BookingId,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(hold_key(user, service, who)))
            .condition_expression("#b = :id")
            .expression_attribute_names("#b", HOLD_BOOKING)
            .expression_attribute_values(":id", s(id.as_str()))
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The hold follows its booking to another slot.
    fn move_hold(
        &self,
        user: &UserId,
        who: &BookingFor,
        to: &SlotRef,
        id: &BookingId,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(hold_key(user, &to.service, who)))
            .update_expression("SET #t = :t")
            .condition_expression("#b = :id")
            .expression_attribute_names("#t", HOLD_STARTS)
            .expression_attribute_names("#b", HOLD_BOOKING)
            .expression_attribute_values(":t", n(starts_at(to).timestamp()))
            .expression_attribute_values(":id", s(id.as_str()))
            .build()
            .map_err(rejected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The claim goes last; its position is returned.
    pub(super) fn push_claim(
        &self,
        items: &mut Vec<TransactWriteItem>,
        claim: Option<&EventClaim>,
    ) -> Result<Option<usize>, StoreError> {
        match claim {
            Some(c) => {
                items.push(self.claim_put(c)?);
                Ok(Some(items.len() - 1))
            }
            None => Ok(None),
        }
    }

    async fn try_book(&self, r: &BookingRequest) -> Result<Booking, Attempt> {
        match self.book_seat(r, false).await {
            // The seat is held for them: a second transaction takes the offer.
            Err(Attempt::Offered) => self.book_seat(r, true).await,
            other => other,
        }
    }

    /// One transaction of a booking: a seat free for anyone, or (`offered`) the seat
    /// offered to the registration.
    async fn book_seat(&self, r: &BookingRequest, offered: bool) -> Result<Booking, Attempt> {
        let booking = Booking {
            id: r.id.clone(),
            user: r.user.clone(),
            slot: r.slot.clone(),
            booked_for: r.booked_for.clone(),
            booked_at: r.now,
            status: BookingStatus::Booked,
        };
        const SEAT: usize = 0;
        const BOOKING: usize = 1;
        const PROFILE: usize = 2;
        let seat = if offered {
            self.take_offered_seat(&r.slot, &r.user, &r.booked_for, &r.id, r.now, r.now)?
        } else {
            self.take_seat(&r.slot, &r.user, &r.booked_for, &r.id, r.now)?
        };
        let mut items = vec![
            seat,
            self.put_new_booking(&booking)?,
            self.bump_version(&r.user, r.resident_version)?,
        ];
        let hold_at = if r.one_per_resident {
            items.push(self.put_hold(&r.user, &r.booked_for, &r.slot, &r.id, r.now)?);
            Some(items.len() - 1)
        } else {
            None
        };
        if offered {
            items.push(self.delete_wait(&r.user, &r.slot, &r.booked_for)?);
        }
        let claim_at = self.push_claim(&mut items, r.claim.as_ref())?;
        let Some(reasons) = self.try_transaction(items).await? else {
            return Ok(booking);
        };
        if let Some(refused) = self
            .seat_refusal(&reasons, claim_at, PROFILE, SEAT, &r.user, &r.booked_for)
            .await
        {
            return Err(refused);
        }
        if let Some(at) = hold_at
            && reasons.failed(Some(at))
        {
            let held = reasons
                .old_item(at)
                .and_then(|item| string(item, HOLD_BOOKING).ok())
                .and_then(|id| BookingId::parse(&id));
            if let Some(held) = held {
                return Err(self
                    .already(&r.user, &held, BookingError::LimitReached)
                    .await);
            }
        }
        if reasons.failed(Some(BOOKING)) {
            // The 予約番号 is taken already: the same booking, asked for again.
            return Err(self
                .already(&r.user, &r.id, BookingError::AlreadyBooked)
                .await);
        }
        if reasons.failed(Some(SEAT)) {
            return Err(full_or_offered(
                &reasons,
                SEAT,
                &r.user,
                &r.booked_for,
                r.now,
                offered,
            ));
        }
        Err(reasons.otherwise())
    }

    /// Why a transaction that took a seat of a slot was refused, read in the order the
    /// embedded store decides: the event already processed, the resident changed, the slot
    /// gone, this registration already in it. `None` when it was none of these: the caller
    /// reads its own items (a hold, the booking), and a refused seat is then a full slot.
    async fn seat_refusal(
        &self,
        reasons: &Reasons,
        claim_at: Option<usize>,
        profile_at: usize,
        seat_at: usize,
        user: &UserId,
        who: &BookingFor,
    ) -> Option<Attempt> {
        if reasons.failed(claim_at) {
            return Some(StoreError::DuplicateEvent.into());
        }
        if reasons.failed(Some(profile_at)) {
            return Some(StoreError::Conflict.into());
        }
        if !reasons.failed(Some(seat_at)) {
            return None;
        }
        let Some(slot) = reasons.old_item(seat_at) else {
            return Some(BookingError::NoSuchSlot.into());
        };
        let held = holder_booking(slot, user, who)?;
        Some(self.already(user, &held, BookingError::AlreadyBooked).await)
    }

    /// The booking the resident already holds, as `refusal`; read again if it just went.
    pub(super) async fn already(
        &self,
        user: &UserId,
        id: &BookingId,
        refusal: fn(Box<Booking>) -> BookingError,
    ) -> Attempt {
        match self.stored_booking(user, id).await {
            Ok(Some(b)) => Attempt::Refused(refusal(Box::new(b))),
            Ok(None) => Attempt::Again,
            Err(e) => e.into(),
        }
    }

    /// The active booking a change is about, or why there is none.
    async fn active_booking(&self, change: &SeatChange<'_>) -> Result<Booking, Attempt> {
        match self.stored_booking(change.user, change.booking).await? {
            Some(b) if b.is_active() => Ok(b),
            _ => Err(self
                .refusal(
                    change.user,
                    change.resident_version,
                    change.claim,
                    BookingError::NoSuchBooking,
                )
                .await
                .into()),
        }
    }

    async fn try_release(&self, change: &SeatChange<'_>, how: Release) -> Result<Booking, Attempt> {
        let mut booking = self.active_booking(change).await?;
        let holds = self
            .hold(change.user, &booking.slot.service, &booking.booked_for)
            .await?;
        booking.status = match how {
            Release::Cancel => BookingStatus::Cancelled {
                at: change.now,
                by: CancelledBy::Resident,
            },
            Release::Absent(reason) => BookingStatus::Absent {
                at: change.now,
                reason,
            },
        };
        const PROFILE: usize = 2;
        let mut items = vec![
            self.update_active_booking(
                &booking.user,
                &booking.id,
                &booking.slot,
                status_attributes(&booking.status),
            )?,
            self.free_seat(&booking.slot, &booking.user, &booking.booked_for)?,
            self.bump_version(change.user, change.resident_version)?,
        ];
        if holds.as_deref() == Some(booking.id.as_str()) {
            items.push(self.delete_hold(
                &booking.user,
                &booking.booked_for,
                &booking.slot.service,
                &booking.id,
            )?);
        }
        let claim_at = self.push_claim(&mut items, change.claim)?;
        let Some(reasons) = self.try_transaction(items).await? else {
            return Ok(booking);
        };
        if reasons.failed(claim_at) {
            return Err(StoreError::DuplicateEvent.into());
        }
        if reasons.failed(Some(PROFILE)) {
            return Err(StoreError::Conflict.into());
        }
        // The booking or the hold changed since they were read (staff cancelled it): read
        // again.
        Err(reasons.otherwise())
    }

    async fn try_change(&self, change: &SeatChange<'_>, to: &SlotRef) -> Result<Booking, Attempt> {
        match self.change_seat(change, to, false).await {
            // The new seat is held for this registration: a second transaction takes it.
            Err(Attempt::Offered) => self.change_seat(change, to, true).await,
            other => other,
        }
    }

    /// One transaction of a move: to a seat free for anyone, or (`offered`) to the seat
    /// offered to the booking's registration.
    async fn change_seat(
        &self,
        change: &SeatChange<'_>,
        to: &SlotRef,
        offered: bool,
    ) -> Result<Booking, Attempt> {
        let mut booking = self.active_booking(change).await?;
        if booking.slot.service != to.service || booking.slot == *to {
            let why = if booking.slot == *to {
                BookingError::AlreadyBooked(Box::new(booking.clone()))
            } else {
                BookingError::NoSuchSlot
            };
            return Err(self
                .refusal(change.user, change.resident_version, change.claim, why)
                .await
                .into());
        }
        let holds = self
            .hold(change.user, &to.service, &booking.booked_for)
            .await?;
        let from = std::mem::replace(&mut booking.slot, to.clone());
        const SEAT: usize = 0;
        const PROFILE: usize = 3;
        // The seat's time stays the booking's own, so "the latest booked give way" means the
        // same after a move (and in the staff's list before a publish).
        let seat = if offered {
            self.take_offered_seat(
                to,
                &booking.user,
                &booking.booked_for,
                &booking.id,
                booking.booked_at,
                change.now,
            )?
        } else {
            self.take_seat(
                to,
                &booking.user,
                &booking.booked_for,
                &booking.id,
                booking.booked_at,
            )?
        };
        let mut items = vec![
            seat,
            self.free_seat(&from, &booking.user, &booking.booked_for)?,
            self.update_active_booking(
                &booking.user,
                &booking.id,
                &from,
                placement_attributes(to, &booking.id),
            )?,
            self.bump_version(change.user, change.resident_version)?,
        ];
        if holds.as_deref() == Some(booking.id.as_str()) {
            items.push(self.move_hold(&booking.user, &booking.booked_for, to, &booking.id)?);
        }
        if offered {
            items.push(self.delete_wait(&booking.user, to, &booking.booked_for)?);
        }
        let claim_at = self.push_claim(&mut items, change.claim)?;
        let Some(reasons) = self.try_transaction(items).await? else {
            return Ok(booking);
        };
        if let Some(refused) = self
            .seat_refusal(
                &reasons,
                claim_at,
                PROFILE,
                SEAT,
                &booking.user,
                &booking.booked_for,
            )
            .await
        {
            return Err(refused);
        }
        if reasons.failed(Some(SEAT)) {
            return Err(full_or_offered(
                &reasons,
                SEAT,
                &booking.user,
                &booking.booked_for,
                change.now,
                offered,
            ));
        }
        Err(reasons.otherwise())
    }

    /// Staff take a seat back: the booking is cancelled by staff and its seat freed, if it
    /// is still active in `slot`. `None` if it no longer is.
    async fn try_cancel_by_staff(
        &self,
        user: &UserId,
        id: &BookingId,
        slot: &SlotRef,
        now: DateTime<Utc>,
    ) -> Result<Option<Booking>, Attempt> {
        let Some(mut booking) = self.stored_booking(user, id).await? else {
            return Ok(None);
        };
        if !booking.is_active() || booking.slot != *slot {
            return Ok(None);
        }
        booking.status = BookingStatus::Cancelled {
            at: now,
            by: CancelledBy::Staff,
        };
        let who = booking.booked_for.clone();
        let holds = self.hold(user, &slot.service, &who).await?;
        let mut items = vec![
            self.update_active_booking(user, id, slot, status_attributes(&booking.status))?,
            self.free_seat(slot, user, &who)?,
        ];
        if holds.as_deref() == Some(id.as_str()) {
            items.push(self.delete_hold(user, &who, &slot.service, id)?);
        }
        match self.try_transaction(items).await? {
            None => Ok(Some(booking)),
            Some(reasons) => Err(reasons.otherwise()),
        }
    }

    /// Cancels the latest bookings of `slot` until no more seats are taken than its
    /// capacity, offers first withdrawn (into `withdrawn`). With [`Stranding::Refuse`] a
    /// booking that would have to go answers [`StoreError::Conflict`] instead.
    async fn cancel_overflow(
        &self,
        slot: &SlotRef,
        now: DateTime<Utc>,
        stranding: Stranding,
        cancelled: &mut Vec<Booking>,
        withdrawn: &mut Vec<Waiting>,
    ) -> Result<(), StoreError> {
        loop {
            let Some(item) = self.get(slot_key(slot)).await? else {
                return Ok(());
            };
            let state = slot_from(&slot.service, &item)?;
            if state.taken <= state.slot.capacity {
                return Ok(());
            }
            // Offers give their seats back before bookings do; those residents are back in
            // line where they were.
            if state.offered() > 0 {
                withdrawn.extend(
                    with_retries(|| self.try_withdraw_offers(slot))
                        .await
                        .map_err(store_error)?,
                );
                continue;
            }
            if stranding == Stranding::Refuse {
                return Err(StoreError::Conflict);
            }
            let Some((_, id, user)) = holders_of(&item).pop() else {
                return Err(StoreError::Corrupt(
                    "a slot counts more seats than it has holders".into(),
                ));
            };
            let done = with_retries(|| self.try_cancel_by_staff(&user, &id, slot, now))
                .await
                .map_err(store_error)?;
            match done {
                Some(b) => cancelled.push(b),
                None => {
                    // The holder entry outlived its booking: nothing can free it but this.
                    return Err(StoreError::Corrupt(
                        "a slot's holder has no active booking there".into(),
                    ));
                }
            }
        }
    }

    /// Gives a slot its capacity in one request if its seats taken (bookings and offers)
    /// fit it; otherwise the slot as it is, unchanged. `end` given: the slot as staff defined
    /// it (created if new, keeping its seats and list); `None`: a slot being removed (left
    /// alone if gone). Once set, nothing takes seats past the capacity (a booking needs one
    /// below it; taking an offer keeps the count), so nothing is left to withdraw or cancel.
    async fn fit_slot(
        &self,
        slot: &SlotRef,
        end: Option<NaiveTime>,
        capacity: u32,
    ) -> Result<Fit, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(slot_key(slot)))
            .expression_attribute_names("#c", CAPACITY)
            .expression_attribute_names("#n", BOOKED)
            .expression_attribute_values(":c", n(capacity as i64))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        update = match end {
            Some(end) => update
                .update_expression(
                    "SET #e = :e, #c = :c, #n = if_not_exists(#n, :zero), \
                     #h = if_not_exists(#h, :none), #l = if_not_exists(#l, :none), \
                     #q = if_not_exists(#q, :zero)",
                )
                .condition_expression("attribute_not_exists(#n) OR #n <= :c")
                .expression_attribute_names("#e", END)
                .expression_attribute_names("#h", HOLDERS)
                .expression_attribute_names("#l", LINE)
                .expression_attribute_names("#q", QUEUED)
                .expression_attribute_values(":e", s(&end.format("%H:%M").to_string()))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":none", AttributeValue::M(Default::default()))
                .return_values(ReturnValue::None),
            None => update
                .update_expression("SET #c = :c")
                .condition_expression("attribute_exists(pk) AND #n <= :c")
                .return_values(ReturnValue::AllOld),
        };
        match update.send().await {
            Ok(out) => Ok(Fit::Set(out.attributes.unwrap_or_default())),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(match failed.item() {
                        Some(item) => Fit::Over(item.clone()),
                        None => Fit::Gone,
                    })
                }
                _ => Err(classify(e)),
            },
        }
    }

    /// One try of a new capacity for a slot (see [`resize_slot`](Self::resize_slot)), and
    /// the offers it withdrew.
    async fn try_set_capacity(
        &self,
        slot: &SlotRef,
        end: Option<NaiveTime>,
        capacity: u32,
        stranding: Stranding,
    ) -> Result<(Fit, bool, Vec<Waiting>), Attempt> {
        let item = match self.fit_slot(slot, end, capacity).await? {
            Fit::Over(item) => item,
            fit => return Ok((fit, true, Vec::new())),
        };
        let (withdrawn, set) = self
            .try_resize(slot, &item, end, capacity, stranding)
            .await?;
        Ok((Fit::Over(item), set, withdrawn))
    }

    /// Gives a slot its capacity (and `end`, as [`fit_slot`](Self::fit_slot)); if more
    /// seats are taken than that, it takes back offers (into `withdrawn`) in the same step,
    /// conditioned on the slot as read (see [`try_resize`](Self::try_resize)): with
    /// [`Stranding::Refuse`], bookings that no longer fit leave the slot as it was and answer
    /// [`StoreError::Conflict`]. `None` if the slot is gone (one being removed); otherwise its
    /// waiting list as first read (offers included), and whether bookings may still exceed
    /// the capacity, for [`cancel_overflow`](Self::cancel_overflow).
    async fn resize_slot(
        &self,
        slot: &SlotRef,
        end: Option<NaiveTime>,
        capacity: u32,
        stranding: Stranding,
        withdrawn: &mut Vec<Waiting>,
    ) -> Result<Option<(Vec<Waiting>, bool)>, StoreError> {
        let mut first: Option<Item> = None;
        let mut over = false;
        loop {
            let (fit, set, taken_back) =
                with_retries(|| self.try_set_capacity(slot, end, capacity, stranding))
                    .await
                    .map_err(store_error)?;
            withdrawn.extend(taken_back);
            let read = match fit {
                Fit::Gone => return Ok(None),
                Fit::Set(item) => item,
                Fit::Over(item) => {
                    over = true;
                    item
                }
            };
            let first = first.get_or_insert(read);
            if set {
                return Ok(Some((line_of(slot, first)?, over)));
            }
        }
    }

    /// A removed slot takes no more bookings, gives back its seats, then goes with its
    /// waiting list (`dropped`). With [`Stranding::Refuse`] one still holding bookings is
    /// left as it was, and this answers [`StoreError::Conflict`].
    async fn remove_slot(
        &self,
        slot: &SlotRef,
        now: DateTime<Utc>,
        stranding: Stranding,
        cancelled: &mut Vec<Booking>,
        dropped: &mut Vec<Waiting>,
    ) -> Result<(), StoreError> {
        // Offers closing takes back are not `withdrawn`: they go in `dropped`, as they were.
        let mut withdrawn = Vec::new();
        let Some((line, over)) = self
            .resize_slot(slot, None, 0, stranding, &mut withdrawn)
            .await?
        else {
            return Ok(());
        };
        if over {
            self.cancel_overflow(slot, now, stranding, cancelled, &mut withdrawn)
                .await?;
        }
        self.delete_slot(slot, &line, dropped).await
    }

    async fn stored_services(&self) -> Result<Vec<Item>, StoreError> {
        self.query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(SERVICES_PK))
                .consistent_read(true),
        )
        .await
    }
}

/// What a slot's conditioned capacity update found.
enum Fit {
    /// The capacity is set (the slot as it was, when asked for).
    Set(Item),
    /// More seats are taken than the capacity: the slot as it was, unchanged.
    Over(Item),
    /// No such slot (only a removal asks that it exist).
    Gone,
}

/// Why a seat was refused when the slot is there and the registration holds none: it is
/// full, or (read from the slot as it was) held for this very registration by a live offer,
/// which a second transaction takes. A refused offer went meanwhile: decide afresh.
fn full_or_offered(
    reasons: &Reasons,
    seat_at: usize,
    user: &UserId,
    who: &BookingFor,
    now: DateTime<Utc>,
    offered: bool,
) -> Attempt {
    if offered {
        return Attempt::Again;
    }
    let live = reasons
        .old_item(seat_at)
        .and_then(|slot| offer_in(slot, user, who))
        .is_some_and(|until| until > now);
    if live {
        Attempt::Offered
    } else {
        BookingError::Full.into()
    }
}

/// When a slot starts, as an instant (its end does not matter here).
fn starts_at(slot: &SlotRef) -> DateTime<Utc> {
    dates::tokyo_at(slot.date, slot.start)
}

impl BookingStore for DynamoStore {
    async fn services(&self) -> Result<Vec<Service>, StoreError> {
        self.stored_services()
            .await?
            .into_iter()
            .map(|mut item| {
                let service = item
                    .remove("service")
                    .ok_or_else(|| StoreError::Corrupt("a service item is empty".into()))?;
                serde_dynamo::from_attribute_value(service)
                    .map_err(|e| StoreError::Corrupt(format!("service: {e}")))
            })
            .collect()
    }

    async fn slot_states(
        &self,
        service: &ServiceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SlotState>, StoreError> {
        // `U` sorts right after the `T` of `2027-01-15T13:30`.
        let items = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
                    .expression_attribute_values(":pk", s(&slot_pk(service)))
                    .expression_attribute_values(":lo", s(&from.to_string()))
                    .expression_attribute_values(":hi", s(&format!("{to}U")))
                    .projection_expression("sk, #e, #c, #n, #q, #l")
                    .expression_attribute_names("#e", END)
                    .expression_attribute_names("#c", CAPACITY)
                    .expression_attribute_names("#n", BOOKED)
                    .expression_attribute_names("#q", QUEUED)
                    .expression_attribute_names("#l", LINE)
                    .consistent_read(true),
            )
            .await?;
        items
            .iter()
            .map(|item| Ok(slot_from(service, item)?.state()))
            .collect()
    }

    /// Services first, then each slot in its own steps (see
    /// [`resize_slot`](DynamoStore::resize_slot)), then removed slots and services: not one
    /// transaction. A refusal ([`Stranding::Refuse`]) leaves the slot refused as it was, but
    /// what came before it in the publish (services, other slots) is already applied;
    /// publishing again, once the bookings are settled, finishes it.
    async fn publish(
        &self,
        schedule: &Schedule,
        now: DateTime<Utc>,
        stranding: Stranding,
    ) -> Result<Published, StoreError> {
        let old_services: BTreeSet<String> = self
            .stored_services()
            .await?
            .iter()
            .map(|item| string(item, "sk"))
            .collect::<Result<_, _>>()?;
        for service in schedule.services.values() {
            let mut item = key(SERVICES_PK, service.id.as_str());
            item.insert(
                "service".into(),
                serde_dynamo::to_attribute_value(service)
                    .map_err(|e| StoreError::Rejected(format!("service: {e}")))?,
            );
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(classify)?;
        }
        let mut cancelled = Vec::new();
        let mut dropped = Vec::new();
        let mut withdrawn = Vec::new();
        for slot in schedule.slots.values() {
            let resized = self
                .resize_slot(
                    &slot.slot,
                    Some(slot.end),
                    slot.capacity,
                    stranding,
                    &mut withdrawn,
                )
                .await?;
            if resized.is_some_and(|(_, over)| over) {
                self.cancel_overflow(&slot.slot, now, stranding, &mut cancelled, &mut withdrawn)
                    .await?;
            }
        }
        // Slots of every service stored or published that the schedule no longer has.
        let mut services: BTreeSet<ServiceId> = schedule.services.keys().cloned().collect();
        services.extend(old_services.iter().filter_map(|id| ServiceId::parse(id)));
        for service in &services {
            let stored = self
                .query_all(
                    self.client
                        .query()
                        .table_name(&self.table)
                        .key_condition_expression("pk = :pk")
                        .expression_attribute_values(":pk", s(&slot_pk(service)))
                        .projection_expression("sk")
                        .consistent_read(true),
                )
                .await?;
            for item in &stored {
                let when = string(item, "sk")?;
                let slot = SlotRef::parse(&format!("{service}@{when}"))
                    .ok_or_else(|| StoreError::Corrupt("a slot's key is malformed".into()))?;
                if !schedule.slots.contains_key(&slot) {
                    self.remove_slot(&slot, now, stranding, &mut cancelled, &mut dropped)
                        .await?;
                }
            }
        }
        for id in &old_services {
            if ServiceId::parse(id).is_none_or(|s| !schedule.services.contains_key(&s)) {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key(SERVICES_PK, id)))
                    .send()
                    .await
                    .map_err(classify)?;
            }
        }
        Ok(Published {
            cancelled,
            dropped,
            withdrawn,
        })
    }

    async fn book(&self, request: &BookingRequest) -> Result<Booking, BookingError> {
        with_retries(|| self.try_book(request)).await
    }

    async fn release(
        &self,
        change: &SeatChange<'_>,
        how: Release,
    ) -> Result<Booking, BookingError> {
        with_retries(|| self.try_release(change, how)).await
    }

    async fn change_slot(
        &self,
        change: &SeatChange<'_>,
        to: &SlotRef,
    ) -> Result<Booking, BookingError> {
        with_retries(|| self.try_change(change, to)).await
    }

    async fn bookings_of(&self, user: &UserId) -> Result<Vec<Booking>, StoreError> {
        let items = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :b)")
                    .expression_attribute_values(":pk", s(&user_pk(user)))
                    .expression_attribute_values(":b", s(BOOKING_PREFIX))
                    .consistent_read(true),
            )
            .await?;
        let mut out = items
            .iter()
            .map(booking_from)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (&a.slot, &a.id).cmp(&(&b.slot, &b.id)));
        Ok(out)
    }

    async fn bookings_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        let mut out = Vec::new();
        let mut month = from.with_day(1).unwrap_or(from);
        while month <= to {
            // `$` sorts right after `#` and `T`; days run 01..31 within the month.
            let low = if month <= from {
                from.format("%d").to_string()
            } else {
                "01".into()
            };
            let next = month.checked_add_months(Months::new(1));
            let high = match next {
                Some(next) if next <= to => "32".to_string(),
                _ => format!("{}U", to.format("%d")),
            };
            let items = self
                .query_all(
                    self.client
                        .query()
                        .table_name(&self.table)
                        .index_name(ANCHOR_INDEX)
                        .key_condition_expression("apk = :p AND ask BETWEEN :lo AND :hi")
                        .expression_attribute_values(":p", s(&bookings_partition(month)))
                        .expression_attribute_values(":lo", s(&low))
                        .expression_attribute_values(":hi", s(&high)),
                )
                .await?;
            for item in &items {
                out.push(booking_from(item)?);
            }
            match next {
                Some(next) => month = next,
                None => break,
            }
        }
        Ok(out)
    }

    async fn join_waitlist(&self, request: &WaitRequest) -> Result<Waiting, BookingError> {
        with_retries(|| self.try_join(request)).await
    }

    async fn leave_waitlist(&self, change: &WaitChange<'_>) -> Result<Waiting, BookingError> {
        with_retries(|| self.try_leave(change)).await
    }

    async fn waiting_of(&self, user: &UserId) -> Result<Vec<Waiting>, StoreError> {
        self.stored_waiting(user).await
    }

    async fn waitlists(&self) -> Result<Vec<Waitlist>, StoreError> {
        self.stored_waitlists().await
    }

    async fn offer_seats(
        &self,
        slot: &SlotRef,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Offers, StoreError> {
        let until = until.filter(|until| *until > now);
        let mut offers = Offers::default();
        // More than one transaction holds only for more changes than one can carry.
        loop {
            let (done, more) = with_retries(|| self.try_offer(slot, until, now))
                .await
                .map_err(store_error)?;
            offers.lapsed.extend(done.lapsed);
            offers.offered.extend(done.offered);
            offers.ended.extend(done.ended);
            if !more {
                return Ok(offers);
            }
        }
    }

    async fn offer_told(&self, offered: &Waiting) -> Result<bool, StoreError> {
        with_retries(|| self.try_tell(offered))
            .await
            .map_err(store_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reservations::AbsenceReason;

    #[test]
    fn bookings_round_trip_in_every_status() {
        let at = DateTime::parse_from_rfc3339("2027-01-04T01:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let mut b = Booking {
            id: BookingId::derive("ev/slot"),
            user: UserId::parse("Uabc").expect("id"),
            slot: SlotRef::parse("checkup@2027-01-15T13:30").expect("slot"),
            booked_for: BookingFor("c1".into()),
            booked_at: at,
            status: BookingStatus::Booked,
        };
        for status in [
            BookingStatus::Booked,
            BookingStatus::Cancelled {
                at,
                by: CancelledBy::Staff,
            },
            BookingStatus::Absent {
                at,
                reason: AbsenceReason::Illness,
            },
        ] {
            b.status = status;
            let item = booking_item(&b);
            assert_eq!(booking_from(&item).expect("booking"), b);
        }
        let item = booking_item(&b);
        assert_eq!(item.get("apk"), Some(&s("bookings#2027-01")));
        assert_eq!(
            item.get("ask"),
            Some(&s(&format!("15T13:30#checkup#{}", b.id)))
        );
        assert_eq!(item.get("reason"), Some(&s("illness")));
    }

    #[test]
    fn holders_come_in_the_order_their_seats_were_taken() {
        let first = BookingId::derive("a");
        let second = BookingId::derive("b");
        let mut map = std::collections::HashMap::new();
        let child = BookingFor::parse("c1").expect("for");
        map.insert(
            holder_name(&UserId::parse("Ulate").expect("id"), &child),
            holder(&second, DateTime::<Utc>::MAX_UTC),
        );
        map.insert(
            holder_name(&UserId::parse("Uearly").expect("id"), &child),
            holder(&first, DateTime::<Utc>::MIN_UTC),
        );
        let item: Item = [(HOLDERS.to_string(), AttributeValue::M(map))].into();
        let order: Vec<BookingId> = holders_of(&item).into_iter().map(|(_, id, _)| id).collect();
        assert_eq!(order, vec![first, second.clone()]);
        assert_eq!(
            holder_booking(&item, &UserId::parse("Ulate").expect("id"), &child),
            Some(second)
        );
    }
}
