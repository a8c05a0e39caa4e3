//! The options every command takes. Kept apart from the command tree so that commands
//! can read them without importing the tree that imports them.

use clap::Args;

use crate::output::Format;

/// Options of every command.
#[derive(Args, Debug)]
pub struct Global {
    /// Run against the sandbox: an emulator embedded in this process, persisted in
    /// WECOM_KF_SANDBOX_DB or the user's data dir. No credentials needed.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Send requests here instead of https://qyapi.weixin.qq.com (e.g. an emulator).
    #[arg(long, env = "WECOM_KF_BASE_URL", global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Share the access_token with other processes through Redis, e.g.
    /// redis://127.0.0.1:6379. Prefer the variable when the URL holds a password.
    #[arg(
        long,
        env = "WECOM_KF_TOKEN_CACHE",
        hide_env_values = true,
        global = true,
        value_name = "URL"
    )]
    pub token_cache: Option<String>,
    /// Profile of the config file to read credentials from.
    #[arg(
        long,
        env = "WECOM_KF_PROFILE",
        default_value = "default",
        global = true
    )]
    pub profile: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "table", global = true)]
    pub format: Format,
    /// Seconds to wait for one request.
    #[arg(long, default_value_t = 30, global = true, value_name = "SECS")]
    pub timeout: u64,
    /// More logging on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}
