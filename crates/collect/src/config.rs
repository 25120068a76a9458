//! Configuration: the `[collect]` table and the `[[sources]]` array of a pipeline.
//!
//! ```toml
//! [collect]
//! max_concurrency = 32
//! reobserve = ["10m", "30m", "1h", "2h", "6h", "24h"]
//!
//! [[sources]]
//! id = "city-portal"
//! kind = "html"
//! platform = "portal"
//! interval = "10m"
//! region = "宜春市"
//! list_url = "https://www.example.gov.cn/zwgk/index.html"
//! page_url = "https://www.example.gov.cn/zwgk/index_{page}.html"
//! link_pattern = "/art/"
//!
//! [[sources]]
//! id = "weibo-city"
//! kind = "weibo"
//! user = "1234567890"
//! comments = true
//! ```
//!
//! Every source has the common keys of [`SourceCommon`] and the keys of its kind
//! ([`SourceKind`]); unknown keys are errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use yuqing_core::{problem::join, Platform, Problems};

/// The collection part of a pipeline: `[collect]` plus `[[sources]]`.
///
/// Embed it in a pipeline struct as two fields, `collect: CollectSettings` and
/// `sources: Vec<SourceConfig>` (both `#[serde(default)]`), or as one `CollectConfig` field. Note that
/// `#[serde(flatten)]` turns off serde's unknown-key check of the flattened part.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectConfig {
    /// The `[collect]` table: politeness, timeouts and schedules shared by every source.
    #[serde(default)]
    pub collect: CollectSettings,
    /// The `[[sources]]` array: one entry per watched site, feed, account or directory.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
}

/// Settings shared by every source (`[collect]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollectSettings {
    /// The User-Agent sent with every request; defaults to
    /// `yuqing/<version> (+https://github.com/yuqing-project/yuqing)`.
    pub user_agent: Option<String>,
    /// Requests in flight across all sources.
    pub max_concurrency: usize,
    /// Requests in flight to one host.
    pub per_host_concurrency: usize,
    /// Requests per second to one host, unless a source sets `rate_limit`.
    pub per_host_rate: f64,
    /// Timeout of a whole request including its body (`"30s"`).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Timeout to establish a connection.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Redirects followed before giving up (loops are cut at once).
    pub max_redirects: usize,
    /// Largest body read, in bytes; longer bodies are cut and skipped.
    pub max_body_bytes: u64,
    /// Retries of a request after a timeout, a connection error, HTTP 429 or 5xx.
    pub retries: u32,
    /// First retry delay; doubles each retry, with full jitter.
    #[serde(with = "humantime_serde")]
    pub retry_backoff: Duration,
    /// Honour robots.txt (each source may override with `robots`).
    pub robots: bool,
    /// How long a fetched robots.txt is trusted.
    #[serde(with = "humantime_serde")]
    pub robots_ttl: Duration,
    /// Delays after first sight at which a post is fetched again to measure its spread.
    #[serde(deserialize_with = "durations")]
    pub reobserve: Vec<Duration>,
    /// Posts tracked for re-observation per source (the oldest are dropped beyond this).
    pub reobserve_max_tracked: usize,
    /// Re-observations per poll of one source (the rest wait for the next poll).
    pub reobserve_per_poll: usize,
    /// A source that delivered no new item for this many intervals is reported `Silent`.
    pub silent_after_intervals: u32,
    /// Consecutive failed polls after which a source is reported `Failing`.
    pub failure_threshold: u32,
    /// How long to leave a source alone after it blocked us (432, captcha); doubles while it
    /// keeps blocking, up to `max_backoff`.
    #[serde(with = "humantime_serde")]
    pub blocked_backoff: Duration,
    /// Longest wait between polls of a failing source.
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
    /// Replace author handles by salted hashes at ingestion (sources may override).
    pub hash_authors: bool,
    /// The salt of author hashing; required when any source hashes authors.
    pub author_salt: Option<String>,
    /// Start in surge mode (every source polls at its `surge_interval`).
    pub surge: bool,
    /// Charset assumed for pages that declare none and are not valid UTF-8.
    pub default_charset: String,
    /// Run only this process's share of the sources (`"i/n"`, 0 ≤ i < n): for scaling collection
    /// out over `n` processes (`YUQING__COLLECT__SHARD=2/3`). Sources are shared out by the host
    /// they start from, so every source of one host is polled by one process and the per-host
    /// politeness limits hold across the fleet; dropped-file directories by their id.
    pub shard: Option<Shard>,
}

/// One process's share of the sources: `index` of `count` (`"i/n"` in configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This process's share, `0..count`.
    pub index: u32,
    /// How many processes share the sources.
    pub count: u32,
}

