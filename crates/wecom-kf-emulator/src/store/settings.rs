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

    pub(super) fn clear(&mut self) {
        self.0.clear();
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
