//! Line, point and bar charts on linear or log axes.

use crate::axis::{Axis, tick_label};
use crate::color::Color;
use crate::error::{Error, Result, draw_err};
use crate::figure::Figure;
use crate::font::FAMILY;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::Color as _;

/// How a series is drawn.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Line,
    Points,
    /// Bars from `lefts[i]` to `rights[i]`, height `ys[i]`.
    Bars {
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
    /// The corner with the fewest data points under it.
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

/// A chart of lines, points and bars, built with a consuming builder and
/// written with [`Figure::save`] (`.png` or `.svg`).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `size` | 720 x 540 | image size in pixels |
/// | `x_range`, `y_range` | from the data (5 % padding; bars include 0) | axis limits |
/// | `x_log`, `y_log` | `false` | base-10 log axis (non-positive values are skipped) |
/// | `legend` | `Auto` | legend corner, or hidden; series named `""` stay out of it |
///
/// Non-finite values are skipped and break a line. Series whose `xs` and
/// `ys` lengths differ make drawing fail with [`Error::InvalidInput`].
///
/// ```no_run
/// use fanaroff_plot::{Color, Figure, LineChart};
/// let t = [1e-4, 1e-3, 1e-2, 1e-1, 1.0];
/// LineChart::new("test error vs posterior temperature")
///     .x_log(true)
///     .x_label("T")
///     .y_label("error")
///     .line("BBB", &t, &[0.14, 0.12, 0.11, 0.13, 0.18], Color::BLUE)
///     .save("sweep.svg")
///     .unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    title: String,
    x: Axis,
    y: Axis,
    legend: Legend,
    width: u32,
    height: u32,
    series: Vec<Series>,
}

impl LineChart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            x: Axis::default(),
            y: Axis::default(),
            legend: Legend::Auto,
            width: 720,
            height: 540,
            series: Vec::new(),
        }
    }

    /// The x-axis label.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x.label = label.into();
        self
    }

    /// The y-axis label.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y.label = label.into();
        self
    }

    /// Fixed x limits.
    pub fn x_range(mut self, min: f64, max: f64) -> Self {
        self.x.range = Some((min, max));
        self
    }

    /// Fixed y limits.
    pub fn y_range(mut self, min: f64, max: f64) -> Self {
        self.y.range = Some((min, max));
        self
    }

    /// A base-10 logarithmic x axis.
    pub fn x_log(mut self, on: bool) -> Self {
        self.x.log = on;
        self
    }

    /// A base-10 logarithmic y axis.
    pub fn y_log(mut self, on: bool) -> Self {
        self.y.log = on;
        self
    }

    /// Where the legend goes.
    pub fn legend(mut self, legend: Legend) -> Self {
        self.legend = legend;
        self
    }

    /// Image size in pixels (at least 200 x 150).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = width.max(200);
        self.height = height.max(150);
        self
    }

    /// A line in the next palette colour.
    pub fn series(self, name: impl Into<String>, xs: &[f64], ys: &[f64]) -> Self {
        let c = Color::palette(self.series.len());
        self.line(name, xs, ys, c)
    }

    /// A line through `(xs[i], ys[i])`.
    pub fn line(self, name: impl Into<String>, xs: &[f64], ys: &[f64], color: Color) -> Self {
        self.push(name, Kind::Line, xs, ys, color)
    }

    /// Filled dots at `(xs[i], ys[i])`.
    pub fn points(self, name: impl Into<String>, xs: &[f64], ys: &[f64], color: Color) -> Self {
        self.push(name, Kind::Points, xs, ys, color)
    }

    /// Bars spanning `lefts[i]..rights[i]` with height `heights[i]`.
    pub fn bars(
        self,
        name: impl Into<String>,
        lefts: &[f64],
        rights: &[f64],
        heights: &[f64],
        color: Color,
    ) -> Self {
        let kind = Kind::Bars {
            rights: rights.to_vec(),
        };
        self.push(name, kind, lefts, heights, color)
    }

    fn push(
        mut self,
        name: impl Into<String>,
        kind: Kind,
        xs: &[f64],
        ys: &[f64],
        color: Color,
    ) -> Self {
        self.series.push(Series {
            name: name.into(),
            kind,
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            color,
        });
        self
    }

    /// Every drawable point in axis space, for ranges and the legend corner.
    fn all_points(&self) -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        for s in &self.series {
            let m = self.mapped(s);
            pts.extend(m.iter().flatten());
            if s.kind == Kind::Line {
                pts.extend(
                    m.windows(2)
                        .filter_map(|w| w[0].zip(w[1]))
                        .flat_map(|(a, b)| {
                            (1..8).map(move |k| {
                                let t = f64::from(k) / 8.0;
                                (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
                            })
                        }),
                );
            }
            if let Kind::Bars { rights } = &s.kind {
                let base = if self.y.log { f64::NAN } else { 0.0 };
                pts.extend(
                    rights
                        .iter()
                        .filter_map(|&r| self.x.map(r))
                        .map(|x| (x, base)),
                );
            }
        }
        pts
    }

    /// A series' points in axis space (`None`: skipped, breaks a line).
    fn mapped(&self, s: &Series) -> Vec<Option<(f64, f64)>> {
        let xs = s.xs.iter().map(|&x| self.x.map(x));
        xs.zip(s.ys.iter().map(|&y| self.y.map(y)))
            .map(|(x, y)| x.zip(y))
            .collect()
    }

    fn check(&self) -> Result<()> {
        for s in &self.series {
            let bars_ok = match &s.kind {
                Kind::Bars { rights } => rights.len() == s.xs.len(),
                _ => true,
            };
            if s.xs.len() != s.ys.len() || !bars_ok {
                return Err(Error::InvalidInput(format!(
                    "series {:?}: {} x values but {} y values",
                    s.name,
                    s.xs.len(),
                    s.ys.len()
                )));
            }
        }
        Ok(())
    }
}

