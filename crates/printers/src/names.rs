//! Names of printed identifiers. Every name the printers invent has a prefix (`v` locals,
//! `b` buffers, `s` threadgroup arrays, `tm_` everything else), so no user-chosen name can
//! clash with a keyword of either language or with a library function.

use tm_simt::{Kernel, LocalId};

use crate::PrintError;

pub(crate) fn local(k: &Kernel, id: LocalId) -> Result<String, PrintError> {
    if id.index() >= k.locals.len() {
        return Err(PrintError::malformed(format!(
            "local v{} is not declared",
            id.index()
        )));
    }
    Ok(match &k.locals[id].name {
        Some(n) => {
            let clean = sanitize(n);
            if clean.is_empty() {
                format!("v{}", id.index())
            } else {
                format!("v{}_{}", id.index(), clean)
            }
        }
        None => format!("v{}", id.index()),
    })
}

pub(crate) fn buffer(i: usize) -> String {
    format!("b{i}")
}

pub(crate) fn shared(i: usize) -> String {
    format!("s{i}")
}

/// ASCII letters, digits and single underscores only, at most 24 characters: both
/// languages accept that after a prefix, and WGSL rejects `__`.
fn sanitize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
        if out.len() >= 24 {
            break;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The entry point is printed as `KernelAbi::entry` (the runtime looks it up by that name),
/// which lowering made with `Dialect::entry_point`: a plain identifier that cannot clash
/// with a keyword or with the names we invent (`tm_entry_` is the prefix of mangled names).
pub(crate) fn check_entry(name: &str, keywords: &[&str]) -> Result<(), PrintError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let invented_prefix = name.starts_with("tm_") && !name.starts_with("tm_entry_");
    if !first_ok || !rest_ok || name.contains("__") || invented_prefix {
        return Err(PrintError::unsupported(format!(
            "kernel name '{name}' is not a plain identifier"
        )));
    }
    if keywords.contains(&name) || is_invented(name) {
        return Err(PrintError::unsupported(format!(
            "kernel name '{name}' clashes with a reserved name"
        )));
    }
    Ok(())
}

fn is_invented(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('v' | 'b' | 's'))
        && chars.next().is_some_and(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_identifiers_safe() {
        assert_eq!(sanitize("acc"), "acc");
        assert_eq!(sanitize("x.y__z"), "x_y_z");
        assert_eq!(sanitize("__"), "");
        assert_eq!(sanitize("ö"), "");
    }

    #[test]
    fn entry_names_are_checked() {
        assert!(check_entry("add_kernel", &[]).is_ok());
        assert!(check_entry("for", &["for"]).is_err());
        assert!(check_entry("b1", &[]).is_err());
        assert!(check_entry("a b", &[]).is_err());
        assert!(check_entry("", &[]).is_err());
        assert!(check_entry("tm_erf", &[]).is_err());
        assert!(check_entry("tm_entry_kernel", &["kernel"]).is_ok());
    }
}
