//! CSS scanning with `cssparser`: which caniemail features a stylesheet or a `style` attribute
//! uses (properties, values, units, functions, at-rules, selectors), each with its byte offset,
//! plus the declarations themselves for rules that read values (contrast, dark mode).
//!
//! The scan is error-tolerant like a browser: unterminated blocks end at the end of input and
//! invalid declarations are skipped, so any input yields a result.

use cssparser::{ParseError, Parser, ParserInput, Token};

/// A feature used at a byte offset of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// Index of the caniemail feature (see [`crate::caniemail::Data::feature_at`]).
    pub feature: usize,
    /// Byte offset in the document.
    pub offset: usize,
}

impl Use {
    /// The feature's slug, e.g. `css-display-flex`.
    pub fn slug(&self) -> &'static str {
        crate::caniemail::data()
            .feature_at(self.feature)
            .map_or("", |f| f.slug.as_str())
    }
}

/// One declaration (`name: value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// Lowercase property name.
    pub name: String,
    /// Value text without `!important`.
    pub value: String,
    /// Byte offset of the property name in the document.
    pub offset: usize,
}

/// The result of scanning CSS.
#[derive(Debug, Default, Clone)]
pub struct Scan {
    /// Features used.
    pub uses: Vec<Use>,
    /// Declarations read by value (`display`, `flex-*`, `color-scheme`), top-level and nested.
    pub declarations: Vec<Declaration>,
    /// Media query preludes (lowercase) with offsets.
    pub media: Vec<(String, usize)>,
    /// Selector preludes with offsets.
    pub selectors: Vec<(String, usize)>,
    /// When true, `declarations`, `media` and `selectors` are left empty (only `uses` is
    /// needed, and copying every selector is most of the cost of a stylesheet scan otherwise).
    uses_only: bool,
}

impl Scan {
    /// Whether to record `declarations`, `media` and `selectors` (the default) or only `uses`.
    pub fn set_details(&mut self, details: bool) {
        self.uses_only = !details;
    }

    fn add(&mut self, slug: impl AsRef<str>, offset: usize) {
        // Features caniemail does not list (e.g. an unknown pseudo-class) carry no support data.
        let Some(feature) = crate::caniemail::data().index(slug.as_ref()) else {
            return;
        };
        self.uses.push(Use { feature, offset });
    }
}

/// Scans a style sheet (the contents of a `<style>` element) that starts at byte `base`.
pub fn scan_stylesheet(css: &str, base: usize, scan: &mut Scan) {
    let mut input = ParserInput::new(css);
    let mut p = Parser::new(&mut input);
    rules(&mut p, css, base, scan, false);
}

/// Scans a declaration list (a `style` attribute) that starts at byte `base`.
pub fn scan_declarations(css: &str, base: usize, scan: &mut Scan) {
    let mut input = ParserInput::new(css);
    let mut p = Parser::new(&mut input);
    declarations(&mut p, css, base, scan);
}

