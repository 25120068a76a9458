//! Reports over the demo world's replay: the time to build and render each report from a store
//! filled by the real pipeline, and a traceability check of every report.
//!
//! Polls the demo world every 30 simulated minutes for its first `HOURS` hours (new items, and
//! new counts of posts seen before), replays the observations through the real pipeline cores (`yuqing_daemon::batch::replay_items`, the same replay the CLI runs),
//! stores the judged items, event snapshots and alerts in a fresh SQLite store (or PostgreSQL with
//! `--pg`) as the daemon does, and applies every alert to the case workflow on a manual clock.
//! The duty room's steps are scripted by this harness (stated here so nobody mistakes them for
//! data): each new case is accepted 15 minutes after its alert (every 5th case 45 minutes — 迟报),
//! assigned 10 minutes later to the department the analysis named (or 属地政府), answered by that
//! department after 90 minutes, publicly responded to after 2 hours (published at 100 minutes) and
//! closed after 20 hours; every 7th case is left untouched (漏报). Then it builds the daily log of
//! every whole day, the event report of the three largest alerted events, the bulletin of the whole
//! span and the summary of every closed case; renders each as Markdown and HTML into
//! `benches/out/report/`; and looks every cited record up again (`yuqing_report::verify`).
//!
//! ```sh
//! cargo run --release -p yuqing-benches --bin report_demo -- [HOURS] [--pg]
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone};
use yuqing_cases::{Actor, Cases, CasesConfig, Channel, Response};
use yuqing_core::{Alert, AlertKind, ManualClock};
use yuqing_report::{Format, Report};
use yuqing_store::Store;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Alert(usize),
    Accept(String),
    Assign(String, String),
    Feedback(String, String),
    Respond(String, i64),
    Close(String),
}

struct Row {
    name: String,
    build_ms: f64,
    render_ms: f64,
    sections: usize,
    evidence: usize,
    md_kb: f64,
    html_kb: f64,
    missing: usize,
}

