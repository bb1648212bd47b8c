//! Halyard Outdoor's contact data for the demo: a few thousand leads and contacts imported from a
//! Salesforce export, a messy trade-show list that lands partly in quarantine and partly in the
//! duplicate review queue, accounts, bounces and complaints, engagement that scores leads, and
//! MQLs waiting for sales. Everything goes through the same import, matching and storage paths
//! as real data.

use anyhow::Context;
use chrono::{Duration, Utc};
use keel_contacts::dedupe::Thresholds;
use keel_contacts::import::{ImportOptions, Layout};
use keel_contacts::merge::SurvivorshipConfig;
use keel_contacts::record::Lineage;
use keel_contacts::{FieldValue, ObjectKind, Record};
use keel_store::contacts::{self as store, ImportJob, NewImport};
use keel_store::documents::{self, DesiredDocument, DocumentChange};
use keel_store::{Actor, Store};

const FIRST: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Henry", "Harper", "Theodore", "Evelyn", "Jack", "Luna", "Levi",
    "Camila", "Aiden", "Gianna", "Samuel", "Elena", "Owen", "Aria", "Leo", "Nora", "Ezra", "Maya",
    "Kai", "Zoe", "Ravi", "Ingrid", "Kenji", "Fatima", "Diego", "Chloe", "Nikolai", "Priya",
    "Tomás", "Sven", "Aisha", "Marco", "Hana", "Lena", "Finn", "Yusuf", "Clara",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "Nakamura",
    "Schneider",
    "Kowalski",
    "Okafor",
    "Lindqvist",
    "Dubois",
    "Rossi",
    "Novak",
    "Haddad",
    "Fischer",
    "Bergström",
    "Ivanova",
    "Sato",
    "O'Brien",
    "Murphy",
];
/// (company, domain, country, employees)
const COMPANIES: &[(&str, &str, &str, u32)] = &[
    ("Summit Trail Outfitters", "summittrail.example", "US", 420),
    ("Northwind Gear Co", "northwindgear.example", "US", 1200),
    ("Alpine Routes GmbH", "alpineroutes.example", "DE", 180),
    ("Fjord & Field AS", "fjordfield.example", "NO", 95),
    ("Cascade Paddle Sports", "cascadepaddle.example", "US", 60),
    (
        "Basecamp Retail Group",
        "basecampretail.example",
        "GB",
        2500,
    ),
    ("Trailhead Provisions", "trailheadprov.example", "CA", 310),
    ("Blue Ridge Climbing", "blueridgeclimb.example", "US", 45),
    ("Granite Peak Supply", "granitepeak.example", "US", 800),
    ("Terre & Sentier SARL", "terresentier.example", "FR", 140),
    ("Wildwater Expeditions", "wildwater.example", "NZ", 35),
    ("Evergreen Outdoor Club", "evergreenclub.example", "US", 12),
    ("Polar Line Apparel", "polarline.example", "SE", 650),
    ("Dune & Canyon Tours", "dunecanyon.example", "US", 75),
    ("Harbor Sail Supply", "harborsail.example", "NL", 220),
    ("Ridgeback Bikes", "ridgebackbikes.example", "AU", 390),
    ("Maple Leaf Camping", "maplecamping.example", "CA", 150),
    ("Highland Hikers Ltd", "highlandhikers.example", "GB", 55),
    ("Red Rock Guides", "redrockguides.example", "US", 28),
    ("Coastline Kayak Co", "coastlinekayak.example", "US", 110),
];
const TITLES: &[&str] = &[
    "Marketing Manager",
    "Director of Marketing",
    "VP Marketing",
    "Head of Ecommerce",
    "Buyer",
    "Store Manager",
    "Category Manager",
    "Chief Marketing Officer",
    "Marketing Coordinator",
    "Owner",
    "Purchasing Director",
    "Student",
];
const SOURCES: &[&str] = &[
    "Web",
    "Trade Show",
    "Webinar",
    "Partner Referral",
    "Advertisement",
    "Purchased List",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Denver", "CO", "80202"),
    ("Seattle", "WA", "98101"),
    ("Portland", "OR", "97201"),
    ("Boulder", "CO", "80301"),
    ("Salt Lake City", "UT", "84101"),
    ("Asheville", "NC", "28801"),
    ("Bozeman", "MT", "59715"),
    ("Burlington", "VT", "05401"),
];

