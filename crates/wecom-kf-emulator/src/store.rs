//! Durable state: SQLite in WAL mode is the record, an in-memory mirror serves reads.
//!
//! Every change is committed to SQLite before the mirror is touched and before the
//! caller is answered, so a success survives `kill -9`. One mutex serialises writers,
//! which also makes the account cap atomic.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use wecom_kf_types::ErrCode;
use wecom_kf_types::media::MediaType;

/// An app of the corp: one secret, one agent id.
pub type AgentId = i64;

/// A stored kf account.
#[derive(Clone, Debug)]
pub struct AccountRow {
    /// 客服账号ID.
    pub open_kfid: String,
    /// Name.
    pub name: String,
    /// Avatar media id (empty: the default avatar).
    pub media_id: String,
    /// The app that created it through the API; `None` for accounts created in the admin
    /// console, which no app manages.
    pub owner: Option<AgentId>,
}

/// A stored access token.
#[derive(Clone, Copy, Debug)]
pub struct TokenRow {
    /// The app it belongs to.
    pub agent: AgentId,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A stored upload's metadata (bytes stay in SQLite).
#[derive(Clone, Debug)]
pub struct MediaRow {
    /// Its type.
    pub media_type: MediaType,
    /// Unix seconds.
    pub created_at: i64,
}

/// The store.
pub struct Store {
    db: Connection,
    /// Bumped by every change to the accounts: lets readers cache what they render.
    generation: u64,
    accounts: BTreeMap<i64, AccountRow>,
    by_kfid: HashMap<String, i64>,
    tokens: HashMap<String, TokenRow>,
    media: HashMap<String, MediaRow>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    open_kfid TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    media_id  TEXT NOT NULL,
    owner     INTEGER
);
CREATE TABLE IF NOT EXISTS tokens (
    token      TEXT PRIMARY KEY,
    agent      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS media (
    media_id     TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
";

/// A failure of the store itself (disk full, corrupt file): answered as `-1`.
fn busy(err: &rusqlite::Error) -> ErrCode {
    tracing::error!(error = %err, "sqlite failure");
    ErrCode::SYSTEM_BUSY
}

impl Store {
    /// Open (or create) the store at `path`; `:memory:` keeps everything in memory.
    pub fn open(path: &str) -> rusqlite::Result<Store> {
        let db = if path == ":memory:" {
            Connection::open_in_memory()?
        } else {
            Connection::open(Path::new(path))?
        };
        db.pragma_update(None, "journal_mode", "WAL")?;
        // In WAL mode NORMAL makes a commit durable against a process crash (kill -9):
        // the WAL write happens before COMMIT returns. Only an OS crash can lose the tail.
        db.pragma_update(None, "synchronous", "NORMAL")?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        db.execute_batch(SCHEMA)?;
        let mut store = Store {
            db,
            generation: 0,
            accounts: BTreeMap::new(),
            by_kfid: HashMap::new(),
            tokens: HashMap::new(),
            media: HashMap::new(),
        };
        store.load()?;
        Ok(store)
    }

    fn load(&mut self) -> rusqlite::Result<()> {
        let mut stmt = self
            .db
            .prepare("SELECT seq, open_kfid, name, media_id, owner FROM accounts ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                AccountRow {
                    open_kfid: r.get(1)?,
                    name: r.get(2)?,
                    media_id: r.get(3)?,
                    owner: r.get(4)?,
                },
            ))
        })?;
        for row in rows {
            let (seq, account) = row?;
            self.by_kfid.insert(account.open_kfid.clone(), seq);
            self.accounts.insert(seq, account);
        }
        let mut stmt = self
            .db
            .prepare("SELECT token, agent, expires_at FROM tokens")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                TokenRow {
                    agent: r.get(1)?,
                    expires_at: r.get(2)?,
                },
            ))
        })?;
        for row in rows {
            let (token, row) = row?;
            self.tokens.insert(token, row);
        }
        let mut stmt = self
            .db
            .prepare("SELECT media_id, type, created_at FROM media")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (id, kind, created_at) = row?;
            if let Ok(media_type) = kind.parse() {
                self.media.insert(
                    id,
                    MediaRow {
                        media_type,
                        created_at,
                    },
                );
            }
        }
        Ok(())
    }

    /// Drop everything.
    pub fn reset(&mut self) -> Result<(), ErrCode> {
        self.generation += 1;
        self.db
            .execute_batch("DELETE FROM accounts; DELETE FROM tokens; DELETE FROM media;")
            .map_err(|e| busy(&e))?;
        self.accounts.clear();
        self.by_kfid.clear();
        self.tokens.clear();
        self.media.clear();
        Ok(())
    }

    // ---- accounts ----

    /// Changes so far to the accounts (a cache key for rendered pages).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Look an account up.
    pub fn account(&self, open_kfid: &str) -> Option<&AccountRow> {
        self.by_kfid
            .get(open_kfid)
            .and_then(|seq| self.accounts.get(seq))
    }

    /// Accounts in creation order, from `offset`, at most `limit`.
    pub fn accounts(&self, offset: usize, limit: usize) -> impl Iterator<Item = &AccountRow> {
        self.accounts.values().skip(offset).take(limit)
    }

    /// Insert an account; the caller has checked the cap under the same lock.
    pub fn insert_account(&mut self, account: AccountRow) -> Result<(), ErrCode> {
        self.generation += 1;
        self.db
            .prepare_cached(
                "INSERT INTO accounts (open_kfid, name, media_id, owner) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    account.open_kfid,
                    account.name,
                    account.media_id,
                    account.owner
                ])
            })
            .map_err(|e| busy(&e))?;
        let seq = self.db.last_insert_rowid();
        self.by_kfid.insert(account.open_kfid.clone(), seq);
        self.accounts.insert(seq, account);
        Ok(())
    }

    /// Change an account's name and/or avatar.
    pub fn update_account(
        &mut self,
        open_kfid: &str,
        name: Option<&str>,
        media_id: Option<&str>,
    ) -> Result<(), ErrCode> {
        self.generation += 1;
        let Some(&seq) = self.by_kfid.get(open_kfid) else {
            return Err(ErrCode::OPEN_KFID_NOT_EXIST);
        };
        self.db
            .prepare_cached("UPDATE accounts SET name = coalesce(?2, name), media_id = coalesce(?3, media_id) WHERE seq = ?1")
            .and_then(|mut s| s.execute(params![seq, name, media_id]))
            .map_err(|e| busy(&e))?;
        if let Some(row) = self.accounts.get_mut(&seq) {
            if let Some(name) = name {
                name.clone_into(&mut row.name);
            }
            if let Some(media_id) = media_id {
                media_id.clone_into(&mut row.media_id);
            }
        }
        Ok(())
    }

    /// Delete an account.
    pub fn delete_account(&mut self, open_kfid: &str) -> Result<(), ErrCode> {
        self.generation += 1;
        let Some(&seq) = self.by_kfid.get(open_kfid) else {
            return Err(ErrCode::OPEN_KFID_NOT_EXIST);
        };
        self.db
            .prepare_cached("DELETE FROM accounts WHERE seq = ?1")
            .and_then(|mut s| s.execute(params![seq]))
            .map_err(|e| busy(&e))?;
        self.accounts.remove(&seq);
        self.by_kfid.remove(open_kfid);
        Ok(())
    }

    // ---- tokens ----

    /// Look a token up.
    pub fn token(&self, token: &str) -> Option<TokenRow> {
        self.tokens.get(token).copied()
    }

    /// The newest token of `agent` that is still valid at `now`.
    pub fn valid_token_of(&self, agent: AgentId, now: i64) -> Option<(&str, TokenRow)> {
        self.tokens
            .iter()
            .filter(|(_, row)| row.agent == agent && row.expires_at > now)
            .max_by_key(|(_, row)| row.expires_at)
            .map(|(token, row)| (token.as_str(), *row))
    }

    /// Store a new token.
    pub fn insert_token(&mut self, token: String, row: TokenRow) -> Result<(), ErrCode> {
        self.db
            .prepare_cached("INSERT INTO tokens (token, agent, expires_at) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![token, row.agent, row.expires_at]))
            .map_err(|e| busy(&e))?;
        self.tokens.insert(token, row);
        Ok(())
    }

    /// Forget tokens (all of them, or one): the next call with them gets 40014.
    pub fn revoke_tokens(&mut self, only: Option<&str>) -> Result<usize, ErrCode> {
        let n = match only {
            Some(token) => self
                .db
                .execute("DELETE FROM tokens WHERE token = ?1", params![token]),
            None => self.db.execute("DELETE FROM tokens", []),
        }
        .map_err(|e| busy(&e))?;
        match only {
            Some(token) => {
                self.tokens.remove(token);
            }
            None => self.tokens.clear(),
        }
        Ok(n)
    }

    /// Make every token expire at `now`: the next call with them gets 42001.
    pub fn expire_tokens(&mut self, now: i64) -> Result<(), ErrCode> {
        self.db
            .execute(
                "UPDATE tokens SET expires_at = min(expires_at, ?1)",
                params![now],
            )
            .map_err(|e| busy(&e))?;
        for row in self.tokens.values_mut() {
            row.expires_at = row.expires_at.min(now);
        }
        Ok(())
    }

    // ---- media ----

    /// Metadata of an upload.
    pub fn media(&self, media_id: &str) -> Option<&MediaRow> {
        self.media.get(media_id)
    }

    /// Store an upload.
    pub fn insert_media(
        &mut self,
        media_id: &str,
        media_type: MediaType,
        filename: &str,
        content_type: &str,
        data: &[u8],
        created_at: i64,
    ) -> Result<(), ErrCode> {
        self.db
            .execute(
                "INSERT INTO media (media_id, type, filename, content_type, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![media_id, media_type.as_str(), filename, content_type, data, created_at],
            )
            .map_err(|e| busy(&e))?;
        self.media.insert(
            media_id.to_owned(),
            MediaRow {
                media_type,
                created_at,
            },
        );
        Ok(())
    }

    /// The bytes and content type of an upload (for serving avatars).
    pub fn media_bytes(&self, media_id: &str) -> Result<Option<(String, Vec<u8>)>, ErrCode> {
        self.db
            .query_row(
                "SELECT content_type, data FROM media WHERE media_id = ?1",
                params![media_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| busy(&e))
    }
}
