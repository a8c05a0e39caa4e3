//! What a message says, in both directions: the messages and events `kf/sync_msg`
//! returns (docs/kf-api.md §4.5–4.6), and the content `kf/send_msg` sends (§4.7).
//!
//! On the wire a message names its type in `msgtype` and carries its payload under a
//! key of the same name (`"msgtype":"text","text":{…}`). [`Content`] is that pair as
//! one enum. Decoding never fails on what the service may add later: an unknown
//! `msgtype` or `event_type`, or a payload that does not fit its type, is kept whole
//! as `Other`, with its JSON.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A small number on the wire with named values and room for new ones.
macro_rules! numbered {
    (
        $(#[$meta:meta])*
        $name:ident: $repr:ty as $repr_name:literal {
            $( $(#[$doc:meta])* $variant:ident = $n:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = $repr_name, into = $repr_name)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$doc])* $variant, )*
            /// A value this version does not know.
            Other($repr),
        }

        impl From<$repr> for $name {
            fn from(n: $repr) -> Self {
                match n {
                    $( $n => $name::$variant, )*
                    other => $name::Other(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> $repr {
                match value {
                    $( $name::$variant => $n, )*
                    $name::Other(n) => n,
                }
            }
        }
    };
}

numbered! {
    /// Who a message in `sync_msg` comes from.
    Origin: u8 as "u8" {
        /// 3: the customer, in WeChat.
        Customer = 3,
        /// 4: the system: an event.
        Event = 4,
        /// 5: a servicer, from the WeCom app.
        Servicer = 5,
    }
}

numbered! {
    /// Why a message the app sent was not delivered (`msg_send_fail`).
    FailType: u32 as "u32" {
        /// 0: unknown.
        Unknown = 0,
        /// 1: the kf account was deleted.
        AccountDeleted = 1,
        /// 2: the app was closed.
        AppClosed = 2,
        /// 4: the session expired (more than 48 h since the customer wrote).
        SessionExpired = 4,
        /// 5: the session was closed.
        SessionClosed = 5,
        /// 6: over the limit of 5 messages per customer message.
        OverLimit = 6,
        /// 7: no 视频号 bound (older list).
        ChannelsNotBound = 7,
        /// 8: the corp's subject is not verified.
        SubjectNotVerified = 8,
        /// 9: no 视频号 bound and the subject not verified (older list).
        ChannelsNotBoundAndNotVerified = 9,
        /// 10: the customer rejects messages.
        UserRejects = 10,
        /// 11: no member of the corp has logged in to the WeCom app.
        NoMemberLoggedIn = 11,
        /// 12: the kf component forbids this message type.
        ForbiddenByComponent = 12,
    }
}

numbered! {
    /// What moved a session (`session_status_change`); every one is a servicer's act
    /// in the WeCom app.
    ChangeType: u8 as "u8" {
        /// 1: taken from the queue (carries a `msg_code`).
        Taken = 1,
        /// 2: transferred to another servicer.
        Transferred = 2,
        /// 3: ended (carries a `msg_code` for a goodbye).
        Ended = 3,
        /// 4: a servicer re-entered an ended or transferred session.
        Reentered = 4,
    }
}

numbered! {
    /// A servicer's status in `servicer_status_change`. Note the encoding: the event
    /// says 1 / 2 where `kf/servicer/list` says 0 / 1 for the same two states.
    ServingChange: u8 as "u8" {
        /// 1: serving (接待中).
        Serving = 1,
        /// 2: stopped serving (停止接待), see `stop_type`.
        Stopped = 2,
    }
}

/// `text`: the customer's words, or a click on a menu item (`menu_id` set).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Text {
    /// The text.
    #[serde(default)]
    pub content: String,
    /// The `id` of the menu item clicked, when the text is such a click.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu_id: Option<String>,
}

impl Text {
    /// A text.
    pub fn new(content: impl Into<String>) -> Self {
        Text {
            content: content.into(),
            menu_id: None,
        }
    }
}

/// `image`, `voice`, `video`, `file`: a media id (media/upload to send; media/get to
/// fetch a received one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Media {
    /// The media id.
    #[serde(default)]
    pub media_id: String,
}

impl Media {
    /// A media message of `media_id`.
    pub fn new(media_id: impl Into<String>) -> Self {
        Media {
            media_id: media_id.into(),
        }
    }
}

/// `location`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// -90 to 90.
    #[serde(default)]
    pub latitude: f64,
    /// -180 to 180.
    #[serde(default)]
    pub longitude: f64,
    /// The place's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Its address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
}

impl Location {
    /// A place.
    pub fn new(latitude: f64, longitude: f64) -> Self {
        Location {
            latitude,
            longitude,
            name: String::new(),
            address: String::new(),
        }
    }

    /// With a name and an address.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>, address: impl Into<String>) -> Self {
        self.name = name.into();
        self.address = address.into();
        self
    }
}

/// `link`: received with `pic_url`, sent with `thumb_media_id`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// Title (a send's is cut to 128 bytes by the service).
    #[serde(default)]
    pub title: String,
    /// Description (a send's is cut to 512 bytes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub desc: String,
    /// `http://` or `https://`, at most 2048 bytes.
    #[serde(default)]
    pub url: String,
    /// The cover, in a received link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pic_url: Option<String>,
    /// The cover, in a sent link: an image from media/upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_media_id: Option<String>,
}

impl Link {
    /// A link to send, with its cover image.
    pub fn new(
        title: impl Into<String>,
        url: impl Into<String>,
        thumb_media_id: impl Into<String>,
    ) -> Self {
        Link {
            title: title.into(),
            desc: String::new(),
            url: url.into(),
            pic_url: None,
            thumb_media_id: Some(thumb_media_id.into()),
        }
    }

    /// With a description.
    #[must_use]
    pub fn desc(mut self, desc: impl Into<String>) -> Self {
        self.desc = desc.into();
        self
    }
}

/// `business_card`: a member's card.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BusinessCard {
    /// The member.
    #[serde(default)]
    pub userid: String,
}

