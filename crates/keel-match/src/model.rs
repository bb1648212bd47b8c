//! The Fellegi–Sunter model: for every comparison level, the probability of seeing it among true
//! matches (m) and among non-matches (u); a pair's match weight is the prior log-odds plus the
//! log2 Bayes factors of its levels.
//!
//! u-probabilities come from random pairs (almost all non-matches); m-probabilities and the
//! prior are trained by expectation–maximisation on a sample of blocked pairs, so no labels are
//! needed. Labelled matches, when given, are blended into the m-probabilities (see
//! [`blend_labelled_matches`]).
//!
//! Shared attributes are combined with a guard (see [`crate::config::Role`]): their positive
//! evidence counts once, and is discounted when a personal identifier clearly disagrees.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::blocking::Blocks;
use crate::compare::Comparison;
use crate::config::{MatchSpec, Role, SharedEvidence};
use crate::error::MatchError;
use crate::records::Records;

/// At most this many comparisons are supported (comparison vectors live on the stack).
pub const MAX_COMPARISONS: usize = 32;
/// Largest bonus (in bits) a rare value can add to an exact agreement.
pub const TF_MAX_BONUS: f64 = 4.0;
/// Largest penalty (in bits) a very common value can take from an exact agreement.
pub const TF_MAX_PENALTY: f64 = 8.0;

/// Trained parameters of one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelParams {
    /// The level's description.
    pub label: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
}

/// Trained parameters of one comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonParams {
    /// Column compared.
    pub column: String,
    /// Levels, strongest first.
    pub levels: Vec<LevelParams>,
}

/// A trained model, serialisable so that it can be saved and reused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The configuration the model was trained with.
    pub spec: MatchSpec,
    /// Probability that a blocked candidate pair is a match.
    pub lambda: f64,
    /// Parameters per comparison, in field order.
    pub comparisons: Vec<ComparisonParams>,
    /// EM iterations run.
    pub em_iterations: usize,
    /// Candidate pairs EM was trained on.
    pub em_pairs: u64,
    /// What labelled pairs contributed (all zero/none when trained without labels).
    #[serde(default)]
    pub labels: LabelUse,
}

/// What labelled pairs contributed to a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelUse {
    /// Labelled matches blended into the m-probabilities.
    pub matches: usize,
    /// Labelled non-matches (checked, but they do not change the parameters).
    pub non_matches: usize,
}

/// Weight of the EM estimate of m when labelled matches are blended in: it acts as a Dirichlet
/// prior worth this many labelled matches. With 50 labelled matches, labels and EM weigh the
/// same; with a few, EM dominates; with hundreds, the labels do.
pub const LABEL_PRIOR_STRENGTH: f64 = 50.0;

/// Training options.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Random pairs sampled for u-probabilities.
    pub u_pairs: usize,
    /// Blocked pairs sampled for EM.
    pub em_pairs: u64,
    /// Maximum EM iterations.
    pub max_iterations: usize,
    /// Seed for sampling.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            u_pairs: 500_000,
            em_pairs: 1_000_000,
            max_iterations: 40,
            seed: 42,
        }
    }
}

/// A labelled pair of record indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    /// First record index.
    pub a: usize,
    /// Second record index.
    pub b: usize,
    /// Whether they are the same entity.
    pub is_match: bool,
}

/// SplitMix64: a small, seeded, reproducible generator for sampling.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % (n.max(1) as u64)) as usize
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A comparison vector on the stack.
pub type Gammas = [u8; MAX_COMPARISONS];

/// Computes the comparison vector of a pair.
pub fn gammas(
    comparisons: &[Comparison],
    ra: &Records,
    a: usize,
    rb: &Records,
    b: usize,
) -> Gammas {
    let mut g = [0u8; MAX_COMPARISONS];
    for (slot, c) in g.iter_mut().zip(comparisons) {
        *slot = c.gamma(ra, a, rb, b);
    }
    g
}

