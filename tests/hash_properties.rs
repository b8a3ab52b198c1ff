//! Properties of the stable hash functions: the same logical value hashes the same
//! whatever its physical Arrow type (string types, dictionaries, integer widths,
//! float widths, decimal scales, time units), sliced and scalar inputs agree with plain
//! arrays, different kinds differ, NULL has its own tag, and a million distinct
//! `(path, start, end)` keys do not collide.

mod common;

use std::sync::Arc;

use common::{count, ctx, register_batches, scalar};
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, DurationSecondArray,
    FixedSizeBinaryArray, Float32Array, Int64Array, RecordBatch, StringArray, Time32SecondArray,
    TimestampSecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROWS: usize = 3000;

/// `Some(x)` in valid rows, `None` in the others.
fn pick<T>(valid: bool, x: T) -> Option<T> {
    if valid { Some(x) } else { None }
}

fn dict(key: DataType, value: DataType) -> DataType {
    DataType::Dictionary(Box::new(key), Box::new(value))
}

/// Random base columns (NULLs in the same rows everywhere) and their re-typed copies.
fn equivalence_batch() -> RecordBatch {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let valid: Vec<bool> = (0..ROWS).map(|_| rng.random_range(0..10) != 0).collect();

    let alphabet: Vec<char> = "abcxyz/._-0189 éüß漢字🦀".chars().collect();
    let strings: StringArray = valid
        .iter()
        .map(|&v| {
            let len = rng.random_range(0..48);
            let s: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            pick(v, s)
        })
        .collect();
    let small: Int64Array = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(0..=127i64)))
        .collect();
    let signed: Int64Array = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-128..=127i64)))
        .collect();
    let specials = [0.0f32, -0.0, f32::NAN, -f32::NAN, f32::INFINITY, 1.5, -2.25];
    let floats: Float32Array = valid
        .iter()
        .map(|&v| {
            let x = if rng.random_range(0..4) == 0 {
                specials[rng.random_range(0..specials.len())]
            } else {
                rng.random::<f32>() * 1e6 - 5e5
            };
            pick(v, x)
        })
        .collect();
    let halves: Float32Array = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-512..512) as f32 / 2.0))
        .collect();
    let decimals = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-1_000_000i128..1_000_000)))
        .collect::<Decimal128Array>()
        .with_precision_and_scale(10, 1)
        .unwrap();
    let seconds: Vec<Option<i64>> = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-2_000_000_000i64..4_000_000_000)))
        .collect();
    let timestamps = TimestampSecondArray::from(seconds.clone());
    let zoned = TimestampSecondArray::from(seconds.clone()).with_timezone("+02:00");
    let days: Date32Array = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-100_000..100_000)))
        .collect();
    let times: Time32SecondArray = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(0..86_400)))
        .collect();
    let durations = DurationSecondArray::from(seconds);
    let fixed = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        valid
            .iter()
            .map(|&v| pick(v, rng.random::<[u8; 4]>()))
            .collect::<Vec<_>>()
            .into_iter(),
        4,
    )
    .unwrap();
    let bools: BooleanArray = valid
        .iter()
        .map(|&v| pick(v, rng.random::<bool>()))
        .collect();
    let id: Int64Array = (0..ROWS as i64).map(Some).collect();

    let strings: ArrayRef = Arc::new(strings);
    let small: ArrayRef = Arc::new(small);
    let signed: ArrayRef = Arc::new(signed);
    let floats: ArrayRef = Arc::new(floats);
    let halves: ArrayRef = Arc::new(halves);
    let decimals: ArrayRef = Arc::new(decimals);
    let timestamps: ArrayRef = Arc::new(timestamps);
    let days: ArrayRef = Arc::new(days);
    let times: ArrayRef = Arc::new(times);
    let durations: ArrayRef = Arc::new(durations);
    let fixed: ArrayRef = Arc::new(fixed);
    let to = |a: &ArrayRef, t: DataType| cast(a, &t).unwrap();
    let binary = to(&strings, DataType::Binary);
    let fixed_as_binary = to(&fixed, DataType::Binary);

    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(id)),
        ("s_utf8", strings.clone()),
        ("s_large", to(&strings, DataType::LargeUtf8)),
        ("s_view", to(&strings, DataType::Utf8View)),
        (
            "s_dict",
            to(&strings, dict(DataType::Int32, DataType::Utf8)),
        ),
        (
            "s_dict_large",
            to(&strings, dict(DataType::UInt16, DataType::LargeUtf8)),
        ),
        (
            "s_dict_view",
            to(&strings, dict(DataType::Int64, DataType::Utf8View)),
        ),
        ("i64", small.clone()),
        ("i8", to(&small, DataType::Int8)),
        ("i16", to(&small, DataType::Int16)),
        ("i32", to(&small, DataType::Int32)),
        ("u8", to(&small, DataType::UInt8)),
        ("u16", to(&small, DataType::UInt16)),
        ("u32", to(&small, DataType::UInt32)),
        ("u64", to(&small, DataType::UInt64)),
        ("i_dict", to(&small, dict(DataType::Int8, DataType::UInt32))),
        ("n64", signed.clone()),
        ("n8", to(&signed, DataType::Int8)),
        ("n16", to(&signed, DataType::Int16)),
        ("n32", to(&signed, DataType::Int32)),
        ("f32", floats.clone()),
        ("f64", to(&floats, DataType::Float64)),
        ("h16", to(&halves, DataType::Float16)),
        ("h64", to(&halves, DataType::Float64)),
        ("d10_1", decimals.clone()),
        ("d20_4", to(&decimals, DataType::Decimal128(20, 4))),
        ("d40_2", to(&decimals, DataType::Decimal256(40, 2))),
        ("d18_1", to(&decimals, DataType::Decimal64(18, 1))),
        ("ts_s", timestamps.clone()),
        (
            "ts_ms",
            to(
                &timestamps,
                DataType::Timestamp(TimeUnit::Millisecond, None),
            ),
        ),
        (
            "ts_ns",
            to(&timestamps, DataType::Timestamp(TimeUnit::Nanosecond, None)),
        ),
        ("ts_tz", Arc::new(zoned)),
        ("date32", days.clone()),
        ("date64", to(&days, DataType::Date64)),
        ("time_s", times.clone()),
        (
            "time_us",
            to(&times, DataType::Time64(TimeUnit::Microsecond)),
        ),
        ("dur_s", durations.clone()),
        (
            "dur_ns",
            to(&durations, DataType::Duration(TimeUnit::Nanosecond)),
        ),
        ("bin", binary.clone()),
        ("bin_large", to(&binary, DataType::LargeBinary)),
        ("bin_view", to(&binary, DataType::BinaryView)),
        ("fixed", fixed),
        ("fixed_bin", fixed_as_binary),
        ("flag", Arc::new(bools)),
    ];
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