fn rules<'i>(p: &mut Parser<'i, '_>, css: &str, base: usize, scan: &mut Scan, in_keyframes: bool) {
    let mut at: Option<(String, usize)> = None;
    let mut prelude_start: Option<usize> = None;
    loop {
        let start = p.position().byte_index();
        let token = match p.next_including_whitespace_and_comments() {
            Ok(t) => t.clone(),
            Err(_) => break,
        };
        match token {
            Token::Comment(_) => scan.add("css-comments", base + start),
            Token::WhiteSpace(_) => {}
            Token::AtKeyword(name) if at.is_none() && prelude_start.is_none() => {
                let name = name.to_ascii_lowercase();
                let slug = match name.as_str() {
                    "media" => Some("css-at-media"),
                    "font-face" => Some("css-at-font-face"),
                    "import" => Some("css-at-import"),
                    "supports" => Some("css-at-supports"),
                    n if n.ends_with("keyframes") => Some("css-at-keyframes"),
                    _ => None,
                };
                if let Some(slug) = slug {
                    scan.add(slug, base + start);
                }
                at = Some((name, base + start));
                prelude_start = Some(p.position().byte_index());
            }
            Token::Semicolon => {
                at = None;
                prelude_start = None;
            }
            Token::CurlyBracketBlock => {
                let end = p.position().byte_index().saturating_sub(1);
                let from = prelude_start.unwrap_or(start).min(end);
                let prelude = css.get(from..end).unwrap_or("").trim();
                match at.take() {
                    Some((name, offset)) => match name.as_str() {
                        "media" | "supports" | "document" | "container" | "layer"
                        | "-moz-document" => {
                            if name == "media" {
                                media_features(prelude, offset, scan);
                            }
                            let _ = p.parse_nested_block(|p| -> Result<(), ParseError<'i, ()>> {
                                rules(p, css, base, scan, false);
                                Ok(())
                            });
                        }
                        "font-face" | "page" => {
                            let _ = p.parse_nested_block(|p| -> Result<(), ParseError<'i, ()>> {
                                declarations(p, css, base, scan);
                                Ok(())
                            });
                        }
                        n if n.ends_with("keyframes") => {
                            let _ = p.parse_nested_block(|p| -> Result<(), ParseError<'i, ()>> {
                                rules(p, css, base, scan, true);
                                Ok(())
                            });
                        }
                        _ => {}
                    },
                    None => {
                        if !in_keyframes && !prelude.is_empty() {
                            let lead = css
                                .get(from..end)
                                .map_or(0, |s| s.len() - s.trim_start().len());
                            selectors(prelude, base + from + lead, scan);
                        }
                        let _ = p.parse_nested_block(|p| -> Result<(), ParseError<'i, ()>> {
                            declarations(p, css, base, scan);
                            Ok(())
                        });
                    }
                }
                prelude_start = None;
            }
            _ => {
                if prelude_start.is_none() {
                    prelude_start = Some(start);
                }
            }
        }
    }
}

fn media_features(prelude: &str, offset: usize, scan: &mut Scan) {
    let lower = prelude.to_ascii_lowercase();
    for (needle, slug) in [
        ("prefers-color-scheme", "css-at-media-prefers-color-scheme"),
        (
            "prefers-reduced-motion",
            "css-at-media-prefers-reduced-motion",
        ),
        ("orientation", "css-at-media-orientation"),
        ("hover", "css-at-media-hover"),
        ("device-pixel-ratio", "css-at-media-device-pixel-ratio"),
    ] {
        if lower.contains(needle) {
            scan.add(slug, offset);
        }
    }
    if !scan.uses_only {
        scan.media.push((lower, offset));
    }
}

fn selectors(prelude: &str, offset: usize, scan: &mut Scan) {
    if !scan.uses_only {
        scan.selectors.push((prelude.to_owned(), offset));
    }
    let mut input = ParserInput::new(prelude);
    let mut p = Parser::new(&mut input);
    let mut state = SelectorState::default();
    selector_tokens(&mut p, offset, scan, &mut state);
}

#[derive(Default)]
struct SelectorState {
    compound: usize,
    pending_space: bool,
    after_colon: u8,
    after_dot: bool,
}

