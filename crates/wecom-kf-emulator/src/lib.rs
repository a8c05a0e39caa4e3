//! A faithful local 微信客服 (WeCom kf) server, persisted in SQLite.
//!
//! It accepts what the real service accepts and rejects what it rejects, with the same
//! errcode and response shape (see `shared/spec/kf-api.md` §8), so tests, demos and CI
//! can run without WeCom credentials. It binds 127.0.0.1 unless told otherwise.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use wecom_kf_emulator::{Config, spawn};
//!
//! let running = spawn(Config::default()).await?;      // 127.0.0.1:0, in-memory SQLite
//! println!("point your client at {}", running.base_url());
//! let stats = running.emulator().stats();              // the control plane, in process
//! assert_eq!(stats.requests.get("/cgi-bin/gettoken"), None);
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Control plane (`/__emulator/…`, for tests and demos): `GET stats`, `POST reset`,
//! `POST accounts` (seed a console-created account), `POST tokens/revoke`,
//! `POST tokens/expire`, `POST|GET|DELETE faults`, `POST clock`, `GET media/{id}`.

mod api;
mod control;
pub mod faults;
pub mod reply;
mod server;
pub mod store;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use wecom_kf_types::ErrCode;
use wecom_kf_types::limits::{
    ACCOUNTS_MAX_UNVERIFIED, ACCOUNTS_MAX_VERIFIED, CALLS_PER_HOUR, CALLS_PER_MINUTE,
    TOKEN_TTL_SECS,
};

pub use api::check_request;
pub use faults::{Fault, FaultRule};
use reply::Rejection;
use store::{AccountRow, AgentId, Store};

/// Corp id the emulator accepts unless configured otherwise.
pub const DEMO_CORP_ID: &str = "wwdemo00000000kf01";
/// Secret the emulator accepts unless configured otherwise. Not a real secret.
pub const DEMO_SECRET: &str = "DEMO-SECRET-wecom-kf-emulator-0000000000000";
/// Agent id of the first app; the n-th `--secret` is `FIRST_AGENT_ID + n`.
pub const FIRST_AGENT_ID: AgentId = 1_000_002;

/// How the emulator behaves.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The corp's id.
    pub corp_id: String,
    /// One secret per app of the corp; each app gets its own tokens and manages the
    /// accounts it created.
    pub secrets: Vec<String>,
    /// A verified corp may hold 5000 accounts (then 95005); an unverified one 10 (95027).
    pub verified: bool,
    /// Override the account cap (the errcode stays the one of the corp's kind).
    pub max_accounts: Option<usize>,
    /// `expires_in` of new tokens.
    pub token_ttl: u64,
    /// What an expired token gets: 42001 per the doc; real servers also answer 40014.
    pub expired_token_errcode: ErrCode,
    /// Calls per API per minute before 45009.
    pub calls_per_minute: u32,
    /// Calls per API per hour before 45009.
    pub calls_per_hour: u32,
    /// SQLite file, or `:memory:`.
    pub db: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            corp_id: DEMO_CORP_ID.to_owned(),
            secrets: vec![DEMO_SECRET.to_owned()],
            verified: true,
            max_accounts: None,
            token_ttl: TOKEN_TTL_SECS,
            expired_token_errcode: ErrCode::ACCESS_TOKEN_EXPIRED,
            calls_per_minute: CALLS_PER_MINUTE,
            calls_per_hour: CALLS_PER_HOUR,
            db: ":memory:".to_owned(),
        }
    }
}

impl Config {
    /// Defaults with the given SQLite file (or `:memory:`).
    pub fn with_db(db: impl Into<String>) -> Self {
        Config {
            db: db.into(),
            ..Config::default()
        }
    }

    /// The account cap and the errcode for going past it.
    pub fn account_cap(&self) -> (usize, ErrCode) {
        if self.verified {
            (
                self.max_accounts.unwrap_or(ACCOUNTS_MAX_VERIFIED),
                ErrCode::KF_ACCOUNT_COUNT_OUT_OF_LIMIT,
            )
        } else {
            (
                self.max_accounts.unwrap_or(ACCOUNTS_MAX_UNVERIFIED),
                ErrCode::UNVERIFIED_CORP_ACCOUNT_LIMIT,
            )
        }
    }
}

/// Request counts, as `GET /__emulator/stats` shows them.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Calls per path, including rejected ones.
    pub requests: BTreeMap<String, u64>,
    /// Faults injected per kind.
    pub faults_injected: BTreeMap<String, u64>,
    /// Accounts stored now.
    pub accounts: usize,
}

#[derive(Default)]
struct Window {
    minute: i64,
    minute_calls: u32,
    hour: i64,
    hour_calls: u32,
}

/// The emulator's state: shared by every connection.
pub struct Emulator {
    config: Config,
    store: Mutex<Store>,
    stats: Mutex<Stats>,
    faults: Mutex<faults::Faults>,
    windows: Mutex<HashMap<(&'static str, bool), Window>>,
    clock_offset: AtomicI64,
    list_cache: Mutex<ListCache>,
}

/// Rendered `kf/account/list` pages: (agent, host, offset, limit) → (generation, JSON).
pub(crate) type ListCache = HashMap<(AgentId, String, u32, u32), (u64, axum::body::Bytes)>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the emulator down: the data is still consistent
    // because every change commits to SQLite before it touches the mirror.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The app behind an access token.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub agent: AgentId,
    /// `host[:port]` the caller used, for URLs we hand back (avatars).
    pub host: String,
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
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

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

