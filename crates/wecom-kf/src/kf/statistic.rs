//! `/cgi-bin/kf/get_corp_statistic` and `/cgi-bin/kf/get_servicer_statistic`:
//! `client.stats()`.
//!
//! Days are China-time days: times are floored to midnight, a call spans at most 31
//! days, and only yesterday back to 180 days ago have figures. All of it is checked
//! before sending, the window against this machine's clock.

use std::time::{SystemTime, UNIX_EPOCH};

use wecom_kf_types::Endpoint;
use wecom_kf_types::kf::statistic::{
    CorpFigures, CorpStatistic, Daily, DayRange, ServicerFigures, ServicerStatistic,
};

use crate::{Client, Error};

/// Statistics of accounts and servicers: `client.stats()`.
#[derive(Clone, Debug)]
pub struct StatsApi {
    client: Client,
}

impl Client {
    /// Daily statistics.
    pub fn stats(&self) -> StatsApi {
        StatsApi {
            client: self.clone(),
        }
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl StatsApi {
    /// An account's figures per day over `range`.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_kf::Client) -> Result<(), wecom_kf::Error> {
    /// use wecom_kf::types::kf::statistic::DayRange;
    /// let yesterday = std::time::SystemTime::now()
    ///     .duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 86_400;
    /// for day in client.stats().corp("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", DayRange::new(yesterday - 6 * 86_400, yesterday)).await? {
    ///     println!("{}: {:?}", day.stat_time, day.statistic.map(|s| s.session_cnt));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn corp(
        &self,
        open_kfid: &str,
        range: DayRange,
    ) -> Result<Vec<Daily<CorpFigures>>, Error> {
        let request = CorpStatistic::new(open_kfid, range);
        request.validate()?;
        range.check_window(now())?;
        Ok(self.client.execute(&request).await?.statistic_list)
    }

    /// Servicers' figures per day over `range`: one servicer's, or (with `None`) all
    /// the account's servicers together.
    pub async fn servicer(
        &self,
        open_kfid: &str,
        range: DayRange,
        servicer_userid: Option<&str>,
    ) -> Result<Vec<Daily<ServicerFigures>>, Error> {
        let mut request = ServicerStatistic::new(open_kfid, range);
        if let Some(userid) = servicer_userid {
            request = request.servicer(userid);
        }
        request.validate()?;
        range.check_window(now())?;
        Ok(self.client.execute(&request).await?.statistic_list)
    }
}
