//! From Segment-style events to journeys: identity stitching, sessions and the touches of each
//! person up to each conversion.
//!
//! - Stitching is a union-find over identity links: an event carrying both `anonymousId` and
//!   `userId` (identify, or any call after login) links them; `alias` links `previousId` to
//!   `userId`. It is retroactive: every event of a linked anonymous id belongs to the person,
//!   including those sent before the link. A person is named by the user id seen first (earliest
//!   timestamp, then smallest id), else by the smallest anonymous id.
//! - Sessions: a person's page/screen events (and track events that carry page or campaign
//!   context) form sessions; a session ends after the inactivity timeout, and a touch with a new
//!   non-direct source starts a new one. Each session is one touch, classified by its first event.
//!   Server-side track events without context join the current session but never start one.
//! - Journeys: each configured conversion event closes a journey made of the sessions since the
//!   previous conversion that started within the lookback window (the session in which the
//!   conversion happens always counts). Sessions after a person's last conversion form one
//!   non-converting journey. Touch ages are in days before the conversion (or the last session).

use crate::channels::{ChannelRules, TouchSource, is_click_id};
use crate::paths::JourneyRow;
use crate::{Error, PathSet};
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::Value;

/// The kind of a Segment call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `identify`: ties an anonymous id to a user id.
    Identify,
    /// `track`: a named action (some are conversions).
    Track,
    /// `page`: a page view.
    Page,
    /// `screen`: an app screen view.
    Screen,
    /// `alias`: ties a previous id to a user id.
    Alias,
    /// `group`: ties the user to an account (ignored by attribution).
    Group,
}

/// UTM campaign fields (`context.campaign`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Campaign {
    /// utm_source.
    pub source: Option<String>,
    /// utm_medium.
    pub medium: Option<String>,
    /// utm_campaign (`name` in Segment).
    pub name: Option<String>,
    /// utm_term.
    pub term: Option<String>,
    /// utm_content.
    pub content: Option<String>,
}

impl Campaign {
    fn is_empty(&self) -> bool {
        self.source.is_none() && self.medium.is_none() && self.name.is_none()
    }
}

/// One event, reduced to what attribution needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Kind of call.
    pub kind: EventKind,
    /// Known user id.
    pub user_id: Option<String>,
    /// Device/browser anonymous id.
    pub anonymous_id: Option<String>,
    /// Previous id of an alias call.
    pub previous_id: Option<String>,
    /// When the event happened.
    pub timestamp: DateTime<Utc>,
    /// Track event name.
    pub name: Option<String>,
    /// Revenue or value (`properties.revenue`, `.value` or `.total`).
    pub value: Option<f64>,
    /// UTM fields.
    pub campaign: Campaign,
    /// Referrer URL.
    pub referrer: Option<String>,
    /// Click-id parameters on the landing URL.
    pub click_ids: Vec<String>,
    /// Whether the event carries page/app context (so it can start a session).
    pub has_page_context: bool,
    /// Top-level numeric properties (numbers, or strings that read as numbers), so a conversion
    /// can take its value from a configured property.
    pub numbers: Vec<(String, f64)>,
}

/// A track event that counts as a conversion, as configured in the `conversions` list of the
/// `ChannelRules` document (or given to `keel attribute --conversion-event`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversionEvent {
    /// Track event name, compared case-insensitively (`Form Submitted`, `Opportunity Created`).
    pub event: String,
    /// Property whose number is the conversion's value (e.g. `amount` on a closed-won event).
    /// Without it the value is `revenue`, `value` or `total`, the first present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_property: Option<String>,
}

impl ConversionEvent {
    /// A conversion event valued by `revenue`, `value` or `total`.
    pub fn named(event: &str) -> Self {
        ConversionEvent {
            event: event.to_owned(),
            value_property: None,
        }
    }

