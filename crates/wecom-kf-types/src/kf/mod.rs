//! `/cgi-bin/kf/…`: the 微信客服 API families.
//!
//! One module per family, mirroring the URL. Servicers, sessions and messages join here.

pub mod account;
pub mod contact_way;
pub mod customer;
pub mod knowledge;
pub mod message;
pub mod qualification;
pub mod recall_msg;
pub mod send_msg;
pub mod send_msg_on_event;
pub mod service_state;
pub mod servicer;
pub mod statistic;
pub mod sync_msg;

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

/// Check a customer's `external_userid`: present, ≤ 64 bytes.
pub fn validate_external_userid(field: &'static str, external_userid: &str) -> Validated {
    validate::required_bytes(
        field,
        external_userid,
        crate::limits::EXTERNAL_USERID_MAX_BYTES,
        ErrCode::PARAMETER_EMPTY,
        ErrCode::INVALID_PARAMETER,
    )
}

/// Check the two ids of a session: the account and the customer.
pub fn validate_session(open_kfid: &str, external_userid: &str) -> Validated {
    validate_open_kfid(open_kfid)?;
    validate_external_userid("external_userid", external_userid)
}
