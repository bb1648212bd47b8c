//! Markov removal effects checked against an independent dense solution: the chain is rebuilt
//! here from the paths with the documented conventions and solved by Gaussian elimination.

#![allow(clippy::unwrap_used)] // test helpers: a failure here is a test failure

use keel_attribution::PathSet;
use keel_attribution::markov::{self, MarkovOptions};
use std::collections::HashMap;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_paths(seed: u64, rows: usize, channels: u64, max_len: u64) -> PathSet {
    let mut rng = Rng(seed);
    let mut text = String::from("path,total_conversions,total_conversion_value,total_null\n");
    for _ in 0..rows {
        let len = 1 + rng.below(max_len);
        let path: Vec<String> = (0..len)
            .map(|_| format!("c{}", rng.below(channels)))
            .collect();
        let conv = rng.below(3) as f64 * 0.5;
        let value = if conv > 0.0 {
            rng.below(1000) as f64 / 10.0
        } else {
            0.0
        };
        let null = rng.below(4) as f64;
        text.push_str(&format!("{},{conv},{value},{null}\n", path.join(">")));
    }
    PathSet::read_csv(text.as_bytes(), ">", "random", |_| {}).unwrap()
}

/// Dense Gaussian elimination with partial pivoting on A x = b (A is n×n, row-major).
fn gauss(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap();
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..n {
            let f = a[r][col] / a[col][col];
            if f != 0.0 {
                let (top, rest) = a.split_at_mut(r);
                for (x, y) in rest[0][col..].iter_mut().zip(&top[col][col..]) {
                    *x -= f * y;
                }
                b[r] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}

/// Returns attributed (conversions, value) per channel name and P(conversion).
fn reference(paths: &PathSet, k: usize, collapse: bool) -> (HashMap<String, (f64, f64)>, f64) {
    let names = paths.channel_names();
    let mut ids: HashMap<Vec<u32>, usize> = HashMap::new();
    let mut states: Vec<Vec<u32>> = Vec::new();
    let mut start: HashMap<usize, f64> = HashMap::new();
    let mut edge: HashMap<(usize, usize), f64> = HashMap::new();
    let mut conv: HashMap<usize, f64> = HashMap::new();
    let mut null: HashMap<usize, f64> = HashMap::new();
    let mut value: HashMap<usize, f64> = HashMap::new();
    for i in 0..paths.len() {
        let w = paths.conversions(i) + paths.nulls(i);
        if w == 0.0 {
            continue;
        }
        let p = paths.path(i);
        let wins: Vec<Vec<u32>> = if p.len() <= k {
            vec![p.to_vec()]
        } else {
            p.windows(k).map(<[u32]>::to_vec).collect()
        };
        let mut seq: Vec<usize> = Vec::new();
        for win in wins {
            let next = states.len();
            let s = *ids.entry(win.clone()).or_insert(next);
            if s == next {
                states.push(win);
            }
            if collapse && seq.last() == Some(&s) {
                continue;
            }
            seq.push(s);
        }
        *start.entry(seq[0]).or_default() += w;
        for pair in seq.windows(2) {
            *edge.entry((pair[0], pair[1])).or_default() += w;
        }
        let last = *seq.last().unwrap();
        *conv.entry(last).or_default() += paths.conversions(i);
        *null.entry(last).or_default() += paths.nulls(i);
        *value.entry(last).or_default() += paths.value(i);
    }
    let n = states.len();
    let mut out = vec![0.0; n];
    for (&(a, _), &w) in &edge {
        out[a] += w;
    }
    for (s, o) in out.iter_mut().enumerate() {
        *o += conv.get(&s).copied().unwrap_or(0.0) + null.get(&s).copied().unwrap_or(0.0);
    }
    let start_total: f64 = start.values().sum();
    let solve = |removed: &dyn Fn(usize) -> bool| -> (f64, f64) {
        let alive: Vec<usize> = (0..n).filter(|&s| !removed(s)).collect();
        let pos: HashMap<usize, usize> = alive.iter().enumerate().map(|(i, &s)| (s, i)).collect();
        let m = alive.len();
        let mut a = vec![vec![0.0; m]; m];
        for (i, row) in a.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        for (&(s, t), &w) in &edge {
            if let (Some(&i), Some(&j)) = (pos.get(&s), pos.get(&t)) {
                a[i][j] -= w / out[s];
            }
        }
        let bc: Vec<f64> = alive
            .iter()
            .map(|&s| conv.get(&s).copied().unwrap_or(0.0) / out[s])
            .collect();
        let bv: Vec<f64> = alive
            .iter()
            .map(|&s| value.get(&s).copied().unwrap_or(0.0) / out[s])
            .collect();
        let (xc, xv) = (gauss(a.clone(), bc), gauss(a, bv));
        let mut p = (0.0, 0.0);
        for (&s, &w) in &start {
            if let Some(&i) = pos.get(&s) {
                p.0 += w / start_total * xc[i];
                p.1 += w / start_total * xv[i];
            }
        }
        p
    };
    let base = solve(&|_| false);
    let re: Vec<(f64, f64)> = (0..names.len() as u32)
        .map(|c| {
            let r = solve(&|s| states[s].contains(&c));
            ((base.0 - r.0).max(0.0), (base.1 - r.1).max(0.0))
        })
        .collect();
    let (sc, sv): (f64, f64) = (re.iter().map(|r| r.0).sum(), re.iter().map(|r| r.1).sum());
    let map = names
        .iter()
        .zip(&re)
        .map(|(name, r)| {
            (
                name.clone(),
                (
                    paths.total_conversions() * r.0 / sc,
                    paths.total_value() * r.1 / sv,
                ),
            )
        })
        .collect();
    (map, base.0)
}

fn check(seed: u64, rows: usize, channels: u64, max_len: u64, order: usize, collapse: bool) {
    let paths = random_paths(seed, rows, channels, max_len);
    let fit = markov::fit(&paths, MarkovOptions { order, collapse }).unwrap();
    let (want, p) = reference(&paths, order, collapse);
    assert!(
        (fit.p_conversion - p).abs() < 1e-12,
        "P(conv) {} vs {p}",
        fit.p_conversion
    );
    for (c, name) in fit.channels.iter().enumerate() {
        let (wc, wv) = want[name];
        assert!(
            (fit.conversions[c] - wc).abs() <= 1e-9 * wc.max(1.0),
            "order {order} {name}: {} vs {wc}",
            fit.conversions[c]
        );
        assert!(
            (fit.values[c] - wv).abs() <= 1e-9 * wv.max(1.0),
            "order {order} {name} value: {} vs {wv}",
            fit.values[c]
        );
    }
}

#[test]
fn order_one_to_four_match_dense_elimination() {
    for order in 1..=4 {
        check(order as u64, 300, 4, 7, order, true);
        check(100 + order as u64, 300, 4, 7, order, false);
    }
}

#[test]
fn iterative_solver_matches_on_larger_chains() {
    // 8 channels at order 3 give more states than the dense limit, so Gauss–Seidel is used.
    let paths = random_paths(9, 1500, 8, 6);
    let fit = markov::fit(
        &paths,
        MarkovOptions {
            order: 3,
            collapse: true,
        },
    )
    .unwrap();
    assert!(fit.states > 400, "{} states", fit.states);
    assert!(!fit.solve.direct);
    check(9, 1500, 8, 6, 3, true);
}

#[test]
fn sparse_bookkeeping_for_many_channels() {
    // 8 channels at order 4 count transitions in a hash map; 50 channels at order 4 also
    // look states up in a hash map (the window codes no longer fit an array).
    check(21, 100, 8, 5, 4, true);
    check(22, 60, 50, 5, 4, true);
    check(23, 60, 50, 5, 2, false);
}
