//! The waiting-list sweep: for every slot with a waiting list, offers that ran out lapse and
//! each free seat is held for the next resident in line, who is told by push (through the
//! send queue, so a push is retried and never sent twice). It runs every minute (a
//! schedule on AWS, a timer in `serve`) and costs what is on waiting lists, not what is
//! stored. Freed seats wait for it: while anyone waits, nobody else can take them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::scan::ScanError;
use crate::delivery::DeliveryJob;
use crate::queue::Queue;
use crate::reservations::events::{BookingEvent, EventSink};
use crate::store::{BookingStore, Store};

/// SQS takes ten messages per `SendMessageBatch`.
const ENQUEUE_BATCH: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OfferReport {
    /// Slots with a waiting list.
    pub lists: usize,
    /// Offers that ran out and passed on.
    pub lapsed: usize,
    /// Seats newly held for the first in line (one push each).
    pub offered: usize,
}

/// Passes seats on along every waiting list as of `now`.
pub async fn pass_on_seats<S: Store + BookingStore, Q: Queue, E: EventSink>(
    store: &S,
    queue: &Q,
    events: &E,
    now: DateTime<Utc>,
) -> Result<OfferReport, ScanError> {
    let lists = store.waitlists().await?;
    let mut report = OfferReport {
        lists: lists.len(),
        ..OfferReport::default()
    };
    let due: Vec<_> = lists.iter().filter(|l| l.needs_offers(now)).collect();
    if due.is_empty() {
        return Ok(report);
    }
    let services = store.services().await?;
    let mut jobs = Vec::new();
    let mut offered_events = Vec::new();
    for list in due {
        let service = services.iter().find(|s| s.id == list.slot.service);
        // A service gone, or bookings closed: offers still lapse, nothing new is offered.
        let until = service.and_then(|s| s.offer_until(&list.slot, now));
        let offers = store.offer_seats(&list.slot, until, now).await?;
        report.lapsed += offers.lapsed.len();
        report.offered += offers.offered.len();
        let Some(service) = service else {
            continue;
        };
        for w in &offers.offered {
            let resident = store.resident(&w.user).await?;
            let message = crate::conversation::reserve::offer(resident.as_ref(), service, w);
            jobs.push(DeliveryJob::offer(
                crate::dates::tokyo_date(now),
                w,
                message,
            ));
            offered_events.push(BookingEvent::offered(w, now));
        }
    }
    for batch in jobs.chunks(ENQUEUE_BATCH) {
        queue.enqueue(batch).await?;
    }
    if !offered_events.is_empty()
        && let Err(e) = events.publish(&offered_events).await
    {
        // The offers stand and their pushes are queued; only the city's feed missed them.
        tracing::error!(error = %e, count = offered_events.len(), "offer events not published");
    }
    Ok(report)
}