    /// Whether `e` is this conversion.
    pub fn matches(&self, e: &Event) -> bool {
        e.kind == EventKind::Track
            && e.name
                .as_deref()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(self.event.trim()))
    }

    /// The value `e` carries as this conversion (0 when the property is absent).
    pub fn value_of(&self, e: &Event) -> f64 {
        match &self.value_property {
            Some(p) => e
                .numbers
                .iter()
                .find(|(k, _)| k == p)
                .map(|(_, v)| *v)
                .unwrap_or(0.0),
            None => e.value.unwrap_or(0.0),
        }
    }

    /// How the list reads in a summary: `Form Submitted`, `Closed Won (value: amount)`.
    pub fn label(&self) -> String {
        match &self.value_property {
            Some(p) => format!("{} (value: {p})", self.event),
            None => self.event.clone(),
        }
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn id_at(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query parameters of a URL, decoded.
pub fn query_params(url: &str) -> Vec<(String, String)> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    let query = query.split('#').next().unwrap_or("");
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k).to_ascii_lowercase(), percent_decode(v))
        })
        .collect()
}

impl Event {
    /// Reads a Segment call. Returns `Ok(None)` for calls attribution ignores (unknown types),
    /// and `Err((field, message))` for malformed ones.
    pub fn from_segment(v: &Value) -> Result<Option<Event>, (String, String)> {
        let err = |f: &str, m: String| Err((f.to_owned(), m));
        let Some(kind) = v.get("type").and_then(Value::as_str) else {
            return err("type", "missing event type".into());
        };
        let kind = match kind.to_ascii_lowercase().as_str() {
            "identify" => EventKind::Identify,
            "track" => EventKind::Track,
            "page" => EventKind::Page,
            "screen" => EventKind::Screen,
            "alias" => EventKind::Alias,
            "group" => EventKind::Group,
            _ => return Ok(None),
        };
        let ts_text = ["timestamp", "originalTimestamp", "sentAt", "receivedAt"]
            .iter()
            .find_map(|k| str_at(v, &[k]));
        let Some(ts_text) = ts_text else {
            return err("timestamp", "missing timestamp".into());
        };
        let timestamp = DateTime::parse_from_rfc3339(ts_text)
            .map_err(|e| {
                (
                    "timestamp".to_owned(),
                    format!("`{ts_text}` is not an ISO 8601 time: {e}"),
                )
            })?
            .with_timezone(&Utc);
        let user_id = id_at(v, "userId");
        let anonymous_id = id_at(v, "anonymousId");
        if user_id.is_none() && anonymous_id.is_none() {
            return err("userId", "an event needs userId or anonymousId".into());
        }
        let previous_id = id_at(v, "previousId");
        if kind == EventKind::Alias && (previous_id.is_none() || user_id.is_none()) {
            return err("previousId", "alias needs previousId and userId".into());
        }
        let props = v.get("properties");
        let url = str_at(v, &["context", "page", "url"])
            .or_else(|| props.and_then(|p| str_at(p, &["url"])));
        let params = url.map(query_params).unwrap_or_default();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let ctx = |k: &str| str_at(v, &["context", "campaign", k]).map(str::to_owned);
        let campaign = Campaign {
            source: ctx("source").or_else(|| param("utm_source")),
            medium: ctx("medium").or_else(|| param("utm_medium")),
            name: ctx("name")
                .or_else(|| ctx("campaign"))
                .or_else(|| param("utm_campaign")),
            term: ctx("term").or_else(|| param("utm_term")),
            content: ctx("content").or_else(|| param("utm_content")),
        };
        let referrer = str_at(v, &["context", "page", "referrer"])
            .or_else(|| props.and_then(|p| str_at(p, &["referrer"])))
            .or_else(|| str_at(v, &["context", "referrer", "url"]))
            .map(str::to_owned);
        let click_ids: Vec<String> = params
            .iter()
            .filter(|(k, _)| is_click_id(k))
            .map(|(k, _)| k.clone())
            .collect();
        let value = props.and_then(|p| {
            ["revenue", "value", "total"]
                .iter()
                .find_map(|k| match p.get(k)? {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                })
        });
        if let Some(x) = value
            && !x.is_finite()
        {
            return err("properties.revenue", "value must be a finite number".into());
        }
        let numbers = props
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let x = match v {
                            Value::Number(n) => n.as_f64(),
                            Value::String(s) => s.trim().parse::<f64>().ok(),
                            _ => None,
                        }?;
                        x.is_finite().then(|| (k.clone(), x))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let has_page_context = matches!(kind, EventKind::Page | EventKind::Screen)
            || url.is_some()
            || referrer.is_some()
            || !campaign.is_empty();
        Ok(Some(Event {
            kind,
            user_id,
            anonymous_id,
            previous_id,
            timestamp,
            name: v.get("event").and_then(Value::as_str).map(str::to_owned),
            value,
            campaign,
            referrer,
            click_ids,
            has_page_context,
            numbers,
        }))
    }
}

