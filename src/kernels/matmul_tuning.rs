//! Which matmul kernel and workgroup shape run for a given shape: the built-in rule, or the
//! choices `gan-gpu bench --tune` measured on this adapter (per layout and size class) and
//! saved in the user's cache directory (`tuning_cache.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::matmul::{Layout, MatmulKernel, MatmulTuning};
use crate::gpu::GpuContext;

/// Shapes grouped by work: multiply-adds m·n·k below 2²¹, below 2²⁴, or above. The reference
/// MLP at batch 64 has layers in all three (100→256 is small, 256→512 medium, 512→1024 large).
/// Shapes of at most 16 rows form a class of their own whatever their size: a kernel with a
/// tall tile wastes most of it there (batch 8's X·W at 32 rows a tile, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SizeClass {
    FewRows,
    Small,
    Medium,
    Large,
}

impl SizeClass {
    pub const ALL: [SizeClass; 4] = [
        SizeClass::FewRows,
        SizeClass::Small,
        SizeClass::Medium,
        SizeClass::Large,
    ];

    /// At most this many rows make a `FewRows` shape.
    pub const FEW_ROWS: usize = 16;

    pub fn of(m: usize, n: usize, k: usize) -> SizeClass {
        let multiply_adds = (m as u64) * (n as u64) * (k as u64);
        if m <= SizeClass::FEW_ROWS {
            SizeClass::FewRows
        } else if multiply_adds < 1 << 21 {
            SizeClass::Small
        } else if multiply_adds < 1 << 24 {
            SizeClass::Medium
        } else {
            SizeClass::Large
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SizeClass::FewRows => "few rows (m ≤ 16)",
            SizeClass::Small => "small (< 2M mul-adds)",
            SizeClass::Medium => "medium (< 16M)",
            SizeClass::Large => "large (≥ 16M)",
        }
    }
}

/// A layout and a size class: the unit a tuned choice applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ShapeClass {
    pub layout: Layout,
    pub size: SizeClass,
}

impl ShapeClass {
    pub fn of(layout: Layout, (m, n, k): (usize, usize, usize)) -> ShapeClass {
        ShapeClass {
            layout,
            size: SizeClass::of(m, n, k),
        }
    }
}

/// One concrete kernel configuration (never `Auto`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KernelChoice {
    pub kernel: MatmulKernel,
    /// The tiled kernels' workgroup shape; the subgroup kernels' is fixed at 8×1.
    pub workgroup_x: u32,
    pub workgroup_y: u32,
}

impl KernelChoice {
    /// This kernel with this workgroup shape; the subgroup kernels' is fixed at 8×1 whatever is
    /// asked.
    pub fn new(kernel: MatmulKernel, (workgroup_x, workgroup_y): (u32, u32)) -> KernelChoice {
        let (workgroup_x, workgroup_y) = if kernel.needs_subgroups_of_8() {
            (8, 1)
        } else {
            (workgroup_x, workgroup_y)
        };
        KernelChoice {
            kernel,
            workgroup_x,
            workgroup_y,
        }
    }

    pub fn describe(&self) -> String {
        if self.kernel.needs_subgroups_of_8() {
            self.kernel.name().to_string()
        } else {
            format!(
                "{} {}×{}",
                self.kernel.name(),
                self.workgroup_x,
                self.workgroup_y
            )
        }
    }

    /// Whether this adapter can run it: subgroups where needed, a workgroup within limits.
    pub fn runs_on(&self, ctx: &GpuContext) -> bool {
        let limits = &ctx.limits;
        self.kernel != MatmulKernel::Auto
            && (!self.kernel.needs_subgroups_of_8() || ctx.has_subgroups_of(8))
            && self.workgroup_x * self.workgroup_y <= limits.max_compute_invocations_per_workgroup
            && self.workgroup_x <= limits.max_compute_workgroup_size_x
            && self.workgroup_y <= limits.max_compute_workgroup_size_y
    }
}

/// The tuned choice per shape class for one adapter; classes absent use the built-in rule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TunedMatmul {
    pub choices: BTreeMap<ShapeClass, KernelChoice>,
    /// Where the choices came from (the cache file), for `info` and the training log.
    pub source: String,
}

/// What `MatmulKernel::Auto` runs for this shape: the tuned choice for its class when the
/// context has one, else the built-in rule. A texture kernel whose operands would not fit a
/// texture falls back to the same kernel reading buffers.
pub fn auto_choice(
    ctx: &GpuContext,
    layout: Layout,
    shape: (usize, usize, usize),
    operand_lens: (usize, usize),
    builtin_workgroup: (u32, u32),
) -> KernelChoice {
    let class = ShapeClass::of(layout, shape);
    let tuned = ctx
        .tuned_matmul()
        .and_then(|tuned| tuned.choices.get(&class))
        .filter(|choice| choice.runs_on(ctx))
        .copied();
    let choice = tuned
        .unwrap_or_else(|| builtin_choice(ctx, class.size, builtin_workgroup).for_rows(shape.0));
    choice.for_operands(ctx, operand_lens)
}

