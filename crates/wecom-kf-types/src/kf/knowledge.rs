//! `/cgi-bin/kf/knowledge/{add,del,mod,list}_{group,intent}`: the knowledge base (知识库)
//! that WeCom's built-in 智能助手 answers customers from (docs/kf-api.md §4.14).
//!
//! A corp has groups (分组), one of them the default group, present from the start,
//! which can be neither renamed nor deleted. A group holds intents (问答): a main question,
//! similar questions, and one answer with up to four attachments.
//!
//! The service documents the limits but not the errcodes for breaking them. Every
//! refusal here is `40058` (不合法的参数, which the general table gives for a bad, empty
//! or over-long value), the documented safe default: see docs/kf-api.md §4.14.
//!
//! An attachment is sent with a `media_id` ([`Attachment`]) but listed back with the
//! file's name and without a miniprogram's cover ([`ListedAttachment`]).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::limits::{
    CURSOR_MAX_BYTES, KNOWLEDGE_ANSWER_MAX_CHARS, KNOWLEDGE_ANSWERS, KNOWLEDGE_ATTACHMENTS_MAX,
    KNOWLEDGE_GROUP_NAME_MAX_CHARS, KNOWLEDGE_ID_MAX_BYTES, KNOWLEDGE_LIST_LIMIT_DEFAULT,
    KNOWLEDGE_LIST_LIMIT_MAX, KNOWLEDGE_QUESTION_MAX_CHARS, KNOWLEDGE_SIMILAR_QUESTIONS_MAX,
    MEDIA_ID_MAX_BYTES, URL_MAX_BYTES,
};
use crate::validate::{self, Invalid, Limit, Validated};
use crate::{Empty, Endpoint, ErrCode, Method};

/// The code of every knowledge-base refusal (docs/kf-api.md §4.14: the emulator's choice).
pub const REFUSED: ErrCode = ErrCode::INVALID_PARAMETER;

/// Check a group `name`: 1 to 12 characters.
pub fn validate_group_name(name: &str) -> Validated {
    validate::chars("name", name, 1, KNOWLEDGE_GROUP_NAME_MAX_CHARS, REFUSED)
}

/// Check a `group_id` or an `intent_id`: present, at most 64 bytes.
pub fn validate_id(field: &'static str, id: &str) -> Validated {
    validate::required_bytes(field, id, KNOWLEDGE_ID_MAX_BYTES, REFUSED, REFUSED)
}

fn count(field: &'static str, n: usize, min: usize, max: usize) -> Validated {
    validate::range(field, n as u64, min as u64, max as u64, REFUSED).map_err(|e| Invalid {
        given: format!("{n} entries"),
        ..e
    })
}

/// A text: `{"content":"…"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Text {
    /// The words.
    #[serde(default)]
    pub content: String,
}

/// A question: `{"text":{"content":"…"}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Question {
    /// Its text, 1 to 200 characters.
    #[serde(default)]
    pub text: Text,
}

impl Question {
    /// A question of these words.
    pub fn new(content: impl Into<String>) -> Self {
        Question {
            text: Text {
                content: content.into(),
            },
        }
    }

    /// Its words.
    pub fn content(&self) -> &str {
        &self.text.content
    }
}

/// `similar_questions`: `{"items":[question, …]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SimilarQuestions {
    /// At most 100 questions.
    #[serde(default)]
    pub items: Vec<Question>,
}

impl SimilarQuestions {
    /// These questions.
    pub fn new(items: impl IntoIterator<Item = impl Into<String>>) -> Self {
        SimilarQuestions {
            items: items.into_iter().map(Question::new).collect(),
        }
    }
}

/// An image or a video attachment to send: a `media_id` from `media/upload`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MediaRef {
    /// The media, at most 128 bytes.
    #[serde(default)]
    pub media_id: String,
}

/// A link attachment (the docs spell the cover `picurl`; WxJava's `pic_url` is wrong).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LinkAttachment {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Cover image URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub picurl: String,
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub desc: String,
    /// `http://` or `https://`, at most 2048 bytes.
    #[serde(default)]
    pub url: String,
}

