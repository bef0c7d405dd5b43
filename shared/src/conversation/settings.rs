//! 受信設定: how the resident wants to receive notices. For now the language register
//! (やさしい日本語); categories, district and household join here later.

use super::common::{action, main_actions};
use super::{Change, Command, Response, Turn, editable};
use crate::domain::Resident;
use crate::line::Message;

pub fn show(_turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let easy = resident.is_some_and(|r| r.easy_japanese);
    let text = format!(
        "【受信設定】\nお知らせの日本語：{}\n\n\
         やさしい日本語を選ぶと、短く、わかりやすいことばでお知らせします（用意がある場合）。",
        if easy {
            "やさしい日本語"
        } else {
            "ふつうの日本語"
        }
    );
    let toggle = if easy {
        action("ふつうの日本語にする", Command::SetEasyJapanese(false))
    } else {
        action("やさしい日本語にする", Command::SetEasyJapanese(true))
    };
    let mut actions = vec![toggle];
    if resident.is_some_and(Resident::has_registrations) {
        actions.push(action("登録内容を見る", Command::Show));
    }
    actions.push(action("もどる", Command::Menu));
    Response::reply(Change::Keep, Message::text_with(text, actions))
}

pub fn set_easy(turn: &Turn<'_>, resident: Option<&Resident>, on: bool) -> Response {
    let mut r = editable(turn, resident);
    r.easy_japanese = on;
    let text = if on {
        "これから やさしい にほんごで おしらせします。\n（ふつうの 日本語に もどすときは「受信設定」を えらんでください）"
    } else {
        "これからは、ふつうの日本語でお知らせします。"
    };
    let actions = main_actions(turn.today, Some(&r));
    Response::reply(Change::Save(r), Message::text_with(text, actions))
}
