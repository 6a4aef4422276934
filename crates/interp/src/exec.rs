//! The executor: walks a function's blocks, one op at a time, each op on whole tiles.

use std::rc::Rc;

use tm_core::{Loc, ScalarType};
use tm_tile::{BlockId, Elem, Function, Literal, OpId, OpKind, Type, ValueId};

use crate::dot;
use crate::elementwise::{self as ew, OpResult};
use crate::error::InterpError;
use crate::memory::{MemFault, Memory};
use crate::reduce;
use crate::shape;
use crate::value::{Data, El, Ptr, Tile};
use crate::with_type;

/// The operands and combine function of a reduce or scan (`Exec::combine_inputs`).
struct CombineInputs {
    inputs: Vec<Rc<Tile>>,
    shape: Vec<u32>,
    region: BlockId,
    fast: Option<tm_tile::BinaryOp>,
}

/// The operands of a store or atomic update (`Exec::update_operands`).
struct Update<'v> {
    ptrs: &'v [Ptr],
    value: &'v Data,
    mask: Option<&'v [bool]>,
}

/// How a block ended.
enum Flow {
    Yield(Vec<Rc<Tile>>),
    Condition(bool, Vec<Rc<Tile>>),
    Return,
}

pub struct Exec<'f, 'm> {
    pub f: &'f Function,
    pub mem: Memory<'m>,
    env: Vec<Option<Rc<Tile>>>,
    /// Values that are the same in every program (constants, ranges), computed once.
    consts: Vec<Option<Rc<Tile>>>,
    pub pid: [u32; 3],
    pub grid: [u32; 3],
    pub prints: Vec<String>,
    pub echo: bool,
    /// Parameter name of each buffer argument, for messages.
    pub buffer_names: Vec<String>,
}

type R<T> = Result<T, Box<InterpError>>;

impl<'f, 'm> Exec<'f, 'm> {
    pub fn new(f: &'f Function, mem: Memory<'m>, grid: [u32; 3]) -> Self {
        let n = f.values.len();
        Exec {
            f,
            mem,
            env: vec![None; n],
            consts: vec![None; n],
            pid: [0; 3],
            grid,
            prints: Vec::new(),
            echo: false,
            buffer_names: Vec::new(),
        }
    }

    pub fn bind(&mut self, v: ValueId, t: Tile) {
        self.env[v.index()] = Some(Rc::new(t));
    }

    pub fn run_program(&mut self, pid: [u32; 3]) -> R<()> {
        self.pid = pid;
        match self.exec_block(self.f.body)? {
            Flow::Return | Flow::Yield(_) => Ok(()),
            Flow::Condition(..) => Err(self.err_plain("return", "body ends in a condition")),
        }
    }

    // ---- errors ------------------------------------------------------------------------

    /// File, line, column and source line of `loc`; empty and zero when unknown.
    fn where_of(&self, loc: Loc) -> (String, u32, u32, String) {
        match self.f.describe_loc(loc) {
            Some((path, line, col)) => {
                let src = self
                    .f
                    .files
                    .get(loc.file as usize)
                    .and_then(|s| s.line_text(line))
                    .unwrap_or("")
                    .to_string();
                (path.to_string(), line, col, src)
            }
            None => (String::new(), 0, 0, String::new()),
        }
    }

    fn op_err(&self, loc: Loc, op: &'static str, reason: impl Into<String>) -> Box<InterpError> {
        let (file, line, col, _) = self.where_of(loc);
        Box::new(InterpError::Op {
            kernel: self.f.name.clone(),
            file,
            line,
            col,
            program_id: self.pid,
            op,
            reason: reason.into(),
        })
    }

    /// An error about the structure of a region rather than one op of it.
    fn err_plain(&self, what: &'static str, reason: impl Into<String>) -> Box<InterpError> {
        self.op_err(Loc::UNKNOWN, what, reason)
    }

    fn err(&self, op: OpId, reason: impl Into<String>) -> Box<InterpError> {
        let o = &self.f.ops[op];
        self.op_err(o.loc, o.kind.name(), reason)
    }

