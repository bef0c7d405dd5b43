//! `POST /webhook`: size check, signature over the raw bytes, tolerant parsing, de-duplication
//! by `webhookEventId`, the conversation, the store, then the reply. Answers 200 when every
//! event was handled, 4xx for requests that are not LINE's, 5xx when the store failed so
//! LINE redelivers — never 200 with a registration dropped.

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::conversation::{self, Change, Incoming, Turn};
use crate::dates::tokyo_date;
use crate::domain::UserId;
use crate::line::limits::MAX_WEBHOOK_BODY_BYTES;
use crate::line::signature::ChannelSecret;
use crate::line::webhook::{EventKind, Mode, Source, WebhookEvent, parse_callback};
use crate::line::{LineApi, Message};
use crate::store::{Store, StoreError};

pub struct WebhookContext<'a, S, L> {
    pub store: &'a S,
    pub line: &'a L,
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

pub async fn handle_webhook<S: Store, L: LineApi>(
    ctx: &WebhookContext<'_, S, L>,
    signature: Option<&str>,
    body: &[u8],
) -> WebhookResponse {
    if body.len() > MAX_WEBHOOK_BODY_BYTES {
        return WebhookResponse::new(413, "request body is larger than 1 MiB");
    }
    match signature {
        Some(sig) if ctx.secret.verify(body, sig) => {}
        Some(_) => return WebhookResponse::new(401, "x-line-signature does not match the body"),
        None => return WebhookResponse::new(401, "x-line-signature header is missing"),
    }
    let events = match parse_callback(body) {
        Ok(events) => events,
        Err(e) => return WebhookResponse::new(400, &e.to_string()),
    };
    for event in &events {
        if let Err(e) = handle_event(ctx, event).await {
            tracing::error!(error = %e, "webhook event failed; asking LINE to redeliver");
            return WebhookResponse::new(500, "temporarily unable to process the event");
        }
    }
    WebhookResponse::new(200, "ok")
}

async fn handle_event<S: Store, L: LineApi>(
    ctx: &WebhookContext<'_, S, L>,
    event: &WebhookEvent,
) -> Result<(), StoreError> {
    if event.mode == Mode::Standby {
        return Ok(());
    }
    let user = match (&event.source, &event.kind) {
        (Source::User(user), _) => user,
        (Source::Group, EventKind::Join) => {
            if let Some(token) = &event.reply_token {
                send_reply(ctx.line, token, &conversation::group_notice()).await;
            }
            return Ok(());
        }
        _ => return Ok(()),
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
        EventKind::Join | EventKind::Unknown(_) => return Ok(()),
    };
    if let Some(id) = &event.webhook_event_id
        && !ctx.store.claim_event(id, ctx.now).await?
    {
        tracing::info!(
            redelivery = event.is_redelivery,
            "duplicate webhook event skipped"
        );
        return Ok(());
    }
    match apply_turn(ctx, user, event.timestamp_ms, incoming).await {
        Ok(replies) => {
            if let (Some(token), false) = (&event.reply_token, replies.is_empty()) {
                send_reply(ctx.line, token, &replies).await;
            }
            Ok(())
        }
        Err(e) => {
            if let Some(id) = &event.webhook_event_id
                && let Err(release) = ctx.store.release_event(id).await
            {
                tracing::error!(error = %release, "could not release a failed event claim");
            }
            Err(e)
        }
    }
}

/// Runs one conversation turn and stores its result, redoing it if the resident changed
/// concurrently. Returns the replies to send.
async fn apply_turn<S: Store, L>(
    ctx: &WebhookContext<'_, S, L>,
    user: &UserId,
    timestamp_ms: i64,
    incoming: Incoming<'_>,
) -> Result<Vec<Message>, StoreError> {
    let turn = Turn {
        user_id: user,
        today: tokyo_date(ctx.now),
        timestamp_ms,
        catalog: ctx.catalog,
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let resident = ctx.store.resident(user).await?;
        let response = conversation::respond(&turn, resident.as_ref(), incoming.clone());
        let stored = match &response.change {
            Change::Keep => Ok(()),
            Change::Save(r) => ctx.store.save_resident(r).await.map(|_| ()),
            Change::Delete => ctx.store.delete_resident(user).await.map(|_| ()),
        };
        match stored {
            Ok(()) => return Ok(response.replies),
            Err(StoreError::Conflict) if attempt < CONFLICT_ATTEMPTS => continue,
            Err(e) => return Err(e),
        }
    }
}

async fn send_reply<L: LineApi>(line: &L, token: &str, messages: &[Message]) {
    // The change is stored; a lost reply (expired token, LINE hiccup) must not undo it.
    if let Err(e) = line.reply(token, messages).await {
        tracing::warn!(error = %e, "reply failed");
    }
}
