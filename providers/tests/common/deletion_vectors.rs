//! Deletion-vector commits written by hand (deltalake 1.x writes no deletion vectors):
//! what a Delta writer's deletion-vector DELETE puts in the log.

use deltalake::TableProperty;

use crate::common::Table;

/// An inline deletion vector (Delta's `RoaringBitmapArray`, z85) deleting `rows`.
pub fn inline_dv(rows: &[u64]) -> serde_json::Value {
    let bitmap: roaring::RoaringTreemap = rows.iter().copied().collect();
    let mut bytes = 1681511377u32.to_le_bytes().to_vec();
    bitmap.serialize_into(&mut bytes).unwrap();
    serde_json::json!({
        "storageType": "i",
        "pathOrInlineDv": z85::encode(&bytes),
        "sizeInBytes": bytes.len(),
        "cardinality": rows.len(),
    })
}

/// A table with the change data feed and deletion vectors enabled.
pub async fn table_with_deletion_vectors() -> Table {
    Table::create_with(
        vec![
            TableProperty::EnableChangeDataFeed,
            TableProperty::EnableDeletionVectors,
        ],
        &[],
    )
    .await
}

/// The `add` actions of commit `version`, as JSON.
pub fn added_files(table: &Table, version: u64) -> Vec<serde_json::Value> {
    let path = std::path::Path::new(&table.path()).join(format!("_delta_log/{version:020}.json"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|action| action.get("add").cloned())
        .collect()
}

/// Commits the next version by hand: `remove` the file `add` describes (with the
/// deletion vector `old`, if any) and, when `new` is given, re-`add` it with the
/// deletion vector `new` (what a deletion-vector DELETE writes).
pub async fn commit_deletion_vector(
    table: &Table,
    add: &serde_json::Value,
    old: Option<serde_json::Value>,
    new: Option<serde_json::Value>,
) {
    let version = table.version().await + 1;
    let now = chrono::Utc::now().timestamp_millis();
    let mut remove = serde_json::json!({
        "path": add["path"], "deletionTimestamp": now, "dataChange": true,
        "extendedFileMetadata": true, "partitionValues": add["partitionValues"], "size": add["size"],
    });
    if let Some(old) = old {
        remove["deletionVector"] = old;
    }
    let mut lines = vec![
        serde_json::json!({"commitInfo": {"timestamp": now, "operation": "DELETE"}}),
        serde_json::json!({ "remove": remove }),
    ];
    if let Some(new) = new {
        let mut readded = add.clone();
        readded["deletionVector"] = new;
        readded["dataChange"] = serde_json::json!(true);
        lines.push(serde_json::json!({ "add": readded }));
    }
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let path = std::path::Path::new(&table.path()).join(format!("_delta_log/{version:020}.json"));
    std::fs::write(path, text.join("\n") + "\n").unwrap();
}
