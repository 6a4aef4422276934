//! Checks on the MSL text before clang sees it: constructs that Metal rejects but clang
//! would accept (double, recursion, `threadgroup` kernel arguments, more than 31 buffers)
//! are refused here, and the kernel's parameter list is read to bind its arguments.

use std::collections::HashMap;

use crate::lexer::{matching, tokenize, Kind, Token};

/// Metal's limit on buffer arguments of one function.
pub const MAX_BUFFERS: u32 = 31;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub line: u32,
    pub reason: String,
}

/// What a kernel parameter is bound to, from its attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// `[[buffer(n)]]`; 0 is the packed scalar buffer.
    Buffer(u32),
    Builtin(Builtin),
}

/// The builtin inputs the emulator supplies. Threadgroups are one-dimensional
/// (`threads_per_group` threads along x).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    ThreadgroupPositionInGrid,
    ThreadgroupsPerGrid,
    ThreadIndexInThreadgroup,
    ThreadPositionInThreadgroup,
    ThreadPositionInGrid,
    ThreadsPerThreadgroup,
    ThreadsPerGrid,
    ThreadIndexInSimdgroup,
    SimdgroupIndexInThreadgroup,
    ThreadsPerSimdgroup,
    SimdgroupsPerThreadgroup,
}

/// Every builtin parameter attribute the emulator binds, with what it supplies.
pub const BUILTIN_ATTRIBUTES: &[(&str, Builtin)] = &[
    (
        "threadgroup_position_in_grid",
        Builtin::ThreadgroupPositionInGrid,
    ),
    ("threadgroups_per_grid", Builtin::ThreadgroupsPerGrid),
    (
        "thread_index_in_threadgroup",
        Builtin::ThreadIndexInThreadgroup,
    ),
    (
        "thread_position_in_threadgroup",
        Builtin::ThreadPositionInThreadgroup,
    ),
    ("thread_position_in_grid", Builtin::ThreadPositionInGrid),
    ("threads_per_threadgroup", Builtin::ThreadsPerThreadgroup),
    ("threads_per_grid", Builtin::ThreadsPerGrid),
    ("thread_index_in_simdgroup", Builtin::ThreadIndexInSimdgroup),
    (
        "simdgroup_index_in_threadgroup",
        Builtin::SimdgroupIndexInThreadgroup,
    ),
    ("threads_per_simdgroup", Builtin::ThreadsPerSimdgroup),
    (
        "simdgroups_per_threadgroup",
        Builtin::SimdgroupsPerThreadgroup,
    ),
];

impl Builtin {
    fn from_attribute(name: &str) -> Option<Builtin> {
        BUILTIN_ATTRIBUTES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, b)| b)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub binding: Binding,
    pub line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub params: Vec<Param>,
}

/// Refuses what Metal would refuse and returns the signature of the kernel `entry`.
pub fn check(msl: &str, entry: &str) -> Result<Signature, Refusal> {
    let tokens = tokenize(msl);
    if let Some(t) = tokens.iter().find(|t| t.is(msl, "double")) {
        return Err(Refusal {
            line: t.line,
            reason: "`double`: Apple GPUs have no 64-bit floating point".into(),
        });
    }
    check_recursion(msl, &tokens)?;
    signature(msl, &tokens, entry)
}

fn signature(msl: &str, tokens: &[Token], entry: &str) -> Result<Signature, Refusal> {
    let open = tokens
        .windows(4)
        .position(|w| {
            w[0].is(msl, "kernel")
                && w[1].is(msl, "void")
                && w[2].is(msl, entry)
                && w[3].is(msl, "(")
        })
        .map(|k| k + 3)
        .ok_or_else(|| Refusal {
            line: 1,
            reason: format!("no `kernel void {entry}(` in the MSL"),
        })?;
    let close = matching(msl, tokens, open).ok_or_else(|| Refusal {
        line: tokens[open].line,
        reason: "unclosed kernel parameter list".into(),
    })?;
    let mut params = Vec::new();
    for span in split_params(msl, &tokens[open + 1..close]) {
        if span.is_empty() {
            continue;
        }
        params.push(param(msl, span)?);
    }
    let mut buffers: Vec<(u32, u32)> = params
        .iter()
        .filter_map(|p| match p.binding {
            Binding::Buffer(n) => Some((n, p.line)),
            Binding::Builtin(_) => None,
        })
        .collect();
    if let Some(&(n, line)) = buffers.iter().find(|(n, _)| *n >= MAX_BUFFERS) {
        return Err(Refusal {
            line,
            reason: format!(
                "[[buffer({n})]]: Metal allows buffer indices 0..{} only",
                MAX_BUFFERS - 1
            ),
        });
    }
    buffers.sort();
    if let Some(w) = buffers.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Refusal {
            line: w[1].1,
            reason: format!("[[buffer({})]] is bound twice", w[0].0),
        });
    }
    Ok(Signature { params })
}

