//! Reservations in the embedded store: the published schedule, who holds each slot's seats,
//! and every resident's bookings. Each change is decided and journaled under the store's one
//! lock, which is what makes a booking atomic here (DynamoDB gets the same from a
//! transaction with conditions).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use super::{Claimed, Inner, LocalStore, Op};
use crate::domain::UserId;
use crate::reservations::{
    Booking, BookingFor, BookingId, BookingStatus, CancelledBy, Schedule, Service, ServiceId, Slot,
    SlotRef, SlotState, Waiting, Waitlist, giving_way,
};
use crate::store::bookings::{
    BookingError, BookingRequest, BookingStore, Offers, Published, Release, SeatChange, Stranding,
    WaitChange, WaitRequest,
};
use crate::store::{EventClaim, StoreError};

/// A slot, who holds its seats (in the order they were taken) and its waiting list (in
/// the list's order; an entry with an offer holds a seat too).
#[derive(Clone, Debug)]
struct SlotRecord {
    slot: Slot,
    holders: Vec<(UserId, BookingId)>,
    waiting: Vec<Waiting>,
}

impl SlotRecord {
    fn new(slot: Slot) -> SlotRecord {
        SlotRecord {
            slot,
            holders: Vec::new(),
            waiting: Vec::new(),
        }
    }

    fn offered(&self) -> usize {
        self.waiting
            .iter()
            .filter(|w| w.offered_until.is_some())
            .count()
    }

    /// Seats held by bookings and by offers.
    fn taken(&self) -> usize {
        self.holders.len() + self.offered()
    }

    fn free(&self) -> usize {
        (self.slot.capacity as usize).saturating_sub(self.taken())
    }

    /// Whether anyone may take a seat: one is free and nobody waits for it.
    fn has_seat_for_anyone(&self) -> bool {
        self.free() > 0 && self.waiting.iter().all(|w| w.offered_until.is_some())
    }

    /// The offers (their places in the list) that a capacity takes back when `booked` of its
    /// seats are booked: the latest in line first.
    fn withdrawn_at(&self, capacity: u32, booked: usize) -> Vec<usize> {
        let mut over = (booked + self.offered()).saturating_sub(capacity as usize);
        let mut out = Vec::new();
        for (i, w) in self.waiting.iter().enumerate().rev() {
            if over == 0 {
                break;
            }
            if w.offered_until.is_some() {
                out.push(i);
                over -= 1;
            }
        }
        out
    }

    fn entry(&self, user: &UserId, who: &BookingFor) -> Option<&Waiting> {
        self.waiting
            .iter()
            .find(|w| w.user == *user && w.booked_for == *who)
    }

