//! Polite HTTP: robots.txt, per-host rate limits and concurrency caps, a global cap, conditional
//! GET, bounded redirects, timeouts, bounded bodies (streamed and cut at the limit) and retries with
//! exponential backoff and full jitter.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use texting_robots::Robot;
use tokio::sync::Semaphore;
use tracing::{debug, warn};
use url::Url;

use crate::config::CollectSettings;
use crate::error::FetchError;
use crate::metrics;
use crate::state::Validators;
use crate::urlnorm::host_key;

/// The product token matched against robots.txt groups.
pub const ROBOTS_AGENT: &str = "yuqing";

/// How long an unreachable robots.txt (5xx, network error) keeps a host closed before we ask again.
const ROBOTS_RETRY: Duration = Duration::from_secs(60);

/// One request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub url: &'a str,
    pub source: &'a str,
    pub headers: &'a BTreeMap<String, String>,
    pub extra_headers: &'a [(&'static str, &'a str)],
    pub validators: Option<&'a Validators>,
    pub robots: bool,
}

/// A response with its body read.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// The URL after redirects.
    pub url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub validators: Validators,
    pub body: Bytes,
    /// 304: the validators matched, nothing new.
    pub not_modified: bool,
}

enum RobotsRule {
    AllowAll,
    DisallowAll,
    Rules(Box<Robot>),
}

struct Host {
    sem: Semaphore,
    limiter: DefaultDirectRateLimiter,
    robots: tokio::sync::Mutex<Option<(Instant, Duration, Arc<RobotsRule>)>>,
    crawl_delay: Mutex<Option<Duration>>,
    next_slot: tokio::sync::Mutex<Instant>,
}

/// The shared HTTP client of a collector.
pub(crate) struct Fetcher {
    client: reqwest::Client,
    settings: CollectSettings,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    host_rates: HashMap<String, f64>,
    global: Semaphore,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("hosts", &self.hosts.lock().len())
            .finish()
    }
}

fn quota(rate: f64) -> Quota {
    let rate = if rate.is_finite() && rate > 0.0 {
        rate
    } else {
        1.0
    };
    if rate >= 1.0 {
        let n =
            NonZeroU32::new(rate.round().clamp(1.0, 1_000_000.0) as u32).unwrap_or(NonZeroU32::MIN);
        Quota::per_second(n)
    } else {
        Quota::with_period(Duration::from_secs_f64(1.0 / rate))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
    }
}

