//! Imports: field maps (built-in Salesforce, HubSpot and Marketo layouts, or user-defined
//! `FieldMap` documents), header checks, text-encoding detection and the import pipeline.
//!
//! The pipeline is a pure function over an already-open reader: every row becomes either an
//! accepted record or a quarantined row with its row number, raw cells and every reason —
//! nothing is silently lost. Each row gets an idempotency key (source id + content hash), so
//! re-importing the same file with the keys already seen changes nothing.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::{BufRead, Read};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::contract::{CompiledContract, Metadata, Rejection};
use crate::error::ContactsError;
use crate::problem::{Problem, check_envelope, is_identifier};
use crate::record::{Lineage, ObjectKind, Record};
use crate::value::FieldValue;

/// The `kind` of a field map document.
pub const KIND: &str = "FieldMap";

/// A `FieldMap` document: how the columns of one export layout map onto contract fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    /// Always `keel/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Always `FieldMap`.
    pub kind: String,
    /// Name and description.
    pub metadata: Metadata,
    /// The mapping.
    pub spec: FieldMapSpec,
}

/// The body of a field map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapSpec {
    /// The system the export comes from (`salesforce`, `hubspot`, `marketo`, or your own).
    pub system: String,
    /// `contact` or `account`.
    pub object: String,
    /// The column holding the record's id in that system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id_column: Option<String>,
    /// Column → field pairs.
    pub columns: Vec<ColumnMapping>,
    /// Columns present in the export that are deliberately not imported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_columns: Vec<String>,
    /// Whether columns that are neither mapped nor ignored are tolerated (and dropped).
    #[serde(default)]
    pub allow_unmapped_columns: bool,
}

/// One column of an export and the contract field it fills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// Column header as it appears in the export.
    pub column: String,
    /// Contract field name.
    pub field: String,
}

/// Built-in export layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Salesforce Lead export.
    SalesforceLead,
    /// Salesforce Contact export.
    SalesforceContact,
    /// HubSpot contacts export.
    HubspotContacts,
    /// Marketo lead export.
    MarketoLeads,
}

impl Layout {
    /// Every built-in layout.
    pub const ALL: [Layout; 4] = [
        Self::SalesforceLead,
        Self::SalesforceContact,
        Self::HubspotContacts,
        Self::MarketoLeads,
    ];

    /// The layout's field map document (YAML shipped with the crate).
    pub fn yaml(self) -> &'static str {
        match self {
            Self::SalesforceLead => include_str!("../layouts/salesforce-lead.yaml"),
            Self::SalesforceContact => include_str!("../layouts/salesforce-contact.yaml"),
            Self::HubspotContacts => include_str!("../layouts/hubspot-contacts.yaml"),
            Self::MarketoLeads => include_str!("../layouts/marketo-leads.yaml"),
        }
    }

    /// Parses a layout name; singular and plural spellings are both accepted
    /// (`hubspot-contact` and `hubspot-contacts`, `marketo-lead` and `marketo-leads`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.trim().to_lowercase().as_str() {
            "salesforce-lead" | "salesforce-leads" => Self::SalesforceLead,
            "salesforce-contact" | "salesforce-contacts" => Self::SalesforceContact,
            "hubspot-contact" | "hubspot-contacts" => Self::HubspotContacts,
            "marketo-lead" | "marketo-leads" => Self::MarketoLeads,
            _ => return None,
        })
    }

    /// The layout's name as written on the command line and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Self::SalesforceLead => "salesforce-lead",
            Self::SalesforceContact => "salesforce-contact",
            Self::HubspotContacts => "hubspot-contact",
            Self::MarketoLeads => "marketo-lead",
        }
    }

    /// The layout's field map.
    pub fn field_map(self) -> Result<FieldMap, ContactsError> {
        FieldMap::from_yaml(self.yaml())
    }
}

impl FieldMap {
    /// The default contract of the object this map fills.
    pub fn default_contract(&self) -> Result<CompiledContract, ContactsError> {
        match self.spec.object.as_str() {
            "account" => crate::contract::default_account_contract(),
            _ => crate::contract::default_contact_contract(),
        }
    }

