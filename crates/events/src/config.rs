//! The `[events]` section of a pipeline.

use std::time::Duration;

use serde::Deserialize;
use yuqing_core::Problems;

/// The `[events]` section of a pipeline: how items merge into events and when events close.
///
/// ```
/// let cfg: yuqing_events::EventsConfig = toml::from_str(r#"
///     quiet_after = "12h"
///     merge_window = "6h"
/// "#).unwrap();
/// let mut problems = yuqing_core::Problems::new();
/// cfg.validate("events", &mut problems);
/// assert!(problems.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// An event with no new item or re-observation for this long (event time) is closed and
    /// forgotten by [`crate::EventTracker::expire`].
    #[serde(with = "humantime_serde")]
    pub quiet_after: Duration,
    /// A new post joins an existing event by near-duplicate text or shared keywords only if that
    /// event saw activity within this window (event time) before the post.
    #[serde(with = "humantime_serde")]
    pub merge_window: Duration,
    /// Two posts are near-duplicates when the Jaccard similarity of their character-bigram sets,
    /// estimated by MinHash, is at least this (0.2–1). Calibrated on the Weibo event posts: at 0.5
    /// pairs from different events are rare.
    pub near_duplicate_similarity: f64,
    /// Texts with fewer distinct characters than this (after normalisation) never merge as
    /// near-duplicates: "哈哈哈哈" or "转发微博" say nothing about which incident they belong to.
    pub near_duplicate_min_chars: usize,
    /// A post joins an event by its profile only if it shares at least this many keywords or
    /// hashtags with it (place, topics and category add evidence but never suffice alone).
    pub min_shared_keywords: usize,
    /// Evidence (in nats: the sum over shared features of the log ratio of how likely a post of
    /// the event is to carry the feature to how likely an unrelated event is to hold it) a post
    /// needs to join an event by its profile. 5 means the shared features are about 150 times
    /// likelier under "same incident" than under "another event".
    pub match_threshold: f64,
    /// The evidence a post needs grows by one nat for every this much time the event has been
    /// quiet (no post, repost or comment), so an old event takes in a newcomer only on stronger
    /// evidence.
    #[serde(with = "humantime_serde")]
    pub match_decay: Duration,
    /// The stage becomes 消退 (Fading) once the velocity has dropped to this fraction (0–1) of the
    /// wave's peak velocity, one hour or more after that peak.
    pub fade_ratio: f64,
    /// A fading event flares (再次升温, back to 扩散) when its velocity climbs back to this fraction
    /// of the faded wave's peak and to at least twice its lowest velocity since fading.
    pub flare_ratio: f64,
    /// Peaks below this velocity (interactions per hour) are too small to call an event faded or
    /// flared by velocity; such events follow the 2h/6h/24h clock alone.
    pub min_peak_velocity: f64,
    /// Hard cap on open events: past it the quietest events are closed early (counted in
    /// `yuqing_events_closed_events_total{reason="capacity"}` and logged).
    pub max_open_events: usize,
    /// Hard cap on tracked item keys (needed to recognise re-observations): past it the quietest
    /// events are closed early, like `max_open_events`.
    pub max_tracked_items: usize,
    /// How long (event time) the key of an item, thread root or page is kept after it was last
    /// seen, while its event stays open: an item observed again within this horizon is a
    /// re-observation (its counts replace the earlier ones), one observed again later counts as new.
    /// Keep it above the collectors' last re-observation (24 h after first sight with the default
    /// schedule of 10 min, 30 min, 1 h, 2 h, 6 h, 24 h). Keys are forgotten within 1/16 of the
    /// horizon after it passes (checked by [`crate::EventTracker::expire`]), so the keys of an event
    /// that never goes quiet stay bounded by its traffic over about the horizon.
    #[serde(with = "humantime_serde")]
    pub reobserve_horizon: Duration,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            quiet_after: Duration::from_secs(48 * 3600),
            merge_window: Duration::from_secs(24 * 3600),
            near_duplicate_similarity: 0.5,
            near_duplicate_min_chars: 8,
            min_shared_keywords: 1,
            match_threshold: 6.0,
            match_decay: Duration::from_secs(6 * 3600),
            fade_ratio: 0.2,
            flare_ratio: 0.5,
            min_peak_velocity: 20.0,
            max_open_events: 200_000,
            max_tracked_items: 4_000_000,
            reobserve_horizon: Duration::from_secs(26 * 3600),
        }
    }
}

