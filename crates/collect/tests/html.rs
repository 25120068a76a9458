//! HTML portals and message boards against a loopback server.

mod common;

use std::time::Duration;

use common::*;
use yuqing_core::Platform;

fn serve_portal(site: &Site) {
    allow_robots(site);
    site.set(
        "/tzgg/index.html",
        Canned::html(fixture("html/list_1.html"))
            .header("last-modified", "Sun, 22 Nov 2026 01:00:00 GMT"),
    );
    site.set(
        "/tzgg/index_1.html",
        Canned::html(fixture("html/list_2.html")),
    );
    for n in 1..=5 {
        site.set(
            &format!("/tzgg/art_{n}.html"),
            Canned::html(fixture(&format!("html/art_{n}.html"))),
        );
    }
}

fn portal_source(site: &Site) -> String {
    format!(
        r#"
        [[sources]]
        id = "county-portal"
        kind = "html"
        list_url = "{}"
        page_url = "{}"
        link_selector = "ul.list a[href]"
        region = "某县"
        max_pages = 5
        "#,
        site.url("/tzgg/index.html"),
        site.url("/tzgg/index_{page}.html")
    )
}

#[tokio::test]
async fn portal_list_paging_detail_meta_and_incremental_polls() {
    let site = Site::start().await;
    serve_portal(&site);
    let h = harness(&portal_source(&site));
    let r = h.collector.poll_once("county-portal").await.unwrap();
    assert_eq!(r.new_items, 5, "{r:?}");
    // 2 list pages + 5 details (art_3 is on both pages but fetched once); index_2 is a 404 never asked for.
    assert_eq!(site.hits("/tzgg/art_3.html"), 1);
    let items = h.sink.take();
    let a1 = items
        .iter()
        .find(|i| i.title.as_deref() == Some("关于做好今冬明春森林防火工作的通知"))
        .unwrap();
    assert_eq!(
        a1.url.as_deref(),
        Some(site.url("/tzgg/art_1.html").as_str())
    );
    assert_eq!(a1.published_at.to_rfc3339(), "2026-11-22T09:30:00+08:00");
    assert_eq!(a1.author.as_deref(), Some("县林业局"));
    assert_eq!(a1.platform, Platform::Portal);
    assert_eq!(a1.region.as_deref(), Some("某县"));
    assert_eq!(a1.extra["author_kind"], "official");
    assert_eq!(a1.extra["column"], "通知公告");
    assert_eq!(a1.extra["site"], "某县人民政府");
    assert!(
        a1.text
            .starts_with("各乡镇人民政府，县直有关单位：\n当前已进入森林防火紧要期"),
        "{}",
        a1.text
    );
    assert!(!a1.text.contains("主办单位") && !a1.text.contains("_hmt"));

    // Second poll: the list answers with the same Last-Modified → 304, no detail fetched again.
    site.set(
        "/tzgg/index.html",
        Canned::html(fixture("html/list_1.html")).header("etag", "\"l1\""),
    );
    let r = h.collector.poll_once("county-portal").await.unwrap();
    assert_eq!(r.new_items, 0);
    assert_eq!(site.hits("/tzgg/art_1.html"), 1);
    assert_eq!(
        site.hits("/tzgg/index_1.html"),
        1,
        "a page of known links stops paging"
    );
    let r = h.collector.poll_once("county-portal").await.unwrap();
    assert!(r.not_modified, "etag answered 304");
}

#[tokio::test]
async fn restart_with_the_same_state_neither_misses_nor_duplicates() {
    let site = Site::start().await;
    serve_portal(&site);
    let state = std::sync::Arc::new(yuqing_collect::MemoryState::new());
    let h1 = harness_with(config(&portal_source(&site)), state.clone());
    assert_eq!(
        h1.collector
            .poll_once("county-portal")
            .await
            .unwrap()
            .new_items,
        5
    );
    drop(h1);
    // A new article appears on page 1 while we are down.
    let list = fixture_str("html/list_1.html").replace(
        "<ul class=\"list\">",
        "<ul class=\"list\">\n<li><a href=\"./art_6.html\">新增文章</a></li>",
    );
    site.set("/tzgg/index.html", Canned::html(list));
    site.set(
        "/tzgg/art_6.html",
        Canned::html(fixture_str("html/art_1.html").replace("森林防火", "冬季安全")),
    );
    let h2 = harness_with(config(&portal_source(&site)), state);
    let r = h2.collector.poll_once("county-portal").await.unwrap();
    assert_eq!(r.new_items, 1, "{r:?}");
    assert!(h2.sink.take()[0]
        .title
        .as_deref()
        .unwrap()
        .contains("冬季安全"));
}

