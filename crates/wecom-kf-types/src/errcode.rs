//! The errcode catalogue of the 微信客服 API.
//!
//! Descriptions come from the committed copy of the official table in
//! `docs/kf-api.md` §6 (official doc 90313 as captured on 2024-04-08, plus the
//! 95xxx 微信客服 codes). Never scraped at build time: the table is data we review.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The numeric `errcode` of a WeCom response: an open newtype, so codes we have not
/// catalogued still round-trip and display.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct ErrCode(pub i64);

/// How a caller should react to an errcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryClass {
    /// `-1`: the service was busy; retrying (with backoff) may succeed.
    Transient,
    /// `45009`/`45033`: a frequency or concurrency limit; back off for the whole window.
    Throttled,
    /// `40001`/`40014`/`42001`: the access_token is bad or expired; refresh once, retry once.
    Token,
    /// Anything else: fix the request, do not retry.
    Permanent,
}

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $zh:literal, $en:literal; )*) => {
        impl ErrCode {
            $( $(#[$doc])* pub const $name: ErrCode = ErrCode($code); )*

            /// Every catalogued code, in table order.
            pub const ALL: &'static [ErrCode] = &[$(ErrCode($code)),*];

            /// `(name, 中文, English)` for a catalogued code.
            fn entry(self) -> Option<(&'static str, &'static str, &'static str)> {
                match self.0 {
                    $( $code => Some((stringify!($name), $zh, $en)), )*
                    _ => None,
                }
            }
        }
    };
}

catalogue! {
    /// 系统繁忙 — system busy.
    SYSTEM_BUSY = -1, "系统繁忙，可重试（最多3次）", "system busy";
    /// 请求成功.
    OK = 0, "请求成功", "ok";
    /// 不合法的secret参数.
    INVALID_CREDENTIAL = 40001, "不合法的secret参数（secret错误、已重置或应用已停用）", "invalid credential";
    /// 不合法的媒体文件类型.
    INVALID_MEDIA_FILE_TYPE = 40004, "不合法的媒体文件类型", "invalid media file type";
    /// 不合法的type参数.
    INVALID_MEDIA_TYPE = 40005, "不合法的type参数", "invalid type";
    /// 不合法的文件大小.
    INVALID_FILE_SIZE = 40006, "不合法的文件大小", "invalid file size";
    /// 不合法的media_id参数.
    INVALID_MEDIA_ID = 40007, "不合法的media_id参数（来源错误、已过期或类型不对）", "invalid media_id";
    /// 不合法的msgtype参数.
    INVALID_MSGTYPE = 40008, "不合法的msgtype参数", "invalid msgtype";
    /// 上传图片大小不是有效值.
    INVALID_IMAGE_SIZE = 40009, "上传图片大小不是有效值", "invalid image size";
    /// 上传视频大小不是有效值.
    INVALID_VIDEO_SIZE = 40011, "上传视频大小不是有效值", "invalid video size";
    /// 不合法的CorpID.
    INVALID_CORPID = 40013, "不合法的CorpID", "invalid corpid";
    /// 不合法的access_token.
    INVALID_ACCESS_TOKEN = 40014, "不合法的access_token", "invalid access_token";
    /// 不合法的参数.
    INVALID_PARAMETER = 40058, "不合法的参数（JSON格式错误、长度超限或必填值为空）", "invalid parameter";
    /// 参数为空.
    PARAMETER_EMPTY = 40063, "参数为空", "some parameters are empty";
    /// secret不合法.
    SECRET_INVALID = 40091, "secret不合法（可能是其他企业的secret）", "secret is invalid";
    /// 不合法的外部联系人userid.
    INVALID_EXTERNAL_USERID = 40096, "不合法的外部联系人userid", "invalid external_userid";
    /// 上传的图片内容不合法.
    INVALID_IMAGE_CONTENT = 40123, "上传的图片内容不合法", "invalid image content";
    /// 缺少access_token参数.
    ACCESS_TOKEN_MISSING = 41001, "缺少access_token参数", "access_token missing";
    /// 缺少corpid参数.
    CORPID_MISSING = 41002, "缺少corpid参数", "corpid missing";
    /// 缺少secret参数.
    SECRET_MISSING = 41004, "缺少secret参数", "corpsecret missing";
    /// 缺少media_id参数.
    MEDIA_ID_MISSING = 41006, "缺少media_id参数", "media_id missing";
    /// access_token已过期.
    ACCESS_TOKEN_EXPIRED = 42001, "access_token已过期", "access_token expired";
    /// 多媒体文件为空.
    EMPTY_MEDIA = 44001, "多媒体文件为空", "empty media data";
    /// 多媒体文件大小超过限制.
    MEDIA_SIZE_OUT_OF_LIMIT = 45001, "多媒体文件大小超过限制", "media size out of limit";
    /// 消息内容大小超过限制.
    CONTENT_SIZE_OUT_OF_LIMIT = 45002, "消息内容大小超过限制（文本不超过2048字节）", "content size out of limit";
    /// 接口调用超过限制.
    API_FREQ_OUT_OF_LIMIT = 45009, "接口调用超过限制", "api freq out of limit";
    /// 接口并发调用超过限制.
    API_CONCURRENT_OUT_OF_LIMIT = 45033, "接口并发调用超过限制", "api concurrent out of limit";
    /// 不合法的应用调用：应用无此接口权限.
    API_FORBIDDEN = 48002, "API接口无权限调用", "api forbidden";
    /// 客服账号未授权给该应用.
    KF_ACCOUNT_NOT_AUTHORIZED = 48007, "接口无权限调用：该客服账号未授权给当前应用", "api forbidden for this kf account";
    /// 成员/部门不在可见范围.
    NOT_IN_VISIBLE_RANGE = 60011, "指定的成员/部门/标签参数无权限（不在应用可见范围）", "no privilege to access/modify contact/party/agent";
    /// 不安全的访问IP.
    UNTRUSTED_IP = 60020, "不安全的访问IP（需配置企业可信IP）", "not allow to access from your ip";
    /// userid不存在.
    USERID_NOT_FOUND = 60111, "userid不存在", "userid not found";
    /// 部门不存在.
    DEPARTMENT_NOT_FOUND = 60123, "无效的部门id", "invalid party id";
    /// 缺少openkfid.
    OPEN_KFID_MISSING = 60251, "缺少openkfid", "openkfid missing";
    /// 非法的openkfid.
    OPEN_KFID_INVALID_60252 = 60252, "非法的openkfid", "invalid openkfid";
    /// 客服不在接待人员列表中.
    SERVICER_NOT_IN_LIST = 60253, "客服不在接待人员列表中", "servicer not in servicer list";
    /// token无权限访问指定应用.
    TOKEN_NO_PERMISSION_ON_APP = 301_002, "access_token无权限操作指定的应用", "access_token has no permission on the app";
    /// 非法的open_kfid.
    INVALID_OPEN_KFID = 95000, "非法的open_kfid", "invalid open_kfid";
    /// 发送消息条数超过限制.
    SEND_COUNT_OUT_OF_LIMIT = 95001, "发送消息条数超过限制（每条客户消息最多回复5条）", "send msg count out of limit";
    /// 发送消息时间超过限制.
    SEND_TIME_OUT_OF_LIMIT = 95002, "发送消息时间超过限制（客户消息后48小时内）", "send msg time out of limit";
    /// 可接待客户数超过限制.
    CUSTOMER_COUNT_OUT_OF_LIMIT = 95003, "可接待的客户数超过限制（企业未认证）", "customer count out of limit";
    /// open_kfid不存在.
    OPEN_KFID_NOT_EXIST = 95004, "open_kfid不存在（其他企业的或已删除的账号）", "open_kfid not exist";
    /// 客服账号数量超过上限.
    KF_ACCOUNT_COUNT_OUT_OF_LIMIT = 95005, "客服账号数量超过上限（不能多于最大数量，且至少有一个）", "kf account count out of limit";
    /// 不合法的客服账号名.
    INVALID_KF_ACCOUNT_NAME = 95006, "不合法的客服账号名", "invalid kf account name";
    /// 不合法的msgtoken.
    INVALID_MSGTOKEN = 95007, "不合法的msgtoken（已过期或不合法）", "invalid msgtoken";
    /// 菜单消息的菜单项个数超过上限.
    MENU_ITEMS_OUT_OF_LIMIT = 95008, "菜单消息的菜单项个数超过上限（最多10个）", "menu items out of limit";
    /// 不合法的菜单消息的菜单项类型.
    INVALID_MENU_ITEM_TYPE = 95009, "不合法的菜单消息的菜单项类型", "invalid menu item type";
    /// 客服处于联合版模式，但使用了独立版secret.
    KF_UNION_MODE_MISMATCH = 95011, "微信客服处于联合版（企业微信内）模式，但使用了独立版secret", "kf is in union mode";
    /// 客服处于独立版模式，但使用了联合版secret.
    KF_STANDALONE_MODE_MISMATCH = 95012, "微信客服处于独立版模式，但使用了联合版secret", "kf is in standalone mode";
    /// 会话已经结束.
    SESSION_ENDED = 95013, "会话已经结束", "session already ended";
    /// 用户不是接待人员或未激活.
    NOT_A_SERVICER = 95014, "用户不是接待人员，或未激活企业微信", "user is not a servicer";
    /// 管理端已完成配置专属服务.
    EXCLUSIVE_SERVICE_CONFIGURED = 95015, "管理端已完成配置专属服务", "exclusive service already configured";
    /// 不允许这种状态转移.
    STATE_TRANSITION_NOT_ALLOWED = 95016, "不允许这种状态转移", "service state transition not allowed";
    /// 基础应用API开关已关闭.
    API_SWITCH_OFF = 95017, "基础应用权限：API开关已关闭", "api switch is off";
    /// 会话状态不允许发送消息.
    SEND_SESSION_STATUS_INVALID = 95018, "当前会话状态不允许发送消息", "send msg session status invalid";
    /// 接待人员已停止接待或挂起.
    SERVICER_STOPPED = 95019, "接待人员已停止接待或被挂起", "servicer stopped or suspended";
    /// 不合法的location_type.
    INVALID_LOCATION_TYPE = 95022, "不合法的location_type", "invalid location_type";
    /// API开关已授权给代开发应用.
    API_SWITCH_GRANTED_TO_CUSTOM_APP = 95023, "基础应用权限：API开关已授权给代开发应用", "api switch granted to a customized app";
    /// 客服账号使用率较低，暂无法创建.
    KF_ACCOUNT_LOW_UTILISATION = 95026, "客服账号使用率较低，暂无法创建", "kf account utilisation too low";
    /// 企业未认证，仅可创建10个客服账号.
    UNVERIFIED_CORP_ACCOUNT_LIMIT = 95027, "企业未认证，仅可创建10个客服账号", "unverified corp may create only 10 kf accounts";
    /// 该消息类型被客服组件禁止.
    MSGTYPE_FORBIDDEN_BY_COMPONENT = 95030, "该消息类型被微信客服组件禁止", "msgtype forbidden by kf component";
    /// 客户48小时内未发起过咨询.
    NO_CONSULTATION_IN_48H = 95031, "客户48小时内未发起过咨询", "customer has not consulted within 48 hours";
    /// 客服组件的聊天记录权限已过期.
    COMPONENT_CHAT_PERMISSION_EXPIRED = 95032, "微信客服组件的聊天记录权限已过期", "kf component chat permission expired";
    /// 文件超过20M，需分块下载.
    MEDIA_NEEDS_RANGE = 830_002, "文件超过20M，需使用Range分块下载（每块不超过20M）", "file over 20 MB: download it in Range chunks of at most 20 MB";
    /// Not a WeCom code: `wecom-kf-emulator` answers it for a `/cgi-bin/` path it does
    /// not serve. No WeCom errcode is 404, so it can never be mistaken for one.
    NOT_IMPLEMENTED_BY_EMULATOR = 404, "模拟器未实现该接口（wecom-kf-emulator，非企业微信错误码）", "not implemented by wecom-kf-emulator";
}

impl ErrCode {
    /// The raw number.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Whether this is success (`0`).
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// The const name in this catalogue, e.g. `"INVALID_ACCESS_TOKEN"`.
    pub fn name(self) -> Option<&'static str> {
        self.entry().map(|(name, _, _)| name)
    }

    /// The Chinese description from the official table, if catalogued.
    pub fn description_zh(self) -> Option<&'static str> {
        self.entry().map(|(_, zh, _)| zh)
    }

    /// An English description, if catalogued.
    pub fn description_en(self) -> Option<&'static str> {
        self.entry().map(|(_, _, en)| en)
    }

    /// How a caller should react to this code.
    pub const fn retry_class(self) -> RetryClass {
        match self.0 {
            -1 => RetryClass::Transient,
            45009 | 45033 => RetryClass::Throttled,
            40001 | 40014 | 42001 => RetryClass::Token,
            _ => RetryClass::Permanent,
        }
    }

    /// What usually fixes this error, where a hint helps.
    pub fn hint(self) -> Option<&'static str> {
        Some(match self.0 {
            40001 => {
                "check that the secret is the one of the app configured for 微信客服, that it was not reset, and that the app is enabled"
            }
            40013 => "check the corp id (企业ID, under 我的企业 → 企业信息)",
            48002 => "add the app to 微信客服 → 可调用接口的应用 in the admin console",
            48007 => {
                "the kf account is not managed by this app: assign it under 微信客服 → 通过API管理微信客服账号, or manage it from the app that created it"
            }
            60020 => {
                "add this machine's public IP to the app's 企业可信IP list; it takes about a minute to apply"
            }
            45009 | 45033 => {
                "rate limited: wait for the window (a minute, or an hour) before retrying"
            }
            95005 | 95027 => {
                "the corp has reached its kf account cap: delete unused accounts (an unverified corp may hold 10)"
            }
            404 => {
                "this path is not served by wecom-kf-emulator (not a WeCom error); check the path, or run against the real service"
            }
            830_002 => {
                "a file over 20 MB is served only in Range chunks of at most 20 MB; client.media().download() and download_to() do that for you"
            }
            40007 => {
                "temporary media lasts 3 days: an expired or unknown media_id cannot be downloaded or sent; upload the file again"
            }
            95004 => {
                "the account does not exist (deleted, or belongs to another corp); list the accounts to find its id"
            }
            _ => return None,
        })
    }

    /// The official look-up page for this code.
    pub fn lookup_url(self) -> String {
        format!("https://open.work.weixin.qq.com/devtool/query?e={}", self.0)
    }
}

