//! The import pipeline on a deliberately messy Salesforce Lead export with known bad rows.

use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use keel_contacts::contract::default_contact_contract;
use keel_contacts::import::{ImportOptions, Layout, import_csv_bytes, import_json_lines};
use keel_contacts::{ContactsError, FieldValue};

const MESSY: &[u8] = include_bytes!("../testdata/messy-salesforce-leads.csv");

#[allow(clippy::unwrap_used)] // test helper
fn options() -> ImportOptions {
    ImportOptions {
        source: "messy-salesforce-leads.csv".into(),
        at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
    }
}

#[test]
fn messy_file_exact_counts_and_reasons() {
    let contract = default_contact_contract().unwrap();
    let map = Layout::SalesforceLead.field_map().unwrap();
    let out = import_csv_bytes(MESSY, None, &map, &contract, &options(), &HashSet::new()).unwrap();
    assert_eq!(out.rows_read, 18);
    assert_eq!(out.accepted.len(), 7);
    assert_eq!(out.quarantined.len(), 10);
    assert_eq!(out.unchanged.len(), 1);
    assert_eq!(out.unchanged[0].0, 10, "row 10 repeats row 1 exactly");

    let accepted_rows: Vec<u64> = out.accepted.iter().map(|a| a.row).collect();
    assert_eq!(accepted_rows, vec![1, 2, 11, 14, 15, 17, 18]);

    let reasons: Vec<(u64, Vec<String>)> = out
        .quarantined
        .iter()
        .map(|q| {
            (
                q.row,
                q.reasons
                    .iter()
                    .map(|r| format!("{}: {}", r.field, r.reason))
                    .collect(),
            )
        })
        .collect();
    let expected: Vec<(u64, Vec<&str>)> = vec![
        (3, vec!["last_name: required field is missing"]),
        (4, vec!["email: has no `@`"]),
        (
            5,
            vec![
                "phone: not a phone number (the number is too short after the country code)",
                "country: `Atlantis` is not a known country name or ISO 3166 code",
            ],
        ),
        (6, vec!["employees: is less than the minimum 0"]),
        (
            7,
            vec![
                "lead_source: is not one of: Web, Phone Inquiry, Partner Referral, Purchased List, Trade Show, Webinar, Word of mouth, Advertisement, Employee Referral, Other",
            ],
        ),
        (
            8,
            vec![
                "email_opt_out: is not true/false, yes/no or 1/0",
                "source_created_at: is not a date-time in an accepted format",
            ],
        ),
        (9, vec!["row: row has 5 cells but the header has 15"]),
        (
            12,
            vec![
                "email: required field is missing",
                "last_name: required field is missing",
            ],
        ),
        (13, vec!["website: scheme `ftp` is not http or https"]),
        (16, vec!["annual_revenue: is not a decimal number"]),
    ];
    let expected: Vec<(u64, Vec<String>)> = expected
        .into_iter()
        .map(|(r, v)| (r, v.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(reasons, expected);

    // Quarantined rows keep their raw cells so they can be fixed and replayed.
    let q = &out.quarantined[0];
    assert_eq!(q.raw[0], ("Id".to_string(), "00Q000000000003".to_string()));
    assert_eq!(q.line, Some(4));

    // Accepted values are normalised.
    let ann = &out.accepted[0].record;
    assert_eq!(ann.id, "salesforce:00Q000000000001");
    assert_eq!(ann.text("email"), Some("ann.smith@acme.com"));
    assert_eq!(ann.text("first_name"), Some("Ann"));
    assert_eq!(ann.text("last_name"), Some("Smith"));
    assert_eq!(ann.text("phone"), Some("+14155552671"));
    assert_eq!(ann.text("country"), Some("US"));
    assert_eq!(ann.text("website"), Some("https://acme.com"));
    assert_eq!(ann.get("employees"), Some(&FieldValue::Integer(1200)));
    assert_eq!(
        ann.get("annual_revenue"),
        Some(&FieldValue::Decimal("5000000".into()))
    );
    assert_eq!(ann.text("lead_status"), Some("Open - Not Contacted"));
    assert_eq!(ann.lineage["email"].system.as_ref(), "salesforce");
    assert_eq!(
        ann.lineage["email"].at,
        Utc.with_ymd_and_hms(2024, 6, 1, 10, 0, 0).unwrap()
    );
    let bob = &out.accepted[1].record;
    assert_eq!(bob.text("lead_source"), Some("Trade Show"));
    assert_eq!(bob.text("phone"), Some("+4930901820"));
    let gina = &out.accepted[2].record;
    assert_eq!(gina.text("last_name"), Some("O'Neil"));
    assert_eq!(gina.text("country"), Some("GB"));
    assert_eq!(gina.text("lead_source"), Some("Partner Referral"));
    assert_eq!(gina.get("email_opt_out"), Some(&FieldValue::Boolean(true)));
    let hank = &out.accepted[3].record;
    assert_eq!(hank.text("email"), Some("hank@hill.com"));
    assert_eq!(hank.text("first_name"), Some("Hank"));
    let jurgen = &out.accepted[5].record;
    assert_eq!(jurgen.text("country"), Some("DE"));
    assert_eq!(jurgen.text("last_name"), Some("Müller"));
}

#[test]
fn reimporting_the_same_file_changes_nothing() {
    let contract = default_contact_contract().unwrap();
    let map = Layout::SalesforceLead.field_map().unwrap();
    let first =
        import_csv_bytes(MESSY, None, &map, &contract, &options(), &HashSet::new()).unwrap();
    let seen: HashSet<String> = first.accepted.iter().map(|a| a.key.clone()).collect();
    let again = import_csv_bytes(MESSY, None, &map, &contract, &options(), &seen).unwrap();
    assert!(again.accepted.is_empty());
    assert_eq!(again.unchanged.len(), 8);
    assert_eq!(again.quarantined, first.quarantined);

    // A changed value gives a new key, so the change is imported.
    let edited = String::from_utf8(MESSY.to_vec())
        .unwrap()
        .replace("Acme Inc,Ann", "Acme Incorporated,Ann");
    let third =
        import_csv_bytes(edited.as_bytes(), None, &map, &contract, &options(), &seen).unwrap();
    assert_eq!(
        third.accepted.len(),
        1,
        "the edited row is new; its repeat is not"
    );
    assert_eq!(third.unchanged.len(), 7);
}

#[test]
fn header_mismatch_is_one_clear_error() {
    let contract = default_contact_contract().unwrap();
    let map = Layout::SalesforceLead.field_map().unwrap();
    let csv = "Id,FirstName,Surname,EmailAddress,Phone\n1,a,b,c,d\n";
    let err = import_csv_bytes(
        csv.as_bytes(),
        None,
        &map,
        &contract,
        &options(),
        &HashSet::new(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the header does not match field map `salesforce-lead`; missing columns: LastName, Email; unknown columns: Surname, EmailAddress"
    );
    let ContactsError::Header(m) = err else {
        panic!("not a header error")
    };
    assert_eq!(m.missing, vec!["LastName", "Email"]);
}

#[test]
fn non_utf8_files_fail_clearly_or_decode_when_declared() {
    let contract = default_contact_contract().unwrap();
    let map = Layout::SalesforceLead.field_map().unwrap();
    // "Müller" in Windows-1252: ü is the single byte 0xFC.
    let mut bytes = b"Id,LastName,Email\n1,M".to_vec();
    bytes.push(0xFC);
    bytes.extend_from_slice(b"ller,m@example.com\n");
    let err =
        import_csv_bytes(&bytes, None, &map, &contract, &options(), &HashSet::new()).unwrap_err();
    assert!(
        matches!(
            err,
            ContactsError::Encoding {
                offset: 21,
                line: 2
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("Windows-1252"));

    let latin1 = keel_contacts::import::encoding_for_label("latin1");
    let out =
        import_csv_bytes(&bytes, latin1, &map, &contract, &options(), &HashSet::new()).unwrap();
    assert_eq!(out.accepted[0].record.text("last_name"), Some("Müller"));

    // A UTF-8 byte-order mark is stripped, not treated as part of the first column name.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(b"Id,LastName,Email\n1,Muller,m@example.com\n");
    let out = import_csv_bytes(&bom, None, &map, &contract, &options(), &HashSet::new()).unwrap();
    assert_eq!(out.accepted.len(), 1);
}

#[test]
fn json_lines_with_bad_lines() {
    let contract = default_contact_contract().unwrap();
    let map = Layout::HubspotContacts.field_map().unwrap();
    let input = r#"{"Record ID": 101, "First Name": "Ann", "Last Name": "Lee", "Email": "ann@lee.com", "Lifecycle Stage": "marketingqualifiedlead"}
not json

[1, 2]
{"Record ID": "102", "Last Name": "Roe", "Email": "roe@example.com", "Shoe Size": "9"}
{"Record ID": "103", "Last Name": null, "Email": "x@example.com"}
"#;
    let out = import_json_lines(
        input.as_bytes(),
        &map,
        &contract,
        &options(),
        &HashSet::new(),
    )
    .unwrap();
    assert_eq!(out.rows_read, 5);
    assert_eq!(out.accepted.len(), 1);
    assert_eq!(out.accepted[0].record.id, "hubspot:101");
    assert_eq!(out.accepted[0].record.text("lifecycle_stage"), Some("mql"));
    let reasons: Vec<String> = out
        .quarantined
        .iter()
        .map(|q| format!("{:?} {}", q.line, q.reasons[0].reason))
        .collect();
    assert_eq!(reasons.len(), 4);
    assert!(reasons[0].starts_with("Some(2) not valid JSON"));
    assert_eq!(reasons[1], "Some(4) line is not a JSON object");
    assert_eq!(
        reasons[2],
        "Some(5) column is not in field map `hubspot-contacts`"
    );
    assert_eq!(reasons[3], "Some(6) required field is missing");
}

#[test]
fn builtin_layouts_fit_the_default_contract() {
    let contract = default_contact_contract().unwrap();
    for layout in Layout::ALL {
        let map = layout.field_map().unwrap();
        assert_eq!(map.validate_against(&contract), vec![], "{layout:?}");
    }
}
