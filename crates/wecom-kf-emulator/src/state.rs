//! The infrastructure every call passes through: the clock, the counters, fault
//! injection, rate limits and authentication. [`Emulator`] holds it with the store.
//!
//! Domain rules are not here: they live in `world/`, which both the API and the
//! control plane call through [`Emulator::world`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use wecom_kf_types::ErrCode;

use crate::callbacks::Callbacks;
use crate::calls::Calls;
use crate::config::Config;
use crate::faults::{Fault, FaultRule, Faults};
use crate::reply::Rejection;
use crate::store::{AgentId, Store};
use crate::world::World;

/// Request counts, as `GET /__emulator/stats` shows them.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Calls per path, including rejected ones and paths the emulator does not serve.
    pub requests: BTreeMap<String, u64>,
    /// Faults injected per kind.
    pub faults_injected: BTreeMap<String, u64>,
    /// Accounts stored now.
    pub accounts: usize,
}

/// One API's call counts in the current minute and hour (45009).
#[derive(Default)]
struct Window {
    minute: i64,
    minute_calls: u32,
    hour: i64,
    hour_calls: u32,
}

/// The app behind an access token.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub agent: AgentId,
    /// `host[:port]` the caller used, for URLs we hand back (avatars).
    pub host: String,
}

/// Rendered `kf/account/list` pages: (agent, host, offset, limit) → (generation, JSON).
pub(crate) type ListCache = HashMap<(AgentId, String, u32, u32), (u64, axum::body::Bytes)>;

