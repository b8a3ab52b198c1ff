//! The host side: loading the plugin library and registering what it exports.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use abi_stable::library::{RawLibrary, RootModule, lib_header_from_raw_library};
use abi_stable::std_types::{RResult, RString, RVec, Tuple2};
use datafusion::catalog::{TableFunctionImpl, TableProviderFactory};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::{TaskContext, TaskContextProvider};
use datafusion::logical_expr::{ScalarUDF, ScalarUDFImpl};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::prelude::SessionContext;
use datafusion_ffi::execution::FFI_TaskContextProvider;
use datafusion_ffi::proto::logical_extension_codec::FFI_LogicalExtensionCodec;
use datafusion_ffi::proto::physical_extension_codec::FFI_PhysicalExtensionCodec;
use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;

use crate::abi::{ABI_MAJOR, CpgPluginRef, DATAFUSION_FFI_VERSION_SYMBOL, Fingerprint, Manifest};

/// A loaded datafusion-cpg plugin. The library stays loaded for the life of the
/// process: FFI objects it created hold function pointers into it.
#[derive(Clone)]
pub struct Plugin {
    path: PathBuf,
    module: CpgPluginRef,
    manifest: Manifest,
}

/// A host session as the task-context provider the plugin's codecs decode with. It holds
/// the session weakly (a plugin object must not keep the session that holds it alive);
/// once the session is gone it answers with a default task context.
struct SessionTaskContext {
    task_ctx: Box<dyn Fn() -> Option<Arc<TaskContext>> + Send + Sync>,
}

impl TaskContextProvider for SessionTaskContext {
    fn task_ctx(&self) -> Arc<TaskContext> {
        (self.task_ctx)().unwrap_or_default()
    }
}

/// datafusion-ffi keeps only a `Weak` to a task-context provider, so the (small, weak)
/// providers handed to plugins are kept here for the life of the process, as the plugin
/// libraries are.
static HOST_PROVIDERS: Mutex<Vec<Arc<dyn TaskContextProvider + Send + Sync>>> =
    Mutex::new(Vec::new());

/// What [`Plugin::register`] installed, by kind, and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registration {
    pub scalar_functions: Vec<String>,
    pub table_functions: Vec<String>,
    pub table_provider_factories: Vec<String>,
    pub query_planners: Vec<String>,
    pub physical_optimizer_rules: Vec<String>,
    /// `(kind, name, why)` of each export not registered: kinds this loader does not
    /// know (a newer plugin), kinds the plugin has no accessor for (an older one), and
    /// exports that work only where the bundle is linked.
    pub skipped: Vec<(String, String, String)>,
}