fn selector_tokens<'i>(
    p: &mut Parser<'i, '_>,
    offset: usize,
    scan: &mut Scan,
    st: &mut SelectorState,
) {
    loop {
        let token = match p.next_including_whitespace_and_comments() {
            Ok(t) => t.clone(),
            Err(_) => break,
        };
        let simple = |slug: &str, st: &mut SelectorState, scan: &mut Scan| {
            if st.pending_space {
                scan.add("css-selector-descendant", offset);
                st.pending_space = false;
            }
            st.compound += 1;
            if st.compound == 2 {
                scan.add("css-selector-chaining", offset);
            }
            scan.add(slug, offset);
        };
        match token {
            Token::WhiteSpace(_) => st.pending_space = st.compound > 0,
            Token::Comment(_) => {}
            Token::Comma => {
                scan.add("css-selector-grouping", offset);
                st.compound = 0;
                st.pending_space = false;
            }
            Token::Delim(c @ ('>' | '+' | '~')) => {
                let slug = match c {
                    '>' => "css-selector-child",
                    '+' => "css-selector-adjacent-sibling",
                    _ => "css-selector-general-sibling",
                };
                scan.add(slug, offset);
                st.compound = 0;
                st.pending_space = false;
            }
            Token::Delim('&') => scan.add("css-nesting", offset),
            Token::Delim('*') => simple("css-selector-universal", st, scan),
            Token::Delim('.') => st.after_dot = true,
            Token::Colon => st.after_colon += 1,
            Token::IDHash(_) | Token::Hash(_) => simple("css-selector-id", st, scan),
            Token::SquareBracketBlock => simple("css-selector-attribute", st, scan),
            Token::Ident(ref name) | Token::Function(ref name) => {
                let is_function = matches!(token, Token::Function(_));
                if st.after_dot {
                    st.after_dot = false;
                    simple("css-selector-class", st, scan);
                } else if st.after_colon > 0 {
                    let name = name.to_ascii_lowercase();
                    let slug = if st.after_colon >= 2
                        || matches!(
                            name.as_str(),
                            "before" | "after" | "first-line" | "first-letter"
                        ) {
                        format!("css-pseudo-element-{name}")
                    } else {
                        format!("css-pseudo-class-{name}")
                    };
                    st.after_colon = 0;
                    simple(&slug, st, scan);
                    if is_function {
                        let mut inner = SelectorState::default();
                        let _ = p.parse_nested_block(|p| -> Result<(), ParseError<'i, ()>> {
                            selector_tokens(p, offset, scan, &mut inner);
                            Ok(())
                        });
                    }
                } else {
                    simple("css-selector-type", st, scan);
                }
            }
            _ => {}
        }
    }
}

fn declarations<'i>(p: &mut Parser<'i, '_>, css: &str, base: usize, scan: &mut Scan) {
    let mut name: Option<(cssparser::CowRcStr<'i>, usize)> = None;
    let mut value_start: Option<usize> = None;
    let mut important = false;
    let finish = |name: &mut Option<(cssparser::CowRcStr<'i>, usize)>,
                  value_start: &mut Option<usize>,
                  end: usize,
                  scan: &mut Scan,
                  important: &mut bool| {
        if let (Some((raw_name, offset)), Some(vs)) = (name.take(), value_start.take()) {
            let n = lower(&raw_name);
            if let Some(feature) = property_feature(&n) {
                scan.uses.push(Use { feature, offset });
            }
            if *important {
                scan.add("css-important", offset);
            }
            // Only these properties are read by value; skipping the rest keeps scanning cheap.
            if matches!(
                n.as_ref(),
                "display" | "flex-direction" | "flex-flow" | "flex-wrap" | "color-scheme"
            ) {
                let raw = css.get(vs..end.max(vs)).unwrap_or("");
                let value = raw.split('!').next().unwrap_or("").trim();
                value_keywords(&n, value, offset, scan);
                if !scan.uses_only {
                    scan.declarations.push(Declaration {
                        name: n.into_owned(),
                        value: value.to_owned(),
                        offset,
                    });
                }
            }
        }
        *important = false;
    };
    loop {
        let start = p.position().byte_index();
        let token = match p.next_including_whitespace_and_comments() {
            Ok(t) => t.clone(),
            Err(_) => break,
        };
        match token {
            Token::Comment(_) => scan.add("css-comments", base + start),
            Token::WhiteSpace(_) => {}
            Token::Semicolon => finish(&mut name, &mut value_start, start, scan, &mut important),
            Token::Ident(n) if name.is_none() => name = Some((n, base + start)),
            Token::Colon if value_start.is_none() && name.is_some() => {
                value_start = Some(p.position().byte_index())
            }
            Token::CurlyBracketBlock => {
                // A nested rule inside a declaration block (CSS Nesting).
                scan.add("css-nesting", base + start);
                name = None;
                value_start = None;
                let _ = p.parse_nested_block(|p| -> Result<(), ParseError<'i, ()>> {
                    declarations(p, css, base, scan);
                    Ok(())
                });
            }
            Token::Delim('!') if value_start.is_some() => important = true,
            ref t if value_start.is_some() => value_token(p, t, base + start, scan),
            _ => {}
        }
    }
    let end = p.position().byte_index();
    finish(&mut name, &mut value_start, end, scan, &mut important);
}

