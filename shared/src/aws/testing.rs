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

/// Counts every request the SDK transmits (retries included), by its `x-amz-target`
/// operation (`Query`, `TransactWriteItems`, `SendMessageBatch`, …): what AWS would bill,
/// and what IAM must allow. A transaction also counts its items by kind
/// (`TransactWriteItems.Put`, `.Update`, `.Delete`, `.ConditionCheck`), since IAM authorises
/// each kind separately. `dynamo_client` and `sqs_client` make clients that count here.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(
    std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, u64>>>,
);

impl RequestCounter {
    /// A DynamoDB client on `config` whose requests are counted here.
    pub fn dynamo_client(&self, config: &SdkConfig) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(config)
                .interceptor(self.clone())
                .build(),
        )
    }

    /// An SQS client on `config` whose requests are counted here.
    pub fn sqs_client(&self, config: &SdkConfig) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(config)
                .interceptor(self.clone())
                .build(),
        )
    }

    /// The counts so far, resetting them.
    pub fn take(&self) -> std::collections::BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// All requests so far, without resetting.
    pub fn total(&self) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum()
    }
}

impl aws_sdk_dynamodb::config::Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let op = context
            .request()
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("?")
            .to_string();
        let mut kinds = Vec::new();
        if op == "TransactWriteItems"
            && let Some(body) = context.request().body().bytes()
            && let Ok(request) = serde_json::from_slice::<serde_json::Value>(body)
        {
            for item in request["TransactItems"].as_array().into_iter().flatten() {
                if let Some(kind) = item.as_object().and_then(|o| o.keys().next()) {
                    kinds.push(format!("{op}.{kind}"));
                }
            }
            kinds.sort();
            kinds.dedup();
        }
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry(op).or_default() += 1;
        for kind in kinds {
            *counts.entry(kind).or_default() += 1;
        }
        Ok(())
    }
}

/// Every item of `table` as text, read with `Scan`: what a whole-table search for a deleted
/// resident's traces reads. Only tests scan; the functions never do (IAM denies it).
pub async fn table_dump(client: &aws_sdk_dynamodb::Client, table: &str) -> String {
    let mut out = String::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "scan of {table}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                )
            });
        for item in page.items() {
            let mut fields: Vec<String> = item.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            fields.sort();
            out.push_str(&fields.join(" "));
            out.push('\n');
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return out,
        }
    }
}

/// A moto server a benchmark started itself, stopped when this is dropped (also on a panic).
pub struct StartedMoto(Option<std::process::Child>);

impl Drop for StartedMoto {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// For benchmarks: the moto endpoint named by `SUKUSUKU_MOTO_ENDPOINT`, or a moto server
/// started from `target/test-venv` (which `scripts/test.sh` installs) on a free loopback
/// port. Panics with what to do if it cannot be started.
pub fn moto_for_bench() -> (String, StartedMoto) {
    if let Ok(ep) = std::env::var(MOTO_ENDPOINT_VAR) {
        return (ep, StartedMoto(None));
    }
    let bin = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/test-venv/bin/moto_server"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port");
    let child = std::process::Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin} ({e}); run scripts/test.sh once first"));
    let moto = StartedMoto(Some(child));
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (format!("http://127.0.0.1:{port}"), moto)
}
