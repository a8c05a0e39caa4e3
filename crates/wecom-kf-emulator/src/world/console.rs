//! What the console shows, read under one lock: the accounts with their servicers, the
//! customers and the sessions (the snapshot), and one conversation in full (the thread).
//! Reads only; the console changes the world through the control plane and the API.
//! Each view is a struct that `console.js` reads field by field.

use serde::Serialize;
use serde_json::Value;
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::service_state::{ServiceState, ServiceStateInfo, explain};
use wecom_kf_types::limits::{SENDS_PER_CUSTOMER_MESSAGE, SESSION_WINDOW_SECS};
use wecom_kf_types::media::MediaType;

use super::{RoutingMode, World};
use crate::rejection::Rejection;
use crate::store::{MessageRow, MoveRow, OriginName, SessionRow};

/// Messages of one conversation sent to the page; older ones are summed up.
const THREAD_MESSAGES: usize = 500;

/// A session as the console lists it.
#[derive(Clone, Debug, Serialize)]
pub struct SessionView {
    /// The account.
    pub open_kfid: String,
    /// The customer.
    pub external_userid: String,
    /// The customer's nickname.
    pub nickname: String,
    /// 0–4.
    pub state: u8,
    /// The state's name in Chinese.
    pub state_zh: &'static str,
    /// The state's name in English.
    pub state_en: &'static str,
    /// Who serves it, in state 3.
    pub servicer_userid: Option<String>,
    /// When it started.
    pub started_at: i64,
    /// When the customer last wrote.
    pub last_customer_msg_at: i64,
    /// Of the 48 h the API may answer in.
    pub window_left_secs: i64,
    /// Of the 5 sends per customer message.
    pub sends_left: u32,
    /// Whether `kf/send_msg` would be accepted now.
    pub api_may_send: bool,
}

/// A servicer of an account.
#[derive(Clone, Debug, Serialize)]
pub struct ServicerView {
    /// The member.
    pub userid: String,
    /// The name.
    pub name: String,
    /// Whether they activated WeCom.
    pub activated: bool,
    /// 0 serving, 1 stopped.
    pub status: u8,
    /// With status 1: 0 stopped, 1 suspended.
    pub stop_type: u8,
}

/// An account with its servicers.
#[derive(Clone, Debug, Serialize)]
pub struct AccountView {
    /// The account.
    pub open_kfid: String,
    /// The name.
    pub name: String,
    /// Whether an app manages it (not made in the admin console).
    pub managed: bool,
    /// How new sessions are routed.
    pub routing: RoutingMode,
    /// Its servicers.
    pub servicers: Vec<ServicerView>,
}

/// A customer.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerView {
    /// The customer.
    pub external_userid: String,
    /// The customer's nickname.
    pub nickname: String,
}

/// What the console lists.
#[derive(Clone, Debug, Serialize)]
pub struct WorldView {
    /// The emulator's clock.
    pub now: i64,
    /// Every account.
    pub accounts: Vec<AccountView>,
    /// Every customer, oldest first.
    pub customers: Vec<CustomerView>,
    /// The current session of each pair, newest activity first.
    pub sessions: Vec<SessionView>,
}

/// One message or event of a conversation.
#[derive(Clone, Debug, Serialize)]
pub struct MessageView {
    /// Its msgid.
    pub msgid: String,
    /// `customer`, `event`, `servicer` or `app`.
    pub origin: &'static str,
    /// The servicer, if any.
    pub servicer_userid: Option<String>,
    /// e.g. `text`.
    pub msgtype: String,
    /// The payload under the msgtype's key.
    pub content: Value,
    /// When it was sent.
    pub send_time: i64,
    /// Whether it was recalled.
    pub recalled: bool,
    /// Whether it reached the customer.
    pub delivered: bool,
    /// The file of an `image`, `voice`, `video` or `file` message, when its media id
    /// is one the emulator holds (a customer's message may name any id).
    pub media: Option<MediaView>,
}

/// The file a media message carries, for the page to show it (a picture, or a name and
/// a size with a link) from `GET /__emulator/media/{media_id}`.
#[derive(Clone, Debug, Serialize)]
pub struct MediaView {
    /// The media id.
    pub media_id: String,
    /// `image`, `voice`, `video` or `file`.
    pub media_type: MediaType,
    /// The name the uploader gave.
    pub filename: String,
    /// Bytes.
    pub size: u64,
    /// What it is served as.
    pub content_type: String,
}

/// Why a call was refused, from the session's state now.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnosis {
    /// The refusal.
    pub errcode: i64,
    /// Why, from the state now.
    pub cause: String,
    /// What to do.
    pub action: String,
}

/// One conversation.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadView {
    /// The account.
    pub open_kfid: String,
    /// The customer.
    pub external_userid: String,
    /// The last 500, oldest first.
    pub messages: Vec<MessageView>,
    /// How many older ones were left out.
    pub earlier_messages: usize,
    /// The current session, if any.
    pub session: Option<SessionView>,
    /// Its moves, oldest first.
    pub moves: Vec<MoveRow>,
    /// Given an errcode, why it was refused.
    pub diagnosis: Option<Diagnosis>,
}

