//! The source kinds. Each has a plan (its configuration compiled once), a poll, and where it can,
//! a refetch for re-observation.

mod dir;
mod feed;
mod html;
mod json_api;
mod weibo;

use crate::config::{SourceConfig, SourceKind};
use crate::error::CollectError;
use crate::runtime::Poll;
use crate::state::Tracked;
use yuqing_core::Item;

/// A source's configuration, compiled.
pub(crate) enum Plan {
    Feed(feed::FeedPlan),
    Html(Box<html::HtmlPlan>),
    Weibo(weibo::WeiboPlan),
    JsonApi(Box<json_api::JsonPlan>),
    Dir(dir::DirPlan),
}

impl Plan {
    pub(crate) fn build(cfg: &SourceConfig) -> Result<Plan, String> {
        Ok(match &cfg.kind {
            SourceKind::Feed(f) => Plan::Feed(feed::FeedPlan::build(f)),
            SourceKind::Html(h) => Plan::Html(Box::new(html::HtmlPlan::from_html(h)?)),
            SourceKind::Board(b) => Plan::Html(Box::new(html::HtmlPlan::from_board(b)?)),
            SourceKind::Weibo(w) => Plan::Weibo(weibo::WeiboPlan::build(w)?),
            SourceKind::JsonApi(j) => Plan::JsonApi(Box::new(json_api::JsonPlan::build(j)?)),
            SourceKind::Dir(d) => Plan::Dir(dir::DirPlan::build(d)),
        })
    }

    /// Whether the kind can fetch a seen item again.
    pub(crate) fn can_reobserve(&self) -> bool {
        match self {
            Plan::Html(h) => h.tracks(),
            Plan::Weibo(_) => true,
            Plan::Feed(_) | Plan::JsonApi(_) | Plan::Dir(_) => false,
        }
    }
}

/// One poll of a source.
pub(crate) async fn poll(p: &mut Poll<'_>, plan: &Plan) -> Result<(), CollectError> {
    match plan {
        Plan::Feed(f) => feed::poll(p, f).await,
        Plan::Html(h) => html::poll(p, h).await,
        Plan::Weibo(w) => weibo::poll(p, w).await,
        Plan::JsonApi(j) => json_api::poll(p, j).await,
        Plan::Dir(d) => dir::poll(p, d).await,
    }
}

/// Fetches a tracked item again: `Ok(None)` when it is gone.
pub(crate) async fn refetch(
    p: &mut Poll<'_>,
    plan: &Plan,
    t: &Tracked,
) -> Result<Option<(Item, String)>, CollectError> {
    match plan {
        Plan::Html(h) => html::refetch(p, h, t).await,
        Plan::Weibo(w) => weibo::refetch(p, w, t).await,
        Plan::Feed(_) | Plan::JsonApi(_) | Plan::Dir(_) => Ok(None),
    }
}
