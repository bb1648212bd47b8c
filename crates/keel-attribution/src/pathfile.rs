//! The paths-file reader: ChannelAttribution's CSV layout parsed straight from bytes.
//!
//! Reading dominates attribution time on large files (the order-1 chain of ten million paths is
//! solved in milliseconds), so this is a purpose-built parser rather than a general CSV reader:
//! the file is read in large blocks; a line without quotes — nearly every line of a real paths
//! file — is split on commas with vectorised byte searches, and only lines with quotes take the
//! general RFC 4180 path (quoted fields, doubled quotes, line breaks inside quotes). Channel names
//! are interned once through a map keyed by their bytes, and plain numbers (`17`, `123.45`) are
//! converted without the general float parser, exactly (see [`number`]).
//!
//! Blocks are cut at record ends (a line break outside quotes), so each block — and with several
//! threads, each piece of a block — parses independently; pieces are joined in file order and
//! error positions are translated back to file lines, so the result never depends on the thread
//! count.

use crate::Error;
use crate::paths::{PathSet, ReadOptions};
use rustc_hash::FxHashMap;
use std::io::Read;

/// Bytes read per thread per block: large enough that per-block costs vanish, small enough that
/// memory stays flat however large the file is.
const BLOCK_PER_THREAD: usize = 8 << 20;

/// Where the interesting columns are, and the header names for error messages.
struct Columns {
    names: Vec<String>,
    /// Column index → slot (0 path, 1 conversions, 2 value, 3 nulls).
    slots: Vec<Option<usize>>,
    path: usize,
    conv: usize,
    value: Option<usize>,
    null: Option<usize>,
}

impl Columns {
    fn from_header(fields: &[Vec<u8>], origin: &str) -> Result<Self, Error> {
        let table_err = |message: String| Error::Table {
            origin: origin.to_owned(),
            message,
        };
        let names: Vec<String> = fields
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_owned())
            .collect();
        let find = |name: &str| names.iter().position(|h| h.eq_ignore_ascii_case(name));
        let path = find("path").ok_or_else(|| {
            table_err("missing column `path` (expected path,total_conversions[,total_conversion_value][,total_null])".into())
        })?;
        let conv = find("total_conversions")
            .ok_or_else(|| table_err("missing column `total_conversions`".into()))?;
        let value = find("total_conversion_value");
        let null = find("total_null");
        let mut slots = vec![None; names.len()];
        slots[path] = Some(0);
        slots[conv] = Some(1);
        if let Some(v) = value {
            slots[v] = Some(2);
        }
        if let Some(n) = null {
            slots[n] = Some(3);
        }
        Ok(Columns {
            names,
            slots,
            path,
            conv,
            value,
            null,
        })
    }

    fn name(&self, col: usize) -> String {
        self.names.get(col).cloned().unwrap_or_else(|| "?".into())
    }
}

/// What every piece needs to know.
struct Context<'a> {
    cols: &'a Columns,
    sep: &'a [u8],
    origin: &'a str,
    aggregate: bool,
}

/// A table being built from pieces of the file, with its byte-keyed channel interner.
#[derive(Default)]
struct Piece {
    set: PathSet,
    names: FxHashMap<Box<[u8]>, u32>,
    seen: FxHashMap<Box<[u8]>, usize>,
    ids: Vec<u32>,
}

/// A problem in a row, with its line relative to the start of the piece.
struct RowError {
    line: u64,
    column: usize,
    message: String,
}

impl RowError {
    fn into_error(self, ctx: &Context<'_>, lines_before: u64) -> Error {
        if self.column == 0 {
            return Error::Input {
                origin: ctx.origin.to_owned(),
                row: self.line + lines_before,
                column: 0,
                field: "row".into(),
                message: self.message,
            };
        }
        Error::Input {
            origin: ctx.origin.to_owned(),
            row: self.line + lines_before,
            column: self.column,
            field: ctx.cols.name(self.column - 1),
            message: self.message,
        }
    }
}

