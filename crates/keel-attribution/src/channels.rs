//! Channel grouping: turn a touch's source, medium, campaign, referrer and click ids into a
//! channel by ordered rules — the first rule that matches wins, otherwise the default channel.
//!
//! Rules are data (`kind: ChannelRules` in ops-as-code), validated with every problem reported
//! at its dotted path, then compiled (regexes built once). [`ChannelRules::ga4_default`] is
//! modelled on the published GA4 default channel grouping, with Keel's own site lists.
//! All comparisons are case-insensitive: inputs and literals are lower-cased.

use crate::{Error, Problem};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The fields of a touch that rules can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// utm_source (or derived from click id / referrer; `(direct)` when nothing is known).
    Source,
    /// utm_medium (or derived; `(none)` for direct).
    Medium,
    /// utm_campaign.
    Campaign,
    /// Host name of the referrer, without `www.`.
    Referrer,
    /// Names of click-id parameters present on the landing URL (gclid, fbclid, msclkid, …).
    ClickId,
}

/// A test on a touch: either a group (`all` / `any`) or one field with one operator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Every condition must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<Condition>,
    /// At least one condition must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<Condition>,
    /// The field tested by a leaf condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    /// Field equals this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// Field equals one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<String>>,
    /// Field contains this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// Field ends with this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<String>,
    /// Field matches this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Field is a site of the named list in `spec.lists` (exact host or any subdomain of it;
    /// bare names such as `google` also match `google.co.uk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_list: Option<String>,
    /// Field is present (true) or absent (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    /// Invert the result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not: bool,
}

/// One rule: the channel assigned when its condition holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRule {
    /// Channel name.
    pub channel: String,
    /// The condition (a group or a leaf).
    #[serde(flatten)]
    pub when: Condition,
}

/// The `spec` of a `kind: ChannelRules` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRulesSpec {
    /// Rules, tried in order.
    pub rules: Vec<ChannelRule>,
    /// Named site lists used by `in_list` (search, social, video, shopping, …).
    #[serde(default)]
    pub lists: BTreeMap<String, Vec<String>>,
    /// Channel when no rule matches.
    #[serde(default = "unassigned")]
    pub default_channel: String,
    /// Track events that end a journey as a conversion, each with an optional property that
    /// holds its value (`{event: Closed Won, value_property: amount}`). Empty: the server's
    /// defaults (`Form Submitted`, `Order Completed`, plus won CRM opportunities).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversions: Vec<crate::events::ConversionEvent>,
}

fn unassigned() -> String {
    "Unassigned".into()
}

/// Metadata of an ops-as-code document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Document name.
    pub name: String,
    /// Anything else (labels, description).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A whole `kind: ChannelRules` ops-as-code document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChannelRulesDocument {
    /// `keel/v1`.
    pub api_version: String,
    /// `ChannelRules`.
    pub kind: String,
    /// Name and labels.
    pub metadata: Metadata,
    /// The rules.
    pub spec: ChannelRulesSpec,
}

/// What is known about a touch, as rules see it. Build it with [`TouchSource::resolve`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TouchSource {
    /// Source (lower case).
    pub source: Option<String>,
    /// Medium (lower case).
    pub medium: Option<String>,
    /// Campaign (as given; rules compare lower-cased).
    pub campaign: Option<String>,
    /// Referrer host (lower case, no `www.`).
    pub referrer: Option<String>,
    /// Click-id parameter names present (lower case).
    pub click_ids: Vec<String>,
}

/// Click ids and the source/medium they imply when UTM parameters are absent.
const CLICK_IDS: &[(&str, &str, &str)] = &[
    ("gclid", "google", "cpc"),
    ("gbraid", "google", "cpc"),
    ("wbraid", "google", "cpc"),
    ("dclid", "google", "cpm"),
    ("msclkid", "bing", "cpc"),
    ("ttclid", "tiktok", "cpc"),
    ("li_fat_id", "linkedin", "cpc"),
    ("twclid", "twitter", "cpc"),
    ("epik", "pinterest", "cpc"),
    ("scclid", "snapchat", "cpc"),
    // fbclid is added to organic Facebook links too, so it implies only the source.
    ("fbclid", "facebook", "referral"),
];

