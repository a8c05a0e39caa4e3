//! `/__emulator/customers…`: the WeChat side (docs/emulator-control.md, "Customers"), one
//! command per act of a customer, facing `world/wechat.rs`: a customer appears, opens
//! an account's chat, uploads media, writes, recalls, refuses the account's messages,
//! and reads what they were sent.

use std::sync::Arc;

use axum::Extension;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{MethodRouter, post};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wecom_kf_types::ErrCode;
use wecom_kf_types::media::{FORM_PART, MediaType};

use super::registry::Route;
use super::{BodyKind, Command, Done, Verb, envelope, guard};
use crate::http::accept::Conn;
use crate::rejection::Rejection;
use crate::state::Emulator;
use crate::store::CustomerRow;
pub use crate::world::InboxItem;
use crate::world::content;

pub(super) const ROUTES: &[Route] = &[
    Route::command::<NewCustomer>(),
    Route::command::<Enter>(),
    Route::command::<SendMessage>(),
    Route::command::<RecallMessage>(),
    Route::command::<RejectMessages>(),
    Route::command::<Inbox>(),
    Route::custom::<UploadMedia>(upload_handler),
];

/// `POST /__emulator/customers`: a WeChat user appears.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NewCustomer {
    /// Their id; generated (`wm` + 30 characters) when absent.
    #[serde(default)]
    pub external_userid: Option<String>,
    /// Their nickname.
    #[serde(default)]
    pub nickname: String,
    /// 0 unknown, 1 male, 2 female.
    #[serde(default)]
    pub gender: u8,
    /// Their unionid, if any.
    #[serde(default)]
    pub unionid: String,
    /// Their avatar URL, if any.
    #[serde(default)]
    pub avatar: String,
}

impl NewCustomer {
    /// A customer with this nickname and a generated id.
    pub fn named(nickname: impl Into<String>) -> Self {
        NewCustomer {
            nickname: nickname.into(),
            ..NewCustomer::default()
        }
    }
}

/// The customer's id.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerMade {
    /// `wm…`.
    pub external_userid: String,
}

impl Command for NewCustomer {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers";
    type Answer = CustomerMade;

    fn apply(self, emulator: &Emulator) -> Result<CustomerMade, Rejection> {
        let row = CustomerRow {
            nickname: self.nickname,
            gender: self.gender,
            unionid: self.unionid,
            avatar: self.avatar,
            created_at: 0,
        };
        let external_userid = emulator.world().put_customer(self.external_userid, row)?;
        Ok(CustomerMade { external_userid })
    }
}

/// `POST /__emulator/customers/{external_userid}/enter`: the customer opens an
/// account's chat (an `enter_session` event).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Enter {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The `scene` of the link they came by.
    #[serde(default)]
    pub scene: String,
    /// Its `scene_param`.
    #[serde(default)]
    pub scene_param: String,
}

/// The event's msgid and the welcome code, if one was issued.
#[derive(Clone, Debug, Serialize)]
pub struct Entered {
    /// The `enter_session` event's msgid.
    pub msgid: String,
    /// For `kf/send_msg_on_event`, valid 20 s.
    pub welcome_code: Option<String>,
}

impl Command for Enter {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/enter";
    type Answer = Entered;

    fn apply(self, emulator: &Emulator) -> Result<Entered, Rejection> {
        let (msgid, welcome_code) = emulator.world().customer_enters(
            &self.external_userid,
            &self.open_kfid,
            &self.scene,
            &self.scene_param,
        )?;
        Ok(Entered {
            msgid,
            welcome_code,
        })
    }
}

/// `POST /__emulator/customers/{external_userid}/send`: the customer writes (origin
/// 3): `open_kfid`, `msgtype` and the object under the msgtype's key, the same shape
/// `kf/send_msg` uses.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SendMessage {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// e.g. `text`.
    #[serde(default)]
    pub msgtype: String,
    /// The payload, under the msgtype's key.
    #[serde(flatten)]
    pub payload: Map<String, Value>,
}

impl SendMessage {
    /// A text from `external_userid` to `open_kfid`.
    pub fn text(external_userid: &str, open_kfid: &str, text: &str) -> Self {
        let mut payload = Map::new();
        payload.insert("text".to_owned(), serde_json::json!({ "content": text }));
        SendMessage {
            external_userid: external_userid.to_owned(),
            open_kfid: open_kfid.to_owned(),
            msgtype: "text".to_owned(),
            payload,
        }
    }
}

