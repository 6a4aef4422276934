//! clang-19 and the on-disk cache of compiled kernels. Every file in the cache is named by a
//! hash of everything that went into it and written atomically (a temporary file renamed
//! into place), so concurrent test processes can share one cache.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::error::{ClangDiagnostic, EmuError};

pub const SHIM_HEADER: &str = include_str!("../shim/metal_stdlib");
pub const ABI_HEADER: &str = include_str!("../shim/tm_emu_abi.h");
pub const RUNTIME_SOURCE: &str = include_str!("../shim/tm_emu_runtime.cpp");

/// Bumped when the way kernels are built changes in a way the hashed inputs do not show.
const DRIVER_VERSION: &str = "tm-msl-emu driver 1";

const COMMON_FLAGS: &[&str] = &[
    "-std=c++20",
    "-O1",
    "-fPIC",
    "-fvisibility=hidden",
    "-fno-exceptions",
    "-fno-rtti",
    "-fno-threadsafe-statics",
    // One rounding per operation, as the GPU's f32 and f16 units round (no contraction into
    // fma, no f16 arithmetic carried out in f32).
    "-ffp-contract=off",
    "-Xclang",
    "-ffloat16-excess-precision=none",
    "-Xclang",
    "-fbfloat16-excess-precision=none",
    "-Wno-unknown-attributes",
    "-fno-color-diagnostics",
];

pub struct Toolchain {
    clang: PathBuf,
    cache: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex(&h.finalize()[..20])
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> EmuError {
    EmuError::Io(format!("{what} {}: {e}", path.display()))
}

/// Writes `bytes` to `path` unless it exists, through a temporary file in the same folder.
fn write_once(path: &Path, bytes: &[u8]) -> Result<(), EmuError> {
    if path.exists() {
        return Ok(());
    }
    let tmp = temp_path(path);
    std::fs::write(&tmp, bytes).map_err(|e| io_error("cannot write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error("cannot rename into", path, e))
}

fn temp_path(path: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().and_then(|s| s.to_str()).unwrap_or("out");
    path.with_file_name(format!(".tmp-{}-{n}-{name}", std::process::id()))
}

/// The default cache folder: `$TRITON_METAL_CACHE_DIR/msl-emu`, else
/// `$XDG_CACHE_HOME/triton_metal/msl-emu`, else `~/.cache/triton_metal/msl-emu`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TRITON_METAL_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("msl-emu");
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("triton_metal").join("msl-emu")
}

/// `$TRITON_METAL_CLANG`, else `/usr/bin/clang-19`, else `clang-19` on the PATH.
pub fn find_clang() -> Result<PathBuf, EmuError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("TRITON_METAL_CLANG").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(PathBuf::from("/usr/bin/clang-19"));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("clang-19")));
    }
    for c in &candidates {
        let runs = Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if runs {
            return Ok(c.clone());
        }
    }
    Err(EmuError::ClangNotFound(
        "the MSL emulator needs clang-19 (Debian: `apt-get install clang-19`); none was found \
         at $TRITON_METAL_CLANG, /usr/bin/clang-19 or on the PATH"
            .into(),
    ))
}

impl Toolchain {
    pub fn new(clang: PathBuf, cache: PathBuf) -> Result<Toolchain, EmuError> {
        std::fs::create_dir_all(&cache).map_err(|e| io_error("cannot create", &cache, e))?;
        Ok(Toolchain { clang, cache })
    }

    pub fn cache_dir(&self) -> &Path {
        &self.cache
    }

    /// The folder holding the shim headers, named by their hash.
    fn shim_dir(&self) -> Result<PathBuf, EmuError> {
        let dir = self
            .cache
            .join(format!("shim-{}", hash(&[SHIM_HEADER, ABI_HEADER])));
        std::fs::create_dir_all(&dir).map_err(|e| io_error("cannot create", &dir, e))?;
        write_once(&dir.join("metal_stdlib"), SHIM_HEADER.as_bytes())?;
        write_once(&dir.join("tm_emu_abi.h"), ABI_HEADER.as_bytes())?;
        Ok(dir)
    }

    /// The fiber runtime, compiled once per cache.
    fn runtime_object(&self, shim: &Path) -> Result<PathBuf, EmuError> {
        let key = hash(&[
            DRIVER_VERSION,
            &COMMON_FLAGS.join(" "),
            ABI_HEADER,
            RUNTIME_SOURCE,
        ]);
        let obj = self.cache.join(format!("runtime-{key}.o"));
        if obj.exists() {
            return Ok(obj);
        }
        let src = self.cache.join(format!("runtime-{key}.cpp"));
        write_once(&src, RUNTIME_SOURCE.as_bytes())?;
        self.clang_into(shim, &["-c".as_ref(), src.as_ref()], &obj, |log| {
            EmuError::Io(format!("the emulator's runtime does not compile:\n{log}"))
        })?;
        Ok(obj)
    }

