//! The portable encodings of `span_align` (codec entry `cpg.span_align.v1`):
//! - [`SpanAlignExec`]: its [`AlignPlan`] as JSON followed by the output schema in Arrow
//!   IPC; the two inputs travel as datafusion-proto's own children;
//! - the table `span_align(..)` returns ([`SpanAlignTable`], what a client sends to a
//!   cluster's scheduler): the same JSON, then its two input plans in datafusion-proto's
//!   format (with the bundle's codec, for inputs that are bundle tables); the output
//!   schema is the one datafusion-proto carries.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use serde_json::{Value, json};

use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
};

use super::exec::{AlignPlan, OutputColumn, SpanAlignExec};
use super::table::SpanAlignTable;
use super::{AlignHow, AlignMode, TieBreaker};
use crate::codec::{BundleCodec, CodecEntry, put_part, take_part};

/// See the module docs.
#[derive(Debug, Default)]
pub struct SpanAlignCodec {
    /// Whether the inputs' plans are encoded with [`BundleCodec::portable`] (else by
    /// handle where they can be).
    portable: bool,
}

impl SpanAlignCodec {
    /// The entry of [`crate::codec::portable_codec_entries`].
    pub fn portable() -> Self {
        Self { portable: true }
    }

    fn inputs_codec(&self) -> BundleCodec {
        if self.portable {
            BundleCodec::portable()
        } else {
            BundleCodec::default()
        }
    }
}

const NAME: &str = "cpg.span_align.v1";

fn bad(what: &str) -> DataFusionError {
    DataFusionError::Plan(format!("{NAME} payload: {what}"))
}

fn plan_json(plan: &AlignPlan) -> Value {
    let outputs: Vec<Value> = plan
        .outputs
        .iter()
        .map(|o| match o {
            OutputColumn::Left(i) => json!(["left", i]),
            OutputColumn::Right(i) => json!(["right", i]),
            OutputColumn::MatchKind => json!(["match_kind"]),
            OutputColumn::MatchScore => json!(["match_score"]),
        })
        .collect();
    let tie_breakers: Vec<Value> = plan
        .tie_breakers
        .iter()
        .map(|(i, t)| json!([i, t.column, t.options.descending, t.options.nulls_first]))
        .collect();
    json!({
        "mode": plan.mode.name(),
        "how": match plan.how { AlignHow::Inner => "inner", AlignHow::Left => "left" },
        "left_span": [plan.left_span.0, plan.left_span.1, plan.left_span.2],
        "right_span": [plan.right_span.0, plan.right_span.1, plan.right_span.2],
        "outputs": outputs,
        "tie_breakers": tie_breakers,
    })
}

fn index(value: &Value) -> Result<usize> {
    value
        .as_u64()
        .map(|v| v as usize)
        .ok_or_else(|| bad("column index expected"))
}

fn span(value: &Value) -> Result<(usize, usize, usize)> {
    match value.as_array().map(Vec::as_slice) {
        Some([p, s, e]) => Ok((index(p)?, index(s)?, index(e)?)),
        _ => Err(bad("span columns expected")),
    }
}

fn plan_from_json(
    value: &Value,
    schema: datafusion::arrow::datatypes::SchemaRef,
) -> Result<AlignPlan> {
    let text = |key: &str| value[key].as_str().ok_or_else(|| bad(key));
    let outputs = value["outputs"]
        .as_array()
        .ok_or_else(|| bad("outputs"))?
        .iter()
        .map(|o| match o.as_array().map(Vec::as_slice) {
            Some([side, i]) if side == "left" => Ok(OutputColumn::Left(index(i)?)),
            Some([side, i]) if side == "right" => Ok(OutputColumn::Right(index(i)?)),
            Some([kind]) if kind == "match_kind" => Ok(OutputColumn::MatchKind),
            Some([score]) if score == "match_score" => Ok(OutputColumn::MatchScore),
            _ => Err(bad("output column")),
        })
        .collect::<Result<Vec<_>>>()?;
    let tie_breakers = value["tie_breakers"]
        .as_array()
        .ok_or_else(|| bad("tie_breakers"))?
        .iter()
        .map(|t| match t.as_array().map(Vec::as_slice) {
            Some([i, column, descending, nulls_first]) => Ok((
                index(i)?,
                TieBreaker {
                    column: column
                        .as_str()
                        .ok_or_else(|| bad("tie breaker"))?
                        .to_string(),
                    options: SortOptions {
                        descending: descending.as_bool().ok_or_else(|| bad("tie breaker"))?,
                        nulls_first: nulls_first.as_bool().ok_or_else(|| bad("tie breaker"))?,
                    },
                },
            )),
            _ => Err(bad("tie breaker")),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(AlignPlan {
        mode: AlignMode::parse(text("mode")?)?,
        how: match text("how")? {
            "left" => AlignHow::Left,
            _ => AlignHow::Inner,
        },
        left_span: span(&value["left_span"])?,
        right_span: span(&value["right_span"])?,
        outputs,
        tie_breakers,
        schema,
    })
}

fn take<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8]> {
    take_part(buf, NAME)
}

fn json_part(part: &[u8]) -> Result<Value> {
    serde_json::from_slice(part).map_err(|e| bad(&format!("not JSON: {e}")))
}

impl CodecEntry for SpanAlignCodec {
    fn name(&self) -> &str {
        NAME
    }

    fn encode_provider(
        &self,
        provider: &Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<bool> {
        let Some(table) = provider.downcast_ref::<SpanAlignTable>() else {
            return Ok(false);
        };
        let (left, right, plan) = table.parts();
        put_part(buf, plan_json(plan).to_string().as_bytes());
        let codec = self.inputs_codec();
        put_part(
            buf,
            &logical_plan_to_bytes_with_extension_codec(left, &codec)?,
        );
        put_part(
            buf,
            &logical_plan_to_bytes_with_extension_codec(right, &codec)?,
        );
        Ok(true)
    }

    fn decode_provider(
        &self,
        buf: &[u8],
        _table_ref: &TableReference,
        schema: datafusion::arrow::datatypes::SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        let mut rest = buf;
        let plan = plan_from_json(&json_part(take(&mut rest)?)?, schema)?;
        let codec = self.inputs_codec();
        let left = logical_plan_from_bytes_with_extension_codec(take(&mut rest)?, ctx, &codec)?;
        let right = logical_plan_from_bytes_with_extension_codec(take(&mut rest)?, ctx, &codec)?;
        Ok(Some(Arc::new(SpanAlignTable::from_parts(
            left, right, plan,
        ))))
    }

    fn encode_plan(&self, plan: &Arc<dyn ExecutionPlan>, buf: &mut Vec<u8>) -> Result<bool> {
        let Some(align) = plan.downcast_ref::<SpanAlignExec>() else {
            return Ok(false);
        };
        put_part(buf, plan_json(align.plan()).to_string().as_bytes());
        let mut writer = StreamWriter::try_new(&mut *buf, &align.plan().schema)?;
        writer.finish()?;
        Ok(true)
    }

    fn decode_plan(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let mut rest = buf;
        let value = json_part(take(&mut rest)?)?;
        let schema = StreamReader::try_new(Cursor::new(rest), None)?.schema();
        let plan = plan_from_json(&value, schema)?;
        match inputs {
            [left, right] => Ok(Some(Arc::new(SpanAlignExec::new(
                Arc::clone(left),
                Arc::clone(right),
                plan,
            )))),
            _ => Err(bad("two inputs expected")),
        }
    }
}
