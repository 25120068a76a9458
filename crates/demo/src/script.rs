//! The world script: what `fixtures/demo/*.toml` hold, parsed with serde and checked with
//! [`Script::validate`].
//!
//! - `world.toml` ([`WorldConfig`]): seed, horizon, scale, site names, official and media accounts,
//!   error injection;
//! - `incidents.toml` ([`IncidentsFile`]): the scripted incidents, each with its place, its spread,
//!   its scripted posts (first post, official responses) and its text pools;
//! - `background.toml` ([`Background`]): the text pools of the steady background chatter;
//! - `lexicon.toml` ([`Lexicon`]): slot fillers shared by every template;
//! - `hawkes.toml` ([`HawkesParams`]): the fitted spread model.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use yuqing_core::{Platform, Problems};

use crate::hawkes::HawkesParams;
use crate::DemoError;

/// Everything the world is built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Script {
    /// Site, scale and accounts.
    pub world: WorldConfig,
    /// The scripted incidents.
    pub incidents: Vec<Incident>,
    /// Background text pools.
    pub background: Background,
    /// Slot fillers.
    pub lexicon: Lexicon,
    /// The spread model.
    pub hawkes: HawkesParams,
}

/// `world.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldConfig {
    /// The seed: the same seed and script give the same world.
    pub seed: u64,
    /// How long the world runs in simulated time after its start (e.g. "48h").
    #[serde(with = "humantime_serde")]
    pub horizon: Duration,
    /// Volume knobs.
    pub scale: Scale,
    /// Names of the simulated sites.
    pub site: Site,
    /// How background posts spread over the platforms (relative weights).
    pub background_mix: BTreeMap<String, f64>,
    /// Official, media and public-figure Weibo accounts.
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Error injection on the Weibo API.
    #[serde(default)]
    pub faults: Faults,
}

/// Volume knobs; also the load generator's controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// Multiplier on every incident's volumes (baseline rate and reach).
    pub incidents: f64,
    /// Background posts per simulated minute, over all platforms.
    pub background_per_minute: f64,
    /// Portal articles published before the start (the archive the list pages page through).
    pub portal_archive: usize,
    /// Weibo posts published before the start.
    pub weibo_archive: usize,
    /// Forum threads, news articles and board messages each published before the start.
    pub other_archive: usize,
    /// How far back the archive reaches (e.g. "7d").
    #[serde(with = "humantime_serde")]
    pub archive_span: Duration,
    /// Number of ordinary Weibo users.
    pub users: usize,
    /// Reposts or comments a single post can reach at most (a guard on the simulator).
    pub max_cascade: usize,
}

/// Names and codes of the simulated sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// The portal's `SiteName`.
    pub portal_name: String,
    /// The portal's `SiteIDCode`.
    pub portal_site_id: String,
    /// The portal's domain shown in `SiteDomain`.
    pub portal_domain: String,
    /// Portal sections (columns), in menu order.
    pub sections: Vec<Section>,
    /// The forum's name.
    pub forum_name: String,
    /// The news site's name.
    pub news_name: String,
    /// The message board's name.
    pub board_name: String,
    /// Items per list page on the portal, forum, news site and board.
    pub page_size: usize,
    /// The home county: the place of the background chatter and of the portal.
    pub home: Region,
}

/// How a portal section is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Charset {
    /// UTF-8, declared in both the HTTP header and `<meta>`.
    Utf8,
    /// GBK, declared only in `<meta http-equiv>` (the header says plain `text/html`).
    GbkMeta,
    /// GBK, declared only in the HTTP `Content-Type` header.
    GbkHeader,
}

/// A portal column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The path segment (`xwdt`).
    pub key: String,
    /// The `ColumnName` (新闻动态).
    pub name: String,
    /// The encoding its pages are served in.
    pub charset: Charset,
    /// Relative weight of background articles in this section.
    pub weight: f64,
}

