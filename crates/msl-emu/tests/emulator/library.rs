use tm_msl_emu::{shim_implements, SHIM_HEADER, SHIM_LIBRARY};

/// Names bound by the emulator from kernel parameter attributes, not by the header.
const ATTRIBUTES: &[&str] = &[
    "buffer",
    "threadgroup_position_in_grid",
    "threadgroups_per_grid",
    "thread_index_in_threadgroup",
    "thread_position_in_threadgroup",
    "thread_position_in_grid",
    "threads_per_threadgroup",
    "threads_per_grid",
    "thread_index_in_simdgroup",
    "simdgroup_index_in_threadgroup",
    "threads_per_simdgroup",
    "simdgroups_per_threadgroup",
];

fn header_defines(name: &str) -> bool {
    let bytes = SHIM_HEADER.as_bytes();
    let is_word = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    let as_word = SHIM_HEADER.match_indices(name).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + name.len()).copied();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    });
    // Names the header builds by token pasting.
    let rmw = name
        .strip_prefix("atomic_fetch_")
        .and_then(|n| n.strip_suffix("_explicit"))
        .is_some_and(|op| SHIM_HEADER.contains(&format!("TM_EMU_ATOMIC_RMW({op},")));
    let elem = name.trim_end_matches(['2', '3', '4']);
    let vector =
        elem.len() < name.len() && SHIM_HEADER.contains(&format!("TM_EMU_VECTORS({elem})"));
    as_word || rmw || vector
}

#[test]
fn every_listed_name_is_in_the_shim_header() {
    let missing: Vec<&str> = SHIM_LIBRARY
        .iter()
        .copied()
        .filter(|n| !ATTRIBUTES.contains(n) && !header_defines(n))
        .collect();
    assert!(
        missing.is_empty(),
        "listed but not in metal_stdlib: {missing:?}"
    );
}

#[test]
fn qualified_names_are_looked_up_bare() {
    assert!(shim_implements("metal::fast::exp"));
    assert!(shim_implements("simd_shuffle_xor"));
    assert!(
        !shim_implements("erf"),
        "Metal has no erf: the printer must expand it"
    );
}

/// The float math names reachable as `metal::precise::` and `metal::fast::`.
fn float_math_list() -> String {
    let start = SHIM_HEADER
        .find("#define TM_EMU_FLOAT_MATH(X)")
        .expect("the list macro");
    let rest = &SHIM_HEADER[start..];
    let end = rest.find("\n#define TM_EMU_USING").expect("its end");
    rest[..end].to_string()
}

#[test]
fn shim_covers_the_printers_msl_library() {
    let float_math = float_math_list();
    for name in tm_printers::MSL_LIBRARY {
        assert!(
            shim_implements(name),
            "the printer may emit `{name}`, the shim lacks it"
        );
        let bare = name.rsplit("::").next().unwrap();
        if name.starts_with("metal::precise::") || name.starts_with("metal::fast::") {
            assert!(
                float_math.contains(&format!("X({bare})")),
                "`{name}` is not in TM_EMU_FLOAT_MATH"
            );
        }
    }
}
