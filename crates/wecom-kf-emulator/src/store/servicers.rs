//! Table `servicers`: who serves each account, members with their serving status and
//! whole departments, in the order they were added.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::servicer::Target;

use super::{Store, busy};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS servicers (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    open_kfid TEXT NOT NULL,
    userid    TEXT,
    department_id INTEGER,
    status    INTEGER NOT NULL DEFAULT 0,
    stop_type INTEGER NOT NULL DEFAULT 0,
    UNIQUE (open_kfid, userid, department_id)
);";

/// A servicer of an account.
#[derive(Clone, Debug)]
pub struct ServicerRow {
    /// The account.
    pub open_kfid: String,
    /// The member or department.
    pub target: Target,
    /// 0 serving, 1 stopped (members only).
    pub status: u8,
    /// With status 1: 0 stopped, 1 suspended.
    pub stop_type: u8,
}

/// The mirror, in insertion order.
#[derive(Default)]
pub(super) struct Servicers(BTreeMap<i64, ServicerRow>);

fn columns(target: &Target) -> (Option<&str>, Option<u32>) {
    match target {
        Target::User { userid } => (Some(userid), None),
        Target::Department { department_id } => (None, Some(*department_id)),
    }
}

impl Servicers {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Servicers> {
        db.execute_batch(SCHEMA)?;
        let mut stmt = db.prepare(
            "SELECT seq, open_kfid, userid, department_id, status, stop_type FROM servicers",
        )?;
        let rows = stmt.query_map([], |r| {
            let userid: Option<String> = r.get(2)?;
            let department_id: Option<u32> = r.get(3)?;
            let target = match (userid, department_id) {
                (Some(userid), _) => Target::User { userid },
                (None, department_id) => Target::Department {
                    department_id: department_id.unwrap_or_default(),
                },
            };
            Ok((
                r.get::<_, i64>(0)?,
                ServicerRow {
                    open_kfid: r.get(1)?,
                    target,
                    status: r.get(4)?,
                    stop_type: r.get(5)?,
                },
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>().map(Servicers)
    }

    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

impl Store {
    /// The servicers of an account, in the order they were added.
    pub fn servicers(&self, open_kfid: &str) -> impl Iterator<Item = &ServicerRow> {
        self.servicers
            .0
            .values()
            .filter(move |row| row.open_kfid == open_kfid)
    }

    /// Whether `target` serves the account.
    pub fn is_servicer(&self, open_kfid: &str, target: &Target) -> bool {
        self.servicers(open_kfid).any(|row| &row.target == target)
    }

    /// Add a servicer, serving.
    pub fn insert_servicer(&mut self, open_kfid: &str, target: Target) -> Result<(), ErrCode> {
        let (userid, department_id) = columns(&target);
        self.db
            .prepare_cached(
                "INSERT INTO servicers (open_kfid, userid, department_id) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![open_kfid, userid, department_id]))
            .map_err(|e| busy(&e))?;
        let seq = self.db.last_insert_rowid();
        self.servicers.0.insert(
            seq,
            ServicerRow {
                open_kfid: open_kfid.to_owned(),
                target,
                status: 0,
                stop_type: 0,
            },
        );
        Ok(())
    }

    /// Remove a servicer.
    pub fn delete_servicer(&mut self, open_kfid: &str, target: &Target) -> Result<(), ErrCode> {
        let (userid, department_id) = columns(target);
        self.db
            .prepare_cached(
                "DELETE FROM servicers WHERE open_kfid = ?1 AND userid IS ?2 AND department_id IS ?3",
            )
            .and_then(|mut s| s.execute(params![open_kfid, userid, department_id]))
            .map_err(|e| busy(&e))?;
        self.servicers
            .0
            .retain(|_, row| !(row.open_kfid == open_kfid && &row.target == target));
        Ok(())
    }
}