impl World<'_> {
    fn session_view(&self, row: &SessionRow) -> SessionView {
        let state = row.state_at(self.now);
        let (zh, en) = state.names();
        let nickname = self
            .store
            .customer(&row.external_userid)
            .map(|c| c.nickname.clone())
            .unwrap_or_default();
        let window_left = SESSION_WINDOW_SECS - (self.now - row.last_customer_msg_at);
        SessionView {
            open_kfid: row.open_kfid.clone(),
            external_userid: row.external_userid.clone(),
            nickname,
            state: state.number(),
            state_zh: zh,
            state_en: en,
            servicer_userid: row
                .servicer_userid
                .clone()
                .filter(|_| state == ServiceState::Human),
            started_at: row.started_at,
            last_customer_msg_at: row.last_customer_msg_at,
            window_left_secs: window_left.max(0),
            sends_left: SENDS_PER_CUSTOMER_MESSAGE.saturating_sub(row.sends_since_customer),
            api_may_send: state.api_may_send() && window_left > 0,
        }
    }

    /// Everything the console lists: accounts, servicers, customers, current sessions.
    pub(crate) fn console_snapshot(&self) -> WorldView {
        let accounts = self
            .store
            .accounts(0, usize::MAX)
            .map(|a| {
                let servicers = self
                    .servicer_users(&a.open_kfid)
                    .into_iter()
                    .map(|userid| {
                        let status = self.store.serving_status(&a.open_kfid, &userid);
                        let member = self.store.member(&userid);
                        ServicerView {
                            name: member.map(|m| m.name.clone()).unwrap_or_default(),
                            activated: member.is_some_and(|m| m.activated),
                            status: status.status,
                            stop_type: status.stop_type,
                            userid,
                        }
                    })
                    .collect();
                AccountView {
                    open_kfid: a.open_kfid.clone(),
                    name: a.name.clone(),
                    managed: a.owner.is_some(),
                    routing: self.routing_mode(&a.open_kfid),
                    servicers,
                }
            })
            .collect();
        let mut customers: Vec<(&String, &crate::store::CustomerRow)> =
            self.store.customers().collect();
        customers.sort_by(|a, b| (a.1.created_at, a.0).cmp(&(b.1.created_at, b.0)));
        let customers = customers
            .into_iter()
            .map(|(id, c)| CustomerView {
                external_userid: id.clone(),
                nickname: c.nickname.clone(),
            })
            .collect();
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
        let sessions = current.into_iter().map(|r| self.session_view(r)).collect();
        WorldView {
            now: self.now,
            accounts,
            customers,
            sessions,
        }
    }

    /// The file of a media message, read from the store's record of its media id.
    fn media_view(&self, row: &MessageRow) -> Option<MediaView> {
        let kind: MediaType = row.msgtype.parse().ok()?;
        let media_id = row.content.get("media_id")?.as_str()?;
        let media = self.store.media(media_id)?;
        Some(MediaView {
            media_id: media_id.to_owned(),
            media_type: kind,
            filename: media.filename.clone(),
            size: media.size,
            content_type: media.content_type.clone(),
        })
    }

    fn message_view(&self, row: &MessageRow) -> MessageView {
        MessageView {
            media: self.media_view(row),
            msgid: row.msgid.clone(),
            origin: row.origin.name(),
            servicer_userid: row.servicer_userid.clone(),
            msgtype: row.msgtype.clone(),
            content: row.content.clone(),
            send_time: row.send_time,
            recalled: row.recalled,
            delivered: row.delivered,
        }
    }

    /// One conversation: its messages and events (the last 500), its session with its
    /// moves, and, given an errcode, why the call was refused from the state now.
    pub(crate) fn console_thread(
        &self,
        open_kfid: &str,
        external_userid: &str,
        errcode: Option<i64>,
    ) -> Result<ThreadView, Rejection> {
        self.account(open_kfid)?;
        self.known_customer(external_userid)?;
        let all: Vec<&MessageRow> = self
            .store
            .account_messages_after(open_kfid, 0)
            .filter(|m| m.external_userid == external_userid)
            .collect();
        let skipped = all.len().saturating_sub(THREAD_MESSAGES);
        let messages = all[skipped..]
            .iter()
            .map(|m| self.message_view(m))
            .collect();
        let (row, state) = self.current(open_kfid, external_userid);
        let session = row.as_ref().map(|r| self.session_view(r));
        let moves = row
            .as_ref()
            .map_or(&[][..], |r| self.store.moves(r.id))
            .to_vec();
        let diagnosis = errcode.map(|code| {
            let info = ServiceStateInfo::new(state, row.and_then(|r| r.servicer_userid));
            let (cause, action) = explain(ErrCode(code), Some(&info));
            Diagnosis {
                errcode: code,
                cause,
                action,
            }
        });
        Ok(ThreadView {
            open_kfid: open_kfid.to_owned(),
            external_userid: external_userid.to_owned(),
            messages,
            earlier_messages: skipped,
            session,
            moves,
            diagnosis,
        })
    }
}
