//! Shared helpers of the end-to-end tests: run the `yuqing` binary, write pipelines, make items.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use serde_json::json;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_yuqing"))
}

/// A running `yuqing` process, killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub addr: String,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `yuqing <args…> --listen 127.0.0.1:0 --addr-file …` and waits until it listens.
    pub fn start(args: &[&str], dir: &Path, name: &str) -> Daemon {
        let addr_file = dir.join(format!("{name}.addr"));
        let _ = std::fs::remove_file(&addr_file);
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new(bin())
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--addr-file"])
            .arg(&addr_file)
            .env("YUQING_LOG", "info")
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("spawning yuqing");
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut d = Daemon {
            child,
            addr: String::new(),
            log,
        };
        loop {
            if let Ok(a) = std::fs::read_to_string(&addr_file) {
                if !a.is_empty() {
                    d.addr = a;
                    return d;
                }
            }
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!("yuqing exited early ({status}):\n{}", d.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "yuqing did not listen within 120s:\n{}",
                d.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGTERM and wait; returns the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "yuqing did not stop within 60s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `f` returns Some, polling; panics with `what` after `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A blocking HTTP client for tests.
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Reads a Prometheus counter (summing series that match every label given).
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| {
            let rest = &l[name.len()..];
            (rest.starts_with('{') || rest.starts_with(' '))
                && labels
                    .iter()
                    .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Lines of a JSON Lines file.
pub fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display())))
        .collect()
}

const INCIDENT: &[&str] = &[
    "万载县工业园区一化工厂突发爆炸，现场浓烟滚滚，附近居民听到巨响，目前伤亡情况不明",
    "有网友称万载县化工厂爆炸已造成多人死亡，消息尚未得到官方证实，请大家不要传谣",
    "转发：万载县化工厂爆炸现场视频，消防车正在赶往现场，周边道路已经封闭",
    "万载化工厂爆炸后空气里有刺鼻气味，家里有孩子的很担心，希望政府尽快公布检测结果",
    "化工厂爆炸事故为什么一直没有通报？当地应急管理局和环保部门应该出来说明情况",
];
const WAGES: &[&str] = &[
    "宜春市袁州区某建筑工地拖欠农民工工资半年多，几十名工人讨薪无门，只能在工地门口拉横幅维权",
    "转发：工地老板跑路，农民工工资被拖欠，劳动监察部门什么时候能管一管",
];
const CALM: &[&str] = &[
    "请问万载县城南路的路灯什么时候能修好，晚上出行很不方便",
    "建议在县图书馆增加周末开放时间，方便上班族借阅图书",
    "今天宜春的天气不错，带孩子去明月山爬山，风景很美",
    "县里新开的菜市场干净整洁，买菜方便多了，点个赞",
    "请问办理居住证需要准备哪些材料，在哪个窗口办理",
];

/// A deterministic stream of `n` items starting at `start`, one every `step` seconds: an
/// explosion incident (posts, reposts, re-observations with growing counts) and a wage-arrears
/// complaint among routine posts. Sorted by `observed_at`.
pub fn items(n: usize, start: DateTime<FixedOffset>, step: i64) -> Vec<serde_json::Value> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = start + chrono::Duration::seconds(step * i as i64);
        let ts = t.to_rfc3339();
        let v = match i % 10 {
            0 | 3 | 6 => {
                let text = INCIDENT[(i / 10) % INCIDENT.len()];
                let root = if i < 10 {
                    None
                } else {
                    Some("blast-0".to_string())
                };
                let id = if i == 0 {
                    "blast-0".to_string()
                } else {
                    format!("blast-{i}")
                };
                json!({"id": id, "source": "test-weibo", "platform": if i % 20 == 6 { "news" } else { "weibo" },
                       "text": text, "author": format!("user{}", i % 13), "published_at": ts,
                       "root_id": root, "metrics": {"reposts": i * 3, "comments": i, "likes": i * 5},
                       "region": "宜春市"})
            }
            1 => {
                // A re-observation of the first post with growing counts.
                json!({"id": "blast-0", "source": "test-weibo", "platform": "weibo", "text": INCIDENT[0],
                       "published_at": start.to_rfc3339(), "observed_at": ts,
                       "metrics": {"reposts": 50 + i * 20, "comments": 10 + i * 4, "likes": 100 + i * 30}})
            }
            5 => json!({"id": format!("wage-{i}"), "source": "test-board", "platform": "board",
                        "title": "工地拖欠农民工工资", "text": WAGES[(i / 10) % WAGES.len()], "published_at": ts,
                        "region": "袁州区"}),
            _ => json!({"id": format!("calm-{i}"), "source": "test-forum", "platform": "forum",
                        "text": CALM[i % CALM.len()], "published_at": ts}),
        };
        out.push(v);
    }
    // Re-observations carry a published_at earlier than observed_at; order by observed_at.
    out.sort_by_key(|v| {
        let t = v
            .get("observed_at")
            .or(v.get("published_at"))
            .and_then(|t| t.as_str())
            .unwrap()
            .to_string();
        DateTime::parse_from_rfc3339(&t).unwrap()
    });
    out
}

