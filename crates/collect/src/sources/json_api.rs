//! Generic JSON APIs (news comment threads and the like): fields mapped by path, page or cursor
//! paging; seen records that come back with new counts are emitted as re-observations.

use serde_json::Value;
use yuqing_core::Item;

use crate::config::{JsonApiSource, JsonFields, Paging};
use crate::error::CollectError;
use crate::runtime::{fingerprint, NewItem, Poll};
use crate::text::{html_to_text, json_count};
use crate::timeparse::parse_with;
use crate::urlnorm::normalize_url;

pub(crate) struct JsonPlan {
    src: JsonApiSource,
}

impl JsonPlan {
    pub(crate) fn build(j: &JsonApiSource) -> Result<JsonPlan, String> {
        if j.fields.id.trim().is_empty() || j.fields.text.trim().is_empty() {
            return Err("fields.id and fields.text are required".to_string());
        }
        Ok(JsonPlan { src: j.clone() })
    }
}

/// The value at a dot path (`data.list`, `user.name`, `images.0.url`); empty path is the value.
pub(crate) fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(v);
    }
    path.split('.').try_fold(v, |cur, part| match cur {
        Value::Object(o) => o.get(part),
        Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn string_at(v: &Value, path: Option<&str>) -> Option<String> {
    match at(v, path?)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn record_item(p: &Poll<'_>, r: &Value, f: &JsonFields, plan: &JsonPlan) -> Result<Item, String> {
    let id = string_at(r, Some(&f.id)).ok_or_else(|| format!("no `{}`", f.id))?;
    let text = string_at(r, Some(&f.text))
        .map(|t| html_to_text(&t))
        .unwrap_or_default();
    let mut item = p.item(id.clone(), text);
    item.title = string_at(r, f.title.as_deref()).map(|t| html_to_text(&t));
    item.author = string_at(r, f.author.as_deref());
    let now = p.now();
    match string_at(r, f.time.as_deref()) {
        Some(t) => match parse_with(&t, &plan.src.time_format, now) {
            Some(t) => item.published_at = t,
            None => {
                return Err(format!(
                    "time `{t}` does not read as {:?}",
                    plan.src.time_format
                ))
            }
        },
        None => {
            item.extra.insert("published_estimated".into(), true.into());
        }
    }
    item.url = string_at(r, f.url.as_deref())
        .or_else(|| {
            plan.src
                .url_template
                .as_ref()
                .map(|t| t.replace("{id}", &id))
        })
        .and_then(|u| normalize_url(&u));
    item.parent_id = string_at(r, f.parent_id.as_deref()).filter(|x| x != "0");
    item.root_id = string_at(r, f.root_id.as_deref()).filter(|x| x != "0");
    let count = |path: &Option<String>| path.as_deref().and_then(|p| at(r, p)).and_then(json_count);
    item.metrics.reposts = count(&f.reposts);
    item.metrics.comments = count(&f.comments);
    item.metrics.likes = count(&f.likes);
    item.metrics.views = count(&f.views);
    item.region = string_at(r, f.region.as_deref());
    Ok(item)
}

pub(crate) async fn poll(p: &mut Poll<'_>, plan: &JsonPlan) -> Result<(), CollectError> {
    let src = &plan.src;
    let max_pages = if src.paging == Paging::None {
        1
    } else {
        p.cfg().common.max_pages
    };
    let mut cursor = src.cursor_start.clone();
    let has_metrics = [
        &src.fields.reposts,
        &src.fields.comments,
        &src.fields.likes,
        &src.fields.views,
    ]
    .iter()
    .any(|f| f.is_some());
    for page in 0..max_pages {
        let url = src
            .url
            .replace("{page}", &(src.page_start + page).to_string())
            .replace(
                "{cursor}",
                &url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>(),
            );
        let resp = match p
            .get(&url, &[("accept", "application/json")], page == 0)
            .await
        {
            Ok(r) => r,
            Err(e) if page > 0 => {
                p.skip(e.kind(), &e);
                break;
            }
            Err(e) => return Err(e.into()),
        };
        if resp.not_modified {
            p.report.not_modified = true;
            break;
        }
        let text = p.decode(&resp).text;
        let body: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) if page > 0 => {
                p.skip("malformed_json", &e);
                break;
            }
            Err(e) => {
                return Err(CollectError::Parse {
                    what: "json",
                    message: e.to_string(),
                })
            }
        };
        let Some(records) = at(&body, &src.items).and_then(Value::as_array) else {
            if page == 0 {
                return Err(CollectError::Parse {
                    what: "json",
                    message: format!("no array at `{}`", src.items),
                });
            }
            break;
        };
        let mut items = Vec::new();
        for (i, r) in records.iter().enumerate() {
            match record_item(p, r, &src.fields, plan) {
                Ok(item) => items.push(item),
                Err(e) => p.skip(
                    "malformed_record",
                    &format!("page {} record {i}: {e}", page + 1),
                ),
            }
        }
        let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
        let seen = p.seen(&ids).await?;
        let mut fresh = Vec::new();
        let mut again = Vec::new();
        for (item, seen) in items.into_iter().zip(seen) {
            if seen {
                again.push(item);
            } else if has_metrics {
                // Tracked from first sight; re-observed when listed again and due.
                let id = item.id.clone();
                fresh.push(NewItem::tracked(item, id));
            } else {
                fresh.push(NewItem::new(item));
            }
        }
        let n_fresh = fresh.len();
        p.emit_new(fresh).await?;
        if has_metrics && p.cfg().common.reobserve {
            reobserve_listed(p, again).await?;
        }
        if records.is_empty() || (src.stop_on_seen && n_fresh == 0) {
            break;
        }
        if src.paging == Paging::Cursor {
            match src
                .next_cursor
                .as_deref()
                .and_then(|path| string_at(&body, Some(path)))
            {
                Some(next) if next != cursor && next != "0" => cursor = next,
                _ => break,
            }
        }
    }
    Ok(())
}

/// Seen records listed again: emitted as re-observations when their counts changed and the
/// decaying schedule says they are due.
async fn reobserve_listed(p: &mut Poll<'_>, items: Vec<Item>) -> Result<(), CollectError> {
    if items.is_empty() {
        return Ok(());
    }
    let now = p.now();
    let schedule = p.inner.cfg.collect.reobserve.clone();
    let max = p.inner.cfg.collect.reobserve_max_tracked;
    let mut out = Vec::new();
    for item in items {
        let f = fingerprint(&item);
        match p.state.tracked.iter_mut().find(|t| t.id == item.id) {
            Some(t) => {
                let due = schedule
                    .get(t.step)
                    .and_then(|d| chrono::Duration::from_std(*d).ok())
                    .is_some_and(|d| t.first_seen + d <= now);
                if due {
                    t.step += 1;
                    if t.last != f {
                        t.last = f;
                        out.push(item);
                    }
                }
            }
            None => p.state.track(
                crate::state::Tracked {
                    id: item.id.clone(),
                    target: item.id.clone(),
                    first_seen: now,
                    step: 0,
                    last: f,
                },
                max,
            ),
        }
    }
    p.state.prune(schedule.len());
    p.emit_reobserved(out).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let v = serde_json::json!({"data": {"list": [{"id": 1, "user": {"name": "甲"}}]}});
        assert_eq!(at(&v, "data.list.0.user.name").unwrap(), "甲");
        assert!(at(&v, "data.nope").is_none());
        assert!(at(&v, "data.list.x").is_none());
        assert_eq!(string_at(&v, Some("data.list.0.id")).unwrap(), "1");
    }
}
