//! Answers in the real service's shape: HTTP 200, JSON `{errcode, errmsg, …}`, and
//! errmsg ending with `more info at https://open.work.weixin.qq.com/devtool/query?e=N`.

use std::net::IpAddr;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wecom_kf_types::ErrCode;
use wecom_kf_types::reply::Success;

use crate::rejection::Rejection;

impl Rejection {
    /// The HTTP answer.
    pub fn into_response(self, ip: Option<IpAddr>) -> Response {
        #[derive(Serialize)]
        struct Body {
            errcode: ErrCode,
            errmsg: String,
        }
        let errmsg = self.errmsg(ip);
        let mut response = json(&Body {
            errcode: self.code,
            errmsg: errmsg.clone(),
        });
        // For the console's call log, which need not read the body back.
        response.extensions_mut().insert(super::calls::Outcome {
            errcode: self.code.get(),
            errmsg,
        });
        response
    }
}

/// The bytes of a success answer with `body`'s fields (`{"errcode":0,"errmsg":"ok",…}`).
pub fn success<T: Serialize>(body: &T) -> Result<axum::body::Bytes, Rejection> {
    success_with_errmsg(body, "ok")
}

/// A success whose `errmsg` is not `"ok"` (`media/upload` answers `""`).
pub fn success_with_errmsg<T: Serialize>(
    body: &T,
    errmsg: &str,
) -> Result<axum::body::Bytes, Rejection> {
    let mut success = Success::new(body);
    success.errmsg = errmsg;
    serde_json::to_vec(&success)
        .map(Into::into)
        .map_err(|_| ErrCode::SYSTEM_BUSY.into())
}

/// Any serializable value as a JSON 200 answer.
pub fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => raw_json(bytes),
        Err(_) => Rejection::from(ErrCode::SYSTEM_BUSY).into_response(None),
    }
}

/// Pre-serialized JSON as a 200 answer.
pub fn raw_json(bytes: impl Into<axum::body::Bytes>) -> Response {
    let bytes = bytes.into();
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}
