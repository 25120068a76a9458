//! Delivery under pressure, on simulated time: floods become rate-limited digests with nothing
//! lost, a receiver that is down gets everything once it is back and nothing twice, what still
//! fails goes to the dead letter, and "too fast" backs off longer.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use parking_lot::Mutex;
use tokio::time::Instant;
use yuqing_core::{Alert, Grade};
use yuqing_sinks::{Dispatcher, Outcome, Submission};

/// Checks that no window of length `per` holds more than `max` of the (sorted) arrivals.
fn assert_rate(arrivals: &[Instant], max: usize, per: Duration, what: &str) {
    for (i, t) in arrivals.iter().enumerate() {
        let n = arrivals[i..].iter().take_while(|u| **u < *t + per).count();
        assert!(
            n <= max,
            "{what}: {n} requests within {per:?} (limit {max})"
        );
    }
}

/// Alert ids per accepted request, in order of appearance.
fn ids_per_message(reqs: &[Recorded], text_of: impl Fn(&Recorded) -> String) -> Vec<Vec<String>> {
    reqs.iter()
        .filter(|r| r.accepted())
        .map(|r| alert_ids(&text_of(r)))
        .collect()
}

/// Every id of `expected` appears in exactly one message, and nothing else appears.
fn assert_exactly_once(messages: &[Vec<String>], expected: &[String], what: &str) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (m, ids) in messages.iter().enumerate() {
        let mut in_this = std::collections::HashSet::new();
        for id in ids {
            if in_this.insert(id.as_str()) {
                if let Some(prev) = seen.insert(id, m) {
                    panic!("{what}: {id} in messages {prev} and {m}");
                }
            }
        }
    }
    for id in expected {
        assert!(
            seen.contains_key(id.as_str()),
            "{what}: {id} never delivered"
        );
    }
    assert_eq!(seen.len(), expected.len(), "{what}: unexpected ids");
}

