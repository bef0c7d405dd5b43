//! `sukusuku richmenu install` as DevOps runs it: the real binary against the fake LINE over
//! loopback (API host and data host), with the committed `infra/richmenu` and with broken
//! or changed copies of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::line::client::contract::Refusal;
use sukusuku_tests::fake_line::{FakeLine, RichMenuCall};
use sukusuku_tests::images::{inspect, jpeg, padded_png, png, png_texts};
use sukusuku_tests::server::{ACCESS_TOKEN, binary};
use sukusuku_tests::spec::{check_rich_menu, check_rich_menu_image};

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/richmenu")
}

fn committed_definition() -> Value {
    let text = std::fs::read_to_string(committed().join("richmenu.json")).expect("richmenu.json");
    serde_json::from_str(&text).expect("richmenu.json is JSON")
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `sukusuku richmenu <command> DIR` with exactly these LINE variables set.
async fn sukusuku(command: &str, dir: &Path, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(binary());
    cmd.args(["richmenu", command])
        .arg(dir)
        .env_remove("LINE_CHANNEL_ACCESS_TOKEN")
        .env_remove("LINE_API_BASE")
        .env_remove("LINE_API_DATA_BASE")
        .envs(env.iter().copied());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run sukusuku");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn install(line: &FakeLine, dir: &Path) -> Run {
    let env = [
        ("LINE_CHANNEL_ACCESS_TOKEN", ACCESS_TOKEN),
        ("LINE_API_BASE", line.base_url.as_str()),
        ("LINE_API_DATA_BASE", line.data_url.as_str()),
    ];
    sukusuku("install", dir, &env).await
}

/// A directory of the test's own, removed when the test ends.
struct MenuDir(PathBuf);

impl std::ops::Deref for MenuDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for MenuDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory holding this definition and image (the image as `file_name`).
fn menu_dir(test: &str, definition: &Value, file_name: &str, image: &[u8]) -> MenuDir {
    let dir = std::env::temp_dir().join(format!("sukusuku-richmenu-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let text = serde_json::to_string_pretty(definition).expect("json");
    std::fs::write(dir.join("richmenu.json"), &text).expect("write definition");
    std::fs::write(dir.join(file_name), image).expect("write image");
    MenuDir(dir)
}

/// A PNG of the definition's size that says it was drawn from exactly that file, as
/// scripts/richmenu-image.sh writes it.
fn drawn_png(definition: &Value) -> Vec<u8> {
    let text = serde_json::to_string_pretty(definition).expect("json");
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let (w, h) = size_of(definition);
    png(w, h, &[("sukusuku-drawn-from-sha256", &hex)])
}

fn size_of(definition: &Value) -> (u32, u32) {
    let n = |k: &str| definition["size"][k].as_u64().expect("size") as u32;
    (n("width"), n("height"))
}

/// A definition with its own, drawn image.
fn dir_with(test: &str, definition: &Value) -> MenuDir {
    menu_dir(test, definition, "richmenu.png", &drawn_png(definition))
}

fn calls(line: &FakeLine) -> Vec<String> {
    line.received()
        .iter()
        .map(|r| {
            let host = if r.data_host { "data " } else { "" };
            let path = r
                .path
                .split('/')
                .map(|s| {
                    if s.starts_with("richmenu-") {
                        "{id}"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            format!("{host}{} {path} {}", r.method, r.status)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_creates_uploads_and_sets_the_default() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let run = install(&line, &committed()).await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(line.violations(), Vec::<String>::new());
    assert_eq!(
        calls(&line),
        [
            "GET /v2/bot/user/all/richmenu 404",
            "GET /v2/bot/richmenu/list 200",
            "POST /v2/bot/richmenu/validate 200",
            "POST /v2/bot/richmenu 200",
            "data POST /v2/bot/richmenu/{id}/content 200",
            "POST /v2/bot/user/all/richmenu/{id} 200",
        ],
        "the image goes to LINE_API_DATA_BASE, everything else to LINE_API_BASE"
    );
    let menus = line.rich_menus();
    assert_eq!(menus.len(), 1);
    let menu = &menus[0];
    assert_eq!(line.default_rich_menu().as_deref(), Some(menu.id.as_str()));
    let png_bytes = std::fs::read(committed().join("richmenu.png")).expect("png");
    let image = menu.image.as_ref().expect("uploaded");
    assert_eq!(
        (image.content_type.as_str(), image.bytes),
        ("image/png", png_bytes.len())
    );
    // What LINE got is the committed definition, with install's stamp on the name.
    let mut sent = menu.request.clone();
    let name = sent["name"].as_str().expect("name").to_string();
    assert!(
        name.starts_with("sukusuku #") && name.len() == "sukusuku #".len() + 12,
        "{name}"
    );
    sent["name"] = json!("sukusuku");
    assert_eq!(sent, committed_definition());
    assert!(run.stdout.contains(&menu.id), "{}", run.stdout);
    assert!(run.stdout.contains("is now the default"), "{}", run.stdout);
    for r in line.received() {
        assert_eq!(r.token.as_deref(), Some(ACCESS_TOKEN));
    }
    assert!(!run.stdout.contains(ACCESS_TOKEN) && !run.stderr.contains(ACCESS_TOKEN));
    assert_eq!(line.rich_menu_writes(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_it_again_replaces_only_the_menus_install_made() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let by_hand = line.add_rich_menu("春のキャンペーン", true);
    let named_like_us = line.add_rich_menu("sukusuku test by hand", false);
    let older_install = line.add_rich_menu("sukusuku #0123456789ab", false);

    let run = install(&line, &committed()).await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    let first = line.default_rich_menu().expect("a default");
    assert!(![&by_hand, &named_like_us, &older_install].contains(&&first));
    let ids: Vec<String> = line.rich_menus().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, [by_hand.clone(), named_like_us.clone(), first.clone()]);
    assert!(
        run.stdout
            .contains(&format!("Deleted the earlier menu {older_install}")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("previous default {by_hand} (`春のキャンペーン`)")),
        "{}",
        run.stdout
    );

    // The same definition and image again: nothing to create, nothing changes.
    let writes = line.rich_menu_writes();
    let run = install(&line, &committed()).await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("already is this definition and image"),
        "{}",
        run.stdout
    );
    assert_eq!(line.rich_menu_writes(), writes);
    assert_eq!(line.default_rich_menu().as_deref(), Some(first.as_str()));

    // A changed menu, with a JPEG this time: it replaces the first install.
    let mut definition = committed_definition();
    definition["chatBarText"] = json!("メニューを開く");
    let dir = menu_dir("again", &definition, "richmenu.jpg", &jpeg(2500, 843));
    let run = install(&line, &dir).await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("was not drawn by scripts/richmenu-image.sh"),
        "a hand-made image gets a note: {}",
        run.stderr
    );
    let second = line.default_rich_menu().expect("a default");
    assert_ne!(second, first);
    let menus = line.rich_menus();
    let ids: Vec<&str> = menus.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [by_hand.as_str(), named_like_us.as_str(), second.as_str()]
    );
    let image = menus[2].image.as_ref().expect("uploaded");
    assert_eq!(image.content_type, "image/jpeg");
    assert_eq!(menus[2].request["chatBarText"], "メニューを開く");
    assert_eq!(line.violations(), Vec::<String>::new());
    // Two creates and two deletes in all: nothing was repeated.
    assert_eq!(line.rich_menu_writes(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_midway_keeps_the_old_default_and_deletes_the_new_menu() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let run = install(&line, &committed()).await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    let old = line.default_rich_menu().expect("a default");

    let mut definition = committed_definition();
    definition["chatBarText"] = json!("メニューを開く");
    let dir = dir_with("midway", &definition);
    for (call, step) in [
        (RichMenuCall::Upload, "uploading richmenu.png failed"),
        (
            RichMenuCall::SetDefault,
            "making it the default rich menu failed",
        ),
    ] {
        line.refuse_next_rich_menu_call(call, Refusal::new(500, "Internal server error"));
        let run = install(&line, &dir).await;
        assert!(!run.ok, "{call:?}: {}", run.stdout);
        assert!(run.stderr.contains(step), "{call:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("LINE API answered 500"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!(
                "was deleted again; the default rich menu is still {old}"
            )),
            "{}",
            run.stderr
        );
        assert_eq!(line.default_rich_menu().as_deref(), Some(old.as_str()));
        let ids: Vec<String> = line.rich_menus().into_iter().map(|m| m.id).collect();
        assert_eq!(
            ids,
            std::slice::from_ref(&old),
            "{call:?}: the half-made menu is gone"
        );
    }

    // LINE refusing the menu itself: nothing was created, so nothing to delete.
    line.refuse_next_rich_menu_call(RichMenuCall::Create, Refusal::new(429, "Too many requests"));
    let run = install(&line, &dir).await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("limited to 100 requests an hour"),
        "{}",
        run.stderr
    );
    assert_eq!(line.default_rich_menu().as_deref(), Some(old.as_str()));

    // Once LINE works again, the same command finishes the job.
    let run = install(&line, &dir).await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    assert_ne!(line.default_rich_menu().as_deref(), Some(old.as_str()));
    assert_eq!(line.rich_menus().len(), 1);
    assert_eq!(line.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_definitions_are_refused_before_any_request() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let base = committed_definition();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut d = base.clone();
        f(&mut d);
        d
    };
    let too_many = edit(&|d| {
        let area = d["areas"][0].clone();
        d["areas"] = json!(vec![area; 21]);
    });
    let outside = edit(&|d| d["areas"][3]["bounds"]["width"] = json!(900));
    let long_label = edit(&|d| {
        d["areas"][0]["action"]["label"] = json!("登録・変更はこちらからどうぞ、ボタンをタップ")
    });
    let long_bar = edit(&|d| d["chatBarText"] = json!("メニューはこちらからどうぞタップ"));
    let unknown_data = edit(&|d| d["areas"][1]["action"]["data"] = json!("v1:facilities"));
    let not_ours = edit(&|d| d["name"] = json!("main menu"));
    let too_tall = edit(&|d| {
        d["size"] = json!({"width": 1000, "height": 1000});
        for (i, area) in d["areas"]
            .as_array_mut()
            .expect("areas")
            .iter_mut()
            .enumerate()
        {
            area["bounds"] = json!({"x": 0, "y": i * 300, "width": 1000, "height": 300});
        }
    });
    let changed = edit(&|d| d["chatBarText"] = json!("メニューを開く"));
    let typo = edit(&|d| {
        if let Some(o) = d.as_object_mut()
            && let Some(bar) = o.remove("chatBarText")
        {
            o.insert("chatbarText".to_string(), bar);
        }
    });
    let cases: Vec<(&str, MenuDir, &[&str])> = vec![
        (
            "too-many",
            dir_with("too-many", &too_many),
            &["field `areas`: 21 areas; LINE takes 1–20"],
        ),
        (
            "outside",
            dir_with("outside", &outside),
            &["field `areas[3].bounds`", "outside the 2500×843 menu"],
        ),
        (
            "label",
            dir_with("label", &long_label),
            &["field `areas[0].action.label`", "at most 20"],
        ),
        (
            "bar",
            dir_with("bar", &long_bar),
            &["field `chatBarText`", "at most 14"],
        ),
        (
            "data",
            dir_with("data", &unknown_data),
            &[
                "field `areas[1].action.data`",
                "`v1:facilities` is not a postback",
            ],
        ),
        (
            "name",
            dir_with("name", &not_ours),
            &["field `name`", "must start with `sukusuku`"],
        ),
        (
            "tall",
            dir_with("tall", &too_tall),
            &["field `size`", "at least 1.45"],
        ),
        (
            "typo",
            dir_with("typo", &typo),
            &["field `chatbarText`", "unknown field"],
        ),
        (
            "image-size",
            menu_dir("image-size", &base, "richmenu.png", &png(2500, 1686, &[])),
            &["richmenu.png: is 2500×1686 pixels; the menu's size is 2500×843"],
        ),
        (
            "image-bytes",
            menu_dir(
                "image-bytes",
                &base,
                "richmenu.png",
                &padded_png(2500, 843, 1_100_000),
            ),
            &["richmenu.png: ", "LINE takes at most 1000000 (1 MB)"],
        ),
        (
            "image-stale",
            menu_dir("image-stale", &changed, "richmenu.png", &drawn_png(&base)),
            &[
                "richmenu.png: was drawn from another version of richmenu.json",
                "richmenu-image.sh",
            ],
        ),
        (
            "image-gif",
            menu_dir("image-gif", &base, "richmenu.png", b"GIF89a not a menu"),
            &["richmenu.png is neither a PNG nor a JPEG"],
        ),
        (
            "no-image",
            menu_dir("no-image", &base, "menu.png", &drawn_png(&base)),
            &["no image: expected richmenu.png or richmenu.jpg"],
        ),
    ];
    for (name, dir, expected) in cases {
        let run = install(&line, &dir).await;
        assert!(!run.ok, "{name}: accepted\n{}", run.stdout);
        for e in expected {
            assert!(
                run.stderr.contains(e),
                "{name}: `{e}` not in\n{}",
                run.stderr
            );
        }
        if !["image-gif", "no-image"].contains(&name) {
            let file = if name.starts_with("image") {
                "richmenu.png"
            } else {
                "richmenu.json"
            };
            let path = dir.join(file).display().to_string();
            assert!(
                run.stderr.contains(&path),
                "{name}: the file is named\n{}",
                run.stderr
            );
        }
        // The same verdict without a token: checking needs no LINE.
        let check = sukusuku("check", &dir, &[]).await;
        assert!(
            !check.ok && check.stderr.contains(expected[0]),
            "{name}: {}",
            check.stderr
        );
    }
    assert!(line.received().is_empty(), "{:?}", calls(&line));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_refused_token_is_a_clear_error() {
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let env = [
        ("LINE_API_BASE", line.base_url.as_str()),
        ("LINE_API_DATA_BASE", line.data_url.as_str()),
    ];
    let run = sukusuku("install", &committed(), &env).await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("LINE_CHANNEL_ACCESS_TOKEN is not set"),
        "{}",
        run.stderr
    );
    assert!(line.received().is_empty());

    let wrong = [
        ("LINE_CHANNEL_ACCESS_TOKEN", "an-expired-token"),
        ("LINE_API_BASE", line.base_url.as_str()),
        ("LINE_API_DATA_BASE", line.data_url.as_str()),
    ];
    let run = sukusuku("install", &committed(), &wrong).await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("LINE API answered 401"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("LINE refused the channel access token: check LINE_CHANNEL_ACCESS_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("an-expired-token"),
        "the token is never printed"
    );
    assert!(line.rich_menus().is_empty());
    assert_eq!(line.received().len(), 1, "it stops at the first refusal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_host_is_where_the_image_goes() {
    // LINE_API_DATA_BASE pointed at the API host: LINE has no upload there.
    let line = FakeLine::start(ACCESS_TOKEN).await;
    let env = [
        ("LINE_CHANNEL_ACCESS_TOKEN", ACCESS_TOKEN),
        ("LINE_API_BASE", line.base_url.as_str()),
        ("LINE_API_DATA_BASE", line.base_url.as_str()),
    ];
    let run = sukusuku("install", &committed(), &env).await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("uploading richmenu.png failed"),
        "{}",
        run.stderr
    );
    assert!(
        line.violations()
            .iter()
            .any(|v| v.contains("rich menu images go to the data host")),
        "{:?}",
        line.violations()
    );
    assert!(
        line.rich_menus().is_empty(),
        "the half-made menu is deleted"
    );
    assert_eq!(line.default_rich_menu(), None);
}

/// The menu residents get: valid by LINE's rules as the fake reads them, its image the
/// menu's size and drawn from this very definition, its buttons the conversation's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_rich_menu_is_valid_and_its_image_matches() {
    let definition = committed_definition();
    assert_eq!(check_rich_menu(&definition), Vec::<String>::new());
    let (w, h) = size_of(&definition);
    let image = std::fs::read(committed().join("richmenu.png")).expect("png");
    assert_eq!(inspect(&image), Ok(("image/png", w, h)));
    assert_eq!(
        check_rich_menu_image(Some("image/png"), &image, w.into(), h.into()),
        Vec::<String>::new()
    );
    let mut source = std::fs::read(committed().join("richmenu.json")).expect("json");
    source.extend(std::fs::read(committed().join("style.json")).expect("style"));
    let digest: String = Sha256::digest(&source)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        png_texts(&image).contains(&("sukusuku-drawn-from-sha256".to_string(), digest)),
        "richmenu.png is drawn from the committed richmenu.json and style.json: run \
         scripts/richmenu-image.sh"
    );
    let buttons: Vec<(&str, &str, &str)> = definition["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .map(|a| {
            let action = &a["action"];
            (
                action["label"].as_str().unwrap_or_default(),
                action["data"].as_str().unwrap_or_default(),
                action["displayText"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        buttons,
        [
            ("登録・変更", "v1:show", "登録・変更"),
            ("予約", "v1:rsv", "予約"),
            ("受信設定", "v1:settings", "受信設定"),
            ("使い方", "v1:menu", "使い方"),
        ]
    );
    assert_eq!(definition["chatBarText"], "メニュー");

    let check = sukusuku("check", &committed(), &[]).await;
    assert!(check.ok, "{}", check.stderr);
    assert!(
        check.stdout.contains("OK — 4 buttons on 2500×843"),
        "{}",
        check.stdout
    );
    assert!(check.stderr.is_empty(), "no notes: {}", check.stderr);

    // A colour or reading changed in style.json without redrawing the image is caught.
    let copy = std::env::temp_dir().join(format!("sukusuku-style-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).expect("dir");
    for file in ["richmenu.json", "richmenu.png"] {
        std::fs::copy(committed().join(file), copy.join(file)).expect("copy");
    }
    let style = std::fs::read_to_string(committed().join("style.json")).expect("style");
    std::fs::write(copy.join("style.json"), style.replace("#2E7D55", "#D04A02")).expect("write");
    let stale = sukusuku("check", &copy, &[]).await;
    assert!(!stale.ok);
    assert!(
        stale
            .stderr
            .contains("was drawn from another version of richmenu.json or style.json"),
        "{}",
        stale.stderr
    );
    let _ = std::fs::remove_dir_all(&copy);
}