    /// Parses a field map from YAML.
    pub fn from_yaml(text: &str) -> Result<Self, ContactsError> {
        serde_yaml::from_str(text).map_err(|e| ContactsError::Parse {
            what: KIND,
            message: e.to_string(),
        })
    }

    /// Every problem in the document itself.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        check_envelope(
            &self.api_version,
            &self.kind,
            KIND,
            &self.metadata.name,
            &mut problems,
        );
        if self.spec.system.trim().is_empty() {
            problems.push(Problem::new("spec.system", "system must not be empty"));
        }
        if ObjectKind::parse(&self.spec.object).is_none() {
            problems.push(Problem::new(
                "spec.object",
                format!(
                    "object `{}` is not `contact` or `account`",
                    self.spec.object
                ),
            ));
        }
        let mut columns = BTreeSet::new();
        let mut fields = BTreeSet::new();
        for (i, c) in self.spec.columns.iter().enumerate() {
            if c.column.trim().is_empty() {
                problems.push(Problem::new(
                    format!("spec.columns[{i}].column"),
                    "column must not be empty",
                ));
            } else if !columns.insert(c.column.to_lowercase()) {
                problems.push(Problem::new(
                    format!("spec.columns[{i}].column"),
                    format!("column `{}` is mapped more than once", c.column),
                ));
            }
            if !is_identifier(&c.field) {
                problems.push(Problem::new(
                    format!("spec.columns[{i}].field"),
                    format!("field `{}` must be lower snake_case", c.field),
                ));
            } else if !fields.insert(c.field.as_str()) {
                problems.push(Problem::new(
                    format!("spec.columns[{i}].field"),
                    format!("field `{}` is filled by more than one column", c.field),
                ));
            }
        }
        for (i, c) in self.spec.ignore_columns.iter().enumerate() {
            if columns.contains(&c.to_lowercase()) {
                problems.push(Problem::new(
                    format!("spec.ignore_columns[{i}]"),
                    format!("column `{c}` is both mapped and ignored"),
                ));
            }
        }
        problems
    }

    /// Problems between this map and a contract: mapped fields the contract lacks,
    /// required contract fields nothing maps, a different object.
    pub fn validate_against(&self, contract: &CompiledContract) -> Vec<Problem> {
        let mut problems = self.validate();
        if ObjectKind::parse(&self.spec.object).is_some_and(|o| o != contract.object) {
            problems.push(Problem::new(
                "spec.object",
                format!(
                    "the map is for `{}` but contract `{}` is not",
                    self.spec.object, contract.name
                ),
            ));
        }
        for (i, c) in self.spec.columns.iter().enumerate() {
            if contract.field(&c.field).is_none() && !contract.allow_unknown_fields {
                problems.push(Problem::new(
                    format!("spec.columns[{i}].field"),
                    format!("field `{}` is not in contract `{}`", c.field, contract.name),
                ));
            }
        }
        for f in contract.fields.iter().filter(|f| f.spec.required) {
            if !self.spec.columns.iter().any(|c| c.field == f.spec.name) {
                problems.push(Problem::new(
                    "spec.columns",
                    format!("no column fills required field `{}`", f.spec.name),
                ));
            }
        }
        problems
    }

    /// Checks a file's header against the map: every column must be mapped or ignored
    /// (unless unmapped columns are allowed), no column may appear twice, and the columns
    /// for required fields and the source id must be present. Headers match
    /// case-insensitively, ignoring surrounding spaces.
    pub fn check_header(
        &self,
        header: &[String],
        contract: &CompiledContract,
    ) -> Result<HeaderPlan, HeaderMismatch> {
        let key = |s: &str| s.trim().to_lowercase();
        let by_column: BTreeMap<String, &ColumnMapping> = self
            .spec
            .columns
            .iter()
            .map(|c| (key(&c.column), c))
            .collect();
        let ignored: BTreeSet<String> = self.spec.ignore_columns.iter().map(|c| key(c)).collect();
        let source_id = self.spec.source_id_column.as_deref().map(key);
        let mut seen = BTreeSet::new();
        let mut mismatch = HeaderMismatch {
            map: self.metadata.name.clone(),
            ..HeaderMismatch::default()
        };
        let mut targets = Vec::with_capacity(header.len());
        for h in header {
            let k = key(h);
            if !seen.insert(k.clone()) {
                mismatch.duplicated.push(h.trim().to_string());
            }
            if source_id.as_deref() == Some(k.as_str()) {
                targets.push(Target::SourceId);
            } else if let Some(c) = by_column.get(&k) {
                targets.push(Target::Field(c.field.clone()));
            } else if ignored.contains(&k) || self.spec.allow_unmapped_columns {
                targets.push(Target::Ignore);
            } else {
                mismatch.unknown.push(h.trim().to_string());
                targets.push(Target::Ignore);
            }
        }
        if let Some(sid) = &self.spec.source_id_column
            && !seen.contains(&key(sid))
        {
            mismatch.missing.push(sid.clone());
        }
        for c in &self.spec.columns {
            let required = contract.field(&c.field).is_some_and(|f| f.spec.required);
            if required && !seen.contains(&key(&c.column)) {
                mismatch.missing.push(c.column.clone());
            }
        }
        if mismatch.missing.is_empty()
            && mismatch.unknown.is_empty()
            && mismatch.duplicated.is_empty()
        {
            Ok(HeaderPlan { targets })
        } else {
            Err(mismatch)
        }
    }
}

