//! Training curves from a history file (CSV with a header row).

use crate::chart::LineChart;
use crate::error::{Error, Result};
use std::path::Path;

/// The columns of a training history such as `fanaroff-train`'s
/// `history.csv` (`epoch,train_loss,val_loss,...`); cells that are not
/// numbers read as NaN and leave gaps in the curves.
///
/// ```
/// use fanaroff_plot::{Figure, History};
/// let h = History::parse("epoch,train_loss,val_loss\n1,0.7,0.69\n2,0.5,0.55\n").unwrap();
/// let chart = h.chart("loss", &["train_loss", "val_loss"]).unwrap();
/// assert!(chart.to_svg().unwrap().contains("val_loss"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl History {
    /// Reads a CSV history file.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file; [`Error::InvalidInput`] as [`parse`](Self::parse).
    pub fn read(path: impl AsRef<Path>) -> Result<History> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(fanaroff_core::io(path))?;
        History::parse(&text).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))
    }

    /// Parses CSV text: a header row, then one row per epoch.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty text or a row whose number of
    /// cells differs from the header's.
    pub fn parse(text: &str) -> Result<History> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines
            .next()
            .ok_or_else(|| Error::InvalidInput("empty history".into()))?;
        let names: Vec<String> = header.split(',').map(|s| s.trim().to_string()).collect();
        let mut columns = vec![Vec::new(); names.len()];
        for (i, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != names.len() {
                return Err(Error::InvalidInput(format!(
                    "row {} has {} cells, the header {}",
                    i + 2,
                    cells.len(),
                    names.len()
                )));
            }
            for (col, cell) in columns.iter_mut().zip(cells) {
                col.push(cell.trim().parse().unwrap_or(f64::NAN));
            }
        }
        Ok(History { names, columns })
    }

    /// The column names, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// One column's values.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        let i = self.names.iter().position(|n| n == name)?;
        Some(&self.columns[i])
    }

    /// A chart of the named columns against the first column (the epoch).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming an unknown column and the known ones.
    pub fn chart(&self, title: &str, names: &[&str]) -> Result<LineChart> {
        let x = self.columns.first().cloned().unwrap_or_default();
        let x_name = self.names.first().cloned().unwrap_or_default();
        let mut chart = LineChart::new(title).x_label(x_name);
        for name in names {
            let ys = self.column(name).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "no column {name:?}; the history has {:?}",
                    self.names
                ))
            })?;
            chart = chart.series(*name, &x, ys);
        }
        Ok(chart)
    }
}