    fn mem_err(
        &self,
        op: OpId,
        access: &'static str,
        fault: MemFault,
        ptrs: &[Ptr],
        lane: usize,
    ) -> Box<InterpError> {
        match fault {
            MemFault::OutOfBounds { index, len } => {
                let (file, line, col, source_line) = self.where_of(self.f.ops[op].loc);
                let buffer = ptrs
                    .get(lane)
                    .and_then(|p| self.buffer_names.get(p.param as usize))
                    .cloned()
                    .unwrap_or_default();
                Box::new(InterpError::OutOfBounds {
                    kernel: self.f.name.clone(),
                    file,
                    line,
                    col,
                    source_line,
                    program_id: self.pid,
                    index,
                    buffer_len: len,
                    buffer,
                    access,
                })
            }
            MemFault::NoBuffer(b) => self.err(
                op,
                format!("pointer into argument {b}, which is not a buffer"),
            ),
            MemFault::Other(s) => self.err(op, s),
        }
    }

    // ---- values ------------------------------------------------------------------------

    fn get(&self, op: OpId, v: ValueId) -> R<Rc<Tile>> {
        self.env
            .get(v.index())
            .and_then(|t| t.clone())
            .ok_or_else(|| self.err(op, format!("value {v:?} used before it is defined")))
    }

    fn operands(&self, op: OpId) -> R<Vec<Rc<Tile>>> {
        self.f.ops[op]
            .operands
            .iter()
            .map(|&v| self.get(op, v))
            .collect()
    }

    fn set(&mut self, op: OpId, i: usize, t: Rc<Tile>) -> R<()> {
        let v = *self.f.ops[op]
            .results
            .get(i)
            .ok_or_else(|| self.err(op, format!("op has no result {i}")))?;
        self.env[v.index()] = Some(t);
        Ok(())
    }

