//! Landing-page rules: tracking tags present, third-party scripts mapped to a consent category
//! and gated behind consent, forms (labels, validation, consent per region), privacy link,
//! viewport, page weight and requests, image alt text.

use crate::context::{Ctx, host_matches};
use crate::html::Document;
use crate::policy::TagEntry;
use crate::rules;
use std::collections::BTreeSet;

/// The built-in tag registry: common marketing and analytics vendors with their consent category.
pub fn default_registry() -> Vec<TagEntry> {
    let e = |vendor: &str, host: &str, category: &str| TagEntry {
        vendor: vendor.into(),
        host: host.into(),
        category: category.into(),
    };
    vec![
        e("Google Tag Manager", "googletagmanager.com", "statistics"),
        e("Google Analytics", "google-analytics.com", "statistics"),
        e("Google Ads", "googleadservices.com", "marketing"),
        e("Google Ads", "googlesyndication.com", "marketing"),
        e("Google Ads", "doubleclick.net", "marketing"),
        e("Meta Pixel", "connect.facebook.net", "marketing"),
        e("LinkedIn Insight Tag", "snap.licdn.com", "marketing"),
        e("TikTok Pixel", "analytics.tiktok.com", "marketing"),
        e("X Pixel", "static.ads-twitter.com", "marketing"),
        e("Pinterest Tag", "s.pinimg.com", "marketing"),
        e("Microsoft Advertising", "bat.bing.com", "marketing"),
        e("HubSpot", "js.hs-scripts.com", "marketing"),
        e("HubSpot", "js.hs-analytics.net", "marketing"),
        e("HubSpot Forms", "js.hsforms.net", "necessary"),
        e("Marketo Munchkin", "munchkin.marketo.net", "marketing"),
        e("Hotjar", "static.hotjar.com", "statistics"),
        e("Microsoft Clarity", "clarity.ms", "statistics"),
        e("Segment", "cdn.segment.com", "statistics"),
        e("Matomo", "cdn.matomo.cloud", "statistics"),
        e("Plausible", "plausible.io", "statistics"),
        e("Intercom", "widget.intercom.io", "preferences"),
        e("YouTube", "youtube.com", "marketing"),
        e("Vimeo", "player.vimeo.com", "preferences"),
        e("Cookiebot", "consent.cookiebot.com", "necessary"),
        e("OneTrust", "cdn.cookielaw.org", "necessary"),
        e("Usercentrics", "app.usercentrics.eu", "necessary"),
        e("Didomi", "sdk.privacy-center.org", "necessary"),
        e("Google reCAPTCHA", "google.com", "necessary"),
        e("Google reCAPTCHA", "gstatic.com", "necessary"),
        e("jsDelivr", "cdn.jsdelivr.net", "necessary"),
        e("cdnjs", "cdnjs.cloudflare.com", "necessary"),
        e("unpkg", "unpkg.com", "necessary"),
        e("Google Fonts", "fonts.googleapis.com", "necessary"),
    ]
}

const JS_TYPES: &[&str] = &[
    "",
    "text/javascript",
    "application/javascript",
    "module",
    "application/ecmascript",
    "text/ecmascript",
];
const CONSENT_ATTRS: &[&str] = &[
    "data-cookieconsent",
    "data-category",
    "data-cookiecategory",
    "data-consent",
    "data-usercentrics",
    "data-name",
    "data-cmp-vendor",
    "data-cookie-consent",
];

fn default_consent_phrases(region: &str) -> Vec<String> {
    let p: &[&str] = match region {
        "eu" | "uk" => &[
            "consent",
            "agree",
            "einwillig",
            "zustimm",
            "consentement",
            "j'accepte",
            "consenso",
            "acepto",
            "toestemming",
        ],
        "ca" => &["consent", "agree", "unsubscribe"],
        _ => &["privacy", "unsubscribe", "agree", "consent", "terms"],
    };
    p.iter().map(|s| (*s).to_owned()).collect()
}

/// Runs every page rule. `base` is the page's own URL when known (for first-party scripts).
pub(crate) fn check(doc: &Document, base: Option<&url::Url>, ctx: &mut Ctx<'_>) {
    scripts(doc, base, ctx);
    forms(doc, ctx);
    basics(doc, ctx);
}

fn lookup<'r>(registry: &'r [TagEntry], host: &str) -> Option<&'r TagEntry> {
    registry.iter().find(|t| host_matches(host, &t.host))
}

