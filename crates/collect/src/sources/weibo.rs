//! Weibo mobile-web JSON (`m.weibo.cn`): user timelines, keyword search, hot search, a post's
//! comments (hotflow) and reposts (repostTimeline), long text (statuses/show). Envelopes `ok:0`,
//! `ok:-100` (captcha) and HTTP 432 are health events, never data.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use yuqing_core::{Item, Platform};

use crate::config::WeiboSource;
use crate::error::{CollectError, FetchError};
use crate::runtime::{fingerprint, NewItem, Poll};
use crate::state::Tracked;
use crate::text::{html_to_text, json_count};
use crate::timeparse::parse_time;

enum Target {
    User(String),
    Search(String),
    Hot,
    Post(String),
}

pub(crate) struct WeiboPlan {
    base: String,
    target: Target,
    search_type: u32,
    comments: bool,
    reposts: bool,
    thread_pages: u32,
    long_text: bool,
}

impl WeiboPlan {
    pub(crate) fn build(w: &WeiboSource) -> Result<WeiboPlan, String> {
        let target = if let Some(u) = &w.user {
            Target::User(u.clone())
        } else if let Some(k) = &w.keyword {
            Target::Search(k.clone())
        } else if w.hot {
            Target::Hot
        } else if let Some(p) = &w.post {
            Target::Post(p.clone())
        } else {
            return Err("set one of user, keyword, hot and post".to_string());
        };
        Ok(WeiboPlan {
            base: w.base_url.trim_end_matches('/').to_string(),
            target,
            search_type: w.search_type,
            comments: w.comments,
            reposts: w.reposts,
            thread_pages: w.thread_pages,
            long_text: w.long_text,
        })
    }

    fn referer(&self) -> String {
        match &self.target {
            Target::User(u) => format!("{}/u/{u}", self.base),
            Target::Post(id) => format!("{}/detail/{id}", self.base),
            _ => format!("{}/", self.base),
        }
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Fetches a Weibo API URL and opens its envelope: the `data` on `ok:1`.
async fn api(p: &mut Poll<'_>, plan: &WeiboPlan, url: &str) -> Result<Value, CollectError> {
    let referer = plan.referer();
    let headers = [
        ("mweibo-pwa", "1"),
        ("x-requested-with", "XMLHttpRequest"),
        ("accept", "application/json, text/plain, */*"),
        ("referer", referer.as_str()),
    ];
    let resp = p.get(url, &headers, false).await?;
    let text = p.decode(&resp).text;
    parse_envelope(&text)
}

/// Opens a Weibo envelope.
pub(crate) fn parse_envelope(text: &str) -> Result<Value, CollectError> {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let lower = text.to_ascii_lowercase();
            if lower.contains("captcha")
                || lower.contains("passport.weibo")
                || lower.contains("visitor")
            {
                return Err(CollectError::Blocked {
                    reason: "login or captcha page instead of JSON".into(),
                });
            }
            return Err(CollectError::Parse {
                what: "json",
                message: e.to_string(),
            });
        }
    };
    let ok = match v.get("ok") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    };
    let msg = v.get("msg").and_then(Value::as_str).unwrap_or("");
    match ok {
        1 => Ok(v.get("data").cloned().unwrap_or(Value::Null)),
        // "这里还没有内容": an empty list (a search without results, a page past the end). It is
        // what the site says when there is nothing, not a failure of the source.
        0 if msg.contains("还没有内容") => Ok(serde_json::json!({ "cards": [] })),
        -100 => Err(CollectError::Blocked {
            reason: format!(
                "captcha (ok:-100, {})",
                v.get("url").and_then(Value::as_str).unwrap_or("")
            ),
        }),
        _ => Err(CollectError::Api {
            message: format!(
                "ok:{ok} {}",
                v.get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
        }),
    }
}