/// A Weibo account with a fixed identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// How scripts refer to it.
    pub key: String,
    /// The uid.
    pub uid: u64,
    /// The screen name.
    pub screen_name: String,
    /// Weibo's `verified_type` (1 government, 3 media, 0 personal V, -1 none).
    pub verified_type: i32,
    /// Profile description.
    pub description: String,
    /// Followers.
    pub followers: u64,
    /// Text of a pinned post on its timeline, if any.
    #[serde(default)]
    pub pinned: Option<String>,
    /// Background posts per simulated hour from this account (drawn from the `account` pool).
    #[serde(default)]
    pub posts_per_hour: f64,
}

/// Error injection on the Weibo API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Fraction (0..1) of Weibo API requests answered with an error of one of `kinds`.
    #[serde(default)]
    pub rate: f64,
    /// Which errors the random fraction draws from.
    #[serde(default)]
    pub kinds: Vec<FaultKind>,
    /// Windows of simulated time (offsets from the start) during which every Weibo API request fails.
    #[serde(default)]
    pub windows: Vec<FaultWindow>,
}

/// An error the Weibo API can be made to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// `{"ok":-100,…,"url":"https://m.weibo.cn/captcha?…"}` (risk control).
    Captcha,
    /// HTTP 432 with an empty body (hard block).
    Http432,
    /// `{"ok":0,"msg":"…"}`.
    Ok0,
    /// HTTP 200 with an HTML login page instead of JSON.
    Html,
}

impl FaultKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Captcha => "captcha",
            FaultKind::Http432 => "http432",
            FaultKind::Ok0 => "ok0",
            FaultKind::Html => "html",
        }
    }
}

/// A scripted outage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultWindow {
    /// Start, as an offset from the world's start.
    #[serde(with = "humantime_serde")]
    pub start: Duration,
    /// End (exclusive).
    #[serde(with = "humantime_serde")]
    pub end: Duration,
    /// The error served.
    pub kind: FaultKind,
}

/// `incidents.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsFile {
    /// The incidents.
    pub incident: Vec<Incident>,
}

/// An administrative place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// 省.
    pub province: String,
    /// 市.
    pub city: String,
    /// 县/区.
    pub county: String,
    /// Towns and streets of the county used in the text.
    pub towns: Vec<String>,
}

/// How an incident spreads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spread {
    /// Spontaneous original posts per simulated hour at the baseline (the exogenous rate).
    pub baseline: f64,
    /// How long the baseline lasts after the incident starts.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// Mean number of further original posts each post triggers (branching ratio among posts).
    pub self_excitation: f64,
    /// Mean direct reposts (Weibo) or replies (forum, news) a spontaneous citizen post draws.
    pub reach: f64,
    /// Comments per repost.
    pub comments_per_repost: f64,
    /// Likes per repost or comment.
    pub likes_per_interaction: f64,
    /// Relative weights of the platforms spontaneous posts appear on
    /// (`weibo`, `forum`, `news`, `board`).
    pub platforms: BTreeMap<String, f64>,
}

/// Which pool spontaneous posts draw from, from an offset on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// From this offset after the incident's start.
    #[serde(with = "humantime_serde")]
    pub after: Duration,
    /// The pool for posts.
    pub pool: String,
    /// The pool for comments and replies.
    pub comments: String,
}

