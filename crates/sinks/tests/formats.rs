//! Every body and every signature, byte for byte, as loopback receivers see them.

mod common;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use yuqing_core::Clock;
use yuqing_sinks::{Dispatcher, Outcome};

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

const FACTS_MD: &str = "**等级**：II 重大（原 III 较大）\n\
**类型**：升级\n\
**阶段**：扩散\n\
**责任单位**：区应急管理局\n\
**属地**：某市某区\n\
**回应主体**：区人民政府、区应急管理局\n\
**时限**：首次权威发布 11月22日 11:02（剩余 52分）\n\
**依据**：定级：转发 1.2 万，增速 800/小时（rule:II）；类别：火灾、爆炸（lexicon:安全事故）\n";

#[tokio::test]
async fn wecom_markdown_body_is_exact() {
    let rx = Receiver::robot_ok().await;
    let clock = clock();
    let d = Dispatcher::builder(sinks(&format!(
        r#"[[sinks]]
        kind = "wecom"
        id = "wx"
        all = true
        key = "k-1/2"
        endpoint = "{}"
        mentioned_list = ["wangqing", "@all"]"#,
        rx.url("/cgi-bin/webhook/send")
    )))
    .clock(clock)
    .build()
    .unwrap();
    let alert = sample();
    let report = d.deliver([alert.clone()]).await;
    assert!(report.all_delivered(), "{report:?}");
    let reqs = rx.take();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/cgi-bin/webhook/send");
    assert_eq!(r.query, "key=k-1%2F2");
    assert_eq!(r.headers["content-type"], "application/json");
    let id = &alert.alert_id;
    let content = format!(
        "### 【舆情预警·<font color=\"warning\">橙色</font>】某区化工厂火灾 ＜@all＞ 浓烟\n\
         >**等级**：<font color=\"warning\">II 重大（原 III 较大）</font>\n\
         >**类型**：升级\n\
         >**阶段**：扩散\n\
         >**责任单位**：<font color=\"info\">区应急管理局</font>\n\
         >**属地**：某市某区\n\
         >**回应主体**：区人民政府、区应急管理局\n\
         >**时限**：<font color=\"comment\">首次权威发布 11月22日 11:02（剩余 52分）</font>\n\
         >**依据**：定级：转发 1.2 万，增速 800/小时（rule:II）；类别：火灾、爆炸（lexicon:安全事故）\n\
         >**预警时间**：11月22日 10:02\n\
         >**预警编号**：{id}\n\
         [查看原文](https://weibo.com/1/abc)\n\
         <@wangqing><@all>"
    );
    let expected =
        serde_json::to_vec(&json!({"msgtype": "markdown", "markdown": {"content": content}}))
            .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(r.body, expected);
    d.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn wecom_text_body_carries_mentions() {
    let rx = Receiver::robot_ok().await;
    let d = Dispatcher::builder(sinks(&format!(
        r#"[[sinks]]
        kind = "wecom"
        id = "wx"
        all = true
        key = "k"
        format = "text"
        endpoint = "{}"
        mentioned_list = ["wangqing", "@all"]
        mentioned_mobile_list = ["13800001111"]"#,
        rx.url("/send")
    )))
    .clock(clock())
    .build()
    .unwrap();
    let alert = sample();
    assert!(d.deliver([alert.clone()]).await.all_delivered());
    let r = &rx.take()[0];
    let content = format!(
        "【舆情预警·橙色】某区化工厂火灾 <@all> 浓烟\n\
         等级：II 重大（原 III 较大）\n\
         类型：升级\n\
         阶段：扩散\n\
         责任单位：区应急管理局\n\
         属地：某市某区\n\
         回应主体：区人民政府、区应急管理局\n\
         时限：首次权威发布 11月22日 11:02（剩余 52分）\n\
         依据：定级：转发 1.2 万，增速 800/小时（rule:II）；类别：火灾、爆炸（lexicon:安全事故）\n\
         预警时间：11月22日 10:02\n\
         预警编号：{}\n\
         链接：https://weibo.com/1/abc",
        alert.alert_id
    );
    let expected = serde_json::to_vec(&json!({"msgtype": "text", "text": {
        "content": content,
        "mentioned_list": ["wangqing", "@all"],
        "mentioned_mobile_list": ["13800001111"],
    }}))
    .unwrap();
    assert_eq!(r.body, expected, "{}", String::from_utf8_lossy(&r.body));
}

#[tokio::test]
async fn dingtalk_body_and_signature_are_exact() {
    let secret = "SEC0f2a9c1d8e7b6a5f4e3d2c1b0a99887766";
    let rx = Receiver::robot_ok().await;
    let clock = clock();
    let d = Dispatcher::builder(sinks(&format!(
        r#"[[sinks]]
        kind = "dingtalk"
        id = "dd"
        all = true
        access_token = "tok123"
        secret = "{secret}"
        endpoint = "{}"
        at_mobiles = ["13800001111"]"#,
        rx.url("/robot/send")
    )))
    .clock(clock.clone())
    .build()
    .unwrap();
    let alert = sample();
    assert!(d.deliver([alert.clone()]).await.all_delivered());
    let r = &rx.take()[0];
    assert_eq!(r.path, "/robot/send");
    assert_eq!(r.headers["content-type"], "application/json;charset=utf-8");
    let q = r.query_map();
    assert_eq!(q["access_token"], "tok123");
    // The timestamp is in milliseconds: 13 digits, the injected clock's time.
    let ts = &q["timestamp"];
    assert_eq!(ts.len(), 13, "{ts}");
    assert_eq!(ts.parse::<i64>().unwrap(), clock.now().timestamp_millis());
    // Recompute the signature from the shared secret and the timestamp received.
    let string_to_sign = format!("{ts}\n{secret}");
    let sign = STANDARD.encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    let quoted: String = url::form_urlencoded::byte_serialize(sign.as_bytes()).collect();
    assert_eq!(
        r.raw_query("sign").unwrap(),
        quoted,
        "sign must be URL-encoded"
    );
    assert_eq!(q["sign"], sign);
    assert_eq!(
        r.query,
        format!("access_token=tok123&timestamp={ts}&sign={quoted}")
    );
    let text = format!(
        "#### 【舆情预警·橙色】某区化工厂火灾 ＜@all＞ 浓烟\n\n\
         - **等级**：II 重大（原 III 较大）\n\
         - **类型**：升级\n\
         - **阶段**：扩散\n\
         - **责任单位**：区应急管理局\n\
         - **属地**：某市某区\n\
         - **回应主体**：区人民政府、区应急管理局\n\
         - **时限**：首次权威发布 11月22日 11:02（剩余 52分）\n\
         - **依据**：定级：转发 1.2 万，增速 800/小时（rule:II）；类别：火灾、爆炸（lexicon:安全事故）\n\
         - **预警时间**：11月22日 10:02\n\
         - **预警编号**：{}\n\n\
         [查看原文](https://weibo.com/1/abc)\n\n\
         @13800001111",
        alert.alert_id
    );
    let expected = serde_json::to_vec(&json!({
        "msgtype": "markdown",
        "markdown": {"title": "【舆情预警·橙色】某区化工厂火灾 ＜@all＞ 浓烟", "text": text},
        "at": {"atMobiles": ["13800001111"], "atUserIds": [], "isAtAll": false},
    }))
    .unwrap();
    assert_eq!(r.body, expected, "{}", String::from_utf8_lossy(&r.body));
}

#[tokio::test]
async fn feishu_card_and_signature_are_exact() {
    let secret = "fs-secret-3b1f";
    let rx = Receiver::feishu_ok().await;
    let clock = clock();
    let d = Dispatcher::builder(sinks(&format!(
        r#"[[sinks]]
        kind = "feishu"
        id = "fs"
        all = true
        token = "hook-token"
        secret = "{secret}"
        endpoint = "{}"
        mention_all = true"#,
        rx.url("/open-apis/bot/v2/hook")
    )))
    .clock(clock.clone())
    .build()
    .unwrap();
    let alert = sample();
    assert!(d.deliver([alert.clone()]).await.all_delivered());
    let r = &rx.take()[0];
    assert_eq!(r.path, "/open-apis/bot/v2/hook/hook-token");
    assert_eq!(r.query, "", "飞书 signs in the body, not the URL");
    let v = r.json();
    // The timestamp is in seconds, as a string: 10 digits, the injected clock's time.
    let ts = v["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), 10, "{ts}");
    assert_eq!(ts.parse::<i64>().unwrap(), clock.now().timestamp());
    // sign = base64(HmacSHA256(key = ts + "\n" + secret, msg = "")), recomputed here.
    let key = format!("{ts}\n{secret}");
    let sign = STANDARD.encode(hmac_sha256(key.as_bytes(), b""));
    assert_eq!(v["sign"], sign);
    let content = format!("{FACTS_MD}<at id=all></at>");
    let expected = serde_json::to_vec(&json!({
        "timestamp": ts,
        "sign": sign,
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": true},
            "header": {"template": "orange", "title": {"tag": "plain_text", "content": "【舆情预警·橙色】某区化工厂火灾 <@all> 浓烟"}},
            "elements": [
                {"tag": "markdown", "content": content},
                {"tag": "hr"},
                {"tag": "action", "actions": [{"tag": "button", "text": {"tag": "plain_text", "content": "查看原文"}, "type": "primary", "url": "https://weibo.com/1/abc"}]},
                {"tag": "note", "elements": [{"tag": "plain_text", "content": format!("预警编号 {} · 预警时间 11月22日 10:02", alert.alert_id)}]},
            ],
        },
    }))
    .unwrap();
    assert_eq!(r.body, expected, "{}", String::from_utf8_lossy(&r.body));
}

#[tokio::test]
async fn feishu_header_colour_follows_the_grade() {
    let rx = Receiver::feishu_ok().await;
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"feishu\"\nid = \"fs\"\nall = true\ntoken = \"t\"\nendpoint = \"{}\"\nrate_limit = []",
        rx.url("/hook")
    )))
    .clock(clock())
    .build()
    .unwrap();
    let mut alerts = Vec::new();
    for (i, g) in yuqing_core::Grade::ALL.iter().enumerate() {
        let mut a = flood_alert(i);
        a.grade = *g;
        alerts.push(a);
    }
    for a in &alerts {
        assert!(d.deliver([a.clone()]).await.all_delivered());
    }
    let colours: Vec<String> = rx
        .take()
        .iter()
        .map(|r| {
            r.json()["card"]["header"]["template"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(colours, ["red", "orange", "yellow", "blue"]);
    assert!(
        rx.take().iter().all(|r| r.json().get("sign").is_none()),
        "no secret, no sign"
    );
}

#[tokio::test]
async fn wecom_markdown_is_split_at_4096_bytes_between_characters() {
    let rx = Receiver::robot_ok().await;
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"wecom\"\nid = \"wx\"\nall = true\nkey = \"k\"\nendpoint = \"{}\"\nmentioned_list = [\"wangqing\"]",
        rx.url("/send")
    )))
    .clock(clock())
    .build()
    .unwrap();
    let mut alert = sample();
    // 1,500 three-byte characters and a four-byte one: the title alone is over 4096 bytes.
    alert.title = format!("{}😀{}", "火".repeat(700), "灾".repeat(800));
    let report = d.deliver([alert.clone()]).await;
    match &report.deliveries[0].outcome {
        Outcome::Delivered {
            messages, merged, ..
        } => {
            assert!(*messages >= 2, "{messages}");
            assert!(!merged);
        }
        other => panic!("{other:?}"),
    }
    let reqs = rx.take();
    assert!(reqs.len() >= 2);
    let mut joined = String::new();
    for (i, r) in reqs.iter().enumerate() {
        let v = r.json(); // valid JSON, so every piece is valid UTF-8
        let content = v["markdown"]["content"].as_str().unwrap();
        assert!(content.len() <= 4096, "piece {i}: {} bytes", content.len());
        let rest = if i == 0 {
            content.to_string()
        } else {
            let mark = format!("【舆情预警·续 {}/{}】\n", i + 1, reqs.len());
            content
                .strip_prefix(&mark)
                .expect("continuation mark")
                .to_string()
        };
        joined.push_str(&rest);
    }
    assert!(joined.starts_with("### 【舆情预警·<font color=\"warning\">橙色</font>】火火"));
    assert!(joined.contains(&format!("{}😀{}", "火".repeat(700), "灾".repeat(800))));
    assert!(joined.contains(&format!(">**预警编号**：{}\n", alert.alert_id)));
    assert!(joined.ends_with("[查看原文](https://weibo.com/1/abc)\n<@wangqing>"));
}