impl Shard {
    /// Parses `"i/n"`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not of the form \"i/n\" (for example \"0/3\")"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("`{i}` is not a shard number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` is not a shard count"))?;
        if count == 0 || index >= count {
            return Err(format!(
                "shard {index}/{count}: the count must be at least 1 and the index below it"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard polls `source`: by the host of its first start URL, else by its id
    /// (a stable FNV-1a hash, the same in every process and release).
    pub fn owns(&self, source: &SourceConfig) -> bool {
        let key = source
            .kind
            .start_urls()
            .first()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_else(|| format!("id:{}", source.id()));
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % u64::from(self.count) == u64::from(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl<'de> Deserialize<'de> for Shard {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shard, D::Error> {
        let s = String::deserialize(d)?;
        Shard::parse(&s).map_err(D::Error::custom)
    }
}

impl Default for CollectSettings {
    fn default() -> CollectSettings {
        CollectSettings {
            user_agent: None,
            max_concurrency: 32,
            per_host_concurrency: 4,
            per_host_rate: 2.0,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 5,
            max_body_bytes: 8 * 1024 * 1024,
            retries: 2,
            retry_backoff: Duration::from_millis(500),
            robots: true,
            robots_ttl: Duration::from_secs(3600),
            reobserve: [600, 1800, 3600, 7200, 21600, 86400]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            reobserve_max_tracked: 5000,
            reobserve_per_poll: 50,
            silent_after_intervals: 6,
            failure_threshold: 3,
            blocked_backoff: Duration::from_secs(600),
            max_backoff: Duration::from_secs(3600),
            hash_authors: false,
            author_salt: None,
            surge: false,
            default_charset: "gb18030".to_string(),
            shard: None,
        }
    }
}

fn durations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    let v: Vec<String> = Vec::deserialize(d)?;
    v.iter()
        .map(|s| humantime::parse_duration(s).map_err(|e| D::Error::custom(format!("`{s}`: {e}"))))
        .collect()
}

/// The default User-Agent.
pub fn default_user_agent() -> String {
    format!(
        "yuqing/{} (+https://github.com/yuqing-project/yuqing)",
        env!("CARGO_PKG_VERSION")
    )
}

impl CollectSettings {
    /// The User-Agent in use.
    pub fn user_agent(&self) -> String {
        self.user_agent.clone().unwrap_or_else(default_user_agent)
    }

    fn validate(&self, path: &str, problems: &mut Problems) {
        if self.max_concurrency == 0 {
            problems.at(path, "max_concurrency", "must be at least 1");
        }
        if self.per_host_concurrency == 0 {
            problems.at(path, "per_host_concurrency", "must be at least 1");
        }
        if !(self.per_host_rate.is_finite() && self.per_host_rate > 0.0) {
            problems.at(
                path,
                "per_host_rate",
                "must be a positive number of requests per second",
            );
        }
        if self.timeout < Duration::from_millis(100) {
            problems.at(path, "timeout", "must be at least 100ms");
        }
        if self.connect_timeout.is_zero() {
            problems.at(path, "connect_timeout", "must be positive");
        }
        if self.max_redirects > 20 {
            problems.at(path, "max_redirects", "must be at most 20");
        }
        if self.max_body_bytes < 1024 {
            problems.at(path, "max_body_bytes", "must be at least 1024");
        }
        if self.retries > 10 {
            problems.at(path, "retries", "must be at most 10");
        }
        if self.reobserve.windows(2).any(|w| w[0] >= w[1]) {
            problems.at(path, "reobserve", "delays must increase strictly");
        }
        if self.reobserve.iter().any(|d| *d < Duration::from_secs(1)) {
            problems.at(path, "reobserve", "delays must be at least 1s");
        }
        if self.silent_after_intervals == 0 {
            problems.at(path, "silent_after_intervals", "must be at least 1");
        }
        if self.failure_threshold == 0 {
            problems.at(path, "failure_threshold", "must be at least 1");
        }
        if self.max_backoff < self.blocked_backoff {
            problems.at(path, "max_backoff", "must be at least blocked_backoff");
        }
        if encoding_rs::Encoding::for_label(self.default_charset.as_bytes()).is_none() {
            problems.at(
                path,
                "default_charset",
                format!("unknown charset `{}`", self.default_charset),
            );
        }
        if self
            .author_salt
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            problems.at(path, "author_salt", "must not be empty when set");
        }
    }
}

/// What a source says about its authors (`extra["author_kind"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    /// A government body (政务).
    Official,
    /// A news medium (媒体).
    Media,
}

impl AuthorKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorKind::Official => "official",
            AuthorKind::Media => "media",
        }
    }
}

/// One configured source: the common keys plus the keys of its kind.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Keys every source has.
    pub common: SourceCommon,
    /// What kind of source it is, and its own keys.
    pub kind: SourceKind,
}

