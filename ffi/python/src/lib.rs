//! `datafusion_cpg._native`: the bundle's exports as PyCapsules for datafusion-python 55.
//!
//! Each export is a Python object with the `__datafusion_*__` getter datafusion-python
//! calls (`__datafusion_scalar_udf__()` for scalar functions); the getter builds the
//! datafusion-ffi struct from the same panic-guarded objects the Rust plugin exports
//! (`datafusion_cpg_exports`), which reads the bundle's export registry. Getters that
//! take the host `session` build their codecs from it: table functions, the bundle's
//! codecs (`Codecs`) and its query planner (`QueryPlanner`, with a policy).

use std::ffi::{CStr, CString};

use datafusion_cpg::optimizer::policy::SqlPolicy;
use datafusion_cpg::optimizer::policy::log::QueryLog;
use datafusion_cpg::registry::ExportKind;
use datafusion_cpg_exports as export;
use datafusion_ffi::execution::FFI_TaskContextProvider;
use datafusion_ffi::proto::logical_extension_codec::FFI_LogicalExtensionCodec;
use datafusion_ffi::proto::physical_extension_codec::FFI_PhysicalExtensionCodec;
use datafusion_ffi::udf::FFI_ScalarUDF;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// One scalar function of the bundle, exportable to datafusion-python.
#[pyclass(module = "datafusion_cpg._native", name = "ScalarFunction", frozen)]
struct ScalarFunction {
    #[pyo3(get)]
    name: String,
}

#[pymethods]
impl ScalarFunction {
    /// The `datafusion_scalar_udf` capsule datafusion-python's `udf()` reads.
    fn __datafusion_scalar_udf__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let udf: FFI_ScalarUDF =
            export::scalar_udf(&self.name).map_err(|e| PyValueError::new_err(e.to_string()))?;
        PyCapsule::new(py, udf, Some(CString::from(c"datafusion_scalar_udf")))
    }

    fn __repr__(&self) -> String {
        format!("ScalarFunction({:?})", self.name)
    }
}

/// One table function of the bundle, exportable to datafusion-python
/// (`datafusion.TableFunction(name, obj, ctx)`).
#[pyclass(module = "datafusion_cpg._native", name = "TableFunction", frozen)]
struct TableFunction {
    #[pyo3(get)]
    name: String,
}

#[pymethods]
impl TableFunction {
    /// The `datafusion_table_function` capsule; `session` is the host context (or its
    /// logical codec capsule), whose codec decodes the function's arguments.
    #[pyo3(signature = (session=None))]
    fn __datafusion_table_function__<'py>(
        &self,
        py: Python<'py>,
        session: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let codec = session_codec(&self.name, "__datafusion_table_function__", session)?;
        let function = export::table_function(&self.name, codec).map_err(value_error)?;
        PyCapsule::new(
            py,
            function,
            Some(CString::from(c"datafusion_table_function")),
        )
    }

    fn __repr__(&self) -> String {
        format!("TableFunction({:?})", self.name)
    }
}

/// One table provider factory of the bundle, exportable to datafusion-python
/// (`ctx.register_table_factory("DELTA_CDF", obj)`).
#[pyclass(
    module = "datafusion_cpg._native",
    name = "TableProviderFactory",
    frozen
)]
struct TableProviderFactory {
    #[pyo3(get)]
    name: String,
}

#[pymethods]
impl TableProviderFactory {
    /// The `datafusion_table_provider_factory` capsule; `session` as for table functions
    /// (its codec carries the DDL and the created provider).
    #[pyo3(signature = (session=None))]
    fn __datafusion_table_provider_factory__<'py>(
        &self,
        py: Python<'py>,
        session: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let codec = session_codec(&self.name, "__datafusion_table_provider_factory__", session)?;
        let factory = export::table_provider_factory(&self.name, codec).map_err(value_error)?;
        PyCapsule::new(
            py,
            factory,
            Some(CString::from(c"datafusion_table_provider_factory")),
        )
    }

    fn __repr__(&self) -> String {
        format!("TableProviderFactory({:?})", self.name)
    }
}

