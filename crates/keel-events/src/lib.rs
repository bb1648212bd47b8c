//! Events as the Segment HTTP Tracking API defines them, turned into what Keel stores.
//!
//! Clients (Segment's and RudderStack's libraries, analytics.js) send `identify`, `track`, `page`,
//! `screen`, `group` and `alias` messages, alone or in a `batch`. This crate validates one
//! message, fills what the spec lets a server fill (a `messageId` when a client sent none), and
//! corrects the client's clock: Segment's rule is `timestamp = receivedAt − (sentAt −
//! originalTimestamp)`, so a device whose clock is an hour off still lands at the right time.
//! Everything here is pure; storage and HTTP live in `keel-store` and `keel-web`.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The largest single message accepted (Segment's limit).
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// The largest batch accepted (Segment's limit).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// How far in the future a corrected timestamp may be before the event is refused.
pub const MAX_FUTURE: Duration = Duration::hours(24);

/// The kinds of message in the Segment spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// Who a user is (traits).
    Identify,
    /// Something a user did.
    Track,
    /// A web page view.
    Page,
    /// A mobile screen view.
    Screen,
    /// A user's membership of a group (account).
    Group,
    /// Merges two identities.
    Alias,
}

impl EventType {
    /// Parses the `type` field.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "identify" => EventType::Identify,
            "track" => EventType::Track,
            "page" => EventType::Page,
            "screen" => EventType::Screen,
            "group" => EventType::Group,
            "alias" => EventType::Alias,
            _ => return None,
        })
    }

    /// The type from a short path (`/v1/t` → track) or a long one (`/v1/track`).
    pub fn from_path(segment: &str) -> Option<Self> {
        Some(match segment {
            "i" | "identify" => EventType::Identify,
            "t" | "track" => EventType::Track,
            "p" | "page" => EventType::Page,
            "s" | "screen" => EventType::Screen,
            "g" | "group" => EventType::Group,
            "a" | "alias" => EventType::Alias,
            _ => return None,
        })
    }

    /// The spec's name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Identify => "identify",
            EventType::Track => "track",
            EventType::Page => "page",
            EventType::Screen => "screen",
            EventType::Group => "group",
            EventType::Alias => "alias",
        }
    }
}

/// Why a message was refused. Each has a stable code, stored with the rejected message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not a JSON object.
    #[error("the message is not a JSON object")]
    NotAnObject,
    /// Larger than [`MAX_EVENT_BYTES`].
    #[error("the message is {0} bytes; the limit is 32 KB")]
    TooLarge(usize),
    /// `type` missing or unknown.
    #[error("`type` must be one of identify, track, page, screen, group, alias (got {0})")]
    BadType(String),
    /// Neither `userId` nor `anonymousId`.
    #[error("a `userId` or an `anonymousId` is required")]
    MissingIdentity,
    /// `track` without `event`.
    #[error("a track call needs an `event` name")]
    MissingEventName,
    /// `alias` without `previousId`.
    #[error("an alias call needs a `previousId`")]
    MissingPreviousId,
    /// `group` without `groupId`.
    #[error("a group call needs a `groupId`")]
    MissingGroupId,
    /// A field has the wrong JSON type.
    #[error("`{field}` must be {expected}")]
    WrongType {
        /// Field name.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// A timestamp does not parse as ISO 8601.
    #[error("`{0}` is not an ISO 8601 timestamp")]
    BadTimestamp(&'static str),
    /// After correction the event is too far in the future.
    #[error("the event's time is more than 24 hours in the future")]
    InFuture,
}

impl Rejection {
    /// A stable machine-readable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::NotAnObject => "not_an_object",
            Rejection::TooLarge(_) => "too_large",
            Rejection::BadType(_) => "bad_type",
            Rejection::MissingIdentity => "missing_identity",
            Rejection::MissingEventName => "missing_event_name",
            Rejection::MissingPreviousId => "missing_previous_id",
            Rejection::MissingGroupId => "missing_group_id",
            Rejection::WrongType { .. } => "wrong_type",
            Rejection::BadTimestamp(_) => "bad_timestamp",
            Rejection::InFuture => "in_future",
        }
    }
}

/// A validated event, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Client-chosen id used for de-duplication (generated from the content when absent).
    pub message_id: String,
    /// Message kind.
    pub event_type: EventType,
    /// `event` for track, `name` for page/screen.
    pub name: Option<String>,
    /// Known user id.
    pub user_id: Option<String>,
    /// Device/browser id.
    pub anonymous_id: Option<String>,
    /// For group calls.
    pub group_id: Option<String>,
    /// For alias calls.
    pub previous_id: Option<String>,
    /// When it happened, corrected for client clock skew.
    pub timestamp: DateTime<Utc>,
    /// When Keel received it.
    pub received_at: DateTime<Utc>,
    /// The client's own clock reading at send time.
    pub sent_at: Option<DateTime<Utc>>,
    /// `properties` (track/page/screen).
    pub properties: Value,
    /// `traits`, merged from `context.traits` (identify/group).
    pub traits: Value,
    /// `context` (campaign, page, userAgent, ip …).
    pub context: Value,
}