fn s(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The mblogs of a card list (type 9 cards, and type 11 groups), with their pinned flag.
fn mblogs(cards: &Value) -> Vec<(Value, bool, Option<String>)> {
    let mut out = Vec::new();
    let Some(cards) = cards.as_array() else {
        return out;
    };
    for card in cards {
        let group = card.get("card_group").and_then(Value::as_array);
        let inner: Vec<&Value> = match group {
            Some(g) => g.iter().collect(),
            None => vec![card],
        };
        for c in inner {
            if let Some(m) = c.get("mblog").filter(|m| m.is_object()) {
                let pinned = c
                    .get("profile_type_id")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.starts_with("proweibotop"))
                    || m.get("isTop").and_then(Value::as_i64) == Some(1)
                    || m.get("mblogtype").and_then(Value::as_i64) == Some(2);
                let scheme = c.get("scheme").and_then(Value::as_str).map(str::to_string);
                out.push((m.clone(), pinned, scheme));
            }
        }
    }
    out
}

fn bid_of(m: &Value, scheme: Option<&str>) -> Option<String> {
    if let Some(b) = m.get("bid").and_then(s) {
        return Some(b);
    }
    let scheme = scheme?;
    if let Some(i) = scheme.find("mblogid=") {
        let rest = &scheme[i + 8..];
        let b: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if !b.is_empty() {
            return Some(b);
        }
    }
    let i = scheme.find("/status/")?;
    let b: String = scheme[i + 8..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    (!b.is_empty()).then_some(b)
}

/// The item of an mblog (a post, a repost, or an entry of repostTimeline).
pub(crate) fn mblog_item(
    p: &Poll<'_>,
    m: &Value,
    scheme: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Item> {
    let id = m
        .get("id")
        .and_then(s)
        .or_else(|| m.get("mid").and_then(s))?;
    let raw = m
        .get("longText")
        .and_then(|l| l.get("longTextContent"))
        .and_then(Value::as_str)
        .or_else(|| m.get("text").and_then(Value::as_str))
        .unwrap_or("");
    let mut text = html_to_text(raw);
    let pics = pics(m);
    if text.trim().is_empty() && !pics.is_empty() {
        text = "[图片]".to_string();
    }
    let mut item = p.item(id.clone(), text);
    item.platform = Platform::Weibo;
    let bid = bid_of(m, scheme);
    item.url = Some(format!(
        "https://m.weibo.cn/status/{}",
        bid.as_deref().unwrap_or(&id)
    ));
    match m
        .get("created_at")
        .and_then(Value::as_str)
        .and_then(|t| parse_time(t, now))
    {
        Some(t) => item.published_at = t,
        None => {
            item.extra.insert("published_estimated".into(), true.into());
        }
    }
    item.metrics.reposts = m.get("reposts_count").and_then(json_count);
    item.metrics.comments = m.get("comments_count").and_then(json_count);
    item.metrics.likes = m.get("attitudes_count").and_then(json_count);
    if let Some(u) = m.get("user").filter(|u| u.is_object()) {
        item.author = u.get("screen_name").and_then(s);
        if let Some(uid) = u.get("id").and_then(s) {
            item.extra.insert("author_id".into(), uid.into());
        }
        if let Some(vt) = u.get("verified_type").and_then(Value::as_i64) {
            item.extra.insert("verified_type".into(), vt.into());
            // 1 政府, 3 媒体 (Weibo's organisation verification types).
            match vt {
                1 => {
                    item.extra.insert("author_kind".into(), "official".into());
                }
                3 => {
                    item.extra.insert("author_kind".into(), "media".into());
                }
                _ => {}
            }
        }
    }
    if let Some(b) = bid {
        item.extra.insert("bid".into(), b.into());
    }
    if let Some(mid) = m.get("mid").and_then(s) {
        item.extra.insert("mid".into(), mid.into());
    }
    if !pics.is_empty() {
        item.extra.insert(
            "pics".into(),
            Value::Array(pics.into_iter().map(Value::String).collect()),
        );
    }
    if m.get("isLongText").and_then(Value::as_bool) == Some(true) && m.get("longText").is_none() {
        item.extra.insert("truncated".into(), true.into());
    }
    if let Some(r) = m.get("region_name").and_then(Value::as_str) {
        let r = r.trim_start_matches("发布于").trim();
        if !r.is_empty() {
            item.region = Some(r.to_string());
        }
    }
    if let Some(rt) = m.get("retweeted_status").filter(|r| r.is_object()) {
        if let Some(rid) = rt.get("id").and_then(s) {
            item.parent_id = Some(rid.clone());
            item.root_id = Some(rid);
        }
        if rt.get("user").is_none_or(Value::is_null) {
            item.extra.insert("retweet_deleted".into(), true.into());
        }
    }
    Some(item)
}

/// Large picture URLs; `pics` may be an array or an object keyed "0", "1", ….
fn pics(m: &Value) -> Vec<String> {
    let list: Vec<&Value> = match m.get("pics") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(o)) => {
            let mut v: Vec<(&String, &Value)> = o.iter().collect();
            v.sort_by_key(|(k, _)| k.parse::<u32>().unwrap_or(u32::MAX));
            v.into_iter().map(|(_, v)| v).collect()
        }
        _ => Vec::new(),
    };
    list.into_iter()
        .filter_map(|p| {
            p.get("large")
                .and_then(|l| l.get("url"))
                .and_then(Value::as_str)
                .or_else(|| p.get("url").and_then(Value::as_str))
        })
        .map(str::to_string)
        .collect()
}

