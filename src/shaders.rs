//! The WGSL sources, embedded in the binary so gan-gpu runs from any folder.
//!
//! Every kernel file is compiled with `shaders/common.wgsl` appended: WGSL has no includes, and
//! module-scope declarations may come after their use, so appending keeps the kernel file's
//! line numbers intact in error messages.

const COMMON: &str = include_str!("../shaders/common.wgsl");

/// Appended to both matmul kernels before COMMON: their parameters, bindings, operand loads and
/// epilogue (the subgroup kernel needs a file of its own, since adapters without subgroups
/// cannot compile it).
const MATMUL_COMMON: &str = include_str!("../shaders/matmul_common.wgsl");

/// (name, source) of every kernel file in shaders/, without the shared parts.
pub const SHADER_FILES: &[(&str, &str)] = &[
    ("matmul", include_str!("../shaders/matmul.wgsl")),
    (
        "matmul_subgroup8",
        include_str!("../shaders/matmul_subgroup8.wgsl"),
    ),
    ("elementwise", include_str!("../shaders/elementwise.wgsl")),
    ("reduce", include_str!("../shaders/reduce.wgsl")),
    ("loss", include_str!("../shaders/loss.wgsl")),
    ("optim", include_str!("../shaders/optim.wgsl")),
    ("random", include_str!("../shaders/random.wgsl")),
    ("data", include_str!("../shaders/data.wgsl")),
    ("penalty", include_str!("../shaders/penalty.wgsl")),
    ("parzen", include_str!("../shaders/parzen.wgsl")),
    ("augment", include_str!("../shaders/augment.wgsl")),
    ("conv", include_str!("../shaders/conv.wgsl")),
    ("batch_norm", include_str!("../shaders/batch_norm.wgsl")),
    ("condition", include_str!("../shaders/condition.wgsl")),
    ("nearest", include_str!("../shaders/nearest.wgsl")),
    ("manifold", include_str!("../shaders/manifold.wgsl")),
];

/// The full source of a kernel file, ready to compile.
pub fn shader_source(name: &str) -> Option<String> {
    SHADER_FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(file, source)| {
            let family = if file.starts_with("matmul") {
                MATMUL_COMMON
            } else {
                ""
            };
            format!("{source}\n{family}\n{COMMON}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shader parses and validates with naga, so a WGSL mistake fails `cargo test` with a
    /// file and line number instead of at run time.
    #[test]
    fn every_shader_parses_and_validates() {
        let mut failures = Vec::new();
        for (name, _) in SHADER_FILES {
            let source = shader_source(name).unwrap();
            let module = match naga::front::wgsl::parse_str(&source) {
                Ok(module) => module,
                Err(e) => {
                    failures
                        .push(e.emit_to_string_with_path(&source, &format!("shaders/{name}.wgsl")));
                    continue;
                }
            };
            let mut validator = naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::default() | naga::valid::Capabilities::SUBGROUP,
            );
            validator
                .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
                .subgroup_operations(naga::valid::SubgroupOperationSet::all());
            if let Err(e) = validator.validate(&module) {
                failures.push(e.emit_to_string_with_path(&source, &format!("shaders/{name}.wgsl")));
            }
        }
        assert!(
            failures.is_empty(),
            "shader errors:\n{}",
            failures.join("\n")
        );
    }

    /// Every .wgsl file in shaders/ is embedded (a new file cannot be forgotten).
    #[test]
    fn every_wgsl_file_is_registered() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wgsl") {
                let stem = path.file_stem().unwrap().to_str().unwrap();
                assert!(
                    stem == "common"
                        || stem == "matmul_common"
                        || SHADER_FILES.iter().any(|(n, _)| *n == stem),
                    "shaders/{stem}.wgsl is not listed in SHADER_FILES"
                );
            }
        }
    }
}
