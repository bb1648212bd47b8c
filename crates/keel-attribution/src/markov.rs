//! Order-k Markov chain attribution by removal effect, solved exactly.
//!
//! Conventions (ChannelAttribution's, and stated in every report by [`MarkovFit::conventions`]):
//! - the states of a path are its sliding windows of k consecutive channels; a path shorter than
//!   k is a single state;
//! - consecutive identical states are collapsed (option: keep them as self-loops);
//! - the chain runs start → states → conversion or null; start → first state is weighted by the
//!   path's conversions plus nulls, each step by the same, last state → conversion by the
//!   conversions and last state → null by the nulls;
//! - the removal effect of channel c is P(conversion) − P(conversion when every state containing
//!   c leads to null); channels share the total conversions in proportion to their removal
//!   effects;
//! - value follows the same chain, each conversion from a last state worth that state's mean
//!   value per conversion; channels share the total value in proportion to value removal effects.
//!
//! Absorption probabilities are solved as linear systems (see `solve`), never simulated.

use crate::solve::{Chain, SolveReport};
use crate::{Error, PathSet};
use rustc_hash::FxHashMap;

/// Options of the Markov model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkovOptions {
    /// Order k of the chain, 1 to 4.
    pub order: usize,
    /// Collapse consecutive identical states (ChannelAttribution's convention).
    pub collapse: bool,
}

impl Default for MarkovOptions {
    fn default() -> Self {
        MarkovOptions {
            order: 1,
            collapse: true,
        }
    }
}

/// Removal effect of one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct RemovalEffect {
    /// Channel name.
    pub channel: String,
    /// P(conversion) − P(conversion without the channel).
    pub conversion: f64,
    /// The same relative to P(conversion) (ChannelAttribution's `removal_effects_conversion`).
    pub conversion_relative: f64,
    /// Expected value − expected value without the channel.
    pub value: f64,
    /// The same relative to the expected value.
    pub value_relative: f64,
}

/// One transition of the fitted chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Source state (`(start)` or channels joined by `>`).
    pub from: String,
    /// Target state (`(conversion)`, `(null)` or channels joined by `>`).
    pub to: String,
    /// Transition probability.
    pub probability: f64,
    /// Weighted count of journeys taking this transition.
    pub weight: f64,
}

/// A fitted Markov model: the chain, its removal effects and the attribution.
#[derive(Debug, Clone)]
pub struct MarkovFit {
    /// Options used.
    pub options: MarkovOptions,
    /// Channel names by id.
    pub channels: Vec<String>,
    /// Number of transient states.
    pub states: usize,
    /// P(conversion) from start.
    pub p_conversion: f64,
    /// Expected value from start.
    pub expected_value: f64,
    /// Removal effect per channel id.
    pub removal_effects: Vec<RemovalEffect>,
    /// Attributed conversions per channel id.
    pub conversions: Vec<f64>,
    /// Attributed value per channel id.
    pub values: Vec<f64>,
    /// Worst solve (largest residual) over the baseline and every removal.
    pub solve: SolveReport,
    window: Vec<[u32; 4]>,
    window_len: Vec<u8>,
    start: Vec<f64>,
    chain: Chain,
    out_weight: Vec<f64>,
    edge_weight: Vec<f64>,
    conv_w: Vec<f64>,
    null_w: Vec<f64>,
}

const NONE: u32 = u32::MAX;

/// P(conversion), expected value and how the system was solved, or why it could not be.
type Evaluation = Result<(f64, f64, SolveReport), Error>;

/// A window of up to four channels as one hash key. Ids are stored plus one so that an empty slot
/// (0) never equals a channel and windows of different lengths never collide.
fn pack(window: &[u32]) -> u128 {
    window
        .iter()
        .enumerate()
        .fold(0u128, |key, (j, &c)| key | (u128::from(c) + 1) << (32 * j))
}

