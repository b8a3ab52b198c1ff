//! Test tables written with deltalake's own operations, the model of what each version
//! changed, and query helpers. Rows are compared as sorted `|`-joined strings:
//! feed rows `version|change|id|value|part|extra`, table rows `id|value|part|extra`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ops::{Range, RangeInclusive};
use std::sync::Arc;

use datafusion::arrow::array::{Int32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::physical_plan::{collect, displayable};
use datafusion::prelude::SessionContext;
use deltalake::kernel::{DataType, PrimitiveType, StructField};
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, TableProperty, ensure_table_uri};

/// A Delta table in a temporary directory.
pub struct Table {
    dir: tempfile::TempDir,
    partitioned: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub value: String,
    pub part: String,
    pub extra: Option<i64>,
}

pub fn part_of(id: i32) -> String {
    if id % 2 == 0 { "even" } else { "odd" }.to_string()
}

fn batch(rows: &[(i32, Row)], with_extra: bool) -> RecordBatch {
    let mut fields = vec![
        Field::new("id", ArrowType::Int32, false),
        Field::new("value", ArrowType::Utf8, true),
        Field::new("part", ArrowType::Utf8, true),
    ];
    let mut columns: Vec<Arc<dyn datafusion::arrow::array::Array>> = vec![
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|(id, _)| *id))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|(_, r)| r.value.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|(_, r)| r.part.as_str()),
        )),
    ];
    if with_extra {
        fields.push(Field::new("extra", ArrowType::Int64, true));
        columns.push(Arc::new(Int64Array::from_iter(
            rows.iter().map(|(_, r)| r.extra),
        )));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

impl Table {
    pub async fn create(change_feed: bool, partition_columns: &[&str]) -> Self {
        let properties = match change_feed {
            true => vec![TableProperty::EnableChangeDataFeed],
            false => vec![],
        };
        Self::create_with(properties, partition_columns).await
    }

    /// A table with the `properties` enabled.
    pub async fn create_with(properties: Vec<TableProperty>, partition_columns: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = ensure_table_uri(dir.path().to_str().unwrap()).unwrap();
        let mut create = DeltaTable::try_from_url(url)
            .await
            .unwrap()
            .create()
            .with_columns(vec![
                StructField::new("id", DataType::Primitive(PrimitiveType::Integer), false),
                StructField::new("value", DataType::Primitive(PrimitiveType::String), true),
                StructField::new("part", DataType::Primitive(PrimitiveType::String), true),
            ])
            .with_partition_columns(partition_columns.iter().map(|c| c.to_string()));
        for property in properties {
            create = create.with_configuration_property(property, Some("true"));
        }
        create.await.unwrap();
        Self {
            dir,
            partitioned: !partition_columns.is_empty(),
        }
    }

    pub fn path(&self) -> String {
        self.dir.path().to_str().unwrap().to_string()
    }

    pub async fn open(&self) -> DeltaTable {
        deltalake::open_table(ensure_table_uri(self.path()).unwrap())
            .await
            .unwrap()
    }

    pub async fn version(&self) -> u64 {
        self.open().await.version().unwrap() as u64
    }

    fn partitions(&self) -> Vec<String> {
        if self.partitioned {
            vec!["part".to_string()]
        } else {
            vec![]
        }
    }

    pub fn rows(ids: Range<i32>, prefix: &str, extra: bool) -> Vec<(i32, Row)> {
        ids.map(|id| {
            (
                id,
                Row {
                    value: format!("{prefix}{id}"),
                    part: part_of(id),
                    extra: extra.then_some(id as i64 * 10),
                },
            )
        })
        .collect()
    }

    pub async fn append(&self, ids: Range<i32>) {
        self.write(&Self::rows(ids, "a", false), false, SaveMode::Append)
            .await;
    }

    pub async fn overwrite(&self, ids: Range<i32>) {
        self.write(&Self::rows(ids, "o", false), false, SaveMode::Overwrite)
            .await;
    }

    pub async fn write(&self, rows: &[(i32, Row)], with_extra: bool, mode: SaveMode) {
        self.open()
            .await
            .write(vec![batch(rows, with_extra)])
            .with_save_mode(mode)
            .with_schema_mode(SchemaMode::Merge)
            .with_partition_columns(self.partitions())
            .await
            .unwrap();
    }

    pub async fn update(&self, predicate: &str, value: &str) {
        self.open()
            .await
            .update()
            .with_predicate(predicate)
            .with_update("value", value)
            .await
            .unwrap();
    }

    pub async fn delete(&self, predicate: &str) {
        self.open()
            .await
            .delete()
            .with_predicate(predicate)
            .await
            .unwrap();
    }

    pub async fn merge(&self, source: &[(i32, Row)]) {
        let ctx = SessionContext::new();
        let source = ctx.read_batch(batch(source, false)).unwrap();
        self.open()
            .await
            .merge(source, "t.id = s.id")
            .with_source_alias("s")
            .with_target_alias("t")
            .when_matched_update(|u| u.update("value", "s.value"))
            .unwrap()
            .when_not_matched_insert(|i| {
                i.set("id", "s.id")
                    .set("value", "s.value")
                    .set("part", "s.part")
            })
            .unwrap()
            .await
            .unwrap();
    }

    pub async fn optimize(&self) {
        self.open().await.optimize().await.unwrap();
    }

    pub async fn vacuum(&self) {
        self.open()
            .await
            .vacuum()
            .with_retention_period(chrono::Duration::zero())
            .with_enforce_retention_duration(false)
            .await
            .unwrap();
    }

    /// Writes a row with `value` as Int64 (with an overwrite: a schema change no feed
    /// spans).
    pub async fn write_int_value(&self, mode: SaveMode) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", ArrowType::Int32, false),
            Field::new("value", ArrowType::Int64, true),
            Field::new("part", ArrowType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(vec![1])),
                Arc::new(Int64Array::from(vec![7])),
                Arc::new(StringArray::from(vec!["odd"])),
            ],
        )
        .unwrap();
        self.open()
            .await
            .write(vec![batch])
            .with_save_mode(mode)
            .with_schema_mode(match mode {
                SaveMode::Overwrite => SchemaMode::Overwrite,
                _ => SchemaMode::Merge,
            })
            .await
            .unwrap();
    }

    /// Each version's `commitInfo.timestamp` (µs), read from the log files directly.
    pub async fn commit_micros(&self) -> Vec<i64> {
        let mut times = vec![];
        for version in 0.. {
            let path = self
                .dir
                .path()
                .join(format!("_delta_log/{version:020}.json"));
            let Ok(text) = std::fs::read_to_string(path) else {
                break;
            };
            let millis = text
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .find_map(|action| action["commitInfo"]["timestamp"].as_i64())
                .unwrap();
            times.push(millis * 1000);
        }
        times
    }
}

