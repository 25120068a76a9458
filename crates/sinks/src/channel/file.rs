//! `file`: the alerts as JSON Lines, appended, fsynced once per batch.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use yuqing_core::Alert;

use super::{wrong_payload, Payload};
use crate::config::FileConfig;
use crate::error::SinkError;

/// The file channel.
#[derive(Debug)]
pub struct File {
    path: PathBuf,
    pub(crate) batch: usize,
}

impl File {
    pub(crate) fn new(c: &FileConfig) -> File {
        File {
            path: c.path.clone(),
            batch: c.batch,
        }
    }

    pub(crate) fn render(&self, alerts: &[Arc<Alert>]) -> Payload {
        let mut body = Vec::with_capacity(alerts.len() * 512);
        for a in alerts {
            body.extend_from_slice(&a.to_json());
            body.push(b'\n');
        }
        Payload::Bytes {
            body,
            key: String::new(),
        }
    }

    pub(crate) async fn send(&self, payload: &Payload) -> Result<(), SinkError> {
        let Payload::Bytes { body, .. } = payload else {
            return Err(wrong_payload("file"));
        };
        let path = self.path.clone();
        let body = body.clone();
        // The file is opened per batch, so rotating it (rename + new file) needs no signal.
        let result = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            f.write_all(&body)?;
            f.sync_data()
        })
        .await;
        match result {
            Ok(r) => r.map_err(|source| SinkError::Io {
                path: self.path.clone(),
                source,
            }),
            Err(join) => Err(SinkError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(join.to_string()),
            }),
        }
    }
}
