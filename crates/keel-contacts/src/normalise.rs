//! Normalisation of raw text into canonical values: case, whitespace, phone numbers
//! (E.164 via libphonenumber's metadata), countries (ISO 3166-1 alpha-2), URLs, emails,
//! booleans, numbers and dates. Each function returns the canonical form or why it has none.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Trims and collapses runs of whitespace into single spaces.
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Title case: first letter of each word upper-cased, the rest lower-cased; keeps
/// apostrophes and hyphens as word boundaries (`o'neil-smith` → `O'Neil-Smith`).
pub fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c.is_whitespace() || c == '-' || c == '\'';
    }
    out
}

/// Gives libphonenumber's shared regex cache room for every region's patterns.
///
/// The `phonenumber` crate compiles its metadata patterns lazily into an LRU cache of 100
/// entries; a file with numbers from a dozen countries needs more than that, so patterns are
/// evicted and recompiled on almost every number (measured: ~100 rows/s instead of tens of
/// thousands). Swapping in a larger cache once keeps every compiled pattern.
fn enlarge_phone_regex_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
            *cache = regex_cache::RegexCache::new(20_000);
        }
    });
}

/// A phone number in E.164 (`+14155550123`), reading national numbers in `default_region`
/// (ISO alpha-2, e.g. `US`).
pub fn phone_e164(raw: &str, default_region: Option<&str>) -> Result<String, String> {
    let region = match default_region {
        Some(r) => Some(
            phonenumber::country::Id::from_str(&r.to_ascii_uppercase())
                .map_err(|_| format!("`{r}` is not a phone region"))?,
        ),
        None => None,
    };
    enlarge_phone_regex_cache();
    // International numbers are often written with the trunk zero in brackets
    // (`+49 (0)89 …`) or with the `00` international prefix; neither is part of E.164.
    let mut text = raw.trim().replace("(0)", "");
    if let Some(rest) = text.strip_prefix("00") {
        text = format!("+{rest}");
    }
    let number =
        phonenumber::parse(region, &text).map_err(|e| format!("not a phone number ({e})"))?;
    if !phone_is_valid(&number) {
        return Err("not a valid phone number for its country".into());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// libphonenumber's validity rule (`PhoneNumber::is_valid`), evaluated with this crate's own
/// compiled patterns. The `phonenumber` crate looks every metadata pattern up in one LRU cache
/// behind a global mutex and searches unanchored; that was a fifth of an import's CPU time and
/// serialised parallel validation. Here each thread compiles the patterns it meets once,
/// anchored at the start, which is exactly the crate's "match found at position 0" test.
/// The unit tests check it against `is_valid` on every region's example numbers.
fn phone_is_valid(number: &phonenumber::PhoneNumber) -> bool {
    use phonenumber::metadata::{DATABASE, Metadata};
    let code = number.country().code();
    let national = number.national().to_string();
    let Some(regions) = DATABASE.region(&code) else {
        return false;
    };
    let meta: Option<&'static Metadata> = if let [only] = regions.as_slice() {
        if *only == "001" {
            DATABASE.by_code(&code).and_then(|m| m.into_iter().next())
        } else {
            DATABASE.by_id(*only)
        }
    } else {
        regions.iter().find_map(|region| {
            let meta = DATABASE.by_id(*region)?;
            let chosen = match meta.leading_digits() {
                Some(pattern) => starts_with_match(pattern.as_str(), &national),
                None => has_number_type(meta, &national),
            };
            chosen.then_some(meta)
        })
    };
    meta.is_some_and(|m| has_number_type(m, &national))
}

/// Whether libphonenumber would give `national` a number type other than "unknown" in `meta`.
fn has_number_type(meta: &'static phonenumber::metadata::Metadata, national: &str) -> bool {
    let d = meta.descriptors();
    if !descriptor_matches(d.general(), national) {
        return false;
    }
    [
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
        d.fixed_line(),
        d.mobile(),
    ]
    .into_iter()
    .flatten()
    .any(|x| descriptor_matches(x, national))
}

/// `Descriptor::is_match`: a possible length, and the pattern matching from the start.
fn descriptor_matches(d: &'static phonenumber::metadata::Descriptor, national: &str) -> bool {
    let lengths = d.possible_length();
    (lengths.is_empty() || lengths.contains(&(national.len() as u16)))
        && starts_with_match(d.national_number().as_str(), national)
}

/// Whether `pattern` matches `text` at position 0, with a per-thread compiled, start-anchored
/// copy of the pattern (compiled as the crate compiles it, ignoring whitespace). The metadata
/// lives for the whole process, so a pattern's address identifies it.
fn starts_with_match(pattern: &'static str, text: &str) -> bool {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static COMPILED: RefCell<HashMap<(usize, usize), Option<regex::Regex>>> =
            RefCell::new(HashMap::new());
    }
    COMPILED.with(|compiled| {
        let mut compiled = compiled.borrow_mut();
        compiled
            .entry((pattern.as_ptr() as usize, pattern.len()))
            .or_insert_with(|| {
                // The metadata's patterns are written with insignificant whitespace.
                regex::RegexBuilder::new(&format!("^(?:{pattern})"))
                    .ignore_whitespace(true)
                    .build()
                    .ok()
            })
            .as_ref()
            .is_some_and(|re| re.is_match(text))
    })
}

