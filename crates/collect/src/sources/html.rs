//! HTML portals and message boards: list pages (with paging) → links → detail pages.

use futures::stream::{self, StreamExt};
use regex::Regex;
use scraper::{Html, Selector};
use url::Url;
use yuqing_core::{id::stable_id, Item};

use crate::config::{BoardSource, HtmlSource, TimeFormat};
use crate::error::{CollectError, FetchError};
use crate::extract::{
    self, board_rows, compile, compile_opt, first_text, list_links, time_in, DetailPlan, Row,
};
use crate::fetch::Response;
use crate::runtime::{fingerprint, NewItem, Poll};
use crate::state::Tracked;

struct BoardPlan {
    row: Selector,
    row_status: Option<Selector>,
    reply_status: Option<Selector>,
    replied_at: Option<Selector>,
    reply_text: Option<Selector>,
    replier: Option<Selector>,
}

pub(crate) struct HtmlPlan {
    list_url: String,
    page_url: Option<String>,
    page_start: u32,
    next: Option<Selector>,
    link: Selector,
    pattern: Option<Regex>,
    detail: DetailPlan,
    board: Option<BoardPlan>,
}

impl HtmlPlan {
    pub(crate) fn from_html(h: &HtmlSource) -> Result<HtmlPlan, String> {
        Ok(HtmlPlan {
            list_url: h.list_url.clone(),
            page_url: h.page_url.clone(),
            page_start: h.page_start,
            next: compile_opt(h.next_selector.as_deref(), "next_selector")?,
            link: compile(&h.link_selector, "link_selector")?,
            pattern: h
                .link_pattern
                .as_deref()
                .map(|p| Regex::new(p).map_err(|e| format!("link_pattern: {e}")))
                .transpose()?,
            detail: DetailPlan::build(&h.detail, h.time_format.as_deref())?,
            board: None,
        })
    }

    pub(crate) fn from_board(b: &BoardSource) -> Result<HtmlPlan, String> {
        Ok(HtmlPlan {
            list_url: b.list_url.clone(),
            page_url: b.page_url.clone(),
            page_start: b.page_start,
            next: compile_opt(b.next_selector.as_deref(), "next_selector")?,
            link: compile(&b.link_selector, "link_selector")?,
            pattern: None,
            detail: DetailPlan::build(&b.detail, b.time_format.as_deref())?,
            board: Some(BoardPlan {
                row: compile(&b.row_selector, "row_selector")?,
                row_status: compile_opt(b.row_status.as_deref(), "row_status")?,
                reply_status: compile_opt(b.reply_status.as_deref(), "reply_status")?,
                replied_at: compile_opt(b.replied_at.as_deref(), "replied_at")?,
                reply_text: compile_opt(b.reply_text.as_deref(), "reply_text")?,
                replier: compile_opt(b.replier.as_deref(), "replier")?,
            }),
        })
    }

    /// Portals with a view-count selector and every board (reply status changes) are re-observed.
    pub(crate) fn tracks(&self) -> bool {
        self.board.is_some() || self.detail.views.is_some()
    }

    fn rows(&self, html: &str, base: &Url) -> (Vec<Row>, Option<String>) {
        match &self.board {
            Some(b) => board_rows(
                html,
                base,
                &b.row,
                &self.link,
                b.row_status.as_ref(),
                self.next.as_ref(),
            ),
            None => {
                let (links, next) = list_links(
                    html,
                    base,
                    &self.link,
                    self.pattern.as_ref(),
                    self.next.as_ref(),
                );
                (
                    links
                        .into_iter()
                        .map(|link| Row { link, status: None })
                        .collect(),
                    next,
                )
            }
        }
    }

    fn page_url(&self, index: u32, next_link: Option<String>) -> Option<String> {
        match &self.page_url {
            Some(t) => Some(t.replace(
                "{page}",
                &(self.page_start + index.saturating_sub(2)).to_string(),
            )),
            None => next_link,
        }
    }
}

/// The item id of a detail URL.
fn item_id(link: &str) -> String {
    stable_id("", &[link])
}

