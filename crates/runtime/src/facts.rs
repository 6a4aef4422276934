//! What the compiler may assume about an adapter, derived from what wgpu reports about it.
//! Kept free of any live device so the derivation can be tested with made-up adapters.

use tm_core::{Dialect, Target};

/// The optional wgpu features some kernels need; each one is requested only when the
/// adapter has it, and the target says which ones were granted.
pub(crate) fn wanted_features(backend: wgpu::Backend) -> wgpu::Features {
    let mut wanted = wgpu::Features::SHADER_F16
        | wgpu::Features::SHADER_INT64
        | wgpu::Features::SUBGROUP
        | wgpu::Features::SUBGROUP_BARRIER
        | wgpu::Features::SHADER_FLOAT32_ATOMIC
        | wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS;
    // Passthrough is how our own MSL reaches Metal; elsewhere it would only mean SPIR-V or
    // DXIL, which we never produce.
    if backend == wgpu::Backend::Metal {
        wanted |= wgpu::Features::PASSTHROUGH_SHADERS;
    }
    // Tensor cores through WGSL's `wgpu_cooperative_matrix` (the dot lowering's matrix path).
    if backend == wgpu::Backend::Vulkan {
        wanted |= wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX;
    }
    wanted
}

/// The square cooperative-matrix tile the compiler may use on a WGSL target: 16×16×16 with
/// f16 inputs and an f32 accumulator (what the dot lowering emits for WGSL), when the device
/// was opened with the feature and the adapter reports that configuration.
pub(crate) fn matrix_shape(
    features: wgpu::Features,
    configs: &[wgpu::CooperativeMatrixProperties],
) -> Option<(u32, u32, u32)> {
    if !features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
        return None;
    }
    configs
        .iter()
        .any(|c| {
            (c.m_size, c.n_size, c.k_size) == (16, 16, 16)
                && c.ab_type == wgpu::CooperativeScalarType::F16
                && c.cr_type == wgpu::CooperativeScalarType::F32
        })
        .then_some((16, 16, 16))
}

/// Human name of a backend, as it appears in descriptions and target names.
pub(crate) fn backend_name(backend: wgpu::Backend) -> &'static str {
    match backend {
        wgpu::Backend::Vulkan => "Vulkan",
        wgpu::Backend::Metal => "Metal",
        wgpu::Backend::Dx12 => "DX12",
        wgpu::Backend::Gl => "GL",
        wgpu::Backend::BrowserWebGpu => "WebGPU",
        wgpu::Backend::Noop => "Noop",
    }
}

/// The SIMD width kernels may be lowered for, and whether simd ops can be trusted at it.
///
/// WGSL gives no control over the subgroup size: when an adapter reports a range (Intel
/// 8..32, AMD RDNA 32..64) the driver may pick any size in it per pipeline, so lowering
/// that assumes one width would compute garbage with subgroup ops. Only a fixed size is
/// trusted; otherwise kernels get a nominal width and no simd ops.
pub(crate) fn simd_width(info: &wgpu::AdapterInfo, has_subgroups: bool) -> (u32, bool) {
    let (lo, hi) = (info.subgroup_min_size, info.subgroup_max_size);
    if lo == hi && lo.is_power_of_two() && lo > 0 {
        (lo, has_subgroups)
    } else if info.backend == wgpu::Backend::Metal {
        // Every Apple GPU runs 32-wide simdgroups (see DESIGN.md).
        (32, has_subgroups)
    } else {
        let nominal = 32u32.clamp(lo.max(1), hi.max(lo).max(1));
        (nominal.next_power_of_two(), false)
    }
}

/// A short, stable name for caches and messages.
pub(crate) fn target_name(info: &wgpu::AdapterInfo) -> String {
    let backend = backend_name(info.backend).to_ascii_lowercase();
    let lowered = info.name.to_ascii_lowercase();
    if lowered.contains("llvmpipe") {
        // Matches `Target::lavapipe()`, whose facts this adapter has.
        return format!("{backend}-lavapipe");
    }
    let mut slug = String::new();
    for c in lowered.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        backend
    } else {
        format!("{backend}-{slug}")
    }
}

