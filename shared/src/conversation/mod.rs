//! The LINE conversation as a pure state machine: a resident's event and their stored record
//! in, the change to store and the replies out. No I/O here, so every flow is tested as a
//! script of events and expected replies. Each flow lives in its own module.

pub mod command;
pub mod common;
mod nickname;
mod registration;
pub mod reserve;
mod review;
mod settings;
mod stop;
mod turn;
mod welcome;

use crate::domain::{Awaiting, Resident};
use crate::line::Message;
pub use command::{ChoiceId, Command, SettingChange, Target};
pub use turn::{Change, Incoming, Response, Turn};

pub fn respond(turn: &Turn<'_>, resident: Option<&Resident>, incoming: Incoming<'_>) -> Response {
    // A late redelivery of an old follow/unfollow must not undo newer registrations.
    let stale = resident.is_some_and(|r| turn.timestamp_ms < r.last_event_ms);
    let mut response = match incoming {
        Incoming::Follow { .. } if stale => Response::silent(Change::Keep),
        Incoming::Unfollow if stale => Response::silent(Change::Keep),
        Incoming::Follow { unblocked } => welcome::follow(turn, resident, unblocked),
        Incoming::Unfollow => Response::silent(match resident {
            Some(_) => Change::Delete,
            None => Change::Keep,
        }),
        Incoming::Join => welcome::group_notice(),
        Incoming::Text(text) => match (asked(turn, resident), Command::from_text(text)) {
            // 配信停止 is always 配信停止, even when a nickname was asked for.
            (_, Some(Command::Stop)) => run(turn, resident, Command::Stop, None),
            // While a nickname is asked for, only the chat's own words are commands:
            // はじめ or ゆうき are names, not "start" or "やさしい".
            (Some(_), Some(command)) if is_keyword(text) => run(turn, resident, command, None),
            (Some(_), _) if is_cancel(text) => run(turn, resident, Command::Cancel, None),
            (Some((r, child)), _) => nickname::answer(turn, r, child, text),
            (None, Some(command)) => run(turn, resident, command, None),
            (None, None) => welcome::fallback(turn, resident, None),
        },
        Incoming::OtherMessage(kind) => {
            moved_on(resident, welcome::fallback(turn, resident, Some(kind)))
        }
        Incoming::Postback { data, date } => match Command::from_postback(data) {
            Some(command) => run(turn, resident, command, date),
            // A settings button whose data no longer parses shows the settings as they are.
            None if settings::is_settings_data(data) => {
                moved_on(resident, settings::not_offered(turn, resident))
            }
            None => moved_on(resident, welcome::expired_button(turn, resident)),
        },
    };
    if let Change::Save(r) = &mut response.change {
        r.last_event_ms = r.last_event_ms.max(turn.timestamp_ms);
    }
    response
}

fn run(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    command: Command,
    date: Option<&str>,
) -> Response {
    let asks = matches!(command, Command::AskNickname(_) | Command::NicknameMenu);
    let response = dispatch(turn, resident, command, date);
    if asks {
        response
    } else {
        moved_on(resident, response)
    }
}

/// A resident who did something else after being asked for a nickname has moved on: the
/// question closes, so a later message is not taken for a name.
fn moved_on(resident: Option<&Resident>, mut response: Response) -> Response {
    let Some(asked) = resident.filter(|r| r.awaiting.is_some()) else {
        return response;
    };
    match &mut response.change {
        Change::Save(r) => r.awaiting = None,
        Change::Keep => {
            let mut r = asked.clone();
            r.awaiting = None;
            response.change = Change::Save(Box::new(r));
        }
        Change::Delete | Change::Seat(_) => {}
    }
    response
}

fn dispatch(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    command: Command,
    date: Option<&str>,
) -> Response {
    match command {
        Command::RegisterDue => registration::due_date(turn, resident, date),
        Command::RegisterBirth => registration::birth_date(turn, resident, date),
        Command::CorrectMenu => review::correct_menu(turn, resident),
        Command::CorrectBirth(id) => registration::correct_birth(turn, resident, &id, date),
        Command::Show => review::show(turn, resident),
        Command::RemoveMenu => review::remove_menu(turn, resident),
        Command::RemoveAsk(target) => review::remove_ask(turn, resident, &target),
        Command::RemoveConfirm(target) => review::remove_confirm(turn, resident, &target),
        Command::Settings => settings::show(turn, resident),
        Command::Set(change) => settings::set(turn, resident, &change),
        Command::NicknameMenu => nickname::menu(turn, resident),
        Command::AskNickname(child) => nickname::ask(turn, resident, &child),
        Command::RemoveNickname(child) => nickname::remove(turn, resident, &child),
        Command::Stop => stop::ask(turn, resident),
        Command::StopConfirm => stop::confirm(turn, resident),
        Command::Cancel => welcome::cancelled(turn, resident),
        Command::Menu => welcome::menu(turn, resident),
        Command::Reserve(c) => match turn.reservations {
            Some(view) => reserve::respond(turn, resident, view, &c),
            // Only a caller without a store gets here (the handler always reads one).
            None => Response::say(
                turn,
                resident,
                "予約は、いまは受け付けていません。",
                "よやくは いまは できません。",
            ),
        },
    }
}

/// What the account says when invited into a group chat (no resident involved).
pub fn group_notice() -> Vec<Message> {
    welcome::group_notice().replies
}

/// The open question whose answer a text message is: the resident and the child whose
/// ニックネーム was asked for, if asked within [`Awaiting::WAITS_MS`].
fn asked<'r>(turn: &Turn<'_>, resident: Option<&'r Resident>) -> Option<(&'r Resident, &'r str)> {
    let r = resident?;
    match r.awaiting.as_ref()? {
        a @ Awaiting::Nickname { child, .. } if a.still_open(turn.timestamp_ms) => {
            Some((r, child.as_str()))
        }
        Awaiting::Nickname { .. } => None,
    }
}

/// The whole text is one of the words the chat's buttons and menu use.
fn is_keyword(text: &str) -> bool {
    matches!(
        text.trim(),
        "配信停止" | "登録内容" | "受信設定" | "使い方" | "メニュー" | "ニックネーム"
    )
}

fn is_cancel(text: &str) -> bool {
    matches!(text.trim(), "やめる" | "キャンセル" | "やめます" | "中止")
}

#[cfg(test)]
mod script_tests;
