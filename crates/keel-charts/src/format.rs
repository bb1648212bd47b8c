//! Number formatting for labels, axes and tables: thousands separators, k/M/B suffixes,
//! currency and percentages.
//!
//! Two renderings exist for every format: [`ValueFormat::full`] (tables, tooltips: every digit
//! that matters) and [`ValueFormat::short`] (value labels and axis ticks: at most about four
//! characters of number). Missing values (NaN, infinities) print as an en dash.

use serde::{Deserialize, Serialize};

/// How a chart prints its values.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValueFormat {
    /// Integers with thousands separators, fractions with up to two decimals; short form uses
    /// k/M/B from ten thousand.
    #[default]
    Auto,
    /// A fixed number of decimals with thousands separators.
    Number {
        /// Decimals to show (at most 6).
        decimals: u8,
    },
    /// Always k/M/B suffixes (`1.2k`, `3.4M`).
    Compact,
    /// Money in major units (divide integer cents by 100 first), e.g. `$1,234.50`.
    Currency {
        /// ISO 4217 code, e.g. `USD`, `EUR`.
        code: String,
    },
    /// A ratio shown as a percentage: `0.125` prints as `12.5%`.
    Percent {
        /// Decimals of the percentage (at most 6).
        decimals: u8,
    },
}

/// The placeholder printed for missing values.
pub const MISSING: &str = "–";

impl ValueFormat {
    /// The full rendering of `value`, for tables and tooltips.
    pub fn full(&self, value: f64) -> String {
        if !value.is_finite() {
            return MISSING.to_string();
        }
        match self {
            ValueFormat::Auto => {
                let decimals = if (value - value.round()).abs() < 1e-9 {
                    0
                } else {
                    2
                };
                trim_decimals(&grouped(value, decimals))
            }
            ValueFormat::Number { decimals } => grouped(value, (*decimals).min(6).into()),
            ValueFormat::Compact => compact(value, None),
            ValueFormat::Currency { code } => {
                let (symbol, decimals) = currency(code);
                signed(value, |v| format!("{symbol}{}", grouped(v, decimals)))
            }
            ValueFormat::Percent { decimals } => {
                format!("{}%", grouped(value * 100.0, (*decimals).min(6).into()))
            }
        }
    }

    /// The short rendering of `value`, for value labels on bars and slices.
    pub fn short(&self, value: f64) -> String {
        if !value.is_finite() {
            return MISSING.to_string();
        }
        match self {
            ValueFormat::Auto if value.abs() < 10_000.0 => self.full(value),
            ValueFormat::Auto | ValueFormat::Compact => compact(value, None),
            ValueFormat::Number { .. } if value.abs() < 10_000.0 => self.full(value),
            ValueFormat::Number { .. } => compact(value, None),
            ValueFormat::Currency { code } => {
                let (symbol, decimals) = currency(code);
                if value.abs() < 10_000.0 {
                    let d = if (value - value.round()).abs() < 1e-9 {
                        0
                    } else {
                        decimals
                    };
                    signed(value, |v| format!("{symbol}{}", grouped(v, d)))
                } else {
                    signed(value, |v| format!("{symbol}{}", compact(v, None)))
                }
            }
            ValueFormat::Percent { .. } => self.full(value),
        }
    }

    /// The rendering of an axis tick at `value` when ticks are `step` apart: just enough
    /// decimals to tell neighbouring ticks apart.
    pub fn tick(&self, value: f64, step: f64) -> String {
        if !value.is_finite() {
            return MISSING.to_string();
        }
        let step = if step.is_finite() && step > 0.0 {
            step
        } else {
            1.0
        };
        match self {
            ValueFormat::Percent { .. } => {
                format!("{}%", grouped(value * 100.0, decimals_for(step * 100.0)))
            }
            ValueFormat::Currency { code } => {
                let (symbol, _) = currency(code);
                signed(value, |v| format!("{symbol}{}", tick_number(v, step)))
            }
            _ => signed(value, |v| tick_number(v, step)),
        }
    }
}

/// Number of decimals needed to print multiples of `step` exactly (0 to 6).
fn decimals_for(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    let d = (-step.log10()).ceil();
    // Steps such as 0.25 need one more decimal than their magnitude suggests.
    let d = if d < 0.0 { 0.0 } else { d };
    let mut decimals = d as usize;
    while decimals < 6 {
        let scaled = step * 10f64.powi(decimals as i32);
        if (scaled - scaled.round()).abs() < 1e-6 {
            break;
        }
        decimals += 1;
    }
    decimals.min(6)
}

fn tick_number(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let (unit, suffix) = unit_for(v.abs().max(step));
    if unit == 1.0 {
        grouped(v, decimals_for(step))
    } else {
        format!("{}{suffix}", grouped(v / unit, decimals_for(step / unit)))
    }
}

fn unit_for(magnitude: f64) -> (f64, &'static str) {
    if magnitude >= 1e12 {
        (1e12, "T")
    } else if magnitude >= 1e9 {
        (1e9, "B")
    } else if magnitude >= 1e6 {
        (1e6, "M")
    } else if magnitude >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    }
}

/// Prints the sign as a true minus and the magnitude with `body`.
fn signed(value: f64, body: impl Fn(f64) -> String) -> String {
    let text = body(value.abs());
    let is_zero = text
        .chars()
        .filter(|c| c.is_ascii_digit())
        .all(|c| c == '0');
    if value < 0.0 && !is_zero {
        format!("−{text}")
    } else {
        text
    }
}