/// `miniprogram`: a mini program card.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Miniprogram {
    /// The mini program, linked to the corp.
    #[serde(default)]
    pub appid: String,
    /// Title (a send's is cut to 64 bytes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Cover image from media/upload (520×416 recommended).
    #[serde(default)]
    pub thumb_media_id: String,
    /// The page to open.
    #[serde(default)]
    pub pagepath: String,
}

impl Miniprogram {
    /// A card of `appid` opening `pagepath`.
    pub fn new(
        appid: impl Into<String>,
        pagepath: impl Into<String>,
        thumb_media_id: impl Into<String>,
    ) -> Self {
        Miniprogram {
            appid: appid.into(),
            title: String::new(),
            thumb_media_id: thumb_media_id.into(),
            pagepath: pagepath.into(),
        }
    }

    /// With a title.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }
}

/// `msgmenu`: a text with items the customer can tap.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Menu {
    /// Text above the items, at most 1024 bytes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub head_content: String,
    /// At most 10 items (95008 beyond).
    #[serde(default)]
    pub list: Vec<MenuItem>,
    /// Text below the items, at most 1024 bytes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tail_content: String,
}

impl Menu {
    /// A menu with a head text.
    pub fn new(head_content: impl Into<String>) -> Self {
        Menu {
            head_content: head_content.into(),
            list: Vec::new(),
            tail_content: String::new(),
        }
    }

    /// Add an item.
    #[must_use]
    pub fn item(mut self, item: MenuItem) -> Self {
        self.list.push(item);
        self
    }

    /// With a tail text.
    #[must_use]
    pub fn tail(mut self, tail_content: impl Into<String>) -> Self {
        self.tail_content = tail_content.into();
        self
    }
}

/// One item of a menu: `{"type":"click","click":{…}}` on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MenuItem {
    /// A reply button: the customer's tap comes back as a `text` with `menu_id` = `id`.
    Click {
        /// 1 to 64 bytes.
        id: String,
        /// 1 to 128 bytes.
        content: String,
    },
    /// A web link.
    View {
        /// `http(s)://`, 1 to 2048 bytes.
        url: String,
        /// 1 to 1024 bytes.
        content: String,
    },
    /// A mini program page.
    Miniprogram {
        /// 1 to 32 bytes.
        appid: String,
        /// 1 to 1024 bytes.
        pagepath: String,
        /// 1 to 1024 bytes.
        content: String,
    },
    /// Plain text between items (limits UNCONFIRMED; docs/kf-api.md §4.7).
    Text {
        /// The text.
        content: String,
        /// 1: no line break after it (UNCONFIRMED).
        no_newline: Option<u8>,
    },
    /// An item type this version does not know (the service answers 95009).
    Other {
        /// Its `type`.
        kind: String,
        /// Its payload, as sent.
        raw: Value,
    },
}

