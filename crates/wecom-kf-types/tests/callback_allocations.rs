//! Opening a callback holds no copy of its XML: the envelope is read in place,
//! `Encrypt` is verified and decoded where it lies, and the message is decrypted in the
//! buffer base64 decoded it into. So the heap's peak while opening stays under the
//! size of the `Encrypt` text itself; a copy of `Encrypt` (or of the decrypted message)
//! goes over it. Issue 25's regression of section 7a was allocation and copying.

use peak_alloc::PeakAlloc;
use wecom_kf_types::callback::{CallbackEvent, CallbackQuery, Crypto, Envelope};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

#[test]
fn opening_a_callback_copies_neither_the_envelope_nor_the_message() {
    let crypto = Crypto::new(
        "benchToken2026",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        "ww1234567890abcdef",
    )
    .unwrap();
    // A long Token makes the message (and Encrypt) large beside any fixed overhead.
    let event = CallbackEvent::kf_msg_or_event(
        "ww1234567890abcdef",
        1_700_000_000,
        "ENC".repeat(2_000),
        "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw",
    );
    let sealed = crypto.seal(
        [7; 16],
        "1700000000",
        "1372623149",
        event.to_xml().as_bytes(),
    );
    let query = CallbackQuery::parse(&sealed.query()).unwrap();
    let body = sealed.body.as_bytes();
    let encrypt = Envelope::parse(body).unwrap().encrypt.len();

    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let xml = crypto.open(&query, body).unwrap();
    let opened = ALLOC.peak_usage() - base;
    // Base64 decodes to 3/4 of the text: that buffer, returned as the XML, is all.
    assert!(
        opened < encrypt,
        "opening held {opened} bytes at its peak; Encrypt is {encrypt} bytes"
    );

    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let parsed = CallbackEvent::parse(&xml).unwrap();
    let parsing = ALLOC.peak_usage() - base;
    assert_eq!(parsed, event);
    // The event's own strings: the Token is most of the message.
    assert!(
        parsing < xml.len() + 256,
        "parsing held {parsing} bytes at its peak; the message is {} bytes",
        xml.len()
    );
}
