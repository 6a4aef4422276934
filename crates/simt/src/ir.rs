//! SIMT IR: one thread's program, what the GPU executes.
//!
//! Small and C-like: typed mutable locals (scalars or short vectors), three-address
//! statements whose operands are locals or constants, structured control flow, buffer and
//! threadgroup-array accesses by element index, barriers, simd ops and atomics. Tensors of
//! the Tile IR have become per-thread register locals, fully unrolled, so printers map one
//! construct to one construct of text and never rely on a downstream compiler to unroll.

use tm_core::{Arena, Handle, KernelAbi, ScalarType};
use tm_tile::{AtomicOp, BinaryOp, CmpPred, UnaryOp};

pub use tm_tile::Literal;

/// A scalar or a vector of 2..=4 lanes of one scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SType {
    pub scalar: ScalarType,
    pub lanes: u8,
}

impl SType {
    pub fn scalar(scalar: ScalarType) -> SType {
        SType { scalar, lanes: 1 }
    }

    pub fn vector(scalar: ScalarType, lanes: u8) -> SType {
        SType { scalar, lanes }
    }

    pub fn is_vector(self) -> bool {
        self.lanes > 1
    }
}

/// A mutable variable of one thread.
#[derive(Clone, Debug, PartialEq)]
pub struct Local {
    pub ty: SType,
    /// Optional readable name (printers fall back to `v<index>`).
    pub name: Option<String>,
}

pub type LocalId = Handle<Local>;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operand {
    Local(LocalId),
    /// A constant of the given scalar type.
    Const(Literal, ScalarType),
}

/// Values the hardware provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// Index of the thread in its workgroup, 0..threads_per_group (u32).
    ThreadIndex,
    /// Hardware workgroup id along x, y, z (u32); see `KernelAbi` for grid folding.
    GroupId(u8),
}

/// Reductions and scans across the lanes of one simdgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimdOp {
    /// `simd_shuffle_xor(x, mask)` / `subgroupShuffleXor`.
    ShuffleXor,
    /// `simd_shuffle(x, lane)` / `subgroupShuffle`.
    Shuffle,
    /// `simd_shuffle_up(x, delta)`: lane i reads lane i - delta (its own value below 0).
    ShuffleUp,
    /// `simd_shuffle_down(x, delta)`.
    ShuffleDown,
    Sum,
    Max,
    Min,
    And,
    Or,
    Xor,
    /// Inclusive prefix sum.
    PrefixInclusiveSum,
    /// Exclusive prefix sum.
    PrefixExclusiveSum,
    /// True if the operand (i1) is true on every active lane.
    All,
    /// True if the operand (i1) is true on any active lane.
    Any,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Operand(Operand),
    Builtin(Builtin),
    /// A scalar kernel argument: index into `Kernel::scalars`.
    ScalarArg(u32),
    /// A word of the scalar buffer's header: 0..3 = logical grid x, y, z; 3 = workgroups
    /// dispatched along x.
    GridHeader(u8),
    Unary(UnaryOp, Operand),
    Binary(BinaryOp, Operand, Operand),
    Cmp(CmpPred, Operand, Operand),
    /// cond ? a : b
    Select(Operand, Operand, Operand),
    /// `a * b + c` rounded once (`tl.fma`): printers must not round the product.
    Fma(Operand, Operand, Operand),
    /// `a * b + c` where rounding the product first is acceptable (the dot lowering's
    /// accumulation): whatever multiply-add the target does fastest.
    MulAdd(Operand, Operand, Operand),
    /// Value conversion (semantics as Tile IR's `Cast`).
    Cast(Operand, SType),
    Bitcast(Operand, SType),
    /// `lanes` consecutive elements of buffer `buf` (index into `Kernel::buffers`) starting
    /// at element `index`; `lanes > 1` requires `index` to be a multiple of `lanes`.
    Load {
        buf: u32,
        index: Operand,
        lanes: u8,
    },
    /// As `Load`, from a threadgroup array (index into `Kernel::shared`).
    SharedLoad {
        arr: u32,
        index: Operand,
        lanes: u8,
    },
    /// Build a vector from scalars.
    Vector(Vec<Operand>),
    /// Lane `lane` of a vector.
    Extract(Operand, u8),
    /// A simdgroup-wide operation; the second operand is the lane/mask/delta where needed.
    Simd(SimdOp, Operand, Option<Operand>),
}

/// The threads a memory fence orders accesses for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FenceScope {
    /// The threads of one threadgroup.
    Threadgroup,
    /// Every thread of the dispatch.
    Device,
}

