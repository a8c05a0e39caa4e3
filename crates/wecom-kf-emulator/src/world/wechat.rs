//! The customer's side, in WeChat (docs/emulator-control.md, "Customers"), facing
//! `control/customers.rs` one to one: a customer appears, opens an account's chat,
//! writes, uploads media, recalls, refuses the account's messages, and reads what they
//! were sent. Each act goes through the API's own rules (sessions, the message log,
//! the recall rule), so what a bot syncs is what the service would show.

use serde::Serialize;
use serde_json::{Map, Value};
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::message::{Content, EnterSession, Event, MSGTYPES, Origin, RecallMsg};
use wecom_kf_types::kf::send_msg_on_event::EventScenario;
use wecom_kf_types::kf::service_state::ServiceState;
use wecom_kf_types::limits::{SESSION_WINDOW_SECS, TEXT_MAX_BYTES};
use wecom_kf_types::media::MediaType;

use super::World;
use super::message::{Sender, reject_key};
use crate::ids;
use crate::rejection::Rejection;
use crate::store::{APP_ORIGIN, CustomerRow, EnterRow, MediaRow, OriginName};

fn invalid(detail: impl Into<String>) -> Rejection {
    Rejection::with(ErrCode::INVALID_PARAMETER, detail)
}

/// One message the customer saw, as `GET /__emulator/customers/{id}/inbox` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct InboxItem {
    /// Its msgid.
    pub msgid: String,
    /// `app` or `servicer`.
    pub from: &'static str,
    /// The servicer who wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub servicer_userid: Option<String>,
    /// e.g. `text`.
    pub msgtype: String,
    /// When it was sent.
    pub send_time: i64,
    /// Whether it was recalled.
    pub recalled: bool,
    /// The payload, under the msgtype's key.
    #[serde(flatten)]
    pub payload: Map<String, Value>,
}

/// Whether a customer can send this msgtype (docs/kf-api.md §4.5): every msgtype of
/// `sync_msg` but the menu, which only the app sends, and events.
fn customer_may_send(msgtype: &str) -> bool {
    MSGTYPES.contains(&msgtype) && !matches!(msgtype, "msgmenu" | "event")
}

/// A message as the control plane gives it: `msgtype` and the object under that key.
pub(crate) fn content(msgtype: &str, message: &Value) -> Result<Content, Rejection> {
    if !customer_may_send(msgtype) {
        let known: Vec<&str> = MSGTYPES
            .iter()
            .copied()
            .filter(|t| customer_may_send(t))
            .collect();
        return Err(Rejection::with(
            ErrCode::INVALID_MSGTYPE,
            format!("msgtype {msgtype:?} is not one of {}", known.join(", ")),
        ));
    }
    let body = message.get(msgtype).cloned().unwrap_or(Value::Null);
    if !body.is_object() {
        return Err(invalid(format!(
            "a {msgtype} message needs a {msgtype:?} object"
        )));
    }
    if msgtype == "text" && body["content"].as_str().is_none_or(str::is_empty) {
        return Err(invalid("text.content is required"));
    }
    // The service's limit on a text (send_msg's, 45002), for the simulated sides too:
    // the WeChat and WeCom apps' own limits are not documented.
    if let Some(text) = body["content"].as_str().filter(|_| msgtype == "text")
        && text.len() > TEXT_MAX_BYTES
    {
        return Err(Rejection::with(
            ErrCode::CONTENT_SIZE_OUT_OF_LIMIT,
            format!(
                "text.content is {} bytes; at most {TEXT_MAX_BYTES}",
                text.len()
            ),
        ));
    }
    if matches!(msgtype, "image" | "voice" | "video" | "file")
        && body["media_id"].as_str().is_none_or(str::is_empty)
    {
        return Err(invalid(format!("{msgtype}.media_id is required")));
    }
    Ok(Content::from_wire(msgtype, body))
}

