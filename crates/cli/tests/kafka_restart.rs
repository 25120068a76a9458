//! Over a real Kafka-protocol broker and PostgreSQL: an analyze process stops mid-incident and a
//! new one takes over. The new process rebuilds the open events from the shared store, so every
//! item lands in the same event as in a replay of the same input — the incident is not split into
//! a second event (which would raise a second "new" alert).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{bin, item_record, items, wait_for, write_jsonl, Daemon, KafkaPipeline};
use yuqing_bus::Bus;

fn key(v: &serde_json::Value) -> String {
    let observed = v["observed_at"]
        .as_str()
        .or(v["published_at"].as_str())
        .unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(observed).unwrap();
    format!(
        "{}|{}|{}",
        v["source"].as_str().unwrap(),
        v["id"].as_str().unwrap(),
        t.timestamp_millis()
    )
}

const WHO: &[&str] = &[
    "据现场目击者说",
    "有网友发帖称",
    "附近商户反映",
    "当地居民告诉记者",
    "一位出租车司机讲",
];
const CLAUSES: &[&str] = &[
    "现场浓烟滚滚",
    "有人员受伤送医",
    "消防车正在赶往现场",
    "空气中有刺鼻气味",
    "附近居民连夜转移",
    "周边道路已经封闭",
];

/// One incident reported by many independent posts (no thread links) on three platforms, between
/// routine posts: only the event tracker's state ties a later report to the earlier ones.
fn reports(n: usize, start: chrono::DateTime<chrono::FixedOffset>) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| {
            let t = (start + chrono::Duration::seconds(6 * i as i64)).to_rfc3339();
            if i % 3 == 0 {
                let (source, platform) =
                    [("t-weibo", "weibo"), ("t-news", "news"), ("t-forum", "forum")][i / 3 % 3];
                serde_json::json!({
                    "id": format!("report-{i}"), "source": source, "platform": platform,
                    "text": format!("{}，宜春市袁州区化工园区一工厂发生爆炸，{}，{}。",
                        WHO[i % WHO.len()], CLAUSES[i % CLAUSES.len()], CLAUSES[(i / 2 + 1) % CLAUSES.len()]),
                    "published_at": t, "author": format!("user{}", i % 17)})
            } else {
                let text = [
                    "今天天气不错，带孩子去公园散步",
                    "请问办理居住证需要哪些材料",
                    "建议图书馆周末延长开放时间",
                ][i % 3];
                serde_json::json!({
                    "id": format!("calm-{i}"), "source": "t-forum", "platform": "forum",
                    "text": text, "published_at": t})
            }
        })
        .collect()
}

#[test]
fn a_restarted_analyze_process_continues_the_open_events() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kp = KafkaPipeline::start(&rt, dir.path(), "kafka-restart", 1, "", "");
    let args = kp.args("analyze");

    // Event time ends about now, inside the window the new process rebuilds.
    let start = chrono::Utc::now().fixed_offset() - chrono::Duration::minutes(12);
    let mut all = items(150, start, 4);
    all.extend(reports(120, start));
    all.sort_by_key(|v| {
        let t = v["observed_at"]
            .as_str()
            .or(v["published_at"].as_str())
            .unwrap()
            .to_string();
        chrono::DateTime::parse_from_rfc3339(&t).unwrap()
    });
    let half = all.len() / 2;

    let bus_cfg = kp.bus_config();
    let produce = |part: &[serde_json::Value]| {
        rt.block_on(async {
            let bus = Bus::connect(&bus_cfg).await.unwrap();
            let records = part.iter().map(item_record).collect();
            bus.producer().send_all(records).await.unwrap();
        })
    };
    let store = rt.block_on(yuqing_store::Store::open(&kp.db.url)).unwrap();
    let judged = || rt.block_on(store.count_judged()).unwrap() as usize;

    let first = Daemon::start(&args, dir.path(), "first");
    produce(&all[..half]);
    wait_for(Duration::from_secs(120), "the first half judged", || {
        (judged() >= half).then_some(())
    });
    // A graceful stop commits the consumed offsets, so the new process starts after them: only
    // the store can tell it about the events the first half opened. (After a SIGKILL, the
    // uncommitted tail is redelivered on top of that.)
    assert!(first.terminate().success());

    let second = Daemon::start(&args, dir.path(), "second");
    produce(&all[half..]);
    wait_for(Duration::from_secs(120), "every item judged", || {
        (judged() >= all.len()).then_some(())
    });
    let log = second.log_text();
    assert!(
        log.contains("Rebuilt the open events from the store."),
        "the new process rebuilt its events:\n{log}"
    );
    assert!(second.terminate().success());

    let stored: HashMap<String, String> = rt
        .block_on(store.judged_after(0, 10_000))
        .unwrap()
        .into_iter()
        .map(|(_, j)| {
            let k = format!(
                "{}|{}|{}",
                j.item.source,
                j.item.id,
                j.item.observed_at.timestamp_millis()
            );
            (k, j.analysis.event_id.unwrap_or_default())
        })
        .collect();
    assert_eq!(stored.len(), all.len(), "every observation stored once");

    // The same input replayed in one process: the events every item belongs to.
    let input = dir.path().join("items.jsonl");
    write_jsonl(&input, &all);
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, "name = \"replay\"\n").unwrap();
    let out = dir.path().join("replay");
    let st = std::process::Command::new(bin())
        .args(["replay", "--config"])
        .arg(&plain)
        .arg("--input")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let replayed: HashMap<String, String> = common::jsonl(&out.join("scored.jsonl"))
        .iter()
        .map(|j| {
            (
                key(j),
                j["analysis"]["event_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The reports are one incident: the replay puts them in one event (else this test would
    // not be about the tracker's state).
    let report_events: std::collections::HashSet<&String> = replayed
        .iter()
        .filter(|(k, _)| k.contains("|report-"))
        .map(|(_, e)| e)
        .collect();
    assert_eq!(report_events.len(), 1, "{report_events:?}");
    let differ: Vec<_> = replayed
        .iter()
        .filter(|(k, e)| stored.get(*k) != Some(*e))
        .map(|(k, e)| format!("{k}: replay {e}, kafka {:?}", stored.get(k)))
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} items landed in another event than in the replay:\n{}",
        differ.len(),
        replayed.len(),
        differ.join("\n")
    );
}