/// Where an atomic operation acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Space {
    Device,
    Threadgroup,
    /// A device buffer of 64-bit elements seen as u32 words: `index` counts words, element
    /// i is words 2i (low half) and 2i+1 (high half), little-endian as every Metal GPU.
    /// The data words of 64-bit atomics emulated with locks (MSL only).
    DeviceWords,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `dst = expr`
    Assign {
        dst: LocalId,
        expr: Expr,
    },
    /// `buffers[buf][index .. index+lanes] = value`
    Store {
        buf: u32,
        index: Operand,
        value: Operand,
    },
    SharedStore {
        arr: u32,
        index: Operand,
        value: Operand,
    },
    /// `dst = atomic_<op>(&space[array][index], value)`, returning the old value.
    AtomicRmw {
        dst: Option<LocalId>,
        op: AtomicOp,
        space: Space,
        array: u32,
        index: Operand,
        value: Operand,
    },
    /// `dst = atomic_compare_exchange(&space[array][index], cmp, value)`, the old value.
    AtomicCas {
        dst: LocalId,
        space: Space,
        array: u32,
        index: Operand,
        cmp: Operand,
        value: Operand,
    },
    If {
        cond: Operand,
        then_body: Vec<Stmt>,
        else_body: Vec<Stmt>,
    },
    /// `for (var = start; var < end; var += step) body` (signed comparison for signed types).
    For {
        var: LocalId,
        start: Operand,
        end: Operand,
        step: Operand,
        body: Vec<Stmt>,
    },
    /// `while (true) body`; left with `Break`.
    Loop {
        body: Vec<Stmt>,
    },
    Break,
    /// Threadgroup barrier with threadgroup (and device) memory ordering.
    Barrier,
    /// Threadgroup barrier that orders threadgroup memory only: for data every thread of
    /// the group exchanges through threadgroup arrays alone (the staging of `dot`
    /// operands), where ordering device memory too would cost a second barrier on WGSL.
    SharedBarrier,
    /// Sequentially consistent fence on device and threadgroup memory at `scope`: the
    /// acquire/release ordering of atomics (`sem`). Lowering places it where every thread
    /// of the group reaches it (WGSL can only print it as a workgroup barrier), unless
    /// `divergent`: then only some threads may reach it (the critical section of an
    /// emulated 64-bit atomic), and it must be printed as a true fence or refused.
    Fence {
        scope: FenceScope,
        divergent: bool,
    },
    /// Leave the kernel (grid-guard in the prologue, or Triton's early `return`).
    Return,
    /// Collective over the simdgroup (every lane, same operands): load the 8×8 matrix
    /// `mat` (index into `Kernel::matrices`) from threadgroup array `arr`, element (r, c) at
    /// `offset + r * stride + c`. Metal: `simdgroup_load`.
    MatrixLoad {
        mat: u32,
        arr: u32,
        offset: Operand,
        stride: u32,
    },
    /// The inverse of `MatrixLoad`. Metal: `simdgroup_store`.
    MatrixStore {
        mat: u32,
        arr: u32,
        offset: Operand,
        stride: u32,
    },
    /// `d = a * b + c` on 8×8 matrices, collective over the simdgroup. Metal:
    /// `simdgroup_multiply_accumulate`.
    MatrixMulAcc {
        d: u32,
        a: u32,
        b: u32,
        c: u32,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct BufferParam {
    pub name: String,
    /// Element type as declared in the printed kernel. On targets that are not byte
    /// addressable, 8- and 16-bit data are declared as u32 words and accessed by lowering
    /// with shifts and masks.
    pub elem: ScalarType,
    pub writes: bool,
    /// Accessed with atomics (WGSL needs `array<atomic<T>>` for that).
    pub atomic: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScalarParam {
    pub name: String,
    pub ty: ScalarType,
    /// Byte offset in the scalar buffer.
    pub offset: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SharedArray {
    pub name: String,
    pub elem: ScalarType,
    pub len: u32,
    pub atomic: bool,
}

/// One kernel: the whole per-thread program plus its interface.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub name: String,
    pub threads_per_group: u32,
    /// Hardware SIMD width this kernel was lowered for.
    pub simd_width: u32,
    pub locals: Arena<Local>,
    pub buffers: Vec<BufferParam>,
    pub scalars: Vec<ScalarParam>,
    pub shared: Vec<SharedArray>,
    /// Element types of the matrices the kernel declares (Metal `simdgroup_float8x8` /
    /// `simdgroup_half8x8`, WGSL `coop_mat16x16<T, role>`); empty for most kernels.
    pub matrices: Vec<ScalarType>,
    /// Rows (= columns) of every matrix in `matrices`: 8 (Metal simdgroup matrices) or 16
    /// (Vulkan cooperative matrices on NVIDIA); 0 when there are none.
    pub matrix_size: u32,
    pub body: Vec<Stmt>,
    pub abi: KernelAbi,
}
