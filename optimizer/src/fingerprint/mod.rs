//! Plan fingerprints: a deterministic identity for every plan, the same in every process
//! and on every machine, for caching, incremental rebuilds, diffs and diagnostics.
//!
//! [`fingerprint`] walks the **analyzed** logical plan ([`walk`]) into a canonical byte
//! encoding ([`encoder`]) and hashes it with XXH3-128. DataFusion's own `Hash` of a plan
//! cannot serve: it hashes `TypeId`s, native-endian `usize`s and randomly seeded maps.
//!
//! | digest | changes with |
//! |---|---|
//! | `exact` | anything that changes the result: nodes, expressions, literals, tables, output names and order |
//! | `shape` | the same, except literal values (typed placeholders) and the length of IN lists of literals |
//! | `schema` | the columns (name, type, nullability, metadata) of every table the plan reads |
//! | `policy` | the session's effective `cpg.policy` |
//! | `catalog` | the functions the plan calls (name, signature, volatility), the bundle and DataFusion versions |
//!
//! Internal alias names (`FROM t AS x`, aliases inside subqueries, the optimizer's
//! `__correlated_sq_N`) never count. [`SPEC_VERSION`] is written into every digest and
//! changes whenever the encoding does.

pub mod encoder;
pub mod function;
mod walk;

use std::cell::RefCell;
use std::fmt;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;

pub use encoder::Digest;
use encoder::Encoder;
use walk::Walk;

use crate::policy::config::{CpgOptions, SqlPolicy};

/// The version of the fingerprint encoding.
pub const SPEC_VERSION: u32 = 1;

/// The fingerprint of one plan; see the module docs for what each digest covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanFingerprint {
    pub spec_version: u32,
    pub exact: Digest,
    pub shape: Digest,
    pub schema: Digest,
    pub policy: Digest,
    pub catalog: Digest,
    /// The plan calls a volatile function (`random()`, `now()`, ...): its result is not
    /// a function of its inputs, so it is not safe to cache.
    pub volatile: bool,
}

impl fmt::Display for PlanFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "spec={} exact={} shape={} schema={} policy={} catalog={}{}",
            self.spec_version,
            self.exact,
            self.shape,
            self.schema,
            self.policy,
            self.catalog,
            if self.volatile { " volatile" } else { "" }
        )
    }
}

/// The fingerprint of `plan`, an analyzed logical plan, in a session with `config`.
pub fn fingerprint(plan: &LogicalPlan, config: &ConfigOptions) -> Result<PlanFingerprint> {
    let default_policy = SqlPolicy::default();
    let effective = config
        .extensions
        .get::<CpgOptions>()
        .map_or(&default_policy, |options| &options.policy);
    fingerprint_under(plan, config, effective)
}

/// The fingerprint of `plan` under `policy` (a planner given its policy directly).
pub fn fingerprint_under(
    plan: &LogicalPlan,
    config: &ConfigOptions,
    effective: &SqlPolicy,
) -> Result<PlanFingerprint> {
    let catalog = &config.catalog;
    let (default_catalog, default_schema) = (&catalog.default_catalog, &catalog.default_schema);
    let mut walk = Walk::new(plan, default_catalog, default_schema);
    walk.encoder.u64(u64::from(SPEC_VERSION));
    walk.plan(plan)?;
    // Output names and order count; types are part of each expression already.
    let output = plan.schema();
    walk.encoder.len(output.fields().len());
    for field in output.fields() {
        walk.encoder.str(field.name());
    }

    let mut schema = versioned();
    schema.len(walk.tables.len());
    for (name, table) in &walk.tables {
        schema.str(name);
        schema.len(table.fields().len());
        for field in table.fields() {
            schema.field(field);
        }
    }

    let policy = policy_digest(effective);

    let mut catalog = versioned();
    catalog.str(env!("CARGO_PKG_VERSION"));
    catalog.str(datafusion::DATAFUSION_VERSION);
    catalog.len(walk.functions.len());
    for (name, function) in &walk.functions {
        catalog.str(name);
        catalog.str(&function.signature);
        catalog.str(&function.volatility);
    }

    Ok(PlanFingerprint {
        spec_version: SPEC_VERSION,
        exact: walk.encoder.exact.finish(),
        shape: walk.encoder.shape.finish(),
        schema: schema.finish(),
        policy,
        catalog: catalog.finish(),
        volatile: walk.volatile,
    })
}

/// The digest of `policy` (the last one is remembered per thread: sessions rarely
/// change their policy, and listing it is a third of a fingerprint's cost).
fn policy_digest(policy: &SqlPolicy) -> Digest {
    thread_local! {
        static LAST: RefCell<Option<(SqlPolicy, Digest)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        if let Some((cached, digest)) = last.borrow().as_ref()
            && cached == policy
        {
            return *digest;
        }
        let mut encoder = versioned();
        let entries = policy.entries();
        encoder.len(entries.len());
        for (key, value, _) in entries {
            encoder.str(&key);
            encoder.str(&value);
        }
        let digest = encoder.finish();
        *last.borrow_mut() = Some((policy.clone(), digest));
        digest
    })
}

fn versioned() -> Encoder {
    let mut encoder = Encoder::new();
    encoder.u64(u64::from(SPEC_VERSION));
    encoder
}

/// Analyzes `plan` with `state`'s analyzer (the policy included) and fingerprints it.
pub fn fingerprint_unanalyzed(state: &SessionState, plan: LogicalPlan) -> Result<PlanFingerprint> {
    let analyzed = state
        .analyzer()
        .execute_and_check(plan, state.config_options(), |_, _| {})?;
    fingerprint(&analyzed, state.config_options())
}

/// Plans `sql` (one statement; DDL and SET are planned, not run), analyzes and
/// fingerprints it.
pub async fn fingerprint_sql(state: &SessionState, sql: &str) -> Result<PlanFingerprint> {
    let plan = state.create_logical_plan(sql).await?;
    fingerprint_unanalyzed(state, plan)
}

thread_local! {
    /// The plan this thread analyzed last, with its fingerprint, so that the query planner
    /// can show it under `EXPLAIN` (DataFusion analyzes the explained plan and calls the
    /// planner right after, on the same thread).
    static LAST_ANALYZED: RefCell<Option<(LogicalPlan, PlanFingerprint)>> = const { RefCell::new(None) };
}

/// Remembers `fingerprint` as that of the analyzed `plan`.
pub fn remember(plan: &LogicalPlan, fingerprint: PlanFingerprint) {
    LAST_ANALYZED.with(|last| *last.borrow_mut() = Some((plan.clone(), fingerprint)));
}

/// The remembered fingerprint, if it belongs to the analyzed plan displayed as
/// `plan_text` (`EXPLAIN`'s `analyzed_logical_plan`).
pub fn remembered_for(plan_text: &str) -> Option<PlanFingerprint> {
    LAST_ANALYZED.with(|last| match last.borrow().as_ref() {
        Some((plan, fingerprint)) if plan.display_indent().to_string() == plan_text => {
            Some(*fingerprint)
        }
        _ => None,
    })
}
