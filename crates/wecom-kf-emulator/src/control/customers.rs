//! `/__emulator/customers…`: the WeChat side (docs/emulator-control.md, "Customers"), one
//! command per act of a customer, facing `world/wechat.rs`: a customer appears, opens
//! an account's chat, writes, recalls, refuses the account's messages, and reads what
//! they were sent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::registry::Route;
use super::{Command, Done, Verb};
use crate::reply::Rejection;
use crate::state::Emulator;
use crate::store::CustomerRow;
pub use crate::world::InboxItem;
use crate::world::content;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<NewCustomer>(),
    Route::command::<Enter>(),
    Route::command::<SendMessage>(),
    Route::command::<RecallMessage>(),
    Route::command::<RejectMessages>(),
    Route::command::<Inbox>(),
];

/// `POST /__emulator/customers`: a WeChat user appears.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NewCustomer {
    /// Their id; generated (`wm` + 30 characters) when absent.
    #[serde(default)]
    pub external_userid: Option<String>,
    /// Their nickname.
    #[serde(default)]
    pub nickname: String,
    /// 0 unknown, 1 male, 2 female.
    #[serde(default)]
    pub gender: u8,
    /// Their unionid, if any.
    #[serde(default)]
    pub unionid: String,
    /// Their avatar URL, if any.
    #[serde(default)]
    pub avatar: String,
}

impl NewCustomer {
    /// A customer with this nickname and a generated id.
    pub fn named(nickname: impl Into<String>) -> Self {
        NewCustomer {
            nickname: nickname.into(),
            ..NewCustomer::default()
        }
    }
}

/// The customer's id.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerMade {
    /// `wm…`.
    pub external_userid: String,
}

impl Command for NewCustomer {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers";
    type Answer = CustomerMade;

    fn apply(self, emulator: &Emulator) -> Result<CustomerMade, Rejection> {
        let row = CustomerRow {
            nickname: self.nickname,
            gender: self.gender,
            unionid: self.unionid,
            avatar: self.avatar,
            created_at: 0,
        };
        let external_userid = emulator.world().put_customer(self.external_userid, row)?;
        Ok(CustomerMade { external_userid })
    }
}

/// `POST /__emulator/customers/{external_userid}/enter`: the customer opens an
/// account's chat (an `enter_session` event).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Enter {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The `scene` of the link they came by.
    #[serde(default)]
    pub scene: String,
    /// Its `scene_param`.
    #[serde(default)]
    pub scene_param: String,
}

/// The event's msgid and the welcome code, if one was issued.
#[derive(Clone, Debug, Serialize)]
pub struct Entered {
    /// The `enter_session` event's msgid.
    pub msgid: String,
    /// For `kf/send_msg_on_event`, valid 20 s.
    pub welcome_code: Option<String>,
}

impl Command for Enter {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/enter";
    type Answer = Entered;

    fn apply(self, emulator: &Emulator) -> Result<Entered, Rejection> {
        let (msgid, welcome_code) = emulator.world().customer_enters(
            &self.external_userid,
            &self.open_kfid,
            &self.scene,
            &self.scene_param,
        )?;
        Ok(Entered {
            msgid,
            welcome_code,
        })
    }
}

/// `POST /__emulator/customers/{external_userid}/send`: the customer writes (origin
/// 3): `open_kfid`, `msgtype` and the object under the msgtype's key, the same shape
/// `kf/send_msg` uses.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SendMessage {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// e.g. `text`.
    #[serde(default)]
    pub msgtype: String,
    /// The payload, under the msgtype's key.
    #[serde(flatten)]
    pub payload: Map<String, Value>,
}

impl SendMessage {
    /// A text from `external_userid` to `open_kfid`.
    pub fn text(external_userid: &str, open_kfid: &str, text: &str) -> Self {
        let mut payload = Map::new();
        payload.insert("text".to_owned(), serde_json::json!({ "content": text }));
        SendMessage {
            external_userid: external_userid.to_owned(),
            open_kfid: open_kfid.to_owned(),
            msgtype: "text".to_owned(),
            payload,
        }
    }
}

