//! WXBizMsgCrypt against two independent implementations, both ways, from the committed
//! vectors (`tools/crypto-vectors/`), and every failure produced by its cause.

use serde_json::Value;
use wecom_kf_types::callback::{CallbackEvent, CallbackQuery, Crypto, CryptoError, Envelope};

fn vectors(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/callback/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap()
}

fn crypto_of(case: &Value) -> Crypto {
    Crypto::new(
        text(case, "token"),
        text(case, "encoding_aes_key"),
        text(case, "receive_id"),
    )
    .unwrap()
}

fn random16(hex: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap();
    }
    out
}

/// Ours seals exactly the bytes the reference implementation opened to the plaintext.
fn ours_opened_by_theirs(case: &Value) {
    let crypto = crypto_of(case);
    let ours = &case["ours"];
    let sealed = crypto.seal(
        random16(text(ours, "random16")),
        text(case, "timestamp"),
        text(case, "nonce"),
        text(case, "plaintext").as_bytes(),
    );
    assert_eq!(
        sealed.encrypt,
        text(ours, "encrypt"),
        "our ciphertext changed"
    );
    assert_eq!(sealed.msg_signature, text(ours, "msg_signature"));
    assert_eq!(text(ours, "they_decrypted"), text(case, "plaintext"));
}

#[test]
fn wechatpy_opens_ours_and_ours_opens_wechatpy() {
    let cases = vectors("wechatpy.json");
    assert_eq!(cases.len(), 6);
    for case in &cases {
        ours_opened_by_theirs(case);
        // Theirs: an envelope with MsgSignature, TimeStamp and Nonce inside.
        let envelope = text(&case["theirs"], "envelope");
        let field = |name: &str| {
            let start = envelope.find(&format!("<{name}>")).unwrap() + name.len() + 2;
            let end = envelope.find(&format!("</{name}>")).unwrap();
            envelope[start..end]
                .trim_start_matches("<![CDATA[")
                .trim_end_matches("]]>")
                .to_owned()
        };
        let query = CallbackQuery::parse(&format!(
            "msg_signature={}&timestamp={}&nonce={}",
            field("MsgSignature"),
            field("TimeStamp"),
            field("Nonce")
        ))
        .unwrap();
        let opened = crypto_of(case).open(&query, envelope.as_bytes()).unwrap();
        assert_eq!(opened, text(case, "plaintext"));
    }
}

#[test]
fn wecom_crypto_opens_ours_and_ours_opens_wecom_crypto() {
    let cases = vectors("wecom-crypto.json");
    assert_eq!(cases.len(), 6);
    for case in &cases {
        ours_opened_by_theirs(case);
        assert_eq!(case["ours"]["their_signature_matches"], true);
        assert_eq!(
            text(&case["ours"], "they_read_receive_id"),
            text(case, "receive_id")
        );
        let crypto = crypto_of(case);
        let theirs = &case["theirs"];
        crypto
            .verify(
                text(theirs, "msg_signature"),
                text(case, "timestamp"),
                text(case, "nonce"),
                text(theirs, "encrypt"),
            )
            .unwrap();
        let plain = crypto.decrypt(text(theirs, "encrypt")).unwrap();
        assert_eq!(String::from_utf8(plain).unwrap(), text(case, "plaintext"));
    }
}

const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const OTHER_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn sealed() -> (Crypto, CallbackQuery, String) {
    let crypto = Crypto::new("token", KEY, "ww1234567890abcdef").unwrap();
    let event = CallbackEvent::kf_msg_or_event("ww1234567890abcdef", 1, "ENCtoken", "wk1");
    let sealed = crypto.seal([9; 16], "1700000000", "nonce", event.to_xml().as_bytes());
    let query = CallbackQuery::parse(&sealed.query()).unwrap();
    (crypto, query, sealed.body)
}

fn code(result: Result<String, CryptoError>) -> i32 {
    result.unwrap_err().code()
}

