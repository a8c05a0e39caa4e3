//! Access tokens: a [`TokenProvider`] trait, the default cache that fetches with
//! `corpid` + `corpsecret`, and a static provider.
//!
//! On 40001/40014/42001 the client calls [`TokenProvider::invalidate`] with the token that
//! failed; a provider drops it only if it is still the current one (compare-and-invalidate),
//! so a burst of failures refreshes once. The client then retries exactly once.

mod cache;
mod gettoken;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use wecom_kf_types::Secret;

pub use cache::{CachedTokenProvider, TokenCache, TokenSource};
pub use gettoken::GetTokenSource;
#[cfg(feature = "redis")]
pub use redis::{RedisTokenCache, RedisTokenSource};

use crate::Error;

/// A boxed, `Send` future, as trait objects return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An access token and when it stops being valid. `Debug` never shows the value.
#[derive(Clone)]
pub struct AccessToken {
    value: Secret,
    expires_at: Option<Instant>,
}

impl AccessToken {
    /// A token valid until `expires_at` (`None`: unknown, e.g. a static token).
    pub fn new(value: Secret, expires_at: Option<Instant>) -> Self {
        AccessToken { value, expires_at }
    }

    /// The value, for the query string. Never log it.
    pub fn expose(&self) -> &str {
        self.value.expose()
    }

    /// The value as a [`Secret`].
    pub fn secret(&self) -> &Secret {
        &self.value
    }

    /// When it expires, if known.
    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }

    /// Whether both are the same token.
    pub fn same_as(&self, other: &AccessToken) -> bool {
        self.value == other.value
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let left = self
            .expires_at
            .map(|at| at.saturating_duration_since(Instant::now()));
        f.debug_struct("AccessToken")
            .field("value", &self.value)
            .field("expires_in", &left)
            .finish()
    }
}

/// Where the client gets its access_token.
///
/// Implement it to plug in a central token service. It must be cheap to call often:
/// cache inside.
pub trait TokenProvider: Send + Sync + 'static {
    /// A currently valid token.
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, Error>>;

    /// A token that is valid now, if the provider has one at hand without waiting: the
    /// fast path of every call. The default always says no.
    fn cached(&self) -> Option<AccessToken> {
        None
    }

    /// `failed` was refused as invalid or expired: drop it if it is still current.
    fn invalidate<'a>(&'a self, failed: &'a AccessToken) -> BoxFuture<'a, ()>;
}

/// A fixed token, e.g. one handed out by another service. Never refreshed.
#[derive(Clone, Debug)]
pub struct StaticToken(AccessToken);

impl StaticToken {
    /// Always answer `token`.
    pub fn new(token: impl Into<Secret>) -> Self {
        StaticToken(AccessToken::new(token.into(), None))
    }
}

impl TokenProvider for StaticToken {
    fn cached(&self) -> Option<AccessToken> {
        Some(self.0.clone())
    }

    fn token(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(std::future::ready(Ok(self.0.clone())))
    }

    fn invalidate<'a>(&'a self, _failed: &'a AccessToken) -> BoxFuture<'a, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// Time as the token cache sees it. Inject a [`ManualClock`] to test expiry.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Instant;
}

/// Tokio's clock (which follows `tokio::time::pause` in tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock standing at the current instant.
    pub fn new() -> Arc<Self> {
        Arc::new(ManualClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    /// Move it forward.
    pub fn advance(&self, by: Duration) {
        *self
            .offset
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start
            + *self
                .offset
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
