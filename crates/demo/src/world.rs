//! The generated world: every post, repost, comment and reply with its simulated publish time.
//!
//! [`World::build`] turns a [`Script`] and a start time into a timeline. Times are seconds relative
//! to the start (negative for the archive). Everything is drawn from seeded ChaCha generators,
//! one stream per component, so the same seed and script give the same world. Post texts are
//! rendered while building; repost and comment texts are rendered on demand from their own seeds.

use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use yuqing_core::{Metrics, Platform};

use crate::hawkes::{self, HawkesParams};
use crate::script::{Incident, Region, Script};
use crate::text::{self, Fillers};

/// Weibo ids start here (16 digits, increasing with time, like real mids).
const WEIBO_ID_BASE: u64 = 4_990_000_000_000_000;
/// Weibo comment ids start here.
const COMMENT_ID_BASE: u64 = 4_995_000_000_000_000;

/// A post's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// An ordinary user (index into [`World::users`]).
    Citizen(u32),
    /// A configured account (index into the script's accounts).
    Account(u16),
}

/// An ordinary Weibo / forum user.
#[derive(Debug, Clone)]
pub struct User {
    /// The uid.
    pub uid: u64,
    /// The screen name.
    pub name: String,
    /// Followers.
    pub followers: u64,
}

/// Doc flags.
pub mod flags {
    /// Weibo: counts ≥ 10 000 are served as strings ("1.2万").
    pub const STRING_COUNTS: u8 = 1;
    /// Weibo: `pics` is served as an object keyed "0", "1", ….
    pub const PICS_OBJECT: u8 = 2;
    /// Weibo: a retweet of a deleted post.
    pub const DELETED_RETWEET: u8 = 4;
    /// Weibo: the account's pinned post.
    pub const PINNED: u8 = 8;
}

/// A top-level post: a Weibo post, a portal article, a forum thread, a news article or a board
/// message.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Where it is published.
    pub platform: Platform,
    /// Seconds after the start.
    pub t: i64,
    /// Its id on its site.
    pub id: u64,
    /// Who wrote it.
    pub author: Author,
    /// The incident it belongs to.
    pub incident: Option<u16>,
    /// Portal section index.
    pub section: u8,
    /// Title, where the site has titles.
    pub title: Option<String>,
    /// Plain text.
    pub text: String,
    /// Pool of its comments' texts.
    pub comment_pool: u32,
    /// Pool of its reposts' texts.
    pub repost_pool: u32,
    /// Its reposts in [`World::reposts`] (Weibo only), by time.
    pub reposts: Range<u32>,
    /// Its comments / replies in [`World::comments`], by time.
    pub comments: Range<u32>,
    /// Board: the government's reply (time, text).
    pub reply: Option<(i64, String)>,
    /// Weibo: the doc it quote-retweets.
    pub retweet_of: Option<u32>,
    /// See [`flags`].
    pub flags: u8,
    /// Number of pictures.
    pub pics: u8,
    /// Likes that come from the author's audience regardless of reposts.
    pub like_base: f64,
    /// Likes per repost or comment.
    pub like_ratio: f64,
    /// A town named in the text (the place hint).
    pub town: String,
    /// Seed for lazily rendered parts.
    pub seed: u64,
}

/// A repost of a Weibo doc.
#[derive(Debug, Clone)]
pub struct Repost {
    /// Seconds after the start.
    pub t: i64,
    /// Its mblog id.
    pub id: u64,
    /// Index into [`World::users`].
    pub author: u32,
    /// The repost it reposts (index into [`World::reposts`]); `None` for the root doc.
    pub parent: Option<u32>,
    /// The root doc.
    pub doc: u32,
    /// Text seed.
    pub seed: u64,
}

/// A comment, forum reply or news comment.
#[derive(Debug, Clone)]
pub struct Comment {
    /// Seconds after the start.
    pub t: i64,
    /// Its id.
    pub id: u64,
    /// Index into [`World::users`].
    pub author: u32,
    /// The comment it answers (index into [`World::comments`]).
    pub reply_to: Option<u32>,
    /// The doc.
    pub doc: u32,
    /// Likes it collects over its life.
    pub like_weight: f64,
    /// Text seed.
    pub seed: u64,
}

/// A pool of templates and the incident whose slots fill it.
#[derive(Debug, Clone)]
pub struct Pool {
    /// The incident, for its slots and place.
    pub incident: Option<u16>,
    /// Templates.
    pub templates: Vec<String>,
}

