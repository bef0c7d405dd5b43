//! Pieces every flow shares: the date windows residents may pick from (the same window
//! drives the picker and the server-side check), and the quick-reply menus that make sure
//! no reply is a dead end.

use chrono::{Months, NaiveDate};

use super::command::Command;
use crate::dates::{self, GESTATION_AT_DUE_DAYS};
use crate::domain::{MAX_CHILDREN, Resident};
use crate::line::Action;

/// Due dates from today up to 280 days ahead (gestational age ≥ 0; 妊娠10ヶ月 in Japanese
/// counting).
pub fn due_date_window(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        today,
        dates::add_days(today, GESTATION_AT_DUE_DAYS).unwrap_or(today),
    )
}

/// Birthdates from 18 years ago up to today.
pub fn birth_date_window(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        today
            .checked_sub_months(Months::new(18 * 12))
            .unwrap_or(today),
        today,
    )
}

pub fn due_picker(today: NaiveDate, resident: Option<&Resident>) -> Action {
    let (min, max) = due_date_window(today);
    let current = resident
        .and_then(|r| r.pregnancy.as_ref())
        .map(|p| p.due_date);
    // A typical first registration is around 12 weeks, ~196 days before the due date.
    let initial = current.unwrap_or_else(|| dates::add_days(today, 196).unwrap_or(today));
    let label = if current.is_some() {
        "出産予定日を変更"
    } else {
        "出産予定日を登録"
    };
    Action::date_picker(label, &Command::RegisterDue.data(), initial, min, max)
}

pub fn birth_picker(today: NaiveDate, resident: Option<&Resident>) -> Action {
    let (min, max) = birth_date_window(today);
    let has_children = resident.is_some_and(|r| !r.children.is_empty());
    let label = if has_children {
        "生年月日を追加登録"
    } else {
        "子どもの生年月日を登録"
    };
    Action::date_picker(label, &Command::RegisterBirth.data(), today, min, max)
}

pub fn action(label: &str, command: Command) -> Action {
    Action::postback(label, &command.data())
}

/// The menu offered after most replies: what makes sense from where the resident is.
pub fn main_actions(today: NaiveDate, resident: Option<&Resident>) -> Vec<Action> {
    let registered = resident.is_some_and(Resident::has_registrations);
    let mut actions = Vec::new();
    if registered {
        actions.push(action("登録内容を見る", Command::Show));
    }
    actions.push(due_picker(today, resident));
    if resident.is_none_or(|r| r.children.len() < MAX_CHILDREN) {
        actions.push(birth_picker(today, resident));
    }
    actions.push(action("受信設定", Command::Settings));
    if registered {
        actions.push(action("配信停止", Command::Stop));
    } else {
        actions.push(action("使い方", Command::Menu));
    }
    actions
}

/// Buttons on every pushed notice, so a resident can check, adjust or stop right there.
pub fn notice_actions() -> Vec<Action> {
    vec![
        action("登録内容を見る", Command::Show),
        action("受信設定", Command::Settings),
        action("配信停止", Command::Stop),
    ]
}

/// 次のお知らせ line for a confirmation, if the catalog has anything ahead.
pub fn next_notice(
    catalog: &crate::catalog::Catalog,
    kind: crate::domain::AnchorKind,
    anchor: NaiveDate,
    today: NaiveDate,
) -> Option<String> {
    let from = dates::add_days(today, 1)?;
    let (day, m) = catalog
        .schedule(kind, anchor, Some(from), None)
        .into_iter()
        .next()?;
    Some(format!(
        "次のお知らせは{}（{}）の予定です。",
        dates::japanese_date(day),
        m.offset.label()
    ))
}
