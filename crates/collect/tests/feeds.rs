//! Feed sources against a loopback server.

mod common;

use common::*;
use yuqing_collect::HealthStatus;
use yuqing_core::Platform;

#[tokio::test]
async fn rss_atom_json_feed_and_rsshub_become_items() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/rss",
        Canned::ok("application/rss+xml", fixture("feeds/portal_rss.xml")).header("etag", "\"v1\""),
    );
    site.set(
        "/atom",
        Canned::ok(
            "application/atom+xml; charset=utf-8",
            fixture("feeds/atom.xml"),
        ),
    );
    site.set(
        "/feed.json",
        Canned::ok("application/feed+json", fixture("feeds/feed.json")),
    );
    site.set(
        "/weibo/user/5000000001",
        Canned::ok("application/xml", fixture("feeds/rsshub_weibo_user.xml")),
    );
    let h = harness(&format!(
        r#"
        [[sources]]
        id = "county-rss"
        kind = "feed"
        url = "{}"
        platform = "portal"
        region = "某县"
        author_kind = "official"
        [[sources]]
        id = "env-atom"
        kind = "feed"
        url = "{}"
        [[sources]]
        id = "district-json"
        kind = "feed"
        url = "{}"
        [[sources]]
        id = "rsshub-weibo"
        kind = "feed"
        platform = "weibo"
        url = "{}"
        "#,
        site.url("/rss"),
        site.url("/atom"),
        site.url("/feed.json"),
        site.url("/weibo/user/5000000001")
    ));
    let r = h.collector.poll_once("county-rss").await.unwrap();
    assert_eq!(r.new_items, 3);
    let items = h.sink.take();
    let first = &items[0];
    assert_eq!(
        first.title.as_deref(),
        Some("关于启动防汛四级应急响应的通知")
    );
    assert_eq!(
        first.id,
        "http://www.example-county.gov.cn/tzgg/202611/t20261122_1001.html"
    );
    assert_eq!(
        first.url.as_deref(),
        Some("http://www.example-county.gov.cn/tzgg/202611/t20261122_1001.html"),
        "utm_* dropped"
    );
    assert!(first.text.starts_with("受强降雨影响"), "{}", first.text);
    assert_eq!(first.published_at.to_rfc3339(), "2026-11-22T10:00:00+08:00");
    assert_eq!(first.observed_at, h.clock_now_cst());
    assert_eq!(first.platform, Platform::Portal);
    assert_eq!(first.region.as_deref(), Some("某县"));
    assert_eq!(first.extra["author_kind"], "official");
    assert_eq!(first.extra["categories"][0], "应急管理");
    assert_eq!(first.source, "county-rss");
    // The UA is descriptive and robots.txt was asked for.
    let ua = site
        .headers("/rss")
        .get("user-agent")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        ua.starts_with("yuqing/") && ua.contains("+https://github.com/yuqing-project/yuqing"),
        "{ua}"
    );
    assert_eq!(site.hits("/robots.txt"), 1);

    // Conditional GET: the server answers 304, nothing is emitted.
    let r = h.collector.poll_once("county-rss").await.unwrap();
    assert!(r.not_modified);
    assert_eq!(r.new_items, 0);
    assert_eq!(site.headers("/rss").get("if-none-match").unwrap(), "\"v1\"");

    let r = h.collector.poll_once("env-atom").await.unwrap();
    assert_eq!(r.new_items, 2);
    let atom = h.sink.take();
    assert_eq!(atom[0].author.as_deref(), Some("市生态环境局"));
    assert_eq!(
        atom[0].published_at.to_rfc3339(),
        "2026-11-22T08:00:00+08:00"
    );
    assert_eq!(
        atom[1].published_at.to_rfc3339(),
        "2026-11-21T17:00:00+08:00",
        "updated when not published"
    );
    assert_eq!(atom[0].platform, Platform::News);

    let r = h.collector.poll_once("district-json").await.unwrap();
    assert_eq!(r.new_items, 2);
    let jf = h.sink.take();
    assert_eq!(jf[0].id, "jf-20261122-01");
    assert!(jf[0].text.contains("隐患十七处"));
    assert_eq!(jf[0].author.as_deref(), Some("区融媒体中心"));

    let r = h.collector.poll_once("rsshub-weibo").await.unwrap();
    assert_eq!(r.new_items, 2);
    let wb = h.sink.take();
    assert_eq!(wb[0].platform, Platform::Weibo);
    assert_eq!(
        wb[0].url.as_deref(),
        Some("https://weibo.com/5000000001/PaBcDeF01")
    );
    assert_eq!(wb[0].author.as_deref(), Some("某市应急管理局"));
    assert_eq!(wb[0].published_at.to_rfc3339(), "2026-11-22T09:20:00+08:00");
    assert!(wb[0].text.contains("#某镇厂房火情#"));
    assert!(wb[1].text.contains("转发 @某市消防救援支队"));
}