/// Keys every source has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceCommon {
    /// A unique id (letters, digits, `-`, `_`, `.`); items carry it in `source`, metrics in the
    /// `source` label.
    pub id: String,
    /// The platform of its items; defaults by kind (feed → news, html → portal, weibo → weibo,
    /// json_api → comment, board → board, dir → other).
    #[serde(default)]
    pub platform: Option<Platform>,
    /// Time between polls (`"5m"`).
    #[serde(default = "default_interval", with = "humantime_serde")]
    pub interval: Duration,
    /// Random extra wait added to each interval, up to this much; defaults to a tenth of it.
    #[serde(default, with = "humantime_serde")]
    pub jitter: Option<Duration>,
    /// Time between polls in surge mode; defaults to a quarter of `interval` (at least 10s).
    #[serde(default, with = "humantime_serde")]
    pub surge_interval: Option<Duration>,
    /// A place hint for its items (city or county, or an administrative code).
    #[serde(default)]
    pub region: Option<String>,
    /// Poll this source (false keeps it configured but idle).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Override of `[collect].robots` for this source.
    #[serde(default)]
    pub robots: Option<bool>,
    /// Requests per second to this source's host (overrides `[collect].per_host_rate`).
    #[serde(default)]
    pub rate_limit: Option<f64>,
    /// Extra request headers (for example `Cookie` or `Referer`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Override of `[collect].hash_authors` for this source.
    #[serde(default)]
    pub hash_authors: Option<bool>,
    /// Marks every item of this source as written by an official body or a medium.
    #[serde(default)]
    pub author_kind: Option<AuthorKind>,
    /// Most list pages read per poll.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// Detail pages fetched at once by this source.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Skip items whose title and text were already emitted under another id; defaults to true for
    /// feeds, portals and boards, false for Weibo, JSON APIs and directories.
    #[serde(default)]
    pub content_dedupe: Option<bool>,
    /// Re-observe new items on the `[collect].reobserve` schedule (where the kind can).
    #[serde(default = "yes")]
    pub reobserve: bool,
}

fn yes() -> bool {
    true
}
fn default_interval() -> Duration {
    Duration::from_secs(300)
}
fn default_max_pages() -> u32 {
    5
}
fn default_concurrency() -> usize {
    4
}

/// The keys of [`SourceCommon`], used to split a source table into its two parts.
const COMMON_KEYS: &[&str] = &[
    "id",
    "platform",
    "interval",
    "jitter",
    "surge_interval",
    "region",
    "enabled",
    "robots",
    "rate_limit",
    "headers",
    "hash_authors",
    "author_kind",
    "max_pages",
    "concurrency",
    "content_dedupe",
    "reobserve",
];

impl<'de> Deserialize<'de> for SourceConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SourceConfig, D::Error> {
        let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut common = serde_json::Map::new();
        for key in COMMON_KEYS {
            if let Some(v) = map.remove(*key) {
                common.insert((*key).to_string(), v);
            }
        }
        let id = common
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string();
        let common: SourceCommon = serde_json::from_value(serde_json::Value::Object(common))
            .map_err(|e| D::Error::custom(format!("source `{id}`: {e}")))?;
        let kind: SourceKind = serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| D::Error::custom(format!("source `{id}`: {e}")))?;
        Ok(SourceConfig { common, kind })
    }
}

/// The closed set of source kinds, chosen by the `kind` key.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceKind {
    /// RSS 2.0, Atom or JSON Feed: portals' own feeds and RSSHub routes.
    Feed(FeedSource),
    /// An HTML portal: list pages → links → detail pages.
    Html(HtmlSource),
    /// Weibo mobile-web JSON.
    Weibo(WeiboSource),
    /// A JSON API with fields mapped by path.
    JsonApi(JsonApiSource),
    /// A message board (网络问政, 领导留言板, 12345): list + detail + reply status.
    Board(BoardSource),
    /// A directory of dropped `*.jsonl` / `*.json` files.
    Dir(DirSource),
}

impl SourceKind {
    /// The kind's wire name.
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::Feed(_) => "feed",
            SourceKind::Html(_) => "html",
            SourceKind::Weibo(_) => "weibo",
            SourceKind::JsonApi(_) => "json_api",
            SourceKind::Board(_) => "board",
            SourceKind::Dir(_) => "dir",
        }
    }

    /// The platform items get when the source does not say.
    pub fn default_platform(&self) -> Platform {
        match self {
            SourceKind::Feed(_) => Platform::News,
            SourceKind::Html(_) => Platform::Portal,
            SourceKind::Weibo(_) => Platform::Weibo,
            SourceKind::JsonApi(_) => Platform::Comment,
            SourceKind::Board(_) => Platform::Board,
            SourceKind::Dir(_) => Platform::Other,
        }
    }

    /// Whether content-hash dedupe is on by default.
    pub fn default_content_dedupe(&self) -> bool {
        matches!(
            self,
            SourceKind::Feed(_) | SourceKind::Html(_) | SourceKind::Board(_)
        )
    }

    /// The URLs the source starts from (for per-host settings).
    pub fn start_urls(&self) -> Vec<&str> {
        match self {
            SourceKind::Feed(f) => vec![f.url.as_str()],
            SourceKind::Html(h) => vec![h.list_url.as_str()],
            SourceKind::Weibo(w) => vec![w.base_url.as_str()],
            SourceKind::JsonApi(j) => vec![j.url.as_str()],
            SourceKind::Board(b) => vec![b.list_url.as_str()],
            SourceKind::Dir(_) => vec![],
        }
    }
}