impl LinkAttachment {
    /// A link titled `title` to `url`.
    pub fn new(title: impl Into<String>, url: impl Into<String>) -> Self {
        LinkAttachment {
            title: title.into(),
            picurl: String::new(),
            desc: String::new(),
            url: url.into(),
        }
    }

    /// With a description.
    #[must_use]
    pub fn desc(mut self, desc: impl Into<String>) -> Self {
        self.desc = desc.into();
        self
    }

    /// With a cover image URL.
    #[must_use]
    pub fn picurl(mut self, picurl: impl Into<String>) -> Self {
        self.picurl = picurl.into();
        self
    }
}

/// A miniprogram attachment to send.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MiniprogramAttachment {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Cover: an image from `media/upload`.
    #[serde(default)]
    pub thumb_media_id: String,
    /// The mini program, linked to the corp.
    #[serde(default)]
    pub appid: String,
    /// The page to open.
    #[serde(default)]
    pub pagepath: String,
}

impl MiniprogramAttachment {
    /// A card of `appid` opening `pagepath`, with a title and a cover image.
    pub fn new(
        title: impl Into<String>,
        appid: impl Into<String>,
        pagepath: impl Into<String>,
        thumb_media_id: impl Into<String>,
    ) -> Self {
        MiniprogramAttachment {
            title: title.into(),
            thumb_media_id: thumb_media_id.into(),
            appid: appid.into(),
            pagepath: pagepath.into(),
        }
    }
}

/// An attachment of an answer to send, by `msgtype`.
///
/// ```
/// use wecom_kf_types::kf::knowledge::{Attachment, LinkAttachment};
///
/// let link = Attachment::Link { link: LinkAttachment::new("退货政策", "https://example.com/r") };
/// assert_eq!(serde_json::to_string(&link).unwrap(),
///            r#"{"msgtype":"link","link":{"title":"退货政策","url":"https://example.com/r"}}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "msgtype", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Attachment {
    /// An image.
    Image {
        /// Its media.
        image: MediaRef,
    },
    /// A video.
    Video {
        /// Its media.
        video: MediaRef,
    },
    /// A link.
    Link {
        /// The link.
        link: LinkAttachment,
    },
    /// A mini program card.
    Miniprogram {
        /// The card.
        miniprogram: MiniprogramAttachment,
    },
}

impl Attachment {
    /// An image from `media/upload`.
    pub fn image(media_id: impl Into<String>) -> Self {
        Attachment::Image {
            image: MediaRef {
                media_id: media_id.into(),
            },
        }
    }

    /// A video from `media/upload`.
    pub fn video(media_id: impl Into<String>) -> Self {
        Attachment::Video {
            video: MediaRef {
                media_id: media_id.into(),
            },
        }
    }

    /// The `msgtype`.
    pub fn msgtype(&self) -> &'static str {
        match self {
            Attachment::Image { .. } => "image",
            Attachment::Video { .. } => "video",
            Attachment::Link { .. } => "link",
            Attachment::Miniprogram { .. } => "miniprogram",
        }
    }

    fn validate(&self) -> Validated {
        let media = |field, id: &str| {
            validate::required_bytes(field, id, MEDIA_ID_MAX_BYTES, REFUSED, REFUSED)
        };
        match self {
            Attachment::Image { image } => {
                media("answers[].attachments[].image.media_id", &image.media_id)
            }
            Attachment::Video { video } => {
                media("answers[].attachments[].video.media_id", &video.media_id)
            }
            Attachment::Link { link } => {
                validate::required_bytes(
                    "answers[].attachments[].link.title",
                    &link.title,
                    usize::MAX,
                    REFUSED,
                    REFUSED,
                )?;
                validate::required_bytes(
                    "answers[].attachments[].link.url",
                    &link.url,
                    URL_MAX_BYTES,
                    REFUSED,
                    REFUSED,
                )?;
                if !(link.url.starts_with("http://") || link.url.starts_with("https://")) {
                    return Err(Invalid {
                        field: "answers[].attachments[].link.url",
                        limit: Limit::Pattern("http://… or https://…"),
                        given: format!("{:?}", link.url.chars().take(24).collect::<String>()),
                        errcode: REFUSED,
                    });
                }
                Ok(())
            }
            Attachment::Miniprogram { miniprogram } => {
                for (field, value) in [
                    (
                        "answers[].attachments[].miniprogram.title",
                        &miniprogram.title,
                    ),
                    (
                        "answers[].attachments[].miniprogram.appid",
                        &miniprogram.appid,
                    ),
                    (
                        "answers[].attachments[].miniprogram.pagepath",
                        &miniprogram.pagepath,
                    ),
                ] {
                    validate::required_bytes(field, value, usize::MAX, REFUSED, REFUSED)?;
                }
                media(
                    "answers[].attachments[].miniprogram.thumb_media_id",
                    &miniprogram.thumb_media_id,
                )
            }
        }
    }
}

