//! Attribution over everything Keel stores: events, won CRM opportunities and ad costs, through
//! every model at once, with per-person journeys and the credit each touch got per model.
//!
//! The server's recompute job and its journey explorer both call [`compute`]; storage adapters
//! only turn rows into the inputs here.

use crate::events::{
    BuiltPaths, Campaign, ConversionEvent, Event, EventKind, JourneyOptions, build_paths,
};
use crate::model::{Fit, ModelParams};
use crate::paths::JourneyRow;
use crate::report::{Cost, Performance, performance};
use crate::{Attribution, Error, Model};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The conversion event that stands for a won opportunity.
pub const OPPORTUNITY_WON: &str = "Opportunity Won";

/// A won opportunity that counts as a conversion of the person with its contact e-mail.
#[derive(Debug, Clone, PartialEq)]
pub struct WonOpportunity {
    /// The CRM's id.
    pub id: String,
    /// Contact e-mail (lower case).
    pub email: String,
    /// Amount in major units.
    pub amount: f64,
    /// When it was won.
    pub closed_at: DateTime<Utc>,
}

/// Everything computed in one run.
#[derive(Debug)]
pub struct Computed {
    /// The journeys.
    pub built: BuiltPaths,
    /// Each model's fit, in the order of [`Model::every`].
    pub fits: Vec<Fit>,
    /// Each model's attribution.
    pub attributions: Vec<Attribution>,
    /// Per model, channels and campaigns joined with cost (ROAS, CAC).
    pub performance: Vec<Performance>,
    /// Opportunities whose e-mail matched nobody's identify traits.
    pub unmatched_opportunities: usize,
}

/// One touch of a person's journey with the credit every model gave it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JourneyTouch {
    /// 1-based position in the journey.
    pub position: usize,
    /// Channel.
    pub channel: String,
    /// Campaign, when known.
    pub campaign: Option<String>,
    /// Start of the session that was the touch.
    pub at: DateTime<Utc>,
    /// Model name → conversions credited to this touch.
    pub credit: Vec<(String, f64)>,
}

/// One journey of a person.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PersonJourney {
    /// Whether it ended in a conversion.
    pub converted: bool,
    /// Conversion value.
    pub value: f64,
    /// Conversion time, or the last touch for a non-converting journey.
    pub end: DateTime<Utc>,
    /// Touches, oldest first.
    pub touches: Vec<JourneyTouch>,
}

/// Turns won opportunities into conversion events of the people whose identify traits carried
/// their contact e-mail (`emails`: user id, e-mail). Returns the events and how many matched
/// nobody.
pub fn opportunity_events(
    opportunities: &[WonOpportunity],
    emails: &[(String, String)],
) -> (Vec<Event>, usize) {
    let by_email: HashMap<String, &str> = emails
        .iter()
        .map(|(user, email)| (email.trim().to_ascii_lowercase(), user.as_str()))
        .collect();
    let mut unmatched = 0;
    let mut out = Vec::new();
    for o in opportunities {
        let Some(user) = by_email.get(&o.email.trim().to_ascii_lowercase()) else {
            unmatched += 1;
            continue;
        };
        out.push(Event {
            kind: EventKind::Track,
            user_id: Some((*user).to_owned()),
            anonymous_id: None,
            previous_id: None,
            timestamp: o.closed_at,
            name: Some(OPPORTUNITY_WON.to_owned()),
            value: Some(o.amount),
            campaign: Campaign::default(),
            referrer: None,
            click_ids: Vec::new(),
            has_page_context: false,
            numbers: Vec::new(),
        });
    }
    (out, unmatched)
}

/// The journey options with won opportunities counted as conversions (valued by their amount)
/// when there are any and the configured list does not already name them.
pub fn with_opportunities(options: &JourneyOptions, any: bool) -> JourneyOptions {
    let mut options = options.clone();
    if any
        && !options
            .conversion_events
            .iter()
            .any(|c| c.event.eq_ignore_ascii_case(OPPORTUNITY_WON))
    {
        options
            .conversion_events
            .push(ConversionEvent::named(OPPORTUNITY_WON));
    }
    options
}

/// Each model's fit, attribution and performance, in the order of [`Model::every`].
pub type Fitted = (Vec<Fit>, Vec<Attribution>, Vec<Performance>);