/// The logical codec of the host `session` a getter was given (required).
fn session_codec(
    name: &str,
    getter: &str,
    session: Option<Bound<'_, PyAny>>,
) -> PyResult<FFI_LogicalExtensionCodec> {
    let session = session.ok_or_else(|| {
        PyValueError::new_err(format!(
            "{name}: {getter} needs the SessionContext it is installed on"
        ))
    })?;
    host_logical_codec(&session)
}

/// A datafusion-ffi struct read out of the capsule `object` holds (or that
/// `object.<getter>()` returns: a SessionContext's codec, task context provider, ...),
/// after checking the capsule's name; cloned through the struct's own `clone` callback.
fn from_capsule<T: Clone>(object: &Bound<'_, PyAny>, getter: &str, name: &CStr) -> PyResult<T> {
    let object = if object.hasattr(getter)? {
        object.call_method0(getter)?
    } else {
        object.clone()
    };
    let capsule = object.cast::<PyCapsule>().map_err(|_| {
        PyValueError::new_err(format!(
            "expected a datafusion SessionContext or a {} capsule",
            name.to_string_lossy()
        ))
    })?;
    let pointer = capsule.pointer_checked(Some(name))?;
    // SAFETY: the capsule's name says which datafusion-ffi struct it holds (checked
    // above); it is only borrowed here and cloned through its own `clone` callback.
    Ok(unsafe { pointer.cast::<T>().as_ref() }.clone())
}

/// Refuses a struct from a host built with another datafusion-ffi major.
fn check_host_version(what: &str, host_version: u64) -> PyResult<()> {
    if host_version == datafusion_ffi::version() {
        return Ok(());
    }
    Err(pyo3::exceptions::PyImportError::new_err(format!(
        "the host's {what} is from datafusion-ffi {host_version}, this module's is {}",
        datafusion_ffi::version()
    )))
}

/// The host's logical extension codec (from its SessionContext or a codec capsule).
fn host_logical_codec(session: &Bound<'_, PyAny>) -> PyResult<FFI_LogicalExtensionCodec> {
    let codec: FFI_LogicalExtensionCodec = from_capsule(
        session,
        "__datafusion_logical_extension_codec__",
        c"datafusion_logical_extension_codec",
    )?;
    // SAFETY: `version` is a plain `extern "C" fn() -> u64` of the codec's library.
    check_host_version("logical codec", unsafe { (codec.version)() })?;
    Ok(codec)
}

/// The host's physical extension codec (from its SessionContext or a codec capsule).
fn host_physical_codec(session: &Bound<'_, PyAny>) -> PyResult<FFI_PhysicalExtensionCodec> {
    let codec: FFI_PhysicalExtensionCodec = from_capsule(
        session,
        "__datafusion_physical_extension_codec__",
        c"datafusion_physical_extension_codec",
    )?;
    // SAFETY: as for the logical codec.
    check_host_version("physical codec", unsafe { (codec.version)() })?;
    Ok(codec)
}

fn required_session<'py>(
    session: Option<Bound<'py, PyAny>>,
    getter: &str,
) -> PyResult<Bound<'py, PyAny>> {
    session.ok_or_else(|| {
        PyValueError::new_err(format!(
            "{getter} needs the SessionContext it is installed on"
        ))
    })
}

fn value_error(error: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(error.to_string())
}

/// The bundle's extension codecs, for `SessionContext.with_logical_extension_codec` and
/// `with_physical_extension_codec`: with them the session's in-memory tables and plans
/// cross the bundle's planner by handle.
#[pyclass(module = "datafusion_cpg._native", name = "Codecs", frozen)]
struct Codecs {}

#[pymethods]
impl Codecs {
    #[new]
    fn new() -> Self {
        Self {}
    }

