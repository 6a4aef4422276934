//! Prints the adapters wgpu sees and what the runtime makes of the one it would pick.
//! `cargo run -p tm-runtime --example devices [selector]`

use tm_runtime::GpuDevice;

fn main() {
    for a in GpuDevice::list_adapters() {
        println!(
            "adapter: {}: {} [{}] {}",
            a.backend, a.name, a.device_type, a.driver
        );
    }
    let selector = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("TRITON_METAL_DEVICE").ok());
    match GpuDevice::open(selector.as_deref()) {
        Ok(dev) => {
            let l = dev.limits();
            println!("opened: {}", dev.description());
            println!("target: {:#?}", dev.target());
            println!("features: {:?}", dev.features());
            println!(
                "limits: max_storage_buffer_binding_size={} max_buffer_size={} \
                 max_storage_buffers_per_shader_stage={} max_compute_workgroup_storage_size={} \
                 max_compute_invocations_per_workgroup={} max_compute_workgroups_per_dimension={} \
                 min_storage_buffer_offset_alignment={} max_dynamic_storage_buffers_per_pipeline_layout={}",
                l.max_storage_buffer_binding_size,
                l.max_buffer_size,
                l.max_storage_buffers_per_shader_stage,
                l.max_compute_workgroup_storage_size,
                l.max_compute_invocations_per_workgroup,
                l.max_compute_workgroups_per_dimension,
                l.min_storage_buffer_offset_alignment,
                l.max_dynamic_storage_buffers_per_pipeline_layout,
            );
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
