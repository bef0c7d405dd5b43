//! The daily scan over 1,000,000 registered children (and a pregnancy for every tenth
//! family): wall time, store lookups and what targeting did, for two catalogs and two
//! populations of 受信設定.
//!
//! - Catalogs: the example as it ships, and the example plus a きずな-style daily programme
//!   (five series, 533 steps) generated here as `series:` YAML and loaded through the real
//!   loader.
//! - Settings: everyone at the defaults (every category on, nothing answered: as every
//!   resident stood before 受信設定 targeted anything; a milestone with an audience reaches
//!   none of them), and a realistic mix (30% turned one or two categories off, 80% answered
//!   地区, 10% household attributes, 25% answered 保育所, 5% read やさしい日本語).
//!
//! For every day the store lookups must equal `catalog.lookups_for(day).len()` (the cost
//! follows the catalog, not the population), and what the scan queued is compared with a
//! brute-force walk over every resident: the (resident, pregnancy or child, milestone or
//! series step) pairs due that day from the date arithmetic alone, kept when the category is
//! on and the audience admits the resident. Times are reported, never asserted.
//!
//! Columns: wall time of `run_daily_scan`; `lookups`, the store's anchor lookups; `ranges`,
//! `catalog.lookups_for(day).len()`; then the `ScanReport`'s entries read, due, not
//! targeted, jobs and enqueued.
//! Run: cargo bench --workspace --features sukusuku/aws --bench daily_scan

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use shared::catalog::placeholder::{self, Piece};
use shared::catalog::{Catalog, CatalogSource, Offset, Series};
use shared::dates::{GESTATION_AT_DUE_DAYS, add_days, add_months, gestational_age_days};
use shared::delivery::DeliveryJob;
use shared::domain::{AnchorKind, Audience, PREGNANCY_SUBJECT, Pregnancy, Resident, UserId};
use shared::handlers::scan::{ScanReport, run_daily_scan};
use shared::queue::{MemoryQueue, Queue};
use shared::store::{LocalStore, Store};

const CHILDREN: usize = 1_000_000;
/// The newest birthdate registered; due dates run from it up to 279 days later.
const NEWEST: (i32, u32, u32) = (2026, 11, 22);
const SPAN_DAYS: usize = 18 * 365;
/// The scan days: the first day after the newest registration (every series of the daily
/// programme has residents), then three further days (two of them month ends).
const DAYS: [&str; 4] = ["2026-11-23", "2026-12-15", "2027-02-28", "2027-03-31"];

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a valid date in the benchmark")
}

fn newest() -> NaiveDate {
    NaiveDate::from_ymd_opt(NEWEST.0, NEWEST.1, NEWEST.2).expect("date")
}

// ── The daily programme ─────────────────────────────────────────────────────────────────

/// A きずな-style programme: (id, anchor, first day number, last, every).
const PROGRAMME: [(&str, AnchorKind, u32, u32, u32); 5] = [
    // 妊娠4週0日 to 妊娠41週6日, daily.
    ("daily-pregnancy", AnchorKind::DueDate, 28, 293, 1),
    // The birthday to 生後100日, daily.
    ("daily-newborn", AnchorKind::BirthDate, 0, 100, 1),
    // Every 3 days to age 1 (生後364日), weekly to age 2, fortnightly to age 3.
    ("daily-infant", AnchorKind::BirthDate, 103, 364, 3),
    ("daily-toddler", AnchorKind::BirthDate, 371, 728, 7),
    ("daily-preschool", AnchorKind::BirthDate, 742, 1092, 14),
];

