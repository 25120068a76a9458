//! The demo world served on 127.0.0.1:0 with a ManualClock, fetched with reqwest.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use yuqing_core::{Clock, ManualClock, Platform, SharedClock};
use yuqing_demo::script::{FaultKind, FaultWindow};
use yuqing_demo::{default_start, DemoWorld};

struct Site {
    base: String,
    clock: Arc<ManualClock>,
    world: DemoWorld,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Site {
    async fn start(world: DemoWorld) -> Site {
        let t0 = default_start();
        let world = world.with_start(t0);
        let clock = Arc::new(ManualClock::new(t0));
        let shared: SharedClock = clock.clone();
        let shutdown = CancellationToken::new();
        let (addr, _task) = world
            .clone()
            .serve("127.0.0.1:0".parse().unwrap(), shared, shutdown.clone())
            .await
            .unwrap();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Site {
            base: format!("http://{addr}"),
            clock,
            world,
            http,
            shutdown,
        }
    }

    fn at(&self, d: Duration) {
        self.clock
            .set(default_start() + chrono::Duration::from_std(d).unwrap());
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// The bundled world without error injection (for tests about content).
fn quiet() -> DemoWorld {
    let mut script = yuqing_demo::Script::bundled().unwrap();
    script.world.faults = Default::default();
    DemoWorld::from_script(script).unwrap()
}

fn hours(h: f64) -> Duration {
    Duration::from_secs_f64(h * 3600.0)
}

/// Weibo's created_at → UTC.
fn weibo_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y")
        .unwrap()
        .to_utc()
}

fn as_count(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => {
            if s == "100万+" {
                1_000_000
            } else {
                (s.trim_end_matches('万').parse::<f64>().unwrap() * 10_000.0) as u64
            }
        }
        other => panic!("not a count: {other}"),
    }
}

#[tokio::test]
async fn portal_paging_works_and_terminates() {
    let site = Site::start(quiet()).await;
    site.at(hours(6.0));
    let expected = site
        .world
        .items_at(site.now())
        .into_iter()
        .filter(|i| i.platform == Platform::Portal && i.extra["column"] == "政务动态")
        .count();
    assert!(expected > 20, "need more than a page, got {expected}");
    let mut seen = std::collections::HashSet::new();
    let mut page = 0;
    loop {
        assert!(page < 100, "paging does not terminate");
        let path = if page == 0 {
            "/portal/xwdt/index.html".to_string()
        } else {
            format!("/portal/xwdt/index_{page}.html")
        };
        let r = site.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.unwrap();
        for part in html.split("href=\"./").skip(1) {
            let link = part.split('"').next().unwrap();
            assert!(seen.insert(link.to_string()), "{link} listed twice");
        }
        if !html.contains("class=\"next\"") {
            break;
        }
        page += 1;
    }
    assert_eq!(seen.len(), expected);
    let past_end = site
        .get(&format!("/portal/xwdt/index_{}.html", page + 1))
        .await;
    assert_eq!(past_end.status(), 404);
    // A detail page carries the gov-CMS meta tags.
    let link = seen.iter().next().unwrap();
    let html = site
        .get(&format!("/portal/xwdt/{link}"))
        .await
        .text()
        .await
        .unwrap();
    for tag in [
        "ArticleTitle",
        "PubDate",
        "ContentSource",
        "ColumnName",
        "SiteName",
        "SiteIDCode",
    ] {
        assert!(
            html.contains(&format!("<meta name=\"{tag}\" content=\"")),
            "{tag} missing"
        );
    }
    let rss = site.get("/portal/rss.xml").await.text().await.unwrap();
    assert!(rss.starts_with("<?xml") && rss.contains("<rss version=\"2.0\">"));
    assert!(rss.matches("<item>").count() >= 20);
    let robots = site.get("/robots.txt").await.text().await.unwrap();
    assert!(robots.contains("Disallow: /portal/internal/"));
}

#[tokio::test]
async fn gbk_sections_are_really_gbk() {
    let site = Site::start(quiet()).await;
    site.at(hours(3.0));
    // Charset only in <meta>.
    let r = site.get("/portal/tzgg/index.html").await;
    assert_eq!(r.headers()["content-type"], "text/html");
    let bytes = r.bytes().await.unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "a GBK page must not be valid UTF-8"
    );
    let (text, _, errors) = encoding_rs::GBK.decode(&bytes);
    assert!(!errors);
    assert!(text.contains("charset=gb2312") && text.contains("通知公告"));
    // The incident's official statement is in this section, GBK-encoded.
    let detail = text
        .split("href=\"./")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let bytes = site
        .get(&format!("/portal/tzgg/{detail}"))
        .await
        .bytes()
        .await
        .unwrap();
    let (page, _, errors) = encoding_rs::GBK.decode(&bytes);
    assert!(!errors && page.contains("<meta name=\"ArticleTitle\""));
    // Charset only in the HTTP header.
    let r = site.get("/portal/bmdt/").await;
    assert_eq!(r.headers()["content-type"], "text/html; charset=GBK");
    let bytes = r.bytes().await.unwrap();
    let (text, _, errors) = encoding_rs::GBK.decode(&bytes);
    assert!(!errors && text.contains("部门动态"));
    assert!(
        !text.contains("charset="),
        "header-only section must not declare a meta charset"
    );
}

