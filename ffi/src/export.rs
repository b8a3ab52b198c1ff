//! The plugin side: the exported root module and the `extern "C"` functions behind it.
//! Each body runs under `catch_unwind`; a panic comes back to the host as an error.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use abi_stable::export_root_module;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{RResult, RString, RVec};
use datafusion::common::{Result, plan_datafusion_err};
use datafusion_ffi::udf::FFI_ScalarUDF;

use crate::module::{CpgPlugin, CpgPluginRef, Manifest};
use crate::panic_guard::{PanicGuard, panic_message};

#[export_root_module]
pub fn root_module() -> CpgPluginRef {
    CpgPlugin {
        datafusion_ffi_version,
        manifest,
        scalar_udf,
    }
    .leak_into_prefix()
}

/// The `datafusion_ffi::version()` this plugin was built with; 0 if it cannot be read.
#[unsafe(no_mangle)]
pub extern "C" fn datafusion_cpg_datafusion_ffi_version() -> u64 {
    catch_unwind(|| datafusion_ffi::version()).unwrap_or(0)
}

extern "C" fn datafusion_ffi_version() -> u64 {
    datafusion_cpg_datafusion_ffi_version()
}

extern "C" fn manifest() -> RResult<Manifest, RString> {
    guarded("manifest", || Ok(plugin_manifest()))
}

extern "C" fn scalar_udf(name: RString) -> RResult<FFI_ScalarUDF, RString> {
    guarded("scalar_udf", || scalar_udf_by_name(&name))
}

/// The exported form of the bundle's scalar function `name`: panic-guarded, as an
/// `FFI_ScalarUDF`. Shared by the Rust plugin and the Python extension module.
pub fn scalar_udf_by_name(name: &str) -> Result<FFI_ScalarUDF> {
    let udf = datafusion_cpg::udfs::functions()
        .into_iter()
        .find(|udf| udf.name() == name)
        .ok_or_else(|| {
            plan_datafusion_err!(
                "datafusion-cpg exports no scalar function named {name}; exported: {}",
                scalar_function_names().join(", ")
            )
        })?;
    Ok(FFI_ScalarUDF::from(Arc::new(PanicGuard::wrap(udf))))
}

/// What this build of the plugin exports.
pub fn plugin_manifest() -> Manifest {
    let strings = |names: Vec<String>| names.into_iter().map(RString::from).collect::<RVec<_>>();
    Manifest {
        name: env!("CARGO_PKG_NAME").into(),
        version: env!("CARGO_PKG_VERSION").into(),
        datafusion_ffi_major: datafusion_cpg_datafusion_ffi_version(),
        capabilities: strings(vec!["scalar_functions".to_string()]),
        scalar_functions: strings(scalar_function_names()),
        table_functions: RVec::new(),
        table_factories: RVec::new(),
        planners: RVec::new(),
    }
}

/// The names of the bundle's scalar functions, in registration order.
pub fn scalar_function_names() -> Vec<String> {
    datafusion_cpg::udfs::functions()
        .iter()
        .map(|udf| udf.name().to_string())
        .collect()
}

/// Runs `f`, turning an error or a panic into the error string the host reports.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> RResult<T, RString> {
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
