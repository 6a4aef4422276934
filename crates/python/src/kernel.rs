//! `_core.compile` and `_core.Kernel`: a kernel compiled for one specialization on one device,
//! its launch, and the text of every stage (`asm`).

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::device::Device;
use crate::guard::guard;

#[cfg(feature = "compiler")]
pub use with_compiler::Kernel;

/// Compile the source tree `tree` for `specs` on `device` (see convert.rs for the encodings).
/// `debug` is Triton's debug mode: device asserts are checked and Python `assert`s kept.
#[pyfunction]
#[pyo3(signature = (device, tree, specs, num_warps, num_stages, debug = false, may_alias = false))]
#[allow(clippy::too_many_arguments)]
pub fn compile(
    py: Python<'_>,
    device: Py<Device>,
    tree: &Bound<'_, PyAny>,
    specs: &Bound<'_, PyList>,
    num_warps: u32,
    num_stages: u32,
    debug: bool,
    may_alias: bool,
) -> PyResult<Kernel> {
    let flags = CompileFlags {
        num_warps,
        num_stages,
        debug,
        may_alias,
    };
    guard("compile", || compile_impl(py, device, tree, specs, flags))
}

/// The launch options a kernel is compiled for (`tm_compiler::Options` where the compiler
/// is built in).
#[derive(Clone, Copy)]
pub struct CompileFlags {
    pub num_warps: u32,
    pub num_stages: u32,
    pub debug: bool,
    pub may_alias: bool,
}

#[cfg(not(feature = "compiler"))]
#[pyclass(frozen, module = "triton_metal._core")]
pub struct Kernel {}

#[cfg(not(feature = "compiler"))]
#[pymethods]
impl Kernel {
    fn asm(&self, key: &str) -> PyResult<String> {
        Err(pyo3::exceptions::PyKeyError::new_err(key.to_string()))
    }
}

#[cfg(not(feature = "compiler"))]
fn compile_impl(
    _py: Python<'_>,
    _device: Py<Device>,
    _tree: &Bound<'_, PyAny>,
    _specs: &Bound<'_, PyList>,
    _flags: CompileFlags,
) -> PyResult<Kernel> {
    Err(pyo3::exceptions::PyNotImplementedError::new_err(
        "this build of triton_metal has no compiler",
    ))
}

#[cfg(feature = "compiler")]
use with_compiler::compile_impl;

#[cfg(feature = "compiler")]
mod with_compiler {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::types::PyList;
    use tm_compiler::{Compiled, Options};
    use tm_core::{CompileError, Dialect, KernelAbi, Target};
    use tm_frontend::{ArgSpec, FunctionSource};

    use crate::convert;
    use crate::device::{Device, Engine};
    use crate::errors::{compile_error, reindent, Indent};
    use crate::guard::guard;
    use crate::pack::{self, HostArray};

    /// How this kernel runs on its device.
    enum Exec {
        #[cfg(feature = "gpu")]
        Gpu {
            pipeline: tm_runtime::GpuPipeline,
            abi: KernelAbi,
        },
        #[cfg(feature = "emu")]
        Emu {
            kernel: tm_msl_emu::EmuKernel,
            abi: KernelAbi,
        },
        #[cfg(feature = "interp")]
        Interp { func: tm_tile::Function },
        /// The device has no engine in this build (never constructed when all are built).
        #[allow(dead_code)]
        None,
    }

    #[pyclass(frozen, module = "triton_metal._core")]
    pub struct Kernel {
        device: Py<Device>,
        src: Arc<FunctionSource>,
        specs: Vec<ArgSpec>,
        options: Options,
        indents: Vec<Indent>,
        #[pyo3(get)]
        name: String,
        #[pyo3(get)]
        device_description: String,
        /// What this device compiled: its target's stages, or None for the interpreter.
        own: Option<Compiled>,
        tile_text: String,
        exec: Exec,
        asm_cache: Mutex<HashMap<String, String>>,
    }

