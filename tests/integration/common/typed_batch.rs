//! A wide batch with one column per Arrow type family the functions meet (strings and
//! their dictionaries, every integer width, floats, decimals, temporal types, binary,
//! lists, structs, NULL), NULLs in the same rows of every column, and equivalent columns
//! holding the same logical values in different physical types.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, DurationSecondArray,
    FixedSizeBinaryArray, FixedSizeListArray, Float32Array, Int64Array, ListArray, NullArray,
    RecordBatch, StringArray, StructArray, Time32SecondArray, TimestampSecondArray,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, IntervalUnit, Schema, TimeUnit};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn item(data_type: DataType) -> FieldRef {
    Arc::new(Field::new_list_field(data_type, true))
}

/// Lists of 0..4 consecutive values of `values` (wrapping), NULL where `valid` is false.
fn list_of(values: &ArrayRef, valid: &[bool]) -> ArrayRef {
    let n = values.len();
    let mut offsets = vec![0i32];
    let mut indices = Vec::new();
    for row in 0..valid.len() {
        for k in 0..(row % 5) {
            indices.push(((row + k) % n) as u32);
        }
        offsets.push(indices.len() as i32);
    }
    let taken = datafusion::arrow::compute::take(
        values,
        &datafusion::arrow::array::UInt32Array::from(indices),
        None,
    )
    .unwrap();
    Arc::new(ListArray::new(
        item(values.data_type().clone()),
        OffsetBuffer::new(offsets.into()),
        taken,
        Some(NullBuffer::from(valid.to_vec())),
    ))
}

/// Pairs of values as `FixedSizeList(2)`, no NULL lists.
fn fixed_size_list_of(values: &ArrayRef) -> ArrayRef {
    let doubled = datafusion::arrow::compute::concat(&[values.as_ref(), values.as_ref()]).unwrap();
    Arc::new(FixedSizeListArray::new(
        item(values.data_type().clone()),
        2,
        doubled,
        None,
    ))
}

/// `Some(x)` in valid rows, `None` in the others.
fn pick<T>(valid: bool, x: T) -> Option<T> {
    if valid { Some(x) } else { None }
}

fn dict(key: DataType, value: DataType) -> DataType {
    DataType::Dictionary(Box::new(key), Box::new(value))
}

