//! `GET /__emulator/media/{media_id}`: any media's bytes, for the `avatar` URLs that
//! `kf/account/list` returns and the console's pictures and links; the default avatar;
//! `GET /favicon.ico` for the console's browser;
//! `POST /__emulator/customers/{external_userid}/media`: a customer uploads media from
//! WeChat (multipart, one part `media`, up to 64 MiB), to send it with
//! `/__emulator/customers/{id}/send`; `media/get` serves it.

use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, HttpBody as _};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use wecom_kf_types::ErrCode;
use wecom_kf_types::media::{FORM_PART, MediaType, content_disposition};

use super::registry::Route;
use super::{Asset, BodyKind, Command, Verb, envelope, guard};
use crate::DEFAULT_AVATAR_PNG;
use crate::accept::Conn;
use crate::reply::Rejection;
use crate::state::Emulator;

/// The largest file a customer may upload through the control plane.
pub const CUSTOMER_MEDIA_MAX_BYTES: u64 = 64 * 1024 * 1024;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<GetMedia>(),
    Route::command::<DefaultAvatar>(),
    Route::command::<Favicon>(),
    Route::custom::<UploadMedia>(upload_handler),
];

/// `POST /__emulator/customers/{external_userid}/media` (multipart, one part `media`
/// with a filename and a Content-Type): the bytes are stored outside the store's lock,
/// then the media id is committed. Typed by the Content-Type (`image/*`, `voice/*` or
/// `audio/*`, `video/*`, else `file`). Its route streams the part to disk; in process
/// the bytes are given whole.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct UploadMedia {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The file's name.
    #[serde(default)]
    pub filename: String,
    /// Its Content-Type.
    #[serde(default)]
    pub content_type: String,
    /// The bytes.
    #[serde(skip)]
    pub data: Bytes,
    /// What [`Command::prepare`] stored.
    #[serde(skip)]
    stored: Option<Uploaded>,
}

/// The media stored.
#[derive(Clone, Debug, Serialize)]
pub struct Uploaded {
    /// For `/__emulator/customers/{id}/send` and `media/get`.
    pub media_id: String,
    /// `image`, `voice`, `video` or `file`.
    #[serde(rename = "type")]
    pub media_type: MediaType,
}

impl Command for UploadMedia {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/media";
    const BODY: BodyKind = BodyKind::Form;
    type Answer = Uploaded;

    async fn prepare(mut self, emulator: &Emulator) -> Result<Self, Rejection> {
        emulator.world().known_customer(&self.external_userid)?;
        let data = std::mem::take(&mut self.data);
        let source = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(data)]);
        let (media_id, media_type) = emulator
            .store_customer_media(
                &self.external_userid,
                &self.filename,
                &self.content_type,
                source,
                u64::MAX,
            )
            .await?;
        self.stored = Some(Uploaded {
            media_id,
            media_type,
        });
        Ok(self)
    }

    fn apply(self, _: &Emulator) -> Result<Uploaded, Rejection> {
        self.stored.ok_or_else(|| {
            Rejection::with(
                ErrCode::INVALID_PARAMETER,
                "media is stored by its outside work first: use Emulator::run",
            )
        })
    }
}

fn upload_handler() -> MethodRouter<Arc<Emulator>> {
    #[allow(clippy::cast_possible_truncation)] // 64 MiB fits every usize we build for
    let limit = CUSTOMER_MEDIA_MAX_BYTES as usize + 64 * 1024;
    post(customer_upload).layer(DefaultBodyLimit::max(limit))
}

async fn customer_upload(
    State(emulator): State<Arc<Emulator>>,
    conn: Option<Extension<Conn>>,
    headers: HeaderMap,
    Path(external_userid): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let conn = conn.map(|Extension(c)| c);
    if let Err(refused) = guard::admit(
        &emulator,
        conn.as_ref(),
        &headers,
        UploadMedia::METHOD,
        UploadMedia::BODY,
    ) {
        return refused.into_response();
    }
    match upload_part(&emulator, &external_userid, multipart).await {
        Ok(uploaded) => envelope(&uploaded),
        Err(rejection) => rejection.into_response(None),
    }
}

