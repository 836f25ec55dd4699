//! The WGSL sources, embedded in the binary so gan-gpu runs from any folder.
//!
//! Every kernel file is compiled with `shaders/common.wgsl` appended: WGSL has no includes, and
//! module-scope declarations may come after their use, so appending keeps the kernel file's
//! line numbers intact in error messages.

const COMMON: &str = include_str!("../shaders/common.wgsl");

/// Appended to every matmul kernel before COMMON: parameters, bias and output bindings, layout
/// constants and the epilogue (the subgroup kernel needs a file of its own, since adapters
/// without subgroups cannot compile it).
const MATMUL_COMMON: &str = include_str!("../shaders/matmul_common.wgsl");

/// The operand loads appended to a matmul kernel: from storage buffers, or (shader names ending
/// in `TEXTURE_SUFFIX`) from r32float textures.
const MATMUL_BUFFERS: &str = include_str!("../shaders/matmul_buffers.wgsl");
const MATMUL_TEXTURES: &str = include_str!("../shaders/matmul_textures.wgsl");

/// `matmul_subgroup8_texture` is matmul_subgroup8.wgsl reading its operands from textures.
pub const TEXTURE_SUFFIX: &str = "_texture";

/// Matmul kernels that are also compiled with texture operands.
pub const TEXTURE_MATMULS: &[&str] = &[
    "matmul_texture",
    "matmul_subgroup8_texture",
    "matmul_subgroup8_rows32_texture",
    "matmul_subgroup8_rows48_texture",
];

/// (name, source) of every kernel file in shaders/, without the shared parts.
pub const SHADER_FILES: &[(&str, &str)] = &[
    ("matmul", include_str!("../shaders/matmul.wgsl")),
    (
        "matmul_subgroup8",
        include_str!("../shaders/matmul_subgroup8.wgsl"),
    ),
    (
        "matmul_subgroup8_rows32",
        include_str!("../shaders/matmul_subgroup8_rows32.wgsl"),
    ),
    (
        "matmul_subgroup8_rows48",
        include_str!("../shaders/matmul_subgroup8_rows48.wgsl"),
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

/// Every shader name `shader_source` knows: the kernel files, then the texture matmuls.
pub fn shader_names() -> impl Iterator<Item = &'static str> {
    SHADER_FILES
        .iter()
        .map(|(name, _)| *name)
        .chain(TEXTURE_MATMULS.iter().copied())
}

/// The full source of a shader, ready to compile.
pub fn shader_source(name: &str) -> Option<String> {
    let (file, operands) = match name.strip_suffix(TEXTURE_SUFFIX) {
        Some(file) if TEXTURE_MATMULS.contains(&name) => (file, MATMUL_TEXTURES),
        _ => (name, MATMUL_BUFFERS),
    };
    SHADER_FILES
        .iter()
        .find(|(candidate, _)| *candidate == file)
        .map(|(file, source)| {
            let family = if file.starts_with("matmul") {
                format!("{operands}\n{MATMUL_COMMON}")
            } else {
                String::new()
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
        for name in shader_names() {
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

    /// The files appended to a kernel file, not kernels of their own.
    const PARTS: &[&str] = &[
        "common",
        "matmul_common",
        "matmul_buffers",
        "matmul_textures",
    ];

    /// Every .wgsl file in shaders/ is embedded (a new file cannot be forgotten).
    #[test]
    fn every_wgsl_file_is_registered() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wgsl") {
                let stem = path.file_stem().unwrap().to_str().unwrap();
                assert!(
                    PARTS.contains(&stem) || SHADER_FILES.iter().any(|(n, _)| *n == stem),
                    "shaders/{stem}.wgsl is not listed in SHADER_FILES"
                );
            }
        }
    }
}
