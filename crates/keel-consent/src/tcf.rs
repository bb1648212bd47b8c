//! IAB TCF v2.2 transparency-and-consent strings: strict decoding and encoding.
//!
//! A TC string is `core[.segment]*`: the core segment (version 2) followed by optional segments
//! whose first three bits name their type — 1 disclosed vendors, 2 allowed vendors, 3 publisher
//! TC. Vendor sets are written either as a bitfield or as a list of ranges; both are read here and
//! the encoder picks the shorter, as the specification recommends. Decoding is strict: every
//! segment must be complete, ranges must be well formed, segment types may not repeat and the
//! padding after the last field must be zero.

use crate::bits::{BitReader, BitWriter};
use crate::error::{DecodeError, DecodeErrorKind, Error};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A decoded TC string. Id sets (purposes, vendors, features) are sorted lists of the ids that are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcString {
    /// Format version; always 2.
    pub version: u8,
    /// When the string was first created (decisecond precision).
    pub created: DateTime<Utc>,
    /// When the string was last updated (decisecond precision).
    pub last_updated: DateTime<Utc>,
    /// The registered id of the consent-management platform.
    pub cmp_id: u16,
    /// The CMP's own version.
    pub cmp_version: u16,
    /// The CMP screen on which consent was given.
    pub consent_screen: u8,
    /// Two-letter language of the consent dialogue, upper case.
    pub consent_language: String,
    /// Version of the global vendor list used.
    pub vendor_list_version: u16,
    /// Version of the TCF policy (4 and later for TCF v2.2).
    pub tcf_policy_version: u8,
    /// Whether the string is specific to one service rather than globally shared.
    pub is_service_specific: bool,
    /// Whether the publisher customised the standard purpose texts.
    pub use_non_standard_texts: bool,
    /// Special features (1–12) the user opted in to.
    pub special_feature_optins: Vec<u16>,
    /// Purposes (1–24) the user consented to.
    pub purpose_consents: Vec<u16>,
    /// Purposes (1–24) for which legitimate interest was disclosed and not objected to.
    pub purpose_legitimate_interests: Vec<u16>,
    /// Whether purpose 1 was not disclosed (publisher in a country that exempts it).
    pub purpose_one_treatment: bool,
    /// Two-letter country of the publisher, upper case.
    pub publisher_country_code: String,
    /// Vendors the user consented to.
    pub vendor_consents: Vec<u16>,
    /// Vendors whose legitimate interest was disclosed and not objected to.
    pub vendor_legitimate_interests: Vec<u16>,
    /// Restrictions the publisher placed on vendors, sorted by purpose and type.
    pub publisher_restrictions: Vec<PublisherRestriction>,
    /// Disclosed-vendors segment (type 1), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosed_vendors: Option<Vec<u16>>,
    /// Allowed-vendors segment (type 2, deprecated in TCF v2.2), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_vendors: Option<Vec<u16>>,
    /// Publisher TC segment (type 3), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_tc: Option<PublisherTc>,
}

/// A publisher restriction: for one purpose, how the listed vendors may process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherRestriction {
    /// The purpose restricted.
    pub purpose_id: u8,
    /// The restriction.
    pub restriction_type: RestrictionType,
    /// The vendors it applies to, sorted.
    pub vendor_ids: Vec<u16>,
}

/// The kind of publisher restriction (2 bits; value 3 is undefined and rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestrictionType {
    /// 0: the purpose is not allowed for these vendors.
    NotAllowed,
    /// 1: the vendors need consent for the purpose.
    RequireConsent,
    /// 2: the vendors need legitimate interest for the purpose.
    RequireLegitimateInterest,
}

impl RestrictionType {
    fn code(self) -> u64 {
        match self {
            Self::NotAllowed => 0,
            Self::RequireConsent => 1,
            Self::RequireLegitimateInterest => 2,
        }
    }
}

