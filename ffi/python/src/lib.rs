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

/// The names of every scalar function of the bundle.
#[pyfunction]
fn scalar_function_names() -> Vec<String> {
    export::names(ExportKind::ScalarFunction)
}

/// The scalar function `name`; `ValueError` naming the exported ones if unknown.
#[pyfunction]
fn scalar_function(name: &str) -> PyResult<ScalarFunction> {
    let names = export::names(ExportKind::ScalarFunction);
    if names.iter().any(|n| n == name) {
        Ok(ScalarFunction {
            name: name.to_string(),
        })
    } else {
        Err(PyValueError::new_err(format!(
            "datafusion_cpg has no scalar function named {name:?}; available: {}",
            names.join(", ")
        )))
    }
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
    m.add_function(wrap_pyfunction!(scalar_function_names, m)?)?;
    m.add_function(wrap_pyfunction!(scalar_function, m)?)?;
    m.add_function(wrap_pyfunction!(datafusion_ffi_version, m)?)?;
    m.add_function(wrap_pyfunction!(manifest_json, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
