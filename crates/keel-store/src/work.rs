//! Stored work: requests with their governed status, every transition (who, when, why), policy
//! and human decisions, open approvals and their votes, comments, raised SLA escalations, the
//! roster used for scheduling, and per-user calendar feed tokens.
//!
//! The status history in `work_transitions` is the source of truth for SLA clocks: the clocks are
//! recomputed from it, so a changed SLA definition re-evaluates history without rewriting it.
//! A request carries a `version`; every status change names the version it read, so of two
//! concurrent transitions exactly one wins and the other gets [`StoreError::Conflict`].

use crate::audit;
use crate::{Actor, Result, Store, StoreError, Tx, now, sql};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;

/// A stored request.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Request {
    /// Id.
    pub id: i64,
    /// The request type's name.
    pub request_type: String,
    /// Title shown in lists.
    pub title: String,
    /// Current status.
    pub status: String,
    /// Priority (`low`, `normal`, `high`, `urgent` or what the type defines).
    pub priority: String,
    /// The intake fields as submitted.
    pub fields: Json<serde_json::Value>,
    /// The requester's user id.
    pub requester_id: i64,
    /// The requester's e-mail.
    pub requester: String,
    /// Launch date asked for (`YYYY-MM-DD`).
    pub requested_launch: Option<String>,
    /// Earliest feasible (or scheduled) launch date.
    pub planned_launch: Option<String>,
    /// The scheduled task plan (a `keel_work::schedule::Schedule`).
    pub plan: Option<Json<serde_json::Value>>,
    /// Incremented on every change; transitions name the version they read.
    pub version: i64,
    /// How many times the request went back for rework.
    pub rework_count: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

const REQUEST_COLUMNS: &str = "id, request_type, title, status, priority, fields, requester_id, requester, requested_launch, planned_launch, plan, version, rework_count, created_at, updated_at";

/// A request to store.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// Request type name.
    pub request_type: String,
    /// Title.
    pub title: String,
    /// Initial status.
    pub status: String,
    /// Priority.
    pub priority: String,
    /// Intake fields.
    pub fields: serde_json::Value,
    /// Requester's user id.
    pub requester_id: i64,
    /// Requester's e-mail.
    pub requester: String,
    /// Launch date asked for.
    pub requested_launch: Option<String>,
    /// Earliest feasible launch date.
    pub planned_launch: Option<String>,
    /// The task plan.
    pub plan: Option<serde_json::Value>,
    /// When (the demo back-dates its history; everything else passes `now()`).
    pub at: DateTime<Utc>,
}

/// One status change.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TransitionRow {
    /// Id.
    pub id: i64,
    /// The request.
    pub request_id: i64,
    /// Status before.
    pub from_status: String,
    /// Status after.
    pub to_status: String,
    /// Who (an e-mail, or `policy:NAME`, or `system:…`).
    pub actor: String,
    /// Why.
    pub reason: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A decision record: by policy or by a person.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DecisionRow {
    /// Id.
    pub id: i64,
    /// The request.
    pub request_id: i64,
    /// `auto_approve`, `require_approval`, `escalate`, `reject`, `undecided`, or a person's vote.
    pub outcome: String,
    /// Deciding policy.
    pub policy: Option<String>,
    /// Deciding rule.
    pub rule: Option<String>,
    /// `policy` or the deciding person.
    pub decided_by: String,
    /// The full record (facts read, reason, rules also matched …).
    pub record: Json<serde_json::Value>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An approval asked of people.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApprovalRow {
    /// Id.
    pub id: i64,
    /// The request.
    pub request_id: i64,
    /// The decision that asked for it.
    pub decision_id: i64,
    /// Who may approve (`role:…`, `person:…`, `team:…`).
    pub approvers: Json<Vec<String>>,
    /// `all`, `any` or `quorum`.
    pub needed: String,
    /// How many for a quorum.
    pub quorum: Option<i64>,
    /// `pending`, `approved`, `rejected`, `changes_requested`, `withdrawn`.
    pub status: String,
    /// Asked at.
    pub created_at: DateTime<Utc>,
    /// Closed at.
    pub closed_at: Option<DateTime<Utc>>,
}

/// A vote on an approval.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct VoteRow {
    /// Id.
    pub id: i64,
    /// The approval.
    pub approval_id: i64,
    /// Who voted (e-mail).
    pub voter: String,
    /// `approve`, `reject` or `request_changes`.
    pub vote: String,
    /// Comment.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A comment on a request.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CommentRow {
    /// Id.
    pub id: i64,
    /// The request.
    pub request_id: i64,
    /// Author (e-mail).
    pub author: String,
    /// Text.
    pub body: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An SLA escalation that was raised.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EscalationRow {
    /// Stable key (`request:clock:level`): each level is raised once.
    pub key: String,
    /// The request.
    pub request_id: i64,
    /// The SLA clock.
    pub clock: String,
    /// Escalation level.
    pub level: i64,
    /// Who was told.
    pub notify: Json<Vec<String>>,
    /// When it became due.
    pub due_at: DateTime<Utc>,
    /// When Keel raised it.
    pub raised_at: DateTime<Utc>,
}

/// Filters for listing requests.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Only this requester.
    pub requester_id: Option<i64>,
    /// Only these statuses.
    pub statuses: Vec<String>,
    /// Only this type.
    pub request_type: Option<String>,
}