/// The answer of an intent to send: a text and up to four attachments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Answer {
    /// Its text, 1 to 500 characters.
    #[serde(default)]
    pub text: Text,
    /// At most 4.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Answer {
    /// An answer of these words, without attachments.
    pub fn new(content: impl Into<String>) -> Self {
        Answer {
            text: Text {
                content: content.into(),
            },
            attachments: Vec::new(),
        }
    }

    /// With an attachment.
    #[must_use]
    pub fn attach(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }
}

/// An image or a video as listed: the file's name, not its media_id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NamedMedia {
    /// The file's name.
    #[serde(default)]
    pub name: String,
}

impl NamedMedia {
    /// A file's name.
    pub fn new(name: impl Into<String>) -> Self {
        NamedMedia { name: name.into() }
    }
}

/// A miniprogram as listed: without its cover.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListedMiniprogram {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// The mini program.
    #[serde(default)]
    pub appid: String,
    /// The page to open.
    #[serde(default)]
    pub pagepath: String,
}

/// An attachment as `kf/knowledge/list_intent` gives it back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "msgtype", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ListedAttachment {
    /// An image, by its file's name.
    Image {
        /// Its name.
        image: NamedMedia,
    },
    /// A video, by its file's name.
    Video {
        /// Its name.
        video: NamedMedia,
    },
    /// A link, as sent.
    Link {
        /// The link.
        link: LinkAttachment,
    },
    /// A mini program card, without its cover.
    Miniprogram {
        /// The card.
        miniprogram: ListedMiniprogram,
    },
}

impl ListedAttachment {
    /// How an attachment sent as `sent` is listed; `name` is the image's or video's file name.
    pub fn listed(sent: &Attachment, name: impl Into<String>) -> Self {
        match sent {
            Attachment::Image { .. } => ListedAttachment::Image {
                image: NamedMedia { name: name.into() },
            },
            Attachment::Video { .. } => ListedAttachment::Video {
                video: NamedMedia { name: name.into() },
            },
            Attachment::Link { link } => ListedAttachment::Link { link: link.clone() },
            Attachment::Miniprogram { miniprogram } => ListedAttachment::Miniprogram {
                miniprogram: ListedMiniprogram {
                    title: miniprogram.title.clone(),
                    appid: miniprogram.appid.clone(),
                    pagepath: miniprogram.pagepath.clone(),
                },
            },
        }
    }
}

/// An answer as listed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListedAnswer {
    /// Its text.
    #[serde(default)]
    pub text: Text,
    /// Its attachments, as listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<ListedAttachment>,
}

impl ListedAnswer {
    /// An answer as listed.
    pub fn new(content: impl Into<String>, attachments: Vec<ListedAttachment>) -> Self {
        ListedAnswer {
            text: Text {
                content: content.into(),
            },
            attachments,
        }
    }
}

fn validate_question(field: &'static str, question: &Question) -> Validated {
    validate::chars(
        field,
        question.content(),
        1,
        KNOWLEDGE_QUESTION_MAX_CHARS,
        REFUSED,
    )
}

fn validate_similar(similar: &SimilarQuestions) -> Validated {
    count(
        "similar_questions.items",
        similar.items.len(),
        0,
        KNOWLEDGE_SIMILAR_QUESTIONS_MAX,
    )?;
    for item in &similar.items {
        validate_question("similar_questions.items[].text.content", item)?;
    }
    Ok(())
}