/// Writes values as JSON Lines.
pub fn write_jsonl(path: &Path, values: &[serde_json::Value]) {
    let mut s = String::new();
    for v in values {
        s.push_str(&v.to_string());
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

/// A loopback HTTP/1.1 server answering fixed paths (everything else 404), recording the paths
/// requested. It serves until the test process ends.
pub struct Site {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Site {
    /// Serves `routes`: (path, content type, body).
    pub fn start(routes: Vec<(&'static str, &'static str, Vec<u8>)>) -> Site {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let routes = std::sync::Arc::new(routes);
        let log = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let routes = routes.clone();
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut first = String::new();
                    if reader.read_line(&mut first).is_err() {
                        return;
                    }
                    // Skip the headers.
                    loop {
                        let mut h = String::new();
                        match reader.read_line(&mut h) {
                            Ok(0) | Err(_) => break,
                            Ok(_) if h == "\r\n" || h == "\n" => break,
                            Ok(_) => {}
                        }
                    }
                    let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
                    log.lock().unwrap().push(path.clone());
                    let (status, ct, body) = match routes.iter().find(|r| r.0 == path) {
                        Some((_, ct, body)) => ("200 OK", *ct, body.clone()),
                        None => ("404 Not Found", "text/plain", b"not found".to_vec()),
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: {ct}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(head.as_bytes());
                    let _ = conn.write_all(&body);
                    let _ = conn.flush();
                });
            }
        });
        Site { base, requests }
    }

    /// The paths requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A Kafka + PostgreSQL pipeline for the stage tests: a tansu broker, a fresh database, a unique
/// topic and group prefix, and `pipeline.toml` written in the test's directory.
pub struct KafkaPipeline {
    pub broker: yuqing_testkit::Broker,
    pub db: yuqing_testkit::PgDatabase,
    pub prefix: String,
    config: String,
    data: String,
    partitions: i32,
}

impl KafkaPipeline {
    /// Starts the broker, creates the database and writes the pipeline named `name` with
    /// `partitions` per topic; `kafka` holds extra `[bus.kafka]` lines, `tables` extra tables.
    pub fn start(
        rt: &tokio::runtime::Runtime,
        dir: &Path,
        name: &str,
        partitions: i32,
        kafka: &str,
        tables: &str,
    ) -> KafkaPipeline {
        let broker = yuqing_testkit::Broker::start();
        let db = rt.block_on(yuqing_testkit::PgDatabase::create());
        let prefix = yuqing_testkit::unique(name);
        let path = dir.join("pipeline.toml");
        std::fs::write(
            &path,
            format!(
                "name = \"{name}\"\n[bus]\nkind = \"kafka\"\n[bus.kafka]\nbootstrap = \"{}\"\n\
                 topic_prefix = \"{prefix}.\"\ngroup_prefix = \"{prefix}-\"\npartitions = {partitions}\n\
                 session_timeout = \"6s\"\n{kafka}[store]\nurl = \"{}\"\n{tables}",
                broker.bootstrap, db.url
            ),
        )
        .unwrap();
        KafkaPipeline {
            broker,
            db,
            prefix,
            config: path.to_str().unwrap().to_string(),
            data: dir.join("data").to_str().unwrap().to_string(),
            partitions,
        }
    }

    /// `<stage> --config pipeline.toml --data-dir data`.
    pub fn args<'a>(&'a self, stage: &'a str) -> [&'a str; 5] {
        [stage, "--config", &self.config, "--data-dir", &self.data]
    }

    /// The same bus, for the test's own producers and consumers.
    pub fn bus_config(&self) -> yuqing_bus::BusConfig {
        let mut cfg = yuqing_bus::BusConfig {
            kind: yuqing_bus::BusKind::Kafka,
            ..yuqing_bus::BusConfig::default()
        };
        cfg.kafka.bootstrap = self.broker.bootstrap.clone();
        cfg.kafka.topic_prefix = format!("{}.", self.prefix);
        cfg.kafka.group_prefix = format!("{}-", self.prefix);
        cfg.kafka.partitions = self.partitions;
        cfg.kafka.session_timeout = Duration::from_secs(6);
        cfg
    }
}

/// How many partitions the last "Partitions assigned." line of a stage's log lists.
pub fn last_assignment(log: &str) -> Option<usize> {
    let line = log.lines().rfind(|l| l.contains("Partitions assigned."))?;
    let parts = line
        .split("partitions=")
        .nth(1)?
        .split_whitespace()
        .next()?;
    Some(
        parts
            .trim_matches('"')
            .split(',')
            .filter(|p| !p.is_empty())
            .count(),
    )
}

/// Items an analyze process has received (`yuqing_component_received_events_total`).
pub fn analyze_received(d: &Daemon) -> f64 {
    let text = http()
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    metric(
        &text,
        "yuqing_component_received_events_total",
        &[("stage", "analyze")],
    )
}

/// An item as the intake publishes it: on the items topic, keyed by its thread.
pub fn item_record(v: &serde_json::Value) -> (yuqing_bus::Topic, String, Vec<u8>) {
    let bytes = v.to_string().into_bytes();
    let item = yuqing_core::Item::from_json(&bytes).expect("a valid item");
    (
        yuqing_bus::Topic::Items,
        item.partition_key().to_string(),
        bytes,
    )
}
