//! `gan-gpu info`: what the machine offers and what gan-gpu will use.

use super::Cli;
use crate::error::Result;
use crate::gpu::adapter::{choose_adapter, describe, list_adapters};
use crate::kernels::matmul_tuning::describe_in_use;

pub fn run(cli: &Cli) -> Result<()> {
    let adapters = list_adapters();
    crate::outln!("Adapters:");
    for (i, adapter) in adapters.iter().enumerate() {
        crate::outln!("  {i}: {}", describe(&adapter.get_info()));
    }
    let (chosen, why) = choose_adapter(&adapters, &cli.adapter_choice())?;
    let info = adapters[chosen].get_info();
    let limits = adapters[chosen].limits();
    crate::outln!("Chosen: {chosen}: {} — {why}", info.name);
    if info.device_type == wgpu::DeviceType::Cpu {
        crate::outln!("  warning: this is a software adapter; it runs on the CPU");
    }
    crate::outln!("Limits:");
    let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
    crate::outln!(
        "  largest storage binding:      {:.0} MiB",
        mib(limits.max_storage_buffer_binding_size)
    );
    crate::outln!(
        "  largest buffer:               {:.0} MiB",
        mib(limits.max_buffer_size)
    );
    crate::outln!(
        "  workgroup size:               {} invocations ({} × {} × {})",
        limits.max_compute_invocations_per_workgroup,
        limits.max_compute_workgroup_size_x,
        limits.max_compute_workgroup_size_y,
        limits.max_compute_workgroup_size_z
    );
    crate::outln!(
        "  workgroup storage:            {} KiB",
        limits.max_compute_workgroup_storage_size / 1024
    );
    crate::outln!(
        "  workgroups per dimension:     {}",
        limits.max_compute_workgroups_per_dimension
    );
    crate::outln!(
        "  storage buffers per stage:    {}",
        limits.max_storage_buffers_per_shader_stage
    );
    if info.subgroup_min_size > 0 {
        crate::outln!(
            "  subgroup size:                {}–{}",
            info.subgroup_min_size,
            info.subgroup_max_size
        );
    } else {
        crate::outln!("  subgroup size:                unknown");
    }
    matmul_section(cli)
}

/// Which matmul kernels run on the chosen adapter: `bench --tune`'s saved choices or the
/// built-in rule (opening the device shows its subgroup support).
fn matmul_section(cli: &Cli) -> Result<()> {
    let ctx = cli.open_gpu()?;
    crate::outln!("Matmul kernels: {}", describe_in_use(&ctx));
    if let Some(tuned) = ctx.tuned_matmul() {
        for (class, choice) in &tuned.choices {
            crate::outln!(
                "  {:<8} {:<22} {}",
                class.layout.name(),
                class.size.name(),
                choice.describe()
            );
        }
    }
    Ok(())
}
