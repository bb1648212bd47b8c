//! r
pub struct Rule { pub id: &'static str, pub severity: crate::finding::Severity, pub why: &'static str, pub help: &'static str }