impl fmt::Debug for ErrCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "ErrCode({} {name})", self.0),
            None => write!(f, "ErrCode({})", self.0),
        }
    }
}

/// `40014 (不合法的access_token / invalid access_token)`, or just the number when uncatalogued.
impl fmt::Display for ErrCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry() {
            Some((_, zh, en)) => write!(f, "{} ({zh} / {en})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl From<i64> for ErrCode {
    fn from(code: i64) -> Self {
        ErrCode(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogued_code_has_both_descriptions_and_a_unique_number() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrCode::ALL {
            assert!(seen.insert(code.0), "duplicate code {}", code.0);
            assert!(!code.description_zh().unwrap().is_empty());
            assert!(!code.description_en().unwrap().is_empty());
        }
        // Every code of docs/kf-api.md §6.2 (95xxx) that the 2024 capture lists.
        for n in [
            95000, 95001, 95002, 95003, 95004, 95005, 95006, 95007, 95008, 95009, 95011, 95012,
            95013, 95014, 95015, 95016, 95017, 95018, 95019, 95022, 95023, 95026, 95027, 95030,
            95031, 95032,
        ] {
            assert!(
                ErrCode(n).name().is_some(),
                "{n} missing from the catalogue"
            );
        }
    }

    #[test]
    fn retry_classes_follow_the_spec() {
        assert_eq!(ErrCode(-1).retry_class(), RetryClass::Transient);
        assert_eq!(ErrCode(45009).retry_class(), RetryClass::Throttled);
        assert_eq!(ErrCode(45033).retry_class(), RetryClass::Throttled);
        for n in [40001, 40014, 42001] {
            assert_eq!(ErrCode(n).retry_class(), RetryClass::Token);
        }
        assert_eq!(ErrCode(95004).retry_class(), RetryClass::Permanent);
    }

    #[test]
    fn display_and_lookup() {
        assert_eq!(
            ErrCode::API_FREQ_OUT_OF_LIMIT.to_string(),
            "45009 (接口调用超过限制 / api freq out of limit)"
        );
        assert_eq!(ErrCode(123_456).to_string(), "123456");
        assert_eq!(
            ErrCode(48007).lookup_url(),
            "https://open.work.weixin.qq.com/devtool/query?e=48007"
        );
    }
}