type Chart2d<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

impl Figure for LineChart {
    fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        self.check()?;
        area.fill(&WHITE).map_err(draw_err)?;
        let pts = self.all_points();
        let xr = self.x.limits(pts.iter().map(|p| p.0), 0.05);
        let yr = self.y.limits(pts.iter().map(|p| p.1), 0.05);
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FAMILY, 18))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
            .map_err(draw_err)?;
        let (xlog, ylog) = (self.x.log, self.y.log);
        let (xspan, yspan) = (xr.1 - xr.0, yr.1 - yr.0);
        chart
            .configure_mesh()
            .x_desc(self.x.label.as_str())
            .y_desc(self.y.label.as_str())
            .x_label_formatter(&|v| tick_label(*v, xlog, xspan))
            .y_label_formatter(&|v| tick_label(*v, ylog, yspan))
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .light_line_style(Color::LIGHT_GREY.rgb().mix(0.5))
            .bold_line_style(Color::LIGHT_GREY.rgb())
            .draw()
            .map_err(draw_err)?;
        for s in &self.series {
            self.draw_series(&mut chart, s, yr.0)?;
        }
        self.draw_legend(&mut chart, &pts, xr, yr)
    }
}

impl LineChart {
    fn draw_series<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut Chart2d<'a, DB>,
        s: &Series,
        floor: f64,
    ) -> Result<()> {
        let color = s.color.rgb();
        let pts = self.mapped(s);
        let name = s.name.as_str();
        match &s.kind {
            Kind::Line => {
                let segs = pts.split(Option::is_none).filter(|g| !g.is_empty());
                for (i, seg) in segs.enumerate() {
                    let seg: Vec<(f64, f64)> = seg.iter().flatten().copied().collect();
                    let a = chart.draw_series(LineSeries::new(seg, color.stroke_width(2)));
                    let a = a.map_err(draw_err)?;
                    if i == 0 && !name.is_empty() {
                        a.label(name).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                        });
                    }
                }
                return Ok(());
            }
            Kind::Points => {
                let dots = pts
                    .iter()
                    .flatten()
                    .map(|&p| Circle::new(p, 4, color.filled()));
                let a = chart.draw_series(dots).map_err(draw_err)?;
                if !name.is_empty() {
                    a.label(name)
                        .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
                }
            }
            Kind::Bars { rights } => {
                let base = if self.y.log { floor } else { 0.0 };
                let rects = pts.iter().zip(rights).filter_map(|(p, &r)| {
                    let (l, h) = (*p)?;
                    let r = self.x.map(r)?;
                    Some(Rectangle::new(
                        [(l, base), (r, h)],
                        color.mix(0.45).filled(),
                    ))
                });
                let a = chart.draw_series(rects).map_err(draw_err)?;
                if !name.is_empty() {
                    a.label(name).legend(move |(x, y)| {
                        Rectangle::new([(x + 4, y - 5), (x + 16, y + 5)], color.mix(0.45).filled())
                    });
                }
            }
        }
        Ok(())
    }

    fn draw_legend<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut Chart2d<'a, DB>,
        pts: &[(f64, f64)],
        xr: (f64, f64),
        yr: (f64, f64),
    ) -> Result<()> {
        use SeriesLabelPosition as P;
        if !self.series.iter().any(|s| !s.name.is_empty()) {
            return Ok(());
        }
        let pos = match self.legend {
            Legend::Hidden => return Ok(()),
            Legend::TopLeft => P::UpperLeft,
            Legend::TopRight => P::UpperRight,
            Legend::BottomLeft => P::LowerLeft,
            Legend::BottomRight => P::LowerRight,
            Legend::Auto => emptiest_corner(pts, xr, yr),
        };
        chart
            .configure_series_labels()
            .position(pos)
            .background_style(WHITE.mix(0.85))
            .border_style(Color::GREY.rgb())
            .label_font((FAMILY, 13))
            .draw()
            .map_err(draw_err)
    }
}

/// The plot corner whose box (a third of the width, a quarter of the
/// height) holds the fewest points, lines sampled along their length
/// (ties: top right, top left, bottom right, bottom left).
fn emptiest_corner(pts: &[(f64, f64)], xr: (f64, f64), yr: (f64, f64)) -> SeriesLabelPosition {
    use SeriesLabelPosition as P;
    let (bx, by) = ((xr.1 - xr.0) / 3.0, (yr.1 - yr.0) / 4.0);
    let count = |right: bool, top: bool| {
        let in_x = |x: f64| {
            if right {
                x >= xr.1 - bx
            } else {
                x <= xr.0 + bx
            }
        };
        let in_y = |y: f64| if top { y >= yr.1 - by } else { y <= yr.0 + by };
        pts.iter().filter(|(x, y)| in_x(*x) && in_y(*y)).count()
    };
    let counts = [
        count(true, true),
        count(false, true),
        count(true, false),
        count(false, false),
    ];
    let best = (0..4).min_by_key(|&i| counts[i]).unwrap_or(0);
    [P::UpperRight, P::UpperLeft, P::LowerRight, P::LowerLeft]
        .into_iter()
        .nth(best)
        .unwrap_or(P::UpperRight)
}
