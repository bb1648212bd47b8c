//! The demo's work: Halyard Outdoor's roster and about sixty requests of every type in every
//! state, with back-dated histories — decided by policy and by people, reworked, rejected,
//! cancelled, launched, and some left waiting long enough to breach their SLAs and escalate.
//! Everything goes through the same submission, transition and vote paths as the product, only
//! with past timestamps.

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use keel_accounts::{EmailAddress, Role};
use keel_store::work as stored;
use keel_store::{Actor, Store};
use keel_web::work::{self as flow, Person, Submission, Vote, Workspace};
use serde_json::json;

const ROSTER: &str = include_str!("work-roster.yaml");

async fn person(store: &Store, email: &str) -> anyhow::Result<Person> {
    let e = EmailAddress::parse(email).context("demo e-mail")?;
    let u = keel_store::accounts::user_by_email(store, &e)
        .await?
        .with_context(|| format!("demo user {email}"))?;
    Ok(Person {
        user_id: u.user.id,
        email: u.user.email.clone(),
        roles: u.roles.clone(),
    })
}

/// The fields of the `n`-th demo request of a type, with dates relative to its submission.
fn fields(kind: &str, n: usize, submitted: NaiveDate) -> serde_json::Value {
    let day = |d: u64| (submitted + chrono::Days::new(d)).to_string();
    let regions = ["emea", "americas", "apac"];
    let region = regions[n % regions.len()];
    match kind {
        "campaign_brief" => {
            let themes = [
                "Spring trail season",
                "Alpine winter gear",
                "Summer festival kit",
                "Back to the mountains",
                "Rain-ready commuting",
                "Family camping week",
            ];
            let theme = themes[n % themes.len()];
            let paid = n.is_multiple_of(3);
            let channels: Vec<&str> = if paid {
                vec!["email", "paid_social"]
            } else {
                vec!["email", "organic_social"]
            };
            let budget = [250_000, 420_000, 1_800_000, 6_500_000, 300_000][n % 5];
            json!({
                "name": format!("{theme} {}", region.to_uppercase()),
                "campaign_code": format!("{}-{}-{:02}", region.to_uppercase(), submitted.format("%Y"), n % 90 + 1),
                "audience": {"segment": format!("{region}-active-customers"), "size": ([18_000, 42_000, 96_000, 310_000][n % 4])},
                "goals": format!("Grow repeat purchases of {} among active customers in {} ahead of the season.", theme.to_lowercase(), region.to_uppercase()),
                "success_metrics": "2,000 orders, 180,000 EUR revenue and a 4% click rate within 60 days of launch.",
                "brand_constraints": "Use the 2026 outdoor visual system; product claims reviewed against the spec sheets.",
                "technical_requirements": "UTMs per channel; landing page form writes to the CRM campaign.",
                "channels": channels,
                "gated_asset": n % 5 == 1,
                "landing_page_needed": n.is_multiple_of(2),
                "launch_date": day(30 + (n as u64 % 20)),
                "end_date": day(75 + (n as u64 % 20)),
                "budget": {"amount_minor": budget, "currency": "EUR"},
                "region": region,
                "owner": (["jonas", "lucas", "emma"][n % 3]),
                "brief_doc": format!("https://drive.halyard.example/briefs/{n}"),
            })
        }
        "email_send" => {
            let kinds = [
                "newsletter",
                "product_update",
                "nurture",
                "promotional",
                "event_invitation",
            ];
            let subjects = [
                "Your trail guide for the weekend",
                "New: the Ridgeline 2 rain shell",
                "Three ways to pack lighter",
                "48 hours: 20% off camp kitchens",
                "What our guides are wearing this month",
            ];
            json!({
                "name": format!("{} #{n}", subjects[n % subjects.len()]),
                "send_type": kinds[n % kinds.len()],
                "audience": {"segment": format!("{region}-newsletter"), "size": ([24_000, 61_000, 140_000, 280_000][n % 4])},
                "send_date": day(7 + (n as u64 % 10)),
                "subject_line": subjects[n % subjects.len()],
                "preheader": "Fresh routes, gear notes and a few surprises",
                "esp": "braze",
                "content_doc": format!("https://drive.halyard.example/emails/{n}"),
                "personalised": n.is_multiple_of(2),
            })
        }
        "landing_page" => json!({
            "name": format!("Ridgeline launch page {n}"),
            "url_slug": format!("ridgeline-{n}"),
            "purpose": (["lead_capture", "event_registration", "product_launch", "content_hub"][n % 4]),
            "gated_asset": n.is_multiple_of(3),
            "form_required": true,
            "audience": {"segment": format!("{region}-prospects"), "size": 40_000},
            "launch_date": day(14 + (n as u64 % 10)),
            "cms": "contentful",
            "copy_doc": format!("https://drive.halyard.example/pages/{n}"),
            "tracking_requirements": "GA4 and the Keel tracking API; consent-gated pixels only.",
        }),
        "webinar" => json!({
            "title": format!("Layering for alpine conditions, part {n}"),
            "abstract": "Our mountain guides walk through layering systems for changing alpine weather: base layers, insulation, shells, and what to pack for a long day above the tree line.",
            "event_date": day(28 + (n as u64 % 14)),
            "speakers": "Ana Ruiz (lead guide), Tom Becker (product)",
            "platform": "zoom-webinars",
            "audience": {"segment": format!("{region}-outdoor-enthusiasts"), "size": 22_000},
            "expected_registrants": 400 + n * 10,
            "channels": ["email", "organic_social"],
            "budget": {"amount_minor": 150_000, "currency": "EUR"},
            "recording_needed": true,
            "owner": "emma",
        }),
        "data_pull" => json!({
            "question": format!("Which customers bought a tent in {} last season but no accessories since, by store region?", region.to_uppercase()),
            "data_sources": ["crm", "events"],
            "period_start": (submitted - chrono::Days::new(180)).to_string(),
            "period_end": (submitted - chrono::Days::new(1)).to_string(),
            "due_date": day(10),
            "output_format": "csv",
            "contains_personal_data": n.is_multiple_of(2),
            "purpose_of_use": "Cross-sell campaign planning",
        }),
        _ => json!({
            "tool_name": (["Surveyly", "Pathfinder Maps", "Loopback Reviews"][n % 3]),
            "vendor": (["Surveyly GmbH", "Pathfinder Ltd", "Loopback Inc"][n % 3]),
            "category": "other",
            "problem_statement": "Feedback from guided tours is collected on paper and never reaches the CRM; we cannot segment by satisfaction.",
            "annual_cost": {"amount_minor": ([480_000, 1_200_000, 2_900_000][n % 3]), "currency": "EUR"},
            "seats": 4 + n % 5,
            "processes_personal_data": true,
            "service_owner": "priya",
            "needed_by": day(60),
            "security_questionnaire": format!("https://drive.halyard.example/vendors/{n}/security.pdf"),
        }),
    }
}

