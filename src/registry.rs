//! The bundle's export registry: every extension described once — its kind, its name and
//! how to build it for a host. Native registration ([`crate::register_all`],
//! [`crate::install`]), the FFI plugin and the Python module all read [`exports`], so an
//! extension exists everywhere it can or nowhere.
//!
//! Member crates contribute typed lists (`udfs::functions()`, the optimizer's planner
//! extensions, the providers' table functions and factories); [`exports`] turns them into entries.
//! Adding a function to `udfs::functions()` is the whole change needed for it to reach
//! native registration, the plugin and Python.

use std::fmt;
use std::sync::Arc;

use datafusion::catalog::{TableFunctionImpl, TableProviderFactory};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, plan_datafusion_err};
use datafusion::execution::SessionState;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::ScalarUDF;
use datafusion::logical_expr::planner::RelationPlanner;
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion_cpg_optimizer::install::{
    analyzer_rule_into_builder, analyzer_rule_into_state, relation_planner_into_builder,
    relation_planner_into_state,
};
use tokio::runtime::Handle;

/// What kind of extension an [`Export`] is. The names are part of the plugin manifest:
/// they never change, and a loader skips a kind it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportKind {
    ScalarFunction,
    TableFunction,
    TableProviderFactory,
    QueryPlanner,
    PhysicalOptimizerRule,
    AnalyzerRule,
    RelationPlanner,
    SessionOptions,
}

impl ExportKind {
    pub const ALL: [ExportKind; 8] = [
        Self::ScalarFunction,
        Self::TableFunction,
        Self::TableProviderFactory,
        Self::QueryPlanner,
        Self::PhysicalOptimizerRule,
        Self::AnalyzerRule,
        Self::RelationPlanner,
        Self::SessionOptions,
    ];

    /// The stable name used in manifests.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ScalarFunction => "scalar_function",
            Self::TableFunction => "table_function",
            Self::TableProviderFactory => "table_provider_factory",
            Self::QueryPlanner => "query_planner",
            Self::PhysicalOptimizerRule => "physical_optimizer_rule",
            Self::AnalyzerRule => "analyzer_rule",
            Self::RelationPlanner => "relation_planner",
            Self::SessionOptions => "session_options",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Whether datafusion-ffi 55 can carry this kind to a host that loads the bundle.
    /// It has no bridge for logical analyzer rules or relation planners, and session
    /// options cross only under datafusion-ffi's own prefix: those work only where the
    /// bundle is linked.
    pub const fn crosses_ffi(self) -> bool {
        !matches!(
            self,
            Self::AnalyzerRule | Self::RelationPlanner | Self::SessionOptions
        )
    }
}

impl fmt::Display for ExportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the host hands over when an extension is built.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// A tokio runtime of the library that builds the extension, for work DataFusion
    /// runs outside any runtime (a foreign `scan()`, factory `create()`, planner future).
    pub runtime: Option<Handle>,
}

impl Host {
    /// The runtime the calling thread is in, if any (native registration).
    pub fn current() -> Self {
        Self {
            runtime: Handle::try_current().ok(),
        }
    }
}

/// One built extension.
#[derive(Clone, Debug)]
pub enum Extension {
    ScalarFunction(Arc<ScalarUDF>),
    TableFunction(Arc<dyn TableFunctionImpl>),
    TableProviderFactory(Arc<dyn TableProviderFactory>),
    QueryPlanner(Arc<dyn QueryPlanner + Send + Sync>),
    PhysicalOptimizerRule(Arc<dyn PhysicalOptimizerRule + Send + Sync>),
    AnalyzerRule(Arc<dyn AnalyzerRule + Send + Sync>),
    RelationPlanner(Arc<dyn RelationPlanner>),
    /// Adds the bundle's options (a `ConfigExtension`) to a session's configuration if
    /// they are not there yet, so that `SET <prefix>.<key>` reaches them.
    SessionOptions(fn(&mut ConfigOptions)),
}

