//! `/cgi-bin/kf/get_corp_statistic` and `/cgi-bin/kf/get_servicer_statistic`: daily
//! figures of an account and its servicers (docs/kf-api.md §4.11).
//!
//! Days are China time (UTC+8) days. Times are floored to that day's midnight, a call
//! spans at most 31 days (both ends included), and only days from yesterday back to
//! 180 days ago have figures. The span rule needs no clock and is in
//! [`Endpoint::validate`]; the window rule needs one, so it is [`DayRange::check_window`]
//! and callers pass their own time (the emulator has a movable clock).

use serde::{Deserialize, Serialize};

use crate::limits::{
    CHINA_UTC_OFFSET_SECS, STATISTIC_HISTORY_DAYS, STATISTIC_SPAN_DAYS, USERID_MAX_BYTES,
};
use crate::validate::{self, Invalid, Limit, Validated};
use crate::{Endpoint, ErrCode, Method};

use super::validate_open_kfid;

const DAY: i64 = 86_400;

/// The China-time midnight that starts the day of `unix` (1554296400 → 1554220800).
pub const fn china_midnight(unix: i64) -> i64 {
    (unix + CHINA_UTC_OFFSET_SECS).div_euclid(DAY) * DAY - CHINA_UTC_OFFSET_SECS
}

/// The days asked for: `start_time` and `end_time`, each a China-time midnight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DayRange {
    /// The first day's midnight (unix seconds).
    #[serde(default)]
    pub start_time: i64,
    /// The last day's midnight (unix seconds), included.
    #[serde(default)]
    pub end_time: i64,
}

impl DayRange {
    /// The days from the one holding `start` to the one holding `end`, floored to
    /// midnight China time as the service does.
    pub const fn new(start: i64, end: i64) -> Self {
        DayRange {
            start_time: china_midnight(start),
            end_time: china_midnight(end),
        }
    }

    /// Each day's midnight, first to last.
    pub fn days(self) -> impl Iterator<Item = i64> {
        let (start, end) = (
            china_midnight(self.start_time),
            china_midnight(self.end_time),
        );
        (0..)
            .map(move |i| start + i * DAY)
            .take_while(move |day| *day <= end)
    }

    /// Start before end, and at most 31 days (no clock needed).
    pub fn validate(self) -> Validated {
        let invalid = |field, limit, given| Invalid {
            field,
            limit,
            given,
            errcode: ErrCode::INVALID_PARAMETER,
        };
        if self.start_time < 0 || self.start_time > i64::from(u32::MAX) {
            return Err(invalid(
                "start_time",
                Limit::Range {
                    min: 0,
                    max: u32::MAX.into(),
                },
                self.start_time.to_string(),
            ));
        }
        let (start, end) = (
            china_midnight(self.start_time),
            china_midnight(self.end_time),
        );
        if end < start {
            return Err(invalid(
                "end_time",
                Limit::Range {
                    min: start.unsigned_abs(),
                    max: u32::MAX.into(),
                },
                format!("{} (before start_time {start})", self.end_time),
            ));
        }
        let days = (end - start) / DAY + 1;
        if days > STATISTIC_SPAN_DAYS {
            return Err(invalid(
                "end_time",
                Limit::Range {
                    min: 1,
                    max: STATISTIC_SPAN_DAYS.unsigned_abs(),
                },
                format!("a span of {days} days"),
            ));
        }
        Ok(())
    }

    /// Only days from yesterday back to 180 days before today have figures (today's
    /// are ready tomorrow). `now` is unix seconds.
    pub fn check_window(self, now: i64) -> Validated {
        let today = china_midnight(now);
        let earliest = today - STATISTIC_HISTORY_DAYS * DAY;
        let invalid = |field, given: String| Invalid {
            field,
            limit: Limit::Range {
                min: earliest.unsigned_abs(),
                max: (today - DAY).unsigned_abs(),
            },
            given,
            errcode: ErrCode::INVALID_PARAMETER,
        };
        if china_midnight(self.end_time) >= today {
            return Err(invalid(
                "end_time",
                format!(
                    "{} (today or later; a day's figures are ready the next day)",
                    self.end_time
                ),
            ));
        }
        if china_midnight(self.start_time) < earliest {
            return Err(invalid(
                "start_time",
                format!(
                    "{} (more than {STATISTIC_HISTORY_DAYS} days ago)",
                    self.start_time
                ),
            ));
        }
        Ok(())
    }
}

