//! Shape ops. Each computes, once per op, the source index of every result element, and
//! then gathers (one typed loop).

use crate::elementwise::{typed, OpResult};
use crate::value::{Data, El, Tile};
use crate::with_data;

/// Row-major strides of a shape.
pub fn strides(shape: &[u32]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as usize;
    }
    s
}

pub fn numel(shape: &[u32]) -> usize {
    shape.iter().map(|&d| d as usize).product()
}

/// For each element of `dst` in row-major order, `sum(index[d] * stride[d])`.
pub fn strided_index(dst: &[u32], stride: &[usize]) -> Vec<usize> {
    let n = numel(dst);
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let rank = dst.len();
    if rank == 0 {
        out.push(0);
        return out;
    }
    // Odometer over all but the last dimension; the innermost run is a tight loop.
    let last = rank - 1;
    let inner = dst[last] as usize;
    let inner_stride = stride[last];
    let mut idx = vec![0u32; rank];
    let mut base = 0usize;
    loop {
        for j in 0..inner {
            out.push(base + j * inner_stride);
        }
        let mut d = last;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            base += stride[d];
            if idx[d] < dst[d] {
                break;
            }
            base -= stride[d] * idx[d] as usize;
            idx[d] = 0;
        }
    }
}

pub fn splat(t: &Tile, shape: &[u32]) -> OpResult<Tile> {
    if t.len() != 1 {
        return Err(format!("splat of a value with {} elements", t.len()));
    }
    Ok(Tile::new(
        shape.to_vec(),
        t.elem,
        t.data.repeat(0, numel(shape)),
    ))
}

pub fn broadcast(t: &Tile, shape: &[u32]) -> OpResult<Tile> {
    if t.shape == shape {
        return Ok(t.clone());
    }
    if t.len() == 1 {
        return splat(t, shape);
    }
    if t.shape.len() != shape.len() {
        return Err(format!(
            "broadcast from rank {} to rank {}",
            t.shape.len(),
            shape.len()
        ));
    }
    let src = strides(&t.shape);
    let mut stride = Vec::with_capacity(shape.len());
    for (i, (&s, &d)) in t.shape.iter().zip(shape).enumerate() {
        if s == d {
            stride.push(src[i]);
        } else if s == 1 {
            stride.push(0);
        } else {
            return Err(format!(
                "broadcast of dimension {i} from {s} to {d} (only size 1 broadcasts)"
            ));
        }
    }
    let idx = strided_index(shape, &stride);
    Ok(Tile::new(shape.to_vec(), t.elem, t.data.gather(&idx)))
}

/// A new shape over the same row-major elements (expand_dims, reshape).
pub fn reshape(t: &Tile, shape: &[u32]) -> OpResult<Tile> {
    if numel(shape) != t.len() {
        return Err(format!(
            "reshape of {} elements to a shape of {}",
            t.len(),
            numel(shape)
        ));
    }
    Ok(Tile::new(shape.to_vec(), t.elem, t.data.clone()))
}

pub fn permute(t: &Tile, perm: &[u32]) -> OpResult<Tile> {
    if perm.len() != t.shape.len() {
        return Err("permute: permutation and rank differ".into());
    }
    let src = strides(&t.shape);
    let mut shape = Vec::with_capacity(perm.len());
    let mut stride = Vec::with_capacity(perm.len());
    for &p in perm {
        let p = p as usize;
        if p >= t.shape.len() {
            return Err("permute: axis out of range".into());
        }
        shape.push(t.shape[p]);
        stride.push(src[p]);
    }
    let idx = strided_index(&shape, &stride);
    Ok(Tile::new(shape, t.elem, t.data.gather(&idx)))
}

/// `a` followed by `b`, when both hold one element type.
pub fn concat(a: &Data, b: &Data) -> OpResult<Data> {
    let err = || "operands of different element types".to_string();
    Ok(with_data!(a, x => {
        let y = typed(b).ok_or_else(err)?;
        let mut v = Vec::with_capacity(x.len() + y.len());
        v.extend_from_slice(x);
        v.extend_from_slice(y);
        El::into_data(v)
    }, p => match b {
        Data::Ptr(q) => Data::Ptr(p.iter().chain(q).copied().collect()),
        _ => return Err(err()),
    }))
}

pub fn join(a: &Tile, b: &Tile) -> OpResult<Tile> {
    if a.shape != b.shape {
        return Err("join of tensors of different shapes".into());
    }
    let n = a.len();
    let both = concat(&a.data, &b.data)?;
    let idx: Vec<usize> = (0..n).flat_map(|i| [i, n + i]).collect();
    let mut shape = a.shape.clone();
    shape.push(2);
    Ok(Tile::new(shape, a.elem, both.gather(&idx)))
}

pub fn split(t: &Tile) -> OpResult<(Tile, Tile)> {
    if t.shape.last() != Some(&2) {
        return Err("split of a tensor whose last dimension is not 2".into());
    }
    let n = t.len() / 2;
    let shape = t.shape[..t.shape.len() - 1].to_vec();
    let even: Vec<usize> = (0..n).map(|i| 2 * i).collect();
    let odd: Vec<usize> = (0..n).map(|i| 2 * i + 1).collect();
    Ok((
        Tile::new(shape.clone(), t.elem, t.data.gather(&even)),
        Tile::new(shape, t.elem, t.data.gather(&odd)),
    ))
}

/// Split `shape` around `axis` into (outer, len, inner) element counts.
pub fn around_axis(shape: &[u32], axis: usize) -> (usize, usize, usize) {
    let outer = numel(&shape[..axis]);
    let len = shape[axis] as usize;
    let inner = numel(&shape[axis + 1..]);
    (outer, len, inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_index_transposes() {
        // 2x3 row-major, read as its 3x2 transpose.
        assert_eq!(strided_index(&[3, 2], &[1, 3]), vec![0, 3, 1, 4, 2, 5]);
    }

    #[test]
    fn broadcast_row_and_column() {
        let row = Tile::from_vec(vec![1, 3], vec![1i32, 2, 3]);
        let b = broadcast(&row, &[2, 3]).unwrap();
        assert_eq!(b.data, Data::I32(vec![1, 2, 3, 1, 2, 3]));
        let col = Tile::from_vec(vec![2, 1], vec![1i32, 2]);
        let b = broadcast(&col, &[2, 3]).unwrap();
        assert_eq!(b.data, Data::I32(vec![1, 1, 1, 2, 2, 2]));
    }
}
