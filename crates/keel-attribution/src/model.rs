//! One entry point over every model: fit on a [`PathSet`], get credit per channel (and campaign,
//! when the journeys came from events), and explain any single conversion.

use crate::heuristic::Heuristic;
use crate::markov::{MarkovFit, MarkovOptions};
use crate::shapley::{ShapleyFit, ShapleyOptions};
use crate::{Error, PathSet, markov, shapley};

/// An attribution model.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// A rule-based model.
    Heuristic(Heuristic),
    /// Order-k Markov chain removal effect.
    Markov(MarkovOptions),
    /// Shapley value over channel sets.
    Shapley(ShapleyOptions),
}

/// Parameters shared by [`Model::every`] and [`Model::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct ModelParams {
    /// Name of the direct channel, for last non-direct.
    pub direct: String,
    /// Time-decay half-life (days for event journeys, touches for paths files).
    pub half_life: f64,
    /// Position-based (U) weights: first, middle, last.
    pub position: (f64, f64, f64),
    /// Markov options.
    pub markov: MarkovOptions,
    /// Shapley options.
    pub shapley: ShapleyOptions,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            direct: "Direct".into(),
            half_life: 7.0,
            position: (0.4, 0.2, 0.4),
            markov: MarkovOptions::default(),
            shapley: ShapleyOptions::default(),
        }
    }
}

/// The names accepted by [`Model::parse`], in the order `all` runs them.
pub const MODEL_NAMES: &[&str] = &[
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "full_path",
    "j_shaped",
    "inverse_j",
    "markov",
    "shapley",
];

impl Model {
    /// Parses a model name (see [`MODEL_NAMES`]; `u_shaped` and `z_shaped` are accepted aliases).
    pub fn parse(name: &str, params: &ModelParams) -> Result<Model, Error> {
        let model = match name.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "first_touch" | "first" => Model::Heuristic(Heuristic::FirstTouch),
            "last_touch" | "last" => Model::Heuristic(Heuristic::LastTouch),
            "last_non_direct" => Model::Heuristic(Heuristic::LastNonDirect {
                direct: params.direct.clone(),
            }),
            "linear" => Model::Heuristic(Heuristic::Linear),
            "time_decay" => Model::Heuristic(Heuristic::TimeDecay {
                half_life: params.half_life,
            }),
            "position_based" | "u_shaped" | "position" => Model::Heuristic(Heuristic::Position {
                first: params.position.0,
                middle: params.position.1,
                last: params.position.2,
            }),
            "w_shaped" => Model::Heuristic(Heuristic::WShaped),
            "full_path" | "z_shaped" => Model::Heuristic(Heuristic::FullPath),
            "j_shaped" => Model::Heuristic(Heuristic::j_shaped()),
            "inverse_j" => Model::Heuristic(Heuristic::inverse_j()),
            "markov" => Model::Markov(params.markov),
            "shapley" => Model::Shapley(params.shapley),
            other => {
                return Err(Error::Model(format!(
                    "unknown model `{other}`; expected one of {} or all",
                    MODEL_NAMES.join(", ")
                )));
            }
        };
        if let Model::Heuristic(h) = &model {
            h.validate().map_err(Error::Model)?;
        }
        Ok(model)
    }

    /// Every model, in [`MODEL_NAMES`] order.
    pub fn every(params: &ModelParams) -> Result<Vec<Model>, Error> {
        MODEL_NAMES
            .iter()
            .map(|n| Model::parse(n, params))
            .collect()
    }

    /// The model's name in outputs (`markov_order_k` for Markov).
    pub fn name(&self) -> String {
        match self {
            Model::Heuristic(h) => match h {
                Heuristic::FirstTouch => "first_touch".into(),
                Heuristic::LastTouch => "last_touch".into(),
                Heuristic::LastNonDirect { .. } => "last_non_direct".into(),
                Heuristic::Linear => "linear".into(),
                Heuristic::TimeDecay { .. } => "time_decay".into(),
                Heuristic::Position {
                    first,
                    middle,
                    last,
                } => {
                    let w = (*first, *middle, *last);
                    if w == (0.2, 0.2, 0.6) {
                        "j_shaped".into()
                    } else if w == (0.6, 0.2, 0.2) {
                        "inverse_j".into()
                    } else {
                        "position_based".into()
                    }
                }
                Heuristic::WShaped => "w_shaped".into(),
                Heuristic::FullPath => "full_path".into(),
            },
            Model::Markov(o) => format!("markov_order_{}", o.order),
            Model::Shapley(_) => "shapley".into(),
        }
    }

    /// Fits the model on `paths` and attributes every conversion.
    pub fn attribute(&self, paths: &PathSet) -> Result<Attribution, Error> {
        let fit = self.fit(paths)?;
        Ok(fit.attribution(paths))
    }

    /// Fits the model (for heuristics there is nothing to fit).
    pub fn fit(&self, paths: &PathSet) -> Result<Fit, Error> {
        Ok(match self {
            Model::Heuristic(h) => {
                h.validate().map_err(Error::Model)?;
                Fit::Heuristic(h.clone(), self.name())
            }
            Model::Markov(o) => Fit::Markov(Box::new(markov::fit(paths, *o)?)),
            Model::Shapley(o) => Fit::Shapley(Box::new(shapley::fit(paths, *o)?)),
        })
    }
}