fn opt_string(obj: &Map<String, Value>, field: &'static str) -> Result<Option<String>, Rejection> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        // Ids are often numbers in client code; the spec treats them as strings.
        Some(Value::Number(n)) if field.ends_with("Id") => Ok(Some(n.to_string())),
        Some(_) => Err(Rejection::WrongType {
            field,
            expected: "a string",
        }),
    }
}

fn opt_object(
    obj: &Map<String, Value>,
    field: &'static str,
) -> Result<Map<String, Value>, Rejection> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(Rejection::WrongType {
            field,
            expected: "an object",
        }),
    }
}

fn opt_time(
    obj: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<DateTime<Utc>>, Rejection> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| Rejection::BadTimestamp(field)),
        Some(_) => Err(Rejection::BadTimestamp(field)),
    }
}

/// Truncates to microseconds, the precision both databases keep.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// Validates and normalises one message.
///
/// `forced_type` comes from the URL (`/v1/track`); in a batch it is `None` and the message's own
/// `type` decides. `batch_sent_at` is the batch's `sentAt`, which applies to messages without one.
pub fn parse_message(
    value: &Value,
    forced_type: Option<EventType>,
    batch_sent_at: Option<DateTime<Utc>>,
    received_at: DateTime<Utc>,
) -> Result<Event, Rejection> {
    let Value::Object(obj) = value else {
        return Err(Rejection::NotAnObject);
    };
    let size = value.to_string().len();
    if size > MAX_EVENT_BYTES {
        return Err(Rejection::TooLarge(size));
    }
    let event_type = match forced_type {
        Some(t) => t,
        None => match obj.get("type") {
            Some(Value::String(s)) => {
                EventType::parse(s).ok_or_else(|| Rejection::BadType(format!("`{s}`")))?
            }
            _ => return Err(Rejection::BadType("nothing".into())),
        },
    };
    let user_id = opt_string(obj, "userId")?;
    let anonymous_id = opt_string(obj, "anonymousId")?;
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(Rejection::MissingIdentity);
    }
    let name = match event_type {
        EventType::Track => Some(opt_string(obj, "event")?.ok_or(Rejection::MissingEventName)?),
        EventType::Page | EventType::Screen => opt_string(obj, "name")?,
        _ => None,
    };
    let group_id = match event_type {
        EventType::Group => Some(opt_string(obj, "groupId")?.ok_or(Rejection::MissingGroupId)?),
        _ => None,
    };
    let previous_id = match event_type {
        EventType::Alias => {
            Some(opt_string(obj, "previousId")?.ok_or(Rejection::MissingPreviousId)?)
        }
        _ => None,
    };
    let properties = opt_object(obj, "properties")?;
    let context = opt_object(obj, "context")?;
    let mut traits = match context.get("traits") {
        Some(Value::Object(t)) => t.clone(),
        _ => Map::new(),
    };
    // Top-level traits win over context.traits.
    traits.extend(opt_object(obj, "traits")?);

    let original = match opt_time(obj, "originalTimestamp")? {
        Some(t) => Some(t),
        None => opt_time(obj, "timestamp")?,
    };
    let sent_at = opt_time(obj, "sentAt")?.or(batch_sent_at);
    let timestamp = match (original, sent_at) {
        // The device clock may be wrong, but the gap between "happened" and "sent" is right.
        (Some(orig), Some(sent)) => received_at - (sent - orig),
        (Some(orig), None) => orig,
        (None, _) => received_at,
    };
    if timestamp > received_at + MAX_FUTURE {
        return Err(Rejection::InFuture);
    }
    let message_id = match opt_string(obj, "messageId")? {
        Some(id) => id,
        // Without a client id, retries of identical content still de-duplicate.
        None => format!(
            "keel-{}",
            &hex::encode(Sha256::digest(value.to_string().as_bytes()))[..32]
        ),
    };
    Ok(Event {
        message_id,
        event_type,
        name,
        user_id,
        anonymous_id,
        group_id,
        previous_id,
        timestamp: micros(timestamp),
        received_at: micros(received_at),
        sent_at: sent_at.map(micros),
        properties: Value::Object(properties),
        traits: Value::Object(traits),
        context: Value::Object(context),
    })
}

/// The outcome for each message of a batch, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedBatch {
    /// Messages that passed.
    pub accepted: Vec<Event>,
    /// Messages refused, with their index, raw JSON and reason.
    pub rejected: Vec<(usize, Value, Rejection)>,
}

