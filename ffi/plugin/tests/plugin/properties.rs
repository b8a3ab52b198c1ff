//! The robustness harness: random Arrow inputs for every scalar function of the bundle,
//! run natively and through the loaded plugin.
//!
//! Each case draws a function, an argument count it accepts (and sometimes one it does
//! not), and for each argument a type (every type the function accepts plus a few it must
//! refuse), values with NULLs and extremes, and a form: a plain column, a sliced column,
//! a dictionary, or a scalar literal. Batches may be empty. Properties:
//! - nothing panics, natively or over FFI;
//! - an error is a `DataFusionError` (never an internal error) whose text names the
//!   function;
//! - native and FFI agree: both fail, or both return the same values.
//!
//! `PROPTEST_CASES` sets the number of cases (CI runs the default below; a soak run sets
//! e.g. `PROPTEST_CASES=20000`).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray, ListArray,
    RecordBatch, StringArray, StringViewArray, TimestampNanosecondArray, UInt8Array, UInt32Array,
    UInt64Array, new_null_array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::prelude::SessionContext;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{plugin, plugin_ctx};

/// Cases per run unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 96;

/// A function and the argument counts it accepts.
struct Form {
    name: &'static str,
    arities: &'static [usize],
    params: Param,
}

/// What kind of arguments a function takes (the first argument of `Text` may be
/// followed by options).
#[derive(Clone, Copy)]
enum Param {
    /// Any supported value type (hash functions).
    AnyValue,
    /// Integers (span functions).
    Integer,
    /// Text, then text options (a form) and flags.
    TextThenOptions,
    /// Text, text, flag (qname_normalize).
    QualifiedName,
    /// A list.
    List,
}

const FORMS: &[Form] = &[
    Form {
        name: "stable_hash64",
        arities: &[1, 2, 3, 5],
        params: Param::AnyValue,
    },
    Form {
        name: "stable_hash128",
        arities: &[1, 2, 4],
        params: Param::AnyValue,
    },
    Form {
        name: "stable_id",
        arities: &[2, 3, 5],
        params: Param::AnyValue,
    },
    Form {
        name: "xxhash64",
        arities: &[1, 2, 3],
        params: Param::AnyValue,
    },
    Form {
        name: "span_len",
        arities: &[2],
        params: Param::Integer,
    },
    Form {
        name: "span_overlaps",
        arities: &[4],
        params: Param::Integer,
    },
    Form {
        name: "span_contains",
        arities: &[4],
        params: Param::Integer,
    },
    Form {
        name: "utf8_normalize",
        arities: &[1, 2, 3, 4],
        params: Param::TextThenOptions,
    },
    Form {
        name: "qname_normalize",
        arities: &[1, 2, 3],
        params: Param::QualifiedName,
    },
    Form {
        name: "list_enumerate",
        arities: &[1],
        params: Param::List,
    },
];

/// Argument types drawn for each parameter kind; the last few of each list are ones the
/// function must refuse with an error.
fn types_for(params: Param, position: usize) -> Vec<DataType> {
    use DataType::*;
    let dict = |value: DataType| Dictionary(Box::new(Int32), Box::new(value));
    let text = vec![Utf8, LargeUtf8, Utf8View, dict(Utf8), Null];
    match (params, position) {
        (Param::AnyValue, _) => vec![
            Int8,
            Int16,
            Int32,
            Int64,
            UInt8,
            UInt32,
            UInt64,
            Float32,
            Float64,
            Boolean,
            Utf8,
            LargeUtf8,
            Utf8View,
            dict(Utf8),
            Binary,
            Date32,
            Timestamp(datafusion::arrow::datatypes::TimeUnit::Nanosecond, None),
            Decimal128(12, 3),
            Null,
            List(Arc::new(Field::new_list_field(Int64, true))),
        ],
        (Param::Integer, _) => vec![
            Int8, Int16, Int32, Int64, UInt8, UInt32, UInt64, Null, Utf8, Float64,
        ],
        (Param::TextThenOptions, 0) | (Param::QualifiedName, 0 | 1) => {
            [text, vec![Int64, Boolean]].concat()
        }
        (Param::TextThenOptions, 1) => [text, vec![Int64]].concat(),
        (Param::TextThenOptions, _) | (Param::QualifiedName, _) => vec![Boolean, Null, Utf8],
        (Param::List, _) => vec![
            List(Arc::new(Field::new_list_field(Int64, true))),
            List(Arc::new(Field::new_list_field(Utf8, true))),
            Null,
            Int64,
            Utf8,
        ],
    }
}

