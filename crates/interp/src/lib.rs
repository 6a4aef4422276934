//! Interpreter of Tile IR with Triton's semantics and exact memory checking.
//!
//! Program instances run one after another (program id x fastest, then y, then z). Every op
//! works on a whole tile at once: a value is a dense array of one element type (see
//! [`value`]), so the cost per op is one dispatch on the element type plus a tight loop.
//!
//! Semantics chosen where Triton leaves the hardware to decide (documented so the compiled
//! backends can be checked against them):
//! - integer `x / 0` is all ones (-1 signed), `x % 0` is `x` (NVIDIA's PTX results);
//! - shifts by the width or more give 0, or the sign fill for arithmetic right shifts;
//! - masked-off loads without `other` read 0;
//! - float→int conversion truncates toward zero and saturates, NaN → 0;
//! - f16/bf16 arithmetic is done in f32 and rounded to nearest even;
//! - `dot` multiplies in full f32 (no tf32 rounding) and accumulates in f32.

mod arith;
mod dot;
mod elementwise;
pub mod error;
mod exec;
mod memory;
mod reduce;
mod shape;
pub mod value;

#[cfg(feature = "gen")]
pub mod gen;

use tm_core::ScalarType;
use tm_tile::{Elem, Function};

pub use error::InterpError;
pub use value::ScalarValue;

use exec::Exec;
use memory::Memory;
use value::{Data, Ptr, Tile};

/// One kernel argument, in the order of the Python call (constexprs included).
#[derive(Debug)]
pub enum ArgValue<'a> {
    /// A device buffer as bytes (little-endian elements of `elem`).
    Buffer {
        data: &'a mut [u8],
        elem: ScalarType,
    },
    /// The buffer of an earlier argument (by index), passed again: the program sees one
    /// memory through both parameters, as a GPU does when one array is bound twice. The
    /// element type is this parameter's pointee; the shared bytes must hold whole elements.
    SameBufferAs(usize),
    Scalar(ScalarValue),
    /// An argument the kernel was specialized on (a constexpr, an integer equal to 1): it
    /// has no parameter.
    Absent,
}

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Also write `device_print` lines to stdout (they are always in the report).
    pub echo_prints: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { echo_prints: true }
    }
}

#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// Every `device_print` line, in execution order.
    pub prints: Vec<String>,
    /// Program instances run.
    pub programs: u64,
}

/// Runs `f` over `grid`, reading and writing the buffers in `args`. An array passed to
/// several pointer parameters is given once as `Buffer` and then as `SameBufferAs`: giving
/// two copies instead would let each parameter see only its own writes.
// The error is returned by value: the public contract names `InterpError` itself, and one
// error per run costs nothing.
#[allow(clippy::result_large_err)]
pub fn run(
    f: &Function,
    grid: [u32; 3],
    args: &mut [ArgValue<'_>],
    opts: &RunOptions,
) -> Result<RunReport, InterpError> {
    let arg_err = |reason: String| InterpError::Arguments {
        kernel: f.name.clone(),
        reason,
    };
    let roots = buffer_roots(args).map_err(arg_err)?;
    // Pointers name their buffer by the index of the argument that holds its bytes, so
    // aliases compare equal and share memory; every parameter gets its initial value.
    let mut names = vec![String::new(); args.len()];
    let mut initial: Vec<(tm_tile::ValueId, Tile)> = Vec::new();
    for p in &f.params {
        let i = p.arg_index as usize;
        let ty = f.ty(p.value);
        let arg = args.get(i).ok_or_else(|| {
            arg_err(format!(
                "parameter `{}` is argument {i}, but {} arguments were given",
                p.name,
                args.len()
            ))
        })?;
        if ty.is_tensor() {
            return Err(arg_err(format!(
                "parameter `{}` has tensor type {ty}",
                p.name
            )));
        }
        let tile = match (ty.elem, arg) {
            (Elem::Ptr(pointee), ArgValue::Buffer { .. } | ArgValue::SameBufferAs(_)) => {
                let root = roots[i].unwrap_or(i);
                let (len, elem) = match &args[root] {
                    ArgValue::Buffer { data, elem } => (data.len(), *elem),
                    _ => (0, pointee),
                };
                if root == i && elem.size_bytes() != pointee.size_bytes() {
                    return Err(arg_err(format!(
                        "parameter `{}` points to {pointee}, given a buffer of {elem}",
                        p.name
                    )));
                }
                if len % pointee.size_bytes() as usize != 0 {
                    let shared = if root == i {
                        String::new()
                    } else {
                        format!(" (shared with argument {root})")
                    };
                    return Err(arg_err(format!(
                        "buffer for `{}`{shared} is not a whole number of {pointee} elements",
                        p.name
                    )));
                }
                names[i] = p.name.clone();
                Tile::new(
                    vec![],
                    ty.elem,
                    Data::Ptr(vec![Ptr {
                        buf: root as u32,
                        param: i as u32,
                        off: 0,
                    }]),
                )
            }
            (Elem::Scalar(st), ArgValue::Scalar(s)) => {
                // Python ints arrive as i64 and floats as f64: convert to the parameter type.
                let data = elementwise::cast(&s.to_data(), st).map_err(arg_err)?;
                Tile::new(vec![], ty.elem, data)
            }
            (_, other) => {
                return Err(arg_err(format!(
                    "parameter `{}` of type {ty} cannot take {}",
                    p.name,
                    match other {
                        ArgValue::Buffer { .. } | ArgValue::SameBufferAs(_) => "a buffer",
                        ArgValue::Scalar(_) => "a scalar",
                        ArgValue::Absent => "an absent (specialized) argument",
                    }
                )))
            }
        };
        initial.push((p.value, tile));
    }
    let bufs = args
        .iter_mut()
        .map(|a| match a {
            ArgValue::Buffer { data, .. } => Some(&mut **data),
            _ => None,
        })
        .collect();
    let mut ex = Exec::new(f, Memory { bufs }, grid);
    ex.echo = opts.echo_prints;
    ex.buffer_names = names;
    for (v, t) in initial {
        ex.bind(v, t);
    }
    let mut programs = 0u64;
    for z in 0..grid[2] {
        for y in 0..grid[1] {
            for x in 0..grid[0] {
                ex.run_program([x, y, z]).map_err(|e| *e)?;
                programs += 1;
            }
        }
    }
    Ok(RunReport {
        prints: std::mem::take(&mut ex.prints),
        programs,
    })
}

/// For each argument, the index of the `Buffer` argument holding its bytes when it is a
/// `SameBufferAs` (chains resolved), or why the reference is invalid.
fn buffer_roots(args: &[ArgValue<'_>]) -> Result<Vec<Option<usize>>, String> {
    let mut roots: Vec<Option<usize>> = vec![None; args.len()];
    for (i, a) in args.iter().enumerate() {
        if let ArgValue::SameBufferAs(j) = *a {
            // Only earlier arguments: references then cannot form a cycle.
            let root = match args.get(j) {
                _ if j >= i => None,
                Some(ArgValue::Buffer { .. }) => Some(j),
                Some(ArgValue::SameBufferAs(_)) => roots[j],
                _ => None,
            };
            roots[i] = Some(root.ok_or_else(|| {
                format!("argument {i} shares the buffer of argument {j}, which is not an earlier buffer argument")
            })?);
        }
    }
    Ok(roots)
}
