//! The four reports over the fixture incident, on SQLite and on PostgreSQL: they render as
//! Markdown and HTML, every evidence id resolves in the store, the numbers are the store's, the
//! charts are well-formed SVG, untrusted text is escaped, and a summary waits for 办结.

mod common;

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, NaiveDate};
use common::{check_traceable, cst, load, t, STATEMENT, WAGES, WATER};
use yuqing_cases::CaseState;
use yuqing_report::data::num;
use yuqing_report::{
    bulletin, daily, event, summary, Block, Evidence, Report, ReportError, ReportKind,
};
use yuqing_store::Store;

const END: &str = "2026-11-22T12:00:00+08:00";

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn section<'a>(r: &'a Report, title: &str) -> &'a yuqing_report::Section {
    r.sections
        .iter()
        .find(|s| s.title == title)
        .unwrap_or_else(|| panic!("no section {title}"))
}

fn texts(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for b in r.sections.iter().flat_map(|s| s.blocks.iter()) {
        match b {
            Block::Text(s) | Block::Quote(s) => out.push(s.text.clone()),
            Block::Facts(fs) => out.extend(fs.iter().map(|f| format!("{}：{}", f.label, f.value))),
            Block::Table(t) => out.extend(t.rows.iter().map(|r| r.cells.join(" | "))),
            _ => {}
        }
    }
    out
}

fn fact<'a>(r: &'a Report, label: &str) -> &'a str {
    for b in r.sections.iter().flat_map(|s| s.blocks.iter()) {
        if let Block::Facts(fs) = b {
            if let Some(f) = fs.iter().find(|f| f.label == label) {
                return &f.value;
            }
        }
    }
    panic!("no fact {label}")
}

