//! Tables `members` and `departments`: the corp directory, as the control plane sets it.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use wecom_kf_types::ErrCode;

use super::{Store, busy};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS members (
    userid         TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    department_ids TEXT NOT NULL,
    activated      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS departments (
    department_id INTEGER PRIMARY KEY,
    name          TEXT NOT NULL
);";

/// A member of the corp.
#[derive(Clone, Debug)]
pub struct MemberRow {
    /// 姓名.
    pub name: String,
    /// Departments the member belongs to.
    pub department_ids: Vec<u32>,
    /// Whether the member has activated WeCom (a servicer must have: 95014).
    pub activated: bool,
}

/// The mirror.
#[derive(Default)]
pub(super) struct Directory {
    members: HashMap<String, MemberRow>,
    departments: HashMap<u32, String>,
}

fn ids_text(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

impl Directory {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Directory> {
        db.execute_batch(SCHEMA)?;
        let mut directory = Directory::default();
        let mut stmt = db.prepare("SELECT userid, name, department_ids, activated FROM members")?;
        let rows = stmt.query_map([], |r| {
            let ids: String = r.get(2)?;
            Ok((
                r.get::<_, String>(0)?,
                MemberRow {
                    name: r.get(1)?,
                    department_ids: ids.split(',').filter_map(|d| d.parse().ok()).collect(),
                    activated: r.get(3)?,
                },
            ))
        })?;
        for row in rows {
            let (userid, member) = row?;
            directory.members.insert(userid, member);
        }
        let mut stmt = db.prepare("SELECT department_id, name FROM departments")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, name) = row?;
            directory.departments.insert(id, name);
        }
        Ok(directory)
    }

}

impl Store {
    /// A member, by userid.
    pub fn member(&self, userid: &str) -> Option<&MemberRow> {
        self.directory.members.get(userid)
    }

    /// Every member.
    pub fn members(&self) -> impl Iterator<Item = (&String, &MemberRow)> {
        self.directory.members.iter()
    }

    /// Whether the department exists.
    pub fn department_exists(&self, department_id: u32) -> bool {
        self.directory.departments.contains_key(&department_id)
    }

    /// Create or replace a member.
    pub fn put_member(&mut self, userid: &str, member: MemberRow) -> Result<(), ErrCode> {
        self.db
            .prepare_cached(
                "INSERT OR REPLACE INTO members (userid, name, department_ids, activated) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    userid,
                    member.name,
                    ids_text(&member.department_ids),
                    member.activated
                ])
            })
            .map_err(|e| busy(&e))?;
        self.directory.members.insert(userid.to_owned(), member);
        Ok(())
    }

    /// Create or rename a department.
    pub fn put_department(&mut self, department_id: u32, name: &str) -> Result<(), ErrCode> {
        self.db
            .prepare_cached(
                "INSERT OR REPLACE INTO departments (department_id, name) VALUES (?1, ?2)",
            )
            .and_then(|mut s| s.execute(params![department_id, name]))
            .map_err(|e| busy(&e))?;
        self.directory
            .departments
            .insert(department_id, name.to_owned());
        Ok(())
    }
}
