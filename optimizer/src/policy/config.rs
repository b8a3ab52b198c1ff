//! [`SqlPolicy`]: what statements a session may run, as the `cpg.policy.*` options of a
//! DataFusion [`ConfigExtension`] ([`CpgOptions`], prefix `cpg`), so that it is set from
//! Rust, from a JSON file, or with `SET cpg.policy.<key> = <value>` until locked.
//!
//! Keys (every rule allows by default: the default policy is what DataFusion allows):
//! - `allow_ddl`, `allow_dml`: shorthands that set every DDL or DML class at once;
//! - `allow_<class>` for each [`StatementClass`] (e.g. `allow_create_table`,
//!   `allow_copy_to`, `allow_set`, `allow_prepare_execute`, `allow_transaction`);
//! - `set_allowlist`: comma-separated option keys (or prefixes ending in `.`) that `SET`
//!   may change; empty means any;
//! - `locked`: once true, no `cpg.policy.*` key changes again, and `SET` of an engine
//!   option that would weaken enforcement (see [`WEAKENING_OPTIONS`]) is denied.

use std::collections::BTreeSet;

use datafusion::common::{DataFusionError, Result};

use super::denial::{PolicyCode, deny};

/// A class of statement the policy allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatementClass {
    CreateTable,
    DropTable,
    CreateView,
    DropView,
    CreateExternalTable,
    CreateFunction,
    DropFunction,
    CreateCatalogOrSchema,
    DropCatalogOrSchema,
    Insert,
    Update,
    Delete,
    CopyTo,
    Set,
    PrepareExecute,
    Transaction,
}

impl StatementClass {
    pub const ALL: [StatementClass; 16] = [
        Self::CreateTable,
        Self::DropTable,
        Self::CreateView,
        Self::DropView,
        Self::CreateExternalTable,
        Self::CreateFunction,
        Self::DropFunction,
        Self::CreateCatalogOrSchema,
        Self::DropCatalogOrSchema,
        Self::Insert,
        Self::Update,
        Self::Delete,
        Self::CopyTo,
        Self::Set,
        Self::PrepareExecute,
        Self::Transaction,
    ];

    /// The class's name in keys (`allow_<name>`) and messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::CreateTable => "create_table",
            Self::DropTable => "drop_table",
            Self::CreateView => "create_view",
            Self::DropView => "drop_view",
            Self::CreateExternalTable => "create_external_table",
            Self::CreateFunction => "create_function",
            Self::DropFunction => "drop_function",
            Self::CreateCatalogOrSchema => "create_catalog_or_schema",
            Self::DropCatalogOrSchema => "drop_catalog_or_schema",
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::CopyTo => "copy_to",
            Self::Set => "set",
            Self::PrepareExecute => "prepare_execute",
            Self::Transaction => "transaction",
        }
    }

    pub const fn is_ddl(self) -> bool {
        matches!(
            self,
            Self::CreateTable
                | Self::DropTable
                | Self::CreateView
                | Self::DropView
                | Self::CreateExternalTable
                | Self::CreateFunction
                | Self::DropFunction
                | Self::CreateCatalogOrSchema
                | Self::DropCatalogOrSchema
        )
    }

    pub const fn is_dml(self) -> bool {
        matches!(
            self,
            Self::Insert | Self::Update | Self::Delete | Self::CopyTo
        )
    }
}

/// Engine options (keys, or prefixes ending in '.') a locked policy does not let `SET`
/// change, because changing them would let a query get past the policy: a failing
/// policy rule skipped, another SQL dialect for the statements checked next, runtime
/// limits.
pub const WEAKENING_OPTIONS: &[&str] = &[
    "datafusion.optimizer.skip_failed_rules",
    "datafusion.sql_parser.",
    "datafusion.runtime.",
];

/// Whether `key` is one of [`WEAKENING_OPTIONS`].
pub fn is_weakening_option(key: &str) -> bool {
    WEAKENING_OPTIONS
        .iter()
        .any(|w| key == *w || (w.ends_with('.') && key.starts_with(w)))
}