/// Precomputed weights for fast scoring.
#[derive(Debug, Clone)]
pub struct Scorer {
    /// The comparisons.
    pub comparisons: Vec<Comparison>,
    prior: f64,
    /// weights[c][g]: log2(m/u) of level g (g = 0 is 0).
    weights: Vec<Vec<f64>>,
    /// u of each level, for term-frequency adjustment.
    u: Vec<Vec<f64>>,
    roles: Vec<Role>,
    disagree: Vec<Vec<bool>>,
    tf: Vec<Vec<bool>>,
    shared: SharedEvidence,
    discount: f64,
    /// Comparisons in the order [`Scorer::score_at_least`] evaluates them: widest range of
    /// possible weights first, so a hopeless pair is recognised after few comparisons.
    order: Vec<usize>,
    /// After `k` comparisons of `order`: the most the remaining summed terms can still add.
    rest_summed: Vec<f64>,
    /// After `k` comparisons of `order`: the most a remaining guarded shared term can add.
    rest_shared: Vec<f64>,
}

/// One term of an explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Term {
    /// Column compared.
    pub column: String,
    /// Level reached ("null" when a value is missing).
    pub level: String,
    /// Standardised value on the left.
    pub left: Option<String>,
    /// Standardised value on the right.
    pub right: Option<String>,
    /// log2(m/u) of the level.
    pub bayes_weight: f64,
    /// Term-frequency adjustment in bits.
    pub tf_adjustment: f64,
    /// What the term actually contributed after the shared-evidence guard.
    pub counted: f64,
}

/// The waterfall of a pair's score.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Prior log-odds in bits.
    pub prior: f64,
    /// One term per comparison.
    pub terms: Vec<Term>,
    /// Whether a personal identifier clearly disagreed (shared evidence discounted).
    pub personal_disagreement: bool,
    /// Final match weight in bits.
    pub match_weight: f64,
    /// Final probability.
    pub match_probability: f64,
}

/// Converts a match weight (bits) into a probability.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// Converts a probability into a match weight (bits).
pub fn weight_of(probability: f64) -> f64 {
    let p = probability.clamp(1e-15, 1.0 - 1e-15);
    (p / (1.0 - p)).log2()
}

impl Scorer {
    fn new(model: &Model) -> Result<Self, MatchError> {
        let comparisons = Comparison::all(&model.spec.fields);
        if comparisons.len() != model.comparisons.len() {
            return Err(MatchError::ModelMismatch(format!(
                "{} comparisons configured, {} in the model",
                comparisons.len(),
                model.comparisons.len()
            )));
        }
        if comparisons.len() > MAX_COMPARISONS {
            return Err(MatchError::ModelMismatch(format!(
                "at most {MAX_COMPARISONS} fields can be compared"
            )));
        }
        let mut weights = Vec::new();
        let mut u = Vec::new();
        for (c, p) in comparisons.iter().zip(&model.comparisons) {
            if c.levels.len() != p.levels.len() || c.column != p.column {
                return Err(MatchError::ModelMismatch(format!(
                    "comparison of `{}` differs from the model's `{}`",
                    c.column, p.column
                )));
            }
            let mut w = vec![0.0];
            let mut uu = vec![1.0];
            for l in &p.levels {
                w.push((l.m.max(1e-12) / l.u.max(1e-12)).log2());
                uu.push(l.u.max(1e-12));
            }
            weights.push(w);
            u.push(uu);
        }
        let roles: Vec<Role> = comparisons.iter().map(|c| c.role).collect();
        let tf: Vec<Vec<bool>> = comparisons
            .iter()
            .map(|c| {
                std::iter::once(false)
                    .chain(c.levels.iter().map(|l| l.tf))
                    .collect()
            })
            .collect();
        // The widest a term can swing: its best level with the largest frequency bonus, its
        // worst with the largest penalty, and 0 for a missing value.
        let bound = |c: usize, pick: fn(f64, f64) -> f64, adjust: f64| -> f64 {
            weights[c]
                .iter()
                .enumerate()
                .map(|(g, w)| {
                    if tf[c].get(g).copied().unwrap_or(false) {
                        w + adjust
                    } else {
                        *w
                    }
                })
                .fold(0.0, pick)
        };
        let ceiling: Vec<f64> = (0..comparisons.len())
            .map(|c| bound(c, f64::max, TF_MAX_BONUS))
            .collect();
        let floor: Vec<f64> = (0..comparisons.len())
            .map(|c| bound(c, f64::min, -TF_MAX_PENALTY))
            .collect();
        let mut order: Vec<usize> = (0..comparisons.len()).collect();
        order.sort_by(|&a, &b| (ceiling[b] - floor[b]).total_cmp(&(ceiling[a] - floor[a])));
        let guarded = |c: usize| {
            model.spec.shared_evidence == SharedEvidence::Guarded && roles[c] == Role::Shared
        };
        let mut rest_summed = vec![0.0; order.len() + 1];
        let mut rest_shared = vec![0.0f64; order.len() + 1];
        for k in (0..order.len()).rev() {
            let c = order[k];
            rest_summed[k] = rest_summed[k + 1] + if guarded(c) { 0.0 } else { ceiling[c] };
            rest_shared[k] = rest_shared[k + 1].max(if guarded(c) { ceiling[c] } else { 0.0 });
        }
        Ok(Scorer {
            prior: weight_of(model.lambda),
            weights,
            u,
            order,
            rest_summed,
            rest_shared,
            roles,
            disagree: comparisons
                .iter()
                .map(|c| {
                    std::iter::once(false)
                        .chain(c.levels.iter().map(|l| l.disagree))
                        .collect()
                })
                .collect(),
            tf,
            shared: model.spec.shared_evidence,
            discount: model.spec.personal_veto_discount,
            comparisons,
        })
    }

