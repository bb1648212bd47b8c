//! Eligibility: may this contact receive this campaign, on this channel, in this region, now?
//!
//! The answer is yes or no with *every* reason against, each with a stable code, so a privacy
//! officer can see all that blocks a contact, not just the first rule that fired. The engine is a
//! pure function of consent state, preferences, suppression lists, jurisdiction rules, frequency
//! counts and the time. It works on a columnar [`Audience`] (one vector per fact, dictionaries for
//! jurisdictions and time zones) so a whole audience is checked at send time: everything that
//! depends only on a jurisdiction or a time zone is computed once per distinct value, and the
//! per-contact work is a handful of array reads and bit tests, spread over cores with rayon.
//! [`check_contact`] answers for one contact with the same code path.

use crate::error::Error;
use crate::ledger::ConsentState;
use crate::spec::{ConsentModel, JurisdictionSpec, PurposeCategory};
use chrono::{DateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A channel a campaign is sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail.
    Email,
    /// Text message.
    Sms,
    /// Mobile or web push.
    Push,
    /// Telephone.
    Phone,
    /// Postal mail.
    Post,
    /// Messaging apps (WhatsApp and the like).
    Messaging,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 6] = [
        Self::Email,
        Self::Sms,
        Self::Push,
        Self::Phone,
        Self::Post,
        Self::Messaging,
    ];

    /// The channel's bit in a [`ChannelSet`].
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of channels as a bit mask (bit `n` = the `n`th entry of [`Channel::ALL`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChannelSet(pub u8);

impl ChannelSet {
    /// Every channel.
    pub const ALL: ChannelSet = ChannelSet(0b11_1111);

    /// Whether `channel` is in the set.
    pub fn contains(self, channel: Channel) -> bool {
        self.0 & channel.bit() != 0
    }
}

impl FromIterator<Channel> for ChannelSet {
    fn from_iter<I: IntoIterator<Item = Channel>>(iter: I) -> Self {
        ChannelSet(iter.into_iter().fold(0, |acc, c| acc | c.bit()))
    }
}

/// A reason a contact may not receive a campaign. The snake_case codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The contact's jurisdiction is not among the campaign's regions.
    RegionNotAllowed,
    /// Opt-in applies and no grant is recorded.
    NoConsent,
    /// The contact declined the purpose.
    ConsentDenied,
    /// The contact withdrew consent for the purpose.
    ConsentWithdrawn,
    /// Global Privacy Control opts the contact out of this (sale/sharing) purpose here.
    GpcOptOut,
    /// The contact opted out of the campaign's topic.
    TopicOptedOut,
    /// The contact opted out of the channel.
    ChannelOptedOut,
    /// No address (e-mail, phone …) for the channel.
    NoAddressForChannel,
    /// On the global suppression list.
    SuppressedGlobal,
    /// On the channel's suppression list.
    SuppressedChannel,
    /// On the brand's suppression list.
    SuppressedBrand,
    /// The contact's own frequency preference (sends per week) is reached.
    PreferenceFrequencyCap,
    /// The organisation's frequency cap is reached.
    PolicyFrequencyCap,
    /// It is within quiet hours in the contact's time zone.
    QuietHours,
}

impl Reason {
    /// Every reason, in bit order.
    pub const ALL: [Reason; 14] = [
        Self::RegionNotAllowed,
        Self::NoConsent,
        Self::ConsentDenied,
        Self::ConsentWithdrawn,
        Self::GpcOptOut,
        Self::TopicOptedOut,
        Self::ChannelOptedOut,
        Self::NoAddressForChannel,
        Self::SuppressedGlobal,
        Self::SuppressedChannel,
        Self::SuppressedBrand,
        Self::PreferenceFrequencyCap,
        Self::PolicyFrequencyCap,
        Self::QuietHours,
    ];

    /// The reason's bit in a [`Reasons`] set.
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The stable code, e.g. `consent_withdrawn`.
    pub fn code(self) -> &'static str {
        match self {
            Self::RegionNotAllowed => "region_not_allowed",
            Self::NoConsent => "no_consent",
            Self::ConsentDenied => "consent_denied",
            Self::ConsentWithdrawn => "consent_withdrawn",
            Self::GpcOptOut => "gpc_opt_out",
            Self::TopicOptedOut => "topic_opted_out",
            Self::ChannelOptedOut => "channel_opted_out",
            Self::NoAddressForChannel => "no_address_for_channel",
            Self::SuppressedGlobal => "suppressed_global",
            Self::SuppressedChannel => "suppressed_channel",
            Self::SuppressedBrand => "suppressed_brand",
            Self::PreferenceFrequencyCap => "preference_frequency_cap",
            Self::PolicyFrequencyCap => "policy_frequency_cap",
            Self::QuietHours => "quiet_hours",
        }
    }
}