#[tokio::test]
async fn gbk_gb2312_gb18030_pages_decode_from_header_or_meta() {
    let site = Site::start().await;
    allow_robots(&site);
    let list = r#"<html><body><a href="/a/1.html">一</a><a href="/a/2.html">二</a><a href="/a/3.html">三</a><a href="/a/4.html">四</a></body></html>"#;
    site.set("/list", Canned::html(list));
    let page = |title: &str, charset_meta: &str| {
        format!(
            r#"<html><head>{charset_meta}<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="2026-11-22 08:00"></head><body><div id="zoom"><p>{title}的正文内容，用于检验中文编码的正确解码，字数需要足够多才行。</p></div></body></html>"#
        )
    };
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();
    let gb18030 = |s: &str| encoding_rs::GB18030.encode(s).0.into_owned();
    // 1: charset only in the HTTP header.
    site.set(
        "/a/1.html",
        Canned::ok("text/html; charset=GBK", gbk(&page("镕基站通告一", ""))),
    );
    // 2: charset only in <meta http-equiv>.
    site.set(
        "/a/2.html",
        Canned::ok(
            "text/html",
            gbk(&page(
                "通告二",
                r#"<meta http-equiv="Content-Type" content="text/html; charset=gb2312">"#,
            )),
        ),
    );
    // 3: GB18030 in <meta charset>, a character outside GBK.
    site.set(
        "/a/3.html",
        Canned::ok(
            "text/html",
            gb18030(&page("通告三𠀀", r#"<meta charset="gb18030">"#)),
        ),
    );
    // 4: the header lies (UTF-8) about a GBK page.
    site.set(
        "/a/4.html",
        Canned::ok("text/html; charset=utf-8", gbk(&page("通告四", ""))),
    );
    let h = harness(&format!(
        "[[sources]]\nid = \"enc\"\nkind = \"html\"\nlist_url = \"{}\"\n",
        site.url("/list")
    ));
    let r = h.collector.poll_once("enc").await.unwrap();
    assert_eq!(r.new_items, 4, "{r:?}");
    let mut titles: Vec<String> = h
        .sink
        .take()
        .into_iter()
        .map(|i| i.title.unwrap())
        .collect();
    titles.sort();
    assert_eq!(titles, vec!["通告三𠀀", "通告二", "通告四", "镕基站通告一"]);
}

#[tokio::test]
async fn bad_pages_are_counted_skips_and_good_ones_still_arrive() {
    let site = Site::start().await;
    allow_robots(&site);
    let list = r#"<html><body>
        <a href="/ok.html">ok</a><a href="/loop1">loop</a><a href="/giant.html">giant</a><a href="/slow.html">slow</a>
        <a href="/cut.html">cut</a><a href="/gone.html">gone</a><a href="/broken.html">broken</a><a href="/err.html">err</a></body></html>"#;
    site.set("/list", Canned::html(list));
    site.set("/ok.html", Canned::html(fixture("html/art_2.html")));
    site.set("/loop1", Canned::redirect("/loop2"));
    site.set("/loop2", Canned::redirect("/loop1"));
    site.set("/giant.html", Canned::html(vec![b'a'; 3 * 1024 * 1024]));
    site.set(
        "/slow.html",
        Canned::html(fixture("html/art_3.html")).delayed(Duration::from_secs(5)),
    );
    site.set(
        "/cut.html",
        Canned::html(fixture("html/art_4.html")).truncated(),
    );
    site.set(
        "/broken.html",
        Canned::html(
            "<html><body><div><p>只有半截的页面，标签没有闭合，但正文仍然可以读出来。<div><span",
        ),
    );
    site.set("/err.html", Canned::status(503));
    let h = harness(&format!(
        "[[sources]]\nid = \"bad\"\nkind = \"html\"\nlist_url = \"{}\"\nconcurrency = 8\n",
        site.url("/list")
    ));
    let r = h.collector.poll_once("bad").await.unwrap();
    let items = h.sink.take();
    let urls: Vec<String> = items.iter().filter_map(|i| i.url.clone()).collect();
    assert!(urls.contains(&site.url("/ok.html")), "{urls:?}");
    assert!(
        urls.contains(&site.url("/broken.html")),
        "a broken page still gives its text: {urls:?}"
    );
    assert_eq!(r.new_items, 2, "{r:?}");
    assert_eq!(r.skipped, 6, "loop, giant, slow, cut, 404, 503: {r:?}");
    assert_eq!(site.hits("/err.html"), 2, "a 503 is retried once");
    let text = yuqing_core::telemetry::render();
    for reason in ["redirect", "too_large", "timeout", "http_4xx", "http_5xx"] {
        assert!(
            text.contains(&format!(
                "yuqing_collect_skipped_total{{reason=\"{reason}\",source=\"bad\"}}"
            )),
            "{reason} not counted"
        );
    }
    // Skipped pages were not marked seen: they are tried again next poll.
    site.set("/err.html", Canned::html(fixture("html/art_5.html")));
    let r = h.collector.poll_once("bad").await.unwrap();
    assert_eq!(r.new_items, 1, "{r:?}");
}

#[tokio::test]
async fn robots_txt_is_honoured_unless_overridden() {
    let site = Site::start().await;
    site.set("/robots.txt", Canned::ok("text/plain", "User-agent: *\nDisallow: /private/\n\nUser-agent: yuqing\nDisallow: /private/\nDisallow: /secret\n"));
    site.set(
        "/private/list",
        Canned::html(r#"<a href="/private/a.html">a</a>"#),
    );
    site.set("/private/a.html", Canned::html(fixture("html/art_1.html")));
    let sources = format!(
        "[[sources]]\nid = \"polite\"\nkind = \"html\"\nlist_url = \"{0}\"\n[[sources]]\nid = \"override\"\nkind = \"html\"\nlist_url = \"{0}\"\nrobots = false\n",
        site.url("/private/list")
    );
    let h = harness(&sources);
    let e = h.collector.poll_once("polite").await.unwrap_err();
    assert_eq!(e.kind(), "robots_denied");
    assert_eq!(site.hits("/private/list"), 0);
    assert_eq!(
        h.collector.poll_once("override").await.unwrap().new_items,
        1
    );
    // An unreachable robots.txt (5xx) closes the host for now (RFC 9309).
    let site2 = Site::start().await;
    site2.set("/robots.txt", Canned::status(500));
    site2.set("/list", Canned::html("<a href=\"/x.html\">x</a>"));
    let h2 = harness(&format!(
        "[[sources]]\nid = \"p2\"\nkind = \"html\"\nlist_url = \"{}\"\n",
        site2.url("/list")
    ));
    assert_eq!(
        h2.collector.poll_once("p2").await.unwrap_err().kind(),
        "robots_denied"
    );
}

#[tokio::test]
async fn selectors_views_and_reobservation_of_counts() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/local/",
        Canned::html(r#"<div class="list"><a href="/news/1.html">电梯困人</a></div>"#),
    );
    site.set("/news/1.html", Canned::html(fixture("html/news_1.html")));
    let h = harness(&format!(
        r#"
        [[sources]]
        id = "news"
        kind = "html"
        platform = "news"
        list_url = "{}"
        link_selector = "div.list a"
        detail = {{ title = "h1", time = ".info .time", author = ".info .source", views = ".info .views" }}
        "#,
        site.url("/local/")
    ));
    assert_eq!(h.collector.poll_once("news").await.unwrap().new_items, 1);
    let item = h.sink.take().remove(0);
    assert_eq!(item.title.as_deref(), Some("某地一小区电梯困人 物业回应"));
    assert_eq!(item.author.as_deref(), Some("示例新闻网"));
    assert_eq!(item.published_at.to_rfc3339(), "2026-11-22T08:41:00+08:00");
    assert_eq!(item.metrics.views, Some(23_000));
    assert!(
        item.text.starts_with("11月21日晚"),
        "main text by density: {}",
        item.text
    );
    assert!(!item.text.contains("相关阅读"));
    // Not due yet.
    assert_eq!(h.collector.poll_once("news").await.unwrap().reobserved, 0);
    h.clock.advance(Duration::from_secs(600));
    site.set(
        "/news/1.html",
        Canned::html(fixture_str("html/news_1.html").replace("阅读 2.3万", "阅读 5.1万")),
    );
    let r = h.collector.poll_once("news").await.unwrap();
    assert_eq!(r.reobserved, 1, "{r:?}");
    let again = h.sink.take().remove(0);
    assert_eq!(again.id, item.id);
    assert_eq!(again.metrics.views, Some(51_000));
    assert!(again.observed_at > item.observed_at);
}

#[tokio::test]
async fn message_board_reply_status_and_reply_change_reobserved() {
    let site = Site::start().await;
    allow_robots(&site);
    site.set(
        "/liuyan/list",
        Canned::html(fixture("html/board_list.html")),
    );
    site.set(
        "/liuyan/detail?id=101",
        Canned::html(fixture("html/board_101.html")),
    );
    site.set(
        "/liuyan/detail?id=102",
        Canned::html(fixture("html/board_102.html")),
    );
    let h = harness(&format!(
        r#"
        [[sources]]
        id = "board"
        kind = "board"
        list_url = "{}"
        row_selector = "tr.row"
        row_status = "td.st"
        reply_status = ".reply .status"
        replied_at = ".reply .rtime"
        reply_text = ".reply .rtext"
        replier = ".reply .org"
        region = "某市"
        detail = {{ title = "h2.subject", text = ".msg .content", time = ".meta .when", author = ".meta .who" }}
        "#,
        site.url("/liuyan/list")
    ));
    assert_eq!(h.collector.poll_once("board").await.unwrap().new_items, 2);
    let items = h.sink.take();
    let m101 = items
        .iter()
        .find(|i| i.url.as_deref().unwrap().ends_with("id=101"))
        .unwrap();
    assert_eq!(m101.platform, Platform::Board);
    assert_eq!(m101.author.as_deref(), Some("网友甲"));
    assert_eq!(m101.published_at.to_rfc3339(), "2026-11-20T09:12:00+08:00");
    assert_eq!(m101.extra["reply_status"], "已回复");
    assert_eq!(m101.extra["replied_at"], "2026-11-21T16:20:00+08:00");
    assert_eq!(m101.extra["replier"], "某区住房和城乡建设局");
    assert!(m101.extra["reply_text"]
        .as_str()
        .unwrap()
        .contains("11月28日前"));
    let m102 = items
        .iter()
        .find(|i| i.url.as_deref().unwrap().ends_with("id=102"))
        .unwrap();
    assert_eq!(m102.extra["reply_status"], "办理中");
    assert!(m102.extra.get("replied_at").is_none());

    // Ten minutes later the 102 message has been answered: a re-observation carries the reply.
    h.clock.advance(Duration::from_secs(600));
    site.set(
        "/liuyan/detail?id=102",
        Canned::html(fixture("html/board_102_replied.html")),
    );
    let r = h.collector.poll_once("board").await.unwrap();
    assert_eq!((r.new_items, r.reobserved), (0, 1), "{r:?}");
    let again = h.sink.take().remove(0);
    assert_eq!(again.id, m102.id);
    assert_eq!(again.extra["reply_status"], "已回复");
    assert_eq!(again.extra["replied_at"], "2026-11-22T10:05:00+08:00");
}

#[tokio::test]
async fn real_gov_pages_extract_their_meta_tags() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/gov_pages");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipping: {} is absent", dir.display());
        return;
    };
    let site = Site::start().await;
    allow_robots(&site);
    let mut links = String::new();
    let mut expected = Vec::new();
    for (i, e) in entries.flatten().enumerate() {
        let body = std::fs::read(e.path()).unwrap();
        let text = String::from_utf8_lossy(&body).to_string();
        let meta = |name: &str| {
            let key = format!("<meta name=\"{name}\" content=\"");
            text.find(&key)
                .map(|p| text[p + key.len()..].split('"').next().unwrap().to_string())
        };
        expected.push((meta("ArticleTitle").unwrap(), meta("PubDate").unwrap()));
        site.set(&format!("/gov/{i}.html"), Canned::html(body));
        links.push_str(&format!("<a href=\"/gov/{i}.html\">{i}</a>"));
    }
    site.set("/gov/", Canned::html(links));
    let h = harness(&format!(
        "[[sources]]\nid = \"gov\"\nkind = \"html\"\nlist_url = \"{}\"\n",
        site.url("/gov/")
    ));
    let r = h.collector.poll_once("gov").await.unwrap();
    assert_eq!(r.new_items as usize, expected.len());
    let items = h.sink.take();
    for (title, pubdate) in expected {
        let item = items
            .iter()
            .find(|i| i.title.as_deref() == Some(title.as_str()))
            .unwrap_or_else(|| panic!("{title}"));
        let want = yuqing_collect::timeparse::parse_time(&pubdate, common::t0()).unwrap();
        assert_eq!(item.published_at, want);
        assert!(
            item.text.chars().count() > 1000,
            "{title}: main text found ({} chars)",
            item.text.chars().count()
        );
        assert!(item.text.contains("统计"), "{title}");
        assert_eq!(item.extra["author_kind"], "official");
    }
}

#[tokio::test]
async fn next_selector_paging() {
    let site = Site::start().await;
    serve_portal(&site);
    let h = harness(&format!(
        "[[sources]]\nid = \"next\"\nkind = \"html\"\nlist_url = \"{}\"\nnext_selector = \"a.next\"\nlink_selector = \"ul.list a\"\n",
        site.url("/tzgg/index.html")
    ));
    let r = h.collector.poll_once("next").await.unwrap();
    assert_eq!(r.new_items, 5, "{r:?}");
    assert_eq!(site.hits("/tzgg/index_1.html"), 1);
}