trait ClockNow {
    fn clock_now_cst(&self) -> chrono::DateTime<chrono::FixedOffset>;
}
impl ClockNow for Harness {
    fn clock_now_cst(&self) -> chrono::DateTime<chrono::FixedOffset> {
        use yuqing_core::Clock;
        self.clock.now_cst()
    }
}

#[tokio::test]
async fn gbk_feed_with_xml_declaration_only_decodes() {
    let site = Site::start().await;
    allow_robots(&site);
    let utf8 =
        fixture_str("feeds/portal_rss.xml").replace("encoding=\"UTF-8\"", "encoding=\"GB2312\"");
    let (gbk, _, _) = encoding_rs::GBK.encode(&utf8);
    site.set("/gbk.xml", Canned::ok("text/xml", gbk.into_owned()));
    let h = harness(&format!(
        "[[sources]]\nid = \"gbk\"\nkind = \"feed\"\nurl = \"{}\"\n",
        site.url("/gbk.xml")
    ));
    let r = h.collector.poll_once("gbk").await.unwrap();
    assert_eq!(r.new_items, 3);
    assert_eq!(
        h.sink.take()[1].title.as_deref(),
        Some("县人民医院门诊楼改造期间就诊指引")
    );
}

#[tokio::test]
async fn malformed_and_truncated_feeds_fail_the_poll_without_panic_and_recover() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/bad",
        Canned::ok("application/rss+xml", fixture("feeds/malformed.xml")),
    );
    let h = harness(&format!(
        "[[sources]]\nid = \"bad\"\nkind = \"feed\"\nurl = \"{}\"\n",
        site.url("/bad")
    ));
    let mut events = h.collector.health_handle().subscribe();
    for _ in 0..3 {
        let e = h.collector.poll_once("bad").await.unwrap_err();
        assert_eq!(e.kind(), "malformed_feed", "{e}");
    }
    let health = h.collector.health_handle().source("bad").unwrap();
    assert_eq!(health.status, HealthStatus::Failing);
    assert_eq!(health.consecutive_failures, 3);
    assert_eq!(health.errors_by_kind["malformed_feed"], 3);
    let ev = events.try_recv().unwrap();
    assert!(
        matches!(
            ev.kind,
            yuqing_collect::HealthEventKind::Failing { consecutive: 3, .. }
        ),
        "{ev:?}"
    );

    // A body cut mid-transfer is a transport error, retried, then a failed poll.
    site.set(
        "/bad",
        Canned::ok("application/rss+xml", fixture("feeds/portal_rss.xml")).truncated(),
    );
    let e = h.collector.poll_once("bad").await.unwrap_err();
    assert!(matches!(e.kind(), "transport" | "timeout"), "{e}");

    site.set(
        "/bad",
        Canned::ok("application/rss+xml", fixture("feeds/portal_rss.xml")),
    );
    assert_eq!(h.collector.poll_once("bad").await.unwrap().new_items, 3);
    assert!(matches!(
        events.try_recv().unwrap().kind,
        yuqing_collect::HealthEventKind::Recovered {
            from: HealthStatus::Failing
        }
    ));
    assert!(matches!(
        h.collector.health_handle().source("bad").unwrap().status,
        HealthStatus::Ok
    ));
}
