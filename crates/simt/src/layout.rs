//! Layouts: how the elements of a tensor are spread over the registers of the threads of one
//! program (Triton's blocked and slice layouts, our own implementation).
//!
//! A layout is independent of the tensor's shape. Resolving a (layout, shape) pair gives a
//! [`TensorMap`]: the number of registers each thread holds and, for register `r` of thread
//! `tid`, the element coordinate `thread_offset(tid) + reg_offset(r)` per dimension. When the
//! shape is smaller than the layout's tile along a dimension the threads wrap around and hold
//! copies (replication): consumers that must not double count (reductions) ask
//! [`DimMap::distinct_lane_masks`] and [`DimMap::distinct_warps`].

use std::fmt;

/// Per tensor dimension: `size_per_thread` contiguous elements per thread, `threads_per_warp`
/// lanes and `warps_per_group` simdgroups along it. `order` lists dimensions fastest first:
/// lane and simdgroup ids are split over the dimensions in that order, and registers are
/// numbered in that order too.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Blocked {
    pub size_per_thread: Vec<u32>,
    pub threads_per_warp: Vec<u32>,
    pub warps_per_group: Vec<u32>,
    pub order: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    Blocked(Blocked),
    /// The parent layout with dimension `dim` removed: what is left of a tensor after a
    /// reduction along `dim`, or what `expand_dims(dim)` needs from its operand.
    Slice {
        dim: u32,
        parent: Box<Layout>,
    },
    /// Matrix fragments: the result of a `dot` kept in the matrix unit's registers.
    Matrix(MatrixFrags),
}

/// The last two dimensions of an `[M, N]` or `[batch, M, N]` tensor cut into `tile`×`tile`
/// tiles, dealt evenly to the simdgroups (`ceil(tiles / warps)` matrix slots each; which
/// simdgroup holds which tile is `lower::matrix`'s choice: 2×2 blocks of tiles where they
/// come out even, else tile `t` in row-major order to simdgroup `t % warps`). Which lane holds which element of
/// a tile is the hardware's business (opaque on WGSL's cooperative matrices): a tensor in
/// this layout has no per-thread registers, [`resolve`] refuses it, and every use other
/// than the accumulator of another matrix `dot` goes through threadgroup memory (a
/// conversion), once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MatrixFrags {
    pub tile: u32,
    pub warps: u32,
    pub rank: u32,
}

impl MatrixFrags {
    /// Per simdgroup: the tile slots it holds, for a tensor of `shape`.
    pub fn slots(&self, shape: &[u32]) -> u32 {
        self.tiles(shape).div_ceil(self.warps.max(1))
    }

    /// Tiles of the whole tensor (0 when the shape is not made of whole tiles).
    pub fn tiles(&self, shape: &[u32]) -> u32 {
        let r = shape.len();
        if r < 2 || self.tile == 0 {
            return 0;
        }
        let (m, n) = (shape[r - 2], shape[r - 1]);
        if !m.is_multiple_of(self.tile) || !n.is_multiple_of(self.tile) {
            return 0;
        }
        let batch: u32 = shape[..r - 2].iter().product();
        batch * (m / self.tile) * (n / self.tile)
    }
}

impl Layout {
    pub fn slice(dim: u32, parent: Layout) -> Layout {
        Layout::Slice {
            dim,
            parent: Box::new(parent),
        }
    }

    pub fn rank(&self) -> usize {
        match self {
            Layout::Blocked(b) => b.size_per_thread.len(),
            Layout::Slice { parent, .. } => parent.rank().saturating_sub(1),
            Layout::Matrix(m) => m.rank as usize,
        }
    }
}

impl Blocked {
    /// Threads of one simdgroup the layout spans (must equal the target's SIMD width).
    pub fn simd_width(&self) -> u32 {
        self.threads_per_warp.iter().product()
    }

    pub fn num_warps(&self) -> u32 {
        self.warps_per_group.iter().product()
    }
}

fn list(f: &mut fmt::Formatter<'_>, v: &[u32]) -> fmt::Result {
    f.write_str("[")?;
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{x}")?;
    }
    f.write_str("]")
}