fn wecom_text(r: &Recorded) -> String {
    r.json()["markdown"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}
fn dingtalk_text(r: &Recorded) -> String {
    r.json()["markdown"]["text"].as_str().unwrap().to_string()
}
fn feishu_text(r: &Recorded) -> String {
    r.json()["card"]["elements"][0]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(start_paused = true)]
async fn a_flood_reaches_every_chat_sink_as_rate_limited_digests_with_nothing_lost() {
    let wx = Receiver::robot_ok().await;
    let dd = Receiver::robot_ok().await;
    let fs = Receiver::feishu_ok().await;
    let d = Dispatcher::builder(sinks(&format!(
        r#"
        [[sinks]]
        kind = "wecom"
        id = "wx"
        all = true
        key = "k"
        endpoint = "{}"
        timeout = "10m"
        [[sinks]]
        kind = "dingtalk"
        id = "dd"
        all = true
        access_token = "t"
        secret = "SECflood"
        endpoint = "{}"
        timeout = "10m"
        [[sinks]]
        kind = "feishu"
        id = "fs"
        all = true
        token = "t"
        secret = "s"
        endpoint = "{}"
        timeout = "10m"
        "#,
        wx.url("/wx"),
        dd.url("/dd"),
        fs.url("/fs"),
    )))
    .clock(clock())
    .build()
    .unwrap();

    // 10,000 alerts within one simulated minute: 167 per second.
    let alerts: Vec<Alert> = (0..10_000).map(flood_alert).collect();
    let grade_of: HashMap<String, Grade> = alerts
        .iter()
        .map(|a| (a.alert_id.clone(), a.grade))
        .collect();
    let ids: Vec<String> = alerts.iter().map(|a| a.alert_id.clone()).collect();
    let mut submissions: Vec<Submission> = Vec::new();
    for chunk in alerts.chunks(167) {
        submissions.push(d.submit(chunk.to_vec()).await);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut merged = 0usize;
    let mut total = 0usize;
    for s in submissions {
        for del in s.wait().await.deliveries {
            total += 1;
            match del.outcome {
                Outcome::Delivered { merged: m, .. } => merged += usize::from(m),
                other => panic!("{} → {}: {other:?}", del.alert_id, del.sink_id),
            }
        }
    }
    assert_eq!(total, 30_000, "every alert at every sink");
    assert!(
        merged > 29_000,
        "a flood goes out as digests ({merged} merged)"
    );

    for (name, rx, text_of, limit) in [
        (
            "wecom",
            &wx,
            wecom_text as fn(&Recorded) -> String,
            4096usize,
        ),
        ("dingtalk", &dd, dingtalk_text, 20_000),
        ("feishu", &fs, feishu_text, 20_000),
    ] {
        let reqs = rx.take();
        assert!(reqs.iter().all(|r| r.accepted()));
        let messages = ids_per_message(&reqs, text_of);
        assert_exactly_once(&messages, &ids, name);
        // Size limits: 企业微信 counts the content, 钉钉 and 飞书 the body.
        for r in &reqs {
            let size = if name == "wecom" {
                text_of(r).len()
            } else {
                r.body.len()
            };
            assert!(size <= limit, "{name}: {size} bytes > {limit}");
        }
        // Most severe first within every digest.
        for ids in &messages {
            let sev: Vec<u8> = ids.iter().map(|id| grade_of[id].severity()).collect();
            assert!(sev.windows(2).all(|w| w[0] >= w[1]), "{name}: {sev:?}");
        }
        let arrivals: Vec<Instant> = reqs.iter().map(|r| r.at).collect();
        match name {
            "feishu" => {
                assert_rate(&arrivals, 100, Duration::from_secs(60), name);
                assert_rate(&arrivals, 5, Duration::from_secs(1), name);
            }
            _ => assert_rate(&arrivals, 20, Duration::from_secs(60), name),
        }
        println!("{name}: 10000 alerts in {} messages", reqs.len());
    }
    // The digest counter saw (almost) every alert of the flood at each sink.
    let metrics = yuqing_core::telemetry::render();
    for sink in ["wx", "dd", "fs"] {
        let line = metrics
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "yuqing_alert_digest_merged_total{{sink=\"{sink}\"}}"
                ))
            })
            .unwrap_or_else(|| panic!("no digest metric for {sink}"));
        let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(n >= 9_000.0, "{line}");
        let value = |prefix: String| -> f64 {
            metrics
                .lines()
                .find(|l| l.starts_with(&prefix))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no series {prefix}"))
        };
        let delivered = value(format!(
            "yuqing_alert_deliveries_total{{outcome=\"delivered\",sink=\"{sink}\"}}"
        ));
        assert!(delivered >= 10_000.0, "{sink}: {delivered}");
        let waits = value(format!(
            "yuqing_alert_ratelimit_waits_total{{sink=\"{sink}\"}}"
        ));
        assert!(waits > 0.0, "{sink} never waited for its rate limit");
        let count = value(format!(
            "yuqing_alert_delivery_duration_seconds_count{{sink=\"{sink}\"}}"
        ));
        assert!(count >= 1.0);
    }
    d.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(start_paused = true)]
async fn a_receiver_answering_500_for_a_while_gets_everything_once() {
    let start = Instant::now();
    // Down (HTTP 500) for the first three minutes.
    let rx = Receiver::start(move |_| {
        if start.elapsed() < Duration::from_secs(180) {
            (500, "upstream unavailable".to_string())
        } else {
            (200, r#"{"errcode":0,"errmsg":"ok"}"#.to_string())
        }
    })
    .await;
    let dead = Arc::new(Collect::default());
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"wecom\"\nid = \"wx\"\nall = true\nkey = \"k\"\nendpoint = \"{}\"\ntimeout = \"10m\"",
        rx.url("/send")
    )))
    .clock(clock())
    .dead_letter(dead.clone())
    .build()
    .unwrap();
    let alerts: Vec<Alert> = (0..60).map(flood_alert).collect();
    let ids: Vec<String> = alerts.iter().map(|a| a.alert_id.clone()).collect();
    let mut subs = Vec::new();
    for a in alerts {
        subs.push(d.submit([a]).await);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    for s in subs {
        let report = s.wait().await;
        assert!(report.all_delivered(), "{report:?}");
    }
    let reqs = rx.take();
    assert!(
        reqs.iter().any(|r| r.status == 500),
        "the receiver was down"
    );
    assert_exactly_once(
        &ids_per_message(&reqs, wecom_text),
        &ids,
        "wecom after 500s",
    );
    assert!(dead.got.lock().is_empty());
    // Failed attempts count against the robot's limit too.
    let arrivals: Vec<Instant> = reqs.iter().map(|r| r.at).collect();
    assert_rate(&arrivals, 20, Duration::from_secs(60), "wecom with retries");
    d.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(start_paused = true)]
