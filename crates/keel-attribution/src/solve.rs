//! Absorption probabilities of an absorbing Markov chain: solve (I − Q) x = b on the transient
//! states that remain after a removal, for two right-hand sides at once (conversion probability
//! and conversion value).
//!
//! Small systems are solved directly (dense Gaussian elimination with partial pivoting). Larger
//! ones use Gauss–Seidel sweeps until an update changes no component by more than a few units in
//! the last place, and the residual ‖(I − Q)x − b‖∞ is measured afterwards and reported, so the
//! result is exact to floating-point precision and deterministic (a fixed sweep order).

/// Sparse transient part of a chain: row `s` lists (target, probability) for s → t, t ≠ s.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chain {
    pub row_start: Vec<usize>,
    pub target: Vec<u32>,
    pub prob: Vec<f64>,
    /// Probability of staying in the same state (self-loop), only when states are not collapsed.
    pub stay: Vec<f64>,
}

/// How a system was solved, for the stated conventions in reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveReport {
    /// `true` for dense elimination, `false` for Gauss–Seidel.
    pub direct: bool,
    /// Sweeps used by the iterative method (0 for the direct one).
    pub sweeps: usize,
    /// Largest residual component over both right-hand sides.
    pub residual: f64,
}

/// Systems up to this many remaining states are solved by dense elimination.
pub(crate) const DENSE_LIMIT: usize = 400;
const MAX_SWEEPS: usize = 1_000_000;

impl Chain {
    pub fn len(&self) -> usize {
        self.stay.len()
    }

    /// Solves for every state not in `removed` (removed states absorb into null, x = 0).
    pub fn solve(
        &self,
        b: [&[f64]; 2],
        removed: &[bool],
    ) -> Result<([Vec<f64>; 2], SolveReport), String> {
        let n = self.len();
        let alive: Vec<usize> = (0..n).filter(|&s| !removed[s]).collect();
        let mut x = [vec![0.0; n], vec![0.0; n]];
        let report = if alive.len() <= DENSE_LIMIT {
            self.solve_dense(b, removed, &alive, &mut x)?;
            SolveReport {
                direct: true,
                sweeps: 0,
                residual: 0.0,
            }
        } else {
            let sweeps = self.solve_iterative(b, removed, &alive, &mut x)?;
            SolveReport {
                direct: false,
                sweeps,
                residual: 0.0,
            }
        };
        let residual = self.residual(b, removed, &x);
        Ok((x, SolveReport { residual, ..report }))
    }

    fn solve_dense(
        &self,
        b: [&[f64]; 2],
        removed: &[bool],
        alive: &[usize],
        x: &mut [Vec<f64>; 2],
    ) -> Result<(), String> {
        let m = alive.len();
        if m == 0 {
            return Ok(());
        }
        let mut pos = vec![usize::MAX; self.len()];
        for (i, &s) in alive.iter().enumerate() {
            pos[s] = i;
        }
        let w = m + 2;
        let mut a = vec![0.0; m * w];
        for (i, &s) in alive.iter().enumerate() {
            let row = &mut a[i * w..(i + 1) * w];
            row[i] = 1.0 - self.stay[s];
            for k in self.row_start[s]..self.row_start[s + 1] {
                let t = self.target[k] as usize;
                if !removed[t] {
                    row[pos[t]] -= self.prob[k];
                }
            }
            row[m] = b[0][s];
            row[m + 1] = b[1][s];
        }
        for col in 0..m {
            let mut piv = col;
            for r in col + 1..m {
                if a[r * w + col].abs() > a[piv * w + col].abs() {
                    piv = r;
                }
            }
            if a[piv * w + col].abs() < 1e-300 {
                return Err("singular chain: a set of states is never left".into());
            }
            if piv != col {
                for j in 0..w {
                    a.swap(col * w + j, piv * w + j);
                }
            }
            let p = a[col * w + col];
            let (upper, lower) = a.split_at_mut((col + 1) * w);
            let prow = &upper[col * w..];
            for r in 0..m - col - 1 {
                let row = &mut lower[r * w..(r + 1) * w];
                let f = row[col] / p;
                if f != 0.0 {
                    for j in col..w {
                        row[j] -= f * prow[j];
                    }
                }
            }
        }
        for col in (0..m).rev() {
            for rhs in 0..2 {
                let mut v = a[col * w + m + rhs];
                for j in col + 1..m {
                    v -= a[col * w + j] * x[rhs][alive[j]];
                }
                x[rhs][alive[col]] = v / a[col * w + col];
            }
        }
        Ok(())
    }

    fn solve_iterative(
        &self,
        b: [&[f64]; 2],
        removed: &[bool],
        alive: &[usize],
        x: &mut [Vec<f64>; 2],
    ) -> Result<usize, String> {
        // Sweep from the last-discovered states backwards: absorption flows from the end of
        // journeys towards their start, so this order converges in few sweeps on typical data.
        for sweep in 1..=MAX_SWEEPS {
            let mut change = [0.0f64; 2];
            let mut scale = [0.0f64; 2];
            for &s in alive.iter().rev() {
                let denom = 1.0 - self.stay[s];
                if denom <= 0.0 {
                    return Err("singular chain: a state only loops to itself".into());
                }
                let (mut v0, mut v1) = (b[0][s], b[1][s]);
                for k in self.row_start[s]..self.row_start[s + 1] {
                    let t = self.target[k] as usize;
                    if !removed[t] {
                        v0 += self.prob[k] * x[0][t];
                        v1 += self.prob[k] * x[1][t];
                    }
                }
                v0 /= denom;
                v1 /= denom;
                change[0] = change[0].max((v0 - x[0][s]).abs());
                change[1] = change[1].max((v1 - x[1][s]).abs());
                scale[0] = scale[0].max(v0.abs());
                scale[1] = scale[1].max(v1.abs());
                x[0][s] = v0;
                x[1][s] = v1;
            }
            if change[0] <= 4.0 * f64::EPSILON * scale[0].max(f64::MIN_POSITIVE)
                && change[1] <= 4.0 * f64::EPSILON * scale[1].max(f64::MIN_POSITIVE)
            {
                return Ok(sweep);
            }
        }
        Err(format!(
            "the chain did not converge in {MAX_SWEEPS} sweeps (states that are almost never left)"
        ))
    }

    fn residual(&self, b: [&[f64]; 2], removed: &[bool], x: &[Vec<f64>; 2]) -> f64 {
        let mut worst = 0.0f64;
        for s in 0..self.len() {
            if removed[s] {
                continue;
            }
            for rhs in 0..2 {
                let mut r = x[rhs][s] * (1.0 - self.stay[s]) - b[rhs][s];
                for k in self.row_start[s]..self.row_start[s + 1] {
                    let t = self.target[k] as usize;
                    if !removed[t] {
                        r -= self.prob[k] * x[rhs][t];
                    }
                }
                let scale = x[rhs][s].abs().max(b[rhs][s].abs()).max(1.0);
                worst = worst.max(r.abs() / scale);
            }
        }
        worst
    }
}
