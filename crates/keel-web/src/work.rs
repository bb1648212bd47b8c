//! The bridge between the pure work domain (`keel-work`) and storage: building the workspace from
//! the stored ops-as-code documents, and the operations the API, the pages, the SLA job and the
//! demo share — submitting a request (validate → plan → decide by policy), moving it through its
//! state machine, voting on approvals, SLA clocks from the stored history, the campaign calendar
//! and capacity. Everything that decides lives in `keel-work`; this module reads, calls, stores.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Days, NaiveDate, Utc};
use keel_accounts::Role;
use keel_store::work::{self as stored, NewRequest, Request};
use keel_store::{Actor, Store};
use keel_work::approval::{ApprovalPolicies, Decision, Needed, Outcome};
use keel_work::campaign::{CalendarEntry, CampaignRulesSpec};
use keel_work::capacity::{Booking, Roster};
use keel_work::condition::{FactValue, Facts};
use keel_work::intake::{FieldProblem, IntakeContext, RequestTypeSpec};
use keel_work::routing::WorkflowSpec;
use keel_work::schedule::{Schedule, ScheduleInput};
use keel_work::sla::{ClockReport, EscalationPathSpec, SlaSpec, StatusEvent};
use keel_work::states::{StateMachineSpec, TransitionRefused};
use keel_work::workspace::WorkDocuments;
use keel_work::{Calendar, Document, Party};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, FieldError};
use crate::ops::current_documents;

/// The roster as stored: people who take routed work, standing allocations, and which Keel
/// account (e-mail) each person signs in with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredRoster {
    /// People and allocations.
    #[serde(flatten)]
    pub roster: Roster,
    /// Roster person id → account e-mail.
    #[serde(default)]
    pub accounts: BTreeMap<String, String>,
}

/// Everything the work engines need, read from the stored documents and roster.
#[derive(Debug)]
pub struct Workspace {
    /// The documents.
    pub docs: WorkDocuments,
    /// Approval policies compiled once.
    pub policies: ApprovalPolicies,
    /// Calendars by name.
    pub calendars: BTreeMap<String, Calendar>,
    /// People, allocations and their accounts.
    pub roster: StoredRoster,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// Builds the work documents from stored documents.
pub fn work_documents(all: &[keel_manifests::Document]) -> Result<WorkDocuments, ApiError> {
    WorkDocuments::from_documents(all).map_err(internal)
}

impl Workspace {
    /// Reads the workspace from the database.
    pub async fn load(store: &Store) -> Result<Workspace, ApiError> {
        let all = current_documents(store).await.map_err(internal)?;
        let roster = match stored::roster(store).await? {
            Some(v) => serde_json::from_value(v).map_err(|e| internal(format!("roster: {e}")))?,
            None => StoredRoster::default(),
        };
        Workspace::from_documents(work_documents(&all)?, roster)
    }

    /// Builds a workspace from documents and a roster.
    pub fn from_documents(
        docs: WorkDocuments,
        roster: StoredRoster,
    ) -> Result<Workspace, ApiError> {
        let policies = ApprovalPolicies::compile(&docs.policies).map_err(internal)?;
        let mut calendars = BTreeMap::new();
        for c in &docs.calendars {
            calendars.insert(c.metadata.name.clone(), c.spec.compile().map_err(internal)?);
        }
        Ok(Workspace {
            docs,
            policies,
            calendars,
            roster,
        })
    }

    /// A request type by name.
    pub fn request_type(&self, name: &str) -> Option<&Document<RequestTypeSpec>> {
        self.docs
            .request_types
            .iter()
            .find(|t| t.metadata.name == name)
    }

    /// The state machine of a request type (the standard lifecycle when the type is unknown).
    pub fn machine(&self, request_type: &str) -> StateMachineSpec {
        self.request_type(request_type)
            .map(|t| t.spec.state_machine())
            .unwrap_or_default()
    }

    /// The SLA holding a request type, with its calendar and escalation path.
    pub fn sla_for(
        &self,
        request_type: &str,
    ) -> Option<(&Document<SlaSpec>, &Calendar, Option<&EscalationPathSpec>)> {
        let sla = self
            .docs
            .slas
            .iter()
            .find(|s| s.spec.applies_to.iter().any(|t| t == request_type))?;
        let cal = self.calendars.get(&sla.spec.calendar)?;
        let path = sla.spec.escalation.as_ref().and_then(|e| {
            self.docs
                .escalation_paths
                .iter()
                .find(|p| &p.metadata.name == e)
                .map(|p| &p.spec)
        });
        Some((sla, cal, path))
    }

    /// The calendar a request type is scheduled on: its SLA's, else the first by name.
    pub fn calendar_for(&self, request_type: &str) -> Option<&Calendar> {
        self.sla_for(request_type)
            .map(|(_, c, _)| c)
            .or_else(|| self.calendars.values().next())
    }

    /// The workflow routing a request type.
    pub fn workflow_for(&self, request_type: &str) -> Option<&Document<WorkflowSpec>> {
        self.docs
            .workflows
            .iter()
            .find(|w| w.spec.routes(request_type))
    }

    /// The campaign calendar rules (the first document; the standard rules when none).
    pub fn campaign_rules(&self) -> CampaignRulesSpec {
        self.docs
            .campaign_rules
            .first()
            .map(|d| d.spec.clone())
            .unwrap_or_else(|| CampaignRulesSpec {
                max_sends_per_day: BTreeMap::new(),
                allow_audience_overlap: true,
                blackouts: Vec::new(),
            })
    }

