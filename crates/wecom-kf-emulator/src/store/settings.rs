//! Table `settings`: small pieces of configuration set through the control plane (each
//! account's routing mode, the 升级服务 ranges), as JSON under a key.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wecom_kf_types::ErrCode;

use super::{Store, exec};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);";

/// The key of the callback setting.
const CALLBACK_KEY: &str = "callback";

/// The callback setting as `POST /__emulator/callback` gave it, kept so that it
/// survives a restart like every other acknowledged setting. `Debug` shows neither
/// the Token nor the key.
#[derive(Clone, Default, Serialize, serde::Deserialize)]
pub struct CallbackRow {
    /// The receiver.
    pub url: String,
    /// The callback Token.
    pub token: String,
    /// The EncodingAESKey.
    pub encoding_aes_key: String,
    /// A delivery counts when HTTP 200 comes within this.
    pub timeout_ms: u64,
    /// Attempts in all.
    pub attempts: u32,
    /// Wait between attempts.
    pub retry_ms: u64,
}

impl std::fmt::Debug for CallbackRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackRow")
            .field("url", &self.url)
            .field("timeout_ms", &self.timeout_ms)
            .field("attempts", &self.attempts)
            .field("retry_ms", &self.retry_ms)
            .finish_non_exhaustive()
    }
}

/// The mirror.
#[derive(Default)]
pub(super) struct Settings(HashMap<String, String>);

impl Settings {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Settings> {
        db.execute_batch(SCHEMA)?;
        let mut stmt = db.prepare("SELECT key, value FROM settings")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>().map(Settings)
    }

}

impl Store {
    /// A setting, or its default when unset (or unreadable).
    pub fn setting<T: DeserializeOwned + Default>(&self, key: &str) -> T {
        self.settings
            .0
            .get(key)
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or_default()
    }

    /// The callback setting, if one is kept.
    pub fn callback(&self) -> Option<CallbackRow> {
        self.setting::<Option<CallbackRow>>(CALLBACK_KEY)
    }

    /// Keep the callback setting, or forget it.
    pub fn put_callback(&mut self, row: Option<&CallbackRow>) -> Result<(), ErrCode> {
        self.put_setting(CALLBACK_KEY, &row)
    }

    /// Set a setting.
    pub fn put_setting<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), ErrCode> {
        let text = serde_json::to_string(value).map_err(|_| ErrCode::SYSTEM_BUSY)?;
        exec(
            &self.db,
            "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
            params![key, text],
        )?;
        self.settings.0.insert(key.to_owned(), text);
        Ok(())
    }
}
