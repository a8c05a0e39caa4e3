//! What the console shows, read under one lock: the accounts with their servicers, the
//! customers and the sessions (the snapshot), and one conversation in full (the thread).
//! Reads only; the console changes the world through the control plane and the API.

use serde_json::{Value, json};
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::service_state::{ServiceState, ServiceStateInfo, explain};
use wecom_kf_types::limits::{SENDS_PER_CUSTOMER_MESSAGE, SESSION_WINDOW_SECS};

use super::World;
use crate::reply::Rejection;
use crate::store::{MessageRow, SessionRow};

/// Messages of one conversation sent to the page; older ones are summed up.
const THREAD_MESSAGES: usize = 500;

impl World<'_> {
    fn session_json(&self, row: &SessionRow) -> Value {
        let state = row.state_at(self.now);
        let (zh, en) = state.names();
        let nickname = self
            .store
            .customer(&row.external_userid)
            .map(|c| c.nickname.as_str())
            .unwrap_or_default();
        let window_left = SESSION_WINDOW_SECS - (self.now - row.last_customer_msg_at);
        json!({
            "open_kfid": row.open_kfid,
            "external_userid": row.external_userid,
            "nickname": nickname,
            "state": state.number(),
            "state_zh": zh,
            "state_en": en,
            "servicer_userid": row.servicer_userid.as_deref().filter(|_| state == ServiceState::Human),
            "started_at": row.started_at,
            "last_customer_msg_at": row.last_customer_msg_at,
            "window_left_secs": window_left.max(0),
            "sends_left": SENDS_PER_CUSTOMER_MESSAGE.saturating_sub(row.sends_since_customer),
            "api_may_send": state.api_may_send() && window_left > 0,
        })
    }

    /// Everything the console lists: accounts, servicers, customers, current sessions.
    pub(crate) fn console_snapshot(&self) -> Value {
        let accounts: Vec<Value> = self
            .store
            .accounts(0, usize::MAX)
            .map(|a| {
                let servicers: Vec<Value> = self
                    .servicer_users(&a.open_kfid)
                    .into_iter()
                    .map(|userid| {
                        let status = self.store.serving_status(&a.open_kfid, &userid);
                        let member = self.store.member(&userid);
                        json!({
                            "userid": userid,
                            "name": member.map(|m| m.name.as_str()).unwrap_or_default(),
                            "activated": member.is_some_and(|m| m.activated),
                            "status": status.status,
                            "stop_type": status.stop_type,
                        })
                    })
                    .collect();
                json!({
                    "open_kfid": a.open_kfid,
                    "name": a.name,
                    "managed": a.owner.is_some(),
                    "routing": self.routing_mode(&a.open_kfid),
                    "servicers": servicers,
                })
            })
            .collect();
        let mut customers: Vec<(&String, &crate::store::CustomerRow)> =
            self.store.customers().collect();
        customers.sort_by(|a, b| (a.1.created_at, a.0).cmp(&(b.1.created_at, b.0)));
        let customers: Vec<Value> = customers
            .into_iter()
            .map(|(id, c)| json!({"external_userid": id, "nickname": c.nickname}))
            .collect();
        // The current session of each pair, newest activity first.
        let mut current: Vec<&SessionRow> = self
            .store
            .sessions()
            .filter(|row| {
                self.store
                    .session(&row.open_kfid, &row.external_userid)
                    .is_some_and(|c| c.id == row.id)
            })
            .collect();
        current.sort_by_key(|row| std::cmp::Reverse(row.last_customer_msg_at));
        let sessions: Vec<Value> = current.into_iter().map(|r| self.session_json(r)).collect();
        json!({
            "now": self.now,
            "accounts": accounts,
            "customers": customers,
            "sessions": sessions,
        })
    }

    fn message_json(row: &MessageRow) -> Value {
        json!({
            "msgid": row.msgid,
            "origin": row.origin.name(),
            "servicer_userid": row.servicer_userid,
            "msgtype": row.msgtype,
            "content": row.content,
            "send_time": row.send_time,
            "recalled": row.recalled,
            "delivered": row.delivered,
        })
    }

    /// One conversation: its messages and events (the last 500), its session with its
    /// moves, and, given an errcode, why the call was refused from the state now.
    pub(crate) fn console_thread(
        &self,
        open_kfid: &str,
        external_userid: &str,
        errcode: Option<i64>,
    ) -> Result<Value, Rejection> {
        self.account(open_kfid)?;
        self.known_customer(external_userid)?;
        let all: Vec<&MessageRow> = self
            .store
            .account_messages_after(open_kfid, 0)
            .filter(|m| m.external_userid == external_userid)
            .collect();
        let skipped = all.len().saturating_sub(THREAD_MESSAGES);
        let messages: Vec<Value> = all[skipped..]
            .iter()
            .map(|m| Self::message_json(m))
            .collect();
        let (row, state) = self.current(open_kfid, external_userid);
        let session = row.as_ref().map(|r| self.session_json(r));
        let moves = json!(row.as_ref().map_or(&[][..], |r| self.store.moves(r.id)));
        let diagnosis = errcode.map(|code| {
            let info = ServiceStateInfo::new(state, row.and_then(|r| r.servicer_userid));
            let (cause, action) = explain(ErrCode(code), Some(&info));
            json!({"errcode": code, "cause": cause, "action": action})
        });
        Ok(json!({
            "open_kfid": open_kfid,
            "external_userid": external_userid,
            "messages": messages,
            "earlier_messages": skipped,
            "session": session,
            "moves": moves,
            "diagnosis": diagnosis,
        }))
    }
}
