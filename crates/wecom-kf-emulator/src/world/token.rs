//! Access tokens: the same token while it is valid, a new one after expiry; fetching
//! again never revokes the old one (docs/kf-api.md §1).

use wecom_kf_types::ErrCode;

use super::World;
use crate::ids;
use crate::store::{AgentId, TokenRow};

impl World<'_> {
    /// The token of `agent` and its remaining lifetime in seconds.
    pub(crate) fn issue_token(&mut self, agent: AgentId) -> Result<(String, u64), ErrCode> {
        let now = self.now;
        if let Some((token, row)) = self.store.valid_token_of(agent, now) {
            let remaining = u64::try_from(row.expires_at - now).unwrap_or(0);
            return Ok((token.to_owned(), remaining));
        }
        let ttl = self.config.token_ttl;
        let token = ids::access_token();
        self.store.insert_token(
            token.clone(),
            TokenRow {
                agent,
                expires_at: now + i64::try_from(ttl).unwrap_or(i64::MAX / 2),
            },
        )?;
        Ok((token, ttl))
    }

    /// Revoke every token (or one): the next call with it gets 40014.
    pub(crate) fn revoke_tokens(&mut self, only: Option<&str>) -> Result<usize, ErrCode> {
        self.store.revoke_tokens(only)
    }

    /// Expire every token now: the next call with it gets 42001.
    pub(crate) fn expire_tokens(&mut self) -> Result<(), ErrCode> {
        self.store.expire_tokens(self.now)
    }
}
