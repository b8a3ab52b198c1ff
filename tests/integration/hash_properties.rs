//! Properties of the stable hash functions: the same logical value hashes the same
//! whatever its physical Arrow type (string types, dictionaries, integer widths,
//! float widths, decimal scales, time units), sliced and scalar inputs agree with plain
//! arrays, different kinds differ, NULL has its own tag, and a million distinct
//! `(path, start, end)` keys do not collide.

use crate::common::typed_batch::typed_batch;
use crate::common::{count, ctx, register_batches, scalar};
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;

const ROWS: usize = 3000;

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
    let batch = typed_batch(ROWS);
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
        assert!((-2..=0).contains(&extra), "{column}: {extra}");
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
