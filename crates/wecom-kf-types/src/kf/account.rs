//! `/cgi-bin/kf/account/{add,del,update,list}` (docs/kf-api.md §3.1–3.4).

use serde::{Deserialize, Serialize};

use crate::limits::{ACCOUNT_NAME_MAX_CHARS, LIST_LIMIT_MAX, LIST_LIMIT_MIN, MEDIA_ID_MAX_BYTES};
use crate::validate::{self, Validated};
use crate::{Empty, Endpoint, ErrCode, Method};

use super::validate_open_kfid;

/// Check a kf account `name`: 1–16 characters (95006 otherwise).
pub fn validate_name(name: &str) -> Validated {
    validate::chars(
        "name",
        name,
        1,
        ACCOUNT_NAME_MAX_CHARS,
        ErrCode::INVALID_KF_ACCOUNT_NAME,
    )
}

/// Check an avatar `media_id`: present, ≤ 128 bytes.
pub fn validate_media_id(media_id: &str) -> Validated {
    validate::required_bytes(
        "media_id",
        media_id,
        MEDIA_ID_MAX_BYTES,
        ErrCode::MEDIA_ID_MISSING,
        ErrCode::INVALID_PARAMETER,
    )
}

/// `POST /cgi-bin/kf/account/add`: create a kf account with a name and an avatar.
///
/// ```
/// use wecom_kf_types::kf::account::AddAccount;
/// use wecom_kf_types::Endpoint;
///
/// let req = AddAccount::new("售后客服", "MEDIA_ID");
/// assert!(req.validate().is_ok());
/// assert!(AddAccount::new("名".repeat(17), "MEDIA_ID").validate().is_err());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddAccount {
    /// 客服名称, 1–16 characters.
    #[serde(default)]
    pub name: String,
    /// Avatar: a `media_id` from `media/upload`, ≤ 128 bytes.
    #[serde(default)]
    pub media_id: String,
}

impl AddAccount {
    /// An account named `name` with the avatar `media_id`.
    pub fn new(name: impl Into<String>, media_id: impl Into<String>) -> Self {
        AddAccount {
            name: name.into(),
            media_id: media_id.into(),
        }
    }
}

impl Endpoint for AddAccount {
    const PATH: &'static str = "/cgi-bin/kf/account/add";
    const METHOD: Method = Method::Post;
    type Response = AddAccountResponse;

    /// Adding twice creates two accounts.
    fn idempotent(&self) -> bool {
        false
    }

    fn outcome_unknown_hint(&self) -> &'static str {
        "it may have been created: look for the name with account list (kf/account/list) before adding it again"
    }

    fn validate(&self) -> Validated {
        validate_name(&self.name)?;
        validate_media_id(&self.media_id)
    }
}

/// Answer of `kf/account/add`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddAccountResponse {
    /// The new account's id.
    pub open_kfid: String,
}

impl AddAccountResponse {
    /// An add answer.
    pub fn new(open_kfid: impl Into<String>) -> Self {
        AddAccountResponse {
            open_kfid: open_kfid.into(),
        }
    }
}

/// `POST /cgi-bin/kf/account/del`: delete a kf account.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteAccount {
    /// The account, ≤ 64 bytes.
    #[serde(default)]
    pub open_kfid: String,
}

impl DeleteAccount {
    /// Delete `open_kfid`.
    pub fn new(open_kfid: impl Into<String>) -> Self {
        DeleteAccount {
            open_kfid: open_kfid.into(),
        }
    }
}

impl Endpoint for DeleteAccount {
    const PATH: &'static str = "/cgi-bin/kf/account/del";
    const METHOD: Method = Method::Post;
    type Response = Empty;

    /// Deleting twice leaves the same state; the second answer is 95004, which counts
    /// as done when an earlier attempt's outcome was unknown.
    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)
    }

    fn already_done(&self, code: ErrCode) -> Option<Empty> {
        (code == ErrCode::OPEN_KFID_NOT_EXIST).then_some(Empty {})
    }
}