/// One value of a generated column, before it is typed.
#[derive(Debug, Clone)]
enum Raw {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

fn raw_value() -> impl Strategy<Value = Raw> {
    let extremes = prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(-1i64),
        Just(0i64),
        Just(i64::from(i32::MAX)),
        Just(u32::MAX as i64),
    ];
    let texts = prop_oneof![
        Just(String::new()),
        Just(" ".to_string()),
        Just("NFC".to_string()),
        Just("nfkd".to_string()),
        Just("Straße ΣΑΣ ﬁle Ｆｏｏ".to_string()),
        Just(" a . .b.. ".to_string()),
        Just("...".to_string()),
        "[a-zA-Z0-9_. ]{0,12}",
        any::<String>(),
    ];
    prop_oneof![
        1 => Just(Raw::Null),
        2 => extremes.prop_map(Raw::Int),
        3 => (0i64..5000).prop_map(Raw::Int),
        3 => texts.prop_map(Raw::Text),
        1 => any::<bool>().prop_map(Raw::Bool),
    ]
}

/// How an argument reaches the function.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Column,
    /// A column sliced out of a longer one (non-zero offset).
    Sliced,
    /// The first value as a scalar literal.
    Scalar,
}

#[derive(Debug, Clone)]
struct Argument {
    data_type: DataType,
    values: Vec<Raw>,
    shape: Shape,
}

#[derive(Debug, Clone)]
struct Case {
    function: &'static str,
    rows: usize,
    arguments: Vec<Argument>,
}

fn case() -> impl Strategy<Value = Case> {
    (0..FORMS.len(), 0usize..6, any::<bool>()).prop_flat_map(|(form, rows, wrong_arity)| {
        let form = &FORMS[form];
        let arity = if wrong_arity && form.arities.len() == 1 {
            // Occasionally one argument too many: an error, not a panic.
            form.arities[0] + 1
        } else {
            form.arities[rows % form.arities.len()]
        };
        let arguments: Vec<_> = (0..arity)
            .map(|position| {
                let types = types_for(form.params, position);
                (
                    proptest::sample::select(types),
                    proptest::collection::vec(raw_value(), rows + 2),
                    prop_oneof![
                        Just(Shape::Column),
                        Just(Shape::Sliced),
                        Just(Shape::Scalar)
                    ],
                )
                    .prop_map(|(data_type, values, shape)| Argument {
                        data_type,
                        values,
                        shape,
                    })
            })
            .collect();
        (Just(form.name), Just(rows), arguments).prop_map(|(function, rows, arguments)| Case {
            function,
            rows,
            arguments,
        })
    })
}

/// `values` as an array of `data_type` (values that do not fit the type become NULL or
/// wrap, as a loader would produce them).
fn typed(data_type: &DataType, values: &[Raw]) -> ArrayRef {
    let int = |v: &Raw| match v {
        Raw::Int(i) => Some(*i),
        Raw::Bool(b) => Some(i64::from(*b)),
        Raw::Text(t) => Some(t.len() as i64),
        Raw::Null => None,
    };
    let text = |v: &Raw| match v {
        Raw::Text(t) => Some(t.clone()),
        Raw::Int(i) => Some(i.to_string()),
        Raw::Bool(b) => Some(b.to_string()),
        Raw::Null => None,
    };
    let ints = || values.iter().map(int);
    let texts = || values.iter().map(text).collect::<Vec<_>>();
    match data_type {
        DataType::Int8 => Arc::new(ints().map(|v| v.map(|v| v as i8)).collect::<Int8Array>()),
        DataType::Int16 => Arc::new(ints().map(|v| v.map(|v| v as i16)).collect::<Int16Array>()),
        DataType::Int32 => Arc::new(ints().map(|v| v.map(|v| v as i32)).collect::<Int32Array>()),
        DataType::Int64 => Arc::new(ints().collect::<Int64Array>()),
        DataType::UInt8 => Arc::new(ints().map(|v| v.map(|v| v as u8)).collect::<UInt8Array>()),
        DataType::UInt32 => Arc::new(ints().map(|v| v.map(|v| v as u32)).collect::<UInt32Array>()),
        DataType::UInt64 => Arc::new(ints().map(|v| v.map(|v| v as u64)).collect::<UInt64Array>()),
        DataType::Float32 => Arc::new(
            ints()
                .map(|v| v.map(|v| v as f32 / 7.0))
                .collect::<Float32Array>(),
        ),
        DataType::Float64 => Arc::new(
            ints()
                .map(|v| v.map(|v| v as f64 / 7.0))
                .collect::<Float64Array>(),
        ),
        DataType::Boolean => Arc::new(
            ints()
                .map(|v| v.map(|v| v % 2 == 0))
                .collect::<BooleanArray>(),
        ),
        DataType::Date32 => Arc::new(ints().map(|v| v.map(|v| v as i32)).collect::<Date32Array>()),
        DataType::Timestamp(_, _) => Arc::new(ints().collect::<TimestampNanosecondArray>()),
        DataType::Decimal128(p, s) => Arc::new(
            ints()
                .map(|v| v.map(|v| i128::from(v) % 10i128.pow(u32::from(*p))))
                .collect::<Decimal128Array>()
                .with_precision_and_scale(*p, *s)
                .expect("valid decimal type"),
        ),
        DataType::Utf8 => Arc::new(StringArray::from(texts())),
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from(texts())),
        DataType::Utf8View => Arc::new(StringViewArray::from(texts())),
        DataType::Binary => Arc::new(
            texts()
                .iter()
                .map(|v| v.as_ref().map(|s| s.as_bytes()))
                .collect::<BinaryArray>(),
        ),
        DataType::Dictionary(_, value) => {
            let values = typed(value, values);
            cast(&values, data_type).expect("dictionary cast")
        }
        DataType::List(field) if field.data_type() == &DataType::Int64 => {
            let lists = ints().map(|v| {
                v.map(|v| {
                    (0..(v.rem_euclid(4)))
                        .map(|i| Some(v.wrapping_add(i)))
                        .collect::<Vec<_>>()
                })
            });
            Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(lists))
        }
        DataType::List(_) => {
            let strings = typed(&DataType::Utf8, values);
            let list = ListArray::from_iter_primitive::<Int64Type, _, _>(
                ints().map(|v| v.map(|v| vec![Some(v)])),
            );
            // A list of strings: the same offsets over a Utf8 child.
            let child: ArrayRef = strings.slice(0, list.values().len().min(strings.len()));
            if child.len() == list.values().len() {
                Arc::new(ListArray::new(
                    Arc::new(Field::new_list_field(DataType::Utf8, true)),
                    list.offsets().clone(),
                    child,
                    list.nulls().cloned(),
                ))
            } else {
                new_null_array(data_type, values.len())
            }
        }
        other => new_null_array(other, values.len()),
    }
}

