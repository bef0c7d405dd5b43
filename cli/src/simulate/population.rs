//! The synthetic friends of `sukusuku simulate`: who is pregnant, how many children of
//! what ages, their 受信設定, who joins, gives birth, stops or blocks during the period.
//! Each resident is drawn from its own deterministic stream (the seed and its number), so
//! the same flags give the same population, and any resident can be rebuilt on its own.
//! The shares below are assumptions, named so a reader can see and question them.

use chrono::NaiveDate;
use serde::Serialize;
use shared::dates::add_days;
use shared::domain::{Pregnancy, Resident, Settings, UserId};
use shared::synthetic::{Choices, Draws, realistic_settings};

/// Of the friends registered at the start, the share who are pregnant: a year's births
/// (about a seventh of the children 0–6, some 0.18 per friend) are registered for about
/// seven months of their pregnancy.
pub const PREGNANT_SHARE: f64 = 0.11;
/// Of the pregnant, the share who already have children (about 45% of births in Japan are
/// second or later children).
pub const PREGNANT_WITH_CHILDREN: f64 = 0.45;
/// Families with 1, 2 and 3 registered children, in percent.
pub const CHILDREN_PERCENT: [u64; 3] = [52, 37, 11];
/// Children are 0–6 years old: birthdates up to this many days back.
pub const MAX_CHILD_AGE_DAYS: u64 = 7 * 365 - 1;
/// Days between siblings' birthdates (1½ to 4 years); an older sibling past 6 is not
/// registered.
pub const SIBLING_GAP_DAYS: (u64, u64) = (540, 1460);
/// The youngest child of a pregnant resident is at least this old.
pub const PREGNANT_YOUNGEST_DAYS: u64 = 365;
/// Share of births that are twins (two children on one birthdate).
pub const TWIN_SHARE: f64 = 0.01;
/// Share of children given a ニックネーム (the example's weekly series names the child, so a
/// nickname makes that notice a text of its own).
pub const NICKNAME_SHARE: f64 = 0.25;
/// Nicknames drawn from (common ones: children called the same share a text).
pub const NICKNAMES: [&str; 16] = [
    "はるちゃん",
    "ゆいちゃん",
    "そうくん",
    "めいちゃん",
    "りくくん",
    "ひなちゃん",
    "れんくん",
    "さくらちゃん",
    "ゆうくん",
    "あおいちゃん",
    "たっくん",
    "みおちゃん",
    "こうくん",
    "ゆなちゃん",
    "はやと",
    "つむぎ",
];
/// New friends a year, per friend registered at the start: about one birth cohort. A later
/// pregnancy of a friend already registered is counted as a new friend (its notices and
/// costs are the same; the older children stay with the first).
pub const JOINS_PER_YEAR: f64 = 0.22;
/// Of new friends, the share who join in pregnancy (after the 妊娠届, at 妊娠8–12週); the
/// others join with a baby of up to two months (moving in, or told at the 1か月健診).
pub const JOIN_PREGNANT: f64 = 0.80;
/// Gestational age in days on joining in pregnancy: 妊娠8週0日 to 妊娠12週0日.
pub const JOIN_GESTATION_DAYS: (u64, u64) = (56, 84);
/// Age in days of the baby a new friend joins with.
pub const JOIN_BABY_DAYS: u64 = 60;
/// Share of friends a year who stop (配信停止) and who block the account: about as many as
/// join, as families whose children outgrow the notices leave.
pub const STOPS_PER_YEAR: f64 = 0.04;
pub const BLOCKS_PER_YEAR: f64 = 0.14;
/// Birth relative to the due date, in days (most births fall in 37w–41w).
pub const BIRTH_FROM_DUE: (i64, i64) = (-14, 7);
/// Days after the birth the resident registers it (the pregnancy's notices stop then).
pub const BIRTH_REGISTERED_AFTER: (u64, u64) = (1, 14);

const FULL_TERM_DAYS: i64 = 280;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Leave {
    /// 配信停止 in the chat (two turns).
    Stop,
    /// Blocking the account (one `unfollow` event).
    Block,
}

/// A birth the resident registers during the period: the pregnancy ends that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Birth {
    pub date: NaiveDate,
    /// The day index it is registered on.
    pub registered: u32,
    /// One nickname (or none) per child born: two for twins.
    pub nicknames: Vec<Option<String>>,
}

