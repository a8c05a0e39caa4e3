//! The default [`TokenSource`]: `GET /cgi-bin/gettoken?corpid=…&corpsecret=…`.

use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wecom_kf_types::Secret;
use wecom_kf_types::token::{GetToken, GetTokenResponse};

use super::{BoxFuture, TokenSource};
use crate::Error;
use crate::retry::RetryPolicy;
use crate::transport::{Transport, decode};

/// Fetches tokens with a corp id and an app secret, retrying transient failures.
pub struct GetTokenSource {
    transport: Transport,
    /// Behind a lock so that the secret can be replaced while the client runs
    /// (`Client::set_secret`, serve's SIGHUP).
    request: std::sync::RwLock<GetToken>,
    retry: RetryPolicy,
}

impl fmt::Debug for GetTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let request = self.request();
        f.debug_struct("GetTokenSource")
            .field("corpid", &request.corpid)
            .field("corpsecret", &request.corpsecret)
            .finish_non_exhaustive()
    }
}

impl GetTokenSource {
    pub(crate) fn new(
        transport: Transport,
        corp_id: String,
        secret: Secret,
        retry: RetryPolicy,
    ) -> Self {
        GetTokenSource {
            transport,
            request: std::sync::RwLock::new(GetToken::new(corp_id, secret)),
            retry,
        }
    }

    fn request(&self) -> std::sync::RwLockReadGuard<'_, GetToken> {
        self.request
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Fetch with `secret` from now on; whether it is a new one.
    pub(crate) fn set_secret(&self, secret: Secret) -> bool {
        let mut request = self
            .request
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if request.corpsecret == secret {
            return false;
        }
        let corp_id = std::mem::take(&mut request.corpid);
        *request = GetToken::new(corp_id, secret);
        true
    }

    async fn fetch_once(&self) -> Result<GetTokenResponse, Error> {
        let request = {
            let current = self.request();
            self.transport
                .http
                .get(self.transport.url(GetToken::PATH))
                .query(&[
                    ("corpid", current.corpid.as_str()),
                    ("corpsecret", current.corpsecret.expose()),
                ])
        };
        let body = self.transport.send(GetToken::PATH, request).await?;
        decode(GetToken::PATH, &body)
    }
}

/// Hex SHA-256 of a secret, for cache keys: stable across processes, and not the secret.
pub(crate) fn secret_hash(secret: &Secret) -> String {
    let digest = Sha256::digest(secret.expose().as_bytes());
    digest
        .iter()
        .take(16)
        .fold(String::with_capacity(32), |mut hex, b| {
            use std::fmt::Write;
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

impl TokenSource for GetTokenSource {
    fn fetch(&self) -> BoxFuture<'_, Result<(Secret, Duration), Error>> {
        Box::pin(async move {
            self.request().validate()?;
            let mut attempt = 0;
            loop {
                attempt += 1;
                let err = match self.fetch_once().await {
                    Ok(answer) => {
                        return Ok((answer.access_token, Duration::from_secs(answer.expires_in)));
                    }
                    Err(err) => err,
                };
                // gettoken only reads: idempotent.
                let Some(wait) = self.retry.next_attempt(&err, true, attempt) else {
                    return Err(err.after_attempts(attempt));
                };
                // Expected and handled: `info`, so a CLI shows only the final error.
                tracing::info!(attempt, error = %err, "gettoken failed; retrying");
                tokio::time::sleep(wait).await;
            }
        })
    }

    fn cache_key(&self) -> String {
        let request = self.request();
        format!(
            "{}|{}|{}",
            self.transport.base_url,
            request.corpid,
            secret_hash(&request.corpsecret)
        )
    }
}
