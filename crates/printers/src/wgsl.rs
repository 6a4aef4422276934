//! SIMT IR → WGSL for wgpu 30 / naga 30.
//!
//! What maps to what:
//! - Kernel → `@compute @workgroup_size(N) fn NAME(@builtin(workgroup_id) tm_group:
//!   vec3<u32>, @builtin(local_invocation_index) tm_tid: u32)` (docs/CONVENTIONS.md).
//!   Binding 0 is `var<storage, read> tm_scalars: array<u32>`; buffer i is `b<i>` at
//!   binding i+1, `array<T>` (`read` unless written), `array<atomic<T>>` when atomic.
//! - Locals → `var v<i>: T;` at the top of the function. Threadgroup arrays →
//!   module-scope `var<workgroup> s<i>: array<T, len>;`.
//! - Scalar arguments are read from the u32 words of `tm_scalars` and bitcast (64-bit
//!   values from two words, f16 decoded from its bits by `tm_f16_from_bits`); header words are `tm_scalars[i]`.
//! - Types: i1 `bool`, i32/u32/i64/u64 as named (`SHADER_INT64`), f16 `f16` (`enable f16;`
//!   is printed when one appears), f32 `f32`, bf16 `u32` holding the 16 bits (converted by
//!   the `tm_bf16_to_f32` / `tm_f32_to_bf16` helpers, round to nearest even). Vectors
//!   `vec2..4<T>`. Constants carry suffixes (`1i`, `1u`, `1li`, `1lu`, `1.0f`, `1.0h`);
//!   non-finite floats go through the `tm_f32_from_bits` helper, which naga does not fold.
//! - Elementwise expressions on vectors are printed lane by lane, like the MSL printer.
//! - Math → WGSL builtins (`round` for rint, `inverseSqrt`), erf → `tm_erf`, umulhi →
//!   `tm_mulhi_*` helpers. Simd ops → `subgroup*` builtins (naga 30 takes them without an
//!   `enable`, and refuses `enable subgroups;`; validation needs `Capabilities::SUBGROUP`).
//!   `subgroupShuffleUp/Down` past the edge keep the lane's own value, as Metal's do.
//! - Atomics → `atomic*` builtins on `atomic<T>` memory; compare-and-swap loops on
//!   `atomicCompareExchangeWeak` so it acts as a strong CAS.
//! - Barrier → `workgroupBarrier(); storageBarrier();`; SharedBarrier → `workgroupBarrier();`.
//!
//! Integer semantics are the MSL printer's: add/sub/mul/neg wrap; `x / 0` is all ones, `x % 0 == x`,
//! `MIN / -1 == MIN`, `MIN % -1 == 0`; shifts by the width or more give 0 (sign
//! fill for signed `>>`); float → int saturates with NaN → 0 (`tm_cvt_*` helpers: WGSL leaves
//! NaN indeterminate).
//!
//! Refused (`PrintError`): f64; 8- and 16-bit integer locals, buffers and threadgroup
//! arrays (lowering declares them as u32 words on WGSL targets); bf16 and i1 buffers (also
//! words); atomics on memory not declared atomic; float atomics other than add/exchange;
//! float CAS; simd reductions of 64-bit values. Known approximations: float `%` is WGSL's
//! `x - y * trunc(x / y)`, `div_rn`/`sqrt_rn` are plain `/`/`sqrt`.

use std::collections::BTreeSet;
use std::fmt::Write;

use tm_core::{Dialect, ScalarType};
use tm_simt::ir::Literal;
use tm_simt::{Builtin, Expr, Kernel, Operand, SType, SimdOp, Space, Stmt};
use tm_tile::{AtomicOp, BinaryOp, CmpPred, UnaryOp};

use crate::literal::{bf16_bits, f32_decimal, f64_decimal, int_value, round_f16};
use crate::types::{self, check_lanes, no_f64, operand_type, LANES};
use crate::wgsl_math::MathFn;
use crate::{names, wgsl_matrix, PrintError};

pub fn print_wgsl(k: &Kernel) -> Result<String, PrintError> {
    names::check_entry(&k.abi.entry, Dialect::Wgsl.reserved_words())?;
    let mut p = Wgsl {
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
    f16: bool,
    bf16: bool,
    from_bits: bool,
    f16_bits: bool,
    f16_to_bits: bool,
    cvt: BTreeSet<ScalarType>,
    mulhi: BTreeSet<ScalarType>,
    math: BTreeSet<MathFn>,
}

struct Wgsl<'k> {
    k: &'k Kernel,
    out: String,
    depth: usize,
    helpers: Helpers,
}

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
        ScalarType::I32 => "i32",
        ScalarType::U32 => "u32",
        ScalarType::I64 => "i64",
        ScalarType::U64 => "u64",
        ScalarType::F16 => "f16",
        ScalarType::F32 => "f32",
        ScalarType::BF16 => "u32",
        ScalarType::I8 | ScalarType::U8 | ScalarType::I16 | ScalarType::U16 => {
            return Err(PrintError::unsupported(format!(
                "{s} values in WGSL (lowering keeps 8- and 16-bit integers in 32-bit registers)"
            )))
        }
        ScalarType::F64 => return no_f64(s).map(|()| "f64"),
    })
}

fn vector_type(t: SType) -> Result<String, PrintError> {
    check_lanes(t)?;
    let s = scalar_type(t.scalar)?;
    Ok(if t.lanes == 1 {
        s.to_string()
    } else {
        format!("vec{}<{s}>", t.lanes)
    })
}

/// Element type of device memory: WGSL storage cannot hold bool, bf16 or sub-word integers.
fn memory_type(s: ScalarType) -> Result<&'static str, PrintError> {
    match s {
        ScalarType::I1 | ScalarType::BF16 => Err(PrintError::unsupported(format!(
            "{s} buffers in WGSL (lowering declares them as u32 words)"
        ))),
        other => scalar_type(other),
    }
}

fn zero(t: ScalarType) -> String {
    const_text(Literal::Int(0), t).unwrap_or_else(|_| "0".into())
}