/// The target description the compiler lowers for, from the adapter's facts and the
/// features and limits the device was actually opened with.
pub(crate) fn target_for(
    info: &wgpu::AdapterInfo,
    limits: &wgpu::Limits,
    features: wgpu::Features,
) -> Target {
    let metal_passthrough = info.backend == wgpu::Backend::Metal
        && features.contains(wgpu::Features::PASSTHROUGH_SHADERS);
    let dialect = if metal_passthrough {
        Dialect::Msl
    } else {
        Dialect::Wgsl
    };
    let (simd_width, simd_ops) = simd_width(info, features.contains(wgpu::Features::SUBGROUP));
    let mut max_buffers = limits
        .max_storage_buffers_per_shader_stage
        .min(limits.max_bindings_per_bind_group);
    if info.backend == wgpu::Backend::Metal {
        // 31 buffer slots, one of which wgpu's Metal backend keeps for array sizes.
        max_buffers = max_buffers.min(30);
    }
    Target {
        name: target_name(info),
        dialect,
        simd_width,
        max_threads_per_group: limits
            .max_compute_invocations_per_workgroup
            .min(limits.max_compute_workgroup_size_x),
        shared_mem_bytes: limits.max_compute_workgroup_storage_size,
        max_grid_dim: limits.max_compute_workgroups_per_dimension,
        max_buffers,
        // MSL always has `half` and 64-bit integers; WGSL only through these features.
        has_f16: dialect == Dialect::Msl || features.contains(wgpu::Features::SHADER_F16),
        has_i64: dialect == Dialect::Msl || features.contains(wgpu::Features::SHADER_INT64),
        has_f64: false,
        native_bf16: false,
        byte_addressable: dialect == Dialect::Msl,
        narrow_int_registers: dialect == Dialect::Msl,
        simd_ops,
        matrix_shape: None,
        float_atomic_add: features.contains(wgpu::Features::SHADER_FLOAT32_ATOMIC),
        // WGSL's `atomic<i64>` with every operation, compare-exchange included. Metal
        // passthrough never has it: Apple GPUs have no 64-bit atomic add or exchange, so
        // MSL kernels emulate them with locks whatever wgpu reports.
        int64_atomics: dialect == Dialect::Wgsl
            && features.contains(wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(backend: wgpu::Backend, name: &str, lo: u32, hi: u32) -> wgpu::AdapterInfo {
        let mut info = wgpu::AdapterInfo::new(wgpu::DeviceType::Cpu, backend);
        info.name = name.into();
        info.subgroup_min_size = lo;
        info.subgroup_max_size = hi;
        info
    }

    #[test]
    fn fixed_subgroup_size_is_the_simd_width() {
        let info = adapter(
            wgpu::Backend::Vulkan,
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            8,
            8,
        );
        assert_eq!(simd_width(&info, true), (8, true));
        assert_eq!(simd_width(&info, false), (8, false));
    }

    #[test]
    fn varying_subgroup_size_disables_simd_ops() {
        let info = adapter(wgpu::Backend::Vulkan, "AMD Radeon RX 7900", 32, 64);
        assert_eq!(simd_width(&info, true), (32, false));
        let info = adapter(wgpu::Backend::Vulkan, "Intel Arc", 8, 16);
        assert_eq!(simd_width(&info, true), (16, false));
    }

    #[test]
    fn target_reflects_limits_and_features() {
        let info = adapter(
            wgpu::Backend::Vulkan,
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            8,
            8,
        );
        let limits = wgpu::Limits {
            max_compute_invocations_per_workgroup: 1024,
            max_compute_workgroup_size_x: 1024,
            max_compute_workgroup_storage_size: 32768,
            max_compute_workgroups_per_dimension: 65535,
            max_storage_buffers_per_shader_stage: 1_000_000,
            max_bindings_per_bind_group: 1000,
            ..wgpu::Limits::default()
        };
        let t = target_for(
            &info,
            &limits,
            wgpu::Features::SHADER_F16 | wgpu::Features::SUBGROUP,
        );
        assert_eq!(t.name, "vulkan-lavapipe");
        assert_eq!(t.dialect, Dialect::Wgsl);
        assert_eq!(t.simd_width, 8);
        assert!(t.simd_ops && t.has_f16 && !t.has_i64 && !t.byte_addressable);
        assert!(!t.int64_atomics, "not granted");
        assert_eq!(t.max_buffers, 1000);
        assert_eq!(t.shared_mem_bytes, 32768);
        assert_eq!(t.max_threads_per_group, 1024);
        let all64 = wgpu::Features::SHADER_INT64 | wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS;
        let t = target_for(&info, &limits, all64);
        assert!(t.has_i64 && t.int64_atomics);
        // Min/max only (what Apple GPUs have) is not enough: Triton's atomics return the
        // old value and include add and compare-and-swap.
        let minmax = wgpu::Features::SHADER_INT64 | wgpu::Features::SHADER_INT64_ATOMIC_MIN_MAX;
        assert!(!target_for(&info, &limits, minmax).int64_atomics);
    }

    #[test]
    fn metal_with_passthrough_prints_msl() {
        let info = adapter(wgpu::Backend::Metal, "Apple M2", 32, 32);
        let limits = wgpu::Limits {
            max_storage_buffers_per_shader_stage: 31,
            max_bindings_per_bind_group: 1000,
            ..wgpu::Limits::default()
        };
        let t = target_for(&info, &limits, wgpu::Features::PASSTHROUGH_SHADERS);
        assert_eq!(t.dialect, Dialect::Msl);
        assert!(t.byte_addressable && t.has_f16 && t.has_i64);
        assert_eq!(t.max_buffers, 30);
        assert_eq!(t.name, "metal-apple-m2");
        let t = target_for(
            &info,
            &limits,
            wgpu::Features::PASSTHROUGH_SHADERS | wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS,
        );
        assert!(!t.int64_atomics, "MSL kernels emulate 64-bit atomics");
        let t = target_for(&info, &limits, wgpu::Features::empty());
        assert_eq!(t.dialect, Dialect::Wgsl);
    }
}

#[cfg(test)]
mod matrix_tests {
    use super::matrix_shape;
    use wgpu::{CooperativeMatrixProperties as P, CooperativeScalarType as T, Features as F};

    fn cfg(n: u32, ab: T, cr: T) -> P {
        P {
            m_size: n,
            n_size: n,
            k_size: n,
            ab_type: ab,
            cr_type: cr,
            saturating_accumulation: false,
        }
    }

    #[test]
    fn sixteen_cubed_f16_to_f32_is_the_only_shape_taken() {
        let coop = F::EXPERIMENTAL_COOPERATIVE_MATRIX;
        let nvidia = [cfg(16, T::F16, T::F16), cfg(16, T::F16, T::F32)];
        assert_eq!(matrix_shape(coop, &nvidia), Some((16, 16, 16)));
        assert_eq!(
            matrix_shape(F::empty(), &nvidia),
            None,
            "feature not granted"
        );
        assert_eq!(matrix_shape(coop, &[cfg(8, T::F32, T::F32)]), None);
        assert_eq!(matrix_shape(coop, &[cfg(16, T::F16, T::F16)]), None);
        assert_eq!(matrix_shape(coop, &[]), None);
    }
}
