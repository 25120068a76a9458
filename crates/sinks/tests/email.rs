//! E-mail against a real SMTP conversation: a minimal SMTP receiver written here with tokio,
//! on 127.0.0.1, and the mail parsed back with a MIME parser.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use yuqing_core::Clock;
use yuqing_sinks::{Dispatcher, Outcome};

/// One mail the receiver accepted.
#[derive(Debug, Clone, Default)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

/// A minimal SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
/// `starttls`: advertise STARTTLS (the server cannot actually do it, which is the point).
async fn smtp_server(starttls: bool) -> (u16, Arc<Mutex<Vec<Received>>>, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails: Arc<Mutex<Vec<Received>>> = Default::default();
    let commands: Arc<Mutex<Vec<String>>> = Default::default();
    let (m, c) = (mails.clone(), commands.clone());
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let (m, c) = (m.clone(), c.clone());
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 test.local ESMTP ready\r\n")
                    .await
                    .unwrap();
                let mut current = Received::default();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_string();
                    c.lock().push(cmd.clone());
                    let upper = cmd.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        if starttls {
                            b"250-test.local\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n"
                        } else {
                            b"250-test.local\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                        }
                    } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                        b"250 ok\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        current = Received {
                            mail_from: cmd[10..].to_string(),
                            ..Default::default()
                        };
                        b"250 ok\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        current.rcpt_to.push(cmd[8..].to_string());
                        b"250 ok\r\n"
                    } else if upper == "DATA" {
                        w.write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                            .await
                            .unwrap();
                        let mut data = Vec::new();
                        loop {
                            let mut l = Vec::new();
                            if r.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if l == b".\r\n" {
                                break;
                            }
                            // Dot-unstuffing.
                            if l.starts_with(b"..") {
                                l.remove(0);
                            }
                            data.extend_from_slice(&l);
                        }
                        current.data = data;
                        m.lock().push(std::mem::take(&mut current));
                        b"250 queued\r\n"
                    } else if upper == "RSET" {
                        current = Received::default();
                        b"250 ok\r\n"
                    } else if upper == "QUIT" {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else if upper == "STARTTLS" {
                        b"454 TLS not available\r\n"
                    } else {
                        b"502 not implemented\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, mails, commands)
}

fn email_sink(port: u16, extra: &str) -> Vec<yuqing_sinks::SinkConfig> {
    sinks(&format!(
        r#"[[sinks]]
        kind = "email"
        id = "mail"
        all = true
        host = "127.0.0.1"
        port = {port}
        tls = "none"
        from = "舆情值班室 <duty@yuqing.example>"
        to = ["leader@yuqing.example", "王清 <wangqing@yuqing.example>"]
        {extra}"#
    ))
}

#[tokio::test]
async fn a_mail_has_the_headers_and_the_utf8_bodies() {
    let (port, mails, _) = smtp_server(false).await;
    let clock = clock();
    let d = Dispatcher::builder(email_sink(port, ""))
        .clock(clock.clone())
        .build()
        .unwrap();
    let alert = sample();
    let report = d.deliver([alert.clone()]).await;
    assert!(report.all_delivered(), "{report:?}");
    let got = mails.lock().clone();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "<duty@yuqing.example>");
    assert_eq!(
        m.rcpt_to,
        ["<leader@yuqing.example>", "<wangqing@yuqing.example>"]
    );

    let parsed = mail_parser::MessageParser::default()
        .parse(&m.data)
        .expect("a MIME message");
    assert_eq!(
        parsed.subject(),
        Some("【舆情预警·橙色】某区化工厂火灾 <@all> 浓烟")
    );
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name.as_deref(), Some("舆情值班室"));
    assert_eq!(from.address.as_deref(), Some("duty@yuqing.example"));
    let to: Vec<_> = parsed
        .to()
        .unwrap()
        .iter()
        .map(|a| a.address.as_deref().unwrap().to_string())
        .collect();
    assert_eq!(to, ["leader@yuqing.example", "wangqing@yuqing.example"]);
    assert_eq!(
        parsed.message_id(),
        Some(format!("{}.mail@yuqing", alert.alert_id).as_str())
    );
    assert_eq!(
        parsed.date().unwrap().to_timestamp(),
        clock.now().timestamp()
    );
    let raw = String::from_utf8_lossy(&m.data);
    assert!(raw.contains("Content-Type: multipart/alternative"), "{raw}");
    assert!(raw.contains("MIME-Version: 1.0"));

    let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
    let expected = format!(
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
    assert_eq!(text, expected);
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains("<div style=\"background:#f06a00;"), "{html}");
    assert!(html.contains("【舆情预警·橙色】某区化工厂火灾 &lt;@all&gt; 浓烟"));
    assert!(html.contains("<th style=\"text-align:left;padding:4px 8px;color:#555;white-space:nowrap\">责任单位</th><td style=\"padding:4px 8px\">区应急管理局</td>"));
    assert!(html.contains("<a href=\"https://weibo.com/1/abc\">查看原文</a>"));
    d.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_flood_of_mails_becomes_a_digest() {
    let (port, mails, _) = smtp_server(false).await;
    let d = Dispatcher::builder(email_sink(
        port,
        "rate_limit = [{ messages = 1, per = \"1m\" }]",
    ))
    .clock(clock())
    .build()
    .unwrap();
    let alerts: Vec<_> = (0..30).map(flood_alert).collect();
    let report = d.deliver(alerts.clone()).await;
    assert!(report.all_delivered());
    assert!(report
        .deliveries
        .iter()
        .all(|d| matches!(d.outcome, Outcome::Delivered { merged: true, .. })));
    let got = mails.lock().clone();
    assert_eq!(got.len(), 1, "one digest mail");
    let parsed = mail_parser::MessageParser::default()
        .parse(&got[0].data)
        .unwrap();
    assert_eq!(
        parsed.subject(),
        Some("【舆情预警汇总】30 条：红色 2 · 橙色 6 · 黄色 9 · 蓝色 13")
    );
    let text = parsed.body_text(0).unwrap();
    let ids = alert_ids(&text);
    assert_eq!(ids.len(), 30);
    for a in &alerts {
        assert!(ids.contains(&a.alert_id));
    }
    assert!(parsed.body_html(0).unwrap().contains("<ol>"));
    d.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn starttls_is_required_when_configured() {
    // The server offers STARTTLS but cannot do it: lettre must not fall back to plain text.
    let (port, mails, commands) = smtp_server(true).await;
    let d = Dispatcher::builder(sinks(&format!(
        r#"[[sinks]]
        kind = "email"
        id = "mail"
        all = true
        host = "127.0.0.1"
        port = {port}
        tls = "starttls"
        username = "duty"
        password = "s3cret"
        from = "duty@yuqing.example"
        to = ["leader@yuqing.example"]
        retry = {{ attempts = 1 }}"#
    )))
    .clock(clock())
    .build()
    .unwrap();
    let report = d.deliver([sample()]).await;
    match &report.deliveries[0].outcome {
        Outcome::Failed { error_type, .. } => assert_eq!(*error_type, "smtp"),
        other => panic!("{other:?}"),
    }
    assert!(mails.lock().is_empty());
    let cmds = commands.lock().clone();
    assert!(cmds.iter().any(|c| c == "STARTTLS"), "{cmds:?}");
    assert!(
        !cmds
            .iter()
            .any(|c| c.starts_with("AUTH") || c.starts_with("MAIL")),
        "no credentials or mail without TLS: {cmds:?}"
    );
    d.shutdown(Duration::from_secs(1)).await;
}
