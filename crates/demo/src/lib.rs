//! # yuqing-demo
//!
//! The demo world: a loopback web site that behaves like the sources yuqing watches — a
//! government portal (gov-CMS meta tags, `index_N.html` paging, RSS, GBK sections, ETag/304), a
//! Discuz-style forum, a Weibo-style mobile API (m.weibo.cn shapes: getIndex timelines, search and
//! hot search, statuses/show, hotflow comments, repostTimeline, captcha/432 error injection), a
//! news site with a JSON comment API, and a message board with government replies.
//!
//! Scripted incidents (a chemical-plant flash fire and its rumours, wage arrears, a school canteen
//! complaint, a demolition dispute, a road-repair inquiry, a bus-line suggestion) unfold over
//! simulated time on top of steady background chatter. Repost and comment arrivals follow a
//! self-exciting [`hawkes`] process whose parameters were fitted to real Weibo cascades. The world
//! reads an injected [`yuqing_core::Clock`]: at simulated time *t* it serves only what was
//! published by *t*, with counts as of *t*. With a [`yuqing_core::ScaledClock`] an hour of the
//! world passes in a minute.
//!
//! Everything is deterministic for a seed. The script lives in `fixtures/demo/` and is compiled
//! in ([`DemoWorld::bundled`]); `fixtures/demo/README.md` lists every endpoint's URL.
//!
//! ```no_run
//! # async fn demo() -> Result<(), yuqing_demo::DemoError> {
//! use std::sync::Arc;
//! use yuqing_core::{ScaledClock, SharedClock};
//! use yuqing_demo::DemoWorld;
//!
//! let clock: SharedClock = Arc::new(ScaledClock::new(chrono::Utc::now(), 60.0));
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let world = DemoWorld::bundled()?;
//! let (addr, task) = world
//!     .clone()
//!     .serve("127.0.0.1:0".parse().unwrap(), clock.clone(), shutdown.clone())
//!     .await?;
//! println!("demo world on http://{addr}/");
//! let served = world.items_at(clock.now()); // what has been published so far
//! # let _ = (served, task); Ok(()) }
//! ```
#![warn(missing_docs)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use yuqing_core::{Item, Platform, SharedClock, SCHEMA_VERSION};

pub mod hawkes;
pub mod script;
mod server;
pub mod text;
pub mod world;

pub use script::{Scale, Script};
pub use server::REQUESTS;
pub use world::World;

/// Source ids of the items [`DemoWorld::items_at`] returns. A pipeline may name its sources
/// differently: compare collected and served items by `platform` and `id` (the site's own ids).
pub mod sources {
    /// Portal articles.
    pub const PORTAL: &str = "demo-portal";
    /// Forum threads and replies.
    pub const FORUM: &str = "demo-forum";
    /// Weibo posts, reposts and comments.
    pub const WEIBO: &str = "demo-weibo";
    /// News articles.
    pub const NEWS: &str = "demo-news";
    /// News comments (the JSON comment API).
    pub const NEWS_COMMENTS: &str = "demo-news-comments";
    /// Message-board messages.
    pub const BOARD: &str = "demo-board";
}

/// Errors of the demo world.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A script file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A script file is not valid TOML of its shape.
    #[error("{file}: {message}")]
    Parse {
        /// The file name.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The script parsed but breaks a rule.
    #[error("invalid demo script:\n{0}")]
    Invalid(yuqing_core::Problems),
    /// The listening socket could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Building the world failed (a worker thread panicked).
    #[error("building the world: {0}")]
    Build(String),
}

impl DemoError {
    /// A bounded code for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            DemoError::Io { .. } => "io",
            DemoError::Parse { .. } => "parse",
            DemoError::Invalid(_) => "invalid",
            DemoError::Bind { .. } => "bind",
            DemoError::Build(_) => "build",
        }
    }
}

/// The start used when a world is inspected before it was anchored: 2026-11-22 08:00 CST.
pub fn default_start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_305_600, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

#[derive(Debug, Default)]
struct Shared {
    start: Mutex<Option<DateTime<Utc>>>,
    built: OnceLock<Arc<World>>,
    base: Mutex<Option<String>>,
}

/// A demo world: a script, a seed and (once anchored) a start time. Cheap to clone; clones share
/// the anchor and the generated timeline.
#[derive(Debug, Clone)]
pub struct DemoWorld {
    script: Arc<Script>,
    shared: Arc<Shared>,
}

/// Volumes of a generated world.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorldStats {
    /// Top-level posts per platform.
    pub docs: Vec<(Platform, usize)>,
    /// Weibo reposts.
    pub reposts: usize,
    /// Comments and replies.
    pub comments: usize,
}

impl DemoWorld {
    /// The world scripted in `fixtures/demo/`, compiled in.
    pub fn bundled() -> Result<DemoWorld, DemoError> {
        DemoWorld::from_script(Script::bundled()?)
    }

    /// The world scripted in `dir` (`world.toml`, `incidents.toml`, `background.toml`,
    /// `lexicon.toml`, `hawkes.toml`).
    pub fn from_dir(dir: &Path) -> Result<DemoWorld, DemoError> {
        DemoWorld::from_script(Script::from_dir(dir)?)
    }

