//! `POST /__emulator/accounts`: an account "created in the admin console", which no app
//! manages; `POST /__emulator/accounts/{open_kfid}/routing`: how its new sessions are
//! routed; `POST /__emulator/upgrade_service_config`: the 升级服务 ranges.

use serde::{Deserialize, Serialize};
use wecom_kf_types::kf::customer::UpgradeServiceConfig;

use super::registry::Route;
use super::{Command, Done, Verb};
use crate::rejection::Rejection;
use crate::state::Emulator;
pub use crate::world::RoutingMode;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<SeedAccount>(),
    Route::command::<SetRouting>(),
    Route::command::<SetUpgradeServiceConfig>(),
];

/// `POST /__emulator/accounts {"name"}`: an account made in the admin console: listed
/// with `manage_privilege: false`, and managing it through the API fails with 48007.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SeedAccount {
    /// Its name.
    #[serde(default)]
    pub name: String,
}

/// The account made.
#[derive(Clone, Debug, Serialize)]
pub struct Seeded {
    /// Its id.
    pub open_kfid: String,
}

impl Command for SeedAccount {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/accounts";
    type Answer = Seeded;

    fn apply(self, emulator: &Emulator) -> Result<Seeded, Rejection> {
        let open_kfid = emulator.world().add_console_account(&self.name)?;
        Ok(Seeded { open_kfid })
    }
}

/// `POST /__emulator/accounts/{open_kfid}/routing {"mode":"api"|"servicers"}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SetRouting {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// How its new sessions are routed.
    #[serde(default)]
    pub mode: RoutingMode,
}

impl Command for SetRouting {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/accounts/{open_kfid}/routing";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator.world().set_routing(&self.open_kfid, self.mode)?;
        Ok(Done {})
    }
}

/// `POST /__emulator/upgrade_service_config`: the 升级服务 ranges
/// (`kf/customer/get_upgrade_service_config` answers them).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SetUpgradeServiceConfig {
    /// The ranges.
    #[serde(flatten)]
    pub config: UpgradeServiceConfig,
}

impl Command for SetUpgradeServiceConfig {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/upgrade_service_config";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator.world().set_upgrade_service_config(&self.config)?;
        Ok(Done {})
    }
}

impl Emulator {
    /// Create an account as if made in the admin console ([`SeedAccount`]).
    pub fn seed_console_account(&self, name: &str) -> Result<String, Rejection> {
        self.apply(SeedAccount {
            name: name.to_owned(),
        })
        .map(|seeded| seeded.open_kfid)
    }

    /// Route an account's new sessions to its serving servicers (`true`) or leave them
    /// to the API (`false`) ([`SetRouting`]).
    pub fn route_to_servicers(&self, open_kfid: &str, servicers: bool) -> Result<(), Rejection> {
        let mode = if servicers {
            RoutingMode::Servicers
        } else {
            RoutingMode::Api
        };
        self.apply(SetRouting {
            open_kfid: open_kfid.to_owned(),
            mode,
        })
        .map(drop)
    }
}
