//! Greeting on follow, the menu, and kind answers to anything the bot does not understand —
//! always with buttons, so no message is a dead end.

use super::command::Command;
use super::command::SettingChange;
use super::common::{Lang, action, main_actions};
use super::turn::{Change, Response, Turn};
use crate::domain::Resident;
use crate::line::Message;

const INTRO: &str = "妊娠中の方は出産予定日を、お子さまがいる方は生年月日を登録すると、妊娠週数や月齢に合わせた健診・予防接種・子育ての情報を、ちょうどよい日にお届けします。";

/// Offered with the greeting, so a resident who reads Japanese with difficulty finds the
/// やさしい日本語 edition before anything else.
const EASY_OFFER: &str = "やさしい にほんご（Easy Japanese）で よみたい ひとは、下の「やさしい にほんご」を おして ください。";

pub fn follow(turn: &Turn<'_>, resident: Option<&Resident>, unblocked: bool) -> Response {
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
    let l = Lang::of(kept);
    let registered = kept.is_some_and(Resident::has_registrations);
    // A follow without `isUnblocked` for a resident we still hold (a redelivered event, or a
    // block LINE never reported) keeps their record: greet them as who they are.
    let text = match (unblocked, registered, l.easy()) {
        (true, _, _) => format!(
            "おかえりなさい。ブロックを解除していただき、ありがとうございます。\n\
             以前の登録情報は、ブロックされたときに削除しています。お手数ですが、もう一度登録してください。\n\n{INTRO}\n\n\
             下のボタンから登録できます（あとから変更・削除もできます）。\n\n{EASY_OFFER}"
        ),
        (false, false, false) => format!(
            "友だち追加ありがとうございます。\n{INTRO}\n\n\
             下のボタンから登録してください（あとから変更・削除できます）。\n\n{EASY_OFFER}"
        ),
        (false, true, false) => format!(
            "友だち追加ありがとうございます。\n登録内容はそのまま残っています。「登録内容を見る」から確かめられます。\n\n{EASY_OFFER}"
        ),
        (false, false, true) => "ともだち ついか ありがとう ございます。\n\
             うまれる 予定日か、子どもの 誕生日を とうろく すると、ちょうど よい ひに おしらせを おくります。\n\
             下の ボタンから えらんで ください。"
            .to_string(),
        (false, true, true) => "ともだち ついか ありがとう ございます。\n\
             とうろく した ことは そのまま のこって います。「とうろくを みる」で みられます。"
            .to_string(),
    };
    let mut actions = main_actions(turn.today, kept);
    if !l.easy() {
        actions.push(action(
            "やさしい にほんご",
            Command::Set(SettingChange::EasyJapanese(true)),
        ));
    }
    Response::reply(change, Message::text_with(text, actions))
}

pub fn group_notice() -> Response {
    Response::reply(
        Change::Keep,
        Message::text(
            "このアカウントは、1対1のトークでご利用ください。グループでは登録やお知らせの配信は行いません。\n\
             （この アカウントは ひとりで つかって ください）",
        ),
    )
}

pub fn menu(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let l = Lang::of(resident);
    // 受信設定 as this city asks it: the questions the catalog declares, by its labels.
    let q = turn.catalog.questions();
    let mut asked = vec![
        l.pick("受け取るお知らせの種類", "うけとる おしらせ")
            .to_string(),
    ];
    for question in [&q.district, &q.household, &q.nursery] {
        if !question.choices.is_empty() {
            asked.push(match (&question.easy_label, l.easy()) {
                (Some(easy), true) => easy.clone(),
                _ => question.label.clone(),
            });
        }
    }
    asked.push(l.pick("やさしい日本語", "やさしい にほんご").to_string());
    let text = if l.easy() {
        format!(
            "できる こと\n\
             ・うまれる 予定日を とうろく（おなかに 赤ちゃんが いる ひと）\n\
             ・子どもの 誕生日を とうろく（18さい まで、10にん まで）\n\
             ・とうろく した ことを みる、かえる、けす\n\
             ・受信設定（じゅしんせってい）：{}\n\
             ・配信停止（おしらせを とめる）：とうろく した ことは ぜんぶ けします\n\n\
             おしらせは あさ 9じごろに おくります。下の ボタンから えらんで ください。",
            asked.join("、")
        )
    } else {
        format!(
            "できること\n\
             ・出産予定日の登録（妊娠中の方）\n\
             ・お子さまの生年月日の登録（18歳まで、10人まで）\n\
             ・登録内容の確認・変更・削除、お子さまのニックネーム\n\
             ・受信設定：{}\n\
             ・配信停止（登録情報はすべて削除されます）\n\n\
             お知らせは、朝9時ごろにお届けします。下のボタンから選んでください。",
            asked.join("、")
        )
    };
    Response::reply(
        Change::Keep,
        Message::text_with(text, main_actions(turn.today, resident)),
    )
}

pub fn cancelled(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    let l = Lang::of(resident);
    // Cancelling also ends an open question (a nickname asked for).
    let change = match resident {
        Some(r) if r.awaiting.is_some() => {
            let mut r = r.clone();
            r.awaiting = None;
            Change::Save(Box::new(r))
        }
        _ => Change::Keep,
    };
    Response::reply(
        change,
        Message::text_with(
            l.pick(
                "キャンセルしました。登録内容は変わっていません。",
                "もどりました。なにも かわって いません。",
            ),
            main_actions(turn.today, resident),
        ),
    )
}

pub fn fallback(
    turn: &Turn<'_>,
    resident: Option<&Resident>,
    message_type: Option<&str>,
) -> Response {
    let l = Lang::of(resident);
    let text = match message_type {
        Some("sticker") => l.pick(
            "スタンプありがとうございます！\n下のボタンから、登録や登録内容の確認ができます。",
            "スタンプ ありがとう ございます。\n下の ボタンから えらんで ください。",
        ),
        Some("location") => l.pick(
            "位置情報ありがとうございます。施設さがしは準備中です。\n下のボタンから、登録や登録内容の確認ができます。",
            "ばしょを ありがとう ございます。しせつを さがす きのうは じゅんびちゅうです。\n下の ボタンから えらんで ください。",
        ),
        _ => l.pick(
            "メッセージありがとうございます。\n\
             このアカウントは自動でお知らせをお届けしているため、個別のご質問にはお答えできません。\
             ご相談はお住まいの自治体の子育て窓口へお願いします。\n\n\
             下のボタンから、登録や登録内容の確認ができます。",
            "メッセージ ありがとう ございます。\n\
             この アカウントは、しつもんに こたえる ことが できません。\
             こまった ときは、しやくしょの こそだての まどぐちに そうだん して ください。\n\n\
             下の ボタンから えらんで ください。",
        ),
    };
    Response::reply(
        Change::Keep,
        Message::text_with(text, main_actions(turn.today, resident)),
    )
}

/// A button from an old message whose meaning is gone.
pub fn expired_button(turn: &Turn<'_>, resident: Option<&Resident>) -> Response {
    Response::say(
        turn,
        resident,
        "このボタンは使えなくなりました。お手数ですが、下のボタンからもう一度選んでください。",
        "この ボタンは もう つかえません。下の ボタンから もう いちど えらんで ください。",
    )
}
