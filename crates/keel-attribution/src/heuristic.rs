//! Rule-based models: each gives every touch of a journey a fixed share of its conversion.
//!
//! Conventions (the same for paths files and event journeys):
//! - shares are per touch, so a channel touched twice gets two shares (as ChannelAttribution's
//!   linear model does);
//! - position-based models with weights (first, middle, last): one touch takes everything, two
//!   touches split first:last in proportion, three or more give the middle share equally to the
//!   touches between first and last;
//! - milestone models (W-shaped, full path/Z) give each milestone its weight (weights of
//!   milestones that fall on the same touch add up) and share the rest equally over the other
//!   touches; when there are no other touches the milestone weights are scaled to sum to 1.
//!   The lead-creation milestone is the touch in which the person first identified when known,
//!   otherwise the middle touch; the opportunity milestone (Z) is midway between lead and last;
//! - time decay weighs a touch by 2^(−age / half-life), with age measured back from the
//!   conversion: in the half-life's unit for timed journeys, in touches for paths files.

/// A rule-based model and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Heuristic {
    /// All credit to the first touch.
    FirstTouch,
    /// All credit to the last touch.
    LastTouch,
    /// All credit to the last touch not in the direct channel (the last touch if all are direct).
    LastNonDirect {
        /// Name of the direct channel (compared case-insensitively).
        direct: String,
    },
    /// Equal credit to every touch.
    Linear,
    /// Credit halves every `half_life` before the conversion.
    TimeDecay {
        /// Half-life, in the unit of the journey's ages (days for events, touches for paths).
        half_life: f64,
    },
    /// Position-based with explicit (first, middle, last) weights; U-shaped, J and inverse J.
    Position {
        /// Weight of the first touch.
        first: f64,
        /// Weight shared by the middle touches.
        middle: f64,
        /// Weight of the last touch.
        last: f64,
    },
    /// 30% first, 30% lead creation, 30% last, 10% shared by the rest.
    WShaped,
    /// 22.5% each to first, lead creation, opportunity creation and last; 10% to the rest.
    FullPath,
}

impl Heuristic {
    /// U-shaped position-based model with the customary 40/20/40 weights.
    pub fn u_shaped() -> Self {
        Heuristic::Position {
            first: 0.4,
            middle: 0.2,
            last: 0.4,
        }
    }

    /// J-shaped: 20% first, 20% middle, 60% last.
    pub fn j_shaped() -> Self {
        Heuristic::Position {
            first: 0.2,
            middle: 0.2,
            last: 0.6,
        }
    }

    /// Inverse J: 60% first, 20% middle, 20% last.
    pub fn inverse_j() -> Self {
        Heuristic::Position {
            first: 0.6,
            middle: 0.2,
            last: 0.2,
        }
    }

