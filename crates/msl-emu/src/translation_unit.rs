//! The translation unit clang compiles for one kernel: the rewritten MSL under a `#line`
//! directive (so clang's diagnostics name MSL lines) followed by `tm_emu_entry`, which binds
//! one thread's arguments from the launch and calls the kernel.

use std::fmt::Write;

use crate::precheck::{Binding, Builtin, Signature};

/// File name clang reports for lines of the MSL.
pub const MSL_FILE: &str = "kernel.metal";

pub fn translation_unit(rewritten_msl: &str, entry: &str, sig: &Signature) -> String {
    let mut tu = String::with_capacity(rewritten_msl.len() + 2048);
    let _ = writeln!(tu, "#line 1 \"{MSL_FILE}\"");
    tu.push_str(rewritten_msl);
    if !rewritten_msl.ends_with('\n') {
        tu.push('\n');
    }
    tu.push_str("#line 1 \"tm_emu_entry.cpp\"\n");
    tu.push_str(ENTRY_PRELUDE);
    let args: Vec<String> = sig
        .params
        .iter()
        .map(|p| match p.binding {
            Binding::Buffer(n) => format!("tm_emu_ptr{{a->bindings[{n}]}}"),
            Binding::Builtin(b) => format!("tm_emu_builtin{{{}}}", builtin_value(b)),
        })
        .collect();
    let _ = writeln!(
        tu,
        "extern \"C\" void tm_emu_entry(const tm_emu_args *a) {{\n  \
         const unsigned tid = a->tid, tpg = a->threads_per_group;\n  \
         (void)tid; (void)tpg;\n  \
         {entry}({});\n}}",
        args.join(",\n      ")
    );
    tu
}

/// Builtin values for one-dimensional threadgroups of `tpg` threads.
fn builtin_value(b: Builtin) -> &'static str {
    match b {
        Builtin::ThreadgroupPositionInGrid => "a->group[0], a->group[1], a->group[2]",
        Builtin::ThreadgroupsPerGrid => "a->groups[0], a->groups[1], a->groups[2]",
        Builtin::ThreadIndexInThreadgroup | Builtin::ThreadPositionInThreadgroup => "tid, 0, 0",
        Builtin::ThreadPositionInGrid => "a->group[0] * tpg + tid, a->group[1], a->group[2]",
        Builtin::ThreadsPerThreadgroup => "tpg, 1, 1",
        Builtin::ThreadsPerGrid => "a->groups[0] * tpg, a->groups[1], a->groups[2]",
        Builtin::ThreadIndexInSimdgroup => "tid % TM_EMU_SIMD_WIDTH, 0, 0",
        Builtin::SimdgroupIndexInThreadgroup => "tid / TM_EMU_SIMD_WIDTH, 0, 0",
        Builtin::ThreadsPerSimdgroup => "TM_EMU_SIMD_WIDTH, 0, 0",
        Builtin::SimdgroupsPerThreadgroup => {
            "(tpg + TM_EMU_SIMD_WIDTH - 1) / TM_EMU_SIMD_WIDTH, 0, 0"
        }
    }
}

/// Argument adaptors: a buffer converts to whatever pointer type the kernel declares, a
/// builtin to the scalar or vector integer type it declares.
const ENTRY_PRELUDE: &str = r#"struct tm_emu_ptr {
  void *p;
  template <class T> operator T *() const { return (T *)p; }
};
struct tm_emu_builtin {
  unsigned x, y, z;
  operator uint() const { return x; }
  operator ushort() const { return (ushort)x; }
  operator uint2() const { return uint2{x, y}; }
  operator uint3() const { return uint3{x, y, z}; }
  operator ushort2() const { return ushort2{(ushort)x, (ushort)y}; }
  operator ushort3() const { return ushort3{(ushort)x, (ushort)y, (ushort)z}; }
};
"#;
