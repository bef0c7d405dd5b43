//! The loader's tests: shapes, rules and where each problem is said to be.

use super::*;
use crate::catalog::MAX_CHOICES;
use crate::catalog::offset::Offset;

use crate::catalog::tests::GOOD;

fn problems(yaml: &str) -> Vec<String> {
    match Catalog::from_yaml(yaml) {
        Ok(_) => vec![],
        Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn loads_a_good_catalog() {
    let c = Catalog::from_yaml(GOOD).expect("valid catalog");
    assert_eq!(c.categories().len(), 2);
    assert_eq!(c.milestones().len(), 3);
    assert_eq!(
        c.milestone("dental-checkup").map(|m| m.offset),
        Some(Offset::Gestation { days: 168 })
    );
    assert_eq!(
        c.milestone("fluoride").map(|m| m.offset),
        Some(Offset::Age {
            months: 14,
            days: 0
        })
    );
    assert_eq!(c.distinct_offsets(), 3);
    let m = c.milestone("dental-checkup").expect("exists");
    assert_eq!(m.text_for(true), "はいしゃさんの けんしん");
    assert_eq!(m.text_for(false), "妊婦歯科検診のご案内");
    assert_eq!(
        c.milestone("one-week").expect("exists").text_for(true),
        "1週間誕生日おめでとうございます"
    );
}

#[test]
fn months_with_due_date_are_rejected_naming_line_entry_and_field() {
    let bad = GOOD.replace("at: {weeks: 24}", "at: {months: 6}");
    let p = problems(&bad);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("line 8: milestones[0] (dental-checkup), field `at`:"),
        "{}",
        p[0]
    );
    assert!(p[0].contains("not allowed with anchor due_date"));
}

#[test]
fn broken_catalogs_are_rejected_with_a_reason() {
    let cases: Vec<(String, &str)> = vec![
        (
            GOOD.replace("category: life", "category: lifestyle"),
            "`lifestyle` is not one of the categories",
        ),
        (
            GOOD.replace("id: one-week", "id: dental-checkup"),
            "`dental-checkup` is used twice",
        ),
        (
            GOOD.replace("at: {weeks: 1}", "at: {}"),
            "name at least one of",
        ),
        (
            GOOD.replace("at: {weeks: 24}", "at: {weeks: 44}"),
            "at most 42 weeks 6 days",
        ),
        (
            GOOD.replace("at: {years: 1, months: 2}", "at: {years: 19}"),
            "before the child's 19th birthday",
        ),
        (
            GOOD.replace("text: \"フッ化物塗布のご案内\"", "text: \"  \""),
            "field `text`: is empty",
        ),
        (
            GOOD.replace(
                "text: \"フッ化物塗布のご案内\"",
                &format!("text: \"{}\"", "あ".repeat(5001)),
            ),
            "LINE allows 5000",
        ),
        (
            GOOD.replace(
                "label: 子育て情報",
                "label: とてもとてもとてもながい子育て情報のラベル",
            ),
            "1–20 characters",
        ),
        (
            GOOD.replace("id: fluoride", "id: フッ素"),
            "use 1–64 letters",
        ),
    ];
    for (yaml, expected) in cases {
        let p = problems(&yaml);
        assert!(
            p.iter().any(|x| x.contains(expected)),
            "expected {expected:?} in {p:?}"
        );
    }
}

/// The one problem a file has, as staff read it.
fn only_problem(yaml: &str) -> String {
    let p = problems(yaml);
    assert_eq!(p.len(), 1, "{p:?}");
    p.into_iter().next().unwrap_or_default()
}

#[test]
fn yaml_errors_name_line_entry_field_and_column() {
    assert_eq!(
        only_problem(&GOOD.replace(
            "anchor: birth_date\n    at: {weeks: 1}",
            "anchor: birthday\n    at: {weeks: 1}",
        )),
        "line 13: milestones[1] (one-week), field `anchor`: unknown variant `birthday`, \
         expected one of due_date, birth_date (column 13)"
    );
    assert!(
        only_problem(&GOOD.replace("easy_text:", "easytext:")).starts_with(
            "line 11: milestones[0] (dental-checkup), field `easytext`: unknown field `easytext`"
        )
    );
    assert!(
        only_problem(&GOOD.replace("categories:", "categorys:"))
            .starts_with("line 2: field `categorys`: unknown field `categorys`")
    );
    assert_eq!(
        only_problem("milestones: ["),
        "line 1: field `milestones`: unclosed bracket '[' (column 13)"
    );
    assert!(only_problem("").contains("unexpected end of file"));
    assert!(
        only_problem("categories: []\nmilestones: []\n---\ncategories: []\n")
            .contains("only single YAML document expected")
    );
    assert!(problems("categories: []\nmilestones: []\n")[0].contains("no milestones"));
}

#[test]
fn wrong_types_say_what_was_written_and_what_is_wanted() {
    for (written, expected) in [
        (
            "{weeks: -1}",
            "field `at.weeks`: must be a whole number, 0 or more, not `-1`",
        ),
        (
            "{weeks: 1.5}",
            "field `at.weeks`: must be a whole number, 0 or more, not `1.5`",
        ),
        (
            "{weeks: many}",
            "field `at.weeks`: must be a whole number, 0 or more, not `many`",
        ),
        ("{weeks: 99999999999}", "not `99999999999`"),
        ("7", "field `at`: expected mapping"),
    ] {
        let p = only_problem(&GOOD.replace("at: {weeks: 1}", &format!("at: {written}")));
        assert!(p.starts_with("line 14: milestones[1] (one-week), "), "{p}");
        assert!(p.contains(expected), "{written}: {p}");
    }
    let p = only_problem(&GOOD.replace(
        "text: \"フッ化物塗布のご案内\"",
        "text: [\"フッ化物塗布のご案内\"]",
    ));
    assert!(
        p.starts_with("line 21: milestones[2] (fluoride), field `text`: expected string"),
        "{p}"
    );
}

#[test]
fn a_missing_field_is_named_as_the_field() {
    let p = only_problem(&GOOD.replace("    category: life\n", ""));
    assert!(
        p.starts_with(
            "line 12: milestones[1] (one-week), field `category`: missing field `category` \
             (column 5)"
        ),
        "{p}"
    );
}

#[test]
fn duplicate_keys_are_refused_wherever_they_are() {
    assert_eq!(
        only_problem(&GOOD.replace(
            "    category: life\n",
            "    category: life\n    category: health\n"
        )),
        "line 16: milestones[1] (one-week), field `category`: `category` is written twice; \
         keep one (column 5)"
    );
    assert!(
        only_problem(&GOOD.replace("at: {weeks: 1}", "at: {weeks: 1, weeks: 2}")).starts_with(
            "line 14: milestones[1] (one-week), field `at.weeks`: `weeks` is written twice"
        )
    );
    assert!(
        only_problem(&format!("{GOOD}categories: []\n"))
            .starts_with("line 22: field `categories`: `categories` is written twice")
    );
    assert!(
        only_problem(&GOOD.replace(
            "{id: life, label: 子育て情報}",
            "{id: life, label: 子育て情報, label: 育児}"
        ))
        .starts_with("line 4: categories[1] (life), field `label`: `label` is written twice")
    );
}

/// Ten levels of nine aliases each: a billion `lol`s if anything expanded them.
fn billion_laughs(indent: &str) -> String {
    (0..10)
        .map(|level| {
            let items = if level == 0 {
                vec!["lol".to_string(); 9]
            } else {
                vec![format!("*lol{}", level - 1); 9]
            };
            format!("{indent}l{level}: &lol{level} [{}]\n", items.join(", "))
        })
        .collect()
}

#[test]
fn a_billion_laughs_is_refused_at_once() {
    let started = std::time::Instant::now();
    // Inside an entry, where naming the entry reads the file a second time and skips
    // unknown keys: the alias limits must stop that pass too.
    let p = only_problem(&GOOD.replace(
        "    category: life\n",
        &format!("    category: life\n{}", billion_laughs("    ")),
    ));
    assert!(
        p.starts_with("line 16: milestones[1], field `l0`: unknown field `l0`"),
        "{p}"
    );
    let p = only_problem(&format!("{}{}", billion_laughs(""), GOOD.trim_start()));
    assert!(p.contains("unknown field `l0`"), "{p}");
    // Unbounded expansion takes minutes and gigabytes; refusal takes milliseconds.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_text_repeated_through_aliases_is_refused_at_the_size_limit() {
    // Each alias is small, but expands to the whole entry with its 12 KB text.
    let mut yaml = format!(
        "categories:\n  - {{id: a, label: b}}\nmilestones:\n  - &m {{id: x, anchor: due_date, \
         at: {{weeks: 1}}, category: a, text: \"{}\"}}\n",
        "あ".repeat(4000)
    );
    for _ in 0..150 {
        yaml.push_str("  - *m\n");
    }
    let p = only_problem(&yaml);
    assert!(
        p.contains("the file is larger than a catalog can be, or repeats anchors"),
        "{p}"
    );
    assert!(p.starts_with("line 91: milestones[87]"), "{p}");
}

#[test]
fn anchors_and_aliases_within_the_limits_load() {
    let yaml = GOOD
        .replace(
            "text: \"フッ化物塗布のご案内\"",
            "text: &fluoride \"フッ化物塗布のご案内\"\n    easy_text: *fluoride",
        )
        .replace("at: {weeks: 1}", "at: &week {weeks: 1}");
    let c = Catalog::from_yaml(&yaml).expect("valid");
    let m = c.milestone("fluoride").expect("exists");
    assert_eq!(m.easy_text.as_deref(), Some("フッ化物塗布のご案内"));
}

#[test]
fn rule_problems_point_at_the_line_of_the_value() {
    let yaml = GOOD
        .replace("category: life", "category: lifestyle")
        .replace("label: 子育て情報", "label: \" \"")
        .replace("id: fluoride", "id: dental-checkup")
        .replace(
            "text: \"フッ化物塗布のご案内\"",
            &format!(
                "text: |-\n      {}\n    easy_text: \"  \"",
                "あ".repeat(5001)
            ),
        );
    assert_eq!(
        problems(&yaml),
        vec![
            "line 4: categories[1] (life), field `label`: must be 1–20 characters \
             (it becomes a LINE button), not 0",
            "line 15: milestones[1] (one-week), field `category`: `lifestyle` is not one of \
             the categories",
            "line 17: milestones[2] (dental-checkup), field `id`: `dental-checkup` is used twice",
            // A block text (`|-`) is found by its first line.
            "line 22: milestones[2] (dental-checkup), field `text`: is 5001 UTF-16 units long; \
             LINE allows 5000",
            "line 23: milestones[2] (dental-checkup), field `easy_text`: is empty",
        ]
    );
}

// ── 受信設定, audiences, series and placeholders ─────────────────────────────────────

const FULL: &str = r#"
categories:
  - {id: health, label: 健診・予防接種, easy_label: けんしん}
  - {id: daily, label: 毎日のひとこと}
settings:
  district:
    label: お住まいの地区
    choices:
      - {id: north, label: 北地区}
      - {id: south, label: 南地区, easy_label: みなみ}
  household:
    label: 世帯の状況
    choices:
      - {id: single-parent, label: ひとり親家庭}
      - {id: multiple-birth, label: 多胎（ふたご・みつご）}
  nursery:
    label: 保育所（園）の申込状況
    easy_label: ほいくえん
    choices:
      - {id: none, label: 予定なし}
      - {id: planning, label: 申込予定}
milestones:
  - id: hokatsu
    anchor: birth_date
    at: {months: 6}
    category: health
    audience: {nursery: [planning], districts: [north]}
    text: "{nickname}の保活"
  - id: dental
    anchor: due_date
    at: {weeks: 24}
    category: health
    text: "妊娠{gestational_weeks}週"
series:
  - id: pregnancy-weekly
    anchor: due_date
    from: {weeks: 4}
    to: {weeks: 6}
    every: {weeks: 1}
    category: daily
    steps_file: weekly.yaml
  - id: newborn
    anchor: birth_date
    from: {days: 0}
    to: {days: 4}
    every: {days: 2}
    category: daily
    audience: {household: [multiple-birth]}
    steps:
      - {at: {days: 0}, text: 誕生おめでとう}
      - {at: {days: 2}, text: 生後2日, easy_text: うまれて 2にち}
      - {at: {days: 4}, text: "{age}"}
  - id: tip
    anchor: birth_date
    from: {days: 10}
    to: {weeks: 3}
    every: {days: 1}
    category: daily
    text: "生後{days_old}日のひとこと"
    easy_text: "うまれて {days_old}にち"
"#;

const WEEKLY: &str = "\
- at: {weeks: 4}
  text: 妊娠4週
- at: {weeks: 5}
  text: 妊娠5週
  easy_text: にんしん 5しゅう
- at: {weeks: 6}
  text: \"あと{days_to_due}日\"
";

/// The catalog `main` with the files `files`, as `catalog check` reads them.
fn load(main: &str, files: &[(&str, &str)]) -> Result<(Catalog, CatalogSource), CatalogError> {
    Catalog::load_with_files(main, |name| {
        files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| text.to_string())
            .ok_or_else(|| "there is no such file beside the catalog".to_string())
    })
}

