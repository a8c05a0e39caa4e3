//! # wecom-kf
//!
//! An async client for WeCom 微信客服 (WeChat Customer Service): typed requests and
//! responses, an access_token that manages itself, errors that say what happened,
//! validation before sending, safe retries, tracing, and secrets that never leak.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//!
//! # async fn demo() -> Result<(), wecom_kf::Error> {
//! let client = wecom_kf::Client::builder()
//!     .corp_id("ww1234567890abcdef")
//!     .secret(std::env::var("WECOM_KF_SECRET").unwrap_or_default())
//!     .build()?;
//!
//! let open_kfid = client.account().add_with_avatar("售后客服", "avatar.png").await?;
//! let link = client.account().contact_link(&open_kfid, Some("spring_sale")).await?;
//! let accounts: Vec<_> = client.account().list_all().try_collect().await?;
//! println!("{link}: {} accounts", accounts.len());
//! # Ok(()) }
//! ```
//!
//! Point [`ClientBuilder::base_url`] at the `wecom-kf-emulator` to run all of it offline.
//!
//! ## What happens on failure
//! * Bad input is an [`Error::Validation`] naming the field, the limit and what was
//!   given; nothing is sent.
//! * A non-zero errcode is an [`Error::Api`] with its [`ErrCode`]: meaning
//!   in Chinese and English, and the look-up URL.
//! * 40001/40014/42001: the token is dropped (only if it is still the one that failed),
//!   one task fetches a new one, and the call is retried exactly once.
//! * `-1`, 5xx, timeouts and broken connections: reads and idempotent calls retry with
//!   exponential backoff and jitter ([`RetryPolicy`]); `kf/account/add` is never retried
//!   once it may have reached the server and fails with [`Error::OutcomeUnknown`].
//! * Neither `corpsecret` nor `access_token` appears in any `Display`, `Debug`, error
//!   source or tracing output.

#[cfg(feature = "callback")]
pub mod callback;
mod client;
#[cfg(feature = "consumer")]
pub mod consumer;
mod error;
pub mod kf;
pub mod media;
pub mod private_file;
#[cfg(feature = "redis")]
mod redis;
mod retry;
pub mod token;
mod transport;

pub use client::{Client, ClientBuilder};
pub use error::{BoxError, Error};
pub use retry::RetryPolicy;
/// The wire model (`wecom-kf-types`), re-exported.
pub use wecom_kf_types as types;
pub use wecom_kf_types::{ErrCode, Secret};

/// The result of a client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}
    fn stream_is_send<S: Send>(_: &S) {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<crate::Client>();
        assert_send_sync::<crate::ClientBuilder>();
        assert_send_sync::<crate::Error>();
        assert_send_sync::<crate::token::TokenCache>();
        assert_send_sync::<crate::kf::account::AccountApi>();
        let client = crate::Client::builder()
            .corp_id("c")
            .secret("s")
            .build()
            .unwrap();
        stream_is_send(&client.account().list_all());
    }
}
