//! Keel's matching engine: deduplication and record linkage for leads and contacts.
//!
//! Data in, scored pairs and clusters out — the crate does no I/O. A run goes:
//!
//! 1. [`records`]: raw values are standardised per [`config::FieldKind`] into compact columns;
//! 2. [`blocking`]: OR-ed rules choose the candidate pairs;
//! 3. [`compare`]: each candidate pair gets a graded level per field;
//! 4. [`model`]: a Fellegi–Sunter model (u from random pairs, m and the prior by EM, term-frequency
//!    adjustment, guarded shared evidence) turns levels into a match weight and probability;
//! 5. [`cluster`]: links above the threshold become entities;
//!
//! and [`index`] matches single new records against existing ones in real time.
//!
//! Invariant: for a given input, configuration and seed the output is identical whatever the
//! number of threads.

pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod config;
pub mod error;
pub mod index;
pub mod model;
pub mod records;
pub mod standardise;
pub mod synthetic;

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

pub use blocking::{BlockingReport, BlockingRule};
pub use cluster::{ClusterMetrics, Clustering, Link};
pub use config::{FieldKind, FieldSpec, MatchSpec, Problem, Role};
pub use error::MatchError;
pub use index::{Candidate, MatchIndex, Prepared};
pub use model::{Explanation, Label, Model, TrainOptions, probability, weight_of};
pub use records::{RawRecord, Records, RecordsBuilder, build_records};

/// The blocking rules in force: the configured ones, or rules derived from the field kinds.
pub fn rules(spec: &MatchSpec) -> Result<Vec<BlockingRule>, MatchError> {
    let texts = if spec.blocking.is_empty() {
        blocking::default_rules(&spec.fields)
    } else {
        spec.blocking.clone()
    };
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            BlockingRule::parse(t, &spec.fields).map_err(|message| {
                MatchError::Config(vec![Problem {
                    path: format!("spec.blocking[{i}]"),
                    message,
                }])
            })
        })
        .collect()
}

/// Blocks the records with the spec's rules.
pub fn block(records: &Records, spec: &MatchSpec) -> Result<blocking::Blocks, MatchError> {
    Ok(blocking::block(records, &rules(spec)?, spec.max_block_size))
}