    pub fn compile_impl(
        py: Python<'_>,
        device: Py<Device>,
        tree: &Bound<'_, PyAny>,
        specs: &Bound<'_, PyList>,
        flags: super::CompileFlags,
    ) -> PyResult<Kernel> {
        let debug = flags.debug;
        let mut indents = Vec::new();
        let src = convert::function_source(tree, &mut indents)?;
        let specs = specs
            .iter()
            .map(|s| convert::arg_spec(&s, &mut indents))
            .collect::<PyResult<Vec<_>>>()?;
        let options = Options {
            num_warps: flags.num_warps,
            num_stages: flags.num_stages,
            debug,
            may_alias: flags.may_alias,
        };
        let located = |e: CompileError| compile_error(py, &reindent(e, &indents));
        let dev = device.get();
        let device_description = dev.description();
        let (own, tile_text, exec) = match &dev.engine {
            Engine::Interpreter => interp_exec(&src, &specs, debug).map_err(located)?,
            engine => {
                let target = dev
                    .target()
                    .ok_or_else(|| PyRuntimeError::new_err("device without a target"))?;
                let compiled =
                    tm_compiler::compile(&src, &specs, &options, &target).map_err(located)?;
                let exec = device_exec(engine, &compiled)?;
                let tile_text = compiled.tile_text.clone();
                (Some(compiled), tile_text, exec)
            }
        };
        let name = match &own {
            Some(c) => c.name.clone(),
            None => src.name.clone(),
        };
        Ok(Kernel {
            device,
            src,
            specs,
            options,
            indents,
            name,
            device_description,
            own,
            tile_text,
            exec,
            asm_cache: Mutex::new(HashMap::new()),
        })
    }

    #[cfg(feature = "interp")]
    fn interp_exec(
        src: &FunctionSource,
        specs: &[ArgSpec],
        debug: bool,
    ) -> Result<(Option<Compiled>, String, Exec), CompileError> {
        let func = tm_compiler::compile_tile_with(src, specs, debug)?;
        let text = tm_tile::print(&func);
        Ok((None, text, Exec::Interp { func }))
    }

    #[cfg(not(feature = "interp"))]
    fn interp_exec(
        src: &FunctionSource,
        specs: &[ArgSpec],
        _debug: bool,
    ) -> Result<(Option<Compiled>, String, Exec), CompileError> {
        // Still compile, so that compilation errors are reported the same way everywhere.
        let compiled = tm_compiler::compile(src, specs, &Options::default(), &Target::apple())?;
        let text = compiled.tile_text.clone();
        Ok((Some(compiled), text, Exec::None))
    }

    fn device_exec(engine: &Engine, compiled: &Compiled) -> PyResult<Exec> {
        match engine {
            #[cfg(feature = "gpu")]
            Engine::Gpu(dev) => {
                let code = match compiled.dialect {
                    Dialect::Msl => tm_runtime::KernelCode::Msl(compiled.code.clone()),
                    Dialect::Wgsl => tm_runtime::KernelCode::Wgsl(compiled.code.clone()),
                };
                let pipeline = dev
                    .create_pipeline(&code, &compiled.abi)
                    .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
                Ok(Exec::Gpu {
                    pipeline,
                    abi: compiled.abi.clone(),
                })
            }
            #[cfg(feature = "emu")]
            Engine::MslEmu { emulator, .. } => {
                let kernel = emulator
                    .compile(&compiled.code, &compiled.abi)
                    .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
                Ok(Exec::Emu {
                    kernel,
                    abi: compiled.abi.clone(),
                })
            }
            _ => {
                let _ = compiled;
                Ok(Exec::None)
            }
        }
    }

    #[pymethods]
    impl Kernel {
        /// The text of a stage: 'tile', 'simt', 'msl' (for Apple GPUs) or 'wgsl' (for this
        /// device's WGSL target, or a generic one).
        fn asm(&self, py: Python<'_>, key: &str) -> PyResult<String> {
            guard("asm", || {
                if key == "tile" {
                    return Ok(self.tile_text.clone());
                }
                if let Some(text) = self.asm_cache.lock().ok().and_then(|c| c.get(key).cloned()) {
                    return Ok(text);
                }
                let text = self.make_asm(py, key)?;
                if let Ok(mut cache) = self.asm_cache.lock() {
                    cache.insert(key.to_string(), text.clone());
                }
                Ok(text)
            })
        }

