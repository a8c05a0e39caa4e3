//! `/cgi-bin/kf/service_state/{get,trans}`: where a conversation stands, and moving it
//! on (docs/kf-api.md §4.4).
//!
//! The transition table is data on [`ServiceState`]: the client refuses a forbidden
//! move before sending it and the emulator refuses it with the same code.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::{self, Invalid, Limit, Validated};
use crate::{Endpoint, ErrCode, Method};

use super::validate_session;

/// The state of a customer's session with an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum ServiceState {
    /// 0 未处理: the customer wrote, nobody has taken the session yet.
    New = 0,
    /// 1 由智能助手接待: the API (a bot) serves it; only here and in `New` may the API send.
    Bot = 1,
    /// 2 待接入池排队中: waiting in the queue for a servicer.
    Queued = 2,
    /// 3 由人工接待: a human servicer serves it.
    Human = 3,
    /// 4 已结束/未开始: ended, or the customer has not written yet.
    Ended = 4,
}

/// Every state, in wire order.
pub const ALL_STATES: [ServiceState; 5] = [
    ServiceState::New,
    ServiceState::Bot,
    ServiceState::Queued,
    ServiceState::Human,
    ServiceState::Ended,
];

impl ServiceState {
    /// The wire number.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The official name (Chinese) and a short English one.
    pub const fn names(self) -> (&'static str, &'static str) {
        match self {
            ServiceState::New => ("未处理", "new"),
            ServiceState::Bot => ("由智能助手接待", "bot"),
            ServiceState::Queued => ("待接入池排队中", "queued"),
            ServiceState::Human => ("由人工接待", "human"),
            ServiceState::Ended => ("已结束/未开始", "ended"),
        }
    }

    /// The states `kf/service_state/trans` may move a session to from this one.
    ///
    /// The documented table (0→1, 0→2, 0→3, 1→2, 1→3, 2→3, 3→3 transfer, 3→4), plus the
    /// edges to 4 from 0, 1 and 2 that the official flow chart draws and bots use to
    /// end the sessions they serve (docs/kf-api.md §4.4, §6.4). Nothing leaves 4 by
    /// the API: the customer's next message does (→ 0).
    pub const fn allowed_moves(self) -> &'static [ServiceState] {
        use ServiceState::{Bot, Ended, Human, New, Queued};
        match self {
            New => &[Bot, Queued, Human, Ended],
            Bot => &[Queued, Human, Ended],
            // From 3, "to 3" is a transfer to another servicer.
            Queued | Human => &[Human, Ended],
            Ended => &[],
        }
    }

    /// Whether the API may move a session from this state to `to`: `Ok`, or the code the
    /// service answers: 95013 out of an ended session, 95016 for any other forbidden
    /// move.
    pub fn check_move(self, to: ServiceState) -> Result<(), ErrCode> {
        if self.allowed_moves().contains(&to) {
            Ok(())
        } else if self == ServiceState::Ended {
            Err(ErrCode::SESSION_ENDED)
        } else {
            Err(ErrCode::STATE_TRANSITION_NOT_ALLOWED)
        }
    }

    /// Whether `kf/send_msg` may send in this state (else 95018).
    pub const fn api_may_send(self) -> bool {
        matches!(self, ServiceState::New | ServiceState::Bot)
    }

    /// Whether moving here issues a `msg_code`: the first move to the queue or to a
    /// servicer (a reply code), and every end (an end code).
    pub const fn issues_code(self) -> bool {
        matches!(
            self,
            ServiceState::Queued | ServiceState::Human | ServiceState::Ended
        )
    }
}

impl fmt::Display for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (zh, en) = self.names();
        write!(f, "{} {en} ({zh})", self.number())
    }
}

impl From<ServiceState> for u8 {
    fn from(state: ServiceState) -> u8 {
        state.number()
    }
}

impl TryFrom<u8> for ServiceState {
    type Error = String;

    fn try_from(n: u8) -> Result<Self, String> {
        ALL_STATES
            .get(usize::from(n))
            .copied()
            .ok_or_else(|| format!("service_state must be 0 to 4, got {n}"))
    }
}

/// `POST /cgi-bin/kf/service_state/get`: a customer's session state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetServiceState {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
}

impl GetServiceState {
    /// The state of `external_userid`'s session with `open_kfid`.
    pub fn new(open_kfid: impl Into<String>, external_userid: impl Into<String>) -> Self {
        GetServiceState {
            open_kfid: open_kfid.into(),
            external_userid: external_userid.into(),
        }
    }
}

impl Endpoint for GetServiceState {
    const PATH: &'static str = "/cgi-bin/kf/service_state/get";
    const METHOD: Method = Method::Post;
    type Response = ServiceStateInfo;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_session(&self.open_kfid, &self.external_userid)
    }
}

