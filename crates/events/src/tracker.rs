//! The event tracker: clustering, counts, the curve and the forecast of every open event.

use chrono::{DateTime, FixedOffset, TimeZone};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{debug, warn};
use yuqing_core::{
    id, Analysis, Counts, Event, Forecast, Item, Platform, Reason, Stage, SCHEMA_VERSION,
};

use crate::config::EventsConfig;
use crate::error::EventsError;
use crate::forecast::{outlook, HORIZON_SECS};
use crate::hash::{item_key, mix64, word_key, IdMap};
use crate::matching::{evidence, hashtags, places_compatible, Decayed, Posting, TAGS_PER_ITEM};
use crate::metrics::{self, H};
use crate::spread::{
    Bins, Curve, CurveRules, FadeCause, HawkesParams, Intensity, Kernel, Kind, ALL_KINDS,
};
use crate::text::{
    distinct_chars, gist, minhash, normalize_into, simhash, similarity, zh_count, Signature,
    MINHASH_LEN,
};

/// The checkpoint format [`EventTracker::export`] writes.
pub const CHECKPOINT_FORMAT: u32 = 2;

/// Keywords an event profile holds at first; more as the event grows (see [`kw_cap`]).
const KW_PROFILE: usize = 16;
/// Keywords an event profile holds at most.
const KW_PROFILE_MAX: usize = 48;
const KW_OUT: usize = 8;
const KW_PER_ITEM: usize = 12;
/// Hashtags an event profile holds.
const TAGS_PROFILE: usize = 8;
const BUCKET_CAP: usize = 32;
const FPS_PER_EVENT: usize = 8;
const TALLY_CAP: usize = 8;
const TOPICS_CAP: usize = 16;
const SOURCES_CAP: usize = 512;
const ACCOUNTS_CAP: usize = 2048;
const EVIDENCE_RECENT: usize = 4;
const PENDING_CAP: usize = 10_000;
/// Candidate events scored per post at most (those proposed by the most features).
const MAX_CANDIDATES: usize = 24;
/// Hashtags are chosen by the poster to name the matter: they weigh this much more than a
/// keyword extracted from the text.
const TAG_FACTOR: f64 = 2.0;
/// A category is a coarse label from a classifier: it weighs this much of a keyword.
const CATEGORY_FACTOR: f64 = 0.5;
/// A place that contains the event's place (its city for a county) weighs this much of the
/// event's own place.
const CONTAINING_PLACE_FACTOR: f64 = 0.5;

const KIND_KEYWORD: u64 = 1;
const KIND_SOURCE: u64 = 2;
const KIND_AUTHOR: u64 = 3;
const KIND_EVENT: u64 = 4;
const KIND_TAG: u64 = 5;
const KIND_PLACE: u64 = 6;
const KIND_TOPIC: u64 = 7;
const KIND_CATEGORY: u64 = 8;
const KIND_URL: u64 = 9;

const SEEN: u8 = 1;
const CHILD: u8 = 2;

/// How many keywords the profile of an event with `posts` posts holds: 16, plus 4 for every
/// doubling of its posts, up to 48 — a large incident is told in many words.
fn kw_cap(posts: u32) -> usize {
    let doublings = (32 - (posts.max(1)).leading_zeros()) as usize - 1;
    (KW_PROFILE + 4 * doublings).min(KW_PROFILE_MAX)
}

/// How an item joined its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// It opened a new event.
    New,
    /// It is a repost or comment (or the root) of a thread the event holds.
    Thread,
    /// Its text is a near-duplicate of a post in the event.
    NearDuplicate,
    /// It matches the event's profile: enough evidence from shared rare keywords, hashtags, place,
    /// sensitivity topics and category, in a compatible place, recently enough.
    Keywords,
    /// It was seen before: a re-observation with new counts.
    Reobserved,
}

impl Merge {
    /// The wire name (also the `merge` label of `yuqing_events_items_total`).
    pub fn as_str(self) -> &'static str {
        match self {
            Merge::New => "new",
            Merge::Thread => "thread",
            Merge::NearDuplicate => "near_duplicate",
            Merge::Keywords => "keywords",
            Merge::Reobserved => "reobserved",
        }
    }
}

/// What the tracker remembers of an item key or a thread root.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Ref {
    slot: u32,
    flags: u8,
    /// Repost items seen in this thread (when the key is a thread root).
    child_reposts: u32,
    /// Comment items seen in this thread.
    child_comments: u32,
    /// Latest (highest) reposts, comments, likes, views the item itself reported.
    m: [u32; 4],
    /// Event time (seconds) of the latest observation.
    #[serde(with = "crate::bits::f64")]
    last_obs: f64,
    /// Event time (seconds) the key was last of use: the item seen (again) or, for a thread root,
    /// any item of its thread seen. The key is forgotten `reobserve_horizon` after it. Unknown
    /// (NaN) in checkpoints written before it was kept: the import puts the event's latest
    /// activity.
    #[serde(default = "unknown_time", with = "crate::bits::f64")]
    touched: f64,
}

fn unknown_time() -> f64 {
    f64::NAN
}

/// Moves a "last of use" time forward to `t` (an unknown time becomes `t`).
fn touch(touched: &mut f64, t: f64) {
    if touched.is_nan() || *touched < t {
        *touched = t;
    }
}

/// A light child's "last seen" time: whole seconds of event time (0 is "unknown").
fn child_time(t: f64) -> u32 {
    if t.is_finite() {
        t.clamp(1.0, f64::from(u32::MAX)) as u32
    } else {
        1
    }
}

impl Ref {
    fn placeholder(slot: u32, t: f64) -> Ref {
        Ref {
            slot,
            flags: 0,
            child_reposts: 0,
            child_comments: 0,
            m: [0; 4],
            last_obs: f64::NAN,
            touched: t,
        }
    }

    /// The item's (or thread's) share of the event's reposts, comments, likes and views: the
    /// item's own latest counts, or the children seen in its thread where those are more.
    fn contribution(&self) -> [u64; 4] {
        [
            u64::from(self.m[0].max(self.child_reposts)),
            u64::from(self.m[1].max(self.child_comments)),
            u64::from(self.m[2]),
            u64::from(self.m[3]),
        ]
    }
}

/// An entry of the near-duplicate index: signature `idx` of the event in `slot`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct FpEntry {
    slot: u32,
    idx: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Kw {
    h: u64,
    #[serde(with = "crate::bits::f64")]
    w: f64,
    word: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tally {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    n: u32,
}

/// Counts `name` in a bounded tally; returns whether the name is new to the tally and the name it
/// displaced, if any (so that the inverted index can follow).
fn tally(list: &mut Vec<Tally>, name: &str, code: Option<&str>) -> (bool, Option<String>) {
    if name.trim().is_empty() {
        return (false, None);
    }
    if let Some(t) = list.iter_mut().find(|t| t.name == name) {
        t.n = t.n.saturating_add(1);
        if t.code.is_none() {
            t.code = code.map(str::to_string);
        }
        (false, None)
    } else if list.len() < TALLY_CAP {
        list.push(Tally {
            name: name.to_string(),
            code: code.map(str::to_string),
            n: 1,
        });
        (true, None)
    } else if let Some(min) = list.iter_mut().min_by_key(|t| t.n) {
        // Space-saving: the newcomer inherits the smallest count.
        let gone = std::mem::replace(&mut min.name, name.to_string());
        min.code = code.map(str::to_string);
        min.n = min.n.saturating_add(1);
        (true, Some(gone))
    } else {
        (false, None)
    }
}

fn top(list: &[Tally]) -> Option<&Tally> {
    // The first of the highest counts: ties go to the earliest.
    list.iter()
        .fold(None, |best: Option<&Tally>, t| match best {
            Some(b) if b.n >= t.n => Some(b),
            _ => Some(t),
        })
}

/// One open event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EventState {
    id: String,
    title: String,
    title_rank: u8,
    first_seen: DateTime<FixedOffset>,
    first_source: String,
    first_url: Option<String>,
    last_seen: DateTime<FixedOffset>,
    counts: Counts,
    platforms: u16,
    sources: Vec<u64>,
    official: Vec<u64>,
    media: Vec<u64>,
    #[serde(with = "crate::bits::f64")]
    sensitivity: f64,
    #[serde(with = "crate::bits::f64")]
    sentiment_sum: f64,
    sentiment_n: u64,
    /// Posts (not reposts or comments) described in the profile below.
    posts: u32,
    /// The same, decayed over event time like the post counts of the whole feed (absent from
    /// older checkpoints: counted afresh).
    #[serde(default)]
    recent: Decayed,
    /// Keywords of the posts, with the number of posts that said each.
    keywords: Vec<Kw>,
    /// Hashtags of the posts, likewise.
    tags: Vec<Kw>,
    regions: Vec<Tally>,
    categories: Vec<Tally>,
    departments: Vec<Tally>,
    handling: Vec<Tally>,
    response_subject: Vec<String>,
    #[serde(with = "crate::bits::f64")]
    response_sensitivity: f64,
    topics: Vec<String>,
    /// Posts that carried each of `topics`.
    topic_n: Vec<u32>,
    evidence_first: String,
    evidence_recent: Vec<String>,
    sigs: Vec<Signature>,
    keys: Vec<u64>,
    /// Light children: digest of the key → whole second of event time last seen.
    #[serde(with = "crate::bits::child_map")]
    children: ChildSet,
    intensity: Intensity,
    bins: Bins,
    curve: Curve,
    size_at_horizon: Option<u64>,
}

