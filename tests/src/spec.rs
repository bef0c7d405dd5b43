//! Independent checks of outgoing LINE requests against the Messaging API spec
//! (messaging-api.yml: ReplyMessageRequest, PushMessageRequest, MulticastRequest, Message,
//! QuickReply, Action, and the documented character limits). Written against raw JSON, not
//! sukusuku's own types, so a mistake in those types is caught here.

use serde_json::Value;

const UUID_GROUPS: [usize; 5] = [8, 4, 4, 4, 12];

pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip(UUID_GROUPS)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

fn str_field<'a>(
    v: &'a Value,
    field: &str,
    path: &str,
    problems: &mut Vec<String>,
) -> Option<&'a str> {
    match v.get(field) {
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            problems.push(format!("{path}.{field} must be a string"));
            None
        }
        None => {
            problems.push(format!("{path}.{field} is required"));
            None
        }
    }
}

fn max_chars(s: &str, max: usize, what: &str, problems: &mut Vec<String>) {
    let n = s.chars().count();
    if n > max {
        problems.push(format!("{what} has {n} characters, max {max}"));
    }
}

fn check_action(a: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(kind) = str_field(a, "type", path, problems) else {
        return;
    };
    if let Some(label) = a.get("label").and_then(Value::as_str) {
        if label.is_empty() {
            problems.push(format!("{path}.label is empty"));
        }
        max_chars(label, 20, &format!("{path}.label"), problems);
    }
    match kind {
        "postback" => {
            if let Some(data) = str_field(a, "data", path, problems) {
                max_chars(data, 300, &format!("{path}.data"), problems);
            }
            if let Some(t) = a.get("displayText").and_then(Value::as_str) {
                max_chars(t, 300, &format!("{path}.displayText"), problems);
            }
            if a.get("label").is_none() && a.get("displayText").is_none() {
                problems.push(format!("{path}: a quick-reply postback needs a label"));
            }
        }
        "datetimepicker" => {
            if let Some(data) = str_field(a, "data", path, problems) {
                max_chars(data, 300, &format!("{path}.data"), problems);
            }
            let mode = str_field(a, "mode", path, problems).unwrap_or("");
            if !["date", "time", "datetime"].contains(&mode) {
                problems.push(format!(
                    "{path}.mode `{mode}` is not date, time or datetime"
                ));
            }
            if mode == "date" {
                let dates: Vec<Option<&str>> = ["initial", "min", "max"]
                    .iter()
                    .map(|k| a.get(*k).and_then(Value::as_str))
                    .collect();
                for (k, v) in ["initial", "min", "max"].iter().zip(&dates) {
                    if let Some(v) = v
                        && !is_date(v)
                    {
                        problems.push(format!("{path}.{k} `{v}` is not YYYY-MM-DD"));
                    }
                }
                if let [Some(i), Some(lo), Some(hi)] = dates[..]
                    && !(lo <= i && i <= hi)
                {
                    problems.push(format!(
                        "{path}: needs min <= initial <= max ({lo} / {i} / {hi})"
                    ));
                }
            }
            if a.get("label").is_none() {
                problems.push(format!("{path}.label is required in a quick reply"));
            }
        }
        "message" => {
            str_field(a, "text", path, problems);
        }
        "uri" => {
            str_field(a, "uri", path, problems);
        }
        other => problems.push(format!(
            "{path}.type `{other}` is not an action sukusuku should send"
        )),
    }
}

