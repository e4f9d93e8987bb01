//! An `sbatch --array` script whose tasks run one sweep index each.

use crate::error::{Result, invalid};
use crate::sweep::Sweep;
use std::fmt::Write as _;
use std::path::Path;

/// Resources of each array task.
///
/// | option | default | `#SBATCH` |
/// |---|---|---|
/// | `partition` | none (the cluster's default) | `--partition` |
/// | `account` | none | `--account` |
/// | `time` | `04:00:00` | `--time` |
/// | `mem` | `8G` | `--mem` |
/// | `cpus` | 2 | `--cpus-per-task` (also the run's thread count) |
/// | `throttle` | none | `%N` on `--array`: at most N tasks at once |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmOptions {
    /// Partition.
    pub partition: Option<String>,
    /// Account to charge.
    pub account: Option<String>,
    /// Wall-time limit per task.
    pub time: String,
    /// Memory per task.
    pub mem: String,
    /// CPUs per task.
    pub cpus: usize,
    /// Maximum tasks running at once.
    pub throttle: Option<usize>,
}

impl Default for SlurmOptions {
    fn default() -> Self {
        SlurmOptions {
            partition: None,
            account: None,
            time: "04:00:00".into(),
            mem: "8G".into(),
            cpus: 2,
            throttle: None,
        }
    }
}

impl SlurmOptions {
    /// The job-array script for the given indices of `sweep` (all
    /// unfinished ones, typically). Tasks `cd` to `workdir` (relative data
    /// paths in the grid are relative to it) and call
    /// `exe sweep run GRID --out DIR --index $SLURM_ARRAY_TASK_ID`; their
    /// output goes to `DIR/slurm/%A_%a.out`.
    ///
    /// # Errors
    /// No indices; zero CPUs or throttle; a value with a newline.
    pub fn script(
        &self,
        sweep: &Sweep,
        indices: &[usize],
        exe: &Path,
        workdir: &Path,
    ) -> Result<String> {
        if indices.is_empty() {
            return Err(invalid(
                "sweep slurm",
                "no runs to submit: every index has a record",
            ));
        }
        if self.cpus == 0 || self.throttle == Some(0) {
            return Err(invalid("sweep slurm", "--cpus and --throttle must be >= 1"));
        }
        let texts = [
            Some(&self.time),
            Some(&self.mem),
            self.partition.as_ref(),
            self.account.as_ref(),
        ];
        if texts.iter().flatten().any(|t| t.contains(['\n', ' '])) {
            return Err(invalid(
                "sweep slurm",
                "options must not contain spaces or newlines",
            ));
        }
        let mut array = ranges(indices);
        if let Some(t) = self.throttle {
            array.push_str(&format!("%{t}"));
        }
        let dir = sweep.dir();
        let mut s = String::from("#!/bin/bash\n");
        let _ = writeln!(s, "#SBATCH --job-name=fanaroff-sweep");
        let _ = writeln!(s, "#SBATCH --array={array}");
        let _ = writeln!(s, "#SBATCH --cpus-per-task={}", self.cpus);
        let _ = writeln!(s, "#SBATCH --mem={}", self.mem);
        let _ = writeln!(s, "#SBATCH --time={}", self.time);
        if let Some(p) = &self.partition {
            let _ = writeln!(s, "#SBATCH --partition={p}");
        }
        if let Some(a) = &self.account {
            let _ = writeln!(s, "#SBATCH --account={a}");
        }
        let _ = writeln!(s, "#SBATCH --output={}/slurm/%A_%a.out", dir.display());
        let _ = writeln!(
            s,
            "# {} runs of {}; resubmitting skips finished ones.",
            indices.len(),
            sweep.grid_path().display()
        );
        s.push_str("set -euo pipefail\n");
        let _ = writeln!(s, "cd {}", quote(workdir));
        let _ = writeln!(
            s,
            "exec {} sweep run {} --out {} --index \"$SLURM_ARRAY_TASK_ID\" --threads \"${{SLURM_CPUS_PER_TASK:-{}}}\"",
            quote(exe),
            quote(sweep.grid_path()),
            quote(dir),
            self.cpus
        );
        Ok(s)
    }
}

/// `0-3,5,7-8` from sorted indices.
fn ranges(v: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            v[i].to_string()
        } else {
            format!("{}-{}", v[i], v[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// A path in single quotes for bash.
fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_ranges_compress_runs_of_indices() {
        assert_eq!(ranges(&[0, 1, 2, 3, 5, 7, 8]), "0-3,5,7-8");
        assert_eq!(ranges(&[4]), "4");
        assert_eq!(quote(Path::new("/a b/it's")), "'/a b/it'\\''s'");
    }
}
