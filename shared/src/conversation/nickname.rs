//! ニックネーム: the name a notice calls a child by (the catalog's `{nickname}`), typed in the
//! chat. Asking stores the question on the resident; the next text message within
//! [`Awaiting::WAITS_MS`] is the answer. The name is personal data: stored with the child,
//! deleted with 配信停止, never logged.

use super::command::Command;
use super::common::{Lang, action, child_label, main_actions};
use super::turn::{Change, Response, Turn};
use crate::catalog::placeholder::MAX_NICKNAME_CHARS;
use crate::dates::japanese_date_short;
use crate::domain::{Awaiting, Child, Resident};
use crate::line::{Action, Message};

fn child_name(l: Lang, c: &Child) -> String {
    let born = japanese_date_short(c.birth_date);
    match (&c.nickname, l.easy()) {
        (Some(name), _) => format!("{name}（{born}）"),
        (None, false) => format!("{born}生まれのお子さま"),
        (None, true) => format!("{born}うまれの 子ども"),
    }
}

fn no_children(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    Response::say(
        turn,
        resident,
        "ニックネームは、お子さまの生年月日を登録すると設定できます。",
        "ニックネームは、子どもの 誕生日を とうろく すると つけられます。",
    )
}

fn not_found(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    Response::say(
        turn,
        resident,
        "そのお子さまの登録は見つかりませんでした。登録内容から選び直してください。",
        "その 子どもの とうろくは ありません。もう いちど えらんで ください。",
    )
}

/// Which child: one button per child (at most ten, so the quick reply always fits).
pub fn menu(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let Some(r) = resident.filter(|r| !r.children.is_empty()) else {
        return no_children(turn, resident);
    };
    if let [only] = r.children.as_slice() {
        return ask(turn, resident, &only.id);
    }
    let l = Lang::of(resident);
    let mut actions: Vec<Action> = r
        .children
        .iter()
        .map(|c| {
            let label = match &c.nickname {
                Some(name) => name.clone(),
                None => child_label(l, r, c),
            };
            action(&label, Command::AskNickname(c.id.clone()))
        })
        .collect();
    actions.push(action(l.pick("やめる", "もどる"), Command::Cancel));
    Response::reply(
        Change::Keep,
        Message::text_with(
            l.pick(
                "どのお子さまのニックネームを登録しますか？",
                "どの 子どもの ニックネームを つけますか？",
            ),
            actions,
        ),
    )
}

pub fn ask(turn: &Turn<'_>, resident: Option<&Resident>, child: &str) -> Response {
    let Some(c) = resident.and_then(|r| r.child(child)) else {
        return not_found(turn, resident);
    };
    let l = Lang::of(resident);
    let mut r = resident
        .cloned()
        .unwrap_or_else(|| Resident::new(turn.user_id.clone()));
    r.awaiting = Some(Awaiting::Nickname {
        child: c.id.clone(),
        asked_ms: turn.timestamp_ms,
    });
    let mut text = if l.easy() {
        format!(
            "{}の ニックネームを、この トークに おくって ください（{MAX_NICKNAME_CHARS}もじ まで）。\nおしらせの なかで、この なまえで よびます。",
            child_name(l, c)
        )
    } else {
        format!(
            "{}のニックネームを、このトークに送ってください（{MAX_NICKNAME_CHARS}文字まで。例：はるちゃん）。\nお知らせの中で、この名前でお呼びします。",
            child_name(l, c)
        )
    };
    let mut actions = vec![action(l.pick("やめる", "もどる"), Command::Cancel)];
    if let Some(name) = &c.nickname {
        text.push_str(&if l.easy() {
            format!("\nいまの ニックネーム：{name}")
        } else {
            format!("\n現在のニックネーム：{name}")
        });
        actions.push(action(
            l.pick("ニックネームを消す", "ニックネームを けす"),
            Command::RemoveNickname(c.id.clone()),
        ));
    }
    Response::reply(Change::Save(Box::new(r)), Message::text_with(text, actions))
}

/// Why a typed name cannot be a nickname, if it cannot.
fn refuse(l: Lang, name: &str) -> Option<&'static str> {
    let chars = name.chars().count();
    if chars == 0 {
        Some(l.pick(
            "ニックネームを文字で送ってください。",
            "ニックネームを もじで おくって ください。",
        ))
    } else if chars > MAX_NICKNAME_CHARS {
        Some(l.pick(
            "ニックネームは20文字までで送ってください。",
            "ニックネームは 20もじ までで おくって ください。",
        ))
    } else if name.chars().any(char::is_control) {
        Some(l.pick(
            "ニックネームは1行で送ってください。",
            "ニックネームは 1ぎょうで おくって ください。",
        ))
    } else {
        None
    }
}

/// The text the resident typed while asked for a nickname.
pub fn answer(turn: &Turn<'_>, resident: &Resident, child: &str, typed: &str) -> Response {
    let l = Lang::of(Some(resident));
    let mut r = resident.clone();
    let name = typed.trim();
    if r.child(child).is_none() {
        // Removed meanwhile: the question is over.
        r.awaiting = None;
        let mut response = not_found(turn, Some(&r));
        response.change = Change::Save(Box::new(r));
        return response;
    }
    if let Some(why) = refuse(l, name) {
        return Response::reply(
            Change::Keep,
            Message::text_with(
                why,
                vec![action(l.pick("やめる", "もどる"), Command::Cancel)],
            ),
        );
    }
    r.awaiting = None;
    if let Some(c) = r.children.iter_mut().find(|c| c.id == child) {
        c.nickname = Some(name.to_string());
    }
    let text = if l.easy() {
        format!("ニックネームを「{name}」に しました。おしらせの なかで この なまえで よびます。")
    } else {
        format!("ニックネームを「{name}」で登録しました。お知らせの中で、この名前でお呼びします。")
    };
    let actions = main_actions(turn.today, Some(&r));
    Response::reply(Change::Save(Box::new(r)), Message::text_with(text, actions))
}

pub fn remove(turn: &Turn<'_>, resident: Option<&Resident>, child: &str) -> Response {
    let Some(r) = resident.filter(|r| r.child(child).is_some()) else {
        return not_found(turn, resident);
    };
    let l = Lang::of(resident);
    let mut r = r.clone();
    r.awaiting = None;
    if let Some(c) = r.children.iter_mut().find(|c| c.id == child) {
        c.nickname = None;
    }
    let actions = main_actions(turn.today, Some(&r));
    Response::reply(
        Change::Save(Box::new(r)),
        Message::text_with(
            l.pick(
                "ニックネームを消しました。お知らせでは「お子さん」とお呼びします。",
                "ニックネームを けしました。",
            ),
            actions,
        ),
    )
}
