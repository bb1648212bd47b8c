//! IAB Global Privacy Platform (GPP) strings: strict decoding and encoding.
//!
//! A GPP string is `header~section~section…`. The header (type 3, version 1) lists the section ids
//! as a Fibonacci-coded range; the sections follow in that order. Each section is one or more
//! `.`-separated segments. Keel decodes the EU TCF v2 section (`tcfeuv2`, same layout as a TC
//! string), the US national section (`usnat`, versions 1 and 2) and the state sections of
//! California, Virginia, Colorado, Utah and Connecticut, including their optional Global Privacy
//! Control sub-section. Fields keep the specification's names in snake_case; the 2-bit US fields
//! keep the specification's numbers (0 not applicable, 1 yes / opted out, 2 no / did not opt out).

use crate::bits::{BitReader, BitWriter};
use crate::error::{DecodeError, DecodeErrorKind, Error};
use crate::tcf::{TcString, decode_tc_string};
use serde::{Deserialize, Serialize};

/// A decoded GPP string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GppString {
    /// The header.
    pub header: GppHeader,
    /// The sections, by name.
    pub sections: GppSections,
}

/// The GPP header section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GppHeader {
    /// Header version; always 1.
    pub version: u8,
    /// Ids of the sections that follow, ascending.
    pub section_ids: Vec<u16>,
}

/// The sections Keel decodes, by their names in the GPP specification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GppSections {
    /// Section 2: EU TCF v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcfeuv2: Option<TcString>,
    /// Section 7: US national privacy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usnat: Option<UsNat>,
    /// Section 8: California.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usca: Option<UsCa>,
    /// Section 9: Virginia.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usva: Option<UsVa>,
    /// Section 10: Colorado.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usco: Option<UsCo>,
    /// Section 11: Utah.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usut: Option<UsUt>,
    /// Section 12: Connecticut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usct: Option<UsCt>,
}

/// Section ids and names of the GPP specification (sections Keel does not decode included, so
/// the error can name them).
const SECTION_NAMES: &[(u16, &str)] = &[
    (1, "tcfeuv1"),
    (2, "tcfeuv2"),
    (3, "header"),
    (5, "tcfcav1"),
    (6, "uspv1"),
    (7, "usnat"),
    (8, "usca"),
    (9, "usva"),
    (10, "usco"),
    (11, "usut"),
    (12, "usct"),
    (13, "usfl"),
    (14, "usmt"),
    (15, "usor"),
    (16, "ustx"),
    (17, "usde"),
    (18, "usia"),
    (19, "usne"),
    (20, "usnh"),
    (21, "usnj"),
    (22, "ustn"),
    (23, "usmn"),
    (24, "usmd"),
    (25, "usin"),
    (26, "usky"),
    (27, "usri"),
];

/// The name of a GPP section id, if the specification defines it.
pub fn section_name(id: u16) -> Option<&'static str> {
    SECTION_NAMES
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, n)| *n)
}

macro_rules! field_type {
    (int) => { u8 };
    (list) => { Vec<u8> };
}

macro_rules! read_field {
    ($r:expr, $version:expr, $name:literal, $allowed:expr, int) => {
        read_small($r, 2, $name, $allowed)?
    };
    ($r:expr, $version:expr, $name:literal, $allowed:expr, list, $len:expr) => {{
        let len: usize = ($len)($version);
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            items.push(read_small($r, 2, $name, $allowed)?);
        }
        items
    }};
}

macro_rules! write_field {
    ($w:expr, $value:expr, int) => {
        $w.int(u64::from($value), 2)
    };
    ($w:expr, $value:expr, list, $len:expr, $version:expr) => {{
        let len: usize = ($len)($version);
        for i in 0..len {
            $w.int(u64::from($value.get(i).copied().unwrap_or(0)), 2);
        }
    }};
}

/// 0, 1 or 2 (N/A, yes, no) — the common domain of the 2-bit US fields.
const TRISTATE: (u8, u8, &str) = (0, 2, "0 (not applicable), 1 (yes), 2 (no)");
/// MSPA covered transaction admits only 1 (yes) or 2 (no).
const YES_NO: (u8, u8, &str) = (1, 2, "1 (yes), 2 (no)");

