//! The reservations half of the store boundary: published services and slots, and the
//! bookings residents hold. Every change of a seat is one atomic step, conditioned on what
//! it depends on (seats left, the resident's other bookings, the resident's version as the
//! turn read it, the webhook event's claim), so a slot is never overbooked and a redelivered
//! event never books twice. [`LocalStore`](super::LocalStore) and `aws::DynamoStore` pass the
//! same contract ([`contract::run_booking_suite`](super::contract)).

use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};

use super::{EventClaim, StoreError};
use crate::domain::UserId;
use crate::reservations::{
    AbsenceReason, Booking, BookingFor, BookingId, Schedule, Service, ServiceId, SlotRef,
    SlotState, Waiting, Waitlist,
};

/// How many times a booking is retried when the store reports a transaction conflict
/// (another booking of the same slot committing at that instant) before the resident is
/// asked to try again.
pub const BOOKING_CONFLICT_RETRIES: usize = 8;

/// A resident asking for a seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    /// The 予約番号 to give the booking (derived from the webhook event).
    pub id: BookingId,
    pub user: UserId,
    /// The resident's version as the turn read it: a booking is refused with
    /// [`StoreError::Conflict`] if the resident changed (or was deleted) since, so a stop and
    /// a booking racing each other never leave a booking behind.
    pub resident_version: u64,
    pub slot: SlotRef,
    pub booked_for: BookingFor,
    /// The service allows one future booking per resident and registration (each twin has
    /// their own): refused with [`BookingError::LimitReached`] while the same registration
    /// holds another one that has not started yet. Likewise one registration never holds one
    /// slot twice ([`BookingError::AlreadyBooked`]); twins may sit side by side.
    pub one_per_resident: bool,
    pub now: DateTime<Utc>,
    pub claim: Option<EventClaim>,
}

/// How a booking is let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// キャンセル by the resident.
    Cancel,
    /// 欠席連絡, with the reason staff will see.
    Absent(AbsenceReason),
}

/// A change of a resident's seat: the booking and what it depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatChange<'a> {
    pub user: &'a UserId,
    pub booking: &'a BookingId,
    pub resident_version: u64,
    pub now: DateTime<Utc>,
    pub claim: Option<&'a EventClaim>,
}

/// A resident asking for a place on a full slot's waiting list (キャンセル待ち).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitRequest {
    pub user: UserId,
    /// As in [`BookingRequest`]: refused with [`StoreError::Conflict`] if the resident
    /// changed since the turn read them.
    pub resident_version: u64,
    pub slot: SlotRef,
    pub booked_for: BookingFor,
    pub now: DateTime<Utc>,
    pub claim: Option<EventClaim>,
}

/// A resident leaving a waiting list, or declining the seat it offered them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitChange<'a> {
    pub user: &'a UserId,
    pub slot: &'a SlotRef,
    pub booked_for: &'a BookingFor,
    pub resident_version: u64,
    pub now: DateTime<Utc>,
    pub claim: Option<&'a EventClaim>,
}

/// What [`BookingStore::offer_seats`] did to a slot's waiting list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offers {
    /// Offers that ran out: those residents have left the list and their seats went on.
    pub lapsed: Vec<Waiting>,
    /// Seats now held for the first residents in line, each until the time given.
    pub offered: Vec<Waiting>,
    /// Bookings have closed: everyone still in line has left it (offers with them).
    pub ended: Vec<Waiting>,
}

/// What a publish does when a slot it removes or shrinks holds more bookings than it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stranding {
    /// Refuse with [`StoreError::Conflict`]: no booking is cancelled (a booking made after
    /// the caller's check must not be taken back unasked).
    Refuse,
    /// Cancel the bookings that no longer fit, the latest first.
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    /// Every seat of the slot is taken.
    #[error("the slot is full")]
    Full,
    /// The slot does not exist (removed by staff, or never published).
    #[error("no such slot")]
    NoSuchSlot,
    /// The resident already holds this slot (a double tap on 予約する).
    #[error("the resident already holds this slot")]
    AlreadyBooked(Box<Booking>),
    /// The service allows one future booking per resident, and this one is held.
    #[error("the resident already holds a booking of this service")]
    LimitReached(Box<Booking>),
    /// No active booking of this resident with that id.
    #[error("no such booking")]
    NoSuchBooking,
    /// A waiting list was asked for a slot that has seats anyone may book.
    #[error("the slot has seats left")]
    SeatsLeft,
    /// The registration is already on the slot's waiting list (a double tap).
    #[error("already on the waiting list")]
    AlreadyWaiting(Box<Waiting>),
    /// The registration is not on the slot's waiting list (left, lapsed, or booked).
    #[error("not on the waiting list")]
    NotWaiting,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a publish did to bookings whose slot it removed or shrank.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// Bookings cancelled by staff (the latest made first lose their seat).
    pub cancelled: Vec<Booking>,
    /// Places on the waiting lists of removed slots, gone with them.
    pub dropped: Vec<Waiting>,
    /// Seats held for residents in line that a lowered capacity took back (they are in line
    /// again, in their place).
    pub withdrawn: Vec<Waiting>,
}

