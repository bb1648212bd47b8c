//! `/api/v1/contacts…`: contacts and accounts with lineage, imports (upload → job → status),
//! quarantine (fix and re-submit), the duplicate review queue with its explanation waterfall,
//! merge and un-merge, hygiene events, data-quality scores, segments with live counts and MQL
//! hand-offs.
//!
//! The pages in `pages/contacts.rs` call the same functions, so the UI and the API share one
//! path and one validation.

use std::collections::{BTreeMap, HashSet};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use keel_contacts::hygiene::{QualityReport, quality_report};
use keel_contacts::import::{FieldMap, ImportOptions, Layout, import_csv_bytes};
use keel_contacts::lifecycle::Stage;
use keel_contacts::merge::SurvivorshipConfig;
use keel_contacts::segment::{Segment, Subject};
use keel_contacts::{ObjectKind, Record};
use keel_policy::Action;
use keel_store::contacts::{
    self as store, ContactRow, DuplicatePair, Handoff, HygieneEvent, Import, MergeRow, NewImport,
    QuarantineRow, RecordFilter, ReviewDecision, StageChange,
};
use keel_store::jobs::{self, NewJob};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::{Page, PageQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::{ValidJson, ValidQuery};

// ---------------------------------------------------------------------------------------------
// Records

/// A contact or account as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    /// Keel id.
    pub id: String,
    /// `contact` or `account`.
    pub object: String,
    /// E-mail (contacts).
    pub email: Option<String>,
    /// Full name or company name.
    pub name: String,
    /// Company (contacts) or domain (accounts).
    pub company: Option<String>,
    /// System that created it.
    pub source: String,
    /// Lifecycle stage.
    pub lifecycle_stage: String,
    /// Lead score.
    pub score: f64,
    /// Sales owner.
    pub owner: Option<String>,
    /// Whether the address is suppressed.
    pub suppressed: bool,
    /// Why.
    pub suppression_reason: Option<String>,
    /// The surviving record when merged away.
    pub merged_into: Option<String>,
    /// Revision (incremented on every change).
    pub revision: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ContactRow> for ContactOut {
    fn from(r: ContactRow) -> Self {
        ContactOut {
            id: r.id,
            object: r.object,
            email: r.email,
            name: r.name,
            company: r.company,
            source: r.source,
            lifecycle_stage: r.lifecycle_stage,
            score: r.score,
            owner: r.owner,
            suppressed: r.suppressed,
            suppression_reason: r.suppression_reason,
            merged_into: r.merged_into,
            revision: r.revision,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// One field of a record with where its value came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldOut {
    /// Field name.
    pub name: String,
    /// The value as text.
    pub value: String,
    /// Whether it is a custom field.
    pub custom: bool,
    /// System the value came from.
    pub system: Option<String>,
    /// Source inside that system (file, sync run, form).
    pub source: Option<String>,
    /// When the value was observed.
    pub at: Option<DateTime<Utc>>,
}

/// A record in full: fields with lineage, lifecycle history, merges, hygiene and hand-offs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactDetail {
    /// The listed columns.
    pub contact: ContactOut,
    /// Every field with its lineage, standard fields first.
    pub fields: Vec<FieldOut>,
    /// Lifecycle history, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<StageChange>,
    /// Merges it took part in.
    #[schema(value_type = Vec<Object>)]
    pub merges: Vec<MergeRow>,
    /// Hygiene events.
    #[schema(value_type = Vec<Object>)]
    pub hygiene: Vec<HygieneEvent>,
    /// MQL hand-offs.
    #[schema(value_type = Vec<Object>)]
    pub handoffs: Vec<Handoff>,
    /// Engagement events, newest first.
    #[schema(value_type = Vec<Object>)]
    pub engagement: Vec<keel_contacts::scoring::Event>,
}

/// The fields of a record with lineage, standard fields in contract order, then custom ones.
pub fn fields_of(record: &Record) -> Vec<FieldOut> {
    let standard = record.object.standard_fields();
    let mut out: Vec<FieldOut> = Vec::new();
    let mut push = |name: &String| {
        if let Some(v) = record.fields.get(name) {
            let l = record.lineage.get(name);
            out.push(FieldOut {
                name: name.clone(),
                value: v.as_text(),
                custom: !standard.contains(&name.as_str()),
                system: l.map(|l| l.system.to_string()),
                source: l.map(|l| l.source.to_string()),
                at: l.map(|l| l.at),
            });
        }
    };
    for s in standard {
        if let Some((k, _)) = record.fields.get_key_value(*s) {
            push(k);
        }
    }
    for k in record.fields.keys() {
        if !standard.contains(&k.as_str()) {
            push(k);
        }
    }
    out
}

/// Filters of the contact list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Name, e-mail or company contains this (case-insensitive).
    pub q: Option<String>,
    /// Lifecycle stage.
    pub stage: Option<String>,
    /// Only suppressed (`true`) or not suppressed (`false`).
    pub suppressed: Option<bool>,
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// Items to skip.
    pub offset: Option<i64>,
}

/// Lists records of one object.
pub async fn list_records(
    state: &AppState,
    object: &str,
    q: &ContactQuery,
) -> ApiResult<Page<ContactOut>> {
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    if let Some(s) = &q.stage
        && Stage::parse(s).is_none()
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "stage",
            format!(
                "unknown stage `{s}`; use subscriber, lead, mql, sql, opportunity, customer or disqualified"
            ),
        )]));
    }
    let filter = RecordFilter {
        object: Some(object.to_string()),
        q: q.q.clone(),
        stage: q.stage.clone(),
        suppressed: q.suppressed,
        include_merged: false,
    };
    let (rows, total) = store::list(&state.store, &filter, limit, offset).await?;
    Ok(Page {
        items: rows.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    })
}