#[tokio::test]
async fn conditional_get_gives_304() {
    let site = Site::start(quiet()).await;
    site.at(hours(2.5));
    for path in [
        "/portal/xwdt/index.html",
        "/portal/rss.xml",
        "/forum/forum-2-1.html",
    ] {
        let r = site.get(path).await;
        assert_eq!(r.status(), 200);
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let modified = r.headers()["last-modified"].to_str().unwrap().to_string();
        let r = site
            .http
            .get(format!("{}{path}", site.base))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path} with If-None-Match");
        let r = site
            .http
            .get(format!("{}{path}", site.base))
            .header("If-Modified-Since", &modified)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path} with If-Modified-Since");
    }
    // Once something new is published the validators change.
    let r = site.get("/portal/rss.xml").await;
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    site.at(hours(30.0));
    let r = site
        .http
        .get(format!("{}/portal/rss.xml", site.base))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// The first post of the chemical-plant incident, found through search for its wording.
async fn first_post(site: &Site) -> (String, Value) {
    let v = site
        .json("/api/container/getIndex?containerid=100103type%3D61%26q%3D%E7%AA%97%E6%88%B7%E9%83%BD%E5%9C%A8%E6%8A%96%26t%3D0")
        .await;
    assert_eq!(v["ok"], 1, "{v}");
    let mut posts: Vec<Value> = Vec::new();
    for card in v["data"]["cards"].as_array().unwrap() {
        if card["card_type"] == 11 {
            posts.extend(
                card["card_group"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["mblog"].clone()),
            );
        } else if card["card_type"] == 9 {
            posts.push(card["mblog"].clone());
        }
    }
    let oldest = posts
        .into_iter()
        .min_by_key(|m| weibo_time(m["created_at"].as_str().unwrap()))
        .unwrap();
    (oldest["id"].as_str().unwrap().to_string(), oldest)
}

#[tokio::test]
async fn counts_grow_and_nothing_from_the_future_is_served() {
    let site = Site::start(quiet()).await;
    site.at(Duration::from_secs(5 * 60));
    // Before the incident starts (12 minutes in) nobody has posted about it.
    let v = site.json("/api/container/getIndex?containerid=100103type%3D61%26q%3D%E5%B7%A5%E4%B8%9A%E5%9B%AD%E7%88%86%E7%82%B8").await;
    assert_eq!(v["ok"], 0, "{v}");
    site.at(Duration::from_secs(40 * 60));
    let (mid, first) = first_post(&site).await;
    let created = weibo_time(first["created_at"].as_str().unwrap());
    assert_eq!(created, default_start() + chrono::Duration::minutes(12));
    let mut last = (0, 0);
    for h in [1.0, 2.0, 4.0, 8.0] {
        site.at(hours(h));
        let v = site.json(&format!("/statuses/show?id={mid}")).await;
        let m = &v["data"];
        let now = (
            as_count(&m["reposts_count"]),
            as_count(&m["comments_count"]),
        );
        assert!(
            now.0 >= last.0 && now.1 >= last.1,
            "counts went down at {h}h"
        );
        assert!(now.0 + now.1 > last.0 + last.1, "no growth by {h}h");
        last = now;
        // Every repost served so far is in the past.
        let r = site
            .json(&format!("/api/statuses/repostTimeline?id={mid}&page=1"))
            .await;
        for rp in r["data"]["data"].as_array().unwrap() {
            assert!(weibo_time(rp["created_at"].as_str().unwrap()) <= site.now());
        }
        assert_eq!(
            r["data"]["total_number"].as_u64().unwrap(),
            now.0.min(r["data"]["total_number"].as_u64().unwrap())
        );
    }
    // items_at agrees and holds nothing from the future.
    let items = site.world.items_at(site.now());
    assert!(items.iter().all(|i| i.published_at <= site.now()));
    let later = site.world.items_at(site.now() + chrono::Duration::hours(4));
    assert!(later.len() > items.len());
    // A post published later is not visible yet.
    let future = later
        .iter()
        .find(|i| {
            i.platform == Platform::Weibo && i.root_id.is_none() && i.published_at > site.now()
        })
        .unwrap();
    let v = site.json(&format!("/statuses/show?id={}", future.id)).await;
    assert_eq!(v["ok"], 0);
}