/// Fills the full text of a long post from statuses/show; on failure keeps the truncated text.
async fn full_text(
    p: &mut Poll<'_>,
    plan: &WeiboPlan,
    item: &mut Item,
) -> Result<(), CollectError> {
    let url = format!("{}/statuses/show?id={}", plan.base, enc(&item.id));
    match api(p, plan, &url).await {
        Ok(data) => {
            let raw = data
                .get("longTextContent")
                .and_then(Value::as_str)
                .or_else(|| data.get("text").and_then(Value::as_str));
            if let Some(raw) = raw {
                let t = html_to_text(raw);
                if !t.is_empty() {
                    item.text = t;
                    item.extra.remove("truncated");
                }
            }
            Ok(())
        }
        Err(e) if e.is_blocked() => Err(e),
        Err(e) => {
            p.skip("long_text_failed", &e);
            Ok(())
        }
    }
}

pub(crate) async fn poll(p: &mut Poll<'_>, plan: &WeiboPlan) -> Result<(), CollectError> {
    match &plan.target {
        Target::Hot => hot(p, plan).await,
        Target::Post(id) => {
            let id = id.clone();
            follow_post(p, plan, &id).await
        }
        Target::User(_) | Target::Search(_) => timeline(p, plan).await,
    }
}

fn page_url(plan: &WeiboPlan, page: u32) -> String {
    match &plan.target {
        Target::User(uid) => format!(
            "{}/api/container/getIndex?containerid=107603{uid}&page={page}",
            plan.base
        ),
        Target::Search(kw) => format!(
            "{}/api/container/getIndex?containerid={}&page_type=searchall&page={page}",
            plan.base,
            enc(&format!("100103type={}&q={kw}&t=0", plan.search_type))
        ),
        _ => String::new(),
    }
}

async fn timeline(p: &mut Poll<'_>, plan: &WeiboPlan) -> Result<(), CollectError> {
    let max_pages = p.cfg().common.max_pages;
    for page in 1..=max_pages {
        let data = match api(p, plan, &page_url(plan, page)).await {
            Ok(d) => d,
            // `ok:0` past the first page is the end of the list.
            Err(CollectError::Api { .. }) if page > 1 => break,
            Err(e) => return Err(e),
        };
        let cards = data.get("cards").cloned().unwrap_or(Value::Null);
        let found = mblogs(&cards);
        if found.is_empty() {
            if page == 1 && !cards.is_array() {
                p.skip("no_cards", &"timeline without cards");
            }
            break;
        }
        let now = p.now();
        let mut posts = Vec::new();
        for (m, pinned, scheme) in &found {
            match mblog_item(p, m, scheme.as_deref(), now) {
                Some(mut item) => {
                    if *pinned {
                        item.extra.insert("pinned".into(), true.into());
                    }
                    let original = m
                        .get("retweeted_status")
                        .filter(|r| r.get("user").is_some_and(Value::is_object))
                        .and_then(|r| mblog_item(p, r, None, now));
                    posts.push((item, *pinned));
                    if let Some(o) = original {
                        posts.push((o, true));
                    }
                }
                None => p.skip("malformed_post", &"mblog without id"),
            }
        }
        let ids: Vec<String> = posts.iter().map(|(i, _)| i.id.clone()).collect();
        let seen = p.seen(&ids).await?;
        let mut fresh = Vec::new();
        let mut any_new_unpinned = false;
        for ((mut item, pinned), seen) in posts.into_iter().zip(seen) {
            if seen {
                continue;
            }
            any_new_unpinned |= !pinned;
            if plan.long_text && item.extra.contains_key("truncated") {
                full_text(p, plan, &mut item).await?;
            }
            fresh.push(item);
        }
        let new_ids: Vec<(String, Option<String>)> = fresh
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    i.extra
                        .get("mid")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                )
            })
            .collect();
        let batch = fresh.into_iter().map(|i| {
            let id = i.id.clone();
            NewItem::tracked(i, id)
        });
        p.emit_new(batch.collect()).await?;
        for (id, mid) in new_ids {
            threads(p, plan, &id, mid.as_deref()).await?;
        }
        if !any_new_unpinned {
            break;
        }
    }
    Ok(())
}