/// The emulator's state: shared by every connection.
pub struct Emulator {
    config: Config,
    store: Mutex<Store>,
    stats: Mutex<Stats>,
    faults: Mutex<Faults>,
    windows: Mutex<HashMap<(&'static str, bool), Window>>,
    clock_offset: AtomicI64,
    list_cache: Mutex<ListCache>,
    callbacks: Callbacks,
    calls: Calls,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the emulator down: the data is still consistent
    // because every change commits to SQLite before it touches the mirror.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Emulator {
    /// Open the store and build the state.
    pub fn new(config: Config) -> std::io::Result<Emulator> {
        let store = Store::open(&config.db).map_err(std::io::Error::other)?;
        Ok(Emulator {
            config,
            store: Mutex::new(store),
            stats: Mutex::default(),
            faults: Mutex::default(),
            windows: Mutex::default(),
            clock_offset: AtomicI64::new(0),
            list_cache: Mutex::default(),
            callbacks: Callbacks::default(),
            calls: Calls::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The domain, locked for one rule: the store, the time and the configuration.
    /// Holding it makes a rule atomic (a cap checked and used under one lock).
    pub(crate) fn world(&self) -> World<'_> {
        let mut store = lock(&self.store);
        if self.config.shared_db && store.changed_elsewhere() {
            if let Err(e) = store.reload() {
                tracing::error!(error = %e, "cannot reload the shared database");
            }
            // The list cache is keyed by the accounts' generation, which a reload resets.
            lock(&self.list_cache).clear();
        }
        World::new(store, self.now(), &self.config, &self.callbacks)
    }

    /// The API call log (the console's).
    pub(crate) fn calls(&self) -> &Calls {
        &self.calls
    }

    /// The callbacks: the setting and the deliveries.
    pub(crate) fn callbacks(&self) -> &Callbacks {
        &self.callbacks
    }

    /// Something that changes whenever what the console shows of the world changes:
    /// the store's writes (here or, with a shared file, elsewhere), the clock, faults.
    pub(crate) fn world_version(&self) -> (u64, i64, usize) {
        let world = self.world();
        (
            world.store().total_changes(),
            self.clock_offset.load(Ordering::Relaxed),
            lock(&self.faults).rules().len(),
        )
    }

    // ---- clock ----

    /// Unix seconds, as the emulator sees them (see [`Emulator::advance_clock`]).
    pub fn now(&self) -> i64 {
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        i64::try_from(real).unwrap_or(i64::MAX) + self.clock_offset.load(Ordering::Relaxed)
    }

    /// Move the emulator's clock forward (token and media expiry).
    pub fn advance_clock(&self, secs: i64) {
        self.clock_offset.fetch_add(secs, Ordering::Relaxed);
    }

    // ---- counters ----

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let mut stats = lock(&self.stats).clone();
        stats.accounts = self.world().account_count();
        stats
    }

    pub(crate) fn count(&self, path: &str) {
        let mut stats = lock(&self.stats);
        if let Some(n) = stats.requests.get_mut(path) {
            *n += 1;
        } else {
            stats.requests.insert(path.to_owned(), 1);
        }
    }

    /// Count a call to a path the emulator does not serve; past `distinct` different
    /// paths they are counted together, so random paths cannot grow the map forever.
    pub(crate) fn count_unknown(&self, path: &str, distinct: usize) {
        let mut stats = lock(&self.stats);
        let key = if stats.requests.contains_key(path) || stats.requests.len() < distinct {
            path
        } else {
            "(other unknown paths)"
        };
        *stats.requests.entry(key.to_owned()).or_default() += 1;
    }

    /// Forget everything: accounts, media, tokens, counters, faults, clock.
    pub fn reset(&self) -> Result<(), ErrCode> {
        self.world().reset()?;
        *lock(&self.stats) = Stats::default();
        lock(&self.faults).clear();
        lock(&self.windows).clear();
        self.callbacks.reset();
        self.calls.clear();
        self.clock_offset.store(0, Ordering::Relaxed);
        Ok(())
    }

    // ---- faults ----

    /// Add a fault rule.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.faults).add(rule);
    }

    /// Remove every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// The standing fault rules.
    pub fn faults(&self) -> Vec<FaultRule> {
        lock(&self.faults).rules().to_vec()
    }

    pub(crate) fn pick_fault(&self, path: &str) -> Option<Fault> {
        let fault = lock(&self.faults).pick(path)?;
        *lock(&self.stats)
            .faults_injected
            .entry(fault.name().to_owned())
            .or_default() += 1;
        Some(fault)
    }

    // ---- rate limits ----

    /// Per-corp, per-API frequency limits (45009). `debug=1` calls have their own 5/min.
    pub(crate) fn rate_limit(&self, path: &'static str, debug: bool) -> Result<(), Rejection> {
        let now = self.now();
        let (per_minute, per_hour) = if debug {
            (5, 5 * 60)
        } else {
            (self.config.calls_per_minute, self.config.calls_per_hour)
        };
        let mut windows = lock(&self.windows);
        let w = windows.entry((path, debug)).or_default();
        if w.minute != now / 60 {
            w.minute = now / 60;
            w.minute_calls = 0;
        }
        if w.hour != now / 3600 {
            w.hour = now / 3600;
            w.hour_calls = 0;
        }
        if w.minute_calls >= per_minute || w.hour_calls >= per_hour {
            return Err(Rejection::with(
                ErrCode::API_FREQ_OUT_OF_LIMIT,
                format!("more than {per_minute}/min or {per_hour}/h calls to {path}"),
            ));
        }
        w.minute_calls += 1;
        w.hour_calls += 1;
        Ok(())
    }

    // ---- auth ----

    /// Who is calling: 41001 without a token, 40014 for an unknown one, 42001 (or the
    /// configured code) for an expired one.
    pub(crate) fn authenticate(
        &self,
        token: Option<&str>,
        host: String,
    ) -> Result<Caller, Rejection> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(ErrCode::ACCESS_TOKEN_MISSING)?;
        let row = lock(&self.store)
            .token(token)
            .ok_or(ErrCode::INVALID_ACCESS_TOKEN)?;
        if row.expires_at <= self.now() {
            return Err(self.config.expired_token_errcode.into());
        }
        Ok(Caller {
            agent: row.agent,
            host,
        })
    }

    /// Revoke every token (or one): the next call with it gets 40014.
    pub fn revoke_tokens(&self, only: Option<&str>) -> Result<usize, ErrCode> {
        self.world().revoke_tokens(only)
    }