#[tokio::test]
async fn hotflow_paging_ends_at_zero() {
    let site = Site::start(quiet()).await;
    site.at(hours(6.0));
    let (mid, _) = first_post(&site).await;
    let mut max_id = String::new();
    let mut ids = std::collections::HashSet::new();
    let mut total = 0;
    for round in 0.. {
        assert!(round < 500, "hotflow paging does not terminate");
        let path = if max_id.is_empty() {
            format!("/comments/hotflow?id={mid}&mid={mid}&max_id_type=0")
        } else {
            format!("/comments/hotflow?id={mid}&mid={mid}&max_id={max_id}&max_id_type=0")
        };
        let v = site.json(&path).await;
        assert_eq!(v["ok"], 1, "{v}");
        total = v["data"]["total_number"].as_u64().unwrap();
        for c in v["data"]["data"].as_array().unwrap() {
            assert!(
                ids.insert(c["id"].as_str().unwrap().to_string()),
                "comment served twice"
            );
            assert!(weibo_time(c["created_at"].as_str().unwrap()) <= site.now());
            assert!(c["comments"].is_array() || c["comments"] == false);
        }
        let next = v["data"]["max_id"].as_u64().unwrap();
        if next == 0 {
            break;
        }
        max_id = next.to_string();
    }
    assert!(ids.len() > 20, "only {} comments", ids.len());
    assert!(ids.len() as u64 <= total);
    let bad = site
        .json(&format!("/comments/hotflow?id={mid}&mid={mid}&max_id=12"))
        .await;
    assert_eq!(bad["ok"], 0);
}

#[tokio::test]
async fn timelines_have_a_pinned_card_and_page_by_since_id() {
    let site = Site::start(quiet()).await;
    site.at(hours(12.0));
    let uid = 6_010_000_001u64; // 万载发布 (pinned post, steady posting)
    let v = site
        .json(&format!(
            "/api/container/getIndex?containerid=107603{uid}&count=5"
        ))
        .await;
    assert_eq!(v["ok"], 1, "{v}");
    let cards = v["data"]["cards"].as_array().unwrap();
    assert_eq!(cards[0]["mblog"]["isTop"], 1);
    assert!(cards[0]["profile_type_id"]
        .as_str()
        .unwrap()
        .starts_with("proweibotop_"));
    assert_eq!(cards[0]["mblog"]["user"]["verified_type"], 1);
    let mut since = v["data"]["cardlistInfo"]["since_id"].as_u64().unwrap();
    let mut seen: Vec<u64> = cards[1..]
        .iter()
        .map(|c| c["mblog"]["id"].as_str().unwrap().parse().unwrap())
        .collect();
    for round in 0.. {
        assert!(round < 200);
        let v = site
            .json(&format!(
                "/api/container/getIndex?containerid=107603{uid}&count=5&since_id={since}"
            ))
            .await;
        if v["ok"] == 0 {
            assert_eq!(v["data"]["cards"].as_array().unwrap().len(), 0);
            break;
        }
        for c in v["data"]["cards"].as_array().unwrap() {
            assert_ne!(c["mblog"]["isTop"], 1, "pinned card only on the first page");
            seen.push(c["mblog"]["id"].as_str().unwrap().parse().unwrap());
        }
        since = v["data"]["cardlistInfo"]["since_id"].as_u64().unwrap();
    }
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "timeline must go from new to old"
    );
    // Hot search lists the incident while it is hot.
    site.at(hours(1.5));
    let hot = site
        .json("/api/container/getIndex?containerid=106003type%3D25%26t%3D3%26disable_hot%3D1%26filter_type%3Drealtimehot")
        .await;
    let words: Vec<&str> = hot["data"]["cards"][0]["card_group"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["desc"].as_str().unwrap())
        .collect();
    assert!(words.contains(&"万载工业园爆炸"), "{words:?}");
}