/// Random base columns (NULLs in the same rows everywhere) and their re-typed copies.
pub fn typed_batch(rows: usize) -> RecordBatch {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let valid: Vec<bool> = (0..rows).map(|_| rng.random_range(0..10) != 0).collect();

    let alphabet: Vec<char> = "abcxyz/._-0189 éüß漢字🦀".chars().collect();
    let strings: StringArray = valid
        .iter()
        .map(|&v| {
            let len = rng.random_range(0..48);
            let s: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            pick(v, s)
        })
        .collect();
    let small: Int64Array = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(0..=127i64)))
        .collect();
    let signed: Int64Array = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-128..=127i64)))
        .collect();
    let specials = [0.0f32, -0.0, f32::NAN, -f32::NAN, f32::INFINITY, 1.5, -2.25];
    let floats: Float32Array = valid
        .iter()
        .map(|&v| {
            let x = if rng.random_range(0..4) == 0 {
                specials[rng.random_range(0..specials.len())]
            } else {
                rng.random::<f32>() * 1e6 - 5e5
            };
            pick(v, x)
        })
        .collect();
    let halves: Float32Array = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-512..512) as f32 / 2.0))
        .collect();
    let decimals = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-1_000_000i128..1_000_000)))
        .collect::<Decimal128Array>()
        .with_precision_and_scale(10, 1)
        .unwrap();
    let seconds: Vec<Option<i64>> = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-2_000_000_000i64..4_000_000_000)))
        .collect();
    let timestamps = TimestampSecondArray::from(seconds.clone());
    let zoned = TimestampSecondArray::from(seconds.clone()).with_timezone("+02:00");
    let days: Date32Array = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(-100_000..100_000)))
        .collect();
    let times: Time32SecondArray = valid
        .iter()
        .map(|&v| pick(v, rng.random_range(0..86_400)))
        .collect();
    let durations = DurationSecondArray::from(seconds);
    let fixed = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        valid
            .iter()
            .map(|&v| pick(v, rng.random::<[u8; 4]>()))
            .collect::<Vec<_>>()
            .into_iter(),
        4,
    )
    .unwrap();
    let bools: BooleanArray = valid
        .iter()
        .map(|&v| pick(v, rng.random::<bool>()))
        .collect();
    let id: Int64Array = (0..rows as i64).map(Some).collect();

    let strings: ArrayRef = Arc::new(strings);
    let small: ArrayRef = Arc::new(small);
    let signed: ArrayRef = Arc::new(signed);
    let floats: ArrayRef = Arc::new(floats);
    let halves: ArrayRef = Arc::new(halves);
    let decimals: ArrayRef = Arc::new(decimals);
    let timestamps: ArrayRef = Arc::new(timestamps);
    let days: ArrayRef = Arc::new(days);
    let times: ArrayRef = Arc::new(times);
    let durations: ArrayRef = Arc::new(durations);
    let fixed: ArrayRef = Arc::new(fixed);
    let to = |a: &ArrayRef, t: DataType| cast(a, &t).unwrap();
    let binary = to(&strings, DataType::Binary);
    let fixed_as_binary = to(&fixed, DataType::Binary);

    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(id)),
        ("s_utf8", strings.clone()),
        ("s_large", to(&strings, DataType::LargeUtf8)),
        ("s_view", to(&strings, DataType::Utf8View)),
        (
            "s_dict",
            to(&strings, dict(DataType::Int32, DataType::Utf8)),
        ),
        (
            "s_dict_large",
            to(&strings, dict(DataType::UInt16, DataType::LargeUtf8)),
        ),
        (
            "s_dict_view",
            to(&strings, dict(DataType::Int64, DataType::Utf8View)),
        ),
        ("i64", small.clone()),
        ("i8", to(&small, DataType::Int8)),
        ("i16", to(&small, DataType::Int16)),
        ("i32", to(&small, DataType::Int32)),
        ("u8", to(&small, DataType::UInt8)),
        ("u16", to(&small, DataType::UInt16)),
        ("u32", to(&small, DataType::UInt32)),
        ("u64", to(&small, DataType::UInt64)),
        ("i_dict", to(&small, dict(DataType::Int8, DataType::UInt32))),
        ("n64", signed.clone()),
        ("n8", to(&signed, DataType::Int8)),
        ("n16", to(&signed, DataType::Int16)),
        ("n32", to(&signed, DataType::Int32)),
        ("f32", floats.clone()),
        ("f64", to(&floats, DataType::Float64)),
        ("h16", to(&halves, DataType::Float16)),
        ("h64", to(&halves, DataType::Float64)),
        ("d10_1", decimals.clone()),
        ("d20_4", to(&decimals, DataType::Decimal128(20, 4))),
        ("d40_2", to(&decimals, DataType::Decimal256(40, 2))),
        ("d18_1", to(&decimals, DataType::Decimal64(18, 1))),
        ("ts_s", timestamps.clone()),
        (
            "ts_ms",
            to(
                &timestamps,
                DataType::Timestamp(TimeUnit::Millisecond, None),
            ),
        ),
        (
            "ts_ns",
            to(&timestamps, DataType::Timestamp(TimeUnit::Nanosecond, None)),
        ),
        ("ts_tz", Arc::new(zoned)),
        ("date32", days.clone()),
        ("date64", to(&days, DataType::Date64)),
        ("time_s", times.clone()),
        (
            "time_us",
            to(&times, DataType::Time64(TimeUnit::Microsecond)),
        ),
        ("dur_s", durations.clone()),
        (
            "dur_ns",
            to(&durations, DataType::Duration(TimeUnit::Nanosecond)),
        ),
        ("bin", binary.clone()),
        ("bin_large", to(&binary, DataType::LargeBinary)),
        ("bin_view", to(&binary, DataType::BinaryView)),
        ("fixed", fixed),
        ("fixed_bin", fixed_as_binary),
        ("flag", Arc::new(bools)),
        ("nothing", Arc::new(NullArray::new(rows))),
        (
            "interval",
            to(
                &to(&small, DataType::Int32),
                DataType::Interval(IntervalUnit::YearMonth),
            ),
        ),
        ("l_utf8", list_of(&strings, &valid)),
        (
            "l_large",
            cast(
                &list_of(&small, &valid),
                &DataType::LargeList(item(DataType::Int64)),
            )
            .unwrap(),
        ),
        ("l_fixed", fixed_size_list_of(&small)),
        (
            "l_view",
            cast(
                &list_of(&floats, &valid),
                &DataType::ListView(item(DataType::Float32)),
            )
            .unwrap(),
        ),
        ("l_nested", list_of(&list_of(&small, &valid), &valid)),
        (
            "rec",
            Arc::new(StructArray::from(vec![
                (
                    Arc::new(Field::new("s", DataType::Utf8, true)),
                    strings.clone(),
                ),
                (
                    Arc::new(Field::new("i", DataType::Int64, true)),
                    small.clone(),
                ),
            ])),
        ),
    ];
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}
