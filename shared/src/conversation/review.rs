//! 登録内容: what is registered, correcting a child's birthdate, and removing one registration
//! with a confirmation.

use super::command::{Command, Target};
use super::common::{
    Lang, action, birth_date_window, birth_picker, child_label, due_picker, main_actions,
    settings_action, stop_action, with_suffix,
};
use super::turn::{Change, Response, Turn};
use crate::dates::{japanese_date, japanese_date_short};
use crate::domain::{Child, MAX_CHILDREN, Resident};
use crate::line::{Action, Message};

fn nothing_registered(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    Response::say(
        turn,
        resident,
        "現在、登録はありません。\n出産予定日やお子さまの生年月日を登録すると、お知らせが届くようになります。",
        "いまは なにも とうろく して いません。\nうまれる 予定日や 子どもの 誕生日を とうろく すると、おしらせが とどきます。",
    )
}

pub fn show(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let Some(r) = resident.filter(|r| r.has_registrations()) else {
        return nothing_registered(turn, resident);
    };
    let l = Lang::of(resident);
    let mut text = String::from(l.pick("【登録内容】", "【とうろく した こと】"));
    if let Some(p) = &r.pregnancy {
        if l.easy() {
            text.push_str(&format!(
                "\nうまれる 予定日：{}\n　きょうは {}",
                japanese_date(p.due_date),
                l.pregnancy(p.due_date, turn.today)
            ));
        } else {
            text.push_str(&format!(
                "\n出産予定日：{}\n　今日は{}",
                japanese_date(p.due_date),
                l.pregnancy(p.due_date, turn.today)
            ));
        }
    }
    for c in &r.children {
        let nickname = c
            .nickname
            .as_ref()
            .map(|n| format!("「{n}」"))
            .unwrap_or_default();
        if l.easy() {
            text.push_str(&format!(
                "\n子ども{nickname}：{}うまれ（{}）",
                japanese_date_short(c.birth_date),
                l.age(c.birth_date, turn.today)
            ));
        } else {
            text.push_str(&format!(
                "\nお子さま{nickname}：{}生まれ（{}）",
                japanese_date_short(c.birth_date),
                l.age(c.birth_date, turn.today)
            ));
        }
    }
    text.push('\n');
    text.push_str(&super::settings::describe(turn.catalog, l, &r.settings));
    text.push_str(l.pick(
        &format!(
            "\nお知らせの日本語：{}\n\n変更・削除は下のボタンからどうぞ。",
            if r.easy_japanese {
                "やさしい日本語"
            } else {
                "ふつうの日本語"
            }
        ),
        "\nにほんご：やさしい にほんご\n\nかえる ときや けす ときは、下の ボタンを おして ください。",
    ));
    let mut actions = vec![due_picker(turn.today, Some(r))];
    if r.children.len() < MAX_CHILDREN {
        actions.push(birth_picker(turn.today, Some(r)));
    }
    if !r.children.is_empty() {
        actions.push(action(
            l.pick("生年月日を変更", "誕生日を なおす"),
            Command::CorrectMenu,
        ));
        actions.push(action(
            l.pick("ニックネーム", "ニックネーム"),
            Command::NicknameMenu,
        ));
    }
    actions.push(action(
        l.pick("登録を削除", "とうろくを けす"),
        Command::RemoveMenu,
    ));
    actions.push(settings_action(l));
    actions.push(stop_action(l));
    Response::reply(Change::Keep, Message::text_with(text, actions))
}

fn describe_target(l: Lang, r: &Resident, target: &Target) -> Option<String> {
    match target {
        Target::Pregnancy => r.pregnancy.as_ref().map(|p| {
            format!(
                "{}（{}）",
                l.pick("出産予定日", "うまれる 予定日"),
                japanese_date_short(p.due_date)
            )
        }),
        Target::Child(id) => r.child(id).map(|c| {
            format!(
                "{}{}",
                japanese_date_short(c.birth_date),
                l.pick("生まれのお子さま", "うまれの 子ども")
            )
        }),
    }
}