/// A feed source (`kind = "feed"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSource {
    /// The feed URL (RSS 2.0, Atom or JSON Feed; an RSSHub route such as
    /// `https://rsshub.example/weibo/user/1234567890`).
    pub url: String,
}

/// CSS selectors of a detail page. Absent selectors fall back to the government-CMS meta tags
/// (`ArticleTitle`, `PubDate`, `ContentSource`, `ColumnName`, `SiteName`) and main-text extraction.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailSelectors {
    /// The title element.
    #[serde(default)]
    pub title: Option<String>,
    /// The main text element(s).
    #[serde(default)]
    pub text: Option<String>,
    /// The element holding the publication time (its text, or its `datetime`/`content`).
    #[serde(default)]
    pub time: Option<String>,
    /// The element holding the author or source name.
    #[serde(default)]
    pub author: Option<String>,
    /// The element holding a view count (`阅读 1.2万`), which makes the page worth re-observing.
    #[serde(default)]
    pub views: Option<String>,
}

/// An HTML portal (`kind = "html"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtmlSource {
    /// The first list page.
    pub list_url: String,
    /// Further list pages as a template with `{page}` (gov CMSs: `…/index_{page}.html`).
    #[serde(default)]
    pub page_url: Option<String>,
    /// The `{page}` number of the second list page, the first built from `page_url` (gov CMSs:
    /// `index.html`, then `index_1.html`, … → 1; `?page=2`, … → 2).
    #[serde(default = "one")]
    pub page_start: u32,
    /// A selector of the "next page" link, as an alternative to `page_url`.
    #[serde(default)]
    pub next_selector: Option<String>,
    /// Selector of the item links on a list page.
    #[serde(default = "default_link_selector")]
    pub link_selector: String,
    /// A regular expression absolute item URLs must match.
    #[serde(default)]
    pub link_pattern: Option<String>,
    /// Selectors of the detail page.
    #[serde(default)]
    pub detail: DetailSelectors,
    /// Format of the time text (chrono `strftime`, China Standard Time); common Chinese formats
    /// are recognised without it.
    #[serde(default)]
    pub time_format: Option<String>,
}

fn one() -> u32 {
    1
}
fn default_link_selector() -> String {
    "a[href]".to_string()
}

/// A message board (`kind = "board"`): 网络问政, 领导留言板, 12345 sites.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardSource {
    /// The first list page.
    pub list_url: String,
    /// Further list pages as a template with `{page}`.
    #[serde(default)]
    pub page_url: Option<String>,
    /// The `{page}` number of the second list page, the first built from `page_url` (gov CMSs:
    /// `index.html`, then `index_1.html`, … → 1; `?page=2`, … → 2).
    #[serde(default = "one")]
    pub page_start: u32,
    /// A selector of the "next page" link, as an alternative to `page_url`.
    #[serde(default)]
    pub next_selector: Option<String>,
    /// Selector of one message row on a list page.
    pub row_selector: String,
    /// Selector of the message link within a row.
    #[serde(default = "default_link_selector")]
    pub link_selector: String,
    /// Selector of the reply status within a row (`已回复`, `办理中`), where the list shows it.
    #[serde(default)]
    pub row_status: Option<String>,
    /// Selectors of the message on its detail page.
    #[serde(default)]
    pub detail: DetailSelectors,
    /// Selector of the reply status on the detail page.
    #[serde(default)]
    pub reply_status: Option<String>,
    /// Selector of the reply's time.
    #[serde(default)]
    pub replied_at: Option<String>,
    /// Selector of the reply's text (答复内容).
    #[serde(default)]
    pub reply_text: Option<String>,
    /// Selector of the answering body (答复单位).
    #[serde(default)]
    pub replier: Option<String>,
    /// Format of time texts (chrono `strftime`, China Standard Time).
    #[serde(default)]
    pub time_format: Option<String>,
}