/// The publisher TC segment: the publisher's own purposes and custom purposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherTc {
    /// Publisher purposes (1–24) consented to.
    pub purpose_consents: Vec<u16>,
    /// Publisher purposes (1–24) under legitimate interest.
    pub purpose_legitimate_interests: Vec<u16>,
    /// Number of custom purposes defined by the publisher (0–63).
    pub num_custom_purposes: u8,
    /// Custom purposes consented to.
    pub custom_purpose_consents: Vec<u16>,
    /// Custom purposes under legitimate interest.
    pub custom_purpose_legitimate_interests: Vec<u16>,
}

const SEGMENT_DISCLOSED: u64 = 1;
const SEGMENT_ALLOWED: u64 = 2;
const SEGMENT_PUBLISHER_TC: u64 = 3;

/// Decodes a TC string strictly.
pub fn decode_tc_string(input: &str) -> Result<TcString, DecodeError> {
    if input.is_empty() {
        return Err(DecodeError::new(DecodeErrorKind::Empty));
    }
    let mut segments = input.split('.');
    let core = segments.next().unwrap_or_default();
    let mut tc = decode_core(core).map_err(|e| e.in_segment(0))?;
    let mut seen = [false; 4];
    for (index, segment) in segments.enumerate() {
        let index = index + 1;
        decode_segment(segment, &mut tc, &mut seen).map_err(|e| e.in_segment(index))?;
    }
    Ok(tc)
}

fn decode_core(segment: &str) -> Result<TcString, DecodeError> {
    let mut r = BitReader::from_base64url(segment)?;
    let version = r.int(6, "version")?;
    if version != 2 {
        return Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion {
            found: version,
            supported: "2",
        })
        .at("version", 0));
    }
    let created = read_datetime(&mut r, "created")?;
    let last_updated = read_datetime(&mut r, "last_updated")?;
    let cmp_id = r.u16(12, "cmp_id")?;
    let cmp_version = r.u16(12, "cmp_version")?;
    let consent_screen = r.u8(6, "consent_screen")?;
    let consent_language = read_letters(&mut r, "consent_language")?;
    let vendor_list_version = r.u16(12, "vendor_list_version")?;
    let tcf_policy_version = r.u8(6, "tcf_policy_version")?;
    let is_service_specific = r.bool("is_service_specific")?;
    let use_non_standard_texts = r.bool("use_non_standard_texts")?;
    let special_feature_optins = r.bitfield_ids(12, "special_feature_optins")?;
    let purpose_consents = r.bitfield_ids(24, "purpose_consents")?;
    let purpose_legitimate_interests = r.bitfield_ids(24, "purpose_legitimate_interests")?;
    let purpose_one_treatment = r.bool("purpose_one_treatment")?;
    let publisher_country_code = read_letters(&mut r, "publisher_country_code")?;
    let vendor_consents = read_vendor_set(&mut r, "vendor_consents")?;
    let vendor_legitimate_interests = read_vendor_set(&mut r, "vendor_legitimate_interests")?;
    let publisher_restrictions = read_restrictions(&mut r)?;
    r.finish()?;
    Ok(TcString {
        version: 2,
        created,
        last_updated,
        cmp_id,
        cmp_version,
        consent_screen,
        consent_language,
        vendor_list_version,
        tcf_policy_version,
        is_service_specific,
        use_non_standard_texts,
        special_feature_optins,
        purpose_consents,
        purpose_legitimate_interests,
        purpose_one_treatment,
        publisher_country_code,
        vendor_consents,
        vendor_legitimate_interests,
        publisher_restrictions,
        disclosed_vendors: None,
        allowed_vendors: None,
        publisher_tc: None,
    })
}

