//! `gan-gpu download` against HTTP servers on 127.0.0.1 in this process (no internet): files
//! are fetched and checked, a partial file resumes with a Range request (or restarts where
//! the server ignores ranges), files already in place are kept, and a corrupted file or a 404
//! is refused by name with nothing left behind.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use gan_gpu::data::download::{Dataset, md5_of_file};
use support::{fails, succeeds};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gan-gpu-download-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// (URL path, Range header) of every request a server saw.
type RequestLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serve `files` (URL path → bytes) on 127.0.0.1 from a thread; 404 for anything else.
/// `ranges`: answer `Range: bytes=N-` with 206 and the tail, as S3 does (else always 200).
fn serve(files: HashMap<String, Vec<u8>>, ranges: bool) -> (String, RequestLog) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let log: RequestLog = Arc::default();
    let seen = log.clone();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let range = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("Range"))
                .map(|h| h.value.as_str().to_string());
            let url = request.url().to_string();
            seen.lock().unwrap().push((url.clone(), range.clone()));
            let response = match files.get(&url) {
                None => {
                    tiny_http::Response::from_data(b"no such file".to_vec()).with_status_code(404)
                }
                Some(bytes) => {
                    let start = range
                        .as_deref()
                        .and_then(|r| r.strip_prefix("bytes="))
                        .and_then(|r| r.strip_suffix('-'))
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|_| ranges);
                    match start {
                        Some(start) if start < bytes.len() => {
                            let header = format!(
                                "Content-Range: bytes {start}-{}/{}",
                                bytes.len() - 1,
                                bytes.len()
                            );
                            tiny_http::Response::from_data(bytes[start..].to_vec())
                                .with_status_code(206)
                                .with_header(header.parse::<tiny_http::Header>().unwrap())
                        }
                        Some(_) => tiny_http::Response::from_data(Vec::new()).with_status_code(416),
                        None => tiny_http::Response::from_data(bytes.clone()),
                    }
                }
            };
            let _ = request.respond(response);
        }
    });
    (format!("http://127.0.0.1:{port}"), log)
}

/// Four stand-ins for the MNIST files (distinct pseudo-random bytes each).
fn fake_files() -> Vec<(String, Vec<u8>)> {
    Dataset::Mnist
        .files()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut state = 17 + i as u32;
            let bytes = (0..3000 + 1000 * i)
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (state >> 24) as u8
                })
                .collect();
            (f.name.clone(), bytes)
        })
        .collect()
}

