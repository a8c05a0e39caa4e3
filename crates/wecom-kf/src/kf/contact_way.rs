//! `/cgi-bin/kf/add_contact_way`: the link customers open to chat with an account.

use wecom_kf_types::kf::contact_way::AddContactWay;

use crate::Error;
use crate::kf::account::AccountApi;

impl AccountApi {
    /// The customer-facing link of `open_kfid`, optionally for a `scene` (≤ 32 bytes of
    /// `[0-9a-zA-Z_-]`). With a scene you may append `&scene_param=…` (url-encoded,
    /// ≤ 128 bytes); it comes back in the `enter_session` event.
    pub async fn contact_link(
        &self,
        open_kfid: impl Into<String>,
        scene: Option<&str>,
    ) -> Result<String, Error> {
        let mut request = AddContactWay::new(open_kfid);
        if let Some(scene) = scene {
            request = request.scene(scene);
        }
        Ok(self.client().execute(&request).await?.url)
    }
}
