//! The campaign calendar: conflict detection (the same audience in overlapping windows, too many
//! sends per channel per day, blackout dates) and the iCalendar (RFC 5545) feed.
//!
//! Rules live in a `kind: CampaignRules` document. The feed is written by hand because it is
//! small and the details matter: CRLF line ends, TEXT escaping, and folding at 75 octets
//! without splitting a UTF-8 character.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::capacity::DateRange;
use crate::{Problem, Spec};

/// Dates when nothing (or nothing on some channels) may launch or send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Blackout {
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
    /// Why (shown in conflicts and explanations).
    pub reason: String,
    /// Channels affected; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
}

impl Blackout {
    /// Whether `d` is inside the blackout.
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }

    /// Whether the blackout affects `channel`.
    pub fn applies_to(&self, channel: &str) -> bool {
        self.channels.is_empty() || self.channels.iter().any(|c| c == channel)
    }
}

/// The `spec` of a `kind: CampaignRules` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignRulesSpec {
    /// Most sends per channel per day, such as `{email: 2}`.
    #[serde(default)]
    pub max_sends_per_day: BTreeMap<String, u32>,
    /// Whether two campaigns may reach the same audience in overlapping windows.
    #[serde(default)]
    pub allow_audience_overlap: bool,
    /// Blackout periods.
    #[serde(default)]
    pub blackouts: Vec<Blackout>,
}

impl Spec for CampaignRulesSpec {
    const KIND: &'static str = "CampaignRules";

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (channel, max) in &self.max_sends_per_day {
            if *max == 0 {
                problems.push(Problem::new(
                    format!("spec.max_sends_per_day.{channel}"),
                    "must be at least 1 (use a blackout to stop a channel)",
                ));
            }
        }
        for (i, b) in self.blackouts.iter().enumerate() {
            if b.end < b.start {
                problems.push(Problem::new(
                    format!("spec.blackouts[{i}].end"),
                    "ends before it starts",
                ));
            }
            if b.reason.trim().is_empty() {
                problems.push(Problem::new(
                    format!("spec.blackouts[{i}].reason"),
                    "say why, people will read it",
                ));
            }
        }
        problems
    }
}

/// One campaign or send on the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    /// Stable identifier (becomes the iCalendar UID).
    pub id: String,
    /// Title.
    pub title: String,
    /// Channel (email, paid_social, webinar …).
    pub channel: String,
    /// Audience segment, if any.
    pub audience: Option<String>,
    /// In market from.
    pub start: NaiveDate,
    /// In market until (inclusive).
    pub end: NaiveDate,
    /// Days on which it sends (emails, SMS); empty for always-on work.
    pub sends: Vec<NaiveDate>,
    /// Link to the request in Keel.
    pub url: Option<String>,
}

impl CalendarEntry {
    fn window(&self) -> DateRange {
        DateRange {
            start: self.start,
            end: self.end,
        }
    }
}

/// A conflict on the campaign calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Conflict {
    /// Two entries reach the same audience at the same time.
    AudienceOverlap {
        /// The audience.
        audience: String,
        /// First entry.
        first: String,
        /// Second entry.
        second: String,
        /// First shared day.
        from: NaiveDate,
        /// Last shared day.
        to: NaiveDate,
    },
    /// Too many sends on one channel on one day.
    ChannelSaturation {
        /// The channel.
        channel: String,
        /// The day.
        date: NaiveDate,
        /// Sends that day.
        sends: u32,
        /// Allowed.
        max: u32,
        /// Entries sending that day.
        entries: Vec<String>,
    },
    /// An entry runs or sends in a blackout.
    Blackout {
        /// The entry.
        entry: String,
        /// First affected day.
        from: NaiveDate,
        /// Last affected day.
        to: NaiveDate,
        /// The blackout's reason.
        reason: String,
    },
}

impl Conflict {
    /// The calendar entries (ids) involved in this conflict.
    pub fn entries(&self) -> Vec<&str> {
        match self {
            Conflict::AudienceOverlap { first, second, .. } => vec![first, second],
            Conflict::ChannelSaturation { entries, .. } => {
                entries.iter().map(String::as_str).collect()
            }
            Conflict::Blackout { entry, .. } => vec![entry],
        }
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conflict::AudienceOverlap {
                audience,
                first,
                second,
                from,
                to,
            } => {
                write!(
                    f,
                    "{first} and {second} both reach {audience} between {from} and {to}"
                )
            }
            Conflict::ChannelSaturation {
                channel,
                date,
                sends,
                max,
                entries,
            } => write!(
                f,
                "{sends} {channel} sends on {date}, more than the {max} allowed ({})",
                entries.join(", ")
            ),
            Conflict::Blackout {
                entry,
                from,
                to,
                reason,
            } => {
                write!(
                    f,
                    "{entry} is scheduled in a blackout between {from} and {to}: {reason}"
                )
            }
        }
    }
}

