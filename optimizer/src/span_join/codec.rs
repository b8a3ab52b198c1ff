//! The span join's portable encoding ([`SpanJoinCodec`], entry `cpg.span_join.v1`): the
//! hash join it stands for, in datafusion-proto's own format with placeholder inputs;
//! decoding rebuilds that join over the decoded inputs and plans the span join again,
//! so the payload holds nothing datafusion-proto does not already define.

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::joins::HashJoinExec;
use datafusion_proto::bytes::{
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;

use super::SpanJoinExec;
use crate::codec::CodecEntry;

/// See the module docs.
#[derive(Debug, Default)]
pub struct SpanJoinCodec;

impl CodecEntry for SpanJoinCodec {
    fn name(&self) -> &str {
        "cpg.span_join.v1"
    }

    fn encode_plan(&self, plan: &Arc<dyn ExecutionPlan>, buf: &mut Vec<u8>) -> Result<bool> {
        let Some(span_join) = plan.downcast_ref::<SpanJoinExec>() else {
            return Ok(false);
        };
        let join = span_join.hash_join();
        let placeholders: Vec<Arc<dyn ExecutionPlan>> = [join.left(), join.right()]
            .into_iter()
            .map(|child| Arc::new(EmptyExec::new(child.schema())) as Arc<dyn ExecutionPlan>)
            .collect();
        #[allow(deprecated)]
        let template = Arc::clone(join).with_new_children(placeholders)?;
        let bytes = physical_plan_to_bytes_with_extension_codec(
            template,
            &DefaultPhysicalExtensionCodec {},
        )?;
        buf.extend_from_slice(&bytes);
        Ok(true)
    }

    fn decode_plan(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let template = physical_plan_from_bytes_with_extension_codec(
            buf,
            ctx,
            &DefaultPhysicalExtensionCodec {},
        )?;
        #[allow(deprecated)]
        let join = template.with_new_children(inputs.to_vec())?;
        let Some(join) = join.downcast_ref::<HashJoinExec>() else {
            return Err(DataFusionError::Plan(
                "cpg.span_join.v1 payload is not a hash join".into(),
            ));
        };
        match SpanJoinExec::try_replace(join)? {
            Some(span_join) => Ok(Some(Arc::new(span_join))),
            None => Err(DataFusionError::Plan(
                "cpg.span_join.v1 payload is a hash join without a span predicate".into(),
            )),
        }
    }
}