async fn all_reports(store: Store) {
    let l = load(&store, END).await;
    let cases = &l.cases;

    // 舆情日志 of the 20th: the counts are the store's.
    let r = daily(&store, cases, day("2026-11-20"), cst())
        .await
        .unwrap();
    assert_eq!(r.kind, ReportKind::Daily);
    assert_eq!(r.file_stem(), "daily-2026-11-20");
    check_traceable(&r, &store, cases).await;
    let obs = store
        .judged_between(
            t("2026-11-20T00:00:00+08:00"),
            t("2026-11-21T00:00:00+08:00"),
            100_000,
        )
        .await
        .unwrap();
    let distinct: HashSet<String> = obs.iter().map(|j| j.item.key()).collect();
    let events: HashSet<String> = obs
        .iter()
        .filter_map(|j| j.analysis.event_id.clone())
        .collect();
    let overview = &texts(&r)[0];
    assert!(
        overview.contains(&format!(
            "共监测到信息 {} 条（{} 次观测），分属 {} 个事件，其中预警事件 2 个",
            distinct.len(),
            obs.len(),
            events.len()
        )),
        "{overview}"
    );
    let day_alerts = store
        .alerts_between(
            t("2026-11-20T00:00:00+08:00"),
            t("2026-11-21T00:00:00+08:00"),
        )
        .await
        .unwrap();
    assert!(texts(&r)
        .iter()
        .any(|x| x.contains(&format!("当日发出预警 {} 条", day_alerts.len()))));
    let graded = section(&r, "预警事件");
    let Block::Table(table) = &graded.blocks[0] else {
        panic!("a table")
    };
    assert_eq!(table.rows.len(), 2);
    // The water event: grade I by the day's end, owner 县水务局 after the reassignment, 已回应.
    let water = &table.rows[0];
    assert!(water.evidence.contains(&Evidence::event(WATER)));
    assert_eq!(water.cells[1], "I 特别重大（红色）");
    assert_eq!(water.cells[5], "县水务局");
    assert_eq!(water.cells[7], "已回应");
    let wages = &table.rows[1];
    assert_eq!(wages.cells[5], "人力资源和社会保障局");
    assert_eq!(wages.cells[7], "已转办");
    let html = r.to_html();
    assert!(
        html.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "a note with markup is escaped"
    );
    assert!(!html.contains("<img"));

    // The 21st: the water case closes.
    let r21 = daily(&store, cases, day("2026-11-21"), cst())
        .await
        .unwrap();
    check_traceable(&r21, &store, cases).await;
    assert!(texts(&r21).iter().any(|x| x.contains("办结")));

    // 舆情专报 of the water event.
    let r = event(&store, cases, WATER, cst()).await.unwrap();
    assert_eq!(r.file_stem(), format!("event-{WATER}"));
    check_traceable(&r, &store, cases).await;
    let obs = store.items_of_event(WATER, 100_000).await.unwrap();
    let distinct: HashSet<String> = obs.iter().map(|j| j.item.key()).collect();
    assert_eq!(
        fact(&r, "信息量"),
        format!(
            "{} 条信息（{} 次观测），涉及 1 个平台、1 个来源",
            distinct.len(),
            obs.len()
        )
    );
    let ev = store.event(WATER).await.unwrap().unwrap();
    assert!(fact(&r, "累计传播（事件快照）").starts_with(&format!(
        "帖文 {}、转发 {}、评论 {}",
        num(ev.counts.items),
        num(ev.counts.reposts),
        num(ev.counts.comments)
    )));
    assert!(fact(&r, "预警等级").starts_with("I 特别重大（红色）"));
    assert!(fact(&r, "24小时规模预测").contains(&ev.forecast_peak.method));
    // Sentiment mean over the distinct items' latest observations.
    let mut latest: BTreeMap<String, &yuqing_core::JudgedItem> = BTreeMap::new();
    for j in &obs {
        latest.insert(j.item.key(), j);
    }
    let mean = latest.values().map(|j| j.analysis.sentiment).sum::<f64>() / latest.len() as f64;
    let s = &texts(&r)
        .into_iter()
        .find(|x| x.contains("情感均值"))
        .unwrap();
    assert!(s.contains(&format!("情感均值为 {mean:.2}")), "{s}");
    // The spread chart and the 2h/6h/24h marks.
    let spread = section(&r, "传播态势");
    let Block::Chart(chart) = &spread.blocks[0] else {
        panic!("a chart")
    };
    assert!(chart.svg.contains("2小时 上网发布") && chart.svg.contains("6小时 转播"));
    let points = store.spread(WATER).await.unwrap();
    let at6 = points
        .iter()
        .rev()
        .find(|p| p.at <= (ev.first_seen + Duration::hours(6)).to_utc())
        .unwrap();
    assert_eq!(chart.data.rows[1].cells[2], at6.items.to_string());
    // Risk quotes the rules' reasons verbatim.
    let all = texts(&r).join("\n");
    assert!(all.contains("首次权威发布时限已过（截止 11-20 08:42），未记录回应"));
    // Handling: the department's facts are quoted, deadlines judged.
    assert!(all.contains("城南路DN300供水管道检修"));
    assert!(all.contains("首次权威发布 | 2026-11-20 08:42 | 超时"));
    assert!(all.contains("回应 | 2026-11-22 07:42 | 按时 | 于 2026-11-20 09:40 回应"));

    // An event without alerts still gets a report, saying there is no case.
    let r = event(&store, cases, STATEMENT, cst()).await.unwrap();
    check_traceable(&r, &store, cases).await;
    assert!(texts(&r).iter().any(|x| x.contains("尚未立案")));
    // Key accounts: the water authority and the newspaper, named as the source tagged them.
    let acc = section(&r, "重点账号");
    let Block::Table(tab) = &acc.blocks[1] else {
        panic!("a table")
    };
    let kinds: BTreeMap<&str, &str> = tab
        .rows
        .iter()
        .map(|r| (r.cells[0].as_str(), r.cells[1].as_str()))
        .collect();
    assert_eq!(kinds.get("桐庐县水务局"), Some(&"政务账号"));
    assert_eq!(kinds.get("浙西都市报"), Some(&"媒体"));

    // 定期通报: per department, the numbers are the case workflow's own accountability.
    let (from, to) = (
        t("2026-11-20T00:00:00+08:00"),
        t("2026-11-23T00:00:00+08:00"),
    );
    let r = bulletin(&store, cases, from, to, cst()).await.unwrap();
    assert_eq!(r.file_stem(), "bulletin-2026-11-20_2026-11-22");
    check_traceable(&r, &store, cases).await;
    let acct = cases.accountability(from, to).await.unwrap();
    assert_eq!(acct.len(), 2);
    let Block::Table(t) = &section(&r, "按责任单位").blocks[0] else {
        panic!("a table")
    };
    for (row, a) in t.rows.iter().zip(&acct) {
        assert_eq!(row.cells[0], a.department);
        assert_eq!(row.cells[1], a.cases.to_string());
        assert_eq!(row.cells[3], a.accepted.to_string());
        assert_eq!(row.cells[4], a.responded.to_string());
        assert_eq!(row.cells[5], a.closed.to_string());
        assert_eq!(
            row.cells[6],
            yuqing_report::data::minutes_text(&a.to_accept)
        );
        assert_eq!(
            row.cells[7],
            yuqing_report::data::minutes_text(&a.to_response)
        );
        assert_eq!(
            row.cells[8],
            format!(
                "{}/{}/{}",
                a.deadlines_met, a.deadlines_missed, a.deadlines_pending
            )
        );
        assert_eq!(row.cells[9], a.late_accepted.to_string());
        assert_eq!(row.cells[10], a.not_acted_on.to_string());
    }
    let wages = acct
        .iter()
        .find(|a| a.department == "人力资源和社会保障局")
        .unwrap();
    assert_eq!(
        wages.late_accepted, 1,
        "accepted 68 minutes after the alert"
    );
    let Block::Table(t) = &section(&r, "按属地").blocks[0] else {
        panic!("a table")
    };
    let places: Vec<&str> = t.rows.iter().map(|r| r.cells[0].as_str()).collect();
    assert_eq!(places, ["城东区", "桐庐县"]);
    assert!(texts(&r)
        .iter()
        .any(|x| x.contains("人力资源和社会保障局 | 迟报")));

    // 总结报告: only for the closed case.
    let water_case = cases.show(WATER).await.unwrap();
    assert_eq!(water_case.state, CaseState::Closed);
    let r = summary(&store, cases, &water_case.case_id, cst())
        .await
        .unwrap();
    assert_eq!(r.file_stem(), format!("summary-{}", water_case.case_id));
    check_traceable(&r, &store, cases).await;
    let all = texts(&r).join("\n");
    assert!(all.contains("首次公开回应于 2026-11-20 09:40"));
    assert!(all.contains("网站发布"));
    let same = summary(&store, cases, WATER, cst()).await.unwrap();
    assert_eq!(same.to_html(), r.to_html(), "by case id or event id");
    let err = summary(&store, cases, WAGES, cst()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ReportError::NotClosed {
                state: "assigned",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_usage());
    let err = summary(&store, cases, "case-nope", cst())
        .await
        .unwrap_err();
    assert!(matches!(err, ReportError::NotFound { what: "case", .. }));
    let err = event(&store, cases, "ev-nope", cst()).await.unwrap_err();
    assert!(matches!(err, ReportError::NotFound { what: "event", .. }));
    let err = daily(&store, cases, day("2026-11-30"), cst())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ReportError::Invalid { field: "date", .. }),
        "{err}"
    );
    let err = bulletin(&store, cases, to, from, cst()).await.unwrap_err();
    assert!(err.is_usage());
}

