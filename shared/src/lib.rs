//! sukusuku's shared library: the domain (dates, catalog, residents), the LINE protocol, the
//! conversation, the store and queue boundaries, and the handlers that the Lambda functions
//! and the `sukusuku` CLI both run.

#[cfg(feature = "aws")]
pub mod aws;
pub mod catalog;
pub mod clock;
// `Response` (a turn's replies and change) is returned by value on every path; whether to box
// it belongs to the conversation's rewrite, so clippy's size lint waits for it.
#[allow(clippy::result_large_err)]
pub mod conversation;
pub mod dates;
pub mod delivery;
pub mod domain;
pub mod handlers;
pub mod line;
pub mod pacer;
pub mod queue;
pub mod segment;
pub mod store;
pub mod targeting;
