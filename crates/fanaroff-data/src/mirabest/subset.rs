//! The standard MiraBest subsets and filters by label code.

use std::fmt;
use std::str::FromStr;

use super::label::{FrClass, LabelCode};
use crate::dataset::Dataset;
use crate::error::{Error, Result};

/// The subsets used in the MiraBest literature.
///
/// | subset | codes kept | labels |
/// |---|---|---|
/// | `MBFRFull` | 100,102,104,110,112 vs 200,201,210 | FRI = 0, FRII = 1 |
/// | `MBFRConfident` | 100,102,104 vs 200,201 | FRI = 0, FRII = 1 |
/// | `MBFRUncertain` | 110,112 vs 210 | FRI = 0, FRII = 1 |
/// | `MBHybrid` | 300,310 | `"300"` = 0, `"310"` = 1 |
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subset {
    /// All FRI and FRII sources, confident and uncertain.
    MbFrFull,
    /// Confident FRI and FRII sources.
    MbFrConfident,
    /// Uncertain FRI and FRII sources.
    MbFrUncertain,
    /// Hybrid sources.
    MbHybrid,
}

impl Subset {
    /// The four subsets.
    pub const ALL: [Subset; 4] = [
        Subset::MbFrFull,
        Subset::MbFrConfident,
        Subset::MbFrUncertain,
        Subset::MbHybrid,
    ];

    /// The name used in the literature, e.g. `"MBFRConfident"`.
    pub fn name(self) -> &'static str {
        match self {
            Subset::MbFrFull => "MBFRFull",
            Subset::MbFrConfident => "MBFRConfident",
            Subset::MbFrUncertain => "MBFRUncertain",
            Subset::MbHybrid => "MBHybrid",
        }
    }

    /// Whether an image with this code belongs to the subset.
    pub fn contains(self, code: LabelCode) -> bool {
        match self {
            Subset::MbFrFull => code.class() != FrClass::Hybrid,
            Subset::MbFrConfident => code.class() != FrClass::Hybrid && code.is_confident(),
            Subset::MbFrUncertain => code.class() != FrClass::Hybrid && !code.is_confident(),
            Subset::MbHybrid => code.class() == FrClass::Hybrid,
        }
    }
}

impl fmt::Display for Subset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Subset {
    type Err = Error;

    /// Parses a literature name, case-insensitively (`"mbfrconfident"` works).
    fn from_str(s: &str) -> Result<Self> {
        Subset::ALL
            .into_iter()
            .find(|x| x.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::param(
                    "subset",
                    format!("{s:?}; expected MBFRFull, MBFRConfident, MBFRUncertain or MBHybrid"),
                )
            })
    }
}

fn codes_of(ds: &Dataset) -> Result<Vec<LabelCode>> {
    ds.samples()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.code.ok_or_else(|| {
                Error::format(
                    if s.filename.is_empty() {
                        format!("image {i}")
                    } else {
                        s.filename.clone()
                    },
                    "no MiraBest label code (subsets need a MiraBest release)",
                )
            })
        })
        .collect()
}

impl Dataset {
    /// One of the standard subsets, relabelled as in the [`Subset`] table.
    ///
    /// # Errors
    /// [`Error::Format`] if some image has no label code (e.g. synthetic data).
    pub fn subset(&self, subset: Subset) -> Result<Dataset> {
        let codes = codes_of(self)?;
        let idx: Vec<usize> = (0..self.len())
            .filter(|&i| subset.contains(codes[i]))
            .collect();
        let kept = self.select_unchecked(&idx);
        match subset {
            Subset::MbHybrid => {
                kept.by_codes(&[LabelCode::ALL[8], LabelCode::ALL[9]], &codes, &idx)
            }
            _ => kept.binary_fr(),
        }
    }

    /// Keeps the images whose code is in `codes`; class `k` is the `k`-th
    /// smallest of the distinct requested codes, named by the code (`"102"`).
    ///
    /// # Errors
    /// [`Error::Format`] if some image has no label code;
    /// [`Error::InvalidParameter`] if `codes` is empty.
    pub fn filter_codes(&self, codes: &[LabelCode]) -> Result<Dataset> {
        if codes.is_empty() {
            return Err(Error::param("codes", "at least one label code is needed"));
        }
        let all = codes_of(self)?;
        let idx: Vec<usize> = (0..self.len())
            .filter(|&i| codes.contains(&all[i]))
            .collect();
        self.select_unchecked(&idx).by_codes(codes, &all, &idx)
    }

    fn by_codes(self, codes: &[LabelCode], all: &[LabelCode], idx: &[usize]) -> Result<Dataset> {
        let mut set = codes.to_vec();
        set.sort();
        set.dedup();
        let labels = idx
            .iter()
            .map(|&i| set.iter().position(|c| *c == all[i]).unwrap_or(0))
            .collect();
        let names = set.iter().map(ToString::to_string).collect();
        self.relabel(labels, names)
    }

    /// Relabels by FR class: FRI = 0, FRII = 1, class names `["FRI", "FRII"]`.
    ///
    /// # Errors
    /// [`Error::Format`] if an image has no code or is a hybrid.
    pub fn binary_fr(&self) -> Result<Dataset> {
        let codes = codes_of(self)?;
        let labels = codes
            .iter()
            .zip(self.samples())
            .map(|(c, s)| match c.class() {
                FrClass::FRI => Ok(0),
                FrClass::FRII => Ok(1),
                FrClass::Hybrid => Err(Error::format(
                    s.filename.clone(),
                    format!("code {c} is a hybrid, which has no FRI/FRII label"),
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        self.clone()
            .relabel(labels, vec!["FRI".into(), "FRII".into()])
    }
}