/// Answer of `kf/service_state/get`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceStateInfo {
    /// The state.
    pub service_state: ServiceState,
    /// The servicer, in state 3 (open_userid for third-party apps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicer_userid: Option<String>,
}

impl ServiceStateInfo {
    /// An answer; `servicer_userid` only counts in state 3.
    pub fn new(service_state: ServiceState, servicer_userid: Option<String>) -> Self {
        ServiceStateInfo {
            service_state,
            servicer_userid: servicer_userid
                .filter(|s| !s.is_empty() && service_state == ServiceState::Human),
        }
    }
}

/// `POST /cgi-bin/kf/service_state/trans`: move a session to another state.
///
/// ```
/// use wecom_kf_types::kf::service_state::{ServiceState, TransServiceState};
/// use wecom_kf_types::Endpoint;
///
/// let to_human = TransServiceState::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", "wmq", ServiceState::Human);
/// assert_eq!(to_human.validate().unwrap_err().field, "servicer_userid");
/// assert!(to_human.servicer("zhangsan").validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransServiceState {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// Where to move the session.
    pub service_state: ServiceState,
    /// The servicer who takes it; required when `service_state` is 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicer_userid: Option<String>,
}

impl TransServiceState {
    /// Move `external_userid`'s session with `open_kfid` to `to`.
    pub fn new(
        open_kfid: impl Into<String>,
        external_userid: impl Into<String>,
        to: ServiceState,
    ) -> Self {
        TransServiceState {
            open_kfid: open_kfid.into(),
            external_userid: external_userid.into(),
            service_state: to,
            servicer_userid: None,
        }
    }

    /// The servicer who takes the session (state 3).
    #[must_use]
    pub fn servicer(mut self, userid: impl Into<String>) -> Self {
        self.servicer_userid = Some(userid.into());
        self
    }
}

impl Endpoint for TransServiceState {
    const PATH: &'static str = "/cgi-bin/kf/service_state/trans";
    const METHOD: Method = Method::Post;
    type Response = TransServiceStateResponse;

    /// A move issues a `msg_code` and changes the state: sent twice, the second is
    /// refused (95016) or transfers again.
    fn idempotent(&self) -> bool {
        false
    }

    fn validate(&self) -> Validated {
        validate_session(&self.open_kfid, &self.external_userid)?;
        match (&self.servicer_userid, self.service_state) {
            (None, ServiceState::Human) => Err(Invalid {
                field: "servicer_userid",
                limit: Limit::Required,
                given: "nothing, with service_state 3".into(),
                errcode: ErrCode::INVALID_PARAMETER,
            }),
            (Some(userid), ServiceState::Human) => validate::required_bytes(
                "servicer_userid",
                userid,
                crate::limits::USERID_MAX_BYTES,
                ErrCode::INVALID_PARAMETER,
                ErrCode::INVALID_PARAMETER,
            ),
            _ => Ok(()),
        }
    }

    fn outcome_unknown_hint(&self) -> &'static str {
        "read the state with kf/service_state/get before moving the session again"
    }
}

/// Answer of `kf/service_state/trans`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransServiceStateResponse {
    /// For `kf/send_msg_on_event`: issued on the first move to 2 and on the first move
    /// to 3 (each a reply code) and on a move to 4 (an end code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_code: Option<String>,
}

impl TransServiceStateResponse {
    /// An answer.
    pub fn new(msg_code: Option<String>) -> Self {
        TransServiceStateResponse { msg_code }
    }
}

/// The codes [`explain`] explains (the client's `SessionApi::diagnose` and the
/// emulator's console use it).
pub const DIAGNOSED: &[ErrCode] = &[
    ErrCode::SEND_SESSION_STATUS_INVALID,
    ErrCode::SEND_COUNT_OUT_OF_LIMIT,
    ErrCode::SEND_TIME_OUT_OF_LIMIT,
    ErrCode::SESSION_ENDED,
    ErrCode::NOT_A_SERVICER,
    ErrCode::STATE_TRANSITION_NOT_ALLOWED,
    ErrCode::SERVICER_STOPPED,
    ErrCode::NO_CONSULTATION_IN_48H,
];