/// Stores a new request and audits it.
pub async fn insert_request(tx: &mut Tx, actor: &Actor, new: &NewRequest) -> Result<Request> {
    let stored = sql(format!("INSERT INTO work_requests (request_type, title, status, priority, fields, requester_id, requester, requested_launch, planned_launch, plan, version, rework_count, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, 0, $11, $11) RETURNING {REQUEST_COLUMNS}"))
        .bind(&new.request_type)
        .bind(&new.title)
        .bind(&new.status)
        .bind(&new.priority)
        .bind(new.fields.clone())
        .bind(new.requester_id)
        .bind(&new.requester)
        .bind(new.requested_launch.clone())
        .bind(new.planned_launch.clone())
        .bind(new.plan.clone())
        .bind(new.at)
        .fetch_one::<Request>(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        "create",
        "request",
        stored.id,
        None,
        Some(audit::state(&stored)?),
    )
    .await?;
    Ok(stored)
}

/// One request.
pub async fn request<'a>(db: impl Into<crate::DbRef<'a>>, id: i64) -> Result<Request> {
    sql(format!(
        "SELECT {REQUEST_COLUMNS} FROM work_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "request",
        id: id.to_string(),
    })
}

/// Requests matching `filter`, newest first, with the total count.
pub async fn requests(
    store: &Store,
    filter: &RequestFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Request>, i64)> {
    let mut clauses = Vec::new();
    let mut args: Vec<crate::Value> = Vec::new();
    if let Some(r) = filter.requester_id {
        args.push(r.into());
        clauses.push(format!("requester_id = ${}", args.len()));
    }
    if let Some(t) = &filter.request_type {
        args.push(t.clone().into());
        clauses.push(format!("request_type = ${}", args.len()));
    }
    if !filter.statuses.is_empty() {
        let mut marks = Vec::new();
        for s in &filter.statuses {
            args.push(s.clone().into());
            marks.push(format!("${}", args.len()));
        }
        clauses.push(format!("status IN ({})", marks.join(", ")));
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let mut count = sql(format!("SELECT COUNT(*) FROM work_requests{filter_sql}"));
    for a in &args {
        count = count.bind(a.clone());
    }
    let total: i64 = count.fetch_scalar(store).await?;
    let n = args.len();
    let mut list = sql(format!(
        "SELECT {REQUEST_COLUMNS} FROM work_requests{filter_sql} ORDER BY id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    ));
    for a in args {
        list = list.bind(a);
    }
    let rows = list.bind(limit).bind(offset).fetch_all(store).await?;
    Ok((rows, total))
}

/// Every request (for the SLA job, the calendar and simulations).
pub async fn all_requests(store: &Store) -> Result<Vec<Request>> {
    sql(format!(
        "SELECT {REQUEST_COLUMNS} FROM work_requests ORDER BY id"
    ))
    .fetch_all(store)
    .await
}

/// Moves a request from `from` to `to` if it is still at `version` and in `from`; records the
/// transition and audits it. Of two concurrent moves exactly one succeeds; the other gets
/// [`StoreError::Conflict`].
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    tx: &mut Tx,
    actor: &Actor,
    request_id: i64,
    version: i64,
    from: &str,
    to: &str,
    by: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<TransitionRow> {
    // A rework cycle starts whenever a request is sent back for changes.
    let rework = i64::from(to == "changes_requested");
    let changed = sql("UPDATE work_requests SET status = $1, version = version + 1, rework_count = rework_count + $2, updated_at = $3 WHERE id = $4 AND version = $5 AND status = $6")
        .bind(to)
        .bind(rework)
        .bind(at)
        .bind(request_id)
        .bind(version)
        .bind(from)
        .execute(&mut *tx)
        .await?;
    if changed == 0 {
        return Err(StoreError::Conflict(format!(
            "request {request_id} changed since it was read (expected status {from} at version {version})"
        )));
    }
    let row = sql("INSERT INTO work_transitions (request_id, from_status, to_status, actor, reason, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, request_id, from_status, to_status, actor, reason, at")
        .bind(request_id)
        .bind(from)
        .bind(to)
        .bind(by)
        .bind(reason)
        .bind(at)
        .fetch_one::<TransitionRow>(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        "transition",
        "request",
        request_id,
        Some(serde_json::json!({"status": from})),
        Some(serde_json::json!({"status": to, "by": by, "reason": reason})),
    )
    .await?;
    Ok(row)
}

/// Replaces a request's plan and planned launch date (audited).
pub async fn set_plan(
    tx: &mut Tx,
    actor: &Actor,
    request_id: i64,
    planned_launch: Option<&str>,
    plan: Option<serde_json::Value>,
) -> Result<()> {
    sql("UPDATE work_requests SET planned_launch = $1, plan = $2, version = version + 1, updated_at = $3 WHERE id = $4")
        .bind(planned_launch)
        .bind(plan)
        .bind(now())
        .bind(request_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        "plan",
        "request",
        request_id,
        None,
        Some(serde_json::json!({"planned_launch": planned_launch})),
    )
    .await?;
    Ok(())
}

/// The status history of one request, oldest first.
pub async fn transitions<'a>(
    db: impl Into<crate::DbRef<'a>>,
    request_id: i64,
) -> Result<Vec<TransitionRow>> {
    sql("SELECT id, request_id, from_status, to_status, actor, reason, at FROM work_transitions WHERE request_id = $1 ORDER BY at, id")
        .bind(request_id)
        .fetch_all(db)
        .await
}

/// Every request's status history, oldest first, keyed by request (for SLA boards, metrics and
/// the SLA job, which read all of them at once).
pub async fn all_transitions(
    store: &Store,
) -> Result<std::collections::HashMap<i64, Vec<TransitionRow>>> {
    let rows: Vec<TransitionRow> = sql("SELECT id, request_id, from_status, to_status, actor, reason, at FROM work_transitions ORDER BY request_id, at, id")
        .fetch_all(store)
        .await?;
    let mut by_request: std::collections::HashMap<i64, Vec<TransitionRow>> =
        std::collections::HashMap::new();
    for row in rows {
        by_request.entry(row.request_id).or_default().push(row);
    }
    Ok(by_request)
}

/// One approval.
pub async fn approval<'a>(db: impl Into<crate::DbRef<'a>>, id: i64) -> Result<ApprovalRow> {
    sql("SELECT id, request_id, decision_id, approvers, needed, quorum, status, created_at, closed_at FROM work_approvals WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "approval",
            id: id.to_string(),
        })
}