fn value_token<'i>(p: &mut Parser<'i, '_>, token: &Token<'_>, offset: usize, scan: &mut Scan) {
    match token {
        Token::Dimension { unit, .. } => {
            let unit = lower(unit);
            // Unknown units have no caniemail feature, so the lookup filters them.
            if let Some(feature) = crate::caniemail::data().index_joined("css-unit-", &unit) {
                scan.uses.push(Use { feature, offset });
            }
        }
        Token::Percentage { .. } => scan.add("css-unit-percent", offset),
        Token::Ident(v) => match lower(v).as_ref() {
            "initial" => scan.add("css-unit-initial", offset),
            "fit-content" | "min-content" | "max-content" => scan.add("css-intrinsic-size", offset),
            "system-ui" | "ui-serif" | "ui-sans-serif" | "ui-rounded" | "ui-monospace" => {
                scan.add("css-sytem-ui", offset)
            }
            _ => {}
        },
        Token::Function(name) => {
            let slug = match lower(name).as_ref() {
                "rgb" => Some("css-rgb"),
                "rgba" => Some("css-rgba"),
                "calc" => Some("css-unit-calc"),
                "clamp" => Some("css-function-clamp"),
                "min" => Some("css-function-min"),
                "max" => Some("css-function-max"),
                "light-dark" => Some("css-function-light-dark"),
                "linear-gradient" | "repeating-linear-gradient" => Some("css-linear-gradient"),
                "radial-gradient" | "repeating-radial-gradient" => Some("css-radial-gradient"),
                "conic-gradient" | "repeating-conic-gradient" => Some("css-conic-gradient"),
                "lch" | "oklch" | "lab" | "oklab" => Some("css-modern-color"),
                "var" => Some("css-variables"),
                _ => None,
            };
            if let Some(slug) = slug {
                scan.add(slug, offset);
            }
            let _ = p.parse_nested_block(|p| -> Result<(), ParseError<'i, ()>> {
                loop {
                    let start = p.position().byte_index();
                    let t = match p.next() {
                        Ok(t) => t.clone(),
                        Err(_) => break,
                    };
                    // Offsets inside functions are reported at the function itself.
                    let _ = start;
                    value_token(p, &t, offset, scan);
                }
                Ok(())
            });
        }
        _ => {}
    }
}

fn value_keywords(name: &str, value: &str, offset: usize, scan: &mut Scan) {
    let v = value.to_ascii_lowercase();
    let has = |word: &str| {
        v.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .any(|w| w == word)
    };
    match name {
        "display" => {
            if has("flex") || has("inline-flex") {
                scan.add("css-display-flex", offset);
            }
            if has("grid") || has("inline-grid") {
                scan.add("css-display-grid", offset);
            }
            if has("none") {
                scan.add("css-display-none", offset);
            }
        }
        "flex-direction" | "flex-flow" => {
            if has("column") || has("column-reverse") {
                scan.add("css-flex-direction", offset);
            }
            if name == "flex-flow" && has("wrap") {
                scan.add("css-flex-wrap", offset);
            }
        }
        "flex-wrap" if has("wrap") || has("wrap-reverse") => scan.add("css-flex-wrap", offset),
        _ => {}
    }
}

/// Lowercases only when needed: CSS in the wild is almost always lowercase already.
fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The caniemail slug for a property name.
pub fn property_slug(name: &str) -> Option<String> {
    property_feature(name)
        .and_then(|i| crate::caniemail::data().feature_at(i))
        .map(|f| f.slug.clone())
}