fn check_message(m: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(kind) = str_field(m, "type", path, problems) else {
        return;
    };
    match kind {
        "text" => {
            if let Some(text) = str_field(m, "text", path, problems) {
                let units = text.encode_utf16().count();
                if units == 0 || units > 5000 {
                    problems.push(format!(
                        "{path}.text is {units} UTF-16 units; must be 1–5000"
                    ));
                }
            }
        }
        "template" => {
            if let Some(alt) = str_field(m, "altText", path, problems) {
                if alt.is_empty() {
                    problems.push(format!("{path}.altText is empty"));
                }
                max_chars(alt, 400, &format!("{path}.altText"), problems);
            }
            match m.get("template") {
                Some(t) => {
                    let tpath = format!("{path}.template");
                    match str_field(t, "type", &tpath, problems) {
                        Some("confirm") => {
                            if let Some(text) = str_field(t, "text", &tpath, problems) {
                                max_chars(text, 240, &format!("{tpath}.text"), problems);
                            }
                            match t.get("actions").and_then(Value::as_array) {
                                Some(actions) if actions.len() == 2 => {
                                    for (i, a) in actions.iter().enumerate() {
                                        check_action(a, &format!("{tpath}.actions[{i}]"), problems);
                                    }
                                }
                                _ => problems.push(format!("{tpath}.actions must be 2 actions")),
                            }
                        }
                        Some(other) => {
                            problems.push(format!("{tpath}.type `{other}` not expected"))
                        }
                        None => {}
                    }
                }
                None => problems.push(format!("{path}.template is required")),
            }
        }
        "flex" => {
            if let Some(alt) = str_field(m, "altText", path, problems) {
                if alt.is_empty() {
                    problems.push(format!("{path}.altText is empty"));
                }
                max_chars(alt, 1500, &format!("{path}.altText"), problems);
            }
            match m.get("contents") {
                Some(c) => check_flex_container(c, &format!("{path}.contents"), problems),
                None => problems.push(format!("{path}.contents is required")),
            }
        }
        other => problems.push(format!(
            "{path}.type `{other}` is not a message sukusuku should send"
        )),
    }
    if let Some(q) = m.get("quickReply") {
        match q.get("items").and_then(Value::as_array) {
            Some(items) if !items.is_empty() && items.len() <= 13 => {
                for (i, item) in items.iter().enumerate() {
                    let ipath = format!("{path}.quickReply.items[{i}]");
                    if item.get("type").and_then(Value::as_str) != Some("action") {
                        problems.push(format!("{ipath}.type must be `action`"));
                    }
                    match item.get("action") {
                        Some(a) => check_action(a, &format!("{ipath}.action"), problems),
                        None => problems.push(format!("{ipath}.action is required")),
                    }
                }
            }
            _ => problems.push(format!("{path}.quickReply.items must have 1–13 items")),
        }
    }
}

fn json_bytes(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

/// Flex Message containers (messaging-api.yml FlexContainer, FlexBubble, FlexCarousel) and
/// the reference's limits: a carousel holds 1–12 bubbles and at most 50 KB of JSON, a bubble
/// at most 30 KB.
fn check_flex_container(c: &Value, path: &str, problems: &mut Vec<String>) {
    match str_field(c, "type", path, problems) {
        Some("bubble") => check_bubble(c, path, problems),
        Some("carousel") => {
            match c.get("contents").and_then(Value::as_array) {
                Some(bubbles) if !bubbles.is_empty() && bubbles.len() <= 12 => {
                    for (i, b) in bubbles.iter().enumerate() {
                        let bpath = format!("{path}.contents[{i}]");
                        if b.get("type").and_then(Value::as_str) != Some("bubble") {
                            problems.push(format!("{bpath}.type must be `bubble`"));
                        }
                        check_bubble(b, &bpath, problems);
                    }
                }
                _ => problems.push(format!("{path}.contents must be 1–12 bubbles")),
            }
            if json_bytes(c) > 50 * 1024 {
                problems.push(format!("{path} is over 50 KB of JSON"));
            }
        }
        Some(other) => problems.push(format!("{path}.type `{other}` is not bubble or carousel")),
        None => {}
    }
}

fn check_bubble(b: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(size) = b.get("size") {
        let sizes = ["nano", "micro", "deca", "hecto", "kilo", "mega", "giga"];
        if !size.as_str().is_some_and(|s| sizes.contains(&s)) {
            problems.push(format!("{path}.size {size} is not a bubble size"));
        }
    }
    let blocks: Vec<&str> = ["header", "hero", "body", "footer"]
        .into_iter()
        .filter(|k| b.get(*k).is_some())
        .collect();
    if blocks.is_empty() {
        problems.push(format!("{path} has no header, hero, body or footer"));
    }
    for block in blocks {
        let bpath = format!("{path}.{block}");
        let v = &b[block];
        if block != "hero" && v.get("type").and_then(Value::as_str) != Some("box") {
            problems.push(format!("{bpath} must be a box"));
        }
        check_flex_component(v, &bpath, problems);
    }
    if json_bytes(b) > 30 * 1024 {
        problems.push(format!("{path} is over 30 KB of JSON"));
    }
}

fn check_flex_component(c: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(kind) = str_field(c, "type", path, problems) else {
        return;
    };
    match kind {
        "box" => {
            let layout = str_field(c, "layout", path, problems).unwrap_or("");
            if !["horizontal", "vertical", "baseline"].contains(&layout) {
                problems.push(format!("{path}.layout `{layout}` is not a box layout"));
            }
            match c.get("contents").and_then(Value::as_array) {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        check_flex_component(item, &format!("{path}.contents[{i}]"), problems);
                    }
                }
                None => problems.push(format!("{path}.contents must be an array")),
            }
            if let Some(a) = c.get("action") {
                check_action(a, &format!("{path}.action"), problems);
            }
        }
        "text" => {
            let has_spans = c.get("contents").is_some_and(Value::is_array);
            match c.get("text").and_then(Value::as_str) {
                Some("") if !has_spans => problems.push(format!("{path}.text is empty")),
                None if !has_spans => problems.push(format!("{path}.text is required")),
                _ => {}
            }
            if let Some(a) = c.get("action") {
                check_action(a, &format!("{path}.action"), problems);
            }
        }
        "button" => match c.get("action") {
            Some(a) => check_action(a, &format!("{path}.action"), problems),
            None => problems.push(format!("{path}.action is required")),
        },
        "separator" | "filler" => {}
        "image" | "icon" => {
            if !c
                .get("url")
                .and_then(Value::as_str)
                .is_some_and(|u| u.starts_with("https://") && u.len() <= 2000)
            {
                problems.push(format!(
                    "{path}.url must be an https URL of ≤ 2000 characters"
                ));
            }
        }
        other => problems.push(format!("{path}.type `{other}` is not a Flex component")),
    }
}

