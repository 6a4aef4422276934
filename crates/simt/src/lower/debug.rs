//! `tl.device_print` and `tl.device_assert` on GPUs: each site appends fixed-size records
//! to the kernel's debug buffer (`ScratchKind::Debug`, a launcher-supplied buffer bound
//! after the arguments) and describes itself in `KernelAbi::debug`, from which the host
//! formats the records (record layout: `tm_core::debug`).
//!
//! Each element is recorded once, by the thread that owns it (the others hold copies of a
//! replicated element, or of a scalar). A thread reserves all its records of one site with
//! a single atomic add on the buffer's counter word and writes those that fit; the counter
//! keeps counting past the capacity, so the host knows how many were dropped.
//!
//! Asserts reach this lowering only in debug mode: the compiler removes them otherwise,
//! as Triton does.

use tm_core::debug::{
    debug_capacity, DebugOperand, DebugSite, DebugSiteKind, DEBUG_BUFFER_BYTES, DEBUG_HEADER_WORDS,
    DEBUG_RECORD_WORDS, NO_OPERAND,
};
use tm_core::{ScalarType, ScratchKind};
use tm_tile::{AtomicOp, BinaryOp, CmpPred, Literal, OpId, UnaryOp};

use super::{LVal, LowerError, Lowerer};
use crate::ir::{Expr, Operand, SType, Space, Stmt};

/// One record to write: element index and value words (operand and site are per group).
struct Record {
    element: Operand,
    lo: Operand,
    hi: Operand,
}

