//! The emulator's request parsing and validation must never panic: every body gets
//! `Ok` or an errcode. The first byte picks the endpoint.
#![no_main]

use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 6] = [
    "/cgi-bin/kf/account/add",
    "/cgi-bin/kf/account/del",
    "/cgi-bin/kf/account/update",
    "/cgi-bin/kf/account/list",
    "/cgi-bin/kf/add_contact_way",
    "/cgi-bin/kf/unknown",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let path = PATHS[usize::from(selector) % PATHS.len()];
    if let Err(rejection) = wecom_kf_emulator::check_request(path, body) {
        assert_ne!(rejection.code.get(), 0);
    }
});