    fn weight_at(&self, c: usize, g: u8) -> f64 {
        self.weights
            .get(c)
            .and_then(|w| w.get(usize::from(g)))
            .copied()
            .unwrap_or(0.0)
    }

    /// The term-frequency adjustment (bits) of comparison `c` at level `g` for a value held by
    /// `freq` of `non_null` records.
    pub fn tf_adjustment(&self, c: usize, g: u8, freq: u32, non_null: u32) -> f64 {
        let gi = usize::from(g);
        if !self
            .tf
            .get(c)
            .and_then(|t| t.get(gi))
            .copied()
            .unwrap_or(false)
            || non_null == 0
        {
            return 0.0;
        }
        let u_level = self
            .u
            .get(c)
            .and_then(|u| u.get(gi))
            .copied()
            .unwrap_or(1.0);
        let u_value = f64::from(freq.max(1)) / f64::from(non_null);
        (u_level / u_value)
            .log2()
            .clamp(-TF_MAX_PENALTY, TF_MAX_BONUS)
    }

    /// Combines per-comparison weights into the final weight; `counted` receives what each
    /// comparison contributed.
    fn combine(
        &self,
        g: &Gammas,
        tf: &[f64; MAX_COMPARISONS],
        counted: Option<&mut [f64; MAX_COMPARISONS]>,
    ) -> (f64, bool) {
        let n = self.comparisons.len();
        let mut local = [0.0; MAX_COMPARISONS];
        let mut total = self.prior;
        let mut veto = false;
        let mut best_shared: Option<(usize, f64)> = None;
        for c in 0..n {
            let w = self.weight_at(c, g[c]) + tf[c];
            let role = self.roles[c];
            if role == Role::Personal
                && self.disagree[c]
                    .get(usize::from(g[c]))
                    .copied()
                    .unwrap_or(false)
            {
                veto = true;
            }
            if role == Role::Shared && self.shared == SharedEvidence::Guarded && w > 0.0 {
                if best_shared.is_none_or(|(_, b)| w > b) {
                    best_shared = Some((c, w));
                }
                continue;
            }
            local[c] = w;
            total += w;
        }
        if let Some((c, w)) = best_shared {
            let w = if veto { w * self.discount } else { w };
            local[c] = w;
            total += w;
        }
        if let Some(out) = counted {
            *out = local;
        }
        (total, veto)
    }

    /// The match weight (bits) of record `a` of `ra` against record `b` of `rb`.
    pub fn score(&self, ra: &Records, a: usize, rb: &Records, b: usize) -> f64 {
        let g = gammas(&self.comparisons, ra, a, rb, b);
        let tf = self.tf_terms(&g, ra, a, rb, b);
        self.combine(&g, &tf, None).0
    }