/// The msgid of what was written.
#[derive(Clone, Debug, Serialize)]
pub struct Sent {
    /// Its msgid.
    pub msgid: String,
}

impl Command for SendMessage {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/send";
    type Answer = Sent;

    fn apply(self, emulator: &Emulator) -> Result<Sent, Rejection> {
        let content = content(&self.msgtype, &Value::Object(self.payload))?;
        let msgid =
            emulator
                .world()
                .customer_sends(&self.external_userid, &self.open_kfid, content)?;
        Ok(Sent { msgid })
    }
}

/// `POST /__emulator/customers/{external_userid}/recall {"open_kfid","msgid"}`: within
/// 2 minutes; a `user_recall_msg` event.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RecallMessage {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// Their message.
    #[serde(default)]
    pub msgid: String,
}

impl Command for RecallMessage {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/recall";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator
            .world()
            .customer_recalls(&self.external_userid, &self.open_kfid, &self.msgid)?;
        Ok(Done {})
    }
}

/// `POST /__emulator/customers/{external_userid}/reject {"open_kfid","reject"}`: while
/// set, the account's sends answer 0 and count, but never arrive (`msg_send_fail` 10).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RejectMessages {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// Refuse (`true`) or accept again.
    #[serde(default)]
    pub reject: bool,
}

impl Command for RejectMessages {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/reject";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator
            .world()
            .customer_rejects(&self.external_userid, &self.open_kfid, self.reject)?;
        Ok(Done {})
    }
}

/// `GET /__emulator/customers/{external_userid}/inbox?open_kfid=…`: what the customer
/// saw from the account, oldest first. Readable after the account is deleted: the
/// chat stays in the customer's WeChat.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Inbox {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
}

/// The inbox.
#[derive(Clone, Debug, Serialize)]
pub struct Messages {
    /// Oldest first.
    pub messages: Vec<InboxItem>,
}

impl Command for Inbox {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/inbox";
    type Answer = Messages;

    fn apply(self, emulator: &Emulator) -> Result<Messages, Rejection> {
        let messages = emulator
            .world()
            .inbox(&self.open_kfid, &self.external_userid)?;
        Ok(Messages { messages })
    }
}

impl Emulator {
    /// A WeChat user appears ([`NewCustomer`]); answers their generated id.
    pub fn add_customer(&self, nickname: &str) -> Result<String, Rejection> {
        self.apply(NewCustomer::named(nickname))
            .map(|made| made.external_userid)
    }

    /// A customer writes a text to an account ([`SendMessage`]); answers the msgid.
    pub fn customer_says(
        &self,
        external_userid: &str,
        open_kfid: &str,
        text: &str,
    ) -> Result<String, Rejection> {
        self.apply(SendMessage::text(external_userid, open_kfid, text))
            .map(|sent| sent.msgid)
    }

    /// A customer opens an account's chat ([`Enter`]); answers the event's msgid and
    /// the welcome code, if one was issued.
    pub fn customer_enters(
        &self,
        external_userid: &str,
        open_kfid: &str,
        scene: &str,
    ) -> Result<(String, Option<String>), Rejection> {
        self.apply(Enter {
            external_userid: external_userid.to_owned(),
            open_kfid: open_kfid.to_owned(),
            scene: scene.to_owned(),
            scene_param: String::new(),
        })
        .map(|e| (e.msgid, e.welcome_code))
    }

    /// What the customer saw from the account ([`Inbox`]), as JSON objects.
    pub fn inbox(&self, external_userid: &str, open_kfid: &str) -> Result<Vec<Value>, Rejection> {
        let inbox = self.apply(Inbox {
            external_userid: external_userid.to_owned(),
            open_kfid: open_kfid.to_owned(),
        })?;
        Ok(inbox
            .messages
            .iter()
            .filter_map(|m| serde_json::to_value(m).ok())
            .collect())
    }
}
