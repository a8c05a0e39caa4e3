//! Tables `customers`, `enters` and `upgrades`: the WeChat users who talk to the corp,
//! how each last entered a session, and the 升级服务 recommendations made to them.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use wecom_kf_types::ErrCode;

use super::{Store, exec};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS customers (
    external_userid TEXT PRIMARY KEY,
    nickname        TEXT NOT NULL,
    gender          INTEGER NOT NULL,
    unionid         TEXT NOT NULL,
    avatar          TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS enters (
    external_userid TEXT PRIMARY KEY,
    open_kfid       TEXT NOT NULL,
    scene           TEXT NOT NULL,
    scene_param     TEXT NOT NULL,
    entered_at      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS upgrades (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    open_kfid       TEXT NOT NULL,
    external_userid TEXT NOT NULL,
    kind            INTEGER NOT NULL,
    target          TEXT NOT NULL,
    wording         TEXT NOT NULL,
    made_at         INTEGER NOT NULL,
    cancelled       INTEGER NOT NULL DEFAULT 0
);";

/// A customer.
#[derive(Clone, Debug, Default)]
pub struct CustomerRow {
    /// WeChat nickname.
    pub nickname: String,
    /// 0 unknown, 1 male, 2 female.
    pub gender: u8,
    /// The unionid, or empty.
    pub unionid: String,
    /// Avatar URL, or empty.
    pub avatar: String,
    /// When the emulator first saw them.
    pub created_at: i64,
}

/// How a customer last entered a session.
#[derive(Clone, Debug)]
pub struct EnterRow {
    /// The account.
    pub open_kfid: String,
    /// The link's scene.
    pub scene: String,
    /// The link's scene_param.
    pub scene_param: String,
    /// When.
    pub entered_at: i64,
}

/// A 升级服务 recommendation.
#[derive(Clone, Debug)]
pub struct UpgradeRow {
    /// The account.
    pub open_kfid: String,
    /// The customer.
    pub external_userid: String,
    /// 1 a member, 2 a group chat.
    pub kind: u8,
    /// The userid or chat_id.
    pub target: String,
    /// What the customer was told.
    pub wording: String,
    /// When.
    pub made_at: i64,
    /// Whether it was withdrawn.
    pub cancelled: bool,
}

/// The mirror.
#[derive(Default)]
pub(super) struct Customers {
    profiles: HashMap<String, CustomerRow>,
    enters: HashMap<String, EnterRow>,
    upgrades: Vec<(i64, UpgradeRow)>,
}

impl Customers {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Customers> {
        db.execute_batch(SCHEMA)?;
        let mut stmt = db.prepare(
            "SELECT external_userid, nickname, gender, unionid, avatar, created_at FROM customers",
        )?;
        let customers = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    CustomerRow {
                        nickname: r.get(1)?,
                        gender: r.get(2)?,
                        unionid: r.get(3)?,
                        avatar: r.get(4)?,
                        created_at: r.get(5)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = db.prepare(
            "SELECT external_userid, open_kfid, scene, scene_param, entered_at FROM enters",
        )?;
        let enters = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    EnterRow {
                        open_kfid: r.get(1)?,
                        scene: r.get(2)?,
                        scene_param: r.get(3)?,
                        entered_at: r.get(4)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = db.prepare(
            "SELECT id, open_kfid, external_userid, kind, target, wording, made_at, cancelled \
             FROM upgrades ORDER BY id",
        )?;
        let upgrades = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    UpgradeRow {
                        open_kfid: r.get(1)?,
                        external_userid: r.get(2)?,
                        kind: r.get(3)?,
                        target: r.get(4)?,
                        wording: r.get(5)?,
                        made_at: r.get(6)?,
                        cancelled: r.get(7)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Customers {
            profiles: customers,
            enters,
            upgrades,
        })
    }

}

impl Store {
    /// A customer, by id.
    pub fn customer(&self, external_userid: &str) -> Option<&CustomerRow> {
        self.customers.profiles.get(external_userid)
    }

    /// Every customer, in no particular order.
    pub fn customers(&self) -> impl Iterator<Item = (&String, &CustomerRow)> {
        self.customers.profiles.iter()
    }

    /// Create or replace a customer.
    pub fn put_customer(&mut self, external_userid: &str, row: CustomerRow) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "INSERT OR REPLACE INTO customers (external_userid, nickname, gender, unionid, avatar, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                external_userid,
                row.nickname,
                row.gender,
                row.unionid,
                row.avatar,
                row.created_at
            ],
        )?;
        self.customers
            .profiles
            .insert(external_userid.to_owned(), row);
        Ok(())
    }

    /// How the customer last entered a session.
    pub fn last_enter(&self, external_userid: &str) -> Option<&EnterRow> {
        self.customers.enters.get(external_userid)
    }

    /// Record an entry, replacing the previous one.
    pub fn put_enter(&mut self, external_userid: &str, row: EnterRow) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "INSERT OR REPLACE INTO enters (external_userid, open_kfid, scene, scene_param, entered_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                external_userid,
                row.open_kfid,
                row.scene,
                row.scene_param,
                row.entered_at
            ],
        )?;
        self.customers
            .enters
            .insert(external_userid.to_owned(), row);
        Ok(())
    }

    /// Every recommendation, oldest first.
    pub fn upgrades(&self) -> impl Iterator<Item = &UpgradeRow> {
        self.customers.upgrades.iter().map(|(_, row)| row)
    }

    /// Record a recommendation.
    pub fn insert_upgrade(&mut self, row: UpgradeRow) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "INSERT INTO upgrades (open_kfid, external_userid, kind, target, wording, made_at, cancelled) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                row.open_kfid,
                row.external_userid,
                row.kind,
                row.target,
                row.wording,
                row.made_at,
                row.cancelled
            ],
        )?;
        let id = self.db.last_insert_rowid();
        self.customers.upgrades.push((id, row));
        Ok(())
    }

    /// Withdraw every standing recommendation to the customer from the account; answers
    /// how many there were.
    pub fn cancel_upgrades(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<usize, ErrCode> {
        let n = exec(
            &self.db,
            "UPDATE upgrades SET cancelled = 1 WHERE open_kfid = ?1 AND external_userid = ?2 AND cancelled = 0",
            params![open_kfid, external_userid],
        )?;
        for (_, row) in &mut self.customers.upgrades {
            if row.open_kfid == open_kfid && row.external_userid == external_userid {
                row.cancelled = true;
            }
        }
        Ok(n)
    }
}
