//! 配信停止 in three steps: ask (配信停止) → confirm (停止する) → done. Stopping deletes every
//! piece of personal data the resident registered.

use super::command::Command;
use super::common::{Lang, action, birth_picker, due_picker, main_actions};
use super::turn::{Change, Response, Turn};
use crate::domain::Resident;
use crate::line::Message;

pub fn ask(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let l = Lang::of(resident);
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
            l.pick(
                "配信を停止しますか？\n停止すると、登録した出産予定日・お子さまの生年月日・受信設定などの情報はすべて削除され、予約も取り消されます。お知らせは届かなくなります。",
                "おしらせを とめますか？\nとめると、とうろく した 予定日や 誕生日、せっていは ぜんぶ けします。よやくも なくなります。おしらせは とどかなく なります。",
            ),
            action(
                l.pick("停止する", "とめる（ぜんぶ けす）"),
                Command::StopConfirm,
            ),
            action(l.pick("やめる", "もどる"), Command::Cancel),
        ),
    )
}

pub fn confirm(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let l = Lang::of(resident);
    let text = match (resident.is_some(), l.easy()) {
        (true, false) => {
            "配信を停止し、登録情報をすべて削除しました。\nこれまでご利用いただき、ありがとうございました。\n\n\
             またお知らせを受け取りたくなったら、下のボタンからいつでも登録できます。"
        }
        (true, true) => {
            "おしらせを とめました。とうろく した ことは ぜんぶ けしました。\nありがとう ございました。\n\n\
             また おしらせが ほしく なったら、下の ボタンから とうろく して ください。"
        }
        (false, _) => {
            "配信は停止済みで、登録情報も残っていません。\nまたお知らせを受け取りたくなったら、下のボタンからいつでも登録できます。"
        }
    };
    Response::reply(
        if resident.is_some() {
            Change::Delete
        } else {
            Change::Keep
        },
        // Everything is deleted, so the next buttons are those of someone new, in the
        // register the resident read until now.
        Message::text_with(text, {
            let mut fresh = Resident::new(turn.user_id.clone());
            fresh.easy_japanese = l.easy();
            vec![
                due_picker(turn.today, Some(&fresh)),
                birth_picker(turn.today, Some(&fresh)),
            ]
        }),
    )
}
