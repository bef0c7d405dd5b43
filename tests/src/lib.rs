//! Helpers for sukusuku's end-to-end tests: a fake LINE Messaging API that checks every
//! request against the official spec's required fields and limits, and a runner for the
//! real `sukusuku` binary on loopback, and a fault-injecting TCP proxy for the AWS SDK's
//! connections to moto.

pub mod apigw;
pub mod days;
pub mod fake_line;
pub mod fault_proxy;
pub mod images;
pub mod server;
pub mod spec;
pub mod stack;