/// A set of reasons as a bit mask; empty means eligible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Reasons(pub u32);

impl Reasons {
    /// Whether no reason applies.
    pub fn is_eligible(self) -> bool {
        self.0 == 0
    }

    /// The reasons, in stable order.
    pub fn to_vec(self) -> Vec<Reason> {
        Reason::ALL
            .into_iter()
            .filter(|r| self.0 & r.bit() != 0)
            .collect()
    }
}

/// A daily window in local time during which nothing is sent; wraps midnight when `start > end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// First quiet minute (local time).
    pub start: NaiveTime,
    /// First minute that is no longer quiet (local time).
    pub end: NaiveTime,
    /// Channels it applies to (all when empty).
    #[serde(default)]
    pub channels: Vec<Channel>,
}

impl QuietHours {
    /// Whether `local` falls inside the window.
    pub fn contains(&self, local: NaiveTime) -> bool {
        if self.start <= self.end {
            local >= self.start && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }
}

/// The period a frequency cap counts sends over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapWindow {
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
}

/// An organisation-wide frequency cap on marketing sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrequencyCap {
    /// Sends allowed in the window.
    pub max_sends: u16,
    /// The window.
    pub window: CapWindow,
}

/// The rules in force, from ops-as-code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendPolicy {
    /// Jurisdictions by name. A contact in an unknown jurisdiction gets the strictest treatment
    /// (opt-in, GPC honoured).
    #[serde(default)]
    pub jurisdictions: BTreeMap<String, JurisdictionSpec>,
    /// Quiet hours, if any.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Organisation-wide frequency cap, if any.
    #[serde(default)]
    pub frequency_cap: Option<FrequencyCap>,
    /// Time zone assumed for contacts whose time zone is unknown (UTC when not set).
    #[serde(default)]
    pub default_time_zone: Option<Tz>,
}

/// What is being sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Category of the campaign's purpose. Transactional sends skip consent, GPC, topic and
    /// frequency rules (they rest on the contract) but still honour suppression and quiet hours.
    pub category: PurposeCategory,
    /// The channel.
    pub channel: Channel,
    /// Topic bit (0–63) the contact may have opted out of, if the campaign has a topic.
    #[serde(default)]
    pub topic: Option<u8>,
    /// Brand, for brand suppression lists.
    #[serde(default)]
    pub brand: Option<String>,
    /// Jurisdictions the campaign may go to (all when `None`).
    #[serde(default)]
    pub regions: Option<Vec<String>>,
}

/// Marker for an unknown jurisdiction or time zone in the audience columns.
pub const UNKNOWN: u16 = u16::MAX;

/// Consent codes in [`Audience::consent`].
pub mod consent_code {
    /// No event recorded for the purpose.
    pub const NONE: u8 = 0;
    /// Granted.
    pub const GRANTED: u8 = 1;
    /// Denied.
    pub const DENIED: u8 = 2;
    /// Withdrawn.
    pub const WITHDRAWN: u8 = 3;
}

/// Bits in [`Audience::flags`].
pub mod flag {
    /// The contact's browser sent Global Privacy Control.
    pub const GPC: u8 = 1;
    /// On the global suppression list.
    pub const SUPPRESSED_GLOBAL: u8 = 2;
}

