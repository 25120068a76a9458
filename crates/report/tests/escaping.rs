//! Untrusted text: posts, handles, titles, links and workflow notes carrying markup reach the
//! reports escaped; any text survives the HTML as text (property test); real Weibo posts render
//! into well-formed, traceable reports (skips without /work/shared).

mod common;

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use common::{check_html, check_md, check_traceable, cst, t};
use proptest::prelude::*;
use serde_json::json;
use yuqing_cases::{Actor, Cases};
use yuqing_core::{Alert, Analysis, Event, Item, JudgedItem, ManualClock, Platform};
use yuqing_report::{
    event, Block, Evidence, EvidenceEntry, Fact, Period, Report, ReportKind, Row, Section,
    Statement, Table,
};

const XSS_TEXT: &str = "<script>alert(1)</script>水还是黄的，谁来管管";
const XSS_HANDLE: &str = "\"><img src=x onerror=alert(1)>";

fn judged(
    id: &str,
    text: &str,
    author: Option<&str>,
    url: Option<&str>,
    at: DateTime<FixedOffset>,
    event_id: &str,
) -> JudgedItem {
    JudgedItem {
        item: Item {
            schema_version: 1,
            id: id.into(),
            source: "weibo-kw".into(),
            platform: Platform::Weibo,
            url: url.map(str::to_string),
            title: None,
            text: text.into(),
            author: author.map(str::to_string),
            published_at: at,
            observed_at: at,
            root_id: None,
            parent_id: None,
            metrics: yuqing_core::Metrics {
                reposts: Some(5),
                comments: Some(7),
                likes: Some(11),
                views: None,
            },
            region: None,
            label: None,
            extra: Default::default(),
        },
        analysis: Analysis {
            sentiment: -0.6,
            sensitivity: 0.7,
            event_id: Some(event_id.into()),
            ..Analysis::default()
        },
    }
}

