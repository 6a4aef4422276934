//! Scalar element types, named as Triton names them.

use std::fmt;
use std::str::FromStr;

/// An element type. Signedness is part of the type (as in Triton's frontend), so ops such as
/// division, shifts, comparisons and casts take their signedness from their operand types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScalarType {
    I1,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    BF16,
    F32,
    /// Exists so that f64 kernels can be refused with a clear error (Apple GPUs have no fp64)
    /// and still run in the interpreter.
    F64,
}

impl ScalarType {
    pub const ALL: [ScalarType; 13] = [
        ScalarType::I1,
        ScalarType::I8,
        ScalarType::I16,
        ScalarType::I32,
        ScalarType::I64,
        ScalarType::U8,
        ScalarType::U16,
        ScalarType::U32,
        ScalarType::U64,
        ScalarType::F16,
        ScalarType::BF16,
        ScalarType::F32,
        ScalarType::F64,
    ];

    /// Size in memory. i1 is stored as one byte, as Triton and numpy store booleans.
    pub fn size_bytes(self) -> u32 {
        match self {
            ScalarType::I1 | ScalarType::I8 | ScalarType::U8 => 1,
            ScalarType::I16 | ScalarType::U16 | ScalarType::F16 | ScalarType::BF16 => 2,
            ScalarType::I32 | ScalarType::U32 | ScalarType::F32 => 4,
            ScalarType::I64 | ScalarType::U64 | ScalarType::F64 => 8,
        }
    }

    /// Width of the value in bits (1 for i1).
    pub fn bits(self) -> u32 {
        match self {
            ScalarType::I1 => 1,
            other => other.size_bytes() * 8,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(
            self,
            ScalarType::F16 | ScalarType::BF16 | ScalarType::F32 | ScalarType::F64
        )
    }

    pub fn is_int(self) -> bool {
        !self.is_float()
    }

    pub fn is_bool(self) -> bool {
        self == ScalarType::I1
    }

    pub fn is_signed_int(self) -> bool {
        matches!(
            self,
            ScalarType::I8 | ScalarType::I16 | ScalarType::I32 | ScalarType::I64
        )
    }

    pub fn is_unsigned_int(self) -> bool {
        matches!(
            self,
            ScalarType::U8 | ScalarType::U16 | ScalarType::U32 | ScalarType::U64
        )
    }

    /// Triton's short name: `fp32`, `i32`, `u8`, `i1`, `bf16`.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::I1 => "i1",
            ScalarType::I8 => "i8",
            ScalarType::I16 => "i16",
            ScalarType::I32 => "i32",
            ScalarType::I64 => "i64",
            ScalarType::U8 => "u8",
            ScalarType::U16 => "u16",
            ScalarType::U32 => "u32",
            ScalarType::U64 => "u64",
            ScalarType::F16 => "f16",
            ScalarType::BF16 => "bf16",
            ScalarType::F32 => "f32",
            ScalarType::F64 => "f64",
        }
    }

    /// The numpy dtype name, for messages and the Python layer.
    pub fn numpy_name(self) -> &'static str {
        match self {
            ScalarType::I1 => "bool",
            ScalarType::I8 => "int8",
            ScalarType::I16 => "int16",
            ScalarType::I32 => "int32",
            ScalarType::I64 => "int64",
            ScalarType::U8 => "uint8",
            ScalarType::U16 => "uint16",
            ScalarType::U32 => "uint32",
            ScalarType::U64 => "uint64",
            ScalarType::F16 => "float16",
            ScalarType::BF16 => "bfloat16",
            ScalarType::F32 => "float32",
            ScalarType::F64 => "float64",
        }
    }

    /// The integer type of the same width and the given signedness (for bit manipulation).
    pub fn int_of_width(bits: u32, signed: bool) -> Option<ScalarType> {
        Some(match (bits, signed) {
            (1, _) => ScalarType::I1,
            (8, true) => ScalarType::I8,
            (16, true) => ScalarType::I16,
            (32, true) => ScalarType::I32,
            (64, true) => ScalarType::I64,
            (8, false) => ScalarType::U8,
            (16, false) => ScalarType::U16,
            (32, false) => ScalarType::U32,
            (64, false) => ScalarType::U64,
            _ => return None,
        })
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScalarType {
    type Err = String;

    /// Accepts our names plus Triton's signature spellings (`fp32`, `int32`, `uint8`, `bf16`,
    /// `float16`, `bool`...), so `--signature '*fp32,i32'` works as in Triton.
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "i1" | "int1" | "bool" => ScalarType::I1,
            "i8" | "int8" => ScalarType::I8,
            "i16" | "int16" => ScalarType::I16,
            "i32" | "int32" => ScalarType::I32,
            "i64" | "int64" => ScalarType::I64,
            "u1" => ScalarType::I1,
            "u8" | "uint8" => ScalarType::U8,
            "u16" | "uint16" => ScalarType::U16,
            "u32" | "uint32" => ScalarType::U32,
            "u64" | "uint64" => ScalarType::U64,
            "f16" | "fp16" | "float16" => ScalarType::F16,
            "bf16" | "bfloat16" => ScalarType::BF16,
            "f32" | "fp32" | "float32" => ScalarType::F32,
            "f64" | "fp64" | "float64" => ScalarType::F64,
            _ => return Err(format!("unknown dtype '{s}'")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for t in ScalarType::ALL {
            assert_eq!(t.name().parse::<ScalarType>().unwrap(), t);
            assert_eq!(t.numpy_name().parse::<ScalarType>().unwrap(), t);
        }
        assert_eq!("fp32".parse::<ScalarType>().unwrap(), ScalarType::F32);
        assert!("f8".parse::<ScalarType>().is_err());
    }
}