/// `POST /cgi-bin/kf/account/update`: rename an account and/or change its avatar.
///
/// ```
/// use wecom_kf_types::kf::account::UpdateAccount;
///
/// let req = UpdateAccount::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw").name("新名字");
/// assert_eq!(serde_json::to_string(&req).unwrap(),
///            r#"{"open_kfid":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw","name":"新名字"}"#);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateAccount {
    /// The account, ≤ 64 bytes.
    #[serde(default)]
    pub open_kfid: String,
    /// New name (1–16 characters); omitted to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New avatar `media_id` (≤ 128 bytes); omitted to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
}

impl UpdateAccount {
    /// An update of `open_kfid` that changes nothing yet.
    pub fn new(open_kfid: impl Into<String>) -> Self {
        UpdateAccount {
            open_kfid: open_kfid.into(),
            name: None,
            media_id: None,
        }
    }

    /// Set a new name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Set a new avatar.
    #[must_use]
    pub fn media_id(mut self, media_id: impl Into<String>) -> Self {
        self.media_id = Some(media_id.into());
        self
    }
}

impl Endpoint for UpdateAccount {
    const PATH: &'static str = "/cgi-bin/kf/account/update";
    const METHOD: Method = Method::Post;
    type Response = Empty;

    /// Setting the same name and avatar twice leaves the same state.
    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        if let Some(name) = &self.name {
            validate_name(name)?;
        }
        if let Some(media_id) = &self.media_id {
            validate_media_id(media_id)?;
        }
        Ok(())
    }
}

/// `POST /cgi-bin/kf/account/list`: one page of accounts.
///
/// Paging rule from the doc: stop when a page has fewer items than `limit`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListAccounts {
    /// 0-based offset.
    #[serde(default)]
    pub offset: u32,
    /// Page size, 1–100 (default 100).
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_limit() -> u32 {
    LIST_LIMIT_MAX
}

impl Default for ListAccounts {
    fn default() -> Self {
        ListAccounts {
            offset: 0,
            limit: LIST_LIMIT_MAX,
        }
    }
}

impl ListAccounts {
    /// The page at `offset` of at most `limit` accounts.
    pub fn page(offset: u32, limit: u32) -> Self {
        ListAccounts { offset, limit }
    }
}

impl Endpoint for ListAccounts {
    const PATH: &'static str = "/cgi-bin/kf/account/list";
    const METHOD: Method = Method::Post;
    type Response = ListAccountsResponse;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate::range(
            "limit",
            u64::from(self.limit),
            u64::from(LIST_LIMIT_MIN),
            u64::from(LIST_LIMIT_MAX),
            ErrCode::INVALID_PARAMETER,
        )
    }
}

/// Answer of `kf/account/list`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ListAccountsResponse {
    /// This page's accounts.
    #[serde(default)]
    pub account_list: Vec<Account>,
}

impl ListAccountsResponse {
    /// A page answer.
    pub fn new(account_list: Vec<Account>) -> Self {
        ListAccountsResponse { account_list }
    }
}

/// One kf account as `list` returns it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Account {
    /// 客服账号ID.
    pub open_kfid: String,
    /// 客服名称.
    pub name: String,
    /// 客服头像 URL.
    #[serde(default)]
    pub avatar: String,
    /// Whether the calling app may manage this account (edit it, route sessions,
    /// send messages). Not returned to 微信客服组件 apps, hence `Option`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_privilege: Option<bool>,
}

impl Account {
    /// An account as listed.
    pub fn new(
        open_kfid: impl Into<String>,
        name: impl Into<String>,
        avatar: impl Into<String>,
        manage_privilege: Option<bool>,
    ) -> Self {
        Account {
            open_kfid: open_kfid.into(),
            name: name.into(),
            avatar: avatar.into(),
            manage_privilege,
        }
    }
}