impl MenuItem {
    /// A reply button.
    pub fn click(id: impl Into<String>, content: impl Into<String>) -> Self {
        MenuItem::Click {
            id: id.into(),
            content: content.into(),
        }
    }

    /// A web link.
    pub fn view(url: impl Into<String>, content: impl Into<String>) -> Self {
        MenuItem::View {
            url: url.into(),
            content: content.into(),
        }
    }

    /// A mini program page.
    pub fn miniprogram(
        appid: impl Into<String>,
        pagepath: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        MenuItem::Miniprogram {
            appid: appid.into(),
            pagepath: pagepath.into(),
            content: content.into(),
        }
    }

    /// A plain text line.
    pub fn text(content: impl Into<String>) -> Self {
        MenuItem::Text {
            content: content.into(),
            no_newline: None,
        }
    }

    /// Its `type` on the wire.
    pub fn kind(&self) -> &str {
        match self {
            MenuItem::Click { .. } => "click",
            MenuItem::View { .. } => "view",
            MenuItem::Miniprogram { .. } => "miniprogram",
            MenuItem::Text { .. } => "text",
            MenuItem::Other { kind, .. } => kind,
        }
    }

    fn payload(&self) -> Value {
        use serde_json::json;
        match self {
            MenuItem::Click { id, content } => json!({"id": id, "content": content}),
            MenuItem::View { url, content } => json!({"url": url, "content": content}),
            MenuItem::Miniprogram {
                appid,
                pagepath,
                content,
            } => json!({"appid": appid, "pagepath": pagepath, "content": content}),
            MenuItem::Text {
                content,
                no_newline,
            } => {
                let mut v = json!({ "content": content });
                if let Some(n) = no_newline {
                    v["no_newline"] = json!(n);
                }
                v
            }
            MenuItem::Other { raw, .. } => raw.clone(),
        }
    }

    fn from_wire(mut item: Value) -> MenuItem {
        let kind = item["type"].as_str().unwrap_or_default().to_owned();
        let payload = item.get_mut(&kind).map(Value::take).unwrap_or_default();
        let field = |name: &str| payload[name].as_str().map(str::to_owned);
        let known = match kind.as_str() {
            "click" => field("id")
                .zip(field("content"))
                .map(|(id, content)| MenuItem::Click { id, content }),
            "view" => field("url")
                .zip(field("content"))
                .map(|(url, content)| MenuItem::View { url, content }),
            "miniprogram" => match (field("appid"), field("pagepath"), field("content")) {
                (Some(appid), Some(pagepath), Some(content)) => Some(MenuItem::Miniprogram {
                    appid,
                    pagepath,
                    content,
                }),
                _ => None,
            },
            "text" => field("content").map(|content| MenuItem::Text {
                content,
                no_newline: payload["no_newline"]
                    .as_u64()
                    .and_then(|n| u8::try_from(n).ok()),
            }),
            _ => None,
        };
        known.unwrap_or(MenuItem::Other { kind, raw: payload })
    }
}

impl Serialize for MenuItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", self.kind())?;
        map.serialize_entry(self.kind(), &self.payload())?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for MenuItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(MenuItem::from_wire(Value::deserialize(deserializer)?))
    }
}

/// `channels_shop_product`: a 视频号小店 product the customer shared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChannelsShopProduct {
    /// The product.
    #[serde(default)]
    pub product_id: String,
    /// Its image.
    #[serde(default)]
    pub head_image: String,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Its price, in fen.
    #[serde(default)]
    pub sales_price: i64,
    /// The shop's name.
    #[serde(default)]
    pub shop_nickname: String,
    /// The shop's image.
    #[serde(default)]
    pub shop_head_image: String,
}

/// `channels_shop_order`: a 视频号小店 order the customer shared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChannelsShopOrder {
    /// The order.
    #[serde(default)]
    pub order_id: String,
    /// Its products' titles.
    #[serde(default)]
    pub product_titles: String,
    /// Its price, as worded.
    #[serde(default)]
    pub price_wording: String,
    /// Its state, as worded.
    #[serde(default)]
    pub state: String,
    /// Its image.
    #[serde(default)]
    pub image_url: String,
    /// The shop's name.
    #[serde(default)]
    pub shop_nickname: String,
}

