//! Imports of ad cost and delivery (Google Ads and Meta Ads export layouts) and of CRM
//! opportunities, validated row by row with quarantine: every row is either accepted, or kept
//! with its row number, its raw text and every reason it was refused. Nothing is dropped silently
//! except the export's own title lines and total rows, which are counted.
//!
//! Headers are matched loosely (case, spaces and punctuation ignored) and may be preceded by
//! title lines, as in Google Ads downloads ("Campaign report", a date range, then the header).

use crate::report::Money;
use chrono::NaiveDate;

/// Layout of an ad platform's export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdLayout {
    /// Google Ads report download: `Day, Campaign, Impr., Clicks, Cost, Currency code`.
    GoogleAds,
    /// Meta Ads Manager export: `Day` (or `Reporting starts`), `Campaign name`, `Impressions`,
    /// `Link clicks` (or `Clicks (all)`), `Amount spent (USD)` (or `Amount spent` + `Currency`).
    MetaAds,
}

impl AdLayout {
    /// Parses `google-ads` or `meta-ads`.
    pub fn parse(text: &str) -> Option<AdLayout> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "google-ads" | "google" => Some(AdLayout::GoogleAds),
            "meta-ads" | "meta" | "facebook-ads" => Some(AdLayout::MetaAds),
            _ => None,
        }
    }

    /// The name used in storage and the CLI (`google-ads`, `meta-ads`).
    pub fn as_str(self) -> &'static str {
        match self {
            AdLayout::GoogleAds => "google-ads",
            AdLayout::MetaAds => "meta-ads",
        }
    }

    /// The channel (in the default channel grouping) this platform's spend belongs to.
    pub fn channel(self) -> &'static str {
        match self {
            AdLayout::GoogleAds => "Paid Search",
            AdLayout::MetaAds => "Paid Social",
        }
    }
}

/// One day of one campaign's delivery and spend.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AdCost {
    /// Calendar day.
    pub day: NaiveDate,
    /// Campaign name as in the platform (matched against `utm_campaign`).
    pub campaign: String,
    /// Impressions.
    pub impressions: i64,
    /// Clicks.
    pub clicks: i64,
    /// Spend.
    pub cost: Money,
}

/// One CRM opportunity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Opportunity {
    /// The CRM's id, unique.
    pub id: String,
    /// Account (company) name.
    pub account: String,
    /// E-mail of the contact the opportunity belongs to (joins to identified people).
    pub contact_email: Option<String>,
    /// Amount.
    pub amount: Money,
    /// Stage as in the CRM, e.g. `Closed Won`.
    pub stage: String,
    /// Whether the stage is a won stage.
    pub won: bool,
    /// Close date (expected or actual).
    pub close_date: Option<NaiveDate>,
}

/// A refused row, kept for review.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Quarantined {
    /// 1-based line number in the file.
    pub row: u64,
    /// The row as it appeared in the file.
    pub raw: String,
    /// Every reason, each naming its column.
    pub reasons: Vec<String>,
}

/// The outcome of parsing an import file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Parsed<T> {
    /// Valid rows.
    pub accepted: Vec<T>,
    /// Refused rows with reasons.
    pub quarantined: Vec<Quarantined>,
    /// Title lines before the header and total rows, not data.
    pub skipped: u64,
}

/// A file that cannot be imported at all (no recognisable header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ImportError(pub String);

fn norm(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Records of a CSV file with their line numbers and raw text.
fn records(text: &str) -> Vec<(u64, String, Vec<String>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let start = rdr.position().byte() as usize;
        match rdr.read_record(&mut rec) {
            Ok(true) => {
                let line = rec.position().map_or(0, |p| p.line());
                let end = (rdr.position().byte() as usize).min(text.len());
                let raw = text
                    .get(start..end)
                    .unwrap_or("")
                    .trim_end_matches(['\r', '\n'])
                    .to_owned();
                out.push((line, raw, rec.iter().map(str::to_owned).collect()));
            }
            Ok(false) => break,
            Err(e) => {
                // Invalid UTF-8 or similar: keep the rest of the line as one bad record.
                let line = e.position().map_or(0, |p| p.line());
                out.push((line, format!("unreadable row: {e}"), Vec::new()));
                break;
            }
        }
    }
    out
}

