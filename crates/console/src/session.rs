//! Login sessions, kept in memory: a random session id in an `HttpOnly`, `SameSite=Strict`
//! cookie, a per-session CSRF token, idle and absolute expiry on the console's clock, and a
//! bound on how many are kept.

use std::collections::HashMap;

use axum::http::{header, HeaderMap};
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use rand::RngCore;
use yuqing_cases::Actor;

use crate::metrics;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "yuqing_console_session";
/// The cookie that carries the login form's CSRF token before a session exists.
pub const LOGIN_COOKIE: &str = "yuqing_console_login";

/// 32 random bytes from the operating system, hex-encoded.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// What a request learns from its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// The session id (the cookie's value).
    pub id: String,
    /// Who is logged in.
    pub actor: Actor,
    /// The token every form of this session carries.
    pub csrf: String,
}

impl SessionView {
    /// True when `presented` is this session's CSRF token (constant-time).
    pub fn csrf_ok(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|p| ct_eq(p.as_bytes(), self.csrf.as_bytes()))
    }
}

#[derive(Debug)]
struct Session {
    actor: Actor,
    csrf: String,
    created: DateTime<Utc>,
    last_seen: DateTime<Utc>,
}

/// The sessions of one console.
#[derive(Debug)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    idle: chrono::Duration,
    max_age: chrono::Duration,
    cap: usize,
}

impl Sessions {
    /// Sessions that end after `idle` without use or `max_age` after login; at most `cap` kept.
    pub fn new(idle: std::time::Duration, max_age: std::time::Duration, cap: usize) -> Sessions {
        let conv = |d: std::time::Duration| {
            chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(30))
        };
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle: conv(idle),
            max_age: conv(max_age),
            cap: cap.max(1),
        }
    }

    fn expired(&self, s: &Session, now: DateTime<Utc>) -> bool {
        now - s.last_seen > self.idle || now - s.created > self.max_age
    }

    /// Starts a session for `actor` at `now`.
    pub fn create(&self, actor: Actor, now: DateTime<Utc>) -> SessionView {
        let id = random_token();
        let csrf = random_token();
        let mut map = self.map.lock();
        map.retain(|_, s| !self.expired(s, now));
        while map.len() >= self.cap {
            // Full: end the least recently used session.
            let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            map.remove(&oldest);
            metrics::SESSIONS_EVICTED.inc();
        }
        map.insert(
            id.clone(),
            Session {
                actor: actor.clone(),
                csrf: csrf.clone(),
                created: now,
                last_seen: now,
            },
        );
        metrics::SESSIONS.set(map.len() as i64);
        SessionView { id, actor, csrf }
    }

    /// The live session `id` names, marking it used at `now`; an expired one is ended.
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<SessionView> {
        let mut map = self.map.lock();
        let s = map.get_mut(id)?;
        if self.expired(s, now) {
            map.remove(id);
            metrics::SESSIONS.set(map.len() as i64);
            return None;
        }
        s.last_seen = s.last_seen.max(now);
        Some(SessionView {
            id: id.to_string(),
            actor: s.actor.clone(),
            csrf: s.csrf.clone(),
        })
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) -> bool {
        let mut map = self.map.lock();
        let gone = map.remove(id).is_some();
        metrics::SESSIONS.set(map.len() as i64);
        gone
    }

    /// Sessions kept now (expired ones included until they are next looked at).
    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    /// True when no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value for `name=value` on the console's path, `HttpOnly`,
/// `SameSite=Strict`, living `max_age_secs` (0 clears it).
pub fn set_cookie(name: &str, value: &str, path: &str, max_age_secs: u64, secure: bool) -> String {
    let mut s =
        format!("{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict");
    if secure {
        s.push_str("; Secure");
    }
    s
}

/// True when `a` and `b` are equal; the time taken depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::HeaderValue;

    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn sessions_expire_when_idle_and_at_their_age_limit() {
        let s = Sessions::new(Duration::from_secs(600), Duration::from_secs(3600), 10);
        let v = s.create(Actor::duty("王值班"), t(0));
        assert_eq!(v.id.len(), 64);
        assert_ne!(v.id, v.csrf);
        assert_eq!(s.get(&v.id, t(500)).unwrap().actor.name, "王值班");
        assert!(s.get(&v.id, t(1000)).is_some(), "use at 500 kept it alive");
        assert!(s.get(&v.id, t(1601)).is_none(), "idle for more than 600s");
        assert!(s.is_empty());
        let v = s.create(Actor::duty("王值班"), t(0));
        for k in 1..=6 {
            assert!(s.get(&v.id, t(k * 500)).is_some());
        }
        assert!(s.get(&v.id, t(3601)).is_none(), "older than an hour");
        assert!(s.get("unknown", t(0)).is_none());
    }

    #[test]
    fn a_full_store_ends_the_least_recently_used_session() {
        let s = Sessions::new(Duration::from_secs(600), Duration::from_secs(3600), 2);
        let a = s.create(Actor::duty("a"), t(0));
        let b = s.create(Actor::duty("b"), t(1));
        assert!(s.get(&a.id, t(2)).is_some());
        let c = s.create(Actor::duty("c"), t(3));
        assert!(s.get(&b.id, t(4)).is_none(), "b was least recently used");
        assert!(s.get(&a.id, t(4)).is_some());
        assert!(s.get(&c.id, t(4)).is_some());
        assert!(s.remove(&c.id));
        assert!(!s.remove(&c.id));
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let s = Sessions::new(Duration::from_secs(600), Duration::from_secs(3600), 2);
        let v = s.create(Actor::viewer("v"), t(0));
        assert!(v.csrf_ok(Some(&v.csrf.clone())));
        assert!(!v.csrf_ok(None));
        assert!(!v.csrf_ok(Some("")));
        assert!(!v.csrf_ok(Some(&v.csrf[..63])));
        let mut wrong = v.csrf.clone();
        wrong.replace_range(0..1, if wrong.starts_with('0') { "1" } else { "0" });
        assert!(!v.csrf_ok(Some(&wrong)));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; yuqing_console_session=abc ; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
        let set = set_cookie(SESSION_COOKIE, "x", "/console", 60, true);
        assert_eq!(
            set,
            "yuqing_console_session=x; Path=/console; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
    }
}
