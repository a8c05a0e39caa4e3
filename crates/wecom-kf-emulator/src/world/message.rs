//! Messages (docs/kf-api.md §4.5–4.9, §8): the log `kf/sync_msg` reads, the rules of
//! `kf/send_msg` and `kf/send_msg_on_event`, recalls, and the customer's and
//! servicers' acts on messages. Every rule that makes something visible appends it to
//! the log in the same lock as its state change.

use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::message::{Content, Event, FailType, Message, MsgSendFail, Origin};
use wecom_kf_types::kf::send_msg::{DUPLICATE_MSGID, SendMsg, validate_outbound};
use wecom_kf_types::kf::send_msg_on_event::{EventScenario, SendMsgOnEvent};
use wecom_kf_types::kf::service_state::ServiceState;
use wecom_kf_types::kf::sync_msg::{SyncMsg, SyncMsgResponse};
use wecom_kf_types::limits::{
    LINK_DESC_MAX_BYTES, LINK_TITLE_MAX_BYTES, MINIPROGRAM_TITLE_MAX_BYTES, RECALL_WINDOW_SECS,
    SENDS_PER_CUSTOMER_MESSAGE, SESSION_WINDOW_SECS, SYNC_LIMIT_MAX, SYNC_TOKEN_TTL_SECS,
    SYNC_WINDOW_SECS,
};
use wecom_kf_types::media::MediaType;

use super::Caller;
use super::World;
use crate::ids;
use crate::rejection::Rejection;
use crate::store::{APP_ORIGIN, MessageRow};

fn invalid_msgtoken(why: &str) -> Rejection {
    Rejection::with(ErrCode::INVALID_MSGTOKEN, why)
}

/// The cursor after `seq`: opaque to the caller, with a check so a cursor that was
/// edited or comes from elsewhere is refused rather than read as another position.
pub(crate) fn cursor_of(seq: i64) -> String {
    format!("{seq:x}g{:04x}", check_of(seq))
}

fn check_of(seq: i64) -> u64 {
    (seq.unsigned_abs().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) & 0xffff
}

fn seq_of(cursor: &str) -> Result<i64, Rejection> {
    let bad = || {
        Rejection::with(
            ErrCode::INVALID_PARAMETER,
            "invalid cursor: pass the next_cursor of an earlier sync_msg unchanged",
        )
    };
    let (seq, check) = cursor.split_once('g').ok_or_else(bad)?;
    let seq = i64::from_str_radix(seq, 16).map_err(|_| bad())?;
    let check = u64::from_str_radix(check, 16).map_err(|_| bad())?;
    if check == check_of(seq) {
        Ok(seq)
    } else {
        Err(bad())
    }
}

