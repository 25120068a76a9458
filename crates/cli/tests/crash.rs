//! SIGKILL the daemon mid-stream and restart it: nothing accepted is lost, and no alert is
//! emitted twice — and the alerts are exactly those a replay of the same input gives.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{bin, http, items, jsonl, wait_for, write_jsonl, Daemon};

const TOKEN: &str = "crash-test-token-0123456789";

fn pipeline(dir: &std::path::Path, hook: &str) -> std::path::PathBuf {
    let p = dir.join("pipeline.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"crash\"\n[api]\ningest_tokens = [\"{TOKEN}\"]\n\n\
             [[sinks]]\nkind = \"file\"\nid = \"log\"\nall = true\npath = \"alerts.jsonl\"\n\n\
             [[sinks]]\nkind = \"webhook\"\nid = \"hook\"\nall = true\nurl = \"{hook}\"\n"
        ),
    )
    .unwrap();
    p
}

/// A webhook receiver that outlives the daemons: every POST's `Idempotency-Key`, body and arrival.
type Received = Arc<Mutex<Vec<(String, serde_json::Value, Instant)>>>;

fn receiver(rt: &tokio::runtime::Runtime) -> (String, Received) {
    let got: Received = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let g = g.clone();
                async move {
                    let key = headers
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let v = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    g.lock().unwrap().push((key, v, Instant::now()));
                    "ok"
                }
            },
        ),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}/hook"), got)
}

fn push(client: &reqwest::blocking::Client, d: &Daemon, batch: &[serde_json::Value]) -> bool {
    let body: String = batch.iter().map(|v| format!("{v}\n")).collect();
    match client
        .post(d.url("/ingest"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
    {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    }
}

#[test]
fn sigkill_mid_stream_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (hook, received) = receiver(&rt);
    let cfg = pipeline(dir.path(), &hook);
    // Event time ends about now: the daemon's clock-driven deadline checks then find nothing
    // due yet (the first reminder comes 30 minutes after first sight), like a replay, which
    // checks deadlines only at event times.
    let start = chrono::Utc::now().fixed_offset() - chrono::Duration::minutes(10);
    let all = items(600, start, 1);
    let args = [
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let client = http();

    let d = Daemon::start(&args, dir.path(), "first");
    let mut accepted = 0;
    for chunk in all[..300].chunks(25) {
        assert!(push(&client, &d, chunk), "ingest failed:\n{}", d.log_text());
        accepted += chunk.len();
    }
    // Kill while the pipeline is busy with what was just accepted.
    let killed = Instant::now();
    d.kill();

    let d = Daemon::start(&args, dir.path(), "second");
    for chunk in all[300..].chunks(25) {
        assert!(
            push(&client, &d, chunk),
            "ingest failed after restart:\n{}",
            d.log_text()
        );
        accepted += chunk.len();
    }
    assert_eq!(accepted, all.len());
    // Wait until every accepted observation is judged.
    let store_url = format!("sqlite://{}", data.join("yuqing.db").display());
    let store = rt.block_on(yuqing_store::Store::open(&store_url)).unwrap();
    wait_for(
        Duration::from_secs(60),
        "every accepted item judged",
        || {
            let judged = rt.block_on(store.count_judged()).unwrap();
            (judged == all.len() as i64).then_some(())
        },
    );
    // Give delivery a moment to drain, then stop gracefully.
    std::thread::sleep(Duration::from_secs(3));
    assert!(d.terminate().success());

    let logged = jsonl(&data.join("alerts.jsonl"));
    let ids: Vec<&str> = logged
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap())
        .collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "an alert reached the sink twice: {ids:?}"
    );
    assert!(!unique.is_empty(), "the incident raised alerts");

    // The same input replayed gives the same alerts: none lost to the crash.
    let input = dir.path().join("items.jsonl");
    write_jsonl(&input, &all);
    let out = dir.path().join("replay");
    let st = std::process::Command::new(bin())
        .args(["replay", "--config"])
        .arg(&cfg)
        .arg("--input")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let replayed: HashSet<String> = jsonl(&out.join("alerts.jsonl"))
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap().to_string())
        .collect();
    let live: HashSet<String> = unique.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        live, replayed,
        "live alerts after a crash differ from the replay"
    );

    // The webhook got every alert, each under its own id as the Idempotency-Key: a receiver that
    // deduplicates by that key sees each alert exactly once. Without deduplication, only an alert
    // whose POST was accepted just before the SIGKILL, before the outbox recorded it, can arrive
    // a second time; one delivered earlier never is.
    let got = received.lock().unwrap().clone();
    let mut first: std::collections::HashMap<&str, Instant> = std::collections::HashMap::new();
    for (key, body, at) in &got {
        assert_eq!(
            body["alert_id"].as_str(),
            Some(key.as_str()),
            "Idempotency-Key is the alert id"
        );
        let seen = first.entry(key.as_str()).or_insert(*at);
        if seen != at {
            assert!(
                *seen + Duration::from_secs(5) > killed,
                "{key} was delivered {:?} before the kill and sent again",
                killed.duration_since(*seen)
            );
        }
    }
    let keys: HashSet<String> = first.keys().map(|k| k.to_string()).collect();
    assert_eq!(keys, replayed, "the webhook got every alert");
    eprintln!(
        "webhook: {} posts, {} alerts, {} repeated",
        got.len(),
        keys.len(),
        got.len() - keys.len()
    );
}
