//! `/cgi-bin/kf/get_corp_qualification`: what the corp may do, which decides how many
//! customers its accounts may serve (docs/kf-api.md §4.12).

use serde::{Deserialize, Serialize};

use crate::limits::{CUSTOMERS_MAX_UNBOUND, CUSTOMERS_MAX_UNVERIFIED};
use crate::validate::Validated;
use crate::{Endpoint, Method};

/// `GET /cgi-bin/kf/get_corp_qualification`: whether a 视频号 is bound.
///
/// The documents disagree on the method; `GET` is what the SDKs that work use, and the
/// emulator takes both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetCorpQualification {}

impl Endpoint for GetCorpQualification {
    const PATH: &'static str = "/cgi-bin/kf/get_corp_qualification";
    const METHOD: Method = Method::Get;
    type Response = CorpQualification;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        Ok(())
    }
}

/// Answer of `kf/get_corp_qualification`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CorpQualification {
    /// At least one 视频号 binding has been confirmed by the 视频号's admin.
    #[serde(default)]
    pub wechat_channels_binding: bool,
}

impl CorpQualification {
    /// An answer.
    pub fn new(wechat_channels_binding: bool) -> Self {
        CorpQualification {
            wechat_channels_binding,
        }
    }
}

/// How many customers a corp's accounts may serve in all (then 95003): 100 unverified,
/// 10 000 verified without a bound 视频号, unlimited (`None`) verified and bound.
pub const fn customer_cap(verified: bool, wechat_channels_binding: bool) -> Option<usize> {
    match (verified, wechat_channels_binding) {
        (false, _) => Some(CUSTOMERS_MAX_UNVERIFIED),
        (true, false) => Some(CUSTOMERS_MAX_UNBOUND),
        (true, true) => None,
    }
}