fn validate_answers(answers: &[Answer]) -> Validated {
    count(
        "answers",
        answers.len(),
        KNOWLEDGE_ANSWERS,
        KNOWLEDGE_ANSWERS,
    )?;
    for answer in answers {
        validate::chars(
            "answers[].text.content",
            &answer.text.content,
            1,
            KNOWLEDGE_ANSWER_MAX_CHARS,
            REFUSED,
        )?;
        count(
            "answers[].attachments",
            answer.attachments.len(),
            0,
            KNOWLEDGE_ATTACHMENTS_MAX,
        )?;
        for attachment in &answer.attachments {
            attachment.validate()?;
        }
    }
    Ok(())
}

/// `has_more` is `0` or `1` on the wire.
mod flag {
    use super::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` passes a reference
    pub(super) fn serialize<S: Serializer>(value: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(u8::from(*value))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Flag {
            Int(u64),
            Bool(bool),
        }
        Ok(match Flag::deserialize(d)? {
            Flag::Int(n) => n != 0,
            Flag::Bool(b) => b,
        })
    }
}

/// `POST /cgi-bin/kf/knowledge/add_group`: a new group.
///
/// ```
/// use wecom_kf_types::kf::knowledge::AddGroup;
/// use wecom_kf_types::Endpoint;
///
/// assert!(AddGroup::new("售后").validate().is_ok());
/// let err = AddGroup::new("一二三四五六七八九十一二三").validate().unwrap_err();
/// assert_eq!(err.field, "name");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AddGroup {
    /// 1 to 12 characters, unique in the corp.
    #[serde(default)]
    pub name: String,
}

impl AddGroup {
    /// A group named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        AddGroup { name: name.into() }
    }
}

impl Endpoint for AddGroup {
    const PATH: &'static str = "/cgi-bin/kf/knowledge/add_group";
    const METHOD: Method = Method::Post;
    type Response = AddGroupResponse;

    /// A second add of the same name is refused: the answer differs, so not retried.
    fn idempotent(&self) -> bool {
        false
    }

    fn outcome_unknown_hint(&self) -> &'static str {
        "it may have been created: look for the name with knowledge group list (kf/knowledge/list_group) before adding it again"
    }

    fn validate(&self) -> Validated {
        validate_group_name(&self.name)
    }
}

/// Answer of `kf/knowledge/add_group`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AddGroupResponse {
    /// The new group's id.
    #[serde(default)]
    pub group_id: String,
}

impl AddGroupResponse {
    /// An answer.
    pub fn new(group_id: impl Into<String>) -> Self {
        AddGroupResponse {
            group_id: group_id.into(),
        }
    }
}

/// `POST /cgi-bin/kf/knowledge/del_group`: delete a group and the intents it holds.
/// The default group cannot be deleted.
///
/// ```
/// use wecom_kf_types::kf::knowledge::DeleteGroup;
/// use wecom_kf_types::Endpoint;
///
/// assert!(DeleteGroup::new("GROUP_ID").validate().is_ok());
/// assert!(DeleteGroup::new("").validate().is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeleteGroup {
    /// The group.
    #[serde(default)]
    pub group_id: String,
}

impl DeleteGroup {
    /// Delete `group_id`.
    pub fn new(group_id: impl Into<String>) -> Self {
        DeleteGroup {
            group_id: group_id.into(),
        }
    }
}

impl Endpoint for DeleteGroup {
    const PATH: &'static str = "/cgi-bin/kf/knowledge/del_group";
    const METHOD: Method = Method::Post;
    type Response = Empty;

    /// Deleting twice leaves the same state.
    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_id("group_id", &self.group_id)
    }

    /// A valid request refused after an unknown outcome means the group is gone (the
    /// one other refusal, the default group, is refused every time: see §4.14).
    fn already_done(&self, code: ErrCode) -> Option<Empty> {
        (code == REFUSED).then_some(Empty {})
    }
}

