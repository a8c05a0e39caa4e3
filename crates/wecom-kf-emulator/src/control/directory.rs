//! `POST /__emulator/members` and `POST /__emulator/departments`: the corp directory
//! that servicers come from (docs/emulator-control.md, "Corp directory").

use serde::Deserialize;

use super::registry::Route;
use super::{Command, Done, Verb};
use crate::rejection::Rejection;
use crate::state::Emulator;
use crate::store::MemberRow;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<PutMember>(),
    Route::command::<PutDepartment>(),
];

fn yes() -> bool {
    true
}

/// `POST /__emulator/members`: create or replace a member. One who has not
/// `activated` WeCom is refused as a servicer (95014).
#[derive(Clone, Debug, Deserialize)]
pub struct PutMember {
    /// The member.
    #[serde(default)]
    pub userid: String,
    /// Their name.
    #[serde(default)]
    pub name: String,
    /// Their departments.
    #[serde(default)]
    pub department_id: Vec<u32>,
    /// Whether they activated WeCom (default `true`).
    #[serde(default = "yes")]
    pub activated: bool,
}

impl Default for PutMember {
    fn default() -> Self {
        PutMember {
            userid: String::new(),
            name: String::new(),
            department_id: Vec::new(),
            activated: true,
        }
    }
}

impl Command for PutMember {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/members";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        let row = MemberRow {
            name: self.name,
            department_ids: self.department_id,
            activated: self.activated,
        };
        emulator.world().put_member(&self.userid, row)?;
        Ok(Done {})
    }
}

/// `POST /__emulator/departments {"department_id","name"}`: add or rename one.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PutDepartment {
    /// Its id.
    #[serde(default)]
    pub department_id: u32,
    /// Its name.
    #[serde(default)]
    pub name: String,
}

impl Command for PutDepartment {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/departments";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator
            .world()
            .put_department(self.department_id, &self.name)?;
        Ok(Done {})
    }
}

impl Emulator {
    /// Add a member to the corp directory ([`PutMember`]).
    pub fn put_member(
        &self,
        userid: &str,
        name: &str,
        department_ids: &[u32],
        activated: bool,
    ) -> Result<(), Rejection> {
        self.apply(PutMember {
            userid: userid.to_owned(),
            name: name.to_owned(),
            department_id: department_ids.to_vec(),
            activated,
        })
        .map(drop)
    }

    /// Add or rename a department ([`PutDepartment`]).
    pub fn put_department(&self, department_id: u32, name: &str) -> Result<(), Rejection> {
        self.apply(PutDepartment {
            department_id,
            name: name.to_owned(),
        })
        .map(drop)
    }
}
