//! Cooperative matrices in WGSL (naga's `enable wgpu_cooperative_matrix;`, Vulkan's
//! VK_KHR_cooperative_matrix underneath): the SIMT matrix statements of the dot lowering's
//! matrix path, for targets whose `matrix_shape` is square (16×16×16 f16 → f32 on NVIDIA).
//!
//! A WGSL cooperative matrix type names its role in the product (`A`, `B` or the
//! accumulator `C`); SIMT matrices are untyped slots, so the role is read off the
//! `MatrixMulAcc` statements that use each one. The threadgroup arrays hold tiles row-major
//! (element (r, c) at `offset + r * stride + c`): `coopLoadT`/`coopStoreT`, the row-major
//! forms (`coopLoad`/`coopStore` are column-major).

use tm_core::ScalarType;
use tm_simt::{Kernel, Stmt};

use crate::PrintError;

/// The directives a module with cooperative matrices starts with. naga requires cooperative
/// operations to be in uniform control flow, and its analysis counts the grid guard's
/// `return` and the per-simdgroup tile guards as non-uniform; lowering guarantees both are
/// uniform where it matters (the guard is per workgroup, the tile guards per simdgroup,
/// the scope of these operations), so that check, which naga files under the rule
/// `derivative_uniformity`, is turned off for the module.
pub(crate) const ENABLE: &str =
    "enable wgpu_cooperative_matrix;\ndiagnostic(off, derivative_uniformity);\n";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    A,
    B,
    C,
}

fn roles(body: &[Stmt], out: &mut [Option<Role>]) -> Result<(), PrintError> {
    for s in body {
        match s {
            Stmt::MatrixMulAcc { d, a, b, c } => {
                for (m, r) in [(a, Role::A), (b, Role::B), (c, Role::C), (d, Role::C)] {
                    let slot = out
                        .get_mut(*m as usize)
                        .ok_or_else(|| PrintError::malformed(format!("no matrix {m}")))?;
                    if slot.is_some_and(|x| x != r) {
                        return Err(PrintError::unsupported(format!(
                            "matrix {m} used in two roles of a cooperative product"
                        )));
                    }
                    *slot = Some(r);
                }
            }
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                roles(then_body, out)?;
                roles(else_body, out)?;
            }
            Stmt::For { body, .. } | Stmt::Loop { body } => roles(body, out)?,
            _ => {}
        }
    }
    Ok(())
}

/// The type of matrix `i`, e.g. `coop_mat16x16<f16, A>`, for every matrix of `k`.
pub(crate) fn types(k: &Kernel) -> Result<Vec<String>, PrintError> {
    let n = k.matrix_size;
    if !k.matrices.is_empty() && n != 8 && n != 16 {
        return Err(PrintError::unsupported(format!(
            "cooperative matrices of {n}x{n} (WGSL has 8x8 and 16x16)"
        )));
    }
    let mut r = vec![None; k.matrices.len()];
    roles(&k.body, &mut r)?;
    k.matrices
        .iter()
        .zip(r)
        .map(|(&t, role)| {
            let elem = match t {
                ScalarType::F16 => "f16",
                ScalarType::F32 => "f32",
                other => {
                    return Err(PrintError::unsupported(format!(
                        "cooperative matrices of {other}"
                    )))
                }
            };
            let role = match role {
                Some(Role::A) => "A",
                Some(Role::B) => "B",
                // Loaded and stored only: an accumulator.
                Some(Role::C) | None => "C",
            };
            Ok(format!("coop_mat{n}x{n}<{elem}, {role}>"))
        })
        .collect()
}

pub(crate) fn name(m: u32) -> String {
    format!("tm_m{m}")
}

/// `tm_m<i> = coopLoadT<type>(&arr[offset], stride);`
pub(crate) fn load(ty: &str, m: u32, arr: &str, offset: &str, stride: u32) -> String {
    format!(
        "{} = coopLoadT<{ty}>(&{arr}[{offset}], {stride}u);",
        name(m)
    )
}

/// `coopStoreT(tm_m<i>, &arr[offset], stride);`
pub(crate) fn store(m: u32, arr: &str, offset: &str, stride: u32) -> String {
    format!("coopStoreT({}, &{arr}[{offset}], {stride}u);", name(m))
}

/// `tm_m<d> = coopMultiplyAdd(tm_m<a>, tm_m<b>, tm_m<c>);`
pub(crate) fn mul_acc(d: u32, a: u32, b: u32, c: u32) -> String {
    format!(
        "{} = coopMultiplyAdd({}, {}, {});",
        name(d),
        name(a),
        name(b),
        name(c)
    )
}
