//! [`Client`] and [`ClientBuilder`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tracing::{Instrument, field};
use wecom_kf_types::{DEFAULT_BASE_URL, Endpoint, Method, RetryClass, Secret};

use crate::Error;
use crate::retry::RetryPolicy;
use crate::token::{
    AccessToken, CachedTokenProvider, Clock, GetTokenSource, SystemClock, TokenCache,
    TokenProvider, TokenSource,
};
use crate::transport::{Transport, decode};

/// Builds a [`Client`].
///
/// ```no_run
/// # fn demo() -> Result<(), wecom_kf::Error> {
/// use std::time::Duration;
/// let client = wecom_kf::Client::builder()
///     .corp_id("ww1234567890abcdef")
///     .secret(std::env::var("WECOM_KF_SECRET").unwrap_or_default())
///     .request_timeout(Duration::from_secs(10))
///     .build()?;
/// # Ok(()) }
/// ```
pub struct ClientBuilder {
    corp_id: Option<String>,
    secret: Option<Secret>,
    provider: Option<Arc<dyn TokenProvider>>,
    base_url: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    token_load_timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    http: Option<reqwest::Client>,
    proxy: Option<reqwest::Proxy>,
    cache: Option<TokenCache>,
    #[cfg(feature = "redis")]
    redis: Option<crate::token::RedisTokenCache>,
    clock: Arc<dyn Clock>,
    max_response_bytes: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("corp_id", &self.corp_id)
            .field("secret", &self.secret)
            .field("base_url", &self.base_url)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            corp_id: None,
            secret: None,
            provider: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            token_load_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: concat!("wecom-kf/", env!("CARGO_PKG_VERSION"), " (rust)").to_owned(),
            http: None,
            proxy: None,
            cache: None,
            #[cfg(feature = "redis")]
            redis: None,
            clock: Arc::new(SystemClock),
            max_response_bytes: 4 * 1024 * 1024,
        }
    }
}

impl ClientBuilder {
    /// 企业ID.
    #[must_use]
    pub fn corp_id(mut self, corp_id: impl Into<String>) -> Self {
        self.corp_id = Some(corp_id.into());
        self
    }

    /// The secret of the app configured for 微信客服. Kept redacted.
    #[must_use]
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Use this token provider instead of corp id + secret (e.g. a central token
    /// service, or [`StaticToken`](crate::token::StaticToken)).
    #[must_use]
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.provider = Some(Arc::new(provider));
        self
    }

