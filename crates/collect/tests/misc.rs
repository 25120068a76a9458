//! JSON APIs, watched directories, the sink and state contracts, author hashing and the run loop.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use yuqing_collect::{Collector, MemoryState};
use yuqing_core::{Platform, ScaledClock};

fn json_source(site: &Site) -> String {
    format!(
        r#"
        [[sources]]
        id = "comments"
        kind = "json_api"
        url = "{}"
        items = "data.list"
        paging = "page"
        time_format = "unix_ms"
        url_template = "https://news.example.cn/comment/{{id}}"
        max_pages = 5
        fields = {{ id = "cid", text = "content", time = "ctime", author = "nick", likes = "like", comments = "reply_num", region = "area", parent_id = "parent" }}
        "#,
        site.url("/api/comments?page={page}")
    )
}

#[tokio::test]
async fn json_api_maps_fields_pages_skips_bad_records_and_reobserves_changed_counts() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/api/comments?page=1",
        Canned::json(fixture("json/comments_p1.json")),
    );
    site.set(
        "/api/comments?page=2",
        Canned::json(fixture("json/comments_p2.json")),
    );
    site.set(
        "/api/comments?page=3",
        Canned::json(fixture("json/comments_p3.json")),
    );
    let h = harness(&json_source(&site));
    let r = h.collector.poll_once("comments").await.unwrap();
    assert_eq!(r.new_items, 3, "{r:?}");
    assert_eq!(r.skipped, 2, "empty text and unreadable time: {r:?}");
    let items = h.sink.take();
    let a = items.iter().find(|i| i.id == "90001").unwrap();
    assert_eq!(a.platform, Platform::Comment);
    assert_eq!(a.text, "路口的红绿灯时间太短了，老人过不去");
    assert_eq!(a.author.as_deref(), Some("网友A"));
    assert_eq!(a.published_at.timestamp_millis(), 1_763_773_200_000);
    assert_eq!(a.metrics.likes, Some(35));
    assert_eq!(a.metrics.comments, Some(2));
    assert_eq!(a.region.as_deref(), Some("江西"));
    assert_eq!(
        a.url.as_deref(),
        Some("https://news.example.cn/comment/90001")
    );
    assert_eq!(
        items
            .iter()
            .find(|i| i.id == "90002")
            .unwrap()
            .metrics
            .likes,
        Some(12_000)
    );
    assert!(
        items
            .iter()
            .find(|i| i.id == "90000")
            .unwrap()
            .parent_id
            .is_none(),
        "parent 0 means none"
    );

    // Seen records listed again are tracked; when due and changed they are re-observed.
    assert_eq!(
        h.collector.poll_once("comments").await.unwrap().new_items,
        0
    );
    h.clock.advance(Duration::from_secs(601));
    site.set(
        "/api/comments?page=1",
        Canned::json(fixture_str("json/comments_p1.json").replace("\"like\": 35", "\"like\": 880")),
    );
    let r = h.collector.poll_once("comments").await.unwrap();
    assert_eq!(r.reobserved, 1, "{r:?}");
    let again = h.sink.take();
    assert_eq!(again[0].id, "90001");
    assert_eq!(again[0].metrics.likes, Some(880));
}

#[tokio::test]
async fn json_api_cursor_paging() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/c?cursor=",
        Canned::json(r#"{"items":[{"id":"a","t":"第一条","ts":1763773200}],"next":"c2"}"#),
    );
    site.set(
        "/c?cursor=c2",
        Canned::json(r#"{"items":[{"id":"b","t":"第二条","ts":1763773100}],"next":"c2"}"#),
    );
    let h = harness(&format!(
        "[[sources]]\nid = \"cur\"\nkind = \"json_api\"\nurl = \"{}\"\nitems = \"items\"\npaging = \"cursor\"\nnext_cursor = \"next\"\ntime_format = \"unix\"\nfields = {{ id = \"id\", text = \"t\", time = \"ts\" }}\n",
        site.url("/c?cursor={cursor}")
    ));
    let r = h.collector.poll_once("cur").await.unwrap();
    assert_eq!(r.new_items, 2, "{r:?}");
    assert_eq!(
        site.hits("/c?cursor=c2"),
        1,
        "a repeated cursor ends paging"
    );
}

