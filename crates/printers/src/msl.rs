//! SIMT IR → Metal Shading Language 3.0.
//!
//! What maps to what:
//! - Kernel → `kernel void NAME(constant uchar *tm_scalars [[buffer(0)]], <buffers>,
//!   uint3 tm_group [[threadgroup_position_in_grid]], uint tm_tid
//!   [[thread_index_in_threadgroup]])` (docs/CONVENTIONS.md). Buffer i is `b<i>` at
//!   `[[buffer(i+1)]]`, `device const T *` unless written or atomic.
//! - Locals → C variables declared at the top of the body (`v<i>` or `v<i>_<name>`).
//!   Threadgroup arrays → `threadgroup T s<i>[len];` in the body, never kernel arguments.
//! - Scalar arguments → `*(constant T *)(tm_scalars + offset)`; header words →
//!   `((constant uint *)tm_scalars)[i]`.
//! - Types: i1 `bool` (stored in buffers as `uchar`), i8..u64 `char`..`ulong`, f16 `half`,
//!   f32 `float`, bf16 `ushort` holding the bits (converted to and from float by the
//!   `tm_bf16_to_f32` / `tm_f32_to_bf16` helpers, round to nearest even; arithmetic on bf16
//!   happens in float and rounds once). Vectors of 2..4 lanes → `float4` etc.
//! - Elementwise expressions on vectors are printed lane by lane
//!   (`float4(f(a.x, b.x), ...)`) so that every guard below holds per lane.
//! - Vector loads/stores of device memory → one `*(device T4 *)(b + i)` access; of
//!   threadgroup memory and of i1 data → one access per lane.
//! - Math → `metal::` functions; `sqrt_rn`, `div_rn` and float `%` → `metal::precise::`;
//!   erf → the `tm_erf` helper (Metal has none). Simd ops → `metal::simd_*`. Atomics →
//!   `metal::atomic_*_explicit` with `memory_order_relaxed` on a cast to `device`/
//!   `threadgroup atomic_int/atomic_uint/atomic_float *`; compare-and-swap loops on the
//!   weak exchange until it succeeds or sees another value, so it acts as a strong CAS.
//!   `Space::DeviceWords` (the words of 64-bit data, for lowering's lock-based 64-bit
//!   atomics) → `(device atomic_uint *)((device uint *)b + word)`.
//! - Barrier → `metal::threadgroup_barrier(mem_flags::mem_threadgroup | mem_flags::mem_device)`;
//!   SharedBarrier → `metal::threadgroup_barrier(mem_flags::mem_threadgroup)`.
//! - Simdgroup matrices → `simdgroup_float8x8` / `simdgroup_half8x8 tm_m<i>;` declared with
//!   the locals; `simdgroup_load` / `simdgroup_store` from threadgroup arrays with a row
//!   stride, `simdgroup_multiply_accumulate`.
//!
//! Integer semantics (Triton's, and the same choices as the WGSL printer): add, sub, mul
//! and neg wrap (computed in `uint`/`ulong`, so no C++ signed overflow); `x / 0` is all ones, `x % 0 == x` (NVIDIA's results, as the interpreter),
//! `MIN / -1 == MIN`, `MIN % -1 == 0`; `x << n` and unsigned `x >> n` give 0
//! for `n >= width` (n read as unsigned), signed `x >> n` gives the sign fill. Float → int
//! conversion saturates and maps NaN to 0 (what Metal does, and defined in C++), through
//! `tm_cvt_<type>` helpers. Every library name printed is listed in `MSL_LIBRARY`.
//!
//! Refused (`PrintError`): f64 anywhere; more than 30 buffers (31 with the scalar buffer);
//! 8-, 16- and 64-bit atomic instructions (Metal has none that return the old value;
//! lowering emulates 64-bit ones) and float atomics other than add/exchange; float CAS;
//! simd reductions on 64-bit values; integer-only operations on floats and vice versa.

use std::collections::BTreeSet;
use std::fmt::Write;

use tm_core::{Dialect, ScalarType};
use tm_simt::ir::Literal;
use tm_simt::{Builtin, Expr, Kernel, Operand, SType, SimdOp, Space, Stmt};
use tm_tile::{AtomicOp, BinaryOp, CmpPred, UnaryOp};

use crate::literal::{bf16_bits, f16_bits, f32_decimal, f64_decimal, int_value, round_f16};
use crate::types::{self, check_lanes, no_f64, operand_type, LANES};
use crate::{names, PrintError};

/// Metal allows 31 buffer arguments; the packed scalar buffer takes one.
const MAX_BUFFER_ARGS: usize = 31;

pub fn print_msl(k: &Kernel) -> Result<String, PrintError> {
    names::check_entry(&k.abi.entry, Dialect::Msl.reserved_words())?;
    if k.buffers.len() + 1 > MAX_BUFFER_ARGS {
        return Err(PrintError::TooManyBuffers {
            buffers: k.buffers.len(),
            max: MAX_BUFFER_ARGS,
        });
    }
    let mut p = Msl {
        k,
        out: String::new(),
        depth: 1,
        helpers: Helpers::default(),
    };
    p.declarations()?;
    p.block(&k.body)?;
    p.finish()
}

#[derive(Default)]
struct Helpers {
    bf16: bool,
    erf: bool,
    /// Float → int conversions, by destination type.
    cvt: BTreeSet<ScalarType>,
}

struct Msl<'k> {
    k: &'k Kernel,
    out: String,
    depth: usize,
    helpers: Helpers,
}

/// An operand printed as text, with its type.
struct Val {
    text: String,
    ty: SType,
}

impl Val {
    fn lane(&self, i: usize) -> String {
        if self.ty.lanes > 1 {
            format!("{}.{}", self.text, LANES[i])
        } else {
            self.text.clone()
        }
    }
}

fn scalar_type(s: ScalarType) -> Result<&'static str, PrintError> {
    Ok(match s {
        ScalarType::I1 => "bool",
        ScalarType::I8 => "char",
        ScalarType::U8 => "uchar",
        ScalarType::I16 => "short",
        ScalarType::U16 => "ushort",
        ScalarType::I32 => "int",
        ScalarType::U32 => "uint",
        ScalarType::I64 => "long",
        ScalarType::U64 => "ulong",
        ScalarType::F16 => "half",
        ScalarType::BF16 => "ushort",
        ScalarType::F32 => "float",
        ScalarType::F64 => return no_f64(s).map(|()| "double"),
    })
}

