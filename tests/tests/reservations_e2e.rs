//! 予約 end to end over loopback: staff publish a reservations file into the data dir with
//! the real `sukusuku` binary, `sukusuku serve` answers residents through the fake LINE API
//! (which checks every request against the spec), a day's run sends the reminder, the
//! resident reports an absence from the reminder's own button, the freed seat is offered to
//! the parent on the waiting list by push and booked from it, the city's events are written
//! to the data dir, and staff export it all with its reason.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sukusuku_tests::days::{minus, plus, today_in_tokyo};
use sukusuku_tests::fake_line::FakeLine;
use sukusuku_tests::server::{ACCESS_TOKEN, Resident, Sukusuku, binary};

const CATALOG: &str = "categories:\n  - {id: checkup, label: 健診}\nmilestones:\n  - {id: m, anchor: birth_date, at: {months: 3}, category: checkup, service: checkup-4m, text: 4か月児健診のご案内}\n";

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sukusuku-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn sukusuku(args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .env_remove("LINE_CHANNEL_ACCESS_TOKEN")
        .output()
        .expect("run sukusuku")
}

/// The postback data of the button labelled `label` in the last request to `path_end`
/// (a reply or a push) that has one.
fn button(line: &FakeLine, path_end: &str, label: &str) -> String {
    line.received()
        .iter()
        .rev()
        .filter(|r| r.path.ends_with(path_end) && r.status == 200)
        .find_map(|r| find_action(&r.body, label))
        .unwrap_or_else(|| panic!("no button `{label}` in the last {path_end}"))
}

fn find_action(v: &Value, label: &str) -> Option<String> {
    match v {
        Value::Object(m) => {
            if m.get("type").and_then(Value::as_str) == Some("postback")
                && m.get("label").and_then(Value::as_str) == Some(label)
            {
                return m.get("data").and_then(Value::as_str).map(str::to_string);
            }
            m.values().find_map(|x| find_action(x, label))
        }
        Value::Array(a) => a.iter().find_map(|x| find_action(x, label)),
        _ => None,
    }
}

fn last_reply(line: &FakeLine) -> String {
    line.replies().pop().unwrap_or_default()
}

fn token(service: &str, date: chrono::NaiveDate, start: &str) -> String {
    format!(
        "{service}@{}{}",
        date.format("%Y%m%d"),
        start.replace(':', "")
    )
}

