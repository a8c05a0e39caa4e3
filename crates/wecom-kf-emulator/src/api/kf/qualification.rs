//! `/cgi-bin/kf/get_corp_qualification` (docs/kf-api.md §4.12): GET as the working
//! SDKs call it, POST too since the documents disagree.

use wecom_kf_types::kf::qualification::{CorpQualification, GetCorpQualification};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[Route::json::<GetCorpQualification>()];

impl Handle for GetCorpQualification {
    const ALSO_OTHER_METHOD: bool = true;

    fn handle(
        emulator: &Emulator,
        _caller: &Caller,
        _request: Self,
    ) -> Result<CorpQualification, Rejection> {
        Ok(CorpQualification::new(
            emulator.config().wechat_channels_bound,
        ))
    }

    fn empty() -> Option<Self> {
        Some(GetCorpQualification::default())
    }
}
