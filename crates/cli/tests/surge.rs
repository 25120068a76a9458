//! `POST /surge` on a running daemon switches the collectors' surge mode: bearer token required
//! (a missing or wrong one is 401 and changes nothing), a bad body is 400, and the daemon logs the
//! switch (here with `--log-format json`).

mod common;

use std::time::Duration;

use common::{http, metric, wait_for, Daemon};
use serde_json::{json, Value};

const TOKEN: &str = "surge-test-token-0123456789";

fn surge_mode(d: &Daemon) -> f64 {
    let text = http()
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("yuqing_collect_surge_mode ")),
        "the surge gauge is exported"
    );
    metric(&text, "yuqing_collect_surge_mode", &[])
}

#[test]
fn surge_switches_with_the_token_only() {
    let dir = tempfile::tempdir().unwrap();
    let drop_dir = dir.path().join("drop");
    std::fs::create_dir(&drop_dir).unwrap();
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg,
        format!(
            "[api]\ningest_tokens = [\"{TOKEN}\"]\n\
             [[sources]]\nid = \"hotline-drops\"\nkind = \"dir\"\nplatform = \"hotline\"\n\
             path = \"{}\"\ninterval = \"1h\"\n",
            drop_dir.display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let d = Daemon::start(
        &[
            "--log-format",
            "json",
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        dir.path(),
        "surge",
    );
    let client = http();
    wait_for(Duration::from_secs(60), "readyz", || {
        client
            .get(d.url("/readyz"))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    });
    assert_eq!(surge_mode(&d), 0.0);

    let post = |token: Option<&str>, body: &str| {
        let mut r = client
            .post(d.url("/surge"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().unwrap()
    };
    let on = json!({"on": true}).to_string();
    // No token, a wrong token, a token of the right length but wrong: refused, nothing changes.
    for token in [None, Some("wrong"), Some("surge-test-token-0123456788")] {
        let r = post(token, &on);
        assert_eq!(r.status(), 401, "{token:?}");
        let v: Value = r.json().unwrap();
        assert!(v["error"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(surge_mode(&d), 0.0, "{token:?} changed nothing");
    }
    // The right token with a body that is not {"on": bool}: 400, nothing changes.
    for body in ["{not json", "{\"on\": \"yes\"}", "{}"] {
        assert_eq!(post(Some(TOKEN), body).status(), 400, "{body}");
        assert_eq!(surge_mode(&d), 0.0);
    }
    assert!(
        !d.log_text().contains("Surge monitoring switched."),
        "refused requests switch nothing"
    );

    // On, then off.
    let r = post(Some(TOKEN), &on);
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap(), json!({"surge": true}));
    assert_eq!(surge_mode(&d), 1.0);
    let r = post(Some(TOKEN), &json!({"on": false}).to_string());
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap(), json!({"surge": false}));
    assert_eq!(surge_mode(&d), 0.0);

    assert!(d.terminate().success());

    // With --log-format json every log line is a JSON object; the switches are among them.
    let log = std::fs::read_to_string(dir.path().join("surge.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    let switches: Vec<&Value> = lines
        .iter()
        .filter(|v| v["fields"]["message"] == "Surge monitoring switched.")
        .collect();
    assert_eq!(switches.len(), 2, "{log}");
    assert_eq!(switches[0]["fields"]["on"], true);
    assert_eq!(switches[1]["fields"]["on"], false);
    assert!(lines.iter().all(|v| v["level"].is_string()));
}

#[test]
fn surge_without_collectors_is_404() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(&cfg, format!("[api]\ningest_tokens = [\"{TOKEN}\"]\n")).unwrap();
    let data = dir.path().join("data");
    let d = Daemon::start(
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        dir.path(),
        "nosurge",
    );
    let r = http()
        .post(d.url("/surge"))
        .bearer_auth(TOKEN)
        .body("{\"on\": true}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(d.terminate().success());
}
