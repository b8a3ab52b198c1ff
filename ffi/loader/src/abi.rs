//! The plugin's ABI: the `abi_stable` root module and the manifest it carries.
//!
//! How it evolves without breaking loading within one ABI major:
//! - The root module is an abi_stable prefix type. Fields are only ever appended after
//!   the last one; a host reading a field an older plugin lacks gets `None`
//!   (`missing_field(option)`), never a panic.
//! - The manifest crosses as JSON ([`Manifest`]): unknown keys and unknown export kinds
//!   are ignored by older hosts, missing keys take defaults in newer ones.
//! - [`ABI_MAJOR`] changes only when a field is removed or changes meaning; the abi_stable
//!   version string is derived from it, not from the crate version, so patch and minor
//!   releases of the bundle load into each other.
//! - The datafusion-ffi structs in the accessors are opaque to abi_stable (size and
//!   alignment only): the loader compares `datafusion_ffi::version()` first.

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RString, RVec, Tuple2};
use abi_stable::{StableAbi, declare_root_module_statics};
use datafusion_ffi::execution::FFI_TaskContextProvider;
use datafusion_ffi::physical_optimizer::FFI_PhysicalOptimizerRule;
use datafusion_ffi::proto::logical_extension_codec::FFI_LogicalExtensionCodec;
use datafusion_ffi::proto::physical_extension_codec::FFI_PhysicalExtensionCodec;
use datafusion_ffi::query_planner::FFI_QueryPlanner;
use datafusion_ffi::table_provider_factory::FFI_TableProviderFactory;
use datafusion_ffi::udf::FFI_ScalarUDF;
use datafusion_ffi::udtf::FFI_TableFunction;
use serde::{Deserialize, Serialize};

/// The plugin ABI major. Bumped only by a breaking change of [`CpgPlugin`].
pub const ABI_MAJOR: u32 = 1;

/// The symbol of the plugin's `extern "C" fn() -> u64` returning the
/// `datafusion_ffi::version()` it was built with; read before the root module.
pub const DATAFUSION_FFI_VERSION_SYMBOL: &[u8] = b"datafusion_cpg_datafusion_ffi_version\0";

/// What a plugin exports and what it was built with. Crosses the ABI as JSON, so that
/// adding a field or an export kind does not change any layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `datafusion-cpg`.
    pub name: String,
    /// The bundle's version.
    pub version: String,
    /// [`ABI_MAJOR`] of the plugin.
    pub abi_major: u32,
    /// The major version of datafusion-ffi the plugin was built with.
    pub datafusion_ffi_major: u64,
    /// The version of the stable-hash key encoding its `stable_hash64`/`stable_hash128`/
    /// `stable_id` implement (ids computed under different versions differ).
    #[serde(default)]
    pub stable_hash_encoding_version: u32,
    /// Every export of the bundle, in registration order, including those that only
    /// work where the bundle is linked (`crosses_ffi: false`).
    #[serde(default)]
    pub exports: Vec<ManifestEntry>,
}

/// One export of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The export kind's stable name, e.g. `scalar_function` (see the bundle's registry).
    pub kind: String,
    pub name: String,
    /// Whether datafusion-ffi can carry it to a host; false for kinds that work only
    /// where the bundle is linked (logical analyzer rules, relation planners).
    pub crosses_ffi: bool,
}

impl Manifest {
    /// The names of the exports of `kind` that cross FFI, in registration order.
    pub fn names_of(&self, kind: &str) -> Vec<&str> {
        self.exports
            .iter()
            .filter(|e| e.kind == kind && e.crosses_ffi)
            .map(|e| e.name.as_str())
            .collect()
    }

    pub fn to_json(&self) -> String {
        // A struct of strings, integers and vectors always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("unreadable manifest ({e}): {json}"))
    }
}