/// Comments and reposts of a post, as configured.
async fn threads(
    p: &mut Poll<'_>,
    plan: &WeiboPlan,
    id: &str,
    mid: Option<&str>,
) -> Result<(), CollectError> {
    if plan.comments {
        let r = comments(p, plan, id, mid.unwrap_or(id)).await;
        soft(p, r)?;
    }
    if plan.reposts {
        let r = reposts(p, plan, id).await;
        soft(p, r)?;
    }
    Ok(())
}

/// A failed thread fetch is a skip unless it blocks us or the sink failed.
fn soft(p: &mut Poll<'_>, r: Result<(), CollectError>) -> Result<(), CollectError> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.is_blocked() || matches!(e, CollectError::Sink(_) | CollectError::State(_)) => {
            Err(e)
        }
        Err(e) => {
            p.skip("thread_failed", &e);
            Ok(())
        }
    }
}

fn comment_item(
    p: &Poll<'_>,
    c: &Value,
    post: &str,
    parent: &str,
    now: DateTime<Utc>,
) -> Option<Item> {
    let id = c.get("id").and_then(s)?;
    let text = html_to_text(c.get("text").and_then(Value::as_str).unwrap_or(""));
    let mut item = p.item(id, text);
    item.platform = Platform::Weibo;
    item.url = Some(format!("https://m.weibo.cn/detail/{post}"));
    if let Some(t) = c
        .get("created_at")
        .and_then(Value::as_str)
        .and_then(|t| parse_time(t, now))
    {
        item.published_at = t;
    } else {
        item.extra.insert("published_estimated".into(), true.into());
    }
    item.root_id = Some(post.to_string());
    item.parent_id = Some(parent.to_string());
    item.metrics.likes = c.get("like_count").and_then(json_count);
    item.metrics.comments = c.get("total_number").and_then(json_count);
    if let Some(u) = c.get("user").filter(|u| u.is_object()) {
        item.author = u.get("screen_name").and_then(s);
        if let Some(uid) = u.get("id").and_then(s) {
            item.extra.insert("author_id".into(), uid.into());
        }
    }
    item.extra.insert("comment".into(), true.into());
    Some(item)
}

async fn comments(
    p: &mut Poll<'_>,
    plan: &WeiboPlan,
    id: &str,
    mid: &str,
) -> Result<(), CollectError> {
    let mut max_id: Option<i64> = None;
    for _ in 0..plan.thread_pages {
        let mut url = format!(
            "{}/comments/hotflow?id={}&mid={}&max_id_type=0",
            plan.base,
            enc(id),
            enc(mid)
        );
        if let Some(m) = max_id {
            url.push_str(&format!("&max_id={m}"));
        }
        let data = api(p, plan, &url).await?;
        let now = p.now();
        let mut batch = Vec::new();
        for c in data
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match comment_item(p, c, id, id, now) {
                Some(item) => {
                    let cid = item.id.clone();
                    batch.push(NewItem::new(item));
                    for r in c
                        .get("comments")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(reply) = comment_item(p, r, id, &cid, now) {
                            batch.push(NewItem::new(reply));
                        }
                    }
                }
                None => p.skip("malformed_comment", &"comment without id"),
            }
        }
        p.emit_new(batch).await?;
        match data.get("max_id").and_then(Value::as_i64) {
            Some(0) | None => break,
            Some(m) if Some(m) == max_id => break,
            Some(m) => max_id = Some(m),
        }
    }
    Ok(())
}