/// What each column of a checked header feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderPlan {
    /// One target per header column, in order.
    pub targets: Vec<Target>,
}

/// Where a column's cells go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Into this contract field.
    Field(String),
    /// Into the record's source id.
    SourceId,
    /// Nowhere (ignored column).
    Ignore,
}

/// A header that does not fit the field map, with every missing, unknown and repeated column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderMismatch {
    /// The field map's name.
    pub map: String,
    /// Columns the map needs that the file lacks.
    pub missing: Vec<String>,
    /// Columns in the file that the map neither maps nor ignores.
    pub unknown: Vec<String>,
    /// Columns that appear more than once.
    pub duplicated: Vec<String>,
}

impl std::fmt::Display for HeaderMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the header does not match field map `{}`", self.map)?;
        if !self.missing.is_empty() {
            write!(f, "; missing columns: {}", self.missing.join(", "))?;
        }
        if !self.unknown.is_empty() {
            write!(f, "; unknown columns: {}", self.unknown.join(", "))?;
        }
        if !self.duplicated.is_empty() {
            write!(f, "; repeated columns: {}", self.duplicated.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for HeaderMismatch {}

/// Looks up a text encoding by its label (`utf-8`, `latin1`, `iso-8859-1`, `windows-1252`, …).
pub fn encoding_for_label(label: &str) -> Option<&'static encoding_rs::Encoding> {
    encoding_rs::Encoding::for_label(label.trim().as_bytes())
}

/// Decodes a file's bytes. A byte-order mark wins (UTF-8 or UTF-16); otherwise the declared
/// encoding is used; with none declared the file must be UTF-8, and if it is not the error
/// names the first bad byte and its line. Latin-1 labels decode as Windows-1252, its superset.
pub fn decode<'a>(
    bytes: &'a [u8],
    declared: Option<&'static encoding_rs::Encoding>,
) -> Result<Cow<'a, str>, ContactsError> {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let rest = bytes.get(bom_len..).unwrap_or_default();
        if enc == encoding_rs::UTF_8 {
            return utf8(rest);
        }
        let (text, _) = enc.decode_without_bom_handling(rest);
        return Ok(text);
    }
    match declared {
        Some(enc) if enc != encoding_rs::UTF_8 => {
            let (text, had_errors) = enc.decode_without_bom_handling(bytes);
            if had_errors {
                return Err(ContactsError::Read(format!(
                    "the file is not valid {}",
                    enc.name()
                )));
            }
            Ok(text)
        }
        _ => utf8(bytes),
    }
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, ContactsError> {
    std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| {
        let offset = e.valid_up_to();
        let line = bytes
            .get(..offset)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
            + 1;
        ContactsError::Encoding { offset, line }
    })
}

