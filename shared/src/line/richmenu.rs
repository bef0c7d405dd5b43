//! Rich menus: the menu of buttons under the chat. [`RichMenuRequest`] is LINE's object of the
//! same name, exactly as `POST /v2/bot/richmenu` takes it, and [`RichMenuImage`] is the picture
//! uploaded for it. Both are checked against LINE's limits before any request, so a mistake in
//! a definition is named by its field instead of coming back as a 400 with a menu half made.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::limits;

/// One rich menu, in the shape `POST /v2/bot/richmenu` takes. Unknown fields are refused, so
/// a misspelt field in a hand-edited definition is an error rather than silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RichMenuRequest {
    pub size: RichMenuSize,
    /// `true`: the menu is open when a resident opens the chat.
    pub selected: bool,
    /// For managing menus; residents never see it.
    pub name: String,
    /// The text on the bar that opens and closes the menu.
    pub chat_bar_text: String,
    pub areas: Vec<RichMenuArea>,
}

/// The menu's size in pixels; its image must have exactly this size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RichMenuSize {
    pub width: u32,
    pub height: u32,
}

/// One tappable rectangle and what tapping it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RichMenuArea {
    pub bounds: RichMenuBounds,
    pub action: RichMenuAction,
}

/// A rectangle on the image, from its top-left corner, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RichMenuBounds {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl RichMenuBounds {
    fn right(&self) -> u64 {
        u64::from(self.x) + u64::from(self.width)
    }

    fn bottom(&self) -> u64 {
        u64::from(self.y) + u64::from(self.height)
    }

    fn overlaps(&self, other: &RichMenuBounds) -> bool {
        u64::from(self.x) < other.right()
            && u64::from(other.x) < self.right()
            && u64::from(self.y) < other.bottom()
            && u64::from(other.y) < self.bottom()
    }
}

/// What an area does. Only postbacks: every button of sukusuku's menu is a question to the
/// conversation, which answers it like the same button in a chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum RichMenuAction {
    Postback {
        /// Read out by screen readers; sukusuku also draws it on the image.
        label: String,
        data: String,
        /// Shown in the chat as the resident's own message when they tap.
        #[serde(
            rename = "displayText",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        display_text: Option<String>,
    },
}

impl RichMenuAction {
    pub fn label(&self) -> &str {
        match self {
            RichMenuAction::Postback { label, .. } => label,
        }
    }

    pub fn data(&self) -> &str {
        match self {
            RichMenuAction::Postback { data, .. } => data,
        }
    }
}

/// One thing LINE would refuse (or that would make a broken menu), by field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RichMenuProblem {
    /// Where, as a path into the definition: `chatBarText`, `areas[2].bounds`, `image`.
    pub field: String,
    pub message: String,
}