/// List or search contacts.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = Page<ContactOut>), (status = 403, body = crate::error::Problem)))]
async fn list_contacts(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<ContactQuery>,
) -> ApiResult<Json<Page<ContactOut>>> {
    caller.require(&state, Action::ContactsRead)?;
    Ok(Json(list_records(&state, "contact", &q).await?))
}

/// List or search accounts.
#[utoipa::path(get, path = "/api/v1/contacts/accounts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = Page<ContactOut>), (status = 403, body = crate::error::Problem)))]
async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<ContactQuery>,
) -> ApiResult<Json<Page<ContactOut>>> {
    caller.require(&state, Action::ContactsRead)?;
    Ok(Json(list_records(&state, "account", &q).await?))
}

/// A record in full.
pub async fn detail(state: &AppState, id: &str) -> ApiResult<ContactDetail> {
    let r = store::get(&state.store, id).await?;
    let s = &state.store;
    Ok(ContactDetail {
        fields: fields_of(&r.record),
        history: store::stage_history(s, id).await?,
        merges: store::merges_of(s, id).await?,
        hygiene: store::hygiene_of(s, id).await?,
        handoffs: store::handoffs_of(s, id).await?,
        engagement: store::engagement_of(s, id).await?,
        contact: r.row.into(),
    })
}

/// Get a contact or account with every field's lineage and its history.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path, description = "Record id")),
    responses((status = 200, body = ContactDetail), (status = 404, body = crate::error::Problem)))]
async fn get_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ContactDetail>> {
    caller.require(&state, Action::ContactsRead)?;
    Ok(Json(detail(&state, &id).await?))
}

// ---------------------------------------------------------------------------------------------
// Imports

/// An import as reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOut {
    /// Id.
    pub id: i64,
    /// File name.
    pub file_name: String,
    /// Layout or field map name.
    pub layout: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Rows read.
    pub rows_read: i64,
    /// New records.
    pub accepted: i64,
    /// Records updated.
    pub updated: i64,
    /// Rows quarantined.
    pub quarantined: i64,
    /// Rows already imported.
    pub unchanged: i64,
    /// Rows merged into duplicates.
    pub merged: i64,
    /// Rows queued for duplicate review.
    pub queued_for_review: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// The job running it.
    pub job_id: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Import> for ImportOut {
    fn from(i: Import) -> Self {
        ImportOut {
            id: i.id,
            file_name: i.file_name,
            layout: i.layout,
            status: i.status,
            rows_read: i.rows_read,
            accepted: i.accepted,
            updated: i.updated,
            quarantined: i.quarantined,
            unchanged: i.unchanged,
            merged: i.merged,
            queued_for_review: i.queued_for_review,
            error: i.error,
            job_id: i.job_id,
            created_at: i.created_at,
            finished_at: i.finished_at,
        }
    }
}

/// An uploaded export to import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// File name (`.csv`, or `.jsonl` / `.ndjson` for JSON Lines).
    pub file_name: String,
    /// `salesforce-lead`, `salesforce-contact`, `hubspot-contact`, `marketo-lead`, or `custom`
    /// with `map`.
    pub layout: String,
    /// A `FieldMap` document in YAML (layout `custom`).
    #[serde(default)]
    pub map: Option<String>,
    /// The file as text (UTF-8).
    #[serde(default)]
    pub content: Option<String>,
    /// The file as base64, for files in another encoding.
    #[serde(default)]
    pub content_base64: Option<String>,
    /// Text encoding of `content_base64` when not UTF-8 (`latin1`, `windows-1252`, …).
    #[serde(default)]
    pub encoding: Option<String>,
    /// Check rows for duplicates (default true).
    #[serde(default)]
    pub check_duplicates: Option<bool>,
}