pub trait BookingStore: Send + Sync {
    /// The published services.
    fn services(&self) -> impl Future<Output = Result<Vec<Service>, StoreError>> + Send;

    /// Slots of `service` dated `from..=to`, in time order, with their seats taken.
    fn slot_states(
        &self,
        service: &ServiceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = Result<Vec<SlotState>, StoreError>> + Send;

    /// Replaces the published services and slots with `schedule`. A slot removed or shrunk
    /// below its bookings cancels the bookings that no longer fit (the latest first); the
    /// caller decides beforehand (with [`Schedule::changes_from`]) whether that is wanted.
    fn publish_schedule(
        &self,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Published, StoreError>> + Send {
        self.publish(schedule, now, Stranding::Cancel)
    }

    /// As [`publish_schedule`](Self::publish_schedule), saying what to do with bookings that
    /// no longer fit. Seats held by offers are withdrawn first (the latest in line first),
    /// before any booking is touched. With [`Stranding::Refuse`] a slot whose bookings no
    /// longer fit is left as it was, and the publish answers [`StoreError::Conflict`].
    fn publish(
        &self,
        schedule: &Schedule,
        now: DateTime<Utc>,
        stranding: Stranding,
    ) -> impl Future<Output = Result<Published, StoreError>> + Send;

    /// Takes a seat, or says why not; nothing changes unless it is taken. While anyone
    /// waits for the slot its free seats are theirs ([`BookingError::Full`] to others); a
    /// seat offered to this registration is taken whatever the count, until the offer's time.
    fn book(
        &self,
        request: &BookingRequest,
    ) -> impl Future<Output = Result<Booking, BookingError>> + Send;

    /// Lets an active booking go (キャンセル or 欠席連絡): its seat is free again.
    fn release(
        &self,
        change: &SeatChange<'_>,
        how: Release,
    ) -> impl Future<Output = Result<Booking, BookingError>> + Send;

    /// Moves an active booking to another slot of the same service, keeping its 予約番号:
    /// the new seat is taken and the old one freed in one step, or nothing changes. The new
    /// seat is taken as [`book`](Self::book) takes one, a seat offered to it included.
    fn change_slot(
        &self,
        change: &SeatChange<'_>,
        to: &SlotRef,
    ) -> impl Future<Output = Result<Booking, BookingError>> + Send;

    /// The resident's bookings (active and let go), soonest first.
    fn bookings_of(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<Booking>, StoreError>> + Send;

    /// Every booking of slots dated `from..=to` (staff's export, reminders), in slot order.
    fn bookings_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = Result<Vec<Booking>, StoreError>> + Send;

    /// Puts the registration at the end of a full slot's waiting list.
    fn join_waitlist(
        &self,
        request: &WaitRequest,
    ) -> impl Future<Output = Result<Waiting, BookingError>> + Send;

    /// Takes the registration off a slot's waiting list; a seat offered to it is freed
    /// (the caller offers it on with [`offer_seats`](Self::offer_seats)).
    fn leave_waitlist(
        &self,
        change: &WaitChange<'_>,
    ) -> impl Future<Output = Result<Waiting, BookingError>> + Send;

    /// The resident's places on waiting lists, offers included, soonest slot first.
    fn waiting_of(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<Waiting>, StoreError>> + Send;

    /// Every slot that has a waiting list, for the sweep that passes offers on. Costs what
    /// is on waiting lists, not what is stored.
    fn waitlists(&self) -> impl Future<Output = Result<Vec<Waitlist>, StoreError>> + Send;

    /// Lets the slot's offers that ran out by `now` lapse, then holds each free seat for the
    /// next resident in line until `until`. Each seat goes to one resident only, whoever
    /// calls this at the same time. `None`: bookings have closed, and everyone still in line
    /// leaves it ([`Offers::ended`]), their held seats freed.
    fn offer_seats(
        &self,
        slot: &SlotRef,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Offers, StoreError>> + Send;

    /// Records that the push about `offered`'s held seat is queued, if the seat is still
    /// held for them until the same time (`false` if not: taken, declined or lapsed).
    fn offer_told(
        &self,
        offered: &Waiting,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