    fn result_type(&self, op: OpId, i: usize) -> R<&'f Type> {
        let f = self.f;
        f.ops[op]
            .results
            .get(i)
            .map(|&v| f.ty(v))
            .ok_or_else(|| self.err(op, format!("op has no result {i}")))
    }

    /// Elementwise operands must have one length: one-element operands are splatted to the
    /// longest (combine regions run on many lanes with scalar-typed constants inside).
    fn align(&self, op: OpId, ts: Vec<Rc<Tile>>) -> R<Vec<Rc<Tile>>> {
        let Some(big) = ts.iter().max_by_key(|t| t.len()).cloned() else {
            return Ok(ts);
        };
        let n = big.len();
        ts.into_iter()
            .map(|t| {
                if t.len() == n {
                    Ok(t)
                } else if t.len() == 1 {
                    shape::splat(&t, &big.shape)
                        .map(Rc::new)
                        .map_err(|e| self.err(op, e))
                } else {
                    Err(self.err(op, format!("operands of {} and {} elements", t.len(), n)))
                }
            })
            .collect()
    }

    fn scalar_of(&self, op: OpId, t: &Tile) -> R<i64> {
        if t.len() != 1 {
            return Err(self.err(op, "expected a scalar"));
        }
        t.data
            .get_i64(0)
            .ok_or_else(|| self.err(op, "expected an integer scalar"))
    }

    fn bool_of(&self, op: OpId, t: &Tile) -> R<bool> {
        if t.len() != 1 {
            return Err(self.err(op, "expected a scalar condition"));
        }
        t.data
            .get_bool(0)
            .ok_or_else(|| self.err(op, "expected a boolean scalar"))
    }

    fn lift<T>(&self, op: OpId, r: OpResult<T>) -> R<T> {
        r.map_err(|e| self.err(op, e))
    }

    // ---- blocks ------------------------------------------------------------------------

    fn run_region(&mut self, block: BlockId, args: Vec<Rc<Tile>>) -> R<Flow> {
        let params = &self.f.blocks[block].args;
        if params.len() != args.len() {
            return Err(self.err_plain(
                "region",
                format!(
                    "region takes {} arguments, given {}",
                    params.len(),
                    args.len()
                ),
            ));
        }
        for (&p, a) in params.iter().zip(args) {
            self.env[p.index()] = Some(a);
        }
        self.exec_block(block)
    }

    fn yielded(&mut self, block: BlockId, args: Vec<Rc<Tile>>) -> R<Vec<Rc<Tile>>> {
        match self.run_region(block, args)? {
            Flow::Yield(v) => Ok(v),
            _ => Err(self.err_plain("yield", "region does not end in a yield")),
        }
    }

    fn exec_block(&mut self, block: BlockId) -> R<Flow> {
        let f = self.f;
        for &op in &f.blocks[block].ops {
            match &f.ops[op].kind {
                OpKind::Yield => return Ok(Flow::Yield(self.operands(op)?)),
                OpKind::Return => return Ok(Flow::Return),
                OpKind::Condition => {
                    let mut vals = self.operands(op)?;
                    if vals.is_empty() {
                        return Err(self.err(op, "condition without operands"));
                    }
                    let c = vals.remove(0);
                    let c = self.bool_of(op, &c)?;
                    return Ok(Flow::Condition(c, vals));
                }
                _ => self.exec_op(op)?,
            }
        }
        Ok(Flow::Yield(Vec::new()))
    }

    fn exec_op(&mut self, op: OpId) -> R<()> {
        let f = self.f;
        let o = &f.ops[op];
        // Ill-formed IR is reported, never indexed past its end.
        let need = min_operands(&o.kind);
        if o.operands.len() < need {
            return Err(self.err(
                op,
                format!("needs {need} operands, has {}", o.operands.len()),
            ));
        }
        match &o.kind {
            OpKind::Constant(_) | OpKind::MakeRange { .. } => {
                let rv = o
                    .results
                    .first()
                    .copied()
                    .ok_or_else(|| self.err(op, "no result"))?;
                let t = match &self.consts[rv.index()] {
                    Some(t) => t.clone(),
                    None => {
                        let t = Rc::new(self.constant(op)?);
                        self.consts[rv.index()] = Some(t.clone());
                        t
                    }
                };
                self.set(op, 0, t)
            }
            OpKind::ProgramId(axis) | OpKind::NumPrograms(axis) => {
                let src = if matches!(o.kind, OpKind::ProgramId(_)) {
                    self.pid
                } else {
                    self.grid
                };
                let v = *src
                    .get(*axis as usize)
                    .ok_or_else(|| self.err(op, "axis must be 0, 1 or 2"))?;
                self.set(op, 0, Rc::new(Tile::from_vec(vec![], vec![v as i32])))
            }
            OpKind::Splat | OpKind::Broadcast => {
                let a = self.get(op, o.operands[0])?;
                let ty = self.result_type(op, 0)?;
                let r = self.lift(op, shape::broadcast(&a, &ty.shape))?;
                self.set(op, 0, Rc::new(r))
            }
            OpKind::ExpandDims(_) | OpKind::Reshape { .. } => {
                let a = self.get(op, o.operands[0])?;
                let ty = self.result_type(op, 0)?;
                let r = self.lift(op, shape::reshape(&a, &ty.shape))?;
                self.set(op, 0, Rc::new(r))
            }
            OpKind::Permute(perm) => {
                let a = self.get(op, o.operands[0])?;
                let r = self.lift(op, shape::permute(&a, perm))?;
                self.set(op, 0, Rc::new(r))
            }
            OpKind::Join => {
                let v = self.operands(op)?;
                if v.len() != 2 {
                    return Err(self.err(op, "join takes two operands"));
                }
                let r = self.lift(op, shape::join(&v[0], &v[1]))?;
                self.set(op, 0, Rc::new(r))
            }
            OpKind::Split => {
                let a = self.get(op, o.operands[0])?;
                let (x, y) = self.lift(op, shape::split(&a))?;
                self.set(op, 0, Rc::new(x))?;
                self.set(op, 1, Rc::new(y))
            }
            OpKind::Unary(u) => {
                let a = self.get(op, o.operands[0])?;
                let r = self.lift(op, ew::unary_tile(*u, &a))?;
                self.set(op, 0, Rc::new(r))
            }
            OpKind::Binary(b) => {
                let v = self.align(op, self.operands(op)?)?;
                let d = self.lift(op, ew::binary(*b, &v[0].data, &v[1].data))?;
                self.set(op, 0, Rc::new(Tile::new(v[0].shape.clone(), v[0].elem, d)))
            }
            OpKind::Cmp(p) => {
                let v = self.align(op, self.operands(op)?)?;
                let d = self.lift(op, ew::cmp(*p, &v[0].data, &v[1].data))?;
                self.set(
                    op,
                    0,
                    Rc::new(Tile::new(
                        v[0].shape.clone(),
                        Elem::Scalar(ScalarType::I1),
                        d,
                    )),
                )
            }
            OpKind::Select => {
                let v = self.align(op, self.operands(op)?)?;
                let d = self.lift(op, ew::select(&v[0].data, &v[1].data, &v[2].data))?;
                self.set(op, 0, Rc::new(Tile::new(v[0].shape.clone(), v[1].elem, d)))
            }
            OpKind::Fma => {
                let v = self.align(op, self.operands(op)?)?;
                let d = self.lift(op, ew::fma(&v[0].data, &v[1].data, &v[2].data))?;
                self.set(op, 0, Rc::new(Tile::new(v[0].shape.clone(), v[0].elem, d)))
            }
            OpKind::Cast | OpKind::Bitcast => {
                let a = self.get(op, o.operands[0])?;
                let to = self.result_type(op, 0)?.elem;
                let r = self.convert(op, &a, to)?;
                self.set(op, 0, Rc::new(r))
            }
            OpKind::AddPtr => {
                let v = self.align(op, self.operands(op)?)?;
                let ptrs = v[0]
                    .data
                    .as_ptrs()
                    .ok_or_else(|| self.err(op, "addptr of a non-pointer"))?;
                let offs: Vec<i64> = crate::with_data!(&v[1].data, d => d.iter().map(|x| x.to_i64()).collect(),
                    _p => return Err(self.err(op, "addptr offset is a pointer")));
                let r: Vec<Ptr> = ptrs
                    .iter()
                    .zip(&offs)
                    .map(|(p, &o)| Ptr {
                        buf: p.buf,
                        param: p.param,
                        off: p.off.wrapping_add(o),
                    })
                    .collect();
                self.set(
                    op,
                    0,
                    Rc::new(Tile::new(v[0].shape.clone(), v[0].elem, Data::Ptr(r))),
                )
            }
            OpKind::Load {
                has_mask,
                has_other,
                ..
            } => self.load(op, *has_mask, *has_other),
            OpKind::Store { has_mask } => {
                let v = self.align(op, self.operands(op)?)?;
                let Update { ptrs, value, mask } =
                    self.update_operands(op, &v, *has_mask, "store")?;
                let r = self.mem.store(ptrs, value, mask);
                r.map_err(|(lane, e)| self.mem_err(op, "store", e, ptrs, lane))
            }
            OpKind::AtomicRmw {
                op: aop, has_mask, ..
            } => {
                let v = self.align(op, self.operands(op)?)?;
                let Update { ptrs, value, mask } =
                    self.update_operands(op, &v, *has_mask, "atomic")?;
                let r = self.mem.atomic_rmw(*aop, ptrs, value, mask);
                let d = r.map_err(|(lane, e)| self.mem_err(op, "atomic", e, ptrs, lane))?;
                let elem = Elem::Scalar(value.scalar_type().unwrap_or(ScalarType::I32));
                self.set(op, 0, Rc::new(Tile::new(v[0].shape.clone(), elem, d)))
            }
            OpKind::AtomicCas { .. } => {
                let v = self.align(op, self.operands(op)?)?;
                if v.len() != 3 {
                    return Err(self.err(op, "atomic_cas takes pointer, compare and value"));
                }
                let ptrs = v[0]
                    .data
                    .as_ptrs()
                    .ok_or_else(|| self.err(op, "atomic through a non-pointer"))?;
                let r = self.mem.atomic_cas(ptrs, &v[1].data, &v[2].data);
                let d = r.map_err(|(lane, e)| self.mem_err(op, "atomic", e, ptrs, lane))?;
                let elem = v[2].elem;
                self.set(op, 0, Rc::new(Tile::new(v[0].shape.clone(), elem, d)))
            }
            OpKind::Reduce { axis } => self.reduce(op, *axis as usize),
            OpKind::Scan { axis, reverse } => self.scan(op, *axis as usize, *reverse),
            OpKind::Dot { .. } => {
                let v = self.operands(op)?;
                if v.len() != 3 {
                    return Err(self.err(op, "dot takes a, b and acc"));
                }
                let r = self.lift(op, dot::dot(&v[0], &v[1], &v[2]))?;
                self.set(op, 0, Rc::new(r))
            }
            OpKind::For => self.for_loop(op),
            OpKind::If => {
                let c = self.get(op, o.operands[0])?;
                let c = self.bool_of(op, &c)?;
                let region = if c {
                    o.regions.first()
                } else {
                    o.regions.get(1)
                };
                let vals = match region {
                    Some(&r) => self.yielded(r, Vec::new())?,
                    None => Vec::new(),
                };
                if vals.len() != o.results.len() {
                    return Err(self.err(op, "branch yields the wrong number of values"));
                }
                for (i, t) in vals.into_iter().enumerate() {
                    self.set(op, i, t)?;
                }
                Ok(())
            }
            OpKind::While => self.while_loop(op),
            OpKind::Yield | OpKind::Condition | OpKind::Return => {
                Err(self.err(op, "terminator in the middle of a block"))
            }
            OpKind::Assert { message } => self.assert(op, message),
            OpKind::Print { prefix, hex } => self.print(op, prefix, *hex),
            OpKind::Barrier => Ok(()),
            OpKind::Hint { .. } => {
                let a = self.get(op, o.operands[0])?;
                self.set(op, 0, a)
            }
        }
    }

    fn constant(&self, op: OpId) -> R<Tile> {
        let o = &self.f.ops[op];
        let ty = self.result_type(op, 0)?;
        let n = shape::numel(&ty.shape);
        let st = ty
            .scalar_type()
            .ok_or_else(|| self.err(op, "constant of pointer type"))?;
        let data = match &o.kind {
            OpKind::Constant(lit) => with_type!(st, T => {
                let x: T = match *lit {
                    Literal::Int(v) => if st.is_float() { T::from_f64(v as f64) } else { T::from_i64(v) },
                    Literal::Float(v) => T::from_f64(v),
                };
                T::into_data(vec![x; n])
            }),
            OpKind::MakeRange { start, end } => {
                if (*end as i64 - *start as i64) as usize != n {
                    return Err(self.err(op, "make_range length differs from its type"));
                }
                let r: Vec<i32> = (*start..*end).collect();
                Data::I32(r)
            }
            _ => return Err(self.err(op, "not a constant")),
        };
        Ok(Tile::new(ty.shape.clone(), ty.elem, data))
    }

    fn convert(&self, op: OpId, a: &Tile, to: Elem) -> R<Tile> {
        let bit = matches!(self.f.ops[op].kind, OpKind::Bitcast);
        let data = match (a.elem, to) {
            (Elem::Ptr(from), Elem::Ptr(to_p)) => {
                // Same address, counted in elements of the new pointee.
                let (fs, ts) = (from.size_bytes() as i64, to_p.size_bytes() as i64);
                let ptrs = a
                    .data
                    .as_ptrs()
                    .ok_or_else(|| self.err(op, "pointer without addresses"))?;
                let mut out = Vec::with_capacity(ptrs.len());
                for p in ptrs {
                    let bytes = p.off.wrapping_mul(fs);
                    if bytes % ts != 0 {
                        return Err(self.err(op, "pointer cast to a misaligned element type"));
                    }
                    out.push(Ptr {
                        buf: p.buf,
                        param: p.param,
                        off: bytes / ts,
                    });
                }
                Data::Ptr(out)
            }
            (Elem::Scalar(_), Elem::Scalar(st)) => {
                if bit {
                    self.lift(op, ew::bitcast(&a.data, st))?
                } else {
                    self.lift(op, ew::cast(&a.data, st))?
                }
            }
            _ => {
                return Err(self.err(
                    op,
                    "conversion between pointers and integers is not supported",
                ))
            }
        };
        Ok(Tile::new(a.shape.clone(), to, data))
    }

    /// Pointers, value and mask of a store or an atomic update (operands: ptr, value,
    /// [mask]), the value checked against the pointee type.
    fn update_operands<'v>(
        &self,
        op: OpId,
        v: &'v [Rc<Tile>],
        has_mask: bool,
        access: &str,
    ) -> R<Update<'v>> {
        let ptrs = v[0]
            .data
            .as_ptrs()
            .ok_or_else(|| self.err(op, format!("{access} through a non-pointer")))?;
        let mask = if has_mask {
            Some(
                v.get(2)
                    .and_then(|m| m.data.as_bools())
                    .ok_or_else(|| self.err(op, "mask is not i1"))?,
            )
        } else {
            None
        };
        let value = &v
            .get(1)
            .ok_or_else(|| self.err(op, format!("{access} without a value")))?
            .data;
        if value.scalar_type() != v[0].elem.pointee() {
            return Err(self.err(op, format!("{access} of a value not of the pointee type")));
        }
        Ok(Update { ptrs, value, mask })
    }

    fn load(&mut self, op: OpId, has_mask: bool, has_other: bool) -> R<()> {
        let v = self.align(op, self.operands(op)?)?;
        let ptrs = v[0]
            .data
            .as_ptrs()
            .ok_or_else(|| self.err(op, "load through a non-pointer"))?;
        let pointee = v[0]
            .elem
            .pointee()
            .ok_or_else(|| self.err(op, "load through a non-pointer"))?;
        let mut next = 1;
        let mask = if has_mask {
            next += 1;
            Some(
                v.get(1)
                    .and_then(|m| m.data.as_bools())
                    .ok_or_else(|| self.err(op, "mask is not i1"))?,
            )
        } else {
            None
        };
        let other = if has_other {
            Some(
                &v.get(next)
                    .ok_or_else(|| self.err(op, "missing `other`"))?
                    .data,
            )
        } else {
            None
        };
        let r = self.mem.load(ptrs, pointee, mask, other);
        let d = r.map_err(|(lane, e)| self.mem_err(op, "load", e, ptrs, lane))?;
        self.set(
            op,
            0,
            Rc::new(Tile::new(v[0].shape.clone(), Elem::Scalar(pointee), d)),
        )
    }

    fn for_loop(&mut self, op: OpId) -> R<()> {
        let f = self.f;
        let o = &f.ops[op];
        let v = self.operands(op)?;
        if v.len() < 3 || o.regions.len() != 1 {
            return Err(self.err(op, "for takes lower, upper, step and one region"));
        }
        let (lo, hi, step) = (
            self.scalar_of(op, &v[0])?,
            self.scalar_of(op, &v[1])?,
            self.scalar_of(op, &v[2])?,
        );
        if step == 0 {
            return Err(self.err(op, "for loop with step 0"));
        }
        let iv_ty = v[0].data.scalar_type().unwrap_or(ScalarType::I32);
        let body = o.regions[0];
        let mut carried: Vec<Rc<Tile>> = v[3..].to_vec();
        let mut iv = lo;
        while (step > 0 && iv < hi) || (step < 0 && iv > hi) {
            let ivt = with_type!(iv_ty, T => Tile::from_vec(vec![], vec![T::from_i64(iv)]));
            let mut args = Vec::with_capacity(carried.len() + 1);
            args.push(Rc::new(ivt));
            args.extend(carried.iter().cloned());
            carried = self.yielded(body, args)?;
            match iv.checked_add(step) {
                Some(n) => iv = n,
                None => break,
            }
        }
        if carried.len() != o.results.len() {
            return Err(self.err(op, "loop body yields the wrong number of values"));
        }
        for (i, t) in carried.into_iter().enumerate() {
            self.set(op, i, t)?;
        }
        Ok(())
    }

    fn while_loop(&mut self, op: OpId) -> R<()> {
        let f = self.f;
        let o = &f.ops[op];
        if o.regions.len() != 2 {
            return Err(self.err(op, "while takes two regions"));
        }
        let mut carried = self.operands(op)?;
        let results = loop {
            match self.run_region(o.regions[0], carried)? {
                Flow::Condition(true, vals) => carried = self.yielded(o.regions[1], vals)?,
                Flow::Condition(false, vals) => break vals,
                _ => return Err(self.err(op, "while's first region does not end in a condition")),
            }
        };
        if results.len() != o.results.len() {
            return Err(self.err(op, "while passes the wrong number of values"));
        }
        for (i, t) in results.into_iter().enumerate() {
            self.set(op, i, t)?;
        }
        Ok(())
    }

    fn assert(&mut self, op: OpId, message: &str) -> R<()> {
        let c = self.get(op, self.f.ops[op].operands[0])?;
        let bad = (0..c.len()).find(|&i| c.data.get_bool(i) == Some(false));
        let Some(i) = bad else { return Ok(()) };
        let (file, line, col, source_line) = self.where_of(self.f.ops[op].loc);
        Err(Box::new(InterpError::AssertionFailed {
            kernel: self.f.name.clone(),
            file,
            line,
            col,
            source_line,
            program_id: self.pid,
            lane: unravel(i, &c.shape),
            message: message.to_string(),
        }))
    }

    /// Prints as Triton's device_print does on the GPU: one line per element and operand,
    /// `pid (x, y, z) idx (i, j) prefix[(operand k) ]value`, through the formatter GPU
    /// launchers use for their debug records (`tm_core::debug`).
    fn print(&mut self, op: OpId, prefix: &str, hex: bool) -> R<()> {
        use tm_core::debug::{print_line, print_line_bare, print_prefix};
        let v = self.operands(op)?;
        let prefix = print_prefix(prefix, !v.is_empty());
        if v.is_empty() {
            self.emit(print_line_bare(self.pid, &prefix));
        }
        let many = v.len() > 1;
        for (k, t) in v.iter().enumerate() {
            let values: Vec<String> = crate::with_data!(&t.data, d => d.iter().map(|&x| {
                format_el(x, hex)
            }).collect(), p => p.iter().map(|p| format!("0x{:x}", p.off)).collect());
            for (i, val) in values.into_iter().enumerate() {
                let idx = if t.shape.is_empty() {
                    Vec::new()
                } else {
                    unravel(i, &t.shape)
                };
                let line = print_line(self.pid, &t.shape, &idx, &prefix, many.then_some(k), &val);
                self.emit(line);
            }
        }
        Ok(())
    }

    fn emit(&mut self, line: String) {
        if self.echo {
            println!("{line}");
        }
        self.prints.push(line);
    }

    // ---- reductions ----------------------------------------------------------------------

    /// What a reduce or scan works on: its operands, their common shape, the combine
    /// region and, when the region is one binary op, that op.
    fn combine_inputs(&self, op: OpId, axis: usize, what: &str) -> R<CombineInputs> {
        let inputs = self.operands(op)?;
        let &region = self.f.ops[op]
            .regions
            .first()
            .ok_or_else(|| self.err(op, "missing combine region"))?;
        let shape = inputs
            .first()
            .ok_or_else(|| self.err(op, format!("{what} of nothing")))?
            .shape
            .clone();
        if axis >= shape.len() {
            return Err(self.err(op, format!("{what} axis out of range")));
        }
        if inputs.iter().any(|t| t.shape != shape) {
            return Err(self.err(op, format!("{what} operands of different shapes")));
        }
        Ok(CombineInputs {
            fast: reduce::match_binary_combine(self.f, region),
            inputs,
            shape,
            region,
        })
    }

    fn reduce(&mut self, op: OpId, axis: usize) -> R<()> {
        let CombineInputs {
            inputs,
            shape: in_shape,
            region,
            fast,
        } = self.combine_inputs(op, axis, "reduce")?;
        let (outer, len, inner) = shape::around_axis(&in_shape, axis);
        if !len.is_power_of_two() {
            return Err(self.err(op, "reduce over a dimension that is not a power of two"));
        }
        // Lay every operand out as [outer, len, inner] lanes, then halve `len` until 1,
        // combining element j with element j + len/2: a tree, as the GPU reduces.
        let mut cur: Vec<Tile> = inputs
            .iter()
            .map(|t| Tile::new(vec![t.len() as u32], t.elem, t.data.clone()))
            .collect();
        let mut l = len;
        while l > 1 {
            let half = l / 2;
            let (li, ri) = reduce::halves(outer, l, inner);
            let left: Vec<Rc<Tile>> = cur.iter().map(|t| Rc::new(reduce::take(t, &li))).collect();
            let right: Vec<Rc<Tile>> = cur.iter().map(|t| Rc::new(reduce::take(t, &ri))).collect();
            cur = self.combine(op, region, fast, left, right)?;
            l = half;
        }
        let mut out_shape = in_shape;
        out_shape.remove(axis);
        for (i, t) in cur.into_iter().enumerate() {
            let want = self.result_type(op, i)?;
            self.set(
                op,
                i,
                Rc::new(Tile::new(out_shape.clone(), want.elem, t.data)),
            )?;
        }
        Ok(())
    }

    fn scan(&mut self, op: OpId, axis: usize, reverse: bool) -> R<()> {
        let CombineInputs {
            inputs,
            shape: in_shape,
            region,
            fast,
        } = self.combine_inputs(op, axis, "scan")?;
        let (outer, len, inner) = shape::around_axis(&in_shape, axis);
        // Hillis–Steele: after the step of distance d, element j holds the combination of
        // the 2d elements ending at j (in scan order). log2(len) steps of whole-tile work.
        let mut cur: Vec<Tile> = inputs.iter().map(|t| (**t).clone()).collect();
        let mut d = 1;
        while d < len {
            let (src, dst) = reduce::scan_pairs(outer, len, inner, d, reverse);
            let earlier: Vec<Rc<Tile>> =
                cur.iter().map(|t| Rc::new(reduce::take(t, &src))).collect();
            let later: Vec<Rc<Tile>> = cur.iter().map(|t| Rc::new(reduce::take(t, &dst))).collect();
            let combined = self.combine(op, region, fast, earlier, later)?;
            let n = inputs[0].len();
            let mut idx: Vec<usize> = (0..n).collect();
            for (k, &j) in dst.iter().enumerate() {
                idx[j] = n + k;
            }
            cur = cur
                .iter()
                .zip(&combined)
                .map(|(t, c)| {
                    let all = shape::concat(&t.data, &c.data).map_err(|e| self.err(op, e))?;
                    Ok(Tile::new(t.shape.clone(), t.elem, all.gather(&idx)))
                })
                .collect::<R<_>>()?;
            d *= 2;
        }
        for (i, t) in cur.into_iter().enumerate() {
            self.set(op, i, Rc::new(t))?;
        }
        Ok(())
    }

    /// Runs the combine function on lanes: `acc[k] ⊕ x[k]` for every k, all at once.
    fn combine(
        &mut self,
        op: OpId,
        region: BlockId,
        fast: Option<tm_tile::BinaryOp>,
        acc: Vec<Rc<Tile>>,
        x: Vec<Rc<Tile>>,
    ) -> R<Vec<Tile>> {
        if let (Some(b), 1) = (fast, acc.len()) {
            let d = self.lift(op, ew::binary(b, &acc[0].data, &x[0].data))?;
            return Ok(vec![Tile::new(acc[0].shape.clone(), acc[0].elem, d)]);
        }
        let n = acc[0].len();
        let want = acc.len();
        let mut args = acc;
        args.extend(x);
        let out = self.yielded(region, args)?;
        if out.len() != want {
            return Err(self.err(
                op,
                format!("combine region yields {} values, not {want}", out.len()),
            ));
        }
        out.into_iter()
            .map(|t| {
                // A region may yield a constant (one element): spread it over the lanes.
                if t.len() == n {
                    Ok((*t).clone())
                } else if t.len() == 1 {
                    shape::splat(&t, &[n as u32]).map_err(|e| self.err(op, e))
                } else {
                    Err(self.err(op, "combine region yields a value of the wrong size"))
                }
            })
            .collect()
    }
}

