//! `/api/v1/requests`, `/api/v1/approvals`, `/api/v1/calendar`, `/api/v1/capacity`,
//! `/api/v1/sla` and `/api/v1/roster`: intake, governed states, approvals decided by policy or by
//! people, SLA clocks, the campaign calendar and capacity. The logic lives in `keel-work`; the
//! storage-facing steps in [`crate::work`].

use crate::AppState;
use crate::api::Page;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::{ValidJson, ValidQuery};
use crate::work::{self as flow, Person, StoredRoster, Submission, Vote, Workspace};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use keel_policy::Action;
use keel_store::work::{self as stored, Request, RequestFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The person behind a caller, as the work flow sees them.
pub fn person(caller: &Caller) -> Person {
    Person {
        user_id: caller.user.user.id,
        email: caller.user.user.email.clone(),
        roles: caller.roles.clone(),
    }
}

/// A request type and its intake form.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestTypeOut {
    /// Name.
    pub name: String,
    /// Title.
    pub title: String,
    /// What it is for.
    pub description: Option<String>,
    /// Default priority.
    pub default_priority: String,
    /// The intake fields (key, label, type, required, help, options, limits).
    #[schema(value_type = Vec<Object>)]
    pub fields: serde_json::Value,
    /// The governed states.
    #[schema(value_type = Object)]
    pub states: serde_json::Value,
}

fn request_type_out(d: &keel_work::Document<keel_work::intake::RequestTypeSpec>) -> RequestTypeOut {
    RequestTypeOut {
        name: d.metadata.name.clone(),
        title: d.spec.title.clone(),
        description: d.spec.description.clone(),
        default_priority: d.spec.default_priority.clone(),
        fields: serde_json::to_value(&d.spec.fields).unwrap_or_default(),
        states: serde_json::to_value(d.spec.state_machine()).unwrap_or_default(),
    }
}

/// List request types.
#[utoipa::path(get, path = "/api/v1/request-types", tag = "work",
    responses((status = 200, body = Vec<RequestTypeOut>)))]
async fn list_types(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<RequestTypeOut>>> {
    caller.require(&state, Action::RequestsRead)?;
    let ws = Workspace::load(&state.store).await?;
    Ok(Json(
        ws.docs.request_types.iter().map(request_type_out).collect(),
    ))
}

/// One request type with its intake form.
#[utoipa::path(get, path = "/api/v1/request-types/{name}", tag = "work",
    params(("name" = String, Path, description = "Request type name")),
    responses((status = 200, body = RequestTypeOut), (status = 404, body = crate::error::Problem)))]
async fn get_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<RequestTypeOut>> {
    caller.require(&state, Action::RequestsRead)?;
    let ws = Workspace::load(&state.store).await?;
    let t = ws
        .request_type(&name)
        .ok_or_else(|| ApiError::NotFound(format!("no request type {name}")))?;
    Ok(Json(request_type_out(t)))
}

/// A submission.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionIn {
    /// The request type's name.
    pub request_type: String,
    /// Title (derived from the fields when absent).
    #[serde(default)]
    pub title: Option<String>,
    /// `low`, `normal`, `high` or `urgent` (the type's default when absent).
    #[serde(default)]
    pub priority: Option<String>,
    /// The intake fields keyed by field key. Money is `{amount_minor, currency}`; audiences
    /// `{segment, size}`; multi-selects arrays; dates `YYYY-MM-DD`.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
}

impl From<SubmissionIn> for Submission {
    fn from(s: SubmissionIn) -> Self {
        Submission {
            request_type: s.request_type,
            title: s.title,
            priority: s.priority,
            fields: s.fields,
        }
    }
}

