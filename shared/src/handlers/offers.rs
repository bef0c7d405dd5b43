//! The waiting-list sweep: for every slot with a waiting list, offers that ran out lapse and
//! each free seat is held for the next resident in line, who is told by push (through the
//! send queue, so a push is retried and never sent twice). It runs every minute (a schedule
//! on AWS, a timer in `serve`) and costs what is on waiting lists, not what is stored.
//! Freed seats wait for it: while anyone waits, nobody else can take them.
//!
//! Nothing is lost to a crash or a failed step: an offer is marked told only once its push
//! is queued, so the next run pushes any offer that is not; and a list whose bookings have
//! closed ends (its residents told), so no list outlives its slot.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::scan::ScanError;
use crate::conversation::reserve;
use crate::dates::tokyo_date;
use crate::delivery::DeliveryJob;
use crate::queue::Queue;
use crate::quiet_hours::{MessageKind, QuietRules};
use crate::reservations::events::{BookingEvent, EventSink};
use crate::reservations::{Service, Waiting};
use crate::store::{BookingStore, Store};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OfferReport {
    /// Slots with a waiting list.
    pub lists: usize,
    /// Offers that ran out and passed on.
    pub lapsed: usize,
    /// Seats newly held for the first in line.
    pub offered: usize,
    /// Places that ended because bookings closed.
    pub ended: usize,
    /// Pushes queued: offers (new, or not told yet), lapses and ends.
    pub pushes: usize,
}

/// What one list's residents are told.
#[derive(Clone, Copy)]
enum Told {
    Offer,
    Lapsed,
    Ended,
}

/// Queues a notice of a place that left its list; a failure is logged (with no personal
/// data) and counted as not sent.
async fn notify<S: Store, Q: Queue>(
    store: &S,
    queue: &Q,
    w: &Waiting,
    service: Option<&Service>,
    what: Told,
    now: DateTime<Utc>,
) -> usize {
    match tell(store, queue, w, service, what, now).await {
        Ok(()) => 1,
        Err(e) => {
            tracing::error!(error = %e, "a waiting-list notice could not be queued");
            0
        }
    }
}

/// Passes seats on along every waiting list as of `now`, at any hour.
/// (The sweep's own future, not one more async layer around it: the scanner's future is
/// deep enough already.)
pub fn pass_on_seats<'a, S: Store + BookingStore, Q: Queue, E: EventSink>(
    store: &'a S,
    queue: &'a Q,
    events: &'a E,
    now: DateTime<Utc>,
) -> impl std::future::Future<Output = Result<OfferReport, ScanError>> + 'a {
    sweep(store, queue, events, now, None)
}

/// The scheduled sweep. In the quiet hours (when they hold offers) no seat is offered and
/// no hold lapses: a resident asleep would lose the hours a hold gives them, so the lists
/// wait for the morning, and the seats stay kept for them. A list whose bookings close is
/// still ended then; its notices wait in the queue for the morning.
pub async fn sweep<S: Store + BookingStore, Q: Queue, E: EventSink>(
    store: &S,
    queue: &Q,
    events: &E,
    now: DateTime<Utc>,
    quiet: Option<&QuietRules>,
) -> Result<OfferReport, ScanError> {
    let night = quiet.is_some_and(|q| q.hold(MessageKind::Offer, now).is_some());
    let lists = store.waitlists().await?;
    let mut report = OfferReport {
        lists: lists.len(),
        ..OfferReport::default()
    };
    if lists.is_empty() {
        return Ok(report);
    }
    let services = store.services().await?;
    for list in &lists {
        let service = services.iter().find(|s| s.id == list.slot.service);
        let closed = service.is_none_or(|s| now >= s.closes_at(&list.slot));
        let until = service.and_then(|s| s.offer_until(&list.slot, now));
        if !closed && (night || until.is_none() || !list.needs_offers(now)) {
            // The quiet hours, not open yet, or nothing to do.
            continue;
        }
        let offers = store
            .offer_seats(&list.slot, if closed { None } else { until }, now)
            .await?;
        report.lapsed += offers.lapsed.len();
        report.offered += offers.offered.len();
        report.ended += offers.ended.len();
        // Those who left the list hear it first: nothing else would tell them, so one failed
        // notice does not stop the others (an offer's push, below, is made good by the next
        // run). At closing, a hold that ran out passes to nobody: it ended.
        for w in &offers.lapsed {
            let what = if closed { Told::Ended } else { Told::Lapsed };
            report.pushes += notify(store, queue, w, service, what, now).await;
        }
        for w in &offers.ended {
            report.pushes += notify(store, queue, w, service, Told::Ended, now).await;
        }
        // Offers made now, and those an earlier run made but could not queue (a push for
        // one taken or declined meanwhile is dropped by the sender, which checks).
        let untold = list
            .entries
            .iter()
            .filter(|w| !closed && w.has_offer(now) && !w.told);
        let offered: Vec<&Waiting> = offers.offered.iter().chain(untold).collect();
        if let Some(service) = service {
            for w in &offered {
                tell(store, queue, w, service, Told::Offer, now).await?;
                // Queued: the push goes out once whatever happens next.
                store.offer_told(w).await?;
                report.pushes += 1;
            }
        }
        let offered_events: Vec<BookingEvent> = offers
            .offered
            .iter()
            .map(|w| BookingEvent::offered(w, now))
            .collect();
        if !offered_events.is_empty()
            && let Err(e) = events.publish(&offered_events).await
        {
            // The offers stand and their pushes are queued; only the city's feed missed them.
            tracing::error!(error = %e, count = offered_events.len(), "offer events not published");
        }
    }
    Ok(report)
}

/// Queues one resident's push about their place in line.
async fn tell<S: Store, Q: Queue>(
    store: &S,
    queue: &Q,
    w: &Waiting,
    service: impl Into<Option<&Service>>,
    what: Told,
    now: DateTime<Utc>,
) -> Result<(), ScanError> {
    let service = service.into();
    let resident = store.resident(&w.user).await?;
    let day = tokyo_date(now);
    let about = |kind: &str| {
        format!(
            "{kind}#{}#{}#{}",
            w.slot,
            w.booked_for.as_str(),
            w.joined_at.timestamp_millis()
        )
    };
    let job = match (what, service) {
        (Told::Offer, Some(service)) => {
            DeliveryJob::offer(day, w, reserve::offer(resident.as_ref(), service, w))
        }
        (Told::Offer, None) => return Ok(()),
        (Told::Lapsed, _) => DeliveryJob::notice(
            day,
            &w.user,
            &about("lapsed"),
            reserve::offer_lapsed(resident.as_ref(), service, w),
        ),
        (Told::Ended, _) => DeliveryJob::notice(
            day,
            &w.user,
            &about("ended"),
            reserve::waiting_list_ended(resident.as_ref(), service, w),
        ),
    };
    queue.enqueue(std::slice::from_ref(&job)).await?;
    Ok(())
}
