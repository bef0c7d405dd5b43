//! `sukusuku richmenu check|install [DIR]`: the menu of buttons residents see under the chat.
//!
//! DIR (default `infra/richmenu`) holds `richmenu.json`, LINE's RichMenuRequest as it is sent,
//! and its image `richmenu.png` (or `.jpg`), drawn from it by `scripts/richmenu-image.sh`.
//! Everything is checked before the first request. `install` then creates the menu, uploads
//! the image, makes it the default, and only then deletes the menus earlier installs made.
//! A step that fails deletes the menu just made, so the old default stays as it was.
//!
//! Menus made by `install` are named `<name> #<stamp>`: the definition's name (which starts
//! with `sukusuku`) and 12 hex digits of the SHA-256 of the request and the image. The stamp
//! tells install which menus are its own (a menu made by hand is never deleted) and whether
//! the default already is this exact menu (then nothing is created). LINE limits creating
//! and deleting menus to 100 requests an hour, so nothing here is ever retried in a loop.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use sha2::{Digest, Sha256};
use shared::conversation::Command;
use shared::line::richmenu::{RichMenuAction, RichMenuImage, RichMenuRequest};
use shared::line::{
    DEFAULT_API_BASE, DEFAULT_DATA_BASE, LineError, RichMenuClient, RichMenuId, RichMenuSummary,
    limits,
};

pub const DEFAULT_DIR: &str = "infra/richmenu";
const DEFINITION_FILE: &str = "richmenu.json";
const IMAGE_FILES: [&str; 3] = ["richmenu.png", "richmenu.jpg", "richmenu.jpeg"];
/// Every menu install makes has a name starting with this.
const NAME_PREFIX: &str = "sukusuku";
/// The PNG text entry in which `scripts/richmenu_image.py` records the SHA-256 of what it
/// drew from: `richmenu.json` followed by `style.json` (colours, icons, readings).
const DRAWN_FROM_KEY: &str = "sukusuku-drawn-from-sha256";
/// Colours, icons and readings: only the image uses it, but a change must redraw the image.
const STYLE_FILE: &str = "style.json";
/// Hex digits of the stamp after ` #` in an installed menu's name.
const STAMP_DIGITS: usize = 12;

/// A checked definition and image, ready to send.
pub struct RichMenu {
    dir: PathBuf,
    definition_path: PathBuf,
    image_path: PathBuf,
    request: RichMenuRequest,
    image: RichMenuImage,
    stamp: String,
    /// Things worth knowing that do not stop an install.
    notes: Vec<String>,
}

impl RichMenu {
    /// The name the menu gets on LINE: the definition's own plus the stamp.
    fn installed_name(&self) -> String {
        installed_name(&self.request.name, &self.stamp)
    }

    fn request_to_send(&self) -> RichMenuRequest {
        RichMenuRequest {
            name: self.installed_name(),
            ..self.request.clone()
        }
    }

    fn describe(&self) -> String {
        let buttons: Vec<String> = self
            .request
            .areas
            .iter()
            .map(|a| format!("{} → {}", a.action.label(), a.action.data()))
            .collect();
        format!(
            "{} buttons on {}×{} ({}), chat bar 「{}」, image {} ({}, {} bytes)",
            self.request.areas.len(),
            self.request.size.width,
            self.request.size.height,
            buttons.join(", "),
            self.request.chat_bar_text,
            file_name(&self.image_path),
            self.image.format().name(),
            self.image.bytes().len()
        )
    }
}

fn installed_name(name: &str, stamp: &str) -> String {
    format!("{name} #{stamp}")
}

