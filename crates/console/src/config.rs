//! The `[console]` settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use yuqing_core::Problems;

/// The `[console]` table: how the web console behaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// The name of the duty room shown in every page's header (e.g. "某市网信办舆情值班室").
    #[serde(default = "default_title")]
    pub title: String,
    /// How often the wall view reloads itself ("30s"; at least 5s, at most 1h).
    #[serde(default = "default_refresh", with = "humantime_serde")]
    pub refresh: Duration,
    /// A session ends after this long without a request ("12h"; at least 1m). The wall view's
    /// reloads keep its session alive. Measured on the console's clock.
    #[serde(default = "default_session_idle", with = "humantime_serde")]
    pub session_idle: Duration,
    /// A session ends this long after its login however active it is ("7d"; at least
    /// `session_idle`, at most 30d).
    #[serde(default = "default_session_max", with = "humantime_serde")]
    pub session_max: Duration,
    /// Sessions kept at most (1..=100000); a login beyond this ends the least recently used one.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// Mark the session cookie `Secure` (set it when the console is served over HTTPS, e.g.
    /// behind a TLS-terminating proxy; browsers then never send it over plain HTTP).
    #[serde(default)]
    pub secure_cookies: bool,
    /// Observations listed at most on an event page (1..=5000).
    #[serde(default = "default_items_per_event")]
    pub items_per_event: i64,
    /// Open cases shown at most on the wall view (1..=500).
    #[serde(default = "default_wall_cases")]
    pub wall_cases: i64,
    /// Cases listed at most on one page of the case list (1..=500).
    #[serde(default = "default_cases_per_page")]
    pub cases_per_page: i64,
}

fn default_title() -> String {
    "舆情值班台".to_string()
}

fn default_refresh() -> Duration {
    Duration::from_secs(30)
}

fn default_session_idle() -> Duration {
    Duration::from_secs(12 * 3600)
}

fn default_session_max() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

fn default_max_sessions() -> usize {
    1000
}

fn default_items_per_event() -> i64 {
    200
}

fn default_wall_cases() -> i64 {
    200
}

fn default_cases_per_page() -> i64 {
    100
}

impl Default for ConsoleConfig {
    fn default() -> ConsoleConfig {
        ConsoleConfig {
            title: default_title(),
            refresh: default_refresh(),
            session_idle: default_session_idle(),
            session_max: default_session_max(),
            max_sessions: default_max_sessions(),
            secure_cookies: false,
            items_per_event: default_items_per_event(),
            wall_cases: default_wall_cases(),
            cases_per_page: default_cases_per_page(),
        }
    }
}

impl ConsoleConfig {
    /// Reports every semantic problem with its key path (`path` is the table's, e.g. `console`).
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        let title = self.title.trim();
        if title.is_empty() {
            problems.at(path, "title", "must not be empty");
        } else if title.chars().count() > 60 {
            problems.at(path, "title", "must be at most 60 characters");
        } else if title.chars().any(char::is_control) {
            problems.at(path, "title", "must not contain control characters");
        }
        if self.refresh < Duration::from_secs(5) {
            problems.at(path, "refresh", "must be at least 5s");
        }
        if self.refresh > Duration::from_secs(3600) {
            problems.at(path, "refresh", "must be at most 1h");
        }
        if self.session_idle < Duration::from_secs(60) {
            problems.at(path, "session_idle", "must be at least 1m");
        }
        if self.session_max < self.session_idle {
            problems.at(
                path,
                "session_max",
                "must be at least session_idle (a session cannot outlive its limit)",
            );
        }
        if self.session_max > Duration::from_secs(30 * 24 * 3600) {
            problems.at(path, "session_max", "must be at most 30d");
        }
        if !(1..=100_000).contains(&self.max_sessions) {
            problems.at(path, "max_sessions", "must be between 1 and 100000");
        }
        if !(1..=5000).contains(&self.items_per_event) {
            problems.at(path, "items_per_event", "must be between 1 and 5000");
        }
        // One more than these is read to tell whether there are more; the workflow reads at
        // most 1000 at a time.
        if !(1..=500).contains(&self.wall_cases) {
            problems.at(path, "wall_cases", "must be between 1 and 500");
        }
        if !(1..=500).contains(&self.cases_per_page) {
            problems.at(path, "cases_per_page", "must be between 1 and 500");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let mut p = Problems::new();
        ConsoleConfig::default().validate("console", &mut p);
        assert!(p.is_empty(), "{p}");
    }

    #[test]
    fn parses_humantime_and_rejects_unknown_keys() {
        let c: ConsoleConfig =
            toml::from_str("refresh = \"10s\"\nsession_idle = \"2h\"\ntitle = \"值班室\"").unwrap();
        assert_eq!(c.refresh, Duration::from_secs(10));
        assert_eq!(c.session_idle, Duration::from_secs(7200));
        assert_eq!(c.title, "值班室");
        assert!(toml::from_str::<ConsoleConfig>("refresh_every = \"10s\"").is_err());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let c = ConsoleConfig {
            title: " ".into(),
            refresh: Duration::from_secs(1),
            session_idle: Duration::from_secs(10),
            session_max: Duration::from_secs(5),
            max_sessions: 0,
            secure_cookies: false,
            items_per_event: 0,
            wall_cases: 5000,
            cases_per_page: -1,
        };
        let mut p = Problems::new();
        c.validate("console", &mut p);
        let text = p.to_string();
        for want in [
            "console.title: must not be empty",
            "console.refresh: must be at least 5s",
            "console.session_idle: must be at least 1m",
            "console.session_max: must be at least session_idle",
            "console.max_sessions: must be between 1 and 100000",
            "console.items_per_event: must be between 1 and 5000",
            "console.wall_cases: must be between 1 and 500",
            "console.cases_per_page: must be between 1 and 500",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }
}