/// Trains a model on the records. u-probabilities come from random pairs. m-probabilities are
/// trained by EM in one session per strict blocking rule on personal identifiers (whole values,
/// no prefixes: loose rules are dominated by namesakes and relatives): pairs blocked on a
/// field say nothing about how often matches agree on it, so each session trains only the
/// comparisons of other fields, and the estimates are averaged. Rules on shared attributes are
/// not used for training because their candidates are dominated by colleagues and relatives,
/// whom EM would otherwise learn as the "match" class. Finally the prior is estimated by EM over
/// all candidates with m and u fixed.
///
/// `labels` are optional known pairs (record indices). They do not enter EM, where a few
/// hundred pairs would be drowned by a million unlabelled ones and would bias the prior (they
/// are not a random sample of candidates). Instead labelled matches are blended into the
/// m-probabilities as observations on top of the EM estimate ([`model::blend_labelled_matches`]);
/// the prior is then estimated by EM with m and u fixed. Labelled non-matches are checked and
/// counted but change nothing: see [`model::blend_labelled_matches`] for why.
pub fn train(
    records: &Records,
    spec: &MatchSpec,
    blocks: &blocking::Blocks,
    labels: &[Label],
    options: &TrainOptions,
) -> Result<Model, MatchError> {
    if let Some(l) = labels
        .iter()
        .find(|l| l.a >= records.len() || l.b >= records.len())
    {
        return Err(MatchError::UnknownId(format!(
            "record #{} (there are {} records)",
            l.a.max(l.b),
            records.len()
        )));
    }
    let mut model = Model::initial(spec);
    model::estimate_u(&mut model, records, options.u_pairs, options.seed);
    let comparisons = compare::Comparison::all(&spec.fields);
    let labelled: Vec<_> = labels
        .iter()
        .map(|l| {
            (
                model::gammas(&comparisons, records, l.a, records, l.b),
                l.is_match,
            )
        })
        .collect();
    let rules = rules(spec)?;
    let shared = |field: usize| {
        spec.fields
            .get(field)
            .is_some_and(|f| f.role() == Role::Shared)
    };
    let mut sessions: Vec<usize> = (0..rules.len())
        .filter(|&r| {
            rules.get(r).is_some_and(|rule| {
                rule.parts.iter().all(|p| {
                    !shared(p.field)
                        && matches!(
                            p.transform,
                            blocking::KeyTransform::Full | blocking::KeyTransform::Formal
                        )
                })
            })
        })
        .collect();
    if sessions.is_empty() {
        sessions = (0..rules.len()).collect();
    }
    let per_session = options.em_pairs / sessions.len().max(1) as u64;
    let initial = model.clone();
    let mut sums: Vec<Vec<f64>> = model
        .comparisons
        .iter()
        .map(|c| vec![0.0; c.levels.len()])
        .collect();
    let mut trained = vec![0usize; model.comparisons.len()];
    let mut iterations = 0;
    let mut em_pairs = 0;
    for &r in &sessions {
        let Some(rule) = rules.get(r) else { continue };
        let trainable: Vec<bool> = (0..comparisons.len())
            .map(|c| !rule.parts.iter().any(|p| p.field == c))
            .collect();
        let mut patterns = model::sample_patterns(
            &comparisons,
            records,
            blocks,
            Some(r),
            per_session,
            options.seed,
        );
        // The blocked fields agree by construction: they carry no information in this session
        // and are left out of the E-step (as if missing), so they cannot inflate the posterior.
        for (g, _) in patterns.iter_mut() {
            for (c, t) in trainable.iter().enumerate() {
                if !t {
                    g[c] = 0;
                }
            }
        }
        if patterns.is_empty() {
            continue;
        }
        let mut session = initial.clone();
        iterations += model::train_em(
            &mut session,
            &patterns,
            &[],
            &trainable,
            options.max_iterations,
        )?;
        em_pairs += session.em_pairs;
        for (c, params) in session.comparisons.iter().enumerate() {
            if trainable.get(c).copied().unwrap_or(false) {
                trained[c] += 1;
                for (s, l) in sums[c].iter_mut().zip(&params.levels) {
                    *s += l.m;
                }
            }
        }
    }
    for (c, params) in model.comparisons.iter_mut().enumerate() {
        if trained[c] > 0 {
            for (l, s) in params.levels.iter_mut().zip(&sums[c]) {
                l.m = s / trained[c] as f64;
            }
        }
    }
    let matches = model::blend_labelled_matches(&mut model, &labelled, model::LABEL_PRIOR_STRENGTH);
    let patterns = model::sample_patterns(
        &comparisons,
        records,
        blocks,
        None,
        options.em_pairs,
        options.seed,
    );
    let fixed = vec![false; comparisons.len()];
    model::train_em(&mut model, &patterns, &[], &fixed, options.max_iterations)?;
    model.labels = model::LabelUse {
        matches,
        non_matches: labels.len() - matches,
    };
    model.em_iterations += iterations;
    model.em_pairs = em_pairs;
    Ok(model)
}

/// Scores every distinct candidate pair; keeps links with a weight of at least `min_weight`.
/// `progress` is called with the number of pairs compared as work proceeds. Returns the links
/// (sorted by record indices) and the number of pairs compared.
pub fn score(
    records: &Records,
    model: &Model,
    blocks: &blocking::Blocks,
    min_weight: f64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<Link>, u64), MatchError> {
    let scorer = model.scorer()?;
    let compared = AtomicU64::new(0);
    let mut links: Vec<Link> = (0..blocks.groups.len())
        .into_par_iter()
        .fold(Vec::new, |mut out, g| {
            let mut n = 0u64;
            blocks.for_each_pair_in(g, records, |a, b| {
                n += 1;
                let w = scorer.score(records, a, records, b);
                if w >= min_weight {
                    out.push(Link {
                        a: a as u32,
                        b: b as u32,
                        weight: w as f32,
                    });
                }
            });
            compared.fetch_add(n, Ordering::Relaxed);
            progress(n);
            out
        })
        .reduce(Vec::new, |mut x, mut y| {
            x.append(&mut y);
            x
        });
    links.par_sort_unstable_by(|x, y| x.a.cmp(&y.a).then(x.b.cmp(&y.b)));
    Ok((links, compared.into_inner()))
}

/// Explains the score of records `a` and `b`.
pub fn explain(
    records: &Records,
    model: &Model,
    a: usize,
    b: usize,
) -> Result<Explanation, MatchError> {
    Ok(model.scorer()?.explain(records, a, records, b))
}

#[cfg(test)]
mod tests;
