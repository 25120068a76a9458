//! A loopback site serving fixtures the way real sites do, a collecting sink, and helpers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use yuqing_collect::{CollectConfig, Collector, ItemSink, MemoryState, SinkError};
use yuqing_core::{Item, ManualClock};

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Option<Duration>,
    /// Send part of the body, then break the connection.
    pub truncate: bool,
}

impl Canned {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Canned {
        Canned {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: None,
            truncate: false,
        }
    }
    pub fn html(body: impl Into<Vec<u8>>) -> Canned {
        Canned::ok("text/html; charset=utf-8", body)
    }
    pub fn json(body: impl Into<Vec<u8>>) -> Canned {
        Canned::ok("application/json; charset=utf-8", body)
    }
    pub fn status(status: u16) -> Canned {
        Canned {
            status,
            headers: vec![],
            body: vec![],
            delay: None,
            truncate: false,
        }
    }
    pub fn redirect(to: &str) -> Canned {
        Canned {
            status: 302,
            headers: vec![("location".into(), to.into())],
            body: vec![],
            delay: None,
            truncate: false,
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Canned {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn delayed(mut self, d: Duration) -> Canned {
        self.delay = Some(d);
        self
    }
    pub fn truncated(mut self) -> Canned {
        self.truncate = true;
        self
    }
}

/// The loopback site.
#[derive(Clone)]
pub struct Site {
    pub addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Canned>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    pub last_headers: Arc<Mutex<HashMap<String, HeaderMap>>>,
}

impl Site {
    pub async fn start() -> Site {
        let routes: Arc<Mutex<HashMap<String, Canned>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let last_headers: Arc<Mutex<HashMap<String, HeaderMap>>> = Arc::default();
        let (r, h, lh) = (routes.clone(), hits.clone(), last_headers.clone());
        let app = Router::new().fallback(move |req: Request<Body>| {
            let (r, h, lh) = (r.clone(), h.clone(), lh.clone());
            async move { serve(req, r, h, lh).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Site {
            addr,
            routes,
            hits,
            last_headers,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn set(&self, path_and_query: &str, c: Canned) {
        self.routes.lock().insert(path_and_query.to_string(), c);
    }

    pub fn hits(&self, path_and_query: &str) -> usize {
        self.hits.lock().get(path_and_query).copied().unwrap_or(0)
    }

    pub fn headers(&self, path_and_query: &str) -> HeaderMap {
        self.last_headers
            .lock()
            .get(path_and_query)
            .cloned()
            .unwrap_or_default()
    }
}

async fn serve(
    req: Request<Body>,
    routes: Arc<Mutex<HashMap<String, Canned>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    last_headers: Arc<Mutex<HashMap<String, HeaderMap>>>,
) -> Response<Body> {
    let key = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    *hits.lock().entry(key.clone()).or_default() += 1;
    last_headers
        .lock()
        .insert(key.clone(), req.headers().clone());
    let canned = routes.lock().get(&key).cloned();
    let Some(c) = canned else {
        return Response::builder()
            .status(404)
            .body(Body::from("not found"))
            .unwrap();
    };
    if let Some(d) = c.delay {
        tokio::time::sleep(d).await;
    }
    // Conditional GET the way web servers do it.
    let etag = c
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("etag"))
        .map(|(_, v)| v.clone());
    if let (Some(tag), Some(inm)) = (etag, req.headers().get("if-none-match")) {
        if inm.to_str().ok() == Some(tag.as_str()) {
            return Response::builder()
                .status(304)
                .header("etag", tag)
                .body(Body::empty())
                .unwrap();
        }
    }
    let mut b = Response::builder().status(StatusCode::from_u16(c.status).unwrap());
    for (k, v) in &c.headers {
        b = b.header(k, v);
    }
    if c.truncate {
        let half = c.body[..c.body.len() / 2].to_vec();
        let stream = futures::stream::iter(vec![
            Ok::<_, std::io::Error>(bytes::Bytes::from(half)),
            Err(std::io::Error::other("connection reset")),
        ]);
        return b
            .header("content-length", c.body.len().to_string())
            .body(Body::from_stream(stream))
            .unwrap();
    }
    b.body(Body::from(c.body)).unwrap()
}

/// A sink that keeps what it gets, and can be told to fail.
#[derive(Default)]
pub struct VecSink {
    pub items: Mutex<Vec<Item>>,
    pub fail: AtomicBool,
}

#[async_trait]
impl ItemSink for VecSink {
    async fn emit(&self, items: Vec<Item>) -> Result<(), SinkError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(SinkError("downstream unavailable".into()));
        }
        self.items.lock().extend(items);
        Ok(())
    }
}

impl VecSink {
    pub fn take(&self) -> Vec<Item> {
        std::mem::take(&mut *self.items.lock())
    }
    pub fn set_fail(&self, on: bool) {
        self.fail.store(on, Ordering::SeqCst);
    }
}

/// 2026-11-22 10:30 in China Standard Time.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T02:30:00Z")
        .unwrap()
        .to_utc()
}

pub fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/collect")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn fixture_str(rel: &str) -> String {
    String::from_utf8(fixture(rel)).unwrap()
}

/// The `[collect]` table used by tests: fast and polite to loopback.
pub const COLLECT: &str = r#"
[collect]
per_host_rate = 1000.0
per_host_concurrency = 8
timeout = "1500ms"
connect_timeout = "1s"
retries = 1
retry_backoff = "10ms"
max_body_bytes = 1048576
"#;

pub fn config(sources: &str) -> CollectConfig {
    let text = format!("{COLLECT}\n{sources}");
    let cfg: CollectConfig = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut p = yuqing_core::Problems::new();
    cfg.validate("", &mut p);
    assert!(p.is_empty(), "{p}");
    cfg
}

pub struct Harness {
    pub collector: Collector,
    pub sink: Arc<VecSink>,
    pub state: Arc<MemoryState>,
    pub clock: Arc<ManualClock>,
}

pub fn harness(sources: &str) -> Harness {
    harness_with(config(sources), Arc::new(MemoryState::new()))
}

pub fn harness_with(cfg: CollectConfig, state: Arc<MemoryState>) -> Harness {
    let sink = Arc::new(VecSink::default());
    let clock = Arc::new(ManualClock::new(t0()));
    let collector = Collector::new(cfg, state.clone(), sink.clone(), clock.clone());
    Harness {
        collector,
        sink,
        state,
        clock,
    }
}

/// Serves an allow-all robots.txt.
pub fn allow_robots(site: &Site) {
    site.set(
        "/robots.txt",
        Canned::ok("text/plain", "User-agent: *\nDisallow:\n"),
    );
}
