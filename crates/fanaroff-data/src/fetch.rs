//! Downloading a MiraBest release (cargo feature `download`).
//!
//! [`download`] fetches a URL over HTTP(S) into `<file>.part` with a progress
//! bar, and renames it to `<file>` only when its MD5 is the expected one. A
//! broken connection leaves the `.part` behind; the next call asks the server
//! for the rest (`Range: bytes=N-`) and appends it when the server answers
//! `206 Partial Content`, or starts again from zero when it answers `200`.
//! [`Release::fetch`] does this for one of the published releases.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use md5::{Digest, Md5};

use crate::error::{Error, Result};
use crate::mirabest::Release;

/// What a successful [`download`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The verified file.
    pub path: PathBuf,
    /// Bytes received by this call (0 when the file was already there).
    pub received: u64,
    /// Byte offset this call resumed from (0 when it started from scratch).
    pub resumed_from: u64,
}

/// Downloads `url` to `dest` and checks that its MD5 is `md5` (hex).
///
/// A `dest` that already has the right digest is left alone; one with another
/// digest is replaced. Missing parent folders are created. With `progress`, a
/// bar on stderr shows bytes, rate and time left.
///
/// # Errors
/// [`Error::Download`] when the server refuses (e.g. HTTP 404) or the
/// connection breaks (the `.part` file is kept for the next attempt),
/// [`Error::DownloadChecksum`] when the bytes have another digest (the
/// `.part` file is removed), [`Error::Io`] when a file cannot be written,
/// [`Error::InvalidParameter`] for an `md5` that is not 32 hex digits.
///
/// # Example
/// ```no_run
/// use fanaroff_data::download;
/// use fanaroff_data::mirabest::FULL;
/// let got = download(FULL.url, FULL.md5, "data/MiraBest_full_batches.tar.gz".as_ref(), true)?;
/// println!("{} ({} bytes received)", got.path.display(), got.received);
/// # Ok::<(), fanaroff_data::Error>(())
/// ```
pub fn download(url: &str, md5: &str, dest: &Path, progress: bool) -> Result<Fetched> {
    let expected = parse_md5(md5)?;
    let done = |received, resumed_from| Fetched {
        path: dest.to_path_buf(),
        received,
        resumed_from,
    };
    if dest.is_file() && md5_file(dest)? == expected {
        return Ok(done(0, 0));
    }
    let part = part_path(dest)?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    let have = fs::metadata(&part).map_or(0, |m| m.len());
    let (resumed_from, received) = transfer(url, &part, have, progress)?;
    let actual = md5_file(&part)?;
    if actual != expected {
        let _ = fs::remove_file(&part);
        return Err(Error::DownloadChecksum {
            url: url.to_string(),
            expected,
            actual,
        });
    }
    fs::rename(&part, dest).map_err(|e| io_err(dest, e))?;
    Ok(done(received, resumed_from))
}

impl Release {
    /// Downloads this release into `dir` as [`file_name`](Release::file_name)
    /// with [`download`].
    ///
    /// # Errors
    /// As [`download`].
    ///
    /// # Example
    /// ```no_run
    /// use fanaroff_data::MiraBest;
    /// use fanaroff_data::mirabest::Release;
    /// let got = Release::named("basic").unwrap().fetch("data".as_ref(), true)?;
    /// let mb = MiraBest::open(&got.path)?;
    /// # Ok::<(), fanaroff_data::Error>(())
    /// ```
    pub fn fetch(&self, dir: &Path, progress: bool) -> Result<Fetched> {
        download(self.url, self.md5, &dir.join(self.file_name), progress)
    }
}

/// Requests the bytes from `have` on and writes them into `part`; returns
/// the offset the server resumed from and the bytes received.
fn transfer(url: &str, part: &Path, have: u64, progress: bool) -> Result<(u64, u64)> {
    let fail = |reason: String| Error::Download {
        url: url.to_string(),
        reason,
    };
    let mut request = agent().get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = match request.call() {
        Ok(r) => r,
        // Nothing left to send: the partial file is already whole.
        Err(ureq::Error::StatusCode(416)) if have > 0 => return Ok((have, 0)),
        Err(ureq::Error::StatusCode(code)) => return Err(fail(status_text(code))),
        Err(e) => return Err(fail(e.to_string())),
    };
    let start = match response.status().as_u16() {
        206 => range_start(&response).unwrap_or(have),
        200 => 0,
        code => return Err(fail(status_text(code))),
    };
    if start != 0 && start != have {
        return Err(fail(format!(
            "asked for bytes from {have} on, the server sent them from {start}"
        )));
    }
    let total = response.body().content_length().map(|n| n + start);
    let name = part.file_name().map(|n| n.to_string_lossy().into_owned());
    let bar = progress_bar(total, start, progress, name.unwrap_or_default());
    let file = open_part(part, start)?;
    let received = copy_body(response.into_body().into_reader(), file, part, url, &bar)?;
    bar.finish_and_clear();
    Ok((start, received))
}

/// Copies the body into the file. When the connection breaks, the bytes
/// received so far stay in the file for the next attempt.
fn copy_body(
    mut body: impl Read,
    mut file: File,
    part: &Path,
    url: &str,
    bar: &ProgressBar,
) -> Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                let reason = format!(
                    "connection lost after {} bytes ({e}); they are kept in {}, \
                     run again to resume",
                    bar.position(),
                    part.display()
                );
                let url = url.to_string();
                return Err(Error::Download { url, reason });
            }
        };
        file.write_all(&buf[..n]).map_err(|e| io_err(part, e))?;
        received += n as u64;
        bar.inc(n as u64);
    }
    file.sync_all().map_err(|e| io_err(part, e))?;
    Ok(received)
}

/// An agent that gives up on a server that does not answer.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// `HTTP 404 Not Found`.
fn status_text(code: u16) -> String {
    let reason = ureq::http::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason());
    format!("the server answered HTTP {code} {}", reason.unwrap_or(""))
        .trim_end()
        .to_string()
}

/// First byte of a `Content-Range: bytes START-END/TOTAL` answer.
fn range_start(response: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let value = response.headers().get("content-range")?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}

/// The `.part` file, appended to from `start` (> 0) or truncated (0).
fn open_part(part: &Path, start: u64) -> Result<File> {
    let file = if start > 0 {
        OpenOptions::new().append(true).open(part)
    } else {
        File::create(part)
    };
    file.map_err(|e| io_err(part, e))
}

/// `<dest>.part` beside `dest`.
fn part_path(dest: &Path) -> Result<PathBuf> {
    let name = dest
        .file_name()
        .ok_or_else(|| Error::param("dest", format!("{} is not a file name", dest.display())))?;
    let mut part = name.to_os_string();
    part.push(".part");
    Ok(dest.with_file_name(part))
}

/// The expected digest in lowercase, checked to be 32 hex digits.
fn parse_md5(md5: &str) -> Result<String> {
    let md5 = md5.trim().to_ascii_lowercase();
    if md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(md5)
    } else {
        Err(Error::param(
            "md5",
            format!("expected 32 hex digits, got `{md5}`"),
        ))
    }
}

/// Lowercase hex MD5 of a file, read in chunks.
fn md5_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| io_err(path, e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(|e| io_err(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn progress_bar(total: Option<u64>, start: u64, show: bool, name: String) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = total.map_or_else(ProgressBar::no_length, ProgressBar::new);
    let template = "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} ({eta})";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_position(start);
    bar.set_message(name);
    bar
}

/// An I/O error kept as such ("not found" too: no download hint here).
fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io(fanaroff_core::IoError::new(path, source))
}
