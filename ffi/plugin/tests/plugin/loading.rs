//! Loads the plugin cdylib built from this crate into a host `SessionContext` through
//! [`Plugin`], and runs the UDF suite's golden SQL through the foreign objects, row for
//! row against native registration.

use std::path::Path;

use datafusion::prelude::SessionContext;
use datafusion_cpg_loader::Plugin;

use crate::common::{plugin, plugin_ctx, plugin_path, run};
use datafusion_ffi::udf::ForeignScalarUDF;
use serde_json::Value;

const VECTORS: &str = include_str!("../../../../tests/golden/udf_vectors.json");

fn cases(kind: &str) -> Vec<Value> {
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    vectors[kind].as_array().unwrap().clone()
}

#[test]
fn the_manifest_lists_every_export_of_the_registry() {
    let plugin = plugin();
    let manifest = plugin.manifest();
    assert_eq!(manifest.name, "datafusion-cpg");
    assert_eq!(manifest.datafusion_ffi_major, datafusion_ffi::version());
    assert_eq!(manifest.abi_major, datafusion_cpg_loader::ABI_MAJOR);
    assert_eq!(
        manifest.stable_hash_encoding_version,
        datafusion_cpg::udfs::hash::encoding::ENCODING_VERSION
    );
    let exported: Vec<(String, String)> = manifest
        .exports
        .iter()
        .map(|e| (e.kind.clone(), e.name.clone()))
        .collect();
    let registry: Vec<(String, String)> = datafusion_cpg::registry::exports()
        .iter()
        .map(|e| (e.kind().name().to_string(), e.name().to_string()))
        .collect();
    assert_eq!(exported, registry);
}

#[tokio::test]
async fn linked_only_exports_are_reported_not_registered() {
    let registration = plugin().register(&SessionContext::new()).unwrap();
    let skipped: Vec<&str> = registration
        .skipped
        .iter()
        .map(|(kind, _, _)| kind.as_str())
        .collect();
    assert_eq!(
        skipped,
        vec![
            "relation_planner",
            "analyzer_rule",
            "analyzer_rule",
            "table_provider_factory",
            "table_provider_factory",
            "table_provider_factory",
            "table_provider_factory",
            "table_function",
            "physical_optimizer_rule",
            "session_options"
        ]
    );
    let text = registration.to_string();
    assert!(
        text.starts_with("registered 10 scalar functions: stable_hash64, "),
        "{text}"
    );
    assert!(
        text.contains("works only where the bundle is linked"),
        "{text}"
    );
    assert!(
        text.contains("4 table functions: delta_cdf, delta_snapshot, cpg_query_log, span_align"),
        "{text}"
    );
}

#[tokio::test]
async fn a_table_function_crosses_ffi_and_its_errors_come_back() {
    let foreign = plugin_ctx(&plugin());
    // The plugin's cpg_query_log() runs in the plugin, called by the host through
    // datafusion-ffi; the host session carries no cpg options over FFI, so it reports
    // that instead of a log.
    let error = run(&foreign, "SELECT * FROM cpg_query_log()")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cpg_query_log: this session has no cpg options"),
        "{error}"
    );
}

#[test]
fn loads_from_its_directory_by_base_name() {
    let path = plugin_path();
    let plugin = Plugin::load_from_directory(path.parent().unwrap()).unwrap();
    assert_eq!(plugin.path(), path);
    assert_eq!(plugin.manifest(), Plugin::load(&path).unwrap().manifest());
}

#[tokio::test]
async fn registered_functions_are_foreign() {
    let plugin = plugin();
    let ctx = SessionContext::new();
    let registration = plugin.register(&ctx).unwrap();
    assert_eq!(
        registration.scalar_functions.len(),
        datafusion_cpg::udfs::functions().len()
    );
    for name in &registration.scalar_functions {
        let state = ctx.state();
        let udf = state.scalar_functions().get(name).unwrap();
        assert!(
            udf.inner().downcast_ref::<ForeignScalarUDF>().is_some(),
            "{name} was not registered as a ForeignScalarUDF"
        );
    }
    // Registering twice is harmless.
    plugin.register(&ctx).unwrap();
    let sql = "SELECT stable_id('node', 'a.py', 1, 2) AS v";
    let batches = run(&ctx, sql).await.unwrap();
    let native = run(&datafusion_cpg::session_context().unwrap(), sql)
        .await
        .unwrap();
    assert_eq!(batches[0].num_rows(), 1);
    assert_eq!(batches[0].columns(), native[0].columns());
}

