//! A small 2-D chart: lines, points and bars on linear or log axes, with
//! ticks, labels, a title and a legend, rendered to PNG.

use std::path::Path;

use super::canvas::{Canvas, Color};
use super::font::{GLYPH_H, text_width};
use crate::error::{Error, Result};

/// What a series draws.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Line,
    Points,
    /// Bars from `lefts[i]` to `rights[i]`, from 0 up to `ys[i]`.
    Bars {
        lefts: Vec<f64>,
        rights: Vec<f64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Series {
    name: String,
    kind: Kind,
    xs: Vec<f64>,
    ys: Vec<f64>,
    color: Color,
}

/// Where the legend goes inside the plot area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legend {
    /// The corner where the legend covers the fewest drawn data points.
    Auto,
    /// No legend.
    Hidden,
    /// Top-left corner.
    TopLeft,
    /// Top-right corner.
    TopRight,
    /// Bottom-left corner.
    BottomLeft,
    /// Bottom-right corner.
    BottomRight,
}

/// A chart built with a consuming builder and rendered with
/// [`write_png`](Chart::write_png) or [`render`](Chart::render).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `size` | 720 x 540 | image size in pixels |
/// | `x_range`, `y_range` | from the data (5 % padding; bars include 0) | axis limits |
/// | `x_log`, `y_log` | `false` | base-10 log axis (non-positive values are skipped) |
/// | `legend` | `Auto` | legend corner (`Auto`: the emptiest one), or hidden |
///
/// Non-finite values are skipped (a line is broken there). Series whose
/// `xs` and `ys` lengths differ make rendering fail with
/// [`Error::ShapeMismatch`].
///
/// # Example
/// ```no_run
/// use fanaroff_calibrate::plot::LineChart;
/// let t = [1e-4, 1e-3, 1e-2, 1e-1, 1.0];
/// let err = [0.14, 0.12, 0.11, 0.13, 0.18];
/// LineChart::new("test error vs posterior temperature")
///     .x_log(true)
///     .x_label("T")
///     .y_label("error")
///     .series("BBB", &t, &err)
///     .write_png("sweep.png")
///     .unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    title: String,
    x_label: String,
    y_label: String,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    x_log: bool,
    y_log: bool,
    legend: Legend,
    width: usize,
    height: usize,
    series: Vec<Series>,
}

/// The same type under the name other crates look for when drawing curves.
pub type LineChart = Chart;

const SCALE: usize = 2;