impl Lowerer<'_> {
    /// The index in `buffers` of the debug buffer, added on first use.
    fn debug_buffer(&mut self) -> Result<u32, LowerError> {
        self.launcher_buffer(
            ScratchKind::Debug,
            "tm_debug",
            DEBUG_BUFFER_BYTES,
            "device_print/device_assert need a buffer for their records",
        )
    }

    pub(super) fn lower_print(
        &mut self,
        op: OpId,
        prefix: &str,
        hex: bool,
    ) -> Result<(), LowerError> {
        let n = self.f.ops[op].operands.len();
        let mut operands = Vec::with_capacity(n);
        let site = self.debug_sites.len() as u32;
        let pid = self.pid_words()?;
        if n == 0 {
            let owner = self.lane_zero_owner();
            let rec = Record {
                element: Self::u32c(0),
                lo: Self::u32c(0),
                hi: Self::u32c(0),
            };
            self.write_records(owner, site, pid, NO_OPERAND, vec![rec])?;
        }
        for k in 0..n {
            let v = self.f.ops[op].operands[k];
            let ty = self.f.ty(v);
            let Some(elem) = ty.scalar_type().filter(|_| !ty.elem.is_ptr()) else {
                return Err(self.err(
                    "device_print of a pointer is supported only in the interpreter \
                     (TRITON_METAL_INTERPRET=1)",
                ));
            };
            self.check_type(elem)?;
            let shape = ty.shape.clone();
            let lv = self.operand(op, k)?;
            let (owner, records) = self.element_records(&lv, elem, &shape, |s, reg| {
                let (lo, hi) = s.value_words(reg, elem);
                (lo, hi)
            })?;
            self.write_records(owner, site, pid, k as u32, records)?;
            operands.push(DebugOperand { elem, shape });
        }
        self.debug_sites.push(DebugSite {
            kind: DebugSiteKind::Print {
                prefix: prefix.to_string(),
                hex,
            },
            operands,
        });
        Ok(())
    }

    pub(super) fn lower_assert(&mut self, op: OpId, message: &str) -> Result<(), LowerError> {
        let v = self.f.ops[op].operands[0];
        let shape = self.f.ty(v).shape.clone();
        let site = self.debug_sites.len() as u32;
        let pid = self.pid_words()?;
        let lv = self.operand(op, 0)?;
        let zero = Self::u32c(0);
        // Only failing elements are recorded: each record sits under its own condition.
        let (owner, records) =
            self.element_records(&lv, ScalarType::I1, &shape, |_, _| (zero, zero))?;
        let conds: Vec<Operand> = (0..records.len())
            .map(|r| {
                let c = lv.reg(r);
                self.let_(ScalarType::I1, Expr::Unary(UnaryOp::Not, c))
            })
            .collect();
        for (rec, failed) in records.into_iter().zip(conds) {
            let cond = self.and_i1(owner, failed);
            let (body, ()) =
                self.nested(|s| s.write_records(Self::one(), site, pid, 0, vec![rec]))?;
            self.emit_if(cond, body, Vec::new());
        }
        let (file, line, col, source_line) = match self.f.describe_loc(self.loc) {
            Some((path, line, col)) => {
                let src = self
                    .f
                    .files
                    .get(self.loc.file as usize)
                    .and_then(|s| s.line_text(line))
                    .unwrap_or("")
                    .to_string();
                (path.to_string(), line, col, src)
            }
            None => (String::new(), 0, 0, String::new()),
        };
        self.debug_sites.push(DebugSite {
            kind: DebugSiteKind::Assert {
                message: message.to_string(),
                file,
                line,
                col,
                source_line,
            },
            operands: vec![DebugOperand {
                elem: ScalarType::I1,
                shape,
            }],
        });
        Ok(())
    }

    fn one() -> Operand {
        Operand::Const(Literal::Int(1), ScalarType::I1)
    }

    /// The three program ids as u32.
    fn pid_words(&mut self) -> Result<[Operand; 3], LowerError> {
        let mut out = [Self::u32c(0); 3];
        for (axis, o) in out.iter_mut().enumerate() {
            let p = self.program_id(axis as u8)?;
            *o = self.cast(p, ScalarType::I32, ScalarType::U32);
        }
        Ok(out)
    }

    /// For every register of `lv` (a value of `elem`, shape `shape`): its element index and
    /// value words; with the condition under which this thread is the element's owner.
    fn element_records(
        &mut self,
        lv: &LVal,
        elem: ScalarType,
        shape: &[u32],
        mut words: impl FnMut(&mut Self, Operand) -> (Operand, Operand),
    ) -> Result<(Operand, Vec<Record>), LowerError> {
        let _ = elem;
        let Some(layout) = lv.layout.clone().filter(|_| !shape.is_empty()) else {
            let owner = self.lane_zero_owner();
            let (lo, hi) = words(self, lv.reg(0));
            return Ok((
                owner,
                vec![Record {
                    element: Self::u32c(0),
                    lo,
                    hi,
                }],
            ));
        };
        let m = self.map(&layout, shape)?;
        let owner = self.owner(&layout, shape)?;
        let base = self.thread_linear(&layout, shape)?;
        let strides = m.strides();
        let mut out = Vec::with_capacity(m.num_regs());
        for r in 0..m.num_regs() {
            let c: i64 = m
                .reg_offsets(r)
                .iter()
                .zip(&strides)
                .map(|(&o, &s)| o as i64 * s as i64)
                .sum();
            let idx = self.iadd(base, Self::i32c(c));
            let element = self.cast(idx, ScalarType::I32, ScalarType::U32);
            let (lo, hi) = words(self, lv.reg(r));
            out.push(Record { element, lo, hi });
        }
        Ok((owner, out))
    }

    /// The two value words of a register of type `elem` (see `tm_core::debug`).
    fn value_words(&mut self, v: Operand, elem: ScalarType) -> (Operand, Operand) {
        let u32t = SType::scalar(ScalarType::U32);
        let zero = Self::u32c(0);
        match elem {
            ScalarType::F32 => (self.let_(ScalarType::U32, Expr::Bitcast(v, u32t)), zero),
            ScalarType::F16 | ScalarType::BF16 => {
                let f = self.cast(v, elem, ScalarType::F32);
                (self.let_(ScalarType::U32, Expr::Bitcast(f, u32t)), zero)
            }
            ScalarType::F64 => {
                let b = self.let_(
                    ScalarType::U64,
                    Expr::Bitcast(v, SType::scalar(ScalarType::U64)),
                );
                self.split64(b)
            }
            ScalarType::I64 => {
                let b = self.let_(
                    ScalarType::U64,
                    Expr::Bitcast(v, SType::scalar(ScalarType::U64)),
                );
                self.split64(b)
            }
            ScalarType::U64 => self.split64(v),
            ScalarType::I1 => {
                let one = Self::u32c(1);
                (self.let_(ScalarType::U32, Expr::Select(v, one, zero)), zero)
            }
            // Narrow and 32-bit integers: the host keeps the low bits of the type's width.
            t => (self.cast(v, t, ScalarType::U32), zero),
        }
    }

    fn split64(&mut self, v: Operand) -> (Operand, Operand) {
        let lo = self.cast(v, ScalarType::U64, ScalarType::U32);
        let shifted = self.let_(
            ScalarType::U64,
            Expr::Binary(
                BinaryOp::Shr,
                v,
                Operand::Const(Literal::Int(32), ScalarType::U64),
            ),
        );
        let hi = self.cast(shifted, ScalarType::U64, ScalarType::U32);
        (lo, hi)
    }

    /// Reserves `records.len()` records with one atomic add when `owner` holds, and writes
    /// each that fits.
    fn write_records(
        &mut self,
        owner: Operand,
        site: u32,
        pid: [Operand; 3],
        operand: u32,
        records: Vec<Record>,
    ) -> Result<(), LowerError> {
        let buf = self.debug_buffer()?;
        let cap = debug_capacity(DEBUG_BUFFER_BYTES) as i64;
        let count = records.len() as i64;
        let (body, ()) = self.nested(|s| {
            let first = s.local(SType::scalar(ScalarType::U32));
            s.emit(Stmt::AtomicRmw {
                dst: Some(first),
                op: AtomicOp::Add,
                space: Space::Device,
                array: buf,
                index: Self::i32c(0),
                value: Self::u32c(count),
            });
            let first = Operand::Local(first);
            for (j, rec) in records.into_iter().enumerate() {
                let slot = s.let_(
                    ScalarType::U32,
                    Expr::Binary(BinaryOp::Add, first, Self::u32c(j as i64)),
                );
                let fits = s.let_(
                    ScalarType::I1,
                    Expr::Cmp(CmpPred::Lt, slot, Self::u32c(cap)),
                );
                let (write, ()) = s.nested(|w| {
                    let at = w.let_(
                        ScalarType::U32,
                        Expr::Binary(BinaryOp::Mul, slot, Self::u32c(DEBUG_RECORD_WORDS as i64)),
                    );
                    let at = w.let_(
                        ScalarType::U32,
                        Expr::Binary(BinaryOp::Add, at, Self::u32c(DEBUG_HEADER_WORDS as i64)),
                    );
                    let at = w.cast(at, ScalarType::U32, ScalarType::I32);
                    let words = [
                        Self::u32c(site as i64),
                        pid[0],
                        pid[1],
                        pid[2],
                        rec.element,
                        Self::u32c(operand as i64),
                        rec.lo,
                        rec.hi,
                    ];
                    for (k, word) in words.into_iter().enumerate() {
                        let index = w.iadd(at, Self::i32c(k as i64));
                        w.emit(Stmt::Store {
                            buf,
                            index,
                            value: word,
                        });
                    }
                    Ok(())
                })?;
                s.emit_if(fits, write, Vec::new());
            }
            Ok(())
        })?;
        self.emit_if(owner, body, Vec::new());
        Ok(())
    }
}
