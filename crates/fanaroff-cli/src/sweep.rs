//! A sweep folder: one numbered run folder per grid index, run one index
//! at a time (a SLURM array task) or all with a bounded pool of worker
//! processes.

use crate::error::{Result, invalid, io};
use crate::grid::{Grid, PlannedRun};
use crate::record::{RECORD_FILE, RunRecord};
use crate::run::{RunOptions, run};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The file a failed attempt leaves (removed when a later attempt succeeds).
const ERROR_FILE: &str = "error.txt";
/// The copy of the grid in the sweep folder.
const GRID_FILE: &str = "grid.toml";

/// Where a run of a sweep stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// `record.json` exists.
    Done,
    /// The last attempt failed with this message (no record).
    Failed(String),
    /// A checkpoint exists but no record: running now, or killed.
    Started,
    /// Nothing yet.
    Pending,
}

/// A grid and the folder its runs go to.
///
/// The folder holds `grid.toml` (a copy of the grid: a folder belongs to
/// one grid) and `runs/NNNN/` per index with `experiment.toml`, `ckpt/`,
/// `log.txt` (worker output), `model.safetensors` and `record.json`.
#[derive(Debug, Clone)]
pub struct Sweep {
    grid: Grid,
    grid_path: PathBuf,
    dir: PathBuf,
}

impl Sweep {
    /// Opens the sweep of the grid file `grid_path` in `dir`, creating the
    /// folder on first use.
    ///
    /// # Errors
    /// An invalid grid; a folder that belongs to a different grid.
    pub fn open(grid_path: &Path, dir: &Path) -> Result<Self> {
        let grid = Grid::from_file(grid_path)?;
        let copy = dir.join(GRID_FILE);
        match std::fs::read_to_string(&copy) {
            Ok(old) if old != grid.text() => {
                return Err(invalid(
                    "sweep folder",
                    format!(
                        "{} holds the runs of a different grid; choose another --out or delete it",
                        dir.display()
                    ),
                ));
            }
            Ok(_) => {}
            Err(_) => {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
                fanaroff_train::write_atomic(&copy, grid.text().as_bytes())?;
            }
        }
        Ok(Sweep {
            grid,
            grid_path: grid_path.to_path_buf(),
            dir: dir.to_path_buf(),
        })
    }

    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// The sweep folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The grid file this sweep was opened from.
    pub fn grid_path(&self) -> &Path {
        &self.grid_path
    }

    /// The folder of run `index`.
    pub fn run_dir(&self, index: usize) -> PathBuf {
        self.dir.join("runs").join(format!("{index:04}"))
    }

    /// Where run `index` stands.
    pub fn state(&self, index: usize) -> RunState {
        let d = self.run_dir(index);
        if d.join(RECORD_FILE).exists() {
            RunState::Done
        } else if let Ok(msg) = std::fs::read_to_string(d.join(ERROR_FILE)) {
            RunState::Failed(msg.trim().to_string())
        } else if d.join("ckpt").exists() {
            RunState::Started
        } else {
            RunState::Pending
        }
    }

    /// Indices without a record.
    pub fn unfinished(&self) -> Vec<usize> {
        (0..self.grid.len())
            .filter(|&i| self.state(i) != RunState::Done)
            .collect()
    }

    /// Runs index `index`: a no-op returning `None` when it is done; resumes
    /// from its checkpoint when an earlier attempt was killed. A failure is
    /// written to the run folder's `error.txt` and returned.
    ///
    /// # Errors
    /// An index out of range; the run's failure.
    pub fn run_index(
        &self,
        index: usize,
        threads: Option<usize>,
        progress: bool,
    ) -> Result<Option<RunRecord>> {
        let planned: PlannedRun = self.grid.run(index)?;
        if self.state(index) == RunState::Done {
            return Ok(None);
        }
        let dir = self.run_dir(index);
        let _ = std::fs::remove_file(dir.join(ERROR_FILE));
        let opts = RunOptions::new(&dir).threads(threads).progress(progress);
        match run(&planned.experiment, &opts) {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                std::fs::create_dir_all(&dir).map_err(io(&dir))?;
                fanaroff_train::write_atomic(&dir.join(ERROR_FILE), format!("{e}\n").as_bytes())?;
                Err(e)
            }
        }
    }

    /// Re-evaluates finished run `index` from its `model.safetensors` with
    /// the current evaluation code and the grid's evaluation settings, runs
    /// its study again from scratch on that model, and rewrites its
    /// record's metrics and rows (the first earlier record is kept as
    /// `record.before-reevaluate.json`). Returns `None` for an unfinished run.
    ///
    /// # Errors
    /// An index out of range; a missing or unreadable model or record.
    pub fn reevaluate(&self, index: usize) -> Result<Option<RunRecord>> {
        let planned: PlannedRun = self.grid.run(index)?;
        if self.state(index) != RunState::Done {
            return Ok(None);
        }
        let dir = self.run_dir(index);
        let mut record = RunRecord::read(&dir.join(RECORD_FILE))?;
        let kept = dir.join("record.before-reevaluate.json");
        if !kept.exists() {
            record.write(&kept)?;
        }
        let t0 = std::time::Instant::now();
        let exp = &planned.experiment;
        // a study on another run's model keeps that run's metrics
        if exp.study.source().is_none() {
            record.metrics = crate::evaluate::evaluate_saved(exp, &dir.join("model.safetensors"))?;
        }
        record.rows = crate::run::rerun_study(exp, &dir)?;
        record.eval_seconds = t0.elapsed().as_secs_f64();
        record.write(&dir.join(RECORD_FILE))?;
        Ok(Some(record))
    }

    /// Runs every unfinished index with at most `jobs` worker processes
    /// (`exe sweep run GRID --out DIR --index I --threads T`, output
    /// appended to the run's `log.txt`); `on_event` hears each start and end.
    /// Returns the indices that failed.
    ///
    /// # Errors
    /// `jobs == 0`; a worker that cannot be started.
    pub fn run_local(
        &self,
        exe: &Path,
        jobs: usize,
        threads: usize,
        on_event: &mut dyn FnMut(usize, Option<bool>),
    ) -> Result<Vec<usize>> {
        if jobs == 0 || threads == 0 {
            return Err(invalid("sweep local", "-j and --threads must be >= 1"));
        }
        let mut queue: std::collections::VecDeque<usize> = self.unfinished().into();
        let mut running: Vec<(usize, Child)> = Vec::new();
        let mut failed = Vec::new();
        while !queue.is_empty() || !running.is_empty() {
            while running.len() < jobs {
                let Some(i) = queue.pop_front() else { break };
                running.push((i, self.spawn(exe, i, threads)?));
                on_event(i, None);
            }
            std::thread::sleep(Duration::from_millis(100));
            let mut still = Vec::new();
            for (i, mut child) in running {
                match child.try_wait().map_err(io(exe))? {
                    Some(status) => {
                        on_event(i, Some(status.success()));
                        if !status.success() {
                            failed.push(i);
                        }
                    }
                    None => still.push((i, child)),
                }
            }
            running = still;
        }
        failed.sort_unstable();
        Ok(failed)
    }

    fn spawn(&self, exe: &Path, index: usize, threads: usize) -> Result<Child> {
        let dir = self.run_dir(index);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let log_path = dir.join("log.txt");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        let err = log.try_clone().map_err(io(&log_path))?;
        Command::new(exe)
            .args(["sweep", "run"])
            .arg(&self.grid_path)
            .arg("--out")
            .arg(&self.dir)
            .args([
                "--index",
                &index.to_string(),
                "--threads",
                &threads.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(io(exe))
    }
}
