//! Random ids in the shapes the real service uses.

use rand::Rng;
use rand::distr::Alphanumeric;

fn random(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// `wk` + 30 characters, like `wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw`.
pub fn open_kfid() -> String {
    format!("wk{}", random(30))
}

/// A 64-character temporary media id.
pub fn media_id() -> String {
    format!("3{}", random(63))
}

/// A 96-character access token.
pub fn access_token() -> String {
    random(96)
}

fn random_id_chars(n: usize) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// `wm` + 30 characters of `[0-9A-Za-z_-]`, like `wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw`.
pub fn external_userid() -> String {
    format!("wm{}", random_id_chars(30))
}

/// A message id, 32 characters.
pub fn msgid() -> String {
    random(32)
}

/// A `msg_code` / `welcome_code`, 43 characters like the real ones.
pub fn msg_code() -> String {
    random_id_chars(43)
}

/// A knowledge `group_id` or `intent_id`: 24 characters of `[0-9A-Za-z]` (the real shape
/// is not documented).
pub fn knowledge_id() -> String {
    random(24)
}