    /// Whether `user`'s `who` may take a seat at `now`: one held for them by an offer, or
    /// one free for anyone. `Err(Full)` otherwise.
    fn seat_for(
        &self,
        user: &UserId,
        who: &BookingFor,
        now: DateTime<Utc>,
    ) -> Result<(), BookingError> {
        match self.entry(user, who) {
            Some(w) if w.has_offer(now) => Ok(()),
            // A lapsed offer still holds its seat until the sweep passes it on.
            Some(w) if w.offered_until.is_some() => Err(BookingError::Full),
            _ if self.has_seat_for_anyone() => Ok(()),
            _ => Err(BookingError::Full),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(super) struct Seats {
    services: BTreeMap<ServiceId, Service>,
    slots: BTreeMap<SlotRef, SlotRecord>,
    bookings: HashMap<UserId, BTreeMap<BookingId, Booking>>,
    /// The slot each booking's reminder was sent for.
    reminded: HashMap<(UserId, BookingId), String>,
}

impl Seats {
    /// Replaces the schedule; slots that stay keep their holders, and `cancelled` bookings
    /// lose their seat.
    pub(super) fn publish(
        &mut self,
        services: Vec<Service>,
        slots: Vec<Slot>,
        cancelled: &[(UserId, BookingId)],
        at: DateTime<Utc>,
    ) {
        for (user, id) in cancelled {
            self.set_status(
                user,
                id,
                BookingStatus::Cancelled {
                    at,
                    by: CancelledBy::Staff,
                },
            );
        }
        self.services = services.into_iter().map(|s| (s.id.clone(), s)).collect();
        let mut old = std::mem::take(&mut self.slots);
        for slot in slots {
            let mut record = match old.remove(&slot.slot) {
                Some(mut r) => {
                    r.slot = slot;
                    r
                }
                None => SlotRecord::new(slot),
            };
            // Seats offered beyond a lowered capacity are withdrawn, the latest in line
            // first; those residents are back in line where they were.
            for i in record.withdrawn_at(record.slot.capacity, record.holders.len()) {
                record.waiting[i].offered_until = None;
                record.waiting[i].told = false;
            }
            self.slots.insert(record.slot.slot.clone(), record);
        }
    }

    /// The places on the waiting lists of slots `schedule` no longer has.
    fn dropped_by(&self, schedule: &Schedule) -> Vec<Waiting> {
        self.slots
            .iter()
            .filter(|(slot, _)| !schedule.slots.contains_key(slot))
            .flat_map(|(_, r)| r.waiting.iter().cloned())
            .collect()
    }

    /// Sets a place on a waiting list as it now stands, keeping the list's order.
    pub(super) fn set_waiting(&mut self, entry: Waiting) {
        if let Some(record) = self.slots.get_mut(&entry.slot) {
            record
                .waiting
                .retain(|w| !(w.user == entry.user && w.booked_for == entry.booked_for));
            let at = record
                .waiting
                .partition_point(|w| w.order_key() < entry.order_key());
            record.waiting.insert(at, entry);
        }
    }

    pub(super) fn remove_waiting(&mut self, user: &UserId, slot: &SlotRef, who: &BookingFor) {
        if let Some(record) = self.slots.get_mut(slot) {
            record
                .waiting
                .retain(|w| !(w.user == *user && w.booked_for == *who));
        }
    }

    /// Stores a booking as it now stands, keeping its slot's holders in step.
    pub(super) fn put(&mut self, booking: Booking) {
        let key = (booking.user.clone(), booking.id.clone());
        // A move or a release: the seat it held is free.
        if let Some(before) = self
            .bookings
            .get(&booking.user)
            .and_then(|b| b.get(&booking.id))
            && let Some(record) = self.slots.get_mut(&before.slot)
        {
            record.holders.retain(|h| *h != key);
        }
        if booking.is_active()
            && let Some(record) = self.slots.get_mut(&booking.slot)
        {
            if !record.holders.contains(&key) {
                record.holders.push(key);
            }
            // A seat offered to them is now their booking.
            record
                .waiting
                .retain(|w| !(w.user == booking.user && w.booked_for == booking.booked_for));
        }
        self.bookings
            .entry(booking.user.clone())
            .or_default()
            .insert(booking.id.clone(), booking);
    }

    fn set_status(&mut self, user: &UserId, id: &BookingId, status: BookingStatus) {
        if let Some(mut booking) = self.booking(user, id).cloned() {
            booking.status = status;
            self.put(booking);
        }
    }

    /// Whether the reminder of `booking` for `slot` was sent; `None` when there is nothing
    /// to remind (no such booking, let go, or moved to another slot).
    pub(super) fn reminder_had(&self, user: &UserId, booking: &str, slot: &str) -> Option<bool> {
        let id = BookingId::parse(booking)?;
        let b = self.booking(user, &id)?;
        if !b.is_active() || b.slot.to_string() != slot {
            return None;
        }
        Some(
            self.reminded
                .get(&(user.clone(), id))
                .is_some_and(|s| s == slot),
        )
    }

    pub(super) fn remind(&mut self, user: UserId, booking: &str, slot: String) {
        if let Some(id) = BookingId::parse(booking)
            && self.booking(&user, &id).is_some()
        {
            self.reminded.insert((user, id), slot);
        }
    }

    /// A stop: every seat the resident held is free, and nothing of theirs stays.
    pub(super) fn remove_resident(&mut self, user: &UserId) {
        self.reminded.retain(|(u, _), _| u != user);
        for record in self.slots.values_mut() {
            record.waiting.retain(|w| w.user != *user);
        }
        if let Some(bookings) = self.bookings.remove(user) {
            for b in bookings.values() {
                if let Some(record) = self.slots.get_mut(&b.slot) {
                    record.holders.retain(|(u, _)| u != user);
                }
            }
        }
    }

    fn booking(&self, user: &UserId, id: &BookingId) -> Option<&Booking> {
        self.bookings.get(user).and_then(|b| b.get(id))
    }

    fn active_of<'a>(&'a self, user: &UserId) -> impl Iterator<Item = &'a Booking> + 'a {
        self.bookings
            .get(user)
            .into_iter()
            .flat_map(|b| b.values())
            .filter(|b| b.is_active())
    }

    fn state_of(record: &SlotRecord) -> SlotState {
        let offered = record.offered();
        SlotState {
            slot: record.slot.clone(),
            booked: record.holders.len() as u32,
            offered: offered as u32,
            waiting: (record.waiting.len() - offered) as u32,
        }
    }

    fn waiting_of(&self, user: &UserId) -> Vec<Waiting> {
        self.slots
            .values()
            .flat_map(|r| r.waiting.iter())
            .filter(|w| w.user == *user)
            .cloned()
            .collect()
    }

    /// The schedule and bookings as journal lines (for compaction).
    pub(super) fn snapshot(&self, version_of: impl Fn(&UserId) -> u64) -> Vec<Op> {
        if self.services.is_empty() && self.slots.is_empty() && self.bookings.is_empty() {
            // (No booking, so no reminder either; no slot, so no waiting list.)
            return Vec::new();
        }
        let mut ops = vec![Op::Schedule {
            services: self.services.values().cloned().collect(),
            slots: self.slots.values().map(|r| r.slot.clone()).collect(),
            cancelled: Vec::new(),
            at: DateTime::<Utc>::MIN_UTC,
        }];
        // Holders are replayed in the order they took their seats, so "the latest first"
        // stays true after a restart.
        let mut taken: Vec<(usize, &Booking)> = Vec::new();
        for bookings in self.bookings.values() {
            for b in bookings.values() {
                let order = self
                    .slots
                    .get(&b.slot)
                    .and_then(|r| {
                        r.holders
                            .iter()
                            .position(|(u, id)| *u == b.user && *id == b.id)
                    })
                    .unwrap_or(usize::MAX);
                taken.push((order, b));
            }
        }
        taken.sort_by_key(|(order, b)| (*order, b.booked_at));
        ops.extend(taken.into_iter().map(|(_, b)| Op::Booking {
            booking: b.clone(),
            version: version_of(&b.user),
            claim: None,
        }));
        ops.extend(self.reminded.iter().map(|((user, id), slot)| Op::Reminded {
            user_id: user.clone(),
            booking: id.to_string(),
            slot: slot.clone(),
        }));
        ops.extend(
            self.slots
                .values()
                .flat_map(|r| r.waiting.iter())
                .map(|w| Op::Waiting {
                    entry: w.clone(),
                    version: None,
                    claim: None,
                }),
        );
        ops
    }
}

impl LocalStore {
    /// The resident's version, if it still is `expected` (else the turn must be redone).
    fn current_version(
        inner: &Inner,
        user: &UserId,
        expected: u64,
        claim: Option<&EventClaim>,
    ) -> Result<u64, BookingError> {
        if inner.state.claimed(claim) {
            return Err(StoreError::DuplicateEvent.into());
        }
        match inner.state.residents.get(user) {
            Some(r) if r.version == expected => Ok(r.version),
            _ => Err(StoreError::Conflict.into()),
        }
    }

    fn store_booking(
        inner: &mut Inner,
        booking: Booking,
        version: u64,
        claim: Option<&EventClaim>,
    ) -> Result<Booking, BookingError> {
        Self::commit(
            inner,
            Op::Booking {
                booking: booking.clone(),
                version,
                claim: claim.map(Claimed::new),
            },
        )?;
        Ok(booking)
    }
}

impl BookingStore for LocalStore {
    async fn services(&self) -> Result<Vec<Service>, StoreError> {
        Ok(self.lock().state.seats.services.values().cloned().collect())
    }

    async fn slot_states(
        &self,
        service: &ServiceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SlotState>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .state
            .seats
            .slots
            .values()
            .filter(|r| r.slot.slot.service == *service)
            .filter(|r| r.slot.slot.date >= from && r.slot.slot.date <= to)
            .map(Seats::state_of)
            .collect())
    }

    async fn publish(
        &self,
        schedule: &Schedule,
        now: DateTime<Utc>,
        stranding: Stranding,
    ) -> Result<Published, StoreError> {
        let mut inner = self.lock();
        let seats = &inner.state.seats;
        let mut cancelled = Vec::new();
        let mut withdrawn = Vec::new();
        for (slot, record) in &seats.slots {
            let keep = schedule.slots.get(slot).map_or(0, |s| s.capacity as usize);
            let held: Vec<&Booking> = record
                .holders
                .iter()
                .filter_map(|(user, id)| seats.booking(user, id))
                .collect();
            let booked = held.len().min(keep);
            cancelled.extend(giving_way(held, keep).into_iter().cloned());
            if let Some(kept) = schedule.slots.get(slot) {
                withdrawn.extend(
                    record
                        .withdrawn_at(kept.capacity, booked)
                        .into_iter()
                        .map(|i| record.waiting[i].clone()),
                );
            }
        }
        if stranding == Stranding::Refuse && !cancelled.is_empty() {
            return Err(StoreError::Conflict);
        }
        let dropped = seats.dropped_by(schedule);
        let op = Op::Schedule {
            services: schedule.services.values().cloned().collect(),
            slots: schedule.slots.values().cloned().collect(),
            cancelled: cancelled
                .iter()
                .map(|b| (b.user.clone(), b.id.clone()))
                .collect(),
            at: now,
        };
        Self::commit(&mut inner, op)?;
        for b in &mut cancelled {
            b.status = BookingStatus::Cancelled {
                at: now,
                by: CancelledBy::Staff,
            };
        }
        Ok(Published {
            cancelled,
            dropped,
            withdrawn,
        })
    }

    async fn book(&self, request: &BookingRequest) -> Result<Booking, BookingError> {
        let mut inner = self.lock();
        let version = Self::current_version(
            &inner,
            &request.user,
            request.resident_version,
            request.claim.as_ref(),
        )?;
        let seats = &inner.state.seats;
        let Some(record) = seats.slots.get(&request.slot) else {
            return Err(BookingError::NoSuchSlot);
        };
        // Per registration: twins each hold their own seat, one child never two.
        let mine = |b: &&Booking| b.booked_for == request.booked_for;
        if let Some(held) = seats
            .active_of(&request.user)
            .filter(mine)
            .find(|b| b.slot == request.slot)
        {
            return Err(BookingError::AlreadyBooked(Box::new(held.clone())));
        }
        if request.one_per_resident
            && let Some(held) = seats.active_of(&request.user).filter(mine).find(|b| {
                b.slot.service == request.slot.service
                    && seats
                        .slots
                        .get(&b.slot)
                        .is_some_and(|r| r.slot.starts_at() > request.now)
            })
        {
            return Err(BookingError::LimitReached(Box::new(held.clone())));
        }
        record.seat_for(&request.user, &request.booked_for, request.now)?;
        let booking = Booking {
            id: request.id.clone(),
            user: request.user.clone(),
            slot: request.slot.clone(),
            booked_for: request.booked_for.clone(),
            booked_at: request.now,
            status: BookingStatus::Booked,
        };
        Self::store_booking(&mut inner, booking, version + 1, request.claim.as_ref())
    }

    async fn release(
        &self,
        change: &SeatChange<'_>,
        how: Release,
    ) -> Result<Booking, BookingError> {
        let mut inner = self.lock();
        let version =
            Self::current_version(&inner, change.user, change.resident_version, change.claim)?;
        let Some(mut booking) = inner
            .state
            .seats
            .booking(change.user, change.booking)
            .filter(|b| b.is_active())
            .cloned()
        else {
            return Err(BookingError::NoSuchBooking);
        };
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
        Self::store_booking(&mut inner, booking, version + 1, change.claim)
    }

    async fn change_slot(
        &self,
        change: &SeatChange<'_>,
        to: &SlotRef,
    ) -> Result<Booking, BookingError> {
        let mut inner = self.lock();
        let version =
            Self::current_version(&inner, change.user, change.resident_version, change.claim)?;
        let seats = &inner.state.seats;
        let Some(mut booking) = seats
            .booking(change.user, change.booking)
            .filter(|b| b.is_active())
            .cloned()
        else {
            return Err(BookingError::NoSuchBooking);
        };
        if booking.slot.service != to.service {
            return Err(BookingError::NoSuchSlot);
        }
        let Some(record) = seats.slots.get(to) else {
            return Err(BookingError::NoSuchSlot);
        };
        if let Some(held) = seats
            .active_of(change.user)
            .find(|b| b.slot == *to && b.booked_for == booking.booked_for)
        {
            return Err(BookingError::AlreadyBooked(Box::new(held.clone())));
        }
        record.seat_for(change.user, &booking.booked_for, change.now)?;
        booking.slot = to.clone();
        Self::store_booking(&mut inner, booking, version + 1, change.claim)
    }

    async fn bookings_of(&self, user: &UserId) -> Result<Vec<Booking>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<Booking> = inner
            .state
            .seats
            .bookings
            .get(user)
            .map(|b| b.values().cloned().collect())
            .unwrap_or_default();
        out.sort_by(|a, b| (&a.slot, &a.id).cmp(&(&b.slot, &b.id)));
        Ok(out)
    }

