//! kf accounts: the cap, the avatar rule, who manages which account (docs/kf-api.md §3).

use wecom_kf_types::ErrCode;
use wecom_kf_types::kf::account::{Account, validate_name};
use wecom_kf_types::media::MediaType;

use super::Caller;
use super::World;
use crate::ids;
use crate::rejection::Rejection;
use crate::store::{AccountRow, AgentId};

/// Real ids are `wk` followed by `[0-9A-Za-z_-]`; anything else is malformed (95000).
fn well_formed(open_kfid: &str) -> bool {
    open_kfid.len() > 2
        && open_kfid.starts_with("wk")
        && open_kfid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Management calls need the account to be managed by the calling app (48007).
fn check_managed(account: &AccountRow, caller: &Caller) -> Result<(), Rejection> {
    if account.owner == Some(caller.agent) {
        Ok(())
    } else {
        Err(Rejection::with(
            ErrCode::KF_ACCOUNT_NOT_AUTHORIZED,
            format!(
                "kf account {} is not managed by this app",
                account.open_kfid
            ),
        ))
    }
}

/// The avatar URL the emulator serves for a media id.
fn avatar_url(host: &str, media_id: &str) -> String {
    if media_id.is_empty() {
        format!("http://{host}/__emulator/avatar/default.png")
    } else {
        format!("http://{host}/__emulator/media/{media_id}")
    }
}

impl World<'_> {
    /// The account `open_kfid` names: 95000 if malformed, 95004 if unknown or deleted.
    pub(crate) fn account(&self, open_kfid: &str) -> Result<&AccountRow, Rejection> {
        if !well_formed(open_kfid) {
            return Err(Rejection::with(
                ErrCode::INVALID_OPEN_KFID,
                format!("open_kfid {open_kfid:?} is malformed"),
            ));
        }
        self.store.account(open_kfid).ok_or_else(|| {
            Rejection::with(
                ErrCode::OPEN_KFID_NOT_EXIST,
                format!("open_kfid {open_kfid:?} does not exist"),
            )
        })
    }

    /// The account, which the caller must manage (48007 otherwise).
    pub(crate) fn managed_account(
        &self,
        open_kfid: &str,
        caller: &Caller,
    ) -> Result<&AccountRow, Rejection> {
        let account = self.account(open_kfid)?;
        check_managed(account, caller)?;
        Ok(account)
    }

    /// Accounts stored now.
    pub(crate) fn account_count(&self) -> usize {
        self.store.account_count()
    }

    /// An avatar must be an image uploaded in the last 3 days (40007 otherwise).
    fn check_avatar(&self, media_id: &str) -> Result<(), Rejection> {
        self.check_media("media_id", media_id, MediaType::Image)
    }

    /// Insert an account under the cap (95005 / 95027 past it).
    fn insert_account(
        &mut self,
        name: &str,
        media_id: String,
        owner: Option<AgentId>,
    ) -> Result<String, Rejection> {
        let (cap, over_cap) = self.config.account_cap();
        if self.store.account_count() >= cap {
            return Err(Rejection::with(
                over_cap,
                format!("the corp already has {cap} kf accounts"),
            ));
        }
        let open_kfid = ids::open_kfid();
        self.store.insert_account(AccountRow {
            open_kfid: open_kfid.clone(),
            name: name.to_owned(),
            media_id,
            owner,
        })?;
        Ok(open_kfid)
    }

    /// `kf/account/add`: accounts created through the API are managed by the app that
    /// created them.
    pub(crate) fn add_account(
        &mut self,
        caller: &Caller,
        name: &str,
        media_id: String,
    ) -> Result<String, Rejection> {
        self.check_avatar(&media_id)?;
        self.insert_account(name, media_id, Some(caller.agent))
    }

    /// An account made in the admin console: no app manages it, it has the default avatar.
    pub(crate) fn add_console_account(&mut self, name: &str) -> Result<String, Rejection> {
        validate_name(name).map_err(|e| Rejection::with(e.errcode, e.to_string()))?;
        self.insert_account(name, String::new(), None)
    }

    /// `kf/account/update`.
    pub(crate) fn update_account(
        &mut self,
        caller: &Caller,
        open_kfid: &str,
        name: Option<&str>,
        media_id: Option<&str>,
    ) -> Result<(), Rejection> {
        self.managed_account(open_kfid, caller)?;
        if let Some(media_id) = media_id {
            self.check_avatar(media_id)?;
        }
        Ok(self.store.update_account(open_kfid, name, media_id)?)
    }

    /// `kf/account/del`.
    pub(crate) fn delete_account(
        &mut self,
        caller: &Caller,
        open_kfid: &str,
    ) -> Result<(), Rejection> {
        self.managed_account(open_kfid, caller)?;
        // Its servicers go with it.
        let servicers: Vec<_> = self
            .store
            .servicers(open_kfid)
            .map(|row| row.target.clone())
            .collect();
        for target in &servicers {
            self.store.delete_servicer(open_kfid, target)?;
        }
        Ok(self.store.delete_account(open_kfid)?)
    }

    /// `kf/account/list`: a page as the caller sees it (`manage_privilege` per app).
    pub(crate) fn list_accounts(&self, caller: &Caller, offset: u32, limit: u32) -> Vec<Account> {
        self.store
            .accounts(offset as usize, limit as usize)
            .map(|row| {
                Account::new(
                    &row.open_kfid,
                    &row.name,
                    avatar_url(&caller.host, &row.media_id),
                    Some(row.owner == Some(caller.agent)),
                )
            })
            .collect()
    }
}
