//! The host side: loading the plugin library and registering what it exports.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use abi_stable::library::{RawLibrary, RootModule, lib_header_from_raw_library};
use abi_stable::std_types::{RResult, RString};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{ScalarUDF, ScalarUDFImpl};
use datafusion::prelude::SessionContext;

use crate::module::{CpgPluginRef, DATAFUSION_FFI_VERSION_SYMBOL, Manifest};

/// A loaded datafusion-cpg plugin. The library stays loaded for the life of the
/// process: FFI objects it created hold function pointers into it.
#[derive(Clone)]
pub struct Plugin {
    path: PathBuf,
    module: CpgPluginRef,
    manifest: Manifest,
}

/// What [`Plugin::register`] installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub scalar_functions: Vec<String>,
}

impl fmt::Display for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "registered {} scalar functions: {}",
            self.scalar_functions.len(),
            self.scalar_functions.join(", ")
        )
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("path", &self.path)
            .field("manifest", &self.manifest)
            .finish()
    }
}

fn plugin_error(path: &Path, message: impl fmt::Display) -> DataFusionError {
    DataFusionError::Plan(format!(
        "cannot load datafusion-cpg plugin {}: {message}",
        path.display()
    ))
}

impl Plugin {
    /// Loads the plugin library at `path` (e.g. `libdatafusion_cpg_ffi.so`).
    ///
    /// First compares the plugin's `datafusion_ffi::version()` with the host's and
    /// refuses a mismatch (the datafusion-ffi structs are opaque to abi_stable), then
    /// checks the abi_stable header, version and layout of the root module.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let library = RawLibrary::load_at(path).map_err(|e| plugin_error(path, e))?;
        // SAFETY: the symbol is the plugin's `extern "C" fn() -> u64`
        // (`export::datafusion_cpg_datafusion_ffi_version`); a library without it is
        // refused before anything is called.
        let plugin_version = unsafe {
            let version = library
                .get::<extern "C" fn() -> u64>(DATAFUSION_FFI_VERSION_SYMBOL)
                .map_err(|e| plugin_error(path, format!("not a datafusion-cpg plugin ({e})")))?;
            version()
        };
        check_version(path, plugin_version, datafusion_ffi::version())?;
        // Never unloaded: FFI structs handed out hold pointers into the library.
        let library: &'static RawLibrary = Box::leak(Box::new(library));
        // SAFETY: the library is leaked above, so the header's 'static references stay
        // valid; the layout of the root module is checked by `init_root_module`.
        let module = unsafe { lib_header_from_raw_library(library) }
            .and_then(|header| header.init_root_module::<CpgPluginRef>())
            .map_err(|e| plugin_error(path, e))?;
        let manifest = into_result(module.manifest()(), path)?;
        Ok(Self {
            path: path.to_path_buf(),
            module,
            manifest,
        })
    }

    /// Loads `libdatafusion_cpg_ffi.so` (or the platform's name for it) from `directory`.
    pub fn load_from_directory(directory: impl AsRef<Path>) -> Result<Self> {
        Self::load(CpgPluginRef::get_library_path(directory.as_ref()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the plugin exports.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The scalar UDF `name` from the plugin, as the host sees it (a
    /// `datafusion_ffi::udf::ForeignScalarUDF`).
    pub fn scalar_udf(&self, name: &str) -> Result<ScalarUDF> {
        let ffi = into_result(self.module.scalar_udf()(RString::from(name)), &self.path)?;
        let foreign: Arc<dyn ScalarUDFImpl> = (&ffi).into();
        Ok(ScalarUDF::new_from_shared_impl(foreign))
    }

    /// Registers everything the plugin exports into `ctx`. Registering again replaces
    /// the functions by name, so it is harmless.
    pub fn register(&self, ctx: &SessionContext) -> Result<Registration> {
        let mut scalar_functions = Vec::new();
        for name in &self.manifest.scalar_functions {
            ctx.register_udf(self.scalar_udf(name)?);
            scalar_functions.push(name.to_string());
        }
        Ok(Registration { scalar_functions })
    }
}

/// Refuses a plugin built with another datafusion-ffi major: its structs may have
/// another layout, and abi_stable cannot see them.
pub fn check_version(path: &Path, plugin_version: u64, host_version: u64) -> Result<()> {
    if plugin_version == host_version {
        return Ok(());
    }
    Err(plugin_error(
        path,
        format!(
            "it was built with datafusion-ffi {plugin_version} and this host uses \
             datafusion-ffi {host_version}; rebuild the plugin against datafusion \
             {host_version}.x"
        ),
    ))
}

fn into_result<T>(result: RResult<T, RString>, path: &Path) -> Result<T> {
    match result {
        RResult::ROk(value) => Ok(value),
        RResult::RErr(message) => Err(DataFusionError::Execution(format!(
            "datafusion-cpg plugin {}: {message}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_mismatch_names_both_versions() {
        let error = check_version(Path::new("libp.so"), 54, 55)
            .unwrap_err()
            .to_string();
        assert!(error.contains("datafusion-ffi 54"), "{error}");
        assert!(error.contains("datafusion-ffi 55"), "{error}");
        assert!(error.contains("libp.so"), "{error}");
        check_version(Path::new("libp.so"), 55, 55).unwrap();
    }
}
