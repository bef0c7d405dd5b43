//! Pointing the SDK at a moto server for integration tests and benchmarks. The test command
//! (`scripts/test.sh`) starts moto on 127.0.0.1 and exports `SUKUSUKU_MOTO_ENDPOINT`.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

pub const MOTO_ENDPOINT_VAR: &str = "SUKUSUKU_MOTO_ENDPOINT";

/// The moto endpoint, or `None` (with a note) when it is not running. Under `CI=true` a
/// missing moto is a failure: the integration tests must not be silently skipped.
pub fn moto_endpoint() -> Option<String> {
    match std::env::var(MOTO_ENDPOINT_VAR) {
        Ok(ep) if !ep.is_empty() => Some(ep),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "{MOTO_ENDPOINT_VAR} is not set and CI=true: run the tests with scripts/test.sh, which starts moto"
        ),
        _ => {
            eprintln!(
                "skipped: {MOTO_ENDPOINT_VAR} is not set (scripts/test.sh starts moto and sets it)"
            );
            None
        }
    }
}

/// SDK settings for moto: fixed test credentials, Tokyo region, the moto endpoint.
pub async fn moto_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("ap-northeast-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// A name no other test in this run uses, so tests share one moto server in parallel.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{nanos}", std::process::id())
}
