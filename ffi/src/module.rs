//! The plugin's ABI: the `abi_stable` root module and its manifest.

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RString, RVec};
use abi_stable::{StableAbi, declare_root_module_statics, package_version_strings};
use datafusion_ffi::udf::FFI_ScalarUDF;

/// The symbol of the plugin's `extern "C" fn() -> u64` returning the
/// `datafusion_ffi::version()` it was built with; read before the root module.
pub const DATAFUSION_FFI_VERSION_SYMBOL: &[u8] = b"datafusion_cpg_datafusion_ffi_version\0";

/// Everything a plugin exports, by kind, and what it was built with.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `datafusion-cpg-ffi`.
    pub name: RString,
    /// The plugin crate's version.
    pub version: RString,
    /// The major version of datafusion-ffi the plugin was built with.
    pub datafusion_ffi_major: u64,
    /// What the plugin can install, e.g. `scalar_functions`.
    pub capabilities: RVec<RString>,
    pub scalar_functions: RVec<RString>,
    pub table_functions: RVec<RString>,
    pub table_factories: RVec<RString>,
    pub planners: RVec<RString>,
}

/// The root module. Fields are only ever appended (after `scalar_udf`), so a newer
/// host can load an older plugin and see the missing fields as absent.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = CpgPluginRef)))]
#[sabi(missing_field(panic))]
pub struct CpgPlugin {
    /// `datafusion_ffi::version()` of the plugin (also exported as a plain symbol,
    /// [`DATAFUSION_FFI_VERSION_SYMBOL`], which the loader checks first).
    pub datafusion_ffi_version: extern "C" fn() -> u64,
    pub manifest: extern "C" fn() -> RResult<Manifest, RString>,
    /// The scalar UDF named `name` (one of `Manifest::scalar_functions`).
    ///
    /// `FFI_ScalarUDF` is not `StableAbi`: abi_stable checks only its size and
    /// alignment, the version check covers the rest.
    #[sabi(last_prefix_field)]
    #[sabi(unsafe_opaque_field)]
    pub scalar_udf: extern "C" fn(name: RString) -> RResult<FFI_ScalarUDF, RString>,
}

impl RootModule for CpgPluginRef {
    declare_root_module_statics! {CpgPluginRef}
    const BASE_NAME: &'static str = "datafusion_cpg_ffi";
    const NAME: &'static str = "datafusion_cpg_ffi";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