    /// Checks the parameters; returns a message when they cannot produce shares.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Heuristic::TimeDecay { half_life } if !(half_life.is_finite() && *half_life > 0.0) => {
                Err(format!("time-decay half-life must be > 0, got {half_life}"))
            }
            Heuristic::Position {
                first,
                middle,
                last,
            } => {
                let all = [*first, *middle, *last];
                if all.iter().any(|w| !w.is_finite() || *w < 0.0) {
                    return Err("position weights must be finite and ≥ 0".into());
                }
                let sum: f64 = all.iter().sum();
                if (sum - 1.0).abs() > 1e-9 {
                    return Err(format!(
                        "position weights must sum to 1 (first+middle+last = {sum})"
                    ));
                }
                if first + last <= 0.0 {
                    return Err("position weights need first or last > 0".into());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Writes the share of each touch of `path` into `out` (resized to the path length; shares sum
    /// to 1). `ages` are the touch ages when known, `lead` the lead-creation touch when known and
    /// `direct` the channel id of the direct channel when it occurs in the data.
    pub fn shares(
        &self,
        path: &[u32],
        ages: Option<&[f64]>,
        lead: Option<usize>,
        direct: Option<u32>,
        out: &mut Vec<f64>,
    ) {
        let n = path.len();
        out.clear();
        out.resize(n, 0.0);
        if n == 0 {
            return;
        }
        match self {
            Heuristic::FirstTouch => out[0] = 1.0,
            Heuristic::LastTouch => out[n - 1] = 1.0,
            Heuristic::LastNonDirect { .. } => {
                let i = path
                    .iter()
                    .rposition(|&c| Some(c) != direct)
                    .unwrap_or(n - 1);
                out[i] = 1.0;
            }
            Heuristic::Linear => out.iter_mut().for_each(|w| *w = 1.0 / n as f64),
            Heuristic::TimeDecay { half_life } => {
                let mut sum = 0.0;
                for (i, w) in out.iter_mut().enumerate() {
                    let age = ages.map_or((n - 1 - i) as f64, |a| a[i].max(0.0));
                    *w = (-age / half_life * std::f64::consts::LN_2).exp();
                    sum += *w;
                }
                if sum > 0.0 {
                    out.iter_mut().for_each(|w| *w /= sum);
                } else {
                    out.iter_mut().for_each(|w| *w = 1.0 / n as f64);
                }
            }
            Heuristic::Position {
                first,
                middle,
                last,
            } => milestones(&[(0, *first), (n - 1, *last)], *middle, out),
            Heuristic::WShaped => {
                let lead = lead.filter(|&l| l < n).unwrap_or((n - 1) / 2);
                milestones(&[(0, 0.3), (lead, 0.3), (n - 1, 0.3)], 0.1, out);
            }
            Heuristic::FullPath => {
                let lead = lead.filter(|&l| l < n).unwrap_or((n - 1) / 3);
                let opp = (lead + n - 1).div_ceil(2).min(n - 1);
                milestones(
                    &[(0, 0.225), (lead, 0.225), (opp, 0.225), (n - 1, 0.225)],
                    0.1,
                    out,
                );
            }
        }
    }

    /// A short reason for the share of touch `i` of an `n`-touch journey, for explanations.
    pub fn reason(&self, i: usize, n: usize, lead: Option<usize>, share: f64) -> String {
        let pct = share * 100.0;
        let pos = if n == 1 {
            "only touch"
        } else if i == 0 {
            "first touch"
        } else if i + 1 == n {
            "last touch"
        } else {
            "middle touch"
        };
        match self {
            Heuristic::FirstTouch | Heuristic::LastTouch => format!("{pos}: {pct:.1}%"),
            Heuristic::LastNonDirect { direct } => {
                if share > 0.0 {
                    format!("last touch not in `{direct}`: {pct:.1}%")
                } else {
                    format!("{pos}: 0% (not the last non-direct touch)")
                }
            }
            Heuristic::Linear => format!("{pos}: 1/{n} of the credit = {pct:.1}%"),
            Heuristic::TimeDecay { half_life } => {
                format!("{pos}: weight 2^(−age/{half_life}) normalised = {pct:.1}%")
            }
            Heuristic::Position { .. } => format!("{pos}: position weight = {pct:.1}%"),
            Heuristic::WShaped | Heuristic::FullPath => {
                let lead_note = match lead {
                    Some(l) if l == i => " (lead-creation touch)",
                    _ => "",
                };
                format!("{pos}{lead_note}: milestone weight = {pct:.1}%")
            }
        }
    }
}

fn milestones(marks: &[(usize, f64)], rest: f64, out: &mut [f64]) {
    let n = out.len();
    let mut is_mark = [usize::MAX; 4];
    let mut mark_sum = 0.0;
    for (k, &(i, w)) in marks.iter().enumerate() {
        out[i] += w;
        mark_sum += w;
        if k < 4 {
            is_mark[k] = i;
        }
    }
    let others = (0..n).filter(|i| !is_mark.contains(i)).count();
    if others == 0 {
        if mark_sum > 0.0 {
            out.iter_mut().for_each(|w| *w /= mark_sum);
        }
        return;
    }
    let each = rest / others as f64;
    for (i, w) in out.iter_mut().enumerate() {
        if !is_mark.contains(&i) {
            *w = each;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(h: &Heuristic, n: usize) -> Vec<f64> {
        let path: Vec<u32> = (0..n as u32).collect();
        let mut out = Vec::new();
        h.shares(&path, None, None, None, &mut out);
        out
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn first_last_linear() {
        close(&shares(&Heuristic::FirstTouch, 3), &[1.0, 0.0, 0.0]);
        close(&shares(&Heuristic::LastTouch, 3), &[0.0, 0.0, 1.0]);
        close(&shares(&Heuristic::Linear, 4), &[0.25; 4]);
    }

    #[test]
    fn last_non_direct_skips_direct() {
        let mut out = Vec::new();
        let h = Heuristic::LastNonDirect {
            direct: "Direct".into(),
        };
        h.shares(&[1, 2, 0, 0], None, None, Some(0), &mut out);
        close(&out, &[0.0, 1.0, 0.0, 0.0]);
        h.shares(&[0, 0], None, None, Some(0), &mut out);
        close(&out, &[0.0, 1.0]);
    }

    #[test]
    fn time_decay_by_steps_and_ages() {
        // Half-life of one touch: weights 1/4, 1/2, 1 → /1.75.
        close(
            &shares(&Heuristic::TimeDecay { half_life: 1.0 }, 3),
            &[0.25 / 1.75, 0.5 / 1.75, 1.0 / 1.75],
        );
        let mut out = Vec::new();
        // Ages 14 and 0 days, half-life 7: weights 1/4 and 1 → 0.2, 0.8.
        Heuristic::TimeDecay { half_life: 7.0 }.shares(
            &[0, 1],
            Some(&[14.0, 0.0]),
            None,
            None,
            &mut out,
        );
        close(&out, &[0.2, 0.8]);
    }

    #[test]
    fn position_based_family() {
        let u = Heuristic::u_shaped();
        close(&shares(&u, 1), &[1.0]);
        close(&shares(&u, 2), &[0.5, 0.5]);
        close(&shares(&u, 3), &[0.4, 0.2, 0.4]);
        close(&shares(&u, 4), &[0.4, 0.1, 0.1, 0.4]);
        close(&shares(&Heuristic::j_shaped(), 2), &[0.25, 0.75]);
        close(&shares(&Heuristic::j_shaped(), 4), &[0.2, 0.1, 0.1, 0.6]);
        close(&shares(&Heuristic::inverse_j(), 3), &[0.6, 0.2, 0.2]);
        assert!(
            Heuristic::Position {
                first: 0.5,
                middle: 0.5,
                last: 0.5
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn w_shaped_and_full_path() {
        close(&shares(&Heuristic::WShaped, 1), &[1.0]);
        // Two touches: the lead milestone falls on the first touch, so first gets 0.6 of 0.9.
        close(&shares(&Heuristic::WShaped, 2), &[2.0 / 3.0, 1.0 / 3.0]);
        close(&shares(&Heuristic::WShaped, 3), &[1.0 / 3.0; 3]);
        // Lead = middle touch (index 1 of 4): 30/30/10/30.
        close(&shares(&Heuristic::WShaped, 4), &[0.3, 0.3, 0.1, 0.3]);
        close(
            &shares(&Heuristic::WShaped, 5),
            &[0.3, 0.05, 0.3, 0.05, 0.3],
        );
        let mut out = Vec::new();
        Heuristic::WShaped.shares(&[0, 1, 2, 3], None, Some(2), None, &mut out);
        close(&out, &[0.3, 0.1, 0.3, 0.3]);
        // Z with 6 touches: lead (5/3 → 1), opportunity midway to last (3), rest 2 and 4.
        close(
            &shares(&Heuristic::FullPath, 6),
            &[0.225, 0.225, 0.05, 0.225, 0.05, 0.225],
        );
        close(&shares(&Heuristic::FullPath, 4), &[0.25; 4]);
        close(&shares(&Heuristic::FullPath, 2), &[0.5, 0.5]);
    }
}
