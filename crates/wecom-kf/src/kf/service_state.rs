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

pub use wecom_kf_types::kf::service_state::{DIAGNOSED, explain};

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