const PREGNANCY_TIPS: [&str; 5] = [
    "つわりの時期は、食べられるときに食べられるものを少しずつ。水分はこまめにとりましょう。",
    "妊婦健康診査は、赤ちゃんとお母さんの健康を確かめる大切な機会です。受診票を忘れずに持って行きましょう。",
    "おなかが張る、出血がある、胎動がいつもと違うと感じたら、ためらわずにかかりつけの産科に電話してください。",
    "体重の増え方は人それぞれです。主食・主菜・副菜をそろえた食事を心がけ、気になることは健診で相談しましょう。",
    "出産の入院に必要なものを少しずつ用意しておくと安心です。母子健康手帳と保険証は、いつも持ち歩きましょう。",
];

const BABY_TIPS: [&str; 5] = [
    "赤ちゃんとの毎日は、小さな発見の連続です。気づいたことを母子健康手帳のメモ欄に書いておくと、健診で相談するときに役立ちます。",
    "睡眠不足が続くときは、家族や周りの人に頼ってください。こども家庭センターでは、保健師が電話や来所で子育ての相談に応じています。",
    "予防接種や健診の予定は、市のお知らせや母子健康手帳で確かめられます。体調が気になるときは、早めにかかりつけ医に相談しましょう。",
    "地域の子育て支援センターでは、親子で遊べる広場や、同じ年ごろの子どもを育てる人と話せる会を開いています。",
    "夜間や休日の急な病気で迷ったら、小児救急電話相談（#8000）へ。災害に備えて、おむつやミルクも持ち出せるようにしておきましょう。",
];

const EASY_TIPS: [&str; 3] = [
    "こまった ときは、こども かてい センターに でんわ して ください。",
    "からだの ちょうしが わるい ときは、はやめに びょういんに いきましょう。",
    "みずを こまめに のみましょう。よく やすんで ください。",
];

/// The header of a step as the catalog writes it (with placeholders) and as a resident gets
/// it on the step's day (the check looks for the latter in the queued text).
fn step_header(kind: AnchorKind, n: u32, easy: bool, rendered: bool) -> String {
    let (w, d) = (n / 7, n % 7);
    match (kind, easy, rendered) {
        (AnchorKind::DueDate, false, false) => {
            "【妊娠{gestational_weeks}週{gestational_days}日】".into()
        }
        (AnchorKind::DueDate, false, true) => format!("【妊娠{w}週{d}日】"),
        (AnchorKind::DueDate, true, false) => {
            "【にんしん {gestational_weeks}しゅう {gestational_days}にち】".into()
        }
        (AnchorKind::DueDate, true, true) => format!("【にんしん {w}しゅう {d}にち】"),
        (AnchorKind::BirthDate, false, false) => "【{nickname}は生後{days_old}日】".into(),
        (AnchorKind::BirthDate, false, true) => format!("は生後{n}日】"),
        (AnchorKind::BirthDate, true, false) => "【{nickname}は うまれて {days_old}にち】".into(),
        (AnchorKind::BirthDate, true, true) => format!("は うまれて {n}にち】"),
    }
}

/// One step's text (about 250 characters, as a real programme's) in YAML double quotes.
fn step_text(kind: AnchorKind, n: u32, easy: bool) -> String {
    let mut text = step_header(kind, n, easy, false);
    text.push_str("\\n");
    if easy {
        for k in 0..2 {
            text.push_str(EASY_TIPS[(n as usize + k) % EASY_TIPS.len()]);
        }
    } else {
        let tips = match kind {
            AnchorKind::DueDate => &PREGNANCY_TIPS,
            AnchorKind::BirthDate => &BABY_TIPS,
        };
        for k in 0..3 {
            text.push_str(tips[(n as usize + k) % tips.len()]);
        }
    }
    text
}

fn at(n: u32) -> String {
    format!("{{weeks: {}, days: {}}}", n / 7, n % 7)
}