/// Element type of a buffer as declared: i1 is stored as bytes.
fn memory_type(s: ScalarType) -> Result<&'static str, PrintError> {
    if s == ScalarType::I1 {
        Ok("uchar")
    } else {
        scalar_type(s)
    }
}

fn vector_type(t: SType) -> Result<String, PrintError> {
    check_lanes(t)?;
    let s = scalar_type(t.scalar)?;
    Ok(if t.lanes == 1 {
        s.to_string()
    } else {
        format!("{s}{}", t.lanes)
    })
}

/// The type wrapping arithmetic of `t` is computed in.
fn wide_unsigned(t: ScalarType) -> &'static str {
    if t.bits() > 32 {
        "ulong"
    } else {
        "uint"
    }
}

fn const_text(lit: Literal, t: ScalarType) -> Result<String, PrintError> {
    no_f64(t)?;
    if t.is_float() {
        let v = match lit {
            Literal::Int(i) => i as f64,
            Literal::Float(f) => f,
        };
        return Ok(match t {
            ScalarType::F32 => float_text(v as f32),
            ScalarType::F16 => {
                let r = round_f16(v);
                if r.is_finite() {
                    let s = f64_decimal(r);
                    format!("half({s}f)")
                } else {
                    format!("as_type<half>(ushort(0x{:04x}))", f16_bits(v))
                }
            }
            _ => format!("ushort(0x{:04x})", bf16_bits(v)),
        });
    }
    let v = match lit {
        Literal::Int(i) => int_value(i, t),
        // A float literal of integer type: truncated and saturated, as a cast would.
        Literal::Float(f) => int_value(f as i64, t),
    };
    Ok(match t {
        ScalarType::I1 => if v != 0 { "true" } else { "false" }.to_string(),
        ScalarType::I32 if v == i32::MIN as i128 => "(-2147483647 - 1)".to_string(),
        ScalarType::I32 if v < 0 => format!("({v})"),
        ScalarType::I32 => format!("{v}"),
        ScalarType::U32 => format!("{v}u"),
        ScalarType::I64 if v == i64::MIN as i128 => {
            "(long(-9223372036854775807) - long(1))".to_string()
        }
        ScalarType::U64 => format!("{v}ul"),
        other => format!("{}({v})", scalar_type(other)?),
    })
}

fn float_text(v: f32) -> String {
    if v.is_finite() {
        let s = format!("{}f", f32_decimal(v));
        if v.is_sign_negative() {
            format!("({s})")
        } else {
            s
        }
    } else {
        format!("as_type<float>(0x{:08x}u)", v.to_bits())
    }
}

impl<'k> Msl<'k> {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn declarations(&mut self) -> Result<(), PrintError> {
        for (h, l) in self.k.locals.iter() {
            if l.ty.scalar == ScalarType::BF16 {
                self.helpers.bf16 = true;
            }
            let decl = format!("{} {};", vector_type(l.ty)?, names::local(self.k, h)?);
            self.line(&decl);
        }
        for (i, s) in self.k.shared.iter().enumerate() {
            if s.elem == ScalarType::BF16 {
                self.helpers.bf16 = true;
            }
            let decl = format!(
                "threadgroup {} {}[{}];",
                scalar_type(s.elem)?,
                names::shared(i),
                s.len.max(1)
            );
            self.line(&decl);
        }
        for (i, &t) in self.k.matrices.iter().enumerate() {
            let ty = match t {
                ScalarType::F32 => "simdgroup_float8x8",
                ScalarType::F16 => "simdgroup_half8x8",
                other => {
                    return Err(PrintError::unsupported(format!(
                        "simdgroup matrices of {other}"
                    )))
                }
            };
            self.line(&format!("{ty} tm_m{i};"));
        }
        Ok(())
    }

    /// `&s3[offset]` for a matrix load or store, checking the matrix exists and its
    /// element type is the array's.
    fn matrix_ptr(&mut self, mat: u32, arr: u32, offset: &Operand) -> Result<String, PrintError> {
        let m = self
            .k
            .matrices
            .get(mat as usize)
            .copied()
            .ok_or_else(|| PrintError::malformed("no such simdgroup matrix"))?;
        let a = types::shared(self.k, arr)?;
        if a.elem != m {
            return Err(PrintError::malformed(
                "simdgroup matrix and threadgroup array types differ",
            ));
        }
        let i = self.index(offset)?;
        Ok(format!("&{}[{i}]", names::shared(arr as usize)))
    }