fn decode_segment(
    segment: &str,
    tc: &mut TcString,
    seen: &mut [bool; 4],
) -> Result<(), DecodeError> {
    let mut r = BitReader::from_base64url(segment)?;
    let segment_type = r.int(3, "segment_type")?;
    let slot = match segment_type {
        SEGMENT_DISCLOSED | SEGMENT_ALLOWED | SEGMENT_PUBLISHER_TC => {
            usize::try_from(segment_type).unwrap_or(0)
        }
        other => {
            return Err(DecodeError::new(DecodeErrorKind::UnknownSegment {
                segment_type: other,
            })
            .at("segment_type", 0));
        }
    };
    if seen[slot] {
        return Err(
            DecodeError::new(DecodeErrorKind::DuplicateSegment { segment_type })
                .at("segment_type", 0),
        );
    }
    seen[slot] = true;
    match segment_type {
        SEGMENT_DISCLOSED => {
            tc.disclosed_vendors = Some(read_vendor_set(&mut r, "disclosed_vendors")?)
        }
        SEGMENT_ALLOWED => tc.allowed_vendors = Some(read_vendor_set(&mut r, "allowed_vendors")?),
        _ => {
            let purpose_consents = r.bitfield_ids(24, "pub_purposes_consent")?;
            let purpose_legitimate_interests =
                r.bitfield_ids(24, "pub_purposes_li_transparency")?;
            let num_custom_purposes = r.u8(6, "num_custom_purposes")?;
            let custom_purpose_consents =
                r.bitfield_ids(usize::from(num_custom_purposes), "custom_purposes_consent")?;
            let custom_purpose_legitimate_interests = r.bitfield_ids(
                usize::from(num_custom_purposes),
                "custom_purposes_li_transparency",
            )?;
            tc.publisher_tc = Some(PublisherTc {
                purpose_consents,
                purpose_legitimate_interests,
                num_custom_purposes,
                custom_purpose_consents,
                custom_purpose_legitimate_interests,
            });
        }
    }
    r.finish()
}

fn read_datetime(r: &mut BitReader, field: &'static str) -> Result<DateTime<Utc>, DecodeError> {
    let start = r.position();
    let deciseconds = r.int(36, field)?;
    i64::try_from(deciseconds)
        .ok()
        .and_then(|d| DateTime::from_timestamp_millis(d * 100))
        .ok_or(
            DecodeError::new(DecodeErrorKind::InvalidValue {
                value: deciseconds,
                allowed: "a representable time",
            })
            .at(field, start),
        )
}

fn read_letters(r: &mut BitReader, field: &'static str) -> Result<String, DecodeError> {
    let mut out = String::with_capacity(2);
    for _ in 0..2 {
        let start = r.position();
        let letter = r.u8(6, field)?;
        if letter > 25 {
            return Err(DecodeError::new(DecodeErrorKind::InvalidValue {
                value: u64::from(letter),
                allowed: "0-25 (letters A-Z)",
            })
            .at(field, start));
        }
        out.push(char::from(b'A' + letter));
    }
    Ok(out)
}

