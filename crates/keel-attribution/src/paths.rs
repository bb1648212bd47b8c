//! The aggregated journey table: one row per path with its conversions, value and non-converting
//! count, in ChannelAttribution's layout (`path,total_conversions,total_conversion_value,total_null`).
//!
//! Rows are stored flattened (one touch array plus row offsets) so ten million paths fit in a few
//! hundred megabytes and every model walks memory in order.

use crate::Error;
use rustc_hash::FxHashMap;

/// A table of journeys. Channels (and campaigns, when known) are interned as small integers.
#[derive(Debug, Clone, Default)]
pub struct PathSet {
    channel_names: Vec<String>,
    channel_index: FxHashMap<String, u32>,
    campaign_names: Vec<String>,
    campaign_index: FxHashMap<String, u32>,
    touches: Vec<u32>,
    offsets: Vec<usize>,
    conversions: Vec<f64>,
    values: Vec<f64>,
    nulls: Vec<f64>,
    /// Per touch: how long before the conversion (or journey end) the touch happened, in the
    /// unit of the time-decay half-life. `None` means "count touches" (paths files have no times).
    ages: Option<Vec<f64>>,
    /// Per touch: campaign id, `u32::MAX` when unknown.
    campaigns: Option<Vec<u32>>,
    /// Per row: index of the lead-creation touch, `u32::MAX` when unknown.
    leads: Option<Vec<u32>>,
}

/// One journey to add to a [`PathSet`] built from events.
#[derive(Debug, Clone, PartialEq)]
pub struct JourneyRow<'a> {
    /// Channel of each touch, oldest first.
    pub channels: Vec<&'a str>,
    /// Campaign of each touch, when known.
    pub campaigns: Vec<Option<&'a str>>,
    /// Age of each touch relative to the conversion (or journey end), in half-life units.
    pub ages: Vec<f64>,
    /// Index of the touch during which the person first identified (became a lead).
    pub lead: Option<usize>,
    /// Conversions at the end of this journey (fractional allowed).
    pub conversions: f64,
    /// Conversion value.
    pub value: f64,
    /// Journeys of this shape that did not convert.
    pub nulls: f64,
}

