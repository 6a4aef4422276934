//! The pipeline in one call: source → Tile IR → passes → layouts/SIMT → MSL or WGSL.
//!
//! Every stage's text is kept in the result (`asm` in Python, `--emit` in the CLI), so a user
//! can see what each stage made of their kernel.

use tm_core::{CompileError, Dialect, KernelAbi, Target};
use tm_frontend::{ArgSpec, FunctionSource};
use tm_tile::Function;

/// Launch options that change the compiled code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Options {
    /// Simdgroups per program instance (Triton's warps).
    pub num_warps: u32,
    /// Accepted for Triton compatibility; software pipelining is not implemented yet.
    pub num_stages: u32,
    /// Triton's debug mode (`TRITON_DEBUG=1`, `@jit(debug=True)`): device asserts are
    /// checked on GPUs and Python `assert` statements become device asserts. Without it
    /// both are dropped from GPU code, as Triton drops them.
    pub debug: bool,
    /// Some pointer arguments of the launch share memory (the same array passed twice).
    /// Every argument buffer is then bound writable: a binding declared read-only may be
    /// read through a path that does not see the stores of another binding of the same
    /// memory (lavapipe's does not).
    pub may_alias: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            num_warps: 4,
            num_stages: 3,
            debug: false,
            may_alias: false,
        }
    }
}

/// A kernel compiled for one target.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub name: String,
    /// The optimized Tile IR, which the interpreter runs.
    pub tile: Function,
    pub tile_text: String,
    pub simt_text: String,
    /// MSL or WGSL, per `Target::dialect`.
    pub code: String,
    pub dialect: Dialect,
    pub abi: KernelAbi,
}

/// Source to verified, optimized Tile IR. What the interpreter runs and what every backend
/// starts from.
pub fn compile_tile(src: &FunctionSource, args: &[ArgSpec]) -> Result<Function, CompileError> {
    compile_tile_with(src, args, false)
}

/// [`compile_tile`] in or out of debug mode (`Options::debug`).
pub fn compile_tile_with(
    src: &FunctionSource,
    args: &[ArgSpec],
    debug: bool,
) -> Result<Function, CompileError> {
    let mut func = tm_frontend::lower_with(src, args, &tm_frontend::LowerOptions { debug })?;
    verify(&func, "the frontend")?;
    tm_tile::passes::run_default_pipeline(&mut func);
    verify(&func, "optimization")?;
    Ok(func)
}

/// Source to code for `target`.
pub fn compile(
    src: &FunctionSource,
    args: &[ArgSpec],
    options: &Options,
    target: &Target,
) -> Result<Compiled, CompileError> {
    let tile = compile_tile_with(src, args, options.debug)?;
    lower_tile(tile, options, target)
}

/// Tile IR to code for `target` (also used by the CLI on parsed Tile IR text).
pub fn lower_tile(
    tile: Function,
    options: &Options,
    target: &Target,
) -> Result<Compiled, CompileError> {
    if !options.num_warps.is_power_of_two() || options.num_warps > 32 {
        return Err(CompileError::general(format!(
            "num_warps must be a power of two between 1 and 32, got {}",
            options.num_warps
        )));
    }
    let mut kernel = if options.debug {
        tm_simt::lower(&tile, target, options.num_warps)
    } else {
        tm_simt::lower(&without_asserts(&tile), target, options.num_warps)
    }
    .map_err(|e| e.to_compile_error(&tile))?;
    if options.may_alias {
        // Argument buffers come first in `Kernel::buffers`, in ABI order.
        for (b, a) in kernel.buffers.iter_mut().zip(kernel.abi.buffers.iter_mut()) {
            b.writes = true;
            a.writes = true;
        }
    }
    let code = match target.dialect {
        Dialect::Msl => tm_printers::print_msl(&kernel),
        Dialect::Wgsl => tm_printers::print_wgsl(&kernel),
    }
    .map_err(|e| CompileError::general(e.to_string()))?;
    Ok(Compiled {
        name: tile.name.clone(),
        tile_text: tm_tile::print(&tile),
        simt_text: tm_simt::print(&kernel),
        code,
        dialect: target.dialect,
        abi: kernel.abi.clone(),
        tile,
    })
}

/// `f` without its device asserts: what GPUs run outside debug mode. The interpreter and
/// the Tile IR text keep them.
fn without_asserts(f: &Function) -> Function {
    let mut f = f.clone();
    let asserts: std::collections::HashSet<tm_tile::OpId> = f
        .ops
        .iter()
        .filter(|(_, op)| matches!(op.kind, tm_tile::OpKind::Assert { .. }))
        .map(|(id, _)| id)
        .collect();
    if !asserts.is_empty() {
        let blocks: Vec<tm_tile::BlockId> = f.blocks.iter().map(|(b, _)| b).collect();
        for b in blocks {
            f.blocks[b].ops.retain(|op| !asserts.contains(op));
        }
    }
    f
}

/// A failed internal check is a compiler bug; it is still reported, never a panic.
fn verify(func: &Function, after: &str) -> Result<(), CompileError> {
    tm_tile::verify(func).map_err(|e| {
        CompileError::general(format!(
            "internal compiler error: invalid Tile IR after {after}: {e}"
        ))
    })
}