/// Groups of columns holding the same logical values in different physical types.
const EQUIVALENT: &[&[&str]] = &[
    &[
        "s_utf8",
        "s_large",
        "s_view",
        "s_dict",
        "s_dict_large",
        "s_dict_view",
    ],
    &[
        "i64", "i8", "i16", "i32", "u8", "u16", "u32", "u64", "i_dict",
    ],
    &["n64", "n8", "n16", "n32"],
    &["f32", "f64"],
    &["h16", "h64"],
    &["d10_1", "d20_4", "d40_2", "d18_1"],
    &["ts_s", "ts_ms", "ts_ns", "ts_tz"],
    &["date32", "date64"],
    &["time_s", "time_us"],
    &["dur_s", "dur_ns"],
    &["bin", "bin_large", "bin_view"],
    &["fixed", "fixed_bin"],
];

async fn equivalence_ctx() -> SessionContext {
    let ctx = ctx();
    let batch = equivalence_batch();
    register_batches(&ctx, "t", vec![batch.clone()]);
    // The same rows, but every column a slice with a non-zero offset.
    let sliced = vec![
        batch.slice(0, 17),
        batch.slice(17, 1000),
        batch.slice(1017, ROWS - 1017),
    ];
    register_batches(&ctx, "t_sliced", sliced);
    ctx
}