impl EventState {
    fn size(&self) -> u64 {
        self.counts
            .items
            .saturating_add(self.counts.reposts)
            .saturating_add(self.counts.comments)
    }

    fn first_secs(&self) -> f64 {
        secs(&self.first_seen)
    }

    fn latest_secs(&self) -> f64 {
        secs(&self.last_seen)
    }
}

/// Light children of an event: 32-bit digest of the key → whole second of event time last seen.
pub(crate) type ChildSet =
    std::collections::HashMap<u32, u32, std::hash::BuildHasherDefault<crate::hash::IdHasher>>;

/// A 32-bit digest of an item key.
fn short(key: u64) -> u32 {
    (key >> 32) as u32 ^ key as u32
}

/// Event time in seconds since the Unix epoch.
fn secs(t: &DateTime<FixedOffset>) -> f64 {
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9
}

fn at(offset: &FixedOffset, s: f64) -> DateTime<FixedOffset> {
    let whole = s.floor();
    let nanos = ((s - whole) * 1e9).round().clamp(0.0, 999_999_999.0) as u32;
    offset
        .timestamp_opt(whole as i64, nanos)
        .single()
        .unwrap_or_else(|| DateTime::<chrono::Utc>::MIN_UTC.with_timezone(offset))
}

fn sat32(x: Option<u64>) -> u32 {
    x.map(|v| u32::try_from(v).unwrap_or(u32::MAX)).unwrap_or(0)
}

fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// What kind of item this is within a thread.
fn child_kind(item: &Item) -> Option<Kind> {
    let thread = item.root_id.as_deref().or(item.parent_id.as_deref())?;
    if thread == item.id {
        return None;
    }
    let declared = item.extra.get("kind").and_then(Value::as_str);
    if item.platform == Platform::Comment || matches!(declared, Some("comment" | "reply")) {
        Some(Kind::Comments)
    } else {
        Some(Kind::Reposts)
    }
}

fn platform_bit(p: Platform) -> u16 {
    1 << (Platform::ALL.iter().position(|q| *q == p).unwrap_or(8) as u16)
}

fn title_rank(item: &Item, child: bool) -> u8 {
    if child {
        return 0;
    }
    let has_title = item.title.as_deref().is_some_and(|t| !t.trim().is_empty());
    if !has_title {
        return 1;
    }
    // A hot-search entry's title is the name the public gives the incident: it ranks with a
    // news headline, so a forum post's question does not replace it, and an official release does.
    let hot_search = item.extra.get("hot_search").and_then(Value::as_bool) == Some(true);
    let platform = match item.platform {
        _ if hot_search => 4,
        Platform::Portal => 5,
        Platform::News => 4,
        Platform::Wechat => 3,
        Platform::Board | Platform::Forum | Platform::Hotline => 2,
        _ => 1,
    };
    let author = match item.extra.get("author_kind").and_then(Value::as_str) {
        Some("official") => 2,
        Some("media") => 1,
        _ => 0,
    };
    2 + platform + author
}

fn headline(item: &Item) -> String {
    match item.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.chars().take(60).collect(),
        _ => gist(&item.text),
    }
}

/// The place an item names: its key in the index, its name and its administrative code.
#[derive(Debug, Clone)]
struct Place {
    key: u64,
    name: String,
    code: Option<String>,
}

/// What a post says that can tie it to an event.
#[derive(Debug, Default)]
struct Features {
    keywords: Vec<(u64, String)>,
    tags: Vec<(u64, String)>,
    place: Option<Place>,
    topics: Vec<(u64, String)>,
    category: Option<(u64, String)>,
}

impl Features {
    /// Keys of the features that may propose candidate events.
    fn proposers(&self) -> impl Iterator<Item = u64> + '_ {
        self.keywords
            .iter()
            .chain(&self.tags)
            .map(|k| k.0)
            .chain(self.place.as_ref().map(|p| p.key))
            .chain(self.topics.iter().map(|t| t.0))
    }
}

/// The event a page (URL) belongs to, and whether a comment (rather than the post) registered it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Page {
    slot: u32,
    by_child: bool,
    /// Event time (seconds) the page was last of use (registered, joined by, its post seen again);
    /// forgotten like the `touched` of an item key.
    #[serde(default = "unknown_time", with = "crate::bits::f64")]
    touched: f64,
}

/// A normalised URL key: without the fragment and a trailing slash.
fn url_key(url: &str) -> Option<u64> {
    let u = url.trim();
    let u = u.split('#').next().unwrap_or(u).trim_end_matches('/');
    (!u.is_empty()).then(|| word_key(KIND_URL, u))
}

/// Tracks open events; one per analyze stage.
///
/// Feed it judged items in (roughly) event-time order with [`EventTracker::observe`]; call
/// [`EventTracker::expire`] now and then (say every minute of event time) to close quiet events,
/// and [`EventTracker::advance`] to learn which events changed stage while nothing was observed.
#[derive(Debug)]
pub struct EventTracker {
    cfg: EventsConfig,
    kernel: Kernel,
    rules: CurveRules,
    slots: Vec<Option<EventState>>,
    free: Vec<u32>,
    live: usize,
    refs: IdMap<Ref>,
    ids: IdMap<u32>,
    lsh: IdMap<Vec<FpEntry>>,
    /// The inverted index: profile feature → the open events holding it.
    postings: IdMap<Posting>,
    /// Page URLs of posts (and of the first comment of a thread whose post is unseen) → event, so
    /// that comments collected from a separate source join the article they are about.
    urls: IdMap<Page>,
    /// Recent posts carrying each feature (decayed), for its rarity.
    df: IdMap<Decayed>,
    /// Recent posts (decayed).
    docs: Decayed,
    pending: Vec<Event>,
    scratch: Vec<char>,
    /// Candidate events of the post being matched (reused).
    cands: Vec<u32>,
    /// Light children held by all events.
    children: usize,
    /// Event time (seconds) keys older than `reobserve_horizon` were last forgotten (NaN: never).
    swept: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    format: u32,
    slots: usize,
    events: Vec<(u32, EventState)>,
    free: Vec<u32>,
    refs: Vec<(u64, Ref)>,
    lsh: Vec<(u64, Vec<FpEntry>)>,
    postings: Vec<(u64, Posting)>,
    urls: Vec<(u64, Page)>,
    /// Absent from checkpoints written before keys were forgotten: the next `expire` sweeps.
    #[serde(default = "unknown_time", with = "crate::bits::f64")]
    swept: f64,
    /// Absent from checkpoints written before the rarity of features was counted over posts:
    /// such a tracker starts counting afresh.
    #[serde(default)]
    df: Vec<(u64, Decayed)>,
    #[serde(default)]
    docs: Decayed,
    pending: Vec<Event>,
}

fn sorted<V: Clone>(m: &IdMap<V>) -> Vec<(u64, V)> {
    let mut v: Vec<(u64, V)> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
    v.sort_unstable_by_key(|(k, _)| *k);
    v
}

/// LSH bands of a signature: 12 bands of 2 values.
const BANDS: usize = MINHASH_LEN / 2;

