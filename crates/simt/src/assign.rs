//! Layout assignment: which layout each tensor value of a Tile IR function lives in.
//!
//! Loads and stores are anchors: they use the coalesced layout of their shape (one per shape
//! for the whole function, sized for the widest element moved at that shape). Everything
//! else takes the layout its uses ask for, found by walking the function backwards: an
//! elementwise op or broadcast asks the same layout of its operands, `expand_dims(d)` asks
//! `slice(d, L)`, a reduction asks `L` when its result is wanted in `slice(axis, L)`, loops
//! ask their carried layout of inits and yields. A value whose uses ask different layouts
//! gets the one its last use asks; every other use sees an explicit conversion (through
//! threadgroup memory) in lowering. `requests` records what each operand of each op needs,
//! so lowering converts exactly where assignment decided.
//!
//! Matrix accumulators: on targets with a matrix unit, a loop-carried value of a `for` whose
//! yield is a chain of `dot`s accumulating into the carried value itself (`acc = tl.dot(a,
//! b, acc)`, each link used once) is given the [`Layout::Matrix`] layout, together with the
//! dots of the chain and the loop's result: the accumulator then stays in matrix registers
//! across the whole loop. The loop's initial value is converted into it on entry and the
//! result out of it after the loop, where other ops use it.

use rustc_hash::FxHashMap;
use tm_core::{ScalarType, Target};
use tm_tile::{BlockId, Function, OpId, OpKind, ValueId};

use crate::error::LowerError;
use crate::layout::{coalesced, resolve, Layout, MatrixFrags};

#[derive(Clone, Debug)]
pub struct Assignment {
    pub simd_width: u32,
    pub num_warps: u32,
    layouts: FxHashMap<ValueId, Layout>,
    requests: FxHashMap<(OpId, usize), Layout>,
    /// Widest element (bytes) loaded or stored at each shape.
    mem_bytes: FxHashMap<Vec<u32>, u32>,
    /// How many operands of reachable ops name each value.
    uses: FxHashMap<ValueId, u32>,
}

impl Assignment {
    /// The layout of a tensor value (None for scalars and unreachable values).
    pub fn layout(&self, v: ValueId) -> Option<&Layout> {
        self.layouts.get(&v)
    }

    /// The layout operand `i` of `op` must be in (None: scalars, or any layout will do).
    pub fn request(&self, op: OpId, i: usize) -> Option<&Layout> {
        self.requests.get(&(op, i))
    }

    /// The coalesced layout of a shape; tensors never loaded or stored get one element per
    /// thread along each dimension.
    pub fn default_layout(&self, shape: &[u32]) -> Layout {
        let bytes = self.mem_bytes.get(shape).copied().unwrap_or(16);
        coalesced(shape, bytes, self.simd_width, self.num_warps)
    }

    /// Whether exactly one operand of one op uses `v` (a matrix value may then be updated in
    /// place by that use).
    pub fn single_use(&self, v: ValueId) -> bool {
        self.uses.get(&v).copied() == Some(1)
    }

    /// Whether `v` lives in matrix registers.
    pub fn in_matrix(&self, v: ValueId) -> bool {
        matches!(self.layout(v), Some(Layout::Matrix(_)))
    }

    /// Whether operand `i` of `op` is converted before use.
    pub fn converts(&self, f: &Function, op: OpId, i: usize) -> bool {
        let v = f.ops[op].operands[i];
        match (self.layout(v), self.request(op, i)) {
            (Some(have), Some(want)) if have != want => {
                let shape = &f.ty(v).shape;
                match (resolve(have, shape), resolve(want, shape)) {
                    (Ok(a), Ok(b)) => !a.same_placement(&b),
                    _ => true,
                }
            }
            _ => false,
        }
    }
}

/// How a `dot` is computed: K is staged through threadgroup memory in chunks of `kc`, and
/// `matrix` is the side of the matrix unit's square tiles when it takes this dot (None:
/// the FMA path). Layout assignment and the dot lowering share this decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DotPlan {
    pub kc: u32,
    pub matrix: Option<u32>,
}

