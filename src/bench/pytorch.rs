//! The PyTorch side of `gan-gpu bench train`: the same reference MLP GAN run eagerly by torch on
//! the CPU (assets/bench_pytorch.py, embedded in the binary), so both numbers come from one run
//! on one machine. Optional: without python3 and torch the bench says why and measures gan-gpu alone.

use std::process::Command;

use crate::error::{Error, Result};

const SCRIPT: &str = include_str!("../../assets/bench_pytorch.py");

pub struct PytorchRow {
    pub batch: usize,
    pub it_per_s: f64,
    pub threads: u64,
    pub version: String,
}

/// Why PyTorch cannot be measured here, or `None` when it can.
pub fn unavailable_reason() -> Option<String> {
    match Command::new("python3")
        .args(["-c", "import torch"])
        .output()
    {
        Err(e) => Some(format!("python3 not runnable ({e})")),
        Ok(out) if !out.status.success() => Some(
            "python3 cannot import torch (pip install torch numpy to compare with PyTorch)".into(),
        ),
        Ok(_) => None,
    }
}

/// Run the script for `model` ("mlp" or "dcgan") at these batch sizes, each for about `seconds`.
pub fn run(model: &str, batches: &[usize], seconds: f64) -> Result<Vec<PytorchRow>> {
    let script = std::env::temp_dir().join(format!("gan-gpu-bench-{}.py", std::process::id()));
    std::fs::write(&script, SCRIPT).map_err(|e| Error::io(&script, e))?;
    let batch_list = batches
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let output = Command::new("python3")
        .arg(&script)
        .args(["--model", model, "--batch", &batch_list])
        .args(["--seconds", &seconds.to_string()])
        .output();
    let _ = std::fs::remove_file(&script);
    let output = output.map_err(|e| Error::Input(format!("running python3 failed: {e}")))?;
    if !output.status.success() {
        return Err(Error::Input(format!(
            "the PyTorch benchmark failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(parse_row)
        .collect()
}

fn parse_row(line: &str) -> Result<PytorchRow> {
    let bad = || {
        Error::Input(format!(
            "unexpected output from the PyTorch benchmark: {line}"
        ))
    };
    let value: serde_json::Value = serde_json::from_str(line).map_err(|_| bad())?;
    Ok(PytorchRow {
        batch: value["batch"].as_u64().ok_or_else(bad)? as usize,
        it_per_s: value["it_per_s"].as_f64().ok_or_else(bad)?,
        threads: value["threads"].as_u64().unwrap_or(0),
        version: value["torch"].as_str().unwrap_or("?").to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_row_and_rejects_garbage() {
        let row = parse_row(r#"{"batch": 64, "it_per_s": 61.5, "threads": 2, "torch": "2.15.0"}"#)
            .unwrap();
        assert_eq!((row.batch, row.threads), (64, 2));
        assert_eq!(row.it_per_s, 61.5);
        assert!(parse_row("Traceback (most recent call last):").is_err());
        assert!(parse_row(r#"{"batch": 64}"#).is_err());
    }
}
