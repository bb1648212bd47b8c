//! Shapley-value attribution over channel sets.
//!
//! The game: a coalition S of channels is worth the conversion rate of the journeys whose channels
//! all lie in S, v(S) = conversions(⊆S) / (conversions(⊆S) + nulls(⊆S)), with v(∅) = 0 (and 0 when
//! no journey lies in S). Value uses the value-per-journey game the same way. A channel's Shapley
//! value is its average marginal contribution over all orders in which channels can join; channels
//! share the total conversions (and value) in proportion to their positive Shapley values (a
//! negative value — the channel lowers the rate — is reported and credited nothing).
//!
//! Up to [`ShapleyOptions::exact_max_channels`] channels the values are exact (all 2^n coalitions,
//! with a subset-sum transform). Beyond, they are estimated from seeded random orders; marginal
//! contributions to a rate lie in [−1, 1], so by Hoeffding's inequality with a union bound over
//! channels every estimate is within the stated `error_bound` of the exact value with 95%
//! probability.

use crate::{Error, PathSet};
use rustc_hash::FxHashMap;

/// Options of the Shapley model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapleyOptions {
    /// Largest channel count solved exactly (at most 24).
    pub exact_max_channels: usize,
    /// Random orders drawn when sampling.
    pub samples: usize,
    /// Seed of the sampler.
    pub seed: u64,
}

impl Default for ShapleyOptions {
    fn default() -> Self {
        ShapleyOptions {
            exact_max_channels: 20,
            samples: 20_000,
            seed: 1,
        }
    }
}

/// A fitted Shapley model.
#[derive(Debug, Clone)]
pub struct ShapleyFit {
    /// Channel names by id.
    pub channels: Vec<String>,
    /// Shapley value of each channel in the conversion-rate game.
    pub shapley: Vec<f64>,
    /// Shapley value of each channel in the value-per-journey game.
    pub shapley_value: Vec<f64>,
    /// Attributed conversions per channel.
    pub conversions: Vec<f64>,
    /// Attributed value per channel.
    pub values: Vec<f64>,
    /// `None` when exact, otherwise the 95% bound on |estimate − exact| of `shapley`.
    pub error_bound: Option<f64>,
}

impl ShapleyFit {
    /// The conventions used, in words, for reports.
    pub fn conventions(&self) -> String {
        let how = match self.error_bound {
            None => "exact over all coalitions".to_owned(),
            Some(e) => {
                format!("sampled orders, each Shapley value within ±{e:.2e} with 95% probability")
            }
        };
        format!(
            "Shapley: v(S) = conversion rate of journeys whose channels all lie in S; credit in proportion \
             to positive Shapley values; {how}."
        )
    }
}

#[derive(Clone, Copy, Default)]
struct Cell {
    conv: f64,
    value: f64,
    total: f64,
}

/// Fits the model on a paths table.
pub fn fit(paths: &PathSet, options: ShapleyOptions) -> Result<ShapleyFit, Error> {
    let n = paths.channel_names().len();
    if n > 64 {
        return Err(Error::Model(format!(
            "Shapley attribution supports at most 64 channels, the data has {n}; group channels first"
        )));
    }
    let mut cells: FxHashMap<u64, Cell> = FxHashMap::default();
    for i in 0..paths.len() {
        let mask = paths.path(i).iter().fold(0u64, |m, &c| m | (1u64 << c));
        let cell = cells.entry(mask).or_default();
        cell.conv += paths.conversions(i);
        cell.value += paths.value(i);
        cell.total += paths.conversions(i) + paths.nulls(i);
    }
    let (shapley, shapley_value, error_bound) = if n <= options.exact_max_channels.min(24) {
        let (a, b) = exact(n, &cells);
        (a, b, None)
    } else {
        if options.samples == 0 {
            return Err(Error::Model(
                "Shapley sampling needs at least one sample".into(),
            ));
        }
        let (a, b) = sampled(n, &cells, options);
        let m = options.samples as f64;
        // Hoeffding: P(|mean − μ| ≥ ε) ≤ 2·exp(−2mε²/(b−a)²) with b−a = 2; union bound over n.
        let delta = 0.05 / n as f64;
        let eps = 2.0 * ((2.0 / delta).ln() / (2.0 * m)).sqrt();
        (a, b, Some(eps))
    };
    let share = |phi: &[f64], total: f64| -> Vec<f64> {
        let pos: f64 = phi.iter().map(|p| p.max(0.0)).sum();
        phi.iter()
            .map(|p| {
                if pos > 0.0 {
                    total * p.max(0.0) / pos
                } else {
                    0.0
                }
            })
            .collect()
    };
    Ok(ShapleyFit {
        channels: paths.channel_names().to_vec(),
        conversions: share(&shapley, paths.total_conversions()),
        values: share(&shapley_value, paths.total_value()),
        shapley,
        shapley_value,
        error_bound,
    })
}

fn rate(c: &Cell) -> (f64, f64) {
    if c.total > 0.0 {
        (c.conv / c.total, c.value / c.total)
    } else {
        (0.0, 0.0)
    }
}