fn full_problems(main: &str, weekly: &str) -> Vec<String> {
    match load(main, &[("weekly.yaml", weekly)]) {
        Ok(_) => vec![],
        Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
    }
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_with(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"))
}

fn expect_problem(main: &str, weekly: &str, expected: &str) {
    let p = full_problems(main, weekly);
    assert!(
        p.iter().any(|x| x.contains(expected)),
        "expected {expected:?} in {p:?}"
    );
}

#[test]
fn loads_settings_audiences_and_series_with_their_files() {
    let (c, source) =
        load(FULL, &[("weekly.yaml", WEEKLY), ("unused.yaml", "x")]).expect("valid catalog");
    assert_eq!(
        c.category("health").and_then(|x| x.easy_label.as_deref()),
        Some("けんしん")
    );
    assert_eq!(
        c.category("daily").and_then(|x| x.easy_label.as_deref()),
        None
    );
    let q = c.questions();
    assert_eq!(q.district.label, "お住まいの地区");
    assert_eq!(q.district.choices.len(), 2);
    assert_eq!(
        q.district
            .choice("south")
            .and_then(|x| x.easy_label.as_deref()),
        Some("みなみ")
    );
    assert_eq!(q.household.choices[1].label, "多胎（ふたご・みつご）");
    assert_eq!(q.nursery.easy_label.as_deref(), Some("ほいくえん"));
    let hokatsu = c.milestone("hokatsu").expect("milestone");
    assert_eq!(
        hokatsu.audience.nursery.iter().collect::<Vec<_>>(),
        vec!["planning"]
    );
    assert_eq!(
        hokatsu.audience.districts.iter().collect::<Vec<_>>(),
        vec!["north"]
    );
    assert!(
        c.milestone("dental")
            .expect("milestone")
            .audience
            .is_everyone()
    );

    let weekly = c.series_named("pregnancy-weekly").expect("series");
    assert_eq!((weekly.first, weekly.last, weekly.every), (28, 42, 7));
    assert_eq!(
        weekly.steps.keys().copied().collect::<Vec<_>>(),
        vec![28, 35, 42]
    );
    assert_eq!(weekly.steps[&35].text_for(true), "にんしん 5しゅう");
    assert_eq!(weekly.steps[&28].text_for(true), "妊娠4週");
    let newborn = c.series_named("newborn").expect("series");
    assert_eq!(
        newborn.steps.keys().copied().collect::<Vec<_>>(),
        vec![0, 2, 4]
    );
    assert!(newborn.audience.household.contains("multiple-birth"));
    let tip = c.series_named("tip").expect("series");
    assert_eq!(tip.steps.len(), 12);
    assert_eq!(tip.steps[&15].text_for(true), "うまれて {days_old}にち");

    // The bundle holds what was read, and nothing the catalog does not name.
    assert_eq!(source.main, FULL);
    assert_eq!(source.files.keys().collect::<Vec<_>>(), vec!["weekly.yaml"]);
    let again = Catalog::from_source(&source).expect("the bundle loads alone");
    assert_eq!(again.series().len(), 3);
    assert_eq!(again.series(), c.series());
}

#[test]
fn a_catalog_of_series_alone_is_fine_but_an_empty_one_is_not() {
    let series_only = "categories:\n  - {id: daily, label: 毎日}\nseries:\n  - id: tip\n    \
                       anchor: birth_date\n    from: {days: 0}\n    to: {days: 6}\n    every: \
                       {days: 1}\n    category: daily\n    text: \"生後{days_old}日\"\n";
    let c = Catalog::from_yaml(series_only).expect("series alone");
    assert!(c.milestones().is_empty());
    assert_eq!(c.series()[0].steps.len(), 7);
    assert_eq!(
        problems("categories: []\n"),
        vec!["field `milestones`: the catalog has no milestones and no series"]
    );
}

#[test]
fn a_steps_file_is_needed_from_the_caller() {
    let p = problems(FULL);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with(&format!(
            "line {}: series[0] (pregnancy-weekly), field `steps_file`: cannot read \
             `weekly.yaml`: it is not among the files given with the catalog",
            line_with(FULL, "steps_file: weekly.yaml")
        )),
        "{}",
        p[0]
    );
    let p = full_problems(&FULL.replace("weekly.yaml", "missing.yaml"), WEEKLY);
    assert_eq!(
        p,
        vec![format!(
            "line {}: series[0] (pregnancy-weekly), field `steps_file`: cannot read \
             `missing.yaml`: there is no such file beside the catalog",
            line_with(FULL, "steps_file: weekly.yaml")
        )]
    );
}

