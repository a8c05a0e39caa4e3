//! WXBizMsgCrypt (docs/kf-api.md §5.4): the signature, AES-256-CBC with IV = key[0..16],
//! PKCS#7 padding to 32-byte blocks, and the layout `random16 ‖ len_be32 ‖ msg ‖
//! receiveid`. Pure: the 16 random bytes of an encryption are the caller's.

use std::fmt;

use aes::cipher::{
    BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit, block_padding::NoPadding,
};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use super::CryptoError;
use crate::Secret;

type Decryptor = cbc::Decryptor<aes::Aes256Dec>;
type Encryptor = cbc::Encryptor<aes::Aes256Enc>;

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The PKCS#7 block of WXBizMsgCrypt: 32 bytes, not AES's 16.
const PAD_BLOCK: usize = 32;
/// An EncodingAESKey is 43 characters of base64 without its final `=`.
pub const ENCODING_AES_KEY_CHARS: usize = 43;
/// The callback Token: letters and digits, at most 32 characters (the admin console's rule).
pub const TOKEN_MAX_CHARS: usize = 32;

/// Decodes an EncodingAESKey: WeCom's keys are 43 random characters, so the unused
/// low bits of the last one are random too; they are ignored, as every official SDK does.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// The 32-byte AES key and its two key schedules, expanded once in [`Crypto::new`]
/// instead of on every open (the expansion was a tenth of an open's code); never
/// printed.
#[derive(Clone)]
struct AesKey {
    /// The IV is the key's first 16 bytes.
    iv: [u8; 16],
    decrypt: aes::Aes256Dec,
    encrypt: aes::Aes256Enc,
}

impl AesKey {
    fn new(key: &[u8; 32]) -> AesKey {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&key[..16]);
        AesKey {
            iv,
            decrypt: aes::Aes256Dec::new(key.into()),
            encrypt: aes::Aes256Enc::new(key.into()),
        }
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The callback settings of an app: its Token, its EncodingAESKey and the receiveid (the
/// corp id for a self-built app). `Debug` shows neither secret.
///
/// ```
/// use wecom_kf_types::callback::Crypto;
///
/// let crypto = Crypto::new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7").unwrap();
/// let sealed = crypto.encrypt_with([7; 16], b"<xml>hi</xml>");
/// assert_eq!(crypto.decrypt(&sealed).unwrap(), b"<xml>hi</xml>");
/// assert_eq!(Crypto::new("t", "short", "ww1").unwrap_err().code(), -40004);
/// ```
#[derive(Clone)]
pub struct Crypto {
    token: Secret,
    key: AesKey,
    receive_id: String,
}

impl fmt::Debug for Crypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crypto")
            .field("token", &self.token)
            .field("key", &self.key)
            .field("receive_id", &self.receive_id)
            .finish()
    }
}

/// What is wrong with an EncodingAESKey, in words; never the key itself.
fn key_problem(key: &str) -> Option<String> {
    let n = key.chars().count();
    if n != ENCODING_AES_KEY_CHARS {
        return Some(format!(
            "the EncodingAESKey must be {ENCODING_AES_KEY_CHARS} characters, got {n}{}",
            if n == ENCODING_AES_KEY_CHARS + 1 && key.ends_with('=') {
                " (leave out the trailing '=': WeCom adds it)"
            } else {
                ""
            }
        ));
    }
    if let Some((at, bad)) = key
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        return Some(format!(
            "the EncodingAESKey must be letters and digits only; character {} is {bad:?}",
            at + 1
        ));
    }
    None
}

