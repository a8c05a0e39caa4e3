//! The endpoints the emulator serves, one list per family. The router, the request
//! checks (`check_request`) and every test that walks the API read their paths here,
//! so adding an endpoint is one line in its family's list.

use std::sync::Arc;

use axum::routing::{MethodRouter, any};

use super::{Handle, check, endpoint};
use crate::rejection::Rejection;
use crate::state::Emulator;

/// Decode and validate a request body as the endpoint would, touching no state.
pub(crate) type Check = fn(&[u8]) -> Result<(), Rejection>;

/// One path of `/cgi-bin/`: how to route it and, for JSON endpoints, how its body is
/// decoded and validated before any state is touched.
pub(crate) struct Route {
    /// e.g. `/cgi-bin/kf/account/add`.
    pub path: &'static str,
    /// The handler, for every HTTP method (a wrong one is answered in JSON too).
    pub handler: fn() -> MethodRouter<Arc<Emulator>>,
    /// Decode and validate a `POST` body; `None` for non-JSON endpoints.
    pub check: Option<Check>,
}

impl Route {
    /// A JSON endpoint served by the shared pipeline.
    pub(crate) const fn json<E: Handle>() -> Route {
        Route {
            path: E::PATH,
            handler: json_handler::<E>,
            check: Some(check::<E>),
        }
    }
}

fn json_handler<E: Handle>() -> MethodRouter<Arc<Emulator>> {
    any(endpoint::<E>)
}

/// Every family's list.
pub(crate) const FAMILIES: &[&[Route]] = &[
    super::gettoken::ROUTES,
    super::media::ROUTES,
    super::kf::account::ROUTES,
    super::kf::contact_way::ROUTES,
    super::kf::servicer::ROUTES,
    super::kf::service_state::ROUTES,
    super::kf::customer::ROUTES,
    super::kf::statistic::ROUTES,
    super::kf::qualification::ROUTES,
    super::kf::sync_msg::ROUTES,
    super::kf::send_msg::ROUTES,
    super::kf::send_msg_on_event::ROUTES,
    super::kf::recall_msg::ROUTES,
    super::kf::knowledge::ROUTES,
];

/// Every route, in family order.
pub(crate) fn routes() -> impl Iterator<Item = &'static Route> {
    FAMILIES.iter().flat_map(|family| family.iter())
}