#[test]
fn a_steps_file_must_stay_beside_the_catalog() {
    for name in [
        "/etc/passwd",
        "../weekly.yaml",
        "steps/../../x.yaml",
        "a\\b.yaml",
        "C:x.yaml",
        "./",
    ] {
        let mut read = Vec::new();
        let result = Catalog::load_with_files(&FULL.replace("weekly.yaml", name), |n| {
            read.push(n.to_string());
            Ok(WEEKLY.to_string())
        });
        let p: Vec<String> = result
            .err()
            .map(|e| e.problems.iter().map(|p| p.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(p.len(), 1, "{name}: {p:?}");
        assert!(p[0].contains("field `steps_file`"), "{}", p[0]);
        assert!(p[0].contains("no absolute path, no `..`"), "{}", p[0]);
        assert!(read.is_empty(), "{name} was read: {read:?}");
    }
    // A file in a folder beside the catalog is fine.
    let nested = FULL.replace("weekly.yaml", "programmes/weekly.yaml");
    assert!(load(&nested, &[("programmes/weekly.yaml", WEEKLY)]).is_ok());
}

#[test]
fn unknown_choice_ids_in_an_audience_are_named() {
    for (from, to, expected) in [
        (
            "audience: {nursery: [planning], districts: [north]}",
            "audience: {nursery: [planning], districts: [east]}",
            "milestones[0] (hokatsu), field `audience.districts`: `east` is not one of the \
             districts (settings.district lists north, south)",
        ),
        (
            "audience: {nursery: [planning], districts: [north]}",
            "audience: {nursery: [applied], districts: [north]}",
            "field `audience.nursery`: `applied` is not one of the nursery choices \
             (settings.nursery lists none, planning)",
        ),
        (
            "audience: {household: [multiple-birth]}",
            "audience: {household: [twins]}",
            "series[1] (newborn), field `audience.household`: `twins` is not one of the \
             household choices",
        ),
        (
            "audience: {household: [multiple-birth]}",
            "audience: {household: []}",
            "series[1] (newborn), field `audience.household`: is empty",
        ),
        (
            "audience: {household: [multiple-birth]}",
            "audience: {}",
            "series[1] (newborn), field `audience`: names no districts",
        ),
    ] {
        expect_problem(&FULL.replace(from, to), WEEKLY, expected);
    }
    // Without a district question, no district can be named.
    let no_districts = FULL.replace(
        "  district:\n    label: お住まいの地区\n    choices:\n      - {id: north, label: 北地区}\n      - {id: south, label: 南地区, easy_label: みなみ}\n",
        "",
    );
    expect_problem(
        &no_districts,
        WEEKLY,
        "`north` is not one of the districts (settings.district lists none)",
    );
    // The line is the id's own.
    let p = full_problems(&FULL.replace("[multiple-birth]", "[twins]"), WEEKLY);
    assert!(
        p[0].starts_with(&format!("line {}:", line_with(FULL, "[multiple-birth]"))),
        "{p:?}"
    );
}

#[test]
fn series_spans_and_cadences_are_checked() {
    for (from, to, expected) in [
        (
            "every: {weeks: 1}",
            "every: {days: 0}",
            "series[0] (pregnancy-weekly), field `every`: must be at least 1 day",
        ),
        (
            "to: {weeks: 6}",
            "to: {weeks: 3}",
            "field `to`: 妊娠3週0日 (day 21) comes before `from`, 妊娠4週0日 (day 28)",
        ),
        (
            "from: {weeks: 4}",
            "from: {months: 1}",
            "field `from`: years and months are not allowed in a series",
        ),
        (
            "every: {days: 2}",
            "every: {months: 1}",
            "series[1] (newborn), field `every`: years and months are not allowed in a series",
        ),
        (
            "to: {weeks: 6}",
            "to: {weeks: 43}",
            "field `to`: day 301 is past the last day a series may reach, 妊娠42週6日 (day 300)",
        ),
        (
            "from: {days: 10}",
            "from: {}",
            "series[2] (tip), field `from`: name weeks or days",
        ),
        (
            "to: {days: 4}",
            "to: {days: 5}",
            "series[1] (newborn), field `to`: 生後5日 (day 5) is not one of the series' days \
             (every 2 days from 生後0日 (day 0)); end at 生後4日 (day 4) or 生後6日 (day 6)",
        ),
        (
            "{at: {days: 2}, text: 生後2日",
            "{at: {days: 3}, text: 生後2日",
            "series[1] (newborn), field `steps[1].at`: 生後3日 (day 3) is not one of the \
             series' days (every 2 days from 生後0日 (day 0) to 生後4日 (day 4)); the nearest \
             is 生後2日 (day 2) or 生後4日 (day 4)",
        ),
        (
            "{at: {days: 2}, text: 生後2日",
            "{at: {days: 6}, text: 生後2日",
            "field `steps[1].at`: 生後6日 (day 6) is outside the series, which runs every 2 \
             days from 生後0日 (day 0) to 生後4日 (day 4)",
        ),
        (
            "{at: {days: 2}, text: 生後2日",
            "{at: {months: 2}, text: 生後2日",
            "field `steps[1].at`: years and months are not allowed in a series",
        ),
        (
            "{at: {days: 2}, text: 生後2日",
            "{at: {days: 0}, text: 生後2日",
            "field `steps[1].at`: 生後0日 (day 0) is written twice (also steps[0])",
        ),
        (
            "      - {at: {days: 2}, text: 生後2日, easy_text: うまれて 2にち}\n",
            "",
            "series[1] (newborn), field `steps`: `steps` has no step for 1 of the series' 3 \
             days (every 2 days from 生後0日 (day 0) to 生後4日 (day 4)): 生後2日 (day 2)",
        ),
        (
            "    steps_file: weekly.yaml\n",
            "",
            "series[0] (pregnancy-weekly), field `steps_file`: give the texts",
        ),
        (
            "    steps_file: weekly.yaml\n",
            "    steps_file: weekly.yaml\n    text: ひとこと\n",
            "series[0] (pregnancy-weekly), field `steps_file`: give only one of steps_file, \
             steps and text",
        ),
        (
            "    steps_file: weekly.yaml\n",
            "    steps_file: weekly.yaml\n    easy_text: ひとこと\n",
            "field `easy_text`: goes with `text`",
        ),
        (
            "    category: daily\n    steps_file",
            "    category: weekly\n    steps_file",
            "series[0] (pregnancy-weekly), field `category`: `weekly` is not one of the categories",
        ),
    ] {
        assert!(FULL.contains(from), "{from}");
        expect_problem(&FULL.replace(from, to), WEEKLY, expected);
    }
}

#[test]
fn problems_in_a_steps_file_name_the_file_line_entry_and_field() {
    // A step off the cadence, an unknown placeholder, and so a day without a step.
    let weekly = WEEKLY
        .replace("at: {weeks: 5}", "at: {weeks: 5, days: 2}")
        .replace("あと{days_to_due}日", "あと{days_to_go}日");
    let p = full_problems(FULL, &weekly);
    assert_eq!(
        p,
        vec![
            format!(
                "weekly.yaml line 3: steps[1] (妊娠5週2日), field `at`: 妊娠5週2日 (day 37) is \
                 not one of the series' days (every week from 妊娠4週0日 (day 28) to \
                 妊娠6週0日 (day 42)); the nearest is 妊娠5週0日 (day 35) or 妊娠6週0日 (day 42)"
            ),
            format!(
                "weekly.yaml line 7: steps[2] (妊娠6週0日), field `text`: unknown placeholder \
                 {{days_to_go}}; known: {}",
                crate::catalog::placeholder::PLACEHOLDERS
                    .iter()
                    .map(|(n, _, _)| format!("{{{n}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            // In the same check: the day the misplaced step left without a text.
            "line 41: series[0] (pregnancy-weekly), field `steps_file`: `weekly.yaml` has no \
             step for 1 of the series' 3 days (every week from 妊娠4週0日 (day 28) to \
             妊娠6週0日 (day 42)): 妊娠5週0日 (day 35)"
                .to_string(),
        ]
    );
    // A parser error in the file is named by the file too.
    let p = full_problems(FULL, &WEEKLY.replace("easy_text:", "easytext:"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with(
            "weekly.yaml line 5: steps[1] (妊娠5週0日), field `easytext`: unknown field `easytext`"
        ),
        "{}",
        p[0]
    );
    let p = full_problems(FULL, "text: not a list\n");
    assert!(p[0].starts_with("weekly.yaml line 1:"), "{p:?}");
}

#[test]
fn a_steps_file_lacking_days_names_them_readably() {
    let p = full_problems(
        FULL,
        &WEEKLY.replace(
            "- at: {weeks: 5}\n  text: 妊娠5週\n  easy_text: にんしん 5しゅう\n",
            "",
        ),
    );
    assert_eq!(
        p,
        vec![format!(
            "line {}: series[0] (pregnancy-weekly), field `steps_file`: `weekly.yaml` has no \
             step for 1 of the series' 3 days (every week from 妊娠4週0日 (day 28) to \
             妊娠6週0日 (day 42)): 妊娠5週0日 (day 35)",
            line_with(FULL, "steps_file:")
        )]
    );
    // A daily series with an empty file: the first days named, the rest counted.
    let daily = FULL
        .replace("every: {weeks: 1}", "every: {days: 1}")
        .replace("to: {weeks: 6}", "to: {weeks: 5, days: 2}");
    let p = full_problems(&daily, "[]");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].ends_with(
            "has no step for 10 of the series' 10 days (every day from 妊娠4週0日 (day 28) \
             to 妊娠5週2日 (day 37)): 妊娠4週0日 (day 28), 妊娠4週1日 (day 29), 妊娠4週2日 (day \
             30), 妊娠4週3日 (day 31), 妊娠4週4日 (day 32), and 5 more"
        ),
        "{}",
        p[0]
    );
    // After birth, days are named 生後N日.
    let p = full_problems(
        &FULL.replace("      - {at: {days: 4}, text: \"{age}\"}\n", ""),
        WEEKLY,
    );
    assert!(p[0].ends_with(": 生後4日 (day 4)"), "{p:?}");
}

#[test]
fn milestone_and_series_ids_share_one_namespace() {
    let p = full_problems(&FULL.replace("id: tip", "id: dental"), WEEKLY);
    assert_eq!(
        p,
        vec![format!(
            "line {}: series[2] (dental), field `id`: `dental` is also the id of a milestone; \
             milestones and series share ids (a resident's deliveries are recorded by id), so \
             give this one another",
            line_with(FULL, "id: tip")
        )]
    );
    expect_problem(
        &FULL.replace("id: newborn", "id: pregnancy-weekly"),
        WEEKLY,
        "series[1] (pregnancy-weekly), field `id`: `pregnancy-weekly` is used twice",
    );
    expect_problem(
        &FULL.replace("id: newborn", "id: 新生児"),
        WEEKLY,
        "field `id`: use 1–64 letters",
    );
    // A lone `-` is what a postback sends for "no answer": no id may start with it.
    expect_problem(
        &FULL.replace("id: newborn", "id: \"-\""),
        WEEKLY,
        "starting with a letter or digit",
    );
}

#[test]
fn questions_need_distinct_choices_and_short_labels() {
    for (from, to, expected) in [
        (
            "{id: south, label: 南地区",
            "{id: north, label: 南地区",
            "settings.district.choices[1] (north), field `id`: `north` is used twice",
        ),
        (
            "{id: south, label: 南地区",
            "{id: south, label: \" \"",
            "settings.district.choices[1] (south), field `label`: must be 1–20 characters \
             (it becomes a LINE button), not 0",
        ),
        (
            "easy_label: みなみ",
            "easy_label: みなみの ほうに ある ちく です よ ね",
            "settings.district.choices[1] (south), field `easy_label`: must be 1–20 characters",
        ),
        (
            "label: 世帯の状況",
            "label: 世帯の状況（あてはまるものをすべてえらんでください）",
            "settings.household, field `label`: must be 1–20 characters",
        ),
        (
            "easy_label: けんしん",
            "easy_label: \"\"",
            "categories[0] (health), field `easy_label`: must be 1–20 characters",
        ),
        (
            "    choices:\n      - {id: none, label: 予定なし}\n      - {id: planning, label: 申込予定}\n",
            "    choices: []\n",
            "settings.nursery, field `choices`: lists no choices",
        ),
        (
            "{id: single-parent, label: ひとり親家庭}",
            "{id: ひとり親, label: ひとり親家庭}",
            "settings.household.choices[0] (ひとり親), field `id`: use 1–64 letters",
        ),
    ] {
        assert!(FULL.contains(from), "{from}");
        expect_problem(&FULL.replace(from, to), WEEKLY, expected);
    }
}

#[test]
fn categories_and_choices_are_limited_so_the_chat_can_show_them() {
    let categories: String = (0..=MAX_CATEGORIES)
        .map(|i| format!("  - {{id: c{i}, label: 分類{i}}}\n"))
        .collect();
    let yaml = GOOD.replace("categories:\n", &format!("categories:\n{categories}"));
    expect_problem(
        &yaml,
        "",
        &format!(
            "field `categories`: lists {} categories; at most 30 fit the chat's 受信設定",
            MAX_CATEGORIES + 3
        ),
    );
    let choices: String = (0..=MAX_CHOICES)
        .map(|i| format!("      - {{id: d{i}, label: 地区{i}}}\n"))
        .collect();
    let yaml = FULL.replace(
        "      - {id: north, label: 北地区}\n",
        &format!("      - {{id: north, label: 北地区}}\n{choices}"),
    );
    expect_problem(
        &yaml,
        WEEKLY,
        &format!(
            "settings.district, field `choices`: lists {} choices; at most 20 fit the chat's \
             buttons",
            MAX_CHOICES + 3
        ),
    );
    // Exactly at the limits is fine.
    let categories: String = (0..MAX_CATEGORIES - 2)
        .map(|i| format!("  - {{id: c{i}, label: 分類{i}}}\n"))
        .collect();
    let yaml = GOOD.replace("categories:\n", &format!("categories:\n{categories}"));
    assert_eq!(
        Catalog::from_yaml(&yaml).map(|c| c.categories().len()).ok(),
        Some(MAX_CATEGORIES)
    );
}

#[test]
fn placeholders_are_checked_for_their_anchor_braces_and_length() {
    for (from, to, expected) in [
        (
            "妊娠{gestational_weeks}週",
            "{nickname}さん、妊娠{gestational_weeks}週",
            "milestones[1] (dental), field `text`: placeholder {nickname} needs anchor \
             birth_date, but this entry counts from due_date",
        ),
        (
            "{nickname}の保活",
            "{gestational_weeks}の保活",
            "milestones[0] (hokatsu), field `text`: placeholder {gestational_weeks} needs \
             anchor due_date",
        ),
        (
            "{nickname}の保活",
            "{nick_name}の保活",
            "milestones[0] (hokatsu), field `text`: unknown placeholder {nick_name}; known: \
             {gestational_weeks}",
        ),
        (
            "{nickname}の保活",
            "{nickname の保活",
            "milestones[0] (hokatsu), field `text`: braces do not balance: a `{` that is never \
             closed (write `{{` for a literal brace)",
        ),
        (
            "{nickname}の保活",
            "nickname}の保活",
            "braces do not balance: a `}` without its `{`",
        ),
        (
            "\"生後{days_old}日のひとこと\"",
            "\"生後{gestational_days}日のひとこと\"",
            "series[2] (tip), field `text`: placeholder {gestational_days} needs anchor due_date",
        ),
        (
            "easy_text: \"うまれて {days_old}にち\"",
            "easy_text: \"うまれて {days_old}にち}\"",
            "series[2] (tip), field `easy_text`: braces do not balance",
        ),
        (
            "text: 誕生おめでとう}",
            "text: \"{nickname}、誕生おめでとう\"}",
            "",
        ),
    ] {
        assert!(FULL.contains(from), "{from}");
        let p = full_problems(&FULL.replace(from, to), WEEKLY);
        if expected.is_empty() {
            assert!(p.is_empty(), "{p:?}");
        } else {
            assert!(
                p.iter().any(|x| x.contains(expected)),
                "expected {expected:?} in {p:?}"
            );
        }
    }
    // {{ and }} are literal braces and placeholders in them are no placeholders.
    assert!(full_problems(&FULL.replace("{nickname}の保活", "{{済}}の保活"), WEEKLY).is_empty());

    // Literal text plus every placeholder at its longest must fit LINE's 5,000 units; each
    // placeholder may take 20 characters, each possibly two UTF-16 units.
    let fits = format!("{}{{nickname}}", "あ".repeat(5000 - 40));
    assert!(full_problems(&FULL.replace("{nickname}の保活", &fits), WEEKLY).is_empty());
    let too_long = format!("{}{{nickname}}", "あ".repeat(5000 - 39));
    let p = full_problems(&FULL.replace("{nickname}の保活", &too_long), WEEKLY);
    assert_eq!(
        p,
        vec![format!(
            "line {}: milestones[0] (hokatsu), field `text`: could be 5001 UTF-16 units long \
             once its 1 placeholder(s) are filled in (each up to 20 characters); LINE allows 5000",
            line_with(FULL, "{nickname}の保活")
        )]
    );
    // The same in a steps file.
    let weekly = WEEKLY.replace(
        "あと{days_to_due}日",
        &format!("{}{{days_to_due}}", "い".repeat(4990)),
    );
    let p = full_problems(FULL, &weekly);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("weekly.yaml line 7: steps[2] (妊娠6週0日), field `text`: could be 5030"),
        "{}",
        p[0]
    );
}

#[test]
fn removing_a_choice_or_category_leaves_stored_residents_working() {
    // A resident stored muted categories and answers that a later catalog no longer has.
    let c = load(FULL, &[("weekly.yaml", WEEKLY)]).expect("valid").0;
    let settings = crate::domain::Settings {
        muted: ["removed-category".to_string()].into(),
        district: Some("removed-district".into()),
        household: ["removed-attribute".to_string()].into(),
        nursery: Some("planning".into()),
    };
    assert!(c.milestone("dental").expect("m").reaches(&settings));
    assert!(c.series_named("tip").expect("s").reaches(&settings));
    // An audience naming a district still needs one of its districts.
    assert!(!c.milestone("hokatsu").expect("m").reaches(&settings));
}

#[test]
fn a_milestone_may_name_a_reservations_service() {
    let with = FULL.replace(
        "    audience: {nursery: [planning], districts: [north]}\n",
        "    audience: {nursery: [planning], districts: [north]}\n    service: hokatsu-soudan\n",
    );
    let source = CatalogSource {
        main: with.clone(),
        files: [("weekly.yaml".to_string(), WEEKLY.to_string())].into(),
    };
    let c = Catalog::from_source(&source).expect("valid");
    assert_eq!(
        c.milestone("hokatsu")
            .and_then(|m| m.service.as_ref())
            .map(|s| s.as_str()),
        Some("hokatsu-soudan")
    );
    expect_problem(
        &with.replace("service: hokatsu-soudan", "service: 保活相談"),
        WEEKLY,
        "milestones[0] (hokatsu), field `service`: `保活相談` is not a service id",
    );
}
