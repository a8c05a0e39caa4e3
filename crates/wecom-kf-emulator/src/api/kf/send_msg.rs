//! `/cgi-bin/kf/send_msg` (docs/kf-api.md §4.7).

use wecom_kf_types::kf::send_msg::{SendMsg, SendMsgResponse};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[Route::json::<SendMsg>()];

impl Handle for SendMsg {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<SendMsgResponse, Rejection> {
        let msgid = emulator.world().send_msg(caller, request)?;
        Ok(SendMsgResponse::new(msgid))
    }
}
