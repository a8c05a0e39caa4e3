//! Our side of the crypto vectors (`tools/crypto-vectors/`): each case sealed by our
//! `Crypto` with fixed random bytes, as JSON, for the reference implementations to open.
//!
//! `cargo run -q -p wecom-kf-types --features callback --example crypto_vectors`

use wecom_kf_types::callback::Crypto;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cases: serde_json::Value =
        serde_json::from_str(include_str!("../../../tools/crypto-vectors/cases.json"))?;
    let mut out = Vec::new();
    for (n, case) in cases.as_array().into_iter().flatten().enumerate() {
        let text = |k: &str| case[k].as_str().unwrap_or_default().to_owned();
        let crypto = Crypto::new(text("token"), &text("encoding_aes_key"), text("receive_id"))?;
        let mut random16 = [0u8; 16];
        for (i, b) in random16.iter_mut().enumerate() {
            *b = u8::try_from((n * 31 + i * 7) % 256)?;
        }
        let sealed = crypto.seal(
            random16,
            &text("timestamp"),
            &text("nonce"),
            text("plaintext").as_bytes(),
        );
        let mut case = case.clone();
        let hex = random16.iter().fold(String::new(), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        });
        case["random16"] = hex.into();
        case["encrypt"] = sealed.encrypt.into();
        case["msg_signature"] = sealed.msg_signature.into();
        out.push(case);
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