/// Who is who after stitching.
#[derive(Debug, Clone, Default)]
pub struct Identities {
    index: FxHashMap<String, usize>,
    person: Vec<usize>,
    names: Vec<String>,
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi] = lo;
        }
    }
}

/// Stitches identities over all events (order does not matter: the result is retroactive).
pub fn stitch(events: &[Event]) -> Identities {
    let mut index: FxHashMap<String, usize> = FxHashMap::default();
    let mut keys: Vec<String> = Vec::new();
    let mut first_seen: Vec<(DateTime<Utc>, String)> = Vec::new();
    let mut id = |key: String, ts: DateTime<Utc>, index: &mut FxHashMap<String, usize>| -> usize {
        if let Some(&i) = index.get(&key) {
            if ts < first_seen[i].0 {
                first_seen[i].0 = ts;
            }
            return i;
        }
        let i = keys.len();
        keys.push(key.clone());
        first_seen.push((ts, key.clone()));
        index.insert(key, i);
        i
    };
    let mut links: Vec<(usize, usize)> = Vec::new();
    for e in events {
        let u = e
            .user_id
            .as_ref()
            .map(|u| id(format!("u:{u}"), e.timestamp, &mut index));
        let a = e
            .anonymous_id
            .as_ref()
            .map(|a| id(format!("a:{a}"), e.timestamp, &mut index));
        if let (Some(u), Some(a)) = (u, a) {
            links.push((u, a));
        }
        if let (Some(u), Some(prev)) = (u, &e.previous_id) {
            // The previous id may have been an anonymous id or an earlier user id.
            let pa = id(format!("a:{prev}"), e.timestamp, &mut index);
            let pu = id(format!("u:{prev}"), e.timestamp, &mut index);
            links.push((u, pa));
            links.push((u, pu));
        }
    }
    let mut uf = UnionFind((0..keys.len()).collect());
    for (a, b) in links {
        uf.union(a, b);
    }
    // Name each person: earliest user id, else smallest anonymous id.
    let mut best: FxHashMap<usize, (bool, DateTime<Utc>, String)> = FxHashMap::default();
    for (i, key) in keys.iter().enumerate() {
        let root = uf.find(i);
        let is_user = key.starts_with("u:");
        let cand = (
            !is_user,
            if is_user {
                first_seen[i].0
            } else {
                DateTime::<Utc>::MIN_UTC
            },
            key.clone(),
        );
        let slot = best.entry(root).or_insert_with(|| cand.clone());
        if cand < *slot {
            *slot = cand;
        }
    }
    let mut roots: Vec<usize> = best.keys().copied().collect();
    roots.sort_by(|a, b| best[a].2.cmp(&best[b].2));
    let mut person_of_root: FxHashMap<usize, usize> = FxHashMap::default();
    let mut names = Vec::with_capacity(roots.len());
    for (p, r) in roots.iter().enumerate() {
        person_of_root.insert(*r, p);
        let key = &best[r].2;
        names.push(match key.split_once(':') {
            Some(("u", id)) => format!("user:{id}"),
            Some((_, id)) => format!("anonymous:{id}"),
            None => key.clone(),
        });
    }
    let person = (0..keys.len())
        .map(|i| person_of_root[&uf.find(i)])
        .collect();
    Identities {
        index,
        person,
        names,
    }
}

