//! `/__emulator/servicers/{userid}/…`: servicers in the WeCom app (docs/emulator-control.md,
//! "Servicers"), one command per act, facing `world/app.rs`: serving status, taking a
//! queued session, transferring, ending, writing to the customer, recalling, and
//! rejecting a customer's messages. Each obeys the rules and codes of the API's moves.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::customers::Sent;
use super::registry::Route;
use super::{Command, Done, Verb};
use crate::rejection::Rejection;
use crate::state::Emulator;
use crate::world::content;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<SetStatus>(),
    Route::command::<Take>(),
    Route::command::<Transfer>(),
    Route::command::<End>(),
    Route::command::<SendMessage>(),
    Route::command::<RecallMessage>(),
    Route::command::<RejectCustomer>(),
];

/// `POST /__emulator/servicers/{userid}/status`: serving (0) or stopped (1;
/// `stop_type` 0 stopped, 1 suspended); a `servicer_status_change` event.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SetStatus {
    /// The servicer.
    #[serde(default)]
    pub userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// 0 serving, 1 stopped.
    #[serde(default)]
    pub status: u8,
    /// With status 1: 0 stopped, 1 suspended.
    #[serde(default)]
    pub stop_type: u8,
}

impl Command for SetStatus {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/servicers/{userid}/status";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator.world().set_serving_status(
            &self.userid,
            &self.open_kfid,
            self.status,
            self.stop_type,
        )?;
        Ok(Done {})
    }
}

/// The code a move issued for `kf/send_msg_on_event`, the same the event carries.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Moved {
    /// Absent when the move issues none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_code: Option<String>,
}

/// `POST /__emulator/servicers/{userid}/take {"open_kfid","external_userid"}`: 2 → 3,
/// `session_status_change` change_type 1 with a `msg_code`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Take {
    /// The servicer.
    #[serde(default)]
    pub userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
}

impl Command for Take {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/servicers/{userid}/take";
    type Answer = Moved;

    fn apply(self, emulator: &Emulator) -> Result<Moved, Rejection> {
        let msg_code =
            emulator
                .world()
                .servicer_take(&self.userid, &self.open_kfid, &self.external_userid)?;
        Ok(Moved { msg_code })
    }
}

/// `POST /__emulator/servicers/{userid}/transfer {"open_kfid","external_userid","to"}`:
/// 3 → 3, change_type 2.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Transfer {
    /// The servicer.
    #[serde(default)]
    pub userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The servicer who takes it over.
    #[serde(default)]
    pub to: String,
}

impl Command for Transfer {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/servicers/{userid}/transfer";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator.world().servicer_transfer(
            &self.userid,
            &self.open_kfid,
            &self.external_userid,
            &self.to,
        )?;
        Ok(Done {})
    }
}

/// `POST /__emulator/servicers/{userid}/end {"open_kfid","external_userid"}`: 3 → 4,
/// change_type 3 with a `msg_code`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct End {
    /// The servicer.
    #[serde(default)]
    pub userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
}

impl Command for End {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/servicers/{userid}/end";
    type Answer = Moved;

    fn apply(self, emulator: &Emulator) -> Result<Moved, Rejection> {
        let msg_code =
            emulator
                .world()
                .servicer_end(&self.userid, &self.open_kfid, &self.external_userid)?;
        Ok(Moved { msg_code })
    }
}

/// `POST /__emulator/servicers/{userid}/send`: a servicer's message (origin 5); in
/// state 4 it reopens the session with them (→ 3, change_type 4).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SendMessage {
    /// The servicer.
    #[serde(default)]
    pub userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// e.g. `text`.
    #[serde(default)]
    pub msgtype: String,
    /// The payload, under the msgtype's key.
    #[serde(flatten)]
    pub payload: Map<String, Value>,
}

impl Command for SendMessage {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/servicers/{userid}/send";
    type Answer = Sent;

    fn apply(self, emulator: &Emulator) -> Result<Sent, Rejection> {
        let content = content(&self.msgtype, &Value::Object(self.payload))?;
        let msgid = emulator.world().servicer_send(
            &self.userid,
            &self.open_kfid,
            &self.external_userid,
            content,
        )?;
        Ok(Sent { msgid })
    }
}

/// `POST /__emulator/servicers/{userid}/recall {"open_kfid","msgid"}` (added to the
/// agreed plane): a servicer recalls their message from the app
/// (`servicer_recall_msg`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RecallMessage {
    /// The servicer.
    #[serde(default)]
    pub userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// Their message.
    #[serde(default)]
    pub msgid: String,
}

impl Command for RecallMessage {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/servicers/{userid}/recall";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator
            .world()
            .servicer_recalls(&self.userid, &self.open_kfid, &self.msgid)?;
        Ok(Done {})
    }
}

/// `POST /__emulator/servicers/{userid}/reject {"open_kfid","external_userid","reject"}`
/// (added to the agreed plane): a servicer rejects a customer's messages, or stops
/// (`reject_customer_msg_switch_change`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RejectCustomer {
    /// The servicer.
    #[serde(default)]
    pub userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// Reject (`true`) or stop rejecting.
    #[serde(default)]
    pub reject: bool,
}

impl Command for RejectCustomer {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/servicers/{userid}/reject";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator.world().servicer_reject_switch(
            &self.userid,
            &self.open_kfid,
            &self.external_userid,
            self.reject,
        )?;
        Ok(Done {})
    }
}
