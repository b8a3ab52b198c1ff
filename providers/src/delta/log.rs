//! Reading a Delta table's commit log: which commit versions exist, the actions and the
//! timestamp of one commit, and the version a timestamp falls on (binary search over the
//! commits, never a scan of all of them).
//!
//! A commit's timestamp is its in-commit timestamp when the writer recorded one, else the
//! `commitInfo.timestamp` the writer stored, else the commit file's modification time.
//! Time travel and the change feed both use it, so `delta_snapshot(t)` and a feed bounded
//! by `t` agree (delta-rs uses the file time for one and commitInfo for the other).
//!
//! A committed version never changes, so a `DeltaLog` (and its clones) remembers the
//! commits it parsed and the snapshots it loaded: a provider that keeps one re-reads only
//! the log listing on its next scan.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

use datafusion::common::{DataFusionError, Result};
use deltalake::kernel::{Action, Snapshot};
use deltalake::logstore::{LogStoreRef, get_actions};
use deltalake::{ObjectStore, Path};
use futures::StreamExt;
use object_store::ObjectStoreExt;

use super::location::delta_error;

/// One commit of the log.
#[derive(Debug, Clone)]
pub struct Commit {
    pub version: u64,
    /// Microseconds since the epoch, UTC (see the module docs).
    pub timestamp_micros: i64,
    pub actions: Vec<Action>,
}

/// The commit log of one table.
#[derive(Debug, Clone)]
pub struct DeltaLog {
    store: LogStoreRef,
    memo: Arc<Memo>,
}

/// What was read of immutable versions.
#[derive(Debug, Default)]
struct Memo {
    commits: Mutex<MemoCommits>,
    snapshots: Mutex<HashMap<u64, Arc<Snapshot>>>,
}

#[derive(Debug, Default)]
struct MemoCommits {
    by_version: HashMap<u64, Arc<Commit>>,
    /// Actions held in `by_version` (bounded by [`MEMO_MAX_ACTIONS`]).
    actions: usize,
}

/// At most this many actions are remembered (about 1 KiB each); later commits are read
/// again when needed.
const MEMO_MAX_ACTIONS: usize = 1 << 20;

/// How many commit files are fetched at once when a range is read.
const CONCURRENT_COMMIT_READS: usize = 16;

impl DeltaLog {
    pub fn new(store: LogStoreRef) -> Self {
        Self {
            store,
            memo: Arc::default(),
        }
    }

    pub fn store(&self) -> &LogStoreRef {
        &self.store
    }

    fn table(&self) -> String {
        self.store.root_url().to_string()
    }

