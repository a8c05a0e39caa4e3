//! `/cgi-bin/kf/recall_msg` (docs/kf-api.md §4.9).

use wecom_kf_types::Empty;
use wecom_kf_types::kf::recall_msg::RecallMsg;

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[Route::json::<RecallMsg>()];

impl Handle for RecallMsg {
    fn handle(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Empty, Rejection> {
        emulator
            .world()
            .recall_msg(caller, &request.open_kfid, &request.msgid)?;
        Ok(Empty {})
    }
}