impl Piece {
    /// Parses complete records (the last may lack its line break only at the end of the file).
    /// Returns the number of lines consumed.
    fn parse(&mut self, bytes: &[u8], ctx: &Context<'_>) -> Result<u64, RowError> {
        let mut pos = 0;
        let mut line: u64 = 0;
        let mut owned: Vec<Vec<u8>> = Vec::new();
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            let mut text = &rest[..end];
            let record_line = line + 1;
            let mut slots: [&[u8]; 4] = [b""; 4];
            if memchr::memchr(b'"', text).is_none() {
                line += 1;
                pos += end + 1;
                if let [head @ .., b'\r'] = text {
                    text = head;
                }
                if text.is_empty() {
                    continue;
                }
                let mut start = 0;
                for (col, comma) in memchr::memchr_iter(b',', text)
                    .chain(std::iter::once(text.len()))
                    .enumerate()
                {
                    if let Some(Some(slot)) = ctx.cols.slots.get(col) {
                        slots[*slot] = &text[start..comma];
                    }
                    start = comma + 1;
                }
                self.row(slots, record_line, ctx)?;
            } else {
                let (next, breaks) =
                    split_record(bytes, pos, &mut owned).map_err(|message| RowError {
                        line: record_line,
                        column: 0,
                        message,
                    })?;
                line += breaks;
                pos = next;
                for (col, field) in owned.iter().enumerate() {
                    if let Some(Some(slot)) = ctx.cols.slots.get(col) {
                        slots[*slot] = field;
                    }
                }
                self.row(slots, record_line, ctx)?;
            }
        }
        Ok(line)
    }

    fn row(&mut self, slots: [&[u8]; 4], line: u64, ctx: &Context<'_>) -> Result<(), RowError> {
        let err = |col: usize, message: String| RowError {
            line,
            column: col + 1,
            message,
        };
        let conversions = number(slots[1], true).map_err(|m| err(ctx.cols.conv, m))?;
        let value = match ctx.cols.value {
            Some(c) => number(slots[2], false).map_err(|m| err(c, m))?,
            None => 0.0,
        };
        let nulls = match ctx.cols.null {
            Some(c) => number(slots[3], false).map_err(|m| err(c, m))?,
            None => 0.0,
        };
        let raw_path = slots[0];
        if ctx.aggregate
            && let Some(&row) = self.seen.get(raw_path)
        {
            self.set.add_to_row(row, conversions, value, nulls);
            return Ok(());
        }
        let path = std::str::from_utf8(raw_path)
            .map_err(|_| err(ctx.cols.path, "not valid UTF-8".into()))?;
        self.ids.clear();
        let mut touch = 0;
        let mut rest = raw_path;
        loop {
            let (part, more) = match find(rest, ctx.sep) {
                Some(i) => (&rest[..i], Some(&rest[i + ctx.sep.len()..])),
                None => (rest, None),
            };
            touch += 1;
            let name = part.trim_ascii();
            if name.is_empty() {
                return Err(err(
                    ctx.cols.path,
                    if path.trim().is_empty() {
                        "empty path".to_owned()
                    } else {
                        format!("empty channel name at touch {touch} of `{path}`")
                    },
                ));
            }
            let id = match self.names.get(name) {
                Some(&id) => id,
                None => {
                    // `name` is a trimmed piece of valid UTF-8 cut at ASCII bytes, so it is
                    // valid UTF-8 too.
                    let text = String::from_utf8_lossy(name);
                    let id = self.set.channel_id(&text);
                    self.names.insert(name.into(), id);
                    id
                }
            };
            self.ids.push(id);
            match more {
                Some(m) => rest = m,
                None => break,
            }
        }
        self.set.push_row(&self.ids, conversions, value, nulls);
        if ctx.aggregate {
            self.seen.insert(raw_path.into(), self.set.len() - 1);
        }
        Ok(())
    }
}

/// First occurrence of `needle` (non-empty) in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [b] => memchr::memchr(*b, hay),
        _ => memchr::memmem::find(hay, needle),
    }
}