impl Crypto {
    /// The crypto of one callback setting. The key is checked here: 43 letters and
    /// digits that decode to 32 bytes (-40004 otherwise, saying what is wrong).
    pub fn new(
        token: impl Into<Secret>,
        encoding_aes_key: &str,
        receive_id: impl Into<String>,
    ) -> Result<Crypto, CryptoError> {
        let token = token.into();
        if token.is_empty() {
            return Err(CryptoError::IllegalAesKey("the Token is empty".into()));
        }
        if let Some(problem) = key_problem(encoding_aes_key) {
            return Err(CryptoError::IllegalAesKey(problem));
        }
        let bytes = KEY_ENGINE
            .decode(format!("{encoding_aes_key}="))
            .map_err(|e| {
                CryptoError::IllegalAesKey(format!("the EncodingAESKey is not base64: {e}"))
            })?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            CryptoError::IllegalAesKey("the EncodingAESKey does not decode to 32 bytes".into())
        })?;
        Ok(Crypto {
            token,
            key: AesKey::new(&key),
            receive_id: receive_id.into(),
        })
    }

    /// The receiveid checked on decryption and appended on encryption.
    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// `msg_signature`: hex(sha1(the sorted concatenation of token, timestamp, nonce and
    /// the encrypted text)).
    pub fn sign(&self, timestamp: &str, nonce: &str, encrypted: &str) -> String {
        self.signature(timestamp, nonce, encrypted)
            .iter()
            .map(|&b| char::from(b))
            .collect()
    }

    /// The signature's 40 hex digits, on the stack.
    fn signature(&self, timestamp: &str, nonce: &str, encrypted: &str) -> [u8; 40] {
        let mut parts = [self.token.expose(), timestamp, nonce, encrypted];
        // Four items: an insertion sort, a few compares, instead of the general sort's code.
        for i in 1..parts.len() {
            let mut j = i;
            while j > 0 && parts[j - 1] > parts[j] {
                parts.swap(j - 1, j);
                j -= 1;
            }
        }
        let mut sha = Sha1::new();
        for part in parts {
            sha.update(part.as_bytes());
        }
        let mut hex = [0u8; 40];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(sha.finalize()) {
            pair[0] = HEX_DIGITS[usize::from(byte >> 4)];
            pair[1] = HEX_DIGITS[usize::from(byte & 0xf)];
        }
        hex
    }

    /// Check a `msg_signature` in constant time (-40001 on a mismatch).
    pub fn verify(
        &self,
        signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypted: &str,
    ) -> Result<(), CryptoError> {
        let expected = self.signature(timestamp, nonce, encrypted);
        let given = signature.as_bytes();
        // Hex may come in upper case; lower it byte by byte, without allocating.
        let same = expected
            .iter()
            .zip(given)
            .fold(subtle::Choice::from(1), |same, (e, g)| {
                same & e.ct_eq(&g.to_ascii_lowercase())
            });
        if given.len() == expected.len() && bool::from(same) {
            Ok(())
        } else {
            Err(mismatch())
        }
    }

    /// Encrypt `plaintext` with the 16 random bytes given: base64 of
    /// AES-256-CBC(`random16 ‖ len_be32 ‖ plaintext ‖ receiveid`, PKCS#7/32).
    pub fn encrypt_with(&self, random16: [u8; 16], plaintext: &[u8]) -> String {
        let len = u32::try_from(plaintext.len()).unwrap_or(u32::MAX);
        let mut buf = Vec::with_capacity(20 + plaintext.len() + self.receive_id.len() + PAD_BLOCK);
        buf.extend_from_slice(&random16);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(plaintext);
        buf.extend_from_slice(self.receive_id.as_bytes());
        let pad = PAD_BLOCK - buf.len() % PAD_BLOCK;
        // 1..=32, so it fits a byte.
        buf.resize(buf.len() + pad, u8::try_from(pad).unwrap_or(32));
        let len = buf.len();
        let encrypted = Encryptor::inner_iv_init(self.key.encrypt.clone(), (&self.key.iv).into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        STANDARD.encode(encrypted)
    }

    /// Decrypt a base64 `Encrypt` (or `echostr`): the message, once the padding, the
    /// length and the receiveid check out.
    pub fn decrypt(&self, encrypted: &str) -> Result<Vec<u8>, CryptoError> {
        let mut buf = STANDARD
            .decode(encrypted.trim())
            .map_err(|e| not_base64(&e))?;
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(not_whole_blocks(buf.len()));
        }
        let plain = Decryptor::inner_iv_init(self.key.decrypt.clone(), (&self.key.iv).into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| aes_failed())?;
        let pad = usize::from(*plain.last().unwrap_or(&0));
        if pad == 0
            || pad > PAD_BLOCK
            || pad > plain.len()
            || plain[plain.len() - pad..]
                .iter()
                .any(|&b| usize::from(b) != pad)
        {
            return Err(bad_padding());
        }
        let plain = &plain[..plain.len() - pad];
        if plain.len() < 20 {
            return Err(too_short());
        }
        let len_bytes: [u8; 4] = plain[16..20].try_into().unwrap_or_default();
        let len = u32::from_be_bytes(len_bytes) as usize;
        if plain.len() - 20 < len {
            return Err(short_message(len, plain.len() - 20));
        }
        let receive_id = &plain[20 + len..];
        if receive_id != self.receive_id.as_bytes() {
            return Err(self.other_receive_id(receive_id));
        }
        // The message, moved to the front of the buffer it was decrypted in.
        buf.truncate(20 + len);
        buf.drain(..20);
        Ok(buf)
    }

    #[cold]
    #[inline(never)]
    fn other_receive_id(&self, got: &[u8]) -> CryptoError {
        CryptoError::ReceiveIdMismatch {
            expected: self.receive_id.clone(),
            got: String::from_utf8_lossy(got).chars().take(64).collect(),
        }
    }
}

// The errors of a decryption, built out of line so that the checks stay small.

#[cold]
#[inline(never)]
fn mismatch() -> CryptoError {
    CryptoError::SignatureMismatch
}

#[cold]
#[inline(never)]
fn not_base64(e: &base64::DecodeError) -> CryptoError {
    CryptoError::Base64Decode(e.to_string())
}

#[cold]
#[inline(never)]
fn not_whole_blocks(len: usize) -> CryptoError {
    CryptoError::AesDecrypt(format!(
        "the ciphertext is {len} bytes, not a whole number of 16-byte AES blocks"
    ))
}

#[cold]
#[inline(never)]
fn aes_failed() -> CryptoError {
    CryptoError::AesDecrypt("AES-CBC failed".into())
}

#[cold]
#[inline(never)]
fn bad_padding() -> CryptoError {
    CryptoError::IllegalBuffer(
        "the PKCS#7 padding is wrong: the EncodingAESKey is probably not the one WeCom uses".into(),
    )
}

#[cold]
#[inline(never)]
fn too_short() -> CryptoError {
    CryptoError::IllegalBuffer("shorter than its 16 random bytes and 4-byte length".into())
}

#[cold]
#[inline(never)]
fn short_message(len: usize, follow: usize) -> CryptoError {
    CryptoError::IllegalBuffer(format!(
        "the length field says {len} bytes but only {follow} follow"
    ))
}
