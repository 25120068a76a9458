//! End-to-end throughput and latency of the whole pipeline, embedded and over Kafka.
//!
//! Starts the daemon in-process (`yuqing_daemon::run::start`) — embedded: in-process bus and
//! SQLite; kafka: a real Kafka-protocol broker (tansu, started here) and PostgreSQL — pushes N
//! items through `POST /ingest` in batches of 500, as fast as the daemon accepts them or paced at
//! ITEMS_PER_S, and measures:
//!
//! - items/s: accepted items divided by the time until every one of them is judged and stored;
//! - latency from ingestion to alert: for each incident, the wall time from the moment the batch
//!   holding its first post was accepted to the moment its first alert was stored (p50, p99).
//!
//! ```sh
//! cargo run --release -p yuqing-benches --bin e2e_bench -- embedded 50000
//! cargo run --release -p yuqing-benches --bin e2e_bench -- kafka 50000
//! cargo run --release -p yuqing-benches --bin e2e_bench -- embedded 20000 2000   # paced
//! ```
//!
//! `E2E_DUMP=FILE` also writes the generated items to FILE as JSON Lines, for `yuqing replay`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use yuqing_daemon::run::{RunOptions, StageSet};
use yuqing_daemon::PipelineConfig;

const TOKEN: &str = "bench-token-0123456789abcdef";

const INCIDENTS: &[&str] = &[
    "{place}一化工厂突发爆炸，现场浓烟滚滚，有网友称已有人员伤亡，消防车正在赶往现场",
    "{place}某建筑工地拖欠农民工工资半年，几十名工人聚集在工地门口拉横幅讨薪维权",
    "{place}一所小学食堂被曝使用过期变质食材，多名学生出现呕吐腹泻，家长要求彻查",
    "{place}强拆民房引发冲突，村民称补偿款迟迟不到位，有人受伤送医",
    "{place}暴雨引发山洪，多处道路被冲毁，部分村庄断水断电，群众被困等待救援",
];
/// Who, where and what else: combined per incident so that incidents differ in wording and are
/// not near-duplicates of one another.
const CLAUSES: &[&str] = &[
    "现场浓烟滚滚",
    "有网友称已有人员伤亡",
    "消防车正在赶往现场",
    "几十名工人聚集讨薪",
    "多名学生出现呕吐腹泻",
    "家长要求彻查",
    "村民称补偿款迟迟不到位",
    "有人受伤送医",
    "多处道路被冲毁",
    "部分村庄断水断电",
    "群众被困等待救援",
    "空气中有刺鼻气味",
    "附近居民连夜转移",
    "门口拉起了横幅",
    "视频在朋友圈疯传",
    "至今没有官方通报",
    "有人说是谣言",
    "医院已经收治多人",
    "警方已经到场",
    "周边学校临时停课",
];
const WHO: &[&str] = &[
    "据现场目击者说",
    "有业主在群里说",
    "一位出租车司机讲",
    "附近商户反映",
    "网友发帖称",
    "当地居民告诉记者",
    "有家长在家长群里说",
    "一名工人的家属说",
];
const DETAIL: &[&str] = &[
    "事发地点在{company}附近，周边交通一度中断",
    "{company}的负责人目前联系不上",
    "有人拍到{company}门口停了好几辆救护车",
    "{company}此前就被多次投诉过",
    "听说{company}昨晚就出现了异常情况",
    "视频里能看到{company}的厂牌",
];
const COMPANY: &[&str] = &[
    "宏达", "鑫源", "华兴", "金山", "恒泰", "瑞丰", "永盛", "天成", "利民", "新兴", "富康", "安泰",
];
const ROUTINE: &[&str] = &[
    "请问{place}城南路的路灯什么时候能修好，晚上出行很不方便",
    "建议{place}图书馆增加周末开放时间，方便上班族借阅",
    "今天{place}天气不错，带孩子去公园散步，风景很美",
    "{place}新开的菜市场干净整洁，买菜方便多了，点个赞",
    "请问在{place}办理居住证需要准备哪些材料，在哪个窗口办理",
    "{place}的公交线路能不能增加一班夜班车，下晚班的人回家太难了",
];
const PLACES: &[&str] = &[
    "万载县",
    "袁州区",
    "樟树市",
    "丰城市",
    "靖安县",
    "奉新县",
    "高安市",
    "上高县",
    "宜丰县",
    "铜鼓县",
];