/// A post placed at an exact time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedPost {
    /// Reference for `retweet_of`.
    #[serde(default)]
    pub key: Option<String>,
    /// Offset after the incident's start.
    #[serde(with = "humantime_serde")]
    pub at: Duration,
    /// `weibo`, `portal`, `forum`, `news` or `board`.
    pub platform: String,
    /// An account key from `world.toml`, or `citizen`.
    #[serde(default = "citizen")]
    pub author: String,
    /// The template (`标题||正文` where the platform has titles); or use `pool`.
    #[serde(default)]
    pub text: Option<String>,
    /// A pool to draw the text from instead of `text`.
    #[serde(default)]
    pub pool: Option<String>,
    /// Portal section key.
    #[serde(default)]
    pub section: Option<String>,
    /// Expected direct reposts / replies.
    #[serde(default)]
    pub reach: Option<f64>,
    /// The pool comments draw from (defaults to the phase's).
    #[serde(default)]
    pub comments: Option<String>,
    /// Weibo: a quote-retweet of the scripted post with this key.
    #[serde(default)]
    pub retweet_of: Option<String>,
    /// Board: delay until the government's reply.
    #[serde(default, with = "humantime_serde")]
    pub reply_after: Option<Duration>,
    /// Board: the pool the government's reply is drawn from (rendered together with the message,
    /// so both name the same project, village or street).
    #[serde(default)]
    pub reply: Option<String>,
    /// Weibo: carries pictures.
    #[serde(default)]
    pub pics: u8,
}

fn citizen() -> String {
    "citizen".to_string()
}

/// A scripted incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// A stable id.
    pub id: String,
    /// What it is, in words.
    pub name: String,
    /// First-level category of the message taxonomy.
    pub category: String,
    /// Sensitivity topics.
    #[serde(default)]
    pub topics: Vec<String>,
    /// The grade a correct pipeline should reach (I..IV), or none for non-alerting ones.
    #[serde(default)]
    pub expected_grade: Option<String>,
    /// 询问诉求, 恶意传播炒作 or 建设性意见.
    pub handling_class: String,
    /// The owning department.
    pub department: String,
    /// Where.
    pub region: Region,
    /// The Weibo topic (`#…#` without the hashes).
    pub hashtag: String,
    /// Search words that find its posts.
    pub keywords: Vec<String>,
    /// Start, as an offset from the world's start.
    #[serde(with = "humantime_serde")]
    pub start: Duration,
    /// How it spreads.
    pub spread: Spread,
    /// Pools of spontaneous posts by time.
    pub phases: Vec<Phase>,
    /// Scripted posts.
    #[serde(default)]
    pub post: Vec<ScriptedPost>,
    /// Incident-specific slot fillers (`{company}` …).
    #[serde(default)]
    pub slots: BTreeMap<String, Vec<String>>,
    /// Text pools: name → templates.
    pub pools: BTreeMap<String, Vec<String>>,
}

/// `background.toml`: pools of the steady chatter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Background {
    /// Weibo posts of ordinary users.
    pub weibo: Vec<String>,
    /// Posts of official and media accounts.
    pub account: Vec<String>,
    /// Weibo comments.
    pub weibo_comment: Vec<String>,
    /// Short repost texts.
    pub repost: Vec<String>,
    /// Forum threads (`标题||正文`).
    pub forum: Vec<String>,
    /// Forum replies.
    pub forum_reply: Vec<String>,
    /// News articles (`标题||正文`).
    pub news: Vec<String>,
    /// News comments.
    pub news_comment: Vec<String>,
    /// Board messages (`标题||正文`).
    pub board: Vec<String>,
    /// Government replies to board messages.
    pub board_reply: Vec<String>,
    /// Portal articles per section key (`标题||正文`).
    pub portal: BTreeMap<String, Vec<String>>,
    /// Background hot-search words.
    pub hot: Vec<String>,
}

/// `lexicon.toml`: slot name → fillers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Lexicon {
    /// The fillers.
    pub slots: BTreeMap<String, Vec<String>>,
}

/// The platforms spontaneous and background posts can go to.
pub const POST_PLATFORMS: [&str; 5] = ["weibo", "forum", "news", "board", "portal"];

/// Maps a script platform name to the record platform.
pub fn platform_of(name: &str) -> Option<Platform> {
    match name {
        "weibo" => Some(Platform::Weibo),
        "forum" => Some(Platform::Forum),
        "news" => Some(Platform::News),
        "board" => Some(Platform::Board),
        "portal" => Some(Platform::Portal),
        _ => None,
    }
}

