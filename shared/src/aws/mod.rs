//! Everything that runs sukusuku on AWS: the DynamoDB store, the SQS queue, the settings the
//! functions read from their environment, the LINE credentials from SSM SecureString
//! parameters, the catalog published to the table, and the Lambda event adapters.
//! The SDK honours `AWS_ENDPOINT_URL`, so the same code runs against moto in tests.

pub mod dynamo;
pub mod events;
pub mod iam;
pub mod lambda;
mod retry;
pub mod sqs;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, SdkConfig};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::catalog::{Catalog, CatalogSource};
use crate::line::signature::ChannelSecret;
use crate::line::{AccessTokenSource, LineError, TokenFuture};
pub use dynamo::{CatalogItem, DynamoStore};
pub use events::EventBridgeEvents;
pub use sqs::SqsQueue;

/// Why a function could not start or load what it needs; the message names the setting.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("{name}: {message}")]
    Invalid { name: String, message: String },
    #[error("cannot read SSM parameters: {0}")]
    Parameters(String),
    #[error(
        "no catalog has been published to table {0}; run `sukusuku catalog publish FILE --table {0}`"
    )]
    NoCatalog(String),
    #[error("the published catalog is invalid (publish a fixed one):\n{0}")]
    BadCatalog(String),
    #[error("cannot read the catalog: {0}")]
    Store(String),
    #[error(
        "the catalog and its files are {text_bytes} bytes of text, {compressed_bytes} bytes \
         compressed, but a published catalog is one DynamoDB item of at most {limit} bytes \
         (this one would be {item_bytes}); shorten or remove texts (the steps files are most \
         of it) and publish again"
    )]
    CatalogTooLarge {
        text_bytes: usize,
        compressed_bytes: usize,
        item_bytes: usize,
        limit: usize,
    },
}

/// The functions' settings, all from the environment (set by `template.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub table: String,
    pub queue_url: Option<String>,
    pub dead_letter_url: Option<String>,
    pub line_api_base: String,
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        Ok(Settings {
            table: required("TABLE_NAME")?,
            queue_url: std::env::var("QUEUE_URL").ok(),
            dead_letter_url: std::env::var("DEAD_LETTER_QUEUE_URL").ok(),
            line_api_base: std::env::var("LINE_API_BASE")
                .unwrap_or_else(|_| crate::line::DEFAULT_API_BASE.to_string()),
        })
    }

    /// The queue pair, for the functions that need it.
    pub fn queues(&self) -> Result<(&str, &str), ConfigError> {
        Ok((
            self.queue_url
                .as_deref()
                .ok_or(ConfigError::Missing("QUEUE_URL"))?,
            self.dead_letter_url
                .as_deref()
                .ok_or(ConfigError::Missing("DEAD_LETTER_QUEUE_URL"))?,
        ))
    }
}

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// A positive integer setting with a default.
pub fn number_setting(name: &'static str, default: u32) -> Result<u32, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConfigError::Invalid {
                name: name.to_string(),
                message: format!("`{v}` is not a positive integer"),
            }),
    }
}

/// JSON logs for CloudWatch, filtered by `RUST_LOG` (default `info`). Personal data never
/// reaches them: user ids are redacted by type, dates are not logged.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .try_init();
}

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The LINE channel secret and access token, read once at start from two SSM SecureString
/// parameters named by `LINE_CHANNEL_SECRET_PARAM` and `LINE_CHANNEL_ACCESS_TOKEN_PARAM`.
pub struct LineCredentials {
    pub secret: ChannelSecret,
    pub access_token: String,
    /// Where the access token was read, to read it again after a 401.
    token: SsmAccessToken,
}

impl LineCredentials {
    pub async fn from_ssm(config: &SdkConfig) -> Result<LineCredentials, ConfigError> {
        let secret_name = required("LINE_CHANNEL_SECRET_PARAM")?;
        let token_name = required("LINE_CHANNEL_ACCESS_TOKEN_PARAM")?;
        LineCredentials::from_ssm_names(config, &secret_name, &token_name).await
    }

    pub async fn from_ssm_names(
        config: &SdkConfig,
        secret_name: &str,
        token_name: &str,
    ) -> Result<LineCredentials, ConfigError> {
        let ssm = aws_sdk_ssm::Client::new(config);
        let [secret, access_token] = secure_strings(&ssm, [secret_name, token_name]).await?;
        Ok(LineCredentials {
            secret: ChannelSecret::new(secret),
            access_token,
            token: SsmAccessToken {
                ssm,
                name: token_name.to_string(),
            },
        })
    }

    /// The access token's parameter, for `HttpLineApi::builder(..).reread_token_from(..)`:
    /// the same parameter and SSM client the token was just read with.
    pub fn token_source(&self) -> SsmAccessToken {
        self.token.clone()
    }
}

