//! [`CpgOptions`]: the bundle's session options, a DataFusion `ConfigExtension` with
//! prefix `cpg`: `cpg.policy.*` ([`crate::policy::SqlPolicy`]) and `cpg.span_join.*`
//! ([`crate::span_join::SpanJoinOptions`]), plus the session's query log, which the
//! copies DataFusion makes of the options per query share.

use std::any::Any;
use std::sync::Arc;

use datafusion::common::config::{ConfigEntry, ConfigExtension, ConfigOptions, ExtensionOptions};
use datafusion::common::{DataFusionError, Result};

use crate::policy::SqlPolicy;
use crate::policy::log::QueryLog;
use crate::span_join::SpanJoinOptions;

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct CpgOptions {
    pub policy: SqlPolicy,
    pub span_join: SpanJoinOptions,
    pub log: Arc<QueryLog>,
}

impl ConfigExtension for CpgOptions {
    const PREFIX: &'static str = "cpg";
}

impl ExtensionOptions for CpgOptions {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        if let Some(policy_key) = key.strip_prefix("policy.") {
            return self.policy.set(policy_key, value);
        }
        if let Some(span_join_key) = key.strip_prefix("span_join.") {
            return self.span_join.set(span_join_key, value);
        }
        Err(DataFusionError::Configuration(format!(
            "cpg has no option '{key}'; accepted: cpg.policy.<key>, cpg.span_join.<key>"
        )))
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        [
            ("policy", self.policy.entries()),
            ("span_join", self.span_join.entries()),
        ]
        .into_iter()
        .flat_map(|(namespace, entries)| {
            entries
                .into_iter()
                .map(move |(key, value, description)| ConfigEntry {
                    key: format!("cpg.{namespace}.{key}"),
                    value: Some(value),
                    description,
                })
        })
        .collect()
    }
}

/// Adds [`CpgOptions`] (defaults) to `options` unless they are there already, so that
/// `SET cpg.<key>` works in the session; existing options are kept.
pub fn install_options(options: &mut ConfigOptions) {
    if options.extensions.get::<CpgOptions>().is_none() {
        options.extensions.insert(CpgOptions::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::StatementClass;

    #[test]
    fn the_extension_lists_and_sets_its_keys() {
        let mut options = CpgOptions::default();
        options.set("policy.allow_insert", "false").unwrap();
        assert!(!options.policy.allows(StatementClass::Insert));
        options.set("span_join.enabled", "FALSE").unwrap();
        assert!(!options.span_join.enabled);
        let entries = options.entries();
        assert!(
            entries
                .iter()
                .any(|e| e.key == "cpg.policy.allow_insert" && e.value.as_deref() == Some("false"))
        );
        assert!(
            entries
                .iter()
                .any(|e| e.key == "cpg.span_join.enabled" && e.value.as_deref() == Some("false"))
        );
        let error = options.set("other", "1").unwrap_err().to_string();
        assert!(error.contains("cpg has no option 'other'"), "{error}");
    }
}
