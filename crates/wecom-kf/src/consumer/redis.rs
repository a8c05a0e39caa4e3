//! The fleet's store (features `consumer` and `redis`): cursors, handled msgids (with a
//! 3-day TTL), dead letters and leases in Redis. A lease is a key with the holder and
//! its fence and a TTL; the fence comes from a counter that grows with each new holder.
//! Every write runs in one Lua script that first checks the fence, so a holder whose
//! lease was taken over cannot commit.
//!
//! The fleet's members are one sorted set, `PREFIX:fleet`: each holder with the moment
//! (Redis' clock, milliseconds) its heartbeat runs out. A heartbeat drops the members
//! past theirs, renews its own and reads the rest, in one script.
//!
//! While Redis is unreachable the consumer does nothing: it cannot take a lease, so it
//! syncs nothing and commits nothing, and picks up from the saved cursor when Redis is
//! back. Nothing is lost; messages wait on the service (3 days).

use std::time::Duration;

use redis::Script;

use super::{DeadLetter, Lease, Store, StoreError};
use crate::redis::Redis;

/// Handled msgids are kept as long as `sync_msg` can return them.
const HANDLED_TTL_SECS: u64 = 3 * 24 * 3600;

const ACQUIRE: &str = r"
local current = redis.call('GET', KEYS[1])
if current then
  local holder, fence = string.match(current, '^(.*)|(%d+)$')
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(fence)
  end
  return false
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. fence, 'PX', ARGV[2])
return fence";

/// KEYS: lease, fence counter, target[, handled]; for `handled`, every key from the
/// third. ARGV: holder, fence, op, value, ttl, most dead letters kept.
/// The lease must be ours, or have expired with nobody taking it since.
const FENCED: &str = r"
local current = redis.call('GET', KEYS[1])
local ours = current == (ARGV[1] .. '|' .. ARGV[2])
if not ours and not (current == false and redis.call('GET', KEYS[2]) == ARGV[2]) then
  return 0
end
if ARGV[3] == 'handled' then
  for i = 3, #KEYS do
    redis.call('SET', KEYS[i], '1', 'EX', ARGV[5])
  end
elseif ARGV[3] == 'cursor' then
  redis.call('SET', KEYS[3], ARGV[4])
elseif ARGV[3] == 'dead' then
  redis.call('RPUSH', KEYS[3], ARGV[4])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[6]), -1)
  redis.call('SET', KEYS[4], '1', 'EX', ARGV[5])
elseif ARGV[3] == 'release' then
  if ours then redis.call('DEL', KEYS[1]) end
end
return 1";

/// KEYS: the fleet's sorted set. ARGV: holder, `beat` or `leave`, ttl (ms). Returns the
/// live members.
const FLEET: &str = r"
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if ARGV[2] == 'beat' then
  redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[3]), ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return redis.call('ZRANGE', KEYS[1], 0, -1)";

/// The Redis store. Give every process of the fleet its own `holder` in
/// [`ConsumerConfig`](super::ConsumerConfig) and the same URL and prefix.
pub struct RedisStore {
    redis: Redis,
    prefix: String,
    acquire: Script,
    fenced: Script,
    fleet: Script,
    max_dead_letters: usize,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn backend(err: impl Into<crate::BoxError>) -> StoreError {
    StoreError::Backend {
        backend: "redis",
        source: err.into(),
    }
}

impl RedisStore {
    /// A store at `url` (`redis://[:password@]host[:port][/db]`), keys under `prefix`.
    pub fn open(url: &str, prefix: impl Into<String>) -> Result<RedisStore, StoreError> {
        let mut redis = Redis::open(url).map_err(backend)?;
        redis.fail_open = false;
        Ok(RedisStore {
            redis,
            prefix: prefix.into(),
            acquire: Script::new(ACQUIRE),
            fenced: Script::new(FENCED),
            fleet: Script::new(FLEET),
            max_dead_letters: super::MAX_DEAD_LETTERS,
        })
    }

    /// Keep at most `max` dead letters (default [`MAX_DEAD_LETTERS`](super::MAX_DEAD_LETTERS));
    /// past it the oldest go (`LTRIM`).
    #[must_use]
    pub fn max_dead_letters(mut self, max: usize) -> Self {
        self.max_dead_letters = max.max(1);
        self
    }

    fn key(&self, kind: &str, open_kfid: &str) -> String {
        format!("{}:{kind}:{open_kfid}", self.prefix)
    }

    async fn fleet(
        &self,
        holder: &str,
        op: &str,
        ttl: Duration,
    ) -> Result<Vec<String>, StoreError> {
        let key = format!("{}:fleet", self.prefix);
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.redis
            .op(|mut c| {
                let mut call = self.fleet.prepare_invoke();
                call.key(&key).arg(holder).arg(op).arg(ttl_ms);
                async move { call.invoke_async(&mut c).await }
            })
            .await
            .map_err(backend)
    }

