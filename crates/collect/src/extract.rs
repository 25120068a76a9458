//! HTML extraction: item links of list pages, and title, text, time and author of detail pages by
//! CSS selectors or, without them, by the government-CMS meta tags and main-text extraction.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, Utc};
use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::config::{DetailSelectors, TimeFormat};
use crate::text::{count_in_text, element_text, tidy};
use crate::timeparse::{find_time, parse_time, parse_with};
use crate::urlnorm::resolve;

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("static selector")
}

static META: LazyLock<Selector> = LazyLock::new(|| sel("meta[name], meta[property]"));
static TITLE: LazyLock<Selector> = LazyLock::new(|| sel("title"));
static H1: LazyLock<Selector> = LazyLock::new(|| sel("h1"));
static BODY: LazyLock<Selector> = LazyLock::new(|| sel("body"));
static P: LazyLock<Selector> = LazyLock::new(|| sel("p"));
/// Content containers of common government and news CMSs, most specific first.
static CONTENT: LazyLock<Vec<Selector>> = LazyLock::new(|| {
    [
        ".article-content",
        "#zoom",
        ".TRS_Editor",
        "#UCAP-CONTENT",
        ".pages_content",
        ".article_con",
        ".wzcon",
        "#Zoom",
        ".view-content",
        ".news_content",
        "#content",
        ".content",
        "article",
    ]
    .iter()
    .map(|s| sel(s))
    .collect()
});
static LABELLED_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:发布时间|发布日期|时间|日期)[:：]?\s*(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?)")
        .expect("static regex")
});

/// Compiled detail selectors.
#[derive(Debug, Clone, Default)]
pub(crate) struct DetailPlan {
    pub title: Option<Selector>,
    pub text: Option<Selector>,
    pub time: Option<Selector>,
    pub author: Option<Selector>,
    pub views: Option<Selector>,
    pub time_format: Option<TimeFormat>,
}

pub(crate) fn compile(s: &str, key: &str) -> Result<Selector, String> {
    Selector::parse(s).map_err(|e| format!("{key}: `{s}` is not a CSS selector: {e}"))
}

pub(crate) fn compile_opt(s: Option<&str>, key: &str) -> Result<Option<Selector>, String> {
    s.map(|s| compile(s, key)).transpose()
}

impl DetailPlan {
    pub(crate) fn build(
        d: &DetailSelectors,
        time_format: Option<&str>,
    ) -> Result<DetailPlan, String> {
        Ok(DetailPlan {
            title: compile_opt(d.title.as_deref(), "detail.title")?,
            text: compile_opt(d.text.as_deref(), "detail.text")?,
            time: compile_opt(d.time.as_deref(), "detail.time")?,
            author: compile_opt(d.author.as_deref(), "detail.author")?,
            views: compile_opt(d.views.as_deref(), "detail.views")?,
            time_format: time_format.map(|f| TimeFormat::Pattern(f.to_string())),
        })
    }
}

/// What a detail page says.
#[derive(Debug, Clone, Default)]
pub(crate) struct Detail {
    pub title: Option<String>,
    pub text: String,
    pub published: Option<DateTime<FixedOffset>>,
    pub author: Option<String>,
    pub views: Option<u64>,
    /// `SiteName`, `ColumnName`, `ContentSource`, `SiteIDCode` … as found.
    pub meta: HashMap<String, String>,
    /// The page carries the government site-group meta tags (`SiteIDCode`).
    pub official: bool,
}

/// Selects the first match's text.
pub(crate) fn first_text(doc: ElementRef<'_>, s: &Selector) -> Option<String> {
    doc.select(s).map(element_text).find(|t| !t.is_empty())
}

/// The time in an element: its `datetime` or `content` attribute, else its text.
fn time_of(
    el: ElementRef<'_>,
    fmt: Option<&TimeFormat>,
    now: DateTime<Utc>,
) -> Option<DateTime<FixedOffset>> {
    let attr = el
        .value()
        .attr("datetime")
        .or_else(|| el.value().attr("content"));
    let text = element_text(el);
    for cand in attr.into_iter().chain(std::iter::once(text.as_str())) {
        let parsed = match fmt {
            Some(f) => parse_with(cand, f, now).or_else(|| parse_time(cand, now)),
            None => parse_time(cand, now),
        };
        if parsed.is_some() {
            return parsed;
        }
    }
    None
}

pub(crate) fn time_in(
    doc: ElementRef<'_>,
    s: &Selector,
    fmt: Option<&TimeFormat>,
    now: DateTime<Utc>,
) -> Option<DateTime<FixedOffset>> {
    doc.select(s).find_map(|e| time_of(e, fmt, now))
}

fn metas(doc: &Html) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for e in doc.select(&META) {
        let v = e.value();
        let (Some(name), Some(content)) = (
            v.attr("name").or_else(|| v.attr("property")),
            v.attr("content"),
        ) else {
            continue;
        };
        let content = content.trim();
        if !content.is_empty() {
            m.entry(name.to_string())
                .or_insert_with(|| content.to_string());
        }
    }
    m
}