#[tokio::test]
async fn golden_sql_through_the_plugin_equals_native() {
    let plugin = plugin();
    let foreign = plugin_ctx(&plugin);
    let native = datafusion_cpg::session_context().unwrap();
    let cases = cases("cases");
    assert!(cases.len() > 500);
    let mut failures = Vec::new();
    for case in &cases {
        let sql = case["sql"].as_str().unwrap();
        let expected = run(&native, sql).await.unwrap();
        match run(&foreign, sql).await {
            Ok(got) => {
                let same = got.len() == expected.len()
                    && got.iter().zip(&expected).all(|(g, e)| {
                        g.num_columns() == e.num_columns()
                            && g.columns().iter().zip(e.columns()).all(|(a, b)| a == b)
                    });
                if !same {
                    failures.push(format!("{sql}\n  native  {expected:?}\n  plugin  {got:?}"));
                }
            }
            Err(e) => failures.push(format!("{sql}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn errors_cross_the_boundary_as_errors() {
    let foreign = plugin_ctx(&plugin());
    for case in cases("error_cases") {
        let sql = case["sql"].as_str().unwrap();
        let wanted = case["error_contains"].as_str().unwrap();
        let error = run(&foreign, sql).await.expect_err(sql).to_string();
        assert!(error.contains(wanted), "{sql}: {error}\n  wanted {wanted}");
    }
    // The session still works after the errors.
    run(&foreign, "SELECT span_len(1, 5)").await.unwrap();
}

/// Whether `/proc/self/maps` maps `path` into this process.
fn is_mapped(path: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let path = path.canonicalize().unwrap();
    maps.lines().any(|l| l.ends_with(path.to_str().unwrap()))
}

#[tokio::test]
async fn two_copies_of_the_library_coexist() {
    let original = plugin_path();
    let dir = std::env::temp_dir().join(format!("cpg-plugin-copy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join(original.file_name().unwrap());
    std::fs::copy(&original, &copy).unwrap();

    let first = plugin();
    let second = Plugin::load(&copy).unwrap();
    assert!(
        is_mapped(&original) && is_mapped(&copy),
        "both images are mapped"
    );

    let sql = "SELECT stable_id('node', 'src/a.py', 3, 9) AS id, stable_hash64('x') AS h";
    let a = run(&plugin_ctx(&first), sql).await.unwrap();
    let b = run(&plugin_ctx(&second), sql).await.unwrap();
    let native = run(&datafusion_cpg::session_context().unwrap(), sql)
        .await
        .unwrap();
    assert_eq!(a[0].columns(), native[0].columns());
    assert_eq!(b[0].columns(), native[0].columns());

    // A UDF from one image used in a session next to one from the other.
    let ctx = SessionContext::new();
    ctx.register_udf(first.scalar_udf("stable_hash64").unwrap());
    let mut other = second.scalar_udf("stable_hash128").unwrap();
    other = other.with_aliases(["stable_hash128_copy"]);
    ctx.register_udf(other);
    let mixed = run(
        &ctx,
        "SELECT stable_hash64('x') AS h, stable_hash128_copy('x') AS h2",
    )
    .await
    .unwrap();
    assert_eq!(mixed[0].column(0), &native[0].column(1).clone());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn loading_something_else_is_a_clear_error() {
    let missing = Plugin::load("/nonexistent/libnothing.so")
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("cannot load datafusion-cpg plugin /nonexistent/libnothing.so"),
        "{missing}"
    );
    // A real shared library that is not a datafusion-cpg plugin.
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists());
    if let Some(libc) = libc {
        let error = Plugin::load(libc).unwrap_err().to_string();
        assert!(error.contains("not a datafusion-cpg plugin"), "{error}");
    }
}
