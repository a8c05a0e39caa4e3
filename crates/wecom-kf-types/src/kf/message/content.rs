//! What a message says: the payload of each `msgtype`, and [`Content`], the pair of a
//! `msgtype` and its payload.

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Event;

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

            /// The payload as JSON, moved out (no copy of a kept `Other` payload).
            pub fn into_payload(self) -> Value {
                match self {
                    Content::Other { raw, .. } => raw,
                    typed => typed.payload(),
                }
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
