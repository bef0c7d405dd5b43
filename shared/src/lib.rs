//! sukusuku's shared library: the domain (dates, catalog, residents), the LINE protocol, the
//! conversation, the store and queue boundaries, and the handlers that the Lambda functions
//! and the `sukusuku` CLI both run.

#[cfg(feature = "aws")]
pub mod aws;
pub mod catalog;
pub mod clock;
pub mod conversation;
pub mod cost;
pub mod dates;
pub mod delivery;
pub mod domain;
pub mod handlers;
pub mod line;
pub mod pacer;
pub mod queue;
pub mod quiet_hours;
pub mod reservations;
pub mod segment;
pub mod staff_file;
pub mod store;
pub mod synthetic;
pub mod targeting;
