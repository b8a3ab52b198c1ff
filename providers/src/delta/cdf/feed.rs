//! Which files a change feed reads: the commit range resolved from the feed's bounds and
//! the query's `_commit_version` / `_commit_timestamp` filters, then, commit by commit
//! (read concurrently, in version order), the files that carry its changes.
//!
//! Per the Delta protocol, a commit with `cdc` actions is read from its `_change_data`
//! files only (their `_change_type` column says what each row is); a commit without
//! them yields its `add(dataChange)` files as `insert` and its `remove(dataChange)` files
//! as `delete`. Commits that only rearrange files (OPTIMIZE: `dataChange = false`) yield
//! nothing.
//!
//! Checked on the way, each failure naming the version: the change data feed is enabled
//! at every version read (`delta.enableChangeDataFeed`); no schema change in the range
//! conflicts with the feed's schema (the schema at its end: columns added later read as
//! NULL in older rows; a column dropped, renamed or retyped inside the range is
//! refused); no column mapping; every file still exists (else: fail, or skip and report).

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::common::{DataFusionError, Result};
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::kernel::{Action, Add, DeletionVectorDescriptor, Remove};
use deltalake::{ObjectStoreError, Path};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;

use datafusion::datasource::physical_plan::parquet::ParquetRowSelection;

use super::deletion_vectors::{RowPick, RowSource, row_selection};
use super::filters::CommitFilter;
use crate::delta::location::TableStore;
use crate::delta::log::{Commit, DeltaLog};
use crate::delta::options::{MissingFiles, VersionBound};

/// How a file's rows enter the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileRole {
    /// A `_change_data` file: its own `_change_type` column.
    ChangeData,
    /// Added by a commit without change data files: every row is an `insert`.
    Inserted,
    /// Removed by a commit without change data files: every row is a `delete`.
    Deleted,
}

/// One data file of the feed.
#[derive(Debug, Clone)]
pub struct FeedFile {
    pub version: u64,
    pub timestamp_micros: i64,
    pub role: FileRole,
    /// Relative to the table root, decoded.
    pub path: String,
    pub size: u64,
    pub partition_values: HashMap<String, Option<String>>,
    /// Which of its rows, when deletion vectors say (`None`: all).
    pub pick: Option<RowPick>,
    /// `pick` resolved against the file (set by [`read_feed`]).
    pub selection: Option<ParquetRowSelection>,
}

/// A data file named by the log but absent from storage.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MissingFile {
    pub version: u64,
    pub path: String,
}

/// The files of a feed, in version order.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    /// The versions whose commits were read (empty when the filters exclude all).
    pub versions: Option<RangeInclusive<u64>>,
    pub commits_read: usize,
    pub files: Vec<FeedFile>,
    pub missing: Vec<MissingFile>,
}

/// The feed's bounds resolved against the log: `start..=end`.
pub async fn resolve_range(
    log: &DeltaLog,
    start: VersionBound,
    end: Option<VersionBound>,
) -> Result<RangeInclusive<u64>> {
    let table = log.store().root_url().to_string();
    let available = log.versions().await?;
    let (earliest, latest) = (*available.start(), *available.end());
    let start_version = match start {
        VersionBound::Version(v) if v > latest => {
            return Err(DataFusionError::Plan(format!(
                "the change feed of {table} cannot start at version {v}: \
                 the latest version is {latest}"
            )));
        }
        VersionBound::Version(v) if v < earliest => {
            return Err(DataFusionError::Plan(format!(
                "the change feed of {table} cannot start at version {v}: the log holds \
                 versions {earliest} to {latest} (older commits were cleaned up)"
            )));
        }
        VersionBound::Version(v) => v,
        VersionBound::Timestamp(micros) => log
            .first_version_at_or_after(micros, available.clone())
            .await?
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "the change feed of {table} cannot start at {start}: it is after the \
                     latest commit (version {latest})"
                ))
            })?,
    };
    let end_version = match end {
        None => latest,
        // An end beyond the latest version reads to the latest (as Spark's reader does).
        Some(VersionBound::Version(v)) => v.min(latest),
        Some(bound @ VersionBound::Timestamp(micros)) => log
            .last_version_at_or_before(micros, available.clone())
            .await?
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "the change feed of {table} cannot end at {bound}: it is before the \
                     earliest commit in the log (version {earliest})"
                ))
            })?,
    };
    if end_version < start_version {
        return Err(DataFusionError::Plan(format!(
            "the change feed of {table} is empty by its bounds: it ends at version \
             {end_version} ({}), before its start at version {start_version} ({start})",
            end.map_or("the latest".to_string(), |b| b.to_string()),
        )));
    }
    Ok(start_version..=end_version)
}