#[tokio::test]
async fn sink_failure_marks_nothing_seen_and_the_next_poll_delivers() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/rss",
        Canned::ok("application/rss+xml", fixture("feeds/portal_rss.xml")).header("etag", "\"e1\""),
    );
    let h = harness(&format!(
        "[[sources]]\nid = \"rss\"\nkind = \"feed\"\nurl = \"{}\"\n",
        site.url("/rss")
    ));
    h.sink.set_fail(true);
    let e = h.collector.poll_once("rss").await.unwrap_err();
    assert_eq!(e.kind(), "sink");
    assert_eq!(h.state.seen_count("rss"), 0);
    h.sink.set_fail(false);
    assert_eq!(h.collector.poll_once("rss").await.unwrap().new_items, 3);
    // Ids and content hashes are now seen.
    assert_eq!(h.state.seen_count("rss"), 6);
    assert_eq!(h.collector.poll_once("rss").await.unwrap().new_items, 0);
}

#[tokio::test]
async fn content_dedupe_skips_the_same_article_under_another_url() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/list",
        Canned::html(r#"<a href="/a.html">a</a><a href="/mirror/a.html">a</a>"#),
    );
    site.set("/a.html", Canned::html(fixture("html/art_1.html")));
    site.set("/mirror/a.html", Canned::html(fixture("html/art_1.html")));
    let h = harness(&format!(
        "[[sources]]\nid = \"dup\"\nkind = \"html\"\nlist_url = \"{}\"\n",
        site.url("/list")
    ));
    let r = h.collector.poll_once("dup").await.unwrap();
    assert_eq!((r.new_items, r.duplicates), (1, 1), "{r:?}");
}

#[tokio::test]
async fn author_hashing_replaces_handles() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/atom",
        Canned::ok("application/atom+xml", fixture("feeds/atom.xml")),
    );
    let text = format!(
        "{COLLECT}\nhash_authors = true\nauthor_salt = \"s3cret\"\n[[sources]]\nid = \"h\"\nkind = \"feed\"\nurl = \"{}\"\n",
        site.url("/atom")
    );
    let cfg: yuqing_collect::CollectConfig = toml::from_str(&text).unwrap();
    let h = harness_with(cfg, Arc::new(MemoryState::new()));
    h.collector.poll_once("h").await.unwrap();
    let items = h.sink.take();
    assert_eq!(
        items[0].author.as_deref(),
        Some(yuqing_core::id::hash_author("s3cret", "市生态环境局").as_str())
    );
}

#[tokio::test]
async fn watched_directory_moves_files_and_never_loses_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"id":"d1","platform":"hotline","text":"市民来电反映某路段路灯不亮","published_at":"2026-11-22T09:00:00+08:00"}
{"id":"d2","source":"hotline-12345","platform":"hotline","text":"反映小区供暖不热","published_at":"2026-11-22T09:05:00+08:00","x_call_id":"C-778"}
"#;
    std::fs::write(dir.path().join("a.jsonl"), good).unwrap();
    let mixed = "{\"id\":\"d3\",\"platform\":\"hotline\",\"text\":\"咨询社保缴费\",\"published_at\":\"2026-11-22T09:10:00+08:00\"}\n{broken\n";
    std::fs::write(dir.path().join("b.jsonl"), mixed).unwrap();
    std::fs::write(dir.path().join("c.json"), "[{\"id\":\"d4\",\"platform\":\"other\",\"text\":\"数组里的一条\",\"published_at\":\"2026-11-22T09:20:00+08:00\"}]").unwrap();
    std::fs::write(dir.path().join("ignored.txt"), "not a drop").unwrap();
    let cfg = config(&format!(
        "[[sources]]\nid = \"drop\"\nkind = \"dir\"\npath = \"{}\"\ninterval = \"5s\"\nsettle = \"0s\"\n",
        dir.path().display()
    ));
    let h = harness_with(cfg, Arc::new(MemoryState::new()));

    // The sink is down: nothing moves, nothing is lost.
    h.sink.set_fail(true);
    assert!(h.collector.poll_once("drop").await.is_err());
    assert!(dir.path().join("a.jsonl").exists());

    h.sink.set_fail(false);
    let r = h.collector.poll_once("drop").await.unwrap();
    assert_eq!(r.new_items, 4, "{r:?}");
    let items = h.sink.take();
    assert_eq!(
        items.iter().find(|i| i.id == "d2").unwrap().source,
        "hotline-12345"
    );
    assert_eq!(
        items.iter().find(|i| i.id == "d2").unwrap().extra["x_call_id"],
        "C-778"
    );
    assert_eq!(items.iter().find(|i| i.id == "d1").unwrap().source, "drop");
    assert!(dir.path().join("done/a.jsonl").exists());
    assert!(dir.path().join("done/c.json").exists());
    assert!(dir.path().join("failed/b.jsonl").exists());
    let errors = std::fs::read_to_string(dir.path().join("failed/b.jsonl.errors.txt")).unwrap();
    assert!(errors.starts_with("line 2: malformed JSON"), "{errors}");
    assert!(dir.path().join("ignored.txt").exists());
    assert_eq!(h.collector.poll_once("drop").await.unwrap().new_items, 0);
}

