//! Bad input gets an error saying what was wrong and what is accepted (the golden file
//! holds more error cases; these pin the messages of the argument checks).

use crate::common::{ctx, error};

#[tokio::test]
async fn argument_errors_name_the_problem() {
    let ctx = ctx();
    let cases = [
        (
            "SELECT utf8_normalize(1)",
            "argument 1 (text) has type Int64; accepted: Utf8",
        ),
        (
            "SELECT utf8_normalize('a', 'NFC', 1)",
            "argument 3 (casefold) has type Int64; accepted: Boolean",
        ),
        (
            "SELECT utf8_normalize('a', 'NFQ')",
            "accepted: NFC, NFD, NFKC, NFKD",
        ),
        (
            "SELECT qname_normalize('a', 'b', 'c')",
            "qname_normalize: argument 3 (lowercase) has type Utf8; accepted: Boolean or NULL",
        ),
        (
            "SELECT qname_normalize('a', 'b', true, 1)",
            "qname_normalize expects 1 to 3 arguments (symbol, module, lowercase), got 4",
        ),
        (
            "SELECT span_len(-1, 9223372036854775807)",
            "span_len: invalid span at row 0 of the batch: start = -1 is negative; spans are half-open [start, end) with 0 <= start <= end",
        ),
        (
            "SELECT qname_normalize(make_array('a'))",
            "argument 1 (symbol) has type List",
        ),
        (
            "SELECT span_len('a', 1)",
            "span_len: argument start has type Utf8; accepted: an integer type",
        ),
        (
            "SELECT span_len(arrow_cast(1, 'UInt64'), arrow_cast(18446744073709551615, 'UInt64'))",
            "span_len: invalid span at row 0 of the batch: end = 18446744073709551615 is beyond the largest supported offset 9223372036854775807",
        ),
        (
            "SELECT span_overlaps(1, 2, 3.5, 4)",
            "span_overlaps: argument b_start has type Float64",
        ),
        ("SELECT span_contains(1, 2, 3)", "expects 4 arguments"),
        ("SELECT span_len(5, 4)", "invalid span"),
        (
            "SELECT list_enumerate(make_array(1), 2)",
            "list_enumerate expects exactly one list argument, got 2",
        ),
        ("SELECT list_enumerate('abc')", "list_enumerate"),
        ("SELECT stable_hash64(make_array(1))", "List"),
        ("SELECT stable_id(1, 'x')", "prefix"),
        ("SELECT xxhash64(INTERVAL '1 day')", "Interval"),
    ];
    for (sql, wanted) in cases {
        let message = error(&ctx, sql).await;
        assert!(
            message.contains(wanted),
            "{sql}: {message:?} lacks {wanted:?}"
        );
    }
}

#[tokio::test]
async fn an_error_leaves_the_session_usable() {
    let ctx = ctx();
    error(&ctx, "SELECT span_len(5, 4)").await;
    let value = crate::common::scalar(&ctx, "SELECT span_len(4, 5)")
        .await
        .unwrap();
    assert_eq!(value, datafusion::common::ScalarValue::Int64(Some(1)));
}

#[tokio::test]
async fn span_errors_name_the_row() {
    let ctx = ctx();
    let sql = "SELECT span_len(s, e) FROM (VALUES (1, 2), (7, 3)) AS t(s, e)";
    let message = error(&ctx, sql).await;
    assert!(message.contains("7") && message.contains("3"), "{message}");
}
