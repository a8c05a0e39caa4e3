//! `/cgi-bin/kf/get_corp_statistic` and `/cgi-bin/kf/get_servicer_statistic`
//! (docs/kf-api.md §4.11), computed from the emulator's own records.

use wecom_kf_types::kf::statistic::{
    CorpFigures, CorpStatistic, ServicerFigures, ServicerStatistic, StatisticList,
};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[
    Route::json::<CorpStatistic>(),
    Route::json::<ServicerStatistic>(),
];

impl Handle for CorpStatistic {
    fn handle(
        emulator: &Emulator,
        _caller: &Caller,
        request: Self,
    ) -> Result<StatisticList<CorpFigures>, Rejection> {
        let days = emulator
            .world()
            .corp_statistic(&request.open_kfid, request.range)?;
        Ok(StatisticList::new(days))
    }
}

impl Handle for ServicerStatistic {
    fn handle(
        emulator: &Emulator,
        _caller: &Caller,
        request: Self,
    ) -> Result<StatisticList<ServicerFigures>, Rejection> {
        let days = emulator.world().servicer_statistic(
            &request.open_kfid,
            request.servicer_userid.as_deref(),
            request.range,
        )?;
        Ok(StatisticList::new(days))
    }
}
