//! The `sukusuku` binary as staff and DevOps use it: exit codes and messages.

use std::process::{Command, Output};

fn sukusuku(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sukusuku"))
        .args(args)
        .env_remove("LINE_CHANNEL_SECRET")
        .env_remove("LINE_CHANNEL_ACCESS_TOKEN")
        .output()
        .expect("run sukusuku")
}

fn example() -> String {
    format!(
        "{}/../infra/catalog/example.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn write_temp(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("sukusuku-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("write temp file");
    path.to_string_lossy().into_owned()
}

const BROKEN: &str = "categories:\n  - {id: health, label: 健診}\nmilestones:\n  - id: dental\n    anchor: due_date\n    at: {months: 7}\n    category: health\n    text: 歯科健診\n";

#[test]
fn catalog_check_accepts_the_example() {
    let out = sukusuku(&["catalog", "check", &example()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("OK"), "{text}");
    assert!(
        text.contains("54 milestones in 19 categories") && text.contains("; 3 series"),
        "{text}"
    );
    assert!(
        text.contains(
            "series pregnancy-weekly (due_date, 妊娠4週0日–妊娠41週0日, every week): 38 steps"
        ),
        "{text}"
    );
    assert!(
        text.contains("series newborn-daily (birth_date, 生後1日–生後6日, every day): 6 steps"),
        "{text}"
    );
    assert!(
        text.contains(
            "受信設定: 19 categories; お住まいの地区 (10 choices); 世帯の状況 (5 choices); \
             保育所（園）の申込状況 (4 choices); language (ふつう / やさしい日本語)"
        ),
        "{text}"
    );
    assert!(
        text.contains("files: newborn-daily.yaml, pregnancy-weekly.yaml"),
        "{text}"
    );
}

/// A folder with a catalog whose series reads `steps.yaml`, and what to put beside it.
fn catalog_dir(name: &str, steps: Option<&str>) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sukusuku-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("catalog.yaml"),
        "categories:\n  - {id: daily, label: 毎日}\nseries:\n  - id: weekly\n    anchor: \
         due_date\n    from: {weeks: 4}\n    to: {weeks: 6}\n    every: {weeks: 1}\n    \
         category: daily\n    steps_file: steps.yaml\n",
    )
    .expect("write catalog");
    if let Some(steps) = steps {
        std::fs::write(dir.join("steps.yaml"), steps).expect("write steps");
    }
    dir
}

