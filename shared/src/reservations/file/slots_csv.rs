//! A CSV file of slots, as staff save it from Excel: a header row naming the columns in
//! English or Japanese (any order), then one slot per row. Rows left blank are skipped.

use super::{Place, Problems, RawField, RawSlot};

/// The columns of a slots CSV and the headers each may be written as (compared without
/// case and surrounding spaces).
const COLUMNS: [(&str, &[&str]); 5] = [
    ("service", &["service", "サービス", "サービスid"]),
    ("date", &["date", "日付"]),
    ("start", &["start", "開始", "開始時刻"]),
    ("end", &["end", "終了", "終了時刻"]),
    ("capacity", &["capacity", "定員"]),
];

/// `service (サービス), date (日付), …`: the columns, as a message lists them.
fn columns_list() -> String {
    COLUMNS
        .iter()
        .map(|(name, names)| format!("{name} ({})", names[1]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn column_of(header: &str) -> Option<usize> {
    let header = header
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}')
        .to_lowercase()
        .replace("ｉｄ", "id");
    COLUMNS
        .iter()
        .position(|(_, names)| names.contains(&header.as_str()))
}

/// The slots of the CSV `text`, read from the file `name`: at most `room` of them (what is
/// left of the schedule's limit), and whether the file holds more.
pub(super) fn read(p: &mut Problems, name: &str, text: &str, room: usize) -> (Vec<RawSlot>, bool) {
    let file_place = Place {
        file: Some(name.to_string()),
        entry: String::new(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    // The header: which column each cell is, by position; `None` for a blank cell.
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(e)) => {
            p.add(&file_place, Some(1), "", plain_error(&e));
            return (Vec::new(), false);
        }
        None => {
            p.add(
                &file_place,
                None,
                "",
                format!(
                    "is empty; the first row names the columns: {}",
                    columns_list()
                ),
            );
            return (Vec::new(), false);
        }
    };
    let header_line = line_of(text, header.position());
    let mut cells: Vec<Option<(usize, String)>> = Vec::new();
    let mut seen: [Option<String>; COLUMNS.len()] = Default::default();
    let mut header_ok = true;
    for written in header.iter() {
        let written_plain = written.trim().to_string();
        if written_plain.is_empty() {
            cells.push(None);
            continue;
        }
        match column_of(written) {
            Some(c) => {
                if let Some(first) = &seen[c] {
                    p.add(
                        &file_place,
                        header_line,
                        &written_plain,
                        format!("names the column `{}` again (also `{first}`)", COLUMNS[c].0),
                    );
                    header_ok = false;
                } else {
                    seen[c] = Some(written_plain.clone());
                }
                cells.push(Some((c, written_plain)));
            }
            None => {
                p.add(
                    &file_place,
                    header_line,
                    &written_plain,
                    format!(
                        "is not a column of a slots file; the columns are {}: remove this \
                         one, or check that the first row is the header",
                        columns_list()
                    ),
                );
                header_ok = false;
                cells.push(None);
            }
        }
    }
    for (c, got) in seen.iter().enumerate() {
        if got.is_none() {
            p.add(
                &file_place,
                header_line,
                COLUMNS[c].0,
                format!(
                    "the header has no `{}` column ({} in Japanese); the columns are {}",
                    COLUMNS[c].0,
                    COLUMNS[c].1[1],
                    columns_list()
                ),
            );
            header_ok = false;
        }
    }
    if !header_ok {
        // Without the columns, every row would repeat the same complaint.
        return (Vec::new(), false);
    }
    let names: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(c, (name, _))| seen[c].clone().unwrap_or_else(|| name.to_string()))
        .collect();

    let mut slots = Vec::new();
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = line_of(text, e.position());
                p.add(&file_place, line, "", plain_error(&e));
                continue;
            }
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if slots.len() == room {
            return (slots, true);
        }
        let line = line_of(text, record.position());
        let mut values: [String; COLUMNS.len()] = Default::default();
        for (i, cell) in record.iter().enumerate() {
            match cells.get(i) {
                Some(Some((c, _))) => values[*c] = cell.to_string(),
                _ if cell.trim().is_empty() => {}
                _ => p.add(
                    &file_place,
                    line,
                    "",
                    format!(
                        "column {} holds `{}` but has no header; name it in the first row or \
                         remove it",
                        i + 1,
                        cell.trim()
                    ),
                ),
            }
        }
        let field = |c: usize, values: &mut [String; COLUMNS.len()]| RawField {
            text: std::mem::take(&mut values[c]),
            line,
            name: names[c].clone(),
        };
        slots.push(RawSlot {
            place: file_place.clone(),
            line,
            service: field(0, &mut values),
            date: field(1, &mut values),
            start: field(2, &mut values),
            end: field(3, &mut values),
            capacity: field(4, &mut values),
        });
    }
    (slots, false)
}

/// The line a record starts on, as an editor counts it. The reader's own line count is one
/// short after a CRLF (it counts the `\n` as part of the next record), so it is counted
/// here from the record's first byte, past the line ends the reader skipped.
fn line_of(text: &str, position: Option<&csv::Position>) -> Option<usize> {
    let start = usize::try_from(position?.byte()).ok()?;
    let before = text.get(..start)?;
    let skipped = text.get(start..)?;
    let blank = skipped.len() - skipped.trim_start_matches(['\r', '\n']).len();
    let line_ends = before.matches('\n').count() + skipped[..blank].matches('\n').count();
    Some(line_ends + 1)
}

/// The CSV reader's complaint without its own position (the problem names the line).
fn plain_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "is not valid text".to_string(),
        _ => format!("cannot be read as CSV ({e})"),
    }
}
