//! `datafusion-cpg-exports`: the bundle's export registry
//! ([`datafusion_cpg::registry`]) turned into datafusion-ffi structs, every one behind a
//! [`panic_guard`], and the plugin [`Manifest`]. The plugin cdylib (`ffi/plugin`) and the
//! Python module (`ffi/python`) are thin shells over this crate, so both export exactly
//! what the registry lists.
//!
//! - [`manifest`]: what this build exports, read from the registry.
//! - [`scalar_udf`], [`table_function`], [`table_provider_factory`], [`query_planner`],
//!   [`physical_optimizer_rule`]: the export of one kind by name, as its datafusion-ffi
//!   struct, built with the host's codecs where the kind needs them and with this
//!   library's own tokio [`runtime`].
//! - [`into_rresult`]: runs an `extern "C"` body, turning an error or a panic into the
//!   error string the host reports.

pub mod panic_guard;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use abi_stable::std_types::{RResult, RString};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::MemorySchemaProvider;
use datafusion::common::TableReference;
use datafusion::common::{Result, exec_datafusion_err, plan_datafusion_err};
use datafusion::datasource::empty::EmptyTable;
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_cpg::optimizer::CpgQueryPlanner;
use datafusion_cpg::optimizer::codec::BundleCodec;
use datafusion_cpg::optimizer::fingerprint::{self, PlanFingerprint};
use datafusion_cpg::optimizer::planner::PLANNER_NAME;
use datafusion_cpg::optimizer::policy::CpgOptions;
use datafusion_cpg::optimizer::policy::SqlPolicy;
use datafusion_cpg::optimizer::policy::log::QueryLog;
use datafusion_cpg::registry::{self, ExportKind, Extension, Host};
use datafusion_cpg_loader::abi::{ABI_MAJOR, Manifest, ManifestEntry};
use datafusion_ffi::execution::FFI_TaskContextProvider;
use datafusion_ffi::physical_optimizer::FFI_PhysicalOptimizerRule;
use datafusion_ffi::proto::logical_extension_codec::FFI_LogicalExtensionCodec;
use datafusion_ffi::proto::physical_extension_codec::FFI_PhysicalExtensionCodec;
use datafusion_ffi::query_planner::FFI_QueryPlanner;
use datafusion_ffi::table_provider_factory::FFI_TableProviderFactory;
use datafusion_ffi::udf::FFI_ScalarUDF;
use datafusion_ffi::udtf::FFI_TableFunction;
use datafusion_proto::bytes::logical_plan_from_bytes_with_extension_codec;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use tokio::runtime::{Handle, Runtime};

use crate::panic_guard::{
    GuardedPhysicalOptimizerRule, GuardedQueryPlanner, GuardedScalarUdf, GuardedTableFunction,
    GuardedTableProviderFactory, panic_message,
};

pub use datafusion_cpg_loader::abi;

/// This library's own tokio runtime. Each cdylib links its own copy of tokio, whose
/// runtime context the host cannot see; DataFusion does not enter a runtime while a
/// foreign `scan()`, factory `create()` or planner future runs, so I/O there needs it.
pub fn runtime() -> Result<Handle> {
    static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("datafusion-cpg")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    match runtime {
        Ok(runtime) => Ok(runtime.handle().clone()),
        Err(e) => Err(exec_datafusion_err!(
            "datafusion-cpg cannot start its tokio runtime: {e}"
        )),
    }
}

fn host() -> Result<Host> {
    Ok(Host {
        runtime: Some(runtime()?),
    })
}

/// What this build exports: every registry entry, by kind, with whether it crosses FFI.
pub fn manifest() -> Manifest {
    Manifest {
        name: "datafusion-cpg".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        abi_major: ABI_MAJOR,
        datafusion_ffi_major: datafusion_ffi::version(),
        stable_hash_encoding_version: datafusion_cpg::udfs::hash::encoding::ENCODING_VERSION,
        exports: registry::exports()
            .iter()
            .map(|export| ManifestEntry {
                kind: export.kind().name().to_string(),
                name: export.name().to_string(),
                crosses_ffi: export.crosses_ffi(),
            })
            .collect(),
    }
}

