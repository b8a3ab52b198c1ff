//! The options of the Delta providers, as a user writes them: version and timestamp
//! bounds, what to do about data files removed by VACUUM, storage options; parsed from
//! DDL `OPTIONS (...)`, table-function arguments and the Rust builders alike.

use std::collections::BTreeMap;
use std::fmt;

use datafusion::arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;
use datafusion::common::{DataFusionError, Result};
use serde::{Deserialize, Serialize};

/// A point in a table's history: a version, or the last version committed at or before
/// a time (for the start of a change feed: the first committed at or after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VersionBound {
    Version(u64),
    /// Microseconds since the epoch, UTC.
    Timestamp(i64),
}

impl VersionBound {
    /// A version number (`'7'`).
    pub fn parse_version(key: &str, value: &str) -> Result<Self> {
        value.trim().parse::<u64>().map(Self::Version).map_err(|_| {
            DataFusionError::Plan(format!(
                "{key} must be a table version (a non-negative integer), got '{value}'"
            ))
        })
    }

    /// A timestamp (`'2026-01-31T10:00:00Z'`, `'2026-01-31 10:00:00'` = UTC,
    /// `'2026-01-31'` = midnight UTC), as Arrow casts strings to timestamps.
    pub fn parse_timestamp(key: &str, value: &str) -> Result<Self> {
        string_to_timestamp_nanos(value.trim())
            .map(|nanos| Self::Timestamp(nanos.div_euclid(1000)))
            .map_err(|e| {
                DataFusionError::Plan(format!(
                    "{key} must be a timestamp such as '2026-01-31T10:00:00Z' or \
                     '2026-01-31 10:00:00' (UTC), got '{value}': {e}"
                ))
            })
    }
}

impl fmt::Display for VersionBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version(v) => write!(f, "version {v}"),
            Self::Timestamp(micros) => match chrono::DateTime::from_timestamp_micros(*micros) {
                Some(t) => write!(f, "timestamp {}", t.to_rfc3339()),
                None => write!(f, "timestamp {micros}µs"),
            },
        }
    }
}

/// What a change feed does when a data file its commits name is gone (removed by
/// VACUUM, or by hand).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingFiles {
    /// The scan fails, naming the version and the file.
    #[default]
    Fail,
    /// The file's rows are left out; the scan's `missing_files` metric and its
    /// EXPLAIN line report each one.
    Skip,
}

impl MissingFiles {
    pub fn parse(value: &str) -> Result<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "fail" | "error" => Ok(Self::Fail),
            "skip" => Ok(Self::Skip),
            other => Err(DataFusionError::Plan(format!(
                "missing_files must be 'fail' or 'skip', got '{other}'"
            ))),
        }
    }
}

/// The DDL option keys of the change feed.
pub const CDF_OPTION_KEYS: [&str; 5] = [
    "starting_version",
    "ending_version",
    "starting_timestamp",
    "ending_timestamp",
    "missing_files",
];

/// The DDL option keys of a table at a point in its history.
pub const SNAPSHOT_OPTION_KEYS: [&str; 2] = ["version", "timestamp"];

/// The prefix of a storage option in DDL (`'storage.aws_region' 'eu-west-1'`).
pub const STORAGE_OPTION_PREFIX: &str = "storage.";

/// DDL `OPTIONS`, split into the provider's own (`keys`) and storage options.
/// DataFusion's SQL planner prefixes a key without a dot with `format.`; both spellings
/// are accepted. Any other key is an error listing the accepted ones.
pub fn split_ddl_options(
    options: &std::collections::HashMap<String, String>,
    keys: &[&str],
) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>)> {
    let mut own = BTreeMap::new();
    let mut storage = BTreeMap::new();
    for (key, value) in options {
        let lower = key.to_ascii_lowercase();
        let bare = lower.strip_prefix("format.").unwrap_or(&lower);
        if let Some(storage_key) = key.strip_prefix(STORAGE_OPTION_PREFIX) {
            storage.insert(storage_key.to_string(), value.clone());
        } else if keys.contains(&bare) {
            own.insert(bare.to_string(), value.clone());
        } else {
            return Err(DataFusionError::Plan(format!(
                "unknown option '{key}'; accepted: {}, and storage options as \
                 '{STORAGE_OPTION_PREFIX}<name>'",
                keys.join(", ")
            )));
        }
    }
    Ok((own, storage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_parse_or_explain() {
        assert_eq!(
            VersionBound::parse_version("v", " 7 ").unwrap(),
            VersionBound::Version(7)
        );
        assert!(
            VersionBound::parse_version("starting_version", "-1")
                .unwrap_err()
                .to_string()
                .contains("starting_version must be a table version")
        );
        assert_eq!(
            VersionBound::parse_timestamp("t", "1970-01-01T00:00:01Z").unwrap(),
            VersionBound::Timestamp(1_000_000)
        );
        assert_eq!(
            VersionBound::parse_timestamp("t", "1970-01-02").unwrap(),
            VersionBound::Timestamp(86_400_000_000)
        );
        assert!(VersionBound::parse_timestamp("t", "yesterday").is_err());
    }

    #[test]
    fn ddl_options_split_and_refuse_unknown_keys() {
        let options = [
            ("format.starting_version", "3"),
            ("ending_version", "7"),
            ("storage.aws_region", "eu-west-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (own, storage) = split_ddl_options(&options, &CDF_OPTION_KEYS).unwrap();
        assert_eq!(own["starting_version"], "3");
        assert_eq!(own["ending_version"], "7");
        assert_eq!(storage["aws_region"], "eu-west-1");

        let bad = [("format.start".to_string(), "3".to_string())].into();
        let error = split_ddl_options(&bad, &CDF_OPTION_KEYS)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown option 'format.start'"), "{error}");
        assert!(
            error.contains("starting_version, ending_version"),
            "{error}"
        );
    }
}