        /// Run on the logical grid `grid` with `args`, one per kernel parameter: arrays as
        /// `(address, nbytes, writeable, array)`, scalars as Python values, constexprs as None.
        /// Returns the lines `tl.device_print` produced, for Python to write to its own stdout
        /// (Rust's stdout would bypass `sys.stdout` and its redirections).
        fn launch(
            &self,
            py: Python<'_>,
            grid: (u32, u32, u32),
            args: Vec<Bound<'_, PyAny>>,
        ) -> PyResult<Vec<String>> {
            guard("launch", || {
                self.launch_impl(py, [grid.0, grid.1, grid.2], &args)
            })
        }

        fn __repr__(&self) -> String {
            format!(
                "<triton_metal kernel {} on {}>",
                self.name, self.device_description
            )
        }
    }

    impl Kernel {
        fn make_asm(&self, py: Python<'_>, key: &str) -> PyResult<String> {
            let own = self.own.as_ref();
            let want = match key {
                "simt" => own.map(|c| c.simt_text.clone()).ok_or(Target::apple()),
                "msl" => own
                    .filter(|c| c.dialect == Dialect::Msl)
                    .map(|c| c.code.clone())
                    .ok_or(Target::apple()),
                "wgsl" => own
                    .filter(|c| c.dialect == Dialect::Wgsl)
                    .map(|c| c.code.clone())
                    .ok_or(Target::wgsl_generic(32)),
                _ => {
                    return Err(PyKeyError::new_err(format!(
                        "{key:?}: asm has 'tile', 'simt', 'msl' and 'wgsl'"
                    )))
                }
            };
            match want {
                Ok(text) => Ok(text),
                Err(target) => {
                    let c = tm_compiler::compile(&self.src, &self.specs, &self.options, &target)
                        .map_err(|e| compile_error(py, &reindent(e, &self.indents)))?;
                    Ok(if key == "simt" { c.simt_text } else { c.code })
                }
            }
        }

        fn launch_impl(
            &self,
            py: Python<'_>,
            grid: [u32; 3],
            args: &[Bound<'_, PyAny>],
        ) -> PyResult<Vec<String>> {
            let dev = self.device.get();
            match (&self.exec, &dev.engine) {
                #[cfg(feature = "gpu")]
                (Exec::Gpu { pipeline, abi }, Engine::Gpu(gpu)) => {
                    launch_gpu(py, &self.device, gpu, pipeline, abi, grid, args)
                }
                #[cfg(feature = "emu")]
                (Exec::Emu { kernel, abi }, Engine::MslEmu { check_races, .. }) => {
                    launch_emu(py, kernel, abi, *check_races, grid, args)
                }
                #[cfg(feature = "interp")]
                (Exec::Interp { func }, Engine::Interpreter) => {
                    launch_interp(py, func, &self.specs, grid, args)
                }
                _ => {
                    let _ = (py, grid, args);
                    Err(PyRuntimeError::new_err(format!(
                        "this build of triton_metal cannot run kernels on {}",
                        self.device_description
                    )))
                }
            }
        }
    }

    /// Whether two pointer arguments are one array, to be given to the engine as one buffer
    /// (as the GPU path binds one buffer twice). Identity is the same data pointer and byte
    /// length, whatever the dtype or writeability of the views: partially overlapping views
    /// (`x[1:]` and `x`, or `x[:4]` and `x`) stay separate copies, so writes through one
    /// are not seen through the other during the launch; that case is out of scope.
    fn same_memory(a: &HostArray, b: &HostArray) -> bool {
        a.addr == b.addr && a.nbytes == b.nbytes
    }

