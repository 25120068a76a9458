//! Politeness per host against a loopback portal that records every request: the concurrency cap
//! is never exceeded, the rate limit spaces requests out, and the User-Agent says who we are.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response};
use axum::Router;
use common::harness_with;
use parking_lot::Mutex;
use yuqing_collect::{CollectConfig, MemoryState};

const DETAILS: usize = 12;

/// What the server saw.
#[derive(Default)]
struct Log {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Arrival of each request (after robots.txt), with its User-Agent.
    arrivals: Mutex<Vec<(Instant, String)>>,
}

fn list_page() -> String {
    let links: String = (1..=DETAILS)
        .map(|n| format!("<li><a href=\"./art_{n}.html\">第{n}号通知</a></li>"))
        .collect();
    format!("<html><head><meta charset=\"utf-8\"></head><body><ul class=\"list\">{links}</ul></body></html>")
}

fn detail_page(n: usize) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><meta name=\"ArticleTitle\" content=\"第{n}号通知\">\
         <meta name=\"PubDate\" content=\"2026-11-22 09:{n:02}:00\"><meta name=\"ContentSource\" content=\"县政府办\">\
         </head><body><div class=\"article-content\"><p>关于做好第{n}项工作的通知，请各单位认真落实，按时报送材料。</p>\
         </div></body></html>"
    )
}

/// Serves robots.txt, the list and the details; each detail answer takes `delay`.
async fn start(log: Arc<Log>, delay: Duration) -> String {
    let app = Router::new().fallback(move |req: Request<Body>| {
        let log = log.clone();
        async move {
            let path = req.uri().path().to_string();
            if path == "/robots.txt" {
                return Response::new(Body::from("User-agent: *\nDisallow:\n"));
            }
            let ua = req
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            log.arrivals.lock().push((Instant::now(), ua));
            let now = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            log.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let body = if path == "/list/index.html" {
                list_page()
            } else if let Some(n) = path
                .strip_prefix("/list/art_")
                .and_then(|s| s.strip_suffix(".html"))
                .and_then(|s| s.parse::<usize>().ok())
            {
                tokio::time::sleep(delay).await;
                detail_page(n)
            } else {
                log.in_flight.fetch_sub(1, Ordering::SeqCst);
                return Response::builder()
                    .status(404)
                    .body(Body::from("not found"))
                    .unwrap();
            };
            log.in_flight.fetch_sub(1, Ordering::SeqCst);
            Response::builder()
                .header("content-type", "text/html; charset=utf-8")
                .body(Body::from(body))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

fn config(base: &str, rate: f64, concurrency: usize) -> CollectConfig {
    let text = format!(
        r#"
        [collect]
        per_host_rate = {rate}
        per_host_concurrency = {concurrency}
        timeout = "5s"
        retries = 0

        [[sources]]
        id = "portal"
        kind = "html"
        list_url = "{base}/list/index.html"
        link_selector = "ul.list a[href]"
        "#
    );
    toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[tokio::test]
async fn the_per_host_concurrency_cap_is_never_exceeded() {
    let log = Arc::new(Log::default());
    let base = start(log.clone(), Duration::from_millis(150)).await;
    let h = harness_with(config(&base, 1000.0, 3), Arc::new(MemoryState::new()));
    let r = h.collector.poll_once("portal").await.unwrap();
    assert_eq!(r.new_items, DETAILS as u64, "{r:?}");
    let max = log.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 3, "{max} requests in flight at once, cap 3");
    assert!(
        max >= 2,
        "details were fetched one by one ({max}): no concurrency"
    );
    // A descriptive User-Agent on every request.
    for (_, ua) in log.arrivals.lock().iter() {
        assert!(ua.contains("yuqing"), "User-Agent {ua:?}");
    }
}

#[tokio::test]
async fn the_per_host_rate_limit_spaces_requests_out() {
    let log = Arc::new(Log::default());
    let base = start(log.clone(), Duration::ZERO).await;
    // Four requests a second (a burst of up to four, then one every 250 ms).
    let h = harness_with(config(&base, 4.0, 8), Arc::new(MemoryState::new()));
    let r = h.collector.poll_once("portal").await.unwrap();
    assert_eq!(r.new_items, DETAILS as u64, "{r:?}");
    let times: Vec<Instant> = log.arrivals.lock().iter().map(|(t, _)| *t).collect();
    assert_eq!(times.len(), DETAILS + 1, "the list and every detail");
    // Unlimited, 13 loopback requests take milliseconds; limited, no window of one second may
    // hold more than the burst plus one second's worth (4 + 4), and the whole crawl takes at
    // least (13 − 4) / 4 s. A slow machine only makes both looser.
    for (i, t) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
            .count();
        assert!(within <= 8, "{within} requests within one second");
    }
    let span = times.last().unwrap().duration_since(times[0]);
    assert!(
        span >= Duration::from_millis(2000),
        "13 requests at 4/s took only {span:?}"
    );
}