#[tokio::test]
async fn error_windows_produce_the_envelopes() {
    let mut script = yuqing_demo::Script::bundled().unwrap();
    script.world.faults.rate = 0.0;
    let m = |x: u64| Duration::from_secs(x * 60);
    script.world.faults.windows = vec![
        FaultWindow {
            start: m(10),
            end: m(20),
            kind: FaultKind::Captcha,
        },
        FaultWindow {
            start: m(20),
            end: m(30),
            kind: FaultKind::Http432,
        },
        FaultWindow {
            start: m(30),
            end: m(40),
            kind: FaultKind::Ok0,
        },
        FaultWindow {
            start: m(40),
            end: m(50),
            kind: FaultKind::Html,
        },
    ];
    let site = Site::start(DemoWorld::from_script(script).unwrap()).await;
    let path = "/api/container/getIndex?containerid=1076036010000001";
    site.at(m(5));
    assert_eq!(site.json(path).await["ok"], 1);
    site.at(m(15));
    let v = site.json(path).await;
    assert_eq!(v["ok"], -100);
    assert!(v["url"].as_str().unwrap().contains("captcha"));
    site.at(m(25));
    let r = site.get(path).await;
    assert_eq!(r.status().as_u16(), 432);
    assert!(r.bytes().await.unwrap().is_empty());
    site.at(m(35));
    assert_eq!(site.json(path).await["ok"], 0);
    site.at(m(45));
    let body = site.get(path).await.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&body).is_err() && body.contains("<html"));
    site.at(m(55));
    assert_eq!(site.json(path).await["ok"], 1);
    // The portal is not affected by Weibo's risk control.
    site.at(m(15));
    assert_eq!(site.get("/portal/xwdt/").await.status(), 200);
}

#[tokio::test]
async fn a_fault_rate_fails_about_that_fraction() {
    let mut script = yuqing_demo::Script::bundled().unwrap();
    script.world.faults.rate = 0.3;
    script.world.faults.windows.clear();
    let site = Site::start(DemoWorld::from_script(script).unwrap()).await;
    site.at(hours(1.0));
    let mut failed = 0;
    for _ in 0..200 {
        let r = site
            .get("/api/container/getIndex?containerid=1076036010000001")
            .await;
        let fault = r.status() != 200 || r.json::<Value>().await.map_or(true, |v| v["ok"] != 1);
        failed += usize::from(fault);
    }
    assert!(
        (30..=90).contains(&failed),
        "{failed} of 200 failed at rate 0.3"
    );
}