/// A Weibo mobile-web JSON source (`kind = "weibo"`): exactly one of `user`, `keyword`, `hot`
/// and `post`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeiboSource {
    /// The API host.
    #[serde(default = "default_weibo_base")]
    pub base_url: String,
    /// A user's timeline, by numeric uid.
    #[serde(default)]
    pub user: Option<String>,
    /// Keyword search (real-time, `containerid=100103type=61`).
    #[serde(default)]
    pub keyword: Option<String>,
    /// The search type of `keyword`: 1 综合, 61 实时, 60 热门.
    #[serde(default = "default_search_type")]
    pub search_type: u32,
    /// The hot search list (热搜榜).
    #[serde(default)]
    pub hot: bool,
    /// Follow one post (its comments and reposts), by id.
    #[serde(default)]
    pub post: Option<String>,
    /// Also collect the comments of new and re-observed posts (hotflow).
    #[serde(default)]
    pub comments: bool,
    /// Also collect the reposts of new and re-observed posts (repostTimeline).
    #[serde(default)]
    pub reposts: bool,
    /// Comment or repost pages read per post and poll.
    #[serde(default = "default_thread_pages")]
    pub thread_pages: u32,
    /// Fetch the full text of long posts (statuses/show).
    #[serde(default = "yes")]
    pub long_text: bool,
}

fn default_weibo_base() -> String {
    "https://m.weibo.cn".to_string()
}
fn default_search_type() -> u32 {
    61
}
fn default_thread_pages() -> u32 {
    3
}

/// How a JSON API pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Paging {
    /// One request per poll.
    #[default]
    None,
    /// `{page}` in the URL counts up from `page_start`.
    Page,
    /// `{cursor}` in the URL takes the value at `next_cursor` of the previous page.
    Cursor,
}

/// How a time field is written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// Recognise RFC 3339, RFC 2822, common Chinese forms, relative times and epoch numbers.
    #[default]
    Auto,
    /// Seconds since the epoch.
    Unix,
    /// Milliseconds since the epoch.
    UnixMs,
    /// RFC 3339.
    Rfc3339,
    /// A chrono `strftime` pattern, read in China Standard Time unless it has an offset.
    Pattern(String),
}

impl<'de> Deserialize<'de> for TimeFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TimeFormat, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "auto" => TimeFormat::Auto,
            "unix" | "unix_s" | "unix_seconds" => TimeFormat::Unix,
            "unix_ms" | "unix_millis" => TimeFormat::UnixMs,
            "rfc3339" => TimeFormat::Rfc3339,
            _ => TimeFormat::Pattern(s),
        })
    }
}

/// Paths (dot-separated, numbers index arrays) of item fields within one record of a JSON API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonFields {
    /// The record's id (required).
    pub id: String,
    /// The text (required).
    pub text: String,
    /// The title.
    #[serde(default)]
    pub title: Option<String>,
    /// The author's handle.
    #[serde(default)]
    pub author: Option<String>,
    /// The publication time (see `time_format`); absent means the time of observation.
    #[serde(default)]
    pub time: Option<String>,
    /// The link.
    #[serde(default)]
    pub url: Option<String>,
    /// The id of the record this one answers.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The id of the thread's root.
    #[serde(default)]
    pub root_id: Option<String>,
    /// Repost count.
    #[serde(default)]
    pub reposts: Option<String>,
    /// Comment count.
    #[serde(default)]
    pub comments: Option<String>,
    /// Like count.
    #[serde(default)]
    pub likes: Option<String>,
    /// View count.
    #[serde(default)]
    pub views: Option<String>,
    /// A place hint.
    #[serde(default)]
    pub region: Option<String>,
}

/// A JSON API (`kind = "json_api"`), such as a news site's comment thread.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonApiSource {
    /// The URL; may hold `{page}` or `{cursor}`.
    pub url: String,
    /// Path of the record array (`data.list`); empty means the body is the array.
    pub items: String,
    /// Paths of the item fields within a record.
    pub fields: JsonFields,
    /// A link template for items without `fields.url`: `https://example.com/c/{id}`.
    #[serde(default)]
    pub url_template: Option<String>,
    /// Format of `fields.time`.
    #[serde(default)]
    pub time_format: TimeFormat,
    /// How the API pages.
    #[serde(default)]
    pub paging: Paging,
    /// The first page number.
    #[serde(default = "one")]
    pub page_start: u32,
    /// The cursor of the first request.
    #[serde(default)]
    pub cursor_start: String,
    /// Path of the next cursor in the response (`data.next_cursor`).
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// Stop paging at a page without any new record.
    #[serde(default = "yes")]
    pub stop_on_seen: bool,
}

/// A watched directory of `*.jsonl` / `*.json` drops (`kind = "dir"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirSource {
    /// The directory; `done/` and `failed/` are created inside it.
    pub path: PathBuf,
    /// Files younger than this (by modification time) are left alone: they may be mid-write.
    #[serde(default = "default_settle", with = "humantime_serde")]
    pub settle: Duration,
}

fn default_settle() -> Duration {
    Duration::from_secs(2)
}

impl SourceConfig {
    /// The source id.
    pub fn id(&self) -> &str {
        &self.common.id
    }

    /// The platform of its items.
    pub fn platform(&self) -> Platform {
        self.common
            .platform
            .unwrap_or_else(|| self.kind.default_platform())
    }

