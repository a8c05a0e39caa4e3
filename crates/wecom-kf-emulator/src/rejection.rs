//! A refused call: the errcode the real service answers and what exactly was wrong. The
//! world's rules answer it; `http::reply` turns it into the service's JSON shape.

use std::net::IpAddr;

use wecom_kf_types::ErrCode;

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
}

/// The `hint: [...]` token: a unique-looking number, as the real service prints.
fn hint() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}{:06}", now.as_secs(), rand::random::<u32>() % 1_000_000)
}
