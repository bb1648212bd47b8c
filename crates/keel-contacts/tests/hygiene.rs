//! Role and disposable addresses, suppression, sunset policy and data quality scores.

use chrono::{DateTime, Duration, TimeZone, Utc};
use keel_contacts::contract::default_contact_contract;
use keel_contacts::hygiene::{
    AddressFlags, AddressLists, DeliveryEvent, DeliveryKind, SunsetPolicy, SunsetStatus,
    Suppression, SuppressionReason, quality_report, suppression,
};
use keel_contacts::{FieldValue, Lineage, ObjectKind, Record};

fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

#[test]
fn role_and_disposable_addresses() {
    let lists = AddressLists::default();
    let flags = |e: &str| lists.check(e);
    assert_eq!(
        flags("info@acme.com"),
        AddressFlags {
            role: true,
            disposable: false
        }
    );
    assert_eq!(
        flags("Sales+EMEA@acme.com"),
        AddressFlags {
            role: true,
            disposable: false
        }
    );
    assert_eq!(
        flags("ann@mailinator.com"),
        AddressFlags {
            role: false,
            disposable: true
        }
    );
    assert_eq!(
        flags("support@eu.yopmail.com"),
        AddressFlags {
            role: true,
            disposable: true
        }
    );
    assert_eq!(flags("ann@acme.com"), AddressFlags::default());
    assert_eq!(flags("not-an-email"), AddressFlags::default());
    let custom = AddressLists::new("# c\nceo\n", "acme.com\n");
    assert_eq!(
        custom.check("ceo@x.acme.com"),
        AddressFlags {
            role: true,
            disposable: true
        }
    );
}

#[test]
fn suppression_reasons() {
    let ev = |kind, d| DeliveryEvent {
        kind,
        at: t(2026, 1, d),
    };
    use DeliveryKind::*;
    assert_eq!(suppression(&[ev(Delivered, 1), ev(Delivered, 2)], 3), None);
    assert_eq!(
        suppression(&[ev(Complaint, 5), ev(HardBounce, 3), ev(Delivered, 1)], 3),
        Some(Suppression {
            reason: SuppressionReason::HardBounce,
            since: t(2026, 1, 3)
        })
    );
    assert_eq!(
        suppression(
            &[
                ev(SoftBounce, 1),
                ev(SoftBounce, 2),
                ev(Delivered, 3),
                ev(SoftBounce, 4)
            ],
            3
        ),
        None,
        "a delivery resets the soft-bounce run"
    );
    assert_eq!(
        suppression(
            &[ev(SoftBounce, 1), ev(SoftBounce, 2), ev(SoftBounce, 3)],
            3
        ),
        Some(Suppression {
            reason: SuppressionReason::RepeatedSoftBounces,
            since: t(2026, 1, 3)
        })
    );
    assert_eq!(
        suppression(&[ev(Unsubscribe, 9)], 3).map(|s| s.reason),
        Some(SuppressionReason::Unsubscribed)
    );
    assert_eq!(
        suppression(&[ev(Complaint, 9)], 3).map(|s| s.reason),
        Some(SuppressionReason::Complaint)
    );
}

#[test]
fn sunset_classification() {
    let p = SunsetPolicy {
        inactive_months: 6,
        re_engagement_days: 30,
    };
    let created = t(2025, 1, 1);
    let engaged = Some(t(2026, 1, 15));
    assert_eq!(
        p.classify(created, engaged, None, t(2026, 7, 14)),
        SunsetStatus::Active
    );
    assert_eq!(
        p.classify(created, engaged, None, t(2026, 7, 15)),
        SunsetStatus::StartReEngagement
    );
    assert_eq!(
        p.classify(created, engaged, Some(t(2026, 7, 20)), t(2026, 8, 1)),
        SunsetStatus::ReEngaging {
            until: t(2026, 8, 19)
        }
    );
    assert_eq!(
        p.classify(created, engaged, Some(t(2026, 7, 20)), t(2026, 8, 19)),
        SunsetStatus::Sunset
    );
    // Never engaged: counted from creation.
    assert_eq!(
        p.classify(t(2026, 1, 1), None, None, t(2026, 7, 2)),
        SunsetStatus::StartReEngagement
    );
    // Engaged after re-engagement started: active again, and a stale start no longer counts.
    assert_eq!(
        p.classify(
            created,
            Some(t(2026, 8, 1)),
            Some(t(2026, 7, 20)),
            t(2026, 8, 2)
        ),
        SunsetStatus::Active
    );
    assert_eq!(
        p.classify(
            created,
            Some(t(2026, 8, 1)),
            Some(t(2026, 7, 20)),
            t(2027, 3, 1)
        ),
        SunsetStatus::StartReEngagement
    );
}

fn rec(id: &str, source: &str, at: DateTime<Utc>, fields: &[(&str, FieldValue)]) -> Record {
    let mut r = Record::new(id, ObjectKind::Contact, source, at);
    for (k, v) in fields {
        r.set(
            *k,
            v.clone(),
            Lineage {
                system: source.into(),
                source: "s".into(),
                at,
            },
        );
    }
    r
}

#[test]
fn quality_scores_per_field_source_and_object() {
    let c = default_contact_contract().unwrap();
    let now = t(2026, 11, 1);
    let text = |s: &str| FieldValue::Text(s.into());
    let records = vec![
        rec(
            "1",
            "salesforce",
            now - Duration::days(10),
            &[("email", text("a@x.com")), ("last_name", text("A"))],
        ),
        rec(
            "2",
            "salesforce",
            now - Duration::days(400),
            &[("email", text("a@x.com")), ("last_name", text("B"))],
        ),
        rec(
            "3",
            "marketo",
            now - Duration::days(5),
            &[("email", text("Not Canonical@x.com"))],
        ),
        rec(
            "4",
            "marketo",
            now - Duration::days(5),
            &[("email", text("d@x.com")), ("last_name", text("D"))],
        ),
    ];
    let q = quality_report(&records, &c, now, 365);
    assert_eq!(q.records, 4);
    let email = q.by_field["email"];
    assert_eq!(email.completeness, Some(1.0));
    assert_eq!(email.validity, Some(0.75));
    assert_eq!(email.uniqueness, Some(0.5), "a@x.com appears twice");
    assert_eq!(email.freshness, Some(0.75));
    let last = q.by_field["last_name"];
    assert_eq!(last.completeness, Some(0.75));
    assert_eq!(last.uniqueness, None, "last_name is not declared unique");
    assert_eq!(q.by_field["phone"].completeness, Some(0.0));
    assert_eq!(q.by_field["phone"].validity, None);
    let sf = q.by_source["salesforce"];
    assert_eq!(sf.uniqueness, Some(0.0));
    assert_eq!(sf.freshness, Some(0.5));
    let mk = q.by_source["marketo"];
    assert_eq!(
        mk.validity,
        Some(0.75),
        "mean of email 0.5 and last_name 1.0"
    );
    assert!(q.object.completeness.is_some_and(|c| c > 0.0 && c < 1.0));
}