    /// The jitter in use.
    pub fn jitter(&self) -> Duration {
        self.common.jitter.unwrap_or(self.common.interval / 10)
    }

    /// The surge interval in use.
    pub fn surge_interval(&self) -> Duration {
        self.common.surge_interval.unwrap_or_else(|| {
            (self.common.interval / 4)
                .max(Duration::from_secs(10))
                .min(self.common.interval)
        })
    }

    /// Whether content-hash dedupe is on.
    pub fn content_dedupe(&self) -> bool {
        self.common
            .content_dedupe
            .unwrap_or_else(|| self.kind.default_content_dedupe())
    }

    fn validate(&self, path: &str, settings: &CollectSettings, problems: &mut Problems) {
        let c = &self.common;
        if c.id.is_empty()
            || !c
                .id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
        {
            problems.at(
                path,
                "id",
                "must be non-empty letters, digits, `-`, `_` or `.`",
            );
        }
        let min = if matches!(self.kind, SourceKind::Dir(_)) {
            1
        } else {
            10
        };
        if c.interval < Duration::from_secs(min) {
            problems.at(path, "interval", format!("must be at least {min}s"));
        }
        if let Some(s) = c.surge_interval {
            if s < Duration::from_secs(min.min(5)) {
                problems.at(
                    path,
                    "surge_interval",
                    format!("must be at least {}s", min.min(5)),
                );
            }
            if s > c.interval {
                problems.at(path, "surge_interval", "must not exceed interval");
            }
        }
        if let Some(j) = c.jitter {
            if j > c.interval {
                problems.at(path, "jitter", "must not exceed interval");
            }
        }
        if let Some(r) = c.rate_limit {
            if !(r.is_finite() && r > 0.0) {
                problems.at(
                    path,
                    "rate_limit",
                    "must be a positive number of requests per second",
                );
            }
        }
        for (i, (k, v)) in c.headers.iter().enumerate() {
            if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
                problems.at(path, &format!("headers.{k}"), "is not a valid header name");
            } else if reqwest::header::HeaderValue::from_str(v).is_err() {
                problems.at(path, &format!("headers.{k}"), "is not a valid header value");
            }
            let _ = i;
        }
        if c.hash_authors.unwrap_or(settings.hash_authors) && settings.author_salt.is_none() {
            problems.at(path, "hash_authors", "needs [collect].author_salt");
        }
        if c.max_pages == 0 || c.max_pages > 10_000 {
            problems.at(path, "max_pages", "must be between 1 and 10000");
        }
        if c.concurrency == 0 || c.concurrency > 256 {
            problems.at(path, "concurrency", "must be between 1 and 256");
        }
        match &self.kind {
            SourceKind::Feed(f) => check_url(path, "url", &f.url, problems),
            SourceKind::Html(h) => {
                check_url(path, "list_url", &h.list_url, problems);
                check_page_url(path, h.page_url.as_deref(), problems);
                check_selector(path, "link_selector", Some(&h.link_selector), problems);
                check_selector(path, "next_selector", h.next_selector.as_deref(), problems);
                check_regex(path, "link_pattern", h.link_pattern.as_deref(), problems);
                check_detail(&join(path, "detail"), &h.detail, problems);
            }
            SourceKind::Board(b) => {
                check_url(path, "list_url", &b.list_url, problems);
                check_page_url(path, b.page_url.as_deref(), problems);
                check_selector(path, "row_selector", Some(&b.row_selector), problems);
                check_selector(path, "link_selector", Some(&b.link_selector), problems);
                check_selector(path, "next_selector", b.next_selector.as_deref(), problems);
                check_selector(path, "row_status", b.row_status.as_deref(), problems);
                check_selector(path, "reply_status", b.reply_status.as_deref(), problems);
                check_selector(path, "replied_at", b.replied_at.as_deref(), problems);
                check_selector(path, "reply_text", b.reply_text.as_deref(), problems);
                check_selector(path, "replier", b.replier.as_deref(), problems);
                check_detail(&join(path, "detail"), &b.detail, problems);
            }
            SourceKind::Weibo(w) => {
                check_url(path, "base_url", &w.base_url, problems);
                let targets = [
                    w.user.is_some(),
                    w.keyword.is_some(),
                    w.hot,
                    w.post.is_some(),
                ]
                .into_iter()
                .filter(|b| *b)
                .count();
                if targets != 1 {
                    problems.at(
                        path,
                        "user",
                        "set exactly one of user, keyword, hot and post",
                    );
                }
                if let Some(u) = &w.user {
                    if u.is_empty() || !u.chars().all(|c| c.is_ascii_digit()) {
                        problems.at(path, "user", "must be a numeric uid");
                    }
                }
                if w.keyword.as_deref().is_some_and(|k| k.trim().is_empty()) {
                    problems.at(path, "keyword", "must not be empty");
                }
                if !matches!(w.search_type, 1 | 60 | 61) {
                    problems.at(
                        path,
                        "search_type",
                        "must be 1 (综合), 60 (热门) or 61 (实时)",
                    );
                }
                if w.thread_pages == 0 || w.thread_pages > 100 {
                    problems.at(path, "thread_pages", "must be between 1 and 100");
                }
            }
            SourceKind::JsonApi(j) => {
                check_url(
                    path,
                    "url",
                    &j.url.replace("{page}", "1").replace("{cursor}", "x"),
                    problems,
                );
                match j.paging {
                    Paging::Page if !j.url.contains("{page}") => {
                        problems.at(path, "url", "needs `{page}` with paging = \"page\"")
                    }
                    Paging::Cursor if !j.url.contains("{cursor}") => {
                        problems.at(path, "url", "needs `{cursor}` with paging = \"cursor\"")
                    }
                    Paging::Cursor if j.next_cursor.is_none() => {
                        problems.at(path, "next_cursor", "is required with paging = \"cursor\"")
                    }
                    _ => {}
                }
                if j.fields.id.trim().is_empty() {
                    problems.at(path, "fields.id", "must not be empty");
                }
                if j.fields.text.trim().is_empty() {
                    problems.at(path, "fields.text", "must not be empty");
                }
                if let TimeFormat::Pattern(p) = &j.time_format {
                    if !p.contains('%') {
                        problems.at(
                            path,
                            "time_format",
                            "must be auto, unix, unix_ms, rfc3339 or a strftime pattern",
                        );
                    }
                }
            }
            SourceKind::Dir(d) => {
                if d.path.as_os_str().is_empty() {
                    problems.at(path, "path", "must not be empty");
                }
            }
        }
    }
}