impl Fetcher {
    /// Builds the client. `host_rates` holds per-host rate limits configured by sources.
    pub(crate) fn new(
        settings: &CollectSettings,
        host_rates: HashMap<String, f64>,
    ) -> Result<Fetcher, String> {
        let max_redirects = settings.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                attempt.error(format!("more than {max_redirects} redirects"))
            } else if attempt.previous().iter().any(|u| u == attempt.url()) {
                attempt.error("redirect loop")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent())
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .redirect(policy)
            .pool_max_idle_per_host(settings.per_host_concurrency.max(1) * 2)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Fetcher {
            client,
            settings: settings.clone(),
            hosts: Mutex::new(HashMap::new()),
            host_rates,
            global: Semaphore::new(settings.max_concurrency.max(1)),
        })
    }

    fn host(&self, key: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock();
        hosts
            .entry(key.to_string())
            .or_insert_with(|| {
                let rate = self
                    .host_rates
                    .get(key)
                    .copied()
                    .unwrap_or(self.settings.per_host_rate);
                Arc::new(Host {
                    sem: Semaphore::new(self.settings.per_host_concurrency.max(1)),
                    limiter: RateLimiter::direct(quota(rate)),
                    robots: tokio::sync::Mutex::new(None),
                    crawl_delay: Mutex::new(None),
                    next_slot: tokio::sync::Mutex::new(Instant::now()),
                })
            })
            .clone()
    }

    /// Fetches a URL politely; 304 answers come back with `not_modified`.
    pub(crate) async fn fetch(&self, req: Request<'_>) -> Result<Response, FetchError> {
        let url = Url::parse(req.url).map_err(|e| FetchError::InvalidUrl {
            url: req.url.to_string(),
            message: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(FetchError::InvalidUrl {
                url: req.url.to_string(),
                message: "not an http(s) URL".to_string(),
            });
        }
        let host = self.host(&host_key(&url));
        if req.robots && !self.robots_allow(&host, &url, req.source).await {
            metrics::SKIPPED
                .with_label_values(&[req.source, "robots"])
                .inc();
            return Err(FetchError::RobotsDenied {
                url: req.url.to_string(),
            });
        }
        let headers = build_headers(&req);
        let mut attempt: u32 = 0;
        loop {
            let (result, retry_after) =
                self.attempt(&host, &url, headers.clone(), req.source).await;
            let retryable = match &result {
                Ok(r) => matches!(r.status, 429 | 500 | 502 | 503 | 504),
                Err(e) => matches!(
                    e,
                    FetchError::Timeout { .. }
                        | FetchError::Connect { .. }
                        | FetchError::Transport { .. }
                ),
            };
            if !retryable || attempt >= self.settings.retries {
                return match result {
                    Ok(r) => finish(r, req.url),
                    Err(e) => Err(e),
                };
            }
            attempt += 1;
            let base = self
                .settings
                .retry_backoff
                .saturating_mul(1 << (attempt - 1).min(16));
            let jittered = Duration::from_secs_f64(
                rand::thread_rng().gen_range(0.0..=1.0) * base.as_secs_f64(),
            );
            let wait = retry_after.map_or(jittered, |ra| {
                ra.min(self.settings.max_backoff).max(jittered)
            });
            debug!(
                source = req.source,
                url = req.url,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "Retrying request."
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        host: &Host,
        url: &Url,
        headers: HeaderMap,
        source: &str,
    ) -> (Result<Response, FetchError>, Option<Duration>) {
        let _global = self.global.acquire().await;
        let _local = host.sem.acquire().await;
        host.limiter.until_ready().await;
        let delay = *host.crawl_delay.lock();
        if let Some(delay) = delay {
            let mut slot = host.next_slot.lock().await;
            let now = Instant::now();
            if *slot > now {
                tokio::time::sleep(*slot - now).await;
            }
            *slot = Instant::now() + delay;
        }
        let started = Instant::now();
        let sent = self.client.get(url.clone()).headers(headers).send().await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                metrics::REQUESTS
                    .with_label_values(&[source, "error"])
                    .inc();
                return (Err(transport_error(url.as_str(), &e)), None);
            }
        };
        let status = resp.status().as_u16();
        metrics::REQUESTS
            .with_label_values(&[source, metrics::status_class(status)])
            .inc();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let final_url = resp.url().clone();
        let content_type = header_str(resp.headers(), reqwest::header::CONTENT_TYPE);
        let validators = Validators {
            etag: header_str(resp.headers(), reqwest::header::ETAG),
            last_modified: header_str(resp.headers(), reqwest::header::LAST_MODIFIED),
        };
        let body = if (200..300).contains(&status) {
            match read_limited(resp, self.settings.max_body_bytes).await {
                Ok(b) => b,
                Err(e) => return (Err(e), None),
            }
        } else {
            // Error bodies are not needed; dropping the response closes the stream.
            Bytes::new()
        };
        metrics::FETCH_DURATION
            .with_label_values(&[source])
            .observe(started.elapsed().as_secs_f64());
        (
            Ok(Response {
                url: final_url,
                status,
                content_type,
                validators,
                body,
                not_modified: status == 304,
            }),
            retry_after,
        )
    }

    async fn robots_allow(&self, host: &Host, url: &Url, source: &str) -> bool {
        let mut guard = host.robots.lock().await;
        let fresh = guard
            .as_ref()
            .is_some_and(|(at, ttl, _)| at.elapsed() < *ttl);
        if !fresh {
            let rule = self.fetch_robots(url, source).await;
            let ttl = match rule {
                RobotsRule::DisallowAll => ROBOTS_RETRY.min(self.settings.robots_ttl),
                _ => self.settings.robots_ttl,
            };
            if let RobotsRule::Rules(r) = &rule {
                *host.crawl_delay.lock() = r
                    .delay
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .map(|d| Duration::from_secs_f32(d.min(60.0)));
            }
            *guard = Some((Instant::now(), ttl, Arc::new(rule)));
        }
        let rule = guard.as_ref().map(|(_, _, r)| r.clone());
        drop(guard);
        match rule.as_deref() {
            Some(RobotsRule::AllowAll) | None => true,
            Some(RobotsRule::DisallowAll) => false,
            Some(RobotsRule::Rules(r)) => r.allowed(url.as_str()),
        }
    }

    async fn fetch_robots(&self, url: &Url, source: &str) -> RobotsRule {
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let resp = self.client.get(robots_url.clone()).send().await;
        match resp {
            Ok(r) if r.status().is_success() => {
                metrics::REQUESTS.with_label_values(&[source, "2xx"]).inc();
                match read_limited(r, 512 * 1024).await {
                    Ok(body) => match Robot::new(ROBOTS_AGENT, &body) {
                        Ok(robot) => RobotsRule::Rules(Box::new(robot)),
                        Err(e) => {
                            warn!(source, url = %robots_url, error = %e, "Unparsable robots.txt; treating as allow-all.");
                            RobotsRule::AllowAll
                        }
                    },
                    Err(e) => {
                        warn!(source, url = %robots_url, error = %e, "Cannot read robots.txt; host closed for now.");
                        RobotsRule::DisallowAll
                    }
                }
            }
            Ok(r) if r.status().is_client_error() => {
                metrics::REQUESTS.with_label_values(&[source, "4xx"]).inc();
                RobotsRule::AllowAll
            }
            Ok(r) => {
                metrics::REQUESTS
                    .with_label_values(&[source, metrics::status_class(r.status().as_u16())])
                    .inc();
                warn!(source, url = %robots_url, status = r.status().as_u16(), "robots.txt unavailable; host closed for now.");
                RobotsRule::DisallowAll
            }
            Err(e) => {
                metrics::REQUESTS
                    .with_label_values(&[source, "error"])
                    .inc();
                warn!(source, url = %robots_url, error = %e, "robots.txt unreachable; host closed for now.");
                RobotsRule::DisallowAll
            }
        }
    }
}