/// Fits the model on a paths table.
pub fn fit(paths: &PathSet, options: MarkovOptions) -> Result<MarkovFit, Error> {
    let k = options.order;
    if !(1..=4).contains(&k) {
        return Err(Error::Model(format!(
            "Markov order must be between 1 and 4, got {k}"
        )));
    }
    let n_channels = paths.channel_names().len();
    let mut state_of: FxHashMap<u128, u32> = FxHashMap::default();
    let mut window: Vec<[u32; 4]> = Vec::new();
    let mut window_len: Vec<u8> = Vec::new();
    let mut start: Vec<f64> = Vec::new();
    let mut conv_w: Vec<f64> = Vec::new();
    let mut null_w: Vec<f64> = Vec::new();
    let mut value_w: Vec<f64> = Vec::new();
    let mut edges: FxHashMap<u64, f64> = FxHashMap::default();
    // With few channels every window has a small code (digits base n+1, 0 = empty slot), so
    // states and transitions are counted in plain arrays instead of hash maps.
    let base = n_channels as u64 + 1;
    let code_space = base.checked_pow(k as u32).filter(|&c| c <= 1 << 22);
    let mut dense_state: Vec<u32> = vec![NONE; code_space.unwrap_or(0) as usize];
    let edge_space = code_space.filter(|&c| c * c <= 1 << 20);
    let mut dense_edges: Vec<f64> = vec![0.0; edge_space.map_or(0, |c| c * c) as usize];
    let mut seq: Vec<u32> = Vec::with_capacity(32);
    let mut seq_code: Vec<u64> = Vec::with_capacity(32);
    for i in 0..paths.len() {
        let conv = paths.conversions(i);
        let null = paths.nulls(i);
        let w = conv + null;
        if w <= 0.0 {
            continue;
        }
        let path = paths.path(i);
        seq.clear();
        seq_code.clear();
        let windows = if path.len() <= k {
            1
        } else {
            path.len() - k + 1
        };
        for j in 0..windows {
            let win = &path[j..(j + k).min(path.len())];
            let code = win
                .iter()
                .rev()
                .fold(0u64, |acc, &c| acc * base + u64::from(c) + 1);
            let known = if code_space.is_some() {
                dense_state[code as usize]
            } else {
                state_of.get(&pack(win)).copied().unwrap_or(NONE)
            };
            let id = if known != NONE {
                known
            } else {
                let id = window.len() as u32;
                let mut arr = [NONE; 4];
                arr[..win.len()].copy_from_slice(win);
                window.push(arr);
                window_len.push(win.len() as u8);
                start.push(0.0);
                conv_w.push(0.0);
                null_w.push(0.0);
                value_w.push(0.0);
                if code_space.is_some() {
                    dense_state[code as usize] = id;
                } else {
                    state_of.insert(pack(win), id);
                }
                id
            };
            if options.collapse && seq.last() == Some(&id) {
                continue;
            }
            seq.push(id);
            seq_code.push(code);
        }
        let (Some(&first), Some(&last)) = (seq.first(), seq.last()) else {
            continue;
        };
        start[first as usize] += w;
        if let Some(space) = edge_space {
            for pair in seq_code.windows(2) {
                dense_edges[(pair[0] * space + pair[1]) as usize] += w;
            }
        } else {
            for pair in seq.windows(2) {
                *edges
                    .entry(((pair[0] as u64) << 32) | pair[1] as u64)
                    .or_insert(0.0) += w;
            }
        }
        conv_w[last as usize] += conv;
        null_w[last as usize] += null;
        value_w[last as usize] += paths.value(i);
    }
    if let Some(space) = edge_space {
        for (cell, &w) in dense_edges.iter().enumerate() {
            if w != 0.0 {
                let (from, to) = (cell as u64 / space, cell as u64 % space);
                let (s, t) = (dense_state[from as usize], dense_state[to as usize]);
                edges.insert(((s as u64) << 32) | t as u64, w);
            }
        }
    }
    let n = window.len();
    if n == 0 {
        return Err(Error::Model(
            "no journeys with conversions or nulls to fit a Markov chain".into(),
        ));
    }
    // Build the sparse chain, rows in state order, targets sorted for a deterministic sweep.
    let mut by_row: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    let mut stay_w = vec![0.0; n];
    for (&key, &w) in &edges {
        let (s, t) = ((key >> 32) as usize, (key & 0xffff_ffff) as u32);
        if t as usize == s {
            stay_w[s] += w;
        } else {
            by_row[s].push((t, w));
        }
    }
    let mut out_weight = vec![0.0; n];
    let mut chain = Chain {
        row_start: Vec::with_capacity(n + 1),
        ..Chain::default()
    };
    let mut edge_weight = Vec::new();
    chain.row_start.push(0);
    for s in 0..n {
        by_row[s].sort_by_key(|&(t, _)| t);
        let out: f64 =
            by_row[s].iter().map(|&(_, w)| w).sum::<f64>() + stay_w[s] + conv_w[s] + null_w[s];
        out_weight[s] = out;
        for &(t, w) in &by_row[s] {
            chain.target.push(t);
            chain.prob.push(w / out);
            edge_weight.push(w);
        }
        chain.stay.push(stay_w[s] / out);
        chain.row_start.push(chain.target.len());
    }
    let b_conv: Vec<f64> = (0..n).map(|s| conv_w[s] / out_weight[s]).collect();
    // Mean value per conversion of a last state times its conversion probability.
    let b_value: Vec<f64> = (0..n).map(|s| value_w[s] / out_weight[s]).collect();
    let start_total: f64 = start.iter().sum();
    let p_start: Vec<f64> = start.iter().map(|w| w / start_total).collect();

    let evaluate = |removed: &[bool]| -> Result<(f64, f64, SolveReport), Error> {
        let (x, report) = chain
            .solve([&b_conv, &b_value], removed)
            .map_err(Error::Model)?;
        let p: f64 = (0..n).map(|s| p_start[s] * x[0][s]).sum();
        let v: f64 = (0..n).map(|s| p_start[s] * x[1][s]).sum();
        Ok((p, v, report))
    };
    let mut removed = vec![false; n];
    let (p_conversion, expected_value, mut worst) = evaluate(&removed)?;
    // Channels that appear in the fitted states, with the states containing each.
    let mut contains: Vec<Vec<usize>> = vec![Vec::new(); n_channels];
    for s in 0..n {
        let len = window_len[s] as usize;
        for (j, &c) in window[s][..len].iter().enumerate() {
            if !window[s][..j].contains(&c) {
                contains[c as usize].push(s);
            }
        }
    }
    // Removals are independent systems; solve them on all available cores.
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n_channels.max(1));
    let mut results: Vec<Option<Evaluation>> = (0..n_channels).map(|_| None).collect();
    std::thread::scope(|scope| {
        let chunks: Vec<_> = results
            .chunks_mut(n_channels.div_ceil(threads).max(1))
            .collect();
        let mut first_channel = 0;
        for chunk in chunks {
            let base = first_channel;
            first_channel += chunk.len();
            let contains = &contains;
            let evaluate = &evaluate;
            scope.spawn(move || {
                let mut removed = vec![false; n];
                for (off, slot) in chunk.iter_mut().enumerate() {
                    let c = base + off;
                    if contains[c].is_empty() {
                        *slot = Some(Ok((
                            p_conversion,
                            expected_value,
                            SolveReport {
                                direct: true,
                                sweeps: 0,
                                residual: 0.0,
                            },
                        )));
                        continue;
                    }
                    for &s in &contains[c] {
                        removed[s] = true;
                    }
                    *slot = Some(evaluate(&removed));
                    for &s in &contains[c] {
                        removed[s] = false;
                    }
                }
            });
        }
    });
    removed.clear();
    let mut removal_effects = Vec::with_capacity(n_channels);
    for (c, result) in results.into_iter().enumerate() {
        let (p, v, report) =
            result.unwrap_or_else(|| Err(Error::Model("removal not solved".into())))?;
        if report.residual > worst.residual || (!report.direct && worst.direct) {
            worst = SolveReport {
                direct: worst.direct && report.direct,
                sweeps: worst.sweeps.max(report.sweeps),
                residual: worst.residual.max(report.residual),
            };
        }
        let conversion = (p_conversion - p).max(0.0);
        let value = (expected_value - v).max(0.0);
        removal_effects.push(RemovalEffect {
            channel: paths.channel_names()[c].clone(),
            conversion,
            conversion_relative: if p_conversion > 0.0 {
                conversion / p_conversion
            } else {
                0.0
            },
            value,
            value_relative: if expected_value > 0.0 {
                value / expected_value
            } else {
                0.0
            },
        });
    }
    let total_conv = paths.total_conversions();
    let total_value = paths.total_value();
    let sum_re: f64 = removal_effects.iter().map(|r| r.conversion).sum();
    let sum_rev: f64 = removal_effects.iter().map(|r| r.value).sum();
    let conversions = removal_effects
        .iter()
        .map(|r| {
            if sum_re > 0.0 {
                total_conv * r.conversion / sum_re
            } else {
                0.0
            }
        })
        .collect();
    let values = removal_effects
        .iter()
        .map(|r| {
            if sum_rev > 0.0 {
                total_value * r.value / sum_rev
            } else {
                0.0
            }
        })
        .collect();
    Ok(MarkovFit {
        options,
        channels: paths.channel_names().to_vec(),
        states: n,
        p_conversion,
        expected_value,
        removal_effects,
        conversions,
        values,
        solve: worst,
        window,
        window_len,
        start,
        chain,
        out_weight,
        edge_weight,
        conv_w,
        null_w,
    })
}

