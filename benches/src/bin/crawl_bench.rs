//! Crawl benchmark: yuqing's HTML collector against Scrapy on the same loopback site.
//!
//! The site (a child process, so that its CPU is not counted against either crawler) is a
//! government-CMS column of `--pages` detail pages, 20 per list page, with list paging
//! (`index.html`, `index_1.html`, …), realistic headers (charset, ETag, Last-Modified) and detail
//! pages carrying the gov-CMS meta tags and 1–3 KB of generated Chinese text.
//!
//! ```text
//! bash benches/scrapy/setup.sh                      # once: Scrapy into benches/out/scrapy-venv
//! cargo run --release -p yuqing-benches --bin crawl_bench -- --pages 10000
//! ```
//!
//! Reports pages/s (fetched, parsed and emitted), CPU per page (getrusage) and peak memory (VmHWM)
//! for both crawlers, and writes them to `benches/out/crawl_bench.json`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{Path as AxPath, State};
use axum::http::{header, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use yuqing_collect::{CollectConfig, Collector, ItemSink, MemoryState, SinkError};
use yuqing_core::{Item, SystemClock};

const PER_LIST: usize = 20;

/// Phrases of the generated text (written for this benchmark).
const PHRASES: &[&str] = &[
    "为深入贯彻落实上级决策部署",
    "切实加强安全生产工作",
    "各乡镇人民政府要高度重视",
    "县直有关单位要密切配合",
    "进一步压实属地管理责任",
    "做好群众来信来访的答复工作",
    "确保各项措施落到实处",
    "强化隐患排查和整治",
    "加强值班值守和信息报送",
    "严格执行二十四小时值班制度",
    "及时回应群众关切",
    "依法依规妥善处置",
    "全面提升公共服务水平",
    "持续优化营商环境",
    "扎实推进民生实事项目",
    "统筹做好防汛抗旱工作",
    "加强冬季森林防火宣传",
    "做好困难群众基本生活保障",
    "规范政府信息公开工作",
    "完善突发事件应急预案",
    "组织开展应急演练",
    "落实食品安全主体责任",
    "推动城乡环境综合整治",
    "保障农民工工资按时足额支付",
    "加快老旧小区改造进度",
    "提升道路交通安全水平",
    "做好学校周边环境治理",
    "严厉打击违法违规行为",
    "畅通投诉举报渠道",
    "建立健全长效工作机制",
    "定期通报工作进展情况",
    "广泛听取社会各界意见",
];

fn text_for(n: usize) -> String {
    // 1–3 KB of UTF-8 (about 350–1000 characters), deterministic per page.
    let target = 1024 + (n * 7919) % 2048;
    let mut out = String::new();
    let mut i = (n as u64).wrapping_mul(2654435761);
    let mut para = String::new();
    while out.len() + para.len() < target {
        i = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        para.push_str(PHRASES[(i >> 33) as usize % PHRASES.len()]);
        para.push(if (i >> 20).is_multiple_of(3) {
            '。'
        } else {
            '，'
        });
        if para.len() > 240 {
            out.push_str("<p>");
            out.push_str(&para);
            out.push_str("。</p>\n");
            para.clear();
        }
    }
    if !para.is_empty() {
        out.push_str(&format!("<p>{para}</p>\n"));
    }
    out
}

fn detail_page(n: usize) -> String {
    let day = 1 + n % 28;
    let title = format!("关于第{n}号事项办理情况的通报");
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="SiteName" content="示例县人民政府"><meta name="SiteDomain" content="www.example.gov.cn">
<meta name="SiteIDCode" content="3600000099"><meta name="ColumnName" content="通知公告">
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="2026-11-{day:02} 09:{m:02}:00">
<meta name="ContentSource" content="县政府办公室"><title>{title}_示例县人民政府</title>
<script>var _hmt = _hmt || [];</script></head><body>
<div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/list/index.html">通知公告</a></li></ul></div>
<div class="article"><h1 class="article-title">{title}</h1>
<div class="article-attr">发布时间：2026-11-{day:02}　来源：县政府办公室</div>
<div class="article-content">
{text}</div></div>
<div class="footer"><p>主办单位：示例县人民政府办公室　网站标识码：3600000099</p></div></body></html>
"#,
        m = n % 60,
        text = text_for(n)
    )
}

fn list_page(index: usize, lists: usize, pages: usize) -> String {
    let mut rows = String::new();
    for n in index * PER_LIST..((index + 1) * PER_LIST).min(pages) {
        rows.push_str(&format!(
            "<li><a href=\"/art/{n}.html\" target=\"_blank\">关于第{n}号事项办理情况的通报</a><span>2026-11-{:02}</span></li>\n",
            1 + n % 28
        ));
    }
    let next = if index + 1 < lists {
        format!(
            "<a class=\"next\" href=\"/list/index_{}.html\">下一页</a>",
            index + 1
        )
    } else {
        String::new()
    };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>通知公告_示例县人民政府</title></head><body>\n<ul class=\"list\">\n{rows}</ul>\n<div class=\"page\">{next}</div></body></html>\n"
    )
}

