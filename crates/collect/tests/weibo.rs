//! Weibo mobile-web JSON against a loopback server serving the DOMAIN.md B fixture checklist.

mod common;

use std::time::Duration;

use common::*;
use yuqing_collect::{HealthEventKind, HealthStatus};
use yuqing_core::Platform;

const UID: &str = "5000000001";

fn timeline(_site: &Site, page: u32) -> String {
    format!("/api/container/getIndex?containerid=107603{UID}&page={page}")
}

fn serve_weibo(site: &Site) {
    allow_robots(site);
    site.set(
        &timeline(site, 1),
        Canned::json(fixture("weibo/timeline_p1.json")),
    );
    site.set(
        &timeline(site, 2),
        Canned::json(fixture("weibo/timeline_p2.json")),
    );
    site.set(
        &timeline(site, 3),
        Canned::json(fixture("weibo/timeline_end.json")),
    );
    site.set(
        "/statuses/show?id=4990000000000009",
        Canned::json(fixture("weibo/show_4990000000000009.json")),
    );
}

fn user_source(site: &Site, extra: &str) -> String {
    format!(
        "[[sources]]\nid = \"wb-user\"\nkind = \"weibo\"\nbase_url = \"{}\"\nuser = \"{UID}\"\n{extra}\n",
        site.url("")
    )
}

#[tokio::test]
async fn user_timeline_pinned_long_text_pics_counts_deleted_retweets_relative_times() {
    let site = Site::start().await;
    serve_weibo(&site);
    let h = harness(&user_source(&site, ""));
    let r = h.collector.poll_once("wb-user").await.unwrap();
    let items = h.sink.take();
    let by_id = |id: &str| {
        items
            .iter()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("{id} missing: {items:#?}"))
    };
    // Pinned, A, B, C on page 1; D, its original, and E on page 2; then ok:0 ends the list.
    assert_eq!(r.new_items, 7, "{r:?}");
    assert_eq!(site.hits(&timeline(&site, 3)), 1);
    let headers = site.headers(&timeline(&site, 1));
    assert_eq!(headers.get("mweibo-pwa").unwrap(), "1");
    assert_eq!(headers.get("x-requested-with").unwrap(), "XMLHttpRequest");
    assert_eq!(
        headers.get("referer").unwrap().to_str().unwrap(),
        site.url(&format!("/u/{UID}"))
    );

    let pinned = by_id("4900000000000001");
    assert_eq!(pinned.extra["pinned"], true);

    let a = by_id("4990000000000010");
    assert_eq!(a.platform, Platform::Weibo);
    assert_eq!(
        a.url.as_deref(),
        Some("https://m.weibo.cn/status/PaBcDeF01")
    );
    assert_eq!(a.author.as_deref(), Some("某市应急管理局"));
    assert_eq!(a.extra["author_id"], "5000000001");
    assert_eq!(a.extra["author_kind"], "official");
    assert_eq!(a.published_at.to_rfc3339(), "2026-11-22T09:20:00+08:00");
    assert_eq!(a.metrics.reposts, Some(1_000_000), "\"100万+\"");
    assert_eq!(a.metrics.comments, Some(12_000));
    assert_eq!(a.metrics.likes, Some(35_210));
    assert!(
        a.text.contains("#某镇厂房火情#") && a.text.contains("[蜡烛]"),
        "{}",
        a.text
    );
    assert_eq!(
        a.extra["pics"].as_array().unwrap().len(),
        2,
        "pics as an object"
    );
    assert_eq!(a.region.as_deref(), Some("江西"));

    let b = by_id("4990000000000009");
    assert!(
        b.text.ends_with("遇险请拨打119或110求助。"),
        "long text from statuses/show: {}",
        b.text
    );
    assert!(b.extra.get("truncated").is_none());
    assert_eq!(
        b.url.as_deref(),
        Some("https://m.weibo.cn/status/Pxyz0009"),
        "bid from the scheme"
    );

    let c = by_id("4990000000000008");
    assert_eq!(c.extra["retweet_deleted"], true);
    assert_eq!(c.parent_id.as_deref(), Some("4980000000000001"));
    assert!(
        !items.iter().any(|i| i.id == "4980000000000001"),
        "a deleted original is not an item"
    );

    let d = by_id("4990000000000005");
    assert_eq!(
        d.published_at.to_rfc3339(),
        "2026-11-21T23:15:00+08:00",
        "昨天 23:15 in CST"
    );
    assert_eq!(d.root_id.as_deref(), Some("4990000000000004"));
    let original = by_id("4990000000000004");
    assert_eq!(original.extra["author_kind"], "media");
    assert_eq!(original.author.as_deref(), Some("某市晚报"));

    let e = by_id("4990000000000003");
    assert_eq!(
        e.published_at.to_rfc3339(),
        "2026-11-20T00:00:00+08:00",
        "MM-DD"
    );
    assert_eq!(e.metrics.likes, Some(1024));
    assert_eq!(e.metrics.comments, None, "empty count string");
    assert_eq!(
        e.extra["pics"].as_array().unwrap().len(),
        1,
        "pics as an array"
    );

    // Second poll: page 1 holds nothing new except the pinned post: stop after page 1.
    let r = h.collector.poll_once("wb-user").await.unwrap();
    assert_eq!(r.new_items, 0);
    assert_eq!(site.hits(&timeline(&site, 2)), 1);
}