impl RichMenuProblem {
    fn new(field: impl Into<String>, message: impl Into<String>) -> RichMenuProblem {
        RichMenuProblem {
            field: field.into(),
            message: message.into(),
        }
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn check_text(field: &str, s: &str, max: usize, problems: &mut Vec<RichMenuProblem>) {
    let n = chars(s);
    if n == 0 {
        problems.push(RichMenuProblem::new(field, "must not be empty"));
    } else if n > max {
        problems.push(RichMenuProblem::new(
            field,
            format!("`{s}` has {n} characters; LINE allows at most {max}"),
        ));
    }
}

impl RichMenuSize {
    /// LINE's rules for a menu's size: width 800–2500, height at least 250, and
    /// width / height at least 1.45.
    pub fn problems(&self) -> Vec<RichMenuProblem> {
        let mut problems = Vec::new();
        if !(limits::RICH_MENU_MIN_WIDTH..=limits::RICH_MENU_MAX_WIDTH).contains(&self.width) {
            problems.push(RichMenuProblem::new(
                "size.width",
                format!(
                    "{} is outside LINE's {}–{} pixels",
                    self.width,
                    limits::RICH_MENU_MIN_WIDTH,
                    limits::RICH_MENU_MAX_WIDTH
                ),
            ));
        }
        if self.height < limits::RICH_MENU_MIN_HEIGHT {
            problems.push(RichMenuProblem::new(
                "size.height",
                format!(
                    "{} is below LINE's minimum of {} pixels",
                    self.height,
                    limits::RICH_MENU_MIN_HEIGHT
                ),
            ));
        }
        let (num, den) = limits::RICH_MENU_MIN_ASPECT;
        if u64::from(self.width) * u64::from(den) < u64::from(self.height) * u64::from(num) {
            problems.push(RichMenuProblem::new(
                "size",
                format!(
                    "{}×{} is too tall: LINE needs width / height of at least {}.{:02}",
                    self.width,
                    self.height,
                    num / den,
                    num % den
                ),
            ));
        }
        problems
    }
}

impl RichMenuRequest {
    /// Reads a definition written in LINE's own shape. A field that does not fit is named by
    /// its path (`areas[1].bounds.x`).
    pub fn from_json(text: &str) -> Result<RichMenuRequest, RichMenuProblem> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." || path == "?" {
                "(the file)".to_string()
            } else {
                path
            };
            RichMenuProblem::new(field, e.into_inner().to_string())
        })
    }

    /// Every way this menu breaks LINE's limits; empty when LINE would take it. Overlapping
    /// areas are refused as well: LINE accepts them, but a tap there would do one of two things.
    pub fn problems(&self) -> Vec<RichMenuProblem> {
        let mut problems = self.size.problems();
        check_text(
            "name",
            &self.name,
            limits::RICH_MENU_MAX_NAME_CHARS,
            &mut problems,
        );
        check_text(
            "chatBarText",
            &self.chat_bar_text,
            limits::RICH_MENU_MAX_CHAT_BAR_CHARS,
            &mut problems,
        );
        if self.areas.is_empty() || self.areas.len() > limits::RICH_MENU_MAX_AREAS {
            problems.push(RichMenuProblem::new(
                "areas",
                format!(
                    "{} areas; LINE takes 1–{}",
                    self.areas.len(),
                    limits::RICH_MENU_MAX_AREAS
                ),
            ));
        }
        for (i, area) in self.areas.iter().enumerate() {
            let b = &area.bounds;
            let field = format!("areas[{i}].bounds");
            if b.width == 0 || b.height == 0 {
                problems.push(RichMenuProblem::new(
                    &field,
                    "width and height must be at least 1",
                ));
            }
            if b.right() > u64::from(self.size.width) || b.bottom() > u64::from(self.size.height) {
                problems.push(RichMenuProblem::new(
                    &field,
                    format!(
                        "x {}–{}, y {}–{} reaches outside the {}×{} menu",
                        b.x,
                        b.right(),
                        b.y,
                        b.bottom(),
                        self.size.width,
                        self.size.height
                    ),
                ));
            }
            if let Some(j) = self.areas[..i]
                .iter()
                .position(|earlier| earlier.bounds.overlaps(b))
            {
                problems.push(RichMenuProblem::new(
                    &field,
                    format!("overlaps areas[{j}]: a tap there would be ambiguous"),
                ));
            }
            let field = format!("areas[{i}].action");
            match &area.action {
                RichMenuAction::Postback {
                    label,
                    data,
                    display_text,
                } => {
                    check_text(
                        &format!("{field}.label"),
                        label,
                        limits::MAX_ACTION_LABEL_CHARS,
                        &mut problems,
                    );
                    check_text(
                        &format!("{field}.data"),
                        data,
                        limits::MAX_POSTBACK_DATA_CHARS,
                        &mut problems,
                    );
                    if let Some(text) = display_text {
                        check_text(
                            &format!("{field}.displayText"),
                            text,
                            limits::MAX_DISPLAY_TEXT_CHARS,
                            &mut problems,
                        );
                    }
                }
            }
        }
        problems
    }
}

/// The image formats LINE takes for a rich menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    /// The upload's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
        }
    }
}

/// A rich menu's image: its bytes, and the format and size read from its header (it is not
/// decoded: LINE only needs the file, and the header is where the size is).
#[derive(Clone, PartialEq, Eq)]
pub struct RichMenuImage {
    bytes: Vec<u8>,
    format: ImageFormat,
    width: u32,
    height: u32,
    /// A PNG's `tEXt` entries (keyword, text).
    texts: Vec<(String, String)>,
}

impl fmt::Debug for RichMenuImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RichMenuImage({} {}×{}, {} bytes)",
            self.format.name(),
            self.width,
            self.height,
            self.bytes.len()
        )
    }
}

