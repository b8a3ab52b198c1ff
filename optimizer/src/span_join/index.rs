//! The build side of a span join: rows grouped by their equi-join key, and within each
//! group an interval index over their spans.
//!
//! The index is Heng Li's implicit augmented interval tree (cgranges / `iitree`): the
//! group's spans sorted by start in one array, each node of the implicit binary tree
//! carrying the largest end below it. A query visits O(log n + k) nodes and reports the
//! candidates in start order, so the join's output order is deterministic. Queries are
//! *closed* (`start <= query_end AND query_start <= end`): the caller turns its predicate
//! into such bounds and checks each candidate. A [`Cursor`] carries one query's answer
//! to the next: queries that come in document order (neither bound decreasing) sweep the
//! spans sorted by start instead of walking the tree.
//!
//! Rows whose span cannot go into the tree ([`RowSpan::Irregular`]: start after end, or a
//! bound outside `i64`) are kept per group and offered as candidates to every probe row
//! of their group; rows with a NULL bound or key never match and are not indexed.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{self, DataType};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{DataFusionError, NullEquality, Result};

/// A row's span as the index sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowSpan {
    /// Both bounds known, `start <= end`.
    Regular { start: i64, end: i64 },
    /// Start after end, or a bound outside `i64`: checked by the filter against every
    /// row of its group.
    Irregular,
    /// A NULL bound: the join filter is never true for this row.
    Never,
}

impl RowSpan {
    /// The spans of `starts[i]..ends[i]` (the same array for a point).
    pub fn of_columns(starts: &ArrayRef, ends: &ArrayRef) -> Result<Vec<RowSpan>> {
        // The usual case, two Int64 columns without NULLs, straight from the buffers.
        if let (Some(s), Some(e)) = (
            starts.as_primitive_opt::<datatypes::Int64Type>(),
            ends.as_primitive_opt::<datatypes::Int64Type>(),
        ) && s.null_count() == 0
            && e.null_count() == 0
        {
            return Ok(s
                .values()
                .iter()
                .zip(e.values().iter())
                .map(|(start, end)| {
                    if start <= end {
                        RowSpan::Regular {
                            start: *start,
                            end: *end,
                        }
                    } else {
                        RowSpan::Irregular
                    }
                })
                .collect());
        }
        let starts = bounds(starts)?;
        let ends = bounds(ends)?;
        Ok(starts
            .iter()
            .zip(&ends)
            .map(|(start, end)| match (start, end) {
                (Bound::Null, _) | (_, Bound::Null) => RowSpan::Never,
                (Bound::Value(start), Bound::Value(end)) if start <= end => RowSpan::Regular {
                    start: *start,
                    end: *end,
                },
                _ => RowSpan::Irregular,
            })
            .collect())
    }
}

#[derive(Debug, Clone, Copy)]
enum Bound {
    Value(i64),
    Null,
    /// Outside `i64` (a large `UInt64`).
    Wide,
}

/// Reads an integer column as `i64` bounds.
fn bounds(array: &ArrayRef) -> Result<Vec<Bound>> {
    fn collect<T: datatypes::ArrowPrimitiveType>(
        array: &ArrayRef,
        convert: impl Fn(T::Native) -> Bound,
    ) -> Vec<Bound> {
        array
            .as_primitive::<T>()
            .iter()
            .map(|value| value.map_or(Bound::Null, &convert))
            .collect()
    }
    Ok(match array.data_type() {
        DataType::Int8 => collect::<datatypes::Int8Type>(array, |v| Bound::Value(v.into())),
        DataType::Int16 => collect::<datatypes::Int16Type>(array, |v| Bound::Value(v.into())),
        DataType::Int32 => collect::<datatypes::Int32Type>(array, |v| Bound::Value(v.into())),
        DataType::Int64 => collect::<datatypes::Int64Type>(array, Bound::Value),
        DataType::UInt8 => collect::<datatypes::UInt8Type>(array, |v| Bound::Value(v.into())),
        DataType::UInt16 => collect::<datatypes::UInt16Type>(array, |v| Bound::Value(v.into())),
        DataType::UInt32 => collect::<datatypes::UInt32Type>(array, |v| Bound::Value(v.into())),
        DataType::UInt64 => collect::<datatypes::UInt64Type>(array, |v| {
            i64::try_from(v).map_or(Bound::Wide, Bound::Value)
        }),
        other => {
            return Err(DataFusionError::Plan(format!(
                "span join: a span bound must be an integer column, got {other}"
            )));
        }
    })
}