/// The msgid of what was written.
#[derive(Clone, Debug, Serialize)]
pub struct Sent {
    /// Its msgid.
    pub msgid: String,
}

impl Command for SendMessage {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/send";
    type Answer = Sent;

    fn apply(self, emulator: &Emulator) -> Result<Sent, Rejection> {
        let content = content(&self.msgtype, &Value::Object(self.payload))?;
        let msgid =
            emulator
                .world()
                .customer_sends(&self.external_userid, &self.open_kfid, content)?;
        Ok(Sent { msgid })
    }
}

/// `POST /__emulator/customers/{external_userid}/recall {"open_kfid","msgid"}`: within
/// 2 minutes; a `user_recall_msg` event.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RecallMessage {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// Their message.
    #[serde(default)]
    pub msgid: String,
}

impl Command for RecallMessage {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/recall";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator
            .world()
            .customer_recalls(&self.external_userid, &self.open_kfid, &self.msgid)?;
        Ok(Done {})
    }
}

/// `POST /__emulator/customers/{external_userid}/reject {"open_kfid","reject"}`: while
/// set, the account's sends answer 0 and count, but never arrive (`msg_send_fail` 10).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RejectMessages {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// Refuse (`true`) or accept again.
    #[serde(default)]
    pub reject: bool,
}

impl Command for RejectMessages {
    const METHOD: Verb = Verb::Post;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/reject";
    type Answer = Done;

    fn apply(self, emulator: &Emulator) -> Result<Done, Rejection> {
        emulator
            .world()
            .customer_rejects(&self.external_userid, &self.open_kfid, self.reject)?;
        Ok(Done {})
    }
}

/// `GET /__emulator/customers/{external_userid}/inbox?open_kfid=…`: what the customer
/// saw from the account, oldest first. Readable after the account is deleted: the
/// chat stays in the customer's WeChat.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Inbox {
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
}

/// The inbox.
#[derive(Clone, Debug, Serialize)]
pub struct Messages {
    /// Oldest first.
    pub messages: Vec<InboxItem>,
}

impl Command for Inbox {
    const METHOD: Verb = Verb::Get;
    const PATH: &'static str = "/__emulator/customers/{external_userid}/inbox";
    type Answer = Messages;

    fn apply(self, emulator: &Emulator) -> Result<Messages, Rejection> {
        let messages = emulator
            .world()
            .inbox(&self.open_kfid, &self.external_userid)?;
        Ok(Messages { messages })
    }
}

/// The largest file a customer may upload through the control plane.
pub const CUSTOMER_MEDIA_MAX_BYTES: u64 = 64 * 1024 * 1024;

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
    /// ([`SendMessage`] with `{"msgtype":"image","image":{"media_id":…}}`);
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
        let send = SendMessage {
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
        let blobs = self.blobs();
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

impl Emulator {
    /// A WeChat user appears ([`NewCustomer`]); answers their generated id.
    pub fn add_customer(&self, nickname: &str) -> Result<String, Rejection> {
        self.apply(NewCustomer::named(nickname))
            .map(|made| made.external_userid)
    }

    /// A customer writes a text to an account ([`SendMessage`]); answers the msgid.
    pub fn customer_says(
        &self,
        external_userid: &str,
        open_kfid: &str,
        text: &str,
    ) -> Result<String, Rejection> {
        self.apply(SendMessage::text(external_userid, open_kfid, text))
            .map(|sent| sent.msgid)
    }

    /// A customer opens an account's chat ([`Enter`]); answers the event's msgid and
    /// the welcome code, if one was issued.
    pub fn customer_enters(
        &self,
        external_userid: &str,
        open_kfid: &str,
        scene: &str,
    ) -> Result<(String, Option<String>), Rejection> {
        self.apply(Enter {
            external_userid: external_userid.to_owned(),
            open_kfid: open_kfid.to_owned(),
            scene: scene.to_owned(),
            scene_param: String::new(),
        })
        .map(|e| (e.msgid, e.welcome_code))
    }

    /// What the customer saw from the account ([`Inbox`]), as JSON objects.
    pub fn inbox(&self, external_userid: &str, open_kfid: &str) -> Result<Vec<Value>, Rejection> {
        let inbox = self.apply(Inbox {
            external_userid: external_userid.to_owned(),
            open_kfid: open_kfid.to_owned(),
        })?;
        Ok(inbox
            .messages
            .iter()
            .filter_map(|m| serde_json::to_value(m).ok())
            .collect())
    }
}