    /// Names the bundle's codec payloads in datafusion-python's codec registry.
    #[getter]
    fn __datafusion_codec_id__(&self) -> &'static str {
        "datafusion_cpg"
    }

    #[pyo3(signature = (session=None))]
    fn __datafusion_logical_extension_codec__<'py>(
        &self,
        py: Python<'py>,
        session: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let session = required_session(session, "__datafusion_logical_extension_codec__")?;
        let codec = export::logical_codec(task_context_provider(&session)?).map_err(value_error)?;
        PyCapsule::new(
            py,
            codec,
            Some(CString::from(c"datafusion_logical_extension_codec")),
        )
    }

    #[pyo3(signature = (session=None))]
    fn __datafusion_physical_extension_codec__<'py>(
        &self,
        py: Python<'py>,
        session: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let session = required_session(session, "__datafusion_physical_extension_codec__")?;
        let codec =
            export::physical_codec(task_context_provider(&session)?).map_err(value_error)?;
        PyCapsule::new(
            py,
            codec,
            Some(CString::from(c"datafusion_physical_extension_codec")),
        )
    }
}

fn task_context_provider(session: &Bound<'_, PyAny>) -> PyResult<FFI_TaskContextProvider> {
    from_capsule(
        session,
        "__datafusion_task_context_provider__",
        c"datafusion_task_context_provider",
    )
}

fn parse_policy(policy_json: Option<&str>) -> PyResult<Option<SqlPolicy>> {
    policy_json
        .map(|json| SqlPolicy::from_json(json).map_err(value_error))
        .transpose()
}

/// The bundle's query planner for `SessionContext.set_query_planner`, enforcing a
/// policy (JSON, as `SqlPolicy::from_json` reads it; default: allow everything) and
/// logging every decision.
#[pyclass(module = "datafusion_cpg._native", name = "QueryPlanner", frozen)]
struct QueryPlanner {
    policy: SqlPolicy,
    span_join: bool,
    log: std::sync::Mutex<Option<std::sync::Arc<QueryLog>>>,
}

#[pymethods]
impl QueryPlanner {
    #[new]
    #[pyo3(signature = (policy_json=None, span_join=true))]
    fn new(policy_json: Option<&str>, span_join: bool) -> PyResult<Self> {
        Ok(Self {
            policy: parse_policy(policy_json)?.unwrap_or_default(),
            span_join,
            log: std::sync::Mutex::new(None),
        })
    }

    #[pyo3(signature = (session=None))]
    fn __datafusion_query_planner__<'py>(
        &self,
        py: Python<'py>,
        session: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let session = required_session(session, "__datafusion_query_planner__")?;
        let (planner, log) = export::policy_query_planner(
            self.policy.clone(),
            self.span_join,
            host_logical_codec(&session)?,
            host_physical_codec(&session)?,
        );
        *self.log.lock().unwrap_or_else(|p| p.into_inner()) = Some(log);
        PyCapsule::new(
            py,
            planner,
            Some(CString::from(c"datafusion_query_planner")),
        )
    }

    /// The decisions so far, oldest first, as JSON objects (`decision`, `code`,
    /// `reason`, `fingerprint`, `shape`, `tables`, `functions`, `plan`).
    fn query_log_json(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let entries = log.as_ref().map(|log| log.entries()).unwrap_or_default();
        let entries: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "decision": if e.allowed { "allow" } else { "deny" },
                    "code": e.code,
                    "reason": e.reason,
                    "fingerprint": e.fingerprint.map(|f| f.exact.to_string()),
                    "shape": e.fingerprint.map(|f| f.shape.to_string()),
                    "tables": e.tables,
                    "functions": e.functions,
                    "plan": e.plan,
                })
            })
            .collect();
        serde_json::Value::Array(entries).to_string()
    }
}

/// The fingerprint (JSON: spec_version, hex digests, volatile) of a logical plan `session` encoded with
/// `LogicalPlan.to_bytes(session)`; see `datafusion_cpg.fingerprint`.
#[pyfunction]
#[pyo3(signature = (plan_bytes, session, policy_json=None))]
fn fingerprint_plan_bytes(
    plan_bytes: &[u8],
    session: Bound<'_, PyAny>,
    policy_json: Option<&str>,
) -> PyResult<String> {
    let codec = host_logical_codec(&session)?;
    let policy = parse_policy(policy_json)?;
    let f = export::fingerprint_encoded_plan(plan_bytes, &codec, policy.as_ref())
        .map_err(value_error)?;
    Ok(export::fingerprint_json(&f))
}

