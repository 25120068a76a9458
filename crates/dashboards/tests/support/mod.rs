//! The live check shared by `tests/live.rs` (in-process bus) and `tests/live_kafka.rs` (a
//! real Kafka-protocol broker): see those files. Each runs in its own test process, since the
//! daemon's metrics live in the process-wide registry.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};
use sqlx::{Column, Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;
use yuqing_daemon::config::DEMO_PIPELINE;
use yuqing_daemon::run::{self, RunOptions, StageSet};
use yuqing_daemon::PipelineConfig;
use yuqing_dashboards::grafana::{self, Context, Dashboard, Language, Selection, TimeRange};
use yuqing_dashboards::prometheus::{Answer, Prometheus};
use yuqing_dashboards::{deploy, files, rules};
use yuqing_testkit::PgDatabase;

/// Which bus the daemon runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    /// In-process channels (the embedded default).
    Memory,
    /// A real Kafka-protocol broker (tansu, or `YUQING_KAFKA_BOOTSTRAP`).
    Kafka,
}

const TOKEN: &str = "dashboards-live-test-duty-officer-token";

/// Metrics whose series appear only on events a minute of the embedded demo may not produce:
/// a query reading only these may come back empty.
const MAY_BE_EMPTY: &[(&str, &str)] = &[
    (KAFKA_LAG, "on the in-process bus there is no Kafka"),
    (
        "yuqing_pipeline_latency_seconds",
        "registered, but no stage observes it yet",
    ),
    (
        "yuqing_analyze_reloads_total",
        "only after a rules file changes",
    ),
    (
        "yuqing_alert_delivery_retries_total",
        "the demo's sinks (stdout, file) do not fail",
    ),
    (
        "yuqing_component_errors_total",
        "only when a stage meets an error",
    ),
    (
        "yuqing_collect_errors_total",
        "only when a poll fails (the demo's Weibo blocks now and then)",
    ),
    (
        "yuqing_collect_skipped_total",
        "only when a page or record is skipped (duplicates, failed threads)",
    ),
    (
        "yuqing_component_discarded_events_total",
        "only when a stage drops a record on purpose",
    ),
    (
        "yuqing_report_",
        "the demo pipeline schedules no reports ([reports])",
    ),
    (
        "yuqing_cases_deadline_missed_total",
        "only once a first-release deadline (1 h simulated) passed unanswered",
    ),
];

const KAFKA_LAG: &str = "yuqing_kafka_consumer_lag_messages";

/// SQL panels that may return no rows after a minute of demo.
const SQL_MAY_BE_EMPTY: &[(&str, &str)] = &[(
    "错过的时限",
    "deadlines lie in simulated time, mostly still ahead of the wall clock",
)];

pub fn need_tools() {
    for tool in ["prometheus", "promtool"] {
        assert!(
            yuqing_dashboards::prometheus::binary(tool).is_some(),
            "{tool} not found: run .ci/install-tools (apt package prometheus), or set YUQING_{}",
            tool.to_ascii_uppercase()
        );
    }
}

fn dashboards() -> Vec<Dashboard> {
    files(&deploy("grafana/dashboards"), &["json"])
        .unwrap()
        .iter()
        .map(|p| Dashboard::load(p).unwrap())
        .collect()
}