fn min_operands(k: &OpKind) -> usize {
    match k {
        OpKind::Splat
        | OpKind::Broadcast
        | OpKind::ExpandDims(_)
        | OpKind::Reshape { .. }
        | OpKind::Permute(_)
        | OpKind::Split
        | OpKind::Unary(_)
        | OpKind::Cast
        | OpKind::Bitcast
        | OpKind::If
        | OpKind::Assert { .. }
        | OpKind::Hint { .. }
        | OpKind::Reduce { .. }
        | OpKind::Scan { .. } => 1,
        OpKind::Binary(_) | OpKind::Cmp(_) | OpKind::AddPtr | OpKind::Join => 2,
        OpKind::Select | OpKind::Fma | OpKind::Dot { .. } | OpKind::AtomicCas { .. } => 3,
        OpKind::Load {
            has_mask,
            has_other,
            ..
        } => 1 + *has_mask as usize + *has_other as usize,
        OpKind::Store { has_mask } | OpKind::AtomicRmw { has_mask, .. } => 2 + *has_mask as usize,
        OpKind::For => 3,
        _ => 0,
    }
}

/// Row-major multi-index of linear element `i` of `shape`.
fn unravel(i: usize, shape: &[u32]) -> Vec<u32> {
    tm_core::debug::unravel(i as u64, shape)
}

/// One element as device_print shows it (`tm_core::debug::format_value`).
fn format_el<T: El>(x: T, hex: bool) -> String {
    tm_core::debug::format_value(T::ST, x.bits(), hex)
}
