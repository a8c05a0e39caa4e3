//! `/cgi-bin/kf/account/{add,del,update,list}` (docs/kf-api.md §3.1–3.4).

use axum::body::Bytes;

use wecom_kf_types::Empty;
use wecom_kf_types::kf::account::{
    AddAccount, AddAccountResponse, DeleteAccount, ListAccounts, ListAccountsResponse,
    UpdateAccount,
};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[
    Route::json::<AddAccount>(),
    Route::json::<DeleteAccount>(),
    Route::json::<UpdateAccount>(),
    Route::json::<ListAccounts>(),
];

impl Handle for AddAccount {
    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<AddAccountResponse, Rejection> {
        let open_kfid = emulator
            .world()
            .add_account(caller, &request.name, request.media_id)?;
        Ok(AddAccountResponse::new(open_kfid))
    }
}

impl Handle for DeleteAccount {
    fn handle(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Empty, Rejection> {
        emulator
            .world()
            .delete_account(caller, &request.open_kfid)?;
        Ok(Empty {})
    }
}

impl Handle for UpdateAccount {
    fn handle(emulator: &Emulator, caller: &Caller, request: Self) -> Result<Empty, Rejection> {
        emulator.world().update_account(
            caller,
            &request.open_kfid,
            request.name.as_deref(),
            request.media_id.as_deref(),
        )?;
        Ok(Empty {})
    }
}

impl Handle for ListAccounts {
    /// Several SDKs call `list` with GET, without a body or with query paging
    /// (docs/kf-api.md §3.4); an empty POST body means the defaults.
    const ALSO_OTHER_METHOD: bool = true;

    fn handle(
        emulator: &Emulator,
        caller: &Caller,
        request: Self,
    ) -> Result<ListAccountsResponse, Rejection> {
        Ok(ListAccountsResponse::new(emulator.world().list_accounts(
            caller,
            request.offset,
            request.limit,
        )))
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
        let generation = emulator.world().store().account_generation();
        if let Some(bytes) = emulator
            .list_cache()
            .get(&key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, b)| b.clone())
        {
            return Ok(bytes);
        }
        let bytes = crate::http::reply::success(&Self::handle(emulator, caller, request)?)?;
        let mut cache = emulator.list_cache();
        if cache.len() > 1024 {
            cache.clear();
        }
        cache.insert(key, (generation, bytes.clone()));
        Ok(bytes)
    }

    fn empty() -> Option<Self> {
        Some(ListAccounts::default())
    }
}
