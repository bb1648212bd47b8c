//! Clustering scored links into entities, and cluster quality metrics.
//!
//! Connected components join everything reachable through links, so one bad link merges two
//! people's whole clusters. The `support` method takes links strongest first and merges two
//! clusters only when at least `min_support` of the record pairs between them are linked.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::config::{ClusterMethod, ClusterSpec};

/// A scored candidate pair (record indices and match weight in bits).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// First record.
    pub a: u32,
    /// Second record.
    pub b: u32,
    /// Match weight in bits.
    pub weight: f32,
}

/// Cluster quality metrics.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ClusterMetrics {
    /// Number of clusters (singletons included).
    pub clusters: usize,
    /// Clusters with one record.
    pub singletons: usize,
    /// Size of the largest cluster.
    pub largest: usize,
    /// Records in clusters of two or more.
    pub clustered_records: usize,
    /// Mean fraction of linked pairs inside clusters of two or more (1 = every pair linked).
    pub mean_density: f64,
    /// Clusters of three or more where fewer than half the pairs are linked (worth reviewing).
    pub weak_clusters: usize,
    /// Links not followed because they lacked support.
    pub rejected_links: usize,
}

/// The clustering result: a cluster index per record, and metrics.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// Cluster index of every record (clusters are numbered 0.. in order of first member).
    pub assignment: Vec<u32>,
    /// Quality metrics.
    pub metrics: ClusterMetrics,
}

struct Sets {
    parent: Vec<u32>,
    members: Vec<Vec<u32>>,
}

impl Sets {
    fn new(n: usize) -> Self {
        Sets {
            parent: (0..n as u32).collect(),
            members: (0..n as u32).map(|i| vec![i]).collect(),
        }
    }
    fn find(&mut self, mut x: u32) -> u32 {
        while let Some(&p) = self.parent.get(x as usize) {
            if p == x {
                break;
            }
            let gp = self.parent.get(p as usize).copied().unwrap_or(p);
            if let Some(slot) = self.parent.get_mut(x as usize) {
                *slot = gp;
            }
            x = p;
        }
        x
    }
    fn size(&self, root: u32) -> usize {
        self.members.get(root as usize).map_or(0, Vec::len)
    }
    fn union(&mut self, a: u32, b: u32) {
        let (big, small) = if self.size(a) >= self.size(b) {
            (a, b)
        } else {
            (b, a)
        };
        if let Some(p) = self.parent.get_mut(small as usize) {
            *p = big;
        }
        let moved = std::mem::take(
            self.members
                .get_mut(small as usize)
                .map_or(&mut Vec::new(), |m| m),
        );
        if let Some(m) = self.members.get_mut(big as usize) {
            m.extend(moved);
        }
    }
}

/// Clusters `n` records from links at or above `min_weight`.
pub fn cluster(n: usize, links: &[Link], min_weight: f64, spec: &ClusterSpec) -> Clustering {
    let mut kept: Vec<Link> = links
        .iter()
        .copied()
        .filter(|l| f64::from(l.weight) >= min_weight)
        .collect();
    kept.sort_unstable_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    let mut adjacency: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for l in &kept {
        adjacency.entry(l.a).or_default().push(l.b);
        adjacency.entry(l.b).or_default().push(l.a);
    }
    let mut sets = Sets::new(n);
    let mut rejected = 0;
    for l in &kept {
        let (ra, rb) = (sets.find(l.a), sets.find(l.b));
        if ra == rb {
            continue;
        }
        if spec.method == ClusterMethod::Support {
            let (small, other) = if sets.size(ra) <= sets.size(rb) {
                (ra, rb)
            } else {
                (rb, ra)
            };
            let small_members = sets
                .members
                .get(small as usize)
                .cloned()
                .unwrap_or_default();
            let mut cross = 0usize;
            for m in &small_members {
                for nb in adjacency.get(m).map_or(&[][..], Vec::as_slice) {
                    if sets.find(*nb) == other {
                        cross += 1;
                    }
                }
            }
            let possible = sets.size(ra) * sets.size(rb);
            if (cross as f64) < spec.min_support * possible as f64 {
                rejected += 1;
                continue;
            }
        }
        sets.union(ra, rb);
    }
    // Number clusters in order of their first member so the numbering is stable.
    let mut number: FxHashMap<u32, u32> = FxHashMap::default();
    let mut assignment = Vec::with_capacity(n);
    for i in 0..n as u32 {
        let root = sets.find(i);
        let next = number.len() as u32;
        assignment.push(*number.entry(root).or_insert(next));
    }
    let metrics = metrics(&assignment, &kept, rejected);
    Clustering {
        assignment,
        metrics,
    }
}