    /// Roster person ids an account is.
    pub fn people_of(&self, email: &str) -> Vec<&str> {
        self.roster
            .accounts
            .iter()
            .filter(|(_, e)| e.eq_ignore_ascii_case(email))
            .map(|(p, _)| p.as_str())
            .collect()
    }

    /// Whether an account (with its Keel roles) is one of `approvers`: `role:X` matches a Keel
    /// role named X or a roster role X of the account's person; `person:P` the account's roster
    /// person; `team:T` the person's team. Administrators may decide anything.
    pub fn is_approver(&self, email: &str, roles: &[Role], approvers: &[String]) -> bool {
        if roles.contains(&Role::Admin) {
            return true;
        }
        let people: Vec<&keel_work::capacity::Person> = self
            .people_of(email)
            .into_iter()
            .filter_map(|p| self.roster.roster.person(p))
            .collect();
        approvers.iter().any(|a| match Party::try_from(a.clone()) {
            Ok(Party::Role(r)) => {
                roles.iter().any(|k| k.as_str() == r) || people.iter().any(|p| p.roles.contains(&r))
            }
            Ok(Party::Person(id)) => people.iter().any(|p| p.id == id),
            Ok(Party::Team(t)) => people.iter().any(|p| p.team.as_deref() == Some(t.as_str())),
            Err(_) => false,
        })
    }
}

/// A submission from the intake form or the API.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The request type.
    pub request_type: String,
    /// Title; derived from the type and fields when absent.
    pub title: Option<String>,
    /// Priority; the type's default when absent.
    pub priority: Option<String>,
    /// The intake fields.
    pub fields: serde_json::Value,
}

/// Who submits or acts.
#[derive(Debug, Clone)]
pub struct Person {
    /// User id.
    pub user_id: i64,
    /// E-mail.
    pub email: String,
    /// Keel roles.
    pub roles: Vec<Role>,
}

/// What intake says before anything is stored: problems, or the plan with its launch date.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// The facts routing and policies read.
    pub facts: Facts,
    /// The scheduled plan (none when no workflow routes the type).
    pub schedule: Option<Schedule>,
    /// What the policies would decide now.
    pub decision: Decision,
}

fn field_errors(problems: Vec<FieldProblem>) -> ApiError {
    ApiError::validation(
        problems
            .into_iter()
            .map(|p| {
                let field = if p.field.is_empty() {
                    "fields".to_owned()
                } else {
                    format!("fields.{}", p.field)
                };
                FieldError::new(
                    field,
                    format!("{} {}", p.label, p.message).trim().to_owned(),
                )
            })
            .collect(),
    )
}

fn date_field(fields: &serde_json::Value, spec: &RequestTypeSpec) -> Option<NaiveDate> {
    // The launch date is the first date field whose key says so, else the first date field.
    let dates: Vec<&keel_work::intake::FieldSpec> = spec
        .fields
        .iter()
        .filter(|f| f.field_type == keel_work::intake::FieldType::Date)
        .collect();
    let pick = dates
        .iter()
        .find(|f| f.key.contains("launch") || f.key.contains("send") || f.key.contains("date"))
        .or_else(|| dates.first())?;
    let text = fields.get(&pick.key)?.as_str()?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Bookings already made by other requests' plans (so capacity is shared).
pub fn existing_bookings(requests: &[Request], except: Option<i64>) -> Vec<Booking> {
    let open = |s: &str| !matches!(s, "done" | "rejected" | "cancelled");
    requests
        .iter()
        .filter(|r| Some(r.id) != except && open(&r.status))
        .filter_map(|r| r.plan.as_ref())
        .filter_map(|p| serde_json::from_value::<Schedule>(p.0.clone()).ok())
        .flat_map(|s| s.bookings)
        .collect()
}

impl Workspace {
    /// Validates a submission and computes its facts, plan and the policy decision, without
    /// storing anything. Invalid submissions are refused with every problem named.
    pub fn estimate(
        &self,
        who: &Person,
        submission: &Submission,
        existing: &[Booking],
        today: NaiveDate,
    ) -> Result<Estimate, ApiError> {
        let ty = self.request_type(&submission.request_type).ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "request_type",
                format!("no request type {:?}", submission.request_type),
            )])
        })?;
        if let Some(p) = &submission.priority
            && !keel_work::intake::PRIORITIES.contains(&p.as_str())
        {
            return Err(ApiError::validation(vec![FieldError::new(
                "priority",
                format!(
                    "{p:?} is not a priority; use one of {}",
                    keel_work::intake::PRIORITIES.join(", ")
                ),
            )]));
        }
        let people: HashSet<String> = self
            .roster
            .roster
            .people
            .iter()
            .map(|p| p.id.clone())
            .chain(self.roster.accounts.values().cloned())
            .collect();
        let ctx = IntakeContext {
            today: Some(today),
            people: if people.is_empty() {
                None
            } else {
                Some(&people)
            },
            tools: None,
            audiences: None,
        };
        let problems = ty.spec.check_submission(&submission.fields, &ctx);
        if !problems.is_empty() {
            return Err(field_errors(problems));
        }
        let roles: Vec<String> = who.roles.iter().map(|r| r.as_str().to_owned()).collect();
        let facts = ty.spec.facts(
            &submission.request_type,
            &submission.fields,
            submission.priority.as_deref(),
            &who.email,
            &roles,
        );
        let schedule = match (
            self.workflow_for(&submission.request_type),
            self.calendar_for(&submission.request_type),
        ) {
            (Some(w), Some(cal)) => {
                let plan = w.spec.expand(&facts);
                let blackouts = self.campaign_rules().blackouts;
                let earliest = today.checked_add_days(Days::new(1)).unwrap_or(today);
                Some(
                    keel_work::schedule::schedule(&ScheduleInput {
                        plan: &plan,
                        calendar: cal,
                        roster: &self.roster.roster,
                        earliest_start: earliest,
                        blackouts: &blackouts,
                        existing,
                        requested_launch: date_field(&submission.fields, &ty.spec),
                    })
                    .map_err(|e| {
                        ApiError::validation(vec![FieldError::new("plan", e.to_string())])
                    })?,
                )
            }
            _ => None,
        };
        let decision = self.policies.decide("intake", &facts).map_err(internal)?;
        Ok(Estimate {
            facts,
            schedule,
            decision,
        })
    }
}

