//! The government portal: sections with `index.html`, `index_1.html`, … list pages, detail pages
//! with the gov-CMS meta tags, RSS 2.0 feeds, and sections served in GBK.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use yuqing_core::Platform;

use super::{count, frame, html_page, not_found_page, St};
use crate::script::{Charset, Section};
use crate::text::escape;
use crate::world::{Doc, World};

/// The detail path of a portal doc: `/portal/xwdt/202611/t20261122_1000123.html`.
pub fn detail_path(w: &World, d: &Doc) -> String {
    let sec = &w.script.world.site.sections[d.section as usize];
    let at = w.at(d.t);
    format!(
        "/portal/{}/{}/t{}_{}.html",
        sec.key,
        at.format("%Y%m"),
        at.format("%Y%m%d"),
        d.id
    )
}

fn section(w: &World, key: &str) -> Option<(usize, Section)> {
    w.script
        .world
        .site
        .sections
        .iter()
        .position(|s| s.key == key)
        .map(|i| (i, w.script.world.site.sections[i].clone()))
}

fn meta_charset(c: Charset) -> &'static str {
    match c {
        Charset::Utf8 => "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\">",
        Charset::GbkMeta => {
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">"
        }
        Charset::GbkHeader => "",
    }
}

fn site_meta(w: &World) -> String {
    let site = &w.script.world.site;
    format!(
        "<meta name=\"SiteName\" content=\"{}\">\n<meta name=\"SiteDomain\" content=\"{}\">\n<meta name=\"SiteIDCode\" content=\"{}\">",
        escape(&site.portal_name),
        escape(&site.portal_domain),
        escape(&site.portal_site_id)
    )
}

fn nav(w: &World) -> String {
    let items: String = w
        .script
        .world
        .site
        .sections
        .iter()
        .map(|s| {
            format!(
                "<li><a href=\"/portal/{}/\">{}</a></li>",
                s.key,
                escape(&s.name)
            )
        })
        .collect();
    format!(
        "<div class=\"header\"><h1 class=\"logo\">{}</h1><ul class=\"nav\"><li><a href=\"/portal/\">首页</a></li>{items}</ul></div>",
        escape(&w.script.world.site.portal_name)
    )
}

pub async fn home(State(st): St, headers: HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let latest: Vec<u32> = w.visible(Platform::Portal, now).take(10).collect();
    let list: String = latest
        .iter()
        .map(|&i| {
            let d = &w.docs[i as usize];
            format!(
                "<li><a href=\"{}\">{}</a><span>{}</span></li>",
                detail_path(w, d),
                escape(d.title.as_deref().unwrap_or("")),
                w.at(d.t).format("%Y-%m-%d")
            )
        })
        .collect();
    let modified = latest
        .first()
        .map_or(w.at(0), |&i| w.at(w.docs[i as usize].t));
    let body = format!(
        "{}<div class=\"main\"><h2>最新信息</h2><ul class=\"list\">{list}</ul><p><a href=\"/portal/rss.xml\">RSS订阅</a></p></div>",
        nav(w)
    );
    let html = frame(
        &w.script.world.site.portal_name,
        &format!("{}\n{}", meta_charset(Charset::Utf8), site_meta(w)),
        &body,
    );
    html_page("portal_home", &headers, html, Charset::Utf8, modified)
}

pub async fn internal() -> Response {
    count("portal_internal", "forbidden");
    (StatusCode::FORBIDDEN, "403 Forbidden").into_response()
}

pub async fn section_index(State(st): St, Path(sec): Path<String>, headers: HeaderMap) -> Response {
    list_page(&st, &sec, 0, &headers)
}