    async fn bookings_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<Booking> = inner
            .state
            .seats
            .bookings
            .values()
            .flat_map(|b| b.values())
            .filter(|b| b.slot.date >= from && b.slot.date <= to)
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            (a.slot.date, a.slot.start, &a.slot.service, &a.id).cmp(&(
                b.slot.date,
                b.slot.start,
                &b.slot.service,
                &b.id,
            ))
        });
        Ok(out)
    }

    async fn join_waitlist(&self, request: &WaitRequest) -> Result<Waiting, BookingError> {
        let mut inner = self.lock();
        let version = Self::current_version(
            &inner,
            &request.user,
            request.resident_version,
            request.claim.as_ref(),
        )?;
        let seats = &inner.state.seats;
        let Some(record) = seats.slots.get(&request.slot) else {
            return Err(BookingError::NoSuchSlot);
        };
        if let Some(held) = seats
            .active_of(&request.user)
            .find(|b| b.slot == request.slot && b.booked_for == request.booked_for)
        {
            return Err(BookingError::AlreadyBooked(Box::new(held.clone())));
        }
        if let Some(w) = record.entry(&request.user, &request.booked_for) {
            return Err(BookingError::AlreadyWaiting(Box::new(w.clone())));
        }
        if record.has_seat_for_anyone() {
            return Err(BookingError::SeatsLeft);
        }
        let entry = Waiting {
            user: request.user.clone(),
            slot: request.slot.clone(),
            booked_for: request.booked_for.clone(),
            joined_at: request.now,
            offered_until: None,
            told: false,
        };
        Self::commit(
            &mut inner,
            Op::Waiting {
                entry: entry.clone(),
                version: Some(version + 1),
                claim: request.claim.as_ref().map(Claimed::new),
            },
        )?;
        Ok(entry)
    }

    async fn leave_waitlist(&self, change: &WaitChange<'_>) -> Result<Waiting, BookingError> {
        let mut inner = self.lock();
        let version =
            Self::current_version(&inner, change.user, change.resident_version, change.claim)?;
        let Some(entry) = inner
            .state
            .seats
            .slots
            .get(change.slot)
            .and_then(|r| r.entry(change.user, change.booked_for))
            .cloned()
        else {
            return Err(BookingError::NotWaiting);
        };
        Self::commit(
            &mut inner,
            Op::Unwaiting {
                user_id: change.user.clone(),
                slot: change.slot.clone(),
                booked_for: change.booked_for.clone(),
                version: Some(version + 1),
                claim: change.claim.map(Claimed::new),
            },
        )?;
        Ok(entry)
    }

    async fn waiting_of(&self, user: &UserId) -> Result<Vec<Waiting>, StoreError> {
        Ok(self.lock().state.seats.waiting_of(user))
    }

    async fn waitlists(&self) -> Result<Vec<Waitlist>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .state
            .seats
            .slots
            .values()
            .filter(|r| !r.waiting.is_empty())
            .map(|r| Waitlist {
                slot: r.slot.slot.clone(),
                free: r.free() as u32,
                entries: r.waiting.clone(),
            })
            .collect())
    }

    async fn offer_seats(
        &self,
        slot: &SlotRef,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Offers, StoreError> {
        let mut inner = self.lock();
        let Some(record) = inner.state.seats.slots.get(slot) else {
            return Ok(Offers::default());
        };
        let (lapsed, staying): (Vec<Waiting>, Vec<Waiting>) = record
            .waiting
            .iter()
            .cloned()
            .partition(|w| w.offer_lapsed(now));
        let free = record.free() + lapsed.len();
        let (offered, ended) = match until {
            Some(until) if until > now => (
                staying
                    .iter()
                    .filter(|w| w.offered_until.is_none())
                    .take(free)
                    .map(|w| Waiting {
                        offered_until: Some(until),
                        told: false,
                        ..w.clone()
                    })
                    .collect(),
                Vec::new(),
            ),
            // Bookings have closed: the list ends.
            _ => (Vec::new(), staying),
        };
        let gone = |w: &Waiting| Op::Unwaiting {
            user_id: w.user.clone(),
            slot: w.slot.clone(),
            booked_for: w.booked_for.clone(),
            version: None,
            claim: None,
        };
        let ops: Vec<Op> = lapsed
            .iter()
            .chain(ended.iter())
            .map(gone)
            .chain(offered.iter().map(|w| Op::Waiting {
                entry: w.clone(),
                version: None,
                claim: None,
            }))
            .collect();
        if !ops.is_empty() {
            Self::commit_all(&mut inner, ops)?;
        }
        Ok(Offers {
            lapsed,
            offered,
            ended,
        })
    }

    async fn offer_told(&self, offered: &Waiting) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let Some(entry) = inner
            .state
            .seats
            .slots
            .get(&offered.slot)
            .and_then(|r| r.entry(&offered.user, &offered.booked_for))
            .filter(|w| w.offered_until.is_some() && w.offered_until == offered.offered_until)
            .cloned()
        else {
            return Ok(false);
        };
        if !entry.told {
            Self::commit(
                &mut inner,
                Op::Waiting {
                    entry: Waiting {
                        told: true,
                        ..entry
                    },
                    version: None,
                    claim: None,
                },
            )?;
        }
        Ok(true)
    }
}
