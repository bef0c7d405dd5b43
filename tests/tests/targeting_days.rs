//! 受信設定 that really targets, end to end over loopback: the real `sukusuku serve` binary
//! with a catalog written here (categories, the city's questions, milestones for everyone
//! and for an audience, placeholders, a series with a steps file beside the catalog and one
//! with a template), residents who set their 受信設定 by tapping the buttons of the cards the
//! chat sent them, and `/dev/daily` for chosen days. The fake LINE API checks every request
//! against the spec and records exactly who got what.
//!
//! Also: texts at LINE's length limit with placeholders (the catalog check refuses one unit
//! more, and what it accepts is never over the limit once filled in), and the chat's replies
//! with the largest 受信設定 the catalog check accepts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use sukusuku_tests::days::{minus, plus, today_in_tokyo};
use sukusuku_tests::fake_line::FakeLine;
use sukusuku_tests::server::{ACCESS_TOKEN, Resident, Sukusuku, binary};

/// How `{next_date}` writes a day.
fn month_day(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

/// A fresh directory under the system's temp dir for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sukusuku-targeting-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes a catalog and the files beside it; returns the catalog's path.
fn write_catalog(dir: &Path, main: &str, files: &[(&str, &str)]) -> PathBuf {
    std::fs::create_dir_all(dir).expect("catalog dir");
    let path = dir.join("catalog.yaml");
    std::fs::write(&path, main).expect("write catalog");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write steps file");
    }
    path
}

const CATALOG: &str = r#"
categories:
  - {id: checkup, label: 健診, easy_label: けんしん}
  - {id: local, label: 地域のお知らせ}
  - {id: support, label: 支援制度}
  - {id: daily, label: 毎日のひとこと}
settings:
  district:
    label: お住まいの地区
    choices:
      - {id: kita, label: 北地区}
      - {id: minami, label: 南地区}
  household:
    label: 世帯の状況
    choices:
      - {id: single-parent, label: ひとり親家庭}
      - {id: twins, label: 多胎}
  nursery:
    label: 保育所の申込状況
    choices:
      - {id: none, label: 予定なし}
      - {id: planning, label: 申込予定}
milestones:
  - id: checkup-10d
    anchor: birth_date
    at: {days: 10}
    category: checkup
    text: "【生後10日の健診】ご案内です。"
    easy_text: "【うまれて 10にちの けんしん】おしらせです。"
  - id: kita-salon
    anchor: birth_date
    at: {days: 10}
    category: local
    audience: {districts: [kita]}
    text: "【北地区の赤ちゃんサロン】どうぞお越しください。"
  - id: single-parent-allowance
    anchor: birth_date
    at: {days: 10}
    category: support
    audience: {household: [single-parent]}
    text: "【ひとり親家庭の手当】申請できます。"
  - id: hokatsu
    anchor: birth_date
    at: {days: 12}
    category: support
    audience: {nursery: [planning]}
    text: "【保活のご案内】見学の予約を始めましょう。"
  - id: greeting
    anchor: birth_date
    at: {days: 12}
    category: checkup
    text: "【{nickname}は{age}】次のお知らせは{next_date}です。"
  - id: kita-walk
    anchor: birth_date
    at: {days: 14}
    category: local
    audience: {districts: [kita]}
    text: "【北地区のおさんぽ会】"
  - id: one-month
    anchor: birth_date
    at: {months: 1}
    category: checkup
    text: "【1か月児健診】"
  - id: pregnancy-checkup
    anchor: due_date
    at: {weeks: 30}
    category: checkup
    text: "【妊娠30週の健診】"
  - id: pregnancy-hokatsu
    anchor: due_date
    at: {weeks: 30}
    category: support
    audience: {nursery: [planning]}
    text: "【妊娠中からの保活】次のお知らせは{next_date}です。"
  - id: pregnancy-36w
    anchor: due_date
    at: {weeks: 36}
    category: checkup
    text: "【妊娠36週】"
