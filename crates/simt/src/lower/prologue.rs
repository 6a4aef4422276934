//! The kernel prologue: grid unfolding exactly as docs/CONVENTIONS.md fixes it, scalar
//! argument reads, and the thread-dependent parts of layout coordinates (computed once,
//! on first use, and kept at the top of the kernel so every nested body sees them).

use rustc_hash::FxHashMap;
use tm_core::ScalarType;
use tm_tile::{BinaryOp, CmpPred, OpKind};

use super::{LowerError, Lowerer};
use crate::ir::{Builtin, Expr, Operand, SType, ScalarParam, Stmt};
use crate::layout::Layout;

#[derive(Default)]
pub(super) struct Geometry {
    tid: Option<Operand>,
    tid_i32: Option<Operand>,
    in_prologue: bool,
    lane: Option<Operand>,
    warp: Option<Operand>,
    pub pid: [Option<Operand>; 3],
    pub nprog: [Option<Operand>; 3],
    dim_offset: FxHashMap<(Layout, Vec<u32>, usize), Operand>,
    linear: FxHashMap<(Layout, Vec<u32>), Operand>,
}

impl Lowerer<'_> {
    /// Emit into the prologue instead of the current body.
    pub(super) fn in_prologue<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        if self.geo.in_prologue {
            return f(self);
        }
        self.geo.in_prologue = true;
        let saved = std::mem::take(&mut self.stack);
        self.stack = vec![std::mem::take(&mut self.prologue)];
        let r = f(self);
        self.prologue = self.stack.pop().unwrap_or_default();
        self.stack = saved;
        self.geo.in_prologue = false;
        r
    }

    fn named(&mut self, v: Operand, name: &str) {
        if let Operand::Local(l) = v {
            self.locals[l].name = Some(name.to_string());
        }
    }

    /// `linear = group.x + dispatch_x * (group.y + max_grid_dim * group.z)`; return past the
    /// end of the logical grid; then the program ids the kernel uses.
    pub(super) fn grid_prologue(&mut self) -> Result<(), LowerError> {
        let mut used = [false; 3];
        self.f.walk(|op| match self.f.ops[op].kind {
            OpKind::ProgramId(a) => {
                if let Some(u) = used.get_mut(a as usize) {
                    *u = true;
                }
            }
            // Debug records carry all three program ids (debug.rs).
            OpKind::Print { .. } | OpKind::Assert { .. } => used = [true; 3],
            _ => {}
        });
        let u32t = ScalarType::U32;
        let bin = |s: &mut Self, op, a, b| s.let_(u32t, Expr::Binary(op, a, b));
        let tid = self.let_(u32t, Expr::Builtin(Builtin::ThreadIndex));
        self.named(tid, "tid");
        self.geo.tid = Some(tid);
        let g: Vec<Operand> = (0..3)
            .map(|i| self.let_(u32t, Expr::Builtin(Builtin::GroupId(i))))
            .collect();
        let h: Vec<Operand> = (0..4)
            .map(|i| self.let_(u32t, Expr::GridHeader(i)))
            .collect();
        let maxg = Self::u32c(self.target.max_grid_dim as i64);
        let t = bin(self, BinaryOp::Mul, maxg, g[2]);
        let t = bin(self, BinaryOp::Add, g[1], t);
        let t = bin(self, BinaryOp::Mul, h[3], t);
        let linear = bin(self, BinaryOp::Add, g[0], t);
        self.named(linear, "linear");
        let gxy = bin(self, BinaryOp::Mul, h[0], h[1]);
        let total = bin(self, BinaryOp::Mul, gxy, h[2]);
        let past = self.let_(ScalarType::I1, Expr::Cmp(CmpPred::Ge, linear, total));
        self.emit(Stmt::If {
            cond: past,
            then_body: vec![Stmt::Return],
            else_body: vec![],
        });
        let pids = [
            used[0].then(|| bin(self, BinaryOp::Rem, linear, h[0])),
            used[1].then(|| {
                let q = bin(self, BinaryOp::Div, linear, h[0]);
                bin(self, BinaryOp::Rem, q, h[1])
            }),
            used[2].then(|| bin(self, BinaryOp::Div, linear, gxy)),
        ];
        for (i, p) in pids.into_iter().enumerate() {
            if let Some(p) = p {
                let v = self.cast(p, u32t, ScalarType::I32);
                self.named(v, &format!("pid{i}"));
                self.geo.pid[i] = Some(v);
            }
        }
        Ok(())
    }

    /// Read every scalar argument once. On targets that are not byte addressable, arguments
    /// narrower than 32 bits are read as the u32 word of their (4-byte) slot.
    pub(super) fn scalar_params(&mut self) -> Result<(), LowerError> {
        let f = self.f;
        let mut offset = tm_core::SCALAR_HEADER_BYTES;
        for p in &f.params {
            let Some(s) = f
                .ty(p.value)
                .scalar_type()
                .filter(|_| !f.ty(p.value).elem.is_ptr())
            else {
                continue;
            };
            let size = s.size_bytes().max(4);
            offset = offset.div_ceil(size) * size;
            let narrow = !self.target.byte_addressable && s.size_bytes() < 4;
            let idx = self.scalars.len() as u32;
            self.scalars.push(ScalarParam {
                name: p.name.clone(),
                ty: if narrow { ScalarType::U32 } else { s },
                offset,
            });
            offset += size;
            let v = if !narrow {
                self.let_(s, Expr::ScalarArg(idx))
            } else {
                let w = self.let_(ScalarType::U32, Expr::ScalarArg(idx));
                match s {
                    ScalarType::F16 => {
                        let pair = self.let_v(
                            SType::vector(ScalarType::F16, 2),
                            Expr::Bitcast(w, SType::vector(ScalarType::F16, 2)),
                        );
                        self.let_(s, Expr::Extract(pair, 0))
                    }
                    ScalarType::I1 => {
                        let b = self.let_(
                            ScalarType::U32,
                            Expr::Binary(BinaryOp::And, w, Self::u32c(0xff)),
                        );
                        self.let_(s, Expr::Cast(b, SType::scalar(s)))
                    }
                    _ => self.let_(s, Expr::Cast(w, SType::scalar(s))),
                }
            };
            self.named(v, &p.name);
            self.vals.insert(
                p.value,
                super::LVal {
                    regs: vec![v],
                    layout: None,
                    ty: s,
                    buf: None,
                },
            );
        }
        Ok(())
    }

    pub(super) fn program_id(&mut self, axis: u8) -> Result<Operand, LowerError> {
        self.geo
            .pid
            .get(axis as usize)
            .copied()
            .flatten()
            .ok_or_else(|| self.err(format!("program_id axis {axis} out of range")))
    }

    pub(super) fn num_programs(&mut self, axis: u8) -> Result<Operand, LowerError> {
        if axis > 2 {
            return Err(self.err(format!("num_programs axis {axis} out of range")));
        }
        if let Some(v) = self.geo.nprog[axis as usize] {
            return Ok(v);
        }
        let v = self.in_prologue(|s| {
            let w = s.let_(ScalarType::U32, Expr::GridHeader(axis));
            s.let_(
                ScalarType::I32,
                Expr::Cast(w, SType::scalar(ScalarType::I32)),
            )
        });
        self.geo.nprog[axis as usize] = Some(v);
        Ok(v)
    }

    fn tid_i32(&mut self) -> Operand {
        if let Some(t) = self.geo.tid_i32 {
            return t;
        }
        let tid = self.geo.tid.unwrap_or(Self::u32c(0));
        let t = self.in_prologue(|s| s.cast(tid, ScalarType::U32, ScalarType::I32));
        self.geo.tid_i32 = Some(t);
        t
    }

    /// Lane index within the simdgroup (i32).
    pub(super) fn lane(&mut self) -> Operand {
        if let Some(v) = self.geo.lane {
            return v;
        }
        let simd = self.simd as i64;
        let v = self.in_prologue(|s| {
            let t = s.tid_i32();
            let v = s.let_(
                ScalarType::I32,
                Expr::Binary(BinaryOp::And, t, Self::i32c(simd - 1)),
            );
            s.named(v, "lane");
            v
        });
        self.geo.lane = Some(v);
        v
    }

    /// Simdgroup index within the workgroup (i32).
    pub(super) fn warp(&mut self) -> Operand {
        if let Some(v) = self.geo.warp {
            return v;
        }
        let shift = self.simd.trailing_zeros() as i64;
        let v = self.in_prologue(|s| {
            let t = s.tid_i32();
            let v = s.let_(
                ScalarType::I32,
                Expr::Binary(BinaryOp::Shr, t, Self::i32c(shift)),
            );
            s.named(v, "warp");
            v
        });
        self.geo.warp = Some(v);
        v
    }

    /// `(x >> shift) & (n - 1)` for `x < 2^width`, or 0 when n is 1.
    pub(super) fn bits_of(&mut self, x: Operand, shift: u32, n: u32, width: u32) -> Operand {
        if n == 1 {
            return Self::i32c(0);
        }
        if shift + n.trailing_zeros() >= width {
            if shift == 0 {
                return x;
            }
            return self.let_(
                ScalarType::I32,
                Expr::Binary(BinaryOp::Shr, x, Self::i32c(shift as i64)),
            );
        }
        let x = if shift > 0 {
            self.let_(
                ScalarType::I32,
                Expr::Binary(BinaryOp::Shr, x, Self::i32c(shift as i64)),
            )
        } else {
            x
        };
        self.let_(
            ScalarType::I32,
            Expr::Binary(BinaryOp::And, x, Self::i32c(n as i64 - 1)),
        )
    }

    /// This thread's offset along dimension `d` of a tensor of `shape` in `layout` (i32).
    pub(super) fn dim_offset(
        &mut self,
        layout: &Layout,
        shape: &[u32],
        d: usize,
    ) -> Result<Operand, LowerError> {
        let key = (layout.clone(), shape.to_vec(), d);
        if let Some(&v) = self.geo.dim_offset.get(&key) {
            return Ok(v);
        }
        let m = self.map(layout, shape)?;
        let dm = m.dims[d].clone();
        let lane = if dm.lanes > 1 {
            Some(self.lane())
        } else {
            None
        };
        let warp = if dm.warps > 1 {
            Some(self.warp())
        } else {
            None
        };
        let (simd_bits, warp_bits) = (self.simd.trailing_zeros(), self.num_warps.trailing_zeros());
        let v = self.in_prologue(|s| {
            let mut acc = Self::i32c(0);
            if let Some(lane) = lane {
                let b = s.bits_of(lane, dm.lane_shift, dm.lanes, simd_bits);
                let t = s.imul(b, dm.spt as i64);
                acc = s.iadd(acc, t);
            }
            if let Some(warp) = warp {
                let b = s.bits_of(warp, dm.warp_shift, dm.warps, warp_bits);
                let t = s.imul(b, (dm.spt * dm.lanes) as i64);
                acc = s.iadd(acc, t);
            }
            if dm.wrap && !matches!(acc, Operand::Const(..)) {
                acc = s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::And, acc, Self::i32c(dm.size as i64 - 1)),
                );
            }
            acc
        });
        self.geo.dim_offset.insert(key, v);
        Ok(v)
    }

    /// This thread's part of the row-major linear index of its elements (i32); register `r`
    /// adds the linearized `reg_offsets(r)`.
    pub(super) fn thread_linear(
        &mut self,
        layout: &Layout,
        shape: &[u32],
    ) -> Result<Operand, LowerError> {
        let key = (layout.clone(), shape.to_vec());
        if let Some(&v) = self.geo.linear.get(&key) {
            return Ok(v);
        }
        let m = self.map(layout, shape)?;
        let strides = m.strides();
        let mut offs = Vec::new();
        for d in 0..shape.len() {
            offs.push(self.dim_offset(layout, shape, d)?);
        }
        let v = self.in_prologue(|s| {
            let mut acc = Self::i32c(0);
            for (o, &st) in offs.into_iter().zip(&strides) {
                let t = s.imul(o, st as i64);
                acc = s.iadd(acc, t);
            }
            acc
        });
        self.geo.linear.insert(key, v);
        Ok(v)
    }
}
