//! Scalar functions for building code property graphs on DataFusion 55.
//!
//! - [`hash`]: `stable_hash64`, `stable_hash128`, `stable_id` (stable across runs,
//!   machines and languages) and Spark-compatible `xxhash64`.
//! - [`span`]: `span_len`, `span_overlaps`, `span_contains` on half-open byte spans.
//! - [`text`]: `utf8_normalize`, `qname_normalize`.
//! - [`list`]: `list_enumerate`, list explode with positions.
//!
//! [`functions`] lists them all; [`register`] installs them into any
//! [`FunctionRegistry`] (a `SessionContext`, a `SessionState`); [`expr_fn`] builds them
//! as DataFrame expressions.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::ScalarUDF;

pub mod hash;
pub mod list;
pub mod span;
pub mod text;

/// Defines `pub fn $fn_name() -> Arc<ScalarUDF>` returning one shared instance of `$udf`.
macro_rules! udf_singleton {
    ($udf:ty, $fn_name:ident) => {
        #[doc = concat!("The shared [`ScalarUDF`] of [`", stringify!($udf), "`].")]
        pub fn $fn_name() -> Arc<ScalarUDF> {
            static INSTANCE: std::sync::LazyLock<Arc<ScalarUDF>> =
                std::sync::LazyLock::new(|| Arc::new(ScalarUDF::new_from_impl(<$udf>::default())));
            Arc::clone(&INSTANCE)
        }
    };
}

udf_singleton!(hash::stable_hash64::StableHash64, stable_hash64);
udf_singleton!(hash::stable_hash128::StableHash128, stable_hash128);
udf_singleton!(hash::stable_id::StableId, stable_id);
udf_singleton!(hash::xxhash64::XxHash64, xxhash64);
udf_singleton!(span::span_len::SpanLen, span_len);
udf_singleton!(span::span_overlaps::SpanOverlaps, span_overlaps);
udf_singleton!(span::span_contains::SpanContains, span_contains);
udf_singleton!(text::utf8_normalize::Utf8Normalize, utf8_normalize);
udf_singleton!(text::qname_normalize::QnameNormalize, qname_normalize);
udf_singleton!(list::list_enumerate::ListEnumerate, list_enumerate);

/// Every scalar function of this crate.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        stable_hash64(),
        stable_hash128(),
        stable_id(),
        xxhash64(),
        span_len(),
        span_overlaps(),
        span_contains(),
        utf8_normalize(),
        qname_normalize(),
        list_enumerate(),
    ]
}

/// Registers every function into `registry`. Registering again replaces the same
/// functions by name, so calling this twice is harmless.
pub fn register(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for udf in functions() {
        registry.register_udf(udf)?;
    }
    Ok(())
}

pub mod expr_fn;

/// Adds every function to a session being built, replacing same-named entries, so
/// installing twice is harmless. Call it after `with_default_features()`.
pub fn install(
    mut builder: datafusion::execution::session_state::SessionStateBuilder,
) -> datafusion::execution::session_state::SessionStateBuilder {
    let ours = functions();
    let list = builder.scalar_functions().get_or_insert_with(Vec::new);
    list.retain(|existing| !ours.iter().any(|udf| udf.name() == existing.name()));
    list.extend(ours);
    builder
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Calling a function the way DataFusion's executor does, for the unit tests of
    //! every module.

    use std::sync::Arc;

    use datafusion::arrow::datatypes::{Field, FieldRef};
    use datafusion::common::Result;
    use datafusion::config::ConfigOptions;
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl};

    /// Invokes `udf` on `args` (value and field each) over `number_rows` rows.
    pub(crate) fn call(
        udf: &dyn ScalarUDFImpl,
        args: Vec<(ColumnarValue, FieldRef)>,
        number_rows: usize,
    ) -> Result<ColumnarValue> {
        let (args, arg_fields): (Vec<_>, Vec<_>) = args.into_iter().unzip();
        let types = arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect::<Vec<_>>();
        let return_field = Arc::new(Field::new(udf.name(), udf.return_type(&types)?, true));
        udf.invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows,
            return_field,
            config_options: Arc::new(ConfigOptions::default()),
        })
    }
}