/// Every model fitted to `paths`, with its attribution and performance (nothing when empty).
pub fn fit_every(
    paths: &crate::PathSet,
    costs: &[Cost],
    params: &ModelParams,
) -> Result<Fitted, Error> {
    let mut fits = Vec::new();
    let mut attributions = Vec::new();
    let mut perf = Vec::new();
    if !paths.is_empty() {
        for model in Model::every(params)? {
            let fit = model.fit(paths)?;
            let attribution = fit.attribution(paths);
            perf.extend(performance(&attribution, costs)?);
            attributions.push(attribution);
            fits.push(fit);
        }
    }
    Ok((fits, attributions, perf))
}

/// One journey as kept between runs, so an incremental run rebuilds only the journeys of the
/// people its new events touch and refits the models over all kept journeys.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeptJourney {
    /// Person name (`user:…` or `anonymous:…`).
    pub person: String,
    /// Channel of each touch, oldest first.
    pub channels: Vec<String>,
    /// Campaign of each touch.
    pub campaigns: Vec<Option<String>>,
    /// Age of each touch in days before the end.
    pub ages: Vec<f64>,
    /// Position of the touch at which the person became a lead.
    pub lead: Option<usize>,
    /// Conversions (1 or 0).
    pub conversions: f64,
    /// Conversion value.
    pub value: f64,
    /// Conversion time, or the last touch of a non-converting journey.
    pub end: DateTime<Utc>,
}

impl BuiltPaths {
    /// The journeys in keepable form, in row order.
    pub fn kept_journeys(&self) -> Vec<KeptJourney> {
        let p = &self.paths;
        let channels = p.channel_names();
        let campaigns = p.campaign_names();
        self.journeys
            .iter()
            .enumerate()
            .filter(|(row, _)| *row < p.len())
            .map(|(row, info)| {
                let path = p.path(row);
                KeptJourney {
                    person: self
                        .identities
                        .name(info.person)
                        .unwrap_or_default()
                        .to_owned(),
                    channels: path
                        .iter()
                        .map(|&c| channels.get(c as usize).cloned().unwrap_or_default())
                        .collect(),
                    campaigns: (0..path.len())
                        .map(|k| {
                            p.campaigns(row)
                                .and_then(|cs| cs.get(k))
                                .and_then(|&id| campaigns.get(id as usize).cloned())
                        })
                        .collect(),
                    ages: (0..path.len())
                        .map(|k| p.ages(row).and_then(|a| a.get(k)).copied().unwrap_or(0.0))
                        .collect(),
                    lead: p.lead(row),
                    conversions: p.conversions(row),
                    value: p.value(row),
                    end: info.end,
                }
            })
            .collect()
    }
}

/// The paths table of kept journeys, in the order given (the same rows, channel and campaign
/// order as [`build_paths`] made when the journeys come in its order).
pub fn paths_of(journeys: &[KeptJourney]) -> Result<crate::PathSet, Error> {
    let mut paths = crate::PathSet::new();
    for j in journeys {
        paths.push_journey(&JourneyRow {
            channels: j.channels.iter().map(String::as_str).collect(),
            campaigns: j.campaigns.iter().map(Option::as_deref).collect(),
            ages: j.ages.clone(),
            lead: j.lead,
            conversions: j.conversions,
            value: j.value,
            nulls: 1.0 - j.conversions,
        })?;
    }
    Ok(paths)
}

/// Builds journeys from `events` plus won opportunities and runs every model.
pub fn compute(
    mut events: Vec<Event>,
    opportunities: &[WonOpportunity],
    emails: &[(String, String)],
    costs: &[Cost],
    rules: &crate::channels::ChannelRules,
    options: &JourneyOptions,
    params: &ModelParams,
) -> Result<Computed, Error> {
    let (extra, unmatched) = opportunity_events(opportunities, emails);
    events.extend(extra);
    let options = with_opportunities(options, !opportunities.is_empty());
    let built = build_paths(&events, rules, &options)?;
    let (fits, attributions, perf) = fit_every(&built.paths, costs, params)?;
    Ok(Computed {
        built,
        fits,
        attributions,
        performance: perf,
        unmatched_opportunities: unmatched,
    })
}