    async fn fenced(
        &self,
        lease: &Lease,
        op: &str,
        keys: &[String],
        value: &str,
    ) -> Result<(), StoreError> {
        let mut all = vec![
            self.key("lease", &lease.open_kfid),
            self.key("fence", &lease.open_kfid),
        ];
        all.extend(keys.iter().cloned());
        let done: i64 = self
            .redis
            .op(|mut c| {
                let mut call = self.fenced.prepare_invoke();
                for key in &all {
                    call.key(key);
                }
                call.arg(&lease.holder)
                    .arg(lease.fence)
                    .arg(op)
                    .arg(value)
                    .arg(HANDLED_TTL_SECS)
                    .arg(self.max_dead_letters);
                async move { call.invoke_async(&mut c).await }
            })
            .await
            .map_err(backend)?;
        if done == 1 {
            Ok(())
        } else {
            Err(StoreError::Fenced {
                open_kfid: lease.open_kfid.clone(),
                fence: lease.fence,
            })
        }
    }
}

impl Store for RedisStore {
    async fn acquire(
        &self,
        open_kfid: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let (lease_key, fence_key) = (self.key("lease", open_kfid), self.key("fence", open_kfid));
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let fence: Option<u64> = self
            .redis
            .op(|mut c| {
                let mut call = self.acquire.prepare_invoke();
                call.key(&lease_key).key(&fence_key).arg(holder).arg(ttl_ms);
                async move { call.invoke_async(&mut c).await }
            })
            .await
            .map_err(backend)?;
        Ok(fence.map(|fence| Lease {
            open_kfid: open_kfid.to_owned(),
            holder: holder.to_owned(),
            fence,
        }))
    }

    async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        self.fenced(lease, "release", &[], "").await
    }

    async fn cursor(&self, open_kfid: &str) -> Result<Option<String>, StoreError> {
        let key = self.key("cursor", open_kfid);
        self.redis
            .op(|mut c| async move { redis::cmd("GET").arg(&key).query_async(&mut c).await })
            .await
            .map_err(backend)
    }

    async fn is_handled(&self, open_kfid: &str, msgid: &str) -> Result<bool, StoreError> {
        let key = format!("{}:{msgid}", self.key("handled", open_kfid));
        self.redis
            .op(|mut c| async move { redis::cmd("EXISTS").arg(&key).query_async(&mut c).await })
            .await
            .map_err(backend)
    }

    async fn mark_handled(&self, lease: &Lease, msgid: &str) -> Result<(), StoreError> {
        self.mark_all_handled(lease, &[msgid]).await
    }

    /// One script for all of them: the lanes' group commit.
    async fn mark_all_handled(&self, lease: &Lease, msgids: &[&str]) -> Result<(), StoreError> {
        if msgids.is_empty() {
            return Ok(());
        }
        let prefix = self.key("handled", &lease.open_kfid);
        let keys: Vec<String> = msgids.iter().map(|m| format!("{prefix}:{m}")).collect();
        self.fenced(lease, "handled", &keys, "").await
    }

    async fn commit_cursor(&self, lease: &Lease, cursor: &str) -> Result<(), StoreError> {
        let key = self.key("cursor", &lease.open_kfid);
        self.fenced(lease, "cursor", &[key], cursor).await
    }

    async fn dead_letter(&self, lease: &Lease, letter: DeadLetter) -> Result<(), StoreError> {
        let handled = format!("{}:{}", self.key("handled", &lease.open_kfid), letter.msgid);
        let json = serde_json::to_string(&letter).map_err(backend)?;
        let list = format!("{}:dead", self.prefix);
        self.fenced(lease, "dead", &[list, handled], &json).await
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let list = format!("{}:dead", self.prefix);
        let raw: Vec<String> = self
            .redis
            .op(|mut c| async move {
                redis::cmd("LRANGE")
                    .arg(&list)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut c)
                    .await
            })
            .await
            .map_err(backend)?;
        Ok(raw
            .iter()
            .filter_map(|r| serde_json::from_str(r).ok())
            .collect())
    }

    async fn dead_letter_count(&self) -> Result<u64, StoreError> {
        let list = format!("{}:dead", self.prefix);
        self.redis
            .op(|mut c| async move { redis::cmd("LLEN").arg(&list).query_async(&mut c).await })
            .await
            .map_err(backend)
    }

    async fn drop_dead_letter(&self, open_kfid: &str, msgid: &str) -> Result<bool, StoreError> {
        let list = format!("{}:dead", self.prefix);
        let raw: Vec<String> = {
            let list = list.clone();
            self.redis
                .op(|mut c| async move {
                    redis::cmd("LRANGE")
                        .arg(&list)
                        .arg(0)
                        .arg(-1)
                        .query_async(&mut c)
                        .await
                })
                .await
                .map_err(backend)?
        };
        let Some(entry) = raw.into_iter().find(|r| {
            serde_json::from_str::<DeadLetter>(r)
                .is_ok_and(|l| l.open_kfid == open_kfid && l.msgid == msgid)
        }) else {
            return Ok(false);
        };
        let removed: i64 = self
            .redis
            .op(|mut c| async move {
                redis::cmd("LREM")
                    .arg(&list)
                    .arg(1)
                    .arg(&entry)
                    .query_async(&mut c)
                    .await
            })
            .await
            .map_err(backend)?;
        Ok(removed > 0)
    }

    async fn heartbeat(&self, holder: &str, ttl: Duration) -> Result<Vec<String>, StoreError> {
        self.fleet(holder, "beat", ttl).await
    }

    async fn leave(&self, holder: &str) -> Result<(), StoreError> {
        self.fleet(holder, "leave", Duration::ZERO).await.map(drop)
    }
}