    /// Where the service is (default `https://qyapi.weixin.qq.com`); point it at an emulator.
    #[must_use]
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        base_url
            .into()
            .trim_end_matches('/')
            .clone_into(&mut self.base_url);
        self
    }

    /// Time to establish a connection (default 5 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time for one attempt of one call, answer included (default 30 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Time for getting a token, retries included (default 30 s).
    #[must_use]
    pub fn token_load_timeout(mut self, timeout: Duration) -> Self {
        self.token_load_timeout = timeout;
        self
    }

    /// How transient failures are retried.
    #[must_use]
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header.
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Use your own `reqwest::Client` (its connection pool, TLS and proxy settings);
    /// the timeouts of this builder still apply per request.
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Send everything through this proxy.
    #[must_use]
    pub fn proxy(mut self, proxy: reqwest::Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Share access tokens with other clients of this process through `cache`.
    #[must_use]
    pub fn token_cache(mut self, cache: TokenCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Share the access_token with every process of the fleet through Redis (feature
    /// `redis`). The in-process cache stays in front, so a process asks Redis once per
    /// token.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis_token_cache(mut self, cache: crate::token::RedisTokenCache) -> Self {
        self.redis = Some(cache);
        self
    }

    /// The clock of the token cache (tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Largest answer accepted (default 4 MiB; a full account page is about 20 KiB).
    #[must_use]
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Build the client.
    pub fn build(self) -> Result<Client, Error> {
        let http = if let Some(http) = self.http {
            http
        } else {
            {
                let mut builder = reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout)
                    .user_agent(self.user_agent)
                    .tcp_nodelay(true)
                    // WeCom never redirects; following one could carry the token elsewhere.
                    .redirect(reqwest::redirect::Policy::none());
                if let Some(proxy) = self.proxy {
                    builder = builder.proxy(proxy);
                }
                builder.build().map_err(|e| {
                    Error::Config(format!("cannot build the HTTP client: {}", e.without_url()))
                })?
            }
        };
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "base URL must start with http:// or https://, got {:?}",
                self.base_url
            )));
        }
        let transport = Transport {
            http,
            base_url: self.base_url.into(),
            timeout: self.request_timeout,
            max_response_bytes: self.max_response_bytes,
            urls: Arc::default(),
        };
        let mut gettoken = None;
        let tokens: Arc<dyn TokenProvider> = match (self.provider, self.corp_id, self.secret) {
            (Some(provider), _, _) => provider,
            (None, Some(corp_id), Some(secret)) => {
                if corp_id.is_empty() || secret.is_empty() {
                    return Err(Error::Config("corp id and secret must not be empty".into()));
                }
                let fetcher = Arc::new(GetTokenSource::new(
                    transport.clone(),
                    corp_id.clone(),
                    secret.clone(),
                    self.retry.clone(),
                ));
                gettoken = Some(fetcher.clone());
                let source: Arc<dyn TokenSource> = fetcher;
                #[cfg(feature = "redis")]
                let source: Arc<dyn TokenSource> = match self.redis {
                    Some(redis) => Arc::new(redis.source(source, &corp_id, &secret)),
                    None => source,
                };
                let cache = self.cache.unwrap_or_default();
                Arc::new(CachedTokenProvider::new(
                    source,
                    &cache,
                    self.clock,
                    self.token_load_timeout,
                ))
            }
            _ => {
                return Err(Error::Config(
                    "set corp_id and secret, or a token_provider".into(),
                ));
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                tokens,
                gettoken,
                retry: self.retry,
            }),
        })
    }
}

struct Inner {
    transport: Transport,
    tokens: Arc<dyn TokenProvider>,
    /// The gettoken fetcher behind `tokens`, when the client has a secret.
    gettoken: Option<Arc<GetTokenSource>>,
    retry: RetryPolicy,
}

/// The 微信客服 client: cheap to clone (one `Arc`), `Send + Sync`, one connection pool
/// and one token cache for all clones.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.transport.base_url)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Whether the request may have reached the server and done its work.
fn may_have_applied(err: &Error) -> bool {
    match err {
        Error::Transport { maybe_sent, .. } => *maybe_sent,
        Error::Timeout { .. } | Error::Decode { .. } | Error::ResponseTooLarge { .. } => true,
        Error::Http { status, .. } => *status >= 500,
        _ => false,
    }
}