    /// The pointer arguments of a launch, each distinct host array once (a kernel may take
    /// the same array twice, and must then see one buffer).
    struct HostBuffers {
        unique: Vec<HostArray>,
        /// For each ABI buffer, its index in `unique`.
        of_binding: Vec<usize>,
        /// Whether the kernel may write each unique array.
        written: Vec<bool>,
    }

    fn host_buffers(abi: &KernelAbi, args: &[Bound<'_, PyAny>]) -> PyResult<HostBuffers> {
        let mut hb = HostBuffers {
            unique: Vec::new(),
            of_binding: Vec::new(),
            written: Vec::new(),
        };
        for b in &abi.buffers {
            let a = pack::host_array(args, b.arg_index)?;
            if b.writes && !a.writeable {
                return Err(PyValueError::new_err(format!(
                    "argument {}: the kernel stores through this pointer but the array is read-only",
                    b.arg_index
                )));
            }
            let i = match hb.unique.iter().position(|u| same_memory(u, &a)) {
                Some(i) => {
                    // Writes were checked per binding above.
                    hb.unique[i].writeable |= a.writeable;
                    i
                }
                None => {
                    hb.unique.push(a);
                    hb.written.push(false);
                    hb.unique.len() - 1
                }
            };
            hb.written[i] |= b.writes;
            hb.of_binding.push(i);
        }
        Ok(hb)
    }

    /// Where one ABI buffer of a GPU launch comes from.
    #[cfg(feature = "gpu")]
    enum GpuArg {
        /// A resident tensor's buffer, bound as it is.
        Resident(tm_runtime::GpuBuffer),
        /// A host array copied in for this launch: its index among the distinct arrays.
        Host(usize),
    }

    #[cfg(feature = "gpu")]
    fn launch_gpu(
        py: Python<'_>,
        device: &Py<Device>,
        gpu: &tm_runtime::GpuDevice,
        pipeline: &tm_runtime::GpuPipeline,
        abi: &KernelAbi,
        grid: [u32; 3],
        args: &[Bound<'_, PyAny>],
    ) -> PyResult<Vec<String>> {
        use crate::buffer::DeviceBuffer;
        let mut scalars = pack::pack_scalars(abi, args)?;
        let mut hosts: Vec<HostArray> = Vec::new();
        let mut written: Vec<bool> = Vec::new();
        let mut sources = Vec::with_capacity(abi.buffers.len());
        for b in &abi.buffers {
            let v = args.get(b.arg_index).ok_or_else(|| {
                PyValueError::new_err(format!("missing launch argument {}", b.arg_index))
            })?;
            if let Ok(t) = v.cast::<DeviceBuffer>() {
                let t = t.get();
                if t.device.as_ptr() != device.as_ptr() {
                    return Err(PyValueError::new_err(format!(
                        "argument {}: the tensor lives on another device",
                        b.arg_index
                    )));
                }
                sources.push(GpuArg::Resident(t.buffer.clone()));
                continue;
            }
            let a = pack::host_array(args, b.arg_index)?;
            if b.writes && !a.writeable {
                return Err(PyValueError::new_err(format!(
                    "argument {}: the kernel stores through this pointer but the array is read-only",
                    b.arg_index
                )));
            }
            let i = match hosts.iter().position(|u| *u == a) {
                Some(i) => i,
                None => {
                    hosts.push(a);
                    written.push(false);
                    hosts.len() - 1
                }
            };
            written[i] |= b.writes;
            sources.push(GpuArg::Host(i));
        }
        // The GPU work runs without the GIL; the arrays stay alive in `args` meanwhile.
        let records = py
            .detach(|| -> Result<Vec<Vec<u8>>, tm_runtime::RuntimeError> {
                let copies = hosts
                    .iter()
                    // SAFETY: the arrays are alive in `args` for the whole call (see HostArray).
                    .map(|a| gpu.buffer_from_bytes(unsafe { a.bytes() }))
                    .collect::<Result<Vec<_>, _>>()?;
                let bound: Vec<&tm_runtime::GpuBuffer> = sources
                    .iter()
                    .map(|s| match s {
                        GpuArg::Resident(buf) => buf,
                        GpuArg::Host(i) => &copies[*i],
                    })
                    .collect();
                gpu.launch(pipeline, grid, &mut scalars, &bound)?;
                // Launches on resident tensors only stay recorded (batched); host arrays are
                // copied back, and their temporary buffers must outlive the launch.
                if !hosts.is_empty() {
                    gpu.synchronize()?;
                    for (i, a) in hosts.iter().enumerate() {
                        if written[i] {
                            // SAFETY: as above; one slice of this memory at a time.
                            gpu.read_buffer(&copies[i], unsafe { a.bytes_mut() })?;
                        }
                    }
                }
                // Debug records wait for the launch: prints are not a fast path.
                if abi.debug.is_some() {
                    return gpu.take_debug_output(pipeline);
                }
                Ok(Vec::new())
            })
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        debug_lines(abi, &records)
    }

    /// The print lines of a launch's debug buffers (`tm_core::debug`), a line saying how many
    /// records were dropped, and the first failed assert as the interpreter reports it.
    #[cfg(any(feature = "gpu", feature = "emu"))]
    fn debug_lines(abi: &KernelAbi, buffers: &[Vec<u8>]) -> PyResult<Vec<String>> {
        let Some(info) = &abi.debug else {
            return Ok(Vec::new());
        };
        let mut lines = Vec::new();
        let mut failure = None;
        for b in buffers {
            let r = tm_core::debug::decode_debug(info, b);
            lines.extend(r.lines.iter().cloned());
            lines.extend(r.dropped_line(&info.kernel));
            if failure.is_none() {
                failure = r.assert_failure;
            }
        }
        match failure {
            // The prints that ran are shown before the error, as stdout has them.
            Some(f) => {
                Python::attach(|py| -> PyResult<()> {
                    let sys = py.import("sys")?;
                    let out = sys.getattr("stdout")?;
                    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
                    out.call_method1("write", (text,))?;
                    Ok(())
                })?;
                Err(PyRuntimeError::new_err(f.to_string()))
            }
            None => Ok(lines),
        }
    }

    #[cfg(feature = "emu")]
    fn launch_emu(
        py: Python<'_>,
        kernel: &tm_msl_emu::EmuKernel,
        abi: &KernelAbi,
        check_races: bool,
        grid: [u32; 3],
        args: &[Bound<'_, PyAny>],
    ) -> PyResult<Vec<String>> {
        let mut scalars = pack::pack_scalars(abi, args)?;
        let hb = host_buffers(abi, args)?;
        let records = py
            .detach(|| -> Result<Vec<Vec<u8>>, tm_msl_emu::EmuError> {
                // One copy per distinct array, shared by the bindings that take it, so
                // aliases see each other's writes as on the GPU; changed copies go back.
                // SAFETY: the arrays are alive in `args` for the whole call (see HostArray).
                let mut copies: Vec<Vec<u8>> = hb
                    .unique
                    .iter()
                    .map(|a| unsafe { a.bytes() }.to_vec())
                    .collect();
                let mut slices: Vec<&mut [u8]> =
                    copies.iter_mut().map(|v| v.as_mut_slice()).collect();
                let opts = tm_msl_emu::RunOptions { check_races };
                kernel.launch_shared(grid, &mut scalars, &mut slices, &hb.of_binding, &opts)?;
                for (i, a) in hb.unique.iter().enumerate() {
                    // SAFETY: as above; one slice of this memory at a time.
                    if hb.written[i] && unsafe { a.bytes() } != copies[i].as_slice() {
                        unsafe { a.bytes_mut() }.copy_from_slice(&copies[i]);
                    }
                }
                Ok(kernel.take_debug_output())
            })
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        debug_lines(abi, &records)
    }

    #[cfg(feature = "interp")]
    fn launch_interp(
        py: Python<'_>,
        func: &tm_tile::Function,
        specs: &[ArgSpec],
        grid: [u32; 3],
        args: &[Bound<'_, PyAny>],
    ) -> PyResult<Vec<String>> {
        use tm_interp::{ArgValue, ScalarValue};
        enum Host {
            Array(HostArray, tm_core::ScalarType),
            /// The same array as an earlier argument (see `same_memory`).
            Alias(usize),
            Scalar(ScalarValue),
            Absent,
        }
        let mut hosts: Vec<Host> = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let host = match spec {
                ArgSpec::Pointer { elem, .. } => {
                    let a = pack::host_array(args, i)?;
                    let earlier = hosts.iter_mut().enumerate().find_map(|(j, h)| match h {
                        Host::Array(u, _) if same_memory(u, &a) => Some((j, u)),
                        _ => None,
                    });
                    match earlier {
                        Some((j, u)) => {
                            // The interpreter cannot tell which alias stored: a store is
                            // refused only when no view of the array is writeable.
                            u.writeable |= a.writeable;
                            Host::Alias(j)
                        }
                        None => Host::Array(a, *elem),
                    }
                }
                ArgSpec::Scalar { ty, .. } => {
                    let v = args.get(i).ok_or_else(|| {
                        PyValueError::new_err(format!("missing launch argument {i}"))
                    })?;
                    Host::Scalar(interp_scalar(v, *ty)?)
                }
                ArgSpec::Constexpr(_) => Host::Absent,
            };
            hosts.push(host);
        }
        let (read_only_written, prints) = py
            .detach(|| -> Result<(bool, Vec<String>), String> {
                // Each distinct array runs on one copy (aliases name it by argument index, so
                // they share it); copies that changed are written back.
                // SAFETY: the arrays are alive in `args` for the whole call (see HostArray).
                let mut copies: Vec<Vec<u8>> = hosts
                    .iter()
                    .map(|h| match h {
                        Host::Array(a, _) => unsafe { a.bytes() }.to_vec(),
                        _ => Vec::new(),
                    })
                    .collect();
                let mut values: Vec<ArgValue<'_>> = hosts
                    .iter()
                    .zip(copies.iter_mut())
                    .map(|(h, copy)| match h {
                        Host::Array(_, elem) => ArgValue::Buffer {
                            data: copy.as_mut_slice(),
                            elem: *elem,
                        },
                        Host::Alias(j) => ArgValue::SameBufferAs(*j),
                        Host::Scalar(v) => ArgValue::Scalar(*v),
                        Host::Absent => ArgValue::Absent,
                    })
                    .collect();
                let opts = tm_interp::RunOptions { echo_prints: false };
                let report =
                    tm_interp::run(func, grid, &mut values, &opts).map_err(|e| e.to_string())?;
                drop(values);
                let mut read_only_written = false;
                for (h, copy) in hosts.iter().zip(copies.iter()) {
                    if let Host::Array(a, _) = h {
                        // SAFETY: as above; one slice of this memory at a time.
                        if unsafe { a.bytes() } != copy.as_slice() {
                            if a.writeable {
                                unsafe { a.bytes_mut() }.copy_from_slice(copy);
                            } else {
                                read_only_written = true;
                            }
                        }
                    }
                }
                Ok((read_only_written, report.prints))
            })
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        if read_only_written {
            return Err(PyValueError::new_err(
                "the kernel stored into a read-only array (its changes were dropped)",
            ));
        }
        Ok(prints)
    }

    /// Python ints as i64 (u64 past its range) and floats as f64: the interpreter converts
    /// to the parameter's type.
    #[cfg(feature = "interp")]
    fn interp_scalar(
        v: &Bound<'_, PyAny>,
        ty: tm_core::ScalarType,
    ) -> PyResult<tm_interp::ScalarValue> {
        use tm_interp::ScalarValue;
        Ok(if ty.is_bool() {
            ScalarValue::I1(v.is_truthy()?)
        } else if ty.is_float() {
            ScalarValue::F64(v.extract::<f64>()?)
        } else {
            match v.extract::<i64>() {
                Ok(i) => ScalarValue::I64(i),
                Err(_) => ScalarValue::U64(v.extract::<u64>()?),
            }
        })
    }
}