/// The generated timeline and its indexes.
#[derive(Debug)]
pub struct World {
    /// The script it was built from.
    pub script: Script,
    /// Time 0.
    pub start: DateTime<Utc>,
    /// Ordinary users.
    pub users: Vec<User>,
    /// Every doc, ordered by time within each platform index below.
    pub docs: Vec<Doc>,
    /// Every repost, grouped by doc, by time within a doc.
    pub reposts: Vec<Repost>,
    /// Every comment, grouped by doc, by time within a doc.
    pub comments: Vec<Comment>,
    /// Text pools.
    pub pools: Vec<Pool>,
    /// Doc indexes of each platform (`weibo`, `portal`, …), by time.
    pub by_platform: HashMap<Platform, Vec<u32>>,
    /// Portal doc indexes per section, by time.
    pub by_section: Vec<Vec<u32>>,
    /// Weibo timeline entries per uid, by time: `(t, doc, repost)`.
    pub timelines: HashMap<u64, Vec<(i64, u32, Option<u32>)>>,
    /// Weibo mblog id → (doc, repost).
    pub weibo_ids: HashMap<u64, (u32, Option<u32>)>,
    /// Site id → doc, for the other platforms.
    pub site_ids: HashMap<(Platform, u64), u32>,
    /// Comment id → comment index.
    pub comment_ids: HashMap<u64, u32>,
    /// Sorted times of every incident's posts, for the hot list.
    pub incident_times: Vec<Vec<i64>>,
}

/// Mixes a label into the seed.
fn sub_seed(seed: u64, label: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

fn rng_for(seed: u64, label: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(sub_seed(seed, label))
}

/// A log-normal draw with the given median.
fn lognormal<R: Rng + ?Sized>(median: f64, sigma: f64, rng: &mut R) -> f64 {
    LogNormal::new(median.max(1e-9).ln(), sigma)
        .map(|d| d.sample(rng))
        .unwrap_or(median)
}

fn pick<'a, R: Rng + ?Sized>(list: &'a [String], rng: &mut R) -> &'a str {
    if list.is_empty() {
        ""
    } else {
        &list[rng.gen_range(0..list.len())]
    }
}

fn weighted<'a, R: Rng + ?Sized>(items: &'a [(String, f64)], rng: &mut R) -> Option<&'a str> {
    let total: f64 = items.iter().map(|(_, w)| w.max(0.0)).sum();
    if total <= 0.0 {
        return None;
    }
    let mut x = rng.gen::<f64>() * total;
    for (k, w) in items {
        x -= w.max(0.0);
        if x <= 0.0 {
            return Some(k);
        }
    }
    items.last().map(|(k, _)| k.as_str())
}

/// "11月22日".
pub fn cn_date(t: DateTime<FixedOffset>) -> String {
    format!("{}月{}日", t.month(), t.day())
}

/// A doc under construction.
struct Draft {
    platform: Platform,
    t: i64,
    author: Author,
    incident: Option<u16>,
    section: u8,
    template: String,
    pool_incident: Option<u16>,
    comment_pool: u32,
    repost_pool: u32,
    reach: f64,
    reply: Option<(i64, String)>,
    retweet_key: Option<String>,
    key: Option<String>,
    pics: u8,
    flags: u8,
}

struct Builder<'a> {
    script: &'a Script,
    pools: Vec<Pool>,
    pool_index: HashMap<(Option<u16>, String), u32>,
}

impl Builder<'_> {
    fn pool(&mut self, incident: Option<u16>, name: &str, templates: &[String]) -> u32 {
        let key = (incident, name.to_string());
        if let Some(&i) = self.pool_index.get(&key) {
            return i;
        }
        let i = self.pools.len() as u32;
        self.pools.push(Pool {
            incident,
            templates: templates.to_vec(),
        });
        self.pool_index.insert(key, i);
        i
    }

    /// The pool `name` of an incident, falling back to a background pool.
    fn incident_pool(&mut self, inc: u16, name: &str, fallback: &str) -> u32 {
        let script = self.script;
        match script.incidents[inc as usize].pools.get(name) {
            Some(t) => self.pool(Some(inc), name, t),
            None => self.background_pool(fallback),
        }
    }

    fn background_pool(&mut self, name: &str) -> u32 {
        let b = &self.script.background;
        let list: &[String] = match name {
            "weibo_comment" => &b.weibo_comment,
            "repost" => &b.repost,
            "forum_reply" => &b.forum_reply,
            "news_comment" => &b.news_comment,
            "board_reply" => &b.board_reply,
            "account" => &b.account,
            "forum" => &b.forum,
            "news" => &b.news,
            "board" => &b.board,
            _ => &b.weibo,
        };
        let list = list.to_vec();
        self.pool(None, name, &list)
    }
}

/// The variables of a text: place, hashtag and times.
pub fn vars_for(
    script: &Script,
    incident: Option<&Incident>,
    town: &str,
    start: DateTime<Utc>,
    t: i64,
) -> Vec<(&'static str, String)> {
    let cst = yuqing_core::clock::cst();
    let at = (start + chrono::Duration::seconds(t)).with_timezone(&cst);
    let region: &Region = incident.map_or(&script.world.site.home, |i| &i.region);
    let mut v = vec![
        ("province", region.province.clone()),
        ("city", region.city.clone()),
        ("county", region.county.clone()),
        ("town", town.to_string()),
        ("date", cn_date(at)),
        ("time", format!("{:02}:{:02}", at.hour(), at.minute())),
    ];
    if let Some(inc) = incident {
        let s =
            (start + chrono::Duration::from_std(inc.start).unwrap_or_default()).with_timezone(&cst);
        v.push(("tag", inc.hashtag.clone()));
        v.push(("start_date", cn_date(s)));
        v.push(("start_time", format!("{}时{:02}分", s.hour(), s.minute())));
    }
    v
}

