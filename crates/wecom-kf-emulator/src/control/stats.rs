//! `GET /__emulator/stats`, `POST /__emulator/reset`.

use axum::response::Response;
use serde::Deserialize;
use wecom_kf_types::ErrCode;

use super::registry::Route;
use super::{Command, Done, Verb};
use crate::http::reply;
use crate::rejection::Rejection;
use crate::state::{Emulator, Stats};

pub(super) const ROUTES: &[Route] = &[Route::command::<GetStats>(), Route::command::<Reset>()];

/// `GET /__emulator/stats`: the request counters. Answered bare, without
/// `errcode`/`errmsg`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GetStats {}

impl Command for GetStats {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/stats";
    type Answer = Stats;

    fn apply(self, emulator: &Emulator) -> Result<Stats, Rejection> {
        Ok(emulator.stats_now())
    }

    fn respond(answer: Stats) -> Response {
        reply::json(&answer)
    }
}

/// `POST /__emulator/reset`: forget everything: every table, the counters, faults,
/// callbacks and the clock.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Reset {}

impl Command for Reset {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/reset";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator.forget_all()?;
        Ok(Done {})
    }
}

impl Emulator {
    /// A snapshot of the counters ([`GetStats`]).
    pub fn stats(&self) -> Stats {
        self.stats_now()
    }

    /// Forget everything: accounts, media, tokens, counters, faults, clock ([`Reset`]).
    pub fn reset(&self) -> Result<(), ErrCode> {
        self.apply(Reset {}).map(drop).map_err(|r| r.code)
    }
}
