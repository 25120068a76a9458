//! The Weibo-style mobile API (m.weibo.cn shapes of DOMAIN.md section B): getIndex timelines,
//! keyword search and hot search, statuses/show, the /detail page, hotflow and old-style
//! comments, and repostTimeline.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use yuqing_core::Platform;

use super::{count, json as json_response, St};
use crate::world::{flags, mid_to_bid, Author, World};

/// Cards per timeline or search page.
const PAGE: usize = 10;
/// Comments per hotflow page.
const HOTFLOW_PAGE: usize = 20;
/// hotflow `max_id` cursors are offsets above this base.
const MAX_ID_BASE: u64 = 138_000_000_000_000;
/// The `source` (client) field values.
const CLIENTS: [&str; 4] = [
    "iPhone客户端",
    "HUAWEI Mate 60",
    "微博 weibo.com",
    "Android",
];
/// Characters of a post shown before "全文".
const LONG_TEXT: usize = 140;

fn ok(endpoint: &str, data: Value) -> Response {
    json_response(endpoint, StatusCode::OK, json!({"ok": 1, "data": data}))
}

fn not_ok(endpoint: &str, msg: &str) -> Response {
    json_response(endpoint, StatusCode::OK, json!({"ok": 0, "msg": msg}))
}

/// `Sat Nov 22 10:02:33 +0800 2026`.
pub fn created_at(w: &World, t: i64) -> String {
    w.at(t).format("%a %b %d %H:%M:%S %z %Y").to_string()
}

/// The relative forms older surfaces use: 刚刚, N分钟前, N小时前, 昨天 HH:MM, MM-DD.
pub fn relative_time(w: &World, now: i64, t: i64) -> String {
    let age = now - t;
    let (n, at) = (w.at(now), w.at(t));
    if age < 60 {
        "刚刚".to_string()
    } else if age < 3600 {
        format!("{}分钟前", age / 60)
    } else if at.date_naive() == n.date_naive() {
        format!("{}小时前", age / 3600)
    } else if at.date_naive().succ_opt() == Some(n.date_naive()) {
        format!("昨天 {}", at.format("%H:%M"))
    } else {
        at.format("%m-%d").to_string()
    }
}

/// A count as Weibo shows it: an int, or "1.2万" / "100万+" for big ones on some posts.
pub fn count_value(n: u64, strings: bool) -> Value {
    if n >= 1_000_000 {
        return json!("100万+");
    }
    if strings && n >= 10_000 {
        let wan = n as f64 / 10_000.0;
        let s = format!("{wan:.1}");
        let s = s.trim_end_matches(".0");
        return json!(format!("{s}万"));
    }
    json!(n)
}

/// A follower count as profiles show it: an int below 10 000, else "8.6万" / "2180万".
pub fn followers_value(n: u64) -> Value {
    if n < 10_000 {
        return json!(n);
    }
    let wan = n as f64 / 10_000.0;
    let s = if wan >= 100.0 {
        format!("{wan:.0}")
    } else {
        format!("{wan:.1}")
    };
    json!(format!("{}万", s.trim_end_matches(".0")))
}