impl World {
    /// Builds the world of `script` starting at `start`.
    pub fn build(script: Script, start: DateTime<Utc>) -> World {
        let seed = script.world.seed;
        let horizon = script.world.horizon.as_secs() as i64;
        let scale = script.world.scale.clone();
        let mut b = Builder {
            script: &script,
            pools: Vec::new(),
            pool_index: HashMap::new(),
        };

        // Users.
        let mut rng = rng_for(seed, "users");
        let lex = &script.lexicon.slots;
        let users: Vec<User> = (0..scale.users)
            .map(|i| {
                let f = Fillers {
                    vars: &[],
                    local: None,
                    lexicon: lex,
                };
                let mut name = text::render("{nick}", &f, &mut rng);
                let uid = 5_000_000_000 + (i as u64) * 7_919 + rng.gen_range(0..7_000);
                if name.starts_with("用户") {
                    // Weibo's default names are 用户 + the uid.
                    name = format!("用户{uid}");
                }
                User {
                    uid,
                    name,
                    followers: lognormal(150.0, 1.6, &mut rng) as u64,
                }
            })
            .collect();
        let n_users = users.len().max(1) as u32;

        let mut drafts: Vec<Draft> = Vec::new();
        let sections: Vec<(String, f64)> = script
            .world
            .site
            .sections
            .iter()
            .map(|s| (s.key.clone(), s.weight))
            .collect();
        let mix: Vec<(String, f64)> = script
            .world
            .background_mix
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();

        // Background docs: the archive before the start, then a steady stream.
        let mut rng = rng_for(seed, "background");
        let span = scale.archive_span.as_secs() as i64;
        let background_at = |platform: &str, t: i64, rng: &mut ChaCha8Rng, b: &mut Builder<'_>| {
            let (p, template, section, comment_pool) = match platform {
                "portal" => {
                    let key = weighted(&sections, rng).unwrap_or("").to_string();
                    let sec = sections.iter().position(|(k, _)| *k == key).unwrap_or(0);
                    let list = script
                        .background
                        .portal
                        .get(&key)
                        .cloned()
                        .unwrap_or_default();
                    let cp = b.background_pool("news_comment");
                    (
                        Platform::Portal,
                        pick(&list, rng).to_string(),
                        sec as u8,
                        cp,
                    )
                }
                "forum" => {
                    let cp = b.background_pool("forum_reply");
                    (
                        Platform::Forum,
                        pick(&script.background.forum, rng).to_string(),
                        0,
                        cp,
                    )
                }
                "news" => {
                    let cp = b.background_pool("news_comment");
                    (
                        Platform::News,
                        pick(&script.background.news, rng).to_string(),
                        0,
                        cp,
                    )
                }
                "board" => {
                    let cp = b.background_pool("board_reply");
                    (
                        Platform::Board,
                        pick(&script.background.board, rng).to_string(),
                        0,
                        cp,
                    )
                }
                _ => {
                    let cp = b.background_pool("weibo_comment");
                    (
                        Platform::Weibo,
                        pick(&script.background.weibo, rng).to_string(),
                        0,
                        cp,
                    )
                }
            };
            let reply = if p == Platform::Board {
                let delay = lognormal(20.0 * 3600.0, 0.8, rng) as i64;
                Some((
                    t + delay,
                    pick(&script.background.board_reply, rng).to_string(),
                ))
            } else {
                None
            };
            let mut flags = 0;
            if p == Platform::Weibo && rng.gen_bool(0.02) {
                flags |= flags::DELETED_RETWEET;
            }
            let pics = if p == Platform::Weibo && rng.gen_bool(0.3) {
                rng.gen_range(1..=9)
            } else {
                0
            };
            let repost_pool = b.background_pool("repost");
            Draft {
                platform: p,
                t,
                author: Author::Citizen(rng.gen_range(0..n_users)),
                incident: None,
                section,
                template,
                pool_incident: None,
                comment_pool,
                repost_pool,
                reach: lognormal(1.0, 1.2, rng),
                reply,
                retweet_key: None,
                key: None,
                pics,
                flags,
            }
        };
        for (platform, n) in [
            ("portal", scale.portal_archive),
            ("weibo", scale.weibo_archive),
            ("forum", scale.other_archive),
            ("news", scale.other_archive),
            ("board", scale.other_archive),
        ] {
            for _ in 0..n {
                let t = -rng.gen_range(60..span.max(61));
                drafts.push(background_at(platform, t, &mut rng, &mut b));
            }
        }
        let expected = scale.background_per_minute * horizon as f64 / 60.0;
        let n_bg = poisson_count(expected, &mut rng);
        for _ in 0..n_bg {
            let t = rng.gen_range(0..horizon);
            let platform = weighted(&mix, &mut rng).unwrap_or("weibo").to_string();
            drafts.push(background_at(&platform, t, &mut rng, &mut b));
        }