/// Deterministic pseudo-random numbers, so the demo is the same on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.next(items.len() as u64) as usize;
        &items[i.min(items.len() - 1)]
    }
}

const HEADER: &str = "Id,FirstName,LastName,Title,Company,Email,Phone,Street,City,State,PostalCode,Country,Website,NumberOfEmployees,LeadSource,Status,HasOptedOutOfEmail,CreatedDate,LastModifiedDate";

struct Lead {
    id: String,
    first: String,
    last: String,
    title: String,
    company: usize,
    email: String,
    phone: String,
    street: String,
    city: usize,
    source: String,
    created: String,
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn line(l: &Lead) -> String {
    let (company, domain, country, employees) = COMPANIES[l.company];
    let (city, state, zip) = CITIES[l.city];
    let (state, zip) = if country == "US" {
        (state, zip)
    } else {
        ("", "")
    };
    [
        l.id.as_str(),
        &l.first,
        &l.last,
        &l.title,
        company,
        &l.email,
        &l.phone,
        &l.street,
        if country == "US" { city } else { "" },
        state,
        zip,
        country,
        domain,
        &employees.to_string(),
        &l.source,
        "Open - Not Contacted",
        "false",
        &l.created,
        &l.created,
    ]
    .iter()
    .map(|c| csv_cell(c))
    .collect::<Vec<_>>()
    .join(",")
}

fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' => 'a',
            'é' | 'è' => 'e',
            'ö' | 'ó' => 'o',
            'ü' => 'u',
            'ñ' => 'n',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

fn leads(n: usize, rng: &mut Lcg) -> Vec<Lead> {
    (0..n)
        .map(|i| {
            let first = rng.pick(FIRST).to_string();
            let last = rng.pick(LAST).to_string();
            let company = rng.next(COMPANIES.len() as u64) as usize;
            let domain = COMPANIES[company].1;
            let email = match rng.next(3) {
                0 => format!("{}.{}.{i}@{domain}", ascii(&first), ascii(&last)),
                1 => format!("{}{}{i}@{domain}", &ascii(&first)[..1], ascii(&last)),
                _ => format!("{}.{}{i}@{domain}", ascii(&first), ascii(&last)),
            };
            let day = rng.next(700);
            Lead {
                id: format!("00Q5f000{:07}", i + 1),
                first,
                last,
                title: rng.pick(TITLES).to_string(),
                company,
                email,
                phone: format!("+1 303 555 {:04}", rng.next(10_000)),
                street: format!("{} {} St", 10 + rng.next(990), rng.pick(LAST)),
                city: rng.next(CITIES.len() as u64) as usize,
                source: rng.pick(SOURCES).to_string(),
                created: (Utc::now() - Duration::days(30 + day as i64))
                    .format("%Y-%m-%dT%H:%M:%S.000+0000")
                    .to_string(),
            }
        })
        .collect()
}

async fn import(
    store: &Store,
    actor: &Actor,
    file_name: &str,
    csv: String,
    dedupe: bool,
) -> anyhow::Result<store::Import> {
    let map = Layout::SalesforceLead.field_map()?;
    let stored = store::create_import(
        store,
        actor,
        &NewImport {
            file_name: file_name.into(),
            layout: "salesforce-lead".into(),
            content: None,
            check_duplicates: dedupe,
        },
    )
    .await?;
    let job = ImportJob {
        import_id: stored.id,
        bytes: csv.into_bytes(),
        encoding: None,
        json_lines: false,
        contract: map.default_contract()?,
        map,
        options: ImportOptions {
            source: file_name.into(),
            at: keel_store::now(),
        },
        dedupe: dedupe.then(|| (Thresholds::default(), SurvivorshipConfig::default())),
        batch_size: 500,
    };
    store::run_import(store, actor, job, |_| {})
        .await
        .with_context(|| format!("demo import {file_name}"))
}

async fn measure_quality(store: &Store, actor: &Actor, days_ago: i64) -> anyhow::Result<()> {
    let records: Vec<Record> = store::active_records(store, ObjectKind::Contact)
        .await?
        .into_iter()
        .map(|r| r.record)
        .collect();
    let contract = keel_contacts::contract::default_contact_contract()?;
    let at = keel_store::now() - Duration::days(days_ago);
    let report = keel_contacts::hygiene::quality_report(&records, &contract, at, 365);
    store::record_quality(store, actor, "contact", &report, at).await?;
    Ok(())
}

/// Seeds Halyard's contact data (called once, into an empty database).
pub async fn seed(store: &Store) -> anyhow::Result<()> {
    let actor = Actor::System("demo");
    let mut rng = Lcg(0x0048_414c_5941_5244);

    // Ops as code: the contract, the scoring model and a few segments.
    let doc = |kind: &str, yaml: &str| -> anyhow::Result<DesiredDocument> {
        let v: serde_json::Value = serde_norway::from_str(yaml)?;
        Ok(DesiredDocument {
            kind: kind.into(),
            name: v["metadata"]["name"].as_str().unwrap_or(kind).to_string(),
            api_version: "keel/v1".into(),
            metadata: v["metadata"].clone(),
            spec: v["spec"].clone(),
        })
    };
    let mut docs = vec![
        DocumentChange::Put(doc(
            "DataContract",
            keel_contacts::contract::DEFAULT_CONTACT_CONTRACT,
        )?),
        DocumentChange::Put(doc("ScoringModel", keel_contacts::scoring::DEFAULT_MODEL)?),
    ];
    for (path, yaml) in load_segments(SEGMENTS)? {
        docs.push(DocumentChange::Put(
            doc("Segment", yaml).with_context(|| format!("demo segment {path}"))?,
        ));
    }
    documents::apply(
        store,
        &actor,
        &docs,
        "demo: contact contracts, scoring and segments",
    )
    .await?;

    // Accounts.
    let at = keel_store::now() - Duration::days(400);
    for (name, domain, country, employees) in COMPANIES {
        let id = store::record_id(ObjectKind::Account, "salesforce", domain);
        let mut r = Record::new(id, ObjectKind::Account, "salesforce", at);
        let lin = Lineage {
            system: "salesforce".into(),
            source: "account-sync".into(),
            at,
        };
        r.set("name", FieldValue::Text((*name).into()), lin.clone());
        r.set("domain", FieldValue::Text((*domain).into()), lin.clone());
        r.set("country", FieldValue::Text((*country).into()), lin.clone());
        r.set("employees", FieldValue::Integer(i64::from(*employees)), lin);
        store::create(store, &actor, &r).await?;
    }

    // The CRM export: clean, checked against the contract, no duplicates within it.
    let crm = leads(2600, &mut rng);
    let mut csv = String::from(HEADER);
    csv.push('\n');
    for l in &crm {
        csv.push_str(&line(l));
        csv.push('\n');
    }
    import(store, &actor, "salesforce-leads-2026-11.csv", csv, false).await?;
    measure_quality(store, &actor, 21).await?;

    // A trade-show list: new people, people already in the CRM (some exactly, some with a
    // typo or a new address), and rows that break the contract.
    let mut csv = String::from(HEADER);
    csv.push('\n');
    for (i, mut l) in leads(400, &mut rng).into_iter().enumerate() {
        l.id = format!("00Q5f100{:07}", i + 1);
        l.source = "Trade Show".into();
        csv.push_str(&line(&l));
        csv.push('\n');
    }
    for (k, orig) in crm.iter().step_by(23).take(110).enumerate() {
        let mut l = Lead {
            id: format!("00Q5f200{:07}", k + 1),
            first: orig.first.clone(),
            last: orig.last.clone(),
            title: orig.title.clone(),
            company: orig.company,
            email: orig.email.clone(),
            phone: orig.phone.clone(),
            street: orig.street.clone(),
            city: orig.city,
            source: "Trade Show".into(),
            created: orig.created.clone(),
        };
        match k % 4 {
            // Same person, same e-mail: merged automatically.
            0 | 1 => {}
            // A typo in the name and a personal address: for a person to decide.
            2 => {
                l.first = format!("{}{}", &l.first, "n");
                l.email = format!("{}.{}@gmail.com", ascii(&orig.first), ascii(&orig.last));
            }
            // Moved house, new phone, same e-mail.
            _ => {
                l.street = format!("{} Pine Ave", 100 + k);
                l.phone = format!("+1 720 555 {:04}", k);
            }
        }
        csv.push_str(&line(&l));
        csv.push('\n');
    }
    for row in MESSY_ROWS {
        csv.push_str(row);
        csv.push('\n');
    }
    import(store, &actor, "outdoor-retailer-show-leads.csv", csv, true).await?;
    measure_quality(store, &actor, 7).await?;

    // Deliverability: hard bounces, complaints, role and disposable addresses.
    let contacts = store::active_records(store, ObjectKind::Contact).await?;
    let emails: Vec<String> = contacts
        .iter()
        .filter_map(|c| c.row.email.clone())
        .collect();
    for (i, email) in emails.iter().step_by(97).take(28).enumerate() {
        let (kind, detail) = if i % 6 == 5 {
            (
                "complaint",
                "feedback loop report from the mailbox provider",
            )
        } else {
            ("hard_bounce", "550 5.1.1 mailbox does not exist")
        };
        let at = keel_store::now() - Duration::days(i as i64);
        store::record_hygiene(store, &actor, email, kind, detail, "webhook", at).await?;
    }

    // Engagement: what leads did on the website and in email.
    let kinds = [
        ("email_click", 6),
        ("pricing_page_viewed", 4),
        ("webinar_attended", 3),
        ("demo_requested", 1),
    ];
    for c in contacts.iter().step_by(3) {
        let n = rng.next(5);
        for _ in 0..n {
            let (kind, _) = kinds[rng.next(kinds.len() as u64) as usize];
            let at = keel_store::now() - Duration::days(rng.next(120) as i64);
            store::record_engagement(store, &c.row.id, kind, at).await?;
        }
    }
    // A handful of strong buyers.
    for c in contacts.iter().step_by(41).take(40) {
        for kind in [
            "demo_requested",
            "pricing_page_viewed",
            "pricing_page_viewed",
            "webinar_attended",
        ] {
            let at = keel_store::now() - Duration::days(rng.next(10) as i64);
            store::record_engagement(store, &c.row.id, kind, at).await?;
        }
    }
    crate::cmd::contacts::rescore(store, &actor)
        .await
        .map_err(anyhow::Error::msg)?;
    let handed = crate::cmd::contacts::hand_off_mqls(store, &actor)
        .await
        .map_err(anyhow::Error::msg)?;
    // Sales has already worked some of them.
    let (waiting, _) = store::handoffs(store, Some("waiting"), 500, 0).await?;
    let reasons = [
        "student, not a buyer",
        "no budget this season",
        "competitor doing research",
        "duplicate of an open opportunity",
    ];
    let sla = keel_web::work::Workspace::load(store)
        .await
        .and_then(|ws| ws.handoff_sla())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let at = keel_store::now();
    for (i, h) in waiting.iter().enumerate().take(handed.saturating_sub(12)) {
        let decision = match i % 3 {
            0 => Some((true, None)),
            1 => Some((false, Some(reasons[i % reasons.len()]))),
            _ => None,
        };
        if let Some((accept, reason)) = decision {
            keel_web::work::decide_handoff(store, &sla, &actor, h.id, accept, reason, at)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    measure_quality(store, &actor, 0).await?;
    Ok(())
}

/// Rows of the trade-show list that break the contract (each lands in quarantine).
const MESSY_ROWS: &[&str] = &[
    "00Q5f3000000001,Carla,,Buyer,Summit Trail Outfitters,carla@summittrail.example,,,,,,US,,,Trade Show,Open - Not Contacted,false,,",
    "00Q5f3000000002,Dan,Brown,,Northwind Gear Co,dan at northwindgear.example,,,,,,US,,,Trade Show,Open - Not Contacted,false,,",
    "00Q5f3000000003,Erin,Walsh,Owner,Blue Ridge Climbing,erin@blueridgeclimb.example,555-CALL-NOW,,,,,US,,,Trade Show,Open - Not Contacted,false,,",
    "00Q5f3000000004,Femi,Adeyemi,Buyer,Harbor Sail Supply,femi@harborsail.example,,,,,,Atlantis,,,Trade Show,Open - Not Contacted,false,,",
    "00Q5f3000000005,Gus,Lind,Buyer,Polar Line Apparel,gus@polarline.example,,,,,,SE,,lots,Trade Show,Open - Not Contacted,false,,",
    "00Q5f3000000006,Hala,Nasser,Buyer,Dune & Canyon Tours,hala@dunecanyon.example,,,,,,US,,,Carrier Pigeon,Open - Not Contacted,false,,",
    "00Q5f3000000007,Ivo,Petrov,,Ridgeback Bikes,ivo@@ridgebackbikes.example,,,,,,AU,,,Trade Show,Open - Not Contacted,false,,",
    "00Q5f3000000008,,,,,,,,,,,,,,Trade Show,Open - Not Contacted,false,,",
    "00Q5f3000000009,June,Park,Buyer,Coastline Kayak Co,june@coastlinekayak.example,,,,,,US,,,Trade Show,Maybe Later,false,31/02/2026,",
    "00Q5f3000000010,Kofi,Mensah,Buyer,Granite Peak Supply,kofi@granitepeak.example,,,,,,US,,,Trade Show,Open - Not Contacted",
];

/// The demo's segments: (file, text), checked by [`load_segments`] before they are stored.
const SEGMENTS: &[(&str, &str)] = &[
    (
        "crates/keel/src/demo/segments/re-engagement.yaml",
        include_str!("demo/segments/re-engagement.yaml"),
    ),
    (
        "crates/keel/src/demo/segments/us-retail-decision-makers.yaml",
        include_str!("demo/segments/us-retail-decision-makers.yaml"),
    ),
    (
        "crates/keel/src/demo/segments/webinar-attendees.yaml",
        include_str!("demo/segments/webinar-attendees.yaml"),
    ),
];

/// Checks the segment documents exactly as `keel check` does (schema, filter, names) and
/// returns their `(file, text)` pairs; any problem fails with every problem located by file,
/// line and column, so a broken segment is never skipped silently.
fn load_segments<'a>(files: &[(&'a str, &'a str)]) -> anyhow::Result<Vec<(&'a str, &'a str)>> {
    let sources: Vec<keel_manifests::SourceFile> = files
        .iter()
        .map(|(path, text)| keel_manifests::SourceFile::new(*path, *text))
        .collect();
    let loaded = keel_manifests::load(&sources, &keel_web::ops::registry());
    if loaded.has_errors() {
        let problems: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == keel_manifests::Severity::Error)
            .map(ToString::to_string)
            .collect();
        anyhow::bail!("demo segments are invalid:\n{}", problems.join("\n"));
    }
    for (path, text) in files {
        let segment = keel_contacts::segment::Segment::from_yaml(text)
            .with_context(|| format!("{path}: not a segment"))?;
        let problems = segment.validate();
        if !problems.is_empty() {
            let list: Vec<String> = problems.iter().map(|p| format!("{path}: {p}")).collect();
            anyhow::bail!("demo segments are invalid:\n{}", list.join("\n"));
        }
    }
    Ok(files.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_segments_are_valid() {
        assert_eq!(load_segments(SEGMENTS).unwrap().len(), SEGMENTS.len());
    }

    #[test]
    fn a_broken_segment_fails_with_its_file_and_reason() {
        let broken = "apiVersion: keel/v1\nkind: Segment\nmetadata:\n  name: typo\nspec:\n  object: contact\n  filter:\n    evnts: {event: email_click, within_days: 30, op: gte, count: 1}\n";
        let err = load_segments(&[SEGMENTS[0], ("demo/segments/typo.yaml", broken)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("demo/segments/typo.yaml:"), "{err}");
        assert!(err.contains("evnts"), "{err}");
        let err = load_segments(&[("demo/segments/bad.yaml", "kind: Segment\nspec: [")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("demo/segments/bad.yaml"), "{err}");
    }
}