/// The result of a submission.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    /// The stored request after policy acted.
    pub request: Request,
    /// The policy decision.
    pub decision: Decision,
}

fn policy_actor(decision: &Decision) -> String {
    format!("policy:{}", decision.policy.as_deref().unwrap_or("none"))
}

fn title_of(submission: &Submission, ty: &Document<RequestTypeSpec>) -> String {
    if let Some(t) = submission
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return t.to_owned();
    }
    for key in ["title", "name", "campaign_name", "subject", "topic"] {
        if let Some(s) = submission.fields.get(key).and_then(|v| v.as_str())
            && !s.trim().is_empty()
        {
            return s.trim().to_owned();
        }
    }
    ty.spec.title.clone()
}

/// Submits a request: validates, plans, stores it as submitted and lets policy decide, all in
/// one transaction. `at` is the submission time (the demo back-dates; everything else is now).
pub async fn submit(
    store: &Store,
    ws: &Workspace,
    actor: &Actor,
    who: &Person,
    submission: &Submission,
    at: DateTime<Utc>,
) -> Result<Submitted, ApiError> {
    let all = stored::all_requests(store).await?;
    let existing = existing_bookings(&all, None);
    let estimate = ws.estimate(who, submission, &existing, at.date_naive())?;
    let ty = ws
        .request_type(&submission.request_type)
        .ok_or_else(|| internal("request type vanished"))?;
    let machine = ty.spec.state_machine();
    let priority = submission
        .priority
        .clone()
        .unwrap_or_else(|| ty.spec.default_priority.clone());
    let mut tx = store.begin().await?;
    let request = stored::insert_request(
        &mut tx,
        actor,
        &NewRequest {
            request_type: submission.request_type.clone(),
            title: title_of(submission, ty),
            status: machine.initial.clone(),
            priority,
            fields: submission.fields.clone(),
            requester_id: who.user_id,
            requester: who.email.clone(),
            requested_launch: date_field(&submission.fields, &ty.spec).map(|d| d.to_string()),
            planned_launch: estimate.schedule.as_ref().map(|s| s.launch.to_string()),
            plan: estimate
                .schedule
                .as_ref()
                .and_then(|s| serde_json::to_value(s).ok()),
            at,
        },
    )
    .await?;
    let mut current = request.clone();
    // draft → submitted by the requester.
    move_in_tx(
        &mut tx,
        actor,
        &machine,
        &mut current,
        "submitted",
        &who.email,
        None,
        at,
    )
    .await?;
    let decision = ws
        .policies
        .decide(&request.id.to_string(), &estimate.facts)
        .map_err(internal)?;
    apply_decision(
        &mut tx,
        actor,
        &machine,
        &mut current,
        &decision,
        &estimate.facts,
        at,
    )
    .await?;
    tx.commit().await?;
    let request = stored::request(store, request.id).await?;
    arm_sla_timer(store, ws, &request).await?;
    Ok(Submitted { request, decision })
}

#[allow(clippy::too_many_arguments)]
async fn move_in_tx(
    tx: &mut keel_store::Tx,
    actor: &Actor,
    machine: &StateMachineSpec,
    request: &mut Request,
    to: &str,
    by: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !machine.allowed_from(&request.status).contains(&to) {
        return Err(refused(TransitionRefused::Illegal {
            from: request.status.clone(),
            to: to.into(),
            allowed: machine
                .allowed_from(&request.status)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }));
    }
    stored::transition(
        tx,
        actor,
        request.id,
        request.version,
        &request.status,
        to,
        by,
        reason,
        at,
    )
    .await?;
    request.status = to.to_owned();
    request.version += 1;
    Ok(())
}

