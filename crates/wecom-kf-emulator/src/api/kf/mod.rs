//! `/cgi-bin/kf/…`.

mod account;
mod contact_way;

use std::sync::Arc;

use axum::Router;
use axum::routing::any;
use wecom_kf_types::kf::account::{AddAccount, DeleteAccount, ListAccounts, UpdateAccount};
use wecom_kf_types::kf::contact_way::AddContactWay;
use wecom_kf_types::{Endpoint, ErrCode};

use super::endpoint;
use crate::Emulator;
use crate::reply::Rejection;
use crate::store::{AccountRow, Store};

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route(AddAccount::PATH, any(endpoint::<AddAccount>))
        .route(DeleteAccount::PATH, any(endpoint::<DeleteAccount>))
        .route(UpdateAccount::PATH, any(endpoint::<UpdateAccount>))
        .route(ListAccounts::PATH, any(endpoint::<ListAccounts>))
        .route(AddContactWay::PATH, any(endpoint::<AddContactWay>))
}

/// Real ids are `wk` followed by `[0-9A-Za-z_-]`; anything else is malformed (95000).
fn well_formed(open_kfid: &str) -> bool {
    open_kfid.len() > 2
        && open_kfid.starts_with("wk")
        && open_kfid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The account `open_kfid` names: 95000 if malformed, 95004 if unknown or deleted.
fn find<'s>(store: &'s Store, open_kfid: &str) -> Result<&'s AccountRow, Rejection> {
    if !well_formed(open_kfid) {
        return Err(Rejection::with(
            ErrCode::INVALID_OPEN_KFID,
            format!("open_kfid {open_kfid:?} is malformed"),
        ));
    }
    store.account(open_kfid).ok_or_else(|| {
        Rejection::with(
            ErrCode::OPEN_KFID_NOT_EXIST,
            format!("open_kfid {open_kfid:?} does not exist"),
        )
    })
}
