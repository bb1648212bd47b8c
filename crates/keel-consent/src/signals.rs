//! From a decoded consent string to ledger events.
//!
//! A CMP string is stored as received (for proof) and also turned into ordinary consent events
//! with source `cmp_string`, so eligibility only ever looks at the ledger. The US sections say
//! per right 1 = opted out, 2 = did not opt out, 0 = not applicable; Keel records 1 as `denied`,
//! 2 as `granted` and nothing for 0. When several sections speak (national and a state), an
//! opt-out in any of them wins: it is the person's most protective statement.

use crate::gpp::GppString;
use crate::ledger::{ConsentEvent, ConsentSource, ConsentState};
use crate::spec::LawfulBasis;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The US opt-out rights expressed by a GPP string, merged over its sections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsOptOuts {
    /// Opted out of sale (`Some(false)`: explicitly did not).
    pub sale: Option<bool>,
    /// Opted out of sharing (cross-context behavioural advertising, CPRA).
    pub sharing: Option<bool>,
    /// Opted out of targeted advertising.
    pub targeted_advertising: Option<bool>,
    /// Global Privacy Control signal carried in a GPC sub-section.
    pub gpc: Option<bool>,
}

fn merge(into: &mut Option<bool>, value: u8) {
    let said = match value {
        1 => Some(true),
        2 => Some(false),
        _ => None,
    };
    if let Some(said) = said {
        *into = Some(into.unwrap_or(false) || said);
    }
}

fn merge_gpc(into: &mut Option<bool>, gpc: Option<bool>) {
    if let Some(gpc) = gpc {
        *into = Some(into.unwrap_or(false) || gpc);
    }
}

/// Reads the US opt-outs from every US section of a GPP string.
pub fn us_opt_outs(gpp: &GppString) -> UsOptOuts {
    let mut out = UsOptOuts::default();
    let s = &gpp.sections;
    if let Some(n) = &s.usnat {
        merge(&mut out.sale, n.sale_opt_out);
        merge(&mut out.sharing, n.sharing_opt_out);
        merge(
            &mut out.targeted_advertising,
            n.targeted_advertising_opt_out,
        );
        merge_gpc(&mut out.gpc, n.gpc);
    }
    if let Some(ca) = &s.usca {
        merge(&mut out.sale, ca.sale_opt_out);
        merge(&mut out.sharing, ca.sharing_opt_out);
        merge_gpc(&mut out.gpc, ca.gpc);
    }
    if let Some(va) = &s.usva {
        merge(&mut out.sale, va.sale_opt_out);
        merge(
            &mut out.targeted_advertising,
            va.targeted_advertising_opt_out,
        );
    }
    if let Some(co) = &s.usco {
        merge(&mut out.sale, co.sale_opt_out);
        merge(
            &mut out.targeted_advertising,
            co.targeted_advertising_opt_out,
        );
        merge_gpc(&mut out.gpc, co.gpc);
    }
    if let Some(ut) = &s.usut {
        merge(&mut out.sale, ut.sale_opt_out);
        merge(
            &mut out.targeted_advertising,
            ut.targeted_advertising_opt_out,
        );
    }
    if let Some(ct) = &s.usct {
        merge(&mut out.sale, ct.sale_opt_out);
        merge(
            &mut out.targeted_advertising,
            ct.targeted_advertising_opt_out,
        );
        merge_gpc(&mut out.gpc, ct.gpc);
    }
    out
}

/// Where the events derived from a CMP string go: the subject, when, where, and which Keel
/// purpose (by `metadata.name`) stands for each category.
#[derive(Debug, Clone)]
pub struct CmpContext<'a> {
    /// The contact.
    pub subject: &'a str,
    /// When the string was received.
    pub at: DateTime<Utc>,
    /// The contact's jurisdiction.
    pub jurisdiction: Option<&'a str>,
    /// Keel purpose for sale or sharing of personal data.
    pub sale_or_sharing_purpose: Option<&'a str>,
    /// Keel purpose for targeted advertising.
    pub targeted_advertising_purpose: Option<&'a str>,
}