/// The example catalog with the programme appended to its `series:` (the example's last
/// section): five entries with inline steps, a text for every step and やさしい日本語 for
/// every third.
fn with_daily_programme(mut source: CatalogSource) -> (CatalogSource, usize) {
    let last_section = source
        .main
        .lines()
        .rfind(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()));
    assert_eq!(
        last_section,
        Some("series:"),
        "the example must end with its series to append to them"
    );
    let mut yaml =
        String::from("\n  # A きずな-style daily programme, generated by the benchmark.\n");
    for (id, kind, first, last, every) in PROGRAMME {
        let anchor = match kind {
            AnchorKind::DueDate => "due_date",
            AnchorKind::BirthDate => "birth_date",
        };
        let _ = writeln!(
            yaml,
            "  - id: {id}\n    anchor: {anchor}\n    from: {}\n    to: {}\n    every: {{days: {every}}}\n    category: daily\n    steps:",
            at(first),
            at(last)
        );
        for n in (first..=last).step_by(every as usize) {
            let _ = writeln!(
                yaml,
                "      - at: {}\n        text: \"{}\"",
                at(n),
                step_text(kind, n, false)
            );
            if n.is_multiple_of(3) {
                let _ = writeln!(yaml, "        easy_text: \"{}\"", step_text(kind, n, true));
            }
        }
    }
    if !source.main.ends_with('\n') {
        source.main.push('\n');
    }
    let added = yaml.len();
    source.main.push_str(&yaml);
    (source, added)
}

// ── The population ──────────────────────────────────────────────────────────────────────

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mix {
    /// Every resident as a new one starts: every category on, nothing answered.
    Default,
    /// 30% one or two categories off, 80% a 地区, 10% household attributes, 25% a 保育所
    /// answer, 5% やさしい日本語.
    Realistic,
}

/// The catalog's choice ids the mix draws from.
struct Choices {
    categories: Vec<String>,
    districts: Vec<String>,
    household: Vec<String>,
    nursery: Vec<String>,
}

impl Choices {
    fn of(catalog: &Catalog) -> Choices {
        let q = catalog.questions();
        let ids = |cs: &[shared::catalog::Choice]| cs.iter().map(|c| c.id.clone()).collect();
        Choices {
            categories: catalog.categories().iter().map(|c| c.id.clone()).collect(),
            districts: ids(&q.district.choices),
            household: ids(&q.household.choices),
            nursery: ids(&q.nursery.choices),
        }
    }
}

/// splitmix64: a deterministic stream per family, so the check can rebuild any resident.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn percent(&mut self) -> u64 {
        self.next() % 100
    }

    fn pick<'a>(&mut self, from: &'a [String]) -> &'a String {
        &from[(self.next() % from.len() as u64) as usize]
    }
}

/// Children registered by families before family `f` (families of 1, 2, 3 children in turn).
fn children_before(f: usize) -> usize {
    f / 3 * 6 + [0, 1, 3][f % 3]
}

fn families() -> usize {
    (0..)
        .find(|f| children_before(*f) >= CHILDREN)
        .expect("finite")
}

/// Family `f`: one to three children with birthdates spread over 18 years, a pregnancy for
/// every tenth family, and 受信設定 by `mix`. The scan's store is loaded from these, and the
/// brute-force check rebuilds them.
fn family(f: usize, mix: Mix, choices: &Choices) -> Resident {
    let mut r = Resident::new(UserId::parse(&format!("U{f:032x}")).expect("id"));
    let children = (1 + f % 3).min(CHILDREN - children_before(f));
    for k in 0..children {
        let back = ((f * 7919 + k * 104_729) % SPAN_DAYS) as i64;
        r.add_child(add_days(newest(), -back).expect("date"));
    }
    if f.is_multiple_of(10) {
        r.pregnancy = Some(Pregnancy {
            due_date: add_days(newest(), (f % 280) as i64).expect("date"),
        });
    }
    if mix == Mix::Realistic {
        let mut d = Draws(f as u64);
        let s = &mut r.settings;
        if d.percent() < 30 {
            s.muted.insert(d.pick(&choices.categories).clone());
            if d.percent() < 50 {
                s.muted.insert(d.pick(&choices.categories).clone());
            }
        }
        if d.percent() < 80 {
            s.district = Some(d.pick(&choices.districts).clone());
        }
        if d.percent() < 10 {
            s.household.insert(d.pick(&choices.household).clone());
            if d.percent() < 30 {
                s.household.insert(d.pick(&choices.household).clone());
            }
        }
        if d.percent() < 25 {
            s.nursery = Some(d.pick(&choices.nursery).clone());
        }
        r.easy_japanese = d.percent() < 5;
    }
    r
}