/// The policy of a session. The default allows everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlPolicy {
    denied: BTreeSet<StatementClass>,
    /// Option keys (or prefixes ending in '.') `SET` may change; empty: any.
    set_allowlist: Vec<String>,
    /// Function names (lowercase) that may be called; empty: any.
    allow_functions: Vec<String>,
    /// Function names (lowercase) that may not be called.
    deny_functions: Vec<String>,
    allow_volatile_functions: bool,
    /// Resolved table names `catalog.schema.table` (or prefixes ending in '.') that may
    /// be read or written; empty: any.
    allow_tables: Vec<String>,
    /// Resolved table names (or prefixes ending in '.') that may not be touched.
    deny_tables: Vec<String>,
    /// Locations (paths or URLs, as prefixes) external tables, COPY TO and URL tables
    /// may use; empty: any.
    allow_paths: Vec<String>,
    /// Most joins one plan may have; None: any number.
    max_joins: Option<usize>,
    allow_cross_joins: bool,
    /// Deepest plan tree allowed; None: any depth.
    max_plan_depth: Option<usize>,
    locked: bool,
}

impl Default for SqlPolicy {
    fn default() -> Self {
        Self {
            denied: BTreeSet::new(),
            set_allowlist: Vec::new(),
            allow_functions: Vec::new(),
            deny_functions: Vec::new(),
            allow_volatile_functions: true,
            allow_tables: Vec::new(),
            deny_tables: Vec::new(),
            allow_paths: Vec::new(),
            max_joins: None,
            allow_cross_joins: true,
            max_plan_depth: None,
            locked: false,
        }
    }
}

/// Whether `name` is in `list`: equal, or under a prefix that ends in '.'.
fn listed(list: &[String], name: &str) -> bool {
    list.iter()
        .any(|item| item == name || (item.ends_with('.') && name.starts_with(item.as_str())))
}

fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|k| k.trim().to_ascii_lowercase())
        .filter(|k| !k.is_empty())
        .collect()
}

impl SqlPolicy {
    /// Everything allowed (DataFusion's behaviour).
    pub fn allow_all() -> Self {
        Self::default()
    }

    /// Queries only: every DDL and DML class, SET, PREPARE/EXECUTE and transactions
    /// denied.
    pub fn read_only() -> Self {
        Self {
            denied: StatementClass::ALL.into_iter().collect(),
            ..Self::default()
        }
    }

    pub fn allowed_paths(&self) -> &[String] {
        &self.allow_paths
    }

    pub fn max_joins(&self) -> Option<usize> {
        self.max_joins
    }

    pub fn allows_cross_joins(&self) -> bool {
        self.allow_cross_joins
    }

    pub fn max_plan_depth(&self) -> Option<usize> {
        self.max_plan_depth
    }

    /// Denies calling the functions `names` (added to `deny_functions`).
    pub fn deny_functions(mut self, names: &[&str]) -> Self {
        self.deny_functions
            .extend(names.iter().map(|n| n.to_ascii_lowercase()));
        self
    }

    /// Denies touching the tables `names` (resolved names or prefixes ending in '.').
    pub fn deny_tables(mut self, names: &[&str]) -> Self {
        self.deny_tables
            .extend(names.iter().map(|n| n.to_ascii_lowercase()));
        self
    }

    pub fn allows(&self, class: StatementClass) -> bool {
        !self.denied.contains(&class)
    }

    pub fn is_locked(&self) -> bool {
        self.locked
    }

    pub fn set_allowlist(&self) -> &[String] {
        &self.set_allowlist
    }

    /// Whether `SET key` is on the allowlist (an empty allowlist allows any key).
    pub fn allows_set_key(&self, key: &str) -> bool {
        self.set_allowlist.is_empty() || listed(&self.set_allowlist, &key.to_ascii_lowercase())
    }