impl PathSet {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns a channel name and returns its id.
    pub fn channel_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.channel_index.get(name) {
            return id;
        }
        let id = self.channel_names.len() as u32;
        self.channel_names.push(name.to_owned());
        self.channel_index.insert(name.to_owned(), id);
        id
    }

    fn campaign_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.campaign_index.get(name) {
            return id;
        }
        let id = self.campaign_names.len() as u32;
        self.campaign_names.push(name.to_owned());
        self.campaign_index.insert(name.to_owned(), id);
        id
    }

    /// Appends a row of already-interned channel ids. `channels` must not be empty.
    pub fn push_ids(&mut self, channels: &[u32], conversions: f64, value: f64, nulls: f64) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.touches.extend_from_slice(channels);
        self.offsets.push(self.touches.len());
        self.conversions.push(conversions);
        self.values.push(value);
        self.nulls.push(nulls);
        if let Some(ages) = &mut self.ages {
            ages.extend(std::iter::repeat_n(f64::NAN, channels.len()));
        }
        if let Some(c) = &mut self.campaigns {
            c.extend(std::iter::repeat_n(u32::MAX, channels.len()));
        }
        if let Some(l) = &mut self.leads {
            l.push(u32::MAX);
        }
    }

    /// Appends a journey built from events, with touch times, campaigns and lead milestone.
    pub fn push_journey(&mut self, row: &JourneyRow<'_>) -> Result<(), Error> {
        if row.channels.is_empty() {
            return Err(Error::Model("a journey needs at least one touch".into()));
        }
        if row.ages.len() != row.channels.len() || row.campaigns.len() != row.channels.len() {
            return Err(Error::Model(
                "a journey needs one age and one campaign entry per touch".into(),
            ));
        }
        let rows_before = self.len();
        let touches_before = self.touches.len();
        let ids: Vec<u32> = row.channels.iter().map(|c| self.channel_id(c)).collect();
        self.push_ids(&ids, row.conversions, row.value, row.nulls);
        let ages = self
            .ages
            .get_or_insert_with(|| vec![f64::NAN; touches_before]);
        ages.truncate(touches_before);
        ages.extend_from_slice(&row.ages);
        let camp_ids: Vec<u32> = row
            .campaigns
            .iter()
            .map(|c| c.map_or(u32::MAX, |c| self.campaign_id(c)))
            .collect();
        let campaigns = self
            .campaigns
            .get_or_insert_with(|| vec![u32::MAX; touches_before]);
        campaigns.truncate(touches_before);
        campaigns.extend_from_slice(&camp_ids);
        let leads = self
            .leads
            .get_or_insert_with(|| vec![u32::MAX; rows_before]);
        leads.truncate(rows_before);
        leads.push(row.lead.map_or(u32::MAX, |l| l as u32));
        Ok(())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.conversions.is_empty()
    }

    /// Channel names, indexed by channel id.
    pub fn channel_names(&self) -> &[String] {
        &self.channel_names
    }

    /// Campaign names, indexed by campaign id.
    pub fn campaign_names(&self) -> &[String] {
        &self.campaign_names
    }

    /// The channel ids of row `i`, oldest touch first.
    pub fn path(&self, i: usize) -> &[u32] {
        &self.touches[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Ages of the touches of row `i`, when the table was built from timed events.
    pub fn ages(&self, i: usize) -> Option<&[f64]> {
        self.ages
            .as_ref()
            .map(|a| &a[self.offsets[i]..self.offsets[i + 1]])
            .filter(|a| a.iter().all(|x| x.is_finite()))
    }

    /// Campaign id of each touch of row `i` (`u32::MAX` when unknown), if campaigns are known.
    pub fn campaigns(&self, i: usize) -> Option<&[u32]> {
        self.campaigns
            .as_ref()
            .map(|c| &c[self.offsets[i]..self.offsets[i + 1]])
    }

    /// Index of the lead-creation touch of row `i`, when known.
    pub fn lead(&self, i: usize) -> Option<usize> {
        self.leads
            .as_ref()
            .and_then(|l| l.get(i).copied())
            .filter(|&l| l != u32::MAX)
            .map(|l| l as usize)
    }

    /// Conversions of row `i`.
    pub fn conversions(&self, i: usize) -> f64 {
        self.conversions[i]
    }

    /// Conversion value of row `i`.
    pub fn value(&self, i: usize) -> f64 {
        self.values[i]
    }

    /// Non-converting journeys of row `i`.
    pub fn nulls(&self, i: usize) -> f64 {
        self.nulls[i]
    }

    /// Sum of conversions over all rows.
    pub fn total_conversions(&self) -> f64 {
        self.conversions.iter().sum()
    }

    /// Sum of conversion value over all rows.
    pub fn total_value(&self) -> f64 {
        self.values.iter().sum()
    }

    /// Sum of non-converting journeys over all rows.
    pub fn total_nulls(&self) -> f64 {
        self.nulls.iter().sum()
    }

    /// Reads a paths table in ChannelAttribution's layout: a header row naming `path` and
    /// `total_conversions`, optionally `total_conversion_value` and `total_null` (any order, extra
    /// columns ignored). Channels in `path` are separated by `sep` and trimmed. Every row is
    /// validated; the first problem is returned as `origin:row:column`. `progress` is called
    /// with the number of bytes consumed every 64k rows.
    pub fn read_csv<R: std::io::Read>(
        reader: R,
        sep: &str,
        origin: &str,
        mut progress: impl FnMut(u64),
    ) -> Result<Self, Error> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(reader);
        let cols = Columns::read(&mut rdr, sep, origin)?;
        parse_rows(&mut rdr, &cols, sep, origin, 0, false, &mut progress)
    }

    /// Like [`PathSet::read_csv`], but rows with byte-identical paths are merged into one row
    /// (conversions, value and nulls summed). Every model gives the same credit either way — all
    /// of them are additive over identical paths — while the table gets many times smaller on
    /// real data. Row numbers then no longer match the file, so explanations use `read_csv`.
    pub fn read_csv_aggregated<R: std::io::Read>(
        reader: R,
        sep: &str,
        origin: &str,
        mut progress: impl FnMut(u64),
    ) -> Result<Self, Error> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(reader);
        let cols = Columns::read(&mut rdr, sep, origin)?;
        parse_rows(&mut rdr, &cols, sep, origin, 0, true, &mut progress)
    }

    /// Like [`PathSet::read_csv`] over a table already in memory, parsed on `threads` threads:
    /// the bytes are cut at line ends outside quoted fields and the pieces merged in order, so
    /// the result (ids, row order, errors) is the same as reading sequentially. With
    /// `aggregate`, identical paths are merged within each piece (see
    /// [`PathSet::read_csv_aggregated`]).
    pub fn parse_csv(
        bytes: &[u8],
        sep: &str,
        origin: &str,
        threads: usize,
        aggregate: bool,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Self, Error> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes);
        let cols = Columns::read(&mut rdr, sep, origin)?;
        let body_start = rdr.position().byte() as usize;
        let body = &bytes[body_start.min(bytes.len())..];
        let header_lines = rdr.position().line().saturating_sub(1);
        // Cut points: after a newline that is outside quotes, near each 1/threads of the body.
        let threads = threads.clamp(1, 64);
        let mut cuts = vec![0usize];
        let mut lines_before = vec![header_lines];
        // Counting bytes over a slice vectorises well, so quote parity and line numbers at each
        // candidate cut cost one fast pass instead of a byte-by-byte state machine.
        let count = |slice: &[u8], byte: u8| slice.iter().filter(|&&b| b == byte).count();
        let (mut scanned, mut quotes, mut lines) = (0usize, 0usize, header_lines);
        for t in 1..threads {
            let mut pos = (body.len() * t / threads).max(scanned);
            loop {
                let Some(nl) = body[pos..].iter().position(|&b| b == b'\n') else {
                    pos = body.len();
                    break;
                };
                let end = pos + nl + 1;
                quotes += count(&body[scanned..end], b'"');
                lines += count(&body[scanned..end], b'\n') as u64;
                scanned = end;
                pos = end;
                if quotes % 2 == 0 {
                    break;
                }
            }
            if pos < body.len() && pos > *cuts.last().unwrap_or(&0) {
                cuts.push(pos);
                lines_before.push(lines);
            }
        }
        cuts.push(body.len());
        let done = std::sync::atomic::AtomicU64::new(body_start as u64);
        let parts: Vec<Result<PathSet, Error>> = std::thread::scope(|scope| {
            let handles: Vec<_> = cuts
                .windows(2)
                .zip(&lines_before)
                .map(|(w, &line_offset)| {
                    let chunk = &body[w[0]..w[1]];
                    let cols = &cols;
                    let done = &done;
                    scope.spawn(move || {
                        let mut rdr = csv::ReaderBuilder::new()
                            .has_headers(false)
                            .flexible(true)
                            .from_reader(chunk);
                        let mut last = 0u64;
                        let mut report = |pos: u64| {
                            let total = done
                                .fetch_add(pos - last, std::sync::atomic::Ordering::Relaxed)
                                + (pos - last);
                            last = pos;
                            progress(total);
                        };
                        parse_rows(
                            &mut rdr,
                            cols,
                            sep,
                            origin,
                            line_offset,
                            aggregate,
                            &mut report,
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::Table {
                            origin: origin.to_owned(),
                            message: "a parsing thread failed".into(),
                        })
                    })
                })
                .collect()
        });
        let mut set = PathSet::new();
        set.offsets.push(0);
        for part in parts {
            set.append(part?);
        }
        Ok(set)
    }

    /// Appends the rows of another plain table (no ages, campaigns or leads), remapping its
    /// channel ids to this table's.
    fn append(&mut self, other: PathSet) {
        let map: Vec<u32> = other
            .channel_names
            .iter()
            .map(|name| self.channel_id(name))
            .collect();
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        let base = self.touches.len();
        self.touches
            .extend(other.touches.iter().map(|&c| map[c as usize]));
        self.offsets
            .extend(other.offsets.iter().skip(1).map(|&o| o + base));
        self.conversions.extend_from_slice(&other.conversions);
        self.values.extend_from_slice(&other.values);
        self.nulls.extend_from_slice(&other.nulls);
    }
}

