//! `datafusion-cpg-ffi`: the datafusion-cpg bundle as a plugin (cdylib) that any Rust
//! DataFusion 55 host loads at run time with `datafusion_cpg_loader::Plugin`.
//!
//! This crate owns only the exported symbols: the `abi_stable` root module and the
//! `extern "C"` functions behind it, each a one-line call into
//! `datafusion_cpg_exports` under `into_rresult` (errors and panics come back to the
//! host as error strings).

use abi_stable::export_root_module;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{RResult, RString, RVec, Tuple2};
use datafusion_cpg_exports as exports;
use datafusion_cpg_exports::into_rresult;
use datafusion_cpg_loader::abi::{CpgPlugin, CpgPluginRef};
use datafusion_ffi::execution::FFI_TaskContextProvider;
use datafusion_ffi::physical_optimizer::FFI_PhysicalOptimizerRule;
use datafusion_ffi::proto::logical_extension_codec::FFI_LogicalExtensionCodec;
use datafusion_ffi::proto::physical_extension_codec::FFI_PhysicalExtensionCodec;
use datafusion_ffi::query_planner::FFI_QueryPlanner;
use datafusion_ffi::table_provider_factory::FFI_TableProviderFactory;
use datafusion_ffi::udf::FFI_ScalarUDF;
use datafusion_ffi::udtf::FFI_TableFunction;

#[export_root_module]
pub fn root_module() -> CpgPluginRef {
    CpgPlugin {
        datafusion_ffi_version,
        manifest,
        scalar_udf,
        table_function,
        table_provider_factory,
        query_planner,
        physical_optimizer_rule,
        logical_codec,
        physical_codec,
        policy_query_planner,
        fingerprint_sql,
    }
    .leak_into_prefix()
}

/// The `datafusion_ffi::version()` this plugin was built with; 0 if it cannot be read.
#[unsafe(no_mangle)]
pub extern "C" fn datafusion_cpg_datafusion_ffi_version() -> u64 {
    std::panic::catch_unwind(|| datafusion_ffi::version()).unwrap_or(0)
}

extern "C" fn datafusion_ffi_version() -> u64 {
    datafusion_cpg_datafusion_ffi_version()
}

extern "C" fn manifest() -> RResult<RString, RString> {
    into_rresult("manifest", || Ok(exports::manifest().to_json().into()))
}

extern "C" fn scalar_udf(name: RString) -> RResult<FFI_ScalarUDF, RString> {
    into_rresult("scalar_udf", || exports::scalar_udf(&name))
}

extern "C" fn table_function(
    name: RString,
    codec: FFI_LogicalExtensionCodec,
) -> RResult<FFI_TableFunction, RString> {
    into_rresult("table_function", || exports::table_function(&name, codec))
}

extern "C" fn table_provider_factory(
    name: RString,
    codec: FFI_LogicalExtensionCodec,
) -> RResult<FFI_TableProviderFactory, RString> {
    into_rresult("table_provider_factory", || {
        exports::table_provider_factory(&name, codec)
    })
}

extern "C" fn query_planner(
    name: RString,
    logical_codec: FFI_LogicalExtensionCodec,
    physical_codec: FFI_PhysicalExtensionCodec,
) -> RResult<FFI_QueryPlanner, RString> {
    into_rresult("query_planner", || {
        exports::query_planner(&name, logical_codec, physical_codec)
    })
}

extern "C" fn physical_optimizer_rule(
    name: RString,
) -> RResult<FFI_PhysicalOptimizerRule, RString> {
    into_rresult("physical_optimizer_rule", || {
        exports::physical_optimizer_rule(&name)
    })
}

extern "C" fn logical_codec(
    task_ctx_provider: FFI_TaskContextProvider,
) -> RResult<FFI_LogicalExtensionCodec, RString> {
    into_rresult("logical_codec", || {
        exports::logical_codec(task_ctx_provider)
    })
}

extern "C" fn physical_codec(
    task_ctx_provider: FFI_TaskContextProvider,
) -> RResult<FFI_PhysicalExtensionCodec, RString> {
    into_rresult("physical_codec", || {
        exports::physical_codec(task_ctx_provider)
    })
}

extern "C" fn policy_query_planner(
    policy_json: RString,
    logical_codec: FFI_LogicalExtensionCodec,
    physical_codec: FFI_PhysicalExtensionCodec,
) -> RResult<FFI_QueryPlanner, RString> {
    into_rresult("policy_query_planner", || {
        let policy = exports::parse_policy(&policy_json)?;
        Ok(exports::policy_query_planner(policy, true, logical_codec, physical_codec).0)
    })
}

extern "C" fn fingerprint_sql(
    sql: RString,
    tables: RVec<Tuple2<RString, RVec<u8>>>,
    policy_json: RString,
) -> RResult<RString, RString> {
    into_rresult("fingerprint_sql", || {
        let tables: Vec<(String, Vec<u8>)> = tables
            .into_iter()
            .map(|Tuple2(name, ipc)| (name.into_string(), ipc.into_vec()))
            .collect();
        let policy = match policy_json.as_str() {
            "" => None,
            json => Some(exports::parse_policy(json)?),
        };
        let fingerprint = exports::fingerprint_sql_ipc(&sql, &tables, policy)?;
        Ok(exports::fingerprint_json(&fingerprint).into())
    })
}
