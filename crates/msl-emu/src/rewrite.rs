//! Source rewrites that give printed MSL Metal's meaning under clang. Every edit stays on
//! its line, so clang's line numbers are still the MSL's.
//!
//! - `threadgroup T name[N];` inside a function becomes
//!   `TM_EMU_THREADGROUP_STORAGE T name[N]; tm_emu_tg_register(&name, sizeof(name));`:
//!   static storage, which all fibers of a threadgroup share (they run on one OS thread),
//!   registered so the runtime can poison it at the start of every threadgroup. Any other
//!   `threadgroup` (a pointer or reference qualifier, a cast) is left to the shim's empty
//!   macro.
//! - `float4(...)` and the other vector constructors become `::tm_detail::vec_ctor<float4>(...)`:
//!   clang's functional cast between vector types reinterprets bits, Metal's converts values.

use crate::lexer::{tokenize, Kind, Token};

const VECTOR_ELEMS: [&str; 12] = [
    "bool", "char", "uchar", "short", "ushort", "int", "uint", "long", "ulong", "half", "bfloat",
    "float",
];

pub fn rewrite(msl: &str) -> String {
    let tokens = tokenize(msl);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate() {
        let text = t.text(msl);
        match text {
            "{" => depth += 1,
            "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        if t.kind != Kind::Ident {
            continue;
        }
        if text == "threadgroup" && depth > 0 {
            if let Some(edit) = storage_declaration(msl, &tokens, k) {
                edits.extend(edit);
            }
        } else if is_vector_type(text)
            && tokens.get(k + 1).is_some_and(|n| n.is(msl, "("))
            && !(k > 0 && tokens[k - 1].is(msl, ":"))
        {
            edits.push((t.start, t.end, format!("::tm_detail::vec_ctor<{text}>")));
        }
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(msl.len() + edits.len() * 48);
    let mut at = 0;
    for (start, end, text) in edits {
        out.push_str(&msl[at..start]);
        out.push_str(&text);
        at = end;
    }
    out.push_str(&msl[at..]);
    out
}

fn is_vector_type(word: &str) -> bool {
    VECTOR_ELEMS.iter().any(|e| {
        word.strip_prefix(e)
            .is_some_and(|n| matches!(n, "2" | "3" | "4"))
    })
}

/// The edits for a `threadgroup` at token `k` if it starts a declaration of storage: it
/// begins a statement and no declarator is a pointer, a reference or a function.
fn storage_declaration(
    msl: &str,
    tokens: &[Token],
    k: usize,
) -> Option<Vec<(usize, usize, String)>> {
    let starts_statement = k == 0 || matches!(tokens[k - 1].text(msl), ";" | "{" | "}");
    if !starts_statement {
        return None;
    }
    // The declaration runs to the `;` at bracket depth 0.
    let mut depth = 0i32;
    let mut end = None;
    for (j, t) in tokens.iter().enumerate().skip(k + 1) {
        match t.text(msl) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            ";" if depth == 0 => {
                end = Some(j);
                break;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    let end = end?;
    let mut names = Vec::new();
    let mut depth = 0i32;
    let mut last_ident: Option<&Token> = None;
    let mut declarator_done = false;
    for t in &tokens[k + 1..=end] {
        let s = t.text(msl);
        if depth == 0 && !declarator_done {
            match s {
                "*" | "&" | "(" => return None,
                "[" | "=" => {
                    names.push(last_ident?.text(msl));
                    declarator_done = true;
                }
                "," | ";" => {
                    names.push(last_ident?.text(msl));
                }
                _ if t.kind == Kind::Ident => last_ident = Some(t),
                _ => {}
            }
        } else if depth == 0 && s == "," {
            declarator_done = false;
            last_ident = None;
        }
        match s {
            "(" | "[" | "{" | "<" => depth += 1,
            ")" | "]" | "}" | ">" => depth -= 1,
            _ => {}
        }
    }
    if names.is_empty() {
        return None;
    }
    let register: String = names
        .iter()
        .map(|n| format!(" tm_emu_tg_register(&{n}, sizeof({n}));"))
        .collect();
    let semi = tokens[end];
    Some(vec![
        (
            tokens[k].start,
            tokens[k].end,
            "TM_EMU_THREADGROUP_STORAGE".to_string(),
        ),
        (semi.start, semi.end, format!(";{register}")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threadgroup_arrays_become_registered_static_storage() {
        let src = "kernel void k() {\n  threadgroup float tg[256];\n  tg[0] = 1;\n}";
        let out = rewrite(src);
        assert!(out.contains(
            "TM_EMU_THREADGROUP_STORAGE float tg[256]; tm_emu_tg_register(&tg, sizeof(tg));"
        ));
        assert_eq!(out.lines().count(), src.lines().count());
    }

    #[test]
    fn several_declarators_are_all_registered() {
        let out = rewrite("void k() { threadgroup int a[4], b[8]; }");
        assert!(
            out.contains("tm_emu_tg_register(&a, sizeof(a)); tm_emu_tg_register(&b, sizeof(b));"),
            "{out}"
        );
    }

    #[test]
    fn threadgroup_pointers_and_casts_stay_qualifiers() {
        let src = "void k() { threadgroup float *p = tg; f((threadgroup atomic_int *)&x); }";
        assert_eq!(rewrite(src), src);
    }

    #[test]
    fn vector_constructors_convert_values() {
        let out = rewrite("float4 v = float4(i); half2 h = half2(1.0h, x); float4 w;");
        assert_eq!(
            out,
            "float4 v = ::tm_detail::vec_ctor<float4>(i); half2 h = ::tm_detail::vec_ctor<half2>(1.0h, x); float4 w;"
        );
    }

    #[test]
    fn casts_and_declarations_of_vector_type_are_untouched() {
        let src = "float4 f(float4 x) { return *(device float4 *)(p); }";
        assert_eq!(rewrite(src), src);
    }
}