impl fmt::Display for Layout {
    /// `blocked<spt=[1,4], tpw=[8,4], wpg=[4,1], order=[1,0]>`, `slice<1, blocked<..>>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layout::Blocked(b) => {
                f.write_str("blocked<spt=")?;
                list(f, &b.size_per_thread)?;
                f.write_str(", tpw=")?;
                list(f, &b.threads_per_warp)?;
                f.write_str(", wpg=")?;
                list(f, &b.warps_per_group)?;
                f.write_str(", order=")?;
                list(f, &b.order)?;
                f.write_str(">")
            }
            Layout::Slice { dim, parent } => write!(f, "slice<{dim}, {parent}>"),
            Layout::Matrix(m) => write!(
                f,
                "matrix<tile={}, wpg={}, rank={}>",
                m.tile, m.warps, m.rank
            ),
        }
    }
}

/// How one tensor dimension is spread, once the shape is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimMap {
    /// The tensor's size along this dimension.
    pub size: u32,
    /// Registers each thread holds along this dimension.
    pub regs: u32,
    pub spt: u32,
    /// Elements the whole group covers in one step (spt × lanes × warps).
    pub tile: u32,
    /// This dimension's lane index is `(lane >> lane_shift) % lanes`.
    pub lane_shift: u32,
    pub lanes: u32,
    pub warp_shift: u32,
    pub warps: u32,
    /// The shape is smaller than the tile: offsets are taken modulo `size` (replication).
    pub wrap: bool,
}

impl DimMap {
    fn new(size: u32, spt: u32, lanes: u32, warps: u32, lane_shift: u32, warp_shift: u32) -> Self {
        let tile = spt * lanes * warps;
        let (regs, wrap) = if size >= tile {
            (size / (lanes * warps), false)
        } else {
            (spt.min(size), true)
        };
        DimMap {
            size,
            regs,
            spt,
            tile,
            lane_shift,
            lanes,
            warp_shift,
            warps,
            wrap,
        }
    }

    /// The thread-independent part of register `i`'s coordinate. Always `< size`, and when
    /// `wrap` the sum with the thread offset never passes `size` either.
    pub fn reg_offset(&self, i: u32) -> u32 {
        (i / self.spt) * self.tile + i % self.spt
    }

    pub fn lane_index(&self, lane: u32) -> u32 {
        (lane >> self.lane_shift) & (self.lanes - 1)
    }

    pub fn warp_index(&self, warp: u32) -> u32 {
        (warp >> self.warp_shift) & (self.warps - 1)
    }

    /// The thread-dependent part of the coordinate.
    pub fn thread_offset(&self, lane: u32, warp: u32) -> u32 {
        let v = self.lane_index(lane) * self.spt + self.warp_index(warp) * self.spt * self.lanes;
        if self.wrap {
            v & (self.size - 1)
        } else {
            v
        }
    }

    /// XOR masks on the lane id that reach lanes holding *different* elements along this
    /// dimension (lanes differing only in other bits hold copies).
    pub fn distinct_lane_masks(&self) -> Vec<u32> {
        (0..self.lanes.trailing_zeros())
            .filter(|&k| (self.spt << k) < self.size)
            .map(|k| 1 << (self.lane_shift + k))
            .collect()
    }

    /// Number of simdgroup positions along this dimension that hold different elements;
    /// the simdgroups with equal `warp_index & (distinct - 1)` hold copies.
    pub fn distinct_warps(&self) -> u32 {
        let step = self.spt * self.lanes;
        if step >= self.size {
            1
        } else {
            (self.size / step).min(self.warps)
        }
    }
}

/// A layout resolved for one shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorMap {
    pub shape: Vec<u32>,
    pub dims: Vec<DimMap>,
    /// Dimensions fastest first: register numbers run along `reg_order[0]` first.
    pub reg_order: Vec<usize>,
    pub simd_width: u32,
    pub num_warps: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutError(pub String);

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_pow2(x: u32) -> bool {
    x != 0 && x & (x - 1) == 0
}

/// Resolve `layout` for a tensor of `shape`.
pub fn resolve(layout: &Layout, shape: &[u32]) -> Result<TensorMap, LayoutError> {
    if layout.rank() != shape.len() {
        return Err(LayoutError(format!(
            "layout {layout} has rank {}, tensor has rank {}",
            layout.rank(),
            shape.len()
        )));
    }
    if let Some(&d) = shape.iter().find(|&&d| !is_pow2(d)) {
        return Err(LayoutError(format!("dimension {d} is not a power of two")));
    }
    match layout {
        Layout::Blocked(b) => resolve_blocked(b, shape),
        Layout::Matrix(_) => Err(LayoutError(format!(
            "{layout} has no per-thread registers (it lives in matrix registers)"
        ))),
        Layout::Slice { dim, parent } => {
            let dim = *dim as usize;
            let mut padded = shape.to_vec();
            padded.insert(dim, 1);
            let mut m = resolve(parent, &padded)?;
            m.shape.remove(dim);
            m.dims.remove(dim);
            m.reg_order = m
                .reg_order
                .iter()
                .filter(|&&d| d != dim)
                .map(|&d| if d > dim { d - 1 } else { d })
                .collect();
            Ok(m)
        }
    }
}