/// The batch of column arguments and the call expression for `case`.
fn build(case: &Case) -> (RecordBatch, Vec<Expr>) {
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    let mut args = Vec::new();
    for (i, argument) in case.arguments.iter().enumerate() {
        let full = typed(&argument.data_type, &argument.values);
        match argument.shape {
            Shape::Scalar => {
                let scalar = ScalarValue::try_from_array(&full, 0).expect("scalar from array");
                args.push(lit(scalar));
            }
            Shape::Column | Shape::Sliced => {
                let offset = if matches!(argument.shape, Shape::Sliced) {
                    2
                } else {
                    0
                };
                let column = full.slice(offset, case.rows);
                let name = format!("c{i}");
                fields.push(Field::new(&name, column.data_type().clone(), true));
                columns.push(column);
                args.push(col(name));
            }
        }
    }
    // At least one column so the batch has the case's row count.
    fields.push(Field::new("rowid", DataType::Int64, false));
    columns.push(Arc::new(Int64Array::from_iter_values(0..case.rows as i64)));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch");
    (batch, args)
}

/// Runs the case's call in `ctx` and returns the result column, or the error.
async fn call(ctx: &SessionContext, case: &Case) -> Result<Vec<RecordBatch>, DataFusionError> {
    let (batch, args) = build(case);
    let df = ctx.read_batch(batch)?;
    let udf = ctx.udf(case.function)?;
    df.select(vec![udf.call(args).alias("out")])?
        .collect()
        .await
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Runtime::new().expect("tokio runtime"));

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn check_error(where_: &str, case: &Case, error: &DataFusionError) -> Result<(), TestCaseError> {
    let text = error.to_string();
    prop_assert!(
        !matches!(error.find_root(), DataFusionError::Internal(_)),
        "{where_}: internal error for {case:?}: {text}"
    );
    prop_assert!(
        text.to_lowercase().contains(case.function),
        "{where_}: the error does not name {}: {text}",
        case.function
    );
    Ok(())
}

#[test]
fn native_and_ffi_agree_on_random_inputs_and_never_panic() {
    let plugin = plugin();
    let native = datafusion_cpg::session_context().expect("native session");
    let foreign = plugin_ctx(&plugin);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&case(), |case| {
            let native_result = RUNTIME.block_on(call(&native, &case));
            let ffi_result = RUNTIME.block_on(call(&foreign, &case));
            match (&native_result, &ffi_result) {
                (Ok(native), Ok(ffi)) => {
                    let native_rows: Vec<_> = native.iter().map(|b| b.column(0).clone()).collect();
                    let ffi_rows: Vec<_> = ffi.iter().map(|b| b.column(0).clone()).collect();
                    let concat = |arrays: &[ArrayRef]| {
                        let refs: Vec<_> = arrays.iter().map(|a| a.as_ref()).collect();
                        datafusion::arrow::compute::concat(&refs).ok()
                    };
                    prop_assert_eq!(
                        concat(&native_rows).map(|a| a.to_data()),
                        concat(&ffi_rows).map(|a| a.to_data()),
                        "native and FFI differ for {:?}",
                        case
                    );
                    let rows: usize = native.iter().map(|b| b.num_rows()).sum();
                    prop_assert_eq!(rows, case.rows);
                }
                (Err(native), Err(ffi)) => {
                    check_error("native", &case, native)?;
                    check_error("ffi", &case, ffi)?;
                }
                _ => prop_assert!(
                    false,
                    "one path failed and the other did not for {case:?}:\n  native {native_result:?}\n  ffi {ffi_result:?}"
                ),
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
