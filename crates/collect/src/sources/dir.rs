//! A watched directory of dropped `*.jsonl` / `*.json` files. Each settled file is parsed with
//! [`crate::parse_ingest`]; its good items are emitted, then the file moves to `done/`, or to
//! `failed/` beside an `.errors.txt` naming every rejected line. A file whose items could not be
//! handed downstream stays where it is for the next poll: no line is ever lost.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::DirSource;
use crate::error::CollectError;
use crate::ingest::parse_ingest;
use crate::runtime::{NewItem, Poll};

pub(crate) struct DirPlan {
    path: PathBuf,
    settle: std::time::Duration,
}

impl DirPlan {
    pub(crate) fn build(d: &DirSource) -> DirPlan {
        DirPlan {
            path: d.path.clone(),
            settle: d.settle,
        }
    }
}

/// Largest file read (bigger ones go to `failed/`).
const MAX_FILE: u64 = 512 * 1024 * 1024;

fn io(path: &Path, e: std::io::Error) -> CollectError {
    CollectError::Io {
        path: path.display().to_string(),
        source: e,
    }
}

pub(crate) async fn poll(p: &mut Poll<'_>, plan: &DirPlan) -> Result<(), CollectError> {
    let mut files = Vec::new();
    let mut rd = tokio::fs::read_dir(&plan.path)
        .await
        .map_err(|e| io(&plan.path, e))?;
    while let Some(e) = rd.next_entry().await.map_err(|e| io(&plan.path, e))? {
        let path = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.')
            || !(name.ends_with(".jsonl") || name.ends_with(".json") || name.ends_with(".ndjson"))
        {
            continue;
        }
        let Ok(meta) = e.metadata().await else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or_default();
        if age < plan.settle {
            continue;
        }
        files.push((path, name, meta.len()));
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    for (path, name, len) in files {
        p.report.pages += 1;
        if len > MAX_FILE {
            p.skip("too_large", &path.display());
            move_to(
                &plan.path,
                &path,
                &name,
                "failed",
                Some(format!("file larger than {MAX_FILE} bytes\n")),
            )
            .await?;
            continue;
        }
        let body = tokio::fs::read(&path).await.map_err(|e| io(&path, e))?;
        let ct = if name.ends_with(".json") {
            "application/json"
        } else {
            "application/x-ndjson"
        };
        let outcome = parse_ingest(&body, Some(ct), p.id());
        let (items, errors) = match outcome {
            Ok(o) => (o.items, o.rejected),
            Err(e) => (Vec::new(), vec![(0, e.to_string())]),
        };
        // Emit first; only then move the file. A sink failure leaves the file for the next poll.
        p.emit_new(items.into_iter().map(NewItem::new).collect())
            .await?;
        if errors.is_empty() {
            move_to(&plan.path, &path, &name, "done", None).await?;
        } else {
            for (line, e) in &errors {
                p.skip("rejected_record", &format!("{name}:{line}: {e}"));
            }
            let unit = if ct == "application/json" {
                "element"
            } else {
                "line"
            };
            let report: String = errors
                .iter()
                .map(|(l, e)| format!("{unit} {l}: {e}\n"))
                .collect();
            move_to(&plan.path, &path, &name, "failed", Some(report)).await?;
        }
    }
    Ok(())
}

async fn move_to(
    dir: &Path,
    path: &Path,
    name: &str,
    sub: &str,
    errors: Option<String>,
) -> Result<(), CollectError> {
    let target_dir = dir.join(sub);
    tokio::fs::create_dir_all(&target_dir)
        .await
        .map_err(|e| io(&target_dir, e))?;
    let mut target = target_dir.join(name);
    if tokio::fs::try_exists(&target).await.unwrap_or(false) {
        let stamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        target = target_dir.join(format!("{stamp}-{name}"));
    }
    if let Some(report) = errors {
        let err_path = target.with_file_name(format!(
            "{}.errors.txt",
            target
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        ));
        tokio::fs::write(&err_path, report)
            .await
            .map_err(|e| io(&err_path, e))?;
    }
    tokio::fs::rename(path, &target)
        .await
        .map_err(|e| io(path, e))
}
