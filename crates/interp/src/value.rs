//! Runtime values: every Tile IR value (scalar or tensor) is a dense row-major array of one
//! element type with its shape alongside. Ops dispatch on the element type once and then run
//! a tight loop over a `Vec<T>`.

use half::{bf16, f16};
use tm_core::ScalarType;
use tm_tile::Elem;

/// A pointer lane: which kernel argument's buffer it points into, and the element offset
/// (in units of the pointee type) from its start. Offsets are kept exact in i64 so an
/// out-of-range address is reported as the index the kernel computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ptr {
    /// The argument holding the bytes: aliases of one array share it (and compare equal).
    pub buf: u32,
    /// The argument of the parameter the pointer derives from, to name it in reports.
    pub param: u32,
    pub off: i64,
}

/// The elements of a value, one vector per element type.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    I1(Vec<bool>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Ptr(Vec<Ptr>),
}

/// Runs `$body` with `$v` bound to the typed vector of any scalar variant, and `$pbody` with
/// `$p` bound to the pointer vector. The body is compiled once per element type, which is
/// how every op gets its own monomorphic inner loop.
#[macro_export]
#[doc(hidden)]
macro_rules! with_data {
    ($data:expr, $v:ident => $body:expr, $p:ident => $pbody:expr) => {
        match $data {
            $crate::value::Data::I1($v) => $body,
            $crate::value::Data::I8($v) => $body,
            $crate::value::Data::I16($v) => $body,
            $crate::value::Data::I32($v) => $body,
            $crate::value::Data::I64($v) => $body,
            $crate::value::Data::U8($v) => $body,
            $crate::value::Data::U16($v) => $body,
            $crate::value::Data::U32($v) => $body,
            $crate::value::Data::U64($v) => $body,
            $crate::value::Data::F16($v) => $body,
            $crate::value::Data::BF16($v) => $body,
            $crate::value::Data::F32($v) => $body,
            $crate::value::Data::F64($v) => $body,
            $crate::value::Data::Ptr($p) => $pbody,
        }
    };
}

/// Runs `$body` with the type alias `$t` set to the Rust type of a scalar type.
#[macro_export]
#[doc(hidden)]
macro_rules! with_type {
    ($st:expr, $t:ident => $body:expr) => {
        match $st {
            tm_core::ScalarType::I1 => {
                type $t = bool;
                $body
            }
            tm_core::ScalarType::I8 => {
                type $t = i8;
                $body
            }
            tm_core::ScalarType::I16 => {
                type $t = i16;
                $body
            }
            tm_core::ScalarType::I32 => {
                type $t = i32;
                $body
            }
            tm_core::ScalarType::I64 => {
                type $t = i64;
                $body
            }
            tm_core::ScalarType::U8 => {
                type $t = u8;
                $body
            }
            tm_core::ScalarType::U16 => {
                type $t = u16;
                $body
            }
            tm_core::ScalarType::U32 => {
                type $t = u32;
                $body
            }
            tm_core::ScalarType::U64 => {
                type $t = u64;
                $body
            }
            tm_core::ScalarType::F16 => {
                type $t = half::f16;
                $body
            }
            tm_core::ScalarType::BF16 => {
                type $t = half::bf16;
                $body
            }
            tm_core::ScalarType::F32 => {
                type $t = f32;
                $body
            }
            tm_core::ScalarType::F64 => {
                type $t = f64;
                $body
            }
        }
    };
}

