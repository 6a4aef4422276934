//! `tl.device_print` and `tl.device_assert` on GPUs: the records a kernel writes into its
//! `ScratchKind::Debug` buffer, the description of each print/assert site the host needs to
//! read them (`KernelAbi::debug`), and the one formatter of Triton's print lines that the
//! interpreter and every launcher share.
//!
//! # The debug buffer
//!
//! `DEBUG_HEADER_WORDS` u32 words of header, then records of `DEBUG_RECORD_WORDS` u32 words.
//! Header word 0 counts the records the kernel reserved (with an atomic add): when it
//! exceeds the capacity, the records past it were dropped and the host says how many. The
//! other header words are zero. A record is
//!
//! | word | holds |
//! |---|---|
//! | 0 | site: index into `DebugInfo::sites` |
//! | 1, 2, 3 | program id x, y, z |
//! | 4 | element: row-major linear index into the operand's shape (0 for a scalar) |
//! | 5 | operand index (`NO_OPERAND` for a print without operands) |
//! | 6, 7 | value bits, low then high word |
//!
//! Values: integers as their low 32 bits in word 6 and, for 64-bit types, the high 32 in
//! word 7 (narrower integers may be sign-extended in word 6: the host keeps only the type's
//! width); i1 as 0 or 1; f32 as its bits; f16 and bf16 as the bits of the f32 they widen to
//! exactly; f64 as its 64 bits. A failed assert writes one record per failing element, with
//! a zero value.

use std::fmt;

use crate::ScalarType;

pub const DEBUG_HEADER_WORDS: u32 = 4;
pub const DEBUG_RECORD_WORDS: u32 = 8;
/// Size of the debug buffer a kernel with print/assert sites asks for: 32767 records.
pub const DEBUG_BUFFER_BYTES: u32 = 1 << 20;
/// Operand word of the record of a print without operands.
pub const NO_OPERAND: u32 = u32::MAX;

/// Records that fit in a debug buffer of `bytes` bytes.
pub fn debug_capacity(bytes: u32) -> u32 {
    (bytes / 4).saturating_sub(DEBUG_HEADER_WORDS) / DEBUG_RECORD_WORDS
}

/// What the host needs to turn a kernel's debug records into text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugInfo {
    /// The kernel's name as the user wrote it (assertion messages name it).
    pub kernel: String,
    pub sites: Vec<DebugSite>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugSite {
    pub kind: DebugSiteKind,
    /// The printed operands (one i1 condition for an assert).
    pub operands: Vec<DebugOperand>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DebugSiteKind {
    Print {
        /// As the user wrote it; `print_prefix` normalizes it.
        prefix: String,
        hex: bool,
    },
    Assert {
        message: String,
        file: String,
        line: u32,
        col: u32,
        /// The text of the asserting line, shown under the message (may be empty).
        source_line: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugOperand {
    pub elem: ScalarType,
    /// Empty for a scalar.
    pub shape: Vec<u32>,
}

/// Triton's prefix normalization: with arguments the prefix ends in ": ", and a prefix of
/// more than two characters starts with a space.
pub fn print_prefix(prefix: &str, has_args: bool) -> String {
    let mut p = prefix.to_string();
    if has_args {
        if !p.ends_with(' ') {
            p.push(' ');
        }
        if !p.ends_with(": ") {
            p.pop();
            p.push_str(": ");
        }
    }
    if p.len() > 2 && !p.starts_with(' ') {
        p.insert(0, ' ');
    }
    if p.is_empty() {
        p.push(' ');
    }
    p
}

fn pid_text(pid: [u32; 3]) -> String {
    format!("pid ({}, {}, {})", pid[0], pid[1], pid[2])
}

/// The line of a print without operands. `prefix` comes from `print_prefix`.
pub fn print_line_bare(pid: [u32; 3], prefix: &str) -> String {
    format!("{} {}", pid_text(pid), prefix.trim_start())
}

/// One line of Triton's device_print: `pid (x, y, z) idx (i, j) prefix[(operand k) ]value`.
/// `index` is the element's multi-index in `shape` (both empty for a scalar); indices are
/// right-aligned to the width of the largest index of their dimension. `operand` is given
/// when the print has several operands. `prefix` comes from `print_prefix`.
pub fn print_line(
    pid: [u32; 3],
    shape: &[u32],
    index: &[u32],
    prefix: &str,
    operand: Option<usize>,
    value: &str,
) -> String {
    let mut line = pid_text(pid);
    if !shape.is_empty() {
        let idx: Vec<String> = index
            .iter()
            .zip(shape)
            .map(|(x, &d)| {
                let w = d.saturating_sub(1).to_string().len();
                format!("{x:>w$}")
            })
            .collect();
        line.push_str(&format!(" idx ({})", idx.join(", ")));
    }
    line.push_str(prefix);
    if let Some(k) = operand {
        line.push_str(&format!("(operand {k}) "));
    }
    line.push_str(value);
    line
}

/// Row-major multi-index of linear element `i` of `shape`.
pub fn unravel(mut i: u64, shape: &[u32]) -> Vec<u32> {
    let mut out = vec![0u32; shape.len()];
    for d in (0..shape.len()).rev() {
        let s = u64::from(shape[d].max(1));
        out[d] = (i % s) as u32;
        i /= s;
    }
    out
}

/// A float as device_print writes it (C's `%f`; nan, inf, -inf).
pub fn print_float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:.6}")
    }
}