/// Splits a `/v1/batch` body into accepted and rejected messages.
pub fn parse_batch(body: &Value, received_at: DateTime<Utc>) -> Result<ParsedBatch, Rejection> {
    let Value::Object(obj) = body else {
        return Err(Rejection::NotAnObject);
    };
    let Some(Value::Array(items)) = obj.get("batch") else {
        return Err(Rejection::WrongType {
            field: "batch",
            expected: "an array of messages",
        });
    };
    let sent_at = opt_time(obj, "sentAt")?;
    // Batch-level context applies to messages that have none.
    let shared_context = obj.get("context").cloned();
    let mut out = ParsedBatch {
        accepted: Vec::new(),
        rejected: Vec::new(),
    };
    for (i, item) in items.iter().enumerate() {
        let mut item = item.clone();
        if let (Some(ctx), Value::Object(m)) = (&shared_context, &mut item) {
            m.entry("context").or_insert_with(|| ctx.clone());
        }
        match parse_message(&item, None, sent_at, received_at) {
            Ok(e) => out.accepted.push(e),
            Err(r) => out.rejected.push((i, item, r)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn track_with_clock_skew_is_corrected() {
        // Device clock is one hour fast: it says the event happened at 10:00 and was sent at 10:00:05.
        let msg = json!({"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m1",
            "timestamp": "2026-11-22T10:00:00Z", "sentAt": "2026-11-22T10:00:05Z", "properties": {"plan": "pro"}});
        let e = parse_message(&msg, None, None, at("2026-11-22T09:00:10Z")).unwrap();
        assert_eq!(e.timestamp, at("2026-11-22T09:00:05Z"));
        assert_eq!(e.name.as_deref(), Some("Signed Up"));
        assert_eq!(e.properties["plan"], "pro");
    }

    #[test]
    fn table_of_rejections() {
        let now = at("2026-11-22T09:00:00Z");
        let cases = [
            (json!([1]), "not_an_object"),
            (json!({"type": "shout", "userId": "u"}), "bad_type"),
            (json!({"type": "track", "event": "E"}), "missing_identity"),
            (
                json!({"type": "track", "userId": "u"}),
                "missing_event_name",
            ),
            (
                json!({"type": "alias", "userId": "u"}),
                "missing_previous_id",
            ),
            (json!({"type": "group", "userId": "u"}), "missing_group_id"),
            (
                json!({"type": "track", "userId": "u", "event": "E", "properties": 3}),
                "wrong_type",
            ),
            (
                json!({"type": "track", "userId": "u", "event": "E", "timestamp": "yesterday"}),
                "bad_timestamp",
            ),
            (
                json!({"type": "track", "userId": "u", "event": "E", "timestamp": "2027-01-01T00:00:00Z"}),
                "in_future",
            ),
            (
                json!({"type": "track", "userId": "u", "event": "E", "properties": {"x": "y".repeat(40_000)}}),
                "too_large",
            ),
        ];
        for (msg, code) in cases {
            assert_eq!(
                parse_message(&msg, None, None, now).unwrap_err().code(),
                code,
                "{msg}"
            );
        }
    }

    #[test]
    fn identify_merges_context_traits_and_numeric_ids() {
        let msg = json!({"userId": 42, "traits": {"plan": "pro"}, "context": {"traits": {"email": "a@b.co", "plan": "free"}}});
        let e = parse_message(&msg, Some(EventType::Identify), None, Utc::now()).unwrap();
        assert_eq!(e.user_id.as_deref(), Some("42"));
        assert_eq!(e.traits, json!({"email": "a@b.co", "plan": "pro"}));
        assert!(e.message_id.starts_with("keel-"));
        let again = parse_message(&msg, Some(EventType::Identify), None, Utc::now()).unwrap();
        assert_eq!(
            e.message_id, again.message_id,
            "generated ids are stable across retries"
        );
    }

    #[test]
    fn batch_keeps_good_messages_and_reports_bad_ones() {
        let body = json!({"sentAt": "2026-11-22T09:00:00Z", "context": {"library": {"name": "analytics-python"}}, "batch": [
            {"type": "page", "anonymousId": "a1", "name": "Home", "messageId": "p1"},
            {"type": "track", "anonymousId": "a1"},
            {"type": "identify", "userId": "u1", "anonymousId": "a1", "messageId": "i1"}
        ]});
        let b = parse_batch(&body, Utc::now()).unwrap();
        assert_eq!(b.accepted.len(), 2);
        assert_eq!(b.rejected.len(), 1);
        assert_eq!(b.rejected[0].0, 1);
        assert_eq!(b.accepted[0].context["library"]["name"], "analytics-python");
        assert!(parse_batch(&json!({"batch": 1}), Utc::now()).is_err());
    }

    #[test]
    fn short_paths_map_to_types() {
        assert_eq!(EventType::from_path("t"), Some(EventType::Track));
        assert_eq!(EventType::from_path("batch"), None);
    }
}