fn read_small(
    r: &mut BitReader,
    width: usize,
    field: &'static str,
    allowed: (u8, u8, &'static str),
) -> Result<u8, DecodeError> {
    let start = r.position();
    let value = r.u8(width, field)?;
    if value < allowed.0 || value > allowed.1 {
        return Err(DecodeError::new(DecodeErrorKind::InvalidValue {
            value: u64::from(value),
            allowed: allowed.2,
        })
        .at(field, start));
    }
    Ok(value)
}

macro_rules! us_section {
    (
        $(#[$doc:meta])*
        $ty:ident, $name:literal, versions $versions:literal, gpc $gpc:literal,
        valid_version $valid:expr,
        { $( $(#[$fdoc:meta])* $field:ident = $spec_name:literal : $kind:ident $( ($len:expr) )? $( [$allowed:expr] )? ),* $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $ty {
            /// Section version.
            pub version: u8,
            $( $(#[$fdoc])* pub $field: field_type!($kind), )*
            /// Global Privacy Control signal from the GPC sub-section, when the sub-section is present.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub gpc: Option<bool>,
        }

        impl $ty {
            fn decode(section: &str) -> Result<Self, DecodeError> {
                let mut parts = section.split('.');
                let core = parts.next().unwrap_or_default();
                let mut r = BitReader::from_base64url(core).map_err(|e| e.in_segment(0))?;
                let version = r.u8(6, "version").map_err(|e| e.in_segment(0))?;
                let valid: fn(u8) -> bool = $valid;
                if !valid(version) {
                    return Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion {
                        found: u64::from(version),
                        supported: $versions,
                    })
                    .at("version", 0)
                    .in_segment(0));
                }
                let read = |r: &mut BitReader| -> Result<Self, DecodeError> {
                    Ok(Self {
                        version,
                        $( $field: {
                            #[allow(unused_variables)]
                            let allowed = TRISTATE;
                            $( let allowed = $allowed; )?
                            read_field!(r, version, $spec_name, allowed, $kind $(, $len)?)
                        }, )*
                        gpc: None,
                    })
                };
                let mut out = read(&mut r).map_err(|e| e.in_segment(0))?;
                r.finish().map_err(|e| e.in_segment(0))?;
                if let Some(sub) = parts.next() {
                    if !$gpc {
                        return Err(DecodeError::new(DecodeErrorKind::UnknownSegment { segment_type: 0 })
                            .in_segment(1));
                    }
                    out.gpc = Some(decode_gpc_subsection(sub).map_err(|e| e.in_segment(1))?);
                }
                if parts.next().is_some() {
                    return Err(DecodeError::new(DecodeErrorKind::DuplicateSegment { segment_type: 1 }).in_segment(2));
                }
                Ok(out)
            }

            fn encode(&self) -> String {
                let mut w = BitWriter::new();
                w.int(u64::from(self.version), 6);
                $( write_field!(w, self.$field, $kind $(, $len, self.version)?); )*
                let mut out = w.to_base64url();
                if let Some(gpc) = self.gpc {
                    out.push('.');
                    out.push_str(&encode_gpc_subsection(gpc));
                }
                out
            }
        }
    };
}

fn decode_gpc_subsection(sub: &str) -> Result<bool, DecodeError> {
    let mut r = BitReader::from_base64url(sub)?;
    let segment_type = r.int(2, "subsection_type")?;
    if segment_type != 1 {
        return Err(
            DecodeError::new(DecodeErrorKind::UnknownSegment { segment_type })
                .at("subsection_type", 0),
        );
    }
    let gpc = r.bool("gpc")?;
    r.finish()?;
    Ok(gpc)
}

fn encode_gpc_subsection(gpc: bool) -> String {
    let mut w = BitWriter::new();
    w.int(1, 2);
    w.bool(gpc);
    w.to_base64url()
}

us_section! {
    /// Section 7 (`usnat`): the US national privacy section. Version 1 has 12 sensitive-data
    /// categories and 2 child-consent fields; version 2 has 16 and 3.
    UsNat, "usnat", versions "1, 2", gpc true, valid_version |v| v == 1 || v == 2,
    {
        /// Notice given of sharing personal data.
        sharing_notice = "sharing_notice": int,
        /// Notice given of the right to opt out of sale.
        sale_opt_out_notice = "sale_opt_out_notice": int,
        /// Notice given of the right to opt out of sharing.
        sharing_opt_out_notice = "sharing_opt_out_notice": int,
        /// Notice given of the right to opt out of targeted advertising.
        targeted_advertising_opt_out_notice = "targeted_advertising_opt_out_notice": int,
        /// Notice given of the right to opt out of sensitive-data processing.
        sensitive_data_processing_opt_out_notice = "sensitive_data_processing_opt_out_notice": int,
        /// Notice given of the right to limit use of sensitive data.
        sensitive_data_limit_use_notice = "sensitive_data_limit_use_notice": int,
        /// Opted out of sale (1 yes, 2 no).
        sale_opt_out = "sale_opt_out": int,
        /// Opted out of sharing.
        sharing_opt_out = "sharing_opt_out": int,
        /// Opted out of targeted advertising.
        targeted_advertising_opt_out = "targeted_advertising_opt_out": int,
        /// Per sensitive-data category: opted out / consent.
        sensitive_data_processing = "sensitive_data_processing": list(|v: u8| if v == 1 { 12 } else { 16 }),
        /// Consents for known children's data by age band.
        known_child_sensitive_data_consents = "known_child_sensitive_data_consents": list(|v: u8| if v == 1 { 2 } else { 3 }),
        /// Consent to collection of personal data beyond what is reasonably necessary.
        personal_data_consents = "personal_data_consents": int,
        /// Whether the transaction is covered by the MSPA (1 yes, 2 no).
        mspa_covered_transaction = "mspa_covered_transaction": int [YES_NO],
        /// MSPA opt-out option mode.
        mspa_opt_out_option_mode = "mspa_opt_out_option_mode": int,
        /// MSPA service-provider mode.
        mspa_service_provider_mode = "mspa_service_provider_mode": int,
    }
}

us_section! {
    /// Section 8 (`usca`): California (CCPA/CPRA).
    UsCa, "usca", versions "1", gpc true, valid_version |v| v == 1,
    {
        /// Notice given of the right to opt out of sale.
        sale_opt_out_notice = "sale_opt_out_notice": int,
        /// Notice given of the right to opt out of sharing.
        sharing_opt_out_notice = "sharing_opt_out_notice": int,
        /// Notice given of the right to limit use of sensitive data.
        sensitive_data_limit_use_notice = "sensitive_data_limit_use_notice": int,
        /// Opted out of sale.
        sale_opt_out = "sale_opt_out": int,
        /// Opted out of sharing.
        sharing_opt_out = "sharing_opt_out": int,
        /// Per sensitive-data category (9): limit use.
        sensitive_data_processing = "sensitive_data_processing": list(|_| 9),
        /// Consents for known children's data (2).
        known_child_sensitive_data_consents = "known_child_sensitive_data_consents": list(|_| 2),
        /// Consent to collection beyond what is reasonably necessary.
        personal_data_consents = "personal_data_consents": int,
        /// Whether the transaction is covered by the MSPA (1 yes, 2 no).
        mspa_covered_transaction = "mspa_covered_transaction": int [YES_NO],
        /// MSPA opt-out option mode.
        mspa_opt_out_option_mode = "mspa_opt_out_option_mode": int,
        /// MSPA service-provider mode.
        mspa_service_provider_mode = "mspa_service_provider_mode": int,
    }
}

us_section! {
    /// Section 9 (`usva`): Virginia (VCDPA). No GPC sub-section.
    UsVa, "usva", versions "1", gpc false, valid_version |v| v == 1,
    {
        /// Notice given of sharing.
        sharing_notice = "sharing_notice": int,
        /// Notice given of the right to opt out of sale.
        sale_opt_out_notice = "sale_opt_out_notice": int,
        /// Notice given of the right to opt out of targeted advertising.
        targeted_advertising_opt_out_notice = "targeted_advertising_opt_out_notice": int,
        /// Opted out of sale.
        sale_opt_out = "sale_opt_out": int,
        /// Opted out of targeted advertising.
        targeted_advertising_opt_out = "targeted_advertising_opt_out": int,
        /// Per sensitive-data category (8): consent.
        sensitive_data_processing = "sensitive_data_processing": list(|_| 8),
        /// Consent for known children's data.
        known_child_sensitive_data_consents = "known_child_sensitive_data_consents": int,
        /// Whether the transaction is covered by the MSPA (1 yes, 2 no).
        mspa_covered_transaction = "mspa_covered_transaction": int [YES_NO],
        /// MSPA opt-out option mode.
        mspa_opt_out_option_mode = "mspa_opt_out_option_mode": int,
        /// MSPA service-provider mode.
        mspa_service_provider_mode = "mspa_service_provider_mode": int,
    }
}

us_section! {
    /// Section 10 (`usco`): Colorado (CPA).
    UsCo, "usco", versions "1", gpc true, valid_version |v| v == 1,
    {
        /// Notice given of sharing.
        sharing_notice = "sharing_notice": int,
        /// Notice given of the right to opt out of sale.
        sale_opt_out_notice = "sale_opt_out_notice": int,
        /// Notice given of the right to opt out of targeted advertising.
        targeted_advertising_opt_out_notice = "targeted_advertising_opt_out_notice": int,
        /// Opted out of sale.
        sale_opt_out = "sale_opt_out": int,
        /// Opted out of targeted advertising.
        targeted_advertising_opt_out = "targeted_advertising_opt_out": int,
        /// Per sensitive-data category (7): consent.
        sensitive_data_processing = "sensitive_data_processing": list(|_| 7),
        /// Consent for known children's data.
        known_child_sensitive_data_consents = "known_child_sensitive_data_consents": int,
        /// Whether the transaction is covered by the MSPA (1 yes, 2 no).
        mspa_covered_transaction = "mspa_covered_transaction": int [YES_NO],
        /// MSPA opt-out option mode.
        mspa_opt_out_option_mode = "mspa_opt_out_option_mode": int,
        /// MSPA service-provider mode.
        mspa_service_provider_mode = "mspa_service_provider_mode": int,
    }
}

us_section! {
    /// Section 11 (`usut`): Utah (UCPA). No GPC sub-section.
    UsUt, "usut", versions "1", gpc false, valid_version |v| v == 1,
    {
        /// Notice given of sharing.
        sharing_notice = "sharing_notice": int,
        /// Notice given of the right to opt out of sale.
        sale_opt_out_notice = "sale_opt_out_notice": int,
        /// Notice given of the right to opt out of targeted advertising.
        targeted_advertising_opt_out_notice = "targeted_advertising_opt_out_notice": int,
        /// Notice given of the right to opt out of sensitive-data processing.
        sensitive_data_processing_opt_out_notice = "sensitive_data_processing_opt_out_notice": int,
        /// Opted out of sale.
        sale_opt_out = "sale_opt_out": int,
        /// Opted out of targeted advertising.
        targeted_advertising_opt_out = "targeted_advertising_opt_out": int,
        /// Per sensitive-data category (8): opted out.
        sensitive_data_processing = "sensitive_data_processing": list(|_| 8),
        /// Consent for known children's data.
        known_child_sensitive_data_consents = "known_child_sensitive_data_consents": int,
        /// Whether the transaction is covered by the MSPA (1 yes, 2 no).
        mspa_covered_transaction = "mspa_covered_transaction": int [YES_NO],
        /// MSPA opt-out option mode.
        mspa_opt_out_option_mode = "mspa_opt_out_option_mode": int,
        /// MSPA service-provider mode.
        mspa_service_provider_mode = "mspa_service_provider_mode": int,
    }
}

us_section! {
    /// Section 12 (`usct`): Connecticut (CTDPA).
    UsCt, "usct", versions "1", gpc true, valid_version |v| v == 1,
    {
        /// Notice given of sharing.
        sharing_notice = "sharing_notice": int,
        /// Notice given of the right to opt out of sale.
        sale_opt_out_notice = "sale_opt_out_notice": int,
        /// Notice given of the right to opt out of targeted advertising.
        targeted_advertising_opt_out_notice = "targeted_advertising_opt_out_notice": int,
        /// Opted out of sale.
        sale_opt_out = "sale_opt_out": int,
        /// Opted out of targeted advertising.
        targeted_advertising_opt_out = "targeted_advertising_opt_out": int,
        /// Per sensitive-data category (8): consent.
        sensitive_data_processing = "sensitive_data_processing": list(|_| 8),
        /// Consents for known children's data by age band (3).
        known_child_sensitive_data_consents = "known_child_sensitive_data_consents": list(|_| 3),
        /// Whether the transaction is covered by the MSPA (1 yes, 2 no).
        mspa_covered_transaction = "mspa_covered_transaction": int [YES_NO],
        /// MSPA opt-out option mode.
        mspa_opt_out_option_mode = "mspa_opt_out_option_mode": int,
        /// MSPA service-provider mode.
        mspa_service_provider_mode = "mspa_service_provider_mode": int,
    }
}

/// Decodes a GPP string strictly.
pub fn decode_gpp_string(input: &str) -> Result<GppString, DecodeError> {
    if input.is_empty() {
        return Err(DecodeError::new(DecodeErrorKind::Empty));
    }
    let mut parts = input.split('~');
    let header =
        decode_header(parts.next().unwrap_or_default()).map_err(|e| e.in_section("header"))?;
    let bodies: Vec<&str> = parts.collect();
    if bodies.len() != header.section_ids.len() {
        return Err(DecodeError::new(DecodeErrorKind::SectionCountMismatch {
            listed: header.section_ids.len(),
            present: bodies.len(),
        })
        .in_section("header"));
    }
    let mut sections = GppSections::default();
    for (&id, body) in header.section_ids.iter().zip(bodies) {
        let name = section_name(id).ok_or(DecodeError::new(DecodeErrorKind::UnknownSection {
            id: u64::from(id),
        }))?;
        let unsupported = || {
            DecodeError::new(DecodeErrorKind::UnsupportedSection {
                id: u64::from(id),
                name,
            })
            .in_section(name)
        };
        let ctx = |e: DecodeError| e.in_section(name);
        if body.is_empty() {
            return Err(DecodeError::new(DecodeErrorKind::Empty).in_section(name));
        }
        match id {
            2 => sections.tcfeuv2 = Some(decode_tc_string(body).map_err(ctx)?),
            7 => sections.usnat = Some(UsNat::decode(body).map_err(ctx)?),
            8 => sections.usca = Some(UsCa::decode(body).map_err(ctx)?),
            9 => sections.usva = Some(UsVa::decode(body).map_err(ctx)?),
            10 => sections.usco = Some(UsCo::decode(body).map_err(ctx)?),
            11 => sections.usut = Some(UsUt::decode(body).map_err(ctx)?),
            12 => sections.usct = Some(UsCt::decode(body).map_err(ctx)?),
            _ => return Err(unsupported()),
        }
    }
    Ok(GppString { header, sections })
}

fn decode_header(header: &str) -> Result<GppHeader, DecodeError> {
    let mut r = BitReader::from_base64url(header)?;
    let kind = r.int(6, "type")?;
    if kind != 3 {
        return Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion {
            found: kind,
            supported: "header type 3",
        })
        .at("type", 0));
    }
    let version = r.u8(6, "version")?;
    if version != 1 {
        return Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion {
            found: u64::from(version),
            supported: "1",
        })
        .at("version", 6));
    }
    let entries = r.int(12, "section_ids")?;
    let mut section_ids = Vec::new();
    let mut last = 0u64;
    let too_large = |start: usize| {
        DecodeError::new(DecodeErrorKind::InvalidRange {
            start: 0,
            end: 0,
            reason: "section id above 65535",
        })
        .at("section_ids", start)
    };
    for _ in 0..entries {
        let start = r.position();
        let is_range = r.bool("section_ids")?;
        let first = last.saturating_add(r.fibonacci("section_ids")?);
        let end = if is_range {
            first.saturating_add(r.fibonacci("section_ids")?)
        } else {
            first
        };
        if end > u64::from(u16::MAX) {
            return Err(too_large(start));
        }
        for id in first..=end {
            section_ids.push(u16::try_from(id).map_err(|_| too_large(start))?);
        }
        last = end;
    }
    r.finish()?;
    Ok(GppHeader {
        version,
        section_ids,
    })
}