/// An audience in columnar form: contact `i` is row `i` of every column. The consent column
/// holds the state for the campaign's purpose (the caller loads the audience per purpose).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// Jurisdiction names; [`Audience::jurisdiction`] indexes into it.
    pub jurisdictions: Vec<String>,
    /// Time zones; [`Audience::time_zone`] indexes into it.
    pub time_zones: Vec<Tz>,
    /// Per contact: jurisdiction index or [`UNKNOWN`].
    pub jurisdiction: Vec<u16>,
    /// Per contact: time-zone index or [`UNKNOWN`].
    pub time_zone: Vec<u16>,
    /// Per contact: a [`consent_code`].
    pub consent: Vec<u8>,
    /// Per contact: [`flag`] bits.
    pub flags: Vec<u8>,
    /// Per contact: topics opted out of (bit per topic).
    pub topics_opted_out: Vec<u64>,
    /// Per contact: channels opted out of ([`ChannelSet`] bits).
    pub channels_opted_out: Vec<u8>,
    /// Per contact: channels the contact has an address for.
    pub channels_reachable: Vec<u8>,
    /// Per contact: channels on whose suppression list the contact is.
    pub suppressed_channels: Vec<u8>,
    /// Brand suppression lists: brand → sorted contact row numbers.
    pub brand_suppressions: BTreeMap<String, Vec<u32>>,
    /// Per contact: own cap on sends per week (0 = none).
    pub max_sends_per_week: Vec<u16>,
    /// Per contact: sends in the last 7 days.
    pub sends_7d: Vec<u16>,
    /// Per contact: sends in the last 30 days.
    pub sends_30d: Vec<u16>,
}

impl Audience {
    /// Number of contacts.
    pub fn len(&self) -> usize {
        self.consent.len()
    }

    /// Whether the audience is empty.
    pub fn is_empty(&self) -> bool {
        self.consent.is_empty()
    }

    fn check_columns(&self) -> Result<(), Error> {
        let n = self.len();
        let columns = [
            ("jurisdiction", self.jurisdiction.len()),
            ("time_zone", self.time_zone.len()),
            ("flags", self.flags.len()),
            ("topics_opted_out", self.topics_opted_out.len()),
            ("channels_opted_out", self.channels_opted_out.len()),
            ("channels_reachable", self.channels_reachable.len()),
            ("suppressed_channels", self.suppressed_channels.len()),
            ("max_sends_per_week", self.max_sends_per_week.len()),
            ("sends_7d", self.sends_7d.len()),
            ("sends_30d", self.sends_30d.len()),
        ];
        for (name, len) in columns {
            if len != n {
                return Err(Error::Invalid {
                    what: format!("audience column {name}"),
                    reason: format!("has {len} rows, the consent column has {n}"),
                });
            }
        }
        Ok(())
    }
}

/// The result of checking an audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceOutcome {
    /// Per contact: the reasons against (empty = eligible).
    pub reasons: Vec<Reasons>,
    /// Number of eligible contacts.
    pub eligible: u64,
    /// How many contacts each reason applies to (a contact counts once per reason).
    pub by_reason: BTreeMap<Reason, u64>,
}

/// Per-jurisdiction facts, computed once per audience.
#[derive(Debug, Clone, Copy)]
struct JurisdictionFacts {
    opt_in: bool,
    gpc_opts_out: bool,
    region_allowed: bool,
}

/// Everything that does not depend on the contact.
struct Prepared {
    jurisdictions: Vec<JurisdictionFacts>,
    unknown_jurisdiction: JurisdictionFacts,
    quiet_by_zone: Vec<bool>,
    quiet_unknown_zone: bool,
    transactional: bool,
    topic_mask: u64,
    channel_bit: u8,
    brand_bits: Option<Vec<u64>>,
    policy_cap: Option<(u16, CapWindow)>,
}