/// Records a policy decision and moves the request accordingly: auto-approve → approved;
/// require approval / escalate / undecided → in review with an open approval for the inbox;
/// reject → rejected.
async fn apply_decision(
    tx: &mut keel_store::Tx,
    actor: &Actor,
    machine: &StateMachineSpec,
    request: &mut Request,
    decision: &Decision,
    facts: &Facts,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let record = serde_json::json!({"decision": decision, "facts": facts});
    let row = stored::record_decision(
        tx,
        actor,
        request.id,
        decision.outcome.word(),
        decision.policy.as_deref(),
        decision.rule.as_deref(),
        "policy",
        record,
        at,
    )
    .await?;
    let by = policy_actor(decision);
    let reason = format!(
        "{} ({}/{})",
        decision.reason,
        decision.policy.as_deref().unwrap_or("-"),
        decision.rule.as_deref().unwrap_or("-")
    );
    let can = |r: &Request, to: &str| machine.allowed_from(&r.status).contains(&to);
    match &decision.outcome {
        Outcome::AutoApprove => {
            if can(request, "in_review") {
                move_in_tx(tx, actor, machine, request, "in_review", &by, None, at).await?;
            }
            if can(request, "approved") {
                move_in_tx(
                    tx,
                    actor,
                    machine,
                    request,
                    "approved",
                    &by,
                    Some(&reason),
                    at,
                )
                .await?;
            }
        }
        Outcome::Reject => {
            if can(request, "rejected") {
                move_in_tx(
                    tx,
                    actor,
                    machine,
                    request,
                    "rejected",
                    &by,
                    Some(&reason),
                    at,
                )
                .await?;
            }
        }
        Outcome::RequireApproval { approvers, needed } => {
            if can(request, "in_review") {
                move_in_tx(tx, actor, machine, request, "in_review", &by, None, at).await?;
            }
            let approvers: Vec<String> = approvers.iter().map(ToString::to_string).collect();
            let (mode, quorum) = match needed {
                Needed::All => ("all", None),
                Needed::Any => ("any", None),
                Needed::Quorum(n) => ("quorum", Some(i64::from(*n))),
            };
            stored::open_approval(tx, request.id, row.id, &approvers, mode, quorum, at).await?;
        }
        Outcome::Escalate { to } => {
            if can(request, "in_review") {
                move_in_tx(tx, actor, machine, request, "in_review", &by, None, at).await?;
            }
            let approvers: Vec<String> = to.iter().map(ToString::to_string).collect();
            stored::open_approval(tx, request.id, row.id, &approvers, "any", None, at).await?;
        }
        Outcome::Undecided => {
            if can(request, "in_review") {
                move_in_tx(tx, actor, machine, request, "in_review", &by, None, at).await?;
            }
            stored::open_approval(
                tx,
                request.id,
                row.id,
                &["role:approver".to_owned()],
                "any",
                None,
                at,
            )
            .await?;
        }
    }
    Ok(())
}

/// Turns a refused transition into its HTTP error: 409 with the allowed moves, 403 for a role,
/// 422 for a missing reason.
pub fn refused(e: TransitionRefused) -> ApiError {
    match e {
        TransitionRefused::Illegal { ref allowed, .. } => ApiError::Conflict {
            allowed: Some(allowed.clone()),
            detail: e.to_string(),
        },
        TransitionRefused::NotPermitted { .. } => ApiError::Forbidden {
            action: "requests.transition",
        },
        TransitionRefused::ReasonRequired { .. } => {
            ApiError::validation(vec![FieldError::new("reason", e.to_string())])
        }
    }
}

/// The roles a person holds in a request's state machine: `requester` for their own requests,
/// `triage` for marketing ops, `approver` for approvers and administrators, plus every role their
/// roster entry gives them (such as `analyst`).
pub fn machine_roles(ws: &Workspace, who: &Person, request: &Request) -> Vec<String> {
    let mut out: Vec<String> = ws
        .people_of(&who.email)
        .into_iter()
        .filter_map(|p| ws.roster.roster.person(p))
        .flat_map(|p| p.roles.iter().cloned())
        .collect();
    if request.requester_id == who.user_id {
        out.push("requester".to_owned());
    }
    if who
        .roles
        .iter()
        .any(|r| matches!(r, Role::Ops | Role::Admin))
    {
        out.push("triage".to_owned());
    }
    if who
        .roles
        .iter()
        .any(|r| matches!(r, Role::Approver | Role::Admin))
    {
        out.push("approver".to_owned());
    }
    out
}

