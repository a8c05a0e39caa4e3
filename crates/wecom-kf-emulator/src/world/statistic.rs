//! Statistics computed from the emulator's own records (docs/kf-api.md §4.11): per
//! China-time day, sessions started, customers who wrote and their messages, for the
//! account or its servicers. A day with nothing in it has no `statistic`.

use std::collections::HashSet;

use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::statistic::{
    CorpFigures, Daily, DayRange, ServicerFigures, china_midnight,
};

use wecom_kf_types::kf::message::Origin;

use super::World;
use crate::rejection::Rejection;
use crate::store::{APP_ORIGIN, MessageRow, SessionRow};

#[allow(clippy::cast_precision_loss)] // counts in an emulator stay far below 2^52
fn rate(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl World<'_> {
    fn check_range(&self, open_kfid: &str, range: DayRange) -> Result<(), Rejection> {
        self.account(open_kfid)?;
        range
            .check_window(self.now)
            .map_err(|e| Rejection::with(ErrCode::INVALID_PARAMETER, e.to_string()))
    }

    fn sessions_on<'a>(
        &'a self,
        open_kfid: &'a str,
        day: i64,
    ) -> impl Iterator<Item = &'a SessionRow> {
        self.store
            .sessions()
            .filter(move |s| s.open_kfid == open_kfid && china_midnight(s.started_at) == day)
    }

    fn messages_on<'a>(
        &'a self,
        open_kfid: &'a str,
        day: i64,
    ) -> impl Iterator<Item = &'a MessageRow> {
        self.store
            .messages()
            .iter()
            .filter(move |m| m.open_kfid == open_kfid && china_midnight(m.send_time) == day)
    }

    /// Customers who refused messages that day (`msg_send_fail` with fail_type 10).
    fn rejected_customers(&self, open_kfid: &str, day: i64, of: &dyn Fn(&str) -> bool) -> usize {
        self.messages_on(open_kfid, day)
            .filter(|m| {
                m.origin == Origin::Event
                    && m.content["event_type"] == "msg_send_fail"
                    && m.content["fail_type"] == 10
                    && of(&m.external_userid)
            })
            .map(|m| m.external_userid.as_str())
            .collect::<HashSet<_>>()
            .len()
    }

    /// Customers recommended onward that day.
    fn upgraded_customers(
        &self,
        open_kfid: &str,
        day: i64,
        kind: Option<u8>,
        of: &dyn Fn(&str) -> bool,
    ) -> usize {
        self.store
            .upgrades()
            .filter(|u| {
                u.open_kfid == open_kfid
                    && china_midnight(u.made_at) == day
                    && kind.is_none_or(|k| u.kind == k)
                    && of(&u.external_userid)
            })
            .map(|u| u.external_userid.as_str())
            .collect::<HashSet<_>>()
            .len()
    }

    /// `kf/get_corp_statistic`.
    pub(crate) fn corp_statistic(
        &self,
        open_kfid: &str,
        range: DayRange,
    ) -> Result<Vec<Daily<CorpFigures>>, Rejection> {
        self.check_range(open_kfid, range)?;
        Ok(range
            .days()
            .map(|day| {
                let sessions: Vec<&SessionRow> = self.sessions_on(open_kfid, day).collect();
                let written: Vec<&MessageRow> = self
                    .messages_on(open_kfid, day)
                    .filter(|m| m.origin == Origin::Customer)
                    .collect();
                if sessions.is_empty() && written.is_empty() {
                    return Daily::new(day, None);
                }
                let answered_by_bot: HashSet<i64> = self
                    .messages_on(open_kfid, day)
                    .filter(|m| m.origin == APP_ORIGIN && m.servicer_userid.is_none())
                    .filter_map(|m| m.session_id)
                    .collect();
                let moved_on = answered_by_bot
                    .iter()
                    .filter(|id| {
                        self.store
                            .session_by_id(**id)
                            .is_some_and(|s| s.servicer_userid.is_some())
                    })
                    .count();
                let anyone = |_: &str| true;
                let mut figures = CorpFigures::default();
                figures.session_cnt = count(sessions.len());
                figures.customer_cnt = count(
                    written
                        .iter()
                        .map(|m| m.external_userid.as_str())
                        .collect::<HashSet<_>>()
                        .len(),
                );
                figures.customer_msg_cnt = count(written.len());
                figures.upgrade_service_customer_cnt =
                    count(self.upgraded_customers(open_kfid, day, None, &anyone));
                figures.ai_session_reply_cnt = count(answered_by_bot.len());
                figures.ai_transfer_rate = rate(moved_on, answered_by_bot.len());
                figures.msg_rejected_customer_cnt =
                    count(self.rejected_customers(open_kfid, day, &anyone));
                Daily::new(day, Some(figures))
            })
            .collect())
    }

    /// `kf/get_servicer_statistic`: the sessions a servicer (or any) served, by the day
    /// they started.
    pub(crate) fn servicer_statistic(
        &self,
        open_kfid: &str,
        servicer: Option<&str>,
        range: DayRange,
    ) -> Result<Vec<Daily<ServicerFigures>>, Rejection> {
        self.check_range(open_kfid, range)?;
        let served_by = |s: &SessionRow| match (servicer, s.servicer_userid.as_deref()) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(wanted), Some(who)) => wanted == who,
        };
        Ok(range
            .days()
            .map(|day| {
                let sessions: Vec<&SessionRow> = self
                    .sessions_on(open_kfid, day)
                    .filter(|s| served_by(s))
                    .collect();
                if sessions.is_empty() {
                    return Daily::new(day, None);
                }
                let ids: HashSet<i64> = sessions.iter().map(|s| s.id).collect();
                let customers: HashSet<&str> = sessions
                    .iter()
                    .map(|s| s.external_userid.as_str())
                    .collect();
                let ids = &ids;
                let in_sessions = |origin| {
                    self.store.messages().iter().filter(move |m| {
                        m.origin == origin && m.session_id.is_some_and(|id| ids.contains(&id))
                    })
                };
                let first_replies: Vec<i64> = sessions
                    .iter()
                    .filter_map(|s| {
                        in_sessions(Origin::Servicer)
                            .find(|m| m.session_id == Some(s.id))
                            .map(|m| m.send_time - s.started_at)
                    })
                    .collect();
                let of = |id: &str| customers.contains(id);
                let mut figures = ServicerFigures::default();
                figures.session_cnt = count(sessions.len());
                figures.customer_cnt = count(customers.len());
                figures.customer_msg_cnt = count(in_sessions(Origin::Customer).count());
                figures.reply_rate = rate(first_replies.len(), sessions.len());
                #[allow(clippy::cast_precision_loss)]
                {
                    figures.first_reply_average_sec = if first_replies.is_empty() {
                        0.0
                    } else {
                        first_replies.iter().sum::<i64>() as f64 / first_replies.len() as f64
                    };
                }
                figures.upgrade_service_customer_cnt =
                    count(self.upgraded_customers(open_kfid, day, None, &of));
                figures.upgrade_service_member_invite_cnt =
                    count(self.upgraded_customers(open_kfid, day, Some(1), &of));
                figures.upgrade_service_groupchat_invite_cnt =
                    count(self.upgraded_customers(open_kfid, day, Some(2), &of));
                figures.msg_rejected_customer_cnt =
                    count(self.rejected_customers(open_kfid, day, &of));
                Daily::new(day, Some(figures))
            })
            .collect())
    }
}
