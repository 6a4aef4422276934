//! Types of Tile IR values: scalars, pointers to scalars, and tensors of either with a
//! static power-of-two shape.

use std::fmt;

pub use tm_core::ScalarType;

/// What one element of a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Elem {
    Scalar(ScalarType),
    /// A pointer into global memory to elements of the given type.
    Ptr(ScalarType),
}

impl Elem {
    pub fn scalar(self) -> Option<ScalarType> {
        match self {
            Elem::Scalar(s) => Some(s),
            Elem::Ptr(_) => None,
        }
    }

    /// The pointee type of a pointer element.
    pub fn pointee(self) -> Option<ScalarType> {
        match self {
            Elem::Ptr(s) => Some(s),
            Elem::Scalar(_) => None,
        }
    }

    pub fn is_ptr(self) -> bool {
        matches!(self, Elem::Ptr(_))
    }
}

impl fmt::Display for Elem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Elem::Scalar(s) => write!(f, "{s}"),
            Elem::Ptr(s) => write!(f, "ptr<{s}>"),
        }
    }
}

/// A value's type. An empty `shape` is a scalar; otherwise a tensor whose every dimension is
/// a power of two (Triton's rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    pub elem: Elem,
    pub shape: Vec<u32>,
}

impl Type {
    pub fn scalar(s: ScalarType) -> Type {
        Type {
            elem: Elem::Scalar(s),
            shape: Vec::new(),
        }
    }

    pub fn ptr(pointee: ScalarType) -> Type {
        Type {
            elem: Elem::Ptr(pointee),
            shape: Vec::new(),
        }
    }

    pub fn tensor(elem: Elem, shape: Vec<u32>) -> Type {
        Type { elem, shape }
    }

    /// The same shape with another element type (e.g. the i1 result of a comparison).
    pub fn with_elem(&self, elem: Elem) -> Type {
        Type {
            elem,
            shape: self.shape.clone(),
        }
    }

    pub fn with_shape(&self, shape: Vec<u32>) -> Type {
        Type {
            elem: self.elem,
            shape,
        }
    }

    pub fn is_tensor(&self) -> bool {
        !self.shape.is_empty()
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements (1 for a scalar).
    pub fn numel(&self) -> u64 {
        self.shape.iter().map(|&d| d as u64).product()
    }

    pub fn scalar_type(&self) -> Option<ScalarType> {
        self.elem.scalar()
    }
}

impl fmt::Display for Type {
    /// `i32`, `ptr<f32>`, `tensor<128x64xf16>`, `tensor<1024xptr<f32>>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.shape.is_empty() {
            return write!(f, "{}", self.elem);
        }
        f.write_str("tensor<")?;
        for d in &self.shape {
            write!(f, "{d}x")?;
        }
        write!(f, "{}>", self.elem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        assert_eq!(Type::scalar(ScalarType::I32).to_string(), "i32");
        assert_eq!(
            Type::tensor(Elem::Ptr(ScalarType::F32), vec![64, 32]).to_string(),
            "tensor<64x32xptr<f32>>"
        );
    }
}
