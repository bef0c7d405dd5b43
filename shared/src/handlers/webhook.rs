//! `POST /webhook`: size check, signature over the raw bytes, tolerant parsing (all before
//! anything is read from the store), then per event the conversation, the change stored
//! together with the event's `webhookEventId` in one atomic step, then the reply. Answers
//! 200 when every event was handled, 4xx for requests that are not LINE's, 5xx when the
//! store failed or was too slow so LINE redelivers — never 200 with a registration dropped.
//!
//! Exactly once: a redelivered event whose change was stored is recognised by its claim and
//! skipped; one whose processing died before the store step (a crash, a timeout) finds no
//! claim and is processed in full. There is no moment where the claim exists without the
//! change.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::{Instant, timeout_at};

use crate::catalog::Catalog;
use crate::conversation::reserve::{ReservationView, ReserveCommand, Seat, SeatAct, SeatResult};
use crate::conversation::{self, Change, Command, Incoming, Turn};
use crate::dates::tokyo_date;
use crate::domain::{Resident, UserId};
use crate::line::limits::MAX_WEBHOOK_BODY_BYTES;
use crate::line::signature::ChannelSecret;
use crate::line::webhook::{EventKind, Mode, Source, WebhookEvent, parse_callback};
use crate::line::{LineApi, Message};
use crate::reservations::events::{BookingEvent, EventSink, NoEvents};
use crate::reservations::{Booking, BookingId, BookingStatus, CancelledBy};
use crate::store::{
    BookingRequest, BookingStore, EventClaim, SeatChange, Store, StoreError, WaitChange,
    WaitRequest,
};

pub struct WebhookContext<'a, S, L, E = NoEvents> {
    pub store: &'a S,
    pub line: &'a L,
    /// Where booking events go (the stack's EventBridge bus; the data dir locally).
    pub events: &'a E,
    pub catalog: &'a Catalog,
    pub secret: &'a ChannelSecret,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: u16,
    pub body: String,
}

impl WebhookResponse {
    /// The answer when the store step did not finish within [`STORE_DEADLINE`].
    pub fn timed_out() -> WebhookResponse {
        WebhookResponse::new(500, "timed out processing the event")
    }

    fn new(status: u16, message: &str) -> WebhookResponse {
        WebhookResponse {
            status,
            body: serde_json::json!({ "message": message }).to_string(),
        }
    }
}

/// How many times a conversation turn is redone when a concurrent request changed the same
/// resident in between.
const CONFLICT_ATTEMPTS: usize = 3;

/// Every event's change must be stored within this time from the request's arrival, or the
/// request answers 500 and LINE redelivers: an answer well inside LINE's 2 seconds beats a
/// late 200 that LINE counts as failed anyway.
pub const STORE_DEADLINE: Duration = Duration::from_millis(1200);
/// Replies (after the change is stored) must be done by then; a late reply is dropped, the
/// change stays.
pub const REPLY_DEADLINE: Duration = Duration::from_millis(1700);

/// A request that passed the size and signature checks, parsed: nothing has been read from
/// the store yet.
#[derive(Debug)]
pub struct VerifiedRequest {
    events: Vec<WebhookEvent>,
}

/// Size, signature and syntax: everything decided before any store access, so a forged or
/// oversized request costs no database read.
pub fn verify_request(
    secret: &ChannelSecret,
    signature: Option<&str>,
    body: &[u8],
) -> Result<VerifiedRequest, WebhookResponse> {
    if body.len() > MAX_WEBHOOK_BODY_BYTES {
        return Err(WebhookResponse::new(
            413,
            "request body is larger than 1 MiB",
        ));
    }
    match signature {
        Some(sig) if secret.verify(body, sig) => {}
        Some(_) => {
            return Err(WebhookResponse::new(
                401,
                "x-line-signature does not match the body",
            ));
        }
        None => {
            return Err(WebhookResponse::new(
                401,
                "x-line-signature header is missing",
            ));
        }
    }
    match parse_callback(body) {
        Ok(events) => Ok(VerifiedRequest { events }),
        Err(e) => Err(WebhookResponse::new(400, &e.to_string())),
    }
}

