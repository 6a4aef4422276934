//! Contiguity, divisibility and constancy of integer and pointer values (Triton's axis info,
//! a conservative subset), used to prove that a thread's run of elements can be moved with
//! one vector access.
//!
//! Per dimension: `contig` = values form runs of that many consecutive integers, runs
//! starting at coordinates that are multiples of it; `div` = the value at each run start is
//! a multiple of it; `cst` = values are equal over aligned blocks of that many elements.
//! Scalars are described as one-element tensors. Pointers count in elements.

use rustc_hash::FxHashMap;
use tm_tile::{BinaryOp, BlockId, CmpPred, Function, Literal, OpKind, ValueId};

pub const MAX_DIV: u32 = 1 << 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisInfo {
    pub contig: Vec<u32>,
    pub div: Vec<u32>,
    pub cst: Vec<u32>,
}

fn gcd(a: u32, b: u32) -> u32 {
    // Every fact here is a power of two.
    a.min(b).max(1)
}

fn pow2_factor(v: i64) -> u32 {
    if v == 0 {
        MAX_DIV
    } else {
        (1u64 << v.trailing_zeros().min(30)) as u32
    }
}

fn pow2_floor(v: u32) -> u32 {
    if v == 0 {
        1
    } else {
        1 << (31 - v.leading_zeros())
    }
}

impl AxisInfo {
    fn unknown(rank: usize) -> AxisInfo {
        let r = rank.max(1);
        AxisInfo {
            contig: vec![1; r],
            div: vec![1; r],
            cst: vec![1; r],
        }
    }

    fn constant(shape: &[u32], div: u32) -> AxisInfo {
        let r = shape.len().max(1);
        AxisInfo {
            contig: vec![1; r],
            div: vec![div; r],
            cst: if shape.is_empty() {
                vec![1]
            } else {
                shape.to_vec()
            },
        }
    }
}

pub fn analyze(f: &Function) -> FxHashMap<ValueId, AxisInfo> {
    let mut m = FxHashMap::default();
    for p in &f.params {
        let ty = f.ty(p.value);
        let div = match (p.divisible_by_16, ty.elem.pointee()) {
            (false, _) => 1,
            (true, Some(s)) => (16 / s.size_bytes()).max(1),
            (true, None) => 16,
        };
        m.insert(p.value, AxisInfo::constant(&ty.shape, div));
    }
    block(f, f.body, &mut m);
    m
}

