//! A grid file: a base experiment and axes of values, expanded into
//! numbered runs.

use crate::error::{Error, Result, invalid, read_text};
use crate::experiment::Experiment;
use std::path::Path;
use toml::{Table, Value};

/// A base experiment and the values to try.
///
/// ```toml
/// [base]                      # an experiment, as in an experiment file
/// name = "cold-posterior"
/// [base.data]
/// mirabest = "../shared/data/mirabest/MiraBest_full_batches.tar.gz"
/// [base.model]
/// kind = "bbb_lenet"
///
/// [grid]                      # dotted keys into the experiment -> values
/// "model.elbo.temperature" = [1.0, 0.1, 0.01]
/// "model.variational.prior" = ["gmm:0.75,1,9e-4", "gaussian:0.1"]
/// seed = [0, 1, 2]
/// ```
///
/// Runs are the Cartesian product of the axes, numbered from 0 with the
/// axes in the order the file lists them and the last axis varying
/// fastest.
///
/// The axis `variant` holds named settings that change several keys at
/// once, or none: each value is a table with a `name` (the run's label)
/// and dotted keys, e.g. `variant = [{ name = "clean" }, { name =
/// "oracle", "data.train_snr" = 10.0 }, { name = "mmd", step = { kind =
/// "mmd" } }]`. Every run is parsed and checked when the grid is expanded, so a
/// mistyped key or a bad value is an error before anything is submitted.
///
/// # Example
/// ```
/// use fanaroff_cli::Grid;
/// let g = Grid::from_toml(r#"
///     [base]
///     data = { synthetic = 64 }
///     [grid]
///     "training.epochs" = [1, 2]
///     seed = [0, 1, 2]
/// "#).unwrap();
/// let runs = g.runs().unwrap();
/// assert_eq!(runs.len(), 6);
/// assert_eq!(runs[4].label(), "training.epochs=2, seed=1");
/// assert_eq!((runs[4].experiment.training.epochs, runs[4].experiment.seed), (2, 1));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    base: Table,
    axes: Vec<(String, Vec<Value>)>,
    text: String,
}

/// One run of a grid: its index, the axis values and the experiment.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// Index, 0-based.
    pub index: usize,
    /// `(dotted key, value)` per axis.
    pub settings: Vec<(String, Value)>,
    /// The experiment with those values set.
    pub experiment: Experiment,
}

impl PlannedRun {
    /// `key=value, ...` over all axes.
    pub fn label(&self) -> String {
        label(self.settings.iter())
    }

    /// The label without the `seed` axis: runs that differ only in seed
    /// share it.
    pub fn setting_label(&self) -> String {
        label(self.settings.iter().filter(|(k, _)| k != "seed"))
    }
}

