//! `/cgi-bin/kf/…`: the 微信客服 API families.
//!
//! One module per family, mirroring the URL. Servicers, sessions and messages join here.

pub mod account;
pub mod contact_way;
pub mod servicer;

use crate::{ErrCode, validate, validate::Validated};

/// Check an `open_kfid`: present, ≤ 64 bytes.
pub fn validate_open_kfid(open_kfid: &str) -> Validated {
    validate::required_bytes(
        "open_kfid",
        open_kfid,
        crate::limits::OPEN_KFID_MAX_BYTES,
        ErrCode::PARAMETER_EMPTY,
        ErrCode::INVALID_PARAMETER,
    )
}
