//! What a command runs with: a client pointed at the service, an emulator, or the
//! sandbox, and the output settings.

use std::path::PathBuf;
use std::time::Duration;

use wecom_kf::Client;
use wecom_kf_emulator::{Config, DEMO_CORP_ID, DEMO_SECRET, Running};

use crate::config;
use crate::error::CliError;
use crate::options::Global;
use crate::output::Output;

/// A ready client.
pub struct Context {
    pub client: Client,
    pub out: Output,
    /// Keeps the embedded emulator alive while the command runs.
    sandbox: Option<Running>,
}

/// The sandbox database: `WECOM_KF_SANDBOX_DB`, else `<data dir>/wecom-kf/sandbox.db`.
pub fn sandbox_db() -> Result<PathBuf, CliError> {
    if let Some(path) = std::env::var_os("WECOM_KF_SANDBOX_DB").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let dir = dirs::data_dir()
        .ok_or_else(|| CliError::Config("no data directory; set WECOM_KF_SANDBOX_DB".into()))?;
    Ok(dir.join("wecom-kf").join("sandbox.db"))
}

/// Start the sandbox emulator on 127.0.0.1:0 with its persistent database.
pub async fn start_sandbox() -> Result<Running, CliError> {
    start_sandbox_on(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Start the sandbox emulator on `addr` with its persistent database.
pub async fn start_sandbox_on(addr: std::net::SocketAddr) -> Result<Running, CliError> {
    let db = sandbox_db()?;
    if let Some(parent) = db.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError::Config(format!("cannot create {}: {e}", parent.display())))?;
    }
    // Several commands may hold the sandbox at once (`msg sync --follow` while
    // `sandbox say` writes): each sees what the others commit.
    let mut config = Config::with_db(db.to_string_lossy());
    config.shared_db = true;
    wecom_kf_emulator::spawn_on(addr, config)
        .await
        .map_err(|e| {
            CliError::Config(format!(
                "cannot open the sandbox at {} on {addr}: {e}",
                db.display()
            ))
        })
}

/// The client of the sandbox's emulator: the one place it is built.
pub fn sandbox_client(
    sandbox: &Running,
    builder: wecom_kf::ClientBuilder,
) -> Result<Client, CliError> {
    Ok(builder
        .base_url(sandbox.base_url())
        .corp_id(DEMO_CORP_ID)
        .secret(DEMO_SECRET)
        .build()?)
}

impl Context {
    /// The embedded emulator, when running in the sandbox.
    pub fn sandbox(&self) -> Option<&Running> {
        self.sandbox.as_ref()
    }

    /// Build the client from the global options.
    pub async fn new(global: &Global) -> Result<Context, CliError> {
        let out = Output::new(global.format);
        let builder = Client::builder().request_timeout(Duration::from_secs(global.timeout.max(1)));
        if global.sandbox {
            let sandbox = start_sandbox().await?;
            let client = sandbox_client(&sandbox, builder)?;
            return Ok(Context {
                client,
                out,
                sandbox: Some(sandbox),
            });
        }
        let profile = match config::config_path() {
            Some(path) => config::load_profile(&path, &global.profile)?,
            None => config::Profile::default(),
        };
        let credentials = config::credentials(&profile)?;
        let mut builder = builder
            .corp_id(credentials.corp_id)
            .secret(credentials.secret);
        if let Some(url) = &global.token_cache {
            builder = builder.redis_token_cache(wecom_kf::token::RedisTokenCache::new(url)?);
        }
        if let Some(base_url) = global.base_url.clone().or(profile.base_url) {
            builder = builder.base_url(base_url);
        }
        Ok(Context {
            client: builder.build()?,
            out,
            sandbox: None,
        })
    }
}
