//! Tile IR → SIMT IR. One program instance is one workgroup of `num_warps × simd_width`
//! threads; every tensor becomes, in each thread, the registers its layout gives that thread,
//! fully unrolled into locals.
//!
//! Pointers become i32 element indices into the buffer of their base parameter (buffers
//! larger than 2^31 elements are not supported).

mod atomic;
mod atomic64;
mod axis;
mod bf16;
mod control;
mod convert;
mod debug;
mod dot;
mod elementwise;
mod f16bits;
mod fence;
mod matrix;
mod memory;
mod pipeline;
mod prologue;
mod provenance;
mod reduce;
mod scan;
mod scratch;
mod shape;
mod uniform;
mod widen;

use rustc_hash::FxHashMap;
use tm_core::{
    Arena, BufferBinding, KernelAbi, Loc, ScalarSlot, ScalarType, ScratchBinding, Target,
    SCALAR_HEADER_BYTES,
};
use tm_tile::{BlockId, Function, Literal, OpId, OpKind, ValueId};

use crate::assign::{assign_for, Assignment};
pub use crate::error::LowerError;
use crate::ir::{
    BufferParam, Expr, Kernel, Local, LocalId, Operand, SType, ScalarParam, SharedArray, Stmt,
};
use crate::layout::{resolve, Layout, TensorMap};

/// A Tile IR value once lowered: its registers in this thread (one for a scalar), the layout
/// they follow, their scalar type (i32 indices for pointers) and, for pointers, the buffer.
#[derive(Clone, Debug)]
pub(crate) struct LVal {
    pub regs: Vec<Operand>,
    pub layout: Option<Layout>,
    pub ty: ScalarType,
    pub buf: Option<u32>,
}

impl LVal {
    fn reg(&self, r: usize) -> Operand {
        if self.regs.len() == 1 {
            self.regs[0]
        } else {
            self.regs[r]
        }
    }
}

/// How a buffer parameter is accessed in the printed kernel.
#[derive(Clone, Debug)]
struct BufInfo {
    pointee: ScalarType,
    /// Element bits when 8/16-bit data (or i1) is accessed through u32 words.
    word_bits: Option<u32>,
    atomic: bool,
    /// Float data declared as u32 words holding the bits: the buffer is updated atomically
    /// in ways the target has no float atomic for (compare-and-swap loops).
    float_bits: bool,
}

pub(crate) struct Lowerer<'a> {
    f: &'a Function,
    target: &'a Target,
    asg: Assignment,
    axis: FxHashMap<ValueId, axis::AxisInfo>,
    simd: u32,
    num_warps: u32,
    locals: Arena<Local>,
    /// Statements run once after the grid guard; thread-dependent layout offsets are added
    /// here on first use, so they are visible everywhere in the body.
    prologue: Vec<Stmt>,
    stack: Vec<Vec<Stmt>>,
    vals: FxHashMap<ValueId, LVal>,
    bufs: Vec<BufInfo>,
    buffers: Vec<BufferParam>,
    scalars: Vec<ScalarParam>,
    shared: Vec<SharedArray>,
    /// Per threadgroup array: in use (scratch arrays are reused once released).
    shared_busy: Vec<bool>,
    /// Threadgroup bytes held by top-level reductions' own exchange arrays (reduce.rs).
    private_bytes: u32,
    matrices: Vec<ScalarType>,
    matrix_size: u32,
    /// Values in matrix registers (`Layout::Matrix`): their tiles, by value.
    held: FxHashMap<ValueId, matrix::Held>,
    /// Launcher-supplied buffers, bound after the arguments; each is also the entry of
    /// `buffers` (and `bufs`) at index `binding - 1`.
    launcher_buffers: Vec<ScratchBinding>,
    /// Print/assert sites lowered so far (debug.rs), in site-id order.
    debug_sites: Vec<tm_core::debug::DebugSite>,
    geo: prologue::Geometry,
    loc: Loc,
    f16_bits: f16bits::F16Bits,
}