fn check_messages(body: &Value, problems: &mut Vec<String>) {
    match body.get("messages").and_then(Value::as_array) {
        Some(ms) if !ms.is_empty() && ms.len() <= 5 => {
            for (i, m) in ms.iter().enumerate() {
                check_message(m, &format!("messages[{i}]"), problems);
            }
        }
        _ => problems.push("messages must be an array of 1–5 messages".to_string()),
    }
}

/// Every problem with one request to `path`; empty when it is valid.
pub fn check_request(
    path: &str,
    authorization: Option<&str>,
    content_type: Option<&str>,
    retry_key: Option<&str>,
    body: &Value,
    token: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    if authorization != Some(&format!("Bearer {token}")) {
        problems.push("Authorization must be `Bearer <channel access token>`".to_string());
    }
    if !content_type.is_some_and(|c| c.starts_with("application/json")) {
        problems.push("Content-Type must be application/json".to_string());
    }
    match path {
        "/v2/bot/message/reply" => {
            match body.get("replyToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => {}
                _ => problems.push("replyToken is required".to_string()),
            }
            if retry_key.is_some() {
                problems.push("reply does not take X-Line-Retry-Key".to_string());
            }
        }
        "/v2/bot/message/push" => {
            match body.get("to").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => {}
                _ => problems.push("to must be a user id".to_string()),
            }
            if !retry_key.is_some_and(is_uuid) {
                problems.push("push should carry a UUID X-Line-Retry-Key".to_string());
            }
        }
        "/v2/bot/message/multicast" => {
            match body.get("to").and_then(Value::as_array) {
                Some(to)
                    if !to.is_empty() && to.len() <= 500 && to.iter().all(Value::is_string) => {}
                _ => problems.push("to must be 1–500 user ids".to_string()),
            }
            if !retry_key.is_some_and(is_uuid) {
                problems.push("multicast should carry a UUID X-Line-Retry-Key".to_string());
            }
        }
        other => problems.push(format!("unexpected path {other}")),
    }
    check_messages(body, &mut problems);
    problems
}

