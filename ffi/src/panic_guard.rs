//! A scalar UDF wrapper that turns a panic into a `DataFusionError`.
//!
//! datafusion-ffi calls UDFs from `extern "C"` callbacks without `catch_unwind`; a
//! panic there aborts the host process (a Python interpreter, say). Every UDF the
//! plugin exports goes through [`PanicGuard`].

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, exec_datafusion_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};

/// `inner`, with every call that crosses the FFI boundary run under `catch_unwind`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PanicGuard {
    inner: Arc<ScalarUDF>,
}

impl PanicGuard {
    pub fn wrap(inner: Arc<ScalarUDF>) -> ScalarUDF {
        ScalarUDF::new_from_impl(Self { inner })
    }

    fn guard<T>(&self, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
            Err(exec_datafusion_err!(
                "{} panicked in {what}: {}; please report this with the query",
                self.inner.name(),
                panic_message(&panic)
            ))
        })
    }
}

/// The text of a panic payload.
pub fn panic_message(panic: &Box<dyn Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

impl ScalarUDFImpl for PanicGuard {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.guard("return_type", || self.inner.return_type(arg_types))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.guard("return_field_from_args", || {
            self.inner.return_field_from_args(args)
        })
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.guard("coerce_types", || self.inner.coerce_types(arg_types))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.guard("invoke_with_args", || self.inner.invoke_with_args(args))
    }

    fn short_circuits(&self) -> bool {
        self.inner.short_circuits()
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::Field;
    use datafusion::common::config::ConfigOptions;
    use datafusion::logical_expr::Volatility;

    use super::*;

    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Panics(Signature);

    impl ScalarUDFImpl for Panics {
        fn name(&self) -> &str {
            "panics"
        }
        fn signature(&self) -> &Signature {
            &self.0
        }
        fn return_type(&self, _: &[DataType]) -> Result<DataType> {
            Ok(DataType::Int64)
        }
        fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
            panic!("boom")
        }
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let udf = PanicGuard::wrap(Arc::new(ScalarUDF::new_from_impl(Panics(
            Signature::nullary(Volatility::Immutable),
        ))));
        let field = Arc::new(Field::new("f", DataType::Int64, true));
        let error = udf
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![],
                arg_fields: vec![],
                number_rows: 1,
                return_field: field,
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("panics panicked in invoke_with_args: boom"),
            "{error}"
        );
    }
}
