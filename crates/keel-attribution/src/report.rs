//! Attributed conversions and revenue per channel and campaign, joined with cost: ROAS
//! (value ÷ cost) and CAC (cost ÷ conversions).
//!
//! Money is integer minor units plus an ISO currency code; a cost table must use one currency.

use crate::{Attribution, Error};
use std::collections::BTreeMap;

/// An amount of money in minor units (cents) of a currency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Money {
    /// Amount in minor units.
    pub minor: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
}

/// Digits after the decimal point of a currency's minor unit (ISO 4217; 2 unless listed).
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

impl Money {
    /// Parses a decimal amount such as `1234.5` exactly into minor units.
    pub fn parse(text: &str, currency: &str) -> Result<Money, String> {
        let currency = currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!("`{currency}` is not an ISO currency code"));
        }
        let digits = minor_digits(&currency);
        let t = text.trim();
        let (neg, t) = t.strip_prefix('-').map_or((false, t), |r| (true, r));
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        let ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() && frac.is_empty() || !ok(int) || !ok(frac) {
            return Err(format!("`{text}` is not a decimal amount"));
        }
        if frac.len() > digits as usize {
            return Err(format!(
                "`{text}` has more than {digits} decimals for {currency}"
            ));
        }
        let scale = 10i64.pow(digits);
        let whole: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| format!("`{text}` is too large"))?
        };
        let mut f: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse()
                .map_err(|_| format!("`{text}` is not a decimal amount"))?
        };
        f *= 10i64.pow(digits - frac.len() as u32);
        let minor = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(f))
            .ok_or_else(|| format!("`{text}` is too large"))?;
        Ok(Money {
            minor: if neg { -minor } else { minor },
            currency,
        })
    }

    /// The amount in major units, for ratios.
    pub fn major(&self) -> f64 {
        self.minor as f64 / 10f64.powi(minor_digits(&self.currency) as i32)
    }
}

/// Cost of a channel, or of one campaign in a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    /// Channel name.
    pub channel: String,
    /// Campaign, or `None` for cost not tied to a campaign.
    pub campaign: Option<String>,
    /// Amount spent.
    pub amount: Money,
}

/// Performance of a channel (campaign `None`) or of a campaign within a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    /// Model name.
    pub model: String,
    /// Channel name.
    pub channel: String,
    /// Campaign, `None` on channel rows.
    pub campaign: Option<String>,
    /// Attributed conversions.
    pub conversions: f64,
    /// Attributed value.
    pub value: f64,
    /// Cost, when known.
    pub cost: Option<Money>,
    /// Return on ad spend: value ÷ cost.
    pub roas: Option<f64>,
    /// Cost per acquisition: cost ÷ conversions.
    pub cac: Option<f64>,
}

/// Reads a cost table with columns `channel`, `cost` and optionally `campaign` and `currency`
/// (default `default_currency`).
pub fn read_costs_csv<R: std::io::Read>(
    reader: R,
    origin: &str,
    default_currency: &str,
) -> Result<Vec<Cost>, Error> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = rdr
        .headers()
        .map_err(|e| Error::Table {
            origin: origin.into(),
            message: format!("cannot read the header row: {e}"),
        })?
        .clone();
    let col = |n: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(n))
    };
    let channel_col = col("channel").ok_or_else(|| Error::Table {
        origin: origin.into(),
        message: "missing column `channel`".into(),
    })?;
    let cost_col = col("cost").ok_or_else(|| Error::Table {
        origin: origin.into(),
        message: "missing column `cost`".into(),
    })?;
    let campaign_col = col("campaign");
    let currency_col = col("currency");
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::Table {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        let row = rec.position().map_or(0, |p| p.line());
        let err = |c: usize, message: String| Error::Input {
            origin: origin.into(),
            row,
            column: c + 1,
            field: headers.get(c).unwrap_or("?").to_owned(),
            message,
        };
        let channel = rec.get(channel_col).unwrap_or("").trim();
        if channel.is_empty() {
            return Err(err(channel_col, "missing channel".into()));
        }
        let currency = currency_col
            .and_then(|c| rec.get(c))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or(default_currency);
        let amount = Money::parse(rec.get(cost_col).unwrap_or(""), currency)
            .map_err(|m| err(cost_col, m))?;
        let campaign = campaign_col
            .and_then(|c| rec.get(c))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        out.push(Cost {
            channel: channel.to_owned(),
            campaign,
            amount,
        });
    }
    Ok(out)
}

