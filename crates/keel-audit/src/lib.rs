//! The audit log's tamper evidence: how an entry is hashed and how a chain is verified.
//!
//! Each entry's hash covers its own fields and the previous entry's hash, so changing, inserting
//! or deleting any stored row breaks the chain at that row. Storage appends entries and hands them
//! back here to verify; nothing in this crate does I/O.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash that precedes the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One change, as recorded: who did what to which entity, when, with the state before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, starting at 1 with no gaps.
    pub seq: i64,
    /// When the change was made (microsecond precision, as both databases store it).
    pub at: DateTime<Utc>,
    /// Who made it: `user:<id>`, `token:<id>` or `system`.
    pub actor: String,
    /// What was done, e.g. `create`, `update`, `delete`, `login`.
    pub action: String,
    /// The kind of entity changed, e.g. `user`, `tool`.
    pub entity_type: String,
    /// The entity's id.
    pub entity_id: String,
    /// Canonical JSON of the entity before the change (absent on create).
    pub before: Option<String>,
    /// Canonical JSON of the entity after the change (absent on delete).
    pub after: Option<String>,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// A change about to be appended, before it has a position in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// Who made the change.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// The kind of entity changed.
    pub entity_type: String,
    /// The entity's id.
    pub entity_id: String,
    /// State before, if any.
    pub before: Option<serde_json::Value>,
    /// State after, if any.
    pub after: Option<serde_json::Value>,
}

/// Why a chain failed verification, naming the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The entry's content does not match its stored hash: it was edited.
    #[error("audit entry #{seq} was altered: its content does not match its hash")]
    Altered {
        /// Sequence number of the bad entry.
        seq: i64,
    },
    /// The entry does not point at the previous entry's hash: something before it was removed or replaced.
    #[error(
        "audit entry #{seq} does not follow the previous entry (expected prev_hash {expected}, found {found})"
    )]
    Broken {
        /// Sequence number of the bad entry.
        seq: i64,
        /// Hash of the entry before it.
        expected: String,
        /// What the entry claims.
        found: String,
    },
    /// A sequence number is missing: entries were deleted.
    #[error("audit entry #{expected} is missing (next entry found is #{found})")]
    Gap {
        /// The sequence number that should come next.
        expected: i64,
        /// The one that came instead.
        found: i64,
    },
}

/// Serialises a JSON value canonically (object keys sorted, no insignificant whitespace), so the
/// same state always hashes the same regardless of how a database stores JSON.
pub fn canonical_json(value: &serde_json::Value) -> String {
    // Another crate in the build may enable serde_json's `preserve_order`, so keys are sorted
    // explicitly rather than relying on the map type.
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                    out.push(':');
                    if let Some(v) = map.get(key) {
                        write(v, out);
                    }
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// Truncates a timestamp to the precision both databases keep.
pub fn storage_precision(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// Computes the hash of an entry from its fields and its predecessor's hash.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    seq: i64,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    before: Option<&str>,
    after: Option<&str>,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    // Length-prefix every field so no two different entries can serialise to the same bytes.
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(&seq.to_be_bytes());
    field(
        storage_precision(at)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .as_bytes(),
    );
    field(actor.as_bytes());
    field(action.as_bytes());
    field(entity_type.as_bytes());
    field(entity_id.as_bytes());
    field(before.unwrap_or("\u{0}null").as_bytes());
    field(after.unwrap_or("\u{0}null").as_bytes());
    field(prev_hash.as_bytes());
    hex::encode(h.finalize())
}

impl NewAuditEntry {
    /// Seals the entry as the next link after `prev` (`None` for the first entry).
    pub fn seal(&self, prev: Option<(i64, &str)>, at: DateTime<Utc>) -> AuditEntry {
        let (seq, prev_hash) = match prev {
            Some((seq, hash)) => (seq + 1, hash.to_string()),
            None => (1, GENESIS_HASH.to_string()),
        };
        let at = storage_precision(at);
        let before = self.before.as_ref().map(canonical_json);
        let after = self.after.as_ref().map(canonical_json);
        let hash = entry_hash(
            seq,
            at,
            &self.actor,
            &self.action,
            &self.entity_type,
            &self.entity_id,
            before.as_deref(),
            after.as_deref(),
            &prev_hash,
        );
        AuditEntry {
            seq,
            at,
            actor: self.actor.clone(),
            action: self.action.clone(),
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id.clone(),
            before,
            after,
            prev_hash,
            hash,
        }
    }
}

impl AuditEntry {
    /// Recomputes this entry's hash from its stored fields.
    pub fn recompute_hash(&self) -> String {
        entry_hash(
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            &self.entity_type,
            &self.entity_id,
            self.before.as_deref(),
            self.after.as_deref(),
            &self.prev_hash,
        )
    }
}

/// Walks a chain incrementally, so storage can stream entries in order of `seq` in pages.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    /// Starts at the beginning of the chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry; the first error names the first bad entry.
    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), ChainError> {
        if entry.seq != self.expected_seq {
            return Err(ChainError::Gap {
                expected: self.expected_seq,
                found: entry.seq,
            });
        }
        if entry.recompute_hash() != entry.hash {
            return Err(ChainError::Altered { seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainError::Broken {
                seq: entry.seq,
                expected: self.prev_hash.clone(),
                found: entry.prev_hash.clone(),
            });
        }
        self.expected_seq += 1;
        self.prev_hash = entry.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// How many entries have been verified.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The hash of the last verified entry (the chain head).
    pub fn head(&self) -> &str {
        &self.prev_hash
    }
}

/// Verifies a whole chain held in memory, returning the number of entries checked.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<u64, ChainError> {
    let mut verifier = ChainVerifier::new();
    for e in entries {
        verifier.check(e)?;
    }
    Ok(verifier.checked())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let new = NewAuditEntry {
                actor: "user:1".into(),
                action: "update".into(),
                entity_type: "tool".into(),
                entity_id: format!("{i}"),
                before: Some(json!({"name": "a", "seats": i})),
                after: Some(json!({"seats": i + 1, "name": "a"})),
            };
            let prev = out.last().map(|e| (e.seq, e.hash.as_str()));
            let e = new.seal(prev, Utc::now());
            out.push(e);
        }
        out
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(5)), Ok(5));
        assert_eq!(verify_chain(&chain(0)), Ok(0));
    }

    #[test]
    fn canonical_json_sorts_keys() {
        assert_eq!(
            canonical_json(&json!({"b": 1, "a": [1, 2]})),
            r#"{"a":[1,2],"b":1}"#
        );
    }

    #[test]
    fn edit_is_named() {
        let mut c = chain(5);
        c[2].after = Some(r#"{"name":"b"}"#.into());
        assert_eq!(verify_chain(&c), Err(ChainError::Altered { seq: 3 }));
    }

    #[test]
    fn deletion_is_named() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify_chain(&c),
            Err(ChainError::Gap {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn rehashed_edit_breaks_the_next_link() {
        let mut c = chain(5);
        c[1].actor = "user:2".into();
        c[1].hash = c[1].recompute_hash();
        assert!(matches!(
            verify_chain(&c),
            Err(ChainError::Broken { seq: 3, .. })
        ));
    }

    #[test]
    fn timestamps_are_truncated_to_micros() {
        let c = chain(1);
        assert_eq!(c[0].at.timestamp_subsec_nanos() % 1000, 0);
    }
}
