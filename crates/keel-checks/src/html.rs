//! A light, located document model built from a streaming, error-tolerant HTML parse
//! (`lol_html`): every element, text run, comment and `<style>` block with its byte offset.
//!
//! The model is flat (elements in source order with a parent index) so that deeply nested
//! markup costs no recursion anywhere in the checks.

use crate::finding::Location;
use crate::source::{LineIndex, decode_entities_owned};
use lol_html::html_content::TextType;
use lol_html::{DocumentContentHandlers, ElementContentHandlers, HtmlRewriter, Selector, Settings};
use std::cell::RefCell;
use std::rc::Rc;

/// One element, as written in the source.
#[derive(Debug, Clone)]
pub struct Element {
    /// Lowercase tag name.
    pub name: String,
    /// Attributes in source order: lowercase name, value with character references decoded.
    pub attrs: Vec<(String, String)>,
    /// Byte offset of the start tag.
    pub offset: usize,
    /// Byte length of the start tag.
    pub tag_len: usize,
    /// Index of the parent element, if any.
    pub parent: Option<usize>,
    /// Byte offset of the `style` attribute's value, if present.
    pub style_offset: Option<usize>,
}

impl Element {
    /// The value of an attribute, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when the attribute is present (with any value).
    pub fn has(&self, name: &str) -> bool {
        self.attrs.iter().any(|(n, _)| n == name)
    }
}

/// A run of text (character data) with the element that contains it.
#[derive(Debug, Clone)]
pub struct Text {
    /// The text with character references decoded.
    pub text: String,
    /// Byte offset where the run starts.
    pub offset: usize,
    /// The innermost open element.
    pub parent: Option<usize>,
}

/// A `<style>` element's contents.
#[derive(Debug, Clone)]
pub struct StyleBlock {
    /// The CSS source.
    pub css: String,
    /// Byte offset of the first CSS character.
    pub offset: usize,
}

/// A `<script>` element's inline contents.
#[derive(Debug, Clone)]
pub struct ScriptBlock {
    /// The script source.
    pub code: String,
    /// Index of the `<script>` element.
    pub element: usize,
}

/// A parsed HTML document with source locations.
#[derive(Debug, Clone)]
pub struct Document {
    /// The decoded source text.
    pub source: String,
    /// Elements in source order.
    pub elements: Vec<Element>,
    /// Text runs outside `<style>`, `<script>` and `<title>`, in source order.
    pub texts: Vec<Text>,
    /// `<style>` blocks.
    pub styles: Vec<StyleBlock>,
    /// Inline scripts.
    pub scripts: Vec<ScriptBlock>,
    /// Comment offsets and contents.
    pub comments: Vec<(usize, String)>,
    /// Offset of the doctype, if any.
    pub doctype: Option<usize>,
    /// The `<title>` text.
    pub title: String,
    lines: LineIndex,
    /// For element `i`, one past the index of its last descendant (descendants are contiguous).
    subtree_end: Vec<usize>,
}

/// Why a document could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure(pub String);

#[derive(Default)]
struct Builder {
    elements: Vec<Element>,
    stack: Vec<usize>,
    texts: Vec<Text>,
    styles: Vec<StyleBlock>,
    scripts: Vec<ScriptBlock>,
    comments: Vec<(usize, String)>,
    doctype: Option<usize>,
    title: String,
    pending: Option<(String, usize, TextType)>,
}

/// How much of the document to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything: parents, text runs, scripts, title. Needed by most rules.
    Full,
    /// Elements (without parents), `<style>` blocks, comments and the doctype: all that client
    /// support needs, read by a tag scanner (`tags.rs`) many times faster than the full parse.
    Features,
}

/// Elements closed implicitly by a following start tag (a simplified form of the HTML tree
/// builder's rules: enough to keep parents right for typical email and page markup).
fn closes_implicitly(open: &str, next: &str) -> bool {
    match open {
        "p" => matches!(
            next,
            "p" | "div"
                | "table"
                | "ul"
                | "ol"
                | "dl"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "section"
                | "article"
                | "header"
                | "footer"
                | "form"
                | "hr"
                | "pre"
                | "blockquote"
        ),
        "li" => next == "li",
        "dt" | "dd" => matches!(next, "dt" | "dd"),
        "td" | "th" => matches!(next, "td" | "th" | "tr" | "tbody" | "thead" | "tfoot"),
        "tr" => matches!(next, "tr" | "tbody" | "thead" | "tfoot"),
        "option" => matches!(next, "option" | "optgroup"),
        _ => false,
    }
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen",
];