impl World<'_> {
    /// `POST /__emulator/customers`: a WeChat user appears. Answers their id.
    pub(crate) fn put_customer(
        &mut self,
        external_userid: Option<String>,
        mut row: CustomerRow,
    ) -> Result<String, Rejection> {
        let id = external_userid.unwrap_or_else(ids::external_userid);
        if id.is_empty()
            || id.len() > wecom_kf_types::limits::EXTERNAL_USERID_MAX_BYTES
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(invalid(format!(
                "external_userid must be 1 to 64 bytes of [0-9A-Za-z_-], got {id:?}"
            )));
        }
        if row.gender > 2 {
            return Err(invalid(format!(
                "gender must be 0, 1 or 2, got {}",
                row.gender
            )));
        }
        row.created_at = self.store.customer(&id).map_or(self.now, |c| c.created_at);
        self.store.put_customer(&id, row)?;
        Ok(id)
    }

    /// A customer opens the account's chat: an `enter_session` event, with a
    /// `welcome_code` when a welcome may be sent (no session going on, and no welcome
    /// to this customer from this account in the last 48 h). Answers both.
    pub(crate) fn customer_enters(
        &mut self,
        external_userid: &str,
        open_kfid: &str,
        scene: &str,
        scene_param: &str,
    ) -> Result<(String, Option<String>), Rejection> {
        self.account(open_kfid)?;
        self.known_customer(external_userid)?;
        self.store.put_enter(
            external_userid,
            EnterRow {
                open_kfid: open_kfid.to_owned(),
                scene: scene.to_owned(),
                scene_param: scene_param.to_owned(),
                entered_at: self.now,
            },
        )?;
        let in_session = self
            .store
            .session(open_kfid, external_userid)
            .is_some_and(|s| s.state_at(self.now) != ServiceState::Ended);
        let welcomed_lately = self
            .store
            .welcome_codes(open_kfid, external_userid)
            .any(|issued| self.now - issued < SESSION_WINDOW_SECS);
        let welcome = if in_session || welcomed_lately {
            None
        } else {
            Some(self.issue_code(open_kfid, external_userid, None, EventScenario::Welcome)?)
        };
        let mut enter = EnterSession::new(scene, scene_param);
        enter.welcome_code.clone_from(&welcome);
        let event = Event::EnterSession(enter);
        let msgid = self.append_event(open_kfid, external_userid, None, event)?;
        Ok((msgid, welcome))
    }

    /// A customer writes (origin 3): the session starts or goes on. Answers the msgid.
    pub(crate) fn customer_sends(
        &mut self,
        external_userid: &str,
        open_kfid: &str,
        content: Content,
    ) -> Result<String, Rejection> {
        self.account(open_kfid)?;
        self.known_customer(external_userid)?;
        let session = self.customer_writes(open_kfid, external_userid)?;
        self.append_message(
            open_kfid,
            external_userid,
            Some(session),
            Origin::Customer,
            None,
            content,
        )
    }

    /// `POST /__emulator/customers/{id}/media`, after the bytes were stored: record a
    /// customer's upload, typed by its Content-Type. Answers the type.
    pub(crate) fn add_customer_media(
        &mut self,
        media_id: &str,
        external_userid: &str,
        filename: &str,
        content_type: &str,
        size: u64,
    ) -> Result<MediaType, Rejection> {
        self.known_customer(external_userid)?;
        let media_type = MediaType::from_content_type(content_type);
        self.store.insert_customer_media(
            media_id,
            MediaRow {
                media_type,
                created_at: self.now,
                filename: filename.to_owned(),
                content_type: content_type.to_owned(),
                size,
                customer: Some(external_userid.to_owned()),
            },
        )?;
        Ok(media_type)
    }

    /// A customer recalls their message (within 2 minutes): `user_recall_msg`.
    pub(crate) fn customer_recalls(
        &mut self,
        external_userid: &str,
        open_kfid: &str,
        msgid: &str,
    ) -> Result<(), Rejection> {
        self.account(open_kfid)?;
        let Some(sent) = self.recall(open_kfid, msgid, Sender::Customer(external_userid))? else {
            return Ok(());
        };
        let event = Event::UserRecallMsg(RecallMsg::new(msgid));
        self.append_event(open_kfid, external_userid, sent.session_id, event)?;
        Ok(())
    }

    /// The customer refuses (or accepts again) the account's messages: while set,
    /// sends still answer 0 and count, but never arrive (`msg_send_fail`, 10).
    pub(crate) fn customer_rejects(
        &mut self,
        external_userid: &str,
        open_kfid: &str,
        reject: bool,
    ) -> Result<(), Rejection> {
        self.account(open_kfid)?;
        self.known_customer(external_userid)?;
        Ok(self
            .store
            .put_setting(&reject_key(open_kfid, external_userid), &reject)?)
    }

    /// What the customer saw from the account, oldest first: the app's delivered sends
    /// and the servicers' messages, each marked if recalled. The chat stays in the
    /// customer's WeChat, so it stays readable after the account is deleted.
    pub(crate) fn inbox(
        &self,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<Vec<InboxItem>, Rejection> {
        if self.store.account(open_kfid).is_none()
            && self
                .store
                .account_messages_after(open_kfid, 0)
                .next()
                .is_none()
        {
            self.account(open_kfid)?;
        }
        Ok(self
            .store
            .account_messages_after(open_kfid, 0)
            .filter(|m| {
                m.external_userid == external_userid
                    && m.delivered
                    && matches!(m.origin, APP_ORIGIN | Origin::Servicer)
            })
            .map(|m| {
                let mut payload = Map::new();
                payload.insert(m.msgtype.clone(), m.content.clone());
                InboxItem {
                    msgid: m.msgid.clone(),
                    from: m.origin.name(),
                    servicer_userid: m.servicer_userid.clone(),
                    msgtype: m.msgtype.clone(),
                    send_time: m.send_time,
                    recalled: m.recalled,
                    payload,
                }
            })
            .collect())
    }
}
