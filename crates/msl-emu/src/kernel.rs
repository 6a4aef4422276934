//! A compiled kernel and its launch: the scalar header, aligned copies of the buffers with
//! red zones around them (one copy per distinct buffer, so bindings of one array share it),
//! and the race check (a second run in reverse thread order).

use std::ffi::{c_char, c_void};
use std::sync::{Arc, Mutex, MutexGuard};

use tm_core::{KernelAbi, ScratchKind, SCALAR_HEADER_BYTES};

use crate::error::EmuError;

/// The dispatch limit per grid dimension, as on the GPU (`Target::max_grid_dim` of Metal).
pub const MAX_GRID_DIM: u32 = 65535;

/// Options of one launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Run the grid a second time with the threads of every threadgroup resumed in reverse
    /// order between synchronisation points (and threadgroup memory poisoned with another
    /// byte) and report any difference as a data race. Doubles the run time. Kernels whose
    /// result legitimately depends on the order of atomic operations within a threadgroup
    /// (the value returned by atomic_fetch_add, float atomic sums) are reported too.
    pub check_races: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { check_races: true }
    }
}

/// `TM_EMU_MAX_BINDINGS` of shim/tm_emu_abi.h: one slot per Metal buffer index.
const MAX_BINDINGS: usize = crate::precheck::MAX_BUFFERS as usize;

/// Mirrors `struct tm_emu_launch_args` of shim/tm_emu_abi.h.
#[repr(C)]
pub(crate) struct LaunchArgs {
    bindings: [*mut c_void; MAX_BINDINGS],
    groups: [u32; 3],
    threads_per_group: u32,
    reverse: u32,
    poison: u32,
    failed_group: [u32; 3],
}

pub(crate) type LaunchFn = unsafe extern "C" fn(*mut LaunchArgs, *mut c_char, u32) -> i32;

/// A kernel compiled for the emulator. Launches of one kernel from several OS threads are
/// serialised by its runtime.
pub struct EmuKernel {
    pub(crate) abi: KernelAbi,
    /// The lock words of the emulator that compiled this kernel (`ScratchKind::Locks`),
    /// shared by all its kernels as a GPU device shares one buffer.
    pub(crate) locks: Arc<Mutex<Vec<u8>>>,
    /// Debug-record buffers of launches nobody has taken yet, in launch order.
    pub(crate) debug_output: Mutex<Vec<Vec<u8>>>,
    pub(crate) launch_fn: LaunchFn,
    /// Keeps the shared object mapped while `launch_fn` may be called.
    pub(crate) _library: Arc<libloading::Library>,
}

#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Line([u8; 64]);

/// Locks a mutex even if a launch panicked while holding it: a lock-word vector or a list
/// of finished records carries no invariant a panic could break.
fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Bytes before and after every buffer that the kernel must leave alone.
const RED_ZONE: usize = 256;
const RED_BYTE: u8 = 0xa5;

/// A 64-byte aligned copy of a buffer between two red zones. On the GPU an out-of-bounds
/// write lands in someone else's memory; here it lands in a red zone and is reported.
struct Staging {
    lines: Vec<Line>,
    len: usize,
}

impl Staging {
    fn new(data: &[u8]) -> Staging {
        let total = RED_ZONE * 2 + data.len();
        let mut s = Staging {
            lines: vec![Line([RED_BYTE; 64]); total.div_ceil(64)],
            len: data.len(),
        };
        s.bytes_mut()[RED_ZONE..RED_ZONE + data.len()].copy_from_slice(data);
        s
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: Line is 64 plain bytes with no padding.
        unsafe {
            std::slice::from_raw_parts(self.lines.as_ptr().cast::<u8>(), self.lines.len() * 64)
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.lines.as_mut_ptr().cast::<u8>(),
                self.lines.len() * 64,
            )
        }
    }

    fn data(&self) -> &[u8] {
        &self.bytes()[RED_ZONE..RED_ZONE + self.len]
    }

    fn data_ptr(&mut self) -> *mut c_void {
        self.bytes_mut()[RED_ZONE..].as_mut_ptr().cast()
    }

    /// Whether the kernel wrote before (`Some(true)`) or past (`Some(false)`) the data.
    fn trampled(&self) -> Option<bool> {
        let b = self.bytes();
        if b[..RED_ZONE].iter().any(|&x| x != RED_BYTE) {
            return Some(true);
        }
        if b[RED_ZONE + self.len..].iter().any(|&x| x != RED_BYTE) {
            return Some(false);
        }
        None
    }
}

impl EmuKernel {
    pub fn abi(&self) -> &KernelAbi {
        &self.abi
    }

