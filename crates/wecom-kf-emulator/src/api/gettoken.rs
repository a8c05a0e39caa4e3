//! `GET /cgi-bin/gettoken` (spec §1): the same token while it is valid, with the
//! remaining `expires_in`; a new one after expiry. Re-fetching never revokes the old one.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use wecom_kf_types::token::{GetToken, GetTokenResponse};
use wecom_kf_types::{ErrCode, Secret};

use super::{framed, parse_query};
use crate::reply::{Rejection, success};
use crate::server::Conn;
use crate::store::TokenRow;
use crate::{Emulator, ids};

pub(super) const PATH: &str = GetToken::PATH;

pub(super) async fn handle(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    RawQuery(query): RawQuery,
) -> Response {
    framed(&emulator, PATH, conn, || async {
        success(&issue(&emulator, &parse_query(query.as_deref()))?)
    })
    .await
}

fn issue(
    emulator: &Emulator,
    query: &std::collections::HashMap<String, String>,
) -> Result<GetTokenResponse, Rejection> {
    let request = GetToken::new(
        query.get("corpid").cloned().unwrap_or_default(),
        Secret::new(query.get("corpsecret").map_or("", String::as_str)),
    );
    request
        .validate()
        .map_err(|invalid| Rejection::with(invalid.errcode, invalid.to_string()))?;
    if request.corpid != emulator.config().corp_id {
        return Err(ErrCode::INVALID_CORPID.into());
    }
    let agent = emulator
        .agent_of(request.corpsecret.expose())
        .ok_or(ErrCode::INVALID_CREDENTIAL)?;
    emulator.rate_limit(PATH, false)?;
    let now = emulator.now();
    let mut store = emulator.store();
    if let Some((token, row)) = store.valid_token_of(agent, now) {
        let remaining = u64::try_from(row.expires_at - now).unwrap_or(0);
        return Ok(GetTokenResponse::new(Secret::new(token), remaining));
    }
    let ttl = emulator.config().token_ttl;
    let token = ids::access_token();
    store.insert_token(
        token.clone(),
        TokenRow {
            agent,
            expires_at: now + i64::try_from(ttl).unwrap_or(i64::MAX / 2),
        },
    )?;
    Ok(GetTokenResponse::new(Secret::new(token), ttl))
}