/// Lower a Tile IR function for a target, with `num_warps` simdgroups per program.
pub fn lower(f: &Function, target: &Target, num_warps: u32) -> Result<Kernel, LowerError> {
    let simd = target.simd_width;
    let pow2 = |x: u32| x != 0 && x & (x - 1) == 0;
    if !pow2(simd) {
        return Err(LowerError::new(
            format!("SIMD width {simd} is not a power of two"),
            Loc::UNKNOWN,
        ));
    }
    if !pow2(num_warps) {
        return Err(LowerError::new(
            format!("num_warps must be a power of two, got {num_warps}"),
            Loc::UNKNOWN,
        ));
    }
    let threads = simd * num_warps;
    if threads > target.max_threads_per_group {
        return Err(LowerError::new(
            format!(
                "num_warps={num_warps} needs {threads} threads per group; {} allows {}",
                target.name, target.max_threads_per_group
            ),
            Loc::UNKNOWN,
        ));
    }
    let asg = assign_for(f, target, num_warps)?;
    let prov = provenance::analyze(f)?;
    let mut l = Lowerer {
        f,
        target,
        asg,
        axis: axis::analyze(f),
        simd,
        num_warps,
        locals: Arena::default(),
        prologue: Vec::new(),
        stack: vec![Vec::new()],
        vals: FxHashMap::default(),
        bufs: Vec::new(),
        buffers: Vec::new(),
        scalars: Vec::new(),
        shared: Vec::new(),
        shared_busy: Vec::new(),
        private_bytes: 0,
        matrices: Vec::new(),
        matrix_size: 0,
        held: FxHashMap::default(),
        launcher_buffers: Vec::new(),
        debug_sites: Vec::new(),
        geo: prologue::Geometry::default(),
        loc: Loc::UNKNOWN,
        f16_bits: f16bits::analyze(f, &prov, target),
    };
    let abi = l.params(&prov)?;
    l.in_prologue(|l| {
        l.grid_prologue()?;
        l.scalar_params()
    })?;
    l.lower_block(f.body)?;
    let main = l.stack.pop().unwrap_or_default();
    let mut body = std::mem::take(&mut l.prologue);
    body.extend(main);
    let shared_bytes: u32 = l.shared.iter().map(|s| s.len * s.elem.size_bytes()).sum();
    if shared_bytes > target.shared_mem_bytes {
        return Err(LowerError::new(
            format!(
                "kernel needs {shared_bytes} bytes of threadgroup memory; {} has {}",
                target.name, target.shared_mem_bytes
            ),
            Loc::UNKNOWN,
        ));
    }
    let mut kernel = Kernel {
        name: f.name.clone(),
        threads_per_group: threads,
        simd_width: simd,
        locals: l.locals,
        buffers: l.buffers,
        scalars: l.scalars,
        shared: l.shared,
        matrices: l.matrices,
        matrix_size: l.matrix_size,
        body,
        abi: KernelAbi {
            shared_bytes,
            scratch: l.launcher_buffers,
            debug: (!l.debug_sites.is_empty()).then(|| tm_core::debug::DebugInfo {
                kernel: f.name.clone(),
                sites: l.debug_sites,
            }),
            ..abi
        },
    };
    if !target.narrow_int_registers {
        widen::widen_narrow_ints(&mut kernel)?;
    }
    Ok(kernel)
}

impl<'a> Lowerer<'a> {
    fn err(&self, msg: impl Into<String>) -> LowerError {
        LowerError::new(msg, self.loc)
    }

    /// Refuse element types the target cannot compute with.
    fn check_type(&self, s: ScalarType) -> Result<(), LowerError> {
        let t = self.target;
        let bad = match s {
            ScalarType::F64 if !t.has_f64 => Some("fp64"),
            ScalarType::I64 | ScalarType::U64 if !t.has_i64 => Some("64-bit integers"),
            ScalarType::F16 if !t.has_f16 => Some("fp16"),
            _ => None,
        };
        match bad {
            Some(what) => Err(self.err(format!("{what}: not available on {}", t.name))),
            None => Ok(()),
        }
    }

    /// The register type of a value: its scalar type, i32 for pointers.
    fn reg_ty(&self, v: ValueId) -> Result<ScalarType, LowerError> {
        let ty = self.f.ty(v);
        let s = ty.scalar_type().unwrap_or(ScalarType::I32);
        self.check_type(s)?;
        Ok(s)
    }

    fn map(&self, layout: &Layout, shape: &[u32]) -> Result<TensorMap, LowerError> {
        resolve(layout, shape).map_err(|e| self.err(e.0))
    }