async fn reposts(p: &mut Poll<'_>, plan: &WeiboPlan, id: &str) -> Result<(), CollectError> {
    for page in 1..=plan.thread_pages {
        let url = format!(
            "{}/api/statuses/repostTimeline?id={}&page={page}",
            plan.base,
            enc(id)
        );
        let data = match api(p, plan, &url).await {
            Ok(d) => d,
            Err(CollectError::Api { .. }) if page > 1 => break,
            Err(e) => return Err(e),
        };
        let now = p.now();
        let list = data
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut batch = Vec::new();
        for m in &list {
            match mblog_item(p, m, None, now) {
                Some(mut item) => {
                    item.root_id = Some(id.to_string());
                    if item.parent_id.is_none() {
                        item.parent_id = Some(id.to_string());
                    }
                    batch.push(NewItem::new(item));
                }
                None => p.skip("malformed_post", &"repost without id"),
            }
        }
        let fresh = p.emit_new(batch).await?;
        let max = data.get("max").and_then(Value::as_u64).unwrap_or(1);
        if list.is_empty() || fresh == 0 || u64::from(page) >= max {
            break;
        }
    }
    Ok(())
}

async fn hot(p: &mut Poll<'_>, plan: &WeiboPlan) -> Result<(), CollectError> {
    let url = format!(
        "{}/api/container/getIndex?containerid=106003type%3D25%26t%3D3%26disable_hot%3D1%26filter_type%3Drealtimehot",
        plan.base
    );
    let data = api(p, plan, &url).await?;
    let day = p.now_cst().format("%Y-%m-%d").to_string();
    let mut batch = Vec::new();
    let groups = data
        .get("cards")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut rank = 0u64;
    for card in groups {
        for entry in card
            .get("card_group")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(desc) = entry
                .get("desc")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|d| !d.is_empty())
            else {
                continue;
            };
            rank += 1;
            let mut item = p.item(
                yuqing_core::id::stable_id("hot-", &[&day, desc]),
                desc.to_string(),
            );
            item.title = Some(desc.to_string());
            item.url = Some(format!(
                "https://m.weibo.cn/search?containerid={}",
                enc(&format!("100103type=1&q={desc}"))
            ));
            item.metrics.views = entry.get("desc_extr").and_then(json_count);
            let mut extra = Map::new();
            extra.insert("hot_rank".into(), rank.into());
            extra.insert("hot_search".into(), true.into());
            if let Some(icon) = entry.get("icon").and_then(Value::as_str) {
                let flag = if icon.contains("_new") {
                    "新"
                } else if icon.contains("_hot") {
                    "热"
                } else if icon.contains("_boom") || icon.contains("_fei") {
                    "爆"
                } else {
                    ""
                };
                if !flag.is_empty() {
                    extra.insert("hot_flag".into(), flag.into());
                }
            }
            item.extra.extend(extra);
            batch.push(NewItem::new(item));
        }
    }
    p.emit_new(batch).await?;
    Ok(())
}

