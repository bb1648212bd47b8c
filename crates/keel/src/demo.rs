//! The demo workspace: a fictional company, Halyard Outdoor, with people in every role and teams.
//! Seeded only into an empty database, so `keel serve --demo` is safe to run twice.

use anyhow::Context;

mod attribution;
use keel_accounts::{EmailAddress, Role, hash_password};
use keel_store::accounts::{self, NewUser};
use keel_store::{Actor, Store};

pub mod work;

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "keel-demo-2026";

/// (name, e-mail, roles)
const PEOPLE: &[(&str, &str, &[Role])] = &[
    (
        "Maya Okafor",
        "maya@halyard.example",
        &[Role::Admin, Role::Ops],
    ),
    ("Jonas Weber", "jonas@halyard.example", &[Role::Ops]),
    ("Priya Raman", "priya@halyard.example", &[Role::Ops]),
    ("Lucas Moreau", "lucas@halyard.example", &[Role::Requester]),
    ("Emma Lindqvist", "emma@halyard.example", &[Role::Requester]),
    ("Daniel Kim", "daniel@halyard.example", &[Role::Approver]),
    ("Sofia Alvarez", "sofia@halyard.example", &[Role::Approver]),
    ("Hannah Schmidt", "hannah@halyard.example", &[Role::Privacy]),
    ("Omar Haddad", "omar@halyard.example", &[Role::Finance]),
    ("Grace Chen", "grace@halyard.example", &[Role::Sales]),
    ("Tom Becker", "tom@halyard.example", &[Role::Sales]),
    ("Ava Novak", "ava@halyard.example", &[Role::Viewer]),
];

/// (team, description, member e-mails)
const TEAMS: &[(&str, &str, &[&str])] = &[
    (
        "Marketing Operations",
        "Owns the martech stack, intake and data quality.",
        &[
            "maya@halyard.example",
            "jonas@halyard.example",
            "priya@halyard.example",
        ],
    ),
    (
        "Demand Generation",
        "Campaigns, webinars and paid media.",
        &["lucas@halyard.example", "emma@halyard.example"],
    ),
    (
        "Brand & Legal Review",
        "Approves creative, claims and compliance.",
        &["daniel@halyard.example", "sofia@halyard.example"],
    ),
    (
        "Privacy Office",
        "Consent, subject requests and retention.",
        &["hannah@halyard.example"],
    ),
    (
        "Finance",
        "Budgets, purchase orders and invoices.",
        &["omar@halyard.example"],
    ),
    (
        "Sales Development",
        "Works MQLs within the hand-off SLA.",
        &["grace@halyard.example", "tom@halyard.example"],
    ),
];

/// Seeds the demo workspace when the database has no users; prints how to sign in either way.
pub async fn seed_if_empty(store: &Store) -> anyhow::Result<()> {
    if accounts::count_users(store).await? == 0 {
        let actor = Actor::System("demo");
        // Hash once: argon2 is deliberately slow and every demo user shares the password.
        let hash = hash_password(DEMO_PASSWORD)?;
        for (name, email, roles) in PEOPLE {
            let new = NewUser {
                email: EmailAddress::parse(email).context("demo e-mail")?,
                name: (*name).to_string(),
                password_hash: Some(hash.clone()),
                roles: roles.to_vec(),
            };
            accounts::create_user(store, &actor, &new).await?;
        }
        for (team, description, members) in TEAMS {
            let t = accounts::create_team(store, &actor, team, description).await?;
            for email in *members {
                let email = EmailAddress::parse(email).context("demo e-mail")?;
                if let Some(u) = accounts::user_by_email(store, &email).await? {
                    accounts::add_team_member(store, &actor, t.id, u.user.id).await?;
                }
            }
        }
        seed_events(store).await?;
        attribution::seed(store).await?;
        seed_stack(store).await?;
        work::seed(store).await?;
        crate::demo_privacy::seed(store).await?;
        crate::demo_contacts::seed(store).await?;
        crate::demo_privacy::seed_contact_retention(store).await?;
        println!(
            "Created the demo workspace for Halyard Outdoor ({} people, {} teams).",
            PEOPLE.len(),
            TEAMS.len()
        );
    }
    println!(
        "Demo sign-in: maya@halyard.example (admin) — or any of the people below — password `{DEMO_PASSWORD}`"
    );
    for (name, email, roles) in PEOPLE {
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        println!("  {email:<26} {name:<16} {}", roles.join(", "));
    }
    Ok(())
}