/// Validates an upload and queues its import job; the whole file is checked up front
/// (encoding, header), so a wrong file gets one clear error and no import.
pub async fn start_import(
    state: &AppState,
    caller: &Caller,
    req: ImportRequest,
) -> ApiResult<Import> {
    use base64::Engine;
    let mut errors = Vec::new();
    if req.file_name.trim().is_empty() {
        errors.push(FieldError::new("file_name", "is required"));
    }
    let (map, layout_name, map_yaml) = match req.layout.as_str() {
        "custom" => match req.map.as_deref() {
            Some(yaml) => match FieldMap::from_yaml(yaml) {
                Ok(m) => {
                    for p in m.validate() {
                        errors.push(FieldError::new(format!("map.{}", p.path), p.message));
                    }
                    let name = m.metadata.name.clone();
                    (Some(m), name, Some(yaml.to_string()))
                }
                Err(e) => {
                    errors.push(FieldError::new("map", e.to_string()));
                    (None, String::new(), None)
                }
            },
            None => {
                errors.push(FieldError::new(
                    "map",
                    "a custom layout needs a FieldMap document",
                ));
                (None, String::new(), None)
            }
        },
        other => match Layout::parse(other) {
            Some(l) => (l.field_map().ok(), l.name().to_string(), None),
            None => {
                errors.push(FieldError::new(
                    "layout",
                    format!("unknown layout `{other}`; use salesforce-lead, salesforce-contact, hubspot-contact, marketo-lead or custom"),
                ));
                (None, String::new(), None)
            }
        },
    };
    let bytes = match (req.content, req.content_base64) {
        (Some(text), None) => Some(text.into_bytes()),
        (None, Some(b64)) => match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
            Ok(b) => Some(b),
            Err(e) => {
                errors.push(FieldError::new(
                    "content_base64",
                    format!("is not base64: {e}"),
                ));
                None
            }
        },
        _ => {
            errors.push(FieldError::new(
                "content",
                "give the file as `content` (text) or `content_base64`, not both",
            ));
            None
        }
    };
    let (Some(map), Some(bytes), true) = (map, bytes, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let contract = map
        .default_contract()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let json_lines = {
        let n = req.file_name.to_lowercase();
        n.ends_with(".jsonl") || n.ends_with(".ndjson")
    };
    if let Err(e) = store::precheck(&bytes, req.encoding.as_deref(), json_lines, &map, &contract) {
        return Err(ApiError::validation(vec![FieldError::new(
            if req.encoding.is_some() {
                "encoding"
            } else {
                "content"
            },
            e.to_string(),
        )]));
    }
    let import = store::create_import(
        &state.store,
        &caller.actor(),
        &NewImport {
            file_name: req.file_name.trim().to_string(),
            layout: layout_name,
            content: Some(bytes),
            check_duplicates: req.check_duplicates.unwrap_or(true),
        },
    )
    .await?;
    let job_id = jobs::enqueue(
        &state.store,
        &NewJob {
            kind: "contacts.import".into(),
            payload: serde_json::json!({
                "import_id": import.id,
                "map_yaml": map_yaml,
                "encoding": req.encoding,
            }),
            run_at: None,
            max_attempts: 3,
        },
    )
    .await?;
    store::set_import_job(&state.store, import.id, job_id).await?;
    state.job_waker.notify_one();
    Ok(store::import(&state.store, import.id).await?)
}

/// Upload an export; it is checked up front and imported by a background job.
#[utoipa::path(post, path = "/api/v1/contacts/imports", tag = "contacts", request_body = ImportRequest,
    responses((status = 202, body = ImportOut), (status = 422, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn create_import(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(req): ValidJson<ImportRequest>,
) -> ApiResult<(StatusCode, Json<ImportOut>)> {
    caller.require(&state, Action::ImportsRun)?;
    let import = start_import(&state, &caller, req).await?;
    Ok((StatusCode::ACCEPTED, Json(import.into())))
}

/// List imports, newest first.
#[utoipa::path(get, path = "/api/v1/contacts/imports", tag = "contacts", params(PageQuery),
    responses((status = 200, body = Page<ImportOut>)))]
async fn list_imports(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<Json<Page<ImportOut>>> {
    caller.require(&state, Action::ContactsRead)?;
    let (limit, offset) = q.resolve()?;
    let (items, total) = store::imports(&state.store, limit, offset).await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    }))
}

/// An import's status and counts.
#[utoipa::path(get, path = "/api/v1/contacts/imports/{id}", tag = "contacts", params(("id" = i64, Path, description = "Import id")),
    responses((status = 200, body = ImportOut), (status = 404, body = crate::error::Problem)))]
async fn get_import(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ImportOut>> {
    caller.require(&state, Action::ContactsRead)?;
    Ok(Json(store::import(&state.store, id).await?.into()))
}

// ---------------------------------------------------------------------------------------------
// Quarantine

/// A quarantined row.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineOut {
    /// Id.
    pub id: i64,
    /// Import.
    pub import_id: i64,
    /// Row number in the file (header not counted).
    pub row_number: i64,
    /// Line in the file.
    pub line: Option<i64>,
    /// The raw cells, in file order.
    pub cells: Vec<(String, String)>,
    /// Every reason (`field`, `value`, `reason`).
    #[schema(value_type = Vec<Object>)]
    pub reasons: serde_json::Value,
    /// Whether it was fixed and re-submitted.
    pub resolved: bool,
    /// The record it became.
    pub record_id: Option<String>,
}