#[tokio::test]
async fn run_loop_polls_on_a_scaled_clock_switches_surge_and_stops() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/rss",
        Canned::ok("application/rss+xml", fixture("feeds/portal_rss.xml")),
    );
    // One hour of the source's time passes in a second: an interval of 10 minutes is 10 ms.
    let clock = Arc::new(ScaledClock::new(common::t0(), 60_000.0));
    let sink = Arc::new(VecSink::default());
    let cfg = config(&format!(
        "[[sources]]\nid = \"rss\"\nkind = \"feed\"\nurl = \"{}\"\ninterval = \"1h\"\njitter = \"0s\"\nsurge_interval = \"10m\"\n",
        site.url("/rss")
    ));
    let collector = Collector::new(cfg, Arc::new(MemoryState::new()), sink.clone(), clock);
    let surge = collector.surge_handle();
    let health = collector.health_handle();
    let token = tokio_util::sync::CancellationToken::new();
    let run = tokio::spawn(collector.run(token.clone()));
    // Wait (bounded) until the source has been polled a few times at its normal interval (60 ms).
    for _ in 0..500 {
        if site.hits("/rss") >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(site.hits("/rss") >= 3);
    surge.set(true);
    assert!(surge.get());
    let before = site.hits("/rss");
    for _ in 0..500 {
        if site.hits("/rss") >= before + 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        site.hits("/rss") >= before + 10,
        "surge polls every 10 ms of real time"
    );
    token.cancel();
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("run stops on shutdown")
        .unwrap();
    assert_eq!(sink.take().len(), 3, "many polls, no duplicates");
    // The poll in flight at shutdown may be abandoned before it is recorded.
    assert!(health.source("rss").unwrap().polls >= 12);
}

#[tokio::test]
async fn unknown_and_disabled_sources() {
    let h = harness("[[sources]]\nid = \"off\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:9/\"\nenabled = false\n");
    assert_eq!(
        h.collector.poll_once("nope").await.unwrap_err().kind(),
        "unknown_source"
    );
    assert_eq!(
        h.collector.health_handle().source("off").unwrap().status,
        yuqing_collect::HealthStatus::Disabled
    );
    assert_eq!(h.collector.source_ids(), vec!["off"]);
}

#[test]
fn the_example_pipeline_parses_and_validates() {
    let text = fixture_str("pipeline.toml");
    let cfg: yuqing_collect::CollectConfig = toml::from_str(&text).unwrap();
    let mut p = yuqing_core::Problems::new();
    cfg.validate("", &mut p);
    assert!(p.is_empty(), "{p}");
    assert_eq!(cfg.sources.len(), 11);
    // Embedded in a pipeline struct as its `collect` and `sources` fields, unknown keys are caught.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Pipeline {
        name: String,
        #[serde(default)]
        collect: yuqing_collect::CollectSettings,
        #[serde(default)]
        sources: Vec<yuqing_collect::SourceConfig>,
    }
    let ok: Pipeline = toml::from_str(&format!("name = \"p\"\n{text}")).unwrap();
    assert_eq!(ok.sources.len(), 11);
    assert!(toml::from_str::<Pipeline>(&format!("name = \"p\"\nbogus = 1\n{text}")).is_err());
    let typo = text.replace(
        "interval = \"10m\"\nregion = \"某县\"",
        "intervall = \"10m\"\nregion = \"某县\"",
    );
    let e = toml::from_str::<Pipeline>(&format!("name = \"p\"\n{typo}"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("intervall") && e.contains("county-rss"), "{e}");
}

#[tokio::test]
async fn silence_is_reported_after_n_intervals_without_new_items() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/rss",
        Canned::ok("application/rss+xml", fixture("feeds/portal_rss.xml")),
    );
    let h = harness(&format!(
        "[[sources]]\nid = \"quiet\"\nkind = \"feed\"\nurl = \"{}\"\ninterval = \"10m\"\n",
        site.url("/rss")
    ));
    let mut events = h.collector.health_handle().subscribe();
    assert_eq!(h.collector.poll_once("quiet").await.unwrap().new_items, 3);
    // Six intervals (the default) pass with nothing new: still fine at exactly 60 minutes.
    h.clock.advance(Duration::from_secs(3600));
    h.collector.poll_once("quiet").await.unwrap();
    assert!(events.try_recv().is_err());
    h.clock.advance(Duration::from_secs(60));
    h.collector.poll_once("quiet").await.unwrap();
    let ev = events.try_recv().unwrap();
    assert!(
        matches!(
            ev.kind,
            yuqing_collect::HealthEventKind::Silent { intervals: 6, .. }
        ),
        "{ev:?}"
    );
    assert!(ev.message().contains("没有新内容"));
    let health = h.collector.health_handle().source("quiet").unwrap();
    assert_eq!(health.status, yuqing_collect::HealthStatus::Silent);
    assert_eq!(
        health.newest_item.unwrap().to_rfc3339(),
        "2026-11-22T10:00:00+08:00"
    );
}