/// What Keel would do with a submission, before anything is stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct EstimateOut {
    /// The earliest feasible launch date given dependencies, capacity and calendars.
    pub earliest_launch: Option<NaiveDate>,
    /// Whether the requested launch date is feasible (when one was given).
    pub requested_feasible: Option<bool>,
    /// Why the launch date is what it is.
    pub explanation: Vec<String>,
    /// The task plan with dates, assignees and the critical path.
    #[schema(value_type = Object)]
    pub schedule: serde_json::Value,
    /// What the policies would decide.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
}

/// Check a submission and get its plan and earliest feasible launch date without submitting.
#[utoipa::path(post, path = "/api/v1/requests/estimate", tag = "work", request_body = SubmissionIn,
    responses((status = 200, body = EstimateOut), (status = 422, body = crate::error::Problem)))]
async fn estimate(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(body): ValidJson<SubmissionIn>,
) -> ApiResult<Json<EstimateOut>> {
    caller.require(&state, Action::RequestsSubmit)?;
    let ws = Workspace::load(&state.store).await?;
    let all = stored::all_requests(&state.store).await?;
    let existing = flow::existing_bookings(&all, None);
    let e = ws.estimate(
        &person(&caller),
        &body.into(),
        &existing,
        Utc::now().date_naive(),
    )?;
    Ok(Json(EstimateOut {
        earliest_launch: e.schedule.as_ref().map(|s| s.launch),
        requested_feasible: e.schedule.as_ref().and_then(|s| s.requested_feasible),
        explanation: e
            .schedule
            .as_ref()
            .map(|s| s.explanation.clone())
            .unwrap_or_default(),
        schedule: serde_json::to_value(&e.schedule).unwrap_or_default(),
        decision: serde_json::to_value(&e.decision).unwrap_or_default(),
    }))
}

/// A stored request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestOut {
    /// Id.
    pub id: i64,
    /// Type.
    pub request_type: String,
    /// Title.
    pub title: String,
    /// Current status.
    pub status: String,
    /// Priority.
    pub priority: String,
    /// Intake fields.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// Requester e-mail.
    pub requester: String,
    /// Launch date asked for.
    pub requested_launch: Option<String>,
    /// Earliest feasible / planned launch date.
    pub planned_launch: Option<String>,
    /// Version (send it back with a transition to detect concurrent changes).
    pub version: i64,
    /// Times sent back for rework.
    pub rework_count: i64,
    /// Created.
    pub created_at: chrono::DateTime<Utc>,
    /// Last changed.
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<Request> for RequestOut {
    fn from(r: Request) -> Self {
        RequestOut {
            id: r.id,
            request_type: r.request_type,
            title: r.title,
            status: r.status,
            priority: r.priority,
            fields: r.fields.0,
            requester: r.requester,
            requested_launch: r.requested_launch,
            planned_launch: r.planned_launch,
            version: r.version,
            rework_count: r.rework_count,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The result of a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedOut {
    /// The request, after policy acted on it.
    pub request: RequestOut,
    /// The policy decision: outcome, deciding policy and rule, the facts read, the reason.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
}

/// Submit a request. Refused with 422 naming every field that misses the intake standard;
/// otherwise planned, stored and decided by policy.
#[utoipa::path(post, path = "/api/v1/requests", tag = "work", request_body = SubmissionIn,
    responses((status = 201, body = SubmittedOut), (status = 422, body = crate::error::Problem)))]
async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(body): ValidJson<SubmissionIn>,
) -> ApiResult<(StatusCode, Json<SubmittedOut>)> {
    caller.require(&state, Action::RequestsSubmit)?;
    let ws = Workspace::load(&state.store).await?;
    let done = flow::submit(
        &state.store,
        &ws,
        &caller.actor(),
        &person(&caller),
        &body.into(),
        keel_store::now(),
    )
    .await?;
    state.job_waker.notify_one();
    Ok((
        StatusCode::CREATED,
        Json(SubmittedOut {
            request: done.request.into(),
            decision: serde_json::to_value(&done.decision).unwrap_or_default(),
        }),
    ))
}

