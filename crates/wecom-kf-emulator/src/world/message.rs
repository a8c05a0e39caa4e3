//! The message log that `kf/sync_msg` reads: customers' and servicers' messages, and
//! events (docs/kf-api.md §4.5–4.6). Every rule that makes something visible appends
//! it here, in the same lock as its state change.

use serde_json::{Value, json};

use super::World;
use crate::ids;
use crate::reply::Rejection;
use crate::store::{MessageRow, Origin};

/// What a message says: its `msgtype` and the object under that key.
#[derive(Clone, Debug)]
pub(crate) struct Content {
    pub msgtype: String,
    pub body: Value,
}

impl World<'_> {
    /// Append a message of a session; answers its msgid.
    pub(crate) fn append_message(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
        session_id: Option<i64>,
        origin: Origin,
        servicer_userid: Option<&str>,
        content: Content,
    ) -> Result<String, Rejection> {
        let msgid = ids::msgid();
        self.store.insert_message(MessageRow {
            seq: 0,
            msgid: msgid.clone(),
            open_kfid: open_kfid.to_owned(),
            external_userid: external_userid.to_owned(),
            session_id,
            origin,
            servicer_userid: servicer_userid.map(str::to_owned),
            msgtype: content.msgtype,
            content: content.body,
            send_time: self.now,
            recalled: false,
        })?;
        Ok(msgid)
    }

    /// Append an event (origin 4): `event` is the object under `"event"`, with its
    /// `event_type`; `open_kfid` and `external_userid` are put in it when set.
    pub(crate) fn append_event(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
        session_id: Option<i64>,
        mut event: Value,
    ) -> Result<String, Rejection> {
        event["open_kfid"] = json!(open_kfid);
        if !external_userid.is_empty() {
            event["external_userid"] = json!(external_userid);
        }
        self.append_message(
            open_kfid,
            external_userid,
            session_id,
            Origin::Event,
            None,
            Content {
                msgtype: "event".to_owned(),
                body: event,
            },
        )
    }
}
