//! The forum, shaped like a Discuz! board: `forum-2-1.html` thread lists (by last reply) and
//! `thread-<tid>-<page>-1.html` thread pages with the first post and the replies.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use yuqing_core::Platform;

use super::{count, frame, html_page, not_found_page, St};
use crate::script::Charset;
use crate::text::escape;
use crate::world::World;

/// The board id of the one forum board.
pub const FID: u64 = 2;

/// The path of page 1 of a thread.
pub fn thread_path(tid: u64) -> String {
    format!("/forum/thread-{tid}-1-1.html")
}

pub async fn home() -> Response {
    count("forum_home", "redirect");
    Redirect::to(&format!("/forum/forum-{FID}-1.html")).into_response()
}

pub async fn file(State(st): St, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(stem) = file.strip_suffix(".html") else {
        return not_found_page("forum");
    };
    let parts: Vec<&str> = stem.split('-').collect();
    match parts.as_slice() {
        ["forum", fid, page] => match (fid.parse::<u64>(), page.parse::<usize>()) {
            (Ok(FID), Ok(p)) if p >= 1 => list(&st, p, &headers),
            _ => not_found_page("forum_list"),
        },
        ["thread", tid, page, "1"] => match (tid.parse::<u64>(), page.parse::<usize>()) {
            (Ok(t), Ok(p)) if p >= 1 => thread(&st, t, p, &headers),
            _ => not_found_page("forum_thread"),
        },
        _ => not_found_page("forum"),
    }
}

fn head(w: &World) -> String {
    format!(
        "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\" />\n<meta name=\"generator\" content=\"Discuz! X3.4\" />\n<meta name=\"application-name\" content=\"{}\" />",
        escape(&w.script.world.site.forum_name)
    )
}

fn list(st: &super::AppState, page: usize, headers: &HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    // Threads ordered by last activity, as forums list them.
    let mut threads: Vec<(i64, u32)> = w
        .visible(Platform::Forum, now)
        .map(|i| {
            let r = w.comments_by(i, now);
            let last = if r.is_empty() {
                w.docs[i as usize].t
            } else {
                w.comments[(r.end - 1) as usize].t
            };
            (last, i)
        })
        .collect();
    threads.sort_by(|a, b| b.cmp(a));
    let size = w.script.world.site.page_size;
    let total = super::pages(threads.len(), size);
    if page > total {
        return not_found_page("forum_list");
    }
    let items = super::paginate(&threads, page, size);
    let rows: String = items
        .iter()
        .map(|&(last, i)| {
            let d = &w.docs[i as usize];
            let (_, author) = w.author_of(d);
            let m = w.metrics(i, now);
            format!(
                "<tbody id=\"normalthread_{id}\"><tr>\n<th class=\"common\"><a href=\"thread-{id}-1-1.html\" class=\"s xst\">{title}</a></th>\n\
                 <td class=\"by\"><cite><a href=\"space-uid-{uid}.html\">{author}</a></cite><em><span>{created}</span></em></td>\n\
                 <td class=\"num\"><a href=\"thread-{id}-1-1.html\" class=\"xi2\">{replies}</a><em>{views}</em></td>\n\
                 <td class=\"by\"><em><a href=\"thread-{id}-1-1.html\">{last}</a></em></td>\n</tr></tbody>\n",
                id = d.id,
                title = escape(d.title.as_deref().unwrap_or("")),
                uid = w.author_of(d).0,
                author = escape(&author),
                created = w.at(d.t).format("%Y-%m-%d"),
                replies = m.comments.unwrap_or(0),
                views = m.views.unwrap_or(0),
                last = w.at(last).format("%Y-%m-%d %H:%M"),
            )
        })
        .collect();
    let mut pager = String::from("<div class=\"pg\">");
    if page > 1 {
        pager.push_str(&format!(
            "<a href=\"forum-{FID}-{}.html\" class=\"prev\">上一页</a>",
            page - 1
        ));
    }
    pager.push_str(&format!(
        "<strong>{page}</strong><label><span title=\"共 {total} 页\"> / {total} 页</span></label>"
    ));
    if page < total {
        pager.push_str(&format!(
            "<a href=\"forum-{FID}-{}.html\" class=\"nxt\">下一页</a>",
            page + 1
        ));
    }
    pager.push_str("</div>");
    let body = format!(
        "<div id=\"pt\"><a href=\"/forum/\">{}</a> &rsaquo; 百姓话题</div>\n<table summary=\"forum_{FID}\" id=\"threadlisttableid\">\n{rows}</table>\n{pager}",
        escape(&w.script.world.site.forum_name)
    );
    let html = frame(
        &format!("百姓话题 - {}", w.script.world.site.forum_name),
        &head(w),
        &body,
    );
    let modified = items.first().map_or(w.at(0), |&(t, _)| w.at(t));
    html_page("forum_list", headers, html, Charset::Utf8, modified)
}

