//! When a milestone fires: the `at:` of a catalog entry (`{weeks: 24}`, `{years: 1, months: 2}`)
//! turned into an [`Offset`] under the rules of DESIGN.md §4, and the date arithmetic in both
//! directions (the day an offset falls on for an anchor; the anchors due on a day).

use chrono::NaiveDate;
use serde::Deserialize;

use crate::dates::{self, GESTATION_AT_DUE_DAYS};
use crate::domain::{AnchorKind, AnchorRange};

/// Latest gestational age a milestone may name: 42w6d, the end of a post-term pregnancy.
pub const MAX_GESTATION_DAYS: u32 = 42 * 7 + 6;
/// Children are followed up to their 18th year.
pub const MAX_AGE_YEARS: u32 = 18;
/// The last day number a `birth_date` series may reach: 18 years of 365 days. A series
/// counts days, and no programme runs that long; the bound keeps day arithmetic small.
pub const MAX_SERIES_AGE_DAYS: u32 = MAX_AGE_YEARS * 365;

/// When a milestone fires, normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Offset {
    /// Fires on the day gestational age equals `days`.
    Gestation { days: u32 },
    /// Fires on birth + `months` calendar months (clamped) + `days`.
    Age { months: u32, days: u32 },
}

/// An entry's `at:` as staff write it: any of years, months, weeks, days.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(super) struct At {
    pub years: Option<u32>,
    pub months: Option<u32>,
    pub weeks: Option<u32>,
    pub days: Option<u32>,
}

impl At {
    /// A day number from `{weeks, days}`. A series counts days, so years and months (whose
    /// length varies) are refused.
    pub(super) fn day_number(self) -> Result<u32, String> {
        if self.years.is_some() || self.months.is_some() {
            return Err(
                "years and months are not allowed in a series: it counts days, so use \
                        weeks and days (e.g. {weeks: 4} or {days: 100})"
                    .into(),
            );
        }
        if self.weeks.is_none() && self.days.is_none() {
            return Err("name weeks or days (e.g. {weeks: 4} or {days: 100})".into());
        }
        let days = self.weeks.unwrap_or(0) as u64 * 7 + self.days.unwrap_or(0) as u64;
        u32::try_from(days).map_err(|_| format!("{days} days is too far"))
    }
}

impl Offset {
    /// The offset `at` names from an anchor, or why it names none (said for the `at` field).
    pub(super) fn from_at(anchor: AnchorKind, at: At) -> Result<Offset, String> {
        if at == At::default() {
            return Err("name at least one of years, months, weeks, days \
                        (e.g. {days: 0} for the day itself)"
                .into());
        }
        // u64: four u32 fields cannot overflow before the range checks below.
        let weeks_and_days = at.weeks.unwrap_or(0) as u64 * 7 + at.days.unwrap_or(0) as u64;
        match anchor {
            AnchorKind::DueDate => {
                if at.years.is_some() || at.months.is_some() {
                    return Err("years and months are not allowed with anchor due_date; \
                                pregnancy is counted in weeks and days (e.g. {weeks: 24})"
                        .into());
                }
                if weeks_and_days > MAX_GESTATION_DAYS as u64 {
                    return Err(format!(
                        "gestational age must be at most 42 weeks 6 days, not {weeks_and_days} days"
                    ));
                }
                Ok(Offset::Gestation {
                    days: weeks_and_days as u32,
                })
            }
            AnchorKind::BirthDate => {
                let months = at.years.unwrap_or(0) as u64 * 12 + at.months.unwrap_or(0) as u64;
                if months + weeks_and_days.div_ceil(28) >= (MAX_AGE_YEARS as u64 + 1) * 12 {
                    return Err(format!(
                        "must fall before the child's {}th birthday",
                        MAX_AGE_YEARS + 1
                    ));
                }
                Ok(Offset::Age {
                    months: months as u32,
                    days: weeks_and_days as u32,
                })
            }
        }
    }

    pub fn anchor_kind(self) -> AnchorKind {
        match self {
            Offset::Gestation { .. } => AnchorKind::DueDate,
            Offset::Age { .. } => AnchorKind::BirthDate,
        }
    }