/// The fingerprint (JSON, as above) of the SQL statement `sql` over tables given as (resolved name,
/// Arrow IPC schema bytes); see `datafusion_cpg.fingerprint`.
#[pyfunction]
#[pyo3(signature = (sql, tables, policy_json=None))]
fn fingerprint_sql(
    py: Python<'_>,
    sql: &str,
    tables: Vec<(String, Vec<u8>)>,
    policy_json: Option<&str>,
) -> PyResult<String> {
    let policy = parse_policy(policy_json)?;
    let f = py
        .detach(|| export::fingerprint_sql_ipc(sql, &tables, policy))
        .map_err(value_error)?;
    Ok(export::fingerprint_json(&f))
}

/// The names of every table function of the bundle.
#[pyfunction]
fn table_function_names() -> Vec<String> {
    export::names(ExportKind::TableFunction)
}

/// The table function `name`; `ValueError` naming the exported ones if unknown.
#[pyfunction]
fn table_function(name: &str) -> PyResult<TableFunction> {
    exported_name(ExportKind::TableFunction, name).map(|name| TableFunction { name })
}

/// `name` if the bundle exports something of `kind` by that name, else a `ValueError`
/// listing what it exports of that kind.
fn exported_name(kind: ExportKind, name: &str) -> PyResult<String> {
    let names = export::names(kind);
    if names.iter().any(|n| n == name) {
        Ok(name.to_string())
    } else {
        Err(PyValueError::new_err(format!(
            "datafusion_cpg has no {} named {name:?}; available: {}",
            kind.name().replace('_', " "),
            names.join(", ")
        )))
    }
}

/// The names of every table provider factory of the bundle (the `STORED AS` names).
#[pyfunction]
fn table_provider_factory_names() -> Vec<String> {
    export::names(ExportKind::TableProviderFactory)
}

/// The table provider factory `name`; `ValueError` naming the exported ones if unknown.
#[pyfunction]
fn table_provider_factory(name: &str) -> PyResult<TableProviderFactory> {
    exported_name(ExportKind::TableProviderFactory, name).map(|name| TableProviderFactory { name })
}

/// The names of every scalar function of the bundle.
#[pyfunction]
fn scalar_function_names() -> Vec<String> {
    export::names(ExportKind::ScalarFunction)
}

/// The scalar function `name`; `ValueError` naming the exported ones if unknown.
#[pyfunction]
fn scalar_function(name: &str) -> PyResult<ScalarFunction> {
    exported_name(ExportKind::ScalarFunction, name).map(|name| ScalarFunction { name })
}

/// The `datafusion_ffi::version()` this module was built with (the datafusion major).
#[pyfunction]
fn datafusion_ffi_version() -> u64 {
    datafusion_ffi::version()
}

/// The plugin manifest of this build as JSON: every export of the registry by kind,
/// the ABI major and the stable-hash encoding version.
#[pyfunction]
fn manifest_json() -> String {
    export::manifest().to_json()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ScalarFunction>()?;
    m.add_class::<TableFunction>()?;
    m.add_class::<TableProviderFactory>()?;
    m.add_class::<Codecs>()?;
    m.add_class::<QueryPlanner>()?;
    m.add_function(wrap_pyfunction!(fingerprint_plan_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint_sql, m)?)?;
    m.add_function(wrap_pyfunction!(table_function_names, m)?)?;
    m.add_function(wrap_pyfunction!(table_function, m)?)?;
    m.add_function(wrap_pyfunction!(table_provider_factory_names, m)?)?;
    m.add_function(wrap_pyfunction!(table_provider_factory, m)?)?;
    m.add_function(wrap_pyfunction!(scalar_function_names, m)?)?;
    m.add_function(wrap_pyfunction!(scalar_function, m)?)?;
    m.add_function(wrap_pyfunction!(datafusion_ffi_version, m)?)?;
    m.add_function(wrap_pyfunction!(manifest_json, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