pub(crate) async fn poll(p: &mut Poll<'_>, plan: &HtmlPlan) -> Result<(), CollectError> {
    let max_pages = p.cfg().common.max_pages;
    let concurrency = p.cfg().common.concurrency;
    let first = p.get(&plan.list_url, &[], true).await?;
    if first.not_modified {
        p.report.not_modified = true;
        return Ok(());
    }
    let mut page: Option<Response> = Some(first);
    let mut index = 0u32;
    while let Some(resp) = page.take() {
        index += 1;
        let text = p.decode(&resp).text;
        let (rows, next_link) = plan.rows(&text, &resp.url);
        if rows.is_empty() {
            p.skip("no_links", &resp.url);
            break;
        }
        let ids: Vec<String> = rows.iter().map(|r| item_id(&r.link)).collect();
        let seen = p.seen(&ids).await?;
        let fresh: Vec<Row> = rows
            .into_iter()
            .zip(seen)
            .filter(|(_, s)| !s)
            .map(|(r, _)| r)
            .collect();
        if fresh.is_empty() {
            // Everything on this page is known: the pages behind it are older.
            break;
        }
        let next_url = if index < max_pages {
            plan.page_url(index + 1, next_link)
        } else {
            None
        };
        // Detail pages of this list page, and the next list page, fetched at the same time.
        let shared: &Poll<'_> = p;
        let details = stream::iter(fresh)
            .map(|row| async move {
                let r = shared.fetch_shared(&row.link, &[], false).await;
                (row, r)
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>();
        let next = async {
            match &next_url {
                Some(u) => Some(shared.fetch_shared(u, &[], false).await),
                None => None,
            }
        };
        let (fetched, next) = futures::join!(details, next);
        let mut batch = Vec::with_capacity(fetched.len());
        let mut blocked = None;
        for (row, r) in fetched {
            match r {
                Ok(resp) => {
                    p.report.pages += 1;
                    batch.push(build(p, plan, &row, &resp));
                }
                Err(e @ FetchError::Blocked { .. }) => blocked = Some(e),
                Err(e) => p.skip(e.kind(), &e),
            }
        }
        p.emit_new(batch.into_iter().flatten().collect()).await?;
        if let Some(e) = blocked {
            return Err(e.into());
        }
        match next {
            Some(Ok(r)) => {
                p.report.pages += 1;
                page = Some(r);
            }
            Some(Err(e @ FetchError::Blocked { .. })) => return Err(e.into()),
            Some(Err(e)) => p.skip(e.kind(), &e),
            None => {}
        }
    }
    Ok(())
}

/// Builds the item of a fetched detail page.
fn build(p: &mut Poll<'_>, plan: &HtmlPlan, row: &Row, resp: &Response) -> Option<NewItem> {
    let text = p.decode(resp).text;
    let now = p.now();
    let d = extract::detail(&text, &plan.detail, now);
    let board = plan
        .board
        .as_ref()
        .map(|b| board_fields(b, &text, plan.detail.time_format.as_ref(), now));
    if d.text.trim().is_empty() && d.title.is_none() {
        p.skip("empty_page", &row.link);
        return None;
    }
    let mut item: Item = p.item(item_id(&row.link), d.text);
    item.url = Some(row.link.clone());
    item.title = d.title;
    item.author = d.author;
    match d.published {
        Some(t) => item.published_at = t,
        None => {
            item.extra.insert("published_estimated".into(), true.into());
        }
    }
    item.metrics.views = d.views;
    for (meta, key) in [
        ("SiteName", "site"),
        ("ColumnName", "column"),
        ("ContentSource", "content_source"),
    ] {
        if let Some(v) = d.meta.get(meta) {
            item.extra.insert(key.into(), v.clone().into());
        }
    }
    if d.official {
        item.extra.insert("author_kind".into(), "official".into());
    }
    if let Some(fields) = board {
        let mut fields = fields;
        if fields.status.is_none() {
            fields.status = row.status.clone();
        }
        if fields.status.is_none() && fields.text.is_some() {
            fields.status = Some("已回复".to_string());
        }
        if let Some(s) = fields.status {
            item.extra.insert("reply_status".into(), s.into());
        }
        if let Some(t) = fields.at {
            item.extra
                .insert("replied_at".into(), t.to_rfc3339().into());
        }
        if let Some(t) = fields.text {
            item.extra.insert("reply_text".into(), t.into());
        }
        if let Some(t) = fields.replier {
            item.extra.insert("replier".into(), t.into());
        }
    }
    Some(if plan.tracks() {
        NewItem::tracked(item, row.link.clone())
    } else {
        NewItem::new(item)
    })
}

#[derive(Debug, Default)]
struct BoardFields {
    status: Option<String>,
    at: Option<chrono::DateTime<chrono::FixedOffset>>,
    text: Option<String>,
    replier: Option<String>,
}

fn board_fields(
    b: &BoardPlan,
    html: &str,
    fmt: Option<&TimeFormat>,
    now: chrono::DateTime<chrono::Utc>,
) -> BoardFields {
    let doc = Html::parse_document(html);
    let root = doc.root_element();
    BoardFields {
        status: b
            .reply_status
            .as_ref()
            .and_then(|s| first_text(root, s))
            .map(|s| extract::strip_label(&s)),
        at: b
            .replied_at
            .as_ref()
            .and_then(|s| time_in(root, s, fmt, now)),
        text: b
            .reply_text
            .as_ref()
            .and_then(|s| first_text(root, s))
            .filter(|t| !t.is_empty()),
        replier: b
            .replier
            .as_ref()
            .and_then(|s| first_text(root, s))
            .map(|s| extract::strip_label(&s)),
    }
}

pub(crate) async fn refetch(
    p: &mut Poll<'_>,
    plan: &HtmlPlan,
    t: &Tracked,
) -> Result<Option<(Item, String)>, CollectError> {
    let resp = match p.get(&t.target, &[], false).await {
        Ok(r) => r,
        Err(FetchError::Status {
            status: 404 | 410, ..
        }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let row = Row {
        link: t.target.clone(),
        status: None,
    };
    Ok(build(p, plan, &row, &resp).map(|n| {
        let f = fingerprint(&n.item);
        (n.item, f)
    }))
}
