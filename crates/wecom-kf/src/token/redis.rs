//! One access_token for a whole fleet, shared through Redis (feature `redis`).
//!
//! [`RedisTokenSource`] sits between the in-process single-flight cache and `gettoken`:
//! each process asks Redis once per token, and across the fleet one process fetches.
//!
//! * Key `{prefix}:token:{corpid}:{sha256(secret)[..16]}`; the value is the token with its
//!   absolute expiry, and the Redis TTL matches it. The raw secret is never stored.
//! * Refresh takes a lock (`SET NX PX` with a random owner). The owner writes the new
//!   token only while it still holds the lock (fencing, in Lua) and releases it with
//!   compare-and-delete. Others wait with bounded backoff for the token instead of
//!   fetching their own; if the holder dies, the lock expires and one of them takes over.
//! * Invalidation after 40001/40014/42001 is compare-and-delete: the shared token is
//!   dropped only if it is still the one that failed.
//! * If Redis is unreachable the cache fails open by default: it fetches directly and
//!   logs a warning (never with a secret). [`RedisTokenCache::fail_closed`] turns that off.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Serialize};
use wecom_kf_types::Secret;

use super::{BoxFuture, TokenSource};
use crate::Error;
use crate::redis::{Redis, RedisError};

/// A token younger than this much remaining life is refreshed rather than shared.
const MIN_REMAINING: Duration = Duration::from_secs(30);

const FENCED_WRITE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

const INVALIDATE: &str = r"
local value = redis.call('GET', KEYS[1])
if value and cjson.decode(value).access_token == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Where and how tokens are shared: the Redis connection and the cache's settings.
/// Give it to [`ClientBuilder::redis_token_cache`](crate::ClientBuilder::redis_token_cache).
#[derive(Clone)]
pub struct RedisTokenCache {
    inner: Arc<Store>,
}

struct Store {
    redis: Redis,
    prefix: String,
    lock_timeout: Duration,
}

impl fmt::Debug for RedisTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may carry a password.
        f.debug_struct("RedisTokenCache")
            .field("prefix", &self.inner.prefix)
            .field("lock_timeout", &self.inner.lock_timeout)
            .field("fail_open", &self.inner.redis.fail_open)
            .finish_non_exhaustive()
    }
}

impl RedisTokenCache {
    /// A cache at `url` (`redis://host:port/db`, `rediss://…` for TLS is not built in).
    /// Nothing connects until the first token is needed.
    pub fn new(url: &str) -> Result<Self, Error> {
        Ok(RedisTokenCache {
            inner: Arc::new(Store {
                redis: Redis::open(url)?,
                prefix: "wecom-kf".to_owned(),
                lock_timeout: Duration::from_secs(10),
            }),
        })
    }

    fn with(mut self, change: impl FnOnce(&mut Store)) -> Self {
        if let Some(store) = Arc::get_mut(&mut self.inner) {
            change(store);
        } else {
            let store = &*self.inner;
            let mut copy = Store {
                redis: store.redis.duplicate(),
                prefix: store.prefix.clone(),
                lock_timeout: store.lock_timeout,
            };
            change(&mut copy);
            self.inner = Arc::new(copy);
        }
        self
    }

    /// Prefix of every key (default `wecom-kf`).
    #[must_use]
    pub fn key_prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.with(|s| s.prefix = prefix)
    }

    /// How long a refresh may hold the lock before others take over (default 10 s).
    /// Also bounds how long waiters wait.
    #[must_use]
    pub fn lock_timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.lock_timeout = timeout)
    }

    /// Timeout of one Redis command (default 2 s).
    #[must_use]
    pub fn operation_timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.redis.operation_timeout = timeout)
    }

    /// If Redis is unreachable, fail instead of fetching the token directly.
    #[must_use]
    pub fn fail_closed(self) -> Self {
        self.with(|s| s.redis.fail_open = false)
    }

    pub(crate) fn source(
        &self,
        upstream: Arc<dyn TokenSource>,
        corp_id: &str,
        secret: &Secret,
    ) -> RedisTokenSource {
        let id = format!("{corp_id}:{}", super::gettoken::secret_hash(secret));
        RedisTokenSource {
            store: self.inner.clone(),
            token_key: format!("{}:token:{id}", self.inner.prefix),
            lock_key: format!("{}:lock:{id}", self.inner.prefix),
            upstream,
        }
    }
}

/// The shared value: the token and its absolute expiry.
#[derive(Serialize, Deserialize)]
struct Shared {
    access_token: String,
    expires_at_ms: u64,
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(u64::MAX)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The [`TokenSource`] that shares tokens through Redis.
pub struct RedisTokenSource {
    store: Arc<Store>,
    token_key: String,
    lock_key: String,
    upstream: Arc<dyn TokenSource>,
}

impl fmt::Debug for RedisTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenSource")
            .field("token_key", &self.token_key)
            .finish_non_exhaustive()
    }
}

impl RedisTokenSource {
    async fn op<T, F, Fut>(&self, f: F) -> Result<T, RedisError>
    where
        F: FnOnce(redis::aio::ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.store.redis.op(f).await
    }

