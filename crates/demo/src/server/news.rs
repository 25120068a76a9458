//! The news site: article list and article pages, a JSON article API and a JSON comment API
//! paged by an opaque cursor.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use yuqing_core::Platform;

use super::{frame, html_page, json, not_found_page, PageQuery, St};
use crate::script::Charset;
use crate::text::escape;
use crate::world::{Doc, World};

/// The path of a news article: `/news/20261122/3000123.html`.
pub fn article_path(w: &World, d: &Doc) -> String {
    format!("/news/{}/{}.html", w.at(d.t).format("%Y%m%d"), d.id)
}

/// Comments per API page by default, and at most.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 50;

/// Encodes a comment offset as an opaque cursor.
pub fn encode_cursor(article: u64, offset: usize) -> String {
    let x = (offset as u64) ^ (article.wrapping_mul(0x9e37_79b9) & 0xffff_ffff);
    format!("c{x:x}")
}

/// Decodes a cursor made by [`encode_cursor`].
pub fn decode_cursor(article: u64, cursor: &str) -> Option<usize> {
    let x = u64::from_str_radix(cursor.strip_prefix('c')?, 16).ok()?;
    let off = x ^ (article.wrapping_mul(0x9e37_79b9) & 0xffff_ffff);
    usize::try_from(off).ok().filter(|&o| o < 100_000_000)
}

pub async fn list(State(st): St, Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let Some(page) = q.page() else {
        return not_found_page("news_list");
    };
    let all: Vec<u32> = w.visible(Platform::News, now).collect();
    let size = w.script.world.site.page_size;
    let total = super::pages(all.len(), size);
    if page > total {
        return not_found_page("news_list");
    }
    let items = super::paginate(&all, page, size);
    let rows: String = items
        .iter()
        .map(|&i| {
            let d = &w.docs[i as usize];
            format!(
                "<div class=\"news-item\" data-id=\"{}\"><h3><a href=\"{}\">{}</a></h3><p class=\"summary\">{}</p><span class=\"time\">{}</span></div>\n",
                d.id,
                article_path(w, d),
                escape(d.title.as_deref().unwrap_or("")),
                escape(&crate::text::truncate_chars(&d.text, 60)),
                w.at(d.t).format("%Y-%m-%d %H:%M")
            )
        })
        .collect();
    let mut pager = String::from("<div class=\"pager\">");
    if page > 1 {
        pager.push_str(&format!("<a href=\"/news/?page={}\">上一页</a> ", page - 1));
    }
    pager.push_str(&format!("<span>第{page}/{total}页</span>"));
    if page < total {
        pager.push_str(&format!(
            " <a href=\"/news/?page={}\" class=\"next\">下一页</a>",
            page + 1
        ));
    }
    pager.push_str("</div>");
    let name = &w.script.world.site.news_name;
    let body = format!(
        "<h1>{}</h1>\n<div class=\"news-list\">\n{rows}</div>\n{pager}",
        escape(name)
    );
    let html = frame(name, "<meta charset=\"utf-8\">", &body);
    let modified = items
        .first()
        .map_or(w.at(0), |&i| w.at(w.docs[i as usize].t));
    html_page("news_list", &headers, html, Charset::Utf8, modified)
}