    /// The world of a script (validated here).
    pub fn from_script(script: Script) -> Result<DemoWorld, DemoError> {
        script.check()?;
        Ok(DemoWorld {
            script: Arc::new(script),
            shared: Arc::new(Shared::default()),
        })
    }

    /// The script.
    pub fn script(&self) -> &Script {
        &self.script
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.script.world.seed
    }

    /// The same script with another seed (a new, unanchored world).
    pub fn with_seed(self, seed: u64) -> DemoWorld {
        let mut s = (*self.script).clone();
        s.world.seed = seed;
        DemoWorld {
            script: Arc::new(s),
            shared: Arc::new(Shared::default()),
        }
    }

    /// The same script at another scale — the load generator's knob (a new, unanchored world).
    pub fn with_scale(self, scale: Scale) -> Result<DemoWorld, DemoError> {
        let mut s = (*self.script).clone();
        s.world.scale = scale;
        DemoWorld::from_script(s)
    }

    /// Anchors the world: simulated time 0 is `start` (a new world sharing nothing with `self`).
    pub fn with_start(self, start: DateTime<Utc>) -> DemoWorld {
        let shared = Shared::default();
        *shared.start.lock() = Some(start);
        DemoWorld {
            script: self.script,
            shared: Arc::new(shared),
        }
    }

    /// The anchor, once set.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        *self.shared.start.lock()
    }

    /// The generated world, building it on first use. An unanchored world is anchored at
    /// [`default_start`] here; [`DemoWorld::serve`] anchors at its clock's "now" instead.
    pub fn world(&self) -> Arc<World> {
        self.shared
            .built
            .get_or_init(|| {
                let start = *self.shared.start.lock().get_or_insert_with(default_start);
                let t = std::time::Instant::now();
                let w = World::build((*self.script).clone(), start);
                tracing::info!(
                    seed = self.seed(),
                    docs = w.docs.len(),
                    reposts = w.reposts.len(),
                    comments = w.comments.len(),
                    build_ms = t.elapsed().as_millis() as u64,
                    "Demo world built."
                );
                Arc::new(w)
            })
            .clone()
    }

    /// Volumes of the generated world.
    pub fn stats(&self) -> WorldStats {
        let w = self.world();
        let mut docs: Vec<(Platform, usize)> =
            w.by_platform.iter().map(|(p, v)| (*p, v.len())).collect();
        docs.sort();
        WorldStats {
            docs,
            reposts: w.reposts.len(),
            comments: w.comments.len(),
        }
    }

    /// Serves the world on `addr` (port 0 picks a free port) until `shutdown` fires. The world is
    /// anchored at `clock.now()` unless it was anchored before. Returns the bound address and the
    /// server task.
    pub async fn serve(
        self,
        addr: SocketAddr,
        clock: SharedClock,
        shutdown: CancellationToken,
    ) -> Result<(SocketAddr, JoinHandle<()>), DemoError> {
        {
            let mut start = self.shared.start.lock();
            if start.is_none() {
                *start = Some(clock.now());
            }
        }
        let me = self.clone();
        let world = tokio::task::spawn_blocking(move || me.world())
            .await
            .map_err(|e| DemoError::Build(e.to_string()))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| DemoError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| DemoError::Bind { addr, source })?;
        *self.shared.base.lock() = Some(format!("http://{local}"));
        let state = Arc::new(server::AppState {
            world,
            clock,
            requests: AtomicU64::new(0),
        });
        let app = server::router(state);
        tracing::info!(addr = %local, seed = self.seed(), "Demo world listening.");
        let task = tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await;
            match result {
                Ok(()) => tracing::info!(addr = %local, "Demo world stopped."),
                Err(e) => tracing::error!(addr = %local, error = %e, "Demo world server failed."),
            }
        });
        Ok((local, task))
    }

    /// Everything published by `t`, in the item contract, with counts as of `t`: posts, reposts
    /// and comments of every platform, with the source ids of [`sources`]. URLs use the served
    /// address once [`DemoWorld::serve`] bound one, else the `{demo}` placeholder.
    pub fn items_at(&self, t: DateTime<Utc>) -> Vec<Item> {
        let w = self.world();
        let base = self
            .shared
            .base
            .lock()
            .clone()
            .unwrap_or_else(|| "{demo}".to_string());
        items_of(&w, w.offset(t), &base)
    }
}

fn item(
    w: &World,
    source: &str,
    platform: Platform,
    id: String,
    t: i64,
    now: i64,
    text: String,
) -> Item {
    Item {
        schema_version: SCHEMA_VERSION,
        id,
        source: source.to_string(),
        platform,
        url: None,
        title: None,
        text,
        author: None,
        published_at: w.at(t),
        observed_at: w.at(now.max(t)),
        root_id: None,
        parent_id: None,
        metrics: yuqing_core::Metrics::default(),
        region: None,
        label: None,
        extra: serde_json::Map::new(),
    }
}

