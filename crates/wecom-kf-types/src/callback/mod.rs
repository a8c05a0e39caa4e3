//! Callbacks (docs/kf-api.md §5), feature `callback`: the crypto of WXBizMsgCrypt, the
//! signed query, the XML envelope and the events inside it. Pure, no IO: the client's
//! receiver opens callbacks with it, the emulator seals them.
//!
//! ```
//! use wecom_kf_types::callback::{CallbackEvent, CallbackQuery, Crypto};
//!
//! let crypto = Crypto::new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ww1").unwrap();
//! let event = CallbackEvent::kf_msg_or_event("ww1", 1_700_000_000, "ENCtoken", "wk1");
//! let sealed = crypto.seal([1; 16], "1700000000", "nonce1", event.to_xml().as_bytes());
//! let query = CallbackQuery::parse(&sealed.query()).unwrap();
//! let opened = crypto.open(&query, sealed.body.as_bytes()).unwrap();
//! assert_eq!(CallbackEvent::parse(&opened).unwrap(), event);
//! ```

mod crypto;
mod xml;

pub use crypto::{Crypto, ENCODING_AES_KEY_CHARS, TOKEN_MAX_CHARS};
pub use xml::{CallbackEvent, Envelope, MAX_BODY_BYTES};

/// Why a callback could not be opened: the WXBizMsgCrypt code (`-400xx`) and a sentence
/// saying which check failed. Never a secret in it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// -40001: `msg_signature` does not match.
    #[error(
        "-40001 signature mismatch: msg_signature is not sha1(sort(Token, timestamp, nonce, Encrypt)); check the Token (and that msg_signature, not signature, is used)"
    )]
    SignatureMismatch,
    /// -40001: a query parameter needed to check the signature is missing.
    #[error("-40001 cannot check the signature: the query has no {0}")]
    MissingParameter(&'static str),
    /// -40001: the timestamp is outside the accepted window (a replay, or a clock off).
    #[error(
        "-40001 timestamp {timestamp} is {off} seconds away from now, more than the {window} s allowed"
    )]
    Stale {
        /// The timestamp sent.
        timestamp: i64,
        /// Seconds away from now.
        off: i64,
        /// The window allowed.
        window: i64,
    },
    /// -40002: the body is not the expected XML.
    #[error("-40002 XML: {0}")]
    ParseXml(String),
    /// -40004: the EncodingAESKey (or Token) is unusable.
    #[error("-40004 illegal EncodingAESKey: {0}")]
    IllegalAesKey(String),
    /// -40005: the receiveid inside does not match (another corp's or app's callback).
    #[error("-40005 receiveid mismatch: expected {expected:?}, the message is for {got:?}")]
    ReceiveIdMismatch {
        /// The corp id configured.
        expected: String,
        /// The one in the message.
        got: String,
    },
    /// -40007: AES decryption failed.
    #[error("-40007 AES decrypt: {0}")]
    AesDecrypt(String),
    /// -40008: the decrypted buffer is malformed (wrong key, or corrupted).
    #[error("-40008 illegal buffer after decryption: {0}")]
    IllegalBuffer(String),
    /// -40010: `Encrypt` / `echostr` is not base64.
    #[error("-40010 base64 decode: {0}")]
    Base64Decode(String),
}

impl CryptoError {
    /// The WXBizMsgCrypt code.
    pub fn code(&self) -> i32 {
        match self {
            CryptoError::SignatureMismatch
            | CryptoError::MissingParameter(_)
            | CryptoError::Stale { .. } => -40001,
            CryptoError::ParseXml(_) => -40002,
            CryptoError::IllegalAesKey(_) => -40004,
            CryptoError::ReceiveIdMismatch { .. } => -40005,
            CryptoError::AesDecrypt(_) => -40007,
            CryptoError::IllegalBuffer(_) => -40008,
            CryptoError::Base64Decode(_) => -40010,
        }
    }
}

/// The signed query of a callback: `msg_signature`, `timestamp`, `nonce`, and for the
/// URL check `echostr`; URL-decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackQuery {
    /// `msg_signature` (not `signature`, which other WeChat products use).
    pub msg_signature: String,
    /// Unix seconds, as text.
    pub timestamp: String,
    /// A random string.
    pub nonce: String,
    /// The URL check's encrypted challenge.
    pub echostr: Option<String>,
}

