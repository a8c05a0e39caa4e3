//! `GET /__emulator/media/{id}` and the default avatar: the `avatar` URLs that
//! `kf/account/list` returns. `POST /__emulator/customers/{id}/media`: a customer
//! uploads media from WeChat (multipart, one part `media`, up to 64 MiB), to send it
//! with `/__emulator/customers/{id}/send`; `media/get` serves it.

use std::sync::Arc;

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;
use wecom_kf_types::ErrCode;
use wecom_kf_types::media::{FORM_PART, MediaType};

use super::done;
use crate::DEFAULT_AVATAR_PNG;
use crate::reply::Rejection;
use crate::state::Emulator;

/// The largest file a customer may upload through the control plane.
pub const CUSTOMER_MEDIA_MAX_BYTES: u64 = 64 * 1024 * 1024;

pub(super) fn routes() -> Router<Arc<Emulator>> {
    #[allow(clippy::cast_possible_truncation)] // 64 MiB fits every usize we build for
    let limit = CUSTOMER_MEDIA_MAX_BYTES as usize + 64 * 1024;
    Router::new()
        .route("/__emulator/media/{media_id}", get(media))
        .route("/__emulator/avatar/default.png", get(default_avatar))
        .route(
            "/__emulator/customers/{external_userid}/media",
            post(customer_upload).layer(DefaultBodyLimit::max(limit)),
        )
}

async fn customer_upload(
    State(emulator): State<Arc<Emulator>>,
    Path(external_userid): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    done(upload_part(&emulator, &external_userid, multipart).await)
}

async fn upload_part(
    emulator: &Emulator,
    external_userid: &str,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<serde_json::Value, Rejection> {
    // Refused before any byte is stored.
    emulator.world().known_customer(external_userid)?;
    let mut multipart = multipart.map_err(|e| {
        Rejection::with(
            ErrCode::INVALID_PARAMETER,
            format!("not a multipart/form-data body with a part named \"{FORM_PART}\": {e}"),
        )
    })?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        Rejection::with(
            ErrCode::MEDIA_SIZE_OUT_OF_LIMIT,
            format!("could not read the upload (at most {CUSTOMER_MEDIA_MAX_BYTES} bytes): {e}"),
        )
    };
    loop {
        let Some(field) = multipart.next_field().await.map_err(unreadable)? else {
            return Err(Rejection::with(
                ErrCode::INVALID_PARAMETER,
                format!("no form part named \"{FORM_PART}\""),
            ));
        };
        if field.name() != Some(FORM_PART) {
            continue;
        }
        let filename = field.file_name().unwrap_or("media").to_owned();
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let (media_id, media_type) = emulator
            .store_customer_media(
                external_userid,
                &filename,
                &content_type,
                field,
                CUSTOMER_MEDIA_MAX_BYTES,
            )
            .await?;
        return Ok(json!({ "media_id": media_id, "type": media_type }));
    }
}

impl Emulator {
    /// A customer uploads a file from WeChat, as `POST
    /// /__emulator/customers/{id}/media` does: the bytes are stored outside the store's
    /// lock (other calls go on meanwhile), then the media id is committed. Typed by
    /// `content_type` (`image/*`, `voice/*` or `audio/*`, `video/*`, else `file`); at
    /// most [`CUSTOMER_MEDIA_MAX_BYTES`] through the control plane, any size here.
    pub async fn customer_uploads(
        &self,
        external_userid: &str,
        filename: &str,
        content_type: &str,
        data: Bytes,
    ) -> Result<(String, MediaType), Rejection> {
        self.world().known_customer(external_userid)?;
        let source = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(data)]);
        self.store_customer_media(external_userid, filename, content_type, source, u64::MAX)
            .await
    }

    /// The customer sends media they uploaded as a message of its type, as `POST
    /// /__emulator/customers/{id}/send` with `{"msgtype":"image","image":{"media_id":…}}`
    /// does; answers the msgid.
    pub fn customer_sends_media(
        &self,
        external_userid: &str,
        open_kfid: &str,
        media_type: MediaType,
        media_id: &str,
    ) -> Result<String, Rejection> {
        let kind = media_type.as_str();
        let content = crate::world::content(kind, &json!({ kind: { "media_id": media_id } }))?;
        self.world()
            .customer_sends(external_userid, open_kfid, content)
    }

    async fn store_customer_media<E: std::fmt::Display>(
        &self,
        external_userid: &str,
        filename: &str,
        content_type: &str,
        source: impl futures_util::Stream<Item = Result<Bytes, E>>,
        cap: u64,
    ) -> Result<(String, MediaType), Rejection> {
        use futures_util::StreamExt as _;
        let busy = |e: std::io::Error| {
            tracing::error!(error = %e, "cannot store a customer's media");
            Rejection::from(ErrCode::SYSTEM_BUSY)
        };
        let media_id = crate::ids::media_id();
        let blobs = self.world().store().blobs();
        let mut writer = blobs.create(&media_id).await.map_err(busy)?;
        let mut source = std::pin::pin!(source);
        while let Some(chunk) = source.next().await {
            let chunk = chunk.map_err(|e| {
                Rejection::with(
                    ErrCode::MEDIA_SIZE_OUT_OF_LIMIT,
                    format!("could not read the upload (at most {cap} bytes): {e}"),
                )
            })?;
            if writer.len() + chunk.len() as u64 > cap {
                return Err(Rejection::with(
                    ErrCode::MEDIA_SIZE_OUT_OF_LIMIT,
                    format!("the upload is over {cap} bytes"),
                ));
            }
            writer.write(&chunk).await.map_err(busy)?;
        }
        if writer.len() == 0 {
            return Err(Rejection::with(
                ErrCode::EMPTY_MEDIA,
                "the media part is empty",
            ));
        }
        let size = writer.finish().await.map_err(busy)?;
        let recorded = self.world().add_customer_media(
            &media_id,
            external_userid,
            filename,
            content_type,
            size,
        );
        match recorded {
            Ok(media_type) => Ok((media_id, media_type)),
            Err(rejection) => {
                blobs.remove(&media_id);
                Err(rejection)
            }
        }
    }
}

async fn media(State(emulator): State<Arc<Emulator>>, Path(media_id): Path<String>) -> Response {
    match emulator.world().store().media_bytes(&media_id) {
        Ok(Some((content_type, data))) => {
            ([(header::CONTENT_TYPE, content_type)], data).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such media").into_response(),
        Err(code) => Rejection::from(code).into_response(None),
    }
}

async fn default_avatar() -> Response {
    ([(header::CONTENT_TYPE, "image/png")], DEFAULT_AVATAR_PNG).into_response()
}
