//! 受信設定 end to end over loopback: residents of the real `sukusuku serve` set their
//! categories, 地区, 世帯の状況, 保育所 and language by tapping the chat's buttons (the
//! postbacks LINE would send), one types a ニックネーム; then a day is run and the fake LINE
//! API shows exactly who got what — the audience milestones only where the answers match,
//! placeholders filled in, a series step on its cadence, and a changed setting the next day.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use sukusuku_tests::days::date;
use sukusuku_tests::fake_line::FakeLine;
use sukusuku_tests::server::{ACCESS_TOKEN, Resident, Sukusuku};

const CATALOG: &str = r#"
categories:
  - {id: health, label: 健診, easy_label: けんしん}
  - {id: events, label: イベント}
  - {id: nursery, label: 保育所}
  - {id: daily, label: 毎日のひとこと}
settings:
  district:
    label: お住まいの地区
    choices:
      - {id: north, label: 北地区}
      - {id: south, label: 南地区}
  household:
    label: 世帯の状況
    choices:
      - {id: twins, label: 多胎}
      - {id: single, label: ひとり親}
  nursery:
    label: 保育所の申込状況
    choices:
      - {id: none, label: 予定なし}
      - {id: planning, label: 申込予定}
milestones:
  - id: checkup-1m
    anchor: birth_date
    at: {months: 1}
    category: health
    text: "{nickname}の1か月児健診（{age}）。次のお知らせは{next_date}です。"
    easy_text: "{nickname}の けんしん です。"
  - id: event-1m
    anchor: birth_date
    at: {months: 1}
    category: events
    text: "親子イベントのご案内"
  - id: north-1m
    anchor: birth_date
    at: {months: 1}
    category: health
    audience: {districts: [north]}
    text: "北地区の健康相談のご案内"
  - id: twins-1m
    anchor: birth_date
    at: {months: 1}
    category: health
    audience: {household: [twins]}
    text: "多胎児の家族の集いのご案内"
  - id: hokatsu-1m
    anchor: birth_date
    at: {months: 1}
    category: nursery
    audience: {nursery: [planning]}
    text: "保育所の申込み（保活）のご案内"
  - id: checkup-4m
    anchor: birth_date
    at: {months: 4}
    category: health
    text: "4か月児健診のご案内"
series:
  - id: newborn
    anchor: birth_date
    from: {days: 28}
    to: {days: 40}
    every: {days: 3}
    category: daily
    steps_file: newborn.yaml
"#;

const STEPS: &str = r#"
- {at: {days: 28}, text: "生後{days_old}日：4週間になりました"}
- {at: {days: 31}, text: "生後{days_old}日：外気浴をはじめましょう", easy_text: "うまれて {days_old}にち：そとの くうきに ふれましょう"}
- {at: {days: 34}, text: "生後{days_old}日：授乳の間隔"}
- {at: {days: 37}, text: "生後{days_old}日：泣きやまないとき"}
- {at: {days: 40}, text: "生後{days_old}日：予防接種の予定"}
"#;

/// The catalog and its steps file in a fresh directory.
fn catalog_dir(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("sukusuku-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("catalog dir");
    std::fs::write(dir.join("catalog.yaml"), CATALOG).expect("catalog");
    std::fs::write(dir.join("newborn.yaml"), STEPS).expect("steps");
    (dir.join("catalog.yaml"), dir.join("data"))
}

/// What each user was sent since `since`, as sets of texts.
fn sent(line: &FakeLine, since: usize) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (user, text) in line.deliveries().into_iter().skip(since) {
        out.entry(user).or_default().insert(text);
    }
    out
}

