//! Global memory: the kernel's buffer arguments as bytes, with every access bounds-checked
//! against the buffer it points into. Masked-off lanes never touch memory.

use tm_core::ScalarType;
use tm_tile::AtomicOp;

use crate::elementwise::typed;
use crate::value::{Data, El, Ptr};
use crate::with_type;

/// Why an access failed, before the executor adds where and in which program.
#[derive(Debug)]
pub enum MemFault {
    OutOfBounds {
        index: i64,
        len: usize,
    },
    /// The pointer's buffer index names no buffer argument (cannot come from a well-formed
    /// program; reported rather than trusted).
    NoBuffer(u32),
    Other(String),
}

pub struct Memory<'a> {
    /// Indexed by kernel argument index; `None` for non-buffer arguments and for arguments
    /// sharing an earlier one's buffer (their pointers name that argument).
    pub bufs: Vec<Option<&'a mut [u8]>>,
}

impl Memory<'_> {
    fn bytes(&self, buf: u32) -> Result<&[u8], MemFault> {
        match self.bufs.get(buf as usize) {
            Some(Some(b)) => Ok(b),
            _ => Err(MemFault::NoBuffer(buf)),
        }
    }

    fn bytes_mut(&mut self, buf: u32) -> Result<&mut [u8], MemFault> {
        match self.bufs.get_mut(buf as usize) {
            Some(Some(b)) => Ok(b),
            _ => Err(MemFault::NoBuffer(buf)),
        }
    }

    /// The byte range of element `p` of a `size`-byte type, or the fault.
    fn locate(len_bytes: usize, p: Ptr, size: usize) -> Result<usize, MemFault> {
        let len = len_bytes / size;
        if p.off < 0 || p.off as u64 >= len as u64 {
            return Err(MemFault::OutOfBounds { index: p.off, len });
        }
        Ok(p.off as usize * size)
    }

    pub fn load(
        &self,
        ptrs: &[Ptr],
        pointee: ScalarType,
        mask: Option<&[bool]>,
        other: Option<&Data>,
    ) -> Result<Data, (usize, MemFault)> {
        with_type!(pointee, T => {
            let other: Option<&[T]> = match other {
                Some(d) => Some(typed::<T>(d).ok_or((0, MemFault::Other(
                    "load: `other` is not of the pointee type".into())))?),
                None => None,
            };
            Ok(T::into_data(self.load_typed::<T>(ptrs, mask, other)?))
        })
    }

    fn load_typed<T: El>(
        &self,
        ptrs: &[Ptr],
        mask: Option<&[bool]>,
        other: Option<&[T]>,
    ) -> Result<Vec<T>, (usize, MemFault)> {
        let size = T::ST.size_bytes() as usize;
        let mut out = Vec::with_capacity(ptrs.len());
        // Lanes of one tile nearly always point into one buffer: look it up once.
        let mut cur: Option<(u32, &[u8])> = None;
        for (i, &p) in ptrs.iter().enumerate() {
            if let Some(m) = mask {
                if !m[i] {
                    // Triton leaves masked lanes without `other` undefined; zero is our choice.
                    out.push(other.map_or(T::default(), |o| o[i]));
                    continue;
                }
            }
            let bytes = match cur {
                Some((b, bytes)) if b == p.buf => bytes,
                _ => {
                    let bytes = self.bytes(p.buf).map_err(|e| (i, e))?;
                    cur = Some((p.buf, bytes));
                    bytes
                }
            };
            let at = Self::locate(bytes.len(), p, size).map_err(|e| (i, e))?;
            out.push(T::read_le(&bytes[at..at + size]));
        }
        Ok(out)
    }

    pub fn store(
        &mut self,
        ptrs: &[Ptr],
        value: &Data,
        mask: Option<&[bool]>,
    ) -> Result<(), (usize, MemFault)> {
        crate::with_data!(value, v => self.store_typed(ptrs, v, mask),
            _p => Err((0, MemFault::Other("store of pointers to memory".into()))))
    }

    fn store_typed<T: El>(
        &mut self,
        ptrs: &[Ptr],
        value: &[T],
        mask: Option<&[bool]>,
    ) -> Result<(), (usize, MemFault)> {
        let size = T::ST.size_bytes() as usize;
        for (i, &p) in ptrs.iter().enumerate() {
            if let Some(m) = mask {
                if !m[i] {
                    continue;
                }
            }
            let bytes = self.bytes_mut(p.buf).map_err(|e| (i, e))?;
            let at = Self::locate(bytes.len(), p, size).map_err(|e| (i, e))?;
            value[i].write_le(&mut bytes[at..at + size]);
        }
        Ok(())
    }

    /// Lanes run one after another, so each read-modify-write is trivially atomic. Returns
    /// the old values (zero on masked-off lanes).
    pub fn atomic_rmw(
        &mut self,
        op: AtomicOp,
        ptrs: &[Ptr],
        value: &Data,
        mask: Option<&[bool]>,
    ) -> Result<Data, (usize, MemFault)> {
        crate::with_data!(value, v => Ok(El::into_data(self.rmw_typed(op, ptrs, v, mask)?)),
            _p => Err((0, MemFault::Other("atomic on pointer values".into()))))
    }

    fn rmw_typed<T: El>(
        &mut self,
        op: AtomicOp,
        ptrs: &[Ptr],
        value: &[T],
        mask: Option<&[bool]>,
    ) -> Result<Vec<T>, (usize, MemFault)> {
        let float = T::ST.is_float();
        let f: fn(T, T) -> T = match (op, float) {
            (AtomicOp::Add, false) => |a, b| T::from_i64(a.to_i64().wrapping_add(b.to_i64())),
            (AtomicOp::Add, true) => |a, b| T::from_f64(a.to_f64() + b.to_f64()),
            (AtomicOp::Max, _) => |a: T, b: T| if b > a || is_nan(a) { b } else { a },
            (AtomicOp::Min, _) => |a: T, b: T| if b < a || is_nan(a) { b } else { a },
            (AtomicOp::And, false) => |a, b| T::of_bits(a.bits() & b.bits()),
            (AtomicOp::Or, false) => |a, b| T::of_bits(a.bits() | b.bits()),
            (AtomicOp::Xor, false) => |a, b| T::of_bits(a.bits() ^ b.bits()),
            (AtomicOp::Xchg, _) => |_, b| b,
            (op, true) => {
                return Err((0, MemFault::Other(format!("atomic {op} on {}", T::ST))));
            }
        };
        let size = T::ST.size_bytes() as usize;
        let mut old = Vec::with_capacity(ptrs.len());
        for (i, &p) in ptrs.iter().enumerate() {
            if let Some(m) = mask {
                if !m[i] {
                    old.push(T::default());
                    continue;
                }
            }
            let bytes = self.bytes_mut(p.buf).map_err(|e| (i, e))?;
            let at = Self::locate(bytes.len(), p, size).map_err(|e| (i, e))?;
            let o = T::read_le(&bytes[at..at + size]);
            f(o, value[i]).write_le(&mut bytes[at..at + size]);
            old.push(o);
        }
        Ok(old)
    }

    pub fn atomic_cas(
        &mut self,
        ptrs: &[Ptr],
        cmp: &Data,
        value: &Data,
    ) -> Result<Data, (usize, MemFault)> {
        crate::with_data!(value, v => {
            let c = typed(cmp).ok_or((0, MemFault::Other(
                "atomic_cas: compare and value of different types".into())))?;
            Ok(El::into_data(self.cas_typed(ptrs, c, v)?))
        }, _p => Err((0, MemFault::Other("atomic_cas on pointer values".into()))))
    }

    fn cas_typed<T: El>(
        &mut self,
        ptrs: &[Ptr],
        cmp: &[T],
        value: &[T],
    ) -> Result<Vec<T>, (usize, MemFault)> {
        let size = T::ST.size_bytes() as usize;
        let mut old = Vec::with_capacity(ptrs.len());
        for (i, &p) in ptrs.iter().enumerate() {
            let bytes = self.bytes_mut(p.buf).map_err(|e| (i, e))?;
            let at = Self::locate(bytes.len(), p, size).map_err(|e| (i, e))?;
            let o = T::read_le(&bytes[at..at + size]);
            // Hardware compares bits, not values (NaN == NaN, -0 != +0).
            if o.bits() == cmp[i].bits() {
                value[i].write_le(&mut bytes[at..at + size]);
            }
            old.push(o);
        }
        Ok(old)
    }
}

fn is_nan<T: El>(a: T) -> bool {
    T::ST.is_float() && a.to_f64().is_nan()
}