    /// The versions whose commit files are present: the earliest (older ones may have
    /// been cleaned up) to the latest. One listing of `_delta_log/`.
    pub async fn versions(&self) -> Result<RangeInclusive<u64>> {
        let store = self.store.object_store(None);
        let log_dir = Path::from("_delta_log");
        let mut listing = store.list(Some(&log_dir));
        let (mut earliest, mut latest) = (u64::MAX, None::<u64>);
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| {
                DataFusionError::External(
                    format!("listing the Delta log of {}: {e}", self.table()).into(),
                )
            })?;
            if let Some(version) = commit_version(meta.location.filename().unwrap_or_default()) {
                earliest = earliest.min(version);
                latest = Some(latest.map_or(version, |l| l.max(version)));
            }
        }
        match latest {
            Some(latest) => Ok(earliest..=latest),
            None => Err(DataFusionError::Plan(format!(
                "no Delta table at {}: _delta_log/ holds no commit",
                self.table()
            ))),
        }
    }

    /// The commit at `version`, or `None` if its file is absent.
    pub async fn commit(&self, version: u64) -> Result<Option<Arc<Commit>>> {
        if let Some(commit) = lock(&self.memo.commits).by_version.get(&version) {
            return Ok(Some(Arc::clone(commit)));
        }
        let Some(commit) = self.read_commit(version).await? else {
            return Ok(None);
        };
        let commit = Arc::new(commit);
        let mut memo = lock(&self.memo.commits);
        if memo.actions + commit.actions.len() <= MEMO_MAX_ACTIONS
            && memo
                .by_version
                .insert(version, Arc::clone(&commit))
                .is_none()
        {
            memo.actions += commit.actions.len();
        }
        Ok(Some(commit))
    }

    async fn read_commit(&self, version: u64) -> Result<Option<Commit>> {
        let Some(bytes) = self
            .store
            .read_commit_entry(version)
            .await
            .map_err(delta_error(&format!(
                "reading commit {version} of {}",
                self.table()
            )))?
        else {
            return Ok(None);
        };
        let actions = get_actions(version, &bytes).map_err(delta_error(&format!(
            "parsing commit {version} of {}",
            self.table()
        )))?;
        let recorded = actions.iter().find_map(|action| match action {
            Action::CommitInfo(info) => info.in_commit_timestamp.or(info.timestamp),
            _ => None,
        });
        let timestamp_millis = match recorded {
            Some(millis) => millis,
            None => self.commit_file_time(version).await?,
        };
        Ok(Some(Commit {
            version,
            timestamp_micros: timestamp_millis.saturating_mul(1000),
            actions,
        }))
    }

    /// The commit at `version`; its absence is an error naming it.
    pub async fn required_commit(&self, version: u64) -> Result<Arc<Commit>> {
        self.commit(version).await?.ok_or_else(|| {
            DataFusionError::Plan(format!(
                "version {version} of the Delta table at {} has no commit file \
                 (cleaned up from the log?)",
                self.table()
            ))
        })
    }

    /// The commits of `versions`, in version order, read concurrently.
    pub fn commits(
        &self,
        versions: impl Iterator<Item = u64> + Send + 'static,
    ) -> impl futures::Stream<Item = Result<Arc<Commit>>> + Send + 'static {
        let log = self.clone();
        futures::stream::iter(versions)
            .map(move |version| {
                let log = log.clone();
                async move { log.required_commit(version).await }
            })
            .buffered(CONCURRENT_COMMIT_READS)
    }

    /// The table's snapshot (protocol, metadata, schema; no file list) at `version`.
    pub async fn snapshot(&self, version: u64) -> Result<Arc<Snapshot>> {
        if let Some(snapshot) = lock(&self.memo.snapshots).get(&version) {
            return Ok(Arc::clone(snapshot));
        }
        let snapshot = Snapshot::try_new(self.store.as_ref(), Some(version))
            .await
            .map_err(delta_error(&format!(
                "loading version {version} of {}",
                self.table()
            )))?;
        let snapshot = Arc::new(snapshot);
        lock(&self.memo.snapshots).insert(version, Arc::clone(&snapshot));
        Ok(snapshot)
    }

    async fn commit_file_time(&self, version: u64) -> Result<i64> {
        let path = Path::from(format!("_delta_log/{version:020}.json"));
        let meta = self
            .store
            .object_store(None)
            .head(&path)
            .await
            .map_err(|e| DataFusionError::External(format!("{path}: {e}").into()))?;
        Ok(meta.last_modified.timestamp_millis())
    }

    async fn timestamp(&self, version: u64) -> Result<i64> {
        Ok(self.required_commit(version).await?.timestamp_micros)
    }

    /// The first version in `versions` committed at or after `micros`, by binary search
    /// (commit timestamps increase with the version, as the Delta protocol requires).
    pub async fn first_version_at_or_after(
        &self,
        micros: i64,
        versions: RangeInclusive<u64>,
    ) -> Result<Option<u64>> {
        let (mut lo, mut hi) = (*versions.start(), *versions.end() + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.timestamp(mid).await? >= micros {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok((lo <= *versions.end()).then_some(lo))
    }

    /// The last version in `versions` committed at or before `micros`.
    pub async fn last_version_at_or_before(
        &self,
        micros: i64,
        versions: RangeInclusive<u64>,
    ) -> Result<Option<u64>> {
        let first_after = match micros.checked_add(1) {
            Some(next) => {
                self.first_version_at_or_after(next, versions.clone())
                    .await?
            }
            None => None,
        };
        Ok(match first_after {
            Some(v) if v == *versions.start() => None,
            Some(v) => Some(v - 1),
            None => Some(*versions.end()),
        })
    }
}

/// The memo's maps hold no invariant a panic could break: a poisoned lock is used as is.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The version of a commit file name (`00000000000000000042.json`), if it is one.
fn commit_version(file_name: &str) -> Option<u64> {
    let digits = file_name.strip_suffix(".json")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::commit_version;

    #[test]
    fn commit_file_names() {
        assert_eq!(commit_version("00000000000000000042.json"), Some(42));
        assert_eq!(
            commit_version("00000000000000000042.checkpoint.parquet"),
            None
        );
        assert_eq!(commit_version("_commit_abc.json.tmp"), None);
        assert_eq!(commit_version("0042.json"), None);
    }
}
