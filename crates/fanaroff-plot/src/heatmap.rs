//! Heat maps of a metric over a two-parameter sweep.

use crate::axis::number;
use crate::color::Color;
use crate::error::{Error, Result, draw_err};
use crate::figure::Figure;
use crate::font::FAMILY;
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::Color as _;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A table of values (rows x columns) drawn as coloured cells with the
/// value written in each; NaN cells (runs that are missing) are grey.
/// Row 0 is at the top.
///
/// ```
/// use fanaroff_plot::{Figure, Heatmap};
/// use ndarray::array;
/// let err = array![[0.14, 0.12], [0.13, f64::NAN]];
/// let h = Heatmap::new("test error", err, &["N(0,1)", "mixture"], &["T = 1", "T = 0.1"]).unwrap();
/// assert!(h.to_svg().unwrap().contains("0.12"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    title: String,
    x_label: String,
    y_label: String,
    values: Array2<f64>,
    rows: Vec<String>,
    cols: Vec<String>,
}

impl Heatmap {
    /// A heat map of `values` with one label per row and per column.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the labels do not match the shape or the
    /// table is empty.
    pub fn new(
        title: impl Into<String>,
        values: Array2<f64>,
        rows: &[&str],
        cols: &[&str],
    ) -> Result<Self> {
        let (r, c) = values.dim();
        if r == 0 || c == 0 || rows.len() != r || cols.len() != c {
            return Err(Error::InvalidInput(format!(
                "{r}x{c} values with {} row and {} column labels",
                rows.len(),
                cols.len()
            )));
        }
        Ok(Heatmap {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            values,
            rows: rows.iter().map(|s| s.to_string()).collect(),
            cols: cols.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// Axis titles.
    pub fn labels(mut self, x: impl Into<String>, y: impl Into<String>) -> Self {
        self.x_label = x.into();
        self.y_label = y.into();
        self
    }

    /// The colour of a value: the sequential map over the finite range.
    fn scale(&self) -> impl Fn(f64) -> Color {
        let finite = self.values.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        let span = if hi > lo { hi - lo } else { f64::INFINITY };
        move |v| {
            Color::sequential(if v.is_finite() {
                (v - lo) / span
            } else {
                f64::NAN
            })
        }
    }
}

impl Figure for Heatmap {
    fn dimensions(&self) -> (u32, u32) {
        let (r, c) = self.values.dim();
        (160 + 90 * c as u32, 110 + 44 * r as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let (nr, nc) = self.values.dim();
        area.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FAMILY, 17))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(110)
            .build_cartesian_2d((0..nc - 1).into_segmented(), (0..nr - 1).into_segmented())
            .map_err(draw_err)?;
        let label = |names: &[String], v: &SegmentValue<usize>, flip: bool| match v {
            SegmentValue::CenterOf(i) if *i < names.len() => {
                names[if flip { names.len() - 1 - i } else { *i }].clone()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_labels(nc)
            .y_labels(nr)
            .x_label_formatter(&|v| label(&self.cols, v, false))
            .y_label_formatter(&|v| label(&self.rows, v, true))
            .label_style((FAMILY, 13))
            .draw()
            .map_err(draw_err)?;
        let color = self.scale();
        let text =
            TextStyle::from((FAMILY, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        for ((r, c), &v) in self.values.indexed_iter() {
            let y = nr - 1 - r;
            let cell = [
                (SegmentValue::Exact(c), SegmentValue::Exact(y)),
                (SegmentValue::Exact(c + 1), SegmentValue::Exact(y + 1)),
            ];
            let fill = color(v);
            chart
                .draw_series([Rectangle::new(cell, fill.rgb().filled())])
                .map_err(draw_err)?;
            let ink = if u32::from(fill.0) + u32::from(fill.1) + u32::from(fill.2) > 380 {
                BLACK
            } else {
                WHITE
            };
            let s = if v.is_finite() { number(v) } else { "-".into() };
            let at = (SegmentValue::CenterOf(c), SegmentValue::CenterOf(y));
            chart
                .draw_series([Text::new(s, at, text.color(&ink))])
                .map_err(draw_err)?;
        }
        Ok(())
    }
}
