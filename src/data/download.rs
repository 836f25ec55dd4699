//! `gan-gpu download mnist|fashion-mnist [DIR]`: the four IDX .gz files of a data set from
//! its usual mirrors, tried in order, each checked against its published MD5 before it is
//! renamed into place.
//!
//! A file is fetched into `<name>.part`; an interrupted download resumes from the bytes
//! already there (an HTTP Range request) or restarts when the server ignores the range. A file
//! whose digest does not match is deleted and refused, naming the file, the expected and the
//! found digest: nothing unchecked is ever left under the final name.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::{Digest, Md5};

use crate::error::{Error, Result};

/// A data set `gan-gpu download` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dataset {
    Mnist,
    FashionMnist,
}

/// One file of a data set and its published MD5 (the digests torchvision checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    pub name: String,
    pub md5: String,
}

impl Dataset {
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::FashionMnist => "fashion-mnist",
        }
    }

    /// Where the files go without a DIR argument.
    pub fn default_dir(self) -> PathBuf {
        Path::new("data").join(self.name())
    }

    /// The usual hosts, tried in order (each URL ends in '/').
    pub fn mirrors(self) -> &'static [&'static str] {
        match self {
            Dataset::Mnist => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
                "https://yann.lecun.com/exdb/mnist/",
            ],
            Dataset::FashionMnist => &[
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            ],
        }
    }

    /// The four files with their published MD5 digests.
    pub fn files(self) -> Vec<RemoteFile> {
        let list: [(&str, &str); 4] = match self {
            Dataset::Mnist => [
                (
                    "train-images-idx3-ubyte.gz",
                    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "d53e105ee54ea40749a09fcbcd1e9432",
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "9fb629c4189551a2d022fa330f9573f3",
                ),
                (
                    "t10k-labels-idx1-ubyte.gz",
                    "ec29112dd5afa0611ce80d1b7f02629c",
                ),
            ],
            Dataset::FashionMnist => [
                (
                    "train-images-idx3-ubyte.gz",
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "25c81989df183df01b3e8a0aad5dffbe",
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "bef4ecab320f06d8554ea6380940ec79",
                ),
                (
                    "t10k-labels-idx1-ubyte.gz",
                    "bb300cfdad3c16e7a12a480ee83cd310",
                ),
            ],
        };
        list.iter()
            .map(|(name, md5)| RemoteFile {
                name: name.to_string(),
                md5: md5.to_string(),
            })
            .collect()
    }
}

/// `files` with the digests of an md5sum-style list (`<md5>  <name>` per line) in their
/// place, for a mirror whose files are packed differently from the published ones; every file
/// must be listed. `list_file` is named in errors.
pub fn with_checksums(
    files: &[RemoteFile],
    list: &str,
    list_file: &Path,
) -> Result<Vec<RemoteFile>> {
    let mut digests = std::collections::HashMap::new();
    for (i, line) in list.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(md5), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::invalid(
                list_file,
                format!("line {}", i + 1),
                "\"<md5>  <file name>\"",
                format!("{line:?}"),
            ));
        };
        let md5 = md5.to_ascii_lowercase();
        if md5.len() != 32 || !md5.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid(
                list_file,
                format!("line {}", i + 1),
                "an MD5 digest of 32 hexadecimal digits",
                format!("{md5:?}"),
            ));
        }
        digests.insert(name.trim_start_matches('*').to_string(), md5);
    }
    files
        .iter()
        .map(|f| match digests.get(&f.name) {
            Some(md5) => Ok(RemoteFile {
                name: f.name.clone(),
                md5: md5.clone(),
            }),
            None => Err(Error::invalid(
                list_file,
                &f.name,
                "an MD5 line for every file of the data set",
                "no line",
            )),
        })
        .collect()
}

/// The MD5 of a file, as lowercase hex.
pub fn md5_of_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// Already in place with the right digest.
    AlreadyThere,
    /// Downloaded from `url`; `resumed_from` bytes were already in the .part file.
    Downloaded { url: String, resumed_from: u64 },
}