#[tokio::test]
async fn comments_reposts_and_reobservation_through_statuses_show() {
    let site = Site::start().await;
    serve_weibo(&site);
    let id = "4990000000000010";
    site.set(
        &format!("/comments/hotflow?id={id}&mid={id}&max_id_type=0"),
        Canned::json(fixture("weibo/hotflow_p1.json")),
    );
    site.set(
        &format!("/comments/hotflow?id={id}&mid={id}&max_id_type=0&max_id=141234567890123"),
        Canned::json(fixture("weibo/hotflow_last.json")),
    );
    site.set(
        &format!("/api/statuses/repostTimeline?id={id}&page=1"),
        Canned::json(fixture("weibo/repost_p1.json")),
    );
    let h = harness(&format!(
        "[[sources]]\nid = \"wb-post\"\nkind = \"weibo\"\nbase_url = \"{}\"\npost = \"{id}\"\ncomments = true\nreposts = true\n",
        site.url("")
    ));
    site.set(
        &format!("/statuses/show?id={id}"),
        Canned::json(fixture("weibo/timeline_p1.json")).header("x", "y"),
    );
    // statuses/show answers the post itself.
    let show = serde_json::json!({"ok": 1, "data": serde_json::from_slice::<serde_json::Value>(&fixture("weibo/timeline_p1.json")).unwrap()["data"]["cards"][1]["mblog"]});
    site.set(
        &format!("/statuses/show?id={id}"),
        Canned::json(show.to_string()),
    );
    let r = h.collector.poll_once("wb-post").await.unwrap();
    // The post, 2 comments + 1 inline reply on page 1, 1 on the last page, 2 reposts.
    assert_eq!(r.new_items, 7, "{r:?}");
    let items = h.sink.take();
    let reply = items.iter().find(|i| i.id == "4990000000200005").unwrap();
    assert_eq!(reply.root_id.as_deref(), Some(id));
    assert_eq!(reply.parent_id.as_deref(), Some("4990000000200001"));
    let comment = items.iter().find(|i| i.id == "4990000000200002").unwrap();
    assert_eq!(comment.metrics.likes, Some(11_000));
    assert_eq!(comment.parent_id.as_deref(), Some(id));
    assert_eq!(comment.text, "厂房消防验收有没有问题？");
    let first = items.iter().find(|i| i.id == "4990000000200001").unwrap();
    assert_eq!(first.text, "希望没有人员受伤[祈祷]");
    let repost = items.iter().find(|i| i.id == "4990000000300002").unwrap();
    assert_eq!(
        (repost.root_id.as_deref(), repost.author.as_deref()),
        (Some(id), Some("某市晚报"))
    );
    assert_eq!(
        site.hits(&format!(
            "/comments/hotflow?id={id}&mid={id}&max_id_type=0&max_id=141234567890123"
        )),
        1
    );

    // Ten minutes on, the counts grew: the post is re-observed with its new counts.
    h.clock.advance(Duration::from_secs(600));
    site.set(
        &format!("/statuses/show?id={id}"),
        Canned::json(fixture("weibo/show_4990000000000010.json")),
    );
    let r = h.collector.poll_once("wb-post").await.unwrap();
    assert!(r.reobserved >= 1, "{r:?}");
    let again: Vec<_> = h.sink.take().into_iter().filter(|i| i.id == id).collect();
    assert!(!again.is_empty());
    let last = again.last().unwrap();
    assert_eq!(last.metrics.reposts, Some(1_200_000));
    assert_eq!(last.metrics.likes, Some(60_001));
    assert!(last.observed_at > items[0].observed_at);
    assert_eq!(last.published_at, items[0].published_at);
}

