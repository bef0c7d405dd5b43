//! Dates, times and numbers as staff write them, in a YAML file or in cells Excel saved:
//! `2027-01-15` or `2027/1/15`, `9:00`, `09:00` or `9:00:00`, full-width digits from a
//! Japanese input method included.

use chrono::{NaiveDate, NaiveTime};

/// Full-width digits and separators (２０２７／１／１５, ９：００) as their ASCII forms, and
/// the cell's surrounding spaces (full-width ones too) dropped.
fn plain(raw: &str) -> String {
    raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}')
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '：' => ':',
            '／' => '/',
            '－' => '-',
            _ => c,
        })
        .collect()
}

/// `2027-01-15`, `2027/1/15`, `2027/01/15` (Excel's own form on Japanese Windows).
pub(super) fn date(raw: &str) -> Result<NaiveDate, String> {
    let text = plain(raw);
    let parts: Vec<&str> = text.split(['-', '/']).collect();
    let number = |s: &str, max_len: usize| {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let same_separator = !(text.contains('-') && text.contains('/'));
    let found = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && same_separator => {
            match (number(y, 4), number(m, 2), number(d, 2)) {
                (Some(y), Some(m), Some(d)) => Some(NaiveDate::from_ymd_opt(y as i32, m, d)),
                _ => None,
            }
        }
        _ => None,
    };
    match found {
        Some(Some(day)) => Ok(day),
        Some(None) => Err(format!("`{}` is not a day of the calendar", raw.trim())),
        None if text.is_empty() => Err("is empty; write the date, e.g. 2027/1/15".into()),
        None => Err(format!(
            "`{}` is not a date; write year/month/day, e.g. 2027/1/15 or 2027-01-15",
            raw.trim()
        )),
    }
}

/// `9:00`, `09:00`, `9:00:00` (Excel writes seconds; a slot is to the minute, so they must
/// be `00`).
pub(super) fn time(raw: &str) -> Result<NaiveTime, String> {
    let text = plain(raw);
    let minute = match text.split(':').collect::<Vec<_>>().as_slice() {
        [h, m] => Some(format!("{h}:{m}")),
        [h, m, "00"] => Some(format!("{h}:{m}")),
        _ => None,
    };
    let shaped = |s: &str| {
        s.split(':')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    match minute {
        _ if text.is_empty() => Err("is empty; write the time, e.g. 9:30".into()),
        Some(hm) => super::super::parse_hm(&hm).ok_or_else(|| {
            if shaped(&hm) && hm.split(':').nth(1).is_some_and(|m| m.len() == 2) {
                format!(
                    "`{}` is not a time of day (hours 0–23, minutes 0–59)",
                    raw.trim()
                )
            } else {
                format!(
                    "`{}` is not a time; write hours:minutes, e.g. 9:30",
                    raw.trim()
                )
            }
        }),
        None if shaped(&text) => Err(format!(
            "`{}` is not a time to the minute; write hours:minutes, e.g. 9:30",
            raw.trim()
        )),
        None => Err(format!(
            "`{}` is not a time; write hours:minutes, e.g. 9:30",
            raw.trim()
        )),
    }
}

/// A whole number of 0 or more, such as a capacity (`20`, `２０`).
pub(super) fn count(raw: &str) -> Result<u32, String> {
    let text = plain(raw);
    if text.is_empty() {
        return Err("is empty; write a number, e.g. 20".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{}` is not a whole number; write digits only, e.g. 20",
            raw.trim()
        ));
    }
    text.parse()
        .map_err(|_| format!("`{}` is far too large", raw.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_forms_are_read() {
        let jan15 = NaiveDate::from_ymd_opt(2027, 1, 15);
        for raw in [
            "2027-01-15",
            "2027/1/15",
            "2027/01/15",
            " 2027-1-15 ",
            "２０２７／１／１５",
        ] {
            assert_eq!(date(raw).ok(), jan15, "{raw}");
        }
        let nine = NaiveTime::from_hms_opt(9, 0, 0);
        for raw in ["9:00", "09:00", "9:00:00", "９：００"] {
            assert_eq!(time(raw).ok(), nine, "{raw}");
        }
        assert_eq!(count("２０"), Ok(20));
        assert_eq!(count(" 7 "), Ok(7));
    }

    #[test]
    fn impossible_values_say_why() {
        assert_eq!(
            date("2027-02-30"),
            Err("`2027-02-30` is not a day of the calendar".into())
        );
        for bad in [
            "27/1/15",
            "2027.1.15",
            "2027-1/15",
            "1月15日",
            "2027-001-15",
        ] {
            assert!(
                date(bad).is_err_and(|e| e.contains("is not a date")),
                "{bad}"
            );
        }
        assert_eq!(
            time("25:00"),
            Err("`25:00` is not a time of day (hours 0–23, minutes 0–59)".into())
        );
        assert!(time("9:00:30").is_err_and(|e| e.contains("to the minute")));
        assert!(time("9時").is_err_and(|e| e.contains("hours:minutes")));
        assert!(time("9:0").is_err_and(|e| e.contains("hours:minutes")));
        assert!(time("").is_err_and(|e| e.contains("is empty")));
        assert!(count("20人").is_err_and(|e| e.contains("digits only")));
        assert!(count("-1").is_err());
    }
}