impl Extension {
    pub fn kind(&self) -> ExportKind {
        match self {
            Self::ScalarFunction(_) => ExportKind::ScalarFunction,
            Self::TableFunction(_) => ExportKind::TableFunction,
            Self::TableProviderFactory(_) => ExportKind::TableProviderFactory,
            Self::QueryPlanner(_) => ExportKind::QueryPlanner,
            Self::PhysicalOptimizerRule(_) => ExportKind::PhysicalOptimizerRule,
            Self::AnalyzerRule(_) => ExportKind::AnalyzerRule,
            Self::RelationPlanner(_) => ExportKind::RelationPlanner,
            Self::SessionOptions(_) => ExportKind::SessionOptions,
        }
    }
}

type Build = Arc<dyn Fn(&Host) -> Result<Extension> + Send + Sync>;

/// One entry of the registry: a kind, a name, and how to build the extension for a host.
#[derive(Clone)]
pub struct Export {
    kind: ExportKind,
    name: String,
    build: Build,
    linked_only: bool,
}

impl fmt::Debug for Export {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Export({} {})", self.kind, self.name)
    }
}

impl Export {
    /// An entry built by `build`, which must return an extension of `kind`.
    pub fn new(
        kind: ExportKind,
        name: impl Into<String>,
        build: impl Fn(&Host) -> Result<Extension> + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            name: name.into(),
            build: Arc::new(build),
            linked_only: false,
        }
    }

    /// Marks an entry of a kind that could cross FFI as working only where the bundle is
    /// linked (the manifest says so, and the plugin refuses to build it).
    pub fn linked_only(mut self) -> Self {
        self.linked_only = true;
        self
    }

    /// Whether a host that loads the bundle over FFI gets this extension.
    pub fn crosses_ffi(&self) -> bool {
        self.kind.crosses_ffi() && !self.linked_only
    }

    pub fn scalar_function(udf: Arc<ScalarUDF>) -> Self {
        let name = udf.name().to_string();
        Self::new(ExportKind::ScalarFunction, name, move |_| {
            Ok(Extension::ScalarFunction(Arc::clone(&udf)))
        })
    }

    pub fn analyzer_rule(rule: Arc<dyn AnalyzerRule + Send + Sync>) -> Self {
        let name = rule.name().to_string();
        Self::new(ExportKind::AnalyzerRule, name, move |_| {
            Ok(Extension::AnalyzerRule(Arc::clone(&rule)))
        })
    }

    pub fn relation_planner(name: impl Into<String>, planner: Arc<dyn RelationPlanner>) -> Self {
        Self::new(ExportKind::RelationPlanner, name, move |_| {
            Ok(Extension::RelationPlanner(Arc::clone(&planner)))
        })
    }

    pub fn kind(&self) -> ExportKind {
        self.kind
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Builds the extension for `host`; an entry whose builder returns another kind is
    /// refused (a registry bug, reported rather than registered under the wrong kind).
    pub fn build(&self, host: &Host) -> Result<Extension> {
        let extension = (self.build)(host)?;
        if extension.kind() != self.kind {
            return Err(plan_datafusion_err!(
                "datafusion-cpg export {} is declared as a {} but built a {}",
                self.name,
                self.kind,
                extension.kind()
            ));
        }
        Ok(extension)
    }
}