fn set(texts: &[&str]) -> BTreeSet<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn residents_with_different_settings_get_different_notices_on_the_same_day() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let (catalog, data) = catalog_dir("targeting");
    let server = Sukusuku::start(&line.base_url, &data, &catalog).await;
    let born = date("2026-01-15");
    let one_month = date("2026-02-15"); // 生後31日: the 1-month milestones and a series step

    // A answers nothing; B turns events off, lives in the north and names the child;
    // C is a twins family planning to apply for nursery, reading やさしい日本語; D lives in
    // the south and turns health and the daily notes off.
    let mut a = Resident::new(1);
    let mut b = Resident::new(2);
    let mut c = Resident::new(3);
    let mut d = Resident::new(4);
    let taps: [(&mut Resident, &[&str]); 4] = [
        (&mut a, &[]),
        (
            &mut b,
            &["v1:cat:events:off", "v1:district:north", "v1:nick:c1"],
        ),
        (
            &mut c,
            &["v1:household:twins:on", "v1:nursery:planning", "v1:easy:on"],
        ),
        (
            &mut d,
            &["v1:cat:health:off", "v1:cat:daily:off", "v1:district:south"],
        ),
    ];
    for (r, postbacks) in taps {
        assert_eq!(server.webhook(vec![r.follow()]).await, 200);
        assert_eq!(
            server.webhook(vec![r.pick_date("v1:birth", born)]).await,
            200
        );
        for data in postbacks {
            assert_eq!(server.webhook(vec![r.postback(data)]).await, 200, "{data}");
        }
    }
    // B was asked for the nickname; the next text message is the answer.
    assert_eq!(server.webhook(vec![b.text("はるちゃん")]).await, 200);
    let replies = line.replies();
    assert!(
        replies
            .iter()
            .any(|r| r.contains("ニックネームを「はるちゃん」で登録しました")),
        "{replies:?}"
    );
    assert!(
        replies
            .iter()
            .any(|r| r.contains("「イベント」のお知らせを止めました")),
        "each tap is confirmed: {replies:?}"
    );

    let mark = line.deliveries().len();
    let report = server.daily(one_month).await;
    assert_eq!(report["not_targeted"].as_u64(), Some(12), "{report}");
    let got = sent(&line, mark);
    let step = "生後31日：外気浴をはじめましょう";
    assert_eq!(
        got.get(&a.user_id),
        Some(&set(&[
            "お子さんの1か月児健診（生後1か月）。次のお知らせは5月15日です。",
            "親子イベントのご案内",
            step,
        ])),
        "A, who answered nothing, gets what is meant for everyone"
    );
    assert_eq!(
        got.get(&b.user_id),
        Some(&set(&[
            "はるちゃんの1か月児健診（生後1か月）。次のお知らせは5月15日です。",
            "北地区の健康相談のご案内",
            step,
        ])),
        "B: no events, the north's notice, the child by name"
    );
    assert_eq!(
        got.get(&c.user_id),
        Some(&set(&[
            "こどもの けんしん です。",
            "親子イベントのご案内",
            "多胎児の家族の集いのご案内",
            "保育所の申込み（保活）のご案内",
            "うまれて 31にち：そとの くうきに ふれましょう",
        ])),
        "C: twins and nursery notices, easy texts where they exist"
    );
    assert_eq!(
        got.get(&d.user_id),
        Some(&set(&["親子イベントのご案内"])),
        "D: health and the daily notes are off; the north's notice is not for the south"
    );

    // Notices carry buttons in each reader's register.
    let labels_for = |user: &str| -> BTreeSet<String> {
        line.received()
            .iter()
            .filter(|x| x.status == 200 && !x.path.ends_with("/reply"))
            .filter(|x| {
                x.body["to"] == user
                    || x.body["to"]
                        .as_array()
                        .is_some_and(|to| to.iter().any(|u| u == user))
            })
            .flat_map(|x| x.body["messages"].as_array().cloned().unwrap_or_default())
            .flat_map(|m| {
                m["quickReply"]["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|i| i["action"]["label"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        labels_for(&c.user_id),
        set(&[
            "とうろくを みる",
            "受信設定（じゅしんせってい）",
            "配信停止（おしらせを とめる）"
        ])
    );
    assert_eq!(
        labels_for(&a.user_id),
        set(&["登録内容を見る", "受信設定", "配信停止"])
    );

    // The same day again sends nothing twice.
    let mark = line.deliveries().len();
    let again = server.daily(one_month).await;
    assert_eq!(again["enqueued"].as_u64(), Some(0), "{again}");
    assert!(sent(&line, mark).is_empty());

    // Settings changed between two days take effect on the next: B turns the daily notes
    // off, D turns them back on. 生後34日 is the next step.
    for (r, data) in [(&mut b, "v1:cat:daily:off"), (&mut d, "v1:cat:daily:on")] {
        assert_eq!(server.webhook(vec![r.postback(data)]).await, 200);
    }
    let mark = line.deliveries().len();
    server.daily(date("2026-02-18")).await;
    let got = sent(&line, mark);
    let step = set(&["生後34日：授乳の間隔"]);
    assert_eq!(got.get(&a.user_id), Some(&step));
    assert_eq!(got.get(&b.user_id), None, "B turned the daily notes off");
    assert_eq!(
        got.get(&c.user_id),
        Some(&step),
        "no easy text for this step: the plain one"
    );
    assert_eq!(got.get(&d.user_id), Some(&step), "D turned them back on");
    // A day between steps sends none.
    let mark = line.deliveries().len();
    server.daily(date("2026-02-19")).await;
    assert!(sent(&line, mark).is_empty());

    assert_eq!(
        line.violations(),
        Vec::<String>::new(),
        "every request met the spec"
    );
    let log = server.stop();
    for r in [&a, &b, &c, &d] {
        assert!(!log.contains(&r.user_id), "no user id in the log");
    }
    assert!(!log.contains("はるちゃん"), "no nickname in the log");
    let _ = std::fs::remove_dir_all(catalog.parent().expect("dir"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_cards_and_every_tap_pass_lines_spec_checks() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let (catalog, data) = catalog_dir("cards");
    let server = Sukusuku::start(&line.base_url, &data, &catalog).await;
    let mut r = Resident::new(7);
    let mut events = vec![r.follow(), r.postback("v1:settings")];
    for data in [
        "v1:cat:health:off",
        "v1:cat:health:on",
        "v1:cat-all",
        "v1:district:north",
        "v1:district:-",
        "v1:household:single:on",
        "v1:nursery:none",
        "v1:easy:on",
        "v1:settings",
        "v1:cat:unknown:off",
        "v1:easy:off",
    ] {
        events.push(r.postback(data));
    }
    for e in events {
        assert_eq!(server.webhook(vec![e]).await, 200);
    }
    let replies = line.received();
    let flex = replies
        .iter()
        .filter(|x| x.path.ends_with("/reply"))
        .flat_map(|x| x.body["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["type"] == "flex")
        .count();
    assert!(flex >= 12, "the cards went out as Flex messages ({flex})");
    let replies = line.replies();
    assert!(
        replies
            .iter()
            .any(|t| t.contains("その こたえは いまは えらべません")),
        "the unknown category was answered (in やさしい日本語) with the settings as they are"
    );
    // Every tap was saved: the last cards (after switching back to ふつう) show the answers
    // it left, and the unknown category changed nothing.
    let last = replies.last().cloned().unwrap_or_default();
    for answer in [
        "受け取るお知らせ：4種類中4種類を受け取っています",
        "お住まいの地区：未回答",
        "世帯の状況：ひとり親",
        "保育所の申込状況：予定なし",
        "お知らせの日本語：ふつうの日本語",
    ] {
        assert!(last.contains(answer), "`{answer}` in {last}");
    }
    assert_eq!(line.violations(), Vec::<String>::new());
    server.stop();
    let _ = std::fs::remove_dir_all(catalog.parent().expect("dir"));
}
