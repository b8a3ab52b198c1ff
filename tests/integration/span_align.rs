//! `span_align`: every mode × inner/left × with and without tie breakers equals, row for
//! row, the plain SQL formulation (a join and a `ROW_NUMBER()` window) on random spans;
//! the DataFrame API equals the SQL function; the demo's TOKEN_OF edges come out the same;
//! bad arguments get errors that say what is accepted.

use datafusion_cpg::optimizer::span_align::{AlignMode, AlignOptions, span_align};

use super::common::script::{demo_sql, run_script};
use super::span_join::{register_tables, rows};

/// (condition, score) of each mode in SQL over `l` and `r`.
fn mode_sql(mode: AlignMode) -> (&'static str, &'static str) {
    match mode {
        AlignMode::ContainedBest => (
            "r.bstart <= l.bstart AND l.bend <= r.bend",
            "-(r.bend - CAST(r.bstart AS BIGINT))",
        ),
        AlignMode::ContainsBest => (
            "l.bstart <= r.bstart AND r.bend <= l.bend",
            "r.bend - CAST(r.bstart AS BIGINT)",
        ),
        AlignMode::OverlapBest => (
            "r.bstart < l.bend AND l.bstart < r.bend",
            "LEAST(l.bend, r.bend) - GREATEST(CAST(l.bstart AS BIGINT), CAST(r.bstart AS BIGINT))",
        ),
        AlignMode::Exact => (
            "r.bstart = l.bstart AND r.bend = l.bend",
            "r.bend - CAST(r.bstart AS BIGINT)",
        ),
    }
}

/// The plain-SQL best match per left row (right row order = `r.id` order).
fn expected_sql(mode: AlignMode, left_join: bool, tie_breakers: &str) -> String {
    let (condition, score) = mode_sql(mode);
    let join = if left_join { "LEFT JOIN" } else { "JOIN" };
    let ties = if tie_breakers.is_empty() {
        String::new()
    } else {
        format!("{tie_breakers}, ")
    };
    format!(
        "SELECT id, rid, CASE WHEN rid IS NULL THEN 'NO_MATCH' ELSE '{kind}' END, \
                CASE WHEN rid IS NULL THEN NULL ELSE CAST(score AS DOUBLE) END \
         FROM ( \
           SELECT l.id, r.id AS rid, {score} AS score, \
                  ROW_NUMBER() OVER (PARTITION BY l.id ORDER BY {score} DESC, {ties} \
                                     r.bstart, r.bend, r.id) AS rn \
           FROM l {join} r ON l.path = r.path AND {condition} \
                AND l.bstart <= l.bend AND r.bstart <= r.bend) \
         WHERE rn = 1",
        kind = mode.match_kind(),
    )
}

#[tokio::test]
async fn span_align_equals_the_join_and_window_formulation() {
    for (seed, collect_left) in [(11, true), (12, false)] {
        let ctx = super::span_join::span_ctx(collect_left);
        register_tables(&ctx, seed, 150);
        let mut matched = 0;
        for mode in AlignMode::ALL {
            for left_join in [false, true] {
                for (tie_sql, tie_option) in [("", ""), ("r.kind DESC", "; tie_breakers=kind desc")]
                {
                    let how = if left_join { "left" } else { "inner" };
                    let got = rows(
                        &ctx,
                        &format!(
                            "SELECT id, id__r, match_kind, match_score FROM span_align('l', 'r', \
                             '{}', 'how={how}{tie_option}')",
                            mode.name()
                        ),
                    )
                    .await;
                    let want = rows(&ctx, &expected_sql(mode, left_join, tie_sql)).await;
                    assert_eq!(got, want, "{mode:?} how={how} ties={tie_sql:?}");
                    matched += want.iter().filter(|r| !r.contains("NO_MATCH")).count();
                }
            }
        }
        assert!(matched > 500, "only {matched} matches compared");
    }
}