/// The names of the exports of `kind` that cross FFI, in registration order.
pub fn names(kind: ExportKind) -> Vec<String> {
    registry::exports()
        .iter()
        .filter(|e| e.kind() == kind && e.crosses_ffi())
        .map(|e| e.name().to_string())
        .collect()
}

fn build(kind: ExportKind, name: &str) -> Result<Extension> {
    let export = registry::find(kind, name)?;
    if !export.crosses_ffi() {
        return Err(plan_datafusion_err!(
            "datafusion-cpg {kind} {name} works only where the bundle is linked, not over FFI"
        ));
    }
    export.build(&host()?)
}

/// The scalar function `name`, panic-guarded.
pub fn scalar_udf(name: &str) -> Result<FFI_ScalarUDF> {
    match build(ExportKind::ScalarFunction, name)? {
        Extension::ScalarFunction(udf) => Ok(Arc::new(GuardedScalarUdf::wrap(udf)).into()),
        other => Err(wrong_kind(name, &other)),
    }
}

/// The table function `name`; its arguments are decoded with the host's `codec`.
pub fn table_function(name: &str, codec: FFI_LogicalExtensionCodec) -> Result<FFI_TableFunction> {
    match build(ExportKind::TableFunction, name)? {
        Extension::TableFunction(function) => Ok(FFI_TableFunction::new_with_ffi_codec(
            GuardedTableFunction::wrap(name, function),
            Some(runtime()?),
            codec,
        )),
        other => Err(wrong_kind(name, &other)),
    }
}

/// The table provider factory `name`, with the host's `codec`.
pub fn table_provider_factory(
    name: &str,
    codec: FFI_LogicalExtensionCodec,
) -> Result<FFI_TableProviderFactory> {
    match build(ExportKind::TableProviderFactory, name)? {
        Extension::TableProviderFactory(factory) => {
            Ok(FFI_TableProviderFactory::new_with_ffi_codec(
                GuardedTableProviderFactory::wrap(name, factory),
                Some(runtime()?),
                codec,
            ))
        }
        other => Err(wrong_kind(name, &other)),
    }
}

/// The query planner `name`, with the host's codecs.
pub fn query_planner(
    name: &str,
    logical_codec: FFI_LogicalExtensionCodec,
    physical_codec: FFI_PhysicalExtensionCodec,
) -> Result<FFI_QueryPlanner> {
    match build(ExportKind::QueryPlanner, name)? {
        Extension::QueryPlanner(planner) => Ok(FFI_QueryPlanner::new_with_ffi_codecs(
            GuardedQueryPlanner::wrap(name, planner),
            logical_codec,
            physical_codec,
        )),
        other => Err(wrong_kind(name, &other)),
    }
}

/// A SQL policy from JSON (the keys of `cpg.policy`).
pub fn parse_policy(json: &str) -> Result<SqlPolicy> {
    SqlPolicy::from_json(json)
}

/// The bundle's query planner enforcing `policy` (and logging to the returned log), with
/// the host's codecs: the planner a host without the analyzer rule installs.
pub fn policy_query_planner(
    policy: SqlPolicy,
    span_join: bool,
    logical_codec: FFI_LogicalExtensionCodec,
    physical_codec: FFI_PhysicalExtensionCodec,
) -> (FFI_QueryPlanner, Arc<QueryLog>) {
    let planner = CpgQueryPlanner::with_policy(policy);
    let planner = if span_join {
        planner
    } else {
        planner.without_span_join()
    };
    let log = planner.log().map(Arc::clone).unwrap_or_default();
    let planner = FFI_QueryPlanner::new_with_ffi_codecs(
        GuardedQueryPlanner::wrap(PLANNER_NAME, Arc::new(planner)),
        logical_codec,
        physical_codec,
    );
    (planner, log)
}

