//! End to end over loopback: the real `sukusuku serve` binary receives signed LINE webhooks,
//! stores registrations under `--data`, runs days with `/dev/daily`, and talks to a fake LINE
//! API that rejects anything the spec does not allow.

use sukusuku_tests::days::{date, minus, plus, today_in_tokyo};
use sukusuku_tests::fake_line::FakeLine;
use sukusuku_tests::server::{ACCESS_TOKEN, Resident, Sukusuku, callback, example_catalog, sign};

fn data_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sukusuku-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Messages delivered since `since` (index into the fake's delivery list), as (user, text).
fn delivered_since(line: &FakeLine, since: usize) -> Vec<(String, String)> {
    line.deliveries().into_iter().skip(since).collect()
}

fn sent_and_enqueued(report: &serde_json::Value) -> (u64, u64) {
    (
        report["enqueued"].as_u64().expect("enqueued"),
        report["sent"].as_u64().expect("sent"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn residents_register_in_line_and_get_each_milestone_on_its_day() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let dir = data_dir("journey");
    let server = Sukusuku::start(&line.base_url, &dir, &example_catalog()).await;
    let today = today_in_tokyo();

    // A: pregnant, due in 200 days.
    let mut a = Resident::new(1);
    assert_eq!(server.webhook(vec![a.follow()]).await, 200);
    assert!(
        line.replies()
            .last()
            .expect("greeting")
            .contains("友だち追加ありがとうございます")
    );
    let due = plus(today, 200);
    assert_eq!(server.webhook(vec![a.pick_date("v1:due", due)]).await, 200);
    let confirmation = line.replies().last().expect("confirmation").clone();
    assert!(confirmation.contains("で登録しました"), "{confirmation}");
    assert!(confirmation.contains("今日は妊娠11週3日"), "{confirmation}");

    // B: a baby born five days ago. C and D: born on Jan 28 and 31, 2025 (one month on
    // Feb 28). E: born on Feb 29, 2024 (first birthday on Feb 28, 2025).
    let mut b = Resident::new(2);
    let mut c = Resident::new(3);
    let mut d = Resident::new(4);
    let mut e = Resident::new(5);
    let born_b = minus(today, 5);
    let events = vec![
        b.pick_date("v1:birth", born_b),
        c.pick_date("v1:birth", date("2025-01-31")),
        d.pick_date("v1:birth", date("2025-01-28")),
        e.pick_date("v1:birth", date("2024-02-29")),
    ];
    assert_eq!(server.webhook(events).await, 200);
    assert!(
        line.replies()
            .iter()
            .any(|r| r.contains("今日で生後5日です"))
    );

    // Feb 28, 2025: month-end clamping and the leap-day birthday on one day. C is also
    // 28 days old: the weekly series' step, its placeholders filled in.
    let mark = line.deliveries().len();
    let report = server.daily(date("2025-02-28")).await;
    assert_eq!(sent_and_enqueued(&report), (4, 4), "{report}");
    assert_eq!(report["date"], "2025-02-28");
    assert_eq!(report["jobs"], 3, "{report}");
    let mut got = delivered_since(&line, mark);
    got.sort();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].0, c.user_id);
    assert!(got[0].1.starts_with("【1か月児健診】"), "{}", got[0].1);
    assert_eq!(got[1].0, c.user_id);
    assert!(
        got[1].1.starts_with("【お子さんは今日で生後28日】"),
        "{}",
        got[1].1
    );
    assert_eq!(got[2].0, d.user_id);
    assert!(got[2].1.starts_with("【1か月児健診】"));
    assert_eq!(got[3].0, e.user_id);
    assert!(
        got[3]
            .1
            .starts_with("【1歳のお誕生日おめでとうございます】")
    );
    let multicast = line
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/multicast"))
        .count();
    assert_eq!(multicast, 1, "C and D share one multicast");

    // The same day again sends nothing.
    let mark = line.deliveries().len();
    assert_eq!(
        sent_and_enqueued(&server.daily(date("2025-02-28")).await),
        (0, 0)
    );
    assert!(delivered_since(&line, mark).is_empty());
    // The day before and after: nobody.
    assert_eq!(
        sent_and_enqueued(&server.daily(date("2025-02-27")).await).1,
        0
    );
    assert_eq!(
        sent_and_enqueued(&server.daily(date("2025-03-01")).await).1,
        0
    );

    // A's 妊婦歯科健診 at 24w0d: 112 days before the due date, with the weekly series'
    // step for 妊娠24週 (a milestone first, in catalog order).
    let mark = line.deliveries().len();
    let report = server.daily(minus(due, 112)).await;
    assert_eq!(sent_and_enqueued(&report), (2, 2), "{report}");
    let got = delivered_since(&line, mark);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|(user, _)| *user == a.user_id));
    assert!(
        got[0].1.starts_with("【妊娠7か月：妊婦歯科健診】"),
        "{}",
        got[0].1
    );
    assert!(
        got[1].1.starts_with("【妊娠24週：妊娠7か月】"),
        "{}",
        got[1].1
    );

    // B's 1週間誕生日, with LINE failing once: retried with the same retry key, sent once.
    line.fail_next_sends(&[500]);
    let mark = line.deliveries().len();
    let sends_before = line.received().len();
    let report = server.daily(plus(born_b, 7)).await;
    assert_eq!(sent_and_enqueued(&report), (1, 1), "{report}");
    assert_eq!(report["retries"], 1);
    let got = delivered_since(&line, mark);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, b.user_id);
    assert!(got[0].1.starts_with("【1週間誕生日おめでとうございます】"));
    let attempts: Vec<_> = line.received().into_iter().skip(sends_before).collect();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].status, 500);
    assert_eq!(
        attempts[0].retry_key, attempts[1].retry_key,
        "the retry reuses the key"
    );

    // Restart: registrations survive in --data.
    server.stop();
    let server = Sukusuku::start(&line.base_url, &dir, &example_catalog()).await;
    assert_eq!(server.webhook(vec![a.text("登録内容")]).await, 200);
    let shown = line.replies().last().expect("登録内容").clone();
    assert!(shown.contains("出産予定日："), "{shown}");
    let mark = line.deliveries().len();
    // 妊娠6か月 at 20w0d: 140 days before the due date. The weekly series' step for 20w is
    // not sent: a later step (24w, above) was, and a series never goes back.
    assert_eq!(
        sent_and_enqueued(&server.daily(minus(due, 140)).await),
        (1, 1)
    );
    let got = delivered_since(&line, mark);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, a.user_id);
    assert!(got[0].1.starts_with("【妊娠6か月"), "{}", got[0].1);
    // The day already served before the restart stays served.
    assert_eq!(
        sent_and_enqueued(&server.daily(date("2025-02-28")).await),
        (0, 0)
    );

    // A stops in three steps, starting from the 配信停止 button on the notice just received;
    // B blocks the account. Neither hears from us again.
    let notice = line
        .received()
        .into_iter()
        .rev()
        .find(|r| r.path.ends_with("/push") && r.status == 200)
        .expect("A's last notice");
    let buttons = notice.body["messages"][0]["quickReply"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let stop = buttons
        .iter()
        .find(|item| item["action"]["label"] == "配信停止")
        .expect("notices carry a 配信停止 button");
    let stop_data = stop["action"]["data"]
        .as_str()
        .expect("postback data")
        .to_string();
    assert!(
        buttons
            .iter()
            .any(|item| item["action"]["label"] == "登録内容を見る")
    );
    assert_eq!(server.webhook(vec![a.postback(&stop_data)]).await, 200);
    assert!(
        line.replies()
            .last()
            .expect("confirm")
            .contains("配信を停止しますか？")
    );
    assert_eq!(server.webhook(vec![a.postback("v1:stop-ok")]).await, 200);
    assert!(
        line.replies()
            .last()
            .expect("done")
            .contains("登録情報をすべて削除しました")
    );
    assert_eq!(server.webhook(vec![b.unfollow()]).await, 200);
    let mark = line.deliveries().len();
    // A's 妊娠8か月 (28w) and B's 2-week milestone. C, D or E may be due on one of these
    // days too (it depends on today's date), so count what reaches A and B.
    server.daily(minus(due, 84)).await;
    server.daily(plus(born_b, 14)).await;
    let gone = [a.user_id.clone(), b.user_id.clone()];
    let to_gone: Vec<(String, String)> = delivered_since(&line, mark)
        .into_iter()
        .filter(|(user, _)| gone.contains(user))
        .collect();
    assert!(
        to_gone.is_empty(),
        "sent after a stop or a block: {to_gone:?}"
    );

    assert_eq!(
        line.violations(),
        Vec::<String>::new(),
        "every LINE request met the spec"
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_change_nothing() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let dir = data_dir("bad");
    let server = Sukusuku::start(&line.base_url, &dir, &example_catalog()).await;
    let mut r = Resident::new(9);
    let body = callback(vec![r.pick_date("v1:birth", date("2025-05-05"))]);

    let forged = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    };
    assert_eq!(server.webhook_raw(body.clone(), None).await.0, 401);
    assert_eq!(server.webhook_raw(body.clone(), Some(forged)).await.0, 401);
    let (status, text) = server
        .webhook_raw(b"{not json".to_vec(), Some(sign(b"{not json")))
        .await;
    assert_eq!(status, 400, "{text}");
    let big = vec![b' '; 1024 * 1024 + 1];
    let sig = sign(&big);
    assert_eq!(server.webhook_raw(big, Some(sig)).await.0, 413);
    // Nothing was registered by any of those: the month's 1-week day sends nothing.
    assert_eq!(
        sent_and_enqueued(&server.daily(date("2025-05-12")).await),
        (0, 0)
    );
    // The genuine request still works afterwards.
    let sig = sign(&body);
    assert_eq!(server.webhook_raw(body, Some(sig)).await.0, 200);
    assert_eq!(
        sent_and_enqueued(&server.daily(date("2025-05-12")).await),
        (1, 1)
    );

    // A day that is not a date.
    let resp = reqwest::Client::new()
        .post(format!("{}/dev/daily?date=2025-02-30", server.dev_url))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().await.unwrap_or_default().contains("YYYY-MM-DD"));

    // Hundreds of signed malformed bodies over HTTP: only 4xx, and the server stays up.
    let valid = String::from_utf8(callback(vec![r.text("登録内容")])).expect("utf8");
    let mut seed = 0x9e3779b97f4a7c15u64;
    for i in 0..300 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let cut = (seed as usize) % valid.len();
        let mut bytes = valid.as_bytes()[..cut].to_vec();
        if i % 3 == 0 {
            bytes.push((seed >> 8) as u8);
        }
        if serde_json::from_slice::<serde_json::Value>(&bytes).is_ok() {
            continue; // the mutation happened to produce valid JSON again
        }
        let sig = sign(&bytes);
        let (status, text) = server.webhook_raw(bytes, Some(sig)).await;
        assert!((400..500).contains(&status), "status {status}: {text}");
    }
    assert_eq!(line.violations(), Vec::<String>::new());
    let log = server.stop();
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        !log.contains(&r.user_id),
        "the log must not contain LINE user ids:\n{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
