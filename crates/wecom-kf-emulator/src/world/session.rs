//! Sessions and their state machine (docs/kf-api.md §4.4, §8): the moves of
//! `kf/service_state/trans`, what a customer's message does to a session (starts one
//! from state 4, routed), the routing mode of each account and the corp's customer cap
//! (95003). The servicers' moves in the WeCom app (`app.rs`) go through the same rules.
//!
//! The table of allowed moves is `ServiceState::check_move`, shared with the client.

use serde::{Deserialize, Serialize};
use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::qualification::customer_cap;
use wecom_kf_types::kf::send_msg_on_event::EventScenario;
use wecom_kf_types::kf::service_state::{ServiceState, ServiceStateInfo};
use wecom_kf_types::limits::SESSION_WINDOW_SECS;

use super::Caller;
use super::World;
use crate::ids;
use crate::rejection::Rejection;
use crate::store::{MoveRow, MsgCodeRow, QUEUED_CODE, SessionRow, TAKEN_CODE};

/// How new sessions of an account are routed (docs/emulator-control.md, "Servicers").
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Routing {
    /// `"api"`: new sessions wait for the app (state 0). `"servicers"`: to a serving
    /// servicer (3), round robin, or to the queue (2) when none serves.
    #[serde(default)]
    pub mode: RoutingMode,
    /// Round-robin position.
    #[serde(default)]
    pub next: usize,
}

/// How an account's new sessions are routed (`POST /__emulator/accounts/{open_kfid}/routing`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingMode {
    /// `"api"`: new sessions wait for the app (state 0).
    #[default]
    Api,
    /// `"servicers"`: to a serving servicer (3), round robin, or to the queue (2).
    Servicers,
}

fn routing_key(open_kfid: &str) -> String {
    format!("routing:{open_kfid}")
}

/// 95014: not a servicer of the account (directly or through a department), or has
/// not activated WeCom.
pub(super) fn not_a_servicer(userid: &str, open_kfid: &str) -> Rejection {
    Rejection::with(
        ErrCode::NOT_A_SERVICER,
        format!("{userid:?} is not a servicer of {open_kfid} or has not activated WeCom"),
    )
}

/// 95016 for a transfer to the servicer who already serves the session.
pub(super) fn already_serves(userid: &str) -> Rejection {
    Rejection::with(
        ErrCode::STATE_TRANSITION_NOT_ALLOWED,
        format!("{userid:?} already serves this session"),
    )
}

impl SessionRow {
    /// The state now: a session with no customer message for 48 hours has ended.
    pub(crate) fn state_at(&self, now: i64) -> ServiceState {
        if self.state != ServiceState::Ended
            && now - self.last_customer_msg_at > SESSION_WINDOW_SECS
        {
            ServiceState::Ended
        } else {
            self.state
        }
    }
}