    fn finish(self) -> Result<String, PrintError> {
        let k = self.k;
        let mut o = String::new();
        o.push_str("#include <metal_stdlib>\n");
        // Metal compiles with fast math unless told otherwise (wgpu's passthrough sets no
        // options): NaN and inf checks may be folded and sums reassociated, which Triton's
        // semantics (and the emulator, built with one rounding per operation) do not allow.
        // Metal 3.2 lets the source ask for IEEE arithmetic; older compilers keep their
        // default, a limit the README states.
        o.push_str("#if __METAL_VERSION__ >= 320\n#pragma METAL fp math_mode(safe)\n#endif\n");
        o.push_str("using namespace metal;\n\n");
        helper_text(&self.helpers, &mut o);
        let _ = writeln!(o, "kernel void {}(", k.abi.entry);
        o.push_str("    constant uchar *tm_scalars [[buffer(0)]],\n");
        for (i, b) in k.buffers.iter().enumerate() {
            let konst = if b.writes || b.atomic { "" } else { "const " };
            let _ = writeln!(
                o,
                "    device {konst}{} *{} [[buffer({})]], // {}",
                memory_type(b.elem)?,
                names::buffer(i),
                i + 1,
                comment_safe(&b.name)
            );
        }
        o.push_str("    uint3 tm_group [[threadgroup_position_in_grid]],\n");
        o.push_str("    uint tm_tid [[thread_index_in_threadgroup]])\n{\n");
        o.push_str(&self.out);
        o.push_str("}\n");
        Ok(o)
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<(), PrintError> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn nested(&mut self, stmts: &[Stmt]) -> Result<(), PrintError> {
        self.depth += 1;
        let r = self.block(stmts);
        self.depth -= 1;
        r
    }

    fn val(&mut self, op: &Operand) -> Result<Val, PrintError> {
        let ty = operand_type(self.k, op)?;
        check_lanes(ty)?;
        if ty.scalar == ScalarType::BF16 {
            self.helpers.bf16 = true;
        }
        let text = match op {
            Operand::Local(id) => names::local(self.k, *id)?,
            Operand::Const(lit, t) => const_text(*lit, *t)?,
        };
        Ok(Val { text, ty })
    }

    /// A scalar integer operand (an index, a shuffle lane), any integer type.
    fn index(&mut self, op: &Operand) -> Result<String, PrintError> {
        let v = self.val(op)?;
        if v.ty.lanes != 1 || !v.ty.scalar.is_int() || v.ty.scalar == ScalarType::I1 {
            return Err(PrintError::malformed(
                "index operands must be scalar integers",
            ));
        }
        Ok(v.text)
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), PrintError> {
        match s {
            Stmt::Assign { dst, expr } => {
                let dst_ty = operand_type(self.k, &Operand::Local(*dst))?;
                let e = self.expr(expr, dst_ty)?;
                let line = format!("{} = {e};", names::local(self.k, *dst)?);
                self.line(&line);
            }
            Stmt::Store { buf, index, value } => {
                let b = types::buffer(self.k, *buf)?;
                let (elem, name) = (b.elem, names::buffer(*buf as usize));
                let i = self.index(index)?;
                let v = self.val(value)?;
                if v.ty.scalar != elem {
                    return Err(PrintError::malformed(format!(
                        "store of {} into a buffer of {}",
                        v.ty.scalar, elem
                    )));
                }
                if elem == ScalarType::I1 {
                    for l in 0..v.ty.lanes as usize {
                        let line = format!("{name}[{}] = uchar({});", offset(&i, l), v.lane(l));
                        self.line(&line);
                    }
                } else if v.ty.lanes == 1 {
                    let line = format!("{name}[{i}] = {};", v.text);
                    self.line(&line);
                } else {
                    let line = format!(
                        "*(device {} *)({name} + {i}) = {};",
                        vector_type(v.ty)?,
                        v.text
                    );
                    self.line(&line);
                }
            }
            Stmt::SharedStore { arr, index, value } => {
                let elem = types::shared(self.k, *arr)?.elem;
                let name = names::shared(*arr as usize);
                let i = self.index(index)?;
                let v = self.val(value)?;
                if v.ty.scalar != elem {
                    return Err(PrintError::malformed(format!(
                        "store of {} into a threadgroup array of {}",
                        v.ty.scalar, elem
                    )));
                }
                for l in 0..v.ty.lanes as usize {
                    let line = format!("{name}[{}] = {};", offset(&i, l), v.lane(l));
                    self.line(&line);
                }
            }
            Stmt::AtomicRmw {
                dst,
                op,
                space,
                array,
                index,
                value,
            } => {
                let (ptr, elem) = self.atomic_target(*space, *array, index)?;
                let v = self.val(value)?;
                if v.ty != SType::scalar(elem) {
                    return Err(PrintError::malformed(
                        "atomic value type differs from memory",
                    ));
                }
                let f = match (op, elem.is_float()) {
                    (AtomicOp::Add, _) => "atomic_fetch_add_explicit",
                    (AtomicOp::Xchg, _) => "atomic_exchange_explicit",
                    (AtomicOp::Max, false) => "atomic_fetch_max_explicit",
                    (AtomicOp::Min, false) => "atomic_fetch_min_explicit",
                    (AtomicOp::And, false) => "atomic_fetch_and_explicit",
                    (AtomicOp::Or, false) => "atomic_fetch_or_explicit",
                    (AtomicOp::Xor, false) => "atomic_fetch_xor_explicit",
                    (other, true) => {
                        return Err(PrintError::unsupported(format!(
                        "atomic {other} on floats (Metal has float atomic add and exchange only)"
                    )))
                    }
                };
                let call = format!("metal::{f}({ptr}, {}, memory_order_relaxed)", v.text);
                let line = match dst {
                    Some(d) => format!("{} = {call};", names::local(self.k, *d)?),
                    None => format!("{call};"),
                };
                self.line(&line);
            }
            Stmt::AtomicCas {
                dst,
                space,
                array,
                index,
                cmp,
                value,
            } => {
                let (ptr, elem) = self.atomic_target(*space, *array, index)?;
                if elem.is_float() {
                    return Err(PrintError::unsupported(
                        "atomic compare-and-swap on floats (bitcast to an integer first)",
                    ));
                }
                let c = self.val(cmp)?;
                let v = self.val(value)?;
                if c.ty != SType::scalar(elem) || v.ty != SType::scalar(elem) {
                    return Err(PrintError::malformed(
                        "atomic operand type differs from memory",
                    ));
                }
                let t = scalar_type(elem)?;
                let d = names::local(self.k, *dst)?;
                // Metal only has the weak exchange: retry while it failed spuriously
                // (the value seen still equals `cmp`), so the result is a strong CAS.
                self.line("{");
                self.depth += 1;
                self.line(&format!("{t} tm_seen = {};", c.text));
                self.line(&format!(
                    "while (!metal::atomic_compare_exchange_weak_explicit({ptr}, &tm_seen, {}, memory_order_relaxed, memory_order_relaxed) && tm_seen == {}) {{}}",
                    v.text, c.text
                ));
                self.line(&format!("{d} = tm_seen;"));
                self.depth -= 1;
                self.line("}");
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let c = self.val(cond)?;
                if c.ty != SType::scalar(ScalarType::I1) {
                    return Err(PrintError::malformed("if condition must be a scalar i1"));
                }
                self.line(&format!("if ({}) {{", c.text));
                self.nested(then_body)?;
                if else_body.is_empty() {
                    self.line("}");
                } else {
                    self.line("} else {");
                    self.nested(else_body)?;
                    self.line("}");
                }
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let ty = operand_type(self.k, &Operand::Local(*var))?;
                if ty.lanes != 1 || !ty.scalar.is_int() || ty.scalar == ScalarType::I1 {
                    return Err(PrintError::malformed(
                        "for loop variable must be a scalar integer",
                    ));
                }
                let v = names::local(self.k, *var)?;
                let (s, e, st) = (self.val(start)?, self.val(end)?, self.val(step)?);
                let next = self.wrapping(BinaryOp::Add, ty.scalar, &v, &st.text);
                self.line(&format!(
                    "for ({v} = {}; {v} < {}; {v} = {next}) {{",
                    s.text, e.text
                ));
                self.nested(body)?;
                self.line("}");
            }
            Stmt::Loop { body } => {
                self.line("while (true) {");
                self.nested(body)?;
                self.line("}");
            }
            Stmt::Break => self.line("break;"),
            Stmt::Barrier => self.line(
                "metal::threadgroup_barrier(mem_flags::mem_threadgroup | mem_flags::mem_device);",
            ),
            Stmt::SharedBarrier => {
                self.line("metal::threadgroup_barrier(mem_flags::mem_threadgroup);")
            }
            Stmt::Fence { scope, divergent } => {
                for l in crate::fence::msl_fence(*scope, *divergent) {
                    self.line(&l);
                }
            }
            Stmt::Return => self.line("return;"),
            Stmt::MatrixLoad {
                mat,
                arr,
                offset,
                stride,
            } => {
                let p = self.matrix_ptr(*mat, *arr, offset)?;
                self.line(&format!("metal::simdgroup_load(tm_m{mat}, {p}, {stride});"));
            }
            Stmt::MatrixStore {
                mat,
                arr,
                offset,
                stride,
            } => {
                let p = self.matrix_ptr(*mat, *arr, offset)?;
                self.line(&format!(
                    "metal::simdgroup_store(tm_m{mat}, {p}, {stride});"
                ));
            }
            Stmt::MatrixMulAcc { d, a, b, c } => {
                let n = self.k.matrices.len() as u32;
                if [d, a, b, c].iter().any(|&&m| m >= n) {
                    return Err(PrintError::malformed("no such simdgroup matrix"));
                }
                self.line(&format!(
                    "metal::simdgroup_multiply_accumulate(tm_m{d}, tm_m{a}, tm_m{b}, tm_m{c});"
                ));
            }
        }
        Ok(())
    }

    /// `(device atomic_int *)&b0[i]` and the element type, or a refusal.
    fn atomic_target(
        &mut self,
        space: Space,
        array: u32,
        index: &Operand,
    ) -> Result<(String, ScalarType), PrintError> {
        let (elem, name, space_kw) = match space {
            Space::DeviceWords => {
                let elem = types::buffer(self.k, array)?.elem;
                if elem.bits() != 64 {
                    return Err(PrintError::malformed(format!(
                        "word atomics on a buffer of {elem}, not 64-bit data"
                    )));
                }
                let name = names::buffer(array as usize);
                let i = self.index(index)?;
                let ptr = format!("(device atomic_uint *)((device uint *){name} + {i})");
                return Ok((ptr, ScalarType::U32));
            }
            Space::Device => (
                types::buffer(self.k, array)?.elem,
                names::buffer(array as usize),
                "device",
            ),
            Space::Threadgroup => (
                types::shared(self.k, array)?.elem,
                names::shared(array as usize),
                "threadgroup",
            ),
        };
        let atomic = match elem {
            ScalarType::I32 => "atomic_int",
            ScalarType::U32 => "atomic_uint",
            ScalarType::F32 => "atomic_float",
            other => {
                return Err(PrintError::unsupported(format!(
                    "atomics on {other} (Metal 3.0 has 32-bit atomics only)"
                )))
            }
        };
        let i = self.index(index)?;
        Ok((format!("({space_kw} {atomic} *)&{name}[{i}]"), elem))
    }

    fn expr(&mut self, e: &Expr, dst: SType) -> Result<String, PrintError> {
        check_lanes(dst)?;
        match e {
            Expr::Operand(op) => Ok(self.val(op)?.text),
            Expr::Builtin(Builtin::ThreadIndex) => Ok("tm_tid".into()),
            Expr::Builtin(Builtin::GroupId(axis)) => match axis {
                0..=2 => Ok(format!("tm_group.{}", LANES[*axis as usize])),
                _ => Err(PrintError::malformed(format!("group id axis {axis}"))),
            },
            Expr::ScalarArg(i) => {
                let p = types::scalar(self.k, *i)?;
                if p.ty == ScalarType::I1 {
                    Ok(format!(
                        "(*(constant uchar *)(tm_scalars + {}) != 0)",
                        p.offset
                    ))
                } else {
                    Ok(format!(
                        "*(constant {} *)(tm_scalars + {})",
                        scalar_type(p.ty)?,
                        p.offset
                    ))
                }
            }
            Expr::GridHeader(w) => match w {
                0..=3 => Ok(format!("((constant uint *)tm_scalars)[{w}]")),
                _ => Err(PrintError::malformed(format!("grid header word {w}"))),
            },
            Expr::Unary(op, a) => {
                let a = self.val(a)?;
                self.lanewise(dst, &[&a], |p, x| p.unary(*op, a.ty.scalar, &x[0]))
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.val(a)?, self.val(b)?);
                let const_b = const_int(e, 1);
                self.lanewise(dst, &[&a, &b], |p, x| {
                    p.binary(*op, a.ty.scalar, &x[0], &x[1], const_b)
                })
            }
            Expr::Cmp(pred, a, b) => {
                let (a, b) = (self.val(a)?, self.val(b)?);
                self.lanewise(dst, &[&a, &b], |p, x| {
                    p.cmp(*pred, a.ty.scalar, &x[0], &x[1])
                })
            }
            Expr::Select(c, a, b) => {
                let (c, a, b) = (self.val(c)?, self.val(a)?, self.val(b)?);
                self.lanewise(dst, &[&c, &a, &b], |_, x| {
                    Ok(format!("({} ? {} : {})", x[0], x[1], x[2]))
                })
            }
            // MSL's fma rounds once (Metal Shading Language spec, "Math Functions").
            Expr::Fma(a, b, c) | Expr::MulAdd(a, b, c) => {
                let (a, b, c) = (self.val(a)?, self.val(b)?, self.val(c)?);
                let t = a.ty.scalar;
                self.lanewise(dst, &[&a, &b, &c], |p, x| match t {
                    ScalarType::F32 | ScalarType::F16 => {
                        Ok(format!("metal::fma({}, {}, {})", x[0], x[1], x[2]))
                    }
                    ScalarType::BF16 => Ok(format!(
                        "tm_f32_to_bf16(metal::fma({}, {}, {}))",
                        p.bf16_to_f32(&x[0]),
                        p.bf16_to_f32(&x[1]),
                        p.bf16_to_f32(&x[2])
                    )),
                    other => Err(PrintError::unsupported(format!("fma on {other}"))),
                })
            }
            Expr::Cast(a, to) => {
                let a = self.val(a)?;
                if to.lanes != dst.lanes {
                    return Err(PrintError::malformed(
                        "cast result lanes differ from destination",
                    ));
                }
                let from = a.ty.scalar;
                self.lanewise(*to, &[&a], |p, x| p.cast(&x[0], from, to.scalar))
            }
            Expr::Bitcast(a, to) => {
                let a = self.val(a)?;
                let from_bits = a.ty.scalar.bits() * a.ty.lanes as u32;
                let to_bits = to.scalar.bits() * to.lanes as u32;
                if from_bits != to_bits
                    || a.ty.scalar == ScalarType::I1
                    || to.scalar == ScalarType::I1
                {
                    return Err(PrintError::malformed(format!(
                        "bitcast from {} x{} to {} x{}",
                        a.ty.scalar, a.ty.lanes, to.scalar, to.lanes
                    )));
                }
                if to.scalar == ScalarType::BF16 {
                    self.helpers.bf16 = true;
                }
                Ok(format!("as_type<{}>({})", vector_type(*to)?, a.text))
            }
            Expr::Load { buf, index, lanes } => {
                let b = types::buffer(self.k, *buf)?;
                let elem = b.elem;
                let name = names::buffer(*buf as usize);
                let i = self.index(index)?;
                let t = SType::vector(elem, *lanes);
                check_lanes(t)?;
                if elem == ScalarType::BF16 {
                    self.helpers.bf16 = true;
                }
                if elem == ScalarType::I1 {
                    let parts: Vec<String> = (0..*lanes as usize)
                        .map(|l| format!("({name}[{}] != 0)", offset(&i, l)))
                        .collect();
                    Ok(join_lanes(&vector_type(t)?, &parts))
                } else if *lanes == 1 {
                    Ok(format!("{name}[{i}]"))
                } else {
                    Ok(format!(
                        "*(device const {} *)({name} + {i})",
                        vector_type(t)?
                    ))
                }
            }
            Expr::SharedLoad { arr, index, lanes } => {
                let elem = types::shared(self.k, *arr)?.elem;
                let name = names::shared(*arr as usize);
                let i = self.index(index)?;
                let t = SType::vector(elem, *lanes);
                check_lanes(t)?;
                let parts: Vec<String> = (0..*lanes as usize)
                    .map(|l| format!("{name}[{}]", offset(&i, l)))
                    .collect();
                Ok(join_lanes(&vector_type(t)?, &parts))
            }
            Expr::Vector(ops) => {
                let mut parts = Vec::new();
                for op in ops {
                    parts.push(self.val(op)?.text);
                }
                if parts.len() != dst.lanes as usize || parts.len() < 2 {
                    return Err(PrintError::malformed("vector of the wrong number of lanes"));
                }
                Ok(join_lanes(&vector_type(dst)?, &parts))
            }
            Expr::Extract(op, lane) => {
                let v = self.val(op)?;
                if *lane >= v.ty.lanes || v.ty.lanes == 1 {
                    return Err(PrintError::malformed(format!(
                        "lane {lane} of a {}-lane value",
                        v.ty.lanes
                    )));
                }
                Ok(v.lane(*lane as usize))
            }
            Expr::Simd(op, x, arg) => {
                let x = self.val(x)?;
                let arg = match arg {
                    Some(a) => Some(self.index(a)?),
                    None => None,
                };
                self.simd(*op, &x, arg.as_deref())
            }
        }
    }