fn const_text(lit: Literal, t: ScalarType) -> Result<String, PrintError> {
    no_f64(t)?;
    if t.is_float() {
        let v = match lit {
            Literal::Int(i) => i as f64,
            Literal::Float(f) => f,
        };
        return Ok(match t {
            ScalarType::F32 => {
                let f = v as f32;
                if f.is_finite() {
                    paren_neg(format!("{}f", f32_decimal(f)), f.is_sign_negative())
                } else {
                    format!("tm_f32_from_bits(0x{:08x}u)", f.to_bits())
                }
            }
            ScalarType::F16 => {
                let r = round_f16(v);
                if r.is_finite() {
                    paren_neg(format!("{}h", f64_decimal(r)), r.is_sign_negative())
                } else {
                    format!("f16(tm_f32_from_bits(0x{:08x}u))", (r as f32).to_bits())
                }
            }
            _ => format!("0x{:04x}u", bf16_bits(v)),
        });
    }
    let v = match lit {
        Literal::Int(i) => int_value(i, t),
        Literal::Float(f) => int_value(f as i64, t),
    };
    Ok(match t {
        ScalarType::I1 => if v != 0 { "true" } else { "false" }.to_string(),
        ScalarType::I32 if v == i32::MIN as i128 => "i32(-2147483648)".to_string(),
        ScalarType::I32 => paren_neg(format!("{v}i"), v < 0),
        ScalarType::U32 => format!("{v}u"),
        ScalarType::I64 if v == i64::MIN as i128 => "(-9223372036854775807li - 1li)".to_string(),
        ScalarType::I64 => paren_neg(format!("{v}li"), v < 0),
        ScalarType::U64 => format!("{v}lu"),
        other => return scalar_type(other).map(|_| String::new()),
    })
}

fn paren_neg(s: String, neg: bool) -> String {
    if neg {
        format!("({s})")
    } else {
        s
    }
}

impl<'k> Wgsl<'k> {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn note_type(&mut self, s: ScalarType) {
        match s {
            ScalarType::F16 => self.helpers.f16 = true,
            ScalarType::BF16 => self.helpers.bf16 = true,
            _ => {}
        }
    }