/// `merged_msg`: a forwarded chat record (聊天记录). Fields UNCONFIRMED (docs/kf-api.md §4.5).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MergedMsg {
    /// The record's title.
    #[serde(default)]
    pub title: String,
    /// Its messages.
    #[serde(default)]
    pub item: Vec<MergedItem>,
}

/// One message of a [`MergedMsg`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MergedItem {
    /// When it was sent.
    #[serde(default)]
    pub send_time: i64,
    /// Its type.
    #[serde(default)]
    pub msgtype: String,
    /// Who sent it.
    #[serde(default)]
    pub sender_name: String,
    /// Its content, as a JSON string.
    #[serde(default)]
    pub msg_content: String,
}

/// `channels`: a 视频号 post or live stream. Fields UNCONFIRMED.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Channels {
    /// 1 post, 2 live, 3 …
    #[serde(default)]
    pub sub_type: u32,
    /// The 视频号's name.
    #[serde(default)]
    pub nickname: String,
    /// The title.
    #[serde(default)]
    pub title: String,
}

/// `meeting`: a WeCom meeting. Fields UNCONFIRMED.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Meeting {
    /// The meeting.
    #[serde(default)]
    pub meetingid: String,
}

/// `schedule`: a WeCom schedule. Fields UNCONFIRMED.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Schedule {
    /// The schedule.
    #[serde(default)]
    pub schedule_id: String,
}

/// `note`: a WeCom note (笔记); no fields are documented.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Note {}

/// `msgtype` and its payload. See the module docs.
macro_rules! contents {
    ($( $(#[$doc:meta])* $variant:ident($ty:ty) = $wire:literal, )*) => {
        /// What a message says: its `msgtype` and the payload under that key.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Content {
            $( $(#[$doc])* $variant($ty), )*
            /// `event` (origin 4).
            Event(Event),
            /// A `msgtype` this version does not know, or a payload that does not fit
            /// its type: kept as it came.
            Other {
                /// The `msgtype`.
                msgtype: String,
                /// The payload under the `msgtype` key (`null` when there was none).
                raw: Value,
            },
        }

        /// Every `msgtype` [`Content`] knows, `event` last.
        pub const MSGTYPES: &[&str] = &[$($wire,)* "event"];

        impl Content {
            /// The `msgtype` on the wire.
            pub fn msgtype(&self) -> &str {
                match self {
                    $( Content::$variant(_) => $wire, )*
                    Content::Event(_) => "event",
                    Content::Other { msgtype, .. } => msgtype,
                }
            }

            /// Read a payload: never fails (see [`Content::Other`]).
            pub fn from_wire(msgtype: &str, payload: Value) -> Content {
                let typed = match msgtype {
                    $( $wire => <$ty>::deserialize(&payload).map(Content::$variant), )*
                    "event" => return Content::Event(Event::from_wire(payload)),
                    _ => Err(de::Error::custom("unknown msgtype")),
                };
                typed.unwrap_or_else(|_: serde_json::Error| Content::Other {
                    msgtype: msgtype.to_owned(),
                    raw: payload,
                })
            }

            /// The payload as JSON: the object under the `msgtype` key.
            pub fn payload(&self) -> Value {
                let value = match self {
                    $( Content::$variant(p) => serde_json::to_value(p), )*
                    Content::Event(e) => serde_json::to_value(e),
                    Content::Other { raw, .. } => return raw.clone(),
                };
                // Our payload types are plain structs of strings and numbers.
                value.unwrap_or_default()
            }

            /// Write the `msgtype` key's entry (the payload) into a map being serialized.
            pub(crate) fn serialize_payload_into<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                match self {
                    $( Content::$variant(p) => map.serialize_entry($wire, p), )*
                    Content::Event(e) => map.serialize_entry("event", e),
                    Content::Other { msgtype, raw } => map.serialize_entry(msgtype.as_str(), raw),
                }
            }
        }
    };
}

contents! {
    /// `text` (a menu click has `menu_id`).
    Text(Text) = "text",
    /// `image`.
    Image(Media) = "image",
    /// `voice` (AMR unless `voice_format` 1 asked for Silk).
    Voice(Media) = "voice",
    /// `video`.
    Video(Media) = "video",
    /// `file`.
    File(Media) = "file",
    /// `location`.
    Location(Location) = "location",
    /// `link`.
    Link(Link) = "link",
    /// `business_card`.
    BusinessCard(BusinessCard) = "business_card",
    /// `miniprogram`.
    Miniprogram(Miniprogram) = "miniprogram",
    /// `msgmenu`.
    Menu(Menu) = "msgmenu",
    /// `channels_shop_product`.
    ChannelsShopProduct(ChannelsShopProduct) = "channels_shop_product",
    /// `channels_shop_order`.
    ChannelsShopOrder(ChannelsShopOrder) = "channels_shop_order",
    /// `merged_msg` (聊天记录).
    MergedMsg(MergedMsg) = "merged_msg",
    /// `channels` (视频号).
    Channels(Channels) = "channels",
    /// `meeting` (会议).
    Meeting(Meeting) = "meeting",
    /// `schedule` (日程).
    Schedule(Schedule) = "schedule",
    /// `note` (笔记).
    Note(Note) = "note",
}

impl Content {
    /// A text.
    pub fn text(content: impl Into<String>) -> Self {
        Content::Text(Text::new(content))
    }

    /// The text of a `text` message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text(text) => Some(&text.content),
            _ => None,
        }
    }
}

