//! `POST /cgi-bin/media/upload?type=…` (docs/kf-api.md §2): multipart with one part
//! named `media`. A success's `errmsg` is `""`, as in the official example.

use std::sync::Arc;

use axum::Extension;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::{MethodRouter, any};
use wecom_kf_types::ErrCode;
use wecom_kf_types::limits::FILE_MAX_BYTES;
use wecom_kf_types::media::{FORM_PART, MediaType, UPLOAD_PATH, UploadMediaResponse};

use super::registry::Route;
use super::{caller, framed, parse_query, wrong_method};
use crate::accept::Conn;
use crate::reply::{Rejection, success_with_errmsg};
use crate::state::Emulator;
use crate::world::Upload;

/// The largest file plus room for the multipart framing.
#[allow(clippy::cast_possible_truncation)] // 20 MB fits every usize we build for
const UPLOAD_BODY_LIMIT: usize = FILE_MAX_BYTES as usize + 64 * 1024;

pub(crate) const ROUTES: &[Route] = &[Route {
    path: UPLOAD_PATH,
    handler,
    check: None,
}];

fn handler() -> MethodRouter<Arc<Emulator>> {
    any(handle).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT))
}

async fn handle(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    framed(&emulator, UPLOAD_PATH, conn, || async {
        if method != Method::POST {
            return Err(wrong_method(
                &method,
                "POST with a multipart/form-data body",
            ));
        }
        let query = parse_query(query.as_deref());
        caller(&emulator, UPLOAD_PATH, &query, &headers)?;
        let media_type: MediaType = query
            .get("type")
            .map_or("", String::as_str)
            .parse()
            .map_err(|e: wecom_kf_types::Invalid| Rejection::with(e.errcode, e.to_string()))?;
        let multipart = multipart.map_err(|e| {
            Rejection::with(
                ErrCode::INVALID_MEDIA_FILE_TYPE,
                format!("not a multipart/form-data body: {e}"),
            )
        })?;
        success_with_errmsg(&upload(&emulator, media_type, multipart).await?, "")
    })
    .await
}

async fn upload(
    emulator: &Emulator,
    media_type: MediaType,
    mut multipart: Multipart,
) -> Result<UploadMediaResponse, Rejection> {
    let too_big = |e: axum::extract::multipart::MultipartError| {
        Rejection::with(
            ErrCode::MEDIA_SIZE_OUT_OF_LIMIT,
            format!("could not read the upload: {e}"),
        )
    };
    loop {
        let Some(field) = multipart.next_field().await.map_err(too_big)? else {
            return Err(Rejection::with(
                ErrCode::INVALID_MEDIA_FILE_TYPE,
                format!("no form part named \"{FORM_PART}\""),
            ));
        };
        if field.name() != Some(FORM_PART) {
            continue;
        }
        let filename = field.file_name().unwrap_or("media").to_owned();
        let data = field.bytes().await.map_err(too_big)?;
        let (media_id, created_at) = emulator.world().upload_media(&Upload {
            media_type,
            filename: &filename,
            data: &data,
        })?;
        return Ok(UploadMediaResponse::new(
            media_type,
            media_id,
            u64::try_from(created_at).unwrap_or(0),
        ));
    }
}
