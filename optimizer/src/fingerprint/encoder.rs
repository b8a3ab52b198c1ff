//! The canonical byte encoding fingerprints hash: tagged, length-prefixed, little-endian,
//! fixed width (no `usize`), maps sorted. Nothing here uses `Hash`, `Debug` of a
//! DataFusion type, `TypeId` or a randomly seeded map, so the bytes are the same in every
//! process and on every machine.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use datafusion::common::ScalarValue;
use xxhash_rust::xxh3::xxh3_128;

/// A 128-bit XXH3 digest, shown as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(pub u128);

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Collects canonical bytes; [`Encoder::finish`] hashes them with XXH3-128 (one call
/// over a buffer is much faster than many small streaming updates).
#[derive(Default)]
pub struct Encoder {
    out: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Self {
        Self {
            out: Vec::with_capacity(4096),
        }
    }

    pub fn finish(&self) -> Digest {
        Digest(xxh3_128(&self.out))
    }

    pub fn u64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// A count or index (`usize` is written as 8 bytes on every platform).
    pub fn len(&mut self, value: usize) {
        self.u64(value as u64);
    }

    pub fn bool(&mut self, value: bool) {
        self.out.push(u8::from(value));
    }

    pub fn bytes(&mut self, value: &[u8]) {
        self.len(value.len());
        self.out.extend_from_slice(value);
    }

    pub fn str(&mut self, value: &str) {
        self.bytes(value.as_bytes());
    }

    /// `value` as it displays, written as [`Encoder::str`] would write its text, without
    /// allocating the text.
    pub fn display(&mut self, value: impl std::fmt::Display) {
        struct Appender<'a>(&'a mut Vec<u8>);
        impl std::fmt::Write for Appender<'_> {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0.extend_from_slice(s.as_bytes());
                Ok(())
            }
        }
        let at = self.out.len();
        self.out.extend_from_slice(&[0; 8]);
        // Writing into a Vec cannot fail; a Display that errs leaves what it wrote.
        let _ = std::fmt::write(&mut Appender(&mut self.out), format_args!("{value}"));
        let len = (self.out.len() - at - 8) as u64;
        self.out[at..at + 8].copy_from_slice(&len.to_le_bytes());
    }

    /// A node or variant tag.
    pub fn tag(&mut self, tag: &str) {
        self.str(tag);
    }

    pub fn opt_u64(&mut self, value: Option<u64>) {
        match value {
            Some(v) => {
                self.bool(true);
                self.u64(v);
            }
            None => self.bool(false),
        }
    }

    /// String pairs, sorted by key (metadata, options).
    pub fn map<'a>(&mut self, entries: impl IntoIterator<Item = (&'a String, &'a String)>) {
        let mut entries = entries.into_iter().peekable();
        if entries.peek().is_none() {
            self.len(0);
            return;
        }
        let sorted: BTreeMap<&String, &String> = entries.collect();
        self.len(sorted.len());
        for (key, value) in sorted {
            self.str(key);
            self.str(value);
        }
    }

    pub fn field(&mut self, field: &Field) {
        self.str(field.name());
        self.data_type(field.data_type());
        self.bool(field.is_nullable());
        self.map(field.metadata());
    }

    pub fn data_type(&mut self, data_type: &DataType) {
        use DataType::*;
        match data_type {
            Null => self.tag("null"),
            Boolean => self.tag("bool"),
            Int8 => self.tag("i8"),
            Int16 => self.tag("i16"),
            Int32 => self.tag("i32"),
            Int64 => self.tag("i64"),
            UInt8 => self.tag("u8"),
            UInt16 => self.tag("u16"),
            UInt32 => self.tag("u32"),
            UInt64 => self.tag("u64"),
            Float16 => self.tag("f16"),
            Float32 => self.tag("f32"),
            Float64 => self.tag("f64"),
            Utf8 => self.tag("utf8"),
            LargeUtf8 => self.tag("large_utf8"),
            Utf8View => self.tag("utf8_view"),
            Binary => self.tag("binary"),
            LargeBinary => self.tag("large_binary"),
            BinaryView => self.tag("binary_view"),
            FixedSizeBinary(n) => {
                self.tag("fixed_size_binary");
                self.u64(*n as u64);
            }
            Date32 => self.tag("date32"),
            Date64 => self.tag("date64"),
            Time32(unit) => {
                self.tag("time32");
                self.time_unit(*unit);
            }
            Time64(unit) => {
                self.tag("time64");
                self.time_unit(*unit);
            }
            Timestamp(unit, zone) => {
                self.tag("timestamp");
                self.time_unit(*unit);
                match zone {
                    Some(zone) => {
                        self.bool(true);
                        self.str(zone);
                    }
                    None => self.bool(false),
                }
            }
            Duration(unit) => {
                self.tag("duration");
                self.time_unit(*unit);
            }
            Interval(unit) => {
                self.tag("interval");
                self.tag(match unit {
                    IntervalUnit::YearMonth => "year_month",
                    IntervalUnit::DayTime => "day_time",
                    IntervalUnit::MonthDayNano => "month_day_nano",
                });
            }
            Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s) => {
                self.tag(match data_type {
                    Decimal32(..) => "decimal32",
                    Decimal64(..) => "decimal64",
                    Decimal128(..) => "decimal128",
                    _ => "decimal256",
                });
                self.u64(u64::from(*p));
                self.u64(*s as u64);
            }
            List(field) | LargeList(field) | ListView(field) | LargeListView(field) => {
                self.tag(match data_type {
                    List(_) => "list",
                    LargeList(_) => "large_list",
                    ListView(_) => "list_view",
                    _ => "large_list_view",
                });
                self.field(field);
            }
            FixedSizeList(field, n) => {
                self.tag("fixed_size_list");
                self.u64(*n as u64);
                self.field(field);
            }
            Struct(fields) => {
                self.tag("struct");
                self.len(fields.len());
                for field in fields.iter() {
                    self.field(field);
                }
            }
            Map(field, sorted) => {
                self.tag("map");
                self.bool(*sorted);
                self.field(field);
            }
            Dictionary(key, value) => {
                self.tag("dictionary");
                self.data_type(key);
                self.data_type(value);
            }
            RunEndEncoded(run_ends, values) => {
                self.tag("run_end_encoded");
                self.field(run_ends);
                self.field(values);
            }
            Union(fields, mode) => {
                self.tag("union");
                self.tag(&format!("{mode:?}"));
                self.len(fields.len());
                for (type_id, field) in fields.iter() {
                    self.u64(type_id as u64);
                    self.field(field);
                }
            }
        }
    }

    fn time_unit(&mut self, unit: TimeUnit) {
        self.tag(match unit {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
            TimeUnit::Nanosecond => "ns",
        });
    }

    /// A literal: its type, whether it is null, and its value as Arrow displays it (exact
    /// for every type: shortest round-trip floats, full decimals, ISO timestamps).
    pub fn scalar(&mut self, value: &ScalarValue) {
        self.data_type(&value.data_type());
        if value.is_null() {
            self.bool(false);
        } else {
            self.bool(true);
            self.display(value);
        }
    }
}

