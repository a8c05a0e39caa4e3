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
