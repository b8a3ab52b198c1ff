//! Checking a parsed SQL statement against the policy *before* DataFusion runs it:
//! `SessionContext::sql` executes DDL and `SET` eagerly, before any analyzer rule sees
//! a plan, so statement classes are decided on the statement itself. `EXPLAIN` is
//! checked on the statement it explains (`EXPLAIN ANALYZE` runs it).

use datafusion::common::Result;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{ObjectType, Set, Statement as SQLStatement};
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect, dialect_from_str};

use super::config::{SqlPolicy, StatementClass, is_weakening_option};
use super::denial::{PolicyCode, deny};

/// The class of `statement` and, for `SET`, the keys it assigns; `None` for a class the
/// policy does not govern (queries, SHOW, DESCRIBE, ...).
pub fn classify(statement: &DFStatement) -> Option<(StatementClass, Vec<String>)> {
    use StatementClass::*;
    let class = |c| Some((c, Vec::new()));
    match statement {
        DFStatement::CreateExternalTable(_) => class(CreateExternalTable),
        DFStatement::CopyTo(_) => class(CopyTo),
        DFStatement::Explain(explain) => classify(&explain.statement),
        DFStatement::Reset(_) => class(Set),
        DFStatement::Statement(statement) => match statement.as_ref() {
            SQLStatement::CreateTable(_) => class(CreateTable),
            SQLStatement::CreateView(_) => class(CreateView),
            SQLStatement::CreateFunction(_) => class(CreateFunction),
            SQLStatement::DropFunction(_) => class(DropFunction),
            SQLStatement::CreateSchema { .. } | SQLStatement::CreateDatabase { .. } => {
                class(CreateCatalogOrSchema)
            }
            SQLStatement::Drop { object_type, .. } => match object_type {
                ObjectType::View | ObjectType::MaterializedView => class(DropView),
                ObjectType::Schema | ObjectType::Database => class(DropCatalogOrSchema),
                _ => class(DropTable),
            },
            SQLStatement::Insert(_) => class(Insert),
            SQLStatement::Update(_) => class(Update),
            SQLStatement::Delete(_) | SQLStatement::Truncate(_) => class(Delete),
            SQLStatement::Copy { .. } => class(CopyTo),
            SQLStatement::Set(set) => Some((Set, set_keys(set))),
            SQLStatement::Prepare { .. }
            | SQLStatement::Execute { .. }
            | SQLStatement::Deallocate { .. } => class(PrepareExecute),
            SQLStatement::StartTransaction { .. }
            | SQLStatement::Commit { .. }
            | SQLStatement::Rollback { .. }
            | SQLStatement::Savepoint { .. } => class(Transaction),
            SQLStatement::Explain { statement, .. } => {
                classify(&DFStatement::Statement(statement.clone()))
            }
            _ => None,
        },
    }
}

fn set_keys(set: &Set) -> Vec<String> {
    let name = |n: &datafusion::sql::sqlparser::ast::ObjectName| n.to_string().to_ascii_lowercase();
    match set {
        Set::SingleAssignment { variable, .. } => vec![name(variable)],
        Set::ParenthesizedAssignments { variables, .. } => variables.iter().map(name).collect(),
        Set::MultipleAssignments { assignments } => {
            assignments.iter().map(|a| name(&a.name)).collect()
        }
        // SET TIME ZONE, SET NAMES, ...: keyed by their own syntax.
        other => vec![other.to_string().to_ascii_lowercase()],
    }
}

/// Refuses `statement` if `policy` denies its class, or, for `SET`, a key it assigns.
pub fn check_statement(statement: &DFStatement, policy: &SqlPolicy) -> Result<()> {
    check_locations(statement, policy)?;
    let Some((class, keys)) = classify(statement) else {
        return Ok(());
    };
    if !policy.allows(class) {
        return Err(deny(
            PolicyCode::Statement,
            format!(
                "{} statement",
                class.name().replace('_', " ").to_uppercase()
            ),
            format!("cpg.policy.allow_{}", class.name()),
        ));
    }
    for key in &keys {
        if policy.is_locked() && (key.starts_with("cpg.policy.") || is_weakening_option(key)) {
            return Err(deny(
                PolicyCode::Locked,
                format!("SET {key}"),
                "the locked policy",
            ));
        }
        if !policy.allows_set_key(key) {
            return Err(deny(
                PolicyCode::SetKey,
                format!("SET {key}"),
                "cpg.policy.set_allowlist",
            ));
        }
    }
    Ok(())
}

/// The external locations a statement names, checked before it runs (a `CREATE
/// EXTERNAL TABLE` registers its table eagerly).
fn check_locations(statement: &DFStatement, policy: &SqlPolicy) -> Result<()> {
    match statement {
        DFStatement::CreateExternalTable(create) => create
            .locations
            .iter()
            .try_for_each(|l| super::paths::check_location(l, "external table at", policy)),
        DFStatement::CopyTo(copy) => super::paths::check_location(&copy.target, "COPY TO", policy),
        DFStatement::Explain(explain) => check_locations(&explain.statement, policy),
        _ => Ok(()),
    }
}

