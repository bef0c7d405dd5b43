//! Dates for tests, counted the way residents' are: Asia/Tokyo calendar days.

use chrono::{Days, NaiveDate, Utc};

pub fn today_in_tokyo() -> NaiveDate {
    shared::dates::tokyo_date(Utc::now())
}

pub fn plus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_add_days(Days::new(days)).expect("date in range")
}

pub fn minus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(days)).expect("date in range")
}

/// `YYYY-MM-DD`, as tests write their dates.
pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}