/// A partitioned, CDF-enabled table with a history of every kind of change, and the
/// model of each version's changes and of the table after it.
pub struct History {
    pub table: Table,
    changes: BTreeMap<u64, Vec<String>>,
    states: BTreeMap<u64, BTreeMap<i32, Row>>,
}

fn feed_row(version: u64, change: &str, id: i32, row: &Row) -> String {
    let extra = row.extra.map_or("NULL".to_string(), |e| e.to_string());
    format!("{version}|{change}|{id}|{}|{}|{extra}", row.value, row.part)
}

fn table_row(id: i32, row: &Row) -> String {
    let extra = row.extra.map_or("NULL".to_string(), |e| e.to_string());
    format!("{id}|{}|{}|{extra}", row.value, row.part)
}

impl History {
    pub async fn write() -> Self {
        let mut history = Self {
            table: Table::create(true, &["part"]).await,
            changes: BTreeMap::new(),
            states: BTreeMap::new(),
        };
        history.record(BTreeMap::new(), vec![]).await;

        let mut state = BTreeMap::new();
        let inserted = Table::rows(0..30, "a", false);
        history.table.append(0..30).await;
        let changes = inserted
            .iter()
            .map(|(id, r)| ("insert", *id, r.clone()))
            .collect();
        state.extend(inserted);
        history.record(state.clone(), changes).await;

        // Update: pre and post images.
        history
            .table
            .update("id % 3 = 0", "concat(value, 'u')")
            .await;
        let mut changes = vec![];
        for (id, row) in state.iter_mut().filter(|(id, _)| *id % 3 == 0) {
            changes.push(("update_preimage", *id, row.clone()));
            row.value.push('u');
            changes.push(("update_postimage", *id, row.clone()));
        }
        history.record(state.clone(), changes).await;

        // Delete with a predicate.
        history.table.delete("id % 5 = 1").await;
        let deleted: Vec<i32> = state.keys().copied().filter(|id| id % 5 == 1).collect();
        let changes = deleted
            .iter()
            .map(|id| ("delete", *id, state.remove(id).unwrap()))
            .collect();
        history.record(state.clone(), changes).await;

        // Merge: update the matched, insert the others.
        let source = Table::rows(25..35, "m", false);
        history.table.merge(&source).await;
        let mut changes = vec![];
        for (id, new) in source {
            match state.get_mut(&id) {
                Some(row) => {
                    changes.push(("update_preimage", id, row.clone()));
                    row.value = new.value.clone();
                    changes.push(("update_postimage", id, row.clone()));
                }
                None => {
                    changes.push(("insert", id, new.clone()));
                    state.insert(id, new);
                }
            }
        }
        history.record(state.clone(), changes).await;

        // Schema evolution: a column added by an append.
        let added = Table::rows(100..104, "e", true);
        history.table.write(&added, true, SaveMode::Append).await;
        let changes = added
            .iter()
            .map(|(id, r)| ("insert", *id, r.clone()))
            .collect();
        state.extend(added);
        history.record(state.clone(), changes).await;

        // Overwrite: no change data files; removes become deletes, adds inserts.
        let written = Table::rows(200..206, "o", true);
        history
            .table
            .write(&written, true, SaveMode::Overwrite)
            .await;
        let mut changes: Vec<_> = state
            .iter()
            .map(|(id, r)| ("delete", *id, r.clone()))
            .collect();
        changes.extend(written.iter().map(|(id, r)| ("insert", *id, r.clone())));
        state = written.into_iter().collect();
        history.record(state.clone(), changes).await;

        let appended = Table::rows(300..304, "p", true);
        history.table.write(&appended, true, SaveMode::Append).await;
        let changes = appended
            .iter()
            .map(|(id, r)| ("insert", *id, r.clone()))
            .collect();
        state.extend(appended);
        history.record(state.clone(), changes).await;

        // Compaction changes no row.
        let before = history.table.version().await;
        history.table.optimize().await;
        if history.table.version().await > before {
            history.record(state.clone(), vec![]).await;
        }

        // Deleting a whole partition.
        history.table.delete("part = 'even'").await;
        let deleted: Vec<i32> = state.keys().copied().filter(|id| id % 2 == 0).collect();
        let changes = deleted
            .iter()
            .map(|id| ("delete", *id, state.remove(id).unwrap()))
            .collect();
        history.record(state.clone(), changes).await;
        history
    }