/// An f16 bit pattern as f64, exactly.
pub fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = (h >> 10) & 0x1f;
    let frac = f64::from(h & 0x3ff);
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        0x1f if frac == 0.0 => f64::INFINITY,
        0x1f => f64::NAN,
        e => (1.0 + frac / 1024.0) * 2f64.powi(i32::from(e) - 15),
    }
}

/// The f16 bits of an f32 that is exactly an f16 value (what a widened f16 is); other
/// values are truncated toward zero, NaN payloads are not kept.
pub fn f32_to_f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    if x.is_nan() {
        return sign | 0x7e00;
    }
    let a = x.abs();
    if a.is_infinite() || a >= 65520.0 {
        return sign | 0x7c00;
    }
    if a < 2f32.powi(-14) {
        // Subnormal: units of 2^-24.
        return sign | (a * 2f32.powi(24)) as u16;
    }
    let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
    let frac = ((b >> 13) & 0x3ff) as u16;
    sign | ((exp as u16) << 10) | frac
}

/// A value of type `ty` given by its bit pattern (`bits`, the type's width, zero-extended),
/// as Triton's device_print shows it: decimal integers, floats with six decimals, or with
/// `hex` the bit pattern as `0x` and one digit per four bits.
pub fn format_value(ty: ScalarType, bits: u64, hex: bool) -> String {
    if hex {
        let w = (ty.bits().max(4) as usize).div_ceil(4);
        return format!("0x{bits:0w$x}");
    }
    match ty {
        ScalarType::I1 => (bits & 1).to_string(),
        ScalarType::I8 => (bits as u8 as i8).to_string(),
        ScalarType::I16 => (bits as u16 as i16).to_string(),
        ScalarType::I32 => (bits as u32 as i32).to_string(),
        ScalarType::I64 => (bits as i64).to_string(),
        ScalarType::U8 => (bits as u8).to_string(),
        ScalarType::U16 => (bits as u16).to_string(),
        ScalarType::U32 => (bits as u32).to_string(),
        ScalarType::U64 => bits.to_string(),
        ScalarType::F16 => print_float(f16_to_f64(bits as u16)),
        ScalarType::BF16 => print_float(f64::from(f32::from_bits((bits as u32) << 16))),
        ScalarType::F32 => print_float(f64::from(f32::from_bits(bits as u32))),
        ScalarType::F64 => print_float(f64::from_bits(bits)),
    }
}

/// The bit pattern of `ty` (zero-extended) from the two value words of a record.
pub fn record_bits(ty: ScalarType, lo: u32, hi: u32) -> u64 {
    let wide = u64::from(lo) | (u64::from(hi) << 32);
    match ty {
        ScalarType::F16 => u64::from(f32_to_f16_bits(f32::from_bits(lo))),
        ScalarType::BF16 => u64::from(lo >> 16),
        ScalarType::I64 | ScalarType::U64 | ScalarType::F64 => wide,
        ScalarType::I1 => u64::from(lo & 1),
        t => u64::from(lo) & (u64::MAX >> (64 - t.bits())),
    }
}

/// A failed `tl.device_assert`. Its text is the one the interpreter reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertFailure {
    pub kernel: String,
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub source_line: String,
    pub program_id: [u32; 3],
    /// Multi-index of the failing element (empty for a scalar condition).
    pub lane: Vec<u32>,
    pub message: String,
}

impl fmt::Display for AssertFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "device assertion failed in kernel `{}` ", self.kernel)?;
        if self.line == 0 {
            f.write_str("at an unknown location")?;
        } else {
            write!(f, "at {}:{}:{}", self.file, self.line, self.col)?;
        }
        let [x, y, z] = self.program_id;
        write!(f, ", program_id ({x}, {y}, {z})")?;
        if !self.lane.is_empty() {
            let l: Vec<String> = self.lane.iter().map(|x| x.to_string()).collect();
            write!(f, ", idx ({})", l.join(", "))?;
        }
        write!(f, ": {}", self.message)?;
        if !self.source_line.is_empty() {
            write!(f, "\n{}", self.source_line)?;
        }
        Ok(())
    }
}