impl Identities {
    /// Person index of an event (by user id first, else anonymous id).
    pub fn person_index(&self, e: &Event) -> Option<usize> {
        e.user_id
            .as_ref()
            .and_then(|u| self.index.get(&format!("u:{u}")))
            .or_else(|| {
                e.anonymous_id
                    .as_ref()
                    .and_then(|a| self.index.get(&format!("a:{a}")))
            })
            .map(|&i| self.person[i])
    }

    /// Name of the person of an event: `user:<id>` or `anonymous:<id>`.
    pub fn person(&self, e: &Event) -> Option<&str> {
        self.person_index(e).map(|p| self.names[p].as_str())
    }

    /// The person an id belongs to: `user:<id>`, `anonymous:<id>`, or a bare user or anonymous
    /// id (user ids first).
    pub fn lookup(&self, id: &str) -> Option<usize> {
        let key = |prefix: &str, id: &str| self.index.get(&format!("{prefix}:{id}")).copied();
        let i = if let Some(u) = id.strip_prefix("user:") {
            key("u", u)
        } else if let Some(a) = id.strip_prefix("anonymous:") {
            key("a", a)
        } else {
            key("u", id).or_else(|| key("a", id))
        }?;
        Some(self.person[i])
    }

    /// Every known id with its person's name: `u:<user id>` or `a:<anonymous id>` → `user:…`.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.index
            .iter()
            .map(|(k, &i)| (k.as_str(), self.names[self.person[i]].as_str()))
    }

    /// Name of person `p`: `user:<id>` or `anonymous:<id>`.
    pub fn name(&self, p: usize) -> Option<&str> {
        self.names.get(p).map(String::as_str)
    }

    /// Number of distinct people.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no people.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// How journeys are cut from events.
#[derive(Debug, Clone, PartialEq)]
pub struct JourneyOptions {
    /// Track events that count as conversions, with where their value comes from.
    pub conversion_events: Vec<ConversionEvent>,
    /// Sessions that started more than this many days before a conversion are not its touches.
    pub lookback_days: f64,
    /// Inactivity that ends a session, in minutes.
    pub session_timeout_minutes: f64,
    /// The site's own domains (their referrals are not touches).
    pub own_domains: Vec<String>,
}

impl Default for JourneyOptions {
    fn default() -> Self {
        JourneyOptions {
            conversion_events: vec![ConversionEvent::named("Order Completed")],
            lookback_days: 30.0,
            session_timeout_minutes: 30.0,
            own_domains: Vec::new(),
        }
    }
}

/// One session: a touch.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Start time.
    pub start: DateTime<Utc>,
    /// Last activity.
    pub last: DateTime<Utc>,
    /// Channel of the session's first event.
    pub channel: String,
    /// Campaign of the session's first event.
    pub campaign: Option<String>,
}