/// The root module. Fields are only ever appended; those after `manifest` are read as
/// `Option`s, so a host loads an older plugin and sees what it lacks as absent.
///
/// The datafusion-ffi structs are not `StableAbi`: their fields are
/// `unsafe_opaque_field` (abi_stable checks size and alignment only, the datafusion-ffi
/// version check covers the rest).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = CpgPluginRef)))]
#[sabi(missing_field(option))]
pub struct CpgPlugin {
    /// `datafusion_ffi::version()` of the plugin (also exported as a plain symbol,
    /// [`DATAFUSION_FFI_VERSION_SYMBOL`], which the loader checks first).
    pub datafusion_ffi_version: extern "C" fn() -> u64,
    /// The [`Manifest`] as JSON.
    #[sabi(last_prefix_field)]
    pub manifest: extern "C" fn() -> RResult<RString, RString>,
    /// The scalar UDF `name`.
    #[sabi(unsafe_opaque_field)]
    pub scalar_udf: extern "C" fn(name: RString) -> RResult<FFI_ScalarUDF, RString>,
    /// The table function `name`; its arguments are decoded with the host's codec.
    #[sabi(unsafe_opaque_field)]
    pub table_function: extern "C" fn(
        name: RString,
        codec: FFI_LogicalExtensionCodec,
    ) -> RResult<FFI_TableFunction, RString>,
    /// The table provider factory `name` (registered under that name, upper-cased, as
    /// a `STORED AS` format).
    #[sabi(unsafe_opaque_field)]
    pub table_provider_factory: extern "C" fn(
        name: RString,
        codec: FFI_LogicalExtensionCodec,
    ) -> RResult<FFI_TableProviderFactory, RString>,
    /// The query planner `name`, with the host's codecs.
    #[sabi(unsafe_opaque_field)]
    pub query_planner: extern "C" fn(
        name: RString,
        logical_codec: FFI_LogicalExtensionCodec,
        physical_codec: FFI_PhysicalExtensionCodec,
    ) -> RResult<FFI_QueryPlanner, RString>,
    /// The physical optimizer rule `name`.
    #[sabi(unsafe_opaque_field)]
    pub physical_optimizer_rule:
        extern "C" fn(name: RString) -> RResult<FFI_PhysicalOptimizerRule, RString>,
    /// The bundle's logical extension codec, resolving against the host's task context:
    /// the codec a host gives the bundle's query planner, so that the host's own tables
    /// cross it by handle.
    #[sabi(unsafe_opaque_field)]
    pub logical_codec: extern "C" fn(
        task_ctx_provider: FFI_TaskContextProvider,
    ) -> RResult<FFI_LogicalExtensionCodec, RString>,
    /// The bundle's physical extension codec (see `logical_codec`).
    #[sabi(unsafe_opaque_field)]
    pub physical_codec: extern "C" fn(
        task_ctx_provider: FFI_TaskContextProvider,
    ) -> RResult<FFI_PhysicalExtensionCodec, RString>,
    /// The bundle's query planner enforcing a SQL policy given as JSON (the keys of
    /// `cpg.policy`), with the host's codecs: for hosts without the bundle's analyzer rule.
    #[sabi(unsafe_opaque_field)]
    pub policy_query_planner: extern "C" fn(
        policy_json: RString,
        logical_codec: FFI_LogicalExtensionCodec,
        physical_codec: FFI_PhysicalExtensionCodec,
    ) -> RResult<FFI_QueryPlanner, RString>,
    /// The [`Fingerprint`] (as JSON) of the SQL statement `sql` over tables given as
    /// (resolved name, Arrow IPC schema): planned by the bundle over empty tables of those
    /// schemas, under the policy `policy_json` (the default policy if empty).
    pub fingerprint_sql: extern "C" fn(
        sql: RString,
        tables: RVec<Tuple2<RString, RVec<u8>>>,
        policy_json: RString,
    ) -> RResult<RString, RString>,
}

/// A plan fingerprint as it crosses the plugin boundary (see the bundle's
/// `optimizer::fingerprint`): hex digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub spec_version: u32,
    pub exact: String,
    pub shape: String,
    pub schema: String,
    pub policy: String,
    pub catalog: String,
    pub volatile: bool,
}

impl RootModule for CpgPluginRef {
    declare_root_module_statics! {CpgPluginRef}
    const BASE_NAME: &'static str = "datafusion_cpg_ffi";
    const NAME: &'static str = "datafusion_cpg_ffi";
    // Derived from ABI_MAJOR (minor and patch stay 0), not from the crate version: any
    // two builds of one ABI major load into each other.
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(ABI_VERSION_STRING);
}

const ABI_VERSION_STRING: &str = "1.0.0";
const _: () = assert!(ABI_MAJOR == 1, "update ABI_VERSION_STRING with ABI_MAJOR");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_from_another_release_still_reads() {
        // A newer plugin: an unknown key and an unknown export kind.
        let newer = r#"{"name":"datafusion-cpg","version":"0.9.0","abi_major":1,
            "datafusion_ffi_major":55,"stable_hash_encoding_version":1,"compression":"x",
            "exports":[{"kind":"scalar_function","name":"f","crosses_ffi":true},
                       {"kind":"window_function","name":"w","crosses_ffi":true}]}"#;
        let manifest = Manifest::from_json(newer).unwrap();
        assert_eq!(manifest.names_of("scalar_function"), vec!["f"]);
        assert_eq!(manifest.exports.len(), 2);
        // An older plugin: no encoding version, no exports.
        let older = r#"{"name":"datafusion-cpg","version":"0.1.0","abi_major":1,
            "datafusion_ffi_major":55}"#;
        let manifest = Manifest::from_json(older).unwrap();
        assert_eq!(manifest.stable_hash_encoding_version, 0);
        assert!(manifest.exports.is_empty());
        let error = Manifest::from_json("{").unwrap_err();
        assert!(error.starts_with("unreadable manifest"), "{error}");
    }

    #[test]
    fn the_abi_version_string_is_the_abi_major() {
        assert!(ABI_VERSION_STRING.starts_with(&format!("{ABI_MAJOR}.")));
    }
}