/// Whether `name` is one `install` gave: the prefix, then ` #` and the stamp at the end.
fn made_by_install(name: &str) -> bool {
    name.starts_with(NAME_PREFIX)
        && name.rsplit_once(" #").is_some_and(|(_, stamp)| {
            stamp.len() == STAMP_DIGITS
                && stamp
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The image in DIR: exactly one of the names LINE's formats allow.
fn find_image(dir: &Path) -> anyhow::Result<PathBuf> {
    let found: Vec<PathBuf> = IMAGE_FILES
        .iter()
        .map(|name| dir.join(name))
        .filter(|p| p.is_file())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "{}: no image: expected {} (draw it from {DEFINITION_FILE} with scripts/richmenu-image.sh)",
            dir.display(),
            IMAGE_FILES.join(" or ")
        ),
        several => bail!(
            "{}: more than one image ({}); keep only the one to install",
            dir.display(),
            several
                .iter()
                .map(|p| file_name(p))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Reads DIR and checks everything LINE would refuse, and what would make a broken menu,
/// before any request. Every problem is listed with its file and field.
pub fn load(dir: &Path) -> anyhow::Result<RichMenu> {
    let definition_path = dir.join(DEFINITION_FILE);
    let source = std::fs::read(&definition_path).with_context(|| {
        format!(
            "cannot read the rich menu definition {}",
            definition_path.display()
        )
    })?;
    let shown = definition_path.display().to_string();
    let text = std::str::from_utf8(&source)
        .map_err(|_| anyhow!("{shown} is not UTF-8 text; save it as UTF-8"))?;
    let request = RichMenuRequest::from_json(text)
        .map_err(|p| anyhow!("{shown}: field `{}`: {}", p.field, p.message))?;
    let image_path = find_image(dir)?;
    let image_shown = image_path.display().to_string();
    let bytes = std::fs::read(&image_path)
        .with_context(|| format!("cannot read the rich menu image {image_shown}"))?;
    let image = RichMenuImage::from_bytes(bytes).map_err(|e| anyhow!("{image_shown} {e}"))?;

    let mut problems: Vec<String> = request
        .problems()
        .into_iter()
        .map(|p| format!("{shown}: field `{}`: {}", p.field, p.message))
        .collect();
    let room = limits::RICH_MENU_MAX_NAME_CHARS - STAMP_DIGITS - 2;
    if !request.name.starts_with(NAME_PREFIX) {
        problems.push(format!(
            "{shown}: field `name`: `{}` must start with `{NAME_PREFIX}`: install recognises \
             the menus it made by their name and replaces only those",
            request.name
        ));
    } else if request.name.chars().count() > room {
        problems.push(format!(
            "{shown}: field `name`: at most {room} characters, so that install's stamp fits \
             LINE's {}",
            limits::RICH_MENU_MAX_NAME_CHARS
        ));
    }
    for (i, area) in request.areas.iter().enumerate() {
        let RichMenuAction::Postback { data, .. } = &area.action;
        if !data.is_empty() && Command::from_postback(data).is_none() {
            problems.push(format!(
                "{shown}: field `areas[{i}].action.data`: `{data}` is not a postback sukusuku's \
                 conversation understands (for example {}, {}, {})",
                Command::Show.data(),
                Command::Settings.data(),
                Command::Menu.data()
            ));
        }
    }
    problems.extend(
        image
            .problems_for(&request.size)
            .into_iter()
            .map(|p| format!("{image_shown}: {}", p.message)),
    );
    let mut notes = Vec::new();
    // What the image should have been drawn from: the definition, then the style if any.
    let mut drawn_from = Sha256::new();
    drawn_from.update(&source);
    if let Ok(style) = std::fs::read(dir.join(STYLE_FILE)) {
        drawn_from.update(style);
    }
    match image.png_text(DRAWN_FROM_KEY) {
        Some(recorded) if recorded != hex(&drawn_from.finalize()) => {
            problems.push(format!(
                "{image_shown}: was drawn from another version of {DEFINITION_FILE} or \
                 {STYLE_FILE}, so its labels or colours may not match: run \
                 scripts/richmenu-image.sh {} and commit the new image",
                dir.display()
            ));
        }
        Some(_) => {}
        None => notes.push(format!(
            "{image_shown} was not drawn by scripts/richmenu-image.sh, so sukusuku cannot tell \
             whether its pictures match the buttons in {DEFINITION_FILE}: check them by eye"
        )),
    }
    if !problems.is_empty() {
        bail!(
            "{} cannot be installed ({} problem{}):\n  {}",
            dir.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  ")
        );
    }

    let mut digest = Sha256::new();
    digest.update(serde_json::to_vec(&request).context("cannot serialise the definition")?);
    digest.update(image.bytes());
    let stamp = hex(&digest.finalize())[..STAMP_DIGITS].to_string();
    Ok(RichMenu {
        dir: dir.to_path_buf(),
        definition_path,
        image_path,
        request,
        image,
        stamp,
        notes,
    })
}

fn print_notes(menu: &RichMenu) {
    for note in &menu.notes {
        eprintln!("note: {note}");
    }
}

/// `richmenu check`: everything `install` checks, without a token or a request.
pub fn check(dir: &Path) -> anyhow::Result<()> {
    let menu = load(dir)?;
    print_notes(&menu);
    println!(
        "{}: OK — {}",
        menu.definition_path.display(),
        menu.describe()
    );
    Ok(())
}

use crate::serve::env_value;

/// `richmenu install`: check, then replace the default rich menu on LINE.
pub fn install(dir: &Path) -> anyhow::Result<()> {
    let menu = load(dir)?;
    print_notes(&menu);
    let token = env_value("LINE_CHANNEL_ACCESS_TOKEN").ok_or_else(|| {
        anyhow!(
            "LINE_CHANNEL_ACCESS_TOKEN is not set: issue a channel access token in the LINE \
             Developers console (your Messaging API channel → Messaging API tab) and export it. \
             `sukusuku richmenu check` checks the menu without it."
        )
    })?;
    let base = env_value("LINE_API_BASE").unwrap_or_else(|| DEFAULT_API_BASE.to_string());
    let data_base =
        env_value("LINE_API_DATA_BASE").unwrap_or_else(|| DEFAULT_DATA_BASE.to_string());
    let client = RichMenuClient::new(&base, &data_base, &token)
        .map_err(|e| anyhow!("cannot set up the LINE client: {e}"))?;
    println!(
        "{}: OK — {}",
        menu.definition_path.display(),
        menu.describe()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(replace_default(&client, &menu))
}

/// A failed LINE call, with what it most likely means for the person running install.
fn failed(step: &str, e: LineError) -> anyhow::Error {
    let hint = match &e {
        LineError::Status { status: 401, .. } => {
            "\nLINE refused the channel access token: check LINE_CHANNEL_ACCESS_TOKEN (reissue \
             it on the Messaging API tab of your channel if it expired)."
                .to_string()
        }
        LineError::Status { status: 403, .. } => {
            "\nThis channel access token may not manage rich menus.".to_string()
        }
        LineError::Status { status: 429, .. } => format!(
            "\nLINE's rate limit: creating and deleting rich menus is limited to {} requests an \
             hour per channel. Wait a while, then run install again.",
            limits::RICH_MENU_WRITES_PER_HOUR
        ),
        LineError::Status { status: 400, .. } => {
            "\nLINE refused the request as it is; its message above says why.".to_string()
        }
        LineError::Transport(_) => {
            "\nCheck the network, and LINE_API_BASE / LINE_API_DATA_BASE if they are set."
                .to_string()
        }
        _ => String::new(),
    };
    anyhow!("{step} failed: {e}{hint}")
}

async fn replace_default(client: &RichMenuClient, menu: &RichMenu) -> anyhow::Result<()> {
    let old_default = client
        .default_menu()
        .await
        .map_err(|e| failed("reading the default rich menu", e))?;
    let menus = client
        .list()
        .await
        .map_err(|e| failed("listing the rich menus", e))?;
    let name = menu.installed_name();
    let old_default_menu = old_default
        .as_ref()
        .and_then(|id| menus.iter().find(|m| &m.id == id));

    if let Some(current) = old_default_menu.filter(|m| m.name == name) {
        println!(
            "The default rich menu {} already is this definition and image: nothing to create.",
            current.id
        );
        return delete_earlier(client, &menus, &current.id).await;
    }

    let request = menu.request_to_send();
    client
        .validate(&request)
        .await
        .map_err(|e| failed("LINE's check of the menu (nothing was created)", e))?;
    let id = client
        .create(&request)
        .await
        .map_err(|e| failed("creating the menu (nothing was created)", e))?;
    println!("Created rich menu {id} ({name}).");

    let finished = async {
        client
            .upload_image(&id, &menu.image)
            .await
            .map_err(|e| failed(&format!("uploading {}", file_name(&menu.image_path)), e))?;
        println!("Uploaded {}.", file_name(&menu.image_path));
        client
            .set_default(&id)
            .await
            .map_err(|e| failed("making it the default rich menu", e))
    }
    .await;
    if let Err(e) = finished {
        let kept = match &old_default {
            Some(old) => format!("the default rich menu is still {old}"),
            None => "there is still no default rich menu".to_string(),
        };
        let after = match client.delete(&id).await {
            Ok(()) => format!("The menu just created ({id}) was deleted again; {kept}."),
            Err(d) => format!(
                "The menu just created ({id}) could not be deleted ({d}); {kept}. The next \
                 `sukusuku richmenu install` deletes it."
            ),
        };
        bail!("{e:#}\n{after}");
    }
    println!(
        "It is now the default rich menu: every friend of the account sees it, except residents \
         given a menu of their own."
    );
    if let Some(old) = old_default_menu.filter(|m| !made_by_install(&m.name)) {
        println!(
            "The previous default {} (`{}`) was not made by sukusuku, so it is kept; delete it \
             yourself if nobody uses it.",
            old.id, old.name
        );
    }
    delete_earlier(client, &menus, &id).await?;
    println!("Done: {} is installed from {}.", id, menu.dir.display());
    Ok(())
}

/// Deletes the menus earlier installs made, except `keep`. Menus with other names are never
/// touched. Each is tried once.
async fn delete_earlier(
    client: &RichMenuClient,
    menus: &[RichMenuSummary],
    keep: &RichMenuId,
) -> anyhow::Result<()> {
    let mut left = Vec::new();
    for old in menus
        .iter()
        .filter(|m| &m.id != keep && made_by_install(&m.name))
    {
        match client.delete(&old.id).await {
            Ok(()) => println!("Deleted the earlier menu {} ({}).", old.id, old.name),
            Err(e) => left.push(format!("{} ({e})", old.id)),
        }
    }
    if left.is_empty() {
        return Ok(());
    }
    bail!(
        "{keep} is the default rich menu, but {} earlier menu{} could not be deleted: {}. \
         Run install again later: it deletes them without creating anything new.",
        left.len(),
        if left.len() == 1 { "" } else { "s" },
        left.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stamped_sukusuku_names_are_installs() {
        assert!(made_by_install(&installed_name("sukusuku", "0123456789ab")));
        assert!(made_by_install("sukusuku 2027 #abcdefabcdef"));
        for other in [
            "sukusuku",
            "sukusuku test",
            "sukusuku #0123456789AB",
            "sukusuku #0123456789a",
            "キャンペーン #0123456789ab",
            "my sukusuku #0123456789ab",
        ] {
            assert!(!made_by_install(other), "{other}");
        }
    }

    #[test]
    fn the_committed_menu_loads_and_uses_known_postbacks() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/richmenu");
        let menu = match load(&dir) {
            Ok(menu) => menu,
            Err(e) => panic!("{e:#}"),
        };
        assert!(menu.notes.is_empty(), "{:?}", menu.notes);
        assert!(made_by_install(&menu.installed_name()));
        assert!(
            menu.request_to_send()
                .name
                .ends_with(&format!(" #{}", menu.stamp))
        );
    }
}