    /// Prints `f` once per lane (or once for scalars) and builds the vector.
    fn lanewise(
        &mut self,
        result: SType,
        operands: &[&Val],
        f: impl Fn(&mut Self, &[String]) -> Result<String, PrintError>,
    ) -> Result<String, PrintError> {
        for o in operands {
            if o.ty.lanes != 1 && o.ty.lanes != result.lanes {
                return Err(PrintError::malformed(format!(
                    "{}-lane operand in a {}-lane expression",
                    o.ty.lanes, result.lanes
                )));
            }
        }
        if result.lanes == 1 {
            let xs: Vec<String> = operands.iter().map(|o| o.text.clone()).collect();
            return f(self, &xs);
        }
        let mut parts = Vec::new();
        for l in 0..result.lanes as usize {
            let xs: Vec<String> = operands.iter().map(|o| o.lane(l)).collect();
            parts.push(f(self, &xs)?);
        }
        Ok(join_lanes(&vector_type(result)?, &parts))
    }

    fn bf16_to_f32(&mut self, x: &str) -> String {
        self.helpers.bf16 = true;
        format!("tm_bf16_to_f32({x})")
    }

    /// `T(W(a) op W(b))`: wrapping integer arithmetic without C++ signed overflow or the
    /// promotion of 16-bit operands to (signed) int.
    fn wrapping(&self, op: BinaryOp, t: ScalarType, a: &str, b: &str) -> String {
        let sym = match op {
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            _ => "+",
        };
        match t {
            ScalarType::U32 | ScalarType::U64 => format!("({a} {sym} {b})"),
            _ => {
                let w = wide_unsigned(t);
                let tn = scalar_type(t).unwrap_or("int");
                format!("{tn}({w}({a}) {sym} {w}({b}))")
            }
        }
    }

