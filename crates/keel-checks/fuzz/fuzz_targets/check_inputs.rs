//! Fuzzes every entry point with arbitrary bytes: HTML emails, messages, pages and policies.
//! The property is the crate's promise: any input yields a report (or policy problems), never a
//! panic. Run with `cargo fuzz run check_inputs` from `crates/keel-checks`.
#![no_main]

use keel_checks::{Policy, check_email, check_message, check_page};
use libfuzzer_sys::fuzz_target;

/// One policy for all runs: its client-support verdicts are computed once.
static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let policy = POLICY.get_or_init(Policy::default);
    let _ = check_email(data, policy);
    let _ = check_message(data, policy);
    let _ = check_page(data, policy);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::from_yaml(text);
        let mut scan = keel_checks::css::Scan::default();
        keel_checks::css::scan_stylesheet(text, 0, &mut scan);
    }
});