/// Whether `region` is a region libphonenumber knows (used when validating contracts).
pub fn is_phone_region(region: &str) -> bool {
    phonenumber::country::Id::from_str(region).is_ok()
}

/// A country name, alias or code (alpha-2, alpha-3, numeric) as ISO 3166-1 alpha-2.
pub fn country_alpha2(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    // Common spellings that are not in the ISO tables or their aliases.
    let extra = match trimmed.to_lowercase().replace(['.', ' '], "").as_str() {
        "uk" | "greatbritain" | "britain" | "england" | "scotland" | "wales" => Some("GB"),
        "us" | "usa" | "unitedstates" | "america" | "unitedstatesofamerica" => Some("US"),
        "deutschland" => Some("DE"),
        "holland" | "thenetherlands" => Some("NL"),
        "españa" | "espana" => Some("ES"),
        "schweiz" | "suisse" => Some("CH"),
        "österreich" | "osterreich" => Some("AT"),
        "southkorea" | "korea" => Some("KR"),
        "russia" => Some("RU"),
        "uae" => Some("AE"),
        _ => None,
    };
    if let Some(code) = extra {
        return Ok(code.to_string());
    }
    let key: String = trimmed
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    if key.is_empty() {
        return Err("not a country".into());
    }
    celes::Country::from_str(&key)
        .or_else(|_| celes::Country::from_alias(&key))
        .or_else(|_| celes::Country::from_name(&key))
        .map(|c| c.alpha2.to_string())
        .map_err(|_| format!("`{trimmed}` is not a known country name or ISO 3166 code"))
}

/// A URL in canonical form: scheme added when missing (`https`), host lower-cased,
/// default port and a lone trailing `/` path dropped, fragment removed.
pub fn url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let mut parsed = url::Url::parse(&with_scheme).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("scheme `{}` is not http or https", parsed.scheme()));
    }
    let host = parsed.host_str().unwrap_or_default().to_string();
    if !host.contains('.') {
        return Err(format!("host `{host}` has no domain"));
    }
    parsed.set_fragment(None);
    let mut out = parsed.to_string();
    if parsed.path() == "/" && parsed.query().is_none() {
        out.pop();
    }
    Ok(out)
}

