//! The handlers the Lambda functions and `sukusuku serve` both run: plain async functions
//! over a request and the boundaries they need.

pub mod offers;
pub mod scan;
pub mod send;
pub mod webhook;