fn block(f: &Function, b: BlockId, m: &mut FxHashMap<ValueId, AxisInfo>) {
    for &op in &f.blocks[b].ops {
        let o = &f.ops[op];
        if matches!(o.kind, OpKind::For) {
            for_loop(f, op, m);
        } else {
            for &r in &o.regions {
                block(f, r, m);
            }
        }
        let Some(&res) = o.results.first() else {
            continue;
        };
        let shape = f.ty(res).shape.clone();
        let rank = shape.len();
        let get = |i: usize| -> AxisInfo {
            o.operands
                .get(i)
                .and_then(|v| m.get(v))
                .cloned()
                .unwrap_or_else(|| AxisInfo::unknown(rank))
        };
        let info = match &o.kind {
            OpKind::Constant(Literal::Int(v)) => AxisInfo::constant(&shape, pow2_factor(*v)),
            OpKind::Constant(_) => AxisInfo::constant(&shape, 1),
            OpKind::MakeRange { start, end } => AxisInfo {
                contig: vec![(end - start).max(1) as u32],
                div: vec![pow2_factor(*start as i64)],
                cst: vec![1],
            },
            OpKind::Splat => AxisInfo::constant(&shape, get(0).div[0]),
            OpKind::Broadcast => {
                let a = get(0);
                let src = &f.ty(o.operands[0]).shape;
                let mut r = a.clone();
                for d in 0..rank.min(src.len()).min(a.div.len()) {
                    if src[d] == 1 && shape[d] != 1 {
                        r.contig[d] = 1;
                        r.cst[d] = shape[d];
                    }
                }
                r
            }
            OpKind::ExpandDims(axis) => {
                let a = get(0);
                let every: u32 = a
                    .contig
                    .iter()
                    .zip(&a.div)
                    .map(|(&c, &d)| if c == 1 { d } else { 1 })
                    .min()
                    .unwrap_or(1);
                let mut r = a;
                let at = (*axis as usize).min(r.div.len());
                r.contig.insert(at, 1);
                r.div.insert(at, every);
                r.cst.insert(at, 1);
                r
            }
            OpKind::Binary(BinaryOp::Add) | OpKind::AddPtr => add(&get(0), &get(1)),
            OpKind::Binary(BinaryOp::Sub) => {
                let (a, b) = (get(0), get(1));
                zip(&a, &b, |ca, da, ka, cb, db, kb| {
                    let co = gcd(ca, kb);
                    (co, gcd(eff(da, ca, co), eff(db, cb, co)), gcd(ka, kb))
                })
            }
            OpKind::Binary(BinaryOp::Mul) => {
                let (a, b) = (get(0), get(1));
                zip(&a, &b, |ca, da, ka, cb, db, kb| {
                    let (da, db) = (eff(da, ca, 1), eff(db, cb, 1));
                    let d = (da as u64 * db as u64).min(MAX_DIV as u64) as u32;
                    (1, d, gcd(ka, kb))
                })
            }
            OpKind::Binary(BinaryOp::Rem) if is_int(f, res) => {
                let (a, b) = (get(0), get(1));
                zip(&a, &b, |ca, da, ka, _cb, db, kb| {
                    // A run of consecutive integers starting at a multiple of g, taken modulo
                    // a divisor constant over it and divisible by g, can only wrap at a
                    // multiple of the divisor, which is a run start: the run stays
                    // consecutive. This holds for nonnegative dividends only (C's remainder
                    // of -4..-1 by 4 is 0,-3,-2,-1); like Triton's axis analysis, which keeps
                    // this contiguity for `(pid * BLOCK + arange(0, BLOCK)) % N`, offsets
                    // are assumed nonnegative here. A remainder of multiples of d by a
                    // multiple of d is one, whatever the signs.
                    let g = gcd(gcd(ca, da), db);
                    let co = if kb >= g { g } else { 1 };
                    (co, gcd(eff(da, ca, co), db), gcd(ka, kb))
                })
            }
            OpKind::Cmp(pred) => {
                let (a, b) = (get(0), get(1));
                zip(&a, &b, |ca, da, ka, cb, db, kb| {
                    let mut k = gcd(ka, kb);
                    // A run of consecutive integers starting at a multiple of g, compared
                    // with a value constant over it and divisible by g, is all below or all
                    // at-or-above it.
                    let left = matches!(pred, CmpPred::Lt | CmpPred::Ge) && ca > 1;
                    let right = matches!(pred, CmpPred::Gt | CmpPred::Le) && cb > 1;
                    if left {
                        k = k.max(gcd(gcd(ca, da), db).min(kb));
                    }
                    if right {
                        k = k.max(gcd(gcd(cb, db), da).min(ka));
                    }
                    (1, 1, k)
                })
            }
            OpKind::Cast => {
                let a = get(0);
                let int = |v: ValueId| {
                    f.ty(v)
                        .scalar_type()
                        .is_some_and(|s| s.is_int() && s.bits() >= 32)
                };
                if int(o.operands[0]) && int(res) {
                    a
                } else {
                    only_constancy(&[a])
                }
            }
            OpKind::Hint {
                multiple_of,
                max_contiguous,
                max_constancy,
            } => {
                let mut r = get(0);
                for (d, &h) in multiple_of.iter().enumerate().take(r.div.len()) {
                    r.div[d] = r.div[d].max(pow2_floor(h));
                }
                for (d, &h) in max_contiguous.iter().enumerate().take(r.div.len()) {
                    r.contig[d] = r.contig[d].max(pow2_floor(h));
                }
                for (d, &h) in max_constancy.iter().enumerate().take(r.div.len()) {
                    r.cst[d] = r.cst[d].max(pow2_floor(h));
                }
                r
            }
            OpKind::Unary(_)
            | OpKind::Binary(_)
            | OpKind::Select
            | OpKind::Bitcast
            | OpKind::Fma => {
                let ins: Vec<AxisInfo> = (0..o.operands.len()).map(get).collect();
                only_constancy(&ins)
            }
            _ => AxisInfo::unknown(rank),
        };
        m.insert(res, info);
    }
}