/// A fitted model, able to attribute the whole table and to explain one journey.
#[derive(Debug, Clone)]
pub enum Fit {
    /// A rule-based model (and its output name).
    Heuristic(Heuristic, String),
    /// A fitted Markov chain.
    Markov(Box<MarkovFit>),
    /// A fitted Shapley game.
    Shapley(Box<ShapleyFit>),
}

/// Credit given to one channel (and campaign, when known).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelCredit {
    /// Channel name.
    pub channel: String,
    /// Campaign name, when the journeys carry campaigns.
    pub campaign: Option<String>,
    /// Attributed conversions.
    pub conversions: f64,
    /// Attributed conversion value.
    pub value: f64,
}

/// The result of one model over a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// Model name.
    pub model: String,
    /// Credit per channel, in channel-id order (first seen first).
    pub channels: Vec<ChannelCredit>,
    /// Credit per channel and campaign (empty when the journeys carry no campaigns); touches
    /// without a campaign are grouped as `(not set)`.
    pub campaigns: Vec<ChannelCredit>,
    /// The conventions used, in words.
    pub conventions: String,
}

/// Credit given to one touch of an explained journey.
#[derive(Debug, Clone, PartialEq)]
pub struct TouchCredit {
    /// 0-based position in the journey.
    pub position: usize,
    /// Channel of the touch.
    pub channel: String,
    /// Campaign of the touch, when known.
    pub campaign: Option<String>,
    /// Share of the journey's conversion (shares sum to 1).
    pub share: f64,
    /// Conversions credited to this touch.
    pub conversions: f64,
    /// Value credited to this touch.
    pub value: f64,
    /// Why the touch got this share.
    pub reason: String,
}

impl Fit {
    fn direct_id(&self, paths: &PathSet) -> Option<u32> {
        match self {
            Fit::Heuristic(Heuristic::LastNonDirect { direct }, _) => paths
                .channel_names()
                .iter()
                .position(|c| c.eq_ignore_ascii_case(direct))
                .map(|i| i as u32),
            _ => None,
        }
    }