impl CallbackQuery {
    /// Read a query string (`msg_signature=…&timestamp=…&nonce=…[&echostr=…]`).
    pub fn parse(query: &str) -> Result<CallbackQuery, CryptoError> {
        let mut q = CallbackQuery::default();
        let (mut signature, mut timestamp, mut nonce) = (false, false, false);
        for (key, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            match key.as_ref() {
                "msg_signature" => (q.msg_signature, signature) = (value.into_owned(), true),
                "timestamp" => (q.timestamp, timestamp) = (value.into_owned(), true),
                "nonce" => (q.nonce, nonce) = (value.into_owned(), true),
                "echostr" => q.echostr = Some(value.into_owned()),
                _ => {}
            }
        }
        let only_plain_signature = !signature
            && form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
                .any(|(k, _)| k == "signature");
        if only_plain_signature {
            return Err(CryptoError::MissingParameter(
                "msg_signature (it has `signature`, the parameter of other WeChat products: WeCom signs callbacks in msg_signature)",
            ));
        }
        for (present, name) in [
            (signature, "msg_signature"),
            (timestamp, "timestamp"),
            (nonce, "nonce"),
        ] {
            if !present {
                return Err(CryptoError::MissingParameter(name));
            }
        }
        Ok(q)
    }

    /// The timestamp as a number (-40001 if it is not one).
    pub fn unix_time(&self) -> Result<i64, CryptoError> {
        self.timestamp
            .parse()
            .map_err(|_| CryptoError::MissingParameter("numeric timestamp"))
    }

    /// The query string, encoded.
    pub fn encode(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("msg_signature", &self.msg_signature)
            .append_pair("timestamp", &self.timestamp)
            .append_pair("nonce", &self.nonce);
        if let Some(echostr) = &self.echostr {
            q.append_pair("echostr", echostr);
        }
        q.finish()
    }
}

/// A sealed callback: what WeCom sends, the query and the XML body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sealed {
    /// `msg_signature`.
    pub msg_signature: String,
    /// `timestamp`.
    pub timestamp: String,
    /// `nonce`.
    pub nonce: String,
    /// The base64 `Encrypt`.
    pub encrypt: String,
    /// `<xml><ToUserName/><AgentID/><Encrypt/></xml>`.
    pub body: String,
}

impl Sealed {
    /// The query string of the POST.
    pub fn query(&self) -> String {
        CallbackQuery {
            msg_signature: self.msg_signature.clone(),
            timestamp: self.timestamp.clone(),
            nonce: self.nonce.clone(),
            echostr: None,
        }
        .encode()
    }
}

impl Crypto {
    /// Seal a plaintext XML as WeCom sends it: encrypted with `random16`, signed, in the
    /// envelope.
    pub fn seal(
        &self,
        random16: [u8; 16],
        timestamp: &str,
        nonce: &str,
        plaintext: &[u8],
    ) -> Sealed {
        let encrypt = self.encrypt_with(random16, plaintext);
        let msg_signature = self.sign(timestamp, nonce, &encrypt);
        let body = Envelope {
            to_user_name: self.receive_id().to_owned(),
            agent_id: String::new(),
            encrypt: encrypt.clone(),
        }
        .to_xml();
        Sealed {
            msg_signature,
            timestamp: timestamp.to_owned(),
            nonce: nonce.to_owned(),
            encrypt,
            body,
        }
    }

    /// The URL check as the admin console makes it: `plaintext` encrypted with
    /// `random16` as the `echostr`, signed. The receiver must answer `plaintext`.
    pub fn url_check(
        &self,
        random16: [u8; 16],
        timestamp: &str,
        nonce: &str,
        plaintext: &str,
    ) -> CallbackQuery {
        let echostr = self.encrypt_with(random16, plaintext.as_bytes());
        CallbackQuery {
            msg_signature: self.sign(timestamp, nonce, &echostr),
            timestamp: timestamp.to_owned(),
            nonce: nonce.to_owned(),
            echostr: Some(echostr),
        }
    }

    /// The URL check: verify the signature over `echostr` and answer its plaintext.
    pub fn verify_url(&self, query: &CallbackQuery) -> Result<String, CryptoError> {
        let echostr = query
            .echostr
            .as_deref()
            .ok_or(CryptoError::MissingParameter("echostr"))?;
        self.verify(
            &query.msg_signature,
            &query.timestamp,
            &query.nonce,
            echostr,
        )?;
        let plain = self.decrypt(echostr)?;
        String::from_utf8(plain)
            .map_err(|_| CryptoError::IllegalBuffer("echostr is not UTF-8".into()))
    }

    /// Open a POST: parse the envelope, verify the signature, decrypt: the plaintext XML.
    pub fn open(&self, query: &CallbackQuery, body: &[u8]) -> Result<String, CryptoError> {
        // `Encrypt` is borrowed from the body: most of it, and only read here.
        let encrypt = xml::envelope_encrypt(body)?;
        self.verify(
            &query.msg_signature,
            &query.timestamp,
            &query.nonce,
            &encrypt,
        )?;
        let plain = self.decrypt(&encrypt)?;
        String::from_utf8(plain).map_err(|_| not_utf8())
    }
}

#[cold]
#[inline(never)]
fn not_utf8() -> CryptoError {
    CryptoError::IllegalBuffer("the decrypted message is not UTF-8".into())
}
