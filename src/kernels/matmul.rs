//! Matrix multiply in the three layouts training needs, with an optional fused bias and
//! activation (forward) or accumulation into the output (gradient sums).

use super::matmul_tuning::{KernelChoice, auto_choice};
use super::{Activation, expect_len};
use crate::error::{Error, Result};
use crate::gpu::{Access, Dispatch, GpuContext, KernelSpec, Tensor};

/// Which operands are stored transposed.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Layout {
    /// Y[M,N] = X[M,K] · W[K,N] (forward).
    #[serde(rename = "xw")]
    XW,
    /// dX[M,N] = dY[M,K] · Wᵀ, W stored [N,K] (input gradient).
    #[serde(rename = "dywt")]
    DyWt,
    /// dW[M,N] = Xᵀ · dY, X stored [K,M], dY [K,N] (weight gradient).
    #[serde(rename = "xtdy")]
    XtDy,
}

impl Layout {
    pub const ALL: [Layout; 3] = [Layout::XW, Layout::DyWt, Layout::XtDy];

    pub fn name(self) -> &'static str {
        match self {
            Layout::XW => "X·W",
            Layout::DyWt => "dY·Wᵀ",
            Layout::XtDy => "Xᵀ·dY",
        }
    }
}

/// Per-invocation register tile (fixed in the shader) and workgroup shape (tunable).
pub const TILE: u32 = 4;

/// Which matmul kernel runs.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum MatmulKernel {
    /// `TextureRows32` where the adapter's subgroups are exactly 8 wide (`Subgroup8` for
    /// operands too large for a texture), else `Tiled`; or what `bench --tune` saved.
    #[default]
    Auto,
    /// matmul.wgsl: a 4×4 register tile per invocation, any adapter.
    Tiled,
    /// matmul_subgroup8.wgsl: 16 rows × 32 columns per subgroup, A shared by subgroupBroadcast;
    /// for CPU adapters such as llvmpipe (8-wide subgroups).
    Subgroup8,
    /// `Subgroup8` reading A and B with textureLoad from r32float textures, which copies of
    /// the operand tensors fill before every matmul (8-wide subgroups).
    Texture,
    /// `Tiled` reading A and B from textures likewise (any adapter).
    TiledTexture,
    /// `Texture` with 32 rows per subgroup instead of 16 (matmul_subgroup8_rows32.wgsl): half
    /// the B loads per multiply-add, twice the registers.
    TextureRows32,
    /// `Texture` with 48 rows per subgroup (matmul_subgroup8_rows48.wgsl): a third fewer B
    /// loads per multiply-add again and a third fewer workgroups, but more padding on shapes
    /// whose rows are not a multiple of 48. `Auto` takes it over `TextureRows32` where it pads
    /// no more rows (`KernelChoice::for_rows`).
    TextureRows48,
}

