//! The one way pages are rendered: minijinja templates compiled into the binary, autoescaped,
//! inside one layout whose navigation shows only the areas the caller's roles allow.

use crate::AppState;
use crate::auth::Caller;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use keel_policy::Action;
use minijinja::Environment;
use serde::Serialize;

/// Compiled templates.
#[derive(Debug)]
pub struct Pages {
    env: Environment<'static>,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("logo.svg", include_str!("../templates/logo.svg")),
    ("login.html", include_str!("../templates/login.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("tokens.html", include_str!("../templates/tokens.html")),
    ("jobs.html", include_str!("../templates/jobs.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("events.html", include_str!("../templates/events.html")),
    (
        "attribution_dashboard.html",
        include_str!("../templates/attribution_dashboard.html"),
    ),
    (
        "attribution_journeys.html",
        include_str!("../templates/attribution_journeys.html"),
    ),
    ("catalog.html", include_str!("../templates/catalog.html")),
    ("changes.html", include_str!("../templates/changes.html")),
    ("checks.html", include_str!("../templates/checks.html")),
    ("tool.html", include_str!("../templates/tool.html")),
    ("audits.html", include_str!("../templates/audits.html")),
    ("graph.html", include_str!("../templates/graph.html")),
    (
        "contacts_list.html",
        include_str!("../templates/contacts_list.html"),
    ),
    (
        "contacts_record.html",
        include_str!("../templates/contacts_record.html"),
    ),
    (
        "contacts_imports.html",
        include_str!("../templates/contacts_imports.html"),
    ),
    (
        "contacts_import.html",
        include_str!("../templates/contacts_import.html"),
    ),
    (
        "contacts_review.html",
        include_str!("../templates/contacts_review.html"),
    ),
    (
        "contacts_quality.html",
        include_str!("../templates/contacts_quality.html"),
    ),
    (
        "contacts_handoffs.html",
        include_str!("../templates/contacts_handoffs.html"),
    ),
    (
        "catalog_new.html",
        include_str!("../templates/catalog_new.html"),
    ),
    ("work_new.html", include_str!("../templates/work_new.html")),
    (
        "work_form.html",
        include_str!("../templates/work_form.html"),
    ),
    (
        "work_list.html",
        include_str!("../templates/work_list.html"),
    ),
    (
        "work_request.html",
        include_str!("../templates/work_request.html"),
    ),
    (
        "work_inbox.html",
        include_str!("../templates/work_inbox.html"),
    ),
    (
        "work_calendar.html",
        include_str!("../templates/work_calendar.html"),
    ),
    (
        "work_workload.html",
        include_str!("../templates/work_workload.html"),
    ),
    ("work_sla.html", include_str!("../templates/work_sla.html")),
];

impl Pages {
    /// Compiles every template; fails at start-up, not on first use, if one is broken.
    pub fn load() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        // Autoescape `.svg` includes as HTML too (they are markup, included verbatim by design).
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".svg") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        env.add_filter("when", when);
        for (name, source) in TEMPLATES.iter().chain(crate::pages::privacy::TEMPLATES) {
            env.add_template(name, source)?;
        }
        Ok(Pages { env })
    }

    /// Renders a template, or a plain error page if rendering fails.
    pub fn render(&self, name: &str, ctx: impl Serialize) -> Response {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!("rendering {name}: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<h1>Keel could not render this page</h1>"),
                )
                    .into_response()
            }
        }
    }

    /// Renders a template to a string (for downloads that are not pages).
    pub fn render_to_string(
        &self,
        name: &str,
        ctx: impl Serialize,
    ) -> Result<String, minijinja::Error> {
        self.env.get_template(name).and_then(|t| t.render(ctx))
    }

    /// Renders the error page with a status.
    pub fn error(&self, status: StatusCode, title: &str, detail: &str) -> Response {
        let mut r = self.render("error.html", minijinja::context! { title, detail });
        *r.status_mut() = status;
        r
    }
}

/// Formats an RFC 3339 timestamp for people: `2026-11-21 19:00 UTC`. Anything else is shown as is.
fn when(value: String) -> String {
    chrono::DateTime::parse_from_rfc3339(&value)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or(value)
}

/// One link in the navigation.
#[derive(Debug, Serialize)]
pub struct NavItem {
    /// Text.
    pub label: &'static str,
    /// Target.
    pub href: &'static str,
    /// Whether it is the current page.
    pub active: bool,
}

/// A group of links.
#[derive(Debug, Serialize)]
pub struct NavGroup {
    /// Heading.
    pub label: &'static str,
    /// Links the caller may follow.
    pub items: Vec<NavItem>,
}

