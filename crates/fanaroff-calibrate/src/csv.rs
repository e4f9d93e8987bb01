//! Plain-text (CSV) readers for predictions and labels.
//!
//! # Predictions
//! One probability vector per line, values separated by commas (spaces,
//! tabs and semicolons also work). Lines starting with `#` are comments; a
//! first line that is not numeric is taken as a header and skipped. **Blank
//! lines separate Monte Carlo samples**: a file with `S` blocks of `N` lines
//! each is read as `[S, N, K]`; a file without blank lines is `[N, K]`.
//!
//! # Labels
//! Integer class indices separated by commas or newlines (a one-column CSV
//! or a single row); a header line is skipped. Values like `1.0` are
//! accepted; `1.5` or `-1` are errors.

use ndarray::{Array2, Array3};

use crate::error::{Error, Result};
use crate::input::Predictions;

fn split_fields(line: &str) -> impl Iterator<Item = &str> {
    line.split([',', ';', '\t', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn parse_row(line: &str, lineno: usize) -> Result<Vec<f64>> {
    split_fields(line)
        .map(|f| {
            f.parse::<f64>().map_err(|_| Error::Csv {
                line: lineno,
                reason: format!("`{f}` is not a number"),
            })
        })
        .collect()
}

fn is_header(line: &str) -> bool {
    split_fields(line).any(|f| f.parse::<f64>().is_err())
}

/// Parse predictions from CSV text (see the module docs for the layout).
///
/// # Errors
/// [`Error::Csv`] for a non-numeric field or rows of different lengths,
/// [`Error::ShapeMismatch`] if sample blocks have different row counts,
/// [`Error::Empty`] if there are no rows.
///
/// # Example
/// ```
/// use fanaroff_calibrate::csv::parse_predictions;
/// let p = parse_predictions("p0,p1\n0.9,0.1\n0.3,0.7\n").unwrap();
/// assert_eq!((p.num_rows(), p.num_classes(), p.num_samples()), (2, 2, None));
/// let s = parse_predictions("0.9,0.1\n0.3,0.7\n\n0.8,0.2\n0.4,0.6\n").unwrap();
/// assert_eq!(s.num_samples(), Some(2));
/// ```
pub fn parse_predictions(text: &str) -> Result<Predictions> {
    let mut blocks: Vec<Vec<Vec<f64>>> = vec![Vec::new()];
    let mut width: Option<usize> = None;
    let mut seen_data = false;
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim();
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            if blocks.last().is_some_and(|b| !b.is_empty()) {
                blocks.push(Vec::new());
            }
            continue;
        }
        if !seen_data && is_header(line) {
            seen_data = true;
            continue;
        }
        seen_data = true;
        let row = parse_row(line, lineno)?;
        match width {
            None => width = Some(row.len()),
            Some(w) if w != row.len() => {
                return Err(Error::Csv {
                    line: lineno,
                    reason: format!("{} values, but earlier rows have {w}", row.len()),
                });
            }
            _ => {}
        }
        if let Some(b) = blocks.last_mut() {
            b.push(row);
        }
    }
    if blocks.last().is_some_and(|b| b.is_empty()) {
        blocks.pop();
    }
    let k = width.ok_or_else(|| Error::empty("no prediction rows in the CSV"))?;
    let n = blocks[0].len();
    if let Some((s, b)) = blocks.iter().enumerate().find(|(_, b)| b.len() != n) {
        return Err(Error::shape(
            format!("CSV sample block {s}"),
            format!("{n} rows (as block 0)"),
            format!("{} rows", b.len()),
        ));
    }
    let flat: Vec<f64> = blocks.iter().flatten().flatten().copied().collect();
    if blocks.len() == 1 {
        let a = Array2::from_shape_vec((n, k), flat)
            .map_err(|e| Error::shape("CSV predictions", format!("[{n}, {k}]"), e.to_string()))?;
        Ok(Predictions::Probs(a))
    } else {
        let s = blocks.len();
        let a = Array3::from_shape_vec((s, n, k), flat).map_err(|e| {
            Error::shape("CSV predictions", format!("[{s}, {n}, {k}]"), e.to_string())
        })?;
        Ok(Predictions::Samples(a))
    }
}

/// Parse integer labels from CSV text (see the module docs).
///
/// # Errors
/// [`Error::Csv`] for a field that is not a non-negative integer,
/// [`Error::Empty`] if there are none.
///
/// # Example
/// ```
/// use fanaroff_calibrate::csv::parse_labels;
/// assert_eq!(parse_labels("label\n0\n1\n1\n").unwrap(), vec![0, 1, 1]);
/// assert_eq!(parse_labels("0, 1, 1.0").unwrap(), vec![0, 1, 1]);
/// assert!(parse_labels("0\n-1\n").is_err());
/// ```
pub fn parse_labels(text: &str) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if out.is_empty() && is_header(line) {
            continue;
        }
        for v in parse_row(line, i + 1)? {
            out.push(label_from_f64(v).map_err(|reason| Error::Csv {
                line: i + 1,
                reason,
            })?);
        }
    }
    if out.is_empty() {
        return Err(Error::empty("no labels in the CSV"));
    }
    Ok(out)
}

/// A class index from a float that must be a non-negative integer.
pub(crate) fn label_from_f64(v: f64) -> std::result::Result<usize, String> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e15 {
        Ok(v as usize)
    } else {
        Err(format!("label `{v}` is not a non-negative integer"))
    }
}
