//! Documented limits of the 微信客服 API (docs/kf-api.md §1–3), as public consts.
//!
//! The client checks them before sending; the emulator enforces the same ones.

/// `name` of a kf account: at most 16 *characters* (not bytes).
pub const ACCOUNT_NAME_MAX_CHARS: usize = 16;
/// `media_id`: at most 128 bytes.
pub const MEDIA_ID_MAX_BYTES: usize = 128;
/// `open_kfid`: at most 64 bytes.
pub const OPEN_KFID_MAX_BYTES: usize = 64;
/// `scene` of `kf/add_contact_way`: at most 32 bytes of `[0-9a-zA-Z_-]`.
pub const SCENE_MAX_BYTES: usize = 32;
/// `scene_param` appended to a contact link: at most 128 bytes once url-encoded.
pub const SCENE_PARAM_MAX_BYTES: usize = 128;
/// Smallest `limit` of `kf/account/list`.
pub const LIST_LIMIT_MIN: u32 = 1;
/// Largest (and default) `limit` of `kf/account/list`.
pub const LIST_LIMIT_MAX: u32 = 100;
/// `access_token`: at most 512 bytes.
pub const ACCESS_TOKEN_MAX_BYTES: usize = 512;
/// Every uploaded media file must be *larger* than this many bytes.
pub const MEDIA_MIN_BYTES_EXCLUSIVE: u64 = 5;
/// Largest image upload (JPG/PNG): 10 MB.
pub const IMAGE_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Largest voice upload (AMR): 2 MB.
pub const VOICE_MAX_BYTES: u64 = 2 * 1024 * 1024;
/// Largest video upload (MP4): 10 MB.
pub const VIDEO_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Largest plain file upload: 20 MB.
pub const FILE_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// Largest piece of one `media/get` answer: a file over this size is only served in
/// `Range` chunks of at most this size (errcode 830002 otherwise).
pub const MEDIA_CHUNK_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// How long an uploaded temporary media stays usable: 3 days.
pub const MEDIA_TTL_SECS: u64 = 3 * 24 * 3600;
/// kf accounts a verified corp may hold.
pub const ACCOUNTS_MAX_VERIFIED: usize = 5000;
/// kf accounts an unverified corp may hold.
pub const ACCOUNTS_MAX_UNVERIFIED: usize = 10;
/// `expires_in` of a fresh access_token, in seconds.
pub const TOKEN_TTL_SECS: u64 = 7200;
/// Calls per corp, per API, per minute before 45009.
pub const CALLS_PER_MINUTE: u32 = 10_000;
/// Calls per corp, per API, per hour before 45009.
pub const CALLS_PER_HOUR: u32 = 150_000;
/// Entries of `userid_list` or `department_id_list` in one `kf/servicer/{add,del}` call.
pub const SERVICER_LIST_MAX: usize = 100;
/// A member's `userid`: at most 64 bytes.
pub const USERID_MAX_BYTES: usize = 64;
/// Servicer members of one account (the current doc; older docs said 500).
pub const SERVICERS_MAX_PER_ACCOUNT: usize = 2000;
/// Servicer departments of one account.
pub const SERVICER_DEPARTMENTS_MAX_PER_ACCOUNT: usize = 20;
/// `external_userid`: not documented; real ids are 32 bytes (`wm` + 30), and 64 bytes
/// is the service's usual id limit (docs/kf-api.md §6.4).
pub const EXTERNAL_USERID_MAX_BYTES: usize = 64;
/// Ids in one `kf/customer/batchget` call.
pub const CUSTOMER_BATCH_MAX: usize = 100;
/// A session's window: the API may answer a customer for 48 hours after their message,
/// and a session ends 48 hours after it.
pub const SESSION_WINDOW_SECS: i64 = 48 * 3600;
/// Customers an unverified corp's accounts may serve, in all (then 95003).
pub const CUSTOMERS_MAX_UNVERIFIED: usize = 100;
/// Customers a verified corp without a bound 视频号 may serve (then 95003).
pub const CUSTOMERS_MAX_UNBOUND: usize = 10_000;
/// Days one statistics call may span, both ends included.
pub const STATISTIC_SPAN_DAYS: i64 = 31;
/// How far back statistics go, in days before today.
pub const STATISTIC_HISTORY_DAYS: i64 = 180;
/// China Standard Time (UTC+8), in seconds: statistics days start at its midnight.
pub const CHINA_UTC_OFFSET_SECS: i64 = 8 * 3600;
/// `msgid` of `kf/send_msg` and `kf/send_msg_on_event`: at most 32 bytes of
/// `[0-9a-zA-Z_-]` (an inbound msgid, 44 bytes, is refused with 40058).
pub const MSGID_MAX_BYTES: usize = 32;
/// `text.content` of a send: at most 2048 bytes (45002 beyond).
pub const TEXT_MAX_BYTES: usize = 2048;
/// `head_content` and `tail_content` of a menu message.
pub const MENU_HEAD_TAIL_MAX_BYTES: usize = 1024;
/// Items of a menu message (95008 beyond).
pub const MENU_ITEMS_MAX: usize = 10;
/// `url` of a link, or of a menu's `view` item.
pub const URL_MAX_BYTES: usize = 2048;
/// `sync_msg` cursor.
pub const CURSOR_MAX_BYTES: usize = 64;
/// `sync_msg` Token from a callback.
pub const SYNC_TOKEN_MAX_BYTES: usize = 128;
/// How long a callback's sync Token is valid.
pub const SYNC_TOKEN_TTL_SECS: i64 = 600;
/// Most messages in one `sync_msg` page (also the default).
pub const SYNC_LIMIT_MAX: u32 = 1000;
/// How far back `sync_msg` reads: 3 days.
pub const SYNC_WINDOW_SECS: i64 = 3 * 24 * 3600;
/// API sends allowed per customer message (95001 beyond).
pub const SENDS_PER_CUSTOMER_MESSAGE: u32 = 5;
/// A welcome code or an end code is valid for 20 seconds.
pub const EVENT_CODE_SHORT_TTL_SECS: i64 = 20;
/// A message sent through the API may be recalled for 2 minutes.
pub const RECALL_WINDOW_SECS: i64 = 120;
/// `title` of a link: longer is cut by the service.
pub const LINK_TITLE_MAX_BYTES: usize = 128;
/// `desc` of a link: longer is cut by the service.
pub const LINK_DESC_MAX_BYTES: usize = 512;
/// `title` of a miniprogram card: longer is cut by the service.
pub const MINIPROGRAM_TITLE_MAX_BYTES: usize = 64;
/// Knowledge groups a corp may hold, the default group included (docs/kf-api.md §4.14).
pub const KNOWLEDGE_GROUPS_MAX: usize = 100;
/// `name` of a knowledge group: 1 to 12 *characters*, unique in the corp.
pub const KNOWLEDGE_GROUP_NAME_MAX_CHARS: usize = 12;
/// Intents (questions with their answer) one knowledge group may hold.
pub const KNOWLEDGE_INTENTS_PER_GROUP_MAX: usize = 200;
/// A main question, or a similar question: 1 to 200 characters. A main question is
/// unique across every group.
pub const KNOWLEDGE_QUESTION_MAX_CHARS: usize = 200;
/// Similar questions of one intent.
pub const KNOWLEDGE_SIMILAR_QUESTIONS_MAX: usize = 100;
/// Answers of one intent: exactly this many.
pub const KNOWLEDGE_ANSWERS: usize = 1;
/// The answer's text: 1 to 500 characters.
pub const KNOWLEDGE_ANSWER_MAX_CHARS: usize = 500;
/// Attachments of one answer.
pub const KNOWLEDGE_ATTACHMENTS_MAX: usize = 4;
/// Default `limit` of `kf/knowledge/list_group` and `list_intent`.
pub const KNOWLEDGE_LIST_LIMIT_DEFAULT: u32 = 500;
/// Largest `limit` of `kf/knowledge/list_group` and `list_intent`.
pub const KNOWLEDGE_LIST_LIMIT_MAX: u32 = 1000;
/// `group_id` and `intent_id`: not documented; 64 bytes is the service's usual id limit.
pub const KNOWLEDGE_ID_MAX_BYTES: usize = 64;
