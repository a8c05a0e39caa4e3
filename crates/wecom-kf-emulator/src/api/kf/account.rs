//! `/cgi-bin/kf/account/{add,del,update,list}` (spec §3.1–3.4).

use std::collections::HashMap;

use axum::body::Bytes;

use wecom_kf_types::kf::account::{
    Account, AddAccount, AddAccountResponse, DeleteAccount, ListAccounts, ListAccountsResponse,
    UpdateAccount,
};
use wecom_kf_types::limits::MEDIA_TTL_SECS;
use wecom_kf_types::media::MediaType;
use wecom_kf_types::{Empty, ErrCode};

use super::find;
use crate::api::Handle;
use crate::reply::Rejection;
use crate::store::{AccountRow, Store};
use crate::{Caller, Emulator};

/// An avatar must be an image uploaded in the last 3 days (40007 otherwise).
fn check_avatar(emulator: &Emulator, store: &Store, media_id: &str) -> Result<(), Rejection> {
    let media = store
        .media(media_id)
        .ok_or_else(|| Rejection::with(ErrCode::INVALID_MEDIA_ID, "unknown media_id"))?;
    if emulator.now() - media.created_at >= i64::try_from(MEDIA_TTL_SECS).unwrap_or(i64::MAX) {
        return Err(Rejection::with(
            ErrCode::INVALID_MEDIA_ID,
            "media_id expired (temporary media lasts 3 days)",
        ));
    }
    if media.media_type != MediaType::Image {
        return Err(Rejection::with(
            ErrCode::INVALID_MEDIA_ID,
            format!("media_id is a {}, not an image", media.media_type),
        ));
    }
    Ok(())
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
pub(crate) fn avatar_url(host: &str, media_id: &str) -> String {
    if media_id.is_empty() {
        format!("http://{host}/__emulator/avatar/default.png")
    } else {
        format!("http://{host}/__emulator/media/{media_id}")
    }
}

impl Handle for AddAccount {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<AddAccountResponse, Rejection> {
        check_avatar(emulator, &emulator.store(), &request.media_id)?;
        // Accounts created through the API are managed by the app that created them.
        let open_kfid =
            emulator.insert_account(&request.name, request.media_id, Some(caller.agent))?;
        Ok(AddAccountResponse::new(open_kfid))
    }
}

impl Handle for DeleteAccount {
    fn handle(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Empty, Rejection> {
        let mut store = emulator.store();
        check_managed(find(&store, &request.open_kfid)?, caller)?;
        store.delete_account(&request.open_kfid)?;
        Ok(Empty {})
    }
}

impl Handle for UpdateAccount {
    fn handle(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Empty, Rejection> {
        let mut store = emulator.store();
        check_managed(find(&store, &request.open_kfid)?, caller)?;
        if let Some(media_id) = &request.media_id {
            check_avatar(emulator, &store, media_id)?;
        }
        store.update_account(
            &request.open_kfid,
            request.name.as_deref(),
            request.media_id.as_deref(),
        )?;
        Ok(Empty {})
    }
}

impl Handle for ListAccounts {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<ListAccountsResponse, Rejection> {
        let store = emulator.store();
        let accounts = store
            .accounts(request.offset as usize, request.limit as usize)
            .map(|row| {
                Account::new(
                    &row.open_kfid,
                    &row.name,
                    avatar_url(&caller.host, &row.media_id),
                    Some(row.owner == Some(caller.agent)),
                )
            })
            .collect();
        Ok(ListAccountsResponse::new(accounts))
    }

    /// A page is rendered once per state of the accounts and caller: the cache is keyed
    /// by the store's generation, so any change renders afresh.
    fn render(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Bytes, Rejection> {
        let key = (
            caller.agent,
            caller.host.clone(),
            request.offset,
            request.limit,
        );
        let generation = emulator.store().generation();
        if let Some(bytes) = emulator
            .list_cache()
            .get(&key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, b)| b.clone())
        {
            return Ok(bytes);
        }
        let bytes = crate::reply::success(&Self::handle(emulator, caller, request)?)?;
        let mut cache = emulator.list_cache();
        if cache.len() > 1024 {
            cache.clear();
        }
        cache.insert(key, (generation, bytes.clone()));
        Ok(bytes)
    }

    /// Several SDKs call `list` with GET, without a body or with query paging.
    fn from_query(query: &HashMap<String, String>) -> Option<Result<Self, Rejection>> {
        let number = |name: &str, default: u32| match query.get(name) {
            None => Ok(default),
            Some(v) => v.parse::<u32>().map_err(|_| {
                Rejection::with(
                    ErrCode::INVALID_PARAMETER,
                    format!("{name} must be an unsigned integer, got {v:?}"),
                )
            }),
        };
        let defaults = ListAccounts::default();
        Some(
            number("offset", defaults.offset).and_then(|offset| {
                Ok(ListAccounts::page(offset, number("limit", defaults.limit)?))
            }),
        )
    }

    fn empty() -> Option<Self> {
        Some(ListAccounts::default())
    }
}