/// Reads the commits of `range` that `filter` admits and lists their files.
pub async fn read_feed(
    log: &DeltaLog,
    store: &TableStore,
    range: RangeInclusive<u64>,
    filter: &CommitFilter,
    feed_schema: &Schema,
    missing_files: MissingFiles,
) -> Result<Feed> {
    let Some(versions) = filter.narrow(log, range).await? else {
        return Ok(Feed::default());
    };
    let table = log.store().root_url().to_string();
    let mut enabled =
        change_feed_enabled_before(log, *versions.start(), feed_schema, &table).await?;
    let wanted: Vec<u64> = versions.clone().filter(|v| filter.admits(*v)).collect();
    let mut commits = log.commits(wanted.into_iter());
    let mut files = vec![];
    let mut commits_read = 0;
    while let Some(commit) = commits.try_next().await? {
        commits_read += 1;
        enabled = check_metadata(&commit, enabled, feed_schema, &table)?;
        if !enabled {
            return Err(DataFusionError::Plan(format!(
                "the change data feed is not enabled at version {} of {table} \
                 (delta.enableChangeDataFeed is not 'true' there): start the feed after \
                 the version that enables it",
                commit.version
            )));
        }
        commit_files(&commit, &mut files)?;
    }
    let (files, missing) = check_files_exist(store, files, missing_files, &table).await?;
    let files = resolve_picks(log, store, files).await?;
    Ok(Feed {
        versions: Some(versions),
        commits_read,
        files,
        missing,
    })
}

/// Whether the feed is enabled just before `start` (the table's configuration at the
/// previous version; false before version 0), after checking that the table's schema
/// there fits the feed's (the first commit may remove files written under it) and that
/// it does not map column names (which this provider does not read).
async fn change_feed_enabled_before(
    log: &DeltaLog,
    start: u64,
    feed_schema: &Schema,
    table: &str,
) -> Result<bool> {
    let Some(version) = start.checked_sub(1) else {
        return Ok(false);
    };
    let snapshot = log.snapshot(version).await?;
    let configuration = snapshot.metadata().configuration();
    refuse_column_mapping(configuration, version, table)?;
    let schema: Schema = snapshot.schema().as_ref().try_into_arrow().map_err(|e| {
        DataFusionError::External(format!("schema at version {version} of {table}: {e}").into())
    })?;
    check_schema(&schema, version, feed_schema, table)?;
    Ok(flag(configuration, "delta.enableChangeDataFeed"))
}

fn flag(configuration: &HashMap<String, String>, key: &str) -> bool {
    configuration
        .get(key)
        .is_some_and(|value| value.eq_ignore_ascii_case("true"))
}

fn refuse_column_mapping(
    configuration: &HashMap<String, String>,
    version: u64,
    table: &str,
) -> Result<()> {
    match configuration
        .get("delta.columnMapping.mode")
        .map(String::as_str)
    {
        None | Some("none") => Ok(()),
        Some(mode) => Err(DataFusionError::NotImplemented(format!(
            "the change feed of {table} at version {version} uses column mapping \
             (mode '{mode}'), which this provider does not read"
        ))),
    }
}

/// Applies a commit's metadata change, if any: returns whether the feed is enabled
/// after it, and refuses a schema that the feed's schema cannot represent.
fn check_metadata(
    commit: &Commit,
    mut enabled: bool,
    feed_schema: &Schema,
    table: &str,
) -> Result<bool> {
    for action in &commit.actions {
        let Action::Metadata(metadata) = action else {
            continue;
        };
        let version = commit.version;
        let configuration = metadata.configuration();
        refuse_column_mapping(configuration, version, table)?;
        enabled = flag(configuration, "delta.enableChangeDataFeed");
        let schema = metadata.parse_schema().map_err(|e| {
            DataFusionError::External(format!("schema at version {version} of {table}: {e}").into())
        })?;
        let schema: Schema = (&schema).try_into_arrow().map_err(|e| {
            DataFusionError::External(format!("schema at version {version} of {table}: {e}").into())
        })?;
        check_schema(&schema, version, feed_schema, table)?;
    }
    Ok(enabled)
}