/// LINE's limits on a rich menu (RichMenuRequest, RichMenuSize, RichMenuArea,
/// RichMenuBounds and the rich-menu reference): every problem with a create or validate body.
pub fn check_rich_menu(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let int = |v: &Value, path: &str, problems: &mut Vec<String>| match v.as_i64() {
        Some(n) => Some(n),
        None => {
            problems.push(format!("{path} must be an integer"));
            None
        }
    };
    let size = &body["size"];
    let width = int(&size["width"], "size.width", &mut problems);
    let height = int(&size["height"], "size.height", &mut problems);
    if let (Some(w), Some(h)) = (width, height) {
        if !(800..=2500).contains(&w) {
            problems.push(format!("size.width {w} must be 800–2500"));
        }
        if h < 250 {
            problems.push(format!("size.height {h} must be at least 250"));
        }
        if (w as f64) / (h as f64) < 1.45 {
            problems.push(format!("size {w}×{h}: width/height must be at least 1.45"));
        }
    }
    if !body["selected"].is_boolean() {
        problems.push("selected is required (true or false)".to_string());
    }
    for (field, max) in [("name", 300), ("chatBarText", 14)] {
        match body[field].as_str() {
            Some(s) if !s.is_empty() => max_chars(s, max, field, &mut problems),
            _ => problems.push(format!("{field} is required and not empty")),
        }
    }
    let areas = body["areas"].as_array().cloned().unwrap_or_default();
    if areas.is_empty() || areas.len() > 20 {
        problems.push(format!("areas must hold 1–20 areas, not {}", areas.len()));
    }
    for (i, area) in areas.iter().enumerate() {
        let path = format!("areas[{i}].bounds");
        let b = &area["bounds"];
        let x = int(&b["x"], &format!("{path}.x"), &mut problems);
        let y = int(&b["y"], &format!("{path}.y"), &mut problems);
        let w = int(&b["width"], &format!("{path}.width"), &mut problems);
        let h = int(&b["height"], &format!("{path}.height"), &mut problems);
        if let (Some(x), Some(y), Some(w), Some(h)) = (x, y, w, h) {
            if x < 0 || y < 0 || w < 1 || h < 1 {
                problems.push(format!("{path}: x, y ≥ 0 and width, height ≥ 1"));
            }
            if let (Some(mw), Some(mh)) = (width, height)
                && (x + w > mw || y + h > mh)
            {
                problems.push(format!("{path} reaches outside the {mw}×{mh} menu"));
            }
        }
        let a = &area["action"];
        let path = format!("areas[{i}].action");
        if let Some(label) = a.get("label").and_then(Value::as_str) {
            max_chars(label, 20, &format!("{path}.label"), &mut problems);
        }
        match a["type"].as_str() {
            Some("postback") => {
                match a["data"].as_str() {
                    Some(d) => max_chars(d, 300, &format!("{path}.data"), &mut problems),
                    None => problems.push(format!("{path}.data is required")),
                }
                if let Some(t) = a.get("displayText") {
                    match t.as_str() {
                        Some(t) => max_chars(t, 300, &format!("{path}.displayText"), &mut problems),
                        None => problems.push(format!("{path}.displayText must be a string")),
                    }
                }
            }
            Some(other) => problems.push(format!(
                "{path}.type `{other}` is not an action sukusuku's rich menu should have"
            )),
            None => problems.push(format!("{path}.type is required")),
        }
    }
    problems
}

