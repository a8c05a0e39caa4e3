//! `/cgi-bin/kf/servicer/{add,del,list}` (docs/kf-api.md §4.1–4.3).

use wecom_kf_types::kf::servicer::{
    AddServicers, DeleteServicers, ItemResults, ListServicers, ListServicersResponse,
};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[
    Route::json::<AddServicers>(),
    Route::json::<DeleteServicers>(),
    Route::json::<ListServicers>(),
];

impl Handle for AddServicers {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<ItemResults, Rejection> {
        let results = emulator.world().add_servicers(caller, &request.change)?;
        Ok(ItemResults::new(results))
    }
}

impl Handle for DeleteServicers {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<ItemResults, Rejection> {
        let results = emulator.world().delete_servicers(caller, &request.change)?;
        Ok(ItemResults::new(results))
    }
}

impl Handle for ListServicers {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<ListServicersResponse, Rejection> {
        let servicers = emulator
            .world()
            .list_servicers(caller, &request.open_kfid)?;
        Ok(ListServicersResponse::new(servicers))
    }
}