    /// The number of registers a value has in its assigned layout (1 for scalars).
    fn num_regs(&self, v: ValueId) -> Result<usize, LowerError> {
        match self.asg.layout(v) {
            Some(l) => Ok(self.map(l, &self.f.ty(v).shape)?.num_regs()),
            None => Ok(1),
        }
    }

    fn local(&mut self, ty: SType) -> LocalId {
        self.locals.append(Local { ty, name: None })
    }

    fn emit(&mut self, s: Stmt) {
        if let Some(b) = self.stack.last_mut() {
            b.push(s);
        }
    }

    /// A new local of type `ty` holding `e`.
    fn let_(&mut self, ty: ScalarType, e: Expr) -> Operand {
        self.let_v(SType::scalar(ty), e)
    }

    fn let_v(&mut self, ty: SType, e: Expr) -> Operand {
        let dst = self.local(ty);
        self.emit(Stmt::Assign { dst, expr: e });
        Operand::Local(dst)
    }

    fn set(&mut self, dst: LocalId, v: Operand) {
        self.emit(Stmt::Assign {
            dst,
            expr: Expr::Operand(v),
        });
    }

    /// Run `f` collecting the statements it emits.
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, LowerError>,
    ) -> Result<(Vec<Stmt>, T), LowerError> {
        self.stack.push(Vec::new());
        let r = f(self);
        let stmts = self.stack.pop().unwrap_or_default();
        Ok((stmts, r?))
    }

    /// `if cond { then } else { els }`, folded when the condition is a constant.
    fn emit_if(&mut self, cond: Operand, then_body: Vec<Stmt>, else_body: Vec<Stmt>) {
        match cond {
            Operand::Const(Literal::Int(v), _) => {
                let b = if v != 0 { then_body } else { else_body };
                if let Some(cur) = self.stack.last_mut() {
                    cur.extend(b);
                }
            }
            _ => self.emit(Stmt::If {
                cond,
                then_body,
                else_body,
            }),
        }
    }

    fn i32c(v: i64) -> Operand {
        Operand::Const(Literal::Int(v), ScalarType::I32)
    }

    fn u32c(v: i64) -> Operand {
        Operand::Const(Literal::Int(v), ScalarType::U32)
    }

    fn zero(ty: ScalarType) -> Operand {
        let lit = if ty.is_float() {
            Literal::Float(0.0)
        } else {
            Literal::Int(0)
        };
        Operand::Const(lit, ty)
    }

    /// i32 arithmetic on indices, folding constants so index math stays readable.
    fn iadd(&mut self, a: Operand, b: Operand) -> Operand {
        match (a, b) {
            (Operand::Const(Literal::Int(x), _), Operand::Const(Literal::Int(y), _)) => {
                Self::i32c(x + y)
            }
            (x, Operand::Const(Literal::Int(0), _)) | (Operand::Const(Literal::Int(0), _), x) => x,
            _ => self.let_(ScalarType::I32, Expr::Binary(tm_tile::BinaryOp::Add, a, b)),
        }
    }

    fn imul(&mut self, a: Operand, c: i64) -> Operand {
        match a {
            Operand::Const(Literal::Int(x), _) => Self::i32c(x * c),
            _ if c == 0 => Self::i32c(0),
            _ if c == 1 => a,
            _ => self.let_(
                ScalarType::I32,
                Expr::Binary(tm_tile::BinaryOp::Mul, a, Self::i32c(c)),
            ),
        }
    }

    fn cast(&mut self, v: Operand, from: ScalarType, to: ScalarType) -> Operand {
        if from == to {
            return v;
        }
        if let Operand::Const(Literal::Int(x), _) = v {
            if to.is_int() && !to.is_bool() && from.is_int() && !from.is_bool() {
                // Small index constants only; others go through a real cast.
                if (0..=i32::MAX as i64).contains(&x) && to.bits() >= 32 {
                    return Operand::Const(Literal::Int(x), to);
                }
            }
        }
        self.let_(to, Expr::Cast(v, SType::scalar(to)))
    }

    fn value(&self, v: ValueId) -> Result<LVal, LowerError> {
        self.vals
            .get(&v)
            .cloned()
            .ok_or_else(|| self.err(format!("value %{} used before it is defined", v.index())))
    }

    /// The layout assignment asks of operand `i` of `op` when it is not the value's own.
    fn wanted_layout(&self, op: OpId, i: usize) -> Result<Option<Layout>, LowerError> {
        if !self.asg.converts(self.f, op, i) {
            return Ok(None);
        }
        self.asg
            .request(op, i)
            .cloned()
            .map(Some)
            .ok_or_else(|| self.err("internal: conversion without a target layout"))
    }

    /// Operand `i` of `op`, converted to the layout assignment asked for it.
    fn operand(&mut self, op: OpId, i: usize) -> Result<LVal, LowerError> {
        let v = self.f.ops[op].operands[i];
        let lv = self.value(v)?;
        if self.held.contains_key(&v) {
            return self.held_to_regs(op, i);
        }
        let Some(want) = self.wanted_layout(op, i)? else {
            return Ok(lv);
        };
        let shape = self.f.ty(v).shape.clone();
        if let Some(regs) = self.rematerialize(v, &want)? {
            return Ok(LVal {
                regs,
                layout: Some(want),
                ..lv
            });
        }
        self.convert(&lv, &shape, &want)
    }

    fn operands(&mut self, op: OpId) -> Result<Vec<LVal>, LowerError> {
        (0..self.f.ops[op].operands.len())
            .map(|i| self.operand(op, i))
            .collect()
    }

    fn define(
        &mut self,
        v: ValueId,
        regs: Vec<Operand>,
        buf: Option<u32>,
    ) -> Result<(), LowerError> {
        let ty = self.reg_ty(v)?;
        let layout = self.asg.layout(v).cloned();
        self.vals.insert(
            v,
            LVal {
                regs,
                layout,
                ty,
                buf,
            },
        );
        Ok(())
    }

    /// Lower the ops of a block up to (not including) its terminator, which is returned.
    fn lower_ops(&mut self, b: BlockId) -> Result<Option<OpId>, LowerError> {
        for &op in &self.f.blocks[b].ops {
            if self.f.ops[op].kind.is_terminator() {
                return Ok(Some(op));
            }
            self.loc = self.f.ops[op].loc;
            self.lower_op(op)?;
        }
        Ok(None)
    }

    fn lower_block(&mut self, b: BlockId) -> Result<(), LowerError> {
        if let Some(t) = self.lower_ops(b)? {
            self.loc = self.f.ops[t].loc;
            if !matches!(self.f.ops[t].kind, OpKind::Return) {
                return Err(self.err("the function body must end in return"));
            }
        }
        Ok(())
    }

    fn lower_op(&mut self, op: OpId) -> Result<(), LowerError> {
        let o = &self.f.ops[op];
        match &o.kind {
            OpKind::Constant(lit) => self.lower_constant(op, *lit),
            OpKind::ProgramId(axis) => self.lower_program_id(op, *axis),
            OpKind::NumPrograms(axis) => self.lower_num_programs(op, *axis),
            OpKind::MakeRange { start, .. } => self.lower_make_range(op, *start),
            OpKind::Splat | OpKind::Hint { .. } => self.lower_alias(op),
            OpKind::Broadcast => self.lower_broadcast(op),
            OpKind::ExpandDims(_) => self.lower_expand_dims(op),
            OpKind::Unary(_)
            | OpKind::Binary(_)
            | OpKind::Cmp(_)
            | OpKind::Select
            | OpKind::Cast
            | OpKind::Bitcast
            | OpKind::Fma
            | OpKind::AddPtr => self.lower_elementwise(op),
            OpKind::Load {
                has_mask,
                has_other,
                ..
            } => self.lower_load(op, *has_mask, *has_other),
            OpKind::Store { has_mask } => self.lower_store(op, *has_mask),
            OpKind::Reduce { axis } => self.lower_reduce(op, *axis),
            OpKind::Reshape { .. } => self.lower_reshape(op),
            OpKind::Permute(perm) => {
                let perm = perm.clone();
                self.lower_permute(op, &perm)
            }
            OpKind::Join => self.lower_join(op),
            OpKind::Dot { .. } => self.lower_dot(op),
            OpKind::Scan { axis, reverse } => {
                let (axis, reverse) = (*axis, *reverse);
                self.lower_scan(op, axis, reverse)
            }
            OpKind::AtomicRmw {
                op: aop, has_mask, ..
            } => {
                let (aop, has_mask) = (*aop, *has_mask);
                self.lower_atomic_rmw(op, aop, has_mask)
            }
            OpKind::AtomicCas { .. } => self.lower_atomic_cas(op),
            OpKind::Split => self.lower_split(op),
            OpKind::For => self.lower_for(op),
            OpKind::If => self.lower_if(op),
            OpKind::While => self.lower_while(op),
            OpKind::Barrier => {
                self.emit(Stmt::Barrier);
                Ok(())
            }
            // Asserts reach lowering only in debug mode (the compiler drops them otherwise).
            OpKind::Assert { message } => self.lower_assert(op, &message.clone()),
            OpKind::Print { prefix, hex } => {
                let (prefix, hex) = (prefix.clone(), *hex);
                self.lower_print(op, &prefix, hex)
            }
            other => Err(self.err(format!(
                "'{}' cannot be lowered to SIMT IR yet",
                other.name()
            ))),
        }
    }

    /// Buffers (bindings 1.. in parameter order) and the ABI of the scalar buffer.
    fn params(&mut self, prov: &provenance::Provenance) -> Result<KernelAbi, LowerError> {
        let f = self.f;
        let mut abi = KernelAbi {
            entry: self.target.dialect.entry_point(&f.name),
            threads_per_group: self.simd * self.num_warps,
            buffers: Vec::new(),
            scratch: Vec::new(),
            scalars: Vec::new(),
            scalar_bytes: SCALAR_HEADER_BYTES,
            shared_bytes: 0,
            debug: None,
        };
        let native_float = atomic::native_float_atomics(f, prov, self.target);
        let mut offset = SCALAR_HEADER_BYTES;
        for (i, p) in f.params.iter().enumerate() {
            let ty = f.ty(p.value);
            if ty.is_tensor() {
                return Err(self.err(format!("parameter '{}' is a tensor", p.name)));
            }
            match ty.elem {
                tm_tile::Elem::Ptr(s) => {
                    self.check_type(s)?;
                    let b = self.bufs.len() as u32;
                    // bf16 data too: WGSL storage has no 16-bit type; f16 data where its
                    // bits must survive (f16bits.rs).
                    let small = (s.bits() < 32 && (s.is_int() || s == ScalarType::BF16))
                        || self.f16_words(i);
                    let word_bits = (!self.target.byte_addressable && small).then(|| {
                        if s.is_bool() {
                            8
                        } else {
                            s.bits()
                        }
                    });
                    let atomic = prov.atomics[i] || (word_bits.is_some() && prov.writes[i]);
                    if prov.atomics[i] {
                        self.check_atomic_type(s)?;
                    }
                    let float_bits = prov.atomics[i] && s.is_float() && !native_float[i];
                    let elem = match (word_bits, s) {
                        (Some(_), _) => ScalarType::U32,
                        _ if float_bits => ScalarType::U32,
                        (None, ScalarType::I1) => ScalarType::U8,
                        (None, s) => s,
                    };
                    self.bufs.push(BufInfo {
                        pointee: s,
                        word_bits,
                        atomic,
                        float_bits,
                    });
                    self.buffers.push(BufferParam {
                        name: p.name.clone(),
                        elem,
                        writes: prov.writes[i],
                        atomic,
                    });
                    abi.buffers.push(BufferBinding {
                        arg_index: p.arg_index as usize,
                        binding: b + 1,
                        elem: s,
                        reads: prov.reads[i],
                        writes: prov.writes[i],
                    });
                    self.vals.insert(
                        p.value,
                        LVal {
                            regs: vec![Self::i32c(0)],
                            layout: None,
                            ty: ScalarType::I32,
                            buf: Some(b),
                        },
                    );
                }
                tm_tile::Elem::Scalar(s) => {
                    self.check_type(s)?;
                    // Slots are at least 4 bytes so every target can read them as words.
                    let size = s.size_bytes().max(4);
                    offset = offset.div_ceil(size) * size;
                    abi.scalars.push(ScalarSlot {
                        arg_index: p.arg_index as usize,
                        offset,
                        ty: s,
                    });
                    offset += size;
                }
            }
        }
        abi.scalar_bytes = offset.div_ceil(16) * 16;
        if abi.buffers.len() as u32 + 1 > self.target.max_buffers {
            return Err(self.err(format!(
                "kernel has {} pointer arguments; {} allows {}",
                abi.buffers.len(),
                self.target.name,
                self.target.max_buffers - 1
            )));
        }
        Ok(abi)
    }
}
