//! Table `accounts`: the kf accounts, in creation order.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, params};
use wecom_kf_types::ErrCode;

use super::{AgentId, Store, busy};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    open_kfid TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    media_id  TEXT NOT NULL,
    owner     INTEGER
);";

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

/// The mirror.
#[derive(Default)]
pub(super) struct Accounts {
    /// Bumped by every change: lets readers cache what they render.
    generation: u64,
    rows: BTreeMap<i64, AccountRow>,
    by_kfid: HashMap<String, i64>,
}

impl Accounts {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Accounts> {
        db.execute_batch(SCHEMA)?;
        let mut accounts = Accounts::default();
        let mut stmt =
            db.prepare("SELECT seq, open_kfid, name, media_id, owner FROM accounts ORDER BY seq")?;
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
            accounts.by_kfid.insert(account.open_kfid.clone(), seq);
            accounts.rows.insert(seq, account);
        }
        Ok(accounts)
    }

    /// After a reset: the generation moves on from `before`, so a page rendered
    /// before it is never served after.
    pub(super) fn move_past(&mut self, before: u64) {
        self.generation = before + 1;
    }
}

impl Store {
    /// Changes so far to the accounts (a cache key for rendered pages).
    pub fn account_generation(&self) -> u64 {
        self.accounts.generation
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.rows.len()
    }

    /// Look an account up.
    pub fn account(&self, open_kfid: &str) -> Option<&AccountRow> {
        self.accounts
            .by_kfid
            .get(open_kfid)
            .and_then(|seq| self.accounts.rows.get(seq))
    }

    /// Accounts in creation order, from `offset`, at most `limit`.
    pub fn accounts(&self, offset: usize, limit: usize) -> impl Iterator<Item = &AccountRow> {
        self.accounts.rows.values().skip(offset).take(limit)
    }

    /// Insert an account; the caller has checked the cap under the same lock.
    pub fn insert_account(&mut self, account: AccountRow) -> Result<(), ErrCode> {
        self.accounts.generation += 1;
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
        self.accounts.by_kfid.insert(account.open_kfid.clone(), seq);
        self.accounts.rows.insert(seq, account);
        Ok(())
    }

    /// Change an account's name and/or avatar.
    pub fn update_account(
        &mut self,
        open_kfid: &str,
        name: Option<&str>,
        media_id: Option<&str>,
    ) -> Result<(), ErrCode> {
        self.accounts.generation += 1;
        let Some(&seq) = self.accounts.by_kfid.get(open_kfid) else {
            return Err(ErrCode::OPEN_KFID_NOT_EXIST);
        };
        self.db
            .prepare_cached("UPDATE accounts SET name = coalesce(?2, name), media_id = coalesce(?3, media_id) WHERE seq = ?1")
            .and_then(|mut s| s.execute(params![seq, name, media_id]))
            .map_err(|e| busy(&e))?;
        if let Some(row) = self.accounts.rows.get_mut(&seq) {
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
        self.accounts.generation += 1;
        let Some(&seq) = self.accounts.by_kfid.get(open_kfid) else {
            return Err(ErrCode::OPEN_KFID_NOT_EXIST);
        };
        self.db
            .prepare_cached("DELETE FROM accounts WHERE seq = ?1")
            .and_then(|mut s| s.execute(params![seq]))
            .map_err(|e| busy(&e))?;
        self.accounts.rows.remove(&seq);
        self.accounts.by_kfid.remove(open_kfid);
        Ok(())
    }
}