pub async fn handle_webhook<S: Store + BookingStore, L: LineApi, E: EventSink>(
    ctx: &WebhookContext<'_, S, L, E>,
    signature: Option<&str>,
    body: &[u8],
) -> WebhookResponse {
    let arrived = Instant::now();
    match verify_request(ctx.secret, signature, body) {
        Ok(request) => handle_verified(ctx, request, arrived).await,
        Err(refused) => refused,
    }
}

/// Handles the events of a verified request under [`STORE_DEADLINE`] and [`REPLY_DEADLINE`],
/// counted from `arrived`, when the request came in: whatever ran before (a catalog
/// refresh) uses up the same budget.
pub async fn handle_verified<S: Store + BookingStore, L: LineApi, E: EventSink>(
    ctx: &WebhookContext<'_, S, L, E>,
    request: VerifiedRequest,
    arrived: Instant,
) -> WebhookResponse {
    for event in &request.events {
        // `timeout_at` would still run a step that is ready at once; past the deadline,
        // nothing more is started.
        if Instant::now() >= arrived + STORE_DEADLINE {
            tracing::error!("no time left to store the event; asking LINE to redeliver");
            return WebhookResponse::timed_out();
        }
        let stored = timeout_at(arrived + STORE_DEADLINE, handle_event(ctx, event)).await;
        let replies = match stored {
            Ok(Ok(replies)) => replies,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "webhook event failed; asking LINE to redeliver");
                return WebhookResponse::new(500, "temporarily unable to process the event");
            }
            Err(_) => {
                tracing::error!("webhook event not stored in time; asking LINE to redeliver");
                return WebhookResponse::timed_out();
            }
        };
        if let Some((token, messages)) = replies {
            // The change is stored; a lost reply (expired token, LINE hiccup, too late) must
            // not undo it.
            match timeout_at(arrived + REPLY_DEADLINE, ctx.line.reply(&token, &messages)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "reply failed"),
                Err(_) => tracing::warn!("reply dropped: no time left"),
            }
        }
    }
    WebhookResponse::new(200, "ok")
}