async fn measure(
    name: String,
    built: impl std::future::Future<Output = Result<Report, yuqing_report::ReportError>>,
    store: &Store,
    cases: &Cases,
    out: &std::path::Path,
) -> anyhow::Result<Row> {
    let t = Instant::now();
    let r = built.await?;
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let md = r.to_markdown();
    let html = r.to_html();
    let render_ms = t.elapsed().as_secs_f64() * 1e3;
    yuqing_report::write_report(out, &r, &[Format::Md, Format::Html])?;
    let missing = yuqing_report::verify(&r, store, cases).await?.len();
    Ok(Row {
        name,
        build_ms,
        render_ms,
        sections: r.sections.len(),
        evidence: r.appendix.len(),
        md_kb: md.len() as f64 / 1024.0,
        html_kb: html.len() as f64 / 1024.0,
        missing,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let hours: i64 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(48);
    let pg = args.iter().any(|a| a == "--pg");
    let start = yuqing_demo::default_start();
    let end = start + Duration::hours(hours);
    let world = yuqing_demo::DemoWorld::bundled()?.with_start(start);
    // Collect as a poller would: every 30 simulated minutes, what is new, and new counts of the
    // posts seen before (re-observations, which make the spread curve).
    let t = Instant::now();
    let mut seen: HashMap<String, yuqing_core::Metrics> = HashMap::new();
    let mut items = Vec::new();
    let mut at = start;
    while at < end {
        at = (at + Duration::minutes(30)).min(end);
        for it in world.items_at(at) {
            let k = it.key();
            let fresh = match seen.get(&k) {
                None => true,
                Some(m) => *m != it.metrics && it.parent_id.is_none(),
            };
            if fresh {
                seen.insert(k, it.metrics);
                items.push(it);
            }
        }
    }
    let n_items = items.len();
    println!(
        "collected {n_items} observations of {} items in {} polls ({:.1}s)",
        seen.len(),
        hours * 2,
        t.elapsed().as_secs_f64()
    );
    let cfg = yuqing_daemon::PipelineConfig::from_toml(
        "",
        "report_demo",
        ".".into(),
        std::iter::empty(),
    )?;
    let t = Instant::now();
    let out = yuqing_daemon::batch::replay_items(&cfg, items)?;
    println!(
        "replayed {n_items} observations of {hours} simulated hours in {:.1}s: {} judged, {} event snapshots, {} alerts",
        t.elapsed().as_secs_f64(),
        out.scored.len(),
        out.events.len(),
        out.alerts.len()
    );

    let tmp = tempfile::tempdir()?;
    let _pg_db;
    let store = if pg {
        let db = yuqing_testkit::PgDatabase::create().await;
        let s = Store::open(&db.url).await?;
        _pg_db = Some(db);
        s
    } else {
        _pg_db = None;
        Store::open(&format!("sqlite://{}", tmp.path().join("y.db").display())).await?
    };
    let t = Instant::now();
    for chunk in out.scored.chunks(2000) {
        store.put_judged(chunk).await?;
    }
    for chunk in out.events.chunks(2000) {
        store.put_events(chunk).await?;
    }
    println!(
        "stored {} observations and {} snapshots in {:.1}s ({})",
        out.scored.len(),
        out.events.len(),
        t.elapsed().as_secs_f64(),
        if pg { "PostgreSQL" } else { "SQLite" }
    );

    let clock = Arc::new(ManualClock::new(start));
    let cases = Cases::with_clock(store.clone(), clock.clone())
        .await?
        .configure(&CasesConfig::default(), &[]);
    let duty = Actor::duty("演练值班员");
    let mut heap: BinaryHeap<Reverse<(DateTime<FixedOffset>, u64, Step)>> = BinaryHeap::new();
    let mut seq = 0u64;
    for (i, a) in out.alerts.iter().enumerate() {
        heap.push(Reverse((a.at, seq, Step::Alert(i))));
        seq += 1;
    }
    let mut opened = 0usize;
    let mut failed: HashMap<&'static str, usize> = HashMap::new();
    let t = Instant::now();
    while let Some(Reverse((at, _, step))) = heap.pop() {
        if at > end.fixed_offset() {
            continue;
        }
        clock.set(at.to_utc());
        let res = match &step {
            Step::Alert(i) => {
                let a: &Alert = &out.alerts[*i];
                store.insert_alert(a, &[]).await?;
                store.set_event_grade(&a.event_id, a.grade.as_str()).await?;
                cases.on_alert(a).await?;
                if a.kind == AlertKind::New {
                    opened += 1;
                    if !opened.is_multiple_of(7) {
                        let ev = a.event_id.clone();
                        let dept = a.department.clone().unwrap_or_else(|| "属地政府".into());
                        let accept = if opened.is_multiple_of(5) { 45 } else { 15 };
                        let plan = [
                            (accept, Step::Accept(ev.clone())),
                            (accept + 10, Step::Assign(ev.clone(), dept.clone())),
                            (accept + 90, Step::Feedback(ev.clone(), dept)),
                            (accept + 120, Step::Respond(ev.clone(), accept + 100)),
                            (accept + 1200, Step::Close(ev)),
                        ];
                        for (m, s) in plan {
                            heap.push(Reverse((a.at + Duration::minutes(m), seq, s)));
                            seq += 1;
                        }
                    }
                }
                Ok(())
            }
            Step::Accept(ev) => cases.accept(ev, &duty).await.map(drop),
            Step::Assign(ev, d) => cases.assign(ev, d, &duty).await.map(drop),
            Step::Feedback(ev, d) => cases
                .feedback(
                    ev,
                    "经核查，情况已掌握，正在依法依规处置（演练脚本生成的反馈）。",
                    &Actor::department(format!("{d}联络员"), d.clone()),
                )
                .await
                .map(drop),
            Step::Respond(ev, published) => {
                let case = cases.show(ev).await?;
                let r = Response {
                    channel: Channel::Website,
                    link: Some("https://www.example.gov.cn/response".into()),
                    at: case.first_alert + Duration::minutes(*published),
                };
                cases.respond(ev, &r, &duty).await.map(drop)
            }
            Step::Close(ev) => cases.close(ev, None, &duty).await.map(drop),
        };
        if let Err(e) = res {
            *failed.entry(e.kind()).or_default() += 1;
        }
    }
    clock.set(end);
    println!(
        "applied {} alerts and the scripted duty room in {:.1}s: {opened} cases opened; steps refused by the workflow: {failed:?}",
        out.alerts.len(),
        t.elapsed().as_secs_f64()
    );

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("out/report");
    std::fs::create_dir_all(&dir)?;
    let cst = yuqing_core::clock::cst();
    let mut rows = Vec::new();
    let first_day = start.with_timezone(&cst).date_naive();
    let mut d = first_day;
    while cst
        .from_local_datetime(&(d + Duration::days(1)).and_time(NaiveTime::MIN))
        .single()
        .is_some_and(|t| t <= end.with_timezone(&cst))
    {
        rows.push(
            measure(
                format!("daily {d}"),
                yuqing_report::daily(&store, &cases, d, cst),
                &store,
                &cases,
                &dir,
            )
            .await?,
        );
        d += Duration::days(1);
    }
    let mut alerted: Vec<(usize, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in &out.alerts {
        if seen.insert(a.event_id.clone()) {
            let n = out
                .scored
                .iter()
                .filter(|j| j.analysis.event_id.as_deref() == Some(&a.event_id))
                .count();
            alerted.push((n, a.event_id.clone()));
        }
    }
    alerted.sort_by(|a, b| b.cmp(a));
    for (n, id) in alerted.iter().take(3) {
        rows.push(
            measure(
                format!("event {id} ({n} obs.)"),
                yuqing_report::event(&store, &cases, id, cst),
                &store,
                &cases,
                &dir,
            )
            .await?,
        );
    }
    rows.push(
        measure(
            format!("bulletin {hours}h"),
            yuqing_report::bulletin(
                &store,
                &cases,
                start.fixed_offset(),
                end.fixed_offset(),
                cst,
            ),
            &store,
            &cases,
            &dir,
        )
        .await?,
    );
    let closed = cases
        .list(&yuqing_cases::CaseFilter {
            state: Some("closed".into()),
            limit: Some(1000),
            ..Default::default()
        })
        .await?;
    for c in &closed {
        rows.push(
            measure(
                format!("summary {}", c.case_id),
                yuqing_report::summary(&store, &cases, &c.case_id, cst),
                &store,
                &cases,
                &dir,
            )
            .await?,
        );
    }
    println!(
        "\n{:<42} {:>9} {:>10} {:>8} {:>9} {:>8} {:>9} {:>8}",
        "report", "build ms", "render ms", "sections", "evidence", "md KB", "html KB", "missing"
    );
    for r in &rows {
        println!(
            "{:<42} {:>9.1} {:>10.1} {:>8} {:>9} {:>8.1} {:>9.1} {:>8}",
            r.name, r.build_ms, r.render_ms, r.sections, r.evidence, r.md_kb, r.html_kb, r.missing
        );
    }
    let missing: usize = rows.iter().map(|r| r.missing).sum();
    println!(
        "\n{} reports written to {}; evidence not found in the store: {missing}",
        rows.len(),
        dir.display()
    );
    anyhow::ensure!(
        missing == 0,
        "a report cites records the store does not hold"
    );
    Ok(())
}
