//! `POST /cgi-bin/media/upload?type=…` (spec §2): multipart with one part named `media`.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use wecom_kf_types::ErrCode;
use wecom_kf_types::limits::FILE_MAX_BYTES;
use wecom_kf_types::media::{FORM_PART, Format, MediaType, UPLOAD_PATH, UploadMediaResponse};

use super::{caller, framed, parse_query};
use crate::reply::{Rejection, success};
use crate::server::Conn;
use crate::{Caller, Emulator, ids};

/// The largest file plus room for the multipart framing.
#[allow(clippy::cast_possible_truncation)] // 20 MB fits every usize we build for
const UPLOAD_BODY_LIMIT: usize = FILE_MAX_BYTES as usize + 64 * 1024;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route(UPLOAD_PATH, post(handle))
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT))
}

async fn handle(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    framed(&emulator, UPLOAD_PATH, conn, || async {
        let query = parse_query(query.as_deref());
        let caller = caller(&emulator, UPLOAD_PATH, &query, &headers)?;
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
        success(&upload(&emulator, &caller, media_type, multipart).await?)
    })
    .await
}

async fn upload(
    emulator: &Emulator,
    _caller: &Caller,
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
        let invalid = |e: wecom_kf_types::Invalid| Rejection::with(e.errcode, e.to_string());
        media_type
            .validate_size(data.len() as u64)
            .map_err(invalid)?;
        media_type
            .validate_format(&data[..data.len().min(16)])
            .map_err(invalid)?;
        let content_type = Format::sniff(&data[..data.len().min(16)]).content_type();
        let media_id = ids::media_id();
        let now = emulator.now();
        emulator.store().insert_media(
            &media_id,
            media_type,
            &filename,
            content_type,
            &data,
            now,
        )?;
        return Ok(UploadMediaResponse::new(
            media_type,
            media_id,
            u64::try_from(now).unwrap_or(0),
        ));
    }
}
