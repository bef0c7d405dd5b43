//! One turn of the conversation: what came in, the facts around it, and what to store and
//! say in answer. Every flow speaks these.

use chrono::NaiveDate;

use super::common;
use super::reserve::{ReservationView, SeatAct};
use crate::catalog::Catalog;
use crate::domain::{Resident, UserId};
use crate::line::Message;

/// What the resident did, reduced to what the conversation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming<'a> {
    Follow {
        unblocked: bool,
    },
    Unfollow,
    /// Invited into a group chat.
    Join,
    Text(&'a str),
    Postback {
        data: &'a str,
        date: Option<&'a str>,
    },
    /// A sticker, image, location, … (by type).
    OtherMessage(&'a str),
}

/// Facts about this turn that do not come from the resident.
pub struct Turn<'a> {
    pub user_id: &'a UserId,
    pub today: NaiveDate,
    pub timestamp_ms: i64,
    pub catalog: &'a Catalog,
    /// What the store holds for a 予約 turn (read by the handler for 予約 buttons only).
    pub reservations: Option<&'a ReservationView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Keep,
    /// Boxed: a resident with its settings is large, and most turns keep.
    Save(Box<Resident>),
    /// Remove the resident and everything registered (配信停止, blocking).
    Delete,
    /// Take, let go or move a seat (予約), in one atomic store step; the replies come from
    /// [`reserve::outcome`](super::reserve::outcome) once it is done.
    Seat(SeatAct),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub change: Change,
    pub replies: Vec<Message>,
}

impl Response {
    pub(super) fn reply(change: Change, message: Message) -> Response {
        Response {
            change,
            replies: vec![message],
        }
    }

    /// A reply that changes nothing, in the resident's register, with the usual menu.
    pub(super) fn say(
        turn: &Turn<'_>,
        resident: Option<&Resident>,
        plain: &str,
        easy: &str,
    ) -> Response {
        let l = common::Lang::of(resident);
        Response::reply(
            Change::Keep,
            Message::text_with(
                l.pick(plain, easy),
                common::main_actions(turn.today, resident),
            ),
        )
    }

    pub(super) fn silent(change: Change) -> Response {
        Response {
            change,
            replies: vec![],
        }
    }
}

/// The resident to change: the stored one, or a fresh record for a first registration.
pub(super) fn editable(turn: &Turn<'_>, resident: Option<&Resident>) -> Resident {
    resident
        .cloned()
        .unwrap_or_else(|| Resident::new(turn.user_id.clone()))
}