    async fn read(&self) -> Result<Option<(Secret, Duration)>, RedisError> {
        let key = self.token_key.clone();
        let value: Option<String> = self
            .op(|mut c| async move { redis::cmd("GET").arg(key).query_async(&mut c).await })
            .await?;
        let Some(shared) = value.and_then(|v| serde_json::from_str::<Shared>(&v).ok()) else {
            return Ok(None);
        };
        let left = Duration::from_millis(shared.expires_at_ms.saturating_sub(now_ms()));
        Ok((left > MIN_REMAINING).then(|| (Secret::new(shared.access_token), left)))
    }

    async fn try_lock(&self, owner: &str) -> Result<bool, RedisError> {
        let (key, owner, ttl) = (
            self.lock_key.clone(),
            owner.to_owned(),
            millis(self.store.lock_timeout),
        );
        let set: Option<String> = self
            .op(|mut c| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(owner)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(set.is_some())
    }

    async fn fenced_write(
        &self,
        owner: &str,
        token: &Secret,
        ttl: Duration,
    ) -> Result<bool, RedisError> {
        let value = serde_json::to_string(&Shared {
            access_token: token.expose().to_owned(),
            expires_at_ms: now_ms() + millis(ttl),
        })?;
        let (lock_key, token_key, owner, ttl) = (
            self.lock_key.clone(),
            self.token_key.clone(),
            owner.to_owned(),
            millis(ttl).max(1),
        );
        let written: i64 = self
            .op(|mut c| async move {
                redis::Script::new(FENCED_WRITE)
                    .key(lock_key)
                    .key(token_key)
                    .arg(owner)
                    .arg(value)
                    .arg(ttl)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(written == 1)
    }

    async fn release(&self, owner: &str) {
        let (key, owner) = (self.lock_key.clone(), owner.to_owned());
        if let Err(e) = self
            .op(|mut c| async move {
                redis::Script::new(RELEASE)
                    .key(key)
                    .arg(owner)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
        {
            tracing::warn!(error = %e, "could not release the token lock; it expires by itself");
        }
    }

    /// Redis failed: fetch directly (fail-open) or give up (fail-closed).
    async fn unreachable(&self, error: RedisError) -> Result<(Secret, Duration), Error> {
        self.store
            .redis
            .unreachable(
                error,
                "Redis token cache",
                "fetching the access_token directly",
                self.upstream.fetch(),
            )
            .await
    }

    async fn fetch_shared(&self) -> Result<(Secret, Duration), Error> {
        let owner = format!("{:032x}", rand::rng().random::<u128>());
        let deadline =
            tokio::time::Instant::now() + self.store.lock_timeout * 2 + Duration::from_secs(1);
        let mut wait = Duration::from_millis(10);
        loop {
            match self.read().await {
                Ok(Some(token)) => return Ok(token),
                Ok(None) => {}
                Err(e) => return self.unreachable(e).await,
            }
            match self.try_lock(&owner).await {
                Ok(true) => return self.refresh_holding_lock(&owner).await,
                Ok(false) => {}
                Err(e) => return self.unreachable(e).await,
            }
            // Someone else is fetching: wait for their token, not our own.
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout {
                    attempts: 1,
                    endpoint: "redis token lock",
                    after: self.store.lock_timeout * 2,
                });
            }
            let jitter = Duration::from_millis(rand::rng().random_range(0..=millis(wait) / 2));
            tokio::time::sleep(wait + jitter).await;
            wait = (wait * 2).min(Duration::from_millis(250));
        }
    }

    async fn refresh_holding_lock(&self, owner: &str) -> Result<(Secret, Duration), Error> {
        // Someone may have written a token between our read and our lock.
        if let Ok(Some(token)) = self.read().await {
            self.release(owner).await;
            return Ok(token);
        }
        tracing::debug!("holding the fleet's token lock; fetching");
        let fetched = self.upstream.fetch().await;
        if let Ok((token, ttl)) = &fetched {
            match self.fenced_write(owner, token, *ttl).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    "the token lock expired during the fetch; another process owns the refresh now"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "could not share the new access_token through Redis");
                }
            }
        }
        self.release(owner).await;
        fetched
    }
}

impl TokenSource for RedisTokenSource {
    fn fetch(&self) -> BoxFuture<'_, Result<(Secret, Duration), Error>> {
        Box::pin(self.fetch_shared())
    }

    fn cache_key(&self) -> String {
        self.upstream.cache_key()
    }

    fn invalidate<'a>(&'a self, failed: &'a Secret) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let (key, token) = (self.token_key.clone(), failed.expose().to_owned());
            match self
                .op(|mut c| async move {
                    redis::Script::new(INVALIDATE)
                        .key(key)
                        .arg(token)
                        .invoke_async::<i64>(&mut c)
                        .await
                })
                .await
            {
                Ok(1) => tracing::debug!("dropped the refused access_token from Redis"),
                Ok(_) => tracing::debug!("Redis already holds a newer access_token"),
                Err(e) => {
                    tracing::warn!(error = %e, "Redis token cache unreachable; could not drop the refused access_token there");
                }
            }
        })
    }
}
