//! Launch arguments: scalars packed into the scalar buffer as `KernelAbi` says, and the host
//! memory behind pointer arguments.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use tm_core::{KernelAbi, ScalarType};

/// The scalar buffer of one launch, header left zero (the launcher writes it).
pub fn pack_scalars(abi: &KernelAbi, args: &[Bound<'_, PyAny>]) -> PyResult<Vec<u8>> {
    let mut buf = vec![0u8; abi.scalar_bytes as usize];
    for slot in &abi.scalars {
        let value = arg(args, slot.arg_index)?;
        let bytes = scalar_bytes(value, slot.ty).map_err(|e| {
            PyTypeError::new_err(format!(
                "argument {}: expected a {} scalar: {e}",
                slot.arg_index,
                slot.ty.numpy_name()
            ))
        })?;
        let at = slot.offset as usize;
        let dst = buf.get_mut(at..at + bytes.len()).ok_or_else(|| {
            PyValueError::new_err("triton_metal internal: scalar slot outside the scalar buffer")
        })?;
        dst.copy_from_slice(&bytes);
    }
    Ok(buf)
}

fn arg<'a, 'py>(args: &'a [Bound<'py, PyAny>], i: usize) -> PyResult<&'a Bound<'py, PyAny>> {
    args.get(i).ok_or_else(|| {
        PyValueError::new_err(format!(
            "triton_metal internal: the kernel's ABI names argument {i}, but only {} were given",
            args.len()
        ))
    })
}

/// Integers are stored with two's-complement wrapping, as a C cast would: the Python layer
/// already chose a type the value fits in.
fn int_bits(v: &Bound<'_, PyAny>) -> PyResult<u64> {
    match v.extract::<i64>() {
        Ok(i) => Ok(i as u64),
        Err(_) => v.extract::<u64>(),
    }
}

fn scalar_bytes(v: &Bound<'_, PyAny>, ty: ScalarType) -> PyResult<Vec<u8>> {
    Ok(match ty {
        ScalarType::I1 => vec![v.is_truthy()? as u8],
        ScalarType::I8 | ScalarType::U8 => vec![int_bits(v)? as u8],
        ScalarType::I16 | ScalarType::U16 => (int_bits(v)? as u16).to_le_bytes().to_vec(),
        ScalarType::I32 | ScalarType::U32 => (int_bits(v)? as u32).to_le_bytes().to_vec(),
        ScalarType::I64 | ScalarType::U64 => int_bits(v)?.to_le_bytes().to_vec(),
        ScalarType::F16 => half::f16::from_f64(v.extract::<f64>()?)
            .to_bits()
            .to_le_bytes()
            .to_vec(),
        ScalarType::BF16 => half::bf16::from_f64(v.extract::<f64>()?)
            .to_bits()
            .to_le_bytes()
            .to_vec(),
        ScalarType::F32 => (v.extract::<f64>()? as f32).to_le_bytes().to_vec(),
        ScalarType::F64 => v.extract::<f64>()?.to_le_bytes().to_vec(),
    })
}

/// Host memory of a pointer argument, as the Python layer describes it:
/// `(address, nbytes, writeable, array)`; the array keeps the memory alive during the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostArray {
    pub addr: usize,
    pub nbytes: usize,
    pub writeable: bool,
}

pub fn host_array(args: &[Bound<'_, PyAny>], i: usize) -> PyResult<HostArray> {
    let v = arg(args, i)?;
    let (addr, nbytes, writeable, _array): (usize, usize, bool, Bound<'_, PyAny>) =
        v.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "argument {i}: the kernel was specialized for an array here, got {}",
                v.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        })?;
    Ok(HostArray {
        addr,
        nbytes,
        writeable,
    })
}

impl HostArray {
    /// # Safety
    /// The array that `addr` came from must be alive and unchanged in size for as long as the
    /// slice is used; the Python caller holds it in the argument list for the whole call.
    pub unsafe fn bytes(&self) -> &[u8] {
        if self.nbytes == 0 {
            return &[];
        }
        std::slice::from_raw_parts(self.addr as *const u8, self.nbytes)
    }

    /// # Safety
    /// As `bytes`, and no other slice of the same memory may be alive at the same time.
    // The memory belongs to the numpy array, not to this descriptor: `&self` lends nothing.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn bytes_mut(&self) -> &mut [u8] {
        if self.nbytes == 0 {
            return &mut [];
        }
        std::slice::from_raw_parts_mut(self.addr as *mut u8, self.nbytes)
    }
}