/// The plan for a dot of `in_ty` inputs, `[batch, m, k] x [batch, k, n]`, accumulated in
/// `cty`; None when the staged inputs do not fit in half the threadgroup memory.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dot_plan(
    target: &Target,
    simd: u32,
    in_ty: ScalarType,
    elem_bytes: u32,
    cty: ScalarType,
    batch: u32,
    m: u32,
    n: u32,
    k: u32,
) -> Option<DotPlan> {
    // Keep half of the threadgroup memory for the rest of the kernel.
    let budget = target.shared_mem_bytes / 2;
    let per_k = (m + n) * batch * elem_bytes;
    let mut kc = k;
    while kc > 1 && kc * per_k > budget {
        kc /= 2;
    }
    if kc * per_k > budget {
        return None;
    }
    let tile = match target.matrix_shape {
        Some((a, b, c)) if a == b && b == c => a,
        _ => 8,
    };
    // Metal's simdgroup matrices take f32 and f16; the cooperative matrices that Vulkan
    // drivers report at 16×16×16 are f16 × f16 + f32.
    let matrix_inputs = match target.matrix_shape {
        Some((8, 8, 8)) => matches!(in_ty, ScalarType::F32 | ScalarType::F16),
        Some((16, 16, 16)) => in_ty == ScalarType::F16,
        _ => false,
    };
    let use_matrix = matrix_inputs
        && simd == 32
        && cty == ScalarType::F32
        && m.is_multiple_of(tile)
        && n.is_multiple_of(tile)
        && kc.is_multiple_of(tile);
    Some(DotPlan {
        kc,
        matrix: use_matrix.then_some(tile),
    })
}

/// Assign layouts to a function's tensors. The function is verified first: everything after
/// this relies on well-formed ops (operand counts, region shapes, types). No value is given
/// a matrix layout (see [`assign_for`]).
pub fn assign(f: &Function, simd_width: u32, num_warps: u32) -> Result<Assignment, LowerError> {
    assign_with(f, simd_width, num_warps, None)
}

/// As [`assign`], for a target: loop-carried dot accumulators stay in the target's matrix
/// registers where it has a matrix unit that takes them.
pub fn assign_for(f: &Function, target: &Target, num_warps: u32) -> Result<Assignment, LowerError> {
    assign_with(f, target.simd_width, num_warps, Some(target))
}

fn assign_with(
    f: &Function,
    simd_width: u32,
    num_warps: u32,
    target: Option<&Target>,
) -> Result<Assignment, LowerError> {
    tm_tile::verify(f)
        .map_err(|e| LowerError::new(format!("invalid Tile IR: {e}"), tm_core::Loc::UNKNOWN))?;
    let mut a = Assignment {
        simd_width,
        num_warps,
        layouts: FxHashMap::default(),
        requests: FxHashMap::default(),
        mem_bytes: FxHashMap::default(),
        uses: FxHashMap::default(),
    };
    f.walk(|op| {
        for &v in &f.ops[op].operands {
            *a.uses.entry(v).or_insert(0) += 1;
        }
    });
    let held = match target {
        Some(t) => matrix_accumulators(f, t, simd_width, num_warps, &a),
        None => FxHashMap::default(),
    };
    f.walk(|op| {
        let o = &f.ops[op];
        let ptr = match o.kind {
            OpKind::Load { .. }
            | OpKind::Store { .. }
            | OpKind::AtomicRmw { .. }
            | OpKind::AtomicCas { .. } => o.operands.first(),
            _ => None,
        };
        if let Some(&p) = ptr {
            let ty = f.ty(p);
            if let (true, Some(s)) = (ty.is_tensor(), ty.elem.pointee()) {
                let e = a.mem_bytes.entry(ty.shape.clone()).or_insert(0);
                *e = (*e).max(s.size_bytes());
            }
        }
    });
    for p in &f.params {
        if f.ty(p.value).is_tensor() {
            a.layouts
                .insert(p.value, a.default_layout(&f.ty(p.value).shape));
        }
    }
    let mut w = Walker {
        f,
        a,
        pending: FxHashMap::default(),
        held,
    };
    w.block(f.body, &[], 0)?;
    Ok(w.a)
}