pub async fn section_file(
    State(st): St,
    Path((sec, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if file == "rss.xml" {
        return rss(&st, Some(&sec), &headers);
    }
    let page = if file == "index.html" || file == "index.htm" {
        Some(0)
    } else {
        file.strip_prefix("index_")
            .and_then(|r| r.strip_suffix(".html"))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n >= 1)
    };
    match page {
        Some(p) => list_page(&st, &sec, p, &headers),
        None => not_found_page("portal_list"),
    }
}

fn list_page(st: &super::AppState, key: &str, page: usize, headers: &HeaderMap) -> Response {
    let w = &st.world;
    let Some((si, sec)) = section(w, key) else {
        return not_found_page("portal_list");
    };
    let now = st.now();
    let all = &w.by_section[si];
    let n = all.partition_point(|&i| w.docs[i as usize].t <= now);
    let visible: Vec<u32> = all[..n].iter().rev().copied().collect();
    let size = w.script.world.site.page_size;
    let total_pages = super::pages(visible.len(), size);
    if page >= total_pages {
        return not_found_page("portal_list");
    }
    let items = super::paginate(&visible, page + 1, size);
    let month = |d: &Doc| w.at(d.t).format("%Y%m").to_string();
    let list: String = items
        .iter()
        .map(|&i| {
            let d = &w.docs[i as usize];
            let at = w.at(d.t);
            let title = d.title.as_deref().unwrap_or("");
            format!(
                "<li><a href=\"./{}/t{}_{}.html\" target=\"_blank\" title=\"{}\">{}</a><span class=\"date\">{}</span></li>\n",
                month(d),
                at.format("%Y%m%d"),
                d.id,
                escape(title),
                escape(title),
                at.format("%Y-%m-%d")
            )
        })
        .collect();
    let link = |p: usize| {
        if p == 0 {
            "index.html".to_string()
        } else {
            format!("index_{p}.html")
        }
    };
    let mut pager = format!("<div class=\"page\"><span>共{total_pages}页</span> ");
    if page > 0 {
        pager.push_str(&format!(
            "<a href=\"{}\">首页</a> <a href=\"{}\">上一页</a> ",
            link(0),
            link(page - 1)
        ));
    }
    if page + 1 < total_pages {
        pager.push_str(&format!(
            "<a href=\"{}\" class=\"next\">下一页</a> <a href=\"{}\">尾页</a>",
            link(page + 1),
            link(total_pages - 1)
        ));
    }
    pager.push_str("</div>");
    let body = format!(
        "{}<div class=\"main\"><div class=\"position\">当前位置：<a href=\"/portal/\">首页</a> &gt; {}</div>\n<ul class=\"list\">\n{list}</ul>\n\
         <script>createPageHTML({total_pages}, {page}, \"index\", \"html\");</script>\n{pager}</div>",
        nav(w),
        escape(&sec.name)
    );
    let head = format!(
        "{}\n{}\n<meta name=\"ColumnName\" content=\"{}\">\n<meta name=\"ColumnType\" content=\"{}\">",
        meta_charset(sec.charset),
        site_meta(w),
        escape(&sec.name),
        escape(&sec.name)
    );
    let html = frame(
        &format!("{}_{}", sec.name, w.script.world.site.portal_name),
        &head,
        &body,
    );
    let modified = items
        .first()
        .map_or(w.at(0), |&i| w.at(w.docs[i as usize].t));
    html_page("portal_list", headers, html, sec.charset, modified)
}

pub async fn detail(
    State(st): St,
    Path((sec, month, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let w = &st.world;
    let Some((si, s)) = section(w, &sec) else {
        return not_found_page("portal_detail");
    };
    let id = file
        .strip_suffix(".html")
        .and_then(|f| f.rsplit_once('_'))
        .and_then(|(_, id)| id.parse::<u64>().ok());
    let Some(&di) = id.and_then(|id| w.site_ids.get(&(Platform::Portal, id))) else {
        return not_found_page("portal_detail");
    };
    let d = &w.docs[di as usize];
    let at = w.at(d.t);
    if d.t > st.now() || d.section as usize != si || at.format("%Y%m").to_string() != month {
        return not_found_page("portal_detail");
    }
    let title = d.title.as_deref().unwrap_or("");
    let source = source_of(w, d);
    let paragraphs: String = d
        .text
        .split('。')
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p style=\"text-indent:2em\">{}。</p>\n", escape(p.trim())))
        .collect();
    let views = w.metrics(di, st.now()).views.unwrap_or(0);
    let head = format!(
        "{}\n{}\n<meta name=\"ColumnName\" content=\"{}\">\n<meta name=\"ColumnDescription\" content=\"{}\">\n\
         <meta name=\"ColumnType\" content=\"{}\">\n<meta name=\"ArticleTitle\" content=\"{}\">\n\
         <meta name=\"PubDate\" content=\"{}\">\n<meta name=\"ContentSource\" content=\"{}\">\n\
         <meta name=\"Keywords\" content=\"\">\n<meta name=\"Description\" content=\"{}\">",
        meta_charset(s.charset),
        site_meta(w),
        escape(&s.name),
        escape(&s.name),
        escape(&s.name),
        escape(title),
        at.format("%Y-%m-%d %H:%M:%S"),
        escape(&source),
        escape(&crate::text::truncate_chars(&d.text, 60)),
    );
    let body = format!(
        "{}<div class=\"main\"><div class=\"position\">当前位置：<a href=\"/portal/\">首页</a> &gt; <a href=\"/portal/{}/\">{}</a></div>\n\
         <div class=\"article\"><h1 class=\"title\">{}</h1>\n<div class=\"info\"><span>发布时间：{}</span> <span>来源：{}</span> <span>浏览次数：{}</span></div>\n\
         <div class=\"TRS_Editor\" id=\"zoom\">\n{paragraphs}</div></div></div>",
        nav(w),
        s.key,
        escape(&s.name),
        escape(title),
        at.format("%Y-%m-%d %H:%M"),
        escape(&source),
        views
    );
    let html = frame(
        &format!("{title}_{}", w.script.world.site.portal_name),
        &head,
        &body,
    );
    html_page("portal_detail", &headers, html, s.charset, at)
}

/// The `ContentSource` of a portal doc: the department named at its end, or the government.
fn source_of(w: &World, d: &Doc) -> String {
    let county = d
        .incident
        .map(|i| w.script.incidents[i as usize].region.county.clone())
        .unwrap_or_else(|| w.script.world.site.home.county.clone());
    if d.incident.is_some() {
        format!("{county}人民政府")
    } else {
        match d.section {
            0 => format!("{county}人民政府办公室"),
            1 => format!("{county}人民政府"),
            _ => format!("{county}融媒体中心"),
        }
    }
}

pub async fn rss_all(State(st): St, headers: HeaderMap) -> Response {
    rss(&st, None, &headers)
}

fn rfc822(t: DateTime<FixedOffset>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

fn rss(st: &super::AppState, key: Option<&str>, headers: &HeaderMap) -> Response {
    let w = &st.world;
    let now = st.now();
    let si = match key {
        Some(k) => match section(w, k) {
            Some((i, _)) => Some(i),
            None => return not_found_page("portal_rss"),
        },
        None => None,
    };
    let base = super::base_url(headers);
    let items: Vec<u32> = w
        .visible(Platform::Portal, now)
        .filter(|&i| si.is_none_or(|s| w.docs[i as usize].section as usize == s))
        .take(50)
        .collect();
    let site = &w.script.world.site;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\">\n<channel>\n",
    );
    let channel_title = match si {
        Some(i) => format!("{} - {}", site.portal_name, site.sections[i].name),
        None => site.portal_name.clone(),
    };
    xml.push_str(&format!(
        "<title>{}</title>\n<link>{base}/portal/</link>\n<description>{}</description>\n<language>zh-cn</language>\n",
        escape(&channel_title),
        escape(&format!("{}信息公开", site.portal_name))
    ));
    if let Some(&first) = items.first() {
        xml.push_str(&format!(
            "<lastBuildDate>{}</lastBuildDate>\n",
            rfc822(w.at(w.docs[first as usize].t))
        ));
    }
    for &i in &items {
        let d = &w.docs[i as usize];
        let link = format!("{base}{}", detail_path(w, d));
        xml.push_str(&format!(
            "<item>\n<title>{}</title>\n<link>{link}</link>\n<guid isPermaLink=\"true\">{link}</guid>\n<description>{}</description>\n<category>{}</category>\n<pubDate>{}</pubDate>\n</item>\n",
            escape(d.title.as_deref().unwrap_or("")),
            escape(&d.text),
            escape(&site.sections[d.section as usize].name),
            rfc822(w.at(d.t))
        ));
    }
    xml.push_str("</channel>\n</rss>\n");
    let modified = items
        .first()
        .map_or(w.at(0), |&i| w.at(w.docs[i as usize].t));
    super::conditional(
        "portal_rss",
        headers,
        xml.into_bytes(),
        "application/rss+xml; charset=utf-8",
        modified,
    )
}
