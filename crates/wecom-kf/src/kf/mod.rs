//! `/cgi-bin/kf/…`: the 微信客服 API families, one module each, mirroring the URL.

pub mod account;
pub mod contact_way;
pub mod customer;
pub mod knowledge;
pub mod message;
pub mod qualification;
pub mod service_state;
pub mod servicer;
pub mod statistic;
