//! The message board (网络问政 / 领导留言板 / 12345 style): a paged list of messages with their
//! handling status, and detail pages with the citizen's message and the government's reply.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use yuqing_core::Platform;

use super::{frame, html_page, not_found_page, PageQuery, St};
use crate::script::Charset;
use crate::text::escape;
use crate::world::{Doc, World};

/// The detail path of a message.
pub fn detail_path(d: &Doc) -> String {
    format!("/board/detail/{}.html", d.id)
}

/// 已答复 once the reply is published, else 办理中.
pub fn status(d: &Doc, now: i64) -> &'static str {
    match &d.reply {
        Some((t, _)) if *t <= now => "已答复",
        Some(_) => "办理中",
        None => "已受理",
    }
}

/// The owning unit named in the reply's closing parenthesis, or the board's office.
fn reply_unit(w: &World, d: &Doc) -> String {
    d.reply
        .as_ref()
        .and_then(|(_, r)| r.rsplit_once('（'))
        .map(|(_, u)| u.trim_end_matches('）').to_string())
        .unwrap_or_else(|| format!("{}网络问政办公室", w.script.world.site.home.county))
}

/// Words that place a background message in a first-level category of the message taxonomy.
const FIELDS: [(&str, &str); 9] = [
    ("社保", "劳动和社会保障"),
    ("医保", "卫生计生"),
    ("入学", "教育文体"),
    ("公交", "交通运输"),
    ("路灯", "城乡建设"),
    ("噪音", "环境保护"),
    ("占道", "城乡建设"),
    ("小区", "城乡建设"),
    ("户口", "政法"),
];

/// The category shown in the list: the incident's, else one read off the message.
fn field(w: &World, d: &Doc) -> String {
    if let Some(i) = d.incident {
        return w.script.incidents[i as usize].category.clone();
    }
    let text = format!("{}{}", d.title.as_deref().unwrap_or(""), d.text);
    FIELDS
        .iter()
        .find(|(k, _)| text.contains(k))
        .map_or("其他", |(_, f)| f)
        .to_string()
}

/// A poster's name as boards show it: the first character and stars.
fn masked(name: &str) -> String {
    let first: String = name.chars().take(1).collect();
    format!("{first}**")
}

pub async fn list(State(st): St, Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let Some(page) = q.page() else {
        return not_found_page("board_list");
    };
    let all: Vec<u32> = w.visible(Platform::Board, now).collect();
    let size = w.script.world.site.page_size;
    let total = super::pages(all.len(), size);
    if page > total {
        return not_found_page("board_list");
    }
    let items = super::paginate(&all, page, size);
    let rows: String = items
        .iter()
        .map(|&i| {
            let d = &w.docs[i as usize];
            format!(
                "<tr><td class=\"msg-id\">{}</td><td class=\"msg-title\"><a href=\"{}\">{}</a></td><td class=\"msg-field\">{}</td>\
                 <td class=\"msg-status\">{}</td><td class=\"msg-time\">{}</td></tr>\n",
                d.id,
                detail_path(d),
                escape(d.title.as_deref().unwrap_or("")),
                escape(&field(w, d)),
                status(d, now),
                w.at(d.t).format("%Y-%m-%d %H:%M:%S")
            )
        })
        .collect();
    let mut pager = String::from("<div class=\"pagination\">");
    if page > 1 {
        pager.push_str(&format!(
            "<a href=\"/board/?page={}\">上一页</a> ",
            page - 1
        ));
    }
    pager.push_str(&format!(
        "<span class=\"current\">{page}</span>/<span class=\"total\">{total}</span>"
    ));
    if page < total {
        pager.push_str(&format!(
            " <a href=\"/board/?page={}\" class=\"next\">下一页</a>",
            page + 1
        ));
    }
    pager.push_str("</div>");
    let name = &w.script.world.site.board_name;
    let body = format!(
        "<h1>{}</h1>\n<table class=\"msg-list\">\n<thead><tr><th>编号</th><th>留言标题</th><th>领域</th><th>状态</th><th>留言时间</th></tr></thead>\n<tbody>\n{rows}</tbody></table>\n{pager}",
        escape(name)
    );
    let html = frame(name, "<meta charset=\"utf-8\">", &body);
    // The list changes when a message arrives and when one is answered.
    let newest = items
        .iter()
        .map(|&i| {
            let d = &w.docs[i as usize];
            match &d.reply {
                Some((t, _)) if *t <= now => d.t.max(*t),
                _ => d.t,
            }
        })
        .max()
        .unwrap_or(0);
    html_page("board_list", &headers, html, Charset::Utf8, w.at(newest))
}

pub async fn detail(State(st): St, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let id = file
        .strip_suffix(".html")
        .and_then(|s| s.parse::<u64>().ok());
    let Some(&di) = id.and_then(|id| w.site_ids.get(&(Platform::Board, id))) else {
        return not_found_page("board_detail");
    };
    let d = &w.docs[di as usize];
    if d.t > now {
        return not_found_page("board_detail");
    }
    let (_, author) = w.author_of(d);
    let likes = w.metrics(di, now).likes.unwrap_or(0);
    let st_text = status(d, now);
    let reply = match &d.reply {
        Some((t, text)) if *t <= now => format!(
            "<div class=\"reply\"><p class=\"reply-status\">办理状态：<span>{st_text}</span></p>\
             <p class=\"reply-unit\">答复单位：<span>{}</span></p><p class=\"reply-time\">答复时间：<span>{}</span></p>\
             <div class=\"reply-content\">{}</div></div>",
            escape(&reply_unit(w, d)),
            w.at(*t).format("%Y-%m-%d %H:%M:%S"),
            escape(text)
        ),
        _ => format!(
            "<div class=\"reply\"><p class=\"reply-status\">办理状态：<span>{st_text}</span></p><p>该留言正在办理中，请耐心等待。</p></div>"
        ),
    };
    let body = format!(
        "<div class=\"message\"><h1 class=\"msg-title\">{}</h1>\n<p class=\"msg-meta\">留言编号：<span class=\"msg-id\">{}</span> \
         留言人：<span class=\"msg-author\">{}</span> 留言时间：<span class=\"msg-time\">{}</span> 领域：<span>{}</span> 支持：<span class=\"msg-likes\">{likes}</span></p>\n\
         <div class=\"msg-content\">{}</div></div>\n{reply}",
        escape(d.title.as_deref().unwrap_or("")),
        d.id,
        escape(&masked(&author)),
        w.at(d.t).format("%Y-%m-%d %H:%M:%S"),
        escape(&field(w, d)),
        escape(&d.text)
    );
    let html = frame(
        &format!(
            "{} - {}",
            d.title.as_deref().unwrap_or(""),
            w.script.world.site.board_name
        ),
        "<meta charset=\"utf-8\">",
        &body,
    );
    let modified = match &d.reply {
        Some((t, _)) if *t <= now => *t,
        _ => d.t,
    };
    html_page(
        "board_detail",
        &headers,
        html,
        Charset::Utf8,
        w.at(modified),
    )
}