/// Whether a name is a click-id parameter Keel recognises.
pub fn is_click_id(name: &str) -> bool {
    CLICK_IDS
        .iter()
        .any(|(c, _, _)| c.eq_ignore_ascii_case(name))
}

/// Host of a URL, lower case, without `www.`.
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    let host = host.split(':').next()?.trim().to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    (!host.is_empty()).then_some(host)
}

impl TouchSource {
    /// Resolves what rules see from raw touch data, the way analytics tools do: UTM parameters
    /// win; else a click id implies source and medium; else an external referrer gives
    /// source = its host and medium `organic` (a site of the rules' `search` list) or `referral`;
    /// else the touch is direct: `(direct)` / `(none)`. Referrers from `own_domains` are ignored.
    pub fn resolve(
        utm_source: Option<&str>,
        utm_medium: Option<&str>,
        utm_campaign: Option<&str>,
        referrer_url: Option<&str>,
        click_ids: &[String],
        own_domains: &[String],
        rules: &ChannelRules,
    ) -> TouchSource {
        let clean = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase)
        };
        let referrer = referrer_url.and_then(host_of).filter(|h| {
            !own_domains.iter().any(|d| {
                let d = d.trim().to_ascii_lowercase();
                let d = d.strip_prefix("www.").unwrap_or(&d);
                h == d || h.ends_with(&format!(".{d}"))
            })
        });
        let click_ids: Vec<String> = click_ids.iter().map(|c| c.to_ascii_lowercase()).collect();
        let mut source = clean(utm_source);
        let mut medium = clean(utm_medium);
        if source.is_none()
            && let Some((_, s, m)) = CLICK_IDS
                .iter()
                .find(|(c, _, _)| click_ids.iter().any(|x| x == c))
        {
            source = Some((*s).into());
            medium = medium.or(Some((*m).into()));
        }
        if source.is_none()
            && let Some(host) = &referrer
        {
            source = Some(host.clone());
            let search = rules
                .lists
                .get("search")
                .is_some_and(|l| list_contains(l, host));
            medium = medium.or(Some(if search { "organic" } else { "referral" }.into()));
        }
        if source.is_none() && medium.is_none() {
            source = Some("(direct)".into());
            medium = Some("(none)".into());
        }
        TouchSource {
            source,
            medium,
            campaign: utm_campaign
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            referrer,
            click_ids,
        }
    }

    /// Whether this touch is direct (no source information at all).
    pub fn is_direct(&self) -> bool {
        self.source.as_deref() == Some("(direct)")
    }
}

fn list_contains(list: &[String], value: &str) -> bool {
    list.iter().any(|site| {
        if value == site {
            return true;
        }
        if site.contains('.') {
            value.ends_with(&format!(".{site}"))
        } else {
            // A bare name matches the name itself, any TLD and any subdomain: `google` matches
            // google.com, google.co.uk and news.google.de.
            value.split('.').any(|label| label == site)
        }
    })
}

#[derive(Debug, Clone)]
enum Op {
    Equals(String),
    OneOf(Vec<String>),
    Contains(String),
    EndsWith(String),
    Regex(Regex),
    InList(Vec<String>),
    Present(bool),
}

#[derive(Debug, Clone)]
enum Compiled {
    All(Vec<Compiled>, bool),
    Any(Vec<Compiled>, bool),
    Leaf(Field, Op, bool),
}

/// Compiled, validated channel rules, ready to classify touches.
#[derive(Debug, Clone)]
pub struct ChannelRules {
    rules: Vec<(String, Compiled)>,
    lists: BTreeMap<String, Vec<String>>,
    default_channel: String,
    spec: ChannelRulesSpec,
}

