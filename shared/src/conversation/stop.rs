//! 配信停止 in three steps: ask (配信停止) → confirm (停止する) → done. Stopping deletes every
//! piece of personal data the resident registered.

use super::common::{action, birth_picker, due_picker, main_actions};
use super::{Change, Command, Response, Turn};
use crate::domain::Resident;
use crate::line::Message;

pub fn ask(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    if resident.is_none() {
        return Response::reply(
            Change::Keep,
            Message::text_with(
                "現在、登録はありません。お知らせは配信されていません。",
                main_actions(turn.today, None),
            ),
        );
    }
    Response::reply(
        Change::Keep,
        Message::confirm(
            "配信を停止しますか？\n停止すると、登録した出産予定日・お子さまの生年月日などの情報はすべて削除され、お知らせは届かなくなります。",
            action("停止する", Command::StopConfirm),
            action("やめる", Command::Cancel),
        ),
    )
}

pub fn confirm(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let text = if resident.is_some() {
        "配信を停止し、登録情報をすべて削除しました。\nこれまでご利用いただき、ありがとうございました。\n\n\
         またお知らせを受け取りたくなったら、下のボタンからいつでも登録できます。"
    } else {
        "配信は停止済みで、登録情報も残っていません。\nまたお知らせを受け取りたくなったら、下のボタンからいつでも登録できます。"
    };
    Response::reply(
        if resident.is_some() {
            Change::Delete
        } else {
            Change::Keep
        },
        Message::text_with(
            text,
            vec![due_picker(turn.today, None), birth_picker(turn.today, None)],
        ),
    )
}