/// Refuses a build side the index cannot address (rows are numbered with `u32`).
pub fn check_build_rows(operator: &str, rows: usize) -> Result<()> {
    if rows > u32::MAX as usize {
        return Err(DataFusionError::ResourcesExhausted(format!(
            "{operator}: the build side has {rows} rows; at most {} fit one index \
             (partition the join so each build partition is smaller)",
            u32::MAX
        )));
    }
    Ok(())
}

/// How keys are read as bytes: a single string column directly (NULL keys match
/// nothing), anything else in Arrow's row format.
#[derive(Debug)]
enum KeyEncoding {
    /// No keys: every row is in group 0.
    None,
    Strings,
    Rows(RowConverter),
}

/// Maps each row's equi-join key to a group number. Rows of one key usually come
/// together (a file's spans), so the previous row's key is checked before hashing.
#[derive(Debug)]
pub struct KeyGroups {
    encoding: KeyEncoding,
    null_equality: NullEquality,
    groups: HashMap<Box<[u8]>, u32>,
}

impl KeyGroups {
    /// Groups for keys of `types` (none: every row is in group 0).
    pub fn new(types: &[DataType], null_equality: NullEquality) -> Result<Self> {
        let encoding = match types {
            [] => KeyEncoding::None,
            [DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View]
                if null_equality == NullEquality::NullEqualsNothing =>
            {
                KeyEncoding::Strings
            }
            _ => KeyEncoding::Rows(RowConverter::new(
                types.iter().map(|t| SortField::new(t.clone())).collect(),
            )?),
        };
        Ok(Self {
            encoding,
            null_equality,
            groups: HashMap::new(),
        })
    }

    pub fn len(&self) -> usize {
        match self.encoding {
            KeyEncoding::None => 1,
            _ => self.groups.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The group of every row of `keys`, adding groups for new keys; `None` for a row
    /// that can match nothing (a NULL key part when NULLs are not equal).
    pub fn assign(&mut self, keys: &[ArrayRef], rows: usize) -> Result<Vec<Option<u32>>> {
        let groups = &mut self.groups;
        let mut out = Vec::with_capacity(rows);
        let mut last: Option<(Vec<u8>, u32)> = None;
        for_each_key(&self.encoding, self.null_equality, keys, rows, |key| {
            let group = key.map(|key| match &last {
                Some((last_key, group)) if last_key.as_slice() == key => *group,
                _ => {
                    let next = groups.len() as u32;
                    let group = *groups.entry(key.into()).or_insert(next);
                    last = Some((key.to_vec(), group));
                    group
                }
            });
            out.push(group);
        })?;
        Ok(out)
    }

    /// The group of every row of `keys`, `None` where the key is unknown or can match
    /// nothing.
    pub fn lookup(&self, keys: &[ArrayRef], rows: usize) -> Result<Vec<Option<u32>>> {
        let mut out = Vec::with_capacity(rows);
        let mut last: Option<(Vec<u8>, Option<u32>)> = None;
        for_each_key(&self.encoding, self.null_equality, keys, rows, |key| {
            let group = key.and_then(|key| match &last {
                Some((last_key, group)) if last_key.as_slice() == key => *group,
                _ => {
                    let group = self.groups.get(key).copied();
                    last = Some((key.to_vec(), group));
                    group
                }
            });
            out.push(group);
        })?;
        Ok(out)
    }
}

/// Calls `each` with every row's key bytes, `None` for a key that matches nothing.
fn for_each_key(
    encoding: &KeyEncoding,
    null_equality: NullEquality,
    keys: &[ArrayRef],
    rows: usize,
    mut each: impl FnMut(Option<&[u8]>),
) -> Result<()> {
    match encoding {
        KeyEncoding::None => {
            for _ in 0..rows {
                each(Some(&[]));
            }
        }
        KeyEncoding::Strings => {
            let Some(key) = keys.first() else {
                return Err(DataFusionError::Internal("span join: no key column".into()));
            };
            match key.data_type() {
                DataType::Utf8 => key
                    .as_string::<i32>()
                    .iter()
                    .for_each(|v| each(v.map(str::as_bytes))),
                DataType::LargeUtf8 => key
                    .as_string::<i64>()
                    .iter()
                    .for_each(|v| each(v.map(str::as_bytes))),
                DataType::Utf8View => key
                    .as_string_view()
                    .iter()
                    .for_each(|v| each(v.map(str::as_bytes))),
                other => {
                    return Err(DataFusionError::Internal(format!(
                        "span join: string key expected, got {other}"
                    )));
                }
            }
        }
        KeyEncoding::Rows(converter) => {
            let converted = converter.convert_columns(keys)?;
            let nulls: Vec<_> = if null_equality == NullEquality::NullEqualsNothing {
                keys.iter().filter_map(|k| k.logical_nulls()).collect()
            } else {
                vec![]
            };
            for row in 0..rows {
                if nulls.iter().any(|n| n.is_null(row)) {
                    each(None);
                } else {
                    each(Some(converted.row(row).as_ref()));
                }
            }
        }
    }
    Ok(())
}

/// The spans of one group: a slice of the index's arrays and the group's irregular rows.
#[derive(Debug, Default, Clone)]
struct Group {
    offset: usize,
    len: usize,
    /// The level of the implicit tree's root; -1 for an empty group.
    root_level: i32,
    irregular: Vec<u32>,
}

/// Sorts `(start, end, row)` entries by start, equal starts in their current order: as
/// one primitive sort of `start, position` keys (faster than sorting the entries).
fn sort_by_start(entries: &mut [(i64, i64, u32)]) {
    let mut keys: Vec<u128> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| ((((e.0 as u64) ^ (1 << 63)) as u128) << 64) | i as u128)
        .collect();
    keys.sort_unstable();
    let original = entries.to_vec();
    for (entry, key) in entries.iter_mut().zip(&keys) {
        if let Some(e) = original.get((*key as u64) as usize) {
            *entry = *e;
        }
    }
}

/// A query's answer: `positions` index `starts`, `ends` and `rows` (the group's
/// indexed spans, in start order); `irregular` are the group's other rows.
#[derive(Debug, Default)]
pub struct Answer<'a> {
    pub positions: &'a [usize],
    pub starts: &'a [i64],
    pub ends: &'a [i64],
    pub rows: &'a [u32],
    pub irregular: &'a [u32],
}

