//! The matrix-unit path of `dot`, for square tiles of `Target::matrix_shape` (8×8×8
//! simdgroup matrices on Metal, 16×16×16 cooperative matrices on Vulkan/NVIDIA through
//! WGSL's `wgpu_cooperative_matrix`; `T` below): the result's T×T tiles are dealt to the
//! simdgroups round robin (tile `i * num_warps + warp`), each simdgroup keeping its
//! accumulator tiles in matrix registers for the whole K loop. Tile coordinates depend only
//! on the simdgroup index, so every lane of a simdgroup passes the same operands, as these
//! collective operations require.

use tm_core::ScalarType;
use tm_tile::{BinaryOp, CmpPred};

use super::Lowerer;
use crate::ir::{Expr, Operand, Stmt};

pub(super) struct Tiles {
    /// Per tile slot: accumulator matrix, valid (i1), element offsets of the tile's
    /// batch (in units of one [M, N] matrix), row and column.
    slots: Vec<(u32, Operand, Operand, Operand, Operand)>,
    a: u32,
    b: u32,
}

impl Lowerer<'_> {
    /// T: the side of the target's square matrix tiles (8 when it has none; unused then).
    pub(super) fn matrix_tile(&self) -> u32 {
        match self.target.matrix_shape {
            Some((m, n, k)) if m == n && n == k => m,
            _ => 8,
        }
    }

    fn matrix(&mut self, elem: ScalarType) -> u32 {
        self.matrices.push(elem);
        self.matrix_size = self.matrix_tile();
        self.matrices.len() as u32 - 1
    }

    /// Guard `body` by a slot's validity (uniform within the simdgroup).
    fn guarded(&mut self, valid: Operand, body: Vec<Stmt>) {
        self.emit_if(valid, body, Vec::new());
    }

    /// Declare the accumulator tiles and load them from `c_arr` ([batch, M, N] f32, just
    /// written by every thread: a barrier first).
    pub(super) fn matrix_tiles(
        &mut self,
        d: super::dot::Dims,
        c_arr: u32,
        in_ty: ScalarType,
    ) -> Tiles {
        let tile = self.matrix_tile();
        let (mt, nt) = (d.m / tile, d.n / tile);
        let total = d.batch * mt * nt;
        let nw = self.num_warps;
        let warp = self.warp();
        let mut slots = Vec::new();
        for i in 0..total.div_ceil(nw) {
            let t = self.iadd(warp, Self::i32c((i * nw) as i64));
            let valid = if total.is_multiple_of(nw) {
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
            let mat = self.matrix(ScalarType::F32);
            slots.push((mat, valid, bt, row, col));
        }
        let a = self.matrix(in_ty);
        let b = self.matrix(in_ty);
        self.emit(Stmt::Barrier);
        for &(mat, valid, bt, row, col) in &slots {
            let off = self.tile_offset(bt, (d.m * d.n) as i64, row, d.n as i64, col);
            self.guarded(
                valid,
                vec![Stmt::MatrixLoad {
                    mat,
                    arr: c_arr,
                    offset: off,
                    stride: d.n,
                }],
            );
        }
        Tiles { slots, a, b }
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

    /// Multiply-accumulate one chunk of K: a is [batch, M, kc], b is [batch, kc, N].
    pub(super) fn matrix_chunk(
        &mut self,
        t: &Tiles,
        d: super::dot::Dims,
        kc: u32,
        a_arr: u32,
        b_arr: u32,
    ) {
        for &(mat, valid, bt, row, col) in &t.slots {
            let mut body = Vec::new();
            self.stack.push(Vec::new());
            let tile = self.matrix_tile();
            for kt in 0..kc / tile {
                let k8 = Self::i32c((kt * tile) as i64);
                let ao = self.tile_offset(bt, (d.m * kc) as i64, row, kc as i64, k8);
                let bo = self.tile_offset(bt, (kc * d.n) as i64, k8, d.n as i64, col);
                self.emit(Stmt::MatrixLoad {
                    mat: t.a,
                    arr: a_arr,
                    offset: ao,
                    stride: kc,
                });
                self.emit(Stmt::MatrixLoad {
                    mat: t.b,
                    arr: b_arr,
                    offset: bo,
                    stride: d.n,
                });
                self.emit(Stmt::MatrixMulAcc {
                    d: mat,
                    a: t.a,
                    b: t.b,
                    c: mat,
                });
            }
            body.extend(self.stack.pop().unwrap_or_default());
            self.guarded(valid, body);
        }
    }

    /// Store the accumulator tiles back to `c_arr`.
    pub(super) fn matrix_finish(&mut self, t: &Tiles, d: super::dot::Dims, c_arr: u32) {
        for &(mat, valid, bt, row, col) in &t.slots {
            let off = self.tile_offset(bt, (d.m * d.n) as i64, row, d.n as i64, col);
            self.guarded(
                valid,
                vec![Stmt::MatrixStore {
                    mat,
                    arr: c_arr,
                    offset: off,
                    stride: d.n,
                }],
            );
        }
    }
}