/// Ledger events stated by a GPP string's US sections.
pub fn events_from_gpp(gpp: &GppString, ctx: &CmpContext<'_>) -> Vec<ConsentEvent> {
    let opt = us_opt_outs(gpp);
    // Sale and sharing are one Keel category; GPC opts out of both.
    let sale_or_sharing = match (opt.sale, opt.sharing, opt.gpc) {
        (_, _, Some(true)) => Some(true),
        (None, None, _) => None,
        (a, b, _) => Some(a.unwrap_or(false) || b.unwrap_or(false)),
    };
    let targeted = match (opt.targeted_advertising, opt.gpc) {
        (_, Some(true)) => Some(true),
        (t, _) => t,
    };
    let mut events = Vec::new();
    let mut push = |purpose: Option<&str>, opted_out: Option<bool>| {
        if let (Some(purpose), Some(opted_out)) = (purpose, opted_out) {
            events.push(ConsentEvent {
                subject: ctx.subject.to_string(),
                purpose: purpose.to_string(),
                state: if opted_out {
                    ConsentState::Denied
                } else {
                    ConsentState::Granted
                },
                at: ctx.at,
                source: ConsentSource::CmpString,
                jurisdiction: ctx.jurisdiction.map(str::to_string),
                lawful_basis: LawfulBasis::Consent,
                text_hash: None,
                text_version: None,
            });
        }
    };
    push(ctx.sale_or_sharing_purpose, sale_or_sharing);
    push(ctx.targeted_advertising_purpose, targeted);
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpp::{GppHeader, GppSections, UsCa, UsVa};

    fn usca(sale: u8, sharing: u8, gpc: Option<bool>) -> UsCa {
        UsCa {
            version: 1,
            sale_opt_out_notice: 1,
            sharing_opt_out_notice: 1,
            sensitive_data_limit_use_notice: 1,
            sale_opt_out: sale,
            sharing_opt_out: sharing,
            sensitive_data_processing: vec![0; 9],
            known_child_sensitive_data_consents: vec![0; 2],
            personal_data_consents: 0,
            mspa_covered_transaction: 2,
            mspa_opt_out_option_mode: 0,
            mspa_service_provider_mode: 0,
            gpc,
        }
    }

    fn usva(sale: u8, targeted: u8) -> UsVa {
        UsVa {
            version: 1,
            sharing_notice: 1,
            sale_opt_out_notice: 1,
            targeted_advertising_opt_out_notice: 1,
            sale_opt_out: sale,
            targeted_advertising_opt_out: targeted,
            sensitive_data_processing: vec![0; 8],
            known_child_sensitive_data_consents: 0,
            mspa_covered_transaction: 2,
            mspa_opt_out_option_mode: 0,
            mspa_service_provider_mode: 0,
            gpc: None,
        }
    }

    fn gpp(sections: GppSections) -> GppString {
        GppString {
            header: GppHeader {
                version: 1,
                section_ids: vec![],
            },
            sections,
        }
    }

    fn ctx() -> CmpContext<'static> {
        CmpContext {
            subject: "c1",
            at: DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
            jurisdiction: Some("california"),
            sale_or_sharing_purpose: Some("data-sharing"),
            targeted_advertising_purpose: Some("targeted-ads"),
        }
    }

    fn states(g: &GppString) -> Vec<(String, ConsentState)> {
        events_from_gpp(g, &ctx())
            .into_iter()
            .map(|e| (e.purpose, e.state))
            .collect()
    }

    #[test]
    fn opt_outs_become_denials_and_explicit_no_becomes_grant() {
        let g = gpp(GppSections {
            usca: Some(usca(1, 2, None)),
            ..GppSections::default()
        });
        assert_eq!(
            states(&g),
            vec![("data-sharing".into(), ConsentState::Denied)]
        );
        let g = gpp(GppSections {
            usca: Some(usca(2, 2, None)),
            ..GppSections::default()
        });
        assert_eq!(
            states(&g),
            vec![("data-sharing".into(), ConsentState::Granted)]
        );
        let g = gpp(GppSections {
            usca: Some(usca(0, 0, None)),
            ..GppSections::default()
        });
        assert!(states(&g).is_empty());
    }

    #[test]
    fn gpc_and_the_most_protective_section_win() {
        let g = gpp(GppSections {
            usca: Some(usca(2, 2, Some(true))),
            ..GppSections::default()
        });
        assert_eq!(
            states(&g),
            vec![
                ("data-sharing".into(), ConsentState::Denied),
                ("targeted-ads".into(), ConsentState::Denied)
            ]
        );
        let g = gpp(GppSections {
            usca: Some(usca(2, 2, None)),
            usva: Some(usva(1, 2)),
            ..GppSections::default()
        });
        assert_eq!(
            states(&g),
            vec![
                ("data-sharing".into(), ConsentState::Denied),
                ("targeted-ads".into(), ConsentState::Granted)
            ]
        );
        let events = events_from_gpp(&g, &ctx());
        assert!(
            events
                .iter()
                .all(|e| e.source == ConsentSource::CmpString && e.is_explicit())
        );
    }
}