/// The fingerprint of a logical plan a host encoded (datafusion-proto bytes, the plan
/// as built, not yet analyzed) with its codec `host_codec`: decoded through that codec (the
/// host's tables arrive by handle), analyzed as a linked session would, fingerprinted
/// under `policy` (the default policy if none). Equal to the fingerprint the linked
/// bundle gives the same statement over the same tables.
pub fn fingerprint_encoded_plan(
    bytes: &[u8],
    host_codec: &FFI_LogicalExtensionCodec,
    policy: Option<&SqlPolicy>,
) -> Result<PlanFingerprint> {
    static LOCAL: OnceLock<SessionState> = OnceLock::new();
    let state = match LOCAL.get() {
        Some(state) => state,
        None => {
            let built =
                datafusion_cpg::install(SessionStateBuilder::new().with_default_features())?
                    .build();
            LOCAL.get_or_init(|| built)
        }
    };
    let codec: Arc<dyn LogicalExtensionCodec> = host_codec.into();
    let plan =
        logical_plan_from_bytes_with_extension_codec(bytes, &state.task_ctx(), codec.as_ref())?;
    let analyzed = state
        .analyzer()
        .execute_and_check(plan, state.config_options(), |_, _| {})?;
    let default = SqlPolicy::default();
    fingerprint::fingerprint_under(
        &analyzed,
        state.config_options(),
        policy.unwrap_or(&default),
    )
}

/// The fingerprint of the SQL statement `sql` over tables of the given resolved names
/// (`catalog.schema.table`) and schemas: planned and analyzed in a session of the linked
/// bundle holding empty tables of those schemas (a fingerprint reads names and schemas,
/// never rows). Equal to `plan_fingerprint('<sql>')` in a linked session with such tables.
pub async fn fingerprint_sql_over_tables(
    sql: &str,
    tables: &[(String, SchemaRef)],
    policy: Option<SqlPolicy>,
) -> Result<PlanFingerprint> {
    let builder = datafusion_cpg::install(SessionStateBuilder::new().with_default_features())?;
    let ctx = SessionContext::new_with_state(builder.build());
    if let Some(policy) = policy {
        let state = ctx.state_ref();
        let mut state = state.write();
        if let Some(options) = state
            .config_mut()
            .options_mut()
            .extensions
            .get_mut::<CpgOptions>()
        {
            options.policy = policy;
        }
    }
    for (name, schema) in tables {
        let reference = TableReference::parse_str(name);
        if let (Some(catalog), Some(schema_name)) = (reference.catalog(), reference.schema()) {
            let catalog = ctx.catalog(catalog).ok_or_else(|| {
                plan_datafusion_err!("fingerprint: no catalog {catalog} for table {name}")
            })?;
            if catalog.schema(schema_name).is_none() {
                catalog.register_schema(schema_name, Arc::new(MemorySchemaProvider::new()))?;
            }
        }
        ctx.register_table(reference, Arc::new(EmptyTable::new(Arc::clone(schema))))?;
    }
    fingerprint::fingerprint_sql(&ctx.state(), sql).await
}

/// [`fingerprint_sql_over_tables`] with each table's schema as Arrow IPC bytes (a schema
/// message, as `pyarrow.Schema.serialize()` or an IPC stream writer produce), run to
/// completion here (the planning needs no runtime: the tables are empty and in memory).
pub fn fingerprint_sql_ipc(
    sql: &str,
    tables: &[(String, Vec<u8>)],
    policy: Option<SqlPolicy>,
) -> Result<PlanFingerprint> {
    let tables = tables
        .iter()
        .map(|(name, ipc)| {
            let schema = datafusion::arrow::ipc::convert::try_schema_from_ipc_buffer(ipc)
                .map_err(|e| plan_datafusion_err!("table {name}: unreadable schema: {e}"))?;
            Ok((name.clone(), Arc::new(schema) as SchemaRef))
        })
        .collect::<Result<Vec<_>>>()?;
    futures::executor::block_on(fingerprint_sql_over_tables(sql, &tables, policy))
}