/// `POST /cgi-bin/kf/get_corp_statistic`: an account's figures per day.
///
/// ```
/// use wecom_kf_types::kf::statistic::{CorpStatistic, DayRange};
/// use wecom_kf_types::Endpoint;
///
/// // 2019-04-03 21:00 China time floors to that day's midnight.
/// let req = CorpStatistic::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", DayRange::new(1554296400, 1554296400));
/// assert_eq!(req.range.start_time, 1554220800);
/// let long = CorpStatistic::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", DayRange::new(1554220800, 1554220800 + 31 * 86400));
/// assert!(long.validate().unwrap_err().given.contains("32 days"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CorpStatistic {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The days.
    #[serde(flatten)]
    pub range: DayRange,
}

impl CorpStatistic {
    /// The figures of `open_kfid` over `range`.
    pub fn new(open_kfid: impl Into<String>, range: DayRange) -> Self {
        CorpStatistic {
            open_kfid: open_kfid.into(),
            range,
        }
    }
}

impl Endpoint for CorpStatistic {
    const PATH: &'static str = "/cgi-bin/kf/get_corp_statistic";
    const METHOD: Method = Method::Post;
    type Response = StatisticList<CorpFigures>;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        self.range.validate()
    }
}

/// `POST /cgi-bin/kf/get_servicer_statistic`: servicers' figures per day, for the
/// whole account or one servicer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServicerStatistic {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// One servicer; `None` for all the account's servicers together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicer_userid: Option<String>,
    /// The days.
    #[serde(flatten)]
    pub range: DayRange,
}

impl ServicerStatistic {
    /// The servicers' figures of `open_kfid` over `range`.
    pub fn new(open_kfid: impl Into<String>, range: DayRange) -> Self {
        ServicerStatistic {
            open_kfid: open_kfid.into(),
            servicer_userid: None,
            range,
        }
    }

    /// Only this servicer's figures.
    #[must_use]
    pub fn servicer(mut self, userid: impl Into<String>) -> Self {
        self.servicer_userid = Some(userid.into());
        self
    }
}

impl Endpoint for ServicerStatistic {
    const PATH: &'static str = "/cgi-bin/kf/get_servicer_statistic";
    const METHOD: Method = Method::Post;
    type Response = StatisticList<ServicerFigures>;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        if let Some(userid) = &self.servicer_userid {
            validate::required_bytes(
                "servicer_userid",
                userid,
                USERID_MAX_BYTES,
                ErrCode::INVALID_PARAMETER,
                ErrCode::INVALID_PARAMETER,
            )?;
        }
        self.range.validate()
    }
}

/// Answer of the statistics calls: one entry per day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatisticList<T> {
    /// Day by day.
    #[serde(default = "Vec::new")]
    pub statistic_list: Vec<Daily<T>>,
}

impl<T> StatisticList<T> {
    /// An answer.
    pub fn new(statistic_list: Vec<Daily<T>>) -> Self {
        StatisticList { statistic_list }
    }
}

/// One day's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Daily<T> {
    /// The day's midnight, China time.
    pub stat_time: i64,
    /// Absent for a day with no data, or not computed yet.
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub statistic: Option<T>,
}

impl<T> Daily<T> {
    /// A day.
    pub fn new(stat_time: i64, statistic: Option<T>) -> Self {
        Daily {
            stat_time,
            statistic,
        }
    }
}

/// An account's figures for one day.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CorpFigures {
    /// Sessions started (咨询会话数).
    #[serde(default)]
    pub session_cnt: u64,
    /// Customers who wrote (咨询客户数).
    #[serde(default)]
    pub customer_cnt: u64,
    /// Messages customers wrote (咨询消息总数).
    #[serde(default)]
    pub customer_msg_cnt: u64,
    /// Customers handed on by 升级服务.
    #[serde(default)]
    pub upgrade_service_customer_cnt: u64,
    /// Sessions the bot answered.
    #[serde(default)]
    pub ai_session_reply_cnt: u64,
    /// Share of bot sessions moved on to a human.
    #[serde(default)]
    pub ai_transfer_rate: f64,
    /// Share of bot answers that hit the knowledge base (may be absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_knowledge_hit_rate: Option<f64>,
    /// Customers who refused messages.
    #[serde(default)]
    pub msg_rejected_customer_cnt: u64,
}