impl MarkovFit {
    /// Name of state `s`: its channels joined by `>`.
    pub fn state_name(&self, s: usize) -> String {
        let len = self.window_len[s] as usize;
        self.window[s][..len]
            .iter()
            .map(|&c| self.channels[c as usize].as_str())
            .collect::<Vec<_>>()
            .join(">")
    }

    /// Every transition of the fitted chain, including start, conversion and null, with
    /// probabilities and weighted counts.
    pub fn transitions(&self) -> Vec<Transition> {
        let mut out = Vec::new();
        let start_total: f64 = self.start.iter().sum();
        for (s, &w) in self.start.iter().enumerate() {
            if w > 0.0 {
                out.push(Transition {
                    from: "(start)".into(),
                    to: self.state_name(s),
                    probability: w / start_total,
                    weight: w,
                });
            }
        }
        for s in 0..self.states {
            let from = self.state_name(s);
            let ow = self.out_weight[s];
            if self.chain.stay[s] > 0.0 {
                out.push(Transition {
                    from: from.clone(),
                    to: from.clone(),
                    probability: self.chain.stay[s],
                    weight: self.chain.stay[s] * ow,
                });
            }
            for k in self.chain.row_start[s]..self.chain.row_start[s + 1] {
                out.push(Transition {
                    from: from.clone(),
                    to: self.state_name(self.chain.target[k] as usize),
                    probability: self.chain.prob[k],
                    weight: self.edge_weight[k],
                });
            }
            for (to, w) in [("(conversion)", self.conv_w[s]), ("(null)", self.null_w[s])] {
                if w > 0.0 {
                    out.push(Transition {
                        from: from.clone(),
                        to: to.into(),
                        probability: w / ow,
                        weight: w,
                    });
                }
            }
        }
        out
    }

