//! The control routes, one list per topic. The router, [`control_routes`] and every
//! test that walks the plane read them here, so adding a control call is one command
//! type and one line in its topic's list.

use std::sync::Arc;

use axum::routing::MethodRouter;

use super::{Command, Verb};
use crate::state::Emulator;

/// One control route.
pub(crate) struct Route {
    /// `GET`, `POST` or `DELETE`.
    pub verb: Verb,
    /// e.g. `/__emulator/customers/{external_userid}/send`.
    pub path: &'static str,
    /// Its handler.
    pub handler: fn() -> MethodRouter<Arc<Emulator>>,
}

impl Route {
    /// A command, served by the generic handler.
    pub(crate) const fn command<C: Command>() -> Route {
        Route {
            verb: C::METHOD,
            path: C::PATH,
            handler: super::handler::<C>,
        }
    }

    /// A command whose route answers in a way of its own (a stream of its answers),
    /// through `handler`, which must guard it with `super::guard` too.
    pub(crate) const fn custom<C: Command>(handler: fn() -> MethodRouter<Arc<Emulator>>) -> Route {
        Route {
            verb: C::METHOD,
            path: C::PATH,
            handler,
        }
    }
}

/// Every topic's list.
const TOPICS: &[&[Route]] = &[
    super::stats::ROUTES,
    super::accounts::ROUTES,
    super::tokens::ROUTES,
    super::faults::ROUTES,
    super::clock::ROUTES,
    super::directory::ROUTES,
    super::media::ROUTES,
    super::customers::ROUTES,
    super::servicers::ROUTES,
    super::callbacks::ROUTES,
    super::console::ROUTES,
];

/// Every route, in topic order.
pub(crate) fn routes() -> impl Iterator<Item = &'static Route> {
    TOPICS.iter().flat_map(|topic| topic.iter())
}

/// Every control route the emulator serves, as (method, path template): the same list
/// the router is built from. Tests and the docs walk the plane from it.
pub fn control_routes() -> impl Iterator<Item = (&'static str, &'static str)> {
    routes().map(|route| (route.verb.name(), route.path))
}
