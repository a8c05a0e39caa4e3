//! `POST /__emulator/clock {"advance_secs": N}`: moves every window of the emulator.

use serde::{Deserialize, Serialize};

use super::registry::Route;
use super::{Command, Verb};
use crate::rejection::Rejection;
use crate::state::Emulator;

pub(super) const ROUTES: &[Route] = &[Route::command::<AdvanceClock>()];

/// `POST /__emulator/clock {"advance_secs": N}`.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct AdvanceClock {
    /// Seconds forward.
    #[serde(default)]
    pub advance_secs: i64,
}

/// The emulator's time after the move.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Now {
    /// Unix seconds.
    pub now: i64,
}

impl Command for AdvanceClock {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/clock";
    type Answer = Now;

    fn apply(self, emulator: &Emulator) -> Result<Now, Rejection> {
        emulator.advance_clock(self.advance_secs);
        Ok(Now {
            now: emulator.now(),
        })
    }
}