fn exact(n: usize, cells: &FxHashMap<u64, Cell>) -> (Vec<f64>, Vec<f64>) {
    let size = 1usize << n;
    let mut f = vec![Cell::default(); size];
    for (&mask, c) in cells {
        let cell = &mut f[mask as usize];
        cell.conv += c.conv;
        cell.value += c.value;
        cell.total += c.total;
    }
    // Subset-sum (zeta) transform: f[S] = Σ_{T ⊆ S} cells[T].
    for bit in 0..n {
        for s in 0..size {
            if s & (1 << bit) != 0 {
                let lower = f[s ^ (1 << bit)];
                let cell = &mut f[s];
                cell.conv += lower.conv;
                cell.value += lower.value;
                cell.total += lower.total;
            }
        }
    }
    let v: Vec<(f64, f64)> = f.iter().map(rate).collect();
    // weight[k] = k!(n−k−1)!/n! for coalitions of size k not containing the channel.
    let mut weight = vec![0.0; n.max(1)];
    for (k, w) in weight.iter_mut().enumerate() {
        let mut x = 1.0 / n as f64;
        // 1/(n · C(n−1, k))
        let mut binom = 1.0;
        for j in 0..k {
            binom = binom * (n - 1 - j) as f64 / (j + 1) as f64;
        }
        x /= binom;
        *w = x;
    }
    let mut phi = vec![0.0; n];
    let mut phi_v = vec![0.0; n];
    for s in 0..size {
        let k = (s as u64).count_ones() as usize;
        if k == n {
            continue;
        }
        let w = weight[k];
        for c in 0..n {
            if s & (1 << c) == 0 {
                let with = v[s | (1 << c)];
                phi[c] += w * (with.0 - v[s].0);
                phi_v[c] += w * (with.1 - v[s].1);
            }
        }
    }
    (phi, phi_v)
}

/// SplitMix64: tiny, seeded and stable across versions, which is what reproducible sampling needs.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n
    }
}

fn sampled(
    n: usize,
    cells: &FxHashMap<u64, Cell>,
    options: ShapleyOptions,
) -> (Vec<f64>, Vec<f64>) {
    let list: Vec<(u64, Cell)> = {
        let mut l: Vec<(u64, Cell)> = cells.iter().map(|(&m, &c)| (m, c)).collect();
        l.sort_by_key(|&(m, _)| m);
        l
    };
    let mut rng = SplitMix(options.seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut pos = vec![0usize; n];
    let mut step = vec![Cell::default(); n];
    let mut phi = vec![0.0; n];
    let mut phi_v = vec![0.0; n];
    for _ in 0..options.samples {
        for i in (1..n).rev() {
            let j = rng.below(i + 1);
            order.swap(i, j);
        }
        for (p, &c) in order.iter().enumerate() {
            pos[c] = p;
        }
        step.iter_mut().for_each(|s| *s = Cell::default());
        // A journey joins the coalition when the last of its channels does.
        for (mask, cell) in &list {
            let mut m = *mask;
            let mut at = 0;
            while m != 0 {
                let c = m.trailing_zeros() as usize;
                at = at.max(pos[c]);
                m &= m - 1;
            }
            let s = &mut step[at];
            s.conv += cell.conv;
            s.value += cell.value;
            s.total += cell.total;
        }
        let mut acc = Cell::default();
        let mut prev = (0.0, 0.0);
        for (p, &c) in order.iter().enumerate() {
            acc.conv += step[p].conv;
            acc.value += step[p].value;
            acc.total += step[p].total;
            let now = rate(&acc);
            phi[c] += now.0 - prev.0;
            phi_v[c] += now.1 - prev.1;
            prev = now;
        }
    }
    let m = options.samples as f64;
    (
        phi.into_iter().map(|x| x / m).collect(),
        phi_v.into_iter().map(|x| x / m).collect(),
    )
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
    fn hand_computed_two_channels() {
        // A alone: 1 of 4 convert; B alone: 1 of 2; A+B: 2 of 2.
        // v(A) = 1/4, v(B) = 1/2, v(AB) = 4/8 = 1/2.
        // φA = ½(v(A) − 0) + ½(v(AB) − v(B)) = 1/8; φB = ½·½ + ½(½ − ¼) = 3/8.
        let data = set(&[
            ("A", 1.0, 0.0, 3.0),
            ("B", 1.0, 0.0, 1.0),
            ("A>B", 2.0, 0.0, 0.0),
        ]);
        let fit = fit(&data, ShapleyOptions::default()).unwrap();
        assert!((fit.shapley[0] - 0.125).abs() < 1e-15);
        assert!((fit.shapley[1] - 0.375).abs() < 1e-15);
        assert!((fit.conversions[0] - 1.0).abs() < 1e-12);
        assert!((fit.conversions[1] - 3.0).abs() < 1e-12);
        assert!(fit.error_bound.is_none());
    }

    #[test]
    fn sampling_is_within_its_bound() {
        let data = set(&[
            ("A>B", 3.0, 0.0, 5.0),
            ("C", 1.0, 0.0, 9.0),
            ("A>C>D", 2.0, 0.0, 1.0),
            ("B>D", 1.0, 0.0, 2.0),
            ("E>A", 1.0, 0.0, 1.0),
        ]);
        let exact = fit(&data, ShapleyOptions::default()).unwrap();
        let est = fit(
            &data,
            ShapleyOptions {
                exact_max_channels: 0,
                samples: 4000,
                seed: 7,
            },
        )
        .unwrap();
        let bound = est.error_bound.unwrap();
        for (a, b) in exact.shapley.iter().zip(&est.shapley) {
            assert!((a - b).abs() <= bound, "{a} vs {b} (bound {bound})");
        }
        // Efficiency: Shapley values sum to v(all) − v(∅).
        let sum: f64 = exact.shapley.iter().sum();
        assert!((sum - 8.0 / 26.0).abs() < 1e-12);
    }
}
