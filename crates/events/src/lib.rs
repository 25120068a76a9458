//! # yuqing-events
//!
//! Merges judged items into events and measures their spread on event time.
//!
//! - **Clustering** ([`EventTracker::observe`]): an item joins the event of its thread (reposts
//!   and comments by `root_id`/`parent_id`, in either arrival order), else the event holding a
//!   near-duplicate of its text (Jaccard similarity of character bigrams estimated by MinHash,
//!   candidates found through a 12-band LSH index), else the event sharing enough of its
//!   keywords (weighted by rarity) without a conflicting place, within `merge_window`; otherwise
//!   it opens a new event whose id is [`yuqing_core::id::event_id`] of the item, so a replay gives
//!   the same ids. The same `source` + `id` seen again is a re-observation: its counts replace the
//!   earlier ones and nothing is counted twice.
//! - **Spread** ([`spread`]): counts (items, reposts, comments, likes, views, platforms, sources,
//!   official and media accounts), velocity over the last hour and acceleration, and the stage on
//!   the 2h/6h/24h curve (萌芽, 扩散, 高潮, 消退), including 消退 by cooling and flares.
//! - **Forecast** ([`forecast`]): the 24-hour size from a self-exciting process with a power-law
//!   kernel, with an 80% band calibrated on real Weibo cascades.
//! - **Memory**: quiet events close ([`EventTracker::expire`]) and take their index entries with
//!   them; the keys of items, threads and pages unused for `reobserve_horizon` (26 h: past the
//!   collectors' last re-observation) are forgotten even while their event stays open, so an
//!   event that never goes quiet holds the keys of about a day of its traffic, not of its whole
//!   life; hard caps close the quietest events early. [`EventTracker::export`] and
//!   [`EventTracker::import`] checkpoint the whole state.
//!
//! Every time rule runs on event time (`item.observed_at`), never the wall clock.
//!
//! ```
//! use yuqing_core::{Analysis, Item};
//! use yuqing_events::{EventTracker, EventsConfig};
//!
//! let mut tracker = EventTracker::new(&EventsConfig::default());
//! let post = Item::from_json(r#"{"id":"1","source":"demo-weibo","platform":"weibo",
//!     "text":"【某市化工厂爆炸】今天上午某市一化工厂发生爆炸","published_at":"2026-11-22T10:00:00+08:00"}"#.as_bytes()).unwrap();
//! let repost = Item::from_json(r#"{"id":"2","source":"demo-weibo","platform":"weibo","root_id":"1",
//!     "text":"转发微博","published_at":"2026-11-22T10:05:00+08:00"}"#.as_bytes()).unwrap();
//! let a = tracker.observe(&post, &mut Analysis::default());
//! let mut analysis = Analysis::default();
//! let b = tracker.observe(&repost, &mut analysis);
//! assert_eq!(a.event_id, b.event_id);
//! assert_eq!(analysis.event_id.as_deref(), Some(a.event_id.as_str()));
//! assert_eq!(b.title, "某市化工厂爆炸");
//! assert_eq!(b.counts.items, 2);
//! ```
#![warn(missing_docs)]

mod bits;
mod config;
mod error;
pub mod forecast;
mod hash;
mod matching;
pub mod metrics;
pub mod spread;
pub mod synthetic;
pub mod text;
mod tracker;

pub use config::EventsConfig;
pub use error::EventsError;
pub use forecast::{outlook, Outlook, HORIZON_SECS};
pub use spread::{HawkesParams, Intensity, Kernel, Projection};
pub use tracker::{EventTracker, Merge, CHECKPOINT_FORMAT};