    fn unary(&mut self, op: UnaryOp, t: ScalarType, a: &str) -> Result<String, PrintError> {
        let tn = scalar_type(t)?;
        if t == ScalarType::BF16 {
            let x = self.bf16_to_f32(a);
            return Ok(match op {
                UnaryOp::IsNan | UnaryOp::IsInf => self.unary(op, ScalarType::F32, &x)?,
                UnaryOp::Neg => format!("ushort({a} ^ 0x8000)"),
                UnaryOp::Abs => format!("ushort({a} & 0x7fff)"),
                _ => format!("tm_f32_to_bf16({})", self.unary(op, ScalarType::F32, &x)?),
            });
        }
        if t == ScalarType::I1 {
            return match op {
                UnaryOp::Not => Ok(format!("(!{a})")),
                // -x and |x| of a 1-bit value are x (two's complement mod 2).
                UnaryOp::Neg | UnaryOp::Abs => Ok(a.to_string()),
                UnaryOp::IsNan | UnaryOp::IsInf => Ok("false".into()),
                other => Err(PrintError::unsupported(format!("{other} on i1"))),
            };
        }
        if t.is_int() {
            let w = wide_unsigned(t);
            return match op {
                UnaryOp::Neg => Ok(format!("{tn}({w}(0) - {w}({a}))")),
                UnaryOp::Not => Ok(format!("{tn}(~{a})")),
                UnaryOp::Abs if t.is_signed_int() => {
                    Ok(format!("{tn}({a} < 0 ? {w}(0) - {w}({a}) : {w}({a}))"))
                }
                UnaryOp::Abs => Ok(a.to_string()),
                UnaryOp::IsNan | UnaryOp::IsInf => Ok("false".into()),
                other => Err(PrintError::unsupported(format!("{other} on integers"))),
            };
        }
        let f32 = t == ScalarType::F32;
        Ok(match op {
            UnaryOp::Neg => format!("(-{a})"),
            UnaryOp::Not => {
                return Err(PrintError::unsupported("bitwise not on floats"));
            }
            UnaryOp::Abs => format!("metal::fabs({a})"),
            UnaryOp::SqrtRn if f32 => format!("metal::precise::sqrt({a})"),
            UnaryOp::Erf => {
                self.helpers.erf = true;
                if f32 {
                    format!("tm_erf({a})")
                } else {
                    format!("{tn}(tm_erf(float({a})))")
                }
            }
            UnaryOp::IsNan => format!("metal::isnan({a})"),
            UnaryOp::IsInf => format!("metal::isinf({a})"),
            other => {
                let f = match other {
                    UnaryOp::Exp => "exp",
                    UnaryOp::Exp2 => "exp2",
                    UnaryOp::Log => "log",
                    UnaryOp::Log2 => "log2",
                    UnaryOp::Sqrt | UnaryOp::SqrtRn => "sqrt",
                    UnaryOp::Rsqrt => "rsqrt",
                    UnaryOp::Sin => "sin",
                    UnaryOp::Cos => "cos",
                    UnaryOp::Tan => "tan",
                    UnaryOp::Asin => "asin",
                    UnaryOp::Acos => "acos",
                    UnaryOp::Atan => "atan",
                    UnaryOp::Sinh => "sinh",
                    UnaryOp::Cosh => "cosh",
                    UnaryOp::Tanh => "tanh",
                    UnaryOp::Floor => "floor",
                    UnaryOp::Ceil => "ceil",
                    UnaryOp::Rint => "rint",
                    UnaryOp::Trunc => "trunc",
                    UnaryOp::Neg
                    | UnaryOp::Not
                    | UnaryOp::Abs
                    | UnaryOp::Erf
                    | UnaryOp::IsNan
                    | UnaryOp::IsInf => "",
                };
                format!("metal::{f}({a})")
            }
        })
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        t: ScalarType,
        a: &str,
        b: &str,
        const_b: Option<i128>,
    ) -> Result<String, PrintError> {
        let tn = scalar_type(t)?;
        if t == ScalarType::BF16 {
            let (x, y) = (self.bf16_to_f32(a), self.bf16_to_f32(b));
            let r = self.binary(op, ScalarType::F32, &x, &y, None)?;
            return Ok(format!("tm_f32_to_bf16({r})"));
        }
        if t == ScalarType::I1 {
            return match op {
                BinaryOp::And | BinaryOp::Mul | BinaryOp::Min => Ok(format!("({a} && {b})")),
                BinaryOp::Or | BinaryOp::Max => Ok(format!("({a} || {b})")),
                BinaryOp::Xor | BinaryOp::Add | BinaryOp::Sub => Ok(format!("({a} != {b})")),
                other => Err(PrintError::unsupported(format!("{other} on i1"))),
            };
        }
        if t.is_float() {
            let f32 = t == ScalarType::F32;
            return Ok(match op {
                BinaryOp::Add => format!("({a} + {b})"),
                BinaryOp::Sub => format!("({a} - {b})"),
                BinaryOp::Mul => format!("({a} * {b})"),
                BinaryOp::Div => format!("({a} / {b})"),
                BinaryOp::DivRn if f32 => format!("metal::precise::divide({a}, {b})"),
                BinaryOp::DivRn => format!("({a} / {b})"),
                BinaryOp::Rem if f32 => format!("metal::precise::fmod({a}, {b})"),
                BinaryOp::Rem => format!("metal::fmod({a}, {b})"),
                BinaryOp::Min => format!("metal::fmin({a}, {b})"),
                BinaryOp::Max => format!("metal::fmax({a}, {b})"),
                BinaryOp::MinNan => format!(
                    "(metal::isnan({a}) ? {a} : (metal::isnan({b}) ? {b} : metal::fmin({a}, {b})))"
                ),
                BinaryOp::MaxNan => format!(
                    "(metal::isnan({a}) ? {a} : (metal::isnan({b}) ? {b} : metal::fmax({a}, {b})))"
                ),
                // The fast pow (Metal's default functions) is undefined for x < 0, where
                // Triton's follows C ((-2)^3 = -8).
                BinaryOp::Pow if f32 => format!("metal::precise::pow({a}, {b})"),
                BinaryOp::Pow => format!("metal::pow({a}, {b})"),
                BinaryOp::Atan2 => format!("metal::atan2({a}, {b})"),
                BinaryOp::And
                | BinaryOp::Or
                | BinaryOp::Xor
                | BinaryOp::Shl
                | BinaryOp::Shr
                | BinaryOp::MulHi => {
                    return Err(PrintError::unsupported(format!("{op} on floats")));
                }
            });
        }
        let w = wide_unsigned(t);
        let bits = t.bits();
        let signed = t.is_signed_int();
        let zero = format!("{tn}(0)");
        Ok(match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => self.wrapping(op, t, a, b),
            BinaryOp::Div | BinaryOp::Rem => {
                let neg_a = format!("{tn}({w}(0) - {w}({a}))");
                let sym = if op == BinaryOp::Div { "/" } else { "%" };
                let plain = format!("{tn}({a} {sym} {b})");
                // For MIN / -1 (C++ UB): the wrapped negation; x % -1 is always 0.
                let minus_one = if op == BinaryOp::Div {
                    neg_a
                } else {
                    zero.clone()
                };
                // By zero, NVIDIA's PTX results (what Triton users see, and what the
                // interpreter gives): x / 0 is all ones, x % 0 is x.
                let by_zero = if op == BinaryOp::Div {
                    format!("{tn}(~{w}(0))")
                } else {
                    a.to_string()
                };
                match const_b {
                    Some(0) => by_zero,
                    Some(-1) if signed => minus_one,
                    Some(_) => plain,
                    None if signed => {
                        format!("({b} == 0 ? {by_zero} : ({b} == -1 ? {minus_one} : {plain}))")
                    }
                    None => format!("({b} == 0 ? {by_zero} : {plain})"),
                }
            }
            BinaryOp::And => format!("{tn}({a} & {b})"),
            BinaryOp::Or => format!("{tn}({a} | {b})"),
            BinaryOp::Xor => format!("{tn}({a} ^ {b})"),
            BinaryOp::Shl | BinaryOp::Shr => {
                let in_range = const_b.map(|n| n >= 0 && n < bits as i128);
                let amount = format!("{w}({b})");
                let shifted = if op == BinaryOp::Shl {
                    format!("{tn}({w}({a}) << {amount})")
                } else {
                    format!("{tn}({a} >> {amount})")
                };
                let too_far = if op == BinaryOp::Shr && signed {
                    format!("{tn}({a} >> {})", bits - 1)
                } else {
                    zero
                };
                match in_range {
                    Some(true) => shifted,
                    Some(false) => too_far,
                    None => format!("({amount} < {bits} ? {shifted} : {too_far})"),
                }
            }
            BinaryOp::Min | BinaryOp::MinNan => format!("metal::min({a}, {b})"),
            BinaryOp::Max | BinaryOp::MaxNan => format!("metal::max({a}, {b})"),
            BinaryOp::MulHi => format!("metal::mulhi({a}, {b})"),
            BinaryOp::DivRn | BinaryOp::Pow | BinaryOp::Atan2 => {
                return Err(PrintError::unsupported(format!("{op} on integers")));
            }
        })
    }

    fn cmp(
        &mut self,
        pred: CmpPred,
        t: ScalarType,
        a: &str,
        b: &str,
    ) -> Result<String, PrintError> {
        no_f64(t)?;
        let (a, b) = if t == ScalarType::BF16 {
            (self.bf16_to_f32(a), self.bf16_to_f32(b))
        } else {
            (a.to_string(), b.to_string())
        };
        let sym = match pred {
            CmpPred::Eq => "==",
            CmpPred::Ne => "!=",
            CmpPred::Lt => "<",
            CmpPred::Le => "<=",
            CmpPred::Gt => ">",
            CmpPred::Ge => ">=",
        };
        Ok(format!("({a} {sym} {b})"))
    }

    fn cast(&mut self, a: &str, from: ScalarType, to: ScalarType) -> Result<String, PrintError> {
        no_f64(from)?;
        let tn = scalar_type(to)?;
        if from == to {
            return Ok(a.to_string());
        }
        if to == ScalarType::I1 {
            return Ok(match from {
                ScalarType::BF16 => format!("(({a} & 0x7fff) != 0)"),
                _ => format!("({a} != 0)"),
            });
        }
        if from == ScalarType::I1 {
            return Ok(match to {
                ScalarType::BF16 => format!("({a} ? ushort(0x3f80) : ushort(0))"),
                _ => format!("{tn}({a})"),
            });
        }
        // Every other conversion from bf16 goes through its exact f32 value.
        if from == ScalarType::BF16 {
            let x = self.bf16_to_f32(a);
            return self.cast(&x, ScalarType::F32, to);
        }
        if to == ScalarType::BF16 {
            self.helpers.bf16 = true;
            let x = if from == ScalarType::F32 {
                a.to_string()
            } else {
                format!("float({a})")
            };
            return Ok(format!("tm_f32_to_bf16({x})"));
        }
        if from.is_float() && to.is_int() {
            self.helpers.cvt.insert(to);
            let x = if from == ScalarType::F32 {
                a.to_string()
            } else {
                format!("float({a})")
            };
            return Ok(format!("tm_cvt_{}({x})", to.name()));
        }
        Ok(format!("{tn}({a})"))
    }

    fn simd(&mut self, op: SimdOp, x: &Val, arg: Option<&str>) -> Result<String, PrintError> {
        let t = x.ty.scalar;
        no_f64(t)?;
        let need_arg = matches!(
            op,
            SimdOp::ShuffleXor | SimdOp::Shuffle | SimdOp::ShuffleUp | SimdOp::ShuffleDown
        );
        let arg = match (need_arg, arg) {
            (true, Some(a)) => Some(format!("ushort({a})")),
            (false, None) => None,
            _ => return Err(PrintError::malformed(format!("simd {op:?} operand count"))),
        };
        let f = match op {
            SimdOp::ShuffleXor => "simd_shuffle_xor",
            SimdOp::Shuffle => "simd_shuffle",
            SimdOp::ShuffleUp => "simd_shuffle_up",
            SimdOp::ShuffleDown => "simd_shuffle_down",
            SimdOp::Sum => "simd_sum",
            SimdOp::Max => "simd_max",
            SimdOp::Min => "simd_min",
            SimdOp::And => "simd_and",
            SimdOp::Or => "simd_or",
            SimdOp::Xor => "simd_xor",
            SimdOp::PrefixInclusiveSum => "simd_prefix_inclusive_sum",
            SimdOp::PrefixExclusiveSum => "simd_prefix_exclusive_sum",
            SimdOp::All => "simd_all",
            SimdOp::Any => "simd_any",
        };
        let call = |v: &str| match &arg {
            Some(a) => format!("metal::{f}({v}, {a})"),
            None => format!("metal::{f}({v})"),
        };
        if matches!(op, SimdOp::All | SimdOp::Any) {
            if x.ty != SType::scalar(ScalarType::I1) {
                return Err(PrintError::malformed("simd all/any take a scalar i1"));
            }
            return Ok(call(&x.text));
        }
        if need_arg {
            return Ok(match t {
                // bool is not a simd data type: move it as ushort.
                ScalarType::I1 => {
                    let parts: Vec<String> = (0..x.ty.lanes as usize)
                        .map(|l| format!("({} != 0)", call(&format!("ushort({})", x.lane(l)))))
                        .collect();
                    if x.ty.lanes == 1 {
                        parts[0].clone()
                    } else {
                        join_lanes(&vector_type(x.ty)?, &parts)
                    }
                }
                // 64-bit values move as two 32-bit halves.
                ScalarType::I64 | ScalarType::U64 => {
                    if x.ty.lanes != 1 {
                        return Err(PrintError::unsupported("simd shuffles of 64-bit vectors"));
                    }
                    format!(
                        "as_type<{}>(uint2({}, {}))",
                        scalar_type(t)?,
                        call(&format!("as_type<uint2>({}).x", x.text)),
                        call(&format!("as_type<uint2>({}).y", x.text))
                    )
                }
                _ => call(&x.text),
            });
        }
        if t.bits() == 64 {
            return Err(PrintError::unsupported(
                "simd reductions of 64-bit values (lowering must use shuffles)",
            ));
        }
        let bitwise = matches!(op, SimdOp::And | SimdOp::Or | SimdOp::Xor);
        if x.ty.lanes != 1 {
            return Err(PrintError::unsupported("simd reductions of vectors"));
        }
        Ok(match t {
            ScalarType::I1 if bitwise => format!("({} != 0)", call(&format!("uint({})", x.text))),
            ScalarType::I1 => return Err(PrintError::unsupported(format!("simd {op:?} on i1"))),
            ScalarType::BF16 if bitwise => call(&x.text),
            ScalarType::BF16 => {
                let v = self.bf16_to_f32(&x.text);
                format!("tm_f32_to_bf16({})", call(&v))
            }
            _ if bitwise && t.is_float() => {
                return Err(PrintError::unsupported(format!("simd {op:?} on floats")))
            }
            _ => call(&x.text),
        })
    }
}

