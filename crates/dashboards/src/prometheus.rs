//! A real Prometheus for tests: the `prometheus` and `promtool` binaries of the Debian package
//! (installed by `.ci/install-tools`), started on a loopback port with a configuration and a
//! storage directory in a temporary folder, queried over its HTTP API, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Error;

/// Where a tool is: `$YUQING_<NAME>` (for example `YUQING_PROMTOOL`), else the first match on
/// the `PATH`.
pub fn binary(name: &str) -> Option<PathBuf> {
    let var = format!("YUQING_{}", name.to_ascii_uppercase());
    if let Some(p) = std::env::var_os(&var) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Runs `promtool` with `args` in `dir`; returns its output whatever the exit status.
pub fn promtool(args: &[&str], dir: &Path) -> Result<Output, Error> {
    let bin = binary("promtool").ok_or_else(|| {
        Error::Process("promtool not found: run .ci/install-tools (apt package prometheus)".into())
    })?;
    Command::new(&bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Process(format!("running {}: {e}", bin.display())))
}

/// What Prometheus answered to an instant query.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The expression parsed and was evaluated.
    Data {
        /// `vector`, `matrix`, `scalar` or `string`.
        result_type: String,
        /// Series (or 1 for a scalar or string).
        series: usize,
        /// The first series, for the test's listing.
        first: Option<String>,
    },
    /// Prometheus refused the expression (bad_data, execution error …).
    Refused {
        /// HTTP status.
        status: u16,
        /// Prometheus's error type.
        error_type: String,
        /// Prometheus's message.
        error: String,
    },
}

impl Answer {
    /// Series returned (0 when refused).
    pub fn series(&self) -> usize {
        match self {
            Answer::Data { series, .. } => *series,
            Answer::Refused { .. } => 0,
        }
    }

    /// Whether the expression was accepted.
    pub fn ok(&self) -> bool {
        matches!(self, Answer::Data { .. })
    }
}

/// A running Prometheus.
#[derive(Debug)]
pub struct Prometheus {
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    child: Option<Child>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Prometheus {
    /// Writes `config` (prometheus.yml text) to a temporary folder and starts Prometheus on it;
    /// returns once `/-/ready` answers (at most 30 s).
    pub async fn start(config: &str) -> Result<Prometheus, Error> {
        let bin = binary("prometheus").ok_or_else(|| {
            Error::Process(
                "prometheus not found: run .ci/install-tools (apt package prometheus)".into(),
            )
        })?;
        let dir = tempfile::tempdir().map_err(|e| Error::Process(format!("tempdir: {e}")))?;
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, config).map_err(|source| Error::Io {
            path: cfg.clone(),
            source,
        })?;
        let port = crate::free_port()?;
        let log = std::fs::File::create(dir.path().join("prometheus.log")).map_err(|source| {
            Error::Io {
                path: dir.path().join("prometheus.log"),
                source,
            }
        })?;
        let child = Command::new(&bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| Error::Process(format!("starting {}: {e}", bin.display())))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .no_proxy()
            .build()
            .map_err(|source| Error::Http {
                url: String::new(),
                source,
            })?;
        let mut p = Prometheus {
            url: format!("http://127.0.0.1:{port}"),
            child: Some(child),
            dir,
            http,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(c) = p.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    return Err(Error::Process(format!(
                        "prometheus exited ({status}) at start:\n{}",
                        p.log()
                    )));
                }
            }
            let ready = p
                .http
                .get(format!("{}/-/ready", p.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(p);
            }
            if Instant::now() > deadline {
                return Err(Error::Process(format!(
                    "prometheus not ready within 30s:\n{}",
                    p.log()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// What Prometheus logged (warnings and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// GET `path` (with query parameters) and return the JSON body and the HTTP status.
    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<(u16, Value), Error> {
        let url = format!("{}{path}", self.url);
        let resp = self
            .http
            .get(&url)
            .query(params)
            .send()
            .await
            .map_err(|source| Error::Http {
                url: url.clone(),
                source,
            })?;
        let status = resp.status().as_u16();
        let body = resp
            .json::<Value>()
            .await
            .map_err(|source| Error::Http { url, source })?;
        Ok((status, body))
    }

    /// Evaluates `expr` as an instant query now.
    pub async fn query(&self, expr: &str) -> Result<Answer, Error> {
        let (status, body) = self.get("/api/v1/query", &[("query", expr)]).await?;
        Ok(answer(status, &body))
    }

    /// `label_values(label)` / `label_values(metric, label)` as Grafana's Prometheus data source
    /// resolves them: the label's values over the series matching `metric`.
    pub async fn label_values(
        &self,
        metric: Option<&str>,
        label: &str,
    ) -> Result<Vec<String>, Error> {
        let path = format!("/api/v1/label/{label}/values");
        let params: Vec<(&str, &str)> = metric.map(|m| vec![("match[]", m)]).unwrap_or_default();
        let (status, body) = self.get(&path, &params).await?;
        if status != 200 || body["status"] != "success" {
            return Err(Error::Process(format!(
                "label values of {label} ({metric:?}): HTTP {status} {body}"
            )));
        }
        Ok(body["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Reads an answer of `/api/v1/query`.
pub fn answer(status: u16, body: &Value) -> Answer {
    if status == 200 && body["status"] == "success" {
        let result_type = body["data"]["resultType"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let result = &body["data"]["result"];
        let (series, first) = match result_type.as_str() {
            "vector" | "matrix" => {
                let a = result.as_array().cloned().unwrap_or_default();
                (a.len(), a.first().map(|s| s.to_string()))
            }
            _ => (1, Some(result.to_string())),
        };
        Answer::Data {
            result_type,
            series,
            first,
        }
    } else {
        Answer::Refused {
            status,
            error_type: body["errorType"].as_str().unwrap_or("").to_string(),
            error: body["error"].as_str().unwrap_or("").to_string(),
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_answers() {
        let ok = answer(
            200,
            &json!({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"2"]}]}}),
        );
        assert_eq!(ok.series(), 1);
        assert!(ok.ok());
        let empty = answer(
            200,
            &json!({"status":"success","data":{"resultType":"vector","result":[]}}),
        );
        assert!(empty.ok());
        assert_eq!(empty.series(), 0);
        let scalar = answer(
            200,
            &json!({"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}),
        );
        assert_eq!(scalar.series(), 1);
        let bad = answer(
            400,
            &json!({"status":"error","errorType":"bad_data","error":"parse error"}),
        );
        assert!(!bad.ok());
        assert_eq!(
            bad,
            Answer::Refused {
                status: 400,
                error_type: "bad_data".into(),
                error: "parse error".into()
            }
        );
    }

    #[test]
    fn finds_tools_from_the_environment_first() {
        // A name no system has: only the PATH lookup is exercised, and it finds nothing.
        assert_eq!(binary("yuqing-no-such-tool-0"), None);
    }
}