#[tokio::test]
async fn publish_book_remind_report_an_absence_and_export_it() {
    let today = today_in_tokyo();
    let root = dir("reservations-e2e");
    let data = root.join("data");
    let catalog = root.join("catalog.yaml");
    std::fs::write(&catalog, CATALOG).expect("catalog");
    let (first, second) = (plus(today, 10), plus(today, 17));
    let file = root.join("reservations.yaml");
    std::fs::write(
        &file,
        format!(
            "services:\n  - id: checkup-4m\n    name: 4か月児健診\n    place: 保健センター\n    who: {{child: {{from: {{months: 3}}, before: {{months: 5}}}}}}\nslots:\n  - {{service: checkup-4m, date: {first}, start: \"10:00\", end: \"10:30\", capacity: 1}}\n  - {{service: checkup-4m, date: {second}, start: \"10:00\", end: \"10:30\", capacity: 2}}\n"
        ),
    )
    .expect("reservations file");
    let out = sukusuku(&[
        "reservations",
        "publish",
        &file.to_string_lossy(),
        "--data",
        &data.to_string_lossy(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let line = FakeLine::start(ACCESS_TOKEN).await;
    let app = Sukusuku::start(&line.base_url, &data, &catalog).await;
    // Two parents of babies about 3か月半: both may book the 4か月児健診.
    let birth = minus(today, 105);
    let mut a = Resident::new(1);
    let mut b = Resident::new(2);
    for r in [&mut a, &mut b] {
        assert_eq!(
            app.webhook(vec![r.follow(), r.pick_date("v1:birth", birth)])
                .await,
            200
        );
    }
    // A books the one seat of the first day from the cards.
    assert_eq!(app.webhook(vec![a.text("予約")]).await, 200);
    let dates = button(
        &line,
        "/reply",
        &format!("{}{}の予約", birth.format("%Y年%-m月%-d日"), "生まれ"),
    );
    assert_eq!(app.webhook(vec![a.postback(&dates)]).await, 200);
    assert_eq!(
        app.webhook(vec![a.postback(&button(&line, "/reply", "10:00〜10:30"))])
            .await,
        200
    );
    assert_eq!(
        app.webhook(vec![a.postback(&button(&line, "/reply", "予約する"))])
            .await,
        200
    );
    assert!(
        last_reply(&line).contains("予約しました。"),
        "{}",
        last_reply(&line)
    );
    // B's tap on the same seat: 満席, and B joins its waiting list.
    let taken = format!("v1:rsv:book:{}:c1", token("checkup-4m", first, "10:00"));
    assert_eq!(app.webhook(vec![b.postback(&taken)]).await, 200);
    let full = last_reply(&line);
    assert!(full.contains("満席"), "{full}");
    let join = button(&line, "/reply", "キャンセル待ちに登録");
    assert_eq!(app.webhook(vec![b.postback(&join)]).await, 200);
    let joined = last_reply(&line);
    assert!(joined.contains("キャンセル待ちに登録しました"), "{joined}");
    // Nothing is free: the sweep offers nothing.
    assert_eq!(app.offers().await["offered"], 0);

    // The day before: one reminder, to A, with the booking's buttons.
    let report = app.daily(minus(first, 1)).await;
    assert_eq!(report["reminders"], 1, "{report}");
    let reminders: Vec<(String, String)> = line
        .deliveries()
        .into_iter()
        .filter(|(_, t)| t.contains("ご予約日"))
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert_eq!(reminders[0].0, a.user_id);
    // Run again: nothing more.
    app.daily(minus(first, 1)).await;
    assert_eq!(
        line.deliveries()
            .iter()
            .filter(|(_, t)| t.contains("ご予約日"))
            .count(),
        1
    );

    // 欠席連絡 from the reminder itself, with a reason.
    let absent = button(&line, "/push", "欠席連絡");
    assert_eq!(app.webhook(vec![a.postback(&absent)]).await, 200);
    assert_eq!(
        app.webhook(vec![a.postback(&button(&line, "/reply", "体調不良"))])
            .await,
        200
    );
    let ack = last_reply(&line);
    assert!(ack.contains("欠席のご連絡を受け付けました"), "{ack}");

    // The freed seat is held for B, who hears by push and books it from the message.
    let swept = app.offers().await;
    assert_eq!(
        (swept["offered"].as_u64(), swept["sent"].as_u64()),
        (Some(1), Some(1)),
        "{swept}"
    );
    let offers: Vec<(String, String)> = line
        .deliveries()
        .into_iter()
        .filter(|(_, t)| t.contains("キャンセル待ちのご案内"))
        .collect();
    assert_eq!(offers.len(), 1, "{offers:?}");
    assert_eq!(offers[0].0, b.user_id);
    let take = button(&line, "/push", "予約する");
    assert_eq!(app.webhook(vec![b.postback(&take)]).await, 200);
    let booked = last_reply(&line);
    assert!(booked.contains("予約しました。"), "{booked}");
    // Swept again: nothing more is offered or sent.
    let again = app.offers().await;
    assert_eq!(
        (again["offered"].as_u64(), again["sent"].as_u64()),
        (Some(0), Some(0)),
        "{again}"
    );
    assert!(line.violations().is_empty(), "{:?}", line.violations());
    app.stop();

    // The city's systems and staff see it, with its reason.
    let events = std::fs::read_to_string(data.join("events.jsonl")).expect("events");
    assert!(
        events.contains("\"detail-type\":\"BookingAbsent\""),
        "{events}"
    );
    assert!(events.contains("\"reason\":\"illness\""), "{events}");
    assert!(
        events.contains("\"detail-type\":\"BookingOffered\""),
        "{events}"
    );
    assert!(!events.contains(&b.user_id), "no user id in events");
    assert!(!events.contains(&a.user_id), "no user id in events");
    let out = sukusuku(&["reservations", "export", "--data", &data.to_string_lossy()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    assert!(csv.contains("欠席,体調不良"), "{csv}");
    assert_eq!(csv.matches(",予約中,").count(), 1, "B's booking: {csv}");
    let _ = std::fs::remove_dir_all(Path::new(&root));
}