    fn declarations(&mut self) -> Result<(), PrintError> {
        for (h, l) in self.k.locals.iter() {
            self.note_type(l.ty.scalar);
            let decl = format!("var {}: {};", names::local(self.k, h)?, vector_type(l.ty)?);
            self.line(&decl);
        }
        for (i, t) in wgsl_matrix::types(self.k)?.iter().enumerate() {
            self.note_type(self.k.matrices[i]);
            self.line(&format!("var {}: {t};", wgsl_matrix::name(i as u32)));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<String, PrintError> {
        let k = self.k;
        let mut globals = String::new();
        globals.push_str("@group(0) @binding(0) var<storage, read> tm_scalars: array<u32>;\n");
        for (i, b) in k.buffers.iter().enumerate() {
            self.note_type(b.elem);
            let t = memory_type(b.elem)?;
            let (access, elem) = if b.atomic {
                atomic_elem(b.elem)?;
                ("read_write", format!("atomic<{t}>"))
            } else if b.writes {
                ("read_write", t.to_string())
            } else {
                ("read", t.to_string())
            };
            let _ = writeln!(
                globals,
                "@group(0) @binding({}) var<storage, {access}> {}: array<{elem}>; // {}",
                i + 1,
                names::buffer(i),
                comment_safe(&b.name)
            );
        }
        for (i, s) in k.shared.iter().enumerate() {
            self.note_type(s.elem);
            let t = scalar_type(s.elem)?;
            let elem = if s.atomic {
                atomic_elem(s.elem)?;
                format!("atomic<{t}>")
            } else {
                t.to_string()
            };
            let _ = writeln!(
                globals,
                "var<workgroup> {}: array<{elem}, {}>;",
                names::shared(i),
                s.len.max(1)
            );
        }
        let mut o = String::new();
        if self.helpers.f16 {
            o.push_str("enable f16;\n\n");
        }
        if !k.matrices.is_empty() {
            o.push_str(wgsl_matrix::ENABLE);
            o.push('\n');
        }
        o.push_str(&globals);
        o.push('\n');
        helper_text(&self.helpers, &mut o);
        let _ = writeln!(
            o,
            "@compute @workgroup_size({})",
            k.threads_per_group.max(1)
        );
        let _ = writeln!(
            o,
            "fn {}(@builtin(workgroup_id) tm_group: vec3<u32>, @builtin(local_invocation_index) tm_tid: u32) {{",
            k.abi.entry
        );
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
        self.note_type(ty.scalar);
        let text = match op {
            Operand::Local(id) => names::local(self.k, *id)?,
            Operand::Const(lit, t) => {
                let s = const_text(*lit, *t)?;
                if s.starts_with("tm_f32_from_bits") || s.starts_with("f16(tm_f32_from_bits") {
                    self.helpers.from_bits = true;
                }
                s
            }
        };
        Ok(Val { text, ty })
    }

    /// A scalar integer operand as u32 (array indices, lanes, masks).
    fn index(&mut self, op: &Operand) -> Result<String, PrintError> {
        let v = self.val(op)?;
        if v.ty.lanes != 1 || !v.ty.scalar.is_int() || v.ty.scalar == ScalarType::I1 {
            return Err(PrintError::malformed(
                "index operands must be scalar integers",
            ));
        }
        if let Operand::Const(Literal::Int(i), t) = op {
            let n = int_value(*i, *t);
            if (0..=u32::MAX as i128).contains(&n) {
                return Ok(format!("{n}u"));
            }
        }
        Ok(if v.ty.scalar == ScalarType::U32 {
            v.text
        } else {
            format!("u32({})", v.text)
        })
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
                let (elem, atomic) = (b.elem, b.atomic);
                memory_type(elem)?;
                let name = names::buffer(*buf as usize);
                self.store(&name, elem, atomic, index, value)?;
            }
            Stmt::SharedStore { arr, index, value } => {
                let a = types::shared(self.k, *arr)?;
                let (elem, atomic) = (a.elem, a.atomic);
                let name = names::shared(*arr as usize);
                self.store(&name, elem, atomic, index, value)?;
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
                    (AtomicOp::Add, _) => "atomicAdd",
                    (AtomicOp::Xchg, _) => "atomicExchange",
                    (AtomicOp::Max, false) => "atomicMax",
                    (AtomicOp::Min, false) => "atomicMin",
                    (AtomicOp::And, false) => "atomicAnd",
                    (AtomicOp::Or, false) => "atomicOr",
                    (AtomicOp::Xor, false) => "atomicXor",
                    (other, true) => {
                        return Err(PrintError::unsupported(format!(
                            "atomic {other} on floats (WGSL has float atomic add and exchange only)"
                        )))
                    }
                };
                let call = format!("{f}({ptr}, {})", v.text);
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
                let d = names::local(self.k, *dst)?;
                // Retry spurious failures of the weak exchange: a strong CAS, as Triton's.
                self.line("loop {");
                self.depth += 1;
                self.line(&format!(
                    "let tm_r = atomicCompareExchangeWeak({ptr}, {}, {});",
                    c.text, v.text
                ));
                self.line(&format!(
                    "if (tm_r.exchanged || tm_r.old_value != {}) {{",
                    c.text
                ));
                self.depth += 1;
                self.line(&format!("{d} = tm_r.old_value;"));
                self.line("break;");
                self.depth -= 1;
                self.line("}");
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
                self.line(&format!(
                    "for ({v} = {}; {v} < {}; {v} = {v} + {}) {{",
                    s.text, e.text, st.text
                ));
                self.nested(body)?;
                self.line("}");
            }
            Stmt::Loop { body } => {
                self.line("loop {");
                self.nested(body)?;
                self.line("}");
            }
            Stmt::Break => self.line("break;"),
            Stmt::Barrier => {
                self.line("workgroupBarrier();");
                self.line("storageBarrier();");
            }
            Stmt::SharedBarrier => self.line("workgroupBarrier();"),
            Stmt::Fence {
                divergent: true, ..
            } => return Err(crate::fence::wgsl_divergent_fence()),
            Stmt::Fence { .. } => self.line(crate::fence::WGSL_FENCE),
            Stmt::Return => self.line("return;"),
            Stmt::MatrixLoad {
                mat,
                arr,
                offset,
                stride,
            } => {
                let types = wgsl_matrix::types(self.k)?;
                let ty = types
                    .get(*mat as usize)
                    .ok_or_else(|| PrintError::malformed(format!("no matrix {mat}")))?;
                let at = self.index(offset)?;
                let arr = names::shared(*arr as usize);
                self.line(&wgsl_matrix::load(ty, *mat, &arr, &at, *stride));
            }
            Stmt::MatrixStore {
                mat,
                arr,
                offset,
                stride,
            } => {
                let at = self.index(offset)?;
                let arr = names::shared(*arr as usize);
                self.line(&wgsl_matrix::store(*mat, &arr, &at, *stride));
            }
            Stmt::MatrixMulAcc { d, a, b, c } => {
                self.line(&wgsl_matrix::mul_acc(*d, *a, *b, *c));
            }
        }
        Ok(())
    }

    fn store(
        &mut self,
        name: &str,
        elem: ScalarType,
        atomic: bool,
        index: &Operand,
        value: &Operand,
    ) -> Result<(), PrintError> {
        let i = self.index(index)?;
        let v = self.val(value)?;
        if v.ty.scalar != elem {
            return Err(PrintError::malformed(format!(
                "store of {} into memory of {}",
                v.ty.scalar, elem
            )));
        }
        for l in 0..v.ty.lanes as usize {
            let at = offset(&i, l);
            let line = if atomic {
                format!("atomicStore(&{name}[{at}], {});", v.lane(l))
            } else {
                format!("{name}[{at}] = {};", v.lane(l))
            };
            self.line(&line);
        }
        Ok(())
    }

    fn atomic_target(
        &mut self,
        space: Space,
        array: u32,
        index: &Operand,
    ) -> Result<(String, ScalarType), PrintError> {
        let (elem, atomic, name) = match space {
            Space::Device => {
                let b = types::buffer(self.k, array)?;
                (b.elem, b.atomic, names::buffer(array as usize))
            }
            Space::Threadgroup => {
                let s = types::shared(self.k, array)?;
                (s.elem, s.atomic, names::shared(array as usize))
            }
            Space::DeviceWords => {
                return Err(PrintError::unsupported(
                    "32-bit atomics on the words of 64-bit data (WGSL has no such view; \
                     64-bit atomics need SHADER_INT64_ATOMIC_ALL_OPS)",
                ))
            }
        };
        if !atomic {
            return Err(PrintError::malformed(format!(
                "atomic access to {name}, which is not declared atomic"
            )));
        }
        atomic_elem(elem)?;
        let i = self.index(index)?;
        Ok((format!("&{name}[{i}]"), elem))
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
                self.scalar_arg(p.ty, p.offset)
            }
            Expr::GridHeader(w) => match w {
                0..=3 => Ok(format!("tm_scalars[{w}]")),
                _ => Err(PrintError::malformed(format!("grid header word {w}"))),
            },
            Expr::Unary(op, a) => {
                let a = self.val(a)?;
                self.lanewise(dst, &[&a], |p, x| p.unary(*op, a.ty.scalar, &x[0]))
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.val(a)?, self.val(b)?);
                let const_b = const_int(e);
                let tb = b.ty.scalar;
                self.lanewise(dst, &[&a, &b], |p, x| {
                    p.binary(*op, a.ty.scalar, tb, &x[0], &x[1], const_b)
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
                    Ok(format!("select({}, {}, {})", x[2], x[1], x[0]))
                })
            }
            Expr::Fma(a, b, c) | Expr::MulAdd(a, b, c) => {
                // WGSL's fma may round the product first (lavapipe does): a fused result
                // needs `tm_fma` (wgsl_math.rs); accumulations take the builtin.
                let fused = matches!(e, Expr::Fma(..));
                if fused {
                    self.helpers.math.insert(MathFn::Fma);
                }
                let f = if fused { "tm_fma" } else { "fma" };
                let (a, b, c) = (self.val(a)?, self.val(b)?, self.val(c)?);
                let t = a.ty.scalar;
                self.lanewise(dst, &[&a, &b, &c], |_, x| match t {
                    ScalarType::F32 => Ok(format!("{f}({}, {}, {})", x[0], x[1], x[2])),
                    ScalarType::F16 if fused => Ok(format!(
                        "f16(tm_fma(f32({}), f32({}), f32({})))",
                        x[0], x[1], x[2]
                    )),
                    ScalarType::F16 => Ok(format!("fma({}, {}, {})", x[0], x[1], x[2])),
                    ScalarType::BF16 => Ok(format!(
                        "tm_f32_to_bf16({f}(tm_bf16_to_f32({}), tm_bf16_to_f32({}), tm_bf16_to_f32({})))",
                        x[0], x[1], x[2]
                    )),
                    other => Err(PrintError::unsupported(format!("fma on {other}"))),
                })
            }
            Expr::Cast(a, to) => {
                // naga's constant evaluator refuses to convert 64-bit literals
                // (`i32(-91li)`), so integer constants are converted here instead.
                if let Operand::Const(Literal::Int(i), from) = *a {
                    if from.is_int()
                        && to.scalar.is_int()
                        && to.scalar != ScalarType::I1
                        && to.lanes == 1
                        && dst.lanes == 1
                    {
                        self.note_type(to.scalar);
                        let v = int_value(i, from) as i64;
                        return const_text(Literal::Int(v), to.scalar);
                    }
                }
                let a = self.val(a)?;
                if to.lanes != dst.lanes {
                    return Err(PrintError::malformed(
                        "cast result lanes differ from destination",
                    ));
                }
                self.note_type(to.scalar);
                let from = a.ty.scalar;
                self.lanewise(*to, &[&a], |p, x| p.cast(&x[0], from, to.scalar))
            }
            Expr::Bitcast(a, to) => {
                let a = self.val(a)?;
                self.note_type(to.scalar);
                self.bitcast(&a, *to)
            }
            Expr::Load { buf, index, lanes } => {
                let b = types::buffer(self.k, *buf)?;
                let (elem, atomic) = (b.elem, b.atomic);
                memory_type(elem)?;
                let name = names::buffer(*buf as usize);
                self.load(&name, elem, atomic, index, *lanes)
            }
            Expr::SharedLoad { arr, index, lanes } => {
                let a = types::shared(self.k, *arr)?;
                let (elem, atomic) = (a.elem, a.atomic);
                let name = names::shared(*arr as usize);
                self.load(&name, elem, atomic, index, *lanes)
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

    fn load(
        &mut self,
        name: &str,
        elem: ScalarType,
        atomic: bool,
        index: &Operand,
        lanes: u8,
    ) -> Result<String, PrintError> {
        let t = SType::vector(elem, lanes);
        check_lanes(t)?;
        self.note_type(elem);
        let i = self.index(index)?;
        let parts: Vec<String> = (0..lanes as usize)
            .map(|l| {
                if atomic {
                    format!("atomicLoad(&{name}[{}])", offset(&i, l))
                } else {
                    format!("{name}[{}]", offset(&i, l))
                }
            })
            .collect();
        Ok(join_lanes(&vector_type(t)?, &parts))
    }

    fn scalar_arg(&mut self, t: ScalarType, offset: u32) -> Result<String, PrintError> {
        self.note_type(t);
        let w = offset / 4;
        let word = format!("tm_scalars[{w}]");
        let shift = (offset % 4) * 8;
        Ok(match t {
            ScalarType::I1 => format!("((({word} >> {shift}u) & 0xffu) != 0u)"),
            ScalarType::U32 => word,
            ScalarType::I32 | ScalarType::F32 => {
                format!("bitcast<{}>({word})", scalar_type(t)?)
            }
            ScalarType::F16 => {
                self.helpers.f16_bits = true;
                format!("tm_f16_from_bits({word} >> {shift}u)")
            }
            ScalarType::BF16 => format!("(({word} >> {shift}u) & 0xffffu)"),
            ScalarType::U64 => {
                format!("((u64(tm_scalars[{}]) << 32u) | u64({word}))", w + 1)
            }
            ScalarType::I64 => format!(
                "bitcast<i64>((u64(tm_scalars[{}]) << 32u) | u64({word}))",
                w + 1
            ),
            other => return scalar_type(other).map(|_| String::new()),
        })
    }

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

    fn unary(&mut self, op: UnaryOp, t: ScalarType, a: &str) -> Result<String, PrintError> {
        scalar_type(t)?;
        if t == ScalarType::BF16 {
            let x = format!("tm_bf16_to_f32({a})");
            return Ok(match op {
                UnaryOp::IsNan | UnaryOp::IsInf => self.unary(op, ScalarType::F32, &x)?,
                UnaryOp::Neg => format!("({a} ^ 0x8000u)"),
                UnaryOp::Abs => format!("({a} & 0x7fffu)"),
                _ => format!("tm_f32_to_bf16({})", self.unary(op, ScalarType::F32, &x)?),
            });
        }
        if t == ScalarType::I1 {
            return match op {
                UnaryOp::Not => Ok(format!("(!{a})")),
                UnaryOp::Neg | UnaryOp::Abs => Ok(a.to_string()),
                UnaryOp::IsNan | UnaryOp::IsInf => Ok("false".into()),
                other => Err(PrintError::unsupported(format!("{other} on i1"))),
            };
        }
        if t.is_int() {
            return match op {
                UnaryOp::Neg if t.is_signed_int() => Ok(format!("(-{a})")),
                UnaryOp::Neg => Ok(format!("({} - {a})", zero(t))),
                UnaryOp::Not => Ok(format!("(~{a})")),
                UnaryOp::Abs if t.is_signed_int() => Ok(format!("abs({a})")),
                UnaryOp::Abs => Ok(a.to_string()),
                UnaryOp::IsNan | UnaryOp::IsInf => Ok("false".into()),
                other => Err(PrintError::unsupported(format!("{other} on integers"))),
            };
        }
        let f32 = t == ScalarType::F32;
        Ok(match op {
            UnaryOp::Neg => format!("(-{a})"),
            UnaryOp::Not => return Err(PrintError::unsupported("bitwise not on floats")),
            UnaryOp::Erf => {
                self.helpers.math.insert(MathFn::Erf);
                if f32 {
                    format!("tm_erf({a})")
                } else {
                    format!("f16(tm_erf(f32({a})))")
                }
            }
            UnaryOp::IsNan => is_nan(t, a),
            // lavapipe's own asin/acos/atan are off by up to 4e-4 and its tanh/sinh/log/log2
            // lose relative accuracy near their zeros: our own versions (wgsl_math.rs).
            UnaryOp::Asin
            | UnaryOp::Acos
            | UnaryOp::Atan
            | UnaryOp::Tanh
            | UnaryOp::Sinh
            | UnaryOp::Log
            | UnaryOp::Log2 => {
                let f = match op {
                    UnaryOp::Asin => MathFn::Asin,
                    UnaryOp::Acos => MathFn::Acos,
                    UnaryOp::Atan => MathFn::Atan,
                    UnaryOp::Tanh => MathFn::Tanh,
                    UnaryOp::Log => MathFn::Log,
                    UnaryOp::Log2 => MathFn::Log2,
                    _ => MathFn::Sinh,
                };
                self.helpers.math.insert(f);
                if f32 {
                    format!("{}({a})", f.name())
                } else {
                    format!("{}({}(f32({a})))", scalar_type(t)?, f.name())
                }
            }
            UnaryOp::IsInf => format!(
                "((bitcast<u32>({}) & 0x7fffffffu) == 0x7f800000u)",
                as_f32(t, a)
            ),
            other => {
                let f = match other {
                    UnaryOp::Abs => "abs",
                    UnaryOp::Exp => "exp",
                    UnaryOp::Exp2 => "exp2",
                    UnaryOp::Sqrt | UnaryOp::SqrtRn => "sqrt",
                    UnaryOp::Rsqrt => "inverseSqrt",
                    UnaryOp::Sin => "sin",
                    UnaryOp::Cos => "cos",
                    UnaryOp::Tan => "tan",
                    UnaryOp::Cosh => "cosh",
                    UnaryOp::Floor => "floor",
                    UnaryOp::Ceil => "ceil",
                    UnaryOp::Rint => "round",
                    UnaryOp::Trunc => "trunc",
                    UnaryOp::Neg
                    | UnaryOp::Not
                    | UnaryOp::Erf
                    | UnaryOp::Asin
                    | UnaryOp::Acos
                    | UnaryOp::Atan
                    | UnaryOp::Log
                    | UnaryOp::Log2
                    | UnaryOp::Sinh
                    | UnaryOp::Tanh
                    | UnaryOp::IsNan
                    | UnaryOp::IsInf => "",
                };
                format!("{f}({a})")
            }
        })
    }

    /// `a` as a u32 shift amount, and whether it was clamped from 64 bits (so that an
    /// amount of 2^32 is not taken for 0).
    fn shift_amount(tb: ScalarType, b: &str) -> String {
        match tb {
            ScalarType::U32 => b.to_string(),
            ScalarType::I32 => format!("bitcast<u32>({b})"),
            ScalarType::U64 => format!("u32(min({b}, 64lu))"),
            ScalarType::I64 => format!("u32(min(bitcast<u64>({b}), 64lu))"),
            _ => format!("u32({b})"),
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        t: ScalarType,
        tb: ScalarType,
        a: &str,
        b: &str,
        const_b: Option<i128>,
    ) -> Result<String, PrintError> {
        scalar_type(t)?;
        if t == ScalarType::BF16 {
            let (x, y) = (
                format!("tm_bf16_to_f32({a})"),
                format!("tm_bf16_to_f32({b})"),
            );
            let r = self.binary(op, ScalarType::F32, ScalarType::F32, &x, &y, None)?;
            return Ok(format!("tm_f32_to_bf16({r})"));
        }
        if t == ScalarType::I1 {
            return match op {
                BinaryOp::And | BinaryOp::Mul | BinaryOp::Min => Ok(format!("({a} & {b})")),
                BinaryOp::Or | BinaryOp::Max => Ok(format!("({a} | {b})")),
                BinaryOp::Xor | BinaryOp::Add | BinaryOp::Sub => Ok(format!("({a} != {b})")),
                other => Err(PrintError::unsupported(format!("{other} on i1"))),
            };
        }
        if t.is_float() {
            // WGSL's min/max leave NaN operands unspecified. One ordered comparison and one
            // NaN test of `a` decide both cases in 5 operations (the nested form took 7, on
            // the critical path of every max reduction): minNum takes `b` when `b` wins or
            // `a` is NaN (an ordered comparison with a NaN `b` is false, so `a` stays);
            // the NaN-propagating form takes `a` when `a` wins or is NaN.
            let nan_pick = |f: &str, nan_wins: bool| {
                let wins = if f == "max" { ">" } else { "<" };
                if nan_wins {
                    format!("select({b}, {a}, (({a} {wins} {b}) | {}))", is_nan(t, a))
                } else {
                    format!("select({a}, {b}, (({b} {wins} {a}) | {}))", is_nan(t, a))
                }
            };
            return Ok(match op {
                BinaryOp::Add => format!("({a} + {b})"),
                BinaryOp::Sub => format!("({a} - {b})"),
                BinaryOp::Mul => format!("({a} * {b})"),
                BinaryOp::Div | BinaryOp::DivRn => format!("({a} / {b})"),
                // WGSL's float % rounds twice; Triton's is C's fmod (wgsl_math.rs).
                BinaryOp::Rem if matches!(t, ScalarType::F32 | ScalarType::F16) => {
                    self.helpers.math.insert(MathFn::Fmod);
                    if t == ScalarType::F32 {
                        format!("tm_fmod({a}, {b})")
                    } else {
                        format!("f16(tm_fmod(f32({a}), f32({b})))")
                    }
                }
                BinaryOp::Rem => format!("({a} % {b})"),
                BinaryOp::Min => nan_pick("min", false),
                BinaryOp::Max => nan_pick("max", false),
                BinaryOp::MinNan => nan_pick("min", true),
                BinaryOp::MaxNan => nan_pick("max", true),
                BinaryOp::Pow => {
                    self.helpers.math.insert(MathFn::Pow);
                    if t == ScalarType::F32 {
                        format!("tm_pow({a}, {b})")
                    } else {
                        format!("{}(tm_pow(f32({a}), f32({b})))", scalar_type(t)?)
                    }
                }
                BinaryOp::Atan2 => {
                    self.helpers.math.insert(MathFn::Atan2);
                    if t == ScalarType::F32 {
                        format!("tm_atan2({a}, {b})")
                    } else {
                        format!("{}(tm_atan2(f32({a}), f32({b})))", scalar_type(t)?)
                    }
                }
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
        let z = zero(t);
        let bits = t.bits();
        Ok(match op {
            BinaryOp::Add => format!("({a} + {b})"),
            BinaryOp::Sub => format!("({a} - {b})"),
            BinaryOp::Mul => format!("({a} * {b})"),
            // WGSL already gives MIN / -1 == MIN and x % -1 == 0; only 0 needs a guard,
            // to NVIDIA's results as in MSL: x / 0 is all ones, x % 0 is x.
            BinaryOp::Div | BinaryOp::Rem => {
                let sym = if op == BinaryOp::Div { "/" } else { "%" };
                let by_zero = if op == BinaryOp::Div {
                    format!("(~{z})")
                } else {
                    a.to_string()
                };
                match const_b {
                    Some(0) => by_zero,
                    Some(_) => format!("({a} {sym} {b})"),
                    None => format!("select(({a} {sym} {b}), {by_zero}, ({b} == {z}))"),
                }
            }
            BinaryOp::And => format!("({a} & {b})"),
            BinaryOp::Or => format!("({a} | {b})"),
            BinaryOp::Xor => format!("({a} ^ {b})"),
            BinaryOp::Shl | BinaryOp::Shr => {
                let signed_shr = op == BinaryOp::Shr && t.is_signed_int();
                let sym = if op == BinaryOp::Shl { "<<" } else { ">>" };
                match const_b {
                    Some(n) if n >= 0 && n < bits as i128 => format!("({a} {sym} {n}u)"),
                    Some(_) if signed_shr => format!("({a} >> {}u)", bits - 1),
                    Some(_) => z,
                    None => {
                        let n = Self::shift_amount(tb, b);
                        if signed_shr {
                            format!("({a} >> min({n}, {}u))", bits - 1)
                        } else {
                            format!("select(({a} {sym} {n}), {z}, ({n} >= {bits}u))")
                        }
                    }
                }
            }
            BinaryOp::Min | BinaryOp::MinNan => format!("min({a}, {b})"),
            BinaryOp::Max | BinaryOp::MaxNan => format!("max({a}, {b})"),
            BinaryOp::MulHi => {
                self.helpers.mulhi.insert(t);
                format!("tm_mulhi_{}({a}, {b})", t.name())
            }
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
        scalar_type(t)?;
        let ordered = !matches!(pred, CmpPred::Eq | CmpPred::Ne);
        let (a, b) = if t == ScalarType::BF16 {
            (
                format!("tm_bf16_to_f32({a})"),
                format!("tm_bf16_to_f32({b})"),
            )
        } else if t == ScalarType::I1 && ordered {
            // WGSL orders no bools; false < true, as in C++ and numpy.
            (format!("u32({a})"), format!("u32({b})"))
        } else {
            (a.to_string(), b.to_string())
        };
        if pred == CmpPred::Ne && (t.is_float()) {
            // `!=` is unordered (true on NaN); naga's `!=` on floats is not on every driver.
            return Ok(format!("(!({a} == {b}))"));
        }
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
        scalar_type(from)?;
        let tn = scalar_type(to)?;
        if from == to {
            return Ok(a.to_string());
        }
        if to == ScalarType::I1 {
            return Ok(match from {
                ScalarType::BF16 => format!("(({a} & 0x7fffu) != 0u)"),
                other => format!("({a} != {})", zero(other)),
            });
        }
        if from == ScalarType::I1 {
            return Ok(match to {
                ScalarType::BF16 => format!("select(0u, 0x3f80u, {a})"),
                _ => format!("{tn}({a})"),
            });
        }
        if from == ScalarType::BF16 {
            return self.cast(&format!("tm_bf16_to_f32({a})"), ScalarType::F32, to);
        }
        if to == ScalarType::BF16 {
            let x = if from == ScalarType::F32 {
                a.to_string()
            } else {
                format!("f32({a})")
            };
            return Ok(format!("tm_f32_to_bf16({x})"));
        }
        if from.is_float() && to.is_int() {
            self.helpers.cvt.insert(to);
            let x = if from == ScalarType::F32 {
                a.to_string()
            } else {
                format!("f32({a})")
            };
            return Ok(format!("tm_cvt_{}({x})", to.name()));
        }
        if from.is_int() && to.is_int() {
            // Resize keeping the source's signedness (sign- or zero-extension, or
            // truncation), then reinterpret: naga's mixed conversions are not spelled out.
            let mid = ScalarType::int_of_width(to.bits(), from.is_signed_int())
                .ok_or_else(|| PrintError::malformed("integer cast width"))?;
            let resized = if mid == from {
                a.to_string()
            } else {
                format!("{}({a})", scalar_type(mid)?)
            };
            return Ok(if mid == to {
                resized
            } else {
                format!("bitcast<{tn}>({resized})")
            });
        }
        Ok(format!("{tn}({a})"))
    }

    fn bitcast(&mut self, a: &Val, to: SType) -> Result<String, PrintError> {
        let from = a.ty.scalar;
        let tn = vector_type(to)?;
        vector_type(a.ty)?;
        let (x1, x2) = (SType::scalar, |t| SType::vector(t, 2));
        let is64 = |t: ScalarType| matches!(t, ScalarType::I64 | ScalarType::U64);
        // 64-bit values as two u32 words, low word first (what `as_type<uint2>` gives on
        // Metal): naga has no bitcast between 64-bit scalars and vec2<u32>.
        if a.ty == x1(from) && is64(from) && to == x2(ScalarType::U32) {
            let u = if from == ScalarType::I64 {
                format!("bitcast<u64>({})", a.text)
            } else {
                a.text.clone()
            };
            return Ok(format!("vec2<u32>(u32({u}), u32({u} >> 32u))"));
        }
        if a.ty == x2(ScalarType::U32) && to == x1(to.scalar) && is64(to.scalar) {
            let joined = format!("((u64({0}.y) << 32u) | u64({0}.x))", a.text);
            return Ok(if to.scalar == ScalarType::I64 {
                format!("bitcast<i64>({joined})")
            } else {
                joined
            });
        }
        // f16 to and from the low 16 bits of a 32-bit integer (8/16-bit integers live in
        // 32-bit registers on WGSL): naga cannot bitcast f16 to or from u32 halves.
        let is32 = |t: ScalarType| matches!(t, ScalarType::I32 | ScalarType::U32);
        if a.ty == x1(ScalarType::F16) && to == x1(to.scalar) && is32(to.scalar) {
            self.helpers.f16_to_bits = true;
            let b = format!("tm_f16_to_bits({})", a.text);
            return Ok(if to.scalar == ScalarType::I32 {
                format!("bitcast<i32>({b})")
            } else {
                b
            });
        }
        if a.ty == x1(from) && is32(from) && to == x1(ScalarType::F16) {
            self.helpers.f16_bits = true;
            let u = if from == ScalarType::I32 {
                format!("bitcast<u32>({})", a.text)
            } else {
                a.text.clone()
            };
            return Ok(format!("tm_f16_from_bits({u} & 0xffffu)"));
        }
        if a.ty.lanes != to.lanes || from == ScalarType::I1 || to.scalar == ScalarType::I1 {
            return Err(PrintError::unsupported(format!(
                "bitcast from {} x{} to {} x{} in WGSL",
                from, a.ty.lanes, to.scalar, to.lanes
            )));
        }
        // bf16 lives in the low half of a u32: bitcasts to and from 32-bit integers move
        // those 16 bits (this is how word-emulated bf16 memory is read and written).
        match (from, to.scalar) {
            (ScalarType::BF16, ScalarType::U32) => return Ok(a.text.clone()),
            (ScalarType::BF16, ScalarType::I32) => return Ok(format!("bitcast<{tn}>({})", a.text)),
            (ScalarType::U32, ScalarType::BF16) => {
                return Ok(format!("({} & {})", a.text, splat_mask(to.lanes)))
            }
            (ScalarType::I32, ScalarType::BF16) => {
                return Ok(format!(
                    "(bitcast<{tn}>({}) & {})",
                    a.text,
                    splat_mask(to.lanes)
                ))
            }
            _ => {}
        }
        if from.bits() != to.scalar.bits()
            || from == ScalarType::BF16
            || to.scalar == ScalarType::BF16
        {
            return Err(PrintError::unsupported(format!(
                "bitcast from {from} to {} in WGSL",
                to.scalar
            )));
        }
        Ok(format!("bitcast<{tn}>({})", a.text))
    }

    fn simd(&mut self, op: SimdOp, x: &Val, arg: Option<&str>) -> Result<String, PrintError> {
        let t = x.ty.scalar;
        scalar_type(t)?;
        let need_arg = matches!(
            op,
            SimdOp::ShuffleXor | SimdOp::Shuffle | SimdOp::ShuffleUp | SimdOp::ShuffleDown
        );
        let arg = match (need_arg, arg) {
            (true, Some(a)) => Some(a.to_string()),
            (false, None) => None,
            _ => return Err(PrintError::malformed(format!("simd {op:?} operand count"))),
        };
        let f = match op {
            SimdOp::ShuffleXor => "subgroupShuffleXor",
            SimdOp::Shuffle => "subgroupShuffle",
            SimdOp::ShuffleUp => "subgroupShuffleUp",
            SimdOp::ShuffleDown => "subgroupShuffleDown",
            SimdOp::Sum => "subgroupAdd",
            SimdOp::Max => "subgroupMax",
            SimdOp::Min => "subgroupMin",
            SimdOp::And => "subgroupAnd",
            SimdOp::Or => "subgroupOr",
            SimdOp::Xor => "subgroupXor",
            SimdOp::PrefixInclusiveSum => "subgroupInclusiveAdd",
            SimdOp::PrefixExclusiveSum => "subgroupExclusiveAdd",
            SimdOp::All => "subgroupAll",
            SimdOp::Any => "subgroupAny",
        };
        if matches!(op, SimdOp::All | SimdOp::Any) {
            if x.ty != SType::scalar(ScalarType::I1) {
                return Err(PrintError::malformed("simd all/any take a scalar i1"));
            }
            return Ok(format!("{f}({})", x.text));
        }
        if let Some(arg) = arg {
            let width = self.k.simd_width.max(1);
            // Metal keeps the lane's own value where the source lane is outside the
            // simdgroup; SPIR-V leaves it undefined.
            let edge = match op {
                SimdOp::ShuffleUp => Some(format!("((tm_tid % {width}u) >= {arg})")),
                SimdOp::ShuffleDown => Some(format!("((tm_tid % {width}u) + {arg} < {width}u)")),
                _ => None,
            };
            let shuffled = |v: &str| format!("{f}({v}, {arg})");
            let moved = match t {
                ScalarType::I1 => {
                    let parts: Vec<String> = (0..x.ty.lanes as usize)
                        .map(|l| {
                            format!(
                                "({} != 0u)",
                                shuffled(&format!("select(0u, 1u, {})", x.lane(l)))
                            )
                        })
                        .collect();
                    join_lanes(&vector_type(x.ty)?, &parts)
                }
                ScalarType::I64 | ScalarType::U64 => {
                    if x.ty.lanes != 1 {
                        return Err(PrintError::unsupported("simd shuffles of 64-bit vectors"));
                    }
                    let bits = if t == ScalarType::I64 {
                        format!("bitcast<u64>({})", x.text)
                    } else {
                        x.text.clone()
                    };
                    let joined = format!(
                        "((u64({}) << 32u) | u64({}))",
                        shuffled(&format!("u32({bits} >> 32u)")),
                        shuffled(&format!("u32({bits})"))
                    );
                    if t == ScalarType::I64 {
                        format!("bitcast<i64>({joined})")
                    } else {
                        joined
                    }
                }
                _ => shuffled(&x.text),
            };
            return Ok(match edge {
                Some(ok) => format!("select({}, {moved}, {ok})", x.text),
                None => moved,
            });
        }
        if t.bits() == 64 {
            return Err(PrintError::unsupported(
                "simd reductions of 64-bit values (lowering must use shuffles)",
            ));
        }
        if x.ty.lanes != 1 {
            return Err(PrintError::unsupported("simd reductions of vectors"));
        }
        let bitwise = matches!(op, SimdOp::And | SimdOp::Or | SimdOp::Xor);
        Ok(match t {
            ScalarType::I1 if bitwise => format!("({f}(select(0u, 1u, {})) != 0u)", x.text),
            ScalarType::I1 => return Err(PrintError::unsupported(format!("simd {op:?} on i1"))),
            ScalarType::BF16 if bitwise => format!("{f}({})", x.text),
            ScalarType::BF16 => format!("tm_f32_to_bf16({f}(tm_bf16_to_f32({})))", x.text),
            _ if bitwise && t.is_float() => {
                return Err(PrintError::unsupported(format!("simd {op:?} on floats")))
            }
            _ => format!("{f}({})", x.text),
        })
    }
}

/// `x` (of float type `t`) as f32: f16 and bf16 widen exactly, NaN and infinity kept.
fn as_f32(t: ScalarType, x: &str) -> String {
    match t {
        ScalarType::F32 => x.to_string(),
        ScalarType::BF16 => format!("tm_bf16_to_f32({x})"),
        _ => format!("f32({x})"),
    }
}

/// NaN test on the bits: `x != x` is not reliable through naga and every driver.
fn is_nan(t: ScalarType, x: &str) -> String {
    format!(
        "((bitcast<u32>({}) & 0x7fffffffu) > 0x7f800000u)",
        as_f32(t, x)
    )
}

fn splat_mask(lanes: u8) -> String {
    if lanes == 1 {
        "0xffffu".into()
    } else {
        format!("vec{lanes}<u32>(0xffffu)")
    }
}

/// Atomic element types WGSL (with wgpu's capabilities) has.
fn atomic_elem(t: ScalarType) -> Result<(), PrintError> {
    match t {
        ScalarType::I32 | ScalarType::U32 | ScalarType::F32 | ScalarType::I64 | ScalarType::U64 => {
            Ok(())
        }
        other => Err(PrintError::unsupported(format!(
            "atomics on {other} in WGSL"
        ))),
    }
}

fn offset(i: &str, l: usize) -> String {
    if l == 0 {
        i.to_string()
    } else {
        format!("{i} + {l}u")
    }
}

fn join_lanes(ty: &str, parts: &[String]) -> String {
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("{ty}({})", parts.join(", "))
    }
}

fn const_int(e: &Expr) -> Option<i128> {
    let Expr::Binary(_, _, Operand::Const(Literal::Int(v), t)) = e else {
        return None;
    };
    t.is_int().then(|| int_value(*v, *t))
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
    crate::wgsl_math::helper_text(&h.math, o);
    if h.from_bits {
        o.push_str("fn tm_f32_from_bits(b: u32) -> f32 {\n    return bitcast<f32>(b);\n}\n\n");
    }
    if h.f16_bits {
        // naga cannot bitcast a u32 to vec2<f16>, and unpack2x16float needs another
        // capability: decode the 16 bits by hand (exactly; subnormals, inf and NaN kept).
        o.push_str(
            "fn tm_f16_from_bits(b: u32) -> f16 {
    let e = (b >> 10u) & 0x1fu;
    let m = b & 0x3ffu;
    var f: f32;
    if (e == 0u) {
        f = f32(m) * 5.9604644775390625e-8f;
    } else if (e == 31u) {
        f = bitcast<f32>(0x7f800000u | (m << 13u));
    } else {
        f = bitcast<f32>(((e + 112u) << 23u) | (m << 13u));
    }
    if ((b & 0x8000u) != 0u) {
        f = -f;
    }
    return f16(f);
}

",
        );
    }
    if h.f16_to_bits {
        // The inverse of tm_f16_from_bits, through the exact f16 -> f32 conversion.
        o.push_str(
            "fn tm_f16_to_bits(h: f16) -> u32 {
    let f = f32(h);
    let u = bitcast<u32>(f);
    let s = (u >> 16u) & 0x8000u;
    let a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) {
        return s | 0x7c00u | ((a >> 13u) & 0x3ffu);
    }
    if (a < 0x38800000u) {
        return s | u32(abs(f) * 16777216.0f);
    }
    return s | (((a >> 23u) - 112u) << 10u) | ((a >> 13u) & 0x3ffu);
}

",
        );
    }
    if h.bf16 {
        o.push_str(
            "fn tm_bf16_to_f32(x: u32) -> f32 {
    return bitcast<f32>(x << 16u);
}

fn tm_f32_to_bf16(f: f32) -> u32 {
    let u = bitcast<u32>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (u >> 16u) | 0x40u;
    }
    return (u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u;
}

",
        );
    }
    for &t in &h.cvt {
        let tn = scalar_type(t).unwrap_or("i32");
        let bits = t.bits();
        let z = zero(t);
        let _ = writeln!(o, "fn tm_cvt_{}(x: f32) -> {tn} {{", t.name());
        if t.is_signed_int() {
            let max = (1i128 << (bits - 1)) - 1;
            let bound = 1u128 << (bits - 1);
            let _ = writeln!(
                o,
                "    if ({}) {{\n        return {z};\n    }}",
                is_nan(ScalarType::F32, "x")
            );
            let _ = writeln!(
                o,
                "    if (x >= {bound}.0f) {{\n        return {};\n    }}",
                const_text(Literal::Int(max as i64), t).unwrap_or_default()
            );
            let _ = writeln!(
                o,
                "    if (x < -{bound}.0f) {{\n        return {};\n    }}",
                const_text(Literal::Int((-max - 1) as i64), t).unwrap_or_default()
            );
        } else {
            let bound = 1u128 << bits;
            let _ = writeln!(
                o,
                "    if ({} || x <= -1.0f) {{\n        return {z};\n    }}",
                is_nan(ScalarType::F32, "x")
            );
            let _ = writeln!(
                o,
                "    if (x >= {bound}.0f) {{\n        return {};\n    }}",
                const_text(Literal::Int(-1), t).unwrap_or_default()
            );
        }
        let _ = writeln!(o, "    return {tn}(x);\n}}\n");
    }
    for &t in &h.mulhi {
        o.push_str(&mulhi_helper(t));
    }
}

/// High half of the full product from half-width limbs (WGSL has no widening multiply).
/// Signed: the unsigned high half, corrected by subtracting the other operand for each
/// negative one (mod 2^bits).
fn mulhi_helper(t: ScalarType) -> String {
    let wide = t.bits() == 64;
    let (u, s, h, m) = if wide {
        ("u64", "i64", "32u", "0xfffffffflu")
    } else {
        ("u32", "i32", "16u", "0xffffu")
    };
    let name = t.name();
    if t.is_unsigned_int() {
        format!(
            "fn tm_mulhi_{name}(a: {u}, b: {u}) -> {u} {{
    let al = a & {m};
    let ah = a >> {h};
    let bl = b & {m};
    let bh = b >> {h};
    let lh = al * bh;
    let hl = ah * bl;
    let mid = ((al * bl) >> {h}) + (lh & {m}) + (hl & {m});
    return ah * bh + (lh >> {h}) + (hl >> {h}) + (mid >> {h});
}}

"
        )
    } else {
        let uname = if wide { "u64" } else { "u32" };
        let zero = if wide { "0li" } else { "0i" };
        format!(
            "fn tm_mulhi_{uname}_for_{name}(a: {u}, b: {u}) -> {u} {{
    let al = a & {m};
    let ah = a >> {h};
    let bl = b & {m};
    let bh = b >> {h};
    let lh = al * bh;
    let hl = ah * bl;
    let mid = ((al * bl) >> {h}) + (lh & {m}) + (hl & {m});
    return ah * bh + (lh >> {h}) + (hl >> {h}) + (mid >> {h});
}}

fn tm_mulhi_{name}(a: {s}, b: {s}) -> {s} {{
    var r = tm_mulhi_{uname}_for_{name}(bitcast<{u}>(a), bitcast<{u}>(b));
    if (a < {zero}) {{
        r = r - bitcast<{u}>(b);
    }}
    if (b < {zero}) {{
        r = r - bitcast<{u}>(a);
    }}
    return bitcast<{s}>(r);
}}

"
        )
    }
}
