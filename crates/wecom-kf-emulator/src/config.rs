//! How an emulator is set up: the corp, its apps, its caps and limits, its database.

use wecom_kf_types::ErrCode;
use wecom_kf_types::limits::{
    ACCOUNTS_MAX_UNVERIFIED, ACCOUNTS_MAX_VERIFIED, CALLS_PER_HOUR, CALLS_PER_MINUTE,
    TOKEN_TTL_SECS,
};

use crate::store::AgentId;

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
    /// Whether a 视频号 is bound (`kf/get_corp_qualification`): with `verified`, the
    /// accounts may serve any number of customers; verified without it, 10 000;
    /// unverified, 100 (95003).
    pub wechat_channels_bound: bool,
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
    /// Another process may write the same database file (the CLI's sandbox, where each
    /// command opens it): before each rule, reload the mirror if another connection
    /// committed since. Off by default: one emulator owns its file.
    pub shared_db: bool,
    /// `Host` names the control plane answers to besides loopback and the address a
    /// client connected to (`name` or `name:port`): the name of a machine that serves
    /// the emulator to others. Any other `Host` is refused (DNS rebinding).
    pub control_hosts: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            corp_id: DEMO_CORP_ID.to_owned(),
            secrets: vec![DEMO_SECRET.to_owned()],
            verified: true,
            wechat_channels_bound: true,
            max_accounts: None,
            token_ttl: TOKEN_TTL_SECS,
            expired_token_errcode: ErrCode::ACCESS_TOKEN_EXPIRED,
            calls_per_minute: CALLS_PER_MINUTE,
            calls_per_hour: CALLS_PER_HOUR,
            db: ":memory:".to_owned(),
            shared_db: false,
            control_hosts: Vec::new(),
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

    /// The agent id of the app whose secret this is.
    pub(crate) fn agent_of(&self, secret: &str) -> Option<AgentId> {
        let index = self.secrets.iter().position(|s| s == secret)?;
        Some(FIRST_AGENT_ID + AgentId::try_from(index).ok()?)
    }
}