#[tokio::test]
async fn news_comments_page_by_cursor_and_resume() {
    let site = Site::start(quiet()).await;
    site.at(hours(3.5));
    let list = site.json("/news/api/articles?page=1").await;
    let article = list["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().contains("万载"))
        .expect("the chemical-plant article is out by 3.5h")
        .clone();
    let id = article["id"].as_str().unwrap();
    let page = site
        .get(&format!(
            "/news/{}",
            article["url"]
                .as_str()
                .unwrap()
                .split("/news/")
                .nth(1)
                .unwrap()
        ))
        .await;
    assert_eq!(page.status(), 200);
    let mut cursor = String::new();
    let mut got = Vec::new();
    for round in 0.. {
        assert!(round < 200);
        let v = site
            .json(&format!(
                "/news/api/comments?article={id}&cursor={cursor}&limit=7"
            ))
            .await;
        assert_eq!(v["code"], 0);
        for c in v["data"]["comments"].as_array().unwrap() {
            got.push(c["id"].as_str().unwrap().to_string());
        }
        cursor = v["data"]["next_cursor"].as_str().unwrap().to_string();
        if v["data"]["has_more"] == false {
            assert_eq!(got.len() as u64, v["data"]["total"].as_u64().unwrap());
            break;
        }
    }
    // Later, the saved cursor yields only what is new.
    site.at(hours(20.0));
    let v = site
        .json(&format!(
            "/news/api/comments?article={id}&cursor={cursor}&limit=50"
        ))
        .await;
    let fresh: Vec<String> = v["data"]["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!fresh.is_empty());
    assert!(fresh.iter().all(|c| !got.contains(c)));
    let bad = site
        .get(&format!("/news/api/comments?article={id}&cursor=%%%"))
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn board_replies_appear_on_time() {
    let site = Site::start(quiet()).await;
    site.at(hours(1.0));
    let html = site.get("/board/").await.text().await.unwrap();
    let row = html
        .lines()
        .find(|l| l.contains("拖欠") && l.contains("msg-title"))
        .expect("wage message listed");
    assert!(row.contains("办理中"), "{row}");
    let link = row
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let page = site.get(&link).await.text().await.unwrap();
    assert!(page.contains("办理中") && !page.contains("答复时间"));
    site.at(hours(8.0));
    let page = site.get(&link).await.text().await.unwrap();
    assert!(
        page.contains("已答复")
            && page.contains("答复时间")
            && page.contains("人力资源和社会保障局")
    );
    // The board pages terminate.
    let mut n = 1;
    while site.get(&format!("/board/?page={n}")).await.status() == 200 {
        n += 1;
        assert!(n < 100);
    }
    assert!(n > 2);
}

#[tokio::test]
async fn weibo_fixture_checklist() {
    use yuqing_demo::world::flags;
    let site = Site::start(quiet()).await;
    site.at(hours(24.0));
    let w = site.world.world();
    let now = w.offset(site.now());
    let weibo: Vec<u32> = w.visible(Platform::Weibo, now).collect();
    let find = |flag: u8| {
        weibo
            .iter()
            .copied()
            .find(|&i| {
                w.docs[i as usize].flags & flag != 0
                    && w.docs[i as usize].flags & flags::PINNED == 0
            })
            .map(|i| w.docs[i as usize].id)
            .unwrap()
    };
    // pics as an object.
    let v = site
        .json(&format!("/statuses/show?id={}", find(flags::PICS_OBJECT)))
        .await;
    assert!(
        v["data"]["pics"].is_object() && v["data"]["pics"]["0"]["large"]["url"].is_string(),
        "{v}"
    );
    // A retweet of a deleted post.
    let v = site
        .json(&format!(
            "/statuses/show?id={}",
            find(flags::DELETED_RETWEET)
        ))
        .await;
    assert!(v["data"]["retweeted_status"]["user"].is_null(), "{v}");
    // Long text: cut in lists, whole in statuses/show; also by bid and on the /detail page.
    let s = site
        .json(&format!(
            "/api/container/getIndex?containerid={}",
            urlencode("100103type=61&q=情况通报&t=0")
        ))
        .await;
    let long = s["data"]["cards"][0]["card_group"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["mblog"])
        .find(|m| m["isLongText"] == true)
        .expect("an official statement is long")
        .clone();
    assert!(long["text"].as_str().unwrap().contains("全文"));
    let bid = long["bid"].as_str().unwrap();
    let full = site.json(&format!("/statuses/show?id={bid}")).await;
    assert_eq!(full["data"]["id"], long["id"]);
    let content = full["data"]["longText"]["longTextContent"]
        .as_str()
        .unwrap();
    assert!(
        content.chars().count() > 140 && content.contains("【情况通报】"),
        "{content}"
    );
    let page = site
        .get(&format!("/detail/{}", long["id"].as_str().unwrap()))
        .await
        .text()
        .await
        .unwrap();
    let slice = &page[page.find("\"status\":").unwrap() + 9..page.find("\"call\"").unwrap()];
    let status: Value = serde_json::from_str(slice.trim().trim_end_matches(',')).unwrap();
    assert_eq!(status["id"], long["id"]);
    assert_eq!(status["user"]["verified_type"], 1);
    // Counts as strings on big posts: "1.2万" and "100万+".
    let star = site
        .json("/api/container/getIndex?containerid=1076036010000010")
        .await;
    let likes: Vec<&Value> = star["data"]["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["mblog"]["attitudes_count"])
        .collect();
    assert!(likes.iter().any(|v| *v == "100万+"), "{likes:?}");
    // Old comments API with relative times, and its page count.
    let (mid, _) = first_post(&site).await;
    let c = site
        .json(&format!("/api/comments/show?id={mid}&page=1"))
        .await;
    let when = c["data"]["data"][0]["created_at"].as_str().unwrap();
    assert!(
        when == "刚刚"
            || when.ends_with("分钟前")
            || when.ends_with("小时前")
            || when.starts_with("昨天")
            || when.len() == 5,
        "{when}"
    );
    assert!(c["data"]["max"].as_u64().unwrap() <= 5);
    // repostTimeline pages end.
    let mut seen = 0;
    for page in 1.. {
        assert!(page < 1000);
        let r = site
            .json(&format!(
                "/api/statuses/repostTimeline?id={mid}&page={page}"
            ))
            .await;
        let data = r["data"]["data"].as_array().unwrap();
        if data.is_empty() {
            assert!(page as u64 > r["data"]["max"].as_u64().unwrap());
            break;
        }
        seen += data.len();
        assert_eq!(
            r["data"]["total_number"].as_u64().unwrap(),
            as_count(&full_count(&site, &mid).await)
        );
    }
    assert!(seen > 10);
    // A user profile with tabs.
    let p = site
        .json("/api/container/getIndex?type=uid&value=6010000002")
        .await;
    assert_eq!(p["data"]["userInfo"]["screen_name"], "万载应急管理（演示）");
    assert_eq!(
        p["data"]["tabsInfo"]["tabs"][1]["containerid"],
        "1076036010000002"
    );
}

async fn full_count(site: &Site, mid: &str) -> Value {
    site.json(&format!("/statuses/show?id={mid}")).await["data"]["reposts_count"].clone()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn forum_threads_page_through_their_replies() {
    let site = Site::start(quiet()).await;
    site.at(hours(10.0));
    let list = site
        .get("/forum/forum-2-1.html")
        .await
        .text()
        .await
        .unwrap();
    let tid: u64 = list
        .split("normalthread_")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut posts = 0;
    for page in 1.. {
        assert!(page < 100);
        let r = site
            .get(&format!("/forum/thread-{tid}-{page}-1.html"))
            .await;
        if r.status() == 404 {
            break;
        }
        let html = r.text().await.unwrap();
        posts += html.matches("id=\"postmessage_").count();
        if !html.contains("class=\"nxt\"") {
            break;
        }
    }
    let tid = tid.to_string();
    let replies = site
        .world
        .items_at(site.now())
        .into_iter()
        .filter(|i| i.source == "demo-forum" && i.root_id.as_deref() == Some(tid.as_str()))
        .count();
    assert_eq!(posts, 1 + replies);
}

#[tokio::test]
async fn bad_requests_get_clear_answers_never_server_errors() {
    let site = Site::start(quiet()).await;
    site.at(hours(3.0));
    for path in [
        "/portal/nosuch/",
        "/portal/xwdt/index_x.html",
        "/portal/xwdt/index_0.html",
        "/portal/xwdt/202611/t20261122_999999999.html",
        "/portal/xwdt/209901/garbage.html",
        "/portal/internal/secret.html",
        "/forum/forum-9-1.html",
        "/forum/thread-abc-1-1.html",
        "/forum/thread-100000-0-1.html",
        "/news/?page=0",
        "/news/?page=abc",
        "/news/20261122/x.html",
        "/news/api/comments",
        "/news/api/comments?article=abc",
        "/news/api/comments?article=3000000&limit=0",
        "/news/api/comments?article=3000000&limit=99999",
        "/news/api/articles?page=-1",
        "/board/?page=999999",
        "/board/detail/1.html",
        "/api/container/getIndex",
        "/api/container/getIndex?containerid=107603abc",
        "/api/container/getIndex?containerid=1076031&page=0",
        "/api/container/getIndex?containerid=100103type%3D61",
        "/api/container/getIndex?containerid=100505x",
        "/api/container/getIndex?type=uid&value=x",
        "/api/container/getIndex?containerid=999",
        "/statuses/show",
        "/statuses/show?id=%F0%9F%92%A9",
        "/detail/zzzzzzzzzzzzzzzzzzzzzzzz",
        "/comments/hotflow?id=1&max_id=abc",
        "/api/comments/show?id=1&page=-3",
        "/api/statuses/repostTimeline?id=1&page=x",
        "/no/such/path",
    ] {
        let r = site.get(path).await;
        let status = r.status();
        assert!(status.as_u16() < 500, "{path}: {status}");
        let body = r.bytes().await.unwrap();
        if status.is_success() {
            // Weibo-style endpoints answer a JSON envelope that says what is wrong.
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            assert!(v["ok"] == 0 || v["code"] != Value::Null, "{path}: {v}");
        }
    }
    // The request counter is exported for Prometheus.
    let text = yuqing_core::telemetry::render();
    assert!(
        text.contains("yuqing_demo_requests_total{endpoint=\"portal_list\",outcome=\"not_found\"}")
    );
}