/// Stores a decision record (audited).
#[allow(clippy::too_many_arguments)]
pub async fn record_decision(
    tx: &mut Tx,
    actor: &Actor,
    request_id: i64,
    outcome: &str,
    policy: Option<&str>,
    rule: Option<&str>,
    decided_by: &str,
    record: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<DecisionRow> {
    let row = sql("INSERT INTO work_decisions (request_id, outcome, policy, rule, decided_by, record, at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, request_id, outcome, policy, rule, decided_by, record, at")
        .bind(request_id)
        .bind(outcome)
        .bind(policy)
        .bind(rule)
        .bind(decided_by)
        .bind(record.clone())
        .bind(at)
        .fetch_one::<DecisionRow>(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        "decide",
        "request",
        request_id,
        None,
        Some(serde_json::json!({"decision": row.id, "outcome": outcome, "policy": policy, "rule": rule, "by": decided_by})),
    )
    .await?;
    Ok(row)
}

/// Decision records of one request, oldest first.
pub async fn decisions<'a>(
    db: impl Into<crate::DbRef<'a>>,
    request_id: i64,
) -> Result<Vec<DecisionRow>> {
    sql("SELECT id, request_id, outcome, policy, rule, decided_by, record, at FROM work_decisions WHERE request_id = $1 ORDER BY at, id")
        .bind(request_id)
        .fetch_all(db)
        .await
}