pub async fn start_daemon(
    pg_url: &str,
    kafka: Option<&str>,
    data_dir: PathBuf,
    token: CancellationToken,
) -> run::Running {
    let mut text = format!(
        "{DEMO_PIPELINE}\n\n[[api.users]]\nname = \"值班员测试\"\ntoken = \"{TOKEN}\"\nrole = \"duty_officer\"\n"
    );
    if let Some(bootstrap) = kafka {
        // Topics and groups of their own, so a shared cluster (YUQING_KAFKA_BOOTSTRAP) is safe.
        let prefix = yuqing_testkit::unique("dash");
        text.push_str(&format!(
            "\n[bus]\nkind = \"kafka\"\n\n[bus.kafka]\nbootstrap = \"{bootstrap}\"\n\
             topic_prefix = \"{prefix}.\"\ngroup_prefix = \"{prefix}-\"\npartitions = 2\n\
             replication = 1\nsession_timeout = \"6s\"\n"
        ));
    }
    let cfg = PipelineConfig::from_toml(
        &text,
        "<bundled demo + a duty officer>",
        PathBuf::from("."),
        std::iter::empty(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        data_dir,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        store: Some(pg_url.to_string()),
        graceful_limit: Duration::from_secs(10),
        stages: StageSet::ALL,
        addr_file: None,
    };
    run::start(cfg, opts, token)
        .await
        .unwrap_or_else(|e| panic!("starting the daemon: {e:#}"))
}

pub fn prometheus_config(target: SocketAddr) -> String {
    let rules = deploy("prometheus/rules");
    format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}/*.yml\n\
         scrape_configs:\n  - job_name: yuqing\n    scrape_interval: 1s\n    scrape_timeout: 1s\n    \
         static_configs:\n      - targets: [\"{target}\"]\n",
        rules.display()
    )
}

/// The duty officer's client for the case API.
pub struct Duty {
    http: reqwest::Client,
    base: String,
}

impl Duty {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// Posts an action; a version conflict (an alert updated the case meanwhile) is retried,
    /// as any client of the API does.
    async fn act(&self, case: &str, action: &str, body: Value) {
        for attempt in 0..5 {
            let r = self
                .http
                .post(format!("{}/api/cases/{case}/{action}", self.base))
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let answer: Value = r.json().await.unwrap_or(Value::Null);
            if status == 409 && answer["error"]["code"] == "conflict" && attempt < 4 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            assert_eq!(status, 200, "{action} {case}: {answer}");
            return;
        }
    }
}

/// Works the first cases the demo opened: one to the end (办结), one to a department, one
/// accepted only. Returns how many cases it touched.
pub async fn work_cases(duty: &Duty) -> usize {
    let list = duty.get("/api/cases").await;
    let cases: Vec<String> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "pending")
        .filter_map(|c| c["case_id"].as_str().map(str::to_string))
        .take(3)
        .collect();
    for (i, id) in cases.iter().enumerate() {
        duty.act(id, "accept", json!({})).await;
        if i == 2 {
            continue;
        }
        let dept = ["应急管理局", "生态环境局"][i];
        duty.act(id, "assign", json!({ "department": dept })).await;
        if i == 1 {
            continue;
        }
        duty.act(
            id,
            "feedback",
            json!({ "facts": "经核实，现场已处置完毕，无人员伤亡。" }),
        )
        .await;
        duty.act(
            id,
            "respond",
            json!({ "channel": "website", "link": "https://www.example.gov.cn/xwdt/1.html" }),
        )
        .await;
        duty.act(id, "close", json!({})).await;
    }
    cases.len()
}

/// A PromQL expression to evaluate, and where it comes from.
struct Expr {
    origin: String,
    expr: String,
    /// May come back empty: an alerting rule (empty is its normal state), or a panel query
    /// restricted to one value of a variable.
    optional: bool,
}

fn may_be_empty(expr: &str, bus: Bus) -> bool {
    let metrics = yuqing_dashboards::metric_names(expr);
    !metrics.is_empty()
        && metrics.iter().all(|m| {
            MAY_BE_EMPTY
                .iter()
                .filter(|(n, _)| bus == Bus::Memory || *n != KAFKA_LAG)
                .any(|(n, _)| m.starts_with(n))
        })
}

pub async fn promql_checks(prom: &Prometheus, bus: Bus) {
    let range = TimeRange {
        from: Utc::now() - chrono::Duration::hours(6),
        to: Utc::now(),
    };
    let mut exprs = Vec::new();
    let mut variable_values = 0;
    for d in dashboards() {
        let vars = d.variables().unwrap();
        let mut all = Context::new(range, "15s", "30s");
        let mut one = Context::new(range, "15s", "30s");
        for v in vars {
            let is_prom = v.datasource.as_deref() == Some("yuqing-prometheus");
            if !is_prom {
                continue;
            }
            let q = v.query.clone().unwrap_or_default();
            let inner = q
                .strip_prefix("label_values(")
                .and_then(|s| s.strip_suffix(')'))
                .unwrap_or_else(|| panic!("{}: ${}: unsupported query {q}", d.title(), v.name));
            let (metric, label) = match inner.rsplit_once(',') {
                Some((m, l)) => (Some(m.trim()), l.trim()),
                None => (None, inner.trim()),
            };
            let values = prom.label_values(metric, label).await.unwrap();
            assert!(
                !values.is_empty(),
                "{}: ${} ({q}) has no values",
                d.title(),
                v.name
            );
            variable_values += values.len();
            println!("{}: ${} = {} values", d.title(), v.name, values.len());
            all.bind(v.clone(), Selection::All, values.clone());
            one.bind(v, Selection::Values(vec![values[0].clone()]), values);
        }
        for q in d
            .queries()
            .unwrap()
            .into_iter()
            .filter(|q| q.language == Language::PromQL)
        {
            for (ctx, which) in [(&all, "All"), (&one, "one value")] {
                let expr = grafana::expand(&q.text, Language::PromQL, ctx)
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", d.title(), q.panel));
                exprs.push(Expr {
                    origin: format!("{} / {} / {} [{which}]", d.title(), q.panel, q.ref_id),
                    expr,
                    optional: which != "All",
                });
            }
        }
    }
    assert!(variable_values > 0);
    let mut rule_count = 0;
    for f in files(&deploy("prometheus/rules"), &["yml"]).unwrap() {
        for r in rules::load(&f).unwrap() {
            rule_count += 1;
            exprs.push(Expr {
                origin: format!(
                    "rule {} {}",
                    if r.alert { "alert" } else { "record" },
                    r.name
                ),
                optional: r.alert,
                expr: r.expr.clone(),
            });
            if !r.alert {
                // The recorded series itself, as the dashboards and alerts read it.
                exprs.push(Expr {
                    origin: format!("recorded {}", r.name),
                    optional: may_be_empty(&r.expr, bus),
                    expr: r.name.clone(),
                });
            }
        }
    }

    let mut refused = Vec::new();
    let mut empty = Vec::new();
    let mut with_data = 0;
    let mut slowest = (Duration::ZERO, String::new());
    let all_started = Instant::now();
    for e in &exprs {
        let t = Instant::now();
        let a = prom.query(&e.expr).await.unwrap();
        if t.elapsed() > slowest.0 {
            slowest = (t.elapsed(), e.origin.clone());
        }
        match &a {
            Answer::Refused { error, .. } => {
                refused.push(format!("{}: {error}\n  {}", e.origin, e.expr))
            }
            Answer::Data { series, .. } => {
                println!("{series:>4} series  {}", e.origin);
                if *series > 0 {
                    with_data += 1;
                } else if !e.optional && !may_be_empty(&e.expr, bus) {
                    empty.push(format!("{}\n  {}", e.origin, e.expr));
                }
            }
        }
    }
    println!(
        "PromQL: {} expressions, {with_data} with series, {} rules; {:?} in all, slowest {:?} ({})",
        exprs.len(),
        rule_count,
        all_started.elapsed(),
        slowest.0,
        slowest.1
    );
    assert!(
        refused.is_empty(),
        "refused by Prometheus:\n{}",
        refused.join("\n")
    );
    assert!(
        empty.is_empty(),
        "no series although the demo produces their metrics:\n{}",
        empty.join("\n")
    );

    // The required core: throughput, collection, judgment latency, warnings.
    for (what, expr) in [
        ("stage throughput", "sum by (stage) (rate(yuqing_component_sent_events_total[1m])) > 0"),
        ("collect requests", "sum(yuqing_collect_requests_total) > 0"),
        (
            "analyze latency",
            "histogram_quantile(0.99, sum by (le) (rate(yuqing_component_processing_duration_seconds_bucket{stage=\"analyze\"}[1m]))) > 0",
        ),
        ("alerts fired", "sum(yuqing_alert_fired_total) > 0"),
        ("open cases", "sum(yuqing_cases_open) > 0"),
        ("recorded throughput", "yuqing:stage_sent:rate5m{stage=\"analyze\"} > 0"),
    ] {
        let a = prom.query(expr).await.unwrap();
        assert!(a.series() > 0, "{what}: {expr} returned {a:?}");
    }
    if bus == Bus::Kafka {
        let expr = "yuqing:kafka_consumer_lag_messages:sum";
        let a = prom.query(expr).await.unwrap();
        assert!(a.series() >= 2, "lag of the items and events topics: {a:?}");
    }

    // Prometheus evaluated every rule without error, and scraped the daemon.
    let (status, body) = prom.get("/api/v1/rules", &[]).await.unwrap();
    assert_eq!(status, 200);
    let mut loaded = 0;
    for g in body["data"]["groups"].as_array().unwrap() {
        for r in g["rules"].as_array().unwrap() {
            loaded += 1;
            assert_eq!(
                r["health"], "ok",
                "rule {} is unhealthy: {}",
                r["name"], r["lastError"]
            );
            if r["type"] == "alerting" && r["state"] != "inactive" {
                println!("alert {} is {}", r["name"], r["state"]);
            }
        }
    }
    assert_eq!(loaded, rule_count, "Prometheus loaded {loaded} rules");
    let (_, targets) = prom.get("/api/v1/targets", &[]).await.unwrap();
    let active = targets["data"]["activeTargets"].as_array().unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["health"], "up", "{}", active[0]);
}

/// The read-only role of `deploy/grafana/postgres-readonly.sql`, created under a name unique
/// to this run (roles are server-wide); returns its connection URL.
async fn reader_role(admin: &mut PgConnection, db_url: &str) -> (String, String) {
    let db = db_url.rsplit('/').next().unwrap();
    let role = format!("grafana_reader_{}", &db[db.len().saturating_sub(12)..]);
    let password = "dashboards-live-test";
    let sql = std::fs::read_to_string(deploy("grafana/postgres-readonly.sql")).unwrap();
    let script: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("grafana_reader", &role)
        .replace(":password", &format!("'{password}'"))
        .replace("DATABASE yuqing", &format!("DATABASE {db}"));
    for stmt in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        admin
            .execute(stmt)
            .await
            .unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    let rest = db_url
        .split_once('@')
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("{db_url}: expected user@host"));
    (role.clone(), format!("postgres://{role}:{password}@{rest}"))
}

pub async fn sql_checks(db_url: &str) {
    let mut admin = PgConnection::connect(db_url).await.unwrap();
    let (role, reader_url) = reader_role(&mut admin, db_url).await;
    let mut conn = PgConnection::connect(&reader_url).await.unwrap();
    // The role can read and nothing else.
    let write = conn.execute("DELETE FROM alerts").await;
    assert!(write.is_err(), "the Grafana role could delete");
    let items = conn.execute("SELECT 1 FROM items LIMIT 1").await;
    assert!(
        items.is_err(),
        "the Grafana role reads items, which no panel needs"
    );

    // Simulated time runs ahead of the wall clock: a range around now holds the demo's events.
    let range = TimeRange {
        from: Utc::now() - chrono::Duration::days(1),
        to: Utc::now() + chrono::Duration::days(1),
    };
    let mut failures = Vec::new();
    let mut empty = Vec::new();
    let mut n = 0;
    let mut slowest = (Duration::ZERO, String::new());
    for d in dashboards() {
        let mut all = Context::new(range, "1m", "1m");
        let mut one = Context::new(range, "1m", "1m");
        for v in d.variables().unwrap() {
            match (v.kind.as_str(), v.datasource.as_deref()) {
                ("constant", _) => {
                    let val = v.query.clone().unwrap_or_default();
                    all.bind(v.clone(), Selection::Values(vec![val.clone()]), vec![]);
                    one.bind(v, Selection::Values(vec![val]), vec![]);
                }
                ("query", Some("yuqing-postgres")) => {
                    let q = v.query.clone().unwrap_or_default();
                    let sql = grafana::expand(&q, Language::Sql, &all)
                        .unwrap_or_else(|e| panic!("{}: ${}: {e}", d.title(), v.name));
                    let rows = sqlx::query(&sql)
                        .fetch_all(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("{}: ${}: {e}\n{sql}", d.title(), v.name));
                    let values: Vec<String> = rows
                        .iter()
                        .filter_map(|r| sqlx::Row::try_get::<String, _>(r, 0).ok())
                        .collect();
                    assert!(
                        !values.is_empty(),
                        "{}: ${} has no values",
                        d.title(),
                        v.name
                    );
                    println!("{}: ${} = {values:?}", d.title(), v.name);
                    all.bind(v.clone(), Selection::All, values.clone());
                    one.bind(v, Selection::Values(vec![values[0].clone()]), values);
                }
                _ => {}
            }
        }
        for q in d
            .queries()
            .unwrap()
            .into_iter()
            .filter(|q| q.language == Language::Sql)
        {
            for (ctx, which) in [(&all, "All"), (&one, "one value")] {
                n += 1;
                let origin = format!("{} / {} [{which}]", d.title(), q.panel);
                let sql = grafana::expand(&q.text, Language::Sql, ctx)
                    .unwrap_or_else(|e| panic!("{origin}: {e}"));
                let described = match conn.describe(sql.as_str()).await {
                    Ok(d) => d,
                    Err(e) => {
                        failures.push(format!("{origin}: {e}\n{sql}"));
                        continue;
                    }
                };
                let columns: Vec<String> = described
                    .columns()
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect();
                let unique: BTreeSet<&String> = columns.iter().collect();
                assert_eq!(
                    unique.len(),
                    columns.len(),
                    "{origin}: duplicate columns {columns:?}"
                );
                if q.format.as_deref() == Some("time_series") {
                    assert!(
                        columns.iter().any(|c| c == "time"),
                        "{origin}: a time series needs a `time` column: {columns:?}"
                    );
                }
                let t = Instant::now();
                match sqlx::query(&sql).fetch_all(&mut conn).await {
                    Err(e) => failures.push(format!("{origin}: {e}\n{sql}")),
                    Ok(rows) => {
                        let took = t.elapsed();
                        if took > slowest.0 {
                            slowest = (took, origin.clone());
                        }
                        println!("{:>4} rows  {took:>10.2?}  {origin}", rows.len());
                        if rows.is_empty()
                            && which == "All"
                            && !SQL_MAY_BE_EMPTY.iter().any(|(p, _)| q.panel == *p)
                        {
                            empty.push(origin);
                        }
                    }
                }
            }
        }
    }
    println!(
        "SQL: {n} queries run as {role}; slowest {:?} ({})",
        slowest.0, slowest.1
    );
    assert!(
        failures.is_empty(),
        "SQL failed:\n{}",
        failures.join("\n\n")
    );
    assert!(empty.is_empty(), "no rows:\n{}", empty.join("\n"));
    drop(conn);
    admin
        .execute(format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}").as_str())
        .await
        .ok();
    let db = db_url.rsplit('/').next().unwrap();
    for stmt in [
        format!("REVOKE ALL ON SCHEMA public FROM {role}"),
        format!("REVOKE ALL ON DATABASE {db} FROM {role}"),
        format!("DROP ROLE {role}"),
    ] {
        admin.execute(stmt.as_str()).await.ok();
    }
}

/// Counts from the store, to know when the demo has produced enough.
pub async fn progress(conn: &mut PgConnection) -> BTreeMap<&'static str, i64> {
    let mut out = BTreeMap::new();
    for (k, q) in [
        ("events", "SELECT COUNT(*) FROM events"),
        (
            "graded",
            "SELECT COUNT(*) FROM events WHERE grade IS NOT NULL",
        ),
        ("alerts", "SELECT COUNT(*) FROM alerts"),
        ("cases", "SELECT COUNT(*) FROM cases"),
        ("history", "SELECT COUNT(*) FROM event_history"),
    ] {
        let n: i64 = sqlx::query_scalar(q)
            .fetch_one(&mut *conn)
            .await
            .unwrap_or(0);
        out.insert(k, n);
    }
    out
}

/// Runs the whole check with the daemon on `bus`.
pub async fn run(bus: Bus) {
    need_tools();
    let broker = (bus == Bus::Kafka).then(yuqing_testkit::Broker::start);
    let pg = PgDatabase::create().await;
    let data = tempfile::tempdir().unwrap();
    let token = CancellationToken::new();
    let running = start_daemon(
        &pg.url,
        broker.as_ref().map(|b| b.bootstrap.as_str()),
        data.path().to_path_buf(),
        token.clone(),
    )
    .await;
    println!(
        "daemon on {}, demo world at {:?}",
        running.addr, running.demo
    );
    let prom = Prometheus::start(&prometheus_config(running.addr))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let duty = Duty {
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        base: format!("http://{}", running.addr),
    };
    let mut watch = PgConnection::connect(&pg.url).await.unwrap();
    let started = Instant::now();
    let mut worked = None;
    // At least a minute of demo (an hour of simulated time), at most three; the worked cases
    // get some seconds of scrapes before the queries run.
    loop {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let p = progress(&mut watch).await;
        if worked.is_none() && p["cases"] >= 2 {
            worked = Some((work_cases(&duty).await, Instant::now()));
        }
        let elapsed = started.elapsed();
        let enough = worked.is_some_and(|(_, at)| at.elapsed() > Duration::from_secs(10))
            && p["graded"] > 0
            && p["history"] > 0;
        if elapsed > Duration::from_secs(70) && enough {
            println!("after {elapsed:?}: {p:?}, {worked:?} cases worked");
            break;
        }
        assert!(
            elapsed < Duration::from_secs(180),
            "the demo produced too little in 3 minutes: {p:?}\n{}",
            prom.log()
        );
    }
    drop(watch);

    promql_checks(&prom, bus).await;
    sql_checks(&pg.url).await;

    token.cancel();
    match tokio::time::timeout(Duration::from_secs(30), running.done).await {
        Ok(Ok(Ok(()))) => {}
        other => panic!("daemon did not stop cleanly: {other:?}"),
    }
    drop(prom);
    pg.drop_now().await;
    drop(broker);
}