impl Builder {
    fn flush_text(&mut self) {
        if let Some((text, offset, kind)) = self.pending.take() {
            let parent = self.stack.last().copied();
            let parent_name = parent
                .and_then(|p| self.elements.get(p))
                .map(|e| e.name.as_str());
            match (kind, parent_name) {
                (TextType::RawText, Some("style")) => {
                    self.styles.push(StyleBlock { css: text, offset })
                }
                (TextType::ScriptData, _) => {
                    if let Some(element) = parent {
                        self.scripts.push(ScriptBlock {
                            code: text,
                            element,
                        });
                    }
                }
                (TextType::RCData, Some("title")) => {
                    self.title.push_str(&decode_entities_owned(text))
                }
                (TextType::Data | TextType::RCData, _) => self.texts.push(Text {
                    text: decode_entities_owned(text),
                    offset,
                    parent,
                }),
                _ => {}
            }
        }
    }
}

impl Document {
    /// Parses decoded HTML. Never panics; fails only if the parser reports an internal error.
    pub fn parse(source: String) -> Result<Document, ParseFailure> {
        Document::parse_with(source, Detail::Full)
    }

    /// Parses decoded HTML, recording only what `detail` asks for.
    pub fn parse_with(source: String, detail: Detail) -> Result<Document, ParseFailure> {
        if detail == Detail::Features {
            let tags = crate::tags::scan(&source);
            let lines = LineIndex::new(&source);
            return Ok(Document {
                subtree_end: (1..=tags.elements.len()).collect(),
                source,
                elements: tags.elements,
                texts: Vec::new(),
                styles: tags.styles,
                scripts: Vec::new(),
                comments: tags.comments,
                doctype: tags.doctype,
                title: String::new(),
                lines,
            });
        }
        let state = Rc::new(RefCell::new(Builder::default()));
        let all: Selector = "*".parse().map_err(|e| ParseFailure(format!("{e}")))?;
        {
            let on_element = Rc::clone(&state);
            let on_text = Rc::clone(&state);
            let on_comment = Rc::clone(&state);
            let on_doctype = Rc::clone(&state);
            let element_handler = move |el: &mut lol_html::html_content::Element<'_, '_>| {
                let range = el.source_location().bytes();
                let name = el.tag_name();
                let mut style_offset = None;
                let attrs = el
                    .attributes()
                    .iter()
                    .map(|a| {
                        let n = a.name();
                        if n == "style" {
                            style_offset = a.value_source_location().map(|l| l.bytes().start);
                        }
                        (n, decode_entities_owned(a.value()))
                    })
                    .collect();
                let mut b = on_element.borrow_mut();
                b.flush_text();
                while let Some(&top) = b.stack.last() {
                    if b.elements
                        .get(top)
                        .is_some_and(|e| closes_implicitly(&e.name, &name))
                    {
                        b.stack.pop();
                    } else {
                        break;
                    }
                }
                let index = b.elements.len();
                let parent = b.stack.last().copied();
                let opens = el.can_have_content()
                    && !el.is_self_closing()
                    && !VOID.contains(&name.as_str());
                b.elements.push(Element {
                    name,
                    attrs,
                    offset: range.start,
                    tag_len: range.end - range.start,
                    parent,
                    style_offset,
                });
                if opens {
                    b.stack.push(index);
                    drop(b);
                    let on_end = Rc::clone(&on_element);
                    el.on_end_tag(Box::new(
                        move |_end: &mut lol_html::html_content::EndTag<'_>| {
                            let mut b = on_end.borrow_mut();
                            b.flush_text();
                            if let Some(pos) = b.stack.iter().rposition(|&i| i == index) {
                                b.stack.truncate(pos);
                            }
                            Ok(())
                        },
                    ))?;
                }
                Ok(())
            };
            let doc_handlers = DocumentContentHandlers::default()
                .comments(move |c: &mut lol_html::html_content::Comment<'_>| {
                    let mut b = on_comment.borrow_mut();
                    b.flush_text();
                    b.comments
                        .push((c.source_location().bytes().start, c.text()));
                    Ok(())
                })
                .doctype(move |d: &mut lol_html::html_content::Doctype<'_>| {
                    let mut b = on_doctype.borrow_mut();
                    if b.doctype.is_none() {
                        b.doctype = Some(d.source_location().bytes().start);
                    }
                    Ok(())
                });
            let settings = Settings::new().append_element_content_handler((
                std::borrow::Cow::Owned(all),
                ElementContentHandlers::default().element(element_handler),
            ));
            let settings = settings.append_document_content_handler(doc_handlers.text(
                move |t: &mut lol_html::html_content::TextChunk<'_>| {
                    let mut b = on_text.borrow_mut();
                    let offset = t.source_location().bytes().start;
                    let kind = t.text_type();
                    match &mut b.pending {
                        Some((text, _, _)) => text.push_str(t.as_str()),
                        None => b.pending = Some((t.as_str().to_owned(), offset, kind)),
                    }
                    if t.last_in_text_node() {
                        b.flush_text();
                    }
                    Ok(())
                },
            ));
            let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
            rewriter
                .write(source.as_bytes())
                .map_err(|e| ParseFailure(e.to_string()))?;
            rewriter.end().map_err(|e| ParseFailure(e.to_string()))?;
        }
        let mut b = state.take();
        b.flush_text();
        let lines = LineIndex::new(&source);
        let mut subtree_end: Vec<usize> = (1..=b.elements.len()).collect();
        for i in (0..b.elements.len()).rev() {
            if let (Some(p), Some(&end)) = (b.elements[i].parent, subtree_end.get(i))
                && let Some(slot) = subtree_end.get_mut(p)
            {
                *slot = (*slot).max(end);
            }
        }
        Ok(Document {
            subtree_end,
            source,
            elements: b.elements,
            texts: b.texts,
            styles: b.styles,
            scripts: b.scripts,
            comments: b.comments,
            doctype: b.doctype,
            title: b.title,
            lines,
        })
    }

    /// The line index of the source.
    pub(crate) fn lines(&self) -> &LineIndex {
        &self.lines
    }

    /// The line and column of a byte offset.
    pub fn locate(&self, offset: usize) -> Location {
        self.lines.locate(&self.source, offset)
    }

    /// The start tag of an element, as written.
    pub fn start_tag(&self, element: &Element) -> &str {
        let end = (element.offset + element.tag_len).min(self.source.len());
        self.source.get(element.offset..end).unwrap_or("")
    }

    /// Elements with a given tag name.
    pub fn by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (usize, &'a Element)> + 'a {
        self.elements
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.name == name)
    }

    /// True when element `index` is `ancestor` or inside it.
    pub fn is_within(&self, index: usize, ancestor: usize) -> bool {
        index >= ancestor
            && self
                .subtree_end
                .get(ancestor)
                .is_some_and(|&end| index < end)
    }

    /// Text inside each element named `name` (e.g. every link's visible text), in one pass.
    pub fn texts_by_ancestor(&self, name: &str) -> std::collections::HashMap<usize, String> {
        let mut out: std::collections::HashMap<usize, String> = std::collections::HashMap::new();
        for t in &self.texts {
            // Depth is capped so pathological nesting stays linear.
            let mut cur = t.parent;
            for _ in 0..256 {
                let Some(i) = cur else { break };
                let Some(e) = self.elements.get(i) else { break };
                if e.name == name {
                    let entry = out.entry(i).or_default();
                    entry.push(' ');
                    entry.push_str(&t.text);
                    break;
                }
                cur = e.parent;
            }
        }
        for v in out.values_mut() {
            *v = v.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        out
    }

    /// The nearest ancestor (or self) with the given name.
    pub fn ancestor_named(&self, mut index: usize, name: &str) -> Option<usize> {
        // Depth is capped so pathological nesting stays linear.
        for _ in 0..256 {
            let e = self.elements.get(index)?;
            if e.name == name {
                return Some(index);
            }
            index = e.parent?;
        }
        None
    }

    /// Visible text inside an element (its descendants' text runs), whitespace collapsed.
    pub fn text_within(&self, index: usize) -> String {
        let mut out = String::new();
        for t in &self.texts {
            if t.parent.is_some_and(|p| self.is_within(p, index)) {
                out.push_str(&t.text);
                out.push(' ');
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// All visible body text, whitespace collapsed.
    pub fn body_text(&self) -> String {
        let mut out = String::new();
        for t in &self.texts {
            let hidden = t
                .parent
                .and_then(|p| self.elements.get(p))
                .is_some_and(|e| {
                    matches!(e.name.as_str(), "head" | "noscript" | "template" | "title")
                });
            if !hidden {
                out.push_str(&t.text);
                out.push(' ');
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_elements_with_parents_and_offsets() {
        let doc = Document::parse("<html><body>\n  <p>Hi <a href=\"x?a=1&amp;b=2\">there</a></p><style>p{color:red}</style></body></html>".into())
            .unwrap();
        let (ai, a) = doc.by_name("a").next().unwrap();
        assert_eq!(a.attr("href"), Some("x?a=1&b=2"));
        assert_eq!(doc.locate(a.offset), Location { line: 2, column: 9 });
        assert_eq!(doc.elements[a.parent.unwrap()].name, "p");
        assert_eq!(doc.text_within(ai), "there");
        assert_eq!(doc.styles[0].css, "p{color:red}");
    }

    #[test]
    fn survives_deep_nesting() {
        let html = "<div>".repeat(100_000);
        let doc = Document::parse(html).unwrap();
        assert_eq!(doc.elements.len(), 100_000);
    }
}
