//! Matching a new post against the profiles of open events.
//!
//! Every open event keeps a profile of what its posts say: keywords, hashtags (`#话题#`), places
//! (administrative codes), sensitivity topics and categories, each with the number of the event's
//! posts that carried it. An inverted index maps each feature to the events whose profile holds
//! it, and counts them.
//!
//! A post is scored against a candidate event as a sum of log likelihood ratios (naive Bayes), one
//! per feature the two share:
//!
//! ```text
//! evidence(f) = clamp( ln( P(f | e) / P(f | not e) ), 0, 5 )
//! P(f | e)     = (c + ½) / (m + 1)
//! P(f | not e) = (posts of other events carrying f + 1) / (posts of other events + 20)
//! ```
//!
//! where `c` of the event's `m` posts carried `f`; the posts of other events are counted over
//! recent event time (decayed with a 6-hour time constant) from all posts seen, less the event's
//! own share. Leaving the candidate's own posts out is what makes the weights fit this task: the
//! hashtag, the place and the key words of a large incident fill thousands of posts, yet outside
//! that incident they are rare, so they stay telling; "网友", "觉得", or the home county of a local
//! feed fill posts of every kind and weigh nothing. No single feature is proof (the cap: a rare
//! word shared by chance should not decide). A post joins the best-scoring event when the
//! evidence, less a time penalty growing with the event's quiet time, reaches the threshold, and
//! when at least one keyword or hashtag is among the shared features (a place and a topic alone
//! are not enough). Two different counties (neither inside the other) never match.
//!
//! The inverted index only proposes candidates; features held by very many open events (a
//! sensitivity topic on a busy day) propose none, but still add their evidence.

use serde::{Deserialize, Serialize};

/// Hashtags kept per post.
pub(crate) const TAGS_PER_ITEM: usize = 4;

/// Events a posting list names at most; features held by more events are common and no longer
/// propose candidates (their count stays exact, so they still weigh what they should).
pub(crate) const POSTING_CAP: usize = 32;

/// The entry of the inverted index for one feature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Posting {
    /// Open events whose profile holds the feature.
    pub n: u32,
    /// Slots of (up to [`POSTING_CAP`]) of those events, the most recent last.
    pub slots: Vec<u32>,
}

impl Posting {
    /// Records that the event in `slot` now holds the feature.
    pub(crate) fn add(&mut self, slot: u32) {
        self.n = self.n.saturating_add(1);
        if self.slots.len() >= POSTING_CAP {
            self.slots.remove(0);
        }
        self.slots.push(slot);
    }

    /// Records that the event in `slot` no longer holds the feature; true when nothing is left.
    pub(crate) fn remove(&mut self, slot: u32) -> bool {
        self.n = self.n.saturating_sub(1);
        if let Some(i) = self.slots.iter().position(|s| *s == slot) {
            self.slots.remove(i);
        }
        self.n == 0
    }

    /// True when the feature is held by so many events that it proposes none.
    pub(crate) fn common(&self) -> bool {
        self.n as usize > POSTING_CAP
    }
}

/// Time constant (seconds) of the decayed post counts behind the rarity of features.
pub(crate) const DF_TAU: f64 = 6.0 * 3600.0;

/// Pseudo-posts without the feature in `P(f | not e)`, so that the first minutes after a start
/// (few posts seen) do not make every feature look rare.
pub(crate) const PRIOR_POSTS: f64 = 20.0;

/// The evidence one shared feature can give at most (nats): rarity estimated from few posts is
/// uncertain, and a rare word shared by chance must not decide alone.
pub(crate) const EVIDENCE_CAP: f64 = 5.0;

/// A count decaying exponentially over event time (time constant [`DF_TAU`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Decayed {
    #[serde(with = "crate::bits::f64")]
    pub v: f64,
    #[serde(with = "crate::bits::f64")]
    pub t: f64,
}

impl Decayed {
    /// The count at event time `now` (seconds).
    pub(crate) fn at(&self, now: f64) -> f64 {
        self.v * (-((now - self.t).max(0.0)) / DF_TAU).exp()
    }

    /// Adds one at event time `now` (late arrivals add their decayed share).
    pub(crate) fn bump(&mut self, now: f64) {
        if now >= self.t {
            self.v = self.at(now) + 1.0;
            self.t = now;
        } else {
            self.v += (-(self.t - now) / DF_TAU).exp();
        }
    }
}

/// The evidence (nats, in `0..=EVIDENCE_CAP`) that a post carrying a feature belongs to an event
/// whose profile holds it: `count` of the event's `posts` carried it; `df` recent posts of all
/// events carried it, of `docs` recent posts; `recent` of those posts are the event's own.
#[inline]
pub(crate) fn evidence(count: f64, posts: u32, df: f64, docs: f64, recent: f64) -> f64 {
    let posts_f = f64::from(posts.max(1));
    let inside = ((count.max(0.0) + 0.5) / (f64::from(posts) + 1.0)).min(1.0);
    let own = (count.max(0.0) / posts_f).min(1.0) * recent;
    let outside = (df - own).max(0.0);
    let others = (docs - recent).max(0.0);
    let q = (outside + 1.0) / (others + PRIOR_POSTS);
    (inside / q).ln().clamp(0.0, EVIDENCE_CAP)
}

