//! Tables `servicers` and `servicer_status`: who serves each account (members and
//! whole departments, in the order they were added), and each member's serving status
//! per account (a member serving through a department has one too).

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, params};
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::servicer::Target;

use super::{Store, busy, exec};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS servicers (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    open_kfid TEXT NOT NULL,
    userid    TEXT,
    department_id INTEGER,
    UNIQUE (open_kfid, userid, department_id)
);
CREATE TABLE IF NOT EXISTS servicer_status (
    open_kfid TEXT NOT NULL,
    userid    TEXT NOT NULL,
    status    INTEGER NOT NULL,
    stop_type INTEGER NOT NULL,
    PRIMARY KEY (open_kfid, userid)
);";

/// A servicer of an account.
#[derive(Clone, Debug)]
pub struct ServicerRow {
    /// The account.
    pub open_kfid: String,
    /// The member or department.
    pub target: Target,
}

/// A member's serving status on an account; absent means serving.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServingStatus {
    /// 0 serving, 1 stopped.
    pub status: u8,
    /// With status 1: 0 stopped, 1 suspended.
    pub stop_type: u8,
}

/// The mirror: servicers in insertion order, and the statuses.
#[derive(Default)]
pub(super) struct Servicers {
    rows: BTreeMap<i64, ServicerRow>,
    status: HashMap<(String, String), ServingStatus>,
}

fn columns(target: &Target) -> (Option<&str>, Option<u32>) {
    match target {
        Target::User { userid } => (Some(userid), None),
        Target::Department { department_id } => (None, Some(*department_id)),
    }
}

impl Servicers {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Servicers> {
        db.execute_batch(SCHEMA)?;
        let mut stmt = db.prepare("SELECT seq, open_kfid, userid, department_id FROM servicers")?;
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
                },
            ))
        })?;
        let rows = rows.collect::<rusqlite::Result<_>>()?;
        let mut stmt =
            db.prepare("SELECT open_kfid, userid, status, stop_type FROM servicer_status")?;
        let status = stmt
            .query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?),
                    ServingStatus {
                        status: r.get(2)?,
                        stop_type: r.get(3)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Servicers { rows, status })
    }

}

impl Store {
    /// The servicers of an account, in the order they were added.
    pub fn servicers(&self, open_kfid: &str) -> impl Iterator<Item = &ServicerRow> {
        self.servicers
            .rows
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
        self.servicers.rows.insert(
            seq,
            ServicerRow {
                open_kfid: open_kfid.to_owned(),
                target,
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
            .rows
            .retain(|_, row| !(row.open_kfid == open_kfid && &row.target == target));
        Ok(())
    }

    /// A member's serving status on an account (serving unless set).
    pub fn serving_status(&self, open_kfid: &str, userid: &str) -> ServingStatus {
        self.servicers
            .status
            .get(&(open_kfid.to_owned(), userid.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    /// Set a member's serving status on an account.
    pub fn put_serving_status(
        &mut self,
        open_kfid: &str,
        userid: &str,
        status: ServingStatus,
    ) -> Result<(), ErrCode> {
        exec(
            &self.db,
            "INSERT OR REPLACE INTO servicer_status (open_kfid, userid, status, stop_type) VALUES (?1, ?2, ?3, ?4)",
            params![open_kfid, userid, status.status, status.stop_type],
        )?;
        self.servicers
            .status
            .insert((open_kfid.to_owned(), userid.to_owned()), status);
        Ok(())
    }
}