#[tokio::test]
async fn the_dataframe_api_equals_the_table_function_and_explain_shows_the_operator() {
    let ctx = super::span_join::span_ctx(true);
    register_tables(&ctx, 13, 100);
    let options = AlignOptions::new(AlignMode::OverlapBest)
        .with_option_text("how=left; right_columns=id, kind; suffix=_right")
        .unwrap();
    let frame = span_align(
        ctx.table("l").await.unwrap(),
        ctx.table("r").await.unwrap(),
        options,
    )
    .unwrap();
    ctx.register_table("aligned", frame.into_view()).unwrap();
    let from_api = rows(&ctx, "SELECT * FROM aligned").await;
    let from_sql = rows(
        &ctx,
        "SELECT * FROM span_align('l', 'r', 'overlap_best', \
         'how=left; right_columns=id, kind; suffix=_right')",
    )
    .await;
    assert_eq!(from_api, from_sql);
    assert_eq!(from_api.len(), 100);
    let columns = rows(
        &ctx,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'aligned' \
         ORDER BY ordinal_position",
    )
    .await;
    assert_eq!(
        columns,
        [
            "bend",
            "bstart",
            "id",
            "id_right",
            "kind",
            "match_kind",
            "match_score",
            "path"
        ]
    );
    let plan = rows(
        &ctx,
        "EXPLAIN SELECT id FROM span_align('l', 'r', 'exact', 'tie_breakers=kind')",
    )
    .await
    .join("\n");
    assert!(
        plan.contains("SpanAlignExec: mode=exact, how=Inner, left=(path, [bstart, bend)), right=(path, [bstart, bend)), tie_breakers=[kind ASC]"),
        "{plan}"
    );
}

#[tokio::test]
async fn bad_arguments_say_what_is_accepted() {
    let ctx = super::span_join::span_ctx(true);
    register_tables(&ctx, 14, 10);
    for (sql, expected) in [
        (
            "SELECT * FROM span_align('l', 'r')",
            "span_align takes 3 or 4 string literals",
        ),
        (
            "SELECT * FROM span_align('l', 'nope', 'exact')",
            "span_align: no table 'nope' in datafusion.public; tables: l, r",
        ),
        (
            "SELECT * FROM span_align('l', 'r', 'nearest')",
            "unknown mode 'nearest'; accepted: contained_best, contains_best, overlap_best, exact",
        ),
        (
            "SELECT * FROM span_align('l', 'r', 'exact', 'right_columns=idx')",
            "the right input has no column 'idx'; its columns: path, bstart, bend, id, kind",
        ),
        (
            "SELECT * FROM span_align('l', 'r', 'exact', 'end=kind')",
            "left input has no column 'kind'",
        ),
        (
            "SELECT * FROM span_align('r', 'l', 'exact', 'start=kind')",
            "left span bound 'kind' is Utf8; span bounds must be integer columns",
        ),
        (
            "SELECT * FROM span_align('l', 'r', 'exact', 'how=outer')",
            "how='outer' is not accepted; accepted: inner, left",
        ),
        (
            "SELECT * FROM span_align('l', 'r', 'exact', 'tie_breakers=kind sideways')",
            "tie breaker 'kind sideways' is not accepted",
        ),
        (
            "SELECT * FROM span_align('l', 'r', 'exact', 'suffix=')",
            "right column 'path' clashes with an output column even as 'path'",
        ),
    ] {
        let error = super::common::error(&ctx, sql).await;
        assert!(error.contains(expected), "{sql}: {error}");
    }
}

/// The demo's TOKEN_OF edges (a page-keyed join and a ROW_NUMBER window) are exactly
/// `span_align(tokens, nodes, 'contained_best')` with the demo's tie breakers.
#[tokio::test]
async fn demo_token_of_edges_equal_span_align() {
    let ctx = super::common::ctx();
    run_script(&ctx, &demo_sql()).await;
    let want = rows(&ctx, "SELECT src, dst FROM token_of_edges").await;
    let got = rows(
        &ctx,
        "SELECT token_id, node_id FROM span_align('cpg_tokens', 'cpg_nodes', 'contained_best', \
         'tie_breakers=depth desc, node_id; right_columns=node_id, depth')",
    )
    .await;
    assert!(want.len() > 1000, "{}", want.len());
    assert_eq!(got, want);
}

#[tokio::test]
async fn an_empty_right_side_matches_nothing() {
    let ctx = super::span_join::span_ctx(true);
    register_tables(&ctx, 15, 12);
    ctx.sql("CREATE TABLE r0 AS SELECT * FROM r WHERE false")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let got = rows(
        &ctx,
        "SELECT count(*), count(id__r), min(match_kind) FROM span_align('l', 'r0', \
         'contains_best', 'how=left')",
    )
    .await;
    assert_eq!(got, ["12|0|NO_MATCH"]);
    let got = rows(
        &ctx,
        "SELECT count(*) FROM span_align('l', 'r0', 'contains_best')",
    )
    .await;
    assert_eq!(got, ["0"]);
}