impl From<QuarantineRow> for QuarantineOut {
    fn from(q: QuarantineRow) -> Self {
        QuarantineOut {
            cells: q.cells(),
            id: q.id,
            import_id: q.import_id,
            row_number: q.row_number,
            line: q.line,
            reasons: q.reasons.0,
            resolved: q.resolved,
            record_id: q.record_id,
        }
    }
}

/// Filters of the quarantine list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    /// Only rows of this import.
    pub import_id: Option<i64>,
    /// Include rows already re-submitted.
    pub resolved: Option<bool>,
    /// Items per page.
    pub limit: Option<i64>,
    /// Items to skip.
    pub offset: Option<i64>,
}

/// List quarantined rows with every reason.
#[utoipa::path(get, path = "/api/v1/contacts/quarantine", tag = "contacts", params(QuarantineQuery),
    responses((status = 200, body = Page<QuarantineOut>)))]
async fn list_quarantine(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<QuarantineQuery>,
) -> ApiResult<Json<Page<QuarantineOut>>> {
    caller.require(&state, Action::ContactsRead)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let (items, total) = store::quarantine(
        &state.store,
        q.import_id,
        q.resolved.unwrap_or(false),
        limit,
        offset,
    )
    .await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    }))
}

/// Fixed cells of a quarantined row.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resubmit {
    /// Cell values by column; columns not given keep their quarantined value.
    pub cells: BTreeMap<String, String>,
}

