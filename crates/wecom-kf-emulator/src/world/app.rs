//! The servicers' side, in the WeCom app (docs/emulator-control.md, "Servicers"),
//! facing `control/servicers.rs` one to one: a servicer starts or stops serving, takes
//! a queued session, transfers or ends theirs, writes, recalls, and rejects a
//! customer's messages. Each act goes through the API's own rules (the session state
//! machine, the message log, the recall rule) and leaves the events the service sends.

use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::message::{
    ChangeType, Content, Event, Origin, RecallMsg, RejectSwitchChange, ServicerStatusChange,
    ServingChange, SessionStatusChange,
};
use wecom_kf_types::kf::send_msg_on_event::EventScenario;
use wecom_kf_types::kf::service_state::ServiceState;
use wecom_kf_types::limits::SESSION_WINDOW_SECS;

use super::World;
use super::message::Sender;
use super::session::{already_serves, not_a_servicer};
use crate::rejection::Rejection;
use crate::store::SessionRow;

impl World<'_> {
    /// A servicer acts in the app on a customer's session: the account, the servicer
    /// (able to serve it) and the customer must exist.
    fn acting(
        &self,
        open_kfid: &str,
        userid: &str,
        external_userid: &str,
    ) -> Result<(), Rejection> {
        self.account(open_kfid)?;
        self.check_can_serve(open_kfid, userid)?;
        self.known_customer(external_userid)
    }

    fn session_event(
        &mut self,
        kind: ChangeType,
        row: &SessionRow,
        old: Option<&str>,
        new: Option<&str>,
        msg_code: Option<&str>,
    ) -> Result<(), Rejection> {
        let mut change = SessionStatusChange::new(kind);
        change.old_servicer_userid = old.map(str::to_owned);
        change.new_servicer_userid = new.map(str::to_owned);
        change.msg_code = msg_code.map(str::to_owned);
        let event = Event::SessionStatusChange(change);
        self.append_event(&row.open_kfid, &row.external_userid, Some(row.id), event)?;
        Ok(())
    }

    /// A servicer takes a session from the queue (2 → 3, change_type 1).
    pub(crate) fn servicer_take(
        &mut self,
        userid: &str,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<Option<String>, Rejection> {
        self.acting(open_kfid, userid, external_userid)?;
        let (row, from) = self.current(open_kfid, external_userid);
        let row = match (row, from) {
            (Some(row), ServiceState::Queued) => row,
            (_, ServiceState::Ended) => return Err(ErrCode::SESSION_ENDED.into()),
            _ => {
                return Err(Rejection::with(
                    ErrCode::STATE_TRANSITION_NOT_ALLOWED,
                    format!(
                        "only a queued session (2) can be taken; it is in {}",
                        from.number()
                    ),
                ));
            }
        };
        // The event of a take always carries a reply code (change_type 1), even when
        // the move to the queue already issued one to the app.
        let code = match self.apply_move(
            row.clone(),
            ServiceState::Human,
            Some(userid),
            "a servicer took it from the queue in the WeCom app",
        )? {
            Some(code) => code,
            None => self.issue_code(
                open_kfid,
                external_userid,
                Some(row.id),
                EventScenario::Taken,
            )?,
        };
        let code = Some(code);
        self.session_event(ChangeType::Taken, &row, None, Some(userid), code.as_deref())?;
        Ok(code)
    }

    /// The session `userid` serves now (95016 if they do not serve it; 95013 if ended).
    fn served_by(
        &self,
        userid: &str,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<SessionRow, Rejection> {
        let (row, state) = self.current(open_kfid, external_userid);
        match row {
            _ if state == ServiceState::Ended => Err(ErrCode::SESSION_ENDED.into()),
            Some(row)
                if state == ServiceState::Human
                    && row.servicer_userid.as_deref() == Some(userid) =>
            {
                Ok(row)
            }
            _ => Err(Rejection::with(
                ErrCode::STATE_TRANSITION_NOT_ALLOWED,
                format!(
                    "{userid:?} does not serve this session (state {})",
                    state.number()
                ),
            )),
        }
    }

    /// A servicer hands their session to another (3 → 3, change_type 2).
    pub(crate) fn servicer_transfer(
        &mut self,
        userid: &str,
        open_kfid: &str,
        external_userid: &str,
        to: &str,
    ) -> Result<(), Rejection> {
        self.acting(open_kfid, userid, external_userid)?;
        let row = self.served_by(userid, open_kfid, external_userid)?;
        if to == userid {
            return Err(already_serves(userid));
        }
        self.check_can_serve(open_kfid, to)?;
        self.apply_move(
            row.clone(),
            ServiceState::Human,
            Some(to),
            &format!("{userid} transferred it in the WeCom app"),
        )?;
        self.session_event(ChangeType::Transferred, &row, Some(userid), Some(to), None)
    }

    /// A servicer ends their session (3 → 4, change_type 3, with an end code).
    pub(crate) fn servicer_end(
        &mut self,
        userid: &str,
        open_kfid: &str,
        external_userid: &str,
    ) -> Result<Option<String>, Rejection> {
        self.acting(open_kfid, userid, external_userid)?;
        let row = self.served_by(userid, open_kfid, external_userid)?;
        let code = self.apply_move(
            row.clone(),
            ServiceState::Ended,
            None,
            &format!("{userid} ended it in the WeCom app"),
        )?;
        self.session_event(ChangeType::Ended, &row, Some(userid), None, code.as_deref())?;
        Ok(code)
    }

    /// A servicer writes from the app (origin 5). In an ended session (within 48 h of
    /// the customer's last message) this reopens it with them (→ 3, change_type 4).
    pub(crate) fn servicer_send(
        &mut self,
        userid: &str,
        open_kfid: &str,
        external_userid: &str,
        content: Content,
    ) -> Result<String, Rejection> {
        self.acting(open_kfid, userid, external_userid)?;
        let (row, state) = self.current(open_kfid, external_userid);
        let Some(mut row) =
            row.filter(|r| self.now - r.last_customer_msg_at <= SESSION_WINDOW_SECS)
        else {
            return Err(Rejection::with(
                ErrCode::NO_CONSULTATION_IN_48H,
                "the customer has not written in the last 48 hours",
            ));
        };
        if state == ServiceState::Ended {
            let old = row.servicer_userid.clone();
            row.state = ServiceState::Human;
            row.servicer_userid = Some(userid.to_owned());
            row.ended_at = None;
            self.store.update_session(row.clone())?;
            self.record_move(
                row.id,
                ServiceState::Ended,
                ServiceState::Human,
                Some(userid.to_owned()),
                &format!("{userid} wrote from the WeCom app after it ended"),
            )?;
            self.session_event(
                ChangeType::Reentered,
                &row,
                old.as_deref(),
                Some(userid),
                None,
            )?;
        } else {
            self.served_by(userid, open_kfid, external_userid)?;
        }
        self.append_message(
            open_kfid,
            external_userid,
            Some(row.id),
            Origin::Servicer,
            Some(userid),
            content,
        )
    }

    /// A servicer starts or stops serving an account: a `servicer_status_change`
    /// event, whose encoding is 1 serving / 2 stopped (list says 0 / 1).
    pub(crate) fn set_serving_status(
        &mut self,
        userid: &str,
        open_kfid: &str,
        status: u8,
        stop_type: u8,
    ) -> Result<(), Rejection> {
        self.account(open_kfid)?;
        if !self.serves(open_kfid, userid) {
            return Err(not_a_servicer(userid, open_kfid));
        }
        if status > 1 || stop_type > 1 {
            return Err(Rejection::with(
                ErrCode::INVALID_PARAMETER,
                format!("status and stop_type must be 0 or 1, got {status} and {stop_type}"),
            ));
        }
        let stop_type = if status == 1 { stop_type } else { 0 };
        self.store.put_serving_status(
            open_kfid,
            userid,
            crate::store::ServingStatus { status, stop_type },
        )?;
        self.append_event(
            open_kfid,
            "",
            None,
            Event::ServicerStatusChange(ServicerStatusChange::new(
                userid,
                if status == 0 {
                    ServingChange::Serving
                } else {
                    ServingChange::Stopped
                },
                stop_type,
            )),
        )?;
        Ok(())
    }

    /// A servicer recalls their message from the WeCom app: `servicer_recall_msg`.
    pub(crate) fn servicer_recalls(
        &mut self,
        userid: &str,
        open_kfid: &str,
        msgid: &str,
    ) -> Result<(), Rejection> {
        self.account(open_kfid)?;
        let Some(sent) = self.recall(open_kfid, msgid, Sender::Servicer(userid))? else {
            return Ok(());
        };
        let mut recall = RecallMsg::new(msgid);
        recall.servicer_userid = Some(userid.to_owned());
        let event = Event::ServicerRecallMsg(recall);
        self.append_event(open_kfid, &sent.external_userid, sent.session_id, event)?;
        Ok(())
    }

    /// A servicer rejects a customer's messages in the WeCom app (or stops):
    /// `reject_customer_msg_switch_change`.
    pub(crate) fn servicer_reject_switch(
        &mut self,
        userid: &str,
        open_kfid: &str,
        external_userid: &str,
        reject: bool,
    ) -> Result<(), Rejection> {
        self.account(open_kfid)?;
        if !self.serves(open_kfid, userid) {
            return Err(Rejection::with(
                ErrCode::NOT_A_SERVICER,
                format!("{userid:?} is not a servicer of {open_kfid}"),
            ));
        }
        self.known_customer(external_userid)?;
        let session = self.store.session(open_kfid, external_userid).map(|s| s.id);
        self.append_event(
            open_kfid,
            external_userid,
            session,
            Event::RejectSwitchChange(RejectSwitchChange::new(userid, reject)),
        )?;
        Ok(())
    }
}
