//! The spread chart: an event's cumulative size over event time as inline SVG, with the
//! "2 小时上网发布，6 小时转播，24 小时达到高潮" marks and the 24-hour forecast band.
//!
//! Only numbers and fixed words go into the SVG; its colours come from the style sheet (classes),
//! so the page's Content-Security-Policy needs no inline style.

use chrono::{DateTime, Duration, Utc};
use maud::{html, Markup};
use yuqing_core::Forecast;
use yuqing_store::SpreadPoint;

use crate::text;

const W: f64 = 800.0;
const H: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 44.0;

/// The size of a point: items + reposts + comments, as the forecast counts it.
pub fn size(p: &SpreadPoint) -> f64 {
    (p.items.max(0) + p.reposts.max(0) + p.comments.max(0)) as f64
}

/// Maps event time and size to chart coordinates.
struct Scale {
    t0: i64,
    t1: i64,
    ymax: f64,
}

impl Scale {
    fn x(&self, t: DateTime<Utc>) -> f64 {
        let span = (self.t1 - self.t0).max(1) as f64;
        let f = ((t.timestamp_millis() - self.t0) as f64 / span).clamp(0.0, 1.0);
        LEFT + f * (W - LEFT - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        let f = if self.ymax > 0.0 {
            (v / self.ymax).clamp(0.0, 1.0)
        } else {
            0.0
        };
        H - BOTTOM - f * (H - TOP - BOTTOM)
    }
}

fn finite(v: f64) -> Option<f64> {
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// The chart of `points` for an event first seen at `first_seen`, with `forecast`.
pub fn spread(points: &[SpreadPoint], first_seen: DateTime<Utc>, forecast: &Forecast) -> Markup {
    if points.is_empty() {
        return html! { p.empty { "暂无传播数据。" } };
    }
    let start = points
        .iter()
        .map(|p| p.at)
        .min()
        .unwrap_or(first_seen)
        .min(first_seen);
    let last = points.iter().map(|p| p.at).max().unwrap_or(first_seen);
    let day = first_seen + Duration::hours(24);
    let end = last.max(day);
    let band = (
        finite(forecast.low),
        finite(forecast.size),
        finite(forecast.high),
    );
    let mut ymax = points.iter().map(size).fold(0.0, f64::max);
    for v in [band.0, band.1, band.2].into_iter().flatten() {
        ymax = ymax.max(v);
    }
    let ymax = nice_ceiling((ymax * 1.05).max(10.0));
    let s = Scale {
        t0: start.timestamp_millis(),
        t1: end.timestamp_millis(),
        ymax,
    };
    let mut sorted: Vec<&SpreadPoint> = points.iter().collect();
    sorted.sort_by_key(|p| p.at);
    let line: String = sorted
        .iter()
        .map(|p| format!("{:.1},{:.1}", s.x(p.at), s.y(size(p))))
        .collect::<Vec<_>>()
        .join(" ");
    let base = H - BOTTOM;
    let area = format!(
        "{:.1},{base:.1} {line} {:.1},{base:.1}",
        s.x(sorted[0].at),
        s.x(sorted[sorted.len() - 1].at)
    );
    let marks = [(2, "2h 上网"), (6, "6h 转播"), (24, "24h 高潮")];
    let y_ticks = [0.0, ymax / 2.0, ymax];
    let x_ticks = [start, start + (end - start) / 2, end];
    let label = format!(
        "传播曲线：{} 个时点，当前规模 {}，24 小时预测 {}",
        points.len(),
        text::num(size(sorted[sorted.len() - 1])),
        band.1.map(text::num).unwrap_or_else(|| "—".into())
    );
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(label) xmlns="http://www.w3.org/2000/svg" {
            title { (label) }
            line.axis x1=(LEFT) y1=(base) x2=(W - RIGHT) y2=(base) {}
            line.axis x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(base) {}
            @for v in y_ticks {
                line.grid x1=(LEFT) y1=(fmt(s.y(v))) x2=(W - RIGHT) y2=(fmt(s.y(v))) {}
                text.tick x=(LEFT - 6.0) y=(fmt(s.y(v) + 4.0)) text-anchor="end" { (text::num(v)) }
            }
            @for (i, t) in x_ticks.iter().enumerate() {
                text.tick x=(fmt(s.x(*t))) y=(fmt(base + 18.0))
                    text-anchor=(match i { 0 => "start", 1 => "middle", _ => "end" }) {
                    (text::short_datetime(t))
                }
            }
            @for (h, name) in marks {
                @let t = first_seen + Duration::hours(h);
                @if t >= start && t <= end {
                    line.mark x1=(fmt(s.x(t))) y1=(TOP) x2=(fmt(s.x(t))) y2=(base) {}
                    text.mark-label x=(fmt(s.x(t) + 3.0)) y=(TOP + 10.0) { (name) }
                }
            }
            polygon.area points=(area) {}
            polyline.line points=(line) {}
            @for p in &sorted {
                circle.point cx=(fmt(s.x(p.at))) cy=(fmt(s.y(size(p)))) r="2.5" {}
            }
            @if let (Some(lo), Some(hi)) = (band.0, band.2) {
                @let x = s.x(day);
                rect.band x=(fmt(x - 6.0)) y=(fmt(s.y(hi))) width="12"
                    height=(fmt((s.y(lo) - s.y(hi)).max(1.0))) {}
                @if let Some(mid) = band.1 {
                    circle.forecast cx=(fmt(x)) cy=(fmt(s.y(mid))) r="4" {}
                }
                text.band-label x=(fmt(x - 8.0)) y=(fmt(s.y(hi) - 6.0)) text-anchor="end" {
                    "预测 " (text::num(lo)) "–" (text::num(hi))
                }
            }
        }
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `v`.
fn nice_ceiling(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 10.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(min: i64, items: i64, reposts: i64) -> SpreadPoint {
        SpreadPoint {
            at: DateTime::from_timestamp(1_800_000_000 + min * 60, 0).unwrap(),
            items,
            reposts,
            comments: 0,
            likes: 0,
            velocity: 1.0,
            stage: "emerging".into(),
        }
    }

    fn forecast(low: f64, size: f64, high: f64) -> Forecast {
        Forecast {
            size,
            low,
            high,
            peak_at: None,
            method: "test".into(),
        }
    }

    #[test]
    fn draws_the_curve_marks_and_band() {
        let pts = vec![pt(0, 1, 0), pt(60, 5, 20), pt(180, 9, 200)];
        let svg = spread(&pts, pts[0].at, &forecast(500.0, 800.0, 1200.0)).into_string();
        assert!(svg.starts_with("<svg class=\"chart\""), "{svg}");
        assert_eq!(svg.matches("<circle class=\"point\"").count(), 3);
        assert!(svg.contains("2h 上网") && svg.contains("6h 转播") && svg.contains("24h 高潮"));
        assert!(svg.contains("预测 500–1200"));
        assert!(svg.contains("<rect class=\"band\""));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert!(!svg.contains("style="), "colours come from the style sheet");
    }

    #[test]
    fn survives_degenerate_input() {
        let svg = spread(&[], DateTime::UNIX_EPOCH, &forecast(0.0, 0.0, 0.0)).into_string();
        assert!(svg.contains("暂无传播数据"));
        let one = vec![pt(0, 1, 0)];
        let svg = spread(&one, one[0].at, &forecast(f64::NAN, f64::INFINITY, -1.0)).into_string();
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert!(!svg.contains("class=\"band\""));
        let neg = vec![pt(0, -5, -5)];
        let svg = spread(&neg, neg[0].at, &forecast(1.0, 2.0, 3.0)).into_string();
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn ceilings_are_round() {
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(11.0), 20.0);
        assert_eq!(nice_ceiling(420.0), 500.0);
        assert_eq!(nice_ceiling(f64::NAN), 10.0);
    }
}
