//! The per-adapter matmul tuning cache: `gan-gpu bench --tune` writes the winning kernel per
//! shape class to `<cache dir>/gan-gpu/matmul-tuning.json`, keyed by the adapter's name,
//! backend, driver and gan-gpu's version, and every later command on the same adapter uses it.
//! A new driver or gan-gpu version misses the cache (the built-in rule applies until it is
//! tuned again); a damaged file is reported and ignored, never fatal.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::matmul::{Layout, MatmulKernel};
use super::matmul_tuning::{KernelChoice, ShapeClass, SizeClass, TunedMatmul};
use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::report::run_dir::write_atomic;

/// Environment variable naming the folder that holds the cache file (tests, shared machines).
pub const CACHE_DIR_VARIABLE: &str = "GAN_GPU_CACHE_DIR";
const FILE_NAME: &str = "matmul-tuning.json";
const FORMAT: u32 = 1;

/// What identifies an adapter for tuning: a choice measured under another driver or another
/// gan-gpu (other kernels) does not carry over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterKey {
    pub name: String,
    pub backend: String,
    pub vendor: u32,
    pub device: u32,
    pub driver: String,
    pub driver_info: String,
    pub gan_gpu_version: String,
}

impl AdapterKey {
    pub fn of(ctx: &GpuContext) -> AdapterKey {
        let info = &ctx.adapter_info;
        AdapterKey {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            vendor: info.vendor,
            device: info.device,
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
            gan_gpu_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// One shape class's winner and what it measured against the built-in rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassChoice {
    pub layout: Layout,
    pub size: SizeClass,
    pub kernel: MatmulKernel,
    pub workgroup_x: u32,
    pub workgroup_y: u32,
    pub gflops: f64,
    pub builtin_gflops: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdapterTuning {
    pub adapter: AdapterKey,
    /// UTC, YYYYMMDD-HHMMSS.
    pub tuned_at: String,
    pub choices: Vec<ClassChoice>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    adapters: Vec<AdapterTuning>,
}

/// `$GAN_GPU_CACHE_DIR/matmul-tuning.json`, else the platform's cache folder
/// (`~/.cache/gan-gpu/` on Linux, `~/Library/Caches/gan-gpu/` on macOS, `%LOCALAPPDATA%\gan-gpu\`
/// on Windows); None where the platform has none.
pub fn cache_path() -> Option<PathBuf> {
    match std::env::var_os(CACHE_DIR_VARIABLE) {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir).join(FILE_NAME)),
        _ => dirs::cache_dir().map(|dir| dir.join("gan-gpu").join(FILE_NAME)),
    }
}

fn read_cache(path: &Path) -> Result<Option<CacheFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let file: CacheFile = serde_json::from_str(&text).map_err(|e| {
        Error::Input(format!(
            "{}: not a gan-gpu matmul tuning file ({e})",
            path.display()
        ))
    })?;
    if file.format != FORMAT {
        return Err(Error::Input(format!(
            "{}: format {}, expected {FORMAT}",
            path.display(),
            file.format
        )));
    }
    Ok(Some(file))
}

/// The saved choices for this context's adapter. Ok(None) when there is no cache or no entry
/// for this adapter, driver and version; Err (for the caller to warn about) when the file
/// cannot be read or parsed.
pub fn load(ctx: &GpuContext) -> Result<Option<TunedMatmul>> {
    let Some(path) = cache_path() else {
        return Ok(None);
    };
    let Some(file) = read_cache(&path)? else {
        return Ok(None);
    };
    let key = AdapterKey::of(ctx);
    let Some(entry) = file.adapters.iter().find(|entry| entry.adapter == key) else {
        return Ok(None);
    };
    let choices = entry
        .choices
        .iter()
        .map(|choice| {
            (
                ShapeClass {
                    layout: choice.layout,
                    size: choice.size,
                },
                KernelChoice {
                    kernel: choice.kernel,
                    workgroup_x: choice.workgroup_x,
                    workgroup_y: choice.workgroup_y,
                },
            )
        })
        .collect();
    Ok(Some(TunedMatmul {
        choices,
        source: format!("{}, tuned {}", path.display(), entry.tuned_at),
    }))
}

/// `load`, with a damaged cache reported on stderr and ignored: tuning only ever speeds a run up,
/// so a bad cache must not stop one.
pub fn load_or_warn(ctx: &GpuContext) -> Option<TunedMatmul> {
    match load(ctx) {
        Ok(tuned) => tuned,
        Err(e) => {
            crate::errln!(
                "warning: ignoring the matmul tuning cache: {e}; delete it or run `gan-gpu bench --tune` to rewrite it"
            );
            None
        }
    }
}

/// Save this adapter's choices, replacing its previous entry and keeping other adapters'
/// (a damaged file is replaced whole). Written to a temporary file, then renamed.
pub fn save(ctx: &GpuContext, choices: Vec<ClassChoice>) -> Result<PathBuf> {
    let path = cache_path().ok_or_else(|| {
        Error::Input(format!(
            "this platform has no cache folder; set {CACHE_DIR_VARIABLE} to one"
        ))
    })?;
    let mut file = read_cache(&path).ok().flatten().unwrap_or(CacheFile {
        format: FORMAT,
        adapters: Vec::new(),
    });
    let key = AdapterKey::of(ctx);
    file.adapters.retain(|entry| entry.adapter != key);
    file.adapters.push(AdapterTuning {
        adapter: key,
        tuned_at: crate::clock::utc_timestamp(),
        choices,
    });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let text = serde_json::to_string_pretty(&file)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    write_atomic(&path, text.as_bytes())?;
    Ok(path)
}
