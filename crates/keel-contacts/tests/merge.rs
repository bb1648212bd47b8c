//! Survivorship rules, conflicts, and un-merge restoring both originals byte for byte.

use chrono::{DateTime, TimeZone, Utc};
use keel_contacts::merge::{Rule, Side, SurvivorshipConfig, merge, unmerge};
use keel_contacts::{ContactsError, FieldValue, Lineage, ObjectKind, Record};

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, d, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.to_string())
}

fn record(id: &str, system: &str, at: u32, fields: &[(&str, FieldValue)]) -> Record {
    let mut r = Record::new(id, ObjectKind::Contact, system, day(1));
    for (k, v) in fields {
        r.set(
            *k,
            v.clone(),
            Lineage {
                system: system.into(),
                source: format!("{system}-sync").into(),
                at: day(at),
            },
        );
    }
    r
}

fn kept(m: &keel_contacts::merge::Merge, field: &str) -> Option<FieldValue> {
    m.record.get(field).cloned()
}

#[test]
fn unmerge_restores_both_originals_byte_identically() {
    let mut a = record(
        "c1",
        "salesforce",
        3,
        &[
            ("email", text("ann@acme.com")),
            ("first_name", text("Ann")),
            ("employees", FieldValue::Integer(120)),
            ("annual_revenue", FieldValue::Decimal("1200.5".into())),
            ("favourite_colour", text("teal")),
        ],
    );
    a.source_id = Some("00Q1".into());
    let b = record(
        "c2",
        "hubspot",
        9,
        &[
            ("email", text("ann@acme.com")),
            ("first_name", text("Annie")),
            ("phone", text("+14155552671")),
            ("email_opt_out", FieldValue::Boolean(true)),
            (
                "source_created_at",
                FieldValue::DateTime(Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap()),
            ),
        ],
    );
    let (bytes_a, bytes_b) = (a.canonical_bytes(), b.canonical_bytes());
    let m = merge(
        &a,
        &b,
        &SurvivorshipConfig::default(),
        day(20),
        "reviewer@acme.com",
    )
    .unwrap();

    // The merge record survives storage as JSON and still un-merges exactly.
    let stored = serde_json::to_string(&m.merge).unwrap();
    let reloaded = serde_json::from_str(&stored).unwrap();
    let (ra, rb) = unmerge(&reloaded).unwrap();
    assert_eq!(ra.canonical_bytes(), bytes_a);
    assert_eq!(rb.canonical_bytes(), bytes_b);
    assert_eq!((ra, rb), (a, b));
}

#[test]
fn unmerge_refuses_tampered_records() {
    let a = record("c1", "salesforce", 3, &[("email", text("a@x.com"))]);
    let b = record("c2", "hubspot", 3, &[("email", text("b@x.com"))]);
    let mut m = merge(&a, &b, &SurvivorshipConfig::default(), day(20), "auto")
        .unwrap()
        .merge;
    m.originals[1] = m.originals[1].replace("c2", "c3");
    assert!(matches!(unmerge(&m), Err(ContactsError::Unmerge { .. })));
    m.originals[1] = "{".into();
    assert!(unmerge(&m).is_err());
}

#[test]
fn rules_source_precedence_most_recent_most_complete() {
    // Survivor from marketo (older), absorbed from salesforce (newer on some fields).
    let a = record(
        "c1",
        "marketo",
        10,
        &[
            ("email", text("ann@acme.com")),
            ("first_name", text("Ann")),
            ("street", text("1 Main St, Suite 400")),
            ("industry", text("Software")),
        ],
    );
    let b = record(
        "c2",
        "salesforce",
        5,
        &[
            ("email", text("ann@acme.com")),
            ("first_name", text("Anne")),
            ("street", text("1 Main St")),
            ("industry", text("Computer Software")),
            ("title", text("CMO")),
        ],
    );
    let m = merge(&a, &b, &SurvivorshipConfig::default(), day(20), "auto").unwrap();
    assert_eq!(
        kept(&m, "first_name"),
        Some(text("Anne")),
        "salesforce ranks above marketo"
    );
    assert_eq!(
        kept(&m, "street"),
        Some(text("1 Main St, Suite 400")),
        "most complete"
    );
    assert_eq!(
        kept(&m, "industry"),
        Some(text("Software")),
        "most recent (day 10 beats day 5)"
    );
    assert_eq!(kept(&m, "title"), Some(text("CMO")), "only one side has it");
    assert_eq!(m.record.lineage["first_name"].system.as_ref(), "salesforce");
    assert_eq!(m.record.id, "c1");
    let conflicts: Vec<(&str, Side)> = m
        .merge
        .conflicts
        .iter()
        .map(|c| (c.field.as_str(), c.kept))
        .collect();
    assert_eq!(
        conflicts,
        vec![
            ("first_name", Side::Absorbed),
            ("industry", Side::Survivor),
            ("street", Side::Survivor)
        ]
    );
    let reason = &m
        .merge
        .decisions
        .iter()
        .find(|d| d.field == "first_name")
        .unwrap()
        .reason;
    assert_eq!(reason, "source precedence: salesforce ranks above marketo");
}

