//! The fake LINE's rich-menu endpoints, on the API host (`/v2/bot/richmenu...`,
//! `/v2/bot/user/all/richmenu...`) and on the data host (the image upload, which LINE takes
//! only there). Each request is checked against the spec's RichMenuRequest and image limits,
//! and the fake behaves as LINE does where sukusuku's install depends on it: an image only
//! once per menu, no default without an image, 404 when there is no default, deleting the
//! default leaves none, and at most 100 creates and deletes (an hour, here: in the fake's life).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use shared::line::client::contract::Refusal;

use super::{FakeLine, Inner, Received, Shared, lock};
use crate::spec::{check_rich_menu, check_rich_menu_image};

/// LINE's hourly limit on rich menu creates and deletes, together.
const WRITES_PER_HOUR: u32 = 100;

/// The rich-menu calls, to refuse one of them with [`FakeLine::refuse_next_rich_menu_call`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RichMenuCall {
    Validate,
    Create,
    Upload,
    SetDefault,
    GetDefault,
    CancelDefault,
    List,
    Get,
    Delete,
}

/// A menu as the fake holds it.
#[derive(Debug, Clone)]
pub struct FakeRichMenu {
    pub id: String,
    /// The RichMenuRequest it was created with.
    pub request: Value,
    pub image: Option<FakeImage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeImage {
    pub content_type: String,
    pub bytes: usize,
}

#[derive(Default)]
pub(super) struct RichMenus {
    menus: Vec<FakeRichMenu>,
    default: Option<String>,
    refusals: Vec<(RichMenuCall, Refusal)>,
    created: u64,
    writes: u32,
}

impl FakeLine {
    /// Every rich menu the channel has now, oldest first.
    pub fn rich_menus(&self) -> Vec<FakeRichMenu> {
        lock(&self.shared).rich.menus.clone()
    }

    /// The default rich menu's id.
    pub fn default_rich_menu(&self) -> Option<String> {
        lock(&self.shared).rich.default.clone()
    }

    /// A menu someone made before (by hand, or an earlier install), with its image.
    pub fn add_rich_menu(&self, name: &str, make_default: bool) -> String {
        let mut inner = lock(&self.shared);
        let id = new_id(&mut inner.rich);
        let request = json!({
            "size": {"width": 2500, "height": 843}, "selected": false, "name": name,
            "chatBarText": "Menu",
            "areas": [{"bounds": {"x": 0, "y": 0, "width": 2500, "height": 843},
                       "action": {"type": "postback", "data": "hand-made"}}]
        });
        inner.rich.menus.push(FakeRichMenu {
            id: id.clone(),
            request,
            image: Some(FakeImage {
                content_type: "image/png".to_string(),
                bytes: 1000,
            }),
        });
        if make_default {
            inner.rich.default = Some(id.clone());
        }
        id
    }

    /// The next request of this kind is answered with the refusal's status and message.
    pub fn refuse_next_rich_menu_call(&self, call: RichMenuCall, refusal: Refusal) {
        lock(&self.shared).rich.refusals.push((call, refusal));
    }

    /// Rich menu creates and deletes LINE accepted (limited to 100 an hour).
    pub fn rich_menu_writes(&self) -> u32 {
        lock(&self.shared).rich.writes
    }
}

fn new_id(rich: &mut RichMenus) -> String {
    rich.created += 1;
    format!("richmenu-{:032x}", 0x5c5c_0000 + rich.created)
}

/// Requests to the API host.
pub(super) async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    handle(&shared, false, &method, uri.path(), &headers, &body)
}

/// Requests to the data host.
pub(super) async fn data(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    handle(&shared, true, &method, uri.path(), &headers, &body)
}

type Answer = (StatusCode, HeaderMap, Json<Value>);

fn answer(status: u16, body: Value) -> Answer {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        HeaderMap::new(),
        Json(body),
    )
}

fn not_found() -> Answer {
    answer(404, json!({"message": "Not found"}))
}