/// Joins an attribution with costs. Channel rows get the sum of the channel's costs; campaign
/// rows get that campaign's cost. All costs must share one currency.
pub fn performance(attribution: &Attribution, costs: &[Cost]) -> Result<Vec<Performance>, Error> {
    let currency = costs.first().map(|c| c.amount.currency.clone());
    if let Some(cur) = &currency
        && let Some(other) = costs.iter().find(|c| &c.amount.currency != cur)
    {
        return Err(Error::Model(format!(
            "costs mix currencies ({cur} and {}); convert them to one currency first",
            other.amount.currency
        )));
    }
    let mut by_channel: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_campaign: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for c in costs {
        *by_channel.entry(&c.channel).or_default() += c.amount.minor;
        if let Some(camp) = &c.campaign {
            *by_campaign.entry((&c.channel, camp)).or_default() += c.amount.minor;
        }
    }
    let row = |credit: &crate::ChannelCredit, minor: Option<i64>| {
        let cost = minor
            .zip(currency.clone())
            .map(|(minor, currency)| Money { minor, currency });
        let major = cost.as_ref().map(Money::major);
        Performance {
            model: attribution.model.clone(),
            channel: credit.channel.clone(),
            campaign: credit.campaign.clone(),
            conversions: credit.conversions,
            value: credit.value,
            roas: major.filter(|m| *m > 0.0).map(|m| credit.value / m),
            cac: major
                .filter(|_| credit.conversions > 0.0)
                .map(|m| m / credit.conversions),
            cost,
        }
    };
    let mut out: Vec<Performance> = attribution
        .channels
        .iter()
        .map(|c| row(c, by_channel.get(c.channel.as_str()).copied()))
        .collect();
    for c in &attribution.campaigns {
        let minor = c
            .campaign
            .as_deref()
            .and_then(|camp| by_campaign.get(&(c.channel.as_str(), camp)).copied());
        out.push(row(c, minor));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChannelCredit;

    #[test]
    fn money_parses_exactly() {
        assert_eq!(Money::parse("12.5", "usd").unwrap().minor, 1250);
        assert_eq!(Money::parse("1200", "JPY").unwrap().minor, 1200);
        assert_eq!(Money::parse("1.234", "KWD").unwrap().minor, 1234);
        assert!(Money::parse("1.234", "EUR").is_err());
        assert!(Money::parse("abc", "EUR").is_err());
        assert!(Money::parse("1", "EURO").is_err());
    }

    #[test]
    fn roas_and_cac() {
        let credit = |ch: &str, camp: Option<&str>, c: f64, v: f64| ChannelCredit {
            channel: ch.into(),
            campaign: camp.map(Into::into),
            conversions: c,
            value: v,
        };
        let attribution = Attribution {
            model: "linear".into(),
            channels: vec![
                credit("Paid Search", None, 4.0, 400.0),
                credit("Email", None, 2.0, 50.0),
            ],
            campaigns: vec![credit("Paid Search", Some("spring"), 3.0, 300.0)],
            conventions: String::new(),
        };
        let costs = read_costs_csv(
            "channel,campaign,cost,currency\nPaid Search,spring,150,USD\nPaid Search,,50,USD\n"
                .as_bytes(),
            "cost.csv",
            "USD",
        )
        .unwrap();
        let rows = performance(&attribution, &costs).unwrap();
        assert_eq!(rows[0].cost.as_ref().unwrap().minor, 20000);
        assert_eq!(rows[0].roas, Some(2.0));
        assert_eq!(rows[0].cac, Some(50.0));
        assert_eq!(rows[1].cost, None);
        assert_eq!(rows[2].roas, Some(2.0));
        assert_eq!(rows[2].cac, Some(50.0));
        let err = read_costs_csv("channel,cost\nEmail,1.234\n".as_bytes(), "cost.csv", "USD")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cost.csv:2:2: cost: `1.234` has more than 2 decimals for USD"
        );
    }
}