    /// [`Scorer::score`] when the pair can reach `min_weight`, `None` as soon as the comparisons
    /// made so far prove it cannot: the rest are skipped. A real-time query asks only for
    /// candidates above the review threshold, and most pairs sharing a blocking key are
    /// different people whose e-mail or phone settles that after one or two comparisons.
    /// When it returns a weight, it is exactly `score`'s.
    pub fn score_at_least(
        &self,
        ra: &Records,
        a: usize,
        rb: &Records,
        b: usize,
        min_weight: f64,
    ) -> Option<f64> {
        let guarded = self.shared == SharedEvidence::Guarded;
        // The veto only ever scales shared evidence down; a discount above 1 would scale it up.
        let boost = self.discount.max(1.0);
        let mut g = [0u8; MAX_COMPARISONS];
        let mut tf = [0.0; MAX_COMPARISONS];
        let mut summed = self.prior;
        let mut best_shared = 0.0f64;
        for (k, &c) in self.order.iter().enumerate() {
            let cmp = &self.comparisons[c];
            g[c] = cmp.gamma(ra, a, rb, b);
            tf[c] = self.tf_term(c, g[c], ra, a, rb, b);
            let w = self.weight_at(c, g[c]) + tf[c];
            if guarded && self.roles[c] == Role::Shared && w > 0.0 {
                best_shared = best_shared.max(w);
            } else {
                summed += w;
            }
            let ceiling =
                summed + self.rest_summed[k + 1] + best_shared.max(self.rest_shared[k + 1]) * boost;
            if ceiling < min_weight {
                return None;
            }
        }
        Some(self.combine(&g, &tf, None).0)
    }

    /// The term-frequency adjustment of comparison `c` at level `g` for one pair.
    fn tf_term(&self, c: usize, g: u8, ra: &Records, a: usize, rb: &Records, b: usize) -> f64 {
        if g == 0 || !self.tf[c].get(usize::from(g)).copied().unwrap_or(false) {
            return 0.0;
        }
        let cmp = &self.comparisons[c];
        let (va, vb) = cmp.values(ra, a, rb, b);
        let freq = va.map_or(1, |v| v.freq).max(vb.map_or(1, |v| v.freq));
        let non_null = ra
            .columns
            .get(cmp.field)
            .map_or(0, |col| col.non_null)
            .max(rb.columns.get(cmp.field).map_or(0, |col| col.non_null));
        self.tf_adjustment(c, g, freq, non_null)
    }

    fn tf_terms(
        &self,
        g: &Gammas,
        ra: &Records,
        a: usize,
        rb: &Records,
        b: usize,
    ) -> [f64; MAX_COMPARISONS] {
        let mut tf = [0.0; MAX_COMPARISONS];
        for (c, slot) in tf.iter_mut().enumerate().take(self.comparisons.len()) {
            *slot = self.tf_term(c, g[c], ra, a, rb, b);
        }
        tf
    }

    /// The full waterfall of a pair.
    pub fn explain(&self, ra: &Records, a: usize, rb: &Records, b: usize) -> Explanation {
        let g = gammas(&self.comparisons, ra, a, rb, b);
        let tf = self.tf_terms(&g, ra, a, rb, b);
        let mut counted = [0.0; MAX_COMPARISONS];
        let (w, veto) = self.combine(&g, &tf, Some(&mut counted));
        let terms = self
            .comparisons
            .iter()
            .enumerate()
            .map(|(c, cmp)| {
                let (va, vb) = cmp.values(ra, a, rb, b);
                Term {
                    column: cmp.column.clone(),
                    level: match usize::from(g[c]) {
                        0 => "null".into(),
                        l => cmp
                            .levels
                            .get(l - 1)
                            .map_or_else(String::new, |x| x.label.clone()),
                    },
                    left: va.map(|v| v.text.to_string()),
                    right: vb.map(|v| v.text.to_string()),
                    bayes_weight: self.weight_at(c, g[c]),
                    tf_adjustment: tf[c],
                    counted: counted[c],
                }
            })
            .collect();
        Explanation {
            prior: self.prior,
            terms,
            personal_disagreement: veto,
            match_weight: w,
            match_probability: probability(w),
        }
    }
}

impl Model {
    /// The fast scorer for this model.
    pub fn scorer(&self) -> Result<Scorer, MatchError> {
        Scorer::new(self)
    }

