//! `POST /cgi-bin/media/upload?type=…` (docs/kf-api.md §2): multipart with one part
//! named `media`. A success's `errmsg` is `""`, as in the official example.
//!
//! `GET /cgi-bin/media/get?media_id=…` (§2.1): the file of an app upload or a
//! customer's media as plain HTTP, a single `Range` as 206, 416 outside the file,
//! 830002 for a whole file (or a chunk) over 20 MiB of a file over 20 MiB, 40007 for an
//! unknown or expired id; errors are the usual JSON envelope with HTTP 200.

use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any};
use wecom_kf_types::ErrCode;
use wecom_kf_types::limits::{FILE_MAX_BYTES, MEDIA_CHUNK_MAX_BYTES};
use wecom_kf_types::media::{
    ByteRange, ContentRange, FORM_PART, GET_PATH, GetMedia, MediaType, UPLOAD_PATH,
    UploadMediaResponse, content_disposition,
};

use super::registry::Route;
use super::{caller, framed, parse_query, wrong_method};
use crate::http::accept::Conn;
use crate::http::faults::Fault;
use crate::http::reply::success_with_errmsg;
use crate::rejection::Rejection;
use crate::state::Emulator;
use crate::world::Upload;

/// The largest file plus room for the multipart framing.
#[allow(clippy::cast_possible_truncation)] // 20 MB fits every usize we build for
const UPLOAD_BODY_LIMIT: usize = FILE_MAX_BYTES as usize + 64 * 1024;

pub(crate) const ROUTES: &[Route] = &[
    Route {
        path: UPLOAD_PATH,
        handler,
        check: None,
    },
    Route {
        path: GET_PATH,
        handler: get_handler,
        check: None,
    },
];

fn get_handler() -> MethodRouter<Arc<Emulator>> {
    any(get)
}

/// `media/get`: framed like every call (counted, faults before and after), but the
/// answer is a streamed file, not JSON. A truncation fault cuts the file in half.
async fn get(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let conn = conn.map(|Extension(c)| c);
    let ip = conn.as_ref().map(|c| c.peer.ip());
    emulator.count(GET_PATH);
    let fault = emulator.pick_fault(GET_PATH);
    if let Some(response) = super::before(fault.as_ref(), conn.as_ref(), ip).await {
        return response;
    }
    let response = match download(&emulator, &method, &headers, query.as_deref()).await {
        Ok(file) => file,
        Err(rejection) => rejection.into_response(ip),
    };
    let fault = match fault {
        Some(Fault::Truncate) => {
            let len = response
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .unwrap_or(0);
            Some(Fault::CutBody {
                after_bytes: len / 2,
            })
        }
        other => other,
    };
    super::after(fault, response, conn.as_ref()).await
}

async fn download(
    emulator: &Emulator,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Response, Rejection> {
    if method != Method::GET {
        return Err(wrong_method(method, "GET"));
    }
    let query = parse_query(query);
    caller(emulator, GET_PATH, &query, headers)?;
    let request = GetMedia::new(query.get("media_id").cloned().unwrap_or_default());
    request
        .validate()
        .map_err(|e| Rejection::with(e.errcode, e.to_string()))?;
    let media = emulator.world().media_to_serve(&request.media_id)?;
    let total = media.size;
    // Anything but one well-formed byte range is ignored, as HTTP allows.
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(ByteRange::parse);
    let (first, last) = match range {
        None => (0, total.saturating_sub(1)),
        Some(range) => match range.resolve(total) {
            Some(bytes) => bytes,
            None => {
                return Ok((
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{total}"))],
                )
                    .into_response());
            }
        },
    };
    let len = if total == 0 { 0 } else { last - first + 1 };
    if total > MEDIA_CHUNK_MAX_BYTES && len > MEDIA_CHUNK_MAX_BYTES {
        return Err(Rejection::with(
            ErrCode::MEDIA_NEEDS_RANGE,
            format!(
                "the file is {total} bytes; fetch it with Range chunks of at most {MEDIA_CHUNK_MAX_BYTES} bytes, asked for {len}"
            ),
        ));
    }
    let body = if media.customer.is_some() {
        emulator
            .blobs()
            .read(&request.media_id, first, len)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot read a stored media file");
                Rejection::from(ErrCode::SYSTEM_BUSY)
            })?
    } else {
        let bytes = emulator
            .world()
            .store()
            .media_range(&request.media_id, first, len)?
            .ok_or(ErrCode::INVALID_MEDIA_ID)?;
        Body::from(bytes)
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&media.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(disposition) = HeaderValue::from_str(&content_disposition(&media.filename)) {
        h.insert(header::CONTENT_DISPOSITION, disposition);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let content_range = ContentRange { first, last, total }.to_string();
        if let Ok(value) = HeaderValue::from_str(&content_range) {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
    }
    Ok(response)
}

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