/// A number field: empty means 0 unless `required`; otherwise a finite number ≥ 0.
///
/// Plain decimals with at most 15 significant digits (`17`, `123.45`) are converted as
/// `digits ÷ 10^k`: both operands are exact doubles (below 2^53), and IEEE division rounds
/// correctly, so the result is the correctly rounded value of the decimal — the same double the
/// general parser gives — at a fraction of its cost.
pub(crate) fn number(raw: &[u8], required: bool) -> Result<f64, String> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    if !raw.is_empty() && raw.len() <= 16 {
        let mut digits: u64 = 0;
        let mut count = 0usize;
        let mut frac: Option<usize> = None;
        let mut plain = true;
        for &b in raw {
            match b {
                b'0'..=b'9' => {
                    digits = digits * 10 + u64::from(b - b'0');
                    count += 1;
                    if let Some(f) = &mut frac {
                        *f += 1;
                    }
                }
                b'.' if frac.is_none() => frac = Some(0),
                _ => {
                    plain = false;
                    break;
                }
            }
        }
        if plain && count > 0 && count <= 15 {
            let k = frac.unwrap_or(0);
            return Ok(digits as f64 / POW10[k]);
        }
    }
    let text = std::str::from_utf8(raw)
        .map_err(|_| "not valid UTF-8".to_owned())?
        .trim();
    if text.is_empty() {
        return if required {
            Err("missing number".into())
        } else {
            Ok(0.0)
        };
    }
    let v: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{text}` must be a finite number ≥ 0"));
    }
    Ok(v)
}

/// Splits one record starting at `pos` with full CSV quoting rules into `fields`. Returns the
/// position after the record and the number of line breaks it spans.
fn split_record(
    bytes: &[u8],
    pos: usize,
    fields: &mut Vec<Vec<u8>>,
) -> Result<(usize, u64), String> {
    fields.clear();
    let len = bytes.len();
    let mut i = pos;
    let mut breaks = 0u64;
    loop {
        let mut field = Vec::new();
        if i < len && bytes[i] == b'"' {
            i += 1;
            loop {
                let Some(k) = memchr::memchr(b'"', &bytes[i..]) else {
                    return Err("a quoted field is not closed before the end of the file".into());
                };
                let inside = &bytes[i..i + k];
                breaks += memchr::memchr_iter(b'\n', inside).count() as u64;
                field.extend_from_slice(inside);
                i += k + 1;
                if bytes.get(i) == Some(&b'"') {
                    field.push(b'"');
                    i += 1;
                } else {
                    break;
                }
            }
        }
        // Unquoted text (or anything after a closing quote, kept as written) up to the next
        // comma or line break.
        let k = memchr::memchr2(b',', b'\n', &bytes[i..]).unwrap_or(len - i);
        field.extend_from_slice(&bytes[i..i + k]);
        i += k;
        if i >= len || bytes[i] == b'\n' {
            if field.last() == Some(&b'\r') {
                field.pop();
            }
            fields.push(field);
            if i >= len {
                return Ok((len, breaks + 1));
            }
            return Ok((i + 1, breaks + 1));
        }
        fields.push(field);
        i += 1; // the comma
    }
}

/// Number of `byte` in `slice` (a simple loop the compiler vectorises).
fn count(slice: &[u8], byte: u8) -> usize {
    slice.iter().filter(|&&b| b == byte).count()
}

/// End of the last complete record in `buf` (which starts at a record boundary): just after the
/// last line break outside quotes.
fn last_record_end(buf: &[u8]) -> Option<usize> {
    let mut quotes = count(buf, b'"');
    let mut end = buf.len();
    while let Some(nl) = memchr::memrchr(b'\n', &buf[..end]) {
        quotes -= count(&buf[nl..end], b'"');
        if quotes.is_multiple_of(2) {
            return Some(nl + 1);
        }
        end = nl;
    }
    None
}

/// Cuts `body` (complete records) into at most `parts` pieces at line breaks outside quotes.
fn cut(body: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut cuts = vec![0usize];
    let (mut scanned, mut quotes) = (0usize, 0usize);
    for t in 1..parts {
        let mut pos = (body.len() * t / parts).max(scanned);
        loop {
            let Some(nl) = memchr::memchr(b'\n', &body[pos..]) else {
                pos = body.len();
                break;
            };
            let end = pos + nl + 1;
            quotes += count(&body[scanned..end], b'"');
            scanned = end;
            pos = end;
            if quotes.is_multiple_of(2) {
                break;
            }
        }
        if pos < body.len() && pos > *cuts.last().unwrap_or(&0) {
            cuts.push(pos);
        }
    }
    cuts.push(body.len());
    cuts.windows(2).map(|w| &body[w[0]..w[1]]).collect()
}

/// Reads until `buf` holds at least `want` bytes or the input ends; returns whether it ended.
fn fill<R: Read>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    want: usize,
    origin: &str,
) -> Result<bool, Error> {
    while buf.len() < want {
        let start = buf.len();
        buf.resize(want.max(start + 4096), 0);
        match reader.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                return Ok(true);
            }
            Ok(n) => buf.truncate(start + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => {
                buf.truncate(start);
                return Err(Error::Table {
                    origin: origin.to_owned(),
                    message: format!("cannot read: {e}"),
                });
            }
        }
    }
    Ok(false)
}

/// Reads a whole paths table (see [`PathSet::read_csv_with`]).
pub(crate) fn read<R: Read>(
    mut reader: R,
    options: &ReadOptions<'_>,
    origin: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<PathSet, Error> {
    if options.sep.is_empty() {
        return Err(Error::Model("the path separator must not be empty".into()));
    }
    let threads = options.threads.clamp(1, 64);
    let block = BLOCK_PER_THREAD * threads;
    let mut buf = Vec::with_capacity(block + 4096);
    let mut eof = fill(&mut reader, &mut buf, block, origin)?;
    // The header: the first record, which must be complete within the buffer.
    let mut header = Vec::new();
    let (body_start, header_lines) = loop {
        let complete = eof || last_record_end(&buf).is_some();
        if complete {
            if buf.is_empty() {
                return Err(Error::Table {
                    origin: origin.to_owned(),
                    message: "cannot read the header row: the file is empty".into(),
                });
            }
            break split_record(&buf, 0, &mut header).map_err(|m| Error::Table {
                origin: origin.to_owned(),
                message: format!("cannot read the header row: {m}"),
            })?;
        }
        let want = (buf.len() * 2).max(1 << 16);
        eof = fill(&mut reader, &mut buf, want, origin)?;
    };
    let cols = Columns::from_header(&header, origin)?;
    let ctx = Context {
        cols: &cols,
        sep: options.sep.as_bytes(),
        origin,
        aggregate: options.aggregate,
    };
    buf.drain(..body_start);
    let mut consumed = body_start as u64;
    let mut lines_before = header_lines;
    let mut main = Piece::default();
    let mut next: Vec<u8> = Vec::with_capacity(block + 4096);
    loop {
        let end = if eof {
            buf.len()
        } else {
            match last_record_end(&buf) {
                Some(end) => end,
                None => {
                    // One record longer than a block: read more of it.
                    let want = (buf.len() * 2).max(1 << 16);
                    eof = fill(&mut reader, &mut buf, want, origin)?;
                    continue;
                }
            }
        };
        let body = &buf[..end];
        if threads == 1 {
            let lines = main
                .parse(body, &ctx)
                .map_err(|e| e.into_error(&ctx, lines_before))?;
            lines_before += lines;
            next.clear();
            next.extend_from_slice(&buf[end..]);
            if !eof {
                eof = fill(&mut reader, &mut next, block, origin)?;
            }
        } else {
            let pieces = cut(body, threads);
            let rest = &buf[end..];
            let ctx = &ctx;
            let main_ref = &mut main;
            let next_ref = &mut next;
            let reader_ref = &mut reader;
            let (results, read) = std::thread::scope(|scope| {
                let mut pieces = pieces.into_iter();
                let first: &[u8] = pieces.next().unwrap_or(&[][..]);
                let first = scope.spawn(move || main_ref.parse(first, ctx));
                let others: Vec<_> = pieces
                    .map(|piece| {
                        scope.spawn(move || {
                            let mut p = Piece::default();
                            p.parse(piece, ctx).map(|lines| (p.set, lines))
                        })
                    })
                    .collect();
                // Read the next block while the pieces parse.
                next_ref.clear();
                next_ref.extend_from_slice(rest);
                let read = if eof {
                    Ok(true)
                } else {
                    fill(reader_ref, next_ref, block, origin)
                };
                let failed = || RowError {
                    line: 0,
                    column: 0,
                    message: "a parsing thread failed".into(),
                };
                let first = first.join().unwrap_or_else(|_| Err(failed()));
                let others: Vec<_> = others
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|_| Err(failed())))
                    .collect();
                ((first, others), read)
            });
            let (first, others) = results;
            lines_before += first.map_err(|e| e.into_error(ctx, lines_before))?;
            for other in others {
                let (set, lines) = other.map_err(|e| e.into_error(ctx, lines_before))?;
                main.set.append(set);
                lines_before += lines;
            }
            eof = read?;
        }
        consumed += end as u64;
        progress(consumed);
        std::mem::swap(&mut buf, &mut next);
        if eof && buf.is_empty() {
            break;
        }
    }
    Ok(main.set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_parse_exactly() {
        for text in [
            "0",
            "1",
            "17",
            "123.45",
            "0.1",
            "0.3",
            "99999.99",
            "1.",
            ".5",
            "123456789012345",
            "1234567.89012345",
            "0.000000000000001",
        ] {
            let want: f64 = text.parse().unwrap();
            assert_eq!(number(text.as_bytes(), true).unwrap(), want, "{text}");
        }
        assert_eq!(number(b"1e3", true).unwrap(), 1000.0);
        assert_eq!(number(b" 2.5 ", true).unwrap(), 2.5);
        assert_eq!(number(b"", false).unwrap(), 0.0);
        assert!(number(b"", true).is_err());
        assert!(number(b".", true).is_err());
        assert!(number(b"1.2.3", true).is_err());
        assert!(number(b"-1", true).is_err());
    }

    #[test]
    fn quoted_fields_and_line_breaks() {
        let text = "path,total_conversions\n\"A > \"\"B\"\"\",1\n\"C\nD\",2\r\nE,3";
        let set = PathSet::read_csv(text.as_bytes(), ">", "t", |_| {}).unwrap();
        assert_eq!(set.channel_names(), ["A", "\"B\"", "C\nD", "E"]);
        assert_eq!(set.conversions(2), 3.0);
        // Line numbers count the line break inside the quoted field.
        let bad = format!("{text}\nF,x\n");
        let err = PathSet::read_csv(bad.as_bytes(), ">", "t", |_| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t:6:2: total_conversions: `x` is not a number"
        );
        let err = PathSet::read_csv(
            "path,total_conversions\n\"A,1\n".as_bytes(),
            ">",
            "t",
            |_| {},
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("t:2:0: row: a quoted field"),
            "{err}"
        );
    }

    #[test]
    fn blocks_and_threads_agree() {
        let mut text =
            String::from("total_null,path,extra,total_conversions,total_conversion_value\n");
        for i in 0..20_000 {
            let path = match i % 5 {
                0 => "Paid Search > Email".to_owned(),
                1 => format!("\"Display{} > Direct\"", i % 9),
                2 => "Email".to_owned(),
                3 => format!("\"Q\"\"{}\"\" > \nX\"", i % 3),
                _ => format!("Direct > Referral{} > Email", i % 4),
            };
            text.push_str(&format!(
                "{},{path},x,{},{}.{}\r\n",
                (i + 1) % 2,
                i % 2,
                i,
                i % 100
            ));
        }
        let one = PathSet::read_csv(text.as_bytes(), ">", "t", |_| {}).unwrap();
        assert_eq!(one.len(), 20_000);
        for threads in [2, 3, 8] {
            // A small reader forces many short reads.
            let reader = std::io::BufReader::with_capacity(7, text.as_bytes());
            let opts = ReadOptions {
                sep: ">",
                threads,
                aggregate: false,
            };
            let many = PathSet::read_csv_with(reader, &opts, "t", &mut |_| {}).unwrap();
            assert_eq!(many.channel_names(), one.channel_names());
            for i in 0..one.len() {
                assert_eq!(many.path(i), one.path(i));
                assert_eq!(many.value(i), one.value(i));
                assert_eq!(many.nulls(i), one.nulls(i));
            }
        }
    }
}