// ── The brute-force check ───────────────────────────────────────────────────────────────

/// (user, subject, milestone or series id, series step day number).
type Key = (String, String, String, Option<u32>);

struct Expected {
    due: usize,
    not_targeted: usize,
    /// What must be queued, with whether the resident reads やさしい日本語.
    send: HashMap<Key, bool>,
}

/// The day `offset` falls on for `anchor`, by the calendar rules alone.
fn fires_on(offset: Offset, anchor: NaiveDate) -> Option<NaiveDate> {
    match offset {
        Offset::Gestation { days } => add_days(anchor, days as i64 - GESTATION_AT_DUE_DAYS),
        Offset::Age { months, days } => add_days(add_months(anchor, months)?, days as i64),
    }
}

/// The series' step on `day` for `anchor`: the day number, if it is one of the series' days.
fn step_of(s: &Series, anchor: NaiveDate, day: NaiveDate) -> Option<u32> {
    let n = match s.anchor {
        AnchorKind::DueDate => gestational_age_days(anchor, day),
        AnchorKind::BirthDate => (day - anchor).num_days(),
    };
    let in_span = n >= s.first as i64 && n <= s.last as i64;
    (in_span && (n - s.first as i64) % s.every as i64 == 0).then_some(n as u32)
}

fn brute_force(
    catalog: &Catalog,
    mix: Mix,
    choices: &Choices,
    families: usize,
    day: NaiveDate,
) -> Expected {
    let mut out = Expected {
        due: 0,
        not_targeted: 0,
        send: HashMap::new(),
    };
    let mut note = |r: &Resident,
                    subject: &str,
                    id: &str,
                    step: Option<u32>,
                    category: &str,
                    audience: &Audience| {
        out.due += 1;
        if r.settings.receives(category) && audience.admits(&r.settings) {
            let key = (
                r.user_id.as_str().to_string(),
                subject.to_string(),
                id.to_string(),
                step,
            );
            assert!(
                out.send.insert(key, r.easy_japanese).is_none(),
                "one notice per subject"
            );
        } else {
            out.not_targeted += 1;
        }
    };
    for f in 0..families {
        let r = family(f, mix, choices);
        let mut anchors: Vec<(AnchorKind, NaiveDate, String)> = r
            .children
            .iter()
            .map(|c| (AnchorKind::BirthDate, c.birth_date, c.id.clone()))
            .collect();
        if let Some(p) = &r.pregnancy {
            anchors.push((
                AnchorKind::DueDate,
                p.due_date,
                PREGNANCY_SUBJECT.to_string(),
            ));
        }
        for (kind, anchor, subject) in &anchors {
            for m in catalog.milestones() {
                if m.offset.anchor_kind() == *kind && fires_on(m.offset, *anchor) == Some(day) {
                    note(&r, subject, &m.id, None, &m.category, &m.audience);
                }
            }
            for s in catalog.series() {
                if s.anchor == *kind
                    && let Some(n) = step_of(s, *anchor, day)
                {
                    assert!(s.steps.contains_key(&n), "{} has a text for day {n}", s.id);
                    note(&r, subject, &s.id, Some(n), &s.category, &s.audience);
                }
            }
        }
    }
    out
}