/// Re-runs a fixed quarantined row through its import's field map and contract; still-bad
/// rows get a 422 naming every field, good ones become (or update) a record.
pub async fn resubmit(
    state: &AppState,
    caller: &Caller,
    id: i64,
    fixes: &BTreeMap<String, String>,
) -> ApiResult<QuarantineRow> {
    let row = store::quarantined(&state.store, id).await?;
    if row.resolved {
        return Err(ApiError::Conflict {
            detail: format!("quarantined row {id} was already re-submitted"),
            allowed: None,
        });
    }
    let import = store::import(&state.store, row.import_id).await?;
    let map = match Layout::parse(&import.layout) {
        Some(l) => l
            .field_map()
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        None => {
            return Err(ApiError::BadRequest {
                detail: format!(
                    "the import used the custom map `{}`; re-import the fixed file with it",
                    import.layout
                ),
                errors: Vec::new(),
            });
        }
    };
    let contract = map
        .default_contract()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut cells = row.cells();
    let mut errors = Vec::new();
    for (column, value) in fixes {
        match cells.iter_mut().find(|(c, _)| c == column) {
            Some(cell) => cell.1 = value.clone(),
            None => errors.push(FieldError::new(
                format!("cells.{column}"),
                "is not a column of this row",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // The fixed row goes through the very pipeline the file did: a one-row file.
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>| -> Result<Vec<u8>, String> {
        w.write_record(cells.iter().map(|(c, _)| c))
            .map_err(|e| e.to_string())?;
        w.write_record(cells.iter().map(|(_, v)| v))
            .map_err(|e| e.to_string())?;
        w.flush().map_err(|e| e.to_string())?;
        Ok(w.get_ref().clone())
    };
    let bytes = write(&mut w).map_err(ApiError::Internal)?;
    let options = ImportOptions {
        source: import.file_name.clone(),
        at: keel_store::now(),
    };
    let outcome = import_csv_bytes(&bytes, None, &map, &contract, &options, &HashSet::new())
        .map_err(|e| ApiError::BadRequest {
            detail: e.to_string(),
            errors: Vec::new(),
        })?;
    if let Some(q) = outcome.quarantined.first() {
        return Err(ApiError::validation(
            q.reasons
                .iter()
                .map(|r| {
                    FieldError::new(
                        format!("cells.{}", column_of(&map, &r.field)),
                        format!("{} (value `{}`)", r.reason, r.value),
                    )
                })
                .collect(),
        ));
    }
    let Some(accepted) = outcome.accepted.into_iter().next() else {
        return Err(ApiError::Internal(
            "the fixed row produced no record".into(),
        ));
    };
    let mut record = accepted.record;
    record.id = match &record.source_id {
        Some(sid) => store::record_id(record.object, &record.source, sid),
        None => store::record_id_from_key(record.object, &accepted.key),
    };
    Ok(store::resolve_quarantined(&state.store, &caller.actor(), id, &cells, &record).await?)
}

/// The export column a contract field is read from (for naming the cell to fix).
fn column_of(map: &FieldMap, field: &str) -> String {
    map.spec
        .columns
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.column.clone())
        .unwrap_or_else(|| field.to_string())
}

/// Fix a quarantined row and re-submit it.
#[utoipa::path(post, path = "/api/v1/contacts/quarantine/{id}/resubmit", tag = "contacts", request_body = Resubmit,
    params(("id" = i64, Path, description = "Quarantined row id")),
    responses((status = 200, body = QuarantineOut), (status = 422, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
async fn resubmit_row(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(req): ValidJson<Resubmit>,
) -> ApiResult<Json<QuarantineOut>> {
    caller.require(&state, Action::ImportsRun)?;
    Ok(Json(
        resubmit(&state, &caller, id, &req.cells).await?.into(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Review queue, merges

/// A pair in the review queue, with both records and the explanation waterfall.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairOut {
    /// Id.
    pub id: i64,
    /// Match probability.
    pub probability: f64,
    /// `open`, `merged`, `not_duplicate` or `skipped`.
    pub status: String,
    /// `import`, `batch` or `manual`.
    pub origin: String,
    /// The explanation: prior, one term per compared field (level, values, weight), final
    /// weight and probability.
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
    /// The record that would survive.
    pub left: Option<ContactOut>,
    /// The record that would be merged into it.
    pub right: Option<ContactOut>,
    /// Queued.
    pub created_at: DateTime<Utc>,
}

/// A pair with both records (records gone since show as `None`).
pub async fn pair_out(state: &AppState, p: DuplicatePair) -> ApiResult<PairOut> {
    let left = store::find(&state.store, &p.left_id)
        .await?
        .map(|r| r.row.into());
    let right = store::find(&state.store, &p.right_id)
        .await?
        .map(|r| r.row.into());
    Ok(PairOut {
        id: p.id,
        probability: p.probability,
        status: p.status,
        origin: p.origin,
        explanation: p.explanation.0,
        left,
        right,
        created_at: p.created_at,
    })
}

/// Filters of the review queue.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// `open` (default), `skipped`, `merged` or `not_duplicate`.
    pub status: Option<String>,
    /// Items per page.
    pub limit: Option<i64>,
    /// Items to skip.
    pub offset: Option<i64>,
}

/// The duplicate review queue, most probable first.
#[utoipa::path(get, path = "/api/v1/contacts/duplicates", tag = "contacts", params(ReviewQuery),
    responses((status = 200, body = Page<PairOut>)))]
async fn list_duplicates(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<ReviewQuery>,
) -> ApiResult<Json<Page<PairOut>>> {
    caller.require(&state, Action::ContactsRead)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let status = q.status.as_deref().unwrap_or("open");
    if !["open", "skipped", "merged", "not_duplicate"].contains(&status) {
        return Err(ApiError::validation(vec![FieldError::new(
            "status",
            "must be open, skipped, merged or not_duplicate",
        )]));
    }
    let (pairs, total) = store::review_queue(&state.store, status, limit, offset).await?;
    let mut items = Vec::with_capacity(pairs.len());
    for p in pairs {
        items.push(pair_out(&state, p).await?);
    }
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// A reviewer's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `merge`, `not_duplicate` or `skip`.
    pub decision: String,
}

/// Parses a review decision.
pub fn parse_decision(s: &str) -> ApiResult<ReviewDecision> {
    match s {
        "merge" => Ok(ReviewDecision::Merge),
        "not_duplicate" => Ok(ReviewDecision::NotDuplicate),
        "skip" => Ok(ReviewDecision::Skip),
        _ => Err(ApiError::validation(vec![FieldError::new(
            "decision",
            "must be merge, not_duplicate or skip",
        )])),
    }
}

/// What a decision did.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    /// The pair after the decision.
    pub pair: PairOut,
    /// The merge made, when the decision was `merge`.
    pub merge_id: Option<i64>,
}

/// Decide a queued pair: merge, not a duplicate, or skip.
#[utoipa::path(post, path = "/api/v1/contacts/duplicates/{id}/decision", tag = "contacts", request_body = DecisionRequest,
    params(("id" = i64, Path, description = "Pair id")),
    responses((status = 200, body = DecisionOut), (status = 409, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(req): ValidJson<DecisionRequest>,
) -> ApiResult<Json<DecisionOut>> {
    caller.require(&state, Action::ContactsWrite)?;
    let decision = parse_decision(&req.decision)?;
    let merge_id = store::decide_pair(
        &state.store,
        &caller.actor(),
        id,
        decision,
        &SurvivorshipConfig::default(),
    )
    .await?;
    let pair = pair_out(&state, store::pair(&state.store, id).await?).await?;
    Ok(Json(DecisionOut { pair, merge_id }))
}

/// A merge as reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeOut {
    /// Id.
    pub id: i64,
    /// The surviving record.
    pub survivor_id: String,
    /// The record merged into it.
    pub absorbed_id: String,
    /// Per-field decisions and conflicts.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Match probability when it came from matching.
    pub probability: Option<f64>,
    /// Who merged.
    pub actor: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When undone.
    pub undone_at: Option<DateTime<Utc>>,
}

impl From<MergeRow> for MergeOut {
    fn from(m: MergeRow) -> Self {
        let detail = m
            .record()
            .map(|r| serde_json::json!({"decisions": r.decisions, "conflicts": r.conflicts}))
            .unwrap_or_default();
        MergeOut {
            id: m.id,
            survivor_id: m.survivor_id,
            absorbed_id: m.absorbed_id,
            detail,
            probability: m.probability,
            actor: m.actor,
            created_at: m.created_at,
            undone_at: m.undone_at,
        }
    }
}

/// Two records to merge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The record that survives (keeps its id).
    pub survivor: String,
    /// The record merged into it.
    pub absorbed: String,
}

/// Merge two records under the survivorship rules. Concurrent merges of the same records:
/// one wins, the other gets 409.
#[utoipa::path(post, path = "/api/v1/contacts/merges", tag = "contacts", request_body = MergeRequest,
    responses((status = 201, body = MergeOut), (status = 409, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(req): ValidJson<MergeRequest>,
) -> ApiResult<(StatusCode, Json<MergeOut>)> {
    caller.require(&state, Action::ContactsWrite)?;
    let m = store::merge_records(
        &state.store,
        &caller.actor(),
        &req.survivor,
        &req.absorbed,
        &SurvivorshipConfig::default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// Recent merges.
#[utoipa::path(get, path = "/api/v1/contacts/merges", tag = "contacts", params(PageQuery),
    responses((status = 200, body = Page<MergeOut>)))]
async fn list_merges(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<Json<Page<MergeOut>>> {
    caller.require(&state, Action::ContactsRead)?;
    let (limit, offset) = q.resolve()?;
    let (items, total) = store::merges(&state.store, limit, offset).await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    }))
}

/// Undo a merge: both records return exactly as they were.
#[utoipa::path(post, path = "/api/v1/contacts/merges/{id}/unmerge", tag = "contacts",
    params(("id" = i64, Path, description = "Merge id")),
    responses((status = 200, body = MergeOut), (status = 409, body = crate::error::Problem)))]