async fn a_receiver_refusing_connections_for_a_while_gets_everything_once() {
    let start = Instant::now();
    // Reserve a port, then close it: connections are refused until the receiver starts.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let requests: Arc<Mutex<Vec<Recorded>>> = Default::default();
    let log = requests.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(150)).await;
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        Receiver::serve(
            listener,
            Arc::new(Mutex::new(Box::new(|_: &Recorded| {
                (200, r#"{"code":0,"msg":"success","data":{}}"#.to_string())
            }))),
            log,
        );
    });
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"feishu\"\nid = \"fs\"\nall = true\ntoken = \"t\"\nendpoint = \"http://{addr}/hook\"\ntimeout = \"10m\""
    )))
    .clock(clock())
    .build()
    .unwrap();
    let alerts: Vec<Alert> = (0..300).map(flood_alert).collect();
    let ids: Vec<String> = alerts.iter().map(|a| a.alert_id.clone()).collect();
    let mut subs = Vec::new();
    for chunk in alerts.chunks(10) {
        subs.push(d.submit(chunk.to_vec()).await);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for s in subs {
        let report = s.wait().await;
        assert!(report.all_delivered(), "{report:?}");
    }
    let reqs = requests.lock().clone();
    assert!(reqs.first().unwrap().at >= start + Duration::from_secs(150));
    assert_exactly_once(
        &ids_per_message(&reqs, feishu_text),
        &ids,
        "feishu after refusals",
    );
    d.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(start_paused = true)]