        // Accounts: pinned posts and their own steady stream.
        let mut rng = rng_for(seed, "accounts");
        for (ai, acc) in script.world.accounts.iter().enumerate() {
            let cp = b.background_pool("weibo_comment");
            let rp = b.background_pool("repost");
            if let Some(pinned) = &acc.pinned {
                drafts.push(Draft {
                    platform: Platform::Weibo,
                    t: -rng.gen_range(20..60) * 86_400,
                    author: Author::Account(ai as u16),
                    incident: None,
                    section: 0,
                    template: pinned.clone(),
                    pool_incident: None,
                    comment_pool: cp,
                    repost_pool: rp,
                    reach: account_reach(acc.followers) * 0.5,
                    reply: None,
                    retweet_key: None,
                    key: None,
                    pics: 1,
                    flags: flags::PINNED,
                });
            }
            let n = poisson_count(acc.posts_per_hour * horizon as f64 / 3600.0, &mut rng);
            let archive = poisson_count(acc.posts_per_hour * 24.0, &mut rng);
            for k in 0..(n + archive) {
                let t = if k < n {
                    rng.gen_range(0..horizon)
                } else {
                    -rng.gen_range(60..86_400)
                };
                drafts.push(Draft {
                    platform: Platform::Weibo,
                    t,
                    author: Author::Account(ai as u16),
                    incident: None,
                    section: 0,
                    template: pick(&script.background.account, &mut rng).to_string(),
                    pool_incident: None,
                    comment_pool: cp,
                    repost_pool: rp,
                    reach: account_reach(acc.followers) * lognormal(1.0, 0.6, &mut rng),
                    reply: None,
                    retweet_key: None,
                    key: None,
                    pics: if rng.gen_bool(0.5) { 1 } else { 0 },
                    flags: if rng.gen_bool(0.4) {
                        flags::STRING_COUNTS
                    } else {
                        0
                    },
                });
            }
        }

        // Incidents: scripted posts, then spontaneous posts from the self-exciting process.
        for (ii, inc) in script.incidents.iter().enumerate() {
            let ii16 = ii as u16;
            let mut rng = rng_for(seed, &format!("incident:{}", inc.id));
            let t0 = inc.start.as_secs() as i64;
            let mult = scale.incidents;
            let repost_pool = b.incident_pool(ii16, "repost", "repost");
            let phase_at = |dt: i64| {
                inc.phases
                    .iter()
                    .rfind(|p| p.after.as_secs() as i64 <= dt)
                    .or(inc.phases.first())
            };
            for post in &inc.post {
                let dt = post.at.as_secs() as i64;
                let Some(platform) = crate::script::platform_of(&post.platform) else {
                    continue;
                };
                let phase = phase_at(dt);
                let author = match script
                    .world
                    .accounts
                    .iter()
                    .position(|a| a.key == post.author)
                {
                    Some(a) => Author::Account(a as u16),
                    None => Author::Citizen(rng.gen_range(0..n_users)),
                };
                let template = match (&post.text, &post.pool) {
                    (Some(t), _) => t.clone(),
                    (None, Some(p)) => pick(&inc.pools[p], &mut rng).to_string(),
                    (None, None) => continue,
                };
                let comments_name = post
                    .comments
                    .clone()
                    .or_else(|| phase.map(|p| p.comments.clone()))
                    .unwrap_or_default();
                let comment_pool =
                    b.incident_pool(ii16, &comments_name, default_comments(platform));
                let reply = match (&post.reply_after, &post.reply) {
                    (Some(after), Some(pool)) => Some((
                        t0 + dt + after.as_secs() as i64,
                        pick(&inc.pools[pool], &mut rng).to_string(),
                    )),
                    _ => None,
                };
                let section = post
                    .section
                    .as_ref()
                    .and_then(|s| script.world.site.sections.iter().position(|x| &x.key == s))
                    .unwrap_or(0) as u8;
                drafts.push(Draft {
                    platform,
                    t: t0 + dt,
                    author,
                    incident: Some(ii16),
                    section,
                    template,
                    pool_incident: Some(ii16),
                    comment_pool,
                    repost_pool,
                    reach: post.reach.unwrap_or(inc.spread.reach) * mult,
                    reply,
                    retweet_key: post.retweet_of.clone(),
                    key: post.key.clone(),
                    pics: post.pics,
                    flags: if rng.gen_bool(0.5) {
                        flags::STRING_COUNTS
                    } else {
                        0
                    },
                });
            }
            let platforms: Vec<(String, f64)> = inc
                .spread
                .platforms
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            let times = hawkes::simulate_arrivals(
                inc.spread.baseline * mult / 3600.0,
                inc.spread.window.as_secs_f64(),
                inc.spread.self_excitation,
                &script.hawkes.kernel,
                (horizon - t0).max(0) as f64,
                scale.max_cascade,
                &mut rng,
            );
            let reply_pool = inc.pools.get("reply");
            for dt in times {
                let dt = dt as i64;
                let Some(phase) = phase_at(dt) else { continue };
                let pname = weighted(&platforms, &mut rng)
                    .unwrap_or("weibo")
                    .to_string();
                let platform = crate::script::platform_of(&pname).unwrap_or(Platform::Weibo);
                let mut template = pick(&inc.pools[&phase.pool], &mut rng).to_string();
                if platform == Platform::Weibo {
                    template = format!("{{opener}}{template}{{closer}}");
                }
                let reply = match (platform, reply_pool) {
                    (Platform::Board, Some(pool)) => Some((
                        t0 + dt + lognormal(10.0 * 3600.0, 0.7, &mut rng) as i64,
                        pick(pool, &mut rng).to_string(),
                    )),
                    (Platform::Board, None) => Some((
                        t0 + dt + lognormal(20.0 * 3600.0, 0.8, &mut rng) as i64,
                        pick(&script.background.board_reply, &mut rng).to_string(),
                    )),
                    _ => None,
                };
                let comment_pool =
                    b.incident_pool(ii16, &phase.comments, default_comments(platform));
                drafts.push(Draft {
                    platform,
                    t: t0 + dt,
                    author: Author::Citizen(rng.gen_range(0..n_users)),
                    incident: Some(ii16),
                    section: 0,
                    template,
                    pool_incident: Some(ii16),
                    comment_pool,
                    repost_pool,
                    reach: inc.spread.reach * mult * lognormal(1.0, 0.8, &mut rng),
                    reply,
                    retweet_key: None,
                    key: None,
                    pics: if rng.gen_bool(0.35) {
                        rng.gen_range(1..=4)
                    } else {
                        0
                    },
                    flags: if rng.gen_bool(0.3) {
                        flags::STRING_COUNTS
                    } else {
                        0
                    },
                });
            }
        }

