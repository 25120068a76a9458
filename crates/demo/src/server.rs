//! The loopback site: axum routes for the portal, the forum, the Weibo-style API, the news site
//! and the message board. Every handler reads the injected clock and serves only what has been
//! published by then, with counts as of then.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, FixedOffset, Utc};
use prometheus::{register_int_counter_vec, IntCounterVec};
use serde::Deserialize;
use yuqing_core::SharedClock;

use crate::script::{Charset, FaultKind};
use crate::world::World;

mod board;
mod forum;
mod news;
mod portal;
mod weibo;

/// Requests served by the demo world, by endpoint and outcome.
pub static REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "yuqing_demo_requests_total",
        "Requests the demo world answered, by endpoint and outcome.",
        &["endpoint", "outcome"]
    )
    .expect("metric registers once")
});

/// Shared state of the handlers.
#[derive(Debug)]
pub(crate) struct AppState {
    pub world: Arc<World>,
    pub clock: SharedClock,
    pub requests: AtomicU64,
}

pub(crate) type St = State<Arc<AppState>>;

impl AppState {
    /// Seconds after the world's start, now.
    pub fn now(&self) -> i64 {
        self.world.offset(self.clock.now())
    }
}

/// Builds the router.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let weibo_routes = Router::new()
        .route("/api/container/getIndex", get(weibo::get_index))
        .route("/statuses/show", get(weibo::show))
        .route("/detail/{id}", get(weibo::detail))
        .route("/comments/hotflow", get(weibo::hotflow))
        .route("/api/comments/show", get(weibo::comments_show))
        .route("/api/statuses/repostTimeline", get(weibo::repost_timeline))
        .layer(middleware::from_fn_with_state(state.clone(), faults));
    Router::new()
        .route("/", get(index))
        .route("/robots.txt", get(robots))
        .route("/img/{file}", get(image))
        .route("/portal/", get(portal::home))
        .route("/portal/rss.xml", get(portal::rss_all))
        .route("/portal/internal/{*rest}", get(portal::internal))
        .route("/portal/{section}/", get(portal::section_index))
        .route("/portal/{section}/{file}", get(portal::section_file))
        .route("/portal/{section}/{month}/{file}", get(portal::detail))
        .route("/forum/", get(forum::home))
        .route("/forum/{file}", get(forum::file))
        .route("/news/", get(news::list))
        .route("/news/api/articles", get(news::api_articles))
        .route("/news/api/comments", get(news::api_comments))
        .route("/news/{date}/{file}", get(news::article))
        .route("/board/", get(board::list))
        .route("/board/detail/{file}", get(board::detail))
        .merge(weibo_routes)
        .fallback(not_found)
        .with_state(state)
}

pub(crate) fn count(endpoint: &str, outcome: &str) {
    REQUESTS.with_label_values(&[endpoint, outcome]).inc();
}

async fn not_found() -> Response {
    count("other", "not_found");
    (StatusCode::NOT_FOUND, "404 Not Found").into_response()
}

