//! `/cgi-bin/kf/sync_msg` (docs/kf-api.md §4.5).

use wecom_kf_types::kf::sync_msg::{SyncMsg, SyncMsgResponse};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[Route::json::<SyncMsg>()];

impl Handle for SyncMsg {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<SyncMsgResponse, Rejection> {
        emulator.world().sync_msg(caller, &request)
    }
}