/// The README's worked example, verbatim.
#[tokio::test]
async fn the_readme_example() {
    let ctx = super::common::ctx();
    run_script(
        &ctx,
        "CREATE TABLE tokens(path VARCHAR, bstart BIGINT, bend BIGINT, name VARCHAR) AS VALUES \
           ('a.py', 0, 3, 't1'), ('a.py', 14, 19, 't2'), ('a.py', 50, 52, 't3'); \
         CREATE TABLE nodes(path VARCHAR, bstart BIGINT, bend BIGINT, kind VARCHAR) AS VALUES \
           ('a.py', 0, 40, 'Module'), ('a.py', 0, 12, 'FunctionDef'), ('a.py', 0, 3, 'Name'), \
           ('a.py', 13, 40, 'ClassDef');",
    )
    .await;
    let got = rows(
        &ctx,
        "SELECT name, kind, match_kind, match_score FROM span_align('tokens', 'nodes', \
         'contained_best', 'how=left; right_columns=kind')",
    )
    .await;
    assert_eq!(
        got,
        [
            "t1|Name|CONTAINED_BEST|-3.0",
            "t2|ClassDef|CONTAINED_BEST|-27.0",
            "t3|NULL|NO_MATCH|NULL"
        ]
    );
    let got = rows(
        &ctx,
        "SELECT kind, name, match_score FROM span_align('nodes', 'tokens', 'contains_best', \
         'right_columns=name')",
    )
    .await;
    assert_eq!(
        got,
        [
            "ClassDef|t2|5.0",
            "FunctionDef|t1|3.0",
            "Module|t2|5.0",
            "Name|t1|3.0"
        ]
    );
}

/// A plan kept after it ran (a cached plan, the codec's handle table) holds no build
/// side: every byte reserved from the memory pool is back once the streams are done.
#[tokio::test]
async fn a_plan_kept_after_running_holds_no_build_side() {
    use datafusion::physical_plan::collect;
    let ctx = super::span_join::span_ctx(true);
    register_tables(&ctx, 16, 300);
    for sql in [
        "SELECT count(*) FROM span_align('l', 'r', 'contained_best')",
        "SELECT count(*) FROM l JOIN r ON l.path = r.path AND r.bstart >= l.bstart AND r.bend <= l.bend",
    ] {
        let plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let shown = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(true)
            .to_string();
        assert!(
            shown.contains("SpanAlignExec") || shown.contains("SpanJoinExec: mode=CollectLeft"),
            "{shown}"
        );
        let result = collect(std::sync::Arc::clone(&plan), ctx.task_ctx())
            .await
            .unwrap();
        assert_eq!(result[0].num_rows(), 1);
        assert_eq!(ctx.runtime_env().memory_pool.reserved(), 0, "{sql}");
        drop(plan);
    }
}

/// `ORDER BY` over `span_align` sorts its output (no sort pushed into an input by
/// column position).
#[tokio::test]
async fn order_by_sorts_the_output() {
    let ctx = super::common::ctx();
    run_script(
        &ctx,
        "CREATE TABLE nodes(path VARCHAR, bstart BIGINT, bend BIGINT, kind VARCHAR) AS VALUES \
           ('a.py', 0, 40, 'Module'), ('a.py', 0, 12, 'FunctionDef'), ('a.py', 13, 40, 'ClassDef'); \
         CREATE TABLE tokens(path VARCHAR, bstart BIGINT, bend BIGINT, text VARCHAR) AS VALUES \
           ('a.py', 0, 3, 'def'), ('a.py', 14, 19, 'class'), ('a.py', 20, 21, 'a');",
    )
    .await;
    let batches = super::common::collect(
        &ctx,
        "SELECT text, kind FROM span_align('tokens', 'nodes', 'contained_best', \
         'right_columns=kind') ORDER BY text",
    )
    .await
    .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    let positions: Vec<usize> = ["| a ", "| class", "| def"]
        .iter()
        .map(|t| text.find(t).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}
