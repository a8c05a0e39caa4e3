//! The official doc example payloads (docs/kf-api.md §1–3), kept as JSON fixtures: each must
//! decode into our types and serialize back to the same JSON. Shared types can share a
//! mistake with the emulator; the fixtures come from the docs, not from us.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wecom_kf_types::kf::account::{
    AddAccount, AddAccountResponse, DeleteAccount, ListAccounts, ListAccountsResponse,
    UpdateAccount,
};
use wecom_kf_types::kf::contact_way::{AddContactWay, AddContactWayResponse};
use wecom_kf_types::media::UploadMediaResponse;
use wecom_kf_types::reply::Success;
use wecom_kf_types::token::GetTokenResponse;
use wecom_kf_types::{Empty, Endpoint, Reply};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn request<T: Endpoint + std::fmt::Debug>(name: &str) {
    let doc = fixture(name);
    let parsed: T = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&parsed).unwrap(),
        doc,
        "{name} does not round-trip"
    );
}

fn response<T: DeserializeOwned + Serialize>(name: &str) {
    let doc = fixture(name);
    let text = serde_json::to_string(&doc).unwrap();
    let reply: Reply<T> = serde_json::from_str(&text).unwrap();
    assert!(reply.status.errcode.is_ok(), "{name}");
    let body = reply.body.unwrap();
    let mut back = serde_json::to_value(Success::new(&body)).unwrap();
    // The doc example of media/upload has errmsg "" where every other answer has "ok".
    back["errmsg"] = doc["errmsg"].clone();
    assert_eq!(back, doc, "{name} does not round-trip");
}

#[test]
fn requests_round_trip() {
    request::<AddAccount>("kf_account_add.request.json");
    request::<DeleteAccount>("kf_account_del.request.json");
    request::<UpdateAccount>("kf_account_update.request.json");
    request::<ListAccounts>("kf_account_list.request.json");
    request::<AddContactWay>("kf_add_contact_way.request.json");
}

#[test]
fn responses_round_trip() {
    response::<GetTokenResponse>("gettoken.response.json");
    response::<UploadMediaResponse>("media_upload.response.json");
    response::<AddAccountResponse>("kf_account_add.response.json");
    response::<ListAccountsResponse>("kf_account_list.response.json");
    response::<AddContactWayResponse>("kf_add_contact_way.response.json");
    response::<Empty>("empty.response.json");
}

#[test]
fn doc_examples_pass_validation() {
    let add: AddAccount = serde_json::from_value(fixture("kf_account_add.request.json")).unwrap();
    add.validate().unwrap();
    let update: UpdateAccount =
        serde_json::from_value(fixture("kf_account_update.request.json")).unwrap();
    update.validate().unwrap();
    let link: AddContactWay =
        serde_json::from_value(fixture("kf_add_contact_way.request.json")).unwrap();
    link.validate().unwrap();
}

#[test]
fn missing_fields_default_so_validation_names_them() {
    // The emulator decodes `{}` and lets validation answer with the service's errcode.
    let add: AddAccount = serde_json::from_str("{}").unwrap();
    let err = add.validate().unwrap_err();
    assert_eq!(err.field, "name");
    let list: ListAccounts = serde_json::from_str("{}").unwrap();
    assert_eq!(list, ListAccounts::page(0, 100));
}