/// Filters for the request list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    /// Only the caller's own requests.
    #[serde(default)]
    pub mine: Option<bool>,
    /// Only this status (comma-separated for several).
    #[serde(default)]
    pub status: Option<String>,
    /// Only this request type.
    #[serde(default)]
    pub request_type: Option<String>,
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// Items to skip.
    pub offset: Option<i64>,
}

/// List requests.
#[utoipa::path(get, path = "/api/v1/requests", tag = "work", params(RequestQuery),
    responses((status = 200, body = Page<RequestOut>)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<RequestQuery>,
) -> ApiResult<Json<Page<RequestOut>>> {
    caller.require(&state, Action::RequestsRead)?;
    let (limit, offset) = crate::api::PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let filter = RequestFilter {
        requester_id: q.mine.unwrap_or(false).then_some(caller.user.user.id),
        statuses: q
            .status
            .as_deref()
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        request_type: q.request_type,
    };
    let (items, total) = stored::requests(&state.store, &filter, limit, offset).await?;
    Ok(Json(Page {
        items: items.into_iter().map(RequestOut::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// A request with everything that happened to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestDetail {
    /// The request.
    pub request: RequestOut,
    /// Moves allowed from the current status.
    pub allowed: Vec<String>,
    /// The scheduled plan (tasks, dates, assignees, critical path, explanation).
    #[schema(value_type = Object)]
    pub plan: serde_json::Value,
    /// Every transition with actor and reason.
    #[schema(value_type = Vec<Object>)]
    pub history: serde_json::Value,
    /// Decision records (policy and people).
    #[schema(value_type = Vec<Object>)]
    pub decisions: serde_json::Value,
    /// Approvals asked of people, with votes.
    #[schema(value_type = Vec<Object>)]
    pub approvals: serde_json::Value,
    /// Comments.
    #[schema(value_type = Vec<Object>)]
    pub comments: serde_json::Value,
    /// SLA clocks, recomputed from the history now.
    #[schema(value_type = Vec<Object>)]
    pub sla: serde_json::Value,
    /// Escalations raised.
    #[schema(value_type = Vec<Object>)]
    pub escalations: serde_json::Value,
    /// Email and page check runs attached, newest first (without their reports).
    #[schema(value_type = Vec<Object>)]
    pub checks: serde_json::Value,
}

/// Everything about one request, assembled for the API and the request page.
pub async fn detail(
    store: &keel_store::Store,
    ws: &Workspace,
    id: i64,
) -> ApiResult<RequestDetail> {
    let request = stored::request(store, id).await?;
    let history = stored::transitions(store, id).await?;
    let decisions = stored::decisions(store, id).await?;
    let mut approvals = Vec::new();
    for a in stored::approvals(store, id).await? {
        let votes = stored::votes(store, a.id).await?;
        let mut v = serde_json::to_value(&a).unwrap_or_default();
        v["votes"] = serde_json::to_value(votes).unwrap_or_default();
        approvals.push(v);
    }
    let comments = stored::comments(store, id).await?;
    let clocks = flow::clocks(ws, &request, &history, keel_store::now());
    let escalations = stored::escalations(store, Some(id)).await?;
    let checks: Vec<serde_json::Value> = stored::check_runs(store, id)
        .await?
        .into_iter()
        .map(|c| serde_json::json!({"id": c.id, "kind": c.kind, "name": c.name, "errors": c.errors, "warnings": c.warnings, "created_at": c.created_at, "created_by": c.created_by}))
        .collect();
    let machine = ws.machine(&request.request_type);
    Ok(RequestDetail {
        allowed: machine
            .allowed_from(&request.status)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        plan: request
            .plan
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_default(),
        history: serde_json::to_value(history).unwrap_or_default(),
        decisions: serde_json::to_value(decisions).unwrap_or_default(),
        approvals: serde_json::Value::Array(approvals),
        comments: serde_json::to_value(comments).unwrap_or_default(),
        sla: clocks.iter().map(flow::clock_json).collect(),
        escalations: serde_json::to_value(escalations).unwrap_or_default(),
        checks: serde_json::Value::Array(checks),
        request: request.into(),
    })
}

/// One request with its history, decisions, approvals, comments and SLA clocks.
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "work",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = RequestDetail), (status = 404, body = crate::error::Problem)))]
async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<RequestDetail>> {
    caller.require(&state, Action::RequestsRead)?;
    let ws = Workspace::load(&state.store).await?;
    Ok(Json(detail(&state.store, &ws, id).await?))
}