fn prepare(
    audience: &Audience,
    campaign: &Campaign,
    policy: &SendPolicy,
    now: DateTime<Utc>,
) -> Prepared {
    let allowed = |name: Option<&str>| match (&campaign.regions, name) {
        (None, _) => true,
        (Some(regions), Some(name)) => regions.iter().any(|r| r == name),
        (Some(_), None) => false,
    };
    let facts = |name: Option<&str>| {
        let spec = name.and_then(|n| policy.jurisdictions.get(n));
        JurisdictionFacts {
            opt_in: spec.is_none_or(|s| s.model_for(campaign.category) == ConsentModel::OptIn),
            gpc_opts_out: spec.is_none_or(|s| s.gpc_opts_out(campaign.category))
                && campaign.category.is_sale_or_sharing(),
            region_allowed: allowed(name),
        }
    };
    let quiet_applies = policy
        .quiet_hours
        .as_ref()
        .filter(|q| q.channels.is_empty() || q.channels.contains(&campaign.channel));
    let is_quiet = |tz: Tz| {
        quiet_applies.is_some_and(|q| {
            let local = now.with_timezone(&tz).time();
            // Minute precision: seconds never matter for quiet hours.
            let local = local
                .with_second(0)
                .unwrap_or(local)
                .with_nanosecond(0)
                .unwrap_or(local);
            q.contains(local)
        })
    };
    let n = audience.len();
    let brand_bits = campaign
        .brand
        .as_ref()
        .and_then(|b| audience.brand_suppressions.get(b))
        .map(|rows| {
            let mut bits = vec![0u64; n.div_ceil(64)];
            for &row in rows {
                if let Some(word) = bits.get_mut(row as usize / 64) {
                    *word |= 1 << (row % 64);
                }
            }
            bits
        });
    Prepared {
        jurisdictions: audience
            .jurisdictions
            .iter()
            .map(|n| facts(Some(n)))
            .collect(),
        unknown_jurisdiction: facts(None),
        quiet_by_zone: audience.time_zones.iter().map(|tz| is_quiet(*tz)).collect(),
        quiet_unknown_zone: is_quiet(policy.default_time_zone.unwrap_or(Tz::UTC)),
        transactional: campaign.category == PurposeCategory::Transactional,
        topic_mask: campaign.topic.filter(|t| *t < 64).map_or(0, |t| 1u64 << t),
        channel_bit: campaign.channel.bit(),
        brand_bits,
        policy_cap: policy.frequency_cap.map(|c| (c.max_sends, c.window)),
    }
}

#[inline]
fn evaluate(a: &Audience, p: &Prepared, i: usize) -> u32 {
    let mut r = 0u32;
    let j = p
        .jurisdictions
        .get(usize::from(a.jurisdiction[i]))
        .unwrap_or(&p.unknown_jurisdiction);
    if !j.region_allowed {
        r |= Reason::RegionNotAllowed.bit();
    }
    let flags = a.flags[i];
    if !p.transactional {
        match a.consent[i] {
            consent_code::GRANTED => {}
            consent_code::DENIED => r |= Reason::ConsentDenied.bit(),
            consent_code::WITHDRAWN => r |= Reason::ConsentWithdrawn.bit(),
            _ => {
                if j.opt_in {
                    r |= Reason::NoConsent.bit();
                }
            }
        }
        if j.gpc_opts_out && flags & flag::GPC != 0 {
            r |= Reason::GpcOptOut.bit();
        }
        if a.topics_opted_out[i] & p.topic_mask != 0 {
            r |= Reason::TopicOptedOut.bit();
        }
        if a.channels_opted_out[i] & p.channel_bit != 0 {
            r |= Reason::ChannelOptedOut.bit();
        }
        let own_cap = a.max_sends_per_week[i];
        if own_cap > 0 && a.sends_7d[i] >= own_cap {
            r |= Reason::PreferenceFrequencyCap.bit();
        }
        if let Some((max, window)) = p.policy_cap {
            let sent = match window {
                CapWindow::Week => a.sends_7d[i],
                CapWindow::Month => a.sends_30d[i],
            };
            if sent >= max {
                r |= Reason::PolicyFrequencyCap.bit();
            }
        }
    }
    if a.channels_reachable[i] & p.channel_bit == 0 {
        r |= Reason::NoAddressForChannel.bit();
    }
    if flags & flag::SUPPRESSED_GLOBAL != 0 {
        r |= Reason::SuppressedGlobal.bit();
    }
    if a.suppressed_channels[i] & p.channel_bit != 0 {
        r |= Reason::SuppressedChannel.bit();
    }
    if let Some(bits) = &p.brand_bits
        && bits[i / 64] & (1 << (i % 64)) != 0
    {
        r |= Reason::SuppressedBrand.bit();
    }
    let quiet = p
        .quiet_by_zone
        .get(usize::from(a.time_zone[i]))
        .copied()
        .unwrap_or(p.quiet_unknown_zone);
    if quiet {
        r |= Reason::QuietHours.bit();
    }
    r
}

