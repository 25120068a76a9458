//! Small SVG charts, written without JavaScript: a line chart (the spread curve with its
//! 2h/6h/24h marks), a horizontal bar chart (platforms) and a column chart (the sentiment
//! histogram). The output is a standalone, well-formed SVG document; every label is escaped and
//! every number is finite.

use std::fmt::Write;

use crate::escape::html as esc;

const W: f64 = 640.0;
const H: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 52.0;
const BOTTOM: f64 = 44.0;

/// Colours of series, in order (colour-blind-safe palette).
pub const PALETTE: [&str; 6] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
];

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// Points `(x, y)`, in increasing x.
    pub points: Vec<(f64, f64)>,
}

/// A vertical marker line on a line chart (for example "6h 转播").
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Where, in x units.
    pub x: f64,
    /// Its label.
    pub label: String,
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// A number for an attribute: finite, one decimal.
fn n(v: f64) -> String {
    let v = (finite(v) * 10.0).round() / 10.0;
    if v == v.trunc() {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A tick label: integers without decimals, large numbers with 万.
pub fn label_number(v: f64) -> String {
    let v = finite(v);
    if v.abs() >= 100_000.0 {
        let w = v / 10_000.0;
        if w == w.trunc() {
            format!("{}万", w as i64)
        } else {
            format!("{w:.1}万")
        }
    } else if v == v.trunc() {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// "Nice" tick step for a range: 1, 2 or 5 times a power of ten, giving about `count` ticks.
fn nice_step(max: f64, count: f64) -> f64 {
    let max = finite(max).abs();
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / count;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

fn open(out: &mut String, title: &str, height: f64) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}" font-family="'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif" font-size="12"><title>{t}</title><rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/><text x="{cx}" y="20" text-anchor="middle" font-size="14" font-weight="bold" fill="#222222">{t}</text>"##,
        w = n(W),
        h = n(height),
        cx = n(W / 2.0),
        t = esc(title)
    );
}

fn y_axis(out: &mut String, ymax: f64, step: f64) {
    let plot_h = H - TOP - BOTTOM;
    let mut v = 0.0;
    let mut guard = 0;
    while v <= ymax + step * 1e-9 && guard < 50 {
        let y = H - BOTTOM - v / ymax * plot_h;
        let _ = write!(
            out,
            r##"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#e0e0e0" stroke-width="1"/><text x="{tx}" y="{ty}" text-anchor="end" fill="#555555">{l}</text>"##,
            x1 = n(LEFT),
            x2 = n(W - RIGHT),
            y = n(y),
            tx = n(LEFT - 6.0),
            ty = n(y + 4.0),
            l = esc(&label_number(v))
        );
        v += step;
        guard += 1;
    }
    let _ = write!(
        out,
        r##"<line x1="{x}" y1="{t}" x2="{x}" y2="{b}" stroke="#888888" stroke-width="1"/>"##,
        x = n(LEFT),
        t = n(TOP),
        b = n(H - BOTTOM)
    );
}

/// A line chart of `series` over `x` in `[0, x_max]` with vertical `marks`; `x_label` names the
/// x axis (for example "距首次发现（小时）").
pub fn line_chart(title: &str, x_label: &str, series: &[Series], marks: &[Mark]) -> String {
    let mut out = String::with_capacity(4096);
    open(&mut out, title, H);
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| finite(p.0)))
        .chain(marks.iter().map(|m| finite(m.x)))
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let y_top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| finite(p.1)))
        .fold(0.0_f64, f64::max);
    let y_step = nice_step(y_top.max(1.0), 5.0);
    let y_max = ((y_top.max(1.0) / y_step).ceil() * y_step).max(y_step);
    y_axis(&mut out, y_max, y_step);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let px = |x: f64| LEFT + finite(x).clamp(0.0, x_max) / x_max * plot_w;
    let py = |y: f64| H - BOTTOM - finite(y).clamp(0.0, y_max) / y_max * plot_h;
    // x axis and ticks.
    let x_step = nice_step(x_max, 8.0);
    let _ = write!(
        out,
        r##"<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#888888" stroke-width="1"/>"##,
        l = n(LEFT),
        r = n(W - RIGHT),
        b = n(H - BOTTOM)
    );
    let mut x = 0.0;
    let mut guard = 0;
    while x <= x_max + x_step * 1e-9 && guard < 60 {
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" text-anchor="middle" fill="#555555">{l}</text>"##,
            x = n(px(x)),
            y = n(H - BOTTOM + 16.0),
            l = esc(&label_number(x))
        );
        x += x_step;
        guard += 1;
    }
    let _ = write!(
        out,
        r##"<text x="{x}" y="{y}" text-anchor="middle" fill="#333333">{l}</text>"##,
        x = n(LEFT + plot_w / 2.0),
        y = n(H - 8.0),
        l = esc(x_label)
    );
    // Marks.
    for m in marks {
        if !(0.0..=x_max).contains(&finite(m.x)) {
            continue;
        }
        // Labels near the right edge go to the left of their line.
        let right = px(m.x) > W - RIGHT - 90.0;
        let _ = write!(
            out,
            r##"<line x1="{x}" y1="{t}" x2="{x}" y2="{b}" stroke="#b22222" stroke-width="1" stroke-dasharray="4 3"/><text x="{tx}" y="{ty}" fill="#b22222" font-size="11" text-anchor="{anchor}">{l}</text>"##,
            x = n(px(m.x)),
            t = n(TOP),
            b = n(H - BOTTOM),
            tx = n(if right { px(m.x) - 3.0 } else { px(m.x) + 3.0 }),
            ty = n(TOP + 12.0),
            anchor = if right { "end" } else { "start" },
            l = esc(&m.label)
        );
    }
    // Series and legend.
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        if !s.points.is_empty() {
            let pts: Vec<String> = s
                .points
                .iter()
                .map(|&(x, y)| format!("{},{}", n(px(x)), n(py(y))))
                .collect();
            let _ = write!(
                out,
                r##"<polyline points="{p}" fill="none" stroke="{colour}" stroke-width="2"/>"##,
                p = pts.join(" ")
            );
        }
        let lx = LEFT + 8.0 + i as f64 * 120.0;
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{y}" width="12" height="4" fill="{colour}"/><text x="{tx}" y="{ty}" fill="#333333">{l}</text>"##,
            x = n(lx),
            y = n(TOP - 18.0),
            tx = n(lx + 16.0),
            ty = n(TOP - 13.0),
            l = esc(&s.name)
        );
    }
    out.push_str("</svg>");
    out
}

