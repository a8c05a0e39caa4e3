//! The events (`msgtype` `event`, origin 4): one struct per `event_type`, and
//! [`Event`], tagged by it.

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ChangeType, FailType, ServingChange};

/// `enter_session`: the customer opened the chat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnterSession {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The `scene` of the link they came by.
    #[serde(default)]
    pub scene: String,
    /// Its `scene_param`.
    #[serde(default)]
    pub scene_param: String,
    /// For a welcome with `kf/send_msg_on_event`, valid 20 s: only when the customer
    /// got no welcome in 48 h and has not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome_code: Option<String>,
    /// When they came from 视频号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat_channels: Option<WechatChannels>,
}

impl EnterSession {
    /// The customer came by a link with this `scene` and `scene_param`.
    pub fn new(scene: impl Into<String>, scene_param: impl Into<String>) -> Self {
        EnterSession {
            scene: scene.into(),
            scene_param: scene_param.into(),
            ..EnterSession::default()
        }
    }
}

/// Where in 视频号 a customer came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WechatChannels {
    /// The 视频号's name.
    #[serde(default)]
    pub nickname: String,
    /// The 小店's name.
    #[serde(default)]
    pub shop_nickname: String,
    /// 1 主页, 2 直播间商品列表, 3 商品橱窗, 4 小店商品详情, 5 小店订单.
    #[serde(default)]
    pub scene: u32,
}

/// `msg_send_fail`: a message the app sent was not delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MsgSendFail {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The msgid `kf/send_msg` answered.
    #[serde(default)]
    pub fail_msgid: String,
    /// Why.
    pub fail_type: FailType,
}

impl MsgSendFail {
    /// The message `fail_msgid` was not delivered, for this reason.
    pub fn new(fail_msgid: impl Into<String>, fail_type: FailType) -> Self {
        MsgSendFail {
            open_kfid: String::new(),
            external_userid: String::new(),
            fail_msgid: fail_msgid.into(),
            fail_type,
        }
    }
}

/// `servicer_status_change`: a servicer started or stopped serving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServicerStatusChange {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The servicer.
    #[serde(default)]
    pub servicer_userid: String,
    /// 1 serving, 2 stopped (not the 0/1 of `kf/servicer/list`).
    pub status: ServingChange,
    /// With status 2: 0 stopped (停止接待), 1 suspended (暂时挂起).
    #[serde(default)]
    pub stop_type: u8,
}

impl ServicerStatusChange {
    /// `servicer_userid` now serves, or stopped (`stop_type` 0) or is suspended (1).
    pub fn new(servicer_userid: impl Into<String>, status: ServingChange, stop_type: u8) -> Self {
        ServicerStatusChange {
            open_kfid: String::new(),
            servicer_userid: servicer_userid.into(),
            status,
            stop_type,
        }
    }
}

/// `session_status_change`: a servicer moved a session in the WeCom app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionStatusChange {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// What happened.
    pub change_type: ChangeType,
    /// Who served it before (types 2, 3, 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_servicer_userid: Option<String>,
    /// Who serves it now (types 1, 2, 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_servicer_userid: Option<String>,
    /// For `kf/send_msg_on_event` (types 1 and 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_code: Option<String>,
}

impl SessionStatusChange {
    /// A move of this kind, with no servicers or code named yet.
    pub fn new(change_type: ChangeType) -> Self {
        SessionStatusChange {
            open_kfid: String::new(),
            external_userid: String::new(),
            change_type,
            old_servicer_userid: None,
            new_servicer_userid: None,
            msg_code: None,
        }
    }
}

/// `user_recall_msg` (the customer) and `servicer_recall_msg` (a servicer): a message
/// was recalled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecallMsg {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The message recalled.
    #[serde(default)]
    pub recall_msgid: String,
    /// The servicer, in `servicer_recall_msg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicer_userid: Option<String>,
}

impl RecallMsg {
    /// `recall_msgid` was recalled (by a servicer if `servicer_userid` is set).
    pub fn new(recall_msgid: impl Into<String>) -> Self {
        RecallMsg {
            recall_msgid: recall_msgid.into(),
            ..RecallMsg::default()
        }
    }
}

/// `reject_customer_msg_switch_change`: a servicer rejects (1) or accepts again (0)
/// a customer's messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RejectSwitchChange {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The servicer.
    #[serde(default)]
    pub servicer_userid: String,
    /// 1 rejecting, 0 cancelled.
    #[serde(default)]
    pub reject_switch: u8,
}

impl RejectSwitchChange {
    /// `servicer_userid` rejects (`true`) or accepts again the customer's messages.
    pub fn new(servicer_userid: impl Into<String>, reject: bool) -> Self {
        RejectSwitchChange {
            servicer_userid: servicer_userid.into(),
            reject_switch: u8::from(reject),
            ..RejectSwitchChange::default()
        }
    }
}