series:
  - id: tips
    anchor: birth_date
    from: {days: 10}
    to: {days: 14}
    every: {days: 2}
    category: daily
    steps_file: tips.yaml
  - id: pregnancy-daily
    anchor: due_date
    from: {weeks: 30}
    to: {weeks: 30, days: 6}
    every: {days: 1}
    category: daily
    text: "【妊娠{gestational_weeks}週{gestational_days}日のひとこと】"
    easy_text: "【にんしん {gestational_weeks}しゅう {gestational_days}にち】"
"#;

const TIPS: &str = r#"
- at: {days: 10}
  text: "【ひとこと10】よく眠れていますか。"
  easy_text: "【ひとこと10】よく ねて いますか。"
- at: {days: 12}
  text: "【ひとこと12】{nickname}の爪を切りましょう。"
- at: {days: 14}
  text: "【ひとこと14】外気浴を始めましょう。"
"#;

/// The postback data of the button labelled `label` anywhere in a message body (Flex rows,
/// footers, quick replies).
fn button_data(v: &Value, label: &str) -> Option<String> {
    match v {
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("postback")
                && o.get("label").and_then(Value::as_str) == Some(label)
            {
                return o.get("data").and_then(Value::as_str).map(str::to_string);
            }
            o.values().find_map(|x| button_data(x, label))
        }
        Value::Array(a) => a.iter().find_map(|x| button_data(x, label)),
        _ => None,
    }
}

/// The body of the last reply LINE accepted.
fn last_reply_body(line: &FakeLine) -> Value {
    line.received()
        .into_iter()
        .rev()
        .find(|r| r.path.ends_with("/reply") && r.status == 200)
        .map(|r| r.body)
        .expect("a reply")
}

/// Opens 受信設定 and taps the row labelled `label` on the cards the chat sent, checking that
/// the button carries `data`. Returns the reply to the tap, in words.
async fn tap(
    server: &Sukusuku,
    line: &FakeLine,
    r: &mut Resident,
    label: &str,
    data: &str,
) -> String {
    assert_eq!(server.webhook(vec![r.postback("v1:settings")]).await, 200);
    let cards = last_reply_body(line);
    let found = button_data(&cards, label)
        .unwrap_or_else(|| panic!("no button `{label}` on the 受信設定 cards: {cards}"));
    assert_eq!(found, data, "the button `{label}`");
    assert_eq!(server.webhook(vec![r.postback(&found)]).await, 200);
    line.replies().last().expect("a reply to the tap").clone()
}

