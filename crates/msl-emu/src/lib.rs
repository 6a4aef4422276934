//! MSL emulator: compiles our MSL with clang against a shim of Metal's library and runs it on
//! the CPU.
//!
//! # How the Metal path is verified
//!
//! No Apple GPU is available in CI, so the MSL that `tm-printers` emits is executed here:
//!
//! 1. **Pre-check.** The MSL text is refused, with its line, if it uses what Metal rejects but
//!    clang would accept: `double`, recursion among the functions it defines, `threadgroup`
//!    kernel arguments, buffer indices past Metal's 31. The kernel's parameter list is read so
//!    that every `[[buffer(n)]]` and builtin attribute is bound by name.
//! 2. **Compile.** The MSL is compiled as C++20 by Debian's clang-19 against
//!    `shim/metal_stdlib`, our header of the part of Metal's standard library that the printer
//!    uses ([`SHIM_LIBRARY`]; `tm_printers::MSL_LIBRARY` must be a subset). Two rewrites that
//!    keep every line in place give the text Metal's meaning: `threadgroup` arrays become
//!    static storage (shared by the threads of a group, see below) and vector constructors
//!    such as `float4(i)` convert values instead of reinterpreting bits. A `#line` directive
//!    makes clang's diagnostics name lines of the MSL. A generated entry binds the arguments,
//!    and a small fiber runtime (`shim/tm_emu_runtime.cpp`) runs the grid. Shared objects are
//!    cached on disk by a hash of everything that went into them.
//! 3. **Execute with Metal's model.** Threadgroups run one after another; the threads of a
//!    threadgroup are cooperative fibers on one OS thread, so a threadgroup array, being
//!    static storage, is one array shared by the group (filled with a poison byte at the start
//!    of every group). Fibers switch only at `threadgroup_barrier` and at simd operations; a
//!    simd operation completes when all 32 lanes (`tid % 32`) of the simdgroup have reached
//!    it, a barrier when all threads of the group have. A thread that never arrives where its
//!    peers wait (divergent control flow, an early return) is reported with the kernel name
//!    and the state of every thread, never a hang. `simdgroup_matrix` 8×8 operations are
//!    collective in the same way, and follow the per-lane element layout of Apple GPUs.
//! 4. **Race check.** With [`RunOptions::check_races`], the grid runs twice: once with the
//!    threads of each group resumed in increasing order between synchronisation points, once
//!    in decreasing order with another poison byte. Any difference in the buffers is reported
//!    as a data race (a missing barrier, two threads writing one location, a read of
//!    uninitialised threadgroup memory). Writes outside a buffer land in red zones and are
//!    reported too.
//!
//! The header of the scalar buffer and the folding of large grids over three dispatch
//! dimensions of at most 65535 groups are those of the GPU runtime (`KernelAbi::dispatch`),
//! so the kernel prologue is exercised as on the GPU.
//!
//! Limits: a kernel that faults (an out-of-bounds read far from its buffers) takes the process
//! down; a spin-wait for another threadgroup never ends (groups run one after another).

mod error;
mod kernel;
mod lexer;
mod precheck;
mod rewrite;
mod shim_library;
mod toolchain;
mod translation_unit;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tm_core::KernelAbi;

pub use error::{ClangDiagnostic, EmuError};
pub use kernel::{EmuKernel, RunOptions, MAX_GRID_DIM};
pub use shim_library::{shim_implements, SHIM_LIBRARY};

use precheck::Binding;
use toolchain::Toolchain;

/// The MSL source of the shim header, for inspection and tests.
pub const SHIM_HEADER: &str = toolchain::SHIM_HEADER;

/// Compiles and loads kernels. Cheap to share between threads.
pub struct Emulator {
    toolchain: Toolchain,
    /// Loaded shared objects by path: one `dlopen` per kernel per process.
    loaded: Mutex<HashMap<PathBuf, Arc<libloading::Library>>>,
    /// Lock words (`ScratchKind::Locks`) shared by the kernels of this emulator: the
    /// emulator is their device.
    locks: Arc<Mutex<Vec<u8>>>,
}

