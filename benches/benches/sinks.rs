//! Alert delivery: rendering and splitting messages for each channel (group `sinks/render`).
//!
//! `cargo bench -p yuqing-benches --bench sinks`
//!
//! Alerts are synthetic (written here); no network is touched: only what a sink does before it
//! sends — facts in words, markdown/cards/mail bodies, byte-aware splitting, digest packing.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use yuqing_core::{Alert, AlertKind, Deadline, Grade, ManualClock, Reason, SharedClock, Stage};
use yuqing_sinks::channel::{BuildContext, Channel};
use yuqing_sinks::split::{json_cost, split, utf8_cost};
use yuqing_sinks::SinksConfig;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T02:10:00Z")
        .unwrap()
        .to_utc()
}

fn alert(i: usize, title_chars: usize) -> Alert {
    let grade = Grade::ALL[i % 4];
    let event = yuqing_core::id::event_id("bench", &i.to_string());
    let title: String = "某区化工厂发生火灾现场浓烟滚滚周边居民紧急疏散"
        .chars()
        .cycle()
        .take(title_chars)
        .collect();
    Alert {
        schema_version: 1,
        alert_id: yuqing_core::id::alert_id(&event, "new", grade.as_str(), 0),
        event_id: event,
        kind: AlertKind::New,
        grade,
        previous_grade: None,
        stage: Stage::Spreading,
        title: format!("{i} {title}"),
        department: Some("区应急管理局".into()),
        region: Some("某市某区".into()),
        response_subject: vec!["区人民政府".into(), "区应急管理局".into()],
        deadlines: vec![
            Deadline {
                kind: "first_release".into(),
                label: "首次权威发布".into(),
                due: DateTime::parse_from_rfc3339("2026-11-22T11:02:00+08:00").unwrap(),
            },
            Deadline {
                kind: "response".into(),
                label: "回应".into(),
                due: DateTime::parse_from_rfc3339("2026-11-24T10:02:00+08:00").unwrap(),
            },
        ],
        rule: "grade:II".into(),
        reasons: vec![
            Reason::new("grade", "rule:II", "转发 1.2 万，增速 800/小时"),
            Reason::new("category", "lexicon:安全事故", "火灾、爆炸、浓烟"),
            Reason::new("region", "gazetteer", "某市某区"),
        ],
        url: Some("https://weibo.com/1234567890/AbCdEfGhI".into()),
        at: DateTime::parse_from_rfc3339("2026-11-22T10:02:00+08:00").unwrap(),
        extra: Default::default(),
    }
}

fn channels() -> Vec<(&'static str, Channel)> {
    let cfg: SinksConfig = toml::from_str(
        r#"
        [[sinks]]
        kind = "wecom"
        id = "wecom"
        key = "k"
        mentioned_list = ["wangqing"]
        [[sinks]]
        kind = "dingtalk"
        id = "dingtalk"
        access_token = "t"
        secret = "SECbench"
        at_mobiles = ["13800001111"]
        [[sinks]]
        kind = "feishu"
        id = "feishu"
        token = "t"
        secret = "s"
        mention_all = true
        [[sinks]]
        kind = "email"
        id = "email"
        host = "127.0.0.1"
        tls = "none"
        from = "duty@yuqing.example"
        to = ["leader@yuqing.example"]
        "#,
    )
    .expect("bench config");
    let clock: SharedClock = Arc::new(ManualClock::new(now()));
    let cx = BuildContext::new(clock).expect("HTTP client");
    cfg.sinks
        .iter()
        .map(|s| {
            let name: &'static str = match s.kind() {
                "wecom" => "wecom",
                "dingtalk" => "dingtalk",
                "feishu" => "feishu",
                _ => "email",
            };
            (name, Channel::build(s, &cx).expect("channel"))
        })
        .collect()
}

fn render(c: &mut Criterion) {
    let channels = channels();
    let one = alert(1, 30);
    let long = alert(2, 3000);
    let flood: Vec<Arc<Alert>> = {
        let mut v: Vec<Arc<Alert>> = (0..1000).map(|i| Arc::new(alert(i, 24))).collect();
        yuqing_sinks::render::sort_by_severity(&mut v);
        v
    };

    let mut g = c.benchmark_group("sinks/render");
    g.throughput(Throughput::Elements(1));
    for (name, ch) in &channels {
        g.bench_function(format!("{name}/alert"), |b| {
            b.iter(|| black_box(ch.render_alert(black_box(&one), now()).unwrap()))
        });
    }
    for (name, ch) in channels.iter().filter(|(n, _)| *n != "email") {
        g.bench_function(format!("{name}/alert_9kb_split"), |b| {
            b.iter(|| black_box(ch.render_alert(black_box(&long), now()).unwrap()))
        });
    }
    g.throughput(Throughput::Elements(flood.len() as u64));
    for (name, ch) in &channels {
        // One digest message packed from 1,000 waiting alerts (what a flood round does).
        g.bench_function(format!("{name}/digest_of_1000_waiting"), |b| {
            b.iter(|| black_box(ch.render_digest(black_box(&flood), now()).unwrap()))
        });
    }
    let text: String = (0..2000)
        .map(|i| format!("{i}. 【橙色】II 某区化工厂火灾 · 区应急管理局 · 某市某区 · 新预警\n"))
        .collect();
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("split/utf8_4096", |b| {
        b.iter_batched(
            || text.as_str(),
            |t| black_box(split(t, 4096, utf8_cost).len()),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("split/json_20000", |b| {
        b.iter_batched(
            || text.as_str(),
            |t| black_box(split(t, 20_000, json_cost).len()),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
