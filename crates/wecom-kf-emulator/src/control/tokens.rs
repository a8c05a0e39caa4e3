//! `POST /__emulator/tokens/{revoke,expire}`.

use serde::{Deserialize, Serialize};
use wecom_kf_types::ErrCode;

use super::registry::Route;
use super::{Command, Done, Verb};
use crate::rejection::Rejection;
use crate::state::Emulator;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<RevokeTokens>(),
    Route::command::<ExpireTokens>(),
];

/// `POST /__emulator/tokens/revoke {"access_token"?}`: the next call with a revoked
/// token gets 40014. Every token, or the one given.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RevokeTokens {
    /// Only this one.
    #[serde(default)]
    pub access_token: Option<String>,
}

/// How many were revoked.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Revoked {
    /// The count.
    pub revoked: usize,
}

impl Command for RevokeTokens {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/tokens/revoke";
    type Answer = Revoked;

    fn apply(self, emulator: &Emulator) -> Result<Revoked, Rejection> {
        let revoked = emulator
            .world()
            .revoke_tokens(self.access_token.as_deref())?;
        Ok(Revoked { revoked })
    }
}

/// `POST /__emulator/tokens/expire`: the next call with any token now gets 42001.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ExpireTokens {}

impl Command for ExpireTokens {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/tokens/expire";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator.world().expire_tokens()?;
        Ok(Done {})
    }
}

impl Emulator {
    /// Revoke every token (or one) ([`RevokeTokens`]).
    pub fn revoke_tokens(&self, only: Option<&str>) -> Result<usize, ErrCode> {
        self.apply(RevokeTokens {
            access_token: only.map(str::to_owned),
        })
        .map(|r| r.revoked)
        .map_err(|r| r.code)
    }

    /// Expire every token now ([`ExpireTokens`]).
    pub fn expire_tokens(&self) -> Result<(), ErrCode> {
        self.apply(ExpireTokens {}).map(drop).map_err(|r| r.code)
    }
}
