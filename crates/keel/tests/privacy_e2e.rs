//! Privacy from the command line against the demo database: `keel eligibility --segment NAME`
//! checks a saved contact segment's members with counts by reason, and `keel privacy
//! rotate-key` rotates the link-signing key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{run, serve};

#[test]
fn eligibility_of_the_demo_segments_and_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keel.db");
    // `serve --demo` seeds the demo before it listens; then the database is ready.
    drop(serve(&db, &["--demo"]));
    let db = db.to_str().unwrap();
    let mut totals = Vec::new();
    for segment in [
        "re-engagement",
        "us-retail-decision-makers",
        "webinar-attendees",
    ] {
        let (code, out, err) = run(
            &[
                "eligibility",
                "--segment",
                segment,
                "--purpose",
                "newsletter",
                "--channel",
                "email",
                "--db",
                db,
                "--json",
            ],
            None,
        );
        assert_eq!(code, 0, "{segment}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let total = v["total"].as_i64().unwrap();
        let eligible = v["eligible"].as_i64().unwrap();
        assert!(eligible <= total, "{v}");
        let by_reason = v["by_reason"].as_object().unwrap();
        // Everyone not eligible has at least one reason, and no reason counts more people than
        // were checked.
        let refused = total - eligible;
        if refused > 0 {
            assert!(!by_reason.is_empty(), "{v}");
        }
        for (reason, n) in by_reason {
            assert!(n.as_i64().unwrap() <= total, "{reason}: {v}");
        }
        totals.push((segment, total, v));
    }
    // The demo segments' live counts (suppressed contacts excluded there) are at most what
    // eligibility checks (suppressed contacts included and reported).
    assert!(totals[0].1 >= 2537, "{:?}", totals[0].2);
    assert!(totals[1].1 >= 435, "{:?}", totals[1].2);
    // Demo contacts have no consent recorded for the newsletter: opt-in jurisdictions say so.
    let all_reasons: Vec<String> = totals
        .iter()
        .flat_map(|(_, _, v)| v["by_reason"].as_object().unwrap().keys().cloned())
        .collect();
    assert!(
        all_reasons.iter().any(|r| r == "no_consent"),
        "{all_reasons:?}"
    );

    // Human output names the segment's counts by reason.
    let (code, out, _) = run(
        &[
            "eligibility",
            "--segment",
            "us-retail-decision-makers",
            "--purpose",
            "newsletter",
            "--db",
            db,
        ],
        None,
    );
    assert_eq!(code, 0);
    assert!(out.contains("eligible for newsletter on email"), "{out}");

    // An unknown name that is no file either is a clear error.
    let (code, _, err) = run(
        &[
            "eligibility",
            "--segment",
            "no-such-segment",
            "--purpose",
            "newsletter",
            "--db",
            db,
        ],
        None,
    );
    assert_ne!(code, 0);
    assert!(err.contains("not a saved Segment"), "{err}");

    // Key rotation: the previous key stays valid for the grace period.
    let (code, out, err) = run(
        &["privacy", "rotate-key", "--grace-days", "7", "--db", db],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("rotated"), "{out}");
    assert!(out.contains("previous key accepted until"), "{out}");
}