/// Finds the header row: the first record that has every `required` column (by any of its
/// names). Returns its index and, per wanted column, its position.
fn find_header(
    recs: &[(u64, String, Vec<String>)],
    wanted: &[(&str, &[&str], bool)],
) -> Result<(usize, Vec<Option<usize>>), ImportError> {
    for (i, (_, _, fields)) in recs.iter().enumerate().take(20) {
        let names: Vec<String> = fields.iter().map(|f| norm(f)).collect();
        let cols: Vec<Option<usize>> = wanted
            .iter()
            .map(|(_, aliases, _)| {
                aliases
                    .iter()
                    .find_map(|a| names.iter().position(|n| n == &norm(a)))
            })
            .collect();
        if wanted
            .iter()
            .zip(&cols)
            .all(|((_, _, required), c)| !required || c.is_some())
        {
            return Ok((i, cols));
        }
    }
    let need: Vec<&str> = wanted.iter().filter(|w| w.2).map(|w| w.0).collect();
    Err(ImportError(format!(
        "no header row found in the first 20 lines; expected columns: {}",
        need.join(", ")
    )))
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%b %d, %Y", "%B %d, %Y", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
}

fn parse_count(text: &str) -> Result<i64, String> {
    let t = text.trim().replace(',', "");
    if t.is_empty() || t == "--" {
        return Ok(0);
    }
    match t.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(format!("`{}` is not a whole number ≥ 0", text.trim())),
    }
}

fn parse_amount(text: &str, currency: &str, what: &str) -> Result<Money, String> {
    let t = text.trim().replace(',', "");
    let t = t.trim_start_matches(['$', '€', '£']);
    if t.is_empty() {
        return Err(format!("{what}: missing amount"));
    }
    let m = Money::parse(t, currency).map_err(|e| format!("{what}: {e}"))?;
    if m.minor < 0 {
        return Err(format!("{what}: `{}` is negative", text.trim()));
    }
    Ok(m)
}

/// Parses an ad platform export. `default_currency` applies when the file names none.
pub fn parse_ad_costs(
    text: &str,
    layout: AdLayout,
    default_currency: &str,
) -> Result<Parsed<AdCost>, ImportError> {
    let wanted: Vec<(&str, &[&str], bool)> = match layout {
        AdLayout::GoogleAds => vec![
            ("Day", &["Day", "Date"], true),
            ("Campaign", &["Campaign", "Campaign name"], true),
            ("Impr.", &["Impr.", "Impressions"], true),
            ("Clicks", &["Clicks"], true),
            ("Cost", &["Cost"], true),
            ("Currency code", &["Currency code", "Currency"], false),
        ],
        AdLayout::MetaAds => vec![
            ("Day", &["Day", "Reporting starts", "Date"], true),
            ("Campaign name", &["Campaign name", "Campaign"], true),
            ("Impressions", &["Impressions"], true),
            (
                "Link clicks",
                &["Link clicks", "Clicks (all)", "Clicks"],
                true,
            ),
            ("Amount spent", &["Amount spent"], false),
            ("Currency", &["Currency"], false),
        ],
    };
    let recs = records(text);
    let (header_at, mut cols) = find_header(&recs, &wanted)?;
    let header = &recs[header_at].2;
    // Meta names the currency in the spend column's header: "Amount spent (EUR)".
    let mut header_currency: Option<String> = None;
    if layout == AdLayout::MetaAds
        && cols[4].is_none()
        && let Some((i, h)) = header
            .iter()
            .enumerate()
            .find(|(_, h)| norm(h).starts_with("amountspent"))
    {
        cols[4] = Some(i);
        header_currency = h
            .rsplit_once('(')
            .and_then(|(_, c)| c.strip_suffix(')'))
            .map(|c| c.trim().to_ascii_uppercase());
    }
    let Some(cost_col) = cols[4] else {
        return Err(ImportError(
            "missing the spend column (`Amount spent (USD)` or `Amount spent`)".into(),
        ));
    };
    let names: Vec<&str> = wanted.iter().map(|w| w.0).collect();
    let mut out = Parsed {
        accepted: Vec::new(),
        quarantined: Vec::new(),
        skipped: header_at as u64,
    };
    for (line, raw, fields) in &recs[header_at + 1..] {
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |k: usize| cols[k].and_then(|c| fields.get(c)).map_or("", |s| s.trim());
        // Export summary rows ("Total: Account", "Total: Campaigns") are not data.
        if fields
            .first()
            .is_some_and(|f| f.trim().to_ascii_lowercase().starts_with("total"))
        {
            out.skipped += 1;
            continue;
        }
        let mut reasons = Vec::new();
        if fields.is_empty() {
            reasons.push(raw.clone());
        }
        let day = parse_date(get(0));
        if day.is_none() {
            reasons.push(format!(
                "{}: `{}` is not a date (YYYY-MM-DD)",
                names[0],
                get(0)
            ));
        }
        let campaign = get(1);
        if campaign.is_empty() {
            reasons.push(format!("{}: missing", names[1]));
        }
        let impressions =
            parse_count(get(2)).map_err(|e| reasons.push(format!("{}: {e}", names[2])));
        let clicks = parse_count(get(3)).map_err(|e| reasons.push(format!("{}: {e}", names[3])));
        let currency = Some(get(5))
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .or_else(|| header_currency.clone())
            .unwrap_or_else(|| default_currency.to_owned());
        let cost = fields.get(cost_col).map_or("", |s| s.as_str());
        let cost = parse_amount(cost, &currency, names[4]).map_err(|e| reasons.push(e));
        if let (Ok(i), Ok(c)) = (&impressions, &clicks)
            && c > i
            && *i > 0
        {
            reasons.push(format!("{}: {c} clicks exceed {i} impressions", names[3]));
        }
        match (day, impressions, clicks, cost) {
            (Some(day), Ok(impressions), Ok(clicks), Ok(cost)) if reasons.is_empty() => {
                out.accepted.push(AdCost {
                    day,
                    campaign: campaign.to_owned(),
                    impressions,
                    clicks,
                    cost,
                })
            }
            _ => out.quarantined.push(Quarantined {
                row: *line,
                raw: raw.clone(),
                reasons,
            }),
        }
    }
    Ok(out)
}