struct Site {
    details: Vec<bytes::Bytes>,
    lists: Vec<bytes::Bytes>,
}

fn respond(body: bytes::Bytes, tag: usize) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::ETAG, format!("\"{tag:x}\""))
        .header(header::LAST_MODIFIED, "Sun, 22 Nov 2026 01:00:00 GMT")
        .header(header::CACHE_CONTROL, "max-age=60")
        .header(header::SERVER, "nginx")
        .body(Body::from(body))
        .expect("valid response")
}

fn not_found() -> Response<Body> {
    Response::builder()
        .status(404)
        .body(Body::from("not found"))
        .expect("valid response")
}

async fn serve(pages: usize) {
    let lists = pages.div_ceil(PER_LIST);
    let site = Arc::new(Site {
        details: (0..pages)
            .map(|n| bytes::Bytes::from(detail_page(n)))
            .collect(),
        lists: (0..lists)
            .map(|i| bytes::Bytes::from(list_page(i, lists, pages)))
            .collect(),
    });
    let app = Router::new()
        .route(
            "/robots.txt",
            get(|| async { "User-agent: *\nDisallow: /admin/\n" }),
        )
        .route(
            "/list/{name}",
            get(
                |State(s): State<Arc<Site>>, AxPath(name): AxPath<String>| async move {
                    let index = if name == "index.html" {
                        Some(0)
                    } else {
                        name.strip_prefix("index_")
                            .and_then(|r| r.strip_suffix(".html"))
                            .and_then(|n| n.parse::<usize>().ok())
                    };
                    match index.and_then(|i| s.lists.get(i).cloned().map(|b| (i, b))) {
                        Some((i, b)) => respond(b, 1_000_000 + i),
                        None => not_found(),
                    }
                },
            ),
        )
        .route(
            "/art/{name}",
            get(
                |State(s): State<Arc<Site>>, AxPath(name): AxPath<String>| async move {
                    let n = name
                        .strip_suffix(".html")
                        .and_then(|n| n.parse::<usize>().ok());
                    match n.and_then(|n| s.details.get(n).cloned().map(|b| (n, b))) {
                        Some((n, b)) => respond(b, n),
                        None => not_found(),
                    }
                },
            ),
        )
        .with_state(site);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    println!("LISTENING {port}");
    std::io::stdout().flush().ok();
    // Stop when the parent closes our stdin.
    tokio::spawn(async {
        let _ = tokio::task::spawn_blocking(|| {
            let mut s = String::new();
            while std::io::stdin()
                .read_line(&mut s)
                .map(|n| n > 0)
                .unwrap_or(false)
            {}
        })
        .await;
        std::process::exit(0);
    });
    axum::serve(listener, app).await.expect("serve");
}

/// Writes items as JSON Lines, like a file sink would.
struct JsonlSink {
    out: parking_lot::Mutex<std::io::BufWriter<std::fs::File>>,
    count: AtomicU64,
}

