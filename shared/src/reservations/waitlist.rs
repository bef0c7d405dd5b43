//! キャンセル待ち: a full slot's waiting list. Residents join it per registration (each twin
//! their own place), in the order they asked. While anyone waits, a seat that frees is not
//! for whoever taps first: it is offered to the first waiting resident, held for them alone
//! until a stated time (the offer counts as a taken seat, so no seat is ever promised to
//! two people), and passed to the next when they decline or let it lapse.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{BookingFor, Service, SlotRef};
use crate::dates;
use crate::domain::UserId;

/// How long a freed seat is held for the resident it is offered to, unless the service says.
pub const DEFAULT_OFFER_HOURS: u32 = 24;
/// The longest hold a service may set: a week.
pub const MAX_OFFER_HOURS: u32 = 168;

/// A resident's place on a slot's waiting list, for one registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub user: UserId,
    pub slot: SlotRef,
    pub booked_for: BookingFor,
    /// When they joined: the list's order.
    pub joined_at: DateTime<Utc>,
    /// Set while a freed seat is held for them: they may book it until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_until: Option<DateTime<Utc>>,
    /// Whether their push about the seat held for them is on its way (queued to send).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub told: bool,
}

impl Waiting {
    /// Whether a seat is held for them at `now`.
    pub fn has_offer(&self, now: DateTime<Utc>) -> bool {
        self.offered_until.is_some_and(|until| until > now)
    }

    /// Whether their offer ran out at `now` (and must pass to the next).
    pub fn offer_lapsed(&self, now: DateTime<Utc>) -> bool {
        self.offered_until.is_some_and(|until| until <= now)
    }

    /// The order of a list: who joined first, then by resident and registration so the
    /// order is the same in every store.
    pub fn order_key(&self) -> (DateTime<Utc>, &str, &str) {
        (self.joined_at, self.user.as_str(), self.booked_for.as_str())
    }
}

/// A slot with a waiting list, as the offer sweep reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waitlist {
    pub slot: SlotRef,
    /// Seats neither booked nor held by an offer.
    pub free: u32,
    /// Everyone on it, offers included, in the list's order.
    pub entries: Vec<Waiting>,
}

impl Waitlist {
    /// Whether the sweep has something to do here at `now`: an offer ran out, a seat held
    /// for someone who has not been told yet, or a free seat waiting for the first in line.
    pub fn needs_offers(&self, now: DateTime<Utc>) -> bool {
        self.entries
            .iter()
            .any(|w| w.offer_lapsed(now) || (w.has_offer(now) && !w.told))
            || (self.free > 0 && self.entries.iter().any(|w| w.offered_until.is_none()))
    }
}

impl Service {
    /// When bookings for `slot` close: at its start, or at the end of the day
    /// `closes_days_before` before it.
    pub fn closes_at(&self, slot: &SlotRef) -> DateTime<Utc> {
        if self.closes_days_before == 0 {
            dates::tokyo_at(slot.date, slot.start)
        } else {
            let last_day = slot.date - Duration::days(self.closes_days_before as i64 - 1);
            dates::tokyo_at(last_day, chrono::NaiveTime::MIN)
        }
    }

    /// Until when a seat of `slot` freed at `now` is held for the resident it is offered to:
    /// `offer_hours` from now, but never past the moment bookings close. `None` when the
    /// slot no longer takes bookings (nothing is offered then).
    pub fn offer_until(&self, slot: &SlotRef, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let closes = self.closes_at(slot);
        let opens = slot.date - Duration::days(self.opens_days_before as i64);
        if dates::tokyo_date(now) < opens || now >= closes {
            return None;
        }
        Some((now + Duration::hours(self.offer_hours as i64)).min(closes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reservations::{Eligibility, ServiceId};

    fn service(closes: u32, hours: u32) -> Service {
        Service {
            id: ServiceId::parse("checkup").expect("id"),
            name: "4か月児健診".into(),
            place: "保健センター".into(),
            description: String::new(),
            who: Eligibility::Anyone,
            opens_days_before: 30,
            closes_days_before: closes,
            many_per_resident: false,
            remind_days_before: 1,
            offer_hours: hours,
            easy_name: None,
            easy_description: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn an_offer_is_held_for_its_hours_but_never_past_the_close_of_bookings() {
        let slot = SlotRef::parse("checkup@2027-01-15T13:30").expect("slot");
        // Closing 1 day before: bookings close at the end of Jan 14 (Tokyo).
        let s = service(1, 24);
        assert_eq!(
            s.offer_until(&slot, at("2027-01-10T00:00:00+09:00")),
            Some(at("2027-01-11T00:00:00+09:00"))
        );
        assert_eq!(
            s.offer_until(&slot, at("2027-01-14T09:00:00+09:00")),
            Some(at("2027-01-15T00:00:00+09:00"))
        );
        assert_eq!(s.offer_until(&slot, at("2027-01-15T00:00:00+09:00")), None);
        // Open until the slot starts.
        let s = service(0, 3);
        assert_eq!(
            s.offer_until(&slot, at("2027-01-15T12:00:00+09:00")),
            Some(at("2027-01-15T13:30:00+09:00"))
        );
        assert_eq!(s.offer_until(&slot, at("2027-01-15T13:30:00+09:00")), None);
        // Not open yet: nothing to offer.
        assert_eq!(s.offer_until(&slot, at("2026-12-01T09:00:00+09:00")), None);
    }

    #[test]
    fn a_list_needs_the_sweep_for_a_lapsed_offer_or_a_free_seat_with_someone_in_line() {
        let now = at("2027-01-10T09:00:00+09:00");
        let w = |until: Option<&str>| Waiting {
            user: UserId::parse("U1").expect("id"),
            slot: SlotRef::parse("checkup@2027-01-15T13:30").expect("slot"),
            booked_for: BookingFor::parse("c1").expect("for"),
            joined_at: now,
            offered_until: until.map(at),
            told: false,
        };
        let list = |free, entries| Waitlist {
            slot: SlotRef::parse("checkup@2027-01-15T13:30").expect("slot"),
            free,
            entries,
        };
        assert!(!list(0, vec![w(None)]).needs_offers(now));
        assert!(list(1, vec![w(None)]).needs_offers(now));
        let told = Waiting {
            told: true,
            ..w(Some("2027-01-10T10:00:00+09:00"))
        };
        assert!(!list(1, vec![told]).needs_offers(now));
        assert!(list(0, vec![w(Some("2027-01-10T09:00:00+09:00"))]).needs_offers(now));
        assert!(!list(3, vec![]).needs_offers(now));
        // A seat held for someone not told yet: the sweep sends the push.
        let mut held = w(Some("2027-01-10T10:00:00+09:00"));
        assert!(list(0, vec![held.clone()]).needs_offers(now));
        held.told = true;
        assert!(!list(0, vec![held]).needs_offers(now));
    }
}