/// Every decision record (for metrics and simulation).
pub async fn all_decisions(store: &Store) -> Result<Vec<DecisionRow>> {
    sql("SELECT id, request_id, outcome, policy, rule, decided_by, record, at FROM work_decisions ORDER BY request_id, at, id")
        .fetch_all(store)
        .await
}

/// Opens an approval asked of people.
pub async fn open_approval(
    tx: &mut Tx,
    request_id: i64,
    decision_id: i64,
    approvers: &[String],
    needed: &str,
    quorum: Option<i64>,
    at: DateTime<Utc>,
) -> Result<ApprovalRow> {
    sql("INSERT INTO work_approvals (request_id, decision_id, approvers, needed, quorum, status, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id, request_id, decision_id, approvers, needed, quorum, status, created_at, closed_at")
        .bind(request_id)
        .bind(decision_id)
        .bind(serde_json::json!(approvers))
        .bind(needed)
        .bind(quorum)
        .bind(at)
        .fetch_one::<ApprovalRow>(&mut *tx)
        .await
}

/// Approvals of one request.
pub async fn approvals<'a>(
    db: impl Into<crate::DbRef<'a>>,
    request_id: i64,
) -> Result<Vec<ApprovalRow>> {
    sql("SELECT id, request_id, decision_id, approvers, needed, quorum, status, created_at, closed_at FROM work_approvals WHERE request_id = $1 ORDER BY id")
        .bind(request_id)
        .fetch_all(db)
        .await
}

/// Every pending approval, oldest first (the inbox is filtered by who may decide).
pub async fn pending_approvals(store: &Store) -> Result<Vec<ApprovalRow>> {
    sql("SELECT id, request_id, decision_id, approvers, needed, quorum, status, created_at, closed_at FROM work_approvals WHERE status = 'pending' ORDER BY created_at, id")
        .fetch_all(store)
        .await
}

/// Records a vote; a person votes once per approval.
pub async fn vote(
    tx: &mut Tx,
    approval_id: i64,
    voter: &str,
    vote: &str,
    comment: Option<&str>,
    at: DateTime<Utc>,
) -> Result<VoteRow> {
    sql("INSERT INTO work_votes (approval_id, voter, vote, comment, at) VALUES ($1, $2, $3, $4, $5) RETURNING id, approval_id, voter, vote, comment, at")
        .bind(approval_id)
        .bind(voter)
        .bind(vote)
        .bind(comment)
        .bind(at)
        .fetch_one::<VoteRow>(&mut *tx)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Conflict(format!("{voter} has already voted on approval {approval_id}"))
            } else {
                e
            }
        })
}

/// Votes on one approval.
pub async fn votes<'a>(db: impl Into<crate::DbRef<'a>>, approval_id: i64) -> Result<Vec<VoteRow>> {
    sql("SELECT id, approval_id, voter, vote, comment, at FROM work_votes WHERE approval_id = $1 ORDER BY at, id")
        .bind(approval_id)
        .fetch_all(db)
        .await
}

/// Closes an approval if it is still pending; false when another decision closed it first.
pub async fn close_approval(
    tx: &mut Tx,
    approval_id: i64,
    status: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = sql("UPDATE work_approvals SET status = $1, closed_at = $2 WHERE id = $3 AND status = 'pending'")
        .bind(status)
        .bind(at)
        .bind(approval_id)
        .execute(&mut *tx)
        .await?;
    Ok(n == 1)
}

