//! The consent ledger: append-only consent events and the current state derived from them.
//!
//! Events are never changed or removed; the current state of a (subject, purpose) pair is a pure
//! function of its events. Events are applied in time order (ties broken by their order of
//! arrival), and the newest explicit statement wins — with one exception that protects people: a
//! withdrawal is never overridden by a later *import* that carries no consent information (no
//! consent-text hash proving what was shown). Such events are kept in the ledger but reported as
//! ignored, with the reason, so an audit can see them.

use crate::spec::LawfulBasis;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A consent state as stated by an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// The person agreed.
    Granted,
    /// The person declined (or never agreed where an answer was asked).
    Denied,
    /// The person took back an earlier agreement.
    Withdrawn,
}

impl ConsentState {
    /// Whether processing on consent is allowed in this state.
    pub fn allows(self) -> bool {
        self == Self::Granted
    }
}

/// Where a consent event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    /// A sign-up or consent form.
    Form,
    /// A bulk import from another system.
    Import,
    /// The REST API.
    Api,
    /// The person's own preference centre.
    PreferenceCentre,
    /// A TCF or GPP string from a consent-management platform.
    CmpString,
}

/// One append-only ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentEvent {
    /// The person (contact id).
    pub subject: String,
    /// The purpose name (`metadata.name` of a `Purpose`).
    pub purpose: String,
    /// The state stated by this event.
    pub state: ConsentState,
    /// When the person made the statement.
    pub at: DateTime<Utc>,
    /// Where the statement came from.
    pub source: ConsentSource,
    /// The jurisdiction (`metadata.name` of a `Jurisdiction`) the person was in.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// The legal ground.
    #[serde(default)]
    pub lawful_basis: LawfulBasis,
    /// Content hash of the consent text shown ([`consent_text_hash`]).
    #[serde(default)]
    pub text_hash: Option<String>,
    /// Version label of the consent text shown.
    #[serde(default)]
    pub text_version: Option<String>,
}

impl ConsentEvent {
    /// Whether the event carries consent information: anything but an import without a text hash.
    pub fn is_explicit(&self) -> bool {
        self.source != ConsentSource::Import || self.text_hash.is_some()
    }
}

/// The derived state of one (subject, purpose) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentConsent {
    /// The state in force.
    pub state: ConsentState,
    /// When it was stated.
    pub since: DateTime<Utc>,
    /// Index (in the input slice) of the event that set it.
    pub event: usize,
    /// Source of that event.
    pub source: ConsentSource,
    /// Jurisdiction of that event.
    pub jurisdiction: Option<String>,
    /// Legal ground of that event.
    pub lawful_basis: LawfulBasis,
    /// Consent-text hash of that event — the proof of what was shown.
    pub text_hash: Option<String>,
    /// Consent-text version of that event.
    pub text_version: Option<String>,
}

/// Why an event did not change the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoredReason {
    /// An import without consent information came after a withdrawal.
    WithdrawalNotOverriddenByImport,
}

/// An event kept in the ledger that did not change the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredEvent {
    /// Index of the event in the input slice.
    pub event: usize,
    /// Why it was ignored.
    pub reason: IgnoredReason,
}

/// The current state of every (subject, purpose) pair, and the events that were ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerState {
    /// Current state by (subject, purpose).
    pub current: BTreeMap<(String, String), CurrentConsent>,
    /// Events that did not take effect, in input order.
    pub ignored: Vec<IgnoredEvent>,
}

impl LedgerState {
    /// The current state of one pair, if any event exists for it.
    pub fn get(&self, subject: &str, purpose: &str) -> Option<&CurrentConsent> {
        self.current
            .get(&(subject.to_string(), purpose.to_string()))
    }
}

/// Derives the current state from the ledger. `events` is the ledger in arrival order.
pub fn derive_state(events: &[ConsentEvent]) -> LedgerState {
    let mut order: Vec<usize> = (0..events.len()).collect();
    // Stable sort: equal times keep arrival order, so the later-arriving statement wins.
    order.sort_by_key(|&i| events[i].at);
    let mut state = LedgerState::default();
    for i in order {
        let event = &events[i];
        let key = (event.subject.clone(), event.purpose.clone());
        if let Some(current) = state.current.get(&key)
            && current.state == ConsentState::Withdrawn
            && !event.is_explicit()
        {
            state.ignored.push(IgnoredEvent {
                event: i,
                reason: IgnoredReason::WithdrawalNotOverriddenByImport,
            });
            continue;
        }
        state.current.insert(
            key,
            CurrentConsent {
                state: event.state,
                since: event.at,
                event: i,
                source: event.source,
                jurisdiction: event.jurisdiction.clone(),
                lawful_basis: event.lawful_basis,
                text_hash: event.text_hash.clone(),
                text_version: event.text_version.clone(),
            },
        );
    }
    state.ignored.sort_by_key(|e| e.event);
    state
}