/// The rich menu image limits: PNG or JPEG as its Content-Type says, at most 1 MB, and
/// exactly the menu's size.
pub fn check_rich_menu_image(
    content_type: Option<&str>,
    bytes: &[u8],
    menu_width: i64,
    menu_height: i64,
) -> Vec<String> {
    let mut problems = Vec::new();
    if bytes.len() > 1_000_000 {
        problems.push(format!("image is {} bytes; at most 1 MB", bytes.len()));
    }
    match crate::images::inspect(bytes) {
        Ok((kind, w, h)) => {
            if content_type != Some(kind) {
                problems.push(format!(
                    "Content-Type {content_type:?} does not say {kind}, which the image is"
                ));
            }
            if (i64::from(w), i64::from(h)) != (menu_width, menu_height) {
                problems.push(format!(
                    "image is {w}×{h}; the menu is {menu_width}×{menu_height}"
                ));
            }
        }
        Err(e) => problems.push(format!("image: {e}")),
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_checker_catches_what_line_rejects() {
        let ok = json!({"to": "U1", "messages": [{"type": "text", "text": "hi"}]});
        let key = "123e4567-e89b-12d3-a456-426614174000";
        assert!(
            check_request(
                "/v2/bot/message/push",
                Some("Bearer t"),
                Some("application/json"),
                Some(key),
                &ok,
                "t"
            )
            .is_empty()
        );
        let cases = vec![
            (json!({"to": "U1", "messages": []}), "messages must be"),
            (
                json!({"to": "U1", "messages": [{"type": "text", "text": "x".repeat(5001)}]}),
                "UTF-16",
            ),
            (
                json!({"to": "U1", "messages": [{"type": "text"}]}),
                "text is required",
            ),
            (
                json!({"to": "U1", "messages": [{"type": "text", "text": "x", "quickReply": {"items": (0..14).map(|_| json!({"type": "action", "action": {"type": "postback", "label": "a", "data": "d"}})).collect::<Vec<_>>()}}]}),
                "1–13 items",
            ),
            (
                json!({"to": "U1", "messages": [{"type": "text", "text": "x", "quickReply": {"items": [{"type": "action", "action": {"type": "postback", "label": "123456789012345678901", "data": "d"}}]}}]}),
                "max 20",
            ),
            (
                json!({"to": "U1", "messages": [{"type": "text", "text": "x", "quickReply": {"items": [{"type": "action", "action": {"type": "datetimepicker", "label": "d", "data": "d", "mode": "date", "initial": "2027/01/01", "min": "2026-01-01", "max": "2028-01-01"}}]}}]}),
                "not YYYY-MM-DD",
            ),
        ];
        for (body, expected) in cases {
            let p = check_request(
                "/v2/bot/message/push",
                Some("Bearer t"),
                Some("application/json"),
                Some(key),
                &body,
                "t",
            );
            assert!(
                p.iter().any(|x| x.contains(expected)),
                "expected {expected:?} in {p:?}"
            );
        }
        assert!(
            !check_request(
                "/v2/bot/message/push",
                Some("Bearer x"),
                Some("application/json"),
                Some(key),
                &ok,
                "t"
            )
            .is_empty()
        );
        assert!(
            !check_request(
                "/v2/bot/message/push",
                Some("Bearer t"),
                Some("application/json"),
                Some("nope"),
                &ok,
                "t"
            )
            .is_empty()
        );
        let row = |label: &str| json!({"type": "box", "layout": "horizontal", "contents": [{"type": "text", "text": label}], "action": {"type": "postback", "label": label, "data": "v1:x"}});
        let bubble = json!({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [row("a")]}});
        let flex = |contents: Value| json!({"to": "U1", "messages": [{"type": "flex", "altText": "x", "contents": contents}]});
        let push = |body: &Value| {
            check_request(
                "/v2/bot/message/push",
                Some("Bearer t"),
                Some("application/json"),
                Some(key),
                body,
                "t",
            )
        };
        assert!(
            push(&flex(bubble.clone())).is_empty(),
            "{:?}",
            push(&flex(bubble.clone()))
        );
        let flex_cases = vec![
            (
                flex(json!({"type": "carousel", "contents": vec![bubble.clone(); 13]})),
                "1–12 bubbles",
            ),
            (flex(json!({"type": "bubble"})), "no header"),
            (
                flex(
                    json!({"type": "bubble", "body": {"type": "box", "layout": "grid", "contents": []}}),
                ),
                "not a box layout",
            ),
            (
                flex(
                    json!({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [row(&"長".repeat(21))]}}),
                ),
                "max 20",
            ),
            (
                flex(
                    json!({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": ""}]}}),
                ),
                "text is empty",
            ),
            (
                flex(
                    json!({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": vec![row(&"x".repeat(20)); 400]}}),
                ),
                "over 30 KB",
            ),
            (
                json!({"to": "U1", "messages": [{"type": "flex", "altText": "x".repeat(1501), "contents": bubble.clone()}]}),
                "altText has 1501",
            ),
        ];
        for (body, expected) in flex_cases {
            let p = push(&body);
            assert!(
                p.iter().any(|x| x.contains(expected)),
                "expected {expected:?} in {p:?}"
            );
        }
        let many = json!({"to": (0..501).map(|i| format!("U{i}")).collect::<Vec<_>>(), "messages": [{"type": "text", "text": "x"}]});
        let menu = json!({"size": {"width": 2500, "height": 843}, "selected": true, "name": "n", "chatBarText": "メニュー",
            "areas": [{"bounds": {"x": 0, "y": 0, "width": 2500, "height": 843}, "action": {"type": "postback", "label": "a", "data": "d"}}]});
        assert_eq!(check_rich_menu(&menu), Vec::<String>::new());
        let broken = json!({"size": {"width": 1000, "height": 1000}, "name": "", "chatBarText": "x".repeat(15),
            "areas": [{"bounds": {"x": 900, "y": 0, "width": 200, "height": 100}, "action": {"type": "postback", "label": "x".repeat(21)}}]});
        let p = check_rich_menu(&broken).join("\n");
        for expected in [
            "1.45",
            "selected",
            "name",
            "chatBarText has 15",
            "outside the 1000×1000",
            "label has 21",
            "data is required",
        ] {
            assert!(p.contains(expected), "{expected} in {p}");
        }
        assert!(
            !check_request(
                "/v2/bot/message/multicast",
                Some("Bearer t"),
                Some("application/json"),
                Some(key),
                &many,
                "t"
            )
            .is_empty()
        );
    }
}