fn check_url(path: &str, key: &str, value: &str, problems: &mut Problems) {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        Ok(_) => problems.at(path, key, "must be an http(s) URL with a host"),
        Err(e) => problems.at(path, key, format!("is not a URL: {e}")),
    }
}

fn check_page_url(path: &str, page_url: Option<&str>, problems: &mut Problems) {
    if let Some(p) = page_url {
        if !p.contains("{page}") {
            problems.at(path, "page_url", "must contain `{page}`");
        } else {
            check_url(path, "page_url", &p.replace("{page}", "2"), problems);
        }
    }
}

fn check_selector(path: &str, key: &str, sel: Option<&str>, problems: &mut Problems) {
    if let Some(s) = sel {
        if let Err(e) = scraper::Selector::parse(s) {
            problems.at(path, key, format!("is not a CSS selector: {e}"));
        }
    }
}

fn check_regex(path: &str, key: &str, re: Option<&str>, problems: &mut Problems) {
    if let Some(r) = re {
        if let Err(e) = regex::Regex::new(r) {
            problems.at(path, key, format!("is not a regular expression: {e}"));
        }
    }
}

fn check_detail(path: &str, d: &DetailSelectors, problems: &mut Problems) {
    check_selector(path, "title", d.title.as_deref(), problems);
    check_selector(path, "text", d.text.as_deref(), problems);
    check_selector(path, "time", d.time.as_deref(), problems);
    check_selector(path, "author", d.author.as_deref(), problems);
    check_selector(path, "views", d.views.as_deref(), problems);
}

