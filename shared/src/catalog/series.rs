//! A daily programme in a few lines: a series fires every `every` days from one day number
//! to another, with the text of each step looked up by its day number (e.g. one entry per
//! gestational day in `pregnancy-daily.yaml`).
//!
//! Day numbers: for `due_date`, the gestational age in days (28 = 妊娠4週0日; 280 on the due
//! date); for `birth_date`, days since birth (0 = the birthday itself, 100 = 生後100日).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::dates::{self, GESTATION_AT_DUE_DAYS};
use crate::domain::{AnchorKind, Audience};

/// One step's text (and its やさしい日本語 version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub text: String,
    pub easy_text: Option<String>,
}

impl Step {
    pub fn text_for(&self, easy_japanese: bool) -> &str {
        match (&self.easy_text, easy_japanese) {
            (Some(easy), true) => easy,
            _ => &self.text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub id: String,
    pub anchor: AnchorKind,
    /// First and last day number (inclusive); `first <= last`.
    pub first: u32,
    pub last: u32,
    /// Days between steps, at least 1.
    pub every: u32,
    pub category: String,
    pub audience: Audience,
    /// Text per step, keyed by day number; the catalog check guarantees one for every step.
    pub steps: BTreeMap<u32, Step>,
}

impl Series {
    /// The day numbers this series sends on, in order.
    pub fn step_days(&self) -> impl Iterator<Item = u32> + '_ {
        (self.first..=self.last).step_by(self.every.max(1) as usize)
    }

    /// The day number of `day` for an anchor of this series' kind (may be negative: before).
    pub fn day_number(&self, anchor: NaiveDate, day: NaiveDate) -> i64 {
        day_number(self.anchor, anchor, day)
    }

    /// The step due on `day` for `anchor`, if any: its day number and text.
    pub fn step_on(&self, anchor: NaiveDate, day: NaiveDate) -> Option<(u32, &Step)> {
        let n = u32::try_from(self.day_number(anchor, day)).ok()?;
        if n < self.first || n > self.last || !(n - self.first).is_multiple_of(self.every.max(1)) {
            return None;
        }
        self.steps.get(&n).map(|step| (n, step))
    }

    /// The first step on or after `from` for `anchor`: its date and day number.
    pub fn next_step(&self, anchor: NaiveDate, from: NaiveDate) -> Option<(NaiveDate, u32)> {
        let every = i64::from(self.every.max(1));
        let (first, last) = (i64::from(self.first), i64::from(self.last));
        let today = self.day_number(anchor, from);
        let behind = (today.max(first) - first + every - 1) / every;
        let n = first + behind * every;
        if n > last {
            return None;
        }
        let date = dates::add_days(from, n - today)?;
        Some((date, u32::try_from(n).ok()?))
    }

    /// The anchor dates (inclusive) whose day number on `day` lies within the series, latest
    /// day number first: the anchors one scan has to look at for it.
    pub fn anchors_on(&self, day: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let anchor_for = |n: u32| anchor_for(self.anchor, n, day);
        Some((anchor_for(self.last)?, anchor_for(self.first)?))
    }
}

/// How staff and residents name a day number: 妊娠5週2日 (gestational age) or 生後12日.
pub fn day_label(kind: AnchorKind, n: u32) -> String {
    match kind {
        AnchorKind::DueDate => format!("妊娠{}週{}日", n / 7, n % 7),
        AnchorKind::BirthDate => format!("生後{n}日"),
    }
}

/// The same in やさしい日本語: にんしん 5しゅう 2にち / うまれて 12にち.
pub fn day_label_easy(kind: AnchorKind, n: u32) -> String {
    match kind {
        AnchorKind::DueDate => format!("にんしん {}しゅう {}にち", n / 7, n % 7),
        AnchorKind::BirthDate => format!("うまれて {n}にち"),
    }
}

/// Day number of `day` for an anchor of `kind` (see the module docs).
pub fn day_number(kind: AnchorKind, anchor: NaiveDate, day: NaiveDate) -> i64 {
    match kind {
        AnchorKind::DueDate => dates::gestational_age_days(anchor, day),
        AnchorKind::BirthDate => (day - anchor).num_days(),
    }
}

/// The anchor date whose day number on `day` is `n`.
fn anchor_for(kind: AnchorKind, n: u32, day: NaiveDate) -> Option<NaiveDate> {
    match kind {
        AnchorKind::DueDate => dates::add_days(day, GESTATION_AT_DUE_DAYS - n as i64),
        AnchorKind::BirthDate => dates::add_days(day, -(n as i64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    fn series(anchor: AnchorKind, first: u32, last: u32, every: u32) -> Series {
        let steps = (first..=last)
            .step_by(every as usize)
            .map(|n| {
                (
                    n,
                    Step {
                        text: format!("day {n}"),
                        easy_text: None,
                    },
                )
            })
            .collect();
        Series {
            id: "s".into(),
            anchor,
            first,
            last,
            every,
            category: "daily".into(),
            audience: Audience::default(),
            steps,
        }
    }

    #[test]
    fn steps_fall_on_their_cadence_and_within_the_span() {
        let s = series(AnchorKind::BirthDate, 100, 365, 3);
        let birth = d("2026-01-01");
        let on = |n: i64| {
            s.step_on(birth, birth + chrono::Duration::days(n))
                .map(|x| x.0)
        };
        assert_eq!(on(100), Some(100));
        assert_eq!(on(101), None);
        assert_eq!(on(103), Some(103));
        assert_eq!(on(99), None);
        assert_eq!(on(364), Some(364));
        assert_eq!(on(367), None);
        assert_eq!(s.step_days().count(), 89);
    }

    #[test]
    fn anchors_on_covers_exactly_the_anchors_in_the_span() {
        for (kind, first, last) in [
            (AnchorKind::DueDate, 28, 293),
            (AnchorKind::BirthDate, 0, 99),
        ] {
            let s = series(kind, first, last, 1);
            let day = d("2026-11-25");
            let (from, to) = s.anchors_on(day).expect("span");
            for anchor in d("2025-06-01").iter_days().take(900) {
                let inside = (from..=to).contains(&anchor);
                assert_eq!(
                    inside,
                    s.step_on(anchor, day).is_some(),
                    "{kind:?} {anchor}"
                );
            }
        }
    }

    #[test]
    fn day_labels_read_as_staff_count() {
        assert_eq!(day_label(AnchorKind::DueDate, 37), "妊娠5週2日");
        assert_eq!(day_label(AnchorKind::DueDate, 280), "妊娠40週0日");
        assert_eq!(day_label(AnchorKind::BirthDate, 12), "生後12日");
    }

    #[test]
    fn the_next_step_is_the_first_on_the_cadence_from_a_day() {
        let s = series(AnchorKind::BirthDate, 100, 130, 3);
        let birth = d("2026-01-01");
        for offset in 0..140i64 {
            let from = birth + chrono::Duration::days(offset);
            let brute = (0..200i64)
                .map(|k| from + chrono::Duration::days(k))
                .find_map(|day| s.step_on(birth, day).map(|(n, _)| (day, n)));
            assert_eq!(s.next_step(birth, from), brute, "from day {offset}");
        }
    }

    #[test]
    fn gestational_day_numbers_count_from_conception_weeks() {
        let s = series(AnchorKind::DueDate, 28, 293, 1);
        // On the due date the pregnancy is 40w0d = day 280.
        assert_eq!(
            s.step_on(d("2027-03-01"), d("2027-03-01")).map(|x| x.0),
            Some(280)
        );
    }
}
