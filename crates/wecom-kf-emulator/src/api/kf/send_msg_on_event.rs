//! `/cgi-bin/kf/send_msg_on_event` (docs/kf-api.md §4.8).

use wecom_kf_types::kf::send_msg::SendMsgResponse;
use wecom_kf_types::kf::send_msg_on_event::SendMsgOnEvent;

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[Route::json::<SendMsgOnEvent>()];

impl Handle for SendMsgOnEvent {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<SendMsgResponse, Rejection> {
        let msgid = emulator.world().send_msg_on_event(caller, request)?;
        Ok(SendMsgResponse::new(msgid))
    }
}
