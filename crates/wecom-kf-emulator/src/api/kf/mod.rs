//! `/cgi-bin/kf/…`: one module per family, mirroring the URL. Each decodes the request,
//! calls the world, and encodes the answer.

pub(super) mod account;
pub(super) mod contact_way;
pub(super) mod customer;
pub(super) mod knowledge;
pub(super) mod qualification;
pub(super) mod recall_msg;
pub(super) mod send_msg;
pub(super) mod send_msg_on_event;
pub(super) mod service_state;
pub(super) mod servicer;
pub(super) mod statistic;
pub(super) mod sync_msg;
