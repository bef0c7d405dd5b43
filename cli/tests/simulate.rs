//! `sukusuku simulate` through the real binary: each simulated resident receives exactly
//! what `sukusuku preview` says for their registrations, 受信設定 and days as a friend; the
//! bill prices the units counted (and the price flags change it); the SVG chart is
//! well-formed; bad input is refused with a clear message.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use shared::catalog::{Catalog, example_source};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sukusuku"))
        .args(args)
        .output()
        .expect("the sukusuku binary runs")
}

fn example() -> String {
    format!(
        "{}/../infra/catalog/example.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sukusuku-sim-{}-{name}", std::process::id()))
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "sukusuku failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&stdout(&run(&all))).expect("the report is JSON")
}

/// The messages `preview` lists for one anchor between two days: (day, id, timing, text).
fn previewed(args: &[String]) -> Vec<(String, String)> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = stdout(&run(&args));
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.len() > 10 && line.as_bytes()[0].is_ascii_digit() {
            out.push((line.to_string(), String::new()));
        } else if let (Some(text), Some(last)) = (line.strip_prefix("    "), out.last_mut()) {
            last.1.push_str(text);
            last.1.push('\n');
        }
    }
    out
}

fn day(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn previous_day(d: &str) -> String {
    let date = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
    (date - chrono::Duration::days(1)).to_string()
}

#[test]
fn every_resident_receives_what_preview_says() {
    let residents = temp("residents.jsonl");
    let (start, end) = ("2027-04-01", "2027-10-17");
    let report = json(&[
        "simulate",
        "--catalog",
        &example(),
        "--residents",
        "150",
        "--days",
        "200",
        "--seed",
        "3",
        "--residents-out",
        &residents.to_string_lossy(),
    ]);
    assert_eq!(report["setup"]["end"], end);
    let catalog = Catalog::from_source(&example_source()).expect("example");
    let categories: Vec<String> = catalog.categories().iter().map(|c| c.id.clone()).collect();
    let lines = std::fs::read_to_string(&residents).expect("residents file");
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut total = 0u64;
    for line in lines.lines() {
        let r: Value = serde_json::from_str(line).expect("a resident");
        let settings = &r["settings"];
        let mut common = vec!["preview".to_string(), "--catalog".into(), example()];
        let muted: BTreeSet<&str> = settings["muted"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !muted.is_empty() {
            *seen.entry("muted").or_default() += 1;
            for c in categories.iter().filter(|c| !muted.contains(c.as_str())) {
                common.extend(["--category".into(), c.clone()]);
            }
        }
        for (field, flag) in [("district", "--district"), ("nursery", "--nursery")] {
            if let Some(id) = settings[field].as_str() {
                common.extend([flag.to_string(), id.to_string()]);
            }
        }
        for h in settings["household"].as_array().into_iter().flatten() {
            common.extend(["--household".into(), h.as_str().unwrap_or("").to_string()]);
        }
        if r["easy"] == true {
            *seen.entry("easy").or_default() += 1;
            common.push("--easy".into());
        }
        // The days the resident is a friend; the day they leave, they are gone by 09:00.
        let from = day(&r["joins_on"]).unwrap_or_else(|| start.to_string());
        let to = day(&r["leaves_on"]).map_or_else(|| end.to_string(), |d| previous_day(&d));
        if r["joins_on"].is_string() {
            *seen.entry("joined").or_default() += 1;
        }
        if let Some(way) = r["leaves"][1].as_str() {
            *seen
                .entry(if way == "stop" { "stopped" } else { "blocked" })
                .or_default() += 1;
        }
        let birth_on = day(&r["birth_registered_on"]);
        // (anchor flag, date, nickname, first day, last day) of each registration.
        let mut anchors: Vec<(&str, String, Option<String>, String, String)> = Vec::new();
        if let Some(due) = day(&r["due"]) {
            let last = birth_on.as_deref().map_or(to.clone(), previous_day);
            anchors.push(("--due", due, None, from.clone(), last));
        }
        for c in r["children"].as_array().into_iter().flatten() {
            anchors.push((
                "--birth",
                day(&c[0]).expect("birthdate"),
                day(&c[1]),
                from.clone(),
                to.clone(),
            ));
        }
        if let (Some(b), Some(on)) = (r["birth"].as_object(), birth_on) {
            *seen.entry("births").or_default() += 1;
            for nickname in b["nicknames"].as_array().into_iter().flatten() {
                anchors.push((
                    "--birth",
                    day(&b["date"]).expect("birth"),
                    day(nickname),
                    on.clone(),
                    to.clone(),
                ));
            }
        }
        // One message per text a day: twins who share a text share a message.
        let mut messages: BTreeSet<(String, String)> = BTreeSet::new();
        for (flag, date, nickname, first, last) in anchors {
            if first > last {
                continue;
            }
            let mut args = common.clone();
            args.extend([
                flag.into(),
                date,
                "--from".into(),
                first,
                "--to".into(),
                last,
            ]);
            if let Some(name) = nickname {
                *seen.entry("nickname").or_default() += 1;
                args.extend(["--nickname".into(), name]);
            }
            messages.extend(previewed(&args));
        }
        let received = r["received"].as_u64().expect("received");
        assert_eq!(
            received,
            messages.len() as u64,
            "{}: the simulation sent {received}, preview lists {}:\n{messages:#?}",
            r["user"],
            messages.len()
        );
        total += received;
    }
    assert_eq!(report["total"]["counts"]["deliveries"], total);
    assert!(total > 500, "{total}");
    // The population exercised every path: joining, births, stops, blocks, nicknames,
    // やさしい日本語 and categories turned off.
    for what in [
        "joined", "births", "stopped", "blocked", "nickname", "easy", "muted",
    ] {
        assert!(
            seen.get(what).copied().unwrap_or(0) > 0,
            "no resident {what}: {seen:?}"
        );
    }
    let _ = std::fs::remove_file(residents);
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

#[test]
fn the_bill_prices_the_counted_units_and_flags_change_the_prices() {
    let base = [
        "simulate",
        "--catalog",
        &example(),
        "--residents",
        "2000",
        "--days",
        "40",
        "--start",
        "2027-01-20",
    ];
    let report = json(&base);
    let months = report["months"].as_array().expect("months");
    assert_eq!(
        months
            .iter()
            .map(|m| m["month"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["2027-01", "2027-02"]
    );
    for m in months {
        let c = &m["counts"];
        // DynamoDB on-demand has no request free tier: its bill is the units at list price.
        let dynamodb = f(&c["read_units"]) / 1e6 * 0.1425 + f(&c["write_units"]) / 1e6 * 0.715;
        assert!((f(&m["bill_usd"]["dynamodb"]) - dynamodb).abs() < 1e-9);
        // The template's 9 alarms for the days of the month simulated, and the logs.
        let days = f(&m["days"]);
        let month_days = if m["month"] == "2027-01" { 31.0 } else { 28.0 };
        let cloudwatch =
            9.0 * days / month_days * 0.10 + f(&c["log_bytes"]) / 1_073_741_824.0 * 0.76;
        assert!((f(&m["bill_usd"]["cloudwatch"]) - cloudwatch).abs() < 1e-9);
        // Inside the free tiers at this size.
        assert_eq!(f(&m["bill_usd"]["lambda"]), 0.0);
        assert_eq!(f(&m["bill_usd"]["sqs"]), 0.0);
        assert!((f(&m["aws_yen"]) - f(&m["aws_usd"]) * 155.0).abs() < 1e-6);
        assert_eq!(m["line"]["messages"], c["deliveries"]);
        assert_eq!(m["line"]["municipal_plan_yen"], 0.0);
        // Lambda: the scan and 1,440 sweeps a day, the sender's batches, the chat.
        assert_eq!(f(&c["scanner_invocations"]), days * 1441.0);
        assert!(f(&c["sender_invocations"]) >= f(&c["jobs"]) / 10.0);
    }
    // The same seed is the same report; another seed another population.
    assert_eq!(json(&base)["total"], report["total"]);
    let mut seeded = base.to_vec();
    seeded.extend(["--seed", "2"]);
    assert_ne!(json(&seeded)["total"]["counts"], report["total"]["counts"]);

    let mut priced = base.to_vec();
    priced.extend([
        "--price-dynamodb-wru",
        "1.43",
        "--price-dynamodb-rru",
        "0",
        "--yen-per-usd",
        "100",
        "--price-lambda-requests",
        "1000",
    ]);
    let other = json(&priced);
    for (a, b) in months
        .iter()
        .zip(other["months"].as_array().expect("months"))
    {
        assert_eq!(a["counts"], b["counts"]);
        let wru = f(&a["counts"]["write_units"]) / 1e6;
        assert!((f(&b["bill_usd"]["dynamodb"]) - wru * 1.43).abs() < 1e-9);
        assert!((f(&b["aws_yen"]) - f(&b["aws_usd"]) * 100.0).abs() < 1e-6);
        // Inside Lambda's free million requests, the price does not matter.
        assert_eq!(f(&b["bill_usd"]["lambda"]), 0.0);
    }
}

#[test]
fn the_report_reads_as_tables_and_the_chart_is_well_formed_svg() {
    let svg = temp("chart.svg");
    let svg_path = svg.to_string_lossy().into_owned();
    let example = example();
    let town = |extra: &[&'static str]| {
        let mut args = vec!["simulate", "--catalog", &example, "--residents", "500"];
        args.extend(["--days", "70"]);
        args.extend(extra);
        args
    };
    let mut args = town(&["--daily-programme", "--svg"]);
    args.push(&svg_path);
    let out = run(&args);
    let text = stdout(&out);
    for needle in [
        "example.yaml + daily programme, 500 residents, 70 days from 2027-04-01 to 2027-06-09",
        "month    deliveries",
        "2027-04",
        "2027-06",
        "total",
        "Deliveries per month:",
        "busiest",
        "地方公共団体プラン",
        "cheapest ordinary plan",
    ] {
        assert!(text.contains(needle), "`{needle}` missing:\n{text}");
    }
    let chart = std::fs::read_to_string(&svg).expect("the chart is written");
    let doc = roxmltree::Document::parse(&chart).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    // One bar a month in each of the two panels, each saying what it shows.
    let bars: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.children().any(|c| c.has_tag_name("title")))
        .collect();
    assert_eq!(bars.len(), 6, "{chart}");
    assert!(chart.contains("2027-05: "), "{chart}");
    // The daily programme sends more than the example alone.
    let without = json(&town(&[]));
    let with = json(&town(&["--daily-programme"]));
    let deliveries = |r: &Value| f(&r["total"]["counts"]["deliveries"]);
    assert!(deliveries(&with) > 3.0 * deliveries(&without));
    let _ = std::fs::remove_file(svg);
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let broken = temp("broken.yaml");
    std::fs::write(
        &broken,
        "categories:\n  - {id: health, label: 健診}\nmilestones:\n  - id: dental\n    anchor: due_date\n    at: {months: 7}\n    category: health\n    text: 歯科健診\n",
    )
    .expect("write");
    let no_daily = temp("no-daily.yaml");
    std::fs::write(
        &no_daily,
        "categories:\n  - {id: health, label: 健診}\nmilestones:\n  - id: dental\n    anchor: due_date\n    at: {weeks: 24}\n    category: health\n    text: 歯科健診\n",
    )
    .expect("write");
    let example = example();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--residents", "0"],
            "--residents must be from 1 to 5000000 (got 0)",
        ),
        (
            vec!["--residents", "5000001"],
            "--residents must be from 1 to 5000000",
        ),
        (vec!["--residents=-3"], "invalid value '-3'"),
        (
            vec!["--residents", "10", "--days", "0"],
            "--days must be from 1 to 1096 (got 0)",
        ),
        (
            vec!["--residents", "10", "--days", "5000"],
            "--days must be from 1 to 1096",
        ),
        (
            vec!["--residents", "10", "--yen-per-usd", "0"],
            "--yen-per-usd must be more than 0",
        ),
        (
            vec!["--residents", "10", "--price-sqs-requests=-1"],
            "--price-sqs-requests must be a price in USD, 0 or more",
        ),
        (
            vec!["--residents", "10", "--start", "2027-02-30"],
            "`2027-02-30` is not a date",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["simulate", "--catalog", &example];
        args.extend(extra);
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed a report");
    }
    let catalog_cases = [
        (
            temp("missing.yaml"),
            vec![],
            "cannot read the catalog".to_string(),
        ),
        (
            broken.clone(),
            vec![],
            "line 6: milestones[0] (dental), field `at`".to_string(),
        ),
        (
            no_daily.clone(),
            vec!["--daily-programme"],
            "--daily-programme puts its notices in the category `daily`".to_string(),
        ),
    ];
    for (catalog, extra, message) in catalog_cases {
        let path = catalog.to_string_lossy().into_owned();
        let mut args = vec!["simulate", "--catalog", &path, "--residents", "10"];
        args.extend(extra);
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(err.contains(&message), "{args:?}: {err}");
    }
    let _ = std::fs::remove_file(broken);
    let _ = std::fs::remove_file(no_daily);
}