const CHUNK: usize = 64 * 1024;

/// Checks every contact of an audience against a campaign at `now`.
pub fn check_audience(
    audience: &Audience,
    campaign: &Campaign,
    policy: &SendPolicy,
    now: DateTime<Utc>,
) -> Result<AudienceOutcome, Error> {
    audience.check_columns()?;
    let prepared = prepare(audience, campaign, policy, now);
    let mut reasons = vec![Reasons::default(); audience.len()];
    let counts = reasons
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(chunk, out)| {
            let mut counts = [0u64; Reason::ALL.len() + 1];
            let base = chunk * CHUNK;
            for (k, slot) in out.iter_mut().enumerate() {
                let r = evaluate(audience, &prepared, base + k);
                *slot = Reasons(r);
                if r == 0 {
                    counts[Reason::ALL.len()] += 1;
                } else {
                    let mut bits = r;
                    while bits != 0 {
                        counts[bits.trailing_zeros() as usize] += 1;
                        bits &= bits - 1;
                    }
                }
            }
            counts
        })
        .reduce(
            || [0u64; Reason::ALL.len() + 1],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    let by_reason = Reason::ALL
        .iter()
        .zip(counts)
        .filter(|(_, c)| *c > 0)
        .map(|(r, c)| (*r, c))
        .collect();
    Ok(AudienceOutcome {
        reasons,
        eligible: counts[Reason::ALL.len()],
        by_reason,
    })
}

/// The facts about one contact, for [`check_contact`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactFacts {
    /// Jurisdiction name.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// IANA time zone.
    #[serde(default)]
    pub time_zone: Option<Tz>,
    /// Current consent state for the campaign's purpose (from the ledger).
    #[serde(default)]
    pub consent: Option<ConsentState>,
    /// Whether the contact's browser sent Global Privacy Control.
    #[serde(default)]
    pub gpc: bool,
    /// Topic bits opted out of.
    #[serde(default)]
    pub topics_opted_out: u64,
    /// Channels opted out of.
    #[serde(default)]
    pub channels_opted_out: ChannelSet,
    /// Channels the contact has an address for.
    #[serde(default)]
    pub channels_reachable: ChannelSet,
    /// On the global suppression list.
    #[serde(default)]
    pub suppressed_global: bool,
    /// Channels on whose suppression list the contact is.
    #[serde(default)]
    pub suppressed_channels: ChannelSet,
    /// Brands on whose suppression list the contact is.
    #[serde(default)]
    pub suppressed_brands: Vec<String>,
    /// Own cap on sends per week.
    #[serde(default)]
    pub max_sends_per_week: Option<u16>,
    /// Sends in the last 7 days.
    #[serde(default)]
    pub sends_7d: u16,
    /// Sends in the last 30 days.
    #[serde(default)]
    pub sends_30d: u16,
}

/// The answer for one contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the contact may receive the campaign now.
    pub eligible: bool,
    /// Every reason against, in stable order.
    pub reasons: Vec<Reason>,
}

