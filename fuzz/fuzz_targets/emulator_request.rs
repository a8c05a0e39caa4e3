//! The emulator's request parsing and validation must never panic: every body gets
//! `Ok` or an errcode. The first byte picks the endpoint.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

/// Every JSON endpoint of the emulator's registry, and one path it does not serve.
static PATHS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    wecom_kf_emulator::api_paths()
        .filter(|&(_, json)| json)
        .map(|(path, _)| path)
        .chain(["/cgi-bin/kf/unknown"])
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let path = PATHS[usize::from(selector) % PATHS.len()];
    if let Err(rejection) = wecom_kf_emulator::check_request(path, body) {
        assert_ne!(rejection.code.get(), 0);
    }
});
