//! `/cgi-bin/kf/add_contact_way` (docs/kf-api.md §3.5).

use std::hash::{DefaultHasher, Hash, Hasher};

use wecom_kf_types::kf::contact_way::{AddContactWay, AddContactWayResponse};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[Route::json::<AddContactWay>()];

fn digest(parts: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

impl Handle for AddContactWay {
    /// Read-level: any app may ask, managed or not. The link is stable per account and
    /// scene, in the shape of `https://work.weixin.qq.com/kf/kfc…?enc_scene=ENC…`.
    fn handle(
        emulator: &Emulator,
        _caller: &Caller,
        request: Self,
    ) -> Result<AddContactWayResponse, Rejection> {
        let world = emulator.world();
        let account = world.account(&request.open_kfid)?;
        let kfc = digest(&[&account.open_kfid]);
        let url = match request.scene.as_deref().filter(|s| !s.is_empty()) {
            Some(scene) => format!(
                "https://work.weixin.qq.com/kf/kfc{kfc:016x}?enc_scene=ENC{:016X}",
                digest(&[&account.open_kfid, scene])
            ),
            None => format!("https://work.weixin.qq.com/kf/kfc{kfc:016x}"),
        };
        Ok(AddContactWayResponse::new(url))
    }
}
