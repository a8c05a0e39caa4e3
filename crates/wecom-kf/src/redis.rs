//! Redis plumbing shared by everything the fleet keeps in Redis (the access_token today;
//! cursors and leases of the consumer next): one lazily opened connection, a timeout on
//! every command, and the fail-open policy. Errors never carry the URL (it may hold a
//! password).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use crate::Error;

/// A Redis failure. Never holds the URL: redis-rs errors name the failure, not the
/// address or the password.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RedisError {
    /// Connecting, or one command, took longer than the operation timeout.
    #[error("{0} timed out")]
    Timeout(&'static str),
    /// A value could not be encoded for Redis.
    #[error("cannot encode the value: {0}")]
    Encode(#[from] serde_json::Error),
    /// Redis answered with an error, or the connection failed.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
}

/// A Redis server and how to talk to it.
pub(crate) struct Redis {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    /// Timeout of one command, connecting included.
    pub operation_timeout: Duration,
    /// When Redis is unreachable: go on without it (with a warning) rather than fail.
    pub fail_open: bool,
}

impl Redis {
    /// Parse `url`; nothing connects until the first command.
    pub fn open(url: &str) -> Result<Redis, Error> {
        let client = redis::Client::open(url).map_err(|_| {
            Error::Config(
                "invalid Redis URL: expected redis://[:password@]host[:port][/db]".to_owned(),
            )
        })?;
        Ok(Redis {
            client,
            connection: OnceCell::new(),
            operation_timeout: Duration::from_secs(2),
            fail_open: true,
        })
    }

    /// The same server and settings, with a connection of its own.
    pub fn duplicate(&self) -> Redis {
        Redis {
            client: self.client.clone(),
            connection: OnceCell::new(),
            operation_timeout: self.operation_timeout,
            fail_open: self.fail_open,
        }
    }

    async fn connection(&self) -> Result<ConnectionManager, RedisError> {
        let connect = || async {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(self.operation_timeout)
                .set_response_timeout(self.operation_timeout)
                .set_number_of_retries(1);
            ConnectionManager::new_with_config(self.client.clone(), config)
                .await
                .map_err(RedisError::from)
        };
        match tokio::time::timeout(
            self.operation_timeout,
            self.connection.get_or_try_init(connect),
        )
        .await
        {
            Ok(result) => result.cloned(),
            Err(_) => Err(RedisError::Timeout("connecting")),
        }
    }

    /// Run one Redis operation within the operation timeout.
    pub async fn op<T, F, Fut>(&self, f: F) -> Result<T, RedisError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let connection = self.connection().await?;
        match tokio::time::timeout(self.operation_timeout, f(connection)).await {
            Ok(result) => result.map_err(RedisError::from),
            Err(_) => Err(RedisError::Timeout("the command")),
        }
    }

    /// The `user` of Redis (e.g. "Redis token cache") could not reach it: do `fallback`
    /// instead (fail-open, with a warning that says what happens) or give up
    /// (fail-closed).
    pub async fn unreachable<T>(
        &self,
        error: RedisError,
        user: &'static str,
        fallback: &str,
        without_redis: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        if self.fail_open {
            tracing::warn!(%error, "{user} unreachable; {fallback} (fail-open)");
            without_redis.await
        } else {
            Err(Error::Unreachable {
                what: user,
                source: Box::new(error),
            })
        }
    }
}