/// `POST /cgi-bin/kf/knowledge/mod_group`: rename a group (not the default one).
///
/// ```
/// use wecom_kf_types::kf::knowledge::ModifyGroup;
/// use wecom_kf_types::Endpoint;
///
/// assert!(ModifyGroup::new("GROUP_ID", "物流").validate().is_ok());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModifyGroup {
    /// The group.
    #[serde(default)]
    pub group_id: String,
    /// Its new name, 1 to 12 characters, unique.
    #[serde(default)]
    pub name: String,
}

impl ModifyGroup {
    /// Rename `group_id` to `name`.
    pub fn new(group_id: impl Into<String>, name: impl Into<String>) -> Self {
        ModifyGroup {
            group_id: group_id.into(),
            name: name.into(),
        }
    }
}

impl Endpoint for ModifyGroup {
    const PATH: &'static str = "/cgi-bin/kf/knowledge/mod_group";
    const METHOD: Method = Method::Post;
    type Response = Empty;

    /// Renaming a group to its own name succeeds.
    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_id("group_id", &self.group_id)?;
        validate_group_name(&self.name)
    }
}

fn validate_list(cursor: Option<&str>, limit: Option<u32>) -> Validated {
    if let Some(cursor) = cursor {
        validate::max_bytes("cursor", cursor, CURSOR_MAX_BYTES, REFUSED)?;
    }
    if let Some(limit) = limit {
        validate::range(
            "limit",
            u64::from(limit),
            1,
            u64::from(KNOWLEDGE_LIST_LIMIT_MAX),
            REFUSED,
        )?;
    }
    Ok(())
}

/// `POST /cgi-bin/kf/knowledge/list_group`: one page of groups, by cursor.
///
/// ```
/// use wecom_kf_types::kf::knowledge::ListGroups;
/// use wecom_kf_types::Endpoint;
///
/// let req = ListGroups::page(None, 100);
/// assert_eq!(serde_json::to_string(&req).unwrap(), r#"{"limit":100}"#);
/// assert!(ListGroups::page(None, 1001).validate().is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListGroups {
    /// Where the previous page ended (`next_cursor`); none for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

impl ListGroups {
    /// The page after `cursor` of at most `limit` groups.
    pub fn page(cursor: Option<String>, limit: u32) -> Self {
        ListGroups {
            cursor,
            limit: Some(limit),
            group_id: None,
        }
    }

    /// Only `group_id`.
    #[must_use]
    pub fn group(mut self, group_id: impl Into<String>) -> Self {
        self.group_id = Some(group_id.into());
        self
    }

    /// The page size asked for, or the default.
    pub fn limit_or_default(&self) -> u32 {
        self.limit.unwrap_or(KNOWLEDGE_LIST_LIMIT_DEFAULT)
    }
}

impl Endpoint for ListGroups {
    const PATH: &'static str = "/cgi-bin/kf/knowledge/list_group";
    const METHOD: Method = Method::Post;
    type Response = ListGroupsResponse;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_list(self.cursor.as_deref(), self.limit)?;
        if let Some(group_id) = &self.group_id {
            validate_id("group_id", group_id)?;
        }
        Ok(())
    }
}

/// One group as listed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Group {
    /// Its id.
    #[serde(default)]
    pub group_id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Whether it is the corp's default group (`is_default` 1).
    #[serde(default, with = "flag")]
    pub is_default: bool,
}

impl Group {
    /// A group as listed.
    pub fn new(group_id: impl Into<String>, name: impl Into<String>, is_default: bool) -> Self {
        Group {
            group_id: group_id.into(),
            name: name.into(),
            is_default,
        }
    }
}

/// Answer of `kf/knowledge/list_group`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListGroupsResponse {
    /// Where the next page starts.
    #[serde(default)]
    pub next_cursor: String,
    /// Whether there is a next page (`0`/`1` on the wire).
    #[serde(default, with = "flag")]
    pub has_more: bool,
    /// This page's groups.
    #[serde(default)]
    pub group_list: Vec<Group>,
}

impl ListGroupsResponse {
    /// A page.
    pub fn new(group_list: Vec<Group>, next_cursor: impl Into<String>, has_more: bool) -> Self {
        ListGroupsResponse {
            next_cursor: next_cursor.into(),
            has_more,
            group_list,
        }
    }
}