    /// The day this offset falls on for an anchor date.
    pub fn fire_date(self, anchor: NaiveDate) -> Option<NaiveDate> {
        match self {
            Offset::Gestation { days } => {
                dates::add_days(anchor, days as i64 - GESTATION_AT_DUE_DAYS)
            }
            Offset::Age { months, days } => {
                dates::add_days(dates::add_months(anchor, months)?, days as i64)
            }
        }
    }

    /// The anchor dates for which this offset falls on `day`: one index lookup.
    pub fn anchors_due_on(self, day: NaiveDate) -> Option<AnchorRange> {
        match self {
            Offset::Gestation { days } => {
                let due = dates::add_days(day, GESTATION_AT_DUE_DAYS - days as i64)?;
                Some(AnchorRange {
                    kind: AnchorKind::DueDate,
                    first: due,
                    last: due,
                })
            }
            Offset::Age { months, days } => {
                let before_days = dates::add_days(day, -(days as i64))?;
                let (first, last) = dates::months_before(before_days, months)?;
                Some(AnchorRange {
                    kind: AnchorKind::BirthDate,
                    first,
                    last,
                })
            }
        }
    }

    /// 妊娠24週0日 / 生後7日 / 3か月 / 1歳2か月: how staff and residents name the timing.
    /// The same in やさしい日本語: にんしん 20しゅう 0にち / うまれて 3かげつ / 1さい 2かげつ.
    pub fn easy_label(self) -> String {
        match self {
            Offset::Gestation { days } => format!("にんしん {}しゅう {}にち", days / 7, days % 7),
            Offset::Age { months: 0, days } => format!("うまれて {days}にち"),
            Offset::Age { months, days } => {
                let mut s = if months >= 12 {
                    let mut y = format!("{}さい", months / 12);
                    if months % 12 > 0 {
                        y.push_str(&format!(" {}かげつ", months % 12));
                    }
                    y
                } else {
                    format!("うまれて {months}かげつ")
                };
                if days > 0 {
                    s.push_str(&format!(" {days}にち"));
                }
                s
            }
        }
    }