/// `1234.5` → `1.2k`, `12345` → `12k`, `1500000` → `1.5M`; below 1,000 the number itself.
pub fn compact(value: f64, decimals: Option<usize>) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    signed(value, |v| {
        let (unit, suffix) = if v >= 999.5 {
            unit_for(v.max(1e4))
        } else {
            (1.0, "")
        };
        let scaled = v / unit;
        // One decimal only while it carries information: 1.2k, 2.5, but 12k and 950.
        let one_decimal = scaled < 10.0 && (unit > 1.0 || scaled.fract() != 0.0);
        let d = decimals.unwrap_or(usize::from(one_decimal));
        let text = trim_decimals(&grouped(scaled, d));
        // Rounding can carry into the next unit (999.96k → 1000k); promote it.
        if unit < 1e12 && text == "1,000" && unit > 1.0 {
            let (_, next) = unit_for(unit * 1000.0);
            format!("1{next}")
        } else {
            format!("{text}{suffix}")
        }
    })
}

/// A non-negative number with `decimals` decimals and comma thousands separators.
pub fn grouped(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    let negative = value < 0.0;
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3 + 1);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    let is_zero = out.chars().filter(|c| c.is_ascii_digit()).all(|c| c == '0');
    if negative && !is_zero {
        format!("−{out}")
    } else {
        out
    }
}

fn trim_decimals(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text.to_string()
    }
}

/// Symbol (with trailing space for codes without one) and minor-unit decimals of a currency.
fn currency(code: &str) -> (String, usize) {
    let upper = code.trim().to_ascii_uppercase();
    match upper.as_str() {
        "USD" => ("$".into(), 2),
        "EUR" => ("€".into(), 2),
        "GBP" => ("£".into(), 2),
        "JPY" => ("¥".into(), 0),
        "KRW" => ("₩".into(), 0),
        "INR" => ("₹".into(), 2),
        "" => (String::new(), 2),
        other => (format!("{other} "), 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(grouped(1234567.0, 0), "1,234,567");
        assert_eq!(grouped(999.0, 0), "999");
        assert_eq!(grouped(1000.5, 1), "1,000.5");
        assert_eq!(grouped(-1234.0, 0), "−1,234");
        assert_eq!(grouped(-0.0001, 2), "0.00");
    }

    #[test]
    fn compact_suffixes() {
        assert_eq!(compact(950.0, None), "950");
        assert_eq!(compact(1234.0, None), "1.2k");
        assert_eq!(compact(12_345.0, None), "12k");
        assert_eq!(compact(1_500_000.0, None), "1.5M");
        assert_eq!(compact(2_000_000_000.0, None), "2B");
        assert_eq!(compact(999_960.0, None), "1M");
        assert_eq!(compact(-4_200.0, None), "−4.2k");
        assert_eq!(compact(2.5, None), "2.5");
        assert_eq!(compact(f64::NAN, None), MISSING);
    }

    #[test]
    fn auto_and_number() {
        assert_eq!(ValueFormat::Auto.full(1234.0), "1,234");
        assert_eq!(ValueFormat::Auto.full(1234.5), "1,234.5");
        assert_eq!(ValueFormat::Auto.short(123_456.0), "123k");
        assert_eq!(ValueFormat::Number { decimals: 1 }.full(2.0), "2.0");
        assert_eq!(ValueFormat::Auto.full(f64::INFINITY), MISSING);
    }

    #[test]
    fn currency_and_percent() {
        let usd = ValueFormat::Currency { code: "USD".into() };
        assert_eq!(usd.full(1234.5), "$1,234.50");
        assert_eq!(usd.full(-12.0), "−$12.00");
        assert_eq!(usd.short(48_000.0), "$48k");
        assert_eq!(usd.short(120.0), "$120");
        let sek = ValueFormat::Currency { code: "sek".into() };
        assert_eq!(sek.full(10.0), "SEK 10.00");
        let jpy = ValueFormat::Currency { code: "JPY".into() };
        assert_eq!(jpy.full(1500.0), "¥1,500");
        let pct = ValueFormat::Percent { decimals: 1 };
        assert_eq!(pct.full(0.125), "12.5%");
        assert_eq!(ValueFormat::Percent { decimals: 0 }.full(1.0), "100%");
    }

    #[test]
    fn ticks_use_step_precision() {
        assert_eq!(ValueFormat::Auto.tick(0.25, 0.25), "0.25");
        assert_eq!(
            ValueFormat::Currency { code: "USD".into() }.tick(0.0, 50_000.0),
            "$0"
        );
        assert_eq!(ValueFormat::Auto.tick(20_000.0, 5_000.0), "20k");
        assert_eq!(ValueFormat::Auto.tick(2_500.0, 500.0), "2,500");
        assert_eq!(ValueFormat::Auto.tick(1_500_000.0, 500_000.0), "1.5M");
        assert_eq!(ValueFormat::Percent { decimals: 0 }.tick(0.2, 0.1), "20%");
        assert_eq!(
            ValueFormat::Currency { code: "EUR".into() }.tick(-5000.0, 1000.0),
            "−€5,000"
        );
        assert_eq!(decimals_for(0.2), 1);
        assert_eq!(decimals_for(0.25), 2);
        assert_eq!(decimals_for(50.0), 0);
    }
}