fn snapshot(
    event_id: &str,
    title: &str,
    first: &JudgedItem,
    items: u64,
    at: DateTime<FixedOffset>,
) -> Event {
    Event::from_json(
        json!({
            "event_id": event_id,
            "title": title,
            "keywords": ["<b>关键词</b>"],
            "first_seen": first.item.published_at.to_rfc3339(),
            "first_source": first.item.source,
            "first_url": first.item.url,
            "last_seen": at.to_rfc3339(),
            "updated_at": at.to_rfc3339(),
            "stage": "emerging",
            "velocity": 3.0,
            "acceleration": 1.0,
            "forecast_peak": {"size": 40.0, "low": 20.0, "high": 80.0, "method": "hawkes-pl"},
            "counts": {"items": items, "reposts": 5, "comments": 7, "likes": 11, "views": 0,
                       "platforms": 1, "sources": 1, "official": 0, "media": 0},
            "sensitivity": 0.7,
            "sentiment": -0.6,
            "evidence": [format!("{}/{}", first.item.source, first.item.id)],
            "reasons": [{"about": "stage", "rule": "curve:2h/6h/24h", "evidence": "<i>萌芽</i> & 扩散"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

#[tokio::test]
async fn markup_in_posts_handles_links_and_notes_is_escaped() {
    let (store, _dir) = common::sqlite().await;
    let t0 = t("2026-11-20T09:00:00+08:00");
    let first = judged(
        "x1",
        XSS_TEXT,
        Some(XSS_HANDLE),
        Some("javascript:alert(1)"),
        t0,
        "ev-x",
    );
    let second = judged(
        "x2",
        "![点我](javascript:alert(5)) [链接](https://evil.example) | 表格 | *强调*",
        Some("</td></tr></table><h1>假标题</h1>"),
        Some("https://m.weibo.example/detail/x2\" onmouseover=\"alert(6)"),
        t0 + chrono::Duration::minutes(5),
        "ev-x",
    );
    store
        .put_judged(&[first.clone(), second.clone()])
        .await
        .unwrap();
    store
        .put_events(&[snapshot(
            "ev-x",
            "<script>alert(4)</script>标题",
            &first,
            2,
            t0 + chrono::Duration::minutes(5),
        )])
        .await
        .unwrap();
    let alert = Alert::from_json(
        json!({
            "alert_id": "al-x", "event_id": "ev-x", "kind": "new", "grade": "III", "stage": "emerging",
            "title": "<script>alert(7)</script>", "deadlines": [], "rule": "grading:<b>x</b>",
            "reasons": [{"about": "grade", "rule": "r", "evidence": "</blockquote><script>alert(8)</script>"}],
            "at": (t0 + chrono::Duration::minutes(6)).to_rfc3339()
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    store.insert_alert(&alert, &[]).await.unwrap();
    let clock = Arc::new(ManualClock::new(
        (t0 + chrono::Duration::minutes(6)).to_utc(),
    ));
    let cases = Cases::with_clock(store.clone(), clock.clone())
        .await
        .unwrap();
    cases.on_alert(&alert).await.unwrap();
    clock.set((t0 + chrono::Duration::minutes(10)).to_utc());
    cases
        .note(
            "ev-x",
            "<iframe src=//evil.example></iframe>\n- 列表\n# 标题",
            &Actor::duty("王值班"),
        )
        .await
        .unwrap();

    let r = event(&store, &cases, "ev-x", cst()).await.unwrap();
    check_traceable(&r, &store, &cases).await;
    let html = r.to_html();
    for raw in [
        "<script",
        "<img",
        "<iframe",
        "<h1>假标题",
        "<i>",
        "<b>",
        "onmouseover=\"",
        "href=\"javascript",
    ] {
        assert!(!html.contains(raw), "raw {raw} in HTML");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;水还是黄的"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&lt;iframe src=//evil.example&gt;&lt;/iframe&gt;"));
    // The javascript: link is shown as text, never as a link; so is the one with a quote.
    assert!(html.contains("javascript:alert(1)（非 http 链接，未设超链接）"));
    let md = r.to_markdown();
    check_md(&md);
    assert!(md.contains(r"\<script\>alert\(1\)\</script\>水还是黄的"));
    assert!(!md.contains("](javascript") && !md.contains("<javascript"));
    assert!(md.contains(r"\!\[点我\]\(javascript:alert\(5\)\)") || !md.contains("点我"));
}

fn forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

fn report_with(text: &str, url: &str) -> Report {
    let at = t("2026-11-20T09:00:00+08:00");
    let ev = Evidence::item("src", format!("p{}", text.len()));
    Report {
        kind: ReportKind::Event,
        title: text.to_string(),
        generated_at: at,
        period: Period {
            from: at,
            to: at + chrono::Duration::hours(1),
        },
        sections: vec![Section {
            title: text.to_string(),
            blocks: vec![
                Block::Text(Statement::new(text, vec![ev.clone()])),
                Block::Quote(Statement::new(text, vec![ev.clone()])),
                Block::Facts(vec![Fact::new(text, text, vec![ev.clone()])]),
                Block::Table(Table {
                    columns: vec![text.to_string()],
                    rows: vec![Row {
                        cells: vec![text.to_string()],
                        evidence: vec![ev.clone()],
                    }],
                }),
                Block::Note(text.to_string()),
            ],
        }],
        appendix: vec![EvidenceEntry {
            evidence: ev,
            at: Some(at),
            description: text.to_string(),
            url: Some(url.to_string()),
        }],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever a post says, the HTML stays well-formed, holds it as text (every place it is
    /// used), and gains no element or link from it; the Markdown gains no raw markup.
    #[test]
    fn any_text_stays_text(text in "\\PC{0,60}|[<>&\"'`=/ a-z()\\[\\]!|*_#\\\\-]{0,60}|.{0,40}", url in ".{0,40}") {
        let r = report_with(&text, &url);
        let html = r.to_html();
        let doc = roxmltree::Document::parse_with_options(
            &html,
            roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() },
        ).expect("well-formed");
        let expected: String = text
            .chars()
            .map(|c| if forbidden(c) { '\u{fffd}' } else { c })
            .collect();
        let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
        prop_assert_eq!(title.text().unwrap_or(""), expected.as_str());
        let quote = doc.descendants().find(|n| n.has_tag_name("blockquote")).unwrap();
        let p = quote.children().find(|n| n.has_tag_name("p")).unwrap();
        prop_assert_eq!(p.text().unwrap_or(""), expected.as_str());
        let allowed = ["html", "head", "meta", "title", "style", "body", "header", "p", "h1", "h2",
            "main", "section", "span", "a", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "footer"];
        for n in doc.descendants().filter(|n| n.is_element()) {
            prop_assert!(allowed.contains(&n.tag_name().name()), "unexpected <{}>", n.tag_name().name());
            if let Some(h) = n.attribute("href") {
                prop_assert!(h.starts_with('#') || h.starts_with("http://") || h.starts_with("https://")
                    || h.starts_with("HTTP"), "href {}", h);
            }
        }
        let md = r.to_markdown();
        check_md(&md);
    }
}

#[tokio::test]
async fn real_weibo_posts_render_into_traceable_reports() {
    let dir = std::path::Path::new("/work/shared/data/weibo_events/stance_posts");
    if !dir.exists() {
        println!(
            "skipped: {} is absent (real data lives outside the repository)",
            dir.display()
        );
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    let (store, _tmp) = common::sqlite().await;
    let t0 = t("2024-10-12T08:00:00+08:00");
    let mut items = Vec::new();
    for (fi, path) in files.iter().take(3).enumerate() {
        let text = std::fs::read_to_string(path).unwrap();
        let mut rows = text.lines();
        let header: Vec<&str> = rows
            .next()
            .unwrap()
            .trim_start_matches('\u{feff}')
            .split(',')
            .collect();
        let (bid, nick, body) = (
            header.iter().position(|h| *h == "bid").unwrap(),
            header.iter().position(|h| *h == "用户昵称").unwrap(),
            header.iter().position(|h| *h == "微博正文").unwrap(),
        );
        for (i, line) in rows.take(120).enumerate() {
            // Simple CSV: skip rows whose text holds quoted commas.
            let cols: Vec<&str> = line.split(',').collect();
            if cols.len() != header.len() || cols[body].trim().is_empty() {
                continue;
            }
            let mut j = judged(
                cols[bid],
                cols[body],
                Some(cols[nick]),
                Some(&format!("https://weibo.com/detail/{}", cols[bid])),
                t0 + chrono::Duration::minutes((fi * 200 + i) as i64),
                &format!("ev-real-{fi}"),
            );
            j.analysis.sentiment = ((i % 21) as f64 - 10.0) / 10.0;
            items.push(j);
        }
    }
    assert!(items.len() > 100, "read {} posts", items.len());
    store.put_judged(&items).await.unwrap();
    let clock = Arc::new(ManualClock::new((t0 + chrono::Duration::days(2)).to_utc()));
    let cases = Cases::with_clock(store.clone(), clock).await.unwrap();
    for fi in 0..3 {
        let id = format!("ev-real-{fi}");
        let mine: Vec<&JudgedItem> = items
            .iter()
            .filter(|j| j.analysis.event_id.as_deref() == Some(&id))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let last = mine.last().unwrap().item.observed_at;
        store
            .put_events(&[snapshot(
                &id,
                &mine[0].item.text,
                mine[0],
                mine.len() as u64,
                last,
            )])
            .await
            .unwrap();
        let r = event(&store, &cases, &id, cst()).await.unwrap();
        check_traceable(&r, &store, &cases).await;
        let html = r.to_html();
        check_html(&html);
        let info = r
            .sections
            .iter()
            .flat_map(|s| s.blocks.iter())
            .find_map(|b| match b {
                Block::Facts(fs) => fs
                    .iter()
                    .find(|f| f.label == "信息量")
                    .map(|f| f.value.clone()),
                _ => None,
            })
            .unwrap();
        let distinct: std::collections::HashSet<&str> =
            mine.iter().map(|j| j.item.id.as_str()).collect();
        assert!(
            info.starts_with(&format!("{} 条信息", distinct.len())),
            "{info}"
        );
    }
}