/// Whether `MatmulKernel::Auto` reads textures on this adapter for some shapes (the built-in rule
/// or a tuned choice), so that tensors many matmuls read deserve a texture of their own.
pub fn texture_matmuls_likely(ctx: &GpuContext) -> bool {
    let tuned = ctx.tuned_matmul().is_some_and(|tuned| {
        tuned
            .choices
            .values()
            .any(|choice| choice.runs_on(ctx) && choice.kernel.reads_textures())
    });
    tuned || MatmulKernel::Auto.resolve(ctx).reads_textures()
}

/// The built-in rule: `MatmulKernel::Auto.resolve`, except that 32 rows a subgroup would mostly
/// be padding on a shape of few rows, where 16 measured faster (batch 8 on llvmpipe: 1.5–1.7×).
pub fn builtin_choice(ctx: &GpuContext, size: SizeClass, workgroup: (u32, u32)) -> KernelChoice {
    let kernel = match MatmulKernel::Auto.resolve(ctx) {
        MatmulKernel::TextureRows32 if size == SizeClass::FewRows => MatmulKernel::Texture,
        kernel => kernel,
    };
    KernelChoice::new(kernel, workgroup)
}

impl KernelChoice {
    /// The built-in rule's tile height for a shape of `rows` rows: `TextureRows48` instead of
    /// `TextureRows32` where it pads no more rows. On llvmpipe (2 cores) grid25's 96-row
    /// matmuls took 260 µs in 6 workgroups of 48 rows against 316 µs in 9 of 32, while the
    /// reference MLP at batch 64 (64 rows padded to 96) trained 16 % slower with 48.
    pub fn for_rows(self, rows: usize) -> KernelChoice {
        let padding = |tile: usize| rows.div_ceil(tile) * tile - rows;
        match self.kernel {
            MatmulKernel::TextureRows32 if padding(48) <= padding(32) => KernelChoice {
                kernel: MatmulKernel::TextureRows48,
                ..self
            },
            _ => self,
        }
    }

    /// This choice for operands of these lengths: a texture kernel whose operands would not
    /// fit a texture becomes the same kernel reading buffers.
    pub fn for_operands(self, ctx: &GpuContext, (a_len, b_len): (usize, usize)) -> KernelChoice {
        let fits = ctx.fits_texture(a_len) && ctx.fits_texture(b_len);
        let kernel = match self.kernel {
            MatmulKernel::Texture | MatmulKernel::TextureRows32 | MatmulKernel::TextureRows48
                if !fits =>
            {
                MatmulKernel::Subgroup8
            }
            MatmulKernel::TiledTexture if !fits => MatmulKernel::Tiled,
            kernel => kernel,
        };
        KernelChoice { kernel, ..self }
    }
}

/// The built-in rule's kernel, as `info` and the training log name it.
fn describe_builtin(ctx: &GpuContext) -> String {
    match MatmulKernel::Auto.resolve(ctx) {
        MatmulKernel::TextureRows32 => {
            "texture-rows32 (texture-rows48 where it pads no more rows)".to_string()
        }
        kernel => kernel.name().to_string(),
    }
}

/// A one-line summary for `info` and the training log.
pub fn describe_in_use(ctx: &GpuContext) -> String {
    match ctx.tuned_matmul() {
        Some(tuned) => format!(
            "tuned on this adapter ({} shape classes, {}); others {}",
            tuned.choices.len(),
            tuned.source,
            describe_builtin(ctx)
        ),
        None => format!(
            "built-in default {} (not tuned on this adapter: `gan-gpu bench --tune`)",
            describe_builtin(ctx)
        ),
    }
}

impl From<KernelChoice> for MatmulTuning {
    fn from(choice: KernelChoice) -> MatmulTuning {
        MatmulTuning {
            workgroup_x: choice.workgroup_x,
            workgroup_y: choice.workgroup_y,
            kernel: choice.kernel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 48 rows a tile where that pads no more rows than 32: grid25's batch 96 and an odd 37
    /// rows, not batch 64 or 256, nor a single row.
    #[test]
    fn the_taller_tile_goes_where_it_pads_no_more() {
        let rows32 = KernelChoice::new(MatmulKernel::TextureRows32, (8, 1));
        for (rows, expected) in [
            (96, MatmulKernel::TextureRows48),
            (37, MatmulKernel::TextureRows48),
            (144, MatmulKernel::TextureRows48),
            (64, MatmulKernel::TextureRows32),
            (256, MatmulKernel::TextureRows32),
            (1, MatmulKernel::TextureRows32),
        ] {
            assert_eq!(rows32.for_rows(rows).kernel, expected, "{rows} rows");
        }
        let tiled = KernelChoice::new(MatmulKernel::Tiled, (8, 8));
        assert_eq!(
            tiled.for_rows(96),
            tiled,
            "only the rows32 kernel has a taller sibling"
        );
    }
}
