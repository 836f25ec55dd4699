//! Finding the adapters wgpu can see and choosing one to run on.
//!
//! The rule: an explicit choice (`--adapter NAME|INDEX` or `GAN_GPU_ADAPTER`) wins; otherwise the
//! best hardware adapter, with software rasterisers such as llvmpipe last, because a GAN trainer
//! on a CPU emulation of a GPU is a fallback, not a choice.

use crate::error::{Error, Result};

/// Environment variable that picks an adapter when `--adapter` is not given.
pub const ADAPTER_ENV: &str = "GAN_GPU_ADAPTER";

/// What the user asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AdapterChoice {
    /// Let gan-gpu choose the best adapter.
    #[default]
    Auto,
    /// The adapter at this position in `gan-gpu info`'s list.
    Index(usize),
    /// The first adapter whose name contains this text (case-insensitive).
    Name(String),
}

impl AdapterChoice {
    /// Parse `--adapter`'s value: a number is an index, anything else a name.
    pub fn parse(text: &str) -> AdapterChoice {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("auto") {
            AdapterChoice::Auto
        } else if let Ok(index) = text.parse::<usize>() {
            AdapterChoice::Index(index)
        } else {
            AdapterChoice::Name(text.to_string())
        }
    }

    /// The flag's value if given, else the environment variable, else automatic.
    pub fn from_flag_or_env(flag: Option<&str>) -> AdapterChoice {
        match flag {
            Some(text) => AdapterChoice::parse(text),
            None => std::env::var(ADAPTER_ENV)
                .map(|text| AdapterChoice::parse(&text))
                .unwrap_or_default(),
        }
    }
}

/// True for adapters that run on the CPU (llvmpipe, SwiftShader, WARP).
pub fn is_software(info: &wgpu::AdapterInfo) -> bool {
    info.device_type == wgpu::DeviceType::Cpu
}

/// Higher is better: discrete > integrated > virtual > other > CPU, then native APIs over GL.
fn preference(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 4,
        wgpu::DeviceType::IntegratedGpu => 3,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 1,
        wgpu::DeviceType::Cpu => 0,
    };
    let api = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 1,
        _ => 0,
    };
    (kind, api)
}

/// Every adapter wgpu can see, in a stable order (the order `info` prints and `--adapter N` uses).
/// OpenGL is only asked when no native API (Vulkan, Metal, DX12) has an adapter: GL adapters are
/// slower for compute, and probing EGL prints noise on headless machines.
pub fn list_adapters() -> Vec<wgpu::Adapter> {
    let enumerate = |backends: wgpu::Backends| {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
        descriptor.backends = backends;
        let instance = wgpu::Instance::new(descriptor);
        pollster::block_on(instance.enumerate_adapters(backends))
    };
    let native = enumerate(wgpu::Backends::PRIMARY);
    if !native.is_empty() {
        return native;
    }
    enumerate(wgpu::Backends::GL)
}

/// The adapter the choice names, and a sentence saying why it was chosen.
pub fn choose_adapter(
    adapters: &[wgpu::Adapter],
    choice: &AdapterChoice,
) -> Result<(usize, String)> {
    if adapters.is_empty() {
        return Err(Error::Gpu(
            "no usable GPU adapter: wgpu found no Vulkan, Metal, DX12 or GL device. \
             On Linux without a GPU install Mesa's software Vulkan driver \
             (Debian/Ubuntu: apt-get install mesa-vulkan-drivers libvulkan1)"
                .into(),
        ));
    }
    let names = || {
        adapters
            .iter()
            .enumerate()
            .map(|(i, a)| format!("  {i}: {}", describe(&a.get_info())))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match choice {
        AdapterChoice::Index(index) => {
            if *index < adapters.len() {
                Ok((*index, format!("chosen by index {index}")))
            } else {
                Err(Error::Input(format!(
                    "--adapter {index}: no adapter has that index; the adapters are:\n{}",
                    names()
                )))
            }
        }
        AdapterChoice::Name(name) => {
            let wanted = name.to_lowercase();
            adapters
                .iter()
                .position(|a| a.get_info().name.to_lowercase().contains(&wanted))
                .map(|i| (i, format!("its name matches \"{name}\"")))
                .ok_or_else(|| {
                    Error::Input(format!(
                        "--adapter \"{name}\": no adapter's name contains it; the adapters are:\n{}",
                        names()
                    ))
                })
        }
        AdapterChoice::Auto => {
            let best = (0..adapters.len())
                .max_by_key(|&i| (preference(&adapters[i].get_info()), std::cmp::Reverse(i)))
                .expect("adapters is not empty");
            let info = adapters[best].get_info();
            let why = if is_software(&info) {
                "the only kind available is a software (CPU) adapter".to_string()
            } else {
                format!("the best hardware adapter ({:?})", info.device_type)
            };
            Ok((best, why))
        }
    }
}

/// One line: name, backend, device type and driver.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    let driver = if info.driver_info.is_empty() {
        info.driver.clone()
    } else {
        format!("{} {}", info.driver, info.driver_info)
    };
    format!(
        "{} ({:?}, {:?}, driver: {})",
        info.name, info.backend, info.device_type, driver
    )
}