/// A failed attempt at one mirror, for the final error.
fn attempt_error(url: &str, why: impl std::fmt::Display) -> String {
    format!("{url}: {why}")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .user_agent(concat!("gan-gpu/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Fetch `url` into `part`, continuing after the bytes already there when the server honours
/// a Range request and starting over when it does not. Returns the bytes resumed from.
fn fetch(agent: &ureq::Agent, url: &str, part: &Path) -> std::result::Result<u64, String> {
    let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = request.call().map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let (append, resumed) = match status {
        206 => (true, have),
        200 => (false, 0),
        // The .part file already holds everything (or more): its digest decides.
        416 if have > 0 => return Ok(have),
        _ => {
            let reason = response.status().canonical_reason().unwrap_or("");
            return Err(format!("HTTP {status} {reason}").trim_end().to_string());
        }
    };
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(part)
        .map_err(|e| format!("{}: {e}", part.display()))?;
    let mut body = response.into_body().into_reader();
    std::io::copy(&mut body, &mut file).map_err(|e| format!("reading the body: {e}"))?;
    file.flush()
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("{}: {e}", part.display()))?;
    Ok(resumed)
}

/// Download `file` into `dir` from the first of `mirrors` that serves it with the right
/// digest. A file already in place with the right digest is kept.
pub fn download_file(dir: &Path, file: &RemoteFile, mirrors: &[String]) -> Result<Fetched> {
    let target = dir.join(&file.name);
    if target.is_file() && md5_of_file(&target)? == file.md5 {
        return Ok(Fetched::AlreadyThere);
    }
    let part = dir.join(format!("{}.part", file.name));
    let agent = agent();
    let mut failures = Vec::new();
    for mirror in mirrors {
        let url = format!("{}{}", mirror, file.name);
        let resumed_from = match fetch(&agent, &url, &part) {
            Ok(resumed) => resumed,
            Err(why) => {
                failures.push(attempt_error(&url, why));
                continue;
            }
        };
        let found = md5_of_file(&part)?;
        if found == file.md5 {
            std::fs::rename(&part, &target).map_err(|e| Error::io(&target, e))?;
            return Ok(Fetched::Downloaded { url, resumed_from });
        }
        // Wrong bytes (a corrupt mirror or a stale partial file): none of them stay.
        std::fs::remove_file(&part).map_err(|e| Error::io(&part, e))?;
        failures.push(attempt_error(
            &url,
            format!(
                "checksum mismatch for {}: expected MD5 {}, found {found}; the file was deleted",
                file.name, file.md5
            ),
        ));
    }
    Err(Error::Input(format!(
        "could not download {} into {}:\n  {}",
        file.name,
        dir.display(),
        failures.join("\n  ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::test_util::temp_dir;

    #[test]
    fn md5_and_checksum_lists() {
        let dir = temp_dir("md5");
        let path = dir.join("abc");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(
            md5_of_file(&path).unwrap(),
            "900150983cd24fb0d6963f7d28e17f72"
        );

        let files = Dataset::Mnist.files();
        assert_eq!(files.len(), 4);
        let list: String = files
            .iter()
            .map(|f| format!("{}  {}\n", "0".repeat(32), f.name))
            .collect();
        let replaced = with_checksums(&files, &list, Path::new("sums")).unwrap();
        assert!(replaced.iter().all(|f| f.md5 == "0".repeat(32)));
        let msg = with_checksums(&files, "xyz  train-images-idx3-ubyte.gz", Path::new("sums"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("sums") && msg.contains("32 hexadecimal"),
            "{msg}"
        );
        let msg = with_checksums(&files, list.lines().next().unwrap(), Path::new("sums"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("train-labels-idx1-ubyte.gz"), "{msg}");
        std::fs::remove_dir_all(dir).ok();
    }
}
