//! Credentials: `WECOM_CORP_ID` / `WECOM_KF_SECRET`, or a profile in
//! `<config dir>/wecom-kf/config.toml`. The secret is never taken from a flag, where
//! it would land in shell history and `ps` output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use wecom_kf::Secret;

use crate::error::CliError;

/// One profile of the config file.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub corp_id: Option<String>,
    pub secret: Option<String>,
    pub base_url: Option<String>,
    /// The callback Token (回调配置).
    pub callback_token: Option<String>,
    /// The callback EncodingAESKey.
    pub callback_aes_key: Option<String>,
    /// `wecom-kf serve`'s settings (`[PROFILE.serve]`); flags and `WECOM_KF_SERVE_*`
    /// come first.
    #[serde(default)]
    pub serve: ServeSettings,
}

/// The `[PROFILE.serve]` table: every `serve` flag but the secrets, which are never
/// flags. For example:
///
/// ```toml
/// [default.serve]
/// listen = "0.0.0.0:8080"
/// store = "redis://10.0.0.5:6379"
/// webhook = "http://127.0.0.1:9000/kf"
/// poll = 10
/// relist = 300      # seconds between listings of the corp's accounts
/// concurrency = 64  # handler runs at once
/// batch = 10        # a customer's burst handed over together
/// media_dir = "/var/lib/wecom-kf/media"
/// ```
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct ServeSettings {
    pub listen: Option<String>,
    pub path: Option<String>,
    pub store: Option<String>,
    pub exec: Option<String>,
    pub webhook: Option<String>,
    pub poll: Option<u64>,
    pub max_attempts: Option<u32>,
    pub lease: Option<u64>,
    pub concurrency: Option<u64>,
    pub batch: Option<u64>,
    pub handler_timeout: Option<u64>,
    pub relist: Option<u64>,
    pub media_dir: Option<PathBuf>,
}

/// The callback settings, environment first, then the profile: Token, EncodingAESKey
/// and the corp id (the receiveid). Never from a flag.
pub fn callback_settings(
    global: &crate::options::Global,
) -> Result<(Secret, Secret, String), CliError> {
    let profile = match config_path() {
        Some(path) => load_profile(&path, &global.profile)?,
        None => Profile::default(),
    };
    let pick = |env: &str, from_profile: Option<String>| {
        std::env::var(env)
            .ok()
            .filter(|v| !v.is_empty())
            .or(from_profile)
    };
    let token = pick("WECOM_KF_CALLBACK_TOKEN", profile.callback_token);
    let key = pick("WECOM_KF_CALLBACK_AES_KEY", profile.callback_aes_key);
    let corp_id = pick("WECOM_CORP_ID", profile.corp_id).or_else(|| {
        global
            .sandbox
            .then(|| wecom_kf_emulator::DEMO_CORP_ID.to_owned())
    });
    match (token, key, corp_id) {
        (Some(token), Some(key), Some(corp_id)) => {
            Ok((Secret::new(token), Secret::new(key), corp_id))
        }
        (token, key, corp_id) => {
            let missing: Vec<&str> = [
                (token.is_none(), "WECOM_KF_CALLBACK_TOKEN"),
                (key.is_none(), "WECOM_KF_CALLBACK_AES_KEY"),
                (corp_id.is_none(), "WECOM_CORP_ID (the receiveid)"),
            ]
            .into_iter()
            .filter(|(m, _)| *m)
            .map(|(_, n)| n)
            .collect();
            Err(CliError::Config(format!(
                "no callback settings: set {} (or callback_token / callback_aes_key / corp_id in a profile); they are never taken as flags",
                missing.join(", ")
            )))
        }
    }
}

/// Where the config file is: `WECOM_KF_CONFIG`, else `<config dir>/wecom-kf/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    std::env::var_os("WECOM_KF_CONFIG")
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("wecom-kf").join("config.toml")))
}

/// Read profile `name` (absent file: an empty profile). Warns if others can read the file.
pub fn load_profile(path: &Path, name: &str) -> Result<Profile, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Profile::default()),
        Err(e) => {
            return Err(CliError::Config(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    warn_if_readable_by_others(path);
    let profiles: BTreeMap<String, Profile> =
        toml::from_str(&text).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?;
    match profiles.get(name) {
        Some(profile) => Ok(profile.clone()),
        None if name == "default" => Ok(Profile::default()),
        None => Err(CliError::Config(format!(
            "no profile [{name}] in {} (profiles: {})",
            path.display(),
            profiles.keys().cloned().collect::<Vec<_>>().join(", ")
        ))),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "warning: {} holds secrets but can be read by others (mode {:o}); run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Credentials, environment first, then the profile.
pub struct Credentials {
    pub corp_id: String,
    pub secret: Secret,
}

/// Combine the environment and the profile.
pub fn credentials(profile: &Profile) -> Result<Credentials, CliError> {
    let corp_id = std::env::var("WECOM_CORP_ID")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| profile.corp_id.clone());
    let secret = std::env::var("WECOM_KF_SECRET")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| profile.secret.clone());
    match (corp_id, secret) {
        (Some(corp_id), Some(secret)) => Ok(Credentials {
            corp_id,
            secret: Secret::new(secret),
        }),
        (corp_id, secret) => {
            let missing: Vec<_> = [
                (corp_id.is_none(), "WECOM_CORP_ID"),
                (secret.is_none(), "WECOM_KF_SECRET"),
            ]
            .into_iter()
            .filter(|(m, _)| *m)
            .map(|(_, n)| n)
            .collect();
            Err(CliError::Config(format!(
                "no credentials: set {} (or a profile in {}), or try everything offline with --sandbox",
                missing.join(" and "),
                config_path()
                    .map_or_else(|| "the config file".to_owned(), |p| p.display().to_string())
            )))
        }
    }
}
