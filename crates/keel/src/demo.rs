//! The demo workspace: a fictional company, Halyard Outdoor, with people in every role and teams.
//! Seeded only into an empty database, so `keel serve --demo` is safe to run twice.

use anyhow::Context;
use keel_accounts::{EmailAddress, Role, hash_password};
use keel_store::accounts::{self, NewUser};
use keel_store::{Actor, Store};

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