impl World<'_> {
    /// A customer the emulator knows (40096 otherwise).
    pub(crate) fn known_customer(&self, external_userid: &str) -> Result<(), Rejection> {
        if self.store.customer(external_userid).is_some() {
            Ok(())
        } else {
            Err(Rejection::with(
                ErrCode::INVALID_EXTERNAL_USERID,
                format!("external_userid {external_userid:?} is not a customer"),
            ))
        }
    }

    /// The customer's current session and its state now (4 when there is none).
    pub(super) fn current(
        &self,
        open_kfid: &str,
        external_userid: &str,
    ) -> (Option<SessionRow>, ServiceState) {
        match self.store.session(open_kfid, external_userid) {
            Some(row) => (Some(row.clone()), row.state_at(self.now)),
            None => (None, ServiceState::Ended),
        }
    }

    /// `kf/service_state/get`.
    pub(crate) fn service_state(
        &self,
        caller: &Caller,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<ServiceStateInfo, Rejection> {
        self.managed_account(open_kfid, caller)?;
        self.known_customer(external_userid)?;
        let (row, state) = self.current(open_kfid, external_userid);
        Ok(ServiceStateInfo::new(
            state,
            row.and_then(|r| r.servicer_userid),
        ))
    }

    /// The corp may serve only so many customers in all (95003): the first ones to
    /// start a session count, in order.
    pub(crate) fn check_customer_cap(&self, external_userid: &str) -> Result<(), Rejection> {
        let Some(cap) = customer_cap(self.config.verified, self.config.wechat_channels_bound)
        else {
            return Ok(());
        };
        let mut seen = std::collections::HashSet::new();
        for row in self.store.sessions() {
            if seen.len() >= cap {
                break;
            }
            seen.insert(row.external_userid.as_str());
        }
        if seen.contains(external_userid) {
            Ok(())
        } else {
            Err(Rejection::with(
                ErrCode::CUSTOMER_COUNT_OUT_OF_LIMIT,
                format!("the corp's accounts may serve {cap} customers in all"),
            ))
        }
    }

    /// Whether `userid` may take sessions of the account: a servicer of it (directly
    /// or through a department) who activated WeCom (95014), and serving (95019).
    pub(crate) fn check_can_serve(&self, open_kfid: &str, userid: &str) -> Result<(), Rejection> {
        if !self.serves(open_kfid, userid) {
            return Err(not_a_servicer(userid, open_kfid));
        }
        let status = self.store.serving_status(open_kfid, userid);
        if status.status != 0 {
            let how = if status.stop_type == 1 {
                "is suspended"
            } else {
                "has stopped serving"
            };
            return Err(Rejection::with(
                ErrCode::SERVICER_STOPPED,
                format!("servicer {userid:?} {how}"),
            ));
        }
        Ok(())
    }

    /// Issue a code for `kf/send_msg_on_event`.
    pub(crate) fn issue_code(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
        session_id: Option<i64>,
        kind: EventScenario,
    ) -> Result<String, Rejection> {
        let code = ids::msg_code();
        self.store.insert_msg_code(
            &code,
            MsgCodeRow {
                open_kfid: open_kfid.to_owned(),
                external_userid: external_userid.to_owned(),
                session_id,
                kind,
                issued_at: self.now,
                used: false,
            },
        )?;
        Ok(code)
    }

    /// Move a session, as allowed by the table, and issue its code: a reply code on the
    /// first move to 2 and on the first move to 3, an end code on every move to 4.
    pub(super) fn apply_move(
        &mut self,
        mut row: SessionRow,
        to: ServiceState,
        servicer: Option<&str>,
        cause: &str,
    ) -> Result<Option<String>, Rejection> {
        let from = row.state_at(self.now);
        let code = match to {
            // Each of the first move to 2 and the first move to 3 has its own code
            // (spec §4.4, §4.8): a queued session that a servicer is then given gets
            // one for the "taken" notice too.
            ServiceState::Queued if row.reply_codes & QUEUED_CODE == 0 => {
                row.reply_codes |= QUEUED_CODE;
                Some(EventScenario::Queued)
            }
            ServiceState::Human if row.reply_codes & TAKEN_CODE == 0 => {
                row.reply_codes |= TAKEN_CODE;
                Some(EventScenario::Taken)
            }
            ServiceState::Ended => Some(EventScenario::End),
            _ => None,
        };
        row.state = to;
        if to == ServiceState::Human {
            row.servicer_userid = servicer.map(str::to_owned);
        }
        if to == ServiceState::Ended {
            row.ended_at = Some(self.now);
        }
        let (open_kfid, external_userid, id) =
            (row.open_kfid.clone(), row.external_userid.clone(), row.id);
        let after = row
            .servicer_userid
            .clone()
            .filter(|_| to == ServiceState::Human);
        self.store.update_session(row)?;
        self.record_move(id, from, to, after, cause)?;
        code.map(|kind| self.issue_code(&open_kfid, &external_userid, Some(id), kind))
            .transpose()
    }

    /// Keep a session's move in its history, with what caused it.
    pub(super) fn record_move(
        &mut self,
        session_id: i64,
        from: ServiceState,
        to: ServiceState,
        servicer_userid: Option<String>,
        cause: &str,
    ) -> Result<(), Rejection> {
        let row = MoveRow {
            at: self.now,
            from: from.number(),
            to: to.number(),
            servicer_userid,
            cause: cause.to_owned(),
        };
        Ok(self.store.insert_move(session_id, row)?)
    }

    /// The session to move and its state, refusing a move the table forbids (95013 out
    /// of an ended session, 95016 otherwise).
    pub(super) fn movable(
        &self,
        open_kfid: &str,
        external_userid: &str,
        to: ServiceState,
    ) -> Result<SessionRow, Rejection> {
        let (row, from) = self.current(open_kfid, external_userid);
        from.check_move(to).map_err(|code| {
            let allowed: Vec<String> = from
                .allowed_moves()
                .iter()
                .map(|s| s.number().to_string())
                .collect();
            Rejection::with(
                code,
                format!(
                    "the session is in state {}; from there the API may move it to [{}], not to {}",
                    from.number(),
                    allowed.join(","),
                    to.number()
                ),
            )
        })?;
        // Only state 4 has no row, and nothing leaves 4 by a move.
        row.ok_or_else(|| Rejection::from(ErrCode::SESSION_ENDED))
    }

    /// `kf/service_state/trans`: answers the `msg_code`, when one is issued.
    pub(crate) fn trans_service_state(
        &mut self,
        caller: &Caller,
        open_kfid: &str,
        external_userid: &str,
        to: ServiceState,
        servicer: Option<&str>,
    ) -> Result<Option<String>, Rejection> {
        self.managed_account(open_kfid, caller)?;
        self.known_customer(external_userid)?;
        let row = self.movable(open_kfid, external_userid, to)?;
        self.check_customer_cap(external_userid)?;
        if to == ServiceState::Human {
            let servicer = servicer.unwrap_or_default();
            if row.state == ServiceState::Human && row.servicer_userid.as_deref() == Some(servicer)
            {
                return Err(already_serves(servicer));
            }
            self.check_can_serve(open_kfid, servicer)?;
        }
        self.apply_move(row, to, servicer, "kf/service_state/trans")
    }

    /// A customer's message: starts a session from state 4 (→ 0, then routed), opens
    /// the 48 h window and resets the 5-message quota. Answers the session's id.
    pub(crate) fn customer_writes(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<i64, Rejection> {
        let (row, state) = self.current(open_kfid, external_userid);
        if let Some(mut row) = row.filter(|_| state != ServiceState::Ended) {
            row.last_customer_msg_at = self.now;
            row.sends_since_customer = 0;
            let id = row.id;
            self.store.update_session(row)?;
            return Ok(id);
        }
        let id = self.store.insert_session(SessionRow {
            id: 0,
            open_kfid: open_kfid.to_owned(),
            external_userid: external_userid.to_owned(),
            state: ServiceState::New,
            servicer_userid: None,
            started_at: self.now,
            last_customer_msg_at: self.now,
            sends_since_customer: 0,
            reply_codes: 0,
            ended_at: None,
        })?;
        self.record_move(
            id,
            ServiceState::Ended,
            ServiceState::New,
            None,
            "the customer wrote: a new session",
        )?;
        self.route_new_session(open_kfid, external_userid)?;
        Ok(id)
    }

    /// In `"servicers"` mode a new session goes to a serving servicer, round robin, or
    /// to the queue when none serves.
    fn route_new_session(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<(), Rejection> {
        let mut routing: Routing = self.store.setting(&routing_key(open_kfid));
        if routing.mode == RoutingMode::Api {
            return Ok(());
        }
        let serving: Vec<String> = self
            .servicer_users(open_kfid)
            .into_iter()
            .filter(|u| self.check_can_serve(open_kfid, u).is_ok())
            .collect();
        let row = self.movable(open_kfid, external_userid, ServiceState::Queued)?;
        if serving.is_empty() {
            self.apply_move(
                row,
                ServiceState::Queued,
                None,
                "routing to servicers: none is serving, so the queue",
            )?;
        } else {
            let servicer = &serving[routing.next % serving.len()];
            routing.next = (routing.next + 1) % serving.len();
            self.apply_move(
                row,
                ServiceState::Human,
                Some(servicer),
                "routing to servicers (round robin)",
            )?;
            self.store.put_setting(&routing_key(open_kfid), &routing)?;
        }
        Ok(())
    }

    /// How the account's new sessions are routed.
    pub(crate) fn routing_mode(&self, open_kfid: &str) -> RoutingMode {
        self.store.setting::<Routing>(&routing_key(open_kfid)).mode
    }

    /// `POST /__emulator/accounts/{open_kfid}/routing`.
    pub(crate) fn set_routing(
        &mut self,
        open_kfid: &str,
        mode: RoutingMode,
    ) -> Result<(), Rejection> {
        self.account(open_kfid)?;
        let routing = Routing { mode, next: 0 };
        Ok(self.store.put_setting(&routing_key(open_kfid), &routing)?)
    }
}