/// Settings of one import run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Name of the file or batch, recorded in every value's lineage.
    pub source: String,
    /// When the import runs; lineage time for rows with no modification date of their own.
    pub at: DateTime<Utc>,
}

/// A row that passed the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedRow {
    /// 1-based data row number (the header is not counted).
    pub row: u64,
    /// Idempotency key: system, source id and a hash of the row's content.
    pub key: String,
    /// The clean record.
    pub record: Record,
}

/// A row that did not pass, with everything needed to fix and replay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedRow {
    /// 1-based data row number (the header is not counted).
    pub row: u64,
    /// Line in the file where the row starts (the header is line 1), when known.
    pub line: Option<u64>,
    /// The raw cells, by column, as they arrived.
    pub raw: Vec<(String, String)>,
    /// Every reason the row was rejected.
    pub reasons: Vec<Rejection>,
}

/// What an import did with every row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    /// Rows read (excluding the header).
    pub rows_read: u64,
    /// New, clean rows.
    pub accepted: Vec<AcceptedRow>,
    /// Rejected rows.
    pub quarantined: Vec<QuarantinedRow>,
    /// Rows whose idempotency key was already seen (earlier in this file or in `seen`):
    /// `(row, key)`. They change nothing.
    pub unchanged: Vec<(u64, String)>,
}

impl ImportOutcome {
    /// Quarantine counts by `field: reason`, for the import summary.
    pub fn reason_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for q in &self.quarantined {
            for r in &q.reasons {
                *counts
                    .entry(format!("{}: {}", r.field, r.reason))
                    .or_insert(0) += 1;
            }
        }
        counts
    }
}

/// What happened to one row, as the streaming import reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    /// A new, clean row.
    Accepted(AcceptedRow),
    /// A rejected row with every reason.
    Quarantined(QuarantinedRow),
    /// A row whose idempotency key was already seen.
    Unchanged {
        /// 1-based data row number.
        row: u64,
        /// Its idempotency key.
        key: String,
    },
}

impl ImportOutcome {
    fn collect(&mut self, outcome: RowOutcome) {
        match outcome {
            RowOutcome::Accepted(a) => self.accepted.push(a),
            RowOutcome::Quarantined(q) => self.quarantined.push(q),
            RowOutcome::Unchanged { row, key } => self.unchanged.push((row, key)),
        }
    }
}

/// Imports CSV rows from `reader` (built with `flexible(true)` so ragged rows are
/// quarantined rather than failing the file), collecting every outcome in memory.
/// Keys in `seen` come from earlier imports. Fails only for problems with the file as a
/// whole (unreadable or mismatched header).
pub fn import_csv<R: Read>(
    reader: csv::Reader<R>,
    map: &FieldMap,
    contract: &CompiledContract,
    options: &ImportOptions,
    seen: &HashSet<String>,
) -> Result<ImportOutcome, ContactsError> {
    let mut outcome = ImportOutcome::default();
    outcome.rows_read =
        import_csv_each(reader, map, contract, options, seen, |o| outcome.collect(o))?;
    Ok(outcome)
}

