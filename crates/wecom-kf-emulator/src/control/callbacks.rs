//! `/__emulator/callback…`: where the emulator pushes `kf_msg_or_event`
//! (docs/emulator-control.md, "Callbacks"), and `POST /__emulator/sync_token`.

use serde::{Deserialize, Serialize};
use wecom_kf_types::ErrCode;

use super::registry::Route;
use super::{Command, Done, Verb};
use crate::push::{Delivery, Setting};
use crate::rejection::Rejection;
use crate::state::Emulator;
use crate::store::CallbackRow;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<Register>(),
    Route::command::<ClearCallback>(),
    Route::command::<Deliveries>(),
    Route::command::<SyncToken>(),
];

fn invalid(why: impl Into<String>) -> Rejection {
    Rejection::with(ErrCode::INVALID_PARAMETER, why)
}

/// `POST /__emulator/callback`: push callbacks to `url` from now on, once it passes the
/// URL check the admin console makes (a signed echostr answered within 1 s). On
/// failure the errmsg says exactly what failed and an earlier setting stays. `Debug`
/// shows neither the Token nor the key.
#[derive(Clone, Default, Deserialize)]
pub struct Register {
    /// The receiver, `http(s)://…`.
    #[serde(default)]
    pub url: String,
    /// The callback Token.
    #[serde(default)]
    pub token: String,
    /// The EncodingAESKey (43 characters).
    #[serde(default)]
    pub encoding_aes_key: String,
    /// A delivery counts when HTTP 200 comes within this (default 5000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Attempts in all (default 3).
    #[serde(default)]
    pub attempts: Option<u32>,
    /// Wait between attempts (default 1000).
    #[serde(default)]
    pub retry_ms: Option<u64>,
    /// The setting once its URL check passed ([`Command::prepare`]).
    #[serde(skip)]
    verified: Option<Setting>,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register")
            .field("url", &self.url)
            .field("verified", &self.verified.is_some())
            .finish_non_exhaustive()
    }
}

impl Register {
    /// A setting with the defaults: 5 s timeout, 3 attempts, 1 s between them.
    pub fn new(url: &str, token: &str, encoding_aes_key: &str) -> Self {
        Register {
            url: url.to_owned(),
            token: token.to_owned(),
            encoding_aes_key: encoding_aes_key.to_owned(),
            ..Register::default()
        }
    }

    /// The setting this asks for, checked (-40004 and the like, never the key).
    fn setting(&self, corp_id: &str) -> Result<Setting, Rejection> {
        let row = CallbackRow {
            url: self.url.clone(),
            token: self.token.clone(),
            encoding_aes_key: self.encoding_aes_key.clone(),
            timeout_ms: self.timeout_ms.unwrap_or(5000),
            attempts: self.attempts.unwrap_or(3).max(1),
            retry_ms: self.retry_ms.unwrap_or(1000),
        };
        Setting::from_row(corp_id, row).map_err(invalid)
    }
}

/// The URL check passed.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Verified {
    /// `true`.
    pub verified: bool,
}

impl Command for Register {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/callback";
    type Answer = Verified;

    async fn prepare(mut self, emulator: &Emulator) -> Result<Self, Rejection> {
        let setting = self.setting(&emulator.config().corp_id)?;
        emulator
            .callbacks()
            .verify(&setting)
            .await
            .map_err(invalid)?;
        self.verified = Some(setting);
        Ok(self)
    }

    fn apply(self, emulator: &Emulator) -> Result<Verified, Rejection> {
        let setting = self.verified.ok_or_else(|| {
            invalid("a callback URL is kept only after its URL check: use Emulator::run")
        })?;
        emulator.keep_callback(setting)?;
        Ok(Verified { verified: true })
    }
}

/// `DELETE /__emulator/callback`: stop pushing.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ClearCallback {}

impl Command for ClearCallback {
    const METHOD: Verb = Verb::Delete;
    const PATH: &'static str = "/__emulator/callback";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator.drop_callback()?;
        Ok(Done {})
    }
}

/// `GET /__emulator/callback/deliveries`: every attempt so far, oldest first.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Deliveries {}

/// The deliveries log.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryLog {
    /// Oldest first.
    pub deliveries: Vec<Delivery>,
}

impl Command for Deliveries {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/callback/deliveries";
    type Answer = DeliveryLog;

    fn apply(self, emulator: &Emulator) -> Result<DeliveryLog, Rejection> {
        Ok(DeliveryLog {
            deliveries: emulator.callbacks().deliveries(),
        })
    }
}

/// `POST /__emulator/sync_token {"open_kfid"}` (added to the agreed plane): the `Token`
/// a `kf_msg_or_event` callback would carry for the account, for a sync without a
/// callback receiver.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SyncToken {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
}

/// A sync Token, valid 10 minutes.
#[derive(Clone, Debug, Serialize)]
pub struct Token {
    /// The token.
    pub token: String,
}

impl Command for SyncToken {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/sync_token";
    type Answer = Token;

    fn apply(self, emulator: &Emulator) -> Result<Token, Rejection> {
        let token = emulator.world().issue_sync_token(&self.open_kfid)?;
        Ok(Token { token })
    }
}

impl Emulator {
    /// Push callbacks to `setting.url` from now on, once it passes the URL check the
    /// admin console makes ([`Register`]); the error says exactly what failed, and an
    /// earlier setting stays.
    pub async fn set_callback(&self, setting: Setting) -> Result<(), String> {
        self.callbacks().verify(&setting).await?;
        let register = Register {
            verified: Some(setting),
            ..Register::default()
        };
        self.apply(register).map(drop).map_err(|r| r.to_string())
    }

    /// Stop pushing callbacks ([`ClearCallback`]).
    pub fn clear_callback(&self) {
        if let Err(e) = self.drop_callback() {
            tracing::error!(error = %e, "cannot forget the callback setting");
        }
    }

    /// Every delivery attempt so far, oldest first ([`Deliveries`]).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.callbacks().deliveries()
    }
}