/// Reads `MaxVendorId`, `IsRangeEncoding` and then the bitfield or the range list.
fn read_vendor_set(r: &mut BitReader, field: &'static str) -> Result<Vec<u16>, DecodeError> {
    let max_vendor_id = r.u16(16, field)?;
    let is_range = r.bool(field)?;
    if !is_range {
        return r.bitfield_ids(usize::from(max_vendor_id), field);
    }
    let mut ids = read_ranges(r, field, Some(max_vendor_id))?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Reads `NumEntries` (12 bits) followed by that many single ids or ranges (16-bit ids).
fn read_ranges(
    r: &mut BitReader,
    field: &'static str,
    max: Option<u16>,
) -> Result<Vec<u16>, DecodeError> {
    let entries = r.int(12, field)?;
    let mut ids = Vec::new();
    for _ in 0..entries {
        let start_bit = r.position();
        let is_range = r.bool(field)?;
        let start = r.u16(16, field)?;
        let end = if is_range { r.u16(16, field)? } else { start };
        let invalid = |reason| {
            DecodeError::new(DecodeErrorKind::InvalidRange {
                start: u64::from(start),
                end: u64::from(end),
                reason,
            })
            .at(field, start_bit)
        };
        if start == 0 {
            return Err(invalid("vendor ids start at 1"));
        }
        if end < start {
            return Err(invalid("range ends before it starts"));
        }
        if let Some(max) = max
            && end > max
        {
            return Err(invalid("id above the segment's maximum vendor id"));
        }
        ids.extend(start..=end);
    }
    Ok(ids)
}

fn read_restrictions(r: &mut BitReader) -> Result<Vec<PublisherRestriction>, DecodeError> {
    const FIELD: &str = "publisher_restrictions";
    let count = r.int(12, FIELD)?;
    let mut out: Vec<PublisherRestriction> = Vec::new();
    for _ in 0..count {
        let purpose_id = r.u8(6, FIELD)?;
        let type_bit = r.position();
        let restriction_type = match r.int(2, FIELD)? {
            0 => RestrictionType::NotAllowed,
            1 => RestrictionType::RequireConsent,
            2 => RestrictionType::RequireLegitimateInterest,
            value => {
                return Err(DecodeError::new(DecodeErrorKind::InvalidValue {
                    value,
                    allowed: "0 (not allowed), 1 (require consent), 2 (require legitimate interest)",
                })
                .at(FIELD, type_bit));
            }
        };
        let vendor_ids = read_ranges(r, FIELD, None)?;
        match out
            .iter_mut()
            .find(|p| p.purpose_id == purpose_id && p.restriction_type == restriction_type)
        {
            Some(existing) => existing.vendor_ids.extend(vendor_ids),
            None => out.push(PublisherRestriction {
                purpose_id,
                restriction_type,
                vendor_ids,
            }),
        }
    }
    for restriction in &mut out {
        restriction.vendor_ids.sort_unstable();
        restriction.vendor_ids.dedup();
    }
    out.sort_by_key(|p| (p.purpose_id, p.restriction_type));
    Ok(out)
}

impl TcString {
    /// Encodes the string: the core segment, then disclosed vendors, allowed vendors and publisher TC when present.
    pub fn encode(&self) -> Result<String, Error> {
        let mut w = BitWriter::new();
        w.int(2, 6);
        write_datetime(&mut w, self.created, "created")?;
        write_datetime(&mut w, self.last_updated, "last_updated")?;
        w.int(u64::from(self.cmp_id), 12);
        w.int(u64::from(self.cmp_version), 12);
        w.int(u64::from(self.consent_screen), 6);
        write_letters(&mut w, &self.consent_language, "consent_language")?;
        w.int(u64::from(self.vendor_list_version), 12);
        w.int(u64::from(self.tcf_policy_version), 6);
        w.bool(self.is_service_specific);
        w.bool(self.use_non_standard_texts);
        w.bitfield_ids(&self.special_feature_optins, 12);
        w.bitfield_ids(&self.purpose_consents, 24);
        w.bitfield_ids(&self.purpose_legitimate_interests, 24);
        w.bool(self.purpose_one_treatment);
        write_letters(
            &mut w,
            &self.publisher_country_code,
            "publisher_country_code",
        )?;
        write_vendor_set(&mut w, &self.vendor_consents);
        write_vendor_set(&mut w, &self.vendor_legitimate_interests);
        w.int(self.publisher_restrictions.len() as u64, 12);
        for restriction in &self.publisher_restrictions {
            w.int(u64::from(restriction.purpose_id), 6);
            w.int(restriction.restriction_type.code(), 2);
            write_ranges(&mut w, &restriction.vendor_ids);
        }
        let mut parts = vec![w.to_base64url()];
        if let Some(ids) = &self.disclosed_vendors {
            let mut w = BitWriter::new();
            w.int(SEGMENT_DISCLOSED, 3);
            write_vendor_set(&mut w, ids);
            parts.push(w.to_base64url());
        }
        if let Some(ids) = &self.allowed_vendors {
            let mut w = BitWriter::new();
            w.int(SEGMENT_ALLOWED, 3);
            write_vendor_set(&mut w, ids);
            parts.push(w.to_base64url());
        }
        if let Some(p) = &self.publisher_tc {
            let mut w = BitWriter::new();
            w.int(SEGMENT_PUBLISHER_TC, 3);
            w.bitfield_ids(&p.purpose_consents, 24);
            w.bitfield_ids(&p.purpose_legitimate_interests, 24);
            w.int(u64::from(p.num_custom_purposes), 6);
            w.bitfield_ids(
                &p.custom_purpose_consents,
                usize::from(p.num_custom_purposes),
            );
            w.bitfield_ids(
                &p.custom_purpose_legitimate_interests,
                usize::from(p.num_custom_purposes),
            );
            parts.push(w.to_base64url());
        }
        Ok(parts.join("."))
    }
}

fn write_datetime(w: &mut BitWriter, at: DateTime<Utc>, field: &'static str) -> Result<(), Error> {
    let deciseconds = u64::try_from(at.timestamp_millis() / 100)
        .ok()
        .filter(|d| *d < (1 << 36))
        .ok_or(Error::Encode {
            field,
            reason: "time before 1970 or too far in the future".into(),
        })?;
    w.int(deciseconds, 36);
    Ok(())
}

fn write_letters(w: &mut BitWriter, letters: &str, field: &'static str) -> Result<(), Error> {
    let bytes = letters.as_bytes();
    if bytes.len() != 2 || !bytes.iter().all(u8::is_ascii_alphabetic) {
        return Err(Error::Encode {
            field,
            reason: format!("{letters:?} is not two letters"),
        });
    }
    for b in bytes {
        w.int(u64::from(b.to_ascii_uppercase() - b'A'), 6);
    }
    Ok(())
}

/// Groups sorted ids into inclusive runs.
fn runs(ids: &[u16]) -> Vec<(u16, u16)> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for id in sorted {
        match out.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(id) => *end = id,
            _ => out.push((id, id)),
        }
    }
    out
}