pub fn remove_menu(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let Some(r) = resident.filter(|r| r.has_registrations()) else {
        return nothing_registered(turn, resident);
    };
    let l = Lang::of(resident);
    let mut actions: Vec<Action> = Vec::new();
    if r.pregnancy.is_some() {
        actions.push(action(
            l.pick("出産予定日の登録", "うまれる 予定日"),
            Command::RemoveAsk(Target::Pregnancy),
        ));
    }
    for c in &r.children {
        actions.push(action(
            &child_label(l, r, c),
            Command::RemoveAsk(Target::Child(c.id.clone())),
        ));
    }
    actions.push(action(l.pick("やめる", "もどる"), Command::Cancel));
    Response::reply(
        Change::Keep,
        Message::text_with(
            l.pick(
                "どの登録を削除しますか？下のボタンから選んでください。",
                "どれを けしますか？下の ボタンから えらんで ください。",
            ),
            actions,
        ),
    )
}

fn not_found(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    Response::say(
        turn,
        resident,
        "その登録は見つかりませんでした。すでに削除されているかもしれません。",
        "その とうろくは ありませんでした。もう けして あるかも しれません。",
    )
}

pub fn remove_ask(turn: &Turn<'_>, resident: Option<&Resident>, target: &Target) -> Response {
    let l = Lang::of(resident);
    let Some(what) = resident.and_then(|r| describe_target(l, r, target)) else {
        return not_found(turn, resident);
    };
    Response::reply(
        Change::Keep,
        Message::confirm(
            if l.easy() {
                format!("{what}を けしますか？\nけすと、その おしらせは とどかなく なります。")
            } else {
                format!(
                    "{what}の登録を削除しますか？\n削除すると、関係するお知らせは届かなくなります。"
                )
            },
            action(
                l.pick("削除する", "けす"),
                Command::RemoveConfirm(target.clone()),
            ),
            action(l.pick("やめる", "もどる"), Command::Cancel),
        ),
    )
}

pub fn remove_confirm(turn: &Turn<'_>, resident: Option<&Resident>, target: &Target) -> Response {
    let l = Lang::of(resident);
    let Some((r, what)) = resident.and_then(|r| describe_target(l, r, target).map(|w| (r, w)))
    else {
        return not_found(turn, resident);
    };
    let mut r = r.clone();
    match target {
        Target::Pregnancy => r.pregnancy = None,
        Target::Child(id) => r.children.retain(|c| &c.id != id),
    }
    let mut text = if l.easy() {
        format!("{what}を けしました。")
    } else {
        format!("{what}の登録を削除しました。")
    };
    if !r.has_registrations() {
        text.push_str(l.pick(
            "\n現在、登録はありません。お知らせを受け取るには、下のボタンから登録してください。",
            "\nいまは なにも とうろく して いません。おしらせが ほしい ときは、下の ボタンから とうろく して ください。",
        ));
    }
    let actions = main_actions(turn.today, Some(&r));
    Response::reply(Change::Save(Box::new(r)), Message::text_with(text, actions))
}

/// One date picker per child, opening at the registered birthdate: tapping one and choosing
/// the right date corrects that child.
pub fn correct_menu(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let Some(r) = resident.filter(|r| !r.children.is_empty()) else {
        if resident.is_some_and(Resident::has_registrations) {
            // A due date only: there is no child to correct.
            return Response::say(
                turn,
                resident,
                "お子さまの生年月日は、まだ登録されていません。お生まれになったら、下のボタンから登録してください。",
                "子どもの 誕生日は まだ とうろく して いません。うまれたら、下の ボタンから とうろく して ください。",
            );
        }
        return nothing_registered(turn, resident);
    };
    let l = Lang::of(resident);
    let mut actions: Vec<_> = r
        .children
        .iter()
        .map(|c| correct_picker(turn.today, r, c, l))
        .collect();
    actions.push(action(l.pick("キャンセル", "もどる"), Command::Cancel));
    Response::reply(
        Change::Keep,
        Message::text_with(
            l.pick(
                "生年月日を変更するお子さまのボタンを押して、正しい日付をカレンダーから選んでください。\n\
                 すでにお届けしたお知らせが、変更でもう一度届くことはありません。",
                "なおす 子どもの ボタンを おして、ただしい ひを カレンダーから えらんで ください。\n\
                 もう おくった おしらせが、また とどく ことは ありません。",
            ),
            actions,
        ),
    )
}

/// The date picker that corrects one child's birthdate.
pub fn correct_picker(today: chrono::NaiveDate, r: &Resident, child: &Child, l: Lang) -> Action {
    let (min, max) = birth_date_window(today);
    Action::date_picker(
        &with_suffix(child_label(l, r, child), l.pick("を変更", "を なおす")),
        &Command::CorrectBirth(child.id.clone()).data(),
        child.birth_date.clamp(min, max),
        min,
        max,
    )
}