    /// Shares of each touch of row `i`, with reasons.
    pub fn explain(&self, paths: &PathSet, i: usize) -> Vec<TouchCredit> {
        let path = paths.path(i);
        let n = path.len();
        let conv = paths.conversions(i);
        let value = paths.value(i);
        let names = paths.channel_names();
        let campaign = |p: usize| {
            paths
                .campaigns(i)
                .and_then(|c| paths.campaign_names().get(c[p] as usize).cloned())
        };
        let mut shares = Vec::with_capacity(n);
        let reasons: Vec<String> = match self {
            Fit::Heuristic(h, _) => {
                h.shares(
                    path,
                    paths.ages(i),
                    paths.lead(i),
                    self.direct_id(paths),
                    &mut shares,
                );
                (0..n)
                    .map(|p| h.reason(p, n, paths.lead(i), shares[p]))
                    .collect()
            }
            Fit::Markov(_) | Fit::Shapley(_) => {
                // A data-driven model credits channels, not touches: within one journey each
                // channel present gets a share proportional to its global weight (removal effect
                // or positive Shapley value), split equally over that channel's touches.
                let (weights, what): (Vec<f64>, &str) = match self {
                    Fit::Markov(m) => (
                        m.removal_effects.iter().map(|r| r.conversion).collect(),
                        "removal effect",
                    ),
                    Fit::Shapley(s) => (
                        s.shapley.iter().map(|x| x.max(0.0)).collect(),
                        "Shapley value",
                    ),
                    Fit::Heuristic(..) => (Vec::new(), ""),
                };
                let mut count = vec![0usize; names.len()];
                for &c in path {
                    count[c as usize] += 1;
                }
                let total: f64 = (0..names.len())
                    .filter(|&c| count[c] > 0)
                    .map(|c| weights.get(c).copied().unwrap_or(0.0))
                    .sum();
                (0..n)
                    .map(|p| {
                        let c = path[p] as usize;
                        let w = weights.get(c).copied().unwrap_or(0.0);
                        let share = if total > 0.0 {
                            w / total / count[c] as f64
                        } else {
                            1.0 / n as f64
                        };
                        shares.push(share);
                        format!(
                            "{what} of {} is {w:.4} of {total:.4} among this journey's channels{}",
                            names[c],
                            if count[c] > 1 {
                                format!(", split over its {} touches", count[c])
                            } else {
                                String::new()
                            }
                        )
                    })
                    .collect()
            }
        };
        (0..n)
            .map(|p| TouchCredit {
                position: p,
                channel: names[path[p] as usize].clone(),
                campaign: campaign(p),
                share: shares[p],
                conversions: shares[p] * conv,
                value: shares[p] * value,
                reason: reasons[p].clone(),
            })
            .collect()
    }

