//! The standard library's Triton-language files: they parse, every free name of every
//! function is something the registry binds, they lean only on the `tl` builtins listed
//! here (the frontend's contract), and the registry covers exactly their public functions.

use std::collections::{BTreeMap, BTreeSet};

use ruff_python_ast::visitor::{walk_expr, Visitor};
use ruff_python_ast::{Expr, Stmt};
use tm_frontend::stdlib::{self, StdlibModule};

/// The `tl.<name>` builtins the stdlib calls or reads. Adding one here means the frontend
/// must provide it: keep this list and the final report of the stdlib work in step.
const TL_BUILTINS_USED: &[&str] = &[
    "abs",
    "arange",
    "associative_scan",
    "bfloat16",
    "broadcast_to",
    "constexpr",
    "cos",
    "exp",
    "exp2",
    "expand_dims",
    "fdiv",
    "float32",
    "fma",
    "full",
    "int16",
    "int32",
    "int64",
    "int8",
    "join",
    "log",
    "log2",
    "math",
    "maximum",
    "minimum",
    "reduce",
    "reshape",
    "sin",
    "sqrt",
    "static_assert",
    "static_range",
    "to_tensor",
    "uint32",
    "uint64",
    "umulhi",
    "where",
];

/// Python names the files import, and nothing else.
const IMPORTS: &[&str] = &["libdevice", "math", "tl", "triton"];

/// Public in Triton's module but not a `tl.` name.
const NOT_IN_TL: &[&str] = &["sort_impl"];

/// Python builtins a kernel reaches by bare name, which a stdlib `def` of the same name
/// would not shadow inside the frontend: calling them bare is a bug.
const SHADOWED_BUILTINS: &[&str] = &["max", "min", "sum"];

fn parse(m: StdlibModule) -> ruff_python_ast::ModModule {
    match ruff_python_parser::parse_module(m.text()) {
        Ok(p) => p.into_syntax(),
        Err(e) => panic!("{} does not parse: {e:?}", m.path()),
    }
}

struct TopLevel {
    defs: BTreeSet<String>,
    consts: BTreeSet<String>,
    imports: BTreeSet<String>,
}