#[tokio::test]
async fn webhook_is_signed_and_carries_the_alert_record() {
    let rx = Receiver::start(|_| (204, String::new())).await;
    let clock = clock();
    let d = Dispatcher::builder(sinks(&format!(
        r#"[[sinks]]
        kind = "webhook"
        id = "hook"
        all = true
        url = "{}"
        secret = "whsec"
        headers = {{ Authorization = "Bearer abc", "X-Duty-Room" = "a\nb", "Bad Name" = "x" }}"#,
        rx.url("/yuqing/alerts")
    )))
    .clock(clock.clone())
    .build();
    // Line breaks in values and spaces in names are not valid HTTP: validation says so.
    let err = d.unwrap_err().to_string();
    assert!(
        err.contains("sinks[0].headers.X-Duty-Room: is not a valid header value"),
        "{err}"
    );
    assert!(
        err.contains("sinks[0].headers.Bad Name: is not a valid header name"),
        "{err}"
    );

    let d = Dispatcher::builder(sinks(&format!(
        r#"[[sinks]]
        kind = "webhook"
        id = "hook"
        all = true
        url = "{}"
        secret = "whsec"
        headers = {{ Authorization = "Bearer abc" }}"#,
        rx.url("/yuqing/alerts")
    )))
    .clock(clock.clone())
    .build()
    .unwrap();
    let alert = sample();
    assert!(d.deliver([alert.clone()]).await.all_delivered());
    let r = &rx.take()[0];
    assert_eq!(r.body, alert.to_json());
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["authorization"], "Bearer abc");
    assert_eq!(r.headers["idempotency-key"], alert.alert_id.as_str());
    let ts = r.headers["x-yuqing-timestamp"].to_str().unwrap();
    assert_eq!(ts.parse::<i64>().unwrap(), clock.now().timestamp());
    let mut msg = format!("{ts}.").into_bytes();
    msg.extend_from_slice(&r.body);
    let expected = format!("sha256={}", hex::encode(hmac_sha256(b"whsec", &msg)));
    assert_eq!(r.headers["x-yuqing-signature"], expected.as_str());
    // The receiver can parse what it got back into the record.
    assert_eq!(yuqing_core::Alert::from_json(&r.body).unwrap(), alert);
}