/// A small deterministic generator, so the demo is the same on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Seeds a `website` source with a day of realistic traffic: page views from campaigns, sign-ups,
/// identifies, and a few malformed messages that were refused.
async fn seed_events(store: &Store) -> anyhow::Result<()> {
    use keel_store::events::{self, RejectedEvent};
    let (source, _key) = events::create_source(store, &Actor::System("demo"), "website").await?;
    let campaigns = [
        ("google", "cpc", "winter-sale"),
        ("newsletter", "email", "november-digest"),
        ("linkedin", "paid-social", "b2b-retargeting"),
        ("facebook", "paid-social", "gift-guide"),
        ("", "", ""),
    ];
    let pages = [
        "/",
        "/pricing",
        "/products/storm-shell",
        "/blog/layering-guide",
        "/demo",
    ];
    let mut rng = Lcg(2026);
    let now = chrono::Utc::now();
    let mut accepted = Vec::new();
    for i in 0..600u64 {
        let visitor = rng.next(180);
        let (source_name, medium, campaign) = campaigns[rng.next(campaigns.len() as u64) as usize];
        let at = now - chrono::Duration::seconds(rng.next(24 * 3600) as i64);
        let page = pages[rng.next(pages.len() as u64) as usize];
        let mut context = serde_json::json!({"page": {"path": page, "url": format!("https://halyard.example{page}")}, "userAgent": "Mozilla/5.0"});
        if !source_name.is_empty() {
            context["campaign"] =
                serde_json::json!({"source": source_name, "medium": medium, "name": campaign});
        }
        let msg = match i % 10 {
            0 => {
                serde_json::json!({"type": "track", "event": "Demo Requested", "anonymousId": format!("anon-{visitor}"), "messageId": format!("demo-{i}"), "timestamp": at.to_rfc3339(), "context": context, "properties": {"form": "demo"}})
            }
            1 => {
                serde_json::json!({"type": "identify", "userId": format!("lead-{visitor}"), "anonymousId": format!("anon-{visitor}"), "messageId": format!("demo-{i}"), "timestamp": at.to_rfc3339(), "traits": {"email": format!("lead{visitor}@example.com")}})
            }
            _ => {
                serde_json::json!({"type": "page", "name": page, "anonymousId": format!("anon-{visitor}"), "messageId": format!("demo-{i}"), "timestamp": at.to_rfc3339(), "context": context})
            }
        };
        if let Ok(e) = keel_events::parse_message(&msg, None, None, at) {
            accepted.push(e);
        }
    }
    let refused = [
        serde_json::json!({"type": "track", "anonymousId": "anon-7"}),
        serde_json::json!({"type": "page"}),
    ];
    let rejected: Vec<RejectedEvent> = refused
        .iter()
        .filter_map(|m| {
            keel_events::parse_message(m, None, None, now)
                .err()
                .map(|r| RejectedEvent {
                    reason: r.code().into(),
                    detail: r.to_string(),
                    payload: m.to_string(),
                })
        })
        .collect();
    events::ingest(store, source.id, &accepted, &rejected).await?;
    Ok(())
}

/// The demo company's stack as code, compiled into the binary so `--demo` works from anywhere.
static DEMO_STACK: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../examples/ops");

/// Applies `examples/ops` — about 40 tools with owners, contracts, integrations and deliberate
/// problems — exactly as `keel apply examples/ops` would.
async fn seed_stack(store: &Store) -> anyhow::Result<()> {
    let mut files = Vec::new();
    collect(&DEMO_STACK, &mut files);
    let loaded = keel_manifests::load(&files, &keel_web::ops::registry());
    if loaded.has_errors() {
        let first = loaded
            .diagnostics
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        anyhow::bail!("the built-in demo stack does not check: {first}");
    }
    let current = keel_web::ops::current_documents(store).await?;
    let plan = keel_manifests::plan(&current, &loaded.documents());
    keel_web::ops::apply_plan(
        store,
        &Actor::System("demo"),
        &plan,
        "demo stack (examples/ops)",
    )
    .await?;
    Ok(())
}

fn collect(dir: &include_dir::Dir<'static>, out: &mut Vec<keel_manifests::SourceFile>) {
    for file in dir.files() {
        let path = file.path().to_string_lossy().to_string();
        if (path.ends_with(".yaml") || path.ends_with(".yml"))
            && let Some(text) = file.contents_utf8()
        {
            out.push(keel_manifests::SourceFile::new(
                format!("examples/ops/{path}"),
                text,
            ));
        }
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}
