//! The embedded store: one SQLite file in WAL mode with the cursors, the handled msgids,
//! the dead letters and the leases. Every write checks the lease's fence in the same
//! transaction, so processes sharing the file never commit over each other.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{DeadLetter, Lease, Store, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS leases (
    open_kfid  TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    fence      INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors (
    open_kfid  TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS handled (
    open_kfid  TEXT NOT NULL,
    msgid      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (open_kfid, msgid)
);
CREATE INDEX IF NOT EXISTS handled_at ON handled (at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    open_kfid  TEXT NOT NULL,
    msgid      TEXT NOT NULL,
    message    TEXT NOT NULL,
    error      TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    at         INTEGER NOT NULL
);";

/// Handled msgids are kept as long as `sync_msg` can return them: 3 days.
const HANDLED_KEPT_SECS: i64 = 3 * 24 * 3600;

/// The SQLite store. Each operation is one short transaction on the file.
pub struct SqliteStore {
    db: Mutex<Connection>,
    max_dead_letters: usize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn backend(err: rusqlite::Error) -> StoreError {
    StoreError::Backend {
        backend: "sqlite",
        source: Box::new(err),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The lease must still carry the current fence (an expired lease nobody took over is
/// still ours).
fn check_fence(tx: &rusqlite::Transaction<'_>, lease: &Lease) -> Result<(), StoreError> {
    let current: Option<(String, i64)> = tx
        .prepare_cached("SELECT holder, fence FROM leases WHERE open_kfid = ?1")
        .and_then(|mut select| {
            select
                .query_row(params![lease.open_kfid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(backend)?;
    match current {
        Some((holder, fence))
            if holder == lease.holder && u64::try_from(fence) == Ok(lease.fence) =>
        {
            Ok(())
        }
        _ => Err(StoreError::Fenced {
            open_kfid: lease.open_kfid.clone(),
            fence: lease.fence,
        }),
    }
}

impl SqliteStore {
    /// Open (or create) the store at `path`. A new file is created `0600`: its dead
    /// letters are whole customer messages.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let in_memory = path.as_os_str().is_empty() || path.as_os_str() == ":memory:";
        (if in_memory {
            Ok(())
        } else {
            crate::private_file::create(path)
        })
        .map_err(|e| StoreError::Backend {
            backend: "sqlite",
            source: Box::new(e),
        })?;
        let db = Connection::open(path).map_err(backend)?;
        db.pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| db.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| db.busy_timeout(Duration::from_secs(5)))
            .and_then(|()| db.execute_batch(SCHEMA))
            .map_err(backend)?;
        Ok(SqliteStore {
            db: Mutex::new(db),
            max_dead_letters: super::MAX_DEAD_LETTERS,
        })
    }

    /// Keep at most `max` dead letters (default [`MAX_DEAD_LETTERS`](super::MAX_DEAD_LETTERS));
    /// past it the oldest go.
    #[must_use]
    pub fn max_dead_letters(mut self, max: usize) -> Self {
        self.max_dead_letters = max.max(1);
        self
    }

    /// Run `f` in one immediate transaction.
    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut db = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let value = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(value)
    }

    fn fenced(
        &self,
        lease: &Lease,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<usize>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            check_fence(tx, lease)?;
            f(tx).map(drop).map_err(backend)
        })
    }
}

impl Store for SqliteStore {
    async fn acquire(
        &self,
        open_kfid: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let now = now_ms();
        let expires = now + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
        self.write(|tx| {
            let current: Option<(String, i64, i64)> = tx
                .query_row(
                    "SELECT holder, fence, expires_ms FROM leases WHERE open_kfid = ?1",
                    params![open_kfid],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(backend)?;
            let fence = match current {
                Some((h, fence, _)) if h == holder => fence,
                Some((_, _, until)) if until > now => return Ok(None),
                Some((_, fence, _)) => fence + 1,
                None => 1,
            };
            tx.execute(
                "INSERT INTO leases (open_kfid, holder, fence, expires_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (open_kfid) DO UPDATE SET holder = ?2, fence = ?3, expires_ms = ?4",
                params![open_kfid, holder, fence, expires],
            )
            .map_err(backend)?;
            Ok(Some(Lease {
                open_kfid: open_kfid.to_owned(),
                holder: holder.to_owned(),
                fence: u64::try_from(fence).unwrap_or_default(),
            }))
        })
    }

    async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        self.fenced(lease, |tx| {
            tx.execute(
                "UPDATE leases SET expires_ms = 0 WHERE open_kfid = ?1",
                params![lease.open_kfid],
            )
        })
    }

    async fn cursor(&self, open_kfid: &str) -> Result<Option<String>, StoreError> {
        let db = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        db.query_row(
            "SELECT cursor FROM cursors WHERE open_kfid = ?1",
            params![open_kfid],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)
    }

    async fn is_handled(&self, open_kfid: &str, msgid: &str) -> Result<bool, StoreError> {
        let db = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        db.prepare_cached("SELECT 1 FROM handled WHERE open_kfid = ?1 AND msgid = ?2")
            .and_then(|mut select| select.exists(params![open_kfid, msgid]))
            .map_err(backend)
    }

    async fn mark_handled(&self, lease: &Lease, msgid: &str) -> Result<(), StoreError> {
        self.mark_all_handled(lease, &[msgid]).await
    }

    /// One transaction for all of them: the lanes' group commit.
    async fn mark_all_handled(&self, lease: &Lease, msgids: &[&str]) -> Result<(), StoreError> {
        let at = now_ms() / 1000;
        self.fenced(lease, |tx| {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO handled (open_kfid, msgid, at) VALUES (?1, ?2, ?3)",
            )?;
            for msgid in msgids {
                insert.execute(params![lease.open_kfid, msgid, at])?;
            }
            Ok(msgids.len())
        })
    }

    async fn commit_cursor(&self, lease: &Lease, cursor: &str) -> Result<(), StoreError> {
        let old = now_ms() / 1000 - HANDLED_KEPT_SECS;
        self.fenced(lease, |tx| {
            tx.prepare_cached(
                "INSERT INTO cursors (open_kfid, cursor) VALUES (?1, ?2)
                 ON CONFLICT (open_kfid) DO UPDATE SET cursor = ?2",
            )?
            .execute(params![lease.open_kfid, cursor])?;
            tx.prepare_cached("DELETE FROM handled WHERE at < ?1")?
                .execute(params![old])
        })
    }

    async fn dead_letter(&self, lease: &Lease, letter: DeadLetter) -> Result<(), StoreError> {
        self.fenced(lease, |tx| {
            tx.execute(
                "INSERT INTO dead_letters (open_kfid, msgid, message, error, attempts, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    letter.open_kfid,
                    letter.msgid,
                    letter.message,
                    letter.error,
                    letter.attempts,
                    letter.at
                ],
            )?;
            let dropped = tx.execute(
                "DELETE FROM dead_letters WHERE id NOT IN
                   (SELECT id FROM dead_letters ORDER BY id DESC LIMIT ?1)",
                params![i64::try_from(self.max_dead_letters).unwrap_or(i64::MAX)],
            )?;
            if dropped > 0 {
                tracing::warn!(
                    dropped,
                    max = self.max_dead_letters,
                    "dead letters over their cap: the oldest were dropped"
                );
            }
            tx.execute(
                "INSERT OR IGNORE INTO handled (open_kfid, msgid, at) VALUES (?1, ?2, ?3)",
                params![letter.open_kfid, letter.msgid, letter.at],
            )
        })
    }

    async fn dead_letter_count(&self) -> Result<u64, StoreError> {
        let db = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        db.query_row("SELECT count(*) FROM dead_letters", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
        .map_err(backend)
    }

    async fn drop_dead_letter(&self, open_kfid: &str, msgid: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM dead_letters WHERE open_kfid = ?1 AND msgid = ?2",
                params![open_kfid, msgid],
            )
            .map(|n| n > 0)
            .map_err(backend)
        })
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let db = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut stmt = db
            .prepare(
                "SELECT open_kfid, msgid, message, error, attempts, at FROM dead_letters ORDER BY id",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DeadLetter {
                    open_kfid: r.get(0)?,
                    msgid: r.get(1)?,
                    message: r.get(2)?,
                    error: r.get(3)?,
                    attempts: r.get(4)?,
                    at: r.get(5)?,
                })
            })
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend)
    }
}
