//! `/api/v1/audit`: reading and verifying the audit log.

use crate::AppState;
use crate::api::{Page, PageQuery};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::json::ValidQuery;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use keel_audit::AuditEntry;
use keel_policy::Action;
use keel_store::audit::{self, AuditFilter, Verification};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// One audit-log entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryOut {
    /// Position in the chain.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// Entity type.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// State before.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// State after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl From<AuditEntry> for AuditEntryOut {
    fn from(e: AuditEntry) -> Self {
        let parse = |s: Option<String>| {
            s.map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
        };
        AuditEntryOut {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            before: parse(e.before),
            after: parse(e.after),
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// Filters for the audit log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this entity type (e.g. `user`).
    pub entity_type: Option<String>,
    /// Only this entity id.
    pub entity_id: Option<String>,
    /// Only this actor (prefix, e.g. `user:3`).
    pub actor: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Offset.
    pub offset: Option<i64>,
}

/// Read the audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntryOut>), (status = 403, body = crate::error::Problem)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntryOut>>> {
    caller.require(&state, Action::AuditRead)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let filter = AuditFilter {
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor: q.actor,
    };
    let (entries, total) = audit::list(&state.store, &filter, limit, offset).await?;
    Ok(Json(Page {
        items: entries.into_iter().map(AuditEntryOut::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// The result of verifying the chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationOut {
    /// True when every entry checks out.
    pub intact: bool,
    /// Entries verified.
    pub checked: u64,
    /// Hash of the last good entry.
    pub head: String,
    /// The first problem.
    pub error: Option<String>,
    /// The first bad entry.
    pub first_bad_seq: Option<i64>,
}

impl From<Verification> for VerificationOut {
    fn from(v: Verification) -> Self {
        VerificationOut {
            intact: v.error.is_none(),
            checked: v.checked,
            head: v.head,
            error: v.error,
            first_bad_seq: v.first_bad_seq,
        }
    }
}

/// Verify the whole hash chain.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = VerificationOut)))]
async fn verify(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<VerificationOut>> {
    caller.require(&state, Action::AuditRead)?;
    Ok(Json(audit::verify(&state.store).await?.into()))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(verify))
}
