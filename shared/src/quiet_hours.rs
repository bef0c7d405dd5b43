//! Quiet hours: no push at night (21:00–08:00 Asia/Tokyo unless the city says otherwise).
//! Work met then is deferred to the end of the quiet hours, never dropped. A reply to what a
//! resident just did (a booking confirmation, a registration) is not a push and is never
//! held; nor is `/dev/daily`, which runs a chosen day at once.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, Timelike, Utc};

use crate::dates::tokyo;
use crate::delivery::{DeliveryJob, NOTICE};

/// What a delivery job is, for choosing which kinds the quiet hours hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    /// A catalog milestone or a step of a daily programme.
    Milestone,
    /// A booking reminder.
    Reminder,
    /// A waiting list's offer of a seat.
    Offer,
    /// A one-off notice (a place in a waiting list lapsed or ended).
    Notice,
}

impl MessageKind {
    pub const ALL: [MessageKind; 4] = [
        MessageKind::Milestone,
        MessageKind::Reminder,
        MessageKind::Offer,
        MessageKind::Notice,
    ];

    pub fn of(job: &DeliveryJob) -> MessageKind {
        if job.offer.is_some() {
            MessageKind::Offer
        } else if job.reminder.is_some() {
            MessageKind::Reminder
        } else if job.milestone == NOTICE {
            MessageKind::Notice
        } else {
            MessageKind::Milestone
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Milestone => "milestone",
            MessageKind::Reminder => "reminder",
            MessageKind::Offer => "offer",
            MessageKind::Notice => "notice",
        }
    }
}

impl FromStr for MessageKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MessageKind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                format!("`{s}` is not a message kind; use milestone, reminder, offer or notice")
            })
    }
}

/// A daily span of Asia/Tokyo time, `21:00-08:00`; it may wrap past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start: NaiveTime,
    end: NaiveTime,
}

impl QuietHours {
    pub const DEFAULT: &str = "21:00-08:00";

    pub fn new(start: NaiveTime, end: NaiveTime) -> Option<QuietHours> {
        (start != end).then_some(QuietHours { start, end })
    }

    /// How long from `now` until the quiet hours end, if `now` is inside them.
    pub fn remaining(&self, now: DateTime<Utc>) -> Option<Duration> {
        let t = now.with_timezone(&tokyo()).time();
        let inside = if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        };
        if !inside {
            return None;
        }
        let secs = |t: NaiveTime| i64::from(t.num_seconds_from_midnight());
        let left = (secs(self.end) - secs(t)).rem_euclid(86_400);
        // Sub-second part: the end is on a whole second.
        let nanos = i64::from(t.nanosecond().min(999_999_999));
        let left =
            Duration::from_secs(left as u64).saturating_sub(Duration::from_nanos(nanos as u64));
        Some(left)
    }
}

impl FromStr for QuietHours {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "quiet hours must look like 21:00-08:00 (Asia/Tokyo, HH:MM-HH:MM) or `off`, not `{s}`"
            )
        };
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let time = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| bad());
        QuietHours::new(time(a)?, time(b)?).ok_or_else(|| {
            format!("quiet hours `{s}` start and end at the same time; use `off` for none")
        })
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// The quiet hours and the kinds of message they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietRules {
    pub hours: QuietHours,
    pub kinds: BTreeSet<MessageKind>,
}

impl QuietRules {
    /// From the settings' text: `hours` is `21:00-08:00` or `off` (or empty: the default),
    /// `exempt` a comma-separated list of kinds sent at any hour (empty: none).
    pub fn parse(hours: Option<&str>, exempt: Option<&str>) -> Result<Option<QuietRules>, String> {
        let hours = match hours.map(str::trim) {
            Some("off") => return Ok(None),
            None | Some("") => QuietHours::DEFAULT,
            Some(h) => h,
        };
        let hours: QuietHours = hours.parse()?;
        let mut kinds: BTreeSet<MessageKind> = MessageKind::ALL.into_iter().collect();
        for name in exempt
            .unwrap_or("")
            .split(',')
            .filter(|n| !n.trim().is_empty())
        {
            kinds.remove(&name.parse()?);
        }
        Ok(Some(QuietRules { hours, kinds }))
    }

    /// The default: every kind held 21:00–08:00.
    pub fn standard() -> QuietRules {
        let at = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
        QuietRules {
            hours: QuietHours {
                start: at(21),
                end: at(8),
            },
            kinds: MessageKind::ALL.into_iter().collect(),
        }
    }

    /// How long a message of `kind` must wait at `now`, if it must.
    pub fn hold(&self, kind: MessageKind, now: DateTime<Utc>) -> Option<Duration> {
        if !self.kinds.contains(&kind) {
            return None;
        }
        self.hours.remaining(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        tokyo()
            .with_ymd_and_hms(2026, 12, 3, h, m, 0)
            .single()
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_default_holds_from_nine_at_night_to_eight_in_the_morning() {
        let q: QuietHours = QuietHours::DEFAULT.parse().expect("default");
        assert_eq!(q.remaining(at(20, 59)), None);
        assert_eq!(q.remaining(at(21, 0)), Some(Duration::from_secs(11 * 3600)));
        assert_eq!(
            q.remaining(at(23, 30)),
            Some(Duration::from_secs(8 * 3600 + 1800))
        );
        assert_eq!(q.remaining(at(0, 0)), Some(Duration::from_secs(8 * 3600)));
        assert_eq!(q.remaining(at(7, 59)), Some(Duration::from_secs(60)));
        assert_eq!(q.remaining(at(8, 0)), None);
        assert_eq!(q.remaining(at(12, 0)), None);
    }

    #[test]
    fn a_span_inside_one_day_works_too() {
        let q: QuietHours = "12:00-13:00".parse().expect("span");
        assert_eq!(q.remaining(at(11, 59)), None);
        assert_eq!(q.remaining(at(12, 30)), Some(Duration::from_secs(1800)));
        assert_eq!(q.remaining(at(13, 0)), None);
        assert_eq!(q.to_string(), "12:00-13:00");
    }

    #[test]
    fn settings_parse_with_clear_errors() {
        let standard = QuietRules::parse(None, None).expect("default").expect("on");
        assert_eq!(standard, QuietRules::standard());
        assert_eq!(QuietRules::parse(Some("off"), Some("offer")), Ok(None));
        let rules = QuietRules::parse(Some("22:00-07:00"), Some("offer, notice"))
            .expect("parsed")
            .expect("on");
        assert_eq!(rules.hours.to_string(), "22:00-07:00");
        assert_eq!(rules.hold(MessageKind::Offer, at(23, 0)), None);
        assert_eq!(rules.hold(MessageKind::Notice, at(23, 0)), None);
        assert_eq!(
            rules.hold(MessageKind::Milestone, at(23, 0)),
            Some(Duration::from_secs(8 * 3600))
        );
        for (hours, exempt, words) in [
            ("9pm-8am", "", "HH:MM-HH:MM"),
            ("21:00", "", "HH:MM-HH:MM"),
            ("25:00-08:00", "", "HH:MM-HH:MM"),
            ("08:00-08:00", "", "same time"),
            ("21:00-08:00", "birthday", "not a message kind"),
        ] {
            let e = QuietRules::parse(Some(hours), Some(exempt)).expect_err(hours);
            assert!(e.contains(words), "{hours} {exempt}: {e}");
        }
    }
}