#[async_trait]
impl ItemSink for JsonlSink {
    async fn emit(&self, items: Vec<Item>) -> Result<(), SinkError> {
        let mut out = self.out.lock();
        for i in &items {
            out.write_all(&i.to_json())
                .map_err(|e| SinkError(e.to_string()))?;
            out.write_all(b"\n").map_err(|e| SinkError(e.to_string()))?;
        }
        self.count.fetch_add(items.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

fn cpu_seconds() -> f64 {
    use nix::sys::resource::{getrusage, UsageWho};
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => {
            let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
            t(u.user_time()) + t(u.system_time())
        }
        Err(_) => f64::NAN,
    }
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[derive(Debug, serde::Serialize)]
struct Result_ {
    crawler: String,
    pages_fetched: u64,
    items: u64,
    wall_s: f64,
    pages_per_s: f64,
    cpu_s: f64,
    cpu_ms_per_page: f64,
    peak_rss_mb: f64,
}

async fn run_rust(port: u16, pages: usize, concurrency: usize, out_dir: &Path) -> Result_ {
    let lists = pages.div_ceil(PER_LIST);
    let cfg_text = format!(
        r#"
        [collect]
        max_concurrency = {concurrency}
        per_host_concurrency = {concurrency}
        per_host_rate = 1000000.0
        reobserve = []
        [[sources]]
        id = "bench-portal"
        kind = "html"
        list_url = "http://127.0.0.1:{port}/list/index.html"
        page_url = "http://127.0.0.1:{port}/list/index_{{page}}.html"
        link_selector = "ul.list a[href]"
        max_pages = {max_pages}
        concurrency = {concurrency}
        "#,
        max_pages = lists + 1
    );
    let cfg: CollectConfig = toml::from_str(&cfg_text).expect("bench config parses");
    let file = std::fs::File::create(out_dir.join("rust_items.jsonl")).expect("create output");
    let sink = Arc::new(JsonlSink {
        out: parking_lot::Mutex::new(std::io::BufWriter::new(file)),
        count: AtomicU64::new(0),
    });
    let collector = Collector::new(
        cfg,
        Arc::new(MemoryState::new()),
        sink.clone(),
        Arc::new(SystemClock),
    );
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let report = collector
        .poll_once("bench-portal")
        .await
        .expect("bench crawl succeeds");
    sink.out.lock().flush().expect("flush");
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let fetched = report.pages + 1; // + robots.txt
    Result_ {
        crawler: "yuqing-collect".into(),
        pages_fetched: fetched,
        items: sink.count.load(Ordering::Relaxed),
        wall_s: wall,
        pages_per_s: fetched as f64 / wall,
        cpu_s: cpu,
        cpu_ms_per_page: cpu * 1000.0 / fetched as f64,
        peak_rss_mb: vm_hwm_kb() as f64 / 1024.0,
    }
}

fn run_scrapy(python: &Path, port: u16, concurrency: usize, out_dir: &Path) -> Option<Result_> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scrapy/gov_spider.py");
    let out = Command::new(python)
        .arg(&script)
        .arg("--start")
        .arg(format!("http://127.0.0.1:{port}/list/index.html"))
        .arg("--concurrency")
        .arg(concurrency.to_string())
        .arg("--out")
        .arg(out_dir.join("scrapy_items.jsonl"))
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("scrapy run failed: {}", out.status);
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with('{'))?;
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let fetched = v["pages_fetched"].as_u64()?;
    let wall = v["wall_s"].as_f64()?;
    let cpu = v["cpu_s"].as_f64()?;
    Some(Result_ {
        crawler: format!("scrapy {}", v["version"].as_str().unwrap_or("?")),
        pages_fetched: fetched,
        items: v["items"].as_u64().unwrap_or(0),
        wall_s: wall,
        pages_per_s: fetched as f64 / wall,
        cpu_s: cpu,
        cpu_ms_per_page: cpu * 1000.0 / fetched as f64,
        peak_rss_mb: v["peak_rss_mb"].as_f64().unwrap_or(0.0),
    })
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pages: usize = arg(&args, "--pages")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let concurrency: usize = arg(&args, "--concurrency")
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    if args.get(1).map(String::as_str) == Some("serve") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(serve(pages));
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out_dir = arg(&args, "--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("out"));
    std::fs::create_dir_all(&out_dir).expect("create out dir");
    let python = arg(&args, "--python")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("out/scrapy-venv/bin/python"));

    // The site runs in its own process.
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args(["serve", "--pages", &pages.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the site");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("child stdout"))
        .read_line(&mut line)
        .expect("site port");
    let port: u16 = line
        .trim()
        .strip_prefix("LISTENING ")
        .and_then(|p| p.parse().ok())
        .expect("site prints its port");
    eprintln!(
        "site: {pages} detail pages + {} list pages on 127.0.0.1:{port}",
        pages.div_ceil(PER_LIST)
    );

    let scrapy_first = args.iter().any(|a| a == "--scrapy-first");
    let mut results = Vec::new();
    let rust = || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run_rust(port, pages, concurrency, &out_dir))
    };
    let scrapy = || {
        if python.exists() {
            run_scrapy(&python, port, concurrency, &out_dir)
        } else {
            eprintln!(
                "scrapy: skipped ({} missing; run benches/scrapy/setup.sh)",
                python.display()
            );
            None
        }
    };
    if scrapy_first {
        let s = scrapy();
        results.push(rust());
        results.extend(s);
    } else {
        results.push(rust());
        results.extend(scrapy());
    }
    drop(child.stdin.take());
    let _ = child.wait_timeout_or_kill(Duration::from_secs(5));

    eprintln!(
        "{:<22} {:>8} {:>8} {:>8} {:>10} {:>10} {:>12} {:>10}",
        "crawler", "pages", "items", "wall s", "pages/s", "cpu s", "cpu ms/page", "peak MB"
    );
    for r in &results {
        eprintln!(
            "{:<22} {:>8} {:>8} {:>8.2} {:>10.0} {:>10.2} {:>12.3} {:>10.1}",
            r.crawler,
            r.pages_fetched,
            r.items,
            r.wall_s,
            r.pages_per_s,
            r.cpu_s,
            r.cpu_ms_per_page,
            r.peak_rss_mb
        );
    }
    if results.len() == 2 {
        eprintln!(
            "ratio pages/s yuqing/scrapy: {:.1}x",
            results[0].pages_per_s / results[1].pages_per_s
        );
    }
    let json = serde_json::to_string_pretty(&results).expect("serialize");
    std::fs::write(out_dir.join("crawl_bench.json"), &json).expect("write results");
    println!("{json}");
}

trait WaitOrKill {
    fn wait_timeout_or_kill(&mut self, d: Duration) -> std::io::Result<()>;
}

impl WaitOrKill for std::process::Child {
    fn wait_timeout_or_kill(&mut self, d: Duration) -> std::io::Result<()> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill()?;
        self.wait().map(|_| ())
    }
}
