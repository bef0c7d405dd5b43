//! Pieces every flow shares: the resident's register (ふつう or やさしい日本語), the date
//! windows residents may pick from (the same window drives the picker and the server-side
//! check), and the quick-reply menus that make sure no reply is a dead end.

use chrono::{Months, NaiveDate};

use super::command::Command;
use crate::catalog::{Catalog, day_label, day_label_easy};
use crate::dates::{self, GESTATION_AT_DUE_DAYS};
use crate::domain::{AnchorKind, Child, MAX_CHILDREN, Resident, Settings};
use crate::line::Action;

/// The register a resident reads: every reply has a ふつう and a やさしい日本語 wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang {
    easy: bool,
}

impl Lang {
    pub const PLAIN: Lang = Lang { easy: false };
    pub const EASY: Lang = Lang { easy: true };

    /// What the resident chose; someone not yet registered reads ふつうの日本語.
    pub fn of(resident: Option<&Resident>) -> Lang {
        Lang {
            easy: resident.is_some_and(|r| r.easy_japanese),
        }
    }

    pub fn easy(self) -> bool {
        self.easy
    }

    /// One of two wordings of the same thing.
    pub fn pick<'a>(self, plain: &'a str, easy: &'a str) -> &'a str {
        if self.easy { easy } else { plain }
    }

    /// 妊娠16週2日（妊娠5か月） / にんしん 16しゅう 2にち（5かげつ）
    pub fn pregnancy(self, due: NaiveDate, today: NaiveDate) -> String {
        if self.easy {
            dates::describe_pregnancy_easy(due, today)
        } else {
            dates::describe_pregnancy(due, today)
        }
    }

    /// 1歳2か月 / 1さい 2かげつ
    pub fn age(self, birth: NaiveDate, today: NaiveDate) -> String {
        if self.easy {
            dates::describe_age_easy(birth, today)
        } else {
            dates::describe_age(birth, today)
        }
    }
}

/// Due dates from today up to 280 days ahead (gestational age ≥ 0; 妊娠10か月 in Japanese
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
    let l = Lang::of(resident);
    let (min, max) = due_date_window(today);
    let current = resident
        .and_then(|r| r.pregnancy.as_ref())
        .map(|p| p.due_date);
    // A typical first registration is around 12 weeks, ~196 days before the due date.
    let initial = current.unwrap_or_else(|| dates::add_days(today, 196).unwrap_or(today));
    let label = if current.is_some() {
        l.pick("出産予定日を変更", "予定日を かえる")
    } else {
        l.pick("出産予定日を登録", "予定日を とうろく")
    };
    Action::date_picker(label, &Command::RegisterDue.data(), initial, min, max)
}

pub fn birth_picker(today: NaiveDate, resident: Option<&Resident>) -> Action {
    let l = Lang::of(resident);
    let (min, max) = birth_date_window(today);
    let has_children = resident.is_some_and(|r| !r.children.is_empty());
    let label = if has_children {
        l.pick("生年月日を追加登録", "ほかの 子の 誕生日")
    } else {
        l.pick("子どもの生年月日を登録", "子どもの 誕生日を とうろく")
    };
    Action::date_picker(label, &Command::RegisterBirth.data(), today, min, max)
}

/// How a button names a child: its birthdate, with 1人目 / 2人目 for twins who share it
/// (the order they were registered in), so no two buttons read the same.
pub fn child_label(l: Lang, r: &Resident, child: &Child) -> String {
    let base = format!(
        "{}{}",
        dates::japanese_date_short(child.birth_date),
        l.pick("生まれ", "うまれ")
    );
    let mut same: Vec<&Child> = r
        .children
        .iter()
        .filter(|c| c.birth_date == child.birth_date)
        .collect();
    if same.len() < 2 {
        return base;
    }
    same.sort_by_key(|c| c.id[1..].parse::<u32>().unwrap_or(u32::MAX));
    let n = same.iter().position(|c| c.id == child.id).unwrap_or(0) + 1;
    if l.easy() {
        format!("{base}（{n}にんめ）")
    } else {
        format!("{base}（{n}人目）")
    }
}

