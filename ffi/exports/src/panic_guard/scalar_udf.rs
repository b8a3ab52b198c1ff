//! [`GuardedScalarUdf`]: a scalar UDF wrapper that forwards every `ScalarUDFImpl`
//! method to the wrapped function, each under a panic guard.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{ExprSchema, Result, ScalarValue};
use datafusion::logical_expr::interval_arithmetic::Interval;
use datafusion::logical_expr::preimage::PreimageResult;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ExpressionPlacement, ReturnFieldArgs, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, StructFieldMapping,
};

use super::guard;

/// `inner`, with every call run under `catch_unwind`. Methods that cannot return an
/// error (`is_strict`, `short_circuits`, `placement`, ...) fall back to DataFusion's
/// default answer if the inner method panics.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct GuardedScalarUdf {
    inner: Arc<ScalarUDF>,
}

impl GuardedScalarUdf {
    pub fn wrap(inner: Arc<ScalarUDF>) -> ScalarUDF {
        ScalarUDF::new_from_impl(Self { inner })
    }

    fn guard<T>(&self, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        guard(self.inner.name(), what, f)
    }

    /// For methods without an error channel: the default answer if `f` panics.
    fn or_default<T>(&self, what: &str, default: T, f: impl FnOnce() -> T) -> T {
        self.guard(what, || Ok(f())).unwrap_or(default)
    }
}