fn label<'a>(s: impl Iterator<Item = &'a (String, Value)>) -> String {
    s.map(|(k, v)| format!("{k}={}", show(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The axis of named variants.
const VARIANT: &str = "variant";

/// Variants are tables with distinct string names.
fn check_variants(vs: &[Value]) -> Result<()> {
    let mut names = Vec::new();
    for v in vs {
        match v.get("name") {
            Some(Value::String(n)) if v.is_table() && !names.contains(n) => names.push(n.clone()),
            _ => {
                return Err(invalid(
                    "grid.variant",
                    format!("{v}: each variant is a table with its own `name`"),
                ));
            }
        }
    }
    if names.is_empty() {
        return Err(invalid("grid.variant", "needs a non-empty list of values"));
    }
    Ok(())
}

/// A value as a table cell: strings without quotes, variants by name.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Table(t) if t.contains_key("name") => show(&t["name"]),
        other => other.to_string(),
    }
}

impl Grid {
    /// Parses a grid from TOML text (and checks every run).
    ///
    /// # Errors
    /// [`Error::Parse`] for syntax errors and a missing `[base]` or
    /// `[grid]`; [`Error::Invalid`] for an empty axis or an invalid run.
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::parse(text, Path::new("<grid>"))
    }

    /// Reads a grid file.
    ///
    /// # Errors
    /// A missing file; as [`from_toml`](Self::from_toml).
    pub fn from_file(path: &Path) -> Result<Self> {
        Self::parse(&read_text(path)?, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Self> {
        let bad = |msg: String| Error::Parse {
            path: path.to_path_buf(),
            msg,
        };
        let mut doc: Table = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let (Some(Value::Table(base)), Some(Value::Table(axes))) =
            (doc.remove("base"), doc.remove("grid"))
        else {
            return Err(bad("needs a [base] table and a [grid] table".into()));
        };
        if let Some(k) = doc.keys().next() {
            return Err(bad(format!(
                "unknown top-level key {k:?} (expected base, grid)"
            )));
        }
        let mut list = Vec::new();
        for (k, v) in axes {
            match v {
                Value::Array(vs) if k == VARIANT => {
                    check_variants(&vs)?;
                    list.push((k, vs))
                }
                Value::Array(vs) if !vs.is_empty() => list.push((k, vs)),
                _ => {
                    return Err(invalid(
                        format!("grid.{k}"),
                        "needs a non-empty list of values",
                    ));
                }
            }
        }
        let grid = Grid {
            base,
            axes: list,
            text: text.to_string(),
        };
        grid.runs()?;
        Ok(grid)
    }

    /// The file's text (stored in a sweep folder to recognise it).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The axes: dotted key and values.
    pub fn axes(&self) -> &[(String, Vec<Value>)] {
        &self.axes
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|(_, v)| v.len()).product()
    }

    /// Whether the grid has no runs (never, after parsing).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Run `index`.
    ///
    /// # Errors
    /// An index out of range; the run's experiment is invalid.
    pub fn run(&self, index: usize) -> Result<PlannedRun> {
        if index >= self.len() {
            return Err(invalid(
                "index",
                format!("{index} out of range: the grid has {} runs", self.len()),
            ));
        }
        let mut rest = index;
        let mut settings = Vec::with_capacity(self.axes.len());
        for (k, vs) in self.axes.iter().rev() {
            settings.push((k.clone(), vs[rest % vs.len()].clone()));
            rest /= vs.len();
        }
        settings.reverse();
        let mut doc = self.base.clone();
        for (k, v) in &settings {
            match (k.as_str(), v) {
                (VARIANT, Value::Table(t)) => {
                    for (vk, vv) in t.iter().filter(|(vk, _)| *vk != "name") {
                        set_dotted(&mut doc, vk, vv.clone())?;
                    }
                }
                _ => set_dotted(&mut doc, k, v.clone())?,
            }
        }
        let text = toml::to_string(&doc).map_err(|e| invalid("grid", e.to_string()))?;
        let experiment = Experiment::from_toml(&text).map_err(|e| {
            invalid(
                format!("run {index} ({})", label(settings.iter())),
                e.to_string(),
            )
        })?;
        Ok(PlannedRun {
            index,
            settings,
            experiment,
        })
    }

    /// Every run, in index order.
    ///
    /// # Errors
    /// The first invalid run.
    pub fn runs(&self) -> Result<Vec<PlannedRun>> {
        (0..self.len()).map(|i| self.run(i)).collect()
    }
}

/// Sets `a.b.c = v` in `doc`, creating tables on the way.
fn set_dotted(doc: &mut Table, key: &str, v: Value) -> Result<()> {
    let parts: Vec<&str> = key.split('.').collect();
    let (last, path) = parts
        .split_last()
        .ok_or_else(|| invalid("grid", "empty key"))?;
    let mut t = doc;
    for p in path {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        t = match entry {
            Value::Table(inner) => inner,
            _ => {
                return Err(invalid(
                    format!("grid.{key}"),
                    format!("{p} is not a table"),
                ));
            }
        };
    }
    t.insert(last.to_string(), v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "[base]\nname = \"t\"\ndata = { synthetic = 64 }\nmodel = { kind = \"bbb_lenet\" }\n";

    #[test]
    fn expands_in_index_order_with_the_last_axis_fastest() {
        let g = Grid::from_toml(&format!(
            "{BASE}[grid]\n\"model.elbo.temperature\" = [1.0, 0.01]\n\"model.variational.prior\" = [\"gmm:0.75,1,9e-4\", \"gaussian:0.1\"]\nseed = [0, 1, 2]\n"
        ))
        .unwrap();
        assert_eq!(g.len(), 12);
        let r = g.run(7).unwrap(); // 7 = (1 * 2 + 0) * 3 + 1: T 0.01, gmm, seed 1
        assert_eq!(r.settings[0].1, Value::Float(0.01));
        assert_eq!(show(&r.settings[1].1), "gmm:0.75,1,9e-4");
        assert_eq!(r.experiment.seed, 1);
        assert_eq!(
            r.setting_label(),
            "model.elbo.temperature=0.01, model.variational.prior=gmm:0.75,1,9e-4"
        );
        assert!(g.run(12).is_err());
    }

    #[test]
    fn a_typo_in_an_axis_or_a_bad_value_fails_at_parse_time() {
        for grid in [
            "[grid]\n\"model.elbo.temprature\" = [1.0]\n",
            "[grid]\n\"model.elbo.temperature\" = [-1.0]\n",
            "[grid]\nseed = []\n",
            "[grid]\n\"data.synthetic.x\" = [1]\n",
        ] {
            let e = Grid::from_toml(&format!("{BASE}{grid}"));
            assert!(e.is_err(), "{grid}");
        }
        assert!(Grid::from_toml("[grid]\nseed = [0]\n").is_err());
        assert!(Grid::from_toml(&format!("{BASE}[grid]\nseed = [0]\n[extra]\n")).is_err());
    }

    #[test]
    fn variants_set_several_keys_under_one_name() {
        let g = Grid::from_toml(&format!(
            "{BASE}[grid]\nvariant = [{{ name = \"clean\" }}, {{ name = \"oracle\", \"data.train_snr\" = 10.0 }}, {{ name = \"mmd\", step = {{ kind = \"mmd\", lambda = 5.0, kernel = \"paper\" }} }}]\nseed = [0, 1]\n"
        ))
        .unwrap();
        assert_eq!(g.len(), 6);
        let clean = g.run(1).unwrap();
        assert_eq!(clean.label(), "variant=clean, seed=1");
        assert_eq!(clean.experiment.data.train_snr, None);
        assert!(clean.experiment.step.is_none());
        let oracle = g.run(2).unwrap();
        assert_eq!(oracle.setting_label(), "variant=oracle");
        assert_eq!(oracle.experiment.data.train_snr, Some(10.0));
        let mmd = g.run(5).unwrap();
        assert_eq!(mmd.setting_label(), "variant=mmd");
        assert!(!mmd.experiment.step.is_none());
        for bad in [
            "variant = [{ step = { kind = \"mmd\" } }]",
            "variant = [{ name = \"a\" }, { name = \"a\" }]",
            "variant = [\"a\"]",
            "variant = []",
            "variant = [{ name = \"a\", \"data.train_snr\" = -1.0 }]",
        ] {
            assert!(
                Grid::from_toml(&format!("{BASE}[grid]\n{bad}\n")).is_err(),
                "{bad}"
            );
        }
    }
}
