//! The infrastructure every call passes through: the clock, the counters, fault
//! injection, rate limits and authentication. [`Emulator`] holds it with the store.
//!
//! Domain rules are not here: they live in `world/`, which both the API and the
//! control plane call through [`Emulator::world`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use wecom_kf_types::ErrCode;

use crate::blobs::Blobs;
use crate::config::Config;
use crate::http::calls::Calls;
use crate::http::faults::{Fault, FaultRule, Faults};
use crate::push::{Callbacks, Setting};
use crate::rejection::Rejection;
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

pub(crate) use crate::world::Caller;

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
    /// The bytes of customers' media, read and written outside the store's lock.
    blobs: Arc<Blobs>,
}

/// The world, locked; see [`Emulator::world`].
pub(crate) struct WorldGuard<'a> {
    world: Option<World<'a>>,
    emulator: &'a Emulator,
}

impl<'a> std::ops::Deref for WorldGuard<'a> {
    type Target = World<'a>;

    fn deref(&self) -> &World<'a> {
        self.world
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl<'a> std::ops::DerefMut for WorldGuard<'a> {
    fn deref_mut(&mut self) -> &mut World<'a> {
        self.world
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl Drop for WorldGuard<'_> {
    fn drop(&mut self) {
        let Some(world) = self.world.take() else {
            return;
        };
        // The store's lock goes with the world, before any delivery starts.
        let outbox = world.into_outbox();
        if outbox.is_empty() {
            return;
        }
        if let Some(setting) = self.emulator.callbacks.current() {
            let corp_id = &self.emulator.config.corp_id;
            for item in outbox {
                self.emulator.callbacks.push(setting.clone(), corp_id, item);
            }
        }
    }
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
        let blobs = Arc::new(Blobs::for_db(&config.db)?);
        let callbacks = Callbacks::default();
        // The callback set before a restart: it was verified when it was set.
        if let Some(row) = store.callback() {
            match Setting::from_row(&config.corp_id, row) {
                Ok(setting) => callbacks.keep(setting),
                Err(why) => tracing::error!(%why, "the kept callback setting is unusable"),
            }
        }
        Ok(Emulator {
            config,
            store: Mutex::new(store),
            stats: Mutex::default(),
            faults: Mutex::default(),
            windows: Mutex::default(),
            clock_offset: AtomicI64::new(0),
            list_cache: Mutex::default(),
            callbacks,
            calls: Calls::default(),
            blobs,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The domain, locked for one rule: the store, the time and the configuration.
    /// Holding it makes a rule atomic (a cap checked and used under one lock). When the
    /// guard goes, the lock is released first, then what became visible is pushed.
    pub(crate) fn world(&self) -> WorldGuard<'_> {
        let mut store = lock(&self.store);
        if self.config.shared_db && store.changed_elsewhere() {
            if let Err(e) = store.reload() {
                tracing::error!(error = %e, "cannot reload the shared database");
            }
            // The list cache is keyed by the accounts' generation, which a reload resets.
            lock(&self.list_cache).clear();
        }
        let pushing = self.callbacks.current().is_some();
        WorldGuard {
            world: Some(World::new(store, self.now(), &self.config, pushing)),
            emulator: self,
        }
    }

    /// The API call log (the console's).
    pub(crate) fn calls(&self) -> &Calls {
        &self.calls
    }

    /// The blob store, to read and write customers' media outside the store's lock.
    pub(crate) fn blobs(&self) -> Arc<Blobs> {
        self.blobs.clone()
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
    pub(crate) fn stats_now(&self) -> Stats {
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

    /// Forget everything: every table, counters, faults, callbacks, clock.
    pub(crate) fn forget_all(&self) -> Result<(), Rejection> {
        self.world().reset()?;
        self.blobs.clear();
        *lock(&self.stats) = Stats::default();
        lock(&self.faults).clear();
        lock(&self.windows).clear();
        self.callbacks.reset();
        self.calls.clear();
        self.clock_offset.store(0, Ordering::Relaxed);
        Ok(())
    }

    // ---- faults ----

    pub(crate) fn push_fault(&self, rule: FaultRule) {
        lock(&self.faults).add(rule);
    }

    pub(crate) fn drop_faults(&self) {
        lock(&self.faults).clear();
    }

    pub(crate) fn fault_rules(&self) -> Vec<FaultRule> {
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

    // ---- callbacks ----

    /// Push to `setting` from now on (its URL check passed): committed first, so it
    /// survives a restart and a kill -9 like every acknowledged setting.
    pub(crate) fn keep_callback(&self, setting: Setting) -> Result<(), Rejection> {
        self.world().keep_callback(setting.row())?;
        self.callbacks.keep(setting);
        Ok(())
    }

    /// Stop pushing.
    pub(crate) fn drop_callback(&self) -> Result<(), Rejection> {
        self.world().keep_callback(None)?;
        self.callbacks.clear();
        Ok(())
    }

    pub(crate) fn list_cache(&self) -> MutexGuard<'_, ListCache> {
        lock(&self.list_cache)
    }
}
