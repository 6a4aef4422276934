//! Index plans for reductions and scans, and the recognition of common combine functions.

use tm_tile::{BinaryOp, BlockId, Function, OpKind};

use crate::value::Tile;

/// If a combine region is `yield(arg0 OP arg1)` (or `arg1 OP arg0` for a commutative OP),
/// the op: it can then run directly on the lanes without walking the region.
pub fn match_binary_combine(f: &Function, region: BlockId) -> Option<BinaryOp> {
    let b = &f.blocks[region];
    if b.args.len() != 2 || b.ops.len() != 2 {
        return None;
    }
    let (op, y) = (&f.ops[b.ops[0]], &f.ops[b.ops[1]]);
    let OpKind::Binary(bop) = op.kind else {
        return None;
    };
    let &result = op.results.first()?;
    if y.kind != OpKind::Yield || y.operands != [result] {
        return None;
    }
    let (a0, a1) = (b.args[0], b.args[1]);
    let ok = op.operands == [a0, a1] || (bop.is_commutative() && op.operands == [a1, a0]);
    // The fast path computes in the operand's type, as the region would.
    let same_types = f.ty(a0) == f.ty(a1) && f.ty(result) == f.ty(a0);
    (ok && same_types).then_some(bop)
}

/// For lanes laid out as [outer, len, inner]: the indices of the first and second halves
/// along the middle axis, each in [outer, len/2, inner] order.
pub fn halves(outer: usize, len: usize, inner: usize) -> (Vec<usize>, Vec<usize>) {
    let half = len / 2;
    let mut l = Vec::with_capacity(outer * half * inner);
    let mut r = Vec::with_capacity(outer * half * inner);
    for o in 0..outer {
        for j in 0..half {
            let base = (o * len + j) * inner;
            l.extend(base..base + inner);
            let base = (o * len + j + half) * inner;
            r.extend(base..base + inner);
        }
    }
    (l, r)
}

/// For one Hillis–Steele step of distance `d`: (earlier, updated) element pairs.
pub fn scan_pairs(
    outer: usize,
    len: usize,
    inner: usize,
    d: usize,
    reverse: bool,
) -> (Vec<usize>, Vec<usize>) {
    let mut src = Vec::new();
    let mut dst = Vec::new();
    for o in 0..outer {
        for j in d..len {
            let (s, t) = if reverse {
                (len - 1 - j + d, len - 1 - j)
            } else {
                (j - d, j)
            };
            for i in 0..inner {
                src.push((o * len + s) * inner + i);
                dst.push((o * len + t) * inner + i);
            }
        }
    }
    (src, dst)
}

/// Elements `idx` of a tile, as a 1-D tile of lanes.
pub fn take(t: &Tile, idx: &[usize]) -> Tile {
    Tile::new(vec![idx.len() as u32], t.elem, t.data.gather(idx))
}