/// An email address lower-cased and trimmed, checked for one `@`, a local part and a
/// domain with a dot and no spaces.
pub fn email(raw: &str) -> Result<String, String> {
    let e = raw.trim().to_lowercase();
    let Some((local, domain)) = e.split_once('@') else {
        return Err("has no `@`".into());
    };
    if local.is_empty() {
        return Err("has nothing before the `@`".into());
    }
    if domain.contains('@') {
        return Err("has more than one `@`".into());
    }
    if e.chars().any(|c| c.is_whitespace() || c == ',' || c == ';') {
        return Err("contains spaces or separators".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return Err(format!("domain `{domain}` is not a valid domain"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("local part has misplaced dots".into());
    }
    Ok(e)
}

/// A boolean from the spellings exports use (`true/false`, `1/0`, `yes/no`, `y/n`).
pub fn boolean(raw: &str) -> Result<bool, String> {
    match raw.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "t" => Ok(true),
        "false" | "0" | "no" | "n" | "f" => Ok(false),
        _ => Err("is not true/false, yes/no or 1/0".into()),
    }
}

/// An integer, allowing thousands separators (`1,200`).
pub fn integer(raw: &str) -> Result<i64, String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    cleaned
        .parse::<i64>()
        .map_err(|_| "is not a whole number".into())
}

/// A decimal in canonical text: thousands separators and a leading currency sign dropped,
/// trailing zeros after the point removed (`$1,200.50` → `1200.5`).
pub fn decimal(raw: &str) -> Result<String, String> {
    let cleaned: String = raw
        .trim()
        .trim_start_matches(['$', '€', '£'])
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    let (neg, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err("is not a decimal number".into());
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let mut out = String::new();
    if neg && !(int == "0" && frac.is_empty()) {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Ok(out)
}

/// Date formats tried when a field declares none.
pub const DEFAULT_DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"];

/// Date-time formats tried (after RFC 3339) when a field declares none.
pub const DEFAULT_DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
];

/// A date in one of `formats`.
pub fn date(raw: &str, formats: &[String]) -> Result<NaiveDate, String> {
    let s = raw.trim();
    let found = if formats.is_empty() {
        DEFAULT_DATE_FORMATS
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
    } else {
        formats
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
    };
    found.ok_or_else(|| "is not a date in an accepted format".into())
}

/// A date-time in RFC 3339 or one of `formats` (times without an offset are read as UTC;
/// a bare date is midnight UTC).
pub fn datetime(raw: &str, formats: &[String]) -> Result<DateTime<Utc>, String> {
    let s = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let try_format = |f: &str| -> Option<DateTime<Utc>> {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
        NaiveDateTime::parse_from_str(s, f)
            .ok()
            .map(|t| t.and_utc())
    };
    let found = if formats.is_empty() {
        DEFAULT_DATETIME_FORMATS.iter().find_map(|f| try_format(f))
    } else {
        formats.iter().find_map(|f| try_format(f))
    };
    if let Some(t) = found {
        return Ok(t);
    }
    if formats.is_empty()
        && let Ok(d) = date(s, &[])
    {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err("is not a date-time in an accepted format".into())
}

#[cfg(test)]
mod tests {

    #[test]
    fn phone_validity_agrees_with_libphonenumber_everywhere() {
        use phonenumber::metadata::DATABASE;
        let mut checked = 0;
        let mut valid = 0;
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let examples = [
                d.general(),
                d.fixed_line().unwrap_or(d.general()),
                d.mobile().unwrap_or(d.general()),
                d.toll_free().unwrap_or(d.general()),
                d.premium_rate().unwrap_or(d.general()),
                d.voip().unwrap_or(d.general()),
            ];
            for ex in examples.iter().filter_map(|x| x.example()) {
                // The example, and variants one digit shorter, longer and changed.
                let mut variants = vec![ex.to_string(), format!("{ex}7"), format!("9{ex}")];
                if ex.len() > 2 {
                    variants.push(ex[..ex.len() - 1].to_string());
                    variants.push(format!("{}{}", &ex[..1], &ex[2..]));
                }
                for national in variants {
                    let text = format!("+{} {national}", meta.country_code());
                    let Ok(number) = phonenumber::parse(None, &text) else {
                        continue;
                    };
                    assert_eq!(
                        phone_is_valid(&number),
                        number.is_valid(),
                        "{text} ({})",
                        meta.id()
                    );
                    checked += 1;
                    valid += usize::from(number.is_valid());
                }
            }
        }
        assert!(
            checked > 2000 && valid > 500,
            "{checked} checked, {valid} valid"
        );
    }

    use super::*;

    #[test]
    fn phones_become_e164() {
        assert_eq!(
            phone_e164("(415) 555-2671", Some("US")).unwrap(),
            "+14155552671"
        );
        assert_eq!(
            phone_e164("+44 20 7946 0958", Some("US")).unwrap(),
            "+442079460958"
        );
        assert_eq!(phone_e164("030 901820", Some("DE")).unwrap(), "+4930901820");
        assert_eq!(
            phone_e164("+49 (0)89 1234567", Some("US")).unwrap(),
            "+49891234567"
        );
        assert_eq!(
            phone_e164("0049 40 1234567", Some("US")).unwrap(),
            "+49401234567"
        );
        assert!(phone_e164("12", Some("US")).is_err());
        assert!(phone_e164("call me", Some("US")).is_err());
    }

    #[test]
    fn countries_become_alpha2() {
        for (raw, code) in [
            ("United States", "US"),
            ("usa", "US"),
            ("U.S.A.", "US"),
            ("DEU", "DE"),
            ("Germany", "DE"),
            ("de", "DE"),
            ("UK", "GB"),
            ("United Kingdom", "GB"),
            ("france", "FR"),
            ("276", "DE"),
        ] {
            assert_eq!(country_alpha2(raw).unwrap(), code, "{raw}");
        }
        assert!(country_alpha2("Atlantis").is_err());
    }

    #[test]
    fn urls_are_canonical() {
        assert_eq!(url("WWW.Example.COM").unwrap(), "https://www.example.com");
        assert_eq!(url("http://example.com:80/").unwrap(), "http://example.com");
        assert_eq!(
            url("https://example.com/a?b=1#top").unwrap(),
            "https://example.com/a?b=1"
        );
        assert!(url("ftp://example.com").is_err());
        assert!(url("localhost").is_err());
    }

    #[test]
    fn numbers_and_text() {
        assert_eq!(decimal("$1,200.50").unwrap(), "1200.5");
        assert_eq!(decimal("-0.0").unwrap(), "0");
        assert!(decimal("12a").is_err());
        assert_eq!(integer("1,200").unwrap(), 1200);
        assert_eq!(title_case("o'neil-SMITH jr"), "O'Neil-Smith Jr");
        assert_eq!(collapse_whitespace("  a   b "), "a b");
        assert_eq!(email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        assert!(email("ann@example").is_err());
        assert!(email("ann example.com").is_err());
    }

    #[test]
    fn datetimes_in_export_formats() {
        let a = datetime("2024-03-05T14:22:11.000+0000", &[]).unwrap();
        let b = datetime("2024-03-05 14:22:11", &[]).unwrap();
        assert_eq!(a, b);
        assert!(datetime("03/05/2024 2:22 PM", &[]).is_ok());
        assert!(datetime("yesterday", &[]).is_err());
    }
}
