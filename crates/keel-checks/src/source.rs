//! Turning input bytes into text: charset detection (BOM, declared `<meta charset>`, a caller's
//! hint) and byte-offset to line/column mapping.

use crate::finding::Location;
use encoding_rs::Encoding;

/// Text decoded from an input, with the encoding it came from.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text, as UTF-8.
    pub text: String,
    /// The encoding used to decode it, e.g. `UTF-8` or `windows-1252`.
    pub encoding: &'static Encoding,
    /// True when bytes that are invalid in that encoding were replaced.
    pub had_errors: bool,
}

/// Why input could not be treated as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// The input contains NUL bytes or other control bytes typical of binary files.
    Binary,
}

/// Decides whether bytes look like a binary file rather than text.
///
/// UTF-16 text (with a BOM) is not binary even though it contains NUL bytes.
pub fn looks_binary(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return false;
    }
    let head = &bytes[..bytes.len().min(8192)];
    let controls = head
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)))
        .count();
    head.contains(&0) || controls * 20 > head.len().max(1)
}

/// Decodes HTML bytes, honouring a byte-order mark, then `hint` (e.g. a MIME charset), then a
/// `<meta charset>` / `http-equiv` declaration in the first 1024 bytes, then UTF-8.
pub fn decode_html(bytes: &[u8], hint: Option<&str>) -> Result<Decoded, Unreadable> {
    let (text, encoding, had_errors) = decode_html_cow(bytes, hint)?;
    Ok(Decoded {
        text: text.into_owned(),
        encoding,
        had_errors,
    })
}

/// [`decode_html`] that borrows the input when it is already valid UTF-8 (the usual case), so
/// checks that need no owned copy of the text make none.
pub(crate) fn decode_html_cow<'a>(
    bytes: &'a [u8],
    hint: Option<&str>,
) -> Result<(std::borrow::Cow<'a, str>, &'static Encoding, bool), Unreadable> {
    if looks_binary(bytes) {
        return Err(Unreadable::Binary);
    }
    let declared = hint
        .and_then(|label| Encoding::for_label(label.trim().as_bytes()))
        .or_else(|| prescan_meta_charset(bytes));
    let encoding = declared.unwrap_or(encoding_rs::UTF_8);
    // `decode` sniffs a BOM first, which overrides any declaration, as browsers do.
    let (text, used, had_errors) = encoding.decode(bytes);
    Ok((text, used, had_errors))
}

/// Finds a charset declared in a `<meta>` element near the start of the document.
fn prescan_meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(1024)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(cs) = find(tag, b"charset=") {
            let rest = &tag[cs + 8..];
            let rest = rest
                .strip_prefix(b"\"")
                .or_else(|| rest.strip_prefix(b"'"))
                .unwrap_or(rest);
            let label_end = rest
                .iter()
                .position(|&b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                .unwrap_or(rest.len());
            if let Some(enc) = Encoding::for_label(&rest[..label_end]) {
                // A UTF-16 declaration in an ASCII-compatible byte stream is treated as UTF-8 (HTML spec).
                if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                    return Some(encoding_rs::UTF_8);
                }
                return Some(enc);
            }
        }
        from = end;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Maps byte offsets in a text to 1-based line and character column.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// Per line: true when the line is pure ASCII, so a column is a byte difference. Minified
    /// templates are one long line; this keeps locating findings in them O(log n).
    ascii: Vec<bool>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        // `find` and `is_ascii` work a word (or vector) at a time; a byte loop here cost more
        // than the client-support checks it serves.
        let mut starts = vec![0];
        let mut ascii = Vec::new();
        let mut start = 0;
        while let Some(nl) = text.get(start..).and_then(|rest| rest.find('\n')) {
            let end = start + nl;
            ascii.push(
                text.as_bytes()
                    .get(start..end)
                    .is_some_and(<[u8]>::is_ascii),
            );
            start = end + 1;
            starts.push(start);
        }
        ascii.push(text.as_bytes().get(start..).is_some_and(<[u8]>::is_ascii));
        LineIndex { starts, ascii }
    }

    /// The location of byte `offset` in `text` (the same text the index was built from).
    pub fn locate(&self, text: &str, offset: usize) -> Location {
        let offset = offset.min(text.len());
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let column = if self.ascii.get(line).copied().unwrap_or(false) {
            offset - start
        } else {
            text.get(start..offset)
                .map_or(offset - start, |prefix| prefix.chars().count())
        };
        Location {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

/// Decodes the HTML character references that matter for reading text and URLs.
///
/// Named references outside this short list are left as written; they do not affect any rule.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    decode_entities_slow(s)
}

/// [`decode_entities`] that borrows the text when there is nothing to decode.
pub(crate) fn decode_entities_cow(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('&') {
        std::borrow::Cow::Owned(decode_entities_slow(s))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// [`decode_entities`] that reuses the string when there is nothing to decode.
pub fn decode_entities_owned(s: String) -> String {
    if s.contains('&') {
        decode_entities_slow(&s)
    } else {
        s
    }
}

fn decode_entities_slow(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|e| e + 1);
        let (name, consumed) = match end {
            Some(e) if rest[e..].starts_with(';') => (&rest[1..e], e + 1),
            Some(e) => (&rest[1..e], e),
            None => (&rest[1..], rest.len()),
        };
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            "zwnj" => Some('\u{200c}'),
            "shy" => Some('\u{ad}'),
            "copy" => Some('©'),
            n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) if consumed > 1 => {
                out.push(c);
                rest = &rest[consumed..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_lines_and_character_columns() {
        let text = "ab\ncé<x>\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.locate(text, 0), Location { line: 1, column: 1 });
        let x = text.find("<x>").unwrap_or(0);
        assert_eq!(idx.locate(text, x), Location { line: 2, column: 3 });
    }

    #[test]
    fn honours_meta_charset() {
        let bytes = b"<meta charset=\"windows-1252\"><p>caf\xe9</p>";
        let d = decode_html(bytes, None).unwrap();
        assert_eq!(d.encoding.name(), "windows-1252");
        assert!(d.text.contains("café"));
    }

    #[test]
    fn detects_binary() {
        assert_eq!(
            decode_html(b"\x89PNG\r\n\x1a\n\0\0\0IHDR", None).unwrap_err(),
            Unreadable::Binary
        );
        assert!(decode_html(b"\xff\xfe<\0p\0>\0", None).is_ok());
    }

    #[test]
    fn decodes_entities() {
        assert_eq!(
            decode_entities("a&amp;b&#33;&#x21;&bogus;&"),
            "a&b!!&bogus;&"
        );
    }
}