/// Two encodings written in one walk: `exact` and `shape` receive the same bytes except
/// where the walk writes to one of them alone (literals, IN lists).
#[derive(Default)]
pub struct Both {
    pub exact: Encoder,
    pub shape: Encoder,
}

macro_rules! to_both {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        impl Both {
            $(pub fn $name(&mut self, $($arg: $ty),*) {
                self.exact.$name($($arg),*);
                self.shape.$name($($arg),*);
            })*
        }
    };
}

to_both! {
    u64(value: u64);
    len(value: usize);
    bool(value: bool);
    str(value: &str);
    tag(tag: &str);
    opt_u64(value: Option<u64>);
    field(field: &Field);
    data_type(data_type: &DataType);
}

impl Both {
    /// As [`Encoder::display`], formatting `value` once.
    pub fn display(&mut self, value: impl std::fmt::Display) {
        let at = self.exact.out.len();
        self.exact.display(value);
        self.shape.out.extend_from_slice(&self.exact.out[at..]);
    }

    pub fn map<'a>(&mut self, entries: impl IntoIterator<Item = (&'a String, &'a String)> + Clone) {
        self.exact.map(entries.clone());
        self.shape.map(entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(f: impl FnOnce(&mut Encoder)) -> Digest {
        let mut encoder = Encoder::new();
        f(&mut encoder);
        encoder.finish()
    }

    #[test]
    fn length_prefixes_keep_neighbouring_strings_apart() {
        let ab_c = digest(|e| {
            e.str("ab");
            e.str("c");
        });
        let a_bc = digest(|e| {
            e.str("a");
            e.str("bc");
        });
        assert_ne!(ab_c, a_bc);
    }

    #[test]
    fn literals_differ_by_type_and_null() {
        let int = digest(|e| e.scalar(&ScalarValue::Int32(Some(1))));
        let big = digest(|e| e.scalar(&ScalarValue::Int64(Some(1))));
        let text = digest(|e| e.scalar(&ScalarValue::Utf8(Some("1".into()))));
        let null_text = digest(|e| e.scalar(&ScalarValue::Utf8(None)));
        let null_word = digest(|e| e.scalar(&ScalarValue::Utf8(Some("NULL".into()))));
        let all = [int, big, text, null_text, null_word];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn the_digest_of_fixed_bytes_is_fixed() {
        // XXH3-128 of the encoding of the string "cpg": pinned so that a change of the
        // hash or the encoding shows up here first.
        let d = digest(|e| e.str("cpg"));
        assert_eq!(d.to_string().len(), 32);
        assert_eq!(
            d,
            Digest(xxh3_128(&[3, 0, 0, 0, 0, 0, 0, 0, b'c', b'p', b'g']))
        );
    }
}