/// `enter_session`: the customer opened the chat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnterSession {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The `scene` of the link they came by.
    #[serde(default)]
    pub scene: String,
    /// Its `scene_param`.
    #[serde(default)]
    pub scene_param: String,
    /// For a welcome with `kf/send_msg_on_event`, valid 20 s: only when the customer
    /// got no welcome in 48 h and has not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome_code: Option<String>,
    /// When they came from 视频号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat_channels: Option<WechatChannels>,
}

/// Where in 视频号 a customer came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WechatChannels {
    /// The 视频号's name.
    #[serde(default)]
    pub nickname: String,
    /// The 小店's name.
    #[serde(default)]
    pub shop_nickname: String,
    /// 1 主页, 2 直播间商品列表, 3 商品橱窗, 4 小店商品详情, 5 小店订单.
    #[serde(default)]
    pub scene: u32,
}

/// `msg_send_fail`: a message the app sent was not delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MsgSendFail {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The msgid `kf/send_msg` answered.
    #[serde(default)]
    pub fail_msgid: String,
    /// Why.
    pub fail_type: FailType,
}

/// `servicer_status_change`: a servicer started or stopped serving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServicerStatusChange {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The servicer.
    #[serde(default)]
    pub servicer_userid: String,
    /// 1 serving, 2 stopped (not the 0/1 of `kf/servicer/list`).
    pub status: ServingChange,
    /// With status 2: 0 stopped (停止接待), 1 suspended (暂时挂起).
    #[serde(default)]
    pub stop_type: u8,
}

/// `session_status_change`: a servicer moved a session in the WeCom app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionStatusChange {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// What happened.
    pub change_type: ChangeType,
    /// Who served it before (types 2, 3, 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_servicer_userid: Option<String>,
    /// Who serves it now (types 1, 2, 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_servicer_userid: Option<String>,
    /// For `kf/send_msg_on_event` (types 1 and 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_code: Option<String>,
}

/// `user_recall_msg` (the customer) and `servicer_recall_msg` (a servicer): a message
/// was recalled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecallMsg {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The message recalled.
    #[serde(default)]
    pub recall_msgid: String,
    /// The servicer, in `servicer_recall_msg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicer_userid: Option<String>,
}

/// `reject_customer_msg_switch_change`: a servicer rejects (1) or accepts again (0)
/// a customer's messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RejectSwitchChange {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// The customer.
    #[serde(default)]
    pub external_userid: String,
    /// The servicer.
    #[serde(default)]
    pub servicer_userid: String,
    /// 1 rejecting, 0 cancelled.
    #[serde(default)]
    pub reject_switch: u8,
}