/// Appends the hashtags (`#话题#`, also with full-width `＃`) of `text` to `out`, normalised (trimmed,
/// ASCII lower-cased, a trailing `[超话]` dropped), without duplicates, up to [`TAGS_PER_ITEM`].
///
/// A tag is the text between two marks on one line, 2 to 40 characters without spaces; the marks
/// of a tag are consumed, so `#a1# text #b1#` gives `a1` and `b1`, never ` text `.
pub(crate) fn hashtags(text: &str, out: &mut Vec<String>) {
    let mut open: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if out.len() >= TAGS_PER_ITEM {
            return;
        }
        match c {
            '#' | '＃' => match open {
                None => open = Some(i + c.len_utf8()),
                Some(start) => {
                    let inner = text[start..i].trim();
                    let inner = inner.strip_suffix("[超话]").unwrap_or(inner).trim();
                    let n = inner.chars().count();
                    if (2..=40).contains(&n) && !inner.contains(char::is_whitespace) {
                        let tag = inner.to_ascii_lowercase();
                        if !out.contains(&tag) {
                            out.push(tag);
                        }
                        open = None;
                    } else {
                        // Not a tag (too short or long): this mark may open the next one.
                        open = Some(i + c.len_utf8());
                    }
                }
            },
            '\n' | '\r' => open = None,
            _ => {}
        }
    }
}

/// Do two places (names and administrative codes) allow one incident? Places are compatible when
/// one is unknown, equal, or inside the other (by code prefix, else by name containment).
pub(crate) fn places_compatible(a: (&str, Option<&str>), b: (&str, Option<&str>)) -> bool {
    if let (Some(ca), Some(cb)) = (a.1, b.1) {
        let ca = ca.trim_end_matches('0');
        let cb = cb.trim_end_matches('0');
        return ca.starts_with(cb) || cb.starts_with(ca);
    }
    let (na, nb) = (a.0.trim(), b.0.trim());
    na.is_empty() || nb.is_empty() || na.contains(nb) || nb.contains(na)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<String> {
        let mut v = Vec::new();
        hashtags(s, &mut v);
        v
    }

    #[test]
    fn hashtags_are_found_and_normalised() {
        assert_eq!(tags("刚刚 #万载工业园爆炸# 太吓人了"), ["万载工业园爆炸"]);
        assert_eq!(tags("#A股# 今天 #ABC超话[超话]#"), ["a股", "abc超话"]);
        assert_eq!(tags("＃全角话题＃和#半角话题#"), ["全角话题", "半角话题"]);
        // A lone mark or a one-character span is no tag, and does not swallow the next one.
        assert_eq!(tags("第#1# 名 #真的话题#"), ["真的话题"]);
        assert!(tags("价格 #5 还是 #6").is_empty(), "tags hold no spaces");
        assert!(tags("没有话题").is_empty());
        assert!(tags("#跨\n行#").is_empty());
        assert_eq!(
            tags("#a##a##b##c##d##e#").len(),
            0,
            "one-letter tags are ignored"
        );
        assert_eq!(tags("#一一##二二##三三##四四##五五#").len(), TAGS_PER_ITEM);
    }

    #[test]
    fn evidence_favours_features_rare_outside_the_candidate_and_central_to_it() {
        // 3000 recent posts, 900 of them the candidate's.
        let (docs, recent) = (3000.0, 900.0);
        // Its hashtag: on 800 of its 1000 posts (720 of the recent 900) and on 5 posts elsewhere.
        let tag = evidence(800.0, 1000, 725.0, docs, recent);
        // The home county of a local feed: on nearly every post, the candidate's and others'.
        let home = evidence(1000.0, 1000, 2950.0, docs, recent);
        // "觉得": on a fifth of all posts.
        let common = evidence(200.0, 1000, 600.0, docs, recent);
        // A rare word the candidate said once in a thousand posts.
        let tail = evidence(1.0, 1000, 2.0, docs, recent);
        assert_eq!(tag, EVIDENCE_CAP, "{tag}");
        assert!(home < 0.1, "{home}");
        assert!(common < 0.1, "{common}");
        assert!(tail < 1.0, "{tail}");
        // Cold start: one post seen, the candidate's; a shared word is worth a little.
        let cold = evidence(1.0, 1, 1.0, 1.0, 1.0);
        assert!(cold > 2.0 && cold < 3.0, "{cold}");
    }

    #[test]
    fn decayed_counts_fade_with_event_time() {
        let mut d = Decayed::default();
        d.bump(0.0);
        d.bump(0.0);
        assert!((d.at(DF_TAU) - 2.0 / std::f64::consts::E).abs() < 1e-9);
        // A late arrival adds its decayed share.
        d.bump(-DF_TAU);
        assert!((d.at(0.0) - (2.0 + 1.0 / std::f64::consts::E)).abs() < 1e-9);
    }

    #[test]
    fn postings_count_exactly_and_keep_the_latest_slots() {
        let mut p = Posting::default();
        for s in 0..40 {
            p.add(s);
        }
        assert_eq!(p.n, 40);
        assert_eq!(p.slots.len(), POSTING_CAP);
        assert!(p.common());
        assert_eq!(p.slots[0], 8);
        assert!(!p.remove(39));
        assert_eq!(p.n, 39);
        assert!(!p.slots.contains(&39));
        let mut q = Posting::default();
        q.add(7);
        assert!(q.remove(7));
    }

    #[test]
    fn places() {
        assert!(places_compatible(
            ("万载县", Some("360922")),
            ("宜春市", Some("360900"))
        ));
        assert!(!places_compatible(
            ("万载县", Some("360922")),
            ("袁州区", Some("360902"))
        ));
        assert!(places_compatible(("青石市安和区", None), ("安和区", None)));
        assert!(!places_compatible(("安和区", None), ("白沙县", None)));
        assert!(places_compatible(("", None), ("白沙县", None)));
    }
}