/// Every conflict of the calendar under the rules, in a stable order.
pub fn conflicts(entries: &[CalendarEntry], rules: &CampaignRulesSpec) -> Vec<Conflict> {
    let mut out = Vec::new();
    let mut sorted: Vec<&CalendarEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    if !rules.allow_audience_overlap {
        for (i, a) in sorted.iter().enumerate() {
            // Entries are sorted by start: later ones starting after `a` ends cannot overlap it.
            for b in sorted.iter().skip(i + 1).take_while(|b| b.start <= a.end) {
                if let (Some(x), Some(y)) = (&a.audience, &b.audience)
                    && x == y
                    && a.window().overlaps(&b.window())
                {
                    out.push(Conflict::AudienceOverlap {
                        audience: x.clone(),
                        first: a.id.clone(),
                        second: b.id.clone(),
                        from: a.start.max(b.start),
                        to: a.end.min(b.end),
                    });
                }
            }
        }
    }
    let mut per_day: BTreeMap<(&str, NaiveDate), Vec<&str>> = BTreeMap::new();
    for e in &sorted {
        for d in &e.sends {
            per_day
                .entry((e.channel.as_str(), *d))
                .or_default()
                .push(&e.id);
        }
    }
    for ((channel, date), ids) in per_day {
        if let Some(max) = rules.max_sends_per_day.get(channel) {
            let sends = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            if sends > *max {
                out.push(Conflict::ChannelSaturation {
                    channel: channel.into(),
                    date,
                    sends,
                    max: *max,
                    entries: ids.into_iter().map(str::to_owned).collect(),
                });
            }
        }
    }
    for e in &sorted {
        for b in rules.blackouts.iter().filter(|b| b.applies_to(&e.channel)) {
            let range = DateRange {
                start: b.start,
                end: b.end,
            };
            // A send inside a blackout conflicts; so does an entry whose window overlaps it
            // when it has no send dates (a launch, a webinar).
            let hit = if e.sends.is_empty() {
                e.window()
                    .overlaps(&range)
                    .then(|| (e.start.max(b.start), e.end.min(b.end)))
            } else {
                let inside: Vec<NaiveDate> =
                    e.sends.iter().copied().filter(|d| b.contains(*d)).collect();
                inside.first().zip(inside.last()).map(|(a, z)| (*a, *z))
            };
            if let Some((from, to)) = hit {
                out.push(Conflict::Blackout {
                    entry: e.id.clone(),
                    from,
                    to,
                    reason: b.reason.clone(),
                });
            }
        }
    }
    out
}

