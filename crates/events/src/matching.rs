//! Matching a new post against the profiles of open events.
//!
//! Every open event keeps a profile of what its posts say: keywords, hashtags (`#话题#`), places
//! (administrative codes), sensitivity topics and categories, each with the number of the event's
//! posts that carried it. An inverted index maps each feature to the events whose profile holds
//! it, and counts them.
//!
//! A post is scored against a candidate event as a sum of log likelihood ratios, one per feature
//! the two share:
//!
//! ```text
//! evidence(f) = max(0, ln( share_e(f) · (N + P) / (n_f + 1) ))
//! ```
//!
//! where `share_e(f) = (c + ½) / (m + 1)` is the smoothed share of the event's `m` posts that
//! carried `f` (how likely a post of this event is to say `f`), `n_f` the number of open events
//! whose profile holds `f` and `N` the number of open events (`(n_f + 1)/(N + P)` is how likely an
//! unrelated event is to hold it; `P` pseudo-events keep the first minutes after a start sane).
//! Counting *events* rather than posts is what makes the weights fit this task: the hashtag and
//! the place of a large incident appear in thousands of posts but in one event, so they stay
//! specific to it, while "网友", "今天" or the home county of a local portal appear in many
//! events and weigh nothing. A post joins the best-scoring event when the evidence, less a time
//! penalty growing with the event's quiet time, reaches the threshold, and when at least one
//! keyword or hashtag is among the shared features (a place and a topic alone are not enough).
//! Two different counties (neither inside the other) never match.

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

/// The smoothed share of an event's `posts` that carried a feature seen `count` times.
#[inline]
pub(crate) fn share(count: f64, posts: u32) -> f64 {
    ((count.max(0.0) + 0.5) / (f64::from(posts) + 1.0)).min(1.0)
}

/// The evidence (nats) that sharing a feature held by `n_f` of `events` open events, carried by
/// `share` of the candidate's posts, says "same incident"; never negative.
#[inline]
pub(crate) fn evidence(share: f64, n_f: u32, events: f64, prior: f64) -> f64 {
    (share * (events + prior) / (f64::from(n_f) + 1.0))
        .ln()
        .max(0.0)
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
    fn evidence_favours_features_rare_among_events_and_central_to_the_candidate() {
        // A hashtag held by this event alone, said by most of its posts.
        let tag = evidence(share(90.0, 100), 1, 300.0, 20.0);
        // The home county, held by nearly every open event.
        let home = evidence(share(100.0, 100), 290, 300.0, 20.0);
        // A rare word the event said once in a hundred posts.
        let tail = evidence(share(1.0, 100), 1, 300.0, 20.0);
        assert!(tag > 4.5, "{tag}");
        assert!(home < 0.2, "{home}");
        assert!(tail < tag - 3.0, "{tail}");
        assert_eq!(evidence(0.01, 300, 300.0, 20.0), 0.0, "never negative");
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