/// One friend over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub index: usize,
    /// The day index the friend joins on; `None`: registered before the period.
    pub joins: Option<u32>,
    /// The day index and way the friend leaves, if they do within the period.
    pub leaves: Option<(u32, Leave)>,
    pub due: Option<NaiveDate>,
    /// Birthdates and nicknames of the children registered on joining.
    pub children: Vec<(NaiveDate, Option<String>)>,
    pub birth: Option<Birth>,
    pub settings: Settings,
    pub easy: bool,
}

/// The population's parameters: the plans follow from these alone.
pub struct Population {
    pub seed: u64,
    pub initial: usize,
    pub joiners: usize,
    pub start: NaiveDate,
    pub days: u32,
    pub choices: Choices,
}

impl Population {
    pub fn new(seed: u64, initial: usize, start: NaiveDate, days: u32, choices: Choices) -> Self {
        let joiners = (initial as f64 * JOINS_PER_YEAR * f64::from(days) / 365.0).round() as usize;
        Population {
            seed,
            initial,
            joiners,
            start,
            days,
            choices,
        }
    }

    pub fn len(&self) -> usize {
        self.initial + self.joiners
    }

    pub fn user(index: usize) -> UserId {
        // `U` + 32 hex digits: the shape of a LINE user id, and the right size for the
        // DynamoDB item sizes the meter computes.
        UserId::parse(&format!("U{index:032x}")).expect("`U` and hex digits are a valid user id")
    }

    /// The resident number of a user id made by [`Population::user`].
    pub fn index_of(user: &UserId) -> Option<usize> {
        usize::from_str_radix(user.as_str().strip_prefix('U')?, 16).ok()
    }

    fn date(&self, day: u64) -> NaiveDate {
        add_days(self.start, day as i64).unwrap_or(self.start)
    }

    pub fn plan(&self, index: usize) -> Plan {
        let mut d = Draws::new(self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ index as u64);
        // Discard the first draw: nearby seeds would otherwise start alike.
        d.next_u64();
        let (settings, easy) = realistic_settings(&mut d, &self.choices);
        let days = u64::from(self.days);
        let joins = (index >= self.initial).then(|| d.below(days) as u32);
        let join_day = u64::from(joins.unwrap_or(0));
        let joined = self.date(join_day);
        let back = |n: u64| add_days(joined, -(n as i64)).unwrap_or(joined);
        let (pregnant, baby_only) = match joins {
            None => (d.chance(PREGNANT_SHARE), false),
            Some(_) => {
                let pregnant = d.chance(JOIN_PREGNANT);
                (pregnant, !pregnant)
            }
        };
        let due = pregnant.then(|| {
            let gestation = match joins {
                // Anywhere from 妊娠6週 to 妊娠41週 at the start.
                None => 42 + d.below(246),
                Some(_) => {
                    JOIN_GESTATION_DAYS.0
                        + d.below(JOIN_GESTATION_DAYS.1 - JOIN_GESTATION_DAYS.0 + 1)
                }
            };
            add_days(joined, FULL_TERM_DAYS - gestation as i64).unwrap_or(joined)
        });
        let mut children = Vec::new();
        let has_children = !pregnant || d.chance(PREGNANT_WITH_CHILDREN);
        if has_children {
            let count = match d.below(100) {
                n if n < CHILDREN_PERCENT[0] => 1,
                n if n < CHILDREN_PERCENT[0] + CHILDREN_PERCENT[1] => 2,
                _ => 3,
            };
            let mut age = if baby_only {
                d.below(JOIN_BABY_DAYS + 1)
            } else if pregnant {
                PREGNANT_YOUNGEST_DAYS + d.below(MAX_CHILD_AGE_DAYS - PREGNANT_YOUNGEST_DAYS + 1)
            } else {
                d.below(MAX_CHILD_AGE_DAYS + 1)
            };
            for k in 0..count {
                if k > 0 {
                    age +=
                        SIBLING_GAP_DAYS.0 + d.below(SIBLING_GAP_DAYS.1 - SIBLING_GAP_DAYS.0 + 1);
                }
                if age > MAX_CHILD_AGE_DAYS {
                    break;
                }
                let born = back(age);
                let twins = k == 0 && d.chance(TWIN_SHARE);
                for _ in 0..if twins { 2 } else { 1 } {
                    children.push((born, self.nickname(&mut d)));
                }
            }
        }
        let birth = due.and_then(|due| {
            let spread = (BIRTH_FROM_DUE.1 - BIRTH_FROM_DUE.0) as u64;
            let date = add_days(due, BIRTH_FROM_DUE.0 + d.below(spread + 1) as i64)?;
            let after = BIRTH_REGISTERED_AFTER.0
                + d.below(BIRTH_REGISTERED_AFTER.1 - BIRTH_REGISTERED_AFTER.0 + 1);
            let registered = (add_days(date, after as i64)? - self.start).num_days();
            // A pregnancy already past its birth at the start is registered on the first days.
            let registered = registered.max(join_day as i64 + 1);
            let twins = d.chance(TWIN_SHARE);
            let nicknames = (0..if twins { 2 } else { 1 })
                .map(|_| self.nickname(&mut d))
                .collect();
            (registered < days as i64).then_some(Birth {
                date,
                registered: registered as u32,
                nicknames,
            })
        });
        let leave_share = ((STOPS_PER_YEAR + BLOCKS_PER_YEAR) * days as f64 / 365.0).min(1.0);
        let leaves = (d.chance(leave_share) && days > join_day + 1).then(|| {
            let day = join_day + 1 + d.below(days - join_day - 1);
            let how = if d.chance(STOPS_PER_YEAR / (STOPS_PER_YEAR + BLOCKS_PER_YEAR)) {
                Leave::Stop
            } else {
                Leave::Block
            };
            (day as u32, how)
        });
        // A birth registered after leaving never happens.
        let birth = birth.filter(|b| leaves.is_none_or(|(day, _)| b.registered < day));
        Plan {
            index,
            joins,
            leaves,
            due,
            children,
            birth,
            settings,
            easy,
        }
    }