    async fn record(&mut self, state: BTreeMap<i32, Row>, changes: Vec<(&str, i32, Row)>) {
        let version = self.table.version().await;
        assert!(
            !self.changes.contains_key(&version),
            "version {version} recorded twice"
        );
        self.changes.insert(
            version,
            changes
                .iter()
                .map(|(c, id, r)| feed_row(version, c, *id, r))
                .collect(),
        );
        self.states.insert(version, state);
    }

    pub fn path(&self) -> String {
        self.table.path()
    }

    pub fn latest(&self) -> u64 {
        *self.changes.keys().next_back().unwrap()
    }

    pub async fn commit_micros(&self) -> Vec<i64> {
        self.table.commit_micros().await
    }

    /// The feed rows of `versions`, sorted. Rows written before `extra` existed read it
    /// as NULL; a range ending before it has no such column (also NULL here).
    pub fn expected(&self, versions: RangeInclusive<u64>) -> Vec<String> {
        let mut rows: Vec<String> = self
            .changes
            .range(versions)
            .flat_map(|(_, rows)| rows.iter().cloned())
            .collect();
        rows.sort();
        rows
    }

    pub fn state_at(&self, version: u64) -> Vec<String> {
        let mut rows: Vec<String> = self.states[&version]
            .iter()
            .map(|(id, r)| table_row(*id, r))
            .collect();
        rows.sort();
        rows
    }
}