/// Sessions of one person's events (sorted by time).
pub fn sessions(events: &[&Event], rules: &ChannelRules, options: &JourneyOptions) -> Vec<Session> {
    let timeout =
        chrono::Duration::milliseconds((options.session_timeout_minutes * 60_000.0) as i64);
    let mut out: Vec<Session> = Vec::new();
    let mut current_source: Option<TouchSource> = None;
    for e in events {
        if matches!(
            e.kind,
            EventKind::Identify | EventKind::Alias | EventKind::Group
        ) {
            continue;
        }
        let touch = e.has_page_context.then(|| {
            TouchSource::resolve(
                e.campaign.source.as_deref(),
                e.campaign.medium.as_deref(),
                e.campaign.name.as_deref(),
                e.referrer.as_deref(),
                &e.click_ids,
                &options.own_domains,
                rules,
            )
        });
        let expired = out.last().is_none_or(|s| e.timestamp - s.last > timeout);
        let new_source = match (&touch, &current_source) {
            (Some(t), Some(cur)) => {
                !t.is_direct()
                    && (t.source != cur.source
                        || t.medium != cur.medium
                        || t.campaign != cur.campaign)
            }
            _ => false,
        };
        match touch {
            Some(t) if expired || new_source => {
                out.push(Session {
                    start: e.timestamp,
                    last: e.timestamp,
                    channel: rules.classify(&t).to_owned(),
                    campaign: t.campaign.clone(),
                });
                current_source = Some(t);
            }
            _ => {
                if let Some(s) = out.last_mut()
                    && !expired
                {
                    s.last = s.last.max(e.timestamp);
                }
            }
        }
    }
    out
}

/// Journeys built from events, as a paths table with per-touch ages, campaigns and leads.
#[derive(Debug, Clone)]
pub struct BuiltPaths {
    /// One row per journey.
    pub paths: PathSet,
    /// People after stitching.
    pub people: usize,
    /// Conversions with at least one touch.
    pub conversions: usize,
    /// Conversions with no touch at all (no session before them), left out.
    pub conversions_without_touches: usize,
    /// The person of each conversion without touches.
    pub untouched: Vec<usize>,
    /// Non-converting journeys.
    pub null_journeys: usize,
    /// Per row of `paths`: whose journey it is and when its touches happened.
    pub journeys: Vec<JourneyInfo>,
    /// Who is who after stitching.
    pub identities: Identities,
}

/// Where a journey row came from.
#[derive(Debug, Clone, PartialEq)]
pub struct JourneyInfo {
    /// Person index (see [`Identities::name`]).
    pub person: usize,
    /// The conversion time, or the last session's start for a non-converting journey.
    pub end: DateTime<Utc>,
    /// Start of each touch's session, oldest first.
    pub touches: Vec<DateTime<Utc>>,
}