/// A move through the state machine.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    /// Target status.
    pub to: String,
    /// Why (required for some moves, such as rejecting or cancelling).
    #[serde(default)]
    pub reason: Option<String>,
    /// The version the caller read; a stale version gets 409.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Whether a caller may move this request at all: managers any, requesters their own.
pub fn may_move(state: &AppState, caller: &Caller, request: &Request) -> ApiResult<()> {
    if caller.can(state, Action::RequestsManage) || caller.can(state, Action::ApprovalsDecide) {
        return Ok(());
    }
    caller.require(state, Action::RequestsSubmit)?;
    if request.requester_id == caller.user.user.id {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            action: "requests.manage",
        })
    }
}

/// Move a request to another status. 409 with the allowed moves when the move is illegal or
/// when someone else changed the request first.
#[utoipa::path(post, path = "/api/v1/requests/{id}/transitions", tag = "work",
    params(("id" = i64, Path, description = "Request id")), request_body = TransitionIn,
    responses((status = 200, body = RequestOut), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn move_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(body): ValidJson<TransitionIn>,
) -> ApiResult<Json<RequestOut>> {
    caller.require(&state, Action::RequestsRead)?;
    let request = stored::request(&state.store, id).await?;
    may_move(&state, &caller, &request)?;
    let ws = Workspace::load(&state.store).await?;
    let r = flow::transition(
        &state.store,
        &ws,
        &caller.actor(),
        &person(&caller),
        id,
        &body.to,
        body.reason.as_deref(),
        body.version,
        keel_store::now(),
    )
    .await?;
    Ok(Json(r.into()))
}

/// A check run to attach.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachCheckIn {
    /// The id of a stored run (`POST /api/v1/checks/email` or `/page` returns it).
    pub check_run_id: i64,
}

/// Attach an email or page check run to a request; types that require it go live only when the
/// latest attached run has no errors.
#[utoipa::path(post, path = "/api/v1/requests/{id}/checks", tag = "work",
    params(("id" = i64, Path, description = "Request id")), request_body = AttachCheckIn,
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
async fn attach_check(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(body): ValidJson<AttachCheckIn>,
) -> ApiResult<StatusCode> {
    caller.require(&state, Action::RequestsRead)?;
    let request = stored::request(&state.store, id).await?;
    may_move(&state, &caller, &request)?;
    keel_store::checks::get(&state.store, body.check_run_id).await?;
    stored::attach_check_run(
        &state.store,
        &caller.actor(),
        id,
        body.check_run_id,
        &caller.user.user.email,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    /// Text.
    pub body: String,
}

/// Comment on a request.
#[utoipa::path(post, path = "/api/v1/requests/{id}/comments", tag = "work",
    params(("id" = i64, Path, description = "Request id")), request_body = CommentIn,
    responses((status = 201, body = Object), (status = 422, body = crate::error::Problem)))]
async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(body): ValidJson<CommentIn>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(&state, Action::RequestsRead)?;
    let request = stored::request(&state.store, id).await?;
    may_move(&state, &caller, &request)?;
    let text = body.body.trim();
    if text.is_empty() || text.len() > 10_000 {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "must be 1 to 10,000 characters",
        )]));
    }
    let row = stored::add_comment(
        &state.store,
        &caller.actor(),
        id,
        &caller.user.user.email,
        text,
        keel_store::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(row).unwrap_or_default()),
    ))
}