    /// The rule that denies calling function `name`, if any.
    pub fn function_denied_by(&self, name: &str, volatile: bool) -> Option<&'static str> {
        let name = name.to_ascii_lowercase();
        if listed(&self.deny_functions, &name) {
            Some("cpg.policy.deny_functions")
        } else if !self.allow_functions.is_empty() && !listed(&self.allow_functions, &name) {
            Some("cpg.policy.allow_functions")
        } else if volatile && !self.allow_volatile_functions {
            Some("cpg.policy.allow_volatile_functions")
        } else {
            None
        }
    }

    /// A `CPG-POLICY-4` denial if calling function `name` is denied.
    pub fn check_function(&self, name: &str, volatile: bool) -> Result<()> {
        match self.function_denied_by(name, volatile) {
            Some(rule) => Err(deny(
                PolicyCode::Function,
                format!("function {}", name.to_ascii_lowercase()),
                rule,
            )),
            None => Ok(()),
        }
    }

    /// The rule that denies touching the table `resolved` (`catalog.schema.table`).
    pub fn table_denied_by(&self, resolved: &str) -> Option<&'static str> {
        let name = resolved.to_ascii_lowercase();
        if listed(&self.deny_tables, &name) {
            Some("cpg.policy.deny_tables")
        } else if !self.allow_tables.is_empty() && !listed(&self.allow_tables, &name) {
            Some("cpg.policy.allow_tables")
        } else {
            None
        }
    }

    pub fn with(mut self, class: StatementClass, allowed: bool) -> Self {
        self.set_class(class, allowed);
        self
    }

    pub fn locked(mut self) -> Self {
        self.locked = true;
        self
    }

    fn set_class(&mut self, class: StatementClass, allowed: bool) {
        if allowed {
            self.denied.remove(&class);
        } else {
            self.denied.insert(class);
        }
    }

    /// Sets `key` (without the `cpg.policy.` prefix) to `value`; refused once locked.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        if self.locked {
            return Err(deny(
                PolicyCode::Locked,
                format!("SET cpg.policy.{key}"),
                "the locked policy",
            ));
        }
        let flag = || parse_bool(key, value);
        match key {
            "allow_ddl" => {
                let allowed = flag()?;
                for class in StatementClass::ALL.into_iter().filter(|c| c.is_ddl()) {
                    self.set_class(class, allowed);
                }
            }
            "allow_dml" => {
                let allowed = flag()?;
                for class in StatementClass::ALL.into_iter().filter(|c| c.is_dml()) {
                    self.set_class(class, allowed);
                }
            }
            "set_allowlist" => self.set_allowlist = parse_list(value),
            "allow_functions" => self.allow_functions = parse_list(value),
            "deny_functions" => self.deny_functions = parse_list(value),
            "allow_volatile_functions" => self.allow_volatile_functions = flag()?,
            "allow_tables" => self.allow_tables = parse_list(value),
            "deny_tables" => self.deny_tables = parse_list(value),
            // Paths keep their case: file systems and object stores are case-sensitive.
            "allow_paths" => {
                self.allow_paths = value
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect();
            }
            "max_joins" => self.max_joins = parse_limit(key, value)?,
            "allow_cross_joins" => self.allow_cross_joins = flag()?,
            "max_plan_depth" => self.max_plan_depth = parse_limit(key, value)?,
            "locked" => self.locked = flag()?,
            _ => {
                let class = key
                    .strip_prefix("allow_")
                    .and_then(|name| StatementClass::ALL.into_iter().find(|c| c.name() == name))
                    .ok_or_else(|| unknown_key(key))?;
                self.set_class(class, flag()?);
            }
        }
        Ok(())
    }

    /// Applies a JSON object of the same keys as `SET cpg.policy.<key>` (values booleans
    /// or strings), in order; e.g. `{"allow_ddl": false, "locked": true}`.
    pub fn from_json(json: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            DataFusionError::Configuration(format!("cpg.policy: the policy is not valid JSON: {e}"))
        })?;
        Self::from_value(&value)
    }

    /// The same from TOML: top-level `key = value` pairs of the `cpg.policy` keys, e.g.
    /// `allow_ddl = false` and `deny_tables = ["datafusion.secret."]`.
    pub fn from_toml(text: &str) -> Result<Self> {
        let value: serde_json::Value = toml::from_str(text).map_err(|e| {
            DataFusionError::Configuration(format!("cpg.policy: the policy is not valid TOML: {e}"))
        })?;
        Self::from_value(&value)
    }

    /// Reads a policy file: TOML if its name ends in `.toml`, JSON otherwise.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            DataFusionError::Configuration(format!(
                "cpg.policy: cannot read the policy file {}: {e}",
                path.display()
            ))
        })?;
        if path.extension().is_some_and(|e| e == "toml") {
            Self::from_toml(&text)
        } else {
            Self::from_json(&text)
        }
    }

    fn from_value(value: &serde_json::Value) -> Result<Self> {
        let object = value.as_object().ok_or_else(|| {
            DataFusionError::Configuration(
                "cpg.policy: a policy file is an object (JSON) or table (TOML) of cpg.policy keys"
                    .to_string(),
            )
        })?;
        let mut policy = Self::default();
        // `locked` last, whatever its place in the file, so it does not refuse the rest.
        let (lock, rest): (Vec<_>, Vec<_>) = object.iter().partition(|(k, _)| *k == "locked");
        for (key, value) in rest.into_iter().chain(lock) {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| i.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            policy.set(key, &text)?;
        }
        Ok(policy)
    }

    /// Every key with its current value, as `SHOW ALL` lists them.
    pub fn entries(&self) -> Vec<(String, String, &'static str)> {
        let mut entries: Vec<(String, String, &'static str)> = StatementClass::ALL
            .into_iter()
            .map(|class| {
                (
                    format!("allow_{}", class.name()),
                    self.allows(class).to_string(),
                    "Whether statements of this class may run (default true).",
                )
            })
            .collect();
        entries.push((
            "set_allowlist".to_string(),
            self.set_allowlist.join(","),
            "Option keys (or prefixes ending in '.') SET may change; empty: any (default).",
        ));
        let lists = [
            (
                "allow_functions",
                &self.allow_functions,
                "Function names that may be called; empty: any (default).",
            ),
            (
                "deny_functions",
                &self.deny_functions,
                "Function names that may not be called (default none).",
            ),
            (
                "allow_tables",
                &self.allow_tables,
                "Resolved table names (catalog.schema.table, or prefixes ending in '.') that may be touched; empty: any.",
            ),
            (
                "deny_tables",
                &self.deny_tables,
                "Resolved table names (or prefixes ending in '.') that may not be touched.",
            ),
        ];
        for (key, list, description) in lists {
            entries.push((key.to_string(), list.join(","), description));
        }
        entries.push((
            "allow_paths".to_string(),
            self.allow_paths.join(","),
            "Locations (path or URL prefixes) external tables, COPY TO and URL tables may use; empty: any.",
        ));
        let limit = |l: Option<usize>| l.map_or_else(|| "none".to_string(), |l| l.to_string());
        entries.push((
            "max_joins".to_string(),
            limit(self.max_joins),
            "Most joins in one plan (default none).",
        ));
        entries.push((
            "allow_cross_joins".to_string(),
            self.allow_cross_joins.to_string(),
            "Whether joins without any join predicate may run (default true).",
        ));
        entries.push((
            "max_plan_depth".to_string(),
            limit(self.max_plan_depth),
            "Deepest logical plan tree allowed (default none).",
        ));
        entries.push((
            "allow_volatile_functions".to_string(),
            self.allow_volatile_functions.to_string(),
            "Whether volatile functions (random(), now(), ...) may be called (default true).",
        ));
        entries.push((
            "locked".to_string(),
            self.locked.to_string(),
            "Once true, cpg.policy cannot change and weakening engine options cannot be SET.",
        ));
        entries
    }
}

