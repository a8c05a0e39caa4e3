//! `GET /cgi-bin/gettoken` (docs/kf-api.md §1): the same token while it is valid, with
//! the remaining `expires_in`; a new one after expiry. Re-fetching never revokes the
//! old one. Only `GET`, as documented: other methods are refused with 40058.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{MethodRouter, any};
use wecom_kf_types::token::{GetToken, GetTokenResponse};
use wecom_kf_types::{ErrCode, Secret};

use super::registry::Route;
use super::{framed, parse_query, wrong_method};
use crate::http::accept::Conn;
use crate::http::reply::success;
use crate::rejection::Rejection;
use crate::state::Emulator;

pub(crate) const ROUTES: &[Route] = &[Route {
    path: GetToken::PATH,
    handler,
    check: None,
}];

fn handler() -> MethodRouter<Arc<Emulator>> {
    any(handle)
}

async fn handle(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    method: Method,
    RawQuery(query): RawQuery,
) -> Response {
    framed(&emulator, GetToken::PATH, conn, || async {
        if method != Method::GET {
            return Err(wrong_method(&method, "GET"));
        }
        success(&issue(&emulator, &parse_query(query.as_deref()))?)
    })
    .await
}

fn issue(
    emulator: &Emulator,
    query: &HashMap<String, String>,
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
        .config()
        .agent_of(request.corpsecret.expose())
        .ok_or(ErrCode::INVALID_CREDENTIAL)?;
    emulator.rate_limit(GetToken::PATH, false)?;
    let (token, expires_in) = emulator.world().issue_token(agent)?;
    Ok(GetTokenResponse::new(Secret::new(token), expires_in))
}