/// An open approval in someone's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    /// Approval id (vote on it).
    pub approval_id: i64,
    /// Who may approve.
    pub approvers: Vec<String>,
    /// `all`, `any` or `quorum`.
    pub needed: String,
    /// Quorum size.
    pub quorum: Option<i64>,
    /// Votes so far.
    pub votes: i64,
    /// Why policy sent it to people (the deciding rule's reason, or "no rule applies").
    pub reason: String,
    /// Deciding policy and rule (`policy/rule`), when a rule decided.
    pub rule: Option<String>,
    /// The request.
    pub request: RequestOut,
    /// Since when.
    pub since: chrono::DateTime<Utc>,
}

/// The caller's approval inbox: only what policy could not decide, and only what the caller is
/// an approver for.
pub async fn inbox(state: &AppState, ws: &Workspace, caller: &Caller) -> ApiResult<Vec<InboxItem>> {
    let who = person(caller);
    let mut out = Vec::new();
    for a in stored::pending_approvals(&state.store).await? {
        if !ws.is_approver(&who.email, &who.roles, &a.approvers.0) {
            continue;
        }
        let votes = stored::votes(&state.store, a.id).await?;
        if votes.iter().any(|v| v.voter == who.email) {
            continue;
        }
        let decisions = stored::decisions(&state.store, a.request_id).await?;
        let d = decisions.iter().find(|d| d.id == a.decision_id);
        let reason = d
            .and_then(|d| d.record.0.pointer("/decision/reason"))
            .and_then(|r| r.as_str())
            .unwrap_or("")
            .to_owned();
        let rule = d.and_then(|d| match (&d.policy, &d.rule) {
            (Some(p), Some(r)) => Some(format!("{p}/{r}")),
            _ => None,
        });
        let request = stored::request(&state.store, a.request_id).await?;
        out.push(InboxItem {
            approval_id: a.id,
            approvers: a.approvers.0.clone(),
            needed: a.needed.clone(),
            quorum: a.quorum,
            votes: votes.len() as i64,
            reason,
            rule,
            request: request.into(),
            since: a.created_at,
        });
    }
    Ok(out)
}

/// The caller's approval inbox.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "work",
    responses((status = 200, body = Vec<InboxItem>)))]
async fn list_inbox(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<InboxItem>>> {
    caller.require(&state, Action::ApprovalsDecide)?;
    let ws = Workspace::load(&state.store).await?;
    Ok(Json(inbox(&state, &ws, &caller).await?))
}

/// A vote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteIn {
    /// `approve`, `reject` or `request_changes`.
    pub vote: Vote,
    /// Why (required to reject or request changes).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Vote on an approval. Only the approvers the policy named may vote; the request moves once
/// the approval is satisfied.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/votes", tag = "work",
    params(("id" = i64, Path, description = "Approval id")), request_body = VoteIn,
    responses((status = 200, body = RequestOut), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn cast_vote(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(body): ValidJson<VoteIn>,
) -> ApiResult<Json<RequestOut>> {
    caller.require(&state, Action::ApprovalsDecide)?;
    let ws = Workspace::load(&state.store).await?;
    let r = flow::vote(
        &state.store,
        &ws,
        &caller.actor(),
        &person(&caller),
        id,
        body.vote,
        body.comment.as_deref(),
        keel_store::now(),
    )
    .await?;
    Ok(Json(r.into()))
}

/// A date window.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// First day (default: the first of this month).
    pub from: Option<NaiveDate>,
    /// Weeks (capacity; default 8, at most 52).
    pub weeks: Option<u32>,
}

/// The campaign calendar with conflicts.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarOut {
    /// Entries.
    #[schema(value_type = Vec<Object>)]
    pub entries: serde_json::Value,
    /// Conflicts: audience overlaps, too many sends per channel per day, blackout dates.
    #[schema(value_type = Vec<Object>)]
    pub conflicts: serde_json::Value,
}