/// Runs the pre-launch check a request's content passed (the clean sample email or page) and
/// attaches the stored run, as QA does before launch.
async fn attach_clean_check(
    store: &Store,
    actor: &Actor,
    request: &stored::Request,
    by: &str,
) -> anyhow::Result<()> {
    let policy = keel_checks::Policy::default();
    let (kind, name, report) = if request.request_type == "landing_page" {
        let html = include_str!("../../../keel-checks/testdata/page/good.html");
        (
            "page",
            "landing-page.html",
            keel_checks::check_page(html.as_bytes(), &policy),
        )
    } else {
        let html = include_str!("../../../keel-checks/testdata/email/clean.html");
        (
            "email",
            "email.html",
            keel_checks::check_email(html.as_bytes(), &policy),
        )
    };
    let run = keel_store::checks::record(
        store,
        actor,
        &keel_store::checks::NewCheckRun {
            kind: kind.into(),
            name: format!("#{} {name}", request.id),
            errors: report.count(keel_checks::Severity::Error) as i64,
            warnings: report.count(keel_checks::Severity::Warning) as i64,
            infos: report.count(keel_checks::Severity::Info) as i64,
            report: serde_json::to_value(&report)?,
        },
    )
    .await?;
    stored::attach_check_run(store, actor, request.id, run.id, by).await?;
    Ok(())
}