/// A horizontal bar chart, one bar per `(label, value)`, values written at the bar ends; the
/// height follows the number of bars.
pub fn bar_chart(title: &str, bars: &[(String, f64)]) -> String {
    let band = 30.0;
    let height = TOP + bars.len().max(1) as f64 * band + 12.0;
    let mut out = String::with_capacity(2048);
    open(&mut out, title, height);
    let max = bars
        .iter()
        .map(|b| finite(b.1))
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let x0 = 140.0;
    let plot_w = W - x0 - 80.0;
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = TOP - 12.0 + i as f64 * band;
        let w = finite(*v).max(0.0) / max * plot_w;
        let colour = PALETTE[i % PALETTE.len()];
        let _ = write!(
            out,
            r##"<text x="{lx}" y="{ty}" text-anchor="end" fill="#333333">{l}</text><rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{colour}"/><text x="{vx}" y="{ty}" fill="#333333">{v}</text>"##,
            lx = n(x0 - 8.0),
            ty = n(y + band * 0.5 + 4.0),
            l = esc(label),
            x = n(x0),
            y = n(y + band * 0.15),
            w = n(w),
            h = n(band * 0.7),
            vx = n(x0 + w + 6.0),
            v = esc(&label_number(*v))
        );
    }
    out.push_str("</svg>");
    out
}

/// A column chart (histogram), one column per `(label, count)`.
pub fn column_chart(title: &str, x_label: &str, columns: &[(String, f64)]) -> String {
    let mut out = String::with_capacity(2048);
    open(&mut out, title, H);
    let top = columns.iter().map(|c| finite(c.1)).fold(0.0_f64, f64::max);
    let step = nice_step(top.max(1.0), 5.0);
    let y_max = ((top.max(1.0) / step).ceil() * step).max(step);
    y_axis(&mut out, y_max, step);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let k = columns.len().max(1) as f64;
    let band = plot_w / k;
    for (i, (label, v)) in columns.iter().enumerate() {
        let h = finite(*v).max(0.0) / y_max * plot_h;
        let x = LEFT + i as f64 * band;
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"/><text x="{cx}" y="{ly}" text-anchor="middle" fill="#555555" font-size="10">{l}</text>"##,
            x = n(x + band * 0.1),
            y = n(H - BOTTOM - h),
            w = n(band * 0.8),
            h = n(h),
            c = PALETTE[0],
            cx = n(x + band / 2.0),
            ly = n(H - BOTTOM + 14.0),
            l = esc(label)
        );
        if *v > 0.0 {
            let _ = write!(
                out,
                r##"<text x="{cx}" y="{vy}" text-anchor="middle" fill="#333333" font-size="10">{v}</text>"##,
                cx = n(x + band / 2.0),
                vy = n(H - BOTTOM - h - 3.0),
                v = esc(&label_number(*v))
            );
        }
    }
    let _ = write!(
        out,
        r##"<text x="{x}" y="{y}" text-anchor="middle" fill="#333333">{l}</text>"##,
        x = n(LEFT + plot_w / 2.0),
        y = n(H - 8.0),
        l = esc(x_label)
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 5.0), 2.0);
        assert_eq!(nice_step(0.0, 5.0), 1.0);
        assert_eq!(nice_step(f64::NAN, 5.0), 1.0);
        assert_eq!(label_number(250_000.0), "25万");
        assert_eq!(label_number(2.5), "2.5");
        assert_eq!(n(f64::INFINITY), "0");
    }

    #[test]
    fn line_chart_draws_series_and_marks_in_range() {
        let s = line_chart(
            "传播曲线",
            "小时",
            &[Series {
                name: "帖文".into(),
                points: vec![(0.0, 1.0), (3.0, 40.0)],
            }],
            &[
                Mark {
                    x: 2.0,
                    label: "2h".into(),
                },
                Mark {
                    x: 24.0,
                    label: "24h".into(),
                },
            ],
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 1);
        // Marks extend the x range, so both show.
        assert!(s.contains(">2h<") && s.contains(">24h<"));
        assert!(!s.contains("NaN") && !s.contains("inf"));
    }

    #[test]
    fn empty_and_degenerate_inputs_still_draw() {
        for s in [
            line_chart("t", "x", &[], &[]),
            bar_chart("t", &[]),
            column_chart("t", "x", &[]),
            bar_chart("t", &[("a".into(), f64::NAN), ("b".into(), -1.0)]),
        ] {
            assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
            assert!(!s.contains("NaN"));
        }
    }
}