fn items_of(w: &World, now: i64, base: &str) -> Vec<Item> {
    let mut out = Vec::new();
    for (di, d) in w.docs.iter().enumerate() {
        let di = di as u32;
        if d.t > now {
            continue;
        }
        let (_, author) = w.author_of(d);
        let incident = d
            .incident
            .map(|i| w.script.incidents[i as usize].id.clone());
        let region = d
            .incident
            .map_or(&w.script.world.site.home, |i| {
                &w.script.incidents[i as usize].region
            })
            .county
            .clone();
        let author_kind = match d.author {
            world::Author::Account(a) => match w.script.world.accounts[a as usize].verified_type {
                1 => Some("official"),
                3 => Some("media"),
                _ => None,
            },
            world::Author::Citizen(_) => None,
        };
        let tag = |it: &mut Item| {
            if let Some(i) = &incident {
                it.extra.insert("demo_incident".into(), json!(i));
            }
        };
        let (source, url, author) = match d.platform {
            Platform::Weibo => (
                sources::WEIBO,
                format!("{base}/detail/{}", d.id),
                Some(author),
            ),
            Platform::Portal => (
                sources::PORTAL,
                format!("{base}{}", server_paths::portal(w, d)),
                None,
            ),
            Platform::Forum => (
                sources::FORUM,
                format!("{base}{}", server_paths::forum(d.id)),
                Some(author),
            ),
            Platform::News => (
                sources::NEWS,
                format!("{base}{}", server_paths::news(w, d)),
                Some(w.script.world.site.news_name.clone()),
            ),
            _ => (
                sources::BOARD,
                format!("{base}/board/detail/{}.html", d.id),
                None,
            ),
        };
        let mut it = item(
            w,
            source,
            d.platform,
            d.id.to_string(),
            d.t,
            now,
            d.text.clone(),
        );
        it.url = Some(url.clone());
        it.title = d.title.clone();
        it.author = author;
        it.metrics = w.metrics(di, now);
        it.region = Some(region.clone());
        if let Some(k) = author_kind {
            it.extra.insert("author_kind".into(), json!(k));
        }
        if d.platform == Platform::Portal {
            it.extra.insert(
                "column".into(),
                json!(w.script.world.site.sections[d.section as usize].name),
            );
        }
        if d.platform == Platform::Board {
            let (status, replied): (&str, Value) = match &d.reply {
                Some((rt, text)) if *rt <= now => (
                    "已答复",
                    json!({"replied_at": w.at(*rt).to_rfc3339(), "reply_text": text}),
                ),
                Some(_) => ("办理中", Value::Null),
                None => ("已受理", Value::Null),
            };
            it.extra.insert("reply_status".into(), json!(status));
            if let Value::Object(m) = replied {
                it.extra.extend(m);
            }
        }
        tag(&mut it);
        out.push(it);
        // Reposts (Weibo).
        for r in w.reposts_by(di, now) {
            let rp = &w.reposts[r as usize];
            let mut it = item(
                w,
                sources::WEIBO,
                Platform::Weibo,
                rp.id.to_string(),
                rp.t,
                now,
                w.repost_text(r),
            );
            it.url = Some(format!("{base}/detail/{}", rp.id));
            it.author = Some(w.user(rp.author).name.clone());
            it.root_id = Some(d.id.to_string());
            it.parent_id = Some(
                rp.parent
                    .map_or(d.id, |p| w.reposts[p as usize].id)
                    .to_string(),
            );
            it.metrics = yuqing_core::Metrics {
                reposts: Some(w.repost_children(r, now)),
                ..Default::default()
            };
            it.region = Some(region.clone());
            tag(&mut it);
            out.push(it);
        }
        // Comments and replies.
        let (csource, cplatform) = match d.platform {
            Platform::Weibo => (sources::WEIBO, Platform::Weibo),
            Platform::Forum => (sources::FORUM, Platform::Forum),
            Platform::News => (sources::NEWS_COMMENTS, Platform::Comment),
            _ => continue,
        };
        for c in w.comments_by(di, now) {
            let cm = &w.comments[c as usize];
            let mut it = item(
                w,
                csource,
                cplatform,
                cm.id.to_string(),
                cm.t,
                now,
                w.comment_text(c),
            );
            it.url = Some(url.clone());
            it.author = Some(w.user(cm.author).name.clone());
            it.root_id = Some(d.id.to_string());
            it.parent_id = Some(
                cm.reply_to
                    .map_or(d.id, |r| w.comments[r as usize].id)
                    .to_string(),
            );
            it.metrics = yuqing_core::Metrics {
                likes: Some(w.comment_likes(c, now)),
                ..Default::default()
            };
            it.region = Some(region.clone());
            tag(&mut it);
            out.push(it);
        }
    }
    out.sort_by(|a, b| {
        a.published_at
            .cmp(&b.published_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// Paths of pages, shared with the server.
mod server_paths {
    use crate::world::{Doc, World};

    pub fn portal(w: &World, d: &Doc) -> String {
        crate::server::portal_detail_path(w, d)
    }

    pub fn forum(tid: u64) -> String {
        crate::server::forum_thread_path(tid)
    }

    pub fn news(w: &World, d: &Doc) -> String {
        crate::server::news_article_path(w, d)
    }
}