/// `POST /cgi-bin/kf/knowledge/add_intent`: a question and its answer, in a group.
///
/// ```
/// use wecom_kf_types::kf::knowledge::{AddIntent, Answer};
/// use wecom_kf_types::Endpoint;
///
/// let req = AddIntent::new("GROUP_ID", "怎么退货？", Answer::new("七天内可在订单页申请退货。"))
///     .similar(["如何退货", "退货流程"]);
/// assert!(req.validate().is_ok());
/// assert_eq!(serde_json::to_value(&req).unwrap()["similar_questions"]["items"][1]["text"]["content"], "退货流程");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AddIntent {
    /// The group.
    #[serde(default)]
    pub group_id: String,
    /// The main question: 1 to 200 characters, unique across every group.
    #[serde(default)]
    pub question: Question,
    /// Other ways to ask it, at most 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similar_questions: Option<SimilarQuestions>,
    /// Exactly one answer.
    #[serde(default)]
    pub answers: Vec<Answer>,
}

impl AddIntent {
    /// `question` answered by `answer`, in `group_id`.
    pub fn new(group_id: impl Into<String>, question: impl Into<String>, answer: Answer) -> Self {
        AddIntent {
            group_id: group_id.into(),
            question: Question::new(question),
            similar_questions: None,
            answers: vec![answer],
        }
    }

    /// With similar questions.
    #[must_use]
    pub fn similar(mut self, items: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.similar_questions = Some(SimilarQuestions::new(items));
        self
    }
}

impl Endpoint for AddIntent {
    const PATH: &'static str = "/cgi-bin/kf/knowledge/add_intent";
    const METHOD: Method = Method::Post;
    type Response = AddIntentResponse;

    /// A second add of the same question is refused: not retried.
    fn idempotent(&self) -> bool {
        false
    }

    fn outcome_unknown_hint(&self) -> &'static str {
        "it may have been created: look for the question with knowledge intent list (kf/knowledge/list_intent) before adding it again"
    }

    fn validate(&self) -> Validated {
        validate_id("group_id", &self.group_id)?;
        validate_question("question.text.content", &self.question)?;
        if let Some(similar) = &self.similar_questions {
            validate_similar(similar)?;
        }
        validate_answers(&self.answers)
    }
}

/// Answer of `kf/knowledge/add_intent`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AddIntentResponse {
    /// The new intent's id.
    #[serde(default)]
    pub intent_id: String,
}

impl AddIntentResponse {
    /// An answer.
    pub fn new(intent_id: impl Into<String>) -> Self {
        AddIntentResponse {
            intent_id: intent_id.into(),
        }
    }
}

/// `POST /cgi-bin/kf/knowledge/del_intent`: delete an intent.
///
/// ```
/// use wecom_kf_types::kf::knowledge::DeleteIntent;
/// use wecom_kf_types::Endpoint;
///
/// assert!(DeleteIntent::new("INTENT_ID").validate().is_ok());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeleteIntent {
    /// The intent.
    #[serde(default)]
    pub intent_id: String,
}

impl DeleteIntent {
    /// Delete `intent_id`.
    pub fn new(intent_id: impl Into<String>) -> Self {
        DeleteIntent {
            intent_id: intent_id.into(),
        }
    }
}

impl Endpoint for DeleteIntent {
    const PATH: &'static str = "/cgi-bin/kf/knowledge/del_intent";
    const METHOD: Method = Method::Post;
    type Response = Empty;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_id("intent_id", &self.intent_id)
    }

    /// A valid request can only be refused because the intent does not exist: after an
    /// unknown outcome, the earlier attempt deleted it.
    fn already_done(&self, code: ErrCode) -> Option<Empty> {
        (code == REFUSED).then_some(Empty {})
    }
}

