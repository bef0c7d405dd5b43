//! The channel access token the HTTP client sends, and where to read it again when LINE
//! answers 401 because it was rotated (the deployed functions keep it in SSM, see
//! `aws::SsmAccessToken`). One refused token leads to at most one re-read, shared by every
//! call that saw it refused, and re-reads are spaced out so a token that stays invalid
//! does not turn each send into a parameter-store read.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::LineError;

/// A boxed future, so sources can be stored behind `dyn` in a `Clone` client.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<String, LineError>> + Send + 'a>>;

/// Where the channel access token is kept.
pub trait AccessTokenSource: Send + Sync {
    /// The token as stored now. Failures are [`LineError::TokenUnavailable`].
    fn read(&self) -> TokenFuture<'_>;
}

/// After a re-read, the next one waits at least this long (unless the token in use changed).
const MIN_REREAD_INTERVAL: Duration = Duration::from_secs(60);

/// The token in use, shared by clones of one client.
pub(super) struct AccessToken {
    current: RwLock<Arc<str>>,
    source: Option<Box<dyn AccessTokenSource>>,
    /// When the source was last read; held while reading, so concurrent 401s read once.
    last_read: tokio::sync::Mutex<Option<Instant>>,
}

impl AccessToken {
    pub(super) fn new(token: &str, source: Option<Box<dyn AccessTokenSource>>) -> AccessToken {
        AccessToken {
            current: RwLock::new(Arc::from(token)),
            source,
            last_read: tokio::sync::Mutex::new(None),
        }
    }

    pub(super) fn current(&self) -> Arc<str> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// LINE refused `refused`: the token to try instead, or `None` when there is nothing new
    /// to try (no source, the source still holds the refused token, or it was read recently).
    pub(super) async fn renew(&self, refused: &Arc<str>) -> Result<Option<Arc<str>>, LineError> {
        let Some(source) = &self.source else {
            return Ok(None);
        };
        let mut last_read = self.last_read.lock().await;
        let now = self.current();
        if now != *refused {
            // Another call re-read it while this one waited.
            return Ok(Some(now));
        }
        if last_read.is_some_and(|t| t.elapsed() < MIN_REREAD_INTERVAL) {
            return Ok(None);
        }
        *last_read = Some(Instant::now());
        let fresh: Arc<str> = Arc::from(source.read().await?.trim());
        if fresh == *refused || fresh.is_empty() {
            tracing::error!("LINE refuses the channel access token and the stored one is the same");
            return Ok(None);
        }
        tracing::warn!("LINE refused the channel access token; using the one read again");
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        Ok(Some(fresh))
    }
}
