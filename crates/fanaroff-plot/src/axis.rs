//! One chart axis: label, limits, linear or log scale, tick labels.

/// An axis of a [`LineChart`](crate::LineChart). Values are drawn in axis
/// space: `log10(v)` on a log axis, `v` otherwise.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Axis {
    pub label: String,
    pub range: Option<(f64, f64)>,
    pub log: bool,
}

impl Axis {
    /// A data value in axis space; `None` if it cannot be drawn
    /// (non-finite, or not positive on a log axis).
    pub fn map(&self, v: f64) -> Option<f64> {
        match (v.is_finite(), self.log) {
            (false, _) => None,
            (true, true) if v > 0.0 => Some(v.log10()),
            (true, true) => None,
            (true, false) => Some(v),
        }
    }

    /// Limits in axis space: the fixed range if set, else the finite
    /// values' span padded by `pad` of its width on each side.
    pub fn limits(&self, values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
        if let Some((lo, hi)) = self.range
            && let (Some(a), Some(b)) = (self.map(lo), self.map(hi))
            && a < b
        {
            return (a, b);
        }
        let (lo, hi) = values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
        if lo > hi {
            return (0.0, 1.0);
        }
        let w = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
        (lo - pad * w, hi + pad * w)
    }
}

/// Log axes spanning fewer decades than this label every tick, not only
/// whole powers of ten (which would leave one label or none).
const FEW_DECADES: f64 = 2.5;

/// A tick label for an axis-space value on an axis `span` wide (in axis
/// space). On a log axis the label is `10^v`: for every tick, to two
/// significant digits, when the axis spans fewer than [`FEW_DECADES`]
/// decades; otherwise only at whole powers of ten.
pub(crate) fn tick_label(v: f64, log: bool, span: f64) -> String {
    match log {
        true if span < FEW_DECADES => number(two_digits(10f64.powf(v))),
        true if (v - v.round()).abs() > 1e-9 => String::new(),
        true => number(10f64.powf(v.round())),
        false => number(v),
    }
}

/// `v` rounded to two significant digits.
fn two_digits(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let unit = 10f64.powf(v.abs().log10().floor() - 1.0);
    (v / unit).round() * unit
}

/// A short human form: at most three decimals, scientific outside
/// `1e-3 ..= 1e4`.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a < 1e-12 {
        return "0".into();
    }
    if !(1e-3..1e4).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(1e-4), "1e-4");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(12345.0), "1.2e4");
        assert_eq!(tick_label(-2.0, true, 4.0), "0.01");
        assert_eq!(tick_label(-1.5, true, 4.0), "");
        // a log axis over less than FEW_DECADES labels every tick
        assert_eq!(tick_label(1.1, true, 0.9), "13");
        assert_eq!(tick_label(-1.5, true, 2.0), "0.032");
        assert_eq!(tick_label(2.0, true, 1.0), "100");
        assert_eq!(tick_label(0.5, false, 1.0), "0.5");
    }

    #[test]
    fn log_axes_drop_non_positive_values() {
        let a = Axis {
            log: true,
            ..Axis::default()
        };
        assert_eq!(a.map(100.0), Some(2.0));
        assert_eq!(a.map(0.0), None);
        assert_eq!(a.map(f64::NAN), None);
        assert_eq!(a.limits([0.0, 2.0].into_iter(), 0.0), (0.0, 2.0));
    }

    #[test]
    fn a_single_value_gets_a_visible_span() {
        let a = Axis::default();
        let (lo, hi) = a.limits([3.0].into_iter(), 0.05);
        assert!(lo < 3.0 && hi > 3.0);
    }
}