/// A limit: a number, or `none` / empty for no limit.
fn parse_limit(key: &str, value: &str) -> Result<Option<usize>> {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        DataFusionError::Configuration(format!(
            "cpg.policy.{key}: '{value}' is not a limit; accepted: a non-negative integer, or none"
        ))
    })
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(DataFusionError::Configuration(format!(
            "cpg.policy.{key}: '{value}' is not a boolean; accepted: true, false"
        ))),
    }
}

fn unknown_key(key: &str) -> DataFusionError {
    let classes: Vec<String> = StatementClass::ALL
        .iter()
        .map(|c| format!("allow_{}", c.name()))
        .collect();
    DataFusionError::Configuration(format!(
        "cpg.policy has no key '{key}'; accepted: allow_ddl, allow_dml, {}, set_allowlist, \
         allow_functions, deny_functions, allow_volatile_functions, allow_tables, \
         deny_tables, allow_paths, max_joins, allow_cross_joins, max_plan_depth, locked",
        classes.join(", ")
    ))
}

pub use crate::options::{CpgOptions, install_options};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthands_set_every_class_of_their_kind() {
        let mut policy = SqlPolicy::allow_all();
        policy.set("allow_ddl", "false").unwrap();
        assert!(!policy.allows(StatementClass::CreateTable));
        assert!(!policy.allows(StatementClass::CreateExternalTable));
        assert!(policy.allows(StatementClass::Insert));
        policy.set("allow_create_view", "TRUE").unwrap();
        assert!(policy.allows(StatementClass::CreateView));
        policy.set("allow_dml", "false").unwrap();
        assert!(!policy.allows(StatementClass::CopyTo));
    }

    #[test]
    fn bad_keys_and_values_say_what_is_accepted() {
        let mut policy = SqlPolicy::allow_all();
        let error = policy
            .set("allow_everything", "true")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("cpg.policy has no key 'allow_everything'; accepted: allow_ddl"),
            "{error}"
        );
        let error = policy.set("allow_ddl", "nope").unwrap_err().to_string();
        assert!(
            error.contains("'nope' is not a boolean; accepted: true, false"),
            "{error}"
        );
    }

    #[test]
    fn a_locked_policy_does_not_change() {
        let mut policy = SqlPolicy::allow_all().locked();
        let error = policy.set("allow_ddl", "true").unwrap_err().to_string();
        assert!(error.starts_with("Error during planning: CPG-POLICY-3: SET cpg.policy.allow_ddl denied by the locked policy"), "{error}");
        let error = policy.set("locked", "false").unwrap_err().to_string();
        assert!(error.contains("CPG-POLICY-3"), "{error}");
    }

    #[test]
    fn set_allowlist_takes_keys_and_prefixes() {
        let mut policy = SqlPolicy::allow_all();
        assert!(policy.allows_set_key("datafusion.execution.batch_size"));
        policy
            .set(
                "set_allowlist",
                "datafusion.execution.batch_size, cpg.policy.",
            )
            .unwrap();
        assert!(policy.allows_set_key("DATAFUSION.EXECUTION.BATCH_SIZE"));
        assert!(policy.allows_set_key("cpg.policy.allow_ddl"));
        assert!(!policy.allows_set_key("datafusion.optimizer.skip_failed_rules"));
    }

    #[test]
    fn functions_and_tables_by_list() {
        let mut policy = SqlPolicy::allow_all();
        policy.set("deny_functions", "md5, random").unwrap();
        assert_eq!(
            policy.function_denied_by("MD5", false),
            Some("cpg.policy.deny_functions")
        );
        assert_eq!(policy.function_denied_by("abs", false), None);
        policy.set("allow_volatile_functions", "false").unwrap();
        assert_eq!(
            policy.function_denied_by("now", true),
            Some("cpg.policy.allow_volatile_functions")
        );
        policy.set("allow_functions", "abs,upper").unwrap();
        assert_eq!(
            policy.function_denied_by("lower", false),
            Some("cpg.policy.allow_functions")
        );
        policy.set("deny_tables", "datafusion.secret.").unwrap();
        assert_eq!(
            policy.table_denied_by("datafusion.secret.keys"),
            Some("cpg.policy.deny_tables")
        );
        assert_eq!(policy.table_denied_by("datafusion.public.t"), None);
        policy.set("allow_tables", "datafusion.public.t").unwrap();
        assert_eq!(
            policy.table_denied_by("datafusion.public.u"),
            Some("cpg.policy.allow_tables")
        );
    }

    #[test]
    fn a_json_policy_applies_the_same_keys_and_locks_last() {
        let policy = SqlPolicy::from_json(
            r#"{"locked": true, "allow_ddl": false, "set_allowlist": ["a.b", "c."]}"#,
        )
        .unwrap();
        assert!(policy.is_locked());
        assert!(!policy.allows(StatementClass::DropTable));
        assert_eq!(
            policy.set_allowlist(),
            &["a.b".to_string(), "c.".to_string()]
        );
        let error = SqlPolicy::from_json("[1]").unwrap_err().to_string();
        assert!(
            error.contains("a policy file is an object (JSON)"),
            "{error}"
        );
    }

    #[test]
    fn a_toml_policy_reads_like_json() {
        let toml = "allow_ddl = false\nlocked = true\ndeny_tables = [\"datafusion.secret.\", \"x.y.z\"]\nmax_joins = 3\n";
        let policy = SqlPolicy::from_toml(toml).unwrap();
        let json = SqlPolicy::from_json(
            r#"{"allow_ddl": false, "locked": true, "deny_tables": ["datafusion.secret.", "x.y.z"], "max_joins": 3}"#,
        )
        .unwrap();
        assert_eq!(policy, json);
        assert_eq!(policy.max_joins(), Some(3));
        let error = SqlPolicy::from_toml("allow_ddl = ")
            .unwrap_err()
            .to_string();
        assert!(error.contains("the policy is not valid TOML"), "{error}");
        let dir = std::env::temp_dir().join(format!("cpg-policy-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("policy.toml");
        std::fs::write(&file, toml).unwrap();
        assert_eq!(SqlPolicy::from_file(&file).unwrap(), json);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