/// Whether a CRM stage name means the deal was won.
pub fn is_won_stage(stage: &str) -> bool {
    let s = norm(stage);
    s == "closedwon" || s == "won"
}

/// Parses a CRM opportunities export: `Opportunity ID, Account, Contact Email, Amount, Stage,
/// Close Date[, Currency]`. Ids must be unique within the file.
pub fn parse_opportunities(
    text: &str,
    default_currency: &str,
) -> Result<Parsed<Opportunity>, ImportError> {
    let wanted: Vec<(&str, &[&str], bool)> = vec![
        (
            "Opportunity ID",
            &["Opportunity ID", "Opportunity", "ID"],
            true,
        ),
        ("Account", &["Account", "Account name", "Company"], true),
        (
            "Contact Email",
            &["Contact Email", "Email", "Contact e-mail"],
            true,
        ),
        ("Amount", &["Amount", "Revenue", "Value"], true),
        ("Stage", &["Stage", "Status"], true),
        ("Close Date", &["Close Date", "Closed", "Close"], true),
        ("Currency", &["Currency", "Currency code"], false),
    ];
    let recs = records(text);
    let (header_at, cols) = find_header(&recs, &wanted)?;
    let names: Vec<&str> = wanted.iter().map(|w| w.0).collect();
    let mut out = Parsed {
        accepted: Vec::new(),
        quarantined: Vec::new(),
        skipped: header_at as u64,
    };
    let mut ids = std::collections::HashMap::new();
    for (line, raw, fields) in &recs[header_at + 1..] {
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |k: usize| cols[k].and_then(|c| fields.get(c)).map_or("", |s| s.trim());
        let mut reasons = Vec::new();
        let id = get(0);
        if id.is_empty() {
            reasons.push(format!("{}: missing", names[0]));
        } else if let Some(first) = ids.get(id) {
            reasons.push(format!("{}: `{id}` already on row {first}", names[0]));
        }
        let account = get(1);
        if account.is_empty() {
            reasons.push(format!("{}: missing", names[1]));
        }
        let email = get(2);
        let email_ok = email.is_empty() || {
            let (user, domain) = email.split_once('@').unwrap_or(("", ""));
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
        };
        if !email_ok {
            reasons.push(format!("{}: `{email}` is not an e-mail address", names[2]));
        }
        let currency = Some(get(6))
            .filter(|c| !c.is_empty())
            .unwrap_or(default_currency);
        let amount = parse_amount(get(3), currency, names[3]).map_err(|e| reasons.push(e));
        let stage = get(4);
        if stage.is_empty() {
            reasons.push(format!("{}: missing", names[4]));
        }
        let close = get(5);
        let close_date = if close.is_empty() {
            None
        } else {
            let d = parse_date(close);
            if d.is_none() {
                reasons.push(format!(
                    "{}: `{close}` is not a date (YYYY-MM-DD)",
                    names[5]
                ));
            }
            d
        };
        let won = is_won_stage(stage);
        if won && close.is_empty() {
            reasons.push(format!(
                "{}: a won opportunity needs a close date",
                names[5]
            ));
        }
        match amount {
            Ok(amount) if reasons.is_empty() => {
                ids.insert(id.to_owned(), *line);
                out.accepted.push(Opportunity {
                    id: id.to_owned(),
                    account: account.to_owned(),
                    contact_email: (!email.is_empty()).then(|| email.to_ascii_lowercase()),
                    amount,
                    stage: stage.to_owned(),
                    won,
                    close_date,
                });
            }
            _ => out.quarantined.push(Quarantined {
                row: *line,
                raw: raw.clone(),
                reasons,
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_ads_export_with_title_lines_totals_and_bad_rows() {
        let text = "Campaign report\n\"December 1, 2026 - December 3, 2026\"\n\
Day,Campaign,Impr.,Clicks,Cost,Currency code\n\
2026-12-01,spring-sale,\"1,200\",40,\"1,034.50\",USD\n\
2026-12-02,spring-sale,900,30,80.1,USD\n\
2026-13-02,,x,30,-5,USD\n\
2026-12-03,brand,10,20,1.234,USD\n\
Total: Account,,2100,70,1114.60,USD\n";
        let p = parse_ad_costs(text, AdLayout::GoogleAds, "USD").unwrap();
        assert_eq!(p.accepted.len(), 2);
        assert_eq!(p.accepted[0].impressions, 1200);
        assert_eq!(p.accepted[0].cost.minor, 103_450);
        assert_eq!(p.quarantined.len(), 2);
        assert_eq!(p.quarantined[0].row, 6);
        assert_eq!(p.quarantined[0].raw, "2026-13-02,,x,30,-5,USD");
        assert_eq!(
            p.quarantined[0].reasons.len(),
            4,
            "{:?}",
            p.quarantined[0].reasons
        );
        assert_eq!(
            p.quarantined[1].reasons.len(),
            2,
            "{:?}",
            p.quarantined[1].reasons
        );
        assert_eq!(p.skipped, 3);
    }

    #[test]
    fn meta_export_currency_in_header() {
        let text = "Reporting starts,Reporting ends,Campaign name,Impressions,Link clicks,Amount spent (EUR)\n\
2026-12-01,2026-12-01,Winter,500,12,33.20\n";
        let p = parse_ad_costs(text, AdLayout::MetaAds, "USD").unwrap();
        assert_eq!(p.accepted[0].cost.currency, "EUR");
        assert_eq!(p.accepted[0].clicks, 12);
        assert!(parse_ad_costs("a,b\n1,2\n", AdLayout::MetaAds, "USD").is_err());
    }

    #[test]
    fn opportunities_with_quarantine() {
        let text = "Opportunity ID,Account,Contact Email,Amount,Stage,Close Date\n\
o1,Acme,ann@acme.test,1200.00,Closed Won,2026-11-30\n\
o2,Acme,bob@acme,50,Prospecting,\n\
o1,Beta,c@beta.test,10,Closed Lost,2026-11-01\n\
o3,Gamma,,abc,Closed Won,\n\
o4,Delta,d@delta.test,99.5,Negotiation,\n";
        let p = parse_opportunities(text, "USD").unwrap();
        assert_eq!(
            p.accepted.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
            ["o1", "o4"]
        );
        assert!(p.accepted[0].won);
        assert_eq!(p.quarantined.len(), 3);
        assert_eq!(
            p.quarantined[1].reasons,
            ["Opportunity ID: `o1` already on row 2"]
        );
        assert_eq!(
            p.quarantined[2].reasons.len(),
            2,
            "{:?}",
            p.quarantined[2].reasons
        );
    }
}
