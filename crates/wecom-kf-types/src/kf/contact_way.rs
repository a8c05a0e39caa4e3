//! `POST /cgi-bin/kf/add_contact_way`: the customer-facing link of an account (docs/kf-api.md §3.5).

use serde::{Deserialize, Serialize};

use crate::limits::SCENE_MAX_BYTES;
use crate::validate::{self, Validated};
use crate::{Endpoint, ErrCode, Method};

use super::validate_open_kfid;

/// The allowed characters of `scene`: `[0-9a-zA-Z_-]`.
pub fn is_scene_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `POST /cgi-bin/kf/add_contact_way`: get the link customers open to chat.
///
/// ```
/// use wecom_kf_types::kf::contact_way::AddContactWay;
/// use wecom_kf_types::Endpoint;
///
/// assert!(AddContactWay::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw").scene("spring_sale-2026").validate().is_ok());
/// assert!(AddContactWay::new("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw").scene("春季").validate().is_err());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddContactWay {
    /// The account.
    #[serde(default)]
    pub open_kfid: String,
    /// Developer-defined scene, ≤ 32 bytes of `[0-9a-zA-Z_-]`. With a scene, a
    /// `&scene_param=…` may be appended to the returned URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<String>,
}

impl AddContactWay {
    /// The link of `open_kfid` without a scene.
    pub fn new(open_kfid: impl Into<String>) -> Self {
        AddContactWay {
            open_kfid: open_kfid.into(),
            scene: None,
        }
    }

    /// Set the scene.
    #[must_use]
    pub fn scene(mut self, scene: impl Into<String>) -> Self {
        self.scene = Some(scene.into());
        self
    }
}

impl Endpoint for AddContactWay {
    const PATH: &'static str = "/cgi-bin/kf/add_contact_way";
    const METHOD: Method = Method::Post;
    type Response = AddContactWayResponse;

    /// Read-level permission; asking twice for a link has no lasting effect.
    fn idempotent(&self) -> bool {
        true
    }

    fn validate(&self) -> Validated {
        validate_open_kfid(&self.open_kfid)?;
        if let Some(scene) = &self.scene {
            validate::max_bytes("scene", scene, SCENE_MAX_BYTES, ErrCode::INVALID_PARAMETER)?;
            validate::charset(
                "scene",
                scene,
                "[0-9a-zA-Z_-]*",
                is_scene_char,
                ErrCode::INVALID_PARAMETER,
            )?;
        }
        Ok(())
    }
}

/// Answer of `kf/add_contact_way`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddContactWayResponse {
    /// e.g. `https://work.weixin.qq.com/kf/kfcbf8f8d07ac7215f?enc_scene=ENCGFSDF567DF`.
    pub url: String,
}

impl AddContactWayResponse {
    /// A link answer.
    pub fn new(url: impl Into<String>) -> Self {
        AddContactWayResponse { url: url.into() }
    }
}