/// The content hash of a consent text: `sha256:` and the hex digest of its UTF-8 bytes, with line
/// endings normalised to `\n` so the same text stored on different systems hashes the same.
pub fn consent_text_hash(text: &str) -> String {
    let normalised = text.replace("\r\n", "\n");
    let digest = Sha256::digest(normalised.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsentSource::*;
    use ConsentState::*;

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + i64::from(day) * 86_400, 0).unwrap()
    }

    fn event(day: u32, state: ConsentState, source: ConsentSource, hash: bool) -> ConsentEvent {
        ConsentEvent {
            subject: "c1".into(),
            purpose: "newsletter".into(),
            state,
            at: at(day),
            source,
            jurisdiction: Some("eu".into()),
            lawful_basis: LawfulBasis::Consent,
            text_hash: hash.then(|| consent_text_hash("Send me the newsletter.")),
            text_version: hash.then(|| "v1".into()),
        }
    }

    /// (name, events, expected final state, expected ignored indices)
    type Case = (
        &'static str,
        Vec<ConsentEvent>,
        Option<ConsentState>,
        Vec<usize>,
    );

    #[test]
    fn derivation_table() {
        let cases: Vec<Case> = vec![
            ("no events", vec![], None, vec![]),
            (
                "single grant",
                vec![event(1, Granted, Form, true)],
                Some(Granted),
                vec![],
            ),
            (
                "newer withdrawal wins",
                vec![
                    event(1, Granted, Form, true),
                    event(2, Withdrawn, PreferenceCentre, false),
                ],
                Some(Withdrawn),
                vec![],
            ),
            (
                "import without consent info cannot undo a withdrawal",
                vec![
                    event(1, Granted, Form, true),
                    event(2, Withdrawn, Api, false),
                    event(3, Granted, Import, false),
                ],
                Some(Withdrawn),
                vec![2],
            ),
            (
                "import with a consent-text hash is explicit and wins",
                vec![
                    event(2, Withdrawn, Api, false),
                    event(3, Granted, Import, true),
                ],
                Some(Granted),
                vec![],
            ),
            (
                "explicit re-grant after withdrawal wins",
                vec![
                    event(1, Withdrawn, Form, false),
                    event(5, Granted, Form, true),
                ],
                Some(Granted),
                vec![],
            ),
            (
                "out-of-order arrival: time decides",
                vec![
                    event(5, Withdrawn, Api, false),
                    event(1, Granted, Form, true),
                ],
                Some(Withdrawn),
                vec![],
            ),
            (
                "same instant: later arrival wins",
                vec![event(1, Granted, Form, true), event(1, Denied, Form, true)],
                Some(Denied),
                vec![],
            ),
            (
                "import after denial (not withdrawal) applies",
                vec![
                    event(1, Denied, Form, true),
                    event(2, Granted, Import, false),
                ],
                Some(Granted),
                vec![],
            ),
            (
                "after an ignored import, a newer CMP statement still wins",
                vec![
                    event(1, Granted, Form, true),
                    event(2, Withdrawn, Api, false),
                    event(9, Granted, Import, false),
                    event(10, Granted, CmpString, false),
                ],
                Some(Granted),
                vec![2],
            ),
        ];
        for (name, events, expected, ignored) in cases {
            let state = derive_state(&events);
            assert_eq!(
                state.get("c1", "newsletter").map(|c| c.state),
                expected,
                "{name}"
            );
            let got: Vec<usize> = state.ignored.iter().map(|e| e.event).collect();
            assert_eq!(got, ignored, "{name}");
        }
    }

    #[test]
    fn current_state_keeps_the_proof() {
        let state = derive_state(&[event(1, Granted, Form, true)]);
        let current = state.get("c1", "newsletter").unwrap();
        assert_eq!(current.text_version.as_deref(), Some("v1"));
        assert_eq!(
            current.text_hash,
            Some(consent_text_hash("Send me the newsletter."))
        );
        assert_eq!(current.event, 0);
    }

    #[test]
    fn pairs_are_independent() {
        let mut other = event(3, Denied, Form, true);
        other.purpose = "profiling".into();
        let state = derive_state(&[event(1, Granted, Form, true), other]);
        assert_eq!(state.get("c1", "newsletter").unwrap().state, Granted);
        assert_eq!(state.get("c1", "profiling").unwrap().state, Denied);
    }

    #[test]
    fn text_hash_is_sha256_of_normalised_text() {
        assert_eq!(
            consent_text_hash("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(consent_text_hash("a\r\nb"), consent_text_hash("a\nb"));
    }
}
