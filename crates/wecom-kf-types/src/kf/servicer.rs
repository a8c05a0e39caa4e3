//! `/cgi-bin/kf/servicer/{add,del,list}`: the people who serve an account
//! (docs/kf-api.md §4.1–4.3).
//!
//! Adding and removing answer per item: each userid or department has its own errcode,
//! and the call's errcode is 0 even when every item failed.

use serde::{Deserialize, Serialize};

use crate::limits::{SERVICER_LIST_MAX, USERID_MAX_BYTES};
use crate::validate::{self, Invalid, Limit, Validated};
use crate::{Endpoint, ErrCode, Method};

use super::validate_open_kfid;

/// Who an item of a servicer list is: a member, or a whole department.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// A member, by userid (open_userid for third-party apps).
    User {
        /// The member's userid.
        userid: String,
    },
    /// Every member of a department.
    Department {
        /// The department's id.
        department_id: u32,
    },
}

/// One item's result in `result_list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemResult {
    /// The member or department.
    #[serde(flatten)]
    pub target: Target,
    /// 0 when it was done or already so; the item's own error otherwise (60111 unknown
    /// userid, 60123 unknown department, 95014 not activated).
    pub errcode: ErrCode,
    /// `"success"`, `"ignored"` (already so), or what went wrong.
    #[serde(default)]
    pub errmsg: String,
}

impl ItemResult {
    /// A result.
    pub fn new(target: Target, errcode: ErrCode, errmsg: impl Into<String>) -> Self {
        ItemResult {
            target,
            errcode,
            errmsg: errmsg.into(),
        }
    }

    /// Done, or nothing to do (it already was so).
    pub fn is_ok(&self) -> bool {
        self.errcode.is_ok()
    }

    /// Nothing was changed because it already was so (`errmsg` `"ignored"`).
    pub fn is_ignored(&self) -> bool {
        self.errcode.is_ok() && self.errmsg == "ignored"
    }
}

/// Answer of `kf/servicer/add` and `kf/servicer/del`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemResults {
    /// One result per item sent.
    #[serde(default)]
    pub result_list: Vec<ItemResult>,
}

impl ItemResults {
    /// An answer.
    pub fn new(result_list: Vec<ItemResult>) -> Self {
        ItemResults { result_list }
    }
}

/// The body of `kf/servicer/add` and `kf/servicer/del`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServicerChange {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// Members, at most 100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userid_list: Vec<String>,
    /// Departments, at most 100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub department_id_list: Vec<u32>,
}

impl ServicerChange {
    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        if self.userid_list.is_empty() && self.department_id_list.is_empty() {
            return Err(Invalid {
                field: "userid_list/department_id_list",
                limit: Limit::Required,
                given: "two empty lists".into(),
                errcode: ErrCode::INVALID_PARAMETER,
            });
        }
        for (field, len) in [
            ("userid_list", self.userid_list.len()),
            ("department_id_list", self.department_id_list.len()),
        ] {
            validate::range(
                field,
                len as u64,
                0,
                SERVICER_LIST_MAX as u64,
                ErrCode::INVALID_PARAMETER,
            )
            .map_err(|e| Invalid {
                given: format!("{len} entries"),
                ..e
            })?;
        }
        for userid in &self.userid_list {
            validate::required_bytes(
                "userid_list[]",
                userid,
                USERID_MAX_BYTES,
                ErrCode::INVALID_PARAMETER,
                ErrCode::INVALID_PARAMETER,
            )?;
        }
        Ok(())
    }
}

macro_rules! servicer_change {
    ($(#[$doc:meta])* $name:ident, $path:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The account and the members and departments.
            #[serde(flatten)]
            pub change: ServicerChange,
        }

        impl $name {
            /// A change of `open_kfid`'s servicers: members by userid, departments by id.
            pub fn new(
                open_kfid: impl Into<String>,
                userids: impl IntoIterator<Item = impl Into<String>>,
                department_ids: impl IntoIterator<Item = u32>,
            ) -> Self {
                $name {
                    change: ServicerChange {
                        open_kfid: open_kfid.into(),
                        userid_list: userids.into_iter().map(Into::into).collect(),
                        department_id_list: department_ids.into_iter().collect(),
                    },
                }
            }
        }

        impl Endpoint for $name {
            const PATH: &'static str = $path;
            const METHOD: Method = Method::Post;
            type Response = ItemResults;

            /// Doing it twice leaves the same servicers; the second answers "ignored".
            fn idempotent(&self) -> bool {
                true
            }

            fn validate(&self) -> Validated {
                self.change.validate()
            }
        }
    };
}

servicer_change!(
    /// `POST /cgi-bin/kf/servicer/add`: add members and departments as servicers.
    ///
    /// ```
    /// use wecom_kf_types::kf::servicer::AddServicers;
    /// use wecom_kf_types::Endpoint;
    ///
    /// let req = AddServicers::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", ["zhangsan"], [2]);
    /// assert!(req.validate().is_ok());
    /// let none = AddServicers::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", Vec::<String>::new(), []);
    /// assert!(none.validate().is_err());
    /// ```
    AddServicers,
    "/cgi-bin/kf/servicer/add"
);

servicer_change!(
    /// `POST /cgi-bin/kf/servicer/del`: remove members and departments.
    DeleteServicers,
    "/cgi-bin/kf/servicer/del"
);

/// `GET /cgi-bin/kf/servicer/list?open_kfid=…`: the servicers of an account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListServicers {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
}

impl ListServicers {
    /// The servicers of `open_kfid`.
    pub fn new(open_kfid: impl Into<String>) -> Self {
        ListServicers {
            open_kfid: open_kfid.into(),
        }
    }
}

impl Endpoint for ListServicers {
    const PATH: &'static str = "/cgi-bin/kf/servicer/list";
    const METHOD: Method = Method::Get;
    type Response = ListServicersResponse;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)
    }
}

/// Answer of `kf/servicer/list`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListServicersResponse {
    /// Members (with their serving status) and departments.
    #[serde(default)]
    pub servicer_list: Vec<Servicer>,
}

impl ListServicersResponse {
    /// An answer.
    pub fn new(servicer_list: Vec<Servicer>) -> Self {
        ListServicersResponse { servicer_list }
    }
}

/// One entry of `servicer_list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Servicer {
    /// The member or department.
    #[serde(flatten)]
    pub target: Target,
    /// Members only, and only for an app that manages the account: 0 serving (接待中),
    /// 1 stopped (停止接待). Note the `servicer_status_change` event encodes it 1/2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u8>,
    /// With status 1: 0 stopped, 1 suspended (暂时挂起).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_type: Option<u8>,
}

impl Servicer {
    /// An entry.
    pub fn new(target: Target, status: Option<u8>, stop_type: Option<u8>) -> Self {
        Servicer {
            target,
            status,
            stop_type,
        }
    }
}