/// What happens to a demo request after submission.
#[derive(Clone, Copy)]
enum Story {
    /// Left as policy left it (approved, or waiting in an inbox — long waits breach the SLA).
    AsDecided,
    /// Approved by people if needed, then scheduled, live and done.
    Done,
    /// Approved, scheduled and live.
    Live,
    /// Approved and scheduled.
    Scheduled,
    /// Sent back for changes, reworked and resubmitted.
    Rework,
    /// Rejected by an approver.
    Rejected,
    /// Cancelled by the requester.
    Cancelled,
}

const STORIES: [Story; 10] = [
    Story::Done,
    Story::AsDecided,
    Story::Live,
    Story::Scheduled,
    Story::Rework,
    Story::Done,
    Story::AsDecided,
    Story::Rejected,
    Story::Cancelled,
    Story::Scheduled,
];

const KINDS: [&str; 6] = [
    "campaign_brief",
    "email_send",
    "landing_page",
    "webinar",
    "data_pull",
    "new_tool_request",
];

/// Seeds the roster and the demo requests. Requests whose type is missing or whose submission
/// no longer validates are skipped with a note (the documents are data and may change).
pub async fn seed(store: &Store) -> anyhow::Result<()> {
    let roster: serde_json::Value = serde_yaml_ng::from_str(ROSTER).context("demo work roster")?;
    let actor = Actor::System("demo");
    stored::set_roster(store, &actor, &roster).await?;
    let ws = Workspace::load(store)
        .await
        .map_err(|e| anyhow::anyhow!("loading the work documents: {e}"))?;
    let requesters = [
        person(store, "lucas@halyard.example").await?,
        person(store, "emma@halyard.example").await?,
        person(store, "jonas@halyard.example").await?,
        person(store, "priya@halyard.example").await?,
    ];
    let ops = person(store, "priya@halyard.example").await?;
    let approvers = [
        person(store, "daniel@halyard.example").await?,
        person(store, "sofia@halyard.example").await?,
        person(store, "omar@halyard.example").await?,
        person(store, "maya@halyard.example").await?,
    ];
    let now = Utc::now();
    let mut skipped = Vec::new();
    for n in 0..60usize {
        let kind = KINDS[n % KINDS.len()];
        if ws.request_type(kind).is_none() {
            skipped.push(format!("{kind}: no such request type"));
            continue;
        }
        // Spread submissions over the last 75 days, in working hours.
        let age_days = 2 + (n as i64 * 37) % 74;
        let at = now - Duration::days(age_days) - Duration::hours((n as i64 * 5) % 7);
        let who = &requesters[n % requesters.len()];
        let submission = Submission {
            request_type: kind.into(),
            title: None,
            priority: Some(["normal", "high", "normal", "low", "urgent"][n % 5].into()),
            fields: fields(kind, n, at.date_naive()),
        };
        let submitted = match flow::submit(store, &ws, &actor, who, &submission, at).await {
            Ok(s) => s,
            Err(e) => {
                skipped.push(format!("{kind} #{n}: {e}"));
                continue;
            }
        };
        let story = STORIES[n % STORIES.len()];
        if let Err(e) = play(
            store,
            &ws,
            &actor,
            &ops,
            who,
            &approvers,
            submitted.request.id,
            story,
            at,
            n,
        )
        .await
        {
            skipped.push(format!("{kind} #{n} story: {e}"));
        }
    }
    for s in &skipped {
        eprintln!("demo: skipped {s}");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn play(
    store: &Store,
    ws: &Workspace,
    actor: &Actor,
    ops: &Person,
    requester: &Person,
    approvers: &[Person],
    id: i64,
    story: Story,
    at: DateTime<Utc>,
    n: usize,
) -> anyhow::Result<()> {
    let err = |e: keel_web::error::ApiError| anyhow::anyhow!("{e}");
    let mut t = at;
    let mut step = |hours: i64| {
        t += Duration::hours(hours);
        t
    };
    if matches!(story, Story::AsDecided) {
        return Ok(());
    }
    if matches!(story, Story::Cancelled) {
        flow::transition(
            store,
            ws,
            actor,
            requester,
            id,
            "cancelled",
            Some("Budget moved to the spring programme"),
            None,
            step(20),
        )
        .await
        .map_err(err)?;
        return Ok(());
    }
    // People decide whatever policy sent to them.
    let pending = stored::approvals(store, id)
        .await?
        .into_iter()
        .find(|a| a.status == "pending");
    if let Some(a) = pending {
        let voters: Vec<&Person> = approvers
            .iter()
            .filter(|p| {
                ws.is_approver(&p.email, &p.roles, &a.approvers.0)
                    && !p.roles.contains(&Role::Admin)
            })
            .chain(approvers.iter().filter(|p| p.roles.contains(&Role::Admin)))
            .collect();
        match story {
            Story::Rejected => {
                if let Some(v) = voters.first() {
                    flow::vote(
                        store,
                        ws,
                        actor,
                        v,
                        a.id,
                        Vote::Reject,
                        Some("Overlaps the retail programme's audience that month"),
                        step(30),
                    )
                    .await
                    .map_err(err)?;
                }
                return Ok(());
            }
            Story::Rework => {
                if let Some(v) = voters.first() {
                    flow::vote(
                        store,
                        ws,
                        actor,
                        v,
                        a.id,
                        Vote::RequestChanges,
                        Some("Success metrics need a revenue target and the audience definition"),
                        step(26),
                    )
                    .await
                    .map_err(err)?;
                    let machine = ws.machine(&stored::request(store, id).await?.request_type);
                    if machine
                        .allowed_from("changes_requested")
                        .contains(&"rework")
                    {
                        flow::transition(
                            store,
                            ws,
                            actor,
                            requester,
                            id,
                            "rework",
                            None,
                            None,
                            step(20),
                        )
                        .await
                        .map_err(err)?;
                    }
                    flow::transition(
                        store,
                        ws,
                        actor,
                        requester,
                        id,
                        "submitted",
                        Some("Added revenue target and audience rules"),
                        None,
                        step(30),
                    )
                    .await
                    .map_err(err)?;
                }
                return Ok(());
            }
            _ => {
                for v in voters {
                    let r = stored::request(store, id).await?;
                    if r.status != "in_review" {
                        break;
                    }
                    let still_open = stored::approvals(store, id)
                        .await?
                        .into_iter()
                        .any(|x| x.id == a.id && x.status == "pending");
                    if !still_open {
                        break;
                    }
                    // Some approvals take long enough to breach the approval clock.
                    let wait = if n.is_multiple_of(4) { 40 } else { 5 };
                    let _ = flow::vote(store, ws, actor, v, a.id, Vote::Approve, None, step(wait))
                        .await;
                }
            }
        }
    }
    let r = stored::request(store, id).await?;
    if r.status != "approved" {
        return Ok(());
    }
    let steps = match story {
        Story::Scheduled => 1,
        Story::Live => 2,
        Story::Done => 3,
        _ => 0,
    };
    // Walk forward through the type's own lifecycle (approved → scheduled → live → done, or
    // approved → in progress → delivered → done).
    let machine = ws.machine(&r.request_type);
    let mut at_status = r.status.clone();
    for i in 0..steps {
        let Some(to) = machine
            .allowed_from(&at_status)
            .into_iter()
            .find(|s| !matches!(*s, "cancelled" | "rejected"))
            .map(str::to_owned)
        else {
            break;
        };
        // Launch slips on some requests, breaching the launch clock.
        let gap = if to == "live" && n.is_multiple_of(3) {
            200
        } else {
            24 + 12 * i as i64
        };
        let when = step(gap);
        if when > Utc::now() {
            break;
        }
        if to == "live"
            && ws
                .request_type(&r.request_type)
                .is_some_and(|t| t.spec.launch_requires_clean_check)
        {
            attach_clean_check(store, actor, &r, &ops.email).await?;
        }
        flow::transition(store, ws, actor, ops, id, &to, None, None, when)
            .await
            .map_err(err)?;
        at_status = to;
    }
    Ok(())
}
