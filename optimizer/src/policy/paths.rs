//! External access: which locations `CREATE EXTERNAL TABLE`, `COPY TO`, URL tables and
//! listing tables may read or write. Locations are compared as normalized URLs
//! (`ListingTableUrl`: a local path becomes `file:///absolute/path`), with `.` and `..`
//! segments resolved lexically, so `'/data/../etc/passwd'` is not under `/data/`.

use datafusion::common::Result;
use datafusion::datasource::listing::ListingTableUrl;

use super::config::SqlPolicy;
use super::denial::{PolicyCode, deny};

/// `location` as a normalized URL string.
pub fn normalize(location: &str) -> Result<String> {
    let url = ListingTableUrl::parse(location)?;
    let url = url.as_str();
    let (scheme_and_host, path) = match url.find("://") {
        Some(at) => {
            let rest_start = at + 3;
            let path_start = url[rest_start..]
                .find('/')
                .map_or(url.len(), |p| rest_start + p);
            (&url[..path_start], &url[path_start..])
        }
        None => ("", url),
    };
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    // `split` on a leading '/' yields an empty first segment: keep the root.
    let mut path = segments.join("/");
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    Ok(format!("{scheme_and_host}{path}"))
}

/// Refuses `location` unless it is under one of the policy's `allow_paths` (an empty
/// list allows any location). `what` says how the location is used, for the message.
pub fn check_location(location: &str, what: &str, policy: &SqlPolicy) -> Result<()> {
    let allowed = policy.allowed_paths();
    if allowed.is_empty() {
        return Ok(());
    }
    let url = normalize(location)?;
    let under = |prefix: &String| {
        normalize(prefix)
            .is_ok_and(|p| url == p || url.starts_with(&format!("{}/", p.trim_end_matches('/'))))
    };
    if allowed.iter().any(under) {
        Ok(())
    } else {
        Err(deny(
            PolicyCode::Path,
            format!("{what} {url}"),
            "cpg.policy.allow_paths",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(paths: &str) -> SqlPolicy {
        let mut policy = SqlPolicy::allow_all();
        policy.set("allow_paths", paths).unwrap();
        policy
    }

    #[test]
    fn dot_segments_do_not_escape_an_allowed_prefix() {
        assert_eq!(
            normalize("/data/./x/../y.csv").unwrap(),
            "file:///data/y.csv"
        );
        let policy = policy("/data/");
        check_location("/data/a.csv", "read", &policy).unwrap();
        check_location("/data/sub/b.parquet", "read", &policy).unwrap();
        let error = check_location("/data/../etc/passwd", "read", &policy)
            .unwrap_err()
            .strip_backtrace();
        assert!(
            error
                .contains("CPG-POLICY-6: read file:///etc/passwd denied by cpg.policy.allow_paths"),
            "{error}"
        );
        // A sibling sharing the prefix's characters is not under it.
        assert!(check_location("/database/x.csv", "read", &policy).is_err());
    }

    #[test]
    fn urls_compare_with_their_scheme_and_host() {
        let policy = policy("s3://bucket/cpg/");
        check_location("s3://bucket/cpg/t.parquet", "read", &policy).unwrap();
        assert!(check_location("s3://other/cpg/t.parquet", "read", &policy).is_err());
        assert!(check_location("/bucket/cpg/t.parquet", "read", &policy).is_err());
        check_location("/anything", "read", &SqlPolicy::allow_all()).unwrap();
    }
}
