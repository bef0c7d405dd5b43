//! The LINE Messaging API as sukusuku uses it: limits, webhook signature and events,
//! outgoing messages, the rich menu, and the API clients.

pub mod action;
pub mod client;
pub mod flex;
pub mod limits;
pub mod message;
pub mod richmenu;
pub mod signature;
pub mod webhook;

pub use client::{
    Accepted, AccessTokenSource, DEFAULT_API_BASE, DEFAULT_DATA_BASE, HttpLineApi,
    HttpLineApiBuilder, LineApi, LineCall, LineError, MemoryLineApi, Quota, RetryKey,
    RichMenuClient, RichMenuId, RichMenuSummary, TokenFuture, check_request,
};
pub use flex::{Bubble, FlexBox, FlexButton, FlexComponent, FlexContainer, FlexText};
pub use message::{Action, Message, QuickReply, QuickReplyItem, Template};