/// The sqlparser dialect DataFusion means by `name` (its `sql_parser.dialect` option);
/// DataFusion's default, the generic dialect, for a name sqlparser does not know.
pub fn dialect_named(name: &str) -> Box<dyn Dialect> {
    dialect_from_str(name).unwrap_or_else(|| Box::new(GenericDialect {}))
}

/// The dialect `ctx` parses SQL with.
pub fn session_dialect(ctx: &SessionContext) -> Box<dyn Dialect> {
    dialect_named(
        ctx.state_ref()
            .read()
            .config()
            .options()
            .sql_parser
            .dialect
            .as_ref(),
    )
}

/// Parses `sql` with the `dialect` DataFusion uses and checks every statement in it.
pub fn check_sql(sql: &str, dialect: &str, policy: &SqlPolicy) -> Result<()> {
    let dialect = dialect_named(dialect);
    let statements =
        datafusion::sql::parser::DFParser::parse_sql_with_dialect(sql, dialect.as_ref())?;
    statements
        .iter()
        .try_for_each(|statement| check_statement(statement, policy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str, policy: &SqlPolicy) -> std::result::Result<(), String> {
        check_sql(sql, "generic", policy).map_err(|e| e.strip_backtrace())
    }

    #[test]
    fn every_class_is_recognised() {
        let cases = [
            ("CREATE TABLE t AS SELECT 1", StatementClass::CreateTable),
            ("DROP TABLE t", StatementClass::DropTable),
            ("CREATE VIEW v AS SELECT 1", StatementClass::CreateView),
            ("DROP VIEW v", StatementClass::DropView),
            (
                "CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '/tmp/x.csv'",
                StatementClass::CreateExternalTable,
            ),
            ("CREATE SCHEMA s", StatementClass::CreateCatalogOrSchema),
            ("DROP SCHEMA s", StatementClass::DropCatalogOrSchema),
            ("INSERT INTO t VALUES (1)", StatementClass::Insert),
            ("UPDATE t SET a = 1", StatementClass::Update),
            ("DELETE FROM t", StatementClass::Delete),
            ("COPY t TO '/tmp/out.csv'", StatementClass::CopyTo),
            (
                "SET datafusion.execution.batch_size = 10",
                StatementClass::Set,
            ),
            ("PREPARE p AS SELECT $1", StatementClass::PrepareExecute),
            ("EXECUTE p(1)", StatementClass::PrepareExecute),
            ("BEGIN TRANSACTION", StatementClass::Transaction),
            (
                "EXPLAIN ANALYZE INSERT INTO t VALUES (1)",
                StatementClass::Insert,
            ),
        ];
        for (sql, class) in cases {
            let denied = SqlPolicy::allow_all().with(class, false);
            let error = check(sql, &denied).expect_err(sql);
            assert!(
                error.contains("CPG-POLICY-1: ")
                    && error.contains(&format!("denied by cpg.policy.allow_{}", class.name())),
                "{sql}: {error}"
            );
            check(sql, &SqlPolicy::allow_all()).unwrap();
        }
    }

    #[test]
    fn queries_pass_a_read_only_policy() {
        let policy = SqlPolicy::read_only();
        check(
            "SELECT 1; WITH x AS (SELECT 2) SELECT * FROM x; SHOW TABLES",
            &policy,
        )
        .unwrap();
        let error = check("SELECT 1; CREATE TABLE t AS SELECT 1", &policy).unwrap_err();
        assert_eq!(
            error,
            "Error during planning: CPG-POLICY-1: CREATE TABLE statement denied by cpg.policy.allow_create_table"
        );
    }

    #[test]
    fn set_keys_are_checked_against_the_allowlist_and_the_lock() {
        let mut policy = SqlPolicy::allow_all();
        policy
            .set("set_allowlist", "datafusion.execution.")
            .unwrap();
        check("SET datafusion.execution.batch_size = 10", &policy).unwrap();
        let error =
            check("SET datafusion.optimizer.skip_failed_rules = true", &policy).unwrap_err();
        assert!(error.contains("CPG-POLICY-2: SET datafusion.optimizer.skip_failed_rules denied by cpg.policy.set_allowlist"), "{error}");
        let locked = SqlPolicy::allow_all().locked();
        let error = check("SET cpg.policy.allow_ddl = true", &locked).unwrap_err();
        assert!(
            error.contains("CPG-POLICY-3: SET cpg.policy.allow_ddl denied by the locked policy"),
            "{error}"
        );
        let error =
            check("SET datafusion.optimizer.skip_failed_rules = true", &locked).unwrap_err();
        assert!(error.contains("CPG-POLICY-3"), "{error}");
    }
}