async fn upload_part(
    emulator: &Emulator,
    external_userid: &str,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Uploaded, Rejection> {
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
        return Ok(Uploaded {
            media_id,
            media_type,
        });
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
        let command = UploadMedia {
            external_userid: external_userid.to_owned(),
            filename: filename.to_owned(),
            content_type: content_type.to_owned(),
            data,
            stored: None,
        };
        self.run(command)
            .await
            .map(|up| (up.media_id, up.media_type))
    }

    /// The customer sends media they uploaded as a message of its type
    /// ([`super::customers::SendMessage`] with `{"msgtype":"image","image":{"media_id":…}}`);
    /// answers the msgid.
    pub fn customer_sends_media(
        &self,
        external_userid: &str,
        open_kfid: &str,
        media_type: MediaType,
        media_id: &str,
    ) -> Result<String, Rejection> {
        let kind = media_type.as_str();
        let mut payload = serde_json::Map::new();
        payload.insert(kind.to_owned(), serde_json::json!({ "media_id": media_id }));
        let send = super::customers::SendMessage {
            external_userid: external_userid.to_owned(),
            open_kfid: open_kfid.to_owned(),
            msgtype: kind.to_owned(),
            payload,
        };
        self.apply(send).map(|sent| sent.msgid)
    }

    pub(crate) async fn store_customer_media<E: std::fmt::Display>(
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

/// `GET /__emulator/media/{media_id}`: the bytes of any media the emulator holds, an
/// app's upload or a customer's, with its Content-Type, Content-Length and
/// Content-Disposition (the uploader's filename), or 404. No token and no expiry: the
/// `avatar` URLs and the console's pictures and download links read it. A customer's
/// file is streamed from the blob store, never held whole.
#[derive(Debug, Default, Deserialize)]
pub struct GetMedia {
    /// The media.
    #[serde(default)]
    pub media_id: String,
    /// What [`Command::prepare`] found.
    #[serde(skip)]
    found: Option<MediaFile>,
}

/// The file `GET /__emulator/media/{media_id}` serves.
#[derive(Debug, Serialize)]
pub struct MediaFile {
    /// e.g. `image/png`.
    pub content_type: String,
    /// The uploader's name for it.
    pub filename: String,
    /// Bytes.
    pub size: u64,
    /// The bytes, streamed.
    #[serde(skip)]
    pub body: Body,
}

impl Command for GetMedia {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/media/{media_id}";
    type Answer = Option<MediaFile>;

    async fn prepare(mut self, emulator: &Emulator) -> Result<Self, Rejection> {
        let (row, blobs) = {
            let world = emulator.world();
            let Some(row) = world.store().media(&self.media_id).cloned() else {
                return Ok(self);
            };
            (row, world.store().blobs())
        };
        let body = if row.customer.is_some() {
            blobs.read(&self.media_id, 0, row.size).await.map_err(|e| {
                tracing::error!(error = %e, "cannot read a stored media file");
                Rejection::from(ErrCode::SYSTEM_BUSY)
            })?
        } else {
            let found = emulator.world().store().media_bytes(&self.media_id)?;
            Body::from(found.map(|(_, bytes)| bytes).unwrap_or_default())
        };
        self.found = Some(MediaFile {
            content_type: row.content_type,
            filename: row.filename,
            size: row.size,
            body,
        });
        Ok(self)
    }

    /// Answers what [`Command::prepare`] found: in process, use [`Emulator::run`].
    fn apply(self, _: &Emulator) -> Result<Option<MediaFile>, Rejection> {
        Ok(self.found)
    }

    fn respond(answer: Option<MediaFile>) -> Response {
        let Some(file) = answer else {
            return (StatusCode::NOT_FOUND, "no such media").into_response();
        };
        // A body of known size (bytes in memory) gets its Content-Length from hyper;
        // a streamed file gets the recorded size.
        let streamed = file.body.size_hint().exact().is_none();
        let mut response = Response::new(file.body);
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&file.content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        if streamed {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
        }
        if let Ok(disposition) = HeaderValue::from_str(&content_disposition(&file.filename)) {
            h.insert(header::CONTENT_DISPOSITION, disposition);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

fn png() -> Asset {
    Asset {
        content_type: "image/png".to_owned(),
        bytes: axum::body::Bytes::from_static(DEFAULT_AVATAR_PNG),
    }
}

/// `GET /__emulator/avatar/default.png`: the avatar of accounts made in the console.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DefaultAvatar {}

impl Command for DefaultAvatar {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/avatar/default.png";
    type Answer = Asset;

    fn apply(self, _: &Emulator) -> Result<Asset, Rejection> {
        Ok(png())
    }

    fn respond(answer: Asset) -> Response {
        answer.respond()
    }
}

/// `GET /favicon.ico`: what a browser on the console asks for by itself. Served (the
/// avatar), so it is never counted or logged as a call to an unknown API.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Favicon {}

impl Command for Favicon {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/favicon.ico";
    type Answer = Asset;

    fn apply(self, _: &Emulator) -> Result<Asset, Rejection> {
        Ok(png())
    }

    fn respond(answer: Asset) -> Response {
        let mut response = answer.respond();
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("max-age=86400"),
        );
        response
    }
}