/// Stitches identities, sessionises and cuts journeys at conversions.
pub fn build_paths(
    events: &[Event],
    rules: &ChannelRules,
    options: &JourneyOptions,
) -> Result<BuiltPaths, Error> {
    if options.lookback_days.is_nan()
        || options.lookback_days <= 0.0
        || options.session_timeout_minutes.is_nan()
        || options.session_timeout_minutes <= 0.0
    {
        return Err(Error::Model(
            "lookback and session timeout must be > 0".into(),
        ));
    }
    let ids = stitch(events);
    let mut by_person: Vec<Vec<&Event>> = vec![Vec::new(); ids.len()];
    for e in events {
        if let Some(p) = ids.person_index(e) {
            by_person[p].push(e);
        }
    }
    let conversion_of = |e: &Event| options.conversion_events.iter().find(|c| c.matches(e));
    let lookback = chrono::Duration::milliseconds((options.lookback_days * 86_400_000.0) as i64);
    let days = |d: chrono::Duration| d.num_milliseconds() as f64 / 86_400_000.0;
    let mut built = BuiltPaths {
        paths: PathSet::new(),
        people: ids.len(),
        conversions: 0,
        conversions_without_touches: 0,
        untouched: Vec::new(),
        null_journeys: 0,
        journeys: Vec::new(),
        identities: Identities::default(),
    };
    for (person, list) in by_person.iter_mut().enumerate() {
        list.sort_by_key(|e| e.timestamp);
        let sess = sessions(list, rules, options);
        let lead_time = list
            .iter()
            .find(|e| e.kind == EventKind::Identify)
            .map(|e| e.timestamp);
        let mut next = 0usize;
        let emit = |range: Vec<usize>,
                    end: DateTime<Utc>,
                    conv: f64,
                    value: f64,
                    paths: &mut PathSet,
                    journeys: &mut Vec<JourneyInfo>|
         -> Result<(), Error> {
            journeys.push(JourneyInfo {
                person,
                end,
                touches: range.iter().map(|&s| sess[s].start).collect(),
            });
            let lead = lead_time.and_then(|t| range.iter().rposition(|&s| sess[s].start <= t));
            let row = JourneyRow {
                channels: range.iter().map(|&s| sess[s].channel.as_str()).collect(),
                campaigns: range.iter().map(|&s| sess[s].campaign.as_deref()).collect(),
                ages: range.iter().map(|&s| days(end - sess[s].start)).collect(),
                lead,
                conversions: conv,
                value,
                nulls: 1.0 - conv,
            };
            paths.push_journey(&row)
        };
        for (e, conversion) in list.iter().filter_map(|e| conversion_of(e).map(|c| (e, c))) {
            // The session in which the conversion happens: the latest one started by then.
            let Some(cur) = sess.iter().rposition(|s| s.start <= e.timestamp) else {
                built.conversions_without_touches += 1;
                built.untouched.push(person);
                continue;
            };
            let from = next.min(cur);
            let range: Vec<usize> = (from..=cur)
                .filter(|&s| s == cur || e.timestamp - sess[s].start <= lookback)
                .collect();
            emit(
                range,
                e.timestamp,
                1.0,
                conversion.value_of(e),
                &mut built.paths,
                &mut built.journeys,
            )?;
            built.conversions += 1;
            next = cur + 1;
        }
        if next < sess.len() {
            let end = sess[sess.len() - 1].start;
            emit(
                (next..sess.len()).collect(),
                end,
                0.0,
                0.0,
                &mut built.paths,
                &mut built.journeys,
            )?;
            built.null_journeys += 1;
        }
    }
    built.identities = ids;
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(v: Value) -> Event {
        Event::from_segment(&v).unwrap().unwrap()
    }

    #[test]
    fn parses_segment_calls() {
        let e = ev(json!({
            "type": "page", "anonymousId": "a1", "timestamp": "2026-01-01T10:00:00+01:00",
            "context": {"page": {"url": "https://shop.example.com/?utm_source=Google&utm_medium=cpc&utm_campaign=spring%20sale&gclid=xyz", "referrer": "https://www.google.com/"}}
        }));
        assert_eq!(e.timestamp.to_rfc3339(), "2026-01-01T09:00:00+00:00");
        assert_eq!(e.campaign.source.as_deref(), Some("Google"));
        assert_eq!(e.campaign.name.as_deref(), Some("spring sale"));
        assert_eq!(e.click_ids, ["gclid"]);
        let t = ev(
            json!({"type": "track", "userId": "u1", "event": "Order Completed", "timestamp": "2026-01-01T10:00:00Z", "properties": {"revenue": "49.5"}}),
        );
        assert_eq!(t.value, Some(49.5));
        assert!(!t.has_page_context);
        assert!(
            Event::from_segment(&json!({"type": "track", "timestamp": "2026-01-01T10:00:00Z"}))
                .is_err()
        );
        assert_eq!(
            Event::from_segment(&json!({"type": "track", "userId": "u"}))
                .unwrap_err()
                .0,
            "timestamp"
        );
        assert!(
            Event::from_segment(
                &json!({"type": "alias", "userId": "u", "timestamp": "2026-01-01T10:00:00Z"})
            )
            .is_err()
        );
        assert!(
            Event::from_segment(&json!({"type": "weird"}))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn stitching_across_identify_and_alias_is_retroactive() {
        let events = vec![
            ev(
                json!({"type": "page", "anonymousId": "anon-1", "timestamp": "2026-01-01T00:00:00Z"}),
            ),
            ev(
                json!({"type": "page", "anonymousId": "anon-2", "timestamp": "2026-01-02T00:00:00Z"}),
            ),
            ev(
                json!({"type": "page", "anonymousId": "anon-3", "timestamp": "2026-01-02T00:00:00Z"}),
            ),
            ev(
                json!({"type": "identify", "anonymousId": "anon-2", "userId": "alice", "timestamp": "2026-01-03T00:00:00Z"}),
            ),
            ev(
                json!({"type": "alias", "previousId": "anon-1", "userId": "alice", "timestamp": "2026-01-04T00:00:00Z"}),
            ),
            ev(
                json!({"type": "alias", "previousId": "alice", "userId": "alice@corp", "timestamp": "2026-01-05T00:00:00Z"}),
            ),
        ];
        let ids = stitch(&events);
        assert_eq!(ids.person(&events[0]), Some("user:alice"));
        assert_eq!(ids.person(&events[1]), Some("user:alice"));
        assert_eq!(ids.person(&events[5]), Some("user:alice"));
        assert_eq!(ids.person(&events[2]), Some("anonymous:anon-3"));
        assert_eq!(ids.len(), 2);
        // Order of events does not change the result.
        let mut rev = events.clone();
        rev.reverse();
        let ids2 = stitch(&rev);
        assert_eq!(ids2.person(&events[0]), Some("user:alice"));
    }

    #[test]
    fn journeys_from_events() {
        let page = |anon: &str, ts: &str, url: &str, referrer: Option<&str>| {
            ev(
                json!({"type": "page", "anonymousId": anon, "timestamp": ts, "context": {"page": {"url": url, "referrer": referrer}}}),
            )
        };
        let events = vec![
            page(
                "a",
                "2026-01-01T10:00:00Z",
                "https://ex.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand",
                None,
            ),
            page(
                "a",
                "2026-01-01T10:10:00Z",
                "https://ex.com/p2",
                Some("https://ex.com/"),
            ),
            page(
                "a",
                "2026-01-03T09:00:00Z",
                "https://ex.com/",
                Some("https://www.facebook.com/"),
            ),
            ev(
                json!({"type": "identify", "anonymousId": "a", "userId": "u", "timestamp": "2026-01-03T09:05:00Z"}),
            ),
            page(
                "b",
                "2026-01-05T09:00:00Z",
                "https://ex.com/?utm_source=newsletter&utm_medium=email",
                None,
            ),
            ev(
                json!({"type": "track", "userId": "u", "anonymousId": "b", "event": "Order Completed", "timestamp": "2026-01-05T09:20:00Z", "properties": {"revenue": 100}}),
            ),
            page("b", "2026-01-06T09:00:00Z", "https://ex.com/", None),
            // Too old for the 30-day lookback of the second conversion.
            page(
                "c",
                "2025-11-01T09:00:00Z",
                "https://ex.com/?utm_source=bing&utm_medium=cpc",
                None,
            ),
            ev(
                json!({"type": "identify", "anonymousId": "c", "userId": "v", "timestamp": "2025-11-01T09:01:00Z"}),
            ),
            page(
                "c",
                "2026-01-06T09:00:00Z",
                "https://ex.com/",
                Some("https://duckduckgo.com/"),
            ),
            ev(
                json!({"type": "track", "userId": "v", "event": "order completed", "timestamp": "2026-01-06T09:30:00Z", "properties": {"value": 20}}),
            ),
        ];
        let options = JourneyOptions {
            own_domains: vec!["ex.com".into()],
            ..JourneyOptions::default()
        };
        let built = build_paths(&events, &ChannelRules::ga4_default(), &options).unwrap();
        assert_eq!(built.people, 2);
        assert_eq!(built.conversions, 2);
        assert_eq!(built.null_journeys, 1);
        let p = &built.paths;
        let names = |i: usize| {
            p.path(i)
                .iter()
                .map(|&c| p.channel_names()[c as usize].clone())
                .collect::<Vec<_>>()
        };
        // Person u: paid search, then organic social (identified there), then email → conversion.
        assert_eq!(names(0), ["Paid Search", "Organic Social", "Email"]);
        assert_eq!(p.lead(0), Some(1));
        assert_eq!(p.value(0), 100.0);
        let ages = p.ages(0).unwrap();
        assert!((ages[2] - 20.0 / 1440.0).abs() < 1e-9);
        assert!((ages[0] - (4.0 - 40.0 / 1440.0)).abs() < 1e-9);
        assert_eq!(p.campaigns(0).unwrap()[0], 0);
        assert_eq!(p.campaign_names()[0], "brand");
        // Then a direct visit after the conversion: a non-converting journey.
        assert_eq!(names(1), ["Direct"]);
        assert_eq!(p.nulls(1), 1.0);
        // Person v: the Bing touch is outside the lookback.
        assert_eq!(names(2), ["Organic Search"]);
        assert_eq!(p.conversions(2), 1.0);
    }

    #[test]
    fn configured_conversion_events_end_journeys_with_their_value_property() {
        let page = |user: &str, at: &str, url: &str| {
            ev(json!({"type": "page", "userId": user, "timestamp": at,
                "context": {"page": {"url": url}}}))
        };
        let track = |user: &str, at: &str, name: &str, props: Value| {
            ev(
                json!({"type": "track", "userId": user, "event": name, "timestamp": at, "properties": props}),
            )
        };
        let events = vec![
            page(
                "u",
                "2026-02-01T09:00:00Z",
                "https://ex.com/?utm_source=google&utm_medium=cpc",
            ),
            track(
                "u",
                "2026-02-01T09:05:00Z",
                "Form Submitted",
                json!({"revenue": 5}),
            ),
            page(
                "u",
                "2026-02-03T09:00:00Z",
                "https://ex.com/?utm_source=news&utm_medium=email",
            ),
            track(
                "u",
                "2026-02-03T09:05:00Z",
                "Opportunity Created",
                json!({}),
            ),
            page(
                "u",
                "2026-02-05T09:00:00Z",
                "https://ex.com/?utm_source=linkedin&utm_medium=paid_social",
            ),
            track(
                "u",
                "2026-02-05T09:05:00Z",
                "closed won",
                json!({"amount": "12000.5", "revenue": 1}),
            ),
            track(
                "u",
                "2026-02-05T09:06:00Z",
                "Order Completed",
                json!({"revenue": 99}),
            ),
        ];
        // The default counts only Order Completed, valued by `revenue`.
        let built = build_paths(
            &events,
            &ChannelRules::ga4_default(),
            &JourneyOptions::default(),
        )
        .unwrap();
        assert_eq!(built.conversions, 1);
        assert_eq!(built.paths.value(0), 99.0);
        assert_eq!(built.paths.path(0).len(), 3);
        // Configured: form fill, opportunity created and closed-won valued by `amount`.
        let options = JourneyOptions {
            conversion_events: vec![
                ConversionEvent::named("Form Submitted"),
                ConversionEvent::named("Opportunity Created"),
                ConversionEvent {
                    event: "Closed Won".into(),
                    value_property: Some("amount".into()),
                },
            ],
            ..JourneyOptions::default()
        };
        let built = build_paths(&events, &ChannelRules::ga4_default(), &options).unwrap();
        assert_eq!(built.conversions, 3);
        assert_eq!(built.null_journeys, 0);
        let p = &built.paths;
        assert_eq!(p.len(), 3);
        assert_eq!((p.value(0), p.value(1), p.value(2)), (5.0, 0.0, 12000.5));
        let channel = |i: usize| p.channel_names()[p.path(i)[0] as usize].clone();
        assert_eq!(
            [channel(0), channel(1), channel(2)],
            ["Paid Search", "Email", "Paid Social"]
        );
        assert_eq!(
            options.conversion_events[2].label(),
            "Closed Won (value: amount)"
        );
    }
}
