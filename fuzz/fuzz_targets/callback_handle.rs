//! The callback receiver's `handle(method, query, body)` never panics, and nothing
//! reaches the queue unless it was signed with the Token and sealed with the key.
//! The first byte picks how the rest is used: raw (query, NUL, body), as the plaintext
//! of a correctly sealed callback (the XML reader behind a valid signature), or as the
//! `Encrypt` of a correctly signed envelope (decryption behind a valid signature).
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use tokio::sync::mpsc;
use wecom_kf::callback::{CallbackEvent, Crypto, Receiver};

const CORP: &str = "ww1234567890abcdef";

fn setup() -> &'static (Crypto, Receiver, Mutex<mpsc::Receiver<CallbackEvent>>) {
    static SETUP: OnceLock<(Crypto, Receiver, Mutex<mpsc::Receiver<CallbackEvent>>)> =
        OnceLock::new();
    SETUP.get_or_init(|| {
        let crypto =
            Crypto::new("fuzzToken", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", CORP).unwrap();
        let (receiver, events) = Receiver::new(crypto.clone());
        (crypto, receiver, Mutex::new(events))
    })
}

fn now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}

fuzz_target!(|data: &[u8]| {
    let (crypto, receiver, events) = setup();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut signed = false;
    let answer = match mode % 3 {
        0 => {
            let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let query = String::from_utf8_lossy(&rest[..split]);
            let body = rest.get(split + 1..).unwrap_or_default();
            let method = if mode & 0x80 == 0 { "POST" } else { "GET" };
            receiver.handle(method, &query, body)
        }
        1 => {
            signed = true;
            let sealed = crypto.seal([0; 16], &now(), "n", rest);
            receiver.handle("POST", &sealed.query(), sealed.body.as_bytes())
        }
        _ => {
            let encrypt = String::from_utf8_lossy(rest).replace(']', "");
            let ts = now();
            let signature = crypto.sign(&ts, "n", encrypt.trim());
            let body = format!("<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>");
            receiver.handle(
                "POST",
                &format!("msg_signature={signature}&timestamp={ts}&nonce=n"),
                body.as_bytes(),
            )
        }
    };
    let mut events = events.lock().unwrap();
    let queued = events.try_recv().is_ok();
    // Only a callback sealed with the key gets queued (mode 1); raw bytes never forge one.
    assert!(!queued || signed || answer.status == 200);
    if mode % 3 == 0 {
        assert!(!queued, "unsigned bytes reached the queue");
    }
});
