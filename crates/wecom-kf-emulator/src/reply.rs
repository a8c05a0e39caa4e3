//! Answers in the real service's shape: HTTP 200, JSON `{errcode, errmsg, …}`, and
//! errmsg ending with `more info at https://open.work.weixin.qq.com/devtool/query?e=N`.

use std::net::IpAddr;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wecom_kf_types::ErrCode;
use wecom_kf_types::reply::Success;

/// A rejected call: the errcode and, optionally, what exactly was wrong.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// The errcode.
    pub code: ErrCode,
    /// Detail put in front of the standard text.
    pub detail: Option<String>,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "errcode {}", self.code)?;
        match &self.detail {
            Some(detail) => write!(f, ": {detail}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Rejection {}

impl From<ErrCode> for Rejection {
    fn from(code: ErrCode) -> Self {
        Rejection { code, detail: None }
    }
}

impl Rejection {
    /// A rejection with a detail message.
    pub fn with(code: ErrCode, detail: impl Into<String>) -> Self {
        Rejection {
            code,
            detail: Some(detail.into()),
        }
    }

    /// The errmsg the real service would send.
    pub fn errmsg(&self, ip: Option<IpAddr>) -> String {
        let text = self.code.description_en().unwrap_or("error");
        let hint = hint();
        let ip = ip.map_or_else(|| "127.0.0.1".to_owned(), |ip| ip.to_string());
        let code = self.code.get();
        match &self.detail {
            Some(detail) => format!(
                "{text}: {detail}, hint: [{hint}], from ip: {ip}, more info at https://open.work.weixin.qq.com/devtool/query?e={code}"
            ),
            None => format!(
                "{text}, hint: [{hint}], from ip: {ip}, more info at https://open.work.weixin.qq.com/devtool/query?e={code}"
            ),
        }
    }

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
        response.extensions_mut().insert(crate::calls::Outcome {
            errcode: self.code.get(),
            errmsg,
        });
        response
    }
}

/// The `hint: [...]` token: a unique-looking number, as the real service prints.
fn hint() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}{:06}", now.as_secs(), rand::random::<u32>() % 1_000_000)
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