    /// An untrained model with generic starting parameters.
    pub fn initial(spec: &MatchSpec) -> Self {
        let comparisons = Comparison::all(&spec.fields)
            .into_iter()
            .map(|c| {
                let agree = c.levels.iter().filter(|l| !l.disagree).count();
                let disagree = c.levels.len() - agree;
                let mut next_agree = 0;
                let levels = c
                    .levels
                    .iter()
                    .map(|l| {
                        let m = if l.disagree {
                            0.05 / disagree.max(1) as f64
                        } else {
                            next_agree += 1;
                            if next_agree == 1 {
                                0.7
                            } else {
                                0.25 / (agree - 1).max(1) as f64
                            }
                        };
                        let u = if l.disagree {
                            0.9 / disagree.max(1) as f64
                        } else {
                            0.1 / agree.max(1) as f64
                        };
                        LevelParams {
                            label: l.label.clone(),
                            m,
                            u,
                        }
                    })
                    .collect();
                ComparisonParams {
                    column: c.column,
                    levels,
                }
            })
            .collect();
        Model {
            spec: spec.clone(),
            lambda: 0.2,
            comparisons,
            em_iterations: 0,
            em_pairs: 0,
            labels: LabelUse::default(),
        }
    }
}

/// Estimates u-probabilities from random pairs (in link mode, one record from each input).
pub fn estimate_u(model: &mut Model, records: &Records, pairs: usize, seed: u64) {
    let comparisons = Comparison::all(&model.spec.fields);
    let n = records.len();
    if n < 2 {
        return;
    }
    let left: Vec<usize> = (0..n)
        .filter(|&i| records.sources.get(i) == Some(&0))
        .collect();
    let right: Vec<usize> = if records.is_link() {
        (0..n)
            .filter(|&i| records.sources.get(i) != Some(&0))
            .collect()
    } else {
        (0..n).collect()
    };
    if left.is_empty() || right.is_empty() {
        return;
    }
    let chunks = 64usize;
    let per_chunk = pairs.div_ceil(chunks);
    let counts: Vec<Vec<u64>> = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut rng = SplitMix::new(seed ^ mix(chunk as u64 + 1));
            let mut counts: Vec<Vec<u64>> = comparisons
                .iter()
                .map(|c| vec![0; c.levels.len() + 1])
                .collect();
            for _ in 0..per_chunk {
                let a = left.get(rng.below(left.len())).copied().unwrap_or(0);
                let b = right.get(rng.below(right.len())).copied().unwrap_or(0);
                if a == b {
                    continue;
                }
                for (c, cmp) in comparisons.iter().enumerate() {
                    let g = usize::from(cmp.gamma(records, a, records, b));
                    if let Some(x) = counts.get_mut(c).and_then(|v| v.get_mut(g)) {
                        *x += 1;
                    }
                }
            }
            counts.into_iter().flatten().collect()
        })
        .collect();
    let mut flat = vec![0u64; counts.first().map_or(0, Vec::len)];
    for c in &counts {
        for (t, x) in flat.iter_mut().zip(c) {
            *t += x;
        }
    }
    let mut offset = 0;
    for (params, cmp) in model.comparisons.iter_mut().zip(&comparisons) {
        let k = cmp.levels.len() + 1;
        let slice = flat.get(offset + 1..offset + k).unwrap_or(&[]);
        offset += k;
        let total: u64 = slice.iter().sum();
        // A pseudo-count keeps never-seen levels (exact email among random pairs) finite.
        let alpha = 0.5;
        for (l, &x) in params.levels.iter_mut().zip(slice) {
            l.u = (x as f64 + alpha) / (total as f64 + alpha * slice.len() as f64);
        }
    }
}

/// Distinct comparison vectors of sampled candidate pairs, with their counts, in a stable order.
/// With `rule`, only that rule's groups are sampled (pairs other rules also found included).
pub fn sample_patterns(
    comparisons: &[Comparison],
    records: &Records,
    blocks: &Blocks,
    rule: Option<usize>,
    max_pairs: u64,
    seed: u64,
) -> Vec<(Gammas, f64)> {
    let total = match rule {
        Some(r) => blocks.report.rules.get(r).map_or(0, |x| x.comparisons),
        None => blocks.report.total_comparisons,
    }
    .max(1);
    let rate = (max_pairs as f64 / total as f64).min(1.0);
    let cutoff = (rate * u64::MAX as f64) as u64;
    let maps: Vec<FxHashMap<Gammas, u64>> = (0..blocks.groups.len())
        .into_par_iter()
        .fold(FxHashMap::default, |mut map, g| {
            let group_rule = blocks.groups.get(g).map(|x| x.0);
            if rule.is_some() && group_rule != rule {
                return map;
            }
            blocks.pairs_in_group(g, records, rule.is_none(), |a, b| {
                if rate < 1.0 && mix(seed ^ ((a as u64) << 32 | b as u64)) > cutoff {
                    return;
                }
                *map.entry(gammas(comparisons, records, a, records, b))
                    .or_default() += 1;
            });
            map
        })
        .collect();
    let mut merged: FxHashMap<Gammas, u64> = FxHashMap::default();
    for m in maps {
        for (k, v) in m {
            *merged.entry(k).or_default() += v;
        }
    }
    let mut patterns: Vec<(Gammas, f64)> = merged.into_iter().map(|(k, v)| (k, v as f64)).collect();
    patterns.sort_unstable_by_key(|a| a.0);
    patterns
}