/// Splits a parameter list at its top-level commas (commas inside `<>`, `()` and `[[ ]]`
/// belong to the parameter).
fn split_params<'t>(msl: &str, tokens: &'t [Token]) -> Vec<&'t [Token]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (k, t) in tokens.iter().enumerate() {
        match t.text(msl) {
            "(" | "[" | "<" | "{" => depth += 1,
            ")" | "]" | ">" | "}" => depth -= 1,
            "," if depth == 0 => {
                out.push(&tokens[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    out.push(&tokens[start..]);
    out
}

fn param(msl: &str, span: &[Token]) -> Result<Param, Refusal> {
    let line = span[0].line;
    if let Some(t) = span.iter().find(|t| t.is(msl, "threadgroup")) {
        return Err(Refusal {
            line: t.line,
            reason: "`threadgroup` kernel arguments: declare threadgroup arrays in the kernel \
                     body (Metal miscompiles barriers with threadgroup arguments)"
                .into(),
        });
    }
    let attr = span
        .windows(3)
        .position(|w| w[0].is(msl, "[") && w[1].is(msl, "[") && w[2].kind == Kind::Ident)
        .map(|k| k + 2)
        .ok_or_else(|| Refusal {
            line,
            reason: "a kernel parameter without a [[binding]] attribute".into(),
        })?;
    let name = span[attr].text(msl);
    if name == "buffer" {
        let index = span
            .get(attr + 2)
            .filter(|_| span.get(attr + 1).is_some_and(|t| t.is(msl, "(")))
            .and_then(|t| parse_index(t.text(msl)))
            .ok_or_else(|| Refusal {
                line,
                reason: "[[buffer(n)]] needs an integer index".into(),
            })?;
        return Ok(Param {
            binding: Binding::Buffer(index),
            line,
        });
    }
    match Builtin::from_attribute(name) {
        Some(b) => Ok(Param {
            binding: Binding::Builtin(b),
            line,
        }),
        None => Err(Refusal {
            line,
            reason: format!("the emulator does not supply [[{name}]]"),
        }),
    }
}

fn parse_index(text: &str) -> Option<u32> {
    let digits = text.trim_end_matches(['u', 'U']);
    digits.parse().ok()
}

/// A function definition at namespace scope: its name, the line it starts on and the range of
/// tokens of its body.
struct Function {
    name: String,
    line: u32,
    body: std::ops::Range<usize>,
}

fn functions(msl: &str, tokens: &[Token]) -> Vec<Function> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut k = 0;
    while k < tokens.len() {
        let t = tokens[k];
        match t.text(msl) {
            "{" => depth += 1,
            "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        let is_def_head = depth == 0
            && t.kind == Kind::Ident
            && tokens.get(k + 1).is_some_and(|n| n.is(msl, "("));
        if is_def_head {
            if let Some(close) = matching(msl, tokens, k + 1) {
                // Skip qualifiers and attributes up to the body or the end of a declaration.
                let mut j = close + 1;
                while j < tokens.len() && !tokens[j].is(msl, "{") && !tokens[j].is(msl, ";") {
                    if tokens[j].is(msl, "=") || tokens[j].is(msl, ",") || tokens[j].is(msl, ")") {
                        break;
                    }
                    j += 1;
                }
                if j < tokens.len() && tokens[j].is(msl, "{") {
                    if let Some(end) = matching(msl, tokens, j) {
                        out.push(Function {
                            name: t.text(msl).to_string(),
                            line: t.line,
                            body: j + 1..end,
                        });
                        k = end + 1;
                        continue;
                    }
                }
            }
        }
        k += 1;
    }
    out
}

/// Metal has no recursion (no call stack on the GPU). Finds cycles in the calls among the
/// functions the MSL defines.
fn check_recursion(msl: &str, tokens: &[Token]) -> Result<(), Refusal> {
    let funcs = functions(msl, tokens);
    let index: HashMap<&str, usize> = funcs
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    let calls: Vec<Vec<usize>> = funcs
        .iter()
        .map(|f| {
            let body = &tokens[f.body.clone()];
            let mut callees: Vec<usize> = body
                .windows(2)
                .filter(|w| w[0].kind == Kind::Ident && w[1].is(msl, "("))
                .filter_map(|w| index.get(w[0].text(msl)).copied())
                .collect();
            callees.sort();
            callees.dedup();
            callees
        })
        .collect();
    // Colours: 0 unvisited, 1 on the current path, 2 finished.
    let mut colour = vec![0u8; funcs.len()];
    for root in 0..funcs.len() {
        if colour[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        colour[root] = 1;
        while let Some(&mut (f, ref mut next)) = stack.last_mut() {
            if let Some(&g) = calls[f].get(*next) {
                *next += 1;
                match colour[g] {
                    0 => {
                        colour[g] = 1;
                        stack.push((g, 0));
                    }
                    1 => {
                        let path: Vec<&str> = stack
                            .iter()
                            .skip_while(|(h, _)| *h != g)
                            .map(|(h, _)| funcs[*h].name.as_str())
                            .chain(std::iter::once(funcs[g].name.as_str()))
                            .collect();
                        return Err(Refusal {
                            line: funcs[g].line,
                            reason: format!(
                                "recursion ({}): Metal has no recursion",
                                path.join(" -> ")
                            ),
                        });
                    }
                    _ => {}
                }
            } else {
                colour[f] = 2;
                stack.pop();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "#include <metal_stdlib>\nusing namespace metal;\n";

    fn kernel(params: &str, body: &str) -> String {
        format!("{HEAD}kernel void k({params}) {{\n{body}\n}}\n")
    }

    const BASIC: &str = "constant uchar *tm_scalars [[buffer(0)]], device float *b0 [[buffer(1)]], \
                         uint3 tm_group [[threadgroup_position_in_grid]], uint tm_tid [[thread_index_in_threadgroup]]";

    #[test]
    fn reads_the_bindings_of_the_conventional_signature() {
        let sig = check(&kernel(BASIC, "b0[tm_tid] = 1.0f;"), "k").unwrap();
        let b: Vec<Binding> = sig.params.iter().map(|p| p.binding).collect();
        assert_eq!(
            b,
            [
                Binding::Buffer(0),
                Binding::Buffer(1),
                Binding::Builtin(Builtin::ThreadgroupPositionInGrid),
                Binding::Builtin(Builtin::ThreadIndexInThreadgroup)
            ]
        );
    }

    #[test]
    fn refuses_double_with_its_line() {
        let r = check(&kernel(BASIC, "double x = 1;"), "k").unwrap_err();
        assert_eq!(r.line, 4);
        assert!(r.reason.contains("double"));
    }

    #[test]
    fn double_in_a_comment_is_fine() {
        assert!(check(&kernel(BASIC, "// double the value\nb0[0] = 2.0f;"), "k").is_ok());
    }

    #[test]
    fn refuses_direct_and_mutual_recursion() {
        let direct = format!(
            "{HEAD}float f(float x) {{ return x < 1 ? x : f(x - 1); }}\n{}",
            kernel(BASIC, "")
        );
        let r = check(&direct, "k").unwrap_err();
        assert!(r.reason.contains("f -> f"), "{}", r.reason);
        let mutual = format!(
            "{HEAD}float g(float x);\nfloat f(float x) {{ return g(x); }}\nfloat g(float x) {{ return f(x); }}\n{}",
            kernel(BASIC, "")
        );
        let r = check(&mutual, "k").unwrap_err();
        assert!(r.reason.contains("recursion"), "{}", r.reason);
    }

    #[test]
    fn calling_other_helpers_is_not_recursion() {
        let src = format!(
            "{HEAD}float g(float x) {{ return x * 2.0f; }}\nfloat f(float x) {{ return g(x) + g(1.0f); }}\n{}",
            kernel(BASIC, "b0[0] = f(1.0f);")
        );
        assert!(check(&src, "k").is_ok());
    }

    #[test]
    fn refuses_threadgroup_arguments() {
        let params = format!("{BASIC}, threadgroup float *tg [[threadgroup(0)]]");
        let r = check(&kernel(&params, ""), "k").unwrap_err();
        assert!(r.reason.contains("threadgroup"));
    }

    #[test]
    fn refuses_buffer_indices_past_metal_limit() {
        let params: Vec<String> = (0..32)
            .map(|i| format!("device float *b{i} [[buffer({i})]]"))
            .collect();
        let r = check(&kernel(&params.join(", "), ""), "k").unwrap_err();
        assert!(r.reason.contains("buffer(31)"), "{}", r.reason);
        let params: Vec<String> = (0..31)
            .map(|i| format!("device float *b{i} [[buffer({i})]]"))
            .collect();
        assert!(check(&kernel(&params.join(", "), ""), "k").is_ok());
    }

    #[test]
    fn missing_entry_is_refused() {
        assert!(check(&kernel(BASIC, ""), "other").is_err());
    }
}

#[cfg(test)]
mod robustness {
    /// Random token soup from MSL-ish fragments: the checks and rewrites return, never panic,
    /// and rewriting keeps every line where it was.
    #[test]
    fn arbitrary_text_never_panics() {
        const PIECES: &[&str] = &[
            "kernel",
            " void ",
            "k",
            "(",
            ")",
            "[[",
            "]]",
            "buffer(",
            "0",
            ",",
            ";",
            "{",
            "}",
            "threadgroup ",
            "float4",
            "*",
            "&",
            "=",
            "\n",
            "/*",
            "*/",
            "//",
            "\"",
            "'",
            "#",
            "<",
            ">",
            "double",
            "f",
            "é",
            "\\",
            "1.5e-3f",
            "[",
            "]",
        ];
        let mut state = 0x2545f4914f6cdd1du64;
        for _ in 0..3000 {
            let mut s = String::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push_str(PIECES[(state >> 20) as usize % PIECES.len()]);
            }
            let _ = super::check(&s, "k");
            let out = crate::rewrite::rewrite(&s);
            assert_eq!(out.matches('\n').count(), s.matches('\n').count(), "{s:?}");
        }
    }
}