/// Adds a comment (audited).
pub async fn add_comment(
    store: &Store,
    actor: &Actor,
    request_id: i64,
    author: &str,
    body: &str,
    at: DateTime<Utc>,
) -> Result<CommentRow> {
    let mut tx = store.begin().await?;
    request(&mut tx, request_id).await?;
    let row = sql("INSERT INTO work_comments (request_id, author, body, at) VALUES ($1, $2, $3, $4) RETURNING id, request_id, author, body, at")
        .bind(request_id)
        .bind(author)
        .bind(body)
        .bind(at)
        .fetch_one::<CommentRow>(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "comment",
        "request",
        request_id,
        None,
        Some(serde_json::json!({"comment": row.id})),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Comments on one request, oldest first.
pub async fn comments(store: &Store, request_id: i64) -> Result<Vec<CommentRow>> {
    sql("SELECT id, request_id, author, body, at FROM work_comments WHERE request_id = $1 ORDER BY at, id")
        .bind(request_id)
        .fetch_all(store)
        .await
}

/// Records a raised escalation; false when this key was raised before.
pub async fn record_escalation(store: &Store, row: &EscalationRow) -> Result<bool> {
    let n = sql("INSERT INTO work_escalations (key, request_id, clock, level, notify, due_at, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING")
        .bind(&row.key)
        .bind(row.request_id)
        .bind(&row.clock)
        .bind(row.level)
        .bind(serde_json::json!(row.notify.0))
        .bind(row.due_at)
        .bind(row.raised_at)
        .execute(store)
        .await?;
    Ok(n == 1)
}

/// Escalations raised, newest first; for one request when given.
pub async fn escalations(store: &Store, request_id: Option<i64>) -> Result<Vec<EscalationRow>> {
    match request_id {
        Some(id) => sql("SELECT key, request_id, clock, level, notify, due_at, raised_at FROM work_escalations WHERE request_id = $1 ORDER BY raised_at DESC")
            .bind(id)
            .fetch_all(store)
            .await,
        None => sql("SELECT key, request_id, clock, level, notify, due_at, raised_at FROM work_escalations ORDER BY raised_at DESC")
            .fetch_all(store)
            .await,
    }
}

/// The stored roster (people, weekly hours, time off, allocations) as JSON, if any.
pub async fn roster(store: &Store) -> Result<Option<serde_json::Value>> {
    let row: Option<(Json<serde_json::Value>,)> =
        sql("SELECT roster FROM work_roster WHERE id = 1")
            .fetch_optional(store)
            .await?;
    Ok(row.map(|(j,)| j.0))
}

/// Replaces the roster (audited).
pub async fn set_roster(store: &Store, actor: &Actor, roster: &serde_json::Value) -> Result<()> {
    let mut tx = store.begin().await?;
    let before = sql("SELECT roster FROM work_roster WHERE id = 1")
        .fetch_optional::<(Json<serde_json::Value>,)>(&mut tx)
        .await?
        .map(|(j,)| j.0);
    sql("INSERT INTO work_roster (id, roster, updated_at) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET roster = excluded.roster, updated_at = excluded.updated_at")
        .bind(roster.clone())
        .bind(now())
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "roster",
        1,
        before,
        Some(roster.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Attaches a stored check run to a request (audited); attaching twice is a no-op.
pub async fn attach_check_run(
    store: &Store,
    actor: &Actor,
    request_id: i64,
    check_run_id: i64,
    by: &str,
) -> Result<()> {
    let mut tx = store.begin().await?;
    request(&mut tx, request_id).await?;
    let n = sql("INSERT INTO work_check_runs (request_id, check_run_id, attached_by, attached_at) VALUES ($1, $2, $3, $4) ON CONFLICT (request_id, check_run_id) DO NOTHING")
        .bind(request_id)
        .bind(check_run_id)
        .bind(by)
        .bind(now())
        .execute(&mut tx)
        .await?;
    if n == 1 {
        audit::record(
            &mut tx,
            actor,
            "attach_check",
            "request",
            request_id,
            None,
            Some(serde_json::json!({"check_run": check_run_id})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The check runs attached to a request, newest first.
pub async fn check_runs(store: &Store, request_id: i64) -> Result<Vec<crate::checks::CheckRun>> {
    sql("SELECT c.id, c.kind, c.name, c.errors, c.warnings, c.infos, c.report, c.created_by, c.created_at FROM check_runs c JOIN work_check_runs w ON w.check_run_id = c.id WHERE w.request_id = $1 ORDER BY c.created_at DESC, c.id DESC")
        .bind(request_id)
        .fetch_all(store)
        .await
}

/// Stores (or replaces) a user's calendar feed token digest.
pub async fn set_calendar_feed(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    token_digest: &str,
) -> Result<()> {
    let mut tx = store.begin().await?;
    sql("INSERT INTO calendar_feeds (user_id, token_digest, created_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET token_digest = excluded.token_digest, created_at = excluded.created_at")
        .bind(user_id)
        .bind(token_digest)
        .bind(now())
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "rotate",
        "calendar_feed",
        user_id,
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user a calendar feed token digest belongs to.
pub async fn calendar_feed_user(store: &Store, token_digest: &str) -> Result<Option<i64>> {
    sql("SELECT user_id FROM calendar_feeds WHERE token_digest = $1")
        .bind(token_digest)
        .fetch_optional_scalar(store)
        .await
}