/// Like [`import_csv`], but hands each row's outcome to `on_row` as soon as it is decided,
/// so large files import in constant memory. Returns the number of rows read.
pub fn import_csv_each<R: Read>(
    mut reader: csv::Reader<R>,
    map: &FieldMap,
    contract: &CompiledContract,
    options: &ImportOptions,
    seen: &HashSet<String>,
    mut on_row: impl FnMut(RowOutcome),
) -> Result<u64, ContactsError> {
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ContactsError::Read(format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let plan = map
        .check_header(&header, contract)
        .map_err(ContactsError::Header)?;
    let mut run = Run::new(map, contract, options, seen, &mut on_row);
    let mut record = csv::StringRecord::new();
    // Rows are read and keyed in order, then validated in parallel a block at a time (the
    // contract is the expensive part: phone numbers alone are a fifth of an import's CPU time),
    // and handed on in order.
    let mut block: Vec<Step> = Vec::with_capacity(VALIDATION_BLOCK);
    loop {
        let row = run.rows_read + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                run.rows_read = row;
                let line = record.position().map(csv::Position::line);
                if record.len() != header.len() {
                    let raw = raw_cells(&header, &record);
                    block.push(Step::Done(RowOutcome::Quarantined(QuarantinedRow {
                        row,
                        line,
                        raw,
                        reasons: vec![Rejection {
                            field: "row".into(),
                            value: record.iter().collect::<Vec<_>>().join(","),
                            reason: format!(
                                "row has {} cells but the header has {}",
                                record.len(),
                                header.len()
                            ),
                        }],
                    })));
                } else {
                    let mut fields = BTreeMap::new();
                    let mut source_id = None;
                    for (target, value) in plan.targets.iter().zip(record.iter()) {
                        match target {
                            Target::Field(f) => {
                                fields.insert(f.clone(), value.to_string());
                            }
                            Target::SourceId => {
                                source_id = Some(value.trim().to_string()).filter(|s| !s.is_empty())
                            }
                            Target::Ignore => {}
                        }
                    }
                    block.push(match run.key(row, fields, source_id) {
                        Keyed::Unchanged(o) => Step::Done(o),
                        Keyed::New {
                            key,
                            fields,
                            source_id,
                        } => Step::Check {
                            row,
                            line,
                            cells: record.clone(),
                            key,
                            fields,
                            source_id,
                        },
                    });
                }
            }
            Err(e) => {
                run.rows_read = row;
                let line = e.position().map(csv::Position::line);
                block.push(Step::Done(RowOutcome::Quarantined(QuarantinedRow {
                    row,
                    line,
                    raw: Vec::new(),
                    reasons: vec![Rejection {
                        field: "row".into(),
                        value: String::new(),
                        reason: format!("unreadable row: {e}"),
                    }],
                })));
            }
        }
        if block.len() >= VALIDATION_BLOCK {
            run.validate_block(&header, std::mem::take(&mut block));
        }
    }
    run.validate_block(&header, block);
    Ok(run.rows_read)
}

/// Rows validated together (in parallel) by [`import_csv_each`].
const VALIDATION_BLOCK: usize = 1024;

/// A CSV row on its way through [`import_csv_each`].
enum Step {
    /// Decided while reading (ragged, unreadable or unchanged).
    Done(RowOutcome),
    /// To be checked against the contract.
    Check {
        row: u64,
        line: Option<u64>,
        cells: csv::StringRecord,
        key: String,
        fields: BTreeMap<String, String>,
        source_id: Option<String>,
    },
}

/// A row's cells by column name, as quarantine keeps them.
fn raw_cells(header: &[String], record: &csv::StringRecord) -> Vec<(String, String)> {
    header
        .iter()
        .zip(record.iter())
        .map(|(h, v)| (h.clone(), v.to_string()))
        .collect()
}

/// A row after its idempotency key was checked.
enum Keyed {
    /// Seen before (in an earlier import or earlier in this file).
    Unchanged(RowOutcome),
    /// New: to be validated.
    New {
        key: String,
        fields: BTreeMap<String, String>,
        source_id: Option<String>,
    },
}

/// Decodes `bytes` (see [`decode`]) and imports them as CSV.
pub fn import_csv_bytes(
    bytes: &[u8],
    declared: Option<&'static encoding_rs::Encoding>,
    map: &FieldMap,
    contract: &CompiledContract,
    options: &ImportOptions,
    seen: &HashSet<String>,
) -> Result<ImportOutcome, ContactsError> {
    let text = decode(bytes, declared)?;
    let reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    import_csv(reader, map, contract, options, seen)
}