#[test]
fn every_failure_has_its_code_and_its_cause() {
    let (crypto, query, body) = sealed();
    assert!(crypto.open(&query, body.as_bytes()).is_ok());
    // Hex in upper case is the same signature; one character short is not.
    let encrypted = Envelope::parse(body.as_bytes()).unwrap().encrypt;
    let upper = query.msg_signature.to_ascii_uppercase();
    assert!(
        crypto
            .verify(&upper, &query.timestamp, &query.nonce, &encrypted)
            .is_ok()
    );
    let short = &query.msg_signature[..39];
    assert_eq!(
        crypto
            .verify(short, &query.timestamp, &query.nonce, &encrypted)
            .unwrap_err()
            .code(),
        -40001
    );
    // Wrong Token: the signature.
    let wrong_token = Crypto::new("other", KEY, "ww1234567890abcdef").unwrap();
    let err = wrong_token.open(&query, body.as_bytes()).unwrap_err();
    assert_eq!(err.code(), -40001);
    assert!(err.to_string().contains("msg_signature"), "{err}");
    // Wrong key: the padding (or, rarely, the receiveid) gives it away.
    let wrong_key = Crypto::new("token", OTHER_KEY, "ww1234567890abcdef").unwrap();
    assert!([-40008, -40005].contains(&code(wrong_key.open(&query, body.as_bytes()))));
    // Wrong receiveid: another corp's callback.
    let other_corp = Crypto::new("token", KEY, "wwother").unwrap();
    let err = other_corp.open(&query, body.as_bytes()).unwrap_err();
    assert_eq!(err.code(), -40005);
    assert!(err.to_string().contains("ww1234567890abcdef"), "{err}");
    // Truncated base64 (re-signed so the signature passes and the decoding fails).
    let encrypt = Envelope::parse(body.as_bytes()).unwrap().encrypt;
    let reseal = |encrypt: &str| {
        let signature = crypto.sign("1700000000", "nonce", encrypt);
        let body = format!("<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>");
        let query = CallbackQuery::parse(&format!(
            "msg_signature={signature}&timestamp=1700000000&nonce=nonce"
        ))
        .unwrap();
        crypto.open(&query, body.as_bytes())
    };
    assert_eq!(code(reseal(&encrypt[..encrypt.len() - 3])), -40010);
    // Whole base64, but not whole AES blocks.
    assert_eq!(code(reseal("AAAAAAAAAAAA")), -40007);
    // Bad padding: a valid block sequence whose plaintext does not end in PKCS#7.
    let tampered = {
        use base64::Engine as _;
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&encrypt)
            .unwrap();
        let n = bytes.len();
        bytes[n - 17] ^= 0x55; // flips the last plaintext block's padding bytes
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    assert_eq!(code(reseal(&tampered)), -40008);
    // Not an envelope, a DOCTYPE with an entity, an undeclared entity, a 10 MB body.
    for bad in [
        "not xml at all".to_owned(),
        "<xml><Encrypt>".to_owned(),
        r#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e "boom">]><xml><Encrypt>&e;</Encrypt></xml>"#.to_owned(),
        "<xml><Encrypt>&e;</Encrypt></xml>".to_owned(),
        format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(10 * 1024 * 1024)),
        "<xml><ToUserName>ww1</ToUserName></xml>".to_owned(),
    ] {
        let err = crypto.open(&query, bad.as_bytes()).unwrap_err();
        assert_eq!(err.code(), -40002, "{bad:.60}: {err}");
    }
    // A query without its signature.
    assert_eq!(
        CallbackQuery::parse("timestamp=1&nonce=2")
            .unwrap_err()
            .code(),
        -40001
    );
}

#[test]
fn a_bad_key_is_refused_when_the_crypto_is_built_with_what_is_wrong() {
    for (key, needle) in [
        ("short", "43 characters, got 5"),
        (&format!("{KEY}="), "leave out the trailing '='"),
        (
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2+",
            "letters and digits only; character 43",
        ),
    ] {
        let err = Crypto::new("token", key, "ww1").unwrap_err();
        assert_eq!(err.code(), -40004);
        assert!(err.to_string().contains(needle), "{err}");
        assert!(!err.to_string().contains(KEY), "the key is never printed");
    }
}

#[test]
fn the_url_check_answers_the_plaintext_and_secrets_stay_out_of_debug() {
    let crypto = Crypto::new("token", KEY, "ww1").unwrap();
    let echostr = crypto.encrypt_with([3; 16], b"1616140317555161061");
    let signature = crypto.sign("1", "n", &echostr);
    let query = CallbackQuery::parse(&format!(
        "msg_signature={signature}&timestamp=1&nonce=n&echostr={}",
        echostr
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    ))
    .unwrap();
    assert_eq!(crypto.verify_url(&query).unwrap(), "1616140317555161061");
    let debug = format!("{crypto:?}");
    assert!(
        !debug.contains("token") || debug.contains("<redacted>"),
        "{debug}"
    );
    assert!(
        !debug.contains(KEY) && !debug.contains("\"token\""),
        "{debug}"
    );
}

#[test]
fn events_parse_and_unknown_ones_are_kept() {
    let xml = "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_account_auth_change]]></Event><AuthAddOpenKfId><![CDATA[wkxxxx1]]></AuthAddOpenKfId><AuthAddOpenKfId><![CDATA[wkxxxx3]]></AuthAddOpenKfId><AuthDelOpenKfId><![CDATA[wkxxxx2]]></AuthDelOpenKfId></xml>";
    let event = CallbackEvent::parse(xml).unwrap();
    let CallbackEvent::KfAccountAuthChange {
        added,
        removed,
        create_time,
        ..
    } = &event
    else {
        panic!("{event:?}")
    };
    assert_eq!(added, &["wkxxxx1", "wkxxxx3"]);
    assert_eq!(removed, &["wkxxxx2"]);
    assert_eq!(*create_time, 1_348_831_860);
    assert_eq!(CallbackEvent::parse(&event.to_xml()).unwrap(), event);
    let other = CallbackEvent::parse("<xml><MsgType>event</MsgType><Event>change_external_contact</Event><ChangeType>add</ChangeType></xml>").unwrap();
    assert!(
        matches!(&other, CallbackEvent::Other { event, fields, .. } if event == "change_external_contact" && fields.len() == 3)
    );
    // Text with the predefined entities and "]]>" inside a value survive a round trip.
    let tricky = CallbackEvent::kf_msg_or_event("ww1", 1, "a]]>b&<c>", "wk1");
    assert_eq!(CallbackEvent::parse(&tricky.to_xml()).unwrap(), tricky);
}

#[test]
fn cdata_that_is_not_utf8_is_read_with_replacement_characters() {
    // The walker borrows CDATA that is UTF-8 and falls back to a lossy copy otherwise:
    // both paths give the text, never an error or a panic.
    let mut body = b"<xml><ToUserName><![CDATA[ww\xff1]]></ToUserName><AgentID><![CDATA[a]]><![CDATA[b]]></AgentID><Encrypt><![CDATA[abc]]></Encrypt></xml>".to_vec();
    let envelope = Envelope::parse(&body).unwrap();
    assert_eq!(envelope.to_user_name, "ww\u{fffd}1");
    assert_eq!(envelope.agent_id, "ab");
    assert_eq!(envelope.encrypt, "abc");
    body.retain(|&b| b != 0xff);
    assert_eq!(Envelope::parse(&body).unwrap().to_user_name, "ww1");
}