        // Stable order: by time, then by the order of generation.
        let mut order: Vec<usize> = (0..drafts.len()).collect();
        order.sort_by_key(|&i| (drafts[i].t, i));

        // Render docs and draw their children.
        let mut docs: Vec<Doc> = Vec::with_capacity(drafts.len());
        let mut reposts: Vec<Repost> = Vec::new();
        let mut comments: Vec<Comment> = Vec::new();
        let mut keys: HashMap<(u16, String), u32> = HashMap::new();
        let mut retweets: Vec<(u32, u16, String)> = Vec::new();
        let params: &HawkesParams = &script.hawkes;
        for (n, &di) in order.iter().enumerate() {
            let d = &drafts[di];
            let doc_seed = sub_seed(seed, &format!("doc:{n}:{}", d.t));
            let mut rng = ChaCha8Rng::seed_from_u64(doc_seed);
            let incident = d.incident.map(|i| &script.incidents[i as usize]);
            let region = incident.map_or(&script.world.site.home, |i| &i.region);
            let town = pick(&region.towns, &mut rng).to_string();
            let vars = vars_for(&script, incident, &town, start, d.t);
            let var_refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let fillers = Fillers {
                vars: &var_refs,
                local: d.pool_incident.map(|i| &script.incidents[i as usize].slots),
                lexicon: lex,
            };
            // Board messages and their replies are rendered together so they agree.
            let (full, reply_text) = match &d.reply {
                Some((_, r)) => {
                    let joined = format!("{}\u{1}{}", d.template, r);
                    let out = text::render(&joined, &fillers, &mut rng);
                    match out.split_once('\u{1}') {
                        Some((a, b)) => (a.to_string(), Some(b.to_string())),
                        None => (out, None),
                    }
                }
                None => (text::render(&d.template, &fillers, &mut rng), None),
            };
            let (title, body) = text::split_title(&full);
            let (mut title, body) = (title.map(str::to_string), body.to_string());
            // Forum threads, board messages and articles need a title: borrow the opening.
            if title.is_none()
                && matches!(
                    d.platform,
                    Platform::Forum | Platform::Board | Platform::News | Platform::Portal
                )
            {
                title = Some(headline(&body));
            }
            let doc_index = docs.len() as u32;
            if let (Some(i), Some(k)) = (d.incident, &d.key) {
                keys.insert((i, k.clone()), doc_index);
            }
            if let (Some(i), Some(k)) = (d.incident, &d.retweet_key) {
                retweets.push((doc_index, i, k.clone()));
            }
            let window = (horizon - d.t).clamp(0, 3 * 86_400) as f64;
            let like_base = match d.author {
                Author::Account(a) => {
                    script.world.accounts[a as usize].followers as f64
                        * 0.06
                        * lognormal(1.0, 0.3, &mut rng)
                        * if d.flags & flags::PINNED != 0 {
                            0.2
                        } else {
                            1.0
                        }
                }
                Author::Citizen(_) => 0.0,
            };
            let like_ratio = incident.map_or(2.0, |i| i.spread.likes_per_interaction);
            let comment_ratio = incident.map_or(1.5, |i| i.spread.comments_per_repost);
            let r0 = reposts.len() as u32;
            if d.platform == Platform::Weibo {
                let c =
                    hawkes::simulate_cascade(params, d.reach, window, scale.max_cascade, &mut rng);
                for k in 0..c.len() {
                    reposts.push(Repost {
                        t: d.t + c.times[k] as i64,
                        id: 0,
                        author: rng.gen_range(0..n_users),
                        parent: c.parents[k].map(|p| r0 + p as u32),
                        doc: doc_index,
                        seed: rng.gen(),
                    });
                }
            }
            let r1 = reposts.len() as u32;
            // Comments and replies: a Poisson process through the same kernel, with a weight
            // proportional to the expected total spread.
            let weight = match d.platform {
                Platform::Weibo => comment_ratio * d.reach / (1.0 - params.branching.min(0.95)),
                Platform::Portal => 0.0,
                Platform::Board => d.reach * 0.5,
                _ => d.reach * comment_ratio * 2.0,
            };
            let n_comments =
                poisson_count(weight * params.kernel.cdf(window), &mut rng).min(scale.max_cascade);
            let mut times: Vec<i64> = (0..n_comments)
                .map(|_| d.t + params.kernel.sample_within(window, &mut rng) as i64)
                .collect();
            times.sort_unstable();
            let c0 = comments.len() as u32;
            for (k, t) in times.into_iter().enumerate() {
                let reply_to = if k > 0 && rng.gen_bool(0.15) {
                    Some(c0 + rng.gen_range(0..k as u32))
                } else {
                    None
                };
                comments.push(Comment {
                    t,
                    id: 0,
                    author: rng.gen_range(0..n_users),
                    reply_to,
                    doc: doc_index,
                    like_weight: lognormal(1.5, 1.3, &mut rng),
                    seed: rng.gen(),
                });
            }
            let c1 = comments.len() as u32;
            let mut flags = d.flags;
            if d.pics > 1 && rng.gen_bool(0.3) {
                flags |= flags::PICS_OBJECT;
            }
            docs.push(Doc {
                platform: d.platform,
                t: d.t,
                id: 0,
                author: d.author,
                incident: d.incident,
                section: d.section,
                title,
                text: body,
                comment_pool: d.comment_pool,
                repost_pool: d.repost_pool,
                reposts: r0..r1,
                comments: c0..c1,
                reply: d
                    .reply
                    .as_ref()
                    .map(|(t, _)| (*t, reply_text.clone().unwrap_or_default())),
                retweet_of: None,
                flags,
                pics: d.pics,
                like_base,
                like_ratio,
                town,
                seed: doc_seed,
            });
        }
        for (doc, inc, key) in retweets {
            if let Some(&target) = keys.get(&(inc, key)) {
                if docs[target as usize].t <= docs[doc as usize].t {
                    docs[doc as usize].retweet_of = Some(target);
                }
            }
        }