fn scripts(doc: &Document, base: Option<&url::Url>, ctx: &mut Ctx<'_>) {
    let mut registry = ctx.policy.spec.page.tag_registry.clone();
    registry.extend(default_registry());
    let own_host = base.and_then(crate::context::host_of);
    let consent_mode_re = regex::Regex::new(r#"consent['"]\s*,\s*['"]default"#).ok();
    let mut consent_mode_at: Option<usize> = None;
    let mut present: BTreeSet<String> = BTreeSet::new();
    let inline: std::collections::HashMap<usize, &str> = doc
        .scripts
        .iter()
        .map(|s| (s.element, s.code.as_str()))
        .collect();
    for (i, s) in doc.by_name("script") {
        let code = inline.get(&i).copied().unwrap_or("");
        if consent_mode_at.is_none() && consent_mode_re.as_ref().is_some_and(|re| re.is_match(code))
        {
            consent_mode_at = Some(s.offset);
        }
        let ty = s.attr("type").unwrap_or("").trim().to_ascii_lowercase();
        let gated_by_cmp = !JS_TYPES.contains(&ty.as_str())
            && (ty == "text/plain"
                || CONSENT_ATTRS.iter().any(|a| s.has(a))
                || s.attr("class")
                    .is_some_and(|c| c.contains("optanon-category")));
        // Hosts this script loads: its src, or URLs named in inline code (e.g. the GTM snippet).
        let mut hosts: Vec<String> = Vec::new();
        if let Some(src) = s.attr("src") {
            let src = src.trim();
            let absolute = if src.starts_with("//") {
                format!("https:{src}")
            } else {
                src.to_owned()
            };
            if let Some(h) = url::Url::parse(&absolute)
                .ok()
                .and_then(|u| crate::context::host_of(&u))
            {
                hosts.push(h);
            }
        } else {
            for entry in &registry {
                if entry.category != "necessary"
                    && code.contains(entry.host.trim_start_matches("*."))
                {
                    hosts.push(entry.host.trim_start_matches("*.").to_owned());
                }
            }
        }
        for host in hosts {
            if own_host
                .as_deref()
                .is_some_and(|own| host_matches(&host, own) || host_matches(own, &host))
            {
                continue;
            }
            match lookup(&registry, &host) {
                None => ctx.at(
                    doc,
                    &rules::SCRIPT_UNKNOWN,
                    s.offset,
                    format!("script from {host} is not in the tag registry"),
                ),
                Some(entry) => {
                    present.insert(entry.vendor.clone());
                    let google = [
                        "googletagmanager.com",
                        "google-analytics.com",
                        "googleadservices.com",
                        "doubleclick.net",
                    ]
                    .iter()
                    .any(|g| host_matches(&host, g));
                    let consent_mode = google && consent_mode_at.is_some_and(|o| o < s.offset);
                    if entry.category != "necessary" && !gated_by_cmp && !consent_mode {
                        ctx.at(
                            doc,
                            &rules::SCRIPT_CONSENT,
                            s.offset,
                            format!(
                                "{} ({} category) loads unconditionally from {host}",
                                entry.vendor, entry.category
                            ),
                        );
                    }
                }
            }
        }
    }
    // Tracking pixels and iframes also count as a tag being present.
    for e in &doc.elements {
        let host = matches!(e.name.as_str(), "img" | "iframe" | "noscript")
            .then(|| e.attr("src"))
            .flatten()
            .and_then(|s| url::Url::parse(s.trim()).ok())
            .and_then(|u| crate::context::host_of(&u));
        if let Some(entry) = host.and_then(|h| lookup(&registry, &h)) {
            present.insert(entry.vendor.clone());
        }
    }
    for required in ctx.policy.spec.page.required_tags.clone() {
        if !present.iter().any(|p| p.eq_ignore_ascii_case(&required)) {
            ctx.whole(
                &rules::TRACKING_TAG,
                format!("{required} is required by the policy but not on the page"),
            );
        }
    }
}

fn forms(doc: &Document, ctx: &mut Ctx<'_>) {
    let labelled_ids: BTreeSet<&str> = doc
        .by_name("label")
        .filter_map(|(_, l)| l.attr("for"))
        .collect();
    let regions = ctx.policy.spec.page.regions.clone();
    for (fi, form) in doc.by_name("form") {
        let end = (fi + 1..doc.elements.len())
            .find(|&k| !doc.is_within(k, fi))
            .unwrap_or(doc.elements.len());
        let fields: Vec<(usize, &crate::html::Element)> = (fi + 1..end)
            .filter_map(|k| doc.elements.get(k).map(|e| (k, e)))
            .filter(|(_, e)| match e.name.as_str() {
                "select" | "textarea" => true,
                "input" => !matches!(
                    e.attr("type")
                        .unwrap_or("text")
                        .to_ascii_lowercase()
                        .as_str(),
                    "hidden" | "submit" | "button" | "reset" | "image"
                ),
                _ => false,
            })
            .collect();
        if fields.is_empty() {
            continue;
        }
        for (k, f) in &fields {
            let labelled = f.attr("id").is_some_and(|id| labelled_ids.contains(id))
                || doc.ancestor_named(*k, "label").is_some()
                || ["aria-label", "aria-labelledby", "title"]
                    .iter()
                    .any(|a| f.attr(a).is_some_and(|v| !v.trim().is_empty()));
            if !labelled {
                let name = f.attr("name").or(f.attr("id")).unwrap_or(f.name.as_str());
                ctx.at(
                    doc,
                    &rules::FORM_LABEL,
                    f.offset,
                    format!("field `{name}` has no label"),
                );
            }
        }
        let kind = |e: &crate::html::Element| e.attr("type").unwrap_or("text").to_ascii_lowercase();
        let named = |e: &crate::html::Element, w: &str| {
            e.attr("name")
                .or(e.attr("id"))
                .is_some_and(|n| n.to_ascii_lowercase().contains(w))
        };
        if !fields
            .iter()
            .any(|(_, f)| f.has("required") || f.has("aria-required"))
        {
            ctx.at(
                doc,
                &rules::FORM_VALIDATION,
                form.offset,
                "no field of this form is required",
            );
        }
        for (_, f) in &fields {
            if f.name == "input" && kind(f) == "text" && named(f, "email") {
                ctx.at(
                    doc,
                    &rules::FORM_VALIDATION,
                    f.offset,
                    "email field is type=\"text\"; use type=\"email\"",
                );
            }
        }
        let collects_contact = fields.iter().any(|(_, f)| {
            matches!(kind(f).as_str(), "email" | "tel") || named(f, "email") || named(f, "phone")
        });
        if !collects_contact {
            continue;
        }
        let text = doc.text_within(fi).to_lowercase();
        for region in &regions {
            let phrases = ctx
                .policy
                .spec
                .page
                .consent_text
                .get(region)
                .cloned()
                .unwrap_or_else(|| default_consent_phrases(region));
            if !phrases.iter().any(|p| text.contains(&p.to_lowercase())) {
                ctx.at(
                    doc,
                    &rules::FORM_CONSENT,
                    form.offset,
                    format!("no consent text for region {region} in this form"),
                );
            }
            if matches!(region.as_str(), "eu" | "uk" | "ca") {
                let boxes: Vec<&&crate::html::Element> = fields
                    .iter()
                    .map(|(_, f)| f)
                    .filter(|f| f.name == "input" && kind(f) == "checkbox")
                    .collect();
                if boxes.is_empty() {
                    ctx.at(
                        doc,
                        &rules::FORM_CONSENT,
                        form.offset,
                        format!("no consent checkbox (opt-in is required in region {region})"),
                    );
                } else if boxes.iter().all(|b| b.has("checked")) {
                    ctx.at(
                        doc,
                        &rules::FORM_CONSENT,
                        form.offset,
                        "the consent checkbox is pre-ticked; consent must be an active choice",
                    );
                }
            }
        }
    }
}

fn basics(doc: &Document, ctx: &mut Ctx<'_>) {
    let texts = doc.texts_by_ancestor("a");
    let privacy = doc.by_name("a").any(|(i, a)| {
        let hay = format!(
            "{} {}",
            a.attr("href").unwrap_or(""),
            texts.get(&i).map_or("", String::as_str)
        )
        .to_lowercase();
        [
            "privacy",
            "datenschutz",
            "confidentialit",
            "privacidad",
            "privacidade",
            "riservatezza",
            "gdpr",
        ]
        .iter()
        .any(|w| hay.contains(w))
    });
    if !privacy {
        ctx.whole(&rules::PRIVACY_LINK, "no link to a privacy policy");
    }
    let viewport = doc.by_name("meta").find(|(_, m)| {
        m.attr("name")
            .is_some_and(|n| n.eq_ignore_ascii_case("viewport"))
    });
    match viewport {
        None => ctx.whole(&rules::VIEWPORT, "no <meta name=\"viewport\">"),
        Some((_, m))
            if !m
                .attr("content")
                .unwrap_or("")
                .to_ascii_lowercase()
                .contains("width=device-width") =>
        {
            ctx.at(
                doc,
                &rules::VIEWPORT,
                m.offset,
                "viewport does not set width=device-width",
            )
        }
        Some(_) => {}
    }
    for (_, img) in doc.by_name("img") {
        if !img.has("alt") {
            ctx.at(
                doc,
                &rules::IMG_ALT,
                img.offset,
                "image has no alt attribute",
            );
        }
    }
    let requests = doc
        .elements
        .iter()
        .filter(|e| match e.name.as_str() {
            "script" | "img" | "iframe" | "video" | "audio" | "source" | "embed" => e
                .attr("src")
                .is_some_and(|s| !s.trim().is_empty() && !s.trim_start().starts_with("data:")),
            "link" => e.attr("rel").is_some_and(|r| {
                let r = r.to_ascii_lowercase();
                r.contains("stylesheet")
                    || r.contains("preload")
                    || r.contains("icon")
                    || r.contains("manifest")
            }),
            _ => false,
        })
        .count();
    let policy = &ctx.policy.spec.page;
    let (max_weight, max_requests) = (policy.max_weight_bytes, policy.max_requests);
    if requests > max_requests {
        ctx.whole(
            &rules::PAGE_REQUESTS,
            format!("the page requests {requests} resources (policy limit {max_requests})"),
        );
    }
    let bytes = doc.source.len();
    if bytes > max_weight {
        ctx.whole(
            &rules::PAGE_WEIGHT,
            format!(
                "the HTML alone is {} KB (policy limit {} KB)",
                bytes / 1024,
                max_weight / 1024
            ),
        );
    }
}
