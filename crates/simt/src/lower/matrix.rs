//! The matrix-unit path of `dot`, for square tiles of `Target::matrix_shape` (8×8×8
//! simdgroup matrices on Metal, 16×16×16 cooperative matrices on Vulkan/NVIDIA through
//! WGSL's `wgpu_cooperative_matrix`; `T` below).
//!
//! A tensor in matrix registers ([`Held`], the value of a [`crate::layout::MatrixFrags`]
//! layout) is cut into T×T tiles dealt to the simdgroups round robin (tile `i * num_warps +
//! warp` in slot `i`). Tile coordinates depend only on the simdgroup index, so every lane of
//! a simdgroup passes the same operands, as these collective operations require. Matrix
//! registers are kernel-wide variables, so a held value can be carried by a loop without
//! copies: a dot whose accumulator is held and used only by it accumulates in place.
//! Moving between registers and matrices goes through a row-major f32 threadgroup array.

use tm_core::ScalarType;
use tm_tile::{BinaryOp, CmpPred, OpId};

use super::{LVal, LowerError, Lowerer};
use crate::ir::{Expr, Operand, Stmt};

/// One tile slot of this simdgroup.
#[derive(Clone, Copy, Debug)]
struct Slot {
    mat: u32,
    /// The tile exists (uniform within the simdgroup).
    valid: Operand,
    /// Element offset of the tile's batch (in units of one [M, N] matrix), row and column.
    bt: Operand,
    row: Operand,
    col: Operand,
}

/// A `[batch, M, N]` f32 tensor in matrix registers.
#[derive(Clone, Debug)]
pub(super) struct Held {
    slots: Vec<Slot>,
    batch: u32,
    m: u32,
    n: u32,
}

impl Held {
    fn numel(&self) -> u32 {
        self.batch * self.m * self.n
    }
}