pub async fn batches(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    match ctx.sql(sql).await.unwrap().collect().await {
        Ok(batches) => batches,
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// Rows as strings, in result order.
/// A session with `provider` registered as `name`.
pub fn ctx_with(
    name: &str,
    provider: impl datafusion::catalog::TableProvider + 'static,
) -> SessionContext {
    let ctx = SessionContext::new();
    ctx.register_table(name, Arc::new(provider)).unwrap();
    ctx
}

/// The error `sql` fails with when run (planning it must succeed).
pub async fn query_error(ctx: &SessionContext, sql: &str) -> String {
    ctx.sql(sql)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err()
        .to_string()
}

pub async fn query(ctx: &SessionContext, sql: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    for batch in batches(ctx, sql).await {
        for i in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| array_value_to_string(c, i).unwrap())
                    .collect(),
            );
        }
    }
    rows
}

fn named_rows(batches: &[RecordBatch], columns: &[&str]) -> Vec<String> {
    let mut rows = vec![];
    for batch in batches {
        for i in 0..batch.num_rows() {
            let fields: Vec<String> = columns
                .iter()
                .map(|name| match batch.column_by_name(name) {
                    Some(c) if c.is_null(i) => "NULL".to_string(),
                    Some(c) => array_value_to_string(c, i).unwrap(),
                    None => "NULL".to_string(),
                })
                .collect();
            rows.push(fields.join("|"));
        }
    }
    rows.sort();
    rows
}

/// Feed rows of `sql` (which selects every column), sorted.
pub async fn feed_rows(ctx: &SessionContext, sql: &str) -> Vec<String> {
    named_rows(
        &batches(ctx, sql).await,
        &[
            "_commit_version",
            "_change_type",
            "id",
            "value",
            "part",
            "extra",
        ],
    )
}

/// Table rows of `sql`, sorted.
pub async fn table_rows(ctx: &SessionContext, sql: &str) -> Vec<String> {
    named_rows(&batches(ctx, sql).await, &["id", "value", "part", "extra"])
}

pub fn row_version(row: &str) -> u64 {
    row.split('|').next().unwrap().parse().unwrap()
}

pub fn row_id(row: &str) -> i64 {
    row.split('|').nth(2).unwrap().parse().unwrap()
}

pub async fn explain(ctx: &SessionContext, sql: &str) -> String {
    let plan = ctx
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    displayable(plan.as_ref()).indent(true).to_string()
}

/// The scan's metrics after running `sql` (EXPLAIN ANALYZE's line of the feed scan).
pub async fn scan_metrics(ctx: &SessionContext, sql: &str) -> String {
    let plan = ctx
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    collect(Arc::clone(&plan), ctx.task_ctx()).await.unwrap();
    displayable(plan.as_ref())
        .indent(true)
        .to_string()
        .lines()
        .find(|l| l.contains("DeltaCdfExec"))
        .map(|_| {
            let mut found = String::new();
            find_metrics(&plan, &mut found);
            found
        })
        .unwrap_or_default()
}

fn find_metrics(plan: &Arc<dyn datafusion::physical_plan::ExecutionPlan>, out: &mut String) {
    if plan.name() == "DeltaCdfExec"
        && let Some(metrics) = plan.metrics()
    {
        out.push_str(&metrics.aggregate_by_name().to_string());
    }
    for child in plan.children() {
        find_metrics(child, out);
    }
}
