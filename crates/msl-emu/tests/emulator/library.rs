use tm_msl_emu::{shim_implements, SHIM_HEADER, SHIM_LIBRARY};

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
        .filter(|n| !header_defines(n))
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

#[test]
fn parameter_attributes_the_emulator_binds_count_as_implemented() {
    for name in [
        "buffer",
        "thread_index_in_threadgroup",
        "simdgroups_per_threadgroup",
    ] {
        assert!(shim_implements(name), "{name}");
    }
    assert!(!shim_implements("thread_index_in_quadgroup"));
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