#[tokio::test]
async fn metric_names_follow_the_convention() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/rss",
        Canned::ok("application/rss+xml", fixture("feeds/portal_rss.xml")),
    );
    let h = harness(&format!(
        "[[sources]]\nid = \"m\"\nkind = \"feed\"\nurl = \"{}\"\n",
        site.url("/rss")
    ));
    h.collector.poll_once("m").await.unwrap();
    let text = yuqing_core::telemetry::render();
    let mut seen = 0;
    for line in text
        .lines()
        .filter(|l| l.starts_with("# TYPE yuqing_collect_"))
    {
        let name = line.split_whitespace().nth(2).unwrap();
        if line.ends_with("counter") {
            assert!(name.ends_with("_total"), "{name}");
        }
        seen += 1;
    }
    assert!(seen >= 8, "{text}");
    assert!(text.contains("yuqing_collect_items_emitted_total{kind=\"new\",source=\"m\"} 3"));
    assert!(
        text.contains("yuqing_collect_requests_total{source=\"m\",status=\"2xx\"} 2"),
        "robots.txt and the feed"
    );
    assert!(text.contains("yuqing_component_sent_events_total{stage=\"collect\"}"));
    assert!(!text.contains("127.0.0.1"), "no URLs in labels");
}

#[tokio::test]
async fn malformed_json_pages_fail_or_skip_and_keep_good_pages() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/api/comments?page=1",
        Canned::json(fixture("json/comments_p1.json")),
    );
    // Page 2 is cut mid-document, page 3 is never reached.
    let cut = fixture("json/comments_p2.json");
    site.set(
        "/api/comments?page=2",
        Canned::json(cut[..cut.len() / 2].to_vec()),
    );
    let h = harness(&json_source(&site));
    let r = h.collector.poll_once("comments").await.unwrap();
    assert_eq!(r.new_items, 2, "page 1 kept: {r:?}");
    assert_eq!(site.hits("/api/comments?page=3"), 0);
    // A first page that is not JSON, or lacks the item array, fails the poll.
    site.set("/api/comments?page=1", Canned::html("<html>维护中</html>"));
    assert_eq!(
        h.collector.poll_once("comments").await.unwrap_err().kind(),
        "malformed_json"
    );
    site.set(
        "/api/comments?page=1",
        Canned::json(r#"{"code":500,"msg":"busy"}"#),
    );
    assert_eq!(
        h.collector.poll_once("comments").await.unwrap_err().kind(),
        "malformed_json"
    );
}

#[tokio::test]
async fn two_shards_poll_disjoint_shares_that_cover_every_source() {
    let dirs: Vec<tempfile::TempDir> = (0..8).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut sources = String::new();
    for (i, d) in dirs.iter().enumerate() {
        std::fs::write(
            d.path().join("calls.jsonl"),
            format!("{{\"id\":\"c{i}\",\"platform\":\"hotline\",\"text\":\"市民来电{i}\",\"published_at\":\"2026-11-22T09:00:00+08:00\"}}\n"),
        )
        .unwrap();
        sources.push_str(&format!(
            "[[sources]]\nid = \"drop{i}\"\nkind = \"dir\"\npath = \"{}\"\nsettle = \"0s\"\n",
            d.path().display()
        ));
    }
    let mut got: Vec<String> = Vec::new();
    let mut polled = [0usize; 2];
    for index in 0..2u32 {
        let mut cfg = config(&sources);
        cfg.collect.shard = Some(yuqing_collect::Shard { index, count: 2 });
        let h = harness_with(cfg, Arc::new(MemoryState::new()));
        for i in 0..dirs.len() {
            // Another shard's source is not this process's to poll.
            if h.collector.poll_once(&format!("drop{i}")).await.is_ok() {
                polled[index as usize] += 1;
            }
        }
        got.extend(h.sink.take().into_iter().map(|it| it.id));
    }
    got.sort();
    let want: Vec<String> = (0..dirs.len()).map(|i| format!("c{i}")).collect();
    assert_eq!(got, want, "every source polled by exactly one shard");
    assert!(
        polled.iter().all(|n| *n > 0),
        "both shards had work: {polled:?}"
    );
}
