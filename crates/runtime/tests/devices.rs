//! What the runtime finds on this machine, and that the target it reports agrees with the
//! device it opened.

mod common;

use tm_runtime::GpuDevice;

#[test]
fn opened_device_describes_itself_consistently() {
    for a in GpuDevice::list_adapters() {
        println!(
            "adapter: {}: {} [{}] {}",
            a.backend, a.name, a.device_type, a.driver
        );
    }
    let Some(dev) = common::device() else { return };
    println!("opened: {}", dev.description());
    println!("{:#?}", dev.target());
    let t = dev.target();
    let l = dev.limits();
    assert_eq!(t.max_grid_dim, l.max_compute_workgroups_per_dimension);
    assert_eq!(t.shared_mem_bytes, l.max_compute_workgroup_storage_size);
    assert!(t.max_threads_per_group <= l.max_compute_invocations_per_workgroup);
    assert!(t.max_buffers <= l.max_storage_buffers_per_shader_stage);
    assert!(t.simd_width.is_power_of_two());
    // The real limits, not WebGPU's portable defaults.
    let defaults = wgpu::Limits::default();
    assert!(l.max_storage_buffer_binding_size >= defaults.max_storage_buffer_binding_size);
    assert!(
        l.max_storage_buffers_per_shader_stage >= defaults.max_storage_buffers_per_shader_stage
    );
    if common::is_lavapipe(&dev) {
        assert!(dev.description().starts_with("Vulkan: llvmpipe"));
        assert!(
            dev.description().ends_with("subgroup 8"),
            "{}",
            dev.description()
        );
        assert_eq!(t.name, "vulkan-lavapipe");
        assert_eq!(t.dialect, tm_core::Dialect::Wgsl);
        assert_eq!((t.simd_width, t.simd_ops), (8, true));
        assert_eq!(t.shared_mem_bytes, 32 * 1024);
        assert_eq!(l.max_storage_buffer_binding_size, 128 << 20);
        assert!(t.has_f16 && t.has_i64 && !t.byte_addressable);
        // Above WebGPU's default of 8: the adapter's own limit was requested.
        assert!(t.max_buffers > 8);
    }
}

/// `Target::lavapipe()` stands in for this device where none is opened (CLI, lowering
/// tests): it must describe what the real one reports.
#[test]
fn lavapipe_constant_matches_the_opened_lavapipe() {
    let Some(dev) = common::device() else { return };
    if !common::is_lavapipe(&dev) {
        return;
    }
    assert_eq!(*dev.target(), tm_core::Target::lavapipe());
}

#[test]
fn selector_picks_by_backend_and_name() {
    let Some(dev) = common::device() else { return };
    let backend = match dev.adapter_info().backend {
        wgpu::Backend::Vulkan => "vulkan",
        wgpu::Backend::Metal => "metal",
        wgpu::Backend::Dx12 => "dx12",
        _ => return,
    };
    let by_backend = GpuDevice::open(Some(backend)).unwrap();
    assert_eq!(
        by_backend.adapter_info().backend,
        dev.adapter_info().backend
    );
    let word = dev
        .adapter_info()
        .name
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    let by_name = GpuDevice::open(Some(&word.to_uppercase())).unwrap();
    assert!(by_name.adapter_info().name.contains(&word));
    assert!(GpuDevice::open(Some("no-such-adapter-anywhere")).is_err());
}