impl CollectConfig {
    /// Checks the section, recording every problem with its key path under `path` (pass `""` for
    /// the pipeline's root, where the keys are `collect` and `sources`).
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        self.collect.validate(&join(path, "collect"), problems);
        let mut ids = std::collections::HashSet::new();
        let sources_path = join(path, "sources");
        for (i, s) in self.sources.iter().enumerate() {
            let p = format!("{sources_path}[{i}]");
            if !ids.insert(s.id()) {
                problems.at(&p, "id", format!("duplicate source id `{}`", s.id()));
            }
            s.validate(&p, &self.collect, problems);
        }
    }

    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<CollectConfig, String> {
        let v: toml::Value = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        let json = serde_json::to_value(v).map_err(|e| e.to_string())?;
        serde_json::from_value(json).map_err(|e| e.to_string())
    }

    #[test]
    fn shards_share_the_sources_by_host_each_to_exactly_one() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(
            Shard::parse(" 0 / 1 ").map(|s| s.to_string()),
            Ok("0/1".into())
        );
        for bad in ["3/3", "1/0", "a/2", "1", "-1/2", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let mut text = String::from("[collect]\nshard = \"1/3\"\n");
        for i in 0..40 {
            // Two sources on each of twenty hosts, and a dropped-file directory.
            text.push_str(&format!(
                "[[sources]]\nid = \"s{i}\"\nkind = \"feed\"\nurl = \"https://site{}.example.gov.cn/feed{i}.xml\"\n",
                i / 2
            ));
        }
        text.push_str("[[sources]]\nid = \"drops\"\nkind = \"dir\"\npath = \"/tmp/drops\"\n");
        let cfg = parse(&text).unwrap();
        assert_eq!(cfg.collect.shard, Some(Shard { index: 1, count: 3 }));
        let shards: Vec<Shard> = (0..3).map(|index| Shard { index, count: 3 }).collect();
        let mut per_shard = [0usize; 3];
        for src in &cfg.sources {
            let owners: Vec<u32> = shards
                .iter()
                .filter(|sh| sh.owns(src))
                .map(|sh| sh.index)
                .collect();
            assert_eq!(owners.len(), 1, "{} owned by {owners:?}", src.id());
            per_shard[owners[0] as usize] += 1;
        }
        assert!(per_shard.iter().all(|n| *n > 0), "{per_shard:?}");
        // The two sources of a host go to one shard (politeness per host holds).
        for pair in cfg.sources[..40].chunks(2) {
            for sh in &shards {
                assert_eq!(sh.owns(&pair[0]), sh.owns(&pair[1]));
            }
        }
        assert!(parse("[collect]\nshard = \"4/2\"\n").is_err());
    }

    #[test]
    fn parses_every_kind_and_defaults() {
        let cfg = parse(
            r#"
            [collect]
            per_host_rate = 5.0
            reobserve = ["10m", "1h"]
            [[sources]]
            id = "f"
            kind = "feed"
            url = "https://rsshub.example/weibo/user/1"
            platform = "weibo"
            [[sources]]
            id = "h"
            kind = "html"
            list_url = "https://www.example.gov.cn/list/index.html"
            page_url = "https://www.example.gov.cn/list/index_{page}.html"
            interval = "10m"
            [[sources]]
            id = "w"
            kind = "weibo"
            user = "123"
            comments = true
            [[sources]]
            id = "j"
            kind = "json_api"
            url = "https://api.example.com/c?page={page}"
            items = "data.list"
            paging = "page"
            time_format = "unix_ms"
            fields = { id = "cid", text = "content", time = "ctime" }
            [[sources]]
            id = "b"
            kind = "board"
            list_url = "https://liuyan.example.gov.cn/list"
            row_selector = "ul.list li"
            reply_status = ".status"
            [[sources]]
            id = "d"
            kind = "dir"
            path = "/var/lib/yuqing/drop"
            interval = "5s"
            "#,
        )
        .unwrap();
        let mut p = Problems::new();
        cfg.validate("", &mut p);
        assert!(p.is_empty(), "{p}");
        assert_eq!(cfg.sources.len(), 6);
        assert_eq!(
            cfg.collect.reobserve,
            vec![Duration::from_secs(600), Duration::from_secs(3600)]
        );
        let h = cfg.source("h").unwrap();
        assert_eq!(h.platform(), Platform::Portal);
        assert_eq!(h.jitter(), Duration::from_secs(60));
        assert_eq!(h.surge_interval(), Duration::from_secs(150));
        assert!(h.content_dedupe());
        assert_eq!(cfg.source("f").unwrap().platform(), Platform::Weibo);
        assert!(
            matches!(&cfg.source("j").unwrap().kind, SourceKind::JsonApi(j) if j.time_format == TimeFormat::UnixMs)
        );
    }

    #[test]
    fn unknown_keys_are_rejected_in_both_parts() {
        let e =
            parse("[[sources]]\nid = \"x\"\nkind = \"feed\"\nurl = \"https://a.b/\"\nbogus = 1\n")
                .unwrap_err();
        assert!(e.contains("bogus"), "{e}");
        let e = parse("[collect]\nbogus = 1\n").unwrap_err();
        assert!(e.contains("bogus"), "{e}");
        let e = parse("[[sources]]\nid = \"x\"\nkind = \"ftp\"\n").unwrap_err();
        assert!(e.contains("ftp"), "{e}");
    }

    #[test]
    fn validation_reports_every_problem_with_its_path() {
        let cfg = parse(
            r#"
            [collect]
            max_concurrency = 0
            reobserve = ["1h", "10m"]
            [[sources]]
            id = "a"
            kind = "html"
            list_url = "not a url"
            interval = "1s"
            link_selector = "a[[["
            [[sources]]
            id = "a"
            kind = "weibo"
            user = "abc"
            keyword = "火灾"
            hash_authors = true
            "#,
        )
        .unwrap();
        let mut p = Problems::new();
        cfg.validate("", &mut p);
        let text = p.to_string();
        for needle in [
            "collect.max_concurrency",
            "collect.reobserve",
            "sources[0].list_url",
            "sources[0].interval: must be at least 10s",
            "sources[0].link_selector",
            "sources[1].id: duplicate",
            "sources[1].user: set exactly one",
            "sources[1].user: must be a numeric uid",
            "sources[1].hash_authors",
        ] {
            assert!(text.contains(needle), "missing {needle} in:\n{text}");
        }
    }
}
