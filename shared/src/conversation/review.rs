//! 登録内容: what is registered, correcting a child's birthdate, and removing one registration
//! with a confirmation.

use super::common::{action, birth_date_window, birth_picker, due_picker, main_actions};
use super::{Change, Command, Response, Target, Turn};
use crate::dates::{describe_age, describe_pregnancy, japanese_date, japanese_date_short};
use crate::domain::{Child, MAX_CHILDREN, Resident};
use crate::line::{Action, Message};

fn nothing_registered(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    Response::reply(
        Change::Keep,
        Message::text_with(
            "現在、登録はありません。\n出産予定日やお子さまの生年月日を登録すると、お知らせが届くようになります。",
            main_actions(turn.today, resident),
        ),
    )
}

pub fn show(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let Some(r) = resident.filter(|r| r.has_registrations()) else {
        return nothing_registered(turn, resident);
    };
    let mut text = String::from("【登録内容】");
    if let Some(p) = &r.pregnancy {
        text.push_str(&format!(
            "\n出産予定日：{}\n　今日は{}",
            japanese_date(p.due_date),
            describe_pregnancy(p.due_date, turn.today)
        ));
    }
    for c in &r.children {
        text.push_str(&format!(
            "\nお子さま：{}生まれ（{}）",
            japanese_date_short(c.birth_date),
            describe_age(c.birth_date, turn.today)
        ));
    }
    text.push_str(&format!(
        "\nお知らせの日本語：{}\n\n変更・削除は下のボタンからどうぞ。",
        if r.easy_japanese {
            "やさしい日本語"
        } else {
            "ふつうの日本語"
        }
    ));
    let mut actions = vec![due_picker(turn.today, Some(r))];
    if r.children.len() < MAX_CHILDREN {
        actions.push(birth_picker(turn.today, Some(r)));
    }
    if !r.children.is_empty() {
        actions.push(action("生年月日を変更", Command::CorrectMenu));
    }
    actions.push(action("登録を削除", Command::RemoveMenu));
    actions.push(action("受信設定", Command::Settings));
    actions.push(action("配信停止", Command::Stop));
    Response::reply(Change::Keep, Message::text_with(text, actions))
}

fn describe_target(r: &Resident, target: &Target) -> Option<String> {
    match target {
        Target::Pregnancy => r
            .pregnancy
            .as_ref()
            .map(|p| format!("出産予定日（{}）", japanese_date_short(p.due_date))),
        Target::Child(id) => r
            .child(id)
            .map(|c| format!("{}生まれのお子さま", japanese_date_short(c.birth_date))),
    }
}

pub fn remove_menu(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let Some(r) = resident.filter(|r| r.has_registrations()) else {
        return nothing_registered(turn, resident);
    };
    let mut actions: Vec<Action> = Vec::new();
    if r.pregnancy.is_some() {
        actions.push(action(
            "出産予定日の登録",
            Command::RemoveAsk(Target::Pregnancy),
        ));
    }
    for c in &r.children {
        actions.push(action(
            &format!("{}生まれ", japanese_date_short(c.birth_date)),
            Command::RemoveAsk(Target::Child(c.id.clone())),
        ));
    }
    actions.push(action("やめる", Command::Cancel));
    Response::reply(
        Change::Keep,
        Message::text_with(
            "どの登録を削除しますか？下のボタンから選んでください。",
            actions,
        ),
    )
}

fn not_found(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    Response::reply(
        Change::Keep,
        Message::text_with(
            "その登録は見つかりませんでした。すでに削除されているかもしれません。",
            main_actions(turn.today, resident),
        ),
    )
}

pub fn remove_ask(turn: &Turn<'_>, resident: Option<&Resident>, target: &Target) -> Response {
    let Some(what) = resident.and_then(|r| describe_target(r, target)) else {
        return not_found(turn, resident);
    };
    Response::reply(
        Change::Keep,
        Message::confirm(
            format!(
                "{what}の登録を削除しますか？\n削除すると、関係するお知らせは届かなくなります。"
            ),
            action("削除する", Command::RemoveConfirm(target.clone())),
            action("やめる", Command::Cancel),
        ),
    )
}

pub fn remove_confirm(turn: &Turn<'_>, resident: Option<&Resident>, target: &Target) -> Response {
    let Some((r, what)) = resident.and_then(|r| describe_target(r, target).map(|w| (r, w))) else {
        return not_found(turn, resident);
    };
    let mut r = r.clone();
    match target {
        Target::Pregnancy => r.pregnancy = None,
        Target::Child(id) => r.children.retain(|c| &c.id != id),
    }
    let mut text = format!("{what}の登録を削除しました。");
    if !r.has_registrations() {
        text.push_str(
            "\n現在、登録はありません。お知らせを受け取るには、下のボタンから登録してください。",
        );
    }
    let actions = main_actions(turn.today, Some(&r));
    Response::reply(Change::Save(r), Message::text_with(text, actions))
}

/// One date picker per child, opening at the registered birthdate: tapping one and choosing
/// the right date corrects that child.
pub fn correct_menu(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let Some(r) = resident.filter(|r| !r.children.is_empty()) else {
        return nothing_registered(turn, resident);
    };
    let mut actions: Vec<_> = r
        .children
        .iter()
        .map(|c| correct_picker(turn.today, c))
        .collect();
    actions.push(action("キャンセル", Command::Cancel));
    Response::reply(
        Change::Keep,
        Message::text_with(
            "生年月日を変更するお子さまのボタンを押して、正しい日付をカレンダーから選んでください。\n\
             すでにお届けしたお知らせが、変更でもう一度届くことはありません。"
                .to_string(),
            actions,
        ),
    )
}

/// The date picker that corrects one child's birthdate.
pub fn correct_picker(today: chrono::NaiveDate, child: &Child) -> Action {
    let (min, max) = birth_date_window(today);
    Action::date_picker(
        &format!("{}生まれを変更", japanese_date_short(child.birth_date)),
        &Command::CorrectBirth(child.id.clone()).data(),
        child.birth_date.clamp(min, max),
        min,
        max,
    )
}
