//! Fuzzes the TCF and GPP decoders: any input must decode or fail with an error (never panic),
//! and whatever decodes must survive an encode/decode round trip unchanged.
#![no_main]

use keel_consent::{ConsentString, decode_consent_string, decode_gpp_string, decode_tc_string};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    if let Ok(tc) = decode_tc_string(input) {
        // Encoding may refuse values the decoder accepts (e.g. far-future dates); that is fine.
        if let Ok(encoded) = tc.encode() {
            assert_eq!(decode_tc_string(&encoded).ok(), Some(tc));
        }
    }
    if let Ok(gpp) = decode_gpp_string(input) {
        if let Ok(encoded) = gpp.encode() {
            assert_eq!(decode_gpp_string(&encoded).ok(), Some(gpp));
        }
    }
    if let Ok(ConsentString::Tcf(tc)) = decode_consent_string(input) {
        assert_eq!(tc.version, 2);
    }
});
