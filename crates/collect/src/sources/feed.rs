//! RSS 2.0, Atom and JSON Feed (feed-rs): portals' own feeds and RSSHub routes.

use yuqing_core::Item;

use crate::config::FeedSource;
use crate::error::CollectError;
use crate::runtime::{NewItem, Poll};
use crate::text::{html_to_text, xml_as_utf8};
use crate::urlnorm::normalize_url;

pub(crate) struct FeedPlan {
    url: String,
}

impl FeedPlan {
    pub(crate) fn build(f: &FeedSource) -> FeedPlan {
        FeedPlan { url: f.url.clone() }
    }
}

const ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, text/xml;q=0.8, */*;q=0.5";

pub(crate) async fn poll(p: &mut Poll<'_>, plan: &FeedPlan) -> Result<(), CollectError> {
    let resp = p.get(&plan.url, &[("accept", ACCEPT)], true).await?;
    if resp.not_modified {
        p.report.not_modified = true;
        return Ok(());
    }
    let decoded = p.decode(&resp);
    let text = xml_as_utf8(&decoded.text);
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(resp.url.as_str()))
        .build()
        .parse(text.as_bytes())
        .map_err(|e| CollectError::Parse {
            what: "feed",
            message: e.to_string(),
        })?;
    let items: Vec<NewItem> = feed
        .entries
        .into_iter()
        .filter_map(|e| entry_item(p, e))
        .map(NewItem::new)
        .collect();
    p.emit_new(items).await?;
    Ok(())
}

fn entry_item(p: &mut Poll<'_>, e: feed_rs::model::Entry) -> Option<Item> {
    let link = e
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| e.links.first())
        .and_then(|l| normalize_url(&l.href));
    let id = if e.id.trim().is_empty() {
        link.clone()?
    } else {
        e.id.trim().to_string()
    };
    let title = e
        .title
        .as_ref()
        .map(|t| html_to_text(&t.content))
        .filter(|t| !t.is_empty());
    let body = e
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .or_else(|| e.summary.as_ref().map(|s| s.content.clone()))
        .map(|b| html_to_text(&b))
        .unwrap_or_default();
    let text = if body.is_empty() {
        title.clone().unwrap_or_default()
    } else {
        body
    };
    if text.trim().is_empty() {
        p.skip("empty_entry", &id);
        return None;
    }
    let mut item = p.item(id, text);
    item.url = link;
    item.title = title;
    item.author = e
        .authors
        .first()
        .and_then(|a| a.name.as_deref())
        .map(|n| n.trim().to_string())
        .filter(|a| !a.is_empty());
    match e.published.or(e.updated) {
        Some(t) => item.published_at = t.with_timezone(&yuqing_core::clock::cst()),
        None => {
            item.extra.insert("published_estimated".into(), true.into());
        }
    }
    let topics: Vec<serde_json::Value> = e
        .categories
        .iter()
        .map(|c| c.label.clone().unwrap_or_else(|| c.term.clone()))
        .filter(|t| !t.trim().is_empty())
        .map(serde_json::Value::String)
        .collect();
    if !topics.is_empty() {
        item.extra
            .insert("categories".into(), serde_json::Value::Array(topics));
    }
    Some(item)
}
