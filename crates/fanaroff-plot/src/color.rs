//! Colours and the palette shared by every figure.

use plotters::style::RGBColor;

/// An opaque RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// Black.
    pub const BLACK: Color = Color(0, 0, 0);
    /// White.
    pub const WHITE: Color = Color(255, 255, 255);
    /// Mid grey.
    pub const GREY: Color = Color(140, 140, 140);
    /// Light grey (grid lines).
    pub const LIGHT_GREY: Color = Color(225, 225, 225);
    /// Blue.
    pub const BLUE: Color = Color(31, 119, 180);
    /// Orange.
    pub const ORANGE: Color = Color(255, 127, 14);
    /// Green.
    pub const GREEN: Color = Color(44, 160, 44);
    /// Red.
    pub const RED: Color = Color(214, 39, 40);
    /// Purple.
    pub const PURPLE: Color = Color(148, 103, 189);
    /// Brown.
    pub const BROWN: Color = Color(140, 86, 75);

    /// The `i`-th colour of a ten-colour qualitative palette (cycles).
    pub fn palette(i: usize) -> Color {
        const P: [Color; 10] = [
            Color::BLUE,
            Color::ORANGE,
            Color::GREEN,
            Color::RED,
            Color::PURPLE,
            Color::BROWN,
            Color(227, 119, 194),
            Color(127, 127, 127),
            Color(188, 189, 34),
            Color(23, 190, 207),
        ];
        P[i % P.len()]
    }

    /// Mix with white: `t = 0` keeps the colour, `t = 1` gives white.
    pub fn lighten(self, t: f64) -> Color {
        self.mix(Color::WHITE, t)
    }

    /// Linear mix towards `other`: `t = 0` gives `self`, `t = 1` gives `other`.
    pub fn mix(self, other: Color, t: f64) -> Color {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let f = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Color(f(self.0, other.0), f(self.1, other.1), f(self.2, other.2))
    }

    /// A sequential colour map from dark blue (`t = 0`) through teal and
    /// green to yellow (`t = 1`), readable in greyscale print; NaN is grey.
    pub fn sequential(t: f64) -> Color {
        const STOPS: [Color; 5] = [
            Color(68, 1, 84),
            Color(59, 82, 139),
            Color(33, 145, 140),
            Color(94, 201, 98),
            Color(253, 231, 37),
        ];
        if t.is_nan() {
            return Color::GREY;
        }
        let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
        let i = (x.floor() as usize).min(STOPS.len() - 2);
        STOPS[i].mix(STOPS[i + 1], x - i as f64)
    }

    /// The plotters colour.
    pub(crate) fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}