impl Lowerer<'_> {
    /// T: the side of the target's square matrix tiles (8 when it has none; unused then).
    pub(super) fn matrix_tile(&self) -> u32 {
        match self.target.matrix_shape {
            Some((m, n, k)) if m == n && n == k => m,
            _ => 8,
        }
    }

    pub(super) fn matrix(&mut self, elem: ScalarType) -> u32 {
        self.matrices.push(elem);
        self.matrix_size = self.matrix_tile();
        self.matrices.len() as u32 - 1
    }

    /// Guard `body` by a slot's validity (uniform within the simdgroup).
    fn guarded(&mut self, valid: Operand, body: Vec<Stmt>) {
        self.emit_if(valid, body, Vec::new());
    }

    /// Fresh accumulator matrices for a `[batch, M, N]` tensor; the tile coordinates are
    /// computed in the prologue (they depend on the simdgroup only).
    pub(super) fn new_held(&mut self, batch: u32, m: u32, n: u32) -> Held {
        let tile = self.matrix_tile();
        let (mt, nt) = (m / tile, n / tile);
        let total = batch * mt * nt;
        let nw = self.num_warps;
        let warp = self.warp();
        let mut slots = Vec::new();
        let all = Operand::Const(tm_tile::Literal::Int(1), ScalarType::I1);
        let per_batch = mt * nt;
        // With whole groups of simdgroups per batch matrix (the usual case), the batch of a
        // slot is a constant and, when a row of tiles holds whole groups or the other way
        // round, so is its row or its column, shared by the slots (matrix_chunk then loads
        // each distinct operand tile once).
        let (w_mod, w_div) = if per_batch.is_multiple_of(nw) && nw.is_multiple_of(nt) {
            self.in_prologue(|s| {
                let a = s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::Rem, warp, Self::i32c(nt as i64)),
                );
                let a = s.imul(a, tile as i64);
                let b = s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::Div, warp, Self::i32c(nt as i64)),
                );
                (Some(a), Some(b))
            })
        } else {
            (None, None)
        };
        if let Some(slots) = self.held_2x2(warp, batch, mt, nt) {
            return Held { slots, batch, m, n };
        }
        let mut cols: Vec<(u32, Operand)> = Vec::new();
        for i in 0..total.div_ceil(nw) {
            let t0 = i * nw;
            let (valid, bt, row, col) = if per_batch.is_multiple_of(nw) {
                let bt = Self::i32c((t0 / per_batch) as i64);
                let u0 = t0 % per_batch;
                if nt.is_multiple_of(nw) {
                    let row = Self::i32c(((u0 / nt) * tile) as i64);
                    let key = u0 % nt;
                    let col = match cols.iter().find(|(k, _)| *k == key) {
                        Some(&(_, c)) => c,
                        None => {
                            let c = self.in_prologue(|s| {
                                let c = s.iadd(warp, Self::i32c(key as i64));
                                s.imul(c, tile as i64)
                            });
                            cols.push((key, c));
                            c
                        }
                    };
                    (all, bt, row, col)
                } else if let (Some(col), Some(wd)) = (w_mod, w_div) {
                    let row = self.in_prologue(|s| {
                        let r = s.iadd(wd, Self::i32c((u0 / nt) as i64));
                        s.imul(r, tile as i64)
                    });
                    (all, bt, row, col)
                } else {
                    self.in_prologue(|s| s.slot_coords(warp, t0, total, mt, nt, tile))
                }
            } else {
                self.in_prologue(|s| s.slot_coords(warp, t0, total, mt, nt, tile))
            };
            let mat = self.matrix(ScalarType::F32);
            slots.push(Slot {
                mat,
                valid,
                bt,
                row,
                col,
            });
        }
        Held { slots, batch, m, n }
    }

    /// Slots dealt in 2×2 blocks of tiles where the tiles form whole rounds of blocks (each
    /// batch matrix: even tile counts both ways, blocks a multiple of the simdgroups): block
    /// `k * warps + warp` (row-major over the blocks) is a simdgroup's `k`-th, its four tiles
    /// slots `4k..4k+4`. Per step along K a simdgroup then loads 2 A and 2 B tiles for 4
    /// multiply-adds, where a strip of 4 tiles in one column needs 4 + 1.
    fn held_2x2(&mut self, warp: Operand, batch: u32, mt: u32, nt: u32) -> Option<Vec<Slot>> {
        let nw = self.num_warps;
        let (bm, bn) = (mt / 2, nt / 2);
        let blocks = bm * bn;
        if nw == 0
            || !mt.is_multiple_of(2)
            || !nt.is_multiple_of(2)
            || blocks == 0
            || !blocks.is_multiple_of(nw)
        {
            return None;
        }
        let tile = self.matrix_tile();
        let all = Operand::Const(tm_tile::Literal::Int(1), ScalarType::I1);
        let mut slots = Vec::new();
        for k in 0..batch * blocks / nw {
            let b0 = k * nw;
            // Rounds never straddle two batch matrices: blocks is a multiple of nw.
            let bt = Self::i32c((b0 / blocks) as i64);
            let u0 = (b0 % blocks) as i64;
            let (rows, cols) = self.in_prologue(|s| {
                let blk = s.iadd(warp, Self::i32c(u0));
                let br = s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::Div, blk, Self::i32c(bn as i64)),
                );
                let bc = s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::Rem, blk, Self::i32c(bn as i64)),
                );
                let r0 = s.imul(br, 2 * tile as i64);
                let c0 = s.imul(bc, 2 * tile as i64);
                let r1 = s.iadd(r0, Self::i32c(tile as i64));
                let c1 = s.iadd(c0, Self::i32c(tile as i64));
                ([r0, r1], [c0, c1])
            });
            for row in rows {
                for col in cols {
                    let mat = self.matrix(ScalarType::F32);
                    slots.push(Slot {
                        mat,
                        valid: all,
                        bt,
                        row,
                        col,
                    });
                }
            }
        }
        Some(slots)
    }

    /// (valid, batch, row, column) of tile `warp + t0` in general.
    fn slot_coords(
        &mut self,
        warp: Operand,
        t0: u32,
        total: u32,
        mt: u32,
        nt: u32,
        tile: u32,
    ) -> (Operand, Operand, Operand, Operand) {
        let t = self.iadd(warp, Self::i32c(t0 as i64));
        let valid = if total.is_multiple_of(self.num_warps) {
            Operand::Const(tm_tile::Literal::Int(1), ScalarType::I1)
        } else {
            self.let_(
                ScalarType::I1,
                Expr::Cmp(CmpPred::Lt, t, Self::i32c(total as i64)),
            )
        };
        let div = |s: &mut Self, x: Operand, by: u32| {
            s.let_(
                ScalarType::I32,
                Expr::Binary(BinaryOp::Div, x, Self::i32c(by as i64)),
            )
        };
        let rem = |s: &mut Self, x: Operand, by: u32| {
            s.let_(
                ScalarType::I32,
                Expr::Binary(BinaryOp::Rem, x, Self::i32c(by as i64)),
            )
        };
        let bt = div(self, t, mt * nt);
        let q = div(self, t, nt);
        let row = rem(self, q, mt);
        let row = self.imul(row, tile as i64);
        let col = rem(self, t, nt);
        let col = self.imul(col, tile as i64);
        (valid, bt, row, col)
    }

    /// `batch * per_batch + row * stride + col`, emitted in the current body.
    fn tile_offset(
        &mut self,
        batch: Operand,
        per_batch: i64,
        row: Operand,
        stride: i64,
        col: Operand,
    ) -> Operand {
        let b = self.imul(batch, per_batch);
        let r = self.imul(row, stride);
        let s = self.iadd(b, r);
        self.iadd(s, col)
    }

    /// Load (`store == false`) or store every tile of `h` from/to the row-major `arr`.
    fn held_move(&mut self, h: &Held, arr: u32, store: bool) {
        for s in h.slots.clone() {
            let off = self.tile_offset(s.bt, (h.m * h.n) as i64, s.row, h.n as i64, s.col);
            let st = if store {
                Stmt::MatrixStore {
                    mat: s.mat,
                    arr,
                    offset: off,
                    stride: h.n,
                }
            } else {
                Stmt::MatrixLoad {
                    mat: s.mat,
                    arr,
                    offset: off,
                    stride: h.n,
                }
            };
            self.guarded(s.valid, vec![st]);
        }
    }

    /// Fill `h` from the registers of `v` (a `[batch,] M, N` tensor of shape `shape`).
    pub(super) fn regs_to_held(
        &mut self,
        v: &LVal,
        shape: &[u32],
        h: &Held,
    ) -> Result<(), LowerError> {
        let layout = v
            .layout
            .clone()
            .ok_or_else(|| self.err("internal: a scalar into matrix registers"))?;
        let n = self.map(&layout, shape)?.num_regs();
        let cty = ScalarType::F32;
        let v32 = LVal {
            regs: (0..n).map(|r| self.cast(v.reg(r), v.ty, cty)).collect(),
            ty: cty,
            ..v.clone()
        };
        let arr = self.scratch(cty, h.numel());
        let st = super::dot::row_major(shape);
        self.scatter_regs(&v32, shape, &st, 0, arr)?;
        self.emit(Stmt::SharedBarrier);
        self.held_move(h, arr, false);
        self.emit(Stmt::SharedBarrier);
        self.release(arr);
        Ok(())
    }

    /// The registers of a held tensor in `layout`, converted to `ty`.
    pub(super) fn held_regs(
        &mut self,
        h: &Held,
        layout: &crate::layout::Layout,
        shape: &[u32],
        ty: ScalarType,
    ) -> Result<Vec<Operand>, LowerError> {
        let cty = ScalarType::F32;
        let arr = self.scratch(cty, h.numel());
        self.held_move(h, arr, true);
        self.emit(Stmt::SharedBarrier);
        let st = super::dot::row_major(shape);
        let vals = self.gather_regs(layout, shape, &st, 0, arr, cty)?;
        // The array may be written again (in a loop) only after everyone has read it.
        self.emit(Stmt::SharedBarrier);
        self.release(arr);
        Ok(vals.into_iter().map(|v| self.cast(v, cty, ty)).collect())
    }

    /// A copy of `h` in fresh matrices.
    fn copy_held(&mut self, h: &Held) -> Held {
        let to = self.new_held(h.batch, h.m, h.n);
        let arr = self.scratch(ScalarType::F32, h.numel());
        self.held_move(h, arr, true);
        self.emit(Stmt::SharedBarrier);
        self.held_move(&to, arr, false);
        self.emit(Stmt::SharedBarrier);
        self.release(arr);
        to
    }

    /// Make the matrices of `to` hold what `from` holds (a loop's yield).
    pub(super) fn assign_held(&mut self, to: &Held, from: &Held) {
        let same = to.slots.len() == from.slots.len()
            && to
                .slots
                .iter()
                .zip(&from.slots)
                .all(|(a, b)| a.mat == b.mat);
        if same {
            return;
        }
        let arr = self.scratch(ScalarType::F32, from.numel());
        self.held_move(from, arr, true);
        self.emit(Stmt::SharedBarrier);
        self.held_move(to, arr, false);
        self.emit(Stmt::SharedBarrier);
        self.release(arr);
    }

    fn shape_bmn(shape: &[u32]) -> (u32, u32, u32) {
        let r = shape.len();
        let batch = if r == 3 { shape[0] } else { 1 };
        (
            batch,
            shape[r.saturating_sub(2)],
            shape[r.saturating_sub(1)],
        )
    }

    /// Operand `i` of `op` as matrices this op may overwrite: a held value used only here
    /// is taken in place, another held value is copied, and a value in registers is moved
    /// into fresh matrices.
    pub(super) fn held_operand(&mut self, op: OpId, i: usize) -> Result<Held, LowerError> {
        let v = self.f.ops[op].operands[i];
        let shape = self.f.ty(v).shape.clone();
        if let Some(h) = self.held.get(&v).cloned() {
            return Ok(if self.asg.single_use(v) {
                h
            } else {
                self.copy_held(&h)
            });
        }
        let lv = self.value(v)?;
        let (batch, m, n) = Self::shape_bmn(&shape);
        let h = self.new_held(batch, m, n);
        self.regs_to_held(&lv, &shape, &h)?;
        Ok(h)
    }

    /// Operand `i` of `op`, a held value, in the registers of the layout the op asks for
    /// (its shape's default when it asks for none).
    pub(super) fn held_to_regs(&mut self, op: OpId, i: usize) -> Result<LVal, LowerError> {
        let v = self.f.ops[op].operands[i];
        let h = self
            .held
            .get(&v)
            .cloned()
            .ok_or_else(|| self.err("internal: value not in matrix registers"))?;
        let shape = self.f.ty(v).shape.clone();
        let want = match self.asg.request(op, i) {
            Some(l) if !matches!(l, crate::layout::Layout::Matrix(_)) => l.clone(),
            _ => self.asg.default_layout(&shape),
        };
        let ty = self.reg_ty(v)?;
        let regs = self.held_regs(&h, &want, &shape, ty)?;
        Ok(LVal {
            regs,
            layout: Some(want),
            ty,
            buf: None,
        })
    }

    /// The matrices of a held value.
    pub(super) fn held_value(&self, v: tm_tile::ValueId) -> Result<Held, LowerError> {
        self.held
            .get(&v)
            .cloned()
            .ok_or_else(|| self.err("internal: value not in matrix registers"))
    }

    /// Bind a value to matrices.
    pub(super) fn define_held(&mut self, v: tm_tile::ValueId, h: Held) -> Result<(), LowerError> {
        self.held.insert(v, h);
        self.define(v, Vec::new(), None)
    }

    /// Multiply-accumulate one chunk of K into `h`: a is [batch, M, kc], b is [batch, kc,
    /// N] in threadgroup memory. Per step of T along K, each distinct tile of `a` and `b`
    /// the slots need is loaded once into a matrix of its own (slots guarded by validity
    /// load their own, into one shared matrix).
    pub(super) fn matrix_chunk(
        &mut self,
        h: &Held,
        in_ty: ScalarType,
        kc: u32,
        (a_arr, a_ld, a_off): (u32, u32, Operand),
        (b_arr, b_ld, b_off): (u32, u32, Operand),
    ) {
        type Seen = Vec<((Operand, Operand), u32)>;
        let tile = self.matrix_tile();
        let m = h.m;
        let one = Operand::Const(tm_tile::Literal::Int(1), ScalarType::I1);
        let shared = h.slots.iter().all(|s| s.valid == one);
        let (mut a_pool, mut b_pool) = (Vec::new(), Vec::new());
        let pick = |s: &mut Self, pool: &mut Vec<u32>, seen: &mut Seen, key| -> (u32, bool) {
            if shared {
                if let Some(&(_, mat)) = seen.iter().find(|(k, _)| *k == key) {
                    return (mat, false);
                }
            }
            let idx = if shared { seen.len() } else { 0 };
            let mat = match pool.get(idx) {
                Some(&mat) => mat,
                None => {
                    let mat = s.matrix(in_ty);
                    pool.push(mat);
                    mat
                }
            };
            if shared {
                seen.push((key, mat));
            }
            (mat, true)
        };
        for kt in 0..kc / tile {
            let k8 = Self::i32c((kt * tile) as i64);
            let (mut a_seen, mut b_seen): (Seen, Seen) = (Vec::new(), Vec::new());
            for s in h.slots.clone() {
                self.stack.push(Vec::new());
                let (ma, load_a) = pick(self, &mut a_pool, &mut a_seen, (s.bt, s.row));
                let (mb, load_b) = pick(self, &mut b_pool, &mut b_seen, (s.bt, s.col));
                if load_a {
                    let ao = self.tile_offset(s.bt, (m * a_ld) as i64, s.row, a_ld as i64, k8);
                    let ao = self.iadd(ao, a_off);
                    self.emit(Stmt::MatrixLoad {
                        mat: ma,
                        arr: a_arr,
                        offset: ao,
                        stride: a_ld,
                    });
                }
                if load_b {
                    let bo = self.tile_offset(s.bt, (kc * b_ld) as i64, k8, b_ld as i64, s.col);
                    let bo = self.iadd(bo, b_off);
                    self.emit(Stmt::MatrixLoad {
                        mat: mb,
                        arr: b_arr,
                        offset: bo,
                        stride: b_ld,
                    });
                }
                self.emit(Stmt::MatrixMulAcc {
                    d: s.mat,
                    a: ma,
                    b: mb,
                    c: s.mat,
                });
                let body = self.stack.pop().unwrap_or_default();
                self.guarded(s.valid, body);
            }
        }
    }
}