impl Emulator {
    /// Finds clang-19 and uses the default cache folder
    /// (`$TRITON_METAL_CACHE_DIR/msl-emu` or `~/.cache/triton_metal/msl-emu`).
    pub fn new() -> Result<Emulator, EmuError> {
        Emulator::with_cache_dir(toolchain::default_cache_dir())
    }

    /// Like [`Emulator::new`] with compiled kernels cached in `dir`.
    pub fn with_cache_dir(dir: impl Into<PathBuf>) -> Result<Emulator, EmuError> {
        let clang = toolchain::find_clang()?;
        Ok(Emulator {
            toolchain: Toolchain::new(clang, dir.into())?,
            loaded: Mutex::new(HashMap::new()),
            locks: Arc::default(),
        })
    }

    pub fn cache_dir(&self) -> &Path {
        self.toolchain.cache_dir()
    }

    /// Checks, compiles (or finds in the cache) and loads the kernel `abi.entry` of `msl`.
    pub fn compile(&self, msl: &str, abi: &KernelAbi) -> Result<EmuKernel, EmuError> {
        let kernel = abi.entry.clone();
        let refused = |line: u32, reason: String| EmuError::Refused {
            kernel: kernel.clone(),
            line,
            reason,
        };
        let sig = precheck::check(msl, &abi.entry).map_err(|r| refused(r.line, r.reason))?;
        if abi.buffers.len() + abi.scratch.len() + 1 > precheck::MAX_BUFFERS as usize {
            return Err(refused(
                1,
                format!(
                    "{} buffers, {} launcher buffers and the scalar buffer: Metal allows {} buffer arguments",
                    abi.buffers.len(),
                    abi.scratch.len(),
                    precheck::MAX_BUFFERS
                ),
            ));
        }
        for p in &sig.params {
            if let Binding::Buffer(n) = p.binding {
                if n != 0
                    && !abi.buffers.iter().any(|b| b.binding == n)
                    && !abi.scratch.iter().any(|s| s.binding == n)
                {
                    return Err(EmuError::BadLaunch {
                        kernel: kernel.clone(),
                        reason: format!("the MSL binds [[buffer({n})]] (line {}) but the ABI has no such buffer", p.line),
                    });
                }
            }
        }
        let tu = translation_unit::translation_unit(&rewrite::rewrite(msl), &abi.entry, &sig);
        let so = self.toolchain.shared_object(&kernel, &tu)?;
        let library = self.load(&kernel, &so)?;
        let load_error = |reason: String| EmuError::Load {
            kernel: kernel.clone(),
            reason,
        };
        // SAFETY: the symbols are those of shim/tm_emu_abi.h, which this crate compiled into
        // the library with these signatures.
        let launch_fn = unsafe {
            let version: libloading::Symbol<unsafe extern "C" fn() -> u32> = library
                .get(b"tm_emu_runtime_version\0")
                .map_err(|e| load_error(e.to_string()))?;
            if version() != 1 {
                return Err(load_error("runtime version mismatch".into()));
            }
            let f: libloading::Symbol<kernel::LaunchFn> = library
                .get(b"tm_emu_launch\0")
                .map_err(|e| load_error(e.to_string()))?;
            *f
        };
        Ok(EmuKernel {
            abi: abi.clone(),
            locks: self.locks.clone(),
            debug_output: Mutex::new(Vec::new()),
            launch_fn,
            _library: library,
        })
    }

    fn load(&self, kernel: &str, so: &Path) -> Result<Arc<libloading::Library>, EmuError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = loaded.get(so) {
            return Ok(l.clone());
        }
        // SAFETY: the library is one we compiled; its only initialisers are those of the
        // kernel's static (threadgroup) storage.
        let lib = unsafe { libloading::Library::new(so) }.map_err(|e| EmuError::Load {
            kernel: kernel.to_string(),
            reason: e.to_string(),
        })?;
        let lib = Arc::new(lib);
        loaded.insert(so.to_path_buf(), lib.clone());
        Ok(lib)
    }
}
