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

use std::collections::BTreeMap;
use std::sync::Mutex;

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
    type Key = (String, String, u32, String);
    // The Python layer asks again for every kernel that calls a helper: answers are kept
    // (a bounded number; the whole memo is dropped when full).
    static MEMO: Mutex<BTreeMap<Key, Vec<String>>> = Mutex::new(BTreeMap::new());
    const MEMO_ENTRIES: usize = 4096;
    let key = (
        file.path.clone(),
        file.text.clone(),
        file.first_line,
        fn_name.to_string(),
    );
    if let Some(names) = MEMO.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(names);
    }
    let names = on_big_stack(|| names::free_names(file, fn_name))?;
    if let Ok(mut m) = MEMO.lock() {
        if m.len() >= MEMO_ENTRIES {
            m.clear();
        }
        m.insert(key, names.clone());
    }
    Ok(names)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_names_are_remembered_per_source_and_function() {
        let a = SourceFile::new("m.py", "def f(x):\n    return g(x) + C\n", 3);
        let first = free_names(&a, "f").unwrap();
        assert_eq!(first, ["C", "g"]);
        assert_eq!(free_names(&a, "f").unwrap(), first);
        // Another text under the same path and name is another entry.
        let b = SourceFile::new("m.py", "def f(x):\n    return h(x)\n", 3);
        assert_eq!(free_names(&b, "f").unwrap(), ["h"]);
        // Errors are not remembered as answers.
        assert!(free_names(&a, "nope").is_err());
        assert!(free_names(&a, "nope").is_err());
    }
}
