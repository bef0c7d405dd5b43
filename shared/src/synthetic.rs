//! Synthetic residents and catalogs, for the daily-scan benchmark and `sukusuku simulate`:
//! a small deterministic random stream, a realistic mix of 受信設定 drawn from a catalog's
//! own choices, and a きずな-style daily programme added to a catalog as `series:` YAML (so
//! the real loader checks it). Nothing here touches a store.

use std::fmt::Write as _;

use crate::catalog::{Catalog, CatalogSource};
use crate::domain::{AnchorKind, Settings};

/// splitmix64: a tiny, fast, deterministic stream. One stream per resident (seeded from
/// the resident's number) lets a check rebuild any resident without the others.
#[derive(Debug, Clone)]
pub struct Draws(u64);

impl Draws {
    pub fn new(seed: u64) -> Draws {
        Draws(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..100.
    pub fn percent(&mut self) -> u64 {
        self.next_u64() % 100
    }

    /// 0..n (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `p` (0.0..=1.0), to one part in a million.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.below(1_000_000) as f64) < p * 1_000_000.0
    }

    /// One of `from`, or `None` when it is empty.
    pub fn pick<'a, T>(&mut self, from: &'a [T]) -> Option<&'a T> {
        if from.is_empty() {
            return None;
        }
        from.get(self.below(from.len() as u64) as usize)
    }
}

/// The catalog's choice ids a settings mix draws from.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub categories: Vec<String>,
    pub districts: Vec<String>,
    pub household: Vec<String>,
    pub nursery: Vec<String>,
}

impl Choices {
    pub fn of(catalog: &Catalog) -> Choices {
        let q = catalog.questions();
        let ids = |cs: &[crate::catalog::Choice]| cs.iter().map(|c| c.id.clone()).collect();
        Choices {
            categories: catalog.categories().iter().map(|c| c.id.clone()).collect(),
            districts: ids(&q.district.choices),
            household: ids(&q.household.choices),
            nursery: ids(&q.nursery.choices),
        }
    }
}

/// A realistic mix of 受信設定: 30% turned one or two categories off, 80% answered 地区,
/// 10% household attributes, 25% answered 保育所, 5% read やさしい日本語 (the returned
/// flag). A question the catalog does not ask is left unanswered.
pub fn realistic_settings(d: &mut Draws, choices: &Choices) -> (Settings, bool) {
    let mut s = Settings::default();
    let pick = |d: &mut Draws, from: &[String]| d.pick(from).cloned();
    if d.percent() < 30 {
        s.muted.extend(pick(d, &choices.categories));
        if d.percent() < 50 {
            s.muted.extend(pick(d, &choices.categories));
        }
    }
    if d.percent() < 80 {
        s.district = pick(d, &choices.districts);
    }
    if d.percent() < 10 {
        s.household.extend(pick(d, &choices.household));
        if d.percent() < 30 {
            s.household.extend(pick(d, &choices.household));
        }
    }
    if d.percent() < 25 {
        s.nursery = pick(d, &choices.nursery);
    }
    let easy = d.percent() < 5;
    (s, easy)
}

// ── The daily programme ─────────────────────────────────────────────────────────────────

/// One series of the programme: its id, anchor, first and last day number, and step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgrammeSeries {
    pub id: &'static str,
    pub anchor: AnchorKind,
    pub first: u32,
    pub last: u32,
    pub every: u32,
}

/// The category the programme's notices are in (the example's 毎日のひとこと).
pub const PROGRAMME_CATEGORY: &str = "daily";