/// `label` followed by `suffix` when both fit on a button, else `label` alone.
pub fn with_suffix(label: String, suffix: &str) -> String {
    let joined = format!("{label}{suffix}");
    if joined.chars().count() <= crate::line::limits::MAX_ACTION_LABEL_CHARS {
        joined
    } else {
        label
    }
}

pub fn action(label: &str, command: Command) -> Action {
    Action::postback(label, &command.data())
}

pub fn show_action(l: Lang) -> Action {
    action(l.pick("登録内容を見る", "とうろくを みる"), Command::Show)
}

pub fn settings_action(l: Lang) -> Action {
    action(
        l.pick("受信設定", "受信設定（じゅしんせってい）"),
        Command::Settings,
    )
}

pub fn stop_action(l: Lang) -> Action {
    action(
        l.pick("配信停止", "配信停止（おしらせを とめる）"),
        Command::Stop,
    )
}

pub fn menu_action(l: Lang) -> Action {
    action(l.pick("使い方", "つかいかた"), Command::Menu)
}

/// The menu offered after most replies: what makes sense from where the resident is.
pub fn main_actions(today: NaiveDate, resident: Option<&Resident>) -> Vec<Action> {
    let l = Lang::of(resident);
    let registered = resident.is_some_and(Resident::has_registrations);
    let mut actions = Vec::new();
    if registered {
        actions.push(show_action(l));
    }
    actions.push(due_picker(today, resident));
    if resident.is_none_or(|r| r.children.len() < MAX_CHILDREN) {
        actions.push(birth_picker(today, resident));
    }
    actions.push(settings_action(l));
    if registered {
        actions.push(stop_action(l));
    } else {
        actions.push(menu_action(l));
    }
    actions
}

/// Buttons on every pushed notice, so a resident can check, adjust or stop right there.
pub fn notice_actions(easy: bool) -> Vec<Action> {
    let l = if easy { Lang::EASY } else { Lang::PLAIN };
    vec![show_action(l), settings_action(l), stop_action(l)]
}

/// 次のお知らせ line for a confirmation: the next milestone or series step this resident's
/// 受信設定 lets through, if the catalog has one ahead.
pub fn next_notice(
    catalog: &Catalog,
    kind: AnchorKind,
    anchor: NaiveDate,
    today: NaiveDate,
    settings: &Settings,
    l: Lang,
) -> Option<String> {
    let from = dates::add_days(today, 1)?;
    let milestone = catalog
        .schedule(kind, anchor, Some(from), None)
        .into_iter()
        .find(|(_, m)| m.reaches(settings))
        .map(|(day, m)| {
            let timing = if l.easy() {
                m.offset.easy_label()
            } else {
                m.offset.label()
            };
            (day, timing)
        });
    let step = catalog
        .series()
        .iter()
        .filter(|s| s.anchor == kind && s.reaches(settings))
        .filter_map(|s| s.next_step(anchor, from))
        .min()
        .map(|(day, n)| {
            // Past the first year a parent counts in years and months, not in days.
            let timing = match (kind, l.easy()) {
                (AnchorKind::BirthDate, false) if n >= 365 => dates::describe_age(anchor, day),
                (AnchorKind::BirthDate, true) if n >= 365 => dates::describe_age_easy(anchor, day),
                (_, true) => day_label_easy(kind, n),
                (_, false) => day_label(kind, n),
            };
            (day, timing)
        });
    let (day, timing) = [milestone, step]
        .into_iter()
        .flatten()
        .min_by_key(|(d, _)| *d)?;
    Some(if l.easy() {
        format!(
            "つぎの おしらせは {}（{timing}）に おくります。",
            dates::japanese_date(day)
        )
    } else {
        format!(
            "次のお知らせは{}（{timing}）の予定です。",
            dates::japanese_date(day)
        )
    })
}
