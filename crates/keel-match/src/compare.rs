//! Comparisons: for one field, how similar two records' standardised values are, as a graded
//! level (exact, nickname, close typo, …, disagreement).
//!
//! A comparison vector ("gamma") holds one level per comparison; level 0 means a value is
//! missing on either side (no evidence), levels 1.. run from strongest agreement to disagreement.

use serde::{Deserialize, Serialize};
/// Jaro–Winkler similarity. Standardised values are almost always short ASCII, for which a byte
/// version with stack buffers is several times faster than the general `strsim` one (which
/// walks chars and allocates); other strings go to `strsim`. Both give identical results.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    const MAX: usize = 64;
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.len() > MAX || y.len() > MAX {
        return strsim::jaro_winkler(a, b);
    }
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let range = (x.len().max(y.len()) / 2).saturating_sub(1);
    let mut xf = [false; MAX];
    let mut yf = [false; MAX];
    let mut matches = 0usize;
    for (i, &c) in x.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = (i + range + 1).min(y.len());
        for j in lo..hi {
            if !yf[j] && y[j] == c {
                xf[i] = true;
                yf[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0;
    for (i, &c) in x.iter().enumerate() {
        if xf[i] {
            while j < y.len() && !yf[j] {
                j += 1;
            }
            if j < y.len() && y[j] != c {
                transpositions += 1;
            }
            j += 1;
        }
    }
    let m = matches as f64;
    let t = (transpositions / 2) as f64;
    let sim = (m / x.len() as f64 + m / y.len() as f64 + (m - t) / m) / 3.0;
    if sim > 0.7 {
        let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count();
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

use crate::config::{FieldKind, FieldSpec, Role};
use crate::records::{Records, Value};
use crate::standardise::nickname_equivalent;

/// One level of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// Human-readable description ("exact", "nickname", "jaro_winkler >= 0.92", …).
    pub label: String,
    /// Whether the level is a disagreement (used for the personal-identifier veto).
    pub disagree: bool,
    /// Whether term-frequency adjustment applies to this level.
    pub tf: bool,
}

/// A comparison of one configured field.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Column name.
    pub column: String,
    /// Index of the field in the records.
    pub field: usize,
    /// The field's kind.
    pub kind: FieldKind,
    /// How the evidence combines.
    pub role: Role,
    /// Fuzzy thresholds, highest first.
    pub thresholds: Vec<f64>,
    /// For given/family names: the other name field, to recognise swapped names.
    pub partner: Option<usize>,
    /// The non-null levels, strongest first (gamma 1 is `levels[0]`).
    pub levels: Vec<Level>,
}

fn level(label: &str, disagree: bool, tf: bool) -> Level {
    Level {
        label: label.to_string(),
        disagree,
        tf,
    }
}

impl Comparison {
    /// The comparison for field `index` of `fields`.
    pub fn new(fields: &[FieldSpec], index: usize) -> Option<Self> {
        let f = fields.get(index)?;
        let tf = f.tf();
        let default_thresholds: Vec<f64> = match f.kind {
            FieldKind::Numeric => vec![0.99, 0.9],
            FieldKind::Address => vec![0.92, 0.75],
            _ => vec![0.92, 0.8],
        };
        let mut thresholds = f.thresholds.clone().unwrap_or(default_thresholds);
        while thresholds.len() < 2 {
            thresholds.push(thresholds.last().copied().unwrap_or(0.8));
        }
        let partner_kind = match f.kind {
            FieldKind::FirstName => Some(FieldKind::LastName),
            FieldKind::LastName => Some(FieldKind::FirstName),
            _ => None,
        };
        let partner = partner_kind.and_then(|k| fields.iter().position(|g| g.kind == k));
        let (t0, t1) = (thresholds[0], thresholds[1]);
        let jw = |t: f64| format!("jaro_winkler >= {t}");
        let levels = match f.kind {
            FieldKind::FirstName => vec![
                level("exact", false, tf),
                level("swapped with last name", false, false),
                level("nickname", false, false),
                level(&jw(t0), false, false),
                level(&format!("{} or initial", jw(t1)), false, false),
                level("different", true, false),
            ],
            FieldKind::LastName => vec![
                level("exact", false, tf),
                level("swapped with first name", false, false),
                level(&format!("{} or one edit", jw(t0)), false, false),
                level(&jw(t1), false, false),
                level("different", true, false),
            ],
            FieldKind::Name => vec![
                level("exact", false, tf),
                level("same words reordered or nickname", false, false),
                level(&jw(t0), false, false),
                level(&jw(t1), false, false),
                level("different", true, false),
            ],
            // No "same local part, other domain" level: local parts are built from names
            // (jane.smith@…), so for namesakes at different companies that agreement only
            // repeats the name evidence.
            FieldKind::Email => vec![
                level("exact", false, tf),
                level("one edit apart (typo)", false, false),
                level("same domain only", true, false),
                level("different", true, false),
            ],
            FieldKind::Phone => vec![
                level("exact", false, tf),
                level("one digit typo or transposition", false, false),
                level("same last 7 digits", false, false),
                level("different", true, false),
            ],
            FieldKind::Company | FieldKind::Text => vec![
                level("exact", false, tf),
                level(&format!("{} or word subset", jw(t0)), false, false),
                level(&jw(t1), false, false),
                level("different", true, false),
            ],
            FieldKind::Address => vec![
                level("exact", false, tf),
                level(&jw(t0), false, false),
                level(&format!("same house number and {}", jw(t1)), false, false),
                level("different", true, false),
            ],
            FieldKind::Postcode => vec![
                level("exact", false, tf),
                level("same first 3 characters", false, false),
                level("different", true, false),
            ],
            FieldKind::Date => vec![
                level("exact", false, tf),
                level("day and month transposed", false, false),
                level("one character edit", false, false),
                level("same year", false, false),
                level("different", true, false),
            ],
            FieldKind::Exact => vec![level("exact", false, tf), level("different", true, false)],
            FieldKind::Numeric => vec![
                level("exact", false, tf),
                level(&format!("within {:.0}%", (1.0 - t0) * 100.0), false, false),
                level(&format!("within {:.0}%", (1.0 - t1) * 100.0), false, false),
                level("different", true, false),
            ],
        };
        Some(Comparison {
            column: f.column.clone(),
            field: index,
            kind: f.kind,
            role: f.role(),
            thresholds,
            partner,
            levels,
        })
    }

    /// All comparisons of a field list.
    pub fn all(fields: &[FieldSpec]) -> Vec<Comparison> {
        (0..fields.len())
            .filter_map(|i| Comparison::new(fields, i))
            .collect()
    }

    /// The level (0 = missing) of record `a` of `ra` against record `b` of `rb`.
    pub fn gamma(&self, ra: &Records, a: usize, rb: &Records, b: usize) -> u8 {
        let col_a = ra.columns.get(self.field);
        let col_b = rb.columns.get(self.field);
        let (Some(va), Some(vb)) = (col_a.and_then(|c| c.get(a)), col_b.and_then(|c| c.get(b)))
        else {
            return 0;
        };
        if va.hash == vb.hash && va.text == vb.text {
            return 1;
        }
        let (t0, t1) = (self.thresholds[0], self.thresholds[1]);
        let (x, y) = (va.text, vb.text);
        match self.kind {
            FieldKind::FirstName | FieldKind::LastName => {
                if let Some(p) = self.partner {
                    let pa = ra.columns.get(p).and_then(|c| c.get(a));
                    let pb = rb.columns.get(p).and_then(|c| c.get(b));
                    if let (Some(pa), Some(pb)) = (pa, pb)
                        && pa.text == y
                        && pb.text == x
                    {
                        return 2;
                    }
                }
                let first = self.kind == FieldKind::FirstName;
                if first && nickname_equivalent(va.aux, vb.aux) {
                    return 3;
                }
                let sim = jaro_winkler(x, y);
                let base = if first { 4 } else { 3 };
                if sim >= t0 || (!first && within_one_edit(x, y)) {
                    base
                } else if sim >= t1 || (first && is_initial_of(x, y)) {
                    base + 1
                } else {
                    base + 2
                }
            }
            FieldKind::Name => {
                if same_words(x, y) || nickname_equivalent(va.aux, vb.aux) && same_last_word(x, y) {
                    return 2;
                }
                let sim = jaro_winkler(x, y);
                if sim >= t0 {
                    3
                } else if sim >= t1 {
                    4
                } else {
                    5
                }
            }
            FieldKind::Email => {
                let (_, da) = x.rsplit_once('@').unwrap_or((x, ""));
                let (_, db) = y.rsplit_once('@').unwrap_or((y, ""));
                if within_one_edit(x, y) {
                    2
                } else if da == db {
                    3
                } else {
                    4
                }
            }
            FieldKind::Phone => {
                if within_one_edit(x, y) {
                    2
                } else if x.len() >= 7 && y.len() >= 7 && x[x.len() - 7..] == y[y.len() - 7..] {
                    3
                } else {
                    4
                }
            }
            FieldKind::Company | FieldKind::Text => {
                let sim = jaro_winkler(x, y);
                if sim >= t0 || word_subset(x, y) {
                    2
                } else if sim >= t1 {
                    3
                } else {
                    4
                }
            }
            FieldKind::Address => {
                let sim = jaro_winkler(x, y);
                if sim >= t0 {
                    2
                } else if va.aux != 0 && va.aux == vb.aux && sim >= t1 {
                    3
                } else {
                    4
                }
            }
            FieldKind::Postcode => {
                if x.len() >= 3 && y.len() >= 3 && x[..3] == y[..3] {
                    2
                } else {
                    3
                }
            }
            FieldKind::Date => date_level(x, y),
            FieldKind::Exact => 2,
            FieldKind::Numeric => {
                let (Ok(p), Ok(q)) = (x.parse::<f64>(), y.parse::<f64>()) else {
                    return 4;
                };
                let scale = p.abs().max(q.abs());
                let sim = if scale == 0.0 {
                    1.0
                } else {
                    1.0 - (p - q).abs() / scale
                };
                if sim >= t0 {
                    2
                } else if sim >= t1 {
                    3
                } else {
                    4
                }
            }
        }
    }

    /// The values compared for records `a` and `b` (for explanations).
    pub fn values<'a>(
        &self,
        ra: &'a Records,
        a: usize,
        rb: &'a Records,
        b: usize,
    ) -> (Option<Value<'a>>, Option<Value<'a>>) {
        (
            ra.columns.get(self.field).and_then(|c| c.get(a)),
            rb.columns.get(self.field).and_then(|c| c.get(b)),
        )
    }
}

/// Whether two strings are at most one edit apart (insertion, deletion, substitution or
/// transposition of adjacent characters). A linear-time bounded check: the general
/// Damerau–Levenshtein distance allocates a matrix per call and dominated comparison time.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let suffix = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (
        &ra[..ra.len() - suffix.min(ra.len())],
        &rb[..rb.len() - suffix.min(rb.len())],
    );
    match (ma.len(), mb.len()) {
        (0, _) | (_, 0) => ma.len() + mb.len() <= 1,
        (1, 1) => true,
        (2, 2) => ma[0] == mb[1] && ma[1] == mb[0],
        _ => false,
    }
}