impl fmt::Display for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds = [
            ("scalar functions", &self.scalar_functions),
            ("table functions", &self.table_functions),
            ("table provider factories", &self.table_provider_factories),
            ("query planners", &self.query_planners),
            ("physical optimizer rules", &self.physical_optimizer_rules),
        ];
        let parts: Vec<String> = kinds
            .iter()
            .filter(|(_, names)| !names.is_empty())
            .map(|(kind, names)| format!("{} {kind}: {}", names.len(), names.join(", ")))
            .collect();
        write!(f, "registered {}", parts.join("; "))?;
        if !self.skipped.is_empty() {
            let skipped: Vec<String> = self
                .skipped
                .iter()
                .map(|(kind, name, why)| format!("{kind} {name} ({why})"))
                .collect();
            write!(f, "; not registered: {}", skipped.join(", "))?;
        }
        Ok(())
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
    /// checks the abi_stable header, ABI major and layout of the root module.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let library = RawLibrary::load_at(path).map_err(|e| plugin_error(path, e))?;
        // SAFETY: the symbol is the plugin's `extern "C" fn() -> u64`; a library without
        // it is refused before anything is called.
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
        let json = into_result(module.manifest()(), path)?;
        let manifest = Manifest::from_json(&json).map_err(|e| plugin_error(path, e))?;
        if manifest.abi_major != ABI_MAJOR {
            return Err(plugin_error(
                path,
                format!(
                    "it has plugin ABI {} and this loader reads ABI {ABI_MAJOR}",
                    manifest.abi_major
                ),
            ));
        }
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

    /// Loads the plugin from next to the running executable, where cargo puts it for a
    /// test or bench of the same workspace (`target/<profile>/deps/` or its parent).
    pub fn load_next_to_executable() -> Result<Self> {
        let exe = std::env::current_exe()?;
        let file_name = CpgPluginRef::get_library_path(Path::new(""));
        let candidates: Vec<PathBuf> = exe
            .ancestors()
            .skip(1)
            .take(2)
            .map(|dir| dir.join(&file_name))
            .collect();
        match candidates.iter().find(|p| p.exists()) {
            Some(path) => Self::load(path),
            None => Err(plugin_error(
                &file_name,
                format!(
                    "not found next to {} (looked in {}); build it with \
                     `cargo build -p datafusion-cpg-ffi`",
                    exe.display(),
                    candidates
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the plugin exports.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn absent(&self, accessor: &str) -> DataFusionError {
        plugin_error(
            &self.path,
            format!("this plugin build has no {accessor} export (it predates it)"),
        )
    }

    /// The scalar UDF `name` from the plugin, as the host sees it (a
    /// `datafusion_ffi::udf::ForeignScalarUDF`).
    pub fn scalar_udf(&self, name: &str) -> Result<ScalarUDF> {
        let accessor = self
            .module
            .scalar_udf()
            .ok_or_else(|| self.absent("scalar_udf"))?;
        let ffi = into_result(accessor(RString::from(name)), &self.path)?;
        let foreign: Arc<dyn ScalarUDFImpl> = (&ffi).into();
        Ok(ScalarUDF::new_from_shared_impl(foreign))
    }

    /// The table function `name`, decoding its arguments with `ctx`'s functions.
    pub fn table_function(
        &self,
        name: &str,
        ctx: &SessionContext,
    ) -> Result<Arc<dyn TableFunctionImpl>> {
        let accessor = self
            .module
            .table_function()
            .ok_or_else(|| self.absent("table_function"))?;
        let ffi = into_result(
            accessor(RString::from(name), self.logical_codec(ctx)),
            &self.path,
        )?;
        Ok(ffi.into())
    }

    /// The table provider factory `name`.
    pub fn table_provider_factory(
        &self,
        name: &str,
        ctx: &SessionContext,
    ) -> Result<Arc<dyn TableProviderFactory>> {
        let accessor = self
            .module
            .table_provider_factory()
            .ok_or_else(|| self.absent("table_provider_factory"))?;
        let ffi = into_result(
            accessor(RString::from(name), self.logical_codec(ctx)),
            &self.path,
        )?;
        Ok((&ffi).into())
    }

    /// The query planner `name`, with `ctx`'s codecs.
    pub fn query_planner(
        &self,
        name: &str,
        ctx: &SessionContext,
    ) -> Result<Arc<dyn QueryPlanner + Send + Sync>> {
        let accessor = self
            .module
            .query_planner()
            .ok_or_else(|| self.absent("query_planner"))?;
        let (logical, physical) = self.codecs(ctx)?;
        let ffi = into_result(accessor(RString::from(name), logical, physical), &self.path)?;
        Ok((&ffi).into())
    }

    /// Installs the plugin's query planner enforcing `policy_json` (a SQL policy as JSON,
    /// the keys of `cpg.policy`) on every plan `ctx` runs, with the plugin's codecs. The
    /// enforcement point for a host that cannot run the bundle's analyzer rule; DDL and
    /// `SET`, which `SessionContext::sql` runs before planning, are not covered.
    pub fn install_policy_planner(&self, ctx: &SessionContext, policy_json: &str) -> Result<()> {
        let accessor = self
            .module
            .policy_query_planner()
            .ok_or_else(|| self.absent("policy_query_planner"))?;
        let (logical, physical) = self.codecs(ctx)?;
        let ffi = into_result(
            accessor(RString::from(policy_json), logical, physical),
            &self.path,
        )?;
        let planner: Arc<dyn QueryPlanner + Send + Sync> = (&ffi).into();
        replace_state(ctx, |builder| builder.with_query_planner(planner));
        Ok(())
    }

    /// The fingerprint of the SQL statement `sql` over `ctx`'s tables (their names and
    /// schemas; the statement is planned by the plugin over empty tables of those schemas,
    /// never run), under the default policy: equal to the linked bundle's for the same
    /// statement over tables of the same schemas.
    pub async fn fingerprint(&self, ctx: &SessionContext, sql: &str) -> Result<Fingerprint> {
        let accessor = self
            .module
            .fingerprint_sql()
            .ok_or_else(|| self.absent("fingerprint_sql"))?;
        let mut tables = RVec::new();
        for catalog_name in ctx.catalog_names() {
            let Some(catalog) = ctx.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table_name in schema.table_names() {
                    if let Some(table) = schema.table(&table_name).await? {
                        let name = format!("{catalog_name}.{schema_name}.{table_name}");
                        tables.push(Tuple2(name.into(), ipc_schema(&table.schema())?.into()));
                    }
                }
            }
        }
        let json = into_result(accessor(sql.into(), tables, RString::new()), &self.path)?;
        serde_json::from_str(&json).map_err(|e| {
            plugin_error(
                &self.path,
                format!("returned an unreadable fingerprint: {e}"),
            )
        })
    }

    /// The codecs a planner of the plugin gets: the plugin's own (host tables and plans
    /// cross them by handle), or DataFusion's defaults from a plugin without them.
    pub fn codecs(
        &self,
        ctx: &SessionContext,
    ) -> Result<(FFI_LogicalExtensionCodec, FFI_PhysicalExtensionCodec)> {
        let provider = self.keep_host(ctx);
        match (self.module.logical_codec(), self.module.physical_codec()) {
            (Some(logical), Some(physical)) => {
                let task_ctx = || FFI_TaskContextProvider::from(&provider);
                Ok((
                    into_result(logical(task_ctx()), &self.path)?,
                    into_result(physical(task_ctx()), &self.path)?,
                ))
            }
            _ => Ok((
                FFI_LogicalExtensionCodec::new_default(&provider),
                FFI_PhysicalExtensionCodec::new(
                    Arc::new(DefaultPhysicalExtensionCodec {}),
                    None,
                    &provider,
                ),
            )),
        }
    }

    /// The physical optimizer rule `name`.
    pub fn physical_optimizer_rule(
        &self,
        name: &str,
    ) -> Result<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
        let accessor = self
            .module
            .physical_optimizer_rule()
            .ok_or_else(|| self.absent("physical_optimizer_rule"))?;
        let ffi = into_result(accessor(RString::from(name)), &self.path)?;
        Ok((&ffi).into())
    }

    fn keep_host(&self, ctx: &SessionContext) -> Arc<dyn TaskContextProvider> {
        let state = ctx.state_weak_ref();
        let provider: Arc<dyn TaskContextProvider + Send + Sync> = Arc::new(SessionTaskContext {
            task_ctx: Box::new(move || {
                state
                    .upgrade()
                    .map(|state| Arc::new(TaskContext::from(&*state.read())))
            }),
        });
        HOST_PROVIDERS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Arc::clone(&provider));
        provider
    }

    fn logical_codec(&self, ctx: &SessionContext) -> FFI_LogicalExtensionCodec {
        FFI_LogicalExtensionCodec::new_default(&self.keep_host(ctx))
    }

    /// Registers every export of the plugin that crosses FFI into `ctx`. Registering
    /// again is harmless (functions and factories are replaced by name, rules added
    /// once). Exports this loader or this plugin cannot carry are listed in
    /// [`Registration::skipped`], not treated as errors.
    pub fn register(&self, ctx: &SessionContext) -> Result<Registration> {
        let mut done = Registration::default();
        for entry in &self.manifest.exports {
            let (kind, name) = (entry.kind.as_str(), entry.name.as_str());
            if !entry.crosses_ffi {
                done.skipped
                    .push(skip(kind, name, "works only where the bundle is linked"));
                continue;
            }
            match kind {
                "scalar_function" => {
                    ctx.register_udf(self.scalar_udf(name)?);
                    done.scalar_functions.push(name.to_string());
                }
                "table_function" => {
                    ctx.register_udtf(name, self.table_function(name, ctx)?);
                    done.table_functions.push(name.to_string());
                }
                "table_provider_factory" => {
                    let factory = self.table_provider_factory(name, ctx)?;
                    let state = ctx.state_ref();
                    let mut state = state.write();
                    state
                        .table_factories_mut()
                        .insert(name.to_ascii_uppercase(), factory);
                    done.table_provider_factories.push(name.to_string());
                }
                "query_planner" => {
                    let planner = self.query_planner(name, ctx)?;
                    replace_state(ctx, |builder| builder.with_query_planner(planner));
                    done.query_planners.push(name.to_string());
                }
                "physical_optimizer_rule" => {
                    let rule = self.physical_optimizer_rule(name)?;
                    if !ctx
                        .state()
                        .physical_optimizers()
                        .iter()
                        .any(|r| r.name() == rule.name())
                    {
                        replace_state(ctx, |builder| builder.with_physical_optimizer_rule(rule));
                    }
                    done.physical_optimizer_rules.push(name.to_string());
                }
                _ => done
                    .skipped
                    .push(skip(kind, name, "a kind this loader does not know")),
            }
        }
        Ok(done)
    }
}

fn skip(kind: &str, name: &str, why: &str) -> (String, String, String) {
    (kind.to_string(), name.to_string(), why.to_string())
}

/// SessionState has no setter for the query planner or physical rules: rebuild it.
fn replace_state(ctx: &SessionContext, f: impl FnOnce(SessionStateBuilder) -> SessionStateBuilder) {
    let state = ctx.state_ref();
    let mut state = state.write();
    *state = f(SessionStateBuilder::new_from_existing(state.clone())).build();
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

/// `schema` as an Arrow IPC stream holding only the schema message.
fn ipc_schema(schema: &datafusion::arrow::datatypes::Schema) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut writer = datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut bytes, schema)?;
    writer.finish()?;
    drop(writer);
    Ok(bytes)
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

    #[test]
    fn a_registration_reports_what_it_skipped() {
        let registration = Registration {
            scalar_functions: vec!["a".into(), "b".into()],
            skipped: vec![skip(
                "analyzer_rule",
                "r",
                "works only where the bundle is linked",
            )],
            ..Default::default()
        };
        assert_eq!(
            registration.to_string(),
            "registered 2 scalar functions: a, b; not registered: analyzer_rule r \
             (works only where the bundle is linked)"
        );
    }
}
