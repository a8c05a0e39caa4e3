//! What every request passes on its way in and out, whatever it asks: the accept loop
//! (`accept`), the service's answer shape (`reply`), the call log the console shows
//! (`calls`) and the injected faults (`faults`). The domain knows none of it.

pub(crate) mod accept;
pub(crate) mod calls;
pub(crate) mod faults;
pub(crate) mod reply;