/// Moves a request to `to` on behalf of a person; 409 with the allowed moves when illegal or
/// when another change got there first.
#[allow(clippy::too_many_arguments)] // each is a distinct input; a struct would only rename them
pub async fn transition(
    store: &Store,
    ws: &Workspace,
    actor: &Actor,
    who: &Person,
    request_id: i64,
    to: &str,
    reason: Option<&str>,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Request, ApiError> {
    let request = stored::request(store, request_id).await?;
    if let Some(v) = expected_version
        && v != request.version
    {
        return Err(ApiError::Conflict {
            detail: format!(
                "request {request_id} is at version {}, not {v}; reload and try again",
                request.version
            ),
            allowed: None,
        });
    }
    let machine = ws.machine(&request.request_type);
    let actor_roles = keel_work::states::Actor {
        id: who.email.clone(),
        roles: machine_roles(ws, who, &request),
    };
    let t = machine
        .transition(&request.status, to, &actor_roles, reason, now)
        .map_err(refused)?;
    if to == "live"
        && ws
            .request_type(&request.request_type)
            .is_some_and(|t| t.spec.launch_requires_clean_check)
    {
        let runs = stored::check_runs(store, request.id).await?;
        match runs.first() {
            None => {
                return Err(ApiError::Conflict {
                    detail: format!(
                        "request {} cannot go live before an email or page check run is attached",
                        request.id
                    ),
                    allowed: None,
                });
            }
            Some(run) if run.errors > 0 => {
                return Err(ApiError::Conflict {
                    detail: format!(
                        "request {} cannot go live: its latest check run #{} has {} error-level findings",
                        request.id, run.id, run.errors
                    ),
                    allowed: None,
                });
            }
            Some(_) => {}
        }
    }
    let mut tx = store.begin().await?;
    stored::transition(
        &mut tx,
        actor,
        request.id,
        request.version,
        &t.from,
        &t.to,
        &who.email,
        t.reason.as_deref(),
        now,
    )
    .await
    .map_err(|e| match e {
        keel_store::StoreError::Conflict(detail) => ApiError::Conflict {
            detail,
            allowed: None,
        },
        other => other.into(),
    })?;
    // A request leaving review by a person's move closes whatever approval was open.
    if matches!(
        to,
        "approved" | "rejected" | "changes_requested" | "cancelled"
    ) {
        for a in stored::approvals(&mut tx, request.id).await? {
            if a.status == "pending" {
                let status = if to == "cancelled" { "withdrawn" } else { to };
                stored::close_approval(&mut tx, a.id, status, now).await?;
            }
        }
    }
    tx.commit().await?;
    let request = stored::request(store, request.id).await?;
    // Resubmission after changes: policy decides again on the current fields.
    if to == "submitted" && matches!(t.from.as_str(), "rework" | "changes_requested") {
        return redecide(store, ws, actor, who, request, now).await;
    }
    arm_sla_timer(store, ws, &request).await?;
    Ok(request)
}

async fn redecide(
    store: &Store,
    ws: &Workspace,
    actor: &Actor,
    who: &Person,
    mut request: Request,
    at: DateTime<Utc>,
) -> Result<Request, ApiError> {
    let Some(ty) = ws.request_type(&request.request_type) else {
        return Ok(request);
    };
    let roles: Vec<String> = who.roles.iter().map(|r| r.as_str().to_owned()).collect();
    let facts = ty.spec.facts(
        &request.request_type,
        &request.fields.0,
        Some(&request.priority),
        &request.requester,
        &roles,
    );
    let decision = ws
        .policies
        .decide(&request.id.to_string(), &facts)
        .map_err(internal)?;
    let machine = ty.spec.state_machine();
    let mut tx = store.begin().await?;
    apply_decision(
        &mut tx,
        actor,
        &machine,
        &mut request,
        &decision,
        &facts,
        at,
    )
    .await?;
    tx.commit().await?;
    let request = stored::request(store, request.id).await?;
    arm_sla_timer(store, ws, &request).await?;
    Ok(request)
}

/// A vote on an open approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// Approve.
    Approve,
    /// Reject (reason required).
    Reject,
    /// Send back for changes (reason required).
    RequestChanges,
}

impl Vote {
    fn word(self) -> &'static str {
        match self {
            Vote::Approve => "approve",
            Vote::Reject => "reject",
            Vote::RequestChanges => "request_changes",
        }
    }
}

