//! Segments: which pregnancies and children something is for, by the attributes residents
//! chose in 受信設定 (category, 地区, 世帯の状況, 保育所の申込状況) and by how far along a
//! pregnancy or how old a child is on a day. The daily scan's targeting applies the same rule
//! ([`Settings::wants`]); a staff broadcast selects with [`select`], which reads only the
//! index partitions its age window spans — never every resident.

use chrono::NaiveDate;

use crate::catalog::day_number;
use crate::dates::{self, GESTATION_AT_DUE_DAYS};
use crate::domain::{AnchorEntry, AnchorKind, AnchorRange, Audience, Settings};
use crate::store::{Store, StoreError};

/// Who a notice is for: residents who receive its category and are in its audience.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// `None`: whatever categories the resident receives (an urgent notice).
    pub category: Option<String>,
    pub audience: Audience,
}

impl Target {
    pub fn admits(&self, settings: &Settings) -> bool {
        match &self.category {
            Some(category) => settings.wants(category, &self.audience),
            None => self.audience.admits(settings),
        }
    }
}

/// A target plus an age window: pregnancies between two gestational days, or children
/// between two ages in days, on the day it is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub target: Target,
    pub anchor: AnchorKind,
    /// Day numbers on the day, inclusive: gestational age in days for `due_date` (280 on the
    /// due date), days since birth for `birth_date`.
    pub first_day: u32,
    pub last_day: u32,
}

impl Segment {
    /// The anchor dates whose day number on `day` is in the window, cut into the index's
    /// month partitions: one lookup each.
    pub fn ranges(&self, day: NaiveDate) -> Vec<AnchorRange> {
        let anchor_for = |n: u32| match self.anchor {
            AnchorKind::DueDate => dates::add_days(day, GESTATION_AT_DUE_DAYS - i64::from(n)),
            AnchorKind::BirthDate => dates::add_days(day, -i64::from(n)),
        };
        let (Some(first), Some(last)) = (anchor_for(self.last_day), anchor_for(self.first_day))
        else {
            return Vec::new();
        };
        if self.first_day > self.last_day {
            return Vec::new();
        }
        dates::month_pieces(first, last)
            .into_iter()
            .map(|(first, last)| AnchorRange {
                kind: self.anchor,
                first,
                last,
            })
            .collect()
    }

    /// Whether an index entry is in the segment on `day`.
    pub fn admits(&self, entry: &AnchorEntry, day: NaiveDate) -> bool {
        let n = day_number(entry.kind, entry.date, day);
        entry.kind == self.anchor
            && (i64::from(self.first_day)..=i64::from(self.last_day)).contains(&n)
            && self.target.admits(&entry.settings)
    }
}

/// Every pregnancy or child in the segment on `day`, from the index alone.
pub async fn select<S: Store>(
    store: &S,
    segment: &Segment,
    day: NaiveDate,
) -> Result<Vec<AnchorEntry>, StoreError> {
    let mut out = Vec::new();
    for range in segment.ranges(day) {
        out.extend(
            store
                .anchored(&range)
                .await?
                .into_iter()
                .filter(|e| segment.admits(e, day)),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Pregnancy, Resident, UserId};
    use crate::store::LocalStore;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    /// A population with every combination of district, household and category choice,
    /// children born over three years and pregnancies due over ten months.
    fn population() -> Vec<Resident> {
        let districts = [None, Some("kita"), Some("minami")];
        let mut out = Vec::new();
        for i in 0..600u32 {
            let mut r = Resident::new(UserId::parse(&format!("U{i:04}")).expect("id"));
            r.settings.district = districts[(i % 3) as usize].map(str::to_string);
            if i % 4 == 0 {
                r.settings.household.insert("single-parent".into());
            }
            if i % 5 == 0 {
                r.settings.muted.insert("events".into());
            }
            if i % 7 == 0 {
                r.pregnancy = Some(Pregnancy {
                    due_date: d("2026-12-01") + chrono::Duration::days(i64::from(i) / 2),
                });
            } else {
                r.add_child(d("2024-01-01") + chrono::Duration::days(i64::from(i) * 2));
            }
            out.push(r);
        }
        out
    }

    #[tokio::test]
    async fn a_segment_selects_exactly_the_matching_entries_by_month_lookups() {
        let store = LocalStore::in_memory();
        let people = population();
        for r in &people {
            store.save_resident(r, None).await.expect("save");
        }
        let day = d("2026-11-25");
        // Each segment with the same question asked of the residents directly.
        let toddlers_in_kita = |r: &Resident| {
            r.settings.district.as_deref() == Some("kita")
                && !r.settings.muted.contains("events")
                && r.children
                    .iter()
                    .any(|c| (365..=730).contains(&(day - c.birth_date).num_days()))
        };
        let single_parents_mid_pregnancy = |r: &Resident| {
            r.settings.household.contains("single-parent")
                && r.pregnancy
                    .as_ref()
                    .is_some_and(|p| (84..=196).contains(&(280 - (p.due_date - day).num_days())))
        };
        type Wanted<'a> = &'a dyn Fn(&Resident) -> bool;
        let cases: [(Segment, Wanted<'_>); 2] = [
            (
                Segment {
                    target: Target {
                        category: Some("events".into()),
                        audience: Audience {
                            districts: ["kita".to_string()].into(),
                            ..Audience::default()
                        },
                    },
                    anchor: AnchorKind::BirthDate,
                    first_day: 365,
                    last_day: 730,
                },
                &toddlers_in_kita,
            ),
            (
                Segment {
                    target: Target {
                        category: None,
                        audience: Audience {
                            household: ["single-parent".to_string()].into(),
                            ..Audience::default()
                        },
                    },
                    anchor: AnchorKind::DueDate,
                    first_day: 84,
                    last_day: 196,
                },
                &single_parents_mid_pregnancy,
            ),
        ];
        for (segment, wanted) in cases {
            let mut found: Vec<String> = select(&store, &segment, day)
                .await
                .expect("select")
                .into_iter()
                .map(|e| e.user_id.as_str().to_string())
                .collect();
            found.sort();
            let expected: Vec<String> = people
                .iter()
                .filter(|r| wanted(r))
                .map(|r| r.user_id.as_str().to_string())
                .collect();
            assert!(!expected.is_empty(), "the segment is not empty");
            assert_eq!(found, expected);
            // One lookup per calendar month the window spans, however many are registered.
            let months = segment.ranges(day).len();
            assert!((4..=14).contains(&months), "{months}");
        }
    }
}