const BUNDLED_WORLD: &str = include_str!("../../../fixtures/demo/world.toml");
const BUNDLED_INCIDENTS: &str = include_str!("../../../fixtures/demo/incidents.toml");
const BUNDLED_BACKGROUND: &str = include_str!("../../../fixtures/demo/background.toml");
const BUNDLED_LEXICON: &str = include_str!("../../../fixtures/demo/lexicon.toml");
const BUNDLED_HAWKES: &str = include_str!("../../../fixtures/demo/hawkes.toml");

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, DemoError> {
    toml::from_str(text).map_err(|e| DemoError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })
}

impl Script {
    /// The script compiled into the binary from `fixtures/demo/`.
    pub fn bundled() -> Result<Script, DemoError> {
        Script::from_texts(
            BUNDLED_WORLD,
            BUNDLED_INCIDENTS,
            BUNDLED_BACKGROUND,
            BUNDLED_LEXICON,
            BUNDLED_HAWKES,
        )
    }

    /// Reads the five files from `dir` (see the module docs).
    pub fn from_dir(dir: &Path) -> Result<Script, DemoError> {
        let read = |name: &str| -> Result<String, DemoError> {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| DemoError::Io { path, source })
        };
        Script::from_texts(
            &read("world.toml")?,
            &read("incidents.toml")?,
            &read("background.toml")?,
            &read("lexicon.toml")?,
            &read("hawkes.toml")?,
        )
    }

    /// Parses the five files' texts and validates the whole.
    pub fn from_texts(
        world: &str,
        incidents: &str,
        background: &str,
        lexicon: &str,
        hawkes: &str,
    ) -> Result<Script, DemoError> {
        let script = Script {
            world: parse("world.toml", world)?,
            incidents: parse::<IncidentsFile>("incidents.toml", incidents)?.incident,
            background: parse("background.toml", background)?,
            lexicon: parse("lexicon.toml", lexicon)?,
            hawkes: parse("hawkes.toml", hawkes)?,
        };
        script.check()?;
        Ok(script)
    }

    /// Validates and turns problems into an error.
    pub fn check(&self) -> Result<(), DemoError> {
        let mut problems = Problems::new();
        self.validate("", &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DemoError::Invalid(problems))
        }
    }

    /// Reports every semantic problem with its key path.
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        let w = &self.world;
        let wp = yuqing_core::problem::join(path, "world");
        if w.horizon < Duration::from_secs(600) {
            problems.at(&wp, "horizon", "must be at least 10m");
        }
        let s = &w.scale;
        let sp = yuqing_core::problem::join(&wp, "scale");
        if !(s.incidents.is_finite() && s.incidents >= 0.0) {
            problems.at(&sp, "incidents", "must be a non-negative number");
        }
        if !(s.background_per_minute.is_finite() && s.background_per_minute >= 0.0) {
            problems.at(
                &sp,
                "background_per_minute",
                "must be a non-negative number",
            );
        }
        if s.users == 0 {
            problems.at(&sp, "users", "must be at least 1");
        }
        if s.max_cascade == 0 {
            problems.at(&sp, "max_cascade", "must be at least 1");
        }
        if s.archive_span.is_zero() && (s.portal_archive + s.weibo_archive + s.other_archive) > 0 {
            problems.at(
                &sp,
                "archive_span",
                "must be positive when an archive is asked for",
            );
        }
        let site = yuqing_core::problem::join(&wp, "site");
        if w.site.page_size == 0 || w.site.page_size > 200 {
            problems.at(&site, "page_size", "must be in 1..=200");
        }
        if w.site.sections.is_empty() {
            problems.at(&site, "sections", "must name at least one section");
        }
        for (i, sec) in w.site.sections.iter().enumerate() {
            let p = format!("{site}.sections[{i}]");
            if sec.key.is_empty() || !sec.key.chars().all(|c| c.is_ascii_alphanumeric()) {
                problems.at(&p, "key", "must be ASCII letters and digits");
            }
            if !(sec.weight.is_finite() && sec.weight >= 0.0) {
                problems.at(&p, "weight", "must be a non-negative number");
            }
            if !self.background.portal.contains_key(&sec.key) {
                problems.push(
                    format!("background.portal.{}", sec.key),
                    "missing: every portal section needs a background pool",
                );
            }
        }
        for (k, v) in &w.background_mix {
            if !POST_PLATFORMS.contains(&k.as_str()) {
                problems.at(&wp, &format!("background_mix.{k}"), "unknown platform");
            } else if !(v.is_finite() && *v >= 0.0) {
                problems.at(
                    &wp,
                    &format!("background_mix.{k}"),
                    "must be a non-negative number",
                );
            }
        }
        let mut uids = std::collections::HashSet::new();
        for (i, a) in w.accounts.iter().enumerate() {
            let p = format!("{wp}.accounts[{i}]");
            if !uids.insert(a.uid) {
                problems.at(&p, "uid", "duplicates another account's uid");
            }
            if a.uid < 1_000_000_000 || a.uid >= 1_000_000_000_000 {
                problems.at(&p, "uid", "must have 10 to 12 digits");
            }
            if !(a.posts_per_hour.is_finite() && a.posts_per_hour >= 0.0) {
                problems.at(&p, "posts_per_hour", "must be a non-negative number");
            }
        }
        let fp = format!("{wp}.faults");
        if !(w.faults.rate.is_finite() && (0.0..=1.0).contains(&w.faults.rate)) {
            problems.at(&fp, "rate", "must be in [0, 1]");
        }
        if w.faults.rate > 0.0 && w.faults.kinds.is_empty() {
            problems.at(&fp, "kinds", "must name at least one kind when rate > 0");
        }
        for (i, win) in w.faults.windows.iter().enumerate() {
            if win.end <= win.start {
                problems.at(&fp, &format!("windows[{i}].end"), "must be after start");
            }
        }
        let accounts: std::collections::HashSet<&str> =
            w.accounts.iter().map(|a| a.key.as_str()).collect();
        let mut ids = std::collections::HashSet::new();
        for (i, inc) in self.incidents.iter().enumerate() {
            let ip = format!("{}[{i}]", yuqing_core::problem::join(path, "incidents"));
            if !ids.insert(inc.id.as_str()) {
                problems.at(&ip, "id", "duplicates another incident");
            }
            if inc.start >= w.horizon {
                problems.at(&ip, "start", "must be before the world's horizon");
            }
            if inc.keywords.is_empty() {
                problems.at(&ip, "keywords", "must name at least one search word");
            }
            let spread = &inc.spread;
            if !(spread.baseline.is_finite() && spread.baseline >= 0.0) {
                problems.at(&ip, "spread.baseline", "must be a non-negative number");
            }
            if !(spread.self_excitation.is_finite() && (0.0..1.0).contains(&spread.self_excitation))
            {
                problems.at(&ip, "spread.self_excitation", "must be in [0, 1)");
            }
            for (name, v) in [
                ("reach", spread.reach),
                ("comments_per_repost", spread.comments_per_repost),
                ("likes_per_interaction", spread.likes_per_interaction),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    problems.at(
                        &ip,
                        &format!("spread.{name}"),
                        "must be a non-negative number",
                    );
                }
            }
            for k in spread.platforms.keys() {
                if !matches!(k.as_str(), "weibo" | "forum" | "news" | "board") {
                    problems.at(&ip, &format!("spread.platforms.{k}"), "unknown platform");
                }
            }
            if inc.phases.is_empty() {
                problems.at(&ip, "phases", "must have at least one phase");
            }
            for (j, ph) in inc.phases.iter().enumerate() {
                for pool in [&ph.pool, &ph.comments] {
                    if !inc.pools.contains_key(pool) {
                        problems.at(
                            &ip,
                            &format!("phases[{j}]"),
                            format!("unknown pool `{pool}`"),
                        );
                    }
                }
            }
            if inc.region.towns.is_empty() {
                problems.at(&ip, "region.towns", "must name at least one town");
            }
            let keys: std::collections::HashSet<&str> =
                inc.post.iter().filter_map(|p| p.key.as_deref()).collect();
            for (j, post) in inc.post.iter().enumerate() {
                let pp = format!("{ip}.post[{j}]");
                if platform_of(&post.platform).is_none() {
                    problems.at(
                        &pp,
                        "platform",
                        "must be weibo, portal, forum, news or board",
                    );
                }
                if post.author != "citizen" && !accounts.contains(post.author.as_str()) {
                    problems.at(&pp, "author", format!("unknown account `{}`", post.author));
                }
                match (&post.text, &post.pool) {
                    (None, None) => problems.at(&pp, "text", "give text or pool"),
                    (Some(_), Some(_)) => problems.at(&pp, "pool", "give text or pool, not both"),
                    (None, Some(pool)) if !inc.pools.contains_key(pool) => {
                        problems.at(&pp, "pool", format!("unknown pool `{pool}`"))
                    }
                    _ => {}
                }
                if let Some(c) = &post.comments {
                    if !inc.pools.contains_key(c) {
                        problems.at(&pp, "comments", format!("unknown pool `{c}`"));
                    }
                }
                if post.platform == "portal" {
                    match &post.section {
                        Some(s) if w.site.sections.iter().any(|x| &x.key == s) => {}
                        _ => problems.at(&pp, "section", "must name a portal section"),
                    }
                }
                if let Some(r) = &post.retweet_of {
                    if !keys.contains(r.as_str()) {
                        problems.at(&pp, "retweet_of", format!("no post with key `{r}`"));
                    }
                }
                if post.reply_after.is_some() != post.reply.is_some() {
                    problems.at(&pp, "reply", "reply and reply_after go together");
                }
                if let Some(r) = &post.reply {
                    if !inc.pools.contains_key(r) {
                        problems.at(&pp, "reply", format!("unknown pool `{r}`"));
                    }
                }
            }
        }
        self.validate_slots(path, problems);
        self.hawkes
            .validate(&yuqing_core::problem::join(path, "hawkes"), problems);
        for (name, pool) in [
            ("weibo", &self.background.weibo),
            ("account", &self.background.account),
            ("weibo_comment", &self.background.weibo_comment),
            ("repost", &self.background.repost),
            ("forum", &self.background.forum),
            ("forum_reply", &self.background.forum_reply),
            ("news", &self.background.news),
            ("news_comment", &self.background.news_comment),
            ("board", &self.background.board),
            ("board_reply", &self.background.board_reply),
            ("hot", &self.background.hot),
        ] {
            if pool.is_empty() {
                problems.push(format!("background.{name}"), "must not be empty");
            }
        }
    }
}