/// The values that keep a dot accumulator in matrix registers across a `for` loop (module
/// docs): per carried slot whose yield is a chain of single-use dots ending at the slot's
/// block argument, the argument, the chain and the loop's result.
fn matrix_accumulators(
    f: &Function,
    target: &Target,
    simd: u32,
    num_warps: u32,
    a: &Assignment,
) -> FxHashMap<ValueId, Layout> {
    let mut held = FxHashMap::default();
    let eligible = |op: OpId| -> bool {
        let o = &f.ops[op];
        if !matches!(o.kind, OpKind::Dot { .. }) || o.operands.len() != 3 {
            return false;
        }
        let (ta, tb, tr) = (f.ty(o.operands[0]), f.ty(o.operands[1]), f.ty(o.results[0]));
        let r = tr.shape.len();
        if !(r == 2 || r == 3) || ta.shape.len() != r || tb.shape.len() != r {
            return false;
        }
        let (Some(in_ty), Some(out)) = (ta.scalar_type(), tr.scalar_type()) else {
            return false;
        };
        // The matrices accumulate in f32: only an f32 result is the same value.
        if out != ScalarType::F32 || !in_ty.is_float() || tb.scalar_type() != Some(in_ty) {
            return false;
        }
        let batch = if r == 3 { tr.shape[0] } else { 1 };
        let (m, k, n) = (ta.shape[r - 2], ta.shape[r - 1], tb.shape[r - 1]);
        let plan = dot_plan(
            target,
            simd,
            in_ty,
            in_ty.size_bytes(),
            ScalarType::F32,
            batch,
            m,
            n,
            k,
        );
        plan.and_then(|p| p.matrix).is_some()
    };
    let mut fors = Vec::new();
    f.walk(|op| {
        if matches!(f.ops[op].kind, OpKind::For) {
            fors.push(op);
        }
    });
    for op in fors {
        let o = &f.ops[op];
        let Some(&body) = o.regions.first() else {
            continue;
        };
        let blk = &f.blocks[body];
        let Some(&term) = blk.ops.last() else {
            continue;
        };
        if !matches!(f.ops[term].kind, OpKind::Yield) {
            continue;
        }
        for (i, &res) in o.results.iter().enumerate() {
            let (Some(&arg), Some(&y)) = (blk.args.get(i + 1), f.ops[term].operands.get(i)) else {
                continue;
            };
            if !a.single_use(arg) {
                continue;
            }
            let mut chain = Vec::new();
            let mut v = y;
            let ok = loop {
                let Some(d) = f.def_op(v) else { break false };
                if !blk.ops.contains(&d) || !a.single_use(v) || !eligible(d) {
                    break false;
                }
                chain.push(v);
                let acc = f.ops[d].operands[2];
                if acc == arg {
                    break true;
                }
                v = acc;
            };
            if !ok {
                continue;
            }
            let rank = f.ty(res).shape.len() as u32;
            let tile = match target.matrix_shape {
                Some((t, _, _)) => t,
                None => continue,
            };
            let l = Layout::Matrix(MatrixFrags {
                tile,
                warps: num_warps,
                rank,
            });
            for v in chain.into_iter().chain([arg, res]) {
                held.insert(v, l.clone());
            }
        }
    }
    held
}

struct Walker<'a> {
    f: &'a Function,
    a: Assignment,
    /// The layout the latest use seen so far (walking backwards) asks of a value.
    pending: FxHashMap<ValueId, Layout>,
    /// Values kept in matrix registers (`matrix_accumulators`).
    held: FxHashMap<ValueId, Layout>,
}

