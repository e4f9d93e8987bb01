//! MiraBest label codes (`100` … `310`) and what their digits mean.

use std::fmt;
use std::str::FromStr;

/// Fanaroff-Riley class encoded by the first digit of a label code.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FrClass {
    /// FR type I (edge-darkened), first digit 1.
    FRI,
    /// FR type II (edge-brightened), first digit 2.
    FRII,
    /// Hybrid morphology, first digit 3.
    Hybrid,
}

/// Morphology encoded by the third digit of a label code.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Morphology {
    /// 0: standard.
    Standard,
    /// 1: double-double.
    DoubleDouble,
    /// 2: wide-angle tail.
    WideAngleTail,
    /// 3: diffuse.
    Diffuse,
    /// 4: head-tail.
    HeadTail,
}

/// A MiraBest label code such as `100` (confident standard FRI) or `210`
/// (uncertain standard FRII).
///
/// Digits: class (1 FRI, 2 FRII, 3 hybrid), confidence (0 confident,
/// 1 uncertain), morphology (0 standard, 1 double-double, 2 wide-angle tail,
/// 3 diffuse, 4 head-tail).
///
/// # Example
/// ```
/// use fanaroff_data::{FrClass, LabelCode};
/// let code: LabelCode = "102".parse()?;
/// assert_eq!(code.class(), FrClass::FRI);
/// assert!(code.is_confident());
/// assert_eq!(code.to_string(), "102");
/// # Ok::<(), fanaroff_data::Error>(())
/// ```
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u16", into = "u16"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelCode(u16);

impl TryFrom<u16> for LabelCode {
    type Error = crate::Error;

    fn try_from(v: u16) -> crate::Result<Self> {
        LabelCode::new(v)
    }
}

impl From<LabelCode> for u16 {
    fn from(c: LabelCode) -> u16 {
        c.0
    }
}

impl LabelCode {
    /// The ten codes of the full release, in `label_names` order.
    pub const ALL: [LabelCode; 10] = [
        LabelCode(100),
        LabelCode(102),
        LabelCode(104),
        LabelCode(110),
        LabelCode(112),
        LabelCode(200),
        LabelCode(201),
        LabelCode(210),
        LabelCode(300),
        LabelCode(310),
    ];

    /// Builds a code from its three-digit number.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] unless the digits are a valid
    /// class (1–3), confidence (0–1) and morphology (0–4).
    pub fn new(code: u16) -> crate::Result<Self> {
        let (c, conf, m) = (code / 100, (code / 10) % 10, code % 10);
        if !(1..=3).contains(&c) || conf > 1 || m > 4 || code >= 1000 {
            return Err(crate::Error::param(
                "label code",
                format!(
                    "{code} is not a MiraBest code (class 1-3, confidence 0-1, morphology 0-4)"
                ),
            ));
        }
        Ok(LabelCode(code))
    }

    /// The three-digit number.
    pub fn value(self) -> u16 {
        self.0
    }

    /// FR class (first digit).
    pub fn class(self) -> FrClass {
        match self.0 / 100 {
            1 => FrClass::FRI,
            2 => FrClass::FRII,
            _ => FrClass::Hybrid,
        }
    }

    /// `true` for confident (second digit 0), `false` for uncertain.
    pub fn is_confident(self) -> bool {
        (self.0 / 10).is_multiple_of(10)
    }

    /// Morphology (third digit).
    pub fn morphology(self) -> Morphology {
        match self.0 % 10 {
            0 => Morphology::Standard,
            1 => Morphology::DoubleDouble,
            2 => Morphology::WideAngleTail,
            3 => Morphology::Diffuse,
            _ => Morphology::HeadTail,
        }
    }
}

impl fmt::Display for LabelCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

impl FromStr for LabelCode {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        let s = s.trim();
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(crate::Error::param(
                "label code",
                format!("{s:?} is not a three-digit MiraBest code"),
            ));
        }
        let v: u16 = s
            .parse()
            .map_err(|_| crate::Error::param("label code", format!("{s:?} is not a number")))?;
        LabelCode::new(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits() {
        let c = LabelCode::new(112).unwrap();
        assert_eq!(c.class(), FrClass::FRI);
        assert!(!c.is_confident());
        assert_eq!(c.morphology(), Morphology::WideAngleTail);
        assert!(LabelCode::new(105).is_err());
        assert!(LabelCode::new(400).is_err());
        assert!("12".parse::<LabelCode>().is_err());
        assert_eq!("310".parse::<LabelCode>().unwrap().class(), FrClass::Hybrid);
    }
}