fn lsh_keys(sig: &Signature) -> [u64; BANDS] {
    std::array::from_fn(|b| {
        mix64(
            (u64::from(sig[2 * b]) << 32 | u64::from(sig[2 * b + 1]))
                ^ (b as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )
    })
}

impl EventTracker {
    /// An empty tracker.
    pub fn new(cfg: &EventsConfig) -> EventTracker {
        EventTracker::with_params(cfg, HawkesParams::CALIBRATED)
    }

    /// An empty tracker forecasting with `params` instead of the calibrated ones (for evaluation
    /// harnesses).
    pub fn with_params(cfg: &EventsConfig, params: HawkesParams) -> EventTracker {
        EventTracker {
            cfg: cfg.clone(),
            kernel: params.kernel(),
            rules: CurveRules {
                fade_ratio: cfg.fade_ratio,
                flare_ratio: cfg.flare_ratio,
                min_peak_velocity: cfg.min_peak_velocity,
            },
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            refs: IdMap::default(),
            ids: IdMap::default(),
            lsh: IdMap::default(),
            postings: IdMap::default(),
            urls: IdMap::default(),
            df: IdMap::default(),
            docs: Decayed::default(),
            pending: Vec::new(),
            scratch: Vec::with_capacity(crate::text::FINGERPRINT_CHARS),
            cands: Vec::new(),
            children: 0,
            swept: f64::NAN,
        }
    }

    /// Open events.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no event is open.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Item and thread keys held to recognise re-observations (light children included). A key is
    /// held while its event is open, and forgotten once unused for `reobserve_horizon`.
    pub fn tracked_items(&self) -> usize {
        self.refs.len() + self.children
    }

    /// The current snapshot of an open event.
    pub fn get(&self, event_id: &str) -> Option<Event> {
        let slot = *self.ids.get(&word_key(KIND_EVENT, event_id))?;
        let ev = self.slots.get(slot as usize)?.as_ref()?;
        Some(self.render(ev, ev.latest_secs(), None))
    }

    /// Ids of the open events, in no particular order.
    pub fn event_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.slots.iter().flatten().map(|e| e.id.as_str())
    }

    /// An estimate of the heap the tracker holds, in bytes (tables by capacity, strings and
    /// vectors of every event by length).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let table = |cap: usize, entry: usize| cap * (entry + 1);
        let mut n = self.slots.capacity() * size_of::<Option<EventState>>()
            + self.free.capacity() * 4
            + table(self.refs.capacity(), 8 + size_of::<Ref>())
            + table(self.ids.capacity(), 12)
            + table(self.lsh.capacity(), 8 + size_of::<Vec<FpEntry>>())
            + table(self.postings.capacity(), 8 + size_of::<Posting>())
            + table(self.urls.capacity(), 8 + size_of::<Page>())
            + table(self.df.capacity(), 8 + size_of::<Decayed>())
            + self.cands.capacity() * 4;
        n += self
            .lsh
            .values()
            .map(|v| v.capacity() * size_of::<FpEntry>())
            .sum::<usize>();
        n += self
            .postings
            .values()
            .map(|v| v.slots.capacity() * 4)
            .sum::<usize>();
        for e in self.slots.iter().flatten() {
            n += e.id.capacity() + e.title.capacity() + e.first_source.capacity();
            n += e.first_url.as_ref().map_or(0, String::capacity);
            n += (e.sources.capacity() + e.official.capacity() + e.media.capacity()) * 8;
            n += e
                .keywords
                .iter()
                .chain(&e.tags)
                .map(|k| size_of::<Kw>() + k.word.capacity())
                .sum::<usize>();
            n += e.topic_n.capacity() * 4;
            for t in [&e.regions, &e.categories, &e.departments, &e.handling] {
                n += t
                    .iter()
                    .map(|t| size_of::<Tally>() + t.name.capacity())
                    .sum::<usize>();
            }
            n += e
                .response_subject
                .iter()
                .chain(&e.topics)
                .chain(&e.evidence_recent)
                .map(|s| 24 + s.capacity())
                .sum::<usize>();
            n += e.evidence_first.capacity();
            n += e.children.capacity() * 9;
            n += e.sigs.capacity() * std::mem::size_of::<Signature>() + e.keys.capacity() * 8;
        }
        n
    }

    /// Merges an item into its event and returns the event's snapshot after the update.
    ///
    /// Sets `analysis.event_id`, `analysis.fingerprint` (the SimHash of the text, hex) and adds a
    /// reason about how the item joined. The same `source` + `id` seen again is a re-observation:
    /// its counts replace the earlier ones (never below them: cumulative counts do not go back)
    /// and nothing is counted twice.
    pub fn observe(&mut self, item: &Item, analysis: &mut Analysis) -> Event {
        self.observe_with(item, analysis).0
    }

    /// Like [`EventTracker::observe`], also telling how the item joined.
    pub fn observe_with(&mut self, item: &Item, analysis: &mut Analysis) -> (Event, Merge) {
        let t = secs(&item.observed_at);
        let published = secs(&item.published_at).min(t);
        let key = item_key(&item.source, &item.id);

        normalize_into(&item.text, &mut self.scratch);
        if self.scratch.len() < 8 {
            if let Some(title) = &item.title {
                let text = std::mem::take(&mut self.scratch);
                let mut with_title = Vec::with_capacity(text.len() + 32);
                normalize_into(title, &mut with_title);
                with_title.extend_from_slice(&text);
                self.scratch = with_title;
            }
        }
        let fp = simhash(&self.scratch);
        analysis.fingerprint = Some(format!("{fp:016x}"));
        let usable = distinct_chars(&self.scratch, self.cfg.near_duplicate_min_chars)
            >= self.cfg.near_duplicate_min_chars;
        let sig = if usable { minhash(&self.scratch) } else { None };

        if let Some(r) = self.refs.get(&key).copied() {
            if r.flags & SEEN != 0 && self.is_live(r.slot) {
                self.reobserve(key, r, item, t);
                H.reobserved.inc();
                let ev = self.slot(r.slot);
                analysis.event_id = Some(ev.id.clone());
                analysis.reasons.push(Reason::new(
                    "event",
                    "event:reobserved",
                    format!("重复观测，更新计数（{}）", ev.id),
                ));
                let snap = self.commit(r.slot, t);
                return (snap, Merge::Reobserved);
            }
        }

        let child = child_kind(item);
        let thread_key = child.map(|_| {
            let root = item
                .root_id
                .as_deref()
                .or(item.parent_id.as_deref())
                .unwrap_or(&item.id);
            item_key(&item.source, root)
        });
        // Reposts and comments without counts of their own are remembered compactly, per event,
        // by a 32-bit hash (their keys are needed only to recognise a redelivery).
        let light = child.is_some() && item.metrics.is_empty() && !self.refs.contains_key(&key);
        if light {
            let tr = thread_key.and_then(|tk| self.refs.get(&tk)).map(|r| r.slot);
            if let Some(s) = tr.filter(|s| self.is_live(*s)) {
                if self.slot(s).children.contains_key(&short(key)) {
                    H.reobserved.inc();
                    if let Some(r) = thread_key.and_then(|tk| self.refs.get_mut(&tk)) {
                        touch(&mut r.touched, t);
                    }
                    let ev = self.slot_mut(s);
                    if let Some(seen) = ev.children.get_mut(&short(key)) {
                        *seen = (*seen).max(child_time(t));
                    }
                    if item.observed_at > ev.last_seen {
                        ev.last_seen = item.observed_at;
                    }
                    analysis.event_id = Some(ev.id.clone());
                    analysis.reasons.push(Reason::new(
                        "event",
                        "event:reobserved",
                        format!("重复收到，不重复计数（{}）", ev.id),
                    ));
                    let snap = self.commit(s, t);
                    return (snap, Merge::Reobserved);
                }
            }
        }
        let features = if child.is_none() {
            self.features(item, analysis)
        } else {
            Features::default()
        };
        let url = item.url.as_deref().and_then(url_key);

        // 1. Threads: the item's own key was announced by a child, or its root is known.
        let mut how = Merge::New;
        let mut evidence = String::new();
        let mut slot = self
            .refs
            .get(&key)
            .map(|r| r.slot)
            .filter(|s| self.is_live(*s));
        if slot.is_some() {
            how = Merge::Thread;
            evidence = format!("先前已收到其转发或评论（{}/{}）", item.source, item.id);
        }
        if slot.is_none() {
            for root in [item.root_id.as_deref(), item.parent_id.as_deref()]
                .into_iter()
                .flatten()
            {
                if root == item.id {
                    continue;
                }
                if let Some(r) = self.refs.get(&item_key(&item.source, root)) {
                    if self.is_live(r.slot) {
                        slot = Some(r.slot);
                        how = Merge::Thread;
                        evidence = format!("属于 {}/{} 的转发评论链", item.source, root);
                        break;
                    }
                }
            }
        }
        // The same page: comments collected by another source than their article carry the
        // article's URL.
        if slot.is_none() {
            // A comment joins the post (or an earlier comment) of its page; a post joins only
            // comments that were waiting for it, never another post (a source may give all its
            // posts one listing URL).
            if let Some(s) = url
                .and_then(|u| self.urls.get(&u).copied())
                .filter(|p| child.is_some() || p.by_child)
                .map(|p| p.slot)
                .filter(|s| self.is_live(*s))
            {
                slot = Some(s);
                how = Merge::Thread;
                evidence = format!("同一页面的评论与原文（{}）", self.slot(s).id);
            }
        }
        // 2. Near-duplicate text (posts only: comments say little about the incident).
        if let (None, None, Some(sig)) = (slot, child, sig.as_ref()) {
            if let Some((s, j)) = self.near_duplicate(sig, features.place.as_ref(), t) {
                slot = Some(s);
                how = Merge::NearDuplicate;
                evidence = format!("文本近似重复（相似度 {j:.2}，与 {}）", self.slot(s).id);
            }
        }
        // 3. The event profiles: shared rare keywords, hashtags, place, topics and category.
        if slot.is_none() && child.is_none() {
            if let Some((s, score, shared)) = self.by_profile(&features, t) {
                slot = Some(s);
                how = Merge::Keywords;
                evidence = format!(
                    "共享 {}（证据 {score:.1}，与 {}）",
                    shared.join("、"),
                    self.slot(s).id
                );
            }
        }
        let slot = match slot {
            Some(s) => s,
            None => {
                let s = self.open(item);
                evidence = "新事件".into();
                s
            }
        };

        // Register the item, and its thread root if unseen.
        let mut r = self
            .refs
            .get(&key)
            .copied()
            .unwrap_or_else(|| Ref::placeholder(slot, t));
        let before = if r.flags & SEEN == 0 && r.slot == slot {
            r.contribution()
        } else {
            [0; 4]
        };
        // A key held for another event (a thread root announced there, or one left behind) now
        // belongs to this one: listed with its keys, so that closing or sweeping it finds the key.
        let moved = r.slot != slot;
        if moved {
            r = Ref::placeholder(slot, t);
        }
        let fresh_key = !self.refs.contains_key(&key) || moved;
        r.flags |= SEEN | if child.is_some() { CHILD } else { 0 };
        r.m = [
            sat32(item.metrics.reposts),
            sat32(item.metrics.comments),
            sat32(item.metrics.likes),
            sat32(item.metrics.views),
        ];
        r.last_obs = t;
        touch(&mut r.touched, t);
        let after = r.contribution();
        if light {
            if self
                .slot_mut(slot)
                .children
                .insert(short(key), child_time(t))
                .is_none()
            {
                self.children += 1;
            }
        } else {
            self.refs.insert(key, r);
            if fresh_key {
                self.slot_mut(slot).keys.push(key);
            }
        }
        let mut thread_delta = [0u64; 4];
        let mut thread_fresh = false;
        if let (Some(kind), Some(tk)) = (child, thread_key) {
            let fresh = !self.refs.contains_key(&tk);
            thread_fresh = fresh;
            let tr = self
                .refs
                .entry(tk)
                .or_insert_with(|| Ref::placeholder(slot, t));
            touch(&mut tr.touched, t);
            if tr.slot == slot {
                let b = tr.contribution();
                match kind {
                    Kind::Comments => tr.child_comments = tr.child_comments.saturating_add(1),
                    _ => tr.child_reposts = tr.child_reposts.saturating_add(1),
                }
                let a = tr.contribution();
                for i in 0..4 {
                    thread_delta[i] = a[i] - b[i];
                }
            }
            if fresh {
                self.slot_mut(slot).keys.push(tk);
            }
        }
        // Posts register their page; a comment only when its thread is new (its post unseen),
        // so that the post, arriving later from another source, finds it.
        if let Some(u) = url.filter(|_| child.is_none() || thread_fresh) {
            if let std::collections::hash_map::Entry::Vacant(v) = self.urls.entry(u) {
                v.insert(Page {
                    slot,
                    by_child: child.is_some(),
                    touched: t,
                });
                self.slot_mut(slot).keys.push(u);
            }
        }
        // A page in use (its post or comments still arriving) is kept.
        if let Some(p) = url.and_then(|u| self.urls.get_mut(&u)) {
            if p.slot == slot {
                touch(&mut p.touched, t);
            }
        }

        // Counts and spread.
        let kernel = self.kernel;
        let cfg_first = self.slot(slot).first_seen;
        {
            let ev = self.slot_mut(slot);
            ev.counts.items = ev.counts.items.saturating_add(1);
            ev.intensity.add(&kernel, 1.0, published, published);
            ev.bins.add(Kind::Items, 1.0, published, published);
            let own = [
                after[0] - before[0],
                after[1] - before[1],
                after[2] - before[2],
                after[3] - before[3],
            ];
            apply(ev, &kernel, own, published, t);
            apply(ev, &kernel, thread_delta, published, published);
            if item.published_at < cfg_first {
                ev.first_seen = item.published_at;
                if ev.curve.flares == 0 {
                    ev.curve.wave_origin = ev.curve.wave_origin.min(published);
                }
            }
            if item.observed_at > ev.last_seen {
                ev.last_seen = item.observed_at;
            }
        }
        self.describe(
            slot,
            item,
            analysis,
            child.is_some(),
            &features,
            if child.is_none() { sig } else { None },
        );

        match how {
            Merge::New => H.new.inc(),
            Merge::Thread => H.thread.inc(),
            Merge::NearDuplicate => H.near_duplicate.inc(),
            Merge::Keywords => H.keywords.inc(),
            Merge::Reobserved => H.reobserved.inc(),
        }
        let id = self.slot(slot).id.clone();
        analysis.reasons.push(Reason::new(
            "event",
            format!("event:{}", how.as_str()),
            evidence,
        ));
        analysis.event_id = Some(id);
        metrics::TRACKED.set(self.tracked_items() as i64);
        let snap = self.commit(slot, t);
        self.enforce_caps(t);
        (snap, how)
    }

    fn is_live(&self, slot: u32) -> bool {
        self.slots.get(slot as usize).is_some_and(Option::is_some)
    }

    fn slot(&self, slot: u32) -> &EventState {
        self.slots[slot as usize].as_ref().expect("slot is live")
    }

    fn slot_mut(&mut self, slot: u32) -> &mut EventState {
        self.slots[slot as usize].as_mut().expect("slot is live")
    }

    /// The features of a post: its keywords, hashtags, place, topics and category.
    fn features(&self, item: &Item, analysis: &Analysis) -> Features {
        let mut f = Features {
            keywords: Vec::with_capacity(analysis.keywords.len().min(KW_PER_ITEM)),
            ..Features::default()
        };
        for k in &analysis.keywords {
            let k = k.trim();
            if k.is_empty() || k.len() > 64 {
                continue;
            }
            let h = word_key(KIND_KEYWORD, k);
            if !f.keywords.iter().any(|(x, _)| *x == h) {
                f.keywords.push((h, k.to_string()));
                if f.keywords.len() == KW_PER_ITEM {
                    break;
                }
            }
        }
        let mut tags = Vec::new();
        if let Some(title) = &item.title {
            hashtags(title, &mut tags);
        }
        hashtags(&item.text, &mut tags);
        tags.truncate(TAGS_PER_ITEM);
        f.tags = tags
            .into_iter()
            .map(|t| (word_key(KIND_TAG, &t), t))
            .collect();
        let name = analysis
            .region
            .as_deref()
            .or(item.region.as_deref())
            .map(str::trim)
            .unwrap_or("");
        if !name.is_empty() {
            f.place = Some(Place {
                key: word_key(KIND_PLACE, name),
                name: name.to_string(),
                code: analysis.region_code.clone(),
            });
        }
        // The place counts once, as the place: not again as a keyword ("万载县", "万载").
        if let Some(p) = &f.place {
            f.keywords.retain(|(_, k)| !p.name.contains(k.as_str()));
        }
        for topic in &analysis.topics {
            let h = word_key(KIND_TOPIC, topic);
            if !topic.trim().is_empty() && !f.topics.iter().any(|(x, _)| *x == h) {
                f.topics.push((h, topic.clone()));
            }
        }
        f.category = analysis
            .category
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| (word_key(KIND_CATEGORY, c), c.to_string()));
        f
    }

    fn in_window(&self, ev: &EventState, t: f64) -> bool {
        t - ev.latest_secs() <= self.cfg.merge_window.as_secs_f64()
    }

    /// True when the post's place and the event's (dominant) place are two different places,
    /// neither inside the other.
    fn place_conflict(place: Option<&Place>, ev: &EventState) -> bool {
        match (place, top(&ev.regions)) {
            (Some(p), Some(r)) => {
                !places_compatible((&p.name, p.code.as_deref()), (&r.name, r.code.as_deref()))
            }
            _ => false,
        }
    }

    fn near_duplicate(&self, sig: &Signature, place: Option<&Place>, t: f64) -> Option<(u32, f64)> {
        let min = self.cfg.near_duplicate_similarity;
        let mut best: Option<(u32, f64, f64)> = None;
        for bk in lsh_keys(sig) {
            let Some(bucket) = self.lsh.get(&bk) else {
                continue;
            };
            for e in bucket {
                if !self.is_live(e.slot) {
                    continue;
                }
                let ev = self.slot(e.slot);
                let Some(other) = ev.sigs.get(e.idx as usize) else {
                    continue;
                };
                let j = similarity(sig, other);
                if j < min || !self.in_window(ev, t) || Self::place_conflict(place, ev) {
                    continue;
                }
                let first = ev.first_secs();
                let better = match best {
                    None => true,
                    Some((_, bj, bf)) => j > bj || (j == bj && first < bf),
                };
                if better {
                    best = Some((e.slot, j, first));
                }
            }
        }
        best.map(|(s, j, _)| (s, j))
    }

    /// The evidence of feature `h`, carried by `count` of the event's posts.
    fn feature_evidence(&self, h: u64, count: f64, ev: &EventState, t: f64) -> f64 {
        let df = self.df.get(&h).map_or(0.0, |d| d.at(t));
        evidence(count, ev.posts, df, self.docs.at(t), ev.recent.at(t))
    }

    /// The open event whose profile best matches the post, with the evidence (nats, after the
    /// time penalty) and the shared features in words; `None` below the threshold.
    fn by_profile(&mut self, f: &Features, t: f64) -> Option<(u32, f64, Vec<String>)> {
        if f.keywords.is_empty() && f.tags.is_empty() {
            return None;
        }
        // Candidates: events named by the posting lists of the post's specific features, those
        // proposed by the most features first.
        let mut cands = std::mem::take(&mut self.cands);
        cands.clear();
        for h in f.proposers() {
            if let Some(p) = self.postings.get(&h) {
                if !p.common() {
                    cands.extend_from_slice(&p.slots);
                }
            }
        }
        cands.sort_unstable();
        let mut ranked: Vec<(u32, u32)> = Vec::new();
        for s in cands.iter().copied() {
            match ranked.last_mut() {
                Some((last, n)) if *last == s => *n += 1,
                _ => ranked.push((s, 1)),
            }
        }
        self.cands = cands;
        if ranked.len() > MAX_CANDIDATES {
            ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            ranked.truncate(MAX_CANDIDATES);
        }

        let tau = self.cfg.match_decay.as_secs_f64().max(1.0);
        let mut best: Option<(u32, f64, f64, Vec<String>)> = None;
        for (s, _) in ranked {
            if !self.is_live(s) {
                continue;
            }
            let ev = self.slot(s);
            if !self.in_window(ev, t) || Self::place_conflict(f.place.as_ref(), ev) {
                continue;
            }
            let mut score = 0.0;
            let mut content = 0usize;
            let mut shared: Vec<String> = Vec::new();
            for (h, word) in &f.keywords {
                if let Some(k) = ev.keywords.iter().find(|k| k.h == *h) {
                    let e = self.feature_evidence(*h, k.w, ev, t);
                    if e > 0.0 {
                        score += e;
                        content += 1;
                        shared.push(word.clone());
                    }
                }
            }
            for (h, tag) in &f.tags {
                if let Some(k) = ev.tags.iter().find(|k| k.h == *h) {
                    let e = self.feature_evidence(*h, k.w, ev, t);
                    if e > 0.0 {
                        score += TAG_FACTOR * e;
                        content += 1;
                        shared.push(format!("#{tag}#"));
                    }
                }
            }
            if content < self.cfg.min_shared_keywords {
                continue;
            }
            if let Some(p) = &f.place {
                if let Some(r) = ev.regions.iter().find(|r| r.name == p.name) {
                    let e = self.feature_evidence(p.key, f64::from(r.n), ev, t);
                    if e > 0.0 {
                        score += e;
                        shared.push(format!("地点 {}", p.name));
                    }
                } else if let Some(r) = top(&ev.regions) {
                    // Compatible (no conflict above) but not the same: the post names a place
                    // that contains the event's, or one inside it.
                    let e =
                        self.feature_evidence(word_key(KIND_PLACE, &r.name), f64::from(r.n), ev, t);
                    if e > 0.0 {
                        score += CONTAINING_PLACE_FACTOR * e;
                        shared.push(format!("地点 {}⊃{}", p.name, r.name));
                    }
                }
            }
            for (h, topic) in &f.topics {
                if let Some(i) = ev.topics.iter().position(|x| x == topic) {
                    let n = ev.topic_n.get(i).copied().unwrap_or(0);
                    let e = self.feature_evidence(*h, f64::from(n), ev, t);
                    if e > 0.0 {
                        score += e;
                        shared.push(format!("话题 {topic}"));
                    }
                }
            }
            if let Some((h, cat)) = &f.category {
                if let Some(c) = ev.categories.iter().find(|c| &c.name == cat) {
                    score += CATEGORY_FACTOR * self.feature_evidence(*h, f64::from(c.n), ev, t);
                }
            }
            // The longer the event has been quiet, the more evidence a newcomer needs.
            score -= (t - ev.latest_secs()).max(0.0) / tau;
            if score < self.cfg.match_threshold {
                continue;
            }
            let first = ev.first_secs();
            let better = match &best {
                None => true,
                Some((_, bs, bf, _)) => score > *bs || (score == *bs && first < *bf),
            };
            if better {
                best = Some((s, score, first, shared));
            }
        }
        best.map(|(s, score, _, shared)| (s, score, shared))
    }

    fn open(&mut self, item: &Item) -> u32 {
        let t = secs(&item.observed_at);
        let first = item.published_at.min(item.observed_at);
        let mut id = id::event_id(&item.source, &item.id);
        // The same item opening a second event while the first is open (inconsistent input: seen
        // as a comment, then as a post) must not reuse the id; the suffix keeps replays equal.
        let mut n = 0u32;
        while self.ids.contains_key(&word_key(KIND_EVENT, &id)) {
            n += 1;
            id = id::stable_id("ev-", &[&item.source, &item.id, &n.to_string()]);
        }
        let ev = EventState {
            id: id.clone(),
            title: String::new(),
            title_rank: 0,
            first_seen: first,
            first_source: item.source.clone(),
            first_url: item.url.clone(),
            last_seen: item.observed_at,
            counts: Counts::default(),
            platforms: 0,
            sources: Vec::new(),
            official: Vec::new(),
            media: Vec::new(),
            sensitivity: 0.0,
            sentiment_sum: 0.0,
            sentiment_n: 0,
            posts: 0,
            recent: Decayed::default(),
            keywords: Vec::new(),
            tags: Vec::new(),
            regions: Vec::new(),
            categories: Vec::new(),
            departments: Vec::new(),
            handling: Vec::new(),
            response_subject: Vec::new(),
            response_sensitivity: f64::NEG_INFINITY,
            topics: Vec::new(),
            topic_n: Vec::new(),
            evidence_first: format!("{}/{}", item.source, item.id),
            evidence_recent: Vec::new(),
            sigs: Vec::new(),
            keys: Vec::new(),
            children: ChildSet::default(),
            intensity: Intensity::new(),
            bins: Bins::default(),
            curve: Curve::new(secs(&first).min(t)),
            size_at_horizon: None,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(ev);
                s
            }
            None => {
                self.slots.push(Some(ev));
                (self.slots.len() - 1) as u32
            }
        };
        self.ids.insert(word_key(KIND_EVENT, &id), slot);
        self.live += 1;
        metrics::OPEN.set(self.live as i64);
        debug!(event = %id, source = %item.source, "Event opened.");
        slot
    }

    fn reobserve(&mut self, key: u64, mut r: Ref, item: &Item, t: f64) {
        let before = r.contribution();
        r.m = [
            r.m[0].max(sat32(item.metrics.reposts)),
            r.m[1].max(sat32(item.metrics.comments)),
            r.m[2].max(sat32(item.metrics.likes)),
            r.m[3].max(sat32(item.metrics.views)),
        ];
        let after = r.contribution();
        let from = if r.last_obs.is_finite() {
            r.last_obs
        } else {
            t
        };
        r.last_obs = if r.last_obs.is_finite() {
            r.last_obs.max(t)
        } else {
            t
        };
        touch(&mut r.touched, t);
        self.refs.insert(key, r);
        // Its page and thread are in use too.
        if let Some(p) = item
            .url
            .as_deref()
            .and_then(url_key)
            .and_then(|u| self.urls.get_mut(&u))
        {
            if p.slot == r.slot {
                touch(&mut p.touched, t);
            }
        }
        if child_kind(item).is_some() {
            if let Some(root) = item.root_id.as_deref().or(item.parent_id.as_deref()) {
                if let Some(tr) = self.refs.get_mut(&item_key(&item.source, root)) {
                    touch(&mut tr.touched, t);
                }
            }
        }
        let kernel = self.kernel;
        let ev = self.slot_mut(r.slot);
        let delta = [
            after[0] - before[0],
            after[1] - before[1],
            after[2] - before[2],
            after[3] - before[3],
        ];
        apply(ev, &kernel, delta, from, t);
        if item.observed_at > ev.last_seen {
            ev.last_seen = item.observed_at;
        }
        let e = format!("{}/{}", item.source, item.id);
        push_evidence(ev, e);
    }

    /// Updates the event's description (title, accounts, scores) and, for posts, its profile and
    /// the inverted index.
    fn describe(
        &mut self,
        slot: u32,
        item: &Item,
        analysis: &Analysis,
        child: bool,
        f: &Features,
        sig: Option<Signature>,
    ) {
        let t = secs(&item.observed_at);
        let rank = title_rank(item, child);
        let author_kind = if item.platform == Platform::Portal {
            Some("official")
        } else {
            item.extra.get("author_kind").and_then(Value::as_str)
        };
        let account = word_key(
            KIND_AUTHOR,
            &format!(
                "{}\u{1f}{}",
                item.source,
                item.author
                    .as_deref()
                    .unwrap_or(if item.platform == Platform::Portal {
                        ""
                    } else {
                        "?"
                    })
            ),
        );
        let has_account = item.author.is_some() || item.platform == Platform::Portal;
        let source = word_key(KIND_SOURCE, &item.source);

        let mut new_sig = None;
        // Profile features that entered (true) or left (false) the event's profile.
        let mut index: Vec<(u64, bool)> = Vec::new();
        {
            let ev = self.slots[slot as usize].as_mut().expect("slot is live");
            if rank > ev.title_rank || ev.title.is_empty() {
                let h = headline(item);
                if !h.is_empty() {
                    ev.title = h;
                    ev.title_rank = rank;
                }
            }
            ev.platforms |= platform_bit(item.platform);
            ev.counts.platforms = ev.platforms.count_ones();
            if !ev.sources.contains(&source) && ev.sources.len() < SOURCES_CAP {
                ev.sources.push(source);
                ev.counts.sources = ev.sources.len() as u32;
            }
            if has_account {
                let list = match author_kind {
                    Some("official") => Some(&mut ev.official),
                    Some("media") => Some(&mut ev.media),
                    _ => None,
                };
                if let Some(list) = list {
                    if !list.contains(&account) && list.len() < ACCOUNTS_CAP {
                        list.push(account);
                    }
                }
                ev.counts.official = ev.official.len() as u32;
                ev.counts.media = ev.media.len() as u32;
            }
            let sens = finite(analysis.sensitivity).clamp(0.0, 1.0);
            ev.sensitivity = ev.sensitivity.max(sens);
            ev.sentiment_sum += finite(analysis.sentiment).clamp(-1.0, 1.0);
            ev.sentiment_n += 1;
            for topic in &analysis.topics {
                if !topic.trim().is_empty()
                    && !ev.topics.contains(topic)
                    && ev.topics.len() < TOPICS_CAP
                {
                    ev.topics.push(topic.clone());
                    index.push((word_key(KIND_TOPIC, topic), true));
                }
            }
            ev.topic_n.resize(ev.topics.len(), 0);
            push_evidence(ev, format!("{}/{}", item.source, item.id));
            if !child {
                ev.posts = ev.posts.saturating_add(1);
                if let Some(p) = &f.place {
                    let (added, gone) = tally(&mut ev.regions, &p.name, p.code.as_deref());
                    if added {
                        index.push((p.key, true));
                    }
                    if let Some(g) = gone {
                        index.push((word_key(KIND_PLACE, &g), false));
                    }
                }
                if let Some((h, c)) = &f.category {
                    let (added, gone) = tally(&mut ev.categories, c, None);
                    if added {
                        index.push((*h, true));
                    }
                    if let Some(g) = gone {
                        index.push((word_key(KIND_CATEGORY, &g), false));
                    }
                }
                if let Some(d) = &analysis.department {
                    tally(&mut ev.departments, d, None);
                }
                if let Some(h) = analysis.handling_class {
                    tally(&mut ev.handling, h.as_str(), None);
                }
                if !analysis.response_subject.is_empty() && sens > ev.response_sensitivity {
                    ev.response_subject = analysis.response_subject.clone();
                    ev.response_sensitivity = sens;
                }
                for (h, _) in &f.topics {
                    if let Some(i) = ev.topics.iter().position(|x| word_key(KIND_TOPIC, x) == *h) {
                        ev.topic_n[i] = ev.topic_n[i].saturating_add(1);
                    }
                }
                let cap = kw_cap(ev.posts);
                for (h, word) in &f.keywords {
                    profile_add(&mut ev.keywords, *h, word, cap, &mut index);
                }
                for (h, tag) in &f.tags {
                    profile_add(&mut ev.tags, *h, tag, TAGS_PROFILE, &mut index);
                }
                if let Some(sig) = sig {
                    // Keep a few distinct wordings of the event, not every reprint.
                    if ev.sigs.len() < FPS_PER_EVENT
                        && ev.sigs.iter().all(|s| similarity(s, &sig) < 0.8)
                    {
                        ev.sigs.push(sig);
                        new_sig = Some((sig, (ev.sigs.len() - 1) as u8));
                    }
                }
            }
        }
        if !child {
            for h in f
                .keywords
                .iter()
                .chain(&f.tags)
                .map(|k| k.0)
                .chain(f.place.as_ref().map(|p| p.key))
                .chain(f.topics.iter().map(|x| x.0))
                .chain(f.category.as_ref().map(|c| c.0))
            {
                self.df.entry(h).or_insert(Decayed { v: 0.0, t }).bump(t);
            }
            self.docs.bump(t);
            self.slot_mut(slot).recent.bump(t);
        }
        for (h, added) in index {
            if added {
                self.postings.entry(h).or_default().add(slot);
            } else {
                self.unindex(h, slot);
            }
        }
        if let Some((sig, idx)) = new_sig {
            for bk in lsh_keys(&sig) {
                let bucket = self.lsh.entry(bk).or_default();
                if bucket.len() >= BUCKET_CAP {
                    bucket.remove(0);
                }
                bucket.push(FpEntry { slot, idx });
            }
        }
    }

    /// Removes the event in `slot` from the posting list of feature `h`.
    fn unindex(&mut self, h: u64, slot: u32) {
        if let Some(p) = self.postings.get_mut(&h) {
            if p.remove(slot) {
                self.postings.remove(&h);
            }
        }
    }

    /// Moves the event's curve to `t` and renders the snapshot.
    fn commit(&mut self, slot: u32, t: f64) -> Event {
        let rules = self.rules;
        let ev = self.slot_mut(slot);
        let now = t.max(ev.latest_secs());
        let v = ev.bins.last_hour(&ALL_KINDS, now);
        if ev.size_at_horizon.is_none() && now >= ev.first_secs() + HORIZON_SECS {
            ev.size_at_horizon = Some(ev.size());
        }
        ev.curve.update(&rules, now, v);
        let ev = self.slot(slot);
        self.render(ev, now, None)
    }

    fn render(&self, ev: &EventState, now: f64, stage: Option<Stage>) -> Event {
        let offset = *ev.last_seen.offset();
        let items_v = ev.bins.last_hour(&[Kind::Items], now);
        let reposts_v = ev.bins.last_hour(&[Kind::Reposts], now);
        let comments_v = ev.bins.last_hour(&[Kind::Comments], now);
        let velocity = items_v + reposts_v + comments_v;
        let before = ev.bins.hour_before(&ALL_KINDS, now);
        let acceleration = velocity - before;
        let origin = ev.first_secs();
        let o = outlook(
            &self.kernel,
            &ev.intensity,
            origin,
            now,
            ev.size_at_horizon.map(|s| s as f64),
            (ev.curve.wave_peak_v, ev.curve.wave_peak_at),
        );
        let stage = stage.unwrap_or(ev.curve.stage);
        let age_h = (now - origin).max(0.0) / 3600.0;
        let mut reasons = Vec::with_capacity(4);
        let stage_text = match (stage, ev.curve.fade) {
            (Stage::Fading, Some(FadeCause::Cooled)) => format!(
                "1小时内新增 {} 条，已降至峰值 {}/小时 的 {:.0}%，进入消退期",
                zh_count(velocity),
                zh_count(ev.curve.wave_peak_v),
                100.0 * velocity / ev.curve.wave_peak_v.max(1e-9)
            ),
            (Stage::Fading, _) if ev.curve.flares == 0 => {
                format!("首次发现已 {age_h:.1} 小时，超过 24 小时，进入消退期")
            }
            (Stage::Fading, _) => "再次升温后已超过 24 小时，进入消退期".to_string(),
            (s, _) if ev.curve.flares > 0 => format!(
                "消退后再次升温（第 {} 次），升温后 {:.1} 小时，处于{}期",
                ev.curve.flares,
                (now - ev.curve.wave_origin).max(0.0) / 3600.0,
                s.label()
            ),
            (Stage::Emerging, _) => format!("首次发现后 {age_h:.1} 小时，处于萌芽期（0–2 小时）"),
            (Stage::Spreading, _) => format!("首次发现后 {age_h:.1} 小时，处于扩散期（2–6 小时）"),
            (_, _) => format!("首次发现后 {age_h:.1} 小时，处于高潮期（6–24 小时）"),
        };
        let stage_rule = match (stage, ev.curve.fade) {
            (Stage::Fading, Some(FadeCause::Cooled)) => "curve:cooled",
            _ if ev.curve.flares > 0 => "curve:flare",
            _ => "curve:2h/6h/24h",
        };
        reasons.push(Reason::new("stage", stage_rule, stage_text));
        let mut parts = Vec::with_capacity(3);
        for (v, what) in [(reposts_v, "转发"), (comments_v, "评论"), (items_v, "帖文")] {
            if v >= 0.5 {
                parts.push(format!("{what} {} 条", zh_count(v)));
            }
        }
        let velocity_text = if parts.is_empty() {
            "1小时内无新增".to_string()
        } else {
            format!(
                "1小时内新增{}，合计 {} 条/小时（前1小时 {} 条）",
                parts.join("、"),
                zh_count(velocity),
                zh_count(before)
            )
        };
        reasons.push(Reason::new("velocity", "velocity:1h", velocity_text).weighted(velocity));
        let forecast_text = if o.method == "observed" {
            format!("24小时规模 {}（已观测）", zh_count(o.size))
        } else {
            format!(
                "预计24小时规模 {} ({}–{})，当前 {}，分支比 {:.2}",
                zh_count(o.size),
                zh_count(o.low),
                zh_count(o.high),
                zh_count(ev.size() as f64),
                o.branching
            )
        };
        reasons.push(
            Reason::new("forecast", format!("forecast:{}", o.method), forecast_text)
                .weighted(o.size),
        );
        reasons.push(Reason::new(
            "spread",
            "spread:accounts",
            format!(
                "涉及 {} 个平台、{} 个信源，官方账号 {} 个、媒体账号 {} 个",
                ev.counts.platforms, ev.counts.sources, ev.counts.official, ev.counts.media
            ),
        ));

        let mut kws: Vec<&Kw> = ev.keywords.iter().collect();
        kws.sort_by(|a, b| b.w.total_cmp(&a.w));
        let mut evidence = Vec::with_capacity(1 + ev.evidence_recent.len());
        evidence.push(ev.evidence_first.clone());
        for e in &ev.evidence_recent {
            if !evidence.contains(e) {
                evidence.push(e.clone());
            }
        }
        let region = top(&ev.regions);
        let mut extra = serde_json::Map::new();
        if ev.curve.flares > 0 {
            extra.insert("flares".into(), Value::from(ev.curve.flares));
        }
        if let Some(code) = region.and_then(|r| r.code.clone()) {
            extra.insert("region_code".into(), Value::from(code));
        }
        Event {
            schema_version: SCHEMA_VERSION,
            event_id: ev.id.clone(),
            title: ev.title.clone(),
            keywords: kws
                .into_iter()
                .take(KW_OUT)
                .map(|k| k.word.clone())
                .collect(),
            first_seen: ev.first_seen,
            first_source: ev.first_source.clone(),
            first_url: ev.first_url.clone(),
            last_seen: ev.last_seen,
            updated_at: at(&offset, now),
            stage,
            velocity,
            acceleration,
            forecast_peak: Forecast {
                size: o.size,
                low: o.low,
                high: o.high,
                peak_at: Some(at(&offset, o.peak_at)),
                method: o.method.to_string(),
            },
            grade: None,
            counts: ev.counts.clone(),
            sensitivity: ev.sensitivity,
            sentiment: if ev.sentiment_n > 0 {
                ev.sentiment_sum / ev.sentiment_n as f64
            } else {
                0.0
            },
            category: top(&ev.categories).map(|t| t.name.clone()),
            department: top(&ev.departments).map(|t| t.name.clone()),
            region: region.map(|t| t.name.clone()),
            response_subject: ev.response_subject.clone(),
            handling_class: top(&ev.handling).and_then(|t| match t.name.as_str() {
                "询问诉求" => Some(yuqing_core::HandlingClass::Inquiry),
                "恶意传播炒作" => Some(yuqing_core::HandlingClass::Hype),
                "建设性意见" => Some(yuqing_core::HandlingClass::Suggestion),
                _ => None,
            }),
            topics: ev.topics.clone(),
            evidence,
            reasons,
            extra,
        }
    }

    /// Moves every open event's curve to event time `now` and returns the snapshots of those whose
    /// stage changed (for example to 消退 because they went quiet, or past 24 hours).
    pub fn advance(&mut self, now: DateTime<FixedOffset>) -> Vec<Event> {
        let t = secs(&now);
        let rules = self.rules;
        let mut changed = Vec::new();
        for slot in 0..self.slots.len() {
            let Some(ev) = self.slots[slot].as_mut() else {
                continue;
            };
            let when = t.max(ev.latest_secs());
            let before = ev.curve.stage;
            let v = ev.bins.last_hour(&ALL_KINDS, when);
            if ev.size_at_horizon.is_none() && when >= ev.first_secs() + HORIZON_SECS {
                ev.size_at_horizon = Some(ev.size());
            }
            if ev.curve.update(&rules, when, v) != before {
                changed.push((slot as u32, when));
            }
        }
        changed
            .into_iter()
            .map(|(s, when)| self.render(self.slot(s), when, None))
            .collect()
    }

    /// Closes events quiet since `now - quiet_after` (event time) and returns their last
    /// snapshots, stage `Fading`, oldest first; also returns events closed early at a hard cap
    /// since the last call.
    pub fn expire(&mut self, now: DateTime<FixedOffset>) -> Vec<Event> {
        let t = secs(&now);
        let quiet = self.cfg.quiet_after.as_secs_f64();
        let gone: Vec<u32> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                e.as_ref()
                    .filter(|e| t - e.latest_secs() > quiet)
                    .map(|_| i as u32)
            })
            .collect();
        let mut out = std::mem::take(&mut self.pending);
        for slot in gone {
            out.push(self.close(slot, t));
            H.closed_quiet.inc();
        }
        out.sort_by(|a, b| {
            a.last_seen
                .cmp(&b.last_seen)
                .then_with(|| a.event_id.cmp(&b.event_id))
        });
        if !self.df.is_empty() {
            self.df.retain(|_, d| d.at(t) >= 0.05);
        }
        let horizon = self.cfg.reobserve_horizon.as_secs_f64();
        if self.swept.is_nan() || t - self.swept >= horizon / 16.0 {
            let forgotten = self.forget_stale_keys(t, t - horizon);
            self.swept = t;
            if forgotten > 0 {
                debug!(
                    forgotten,
                    tracked_items = self.tracked_items(),
                    "Forgot item keys not seen within reobserve_horizon."
                );
            }
        }
        self.shrink();
        metrics::OPEN.set(self.live as i64);
        metrics::TRACKED.set(self.tracked_items() as i64);
        out
    }

    /// Forgets the item, thread and page keys of open events last of use before `cutoff` (event
    /// time), and the light children last seen before it; returns how many. Keys of unknown age
    /// (none after an import) count from `t`.
    fn forget_stale_keys(&mut self, t: f64, cutoff: f64) -> usize {
        let cut = child_time(cutoff);
        let mut forgotten = 0usize;
        let EventTracker {
            slots,
            refs,
            urls,
            children,
            ..
        } = self;
        for (i, cell) in slots.iter_mut().enumerate() {
            let Some(ev) = cell.as_mut() else {
                continue;
            };
            // Nothing of an event is older than its first item.
            if ev.first_secs() >= cutoff {
                continue;
            }
            let slot = i as u32;
            ev.keys.retain(|k| {
                if let Some(r) = refs.get_mut(k).filter(|r| r.slot == slot) {
                    if r.touched.is_nan() {
                        r.touched = t;
                    }
                    if r.touched >= cutoff {
                        return true;
                    }
                    refs.remove(k);
                    forgotten += 1;
                    return false;
                }
                if let Some(p) = urls.get_mut(k).filter(|p| p.slot == slot) {
                    if p.touched.is_nan() {
                        p.touched = t;
                    }
                    if p.touched >= cutoff {
                        return true;
                    }
                    urls.remove(k);
                    forgotten += 1;
                    return false;
                }
                // Held by another event now (or already gone): not this event's to list.
                false
            });
            let before = ev.children.len();
            ev.children.retain(|_, seen| *seen >= cut);
            let gone = before - ev.children.len();
            *children -= gone;
            forgotten += gone;
            if ev.keys.capacity() > 64 && ev.keys.len() * 4 < ev.keys.capacity() {
                ev.keys.shrink_to_fit();
            }
            if ev.children.capacity() > 64 && ev.children.len() * 4 < ev.children.capacity() {
                ev.children.shrink_to_fit();
            }
        }
        forgotten
    }

    fn shrink(&mut self) {
        if self.refs.capacity() > 1024 && self.refs.len() * 4 < self.refs.capacity() {
            self.refs.shrink_to_fit();
        }
        if self.lsh.capacity() > 1024 && self.lsh.len() * 4 < self.lsh.capacity() {
            self.lsh.shrink_to_fit();
        }
        if self.postings.capacity() > 1024 && self.postings.len() * 4 < self.postings.capacity() {
            self.postings.shrink_to_fit();
        }
        if self.urls.capacity() > 1024 && self.urls.len() * 4 < self.urls.capacity() {
            self.urls.shrink_to_fit();
        }
        if self.df.capacity() > 1024 && self.df.len() * 4 < self.df.capacity() {
            self.df.shrink_to_fit();
        }
        if self.ids.capacity() > 1024 && self.ids.len() * 4 < self.ids.capacity() {
            self.ids.shrink_to_fit();
        }
    }

    /// Removes an event and everything that points at it; returns its final snapshot.
    fn close(&mut self, slot: u32, t: f64) -> Event {
        let Some(ev) = self.slots[slot as usize].take() else {
            unreachable!("close is called on live slots only")
        };
        self.live -= 1;
        self.free.push(slot);
        self.children -= ev.children.len();
        for k in &ev.keys {
            if self.refs.get(k).is_some_and(|r| r.slot == slot) {
                self.refs.remove(k);
            }
            if self.urls.get(k).is_some_and(|p| p.slot == slot) {
                self.urls.remove(k);
            }
        }
        for sig in &ev.sigs {
            for bk in lsh_keys(sig) {
                if let Some(b) = self.lsh.get_mut(&bk) {
                    b.retain(|e| e.slot != slot);
                    if b.is_empty() {
                        self.lsh.remove(&bk);
                    }
                }
            }
        }
        for h in profile_keys(&ev) {
            self.unindex(h, slot);
        }
        self.ids.remove(&word_key(KIND_EVENT, &ev.id));
        let now = t.max(ev.latest_secs());
        let mut snap = self.render(&ev, now, Some(Stage::Fading));
        snap.updated_at = at(ev.last_seen.offset(), now);
        debug!(event = %ev.id, items = ev.counts.items, "Event closed.");
        snap
    }

    /// Closes the quietest events when a hard cap is exceeded.
    fn enforce_caps(&mut self, t: f64) {
        if self.live <= self.cfg.max_open_events && self.refs.len() <= self.cfg.max_tracked_items {
            return;
        }
        let mut order: Vec<(f64, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (e.latest_secs(), i as u32)))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        // Close 1% at once so that the sort is paid rarely.
        let mut budget = (self.live / 100).max(1);
        let mut closed = 0usize;
        for (_, slot) in order {
            let over = self.live > self.cfg.max_open_events
                || self.tracked_items() > self.cfg.max_tracked_items;
            if !over && budget == 0 {
                break;
            }
            let snap = self.close(slot, t);
            budget = budget.saturating_sub(1);
            closed += 1;
            H.closed_capacity.inc();
            if self.pending.len() < PENDING_CAP {
                self.pending.push(snap);
            }
        }
        warn!(
            closed,
            open = self.live,
            tracked_items = self.tracked_items(),
            max_open_events = self.cfg.max_open_events,
            max_tracked_items = self.cfg.max_tracked_items,
            "Event capacity reached; closed the quietest events early."
        );
        metrics::OPEN.set(self.live as i64);
    }

    /// The tracker's whole state as JSON, for the daemon's checkpoint.
    ///
    /// [`EventTracker::import`] of it gives a tracker that behaves exactly like this one.
    pub fn export(&self) -> Value {
        let cp = Checkpoint {
            format: CHECKPOINT_FORMAT,
            slots: self.slots.len(),
            events: self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.as_ref().map(|e| (i as u32, e.clone())))
                .collect(),
            free: self.free.clone(),
            refs: sorted(&self.refs),
            lsh: sorted(&self.lsh),
            postings: sorted(&self.postings),
            urls: sorted(&self.urls),
            swept: self.swept,
            df: sorted(&self.df),
            docs: self.docs,
            pending: self.pending.clone(),
        };
        serde_json::to_value(&cp).expect("an events checkpoint always serializes")
    }

    /// Restores a tracker from [`EventTracker::export`]'s output, under `cfg` (which may differ
    /// from the exporting tracker's: thresholds apply from now on).
    pub fn import(cfg: &EventsConfig, state: Value) -> Result<EventTracker, EventsError> {
        if let Some(f) = state.get("format").and_then(Value::as_u64) {
            if f != u64::from(CHECKPOINT_FORMAT) {
                return Err(EventsError::Version {
                    found: u32::try_from(f).unwrap_or(u32::MAX),
                    supported: CHECKPOINT_FORMAT,
                });
            }
        }
        let cp: Checkpoint = serde_json::from_value(state)?;
        let mut t = EventTracker::new(cfg);
        if cp.slots > 100_000_000 {
            return Err(EventsError::Inconsistent(format!("{} slots", cp.slots)));
        }
        t.slots = vec![None; cp.slots];
        for (slot, ev) in cp.events {
            let cell = t.slots.get_mut(slot as usize).ok_or_else(|| {
                EventsError::Inconsistent(format!("event slot {slot} out of range"))
            })?;
            if cell.is_some() {
                return Err(EventsError::Inconsistent(format!(
                    "event slot {slot} used twice"
                )));
            }
            t.ids.insert(word_key(KIND_EVENT, &ev.id), slot);
            t.children += ev.children.len();
            // Light children of an older checkpoint: seen at the event's latest activity at most.
            let latest = child_time(ev.latest_secs());
            let mut ev = ev;
            for seen in ev.children.values_mut() {
                if *seen == 0 {
                    *seen = latest;
                }
            }
            *cell = Some(ev);
            t.live += 1;
        }
        for &f in &cp.free {
            if t.is_live(f) || f as usize >= t.slots.len() {
                return Err(EventsError::Inconsistent(format!(
                    "free slot {f} is in use or out of range"
                )));
            }
        }
        if t.free.len() + cp.free.len() + t.live != t.slots.len() {
            return Err(EventsError::Inconsistent(
                "free list and events do not cover the slots".into(),
            ));
        }
        t.free = cp.free;
        for (k, mut r) in cp.refs {
            if !t.is_live(r.slot) {
                return Err(EventsError::Inconsistent(format!(
                    "item key {k:016x} names a closed event"
                )));
            }
            if r.touched.is_nan() {
                r.touched = t.slot(r.slot).latest_secs();
            }
            t.refs.insert(k, r);
        }
        for (k, b) in cp.lsh {
            if b.iter().any(|e| !t.is_live(e.slot)) {
                return Err(EventsError::Inconsistent(
                    "fingerprint index names a closed event".into(),
                ));
            }
            t.lsh.insert(k, b);
        }
        for (k, p) in cp.postings {
            if p.slots.iter().any(|s| !t.is_live(*s)) || (p.n as usize) < p.slots.len() {
                return Err(EventsError::Inconsistent(
                    "profile index names a closed event".into(),
                ));
            }
            t.postings.insert(k, p);
        }
        for (k, mut s) in cp.urls {
            if !t.is_live(s.slot) {
                return Err(EventsError::Inconsistent(
                    "page index names a closed event".into(),
                ));
            }
            if s.touched.is_nan() {
                s.touched = t.slot(s.slot).latest_secs();
            }
            t.urls.insert(k, s);
        }
        t.swept = cp.swept;
        t.df = cp.df.into_iter().collect();
        t.docs = cp.docs;
        t.pending = cp.pending;
        metrics::OPEN.set(t.live as i64);
        metrics::TRACKED.set(t.tracked_items() as i64);
        Ok(t)
    }
}