#[test]
fn catalog_check_reads_the_steps_files_beside_the_catalog() {
    let steps = "- {at: {weeks: 4}, text: 四週}\n- {at: {weeks: 5}, text: 五週}\n- {at: {weeks: 6}, text: 六週}\n";
    let dir = catalog_dir("steps-ok", Some(steps));
    let catalog = dir.join("catalog.yaml").to_string_lossy().into_owned();
    let out = sukusuku(&["catalog", "check", &catalog]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("0 milestones in 1 categories"), "{text}");
    assert!(text.contains("series weekly"), "{text}");

    // A step missing: named by file, day and day number.
    std::fs::write(
        dir.join("steps.yaml"),
        &steps[..steps.rfind("- {at: {weeks: 6}").unwrap_or(0)],
    )
    .expect("write");
    let out = sukusuku(&["catalog", "check", &catalog]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 10: series[0] (weekly), field `steps_file`: `steps.yaml` has no step")
            && err.contains("妊娠6週0日 (day 42)"),
        "{err}"
    );

    // A step file in Shift_JIS: said so, not garbled.
    std::fs::write(dir.join("steps.yaml"), [0x82u8, 0xa0, 0x0a]).expect("write");
    let out = sukusuku(&["catalog", "check", &catalog]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not UTF-8 text; save it as UTF-8"), "{err}");

    // No steps file at all.
    let dir = catalog_dir("steps-missing", None);
    let out = sukusuku(&[
        "catalog",
        "check",
        &dir.join("catalog.yaml").to_string_lossy(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("field `steps_file`: cannot read `steps.yaml`: there is no file"),
        "{err}"
    );
}

/// A symbolic link beside the catalog that leads elsewhere is not read: what is published
/// must be what lies beside the catalog.
#[cfg(unix)]
#[test]
fn a_steps_file_linked_from_elsewhere_is_refused() {
    let outside = write_temp(
        "outside-steps.yaml",
        "- {at: {weeks: 4}, text: a}\n- {at: {weeks: 5}, text: b}\n- {at: {weeks: 6}, text: c}\n",
    );
    let dir = catalog_dir("steps-link", None);
    let link = dir.join("steps.yaml");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&outside, &link).expect("symlink");
    let out = sukusuku(&[
        "catalog",
        "check",
        &dir.join("catalog.yaml").to_string_lossy(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("leads outside the catalog's folder"), "{err}");
}

#[test]
fn a_broken_catalog_names_line_entry_and_field() {
    let path = write_temp("broken.yaml", BROKEN);
    let out = sukusuku(&["catalog", "check", "--catalog", &path]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 6: milestones[0] (dental), field `at`"),
        "{err}"
    );
    let out = sukusuku(&["catalog", "check", "/nonexistent/catalog.yaml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the catalog"));
}

#[test]
fn serve_refuses_to_start_with_a_broken_catalog() {
    let path = write_temp("broken-serve.yaml", BROKEN);
    let out = Command::new(env!("CARGO_BIN_EXE_sukusuku"))
        .args(["serve", "--addr", "127.0.0.1:0", "--catalog", &path])
        .env("LINE_CHANNEL_SECRET", "s")
        .env("LINE_CHANNEL_ACCESS_TOKEN", "t")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("field `at`"));
    // Without credentials serve now starts in local mode: tests/tests/local_mode.rs.
}

#[test]
fn preview_lists_dated_milestones() {
    let out = sukusuku(&["preview", "--catalog", &example(), "--due", "2027-06-01"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // 24w0d = 112 days before the due date.
    assert!(
        text.contains("2027-02-09  dental-checkup  （妊娠24週0日）"),
        "{text}"
    );
    assert!(text.contains("2027-06-01  due-date"), "{text}");
    assert!(
        !text.contains("one-week"),
        "birth milestones are not sent on a due date alone"
    );

    let out = sukusuku(&[
        "preview",
        "--catalog",
        &example(),
        "--birth",
        "2025-11-20",
        "--from",
        "2027-01-01",
        "--to",
        "2027-06-30",
        "--easy",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2027-01-20  fluoride  （1歳2か月）"),
        "{text}"
    );
    assert!(text.contains("フッそ"), "easy text shown: {text}");
    assert!(text.contains("2027-05-20  checkup-1y6m"), "{text}");
    assert!(
        !text.contains("first-birthday"),
        "outside --from/--to: {text}"
    );
}

fn preview(args: &[&str]) -> String {
    let example = example();
    let mut all = vec!["preview", "--catalog", example.as_str()];
    all.extend_from_slice(args);
    let out = sukusuku(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn preview_shows_what_these_settings_receive() {
    let day = [
        "--birth",
        "2026-04-01",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-01",
    ];
    // The 保活 guide at 6 months is only for residents planning to apply.
    let default = preview(&day);
    assert!(
        !default.contains("hokatsu-guide  （"),
        "not among what is sent: {default}"
    );
    assert!(
        default.contains("この受信設定では届かないお知らせ: 1 件"),
        "{default}"
    );
    assert!(
        default
            .contains("#   2026-10-01  hokatsu-guide  対象外（保育所（園）の申込状況: 申込予定）"),
        "which notice, and why: {default}"
    );
    let planning = preview(&[&day[..], &["--nursery", "planning"]].concat());
    assert!(
        planning.contains("2026-10-01  hokatsu-guide  （生後6か月）  [nursery]"),
        "{planning}"
    );
    // Only the categories named are on.
    let only_daily = preview(&[
        "--birth",
        "2026-04-01",
        "--to",
        "2026-12-31",
        "--category",
        "daily",
    ]);
    assert!(only_daily.contains("newborn-daily"), "{only_daily}");
    assert!(!only_daily.contains("temporary-care  （"), "{only_daily}");
    assert!(
        only_daily.contains("one-week  受け取らないカテゴリ（"),
        "{only_daily}"
    );
    // A district's own notice, and the nickname filled in where a text asks for it.
    let north = preview(&[
        "--birth",
        "2026-04-01",
        "--to",
        "2026-06-30",
        "--district",
        "hokubu",
        "--nickname",
        "はるちゃん",
    ]);
    assert!(north.contains("north-health-center  （"), "{north}");
    assert!(
        !preview(&["--birth", "2026-04-01", "--to", "2026-06-30"])
            .contains("north-health-center  （")
    );
    assert!(north.contains("はるちゃん"), "{north}");
}

#[test]
fn preview_rejects_bad_arguments_by_name() {
    for (flag, value, listed) in [
        ("--nursery", "planing", "planning (申込予定)"),
        ("--district", "atlantis", "hokubu (北部地区)"),
        ("--household", "royal", "single-parent"),
        ("--category", "gossip", "vaccination"),
    ] {
        let out = sukusuku(&[
            "preview",
            "--catalog",
            &example(),
            "--birth",
            "2026-04-01",
            flag,
            value,
        ]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{flag} {value}")), "{err}");
        assert!(err.contains(listed), "the choices are listed: {err}");
    }
    let out = sukusuku(&["preview", "--catalog", &example(), "--due", "2027-02-30"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--due"));
    let out = sukusuku(&["preview", "--catalog", &example()]);
    assert!(!out.status.success());
    // A pregnancy has no ニックネーム: the flag is refused, not silently ignored.
    let out = sukusuku(&[
        "preview",
        "--catalog",
        &example(),
        "--due",
        "2027-06-01",
        "--nickname",
        "はるちゃん",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--nickname"));
    let out = sukusuku(&[
        "preview",
        "--catalog",
        &example(),
        "--due",
        "2027-06-01",
        "--birth",
        "2025-01-01",
    ]);
    assert!(!out.status.success());
    let out = sukusuku(&[
        "preview",
        "--catalog",
        &example(),
        "--birth",
        "2025-01-01",
        "--from",
        "2026-01-01",
        "--to",
        "2025-01-01",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("after --to"));
}

/// The names of the files under `dir`, relative to it, sorted.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// `catalog publish --data`: the checked catalog and its steps files become the data dir's
/// published catalog (what `catalog check --data` and `serve --catalog DIR/catalog/catalog.yaml`
/// read), a later publish replaces it whole, and a broken one changes nothing. Serving from
/// it and the lock against a running `serve`: tests/tests/local_mode.rs.
#[test]
fn catalog_publish_into_a_data_dir() {
    let steps = "- {at: {weeks: 4}, text: 四週}\n- {at: {weeks: 5}, text: 五週}\n- {at: {weeks: 6}, text: 六週}\n";
    let staff = catalog_dir("publish-data-staff", Some(steps));
    let staff_catalog = staff.join("catalog.yaml").to_string_lossy().into_owned();
    let dir =
        std::env::temp_dir().join(format!("sukusuku-cli-{}-publish-data", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_string_lossy().into_owned();
    let published = dir.join("catalog");

    let out = sukusuku(&["catalog", "check", "--data", &data]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no catalog is published in the data directory")
            && err.contains("catalog publish FILE --data"),
        "{err}"
    );

    let out = sukusuku(&["catalog", "publish", &staff_catalog, "--data", &data]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let main = published.join("catalog.yaml");
    assert!(
        text.contains("published to the data directory")
            && text.contains("0 milestones, 1 series")
            && text.contains(&format!(
                "`sukusuku serve --catalog {} --data {data}` runs it",
                main.display()
            )),
        "{text}"
    );
    assert_eq!(files_under(&published), ["catalog.yaml", "steps.yaml"]);
    assert_eq!(
        std::fs::read(published.join("steps.yaml")).expect("published steps"),
        steps.as_bytes(),
        "the steps file went with it, byte for byte"
    );
    let out = sukusuku(&["catalog", "check", "--data", &data]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!(
            "{}: OK — 0 milestones in 1 categories",
            main.display()
        )) && text.contains("series weekly"),
        "{text}"
    );

    // Another catalog replaces it whole: no file of the old one stays (a leftover of a
    // publish cut short is cleared too).
    std::fs::create_dir_all(dir.join("catalog.next")).expect("leftover");
    std::fs::write(dir.join("catalog.next/stray.yaml"), "x").expect("leftover");
    let out = sukusuku(&["catalog", "publish", &example(), "--data", &data]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        files_under(&published),
        [
            "catalog.yaml",
            "newborn-daily.yaml",
            "pregnancy-weekly.yaml"
        ]
    );
    assert!(!dir.join("catalog.next").exists() && !dir.join("catalog.old").exists());
    let live = std::fs::read(&main).expect("published catalog");
    assert_eq!(live, std::fs::read(example()).expect("example"));

    // A broken catalog is refused with its line, and the published one stays as it was.
    let out = sukusuku(&[
        "catalog",
        "publish",
        &write_temp("publish-data-broken.yaml", BROKEN),
        "--data",
        &data,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 6") && err.contains("months"), "{err}");
    assert_eq!(std::fs::read(&main).expect("still published"), live);
    let out = sukusuku(&["catalog", "check", "--data", &data]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("OK — 54 milestones in 19 categories"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Exactly one place to publish to, and one catalog to check.
    let out = sukusuku(&["catalog", "publish", &example()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("required") && err.contains("--data <DIR>") && err.contains("--table <NAME>"),
        "{err}"
    );
    let out = sukusuku(&[
        "catalog",
        "publish",
        &example(),
        "--data",
        &data,
        "--table",
        "t",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for args in [
        &["catalog", "check"][..],
        &["catalog", "check", &example(), "--data", &data],
        &["catalog", "check", "--data", &data, "--table", "t"],
    ] {
        let out = sukusuku(args);
        assert!(!out.status.success(), "{args:?}");
    }
    assert_eq!(std::fs::read(&main).expect("still published"), live);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&staff);
}

/// Built without `--features aws` (the README's run command), an AWS command says how to
/// get it instead of failing obscurely. `scripts/test.sh` runs this file both ways.
#[cfg(not(feature = "aws"))]
#[test]
fn aws_commands_name_the_feature_they_need() {
    let out = sukusuku(&["catalog", "publish", &example(), "--table", "t"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without the `aws` feature"), "{err}");
    assert!(err.contains("--features aws"), "{err}");
    // A broken catalog is named as broken first, as `catalog check` would.
    let path = write_temp("publish-broken-no-aws.yaml", BROKEN);
    let out = sukusuku(&["catalog", "publish", &path, "--table", "t"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line "), "{err}");
    assert!(!err.contains("catalog is valid"), "{err}");
    let out = sukusuku(&["catalog", "check", "--table", "t"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("without the `aws` feature") && err.contains("--features aws"),
        "{err}"
    );
}

/// `sukusuku catalog publish` against a table on moto, with the AWS settings a DevOps
/// engineer would have in the environment.
#[cfg(feature = "aws")]
#[tokio::test]
async fn catalog_publish_validates_then_goes_live() {
    use shared::aws::testing::{moto_config, moto_endpoint, unique_name};
    use shared::aws::{DynamoStore, load_catalog};
    let Some(ep) = moto_endpoint() else { return };
    let config = moto_config(&ep).await;
    let table = unique_name("catalog");
    let store = DynamoStore::from_config(&config, &table);
    shared::aws::dynamo::create_table(store.client(), &table)
        .await
        .expect("table");
    let aws = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sukusuku"))
            .args(args)
            .env("AWS_ENDPOINT_URL", &ep)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "ap-northeast-1")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run sukusuku")
    };
    let publish = |file: String| aws(&["catalog", "publish", &file, "--table", &table]);
    let out = aws(&["catalog", "check", "--table", &table]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("no catalog is published in table {table}")),
        "{stderr}"
    );
    let out = publish(example());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("published to table"), "{stdout}");
    // `catalog check --table` reads back what is live, with its files.
    let out = aws(&["catalog", "check", "--table", &table]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("table {table} (published "))
            && stdout.contains("OK — 54 milestones in 19 categories")
            && stdout.contains("files: newborn-daily.yaml, pregnancy-weekly.yaml"),
        "{stdout}"
    );
    let live = load_catalog(&store).await.expect("published");
    assert_eq!(live.milestones().len(), 54);
    assert_eq!(live.series().len(), 3, "the steps files went with it");

    // A broken file is refused with its line, and the live catalog stays as it was.
    let out = publish(write_temp("publish-broken.yaml", BROKEN));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 6") && stderr.contains("months"),
        "{stderr}"
    );
    assert_eq!(
        load_catalog(&store)
            .await
            .expect("still live")
            .milestones()
            .len(),
        54
    );
}

fn reservations_example() -> String {
    format!(
        "{}/../infra/reservations/example.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn reservations_check_accepts_the_example() {
    let out = sukusuku(&[
        "reservations",
        "check",
        &reservations_example(),
        "--today",
        "2026-12-01",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("example.yaml: OK — 6 services, 61 slots from 2027-01-12 to 2027-02-18"),
        "{text}"
    );
    assert!(
        text.contains("checkup-4m (4か月児健診): 6 slots, 60 seats"),
        "{text}"
    );
    // A day later than the first slots, they are past: named in the CP932 CSV by line.
    let out = sukusuku(&[
        "reservations",
        "check",
        &reservations_example(),
        "--today",
        "2027-01-13",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("slots.csv line 2: field `日付`: 2027-01-12 is past (today is 2027-01-13)"),
        "{err}"
    );
}

#[test]
fn reservations_check_lists_every_problem_of_the_file_and_its_csv() {
    let dir = std::env::temp_dir().join(format!("sukusuku-cli-{}-resv", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let yaml = dir.join("reservations.yaml");
    std::fs::write(
        &yaml,
        "services:\n  - {id: soudan, name: 育児相談, place: 保健センター, who: anyone}\n\
         slots:\n  - {service: soudan, date: 2027-02-30, start: \"10:00\", end: \"10:30\", capacity: 1}\n\
         slots_files: [slots.csv]\n",
    )
    .expect("write yaml");
    let csv = dir.join("slots.csv");
    std::fs::write(
        &csv,
        "サービス,日付,開始,終了,定員\r\nsoudan,2027/3/1,10:00,10:30,1\r\nsoudan,2027/3/1,10:15,10:45,1\r\n",
    )
    .expect("write csv");
    let out = sukusuku(&[
        "reservations",
        "check",
        &yaml.to_string_lossy(),
        "--today",
        "2026-12-01",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the reservations file has 2 problems"),
        "{err}"
    );
    assert!(
        err.contains("line 4: slots[0], field `date`: `2027-02-30` is not a day of the calendar"),
        "{err}"
    );
    assert!(
        err.contains(
            "slots.csv line 3: field `開始`: 10:15–10:45 overlaps slots.csv line 2 (10:00–10:30)"
        ),
        "{err}"
    );
    // The CSV on its own has no services: it is read through the YAML.
    let out = sukusuku(&["reservations", "check", &csv.to_string_lossy()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lists it under `slots_files:`"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `reservations publish` into a data dir, then `export` from it: Excel's CSV (BOM, CRLF,
/// Japanese header); a broken file changes nothing.
#[test]
fn reservations_publish_and_export_on_a_data_dir() {
    let dir = std::env::temp_dir().join(format!("sukusuku-cli-{}-resv-data", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_string_lossy().into_owned();
    let out = sukusuku(&[
        "reservations",
        "publish",
        &reservations_example(),
        "--data",
        &data,
        "--today",
        "2026-12-01",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("published: 6 services, 61 slots from today on (61 added"),
        "{text}"
    );
    let broken = write_temp(
        "resv-broken.yaml",
        "services:\n  - {id: soudan, name: 育児相談, place: 保健センター, who: anyone}\nslots:\n  - {service: soudan, date: 2027-02-30, start: \"10:00\", end: \"10:30\", capacity: 1}\n",
    );
    let out = sukusuku(&["reservations", "publish", &broken, "--data", &data]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 4"));
    let out = sukusuku(&["reservations", "export", "--data", &data]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout
            .starts_with("\u{feff}予約番号,サービス".as_bytes())
    );
    assert!(out.stdout.ends_with(b"\r\n"));
    let out = sukusuku(&[
        "reservations",
        "export",
        "--data",
        &data,
        "--service",
        "nosuch",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checkup-4m"),
        "lists the services"
    );
    let out = sukusuku(&["reservations", "export"]);
    assert!(!out.status.success(), "--data or --table is required");
    let _ = std::fs::remove_dir_all(&dir);
}