/// `fingerprint` as the JSON of the plugin ABI's `Fingerprint`.
pub fn fingerprint_json(fingerprint: &PlanFingerprint) -> String {
    serde_json::json!({
        "spec_version": fingerprint.spec_version,
        "exact": fingerprint.exact.to_string(),
        "shape": fingerprint.shape.to_string(),
        "schema": fingerprint.schema.to_string(),
        "policy": fingerprint.policy.to_string(),
        "catalog": fingerprint.catalog.to_string(),
        "volatile": fingerprint.volatile,
    })
    .to_string()
}

/// The bundle's logical codec ([`datafusion_cpg::optimizer::codec`]), resolving against
/// the host's task context.
pub fn logical_codec(
    task_ctx_provider: FFI_TaskContextProvider,
) -> Result<FFI_LogicalExtensionCodec> {
    Ok(FFI_LogicalExtensionCodec::new(
        Arc::new(BundleCodec::default()),
        Some(runtime()?),
        task_ctx_provider,
    ))
}

/// The bundle's physical codec (see [`logical_codec`]).
pub fn physical_codec(
    task_ctx_provider: FFI_TaskContextProvider,
) -> Result<FFI_PhysicalExtensionCodec> {
    Ok(FFI_PhysicalExtensionCodec::new(
        Arc::new(BundleCodec::default()),
        Some(runtime()?),
        task_ctx_provider,
    ))
}

/// The physical optimizer rule `name`.
pub fn physical_optimizer_rule(name: &str) -> Result<FFI_PhysicalOptimizerRule> {
    match build(ExportKind::PhysicalOptimizerRule, name)? {
        Extension::PhysicalOptimizerRule(rule) => Ok(FFI_PhysicalOptimizerRule::new(
            GuardedPhysicalOptimizerRule::wrap(rule),
            Some(runtime()?),
        )),
        other => Err(wrong_kind(name, &other)),
    }
}

fn wrong_kind(name: &str, built: &Extension) -> datafusion::common::DataFusionError {
    exec_datafusion_err!(
        "datafusion-cpg export {name} built a {}, not the kind asked for",
        built.kind()
    )
}

/// Runs the body of an `extern "C"` export, turning an error or a panic into the error
/// string the host reports.
pub fn into_rresult<T>(what: &str, f: impl FnOnce() -> Result<T>) -> RResult<T, RString> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => RResult::ROk(value),
        Ok(Err(error)) => RResult::RErr(error.to_string().into()),
        Err(panic) => RResult::RErr(
            format!(
                "datafusion-cpg plugin panicked in {what}: {}",
                panic_message(&panic)
            )
            .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_lists_the_registry() {
        let manifest = manifest();
        let json = manifest.to_json();
        assert_eq!(Manifest::from_json(&json).unwrap(), manifest);
        let functions = manifest.names_of("scalar_function");
        assert_eq!(functions.len(), datafusion_cpg::udfs::functions().len());
        assert!(functions.contains(&"stable_id"));
        // Linked-only kinds are listed, marked as not crossing FFI.
        let rule = manifest
            .exports
            .iter()
            .find(|e| e.kind == "analyzer_rule")
            .unwrap();
        assert!(!rule.crosses_ffi);
        assert_eq!(manifest.stable_hash_encoding_version, 1);
    }

    #[test]
    fn an_unknown_export_is_an_error_naming_what_exists() {
        let error = scalar_udf("nope").err().unwrap().to_string();
        assert!(error.contains("no scalar_function named nope"), "{error}");
        let error = physical_optimizer_rule("nope").err().unwrap().to_string();
        assert!(
            error.contains("exported: cpg_sql_policy_physical"),
            "{error}"
        );
    }

    #[test]
    fn a_linked_only_export_is_refused_over_ffi() {
        let error = build(ExportKind::TableFunction, "plan_fingerprint")
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("table_function plan_fingerprint works only where the bundle is linked"),
            "{error}"
        );
    }

    #[test]
    fn a_panicking_export_body_is_an_error_string() {
        let result: RResult<(), RString> = into_rresult("thing", || panic!("boom"));
        assert_eq!(
            result.unwrap_err().as_str(),
            "datafusion-cpg plugin panicked in thing: boom"
        );
    }
}