    /// Attributes every conversion of `paths`.
    pub fn attribution(&self, paths: &PathSet) -> Attribution {
        let names = paths.channel_names();
        let n_ch = names.len();
        let mut conv = vec![0.0; n_ch];
        let mut val = vec![0.0; n_ch];
        let has_campaigns = paths.campaigns(0).is_some();
        let n_camp = paths.campaign_names().len() + 1;
        // (channel, campaign) credit; campaign index n_camp−1 means "no campaign".
        let mut camp_conv = if has_campaigns {
            vec![0.0; n_ch * n_camp]
        } else {
            Vec::new()
        };
        let mut camp_val = camp_conv.clone();
        let mut shares = Vec::new();
        let (model, conventions) = match self {
            Fit::Heuristic(h, name) => {
                let direct = self.direct_id(paths);
                for i in 0..paths.len() {
                    let (c, v) = (paths.conversions(i), paths.value(i));
                    if c == 0.0 && v == 0.0 {
                        continue;
                    }
                    let path = paths.path(i);
                    h.shares(path, paths.ages(i), paths.lead(i), direct, &mut shares);
                    for (p, (&ch, &s)) in path.iter().zip(&shares).enumerate() {
                        conv[ch as usize] += s * c;
                        val[ch as usize] += s * v;
                        if let Some(camps) = paths.campaigns(i) {
                            let k = ch as usize * n_camp + (camps[p] as usize).min(n_camp - 1);
                            camp_conv[k] += s * c;
                            camp_val[k] += s * v;
                        }
                    }
                }
                (
                    name.clone(),
                    "Per-touch shares; see the heuristic module for position and milestone rules."
                        .to_owned(),
                )
            }
            Fit::Markov(m) => {
                conv.clone_from(&m.conversions);
                val.clone_from(&m.values);
                (format!("markov_order_{}", m.options.order), m.conventions())
            }
            Fit::Shapley(s) => {
                conv.clone_from(&s.conversions);
                val.clone_from(&s.values);
                ("shapley".to_owned(), s.conventions())
            }
        };
        if has_campaigns && !matches!(self, Fit::Heuristic(..)) {
            // Split each channel's data-driven credit over its campaigns in proportion to the
            // per-journey explanation of every converting journey.
            for i in 0..paths.len() {
                if paths.conversions(i) == 0.0 && paths.value(i) == 0.0 {
                    continue;
                }
                let Some(camps) = paths.campaigns(i) else {
                    continue;
                };
                for t in self.explain(paths, i) {
                    let ch = paths.path(i)[t.position] as usize;
                    let k = ch * n_camp + (camps[t.position] as usize).min(n_camp - 1);
                    camp_conv[k] += t.conversions;
                    camp_val[k] += t.value;
                }
            }
            for ch in 0..n_ch {
                let row = ch * n_camp..(ch + 1) * n_camp;
                let (sc, sv): (f64, f64) = (
                    camp_conv[row.clone()].iter().sum(),
                    camp_val[row.clone()].iter().sum(),
                );
                for k in row {
                    camp_conv[k] = if sc > 0.0 {
                        camp_conv[k] / sc * conv[ch]
                    } else {
                        0.0
                    };
                    camp_val[k] = if sv > 0.0 {
                        camp_val[k] / sv * val[ch]
                    } else {
                        0.0
                    };
                }
            }
        }
        let channels = (0..n_ch)
            .map(|c| ChannelCredit {
                channel: names[c].clone(),
                campaign: None,
                conversions: conv[c],
                value: val[c],
            })
            .collect();
        let mut campaigns = Vec::new();
        if has_campaigns {
            for ch in 0..n_ch {
                for k in 0..n_camp {
                    let (c, v) = (camp_conv[ch * n_camp + k], camp_val[ch * n_camp + k]);
                    if c != 0.0 || v != 0.0 {
                        campaigns.push(ChannelCredit {
                            channel: names[ch].clone(),
                            campaign: Some(
                                paths
                                    .campaign_names()
                                    .get(k)
                                    .cloned()
                                    .unwrap_or_else(|| "(not set)".into()),
                            ),
                            conversions: c,
                            value: v,
                        });
                    }
                }
            }
        }
        Attribution {
            model,
            channels,
            campaigns,
            conventions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> PathSet {
        PathSet::read_csv(
            "path,total_conversions,total_conversion_value,total_null\nA>B>C,2,100,1\nB,1,10,4\nC>C,0,0,2\n".as_bytes(),
            ">",
            "t",
            |_| {},
        )
        .unwrap()
    }

    fn credit(a: &Attribution) -> Vec<(String, f64, f64)> {
        a.channels
            .iter()
            .map(|c| (c.channel.clone(), c.conversions, c.value))
            .collect()
    }

    #[test]
    fn heuristic_totals_by_hand() {
        let p = ModelParams::default();
        let d = data();
        let first = Model::parse("first_touch", &p)
            .unwrap()
            .attribute(&d)
            .unwrap();
        assert_eq!(
            credit(&first),
            [
                ("A".into(), 2.0, 100.0),
                ("B".into(), 1.0, 10.0),
                ("C".into(), 0.0, 0.0)
            ]
        );
        let u = Model::parse("u_shaped", &p).unwrap().attribute(&d).unwrap();
        // A>B>C: 40/20/40 of 2 conversions and 100; B alone: everything.
        let c = credit(&u);
        assert!(
            (c[0].1 - 0.8).abs() < 1e-12
                && (c[1].1 - 1.4).abs() < 1e-12
                && (c[2].1 - 0.8).abs() < 1e-12
        );
        assert!((c[1].2 - 30.0).abs() < 1e-12);
        for m in Model::every(&p).unwrap() {
            let a = m.attribute(&d).unwrap();
            let total: f64 = a.channels.iter().map(|c| c.conversions).sum();
            assert!((total - 3.0).abs() < 1e-9, "{} sums to {total}", a.model);
            let value: f64 = a.channels.iter().map(|c| c.value).sum();
            assert!(
                (value - 110.0).abs() < 1e-9,
                "{} value sums to {value}",
                a.model
            );
        }
    }

    #[test]
    fn names_and_errors() {
        let p = ModelParams::default();
        let names: Vec<String> = Model::every(&p).unwrap().iter().map(Model::name).collect();
        assert_eq!(names[10], "markov_order_1");
        assert_eq!(names[8], "j_shaped");
        assert!(Model::parse("magic", &p).is_err());
        let bad = ModelParams {
            half_life: 0.0,
            ..ModelParams::default()
        };
        assert!(Model::parse("time_decay", &bad).is_err());
    }

    #[test]
    fn explanations_sum_to_the_journey() {
        let p = ModelParams::default();
        let d = data();
        for m in Model::every(&p).unwrap() {
            let fit = m.fit(&d).unwrap();
            let touches = fit.explain(&d, 0);
            assert_eq!(touches.len(), 3);
            let s: f64 = touches.iter().map(|t| t.share).sum();
            assert!((s - 1.0).abs() < 1e-12, "{}", m.name());
            assert!(touches.iter().all(|t| !t.reason.is_empty()));
        }
    }
}