/// `event_type` and its fields. See the module docs.
macro_rules! events {
    ($( $(#[$doc:meta])* $variant:ident($ty:ty) = $wire:literal, )*) => {
        /// An event (`msgtype` `event`, origin 4), tagged by `event_type`.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$doc])* $variant($ty), )*
            /// An `event_type` this version does not know, or fields that do not fit
            /// its type: the whole `event` object, as it came.
            Other {
                /// The `event_type`.
                event_type: String,
                /// The `event` object.
                raw: Value,
            },
        }

        /// Every `event_type` [`Event`] knows.
        pub const EVENT_TYPES: &[&str] = &[$($wire,)*];

        impl Event {
            /// The `event_type` on the wire.
            pub fn event_type(&self) -> &str {
                match self {
                    $( Event::$variant(_) => $wire, )*
                    Event::Other { event_type, .. } => event_type,
                }
            }

            /// Read an `event` object: never fails (see [`Event::Other`]).
            pub fn from_wire(event: Value) -> Event {
                let event_type = event["event_type"].as_str().unwrap_or_default().to_owned();
                let typed = match event_type.as_str() {
                    $( $wire => <$ty>::deserialize(&event).map(Event::$variant), )*
                    _ => Err(de::Error::custom("unknown event_type")),
                };
                typed.unwrap_or(Event::Other { event_type, raw: event })
            }
        }

        impl Serialize for Event {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                /// The fields of an event with its `event_type` first.
                #[derive(Serialize)]
                struct Tagged<'a, T: Serialize> {
                    event_type: &'a str,
                    #[serde(flatten)]
                    fields: &'a T,
                }
                match self {
                    $( Event::$variant(e) => Tagged { event_type: $wire, fields: e }.serialize(serializer), )*
                    Event::Other { raw, .. } => raw.serialize(serializer),
                }
            }
        }
    };
}

events! {
    /// `enter_session`.
    EnterSession(EnterSession) = "enter_session",
    /// `msg_send_fail`.
    MsgSendFail(MsgSendFail) = "msg_send_fail",
    /// `servicer_status_change`.
    ServicerStatusChange(ServicerStatusChange) = "servicer_status_change",
    /// `session_status_change`.
    SessionStatusChange(SessionStatusChange) = "session_status_change",
    /// `user_recall_msg`.
    UserRecallMsg(RecallMsg) = "user_recall_msg",
    /// `servicer_recall_msg`.
    ServicerRecallMsg(RecallMsg) = "servicer_recall_msg",
    /// `reject_customer_msg_switch_change`.
    RejectSwitchChange(RejectSwitchChange) = "reject_customer_msg_switch_change",
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Event::from_wire(Value::deserialize(deserializer)?))
    }
}

impl Event {
    /// The account and the customer the event is about, where it names them.
    fn ids(&self) -> (Option<&str>, Option<&str>) {
        fn some(s: &str) -> Option<&str> {
            (!s.is_empty()).then_some(s)
        }
        match self {
            Event::EnterSession(e) => (some(&e.open_kfid), some(&e.external_userid)),
            Event::MsgSendFail(e) => (some(&e.open_kfid), some(&e.external_userid)),
            Event::ServicerStatusChange(e) => (some(&e.open_kfid), None),
            Event::SessionStatusChange(e) => (some(&e.open_kfid), some(&e.external_userid)),
            Event::UserRecallMsg(e) | Event::ServicerRecallMsg(e) => {
                (some(&e.open_kfid), some(&e.external_userid))
            }
            Event::RejectSwitchChange(e) => (some(&e.open_kfid), some(&e.external_userid)),
            Event::Other { raw, .. } => (
                raw["open_kfid"].as_str().and_then(some),
                raw["external_userid"].as_str().and_then(some),
            ),
        }
    }
}

/// One item of `sync_msg`'s `msg_list`: a message or an event.
///
/// ```
/// use wecom_kf_types::kf::message::{Content, Message, Origin};
///
/// let m: Message = serde_json::from_str(r#"{"msgid":"m1","open_kfid":"wk1",
///     "external_userid":"wm1","send_time":1615478585,"origin":3,
///     "msgtype":"text","text":{"content":"hello"}}"#).unwrap();
/// assert_eq!(m.origin, Origin::Customer);
/// assert_eq!(m.content.as_text(), Some("hello"));
///
/// let later: Message = serde_json::from_str(r#"{"msgid":"m2","send_time":1,"origin":3,
///     "msgtype":"hologram","hologram":{"depth":3}}"#).unwrap();
/// assert!(matches!(later.content, Content::Other { ref msgtype, .. } if msgtype == "hologram"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Message {
    /// Its id: unique, the key to deduplicate on.
    pub msgid: String,
    /// The account (absent at the top of an event: see [`Message::open_kfid`]).
    pub open_kfid: Option<String>,
    /// The customer (absent at the top of an event).
    pub external_userid: Option<String>,
    /// Unix seconds.
    pub send_time: i64,
    /// Who it is from.
    pub origin: Origin,
    /// The servicer, for origin 5.
    pub servicer_userid: Option<String>,
    /// What it says.
    pub content: Content,
}