/// What holds of both `a` and `b` (the facts are powers of two, so minima).
fn meet(a: &AxisInfo, b: &AxisInfo) -> AxisInfo {
    zip(a, b, |ca, da, ka, cb, db, kb| {
        let co = ca.min(cb);
        (co, eff(da, ca, co).min(eff(db, cb, co)), ka.min(kb))
    })
}

/// A `for` loop: the induction variable is `lb + i * step`; a carried value holds what both
/// its initial value and its yield hold (`p += BLOCK_K * stride` keeps `p` aligned), found
/// by re-analysing the body until the facts stop changing (they only weaken), a few times
/// at most, then given up to unknown.
fn for_loop(f: &Function, op: tm_tile::OpId, m: &mut FxHashMap<ValueId, AxisInfo>) {
    let o = &f.ops[op];
    let Some(&body) = o.regions.first() else {
        return;
    };
    let args = f.blocks[body].args.clone();
    let info = |m: &FxHashMap<ValueId, AxisInfo>, v: Option<&ValueId>| -> Option<AxisInfo> {
        v.and_then(|v| m.get(v)).cloned()
    };
    let rank_of = |v: ValueId| f.ty(v).shape.len();
    if let Some(&iv) = args.first() {
        let iv_info = match (info(m, o.operands.first()), info(m, o.operands.get(2))) {
            (Some(lb), Some(step)) => {
                let d = lb.div[0].min(step.div[0]);
                AxisInfo::constant(&[], d)
            }
            _ => AxisInfo::unknown(0),
        };
        m.insert(iv, iv_info);
    }
    let mut carried: Vec<AxisInfo> = args
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, &a)| {
            info(m, o.operands.get(3 + i)).unwrap_or_else(|| AxisInfo::unknown(rank_of(a)))
        })
        .collect();
    for round in 0..4 {
        for (&a, c) in args.iter().skip(1).zip(&carried) {
            m.insert(a, c.clone());
        }
        block(f, body, m);
        if round == 3 {
            break;
        }
        let term = f.blocks[body].ops.last().map(|&t| &f.ops[t]);
        let yields: Vec<ValueId> = match term {
            Some(t) if matches!(t.kind, OpKind::Yield) => t.operands.clone(),
            _ => Vec::new(),
        };
        let next: Vec<AxisInfo> = carried
            .iter()
            .enumerate()
            .map(|(i, c)| match info(m, yields.get(i)) {
                Some(y) if y.div.len() == c.div.len() => meet(c, &y),
                _ => AxisInfo::unknown(c.div.len()),
            })
            .collect();
        if next == carried {
            return;
        }
        carried = next;
    }
    // Still changing: assume nothing of the carried values.
    for &a in args.iter().skip(1) {
        m.insert(a, AxisInfo::unknown(rank_of(a)));
    }
    block(f, body, m);
}

fn is_int(f: &Function, v: ValueId) -> bool {
    f.ty(v).scalar_type().is_some_and(|s| s.is_int())
}

fn add(a: &AxisInfo, b: &AxisInfo) -> AxisInfo {
    zip(a, b, |ca, da, ka, cb, db, kb| {
        let co = gcd(ca, kb).max(gcd(ka, cb));
        (co, gcd(eff(da, ca, co), eff(db, cb, co)), gcd(ka, kb))
    })
}

