//! Frontend: Triton-language Python source to Tile IR. It knows Python syntax and Triton's
//! language semantics, nothing of threads.
//!
//! - [`free_names`]: the globals a kernel reads, for the Python layer to resolve.
//! - [`lower`]: specialize a kernel on its call signature and lower it to Tile IR.

pub mod api;
mod depth;
mod lower;
mod names;
mod source;
pub mod stdlib;
mod values;

pub use api::{ArgSpec, Binding, ConstValue, Fp8, FunctionSource, Globals, ModuleKind};

use tm_core::{CompileError, SourceFile};

/// Stack for the compiler's recursive walks: deep (but legal) sources must not overflow the
/// caller's stack, whatever thread it is on.
const STACK_BYTES: usize = 64 << 20;

/// Run `f` on a thread with a large stack; a panic in it comes back as an error.
fn on_big_stack<T: Send>(
    f: impl FnOnce() -> Result<T, CompileError> + Send,
) -> Result<T, CompileError> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("tm-frontend".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(s, f);
        match handle {
            Ok(h) => h.join().unwrap_or_else(|_| {
                Err(CompileError::general(
                    "internal compiler error: the frontend panicked",
                ))
            }),
            Err(_) => Err(CompileError::general(
                "internal compiler error: could not start the frontend thread",
            )),
        }
    })
}

/// The names `def fn_name` reads that are not its parameters, locals or Python builtins,
/// sorted. `file.text` may be indented and carry decorators (`inspect.getsource`).
pub fn free_names(file: &SourceFile, fn_name: &str) -> Result<Vec<String>, CompileError> {
    on_big_stack(|| names::free_names(file, fn_name))
}

/// Specialize `kernel` on the call signature `args` (one per argument of the call,
/// constexprs included) and lower it to Tile IR.
pub fn lower(kernel: &FunctionSource, args: &[ArgSpec]) -> Result<tm_tile::Function, CompileError> {
    on_big_stack(|| lower::lower(kernel, args, false))
}

/// Options of [`lower_with`].
#[derive(Clone, Debug, Default)]
pub struct LowerOptions {
    /// Triton's debug mode (`TRITON_DEBUG`, `@jit(debug=True)`): Python `assert`
    /// statements in kernels become device asserts; without it they are ignored.
    pub debug: bool,
}

/// [`lower`] with options.
pub fn lower_with(
    kernel: &FunctionSource,
    args: &[ArgSpec],
    opts: &LowerOptions,
) -> Result<tm_tile::Function, CompileError> {
    on_big_stack(|| lower::lower(kernel, args, opts.debug))
}