impl Computed {
    /// The journeys of the person an id belongs to (`user:…`, `anonymous:…` or a bare id),
    /// with each touch's credit per model; `None` when nobody has that id.
    pub fn journeys_of(&self, id: &str) -> Option<(String, Vec<PersonJourney>)> {
        let person = self.built.identities.lookup(id)?;
        let name = self.built.identities.name(person)?.to_owned();
        let paths = &self.built.paths;
        let mut out = Vec::new();
        for (row, info) in self.built.journeys.iter().enumerate() {
            if info.person != person || row >= paths.len() {
                continue;
            }
            let channels = paths.channel_names();
            let campaigns = paths.campaigns(row);
            let mut touches: Vec<JourneyTouch> = paths
                .path(row)
                .iter()
                .enumerate()
                .map(|(k, &c)| JourneyTouch {
                    position: k + 1,
                    channel: channels.get(c as usize).cloned().unwrap_or_default(),
                    campaign: campaigns
                        .and_then(|cs| cs.get(k))
                        .and_then(|&id| paths.campaign_names().get(id as usize).cloned()),
                    at: info.touches.get(k).copied().unwrap_or(info.end),
                    credit: Vec::new(),
                })
                .collect();
            if paths.conversions(row) > 0.0 {
                for (fit, attribution) in self.fits.iter().zip(&self.attributions) {
                    let credits = fit.explain(paths, row);
                    for t in &mut touches {
                        let c: f64 = credits
                            .iter()
                            .filter(|x| x.position + 1 == t.position)
                            .map(|x| x.conversions)
                            .sum();
                        t.credit.push((attribution.model.clone(), c));
                    }
                }
            }
            out.push(PersonJourney {
                converted: paths.conversions(row) > 0.0,
                value: paths.value(row),
                end: info.end,
                touches,
            });
        }
        Some((name, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::ChannelRules;
    use crate::markov::MarkovOptions;
    use crate::shapley::ShapleyOptions;
    use serde_json::json;

    #[test]
    fn opportunities_convert_stitched_people_and_journeys_carry_credit() {
        let ev = |v: serde_json::Value| Event::from_segment(&v).unwrap().unwrap();
        let events = vec![
            ev(
                json!({"type": "page", "anonymousId": "a1", "timestamp": "2026-11-01T10:00:00Z",
                "context": {"page": {"url": "https://halyard.test/?utm_source=google&utm_medium=cpc&utm_campaign=winter"}}}),
            ),
            ev(
                json!({"type": "page", "anonymousId": "a2", "timestamp": "2026-11-03T10:00:00Z",
                "context": {"page": {"url": "https://halyard.test/?utm_source=newsletter&utm_medium=email"}}}),
            ),
            // a2 becomes u1 by identify, a1 joins by alias: both earlier touches are u1's.
            ev(
                json!({"type": "identify", "anonymousId": "a2", "userId": "u1", "timestamp": "2026-11-03T10:05:00Z"}),
            ),
            ev(
                json!({"type": "alias", "previousId": "a1", "userId": "u1", "timestamp": "2026-11-03T10:06:00Z"}),
            ),
        ];
        let won = [WonOpportunity {
            id: "o1".into(),
            email: "Ann@Acme.test".into(),
            amount: 1000.0,
            closed_at: "2026-11-10T12:00:00Z".parse().unwrap(),
        }];
        let emails = [("u1".to_owned(), "ann@acme.test".to_owned())];
        let options = JourneyOptions {
            conversion_events: vec![ConversionEvent::named("Order Completed")],
            lookback_days: 30.0,
            session_timeout_minutes: 30.0,
            own_domains: vec![],
        };
        let params = ModelParams {
            direct: "Direct".into(),
            half_life: 7.0,
            position: (0.4, 0.2, 0.4),
            markov: MarkovOptions {
                order: 1,
                collapse: true,
            },
            shapley: ShapleyOptions {
                exact_max_channels: 10,
                samples: 100,
                seed: 1,
            },
        };
        let c = compute(
            events,
            &won,
            &emails,
            &[],
            &ChannelRules::ga4_default(),
            &options,
            &params,
        )
        .unwrap();
        assert_eq!(c.unmatched_opportunities, 0);
        assert_eq!(c.built.conversions, 1);
        let (name, journeys) = c.journeys_of("a1").unwrap();
        assert_eq!(name, "user:u1");
        assert_eq!(journeys.len(), 1);
        let j = &journeys[0];
        assert!(j.converted);
        assert_eq!(j.value, 1000.0);
        let channels: Vec<&str> = j.touches.iter().map(|t| t.channel.as_str()).collect();
        assert_eq!(channels, ["Paid Search", "Email"]);
        let first: f64 = j.touches[0]
            .credit
            .iter()
            .find(|(m, _)| m == "first_touch")
            .unwrap()
            .1;
        assert_eq!(first, 1.0);
        for (model, _) in &j.touches[0].credit {
            let total: f64 = j
                .touches
                .iter()
                .map(|t| t.credit.iter().find(|(m, _)| m == model).unwrap().1)
                .sum();
            assert!((total - 1.0).abs() < 1e-9, "{model}: {total}");
        }
        assert!(c.journeys_of("nobody").is_none());
    }
}