/// Imports JSON Lines: one JSON object per line, keys are the export's column names.
/// Blank lines are skipped; lines that are not objects, and keys the map neither maps nor
/// ignores, are quarantined with the reason.
pub fn import_json_lines<R: BufRead>(
    reader: R,
    map: &FieldMap,
    contract: &CompiledContract,
    options: &ImportOptions,
    seen: &HashSet<String>,
) -> Result<ImportOutcome, ContactsError> {
    let key = |s: &str| s.trim().to_lowercase();
    let by_column: BTreeMap<String, &str> = map
        .spec
        .columns
        .iter()
        .map(|c| (key(&c.column), c.field.as_str()))
        .collect();
    let ignored: BTreeSet<String> = map.spec.ignore_columns.iter().map(|c| key(c)).collect();
    let source_id_key = map.spec.source_id_column.as_deref().map(key);
    let mut outcome = ImportOutcome::default();
    let mut collect = |o: RowOutcome| outcome.collect(o);
    let mut run = Run::new(map, contract, options, seen, &mut collect);
    for (i, line) in reader.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| ContactsError::Read(format!("line {line_no}: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let row = run.rows_read + 1;
        run.rows_read = row;
        let object = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(o)) => o,
            Ok(_) => {
                run.quarantine(
                    row,
                    Some(line_no),
                    vec![("line".into(), line)],
                    vec![Rejection {
                        field: "row".into(),
                        value: String::new(),
                        reason: "line is not a JSON object".into(),
                    }],
                );
                continue;
            }
            Err(e) => {
                run.quarantine(
                    row,
                    Some(line_no),
                    vec![("line".into(), line)],
                    vec![Rejection {
                        field: "row".into(),
                        value: String::new(),
                        reason: format!("not valid JSON: {e}"),
                    }],
                );
                continue;
            }
        };
        let mut raw = Vec::with_capacity(object.len());
        let mut fields = BTreeMap::new();
        let mut source_id = None;
        let mut reasons = Vec::new();
        for (k, v) in &object {
            let text = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            raw.push((k.clone(), text.clone()));
            let kk = key(k);
            if source_id_key.as_deref() == Some(kk.as_str()) {
                source_id = Some(text.trim().to_string()).filter(|s| !s.is_empty());
            } else if let Some(f) = by_column.get(&kk) {
                fields.insert((*f).to_string(), text);
            } else if !ignored.contains(&kk) && !map.spec.allow_unmapped_columns {
                reasons.push(Rejection {
                    field: k.clone(),
                    value: text,
                    reason: format!("column is not in field map `{}`", map.metadata.name),
                });
            }
        }
        if !reasons.is_empty() {
            if let Err(more) = contract.check_row(&fields) {
                reasons.extend(more);
            }
            run.quarantine(row, Some(line_no), raw, reasons);
            continue;
        }
        run.row(row, Some(line_no), move || raw, fields, source_id);
    }
    let rows_read = run.rows_read;
    outcome.rows_read = rows_read;
    Ok(outcome)
}

/// The idempotency key of a row: system, source id and a SHA-256 of its mapped content
/// (fields in name order, values trimmed), so the same row always has the same key and
/// any change to a value gives a new one.
pub fn idempotency_key(
    system: &str,
    source_id: Option<&str>,
    fields: &BTreeMap<String, String>,
) -> String {
    let mut hasher = Sha256::new();
    for (k, v) in fields {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        hasher.update(k.as_bytes());
        hasher.update([0x1f]);
        hasher.update(v.as_bytes());
        hasher.update([0x1e]);
    }
    let digest = hasher.finalize();
    let source_id = source_id.unwrap_or("-");
    let mut key = String::with_capacity(system.len() + source_id.len() + 26);
    key.push_str(system);
    key.push('/');
    key.push_str(source_id);
    key.push('/');
    for b in digest.iter().take(12) {
        // Writing into a String cannot fail.
        let _ = write!(key, "{b:02x}");
    }
    key
}

/// State of one import run, shared by the CSV and JSON Lines readers.
struct Run<'a> {
    map: &'a FieldMap,
    contract: &'a CompiledContract,
    options: &'a ImportOptions,
    seen: &'a HashSet<String>,
    in_file: HashSet<String>,
    rows_read: u64,
    sink: &'a mut dyn FnMut(RowOutcome),
}

impl<'a> Run<'a> {
    fn new(
        map: &'a FieldMap,
        contract: &'a CompiledContract,
        options: &'a ImportOptions,
        seen: &'a HashSet<String>,
        sink: &'a mut dyn FnMut(RowOutcome),
    ) -> Self {
        Self {
            map,
            contract,
            options,
            seen,
            in_file: HashSet::new(),
            rows_read: 0,
            sink,
        }
    }