        // Ids, in time order per id space.
        let mut weibo: Vec<(i64, u32, Option<u32>)> = Vec::new();
        for (i, d) in docs.iter().enumerate() {
            if d.platform == Platform::Weibo {
                weibo.push((d.t, i as u32, None));
            }
        }
        for (i, r) in reposts.iter().enumerate() {
            weibo.push((r.t, r.doc, Some(i as u32)));
        }
        weibo.sort();
        let mut weibo_ids = HashMap::with_capacity(weibo.len());
        let mut id_rng = rng_for(seed, "ids");
        for (rank, &(_, doc, rep)) in weibo.iter().enumerate() {
            let id = WEIBO_ID_BASE + rank as u64 * 1_000 + id_rng.gen_range(0..1_000);
            match rep {
                Some(r) => reposts[r as usize].id = id,
                None => docs[doc as usize].id = id,
            }
            weibo_ids.insert(id, (doc, rep));
        }
        let mut corder: Vec<u32> = (0..comments.len() as u32).collect();
        corder.sort_by_key(|&i| (comments[i as usize].t, i));
        let mut comment_ids = HashMap::with_capacity(comments.len());
        for (rank, &i) in corder.iter().enumerate() {
            let c = &mut comments[i as usize];
            c.id = if docs[c.doc as usize].platform == Platform::Weibo {
                COMMENT_ID_BASE + rank as u64 * 1_000 + id_rng.gen_range(0..1_000)
            } else {
                10_000_000 + rank as u64
            };
            comment_ids.insert(c.id, i);
        }
        let mut by_platform: HashMap<Platform, Vec<u32>> = HashMap::new();
        for (i, d) in docs.iter().enumerate() {
            by_platform.entry(d.platform).or_default().push(i as u32);
        }
        let mut site_ids = HashMap::new();
        for (p, list) in by_platform.iter_mut() {
            list.sort_by_key(|&i| (docs[i as usize].t, i));
            if *p == Platform::Weibo {
                continue;
            }
            let base: u64 = match p {
                Platform::Portal => 1_000_000,
                Platform::Forum => 100_000,
                Platform::News => 3_000_000,
                _ => 200_000,
            };
            for (rank, &i) in list.iter().enumerate() {
                let id = base + rank as u64;
                docs[i as usize].id = id;
                site_ids.insert((*p, id), i);
            }
        }
        let mut by_section = vec![Vec::new(); script.world.site.sections.len()];
        for &i in by_platform.get(&Platform::Portal).into_iter().flatten() {
            let s = docs[i as usize].section as usize;
            if s < by_section.len() {
                by_section[s].push(i);
            }
        }
        let mut timelines: HashMap<u64, Vec<(i64, u32, Option<u32>)>> = HashMap::new();
        for &(t, doc, rep) in &weibo {
            let uid = match rep {
                Some(r) => users[reposts[r as usize].author as usize % users.len()].uid,
                None => match docs[doc as usize].author {
                    Author::Citizen(u) => users[u as usize % users.len()].uid,
                    Author::Account(a) => script.world.accounts[a as usize].uid,
                },
            };
            timelines.entry(uid).or_default().push((t, doc, rep));
        }
        let mut incident_times = vec![Vec::new(); script.incidents.len()];
        for d in &docs {
            if let Some(i) = d.incident {
                incident_times[i as usize].push(d.t);
            }
        }
        for r in &reposts {
            if let Some(i) = docs[r.doc as usize].incident {
                incident_times[i as usize].push(r.t);
            }
        }
        for v in &mut incident_times {
            v.sort_unstable();
        }
        let pools = b.pools;
        World {
            script,
            start,
            users,
            docs,
            reposts,
            comments,
            pools,
            by_platform,
            by_section,
            timelines,
            weibo_ids,
            site_ids,
            comment_ids,
            incident_times,
        }
    }

    /// Seconds after the start at `now`.
    pub fn offset(&self, now: DateTime<Utc>) -> i64 {
        (now - self.start).num_seconds()
    }

    /// The absolute time of offset `t` in China Standard Time.
    pub fn at(&self, t: i64) -> DateTime<FixedOffset> {
        (self.start + chrono::Duration::seconds(t)).with_timezone(&yuqing_core::clock::cst())
    }

    /// Docs of `platform` published by `t`, newest first.
    pub fn visible(&self, platform: Platform, t: i64) -> impl Iterator<Item = u32> + '_ {
        let list = self
            .by_platform
            .get(&platform)
            .map_or(&[][..], |v| v.as_slice());
        let n = list.partition_point(|&i| self.docs[i as usize].t <= t);
        list[..n].iter().rev().copied()
    }

    /// Reposts of a doc published by `t` (indices into [`World::reposts`]), oldest first.
    pub fn reposts_by(&self, doc: u32, t: i64) -> Range<u32> {
        let r = &self.docs[doc as usize].reposts;
        let slice = &self.reposts[r.start as usize..r.end as usize];
        let n = slice.partition_point(|x| x.t <= t) as u32;
        r.start..r.start + n
    }

    /// Comments of a doc published by `t`, oldest first.
    pub fn comments_by(&self, doc: u32, t: i64) -> Range<u32> {
        let r = &self.docs[doc as usize].comments;
        let slice = &self.comments[r.start as usize..r.end as usize];
        let n = slice.partition_point(|x| x.t <= t) as u32;
        r.start..r.start + n
    }

    /// Engagement of a doc at `t`.
    pub fn metrics(&self, doc: u32, t: i64) -> Metrics {
        let d = &self.docs[doc as usize];
        let reposts = self.reposts_by(doc, t).len() as u64;
        let comments = self.comments_by(doc, t).len() as u64;
        let age = (t - d.t).max(0) as f64;
        let grown = self.script.hawkes.kernel.cdf(age);
        let likes = (d.like_ratio * (reposts + comments) as f64 + d.like_base * grown) as u64;
        let views = 30 * (reposts + comments) + (age.min(86_400.0) / 60.0) as u64 * 3;
        match d.platform {
            Platform::Weibo => Metrics {
                reposts: Some(reposts),
                comments: Some(comments),
                likes: Some(likes),
                views: None,
            },
            Platform::Portal => Metrics {
                views: Some(views),
                ..Metrics::default()
            },
            Platform::Board => Metrics {
                likes: Some(likes),
                views: Some(views),
                ..Metrics::default()
            },
            _ => Metrics {
                comments: Some(comments),
                views: Some(views),
                ..Metrics::default()
            },
        }
    }

    /// Direct reposts of repost `r` at `t`.
    pub fn repost_children(&self, r: u32, t: i64) -> u64 {
        let doc = self.reposts[r as usize].doc;
        self.reposts_by(doc, t)
            .filter(|&i| self.reposts[i as usize].parent == Some(r))
            .count() as u64
    }

    /// Likes of a comment at `t`.
    pub fn comment_likes(&self, c: u32, t: i64) -> u64 {
        let c = &self.comments[c as usize];
        let age = (t - c.t).max(0) as f64;
        (c.like_weight * self.script.hawkes.kernel.cdf(age) * 4.0) as u64
    }

    fn fillers_vars(&self, doc: &Doc, t: i64) -> Vec<(&'static str, String)> {
        let incident = doc.incident.map(|i| &self.script.incidents[i as usize]);
        vars_for(&self.script, incident, &doc.town, self.start, t)
    }

    fn render_from_pool(&self, pool: u32, doc: &Doc, t: i64, seed: u64) -> String {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let Some(p) = self.pools.get(pool as usize) else {
            return String::new();
        };
        let template = pick(&p.templates, &mut rng);
        let vars = self.fillers_vars(doc, t);
        let var_refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let fillers = Fillers {
            vars: &var_refs,
            local: p.incident.map(|i| &self.script.incidents[i as usize].slots),
            lexicon: &self.script.lexicon.slots,
        };
        let out = text::render(template, &fillers, &mut rng);
        // Pools of posts used for comments: keep the body only.
        text::split_title(&out).1.to_string()
    }

    /// The text of a comment (with `回复@name:` when it answers another comment).
    pub fn comment_text(&self, c: u32) -> String {
        let cm = &self.comments[c as usize];
        let doc = &self.docs[cm.doc as usize];
        let body = self.render_from_pool(doc.comment_pool, doc, cm.t, cm.seed);
        match cm.reply_to {
            Some(r) => {
                let to = &self.comments[r as usize];
                format!("回复@{}:{}", self.user(to.author).name, body)
            }
            None => body,
        }
    }

    /// The own text of a repost (without the chain).
    pub fn repost_own_text(&self, r: u32) -> String {
        let rp = &self.reposts[r as usize];
        let doc = &self.docs[rp.doc as usize];
        self.render_from_pool(doc.repost_pool, doc, rp.t, rp.seed)
    }

    /// The text of a repost with the `//@name:text` chain of its parent, as Weibo shows it.
    pub fn repost_text(&self, r: u32) -> String {
        let own = self.repost_own_text(r);
        match self.reposts[r as usize].parent {
            Some(p) => {
                let parent = &self.reposts[p as usize];
                format!(
                    "{own}//@{}:{}",
                    self.user(parent.author).name,
                    self.repost_own_text(p)
                )
            }
            None => own,
        }
    }

    /// An ordinary user.
    pub fn user(&self, i: u32) -> &User {
        &self.users[i as usize % self.users.len().max(1)]
    }

    /// The display name and uid of a doc's author.
    pub fn author_of(&self, d: &Doc) -> (u64, String) {
        match d.author {
            Author::Citizen(u) => {
                let u = self.user(u);
                (u.uid, u.name.clone())
            }
            Author::Account(a) => {
                let a = &self.script.world.accounts[a as usize];
                (a.uid, a.screen_name.clone())
            }
        }
    }
}

