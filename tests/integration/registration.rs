//! One-call registration: `register_all` on a context and `install` on a builder give the
//! same functions, calling either twice is harmless, and every function documents itself.

use crate::common::{count, scalar};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;

const PROBE: &str = "SELECT stable_id('node', 'a.py', 1, 2) AS id";

#[tokio::test]
async fn register_all_twice_is_harmless() {
    let once = datafusion_cpg::session_context().unwrap();
    let twice = datafusion_cpg::session_context().unwrap();
    datafusion_cpg::register_all(&twice).unwrap();
    assert_eq!(
        scalar(&once, PROBE).await.unwrap(),
        scalar(&twice, PROBE).await.unwrap()
    );
    let sql = "SELECT count(*) FROM (VALUES (make_array(1, 2))) AS t(items) \
               CROSS JOIN UNNEST(t.items) WITH ORDINALITY AS u(value, ordinality)";
    assert_eq!(count(&twice, sql).await, 2);
    let analyzer_rules = twice.state().analyzer().rules.len();
    datafusion_cpg::register_all(&twice).unwrap();
    assert_eq!(twice.state().analyzer().rules.len(), analyzer_rules);
}

#[tokio::test]
async fn install_on_a_builder_matches_register_all() {
    let builder = SessionStateBuilder::new().with_default_features();
    let state = datafusion_cpg::install(datafusion_cpg::install(builder).unwrap())
        .unwrap()
        .build();
    let built = SessionContext::new_with_state(state);
    let registered = datafusion_cpg::session_context().unwrap();
    assert_eq!(
        scalar(&built, PROBE).await.unwrap(),
        scalar(&registered, PROBE).await.unwrap()
    );
    let names = built.state().scalar_functions().len();
    let defaults = SessionContext::new().state().scalar_functions().len();
    assert_eq!(names, defaults + datafusion_cpg::udfs::functions().len());
}

#[tokio::test]
async fn every_function_is_documented() {
    for udf in datafusion_cpg::udfs::functions() {
        let doc = udf
            .documentation()
            .unwrap_or_else(|| panic!("{} has no documentation", udf.name()));
        assert!(!doc.description.is_empty(), "{}", udf.name());
        assert!(doc.syntax_example.starts_with(udf.name()), "{}", udf.name());
        assert!(doc.sql_example.is_some(), "{} lacks an example", udf.name());
    }
}

#[tokio::test]
async fn functions_are_visible_in_information_schema() {
    let ctx = SessionContext::new_with_config(
        datafusion::prelude::SessionConfig::new().with_information_schema(true),
    );
    datafusion_cpg::register_all(&ctx).unwrap();
    let sql = "SELECT count(DISTINCT routine_name) FROM information_schema.routines \
               WHERE routine_name IN ('stable_hash64', 'stable_id', 'span_contains', 'list_enumerate')";
    assert_eq!(count(&ctx, sql).await, 4);
}
