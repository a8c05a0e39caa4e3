//! `/cgi-bin/kf/service_state/{get,trans}` (docs/kf-api.md §4.4).

use wecom_kf_types::kf::service_state::{
    GetServiceState, ServiceStateInfo, TransServiceState, TransServiceStateResponse,
};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[
    Route::json::<GetServiceState>(),
    Route::json::<TransServiceState>(),
];

impl Handle for GetServiceState {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<ServiceStateInfo, Rejection> {
        emulator
            .world()
            .service_state(caller, &request.open_kfid, &request.external_userid)
    }
}

impl Handle for TransServiceState {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<TransServiceStateResponse, Rejection> {
        let msg_code = emulator.world().trans_service_state(
            caller,
            &request.open_kfid,
            &request.external_userid,
            request.service_state,
            request.servicer_userid.as_deref(),
        )?;
        Ok(TransServiceStateResponse::new(msg_code))
    }
}
