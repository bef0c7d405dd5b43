//! Greeting on follow, the menu, and kind answers to anything the bot does not understand —
//! always with buttons, so no message is a dead end.

use super::common::main_actions;
use super::{Change, Response, Turn};
use crate::domain::Resident;
use crate::line::Message;

const INTRO: &str = "妊娠中の方は出産予定日を、お子さまがいる方は生年月日を登録すると、妊娠週数や月齢に合わせた健診・予防接種・子育ての情報を、ちょうどよい日にお届けします。";

pub fn follow(turn: &Turn<'_>, resident: Option<&Resident>, unblocked: bool) -> Response {
    let text = if unblocked {
        format!(
            "おかえりなさい。ブロックを解除していただき、ありがとうございます。\n\
             以前の登録情報は、ブロックされたときに削除しています。お手数ですが、もう一度登録してください。\n\n{INTRO}\n\n\
             下のボタンから登録できます（あとから変更・削除もできます）。"
        )
    } else {
        format!(
            "友だち追加ありがとうございます。\n{INTRO}\n\n\
             下のボタンから登録してください（あとから変更・削除できます）。"
        )
    };
    // Adding the account again starts over cleanly, even if a block was never reported.
    let change = if resident.is_some() && unblocked {
        Change::Delete
    } else {
        Change::Keep
    };
    let kept = if matches!(change, Change::Delete) {
        None
    } else {
        resident
    };
    Response::reply(
        change,
        Message::text_with(text, main_actions(turn.today, kept)),
    )
}

pub fn group_notice() -> Response {
    Response::reply(
        Change::Keep,
        Message::text(
            "このアカウントは、1対1のトークでご利用ください。グループでは登録やお知らせの配信は行いません。",
        ),
    )
}

pub fn menu(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let text = "できること\n\
                ・出産予定日の登録（妊娠中の方）\n\
                ・お子さまの生年月日の登録（18歳まで、何人でも）\n\
                ・登録内容の確認・変更・削除\n\
                ・受信設定（やさしい日本語）\n\
                ・配信停止（登録情報はすべて削除されます）\n\n\
                下のボタンから選んでください。";
    Response::reply(
        Change::Keep,
        Message::text_with(text, main_actions(turn.today, resident)),
    )
}

pub fn cancelled(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    Response::reply(
        Change::Keep,
        Message::text_with(
            "キャンセルしました。登録内容は変わっていません。",
            main_actions(turn.today, resident),
        ),
    )
}

pub fn fallback(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    message_type: Option<&str>,
) -> Response {
    let text = match message_type {
        Some("sticker") => "スタンプありがとうございます！\n下のボタンから、登録や登録内容の確認ができます。".to_string(),
        Some("location") => "位置情報ありがとうございます。施設さがしは準備中です。\n下のボタンから、登録や登録内容の確認ができます。".to_string(),
        _ => "メッセージありがとうございます。\n\
              このアカウントは自動でお知らせをお届けしているため、個別のご質問にはお答えできません。\
              ご相談はお住まいの自治体の子育て窓口へお願いします。\n\n\
              下のボタンから、登録や登録内容の確認ができます。"
            .to_string(),
    };
    Response::reply(
        Change::Keep,
        Message::text_with(text, main_actions(turn.today, resident)),
    )
}

/// A button from an old message whose meaning is gone.
pub fn expired_button(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    Response::reply(
        Change::Keep,
        Message::text_with(
            "このボタンは使えなくなりました。お手数ですが、下のボタンからもう一度選んでください。",
            main_actions(turn.today, resident),
        ),
    )
}
