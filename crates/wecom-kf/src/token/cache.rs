//! The in-memory token cache: one refresh in flight however many tasks wait, refresh
//! ahead of expiry with jitter, a load timeout, compare-and-invalidate.
//!
//! Slots are keyed by (base URL, corp id, SHA-256 of the secret), so several apps of one
//! corp, or the same corp on two servers, never share a token. The raw secret is never
//! part of a key.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::Shared;
use rand::Rng;
use tokio::time::Instant;
use wecom_kf_types::Secret;

use super::{AccessToken, BoxFuture, Clock, TokenProvider};
use crate::Error;

/// Something that fetches fresh tokens (the default: `gettoken`).
pub trait TokenSource: Send + Sync + 'static {
    /// A fresh token and how long it lives.
    fn fetch(&self) -> BoxFuture<'_, Result<(Secret, Duration), Error>>;

    /// What identifies the tokens this source fetches; never contains a secret.
    fn cache_key(&self) -> String;

    /// `failed` was refused: a source that shares tokens (Redis) drops it if it still
    /// holds it. The default does nothing.
    fn invalidate<'a>(&'a self, _failed: &'a Secret) -> BoxFuture<'a, ()> {
        Box::pin(std::future::ready(()))
    }
}

type Refresh = Shared<BoxFuture<'static, Result<AccessToken, Arc<Error>>>>;

#[derive(Default)]
struct SlotState {
    current: Option<(AccessToken, Instant)>, // token, refresh_at
    inflight: Option<(u64, Refresh)>,
    generation: u64,
}

#[derive(Default)]
struct Slot(Mutex<SlotState>);

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A set of token slots that several clients may share (`ClientBuilder::token_cache`).
/// Cheap to clone.
#[derive(Clone, Default)]
pub struct TokenCache {
    slots: Arc<Mutex<HashMap<String, Arc<Slot>>>>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.slots.lock().map_or(0, |s| s.len());
        f.debug_struct("TokenCache").field("slots", &n).finish()
    }
}

impl TokenCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self, key: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(key.to_owned()).or_default().clone()
    }
}

/// How far ahead of expiry a token is refreshed: 5 minutes plus up to 1 minute of jitter
/// (so a fleet does not refresh in step), and never more than half its lifetime.
fn refresh_margin(ttl: Duration) -> Duration {
    let jitter = Duration::from_millis(rand::rng().random_range(0..=60_000));
    (Duration::from_secs(300) + jitter).min(ttl / 2)
}

/// The default provider: a [`TokenSource`] behind a slot of a [`TokenCache`].
pub struct CachedTokenProvider {
    source: Arc<dyn TokenSource>,
    slot: Arc<Slot>,
    clock: Arc<dyn Clock>,
    load_timeout: Duration,
}

impl fmt::Debug for CachedTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedTokenProvider")
            .field("key", &self.source.cache_key())
            .field("load_timeout", &self.load_timeout)
            .finish_non_exhaustive()
    }
}

impl CachedTokenProvider {
    /// Cache tokens of `source` in `cache`, with `clock`, giving up a fetch after `load_timeout`.
    pub fn new(
        source: Arc<dyn TokenSource>,
        cache: &TokenCache,
        clock: Arc<dyn Clock>,
        load_timeout: Duration,
    ) -> Self {
        let slot = cache.slot(&source.cache_key());
        CachedTokenProvider {
            source,
            slot,
            clock,
            load_timeout,
        }
    }

    /// Start a refresh; the caller holds the slot lock and records it as in flight.
    /// With `refused`, the shared source first drops that token, inside the same
    /// single flight: no task of this process can read it back before it is gone.
    fn start_refresh(&self, state: &mut SlotState, refused: Option<Secret>) -> Refresh {
        state.generation += 1;
        let generation = state.generation;
        let source = self.source.clone();
        let slot = self.slot.clone();
        let clock = self.clock.clone();
        let load_timeout = self.load_timeout;
        let refresh: BoxFuture<'static, Result<AccessToken, Arc<Error>>> = Box::pin(async move {
            if let Some(refused) = refused {
                source.invalidate(&refused).await;
            }
            let started = clock.now();
            tracing::debug!("fetching a new access_token");
            let fetched = match tokio::time::timeout(load_timeout, source.fetch()).await {
                Ok(result) => result,
                Err(_) => Err(Error::Timeout {
                    attempts: 1,
                    endpoint: wecom_kf_types::token::GetToken::PATH,
                    after: load_timeout,
                }),
            };
            let mut state = slot.lock();
            // Only the latest refresh updates the cache: an older one (a refresh ahead of
            // expiry overtaken by a refusal) may carry the very token that was refused.
            let latest = state.generation == generation;
            if latest {
                state.inflight = None;
            }
            match fetched {
                Ok((value, ttl)) => {
                    // Count the lifetime from before the request went out: never late.
                    let expires_at = started + ttl;
                    let token = AccessToken::new(value, Some(expires_at));
                    if latest {
                        state.current = Some((token.clone(), expires_at - refresh_margin(ttl)));
                    }
                    Ok(token)
                }
                Err(err) => {
                    // Every caller waiting on this refresh gets the error itself.
                    tracing::info!(error = %err, "access_token refresh failed");
                    Err(Arc::new(err))
                }
            }
        });
        let shared = refresh.shared();
        state.inflight = Some((generation, shared.clone()));
        shared
    }
}