/// `POST /cgi-bin/kf/knowledge/mod_intent`: replace in full each part sent (question,
/// similar questions, answers) and keep the others.
///
/// ```
/// use wecom_kf_types::kf::knowledge::{Answer, ModifyIntent};
/// use wecom_kf_types::Endpoint;
///
/// let req = ModifyIntent::new("INTENT_ID").answer(Answer::new("三十天内可退货。"));
/// assert!(req.validate().is_ok());
/// assert!(ModifyIntent::new("INTENT_ID").validate().is_err(), "changes nothing");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModifyIntent {
    /// The intent.
    #[serde(default)]
    pub intent_id: String,
    /// A new main question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<Question>,
    /// New similar questions (all of them; an empty list removes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similar_questions: Option<SimilarQuestions>,
    /// A new answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<Answer>>,
}

impl ModifyIntent {
    /// A change of `intent_id` that changes nothing yet.
    pub fn new(intent_id: impl Into<String>) -> Self {
        ModifyIntent {
            intent_id: intent_id.into(),
            ..ModifyIntent::default()
        }
    }

    /// Set a new main question.
    #[must_use]
    pub fn question(mut self, question: impl Into<String>) -> Self {
        self.question = Some(Question::new(question));
        self
    }

    /// Replace the similar questions.
    #[must_use]
    pub fn similar(mut self, items: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.similar_questions = Some(SimilarQuestions::new(items));
        self
    }

    /// Replace the answer.
    #[must_use]
    pub fn answer(mut self, answer: Answer) -> Self {
        self.answers = Some(vec![answer]);
        self
    }
}

impl Endpoint for ModifyIntent {
    const PATH: &'static str = "/cgi-bin/kf/knowledge/mod_intent";
    const METHOD: Method = Method::Post;
    type Response = Empty;

    /// Setting the same parts twice leaves the same intent.
    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_id("intent_id", &self.intent_id)?;
        if self.question.is_none() && self.similar_questions.is_none() && self.answers.is_none() {
            return Err(Invalid {
                field: "question/similar_questions/answers",
                limit: Limit::Required,
                given: "none of them".into(),
                errcode: REFUSED,
            });
        }
        if let Some(question) = &self.question {
            validate_question("question.text.content", question)?;
        }
        if let Some(similar) = &self.similar_questions {
            validate_similar(similar)?;
        }
        if let Some(answers) = &self.answers {
            validate_answers(answers)?;
        }
        Ok(())
    }
}

/// `POST /cgi-bin/kf/knowledge/list_intent`: one page of intents, by cursor.
///
/// ```
/// use wecom_kf_types::kf::knowledge::ListIntents;
/// use wecom_kf_types::Endpoint;
///
/// let req = ListIntents::page(None, 1000).group("GROUP_ID");
/// assert!(req.validate().is_ok());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListIntents {
    /// Where the previous page ended; none for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only this group's intents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Only this intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_id: Option<String>,
}

impl ListIntents {
    /// The page after `cursor` of at most `limit` intents.
    pub fn page(cursor: Option<String>, limit: u32) -> Self {
        ListIntents {
            cursor,
            limit: Some(limit),
            group_id: None,
            intent_id: None,
        }
    }

    /// Only `group_id`'s intents.
    #[must_use]
    pub fn group(mut self, group_id: impl Into<String>) -> Self {
        self.group_id = Some(group_id.into());
        self
    }

    /// Only `intent_id`.
    #[must_use]
    pub fn intent(mut self, intent_id: impl Into<String>) -> Self {
        self.intent_id = Some(intent_id.into());
        self
    }

    /// The page size asked for, or the default.
    pub fn limit_or_default(&self) -> u32 {
        self.limit.unwrap_or(KNOWLEDGE_LIST_LIMIT_DEFAULT)
    }
}

impl Endpoint for ListIntents {
    const PATH: &'static str = "/cgi-bin/kf/knowledge/list_intent";
    const METHOD: Method = Method::Post;
    type Response = ListIntentsResponse;

    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_list(self.cursor.as_deref(), self.limit)?;
        if let Some(group_id) = &self.group_id {
            validate_id("group_id", group_id)?;
        }
        if let Some(intent_id) = &self.intent_id {
            validate_id("intent_id", intent_id)?;
        }
        Ok(())
    }
}