fn resolve_blocked(b: &Blocked, shape: &[u32]) -> Result<TensorMap, LayoutError> {
    let rank = shape.len();
    let ok_len = [
        &b.size_per_thread,
        &b.threads_per_warp,
        &b.warps_per_group,
        &b.order,
    ]
    .iter()
    .all(|v| v.len() == rank);
    let mut seen = vec![false; rank];
    for &o in &b.order {
        match seen.get_mut(o as usize) {
            Some(s) if !*s => *s = true,
            _ => return Err(LayoutError(format!("bad order {:?}", b.order))),
        }
    }
    let all_pow2 = [&b.size_per_thread, &b.threads_per_warp, &b.warps_per_group]
        .iter()
        .all(|v| v.iter().all(|&x| is_pow2(x)));
    if !ok_len || !all_pow2 {
        return Err(LayoutError(format!(
            "malformed layout {}",
            Layout::Blocked(b.clone())
        )));
    }
    let mut dims: Vec<Option<DimMap>> = vec![None; rank];
    let (mut lane_shift, mut warp_shift) = (0, 0);
    for &o in &b.order {
        let d = o as usize;
        let (lanes, warps) = (b.threads_per_warp[d], b.warps_per_group[d]);
        dims[d] = Some(DimMap::new(
            shape[d],
            b.size_per_thread[d],
            lanes,
            warps,
            lane_shift,
            warp_shift,
        ));
        lane_shift += lanes.trailing_zeros();
        warp_shift += warps.trailing_zeros();
    }
    Ok(TensorMap {
        shape: shape.to_vec(),
        dims: dims.into_iter().flatten().collect(),
        reg_order: b.order.iter().map(|&o| o as usize).collect(),
        simd_width: b.simd_width(),
        num_warps: b.num_warps(),
    })
}

impl TensorMap {
    pub fn num_regs(&self) -> usize {
        self.dims.iter().map(|d| d.regs as usize).product()
    }

    pub fn num_threads(&self) -> u32 {
        self.simd_width * self.num_warps
    }

    pub fn numel(&self) -> u64 {
        self.shape.iter().map(|&d| d as u64).product()
    }

    /// Per-dimension register indices of register `r`.
    pub fn reg_multi(&self, mut r: usize) -> Vec<u32> {
        let mut m = vec![0; self.dims.len()];
        for &d in &self.reg_order {
            let n = self.dims[d].regs as usize;
            m[d] = (r % n) as u32;
            r /= n;
        }
        m
    }

    pub fn reg_index(&self, multi: &[u32]) -> usize {
        let mut r = 0;
        for &d in self.reg_order.iter().rev() {
            r = r * self.dims[d].regs as usize + multi[d] as usize;
        }
        r
    }

    /// Thread-independent part of register `r`'s coordinate.
    pub fn reg_offsets(&self, r: usize) -> Vec<u32> {
        let m = self.reg_multi(r);
        self.dims
            .iter()
            .zip(m)
            .map(|(d, i)| d.reg_offset(i))
            .collect()
    }

    pub fn thread_offsets(&self, tid: u32) -> Vec<u32> {
        let (lane, warp) = (tid % self.simd_width, tid / self.simd_width);
        self.dims
            .iter()
            .map(|d| d.thread_offset(lane, warp))
            .collect()
    }

    /// The element coordinate thread `tid` holds in register `r`.
    pub fn coord(&self, tid: u32, r: usize) -> Vec<u32> {
        self.thread_offsets(tid)
            .iter()
            .zip(self.reg_offsets(r))
            .map(|(a, b)| a + b)
            .collect()
    }

    /// Row-major strides of the shape.
    pub fn strides(&self) -> Vec<u32> {
        let mut s = vec![1; self.shape.len()];
        for d in (0..self.shape.len().saturating_sub(1)).rev() {
            s[d] = s[d + 1] * self.shape[d + 1];
        }
        s
    }