impl GppString {
    /// Encodes the string; the header's section ids are derived from the sections present.
    pub fn encode(&self) -> Result<String, Error> {
        let s = &self.sections;
        let mut ids = Vec::new();
        let mut bodies = Vec::new();
        if let Some(tc) = &s.tcfeuv2 {
            ids.push(2u16);
            bodies.push(tc.encode()?);
        }
        macro_rules! us {
            ($field:ident, $id:literal) => {
                if let Some(section) = &s.$field {
                    ids.push($id);
                    bodies.push(section.encode());
                }
            };
        }
        us!(usnat, 7);
        us!(usca, 8);
        us!(usva, 9);
        us!(usco, 10);
        us!(usut, 11);
        us!(usct, 12);
        let mut w = BitWriter::new();
        w.int(3, 6);
        w.int(1, 6);
        let mut runs: Vec<(u16, u16)> = Vec::new();
        for id in &ids {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == *id => *end = *id,
                _ => runs.push((*id, *id)),
            }
        }
        w.int(runs.len() as u64, 12);
        let mut last = 0u16;
        for (start, end) in runs {
            w.bool(start != end);
            w.fibonacci(u64::from(start - last));
            if start != end {
                w.fibonacci(u64::from(end - start));
            }
            last = end;
        }
        let mut out = w.to_base64url();
        for body in bodies {
            out.push('~');
            out.push_str(&body);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usca() -> UsCa {
        UsCa {
            version: 1,
            sale_opt_out_notice: 1,
            sharing_opt_out_notice: 1,
            sensitive_data_limit_use_notice: 1,
            sale_opt_out: 1,
            sharing_opt_out: 2,
            sensitive_data_processing: vec![0, 1, 2, 0, 0, 0, 0, 0, 1],
            known_child_sensitive_data_consents: vec![0, 0],
            personal_data_consents: 0,
            mspa_covered_transaction: 1,
            mspa_opt_out_option_mode: 0,
            mspa_service_provider_mode: 0,
            gpc: Some(true),
        }
    }

    #[test]
    fn round_trip() {
        let gpp = GppString {
            header: GppHeader {
                version: 1,
                section_ids: vec![8],
            },
            sections: GppSections {
                usca: Some(usca()),
                ..GppSections::default()
            },
        };
        let encoded = gpp.encode().unwrap();
        assert_eq!(decode_gpp_string(&encoded).unwrap(), gpp);
    }

    #[test]
    fn decodes_a_header_listing_tcf_and_usp() {
        // The specification's example headers: "DBABTA" lists section 6, "DBACNY" sections 2 and 6.
        let err = decode_gpp_string("DBABTA~1YNN").unwrap_err();
        assert_eq!(
            err.kind,
            DecodeErrorKind::UnsupportedSection {
                id: 6,
                name: "uspv1"
            }
        );
        assert_eq!(decode_header("DBACNY").unwrap().section_ids, vec![2, 6]);
    }

    #[test]
    fn malformed_strings_get_precise_kinds() {
        let encoded = GppString {
            header: GppHeader {
                version: 1,
                section_ids: vec![8],
            },
            sections: GppSections {
                usca: Some(usca()),
                ..GppSections::default()
            },
        }
        .encode()
        .unwrap();
        let (header, body) = encoded.split_once('~').unwrap();
        assert_eq!(
            decode_gpp_string(header).unwrap_err().kind,
            DecodeErrorKind::SectionCountMismatch {
                listed: 1,
                present: 0
            }
        );
        let err = decode_gpp_string(&format!("{header}~{body}~{body}")).unwrap_err();
        assert_eq!(
            err.kind,
            DecodeErrorKind::SectionCountMismatch {
                listed: 1,
                present: 2
            }
        );
        // Header type 4 ("E…") instead of 3.
        assert!(matches!(
            decode_gpp_string("EBAA~x").unwrap_err().kind,
            DecodeErrorKind::UnsupportedVersion { found: 4, .. }
        ));
        // An unknown section id: 4 is not assigned.
        let mut w = BitWriter::new();
        w.int(3, 6);
        w.int(1, 6);
        w.int(1, 12);
        w.bool(false);
        w.fibonacci(4);
        let err = decode_gpp_string(&format!("{}~AAAA", w.to_base64url())).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::UnknownSection { id: 4 });
        // A bad value inside a section names section, segment and field.
        let mut bad = usca();
        bad.mspa_covered_transaction = 0;
        let bad = GppString {
            header: GppHeader {
                version: 1,
                section_ids: vec![8],
            },
            sections: GppSections {
                usca: Some(bad),
                ..GppSections::default()
            },
        }
        .encode()
        .unwrap();
        let err = decode_gpp_string(&bad).unwrap_err();
        assert!(matches!(
            err.kind,
            DecodeErrorKind::InvalidValue { value: 0, .. }
        ));
        assert_eq!(err.section, Some("usca"));
        assert_eq!(err.field, Some("mspa_covered_transaction"));
        assert_eq!(err.segment, Some(0));
        // A truncated section.
        let err = decode_gpp_string(&format!("{header}~{}", &body[..3])).unwrap_err();
        assert!(matches!(err.kind, DecodeErrorKind::Truncated { .. }));
        assert_eq!(err.section, Some("usca"));
    }
}