struct Plan {
    items: Vec<serde_json::Value>,
    /// Index of each incident's first post in `items`, by event id.
    firsts: HashMap<String, usize>,
}

/// Counties with names ending in 县 from the shipped gazetteer (`pipelines/analyze/gazetteer.tsv`),
/// so that each incident can happen in a county of its own: two explosions in one county within
/// the hour are one incident to the event tracker, as they would be to a duty officer.
fn counties() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../pipelines/analyze/gazetteer.tsv"
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (_code, name, level) = (f.next()?, f.next()?, f.next()?);
            (level == "county" && name.ends_with('县') && name.chars().count() == 3)
                .then(|| name.to_string())
        })
        // Names shared by counties of two provinces would be ambiguous places: keep unique ones.
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

/// N items: one incident in every 50 items (a first post in a county of its own, then reposts
/// pointing at it), the rest routine posts; event time starts now and advances a second per item.
fn plan(n: usize) -> Plan {
    let start: DateTime<FixedOffset> = Utc::now().fixed_offset();
    let counties = counties();
    let mut items = Vec::with_capacity(n);
    let mut firsts = HashMap::new();
    // Open incidents: (id, a quote of the first post for reposts).
    let mut open: Vec<(String, String)> = Vec::new();
    for i in 0..n {
        let t = (start + chrono::Duration::seconds(i as i64)).to_rfc3339();
        let place = PLACES[i % PLACES.len()];
        let v = if i % 50 == 0 {
            let id = format!("inc-{i}");
            let k = i / 50;
            // Spread over the country: a stride through the list, so neighbours differ.
            let place = counties
                .get((k * 97) % counties.len().max(1))
                .map_or(place, String::as_str);
            let company = format!(
                "{}{}公司",
                COMPANY[k % COMPANY.len()],
                ["化工", "建设", "食品", "置业", "物流"][k % 5]
            );
            let head: String = INCIDENTS[k % INCIDENTS.len()]
                .replace("{place}", place)
                .chars()
                .take(14)
                .collect();
            let text = format!(
                "{}，{}，{}，{}，{}。{}",
                WHO[k % WHO.len()],
                head,
                CLAUSES[(k * 7) % CLAUSES.len()],
                CLAUSES[(k * 11 + 3) % CLAUSES.len()],
                CLAUSES[(k * 13 + 5) % CLAUSES.len()],
                DETAIL[(k / 3) % DETAIL.len()].replace("{company}", &company)
            );
            firsts.insert(yuqing_core::id::event_id("bench-weibo", &id), i);
            open.push((id.clone(), text.chars().take(40).collect()));
            if open.len() > 20 {
                open.remove(0);
            }
            json!({"id": id, "source": "bench-weibo", "platform": "weibo", "text": text,
                   "published_at": t, "metrics": {"reposts": 10, "comments": 5}})
        } else if i % 5 == 0 && !open.is_empty() {
            let (root, quote) = &open[i % open.len()];
            json!({"id": format!("rp-{i}"), "source": "bench-weibo", "platform": "weibo",
                   "text": format!("转发微博 //{quote}"),
                   "published_at": t, "root_id": root, "parent_id": root})
        } else {
            json!({"id": format!("r-{i}"), "source": "bench-forum", "platform": "forum",
                   "text": ROUTINE[i % ROUTINE.len()].replace("{place}", place), "published_at": t})
        };
        items.push(v);
    }
    Plan { items, firsts }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn run(mode: &str, n: usize, rate: Option<f64>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut _broker = None;
    let mut _db = None;
    let mut toml = format!("name = \"bench\"\n[api]\ningest_tokens = [\"{TOKEN}\"]\n");
    if mode == "kafka" {
        let broker = yuqing_testkit::Broker::start();
        let db = yuqing_testkit::PgDatabase::create().await;
        let prefix = yuqing_testkit::unique("bench");
        toml.push_str(&format!(
            "[bus]\nkind = \"kafka\"\n[bus.kafka]\nbootstrap = \"{}\"\ntopic_prefix = \"{prefix}.\"\n\
             group_prefix = \"{prefix}-\"\npartitions = 4\nsession_timeout = \"6s\"\n[store]\nurl = \"{}\"\n",
            broker.bootstrap, db.url
        ));
        _broker = Some(broker);
        _db = Some(db);
    } else {
        toml.push_str("[bus]\ncapacity = 4096\n");
    }
    let cfg =
        PipelineConfig::from_toml(&toml, "bench.toml", dir.path().into(), std::iter::empty())?;
    let opts = RunOptions {
        data_dir: dir.path().join("data"),
        listen: "127.0.0.1:0".parse()?,
        store: None,
        graceful_limit: Duration::from_secs(30),
        stages: StageSet::ALL,
        addr_file: None,
    };
    let shutdown = CancellationToken::new();
    let running = yuqing_daemon::run::start(cfg, opts, shutdown.clone()).await?;
    let url = format!("http://{}/ingest", running.addr);
    let client = reqwest::Client::new();
    let plan = plan(n);
    if let Some(path) = std::env::var_os("E2E_DUMP") {
        // The generated input, for `yuqing replay` (which must give the same alerts).
        let lines: String = plan.items.iter().map(|v| format!("{v}\n")).collect();
        std::fs::write(&path, lines)?;
    }
    let store_url = match &_db {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", dir.path().join("data/yuqing.db").display()),
    };
    let store = yuqing_store::Store::open(&store_url).await?;

    let t0 = Instant::now();
    let mut accepted_at = vec![Duration::ZERO; n];
    for (c, chunk) in plan.items.chunks(500).enumerate() {
        if let Some(rate) = rate {
            // Paced: batch c is due at c·500/rate seconds.
            let due = Duration::from_secs_f64((c * 500) as f64 / rate);
            if let Some(wait) = due.checked_sub(t0.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        let body: String = chunk.iter().map(|v| format!("{v}\n")).collect();
        let r = client
            .post(&url)
            .bearer_auth(TOKEN)
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "ingest: {}", r.text().await?);
        let now = t0.elapsed();
        for i in 0..chunk.len() {
            accepted_at[c * 500 + i] = now;
        }
    }
    let ingest_done = t0.elapsed();
    // Wait until everything is judged.
    loop {
        let judged = store.count_judged().await? as usize;
        if judged >= n {
            break;
        }
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(1800),
            "not all judged after 30 min ({judged}/{n})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_judged = t0.elapsed();
    // Give the alert stage a moment to finish the tail.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let wall_start = Utc::now() - chrono::Duration::from_std(t0.elapsed())?;
    let alerts = store.alerts_after(0, i64::MAX).await?;
    let mut latencies = Vec::new();
    let mut first_alert: HashMap<String, DateTime<Utc>> = HashMap::new();
    for s in &alerts {
        first_alert
            .entry(s.alert.event_id.clone())
            .or_insert(s.created);
    }
    for (event, idx) in &plan.firsts {
        if let Some(created) = first_alert.get(event) {
            let alert_at = (*created - wall_start).to_std().unwrap_or_default();
            latencies.push(alert_at.saturating_sub(accepted_at[*idx]).as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "mode={mode} items={n} offered_per_s={} ingest_s={:.2} judged_s={:.2} items_per_s={:.0} incidents={} alerted={} \
         latency_ms_p50={:.0} latency_ms_p99={:.0} alerts_total={}",
        rate.map_or("max".to_string(), |r| format!("{r:.0}")),
        ingest_done.as_secs_f64(),
        all_judged.as_secs_f64(),
        n as f64 / all_judged.as_secs_f64(),
        plan.firsts.len(),
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        alerts.len(),
    );
    shutdown.cancel();
    let _ = running.done.await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("embedded");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let rate: Option<f64> = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .filter(|r| *r > 0.0);
    anyhow::ensure!(
        mode == "embedded" || mode == "kafka",
        "usage: e2e_bench embedded|kafka [N] [ITEMS_PER_S]"
    );
    run(mode, n, rate).await
}