/// The answer of the last query, for [`SpanIndex::answer`].
#[derive(Debug, Default)]
pub struct Cursor {
    group: Option<u32>,
    start: i64,
    end: i64,
    /// Positions (within the group) of the spans of the answer, in start order.
    active: Vec<usize>,
    /// The first position whose span starts after `end`.
    next: usize,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct SpanIndex {
    starts: Vec<i64>,
    ends: Vec<i64>,
    /// The largest end in the implicit subtree rooted at each position.
    max_ends: Vec<i64>,
    /// The build row of each position.
    rows: Vec<u32>,
    groups: Vec<Group>,
}

impl SpanIndex {
    /// Indexes the rows with a group and a regular span; `groups` is the number of groups.
    pub fn build(row_groups: &[Option<u32>], spans: &[RowSpan], groups: usize) -> Self {
        let mut group_list = vec![Group::default(); groups];
        // Bucket the regular rows by group (counting sort), then sort each group by start.
        for (group, span) in row_groups.iter().zip(spans) {
            let Some(g) = group.and_then(|g| group_list.get_mut(g as usize)) else {
                continue;
            };
            if let RowSpan::Regular { .. } = span {
                g.len += 1;
            }
        }
        let mut total = 0;
        for g in &mut group_list {
            g.offset = total;
            total += g.len;
        }
        let mut fill: Vec<usize> = group_list.iter().map(|g| g.offset).collect();
        let mut entries: Vec<(i64, i64, u32)> = vec![(0, 0, 0); total];
        for (row, (group, span)) in row_groups.iter().zip(spans).enumerate() {
            let Some(group) = group else { continue };
            match span {
                RowSpan::Regular { start, end } => {
                    if let Some(at) = fill.get_mut(*group as usize)
                        && let Some(entry) = entries.get_mut(*at)
                    {
                        *entry = (*start, *end, row as u32);
                        *at += 1;
                    }
                }
                RowSpan::Irregular => {
                    if let Some(g) = group_list.get_mut(*group as usize) {
                        g.irregular.push(row as u32);
                    }
                }
                RowSpan::Never => {}
            }
        }
        for g in &group_list {
            let slice = &mut entries[g.offset..g.offset + g.len];
            // Extracted spans usually come in document order: nothing to sort.
            if !slice.is_sorted_by_key(|e| e.0) {
                sort_by_start(slice);
            }
        }
        let mut index = Self {
            starts: entries.iter().map(|e| e.0).collect(),
            ends: entries.iter().map(|e| e.1).collect(),
            max_ends: entries.iter().map(|e| e.1).collect(),
            rows: entries.iter().map(|e| e.2).collect(),
            groups: vec![],
        };
        for g in &mut group_list {
            g.root_level = if g.len == 0 {
                -1
            } else {
                index.augment(g.offset, g.len)
            };
        }
        index.groups = group_list;
        index
    }