/// The values of SecureString parameters, in the order of `names`; one GetParameters call.
async fn secure_strings<const N: usize>(
    ssm: &aws_sdk_ssm::Client,
    names: [&str; N],
) -> Result<[String; N], ConfigError> {
    let out = ssm
        .get_parameters()
        .set_names(Some(names.iter().map(|n| n.to_string()).collect()))
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            ConfigError::Parameters(aws_sdk_ssm::error::DisplayErrorContext(&e).to_string())
        })?;
    let mut values: [String; N] = std::array::from_fn(|_| String::new());
    for (value, name) in values.iter_mut().zip(names) {
        *value = out
            .parameters()
            .iter()
            .find(|p| p.name() == Some(name))
            .and_then(|p| p.value())
            .filter(|v| !v.trim().is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                ConfigError::Parameters(format!(
                    "parameter {name} does not exist or is empty; create it as a SecureString"
                ))
            })?;
    }
    Ok(values)
}

/// The channel access token's SSM parameter, read again when LINE refuses the token in use
/// (it was rotated or reissued): `HttpLineApi::builder(..).reread_token_from(..)`.
#[derive(Clone)]
pub struct SsmAccessToken {
    ssm: aws_sdk_ssm::Client,
    name: String,
}

impl SsmAccessToken {
    pub fn new(config: &SdkConfig, parameter_name: &str) -> SsmAccessToken {
        SsmAccessToken {
            ssm: aws_sdk_ssm::Client::new(config),
            name: parameter_name.to_string(),
        }
    }
}

impl AccessTokenSource for SsmAccessToken {
    fn read(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let [token] = secure_strings(&self.ssm, [self.name.as_str()])
                .await
                .map_err(|e| LineError::TokenUnavailable(e.to_string()))?;
            Ok(token)
        })
    }
}

/// The hex SHA-256 of a catalog and its files, to tell published versions apart. Each part
/// is framed by its length, so moving text between the catalog and a file changes it.
pub fn catalog_digest(source: &CatalogSource) -> String {
    let mut hash = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    part(source.main.as_bytes());
    for (name, text) in &source.files {
        part(name.as_bytes());
        part(text.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What [`publish_catalog`] made live.
#[derive(Debug, Clone)]
pub struct Publication {
    pub catalog: Catalog,
    pub sha256: String,
    /// The catalog and its files, in bytes of UTF-8, and as stored (compressed).
    pub text_bytes: usize,
    pub stored_bytes: usize,
}

/// Validates the catalog with its files and makes exactly that the live catalog; nothing
/// changes if it is invalid or does not fit the table's item limit.
pub async fn publish_catalog(
    store: &DynamoStore,
    source: &CatalogSource,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Publication, ConfigError> {
    let catalog =
        Catalog::from_source(source).map_err(|e| ConfigError::BadCatalog(e.to_string()))?;
    let sha256 = catalog_digest(source);
    let item =
        CatalogItem::new(source, &sha256, now).map_err(|e| ConfigError::Store(e.to_string()))?;
    if !item.fits() {
        return Err(ConfigError::CatalogTooLarge {
            text_bytes: item.text_bytes,
            compressed_bytes: item.compressed_bytes,
            item_bytes: item.item_bytes,
            limit: dynamo::MAX_ITEM_BYTES,
        });
    }
    let (text_bytes, stored_bytes) = (item.text_bytes, item.compressed_bytes);
    store
        .put_catalog(item)
        .await
        .map_err(|e| ConfigError::Store(e.to_string()))?;
    Ok(Publication {
        catalog,
        sha256,
        text_bytes,
        stored_bytes,
    })
}

/// Reads the published catalog with its files; an invalid one (published around the CLI)
/// is refused.
pub async fn load_catalog(store: &DynamoStore) -> Result<Catalog, ConfigError> {
    let published = store
        .published_catalog()
        .await
        .map_err(|e| ConfigError::Store(e.to_string()))?
        .ok_or_else(|| ConfigError::NoCatalog(store.table().to_string()))?;
    Catalog::from_source(&published.source).map_err(|e| ConfigError::BadCatalog(e.to_string()))
}

/// The catalog for a long-lived webhook instance: re-read at most every `max_age`, so a
/// publish reaches replies within minutes without a read per request. If a refresh fails,
/// the last good catalog stays.
pub struct LiveCatalog {
    store: DynamoStore,
    max_age: Duration,
    current: RwLock<(Instant, Arc<Catalog>)>,
}

impl LiveCatalog {
    pub async fn load(store: DynamoStore, max_age: Duration) -> Result<LiveCatalog, ConfigError> {
        let catalog = load_catalog(&store).await?;
        Ok(LiveCatalog {
            store,
            max_age,
            current: RwLock::new((Instant::now(), Arc::new(catalog))),
        })
    }

    pub async fn get(&self) -> Arc<Catalog> {
        {
            let current = self.current.read().await;
            if current.0.elapsed() < self.max_age {
                return current.1.clone();
            }
        }
        let mut current = self.current.write().await;
        if current.0.elapsed() >= self.max_age {
            match load_catalog(&self.store).await {
                Ok(fresh) => current.1 = Arc::new(fresh),
                Err(e) => {
                    tracing::error!(error = %e, "catalog refresh failed; keeping the last one")
                }
            }
            current.0 = Instant::now();
        }
        current.1.clone()
    }
}