    /// The debug records (`ScratchKind::Debug` buffers, whole) of every launch since the
    /// last call, in launch order; each comes from the first (in-order) run of its launch.
    pub fn take_debug_output(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *relock(&self.debug_output))
    }

    /// Runs the kernel over the logical `grid` of programs. `scalars` is the packed scalar
    /// buffer of `KernelAbi::scalar_bytes` bytes: its 16-byte header is written here, as the
    /// GPU runtime writes it. `buffers` are in `KernelAbi::buffers` order, one per binding
    /// (see [`EmuKernel::launch_shared`] for one buffer bound twice); the
    /// `KernelAbi::scratch` buffers are the emulator's own: lock words shared by every
    /// kernel of the emulator, and debug records zeroed per launch and collected by
    /// [`EmuKernel::take_debug_output`].
    pub fn launch(
        &self,
        grid: [u32; 3],
        scalars: &mut [u8],
        buffers: &mut [&mut [u8]],
        opts: &RunOptions,
    ) -> Result<(), EmuError> {
        if buffers.len() != self.abi.buffers.len() {
            return Err(EmuError::BadLaunch {
                kernel: self.abi.entry.clone(),
                reason: format!(
                    "{} buffers given, the kernel takes {}",
                    buffers.len(),
                    self.abi.buffers.len()
                ),
            });
        }
        let identity: Vec<usize> = (0..buffers.len()).collect();
        self.launch_shared(grid, scalars, buffers, &identity, opts)
    }

    /// [`EmuKernel::launch`] where several bindings may share one buffer, as on a GPU when
    /// one array is passed to several pointer parameters: `buffers` holds each distinct
    /// buffer once and `buffer_of_binding[k]` is the index in `buffers` of the buffer of
    /// `KernelAbi::buffers[k]`. Bindings sharing a buffer see each other's writes during the
    /// launch; red zones and the race check work per buffer, and their errors name the
    /// first binding of the buffer.
    pub fn launch_shared(
        &self,
        grid: [u32; 3],
        scalars: &mut [u8],
        buffers: &mut [&mut [u8]],
        buffer_of_binding: &[usize],
        opts: &RunOptions,
    ) -> Result<(), EmuError> {
        let kernel = &self.abi.entry;
        let bad = |reason: String| EmuError::BadLaunch {
            kernel: kernel.clone(),
            reason,
        };
        let need = self.abi.scalar_bytes.max(SCALAR_HEADER_BYTES) as usize;
        if scalars.len() < need {
            return Err(bad(format!(
                "the scalar buffer has {} bytes, the kernel reads {need}",
                scalars.len()
            )));
        }
        if buffer_of_binding.len() != self.abi.buffers.len() {
            return Err(bad(format!(
                "buffers given for {} bindings, the kernel takes {}",
                buffer_of_binding.len(),
                self.abi.buffers.len()
            )));
        }
        if let Some(k) = buffer_of_binding.iter().position(|&i| i >= buffers.len()) {
            return Err(bad(format!(
                "binding {} takes buffer {} of {} given",
                self.abi.buffers[k].binding,
                buffer_of_binding[k],
                buffers.len()
            )));
        }
        // The first binding of every buffer, to name it in errors; a buffer no binding
        // uses is still staged and copied back unchanged.
        let first_binding: Vec<Option<usize>> = (0..buffers.len())
            .map(|i| buffer_of_binding.iter().position(|&j| j == i))
            .collect();
        let tpg = self.abi.threads_per_group;
        if tpg == 0 || tpg > 1024 {
            return Err(bad(format!(
                "{tpg} threads per threadgroup (Metal allows 1..1024)"
            )));
        }
        let (dispatch, header) = KernelAbi::dispatch(grid, MAX_GRID_DIM);
        for (k, w) in header.iter().enumerate() {
            scalars[k * 4..k * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        if dispatch.contains(&0) {
            return Ok(());
        }
        // Held for the whole launch: kernels of one emulator share the lock words.
        let mut locks = relock(&self.locks);
        let need = self
            .abi
            .scratch
            .iter()
            .filter(|s| s.kind == ScratchKind::Locks)
            .map(|s| s.bytes as usize)
            .max()
            .unwrap_or(0);
        if locks.len() < need {
            // Replaced rather than extended, zeroed, as the GPU runtime replaces its buffer.
            *locks = vec![0; need];
        }
        let locks_before = locks.clone();
        let stage_scratch = |locks: &[u8]| -> Vec<Staging> {
            self.abi
                .scratch
                .iter()
                .map(|s| match s.kind {
                    ScratchKind::Locks => Staging::new(locks),
                    ScratchKind::Debug => Staging::new(&vec![0; s.bytes as usize]),
                })
                .collect()
        };
        let mut scalar_copy = Staging::new(scalars);
        let mut first: Vec<Staging> = buffers.iter().map(|b| Staging::new(b)).collect();
        let mut first_scratch = stage_scratch(&locks_before);
        self.run(
            dispatch,
            &mut scalar_copy,
            &mut first,
            buffer_of_binding,
            &mut first_scratch,
            false,
        )?;
        self.check_red_zones(&first, &first_binding, &first_scratch)?;
        if opts.check_races {
            // Scratch contents are not compared: the order of debug records follows the
            // order in which threads reserve them, which the second run changes on purpose.
            let mut second: Vec<Staging> = buffers.iter().map(|b| Staging::new(b)).collect();
            let mut second_scratch = stage_scratch(&locks_before);
            self.run(
                dispatch,
                &mut scalar_copy,
                &mut second,
                buffer_of_binding,
                &mut second_scratch,
                true,
            )?;
            self.check_red_zones(&second, &first_binding, &second_scratch)?;
            for (i, (a, b)) in first.iter().zip(&second).enumerate() {
                // A buffer no binding uses cannot change, and has no binding to name.
                let Some(binding) = first_binding[i].and_then(|k| self.abi.buffers.get(k)) else {
                    continue;
                };
                if let Some(at) = a.data().iter().zip(b.data()).position(|(x, y)| x != y) {
                    return Err(EmuError::Race {
                        kernel: kernel.clone(),
                        binding: binding.binding,
                        arg_index: binding.arg_index,
                        byte_offset: at,
                    });
                }
            }
        }
        for (dst, src) in buffers.iter_mut().zip(&first) {
            dst.copy_from_slice(src.data());
        }
        let mut debug = Vec::new();
        for (s, staged) in self.abi.scratch.iter().zip(&first_scratch) {
            match s.kind {
                ScratchKind::Locks => locks.copy_from_slice(staged.data()),
                ScratchKind::Debug => debug.push(staged.data().to_vec()),
            }
        }
        drop(locks);
        relock(&self.debug_output).extend(debug);
        Ok(())
    }

    fn check_red_zones(
        &self,
        staged: &[Staging],
        first_binding: &[Option<usize>],
        scratch: &[Staging],
    ) -> Result<(), EmuError> {
        for (s, st) in self.abi.scratch.iter().zip(scratch) {
            if let Some(before) = st.trampled() {
                return Err(EmuError::ScratchOutOfBounds {
                    kernel: self.abi.entry.clone(),
                    binding: s.binding,
                    kind: format!("{:?}", s.kind),
                    before,
                });
            }
        }
        for (i, s) in staged.iter().enumerate() {
            // Only a bound buffer can be trampled.
            let Some(b) = first_binding[i].and_then(|k| self.abi.buffers.get(k)) else {
                continue;
            };
            if let Some(before) = s.trampled() {
                return Err(EmuError::OutOfBounds {
                    kernel: self.abi.entry.clone(),
                    binding: b.binding,
                    arg_index: b.arg_index,
                    before,
                });
            }
        }
        Ok(())
    }

    fn run(
        &self,
        dispatch: [u32; 3],
        scalars: &mut Staging,
        buffers: &mut [Staging],
        buffer_of_binding: &[usize],
        scratch: &mut [Staging],
        reverse: bool,
    ) -> Result<(), EmuError> {
        let mut args = LaunchArgs {
            bindings: [std::ptr::null_mut(); MAX_BINDINGS],
            groups: dispatch,
            threads_per_group: self.abi.threads_per_group,
            reverse: reverse as u32,
            poison: if reverse { 0x7f } else { 0xff },
            failed_group: [0; 3],
        };
        args.bindings[0] = scalars.data_ptr();
        for (b, &i) in self.abi.buffers.iter().zip(buffer_of_binding) {
            let slot = b.binding as usize;
            if slot == 0 || slot >= MAX_BINDINGS {
                return Err(EmuError::BadLaunch {
                    kernel: self.abi.entry.clone(),
                    reason: format!("buffer binding {slot} outside 1..{}", MAX_BINDINGS - 1),
                });
            }
            let Some(staged) = buffers.get_mut(i) else {
                return Err(EmuError::BadLaunch {
                    kernel: self.abi.entry.clone(),
                    reason: format!("buffer binding {slot} takes buffer {i}, which was not given"),
                });
            };
            args.bindings[slot] = staged.data_ptr();
        }
        for (b, s) in self.abi.scratch.iter().zip(scratch.iter_mut()) {
            let slot = b.binding as usize;
            if slot == 0 || slot >= MAX_BINDINGS || !args.bindings[slot].is_null() {
                return Err(EmuError::BadLaunch {
                    kernel: self.abi.entry.clone(),
                    reason: format!(
                        "launcher buffer binding {slot} outside 1..{} or taken by an argument",
                        MAX_BINDINGS - 1
                    ),
                });
            }
            args.bindings[slot] = s.data_ptr();
        }
        let mut message = vec![0u8; 2048];
        // SAFETY: `launch_fn` is tm_emu_launch of a library we keep loaded; every binding the
        // kernel declares points into a live staging buffer (checked at compile time against
        // the ABI), and the message buffer has the length we pass.
        let rc = unsafe {
            (self.launch_fn)(&mut args, message.as_mut_ptr().cast(), message.len() as u32)
        };
        let end = message
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(message.len());
        let detail = String::from_utf8_lossy(&message[..end]).into_owned();
        let kernel = self.abi.entry.clone();
        let group = args.failed_group;
        match rc {
            0 => Ok(()),
            1 => Err(EmuError::Divergence {
                kernel,
                group,
                detail,
            }),
            3 => Err(EmuError::Execution {
                kernel,
                group,
                detail,
            }),
            _ => Err(EmuError::BadLaunch {
                kernel,
                reason: detail,
            }),
        }
    }
}
