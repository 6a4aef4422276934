//! Every way the runtime can fail, as values: a kernel or an argument a user got wrong must
//! never take the host process down.

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No adapter matched the request (or none exists at all on this machine).
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// The adapter was found but refused to open a device.
    #[error("could not open a device on {adapter}: {reason}")]
    DeviceOpen { adapter: String, reason: String },
    /// The shader compiler (naga, or the Metal compiler for MSL) refused the kernel.
    #[error("kernel `{entry}` failed to compile:\n{message}")]
    ShaderCompile { entry: String, message: String },
    /// The kernel compiled but the pipeline could not be built from it (layout mismatch...).
    #[error("pipeline for kernel `{entry}` could not be created:\n{message}")]
    Pipeline { entry: String, message: String },
    /// A launch whose arguments do not fit the kernel's ABI or the device's limits.
    #[error("invalid launch of `{entry}`: {reason}")]
    InvalidLaunch { entry: String, reason: String },
    /// A buffer request the device cannot satisfy, or a read/write out of bounds.
    #[error("buffer error: {0}")]
    Buffer(String),
    /// The kernel dialect does not run on this device (MSL off Metal, for instance).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An error the device reported asynchronously (validation of recorded work, device
    /// loss, out of memory during execution).
    #[error("device error: {0}")]
    Device(String),
}