/// Divisibility of the values at the starts of output runs of length `co`, for an input
/// with runs of length `c` whose starts are divisible by `d`: output runs that begin inside
/// an input run begin at a multiple of `co` past its start.
fn eff(d: u32, c: u32, co: u32) -> u32 {
    if co < c {
        d.min(co)
    } else {
        d
    }
}

fn only_constancy(ins: &[AxisInfo]) -> AxisInfo {
    let rank = ins.first().map(|a| a.cst.len()).unwrap_or(1);
    let mut r = AxisInfo::unknown(rank);
    for d in 0..rank {
        r.cst[d] = ins
            .iter()
            .map(|a| a.cst.get(d).copied().unwrap_or(1))
            .min()
            .unwrap_or(1);
    }
    r
}

fn zip(
    a: &AxisInfo,
    b: &AxisInfo,
    f: impl Fn(u32, u32, u32, u32, u32, u32) -> (u32, u32, u32),
) -> AxisInfo {
    let rank = a.div.len().max(b.div.len());
    let at = |v: &Vec<u32>, d: usize| v.get(d).copied().unwrap_or(1);
    let mut r = AxisInfo::unknown(rank);
    for d in 0..rank {
        let (c, dv, k) = f(
            at(&a.contig, d),
            at(&a.div, d),
            at(&a.cst, d),
            at(&b.contig, d),
            at(&b.div, d),
            at(&b.cst, d),
        );
        r.contig[d] = c;
        r.div[d] = dv;
        r.cst[d] = k;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Facts of the value stored by the kernel's last store (`store %p, %v` → `%v`).
    fn stored_facts(text: &str) -> AxisInfo {
        let f = tm_tile::parse(text).unwrap_or_else(|e| panic!("{e}"));
        let m = analyze(&f);
        let store = f.blocks[f.body]
            .ops
            .iter()
            .rev()
            .find(|&&o| matches!(f.ops[o].kind, OpKind::Store { .. }))
            .copied()
            .expect("a store");
        m[&f.ops[store].operands[1]].clone()
    }

    fn kernel(n_attrs: &str, rhs: &str) -> String {
        format!(
            "tt.func @k(%p: ptr<i32> {{arg=0, div16}}, %n: i32 {{arg=1{n_attrs}}}) {{
  %0 = program_id {{axis=0}} : i32
  %1 = constant {{value=64}} : i32
  %2 = mul %0, %1 : i32
  %3 = splat %2 : tensor<64xi32>
  %4 = make_range {{start=0, end=64}} : tensor<64xi32>
  %5 = add %3, %4 : tensor<64xi32>
  {rhs}
  %7 = rem %5, %6 : tensor<64xi32>
  %8 = splat %p : tensor<64xptr<i32>>
  %9 = addptr %8, %7 : tensor<64xptr<i32>>
  store %9, %7
  return
}}
"
        )
    }

    #[test]
    fn remainder_of_an_aligned_run_keeps_contiguity_up_to_the_divisors_factor() {
        // `(pid * 64 + arange(0, 64)) % n`, n a multiple of 16: runs of 16 cannot wrap inside.
        let splat_n = "%6 = splat %n : tensor<64xi32>";
        let a = stored_facts(&kernel(", div16", splat_n));
        assert_eq!((a.contig[0], a.div[0]), (16, 16));
        // Nothing known of n: any element may wrap.
        let a = stored_facts(&kernel("", splat_n));
        assert_eq!(a.contig[0], 1);
        // A constant divisor of 32: runs of 32.
        let a = stored_facts(&kernel("", "%6 = constant {value=32} : tensor<64xi32>"));
        assert_eq!((a.contig[0], a.div[0]), (32, 32));
        // A divisor that varies along the run (here the run itself) says nothing.
        let a = stored_facts(&kernel(
            "",
            "%6 = make_range {start=64, end=128} : tensor<64xi32>",
        ));
        assert_eq!(a.contig[0], 1);
    }
}