/// What one launch's debug buffer says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DebugReport {
    /// Print lines, grouped by program (in program order), each program's in the order its
    /// records were reserved.
    pub lines: Vec<String>,
    /// Records the buffer had no room for.
    pub dropped: u64,
    /// Records the buffer holds.
    pub capacity: u64,
    /// The failed assert of the first program (then first element) that failed one.
    pub assert_failure: Option<AssertFailure>,
}

impl DebugReport {
    /// The line the host prints when records were dropped (None when none were).
    pub fn dropped_line(&self, kernel: &str) -> Option<String> {
        (self.dropped > 0).then(|| {
            format!(
                "triton_metal: {} device_print/device_assert records of kernel `{kernel}` were \
                 dropped: the debug buffer holds {} per launch",
                self.dropped, self.capacity
            )
        })
    }
}

/// Reads a debug buffer written by a kernel described by `info`. Malformed records (a site
/// or operand the description does not have) are reported as lines saying so, not dropped.
pub fn decode_debug(info: &DebugInfo, bytes: &[u8]) -> DebugReport {
    let words: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let cap = debug_capacity(bytes.len() as u32) as u64;
    let reserved = words.first().copied().unwrap_or(0) as u64;
    let n = reserved.min(cap) as usize;
    let mut records: Vec<&[u32]> = (0..n)
        .filter_map(|i| {
            let at = DEBUG_HEADER_WORDS as usize + i * DEBUG_RECORD_WORDS as usize;
            words.get(at..at + DEBUG_RECORD_WORDS as usize)
        })
        .collect();
    // Programs in launch order (x fastest); within one, reservation order.
    records.sort_by_key(|r| (r[3], r[2], r[1]));
    let mut report = DebugReport {
        dropped: reserved.saturating_sub(cap),
        capacity: cap,
        ..DebugReport::default()
    };
    let mut first_fail: Option<((u32, u32, u32, u32), AssertFailure)> = None;
    for r in records {
        let pid = [r[1], r[2], r[3]];
        let Some(site) = info.sites.get(r[0] as usize) else {
            report.lines.push(format!(
                "{} <debug record of unknown site {}>",
                pid_text(pid),
                r[0]
            ));
            continue;
        };
        match &site.kind {
            DebugSiteKind::Print { prefix, hex } => {
                let prefix = print_prefix(prefix, !site.operands.is_empty());
                if r[5] == NO_OPERAND {
                    report.lines.push(print_line_bare(pid, &prefix));
                    continue;
                }
                let Some(op) = site.operands.get(r[5] as usize) else {
                    report.lines.push(format!(
                        "{} <debug record of unknown operand {}>",
                        pid_text(pid),
                        r[5]
                    ));
                    continue;
                };
                let index = unravel(u64::from(r[4]), &op.shape);
                let value = format_value(op.elem, record_bits(op.elem, r[6], r[7]), *hex);
                let many = (site.operands.len() > 1).then_some(r[5] as usize);
                report
                    .lines
                    .push(print_line(pid, &op.shape, &index, &prefix, many, &value));
            }
            DebugSiteKind::Assert {
                message,
                file,
                line,
                col,
                source_line,
            } => {
                let shape = site.operands.first().map_or(&[][..], |o| &o.shape[..]);
                let key = (r[3], r[2], r[1], r[4]);
                if first_fail.as_ref().is_some_and(|(k, _)| *k <= key) {
                    continue;
                }
                first_fail = Some((
                    key,
                    AssertFailure {
                        kernel: info.kernel.clone(),
                        file: file.clone(),
                        line: *line,
                        col: *col,
                        source_line: source_line.clone(),
                        program_id: pid,
                        lane: unravel(u64::from(r[4]), shape),
                        message: message.clone(),
                    },
                ));
            }
        }
    }
    report.assert_failure = first_fail.map(|(_, f)| f);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_normalized_as_triton_does() {
        assert_eq!(print_prefix("x = ", true), " x =: ");
        assert_eq!(print_prefix("x", true), " x: ");
        assert_eq!(print_prefix("value: ", true), " value: ");
        assert_eq!(print_prefix("", false), " ");
        assert_eq!(print_prefix("hello", false), " hello");
    }

    #[test]
    fn values_print_as_triton_shows_them() {
        assert_eq!(
            format_value(ScalarType::I32, (-5i32) as u32 as u64, false),
            "-5"
        );
        assert_eq!(format_value(ScalarType::I8, 0xff, false), "-1");
        assert_eq!(format_value(ScalarType::U8, 0xff, false), "255");
        assert_eq!(format_value(ScalarType::I8, 0xff, true), "0xff");
        assert_eq!(format_value(ScalarType::I1, 1, true), "0x1");
        assert_eq!(
            format_value(ScalarType::F32, 1.5f32.to_bits() as u64, false),
            "1.500000"
        );
        assert_eq!(format_value(ScalarType::F16, 0x3c00, false), "1.000000");
        assert_eq!(format_value(ScalarType::F16, 0x3c00, true), "0x3c00");
        assert_eq!(format_value(ScalarType::BF16, 0xbfc0, false), "-1.500000");
        assert_eq!(
            format_value(ScalarType::F32, f32::NAN.to_bits() as u64, false),
            "nan"
        );
        assert_eq!(format_value(ScalarType::I64, (-3i64) as u64, false), "-3");
    }

    #[test]
    fn f16_round_trips_through_f32() {
        for h in [
            0u16, 1, 0x3ff, 0x400, 0x3c00, 0x7bff, 0x7c00, 0xfc00, 0x8001, 0xc500,
        ] {
            let x = f16_to_f64(h) as f32;
            assert_eq!(f32_to_f16_bits(x), h, "{h:#x}");
            assert_eq!(record_bits(ScalarType::F16, x.to_bits(), 0), h as u64);
        }
    }

    #[test]
    fn lines_have_triton_shape() {
        let p = print_prefix("x = ", true);
        assert_eq!(
            print_line([1, 0, 0], &[16, 4], &[3, 2], &p, None, "7"),
            "pid (1, 0, 0) idx ( 3, 2) x =: 7"
        );
        assert_eq!(
            print_line([0, 0, 0], &[], &[], &print_prefix("", true), Some(1), "2"),
            "pid (0, 0, 0): (operand 1) 2"
        );
        assert_eq!(
            print_line_bare([0, 1, 2], &print_prefix("hi", false)),
            "pid (0, 1, 2) hi"
        );
    }

    fn buffer(reserved: u32, records: &[[u32; 8]]) -> Vec<u8> {
        let mut w = vec![0u32; DEBUG_HEADER_WORDS as usize];
        w[0] = reserved;
        for r in records {
            w.extend_from_slice(r);
        }
        w.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn records_decode_to_lines_drops_and_the_first_failure() {
        let info = DebugInfo {
            kernel: "k".into(),
            sites: vec![
                DebugSite {
                    kind: DebugSiteKind::Print {
                        prefix: "v".into(),
                        hex: false,
                    },
                    operands: vec![DebugOperand {
                        elem: ScalarType::F32,
                        shape: vec![4],
                    }],
                },
                DebugSite {
                    kind: DebugSiteKind::Assert {
                        message: "bad".into(),
                        file: "k.py".into(),
                        line: 3,
                        col: 4,
                        source_line: "    tl.device_assert(x > 0, \"bad\")".into(),
                    },
                    operands: vec![DebugOperand {
                        elem: ScalarType::I1,
                        shape: vec![2, 2],
                    }],
                },
            ],
        };
        let bytes = buffer(
            3,
            &[
                [1, 1, 0, 0, 3, 0, 0, 0],
                [0, 1, 0, 0, 2, 0, 2.5f32.to_bits(), 0],
                [1, 0, 0, 0, 1, 0, 0, 0],
            ],
        );
        let r = decode_debug(&info, &bytes);
        assert_eq!(r.lines, ["pid (1, 0, 0) idx (2) v: 2.500000"]);
        assert_eq!(r.dropped, 0);
        let f = r.assert_failure.unwrap();
        assert_eq!((f.program_id, f.lane.clone()), ([0, 0, 0], vec![0, 1]));
        assert_eq!(
            f.to_string(),
            "device assertion failed in kernel `k` at k.py:3:4, program_id (0, 0, 0), idx (0, 1): bad\n    tl.device_assert(x > 0, \"bad\")"
        );
        // A buffer with room for one record that was asked for three.
        let small = &buffer(3, &[[0, 0, 0, 0, 0, 0, 0, 0]])[..];
        let r = decode_debug(&info, small);
        assert_eq!(r.lines.len(), 1);
        assert_eq!(r.dropped, 2);
        assert!(r.dropped_line("k").unwrap().contains("2 device_print"));
    }
}