impl ScalarUDFImpl for GuardedScalarUdf {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.guard("schema_name", || self.inner.inner().schema_name(args))
    }

    #[allow(deprecated)]
    fn display_name(&self, args: &[Expr]) -> Result<String> {
        self.guard("display_name", || self.inner.inner().display_name(args))
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.guard("return_type", || self.inner.return_type(arg_types))
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        self.or_default("with_updated_config", None, || {
            self.inner.inner().with_updated_config(config)
        })
        .map(|updated| Self::wrap(Arc::new(updated)))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.guard("return_field_from_args", || {
            self.inner.return_field_from_args(args)
        })
    }

    #[allow(deprecated)]
    fn is_nullable(&self, args: &[Expr], schema: &dyn ExprSchema) -> bool {
        self.or_default("is_nullable", true, || {
            self.inner.inner().is_nullable(args, schema)
        })
    }

    fn is_strict(&self) -> bool {
        self.or_default("is_strict", false, || self.inner.inner().is_strict())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.guard("invoke_with_args", || self.inner.invoke_with_args(args))
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.guard("simplify", || self.inner.inner().simplify(args, info))
    }

    fn preimage(
        &self,
        args: &[Expr],
        lit_expr: &Expr,
        info: &SimplifyContext,
    ) -> Result<PreimageResult> {
        self.guard("preimage", || {
            self.inner.inner().preimage(args, lit_expr, info)
        })
    }

    fn short_circuits(&self) -> bool {
        self.or_default("short_circuits", false, || self.inner.short_circuits())
    }

    fn conditional_arguments<'a>(
        &self,
        args: &'a [Expr],
    ) -> Option<(Vec<&'a Expr>, Vec<&'a Expr>)> {
        // The default answer depends on short_circuits: a panic gives the conservative
        // "every argument is conditional" when it short-circuits.
        let fallback = self
            .short_circuits()
            .then(|| (vec![], args.iter().collect()));
        match self.guard("conditional_arguments", || {
            Ok(self.inner.inner().conditional_arguments(args))
        }) {
            Ok(answer) => answer,
            Err(_) => fallback,
        }
    }

    fn evaluate_bounds(&self, input: &[&Interval]) -> Result<Interval> {
        self.guard("evaluate_bounds", || self.inner.evaluate_bounds(input))
    }

    fn propagate_constraints(
        &self,
        interval: &Interval,
        inputs: &[&Interval],
    ) -> Result<Option<Vec<Interval>>> {
        self.guard("propagate_constraints", || {
            self.inner.propagate_constraints(interval, inputs)
        })
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.guard("output_ordering", || self.inner.output_ordering(inputs))
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.guard("preserves_lex_ordering", || {
            self.inner.preserves_lex_ordering(inputs)
        })
    }

    fn strictly_order_preserving(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.guard("strictly_order_preserving", || {
            self.inner.inner().strictly_order_preserving(inputs)
        })
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.guard("coerce_types", || self.inner.coerce_types(arg_types))
    }

    fn struct_field_mapping(
        &self,
        literal_args: &[Option<ScalarValue>],
    ) -> Option<StructFieldMapping> {
        self.or_default("struct_field_mapping", None, || {
            self.inner.inner().struct_field_mapping(literal_args)
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn placement(&self, args: &[ExpressionPlacement]) -> ExpressionPlacement {
        self.or_default("placement", ExpressionPlacement::KeepInPlace, || {
            self.inner.inner().placement(args)
        })
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
        let udf = GuardedScalarUdf::wrap(Arc::new(ScalarUDF::new_from_impl(Panics(
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

    /// Answers every method differently from DataFusion's defaults.
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Unusual {
        signature: Signature,
        aliases: Vec<String>,
    }

    impl ScalarUDFImpl for Unusual {
        fn name(&self) -> &str {
            "unusual"
        }
        fn aliases(&self) -> &[String] {
            &self.aliases
        }
        fn signature(&self) -> &Signature {
            &self.signature
        }
        fn return_type(&self, _: &[DataType]) -> Result<DataType> {
            Ok(DataType::Utf8)
        }
        fn is_strict(&self) -> bool {
            true
        }
        fn short_circuits(&self) -> bool {
            true
        }
        fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
            Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some("x".into()))))
        }
        fn schema_name(&self, _: &[Expr]) -> Result<String> {
            Ok("custom_schema_name".into())
        }
        fn simplify(&self, _: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
            Ok(ExprSimplifyResult::Simplified(Expr::Literal(
                ScalarValue::Int64(Some(9)),
                None,
            )))
        }
        fn preserves_lex_ordering(&self, _: &[ExprProperties]) -> Result<bool> {
            Ok(true)
        }
        fn strictly_order_preserving(&self, _: &[ExprProperties]) -> Result<bool> {
            Ok(true)
        }
        fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
            Ok(vec![DataType::Int64; arg_types.len()])
        }
        fn placement(&self, _: &[ExpressionPlacement]) -> ExpressionPlacement {
            ExpressionPlacement::MoveTowardsLeafNodes
        }
        fn with_updated_config(&self, _: &ConfigOptions) -> Option<ScalarUDF> {
            Some(ScalarUDF::new_from_impl(Unusual {
                signature: self.signature.clone(),
                aliases: vec!["updated".into()],
            }))
        }
    }

    #[test]
    fn every_method_answers_as_the_wrapped_function() {
        let inner = Arc::new(ScalarUDF::new_from_impl(Unusual {
            signature: Signature::user_defined(Volatility::Stable),
            aliases: vec!["odd".into()],
        }));
        let guarded = GuardedScalarUdf::wrap(Arc::clone(&inner));
        let (g, i) = (guarded.inner(), inner.inner());
        assert_eq!(g.name(), i.name());
        assert_eq!(g.aliases(), i.aliases());
        assert_eq!(g.signature(), i.signature());
        assert_eq!(g.is_strict(), i.is_strict());
        assert_eq!(g.short_circuits(), i.short_circuits());
        assert_eq!(g.schema_name(&[]).unwrap(), "custom_schema_name");
        assert_eq!(
            g.coerce_types(&[DataType::Int8]).unwrap(),
            i.coerce_types(&[DataType::Int8]).unwrap()
        );
        assert_eq!(
            g.placement(&[ExpressionPlacement::Column]),
            ExpressionPlacement::MoveTowardsLeafNodes
        );
        assert!(g.preserves_lex_ordering(&[]).unwrap());
        assert!(g.strictly_order_preserving(&[]).unwrap());
        let args = [Expr::Literal(ScalarValue::Int64(Some(1)), None)];
        assert_eq!(
            g.conditional_arguments(&args)
                .map(|(a, b)| (a.len(), b.len())),
            Some((0, 1))
        );
        let simplified = g.simplify(vec![], &SimplifyContext::default()).unwrap();
        assert!(matches!(simplified, ExprSimplifyResult::Simplified(_)));
        let updated = g.with_updated_config(&ConfigOptions::default()).unwrap();
        assert_eq!(updated.aliases(), &["updated".to_string()]);
        // The updated function is guarded too.
        assert!(format!("{:?}", updated.inner()).starts_with("GuardedScalarUdf"));
    }
}
