//! The demo's privacy data for Halyard Outdoor: consent histories for a few hundred people
//! (sign-ups, withdrawals, an import that cannot override a withdrawal, GPC signals),
//! suppressions, pending double opt-ins, a subject-request queue with one request close to its
//! deadline, a legal hold, the tag registry, and a retention dry run ready to execute. The
//! purposes, jurisdictions and retention policy themselves are `examples/ops/privacy`.

use chrono::{Duration, Utc};
use keel_consent::ledger::{ConsentSource, ConsentState};
use keel_consent::spec::LawfulBasis;
use keel_store::privacy::{self, ConsentTextRef, NewConsent, NewDoi};
use keel_store::{Actor, Store};

const FIRST: [&str; 16] = [
    "anna", "ben", "carla", "david", "elif", "finn", "greta", "hugo", "ines", "jonas", "kim",
    "lena", "mateo", "nora", "oskar", "paula",
];
const LAST: [&str; 12] = [
    "schmidt", "garcia", "miller", "rossi", "dubois", "jensen", "novak", "smith", "lee",
    "kowalski", "berg", "silva",
];
/// (jurisdiction, e-mail domain)
const PLACES: [(&str, &str); 4] = [
    ("eu", "mail.example.de"),
    ("uk", "post.example.co.uk"),
    ("california", "inbox.example.com"),
    ("us-other", "mail.example.org"),
];

