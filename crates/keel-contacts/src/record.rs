//! Contacts (people) and accounts (companies): standard and custom fields with lineage.
//!
//! A record holds one map of typed field values. Names in [`CONTACT_STANDARD_FIELDS`] /
//! [`ACCOUNT_STANDARD_FIELDS`] are standard; any other name is a custom field. Every value
//! carries its [`Lineage`]: which system and source it came from, and when — merges,
//! survivorship and freshness scores all read it.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::value::FieldValue;

/// Which kind of object a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A person: lead, contact or subscriber.
    Contact,
    /// A company.
    Account,
}

impl ObjectKind {
    /// The standard field names of this object.
    pub fn standard_fields(self) -> &'static [&'static str] {
        match self {
            Self::Contact => CONTACT_STANDARD_FIELDS,
            Self::Account => ACCOUNT_STANDARD_FIELDS,
        }
    }

    /// Parses `contact` / `account`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "contact" => Some(Self::Contact),
            "account" => Some(Self::Account),
            _ => None,
        }
    }
}

/// Standard fields of a contact.
pub const CONTACT_STANDARD_FIELDS: &[&str] = &[
    "email",
    "first_name",
    "last_name",
    "title",
    "department",
    "company",
    "account_id",
    "phone",
    "mobile_phone",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "website",
    "industry",
    "employees",
    "annual_revenue",
    "lead_source",
    "lead_status",
    "rating",
    "owner",
    "lifecycle_stage",
    "email_opt_out",
    "source_created_at",
    "source_updated_at",
];

/// Standard fields of an account.
pub const ACCOUNT_STANDARD_FIELDS: &[&str] = &[
    "name",
    "domain",
    "website",
    "industry",
    "employees",
    "annual_revenue",
    "phone",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "owner",
    "account_type",
    "source_created_at",
    "source_updated_at",
];

/// Where one field value came from. The names are shared (`Arc<str>`): every field of an
/// imported row has the same system and source, and a million-row import would otherwise
/// allocate and free two strings per field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// The system of record the value came from (`salesforce`, `hubspot`, `marketo`, `web_form`).
    pub system: Arc<str>,
    /// The concrete source inside that system: an import file, a sync run, a form.
    pub source: Arc<str>,
    /// When the value was observed or last changed at the source.
    pub at: DateTime<Utc>,
}

/// A contact or account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Keel's id of the record.
    pub id: String,
    /// Contact or account.
    pub object: ObjectKind,
    /// The system that created the record in Keel.
    pub source: String,
    /// The record's id in that system, if it has one.
    pub source_id: Option<String>,
    /// When the record was created (at the source when known).
    pub created_at: DateTime<Utc>,
    /// When any field last changed.
    pub updated_at: DateTime<Utc>,
    /// Field values by name; standard and custom fields share this map.
    pub fields: BTreeMap<String, FieldValue>,
    /// Lineage of each field in `fields`, by the same name.
    pub lineage: BTreeMap<String, Lineage>,
}

