//! The wire model of the WeCom 微信客服 (kf) API, shared by the `wecom-kf` client and
//! the `wecom-kf-emulator` server: request and response structs, the [`ErrCode`]
//! catalogue, and the documented limits with their validation. No IO.
//!
//! Requests are data. Each request type implements [`Endpoint`], which carries the
//! endpoint's facts (path, method, whether it is safe to retry) and its validation, so
//! adding an endpoint never means editing a central list.
//!
//! ```
//! use wecom_kf_types::kf::account::AddAccount;
//! use wecom_kf_types::{Endpoint, ErrCode};
//!
//! let req = AddAccount::new("名".repeat(17), "MEDIA_ID");
//! let err = req.validate().unwrap_err();
//! assert_eq!(err.field, "name");
//! assert_eq!(err.errcode, ErrCode::INVALID_KF_ACCOUNT_NAME);
//! assert_eq!(AddAccount::PATH, "/cgi-bin/kf/account/add");
//! ```

#[cfg(feature = "callback")]
pub mod callback;
pub mod errcode;
pub mod kf;
pub mod limits;
pub mod media;
pub mod reply;
pub mod secret;
pub mod token;
pub mod validate;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use errcode::{ErrCode, RetryClass};
pub use reply::{Reply, Status};
pub use secret::Secret;
pub use validate::{Invalid, Limit};

/// The base URL of the real service.
pub const DEFAULT_BASE_URL: &str = "https://qyapi.weixin.qq.com";

/// HTTP method of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST` with a JSON body.
    Post,
}

/// A JSON endpoint that takes `?access_token=…`: its facts live on its request type.
///
/// The client reads every item here: [`Endpoint::METHOD`] decides between a JSON body
/// and query parameters, [`Endpoint::idempotent`] and [`Endpoint::already_done`] decide
/// what may be retried, and [`Endpoint::outcome_unknown_hint`] is what a user is told
/// when a write may or may not have happened.
pub trait Endpoint: Serialize + DeserializeOwned + Send + Sync {
    /// URL path, e.g. `/cgi-bin/kf/account/add`.
    const PATH: &'static str;
    /// HTTP method: `Post` sends the request as a JSON body, `Get` as query parameters.
    const METHOD: Method;
    /// What a success carries besides `errcode`/`errmsg`.
    type Response: DeserializeOwned + Serialize + Send;

    /// Whether sending this request twice leaves the same state as sending it once, so
    /// that an attempt whose outcome is unknown may be retried.
    fn idempotent(&self) -> bool;

    /// Check the documented limits. The error names the field, the limit, what was
    /// given, and the errcode the real service would answer.
    fn validate(&self) -> validate::Validated;

    /// After an attempt whose outcome was unknown, whether a retry's `errcode` shows the
    /// earlier attempt did the work (a repeated `del` answers 95004): its answer if so.
    fn already_done(&self, _code: ErrCode) -> Option<Self::Response> {
        None
    }

    /// What to do when this call may or may not have taken effect and was not retried.
    fn outcome_unknown_hint(&self) -> &'static str {
        "check whether it took effect before sending it again"
    }
}

/// A success with no fields of its own (`{"errcode":0,"errmsg":"ok"}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}
