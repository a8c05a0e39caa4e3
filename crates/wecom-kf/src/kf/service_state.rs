//! `/cgi-bin/kf/service_state/{get,trans}`: `client.session()`.
//!
//! One method per move. Each reads the state first and refuses a move the transition
//! table forbids, before sending it, saying where the session may go from where it is.
//! [`SessionApi::diagnose`] explains a refused send or move (95018 and its family) from
//! the session's state.

use std::fmt;

use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::service_state::{
    GetServiceState, ServiceState, ServiceStateInfo, TransServiceState,
};

use crate::{Client, Error};

/// Sessions (会话) of customers with accounts: `client.session()`.
#[derive(Clone, Debug)]
pub struct SessionApi {
    client: Client,
}

impl Client {
    /// Session state: read it, move it, explain a refusal.
    pub fn session(&self) -> SessionApi {
        SessionApi {
            client: self.clone(),
        }
    }
}

/// What a move did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Moved {
    /// The state before.
    pub from: ServiceState,
    /// The state now.
    pub to: ServiceState,
    /// For `kf/send_msg_on_event`, when the move issued one: the first move to the
    /// queue or a servicer (a reply), or an end (a goodbye).
    pub msg_code: Option<String>,
}

/// Why a call of the session family was refused, in words, from the session's state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnosis {
    /// The errcode explained.
    pub code: ErrCode,
    /// The session as read while diagnosing (`None` if it could not be read).
    pub state: Option<ServiceStateInfo>,
    /// Why it happened.
    pub cause: String,
    /// What to do about it.
    pub action: String,
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errcode {}", self.code)?;
        match &self.state {
            Some(info) => {
                write!(f, "; the session is in state {}", info.service_state)?;
                if let Some(servicer) = &info.servicer_userid {
                    write!(f, ", served by {servicer}")?;
                }
            }
            None => f.write_str("; the session's state could not be read")?,
        }
        write!(f, ".\nwhy: {}\nwhat to do: {}", self.cause, self.action)
    }
}

/// The codes [`SessionApi::diagnose`] explains.
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

/// The words for `code` given the session's state: (cause, action).
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

impl SessionApi {
    /// The state of `external_userid`'s session with `open_kfid`, and its servicer in
    /// state 3.
    pub async fn get(
        &self,
        open_kfid: impl Into<String>,
        external_userid: impl Into<String>,
    ) -> Result<ServiceStateInfo, Error> {
        self.client
            .execute(&GetServiceState::new(open_kfid, external_userid))
            .await
    }

    /// Hand the session to the bot (the API): → 1.
    pub async fn to_bot(&self, open_kfid: &str, external_userid: &str) -> Result<Moved, Error> {
        self.move_to(open_kfid, external_userid, ServiceState::Bot, None)
            .await
    }

    /// Put the session in the queue for a servicer: → 2.
    pub async fn to_queue(&self, open_kfid: &str, external_userid: &str) -> Result<Moved, Error> {
        self.move_to(open_kfid, external_userid, ServiceState::Queued, None)
            .await
    }

    /// Give the session to a servicer who is serving: → 3 (from 3, a transfer).
    pub async fn assign(
        &self,
        open_kfid: &str,
        external_userid: &str,
        servicer_userid: &str,
    ) -> Result<Moved, Error> {
        self.move_to(
            open_kfid,
            external_userid,
            ServiceState::Human,
            Some(servicer_userid),
        )
        .await
    }

    /// End the session: → 4. The answer's `msg_code` lets you say goodbye with
    /// `kf/send_msg_on_event`.
    pub async fn end(&self, open_kfid: &str, external_userid: &str) -> Result<Moved, Error> {
        self.move_to(open_kfid, external_userid, ServiceState::Ended, None)
            .await
    }

    /// Read the state, refuse a forbidden move before sending it, then move.
    ///
    /// The read and the move are two calls: the service still decides, and a session
    /// that changed in between is refused by it with the same codes.
    async fn move_to(
        &self,
        open_kfid: &str,
        external_userid: &str,
        to: ServiceState,
        servicer: Option<&str>,
    ) -> Result<Moved, Error> {
        let mut request = TransServiceState::new(open_kfid, external_userid, to);
        if let Some(servicer) = servicer {
            request = request.servicer(servicer);
        }
        wecom_kf_types::Endpoint::validate(&request)?;
        let from = self.get(open_kfid, external_userid).await?.service_state;
        if let Err(code) = from.check_move(to) {
            return Err(Error::ForbiddenMove {
                from,
                to,
                allowed: from.allowed_moves().to_vec(),
                code,
            });
        }
        let answer = self.client.execute(&request).await?;
        Ok(Moved {
            from,
            to,
            msg_code: answer.msg_code,
        })
    }

    /// Explain `code` (95018, 95001, 95002, 95013, 95014, 95016, 95019, 95031) from the
    /// session's state, read now. A failure to read the state is part of the answer,
    /// not an error: the diagnosis then says what it can without it.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client, kfid: &str, customer: &str) {
    /// # let err: wecom_kf::Error = unimplemented!();
    /// if let Some(code) = err.api_code() {
    ///     let diagnosis = client.session().diagnose(kfid, customer, code).await;
    ///     eprintln!("{diagnosis}");
    /// }
    /// # }
    /// ```
    pub async fn diagnose(
        &self,
        open_kfid: &str,
        external_userid: &str,
        code: ErrCode,
    ) -> Diagnosis {
        let state = self.get(open_kfid, external_userid).await.ok();
        let (cause, action) = explain(code, state.as_ref());
        Diagnosis {
            code,
            state,
            cause,
            action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_95018_in_human_state_names_the_servicer_and_the_way_out() {
        let info = ServiceStateInfo::new(ServiceState::Human, Some("zhangsan".into()));
        let (cause, action) = explain(ErrCode::SEND_SESSION_STATUS_INVALID, Some(&info));
        assert!(cause.contains("zhangsan took the session over"), "{cause}");
        assert!(action.contains("end the session"), "{action}");
        let queued = ServiceStateInfo::new(ServiceState::Queued, None);
        let (cause, _) = explain(ErrCode::SEND_SESSION_STATUS_INVALID, Some(&queued));
        assert!(cause.contains("queue"), "{cause}");
    }

    #[test]
    fn every_diagnosed_code_has_its_own_words() {
        let info = ServiceStateInfo::new(ServiceState::Bot, None);
        let causes: std::collections::HashSet<String> = DIAGNOSED
            .iter()
            .map(|code| explain(*code, Some(&info)).0)
            .collect();
        assert_eq!(causes.len(), DIAGNOSED.len());
        let (_, action) = explain(ErrCode::STATE_TRANSITION_NOT_ALLOWED, Some(&info));
        assert_eq!(
            action,
            "from there the API may move the session to: 2 queued, 3 human, 4 ended"
        );
    }
}
