//! `GET|POST|DELETE /__emulator/faults`.

use serde::{Deserialize, Serialize};
use wecom_kf_types::ErrCode;

use super::registry::Route;
use super::{Command, Done, Input, Verb};
use crate::http::faults::FaultRule;
use crate::rejection::Rejection;
use crate::state::Emulator;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<ListFaults>(),
    Route::command::<AddFault>(),
    Route::command::<ClearFaults>(),
];

/// The standing rules.
#[derive(Clone, Debug, Serialize)]
pub struct Faults {
    /// Oldest first.
    pub faults: Vec<FaultRule>,
}

/// `GET /__emulator/faults`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListFaults {}

impl Command for ListFaults {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/faults";
    type Answer = Faults;

    fn apply(self, emulator: &Emulator) -> Result<Faults, Rejection> {
        Ok(Faults {
            faults: emulator.fault_rules(),
        })
    }
}

/// `POST /__emulator/faults {"kind":…, …}`: a rule (the body is the rule itself).
#[derive(Clone, Debug, Deserialize)]
#[serde(transparent)]
pub struct AddFault(pub FaultRule);

impl Command for AddFault {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/faults";
    type Answer = Faults;

    fn decode(input: &Input<'_>) -> Result<Self, Rejection> {
        serde_json::from_slice(input.body).map_err(|e| {
            Rejection::with(ErrCode::INVALID_PARAMETER, format!("bad fault rule: {e}"))
        })
    }

    fn apply(self, emulator: &Emulator) -> Result<Faults, Rejection> {
        emulator.push_fault(self.0);
        Ok(Faults {
            faults: emulator.fault_rules(),
        })
    }
}

/// `DELETE /__emulator/faults`: every rule goes.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ClearFaults {}

impl Command for ClearFaults {
    const METHOD: Verb = Verb::Delete;
    const PATH: &'static str = "/__emulator/faults";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator.drop_faults();
        Ok(Done {})
    }
}

impl Emulator {
    /// Add a fault rule ([`AddFault`]).
    pub fn add_fault(&self, rule: FaultRule) {
        self.push_fault(rule);
    }

    /// Remove every fault rule ([`ClearFaults`]).
    pub fn clear_faults(&self) {
        self.drop_faults();
    }

    /// The standing fault rules ([`ListFaults`]).
    pub fn faults(&self) -> Vec<FaultRule> {
        self.fault_rules()
    }
}