fn handle(
    shared: &Shared,
    data_host: bool,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Answer {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let content_type = header("content-type").map(str::to_string);
    let bearer = header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let segments: Vec<&str> = path
        .strip_prefix("/v2/bot/")
        .unwrap_or(path)
        .split('/')
        .collect();
    let is_get = method == Method::GET;
    let is_post = method == Method::POST;
    let is_delete = method == Method::DELETE;
    let (call, id) = match (data_host, segments.as_slice()) {
        (false, ["richmenu"]) if is_post => (Some(RichMenuCall::Create), None),
        (false, ["richmenu", "validate"]) if is_post => (Some(RichMenuCall::Validate), None),
        (false, ["richmenu", "list"]) if is_get => (Some(RichMenuCall::List), None),
        (false, ["richmenu", id]) if is_get => (Some(RichMenuCall::Get), Some(*id)),
        (false, ["richmenu", id]) if is_delete => (Some(RichMenuCall::Delete), Some(*id)),
        (false, ["user", "all", "richmenu", id]) if is_post => {
            (Some(RichMenuCall::SetDefault), Some(*id))
        }
        (false, ["user", "all", "richmenu"]) if is_get => (Some(RichMenuCall::GetDefault), None),
        (false, ["user", "all", "richmenu"]) if is_delete => {
            (Some(RichMenuCall::CancelDefault), None)
        }
        (true, ["richmenu", id, "content"]) if is_post => (Some(RichMenuCall::Upload), Some(*id)),
        _ => (None, None),
    };
    let recorded_body = if call == Some(RichMenuCall::Upload) || (data_host && !body.is_empty()) {
        json!({"contentType": content_type, "bytes": body.len()})
    } else if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).unwrap_or_else(|_| Value::String("(not JSON)".into()))
    };

    let mut inner = lock(shared);
    let record = |inner: &mut Inner, answer: Answer| {
        inner.received.push(Received {
            method: method.to_string(),
            path: path.to_string(),
            data_host,
            retry_key: None,
            token: bearer.clone(),
            body: recorded_body.clone(),
            status: answer.0.as_u16(),
            delivered: false,
            at: shared.started.elapsed(),
        });
        answer
    };
    let host = if data_host { "data host" } else { "API host" };
    let Some(call) = call else {
        let hint = if segments.last() == Some(&"content") {
            ": rich menu images go to the data host (api-data.line.me), everything else to the API host"
        } else {
            ""
        };
        inner.violations.push(format!(
            "{method} {path} on the {host}: not a LINE endpoint{hint}"
        ));
        return record(&mut inner, not_found());
    };
    let Some(token) = &bearer else {
        inner
            .violations
            .push(format!("{method} {path}: no bearer token"));
        return record(
            &mut inner,
            answer(401, json!({"message": "Authentication failed"})),
        );
    };
    if !inner.tokens.contains(token) {
        return record(
            &mut inner,
            answer(
                401,
                json!({"message": "Authentication failed. Confirm that the access token in the authorization header is valid."}),
            ),
        );
    }

    // The request itself, as LINE checks it.
    let mut problems = Vec::new();
    if matches!(call, RichMenuCall::Create | RichMenuCall::Validate) {
        if !content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"))
        {
            problems.push("Content-Type must be application/json".to_string());
        }
        problems.extend(check_rich_menu(&recorded_body));
    }
    let menu_index = id.and_then(|id| inner.rich.menus.iter().position(|m| m.id == id));
    if id.is_some() && menu_index.is_none() {
        return record(&mut inner, not_found());
    }
    let menu = menu_index.map(|i| inner.rich.menus[i].clone());
    match (call, &menu) {
        (RichMenuCall::Upload, Some(menu)) => {
            if menu.image.is_some() {
                problems.push("an image has already been uploaded to this rich menu".to_string());
            }
            let size = &menu.request["size"];
            problems.extend(check_rich_menu_image(
                content_type.as_deref(),
                body,
                size["width"].as_i64().unwrap_or(0),
                size["height"].as_i64().unwrap_or(0),
            ));
        }
        (RichMenuCall::SetDefault, Some(menu)) if menu.image.is_none() => {
            problems.push("must upload a rich menu image before making it the default".to_string());
        }
        _ => {}
    }
    if !problems.is_empty() {
        inner
            .violations
            .extend(problems.iter().map(|p| format!("{method} {path}: {p}")));
        return record(
            &mut inner,
            answer(400, json!({"message": problems.join("; ")})),
        );
    }

    // Failures the test asked for, then the hourly limit.
    if let Some(i) = inner.rich.refusals.iter().position(|(c, _)| *c == call) {
        let (_, refusal) = inner.rich.refusals.remove(i);
        let mut response = answer(refusal.status, json!({"message": refusal.message}));
        if let Some(after) = refusal.retry_after {
            response.1.insert("retry-after", after.as_secs().into());
        }
        return record(&mut inner, response);
    }
    if matches!(call, RichMenuCall::Create | RichMenuCall::Delete) {
        if inner.rich.writes >= WRITES_PER_HOUR {
            inner.violations.push(format!(
                "{method} {path}: more than {WRITES_PER_HOUR} rich menu creates and deletes"
            ));
            return record(
                &mut inner,
                answer(429, json!({"message": "Too many requests"})),
            );
        }
        inner.rich.writes += 1;
    }

    let rich = &mut inner.rich;
    let response = match call {
        RichMenuCall::Validate => answer(200, json!({})),
        RichMenuCall::Create => {
            let id = new_id(rich);
            rich.menus.push(FakeRichMenu {
                id: id.clone(),
                request: recorded_body.clone(),
                image: None,
            });
            answer(200, json!({"richMenuId": id}))
        }
        RichMenuCall::Upload => {
            if let Some(i) = menu_index {
                rich.menus[i].image = Some(FakeImage {
                    content_type: content_type.clone().unwrap_or_default(),
                    bytes: body.len(),
                });
            }
            answer(200, json!({}))
        }
        RichMenuCall::SetDefault => {
            rich.default = menu.map(|m| m.id);
            answer(200, json!({}))
        }
        RichMenuCall::GetDefault => match &rich.default {
            Some(id) => answer(200, json!({"richMenuId": id})),
            None => answer(404, json!({"message": "no default richmenu"})),
        },
        RichMenuCall::CancelDefault => {
            rich.default = None;
            answer(200, json!({}))
        }
        RichMenuCall::List => {
            let menus: Vec<Value> = rich.menus.iter().map(listed).collect();
            answer(200, json!({"richmenus": menus}))
        }
        RichMenuCall::Get => match &menu {
            Some(m) => answer(200, listed(m)),
            None => not_found(),
        },
        RichMenuCall::Delete => {
            if let Some(i) = menu_index {
                let gone = rich.menus.remove(i);
                if rich.default.as_deref() == Some(gone.id.as_str()) {
                    rich.default = None;
                }
            }
            answer(200, json!({}))
        }
    };
    record(&mut inner, response)
}

/// A menu as LINE lists it (RichMenuResponse): the request plus its id.
fn listed(menu: &FakeRichMenu) -> Value {
    let mut v = menu.request.clone();
    if let Some(o) = v.as_object_mut() {
        o.insert("richMenuId".to_string(), json!(menu.id));
    }
    v
}