impl Chart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Chart {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            x_range: None,
            y_range: None,
            x_log: false,
            y_log: false,
            legend: Legend::Auto,
            width: 720,
            height: 540,
            series: Vec::new(),
        }
    }

    /// Label under the x axis.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Label left of the y axis (drawn vertically).
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Fix the x-axis limits.
    pub fn x_range(mut self, min: f64, max: f64) -> Self {
        self.x_range = Some((min, max));
        self
    }

    /// Fix the y-axis limits.
    pub fn y_range(mut self, min: f64, max: f64) -> Self {
        self.y_range = Some((min, max));
        self
    }

    /// Base-10 logarithmic x axis.
    pub fn x_log(mut self, on: bool) -> Self {
        self.x_log = on;
        self
    }

    /// Base-10 logarithmic y axis.
    pub fn y_log(mut self, on: bool) -> Self {
        self.y_log = on;
        self
    }

    /// Legend placement.
    pub fn legend(mut self, legend: Legend) -> Self {
        self.legend = legend;
        self
    }

    /// Image size in pixels (each at least 200).
    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.width = width.max(200);
        self.height = height.max(200);
        self
    }

    /// A line series with the next palette colour.
    pub fn series(self, name: impl Into<String>, xs: &[f64], ys: &[f64]) -> Self {
        let c = Color::palette(self.series.len());
        self.line(name, xs, ys, c)
    }

    /// A line series with a given colour.
    pub fn line(mut self, name: impl Into<String>, xs: &[f64], ys: &[f64], color: Color) -> Self {
        self.series.push(Series {
            name: name.into(),
            kind: Kind::Line,
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            color,
        });
        self
    }

    /// A scatter series (filled dots).
    pub fn points(mut self, name: impl Into<String>, xs: &[f64], ys: &[f64], color: Color) -> Self {
        self.series.push(Series {
            name: name.into(),
            kind: Kind::Points,
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            color,
        });
        self
    }

    /// Bars spanning `[lefts[i], rights[i]]` horizontally and `[0, heights[i]]`
    /// vertically (a histogram or reliability diagram).
    pub fn bars(
        mut self,
        name: impl Into<String>,
        lefts: &[f64],
        rights: &[f64],
        heights: &[f64],
        color: Color,
    ) -> Self {
        let xs = lefts
            .iter()
            .zip(rights)
            .map(|(l, r)| (l + r) / 2.0)
            .collect();
        self.series.push(Series {
            name: name.into(),
            kind: Kind::Bars {
                lefts: lefts.to_vec(),
                rights: rights.to_vec(),
            },
            xs,
            ys: heights.to_vec(),
            color,
        });
        self
    }

    /// Render and write a PNG file.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a series with mismatched lengths,
    /// [`Error::Io`] / [`Error::Png`] if writing fails.
    pub fn write_png(&self, path: impl AsRef<Path>) -> Result<()> {
        self.render()?.write_png(path)
    }

    /// Render to a [`Canvas`].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a series with mismatched lengths,
    /// [`Error::InvalidParameter`] for an empty or non-finite axis range.
    pub fn render(&self) -> Result<Canvas> {
        for s in &self.series {
            let bad = s.xs.len() != s.ys.len()
                || matches!(&s.kind, Kind::Bars { lefts, rights } if lefts.len() != rights.len());
            if bad {
                return Err(Error::shape(
                    format!("chart series `{}`", s.name),
                    "equal lengths of x and y",
                    format!("{} x values, {} y values", s.xs.len(), s.ys.len()),
                ));
            }
        }
        let xa = Axis::new(self.x_range, self.x_log, self.x_extent(), false)?;
        let ya = Axis::new(self.y_range, self.y_log, self.y_extent(), self.has_bars())?;

        let (w, h) = (self.width as i64, self.height as i64);
        let th = (GLYPH_H * SCALE) as i64;
        let left = 28 + th + 8 * SCALE as i64 * 6; // y label + tick labels
        let right = w - 24;
        let top = 16 + th + 12;
        let bottom = h - (16 + 2 * th + 14);
        let plot = Rect {
            left,
            right,
            top,
            bottom,
        };
        let mut c = Canvas::new(self.width, self.height, Color::WHITE);

        // Grid and ticks.
        for t in xa.ticks() {
            let px = plot.x(xa.frac(t));
            c.line(px, top, px, bottom, 1, Color::LIGHT_GREY);
            c.line(px, bottom, px, bottom + 5, 1, Color::BLACK);
            let s = xa.label(t);
            let tw = text_width(&s, SCALE) as i64;
            c.text(px - tw / 2, bottom + 9, &s, SCALE, Color::BLACK);
        }
        for t in ya.ticks() {
            let py = plot.y(ya.frac(t));
            c.line(left, py, right, py, 1, Color::LIGHT_GREY);
            c.line(left - 5, py, left, py, 1, Color::BLACK);
            let s = ya.label(t);
            let tw = text_width(&s, SCALE) as i64;
            c.text(left - 9 - tw, py - th / 2, &s, SCALE, Color::BLACK);
        }

        // Series, clipped to the plot area.
        c.set_clip(Some((left, top, right, bottom)));
        for s in &self.series {
            draw_series(&mut c, s, &xa, &ya, &plot);
        }
        c.set_clip(None);

        // Frame, title, axis labels.
        c.stroke_rect(left, top, right, bottom, Color::BLACK);
        let tw = text_width(&self.title, SCALE) as i64;
        c.text((w - tw) / 2, 14, &self.title, SCALE, Color::BLACK);
        let lw = text_width(&self.x_label, SCALE) as i64;
        c.text(
            (left + right - lw) / 2,
            bottom + 9 + th + 10,
            &self.x_label,
            SCALE,
            Color::BLACK,
        );
        let yw = text_width(&self.y_label, SCALE) as i64;
        c.text_vertical(
            12,
            (top + bottom + yw) / 2,
            &self.y_label,
            SCALE,
            Color::BLACK,
        );

        self.draw_legend(&mut c, &plot, &xa, &ya);
        Ok(c)
    }

    /// Pixel positions sampled along every series, to place the legend.
    fn footprint(&self, xa: &Axis, ya: &Axis, plot: &Rect) -> Vec<(i64, i64)> {
        let px = |x: f64, y: f64| {
            let (fx, fy) = (xa.frac(x), ya.frac(y));
            (fx.is_finite() && fy.is_finite()).then(|| (plot.x(fx), plot.y(fy)))
        };
        let mut pts = Vec::new();
        for s in &self.series {
            match &s.kind {
                Kind::Points => pts.extend(s.xs.iter().zip(&s.ys).filter_map(|(&x, &y)| px(x, y))),
                Kind::Line => {
                    let p: Vec<_> = s.xs.iter().zip(&s.ys).map(|(&x, &y)| px(x, y)).collect();
                    for w in p.windows(2) {
                        if let (Some(a), Some(b)) = (w[0], w[1]) {
                            for i in 0..=24 {
                                let t = i as f64 / 24.0;
                                pts.push((
                                    a.0 + ((b.0 - a.0) as f64 * t) as i64,
                                    a.1 + ((b.1 - a.1) as f64 * t) as i64,
                                ));
                            }
                        }
                    }
                    pts.extend(p.iter().flatten());
                }
                Kind::Bars { lefts, rights } => {
                    for ((&l, &r), &h) in lefts.iter().zip(rights).zip(&s.ys) {
                        for i in 0..=8 {
                            for j in 0..=8 {
                                let x = l + (r - l) * i as f64 / 8.0;
                                if let Some(p) = px(x, h * j as f64 / 8.0) {
                                    pts.push(p);
                                }
                            }
                        }
                    }
                }
            }
        }
        pts
    }

    fn draw_legend(&self, c: &mut Canvas, plot: &Rect, xa: &Axis, ya: &Axis) {
        let named: Vec<&Series> = self.series.iter().filter(|s| !s.name.is_empty()).collect();
        if named.is_empty() || self.legend == Legend::Hidden {
            return;
        }
        let th = (GLYPH_H * SCALE) as i64;
        let row = th + 8;
        let tw = named
            .iter()
            .map(|s| text_width(&s.name, SCALE))
            .max()
            .unwrap_or(0) as i64;
        let bw = 8 + 24 + 8 + tw + 8;
        let bh = 8 + row * named.len() as i64;
        let corner = |l: Legend| match l {
            Legend::TopRight => (plot.right - 10 - bw, plot.top + 10),
            Legend::BottomLeft => (plot.left + 10, plot.bottom - 10 - bh),
            Legend::BottomRight => (plot.right - 10 - bw, plot.bottom - 10 - bh),
            _ => (plot.left + 10, plot.top + 10),
        };
        let (x0, y0) = if self.legend == Legend::Auto {
            let pts = self.footprint(xa, ya, plot);
            let order = [
                Legend::TopLeft,
                Legend::TopRight,
                Legend::BottomRight,
                Legend::BottomLeft,
            ];
            let covered = |l: Legend| {
                let (x, y) = corner(l);
                pts.iter()
                    .filter(|p| {
                        p.0 >= x - 4 && p.0 <= x + bw + 4 && p.1 >= y - 4 && p.1 <= y + bh + 4
                    })
                    .count()
            };
            // min_by_key keeps the first of equal minima: the order is the preference.
            order
                .into_iter()
                .min_by_key(|&l| covered(l))
                .map_or(corner(Legend::TopLeft), corner)
        } else {
            corner(self.legend)
        };
        c.fill_rect(x0, y0, x0 + bw, y0 + bh, Color::WHITE);
        c.stroke_rect(x0, y0, x0 + bw, y0 + bh, Color::GREY);
        for (i, s) in named.iter().enumerate() {
            let y = y0 + 8 + row * i as i64;
            let mid = y + th / 2;
            match s.kind {
                Kind::Line => c.line(x0 + 8, mid, x0 + 32, mid, 3, s.color),
                Kind::Points => c.disc(x0 + 20, mid, 5, s.color),
                Kind::Bars { .. } => {
                    c.fill_rect(x0 + 8, y, x0 + 32, y + th, s.color.lighten(0.45));
                    c.stroke_rect(x0 + 8, y, x0 + 32, y + th, s.color);
                }
            }
            c.text(x0 + 40, y, &s.name, SCALE, Color::BLACK);
        }
    }

    fn has_bars(&self) -> bool {
        self.series
            .iter()
            .any(|s| matches!(s.kind, Kind::Bars { .. }))
    }

    fn x_extent(&self) -> Vec<f64> {
        let mut v = Vec::new();
        for s in &self.series {
            match &s.kind {
                Kind::Bars { lefts, rights } => {
                    v.extend(lefts);
                    v.extend(rights);
                }
                _ => v.extend(&s.xs),
            }
        }
        v
    }

    fn y_extent(&self) -> Vec<f64> {
        self.series
            .iter()
            .flat_map(|s| s.ys.iter().copied())
            .collect()
    }
}