/// Direct reposts an account's post draws, from its follower count.
fn account_reach(followers: u64) -> f64 {
    (followers as f64).sqrt() / 15.0
}

fn default_comments(p: Platform) -> &'static str {
    match p {
        Platform::Forum => "forum_reply",
        Platform::News | Platform::Portal => "news_comment",
        Platform::Board => "board_reply",
        _ => "weibo_comment",
    }
}

/// A title from the first clause of a rendered text (topics and emoji left out).
fn headline(text: &str) -> String {
    let first = text
        .split(['，', '。', '？', '！', '#'])
        .find(|s| !s.trim().is_empty())
        .unwrap_or(text);
    let first: String = first.split('[').next().unwrap_or(first).to_string();
    text::truncate_chars(first.trim(), 30)
}

fn poisson_count<R: Rng + ?Sized>(mean: f64, rng: &mut R) -> usize {
    if !(mean.is_finite() && mean > 0.0) {
        return 0;
    }
    rand_distr::Poisson::new(mean)
        .map(|p| {
            let x: f64 = p.sample(rng);
            x as usize
        })
        .unwrap_or(0)
}

/// Weibo's base62 `bid` of a numeric mid (groups of 7 digits from the right).
pub fn mid_to_bid(mid: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let digits = mid.to_string();
    let mut groups: Vec<String> = Vec::new();
    let mut end = digits.len();
    while end > 0 {
        let start = end.saturating_sub(7);
        let mut n: u64 = digits[start..end].parse().unwrap_or(0);
        let mut s = Vec::new();
        while n > 0 {
            s.push(ALPHABET[(n % 62) as usize]);
            n /= 62;
        }
        s.reverse();
        let mut g = String::from_utf8(s).unwrap_or_default();
        if start > 0 {
            while g.len() < 4 {
                g.insert(0, '0');
            }
        }
        groups.push(g);
        end = start;
    }
    groups.reverse();
    groups.concat()
}

