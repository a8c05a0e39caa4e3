//! Customers (docs/kf-api.md §4.10, §4.13): the WeChat side as the control plane plays
//! it (a customer appears, enters a session, writes), `kf/customer/batchget`, and
//! 升级服务.

use serde_json::Value;
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::customer::{
    Customer, EnterSessionContext, UpgradeService, UpgradeServiceConfig,
};
use wecom_kf_types::kf::message::{Content, EnterSession, Event, MSGTYPES};
use wecom_kf_types::kf::send_msg_on_event::EventScenario;
use wecom_kf_types::kf::service_state::ServiceState;
use wecom_kf_types::limits::SESSION_WINDOW_SECS;
use wecom_kf_types::limits::TEXT_MAX_BYTES;

use super::Caller;
use super::World;
use crate::ids;
use crate::reply::Rejection;
use crate::store::{CustomerRow, EnterRow, Origin, UpgradeRow};

/// Whether a customer can send this msgtype (docs/kf-api.md §4.5): every msgtype of
/// `sync_msg` but the menu, which only the app sends, and events.
fn customer_may_send(msgtype: &str) -> bool {
    MSGTYPES.contains(&msgtype) && !matches!(msgtype, "msgmenu" | "event")
}

const UPGRADE_CONFIG_KEY: &str = "upgrade_service_config";

fn invalid(detail: impl Into<String>) -> Rejection {
    Rejection::with(ErrCode::INVALID_PARAMETER, detail)
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

    /// `kf/customer/batchget`: known customers, and the ids that are not.
    pub(crate) fn batch_get_customers(
        &self,
        ids: &[String],
        with_context: bool,
    ) -> (Vec<Customer>, Vec<String>) {
        let mut found = Vec::new();
        let mut invalid = Vec::new();
        for id in ids {
            let Some(row) = self.store.customer(id) else {
                invalid.push(id.clone());
                continue;
            };
            let mut customer = Customer::new(id.clone(), row.nickname.clone());
            customer.gender = row.gender;
            customer.unionid.clone_from(&row.unionid);
            customer.avatar.clone_from(&row.avatar);
            if with_context {
                customer.enter_session_context = self
                    .store
                    .last_enter(id)
                    .filter(|e| self.now - e.entered_at <= SESSION_WINDOW_SECS)
                    .map(|e| EnterSessionContext::new(e.scene.clone(), e.scene_param.clone()));
            }
            found.push(customer);
        }
        (found, invalid)
    }

    /// The 升级服务 ranges, as the admin console (here the control plane) set them.
    pub(crate) fn upgrade_service_config(&self) -> UpgradeServiceConfig {
        self.store.setting(UPGRADE_CONFIG_KEY)
    }

    /// `POST /__emulator/upgrade_service_config`.
    pub(crate) fn set_upgrade_service_config(
        &mut self,
        config: &UpgradeServiceConfig,
    ) -> Result<(), Rejection> {
        Ok(self.store.put_setting(UPGRADE_CONFIG_KEY, config)?)
    }

    /// `kf/customer/upgrade_service`: to a customer who wrote in the last 48 hours
    /// (95031), a member or group chat in the configured range.
    pub(crate) fn upgrade_service(
        &mut self,
        caller: &Caller,
        request: &UpgradeService,
    ) -> Result<(), Rejection> {
        self.managed_account(&request.open_kfid, caller)?;
        self.known_customer(&request.external_userid)?;
        let consulted = self
            .store
            .session(&request.open_kfid, &request.external_userid)
            .is_some_and(|s| self.now - s.last_customer_msg_at <= SESSION_WINDOW_SECS);
        if !consulted {
            return Err(Rejection::with(
                ErrCode::NO_CONSULTATION_IN_48H,
                "the customer has not written to this account in the last 48 hours",
            ));
        }
        let config = self.upgrade_service_config();
        let (target, wording) = match (&request.member, &request.groupchat) {
            (Some(member), _) if request.kind == 1 => {
                let in_range = config.member_range.userid_list.contains(&member.userid)
                    || self.store.member(&member.userid).is_some_and(|m| {
                        m.department_ids
                            .iter()
                            .any(|d| config.member_range.department_id_list.contains(d))
                    });
                if !in_range {
                    return Err(Rejection::with(
                        ErrCode::NOT_IN_VISIBLE_RANGE,
                        format!("{:?} is not in the member range of 升级服务", member.userid),
                    ));
                }
                (member.userid.clone(), member.wording.clone())
            }
            (_, Some(chat)) if request.kind == 2 => {
                if !config.groupchat_range.chat_id_list.contains(&chat.chat_id) {
                    return Err(invalid(format!(
                        "chat_id {:?} is not in the group chat range of 升级服务",
                        chat.chat_id
                    )));
                }
                (chat.chat_id.clone(), chat.wording.clone())
            }
            _ => return Err(invalid("type 1 needs member, type 2 needs groupchat")),
        };
        self.store.insert_upgrade(UpgradeRow {
            open_kfid: request.open_kfid.clone(),
            external_userid: request.external_userid.clone(),
            kind: request.kind,
            target,
            wording,
            made_at: self.now,
            cancelled: false,
        })?;
        Ok(())
    }

    /// `kf/customer/cancel_upgrade_service`.
    pub(crate) fn cancel_upgrade_service(
        &mut self,
        caller: &Caller,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<(), Rejection> {
        self.managed_account(open_kfid, caller)?;
        self.known_customer(external_userid)?;
        self.store.cancel_upgrades(open_kfid, external_userid)?;
        Ok(())
    }
}
