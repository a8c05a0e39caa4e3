//! A faithful local 微信客服 (WeCom kf) server, persisted in SQLite.
//!
//! It accepts what the real service accepts and rejects what it rejects, with the same
//! errcode and response shape (see `docs/kf-api.md`), so tests, demos and CI can run
//! without WeCom credentials. It binds 127.0.0.1 unless told otherwise.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use wecom_kf_emulator::{Config, spawn};
//!
//! let running = spawn(Config::default()).await?;      // 127.0.0.1:0, in-memory SQLite
//! println!("point your client at {}", running.base_url());
//! let stats = running.emulator().stats();              // the control plane, in process
//! assert_eq!(stats.requests.get("/cgi-bin/gettoken"), None);
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Control plane (`/__emulator/…`, for tests and demos): `GET stats`, `POST reset`,
//! `POST accounts` (seed a console-created account), `POST tokens/revoke`,
//! `POST tokens/expire`, `POST|GET|DELETE faults`, `POST clock`, `GET media/{id}`.
//!
//! The layers, each in its own folder: `api/` (decode the request, call the world,
//! encode the answer) and `control/` both call `world/` (the rules of 微信客服), which
//! reads and commits through `store/` (SQLite and its mirror, one file per table);
//! `state` is the infrastructure every call passes (clock, counters, faults, rate
//! limits, auth), and `running` puts it on a socket.

mod api;
mod blobs;
mod config;
pub mod control;
mod http;
mod ids;
mod push;
mod rejection;
mod running;
mod state;
mod store;
mod world;

pub use api::{api_paths, check_request};
pub use config::{Config, DEMO_CORP_ID, DEMO_SECRET, FIRST_AGENT_ID};
pub use control::CUSTOMER_MEDIA_MAX_BYTES;
pub use control::registry::control_routes;
pub use control::{Command, Done, Verb};
pub use http::faults::{Fault, FaultRule};
pub use push::{Delivery, Setting as CallbackSetting};
pub use rejection::Rejection;
pub use running::{Running, router, serve, spawn, spawn_on};
pub use state::{Emulator, Stats};
pub use store::AgentId;

/// The avatar of accounts made in the admin console (a PNG), served at
/// `/__emulator/avatar/default.png`. Tests and demos upload it as a valid image.
pub const DEFAULT_AVATAR_PNG: &[u8] = include_bytes!("default-avatar.png");