/// The main text of a page: a known content container, else the element holding the most
/// paragraph text, else the body.
pub(crate) fn main_text(doc: &Html) -> String {
    for s in CONTENT.iter() {
        if let Some(t) = doc
            .select(s)
            .map(element_text)
            .find(|t| t.chars().count() >= 30)
        {
            return t;
        }
    }
    let mut score: HashMap<_, (usize, ElementRef<'_>)> = HashMap::new();
    for p in doc.select(&P) {
        let Some(parent) = p.parent().and_then(ElementRef::wrap) else {
            continue;
        };
        let len = element_text(p).chars().count();
        let e = score.entry(parent.id()).or_insert((0, parent));
        e.0 += len;
    }
    if let Some((_, best)) = score
        .into_values()
        .max_by_key(|(n, _)| *n)
        .filter(|(n, _)| *n >= 30)
    {
        return element_text(best);
    }
    doc.select(&BODY)
        .next()
        .map(element_text)
        .unwrap_or_default()
}

/// Extracts a detail page.
pub(crate) fn detail(html: &str, plan: &DetailPlan, now: DateTime<Utc>) -> Detail {
    let doc = Html::parse_document(html);
    let root = doc.root_element();
    let meta = metas(&doc);
    let get = |k: &str| meta.get(k).cloned();
    let title = plan
        .title
        .as_ref()
        .and_then(|s| first_text(root, s))
        .or_else(|| get("ArticleTitle"))
        .or_else(|| get("og:title"))
        .or_else(|| first_text(root, &H1))
        .or_else(|| first_text(root, &TITLE))
        .map(|t| tidy(&t));
    let text = match &plan.text {
        Some(s) => {
            let parts: Vec<String> = root
                .select(s)
                .map(element_text)
                .filter(|t| !t.is_empty())
                .collect();
            parts.join("\n")
        }
        None => main_text(&doc),
    };
    let fmt = plan.time_format.as_ref();
    let published = plan
        .time
        .as_ref()
        .and_then(|s| time_in(root, s, fmt, now))
        .or_else(|| {
            [
                "PubDate",
                "pubdate",
                "publishdate",
                "article:published_time",
                "og:release_date",
                "firstpublishedtime",
            ]
            .iter()
            .find_map(|k| meta.get(*k).and_then(|v| parse_time(v, now)))
        })
        .or_else(|| {
            let body = doc
                .select(&BODY)
                .next()
                .map(element_text)
                .unwrap_or_default();
            LABELLED_TIME.captures(&body).and_then(|c| find_time(&c[1]))
        });
    let author = plan
        .author
        .as_ref()
        .and_then(|s| first_text(root, s))
        .map(|a| strip_label(&a))
        .or_else(|| get("ContentSource"))
        .or_else(|| get("author"))
        .filter(|a| !a.is_empty());
    let views = plan
        .views
        .as_ref()
        .and_then(|s| first_text(root, s))
        .and_then(|t| count_in_text(&t));
    let official = meta.contains_key("SiteIDCode");
    Detail {
        title,
        text,
        published,
        author,
        views,
        meta,
        official,
    }
}

/// `来源：区应急局` → `区应急局`.
pub(crate) fn strip_label(s: &str) -> String {
    let s = s.trim();
    match s.split_once(['：', ':']) {
        Some((label, rest)) if label.chars().count() <= 6 && !rest.trim().is_empty() => {
            rest.trim().to_string()
        }
        _ => s.to_string(),
    }
}

/// Item links (absolute, normalised, in page order, unique) and the next-page link of a list page.
pub(crate) fn list_links(
    html: &str,
    base: &Url,
    link: &Selector,
    pattern: Option<&Regex>,
    next: Option<&Selector>,
) -> (Vec<String>, Option<String>) {
    let doc = Html::parse_document(html);
    let mut seen = std::collections::HashSet::new();
    let base_norm = resolve(base, base.as_str());
    let links = doc
        .select(link)
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|h| resolve(base, h))
        .filter(|u| Some(u) != base_norm.as_ref())
        .filter(|u| pattern.is_none_or(|p| p.is_match(u)))
        .filter(|u| seen.insert(u.clone()))
        .collect();
    let next = next.and_then(|s| {
        doc.select(s)
            .find_map(|a| a.value().attr("href"))
            .and_then(|h| resolve(base, h))
    });
    (links, next)
}

/// One row of a board list: the message link and the status shown beside it.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub link: String,
    pub status: Option<String>,
}