    pub fn label(self) -> String {
        match self {
            Offset::Gestation { days } => format!("妊娠{}週{}日", days / 7, days % 7),
            Offset::Age { months, days } => {
                let mut s = String::new();
                if months == 0 {
                    s.push_str(&format!("生後{days}日"));
                    return s;
                }
                if months >= 12 {
                    s.push_str(&format!("{}歳", months / 12));
                    if months % 12 > 0 {
                        s.push_str(&format!("{}か月", months % 12));
                    }
                } else {
                    s.push_str(&format!("生後{months}か月"));
                }
                if days > 0 {
                    s.push_str(&format!("{days}日"));
                }
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    fn at(years: Option<u32>, months: Option<u32>, weeks: Option<u32>, days: Option<u32>) -> At {
        At {
            years,
            months,
            weeks,
            days,
        }
    }

    #[test]
    fn at_becomes_an_offset_for_its_anchor() {
        assert_eq!(
            Offset::from_at(AnchorKind::DueDate, at(None, None, Some(24), None)),
            Ok(Offset::Gestation { days: 168 })
        );
        assert_eq!(
            Offset::from_at(AnchorKind::DueDate, at(None, None, Some(16), Some(3))),
            Ok(Offset::Gestation { days: 115 })
        );
        assert_eq!(
            Offset::from_at(AnchorKind::BirthDate, at(Some(1), Some(2), None, None)),
            Ok(Offset::Age {
                months: 14,
                days: 0
            })
        );
        assert_eq!(
            Offset::from_at(AnchorKind::BirthDate, at(None, Some(1), Some(1), Some(2))),
            Ok(Offset::Age { months: 1, days: 9 })
        );
        assert_eq!(
            Offset::from_at(AnchorKind::BirthDate, at(None, None, None, Some(0))),
            Ok(Offset::Age { months: 0, days: 0 })
        );
    }

    #[test]
    fn impossible_offsets_are_refused_with_the_rule() {
        let refused = |anchor, at| Offset::from_at(anchor, at).expect_err("refused");
        assert!(refused(AnchorKind::BirthDate, At::default()).contains("name at least one of"));
        assert!(
            refused(AnchorKind::DueDate, at(None, Some(6), None, None))
                .contains("not allowed with anchor due_date")
        );
        assert!(
            refused(AnchorKind::DueDate, at(Some(1), None, None, None))
                .contains("not allowed with anchor due_date")
        );
        // 42w6d is the last day allowed; one more is not.
        assert_eq!(
            Offset::from_at(AnchorKind::DueDate, at(None, None, Some(42), Some(6))),
            Ok(Offset::Gestation { days: 300 })
        );
        assert!(
            refused(AnchorKind::DueDate, at(None, None, Some(43), None))
                .contains("at most 42 weeks 6 days, not 301 days")
        );
        // Day counts that would overflow u32 arithmetic are refused, not wrapped.
        assert!(
            refused(
                AnchorKind::DueDate,
                at(None, None, Some(u32::MAX), Some(u32::MAX))
            )
            .contains("at most 42 weeks")
        );
        assert!(
            refused(AnchorKind::BirthDate, at(Some(19), None, None, None))
                .contains("before the child's 19th birthday")
        );
        assert!(
            refused(AnchorKind::BirthDate, at(Some(18), Some(11), Some(5), None))
                .contains("before the child's 19th birthday")
        );
        assert!(
            refused(
                AnchorKind::BirthDate,
                at(Some(u32::MAX), Some(u32::MAX), None, None)
            )
            .contains("19th birthday")
        );
        assert_eq!(
            Offset::from_at(AnchorKind::BirthDate, at(Some(18), Some(11), None, None)),
            Ok(Offset::Age {
                months: 227,
                days: 0
            })
        );
    }

    #[test]
    fn gestation_fires_when_age_in_days_matches() {
        // Due 2027-03-01: 24w0d is 280-168 = 112 days before.
        let off = Offset::Gestation { days: 168 };
        assert_eq!(off.fire_date(d("2027-03-01")), Some(d("2026-11-09")));
        let range = off.anchors_due_on(d("2026-11-09")).expect("range");
        assert_eq!(
            (range.first, range.last),
            (d("2027-03-01"), d("2027-03-01"))
        );
        let weeks_days = Offset::Gestation { days: 16 * 7 + 3 };
        assert_eq!(weeks_days.fire_date(d("2027-03-01")), Some(d("2026-09-17")));
    }

    #[test]
    fn age_offsets_add_months_then_days() {
        let off = Offset::Age { months: 1, days: 7 };
        // Jan 31 + 1 month = Feb 28, + 7 days = Mar 7.
        assert_eq!(off.fire_date(d("2027-01-31")), Some(d("2027-03-07")));
        let range = off.anchors_due_on(d("2027-03-07")).expect("range");
        assert_eq!(
            (range.first, range.last),
            (d("2027-01-28"), d("2027-01-31"))
        );
        assert_eq!(
            Offset::Age { months: 0, days: 7 }.fire_date(d("2027-02-25")),
            Some(d("2027-03-04"))
        );
    }

    #[test]
    fn labels_name_the_timing() {
        assert_eq!(Offset::Gestation { days: 168 }.label(), "妊娠24週0日");
        assert_eq!(
            Offset::Gestation { days: 168 }.easy_label(),
            "にんしん 24しゅう 0にち"
        );
        assert_eq!(
            Offset::Age { months: 0, days: 7 }.easy_label(),
            "うまれて 7にち"
        );
        assert_eq!(
            Offset::Age {
                months: 14,
                days: 0
            }
            .easy_label(),
            "1さい 2かげつ"
        );
        assert_eq!(Offset::Age { months: 0, days: 7 }.label(), "生後7日");
        assert_eq!(Offset::Age { months: 3, days: 0 }.label(), "生後3か月");
        assert_eq!(
            Offset::Age {
                months: 14,
                days: 0
            }
            .label(),
            "1歳2か月"
        );
        assert_eq!(
            Offset::Age {
                months: 36,
                days: 0
            }
            .label(),
            "3歳"
        );
    }
}