/// Seeds the privacy demo data; expects `examples/ops/privacy` to be applied already.
pub async fn seed(store: &Store) -> anyhow::Result<()> {
    let actor = Actor::System("demo");
    let now = keel_store::now();
    let mut rng = 0x5eed_u64;
    let mut next = |n: u64| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) % n.max(1)
    };
    let text = ConsentTextRef::Text {
        version: "web-en-1".into(),
        body: "Yes, I want to receive \"Halyard newsletter\" by e-mail. I can unsubscribe at any time."
            .into(),
    };
    let mut people = Vec::new();
    for i in 0..320u64 {
        let (jurisdiction, domain) = PLACES[(i % 4) as usize];
        let email = format!(
            "{}.{}{}@{domain}",
            FIRST[(i % 16) as usize],
            LAST[((i / 16) % 12) as usize],
            i
        );
        people.push((email, jurisdiction));
    }
    let mut tx = store.begin().await?;
    for (i, (email, jurisdiction)) in people.iter().enumerate() {
        let signed_up = now - Duration::days(30 + next(600) as i64);
        let base = |purpose: &str, state, at, source, text: Option<ConsentTextRef>| NewConsent {
            subject: email.clone(),
            contact_id: Some(format!("c-{:05}", i + 1)),
            purpose: purpose.into(),
            state,
            at,
            source,
            jurisdiction: Some((*jurisdiction).into()),
            lawful_basis: LawfulBasis::Consent,
            text,
            detail: serde_json::json!({"form": "https://www.halyard.example/newsletter"}),
        };
        privacy::append_consent(
            &mut tx,
            &actor,
            &base(
                "newsletter",
                ConsentState::Granted,
                signed_up,
                ConsentSource::Form,
                Some(text.clone()),
            ),
        )
        .await?;
        if next(3) == 0 {
            privacy::append_consent(
                &mut tx,
                &actor,
                &base(
                    "offers",
                    ConsentState::Granted,
                    signed_up,
                    ConsentSource::Form,
                    Some(text.clone()),
                ),
            )
            .await?;
        }
        if next(4) == 0 {
            let state = if next(2) == 0 {
                ConsentState::Granted
            } else {
                ConsentState::Denied
            };
            privacy::append_consent(
                &mut tx,
                &actor,
                &base(
                    "personalisation",
                    state,
                    signed_up + Duration::days(1),
                    ConsentSource::CmpString,
                    None,
                ),
            )
            .await?;
        }
        match next(10) {
            // Withdrew later in the preference centre …
            0 | 1 => {
                let at = signed_up + Duration::days(10 + next(20) as i64);
                privacy::append_consent(
                    &mut tx,
                    &actor,
                    &base(
                        "newsletter",
                        ConsentState::Withdrawn,
                        at,
                        ConsentSource::PreferenceCentre,
                        None,
                    ),
                )
                .await?;
                // … and a later CRM import without consent information must not override that.
                if next(2) == 0 {
                    privacy::append_consent(
                        &mut tx,
                        &actor,
                        &base(
                            "newsletter",
                            ConsentState::Granted,
                            at + Duration::days(5),
                            ConsentSource::Import,
                            None,
                        ),
                    )
                    .await?;
                }
            }
            // Browser sent Global Privacy Control on a visit.
            2 => {
                let mut gpc = base(
                    "partner-ads",
                    ConsentState::Denied,
                    signed_up + Duration::days(2),
                    ConsentSource::Api,
                    None,
                );
                gpc.detail = serde_json::json!({"signal": "gpc", "header": "Sec-GPC: 1"});
                privacy::append_consent(&mut tx, &actor, &gpc).await?;
            }
            3 => {
                let mut sms = base(
                    "channel:sms",
                    ConsentState::Denied,
                    signed_up + Duration::days(3),
                    ConsentSource::PreferenceCentre,
                    None,
                );
                sms.lawful_basis = LawfulBasis::Consent;
                privacy::append_consent(&mut tx, &actor, &sms).await?;
            }
            _ => {}
        }
        if i % 37 == 5 {
            privacy::add_suppression_tx(&mut tx, &actor, email, "channel", "email", "hard_bounce")
                .await?;
        }
        if i % 53 == 7 {
            privacy::add_suppression_tx(&mut tx, &actor, email, "global", "", "complaint").await?;
        }
    }
    tx.commit().await?;
    privacy::add_suppression(
        store,
        &actor,
        &people[11].0,
        "brand",
        "halyard-kids",
        "request",
    )
    .await?;

    // Pending double opt-ins: subscribed, confirmation mail sent, not clicked yet.
    for k in 0..6 {
        let email = format!("new.subscriber{}@mail.example.de", k + 1);
        privacy::create_doi(store, &actor, &NewDoi {
            nonce: format!("demo{k:028x}"),
            subject: email,
            purpose: "newsletter".into(),
            jurisdiction: Some("eu".into()),
            text: Some(("web-en-1".into(), "Yes, I want to receive \"Halyard newsletter\" by e-mail. I can unsubscribe at any time.".into())),
            expires_at: now + Duration::hours(48 - 7 * k),
        })
        .await?;
    }

    // The subject-request queue, one close to its deadline.
    let queue = [
        ("access", 0usize, "eu", 27i64, true),
        ("erasure", 2, "california", 10, false),
        ("access", 4, "eu", 3, false),
        ("rectification", 8, "uk", 12, true),
        ("erasure", 6, "california", 40, true),
    ];
    for (kind, person, jurisdiction, days_ago, verified) in queue {
        let r = keel_web::api::privacy::create_request(
            store,
            &actor,
            keel_web::api::privacy::SubjectRequestIn {
                kind: kind.into(),
                email: people[person].0.clone(),
                contact_id: Some(format!("c-{:05}", person + 1)),
                jurisdiction: Some(jurisdiction.into()),
                received_at: Some(now - Duration::days(days_ago)),
                details: (kind == "rectification")
                    .then(|| serde_json::json!({"last_name": "Berg-Larsen"})),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo subject request: {e}"))?;
        if verified {
            privacy::verify_request(store, &actor, r.id, "replied from the registered address")
                .await?;
        }
    }
    privacy::place_legal_hold(
        store,
        &actor,
        &people[1].0,
        "warranty dispute, counsel's instruction",
    )
    .await?;

    // Old behavioural events so the retention policy has something to do.
    if let Some(source) = keel_store::events::source_by_name(store, "website").await? {
        let mut old = Vec::new();
        for (i, (email, _)) in people.iter().take(40).enumerate() {
            let at = Utc::now() - Duration::days(760 + i as i64 * 3);
            old.push(keel_events::Event {
                message_id: format!("demo-old-{i}"),
                event_type: keel_events::EventType::Page,
                name: Some("Trip report".into()),
                user_id: Some(email.clone()),
                anonymous_id: Some(format!("anon-old-{i}")),
                group_id: None,
                previous_id: None,
                timestamp: at,
                received_at: at,
                sent_at: None,
                properties: serde_json::json!({"path": "/journal/iceland-traverse"}),
                traits: serde_json::json!({}),
                context: serde_json::json!({}),
            });
        }
        keel_store::events::ingest(store, source.id, &old, &[]).await?;
    }
    keel_web::api::privacy::dry_run(store, &actor, "events-two-years")
        .await
        .map_err(|e| anyhow::anyhow!("demo retention dry run: {e}"))?;

    for (name, vendor, category, src) in [
        ("ga4", "Google", "analytics", "googletagmanager.com/gtag/js"),
        (
            "meta-pixel",
            "Meta",
            "targeted_advertising",
            "connect.facebook.net",
        ),
        ("hotjar", "Hotjar", "analytics", "static.hotjar.com"),
        (
            "klaviyo-onsite",
            "Klaviyo",
            "marketing_communications",
            "static.klaviyo.com/onsite",
        ),
    ] {
        privacy::create_tag(
            store,
            &actor,
            &privacy::TagInput {
                name: name.into(),
                vendor: vendor.into(),
                category: category.into(),
                properties: vec!["www.halyard.example".into(), "shop.halyard.example".into()],
                src_pattern: src.into(),
            },
        )
        .await?;
    }
    Ok(())
}

/// A dry run of the contact retention policy, once the demo contacts exist.
pub async fn seed_contact_retention(store: &Store) -> anyhow::Result<()> {
    keel_web::api::privacy::dry_run(
        store,
        &Actor::System("demo"),
        "contacts-inactive-eighteen-months",
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo contact retention dry run: {e}"))?;
    Ok(())
}
