//! `wecom-kf stats corp|servicer OPEN_KFID --from DATE --to DATE [--servicer U]`.
//!
//! Dates are China-time days (YYYY-MM-DD), as the service counts them. On a terminal a
//! bar chart of sessions per day follows the table.

use std::fmt::Write as _;

use clap::{Args, Subcommand};
use serde::Serialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};
use wecom_kf::types::kf::statistic::{CorpFigures, Daily, DayRange, ServicerFigures};
use wecom_kf::types::limits::CHINA_UTC_OFFSET_SECS;

use crate::context::Context;
use crate::error::CliError;
use crate::output::{Format, Row};

/// Statistics commands.
#[derive(Subcommand, Debug)]
pub enum StatsCommand {
    /// An account's figures per day: sessions, customers, customer messages.
    #[command(
        after_help = "Example:\n  wecom-kf stats corp wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --from 2026-11-01 --to 2026-11-21\n\nDays are China time; at most 31 of them, from yesterday back to 180 days ago."
    )]
    Corp(Days),
    /// Servicers' figures per day: all of an account's together, or one's.
    #[command(
        after_help = "Example:\n  wecom-kf stats servicer wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw --from 2026-11-01 --to 2026-11-21 --servicer zhangsan"
    )]
    Servicer {
        #[command(flatten)]
        days: Days,
        /// One servicer's figures only.
        #[arg(long, value_name = "USERID")]
        servicer: Option<String>,
    },
}

/// Which account and days.
#[derive(Args, Debug)]
pub struct Days {
    /// The account.
    open_kfid: String,
    /// First day, YYYY-MM-DD (China time).
    #[arg(long, value_name = "DATE")]
    from: String,
    /// Last day, YYYY-MM-DD (China time), included.
    #[arg(long, value_name = "DATE")]
    to: String,
}

fn china() -> UtcOffset {
    UtcOffset::from_whole_seconds(i32::try_from(CHINA_UTC_OFFSET_SECS).unwrap_or(28_800))
        .unwrap_or(UtcOffset::UTC)
}

/// A `YYYY-MM-DD` China-time day as the unix time of its midnight.
fn parse_day(flag: &str, text: &str) -> Result<i64, CliError> {
    let date = Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|e| {
        CliError::Input(format!(
            "{flag} must be a date as YYYY-MM-DD; got {text:?} ({e})"
        ))
    })?;
    Ok(date.midnight().assume_offset(china()).unix_timestamp())
}

fn day_text(stat_time: i64) -> String {
    OffsetDateTime::from_unix_timestamp(stat_time).map_or_else(
        |_| stat_time.to_string(),
        |t| t.to_offset(china()).date().to_string(),
    )
}

fn range(days: &Days) -> Result<DayRange, CliError> {
    Ok(DayRange::new(
        parse_day("--from", &days.from)?,
        parse_day("--to", &days.to)?,
    ))
}

/// One day of an account.
#[derive(Serialize)]
struct CorpRow {
    date: String,
    stat_time: i64,
    session_cnt: Option<u64>,
    customer_cnt: Option<u64>,
    customer_msg_cnt: Option<u64>,
    upgrade_service_customer_cnt: Option<u64>,
    ai_session_reply_cnt: Option<u64>,
    ai_transfer_rate: Option<f64>,
    msg_rejected_customer_cnt: Option<u64>,
}

fn cell<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

impl Row for CorpRow {
    const FIELDS: &'static [&'static str] = &[
        "date",
        "stat_time",
        "session_cnt",
        "customer_cnt",
        "customer_msg_cnt",
        "upgrade_service_customer_cnt",
        "ai_session_reply_cnt",
        "ai_transfer_rate",
        "msg_rejected_customer_cnt",
    ];
    const COLUMNS: &'static [&'static str] = &[
        "DAY",
        "SESSIONS",
        "CUSTOMERS",
        "MESSAGES",
        "BOT_SESSIONS",
        "UPGRADED",
    ];
    const NOUN: &'static str = "day";

    fn cells(&self) -> Vec<String> {
        vec![
            self.date.clone(),
            cell(self.session_cnt),
            cell(self.customer_cnt),
            cell(self.customer_msg_cnt),
            cell(self.ai_session_reply_cnt),
            cell(self.upgrade_service_customer_cnt),
        ]
    }
}

impl From<&Daily<CorpFigures>> for CorpRow {
    fn from(day: &Daily<CorpFigures>) -> Self {
        let s = day.statistic.as_ref();
        CorpRow {
            date: day_text(day.stat_time),
            stat_time: day.stat_time,
            session_cnt: s.map(|s| s.session_cnt),
            customer_cnt: s.map(|s| s.customer_cnt),
            customer_msg_cnt: s.map(|s| s.customer_msg_cnt),
            upgrade_service_customer_cnt: s.map(|s| s.upgrade_service_customer_cnt),
            ai_session_reply_cnt: s.map(|s| s.ai_session_reply_cnt),
            ai_transfer_rate: s.map(|s| s.ai_transfer_rate),
            msg_rejected_customer_cnt: s.map(|s| s.msg_rejected_customer_cnt),
        }
    }
}

