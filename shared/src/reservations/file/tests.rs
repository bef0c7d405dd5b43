//! The reservations file's tests: the example, the encodings Excel saves, and where each
//! problem is said to be.

use super::*;
use crate::reservations::{Age, Eligibility, ServiceId, SlotRef};

const TODAY: &str = "2027-01-01";

const GOOD: &str = "\
services:
  - id: techo
    name: 母子健康手帳の交付
    place: 市役所 1階
    who: anyone
  - id: ninpu
    name: 妊婦面談
    place: 保健センター
    who: {pregnant: {from: {weeks: 28}, before: {weeks: 36}}}
    opens_days_before: 30
    closes_days_before: 2
  - id: kenshin
    name: 4か月児健診
    place: 保健センター
    description: 母子健康手帳をお持ちください。
    who: {child: {from: {months: 3}, before: {months: 5}}}
    many_per_resident: true
    remind_days_before: 2
slots:
  - {service: techo, date: 2027-01-12, start: 9:30, end: \"10:00\", capacity: 2}
  - {service: ninpu, date: 2027/1/13, start: \"13:30\", end: \"14:30\", capacity: 3}
slots_files: [slots.csv]
";

const CSV: &str = "\
サービス,日付,開始,終了,定員\r
kenshin,2027/1/15,13:00,13:30,10\r
kenshin,2027/1/15,13:30,14:00,10\r
";

fn today() -> NaiveDate {
    crate::dates::parse_ymd(TODAY).expect("test date")
}

fn load(yaml: &str, csv: &[u8]) -> Result<Schedule, ScheduleError> {
    load_schedule(
        "reservations.yaml",
        yaml.as_bytes(),
        |name| match name {
            "slots.csv" => Ok(csv.to_vec()),
            _ => Err(format!("there is no file {name}")),
        },
        today(),
    )
}

fn problems(yaml: &str, csv: &[u8]) -> Vec<String> {
    match load(yaml, csv) {
        Ok(_) => vec![],
        Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
    }
}

fn cp932(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable, "{text}");
    bytes.into_owned()
}

#[test]
fn loads_a_good_file() {
    let s = load(GOOD, CSV.as_bytes()).expect("valid");
    assert_eq!(s.services.len(), 3);
    assert_eq!(s.slots.len(), 4);
    let kenshin = &s.services[&ServiceId::parse("kenshin").expect("id")];
    assert_eq!(kenshin.name, "4か月児健診");
    assert_eq!(kenshin.description, "母子健康手帳をお持ちください。");
    assert_eq!(
        kenshin.who,
        Eligibility::Child {
            from: Some(Age {
                months: 3,
                ..Age::default()
            }),
            before: Some(Age {
                months: 5,
                ..Age::default()
            }),
        }
    );
    assert!(kenshin.many_per_resident);
    assert_eq!(kenshin.remind_days_before, 2);
    assert_eq!(kenshin.offer_hours, 24, "the default hold");
    // Defaults.
    let techo = &s.services[&ServiceId::parse("techo").expect("id")];
    assert_eq!(
        (
            techo.opens_days_before,
            techo.closes_days_before,
            techo.remind_days_before,
            techo.many_per_resident
        ),
        (60, 1, 1, false)
    );
    let slot = &s.slots[&SlotRef::parse("techo@2027-01-12T09:30").expect("slot")];
    assert_eq!(slot.end.format("%H:%M").to_string(), "10:00");
    assert_eq!(slot.capacity, 2);
    assert!(
        s.slots
            .contains_key(&SlotRef::parse("ninpu@2027-01-13T13:30").expect("slot"))
    );
    assert!(
        s.slots
            .contains_key(&SlotRef::parse("kenshin@2027-01-15T13:30").expect("slot"))
    );
    assert_eq!(
        s.date_range(),
        Some((
            crate::dates::parse_ymd("2027-01-12").expect("date"),
            crate::dates::parse_ymd("2027-01-15").expect("date")
        ))
    );
}

const EXAMPLE: &[u8] = include_bytes!("../../../../infra/reservations/example.yaml");
const EXAMPLE_SLOTS: &[u8] = include_bytes!("../../../../infra/reservations/slots.csv");

#[test]
fn the_example_loads_and_its_csv_is_as_excel_saves_it() {
    let s = load_schedule(
        "example.yaml",
        EXAMPLE,
        |name| match name {
            "slots.csv" => Ok(EXAMPLE_SLOTS.to_vec()),
            _ => Err(format!("there is no file {name}")),
        },
        today(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.services.len(), 6);
    assert_eq!(s.slots.len(), 61);
    assert!(s.services.values().all(|s| s.name.chars().count() <= 40));
    // The CSV keeps exercising the CP932 path: not UTF-8, every line ends in CRLF.
    assert!(String::from_utf8(EXAMPLE_SLOTS.to_vec()).is_err());
    assert_eq!(
        crate::staff_file::decode_text(EXAMPLE_SLOTS).map(|(_, e)| e),
        Ok(crate::staff_file::TextEncoding::Cp932)
    );
    let lines = EXAMPLE_SLOTS.split(|b| *b == b'\n').count() - 1;
    assert_eq!(
        EXAMPLE_SLOTS.windows(2).filter(|w| w == b"\r\n").count(),
        lines
    );
}

#[test]
fn utf8_bom_and_cp932_csvs_give_the_same_schedule() {
    let utf8 = load(GOOD, CSV.as_bytes()).expect("UTF-8");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(CSV.as_bytes());
    assert_eq!(load(GOOD, &bom).expect("BOM"), utf8);
    assert_eq!(load(GOOD, &cp932(CSV)).expect("CP932"), utf8);
    // English headers in another order, LF line ends, Excel's seconds and blank rows.
    let english = "capacity,service,date,start,end\n\
                   10,kenshin,2027-01-15,13:00:00,13:30:00\n\
                   ,,,,\n\
                   10,kenshin,2027/01/15,13:30,14:00\n\n";
    assert_eq!(load(GOOD, english.as_bytes()).expect("English"), utf8);
}

#[test]
fn every_refusal_names_its_line_and_field() {
    enum In {
        Yaml,
        Csv,
    }
    use In::*;
    for (file, from, to, expected) in [
        (
            Yaml,
            "id: techo",
            "id: te cho",
            "line 2: services[0] (te cho), field `id`: use 1–32 letters, digits",
        ),
        (
            Yaml,
            "id: ninpu",
            "id: techo",
            "line 6: services[1] (techo), field `id`: `techo` is used twice (also services[0])",
        ),
        (
            Yaml,
            "name: 妊婦面談",
            "name: \" \"",
            "line 7: services[1] (ninpu), field `name`: is empty",
        ),
        (
            Yaml,
            "name: 妊婦面談",
            "name: 妊婦面談妊婦面談妊婦面談妊婦面談妊婦面談妊婦面談妊婦面談妊婦面談妊婦面談妊婦面談妊",
            "field `name`: has 41 characters; at most 40",
        ),
        (
            Yaml,
            "    place: 市役所 1階\n",
            "",
            "line 2: services[0] (techo), field `place`: missing field `place`",
        ),
        (
            Yaml,
            "who: anyone",
            "who: everyone",
            "line 5: services[0] (techo), field `who`: unknown variant",
        ),
        (
            Yaml,
            "from: {months: 3}",
            "from: {month: 3}",
            "line 16: services[2] (kenshin), field `who.child.from.month`: unknown field `month`",
        ),
        (
            Yaml,
            "remind_days_before: 2",
            "remind_day_before: 2",
            "line 18: services[2] (kenshin), field `remind_day_before`: unknown field",
        ),
        (
            Yaml,
            "from: {weeks: 28}",
            "from: {months: 7}",
            "line 9: services[1] (ninpu), field `who.pregnant.from`: years and months are not \
             allowed for a pregnancy",
        ),
        (
            Yaml,
            "before: {weeks: 36}",
            "before: {weeks: 43}",
            "field `who.pregnant.before`: 43週 is past 42週6日",
        ),
        (
            Yaml,
            "before: {weeks: 36}",
            "before: {weeks: 28}",
            "line 9: services[1] (ninpu), field `who.pregnant.before`: 28週 must come after \
             `from`, 28週",
        ),
        (
            Yaml,
            "before: {months: 5}",
            "before: {months: 2, days: 30}",
            "line 16: services[2] (kenshin), field `who.child.before`: 2か月30日 must come \
             after `from`, 3か月",
        ),
        (
            Yaml,
            "{from: {months: 3}, before: {months: 5}}",
            "{from: {months: 1}, before: {days: 30}}",
            "field `who.child.before`: 30日 must come after `from`, 1か月 for every birthdate",
        ),
        (
            Yaml,
            "closes_days_before: 2",
            "closes_days_before: 31",
            "line 11: services[1] (ninpu), field `closes_days_before`: bookings would close 31 \
             days before the slot, before they open (30 days before)",
        ),
        (
            Yaml,
            "opens_days_before: 30",
            "opens_days_before: 400",
            "line 10: services[1] (ninpu), field `opens_days_before`: at most 366",
        ),
        (
            Yaml,
            "remind_days_before: 2",
            "remind_days_before: 2\n    offer_hours: 0",
            "line 19: services[2] (kenshin), field `offer_hours`: from 1 to 168 (a week)",
        ),
        (
            Yaml,
            "remind_days_before: 2",
            "remind_days_before: 2\n    offer_hours: 200",
            "line 19: services[2] (kenshin), field `offer_hours`: from 1 to 168 (a week)",
        ),
        (
            Yaml,
            "opens_days_before: 30",
            "opens_days_before: -1",
            "line 10: services[1] (ninpu), field `opens_days_before`: must be a whole number, \
             0 or more, not `-1`",
        ),
        (
            Yaml,
            "{service: techo,",
            "{service: tech,",
            "line 20: slots[0] (tech@2027-01-12T09:30), field `service`: `tech` is not one of \
             the services (kenshin, ninpu, techo)",
        ),
        (
            Yaml,
            "date: 2027-01-12",
            "date: 2027-02-30",
            "line 20: slots[0], field `date`: `2027-02-30` is not a day of the calendar",
        ),
        (
            Yaml,
            "date: 2027/1/13",
            "date: 2026/12/31",
            "line 21: slots[1] (ninpu@2026-12-31T13:30), field `date`: 2026-12-31 is past \
             (today is 2027-01-01)",
        ),
        (
            Yaml,
            "end: \"10:00\"",
            "end: \"9:00\"",
            "line 20: slots[0] (techo@2027-01-12T09:30), field `end`: the slot ends at 09:00, \
             which is not after its start, 09:30",
        ),
        (
            Yaml,
            "capacity: 2}",
            "capacity: 1001}",
            "line 20: slots[0] (techo@2027-01-12T09:30), field `capacity`: 1001 is more than \
             1000 seats in one slot",
        ),
        (
            Yaml,
            "slots_files:",
            "  - {service: kenshin, date: 2027-01-15, start: \"13:10\", end: \"13:20\", \
             capacity: 1}\nslots_files:",
            "line 22: slots[2] (kenshin@2027-01-15T13:10), field `start`: 13:10–13:20 \
             overlaps slots.csv line 2 (13:00–13:30) of the same service and day",
        ),
        (
            Yaml,
            "[slots.csv]",
            "[../slots.csv]",
            "line 22: field `slots_files[0]`: `../slots.csv` must name a file beside the \
             reservations file",
        ),
        (
            Yaml,
            "[slots.csv]",
            "[slots.csv, other.csv]",
            "line 22: field `slots_files[1]`: cannot read `other.csv`: there is no file \
             other.csv",
        ),
        (
            Yaml,
            "[slots.csv]",
            "[slots.csv, slots.csv]",
            "field `slots_files[1]`: `slots.csv` is listed twice (also slots_files[0])",
        ),
        (
            Csv,
            "13:00,13:30",
            "25:00,13:30",
            "slots.csv line 2: field `開始`: `25:00` is not a time of day",
        ),
        (
            Csv,
            "2027/1/15,13:00",
            "2027/2/29,13:00",
            "slots.csv line 2: field `日付`: `2027/2/29` is not a day of the calendar",
        ),
        (
            Csv,
            "2027/1/15,13:30",
            "2026/12/1,13:30",
            "slots.csv line 3: field `日付`: 2026-12-01 is past (today is 2027-01-01)",
        ),
        (
            Csv,
            "13:30,14:00",
            "13:30,13:30",
            "slots.csv line 3: field `終了`: the slot ends at 13:30, which is not after its \
             start, 13:30",
        ),
        (
            Csv,
            "13:30,14:00",
            "13:15,14:00",
            "slots.csv line 3: field `開始`: 13:15–14:00 overlaps slots.csv line 2 \
             (13:00–13:30) of the same service and day",
        ),
        (
            Csv,
            "13:30,14:00",
            "13:00,14:00",
            "slots.csv line 3: field `開始`: 13:00–14:00 starts at the same time as slots.csv \
             line 2 (13:00–13:30)",
        ),
        (
            Csv,
            "13:30,10\r",
            "13:30,0\r",
            "slots.csv line 2: field `定員`: must be at least 1",
        ),
        (
            Csv,
            "13:30,10\r",
            "13:30,10人\r",
            "slots.csv line 2: field `定員`: `10人` is not a whole number",
        ),
        (
            Csv,
            "kenshin,2027/1/15,13:30",
            "kenjin,2027/1/15,13:30",
            "slots.csv line 3: field `サービス`: `kenjin` is not one of the services",
        ),
        (
            Csv,
            "定員\r",
            "定員,備考\r",
            "slots.csv line 1: field `備考`: is not a column of a slots file; the columns are \
             service (サービス), date (日付), start (開始), end (終了), capacity (定員)",
        ),
        (
            Csv,
            ",定員\r",
            "\r",
            "slots.csv line 1: field `capacity`: the header has no `capacity` column (定員 in \
             Japanese)",
        ),
        (
            Csv,
            "13:30,10\r",
            "13:30,10,,要予約\r",
            "slots.csv line 2: column 7 holds `要予約` but has no header",
        ),
    ] {
        let (yaml, csv) = match file {
            Yaml => {
                assert!(GOOD.contains(from), "{from}");
                (GOOD.replacen(from, to, 1), CSV.to_string())
            }
            Csv => {
                assert!(CSV.contains(from), "{from}");
                (GOOD.to_string(), CSV.replacen(from, to, 1))
            }
        };
        let got = problems(&yaml, csv.as_bytes());
        assert!(
            got.iter()
                .any(|p| p.starts_with(expected) || p.contains(expected)),
            "expected {expected:?} among {got:#?}"
        );
        // The same problem, whatever the CSV's encoding.
        if matches!(file, Csv) {
            assert_eq!(problems(&yaml, &cp932(&csv)), got);
        }
    }
}

#[test]
fn every_problem_is_listed_at_once() {
    let yaml = GOOD.replacen("name: 妊婦面談", "name: \"\"", 1).replacen(
        "date: 2027-01-12",
        "date: 2027-13-01",
        1,
    );
    let csv = CSV.replacen("13:00,13:30,10", "13:00,25:00,0", 1);
    let e = load(&yaml, csv.as_bytes()).expect_err("four problems");
    assert_eq!(e.problems.len(), 4, "{e}");
    assert!(
        e.to_string()
            .starts_with("the reservations file has 4 problems:\n  - line 7:")
    );
}

#[test]
fn broken_yaml_and_bytes_are_named_by_line() {
    let broken = GOOD.replacen("name: 妊婦面談", "name: [妊婦面談", 1);
    let got = problems(&broken, CSV.as_bytes());
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("line "), "{got:?}");

    let mut bad_yaml = GOOD.as_bytes().to_vec();
    bad_yaml.extend_from_slice(b"# \x82\xA0\n");
    assert_eq!(
        problems(
            std::str::from_utf8(&bad_yaml[..GOOD.len()]).expect("utf-8"),
            CSV.as_bytes()
        ),
        Vec::<String>::new()
    );
    let e =
        load_schedule("r.yaml", &bad_yaml, |_| Err("none".into()), today()).expect_err("not UTF-8");
    assert_eq!(
        e.problems[0].to_string(),
        "line 23: is not UTF-8 text; save the file as UTF-8"
    );

    let mut bad_csv = cp932(CSV);
    bad_csv.extend_from_slice(b"kenshin,2027/1/16,9:00,9:30,\x81\r\n");
    assert_eq!(
        problems(GOOD, &bad_csv),
        vec![
            "slots.csv line 4: is neither UTF-8 nor Shift_JIS (CP932) text; save the file as \
             CSV UTF-8 or as CSV (コンマ区切り)"
        ]
    );
}

#[test]
fn a_csv_is_read_through_the_yaml_that_names_it() {
    let e = load_schedule("slots.CSV", CSV.as_bytes(), |_| Err("none".into()), today())
        .expect_err("refused");
    assert!(
        e.to_string().contains(
            "slots.CSV: a slots CSV is read through the reservations YAML that lists it under \
             `slots_files:`"
        ),
        "{e}"
    );
    let no_services = problems("slots: []\n", b"");
    assert_eq!(
        no_services,
        vec!["field `services`: the file defines no services; list them under `services:`"]
    );
}

#[test]
fn sizes_are_limited() {
    let mut many = String::from("services:\n");
    for i in 0..=MAX_SERVICES {
        many.push_str(&format!(
            "  - {{id: s{i}, name: 相談, place: 窓口, who: anyone}}\n"
        ));
    }
    assert!(
        problems(&many, b"")
            .iter()
            .any(|p| p.starts_with("line 50: field `services`: lists 49 services; at most 48"))
    );

    let mut csv = String::from("service,date,start,end,capacity\n");
    for i in 0..=MAX_SLOTS {
        let day = today() + chrono::Duration::days(i as i64 / 10);
        let hour = 8 + i % 10;
        csv.push_str(&format!("kenshin,{day},{hour}:00,{hour}:30,1\n"));
    }
    assert!(
        problems(GOOD, csv.as_bytes())
            .iter()
            .any(|p| p.contains("more than 20000 slots")),
    );

    let huge = vec![b'#'; MAX_FILE_BYTES + 1];
    assert!(
        problems(GOOD, &huge)
            .iter()
            .any(|p| p.starts_with("slots.csv: is 5.0 MB; a reservations file may be at most 5 MB"))
    );
}
