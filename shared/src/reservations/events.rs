//! Booking events for the city's other systems: every booking, change, cancellation,
//! absence and waiting-list offer, published after the store step that made it (on AWS to the stack's EventBridge
//! bus, locally to `events.jsonl` in the data dir). An event carries what staff need to act
//! — 予約番号, service, slot, reason — and never the LINE user id or a birthdate.

use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{AbsenceReason, Booking, BookingStatus, CancelledBy, SlotRef, Waiting};
use crate::dates;

/// The `source` of every event on the bus, for rules to match.
pub const EVENT_SOURCE: &str = "sukusuku.reservations";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingEventKind {
    Booked,
    Changed,
    Cancelled,
    Absent,
    /// A freed seat held for the first resident on the slot's waiting list.
    Offered,
}

impl BookingEventKind {
    /// The EventBridge `detail-type`.
    pub fn detail_type(self) -> &'static str {
        match self {
            BookingEventKind::Booked => "BookingBooked",
            BookingEventKind::Changed => "BookingChanged",
            BookingEventKind::Cancelled => "BookingCancelled",
            BookingEventKind::Absent => "BookingAbsent",
            BookingEventKind::Offered => "BookingOffered",
        }
    }
}

/// A slot as an event names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSlot {
    pub date: NaiveDate,
    /// `13:30`
    pub start: String,
}

impl From<&SlotRef> for EventSlot {
    fn from(s: &SlotRef) -> EventSlot {
        EventSlot {
            date: s.date,
            start: s.start_label(),
        }
    }
}

/// The `detail` of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingEvent {
    pub kind: BookingEventKind,
    /// 予約番号 (none on an offer: no booking exists yet).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub booking_id: String,
    pub service: String,
    pub slot: EventSlot,
    /// The slot before a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_slot: Option<EventSlot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<AbsenceReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<CancelledBy>,
    /// Until when an offered seat is held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_until: Option<DateTime<Utc>>,
    /// Days from the event (Asia/Tokyo) to the slot's date: rules route "within two days"
    /// to staff with a numeric match on it.
    pub days_ahead: i64,
    pub at: DateTime<Utc>,
}

impl BookingEvent {
    /// The event for a booking as it now stands; `previous` is the slot before a change.
    pub fn of(booking: &Booking, previous: Option<&SlotRef>, at: DateTime<Utc>) -> BookingEvent {
        let (kind, reason, cancelled_by) = match (&booking.status, previous) {
            (BookingStatus::Booked, None) => (BookingEventKind::Booked, None, None),
            (BookingStatus::Booked, Some(_)) => (BookingEventKind::Changed, None, None),
            (BookingStatus::Cancelled { by, .. }, _) => {
                (BookingEventKind::Cancelled, None, Some(*by))
            }
            (BookingStatus::Absent { reason, .. }, _) => {
                (BookingEventKind::Absent, Some(*reason), None)
            }
        };
        BookingEvent {
            kind,
            booking_id: booking.id.to_string(),
            service: booking.slot.service.to_string(),
            slot: EventSlot::from(&booking.slot),
            previous_slot: previous.map(EventSlot::from),
            reason,
            cancelled_by,
            offered_until: None,
            days_ahead: (booking.slot.date - dates::tokyo_date(at)).num_days(),
            at,
        }
    }

    /// The event for a seat offered to the first on a waiting list (who, is not said).
    pub fn offered(w: &Waiting, at: DateTime<Utc>) -> BookingEvent {
        BookingEvent {
            kind: BookingEventKind::Offered,
            booking_id: String::new(),
            service: w.slot.service.to_string(),
            slot: EventSlot::from(&w.slot),
            previous_slot: None,
            reason: None,
            cancelled_by: None,
            offered_until: w.offered_until,
            days_ahead: (w.slot.date - dates::tokyo_date(at)).num_days(),
            at,
        }
    }
}

/// Where booking events go.
pub trait EventSink: Send + Sync {
    /// Publishes the events; an error says why they were not all accepted (the booking
    /// itself is stored either way).
    fn publish(&self, events: &[BookingEvent]) -> impl Future<Output = Result<(), String>> + Send;
}

/// Keeps events in memory (tests).
#[derive(Default)]
pub struct MemoryEvents {
    events: Mutex<Vec<BookingEvent>>,
}

impl MemoryEvents {
    pub fn new() -> MemoryEvents {
        MemoryEvents::default()
    }

    pub fn events(&self) -> Vec<BookingEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl EventSink for MemoryEvents {
    async fn publish(&self, events: &[BookingEvent]) -> Result<(), String> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(events);
        Ok(())
    }
}

/// Drops events (benchmarks, and callers with nowhere to send them).
pub struct NoEvents;

impl EventSink for NoEvents {
    async fn publish(&self, _events: &[BookingEvent]) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
    use crate::reservations::{BookingFor, BookingId};
    use chrono::TimeZone;

    #[test]
    fn events_carry_no_personal_data_and_say_how_soon() {
        let at = Utc
            .with_ymd_and_hms(2027, 1, 13, 23, 0, 0)
            .single()
            .expect("t");
        let booking = Booking {
            id: BookingId::derive("e"),
            user: UserId::parse("Usecret0123").expect("id"),
            slot: SlotRef::parse("checkup@2027-01-15T13:30").expect("slot"),
            booked_for: BookingFor::parse("c1").expect("c1"),
            booked_at: at,
            status: BookingStatus::Absent {
                at,
                reason: AbsenceReason::Illness,
            },
        };
        let e = BookingEvent::of(&booking, None, at);
        assert_eq!(e.kind.detail_type(), "BookingAbsent");
        // 08:00 on the 14th in Tokyo: the slot is the day after.
        assert_eq!(e.days_ahead, 1);
        let json = serde_json::to_string(&e).expect("json");
        assert!(!json.contains("Usecret0123"), "{json}");
        assert!(!json.contains("c1"), "{json}");
        assert!(json.contains("\"reason\":\"illness\""), "{json}");
        assert!(json.contains("\"start\":\"13:30\""), "{json}");
    }
}
