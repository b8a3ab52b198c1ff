//! `list_enumerate(list)`: pairs every element with its 1-based position, so that
//! `unnest(list_enumerate(items))` explodes a list with positions in one pass and
//! without copying the element values.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, GenericListArray, Int64Array, OffsetSizeTrait, StructArray,
};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

/// Name of the position field of each element struct.
pub const ORDINALITY: &str = "ordinality";
/// Name of the value field of each element struct.
pub const VALUE: &str = "value";

#[user_doc(
    doc_section(label = "List Functions"),
    description = "Pairs each list element with its 1-based position: returns a list of structs {ordinality: Int64, value: T}, in element order. A NULL list gives NULL, an empty list an empty list. Use with unnest to explode a list with positions: `SELECT id, unnest(list_enumerate(items)) AS e FROM t` (unnest_outer keeps NULL and empty lists as one row).",
    syntax_example = "list_enumerate(list)",
    sql_example = r#"```sql
> select unnest(list_enumerate(['a', 'b']));
{ordinality: 1, value: a}
{ordinality: 2, value: b}
```"#,
    argument(
        name = "list",
        description = "List, LargeList or FixedSizeList expression."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ListEnumerate {
    signature: Signature,
}

impl Default for ListEnumerate {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The element struct fields for list elements described by `item`.
pub fn element_fields(item: &Field) -> Fields {
    Fields::from(vec![
        Field::new(ORDINALITY, DataType::Int64, false),
        Field::new(VALUE, item.data_type().clone(), item.is_nullable()),
    ])
}

fn enumerated_item(item: &Field) -> FieldRef {
    Arc::new(Field::new_list_field(
        DataType::Struct(element_fields(item)),
        false,
    ))
}

impl ScalarUDFImpl for ListEnumerate {
    fn name(&self) -> &str {
        "list_enumerate"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::List(_) | DataType::LargeList(_)] => Ok(arg_types.to_vec()),
            [DataType::FixedSizeList(item, _)] => Ok(vec![DataType::List(Arc::clone(item))]),
            [DataType::Null] => Ok(vec![DataType::List(Arc::new(Field::new_list_field(
                DataType::Null,
                true,
            )))]),
            [other] => plan_err!(
                "list_enumerate expects a List, LargeList or FixedSizeList argument, got {other}"
            ),
            _ => plan_err!(
                "list_enumerate expects exactly one list argument, got {}",
                arg_types.len()
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [DataType::List(item)] => Ok(DataType::List(enumerated_item(item))),
            [DataType::LargeList(item)] => Ok(DataType::LargeList(enumerated_item(item))),
            _ => plan_err!("list_enumerate: unexpected argument types {arg_types:?}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = datafusion::common::utils::take_function_args(self.name(), args.args)?;
        match arg {
            ColumnarValue::Array(array) => Ok(ColumnarValue::Array(enumerate(&array)?)),
            ColumnarValue::Scalar(scalar) => {
                let array = enumerate(&scalar.to_array()?)?;
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                    &array, 0,
                )?))
            }
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// `list_enumerate` on an array: List → List, LargeList → LargeList, FixedSizeList → List.
pub fn enumerate(array: &ArrayRef) -> Result<ArrayRef> {
    match array.data_type() {
        DataType::List(_) => Ok(Arc::new(enumerate_offsets(array.as_list::<i32>())?)),
        DataType::LargeList(_) => Ok(Arc::new(enumerate_offsets(array.as_list::<i64>())?)),
        DataType::FixedSizeList(item, _) => {
            enumerate(&cast(array, &DataType::List(Arc::clone(item)))?)
        }
        other => exec_err!("list_enumerate expects a list, got {other}"),
    }
}

fn enumerate_offsets<O: OffsetSizeTrait>(
    list: &GenericListArray<O>,
) -> Result<GenericListArray<O>> {
    let (DataType::List(item) | DataType::LargeList(item)) = list.data_type() else {
        return exec_err!("list_enumerate expects a list, got {}", list.data_type());
    };
    let offsets = list.value_offsets();
    let first = offsets.first().copied().unwrap_or_else(O::zero);
    let last = offsets.last().copied().unwrap_or_else(O::zero);
    let (start, len) = (first.as_usize(), (last - first).as_usize());

    // The element values are shared, not copied: only positions are materialized.
    let values = list.values().slice(start, len);
    let mut ordinality = Vec::with_capacity(len);
    for bounds in offsets.windows(2) {
        let n = (bounds[1] - bounds[0]).as_usize() as i64;
        ordinality.extend(1..=n);
    }
    let elements = StructArray::try_new(
        element_fields(item),
        vec![Arc::new(Int64Array::from(ordinality)) as ArrayRef, values],
        None,
    )?;
    let rebased: ScalarBuffer<O> = offsets.iter().map(|o| *o - first).collect();
    Ok(GenericListArray::try_new(
        enumerated_item(item),
        OffsetBuffer::new(rebased),
        Arc::new(elements),
        list.nulls().cloned(),
    )?)
}