/// Every export of the bundle, in registration order.
pub fn exports() -> Vec<Export> {
    let mut all: Vec<Export> = crate::udfs::functions()
        .into_iter()
        .map(Export::scalar_function)
        .collect();
    all.push(Export::relation_planner(
        crate::optimizer::lateral_unnest::PLANNER_NAME,
        Arc::new(crate::optimizer::LateralUnnestPlanner::new()),
    ));
    all.push(Export::analyzer_rule(Arc::new(
        crate::optimizer::LateralUnnestRule::new(),
    )));
    all.push(Export::analyzer_rule(Arc::new(
        crate::optimizer::policy::PolicyRule::new(),
    )));
    for (name, function) in crate::providers::table_functions() {
        all.push(Export::new(ExportKind::TableFunction, name, move |_| {
            Ok(Extension::TableFunction(Arc::clone(&function)))
        }));
    }
    let factory = |(name, factory): (&str, Arc<dyn TableProviderFactory>)| {
        Export::new(ExportKind::TableProviderFactory, name, move |_| {
            Ok(Extension::TableProviderFactory(Arc::clone(&factory)))
        })
    };
    all.extend(crate::providers::factories().into_iter().map(factory));
    all.extend(
        crate::providers::linked_factories()
            .into_iter()
            .map(|entry| factory(entry).linked_only()),
    );
    all.push(Export::new(
        ExportKind::TableFunction,
        crate::optimizer::policy::log::QUERY_LOG_FUNCTION,
        |_| {
            Ok(Extension::TableFunction(Arc::new(
                crate::optimizer::policy::log::QueryLogFunction,
            )))
        },
    ));
    all.push(Export::new(
        ExportKind::TableFunction,
        crate::optimizer::span_align::SPAN_ALIGN_FUNCTION,
        |_| {
            Ok(Extension::TableFunction(Arc::new(
                crate::optimizer::span_align::SpanAlignFunction,
            )))
        },
    ));
    // Linked only: it plans SQL in the scanning session, which a foreign session cannot.
    all.push(
        Export::new(
            ExportKind::TableFunction,
            crate::optimizer::fingerprint::function::PLAN_FINGERPRINT_FUNCTION,
            |_| {
                Ok(Extension::TableFunction(Arc::new(
                    crate::optimizer::fingerprint::function::PlanFingerprintFunction,
                )))
            },
        )
        .linked_only(),
    );
    all.push(Export::new(
        ExportKind::QueryPlanner,
        crate::optimizer::planner::PLANNER_NAME,
        |_| {
            Ok(Extension::QueryPlanner(Arc::new(
                crate::optimizer::CpgQueryPlanner::new(),
            )))
        },
    ));
    all.push(Export::new(
        ExportKind::PhysicalOptimizerRule,
        crate::optimizer::policy::physical::PHYSICAL_RULE_NAME,
        |_| {
            Ok(Extension::PhysicalOptimizerRule(Arc::new(
                crate::optimizer::policy::physical::PolicyPhysicalRule::new(),
            )))
        },
    ));
    // Linked only: over FFI a host's rule hands the plugin foreign plans it cannot
    // inspect; hosts that load the bundle get span joins through its query planner.
    all.push(
        Export::new(
            ExportKind::PhysicalOptimizerRule,
            crate::optimizer::span_join::SPAN_JOIN_RULE_NAME,
            |_| {
                Ok(Extension::PhysicalOptimizerRule(Arc::new(
                    crate::optimizer::span_join::SpanJoinRule::new(),
                )))
            },
        )
        .linked_only(),
    );
    all.push(Export::new(ExportKind::SessionOptions, "cpg", |_| {
        Ok(Extension::SessionOptions(
            crate::optimizer::options::install_options,
        ))
    }));
    all
}

/// The export of `kind` named `name`; the error lists what exists of that kind.
pub fn find(kind: ExportKind, name: &str) -> Result<Export> {
    let all = exports();
    if let Some(export) = all.iter().find(|e| e.kind == kind && e.name == name) {
        return Ok(export.clone());
    }
    let names: Vec<&str> = all
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.name())
        .collect();
    Err(plan_datafusion_err!(
        "datafusion-cpg exports no {kind} named {name}; exported: {}",
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    ))
}

/// Installs `extension` into a live session. Installing the same extension again is
/// harmless: functions, table functions and factories are replaced by name; analyzer
/// rules (by name) and relation planners (by their `Debug` form) are added once.
pub fn install_into_state(
    state: &mut SessionState,
    name: &str,
    extension: Extension,
) -> Result<()> {
    match extension {
        Extension::ScalarFunction(udf) => {
            datafusion::execution::FunctionRegistry::register_udf(state, udf)?;
        }
        Extension::TableFunction(function) => state.register_udtf(name, function),
        Extension::TableProviderFactory(factory) => {
            state
                .table_factories_mut()
                .insert(name.to_ascii_uppercase(), factory);
        }
        Extension::AnalyzerRule(rule) => analyzer_rule_into_state(state, rule),
        Extension::RelationPlanner(planner) => relation_planner_into_state(state, planner)?,
        Extension::SessionOptions(install) => install(state.config_mut().options_mut()),
        // SessionState has no setter for these: rebuild it around the new one.
        Extension::QueryPlanner(_) | Extension::PhysicalOptimizerRule(_) => {
            let builder = SessionStateBuilder::new_from_existing(state.clone());
            *state = install_into_builder(builder, name, extension).build();
        }
    }
    Ok(())
}