/// The campaign calendar: approved, scheduled and live requests with conflicts.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "work",
    responses((status = 200, body = CalendarOut)))]
async fn calendar(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CalendarOut>> {
    caller.require(&state, Action::CalendarRead)?;
    let ws = Workspace::load(&state.store).await?;
    let all = stored::all_requests(&state.store).await?;
    let entries = flow::calendar_entries(&all, "");
    let conflicts = keel_work::campaign::conflicts(&entries, &ws.campaign_rules());
    Ok(Json(CalendarOut {
        entries: serde_json::to_value(entries).unwrap_or_default(),
        conflicts: serde_json::to_value(conflicts).unwrap_or_default(),
    }))
}

/// A calendar feed address.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedOut {
    /// Subscribe to this URL path (on this server) from Google Calendar or Outlook. The token in
    /// it is shown once; creating a new one revokes the old.
    pub path: String,
}

/// Create (or rotate) the caller's iCalendar feed token.
#[utoipa::path(post, path = "/api/v1/calendar/feed", tag = "work",
    responses((status = 201, body = FeedOut)))]
async fn create_feed(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<FeedOut>)> {
    caller.require(&state, Action::CalendarRead)?;
    let path = rotate_feed(&state, &caller).await?;
    Ok((StatusCode::CREATED, Json(FeedOut { path })))
}

/// Rotates the caller's feed token and returns the feed path with the new token.
pub async fn rotate_feed(state: &AppState, caller: &Caller) -> ApiResult<String> {
    // A feed token is read-only and separate from API tokens: calendar clients put it in URLs.
    let token = keel_accounts::new_session_token();
    stored::set_calendar_feed(
        &state.store,
        &caller.actor(),
        caller.user.user.id,
        &keel_accounts::secret_digest(&token),
    )
    .await?;
    Ok(format!("/calendar.ics?token={token}"))
}

/// Utilisation per person and team per week.
#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityOut {
    /// Week loads (people first, then `team:NAME`).
    #[schema(value_type = Vec<Object>)]
    pub weeks: serde_json::Value,
    /// Over-allocation warnings.
    pub warnings: Vec<String>,
}

/// Capacity: weekly hours, time off, standing allocations and booked task plans.
pub async fn capacity_of(
    store: &keel_store::Store,
    ws: &Workspace,
    from: NaiveDate,
    weeks: u32,
) -> ApiResult<(Vec<keel_work::capacity::WeekLoad>, Vec<String>)> {
    let all = stored::all_requests(store).await?;
    let bookings = flow::existing_bookings(&all, None);
    let Some(cal) = ws.calendars.values().next() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let loads = keel_work::capacity::utilisation(&ws.roster.roster, cal, &bookings, from, weeks);
    let warnings = keel_work::capacity::over_allocation_warnings(&loads);
    Ok((loads, warnings))
}

/// Capacity and utilisation.
#[utoipa::path(get, path = "/api/v1/capacity", tag = "work", params(Window),
    responses((status = 200, body = CapacityOut)))]
async fn capacity(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(w): ValidQuery<Window>,
) -> ApiResult<Json<CapacityOut>> {
    caller.require(&state, Action::CalendarRead)?;
    let weeks = w.weeks.unwrap_or(8);
    if !(1..=52).contains(&weeks) {
        return Err(ApiError::validation(vec![FieldError::new(
            "weeks",
            "must be between 1 and 52",
        )]));
    }
    let ws = Workspace::load(&state.store).await?;
    let from = w.from.unwrap_or_else(|| Utc::now().date_naive());
    let (loads, warnings) = capacity_of(&state.store, &ws, from, weeks).await?;
    Ok(Json(CapacityOut {
        weeks: serde_json::to_value(loads).unwrap_or_default(),
        warnings,
    }))
}