    /// How many (thread, register) pairs hold each element: 1 for an exact cover.
    pub fn replication(&self) -> u64 {
        self.num_threads() as u64 * self.num_regs() as u64 / self.numel().max(1)
    }

    /// Both maps put every element in the same thread and register: no conversion is needed
    /// between them.
    pub fn same_placement(&self, other: &TensorMap) -> bool {
        if self.shape != other.shape
            || self.num_regs() != other.num_regs()
            || self.num_threads() != other.num_threads()
        {
            return false;
        }
        (0..self.num_regs()).all(|r| self.reg_offsets(r) == other.reg_offsets(r))
            && (0..self.num_threads()).all(|t| self.thread_offsets(t) == other.thread_offsets(t))
    }
}

/// Triton's default blocked layout for a shape, with the contiguous (last) dimension's
/// elements per thread raised so a thread moves up to 16 bytes at once when the tensor has
/// enough elements for every thread (the COALESCED layout). Lanes, then simdgroups, are
/// spread fastest dimension first; leftovers (tensors smaller than the group) go to the
/// fastest dimension, where they replicate.
pub fn coalesced(shape: &[u32], elem_bytes: u32, simd_width: u32, num_warps: u32) -> Layout {
    let rank = shape.len();
    let order: Vec<u32> = (0..rank as u32).rev().collect();
    let mut spt = vec![1u32; rank];
    let mut tpw = vec![1u32; rank];
    let mut wpg = vec![1u32; rank];
    if rank == 0 {
        return Layout::Blocked(Blocked {
            size_per_thread: spt,
            threads_per_warp: tpw,
            warps_per_group: wpg,
            order,
        });
    }
    let numel: u64 = shape.iter().map(|&d| d as u64).product();
    let threads = (simd_width * num_warps) as u64;
    let per_thread = (numel / threads).max(1) as u32;
    let last = rank - 1;
    spt[last] = (16 / elem_bytes.max(1))
        .max(1)
        .min(per_thread)
        .min(shape[last].max(1));
    let (mut lanes_left, mut warps_left) = (simd_width, num_warps);
    for &o in &order {
        let d = o as usize;
        let room = (shape[d] / spt[d]).max(1);
        tpw[d] = lanes_left.min(room);
        lanes_left /= tpw[d];
    }
    for &o in &order {
        let d = o as usize;
        let room = (shape[d] / (spt[d] * tpw[d])).max(1);
        wpg[d] = warps_left.min(room);
        warps_left /= wpg[d];
    }
    tpw[last] *= lanes_left;
    wpg[last] *= warps_left;
    Layout::Blocked(Blocked {
        size_per_thread: spt,
        threads_per_warp: tpw,
        warps_per_group: wpg,
        order,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesced_2d_matches_triton_default() {
        let l = coalesced(&[64, 64], 4, 32, 4);
        assert_eq!(
            l.to_string(),
            "blocked<spt=[1,4], tpw=[2,16], wpg=[4,1], order=[1,0]>"
        );
        let m = resolve(&l, &[64, 64]).unwrap();
        assert_eq!(m.num_regs(), 32);
        assert_eq!(m.replication(), 1);
    }

    #[test]
    fn small_shapes_wrap_and_replicate() {
        let l = coalesced(&[16], 4, 32, 4);
        let m = resolve(&l, &[16]).unwrap();
        assert_eq!(m.num_regs(), 1);
        assert_eq!(m.replication(), 8);
        assert!(m.dims[0].wrap);
        // Only 16 distinct lanes along the dimension: lane bit 4 reaches a copy.
        assert_eq!(m.dims[0].distinct_lane_masks(), vec![1, 2, 4, 8]);
        assert_eq!(m.dims[0].distinct_warps(), 1);
    }

    #[test]
    fn slice_drops_a_dimension() {
        let parent = coalesced(&[64, 64], 4, 32, 4);
        let s = Layout::slice(1, parent.clone());
        let m = resolve(&s, &[64]).unwrap();
        let p = resolve(&parent, &[64, 1]).unwrap();
        assert_eq!(m.num_regs(), p.num_regs());
        for t in 0..128 {
            for r in 0..m.num_regs() {
                assert_eq!(m.coord(t, r)[0], p.coord(t, r)[0]);
            }
        }
    }

    #[test]
    fn rank_mismatch_is_an_error() {
        assert!(resolve(&coalesced(&[64, 64], 4, 32, 4), &[64]).is_err());
    }
}
