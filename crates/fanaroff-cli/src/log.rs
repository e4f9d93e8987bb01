//! Log records on stderr: the training loop's line per epoch and its
//! resume notices.

struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!("{}", r.args());
        }
    }

    fn flush(&self) {}
}

/// Sends `log` records at `info` and above to stderr;
/// `FANAROFF_LOG=debug|warn|off` changes the level. A second call (or
/// another logger already installed) leaves things as they are.
pub fn init_stderr_log() {
    let level = match std::env::var("FANAROFF_LOG").as_deref() {
        Ok("debug") => log::LevelFilter::Debug,
        Ok("warn") => log::LevelFilter::Warn,
        Ok("off") => log::LevelFilter::Off,
        _ => log::LevelFilter::Info,
    };
    if log::set_logger(&StderrLog).is_ok() {
        log::set_max_level(level);
    }
}
