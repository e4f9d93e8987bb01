//! A tiny HTTP/1.1 file server on 127.0.0.1 for the download tests: GET with
//! and without `Range: bytes=N-`, one connection at a time, each closed after
//! its answer. It can cut the first answer short, ignore ranges, or answer 404,
//! and it records the range asked for by every request.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// How the server answers.
#[derive(Clone, Default)]
pub struct Behaviour {
    /// The file served at every path.
    pub body: Vec<u8>,
    /// Close the first connection after this many body bytes (the headers
    /// still announce the whole length).
    pub cut_first_after: Option<usize>,
    /// Answer `200` with everything even when asked for a range.
    pub ignore_range: bool,
    /// Answer `404 Not Found` to everything.
    pub not_found: bool,
}

/// A running server; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    ranges: Arc<Mutex<Vec<Option<u64>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on a free port of 127.0.0.1.
    pub fn start(behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let ranges = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, halt) = (ranges.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let first = log.lock().unwrap().is_empty();
                if let Some(range) = answer(stream, &behaviour, first) {
                    log.lock().unwrap().push(range);
                }
            }
        });
        Server {
            addr,
            ranges,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/name`.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    /// The `Range` start of every request so far (`None`: no range).
    pub fn ranges(&self) -> Vec<Option<u64>> {
        self.ranges.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request and answers it; returns the range asked for, or `None`
/// when the connection carried no request.
fn answer(stream: TcpStream, b: &Behaviour, first: bool) -> Option<Option<u64>> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if !line.starts_with("GET ") {
        return None;
    }
    let mut range = None;
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 || line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range:") {
            let v = v.trim().trim_start_matches("bytes=").trim_end_matches('-');
            range = v.parse::<u64>().ok();
        }
    }
    respond(stream, b, range, first);
    Some(range)
}

fn respond(mut stream: TcpStream, b: &Behaviour, range: Option<u64>, first: bool) {
    let len = b.body.len();
    let (status, extra, body) = match range {
        _ if b.not_found => ("404 Not Found", String::new(), &b"not found"[..]),
        Some(n) if !b.ignore_range && n as usize >= len => (
            "416 Range Not Satisfiable",
            format!("Content-Range: bytes */{len}\r\n"),
            &b""[..],
        ),
        Some(n) if !b.ignore_range => (
            "206 Partial Content",
            format!("Content-Range: bytes {n}-{}/{len}\r\n", len - 1),
            &b.body[n as usize..],
        ),
        _ => ("200 OK", String::new(), &b.body[..]),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let cut = if first { b.cut_first_after } else { None };
    let sent = cut.map_or(body, |k| &body[..k.min(body.len())]);
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(sent);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