/// Blends labelled matches into the m-probabilities. Labelled matches are a direct sample of the
/// match class, which EM can only infer (and, under correlated agreements, infers with bias). The
/// current (EM) estimate of each comparison's m is taken as a Dirichlet prior worth `strength`
/// pairs; the labelled matches' levels are observations; m becomes the posterior mean
/// `(strength · m_EM + count) / (strength + n)`. Labelled pairs with a null on a comparison say
/// nothing about it and are skipped for that comparison.
///
/// Labelled non-matches are not used. u describes random non-matching pairs, and labelled
/// non-matches are chosen cases (typically hard look-alikes), not a sample of them; blended with
/// the hundreds of thousands of random pairs behind u they would change nothing anyway. Fitting
/// the guard's discount on shared evidence to both classes by conditional likelihood was tried
/// and rejected: a reviewed set has about as many non-matches as matches, unlike the candidate
/// pairs, and on generated data the fitted discount (0.5) cost more precision than it gained
/// recall (F1 0.892 → 0.861, against 0.902 with the m blend alone). Returns the number of
/// labelled matches used.
pub fn blend_labelled_matches(
    model: &mut Model,
    labelled: &[(Gammas, bool)],
    strength: f64,
) -> usize {
    for (c, params) in model.comparisons.iter_mut().enumerate() {
        let mut counts = vec![0.0; params.levels.len()];
        for (g, _) in labelled.iter().filter(|(_, is_match)| *is_match) {
            let level = usize::from(g.get(c).copied().unwrap_or(0));
            if let Some(x) = level.checked_sub(1).and_then(|l| counts.get_mut(l)) {
                *x += 1.0;
            }
        }
        let n: f64 = counts.iter().sum();
        if n == 0.0 {
            continue;
        }
        for (l, x) in params.levels.iter_mut().zip(&counts) {
            l.m = (strength * l.m + x) / (strength + n);
        }
    }
    labelled.iter().filter(|(_, m)| *m).count()
}

