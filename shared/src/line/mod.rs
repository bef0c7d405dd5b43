//! The LINE Messaging API as sukusuku uses it: limits, webhook signature and events,
//! outgoing messages, and the API client boundary.

pub mod client;
pub mod flex;
pub mod limits;
pub mod message;
pub mod signature;
pub mod webhook;

pub use client::{
    Accepted, AccessTokenSource, HttpLineApi, HttpLineApiBuilder, LineApi, LineCall, LineError,
    MemoryLineApi, RetryKey, TokenFuture, check_request,
};
pub use flex::{Bubble, FlexBox, FlexButton, FlexComponent, FlexContainer, FlexText};
pub use message::{Action, Message, QuickReply, QuickReplyItem, Template};