pub(crate) fn not_found_page(endpoint: &str) -> Response {
    count(endpoint, "not_found");
    let body = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>404</title></head>\
                <body><h1>404 页面不存在</h1></body></html>";
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The base URL the client used (from `Host`), for absolute links.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// `Sat, 22 Nov 2026 02:02:33 GMT`.
pub(crate) fn http_date(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// An HTML page in `charset`, with ETag / Last-Modified and 304 handling.
pub(crate) fn html_page(
    endpoint: &str,
    headers: &HeaderMap,
    html: String,
    charset: Charset,
    modified: DateTime<FixedOffset>,
) -> Response {
    let (bytes, content_type): (Vec<u8>, &str) = match charset {
        Charset::Utf8 => (html.into_bytes(), "text/html; charset=utf-8"),
        Charset::GbkMeta => (encode_gbk(&html), "text/html"),
        Charset::GbkHeader => (encode_gbk(&html), "text/html; charset=GBK"),
    };
    conditional(endpoint, headers, bytes, content_type, modified)
}

/// Encodes as GBK; characters outside GBK become numeric character references.
pub(crate) fn encode_gbk(s: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::GBK.encode(s);
    bytes.into_owned()
}

/// A body with validators; answers 304 when the client's copy is current.
pub(crate) fn conditional(
    endpoint: &str,
    headers: &HeaderMap,
    bytes: Vec<u8>,
    content_type: &str,
    modified: DateTime<FixedOffset>,
) -> Response {
    let etag = format!("\"{:016x}\"", fnv(&bytes));
    let last_modified = http_date(modified);
    let not_modified = match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(inm) => inm.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| modified.timestamp() <= since.timestamp()),
    };
    let mut resp = if not_modified {
        count(endpoint, "not_modified");
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        count(endpoint, "ok");
        let mut r = Response::new(Body::from(bytes));
        if let Ok(v) = HeaderValue::from_str(content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=0"));
    resp
}

/// A JSON body (Weibo API and news API).
pub(crate) fn json(endpoint: &str, status: StatusCode, v: serde_json::Value) -> Response {
    count(endpoint, if status.is_success() { "ok" } else { "error" });
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// The common page frame with the "simulated content" notice.
pub(crate) fn frame(title: &str, head: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n{head}\n<title>{}</title>\n</head>\n<body>\n{body}\n\
         <div class=\"demo-notice\">本站为 yuqing 演示环境，内容均为程序生成的模拟数据，所述事件、单位和人物均为虚构。</div>\n\
         </body>\n</html>\n",
        crate::text::escape(title)
    )
}

async fn index(State(st): St, headers: HeaderMap) -> Response {
    let w = &st.world;
    let sections: String = w
        .script
        .world
        .site
        .sections
        .iter()
        .map(|s| {
            format!(
                "<li><a href=\"/portal/{}/\">{}</a></li>",
                s.key,
                crate::text::escape(&s.name)
            )
        })
        .collect();
    let body = format!(
        "<h1>yuqing 演示世界</h1><p>模拟时间：{}</p><ul>{sections}\
         <li><a href=\"/portal/rss.xml\">门户 RSS</a></li><li><a href=\"/forum/\">论坛</a></li>\
         <li><a href=\"/news/\">新闻</a></li><li><a href=\"/board/\">网络问政</a></li>\
         <li><a href=\"/api/container/getIndex?containerid=106003type%3D25%26t%3D3%26disable_hot%3D1%26filter_type%3Drealtimehot\">微博热搜</a></li></ul>",
        w.at(st.now()).format("%Y-%m-%d %H:%M:%S")
    );
    let html = frame("yuqing 演示世界", "<meta charset=\"utf-8\">", &body);
    count("index", "ok");
    let _ = headers;
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

async fn robots() -> Response {
    count("robots", "ok");
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "User-agent: *\nDisallow: /portal/internal/\nDisallow: /board/admin/\nAllow: /\n\nUser-agent: BadBot\nDisallow: /\n",
    )
        .into_response()
}

/// A 1×1 GIF for every picture URL, so nothing points off the loopback site.
async fn image(Path(file): Path<String>) -> Response {
    const GIF: &[u8] = &[
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff,
        0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
    ];
    let _ = file;
    count("img", "ok");
    ([(header::CONTENT_TYPE, "image/gif")], GIF).into_response()
}

/// Deterministic per-request draw in [0, 1).
fn unit(seed: u64, n: u64) -> f64 {
    let h = fnv(&[seed.to_le_bytes(), n.to_le_bytes()].concat());
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The Weibo API's error injection: scripted windows, then a random fraction.
async fn faults(State(st): St, req: Request, next: Next) -> Response {
    let f = &st.world.script.world.faults;
    let now = st.now();
    let n = st.requests.fetch_add(1, Ordering::Relaxed);
    let mut kind = f
        .windows
        .iter()
        .find(|w| now >= w.start.as_secs() as i64 && now < w.end.as_secs() as i64)
        .map(|w| w.kind);
    if kind.is_none() && f.rate > 0.0 && !f.kinds.is_empty() {
        let seed = st.world.script.world.seed;
        if unit(seed, n) < f.rate {
            let i = (unit(seed ^ 0x5bd1_e995, n) * f.kinds.len() as f64) as usize;
            kind = f.kinds.get(i.min(f.kinds.len() - 1)).copied();
        }
    }
    match kind {
        None => next.run(req).await,
        Some(k) => fault_response(k),
    }
}

/// The response of an injected fault.
pub(crate) fn fault_response(kind: FaultKind) -> Response {
    count("weibo_fault", kind.as_str());
    match kind {
        FaultKind::Captcha => json(
            "weibo_fault",
            StatusCode::OK,
            serde_json::json!({
                "ok": -100,
                "errno": "-100",
                "msg": "",
                "url": "https://m.weibo.cn/captcha?scene=limit&referer=/",
                "extra": ""
            }),
        ),
        FaultKind::Http432 => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::from_u16(432).unwrap_or(StatusCode::FORBIDDEN);
            r
        }
        FaultKind::Ok0 => json(
            "weibo_fault",
            StatusCode::OK,
            serde_json::json!({"ok": 0, "msg": "请求过于频繁，歇歇吧"}),
        ),
        FaultKind::Html => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>微博-出错了</title></head>\
             <body><p>登录后查看更多内容</p><a href=\"https://passport.weibo.com/sso/signin\">登录</a></body></html>",
        )
            .into_response(),
    }
}

/// `?page=N` (1-based; absent or bad means 1).
#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    pub page: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Option<usize> {
        match &self.page {
            None => Some(1),
            Some(p) => p.trim().parse::<usize>().ok().filter(|&p| p >= 1),
        }
    }
}

/// Page `page` (1-based) of `items` with `size` per page.
pub(crate) fn paginate<T: Copy>(items: &[T], page: usize, size: usize) -> &[T] {
    let start = (page - 1).saturating_mul(size);
    if start >= items.len() {
        return &[];
    }
    &items[start..(start + size).min(items.len())]
}

/// Number of pages (at least 1).
pub(crate) fn pages(n: usize, size: usize) -> usize {
    n.div_ceil(size.max(1)).max(1)
}

/// The detail path of a portal doc.
pub(crate) fn portal_detail_path(w: &World, d: &crate::world::Doc) -> String {
    portal::detail_path(w, d)
}

/// The path of a news article.
pub(crate) fn news_article_path(w: &World, d: &crate::world::Doc) -> String {
    news::article_path(w, d)
}

/// The path of page 1 of a forum thread.
pub(crate) fn forum_thread_path(tid: u64) -> String {
    forum::thread_path(tid)
}