/// Installs `extension` into a session being built, with the same idempotence as
/// [`install_into_state`]. Call it after `with_default_features()`, which would
/// otherwise replace the function lists.
pub fn install_into_builder(
    mut builder: SessionStateBuilder,
    name: &str,
    extension: Extension,
) -> SessionStateBuilder {
    match extension {
        Extension::ScalarFunction(udf) => {
            let list = builder.scalar_functions().get_or_insert_with(Vec::new);
            list.retain(|existing| existing.name() != udf.name());
            list.push(udf);
        }
        Extension::TableFunction(function) => {
            let functions = builder
                .table_functions()
                .get_or_insert_with(Default::default);
            functions.insert(
                name.to_string(),
                Arc::new(datafusion::catalog::TableFunction::new(
                    name.to_string(),
                    function,
                )),
            );
        }
        Extension::TableProviderFactory(factory) => {
            let factories = builder
                .table_factories()
                .get_or_insert_with(Default::default);
            factories.insert(name.to_ascii_uppercase(), factory);
        }
        Extension::QueryPlanner(planner) => builder = builder.with_query_planner(planner),
        Extension::SessionOptions(install) => {
            install(
                builder
                    .config()
                    .get_or_insert_with(Default::default)
                    .options_mut(),
            );
        }
        Extension::PhysicalOptimizerRule(rule) => {
            let present = builder
                .physical_optimizers()
                .as_ref()
                .is_some_and(|o| o.rules.iter().any(|r| r.name() == rule.name()));
            if !present {
                builder = builder.with_physical_optimizer_rule(rule);
            }
        }
        Extension::AnalyzerRule(rule) => builder = analyzer_rule_into_builder(builder, rule),
        Extension::RelationPlanner(planner) => {
            builder = relation_planner_into_builder(builder, planner)
        }
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_ffi_reach_is_declared() {
        for kind in ExportKind::ALL {
            assert_eq!(ExportKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ExportKind::from_name("a_kind_from_the_future"), None);
        assert!(ExportKind::ScalarFunction.crosses_ffi());
        assert!(!ExportKind::AnalyzerRule.crosses_ffi());
    }

    #[test]
    fn every_export_builds_as_its_declared_kind_with_a_unique_name() {
        let all = exports();
        let mut seen = std::collections::HashSet::new();
        for export in &all {
            assert!(
                seen.insert((export.kind(), export.name().to_string())),
                "{export:?} twice"
            );
            let built = export.build(&Host::default()).unwrap();
            assert_eq!(built.kind(), export.kind());
        }
        let functions = all
            .iter()
            .filter(|e| e.kind() == ExportKind::ScalarFunction)
            .count();
        assert_eq!(functions, crate::udfs::functions().len());
    }

    #[test]
    fn a_builder_returning_another_kind_is_refused() {
        let udf = crate::udfs::span_len();
        let wrong = Export::new(ExportKind::TableFunction, "bad", move |_| {
            Ok(Extension::ScalarFunction(Arc::clone(&udf)))
        });
        let error = wrong.build(&Host::default()).unwrap_err().to_string();
        assert!(
            error.contains("bad is declared as a table_function but built a scalar_function"),
            "{error}"
        );
    }

    #[test]
    fn find_names_what_exists() {
        assert!(find(ExportKind::ScalarFunction, "stable_id").is_ok());
        let error = find(ExportKind::ScalarFunction, "nope")
            .unwrap_err()
            .to_string();
        assert!(error.contains("no scalar_function named nope"), "{error}");
        assert!(error.contains("stable_hash64"), "{error}");
    }
}