    /// Computes `max_ends` for the implicit tree over `offset..offset + n`; returns the
    /// root's level (cgranges `cr_index1`).
    fn augment(&mut self, offset: usize, n: usize) -> i32 {
        let ends = &self.ends[offset..offset + n];
        let max = &mut self.max_ends[offset..offset + n];
        let mut last_i = 0usize;
        let mut last = i64::MIN;
        for i in (0..n).step_by(2) {
            last_i = i;
            max[i] = ends[i];
            last = ends[i];
        }
        let mut k = 1u32;
        while (1usize << k) <= n {
            let x = 1usize << (k - 1);
            let i0 = (x << 1) - 1;
            let step = x << 2;
            let mut i = i0;
            while i < n {
                let left = max[i - x];
                let right = if i + x < n { max[i + x] } else { last };
                max[i] = ends[i].max(left).max(right);
                i += step;
            }
            last_i = if (last_i >> k) & 1 == 1 {
                last_i - x
            } else {
                last_i + x
            };
            if last_i < n && max[last_i] > last {
                last = max[last_i];
            }
            k += 1;
        }
        k as i32 - 1
    }

    /// The indexed spans of `group` whose closed span overlaps the closed span
    /// `start..=end`, in start order, and the group's irregular rows. The previous
    /// query's answer in `cursor` is reused when this query continues it (same group,
    /// neither bound smaller): a sweep over the spans sorted by start, so probe rows in
    /// document order cost O(1 + answer) each; other queries walk the tree.
    #[inline]
    pub fn answer<'a>(
        &'a self,
        cursor: &'a mut Cursor,
        group: u32,
        start: i64,
        end: i64,
    ) -> Answer<'a> {
        let Some(g) = self.groups.get(group as usize) else {
            return Answer::default();
        };
        let range = g.offset..g.offset + g.len;
        let (starts, ends, rows) = (
            &self.starts[range.clone()],
            &self.ends[range.clone()],
            &self.rows[range],
        );
        let continues = cursor.group == Some(group) && start >= cursor.start && end >= cursor.end;
        if continues {
            // Spans whose end is before `start` never match again: later queries start
            // no earlier. Spans starting up to `end` join.
            cursor.active.retain(|i| ends[*i] >= start);
            while cursor.next < g.len && starts[cursor.next] <= end {
                if ends[cursor.next] >= start {
                    cursor.active.push(cursor.next);
                }
                cursor.next += 1;
            }
        } else {
            cursor.active.clear();
            self.query(g, start, end, |i| cursor.active.push(i));
            cursor.next = starts.partition_point(|s| *s <= end);
            cursor.group = Some(group);
        }
        cursor.start = start;
        cursor.end = end;
        Answer {
            positions: &cursor.active,
            starts,
            ends,
            rows,
            irregular: &g.irregular,
        }
    }

    /// The positions (within the group) of the spans whose closed span overlaps
    /// `start..=end`, in start order: the implicit tree's query (cgranges
    /// `cr_overlap`).
    fn query(&self, g: &Group, start: i64, end: i64, mut found: impl FnMut(usize)) {
        if g.root_level < 0 {
            return;
        }
        let starts = &self.starts[g.offset..g.offset + g.len];
        let ends = &self.ends[g.offset..g.offset + g.len];
        let max = &self.max_ends[g.offset..g.offset + g.len];
        let n = g.len;
        // (node, level, left child done); the tree has at most 64 levels and the
        // stack holds at most two entries per level.
        let mut stack = [(0usize, 0u32, false); 130];
        let mut top = 0;
        let root = g.root_level as u32;
        stack[0] = ((1usize << root) - 1, root, false);
        top += 1;
        while top > 0 {
            top -= 1;
            let (x, k, left_done) = stack[top];
            if k <= 3 {
                let i0 = (x >> k) << k;
                let i1 = (i0 + (1usize << (k + 1)) - 1).min(n);
                for i in i0..i1 {
                    if starts[i] > end {
                        break;
                    }
                    if start <= ends[i] {
                        found(i);
                    }
                }
            } else if !left_done {
                let y = x - (1usize << (k - 1));
                stack[top] = (x, k, true);
                top += 1;
                if y >= n || max[y] >= start {
                    stack[top] = (y, k - 1, false);
                    top += 1;
                }
            } else if x < n && starts[x] <= end {
                if start <= ends[x] {
                    found(x);
                }
                stack[top] = (x + (1usize << (k - 1)), k - 1, false);
                top += 1;
            }
        }
    }

    /// Calls `found` with each irregular row of `group`.
    pub fn irregular_rows(&self, group: u32, mut found: impl FnMut(u32)) {
        if let Some(g) = self.groups.get(group as usize) {
            g.irregular.iter().for_each(|row| found(*row));
        }
    }

    /// Calls `found` with every build row of `group`, indexed or irregular.
    pub fn all_rows(&self, group: u32, mut found: impl FnMut(u32)) {
        let Some(g) = self.groups.get(group as usize) else {
            return;
        };
        for row in &self.rows[g.offset..g.offset + g.len] {
            found(*row);
        }
        for row in &g.irregular {
            found(*row);
        }
    }

    /// Bytes held by the index.
    pub fn memory_size(&self) -> usize {
        self.starts.capacity() * 8
            + self.ends.capacity() * 8
            + self.max_ends.capacity() * 8
            + self.rows.capacity() * 4
            + self
                .groups
                .iter()
                .map(|g| std::mem::size_of::<Group>() + g.irregular.capacity() * 4)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_side_beyond_u32_rows_is_refused() {
        assert!(check_build_rows("SpanJoinExec", u32::MAX as usize).is_ok());
        let error = check_build_rows("SpanJoinExec", u32::MAX as usize + 1)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("SpanJoinExec: the build side has 4294967296 rows"),
            "{error}"
        );
    }

    #[test]
    fn sorting_by_start_keeps_equal_starts_in_order() {
        let mut entries = vec![
            (5, 9, 0),
            (-3, 1, 1),
            (5, 6, 2),
            (i64::MIN, 0, 3),
            (i64::MAX, i64::MAX, 4),
            (-3, 0, 5),
        ];
        sort_by_start(&mut entries);
        let rows: Vec<u32> = entries.iter().map(|e| e.2).collect();
        assert_eq!(rows, [3, 1, 5, 0, 2, 4]);
    }

    /// The rows of group 0's answer to `start..=end`, in answer order.
    fn rows(index: &SpanIndex, cursor: &mut Cursor, start: i64, end: i64) -> Vec<u32> {
        let answer = index.answer(cursor, 0, start, end);
        answer.positions.iter().map(|i| answer.rows[*i]).collect()
    }

    /// The index reports exactly the closed overlaps a scan finds, for random spans.
    #[test]
    fn candidates_are_the_closed_overlaps() {
        let mut seed = 7u64;
        let mut next = |modulo: i64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as i64).rem_euclid(modulo)
        };
        for n in [0usize, 1, 2, 3, 7, 16, 17, 100, 1000] {
            let spans: Vec<RowSpan> = (0..n)
                .map(|_| {
                    let start = next(500);
                    let len = if next(5) == 0 { 0 } else { next(60) };
                    RowSpan::Regular {
                        start,
                        end: start + len,
                    }
                })
                .collect();
            let groups: Vec<Option<u32>> = (0..n).map(|_| Some(0)).collect();
            let index = SpanIndex::build(&groups, &spans, 1);
            for _ in 0..200 {
                let start = next(560) - 30;
                let end = start + next(40);
                let mut got = rows(&index, &mut Cursor::default(), start, end);
                got.sort_unstable();
                let want: Vec<u32> = spans
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| match s {
                        RowSpan::Regular { start: s, end: e } => *s <= end && start <= *e,
                        _ => false,
                    })
                    .map(|(i, _)| i as u32)
                    .collect();
                assert_eq!(got, want, "n={n} query {start}..={end}");
                // Queries in ascending order through one cursor (the sweep) and
                // out of order (the tree) give the same answers.
                let mut cursor = Cursor::default();
                for (s, e) in [
                    (start, end),
                    (start, end + 3),
                    (start + 2, end + 3),
                    (start - 5, end),
                ] {
                    let swept = rows(&index, &mut cursor, s, e);
                    let fresh = rows(&index, &mut Cursor::default(), s, e);
                    assert_eq!(swept, fresh, "n={n} query {s}..={e} after {start}..={end}");
                }
            }
        }
    }
}
