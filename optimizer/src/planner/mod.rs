//! The bundle's `QueryPlanner`: DataFusion's default physical planner with the bundle's
//! logical rewrites applied first and its extension planners consulted for its nodes.
//!
//! It owns the two lists every later operator plugs into: [`extension_planners`] (one
//! per logical node the bundle introduces) and the rewrites in
//! [`CpgQueryPlanner::create_physical_plan`]. Today it carries [`crate::exact_dml`], and
//! it adds the plan's [`fingerprint`] to `EXPLAIN`.
//! Installing it replaces the session's query planner.
//!
//! Given a policy ([`CpgQueryPlanner::with_policy`]), it also enforces it on every plan
//! it plans and logs each decision: the enforcement point for hosts that cannot run the
//! bundle's analyzer rule (a Rust host loading the plugin, datafusion-python). It sees
//! the plan after DataFusion's optimizer, so its log fingerprints that plan.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::common::display::{PlanType, StringifiedPlan};
use datafusion::execution::SessionState;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::explain::ExplainExec;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use crate::policy::SqlPolicy;
use crate::policy::log::QueryLog;
use crate::policy::physical::PolicyPhysicalRule;
use crate::policy::rule::{Lineage, check_plan};
use crate::span_join::SpanJoinRule;
use crate::{exact_dml, fingerprint};

mod local_rules;

use local_rules::LocalRulesSession;

/// The name the planner has in the bundle's export registry.
pub const PLANNER_NAME: &str = "cpg_query_planner";

/// Plans the logical nodes the bundle introduces.
pub fn extension_planners() -> Vec<Arc<dyn ExtensionPlanner + Send + Sync>> {
    vec![Arc::new(exact_dml::ExactDmlPlanner)]
}

/// See the module docs.
#[derive(Debug)]
pub struct CpgQueryPlanner {
    enforced: Option<(SqlPolicy, Arc<QueryLog>)>,
    /// Physical optimizer rules for sessions passed over FFI (see `local_rules`).
    foreign_session_rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>>,
}

impl Default for CpgQueryPlanner {
    fn default() -> Self {
        Self {
            enforced: None,
            foreign_session_rules: foreign_session_rules(),
        }
    }
}

/// DataFusion's rules and the bundle's own physical rules, for sessions passed over FFI
/// (whose rules cannot see inside this library's plans).
fn foreign_session_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = local_rules::default_rules();
    rules.push(Arc::new(SpanJoinRule::new()));
    rules
}

impl CpgQueryPlanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// A planner that refuses plans `policy` denies (the logical plan it receives, and
    /// the physical plan it builds: [`PolicyPhysicalRule`]) and logs every decision.
    pub fn with_policy(policy: SqlPolicy) -> Self {
        let mut foreign_session_rules = foreign_session_rules();
        foreign_session_rules.push(Arc::new(PolicyPhysicalRule::with_policy(policy.clone())));
        Self {
            enforced: Some((policy, Arc::new(QueryLog::default()))),
            foreign_session_rules,
        }
    }

    /// A planner that leaves hash joins with span predicates to DataFusion in sessions
    /// passed over FFI (where `SET cpg.span_join.enabled` cannot reach it); linked
    /// sessions follow their `cpg.span_join.enabled` option.
    pub fn without_span_join(mut self) -> Self {
        self.foreign_session_rules
            .retain(|rule| rule.name() != crate::span_join::SPAN_JOIN_RULE_NAME);
        self
    }

    /// The decisions of a planner with a policy.
    pub fn log(&self) -> Option<&Arc<QueryLog>> {
        self.enforced.as_ref().map(|(_, log)| log)
    }

    fn enforce(&self, plan: &LogicalPlan, session: &dyn Session) -> Result<()> {
        let Some((policy, log)) = &self.enforced else {
            return Ok(());
        };
        let config = session.config_options();
        let mut lineage = Lineage::default();
        let checked = check_plan(
            plan,
            policy,
            &config.catalog.default_catalog,
            &config.catalog.default_schema,
            &mut lineage,
        );
        let fingerprint = fingerprint::fingerprint_under(plan, config, policy).ok();
        log.record(plan, fingerprint, checked.as_ref().err(), lineage);
        checked
    }
}

#[async_trait]
impl QueryPlanner for CpgQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.enforce(logical_plan, session)?;
        let explained = explained_fingerprint(logical_plan);
        let plan = exact_dml::rewrite(logical_plan.clone())?;
        let planner = DefaultPhysicalPlanner::with_extension_planners(extension_planners());
        let physical = if session.as_any().is::<SessionState>() {
            planner.create_physical_plan(&plan, session).await?
        } else {
            // A session passed over FFI: optimize with this library's rules.
            planner
                .create_physical_plan(
                    &plan,
                    &LocalRulesSession::new(session, &self.foreign_session_rules),
                )
                .await?
        };
        Ok(match explained {
            Some(fingerprint) => show_fingerprint(physical, fingerprint),
            None => physical,
        })
    }
}

/// The fingerprint of the plan an `EXPLAIN` explains, when the policy rule fingerprinted
/// that very plan (same analyzed text) on this thread.
fn explained_fingerprint(plan: &LogicalPlan) -> Option<fingerprint::PlanFingerprint> {
    let LogicalPlan::Explain(explain) = plan else {
        return None;
    };
    explain
        .stringified_plans
        .iter()
        .find(|p| p.plan_type == PlanType::FinalAnalyzedLogicalPlan)
        .and_then(|p| fingerprint::remembered_for(&p.plan))
}

/// Appends `plan_fingerprint: ...` to the `logical_plan` row of an `EXPLAIN`'s output.
fn show_fingerprint(
    plan: Arc<dyn ExecutionPlan>,
    fingerprint: fingerprint::PlanFingerprint,
) -> Arc<dyn ExecutionPlan> {
    let Some(explain) = plan.downcast_ref::<ExplainExec>() else {
        return plan;
    };
    let stringified_plans = explain
        .stringified_plans()
        .iter()
        .map(|p| match p.plan_type {
            PlanType::FinalLogicalPlan => StringifiedPlan::new(
                PlanType::FinalLogicalPlan,
                format!("{}\nplan_fingerprint: {fingerprint}", p.plan),
            ),
            _ => p.clone(),
        })
        .collect();
    Arc::new(ExplainExec::new(
        explain.schema(),
        stringified_plans,
        explain.verbose(),
    ))
}