struct Rect {
    left: i64,
    right: i64,
    top: i64,
    bottom: i64,
}

impl Rect {
    fn x(&self, f: f64) -> i64 {
        self.left + (f * (self.right - self.left) as f64).round() as i64
    }
    fn y(&self, f: f64) -> i64 {
        self.bottom - (f * (self.bottom - self.top) as f64).round() as i64
    }
}

/// One axis: limits in the transformed space (log10 for log axes).
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    fn new(
        fixed: Option<(f64, f64)>,
        log: bool,
        data: Vec<f64>,
        include_zero: bool,
    ) -> Result<Self> {
        let tf = |v: f64| if log { v.log10() } else { v };
        let (lo, hi) = match fixed {
            Some((a, b)) => {
                let (a, b) = (tf(a), tf(b));
                if !(a.is_finite() && b.is_finite() && a < b) {
                    return Err(Error::param(
                        "axis range",
                        format!("{a}..{b}"),
                        "need finite min < max (and > 0 on a log axis)",
                    ));
                }
                (a, b)
            }
            None => {
                let vals: Vec<f64> = data
                    .into_iter()
                    .filter(|v| v.is_finite() && (!log || *v > 0.0))
                    .map(tf)
                    .collect();
                let (mut a, mut b) = vals
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                if include_zero && !log {
                    a = a.min(0.0);
                    b = b.max(0.0);
                }
                if !a.is_finite() {
                    (a, b) = (0.0, 1.0);
                }
                if b - a < 1e-12 {
                    let d = if a.abs() > 0.0 { a.abs() * 0.1 } else { 0.5 };
                    (a, b) = (a - d, b + d);
                }
                let pad = 0.05 * (b - a);
                let a = if include_zero && !log && a == 0.0 {
                    a
                } else {
                    a - pad
                };
                (a, b + pad)
            }
        };
        Ok(Axis { lo, hi, log })
    }

    /// Position of a data value in `[0, 1]` along the axis (NaN if unplottable).
    fn frac(&self, v: f64) -> f64 {
        let t = if self.log {
            if v > 0.0 { v.log10() } else { f64::NAN }
        } else {
            v
        };
        (t - self.lo) / (self.hi - self.lo)
    }

    /// Tick positions in data units.
    fn ticks(&self) -> Vec<f64> {
        if self.log && self.hi - self.lo >= 1.0 {
            let span = self.hi - self.lo;
            let every = (span / 8.0).ceil().max(1.0) as i64;
            let first = self.lo.ceil() as i64;
            let last = self.hi.floor() as i64;
            (first..=last)
                .filter(|e| e.rem_euclid(every) == 0)
                .map(|e| 10f64.powi(e as i32))
                .collect()
        } else if self.log {
            let (a, b) = (10f64.powf(self.lo), 10f64.powf(self.hi));
            nice_ticks(a, b)
        } else {
            nice_ticks(self.lo, self.hi)
        }
    }

    fn label(&self, v: f64) -> String {
        if self.log {
            let e = v.log10();
            if (e - e.round()).abs() < 1e-9 {
                let e = e.round() as i64;
                return match e {
                    -2..=-1 => format!("{v:.*}", (-e) as usize),
                    0..=3 => format!("{v:.0}"),
                    _ => format!("1e{e}"),
                };
            }
            return format_number(v, v.abs() / 10.0);
        }
        let ticks = nice_ticks(self.lo, self.hi);
        let step = if ticks.len() > 1 {
            ticks[1] - ticks[0]
        } else {
            1.0
        };
        format_number(v, step)
    }
}