/// Refuses a table schema (at `version`) whose rows the feed's schema cannot hold:
/// a column missing from it (dropped or renamed later) or of another type. Columns
/// the feed has and `schema` lacks (added later) read as NULL.
fn check_schema(schema: &Schema, version: u64, feed_schema: &Schema, table: &str) -> Result<()> {
    for field in schema.fields() {
        match feed_schema.field_with_name(field.name()) {
            Ok(feed_field) if feed_field.data_type() == field.data_type() => {}
            Ok(feed_field) => {
                return Err(DataFusionError::Plan(format!(
                    "schema change inside the change feed of {table}: at version {version} \
                     column '{}' is {}, the feed's schema (at its end) has {}; read the \
                     ranges before and after the change separately",
                    field.name(),
                    field.data_type(),
                    feed_field.data_type()
                )));
            }
            Err(_) => {
                return Err(DataFusionError::Plan(format!(
                    "schema change inside the change feed of {table}: column '{}' of \
                     version {version} is not in the feed's schema (at its end: dropped or \
                     renamed); read the ranges before and after the change separately",
                    field.name()
                )));
            }
        }
    }
    Ok(())
}

/// Appends the files of `commit` that carry its changes (see the module docs and
/// [`super::deletion_vectors`]).
fn commit_files(commit: &Commit, files: &mut Vec<FeedFile>) -> Result<()> {
    let mut push = |role,
                    path: &str,
                    size: Option<i64>,
                    partition_values: &HashMap<String, Option<String>>,
                    pick|
     -> Result<()> {
        files.push(FeedFile {
            version: commit.version,
            timestamp_micros: commit.timestamp_micros,
            role,
            path: relative_path(path, commit.version)?,
            size: size.map_or(0, |s| s.max(0) as u64),
            partition_values: partition_values.clone(),
            pick,
            selection: None,
        });
        Ok(())
    };
    if commit.actions.iter().any(|a| matches!(a, Action::Cdc(_))) {
        for action in &commit.actions {
            if let Action::Cdc(cdc) = action {
                let values = &cdc.partition_values;
                push(
                    FileRole::ChangeData,
                    &cdc.path,
                    Some(cdc.size),
                    values,
                    None,
                )?;
            }
        }
        return Ok(());
    }
    let adds: HashMap<&str, &Add> = commit
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Add(add) if add.data_change => Some((add.path.as_str(), add)),
            _ => None,
        })
        .collect();
    let removes: HashMap<&str, &Remove> = commit
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Remove(remove) if remove.data_change => Some((remove.path.as_str(), remove)),
            _ => None,
        })
        .collect();
    // A file removed and re-added with another deletion vector in the same commit.
    let paired = |path: &str| -> Option<(&Add, &Remove)> {
        let (add, remove) = (*adds.get(path)?, *removes.get(path)?);
        (add.deletion_vector.is_some() || remove.deletion_vector.is_some()).then_some((add, remove))
    };
    let all_but = |dv: &Option<DeletionVectorDescriptor>| {
        dv.clone().map(|dv| RowPick {
            from: RowSource::AllRows,
            minus: Some(dv),
        })
    };
    for action in &commit.actions {
        match action {
            Action::Remove(remove) if remove.data_change => match paired(&remove.path) {
                Some((add, _)) => {
                    // Deleted now: in the new vector, not in the old one; restored: the
                    // reverse.
                    let deleted = RowPick {
                        from: RowSource::DeletedBy(add.deletion_vector.clone()),
                        minus: remove.deletion_vector.clone(),
                    };
                    let values = &add.partition_values;
                    push(
                        FileRole::Deleted,
                        &add.path,
                        Some(add.size),
                        values,
                        Some(deleted),
                    )?;
                    if remove.deletion_vector.is_some() {
                        let restored = RowPick {
                            from: RowSource::DeletedBy(remove.deletion_vector.clone()),
                            minus: add.deletion_vector.clone(),
                        };
                        push(
                            FileRole::Inserted,
                            &add.path,
                            Some(add.size),
                            values,
                            Some(restored),
                        )?;
                    }
                }
                None => {
                    let values = remove.partition_values.as_ref().unwrap_or(&EMPTY);
                    let pick = all_but(&remove.deletion_vector);
                    push(FileRole::Deleted, &remove.path, remove.size, values, pick)?;
                }
            },
            Action::Add(add) if add.data_change && paired(&add.path).is_none() => {
                let pick = all_but(&add.deletion_vector);
                push(
                    FileRole::Inserted,
                    &add.path,
                    Some(add.size),
                    &add.partition_values,
                    pick,
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

static EMPTY: std::sync::LazyLock<HashMap<String, Option<String>>> =
    std::sync::LazyLock::new(HashMap::new);

/// Resolves the deletion-vector picks into row selections (reading the vectors and the
/// files' footers); a file none of whose rows enter the feed is dropped.
async fn resolve_picks(
    log: &DeltaLog,
    store: &TableStore,
    files: Vec<FeedFile>,
) -> Result<Vec<FeedFile>> {
    let object_store = Arc::clone(store.store());
    let resolved: Vec<Option<FeedFile>> = futures::stream::iter(files)
        .map(|mut file| {
            let object_store = Arc::clone(&object_store);
            async move {
                let Some(pick) = &file.pick else {
                    return Ok::<_, DataFusionError>(Some(file));
                };
                let selection =
                    row_selection(log.store(), &object_store, &file.path, file.size, pick)
                        .await
                        .map_err(|e| {
                            DataFusionError::Execution(format!("version {}: {e}", file.version))
                        })?;
                Ok(selection.map(|selection| {
                    file.selection = Some(selection);
                    file
                }))
            }
        })
        .buffered(8)
        .try_collect()
        .await?;
    Ok(resolved.into_iter().flatten().collect())
}

/// A log path (relative, percent-encoded) as an object-store path under the table root.
fn relative_path(path: &str, version: u64) -> Result<String> {
    if path.contains("://") {
        return Err(DataFusionError::NotImplemented(format!(
            "version {version} names a data file by absolute URL ('{path}', a shallow \
             clone?), which the change feed does not read"
        )));
    }
    Path::from_url_path(path)
        .map(|p| p.to_string())
        .map_err(|e| DataFusionError::Plan(format!("version {version}: data file '{path}': {e}")))
}

/// Looks every file up (concurrently): fills in unknown sizes, and fails on or sets
/// aside the missing ones.
async fn check_files_exist(
    store: &TableStore,
    files: Vec<FeedFile>,
    policy: MissingFiles,
    table: &str,
) -> Result<(Vec<FeedFile>, Vec<MissingFile>)> {
    let object_store = Arc::clone(store.store());
    let looked_up: Vec<(FeedFile, bool)> = futures::stream::iter(files)
        .map(|mut file| {
            let object_store = Arc::clone(&object_store);
            async move {
                match object_store.head(&Path::from(file.path.as_str())).await {
                    Ok(meta) => {
                        file.size = meta.size;
                        Ok((file, true))
                    }
                    Err(ObjectStoreError::NotFound { .. }) => Ok((file, false)),
                    Err(e) => Err(DataFusionError::External(
                        format!("version {}: data file '{}': {e}", file.version, file.path).into(),
                    )),
                }
            }
        })
        .buffered(32)
        .try_collect()
        .await?;
    let mut present = Vec::with_capacity(looked_up.len());
    let mut missing = vec![];
    for (file, exists) in looked_up {
        if exists {
            present.push(file);
        } else if policy == MissingFiles::Skip {
            missing.push(MissingFile {
                version: file.version,
                path: file.path,
            });
        } else {
            return Err(DataFusionError::Plan(format!(
                "version {} of {table}: data file '{}' ({}) is missing (removed by VACUUM?); \
                 read a range after it, or set missing_files = 'skip' to leave its rows out",
                file.version,
                file.path,
                match file.role {
                    FileRole::ChangeData => "change data",
                    FileRole::Inserted => "added",
                    FileRole::Deleted => "removed",
                }
            )));
        }
    }
    Ok((present, missing))
}