#[tokio::test]
async fn keyword_search_groups_and_hot_search() {
    let site = Site::start().await;
    allow_robots(&site);
    let search = "/api/container/getIndex?containerid=100103type%3D61%26q%3D%E7%81%AB%E6%83%85%26t%3D0&page_type=searchall&page=1";
    site.set(search, Canned::json(fixture("weibo/search.json")));
    site.set(
        "/api/container/getIndex?containerid=106003type%3D25%26t%3D3%26disable_hot%3D1%26filter_type%3Drealtimehot",
        Canned::json(fixture("weibo/hot.json")),
    );
    let h = harness(&format!(
        "[[sources]]\nid = \"wb-kw\"\nkind = \"weibo\"\nbase_url = \"{0}\"\nkeyword = \"火情\"\nmax_pages = 1\n[[sources]]\nid = \"wb-hot\"\nkind = \"weibo\"\nbase_url = \"{0}\"\nhot = true\n",
        site.url("")
    ));
    let r = h.collector.poll_once("wb-kw").await.unwrap();
    assert_eq!(r.new_items, 2, "{r:?}");
    let items = h.sink.take();
    assert_eq!(
        items[0].published_at.to_rfc3339(),
        "2026-11-22T10:25:00+08:00",
        "5分钟前"
    );
    assert_eq!(
        items[1].published_at.to_rfc3339(),
        "2026-11-22T10:30:00+08:00",
        "刚刚"
    );
    assert!(items[0].text.contains("@某市应急管理局"));
    assert!(items[0].extra.get("author_kind").is_none());

    let r = h.collector.poll_once("wb-hot").await.unwrap();
    assert_eq!(r.new_items, 3);
    let hot = h.sink.take();
    assert_eq!(hot[0].title.as_deref(), Some("某镇厂房火情"));
    assert_eq!(hot[0].metrics.views, Some(2_345_678));
    assert_eq!(hot[0].extra["hot_rank"], 1);
    assert_eq!(hot[0].extra["hot_flag"], "新");
    assert_eq!(hot[1].metrics.views, Some(980_000));
    // The same list an hour later is not new again.
    h.clock.advance(Duration::from_secs(3600));
    assert_eq!(h.collector.poll_once("wb-hot").await.unwrap().new_items, 0);
}

#[tokio::test]
async fn ok0_captcha_432_and_html_are_health_events_never_data() {
    let site = Site::start().await;
    serve_weibo(&site);
    let h = harness(&user_source(&site, ""));
    let mut events = h.collector.health_handle().subscribe();
    let page1 = timeline(&site, 1);

    site.set(&page1, Canned::json(fixture("weibo/err_ok0.json")));
    let e = h.collector.poll_once("wb-user").await.unwrap_err();
    assert_eq!(e.kind(), "api_error");
    assert!(e.to_string().contains("请求过于频繁"));

    site.set(&page1, Canned::json(fixture("weibo/err_captcha.json")));
    let e = h.collector.poll_once("wb-user").await.unwrap_err();
    assert!(e.is_blocked(), "{e}");
    let ev = events.try_recv().unwrap();
    let HealthEventKind::Blocked { until, .. } = ev.kind else {
        panic!("{ev:?}")
    };
    assert_eq!(
        until,
        common::t0() + chrono::Duration::minutes(10),
        "blocked_backoff from the clock"
    );
    let health = h.collector.health_handle().source("wb-user").unwrap();
    assert_eq!(health.status, HealthStatus::Blocked);
    assert!(yuqing_core::telemetry::render()
        .contains("yuqing_collect_blocked_sources{source=\"wb-user\"} 1"));

    site.set(&page1, Canned::status(432));
    let e = h.collector.poll_once("wb-user").await.unwrap_err();
    assert!(e.is_blocked(), "{e}");
    assert_eq!(site.hits(&page1), 3, "432 is not retried");
    assert!(
        events.try_recv().is_err(),
        "still blocked: no second Blocked event"
    );

    site.set(&page1, Canned::html(fixture("weibo/not_json.html")));
    let e = h.collector.poll_once("wb-user").await.unwrap_err();
    assert_eq!(e.kind(), "malformed_json");
    assert!(h.sink.take().is_empty(), "no error envelope became an item");

    site.set(&page1, Canned::json(fixture("weibo/timeline_p1.json")));
    assert!(h.collector.poll_once("wb-user").await.unwrap().new_items > 0);
    assert!(matches!(
        events.try_recv().unwrap().kind,
        HealthEventKind::Recovered { .. }
    ));
}