fn list(states: &[ServiceState]) -> String {
    if states.is_empty() {
        return "nowhere".to_owned();
    }
    states
        .iter()
        .map(|s| {
            let (_, en) = s.names();
            format!("{} {en}", s.number())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The words for a refusal `code` given the session's state: (cause, action). Pure:
/// the client explains a refused call with it, the emulator's console a logged one.
pub fn explain(code: ErrCode, state: Option<&ServiceStateInfo>) -> (String, String) {
    use ServiceState::{Bot, Ended, Human, New, Queued};
    let now = state.map(|s| s.service_state);
    let servicer = state
        .and_then(|s| s.servicer_userid.as_deref())
        .unwrap_or("a servicer");
    let (cause, action): (String, String) = match code {
        ErrCode::SEND_SESSION_STATUS_INVALID => match now {
            Some(Human) => (
                format!("{servicer} took the session over (state 3); the API may send only in states 0 and 1"),
                "let the servicer answer in the WeCom app, or end the session (→ 4) and answer after the customer's next message; if sessions should stay with your bot, stop routing them to servicers (admin console: 接待方式) or remove the servicers".into(),
            ),
            Some(Queued) => (
                "the session waits in the queue for a servicer (state 2); the API may not send there".into(),
                "assign it to a servicer (→ 3), or end it (→ 4); the API cannot take it back to the bot".into(),
            ),
            Some(Ended) => (
                "the session has ended or has not started (state 4): the customer has not written since".into(),
                "wait for the customer's next message (it opens a new session in state 0); to greet on entry use the welcome_code of enter_session with kf/send_msg_on_event".into(),
            ),
            Some(New | Bot) => (
                "the state allows sending now, so the refusal came from elsewhere: more than 48 hours since the customer's message, or a corp that is not verified".into(),
                "check when the customer last wrote, and the corp's verification (kf/get_corp_qualification)".into(),
            ),
            None => (
                "the session's state does not allow sending (the API may send in states 0 and 1 only)".into(),
                "read the state with `wecom-kf session get` and move the session accordingly".into(),
            ),
        },
        ErrCode::SEND_COUNT_OUT_OF_LIMIT => (
            "five messages were already sent since the customer's last message".into(),
            "wait for the customer to write again; each customer message allows five answers".into(),
        ),
        ErrCode::SEND_TIME_OUT_OF_LIMIT => (
            "more than 48 hours passed since the customer's last message".into(),
            "wait for the customer to write again".into(),
        ),
        ErrCode::SESSION_ENDED => (
            "the session has ended (state 4); nothing moves a session out of 4 but the customer".into(),
            "wait for the customer's next message, which starts a new session in state 0".into(),
        ),
        ErrCode::NOT_A_SERVICER => (
            "the member is not a servicer of this account, or has not activated WeCom".into(),
            "add them with `wecom-kf servicer add OPEN_KFID --user USERID`, and have them log in to the WeCom app once".into(),
        ),
        ErrCode::STATE_TRANSITION_NOT_ALLOWED => match now {
            Some(from) => (
                format!("that move is not allowed from state {from}"),
                format!("from there the API may move the session to: {}", list(from.allowed_moves())),
            ),
            None => (
                "that move is not allowed from the session's state".into(),
                "read the state with `wecom-kf session get` first".into(),
            ),
        },
        ErrCode::SERVICER_STOPPED => (
            "the servicer has stopped serving or is suspended (停止接待/暂时挂起)".into(),
            "pick a servicer whose status is 0 in `wecom-kf servicer list`, or ask this one to resume serving".into(),
        ),
        ErrCode::NO_CONSULTATION_IN_48H => (
            "the customer has not written to this account in the last 48 hours".into(),
            "wait for the customer to write".into(),
        ),
        other => (
            format!("errcode {other} is not one of the session family"),
            other.hint().unwrap_or("see its look-up URL").to_owned(),
        ),
    };
    (cause, action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_allows_exactly_the_documented_moves_and_the_chart_edges_to_4() {
        let allowed: Vec<(u8, u8)> = ALL_STATES
            .iter()
            .flat_map(|&from| ALL_STATES.iter().map(move |&to| (from, to)))
            .filter(|(from, to)| from.check_move(*to).is_ok())
            .map(|(from, to)| (from.number(), to.number()))
            .collect();
        assert_eq!(
            allowed,
            [
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 4),
                (1, 2),
                (1, 3),
                (1, 4),
                (2, 3),
                (2, 4),
                (3, 3),
                (3, 4)
            ]
        );
        assert_eq!(
            ServiceState::Ended.check_move(ServiceState::New),
            Err(ErrCode::SESSION_ENDED)
        );
        assert_eq!(
            ServiceState::Bot.check_move(ServiceState::New),
            Err(ErrCode::STATE_TRANSITION_NOT_ALLOWED)
        );
    }

    #[test]
    fn states_are_numbers_on_the_wire() {
        let info: ServiceStateInfo =
            serde_json::from_str(r#"{"service_state":3,"servicer_userid":"zhangsan"}"#).unwrap();
        assert_eq!(info.service_state, ServiceState::Human);
        assert!(serde_json::from_str::<ServiceStateInfo>(r#"{"service_state":5}"#).is_err());
        assert_eq!(
            serde_json::to_string(&TransServiceState::new("wk1", "wm1", ServiceState::Queued))
                .unwrap(),
            r#"{"open_kfid":"wk1","external_userid":"wm1","service_state":2}"#
        );
    }
}