/// One open request on the SLA board.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaRow {
    /// The request.
    pub request: RequestOut,
    /// Its clocks now.
    #[schema(value_type = Vec<Object>)]
    pub clocks: serde_json::Value,
    /// The worst status among its clocks: `ok`, `warning` or `breached`.
    pub worst: String,
}

/// The SLA board rows: every request with at least one clock, worst first.
pub async fn sla_board(store: &keel_store::Store, ws: &Workspace) -> ApiResult<Vec<SlaRow>> {
    let all = stored::all_requests(store).await?;
    let history = stored::all_transitions(store).await?;
    let now = keel_store::now();
    let mut rows = Vec::new();
    for r in all {
        let h = history.get(&r.id).map(Vec::as_slice).unwrap_or_default();
        let clocks = flow::clocks(ws, &r, h, now);
        if clocks.is_empty() {
            continue;
        }
        let worst = clocks
            .iter()
            .map(|c| match c.status {
                keel_work::sla::SlaStatus::Breached => 2,
                keel_work::sla::SlaStatus::Warning => 1,
                keel_work::sla::SlaStatus::Ok => 0,
            })
            .max()
            .unwrap_or(0);
        rows.push((
            worst,
            SlaRow {
                clocks: clocks.iter().map(flow::clock_json).collect(),
                worst: ["ok", "warning", "breached"][worst].to_owned(),
                request: r.into(),
            },
        ));
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.request.id.cmp(&a.1.request.id)));
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

/// The SLA board.
#[utoipa::path(get, path = "/api/v1/sla", tag = "work",
    responses((status = 200, body = Vec<SlaRow>)))]
async fn sla(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<SlaRow>>> {
    caller.require(&state, Action::RequestsRead)?;
    let ws = Workspace::load(&state.store).await?;
    Ok(Json(sla_board(&state.store, &ws).await?))
}

/// Work metrics for dashboards.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsOut {
    /// Requests per status.
    pub by_status: std::collections::BTreeMap<String, i64>,
    /// Mean business-agnostic hours spent in each status (wall-clock), over completed stays.
    pub hours_in_status: std::collections::BTreeMap<String, f64>,
    /// Mean days from submission to live, over requests that went live.
    pub brief_to_launch_days: Option<f64>,
    /// Requests sent back for rework at least once.
    pub reworked: i64,
    /// Total rework cycles.
    pub rework_cycles: i64,
    /// Clocks met and missed (stopped clocks only).
    pub sla_met: i64,
    /// Clocks missed.
    pub sla_missed: i64,
    /// Policy decisions that decided (auto-approve or reject) versus sent to people.
    pub decided_by_policy: i64,
    /// Decisions sent to people.
    pub decided_by_people: i64,
}

/// Computes the work metrics from the stored history.
pub async fn metrics_of(store: &keel_store::Store, ws: &Workspace) -> ApiResult<MetricsOut> {
    let all = stored::all_requests(store).await?;
    let history = stored::all_transitions(store).await?;
    let decisions = stored::all_decisions(store).await?;
    let mut by_status = std::collections::BTreeMap::new();
    for r in &all {
        *by_status.entry(r.status.clone()).or_insert(0) += 1;
    }
    let mut stays: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    let mut launch = (0.0, 0.0);
    let (mut met, mut missed) = (0, 0);
    let now = keel_store::now();
    for r in &all {
        let h = history.get(&r.id).map(Vec::as_slice).unwrap_or_default();
        for w in h.windows(2) {
            let hours = (w[1].at - w[0].at).num_minutes() as f64 / 60.0;
            let e = stays.entry(w[0].to_status.clone()).or_default();
            e.0 += hours;
            e.1 += 1.0;
        }
        let submitted = h.iter().find(|t| t.to_status == "submitted").map(|t| t.at);
        let live = h.iter().find(|t| t.to_status == "live").map(|t| t.at);
        if let (Some(s), Some(l)) = (submitted, live) {
            launch.0 += (l - s).num_hours() as f64 / 24.0;
            launch.1 += 1.0;
        }
        for c in flow::clocks(ws, r, h, now) {
            if c.state == keel_work::sla::ClockState::Stopped {
                if c.status == keel_work::sla::SlaStatus::Breached {
                    missed += 1;
                } else {
                    met += 1;
                }
            }
        }
    }
    let policy_decided = decisions
        .iter()
        .filter(|d| {
            d.decided_by == "policy" && matches!(d.outcome.as_str(), "auto_approve" | "reject")
        })
        .count() as i64;
    let people = decisions
        .iter()
        .filter(|d| {
            d.decided_by == "policy" && !matches!(d.outcome.as_str(), "auto_approve" | "reject")
        })
        .count() as i64;
    Ok(MetricsOut {
        by_status,
        hours_in_status: stays
            .into_iter()
            .map(|(k, (sum, n))| (k, (sum / n * 10.0).round() / 10.0))
            .collect(),
        brief_to_launch_days: (launch.1 > 0.0).then(|| (launch.0 / launch.1 * 10.0).round() / 10.0),
        reworked: all.iter().filter(|r| r.rework_count > 0).count() as i64,
        rework_cycles: all.iter().map(|r| r.rework_count).sum(),
        sla_met: met,
        sla_missed: missed,
        decided_by_policy: policy_decided,
        decided_by_people: people,
    })
}