async fn what_still_fails_goes_to_the_dead_letter_and_can_be_resent() {
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let h = healthy.clone();
    let rx = Receiver::start(move |_| {
        if h.load(std::sync::atomic::Ordering::SeqCst) {
            (200, r#"{"errcode":0,"errmsg":"ok"}"#.to_string())
        } else {
            (503, "maintenance".to_string())
        }
    })
    .await;
    let dead = Arc::new(Collect::default());
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"dingtalk\"\nid = \"dd\"\nall = true\naccess_token = \"t\"\nendpoint = \"{}\"\nretry = {{ attempts = 4, initial_backoff = \"2s\", max_backoff = \"10s\" }}",
        rx.url("/robot/send")
    )))
    .clock(clock())
    .dead_letter(dead.clone())
    .build()
    .unwrap();
    let alert = sample();
    let report = d.deliver([alert.clone()]).await;
    match &report.deliveries[0].outcome {
        Outcome::Failed {
            error_type,
            dead_lettered,
            error,
        } => {
            assert_eq!(*error_type, "http_5xx");
            assert!(dead_lettered);
            assert!(error.contains("503"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    let reqs = rx.take();
    assert_eq!(reqs.len(), 4, "the retry budget is 4 attempts");
    // Exponential backoff with jitter: gaps of 1–2 s, 2–4 s, 4–8 s.
    let gaps: Vec<Duration> = reqs.windows(2).map(|w| w[1].at - w[0].at).collect();
    for (gap, (lo, hi)) in gaps.iter().zip([(1, 2), (2, 4), (4, 8)]) {
        assert!(
            *gap >= Duration::from_secs(lo) && *gap <= Duration::from_secs(hi),
            "{gaps:?}"
        );
    }
    let got = dead.got.lock().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "dd");
    assert_eq!(got[0].1, vec![alert.alert_id.clone()]);
    assert!(got[0].2.contains("503"), "{}", got[0].2);
    // The daemon re-sends from its outbox once the channel is healthy again.
    healthy.store(true, std::sync::atomic::Ordering::SeqCst);
    let again = d
        .submit_to("dd", [alert.clone()])
        .await
        .unwrap()
        .wait()
        .await;
    assert!(again.all_delivered());
    assert!(d.submit_to("nope", [alert]).await.is_err());
    d.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(start_paused = true)]
async fn too_fast_answers_back_off_for_the_throttle_period() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    let rx = Receiver::start(move |_| {
        if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            (
                200,
                r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#
                    .to_string(),
            )
        } else {
            (200, r#"{"errcode":0,"errmsg":"ok"}"#.to_string())
        }
    })
    .await;
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"dingtalk\"\nid = \"dd\"\nall = true\naccess_token = \"t\"\nendpoint = \"{}\"\ntimeout = \"10m\"",
        rx.url("/robot/send")
    )))
    .clock(clock())
    .build()
    .unwrap();
    let report = d.deliver([sample()]).await;
    assert!(report.all_delivered());
    let reqs = rx.take();
    assert_eq!(reqs.len(), 2);
    let gap = reqs[1].at - reqs[0].at;
    // 钉钉 throttles a robot for 10 minutes: wait at least that long (plus up to 10% jitter).
    assert!(
        gap >= Duration::from_secs(600) && gap <= Duration::from_secs(660),
        "{gap:?}"
    );
    d.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_reports_what_was_not_sent_without_dead_lettering_it() {
    let rx = Receiver::start(|_| (500, String::new())).await;
    let dead = Arc::new(Collect::default());
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"wecom\"\nid = \"wx\"\nall = true\nkey = \"k\"\nendpoint = \"{}\"",
        rx.url("/send")
    )))
    .clock(clock())
    .dead_letter(dead.clone())
    .build()
    .unwrap();
    let sub = d.submit((0..5).map(flood_alert)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    d.shutdown(Duration::from_secs(10)).await;
    let report = sub.wait().await;
    assert_eq!(report.deliveries.len(), 5);
    for del in &report.deliveries {
        match &del.outcome {
            Outcome::Failed {
                error_type,
                dead_lettered,
                ..
            } => {
                assert_eq!(*error_type, "shutdown");
                assert!(!dead_lettered);
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(dead.got.lock().is_empty());
}

#[tokio::test(start_paused = true)]
async fn routes_pick_the_sinks() {
    let a = Receiver::robot_ok().await;
    let b = Receiver::robot_ok().await;
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"wecom\"\nid = \"health\"\nkey = \"k\"\nendpoint = \"{}\"\n\
         [[sinks]]\nkind = \"wecom\"\nid = \"police\"\nkey = \"k\"\nendpoint = \"{}\"",
        a.url("/a"),
        b.url("/b")
    )))
    .clock(clock())
    .build()
    .unwrap();
    let mut x = flood_alert(1);
    x.extra
        .insert("route".into(), serde_json::json!(["health"]));
    let mut y = flood_alert(2);
    y.extra
        .insert("route".into(), serde_json::json!(["health", "police"]));
    let z = flood_alert(3); // no route: nobody
    assert_eq!(d.routes(&y), ["health", "police"]);
    let report = d.deliver([x.clone(), y.clone(), z]).await;
    assert_eq!(report.deliveries.len(), 3);
    assert!(report.all_delivered());
    let at_a: Vec<String> = a
        .take()
        .iter()
        .flat_map(|r| alert_ids(&wecom_text(r)))
        .collect();
    let at_b: Vec<String> = b
        .take()
        .iter()
        .flat_map(|r| alert_ids(&wecom_text(r)))
        .collect();
    assert_eq!(at_a.len(), 2);
    assert!(at_a.contains(&x.alert_id) && at_a.contains(&y.alert_id));
    assert_eq!(at_b, vec![y.alert_id.clone()]);
    d.shutdown(Duration::from_secs(5)).await;
}