/// Variables every template can use (see `world::vars_for`).
pub const TEXT_VARS: [&str; 6] = ["province", "city", "county", "town", "date", "time"];
/// Variables of incident templates only.
pub const INCIDENT_VARS: [&str; 3] = ["tag", "start_date", "start_time"];

impl Script {
    /// Reports templates that name a slot nothing can fill.
    fn validate_slots(&self, path: &str, problems: &mut Problems) {
        let lex = &self.lexicon.slots;
        let check = |where_: String,
                     template: &str,
                     local: Option<&BTreeMap<String, Vec<String>>>,
                     incident: bool,
                     problems: &mut Problems| {
            let mut vars: Vec<(&str, &str)> = TEXT_VARS.iter().map(|v| (*v, "")).collect();
            if incident {
                vars.extend(INCIDENT_VARS.iter().map(|v| (*v, "")));
            }
            let f = crate::text::Fillers {
                vars: &vars,
                local,
                lexicon: lex,
            };
            for slot in crate::text::slots_of(template) {
                if !f.knows(slot) {
                    problems.push(where_.clone(), format!("unknown slot `{{{slot}}}`"));
                }
            }
        };
        for (name, fillers) in lex {
            for (i, t) in fillers.iter().enumerate() {
                check(format!("lexicon.{name}[{i}]"), t, None, false, problems);
            }
        }
        let b = &self.background;
        let mut pools: Vec<(String, &Vec<String>)> = vec![
            ("weibo".into(), &b.weibo),
            ("account".into(), &b.account),
            ("weibo_comment".into(), &b.weibo_comment),
            ("repost".into(), &b.repost),
            ("forum".into(), &b.forum),
            ("forum_reply".into(), &b.forum_reply),
            ("news".into(), &b.news),
            ("news_comment".into(), &b.news_comment),
            ("board".into(), &b.board),
            ("board_reply".into(), &b.board_reply),
            ("hot".into(), &b.hot),
        ];
        pools.extend(b.portal.iter().map(|(k, v)| (format!("portal.{k}"), v)));
        for (name, list) in pools {
            for (i, t) in list.iter().enumerate() {
                check(format!("background.{name}[{i}]"), t, None, false, problems);
            }
        }
        for (i, a) in self.world.accounts.iter().enumerate() {
            if let Some(p) = &a.pinned {
                check(
                    format!("world.accounts[{i}].pinned"),
                    p,
                    None,
                    false,
                    problems,
                );
            }
        }
        for (i, inc) in self.incidents.iter().enumerate() {
            let ip = format!("{}[{i}]", yuqing_core::problem::join(path, "incidents"));
            for (name, list) in &inc.pools {
                for (j, t) in list.iter().enumerate() {
                    check(
                        format!("{ip}.pools.{name}[{j}]"),
                        t,
                        Some(&inc.slots),
                        true,
                        problems,
                    );
                }
            }
            for (name, list) in &inc.slots {
                for (j, t) in list.iter().enumerate() {
                    check(
                        format!("{ip}.slots.{name}[{j}]"),
                        t,
                        Some(&inc.slots),
                        true,
                        problems,
                    );
                }
            }
            for (j, post) in inc.post.iter().enumerate() {
                if let Some(t) = &post.text {
                    check(
                        format!("{ip}.post[{j}].text"),
                        t,
                        Some(&inc.slots),
                        true,
                        problems,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_script_is_valid() {
        let s = Script::bundled().unwrap();
        assert!(s.incidents.len() >= 5);
        let mut p = Problems::new();
        s.validate("", &mut p);
        assert!(p.is_empty(), "{p}");
    }

    #[test]
    fn validation_reports_every_problem_with_its_path() {
        let mut s = Script::bundled().unwrap();
        s.world.scale.users = 0;
        s.world.faults.rate = 2.0;
        s.incidents[1].post[0].author = "nobody".into();
        s.incidents[0].spread.self_excitation = 1.5;
        s.incidents[2].pools.get_mut("parent").unwrap()[0].push_str("{no_such_slot}");
        let mut p = Problems::new();
        s.validate("", &mut p);
        let text = p.to_string();
        assert!(
            text.contains("world.scale.users: must be at least 1"),
            "{text}"
        );
        assert!(
            text.contains("world.faults.rate: must be in [0, 1]"),
            "{text}"
        );
        assert!(
            text.contains("incidents[1].post[0].author: unknown account `nobody`"),
            "{text}"
        );
        assert!(
            text.contains("incidents[0].spread.self_excitation"),
            "{text}"
        );
        assert!(
            text.contains("incidents[2].pools.parent[0]: unknown slot `{no_such_slot}`"),
            "{text}"
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let world = BUNDLED_WORLD.replace("seed =", "colour = \"red\"\nseed =");
        let err = Script::from_texts(
            &world,
            BUNDLED_INCIDENTS,
            BUNDLED_BACKGROUND,
            BUNDLED_LEXICON,
            BUNDLED_HAWKES,
        )
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
