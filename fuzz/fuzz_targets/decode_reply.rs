//! Response decoding must never panic, whatever bytes the network sends; and an
//! errcode-0 answer that decodes always carries its body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wecom_kf_types::kf::account::{AddAccountResponse, ListAccountsResponse};
use wecom_kf_types::kf::contact_way::AddContactWayResponse;
use wecom_kf_types::media::UploadMediaResponse;
use wecom_kf_types::token::GetTokenResponse;
use wecom_kf_types::{Empty, Reply, Status};

fn one<T: serde::de::DeserializeOwned>(data: &[u8]) {
    if let Ok(reply) = serde_json::from_slice::<Reply<T>>(data) {
        assert!(!reply.status.errcode.is_ok() || reply.body.is_some());
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Status>(data);
    one::<ListAccountsResponse>(data);
    one::<AddAccountResponse>(data);
    one::<UploadMediaResponse>(data);
    one::<GetTokenResponse>(data);
    one::<AddContactWayResponse>(data);
    one::<Empty>(data);
});