/// `i + l`, or `i` for lane 0.
fn offset(i: &str, l: usize) -> String {
    if l == 0 {
        i.to_string()
    } else {
        format!("{i} + {l}")
    }
}

fn join_lanes(ty: &str, parts: &[String]) -> String {
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("{ty}({})", parts.join(", "))
    }
}

/// The integer value of a binary expression's constant operand `i`, if it is one.
fn const_int(e: &Expr, i: usize) -> Option<i128> {
    let Expr::Binary(_, a, b) = e else {
        return None;
    };
    match [a, b][i] {
        Operand::Const(Literal::Int(v), t) if t.is_int() => Some(int_value(*v, *t)),
        _ => None,
    }
}

fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn helper_text(h: &Helpers, o: &mut String) {
    if h.bf16 {
        o.push_str(
            "static inline float tm_bf16_to_f32(ushort x) {
    return as_type<float>(uint(x) << 16);
}

static inline ushort tm_f32_to_bf16(float f) {
    uint u = as_type<uint>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return ushort((u >> 16) | 0x40u);
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    return ushort(u >> 16);
}

",
        );
    }
    if h.erf {
        // The same fitted polynomials as WGSL's tm_erf (wgsl_math.rs): 1.4 ulp.
        o.push_str(
            "static inline float tm_erf(float x) {
    if (metal::isnan(x)) {
        return x;
    }
    float a = metal::fabs(x);
    float z = a * a;
    float y = 1.0f;
    if (a < 1.0f) {
        y = a + a * (0.12837917f + z * (-0.37612638f + z * (0.11283783f + z * (-0.026865447f + z * (0.0052210754f + z * (-0.0008484718f + z * (0.00011270589f + z * -9.680256e-6f)))))));
    } else if (a < 3.92f) {
        float t = 1.0f / (1.0f + 0.5f * a);
        float u = -0.00015656109f + t * (0.28494573f + t * (0.25949356f + t * (0.3484178f + t * (-0.104747884f + t * (0.56448764f + t * (-0.47189853f + t * 0.119512014f))))));
        y = 1.0f - metal::exp(-z) * u;
    }
    return as_type<float>(as_type<uint>(y) | (as_type<uint>(x) & 0x80000000u));
}

",
        );
    }
    for &t in &h.cvt {
        let tn = scalar_type(t).unwrap_or("int");
        let bits = t.bits();
        let line = if t.is_signed_int() {
            let max = (1i128 << (bits - 1)) - 1;
            let max_text = const_text(Literal::Int(max as i64), t).unwrap_or_default();
            let min_text = const_text(Literal::Int((-max - 1) as i64), t).unwrap_or_default();
            let bound = format!("{}.0", 1u128 << (bits - 1));
            format!(
                "    return metal::isnan(x) ? {tn}(0) : (x >= {bound}f ? {max_text} : (x < -{bound}f ? {min_text} : {tn}(x)));"
            )
        } else {
            let max = (1i128 << bits) - 1;
            let max_text = const_text(Literal::Int(max as i64), t).unwrap_or_default();
            let bound = format!("{}.0", 1u128 << bits);
            format!("    return !(x > -1.0f) ? {tn}(0) : (x >= {bound}f ? {max_text} : {tn}(x));")
        };
        let _ = write!(
            o,
            "static inline {tn} tm_cvt_{}(float x) {{\n{line}\n}}\n\n",
            t.name()
        );
    }
}
