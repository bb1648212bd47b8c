//! `keel consent decode`: JSON output for good strings, a coded error and exit 1 for bad ones.

#![allow(clippy::expect_used)] // test helper outside #[test] functions

use std::process::Command;

fn decode(string: &str) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["consent", "decode", string])
        .output()
        .expect("run keel");
    let json = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    (out.status.code().expect("exit code"), json)
}

#[test]
fn decodes_a_tc_string() {
    let (code, json) =
        decode("COs4aF6P1QVvUfe7GOIT1kCAAMVc9jqzgTK4AUAlIOq63AA4CQgAAAAA.YvfC8FYCAdYA");
    assert_eq!(code, 0);
    assert_eq!(json["format"], "tcf");
    assert_eq!(json["cmp_id"], 2014);
    assert_eq!(json["vendor_list_version"], 3428);
    assert!(
        json["purpose_consents"]
            .as_array()
            .expect("array")
            .contains(&1.into())
    );
    assert!(json["publisher_tc"].is_object());
}

#[test]
fn decodes_a_gpp_string() {
    let (code, json) = decode(
        "DBADOvM~COyzF8AOyzF8ASZgv8FR0XF9mQbhewBB0S44CVASomJNgKIDfhKQkjAEixIAEaKltARAI4AQ4WiRAisIkCSwTxCBAMMkSJASKBBDAABQwYCw3xEihYIQSOgCkAAQAAAA.IBkMEpmpQvmfNdZNttK_wqUFHbn3FK-ynMfBEAAA.ZAXroQQsBDdEgAAA~BSIlWSg~BkigYJg~BiYaQaUA",
    );
    assert_eq!(code, 0);
    assert_eq!(json["format"], "gpp");
    assert_eq!(
        json["header"]["section_ids"],
        serde_json::json!([2, 9, 10, 12])
    );
    assert_eq!(json["sections"]["tcfeuv2"]["cmp_id"], 1177);
    assert!(json["sections"]["usva"]["sale_opt_out"].is_number());
}

#[test]
fn malformed_string_exits_1_with_a_coded_error() {
    let (code, json) = decode("COs4aF6P1QVvUfe7GOIT1kCAAMVc9jqzgTK4AUAlIOq63AA4CQgAAAAA.IAAA.IAAA");
    assert_eq!(code, 1);
    assert_eq!(json["error"]["kind"]["code"], "duplicate_segment");
    assert_eq!(json["error"]["segment"], 2);
    let (code, json) = decode("COs4aF6P1QVvUfe7");
    assert_eq!(code, 1);
    assert_eq!(json["error"]["kind"]["code"], "truncated");
    assert!(json["error"]["bit_offset"].is_number());
}
