//! `fanaroff data fetch`: argument checks, and a download from a one-file
//! HTTP server on 127.0.0.1 (the resume and error mechanics are tested in
//! fanaroff-data's `fetch` tests).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

use fanaroff_data::mirabest::md5_hex;

const EXE: &str = env!("CARGO_BIN_EXE_fanaroff");

fn fanaroff(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(EXE).args(args).output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Answers `requests` GETs with `200` and `body`; returns the base URL.
fn serve(body: Vec<u8>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body).unwrap();
        }
    });
    url
}

#[test]
fn bad_arguments_are_refused() {
    let (ok, _, err) = fanaroff(&["data", "fetch", "--release", "huge"]);
    assert!(!ok && err.contains("basic-2019"), "{err}");
    let (ok, _, err) = fanaroff(&["data", "fetch", "--url", "http://127.0.0.1:9/x"]);
    assert!(!ok && err.contains("--md5"), "{err}");
    let args = [
        "data",
        "fetch",
        "--release",
        "full",
        "--url",
        "u",
        "--md5",
        "m",
    ];
    let (ok, _, err) = fanaroff(&args);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
}

#[test]
fn fetches_a_url_and_checks_its_md5() {
    let body: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let url = format!("{}/dir/release.tar.gz?x=1", serve(body.clone(), 2));
    let out = std::env::temp_dir().join(format!("fanaroff-cli-fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let out_s = out.to_str().unwrap();
    let md5 = md5_hex(&body);
    let args = [
        "data", "fetch", "--url", &url, "--md5", &md5, "--out", out_s,
    ];
    let (ok, stdout, err) = fanaroff(&[&args[..], &["--no-progress"]].concat());
    assert!(ok, "{err}");
    let path = out.join("release.tar.gz");
    assert_eq!(stdout.trim(), path.to_str().unwrap());
    assert_eq!(std::fs::read(&path).unwrap(), body);

    std::fs::remove_file(&path).unwrap();
    let wrong = "ffffffffffffffffffffffffffffffff";
    let args = [
        "data", "fetch", "--url", &url, "--md5", wrong, "--out", out_s,
    ];
    let (ok, _, err) = fanaroff(&args);
    assert!(!ok && err.contains(wrong) && err.contains(&md5), "{err}");
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(&out);
}
