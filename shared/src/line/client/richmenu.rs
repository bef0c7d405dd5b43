//! The rich-menu calls `sukusuku richmenu install` makes: `$LINE_API_BASE/v2/bot/richmenu...`
//! and `/v2/bot/user/all/richmenu...`, and the image upload to `$LINE_API_DATA_BASE` (LINE
//! takes binary content on its data host only). Same token, timeouts and [`LineError`] as the
//! messaging client; no retries: creating and deleting menus is limited to 100 requests an
//! hour, so a failure is reported, never repeated.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::LineError;
use super::http::{refusal, without_url};
use crate::line::richmenu::{RichMenuImage, RichMenuRequest};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// An image is up to 1 MB; a slow office line gets longer than a JSON call.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// A rich menu's id as LINE gave it (`richmenu-` and 32 hex digits). Only letters, digits,
/// `-` and `_` are accepted, since it becomes part of a URL path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RichMenuId(String);

impl RichMenuId {
    pub fn parse(id: &str) -> Option<RichMenuId> {
        let ok = !id.is_empty()
            && id.len() <= 100
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| RichMenuId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RichMenuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A menu of the channel, as the list call returns it (only what install needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RichMenuSummary {
    pub id: RichMenuId,
    pub name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdBody {
    rich_menu_id: String,
}

#[derive(Deserialize)]
struct ListBody {
    richmenus: Vec<ListedMenu>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedMenu {
    rich_menu_id: String,
    #[serde(default)]
    name: String,
}

fn menu_id(id: &str) -> Result<RichMenuId, LineError> {
    RichMenuId::parse(id)
        .ok_or_else(|| LineError::Unexpected(format!("`{id}` is not a rich menu id")))
}

/// The client. It holds the token, so it has no `Debug`.
pub struct RichMenuClient {
    client: reqwest::Client,
    base: String,
    data_base: String,
    token: String,
}

impl RichMenuClient {
    /// `base` is `$LINE_API_BASE` (e.g. `https://api.line.me`), `data_base` is
    /// `$LINE_API_DATA_BASE` (e.g. `https://api-data.line.me`).
    pub fn new(
        base: &str,
        data_base: &str,
        access_token: &str,
    ) -> Result<RichMenuClient, LineError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| LineError::Transport(e.to_string()))?;
        Ok(RichMenuClient {
            client,
            base: base.trim_end_matches('/').to_string(),
            data_base: data_base.trim_end_matches('/').to_string(),
            token: access_token.to_string(),
        })
    }

    /// Sends with the token and a total timeout; anything but 2xx is an error.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<reqwest::Response, LineError> {
        let response = request
            .bearer_auth(&self.token)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| LineError::Transport(without_url(e)))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(refusal(response).await)
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        response: reqwest::Response,
        what: &str,
    ) -> Result<T, LineError> {
        let bytes = response
            .bytes()
            .await
            .map_err(|e| LineError::Transport(without_url(e)))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| LineError::Unexpected(format!("{what} is not what the spec says: {e}")))
    }

    fn checked(menu: &RichMenuRequest) -> Result<(), LineError> {
        let problems = menu.problems();
        if problems.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        Err(LineError::Invalid(list.join("; ")))
    }

    /// `POST /v2/bot/richmenu/validate`: LINE's own check of the menu, which creates nothing.
    pub async fn validate(&self, menu: &RichMenuRequest) -> Result<(), LineError> {
        Self::checked(menu)?;
        let url = format!("{}/v2/bot/richmenu/validate", self.base);
        self.send(self.client.post(url).json(menu), CALL_TIMEOUT)
            .await
            .map(|_| ())
    }

    /// `POST /v2/bot/richmenu`: a new menu, without its image yet.
    pub async fn create(&self, menu: &RichMenuRequest) -> Result<RichMenuId, LineError> {
        Self::checked(menu)?;
        let url = format!("{}/v2/bot/richmenu", self.base);
        let response = self
            .send(self.client.post(url).json(menu), CALL_TIMEOUT)
            .await?;
        let body: IdBody = Self::json(response, "the created menu's id").await?;
        menu_id(&body.rich_menu_id)
    }

    /// `POST $LINE_API_DATA_BASE/v2/bot/richmenu/{id}/content`: the image, once per menu.
    pub async fn upload_image(
        &self,
        id: &RichMenuId,
        image: &RichMenuImage,
    ) -> Result<(), LineError> {
        let url = format!("{}/v2/bot/richmenu/{id}/content", self.data_base);
        let request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, image.format().content_type())
            .body(image.bytes().to_vec());
        self.send(request, UPLOAD_TIMEOUT).await.map(|_| ())
    }

    /// `POST /v2/bot/user/all/richmenu/{id}`: every friend without a menu of their own sees it.
    pub async fn set_default(&self, id: &RichMenuId) -> Result<(), LineError> {
        let url = format!("{}/v2/bot/user/all/richmenu/{id}", self.base);
        self.send(self.client.post(url), CALL_TIMEOUT)
            .await
            .map(|_| ())
    }

    /// `GET /v2/bot/user/all/richmenu`: the default menu's id; `None` when there is none
    /// (LINE answers 404).
    pub async fn default_menu(&self) -> Result<Option<RichMenuId>, LineError> {
        let url = format!("{}/v2/bot/user/all/richmenu", self.base);
        match self.send(self.client.get(url), CALL_TIMEOUT).await {
            Ok(response) => {
                let body: IdBody = Self::json(response, "the default menu's id").await?;
                menu_id(&body.rich_menu_id).map(Some)
            }
            Err(LineError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /v2/bot/richmenu/list`: every menu the channel has made through the API.
    pub async fn list(&self) -> Result<Vec<RichMenuSummary>, LineError> {
        let url = format!("{}/v2/bot/richmenu/list", self.base);
        let response = self.send(self.client.get(url), CALL_TIMEOUT).await?;
        let body: ListBody = Self::json(response, "the rich menu list").await?;
        body.richmenus
            .into_iter()
            .map(|m| {
                Ok(RichMenuSummary {
                    id: menu_id(&m.rich_menu_id)?,
                    name: m.name,
                })
            })
            .collect()
    }

    /// `DELETE /v2/bot/richmenu/{id}`.
    pub async fn delete(&self, id: &RichMenuId) -> Result<(), LineError> {
        let url = format!("{}/v2/bot/richmenu/{id}", self.base);
        self.send(self.client.delete(url), CALL_TIMEOUT)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_cannot_change_the_url_path() {
        assert!(RichMenuId::parse("richmenu-88c05ef6921ae53f8b58a25f3a65faf7").is_some());
        for bad in ["", "../info", "a/b", "a?b", "a b", "richmenu-%2e"] {
            assert!(RichMenuId::parse(bad).is_none(), "{bad}");
        }
    }
}