impl Walker<'_> {
    fn is_tensor(&self, v: ValueId) -> bool {
        self.f.ty(v).is_tensor()
    }

    /// Fix a value's layout: what its uses ask, else the default of its shape.
    fn decide(&mut self, v: ValueId) -> Option<Layout> {
        if !self.is_tensor(v) {
            return None;
        }
        let l = match (self.held.get(&v), self.pending.get(&v)) {
            (Some(l), _) | (None, Some(l)) => l.clone(),
            (None, None) => self.a.default_layout(&self.f.ty(v).shape),
        };
        self.set(v, l.clone());
        Some(l)
    }

    fn set(&mut self, v: ValueId, l: Layout) {
        if self.is_tensor(v) {
            self.a.layouts.insert(v, l);
        }
    }

    fn request(&mut self, op: OpId, i: usize, l: Option<Layout>) {
        let v = self.f.ops[op].operands[i];
        let Some(l) = l else { return };
        if !self.is_tensor(v) {
            return;
        }
        self.a.requests.insert((op, i), l.clone());
        // Only the values chosen up front live in matrix registers; anything else asked for
        // that layout (a loop's initial value) keeps its own and is converted.
        if matches!(l, Layout::Matrix(_)) && !self.held.contains_key(&v) {
            return;
        }
        self.pending.entry(v).or_insert(l);
    }

    /// Walk a block backwards. Its terminator's operands from `skip` on are asked for
    /// `targets` (the layouts of what they flow into).
    fn block(
        &mut self,
        b: BlockId,
        targets: &[Option<Layout>],
        skip: usize,
    ) -> Result<(), LowerError> {
        for &op in self.f.blocks[b].ops.iter().rev() {
            if self.f.ops[op].kind.is_terminator() {
                let n = self.f.ops[op].operands.len();
                for i in skip..n {
                    let l = targets.get(i - skip).cloned().flatten();
                    self.request(op, i, l);
                }
            } else {
                self.op(op)?;
            }
        }
        Ok(())
    }

    fn op(&mut self, op: OpId) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        let n = o.operands.len();
        let bad =
            |what: &str| LowerError::new(format!("malformed {}: {what}", o.kind.name()), o.loc);
        match &o.kind {
            OpKind::Load { .. } => {
                let r = o.results[0];
                let l = self
                    .is_tensor(r)
                    .then(|| self.a.default_layout(&f.ty(r).shape));
                if let Some(l) = &l {
                    self.set(r, l.clone());
                }
                for i in 0..n {
                    self.request(op, i, l.clone());
                }
            }
            OpKind::Store { .. } | OpKind::AtomicRmw { .. } | OpKind::AtomicCas { .. } => {
                let p = *o.operands.first().ok_or_else(|| bad("no pointer"))?;
                let l = self
                    .is_tensor(p)
                    .then(|| self.a.default_layout(&f.ty(p).shape));
                for &r in &o.results {
                    if let Some(l) = &l {
                        self.set(r, l.clone());
                    }
                }
                for i in 0..n {
                    self.request(op, i, l.clone());
                }
            }
            OpKind::Reduce { axis } => {
                let first = *o.operands.first().ok_or_else(|| bad("no operands"))?;
                let wanted = o.results.first().and_then(|r| self.pending.get(r));
                let parent = match wanted {
                    Some(Layout::Slice { dim, parent }) if dim == axis => (**parent).clone(),
                    _ => self.a.default_layout(&f.ty(first).shape),
                };
                for &r in &o.results {
                    self.set(r, Layout::slice(*axis, parent.clone()));
                }
                for &region in &o.regions {
                    self.block(region, &[], 0)?;
                }
                for i in 0..n {
                    self.request(op, i, Some(parent.clone()));
                }
            }
            OpKind::Dot { .. } => {
                // The accumulator is read in the result's layout; the inputs go through
                // threadgroup memory, so any layout will do for them.
                let l = self.decide(o.results[0]);
                if n == 3 {
                    self.request(op, 2, l);
                }
            }
            OpKind::Scan { .. } => {
                let first = o.results.first().and_then(|&r| self.decide(r));
                for &r in o.results.iter().skip(1) {
                    self.set(
                        r,
                        first
                            .clone()
                            .unwrap_or_else(|| self.a.default_layout(&f.ty(r).shape)),
                    );
                }
                for &region in &o.regions {
                    self.block(region, &[], 0)?;
                }
                for i in 0..n {
                    self.request(op, i, first.clone());
                }
            }
            OpKind::ExpandDims(axis) => {
                let l = self.decide(o.results[0]);
                self.request(op, 0, l.map(|l| Layout::slice(*axis, l)));
            }
            OpKind::Broadcast
            | OpKind::Unary(_)
            | OpKind::Binary(_)
            | OpKind::Cmp(_)
            | OpKind::Select
            | OpKind::Cast
            | OpKind::Bitcast
            | OpKind::Fma
            | OpKind::AddPtr
            | OpKind::Hint { .. } => {
                let r = *o.results.first().ok_or_else(|| bad("no result"))?;
                let l = self.decide(r);
                for i in 0..n {
                    self.request(op, i, l.clone());
                }
            }
            OpKind::For => {
                if n < 3 || o.regions.len() != 1 {
                    return Err(bad("needs bounds, step and a body"));
                }
                let carried: Vec<Option<Layout>> =
                    o.results.iter().map(|&r| self.decide(r)).collect();
                let body = o.regions[0];
                for (i, &arg) in f.blocks[body].args.iter().skip(1).enumerate() {
                    if let Some(Some(l)) = carried.get(i) {
                        self.set(arg, l.clone());
                    }
                }
                self.block(body, &carried, 0)?;
                for (i, l) in carried.into_iter().enumerate() {
                    if 3 + i < n {
                        self.request(op, 3 + i, l);
                    }
                }
            }
            OpKind::If => {
                let results: Vec<Option<Layout>> =
                    o.results.iter().map(|&r| self.decide(r)).collect();
                for &region in &o.regions {
                    self.block(region, &results, 0)?;
                }
            }
            OpKind::While => {
                if o.regions.len() != 2 {
                    return Err(bad("needs two regions"));
                }
                let results: Vec<Option<Layout>> =
                    o.results.iter().map(|&r| self.decide(r)).collect();
                let (before, after) = (o.regions[0], o.regions[1]);
                let carried: Vec<Option<Layout>> = o
                    .operands
                    .iter()
                    .map(|&v| {
                        self.is_tensor(v)
                            .then(|| self.a.default_layout(&f.ty(v).shape))
                    })
                    .collect();
                for (&arg, l) in f.blocks[before].args.iter().zip(&carried) {
                    if let Some(l) = l {
                        self.set(arg, l.clone());
                    }
                }
                for (&arg, l) in f.blocks[after].args.iter().zip(&results) {
                    if let Some(l) = l {
                        self.set(arg, l.clone());
                    }
                }
                self.block(after, &carried, 0)?;
                self.block(before, &results, 1)?;
                for (i, l) in carried.into_iter().enumerate() {
                    self.request(op, i, l);
                }
            }
            _ => {
                for &r in &o.results {
                    self.decide(r);
                }
                for &region in &o.regions {
                    self.block(region, &[], 0)?;
                }
            }
        }
        Ok(())
    }
}