    /// Expire every token now: the next call with it gets 42001.
    pub fn expire_tokens(&self) -> Result<(), ErrCode> {
        self.world().expire_tokens()
    }

    /// Create an account as if made in the admin console: listed with
    /// `manage_privilege: false`, and managing it through the API fails with 48007.
    pub fn seed_console_account(&self, name: &str) -> Result<String, Rejection> {
        self.world().add_console_account(name)
    }

    /// Add a member to the corp directory, as `POST /__emulator/members` does: a
    /// member who has not `activated` WeCom is refused as a servicer (95014).
    pub fn put_member(
        &self,
        userid: &str,
        name: &str,
        department_ids: &[u32],
        activated: bool,
    ) -> Result<(), Rejection> {
        self.world().put_member(
            userid,
            crate::store::MemberRow {
                name: name.to_owned(),
                department_ids: department_ids.to_vec(),
                activated,
            },
        )
    }

    /// Add or rename a department, as `POST /__emulator/departments` does.
    pub fn put_department(&self, department_id: u32, name: &str) -> Result<(), Rejection> {
        self.world().put_department(department_id, name)
    }

    /// A WeChat user appears, as `POST /__emulator/customers` does; answers their
    /// generated `external_userid`.
    pub fn add_customer(&self, nickname: &str) -> Result<String, Rejection> {
        self.world().put_customer(
            None,
            crate::store::CustomerRow {
                nickname: nickname.to_owned(),
                ..crate::store::CustomerRow::default()
            },
        )
    }

    /// A customer writes a text to an account, as `POST /__emulator/customers/{id}/send`
    /// does; answers the msgid.
    pub fn customer_says(
        &self,
        external_userid: &str,
        open_kfid: &str,
        text: &str,
    ) -> Result<String, Rejection> {
        let content =
            crate::world::content("text", &serde_json::json!({ "text": { "content": text } }))?;
        self.world()
            .customer_sends(external_userid, open_kfid, content)
    }

    /// Push callbacks to `setting.url` from now on, once it passes the URL check the
    /// admin console makes (a signed echostr answered within 1 s); the error says
    /// exactly what failed, and an earlier setting stays.
    pub async fn set_callback(&self, setting: crate::callbacks::Setting) -> Result<(), String> {
        self.callbacks.register(setting).await
    }

    /// Stop pushing callbacks.
    pub fn clear_callback(&self) {
        self.callbacks.clear();
    }

    /// Every delivery attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<crate::callbacks::Delivery> {
        self.callbacks.deliveries()
    }

    /// A customer opens an account's chat, as `POST /__emulator/customers/{id}/enter`
    /// does; answers the event's msgid and the welcome code, if one was issued.
    pub fn customer_enters(
        &self,
        external_userid: &str,
        open_kfid: &str,
        scene: &str,
    ) -> Result<(String, Option<String>), Rejection> {
        self.world()
            .customer_enters(external_userid, open_kfid, scene, "")
    }

    /// What the customer saw from the account, as `GET
    /// /__emulator/customers/{id}/inbox` answers it.
    pub fn inbox(
        &self,
        external_userid: &str,
        open_kfid: &str,
    ) -> Result<Vec<serde_json::Value>, Rejection> {
        self.world().inbox(open_kfid, external_userid)
    }

    /// Route an account's new sessions to its serving servicers (`true`) or leave them
    /// to the API (`false`), as `POST /__emulator/accounts/{open_kfid}/routing` does.
    pub fn route_to_servicers(&self, open_kfid: &str, servicers: bool) -> Result<(), Rejection> {
        let mode = if servicers {
            crate::world::RoutingMode::Servicers
        } else {
            crate::world::RoutingMode::Api
        };
        self.world().set_routing(open_kfid, mode)
    }

    pub(crate) fn list_cache(&self) -> MutexGuard<'_, ListCache> {
        lock(&self.list_cache)
    }
}