impl RichMenuImage {
    /// Reads the format and size from the file's header. Anything but a PNG or JPEG whose
    /// header can be read is refused, whatever its file name says.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<RichMenuImage, String> {
        let (format, (width, height), texts) = if bytes.starts_with(&PNG_SIGNATURE) {
            let (size, texts) = read_png(&bytes)?;
            (ImageFormat::Png, size, texts)
        } else if bytes.starts_with(&[0xFF, 0xD8]) {
            (ImageFormat::Jpeg, read_jpeg(&bytes)?, Vec::new())
        } else {
            return Err("is neither a PNG nor a JPEG file, the formats LINE takes".to_string());
        };
        if width == 0 || height == 0 {
            return Err(format!(
                "{} header says {width}×{height} pixels",
                format.name()
            ));
        }
        Ok(RichMenuImage {
            bytes,
            format,
            width,
            height,
            texts,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The text a PNG carries under `keyword` (a `tEXt` chunk), if any.
    pub fn png_text(&self, keyword: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(k, _)| k == keyword)
            .map(|(_, v)| v.as_str())
    }

    /// What LINE would refuse about this image for a menu of `size`: more than 1 MB, or
    /// other dimensions than the menu's.
    pub fn problems_for(&self, size: &RichMenuSize) -> Vec<RichMenuProblem> {
        let mut problems = Vec::new();
        if self.bytes.len() > limits::RICH_MENU_MAX_IMAGE_BYTES {
            problems.push(RichMenuProblem::new(
                "image",
                format!(
                    "{} bytes; LINE takes at most {} (1 MB)",
                    self.bytes.len(),
                    limits::RICH_MENU_MAX_IMAGE_BYTES
                ),
            ));
        }
        if (self.width, self.height) != (size.width, size.height) {
            problems.push(RichMenuProblem::new(
                "image",
                format!(
                    "is {}×{} pixels; the menu's size is {}×{} and the image must match it exactly",
                    self.width, self.height, size.width, size.height
                ),
            ));
        }
        problems
    }
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

type PngHeader = ((u32, u32), Vec<(String, String)>);

/// Walks a PNG's chunks: IHDR (first) gives the size, `tEXt` the texts, IEND ends it.
fn read_png(bytes: &[u8]) -> Result<PngHeader, String> {
    let truncated = || "is a PNG file that ends too early (truncated?)".to_string();
    let mut pos = PNG_SIGNATURE.len();
    let mut size = None;
    let mut texts = Vec::new();
    loop {
        let len = be32(bytes, pos).ok_or_else(truncated)? as usize;
        let kind = bytes.get(pos + 4..pos + 8).ok_or_else(truncated)?;
        let start = pos + 8;
        let end = start.checked_add(len).ok_or_else(truncated)?;
        let data = bytes.get(start..end).ok_or_else(truncated)?;
        if size.is_none() && kind != b"IHDR" {
            return Err("is a PNG file without its IHDR header".to_string());
        }
        match kind {
            b"IHDR" => {
                let width = be32(data, 0).ok_or_else(truncated)?;
                let height = be32(data, 4).ok_or_else(truncated)?;
                size = Some((width, height));
            }
            b"tEXt" => {
                if let Some(nul) = data.iter().position(|&b| b == 0) {
                    // tEXt is Latin-1.
                    let latin1 = |b: &[u8]| b.iter().map(|&c| char::from(c)).collect::<String>();
                    texts.push((latin1(&data[..nul]), latin1(&data[nul + 1..])));
                }
            }
            b"IEND" => break,
            _ => {}
        }
        // The 4-byte CRC follows the data.
        pos = end.checked_add(4).ok_or_else(truncated)?;
        if pos > bytes.len() {
            return Err(truncated());
        }
    }
    let size = size.ok_or_else(truncated)?;
    Ok((size, texts))
}

/// Walks a JPEG's segments up to its frame header (SOFn), which holds the size.
fn read_jpeg(bytes: &[u8]) -> Result<(u32, u32), String> {
    let no_frame = || "is a JPEG file without a readable frame header".to_string();
    let mut pos = 2;
    loop {
        if bytes.get(pos) != Some(&0xFF) {
            return Err(no_frame());
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *bytes.get(pos).ok_or_else(no_frame)?;
        pos += 1;
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD8 => continue,
            // End of image or start of the compressed data, and no frame header yet.
            0xD9 | 0xDA => return Err(no_frame()),
            _ => {}
        }
        let len = usize::from(be16(bytes, pos).ok_or_else(no_frame)?);
        if len < 2 {
            return Err(no_frame());
        }
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let height = be16(bytes, pos + 3).ok_or_else(no_frame)?;
            let width = be16(bytes, pos + 5).ok_or_else(no_frame)?;
            return Ok((u32::from(width), u32::from(height)));
        }
        pos += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: &str = r#"{
      "size": {"width": 2500, "height": 843},
      "selected": true,
      "name": "sukusuku",
      "chatBarText": "メニュー",
      "areas": [
        {"bounds": {"x": 0, "y": 0, "width": 833, "height": 843},
         "action": {"type": "postback", "label": "登録・変更", "data": "v1:show", "displayText": "登録・変更"}},
        {"bounds": {"x": 833, "y": 0, "width": 834, "height": 843},
         "action": {"type": "postback", "label": "受信設定", "data": "v1:settings", "displayText": "受信設定"}},
        {"bounds": {"x": 1667, "y": 0, "width": 833, "height": 843},
         "action": {"type": "postback", "label": "使い方", "data": "v1:menu", "displayText": "使い方"}}
      ]
    }"#;

    fn menu() -> RichMenuRequest {
        RichMenuRequest::from_json(THREE).expect("the example parses")
    }

    fn fields(menu: &RichMenuRequest) -> Vec<String> {
        menu.problems().into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_three_button_menu_is_valid_and_serialises_as_line_expects() {
        let m = menu();
        assert_eq!(m.problems(), vec![]);
        let json = serde_json::to_value(&m).expect("json");
        assert_eq!(json["chatBarText"], "メニュー");
        assert_eq!(json["areas"][1]["action"]["type"], "postback");
        assert_eq!(json["areas"][1]["action"]["displayText"], "受信設定");
        assert_eq!(json["areas"][2]["bounds"]["x"], 1667);
        let back: serde_json::Value = serde_json::from_str(THREE).expect("json");
        assert_eq!(json, back, "nothing is lost or added on the way to LINE");
    }

    #[test]
    fn sizes_follow_lines_rules() {
        let ok = |width, height| RichMenuSize { width, height }.problems().is_empty();
        assert!(ok(2500, 1686));
        assert!(ok(2500, 843));
        assert!(ok(800, 250));
        assert!(ok(1450, 1000), "exactly 1.45");
        assert!(!ok(1449, 1000), "just under 1.45");
        assert!(!ok(799, 250));
        assert!(!ok(2501, 843));
        assert!(!ok(2500, 249));
    }

    #[test]
    fn each_limit_is_named_by_its_field() {
        let mut m = menu();
        m.chat_bar_text = "メニューはこちらからどうぞタップ".to_string();
        assert_eq!(fields(&m), ["chatBarText"]);

        let mut m = menu();
        m.name = "s".repeat(301);
        assert_eq!(fields(&m), ["name"]);

        let mut m = menu();
        m.areas[2].bounds.width = 834;
        assert_eq!(fields(&m), ["areas[2].bounds"]);
        assert!(
            m.problems()[0]
                .message
                .contains("outside the 2500×843 menu")
        );

        let mut m = menu();
        m.areas[1].bounds.x = 800;
        let p = m.problems();
        assert_eq!(fields(&m), ["areas[1].bounds"]);
        assert!(p[0].message.contains("overlaps areas[0]"), "{p:?}");

        let mut m = menu();
        m.areas[0].action = RichMenuAction::Postback {
            label: "あ".repeat(21),
            data: "x".repeat(301),
            display_text: Some(String::new()),
        };
        assert_eq!(
            fields(&m),
            [
                "areas[0].action.label",
                "areas[0].action.data",
                "areas[0].action.displayText"
            ]
        );

        let mut m = menu();
        let area = m.areas[0].clone();
        m.areas = vec![area; 21];
        assert!(fields(&m).contains(&"areas".to_string()));
        m.areas.clear();
        assert_eq!(fields(&m), ["areas"]);
    }

    #[test]
    fn misspelt_or_misshapen_fields_are_named() {
        let typo = THREE.replace("chatBarText", "chatbarText");
        let p = RichMenuRequest::from_json(&typo).expect_err("unknown field");
        assert!(p.message.contains("chatbarText"), "{p}");
        let negative = THREE.replace("\"x\": 833", "\"x\": -1");
        let p = RichMenuRequest::from_json(&negative).expect_err("negative x");
        assert_eq!(p.field, "areas[1].bounds.x");
        let uri = THREE.replace(
            "\"type\": \"postback\", \"label\": \"使い方\"",
            "\"type\": \"uri\", \"label\": \"使い方\"",
        );
        let p = RichMenuRequest::from_json(&uri).expect_err("uri");
        assert_eq!(p.field, "areas[2].action.type", "{p}");
        assert!(p.message.contains("expected `postback`"), "{p}");
        let typo = THREE.replacen("displayText", "displaytext", 1);
        let p = RichMenuRequest::from_json(&typo).expect_err("unknown action field");
        assert!(p.field.starts_with("areas[0].action"), "{p}");
        assert!(p.message.contains("displaytext"), "{p}");
        let p = RichMenuRequest::from_json("{").expect_err("syntax");
        assert_eq!(p.field, "(the file)");
    }

    fn png(width: u32, height: u32, text: Option<(&str, &str)>) -> Vec<u8> {
        let mut out = PNG_SIGNATURE.to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            out.extend((data.len() as u32).to_be_bytes());
            out.extend(kind);
            out.extend(data);
            out.extend([0, 0, 0, 0]);
        };
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        chunk(b"IHDR", &ihdr);
        if let Some((k, v)) = text {
            chunk(b"tEXt", format!("{k}\0{v}").as_bytes());
        }
        chunk(b"IDAT", &[0; 10]);
        chunk(b"IEND", &[]);
        out
    }

    #[test]
    fn png_and_jpeg_headers_give_the_size() {
        let image = RichMenuImage::from_bytes(png(2500, 843, Some(("key", "value")))).expect("png");
        assert_eq!(
            (image.format(), image.width(), image.height()),
            (ImageFormat::Png, 2500, 843)
        );
        assert_eq!(image.png_text("key"), Some("value"));
        assert_eq!(image.png_text("other"), None);
        assert_eq!(image.format().content_type(), "image/png");
        let size = RichMenuSize {
            width: 2500,
            height: 843,
        };
        assert!(image.problems_for(&size).is_empty());
        let other = RichMenuSize {
            width: 2500,
            height: 1686,
        };
        assert!(
            image.problems_for(&other)[0]
                .message
                .contains("2500×843 pixels")
        );

        // SOI, an APP0 segment, a fill byte, then SOF2 (progressive) with height 843, width 2500.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF];
        jpeg.extend([0xFF, 0xC2, 0x00, 0x11, 0x08, 0x03, 0x4B, 0x09, 0xC4, 0x03]);
        jpeg.extend([0; 9]);
        jpeg.extend([0xFF, 0xD9]);
        let image = RichMenuImage::from_bytes(jpeg).expect("jpeg");
        assert_eq!(
            (image.format(), image.width(), image.height()),
            (ImageFormat::Jpeg, 2500, 843)
        );
        assert_eq!(image.format().content_type(), "image/jpeg");
    }

    #[test]
    fn other_or_broken_files_are_refused() {
        assert!(RichMenuImage::from_bytes(b"GIF89a....".to_vec()).is_err());
        assert!(RichMenuImage::from_bytes(Vec::new()).is_err());
        let whole = png(2500, 843, None);
        for cut in [9, 20, 33, whole.len() - 5] {
            assert!(
                RichMenuImage::from_bytes(whole[..cut].to_vec()).is_err(),
                "cut at {cut}"
            );
        }
        assert!(RichMenuImage::from_bytes(png(0, 843, None)).is_err());
        // A JPEG whose data starts before any frame header.
        assert!(RichMenuImage::from_bytes(vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02]).is_err());
        assert!(RichMenuImage::from_bytes(vec![0xFF, 0xD8, 0xFF]).is_err());
    }

    #[test]
    fn an_image_over_one_megabyte_is_refused() {
        let mut big = png(2500, 843, None);
        let iend = big.split_off(big.len() - 12);
        let pad = vec![0u8; limits::RICH_MENU_MAX_IMAGE_BYTES];
        big.extend((pad.len() as u32).to_be_bytes());
        big.extend(b"zzZz");
        big.extend(&pad);
        big.extend([0; 4]);
        big.extend(iend);
        let image = RichMenuImage::from_bytes(big).expect("still a PNG");
        let size = RichMenuSize {
            width: 2500,
            height: 843,
        };
        let p = image.problems_for(&size);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("at most 1000000"), "{p:?}");
    }
}