/// Checks one contact; the same rules as [`check_audience`].
pub fn check_contact(
    contact: &ContactFacts,
    campaign: &Campaign,
    policy: &SendPolicy,
    now: DateTime<Utc>,
) -> Decision {
    let mut audience = Audience {
        jurisdictions: contact.jurisdiction.iter().cloned().collect(),
        time_zones: contact.time_zone.into_iter().collect(),
        jurisdiction: vec![if contact.jurisdiction.is_some() {
            0
        } else {
            UNKNOWN
        }],
        time_zone: vec![if contact.time_zone.is_some() {
            0
        } else {
            UNKNOWN
        }],
        consent: vec![match contact.consent {
            None => consent_code::NONE,
            Some(ConsentState::Granted) => consent_code::GRANTED,
            Some(ConsentState::Denied) => consent_code::DENIED,
            Some(ConsentState::Withdrawn) => consent_code::WITHDRAWN,
        }],
        flags: vec![
            (if contact.gpc { flag::GPC } else { 0 })
                | (if contact.suppressed_global {
                    flag::SUPPRESSED_GLOBAL
                } else {
                    0
                }),
        ],
        topics_opted_out: vec![contact.topics_opted_out],
        channels_opted_out: vec![contact.channels_opted_out.0],
        channels_reachable: vec![contact.channels_reachable.0],
        suppressed_channels: vec![contact.suppressed_channels.0],
        brand_suppressions: BTreeMap::new(),
        max_sends_per_week: vec![contact.max_sends_per_week.unwrap_or(0)],
        sends_7d: vec![contact.sends_7d],
        sends_30d: vec![contact.sends_30d],
    };
    for brand in &contact.suppressed_brands {
        audience.brand_suppressions.insert(brand.clone(), vec![0]);
    }
    let prepared = prepare(&audience, campaign, policy, now);
    let reasons = Reasons(evaluate(&audience, &prepared, 0));
    Decision {
        eligible: reasons.is_eligible(),
        reasons: reasons.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Regime;
    use Reason::*;

    fn policy() -> SendPolicy {
        let j = |regime, region: &str| JurisdictionSpec {
            title: region.into(),
            regime,
            regions: vec![region.into()],
            consent_model: None,
            honour_gpc: None,
        };
        SendPolicy {
            jurisdictions: [
                ("eu".to_string(), j(Regime::Gdpr, "DE")),
                ("california".to_string(), j(Regime::Ccpa, "US-CA")),
            ]
            .into_iter()
            .collect(),
            quiet_hours: Some(crate::eligibility::QuietHours {
                start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                channels: vec![Channel::Sms],
            }),
            frequency_cap: Some(FrequencyCap {
                max_sends: 10,
                window: CapWindow::Month,
            }),
            default_time_zone: None,
        }
    }

    fn campaign(category: PurposeCategory, channel: Channel) -> Campaign {
        Campaign {
            category,
            channel,
            topic: Some(3),
            brand: Some("acme".into()),
            regions: None,
        }
    }

    fn contact(jurisdiction: &str) -> ContactFacts {
        ContactFacts {
            jurisdiction: Some(jurisdiction.into()),
            time_zone: Some(chrono_tz::Europe::Berlin),
            consent: Some(ConsentState::Granted),
            channels_reachable: ChannelSet::ALL,
            ..ContactFacts::default()
        }
    }

    /// 12:00 UTC: 13:00 in Berlin, 04:00 in Los Angeles.
    fn noon() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn reason_table() {
        use PurposeCategory::*;
        type Edit = fn(&mut ContactFacts);
        /// (name, jurisdiction, category, channel, change to the default contact, expected reasons)
        type Case = (
            &'static str,
            &'static str,
            PurposeCategory,
            Channel,
            Edit,
            Vec<Reason>,
        );
        let cases: Vec<Case> = vec![
            (
                "granted EU contact",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |_| {},
                vec![],
            ),
            (
                "no record under GDPR",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| c.consent = None,
                vec![NoConsent],
            ),
            (
                "no record under CCPA is fine",
                "california",
                MarketingCommunications,
                Channel::Email,
                |c| c.consent = None,
                vec![],
            ),
            (
                "unknown jurisdiction is strict",
                "atlantis",
                MarketingCommunications,
                Channel::Email,
                |c| c.consent = None,
                vec![NoConsent],
            ),
            (
                "withdrawn",
                "california",
                MarketingCommunications,
                Channel::Email,
                |c| c.consent = Some(ConsentState::Withdrawn),
                vec![ConsentWithdrawn],
            ),
            (
                "denied",
                "eu",
                Profiling,
                Channel::Email,
                |c| c.consent = Some(ConsentState::Denied),
                vec![ConsentDenied],
            ),
            (
                "GPC in California blocks sharing",
                "california",
                SaleOrSharing,
                Channel::Email,
                |c| {
                    c.gpc = true;
                    c.consent = None
                },
                vec![GpcOptOut],
            ),
            (
                "GPC does not block newsletters",
                "california",
                MarketingCommunications,
                Channel::Email,
                |c| c.gpc = true,
                vec![],
            ),
            (
                "topic opt-out",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| c.topics_opted_out = 1 << 3,
                vec![TopicOptedOut],
            ),
            (
                "other topic opt-out is irrelevant",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| c.topics_opted_out = 1 << 4,
                vec![],
            ),
            (
                "channel opt-out",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| c.channels_opted_out = [Channel::Email].into_iter().collect(),
                vec![ChannelOptedOut],
            ),
            (
                "no phone number",
                "eu",
                MarketingCommunications,
                Channel::Sms,
                |c| c.channels_reachable = [Channel::Email].into_iter().collect(),
                vec![NoAddressForChannel],
            ),
            (
                "global suppression",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| c.suppressed_global = true,
                vec![SuppressedGlobal],
            ),
            (
                "channel suppression",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| c.suppressed_channels = [Channel::Email].into_iter().collect(),
                vec![SuppressedChannel],
            ),
            (
                "brand suppression",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| c.suppressed_brands = vec!["acme".into()],
                vec![SuppressedBrand],
            ),
            (
                "other brand",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| c.suppressed_brands = vec!["globex".into()],
                vec![],
            ),
            (
                "own weekly cap",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| {
                    c.max_sends_per_week = Some(2);
                    c.sends_7d = 2
                },
                vec![PreferenceFrequencyCap],
            ),
            (
                "policy monthly cap",
                "eu",
                MarketingCommunications,
                Channel::Email,
                |c| c.sends_30d = 10,
                vec![PolicyFrequencyCap],
            ),
            (
                "quiet hours in Los Angeles for SMS",
                "california",
                MarketingCommunications,
                Channel::Sms,
                |c| c.time_zone = Some(chrono_tz::America::Los_Angeles),
                vec![Reason::QuietHours],
            ),
            (
                "quiet hours do not apply to e-mail",
                "california",
                MarketingCommunications,
                Channel::Email,
                |c| c.time_zone = Some(chrono_tz::America::Los_Angeles),
                vec![],
            ),
            (
                "unknown time zone falls back to UTC (12:00, not quiet)",
                "eu",
                MarketingCommunications,
                Channel::Sms,
                |c| c.time_zone = None,
                vec![],
            ),
            (
                "transactional ignores consent, topics and caps",
                "eu",
                Transactional,
                Channel::Email,
                |c| {
                    c.consent = Some(ConsentState::Withdrawn);
                    c.topics_opted_out = u64::MAX;
                    c.sends_30d = 99
                },
                vec![],
            ),
            (
                "transactional still honours suppression",
                "eu",
                Transactional,
                Channel::Email,
                |c| c.suppressed_global = true,
                vec![SuppressedGlobal],
            ),
            (
                "every reason is reported",
                "eu",
                MarketingCommunications,
                Channel::Sms,
                |c| {
                    c.consent = Some(ConsentState::Withdrawn);
                    c.topics_opted_out = 1 << 3;
                    c.suppressed_global = true;
                    c.time_zone = Some(chrono_tz::Asia::Tokyo);
                },
                vec![
                    ConsentWithdrawn,
                    TopicOptedOut,
                    SuppressedGlobal,
                    Reason::QuietHours,
                ],
            ),
        ];
        for (name, jurisdiction, category, channel, edit, expected) in cases {
            let mut c = contact(jurisdiction);
            edit(&mut c);
            let decision = check_contact(&c, &campaign(category, channel), &policy(), noon());
            assert_eq!(decision.reasons, expected, "{name}");
            assert_eq!(decision.eligible, expected.is_empty(), "{name}");
        }
    }

    #[test]
    fn region_restriction() {
        let mut camp = campaign(PurposeCategory::MarketingCommunications, Channel::Email);
        camp.regions = Some(vec!["california".into()]);
        let d = check_contact(&contact("eu"), &camp, &policy(), noon());
        assert_eq!(d.reasons, vec![RegionNotAllowed]);
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let q = crate::eligibility::QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            channels: vec![],
        };
        assert!(q.contains(NaiveTime::from_hms_opt(23, 30, 0).unwrap()));
        assert!(q.contains(NaiveTime::from_hms_opt(7, 59, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(8, 0, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(12, 0, 0).unwrap()));
    }

    #[test]
    fn audience_matches_single_checks_and_counts() {
        let contacts: Vec<ContactFacts> = (0..300u32)
            .map(|i| {
                let mut c = contact(["eu", "california", "atlantis"][i as usize % 3]);
                c.consent = [
                    None,
                    Some(ConsentState::Granted),
                    Some(ConsentState::Withdrawn),
                ][(i as usize / 3) % 3];
                c.gpc = i % 7 == 0;
                c.suppressed_global = i % 11 == 0;
                c.time_zone = [
                    Some(chrono_tz::Europe::Berlin),
                    Some(chrono_tz::Asia::Tokyo),
                    None,
                ][(i as usize / 9) % 3];
                c.suppressed_brands = if i % 13 == 0 {
                    vec!["acme".into()]
                } else {
                    vec![]
                };
                c
            })
            .collect();
        let names = ["eu", "california", "atlantis"];
        let zones = [chrono_tz::Europe::Berlin, chrono_tz::Asia::Tokyo];
        let audience = Audience {
            jurisdictions: names.iter().map(|s| s.to_string()).collect(),
            time_zones: zones.to_vec(),
            jurisdiction: contacts
                .iter()
                .map(|c| {
                    names
                        .iter()
                        .position(|n| Some(*n) == c.jurisdiction.as_deref())
                        .unwrap() as u16
                })
                .collect(),
            time_zone: contacts
                .iter()
                .map(|c| {
                    c.time_zone.map_or(UNKNOWN, |tz| {
                        zones.iter().position(|z| *z == tz).unwrap() as u16
                    })
                })
                .collect(),
            consent: contacts
                .iter()
                .map(|c| match c.consent {
                    None => 0,
                    Some(ConsentState::Granted) => 1,
                    Some(ConsentState::Denied) => 2,
                    Some(ConsentState::Withdrawn) => 3,
                })
                .collect(),
            flags: contacts
                .iter()
                .map(|c| u8::from(c.gpc) | (u8::from(c.suppressed_global) << 1))
                .collect(),
            topics_opted_out: vec![0; 300],
            channels_opted_out: vec![0; 300],
            channels_reachable: vec![ChannelSet::ALL.0; 300],
            suppressed_channels: vec![0; 300],
            brand_suppressions: [(
                "acme".to_string(),
                (0..300).filter(|i| i % 13 == 0).collect(),
            )]
            .into_iter()
            .collect(),
            max_sends_per_week: vec![0; 300],
            sends_7d: vec![0; 300],
            sends_30d: vec![0; 300],
        };
        let camp = campaign(PurposeCategory::SaleOrSharing, Channel::Sms);
        let outcome = check_audience(&audience, &camp, &policy(), noon()).unwrap();
        let mut eligible = 0;
        for (i, c) in contacts.iter().enumerate() {
            let single = check_contact(c, &camp, &policy(), noon());
            assert_eq!(outcome.reasons[i].to_vec(), single.reasons, "contact {i}");
            eligible += u64::from(single.eligible);
        }
        assert_eq!(outcome.eligible, eligible);
        assert_eq!(outcome.by_reason[&SuppressedBrand], 24);
    }

    #[test]
    fn mismatched_columns_are_an_error() {
        let audience = Audience {
            consent: vec![0; 3],
            ..Audience::default()
        };
        let camp = campaign(PurposeCategory::MarketingCommunications, Channel::Email);
        let err = check_audience(&audience, &camp, &policy(), noon()).unwrap_err();
        assert!(err.to_string().contains("jurisdiction"));
    }
}
