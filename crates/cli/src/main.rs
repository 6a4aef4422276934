//! `triton-metal`: compile a Triton kernel from its Python file and print any stage of the
//! pipeline, without Python installed.

mod script;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tm_core::{CompileError, ScalarType, Target};
use tm_frontend::{ArgSpec, ConstValue};

#[derive(Parser)]
#[command(
    name = "triton-metal",
    version,
    about = "Triton kernels on Metal and wgpu"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile one kernel of a Python file and print a stage of the pipeline.
    Compile {
        /// The Python file holding the @triton.jit kernel.
        file: String,
        /// Name of the kernel function.
        #[arg(long)]
        kernel: String,
        /// Types of the non-constexpr parameters in order, as Triton writes them:
        /// `*fp32` (pointer), `i32`, `*fp16:16` / `i32:16` (divisible by 16), `i32:1` (== 1).
        #[arg(long, default_value = "")]
        signature: String,
        /// A constexpr parameter's value, `NAME=VALUE` (repeatable).
        #[arg(long = "constexpr", value_name = "NAME=VALUE")]
        constexprs: Vec<String>,
        /// The stage to print.
        #[arg(long, value_enum, default_value = "tile")]
        emit: Stage,
        /// Target to lower for (default: apple for msl/simt, wgsl for wgsl).
        #[arg(long, value_enum)]
        target: Option<TargetName>,
        #[arg(long, default_value_t = 4)]
        num_warps: u32,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Stage {
    Tile,
    Simt,
    Msl,
    Wgsl,
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetName {
    /// Apple GPUs through Metal (simd width 32).
    Apple,
    /// Mesa lavapipe through Vulkan (subgroup width 8).
    Lavapipe,
    /// A generic WGSL target with subgroups of 32.
    Wgsl,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<String, CompileError> {
    let Command::Compile {
        file,
        kernel,
        signature,
        constexprs,
        emit,
        target,
        num_warps,
    } = command;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| CompileError::general(format!("cannot read {file}: {e}")))?;
    let script = script::Script::parse(&file, text)?;
    let params = script.jit_functions.get(&kernel).ok_or_else(|| {
        CompileError::general(format!("no @jit function named '{kernel}' in {file}"))
    })?;
    let args = arg_specs(params, &signature, &constexprs)?;
    let src = script.function(&kernel)?;
    if let Stage::Tile = emit {
        return Ok(tm_tile::print(&tm_compiler::compile_tile(&src, &args)?));
    }
    let target = match (target, emit) {
        (Some(TargetName::Apple), _) | (None, Stage::Msl | Stage::Simt | Stage::Tile) => {
            Target::apple()
        }
        (Some(TargetName::Lavapipe), _) => Target::lavapipe(),
        (Some(TargetName::Wgsl), _) | (None, Stage::Wgsl) => Target::wgsl_generic(32),
    };
    let wants_msl = matches!(emit, Stage::Msl);
    if wants_msl != (target.dialect == tm_core::Dialect::Msl) && !matches!(emit, Stage::Simt) {
        return Err(CompileError::general(format!(
            "target '{}' does not print this language",
            target.name
        )));
    }
    let options = tm_compiler::Options {
        num_warps,
        ..Default::default()
    };
    let compiled = tm_compiler::compile(&src, &args, &options, &target)?;
    Ok(match emit {
        Stage::Simt => compiled.simt_text,
        _ => compiled.code,
    })
}

/// Build the call signature from the CLI's strings, in the kernel's parameter order.
fn arg_specs(
    params: &[(String, bool)],
    signature: &str,
    constexprs: &[String],
) -> Result<Vec<ArgSpec>, CompileError> {
    let mut types = signature
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut values = std::collections::BTreeMap::new();
    for c in constexprs {
        let (name, value) = c.split_once('=').ok_or_else(|| {
            CompileError::general(format!("--constexpr expects NAME=VALUE, got '{c}'"))
        })?;
        values.insert(name.trim().to_string(), parse_const(value.trim()));
    }
    let mut specs = Vec::new();
    for (name, annotated_constexpr) in params {
        if let Some(value) = values.remove(name) {
            specs.push(ArgSpec::Constexpr(value));
        } else if *annotated_constexpr {
            return Err(CompileError::general(format!(
                "missing value for constexpr parameter '{name}' (--constexpr {name}=...)"
            )));
        } else {
            let ty = types.next().ok_or_else(|| {
                CompileError::general(format!("--signature has no type for parameter '{name}'"))
            })?;
            specs.push(parse_arg_type(ty)?);
        }
    }
    if let Some(extra) = types.next() {
        return Err(CompileError::general(format!(
            "--signature has more types than the kernel has parameters (from '{extra}')"
        )));
    }
    if let Some(name) = values.keys().next() {
        return Err(CompileError::general(format!(
            "the kernel has no parameter named '{name}'"
        )));
    }
    Ok(specs)
}

fn parse_arg_type(s: &str) -> Result<ArgSpec, CompileError> {
    let (ty, attr) = match s.split_once(':') {
        Some((t, a)) => (t, Some(a)),
        None => (s, None),
    };
    let divisible_by_16 = attr == Some("16");
    if let Some(pointee) = ty.strip_prefix('*') {
        let elem: ScalarType = pointee.parse().map_err(CompileError::general)?;
        return Ok(ArgSpec::Pointer {
            elem,
            divisible_by_16,
        });
    }
    let ty: ScalarType = ty.parse().map_err(CompileError::general)?;
    Ok(ArgSpec::Scalar {
        ty,
        divisible_by_16,
        equal_to_one: attr == Some("1"),
    })
}

fn parse_const(s: &str) -> ConstValue {
    if let Ok(i) = s.parse::<i64>() {
        ConstValue::Int(i)
    } else if let Ok(f) = s.parse::<f64>() {
        ConstValue::Float(f)
    } else if s == "True" || s == "true" {
        ConstValue::Bool(true)
    } else if s == "False" || s == "false" {
        ConstValue::Bool(false)
    } else if let Ok(t) = s.trim_start_matches("tl.").parse::<ScalarType>() {
        ConstValue::Dtype(t)
    } else {
        ConstValue::Str(s.to_string())
    }
}