#[tokio::test]
async fn the_four_reports_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    all_reports(store).await;
}

#[tokio::test]
async fn the_four_reports_on_postgres() {
    let (store, db) = common::postgres().await;
    all_reports(store.clone()).await;
    store.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn reports_follow_the_time_zone_and_the_clock() {
    let (store, _dir) = common::sqlite().await;
    // Mid-day on the 20th: the day is still running, the water case is open.
    let l = load(&store, "2026-11-20T12:00:00+08:00").await;
    let r = daily(&store, &l.cases, day("2026-11-20"), cst())
        .await
        .unwrap();
    assert_eq!(r.generated_at, t("2026-11-20T12:00:00+08:00"));
    let obs = store
        .judged_between(
            t("2026-11-20T00:00:00+08:00"),
            t("2026-11-20T12:00:00+08:00"),
            100_000,
        )
        .await
        .unwrap();
    let distinct: HashSet<String> = obs.iter().map(|j| j.item.key()).collect();
    assert!(texts(&r)[0].contains(&format!("共监测到信息 {} 条", distinct.len())));
    let err = summary(&store, &l.cases, WATER, cst()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ReportError::NotClosed {
                state: "feedback",
                ..
            }
        ),
        "{err}"
    );
    // The same instant in UTC: the report is written in that zone.
    let utc = chrono::FixedOffset::east_opt(0).unwrap();
    let r = event(&store, &l.cases, WATER, utc).await.unwrap();
    assert_eq!(r.generated_at.offset().local_minus_utc(), 0);
    assert!(
        texts(&r).iter().any(|x| x.contains("2026-11-19 23:42")),
        "first seen in UTC"
    );
    // The 6h and 24h marks lie ahead of the clock.
    let Block::Chart(c) = &section(&r, "传播态势").blocks[0] else {
        panic!()
    };
    assert_eq!(c.data.rows[2].cells[2], "尚未到达");
}