fn write_ranges(w: &mut BitWriter, ids: &[u16]) {
    let runs = runs(ids);
    w.int(runs.len() as u64, 12);
    for (start, end) in runs {
        w.bool(start != end);
        w.int(u64::from(start), 16);
        if start != end {
            w.int(u64::from(end), 16);
        }
    }
}

/// Writes a vendor set in whichever of bitfield and range encoding is shorter.
fn write_vendor_set(w: &mut BitWriter, ids: &[u16]) {
    let max = ids.iter().copied().max().unwrap_or(0);
    w.int(u64::from(max), 16);
    let range_bits: usize = 12
        + runs(ids)
            .iter()
            .map(|(s, e)| if s == e { 17 } else { 33 })
            .sum::<usize>();
    if range_bits < usize::from(max) {
        w.bool(true);
        write_ranges(w, ids);
    } else {
        w.bool(false);
        w.bitfield_ids(ids, usize::from(max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the TCF v2 technical specification's consent string examples.
    const SPEC_EXAMPLE: &str = "COw4XqLOw4XqLAAAAAENAXCAAAAAAAAAAAAAAAAAAAAA.IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAAAAFAAECAAAgAAQARAEQAAAAAJAAIAAgAAAYQEAAAQmAgBC3ZAYzUw";

    fn sample() -> TcString {
        TcString {
            version: 2,
            created: DateTime::from_timestamp_millis(1_650_000_000_000).unwrap(),
            last_updated: DateTime::from_timestamp_millis(1_650_000_100_000).unwrap(),
            cmp_id: 300,
            cmp_version: 2,
            consent_screen: 1,
            consent_language: "EN".into(),
            vendor_list_version: 150,
            tcf_policy_version: 4,
            is_service_specific: true,
            use_non_standard_texts: false,
            special_feature_optins: vec![1],
            purpose_consents: vec![1, 2, 3, 4, 7, 9, 10],
            purpose_legitimate_interests: vec![2, 7, 8],
            purpose_one_treatment: false,
            publisher_country_code: "DE".into(),
            vendor_consents: (1..=500).chain([755, 1200]).collect(),
            vendor_legitimate_interests: vec![2, 6, 8],
            publisher_restrictions: vec![PublisherRestriction {
                purpose_id: 2,
                restriction_type: RestrictionType::RequireConsent,
                vendor_ids: vec![1, 2, 3, 10],
            }],
            disclosed_vendors: Some(vec![1, 2, 3, 755]),
            allowed_vendors: None,
            publisher_tc: Some(PublisherTc {
                purpose_consents: vec![1],
                purpose_legitimate_interests: vec![],
                num_custom_purposes: 3,
                custom_purpose_consents: vec![2],
                custom_purpose_legitimate_interests: vec![3],
            }),
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let tc = sample();
        let encoded = tc.encode().unwrap();
        assert_eq!(decode_tc_string(&encoded).unwrap(), tc);
    }

    #[test]
    fn decodes_the_specification_example_with_disclosed_vendors() {
        let tc = decode_tc_string(SPEC_EXAMPLE);
        // The example in the specification predates v2.2 but has the same layout.
        let tc = tc.unwrap();
        assert_eq!(tc.version, 2);
        assert!(tc.disclosed_vendors.is_some_and(|v| !v.is_empty()));
    }

    fn kind(input: &str) -> DecodeErrorKind {
        decode_tc_string(input).unwrap_err().kind
    }

    #[test]
    fn malformed_strings_get_precise_kinds() {
        assert_eq!(kind(""), DecodeErrorKind::Empty);
        assert!(matches!(
            kind("CO*"),
            DecodeErrorKind::InvalidBase64url {
                character: '*',
                position: 2
            }
        ));
        // Version 1 (000001) → "B".
        assert!(matches!(
            kind("BOw4XqLOw4XqL"),
            DecodeErrorKind::UnsupportedVersion { found: 1, .. }
        ));
        let err = decode_tc_string("COw4XqLOw4XqLAAAAAENAXCA").unwrap_err();
        assert!(matches!(err.kind, DecodeErrorKind::Truncated { .. }));
        assert_eq!(err.segment, Some(0));
        let core = sample().encode().unwrap();
        let core = core.split('.').next().unwrap().to_string();
        // Two disclosed-vendor segments.
        let err = decode_tc_string(&format!("{core}.IAAA.IAAA")).unwrap_err();
        assert_eq!(
            err.kind,
            DecodeErrorKind::DuplicateSegment { segment_type: 1 }
        );
        assert_eq!(err.segment, Some(2));
        // Segment type 5 (101) → first char 'o' (101000 = 40).
        assert_eq!(
            kind(&format!("{core}.oAAA")),
            DecodeErrorKind::UnknownSegment { segment_type: 5 }
        );
        // Non-zero padding after the last field.
        assert!(matches!(
            kind(&format!("{core}_")),
            DecodeErrorKind::TrailingData { .. }
        ));
    }

    #[test]
    fn invalid_ranges_are_rejected() {
        // Disclosed vendors: type 1, max 5, range encoding, one entry that is a range 4..=2.
        let mut w = BitWriter::new();
        w.int(1, 3);
        w.int(5, 16);
        w.bool(true);
        w.int(1, 12);
        w.bool(true);
        w.int(4, 16);
        w.int(2, 16);
        let core = sample().encode().unwrap();
        let core = core.split('.').next().unwrap();
        let err = decode_tc_string(&format!("{core}.{}", w.to_base64url())).unwrap_err();
        assert!(matches!(
            err.kind,
            DecodeErrorKind::InvalidRange {
                start: 4,
                end: 2,
                ..
            }
        ));
        assert_eq!(err.field, Some("disclosed_vendors"));
        assert_eq!(err.bit_offset, Some(32));
        // Id above the maximum vendor id.
        let mut w = BitWriter::new();
        w.int(1, 3);
        w.int(5, 16);
        w.bool(true);
        w.int(1, 12);
        w.bool(false);
        w.int(9, 16);
        let err = decode_tc_string(&format!("{core}.{}", w.to_base64url())).unwrap_err();
        assert!(matches!(
            err.kind,
            DecodeErrorKind::InvalidRange {
                start: 9,
                end: 9,
                ..
            }
        ));
    }
}