    /// The conventions used, in words, for reports.
    pub fn conventions(&self) -> String {
        format!(
            "Markov order {k}: states are windows of {k} consecutive channels (shorter paths are one state); \
             consecutive identical states {collapse}; start→first state weighted by conversions+nulls, \
             last state→conversion by conversions, →null by nulls; removal effect = P(conv) − P(conv with every \
             state containing the channel removed); conversions and value shared in proportion to removal effects; \
             value through each last state's mean value per conversion. Solved exactly ({method}, {states} states, \
             max relative residual {res:.1e}).",
            k = self.options.order,
            collapse = if self.options.collapse {
                "collapsed"
            } else {
                "kept as self-loops"
            },
            method = if self.solve.direct {
                "dense Gaussian elimination".to_owned()
            } else {
                format!(
                    "Gauss–Seidel to machine precision, {} sweeps at most",
                    self.solve.sweeps
                )
            },
            states = self.states,
            res = self.solve.residual,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(rows: &[(&str, f64, f64, f64)]) -> PathSet {
        let mut text = String::from("path,total_conversions,total_conversion_value,total_null\n");
        for (p, c, v, n) in rows {
            text.push_str(&format!("{p},{c},{v},{n}\n"));
        }
        PathSet::read_csv(text.as_bytes(), ">", "t", |_| {}).unwrap()
    }

    #[test]
    fn hand_computed_order_one() {
        // A>B converts once, A fails once, B converts once.
        // Chain: start→A 2/3, start→B 1/3; A→B 1/2, A→null 1/2; B→conv 1.
        // P(conv) = 2/3·1/2 + 1/3 = 2/3. Without A: start→A is null → 1/3. Without B: 0.
        // Removal effects: A 1/3, B 2/3 → 2 conversions split 2/3 : 4/3.
        let fit = fit(
            &set(&[
                ("A>B", 1.0, 10.0, 0.0),
                ("A", 0.0, 0.0, 1.0),
                ("B", 1.0, 20.0, 0.0),
            ]),
            MarkovOptions::default(),
        )
        .unwrap();
        assert!((fit.p_conversion - 2.0 / 3.0).abs() < 1e-15);
        assert!((fit.removal_effects[0].conversion - 1.0 / 3.0).abs() < 1e-15);
        assert!((fit.removal_effects[1].conversion - 2.0 / 3.0).abs() < 1e-15);
        assert!((fit.removal_effects[0].conversion_relative - 0.5).abs() < 1e-15);
        assert!((fit.conversions[0] - 2.0 / 3.0).abs() < 1e-12);
        assert!((fit.conversions[1] - 4.0 / 3.0).abs() < 1e-12);
        // B's mean value per conversion is 15: E[value] = 2/3·15 = 10; without A: 1/3·15 = 5.
        assert!((fit.expected_value - 10.0).abs() < 1e-12);
        assert!((fit.removal_effects[0].value - 5.0).abs() < 1e-12);
        assert!((fit.values[0] - 10.0).abs() < 1e-12);
        assert!((fit.values[1] - 20.0).abs() < 1e-12);
    }

    #[test]
    fn matches_channelattribution_transition_matrix() {
        // The same data as the ChannelAttribution check in bench/attribution/README.md.
        let fit = fit(
            &set(&[
                ("A > A > B", 1.0, 10.0, 1.0),
                ("B > C", 2.0, 20.0, 1.0),
                ("C", 0.0, 0.0, 3.0),
                ("A > B > A", 1.0, 5.0, 0.0),
            ]),
            MarkovOptions::default(),
        )
        .unwrap();
        let t = fit.transitions();
        let p = |from: &str, to: &str| {
            t.iter()
                .find(|x| x.from == from && x.to == to)
                .map(|x| x.probability)
        };
        assert_eq!(p("(start)", "A"), Some(1.0 / 3.0));
        assert_eq!(p("A", "B"), Some(0.75));
        assert_eq!(p("A", "(conversion)"), Some(0.25));
        assert_eq!(p("A", "A"), None);
        assert_eq!(p("B", "C"), Some(0.5));
        assert_eq!(p("C", "(null)"), Some(2.0 / 3.0));
    }

    #[test]
    fn order_two_states_and_short_paths() {
        let fit = fit(
            &set(&[
                ("A>B>C", 1.0, 0.0, 0.0),
                ("A", 0.0, 0.0, 1.0),
                ("A>B>B>B", 1.0, 0.0, 1.0),
            ]),
            MarkovOptions {
                order: 2,
                collapse: true,
            },
        )
        .unwrap();
        let names: Vec<String> = (0..fit.states).map(|s| fit.state_name(s)).collect();
        assert_eq!(names, ["A>B", "B>C", "A", "B>B"]);
        let t = fit.transitions();
        assert!(!t.iter().any(|x| x.from == "B>B" && x.to == "B>B"));
        let kept = super::fit(
            &set(&[("A>B>B>B", 1.0, 0.0, 1.0)]),
            MarkovOptions {
                order: 2,
                collapse: false,
            },
        )
        .unwrap();
        let t = kept.transitions();
        let selfloop = t.iter().find(|x| x.from == "B>B" && x.to == "B>B").unwrap();
        assert_eq!(selfloop.probability, 0.5);
        assert!(kept.conventions().contains("self-loops"));
    }

    #[test]
    fn rejects_bad_order() {
        assert!(
            fit(
                &set(&[("A", 1.0, 0.0, 0.0)]),
                MarkovOptions {
                    order: 5,
                    collapse: true
                }
            )
            .is_err()
        );
    }
}