impl Client {
    /// Start building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.inner.transport.base_url
    }

    /// The token provider (e.g. to check credentials with `token()`).
    pub fn token_provider(&self) -> &Arc<dyn TokenProvider> {
        &self.inner.tokens
    }

    /// Use a new app secret from now on (after it was reset in the admin console),
    /// without a new client: the current access_token is dropped, and the next call
    /// gets one with `secret`. Calls in flight finish with the token they hold. The
    /// same secret again changes nothing.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// client.set_secret(std::env::var("WECOM_KF_SECRET").unwrap_or_default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_secret(&self, secret: impl Into<Secret>) -> Result<(), Error> {
        let secret = secret.into();
        let Some(gettoken) = &self.inner.gettoken else {
            return Err(Error::Config(
                "this client gets its tokens from a token provider: it has no secret to change"
                    .into(),
            ));
        };
        if secret.is_empty() {
            return Err(Error::Config("the secret must not be empty".into()));
        }
        // The same secret again (a reload that changed something else): keep the token.
        if !gettoken.set_secret(secret) {
            return Ok(());
        }
        if let Some(token) = self.inner.tokens.cached() {
            self.inner.tokens.invalidate(&token).await;
        }
        Ok(())
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Call any JSON endpoint: validate, send with the token, retry as the policy and
    /// the endpoint's idempotency allow.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use wecom_kf::types::kf::account::ListAccounts;
    /// let page = client.execute(&ListAccounts::page(0, 50)).await?;
    /// println!("{} accounts", page.account_list.len());
    /// # Ok(()) }
    /// ```
    pub async fn execute<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        request.validate()?;
        // A POST's body is serialized once and shared by every attempt; a GET carries
        // the request as query parameters.
        let body = match E::METHOD {
            Method::Post => Some(bytes::Bytes::from(serde_json::to_vec(request).map_err(
                |e| Error::Request {
                    endpoint: E::PATH,
                    source: Box::new(e),
                },
            )?)),
            Method::Get => None,
        };
        let transport = self.transport();
        self.run(
            E::PATH,
            request.idempotent(),
            request.outcome_unknown_hint(),
            |code| request.already_done(code),
            |token| {
                let url = transport.token_url(E::PATH, token.secret());
                let body = body.clone();
                async move {
                    let request = match body {
                        Some(body) => transport
                            .http
                            .post(url?)
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .body(body),
                        None => transport.http.get(url?).query(request),
                    };
                    decode::<E::Response>(E::PATH, &transport.send(E::PATH, request).await?)
                }
            },
        )
        .await
    }

    /// The loop every call shares: token, attempt, classify, refresh once on a token
    /// error, back off and retry what is safe to retry. Bounded: at most
    /// `max_attempts` attempts plus one token retry.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        endpoint: &'static str,
        idempotent: bool,
        outcome_unknown_hint: &'static str,
        already_done: impl Fn(wecom_kf_types::ErrCode) -> Option<T>,
        mut attempt_fn: F,
    ) -> Result<T, Error>
    where
        F: FnMut(&AccessToken) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let span = tracing::info_span!(
            "wecom_kf.call",
            endpoint,
            attempt = field::Empty,
            errcode = field::Empty,
            latency_ms = field::Empty
        );
        async move {
            let retry = &self.inner.retry;
            let mut token = match self.inner.tokens.cached() {
                Some(token) => token,
                None => self.inner.tokens.token().await?,
            };
            let mut attempt = 0;
            let mut token_retried = false;
            let mut maybe_applied = false;
            loop {
                attempt += 1;
                let span = tracing::Span::current();
                span.record("attempt", attempt);
                let started = std::time::Instant::now();
                let result = attempt_fn(&token).await;
                span.record("latency_ms", u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
                let err = match result {
                    Ok(value) => {
                        span.record("errcode", 0);
                        tracing::debug!("ok");
                        return Ok(value);
                    }
                    Err(err) => err,
                };
                let code = err.api_code();
                if let Some(code) = code {
                    span.record("errcode", code.get());
                    if maybe_applied && let Some(done) = already_done(code) {
                        tracing::debug!(%code, "an earlier attempt already did it");
                        return Ok(done);
                    }
                    if code.retry_class() == RetryClass::Token {
                        if token_retried {
                            return Err(err);
                        }
                        // Refresh once (only if nobody has yet), retry once.
                        token_retried = true;
                        self.inner.tokens.invalidate(&token).await;
                        let fresh = self.inner.tokens.token().await?;
                        if fresh.same_as(&token) {
                            return Err(err);
                        }
                        tracing::info!(%code, "access_token refused; retrying once with a fresh one");
                        token = fresh;
                        continue;
                    }
                }
                let applied = may_have_applied(&err);
                if applied && !idempotent {
                    tracing::info!(error = %err, "outcome unknown; not retrying a non-idempotent call");
                    return Err(Error::OutcomeUnknown { endpoint, hint: outcome_unknown_hint, source: Box::new(err) });
                }
                maybe_applied |= applied;
                let Some(wait) = retry.next_attempt(&err, idempotent, attempt) else {
                    tracing::debug!(error = %err, attempt, "giving up");
                    return Err(err.after_attempts(attempt));
                };
                // A retry is the library working as designed: `info`, so that a CLI at
                // its default verbosity shows one error at the end, not every attempt.
                tracing::info!(error = %err, attempt, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "retrying");
                tokio::time::sleep(wait).await;
            }
        }
        .instrument(span)
        .await
    }
}
