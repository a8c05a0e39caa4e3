//! `/cgi-bin/kf/customer/…`: who the customers are (`batchget`, docs/kf-api.md §4.10)
//! and 升级服务, handing a customer on to a member or a group chat (§4.13).

use serde::{Deserialize, Serialize};

use crate::limits::{CUSTOMER_BATCH_MAX, USERID_MAX_BYTES};
use crate::validate::{self, Invalid, Limit, Validated};
use crate::{Empty, Endpoint, ErrCode, Method};

use super::{validate_external_userid, validate_open_kfid};

/// `POST /cgi-bin/kf/customer/batchget`: up to 100 customers' profiles.
///
/// ```
/// use wecom_kf_types::kf::customer::BatchGetCustomers;
/// use wecom_kf_types::Endpoint;
///
/// assert!(BatchGetCustomers::new(["wmAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"]).validate().is_ok());
/// let too_many = BatchGetCustomers::new((0..101).map(|i| format!("wm{i}")));
/// assert_eq!(too_many.validate().unwrap_err().field, "external_userid_list");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchGetCustomers {
    /// The customers, 1 to 100.
    #[serde(default)]
    pub external_userid_list: Vec<String>,
    /// 1: also return how each customer last entered a session, within 48 hours.
    #[serde(default)]
    pub need_enter_session_context: u8,
}

impl BatchGetCustomers {
    /// The profiles of these customers.
    pub fn new(ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        BatchGetCustomers {
            external_userid_list: ids.into_iter().map(Into::into).collect(),
            need_enter_session_context: 0,
        }
    }

    /// Also return each customer's last enter-session context (scene, scene_param).
    #[must_use]
    pub fn with_enter_context(mut self) -> Self {
        self.need_enter_session_context = 1;
        self
    }
}

impl Endpoint for BatchGetCustomers {
    const PATH: &'static str = "/cgi-bin/kf/customer/batchget";
    const METHOD: Method = Method::Post;
    type Response = BatchGetCustomersResponse;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        let n = self.external_userid_list.len();
        validate::range(
            "external_userid_list",
            n as u64,
            1,
            CUSTOMER_BATCH_MAX as u64,
            ErrCode::INVALID_PARAMETER,
        )
        .map_err(|e| Invalid {
            given: format!("{n} entries"),
            ..e
        })?;
        for id in &self.external_userid_list {
            validate_external_userid("external_userid_list[]", id)?;
        }
        validate::range(
            "need_enter_session_context",
            self.need_enter_session_context.into(),
            0,
            1,
            ErrCode::INVALID_PARAMETER,
        )
    }
}

/// Answer of `kf/customer/batchget`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchGetCustomersResponse {
    /// The customers found.
    #[serde(default)]
    pub customer_list: Vec<Customer>,
    /// Ids that name no customer (not an error of the call).
    #[serde(default)]
    pub invalid_external_userid: Vec<String>,
}

impl BatchGetCustomersResponse {
    /// An answer.
    pub fn new(customer_list: Vec<Customer>, invalid_external_userid: Vec<String>) -> Self {
        BatchGetCustomersResponse {
            customer_list,
            invalid_external_userid,
        }
    }
}

/// A WeChat user who talks to the corp's accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// The customer's id (`wm…`).
    pub external_userid: String,
    /// WeChat nickname.
    #[serde(default)]
    pub nickname: String,
    /// Avatar URL (absent for third-party apps).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub avatar: String,
    /// 0 unknown, 1 male, 2 female.
    #[serde(default)]
    pub gender: u8,
    /// The unionid, when a WeChat developer account is bound.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unionid: String,
    /// How the customer last entered a session (asked for, within 48 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enter_session_context: Option<EnterSessionContext>,
}

impl Customer {
    /// A customer.
    pub fn new(external_userid: impl Into<String>, nickname: impl Into<String>) -> Self {
        Customer {
            external_userid: external_userid.into(),
            nickname: nickname.into(),
            ..Customer::default()
        }
    }
}

/// Where a customer came from: the link's scene and scene_param.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnterSessionContext {
    /// The `scene` of the contact link.
    #[serde(default)]
    pub scene: String,
    /// The `scene_param` appended to the link.
    #[serde(default)]
    pub scene_param: String,
    /// Set when the customer came from a 视频号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat_channels: Option<WechatChannels>,
}

impl EnterSessionContext {
    /// A context.
    pub fn new(scene: impl Into<String>, scene_param: impl Into<String>) -> Self {
        EnterSessionContext {
            scene: scene.into(),
            scene_param: scene_param.into(),
            wechat_channels: None,
        }
    }
}

/// The 视频号 a customer came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WechatChannels {
    /// The 视频号's name.
    #[serde(default)]
    pub nickname: String,
    /// 1 profile page, 2 live stream, 3 short video (as the doc lists them).
    #[serde(default)]
    pub scene: u8,
}

/// `GET /cgi-bin/kf/customer/get_upgrade_service_config`: the members and group chats
/// a customer may be handed on to (set in the admin console).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetUpgradeServiceConfig {}

impl Endpoint for GetUpgradeServiceConfig {
    const PATH: &'static str = "/cgi-bin/kf/customer/get_upgrade_service_config";
    const METHOD: Method = Method::Get;
    type Response = UpgradeServiceConfig;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        Ok(())
    }
}

