//! `/cgi-bin/kf/customer/{batchget,get_upgrade_service_config,upgrade_service,
//! cancel_upgrade_service}` (docs/kf-api.md §4.10, §4.13).

use wecom_kf_types::Empty;
use wecom_kf_types::kf::customer::{
    BatchGetCustomers, BatchGetCustomersResponse, CancelUpgradeService, GetUpgradeServiceConfig,
    UpgradeService, UpgradeServiceConfig,
};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[
    Route::json::<BatchGetCustomers>(),
    Route::json::<GetUpgradeServiceConfig>(),
    Route::json::<UpgradeService>(),
    Route::json::<CancelUpgradeService>(),
];

impl Handle for BatchGetCustomers {
    /// Read-level: unknown ids are listed apart, never an error.
    fn handle(
        emulator: &Emulator,
        _caller: &Caller,
        request: Self,
    ) -> Result<BatchGetCustomersResponse, Rejection> {
        let (found, invalid) = emulator.world().batch_get_customers(
            &request.external_userid_list,
            request.need_enter_session_context == 1,
        );
        Ok(BatchGetCustomersResponse::new(found, invalid))
    }
}

impl Handle for GetUpgradeServiceConfig {
    fn handle(
        emulator: &Emulator,
        _caller: &Caller,
        _request: Self,
    ) -> Result<UpgradeServiceConfig, Rejection> {
        Ok(emulator.world().upgrade_service_config())
    }

    fn empty() -> Option<Self> {
        Some(GetUpgradeServiceConfig::default())
    }
}

impl Handle for UpgradeService {
    fn handle(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Empty, Rejection> {
        emulator.world().upgrade_service(caller, &request)?;
        Ok(Empty {})
    }
}

impl Handle for CancelUpgradeService {
    fn handle(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Empty, Rejection> {
        emulator.world().cancel_upgrade_service(
            caller,
            &request.open_kfid,
            &request.external_userid,
        )?;
        Ok(Empty {})
    }
}