#[tokio::test]
async fn channel_error_codes_are_failures() {
    // 企业微信 answers HTTP 200 with errcode 93000 (invalid webhook URL): not delivered.
    let rx = Receiver::start(|_| {
        (
            200,
            r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#.into(),
        )
    })
    .await;
    let dead = std::sync::Arc::new(Collect::default());
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"wecom\"\nid = \"wx\"\nall = true\nkey = \"k\"\nendpoint = \"{}\"\nretry = {{ attempts = 3, initial_backoff = \"10ms\", max_backoff = \"20ms\" }}",
        rx.url("/send")
    )))
    .clock(clock())
    .dead_letter(dead.clone())
    .build()
    .unwrap();
    let alert = sample();
    let report = d.deliver([alert.clone()]).await;
    match &report.deliveries[0].outcome {
        Outcome::Failed {
            error,
            error_type,
            dead_lettered,
        } => {
            assert_eq!(*error_type, "channel_error");
            assert!(error.contains("93000"), "{error}");
            assert!(dead_lettered);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rx.take().len(), 3, "retried up to the budget");
    let got = dead.got.lock();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "wx");
    assert_eq!(got[0].1, vec![alert.alert_id.clone()]);
}

#[tokio::test(start_paused = true)]
async fn wecom_digest_body_is_exact() {
    let rx = Receiver::robot_ok().await;
    let d = Dispatcher::builder(sinks(&format!(
        "[[sinks]]\nkind = \"wecom\"\nid = \"wx\"\nall = true\nkey = \"k\"\nendpoint = \"{}\"\n\
         mentioned_list = [\"wangqing\"]\nrate_limit = [{{ messages = 1, per = \"1m\" }}]",
        rx.url("/send")
    )))
    .clock(clock())
    .build()
    .unwrap();
    // Submitted together, more than the rate limit lets through now: one digest.
    let alerts = [flood_alert(10), flood_alert(0), flood_alert(1)];
    let report = d.deliver(alerts.clone()).await;
    assert!(report
        .deliveries
        .iter()
        .all(|d| matches!(d.outcome, Outcome::Delivered { merged: true, .. })));
    let reqs = rx.take();
    assert_eq!(reqs.len(), 1);
    let content = format!(
        "### 【舆情预警汇总】3 条：红色 1 · 橙色 1 · 蓝色 1\n\
         ><font color=\"comment\">预警较多，已合并发送（最严重的在前）。</font>\n\
         1. 【<font color=\"warning\">红色</font>】I 第0号 某街道居民反映噪音扰民问题持续未解决 · 区应急管理局 · 某市某区 · 新预警 · {}\n\
         2. 【<font color=\"warning\">橙色</font>】II 第1号 某街道居民反映噪音扰民问题持续未解决 · 区应急管理局 · 某市某区 · 新预警 · {}\n\
         3. 【<font color=\"info\">蓝色</font>】IV 第10号 某街道居民反映噪音扰民问题持续未解决 · 区应急管理局 · 某市某区 · 新预警 · {}\n\
         <@wangqing>",
        alerts[1].alert_id, alerts[2].alert_id, alerts[0].alert_id
    );
    let expected =
        serde_json::to_vec(&json!({"msgtype": "markdown", "markdown": {"content": content}}))
            .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&reqs[0].body),
        String::from_utf8_lossy(&expected)
    );
}