/// Writes the calendar as an RFC 5545 iCalendar document with one all-day VEVENT per entry.
/// `stamp` is the DTSTAMP (when the feed was generated); `domain` makes UIDs globally unique.
pub fn to_icalendar(
    entries: &[CalendarEntry],
    name: &str,
    domain: &str,
    stamp: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let mut line = |s: &str| fold_into(&mut out, s);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Keel//Campaign calendar//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape_text(name)));
    let dtstamp = stamp.format("%Y%m%dT%H%M%SZ").to_string();
    for e in entries {
        line("BEGIN:VEVENT");
        line(&format!(
            "UID:{}",
            escape_text(&format!("{}@{domain}", e.id))
        ));
        line(&format!("DTSTAMP:{dtstamp}"));
        line(&format!("DTSTART;VALUE=DATE:{}", e.start.format("%Y%m%d")));
        // DTEND of an all-day event is exclusive.
        let end = e.end.checked_add_days(Days::new(1)).unwrap_or(e.end);
        line(&format!("DTEND;VALUE=DATE:{}", end.format("%Y%m%d")));
        line(&format!("SUMMARY:{}", escape_text(&e.title)));
        let mut description = format!("Channel: {}", e.channel);
        if let Some(a) = &e.audience {
            description.push_str(&format!("\nAudience: {a}"));
        }
        if !e.sends.is_empty() {
            let days: Vec<String> = e.sends.iter().map(ToString::to_string).collect();
            description.push_str(&format!("\nSends: {}", days.join(", ")));
        }
        line(&format!("DESCRIPTION:{}", escape_text(&description)));
        line(&format!("CATEGORIES:{}", escape_text(&e.channel)));
        if let Some(u) = &e.url {
            line(&format!("URL:{u}"));
        }
        line("TRANSP:TRANSPARENT");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// Escapes an iCalendar TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line folded at 75 octets (RFC 5545 §3.1) and terminated by CRLF.
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0usize;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn entry(
        id: &str,
        channel: &str,
        audience: Option<&str>,
        start: NaiveDate,
        end: NaiveDate,
        sends: Vec<NaiveDate>,
    ) -> CalendarEntry {
        CalendarEntry {
            id: id.into(),
            title: format!("{id} title"),
            channel: channel.into(),
            audience: audience.map(Into::into),
            start,
            end,
            sends,
            url: None,
        }
    }

    #[test]
    fn finds_every_kind_of_conflict() {
        let rules: CampaignRulesSpec = serde_saphyr::from_str(
            "max_sends_per_day: {email: 2}\nblackouts:\n  - {start: 2026-03-30, end: 2026-04-03, reason: Quarter close, channels: [email]}\n",
        )
        .unwrap();
        assert!(rules.validate().is_empty());
        let entries = vec![
            entry(
                "spring",
                "email",
                Some("emea-customers"),
                d(3, 2),
                d(3, 13),
                vec![d(3, 3), d(3, 10)],
            ),
            entry(
                "webinar",
                "webinar",
                Some("emea-customers"),
                d(3, 12),
                d(3, 20),
                vec![],
            ),
            entry(
                "nurture",
                "email",
                Some("prospects"),
                d(3, 1),
                d(3, 31),
                vec![d(3, 3), d(3, 31)],
            ),
            entry("promo", "email", None, d(3, 3), d(3, 3), vec![d(3, 3)]),
            entry(
                "ads",
                "paid_social",
                Some("prospects"),
                d(4, 1),
                d(4, 30),
                vec![],
            ),
        ];
        let found: Vec<String> = conflicts(&entries, &rules)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            vec![
                "spring and webinar both reach emea-customers between 2026-03-12 and 2026-03-13",
                "3 email sends on 2026-03-03, more than the 2 allowed (nurture, spring, promo)",
                "nurture is scheduled in a blackout between 2026-03-31 and 2026-03-31: Quarter close",
            ]
        );
    }

    #[test]
    fn icalendar_is_well_formed() {
        let mut e = entry(
            "req-42",
            "email",
            Some("emea-customers"),
            d(3, 2),
            d(3, 13),
            vec![d(3, 3)],
        );
        e.title = "Spring launch; EMEA, wave 1 — with a title long enough to need folding across lines ✓✓✓".into();
        let stamp: DateTime<Utc> = "2026-02-01T10:00:00Z".parse().unwrap();
        let ics = to_icalendar(&[e], "Marketing, EMEA", "keel.example.com", stamp);
        assert!(ics.starts_with(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Keel//Campaign calendar//EN\r\n"
        ));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.contains("X-WR-CALNAME:Marketing\\, EMEA\r\n"));
        assert!(ics.contains("UID:req-42@keel.example.com\r\n"));
        assert!(ics.contains("DTSTAMP:20260201T100000Z\r\n"));
        assert!(ics.contains("DTSTART;VALUE=DATE:20260302\r\nDTEND;VALUE=DATE:20260314\r\n"));
        assert!(ics.contains(
            "DESCRIPTION:Channel: email\\nAudience: emea-customers\\nSends: 2026-03-03\r\n"
        ));
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "line too long: {l:?}");
            assert!(!l.contains('\n') && !l.contains('\r'));
        }
        // Unfolding gives back the escaped summary.
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains("SUMMARY:Spring launch\\; EMEA\\, wave 1 — with a title long enough to need folding across lines ✓✓✓\r\n"));
    }

    #[test]
    fn folding_never_splits_a_character() {
        let mut out = String::new();
        fold_into(&mut out, &format!("SUMMARY:{}", "é".repeat(100)));
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75);
        }
        assert_eq!(
            out.replace("\r\n ", ""),
            format!("SUMMARY:{}\r\n", "é".repeat(100))
        );
    }
}

#[cfg(test)]
mod conflict_entries {
    use super::*;

    #[test]
    fn names_exactly_the_entries_involved() {
        let overlap = Conflict::AudienceOverlap {
            audience: "emea".into(),
            first: "request-1".into(),
            second: "request-13".into(),
            from: NaiveDate::from_ymd_opt(2027, 1, 4).unwrap_or_default(),
            to: NaiveDate::from_ymd_opt(2027, 1, 4).unwrap_or_default(),
        };
        assert_eq!(overlap.entries(), vec!["request-1", "request-13"]);
        assert!(!overlap.entries().contains(&"request-3"));
    }
}