fn thread(st: &super::AppState, tid: u64, page: usize, headers: &HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let Some(&di) = w.site_ids.get(&(Platform::Forum, tid)) else {
        return not_found_page("forum_thread");
    };
    let d = &w.docs[di as usize];
    if d.t > now {
        return not_found_page("forum_thread");
    }
    let replies: Vec<u32> = w.comments_by(di, now).collect();
    let size = w.script.world.site.page_size;
    // Page 1 holds the first post and size-1 replies.
    let total = super::pages(replies.len() + 1, size);
    if page > total {
        return not_found_page("forum_thread");
    }
    let (from, to) = if page == 1 {
        (0, (size - 1).min(replies.len()))
    } else {
        let s = (page - 1) * size - 1;
        (s.min(replies.len()), (s + size).min(replies.len()))
    };
    let mut posts = String::new();
    let (uid, author) = w.author_of(d);
    if page == 1 {
        posts.push_str(&post_html(
            d.id,
            uid,
            &author,
            &w.at(d.t).format("%Y-%m-%d %H:%M:%S").to_string(),
            &d.text,
            1,
        ));
    }
    for (k, &c) in replies[from..to].iter().enumerate() {
        let cm = &w.comments[c as usize];
        let u = w.user(cm.author);
        let floor = from + k + 2;
        posts.push_str(&post_html(
            cm.id,
            u.uid,
            &u.name,
            &w.at(cm.t).format("%Y-%m-%d %H:%M:%S").to_string(),
            &w.comment_text(c),
            floor,
        ));
    }
    let mut pager = String::from("<div class=\"pg\">");
    if page > 1 {
        pager.push_str(&format!(
            "<a href=\"thread-{tid}-{}-1.html\" class=\"prev\">上一页</a>",
            page - 1
        ));
    }
    pager.push_str(&format!(
        "<strong>{page}</strong><label><span title=\"共 {total} 页\"> / {total} 页</span></label>"
    ));
    if page < total {
        pager.push_str(&format!(
            "<a href=\"thread-{tid}-{}-1.html\" class=\"nxt\">下一页</a>",
            page + 1
        ));
    }
    pager.push_str("</div>");
    let title = d.title.as_deref().unwrap_or("");
    let m = w.metrics(di, now);
    let body = format!(
        "<div id=\"pt\"><a href=\"/forum/\">{}</a> &rsaquo; <a href=\"forum-{FID}-1.html\">百姓话题</a></div>\n\
         <h1 class=\"ts\"><span id=\"thread_subject\">{}</span></h1>\n<div class=\"hm ptn\"><span class=\"xg1\">查看:</span> <span class=\"xi1\">{}</span> <span class=\"xg1\">回复:</span> <span class=\"xi1\">{}</span></div>\n\
         <div id=\"postlist\">\n{posts}</div>\n{pager}",
        escape(&w.script.world.site.forum_name),
        escape(title),
        m.views.unwrap_or(0),
        m.comments.unwrap_or(0)
    );
    let html = frame(
        &format!("{title} - {}", w.script.world.site.forum_name),
        &head(w),
        &body,
    );
    let last = replies
        .get(to.saturating_sub(1))
        .map_or(d.t, |&c| w.comments[c as usize].t)
        .max(d.t);
    html_page("forum_thread", headers, html, Charset::Utf8, w.at(last))
}

fn post_html(pid: u64, uid: u64, author: &str, at: &str, text: &str, floor: usize) -> String {
    format!(
        "<div id=\"post_{pid}\" class=\"plhin\">\n<div class=\"pls\"><div class=\"authi\"><a href=\"space-uid-{uid}.html\" class=\"xw1\">{}</a></div></div>\n\
         <div class=\"plc\"><div class=\"pi\"><strong><a id=\"postnum{pid}\"><em>{floor}</em>#</a></strong>\
         <div class=\"authi\"><em id=\"authorposton{pid}\">发表于 {at}</em></div></div>\n\
         <table><tr><td class=\"t_f\" id=\"postmessage_{pid}\">{}</td></tr></table></div>\n</div>\n",
        escape(author),
        escape(text)
    )
}