    /// Runs clang with the common flags, the shim on the include path and `args`, producing
    /// `out` atomically (through a temporary file). On failure nothing is left behind and
    /// `failed` turns clang's log into the error.
    fn clang_into(
        &self,
        shim: &Path,
        args: &[&OsStr],
        out: &Path,
        failed: impl FnOnce(String) -> EmuError,
    ) -> Result<(), EmuError> {
        let tmp = temp_path(out);
        let run = Command::new(&self.clang)
            .args(COMMON_FLAGS)
            .arg("-I")
            .arg(shim)
            .args(args)
            .arg("-o")
            .arg(&tmp)
            .output()
            .map_err(|e| EmuError::Io(format!("cannot run {}: {e}", self.clang.display())))?;
        if !run.status.success() {
            let _ = std::fs::remove_file(&tmp);
            return Err(failed(String::from_utf8_lossy(&run.stderr).into_owned()));
        }
        std::fs::rename(&tmp, out).map_err(|e| io_error("cannot rename into", out, e))
    }

    /// Compiles a kernel translation unit into a shared object, or finds it in the cache.
    pub fn shared_object(&self, kernel: &str, tu: &str) -> Result<PathBuf, EmuError> {
        let key = hash(&[
            DRIVER_VERSION,
            &COMMON_FLAGS.join(" "),
            SHIM_HEADER,
            ABI_HEADER,
            RUNTIME_SOURCE,
            tu,
        ]);
        let so = self.cache.join(format!("{key}.so"));
        if so.exists() {
            return Ok(so);
        }
        let shim = self.shim_dir()?;
        let runtime = self.runtime_object(&shim)?;
        let src = self.cache.join(format!("{key}.cpp"));
        write_once(&src, tu.as_bytes())?;
        let args: [&OsStr; 4] = [
            "-shared".as_ref(),
            src.as_ref(),
            runtime.as_ref(),
            "-lm".as_ref(),
        ];
        self.clang_into(&shim, &args, &so, |log| EmuError::Compile {
            kernel: kernel.to_string(),
            diagnostics: parse_diagnostics(&log),
            log,
        })?;
        Ok(so)
    }
}

/// Reads clang's `file:line:col: severity: message` lines. Lines of the MSL come through the
/// `#line` directive as file `kernel.metal`.
pub fn parse_diagnostics(log: &str) -> Vec<ClangDiagnostic> {
    log.lines()
        .filter_map(|line| {
            let (severity, sep) = ["fatal error", "error", "warning"].iter().find_map(|s| {
                let sep = format!(": {s}: ");
                line.find(&sep).map(|at| (*s, (at, sep.len())))
            })?;
            let (at, len) = sep;
            let location = &line[..at];
            let message = line[at + len..].to_string();
            let mut parts = location.rsplitn(3, ':');
            let col: u32 = parts.next()?.parse().ok()?;
            let line_no: u32 = parts.next()?.parse().ok()?;
            let file = parts.next()?.to_string();
            let in_msl = file.ends_with(crate::translation_unit::MSL_FILE);
            Some(ClangDiagnostic {
                file: if in_msl { None } else { Some(file) },
                line: line_no,
                column: col,
                severity: severity.to_string(),
                message,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_in_the_msl_carry_its_line() {
        let log = "/c/ab.cpp:3:1: warning: x\nkernel.metal:7:12: error: use of undeclared identifier 'y'\n    7 | y\n";
        let d = parse_diagnostics(log);
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].file, None);
        assert_eq!((d[1].line, d[1].column), (7, 12));
        assert_eq!(d[1].severity, "error");
        assert_eq!(d[0].file.as_deref(), Some("/c/ab.cpp"));
    }

    #[test]
    fn compiles_into_the_cache_and_failures_leave_nothing_behind() {
        let Ok(clang) = find_clang() else {
            eprintln!("skipping: no clang-19");
            return;
        };
        let dir = std::env::temp_dir().join(format!("tm-msl-emu-toolchain-{}", std::process::id()));
        let tc = Toolchain::new(clang, dir.clone()).unwrap();
        let broken = format!(
            "#line 1 \"{}\"\nint f( {{\n",
            crate::translation_unit::MSL_FILE
        );
        match tc.shared_object("broken", &broken) {
            Err(EmuError::Compile {
                kernel,
                diagnostics,
                ..
            }) => {
                assert_eq!(kernel, "broken");
                assert!(
                    diagnostics
                        .iter()
                        .any(|d| d.file.is_none() && d.severity == "error"),
                    "{diagnostics:?}"
                );
            }
            other => panic!("expected a compile error, got {other:?}"),
        }
        let so = tc
            .shared_object(
                "ok",
                "#include \"tm_emu_abi.h\"\nextern \"C\" void tm_emu_entry(const tm_emu_args *) {}\n",
            )
            .unwrap();
        assert!(so.exists());
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("runtime-") && n.ends_with(".o")),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.starts_with(".tmp-")), "{names:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