fn metrics(assignment: &[u32], links: &[Link], rejected: usize) -> ClusterMetrics {
    let clusters = assignment
        .iter()
        .copied()
        .max()
        .map_or(0, |m| m as usize + 1);
    let mut sizes = vec![0usize; clusters];
    for &c in assignment {
        if let Some(s) = sizes.get_mut(c as usize) {
            *s += 1;
        }
    }
    let mut inside = vec![0usize; clusters];
    for l in links {
        let (ca, cb) = (assignment.get(l.a as usize), assignment.get(l.b as usize));
        if let (Some(ca), Some(cb)) = (ca, cb)
            && ca == cb
            && let Some(x) = inside.get_mut(*ca as usize)
        {
            *x += 1;
        }
    }
    let mut m = ClusterMetrics {
        clusters,
        rejected_links: rejected,
        ..ClusterMetrics::default()
    };
    let mut density_sum = 0.0;
    let mut multi = 0;
    for (size, links) in sizes.iter().zip(&inside) {
        m.largest = m.largest.max(*size);
        if *size == 1 {
            m.singletons += 1;
            continue;
        }
        multi += 1;
        m.clustered_records += size;
        let possible = size * (size - 1) / 2;
        let d = *links as f64 / possible as f64;
        density_sum += d;
        if *size >= 3 && d < 0.5 {
            m.weak_clusters += 1;
        }
    }
    m.mean_density = if multi > 0 {
        density_sum / f64::from(multi)
    } else {
        0.0
    };
    m
}

/// Stable cluster ids: each cluster is named after the smallest record id in it, so the name
/// does not depend on input order or thread count, and survives adding unrelated records.
/// Returns the cluster id of every record. When `previous` names (record id → earlier cluster id) are given, a cluster keeps the earlier
/// id held by most of its members, if no other cluster claimed it first.
pub fn stable_ids(
    ids: &[String],
    assignment: &[u32],
    previous: Option<&FxHashMap<String, String>>,
) -> Vec<String> {
    let clusters = assignment
        .iter()
        .copied()
        .max()
        .map_or(0, |m| m as usize + 1);
    let mut smallest: Vec<Option<&str>> = vec![None; clusters];
    for (id, &c) in ids.iter().zip(assignment) {
        if let Some(s) = smallest.get_mut(c as usize)
            && s.is_none_or(|cur| id.as_str() < cur)
        {
            *s = Some(id);
        }
    }
    let mut names: Vec<String> = smallest
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect();
    if let Some(prev) = previous {
        let mut votes: Vec<FxHashMap<&str, usize>> = vec![FxHashMap::default(); clusters];
        for (id, &c) in ids.iter().zip(assignment) {
            if let (Some(p), Some(v)) = (prev.get(id), votes.get_mut(c as usize)) {
                *v.entry(p.as_str()).or_default() += 1;
            }
        }
        let mut taken: FxHashMap<String, ()> = FxHashMap::default();
        let mut order: Vec<usize> = (0..clusters).collect();
        order.sort_by_key(|&c| {
            std::cmp::Reverse(votes.get(c).map_or(0, |v| v.values().sum::<usize>()))
        });
        for c in order {
            let best = votes.get(c).and_then(|v| {
                let mut opts: Vec<(&&str, &usize)> = v.iter().collect();
                opts.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
                opts.into_iter()
                    .map(|(k, _)| *k)
                    .find(|k| !taken.contains_key(*k))
            });
            if let (Some(b), Some(name)) = (best, names.get_mut(c)) {
                taken.insert(b.to_string(), ());
                *name = b.to_string();
            }
        }
    }
    assignment
        .iter()
        .map(|&c| names.get(c as usize).cloned().unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: u32, b: u32, w: f32) -> Link {
        Link { a, b, weight: w }
    }

    #[test]
    fn connected_components_chain_but_support_does_not() {
        // Two tight pairs (0,1) and (2,3) joined by one weaker bad link (1,2).
        let links = [link(0, 1, 20.0), link(2, 3, 20.0), link(1, 2, 10.0)];
        let cc = cluster(
            4,
            &links,
            5.0,
            &ClusterSpec {
                method: ClusterMethod::ConnectedComponents,
                min_support: 0.5,
            },
        );
        assert_eq!(cc.assignment, [0, 0, 0, 0]);
        assert_eq!(cc.metrics.mean_density, 0.5);
        let strict = cluster(4, &links, 5.0, &ClusterSpec::default());
        assert_eq!(strict.assignment, [0, 0, 1, 1]);
        assert_eq!(strict.metrics.rejected_links, 1);
        assert_eq!(strict.metrics.mean_density, 1.0);
    }

    #[test]
    fn links_below_threshold_are_ignored() {
        let c = cluster(3, &[link(0, 1, 1.0)], 5.0, &ClusterSpec::default());
        assert_eq!(c.assignment, [0, 1, 2]);
        assert_eq!(c.metrics.singletons, 3);
    }

    #[test]
    fn cluster_ids_are_stable() {
        let ids: Vec<String> = ["b", "a", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(stable_ids(&ids, &[0, 0, 1], None), ["a", "a", "c"]);
        let prev: FxHashMap<String, String> =
            [("b".to_string(), "X".to_string())].into_iter().collect();
        assert_eq!(stable_ids(&ids, &[0, 0, 1], Some(&prev)), ["X", "X", "c"]);
    }
}