/// Records a person's vote on an approval; when the approval is thereby satisfied (all / any /
/// quorum approvals) the request moves to approved, a rejection rejects it, and a change
/// request sends it back. Only the approvers the policy named may vote.
#[allow(clippy::too_many_arguments)] // each is a distinct input; a struct would only rename them
pub async fn vote(
    store: &Store,
    ws: &Workspace,
    actor: &Actor,
    who: &Person,
    approval_id: i64,
    vote: Vote,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Request, ApiError> {
    let approval = stored::approval(store, approval_id).await?;
    if approval.status != "pending" {
        return Err(ApiError::Conflict {
            detail: format!("approval {approval_id} is not open"),
            allowed: None,
        });
    }
    if !ws.is_approver(&who.email, &who.roles, &approval.approvers.0) {
        return Err(ApiError::Forbidden {
            action: "approvals.decide",
        });
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if vote != Vote::Approve && comment.is_none() {
        return Err(ApiError::validation(vec![FieldError::new(
            "comment",
            "a reason is required to reject or request changes",
        )]));
    }
    let mut request = stored::request(store, approval.request_id).await?;
    let machine = ws.machine(&request.request_type);
    let mut tx = store.begin().await?;
    stored::vote(&mut tx, approval.id, &who.email, vote.word(), comment, now).await?;
    let votes = stored::votes(&mut tx, approval.id).await?;
    let approvals = votes.iter().filter(|v| v.vote == "approve").count() as i64;
    let required = match approval.needed.as_str() {
        "any" => 1,
        "quorum" => approval.quorum.unwrap_or(1),
        _ => approval.approvers.0.len() as i64,
    };
    stored::record_decision(
        &mut tx,
        actor,
        request.id,
        vote.word(),
        None,
        None,
        &who.email,
        serde_json::json!({"approval": approval.id, "vote": vote.word(), "comment": comment, "approvals": approvals, "required": required}),
        now,
    )
    .await?;
    let target = match vote {
        Vote::Reject => Some(("rejected", "rejected")),
        Vote::RequestChanges => Some(("changes_requested", "changes_requested")),
        Vote::Approve if approvals >= required => Some(("approved", "approved")),
        Vote::Approve => None,
    };
    if let Some((to, status)) = target {
        if !stored::close_approval(&mut tx, approval.id, status, now).await? {
            return Err(ApiError::Conflict {
                detail: format!("approval {approval_id} was decided by someone else"),
                allowed: None,
            });
        }
        let reason = comment
            .map(str::to_owned)
            .unwrap_or_else(|| format!("approved by {}", who.email));
        move_in_tx(
            &mut tx,
            actor,
            &machine,
            &mut request,
            to,
            &who.email,
            Some(&reason),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    let request = stored::request(store, request.id).await?;
    arm_sla_timer(store, ws, &request).await?;
    Ok(request)
}

/// Enqueues a durable `work.sla` job for the next instant at which one of the request's SLA
/// clocks changes (a warning, a breach or an escalation level), so timers survive restarts and
/// fire on time rather than at the next periodic sweep.
pub async fn arm_sla_timer(
    store: &Store,
    ws: &Workspace,
    request: &Request,
) -> Result<(), ApiError> {
    let history = stored::transitions(store, request.id).await?;
    let now = keel_store::now();
    let next = clocks(ws, request, &history, now)
        .iter()
        .filter_map(|c| c.next_check)
        .filter(|t| *t > now)
        .min();
    if let Some(at) = next {
        keel_store::jobs::enqueue(
            store,
            &keel_store::jobs::NewJob {
                run_at: Some(at),
                ..keel_store::jobs::NewJob::now(
                    "work.sla",
                    serde_json::json!({"request_id": request.id}),
                )
            },
        )
        .await?;
    }
    Ok(())
}

/// The status history as SLA events.
pub fn status_events(request: &Request, history: &[stored::TransitionRow]) -> Vec<StatusEvent> {
    let mut events = vec![StatusEvent {
        at: request.created_at,
        status: history
            .first()
            .map(|t| t.from_status.clone())
            .unwrap_or_else(|| request.status.clone()),
    }];
    events.extend(history.iter().map(|t| StatusEvent {
        at: t.at,
        status: t.to_status.clone(),
    }));
    events
}

/// Every SLA clock of a request at `now`, recomputed from its stored history.
pub fn clocks(
    ws: &Workspace,
    request: &Request,
    history: &[stored::TransitionRow],
    now: DateTime<Utc>,
) -> Vec<ClockReport> {
    let Some((sla, cal, path)) = ws.sla_for(&request.request_type) else {
        return Vec::new();
    };
    keel_work::sla::evaluate(
        &sla.spec,
        cal,
        &request.priority,
        &status_events(request, history),
        path,
        now,
    )
    .unwrap_or_default()
}

/// The campaign calendar: approved, scheduled and live requests with their launch dates.
pub fn calendar_entries(requests: &[Request], base_url: &str) -> Vec<CalendarEntry> {
    requests
        .iter()
        .filter(|r| {
            matches!(
                r.status.as_str(),
                "approved" | "scheduled" | "live" | "done"
            )
        })
        .filter_map(|r| {
            let launch = r
                .planned_launch
                .as_deref()
                .or(r.requested_launch.as_deref())
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())?;
            let fields = &r.fields.0;
            let channels: Vec<String> = match fields.get("channels") {
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            let channel = channels.first().cloned().unwrap_or_else(|| {
                match r.request_type.as_str() {
                    "email_send" => "email",
                    "landing_page" => "web",
                    "webinar" => "webinar",
                    other => other,
                }
                .to_owned()
            });
            let audience = fields.get("audience").and_then(|a| {
                a.get("segment")
                    .and_then(|s| s.as_str())
                    .or_else(|| a.as_str())
                    .map(str::to_owned)
            });
            let end = fields
                .get("end_date")
                .and_then(|d| d.as_str())
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .filter(|e| *e >= launch)
                .unwrap_or(launch);
            let sends = if channel == "email" || channel == "sms" {
                vec![launch]
            } else {
                Vec::new()
            };
            Some(CalendarEntry {
                id: format!("request-{}", r.id),
                title: r.title.clone(),
                channel,
                audience,
                start: launch,
                end,
                sends,
                url: Some(format!("{base_url}/requests/{}", r.id)),
            })
        })
        .collect()
}

/// Facts of a stored request for simulation (as recorded at its first policy decision).
pub fn recorded_facts(decisions: &[stored::DecisionRow]) -> HashMap<i64, Facts> {
    let mut out = HashMap::new();
    for d in decisions.iter().filter(|d| d.decided_by == "policy") {
        if let Some(f) = d.record.0.get("facts")
            && let Ok(facts) = serde_json::from_value::<BTreeMap<String, FactValue>>(f.clone())
        {
            out.entry(d.request_id).or_insert(facts);
        }
    }
    out
}

/// A clock as the API and pages show it: hours rather than raw durations, plus its summary.
pub fn clock_json(c: &ClockReport) -> serde_json::Value {
    let hours = |d: chrono::TimeDelta| (d.num_minutes() as f64 / 6.0).round() / 10.0;
    serde_json::json!({
        "clock": c.clock,
        "state": c.state,
        "status": c.status,
        "summary": c.summary(),
        "target_hours": hours(c.target),
        "elapsed_hours": hours(c.elapsed),
        "paused_hours": hours(c.paused),
        "remaining_hours": hours(c.remaining),
        "started_at": c.started_at,
        "stopped_at": c.stopped_at,
        "warn_at": c.warn_at,
        "breach_at": c.breach_at,
        "escalations_due": c.escalations_due,
    })
}

// ---------------------------------------------------------------------------------------------
// The MQL hand-off's acceptance SLA

/// The subject an `SLA` document names in `applies_to` to hold MQL hand-offs instead of
/// [`default_handoff_sla`] (a built-in subject of `keel-work`, statuses `waiting`, `accepted`
/// and `rejected`).
pub const HANDOFF_SLA_TYPE: &str = "mql_handoff";

/// The acceptance clock's name.
pub const HANDOFF_CLOCK: &str = "acceptance";

/// The SLA a hand-off is held to, owned so it outlives the workspace it came from.
#[derive(Debug, Clone)]
pub struct HandoffSla {
    /// The SLA: one `acceptance` clock started by `waiting`, stopped by `accepted`/`rejected`.
    pub sla: SlaSpec,
    /// Its business calendar.
    pub calendar: Calendar,
    /// Its escalation path.
    pub escalation: Option<EscalationPathSpec>,
}

/// The default acceptance SLA: 24 business hours on the sales calendar (Monday to Friday,
/// 09:00–17:00 US Eastern), a warning at 75%, the owner told at the breach and marketing
/// operations eight business hours later.
pub fn default_handoff_sla() -> Result<HandoffSla, ApiError> {
    let hours = format!("{}h", keel_contacts::routing::ACCEPTANCE_BUSINESS_HOURS);
    let targets: BTreeMap<String, String> = keel_work::intake::PRIORITIES
        .iter()
        .map(|p| ((*p).to_owned(), hours.clone()))
        .collect();
    let sla = SlaSpec {
        applies_to: vec![HANDOFF_SLA_TYPE.into()],
        calendar: "sales-hours".into(),
        pause_when: Vec::new(),
        warn_at_percent: 75,
        clocks: vec![keel_work::sla::ClockSpec {
            name: HANDOFF_CLOCK.into(),
            starts_on: vec!["waiting".into()],
            stops_on: vec!["accepted".into(), "rejected".into()],
            targets,
        }],
        escalation: Some("mql-acceptance".into()),
    };
    let escalation = EscalationPathSpec {
        levels: vec![
            keel_work::sla::LevelSpec {
                level: 1,
                notify: vec![Party::Role("request-owner".into())],
                at_percent: None,
                after_breach: Some("0h".into()),
            },
            keel_work::sla::LevelSpec {
                level: 2,
                notify: vec![Party::Role("ops".into())],
                at_percent: None,
                after_breach: Some("8h".into()),
            },
        ],
    };
    let calendar = keel_contacts::routing::default_sales_calendar()
        .compile()
        .map_err(internal)?;
    Ok(HandoffSla {
        sla,
        calendar,
        escalation: Some(escalation),
    })
}

impl Workspace {
    /// The SLA holding MQL hand-offs: an `SLA` document that applies to
    /// [`HANDOFF_SLA_TYPE`] (with its calendar and escalation path) if one is stored, else
    /// [`default_handoff_sla`].
    pub fn handoff_sla(&self) -> Result<HandoffSla, ApiError> {
        match self.sla_for(HANDOFF_SLA_TYPE) {
            Some((sla, calendar, escalation)) => Ok(HandoffSla {
                sla: sla.spec.clone(),
                calendar: calendar.clone(),
                escalation: escalation.cloned(),
            }),
            None => default_handoff_sla(),
        }
    }
}

/// A hand-off's status history as SLA events: `waiting` from the start, then the decision.
pub fn handoff_events(h: &keel_store::contacts::Handoff) -> Vec<StatusEvent> {
    let mut events = vec![StatusEvent {
        at: h.started_at,
        status: "waiting".into(),
    }];
    if let Some(at) = h.decided_at {
        events.push(StatusEvent {
            at,
            status: h.status.clone(),
        });
    }
    events
}

/// The acceptance clock of a hand-off at `now`, computed by the work SLA engine.
pub fn handoff_clock(
    sla: &HandoffSla,
    h: &keel_store::contacts::Handoff,
    now: DateTime<Utc>,
) -> Option<ClockReport> {
    keel_work::sla::evaluate(
        &sla.sla,
        &sla.calendar,
        "normal",
        &handoff_events(h),
        sla.escalation.as_ref(),
        now,
    )
    .ok()?
    .into_iter()
    .next()
}

/// Hands a lead to sales at `started_at` and starts its acceptance clock: the stored due time
/// is the engine's projected breach, and a `work.sla` timer is armed for the clock's next
/// change (warning, breach, escalation).
/// (Seven plain arguments read better at the call sites than a one-use struct.)
#[allow(clippy::too_many_arguments)]
pub async fn start_handoff(
    store: &Store,
    sla: &HandoffSla,
    actor: &Actor,
    record_id: &str,
    from_stage: &str,
    owner: &str,
    score: f64,
    started_at: DateTime<Utc>,
) -> Result<keel_store::contacts::Handoff, ApiError> {
    let projected = keel_store::contacts::Handoff {
        id: 0,
        record_id: record_id.into(),
        owner: owner.into(),
        score,
        status: "waiting".into(),
        started_at,
        due_at: started_at,
        decided_at: None,
        reason: None,
        decided_by: None,
        sla_status: None,
        breached_at: None,
    };
    let clock = handoff_clock(sla, &projected, started_at)
        .ok_or_else(|| internal("the hand-off SLA has no acceptance clock"))?;
    // At storage precision, so the due time stored is the one read back.
    let due = clock
        .breach_at
        .map(keel_audit::storage_precision)
        .ok_or_else(|| internal("the acceptance clock has no due time"))?;
    let h = keel_store::contacts::start_handoff(
        store, actor, record_id, from_stage, owner, score, started_at, due,
    )
    .await?;
    arm_handoff_timer(store, sla, &h, started_at).await?;
    Ok(h)
}

/// Enqueues a durable `work.sla` job for the next instant the hand-off's clock changes.
pub async fn arm_handoff_timer(
    store: &Store,
    sla: &HandoffSla,
    h: &keel_store::contacts::Handoff,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let next = handoff_clock(sla, h, now)
        .and_then(|c| c.next_check)
        .filter(|t| *t > now);
    if let Some(at) = next {
        keel_store::jobs::enqueue(
            store,
            &keel_store::jobs::NewJob {
                run_at: Some(at),
                ..keel_store::jobs::NewJob::now("work.sla", serde_json::json!({"handoff_id": h.id}))
            },
        )
        .await?;
    }
    Ok(())
}

/// Sales accepts or rejects a hand-off at `at`; the acceptance SLA's outcome (`met` when the
/// clock stopped within its target, else `missed`) is recorded with the decision.
pub async fn decide_handoff(
    store: &Store,
    sla: &HandoffSla,
    actor: &Actor,
    id: i64,
    accept: bool,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<keel_store::contacts::Handoff, ApiError> {
    let mut h = keel_store::contacts::handoff(store, id).await?;
    h.status = if accept { "accepted" } else { "rejected" }.into();
    h.decided_at = Some(at);
    let outcome = match handoff_clock(sla, &h, at) {
        Some(c) if c.status == keel_work::sla::SlaStatus::Breached => "missed",
        _ => "met",
    };
    Ok(
        keel_store::contacts::decide_handoff_at(
            store,
            actor,
            id,
            accept,
            reason,
            at,
            Some(outcome),
        )
        .await?,
    )
}

/// Something the hand-off SLA sweep raised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffAlert {
    /// The hand-off.
    pub handoff_id: i64,
    /// `sla_warning`, `sla_breach` or `sla_escalation`.
    pub kind: String,
    /// The notification's key (each is raised once).
    pub key: String,
    /// The notification's title.
    pub title: String,
    /// The sales rep who owns the lead.
    pub owner: String,
    /// Who is told (escalations).
    pub notify: Vec<Party>,
}

/// Recomputes the acceptance clock of every waiting hand-off at `now`, records breaches on the
/// hand-off (`missed`) and raises each warning, breach and escalation once through
/// `notifications` (delivered to webhooks). Returns what was newly raised.
pub async fn handoff_sla_sweep(
    store: &Store,
    sla: &HandoffSla,
    now: DateTime<Utc>,
) -> Result<Vec<HandoffAlert>, ApiError> {
    let actor = Actor::System("sla");
    let (waiting, _) =
        keel_store::contacts::handoffs(store, Some("waiting"), i64::MAX / 2, 0).await?;
    let mut raised = Vec::new();
    for h in waiting {
        let Some(c) = handoff_clock(sla, &h, now) else {
            continue;
        };
        let payload = serde_json::json!({"handoff_id": h.id, "record_id": h.record_id, "owner": h.owner, "clock": c.clock, "summary": c.summary(), "breach_at": c.breach_at});
        let mut alerts = Vec::new();
        match c.status {
            keel_work::sla::SlaStatus::Warning => alerts.push((
                "sla_warning",
                format!("sla-warning:handoff-{}:{}", h.id, c.clock),
                format!("MQL hand-off #{} to {}: {}", h.id, h.owner, c.summary()),
                Vec::new(),
            )),
            keel_work::sla::SlaStatus::Breached => {
                // Recorded once: later sweeps see `breached_at` and skip the write transaction.
                if h.breached_at.is_none() {
                    let at = c.breach_at.unwrap_or(now);
                    keel_store::contacts::record_handoff_breach(store, &actor, h.id, at).await?;
                }
                alerts.push((
                    "sla_breach",
                    format!("sla-breach:handoff-{}:{}", h.id, c.clock),
                    format!(
                        "MQL hand-off #{} to {} missed its acceptance SLA: {}",
                        h.id,
                        h.owner,
                        c.summary()
                    ),
                    Vec::new(),
                ));
            }
            keel_work::sla::SlaStatus::Ok => {}
        }
        for e in &c.escalations_due {
            alerts.push((
                "sla_escalation",
                format!("sla-escalation:handoff-{}:{}", h.id, e.key),
                format!(
                    "Escalation level {} on MQL hand-off #{} to {}: {}",
                    e.level,
                    h.id,
                    h.owner,
                    c.summary()
                ),
                e.notify.clone(),
            ));
        }
        for (kind, key, title, notify) in alerts {
            let mut payload = payload.clone();
            payload["notify"] =
                serde_json::json!(notify.iter().map(ToString::to_string).collect::<Vec<_>>());
            if keel_store::notifications::raise(store, &key, kind, &title, payload).await? {
                raised.push(HandoffAlert {
                    handoff_id: h.id,
                    kind: kind.into(),
                    key,
                    title,
                    owner: h.owner.clone(),
                    notify,
                });
            }
        }
    }
    Ok(raised)
}
