//! Property tests: validation accepts exactly what the documented limits allow, and
//! decoding never panics on anything the network could send.
//!
//! `PROPTEST_CASES` scales the number of cases (default 256 per property).

use proptest::prelude::*;
use serde_json::Value;
use wecom_kf_types::kf::account::{
    AddAccountResponse, ListAccounts, ListAccountsResponse, validate_media_id, validate_name,
};
use wecom_kf_types::kf::contact_way::{AddContactWay, AddContactWayResponse, is_scene_char};
use wecom_kf_types::kf::validate_open_kfid;
use wecom_kf_types::media::{MediaType, UploadMediaResponse};
use wecom_kf_types::token::GetTokenResponse;
use wecom_kf_types::{Empty, Endpoint, Reply};

/// Any JSON value, nested a few levels, with the field names the service uses mixed in.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("errcode".to_owned()),
                        Just("errmsg".to_owned()),
                        Just("account_list".to_owned()),
                        Just("open_kfid".to_owned()),
                        Just("name".to_owned()),
                        Just("avatar".to_owned()),
                        Just("manage_privilege".to_owned()),
                        Just("access_token".to_owned()),
                        Just("expires_in".to_owned()),
                        Just("media_id".to_owned()),
                        Just("created_at".to_owned()),
                        Just("type".to_owned()),
                        Just("url".to_owned()),
                        "\\PC{0,12}",
                    ],
                    inner
                ),
                0..8,
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn decode_all(bytes: &[u8]) {
    // Never a panic; and an errcode-0 answer that decodes always has its body.
    fn one<T: serde::de::DeserializeOwned>(bytes: &[u8]) {
        if let Ok(reply) = serde_json::from_slice::<Reply<T>>(bytes) {
            assert!(!reply.status.errcode.is_ok() || reply.body.is_some());
        }
    }
    one::<ListAccountsResponse>(bytes);
    one::<AddAccountResponse>(bytes);
    one::<UploadMediaResponse>(bytes);
    one::<GetTokenResponse>(bytes);
    one::<AddContactWayResponse>(bytes);
    one::<Empty>(bytes);
}

proptest! {
    #[test]
    fn names_of_1_to_16_characters_of_any_script_pass(name in "\\PC{1,16}") {
        prop_assert!(validate_name(&name).is_ok(), "{name:?} ({} chars)", name.chars().count());
    }

    #[test]
    fn names_of_17_or_more_characters_fail_naming_the_field(name in "\\PC{17,40}") {
        let err = validate_name(&name).unwrap_err();
        prop_assert_eq!(err.field, "name");
        let count = format!("{} characters", name.chars().count());
        prop_assert!(err.to_string().contains(&count), "{} lacks {}", err, count);
    }

    #[test]
    fn byte_limits_are_counted_in_bytes(value in "\\PC{0,90}") {
        let bytes = value.len();
        prop_assert_eq!(validate_media_id(&value).is_ok(), (1..=128).contains(&bytes));
        prop_assert_eq!(validate_open_kfid(&value).is_ok(), (1..=64).contains(&bytes));
    }

    #[test]
    fn scenes_pass_exactly_when_short_and_in_the_charset(scene in prop_oneof!["[0-9a-zA-Z_-]{0,40}", "\\PC{0,40}"]) {
        let allowed = scene.len() <= 32 && scene.chars().all(is_scene_char);
        prop_assert_eq!(AddContactWay::new("wk1").scene(scene.clone()).validate().is_ok(), allowed, "{:?}", scene);
    }

    #[test]
    fn list_limits_are_1_to_100(offset in any::<u32>(), limit in any::<u32>()) {
        prop_assert_eq!(ListAccounts::page(offset, limit).validate().is_ok(), (1..=100).contains(&limit));
    }

    #[test]
    fn media_sizes_follow_each_type(len in 0u64..25 * 1024 * 1024) {
        for t in MediaType::ALL {
            prop_assert_eq!(t.validate_size(len).is_ok(), len > 5 && len <= t.max_bytes());
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn decoding_json_with_missing_extra_or_mistyped_fields_never_panics(value in json()) {
        decode_all(&serde_json::to_vec(&value).unwrap());
    }
}