/// Plain text → Weibo HTML: topics, mentions and emoji become their markup.
pub fn text_html(plain: &str, base: &str) -> String {
    let escaped = crate::text::escape(plain);
    let mut out = String::with_capacity(escaped.len() * 2);
    let mut rest = escaped.as_str();
    while let Some(pos) = rest.find(['#', '@', '[']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let c = tail.as_bytes()[0];
        if c == b'#' {
            if let Some(end) = tail[1..].find('#') {
                let topic = &tail[1..1 + end];
                if !topic.is_empty() && !topic.contains(' ') {
                    out.push_str(&format!(
                        "<a href=\"https://m.weibo.cn/search?containerid=231522type%3D1%26t%3D10%26q%3D%23{}%23\" data-hide=\"\"><span class=\"surl-text\">#{topic}#</span></a>",
                        url::form_urlencoded::byte_serialize(topic.as_bytes()).collect::<String>()
                    ));
                    rest = &tail[end + 2..];
                    continue;
                }
            }
        } else if c == b'@' {
            let name_len: usize = tail[1..]
                .char_indices()
                .find(|(_, ch)| matches!(ch, ':' | '：' | ' ' | '，' | '/' | '@' | '&'))
                .map_or(tail.len() - 1, |(i, _)| i);
            let name = &tail[1..1 + name_len];
            if !name.is_empty() {
                out.push_str(&format!("<a href='/n/{name}'>@{name}</a>"));
                rest = &tail[1 + name_len..];
                continue;
            }
        } else if let Some(end) = tail.find(']') {
            let alt = &tail[..=end];
            if alt.chars().count() <= 8 && !alt[1..].contains('[') {
                out.push_str(&format!(
                    "<span class=\"url-icon\"><img alt={alt} src=\"{base}/img/face.png\" style=\"width:1em; height:1em;\" /></span>"
                ));
                rest = &tail[end + 1..];
                continue;
            }
        }
        out.push(c as char);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

fn region_name(w: &World, doc: u32) -> String {
    format!("发布于 {}", super::news::ip_location(w, doc))
}

fn user_json(w: &World, author: Author, base: &str) -> Value {
    match author {
        Author::Citizen(u) => {
            let u = w.user(u);
            json!({
                "id": u.uid,
                "screen_name": u.name,
                "profile_image_url": format!("{base}/img/avatar_{}.jpg", u.uid),
                "avatar_hd": format!("{base}/img/avatar_hd_{}.jpg", u.uid),
                "profile_url": format!("https://m.weibo.cn/u/{}?uid={}", u.uid, u.uid),
                "verified": false,
                "verified_type": -1,
                "followers_count": u.followers,
                "follow_count": 100 + u.uid % 400,
                "description": "",
                "gender": if u.uid % 2 == 0 { "f" } else { "m" },
            })
        }
        Author::Account(a) => {
            let a = &w.script.world.accounts[a as usize];
            json!({
                "id": a.uid,
                "screen_name": a.screen_name,
                "profile_image_url": format!("{base}/img/avatar_{}.jpg", a.uid),
                "avatar_hd": format!("{base}/img/avatar_hd_{}.jpg", a.uid),
                "profile_url": format!("https://m.weibo.cn/u/{}?uid={}", a.uid, a.uid),
                "verified": a.verified_type >= 0,
                "verified_type": a.verified_type,
                "verified_reason": a.description,
                "followers_count": followers_value(a.followers),
                "follow_count": 300,
                "description": a.description,
                "gender": "m",
            })
        }
    }
}

fn pics_json(w: &World, doc: u32, base: &str) -> Option<Value> {
    let d = &w.docs[doc as usize];
    if d.pics == 0 {
        return None;
    }
    let list: Vec<Value> = (0..d.pics)
        .map(|k| {
            let pid = format!("{:x}j{k}", d.seed);
            json!({
                "pid": pid,
                "url": format!("{base}/img/orj360_{pid}.jpg"),
                "size": "orj360",
                "large": {"size": "large", "url": format!("{base}/img/large_{pid}.jpg"), "geo": {"width": 1080, "height": 1440, "croped": false}},
            })
        })
        .collect();
    if d.flags & flags::PICS_OBJECT != 0 {
        let mut m = Map::new();
        for (k, v) in list.into_iter().enumerate() {
            m.insert(k.to_string(), v);
        }
        Some(Value::Object(m))
    } else {
        Some(Value::Array(list))
    }
}

/// The mblog of a doc at `now`; `full` gives the whole long text (statuses/show).
pub fn mblog_doc(w: &World, doc: u32, now: i64, base: &str, full: bool) -> Value {
    let d = &w.docs[doc as usize];
    let m = w.metrics(doc, now);
    let strings = d.flags & flags::STRING_COUNTS != 0;
    let long = d.text.chars().count() > LONG_TEXT;
    let text = if long && !full {
        format!(
            "{}...<a href=\"/status/{}\">全文</a>",
            text_html(&crate::text::truncate_chars(&d.text, LONG_TEXT), base),
            d.id
        )
    } else {
        text_html(&d.text, base)
    };
    let mut v = json!({
        "visible": {"type": 0, "list_id": 0},
        "created_at": created_at(w, d.t),
        "id": d.id.to_string(),
        "mid": d.id.to_string(),
        "bid": mid_to_bid(d.id),
        "can_edit": false,
        "edit_count": 0,
        "text": text,
        "textLength": d.text.chars().count() * 2,
        "source": CLIENTS[(d.seed % 4) as usize],
        "favorited": false,
        "pic_num": d.pics,
        "isLongText": long,
        "reposts_count": count_value(m.reposts.unwrap_or(0), strings),
        "comments_count": count_value(m.comments.unwrap_or(0), strings),
        "attitudes_count": count_value(m.likes.unwrap_or(0), strings),
        "pending_approval_count": 0,
        "mblogtype": 0,
        "region_name": region_name(w, doc),
        "user": user_json(w, d.author, base),
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if full && long {
        obj.insert("longText".into(), json!({"longTextContent": d.text}));
    }
    if let Some(p) = pics_json(w, doc, base) {
        obj.insert("pics".into(), p);
    }
    if d.flags & flags::PINNED != 0 {
        obj.insert("isTop".into(), json!(1));
        obj.insert("mblogtype".into(), json!(2));
    }
    if let Some(r) = d.retweet_of {
        obj.insert("retweeted_status".into(), mblog_doc(w, r, now, base, false));
    } else if d.flags & flags::DELETED_RETWEET != 0 {
        let gone = d.id.saturating_sub(7_000_000_000);
        obj.insert(
            "retweeted_status".into(),
            json!({
                "id": gone.to_string(), "mid": gone.to_string(), "bid": "",
                "created_at": created_at(w, d.t - 86_400),
                "text": "抱歉，此微博已被作者删除。查看帮助：<a href=\"https://t.cn/Rfd3rQV\">网页链接</a>",
                "user": null,
                "visible": {"type": 0, "list_id": 0},
                "reposts_count": 0, "comments_count": 0, "attitudes_count": 0,
            }),
        );
    }
    v
}

/// The mblog of a repost at `now` (with the root as `retweeted_status`).
pub fn mblog_repost(w: &World, r: u32, now: i64, base: &str, with_root: bool) -> Value {
    let rp = &w.reposts[r as usize];
    let u = w.user(rp.author);
    let text = w.repost_text(r);
    let mut v = json!({
        "visible": {"type": 0, "list_id": 0},
        "created_at": created_at(w, rp.t),
        "id": rp.id.to_string(),
        "mid": rp.id.to_string(),
        "bid": mid_to_bid(rp.id),
        "text": text_html(&text, base),
        "raw_text": text,
        "textLength": text.chars().count() * 2,
        "source": "Android",
        "pic_num": 0,
        "isLongText": false,
        "reposts_count": w.repost_children(r, now),
        "comments_count": 0,
        "attitudes_count": (rp.seed % 3) * u64::from(now - rp.t > 600),
        "mblogtype": 0,
        "region_name": region_name(w, rp.doc),
        "user": user_json(w, Author::Citizen(rp.author), base),
    });
    let _ = u;
    if with_root {
        if let Some(obj) = v.as_object_mut() {
            obj.insert(
                "retweeted_status".into(),
                mblog_doc(w, rp.doc, now, base, false),
            );
        }
    }
    v
}

fn card(mblog: Value) -> Value {
    let bid = mblog
        .get("bid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    json!({
        "card_type": 9,
        "itemid": "",
        "scheme": format!("https://m.weibo.cn/status/{bid}?mblogid={bid}&luicode=10000011"),
        "mblog": mblog,
    })
}

/// Query of getIndex.
#[derive(Debug, Deserialize)]
pub struct IndexQuery {
    containerid: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<String>,
    q: Option<String>,
    page: Option<String>,
    since_id: Option<String>,
    count: Option<String>,
}

/// Parses `a=1&b=2` (the inside of a search containerid).
fn inner_params(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes())
        .into_owned()
        .collect()
}

pub async fn get_index(State(st): St, Query(q): Query<IndexQuery>, headers: HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let base = super::base_url(&headers);
    let page = match q.page.as_deref() {
        None => Some(1),
        Some(p) => p.parse::<usize>().ok().filter(|&p| p >= 1),
    };
    let Some(page) = page else {
        return not_ok("weibo_getindex", "参数错误");
    };
    if q.kind.as_deref() == Some("uid") {
        return match q.value.as_deref().and_then(|v| v.parse::<u64>().ok()) {
            Some(uid) => profile(w, uid, &base),
            None => not_ok("weibo_getindex", "参数错误"),
        };
    }
    let Some(cid) = q.containerid.as_deref() else {
        return not_ok("weibo_getindex", "参数错误");
    };
    if let Some(uid) = cid
        .strip_prefix("107603")
        .or_else(|| cid.strip_prefix("230413"))
    {
        let Ok(uid) = uid.parse::<u64>() else {
            return not_ok("weibo_getindex", "参数错误");
        };
        let since = q.since_id.as_deref().and_then(|s| s.parse::<u64>().ok());
        let per = q
            .count
            .as_deref()
            .and_then(|c| c.parse::<usize>().ok())
            .map_or(PAGE, |c| c.clamp(1, 25));
        return timeline(w, now, cid, uid, page, since, per, &base);
    }
    if let Some(uid) = cid.strip_prefix("100505") {
        return match uid.parse::<u64>() {
            Ok(uid) => profile(w, uid, &base),
            Err(_) => not_ok("weibo_getindex", "参数错误"),
        };
    }
    if let Some(rest) = cid.strip_prefix("100103") {
        let params = inner_params(rest);
        let get = |k: &str| params.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
        let kind = get("type").unwrap_or_else(|| "1".into());
        let Some(word) = get("q").or(q.q.clone()).filter(|s| !s.trim().is_empty()) else {
            return not_ok("weibo_getindex", "参数错误");
        };
        return search(w, now, cid, &kind, &word, page, &base);
    }
    if cid.starts_with("106003") {
        return hot_search(w, now);
    }
    not_ok("weibo_getindex", "这里还没有内容")
}

fn profile(w: &World, uid: u64, base: &str) -> Response {
    let author = match w.script.world.accounts.iter().position(|a| a.uid == uid) {
        Some(a) => Author::Account(a as u16),
        None => match w.users.iter().position(|u| u.uid == uid) {
            Some(u) => Author::Citizen(u as u32),
            None => return not_ok("weibo_profile", "用户不存在"),
        },
    };
    let mut info = user_json(w, author, base);
    let statuses = w.timelines.get(&uid).map_or(0, Vec::len);
    if let Some(o) = info.as_object_mut() {
        o.insert("statuses_count".into(), json!(statuses));
    }
    ok(
        "weibo_profile",
        json!({
            "userInfo": info,
            "tabsInfo": {"selectedTab": 1, "tabs": [
                {"id": 1, "tabKey": "profile", "title": "主页", "tab_type": "profile", "containerid": format!("230283{uid}")},
                {"id": 2, "tabKey": "weibo", "title": "微博", "tab_type": "weibo", "containerid": format!("107603{uid}")},
            ]},
        }),
    )
}

#[allow(clippy::too_many_arguments)]
fn timeline(
    w: &World,
    now: i64,
    cid: &str,
    uid: u64,
    page: usize,
    since: Option<u64>,
    per: usize,
    base: &str,
) -> Response {
    let Some(entries) = w.timelines.get(&uid) else {
        return not_ok("weibo_timeline", "这里还没有内容");
    };
    let n = entries.partition_point(|e| e.0 <= now);
    let id_of = |e: &(i64, u32, Option<u32>)| match e.2 {
        Some(r) => w.reposts[r as usize].id,
        None => w.docs[e.1 as usize].id,
    };
    let is_pinned = |e: &(i64, u32, Option<u32>)| {
        e.2.is_none() && w.docs[e.1 as usize].flags & flags::PINNED != 0
    };
    let visible: Vec<(i64, u32, Option<u32>)> = entries[..n]
        .iter()
        .rev()
        .filter(|e| !is_pinned(e))
        .filter(|e| since.is_none_or(|s| id_of(e) < s))
        .copied()
        .collect();
    let first_page = since.is_none() && page == 1;
    let items: &[(i64, u32, Option<u32>)] = if since.is_some() {
        &visible[..per.min(visible.len())]
    } else {
        super::paginate(&visible, page, per)
    };
    let pinned: Option<u32> = entries[..n].iter().find(|e| is_pinned(e)).map(|e| e.1);
    if items.is_empty() && !(first_page && pinned.is_some()) {
        return json_response(
            "weibo_timeline",
            StatusCode::OK,
            json!({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}),
        );
    }
    let mut cards = Vec::new();
    if first_page {
        if let Some(p) = pinned {
            let mut c = card(mblog_doc(w, p, now, base, false));
            if let Some(o) = c.as_object_mut() {
                o.insert(
                    "profile_type_id".into(),
                    json!(format!("proweibotop_{}", w.docs[p as usize].id)),
                );
            }
            cards.push(c);
        }
    }
    for e in items {
        let m = match e.2 {
            Some(r) => mblog_repost(w, r, now, base, true),
            None => mblog_doc(w, e.1, now, base, false),
        };
        cards.push(card(m));
    }
    let next_since = items.last().map(id_of);
    let total = visible.len() + usize::from(pinned.is_some());
    ok(
        "weibo_timeline",
        json!({
            "cardlistInfo": {"containerid": cid, "v_p": 42, "show_style": 1, "total": total, "page": page + 1, "since_id": next_since},
            "cards": cards,
            "scheme": format!("sinaweibo://cardlist?containerid={cid}"),
            "showAppTips": 0,
        }),
    )
}

fn search(
    w: &World,
    now: i64,
    cid: &str,
    kind: &str,
    word: &str,
    page: usize,
    base: &str,
) -> Response {
    let words: Vec<&str> = word.split_whitespace().collect();
    let mut hits: Vec<u32> = w
        .visible(Platform::Weibo, now)
        .filter(|&i| {
            let d = &w.docs[i as usize];
            d.flags & flags::PINNED == 0 && words.iter().all(|k| d.text.contains(k))
        })
        .collect();
    let heat = |i: u32| {
        let m = w.metrics(i, now);
        m.reposts.unwrap_or(0) + m.comments.unwrap_or(0)
    };
    if kind == "60" {
        hits.sort_by_key(|&i| std::cmp::Reverse((heat(i), w.docs[i as usize].t)));
    }
    let items = super::paginate(&hits, page, PAGE);
    if items.is_empty() {
        return json_response(
            "weibo_search",
            StatusCode::OK,
            json!({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}),
        );
    }
    let mut cards: Vec<Value> = Vec::new();
    if kind == "1" && page == 1 {
        // 综合: a group of the hottest posts first, as card_type 11.
        let mut hot: Vec<u32> = hits.clone();
        hot.sort_by_key(|&i| std::cmp::Reverse(heat(i)));
        let group: Vec<Value> = hot
            .iter()
            .take(3)
            .map(|&i| card(mblog_doc(w, i, now, base, false)))
            .collect();
        cards.push(json!({"card_type": 11, "show_type": 1, "card_group": group}));
    }
    let group: Vec<Value> = items
        .iter()
        .map(|&i| card(mblog_doc(w, i, now, base, false)))
        .collect();
    if kind == "61" {
        cards.push(json!({"card_type": 11, "show_type": 1, "card_group": group}));
    } else {
        cards.extend(group);
    }
    ok(
        "weibo_search",
        json!({
            "cardlistInfo": {"containerid": cid, "v_p": 42, "total": hits.len(), "page": page + 1, "page_size": PAGE},
            "cards": cards,
        }),
    )
}

fn hot_search(w: &World, now: i64) -> Response {
    let mut entries: Vec<(String, u64, &str)> = Vec::new();
    for (i, inc) in w.script.incidents.iter().enumerate() {
        let times = &w.incident_times[i];
        let upto = times.partition_point(|&t| t <= now);
        let from = times.partition_point(|&t| t <= now - 3600);
        let recent = (upto - from) as u64;
        if recent >= 5 {
            entries.push((
                inc.hashtag.clone(),
                40_000 + recent * 2_600,
                if recent > 200 { "爆" } else { "热" },
            ));
        }
    }
    // Background words rotate every simulated hour.
    let hour = now.div_euclid(3600) as u64;
    let pool = &w.script.background.hot;
    let lex = &w.script.lexicon.slots;
    let f = crate::text::Fillers {
        vars: &[],
        local: None,
        lexicon: lex,
    };
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(w.script.world.seed ^ hour);
    for k in 0..20u64 {
        let t = &pool[(k as usize + hour as usize) % pool.len().max(1)];
        let word = crate::text::render(t, &f, &mut rng);
        if !entries.iter().any(|e| e.0 == word) {
            entries.push((
                word,
                900_000 / (k + 2) + (hour * 37 + k * 101) % 5_000,
                if k < 2 { "新" } else { "" },
            ));
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.1));
    let group: Vec<Value> = entries
        .iter()
        .enumerate()
        .map(|(rank, (word, heat, flag))| {
            let q: String = url::form_urlencoded::byte_serialize(word.as_bytes()).collect();
            let mut v = json!({
                "card_type": 4,
                "desc": word,
                "desc_extr": heat,
                "pic": format!("/img/search_{}.png", rank + 1),
                "scheme": format!("https://m.weibo.cn/search?containerid=100103type%3D1%26q%3D{q}"),
            });
            if !flag.is_empty() {
                if let Some(o) = v.as_object_mut() {
                    o.insert("icon".into(), json!(format!("/img/flag_{flag}.png")));
                    o.insert("flag".into(), json!(flag));
                }
            }
            v
        })
        .collect();
    ok(
        "weibo_hot",
        json!({"cardlistInfo": {"containerid": "106003type=25&t=3&disable_hot=1&filter_type=realtimehot", "title_top": "微博热搜榜"},
               "cards": [{"card_type": 11, "title": "实时热点，每分钟更新一次", "card_group": group}]}),
    )
}

/// Finds a visible mblog by numeric id or bid.
fn lookup(w: &World, id: &str, now: i64) -> Option<(u32, Option<u32>)> {
    let id = id.trim();
    let mid = id
        .parse::<u64>()
        .ok()
        .or_else(|| crate::world::bid_to_mid(id))?;
    let &(doc, rep) = w.weibo_ids.get(&mid)?;
    let t = match rep {
        Some(r) => w.reposts[r as usize].t,
        None => w.docs[doc as usize].t,
    };
    (t <= now).then_some((doc, rep))
}

/// Query with an `id`.
#[derive(Debug, Deserialize)]
pub struct IdQuery {
    id: Option<String>,
    mid: Option<String>,
    max_id: Option<String>,
    page: Option<String>,
}

pub async fn show(State(st): St, Query(q): Query<IdQuery>, headers: HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let base = super::base_url(&headers);
    match q.id.as_deref().and_then(|id| lookup(w, id, now)) {
        Some((doc, None)) => ok("weibo_show", mblog_doc(w, doc, now, &base, true)),
        Some((_, Some(r))) => ok("weibo_show", mblog_repost(w, r, now, &base, true)),
        None => not_ok("weibo_show", "该微博不存在或暂无查看权限"),
    }
}

pub async fn detail(State(st): St, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let base = super::base_url(&headers);
    let status = match lookup(w, &id, now) {
        Some((doc, None)) => mblog_doc(w, doc, now, &base, true),
        Some((_, Some(r))) => mblog_repost(w, r, now, &base, true),
        None => {
            count("weibo_detail", "not_found");
            return (StatusCode::NOT_FOUND, "微博不存在").into_response();
        }
    };
    let pretty = serde_json::to_string_pretty(&status).unwrap_or_default();
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>微博正文 - 微博</title></head>\n<body>\n<script>\n\
         var $render_data = [{{\n    \"status\": {pretty},\n    \"call\": \"status\",\n    \"hotScheme\": \"sinaweibo://cardlist?containerid=102803\"\n}}][0] || {{}};\n\
         </script>\n</body>\n</html>\n"
    );
    count("weibo_detail", "ok");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

fn comment_json(
    w: &World,
    c: u32,
    now: i64,
    base: &str,
    replies: Option<(&[u32], usize)>,
) -> Value {
    let cm = &w.comments[c as usize];
    let text = w.comment_text(c);
    let mut v = json!({
        "created_at": created_at(w, cm.t),
        "id": cm.id.to_string(),
        "rootid": cm.reply_to.map_or(cm.id, |r| w.comments[r as usize].id).to_string(),
        "floor_number": 0,
        "text": text_html(&text, base),
        "source": format!("来自{}", super::news::ip_location(w, cm.doc)),
        "user": user_json(w, Author::Citizen(cm.author), base),
        "mid": cm.id.to_string(),
        "like_count": w.comment_likes(c, now),
        "liked": false,
    });
    if let (Some((list, total)), Some(o)) = (replies, v.as_object_mut()) {
        let inline: Vec<Value> = list
            .iter()
            .take(2)
            .map(|&r| comment_json(w, r, now, base, None))
            .collect();
        o.insert(
            "comments".into(),
            if inline.is_empty() {
                json!(false)
            } else {
                json!(inline)
            },
        );
        o.insert("total_number".into(), json!(total));
        o.insert("max_id".into(), json!(0));
    }
    v
}

pub async fn hotflow(State(st): St, Query(q): Query<IdQuery>, headers: HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let base = super::base_url(&headers);
    let id = q.id.as_deref().or(q.mid.as_deref()).unwrap_or("");
    let Some((doc, None)) = lookup(w, id, now) else {
        return not_ok("weibo_hotflow", "快来发表你的评论吧");
    };
    let offset = match q.max_id.as_deref().filter(|m| !m.is_empty() && *m != "0") {
        None => 0,
        Some(m) => match m
            .parse::<u64>()
            .ok()
            .and_then(|m| m.checked_sub(MAX_ID_BASE))
        {
            Some(o) => o as usize,
            None => return not_ok("weibo_hotflow", "参数错误"),
        },
    };
    let visible: Vec<u32> = w.comments_by(doc, now).collect();
    let mut top: Vec<u32> = visible
        .iter()
        .copied()
        .filter(|&c| w.comments[c as usize].reply_to.is_none())
        .collect();
    if top.is_empty() {
        return not_ok("weibo_hotflow", "快来发表你的评论吧");
    }
    // 按热度: likes, then newest.
    top.sort_by_key(|&c| std::cmp::Reverse((w.comment_likes(c, now), w.comments[c as usize].t, c)));
    let page: Vec<u32> = top
        .iter()
        .skip(offset)
        .take(HOTFLOW_PAGE)
        .copied()
        .collect();
    let data: Vec<Value> = page
        .iter()
        .map(|&c| {
            let replies: Vec<u32> = visible
                .iter()
                .copied()
                .filter(|&r| w.comments[r as usize].reply_to == Some(c))
                .collect();
            comment_json(w, c, now, &base, Some((&replies, replies.len())))
        })
        .collect();
    let next = offset + page.len();
    let max_id = if next < top.len() {
        MAX_ID_BASE + next as u64
    } else {
        0
    };
    ok(
        "weibo_hotflow",
        json!({"data": data, "total_number": visible.len(), "max_id": max_id, "max_id_type": 0}),
    )
}

pub async fn comments_show(
    State(st): St,
    Query(q): Query<IdQuery>,
    headers: HeaderMap,
) -> Response {
    let w = &st.world;
    let now = st.now();
    let base = super::base_url(&headers);
    let Some((doc, None)) = q.id.as_deref().and_then(|id| lookup(w, id, now)) else {
        return not_ok("weibo_comments", "还没有人评论");
    };
    let page = q
        .page
        .as_deref()
        .map_or(Some(1), |p| p.parse::<usize>().ok().filter(|&p| p >= 1));
    let Some(page) = page else {
        return not_ok("weibo_comments", "参数错误");
    };
    let visible: Vec<u32> = w.comments_by(doc, now).rev().collect();
    if visible.is_empty() {
        return not_ok("weibo_comments", "还没有人评论");
    }
    // The old API gives about 50 comments at most.
    let capped = &visible[..visible.len().min(50)];
    let max = super::pages(capped.len(), PAGE);
    let items = super::paginate(capped, page, PAGE);
    let data: Vec<Value> = items
        .iter()
        .map(|&c| {
            let mut v = comment_json(w, c, now, &base, None);
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "created_at".into(),
                    json!(relative_time(w, now, w.comments[c as usize].t)),
                );
            }
            v
        })
        .collect();
    ok(
        "weibo_comments",
        json!({"data": data, "total_number": visible.len(), "max": max}),
    )
}

pub async fn repost_timeline(
    State(st): St,
    Query(q): Query<IdQuery>,
    headers: HeaderMap,
) -> Response {
    let w = &st.world;
    let now = st.now();
    let base = super::base_url(&headers);
    let Some((doc, rep)) = q.id.as_deref().and_then(|id| lookup(w, id, now)) else {
        return not_ok("weibo_reposts", "还没有人转发过");
    };
    let page = q
        .page
        .as_deref()
        .map_or(Some(1), |p| p.parse::<usize>().ok().filter(|&p| p >= 1));
    let Some(page) = page else {
        return not_ok("weibo_reposts", "参数错误");
    };
    let list: Vec<u32> = w
        .reposts_by(doc, now)
        .rev()
        .filter(|&r| rep.is_none() || w.reposts[r as usize].parent == rep)
        .collect();
    if list.is_empty() {
        return not_ok("weibo_reposts", "还没有人转发过");
    }
    let max = super::pages(list.len(), PAGE);
    let data: Vec<Value> = super::paginate(&list, page, PAGE)
        .iter()
        .map(|&r| mblog_repost(w, r, now, &base, false))
        .collect();
    ok(
        "weibo_reposts",
        json!({"data": data, "total_number": list.len(), "hot_total_number": 0, "max": max}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_like_weibo() {
        assert_eq!(count_value(999, true), json!(999));
        assert_eq!(count_value(12_345, true), json!("1.2万"));
        assert_eq!(count_value(20_000, true), json!("2万"));
        assert_eq!(count_value(12_345, false), json!(12_345));
        assert_eq!(count_value(3_000_000, false), json!("100万+"));
        assert_eq!(followers_value(21_800_000), json!("2180万"));
        assert_eq!(followers_value(86_200), json!("8.6万"));
        assert_eq!(followers_value(9_999), json!(9_999));
    }

    #[test]
    fn text_markup() {
        let h = text_html("好大的烟#万载工业园爆炸#[怒] @某人: <b>", "http://x");
        assert!(
            h.contains("<span class=\"surl-text\">#万载工业园爆炸#</span>"),
            "{h}"
        );
        assert!(h.contains("<img alt=[怒]"), "{h}");
        assert!(h.contains("<a href='/n/某人'>@某人</a>"), "{h}");
        assert!(h.contains("&lt;b&gt;"), "{h}");
    }

    proptest::proptest! {
        #[test]
        fn markup_never_panics(s in ".{0,60}") {
            let _ = text_html(&s, "http://x");
        }
    }
}
