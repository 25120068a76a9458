//! Real Weibo text through every channel's renderer: the 30 events of
//! `../shared/data/weibo_events/stance_posts` (event names as titles, posts as evidence and, joined,
//! as an oversized title). Nothing is copied into the repository; without the data the test skips.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::*;
use serde_json::Value;
use yuqing_core::{Alert, Reason};
use yuqing_sinks::channel::{BuildContext, Channel, Payload};
use yuqing_sinks::split::{cost_of, json_cost};

fn data_dir() -> Option<PathBuf> {
    let p = match std::env::var_os("YUQING_SHARED_DATA") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    let dir = p.join("weibo_events/stance_posts");
    dir.is_dir().then_some(dir)
}

/// (event name, post texts) per file.
fn events(dir: &PathBuf) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "csv"))
    {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let mut rdr = csv::Reader::from_path(f).unwrap();
        let headers = rdr.headers().unwrap().clone();
        let col = headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == "微博正文");
        let Some(col) = col else { continue };
        let posts: Vec<String> = rdr
            .records()
            .flatten()
            .filter_map(|r| r.get(col).map(str::to_string))
            .filter(|t| !t.trim().is_empty())
            .collect();
        out.push((name, posts));
    }
    out
}

fn channels() -> Vec<(&'static str, Channel)> {
    let cfg = sinks(
        r#"
        [[sinks]]
        kind = "wecom"
        id = "wecom-md"
        key = "k"
        mentioned_list = ["wangqing"]
        [[sinks]]
        kind = "wecom"
        id = "wecom-text"
        key = "k"
        format = "text"
        [[sinks]]
        kind = "dingtalk"
        id = "dingtalk"
        access_token = "t"
        at_mobiles = ["13800001111"]
        [[sinks]]
        kind = "feishu"
        id = "feishu"
        token = "t"
        secret = "s"
        mention_all = true
        "#,
    );
    let cx = BuildContext::new(clock()).unwrap();
    let names = ["wecom-md", "wecom-text", "dingtalk", "feishu"];
    cfg.iter()
        .zip(names)
        .map(|(c, n)| (n, Channel::build(c, &cx).unwrap()))
        .collect()
}

/// The message text of a payload (what splitting cuts), the text shown beside it (飞书's header
/// and note), and the size as the channel counts it.
fn text_and_size(name: &str, p: &Payload) -> (String, String, usize) {
    let Payload::Json(v) = p else {
        panic!("{name}: not JSON")
    };
    let body = serde_json::to_vec(v).unwrap();
    let s = |v: &Value| v.as_str().unwrap().to_string();
    match name {
        "wecom-md" => {
            let t = s(&v["markdown"]["content"]);
            let n = t.len();
            (t, String::new(), n)
        }
        "wecom-text" => {
            let t = s(&v["text"]["content"]);
            let n = t.len();
            (t, String::new(), n)
        }
        // Signatures are added at send time: leave room for them as the renderer does.
        "feishu" => {
            let elements = v["card"]["elements"].as_array().unwrap();
            let note = s(&elements.last().unwrap()["elements"][0]["content"]);
            (
                s(&elements[0]["content"]),
                format!("{}\n{note}", s(&v["card"]["header"]["title"]["content"])),
                body.len() + 96,
            )
        }
        _ => (s(&v["markdown"]["text"]), String::new(), body.len()),
    }
}

fn limit(name: &str) -> usize {
    match name {
        "wecom-md" => 4096,
        "wecom-text" => 2048,
        _ => 20_000,
    }
}

#[test]
fn real_weibo_text_renders_within_every_limit() {
    let Some(dir) = data_dir() else {
        println!("skipped: shared data folder absent (set YUQING_SHARED_DATA)");
        return;
    };
    let events = events(&dir);
    assert!(
        events.len() >= 20,
        "expected the 30 event files, found {}",
        events.len()
    );
    let channels = channels();
    let mut pieces_total = 0;
    let mut digests: Vec<Arc<Alert>> = Vec::new();
    for (i, (name, posts)) in events.iter().enumerate() {
        let mut alert = flood_alert(i);
        alert.title = name.clone();
        alert.reasons = posts
            .iter()
            .take(3)
            .map(|p| Reason::new("event", "cluster", p.as_str()))
            .collect();
        digests.push(Arc::new(alert.clone()));
        // An oversized title: the posts of the event joined (tens of KB of real text).
        let mut long = alert.clone();
        long.title = posts.join(" ");
        for a in [&alert, &long] {
            for (ch_name, ch) in &channels {
                let pieces = ch.render_alert(a, t0()).unwrap();
                let mut joined = String::new();
                let mut besides = String::new();
                for (k, p) in pieces.iter().enumerate() {
                    let (text, beside, size) = text_and_size(ch_name, p);
                    besides.push_str(&beside);
                    assert!(size <= limit(ch_name), "{ch_name}: {size} bytes for {name}");
                    let text = if k == 0 {
                        text
                    } else {
                        let mark = format!("【舆情预警·续 {}/{}】\n", k + 1, pieces.len());
                        text.strip_prefix(&mark)
                            .expect("continuation mark")
                            .to_string()
                    };
                    joined.push_str(&text);
                }
                pieces_total += pieces.len();
                // Nothing lost between pieces: the (one-line) title is there whole, with
                // markup neutralised on the markdown channels.
                let raw = yuqing_sinks::render::one_line(&a.title);
                let neutral = yuqing_sinks::render::plain_for_markup(&a.title);
                let all = format!("{besides}\n{joined}");
                assert!(
                    all.contains(&raw) || all.contains(&neutral),
                    "{ch_name}: title of {name} cut"
                );
                if *ch_name != "wecom-text" {
                    assert!(
                        !joined.contains("<@all>"),
                        "{ch_name}: markup from the title"
                    );
                }
                assert!(all.contains(&a.alert_id), "{ch_name}: id lost for {name}");
            }
        }
    }
    // A digest of all 30 real events fits each channel and lists them all but 企业微信's share.
    yuqing_sinks::render::sort_by_severity(&mut digests);
    for (ch_name, ch) in &channels {
        let (p, n) = ch.render_digest(&digests, t0()).unwrap();
        let (text, beside, size) = text_and_size(ch_name, &p);
        let text = format!("{beside}{text}");
        assert!(size <= limit(ch_name), "{ch_name} digest: {size} bytes");
        for a in &digests[..n] {
            assert!(
                text.contains(&a.alert_id),
                "{ch_name} digest misses {}",
                a.alert_id
            );
        }
        for a in &digests[n..] {
            assert!(
                !text.contains(&a.alert_id),
                "{ch_name} digest lists {} beyond n",
                a.alert_id
            );
        }
        assert!(n >= 10, "{ch_name}: only {n} per digest");
        assert!(cost_of(&text, json_cost) > 0);
    }
    println!("{} events, {pieces_total} messages rendered", events.len());
}