/// Every area of the UI: group, label, path, and the action needed to see it. Later capabilities
/// add their areas here.
pub const AREAS: &[(&str, &str, &str, Action)] = &[
    ("Workspace", "Overview", "/", Action::MeRead),
    (
        "Work",
        "New request",
        "/requests/new",
        Action::RequestsSubmit,
    ),
    ("Work", "Requests", "/requests", Action::RequestsRead),
    ("Work", "Approvals", "/approvals", Action::ApprovalsDecide),
    ("Work", "Calendar", "/calendar", Action::CalendarRead),
    ("Work", "Workload", "/workload", Action::CalendarRead),
    ("Work", "SLA board", "/sla", Action::RequestsRead),
    ("Stack", "Catalog", "/catalog", Action::CatalogRead),
    (
        "Stack",
        "Stack graph",
        "/catalog/graph",
        Action::CatalogRead,
    ),
    ("Stack", "Audits", "/catalog/audits", Action::CatalogRead),
    (
        "Stack",
        "Changes & incidents",
        "/catalog/changes",
        Action::CatalogRead,
    ),
    (
        "Quality",
        "Email & page checks",
        "/checks",
        Action::ChecksRun,
    ),
    ("Measure", "Events", "/events", Action::EventsRead),
    (
        "Privacy",
        "Consent ledger",
        "/consent",
        Action::PrivacyManage,
    ),
    (
        "Privacy",
        "Suppressions",
        "/consent/suppressions",
        Action::PrivacyManage,
    ),
    (
        "Privacy",
        "Subject requests",
        "/consent/requests",
        Action::PrivacyManage,
    ),
    (
        "Privacy",
        "Retention",
        "/consent/retention",
        Action::PrivacyManage,
    ),
    (
        "Privacy",
        "Tag registry",
        "/consent/tags",
        Action::PrivacyManage,
    ),
    ("Contacts", "Contacts", "/contacts", Action::ContactsRead),
    (
        "Contacts",
        "Imports",
        "/contacts/imports",
        Action::ContactsRead,
    ),
    (
        "Contacts",
        "Duplicates",
        "/contacts/duplicates",
        Action::ContactsRead,
    ),
    (
        "Contacts",
        "Data quality",
        "/contacts/quality",
        Action::ContactsRead,
    ),
    (
        "Contacts",
        "MQL hand-offs",
        "/contacts/handoffs",
        Action::SalesHandoff,
    ),
    (
        "Measure",
        "Attribution",
        "/attribution",
        Action::AttributionRead,
    ),
    (
        "Measure",
        "Journeys",
        "/attribution/journeys",
        Action::AttributionRead,
    ),
    ("Admin", "People", "/admin/users", Action::UsersManage),
    (
        "Admin",
        "API tokens",
        "/admin/tokens",
        Action::TokensManageOwn,
    ),
    ("Admin", "Jobs", "/admin/jobs", Action::JobsRead),
    ("Admin", "Audit log", "/audit", Action::AuditRead),
];

/// The navigation for `caller`, marking `current` as active.
pub fn nav(state: &AppState, caller: &Caller, current: &str) -> Vec<NavGroup> {
    let mut groups: Vec<NavGroup> = Vec::new();
    for (group, label, href, action) in AREAS {
        if !caller.can(state, *action) {
            continue;
        }
        let item = NavItem {
            label,
            href,
            active: *href == current,
        };
        match groups.iter_mut().find(|g| g.label == *group) {
            Some(g) => g.items.push(item),
            None => groups.push(NavGroup {
                label: group,
                items: vec![item],
            }),
        }
    }
    groups
}

/// The part of every page's context that the layout needs.
#[derive(Debug, Serialize)]
pub struct Frame {
    /// Page title.
    pub title: String,
    /// Navigation.
    pub nav: Vec<NavGroup>,
    /// The caller.
    pub me: FrameUser,
    /// CSRF token for forms.
    pub csrf: String,
    /// A success message.
    pub notice: Option<String>,
    /// Validation errors to show.
    pub errors: Vec<crate::error::FieldError>,
}

/// The caller as the layout shows them.
#[derive(Debug, Serialize)]
pub struct FrameUser {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Roles.
    pub roles: Vec<String>,
}

impl Frame {
    /// The frame for a page at `path`.
    pub fn new(state: &AppState, caller: &Caller, title: &str, path: &str) -> Self {
        Frame {
            title: title.to_string(),
            nav: nav(state, caller, path),
            me: FrameUser {
                id: caller.user.user.id,
                name: caller.user.user.name.clone(),
                roles: caller
                    .roles
                    .iter()
                    .map(|r| r.as_str().to_string())
                    .collect(),
            },
            csrf: caller.csrf_token().to_string(),
            notice: None,
            errors: Vec::new(),
        }
    }
}