    fn nickname(&self, d: &mut Draws) -> Option<String> {
        if d.chance(NICKNAME_SHARE) {
            d.pick(&NICKNAMES).map(|n| n.to_string())
        } else {
            None
        }
    }
}

impl Plan {
    /// The resident as registered on joining (or at the start).
    pub fn resident(&self) -> Resident {
        let mut r = Resident::new(Population::user(self.index));
        r.pregnancy = self.due.map(|due_date| Pregnancy { due_date });
        for (born, nickname) in &self.children {
            add_child(&mut r, *born, nickname.clone());
        }
        r.settings = self.settings.clone();
        r.easy_japanese = self.easy;
        r
    }
}

/// Registers a child with its nickname, as the chat does.
pub fn add_child(r: &mut Resident, born: NaiveDate, nickname: Option<String>) {
    let id = r.add_child(born).id.clone();
    if let Some(child) = r.children.iter_mut().find(|c| c.id == id) {
        child.nickname = nickname;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(n: usize) -> Population {
        let start = NaiveDate::from_ymd_opt(2027, 4, 1).expect("date");
        Population::new(1, n, start, 365, Choices::default())
    }

    #[test]
    fn the_population_has_sensible_shares_and_is_deterministic() {
        let p = population(20_000);
        assert_eq!(p.joiners, 4_400);
        let plans: Vec<Plan> = (0..p.len()).map(|i| p.plan(i)).collect();
        assert_eq!(plans[17], p.plan(17));
        let initial = &plans[..p.initial];
        let share = |f: &dyn Fn(&Plan) -> bool, of: &[Plan]| {
            of.iter().filter(|x| f(x)).count() as f64 / of.len() as f64
        };
        let pregnant = share(&|x| x.due.is_some(), initial);
        assert!((0.09..0.13).contains(&pregnant), "{pregnant}");
        let children: usize = initial.iter().map(|x| x.children.len()).sum();
        let per_family =
            children as f64 / initial.iter().filter(|x| !x.children.is_empty()).count() as f64;
        assert!((1.3..1.8).contains(&per_family), "{per_family}");
        for x in &plans {
            for (born, _) in &x.children {
                let age = (p.date(u64::from(x.joins.unwrap_or(0))) - *born).num_days();
                assert!((0..=MAX_CHILD_AGE_DAYS as i64).contains(&age), "{age}");
            }
            if let (Some(b), Some((day, _))) = (&x.birth, x.leaves) {
                assert!(b.registered < day);
            }
        }
        let births = share(&|x| x.birth.is_some(), &plans);
        assert!(births > 0.1, "{births}");
        let leaving = share(&|x| x.leaves.is_some(), &plans);
        assert!((0.13..0.19).contains(&leaving), "{leaving}");
        // Births spread over the year: every month has some.
        let mut months = std::collections::BTreeSet::new();
        for x in &plans {
            if let Some(b) = &x.birth {
                months.insert(chrono::Datelike::month(&b.date));
            }
        }
        assert_eq!(months.len(), 12);
        assert_eq!(
            Population::index_of(&Population::user(123_456)),
            Some(123_456)
        );
    }
}