/// Work metrics: cycle times, rework, SLA met/missed, approvals by policy vs people.
#[utoipa::path(get, path = "/api/v1/work/metrics", tag = "work",
    responses((status = 200, body = MetricsOut)))]
async fn metrics(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MetricsOut>> {
    caller.require(&state, Action::DashboardsRead)?;
    let ws = Workspace::load(&state.store).await?;
    Ok(Json(metrics_of(&state.store, &ws).await?))
}

/// The roster used for scheduling and capacity.
#[utoipa::path(get, path = "/api/v1/roster", tag = "work",
    responses((status = 200, body = Object)))]
async fn get_roster(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&state, Action::CalendarRead)?;
    Ok(Json(stored::roster(&state.store).await?.unwrap_or_else(
        || serde_json::json!({"people": [], "allocations": [], "accounts": {}}),
    )))
}

/// Replace the roster: `{people: [{id, name, roles, team, weekly_hours, time_off}], allocations:
/// [{person, start, end, hours_per_week, label}], accounts: {person_id: email}}`.
#[utoipa::path(put, path = "/api/v1/roster", tag = "work", request_body = Object,
    responses((status = 200, body = Object), (status = 422, body = crate::error::Problem)))]
async fn put_roster(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(body): ValidJson<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&state, Action::RequestsManage)?;
    let roster: StoredRoster = serde_path_to_error::deserialize(body.clone()).map_err(|e| {
        ApiError::validation(vec![FieldError::new(
            e.path().to_string(),
            e.inner().to_string(),
        )])
    })?;
    let mut problems = Vec::new();
    for (i, p) in roster.roster.people.iter().enumerate() {
        if !(0.0..=80.0).contains(&p.weekly_hours) {
            problems.push(FieldError::new(
                format!("people[{i}].weekly_hours"),
                "must be between 0 and 80",
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let value = serde_json::to_value(&roster).map_err(|e| ApiError::Internal(e.to_string()))?;
    stored::set_roster(&state.store, &caller.actor(), &value).await?;
    Ok(Json(value))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_types))
        .routes(routes!(get_type))
        .routes(routes!(estimate))
        .routes(routes!(list, submit))
        .routes(routes!(get))
        .routes(routes!(move_request))
        .routes(routes!(comment))
        .routes(routes!(attach_check))
        .routes(routes!(list_inbox))
        .routes(routes!(cast_vote))
        .routes(routes!(calendar))
        .routes(routes!(create_feed))
        .routes(routes!(capacity))
        .routes(routes!(sla))
        .routes(routes!(metrics))
        .routes(routes!(get_roster, put_roster))
}
