//! Shared helpers: stores on both backends filled from the fixture incident
//! (`fixtures/report/`) with the store API and the case workflow, and lookups that check a
//! report's evidence against the store.
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;
use yuqing_cases::{Actor, Cases, CasesConfig, Channel, Response};
use yuqing_core::{Alert, Event, JudgedItem, ManualClock};
use yuqing_report::{verify, Block, Evidence, Report};
use yuqing_store::Store;
use yuqing_testkit::PgDatabase;

/// The main incident (tap water), closed on the 21st.
pub const WATER: &str = "ev-d05f7eb66e4e998a";
/// The wage complaint: accepted late, still open.
pub const WAGES: &str = "ev-eed9bf6f536be949";
/// The official statement and the news report (an event without alerts).
pub const STATEMENT: &str = "ev-c2a5dde8191e166c";

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/report")
}

pub fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

pub fn cst() -> FixedOffset {
    yuqing_core::clock::cst()
}

fn lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(fixture_dir().join(name))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

pub fn scored() -> Vec<JudgedItem> {
    lines("scored.jsonl")
        .iter()
        .map(|l| JudgedItem::from_json(l.as_bytes()).unwrap())
        .collect()
}

pub fn events() -> Vec<Event> {
    lines("events.jsonl")
        .iter()
        .map(|l| Event::from_json(l.as_bytes()).unwrap())
        .collect()
}

pub fn alerts() -> Vec<Alert> {
    lines("alerts.jsonl")
        .iter()
        .map(|l| Alert::from_json(l.as_bytes()).unwrap())
        .collect()
}

/// A store on a fresh SQLite file (the tempdir must outlive it).
pub async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("y.db").display());
    (Store::open(&url).await.unwrap(), dir)
}

/// A store on a fresh PostgreSQL database.
pub async fn postgres() -> (Store, PgDatabase) {
    let db = PgDatabase::create().await;
    (Store::open(&db.url).await.unwrap(), db)
}

pub struct Loaded {
    pub cases: Cases,
    pub clock: Arc<ManualClock>,
}

/// The case settings of the fixture pipeline.
pub fn cases_config() -> CasesConfig {
    CasesConfig {
        departments: vec!["县水务局".into(), "人力资源和社会保障局".into()],
        ..CasesConfig::default()
    }
}

/// Fills `store` with the incident as the daemon would: judged items and event snapshots, then
/// alerts (stored, grading the event, applied to cases) and the duty room's steps in event-time
/// order on a manual clock — everything up to `end`; leaves the clock at `end`.
pub async fn load(store: &Store, end: &str) -> Loaded {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T07:00:00+08:00").to_utc()));
    let cases = Cases::with_clock(store.clone(), clock.clone())
        .await
        .unwrap()
        .configure(&cases_config(), &[]);
    let end_t = t(end);
    let items: Vec<JudgedItem> = scored()
        .into_iter()
        .filter(|j| j.item.observed_at <= end_t)
        .collect();
    store.put_judged(&items).await.unwrap();
    let snapshots: Vec<Event> = events()
        .into_iter()
        .filter(|e| e.updated_at <= end_t)
        .collect();
    store.put_events(&snapshots).await.unwrap();
    enum Step {
        Alert(Box<Alert>),
        Act(Value),
    }
    let mut steps: Vec<(DateTime<FixedOffset>, Step)> = alerts()
        .into_iter()
        .map(|a| (a.at, Step::Alert(Box::new(a))))
        .collect();
    let workflow: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(fixture_dir().join("workflow.json")).unwrap(),
    )
    .unwrap();
    for w in workflow {
        steps.push((t(w["at"].as_str().unwrap()), Step::Act(w)));
    }
    steps.retain(|s| s.0 <= end_t);
    steps.sort_by_key(|s| s.0);
    for (at, step) in steps {
        clock.set(at.to_utc());
        match step {
            Step::Alert(a) => {
                store.insert_alert(&a, &["duty".to_string()]).await.unwrap();
                store
                    .set_event_grade(&a.event_id, a.grade.as_str())
                    .await
                    .unwrap();
                cases.on_alert(&a).await.unwrap();
            }
            Step::Act(w) => {
                let s = |k: &str| w[k].as_str().unwrap_or_default().to_string();
                let ev = s("event");
                let duty = Actor::duty(s("actor"));
                match s("action").as_str() {
                    "accept" => {
                        cases.accept(&ev, &duty).await.unwrap();
                    }
                    "assign" => {
                        cases.assign(&ev, &s("department"), &duty).await.unwrap();
                    }
                    "reassign" => {
                        cases
                            .reassign(&ev, &s("department"), &s("reason"), &duty)
                            .await
                            .unwrap();
                    }
                    "feedback" => {
                        let user = Actor::department(s("actor"), s("department"));
                        cases.feedback(&ev, &s("text"), &user).await.unwrap();
                    }
                    "respond" => {
                        let r = Response {
                            channel: Channel::parse(&s("channel")).unwrap(),
                            link: Some(s("link")),
                            at: t(&s("published")),
                        };
                        cases.respond(&ev, &r, &duty).await.unwrap();
                    }
                    "note" => {
                        cases.note(&ev, &s("text"), &duty).await.unwrap();
                    }
                    "close" => {
                        cases.close(&ev, None, &duty).await.unwrap();
                    }
                    other => panic!("unknown step {other}"),
                }
            }
        }
    }
    clock.set(t(end).to_utc());
    Loaded { cases, clock }
}

/// Every item key (`source/id`) in the store.
pub async fn item_keys(store: &Store) -> HashSet<String> {
    store
        .items_after(0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, i)| format!("{}/{}", i.source, i.id))
        .collect()
}