#[tokio::test]
async fn same_logical_value_same_hash_for_every_physical_type() {
    let ctx = equivalence_ctx().await;
    for group in EQUIVALENT {
        let base = group[0];
        for other in &group[1..] {
            for function in ["stable_hash64", "stable_hash128"] {
                let sql = format!(
                    "SELECT count(*) FROM t WHERE {function}({base}) <> {function}({other}) \
                     OR {function}('k', {base}, 7) <> {function}('k', {other}, 7)"
                );
                assert_eq!(count(&ctx, &sql).await, 0, "{function}: {base} vs {other}");
            }
            let sql = format!(
                "SELECT count(*) FROM t WHERE stable_id('node', {base}) <> stable_id('node', {other})"
            );
            assert_eq!(count(&ctx, &sql).await, 0, "stable_id: {base} vs {other}");
        }
    }
}

#[tokio::test]
async fn hashes_are_distinct_across_rows() {
    // Guards the equivalence test against a function that ignores its input.
    let ctx = equivalence_ctx().await;
    for group in EQUIVALENT {
        let column = group[0];
        let sql = format!(
            "SELECT count(DISTINCT stable_hash64({column})) - count(DISTINCT {column}) \
             - max(CASE WHEN {column} IS NULL THEN 1 ELSE 0 END) FROM t"
        );
        let extra = count(&ctx, &sql).await;
        // -0.0/0.0 and NaN payloads collapse in the hash but not in DISTINCT.
        assert!(extra <= 0 && extra >= -2, "{column}: {extra}");
    }
}

#[tokio::test]
async fn sliced_arrays_hash_like_unsliced_ones() {
    let ctx = equivalence_ctx().await;
    let columns: Vec<&str> = EQUIVALENT.iter().flat_map(|g| g.iter().copied()).collect();
    let all = columns.join(", ");
    for function in ["stable_hash64", "stable_hash128", "stable_id", "xxhash64"] {
        let args = match function {
            "stable_id" => format!("'n', {all}"),
            // Spark has no 256-bit decimals, times of day or durations: xxhash64 refuses them.
            "xxhash64" => columns
                .iter()
                .filter(|c| !matches!(**c, "d40_2" | "time_s" | "time_us" | "dur_s" | "dur_ns"))
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
            _ => all.clone(),
        };
        let sql = format!(
            "SELECT count(*) FROM (SELECT id, {function}({args}) AS h FROM t) a \
             JOIN (SELECT id, {function}({args}) AS h FROM t_sliced) b USING (id) \
             WHERE a.h <> b.h OR a.h IS NULL"
        );
        assert_eq!(count(&ctx, &sql).await, 0, "{function}");
    }
}

#[tokio::test]
async fn scalar_arguments_hash_like_array_values() {
    let ctx = equivalence_ctx().await;
    let cases = [
        ("s_utf8", "arrow_cast(s_utf8, 'Utf8View')"),
        ("i64", "arrow_cast(i64, 'UInt8')"),
    ];
    for (column, _) in cases {
        let sql = format!(
            "SELECT count(*) FROM t WHERE stable_hash64('p', {column}, 42) \
             <> stable_hash64(arrow_cast('p', 'LargeUtf8'), {column}, arrow_cast(42, 'UInt16'))"
        );
        assert_eq!(count(&ctx, &sql).await, 0, "{column}");
    }
    // A literal hashes like the same value read from a column.
    let from_column = scalar(&ctx, "SELECT stable_hash64(i64) FROM t WHERE id = 0")
        .await
        .unwrap();
    let value = scalar(&ctx, "SELECT i64 FROM t WHERE id = 0")
        .await
        .unwrap();
    let literal = scalar(&ctx, &format!("SELECT stable_hash64({value})"))
        .await
        .unwrap();
    assert_eq!(from_column, literal);
}

