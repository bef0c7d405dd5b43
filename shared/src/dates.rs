//! Calendar facts that every milestone depends on: the Asia/Tokyo day, calendar months with
//! month-end clamping, gestational age from a due date, and the inverse of each (which
//! anchor dates are due on a given day) so the daily scan can look anchors up instead of
//! walking residents.

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, NaiveTime, TimeZone, Utc};

/// Gestational age on the due date (40w0d), in days.
pub const GESTATION_AT_DUE_DAYS: i64 = 280;

/// Japan has had no daylight saving time since 1951, so a fixed +09:00 is exact.
pub fn tokyo() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid UTC offset")
}

/// The Asia/Tokyo calendar date of an instant.
pub fn tokyo_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tokyo()).date_naive()
}

/// The instant at `hour`:00 on a Tokyo calendar date.
pub fn tokyo_instant(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
    tokyo_at(date, time)
}

/// The instant of a Tokyo wall-clock time on a Tokyo calendar date.
pub fn tokyo_at(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    match tokyo().from_local_datetime(&date.and_time(time)) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        // A fixed offset has exactly one mapping; keep a total function anyway.
        _ => date.and_time(time).and_utc(),
    }
}

/// `date` plus whole calendar months; a day the target month lacks clamps to its last day
/// (Jan 31 + 1 month = Feb 28/29).
pub fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(Months::new(months))
}

pub fn add_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    }
}

pub fn last_day_of_month(year: i32, month: u32) -> u32 {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    first_of_next
        .and_then(|d| d.pred_opt())
        .map(|d| d.day())
        .unwrap_or(28)
}

/// Every date `b` with `add_months(b, months) == target`, as an inclusive range inside one
/// month (clamping makes Jan 28..=31 all land on Feb 28 in a common year). `None` when no
/// date maps there (nobody reaches one month of age on Mar 30 from February).
pub fn months_before(target: NaiveDate, months: u32) -> Option<(NaiveDate, NaiveDate)> {
    if months == 0 {
        return Some((target, target));
    }
    let index = target.year() as i64 * 12 + target.month0() as i64 - months as i64;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = index.rem_euclid(12) as u32 + 1;
    let source_last = last_day_of_month(year, month);
    let target_last = last_day_of_month(target.year(), target.month());
    let day = target.day();
    if day > source_last {
        return None;
    }
    let first = NaiveDate::from_ymd_opt(year, month, day)?;
    let last = if day == target_last {
        NaiveDate::from_ymd_opt(year, month, source_last)?
    } else {
        first
    };
    Some((first, last))
}

/// Gestational age in days on `day` for a pregnancy due on `due` (280 on the due date).
pub fn gestational_age_days(due: NaiveDate, day: NaiveDate) -> i64 {
    GESTATION_AT_DUE_DAYS - (due - day).num_days()
}

/// Whole calendar months completed from `birth` to `day` (clamped month arithmetic), and the
/// days since that month-day.
pub fn age_months_days(birth: NaiveDate, day: NaiveDate) -> Option<(u32, i64)> {
    if day < birth {
        return None;
    }
    let mut months = ((day.year() - birth.year()) * 12 + day.month() as i32 - birth.month() as i32)
        .max(0) as u32;
    loop {
        match add_months(birth, months) {
            Some(reached) if reached <= day => return Some((months, (day - reached).num_days())),
            _ if months == 0 => return None,
            _ => months -= 1,
        }
    }
}

const WEEKDAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// Parses the `YYYY-MM-DD` form that LINE's date picker, the CLI and `/dev/daily` use.
pub fn parse_ymd(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// 2027年3月1日（月）
pub fn japanese_date(date: NaiveDate) -> String {
    format!(
        "{}年{}月{}日（{}）",
        date.year(),
        date.month(),
        date.day(),
        WEEKDAYS[date.weekday().num_days_from_monday() as usize]
    )
}

/// 2027年3月1日, without the weekday (fits short labels).
pub fn japanese_date_short(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// 妊娠16週3日（妊娠5か月）: weeks+days plus the Japanese month count (4 weeks a month).
pub fn describe_pregnancy(due: NaiveDate, today: NaiveDate) -> String {
    let ga = gestational_age_days(due, today).max(0);
    let (weeks, days) = (ga / 7, ga % 7);
    let month = (weeks / 4 + 1).min(10);
    format!("妊娠{weeks}週{days}日（妊娠{month}か月）")
}

/// 生後10日 / 生後3か月 / 1歳2か月 — the way Japanese child-care notices count age.
pub fn describe_age(birth: NaiveDate, today: NaiveDate) -> String {
    match age_months_days(birth, today) {
        None => "まだ生まれていません".to_string(),
        Some((0, days)) => format!("生後{days}日"),
        Some((months, _)) if months < 12 => format!("生後{months}か月"),
        Some((months, _)) => format!("{}歳{}か月", months / 12, months % 12),
    }
}

/// にんしん 16しゅう 3にち（5かげつ）: the same in やさしい日本語 (hiragana, spaced).
pub fn describe_pregnancy_easy(due: NaiveDate, today: NaiveDate) -> String {
    let ga = gestational_age_days(due, today).max(0);
    let (weeks, days) = (ga / 7, ga % 7);
    let month = (weeks / 4 + 1).min(10);
    format!("にんしん {weeks}しゅう {days}にち（{month}かげつ）")
}

/// うまれて 10にち / うまれて 3かげつ / 1さい 2かげつ: the same in やさしい日本語.
pub fn describe_age_easy(birth: NaiveDate, today: NaiveDate) -> String {
    match age_months_days(birth, today) {
        None => "まだ うまれて いません".to_string(),
        Some((0, days)) => format!("うまれて {days}にち"),
        Some((months, _)) if months < 12 => format!("うまれて {months}かげつ"),
        Some((months, _)) => format!("{}さい {}かげつ", months / 12, months % 12),
    }
}

/// `first..=last` cut at month ends: the anchor index keeps one partition per month, so each
/// piece is one lookup.
pub fn month_pieces(first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut start = first;
    while start <= last {
        let month_end = last_day_of_month(start.year(), start.month());
        let end = start.with_day(month_end).unwrap_or(start).min(last);
        out.push((start, end));
        match end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    out
}

/// Years between two dates, counted the way an age is (birthday reached or not).
pub fn years_between(earlier: NaiveDate, later: NaiveDate) -> Option<u32> {
    age_months_days(earlier, later).map(|(m, _)| m / 12)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn month_end_clamps_forward() {
        assert_eq!(add_months(d("2027-01-31"), 1), Some(d("2027-02-28")));
        assert_eq!(add_months(d("2028-01-31"), 1), Some(d("2028-02-29")));
        assert_eq!(add_months(d("2027-03-31"), 1), Some(d("2027-04-30")));
        assert_eq!(add_months(d("2024-02-29"), 12), Some(d("2025-02-28")));
        assert_eq!(add_months(d("2024-02-29"), 48), Some(d("2028-02-29")));
        assert_eq!(add_months(d("2025-11-20"), 14), Some(d("2027-01-20")));
    }

    #[test]
    fn months_before_inverts_clamping() {
        // Common year: Jan 28..31 all reach one month on Feb 28.
        assert_eq!(
            months_before(d("2027-02-28"), 1),
            Some((d("2027-01-28"), d("2027-01-31")))
        );
        // Leap year: Feb 29 is its own day, Jan 29..31 clamp onto it.
        assert_eq!(
            months_before(d("2028-02-29"), 1),
            Some((d("2028-01-29"), d("2028-01-31")))
        );
        assert_eq!(
            months_before(d("2028-02-28"), 1),
            Some((d("2028-01-28"), d("2028-01-28")))
        );
        // Nobody reaches one month on Mar 30 or 31 from February.
        assert_eq!(months_before(d("2027-03-30"), 1), None);
        assert_eq!(months_before(d("2027-03-31"), 1), None);
        // Apr 30 gathers Mar 30 and 31.
        assert_eq!(
            months_before(d("2027-04-30"), 1),
            Some((d("2027-03-30"), d("2027-03-31")))
        );
        // Feb 29 births have their first birthday on Feb 28.
        assert_eq!(
            months_before(d("2025-02-28"), 12),
            Some((d("2024-02-28"), d("2024-02-29")))
        );
        assert_eq!(
            months_before(d("2027-01-05"), 14),
            Some((d("2025-11-05"), d("2025-11-05")))
        );
    }

    #[test]
    fn months_before_agrees_with_brute_force() {
        let start = d("2023-01-01");
        for months in [0u32, 1, 2, 3, 6, 11, 12, 13, 14, 18, 36, 48] {
            for t in 0..(366 * 3) {
                let target = add_days(start, t).expect("in range");
                let expected: Vec<NaiveDate> = (-(months as i64 * 31 + 40)..=0)
                    .filter_map(|back| add_days(target, back))
                    .filter(|b| add_months(*b, months) == Some(target))
                    .collect();
                let got: Vec<NaiveDate> = match months_before(target, months) {
                    None => vec![],
                    Some((first, last)) => first.iter_days().take_while(|x| *x <= last).collect(),
                };
                assert_eq!(got, expected, "target {target} months {months}");
            }
        }
    }

    #[test]
    fn gestational_age_is_280_on_due_date() {
        let due = d("2027-03-01");
        assert_eq!(gestational_age_days(due, due), 280);
        assert_eq!(gestational_age_days(due, d("2027-02-28")), 279);
        assert_eq!(gestational_age_days(due, d("2026-05-25")), 0);
        assert_eq!(describe_pregnancy(due, due), "妊娠40週0日（妊娠10か月）");
        // 16w3d = 115 days → 165 days before due.
        assert_eq!(
            describe_pregnancy(due, d("2026-09-17")),
            "妊娠16週3日（妊娠5か月）"
        );
        assert_eq!(
            describe_pregnancy(due, d("2026-07-20")),
            "妊娠8週0日（妊娠3か月）"
        );
    }

    #[test]
    fn ages_read_like_japanese_notices() {
        let birth = d("2025-11-20");
        assert_eq!(describe_age(birth, birth), "生後0日");
        assert_eq!(describe_age(birth, d("2025-11-27")), "生後7日");
        assert_eq!(describe_age(birth, d("2026-02-20")), "生後3か月");
        assert_eq!(describe_age(birth, d("2026-11-19")), "生後11か月");
        assert_eq!(describe_age(birth, d("2027-01-20")), "1歳2か月");
        assert_eq!(describe_age(d("2024-01-31"), d("2024-02-29")), "生後1か月");
        assert_eq!(describe_age(d("2024-01-31"), d("2024-02-28")), "生後28日");
        assert_eq!(describe_age_easy(birth, d("2025-11-27")), "うまれて 7にち");
        assert_eq!(
            describe_age_easy(birth, d("2026-02-20")),
            "うまれて 3かげつ"
        );
        assert_eq!(describe_age_easy(birth, d("2027-01-20")), "1さい 2かげつ");
        assert_eq!(
            describe_pregnancy_easy(d("2027-05-07"), d("2026-11-22")),
            "にんしん 16しゅう 2にち（5かげつ）"
        );
        assert_eq!(
            age_months_days(d("2024-02-29"), d("2025-02-28")),
            Some((12, 0))
        );
        assert_eq!(years_between(d("2008-11-23"), d("2026-11-22")), Some(17));
        assert_eq!(years_between(d("2008-11-22"), d("2026-11-22")), Some(18));
    }

    #[test]
    fn tokyo_day_starts_at_15_utc() {
        let before = Utc
            .with_ymd_and_hms(2026, 11, 21, 14, 59, 59)
            .single()
            .expect("valid");
        let after = Utc
            .with_ymd_and_hms(2026, 11, 21, 15, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(tokyo_date(before), d("2026-11-21"));
        assert_eq!(tokyo_date(after), d("2026-11-22"));
        assert_eq!(
            tokyo_instant(d("2026-11-22"), 9),
            Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
                .single()
                .expect("valid")
        );
        assert_eq!(japanese_date(d("2027-03-01")), "2027年3月1日（月）");
    }
}
