//! Fuzz the YAML layer and the whole plan (parse -> rules -> patch -> verify) with the shared
//! oracle in `fuzz/oracle.rs`: a clean error, or a repaired text that differs from the input
//! only inside the edited spans, re-parses, and needs nothing more.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracle.rs"]
mod oracle;

fuzz_target!(|data: &[u8]| {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        // No credential plugin may be run from fuzzed input (rules ask `aws --version`).
        std::env::set_var("PATH", "");
        std::env::remove_var("KUBECONFIG");
        std::env::set_var("HOME", "/nonexistent/kubefix-fuzz-home");
    });
    oracle::check(data);
});