impl Record {
    /// An empty record.
    pub fn new(
        id: impl Into<String>,
        object: ObjectKind,
        source: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: id.into(),
            object,
            source: source.into(),
            source_id: None,
            created_at: at,
            updated_at: at,
            fields: BTreeMap::new(),
            lineage: BTreeMap::new(),
        }
    }

    /// Sets a field and its lineage, moving `updated_at` forward when the lineage is newer.
    pub fn set(&mut self, field: impl Into<String>, value: FieldValue, lineage: Lineage) {
        let field = field.into();
        if lineage.at > self.updated_at {
            self.updated_at = lineage.at;
        }
        self.fields.insert(field.clone(), value);
        self.lineage.insert(field, lineage);
    }

    /// A field's value.
    pub fn get(&self, field: &str) -> Option<&FieldValue> {
        self.fields.get(field)
    }

    /// A text field's value.
    pub fn text(&self, field: &str) -> Option<&str> {
        match self.fields.get(field) {
            Some(FieldValue::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// Whether `field` is a standard field of this object (otherwise it is custom).
    pub fn is_standard(&self, field: &str) -> bool {
        self.object.standard_fields().contains(&field)
    }

    /// The custom fields: every field that is not standard for this object.
    pub fn custom_fields(&self) -> impl Iterator<Item = (&String, &FieldValue)> {
        self.fields.iter().filter(|(k, _)| !self.is_standard(k))
    }

    /// Whether the record identifies a person or company: a contact with an email,
    /// or an account with a name or domain. Anonymous records never overwrite identified ones.
    pub fn is_identified(&self) -> bool {
        match self.object {
            ObjectKind::Contact => self.fields.contains_key("email"),
            ObjectKind::Account => {
                self.fields.contains_key("name") || self.fields.contains_key("domain")
            }
        }
    }

    /// The record as canonical JSON bytes: fields in name order, so the same record always
    /// gives the same bytes. Merge records keep originals in this form.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // A record is maps of strings and plain enums; serialising it cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The stored form of a record: the same content as its serde form, with the lineage most
/// fields share written once (`lineage_all`) and only the exceptions per field. An imported
/// record's fields all come from one file at one time, so this keeps a 20-field row at about
/// half the bytes of the full form, which is what storage writes and reads back.
#[derive(Serialize)]
struct StoredForm<'a> {
    id: &'a str,
    object: ObjectKind,
    source: &'a str,
    source_id: Option<&'a str>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    fields: &'a BTreeMap<String, FieldValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lineage_all: Option<&'a Lineage>,
    lineage: BTreeMap<&'a str, &'a Lineage>,
}

/// Reads both the stored form and the full serde form (which simply has no `lineage_all`).
#[derive(Deserialize)]
struct StoredFormOwned {
    id: String,
    object: ObjectKind,
    source: String,
    source_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    fields: BTreeMap<String, FieldValue>,
    #[serde(default)]
    lineage_all: Option<Lineage>,
    #[serde(default)]
    lineage: BTreeMap<String, Lineage>,
}

impl Record {
    /// The record as compact JSON for storage (see [`Record::from_stored_json`]). Deterministic:
    /// the same record always gives the same text.
    pub fn to_stored_json(&self) -> String {
        // The shared lineage is the most common one among the fields; it is only used when
        // every field has a lineage, so reading back never invents one.
        let shared = if self.fields.keys().all(|k| self.lineage.contains_key(k)) {
            let mut best: Option<(&Lineage, usize)> = None;
            for l in self.lineage.values() {
                if best.is_some_and(|(b, _)| b == l) {
                    continue;
                }
                let n = self.lineage.values().filter(|x| *x == l).count();
                if best.is_none_or(|(_, m)| n > m) {
                    best = Some((l, n));
                }
                if n * 2 > self.lineage.len() {
                    break;
                }
            }
            best.filter(|(_, n)| *n > 1).map(|(l, _)| l)
        } else {
            None
        };
        let lineage = self
            .lineage
            .iter()
            .filter(|(k, l)| shared != Some(*l) || !self.fields.contains_key(*k))
            .map(|(k, l)| (k.as_str(), l))
            .collect();
        let form = StoredForm {
            id: &self.id,
            object: self.object,
            source: &self.source,
            source_id: self.source_id.as_deref(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            fields: &self.fields,
            lineage_all: shared,
            lineage,
        };
        // Maps of strings and plain enums: serialising cannot fail.
        serde_json::to_string(&form).unwrap_or_default()
    }

    /// Reads a record written by [`Record::to_stored_json`] or in its full serde form.
    pub fn from_stored_json(text: &str) -> Result<Record, serde_json::Error> {
        let f: StoredFormOwned = serde_json::from_str(text)?;
        let mut lineage = f.lineage;
        if let Some(shared) = f.lineage_all {
            for k in f.fields.keys() {
                if !lineage.contains_key(k) {
                    lineage.insert(k.clone(), shared.clone());
                }
            }
        }
        Ok(Record {
            id: f.id,
            object: f.object,
            source: f.source,
            source_id: f.source_id,
            created_at: f.created_at,
            updated_at: f.updated_at,
            fields: f.fields,
            lineage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn custom_fields_are_the_non_standard_ones() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let lin = Lineage {
            system: "hubspot".into(),
            source: "export.csv".into(),
            at,
        };
        let mut r = Record::new("c1", ObjectKind::Contact, "hubspot", at);
        r.set("email", FieldValue::Text("a@b.com".into()), lin.clone());
        r.set("favourite_colour", FieldValue::Text("teal".into()), lin);
        let custom: Vec<_> = r.custom_fields().map(|(k, _)| k.as_str()).collect();
        assert_eq!(custom, vec!["favourite_colour"]);
        assert!(r.is_identified());
    }

    fn lin(source: &str, day: u32) -> Lineage {
        Lineage {
            system: "salesforce".into(),
            source: source.into(),
            at: Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn stored_form_round_trips_and_is_compact() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut r = Record::new("c1", ObjectKind::Contact, "salesforce", at);
        for (i, f) in ["email", "first_name", "last_name", "city", "country"]
            .iter()
            .enumerate()
        {
            r.set(*f, FieldValue::Text(format!("v{i}")), lin("leads.csv", 2));
        }
        r.set("phone", FieldValue::Text("+4930123".into()), lin("form", 3));
        let stored = r.to_stored_json();
        assert_eq!(Record::from_stored_json(&stored).unwrap(), r);
        assert_eq!(stored.matches("leads.csv").count(), 1, "{stored}");
        assert!(stored.len() < r.canonical_bytes().len());
        // Deterministic, and the full form reads too.
        assert_eq!(stored, r.to_stored_json());
        let full = String::from_utf8(r.canonical_bytes()).unwrap();
        assert_eq!(Record::from_stored_json(&full).unwrap(), r);
    }

    #[test]
    fn stored_form_keeps_odd_lineage_exactly() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        // A field without lineage, and lineage of a field that has no value: nothing invented.
        let mut r = Record::new("c2", ObjectKind::Contact, "hubspot", at);
        r.set("email", FieldValue::Text("a@b.c".into()), lin("x", 2));
        r.set("city", FieldValue::Text("Berlin".into()), lin("x", 2));
        r.fields
            .insert("title".into(), FieldValue::Text("CMO".into()));
        r.lineage.insert("gone".into(), lin("x", 2));
        assert_eq!(Record::from_stored_json(&r.to_stored_json()).unwrap(), r);
        // Every lineage different, or none at all.
        let mut r = Record::new("c3", ObjectKind::Contact, "hubspot", at);
        r.set("email", FieldValue::Text("a@b.c".into()), lin("x", 2));
        r.set("city", FieldValue::Text("Berlin".into()), lin("y", 3));
        assert_eq!(Record::from_stored_json(&r.to_stored_json()).unwrap(), r);
        let r = Record::new("c4", ObjectKind::Account, "hubspot", at);
        assert_eq!(Record::from_stored_json(&r.to_stored_json()).unwrap(), r);
    }
}