fn is_initial_of(x: &str, y: &str) -> bool {
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    short.len() == 1 && long.starts_with(short)
}

fn same_words(x: &str, y: &str) -> bool {
    let mut a: Vec<&str> = x.split(' ').collect();
    let mut b: Vec<&str> = y.split(' ').collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

fn same_last_word(x: &str, y: &str) -> bool {
    x.rsplit(' ').next() == y.rsplit(' ').next()
}

fn word_subset(x: &str, y: &str) -> bool {
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    let long_words: Vec<&str> = long.split(' ').collect();
    short.len() >= 3 && short.split(' ').all(|w| long_words.contains(&w))
}

fn date_level(x: &str, y: &str) -> u8 {
    let parts = |s: &str| -> Option<(String, String, String)> {
        let mut it = s.split('-');
        Some((it.next()?.into(), it.next()?.into(), it.next()?.into()))
    };
    if let (Some((ya, ma, da)), Some((yb, mb, db))) = (parts(x), parts(y)) {
        if ya == yb && ma == db && da == mb {
            return 2;
        }
        if within_one_edit(x, y) {
            return 3;
        }
        if ya == yb {
            return 4;
        }
    }
    5
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FieldSpec, MatchSpec};
    use crate::records::{RawRecord, build_records};

    fn field(column: &str, kind: FieldKind) -> FieldSpec {
        FieldSpec {
            column: column.into(),
            kind,
            role: None,
            tf: None,
            thresholds: None,
        }
    }

    /// The level label of comparing `a` and `b` in a single field of `kind`.
    fn level_of(kind: FieldKind, a: &str, b: &str) -> String {
        let spec = MatchSpec::with_fields(vec![field("x", kind)]);
        let recs = build_records(
            &spec,
            vec![
                RawRecord {
                    id: "1".into(),
                    source: 0,
                    values: vec![a.into()],
                },
                RawRecord {
                    id: "2".into(),
                    source: 0,
                    values: vec![b.into()],
                },
            ],
        )
        .unwrap();
        let c = Comparison::new(&spec.fields, 0).unwrap();
        let g = c.gamma(&recs, 0, &recs, 1);
        assert_eq!(g, c.gamma(&recs, 1, &recs, 0), "symmetric for {a} / {b}");
        if g == 0 {
            "null".into()
        } else {
            c.levels[usize::from(g) - 1].label.clone()
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_jaro_winkler_equals_strsim(a in "[a-e ]{0,12}", b in "[a-e ]{0,12}") {
            proptest::prop_assert_eq!(jaro_winkler(&a, &b), strsim::jaro_winkler(&a, &b));
        }
    }

    #[test]
    fn one_edit_check_matches_damerau_levenshtein() {
        let words = [
            "", "a", "ab", "ba", "abc", "acb", "abd", "abcd", "bacd", "abdc", "xbcd", "abcde",
            "aabc", "smith", "smiht", "simth", "smit",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    within_one_edit(a, b),
                    strsim::osa_distance(a, b) <= 1,
                    "{a} / {b}"
                );
            }
        }
    }

    #[test]
    fn first_names() {
        use FieldKind::FirstName as F;
        assert_eq!(level_of(F, "Robert", "ROBERT"), "exact");
        assert_eq!(level_of(F, "Bob", "Robert"), "nickname");
        assert_eq!(level_of(F, "Jonathon", "Jonathan"), "jaro_winkler >= 0.92");
        assert_eq!(level_of(F, "J", "John"), "jaro_winkler >= 0.8 or initial");
        assert_eq!(level_of(F, "Alice", "Robert"), "different");
        assert_eq!(level_of(F, "", "Robert"), "null");
    }

    #[test]
    fn swapped_names() {
        let spec = MatchSpec::with_fields(vec![
            field("f", FieldKind::FirstName),
            field("l", FieldKind::LastName),
        ]);
        let recs = build_records(
            &spec,
            vec![
                RawRecord {
                    id: "1".into(),
                    source: 0,
                    values: vec!["John".into(), "Smith".into()],
                },
                RawRecord {
                    id: "2".into(),
                    source: 0,
                    values: vec!["Smith".into(), "John".into()],
                },
            ],
        )
        .unwrap();
        for c in Comparison::all(&spec.fields) {
            assert_eq!(c.gamma(&recs, 0, &recs, 1), 2, "{}", c.column);
        }
    }

    #[test]
    fn last_names_and_full_names() {
        assert_eq!(
            level_of(FieldKind::LastName, "Smith", "Smiht"),
            "jaro_winkler >= 0.92 or one edit"
        );
        assert_eq!(level_of(FieldKind::LastName, "Smith", "Jones"), "different");
        assert_eq!(
            level_of(FieldKind::Name, "Smith John", "John Smith"),
            "same words reordered or nickname"
        );
        assert_eq!(
            level_of(FieldKind::Name, "Bob Smith", "Robert Smith"),
            "same words reordered or nickname"
        );
    }

    #[test]
    fn emails() {
        use FieldKind::Email as E;
        assert_eq!(level_of(E, "j.doe+x@gmail.com", "jdoe@gmail.com"), "exact");
        assert_eq!(level_of(E, "jdoe@acme.com", "jdoe@gmail.com"), "different");
        assert_eq!(
            level_of(E, "jdoe@acme.com", "jdoee@acme.com"),
            "one edit apart (typo)"
        );
        assert_eq!(
            level_of(E, "ann@acme.com", "bob@acme.com"),
            "same domain only"
        );
        assert_eq!(level_of(E, "ann@acme.com", "bob@zeta.org"), "different");
    }

    #[test]
    fn phones() {
        use FieldKind::Phone as P;
        assert_eq!(level_of(P, "(415) 555-2671", "+1 415 555 2671"), "exact");
        assert_eq!(
            level_of(P, "415 555 2671", "415 555 2617"),
            "one digit typo or transposition"
        );
        assert_eq!(
            level_of(P, "415 555 2671", "212 555 2671"),
            "same last 7 digits"
        );
        assert_eq!(level_of(P, "415 555 2671", "212 864 1234"), "different");
    }

    #[test]
    fn companies_addresses_postcodes() {
        assert_eq!(
            level_of(FieldKind::Company, "Acme Inc", "ACME, LLC"),
            "exact"
        );
        assert_eq!(
            level_of(FieldKind::Company, "Acme Robotics", "Acme"),
            "jaro_winkler >= 0.92 or word subset"
        );
        assert_eq!(level_of(FieldKind::Company, "Acme", "Globex"), "different");
        assert_eq!(
            level_of(FieldKind::Address, "12 Main Street", "12 Main St."),
            "exact"
        );
        assert_eq!(
            level_of(FieldKind::Address, "12 Main St", "12 Mian St"),
            "jaro_winkler >= 0.92"
        );
        assert_eq!(
            level_of(
                FieldKind::Address,
                "12 Main St Unit 4",
                "12 Elm Road Unit 4"
            ),
            "same house number and jaro_winkler >= 0.75"
        );
        assert_eq!(
            level_of(FieldKind::Address, "12 Main St", "99 Oak Ave"),
            "different"
        );
        assert_eq!(
            level_of(FieldKind::Postcode, "94110", "94112"),
            "same first 3 characters"
        );
        assert_eq!(level_of(FieldKind::Postcode, "94110", "10001"), "different");
    }

    #[test]
    fn dates_numbers_text_exact() {
        use FieldKind::Date as D;
        assert_eq!(level_of(D, "1985-03-07", "07.03.1985"), "exact");
        assert_eq!(
            level_of(D, "1985-03-07", "1985-07-03"),
            "day and month transposed"
        );
        assert_eq!(
            level_of(D, "1985-03-07", "1985-03-08"),
            "one character edit"
        );
        assert_eq!(level_of(D, "1985-03-07", "1985-11-28"), "same year");
        assert_eq!(level_of(D, "1985-03-07", "1962-11-28"), "different");
        assert_eq!(level_of(FieldKind::Numeric, "100", "100.0"), "exact");
        assert_eq!(level_of(FieldKind::Numeric, "100", "99.5"), "within 1%");
        assert_eq!(level_of(FieldKind::Numeric, "100", "95"), "within 10%");
        assert_eq!(level_of(FieldKind::Numeric, "100", "50"), "different");
        assert_eq!(
            level_of(FieldKind::Text, "Hello World", "hello, world"),
            "exact"
        );
        assert_eq!(level_of(FieldKind::Exact, "A1", "a1"), "different");
    }
}
