//! `sukusuku serve` as a newcomer runs it: no LINE credentials (local mode), every outgoing
//! message printed on stdout and kept in `<data>/outbox.jsonl`, and the development routes
//! only on their own loopback listener.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sukusuku_tests::days::date;
use sukusuku_tests::fake_line::FakeLine;
use sukusuku_tests::server::{
    ACCESS_TOKEN, LOCAL_CHANNEL_SECRET, Resident, Sukusuku, binary, callback, example_catalog,
    free_port, sign, sign_with,
};

fn data_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sukusuku-local-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn outbox(dir: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("outbox.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each outbox line is JSON"))
        .collect()
}

fn outbox_texts(record: &Value) -> Vec<String> {
    record["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Output arrives on stdout a moment after the HTTP answer; wait for it briefly.
async fn printed(server: &Sukusuku, needle: &str) -> String {
    for _ in 0..100 {
        let text = server.stdout_text();
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("stdout never showed `{needle}`:\n{}", server.stdout_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_mode_prints_and_keeps_every_reply_and_push() {
    // LINE_API_BASE points at a fake LINE that must hear nothing.
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let dir = data_dir("journey");
    let server = Sukusuku::start_local(&line.base_url, &dir, &example_catalog()).await;

    let banner = printed(&server, "local mode").await;
    assert!(
        banner.contains("LINE_CHANNEL_ACCESS_TOKEN is not set, so nothing is sent to LINE"),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("`{LOCAL_CHANNEL_SECRET}`")),
        "{banner}"
    );
    assert!(banner.contains("outbox.jsonl"), "{banner}");
    assert!(banner.contains(&server.dev_url), "{banner}");

    // Signatures are still checked: the real channel's secret does not fit local mode's.
    let mut a = Resident::new(0xa11ce);
    let body = callback(vec![a.follow()]);
    assert_eq!(
        server.webhook_raw(body.clone(), Some(sign(&body))).await.0,
        401
    );
    assert_eq!(
        server
            .webhook_raw(body.clone(), Some(sign_with(LOCAL_CHANNEL_SECRET, &body)))
            .await
            .0,
        200
    );
    let shown = printed(&server, "友だち追加ありがとうございます").await;
    assert!(shown.contains("── reply"), "{shown}");
    assert!(
        shown.contains("[子どもの生年月日を登録 → v1:birth, date "),
        "buttons show the postback data to send back: {shown}"
    );

    // A text message, then a birthdate picked in the date picker.
    assert_eq!(server.webhook(vec![a.text("使い方")]).await, 200);
    printed(&server, "できること").await;
    let born = date("2025-11-20");
    assert_eq!(
        server.webhook(vec![a.pick_date("v1:birth", born)]).await,
        200
    );
    printed(&server, "2025年11月20日（木）生まれ）を登録しました").await;

    // 1週間誕生日, run on the development listener: printed as a push.
    let report = server.daily(date("2025-11-27")).await;
    assert_eq!(report["sent"], 1, "{report}");
    let shown = printed(&server, "── push to U0000…11ce ").await;
    assert!(
        shown.contains("【1週間誕生日おめでとうございます】"),
        "{shown}"
    );
    assert!(
        !shown.contains(&a.user_id),
        "whole user ids are not printed"
    );

    let records = outbox(&dir);
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["reply", "reply", "reply", "push"], "{records:?}");
    assert!(outbox_texts(&records[0])[0].starts_with("友だち追加ありがとうございます"));
    assert!(outbox_texts(&records[1])[0].starts_with("できること"));
    // The exact message JSON LINE would have received, buttons included.
    assert_eq!(
        records[0]["messages"][0]["quickReply"]["items"][1]["action"]["type"],
        "datetimepicker"
    );
    assert_eq!(records[3]["to"], serde_json::json!(["U0000…11ce"]));
    assert!(outbox_texts(&records[3])[0].starts_with("【1週間誕生日"));

    assert!(
        line.received().is_empty(),
        "local mode called LINE: {:?}",
        line.received()
    );
    assert_eq!(line.violations(), Vec::<String>::new());
    let log = server.stop();
    assert!(!log.contains(&a.user_id), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn development_routes_are_only_on_the_development_listener() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let dir = data_dir("routes");
    let server = Sukusuku::start(&line.base_url, &dir, &example_catalog()).await;
    let client = reqwest::Client::new();
    let post = |url: String| {
        let client = client.clone();
        async move {
            client
                .post(url)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    };
    // The public listener, the one LINE reaches through the HTTPS proxy.
    for path in ["/dev/daily?date=2025-11-27", "/dev/daily", "/dev/"] {
        assert_eq!(
            post(format!("{}{path}", server.base_url)).await,
            404,
            "{path}"
        );
    }
    assert_eq!(
        client
            .get(format!("{}/healthz", server.base_url))
            .send()
            .await
            .expect("healthz")
            .status()
            .as_u16(),
        200
    );
    // The development listener runs the day, and serves nothing else.
    assert_eq!(
        post(format!("{}/dev/daily?date=2025-11-27", server.dev_url)).await,
        200
    );
    assert_eq!(post(format!("{}/webhook", server.dev_url)).await, 404);
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `sukusuku serve` with `dev_addr` and the given LINE environment. A refusal is
/// immediate; a server that started anyway is stopped after five seconds, and the caller's
/// assertions on the exit status then fail.
fn serve_briefly(dev_addr: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut child = Command::new(binary())
        .args(["serve", "--addr", &format!("127.0.0.1:{}", free_port())])
        .args(["--dev-addr", dev_addr, "--catalog"])
        .arg(example_catalog())
        .env_remove("LINE_CHANNEL_ACCESS_TOKEN")
        .env_remove("LINE_CHANNEL_SECRET")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sukusuku");
    for _ in 0..100 {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().expect("output")
}

#[test]
fn an_access_token_without_its_channel_secret_is_refused() {
    let dev = format!("127.0.0.1:{}", free_port());
    let out = serve_briefly(&dev, &[("LINE_CHANNEL_ACCESS_TOKEN", "t")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && out.status.code().is_some(),
        "{:?} {stderr}",
        out.status
    );
    assert!(
        stderr.contains("LINE_CHANNEL_SECRET is not set"),
        "{stderr}"
    );
}

#[test]
fn a_non_loopback_development_address_is_refused() {
    for public in ["0.0.0.0:0", "[::]:0", "192.0.2.10:8081"] {
        let out = serve_briefly(public, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && out.status.code().is_some(),
            "{public}: {:?} {stderr}",
            out.status
        );
        assert!(
            stderr.contains("--dev-addr") && stderr.contains("is not a loopback address"),
            "{public}: {stderr}"
        );
        assert!(
            stderr.contains("must not be reachable from other machines"),
            "{stderr}"
        );
        assert!(
            out.stdout.is_empty(),
            "nothing started: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// A one-milestone catalog whose 1週間誕生日 says `text`.
fn one_week_catalog(text: &str) -> String {
    format!(
        "categories:\n  - {{id: birth, label: 誕生}}\nmilestones:\n  - {{id: one-week, anchor: \
         birth_date, at: {{weeks: 1}}, category: birth, text: \"{text}\"}}\n"
    )
}

fn publish_catalog(file: &std::path::Path, data: &std::path::Path) -> std::process::Output {
    Command::new(binary())
        .args(["catalog", "publish"])
        .arg(file)
        .arg("--data")
        .arg(data)
        .output()
        .expect("run sukusuku catalog publish")
}

/// Staff publish a catalog into the data dir and `serve` runs the published copy
/// (`--catalog DIR/catalog/catalog.yaml`): its text is what residents get. A publish while
/// `serve` has the dir is refused and changes nothing; after a restart the next publish is
/// what goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_the_catalog_published_into_its_data_dir() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let root = data_dir("published-catalog");
    let staff = root.join("staff.yaml");
    let data = root.join("data");
    std::fs::create_dir_all(&root).expect("root");
    std::fs::write(&staff, one_week_catalog("【初版】1週間のお知らせ")).expect("catalog");
    let out = publish_catalog(&staff, &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let published = data.join("catalog").join("catalog.yaml");
    let server = Sukusuku::start_local(&line.base_url, &data, &published).await;

    // The staff file changes while serve runs: publishing it is refused, nothing moves.
    std::fs::write(&staff, one_week_catalog("【改訂】1週間のお知らせ")).expect("catalog");
    let out = publish_catalog(&staff, &data);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("was not published") && err.contains("in use by another sukusuku"),
        "{err}"
    );
    assert!(
        std::fs::read_to_string(&published)
            .expect("published")
            .contains("【初版】"),
        "the published catalog is untouched"
    );

    let mut a = Resident::new(0xcafe1);
    assert_eq!(server.webhook(vec![a.follow()]).await, 200);
    assert_eq!(
        server
            .webhook(vec![a.pick_date("v1:birth", date("2025-11-20"))])
            .await,
        200
    );
    let report = server.daily(date("2025-11-27")).await;
    assert_eq!(report["sent"], 1, "{report}");
    printed(&server, "【初版】1週間のお知らせ").await;
    server.stop();

    // Stopped, the publish goes through, and the next start sends the new text.
    let out = publish_catalog(&staff, &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Sukusuku::start_local(&line.base_url, &data, &published).await;
    let mut b = Resident::new(0xcafe2);
    assert_eq!(server.webhook(vec![b.follow()]).await, 200);
    assert_eq!(
        server
            .webhook(vec![b.pick_date("v1:birth", date("2025-11-21"))])
            .await,
        200
    );
    let report = server.daily(date("2025-11-28")).await;
    assert_eq!(report["sent"], 1, "{report}");
    let shown = printed(&server, "【改訂】1週間のお知らせ").await;
    assert!(!shown.contains("【初版】"), "{shown}");
    assert!(line.received().is_empty(), "local mode called LINE");
    server.stop();
    let _ = std::fs::remove_dir_all(&root);
}
