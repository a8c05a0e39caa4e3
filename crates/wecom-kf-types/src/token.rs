//! `GET /cgi-bin/gettoken` (docs/kf-api.md §1).

use serde::{Deserialize, Serialize};

use crate::{ErrCode, Secret, validate, validate::Validated};

/// Query of `GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetToken {
    /// 企业ID.
    #[serde(default)]
    pub corpid: String,
    /// The app's secret. Redacted in `Debug`.
    #[serde(default = "empty_secret")]
    pub corpsecret: Secret,
}

fn empty_secret() -> Secret {
    Secret::new("")
}

impl GetToken {
    /// The path of the endpoint.
    pub const PATH: &'static str = "/cgi-bin/gettoken";

    /// A token request for one app of one corp.
    pub fn new(corpid: impl Into<String>, corpsecret: Secret) -> Self {
        GetToken {
            corpid: corpid.into(),
            corpsecret,
        }
    }

    /// Both parameters present (41002 / 41004 otherwise).
    pub fn validate(&self) -> Validated {
        validate::required_bytes(
            "corpid",
            &self.corpid,
            64,
            ErrCode::CORPID_MISSING,
            ErrCode::INVALID_CORPID,
        )?;
        if self.corpsecret.is_empty() {
            return Err(validate::Invalid {
                field: "corpsecret",
                limit: validate::Limit::Required,
                given: "an empty value".into(),
                errcode: ErrCode::SECRET_MISSING,
            });
        }
        Ok(())
    }
}

/// Answer of `gettoken`: `{"access_token":"…","expires_in":7200}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetTokenResponse {
    /// The token (≤ 512 bytes). Redacted in `Debug`.
    pub access_token: Secret,
    /// Seconds until it expires, normally 7200.
    pub expires_in: u64,
}

impl GetTokenResponse {
    /// A token answer.
    pub fn new(access_token: Secret, expires_in: u64) -> Self {
        GetTokenResponse {
            access_token,
            expires_in,
        }
    }
}
