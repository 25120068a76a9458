//! Real Weibo posts through the console: posts about real hot events
//! (`shared/data/weibo_events/stance_posts`, read in place, never copied) become items of one
//! event each; the event page, the wall and the event report must render them all, escaped,
//! with every post's excerpt present. Skips (and says so) when the shared data is absent.

mod common;

use std::path::PathBuf;

use axum::http::StatusCode;
use common::{at, World, VIEW};
use serde_json::json;
use yuqing_core::{Alert, Event, JudgedItem};

fn data_dir() -> PathBuf {
    std::env::var_os("YUQING_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

/// What maud writes for a text.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Post {
    bid: String,
    nick: String,
    text: String,
}

fn posts(path: &std::path::Path, max: usize) -> Vec<Post> {
    let mut r = csv::Reader::from_path(path).expect("a readable CSV");
    let mut out = Vec::new();
    for rec in r.records().flatten() {
        let (Some(bid), Some(nick), Some(text)) = (rec.get(1), rec.get(3), rec.get(4)) else {
            continue;
        };
        if text.trim().is_empty() || bid.trim().is_empty() {
            continue;
        }
        out.push(Post {
            bid: bid.to_string(),
            nick: nick.to_string(),
            text: text.to_string(),
        });
        if out.len() == max {
            break;
        }
    }
    out
}

#[tokio::test]
async fn real_weibo_posts_render_escaped_on_every_page() {
    let dir = data_dir().join("weibo_events/stance_posts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "SKIPPED: no shared data at {} (set YUQING_SHARED_DATA)",
            dir.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    files.truncate(4);
    assert!(!files.is_empty(), "no CSV in {}", dir.display());

    let w = World::new().await;
    let mut c = w.login(VIEW).await;
    for (n, file) in files.iter().enumerate() {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let event_id = format!("ev-real-{n}");
        let posts = posts(file, 150);
        assert!(!posts.is_empty(), "{name}: no posts");
        let items: Vec<JudgedItem> = posts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut j: JudgedItem = serde_json::from_value(json!({
                    "id": p.bid, "source": "weibo-real", "platform": "weibo",
                    "text": p.text, "author": p.nick,
                    "url": format!("https://weibo.com/0/{}", p.bid),
                    "published_at": at(i as i64).to_rfc3339(),
                    "analysis": {"sensitivity": 0.5, "sentiment": 0.0, "event_id": event_id}
                }))
                .unwrap();
                j.item.normalize().unwrap();
                j
            })
            .collect();
        w.store.put_judged(&items).await.unwrap();
        let ev: Event = serde_json::from_value(json!({
            "event_id": event_id, "title": name, "first_seen": at(0).to_rfc3339(),
            "first_source": "weibo-real", "last_seen": at(150).to_rfc3339(),
            "updated_at": at(150).to_rfc3339(), "stage": "spreading", "velocity": 60.0,
            "acceleration": 0.0,
            "forecast_peak": {"size": 500.0, "low": 300.0, "high": 900.0, "method": "test"},
            "grade": "III",
            "counts": {"items": posts.len(), "reposts": 0, "comments": 0, "likes": 0, "views": 0,
                       "platforms": 1, "sources": 1, "official": 0, "media": 0},
            "sensitivity": 0.5, "sentiment": 0.0
        }))
        .unwrap();
        w.store.put_events(&[ev]).await.unwrap();
        let a: Alert = common::alert(&event_id, &name, "III", "网信办", 0);
        w.store.insert_alert(&a, &[]).await.unwrap();
        w.cases.on_alert(&a).await.unwrap();

        let r = c.get(&format!("/console/events/{event_id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        let mut distinct: Vec<&str> = posts.iter().map(|p| p.bid.as_str()).collect();
        distinct.sort();
        distinct.dedup();
        assert!(
            r.body.contains(&format!("相关信息（{} 条", distinct.len())),
            "{name}: every post listed"
        );
        for p in &posts {
            let ex = escaped(&yuqing_report::escape::gist(&p.text, 140));
            assert!(r.body.contains(&ex), "{name}: excerpt of {} missing", p.bid);
        }
        let report = c.get(&format!("/console/reports/event/{event_id}")).await;
        assert_eq!(report.status, StatusCode::OK, "{name}: {}", report.body);
        assert!(!report.body.to_ascii_lowercase().contains("<script"));
    }
    let wall = c.get("/console/").await;
    assert_eq!(wall.status, StatusCode::OK);
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        assert!(wall.body.contains(&escaped(&name)), "{name} on the wall");
    }
}