/// Ticks at multiples of a 1-2-5 step, about 5 to 10 of them.
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Format `v` with as many decimals as a tick `step` needs.
fn format_number(v: f64, step: f64) -> String {
    let decimals = if step > 0.0 {
        (-step.log10().floor()).clamp(0.0, 6.0) as usize
    } else {
        2
    };
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

fn draw_series(c: &mut Canvas, s: &Series, xa: &Axis, ya: &Axis, plot: &Rect) {
    let pt = |x: f64, y: f64| -> Option<(i64, i64)> {
        let (fx, fy) = (xa.frac(x), ya.frac(y));
        if fx.is_finite() && fy.is_finite() && fx.abs() < 1e3 && fy.abs() < 1e3 {
            Some((plot.x(fx), plot.y(fy)))
        } else {
            None
        }
    };
    match &s.kind {
        Kind::Line => {
            let mut prev: Option<(i64, i64)> = None;
            for (&x, &y) in s.xs.iter().zip(&s.ys) {
                let p = pt(x, y);
                if let (Some(a), Some(b)) = (prev, p) {
                    c.line(a.0, a.1, b.0, b.1, 3, s.color);
                }
                prev = p;
            }
            if s.xs.len() == 1
                && let Some(p) = pt(s.xs[0], s.ys[0])
            {
                c.disc(p.0, p.1, 3, s.color);
            }
        }
        Kind::Points => {
            for (&x, &y) in s.xs.iter().zip(&s.ys) {
                if let Some(p) = pt(x, y) {
                    c.disc(p.0, p.1, 5, s.color);
                }
            }
        }
        Kind::Bars { lefts, rights } => {
            let base = if ya.log { 10f64.powf(ya.lo) } else { 0.0 };
            for ((&l, &r), &y) in lefts.iter().zip(rights).zip(&s.ys) {
                if let (Some(a), Some(b)) = (pt(l, base), pt(r, y)) {
                    let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
                    let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
                    c.fill_rect(x0, y0, x1 + 1, y1 + 1, s.color.lighten(0.45));
                    c.stroke_rect(x0, y0, x1, y1, s.color);
                }
            }
        }
    }
}