#[tokio::test]
async fn different_kinds_and_boundaries_differ() {
    let ctx = ctx();
    let distinct = [
        "1",
        "'1'",
        "1.0",
        "true",
        "arrow_cast(1, 'Decimal128(5,0)')",
        "DATE '1970-01-02'",
        "arrow_cast('1', 'Binary')",
        "NULL",
        "''",
        "'NULL'",
        "arrow_cast(18446744073709551615, 'UInt64')",
        "-1",
    ];
    let mut seen = std::collections::HashMap::new();
    for expr in distinct {
        let hash = scalar(&ctx, &format!("SELECT stable_hash64({expr})"))
            .await
            .unwrap();
        assert!(!hash.is_null(), "stable_hash64({expr}) is NULL");
        if let Some(previous) = seen.insert(hash.clone(), expr) {
            panic!("stable_hash64({expr}) = stable_hash64({previous})");
        }
    }
    let pairs = [
        ("'a', 'bc'", "'ab', 'c'"),
        ("'a', NULL", "NULL, 'a'"),
        ("'', ''", "''"),
        ("NULL", "NULL, NULL"),
        ("1, 23", "12, 3"),
    ];
    for (a, b) in pairs {
        for function in ["stable_hash64", "stable_hash128"] {
            let sql = format!("SELECT {function}({a}) = {function}({b})");
            let equal = scalar(&ctx, &sql).await.unwrap();
            assert_eq!(
                equal,
                ScalarValue::Boolean(Some(false)),
                "{function}({a}) vs ({b})"
            );
        }
    }
    let node_edge = "SELECT stable_id('node', 'x.py', 1, 2) = \
                     'node:' || substr(stable_id('edge', 'x.py', 1, 2), 6)";
    assert_eq!(
        scalar(&ctx, node_edge).await.unwrap(),
        ScalarValue::Boolean(Some(false))
    );
}

#[tokio::test]
async fn worked_examples_match_the_spec_bytes() {
    use xxhash_rust::xxh3::{xxh3_64, xxh3_128};
    let ctx = ctx();
    let examples: [(&str, Vec<u8>); 3] = [
        (
            "'a'",
            [&[0x05u8, 1, 0, 0, 0, 0, 0, 0, 0][..], b"a"].concat(),
        ),
        ("arrow_cast(1, 'Int8')", vec![0x02, 1, 0, 0, 0, 0, 0, 0, 0]),
        ("NULL, true", vec![0x00, 0x01, 0x01]),
    ];
    for (args, key) in examples {
        let got = scalar(&ctx, &format!("SELECT stable_hash64({args})"))
            .await
            .unwrap();
        assert_eq!(
            got,
            ScalarValue::Int64(Some(xxh3_64(&key) as i64)),
            "{args}"
        );
        let got = scalar(&ctx, &format!("SELECT stable_hash128({args})"))
            .await
            .unwrap();
        assert_eq!(
            got,
            ScalarValue::Utf8(Some(format!("{:032x}", xxh3_128(&key)))),
            "{args}"
        );
    }
    let string = |s: &str| [&(s.len() as u64).to_le_bytes()[..], s.as_bytes()].concat();
    let key = [
        vec![0x05],
        string("node"),
        vec![0x05],
        string("x.py"),
        vec![0x02],
        3i64.to_le_bytes().to_vec(),
        vec![0x02],
        7i64.to_le_bytes().to_vec(),
    ]
    .concat();
    let got = scalar(&ctx, "SELECT stable_id('node', 'x.py', 3, 7)")
        .await
        .unwrap();
    assert_eq!(
        got,
        ScalarValue::Utf8(Some(format!("node:{:032x}", xxh3_128(&key))))
    );
}

#[tokio::test]
async fn null_prefix_gives_null_id_and_hashes_are_never_null() {
    let ctx = ctx();
    let id = scalar(&ctx, "SELECT stable_id(arrow_cast(NULL, 'Utf8'), 'x')")
        .await
        .unwrap();
    assert!(id.is_null());
    let id = scalar(&ctx, "SELECT stable_id(NULL, 'x')").await.unwrap();
    assert!(id.is_null());
    for function in ["stable_hash64", "stable_hash128"] {
        let v = scalar(&ctx, &format!("SELECT {function}(NULL)"))
            .await
            .unwrap();
        assert!(!v.is_null(), "{function}(NULL)");
    }
}

#[tokio::test]
async fn a_million_distinct_span_keys_do_not_collide() {
    let ctx = ctx();
    // value -> (path value % 1000, start value / 1000, end start + value % 7): a bijection.
    let keys = "SELECT 'src/pkg_' || (value % 1000) || '/module_' || (value % 1000) || '.py' AS path, \
                value / 1000 AS bstart, value / 1000 + value % 7 AS bend FROM range(1000000)";
    let sql = format!("SELECT count(DISTINCT stable_hash64(path, bstart, bend)) FROM ({keys})");
    assert_eq!(count(&ctx, &sql).await, 1_000_000);
    let sql = format!("SELECT count(DISTINCT stable_id('node', path, bstart, bend)) FROM ({keys})");
    assert_eq!(count(&ctx, &sql).await, 1_000_000);
}