/// Looks one piece of evidence up through the public APIs of the store and the workflow.
pub async fn exists(store: &Store, cases: &Cases, keys: &HashSet<String>, e: &Evidence) -> bool {
    match e {
        Evidence::Item { source, id } => keys.contains(&format!("{source}/{id}")),
        Evidence::Event { id } => store.event(id).await.unwrap().is_some(),
        Evidence::Alert { id } => store.alert(id).await.unwrap().is_some(),
        Evidence::Case { id } => cases.show(id).await.is_ok(),
        Evidence::Audit { case_id, id } => cases
            .audit(case_id)
            .await
            .map(|log| log.iter().any(|a| a.id == *id))
            .unwrap_or(false),
    }
}

/// Parses the HTML as XML (it is written to be both), checks that it holds no active content
/// and that every internal link resolves; returns the appendix's evidence.
pub fn check_html(html: &str) -> Vec<Evidence> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(html, opts)
        .unwrap_or_else(|e| panic!("HTML is not well-formed: {e}"));
    let ids: HashSet<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("id"))
        .collect();
    let mut links = 0;
    for n in doc.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        assert!(
            !matches!(
                name,
                "script" | "iframe" | "object" | "embed" | "form" | "base"
            ),
            "active element <{name}>"
        );
        for a in n.attributes() {
            assert!(
                !a.name().to_ascii_lowercase().starts_with("on"),
                "event handler attribute {}",
                a.name()
            );
        }
        if let Some(href) = n.attribute("href") {
            if let Some(target) = href.strip_prefix('#') {
                assert!(ids.contains(target), "dangling link #{target}");
                links += 1;
            } else {
                assert!(
                    href.starts_with("https://") || href.starts_with("http://"),
                    "unsafe href {href}"
                );
            }
        }
    }
    assert!(links > 0, "evidence links to the appendix");
    assert!(html.contains("Content-Security-Policy"));
    let appendix = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("appendix"))
        .expect("appendix section");
    appendix
        .descendants()
        .filter(|n| n.tag_name().name() == "tr" && n.attribute("id").is_some())
        .map(|tr| {
            let first = tr
                .children()
                .find(|c| c.tag_name().name() == "td")
                .expect("a cell");
            let text: String = first
                .descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect();
            let e = Evidence::parse(&text).unwrap_or_else(|| panic!("evidence id {text}"));
            assert_eq!(tr.attribute("id"), Some(e.anchor().as_str()), "{text}");
            e
        })
        .collect()
}

pub fn md_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut esc = false;
    for c in s.chars() {
        if c == '\\' && !esc {
            esc = true;
            continue;
        }
        esc = false;
        out.push(c);
    }
    out
}

/// Checks the Markdown's links against its anchors; returns the appendix's evidence.
pub fn check_md(md: &str) -> Vec<Evidence> {
    let mut anchors = HashSet::new();
    let mut evidence = Vec::new();
    for line in md.lines() {
        if let Some(rest) = line.strip_prefix("| <a id=\"") {
            let (anchor, rest) = rest.split_once("\"></a>").expect("anchor");
            let cell = rest.split(" | ").next().unwrap();
            let e =
                Evidence::parse(&md_unescape(cell)).unwrap_or_else(|| panic!("evidence id {cell}"));
            assert_eq!(e.anchor(), anchor);
            anchors.insert(anchor.to_string());
            evidence.push(e);
        }
    }
    let mut links = 0;
    for (i, _) in md.match_indices("](#") {
        let target = &md[i + 3..i + 3 + 18];
        assert!(anchors.contains(target), "dangling link {target}");
        links += 1;
    }
    assert!(links > 0);
    // Nothing from the data becomes raw HTML: the only tags are the appendix anchors.
    for (i, _) in md.match_indices('<') {
        let rest = &md[i..];
        assert!(
            rest.starts_with("<a id=\"x-")
                || rest.starts_with("</a>")
                || rest.starts_with("<https://")
                || rest.starts_with("<http://")
                || md[..i].ends_with('\\'),
            "raw markup in Markdown: {}",
            &rest[..rest.len().min(40)]
        );
    }
    evidence
}

/// Renders both ways and checks that every evidence id — cited and listed — is in the store.
pub async fn check_traceable(r: &Report, store: &Store, cases: &Cases) {
    let keys = item_keys(store).await;
    let html = r.to_html();
    let md = r.to_markdown();
    let from_html = check_html(&html);
    let from_md = check_md(&md);
    assert_eq!(from_html, from_md, "both renderings list the same evidence");
    let cited = r.cited();
    let listed: HashSet<&Evidence> = from_html.iter().collect();
    for c in &cited {
        assert!(listed.contains(c), "{c} is cited but not in the appendix");
    }
    assert_eq!(listed.len(), from_html.len(), "each record listed once");
    for e in &from_html {
        assert!(
            exists(store, cases, &keys, e).await,
            "{e} is not in the store"
        );
    }
    assert!(verify(r, store, cases).await.unwrap().is_empty());
    for b in r.sections.iter().flat_map(|s| s.blocks.iter()) {
        if let Block::Chart(c) = b {
            let doc = roxmltree::Document::parse(&c.svg)
                .unwrap_or_else(|e| panic!("chart {} is not well-formed SVG: {e}", c.title));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            assert_eq!(
                doc.root_element().tag_name().namespace(),
                Some("http://www.w3.org/2000/svg")
            );
            assert!(html.contains(&c.svg), "charts are inline in the HTML");
        }
    }
    // (Markdown: check_md has found no unescaped `<`.)
    assert!(!html.contains("<script"));
}
