//! The injectable clock.
//!
//! Every rule about time reads a [`Clock`]: the daemon uses [`SystemClock`], `yuqing replay` and the
//! tests use a [`ManualClock`] that they advance themselves, and the bundled demo uses a
//! [`ScaledClock`] on which an hour of simulated time passes in a minute of real time.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use parking_lot::Mutex;

/// A source of "now".
pub trait Clock: Send + Sync + Debug {
    /// The current time on this clock.
    fn now(&self) -> DateTime<Utc>;

    /// How long to wait in real time for `d` to pass on this clock (used for timers).
    fn real(&self, d: Duration) -> Duration {
        d
    }

    /// How much of this clock's time passes in `d` of real time.
    fn simulated(&self, d: Duration) -> Duration {
        d
    }

    /// "Now" in China Standard Time, the zone reports and messages are written in.
    fn now_cst(&self) -> DateTime<FixedOffset> {
        self.now().with_timezone(&cst())
    }
}

/// A clock shared between tasks.
pub type SharedClock = Arc<dyn Clock>;

/// UTC+8, China Standard Time.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// Wall-clock time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to: for tests and replays.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock to `t` (never backwards).
    pub fn set(&self, t: DateTime<Utc>) {
        let mut now = self.now.lock();
        if t > *now {
            *now = t;
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock();
        *now += chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero());
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock()
    }
}

/// Simulated time running `speed` times faster than real time from an origin.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    origin_real: Instant,
    origin_sim: DateTime<Utc>,
    speed: f64,
}

impl ScaledClock {
    /// A clock that reads `origin` now and runs `speed` times faster than real time.
    pub fn new(origin: DateTime<Utc>, speed: f64) -> ScaledClock {
        ScaledClock {
            origin_real: Instant::now(),
            origin_sim: origin,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.origin_real.elapsed().as_secs_f64() * self.speed;
        self.origin_sim + chrono::Duration::microseconds((elapsed * 1e6) as i64)
    }

    fn real(&self, d: Duration) -> Duration {
        Duration::from_secs_f64(d.as_secs_f64() / self.speed)
    }

    fn simulated(&self, d: Duration) -> Duration {
        Duration::from_secs_f64(d.as_secs_f64() * self.speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_forward() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
            .unwrap()
            .to_utc();
        let c = ManualClock::new(t0);
        c.advance(Duration::from_secs(3600));
        assert_eq!(c.now(), t0 + chrono::Duration::hours(1));
        c.set(t0);
        assert_eq!(c.now(), t0 + chrono::Duration::hours(1));
    }

    #[test]
    fn scaled_clock_converts_durations() {
        let c = ScaledClock::new(Utc::now(), 60.0);
        assert_eq!(c.real(Duration::from_secs(60)), Duration::from_secs(1));
        assert_eq!(c.simulated(Duration::from_secs(1)), Duration::from_secs(60));
        assert_eq!(ScaledClock::new(Utc::now(), -1.0).speed(), 1.0);
    }
}