/// Trains m-probabilities and the prior by EM on comparison-vector patterns (u stays fixed).
/// Only comparisons marked in `trainable` have their m updated; the prior is always updated.
/// `labelled` patterns carry a known class. Returns the iterations run.
pub fn train_em(
    model: &mut Model,
    patterns: &[(Gammas, f64)],
    labelled: &[(Gammas, bool)],
    trainable: &[bool],
    max_iterations: usize,
) -> Result<usize, MatchError> {
    let n_comp = model.comparisons.len();
    let mut iterations = 0;
    for _ in 0..max_iterations {
        iterations += 1;
        let scorer = model.scorer()?;
        let zero = [0.0; MAX_COMPARISONS];
        let mut sums: Vec<Vec<f64>> = model
            .comparisons
            .iter()
            .map(|c| vec![0.0; c.levels.len() + 1])
            .collect();
        let mut matched = 0.0;
        let mut total = 0.0;
        let observations = patterns
            .iter()
            .map(|(g, n)| (g, *n, None))
            .chain(labelled.iter().map(|(g, m)| (g, 1.0, Some(*m))));
        for (g, count, known) in observations {
            let p = match known {
                Some(true) => 1.0,
                Some(false) => 0.0,
                None => probability(scorer.combine(g, &zero, None).0),
            };
            matched += p * count;
            total += count;
            for (s, &gc) in sums.iter_mut().zip(g.iter()).take(n_comp) {
                if let Some(s) = s.get_mut(usize::from(gc)) {
                    *s += p * count;
                }
            }
        }
        if total == 0.0 {
            break;
        }
        let mut change: f64 = 0.0;
        let alpha = 0.5;
        for ((params, s), _) in model
            .comparisons
            .iter_mut()
            .zip(&sums)
            .zip(trainable)
            .filter(|(_, t)| **t)
        {
            let levels = s.get(1..).unwrap_or(&[]);
            let denom: f64 = levels.iter().sum::<f64>() + alpha * levels.len() as f64;
            for (l, &x) in params.levels.iter_mut().zip(levels) {
                let m = (x + alpha) / denom;
                change = change.max((m - l.m).abs());
                l.m = m;
            }
        }
        let lambda = (matched / total).clamp(1e-9, 1.0 - 1e-9);
        change = change.max((lambda - model.lambda).abs());
        model.lambda = lambda;
        if change < 1e-5 {
            break;
        }
    }
    model.em_iterations = iterations;
    model.em_pairs = patterns.iter().map(|p| p.1 as u64).sum();
    Ok(iterations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FieldKind, FieldSpec};

    fn spec(n: usize) -> MatchSpec {
        MatchSpec::with_fields(
            (0..n)
                .map(|i| FieldSpec {
                    column: format!("c{i}"),
                    kind: FieldKind::Exact,
                    role: Some(Role::Other),
                    tf: Some(false),
                    thresholds: None,
                })
                .collect(),
        )
    }

    /// EM recovers known m-probabilities and prior from data generated by the model itself
    /// (conditionally independent comparisons, known u).
    #[test]
    fn em_recovers_known_parameters() {
        let true_m = [0.95, 0.9, 0.8, 0.85];
        let true_u = [0.05, 0.1, 0.2, 0.02];
        let lambda = 0.3;
        let mut rng = SplitMix::new(7);
        let mut counts: FxHashMap<Gammas, f64> = FxHashMap::default();
        let unit = |rng: &mut SplitMix| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        for _ in 0..200_000 {
            let is_match = unit(&mut rng) < lambda;
            let mut g = [0u8; MAX_COMPARISONS];
            for c in 0..4 {
                let p = if is_match { true_m[c] } else { true_u[c] };
                g[c] = if unit(&mut rng) < p { 1 } else { 2 };
            }
            *counts.entry(g).or_default() += 1.0;
        }
        let mut patterns: Vec<_> = counts.into_iter().collect();
        patterns.sort_unstable_by_key(|a| a.0);
        let mut model = Model::initial(&spec(4));
        for (c, p) in model.comparisons.iter_mut().enumerate() {
            p.levels[0].u = true_u[c];
            p.levels[1].u = 1.0 - true_u[c];
        }
        train_em(&mut model, &patterns, &[], &[true; 4], 200).unwrap();
        assert!(
            (model.lambda - lambda).abs() < 0.01,
            "lambda {}",
            model.lambda
        );
        for (c, p) in model.comparisons.iter().enumerate() {
            assert!(
                (p.levels[0].m - true_m[c]).abs() < 0.01,
                "m[{c}] = {}",
                p.levels[0].m
            );
        }
    }

    /// Labelled matches move m towards their level frequencies by the Dirichlet posterior mean;
    /// nulls and non-matches leave m alone.
    #[test]
    fn labelled_matches_blend_into_m() {
        let mut model = Model::initial(&spec(2));
        for p in &mut model.comparisons {
            p.levels[0].m = 0.5;
            p.levels[1].m = 0.5;
        }
        let mut labelled = Vec::new();
        for _ in 0..50 {
            let mut g = [0u8; MAX_COMPARISONS];
            g[0] = 1; // agrees on c0, null on c1
            labelled.push((g, true));
            let mut g = [0u8; MAX_COMPARISONS];
            g[0] = 2;
            g[1] = 2;
            labelled.push((g, false));
        }
        let used = blend_labelled_matches(&mut model, &labelled, LABEL_PRIOR_STRENGTH);
        assert_eq!(used, 50);
        let c0 = &model.comparisons[0].levels;
        assert!((c0[0].m - 0.75).abs() < 1e-12, "{}", c0[0].m);
        assert!((c0[1].m - 0.25).abs() < 1e-12);
        let c1 = &model.comparisons[1].levels;
        assert_eq!((c1[0].m, c1[1].m), (0.5, 0.5));
    }

    #[test]
    fn probability_and_weight_are_inverse() {
        for p in [0.01, 0.5, 0.9, 0.999] {
            assert!((probability(weight_of(p)) - p).abs() < 1e-9);
        }
        assert_eq!(probability(0.0), 0.5);
    }
}