/// Who got what since `since`, by resident name, sorted.
fn got_since(
    line: &FakeLine,
    since: usize,
    names: &HashMap<String, &'static str>,
) -> Vec<(&'static str, String)> {
    let mut got: Vec<(&'static str, String)> = line
        .deliveries()
        .into_iter()
        .skip(since)
        .map(|(user, text)| (*names.get(&user).unwrap_or(&"someone else"), text))
        .collect();
    got.sort();
    got
}

fn expected(list: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> =
        list.iter().map(|(n, t)| (*n, t.to_string())).collect();
    out.sort();
    out
}

/// Runs `day` and returns its report and exactly what was delivered, by name.
async fn run_day(
    server: &Sukusuku,
    line: &FakeLine,
    names: &HashMap<String, &'static str>,
    day: NaiveDate,
) -> (Value, Vec<(&'static str, String)>) {
    let mark = line.deliveries().len();
    let report = server.daily(day).await;
    (report, got_since(line, mark, names))
}

fn sent(report: &Value) -> u64 {
    report["sent"].as_u64().expect("sent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_resident_gets_what_their_settings_ask_for() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let dir = temp_dir("settings");
    let catalog = write_catalog(&dir.join("catalog"), CATALOG, &[("tips.yaml", TIPS)]);
    let server = Sukusuku::start(&line.base_url, &dir.join("data"), &catalog).await;
    let today = today_in_tokyo();

    // Six babies and a pair of twins born three days ago, and two pregnancies that reach
    // 妊娠30週0日 on the day the babies are 10 days old.
    let born = minus(today, 3);
    let day10 = plus(born, 10);
    let due = plus(day10, 70);
    let mut plain = Resident::new(1);
    let mut muted = Resident::new(2);
    let mut kita_easy = Resident::new(3);
    let mut minami_single = Resident::new(4);
    let mut nick = Resident::new(5);
    let mut single_muted = Resident::new(6);
    let mut pregnant_planning = Resident::new(7);
    let mut pregnant_easy = Resident::new(8);
    let mut twins = Resident::new(9);
    let names: HashMap<String, &'static str> = [
        (&plain, "plain"),
        (&muted, "muted"),
        (&kita_easy, "kita_easy"),
        (&minami_single, "minami_single"),
        (&nick, "nick"),
        (&single_muted, "single_muted"),
        (&pregnant_planning, "pregnant_planning"),
        (&pregnant_easy, "pregnant_easy"),
        (&twins, "twins"),
    ]
    .into_iter()
    .map(|(r, name)| (r.user_id.clone(), name))
    .collect();
    for r in [
        &mut plain,
        &mut muted,
        &mut kita_easy,
        &mut minami_single,
        &mut nick,
        &mut single_muted,
    ] {
        let events = vec![r.follow(), r.pick_date("v1:birth", born)];
        assert_eq!(server.webhook(events).await, 200);
    }
    let events = vec![
        twins.follow(),
        twins.pick_date("v1:birth", born),
        twins.pick_date("v1:birth", born),
    ];
    assert_eq!(server.webhook(events).await, 200);
    for r in [&mut pregnant_planning, &mut pregnant_easy] {
        let events = vec![r.follow(), r.pick_date("v1:due", due)];
        assert_eq!(server.webhook(events).await, 200);
    }

    // 受信設定, tapped on the cards as a resident would.
    let reply = tap(
        &server,
        &line,
        &mut muted,
        "毎日のひとこと",
        "v1:cat:daily:off",
    )
    .await;
    assert!(
        reply.contains("「毎日のひとこと」のお知らせを止めました"),
        "{reply}"
    );
    let reply = tap(&server, &line, &mut kita_easy, "北地区", "v1:district:kita").await;
    assert!(
        reply.contains("「お住まいの地区」を「北地区」にしました"),
        "{reply}"
    );
    let reply = tap(
        &server,
        &line,
        &mut kita_easy,
        "やさしい日本語",
        "v1:easy:on",
    )
    .await;
    assert!(reply.contains("やさしい にほんごで"), "{reply}");
    let reply = tap(
        &server,
        &line,
        &mut minami_single,
        "南地区",
        "v1:district:minami",
    )
    .await;
    assert!(reply.contains("「南地区」にしました"), "{reply}");
    let reply = tap(
        &server,
        &line,
        &mut minami_single,
        "ひとり親家庭",
        "v1:household:single-parent:on",
    )
    .await;
    assert!(reply.contains("「ひとり親家庭」を選びました"), "{reply}");
    let reply = tap(
        &server,
        &line,
        &mut minami_single,
        "申込予定",
        "v1:nursery:planning",
    )
    .await;
    assert!(
        reply.contains("「保育所の申込状況」を「申込予定」にしました"),
        "{reply}"
    );
    tap(
        &server,
        &line,
        &mut single_muted,
        "ひとり親家庭",
        "v1:household:single-parent:on",
    )
    .await;
    let reply = tap(
        &server,
        &line,
        &mut single_muted,
        "支援制度",
        "v1:cat:support:off",
    )
    .await;
    assert!(
        reply.contains("「支援制度」のお知らせを止めました"),
        "{reply}"
    );
    tap(
        &server,
        &line,
        &mut pregnant_planning,
        "申込予定",
        "v1:nursery:planning",
    )
    .await;
    tap(
        &server,
        &line,
        &mut pregnant_easy,
        "予定なし",
        "v1:nursery:none",
    )
    .await;
    tap(
        &server,
        &line,
        &mut pregnant_easy,
        "やさしい日本語",
        "v1:easy:on",
    )
    .await;
    // The nickname: the button asks, the next text message is the answer. The twins'
    // parent names only the first twin.
    for r in [&mut nick, &mut twins] {
        assert_eq!(server.webhook(vec![r.postback("v1:nick:c1")]).await, 200);
        let asked = line.replies().last().expect("asked").clone();
        assert!(
            asked.contains("ニックネームを、このトークに送ってください"),
            "{asked}"
        );
        assert_eq!(server.webhook(vec![r.text("はるちゃん")]).await, 200);
        let answered = line.replies().last().expect("answered").clone();
        assert!(
            answered.contains("「はるちゃん」で登録しました"),
            "{answered}"
        );
    }

    // Day 10: the checkup for every baby whose resident receives 健診 (in やさしい日本語 for
    // the one who asked), the 北地区 salon only in 北地区, the ひとり親 allowance only for the
    // ひとり親 household that still receives 支援制度, the daily tip for all but the one who
    // turned it off; the pregnancies' 30-week notices and the first step of their series.
    let checkup = "【生後10日の健診】ご案内です。";
    let tip10 = "【ひとこと10】よく眠れていますか。";
    let pregnancy_hokatsu = format!(
        "【妊娠中からの保活】次のお知らせは{}です。",
        month_day(plus(day10, 42))
    );
    let (report, got) = run_day(&server, &line, &names, day10).await;
    assert_eq!(
        got,
        expected(&[
            ("plain", checkup),
            ("plain", tip10),
            ("muted", checkup),
            ("kita_easy", "【うまれて 10にちの けんしん】おしらせです。"),
            (
                "kita_easy",
                "【北地区の赤ちゃんサロン】どうぞお越しください。"
            ),
            ("kita_easy", "【ひとこと10】よく ねて いますか。"),
            ("minami_single", checkup),
            ("minami_single", "【ひとり親家庭の手当】申請できます。"),
            ("minami_single", tip10),
            ("nick", checkup),
            ("nick", tip10),
            ("single_muted", checkup),
            ("single_muted", tip10),
            // One message for both twins where the text is the same.
            ("twins", checkup),
            ("twins", tip10),
            ("pregnant_planning", "【妊娠30週の健診】"),
            ("pregnant_planning", &pregnancy_hokatsu),
            ("pregnant_planning", "【妊娠30週0日のひとこと】"),
            ("pregnant_easy", "【妊娠30週の健診】"),
            ("pregnant_easy", "【にんしん 30しゅう 0にち】"),
        ]),
        "{report}"
    );
    // 8 babies × (3 milestones + a step) + 2 pregnancies × (2 milestones + a step) were due;
    // 16 of them not for the resident's settings.
    assert_eq!(report["due"], 38, "{report}");
    assert_eq!(report["not_targeted"], 16, "{report}");
    assert_eq!(sent(&report), 20, "{report}");

    // Day 11: only the pregnancies' daily series.
    let (_, got) = run_day(&server, &line, &names, plus(born, 11)).await;
    assert_eq!(
        got,
        expected(&[
            ("pregnant_planning", "【妊娠30週1日のひとこと】"),
            ("pregnant_easy", "【にんしん 30しゅう 1にち】"),
        ])
    );

    // Day 12: the greeting calls each baby by its nickname (or お子さん) and age, and names
    // the next notice this resident will get: 北地区's walk on day 14, the one-month checkup
    // for the others. The 保活 notice reaches only 申込予定.
    let one_month = month_day(shared::dates::add_months(born, 1).expect("one month"));
    let greeting = format!("【お子さんは生後12日】次のお知らせは{one_month}です。");
    let tip12 = "【ひとこと12】お子さんの爪を切りましょう。";
    let day12 = plus(born, 12);
    let (report, got) = run_day(&server, &line, &names, day12).await;
    assert_eq!(
        got,
        expected(&[
            ("plain", &greeting),
            ("plain", tip12),
            ("muted", &greeting),
            (
                "kita_easy",
                &format!(
                    "【お子さんは生後12日】次のお知らせは{}です。",
                    month_day(plus(born, 14))
                )
            ),
            ("kita_easy", tip12),
            (
                "minami_single",
                "【保活のご案内】見学の予約を始めましょう。"
            ),
            ("minami_single", &greeting),
            ("minami_single", tip12),
            (
                "nick",
                &format!("【はるちゃんは生後12日】次のお知らせは{one_month}です。")
            ),
            ("nick", "【ひとこと12】はるちゃんの爪を切りましょう。"),
            ("single_muted", &greeting),
            ("single_muted", tip12),
            // Each twin by its own name.
            (
                "twins",
                &format!("【はるちゃんは生後12日】次のお知らせは{one_month}です。")
            ),
            ("twins", &greeting),
            ("twins", "【ひとこと12】はるちゃんの爪を切りましょう。"),
            ("twins", tip12),
            ("pregnant_planning", "【妊娠30週2日のひとこと】"),
            ("pregnant_easy", "【にんしん 30しゅう 2にち】"),
        ]),
        "{report}"
    );
    // The same day again sends nothing twice.
    let (report, got) = run_day(&server, &line, &names, day12).await;
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(sent(&report), 0, "{report}");
    assert_eq!(report["already_delivered"], 18, "{report}");
    // So does day 10 again.
    let (report, got) = run_day(&server, &line, &names, day10).await;
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(sent(&report), 0, "{report}");

    // Between two days, three residents change their minds: `plain` now answers 北地区,
    // `kita_easy` takes its answer back (on the cards in やさしい日本語), and `muted` turns
    // every category back on. Day 14 follows the new settings.
    let reply = tap(&server, &line, &mut plain, "北地区", "v1:district:kita").await;
    assert!(reply.contains("「北地区」にしました"), "{reply}");
    let reply = tap(
        &server,
        &line,
        &mut kita_easy,
        "こたえを けす",
        "v1:district:-",
    )
    .await;
    assert!(
        reply.contains("「お住まいの地区」の こたえを けしました"),
        "{reply}"
    );
    let reply = tap(&server, &line, &mut muted, "すべて受け取る", "v1:cat-all").await;
    assert!(
        reply.contains("すべての種類のお知らせを受け取ります"),
        "{reply}"
    );
    // A restart in between: the settings, the nickname and the delivery records are read
    // back from the journal under --data.
    server.stop();
    let server = Sukusuku::start(&line.base_url, &dir.join("data"), &catalog).await;
    let tip14 = "【ひとこと14】外気浴を始めましょう。";
    let walk = "【北地区のおさんぽ会】";
    let (_, got) = run_day(&server, &line, &names, plus(born, 14)).await;
    assert_eq!(
        got,
        expected(&[
            ("plain", walk),
            ("plain", tip14),
            ("muted", tip14),
            ("kita_easy", tip14),
            ("minami_single", tip14),
            ("nick", tip14),
            ("single_muted", tip14),
            ("twins", tip14),
            ("pregnant_planning", "【妊娠30週4日のひとこと】"),
            ("pregnant_easy", "【にんしん 30しゅう 4にち】"),
        ])
    );

    // Going back to day 12 sends nothing: its milestones were delivered, and a series never
    // goes back to an earlier step.
    let (report, got) = run_day(&server, &line, &names, day12).await;
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(sent(&report), 0, "{report}");

    assert_eq!(
        line.violations(),
        Vec::<String>::new(),
        "every LINE request met the spec"
    );
    let log = server.stop();
    assert!(!log.contains("panicked"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A text of `units` UTF-16 units: `emoji` characters outside the BMP (two units each), the
/// rest in one-unit kana.
fn text_of(units: usize, emoji: usize) -> String {
    format!("{}{}", "😀".repeat(emoji), "あ".repeat(units - 2 * emoji))
}

/// A catalog (and its steps file) with texts exactly at LINE's 5,000 UTF-16 units once each
/// placeholder is filled in at its longest (20 characters outside the BMP: 40 units), or
/// `extra` units over that.
fn limit_catalog(extra: usize) -> (String, String) {
    const LIMIT: usize = 5000;
    let two_nicknames = format!(
        "{{nickname}}{}{{nickname}}",
        text_of(LIMIT - 80 + extra, 100)
    );
    let easy = format!("{{nickname}}{}", text_of(LIMIT - 40 + extra, 0));
    let series = format!("{{nickname}}{{age}}{}", text_of(LIMIT - 80 + extra, 0));
    let plain = text_of(LIMIT + extra, 2500);
    let step = format!("{{nickname}}{}", text_of(LIMIT - 40 + extra, 10));
    let steps = format!("- at: {{days: 11}}\n  text: \"{step}\"\n");
    let main = format!(
        r#"
categories:
  - {{id: daily, label: 毎日のひとこと}}
milestones:
  - id: long
    anchor: birth_date
    at: {{days: 10}}
    category: daily
    text: "{two_nicknames}"
    easy_text: "{easy}"
  - id: plain
    anchor: birth_date
    at: {{days: 11}}
    category: daily
    text: "{plain}"
series:
  - id: long-series
    anchor: birth_date
    from: {{days: 10}}
    to: {{days: 10}}
    every: {{days: 1}}
    category: daily
    text: "{series}"
  - id: long-steps
    anchor: birth_date
    from: {{days: 11}}
    to: {{days: 11}}
    every: {{days: 1}}
    category: daily
    steps_file: long-steps.yaml
"#
    );
    (main, steps)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_at_lines_limit_never_go_over_it_once_filled_in() {
    let dir = temp_dir("limit");
    // One unit more anywhere, and the catalog check refuses it, naming each text.
    let (main, steps) = limit_catalog(1);
    let over = write_catalog(&dir.join("over"), &main, &[("long-steps.yaml", &steps)]);
    let out = Command::new(binary())
        .args(["catalog", "check"])
        .arg(&over)
        .output()
        .expect("run catalog check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted: {stderr}");
    for field in [
        "milestones[0] (long), field `text`",
        "milestones[0] (long), field `easy_text`",
        "milestones[1] (plain), field `text`",
        "series[0] (long-series), field `text`",
        "long-steps.yaml",
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(field) && l.contains("5001 UTF-16 units")),
            "{field}: {stderr}"
        );
    }

    // Exactly at the limit it is accepted, and what it sends stays within it even for a
    // child whose nickname is 20 emoji (40 units).
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let (main, steps) = limit_catalog(0);
    let at_limit = write_catalog(&dir.join("ok"), &main, &[("long-steps.yaml", &steps)]);
    let server = Sukusuku::start(&line.base_url, &dir.join("data"), &at_limit).await;
    let born = minus(today_in_tokyo(), 1);
    let emoji_name = "👶".repeat(20);
    let mut a = Resident::new(1);
    let mut b = Resident::new(2);
    for r in [&mut a, &mut b] {
        let events = vec![r.follow(), r.pick_date("v1:birth", born)];
        assert_eq!(server.webhook(events).await, 200);
        assert_eq!(server.webhook(vec![r.postback("v1:nick:c1")]).await, 200);
        // 21 characters are refused; 20 are taken.
        let too_long = "👶".repeat(21);
        assert_eq!(server.webhook(vec![r.text(&too_long)]).await, 200);
        let refused = line.replies().last().expect("refused").clone();
        assert!(refused.contains("20文字まで"), "{refused}");
        assert_eq!(server.webhook(vec![r.text(&emoji_name)]).await, 200);
    }
    assert_eq!(server.webhook(vec![b.postback("v1:easy:on")]).await, 200);
    let report = server.daily(plus(born, 10)).await;
    assert_eq!(sent(&report), 4, "{report}");
    let report = server.daily(plus(born, 11)).await;
    assert_eq!(sent(&report), 4, "{report}");
    let deliveries = line.deliveries();
    assert_eq!(deliveries.len(), 8, "every message was accepted");
    let mut units: Vec<usize> = deliveries
        .iter()
        .map(|(_, text)| text.encode_utf16().count())
        .collect();
    units.sort();
    // The series step's {age} (生後10日) is shorter than its budget; the rest is exact.
    assert_eq!(units, vec![4965, 4965, 5000, 5000, 5000, 5000, 5000, 5000]);
    assert!(
        deliveries
            .iter()
            .any(|(user, text)| *user == a.user_id && text.starts_with(&emoji_name)),
        "the nickname is filled in"
    );
    assert_eq!(line.violations(), Vec::<String>::new());
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The largest 受信設定 the catalog check accepts: 30 categories and 20 choices for each
/// question, every label 20 characters (of four-byte UTF-8, the most bytes a label can be).
fn largest_catalog() -> String {
    use shared::catalog::{MAX_CATEGORIES, MAX_CHOICES};
    let label = |i: usize| format!("{i:02}{}", "𠮷".repeat(18));
    let easy = |i: usize| format!("{i:02}{}", "な".repeat(18));
    let choices = |prefix: &str| -> String {
        (0..MAX_CHOICES)
            .map(|i| {
                format!(
                    "      - {{id: {prefix}-{i}, label: {}, easy_label: {}}}\n",
                    label(i),
                    easy(i)
                )
            })
            .collect()
    };
    let question = |name: &str, prefix: &str, i: usize| {
        format!(
            "  {name}:\n    label: {}\n    easy_label: {}\n    choices:\n{}",
            label(i),
            easy(i),
            choices(prefix)
        )
    };
    format!(
        "categories:\n{}settings:\n{}{}{}milestones:\n  - {{id: m, anchor: birth_date, at: {{days: 10}}, category: c-0, text: 【十日目】}}\n",
        (0..MAX_CATEGORIES)
            .map(|i| format!(
                "  - {{id: c-{i}, label: {}, easy_label: {}}}\n",
                label(i),
                easy(i)
            ))
            .collect::<String>(),
        question("district", "d", 0),
        question("household", "h", 1),
        question("nursery", "n", 2),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_settings_reply_fits_lines_limits_with_the_largest_catalog() {
    use shared::catalog::{MAX_CATEGORIES, MAX_CHOICES};
    let dir = temp_dir("largest");
    let catalog = write_catalog(&dir.join("catalog"), &largest_catalog(), &[]);
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let server = Sukusuku::start(&line.base_url, &dir.join("data"), &catalog).await;
    let born = minus(today_in_tokyo(), 1);
    let mut r = Resident::new(1);
    let events = vec![r.follow(), r.pick_date("v1:birth", born)];
    assert_eq!(server.webhook(events).await, 200);

    // Every tap the cards offer, in both registers: each category off (then on again), each
    // district and nursery answer, each household choice on (then off again), and the
    // language.
    let mut taps = 0;
    for (easy, on, off) in [(false, "off", "on"), (true, "on", "off")] {
        assert_eq!(server.webhook(vec![r.postback("v1:settings")]).await, 200);
        let cards = last_reply_body(&line);
        let mut data: Vec<String> = (0..MAX_CATEGORIES)
            .map(|i| format!("v1:cat:c-{i}:{on}"))
            .collect();
        data.extend((0..MAX_CHOICES).map(|i| format!("v1:district:d-{i}")));
        data.extend((0..MAX_CHOICES).map(|i| format!("v1:household:h-{i}:{off}")));
        data.extend((0..MAX_CHOICES).map(|i| format!("v1:nursery:n-{i}")));
        data.push(format!("v1:easy:{}", if easy { "off" } else { "on" }));
        // An answer is taken back from the card that shows it.
        for (answer, clear) in [
            ("v1:district:d-0", "v1:district:-"),
            ("v1:nursery:n-0", "v1:nursery:-"),
        ] {
            assert_eq!(server.webhook(vec![r.postback(answer)]).await, 200);
            let card = last_reply_body(&line).to_string();
            assert!(
                card.contains(&format!("\"{clear}\"")),
                "no {clear} on {card}"
            );
            assert_eq!(server.webhook(vec![r.postback(clear)]).await, 200);
            taps += 2;
        }
        let text = cards.to_string();
        for d in &data {
            assert!(
                text.contains(&format!("\"{d}\"")),
                "no button {d} on the cards"
            );
            assert_eq!(server.webhook(vec![r.postback(d)]).await, 200, "{d}");
            taps += 1;
        }
        // Back to the register of this round for the next (the language tap switched it).
        if !easy {
            let replies = line.replies();
            let last = replies.last().expect("reply");
            assert!(last.contains("やさしい にほんご"), "{last}");
        }
    }
    assert_eq!(server.webhook(vec![r.postback("v1:settings")]).await, 200);
    // Each event got its reply, and LINE accepted every one.
    let replies: Vec<_> = line
        .received()
        .into_iter()
        .filter(|x| x.path.ends_with("/reply"))
        .collect();
    assert_eq!(replies.len(), 2 + taps + 3, "one reply per event");
    assert!(replies.iter().all(|x| x.status == 200));
    assert_eq!(line.violations(), Vec::<String>::new());

    // What the taps left stored is what the daily run obeys: every category is on again, so
    // the milestone of c-0 arrives.
    let report = server.daily(plus(born, 10)).await;
    assert_eq!(sent(&report), 1, "{report}");
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
