//! Which buffer each pointer value points into. Pointers become element indices into the
//! buffer of their base parameter, so every pointer must come from exactly one parameter;
//! also records which parameters are read, written and updated atomically.

use rustc_hash::FxHashMap;
use tm_tile::{BlockId, Function, OpId, OpKind, ValueDef, ValueId};

use crate::error::LowerError;

pub struct Provenance {
    /// Parameter index of the buffer each pointer value points into.
    pub base: FxHashMap<ValueId, u32>,
    pub reads: Vec<bool>,
    pub writes: Vec<bool>,
    pub atomics: Vec<bool>,
}

pub fn analyze(f: &Function) -> Result<Provenance, LowerError> {
    let n = f.params.len();
    let mut p = Provenance {
        base: FxHashMap::default(),
        reads: vec![false; n],
        writes: vec![false; n],
        atomics: vec![false; n],
    };
    for (i, param) in f.params.iter().enumerate() {
        if f.ty(param.value).elem.is_ptr() {
            p.base.insert(param.value, i as u32);
        }
    }
    let mut w = Walker { f, p };
    w.block(f.body)?;
    Ok(w.p)
}

struct Walker<'a> {
    f: &'a Function,
    p: Provenance,
}

impl Walker<'_> {
    fn is_ptr(&self, v: ValueId) -> bool {
        self.f.ty(v).elem.is_ptr()
    }

    fn base_of(&self, v: ValueId, op: OpId) -> Result<u32, LowerError> {
        self.p.base.get(&v).copied().ok_or_else(|| {
            let what = match self.f.values[v].def {
                ValueDef::Param(_) => "a parameter",
                _ => "a computed value",
            };
            LowerError::new(
                format!("cannot tell which buffer this pointer ({what}) points into"),
                self.f.ops[op].loc,
            )
        })
    }

    /// Give `to` the base of `from` (if a pointer), or check they agree when `to` has one.
    fn flow(&mut self, from: ValueId, to: ValueId, op: OpId) -> Result<(), LowerError> {
        if !self.is_ptr(from) || !self.is_ptr(to) {
            return Ok(());
        }
        let b = self.base_of(from, op)?;
        match self.p.base.get(&to) {
            Some(&old) if old != b => Err(LowerError::new(
                "a pointer here may point into two different buffers (not supported)",
                self.f.ops[op].loc,
            )),
            _ => {
                self.p.base.insert(to, b);
                Ok(())
            }
        }
    }

    fn terminator(&self, b: BlockId) -> Option<OpId> {
        self.f.blocks[b]
            .ops
            .last()
            .copied()
            .filter(|&o| self.f.ops[o].kind.is_terminator())
    }

    fn block(&mut self, b: BlockId) -> Result<(), LowerError> {
        for &op in &self.f.blocks[b].ops {
            self.op(op)?;
        }
        Ok(())
    }

    fn mark(&mut self, op: OpId, write: bool, atomic: bool) -> Result<(), LowerError> {
        let ptr = self.f.ops[op].operands[0];
        let b = self.base_of(ptr, op)? as usize;
        self.p.reads[b] |= !write || atomic;
        self.p.writes[b] |= write;
        self.p.atomics[b] |= atomic;
        Ok(())
    }

    fn op(&mut self, op: OpId) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        match &o.kind {
            OpKind::Load { .. } => self.mark(op, false, false)?,
            OpKind::Store { .. } => self.mark(op, true, false)?,
            OpKind::AtomicRmw { .. } | OpKind::AtomicCas { .. } => self.mark(op, true, true)?,
            OpKind::Select => {
                if let (Some(&r), [_, a, b]) = (o.results.first(), o.operands.as_slice()) {
                    self.flow(*a, r, op)?;
                    self.flow(*b, r, op)?;
                }
            }
            OpKind::For => {
                let body = o.regions[0];
                let args = &f.blocks[body].args;
                for (i, &init) in o.operands.iter().skip(3).enumerate() {
                    if let (Some(&arg), Some(&res)) = (args.get(i + 1), o.results.get(i)) {
                        self.flow(init, arg, op)?;
                        self.flow(init, res, op)?;
                    }
                }
                self.block(body)?;
                if let Some(t) = self.terminator(body) {
                    for (&y, &res) in f.ops[t].operands.iter().zip(&o.results) {
                        self.flow(y, res, t)?;
                    }
                }
            }
            OpKind::If => {
                for &region in &o.regions {
                    self.block(region)?;
                    if let Some(t) = self.terminator(region) {
                        for (&y, &res) in f.ops[t].operands.iter().zip(&o.results) {
                            self.flow(y, res, t)?;
                        }
                    }
                }
            }
            OpKind::While => {
                let (before, after) = (o.regions[0], o.regions[1]);
                for (&init, &arg) in o.operands.iter().zip(&f.blocks[before].args) {
                    self.flow(init, arg, op)?;
                }
                self.block(before)?;
                if let Some(t) = self.terminator(before) {
                    let vals = f.ops[t].operands.iter().skip(1);
                    for ((&v, &arg), &res) in vals.zip(&f.blocks[after].args).zip(&o.results) {
                        self.flow(v, arg, t)?;
                        self.flow(v, res, t)?;
                    }
                }
                self.block(after)?;
                if let Some(t) = self.terminator(after) {
                    for (&y, &arg) in f.ops[t].operands.iter().zip(&f.blocks[before].args) {
                        self.flow(y, arg, t)?;
                    }
                }
            }
            _ => {
                // Shape ops, addptr and hints keep their first operand's buffer.
                if let Some(&first) = o.operands.first() {
                    for &r in &o.results {
                        if self.is_ptr(r) {
                            self.flow(first, r, op)?;
                        }
                    }
                }
                for &region in &o.regions {
                    self.block(region)?;
                }
            }
        }
        Ok(())
    }
}