/// Processes one event up to (and including) storing its change; returns the reply to send.
async fn handle_event<S: Store + BookingStore, L: LineApi, E: EventSink>(
    ctx: &WebhookContext<'_, S, L, E>,
    event: &WebhookEvent,
) -> Result<Option<(String, Vec<Message>)>, StoreError> {
    if event.mode == Mode::Standby {
        return Ok(None);
    }
    let user = match (&event.source, &event.kind) {
        (Source::User(user), _) => user,
        (Source::Group, EventKind::Join) => {
            return Ok(event
                .reply_token
                .clone()
                .map(|token| (token, conversation::group_notice())));
        }
        _ => return Ok(None),
    };
    let incoming = match &event.kind {
        EventKind::Follow { unblocked } => Incoming::Follow {
            unblocked: *unblocked,
        },
        EventKind::Unfollow => Incoming::Unfollow,
        EventKind::Text(text) => Incoming::Text(text),
        EventKind::Postback { data, params } => Incoming::Postback {
            data,
            date: params.get("date").map(String::as_str),
        },
        EventKind::OtherMessage(kind) => Incoming::OtherMessage(kind),
        EventKind::Join | EventKind::Unknown(_) => return Ok(None),
    };
    let claim = event.webhook_event_id.as_ref().map(|id| EventClaim {
        event_id: id.clone(),
        now: ctx.now,
    });
    match apply_turn(ctx, user, event.timestamp_ms, incoming, claim.as_ref()).await {
        Ok(replies) => Ok(match (&event.reply_token, replies.is_empty()) {
            (Some(token), false) => Some((token.clone(), replies)),
            _ => None,
        }),
        Err(StoreError::DuplicateEvent) => {
            tracing::info!(
                redelivery = event.is_redelivery,
                "duplicate webhook event skipped"
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Runs one conversation turn and stores its result with the event's claim, redoing it if
/// the resident changed concurrently. Returns the replies to send.
async fn apply_turn<S: Store + BookingStore, L, E: EventSink>(
    ctx: &WebhookContext<'_, S, L, E>,
    user: &UserId,
    timestamp_ms: i64,
    incoming: Incoming<'_>,
    claim: Option<&EventClaim>,
) -> Result<Vec<Message>, StoreError> {
    let reserve = reserve_command(&incoming);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let resident = ctx.store.resident(user).await?;
        let view = match &reserve {
            Some(command) => Some(read_view(ctx, user, command).await?),
            None => None,
        };
        let turn = Turn {
            user_id: user,
            today: tokyo_date(ctx.now),
            timestamp_ms,
            catalog: ctx.catalog,
            reservations: view.as_ref(),
        };
        let response = conversation::respond(&turn, resident.as_ref(), incoming.clone());
        let outcome = match (response.change, claim) {
            (Change::Keep, None) => Ok(response.replies),
            (Change::Keep, Some(claim)) => claim_once(ctx.store, claim)
                .await
                .map(|()| response.replies),
            (Change::Save(r), claim) => ctx
                .store
                .save_resident(&r, claim)
                .await
                .map(|_| response.replies),
            (Change::Delete, claim) => stop(ctx, user, claim).await.map(|()| response.replies),
            (Change::Seat(act), claim) => {
                let view = view.clone().unwrap_or_default();
                seat_turn(ctx, &turn, resident, &view, &act, claim).await
            }
        };
        match outcome {
            Ok(replies) => return Ok(replies),
            Err(StoreError::Conflict) if attempt < CONFLICT_ATTEMPTS => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A 予約 turn's store step and its replies. A refusal (満席 …) stores nothing, so the
/// event is claimed on its own and a redelivery is skipped; a conflict is the caller's to
/// redo, like any turn's.
async fn seat_turn<S: Store + BookingStore, L, E: EventSink>(
    ctx: &WebhookContext<'_, S, L, E>,
    turn: &Turn<'_>,
    resident: Option<Resident>,
    view: &ReservationView,
    act: &SeatAct,
    claim: Option<&EventClaim>,
) -> Result<Vec<Message>, StoreError> {
    let (resident, result) = take_seat(ctx, turn.user_id, resident, act, claim).await?;
    if let Some(e) = conversation::reserve::store_error(&result) {
        return Err(e.clone());
    }
    if let (Err(_), Some(claim)) = (&result, claim) {
        claim_once(ctx.store, claim).await?;
    }
    if let Ok(Seat::Booking(booking)) = &result {
        // The booking is stored; a bus that refuses the event must not undo it or make
        // LINE redeliver (the redelivery would be skipped as a duplicate anyway).
        let previous = match act {
            SeatAct::Move { booking, .. } => view
                .bookings
                .iter()
                .find(|b| b.id == *booking)
                .map(|b| &b.slot),
            _ => None,
        };
        let event = BookingEvent::of(booking, previous, ctx.now);
        if let Err(e) = ctx.events.publish(std::slice::from_ref(&event)).await {
            tracing::error!(error = %e, kind = ?event.kind, "booking event not published");
        }
    }
    Ok(conversation::reserve::outcome(
        turn,
        Some(&resident),
        view,
        act,
        &result,
    ))
}

/// 配信停止 or a block: everything of the resident goes, their bookings with it (the store
/// frees the seats); the city's systems hear of each booking cancelled.
async fn stop<S: Store + BookingStore, L, E: EventSink>(
    ctx: &WebhookContext<'_, S, L, E>,
    user: &UserId,
    claim: Option<&EventClaim>,
) -> Result<(), StoreError> {
    let held: Vec<Booking> = ctx
        .store
        .bookings_of(user)
        .await?
        .into_iter()
        .filter(|b| b.is_active() && b.slot.date >= tokyo_date(ctx.now))
        .collect();
    ctx.store.delete_resident(user, claim).await?;
    if !held.is_empty() {
        let events: Vec<BookingEvent> = held
            .into_iter()
            .map(|mut b| {
                b.status = BookingStatus::Cancelled {
                    at: ctx.now,
                    by: CancelledBy::Stop,
                };
                BookingEvent::of(&b, None, ctx.now)
            })
            .collect();
        if let Err(e) = ctx.events.publish(&events).await {
            tracing::error!(error = %e, count = events.len(), "booking events of a stop not published");
        }
    }
    Ok(())
}

async fn claim_once<S: Store>(store: &S, claim: &EventClaim) -> Result<(), StoreError> {
    match store.claim_event(claim).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(StoreError::DuplicateEvent),
        Err(e) => Err(e),
    }
}

/// The 予約 command an event carries, if any: the turn then needs a [`ReservationView`].
fn reserve_command(incoming: &Incoming<'_>) -> Option<ReserveCommand> {
    let command = match incoming {
        Incoming::Postback { data, .. } => Command::from_postback(data),
        Incoming::Text(text) => Command::from_text(text),
        _ => None,
    };
    match command {
        Some(Command::Reserve(c)) => Some(c),
        _ => None,
    }
}

/// What a 予約 turn reads: the services, the resident's bookings, and the slots of the
/// service the command is about, from today to the furthest day it takes bookings for.
async fn read_view<S: Store + BookingStore, L, E>(
    ctx: &WebhookContext<'_, S, L, E>,
    user: &UserId,
    command: &ReserveCommand,
) -> Result<ReservationView, StoreError> {
    let services = ctx.store.services().await?;
    let bookings = ctx.store.bookings_of(user).await?;
    let waiting = ctx.store.waiting_of(user).await?;
    let about = command.service().cloned().or_else(|| {
        let id = command.booking()?;
        bookings
            .iter()
            .find(|b| b.id == *id)
            .map(|b| b.slot.service.clone())
    });
    let today = tokyo_date(ctx.now);
    let slots = match about.and_then(|id| services.iter().find(|s| s.id == id)) {
        // A year ahead: beyond what is open now, so the chat can say when booking opens.
        Some(service) => {
            let last = crate::dates::add_days(today, 366).unwrap_or(today);
            ctx.store.slot_states(&service.id, today, last).await?
        }
        None => Vec::new(),
    };
    Ok(ReservationView {
        now: ctx.now,
        services,
        slots,
        bookings,
        waiting,
    })
}

/// Carries out a seat change for the resident (stored first if they never registered: an
/// open 相談 needs no registration, but a booking belongs to someone).
async fn take_seat<S: Store + BookingStore, L, E>(
    ctx: &WebhookContext<'_, S, L, E>,
    user: &UserId,
    resident: Option<Resident>,
    act: &SeatAct,
    claim: Option<&EventClaim>,
) -> Result<(Resident, SeatResult), StoreError> {
    let resident = match resident {
        Some(r) => r,
        None => {
            ctx.store
                .save_resident(&Resident::new(user.clone()), None)
                .await?
        }
    };
    let wait_change = |slot, booked_for| WaitChange {
        user,
        slot,
        booked_for,
        resident_version: resident.version,
        now: ctx.now,
        claim,
    };
    let change = |booking| SeatChange {
        user,
        booking,
        resident_version: resident.version,
        now: ctx.now,
        claim,
    };
    let result = match act {
        SeatAct::Book {
            slot,
            booked_for,
            one_per_resident,
        } => {
            // The 予約番号 comes from the event, so a redelivery names the same booking.
            let seed = match claim {
                Some(c) => format!("{}/{slot}", c.event_id),
                None => format!("{}/{}/{slot}", user.as_str(), ctx.now.timestamp_millis()),
            };
            ctx.store
                .book(&BookingRequest {
                    id: BookingId::derive(&seed),
                    user: user.clone(),
                    resident_version: resident.version,
                    slot: slot.clone(),
                    booked_for: booked_for.clone(),
                    one_per_resident: *one_per_resident,
                    now: ctx.now,
                    claim: claim.cloned(),
                })
                .await
                .map(Seat::Booking)
        }
        SeatAct::Release { booking, how } => ctx
            .store
            .release(&change(booking), *how)
            .await
            .map(Seat::Booking),
        SeatAct::Move { booking, to } => ctx
            .store
            .change_slot(&change(booking), to)
            .await
            .map(Seat::Booking),
        SeatAct::Wait { slot, booked_for } => ctx
            .store
            .join_waitlist(&WaitRequest {
                user: user.clone(),
                resident_version: resident.version,
                slot: slot.clone(),
                booked_for: booked_for.clone(),
                now: ctx.now,
                claim: claim.cloned(),
            })
            .await
            .map(Seat::Waiting),
        SeatAct::Unwait { slot, booked_for } => ctx
            .store
            .leave_waitlist(&wait_change(slot, booked_for))
            .await
            .map(Seat::Waiting),
    };
    Ok((resident, result))
}
