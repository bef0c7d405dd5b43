//! LINE Messaging API limits, in one place (from the official OpenAPI spec and reference).
//! Outgoing requests are checked against these before they leave.

/// Messages in one reply, push or multicast request.
pub const MAX_MESSAGES_PER_REQUEST: usize = 5;
/// User ids in one multicast request.
pub const MAX_MULTICAST_RECIPIENTS: usize = 500;
/// A text message's length, counted in UTF-16 code units.
pub const MAX_TEXT_UTF16_UNITS: usize = 5000;
/// Items in one quick reply.
pub const MAX_QUICK_REPLY_ITEMS: usize = 13;
/// An action's label (quick reply buttons, template buttons).
pub const MAX_ACTION_LABEL_CHARS: usize = 20;
/// Postback and datetime-picker `data`.
pub const MAX_POSTBACK_DATA_CHARS: usize = 300;
/// Postback `displayText`.
pub const MAX_DISPLAY_TEXT_CHARS: usize = 300;
/// A template message's `altText`.
pub const MAX_ALT_TEXT_CHARS: usize = 400;
/// A confirm template's `text`.
pub const MAX_CONFIRM_TEXT_CHARS: usize = 240;
/// A confirm template has exactly this many actions.
pub const CONFIRM_ACTIONS: usize = 2;
/// Largest webhook body sukusuku accepts; LINE's own are far smaller.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 1024 * 1024;
/// Per-channel request rate limits.
pub const MULTICAST_REQUESTS_PER_SECOND: u32 = 200;
pub const PUSH_REQUESTS_PER_SECOND: u32 = 2000;
/// Bubbles in one Flex carousel.
pub const MAX_CAROUSEL_BUBBLES: usize = 12;
/// A Flex bubble's JSON size. LINE allows 30 KB today; 10 KB was its limit before and keeps
/// every bubble sukusuku sends well inside any LINE version's.
pub const MAX_FLEX_BUBBLE_BYTES: usize = 10 * 1024;
/// A Flex carousel's JSON size.
pub const MAX_FLEX_CAROUSEL_BYTES: usize = 50 * 1024;
/// A Flex message's `altText` (LINE allows 1,500; sukusuku keeps to the template limit).
pub const MAX_FLEX_ALT_TEXT_CHARS: usize = 400;

// Rich menus (RichMenuRequest, RichMenuSize, RichMenuArea and the image upload).
/// Width of a rich menu (and its image) in pixels.
pub const RICH_MENU_MIN_WIDTH: u32 = 800;
pub const RICH_MENU_MAX_WIDTH: u32 = 2500;
/// Height of a rich menu (and its image) in pixels, at least.
pub const RICH_MENU_MIN_HEIGHT: u32 = 250;
/// Width / height must be at least 1.45: numerator and denominator, compared in integers.
pub const RICH_MENU_MIN_ASPECT: (u32, u32) = (145, 100);
/// Tappable areas in one rich menu.
pub const RICH_MENU_MAX_AREAS: usize = 20;
/// A rich menu's `name` (not shown to residents).
pub const RICH_MENU_MAX_NAME_CHARS: usize = 300;
/// The text on the chat bar that opens and closes the menu.
pub const RICH_MENU_MAX_CHAT_BAR_CHARS: usize = 14;
/// The image: LINE says "1 MB"; read as the stricter 1,000,000 bytes.
pub const RICH_MENU_MAX_IMAGE_BYTES: usize = 1_000_000;
/// Creating and deleting rich menus: requests an hour per channel, shared by both.
pub const RICH_MENU_WRITES_PER_HOUR: u32 = 100;