/// One intent as listed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Intent {
    /// Its group.
    #[serde(default)]
    pub group_id: String,
    /// Its id.
    #[serde(default)]
    pub intent_id: String,
    /// The main question.
    #[serde(default)]
    pub question: Question,
    /// Similar questions.
    #[serde(default)]
    pub similar_questions: SimilarQuestions,
    /// The answer (one).
    #[serde(default)]
    pub answers: Vec<ListedAnswer>,
}

impl Intent {
    /// An intent as listed.
    pub fn new(
        group_id: impl Into<String>,
        intent_id: impl Into<String>,
        question: Question,
        similar_questions: SimilarQuestions,
        answers: Vec<ListedAnswer>,
    ) -> Self {
        Intent {
            group_id: group_id.into(),
            intent_id: intent_id.into(),
            question,
            similar_questions,
            answers,
        }
    }
}

/// Answer of `kf/knowledge/list_intent`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListIntentsResponse {
    /// Where the next page starts.
    #[serde(default)]
    pub next_cursor: String,
    /// Whether there is a next page (`0`/`1` on the wire).
    #[serde(default, with = "flag")]
    pub has_more: bool,
    /// This page's intents.
    #[serde(default)]
    pub intent_list: Vec<Intent>,
}

impl ListIntentsResponse {
    /// A page.
    pub fn new(intent_list: Vec<Intent>, next_cursor: impl Into<String>, has_more: bool) -> Self {
        ListIntentsResponse {
            next_cursor: next_cursor.into(),
            has_more,
            intent_list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_are_checked_with_the_field_named() {
        let ok = || AddIntent::new("g", "问", Answer::new("答"));
        assert!(ok().validate().is_ok());
        let long = AddIntent::new("g", "问".repeat(201), Answer::new("答"));
        let err = long.validate().unwrap_err();
        assert_eq!(err.field, "question.text.content");
        assert!(err.given.starts_with("201 characters"), "{}", err.given);
        let mut two = ok();
        two.answers.push(Answer::new("另一个"));
        assert_eq!(two.validate().unwrap_err().field, "answers");
        let long_answer = AddIntent::new("g", "问", Answer::new("答".repeat(501)));
        assert_eq!(
            long_answer.validate().unwrap_err().field,
            "answers[].text.content"
        );
        let mut five = Answer::new("答");
        for _ in 0..5 {
            five = five.attach(Attachment::image("m"));
        }
        let err = AddIntent::new("g", "问", five).validate().unwrap_err();
        assert_eq!(err.field, "answers[].attachments");
        let similar = ok().similar((0..101).map(|i| format!("问{i}")));
        assert_eq!(
            similar.validate().unwrap_err().field,
            "similar_questions.items"
        );
        let bad_link = Answer::new("答").attach(Attachment::Link {
            link: LinkAttachment::new("t", "ftp://x"),
        });
        assert_eq!(
            AddIntent::new("g", "问", bad_link)
                .validate()
                .unwrap_err()
                .field,
            "answers[].attachments[].link.url"
        );
        assert_eq!(
            AddGroup::new("一二三四五六七八九十一二三")
                .validate()
                .unwrap_err()
                .errcode,
            REFUSED
        );
        assert!(AddGroup::new("一二三四五六七八九十一二").validate().is_ok());
    }

    #[test]
    fn has_more_is_zero_or_one_on_the_wire() {
        let page = ListGroupsResponse::new(vec![Group::new("1", "默认分组", true)], "c", true);
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["has_more"], 1);
        assert_eq!(json["group_list"][0]["is_default"], 1);
        let back: ListGroupsResponse = serde_json::from_value(json).unwrap();
        assert_eq!(back, page);
    }

    #[test]
    fn a_listed_image_is_a_name() {
        let json = r#"{"msgtype":"image","image":{"name":"图片.png"}}"#;
        let listed: ListedAttachment = serde_json::from_str(json).unwrap();
        assert_eq!(
            listed,
            ListedAttachment::listed(&Attachment::image("MEDIA"), "图片.png")
        );
        let mini =
            r#"{"msgtype":"miniprogram","miniprogram":{"title":"t","appid":"wx1","pagepath":"p"}}"#;
        assert!(serde_json::from_str::<ListedAttachment>(mini).is_ok());
    }
}