    fn rules(&self) -> Rules<'a> {
        Rules {
            map: self.map,
            contract: self.contract,
            options: self.options,
        }
    }

    fn quarantine(
        &mut self,
        row: u64,
        line: Option<u64>,
        raw: Vec<(String, String)>,
        reasons: Vec<Rejection>,
    ) {
        (self.sink)(RowOutcome::Quarantined(QuarantinedRow {
            row,
            line,
            raw,
            reasons,
        }));
    }

    fn row(
        &mut self,
        row: u64,
        line: Option<u64>,
        raw: impl FnOnce() -> Vec<(String, String)>,
        fields: BTreeMap<String, String>,
        source_id: Option<String>,
    ) {
        let outcome = match self.key(row, fields, source_id) {
            Keyed::Unchanged(o) => o,
            Keyed::New {
                key,
                fields,
                source_id,
            } => self.rules().decide(row, line, raw, key, &fields, source_id),
        };
        (self.sink)(outcome);
    }

    /// The row's idempotency key, and whether it was seen before.
    fn key(
        &mut self,
        row: u64,
        fields: BTreeMap<String, String>,
        source_id: Option<String>,
    ) -> Keyed {
        let system = self.map.spec.system.as_str();
        let key = idempotency_key(system, source_id.as_deref(), &fields);
        if self.seen.contains(&key) || !self.in_file.insert(key.clone()) {
            return Keyed::Unchanged(RowOutcome::Unchanged { row, key });
        }
        Keyed::New {
            key,
            fields,
            source_id,
        }
    }

    /// Validates a block of CSV rows in parallel and hands every outcome on in row order.
    fn validate_block(&mut self, header: &[String], block: Vec<Step>) {
        let rules = self.rules();
        let outcomes: Vec<RowOutcome> = block
            .into_par_iter()
            .map(|step| match step {
                Step::Done(o) => o,
                Step::Check {
                    row,
                    line,
                    cells,
                    key,
                    fields,
                    source_id,
                } => rules.decide(
                    row,
                    line,
                    || raw_cells(header, &cells),
                    key,
                    &fields,
                    source_id,
                ),
            })
            .collect();
        for o in outcomes {
            (self.sink)(o);
        }
    }
}

/// What a row is checked against and built with: shared by the threads validating a block.
#[derive(Clone, Copy)]
struct Rules<'a> {
    map: &'a FieldMap,
    contract: &'a CompiledContract,
    options: &'a ImportOptions,
}

impl Rules<'_> {
    /// Checks a new row against the contract: accepted with its record, or quarantined.
    fn decide(
        &self,
        row: u64,
        line: Option<u64>,
        raw: impl FnOnce() -> Vec<(String, String)>,
        key: String,
        fields: &BTreeMap<String, String>,
        source_id: Option<String>,
    ) -> RowOutcome {
        match self.contract.check_row(fields) {
            Err(reasons) => RowOutcome::Quarantined(QuarantinedRow {
                row,
                line,
                raw: raw(),
                reasons,
            }),
            Ok(clean) => {
                let record = self.build(&key, source_id, clean);
                RowOutcome::Accepted(AcceptedRow { row, key, record })
            }
        }
    }

    fn build(
        &self,
        key: &str,
        source_id: Option<String>,
        clean: BTreeMap<String, FieldValue>,
    ) -> Record {
        let system = &self.map.spec.system;
        let datetime = |name: &str| match clean.get(name) {
            Some(FieldValue::DateTime(t)) => Some(*t),
            _ => None,
        };
        let created = datetime("source_created_at").unwrap_or(self.options.at);
        let changed = datetime("source_updated_at").unwrap_or(self.options.at);
        let id = match &source_id {
            Some(sid) => format!("{system}:{sid}"),
            None => key.to_string(),
        };
        let mut record = Record::new(id, self.contract.object, system.clone(), created);
        record.source_id = source_id;
        let lineage = Lineage {
            system: system.as_str().into(),
            source: self.options.source.as_str().into(),
            at: changed,
        };
        for (field, value) in clean {
            record.set(field, value, lineage.clone());
        }
        record
    }
}