/// Answer of `kf/customer/get_upgrade_service_config`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpgradeServiceConfig {
    /// Members (and departments of members) who offer 专员服务.
    #[serde(default)]
    pub member_range: MemberRange,
    /// Group chats that offer 客户群.
    #[serde(default)]
    pub groupchat_range: GroupchatRange,
}

/// The members of [`UpgradeServiceConfig`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemberRange {
    /// Members.
    #[serde(default)]
    pub userid_list: Vec<String>,
    /// Departments, every member of which is in range.
    #[serde(default)]
    pub department_id_list: Vec<u32>,
}

/// The group chats of [`UpgradeServiceConfig`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupchatRange {
    /// Group chat ids.
    #[serde(default)]
    pub chat_id_list: Vec<String>,
}

impl UpgradeServiceConfig {
    /// A configuration.
    pub fn new(userids: Vec<String>, department_ids: Vec<u32>, chat_ids: Vec<String>) -> Self {
        UpgradeServiceConfig {
            member_range: MemberRange {
                userid_list: userids,
                department_id_list: department_ids,
            },
            groupchat_range: GroupchatRange {
                chat_id_list: chat_ids,
            },
        }
    }
}

/// The member a customer is recommended to (`type` 1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpgradeMember {
    /// The member.
    pub userid: String,
    /// What the customer is told.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub wording: String,
}

/// The group chat a customer is invited to (`type` 2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpgradeGroupchat {
    /// The group chat.
    pub chat_id: String,
    /// What the customer is told.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub wording: String,
}

/// `POST /cgi-bin/kf/customer/upgrade_service`: recommend a member (专员服务) or a group
/// chat (客户群) to a customer who consulted in the last 48 hours (else 95031).
///
/// ```
/// use wecom_kf_types::kf::customer::UpgradeService;
/// use wecom_kf_types::Endpoint;
///
/// let req = UpgradeService::to_member("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", "wmq", "zhangsan", "我是你的专属顾问");
/// assert!(req.validate().is_ok());
/// assert_eq!(serde_json::to_value(&req).unwrap()["type"], 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpgradeService {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// 1 a member, 2 a group chat.
    #[serde(default, rename = "type")]
    pub kind: u8,
    /// With `type` 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<UpgradeMember>,
    /// With `type` 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groupchat: Option<UpgradeGroupchat>,
}

impl UpgradeService {
    /// Recommend the member `userid` to the customer.
    pub fn to_member(
        open_kfid: impl Into<String>,
        external_userid: impl Into<String>,
        userid: impl Into<String>,
        wording: impl Into<String>,
    ) -> Self {
        UpgradeService {
            open_kfid: open_kfid.into(),
            external_userid: external_userid.into(),
            kind: 1,
            member: Some(UpgradeMember {
                userid: userid.into(),
                wording: wording.into(),
            }),
            groupchat: None,
        }
    }

    /// Invite the customer to the group chat `chat_id`.
    pub fn to_groupchat(
        open_kfid: impl Into<String>,
        external_userid: impl Into<String>,
        chat_id: impl Into<String>,
        wording: impl Into<String>,
    ) -> Self {
        UpgradeService {
            open_kfid: open_kfid.into(),
            external_userid: external_userid.into(),
            kind: 2,
            member: None,
            groupchat: Some(UpgradeGroupchat {
                chat_id: chat_id.into(),
                wording: wording.into(),
            }),
        }
    }
}

impl Endpoint for UpgradeService {
    const PATH: &'static str = "/cgi-bin/kf/customer/upgrade_service";
    const METHOD: Method = Method::Post;
    type Response = Empty;

    /// Recommending the same member twice leaves the same recommendation.
    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        validate_external_userid("external_userid", &self.external_userid)?;
        let missing = |field| Invalid {
            field,
            limit: Limit::Required,
            given: format!("nothing, with type {}", self.kind),
            errcode: ErrCode::INVALID_PARAMETER,
        };
        match self.kind {
            1 => {
                let member = self.member.as_ref().ok_or_else(|| missing("member"))?;
                validate::required_bytes(
                    "member.userid",
                    &member.userid,
                    USERID_MAX_BYTES,
                    ErrCode::INVALID_PARAMETER,
                    ErrCode::INVALID_PARAMETER,
                )
            }
            2 => {
                let chat = self
                    .groupchat
                    .as_ref()
                    .ok_or_else(|| missing("groupchat"))?;
                validate::required_bytes(
                    "groupchat.chat_id",
                    &chat.chat_id,
                    USERID_MAX_BYTES,
                    ErrCode::INVALID_PARAMETER,
                    ErrCode::INVALID_PARAMETER,
                )
            }
            other => validate::range("type", other.into(), 1, 2, ErrCode::INVALID_PARAMETER),
        }
    }
}

/// `POST /cgi-bin/kf/customer/cancel_upgrade_service`: withdraw a recommendation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CancelUpgradeService {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
}

impl CancelUpgradeService {
    /// Withdraw the recommendation made to `external_userid`.
    pub fn new(open_kfid: impl Into<String>, external_userid: impl Into<String>) -> Self {
        CancelUpgradeService {
            open_kfid: open_kfid.into(),
            external_userid: external_userid.into(),
        }
    }
}

impl Endpoint for CancelUpgradeService {
    const PATH: &'static str = "/cgi-bin/kf/customer/cancel_upgrade_service";
    const METHOD: Method = Method::Post;
    type Response = Empty;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        validate_external_userid("external_userid", &self.external_userid)
    }
}