impl TokenProvider for CachedTokenProvider {
    fn cached(&self) -> Option<AccessToken> {
        let now = self.clock.now();
        let state = self.slot.lock();
        let (token, refresh_at) = state.current.as_ref()?;
        (now < *refresh_at && token.expires_at().is_none_or(|at| now < at)).then(|| token.clone())
    }

    fn token(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(async move {
            let now = self.clock.now();
            let refresh = {
                let mut state = self.slot.lock();
                if let Some((token, refresh_at)) = &state.current {
                    let valid = token.expires_at().is_none_or(|at| now < at);
                    if valid && now < *refresh_at {
                        return Ok(token.clone());
                    }
                    if valid {
                        // Ahead of expiry: one background refresh, callers keep the old token.
                        let token = token.clone();
                        if state.inflight.is_none() {
                            let refresh = self.start_refresh(&mut state, None);
                            tokio::spawn(refresh);
                        }
                        return Ok(token);
                    }
                }
                match &state.inflight {
                    Some((_, refresh)) => refresh.clone(),
                    None => self.start_refresh(&mut state, None),
                }
            };
            refresh.await.map_err(Error::Token)
        })
    }

    fn invalidate<'a>(&'a self, failed: &'a AccessToken) -> BoxFuture<'a, ()> {
        let mut state = self.slot.lock();
        if state
            .current
            .as_ref()
            .is_some_and(|(token, _)| token.same_as(failed))
        {
            tracing::debug!("dropping the refused access_token");
            state.current = None;
            // The refresh that follows tells the shared store first (compare-and-delete).
            // Only the task that still held the token starts it; the others join it. It
            // supersedes any refresh already in flight, whose result may be this token.
            // Recorded as in flight; the next `token()` drives it.
            let _refresh = self.start_refresh(&mut state, Some(failed.secret().clone()));
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::token::ManualClock;

    struct Counting {
        calls: AtomicU32,
        ttl: Duration,
        delay: Duration,
        fail: bool,
    }

    impl TokenSource for Counting {
        fn fetch(&self) -> BoxFuture<'_, Result<(Secret, Duration), Error>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(self.delay).await;
                if self.fail {
                    return Err(Error::Config("no".into()));
                }
                Ok((Secret::new(format!("token-{n}")), self.ttl))
            })
        }
        fn cache_key(&self) -> String {
            "test".into()
        }
    }

    fn source(ttl: u64, delay_ms: u64, fail: bool) -> Arc<Counting> {
        Arc::new(Counting {
            calls: AtomicU32::new(0),
            ttl: Duration::from_secs(ttl),
            delay: Duration::from_millis(delay_ms),
            fail,
        })
    }

    fn provider(source: &Arc<Counting>, clock: Arc<dyn Clock>) -> Arc<CachedTokenProvider> {
        Arc::new(CachedTokenProvider::new(
            source.clone(),
            &TokenCache::new(),
            clock,
            Duration::from_secs(5),
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn one_fetch_for_many_waiters_even_when_it_fails() {
        for fail in [false, true] {
            let src = source(7200, 100, fail);
            let p = provider(&src, Arc::new(crate::token::SystemClock));
            let tasks: Vec<_> = (0..500)
                .map(|_| {
                    let p = p.clone();
                    tokio::spawn(async move { p.token().await.map(|t| t.expose().to_owned()) })
                })
                .collect();
            for t in tasks {
                let r = t.await.unwrap();
                assert_eq!(r.is_ok(), !fail);
            }
            assert_eq!(src.calls.load(Ordering::SeqCst), 1, "fail={fail}");
        }
    }

    #[tokio::test]
    async fn refreshes_ahead_of_expiry_and_after_expiry() {
        let src = source(7200, 0, false);
        let clock = ManualClock::new();
        let p = provider(&src, clock.clone());
        assert_eq!(p.token().await.unwrap().expose(), "token-1");
        clock.advance(Duration::from_secs(7200 - 400)); // before the refresh window
        assert_eq!(p.token().await.unwrap().expose(), "token-1");
        assert_eq!(src.calls.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_secs(300)); // inside the window (margin ≥ 300 s)
        assert_eq!(
            p.token().await.unwrap().expose(),
            "token-1",
            "old token served while refreshing"
        );
        // The background refresh lands shortly; bounded wait.
        let mut refreshed = String::new();
        for _ in 0..200 {
            refreshed = p.token().await.unwrap().expose().to_owned();
            if refreshed == "token-2" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(refreshed, "token-2");
        assert_eq!(
            src.calls.load(Ordering::SeqCst),
            2,
            "one background refresh"
        );
        clock.advance(Duration::from_secs(7201)); // expired
        assert_eq!(p.token().await.unwrap().expose(), "token-3");
    }

    #[tokio::test]
    async fn invalidate_only_drops_the_token_that_failed() {
        let src = source(7200, 0, false);
        let p = provider(&src, Arc::new(crate::token::SystemClock));
        let first = p.token().await.unwrap();
        p.invalidate(&first).await;
        let second = p.token().await.unwrap();
        assert_eq!(second.expose(), "token-2");
        p.invalidate(&first).await; // stale: must not drop token-2
        assert_eq!(p.token().await.unwrap().expose(), "token-2");
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refusal_supersedes_a_refresh_already_in_flight() {
        // The source hands out token-1 until told it was refused.
        struct Sticky {
            refused: std::sync::Mutex<bool>,
            calls: AtomicU32,
        }
        impl TokenSource for Sticky {
            fn fetch(&self) -> BoxFuture<'_, Result<(Secret, Duration), Error>> {
                Box::pin(async move {
                    let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                    let refused = *self.refused.lock().unwrap();
                    // The second fetch (the refresh ahead of expiry) is the slow one, so it
                    // lands after the refusal's refresh.
                    let delay = if call == 2 { 150 } else { 10 };
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    Ok((
                        Secret::new(if refused { "token-2" } else { "token-1" }),
                        Duration::from_secs(7200),
                    ))
                })
            }
            fn cache_key(&self) -> String {
                "sticky".into()
            }
            fn invalidate<'a>(&'a self, _failed: &'a Secret) -> BoxFuture<'a, ()> {
                *self.refused.lock().unwrap() = true;
                Box::pin(async {})
            }
        }
        let source = Arc::new(Sticky {
            refused: std::sync::Mutex::new(false),
            calls: AtomicU32::new(0),
        });
        let clock = ManualClock::new();
        let p = Arc::new(CachedTokenProvider::new(
            source.clone(),
            &TokenCache::new(),
            clock.clone(),
            Duration::from_secs(5),
        ));
        let first = p.token().await.unwrap();
        // Enter the refresh-ahead window: a background refresh starts (it will bring token-1).
        clock.advance(Duration::from_secs(7200 - 200));
        assert_eq!(p.token().await.unwrap().expose(), "token-1");
        tokio::time::sleep(Duration::from_millis(5)).await; // let it start fetching
        assert_eq!(source.calls.load(Ordering::SeqCst), 2);
        // token-1 is refused while that refresh is still in flight.
        p.invalidate(&first).await;
        assert_eq!(
            p.token().await.unwrap().expose(),
            "token-2",
            "the refusal's refresh wins"
        );
        tokio::time::sleep(Duration::from_millis(300)).await; // the older refresh lands
        assert_eq!(source.calls.load(Ordering::SeqCst), 3);
        assert_eq!(
            p.token().await.unwrap().expose(),
            "token-2",
            "and does not bring token-1 back"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_fetch_times_out() {
        let src = source(7200, 10_000, false);
        let p = provider(&src, Arc::new(crate::token::SystemClock));
        let err = p.token().await.unwrap_err();
        assert!(
            matches!(err, Error::Token(ref inner) if matches!(**inner, Error::Timeout { .. })),
            "{err:?}"
        );
    }
}