fn md5(bytes: &[u8], dir: &Path) -> String {
    let path = dir.join("md5-scratch");
    std::fs::write(&path, bytes).unwrap();
    let digest = md5_of_file(&path).unwrap();
    std::fs::remove_file(path).unwrap();
    digest
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn download_fetches_checks_resumes_and_refuses() {
    let dir = scratch("main");
    let files = fake_files();
    let mut served = HashMap::new();
    let mut sums = String::new();
    for (name, bytes) in &files {
        served.insert(format!("/mnist/{name}"), bytes.clone());
        // The corrupt mirror flips one byte of every file.
        let mut bad = bytes.clone();
        bad[100] ^= 0xff;
        served.insert(format!("/bad/{name}"), bad);
        sums.push_str(&format!("{}  {name}\n", md5(bytes, &dir)));
    }
    let (base, log) = serve(served.clone(), true);
    let checksums = dir.join("mnist.md5");
    std::fs::write(&checksums, &sums).unwrap();

    // A download cut off after 1,234 bytes resumes from there.
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (first, first_bytes) = &files[0];
    std::fs::write(data.join(format!("{first}.part")), &first_bytes[..1234]).unwrap();
    let mirror = format!("{base}/mnist/");
    let out = succeeds(&[
        "download",
        "mnist",
        s(&data),
        "--mirror",
        &mirror,
        "--checksums",
        s(&checksums),
    ]);
    eprintln!("{out}");
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(data.join(name)).unwrap(), bytes, "{name}");
        assert!(
            out.contains(&format!("{name}: from {mirror}{name}")),
            "{out}"
        );
    }
    assert!(
        out.contains(&format!("{first}: from {mirror}{first} (MD5")),
        "{out}"
    );
    assert!(out.contains("resumed after 1234 bytes"), "{out}");
    assert!(
        out.contains(&format!("gan-gpu train {}", data.display())),
        "{out}"
    );
    let mut expected: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    expected.sort();
    assert_eq!(names_in(&data), expected, "no .part file left");
    let requests = log.lock().unwrap().clone();
    assert!(
        requests.contains(&(format!("/mnist/{first}"), Some("bytes=1234-".into()))),
        "{requests:?}"
    );

    // Files already in place with the right digest are kept, without a request.
    let before = log.lock().unwrap().len();
    let again = succeeds(&[
        "download",
        "mnist",
        s(&data),
        "--mirror",
        &mirror,
        "--checksums",
        s(&checksums),
    ]);
    assert_eq!(again.matches("already there").count(), 4, "{again}");
    assert_eq!(log.lock().unwrap().len(), before);

    // A corrupted file: refused by name with both digests, and nothing left behind.
    let corrupt = dir.join("corrupt");
    let error = fails(&[
        "download",
        "mnist",
        s(&corrupt),
        "--mirror",
        &format!("{base}/bad/"),
        "--checksums",
        s(&checksums),
    ]);
    let mut bad = first_bytes.clone();
    bad[100] ^= 0xff;
    for text in [
        first.as_str(),
        &md5(first_bytes, &dir),
        &md5(&bad, &dir),
        "checksum mismatch",
    ] {
        assert!(error.contains(text), "{text} missing from: {error}");
    }
    assert!(names_in(&corrupt).is_empty(), "{:?}", names_in(&corrupt));

    // The published digests do not match these stand-ins: refused the same way.
    let published = dir.join("published");
    let error = fails(&["download", "mnist", s(&published), "--mirror", &mirror]);
    assert!(
        error.contains("f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "{error}"
    );
    assert!(names_in(&published).is_empty());

    // A 404 names the URL and the status.
    let missing = dir.join("missing");
    let error = fails(&[
        "download",
        "mnist",
        s(&missing),
        "--mirror",
        &format!("{base}/nothing"),
    ]);
    assert!(
        error.contains(&format!("{base}/nothing/{first}")) && error.contains("404"),
        "{error}"
    );
    assert!(names_in(&missing).is_empty());

    // Not an HTTP URL: refused before anything is fetched.
    let error = fails(&[
        "download",
        "mnist",
        s(&missing),
        "--mirror",
        "ftp://example.org/",
    ]);
    assert!(
        error.contains("--mirror") && error.contains("ftp://example.org/"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_server_without_ranges_restarts_the_partial_file() {
    let dir = scratch("restart");
    let files = fake_files();
    let served: HashMap<String, Vec<u8>> = files
        .iter()
        .map(|(name, bytes)| (format!("/m/{name}"), bytes.clone()))
        .collect();
    let sums: String = files
        .iter()
        .map(|(name, bytes)| format!("{}  {name}\n", md5(bytes, &dir)))
        .collect();
    let checksums = dir.join("sums");
    std::fs::write(&checksums, sums).unwrap();
    let (base, log) = serve(served, false);
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A stale partial file (other bytes): the full body replaces it.
    std::fs::write(data.join(format!("{}.part", files[1].0)), vec![9u8; 500]).unwrap();
    let out = succeeds(&[
        "download",
        "mnist",
        s(&data),
        "--mirror",
        &format!("{base}/m"),
        "--checksums",
        s(&checksums),
    ]);
    assert!(!out.contains("resumed"), "{out}");
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(data.join(name)).unwrap(), bytes);
    }
    assert_eq!(log.lock().unwrap().len(), 4);
    std::fs::remove_dir_all(dir).ok();
}