/// The inverse of [`mid_to_bid`].
pub fn bid_to_mid(bid: &str) -> Option<u64> {
    if bid.is_empty() || bid.len() > 16 || !bid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut out = String::new();
    let mut end = bid.len();
    while end > 0 {
        let start = end.saturating_sub(4);
        let mut n: u64 = 0;
        for c in bid[start..end].bytes() {
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'z' => c - b'a' + 10,
                b'A'..=b'Z' => c - b'A' + 36,
                _ => return None,
            } as u64;
            n = n.checked_mul(62)?.checked_add(v)?;
        }
        let s = n.to_string();
        out = if start > 0 {
            format!("{s:0>7}{out}")
        } else {
            format!("{s}{out}")
        };
        end = start;
    }
    out.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bids_round_trip() {
        for mid in [4_990_000_000_123_456u64, 5_103_581_234_567_890, 1] {
            let bid = mid_to_bid(mid);
            assert_eq!(bid_to_mid(&bid), Some(mid), "{bid}");
        }
        assert_eq!(bid_to_mid("not-a-bid"), None);
    }

    proptest::proptest! {
        #[test]
        fn bid_parsing_never_panics(s in ".{0,20}") {
            let _ = bid_to_mid(&s);
        }

        #[test]
        fn bids_round_trip_for_any_mid(mid in 1u64..9_999_999_999_999_999) {
            proptest::prop_assert_eq!(bid_to_mid(&mid_to_bid(mid)), Some(mid));
        }
    }

    #[test]
    fn headlines_take_the_first_clause() {
        assert_eq!(headline("工业园爆炸了？大家注意"), "工业园爆炸了");
    }
}
