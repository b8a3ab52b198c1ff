"""datafusion_cpg.policy.sql_options: the strict mapping of a policy onto DataFusion's
SQLOptions, enforced by datafusion-python 55's ctx.sql_with_options."""

from __future__ import annotations

import datafusion
import pytest

from datafusion_cpg.policy import sql_options


@pytest.fixture()
def ctx() -> datafusion.SessionContext:
    ctx = datafusion.SessionContext()
    ctx.sql("CREATE TABLE t AS SELECT 1 AS a").collect()
    return ctx


def run(ctx: datafusion.SessionContext, sql: str, policy: dict) -> None:
    ctx.sql_with_options(sql, sql_options(policy)).collect()


@pytest.mark.parametrize(
    ("policy", "sql", "message"),
    [
        ({"allow_ddl": False}, "CREATE TABLE x AS SELECT 1", "DDL not supported"),
        ({"allow_drop_table": False}, "DROP TABLE t", "DDL not supported"),
        ({"allow_dml": False}, "INSERT INTO t VALUES (2)", "DML not supported"),
        ({"allow_insert": "false"}, "INSERT INTO t VALUES (2)", "DML not supported"),
        ({"allow_set": False}, "SET datafusion.execution.batch_size = 10", "not supported"),
    ],
)
def test_denied_classes_are_refused(
    ctx: datafusion.SessionContext, policy: dict, sql: str, message: str
) -> None:
    with pytest.raises(Exception, match=message):
        run(ctx, sql, policy)


def test_queries_and_allowed_classes_run(ctx: datafusion.SessionContext) -> None:
    policy = {"allow_ddl": False, "allow_dml": True, "deny_tables": "x"}
    run(ctx, "SELECT a FROM t", policy)
    run(ctx, "INSERT INTO t VALUES (3)", policy)
    assert ctx.sql("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 2}]


def test_bad_policies_say_what_is_accepted() -> None:
    with pytest.raises(ValueError, match="no key 'allow_everything'"):
        sql_options({"allow_everything": True})
    with pytest.raises(ValueError, match="is not a boolean"):
        sql_options({"allow_ddl": "maybe"})