/// Cut `s` to at most `max` bytes, on a character boundary: what the service does to
/// a long link title or description.
fn cut(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// The row as `sync_msg` shows it.
fn to_wire(row: &MessageRow) -> Message {
    // The payload was checked when it was stored: it goes out as stored, without a
    // round trip through its type (`Other` serializes it under its msgtype as is).
    let content = Content::Other {
        msgtype: row.msgtype.clone(),
        raw: row.content.clone(),
    };
    let mut m = Message::new(row.msgid.clone(), row.send_time, row.origin, content);
    // Events carry the ids inside `event` only.
    if row.origin != Origin::Event {
        m.open_kfid = Some(row.open_kfid.clone());
        m.external_userid = Some(row.external_userid.clone());
    }
    if row.origin == Origin::Servicer {
        m.servicer_userid.clone_from(&row.servicer_userid);
    }
    m
}

/// Who may recall a message: the one who sent it.
#[derive(Clone, Copy)]
pub(super) enum Sender<'a> {
    /// The app, through `kf/send_msg` or `kf/send_msg_on_event`.
    App,
    /// The customer with this `external_userid`, from WeChat.
    Customer(&'a str),
    /// The servicer with this `userid`, from the WeCom app.
    Servicer(&'a str),
}

impl Sender<'_> {
    /// The refusal of a msgid that is not theirs.
    fn not_theirs(self, msgid: &str, open_kfid: &str) -> Rejection {
        let detail = match self {
            Sender::App => {
                format!("msgid {msgid:?} is not a message this kf account sent through the API")
            }
            Sender::Customer(id) => {
                format!("msgid {msgid:?} is not a message customer {id:?} sent to {open_kfid}")
            }
            Sender::Servicer(id) => {
                format!("msgid {msgid:?} is not a message servicer {id:?} sent to {open_kfid}")
            }
        };
        Rejection::with(ErrCode::INVALID_PARAMETER, detail)
    }

    /// Whether `message` is theirs.
    fn sent(self, message: &MessageRow) -> bool {
        match self {
            Sender::App => message.origin == APP_ORIGIN,
            Sender::Customer(external_userid) => {
                message.origin == Origin::Customer && message.external_userid == external_userid
            }
            Sender::Servicer(userid) => {
                message.origin == Origin::Servicer
                    && message.servicer_userid.as_deref() == Some(userid)
            }
        }
    }
}

/// The setting that says a customer refuses an account's messages.
pub(super) fn reject_key(open_kfid: &str, external_userid: &str) -> String {
    format!("reject:{open_kfid}:{external_userid}")
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
        self.insert_message(
            open_kfid,
            external_userid,
            session_id,
            origin,
            servicer_userid,
            msgid.clone(),
            content,
            true,
        )?;
        Ok(msgid)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_message(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
        session_id: Option<i64>,
        origin: Origin,
        servicer_userid: Option<&str>,
        msgid: String,
        content: Content,
        delivered: bool,
    ) -> Result<(), Rejection> {
        let visible = origin != APP_ORIGIN;
        self.store.insert_message(MessageRow {
            seq: 0,
            msgid,
            open_kfid: open_kfid.to_owned(),
            external_userid: external_userid.to_owned(),
            session_id,
            origin,
            servicer_userid: servicer_userid.map(str::to_owned),
            msgtype: content.msgtype().to_owned(),
            content: content.into_payload(),
            send_time: self.now,
            recalled: false,
            delivered,
        })?;
        // Committed: now its callback, pushed once the lock is released.
        if visible {
            self.became_visible(open_kfid)?;
        }
        Ok(())
    }

    /// Append an event (origin 4), naming the account and the customer in it.
    pub(crate) fn append_event(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
        session_id: Option<i64>,
        mut event: Event,
    ) -> Result<String, Rejection> {
        event.set_ids(open_kfid, external_userid);
        self.append_message(
            open_kfid,
            external_userid,
            session_id,
            Origin::Event,
            None,
            Content::Event(event),
        )
    }

    // ---- kf/sync_msg ----

    /// A sync Token for the account, as a `kf_msg_or_event` callback carries.
    pub(crate) fn issue_sync_token(&mut self, open_kfid: &str) -> Result<String, Rejection> {
        self.account(open_kfid)?;
        let token = format!("ENC{}", ids::msgid());
        self.store.insert_sync_token(&token, open_kfid, self.now)?;
        Ok(token)
    }

    /// `kf/sync_msg`: the account's log after the cursor, within the last 3 days.
    ///
    /// A page covers up to `limit` entries of the log, the app's own sends included,
    /// and returns them without those sends: a page may be empty while `has_more` is
    /// 1, as the service's are.
    pub(crate) fn sync_msg(
        &self,
        caller: &Caller,
        request: &SyncMsg,
    ) -> Result<SyncMsgResponse, Rejection> {
        let open_kfid = &request.open_kfid;
        self.managed_account(open_kfid, caller)?;
        if let Some(token) = request.token.as_deref().filter(|t| !t.is_empty()) {
            match self.store.sync_token(token) {
                None => return Err(invalid_msgtoken("the token was not issued by a callback")),
                Some((kfid, _)) if kfid != open_kfid => {
                    return Err(invalid_msgtoken(
                        "the token was issued for another kf account",
                    ));
                }
                Some((_, at)) if self.now - at > SYNC_TOKEN_TTL_SECS => {
                    return Err(invalid_msgtoken(
                        "the token expired: a callback's token is valid 10 minutes",
                    ));
                }
                Some(_) => {}
            }
        }
        let after = match request.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(cursor) => seq_of(cursor)?,
            None => 0,
        };
        let limit = request.limit.unwrap_or(SYNC_LIMIT_MAX) as usize;
        let since = self.now - SYNC_WINDOW_SECS;
        let mut window = self
            .store
            .account_messages_after(open_kfid, after)
            .filter(|m| m.send_time >= since);
        let mut last = after;
        let mut page = Vec::new();
        for row in window.by_ref().take(limit) {
            last = row.seq;
            if row.origin != APP_ORIGIN {
                page.push(to_wire(row));
            }
        }
        let has_more = window.next().is_some();
        Ok(SyncMsgResponse::new(cursor_of(last), has_more, page))
    }

    // ---- sending ----

    /// The msgid of a send: the caller's, unless the account used it already (40058,
    /// see `DUPLICATE_MSGID`), or a new one.
    fn fresh_msgid(&self, open_kfid: &str, msgid: Option<String>) -> Result<String, Rejection> {
        match msgid {
            Some(id) if self.store.message(open_kfid, &id).is_some() => Err(Rejection::with(
                DUPLICATE_MSGID,
                format!("msgid duplicated: {id:?} was already sent by this kf account"),
            )),
            Some(id) => Ok(id),
            None => Ok(ids::msgid()),
        }
    }

    /// The media a message to send names must be uploaded, of the right kind (40007).
    fn check_outbound_media(&self, content: &Content) -> Result<(), Rejection> {
        match content {
            Content::Image(m) => self.check_media("image.media_id", &m.media_id, MediaType::Image),
            Content::Voice(m) => self.check_media("voice.media_id", &m.media_id, MediaType::Voice),
            Content::Video(m) => self.check_media("video.media_id", &m.media_id, MediaType::Video),
            Content::File(m) => self.check_media("file.media_id", &m.media_id, MediaType::File),
            Content::Link(l) => self.check_media(
                "link.thumb_media_id",
                l.thumb_media_id.as_deref().unwrap_or_default(),
                MediaType::Image,
            ),
            Content::Miniprogram(card) => self.check_media(
                "miniprogram.thumb_media_id",
                &card.thumb_media_id,
                MediaType::Image,
            ),
            _ => Ok(()),
        }
    }

    /// Hand an app's message to the customer: into the inbox, unless they refuse the
    /// account's messages; then it is kept undelivered and `msg_send_fail` (10) follows.
    fn deliver(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
        session_id: Option<i64>,
        msgid: &str,
        mut content: Content,
    ) -> Result<(), Rejection> {
        // The service cuts these rather than refusing them.
        match &mut content {
            Content::Link(link) => {
                cut(&mut link.title, LINK_TITLE_MAX_BYTES);
                cut(&mut link.desc, LINK_DESC_MAX_BYTES);
            }
            Content::Miniprogram(card) => cut(&mut card.title, MINIPROGRAM_TITLE_MAX_BYTES),
            _ => {}
        }
        let rejected: bool = self.store.setting(&reject_key(open_kfid, external_userid));
        self.insert_message(
            open_kfid,
            external_userid,
            session_id,
            APP_ORIGIN,
            None,
            msgid.to_owned(),
            content,
            !rejected,
        )?;
        if rejected {
            self.append_event(
                open_kfid,
                external_userid,
                session_id,
                Event::MsgSendFail(MsgSendFail::new(msgid, FailType::UserRejects)),
            )?;
        }
        Ok(())
    }

    /// `kf/send_msg`: in states 0 and 1 only (95018), within 48 h of the customer's
    /// last message (95002), at most 5 sends per customer message (95001); a send in
    /// state 0 moves the session to 1. Answers the msgid.
    pub(crate) fn send_msg(
        &mut self,
        caller: &Caller,
        request: SendMsg,
    ) -> Result<String, Rejection> {
        let (open_kfid, customer) = (request.open_kfid.as_str(), request.touser.as_str());
        self.managed_account(open_kfid, caller)?;
        self.known_customer(customer)?;
        // First, so that the retry of a send that went through is told so.
        let msgid = self.fresh_msgid(open_kfid, request.msgid)?;
        self.check_outbound_media(&request.content)?;
        let (row, state) = self.current(open_kfid, customer);
        let Some(mut row) = row else {
            return Err(Rejection::with(
                ErrCode::SEND_SESSION_STATUS_INVALID,
                "the customer has never written to this kf account (state 4)",
            ));
        };
        if self.now - row.last_customer_msg_at > SESSION_WINDOW_SECS {
            return Err(Rejection::with(
                ErrCode::SEND_TIME_OUT_OF_LIMIT,
                format!(
                    "the customer last wrote {} hours ago; the API may answer within 48 hours",
                    (self.now - row.last_customer_msg_at) / 3600
                ),
            ));
        }
        if !state.api_may_send() {
            return Err(Rejection::with(
                ErrCode::SEND_SESSION_STATUS_INVALID,
                format!("the session is in state {state}; the API may send in states 0 and 1 only"),
            ));
        }
        self.check_customer_cap(customer)?;
        if row.sends_since_customer >= SENDS_PER_CUSTOMER_MESSAGE {
            return Err(Rejection::with(
                ErrCode::SEND_COUNT_OUT_OF_LIMIT,
                "5 messages were already sent since the customer's last message",
            ));
        }
        row.sends_since_customer += 1;
        if state == ServiceState::New {
            row.state = ServiceState::Bot;
        }
        let session = row.id;
        self.store.update_session(row)?;
        if state == ServiceState::New {
            self.record_move(
                session,
                state,
                ServiceState::Bot,
                None,
                "kf/send_msg: the app answered",
            )?;
        }
        self.deliver(open_kfid, customer, Some(session), &msgid, request.content)?;
        Ok(msgid)
    }

    /// `kf/send_msg_on_event`: the one message a code allows, within its time (20 s
    /// for welcome and end codes, 48 h for reply codes) and, but for a welcome, while
    /// the session is still in the state that issued it; 95007 otherwise.
    pub(crate) fn send_msg_on_event(
        &mut self,
        caller: &Caller,
        request: SendMsgOnEvent,
    ) -> Result<String, Rejection> {
        let code = self
            .store
            .msg_code(&request.code)
            .cloned()
            .ok_or_else(|| invalid_msgtoken("the code was never issued"))?;
        let (open_kfid, customer) = (code.open_kfid.as_str(), code.external_userid.as_str());
        self.managed_account(open_kfid, caller)?;
        let msgid = self.fresh_msgid(open_kfid, request.msgid)?;
        if code.used {
            return Err(invalid_msgtoken(
                "the code was already used: it sends one message",
            ));
        }
        let ttl = code.kind.ttl_secs();
        if self.now - code.issued_at > ttl {
            return Err(invalid_msgtoken(&format!(
                "the code expired: a {:?} code is valid {ttl} seconds",
                code.kind
            )));
        }
        let (current, state) = self.current(open_kfid, customer);
        let same_session = current.is_some_and(|row| Some(row.id) == code.session_id);
        let still = match code.kind {
            EventScenario::Queued => same_session && state == ServiceState::Queued,
            EventScenario::Taken => same_session && state == ServiceState::Human,
            EventScenario::End => same_session && state == ServiceState::Ended,
            _ => true,
        };
        if !still {
            return Err(invalid_msgtoken(&format!(
                "the session left the state that issued this {:?} code (it is in state {state})",
                code.kind
            )));
        }
        validate_outbound(&request.content, code.kind.msgtypes())
            .map_err(|invalid| Rejection::with(invalid.errcode, invalid.to_string()))?;
        self.check_outbound_media(&request.content)?;
        self.store.use_msg_code(&request.code)?;
        self.deliver(
            open_kfid,
            customer,
            code.session_id,
            &msgid,
            request.content,
        )?;
        Ok(msgid)
    }

    /// `kf/recall_msg`: a message the app sent, within 2 minutes. Recalling it again
    /// answers 0. The recall does not give back its place in the 5-message quota.
    pub(crate) fn recall_msg(
        &mut self,
        caller: &Caller,
        open_kfid: &str,
        msgid: &str,
    ) -> Result<(), Rejection> {
        self.managed_account(open_kfid, caller)?;
        self.recall(open_kfid, msgid, Sender::App)?;
        Ok(())
    }

    /// The recall rule, one for the API, the customer and the servicers: a sender
    /// recalls only their own message, within 2 minutes of sending it; recalling it
    /// again changes nothing. Answers the message when this call recalled it.
    pub(super) fn recall(
        &mut self,
        open_kfid: &str,
        msgid: &str,
        sender: Sender<'_>,
    ) -> Result<Option<MessageRow>, Rejection> {
        let sent = self
            .store
            .message(open_kfid, msgid)
            .filter(|m| sender.sent(m))
            .ok_or_else(|| sender.not_theirs(msgid, open_kfid))?;
        if sent.recalled {
            return Ok(None);
        }
        if self.now - sent.send_time > RECALL_WINDOW_SECS {
            return Err(Rejection::with(
                ErrCode::INVALID_PARAMETER,
                "a message can be recalled within 2 minutes of sending",
            ));
        }
        let sent = sent.clone();
        self.store.recall_message(open_kfid, msgid)?;
        Ok(Some(sent))
    }
}