/// Rows and the next-page link of a board list page.
pub(crate) fn board_rows(
    html: &str,
    base: &Url,
    row: &Selector,
    link: &Selector,
    status: Option<&Selector>,
    next: Option<&Selector>,
) -> (Vec<Row>, Option<String>) {
    let doc = Html::parse_document(html);
    let mut seen = std::collections::HashSet::new();
    let rows = doc
        .select(row)
        .filter_map(|r| {
            let href = r.select(link).find_map(|a| a.value().attr("href"))?;
            let link = resolve(base, href)?;
            let status = status.and_then(|s| first_text(r, s));
            Some(Row { link, status })
        })
        .filter(|r| seen.insert(r.link.clone()))
        .collect();
    let next = next.and_then(|s| {
        doc.select(s)
            .find_map(|a| a.value().attr("href"))
            .and_then(|h| resolve(base, h))
    });
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T02:30:00Z")
            .unwrap()
            .to_utc()
    }

    const GOV: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="SiteName" content="某市人民政府"><meta name="SiteIDCode" content="3600000001">
<meta name="ColumnName" content="通知公告"><meta name="ArticleTitle" content="关于做好防汛工作的通知">
<meta name="PubDate" content="2026-11-20 09:30:00"><meta name="ContentSource" content="市应急管理局">
<title>关于做好防汛工作的通知_某市人民政府</title></head><body>
<div class="nav"><a href="/">首页</a> &gt; <a href="/tzgg/">通知公告</a></div>
<div class="article-content"><p>各县（区）人民政府：</p><p>近期我市强降雨天气频繁，为切实做好防汛工作，现将有关事项通知如下。</p><script>var t=1;</script></div>
<div class="footer">主办单位：某市人民政府办公室</div></body></html>"#;

    #[test]
    fn gov_meta_and_main_text() {
        let d = detail(GOV, &DetailPlan::default(), now());
        assert_eq!(d.title.as_deref(), Some("关于做好防汛工作的通知"));
        assert_eq!(d.author.as_deref(), Some("市应急管理局"));
        assert_eq!(
            d.published.unwrap().to_rfc3339(),
            "2026-11-20T09:30:00+08:00"
        );
        assert!(
            d.text
                .starts_with("各县（区）人民政府：\n近期我市强降雨天气频繁"),
            "{}",
            d.text
        );
        assert!(!d.text.contains("var t"));
        assert!(!d.text.contains("主办单位"));
        assert!(d.official);
        assert_eq!(d.meta["ColumnName"], "通知公告");
    }

    #[test]
    fn selectors_win_and_density_fallback() {
        let html = r#"<html><body><h1>标题甲</h1><span class="src">来源：区融媒体中心</span><span class="t">发布时间：2026-11-21 08:00</span>
<div class="x"><p>第一段内容比较长，讲的是某地道路塌陷的情况，现场已经封闭。</p><p>第二段内容。</p></div>
<ul><li><a href="/a">链接一</a></li><li><a href="/b">链接二</a></li></ul><span class="views">阅读 1.2万</span></body></html>"#;
        let plan = DetailPlan::build(
            &DetailSelectors {
                author: Some(".src".into()),
                time: Some(".t".into()),
                views: Some(".views".into()),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        let d = detail(html, &plan, now());
        assert_eq!(d.title.as_deref(), Some("标题甲"));
        assert_eq!(d.author.as_deref(), Some("区融媒体中心"));
        assert_eq!(
            d.published.unwrap().to_rfc3339(),
            "2026-11-21T08:00:00+08:00"
        );
        assert!(d.text.starts_with("第一段内容比较长"), "{}", d.text);
        assert!(!d.text.contains("链接一"));
        assert_eq!(d.views, Some(12_000));
        assert!(!d.official);
    }

    #[test]
    fn links_are_resolved_filtered_and_unique() {
        let base = Url::parse("http://127.0.0.1/list/index.html").unwrap();
        let html = r##"<a href="../art/1.html?utm_source=x">一</a><a href="/art/1.html#c">一again</a><a href="/art/2.html">二</a><a href="#">top</a><a href="javascript:;">js</a><a class="next" href="index_1.html">下一页</a>"##;
        let re = Regex::new("/art/").unwrap();
        let (links, next) = list_links(
            html,
            &base,
            &sel("a[href]"),
            Some(&re),
            Some(&sel("a.next")),
        );
        assert_eq!(
            links,
            vec!["http://127.0.0.1/art/1.html", "http://127.0.0.1/art/2.html"]
        );
        assert_eq!(next.as_deref(), Some("http://127.0.0.1/list/index_1.html"));
    }

    #[test]
    fn broken_html_never_panics() {
        for html in [
            "",
            "<",
            "<html><body><div><p>未闭合",
            "\u{0}\u{1}<<<>>>",
            "<meta name=PubDate content=>",
        ] {
            let d = detail(html, &DetailPlan::default(), now());
            assert!(d.published.is_none());
        }
    }

    proptest::proptest! {
        #[test]
        fn detail_never_panics(s in "\\PC{0,200}") {
            let _ = detail(&s, &DetailPlan::default(), now());
        }
    }
}