impl Data {
    pub fn len(&self) -> usize {
        with_data!(self, v => v.len(), p => p.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements at `idx`, in that order (the engine of every shape op).
    pub fn gather(&self, idx: &[usize]) -> Data {
        with_data!(self, v => El::into_data(idx.iter().map(|&i| v[i]).collect()),
            p => Data::Ptr(idx.iter().map(|&i| p[i]).collect()))
    }

    /// A vector of `n` copies of element `i`.
    pub fn repeat(&self, i: usize, n: usize) -> Data {
        with_data!(self, v => El::into_data(vec![v[i]; n]), p => Data::Ptr(vec![p[i]; n]))
    }

    pub fn zeros(st: ScalarType, n: usize) -> Data {
        with_type!(st, T => <T as El>::into_data(vec![T::default(); n]))
    }

    pub fn scalar_type(&self) -> Option<ScalarType> {
        Some(match self {
            Data::I1(_) => ScalarType::I1,
            Data::I8(_) => ScalarType::I8,
            Data::I16(_) => ScalarType::I16,
            Data::I32(_) => ScalarType::I32,
            Data::I64(_) => ScalarType::I64,
            Data::U8(_) => ScalarType::U8,
            Data::U16(_) => ScalarType::U16,
            Data::U32(_) => ScalarType::U32,
            Data::U64(_) => ScalarType::U64,
            Data::F16(_) => ScalarType::F16,
            Data::BF16(_) => ScalarType::BF16,
            Data::F32(_) => ScalarType::F32,
            Data::F64(_) => ScalarType::F64,
            Data::Ptr(_) => return None,
        })
    }

    /// Element `i` as an i64 (ints sign- or zero-extended by their type, floats truncated).
    pub fn get_i64(&self, i: usize) -> Option<i64> {
        with_data!(self, v => v.get(i).map(|x| x.to_i64()), _p => None)
    }

    pub fn get_bool(&self, i: usize) -> Option<bool> {
        with_data!(self, v => v.get(i).map(|x| x.nonzero()), _p => None)
    }

    pub fn as_bools(&self) -> Option<&[bool]> {
        match self {
            Data::I1(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_ptrs(&self) -> Option<&[Ptr]> {
        match self {
            Data::Ptr(v) => Some(v),
            _ => None,
        }
    }
}

/// A value of the program being run: a scalar has an empty shape and one element.
#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    pub shape: Vec<u32>,
    pub elem: Elem,
    pub data: Data,
}

impl Tile {
    pub fn new(shape: Vec<u32>, elem: Elem, data: Data) -> Tile {
        Tile { shape, elem, data }
    }

    pub fn from_vec<T: El>(shape: Vec<u32>, v: Vec<T>) -> Tile {
        Tile {
            shape,
            elem: Elem::Scalar(T::ST),
            data: T::into_data(v),
        }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A scalar kernel argument.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarValue {
    I1(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F16(f16),
    BF16(bf16),
    F32(f32),
    F64(f64),
}

impl ScalarValue {
    pub fn scalar_type(&self) -> ScalarType {
        self.to_data().scalar_type().unwrap_or(ScalarType::I32)
    }

    pub(crate) fn to_data(self) -> Data {
        match self {
            ScalarValue::I1(x) => Data::I1(vec![x]),
            ScalarValue::I8(x) => Data::I8(vec![x]),
            ScalarValue::I16(x) => Data::I16(vec![x]),
            ScalarValue::I32(x) => Data::I32(vec![x]),
            ScalarValue::I64(x) => Data::I64(vec![x]),
            ScalarValue::U8(x) => Data::U8(vec![x]),
            ScalarValue::U16(x) => Data::U16(vec![x]),
            ScalarValue::U32(x) => Data::U32(vec![x]),
            ScalarValue::U64(x) => Data::U64(vec![x]),
            ScalarValue::F16(x) => Data::F16(vec![x]),
            ScalarValue::BF16(x) => Data::BF16(vec![x]),
            ScalarValue::F32(x) => Data::F32(vec![x]),
            ScalarValue::F64(x) => Data::F64(vec![x]),
        }
    }
}

/// How the interpreter handles one element type. Conversions follow Triton on the GPU:
/// float→int truncates toward zero and saturates (NaN → 0, as PTX `cvt.rzi` does and as
/// Rust's `as` does); int→int wraps; anything→i1 is `!= 0`; float rounding is to nearest even.
pub trait El: Copy + PartialEq + PartialOrd + Default + std::fmt::Debug + 'static {
    const ST: ScalarType;
    fn into_data(v: Vec<Self>) -> Data;
    /// Ints: the value, sign- or zero-extended (u64 keeps its bits); i1: 0/1; floats: the
    /// value truncated toward zero, saturating.
    fn to_i64(self) -> i64;
    fn to_f64(self) -> f64;
    /// Ints: wrap to the width; floats: round; i1: `!= 0`.
    fn from_i64(v: i64) -> Self;
    /// Ints: truncate toward zero, saturating, NaN → 0; floats: round to nearest even.
    fn from_f64(v: f64) -> Self;
    fn bits(self) -> u64;
    fn of_bits(b: u64) -> Self;
    fn nonzero(self) -> bool;
    fn read_le(b: &[u8]) -> Self;
    fn write_le(self, b: &mut [u8]);
    /// As Triton's device_print formats it (`%d`/`%u`/`%f`-like).
    fn print(self) -> String;
}

/// The members of [`El`] that Rust's `as` casts give for every primitive number type.
macro_rules! prim_casts {
    ($t:ty, $st:ident) => {
        const ST: ScalarType = ScalarType::$st;
        fn into_data(v: Vec<Self>) -> Data {
            Data::$st(v)
        }
        fn to_i64(self) -> i64 {
            self as i64
        }
        fn to_f64(self) -> f64 {
            self as f64
        }
        fn from_i64(v: i64) -> Self {
            v as $t
        }
        fn from_f64(v: f64) -> Self {
            v as $t
        }
    };
}

macro_rules! int_el {
    ($t:ty, $st:ident, $n:literal) => {
        impl El for $t {
            prim_casts!($t, $st);
            fn bits(self) -> u64 {
                // Zero-extend: the bit pattern of the width, nothing above it.
                (self as u64) & (u64::MAX >> (64 - $n * 8))
            }
            fn of_bits(b: u64) -> Self {
                b as $t
            }
            fn nonzero(self) -> bool {
                self != 0
            }
            fn read_le(b: &[u8]) -> Self {
                let mut a = [0u8; $n];
                a.copy_from_slice(&b[..$n]);
                <$t>::from_le_bytes(a)
            }
            fn write_le(self, b: &mut [u8]) {
                b[..$n].copy_from_slice(&self.to_le_bytes());
            }
            fn print(self) -> String {
                self.to_string()
            }
        }
    };
}

int_el!(i8, I8, 1);
int_el!(i16, I16, 2);
int_el!(i32, I32, 4);
int_el!(i64, I64, 8);
int_el!(u8, U8, 1);
int_el!(u16, U16, 2);
int_el!(u32, U32, 4);
int_el!(u64, U64, 8);

impl El for bool {
    const ST: ScalarType = ScalarType::I1;
    fn into_data(v: Vec<Self>) -> Data {
        Data::I1(v)
    }
    fn to_i64(self) -> i64 {
        self as i64
    }
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn bits(self) -> u64 {
        self as u64
    }
    fn of_bits(b: u64) -> Self {
        b & 1 != 0
    }
    fn nonzero(self) -> bool {
        self
    }
    fn read_le(b: &[u8]) -> Self {
        b[0] != 0
    }
    fn write_le(self, b: &mut [u8]) {
        b[0] = self as u8;
    }
    fn print(self) -> String {
        (self as u8).to_string()
    }
}

macro_rules! float_el {
    ($t:ty, $st:ident, $bits:ty) => {
        impl El for $t {
            prim_casts!($t, $st);
            fn bits(self) -> u64 {
                <$t>::to_bits(self) as u64
            }
            fn of_bits(b: u64) -> Self {
                <$t>::from_bits(b as $bits)
            }
            fn nonzero(self) -> bool {
                self != 0.0
            }
            fn read_le(b: &[u8]) -> Self {
                const N: usize = std::mem::size_of::<$t>();
                let mut a = [0u8; N];
                a.copy_from_slice(&b[..N]);
                <$t>::from_le_bytes(a)
            }
            fn write_le(self, b: &mut [u8]) {
                let a = self.to_le_bytes();
                b[..a.len()].copy_from_slice(&a);
            }
            fn print(self) -> String {
                tm_core::debug::print_float(self as f64)
            }
        }
    };
}

float_el!(f32, F32, u32);
float_el!(f64, F64, u64);

macro_rules! half_el {
    ($t:ty, $st:ident) => {
        impl El for $t {
            const ST: ScalarType = ScalarType::$st;
            fn into_data(v: Vec<Self>) -> Data {
                Data::$st(v)
            }
            fn to_i64(self) -> i64 {
                self.to_f32() as i64
            }
            fn to_f64(self) -> f64 {
                self.to_f64()
            }
            fn from_i64(v: i64) -> Self {
                <$t>::from_f64(v as f64)
            }
            fn from_f64(v: f64) -> Self {
                <$t>::from_f64(v)
            }
            fn bits(self) -> u64 {
                <$t>::to_bits(self) as u64
            }
            fn of_bits(b: u64) -> Self {
                <$t>::from_bits(b as u16)
            }
            fn nonzero(self) -> bool {
                self.to_f32() != 0.0
            }
            fn read_le(b: &[u8]) -> Self {
                <$t>::from_le_bytes([b[0], b[1]])
            }
            fn write_le(self, b: &mut [u8]) {
                b[..2].copy_from_slice(&self.to_le_bytes());
            }
            fn print(self) -> String {
                tm_core::debug::print_float(self.to_f64())
            }
        }
    };
}

half_el!(f16, F16);
half_el!(bf16, BF16);