/// One day of servicers.
#[derive(Serialize)]
struct ServicerRow {
    date: String,
    stat_time: i64,
    session_cnt: Option<u64>,
    customer_cnt: Option<u64>,
    customer_msg_cnt: Option<u64>,
    reply_rate: Option<f64>,
    first_reply_average_sec: Option<f64>,
    upgrade_service_customer_cnt: Option<u64>,
    msg_rejected_customer_cnt: Option<u64>,
}

impl Row for ServicerRow {
    const FIELDS: &'static [&'static str] = &[
        "date",
        "stat_time",
        "session_cnt",
        "customer_cnt",
        "customer_msg_cnt",
        "reply_rate",
        "first_reply_average_sec",
        "upgrade_service_customer_cnt",
        "msg_rejected_customer_cnt",
    ];
    const COLUMNS: &'static [&'static str] = &[
        "DAY",
        "SESSIONS",
        "CUSTOMERS",
        "MESSAGES",
        "REPLY_RATE",
        "FIRST_REPLY_S",
    ];
    const NOUN: &'static str = "day";

    fn cells(&self) -> Vec<String> {
        vec![
            self.date.clone(),
            cell(self.session_cnt),
            cell(self.customer_cnt),
            cell(self.customer_msg_cnt),
            cell(self.reply_rate.map(|r| format!("{:.0}%", r * 100.0))),
            cell(self.first_reply_average_sec.map(|s| format!("{s:.0}"))),
        ]
    }
}

impl From<&Daily<ServicerFigures>> for ServicerRow {
    fn from(day: &Daily<ServicerFigures>) -> Self {
        let s = day.statistic.as_ref();
        ServicerRow {
            date: day_text(day.stat_time),
            stat_time: day.stat_time,
            session_cnt: s.map(|s| s.session_cnt),
            customer_cnt: s.map(|s| s.customer_cnt),
            customer_msg_cnt: s.map(|s| s.customer_msg_cnt),
            reply_rate: s.map(|s| s.reply_rate),
            first_reply_average_sec: s.map(|s| s.first_reply_average_sec),
            upgrade_service_customer_cnt: s.map(|s| s.upgrade_service_customer_cnt),
            msg_rejected_customer_cnt: s.map(|s| s.msg_rejected_customer_cnt),
        }
    }
}

/// Sessions per day as bars, 40 characters for the busiest day.
fn bars(days: &[(String, Option<u64>)]) -> String {
    const WIDTH: u64 = 40;
    let most = days
        .iter()
        .filter_map(|(_, n)| *n)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut chart = String::from("sessions per day\n");
    for (date, n) in days {
        let n = n.unwrap_or(0);
        let len = usize::try_from(n * WIDTH / most).unwrap_or(0);
        let bar = if n > 0 {
            "█".repeat(len.max(1))
        } else {
            String::new()
        };
        let _ = writeln!(chart, "{date} │{bar} {n}");
    }
    chart
}

fn chart(ctx: &Context, days: &[(String, Option<u64>)]) -> Result<(), CliError> {
    if ctx.out.format == Format::Table && ctx.out.fancy {
        ctx.out.line(bars(days))?;
    }
    Ok(())
}

pub async fn run(command: StatsCommand, ctx: &Context) -> Result<(), CliError> {
    let stats = ctx.client.stats();
    match command {
        StatsCommand::Corp(days) => {
            let list = stats.corp(&days.open_kfid, range(&days)?).await?;
            let rows: Vec<CorpRow> = list.iter().map(CorpRow::from).collect();
            ctx.out.rows(&rows)?;
            chart(
                ctx,
                &rows
                    .into_iter()
                    .map(|r| (r.date, r.session_cnt))
                    .collect::<Vec<_>>(),
            )
        }
        StatsCommand::Servicer { days, servicer } => {
            let list = stats
                .servicer(&days.open_kfid, range(&days)?, servicer.as_deref())
                .await?;
            let rows: Vec<ServicerRow> = list.iter().map(ServicerRow::from).collect();
            ctx.out.rows(&rows)?;
            chart(
                ctx,
                &rows
                    .into_iter()
                    .map(|r| (r.date, r.session_cnt))
                    .collect::<Vec<_>>(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_china_midnights_and_print_back() {
        let midnight = parse_day("--from", "2019-04-03").unwrap();
        assert_eq!(midnight, 1_554_220_800);
        assert_eq!(day_text(midnight), "2019-04-03");
        let err = parse_day("--from", "04/03/2019").unwrap_err();
        assert!(err.render().contains("--from must be a date as YYYY-MM-DD"));
    }

    #[test]
    fn the_busiest_day_gets_the_longest_bar() {
        let chart = bars(&[
            ("d1".into(), Some(4)),
            ("d2".into(), None),
            ("d3".into(), Some(1)),
        ]);
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines[1], format!("d1 │{} 4", "█".repeat(40)));
        assert_eq!(lines[2], "d2 │ 0");
        assert_eq!(lines[3], format!("d3 │{} 1", "█".repeat(10)));
    }
}