    pub(crate) fn list_cache(&self) -> MutexGuard<'_, ListCache> {
        lock(&self.list_cache)
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let mut stats = lock(&self.stats).clone();
        stats.accounts = self.store().account_count();
        stats
    }

    /// Forget everything: accounts, media, tokens, counters, faults, clock.
    pub fn reset(&self) -> Result<(), ErrCode> {
        self.store().reset()?;
        *lock(&self.stats) = Stats::default();
        lock(&self.faults).clear();
        lock(&self.windows).clear();
        self.clock_offset.store(0, Ordering::Relaxed);
        Ok(())
    }

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

    /// Revoke every token (or one): the next call with it gets 40014.
    pub fn revoke_tokens(&self, only: Option<&str>) -> Result<usize, ErrCode> {
        self.store().revoke_tokens(only)
    }

    /// Expire every token now: the next call with it gets 42001.
    pub fn expire_tokens(&self) -> Result<(), ErrCode> {
        let now = self.now();
        self.store().expire_tokens(now)
    }

    /// Create an account as if made in the admin console: listed with
    /// `manage_privilege: false`, and managing it through the API fails with 48007.
    pub fn seed_console_account(&self, name: &str) -> Result<String, Rejection> {
        wecom_kf_types::kf::account::validate_name(name)
            .map_err(|e| Rejection::with(e.errcode, e.to_string()))?;
        self.insert_account(name, String::new(), None)
    }

    /// Insert an account under the cap, atomically (the store lock is held throughout).
    pub(crate) fn insert_account(
        &self,
        name: &str,
        media_id: String,
        owner: Option<AgentId>,
    ) -> Result<String, Rejection> {
        let (cap, over_cap) = self.config.account_cap();
        let mut store = self.store();
        if store.account_count() >= cap {
            return Err(Rejection::with(
                over_cap,
                format!("the corp already has {cap} kf accounts"),
            ));
        }
        let open_kfid = ids::open_kfid();
        store.insert_account(AccountRow {
            open_kfid: open_kfid.clone(),
            name: name.to_owned(),
            media_id,
            owner,
        })?;
        Ok(open_kfid)
    }

    fn count(&self, path: &str) {
        let mut stats = lock(&self.stats);
        if let Some(n) = stats.requests.get_mut(path) {
            *n += 1;
        } else {
            stats.requests.insert(path.to_owned(), 1);
        }
    }

    fn pick_fault(&self, path: &str) -> Option<Fault> {
        let fault = lock(&self.faults).pick(path)?;
        *lock(&self.stats)
            .faults_injected
            .entry(fault.name().to_owned())
            .or_default() += 1;
        Some(fault)
    }

    /// Per-corp, per-API frequency limits (45009). `debug=1` calls have their own 5/min.
    fn rate_limit(&self, path: &'static str, debug: bool) -> Result<(), Rejection> {
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

    /// Who is calling: 41001 without a token, 40014 for an unknown one, 42001 (or the
    /// configured code) for an expired one.
    fn authenticate(&self, token: Option<&str>, host: String) -> Result<Caller, Rejection> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(ErrCode::ACCESS_TOKEN_MISSING)?;
        let row = self
            .store()
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

    /// The agent id of the app whose secret this is.
    fn agent_of(&self, secret: &str) -> Option<AgentId> {
        let index = self.config.secrets.iter().position(|s| s == secret)?;
        Some(FIRST_AGENT_ID + AgentId::try_from(index).ok()?)
    }
}

/// Random ids in the shapes the real service uses.
pub(crate) mod ids {
    use rand::Rng;
    use rand::distr::Alphanumeric;

    fn random(n: usize) -> String {
        rand::rng()
            .sample_iter(&Alphanumeric)
            .take(n)
            .map(char::from)
            .collect()
    }

    /// `wk` + 30 characters, like `wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw`.
    pub fn open_kfid() -> String {
        format!("wk{}", random(30))
    }

    /// A 64-character temporary media id.
    pub fn media_id() -> String {
        format!("3{}", random(63))
    }

    /// A 96-character access token.
    pub fn access_token() -> String {
        random(96)
    }
}

/// The routes, built from state. Serve them with [`serve`] to get fault injection that
/// drops connections; any other server works for everything else.
pub fn router(emulator: Arc<Emulator>) -> Router {
    api::routes().merge(control::routes()).with_state(emulator)
}

/// Serve the emulator on `listener` until `shutdown` changes.
pub async fn serve(listener: TcpListener, emulator: Arc<Emulator>, shutdown: watch::Receiver<()>) {
    server::serve(listener, router(emulator), shutdown).await;
}

/// A running emulator: its base URL, its state, and the switch that stops it.
/// Dropping it stops the server too.
pub struct Running {
    base_url: String,
    addr: SocketAddr,
    emulator: Arc<Emulator>,
    shutdown: watch::Sender<()>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state, for the control plane in process.
    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emulator
    }

    /// Stop accepting, close every connection and wait for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(());
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shutdown.send(());
    }
}

/// Start an emulator on `127.0.0.1:0`, for tests: returns once it is listening.
pub async fn spawn(config: Config) -> std::io::Result<Running> {
    spawn_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
}

/// Start an emulator on `addr`.
pub async fn spawn_on(addr: SocketAddr, config: Config) -> std::io::Result<Running> {
    let emulator = Arc::new(Emulator::new(config)?);
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown, rx) = watch::channel(());
    let task = tokio::spawn(serve(listener, emulator.clone(), rx));
    Ok(Running {
        base_url: format!("http://{addr}"),
        addr,
        emulator,
        shutdown,
        task: Some(task),
    })
}
