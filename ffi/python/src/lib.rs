//! `datafusion_cpg._native`: the bundle's exports as PyCapsules for datafusion-python 55.
//!
//! Each export is a Python object with the `__datafusion_*__` getter datafusion-python
//! calls (`__datafusion_scalar_udf__()` for scalar functions); the getter builds the
//! datafusion-ffi struct from the same panic-guarded objects the Rust plugin exports
//! (`datafusion_cpg_exports`), which reads the bundle's export registry. Later kinds
//! (table functions, providers, factories, the planner) add a class here whose getter
//! takes the host `session` argument and builds its codec from it.

use std::ffi::CString;

use datafusion_cpg::registry::ExportKind;
use datafusion_cpg_exports as export;
use datafusion_ffi::proto::logical_extension_codec::FFI_LogicalExtensionCodec;
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
        let session = session.ok_or_else(|| {
            PyValueError::new_err(format!(
                "{}: __datafusion_table_function__ needs the SessionContext it is installed on",
                self.name
            ))
        })?;
        let codec = host_logical_codec(&session)?;
        let function = export::table_function(&self.name, codec)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
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

/// The host's logical extension codec, from its SessionContext (through
/// `__datafusion_logical_extension_codec__`) or from a codec capsule, cloned out of the
/// capsule after checking its name and datafusion-ffi version.
fn host_logical_codec(session: &Bound<'_, PyAny>) -> PyResult<FFI_LogicalExtensionCodec> {
    const NAME: &std::ffi::CStr = c"datafusion_logical_extension_codec";
    let object = if session.hasattr("__datafusion_logical_extension_codec__")? {
        session.call_method0("__datafusion_logical_extension_codec__")?
    } else {
        session.clone()
    };
    let capsule = object.cast::<PyCapsule>().map_err(|_| {
        PyValueError::new_err(
            "expected a datafusion SessionContext or a datafusion_logical_extension_codec capsule",
        )
    })?;
    let pointer = capsule.pointer_checked(Some(NAME))?;
    // SAFETY: the capsule's name says it holds an FFI_LogicalExtensionCodec (checked
    // above); it is only borrowed here and cloned through its own `clone` callback.
    let codec = unsafe { pointer.cast::<FFI_LogicalExtensionCodec>().as_ref() }.clone();
    // SAFETY: `version` is a plain `extern "C" fn() -> u64` of the codec's library.
    let host_version = unsafe { (codec.version)() };
    if host_version != datafusion_ffi::version() {
        return Err(pyo3::exceptions::PyImportError::new_err(format!(
            "the host's datafusion-ffi is {host_version}, this module's is {}",
            datafusion_ffi::version()
        )));
    }
    Ok(codec)
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
    m.add_function(wrap_pyfunction!(table_function_names, m)?)?;
    m.add_function(wrap_pyfunction!(table_function, m)?)?;
    m.add_function(wrap_pyfunction!(scalar_function_names, m)?)?;
    m.add_function(wrap_pyfunction!(scalar_function, m)?)?;
    m.add_function(wrap_pyfunction!(datafusion_ffi_version, m)?)?;
    m.add_function(wrap_pyfunction!(manifest_json, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
