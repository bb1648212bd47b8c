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
    /// with the number of bytes consumed after each block. Reads on the calling thread only.
    pub fn read_csv<R: std::io::Read>(
        reader: R,
        sep: &str,
        origin: &str,
        mut progress: impl FnMut(u64),
    ) -> Result<Self, Error> {
        let options = ReadOptions {
            sep,
            threads: 1,
            aggregate: false,
        };
        crate::pathfile::read(reader, &options, origin, &mut progress)
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
        let options = ReadOptions {
            sep,
            threads: 1,
            aggregate: true,
        };
        crate::pathfile::read(reader, &options, origin, &mut progress)
    }

    /// Reads a paths table with explicit [`ReadOptions`] (separator, threads, merging). With
    /// more than one thread, each block of the file is cut at record ends into one piece per
    /// thread and the pieces are parsed in parallel while the next block is read; the pieces are
    /// joined in file order, so ids, row order and error positions are the same as with one
    /// thread. With `aggregate`, identical paths are merged within each piece.
    pub fn read_csv_with<R: std::io::Read>(
        reader: R,
        options: &ReadOptions<'_>,
        origin: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Self, Error> {
        crate::pathfile::read(reader, options, origin, progress)
    }

    /// Like [`PathSet::read_csv_with`] over a table already in memory.
    pub fn parse_csv(
        bytes: &[u8],
        sep: &str,
        origin: &str,
        threads: usize,
        aggregate: bool,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Self, Error> {
        let options = ReadOptions {
            sep,
            threads,
            aggregate,
        };
        crate::pathfile::read(bytes, &options, origin, &mut |b| progress(b))
    }

    /// Appends the rows of another plain table (no ages, campaigns or leads), remapping its
    /// channel ids to this table's.
    pub(crate) fn append(&mut self, other: PathSet) {
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

    /// Appends one parsed row of interned channel ids (the paths-file reader's fast path).
    pub(crate) fn push_row(&mut self, ids: &[u32], conversions: f64, value: f64, nulls: f64) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.touches.extend_from_slice(ids);
        self.offsets.push(self.touches.len());
        self.conversions.push(conversions);
        self.values.push(value);
        self.nulls.push(nulls);
    }

    /// Adds conversions, value and nulls to an existing row (merging identical paths).
    pub(crate) fn add_to_row(&mut self, row: usize, conversions: f64, value: f64, nulls: f64) {
        self.conversions[row] += conversions;
        self.values[row] += value;
        self.nulls[row] += nulls;
    }
}

/// How to read a paths file.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions<'a> {
    /// Separator between channels inside `path` (channel names are trimmed).
    pub sep: &'a str,
    /// Parsing threads (1 = everything on the calling thread).
    pub threads: usize,
    /// Merge rows with byte-identical paths (within each parsed piece).
    pub aggregate: bool,
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