#[test]
fn consent_is_never_overwritten_and_withdrawal_survives() {
    let a = record(
        "c1",
        "salesforce",
        10,
        &[
            ("email", text("a@x.com")),
            ("email_opt_out", FieldValue::Boolean(false)),
        ],
    );
    let b = record(
        "c2",
        "hubspot",
        11,
        &[
            ("email", text("a@x.com")),
            ("email_opt_out", FieldValue::Boolean(true)),
        ],
    );
    let m = merge(&a, &b, &SurvivorshipConfig::default(), day(20), "auto").unwrap();
    assert_eq!(kept(&m, "email_opt_out"), Some(FieldValue::Boolean(true)));
    // Reverse order: the survivor's withdrawal is not overwritten by a newer opt-in.
    let a2 = record(
        "c1",
        "salesforce",
        1,
        &[
            ("email", text("a@x.com")),
            ("email_opt_out", FieldValue::Boolean(true)),
        ],
    );
    let b2 = record(
        "c2",
        "hubspot",
        19,
        &[
            ("email", text("a@x.com")),
            ("email_opt_out", FieldValue::Boolean(false)),
        ],
    );
    let m2 = merge(&a2, &b2, &SurvivorshipConfig::default(), day(20), "auto").unwrap();
    assert_eq!(kept(&m2, "email_opt_out"), Some(FieldValue::Boolean(true)));
}

#[test]
fn anonymous_record_never_overwrites_identified_one() {
    let identified = record(
        "c1",
        "marketo",
        1,
        &[("email", text("a@x.com")), ("city", text("Boston"))],
    );
    let anonymous = record(
        "v9",
        "salesforce",
        19,
        &[("city", text("Cambridge")), ("title", text("VP"))],
    );
    let config = SurvivorshipConfig {
        default_rule: Rule::MostRecent,
        ..SurvivorshipConfig::default()
    };
    // Whichever side is the survivor, the identified values win and the anonymous one fills blanks.
    for (s, a) in [(&identified, &anonymous), (&anonymous, &identified)] {
        let m = merge(s, a, &config, day(20), "auto").unwrap();
        assert_eq!(kept(&m, "city"), Some(text("Boston")));
        assert_eq!(kept(&m, "title"), Some(text("VP")));
    }
}

#[test]
fn merging_different_objects_is_refused() {
    let a = record("c1", "salesforce", 1, &[]);
    let mut b = record("a1", "salesforce", 1, &[]);
    b.object = ObjectKind::Account;
    let err = merge(&a, &b, &SurvivorshipConfig::default(), day(2), "x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot merge `c1` and `a1`: they are different objects"
    );
}

#[test]
fn unmerge_is_exact_for_every_pair_of_imported_records() {
    use keel_contacts::contract::default_contact_contract;
    use keel_contacts::import::{ImportOptions, Layout, import_csv_bytes};
    let contract = default_contact_contract().unwrap();
    let map = Layout::SalesforceLead.field_map().unwrap();
    let options = ImportOptions {
        source: "messy.csv".into(),
        at: day(1),
    };
    let out = import_csv_bytes(
        include_bytes!("../testdata/messy-salesforce-leads.csv"),
        None,
        &map,
        &contract,
        &options,
        &Default::default(),
    )
    .unwrap();
    let records: Vec<&Record> = out.accepted.iter().map(|a| &a.record).collect();
    assert_eq!(records.len(), 7);
    for a in &records {
        for b in &records {
            if a.id == b.id {
                continue;
            }
            let m = merge(a, b, &SurvivorshipConfig::default(), day(2), "auto").unwrap();
            let (ra, rb) = unmerge(&m.merge).unwrap();
            assert_eq!(ra.canonical_bytes(), a.canonical_bytes());
            assert_eq!(rb.canonical_bytes(), b.canonical_bytes());
            // Every field of either record is in the merged record.
            for k in a.fields.keys().chain(b.fields.keys()) {
                assert!(
                    m.record.fields.contains_key(k),
                    "{k} lost merging {} and {}",
                    a.id,
                    b.id
                );
            }
        }
    }
}

#[test]
fn survivorship_config_problems() {
    assert_eq!(SurvivorshipConfig::default().validate(), vec![]);
    let yaml = "default_rule: source_precedence\nfields: {email_opt_out: most_recent}\nsource_precedence: []\nconsent_fields:\n  - {field: email_opt_out, withdrawn_values: []}\n";
    let config: SurvivorshipConfig = serde_yaml::from_str(yaml).unwrap();
    let paths: Vec<String> = config.validate().into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        vec![
            "source_precedence",
            "consent_fields[0].withdrawn_values",
            "fields.email_opt_out"
        ]
    );
}