async fn unmerge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<MergeOut>> {
    caller.require(&state, Action::ContactsWrite)?;
    Ok(Json(
        store::unmerge_records(&state.store, &caller.actor(), id)
            .await?
            .into(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Hygiene

/// A hygiene event reported by an email service or a person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HygieneRequest {
    /// The address.
    pub email: String,
    /// `hard_bounce`, `soft_bounce` or `complaint` (hard bounces and complaints suppress).
    pub kind: String,
    /// Details (bounce code, feedback-loop id).
    #[serde(default)]
    pub detail: Option<String>,
    /// When it happened (now when absent).
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// What a hygiene event did.
#[derive(Debug, Serialize, ToSchema)]
pub struct HygieneOut {
    /// The stored event.
    #[schema(value_type = Object)]
    pub event: HygieneEvent,
    /// Records suppressed by it.
    pub suppressed: Vec<String>,
}

/// Report a hard bounce, soft bounce or spam complaint; hard bounces and complaints suppress
/// the address.
#[utoipa::path(post, path = "/api/v1/contacts/hygiene", tag = "contacts", request_body = HygieneRequest,
    responses((status = 201, body = HygieneOut), (status = 422, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn report_hygiene(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(req): ValidJson<HygieneRequest>,
) -> ApiResult<(StatusCode, Json<HygieneOut>)> {
    caller.require(&state, Action::ContactsWrite)?;
    let mut errors = Vec::new();
    if !req.email.contains('@') {
        errors.push(FieldError::new("email", "is not an e-mail address"));
    }
    if !["hard_bounce", "soft_bounce", "complaint"].contains(&req.kind.as_str()) {
        errors.push(FieldError::new(
            "kind",
            "must be hard_bounce, soft_bounce or complaint",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (event, suppressed) = store::record_hygiene(
        &state.store,
        &caller.actor(),
        &req.email,
        &req.kind,
        req.detail.as_deref().unwrap_or(""),
        "api",
        req.at.unwrap_or_else(keel_store::now),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(HygieneOut { event, suppressed })))
}

/// Filters of the hygiene list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HygieneQuery {
    /// Only events of this kind.
    pub kind: Option<String>,
    /// Items per page.
    pub limit: Option<i64>,
    /// Items to skip.
    pub offset: Option<i64>,
}

/// Hygiene events, newest first.
#[utoipa::path(get, path = "/api/v1/contacts/hygiene", tag = "contacts", params(HygieneQuery),
    responses((status = 200, body = Page<Object>)))]
async fn list_hygiene(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<HygieneQuery>,
) -> ApiResult<Json<Page<HygieneEvent>>> {
    caller.require(&state, Action::ContactsRead)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let (items, total) =
        store::hygiene_events(&state.store, q.kind.as_deref(), limit, offset).await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

// ---------------------------------------------------------------------------------------------
// Data quality, segments

/// Data-quality scores of contacts now, with the stored trend.
#[derive(Debug, Serialize, ToSchema)]
pub struct QualityOut {
    /// Scores per field, per source and for the object.
    #[schema(value_type = Object)]
    pub report: QualityReport,
    /// Object-level scores of earlier snapshots, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub trend: Vec<store::QualityLine>,
}

/// Freshness window of the quality report, in days.
pub const FRESH_DAYS: u32 = 365;

/// Computes the contact quality report now.
pub async fn quality(state: &AppState) -> ApiResult<QualityOut> {
    let records = store::active_records(&state.store, ObjectKind::Contact).await?;
    let contract = keel_contacts::contract::default_contact_contract()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let records: Vec<Record> = records.into_iter().map(|r| r.record).collect();
    let now = keel_store::now();
    let report =
        tokio::task::spawn_blocking(move || quality_report(&records, &contract, now, FRESH_DAYS))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    let trend = store::quality_trend(&state.store, "contact", 30).await?;
    Ok(QualityOut { report, trend })
}

/// Data-quality scores (completeness, validity, uniqueness, freshness) per field and source.
#[utoipa::path(get, path = "/api/v1/contacts/quality", tag = "contacts",
    responses((status = 200, body = QualityOut)))]
async fn get_quality(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<QualityOut>> {
    caller.require(&state, Action::ContactsRead)?;
    Ok(Json(quality(&state).await?))
}

/// A saved segment with its live count.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentOut {
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// `contact` or `account`.
    pub object: String,
    /// Records in it now (suppressed contacts excluded).
    pub count: usize,
    /// The definition.
    #[schema(value_type = Object)]
    pub filter: serde_json::Value,
}

/// The contacts a segment is evaluated over: every active contact record with its lifecycle
/// stage and engagement events, read once and lent to [`Segment::members`] as [`Subject`]s.
pub struct SegmentPool {
    records: Vec<keel_store::contacts::StoredRecord>,
    stages: Vec<Option<Stage>>,
    events: std::collections::HashMap<String, Vec<keel_contacts::scoring::Event>>,
    none: Vec<keel_contacts::scoring::Event>,
}

impl SegmentPool {
    /// Reads the active contact records and their engagement.
    pub async fn load(store_: &keel_store::Store) -> ApiResult<Self> {
        let records = store::active_records(store_, ObjectKind::Contact).await?;
        let stages = records
            .iter()
            .map(|r| Stage::parse(&r.row.lifecycle_stage))
            .collect();
        let events = store::engagement_events(store_).await?;
        Ok(Self {
            records,
            stages,
            events,
            none: Vec::new(),
        })
    }

    /// The records as segment subjects; hygiene-suppressed contacts only when
    /// `include_suppressed` (live counts leave them out, eligibility reports them).
    pub fn subjects(&self, include_suppressed: bool) -> Vec<Subject<'_>> {
        self.records
            .iter()
            .zip(&self.stages)
            .filter(|(r, _)| include_suppressed || !r.row.suppressed)
            .map(|(r, stage)| Subject {
                record: &r.record,
                stage: *stage,
                score: None,
                events: self.events.get(&r.row.id).unwrap_or(&self.none),
            })
            .collect()
    }
}

/// A stored `Segment` document as the segment it defines.
pub fn segment_of(d: &keel_store::documents::Document) -> serde_json::Result<Segment> {
    serde_json::from_value(
        serde_json::json!({"apiVersion": d.api_version, "kind": d.kind, "metadata": d.metadata.0, "spec": d.spec.0}),
    )
}

/// Every stored `Segment` document with its live count.
pub async fn segments(state: &AppState) -> ApiResult<Vec<SegmentOut>> {
    let docs =
        keel_store::documents::list(&state.store, Some(keel_contacts::segment::KIND)).await?;
    if docs.is_empty() {
        return Ok(Vec::new());
    }
    let pool = SegmentPool::load(&state.store).await?;
    let subjects = pool.subjects(false);
    let now = keel_store::now();
    let mut out = Vec::new();
    for d in docs {
        let Ok(segment) = segment_of(&d) else {
            continue;
        };
        let count = if segment.spec.object == "contact" {
            segment.members(&subjects, now).len()
        } else {
            0
        };
        out.push(SegmentOut {
            name: segment.metadata.name.clone(),
            description: segment.metadata.description.clone(),
            object: segment.spec.object.clone(),
            count,
            filter: d.spec.0.get("filter").cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Saved segments (ops-as-code `Segment` documents) with live counts.
#[utoipa::path(get, path = "/api/v1/contacts/segments", tag = "contacts",
    responses((status = 200, body = Vec<SegmentOut>)))]
async fn list_segments(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SegmentOut>>> {
    caller.require(&state, Action::ContactsRead)?;
    Ok(Json(segments(&state).await?))
}

// ---------------------------------------------------------------------------------------------
// MQL hand-offs

/// A hand-off as reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffOut {
    /// Id.
    pub id: i64,
    /// The lead.
    pub contact: Option<ContactOut>,
    /// Sales rep.
    pub owner: String,
    /// Score at hand-off.
    pub score: f64,
    /// `waiting`, `accepted` or `rejected`.
    pub status: String,
    /// When the acceptance clock started.
    pub started_at: DateTime<Utc>,
    /// When acceptance is due, as the SLA engine projected it when the clock started.
    pub due_at: DateTime<Utc>,
    /// Whether it is waiting past its due time (the acceptance clock has breached).
    pub overdue: bool,
    /// The acceptance clock now, from the work SLA engine (state, status `ok`, `warning` or
    /// `breached`, hours used and left, warning and breach instants).
    #[schema(value_type = Object)]
    pub sla: serde_json::Value,
    /// The recorded outcome: `met` or `missed` (`missed` as soon as the clock breaches).
    pub sla_status: Option<String>,
    /// When decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Reason given.
    pub reason: Option<String>,
}

/// A hand-off with its lead.
pub async fn handoff_out(
    state: &AppState,
    sla: &crate::work::HandoffSla,
    h: Handoff,
) -> ApiResult<HandoffOut> {
    let contact = store::find(&state.store, &h.record_id)
        .await?
        .map(|r| r.row.into());
    let clock = crate::work::handoff_clock(sla, &h, keel_store::now());
    let breached = clock
        .as_ref()
        .is_some_and(|c| c.status == keel_work::sla::SlaStatus::Breached);
    Ok(HandoffOut {
        overdue: h.status == "waiting" && breached,
        sla: clock
            .as_ref()
            .map(crate::work::clock_json)
            .unwrap_or_default(),
        sla_status: h.sla_status,
        id: h.id,
        contact,
        owner: h.owner,
        score: h.score,
        status: h.status,
        started_at: h.started_at,
        due_at: h.due_at,
        decided_at: h.decided_at,
        reason: h.reason,
    })
}

/// Filters of the hand-off list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HandoffQuery {
    /// `waiting`, `accepted` or `rejected` (all when absent).
    pub status: Option<String>,
    /// Items per page.
    pub limit: Option<i64>,
    /// Items to skip.
    pub offset: Option<i64>,
}

/// MQL hand-offs, earliest due first.
#[utoipa::path(get, path = "/api/v1/contacts/handoffs", tag = "contacts", params(HandoffQuery),
    responses((status = 200, body = Page<HandoffOut>)))]
async fn list_handoffs(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(q): ValidQuery<HandoffQuery>,
) -> ApiResult<Json<Page<HandoffOut>>> {
    caller.require(&state, Action::SalesHandoff)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let (items, total) = store::handoffs(&state.store, q.status.as_deref(), limit, offset).await?;
    let sla = crate::work::Workspace::load(&state.store)
        .await?
        .handoff_sla()?;
    let mut out = Vec::with_capacity(items.len());
    for h in items {
        out.push(handoff_out(&state, &sla, h).await?);
    }
    Ok(Json(Page {
        items: out,
        total,
        limit,
        offset,
    }))
}

/// Sales' verdict on a hand-off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoffDecision {
    /// Accept (→ SQL) or reject (→ back to lead).
    pub accept: bool,
    /// Why; required when rejecting (it feeds the lead-quality report).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Records sales' decision on a hand-off.
pub async fn decide_handoff(
    state: &AppState,
    caller: &Caller,
    id: i64,
    d: &HandoffDecision,
) -> ApiResult<Handoff> {
    let reason = d.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if !d.accept && reason.is_none() {
        return Err(ApiError::validation(vec![FieldError::new(
            "reason",
            "is required when rejecting a lead",
        )]));
    }
    let sla = crate::work::Workspace::load(&state.store)
        .await?
        .handoff_sla()?;
    crate::work::decide_handoff(
        &state.store,
        &sla,
        &caller.actor(),
        id,
        d.accept,
        reason,
        keel_store::now(),
    )
    .await
}

/// Accept or reject an MQL hand-off.
#[utoipa::path(post, path = "/api/v1/contacts/handoffs/{id}/decision", tag = "contacts", request_body = HandoffDecision,
    params(("id" = i64, Path, description = "Hand-off id")),
    responses((status = 200, body = HandoffOut), (status = 422, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 403, body = crate::error::Problem)))]
async fn decide_handoff_route(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(req): ValidJson<HandoffDecision>,
) -> ApiResult<Json<HandoffOut>> {
    caller.require(&state, Action::SalesHandoff)?;
    let h = decide_handoff(&state, &caller, id, &req).await?;
    let sla = crate::work::Workspace::load(&state.store)
        .await?
        .handoff_sla()?;
    Ok(Json(handoff_out(&state, &sla, h).await?))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts))
        .routes(routes!(list_accounts))
        .routes(routes!(create_import, list_imports))
        .routes(routes!(get_import))
        .routes(routes!(list_quarantine))
        .routes(routes!(resubmit_row))
        .routes(routes!(list_duplicates))
        .routes(routes!(decide))
        .routes(routes!(merge, list_merges))
        .routes(routes!(unmerge))
        .routes(routes!(report_hygiene, list_hygiene))
        .routes(routes!(get_quality))
        .routes(routes!(list_segments))
        .routes(routes!(list_handoffs))
        .routes(routes!(decide_handoff_route))
        .routes(routes!(get_contact))
}