/// Where the columns of a paths table are.
struct Columns {
    headers: csv::ByteRecord,
    path: usize,
    conv: usize,
    value: Option<usize>,
    null: Option<usize>,
}

impl Columns {
    fn read<R: std::io::Read>(
        rdr: &mut csv::Reader<R>,
        sep: &str,
        origin: &str,
    ) -> Result<Columns, Error> {
        if sep.is_empty() {
            return Err(Error::Model("the path separator must not be empty".into()));
        }
        let table_err = |message: String| Error::Table {
            origin: origin.to_owned(),
            message,
        };
        let headers = rdr
            .byte_headers()
            .map_err(|e| table_err(format!("cannot read the header row: {e}")))?
            .clone();
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| String::from_utf8_lossy(h).trim().eq_ignore_ascii_case(name))
        };
        let path = find("path").ok_or_else(|| {
            table_err("missing column `path` (expected path,total_conversions[,total_conversion_value][,total_null])".into())
        })?;
        let conv = find("total_conversions")
            .ok_or_else(|| table_err("missing column `total_conversions`".into()))?;
        let value = find("total_conversion_value");
        let null = find("total_null");
        Ok(Columns {
            headers,
            path,
            conv,
            value,
            null,
        })
    }
}

/// Parses data rows into a new table. `line_offset` is added to reported line numbers (for
/// pieces of a larger file); `progress` gets the bytes consumed by this reader.
fn parse_rows<R: std::io::Read>(
    rdr: &mut csv::Reader<R>,
    cols: &Columns,
    sep: &str,
    origin: &str,
    line_offset: u64,
    aggregate: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<PathSet, Error> {
    let mut seen: FxHashMap<Box<[u8]>, usize> = FxHashMap::default();
    let headers = &cols.headers;
    let mut set = PathSet::new();
    set.offsets.push(0);
    let mut record = csv::ByteRecord::new();
    let mut ids: Vec<u32> = Vec::with_capacity(16);
    let mut rows: u64 = 0;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let row = e.position().map_or(0, |p| p.line()) + line_offset;
                return Err(Error::Input {
                    origin: origin.to_owned(),
                    row,
                    column: 0,
                    field: "row".into(),
                    message: e.to_string(),
                });
            }
        }
        let line = record.position().map_or(0, |p| p.line()) + line_offset;
        let field_err = |col: usize, message: String| Error::Input {
            origin: origin.to_owned(),
            row: line,
            column: col + 1,
            field: String::from_utf8_lossy(headers.get(col).unwrap_or(b"?")).into_owned(),
            message,
        };
        let number = |col: usize, required: bool| -> Result<f64, Error> {
            let raw = record.get(col).unwrap_or(b"");
            // Fast path for the common case of a plain small integer ("0", "1", "17"): exact,
            // and several times cheaper than the general float parser on tens of millions of rows.
            if !raw.is_empty() && raw.len() <= 15 && raw.iter().all(u8::is_ascii_digit) {
                return Ok(raw.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')) as f64);
            }
            let text = std::str::from_utf8(raw)
                .map_err(|_| field_err(col, "not valid UTF-8".into()))?
                .trim();
            if text.is_empty() {
                return if required {
                    Err(field_err(col, "missing number".into()))
                } else {
                    Ok(0.0)
                };
            }
            let v: f64 = text
                .parse()
                .map_err(|_| field_err(col, format!("`{text}` is not a number")))?;
            if !v.is_finite() || v < 0.0 {
                return Err(field_err(
                    col,
                    format!("`{text}` must be a finite number ≥ 0"),
                ));
            }
            Ok(v)
        };
        let conversions = number(cols.conv, true)?;
        let value = match cols.value {
            Some(c) => number(c, false)?,
            None => 0.0,
        };
        let nulls = match cols.null {
            Some(c) => number(c, false)?,
            None => 0.0,
        };
        let raw_path = record.get(cols.path).unwrap_or(b"");
        rows += 1;
        if rows.is_multiple_of(65_536) {
            progress(record.position().map_or(0, |p| p.byte()));
        }
        if aggregate && let Some(&row) = seen.get(raw_path) {
            set.conversions[row] += conversions;
            set.values[row] += value;
            set.nulls[row] += nulls;
            continue;
        }
        let path = std::str::from_utf8(raw_path)
            .map_err(|_| field_err(cols.path, "not valid UTF-8".into()))?;
        ids.clear();
        for (k, part) in path.split(sep).enumerate() {
            let name = part.trim_ascii();
            if name.is_empty() {
                return Err(field_err(
                    cols.path,
                    if path.trim().is_empty() {
                        "empty path".to_owned()
                    } else {
                        format!("empty channel name at touch {} of `{path}`", k + 1)
                    },
                ));
            }
            ids.push(set.channel_id(name));
        }
        set.touches.extend_from_slice(&ids);
        set.offsets.push(set.touches.len());
        set.conversions.push(conversions);
        set.values.push(value);
        set.nulls.push(nulls);
        if aggregate {
            seen.insert(raw_path.into(), set.conversions.len() - 1);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<PathSet, Error> {
        PathSet::read_csv(text.as_bytes(), ">", "t.csv", |_| {})
    }

    #[test]
    fn reads_channelattribution_layout() {
        let set = read(
            "path,total_conversions,total_conversion_value,total_null\n\"A > B\",1.5,10,2\nC,0,0,3\n",
        )
        .unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.channel_names(), ["A", "B", "C"]);
        assert_eq!(set.path(0), [0, 1]);
        assert_eq!(set.conversions(0), 1.5);
        assert_eq!(set.total_nulls(), 5.0);
    }

    #[test]
    fn optional_columns_and_order() {
        let set = read("total_conversions,path\n2,A>B\n").unwrap();
        assert_eq!(set.value(0), 0.0);
        assert_eq!(set.nulls(0), 0.0);
    }

    #[test]
    fn parallel_parse_matches_sequential() {
        let mut text = String::from("path,total_conversions,total_conversion_value,total_null\n");
        for i in 0..500 {
            let path = match i % 4 {
                0 => "A > B".to_owned(),
                1 => format!("\"C{} > A\"", i % 7),
                2 => "B".to_owned(),
                _ => format!("D > C{} > B", i % 5),
            };
            text.push_str(&format!("{path},{},{},{}\n", i % 2, i, (i + 1) % 2));
        }
        let seq = read(&text).unwrap();
        for threads in [1, 2, 3, 7] {
            let par =
                PathSet::parse_csv(text.as_bytes(), ">", "t.csv", threads, false, &|_| {}).unwrap();
            assert_eq!(par.channel_names(), seq.channel_names());
            assert_eq!(par.touches, seq.touches);
            assert_eq!(par.offsets, seq.offsets);
            assert_eq!(par.values, seq.values);
        }
        // Errors keep their line numbers in every piece.
        let bad = text.replace("D > C0 > B,1,495,0", "D > C0 > B,1,oops,0");
        let err = PathSet::parse_csv(bad.as_bytes(), ">", "t.csv", 3, false, &|_| {}).unwrap_err();
        let want = read(&bad).unwrap_err().to_string();
        assert_eq!(err.to_string(), want);
        assert!(want.starts_with("t.csv:497:3:"), "{want}");
    }

    #[test]
    fn aggregation_merges_identical_paths() {
        let text = "path,total_conversions,total_conversion_value,total_null\nA>B,1,5,0\nC,0,0,1\nA>B,0.5,2,3\n";
        let agg = PathSet::read_csv_aggregated(text.as_bytes(), ">", "t", |_| {}).unwrap();
        assert_eq!(agg.len(), 2);
        assert_eq!(
            (agg.conversions(0), agg.value(0), agg.nulls(0)),
            (1.5, 7.0, 3.0)
        );
        let par = PathSet::parse_csv(text.as_bytes(), ">", "t", 2, true, &|_| {}).unwrap();
        assert_eq!(par.total_conversions(), 1.5);
        assert_eq!(par.total_nulls(), 4.0);
    }

    #[test]
    fn errors_name_file_row_column() {
        let err = read("path,total_conversions\nA>B,1\nA,abc\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:3:2: total_conversions: `abc` is not a number"
        );
        let err = read("path,total_conversions\nA>>B,1\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.csv:2:1: path: empty channel name at touch 2")
        );
        let err = read("path,total_conversions\n,1\n").unwrap_err();
        assert!(err.to_string().contains("empty path"), "{err}");
        let err = read("path,total_conversions\nA,-1\n").unwrap_err();
        assert!(err.to_string().contains("≥ 0"), "{err}");
        let err = read("path,conv\nA,1\n").unwrap_err();
        assert!(err.to_string().contains("total_conversions"), "{err}");
    }
}