/// Servicers' figures for one day.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServicerFigures {
    /// Sessions the servicers took.
    #[serde(default)]
    pub session_cnt: u64,
    /// Customers they served.
    #[serde(default)]
    pub customer_cnt: u64,
    /// Messages those customers wrote.
    #[serde(default)]
    pub customer_msg_cnt: u64,
    /// Share of sessions with a servicer's reply.
    #[serde(default)]
    pub reply_rate: f64,
    /// Mean seconds from a session's start to the servicer's first reply.
    #[serde(default)]
    pub first_reply_average_sec: f64,
    /// Satisfaction surveys sent (`investgate` is the service's spelling).
    #[serde(default)]
    pub satisfaction_investgate_cnt: u64,
    /// Share of surveys answered.
    #[serde(default)]
    pub satisfaction_participation_rate: f64,
    /// Share of answers "satisfied".
    #[serde(default)]
    pub satisfied_rate: f64,
    /// Share of answers "middling".
    #[serde(default)]
    pub middling_rate: f64,
    /// Share of answers "dissatisfied".
    #[serde(default)]
    pub dissatisfied_rate: f64,
    /// Customers handed on by 升级服务.
    #[serde(default)]
    pub upgrade_service_customer_cnt: u64,
    /// Member recommendations sent.
    #[serde(default)]
    pub upgrade_service_member_invite_cnt: u64,
    /// Customers who added the recommended member.
    #[serde(default)]
    pub upgrade_service_member_customer_cnt: u64,
    /// Group chat invitations sent.
    #[serde(default)]
    pub upgrade_service_groupchat_invite_cnt: u64,
    /// Customers who joined the group chat.
    #[serde(default)]
    pub upgrade_service_groupchat_customer_cnt: u64,
    /// Customers who refused messages.
    #[serde(default)]
    pub msg_rejected_customer_cnt: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIDNIGHT: i64 = 1_554_220_800; // 2019-04-03 00:00 China time

    #[test]
    fn times_floor_to_china_midnight() {
        assert_eq!(china_midnight(1_554_296_400), MIDNIGHT);
        assert_eq!(china_midnight(MIDNIGHT), MIDNIGHT);
        assert_eq!(china_midnight(MIDNIGHT - 1), MIDNIGHT - DAY);
        assert_eq!(
            DayRange::new(MIDNIGHT + 5, MIDNIGHT + 2 * DAY)
                .days()
                .count(),
            3
        );
    }

    #[test]
    fn a_span_of_31_days_passes_and_32_fails() {
        assert!(
            DayRange::new(MIDNIGHT, MIDNIGHT + 30 * DAY)
                .validate()
                .is_ok()
        );
        let err = DayRange::new(MIDNIGHT, MIDNIGHT + 31 * DAY)
            .validate()
            .unwrap_err();
        assert_eq!(err.field, "end_time");
        assert_eq!(err.given, "a span of 32 days");
        let backwards = DayRange::new(MIDNIGHT, MIDNIGHT - DAY)
            .validate()
            .unwrap_err();
        assert!(backwards.given.contains("before start_time"));
    }

    #[test]
    fn only_yesterday_back_to_180_days_ago() {
        let now = MIDNIGHT + 10 * 3600;
        assert!(
            DayRange::new(MIDNIGHT - DAY, MIDNIGHT - DAY)
                .check_window(now)
                .is_ok()
        );
        assert_eq!(
            DayRange::new(MIDNIGHT - DAY, MIDNIGHT)
                .check_window(now)
                .unwrap_err()
                .field,
            "end_time"
        );
        assert!(
            DayRange::new(MIDNIGHT - 180 * DAY, MIDNIGHT - 170 * DAY)
                .check_window(now)
                .is_ok()
        );
        assert_eq!(
            DayRange::new(MIDNIGHT - 181 * DAY, MIDNIGHT - 170 * DAY)
                .check_window(now)
                .unwrap_err()
                .field,
            "start_time"
        );
    }
}
