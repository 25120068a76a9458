//! The per-sink rate limiter: one token bucket per window.
//!
//! A chat robot counts requests in a window ("20 per minute"; 钉钉 then throttles the robot for 10
//! minutes). A classic refilling bucket of 20 tokens lets 39 requests through in the first minute
//! (20 at once, then one every 3 s), so here a spent token returns to its bucket exactly one window
//! after the request that spent it *completed*. Then no window of that length ever holds more
//! requests than the bucket has tokens, as the server sees them: a request arrives at the server
//! after it started and before it completed. Waiting uses `tokio::time`, so tests run a day of
//! limits in seconds under `tokio::time::pause()`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::RateWindow;

#[derive(Debug)]
struct Bucket {
    capacity: usize,
    per: Duration,
    /// When the spent tokens return, oldest first.
    returns: VecDeque<Instant>,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        while self.returns.front().is_some_and(|t| *t <= now) {
            self.returns.pop_front();
        }
    }
}

/// A rate limiter over any number of windows (none: unlimited).
#[derive(Debug)]
pub struct RateLimiter {
    buckets: Vec<Bucket>,
    /// Tokens taken by requests that have not completed yet.
    in_flight: usize,
}

impl RateLimiter {
    /// A limiter for these windows.
    pub fn new(windows: &[RateWindow]) -> RateLimiter {
        RateLimiter {
            buckets: windows
                .iter()
                .map(|w| Bucket {
                    capacity: w.messages.max(1) as usize,
                    per: w.per,
                    returns: VecDeque::with_capacity(w.messages as usize),
                })
                .collect(),
            in_flight: 0,
        }
    }

    /// True when there are no windows.
    pub fn is_unlimited(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Requests that could start now without waiting (`usize::MAX` when unlimited).
    pub fn available(&mut self) -> usize {
        let now = Instant::now();
        let in_flight = self.in_flight;
        self.buckets
            .iter_mut()
            .map(|b| {
                b.refill(now);
                b.capacity.saturating_sub(b.returns.len() + in_flight)
            })
            .min()
            .unwrap_or(usize::MAX)
    }

    /// When a token will be free in every window (now, when one already is).
    fn ready_at(&mut self) -> Instant {
        let now = Instant::now();
        let in_flight = self.in_flight;
        let mut at = now;
        for b in &mut self.buckets {
            b.refill(now);
            let used = b.returns.len() + in_flight;
            if used >= b.capacity {
                // The (used - capacity + 1)-th oldest return frees a token; in-flight tokens
                // return only after completing, so a limiter with every token in flight has no
                // time to offer: the caller must complete first.
                let idx = used - b.capacity;
                let t = b.returns.get(idx).copied().unwrap_or(now + b.per);
                at = at.max(t);
            }
        }
        at
    }

    /// Waits for a token in every window and takes it. Returns how long it waited.
    /// Call [`RateLimiter::complete`] when the request is over.
    pub async fn acquire(&mut self) -> Duration {
        let start = Instant::now();
        loop {
            let at = self.ready_at();
            if at <= Instant::now() {
                break;
            }
            tokio::time::sleep_until(at).await;
        }
        self.in_flight += 1;
        start.elapsed()
    }

    /// Gives back a token taken by [`RateLimiter::acquire`] for a request that was never sent.
    pub fn release(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Marks the oldest in-flight request as completed: its tokens return one window from now.
    pub fn complete(&mut self) {
        if self.in_flight == 0 {
            return;
        }
        self.in_flight -= 1;
        let now = Instant::now();
        for b in &mut self.buckets {
            b.returns.push_back(now + b.per);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_minute(n: u32) -> RateWindow {
        RateWindow::new(n, Duration::from_secs(60))
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_capacity_in_any_window() {
        let mut l = RateLimiter::new(&[per_minute(20)]);
        let t0 = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..65 {
            l.acquire().await;
            sent.push(Instant::now() - t0);
            // Requests take 200 ms.
            tokio::time::sleep(Duration::from_millis(200)).await;
            l.complete();
        }
        for (i, t) in sent.iter().enumerate() {
            let in_window = sent[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(60))
                .count();
            assert!(
                in_window <= 20,
                "{in_window} requests in the minute after {t:?}"
            );
        }
        // And it does not wait needlessly: 20 go at once, 20 more a minute later.
        assert!(sent[19] < Duration::from_secs(5));
        assert!(sent[20] >= Duration::from_secs(60) && sent[20] < Duration::from_secs(61));
    }

    #[tokio::test(start_paused = true)]
    async fn several_windows_all_apply() {
        let mut l =
            RateLimiter::new(&[per_minute(100), RateWindow::new(5, Duration::from_secs(1))]);
        assert_eq!(l.available(), 5);
        let t0 = Instant::now();
        for _ in 0..10 {
            l.acquire().await;
            l.complete();
        }
        let took = Instant::now() - t0;
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_secs(2),
            "{took:?}"
        );
        // The second window is spent until a second later; then the first still counts 10.
        assert_eq!(l.available(), 0);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(l.available(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let mut l = RateLimiter::new(&[]);
        assert!(l.is_unlimited());
        assert_eq!(l.available(), usize::MAX);
        for _ in 0..1000 {
            assert_eq!(l.acquire().await, Duration::ZERO);
            l.complete();
        }
    }
}