impl MatmulKernel {
    pub fn name(self) -> &'static str {
        match self {
            MatmulKernel::Auto => "auto",
            MatmulKernel::Tiled => "tiled",
            MatmulKernel::Subgroup8 => "subgroup8",
            MatmulKernel::Texture => "texture",
            MatmulKernel::TiledTexture => "tiled-texture",
            MatmulKernel::TextureRows32 => "texture-rows32",
            MatmulKernel::TextureRows48 => "texture-rows48",
        }
    }

    /// The subgroup kernels' rows per subgroup (their shader and workgroup grid).
    fn subgroup_rows(self) -> u32 {
        match self {
            MatmulKernel::TextureRows32 => 32,
            MatmulKernel::TextureRows48 => 48,
            _ => 16,
        }
    }

    /// Whether the kernel needs subgroups of exactly 8 invocations.
    pub fn needs_subgroups_of_8(self) -> bool {
        matches!(
            self,
            MatmulKernel::Subgroup8
                | MatmulKernel::Texture
                | MatmulKernel::TextureRows32
                | MatmulKernel::TextureRows48
        )
    }

    /// Whether the kernel reads its operands from texture copies.
    pub fn reads_textures(self) -> bool {
        matches!(
            self,
            MatmulKernel::Texture
                | MatmulKernel::TiledTexture
                | MatmulKernel::TextureRows32
                | MatmulKernel::TextureRows48
        )
    }

    /// Every kernel this adapter can run (Auto excluded).
    pub fn available(ctx: &GpuContext) -> Vec<MatmulKernel> {
        [
            MatmulKernel::Tiled,
            MatmulKernel::Subgroup8,
            MatmulKernel::Texture,
            MatmulKernel::TiledTexture,
            MatmulKernel::TextureRows32,
            MatmulKernel::TextureRows48,
        ]
        .into_iter()
        .filter(|kernel| !kernel.needs_subgroups_of_8() || ctx.has_subgroups_of(8))
        .collect()
    }

    /// The kernel `Auto` stands for on this device by the built-in rule (a tuned choice,
    /// when the context has one, goes first: `matmul_tuning::auto_choice`).
    pub fn resolve(self, ctx: &GpuContext) -> MatmulKernel {
        match self {
            // Measured on llvmpipe: texture reads beat subgroup8's storage loads on every
            // layout of the reference MLP at batch 64 and 256, copies included, and 32 rows
            // per subgroup beat 16 by 1.2–1.3× on every shape class (README).
            MatmulKernel::Auto if ctx.has_subgroups_of(8) => MatmulKernel::TextureRows32,
            MatmulKernel::Auto => MatmulKernel::Tiled,
            other => other,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulTuning {
    /// Workgroup shape of the tiled kernel (the subgroup kernel's is fixed at 8×1).
    pub workgroup_x: u32,
    pub workgroup_y: u32,
    pub kernel: MatmulKernel,
}

impl Default for MatmulTuning {
    /// 8×8 measured best of 16×4, 64×1, 16×1, 8×8, 4×16, 8×16, 8×4, 4×8 and 8×32 on llvmpipe
    /// (its SIMD width is 8 invocations); real GPUs have not been measured yet.
    fn default() -> Self {
        MatmulTuning {
            workgroup_x: 8,
            workgroup_y: 8,
            kernel: MatmulKernel::Auto,
        }
    }
}

impl MatmulTuning {
    /// The default workgroup shape with this kernel.
    pub fn with_kernel(kernel: MatmulKernel) -> MatmulTuning {
        MatmulTuning {
            kernel,
            ..Default::default()
        }
    }
}

pub struct MatmulOptions<'a> {
    pub bias: Option<&'a Tensor>,
    pub activation: Activation,
    /// Add to the output instead of overwriting it.
    pub accumulate: bool,
    /// Layout XtDy only: also write the column sums of B ([n]; the bias gradient beside the
    /// weight gradient), accumulated like C.
    pub column_sums: Option<&'a Tensor>,
    /// Layouts DyWt and XW: multiply C by f'(gate) for this activation's derivative, gate [m, n]
    /// being that activation's output (the input gradient leaves through the previous layer's
    /// activation backward; the gradient penalty's adjoint chain goes forward through the next
    /// one). `activation` must then be Identity.
    pub gate: Option<(&'a Tensor, Activation)>,
    pub tuning: MatmulTuning,
}

impl Default for MatmulOptions<'_> {
    fn default() -> Self {
        MatmulOptions {
            bias: None,
            activation: Activation::Identity,
            accumulate: false,
            column_sums: None,
            gate: None,
            tuning: MatmulTuning::default(),
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    m: u32,
    n: u32,
    k: u32,
    slope: f32,
    /// Texture kernels: the texel index of A's and B's first element in their textures.
    a_offset: u32,
    b_offset: u32,
}

/// C[m, n] = op(A) · op(B) with A, B laid out as `layout` says; `k` is the shared dimension.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    ctx: &GpuContext,
    layout: Layout,
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    (m, n, k): (usize, usize, usize),
    options: MatmulOptions<'_>,
) -> Result<Dispatch> {
    expect_len("matmul", "A", a.len(), m * k)?;
    expect_len("matmul", "B", b.len(), k * n)?;
    expect_len("matmul", "C", c.len(), m * n)?;
    if let Some(bias) = options.bias {
        expect_len("matmul", "bias", bias.len(), n)?;
    }
    if let Some(sums) = options.column_sums {
        if layout != Layout::XtDy {
            return Err(Error::Gpu(format!(
                "matmul: column sums come with the Xᵀ·dY layout, not {}",
                layout.name()
            )));
        }
        expect_len("matmul", "column sums", sums.len(), n)?;
    }
    if let Some((gate, _)) = options.gate {
        if layout == Layout::XtDy || options.bias.is_some() {
            return Err(Error::Gpu(format!(
                "matmul: a gate comes with the dY·Wᵀ or X·W layout and no bias, not {}",
                layout.name()
            )));
        }
        expect_len("matmul", "gate", gate.len(), m * n)?;
    }
    // The gate is bound where the bias would be; the epilogue reads it per element.
    let bias = match (options.bias, options.gate) {
        (Some(bias), _) => bias,
        (None, Some((gate, _))) => gate,
        (None, None) => ctx.placeholder()?,
    };
    let column_sums = match options.column_sums {
        Some(sums) => sums,
        None => ctx.writable_placeholder()?,
    };
    let activation = match options.gate {
        Some((_, gate_activation)) => gate_activation,
        None => options.activation,
    };
    let mut params = Params {
        m: m as u32,
        n: n as u32,
        k: k as u32,
        slope: activation.slope(),
        a_offset: 0,
        b_offset: 0,
    };
    // With column sums, the tiled kernel's op(A) has a row of ones after its last: C gets one
    // more row (the subgroup kernels sum the columns in their k loop instead).
    let rows = m + usize::from(options.column_sums.is_some());
    let MatmulTuning {
        workgroup_x,
        workgroup_y,
        kernel,
    } = options.tuning;
    let KernelChoice {
        kernel,
        workgroup_x,
        workgroup_y,
    } = match kernel {
        MatmulKernel::Auto => auto_choice(
            ctx,
            layout,
            (m, n, k),
            (a.len(), b.len()),
            (workgroup_x, workgroup_y),
        ),
        kernel => KernelChoice {
            kernel,
            workgroup_x,
            workgroup_y,
        },
    };
    let flag = |on: bool| if on { 1.0 } else { 0.0 };
    let mut constants = vec![
        ("TRANS_A", flag(layout == Layout::XtDy)),
        ("TRANS_B", flag(layout == Layout::DyWt)),
        ("HAS_BIAS", flag(options.bias.is_some())),
        ("ACCUMULATE", flag(options.accumulate)),
        ("ACTIVATION", activation.code() as f64),
        ("ONES_ROW", flag(options.column_sums.is_some())),
        ("GATE", flag(options.gate.is_some())),
    ];
    if workgroup_x == 0 || workgroup_y == 0 {
        return Err(Error::Input(format!(
            "matmul: a workgroup of {workgroup_x}×{workgroup_y} has no invocations; expected at \
             least 1×1"
        )));
    }
    if kernel.needs_subgroups_of_8() && !ctx.has_subgroups_of(8) {
        return Err(Error::Gpu(format!(
            "the {} matmul kernel needs subgroups of exactly 8 invocations; {} has {}–{}",
            kernel.name(),
            ctx.adapter_name(),
            ctx.adapter_info.subgroup_min_size,
            ctx.adapter_info.subgroup_max_size
        )));
    }
    let (shader, entry, workgroups) = if kernel.needs_subgroups_of_8() {
        let tile_rows = kernel.subgroup_rows();
        let workgroups = [
            (n as u32).div_ceil(32),
            // The subgroup kernels sum the columns in their k loop: no row of ones.
            (m as u32).div_ceil(tile_rows),
            1,
        ];
        let shader = match kernel {
            MatmulKernel::TextureRows32 => "matmul_subgroup8_rows32_texture",
            MatmulKernel::TextureRows48 => "matmul_subgroup8_rows48_texture",
            MatmulKernel::Texture => "matmul_subgroup8_texture",
            _ => "matmul_subgroup8",
        };
        (shader, "matmul_subgroup8", workgroups)
    } else {
        constants.push(("WG_X", workgroup_x as f64));
        constants.push(("WG_Y", workgroup_y as f64));
        let workgroups = [
            (n as u32).div_ceil(workgroup_x * TILE),
            (rows as u32).div_ceil(workgroup_y * TILE),
            1,
        ];
        let shader = if kernel.reads_textures() {
            "matmul_texture"
        } else {
            "matmul"
        };
        (shader, "matmul", workgroups)
    };
    // Fresh copies before every run: A and B may be rewritten between runs (activations,
    // weights after an optimizer step); the recorder skips those still current. Copy commands
    // are memcpy-like on llvmpipe, where a copy kernel would pay the per-lane storage loads the
    // texture reads avoid.
    let operands = if kernel.reads_textures() {
        let operands = (
            ctx.texture_holding("matmul A texture", a)?,
            ctx.texture_holding("matmul B texture", b)?,
        );
        (params.a_offset, params.b_offset) = (operands.0.offset, operands.1.offset);
        Some(operands)
    } else {
        None
    };
    let spec = KernelSpec {
        shader,
        entry,
        constants,
        params: bytemuck::bytes_of(&params),
        // Operands A and B are bindings 4 and 5: buffers here, or textures (matmul_common.wgsl).
        tensors: vec![
            (bias, Access::Read),
            (c, Access::ReadWrite),
            (column_sums, Access::ReadWrite),
        ],
        workgroups,
    };
    let Some((a_operand, b_operand)) = operands else {
        let mut spec = spec;
        spec.tensors.extend([(a, Access::Read), (b, Access::Read)]);
        return ctx.dispatch(spec);
    };
    // C's texture, written beside C: activations and input gradients are the next matmul's A,
    // which then needs no copy. A weight gradient goes to the optimizer, which reads buffers.
    let mirror = if layout != Layout::XtDy && ctx.fits_texture(c.len()) {
        Some(ctx.texture_copy_of("matmul C texture", c)?.1)
    } else {
        None
    };
    Ok(ctx
        .dispatch_mirroring(
            spec,
            &[&a_operand.texture, &b_operand.texture],
            mirror.as_ref(),
            "MIRROR_C",
        )?
        .after_copies(vec![a_operand.copy, b_operand.copy]))
}