pub async fn article(
    State(st): St,
    Path((date, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let w = &st.world;
    let id = file
        .strip_suffix(".html")
        .and_then(|s| s.parse::<u64>().ok());
    let Some(&di) = id.and_then(|id| w.site_ids.get(&(Platform::News, id))) else {
        return not_found_page("news_article");
    };
    let d = &w.docs[di as usize];
    let at = w.at(d.t);
    if d.t > st.now() || at.format("%Y%m%d").to_string() != date {
        return not_found_page("news_article");
    }
    let title = d.title.as_deref().unwrap_or("");
    let comments = w.metrics(di, st.now()).comments.unwrap_or(0);
    let head = format!(
        "<meta charset=\"utf-8\">\n<meta property=\"og:type\" content=\"article\">\n<meta property=\"og:title\" content=\"{}\">\n\
         <meta name=\"publishdate\" content=\"{}\">\n<meta name=\"source\" content=\"{}\">",
        escape(title),
        at.to_rfc3339(),
        escape(&w.script.world.site.news_name)
    );
    let body = format!(
        "<article id=\"article\" data-article-id=\"{}\"><h1>{}</h1>\n<div class=\"meta\"><span class=\"time\">{}</span> <span class=\"source\">来源：{}</span></div>\n\
         <div class=\"content\"><p>{}</p></div>\n<div class=\"comments\" data-api=\"/news/api/comments?article={}\">评论（{}）</div></article>",
        d.id,
        escape(title),
        at.format("%Y-%m-%d %H:%M:%S"),
        escape(&w.script.world.site.news_name),
        escape(&d.text),
        d.id,
        comments
    );
    let html = frame(title, &head, &body);
    html_page("news_article", &headers, html, Charset::Utf8, at)
}

pub async fn api_articles(
    State(st): St,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let w = &st.world;
    let now = st.now();
    let Some(page) = q.page() else {
        return json(
            "news_api_articles",
            StatusCode::BAD_REQUEST,
            json!({"code": 400, "msg": "invalid page"}),
        );
    };
    let base = super::base_url(&headers);
    let all: Vec<u32> = w.visible(Platform::News, now).collect();
    let size = w.script.world.site.page_size;
    let list: Vec<serde_json::Value> = super::paginate(&all, page, size)
        .iter()
        .map(|&i| {
            let d = &w.docs[i as usize];
            json!({
                "id": d.id.to_string(),
                "title": d.title,
                "url": format!("{base}{}", article_path(w, d)),
                "summary": crate::text::truncate_chars(&d.text, 80),
                "published_at": w.at(d.t).to_rfc3339(),
                "comment_count": w.metrics(i, now).comments.unwrap_or(0),
            })
        })
        .collect();
    json(
        "news_api_articles",
        StatusCode::OK,
        json!({"code": 0, "data": {"list": list, "page": page, "pages": super::pages(all.len(), size), "total": all.len()}}),
    )
}

/// Query of the comment API.
#[derive(Debug, Deserialize)]
pub struct CommentQuery {
    article: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

pub async fn api_comments(State(st): St, Query(q): Query<CommentQuery>) -> Response {
    let w = &st.world;
    let now = st.now();
    let bad = |msg: &str| {
        json(
            "news_api_comments",
            StatusCode::BAD_REQUEST,
            json!({"code": 400, "msg": msg}),
        )
    };
    let Some(article) = q
        .article
        .as_deref()
        .and_then(|a| a.trim().parse::<u64>().ok())
    else {
        return bad("missing or invalid article");
    };
    let Some(&di) = w.site_ids.get(&(Platform::News, article)) else {
        return json(
            "news_api_comments",
            StatusCode::NOT_FOUND,
            json!({"code": 404, "msg": "article not found"}),
        );
    };
    if w.docs[di as usize].t > now {
        return json(
            "news_api_comments",
            StatusCode::NOT_FOUND,
            json!({"code": 404, "msg": "article not found"}),
        );
    }
    let offset = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => match decode_cursor(article, c) {
            Some(o) => o,
            None => return bad("invalid cursor"),
        },
    };
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(l) if (1..=MAX_LIMIT).contains(&l) => l,
            _ => return bad("limit must be 1..=50"),
        },
    };
    // Oldest first, so a saved cursor resumes with what is new.
    let visible: Vec<u32> = w.comments_by(di, now).collect();
    let start = offset.min(visible.len());
    let end = (start + limit).min(visible.len());
    let comments: Vec<serde_json::Value> = visible[start..end]
        .iter()
        .map(|&c| {
            let cm = &w.comments[c as usize];
            let u = w.user(cm.author);
            let at = w.at(cm.t);
            json!({
                "id": cm.id.to_string(),
                "content": w.comment_text(c),
                "nick": u.name,
                "uid": u.uid.to_string(),
                "created_at": at.format("%Y-%m-%d %H:%M:%S").to_string(),
                "timestamp": at.timestamp(),
                "likes": w.comment_likes(c, now),
                "reply_to": cm.reply_to.map(|r| w.comments[r as usize].id.to_string()),
                "ip_location": ip_location(w, cm.doc),
            })
        })
        .collect();
    json(
        "news_api_comments",
        StatusCode::OK,
        json!({"code": 0, "data": {
            "article": article.to_string(),
            "total": visible.len(),
            "comments": comments,
            "next_cursor": encode_cursor(article, end),
            "has_more": end < visible.len(),
        }}),
    )
}

/// The province shown as the commenter's IP location.
pub fn ip_location(w: &World, doc: u32) -> String {
    let region = w.docs[doc as usize]
        .incident
        .map_or(&w.script.world.site.home, |i| {
            &w.script.incidents[i as usize].region
        });
    region
        .province
        .trim_end_matches("壮族自治区")
        .trim_end_matches('省')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for off in [0usize, 1, 20, 12_345] {
            assert_eq!(
                decode_cursor(3_000_017, &encode_cursor(3_000_017, off)),
                Some(off)
            );
        }
        assert_eq!(decode_cursor(1, "zzz"), None);
        assert_eq!(decode_cursor(1, "c"), None);
    }
}
