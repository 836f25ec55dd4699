//! `gan-gpu download mnist|fashion-mnist [DIR]`: fetch a data set's IDX files, checked
//! against their published digests, and say how to train on them.

use std::path::PathBuf;

use clap::Args;

use super::Cli;
use crate::data::download::{Dataset, Fetched, download_file, with_checksums};
use crate::error::{Error, Result};

#[derive(Args, Debug)]
pub struct DownloadArgs {
    /// The data set: its four IDX .gz files (training and t10k images and labels).
    #[arg(value_enum)]
    pub dataset: Dataset,
    /// Folder to put the files in [default: data/<dataset>].
    pub dir: Option<PathBuf>,
    /// Fetch from this URL (a folder holding the four files) instead of the usual mirrors.
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    /// MD5 digests to check instead of the published ones, as `md5sum` writes them
    /// ("<md5>  <file name>" per line), for a mirror that packs the files differently.
    #[arg(long, value_name = "FILE")]
    pub checksums: Option<PathBuf>,
}

pub fn run(_cli: &Cli, args: &DownloadArgs) -> Result<()> {
    let dataset = args.dataset;
    let dir = args.dir.clone().unwrap_or_else(|| dataset.default_dir());
    let mirrors: Vec<String> = match &args.mirror {
        Some(url) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::Input(format!(
                    "--mirror: expected an http:// or https:// URL, found {url:?}"
                )));
            }
            let slash = if url.ends_with('/') { "" } else { "/" };
            vec![format!("{url}{slash}")]
        }
        None => dataset.mirrors().iter().map(|m| m.to_string()).collect(),
    };
    let files = match &args.checksums {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            with_checksums(&dataset.files(), &text, path)?
        }
        None => dataset.files(),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    for file in &files {
        match download_file(&dir, file, &mirrors)? {
            Fetched::AlreadyThere => {
                crate::outln!("{}: already there (MD5 {})", file.name, file.md5)
            }
            Fetched::Downloaded { url, resumed_from } => {
                let resumed = match resumed_from {
                    0 => String::new(),
                    n => format!(", resumed after {n} bytes"),
                };
                crate::outln!(
                    "{}: from {url} (MD5 {} checked{resumed})",
                    file.name,
                    file.md5
                )
            }
        }
    }
    crate::outln!(
        "{} is in {} ({} files, checksums verified). Train on it with:",
        dataset.name(),
        dir.display(),
        files.len()
    );
    crate::outln!("  gan-gpu train {}", dir.display());
    Ok(())
}