/// A きずな-style programme, as the example catalog's header describes it: daily in
/// pregnancy from 妊娠4週0日 to 妊娠41週6日, daily to 生後100日, every 3 days to age 1,
/// weekly to age 2, fortnightly to age 3.
pub const DAILY_PROGRAMME: [ProgrammeSeries; 5] = [
    ProgrammeSeries {
        id: "daily-pregnancy",
        anchor: AnchorKind::DueDate,
        first: 28,
        last: 293,
        every: 1,
    },
    ProgrammeSeries {
        id: "daily-newborn",
        anchor: AnchorKind::BirthDate,
        first: 0,
        last: 100,
        every: 1,
    },
    ProgrammeSeries {
        id: "daily-infant",
        anchor: AnchorKind::BirthDate,
        first: 103,
        last: 364,
        every: 3,
    },
    ProgrammeSeries {
        id: "daily-toddler",
        anchor: AnchorKind::BirthDate,
        first: 371,
        last: 728,
        every: 7,
    },
    ProgrammeSeries {
        id: "daily-preschool",
        anchor: AnchorKind::BirthDate,
        first: 742,
        last: 1092,
        every: 14,
    },
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

/// The header of a step as the catalog writes it (with placeholders, `rendered` false) and
/// as a resident gets it on the step's day (a check looks for the latter in queued text).
pub fn step_header(kind: AnchorKind, n: u32, easy: bool, rendered: bool) -> String {
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

/// The programme as `series:` entries indented by `indent` spaces: inline steps, a text for
/// every step and やさしい日本語 for every third.
fn programme_yaml(indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut yaml = format!("{pad}# A きずな-style daily programme, generated by sukusuku.\n");
    for s in DAILY_PROGRAMME {
        let anchor = match s.anchor {
            AnchorKind::DueDate => "due_date",
            AnchorKind::BirthDate => "birth_date",
        };
        let _ = writeln!(
            yaml,
            "{pad}- id: {}\n{pad}  anchor: {anchor}\n{pad}  from: {}\n{pad}  to: {}\n{pad}  every: {{days: {}}}\n{pad}  category: {PROGRAMME_CATEGORY}\n{pad}  steps:",
            s.id,
            at(s.first),
            at(s.last),
            s.every
        );
        for n in (s.first..=s.last).step_by(s.every as usize) {
            let _ = writeln!(
                yaml,
                "{pad}    - at: {}\n{pad}      text: \"{}\"",
                at(n),
                step_text(s.anchor, n, false)
            );
            if n.is_multiple_of(3) {
                let _ = writeln!(
                    yaml,
                    "{pad}      easy_text: \"{}\"",
                    step_text(s.anchor, n, true)
                );
            }
        }
    }
    yaml
}

/// `source` with the programme added to its `series:` (created at the end when it has
/// none), and the bytes of YAML added. The catalog needs the category
/// [`PROGRAMME_CATEGORY`]; the real loader checks the result like any catalog.
pub fn with_daily_programme(mut source: CatalogSource) -> (CatalogSource, usize) {
    let lines: Vec<&str> = source.main.lines().collect();
    let series_at = lines.iter().position(|l| l.trim_end() == "series:");
    let main = match series_at {
        None => {
            let mut main = source.main.clone();
            if !main.ends_with('\n') {
                main.push('\n');
            }
            main.push_str("series:\n");
            main.push_str(&programme_yaml(2));
            main
        }
        Some(at) => {
            // The new entries go first, at the indentation of the entries already there.
            let indent = lines[at + 1..]
                .iter()
                .find(|l| l.trim_start().starts_with("- "))
                .map_or(2, |l| l.len() - l.trim_start().len());
            let mut main = lines[..=at].join("\n");
            main.push('\n');
            main.push_str(&programme_yaml(indent));
            for l in &lines[at + 1..] {
                main.push_str(l);
                main.push('\n');
            }
            main
        }
    };
    let added = main.len().saturating_sub(source.main.len());
    source.main = main;
    (source, added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_in_range() {
        let (mut a, mut b) = (Draws::new(7), Draws::new(7));
        for _ in 0..1000 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            assert!(x < 10);
        }
        assert_eq!(a.pick::<u8>(&[]), None);
        assert_eq!(Draws::new(1).below(0), 0);
        let hits = (0..10_000).filter(|_| a.chance(0.25)).count();
        assert!((2_300..2_700).contains(&hits), "{hits}");
    }

    #[test]
    fn the_programme_joins_the_example_and_passes_the_loader() {
        let (source, added) = with_daily_programme(crate::catalog::example_source());
        assert!(added > 100_000, "{added}");
        let catalog = Catalog::from_source(&source).expect("valid");
        for s in DAILY_PROGRAMME {
            let series = catalog.series_named(s.id).expect("series");
            assert_eq!(
                series.steps.len() as u32,
                (s.last - s.first) / s.every + 1,
                "{}",
                s.id
            );
        }
        // The example's own series stay.
        assert!(catalog.series_named("pregnancy-weekly").is_some());
        // A catalog without series gets a section.
        let bare = "categories:\n  - {id: daily, label: 毎日}\nmilestones: []\n";
        let (source, _) = with_daily_programme(CatalogSource::without_files(bare));
        assert_eq!(
            Catalog::from_source(&source).expect("valid").series().len(),
            5
        );
    }
}