fn value_name(f: &Function, v: ValueId) -> String {
    match &f.values[v].name {
        Some(n) => format!("%{n}"),
        None => format!("%{}", v.index()),
    }
}

/// The assignment as text: the distinct layouts, then one line per tensor value an op
/// defines (`%5 = load : tensor<1024xf32> #0`) and one per converted operand.
pub fn print_assignment(f: &Function, a: &Assignment) -> String {
    let mut names: Vec<Layout> = Vec::new();
    let mut id = |l: &Layout| -> usize {
        match names.iter().position(|x| x == l) {
            Some(i) => i,
            None => {
                names.push(l.clone());
                names.len() - 1
            }
        }
    };
    let mut lines = Vec::new();
    let mut ops = Vec::new();
    f.walk(|op| ops.push(op));
    for op in ops {
        let o = &f.ops[op];
        for (i, &v) in o.operands.iter().enumerate() {
            if a.converts(f, op, i) {
                if let (Some(have), Some(want)) = (a.layout(v), a.request(op, i)) {
                    let (h, w) = (id(have), id(want));
                    lines.push(format!(
                        "  convert {} #{h} -> #{w} for {} operand {i}",
                        value_name(f, v),
                        o.kind.name()
                    ));
                }
            }
        }
        for &region in &o.regions {
            for &arg in &f.blocks[region].args {
                if let Some(l) = a.layout(arg) {
                    let n = id(l);
                    lines.push(format!(
                        "{} = {} arg : {} #{n}",
                        value_name(f, arg),
                        o.kind.name(),
                        f.ty(arg)
                    ));
                }
            }
        }
        for &r in &o.results {
            if let Some(l) = a.layout(r) {
                let n = id(l);
                lines.push(format!(
                    "{} = {} : {} #{n}",
                    value_name(f, r),
                    o.kind.name(),
                    f.ty(r)
                ));
            }
        }
    }
    let mut out = String::new();
    for (i, l) in names.iter().enumerate() {
        out.push_str(&format!("#{i} = {l}\n"));
    }
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}