/// `event_type` and its fields. See the module docs.
macro_rules! events {
    ($( $(#[$doc:meta])* $variant:ident($ty:ty) = $wire:literal, )*) => {
        /// An event (`msgtype` `event`, origin 4), tagged by `event_type`.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$doc])* $variant($ty), )*
            /// An `event_type` this version does not know, or fields that do not fit
            /// its type: the whole `event` object, as it came.
            Other {
                /// The `event_type`.
                event_type: String,
                /// The `event` object.
                raw: Value,
            },
        }

        /// Every `event_type` [`Event`] knows.
        pub const EVENT_TYPES: &[&str] = &[$($wire,)*];

        impl Event {
            /// The `event_type` on the wire.
            pub fn event_type(&self) -> &str {
                match self {
                    $( Event::$variant(_) => $wire, )*
                    Event::Other { event_type, .. } => event_type,
                }
            }

            /// Read an `event` object: never fails (see [`Event::Other`]).
            pub fn from_wire(event: Value) -> Event {
                let event_type = event["event_type"].as_str().unwrap_or_default().to_owned();
                let typed = match event_type.as_str() {
                    $( $wire => <$ty>::deserialize(&event).map(Event::$variant), )*
                    _ => Err(de::Error::custom("unknown event_type")),
                };
                typed.unwrap_or(Event::Other { event_type, raw: event })
            }
        }

        impl Serialize for Event {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                /// The fields of an event with its `event_type` first.
                #[derive(Serialize)]
                struct Tagged<'a, T: Serialize> {
                    event_type: &'a str,
                    #[serde(flatten)]
                    fields: &'a T,
                }
                match self {
                    $( Event::$variant(e) => Tagged { event_type: $wire, fields: e }.serialize(serializer), )*
                    Event::Other { raw, .. } => raw.serialize(serializer),
                }
            }
        }
    };
}

events! {
    /// `enter_session`.
    EnterSession(EnterSession) = "enter_session",
    /// `msg_send_fail`.
    MsgSendFail(MsgSendFail) = "msg_send_fail",
    /// `servicer_status_change`.
    ServicerStatusChange(ServicerStatusChange) = "servicer_status_change",
    /// `session_status_change`.
    SessionStatusChange(SessionStatusChange) = "session_status_change",
    /// `user_recall_msg`.
    UserRecallMsg(RecallMsg) = "user_recall_msg",
    /// `servicer_recall_msg`.
    ServicerRecallMsg(RecallMsg) = "servicer_recall_msg",
    /// `reject_customer_msg_switch_change`.
    RejectSwitchChange(RejectSwitchChange) = "reject_customer_msg_switch_change",
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Event::from_wire(Value::deserialize(deserializer)?))
    }
}

impl Event {
    /// Name the account and the customer the event is about, where its type has a
    /// field for them (an empty `external_userid` is left out).
    pub fn set_ids(&mut self, open_kfid: &str, external_userid: &str) {
        fn put(field: &mut String, value: &str) {
            value.clone_into(field);
        }
        match self {
            Event::EnterSession(e) => {
                put(&mut e.open_kfid, open_kfid);
                put(&mut e.external_userid, external_userid);
            }
            Event::MsgSendFail(e) => {
                put(&mut e.open_kfid, open_kfid);
                put(&mut e.external_userid, external_userid);
            }
            Event::ServicerStatusChange(e) => put(&mut e.open_kfid, open_kfid),
            Event::SessionStatusChange(e) => {
                put(&mut e.open_kfid, open_kfid);
                put(&mut e.external_userid, external_userid);
            }
            Event::UserRecallMsg(e) | Event::ServicerRecallMsg(e) => {
                put(&mut e.open_kfid, open_kfid);
                put(&mut e.external_userid, external_userid);
            }
            Event::RejectSwitchChange(e) => {
                put(&mut e.open_kfid, open_kfid);
                put(&mut e.external_userid, external_userid);
            }
            Event::Other { raw, .. } => {
                if let Value::Object(map) = raw {
                    map.insert("open_kfid".into(), open_kfid.into());
                    if !external_userid.is_empty() {
                        map.insert("external_userid".into(), external_userid.into());
                    }
                }
            }
        }
    }

    /// The account and the customer the event is about, where it names them.
    pub(crate) fn ids(&self) -> (Option<&str>, Option<&str>) {
        fn some(s: &str) -> Option<&str> {
            (!s.is_empty()).then_some(s)
        }
        match self {
            Event::EnterSession(e) => (some(&e.open_kfid), some(&e.external_userid)),
            Event::MsgSendFail(e) => (some(&e.open_kfid), some(&e.external_userid)),
            Event::ServicerStatusChange(e) => (some(&e.open_kfid), None),
            Event::SessionStatusChange(e) => (some(&e.open_kfid), some(&e.external_userid)),
            Event::UserRecallMsg(e) | Event::ServicerRecallMsg(e) => {
                (some(&e.open_kfid), some(&e.external_userid))
            }
            Event::RejectSwitchChange(e) => (some(&e.open_kfid), some(&e.external_userid)),
            Event::Other { raw, .. } => (
                raw["open_kfid"].as_str().and_then(some),
                raw["external_userid"].as_str().and_then(some),
            ),
        }
    }
}
