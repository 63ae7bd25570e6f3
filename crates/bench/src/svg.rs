//! SVG charts for docs/benchmarks.md, written as plain SVG text so the
//! report needs no plotting dependency and renders on any forge.
//!
//! - [`bars`]: one row per workload, one bar per server, each row scaled to
//!   its own maximum (workloads differ by orders of magnitude), value
//!   printed beside each bar.
//! - [`percentiles`]: latency against percentile on a "nines" axis (0, 90,
//!   99, 99.9 …) with a logarithmic latency axis, one line per server.

use std::fmt::Write as _;

/// Series colours, in series order.
const COLOURS: &[&str] = &["#d9480f", "#1c7ed6", "#2b8a3e", "#862e9c"];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn legend(svg: &mut String, series: &[&str], x: f64, y: f64) {
    for (i, name) in series.iter().enumerate() {
        let x = x + i as f64 * 120.0;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            y - 10.0,
            COLOURS[i % COLOURS.len()],
            x + 16.0,
            y,
            escape(name)
        );
    }
}

/// A grouped horizontal bar chart: `rows` of (label, one value per series).
pub fn bars(title: &str, unit: &str, series: &[&str], rows: &[(String, Vec<f64>)]) -> String {
    let bar_h = 14.0;
    let row_h = bar_h * series.len() as f64 + 12.0;
    let (left, width) = (150.0, 640.0);
    let top = 56.0;
    let height = top + row_h * rows.len() as f64 + 10.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="sans-serif" font-size="12">"#,
        left + width + 110.0
    );
    let _ = write!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="20" font-size="15">{} ({})</text>"#,
        escape(title),
        escape(unit)
    );
    legend(&mut svg, series, left, 42.0);
    for (r, (label, values)) in rows.iter().enumerate() {
        let y0 = top + r as f64 * row_h;
        let max = values
            .iter()
            .cloned()
            .fold(0.0_f64, f64::max)
            .max(f64::MIN_POSITIVE);
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y0 + row_h / 2.0,
            escape(label)
        );
        for (i, v) in values.iter().enumerate() {
            let w = (v / max * width).max(1.0);
            let y = y0 + i as f64 * bar_h;
            let _ = write!(
                svg,
                r#"<rect x="{left}" y="{y}" width="{w:.1}" height="{}" fill="{}"/><text x="{:.1}" y="{}">{}</text>"#,
                bar_h - 2.0,
                COLOURS[i % COLOURS.len()],
                left + w + 4.0,
                y + bar_h - 4.0,
                human(*v)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Position of percentile `p` on the nines axis: 90 → 1, 99 → 2, ….
fn nines(p: f64) -> f64 {
    if p >= 100.0 {
        6.0
    } else {
        -(1.0 - p / 100.0).log10()
    }
}

/// Latency percentile curves: `series` of (name, [(percentile, µs)]).
pub fn percentiles(title: &str, series: &[(&str, &[(f64, f64)])]) -> String {
    let (left, top, w, h) = (70.0, 50.0, 600.0, 300.0);
    let pts: Vec<f64> = series
        .iter()
        .flat_map(|(_, c)| c.iter().map(|(_, v)| v.max(0.1)))
        .collect();
    let lo = pts
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min)
        .log10()
        .floor();
    let hi = pts
        .iter()
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max)
        .log10()
        .ceil()
        .max(lo + 1.0);
    let max_x = series
        .iter()
        .flat_map(|(_, c)| c.iter().map(|(p, _)| nines(*p)))
        .fold(1.0_f64, f64::max)
        .ceil();
    let x_of = |p: f64| left + nines(p) / max_x * w;
    let y_of = |us: f64| top + h - (us.max(0.1).log10() - lo) / (hi - lo) * h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">"#,
        left + w + 30.0,
        top + h + 50.0
    );
    let _ = write!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="20" font-size="15">{}</text>"#,
        escape(title)
    );
    legend(
        &mut svg,
        &series.iter().map(|s| s.0).collect::<Vec<_>>(),
        left,
        40.0,
    );
    let mut decade = lo;
    while decade <= hi {
        let y = y_of(10f64.powf(decade));
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            left + w,
            left - 6.0,
            y + 4.0,
            human_us(10f64.powf(decade))
        );
        decade += 1.0;
    }
    let labels = ["0", "90", "99", "99.9", "99.99", "99.999"];
    for (i, label) in labels.iter().enumerate().take(max_x as usize + 1) {
        let x = left + i as f64 / max_x * w;
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{top}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"##,
            top + h,
            top + h + 16.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">percentile</text><text transform="translate(14,{}) rotate(-90)" text-anchor="middle">latency</text>"#,
        left + w / 2.0,
        top + h + 36.0,
        top + h / 2.0
    );
    for (i, (_, curve)) in series.iter().enumerate() {
        let points: Vec<String> = curve
            .iter()
            .map(|(p, v)| format!("{:.1},{:.1}", x_of(*p), y_of(*v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            COLOURS[i % COLOURS.len()],
            points.join(" ")
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// 12345.6 → "12.3k".
pub fn human(v: f64) -> String {
    match v.abs() {
        a if a >= 1e9 => format!("{:.2}G", v / 1e9),
        a if a >= 1e6 => format!("{:.2}M", v / 1e6),
        a if a >= 1e4 => format!("{:.1}k", v / 1e3),
        a if a >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

/// Microseconds with a unit: 1000 → "1 ms".
pub fn human_us(us: f64) -> String {
    if us >= 1e6 {
        format!("{:.3} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.3} ms", us / 1e3)
    } else {
        format!("{us:.1} µs")
    }
    .replace(".000 ", " ")
    .replace(".0 ", " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_puts_each_nine_one_step_further() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(90.0) - 1.0).abs() < 1e-9);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn charts_are_well_formed_svg_with_every_series() {
        let c = percentiles(
            "read",
            &[("a", &[(0.0, 10.0), (99.0, 100.0)]), ("b", &[(0.0, 20.0)])],
        );
        assert!(c.starts_with("<svg") && c.trim_end().ends_with("</svg>"));
        assert_eq!(c.matches("<polyline").count(), 2);
        let b = bars(
            "t",
            "ops/s",
            &["a", "b"],
            &[("read".into(), vec![1.0, 2.0])],
        );
        assert_eq!(b.matches(r#"height="12""#).count(), 2 + 2);
    }

    #[test]
    fn human_units() {
        assert_eq!(human(12345.0), "12.3k");
        assert_eq!(human_us(1000.0), "1 ms");
        assert_eq!(human_us(100.0), "100 µs");
    }
}