fn top_level(module: &ruff_python_ast::ModModule) -> TopLevel {
    let mut t = TopLevel {
        defs: BTreeSet::new(),
        consts: BTreeSet::new(),
        imports: BTreeSet::new(),
    };
    for s in &module.body {
        match s {
            Stmt::FunctionDef(f) => {
                assert!(
                    t.defs.insert(f.name.to_string()),
                    "{} is defined twice",
                    f.name
                );
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let bound = a.asname.as_ref().unwrap_or(&a.name).to_string();
                    t.imports.insert(bound);
                }
            }
            Stmt::Assign(a) => {
                for target in &a.targets {
                    if let Expr::Name(n) = target {
                        t.consts.insert(n.id.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    t
}

#[test]
fn every_file_parses_with_only_known_imports() {
    for m in StdlibModule::ALL {
        let t = top_level(&parse(m));
        for i in &t.imports {
            assert!(IMPORTS.contains(&i.as_str()), "{}: imports {i}", m.path());
        }
        assert!(!t.defs.is_empty(), "{} defines nothing", m.path());
    }
}

#[test]
fn free_names_are_all_bound_by_the_module() {
    for m in StdlibModule::ALL {
        let t = top_level(&parse(m));
        let file = m.file();
        for def in &t.defs {
            let free = tm_frontend::free_names(&file, def)
                .unwrap_or_else(|e| panic!("{}: free_names({def}): {e}", m.path()));
            for n in free {
                assert!(
                    t.defs.contains(&n) || t.consts.contains(&n) || t.imports.contains(&n),
                    "{}: {def} reads '{n}', which the module does not define",
                    m.path()
                );
            }
        }
    }
}

#[test]
fn registry_covers_exactly_the_public_functions() {
    let mut registered: BTreeMap<StdlibModule, BTreeSet<String>> = BTreeMap::new();
    for f in stdlib::all() {
        let found = match f.module {
            StdlibModule::Libdevice => stdlib::libdevice(f.name),
            _ => stdlib::lookup(f.name),
        };
        assert_eq!(found, Some(f));
        registered
            .entry(f.module)
            .or_default()
            .insert(f.name.to_string());
    }
    for m in StdlibModule::ALL {
        let t = top_level(&parse(m));
        let public: BTreeSet<String> = t
            .defs
            .iter()
            .filter(|d| !d.starts_with('_') && !NOT_IN_TL.contains(&d.as_str()))
            .cloned()
            .collect();
        assert_eq!(
            registered.get(&m).cloned().unwrap_or_default(),
            public,
            "{}",
            m.path()
        );
    }
    for name in [
        "rand", "randn", "randint", "argmax", "sort", "cumsum", "softmax",
    ] {
        assert!(stdlib::lookup(name).is_some(), "{name} missing");
    }
}

/// `tl.<attr>` reads and bare-name calls of one module.
#[derive(Default)]
struct Uses {
    tl_attrs: BTreeSet<String>,
    bare_calls: BTreeSet<String>,
}

impl<'a> Visitor<'a> for Uses {
    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Attribute(a) => {
                if let Expr::Name(n) = &*a.value {
                    if n.id.as_str() == "tl" {
                        self.tl_attrs.insert(a.attr.to_string());
                    }
                }
            }
            Expr::Call(c) => {
                if let Expr::Name(n) = &*c.func {
                    self.bare_calls.insert(n.id.to_string());
                }
            }
            _ => {}
        }
        walk_expr(self, e);
    }
}

#[test]
fn only_the_listed_tl_builtins_are_used() {
    let mut uses = Uses::default();
    for m in StdlibModule::ALL {
        for s in &parse(m).body {
            if let Stmt::FunctionDef(f) = s {
                // Decorators are Python-side only.
                for p in f.parameters.iter_non_variadic_params() {
                    if let Some(a) = &p.parameter.annotation {
                        uses.visit_expr(a);
                    }
                    if let Some(d) = &p.default {
                        uses.visit_expr(d);
                    }
                }
                for st in &f.body {
                    uses.visit_stmt(st);
                }
            }
        }
    }
    let listed: BTreeSet<String> = TL_BUILTINS_USED.iter().map(|s| s.to_string()).collect();
    assert_eq!(uses.tl_attrs, listed);
    for b in SHADOWED_BUILTINS {
        assert!(
            !uses.bare_calls.contains(*b),
            "a stdlib function calls bare '{b}', which is Python's builtin in a kernel"
        );
    }
    // The private implementations behind the shadowing names exist and are what is used.
    for b in ["_max", "_min", "_sum"] {
        assert!(uses.bare_calls.contains(b), "{b} is never called");
    }
}

#[test]
fn signatures_and_defaults_are_tritons() {
    // (function, its `def` line as Triton spells it).
    const SIGNATURES: &[(&str, &str)] = &[
        ("rand", "def rand(seed, offset, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):"),
        ("randn", "def randn(seed, offset, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):"),
        ("randint", "def randint(seed, offset, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):"),
        ("randint4x", "def randint4x(seed, offset, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):"),
        ("philox", "def philox(seed, c0, c1, c2, c3, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):"),
        ("argmax", "def argmax(input, axis, tie_break_left=True, keep_dims=False):"),
        ("argmin", "def argmin(input, axis, tie_break_left=True, keep_dims=False):"),
        (
            "max",
            "def max(input, axis=None, return_indices=False, return_indices_tie_break_left=True, keep_dims=False):",
        ),
        ("sum", "def sum(input, axis=None, keep_dims=False, dtype: tl.constexpr = None):"),
        ("cumsum", "def cumsum(input, axis=0, reverse=False, dtype: tl.constexpr = None):"),
        ("cumprod", "def cumprod(input, axis=0, reverse=False):"),
        ("softmax", "def softmax(x, dim=None, keep_dims=False, ieee_rounding=False):"),
        ("sort", "def sort(x, dim: tl.constexpr = None, descending: tl.constexpr = 0):"),
        ("flip", "def flip(x, dim=None):"),
        ("xor_sum", "def xor_sum(input, axis=None, keep_dims=False):"),
        ("swizzle2d", "def swizzle2d(i, j, size_i, size_j, size_g):"),
    ];
    for (name, line) in SIGNATURES {
        let f = stdlib::lookup(name).unwrap();
        assert!(
            f.source_text().lines().any(|l| l == *line),
            "{name}: expected `{line}` in {}",
            f.module.path()
        );
    }
    let random = StdlibModule::Random.text();
    assert!(random.lines().any(|l| l == "N_ROUNDS_DEFAULT = 10"));
}