fn finish(r: Response, url: &str) -> Result<Response, FetchError> {
    match r.status {
        200..=299 | 304 => Ok(r),
        432 => Err(FetchError::Blocked {
            url: url.to_string(),
            reason: "http 432".to_string(),
        }),
        s => Err(FetchError::Status {
            url: url.to_string(),
            status: s,
        }),
    }
}

fn header_str(h: &HeaderMap, name: HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.to_string())
}

fn build_headers(req: &Request<'_>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.5"),
    );
    for (k, v) in req.extra_headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(k, v);
        }
    }
    for (k, v) in req.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(k, v);
        }
    }
    if let Some(v) = req.validators {
        if let Some(e) = v
            .etag
            .as_deref()
            .and_then(|e| HeaderValue::from_str(e).ok())
        {
            h.insert(reqwest::header::IF_NONE_MATCH, e);
        }
        if let Some(l) = v
            .last_modified
            .as_deref()
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            h.insert(reqwest::header::IF_MODIFIED_SINCE, l);
        }
    }
    h
}

fn transport_error(url: &str, e: &reqwest::Error) -> FetchError {
    let message = error_chain(e);
    if e.is_timeout() {
        FetchError::Timeout {
            url: url.to_string(),
        }
    } else if e.is_redirect() {
        FetchError::Redirect {
            url: url.to_string(),
            message,
        }
    } else if e.is_connect() {
        FetchError::Connect {
            url: url.to_string(),
            message,
        }
    } else {
        FetchError::Transport {
            url: url.to_string(),
            message,
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

async fn read_limited(mut resp: reqwest::Response, limit: u64) -> Result<Bytes, FetchError> {
    let url = resp.url().to_string();
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge { url, limit });
    }
    let cap = resp.content_length().unwrap_or(16 * 1024).min(limit) as usize;
    let mut buf = BytesMut::with_capacity(cap);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if (buf.len() + chunk.len()) as u64 > limit {
                    return Err(FetchError::TooLarge { url, limit });
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf.freeze()),
            Err(e) => return Err(transport_error(&url, &e)),
        }
    }
}