impl Message {
    /// A message, as the emulator builds them.
    pub fn new(msgid: impl Into<String>, send_time: i64, origin: Origin, content: Content) -> Self {
        Message {
            msgid: msgid.into(),
            open_kfid: None,
            external_userid: None,
            send_time,
            origin,
            servicer_userid: None,
            content,
        }
    }

    /// The account, from the top level or from inside the event.
    pub fn open_kfid(&self) -> Option<&str> {
        self.open_kfid.as_deref().or(match &self.content {
            Content::Event(e) => e.ids().0,
            _ => None,
        })
    }

    /// The customer, from the top level or from inside the event.
    pub fn external_userid(&self) -> Option<&str> {
        self.external_userid.as_deref().or(match &self.content {
            Content::Event(e) => e.ids().1,
            _ => None,
        })
    }

    /// The event, if this is one.
    pub fn event(&self) -> Option<&Event> {
        match &self.content {
            Content::Event(e) => Some(e),
            _ => None,
        }
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("msgid", &self.msgid)?;
        if let Some(id) = &self.open_kfid {
            map.serialize_entry("open_kfid", id)?;
        }
        if let Some(id) = &self.external_userid {
            map.serialize_entry("external_userid", id)?;
        }
        map.serialize_entry("send_time", &self.send_time)?;
        map.serialize_entry("origin", &self.origin)?;
        if let Some(id) = &self.servicer_userid {
            map.serialize_entry("servicer_userid", id)?;
        }
        map.serialize_entry("msgtype", self.content.msgtype())?;
        self.content.serialize_payload_into(&mut map)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MessageVisitor)
    }
}

/// Reads the fixed fields typed, in one pass, and keeps the other keys' values until
/// `msgtype` says which one is the payload (the two may come in either order).
struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = Message;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sync_msg message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Message, A::Error> {
        let mut msgid = None;
        let mut open_kfid = None;
        let mut external_userid = None;
        let mut send_time = 0;
        let mut origin = Origin::Other(0);
        let mut servicer_userid = None;
        let mut msgtype: Option<String> = None;
        let mut payload: Option<Value> = None;
        // Keys read before `msgtype`: one of them may be the payload.
        let mut early: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key {
                Key::Msgid => msgid = Some(map.next_value::<String>()?),
                Key::OpenKfid => open_kfid = map.next_value()?,
                Key::ExternalUserid => external_userid = map.next_value()?,
                Key::SendTime => send_time = map.next_value()?,
                Key::Origin => origin = map.next_value()?,
                Key::ServicerUserid => servicer_userid = map.next_value()?,
                Key::Msgtype => msgtype = Some(map.next_value()?),
                Key::Other(other) => match &msgtype {
                    Some(t) if *t == other => payload = Some(map.next_value()?),
                    Some(_) => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    None => early.push((other.into_owned(), map.next_value()?)),
                },
            }
        }
        let msgtype = msgtype.ok_or_else(|| de::Error::missing_field("msgtype"))?;
        let payload = payload
            .or_else(|| {
                early
                    .into_iter()
                    .find(|(k, _)| *k == msgtype)
                    .map(|(_, v)| v)
            })
            .unwrap_or(Value::Null);
        Ok(Message {
            msgid: msgid.ok_or_else(|| de::Error::missing_field("msgid"))?,
            open_kfid,
            external_userid,
            send_time,
            origin,
            servicer_userid,
            content: Content::from_wire(&msgtype, payload),
        })
    }
}

/// A key of a message object, read without allocating for the fixed ones.
enum Key<'de> {
    Msgid,
    OpenKfid,
    ExternalUserid,
    SendTime,
    Origin,
    ServicerUserid,
    Msgtype,
    Other(Cow<'de, str>),
}

impl<'de> Key<'de> {
    fn known(name: &str) -> Option<Key<'de>> {
        Some(match name {
            "msgid" => Key::Msgid,
            "open_kfid" => Key::OpenKfid,
            "external_userid" => Key::ExternalUserid,
            "send_time" => Key::SendTime,
            "origin" => Key::Origin,
            "servicer_userid" => Key::ServicerUserid,
            "msgtype" => Key::Msgtype,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::known(name).unwrap_or(Key::Other(Cow::Borrowed(name))))
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key<'de>, E> {
                Ok(Key::known(name).unwrap_or_else(|| Key::Other(Cow::Owned(name.to_owned()))))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}
