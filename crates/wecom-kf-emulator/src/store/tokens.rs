//! Table `tokens`: the access tokens issued, per app.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use wecom_kf_types::ErrCode;

use super::{AgentId, Store, busy};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tokens (
    token      TEXT PRIMARY KEY,
    agent      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);";

/// A stored access token.
#[derive(Clone, Copy, Debug)]
pub struct TokenRow {
    /// The app it belongs to.
    pub agent: AgentId,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The mirror.
#[derive(Default)]
pub(super) struct Tokens(HashMap<String, TokenRow>);

impl Tokens {
    pub(super) fn load(db: &Connection) -> rusqlite::Result<Tokens> {
        db.execute_batch(SCHEMA)?;
        let mut stmt = db.prepare("SELECT token, agent, expires_at FROM tokens")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                TokenRow {
                    agent: r.get(1)?,
                    expires_at: r.get(2)?,
                },
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>().map(Tokens)
    }

}

impl Store {
    /// Look a token up.
    pub fn token(&self, token: &str) -> Option<TokenRow> {
        self.tokens.0.get(token).copied()
    }

    /// The newest token of `agent` that is still valid at `now`.
    pub fn valid_token_of(&self, agent: AgentId, now: i64) -> Option<(&str, TokenRow)> {
        self.tokens
            .0
            .iter()
            .filter(|(_, row)| row.agent == agent && row.expires_at > now)
            .max_by_key(|(_, row)| row.expires_at)
            .map(|(token, row)| (token.as_str(), *row))
    }

    /// Store a new token.
    pub fn insert_token(&mut self, token: String, row: TokenRow) -> Result<(), ErrCode> {
        self.db
            .prepare_cached("INSERT INTO tokens (token, agent, expires_at) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![token, row.agent, row.expires_at]))
            .map_err(|e| busy(&e))?;
        self.tokens.0.insert(token, row);
        Ok(())
    }

    /// Forget tokens (all of them, or one): the next call with them gets 40014.
    pub fn revoke_tokens(&mut self, only: Option<&str>) -> Result<usize, ErrCode> {
        let n = match only {
            Some(token) => self
                .db
                .execute("DELETE FROM tokens WHERE token = ?1", params![token]),
            None => self.db.execute("DELETE FROM tokens", []),
        }
        .map_err(|e| busy(&e))?;
        match only {
            Some(token) => {
                self.tokens.0.remove(token);
            }
            None => self.tokens.0.clear(),
        }
        Ok(n)
    }

    /// Make every token expire at `now`: the next call with them gets 42001.
    pub fn expire_tokens(&mut self, now: i64) -> Result<(), ErrCode> {
        self.db
            .execute(
                "UPDATE tokens SET expires_at = min(expires_at, ?1)",
                params![now],
            )
            .map_err(|e| busy(&e))?;
        for row in self.tokens.0.values_mut() {
            row.expires_at = row.expires_at.min(now);
        }
        Ok(())
    }
}