/// Whether `text` is `template` filled in: its literal pieces, in order.
fn fills(template: &str, text: &str) -> bool {
    let Ok(pieces) = placeholder::pieces(template) else {
        return false;
    };
    let mut rest = text;
    for p in pieces {
        if let Piece::Literal(lit) = p {
            match rest.find(lit.as_ref()) {
                Some(i) => rest = &rest[i + lit.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Compares the queued jobs with the brute force: the same (resident, subject, notice)
/// pairs, each once; the counts; each job's text in its recipients' register (and, for the
/// daily programme, naming the step's own day).
fn check(
    catalog: &Catalog,
    report: &ScanReport,
    jobs: &[DeliveryJob],
    mut expected: Expected,
) -> Result<usize, String> {
    let mismatch = |what: &str, got: usize, want: usize| {
        format!("{what}: the scan says {got}, brute force {want}")
    };
    if report.due != expected.due {
        return Err(mismatch("due", report.due, expected.due));
    }
    if report.not_targeted != expected.not_targeted {
        return Err(mismatch(
            "not targeted",
            report.not_targeted,
            expected.not_targeted,
        ));
    }
    if report.already_delivered != 0 {
        return Err(format!(
            "{} already delivered, none were",
            report.already_delivered
        ));
    }
    let (mut enqueued, checked) = (0, expected.send.len());
    for job in jobs {
        if job.recipients.len() > 500 {
            return Err(format!("a job for {} residents", job.recipients.len()));
        }
        enqueued += job.recipients.len();
        let mut easy = None;
        for r in &job.recipients {
            for s in &r.subjects {
                let key = (
                    r.user.as_str().to_string(),
                    s.clone(),
                    job.milestone.clone(),
                    job.step,
                );
                let Some(reads_easy) = expected.send.remove(&key) else {
                    return Err(format!(
                        "queued but not due (or queued twice): {} {s} {} {:?}",
                        r.user.as_str(),
                        job.milestone,
                        job.step
                    ));
                };
                if *easy.get_or_insert(reads_easy) != reads_easy {
                    return Err(format!("job {} mixes registers", job.id));
                }
            }
        }
        let easy = easy.unwrap_or(false);
        let text = job
            .messages
            .first()
            .map(|m| m.plain_text())
            .unwrap_or_default();
        let template = match job.step {
            None => catalog.milestone(&job.milestone).map(|m| m.text_for(easy)),
            Some(n) => catalog
                .series_named(&job.milestone)
                .and_then(|s| s.steps.get(&n))
                .map(|step| step.text_for(easy)),
        }
        .ok_or_else(|| format!("job for unknown {}", job.milestone))?;
        if !fills(template, &text) {
            return Err(format!(
                "job {} ({}) does not carry its text",
                job.id, job.milestone
            ));
        }
        if let (Some(n), Some(s)) = (job.step, catalog.series_named(&job.milestone))
            && PROGRAMME.iter().any(|p| p.0 == s.id)
        {
            let has_easy = s.steps.get(&n).is_some_and(|st| st.easy_text.is_some());
            let header = step_header(s.anchor, n, easy && has_easy, true);
            if !text.contains(&header) {
                return Err(format!("{} day {n}: `{header}` not in the text", s.id));
            }
        }
    }
    if let Some((k, _)) = expected.send.iter().next() {
        return Err(format!(
            "{} due and targeted but not queued, e.g. {} {} {} {:?}",
            expected.send.len(),
            k.0,
            k.1,
            k.2,
            k.3
        ));
    }
    if report.enqueued != enqueued || report.jobs != jobs.len() {
        return Err(format!(
            "report: {} jobs / {} enqueued, queue: {} / {enqueued}",
            report.jobs,
            report.enqueued,
            jobs.len()
        ));
    }
    Ok(checked)
}

// ── Running it ──────────────────────────────────────────────────────────────────────────

fn load(
    runtime: &tokio::runtime::Runtime,
    store: &LocalStore,
    mix: Mix,
    choices: &Choices,
) -> Duration {
    let started = Instant::now();
    runtime.block_on(async {
        for f in 0..families() {
            store
                .save_resident(&family(f, mix, choices), None)
                .await
                .expect("save");
        }
    });
    started.elapsed()
}

fn scan_days(
    runtime: &tokio::runtime::Runtime,
    store: &LocalStore,
    catalog: &Catalog,
    mix: Mix,
    choices: &Choices,
) {
    println!(
        "    {:<10} {:>9} {:>7} {:>7} {:>12} {:>7} {:>12} {:>5} {:>8}  brute-force check",
        "day",
        "wall",
        "lookups",
        "ranges",
        "entries read",
        "due",
        "not targeted",
        "jobs",
        "enqueued"
    );
    for day in DAYS.map(date) {
        let queue = MemoryQueue::new();
        let before = store.anchor_lookups();
        let started = Instant::now();
        let report = runtime
            .block_on(run_daily_scan(
                store,
                &queue,
                catalog,
                day,
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                    .single()
                    .expect("t"),
            ))
            .expect("scan");
        let elapsed = started.elapsed();
        let lookups = (store.anchor_lookups() - before) as usize;
        let ranges = catalog.lookups_for(day).len();
        assert_eq!(
            lookups, ranges,
            "{day}: store lookups = the catalog's anchor ranges"
        );
        assert_eq!(
            report.lookups, ranges,
            "{day}: the report counts the lookups"
        );
        let queued = runtime
            .block_on(queue.receive(usize::MAX))
            .expect("receive");
        let jobs: Vec<DeliveryJob> = queued.iter().map(|q| q.job().expect("a job")).collect();
        let checking = Instant::now();
        let expected = brute_force(catalog, mix, choices, families(), day);
        let checked = check(catalog, &report, &jobs, expected)
            .unwrap_or_else(|e| panic!("{day}: the scan disagrees with brute force: {e}"));
        println!(
            "    {day} {:>9} {lookups:>7} {ranges:>7} {:>12} {:>7} {:>12} {:>5} {:>8}  the same {checked} notices ({:.1?})",
            format!("{:.2?}", elapsed),
            report.entries_read,
            report.due,
            report.not_targeted,
            report.jobs,
            report.enqueued,
            checking.elapsed()
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let example = Catalog::from_source(&shared::catalog::example_source())
        .unwrap_or_else(|e| panic!("the example catalog: {e}"));
    let (source, added) = with_daily_programme(shared::catalog::example_source());
    let programme = Catalog::from_source(&source)
        .unwrap_or_else(|e| panic!("the example with the daily programme: {e}"));
    let steps = |c: &Catalog| c.series().iter().map(|s| s.steps.len()).sum::<usize>();
    println!(
        "catalogs: example: {} milestones ({} distinct offsets), {} series ({} steps); \
         + daily programme: {} series ({} steps; {} KB of YAML appended)",
        example.milestones().len(),
        example.distinct_offsets(),
        example.series().len(),
        steps(&example),
        programme.series().len(),
        steps(&programme),
        added / 1024
    );
    let choices = Choices::of(&example);
    let families = families();
    println!(
        "daily scan: {CHILDREN} children in {families} families (+{} pregnancies), one store per settings mix",
        families.div_ceil(10)
    );
    for (mix, name) in [
        (
            Mix::Default,
            "default settings (every category on, nothing answered)",
        ),
        (
            Mix::Realistic,
            "realistic mix (30% 1–2 categories off, 80% 地区, 10% household, 25% 保育所, 5% やさしい日本語)",
        ),
    ] {
        let store = LocalStore::in_memory();
        let loaded = load(&runtime, &store, mix, &choices);
        println!(
            "{name}: {} residents loaded in {loaded:.1?}",
            store.resident_count()
        );
        for (label, catalog) in [
            (
                if mix == Mix::Default {
                    "example catalog (= before targeting: every resident treated alike)"
                } else {
                    "example catalog"
                },
                &example,
            ),
            ("example + daily programme", &programme),
        ] {
            println!("  {label}");
            scan_days(&runtime, &store, catalog, mix, &choices);
        }
    }
}
