//! What every file staff hand over has in common: names of the files a main file refers to
//! (which must stay beside it) and text encodings (editors and Excel on Japanese Windows
//! save UTF-8, UTF-8 with a BOM, or CP932).

/// One thing wrong with a staff file, said so staff can find it in their editor:
/// `slots.csv line 5: field `日付`: …`, `line 8: milestones[0] (dental-checkup), field `at`: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The file beside the main one the problem is in (a steps file, a slots CSV); `None`
    /// for the main file itself.
    pub file: Option<String>,
    pub line: Option<usize>,
    /// `milestones[3] (dental-checkup)`, `slots[0] (checkup-4m@2027-01-15T13:30)`, or empty
    /// (a CSV row, or the file as a whole).
    pub entry: String,
    /// As written: `who.child.before`, or a CSV column's header (`日付`).
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file} line {line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            (None, Some(line)) => write!(f, "line {line}: ")?,
            (None, None) => {}
        }
        match (self.entry.is_empty(), self.field.is_empty()) {
            (false, false) => write!(f, "{}, field `{}`: ", self.entry, self.field)?,
            (false, true) => write!(f, "{}: ", self.entry)?,
            (true, false) => write!(f, "field `{}`: ", self.field)?,
            (true, true) => {}
        }
        f.write_str(&self.message)
    }
}

/// Whether `name` is a file beside `main` (or below it): relative, without `..`. `main` says
/// what it is beside (`the catalog`), `example` a name staff would write.
pub fn check_file_name(name: &str, main: &str, example: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('/')
        && !name.contains(['\\', ':', '\0'])
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if plain {
        Ok(())
    } else {
        Err(format!(
            "`{name}` must name a file beside {main}, relative to it (e.g. {example}): no \
             absolute path, no `..`"
        ))
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encodings [`decode_text`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8WithBom,
    /// Shift_JIS as Windows writes it (Excel's "CSV (コンマ区切り)" on Japanese Windows).
    Cp932,
}

/// A file's text: UTF-8 (a BOM is dropped), or else CP932. Valid UTF-8 is taken as UTF-8:
/// Japanese text in CP932 is almost never valid UTF-8, and the reverse mistake would turn
/// every kana into two wrong kanji. On failure, the 1-based line of the first byte that is
/// neither, with what to do.
pub fn decode_text(bytes: &[u8]) -> Result<(String, TextEncoding), (usize, String)> {
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        // A BOM says UTF-8 outright: a bad byte after it is a broken file, not CP932.
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((text.to_string(), TextEncoding::Utf8WithBom)),
            Err(e) => Err((
                line_at(rest, e.valid_up_to()),
                "is not valid UTF-8 although the file starts with a UTF-8 BOM; save it \
                 again as CSV UTF-8"
                    .to_string(),
            )),
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), TextEncoding::Utf8));
    }
    // Decoded line by line to name the line of a bad byte: in CP932 a newline byte is
    // never part of a two-byte character, so splitting there is safe.
    let mut text = String::with_capacity(bytes.len() * 3 / 2);
    for (i, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        match encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(line) {
            Some(decoded) => text.push_str(&decoded),
            None => {
                return Err((
                    i + 1,
                    "is neither UTF-8 nor Shift_JIS (CP932) text; save the file as CSV \
                     UTF-8 or as CSV (コンマ区切り)"
                        .to_string(),
                ));
            }
        }
    }
    Ok((text, TextEncoding::Cp932))
}

/// The 1-based line holding byte `offset`.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The text of a file that must be UTF-8 (a YAML file): a BOM is dropped.
pub fn decode_utf8(bytes: &[u8]) -> Result<String, (usize, String)> {
    let rest = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    std::str::from_utf8(rest).map(str::to_string).map_err(|e| {
        (
            line_at(rest, e.valid_up_to()),
            "is not UTF-8 text; save the file as UTF-8".to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_and_cp932_read_the_same() {
        let text = "日付,定員\r\n2027/1/15,20\r\n";
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(!unmappable);
        let mut bom = UTF8_BOM.to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(
            decode_text(text.as_bytes()),
            Ok((text.to_string(), TextEncoding::Utf8))
        );
        assert_eq!(
            decode_text(&bom),
            Ok((text.to_string(), TextEncoding::Utf8WithBom))
        );
        assert_eq!(
            decode_text(&sjis),
            Ok((text.to_string(), TextEncoding::Cp932))
        );
    }

    #[test]
    fn undecodable_bytes_are_named_by_line() {
        // 0x81 0x0A: a lead byte without its trail byte.
        let bytes = b"a,b\r\n1,2\r\n3,\x81\n";
        assert_eq!(decode_text(bytes).map_err(|e| e.0), Err(3));
        let bom = b"\xEF\xBB\xBFa\n\xFF\n";
        assert_eq!(decode_text(bom).map_err(|e| e.0), Err(2));
        assert_eq!(decode_utf8(b"a: 1\nb: \x82\xA0\n").map_err(|e| e.0), Err(2));
    }

    #[test]
    fn file_names_stay_beside_the_main_file() {
        for good in ["a.csv", "slots/2027-01.csv"] {
            assert_eq!(check_file_name(good, "the file", "a.csv"), Ok(()));
        }
        for bad in [
            "",
            "/etc/passwd",
            "../a.csv",
            "a/../b",
            "C:\\a.csv",
            "./a.csv",
        ] {
            assert!(check_file_name(bad, "the file", "a.csv").is_err(), "{bad}");
        }
    }
}