/// The caniemail feature index for a (lowercase) property name.
pub fn property_feature(name: &str) -> Option<usize> {
    let data = crate::caniemail::data();
    if name.starts_with("--") {
        return data.index("css-variables");
    }
    // One pass over the name's parts (this runs for every declaration of every template).
    let mut words = name.split('-');
    let first = words.next().unwrap_or("");
    let (mut parts, mut logical) = (1, false);
    for w in words {
        parts += 1;
        logical |= w == "inline" || w == "block";
    }
    let special = match first {
        "border" if name.ends_with("-radius") => {
            if name.split('-').any(|p| p == "start" || p == "end") {
                "css-border-radius-logical"
            } else {
                "css-border-radius"
            }
        }
        "border" if logical => match parts {
            2 => "css-border-inline-block",
            3 => "css-border-inline-block-individual",
            _ => "css-border-inline-block-longhand",
        },
        "border" if !matches!(name, "border-collapse" | "border-spacing" | "border-image") => {
            "css-border"
        }
        "margin" | "padding" if logical => match (first, parts, name.contains("-inline")) {
            ("margin", 2, _) => "css-margin-inline-block",
            ("padding", 2, _) => "css-padding-inline-block",
            ("margin", 3, true) => "css-margin-inline-start-end",
            ("padding", 3, true) => "css-padding-inline-start-end",
            ("margin", 3, false) => "css-margin-block-start-end",
            ("padding", 3, false) => "css-padding-block-start-end",
            _ => return None,
        },
        "margin" => "css-margin",
        "padding" => "css-padding",
        "gap" | "row" if name == "gap" || name == "row-gap" => "css-gap",
        "column" if name == "column-gap" => "css-gap",
        "column" if name == "column-count" => "css-column-count",
        "column" | "columns" => "css-column-layout-properties",
        "inset" => "css-inset",
        "grid" if name.starts_with("grid-template") => "css-grid-template",
        "left" | "right" | "top" | "bottom" => "css-left-right-top-bottom",
        "animation" => "css-animation",
        "transition" => "css-transition",
        "transform" => "css-transform",
        "scroll" if name.starts_with("scroll-snap") => "css-scroll-snap",
        "overflow" if name != "overflow-wrap" => "css-overflow",
        "outline" if name != "outline-offset" => "css-outline",
        "block" if name == "block-size" => "css-block-inline-size",
        "font" if name == "font" => "css-font",
        _ => "",
    };
    if special.is_empty() {
        data.index_joined("css-", name)
    } else {
        data.index(special)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slugs(css: &str) -> Vec<String> {
        let mut scan = Scan::default();
        scan_stylesheet(css, 0, &mut scan);
        let mut s: Vec<String> = scan.uses.into_iter().map(|u| u.slug().to_owned()).collect();
        s.sort();
        s.dedup();
        s
    }

    #[test]
    fn finds_properties_values_and_selectors() {
        let s = slugs(
            "@media (prefers-color-scheme: dark) { .a > p:hover { display: flex; margin-top: 2rem !important } }",
        );
        for want in [
            "css-at-media",
            "css-at-media-prefers-color-scheme",
            "css-selector-class",
            "css-selector-child",
            "css-pseudo-class-hover",
            "css-display-flex",
            "css-margin",
            "css-unit-rem",
            "css-important",
        ] {
            assert!(s.contains(&want.to_owned()), "{want} missing from {s:?}");
        }
    }

    #[test]
    fn tolerates_unterminated_css() {
        let s = slugs("p { color: rgb(1,2,3");
        assert!(s.contains(&"css-rgb".to_owned()));
        let s = slugs("@media screen { a { background: linear-gradient(red");
        assert!(s.contains(&"css-linear-gradient".to_owned()));
    }

    #[test]
    fn reports_offsets_in_document_bytes() {
        let mut scan = Scan::default();
        scan_stylesheet("\np { display:grid }", 100, &mut scan);
        let grid = scan
            .uses
            .iter()
            .find(|u| u.slug() == "css-display-grid")
            .unwrap();
        assert_eq!(grid.offset, 100 + 5);
    }

    #[test]
    fn maps_longhands() {
        assert_eq!(
            property_slug("border-top-width").as_deref(),
            Some("css-border")
        );
        assert_eq!(
            property_slug("padding-inline-start").as_deref(),
            Some("css-padding-inline-start-end")
        );
        assert_eq!(
            property_slug("background-color").as_deref(),
            Some("css-background-color")
        );
        assert_eq!(property_slug("color"), None);
    }
}