impl EventsConfig {
    /// Checks the section, recording every problem under `path`.
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        if self.quiet_after < Duration::from_secs(3600) {
            problems.at(path, "quiet_after", "must be at least 1h");
        }
        if self.merge_window < Duration::from_secs(60) {
            problems.at(path, "merge_window", "must be at least 1m");
        }
        if self.merge_window > Duration::from_secs(30 * 24 * 3600) {
            problems.at(path, "merge_window", "must be at most 30d");
        }
        if !(0.2..=1.0).contains(&self.near_duplicate_similarity) {
            problems.at(
                path,
                "near_duplicate_similarity",
                "must be between 0.2 and 1",
            );
        }
        if self.near_duplicate_min_chars < 2 {
            problems.at(path, "near_duplicate_min_chars", "must be at least 2");
        }
        if self.min_shared_keywords == 0 {
            problems.at(path, "min_shared_keywords", "must be at least 1");
        }
        if !(self.match_threshold.is_finite() && self.match_threshold >= 1.0) {
            problems.at(path, "match_threshold", "must be a number of at least 1");
        }
        if self.match_decay < Duration::from_secs(600) {
            problems.at(path, "match_decay", "must be at least 10m");
        }
        if !(self.fade_ratio > 0.0 && self.fade_ratio < 1.0) {
            problems.at(path, "fade_ratio", "must be in (0, 1)");
        }
        if !(self.flare_ratio > 0.0 && self.flare_ratio <= 1.0) {
            problems.at(path, "flare_ratio", "must be in (0, 1]");
        } else if self.flare_ratio <= self.fade_ratio {
            problems.at(path, "flare_ratio", "must be greater than fade_ratio");
        }
        if !(self.min_peak_velocity.is_finite() && self.min_peak_velocity >= 0.0) {
            problems.at(path, "min_peak_velocity", "must be a non-negative number");
        }
        if self.max_open_events < 100 {
            problems.at(path, "max_open_events", "must be at least 100");
        }
        if self.max_tracked_items < 1000 {
            problems.at(path, "max_tracked_items", "must be at least 1000");
        }
        if self.reobserve_horizon < Duration::from_secs(3600) {
            problems.at(path, "reobserve_horizon", "must be at least 1h");
        }
        if self.reobserve_horizon > Duration::from_secs(30 * 24 * 3600) {
            problems.at(path, "reobserve_horizon", "must be at most 30d");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let mut p = Problems::new();
        EventsConfig::default().validate("events", &mut p);
        assert!(p.is_empty(), "{p}");
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let cfg = EventsConfig {
            quiet_after: Duration::from_secs(60),
            near_duplicate_similarity: 0.1,
            match_threshold: 0.5,
            match_decay: Duration::from_secs(60),
            fade_ratio: 0.6,
            flare_ratio: 0.5,
            max_open_events: 1,
            reobserve_horizon: Duration::from_secs(600),
            ..EventsConfig::default()
        };
        let mut p = Problems::new();
        cfg.validate("events", &mut p);
        let text = p.to_string();
        for key in [
            "events.quiet_after: must be at least 1h",
            "events.near_duplicate_similarity",
            "events.match_threshold",
            "events.match_decay: must be at least 10m",
            "events.flare_ratio: must be greater than fade_ratio",
            "events.max_open_events",
            "events.reobserve_horizon: must be at least 1h",
        ] {
            assert!(text.contains(key), "missing {key} in {text}");
        }
    }

    #[test]
    fn unknown_keys_are_rejected_and_durations_are_humantime() {
        let err = toml::from_str::<EventsConfig>("quiet_afterr = \"1h\"").unwrap_err();
        assert!(err.to_string().contains("quiet_afterr"));
        let cfg: EventsConfig = toml::from_str("quiet_after = \"90m\"").unwrap();
        assert_eq!(cfg.quiet_after, Duration::from_secs(5400));
        assert_eq!(cfg.merge_window, EventsConfig::default().merge_window);
        let cfg: EventsConfig = toml::from_str("reobserve_horizon = \"30h\"").unwrap();
        assert_eq!(cfg.reobserve_horizon, Duration::from_secs(30 * 3600));
        let mut p = Problems::new();
        EventsConfig {
            reobserve_horizon: Duration::from_secs(31 * 24 * 3600),
            ..EventsConfig::default()
        }
        .validate("events", &mut p);
        assert!(p
            .to_string()
            .contains("events.reobserve_horizon: must be at most 30d"));
    }
}