async fn show(p: &mut Poll<'_>, plan: &WeiboPlan, id: &str) -> Result<Option<Item>, CollectError> {
    let url = format!("{}/statuses/show?id={}", plan.base, enc(id));
    match api(p, plan, &url).await {
        Ok(data) => {
            let now = p.now();
            Ok(mblog_item(p, &data, None, now))
        }
        // ok:0 on a single post: deleted or hidden.
        Err(CollectError::Api { .. }) => Ok(None),
        Err(CollectError::Fetch(FetchError::Status {
            status: 404 | 410, ..
        })) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn follow_post(p: &mut Poll<'_>, plan: &WeiboPlan, id: &str) -> Result<(), CollectError> {
    let Some(item) = show(p, plan, id).await? else {
        return Err(CollectError::Api {
            message: format!("post {id} is gone"),
        });
    };
    let mid = item
        .extra
        .get("mid")
        .and_then(Value::as_str)
        .map(str::to_string);
    let seen = p.seen(std::slice::from_ref(&item.id)).await?;
    if seen.first().copied().unwrap_or(false) {
        p.emit_reobserved(vec![item]).await?;
    } else {
        // A followed post is looked at on every poll: no separate re-observation schedule.
        p.emit_new(vec![NewItem::new(item)]).await?;
    }
    let (c, r) = (plan.comments, plan.reposts);
    let follow = WeiboPlan {
        comments: c || !r,
        reposts: r || !c,
        ..clone_plan(plan)
    };
    threads(p, &follow, id, mid.as_deref()).await
}

fn clone_plan(plan: &WeiboPlan) -> WeiboPlan {
    WeiboPlan {
        base: plan.base.clone(),
        target: match &plan.target {
            Target::User(u) => Target::User(u.clone()),
            Target::Search(k) => Target::Search(k.clone()),
            Target::Hot => Target::Hot,
            Target::Post(p) => Target::Post(p.clone()),
        },
        search_type: plan.search_type,
        comments: plan.comments,
        reposts: plan.reposts,
        thread_pages: plan.thread_pages,
        long_text: plan.long_text,
    }
}

pub(crate) async fn refetch(
    p: &mut Poll<'_>,
    plan: &WeiboPlan,
    t: &Tracked,
) -> Result<Option<(Item, String)>, CollectError> {
    let Some(item) = show(p, plan, &t.target).await? else {
        return Ok(None);
    };
    let mid = item
        .extra
        .get("mid")
        .and_then(Value::as_str)
        .map(str::to_string);
    let f = fingerprint(&item);
    // New comments and reposts since the last look.
    if f != t.last {
        threads(p, plan, &t.target, mid.as_deref()).await?;
    }
    Ok(Some((item, f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        assert_eq!(
            parse_envelope(r#"{"ok":1,"data":{"x":1}}"#).unwrap()["x"],
            1
        );
        assert_eq!(
            parse_envelope(r#"{"ok":0,"msg":"这里还没有内容","data":{"cards":[]}}"#).unwrap()
                ["cards"],
            serde_json::json!([])
        );
        assert!(matches!(
            parse_envelope(r#"{"ok":0,"msg":"请求过于频繁，歇歇吧"}"#),
            Err(CollectError::Api { .. })
        ));
        assert!(
            parse_envelope(r#"{"ok":-100,"url":"https://m.weibo.cn/captcha?scene=limit"}"#)
                .unwrap_err()
                .is_blocked()
        );
        assert!(parse_envelope(r#"{"ok":"-100"}"#).unwrap_err().is_blocked());
        assert!(parse_envelope("<html>passport.weibo.com/sso/signin</html>")
            .unwrap_err()
            .is_blocked());
        assert_eq!(
            parse_envelope("<html>出错了</html>").unwrap_err().kind(),
            "malformed_json"
        );
        assert_eq!(parse_envelope("").unwrap_err().kind(), "malformed_json");
    }

    #[test]
    fn bids_and_pics() {
        let m = serde_json::json!({"bid": ""});
        assert_eq!(
            bid_of(
                &m,
                Some("https://m.weibo.cn/status/PaB01?mblogid=PaB01&luicode=1")
            )
            .as_deref(),
            Some("PaB01")
        );
        assert_eq!(
            bid_of(&m, Some("https://m.weibo.cn/status/Qx9")).as_deref(),
            Some("Qx9")
        );
        assert_eq!(bid_of(&m, None), None);
        let obj = serde_json::json!({"pics": {"1": {"url": "b"}, "0": {"large": {"url": "a"}}}});
        assert_eq!(pics(&obj), vec!["a", "b"]);
        assert!(pics(&serde_json::json!({"pics": "weird"})).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn envelope_never_panics(s in "\\PC{0,200}") {
            let _ = parse_envelope(&s);
        }
        #[test]
        fn cards_never_panic(v in proptest::collection::vec(0u8..5, 0..20)) {
            let cards: Vec<Value> = v.iter().map(|k| match k {
                0 => serde_json::json!({"card_type": 9, "mblog": {"id": 1}}),
                1 => serde_json::json!({"card_type": 11, "card_group": [{"mblog": null}, {"mblog": {"id": "2"}}]}),
                2 => serde_json::json!({"card_type": 11, "card_group": "x"}),
                3 => serde_json::json!(null),
                _ => serde_json::json!({"mblog": [], "profile_type_id": 5}),
            }).collect();
            let _ = mblogs(&Value::Array(cards));
        }
    }
}