/// Every feature of an event's profile, as keys of the inverted index.
fn profile_keys(ev: &EventState) -> Vec<u64> {
    ev.keywords
        .iter()
        .chain(&ev.tags)
        .map(|k| k.h)
        .chain(ev.regions.iter().map(|r| word_key(KIND_PLACE, &r.name)))
        .chain(
            ev.categories
                .iter()
                .map(|c| word_key(KIND_CATEGORY, &c.name)),
        )
        .chain(ev.topics.iter().map(|x| word_key(KIND_TOPIC, x)))
        .collect()
}

/// Counts a feature in a bounded profile (space-saving: a newcomer replaces the lightest entry
/// and inherits its count); records what entered and left the profile in `index`.
fn profile_add(list: &mut Vec<Kw>, h: u64, word: &str, cap: usize, index: &mut Vec<(u64, bool)>) {
    if let Some(k) = list.iter_mut().find(|k| k.h == h) {
        k.w += 1.0;
    } else if list.len() < cap {
        list.push(Kw {
            h,
            w: 1.0,
            word: word.to_string(),
        });
        index.push((h, true));
    } else if !list.is_empty() {
        let (i, _) = list
            .iter()
            .enumerate()
            .fold((0, f64::INFINITY), |(bi, bw), (i, k)| {
                if k.w < bw {
                    (i, k.w)
                } else {
                    (bi, bw)
                }
            });
        let min_w = list[i].w;
        index.push((list[i].h, false));
        list[i] = Kw {
            h,
            w: min_w + 1.0,
            word: word.to_string(),
        };
        index.push((h, true));
    }
}

fn push_evidence(ev: &mut EventState, e: String) {
    if ev.evidence_recent.last() == Some(&e) {
        return;
    }
    if ev.evidence_recent.len() >= EVIDENCE_RECENT {
        ev.evidence_recent.remove(0);
    }
    ev.evidence_recent.push(e);
}

/// Adds count deltas (reposts, comments, likes, views) observed over `[from, to]`.
fn apply(ev: &mut EventState, kernel: &Kernel, d: [u64; 4], from: f64, to: f64) {
    ev.counts.reposts = ev.counts.reposts.saturating_add(d[0]);
    ev.counts.comments = ev.counts.comments.saturating_add(d[1]);
    ev.counts.likes = ev.counts.likes.saturating_add(d[2]);
    ev.counts.views = ev.counts.views.saturating_add(d[3]);
    let grow = (d[0] + d[1]) as f64;
    if grow > 0.0 {
        ev.intensity.add(kernel, grow, from, to);
        ev.bins.add(Kind::Reposts, d[0] as f64, from, to);
        ev.bins.add(Kind::Comments, d[1] as f64, from, to);
    }
}