impl ChannelRulesSpec {
    /// Every problem in the spec, each at its dotted path (`spec.rules[2].any[0].regex`).
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.rules.is_empty() {
            problems.push(Problem {
                path: "spec.rules".into(),
                message: "at least one rule is needed".into(),
            });
        }
        if self.default_channel.trim().is_empty() {
            problems.push(Problem {
                path: "spec.default_channel".into(),
                message: "must not be empty".into(),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in self.conversions.iter().enumerate() {
            if c.event.trim().is_empty() {
                problems.push(Problem {
                    path: format!("spec.conversions[{i}].event"),
                    message: "must not be empty".into(),
                });
            } else if !seen.insert(c.event.trim().to_lowercase()) {
                problems.push(Problem {
                    path: format!("spec.conversions[{i}].event"),
                    message: format!("`{}` is listed twice", c.event),
                });
            }
            if c.value_property
                .as_deref()
                .is_some_and(|p| p.trim().is_empty())
            {
                problems.push(Problem {
                    path: format!("spec.conversions[{i}].value_property"),
                    message: "must not be empty when given".into(),
                });
            }
        }
        for (name, sites) in &self.lists {
            for (i, s) in sites.iter().enumerate() {
                if s.trim().is_empty() || s.contains(['/', ' ']) {
                    problems.push(Problem {
                        path: format!("spec.lists.{name}[{i}]"),
                        message: format!("`{s}` is not a host name"),
                    });
                }
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let path = format!("spec.rules[{i}]");
            if rule.channel.trim().is_empty() {
                problems.push(Problem {
                    path: format!("{path}.channel"),
                    message: "must not be empty".into(),
                });
            }
            if let Err(mut p) = compile(&rule.when, &path, &self.lists) {
                problems.append(&mut p);
            }
        }
        problems
    }
}

fn compile(
    c: &Condition,
    path: &str,
    lists: &BTreeMap<String, Vec<String>>,
) -> Result<Compiled, Vec<Problem>> {
    let mut problems = Vec::new();
    let problem = |p: &mut Vec<Problem>, at: &str, m: String| {
        p.push(Problem {
            path: at.to_owned(),
            message: m,
        })
    };
    let ops = [
        c.equals.is_some(),
        c.one_of.is_some(),
        c.contains.is_some(),
        c.ends_with.is_some(),
        c.regex.is_some(),
        c.in_list.is_some(),
        c.present.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    let groups = usize::from(!c.all.is_empty()) + usize::from(!c.any.is_empty());
    if groups > 0 {
        if ops > 0 || c.field.is_some() {
            problem(
                &mut problems,
                path,
                "a condition is either a group (all/any) or a field test, not both".into(),
            );
            return Err(problems);
        }
        if groups > 1 {
            problem(
                &mut problems,
                path,
                "use either `all` or `any`; nest groups for both".into(),
            );
            return Err(problems);
        }
        let (items, key) = if c.all.is_empty() {
            (&c.any, "any")
        } else {
            (&c.all, "all")
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match compile(item, &format!("{path}.{key}[{i}]"), lists) {
                Ok(x) => out.push(x),
                Err(mut p) => problems.append(&mut p),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        return Ok(if key == "all" {
            Compiled::All(out, c.not)
        } else {
            Compiled::Any(out, c.not)
        });
    }
    let Some(field) = c.field else {
        problem(
            &mut problems,
            &format!("{path}.field"),
            "missing: one of source, medium, campaign, referrer, click_id (or use all/any)".into(),
        );
        return Err(problems);
    };
    if ops != 1 {
        problem(
            &mut problems,
            path,
            format!(
                "give exactly one of equals, one_of, contains, ends_with, regex, in_list, present (found {ops})"
            ),
        );
        return Err(problems);
    }
    let lower = |s: &String| s.trim().to_ascii_lowercase();
    let op = if let Some(v) = &c.equals {
        Op::Equals(lower(v))
    } else if let Some(v) = &c.one_of {
        Op::OneOf(v.iter().map(lower).collect())
    } else if let Some(v) = &c.contains {
        Op::Contains(lower(v))
    } else if let Some(v) = &c.ends_with {
        Op::EndsWith(lower(v))
    } else if let Some(v) = &c.regex {
        match regex::RegexBuilder::new(v).case_insensitive(true).build() {
            Ok(r) => Op::Regex(r),
            Err(e) => {
                problem(
                    &mut problems,
                    &format!("{path}.regex"),
                    format!("invalid regular expression: {e}"),
                );
                return Err(problems);
            }
        }
    } else if let Some(v) = &c.in_list {
        match lists.get(v) {
            Some(l) => Op::InList(l.iter().map(lower).collect()),
            None => {
                problem(
                    &mut problems,
                    &format!("{path}.in_list"),
                    format!(
                        "no list `{v}` in spec.lists (known: {})",
                        lists.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
                return Err(problems);
            }
        }
    } else if let Some(v) = c.present {
        Op::Present(v)
    } else {
        return Err(problems);
    };
    Ok(Compiled::Leaf(field, op, c.not))
}

fn test(c: &Compiled, t: &TouchSource) -> bool {
    match c {
        Compiled::All(items, not) => items.iter().all(|i| test(i, t)) != *not,
        Compiled::Any(items, not) => items.iter().any(|i| test(i, t)) != *not,
        Compiled::Leaf(field, op, not) => {
            let hit = if *field == Field::ClickId {
                match op {
                    Op::Present(p) => t.click_ids.is_empty() != *p,
                    _ => t.click_ids.iter().any(|v| leaf(op, Some(v))),
                }
            } else {
                let value = match field {
                    Field::Source => t.source.clone(),
                    Field::Medium => t.medium.clone(),
                    Field::Campaign => t.campaign.as_ref().map(|c| c.to_ascii_lowercase()),
                    Field::Referrer => t.referrer.clone(),
                    Field::ClickId => None,
                };
                leaf(op, value.as_deref())
            };
            hit != *not
        }
    }
}

fn leaf(op: &Op, value: Option<&str>) -> bool {
    match (op, value) {
        (Op::Present(p), v) => v.is_some() == *p,
        (_, None) => false,
        (Op::Equals(x), Some(v)) => v == x,
        (Op::OneOf(xs), Some(v)) => xs.iter().any(|x| x == v),
        (Op::Contains(x), Some(v)) => v.contains(x.as_str()),
        (Op::EndsWith(x), Some(v)) => v.ends_with(x.as_str()),
        (Op::Regex(r), Some(v)) => r.is_match(v),
        (Op::InList(l), Some(v)) => list_contains(l, v),
    }
}

impl ChannelRulesDocument {
    /// Every problem in the document: header fields and the spec.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.api_version != "keel/v1" {
            problems.push(Problem {
                path: "apiVersion".into(),
                message: format!("expected `keel/v1`, got `{}`", self.api_version),
            });
        }
        if self.kind != "ChannelRules" {
            problems.push(Problem {
                path: "kind".into(),
                message: format!("expected `ChannelRules`, got `{}`", self.kind),
            });
        }
        if self.metadata.name.trim().is_empty() {
            problems.push(Problem {
                path: "metadata.name".into(),
                message: "must not be empty".into(),
            });
        }
        problems.extend(self.spec.validate());
        problems
    }
}

impl ChannelRules {
    /// Validates and compiles a spec; every problem is returned at once.
    pub fn compile(spec: &ChannelRulesSpec) -> Result<ChannelRules, Error> {
        let problems = spec.validate();
        if !problems.is_empty() {
            return Err(Error::Rules(problems));
        }
        let mut rules = Vec::with_capacity(spec.rules.len());
        for (i, rule) in spec.rules.iter().enumerate() {
            let compiled = compile(&rule.when, &format!("spec.rules[{i}]"), &spec.lists)
                .map_err(Error::Rules)?;
            rules.push((rule.channel.clone(), compiled));
        }
        Ok(ChannelRules {
            rules,
            lists: spec
                .lists
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.iter().map(|s| s.to_ascii_lowercase()).collect(),
                    )
                })
                .collect(),
            default_channel: spec.default_channel.clone(),
            spec: spec.clone(),
        })
    }

    /// The channel of a touch: the first matching rule, else the default channel.
    pub fn classify(&self, touch: &TouchSource) -> &str {
        self.rules
            .iter()
            .find(|(_, c)| test(c, touch))
            .map_or(self.default_channel.as_str(), |(name, _)| name.as_str())
    }

    /// The spec these rules were compiled from (for export as ops-as-code).
    pub fn spec(&self) -> &ChannelRulesSpec {
        &self.spec
    }

    /// The default rules, modelled on GA4's default channel grouping.
    pub fn ga4_default() -> ChannelRules {
        let spec = ga4_spec();
        match ChannelRules::compile(&spec) {
            Ok(r) => r,
            // The built-in spec is covered by tests; an empty rule set is the safe fallback.
            Err(_) => ChannelRules {
                rules: Vec::new(),
                lists: BTreeMap::new(),
                default_channel: unassigned(),
                spec,
            },
        }
    }
}

fn leaf_cond(field: Field) -> Condition {
    Condition {
        field: Some(field),
        ..Condition::default()
    }
}
fn equals(field: Field, v: &str) -> Condition {
    Condition {
        equals: Some(v.into()),
        ..leaf_cond(field)
    }
}
fn one_of(field: Field, v: &[&str]) -> Condition {
    Condition {
        one_of: Some(v.iter().map(|s| (*s).into()).collect()),
        ..leaf_cond(field)
    }
}
fn regex(field: Field, v: &str) -> Condition {
    Condition {
        regex: Some(v.into()),
        ..leaf_cond(field)
    }
}
fn in_list(field: Field, v: &str) -> Condition {
    Condition {
        in_list: Some(v.into()),
        ..leaf_cond(field)
    }
}
fn all(items: Vec<Condition>) -> Condition {
    Condition {
        all: items,
        ..Condition::default()
    }
}
fn any(items: Vec<Condition>) -> Condition {
    Condition {
        any: items,
        ..Condition::default()
    }
}
fn rule(channel: &str, when: Condition) -> ChannelRule {
    ChannelRule {
        channel: channel.into(),
        when,
    }
}

const PAID_MEDIUM: &str = r"^(.*cp.*|ppc|retargeting|paid.*)$";
const SHOPPING_CAMPAIGN: &str = r"^(.*(([^a-df-z]|^)shop|shopping).*)$";

fn sites(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The GA4-style default spec: rule order and medium patterns follow GA4's published default
/// channel group; the site lists are Keel's own.
pub fn ga4_spec() -> ChannelRulesSpec {
    use Field::*;
    let mut lists = BTreeMap::new();
    lists.insert(
        "search".to_owned(),
        sites(&[
            "google",
            "bing",
            "yahoo",
            "duckduckgo",
            "baidu",
            "yandex",
            "ecosia",
            "ask.com",
            "aol",
            "naver",
            "seznam",
            "qwant",
            "startpage",
            "brave",
            "search.brave.com",
            "sogou",
            "so.com",
            "daum",
            "yahoo.co.jp",
            "msn.com",
            "search.yahoo.com",
            "perplexity.ai",
            "kagi.com",
        ]),
    );
    lists.insert(
        "social".to_owned(),
        sites(&[
            "facebook",
            "fb",
            "instagram",
            "ig",
            "linkedin",
            "lnkd.in",
            "twitter",
            "t.co",
            "x.com",
            "tiktok",
            "pinterest",
            "reddit",
            "snapchat",
            "quora",
            "tumblr",
            "threads.net",
            "bsky.app",
            "mastodon.social",
            "weibo",
            "vk.com",
            "xing",
            "discord",
            "whatsapp",
            "telegram",
            "t.me",
            "line.me",
            "meta",
            "messenger",
            "m.facebook.com",
            "l.facebook.com",
            "lm.facebook.com",
            "nextdoor",
            "medium.com",
        ]),
    );
    lists.insert(
        "video".to_owned(),
        sites(&[
            "youtube",
            "youtu.be",
            "vimeo",
            "twitch",
            "dailymotion",
            "wistia",
            "tv.apple.com",
            "netflix",
            "hulu",
            "rumble.com",
        ]),
    );
    lists.insert(
        "shopping".to_owned(),
        sites(&[
            "shopping.google.com",
            "amazon",
            "ebay",
            "etsy",
            "walmart",
            "shopify",
            "shop.app",
            "aliexpress",
            "alibaba",
            "rakuten",
            "zalando",
            "mercadolibre",
            "target.com",
            "bestbuy",
            "idealo",
            "pricerunner",
            "kelkoo",
            "shopzilla",
            "bol.com",
        ]),
    );
    let paid = || regex(Medium, PAID_MEDIUM);
    ChannelRulesSpec {
        rules: vec![
            rule(
                "Direct",
                all(vec![
                    equals(Source, "(direct)"),
                    one_of(Medium, &["(not set)", "(none)"]),
                ]),
            ),
            rule(
                "Cross-network",
                Condition {
                    contains: Some("cross-network".into()),
                    ..leaf_cond(Campaign)
                },
            ),
            rule(
                "Paid Shopping",
                all(vec![
                    any(vec![
                        in_list(Source, "shopping"),
                        regex(Campaign, SHOPPING_CAMPAIGN),
                    ]),
                    paid(),
                ]),
            ),
            rule(
                "Paid Search",
                any(vec![
                    all(vec![in_list(Source, "search"), paid()]),
                    one_of(ClickId, &["gclid", "gbraid", "wbraid", "msclkid"]),
                ]),
            ),
            rule("Paid Social", all(vec![in_list(Source, "social"), paid()])),
            rule("Paid Video", all(vec![in_list(Source, "video"), paid()])),
            rule(
                "Display",
                one_of(
                    Medium,
                    &["display", "banner", "expandable", "interstitial", "cpm"],
                ),
            ),
            rule("Paid Other", paid()),
            rule(
                "Organic Shopping",
                any(vec![
                    in_list(Source, "shopping"),
                    regex(Campaign, SHOPPING_CAMPAIGN),
                ]),
            ),
            rule(
                "Organic Social",
                any(vec![
                    in_list(Source, "social"),
                    one_of(
                        Medium,
                        &[
                            "social",
                            "social-network",
                            "social-media",
                            "sm",
                            "social network",
                            "social media",
                        ],
                    ),
                ]),
            ),
            rule(
                "Organic Video",
                any(vec![
                    in_list(Source, "video"),
                    regex(Medium, r"^(.*video.*)$"),
                ]),
            ),
            rule(
                "Organic Search",
                any(vec![in_list(Source, "search"), equals(Medium, "organic")]),
            ),
            rule("Referral", one_of(Medium, &["referral", "app", "link"])),
            rule(
                "Email",
                any(vec![
                    regex(Source, r"^(email|e-mail|e_mail|e mail|newsletter)$"),
                    regex(Medium, r"^(email|e-mail|e_mail|e mail)$"),
                ]),
            ),
            rule("Affiliates", equals(Medium, "affiliate")),
            rule("Audio", one_of(Medium, &["audio", "podcast"])),
            rule(
                "SMS",
                any(vec![equals(Source, "sms"), equals(Medium, "sms")]),
            ),
            rule(
                "Mobile Push Notifications",
                any(vec![
                    Condition {
                        ends_with: Some("push".into()),
                        ..leaf_cond(Medium)
                    },
                    Condition {
                        contains: Some("mobile".into()),
                        ..leaf_cond(Medium)
                    },
                    Condition {
                        contains: Some("notification".into()),
                        ..leaf_cond(Medium)
                    },
                    equals(Source, "firebase"),
                ]),
            ),
        ],
        lists,
        default_channel: unassigned(),
        conversions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(
        source: Option<&str>,
        medium: Option<&str>,
        campaign: Option<&str>,
        referrer: Option<&str>,
        click: &[&str],
    ) -> String {
        let rules = ChannelRules::ga4_default();
        let clicks: Vec<String> = click.iter().map(|s| (*s).to_owned()).collect();
        let t = TouchSource::resolve(
            source,
            medium,
            campaign,
            referrer,
            &clicks,
            &["example.com".into()],
            &rules,
        );
        rules.classify(&t).to_owned()
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn ga4_default_rule_table() {
        let table: &[(
            Option<&str>,
            Option<&str>,
            Option<&str>,
            Option<&str>,
            &[&str],
            &str,
        )] = &[
            (None, None, None, None, &[], "Direct"),
            (
                None,
                None,
                None,
                Some("https://www.example.com/pricing"),
                &[],
                "Direct",
            ),
            (Some("google"), Some("cpc"), None, None, &[], "Paid Search"),
            (None, None, None, None, &["gclid"], "Paid Search"),
            (None, None, None, None, &["msclkid"], "Paid Search"),
            (
                Some("bing"),
                Some("ppc"),
                Some("brand"),
                None,
                &[],
                "Paid Search",
            ),
            (
                Some("google"),
                Some("cpc"),
                Some("summer-shopping"),
                None,
                &[],
                "Paid Shopping",
            ),
            (
                Some("amazon"),
                Some("paid"),
                None,
                None,
                &[],
                "Paid Shopping",
            ),
            (
                Some("facebook"),
                Some("paid_social"),
                None,
                None,
                &[],
                "Paid Social",
            ),
            (
                Some("linkedin"),
                Some("cpc"),
                None,
                None,
                &[],
                "Paid Social",
            ),
            (Some("youtube"), Some("cpv"), None, None, &[], "Paid Video"),
            (Some("dv360"), Some("display"), None, None, &[], "Display"),
            (Some("criteo"), Some("cpm"), None, None, &[], "Display"),
            (Some("criteo"), Some("paid"), None, None, &[], "Paid Other"),
            (
                Some("partner"),
                Some("retargeting"),
                None,
                None,
                &[],
                "Paid Other",
            ),
            (
                Some("x"),
                Some("y"),
                Some("q3 cross-network push"),
                None,
                &[],
                "Cross-network",
            ),
            (
                None,
                None,
                None,
                Some("https://www.google.co.uk/"),
                &[],
                "Organic Search",
            ),
            (
                None,
                None,
                None,
                Some("https://duckduckgo.com/?q=x"),
                &[],
                "Organic Search",
            ),
            (
                Some("newsletter-partner"),
                Some("organic"),
                None,
                None,
                &[],
                "Organic Search",
            ),
            (
                None,
                None,
                None,
                Some("https://l.facebook.com/l.php"),
                &[],
                "Organic Social",
            ),
            (None, None, None, None, &["fbclid"], "Organic Social"),
            (
                Some("t.co"),
                Some("referral"),
                None,
                None,
                &[],
                "Organic Social",
            ),
            (
                Some("community"),
                Some("social"),
                None,
                None,
                &[],
                "Organic Social",
            ),
            (
                None,
                None,
                None,
                Some("https://www.youtube.com/watch?v=1"),
                &[],
                "Organic Video",
            ),
            (
                None,
                None,
                None,
                Some("https://www.etsy.com/"),
                &[],
                "Organic Shopping",
            ),
            (
                None,
                None,
                None,
                Some("https://blog.partner.io/post"),
                &[],
                "Referral",
            ),
            (
                Some("newsletter"),
                Some("email"),
                Some("may"),
                None,
                &[],
                "Email",
            ),
            (Some("hubspot"), Some("e-mail"), None, None, &[], "Email"),
            (
                Some("impact"),
                Some("affiliate"),
                None,
                None,
                &[],
                "Affiliates",
            ),
            (Some("spotify"), Some("audio"), None, None, &[], "Audio"),
            (Some("sms"), None, None, None, &[], "SMS"),
            (
                Some("braze"),
                Some("mobile-push"),
                None,
                None,
                &[],
                "Mobile Push Notifications",
            ),
            (
                Some("firebase"),
                Some("inapp"),
                None,
                None,
                &[],
                "Mobile Push Notifications",
            ),
            (
                Some("mystery"),
                Some("carrier-pigeon"),
                None,
                None,
                &[],
                "Unassigned",
            ),
        ];
        for (s, m, c, r, k, want) in table {
            assert_eq!(
                &channel(*s, *m, *c, *r, k),
                want,
                "{s:?} {m:?} {c:?} {r:?} {k:?}"
            );
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://user@www.Example.com:8080/x?y").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            host_of("android-app://com.google.android.gm").as_deref(),
            Some("com.google.android.gm")
        );
        assert_eq!(host_of(""), None);
    }

    #[test]
    fn yaml_document_round_trip_and_validation() {
        let yaml = r#"
apiVersion: keel/v1
kind: ChannelRules
metadata: {name: web}
spec:
  lists:
    partners: [partner.io]
  rules:
    - channel: Partners
      all:
        - {field: referrer, in_list: partners}
        - {field: medium, equals: referral}
    - channel: Paid
      field: medium
      regex: '^paid'
"#;
        let doc: ChannelRulesDocument = serde_yaml::from_str(yaml).unwrap();
        assert!(doc.validate().is_empty());
        let mut wrong = doc.clone();
        wrong.kind = "Tool".into();
        assert_eq!(wrong.validate()[0].path, "kind");
        let rules = ChannelRules::compile(&doc.spec).unwrap();
        let t = TouchSource::resolve(
            None,
            None,
            None,
            Some("https://blog.partner.io/a"),
            &[],
            &[],
            &rules,
        );
        assert_eq!(rules.classify(&t), "Partners");
        let t = TouchSource::resolve(Some("x"), Some("PAID-social"), None, None, &[], &[], &rules);
        assert_eq!(rules.classify(&t), "Paid");
        let t = TouchSource::resolve(None, None, None, None, &[], &[], &rules);
        assert_eq!(rules.classify(&t), "Unassigned");

        let bad = r#"
rules:
  - channel: ""
    field: medium
    regex: '(('
  - channel: X
    field: source
    equals: a
    contains: b
  - channel: Y
    any:
      - {field: referrer, in_list: nope}
      - {equals: z}
"#;
        let spec: ChannelRulesSpec = serde_yaml::from_str(bad).unwrap();
        let problems = spec.validate();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.rules[0].channel",
                "spec.rules[0].regex",
                "spec.rules[1]",
                "spec.rules[2].any[0].in_list",
                "spec.rules[2].any[1].field"
            ]
        );
        assert!(serde_yaml::from_str::<ChannelRulesSpec>("rules: []\nbogus: 1\n").is_err());
    }

    #[test]
    fn default_spec_is_valid_and_serialisable() {
        assert!(ga4_spec().validate().is_empty());
        let yaml = serde_yaml::to_string(&ga4_spec()).unwrap();
        let back: ChannelRulesSpec = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(back, ga4_spec());
    }
}

/// `kind: ChannelRules` as an ops-as-code kind: `keel check/plan/apply` validate it with the
/// same rules as [`ChannelRules::compile`].
impl keel_manifests::Spec for ChannelRulesSpec {
    const KIND: &'static str = "ChannelRules";

    fn validate(&self) -> Vec<keel_manifests::Problem> {
        ChannelRulesSpec::validate(self)
            .into_iter()
            .map(|p| {
                let path = p.path.strip_prefix("spec.").unwrap_or(&p.path).to_owned();
                keel_manifests::Problem::error(path, p.message)
            })
            .collect()
    }
}

#[cfg(test)]
mod shipped {
    use super::*;

    /// `examples/ops/channel-rules.yaml` is the built-in default, as a document people can edit.
    #[test]
    fn shipped_document_is_the_default() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/ops/channel-rules.yaml"
        );
        if std::env::var("KEEL_WRITE_CHANNEL_RULES").is_ok() {
            let doc = ChannelRulesDocument {
                api_version: "keel/v1".into(),
                kind: "ChannelRules".into(),
                metadata: Metadata {
                    name: "default".into(),
                    extra: BTreeMap::new(),
                },
                spec: ga4_spec(),
            };
            let yaml = serde_yaml::to_string(&doc).unwrap();
            std::fs::write(path, format!("# Channel grouping: ordered rules modelled on the GA4 default channel grouping.\n# The first matching rule names a touch's channel. Edit and `keel apply` to change it.\n{yaml}")).unwrap();
        }
        let text = std::fs::read_to_string(path).unwrap();
        let doc: ChannelRulesDocument = serde_yaml::from_str(&text).unwrap();
        assert!(doc.validate().is_empty());
        assert_eq!(doc.spec, ga4_spec());
    }
}

#[cfg(test)]
mod conversions {
    use super::*;

    #[test]
    fn conversions_read_from_the_document_and_are_validated() {
        let yaml = r#"
rules:
  - channel: Email
    field: medium
    equals: email
conversions:
  - event: Form Submitted
  - event: Closed Won
    value_property: amount
"#;
        let spec: ChannelRulesSpec = serde_yaml::from_str(yaml).unwrap();
        assert!(spec.validate().is_empty(), "{:?}", spec.validate());
        assert_eq!(spec.conversions.len(), 2);
        assert_eq!(
            spec.conversions[1].value_property.as_deref(),
            Some("amount")
        );
        let rules = ChannelRules::compile(&spec).unwrap();
        assert_eq!(rules.spec().conversions, spec.conversions);
        // Without the list the document is as before (the server's defaults apply).
        assert!(ga4_spec().conversions.is_empty());
        let mut bad = spec.clone();
        bad.conversions
            .push(crate::events::ConversionEvent::named("form submitted"));
        bad.conversions.push(crate::events::ConversionEvent {
            event: " ".into(),
            value_property: Some("".into()),
        });
        let paths: Vec<String> = bad.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "spec.conversions[2].event",
                "spec.conversions[3].event",
                "spec.conversions[3].value_property"
            ]
        );
    }
}
