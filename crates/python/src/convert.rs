//! The encoded forms the Python layer sends (python/triton_metal/_resolve.py and _jit.py) into
//! the frontend's types: constants, argument specializations and source trees.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tm_core::ScalarType;

pub fn scalar_type(name: &str) -> PyResult<ScalarType> {
    name.parse::<ScalarType>().map_err(PyValueError::new_err)
}

#[cfg(feature = "frontend")]
pub use with_frontend::*;

#[cfg(feature = "frontend")]
mod with_frontend {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::errors::Indent;
    use tm_core::SourceFile;
    use tm_frontend::{ArgSpec, Binding, ConstValue, Fp8, FunctionSource, ModuleKind};

    /// `(tag, payload)`: ("none", None), ("bool", b), ("int", i), ("float", f), ("str", s),
    /// ("dtype", "f32"), ("tuple", [encoded...]), ("jit", source tree) for a `@jit`
    /// function given as a constant (its source's indentation goes to `indents`).
    pub fn const_value(obj: &Bound<'_, PyAny>, indents: &mut Vec<Indent>) -> PyResult<ConstValue> {
        let (tag, payload): (String, Bound<'_, PyAny>) = obj.extract()?;
        Ok(match tag.as_str() {
            "none" => ConstValue::None,
            "bool" => ConstValue::Bool(payload.extract()?),
            "int" => ConstValue::Int(payload.extract()?),
            "float" => ConstValue::Float(payload.extract()?),
            "str" => ConstValue::Str(payload.extract()?),
            "dtype" => {
                let short = payload.extract::<String>()?;
                // The 8-bit floats are named and compared, never computed with.
                match Fp8::from_short_name(&short) {
                    Some(f) => ConstValue::Fp8Dtype(f),
                    None => ConstValue::Dtype(scalar_type(&short)?),
                }
            }
            "tuple" => ConstValue::Tuple(
                payload
                    .try_iter()?
                    .map(|item| const_value(&item?, indents))
                    .collect::<PyResult<_>>()?,
            ),
            "jit" => ConstValue::Function(function_source(&payload, indents)?),
            other => return Err(bad(format!("unknown constant tag '{other}'"))),
        })
    }

    /// ("ptr", elem, divisible_by_16) | ("scalar", ty, divisible_by_16, equal_to_one) |
    /// ("constexpr", encoded constant).
    pub fn arg_spec(obj: &Bound<'_, PyAny>, indents: &mut Vec<Indent>) -> PyResult<ArgSpec> {
        let tag: String = obj.get_item(0)?.extract()?;
        Ok(match tag.as_str() {
            "ptr" => {
                let (_, elem, divisible_by_16): (String, String, bool) = obj.extract()?;
                ArgSpec::Pointer {
                    elem: scalar_type(&elem)?,
                    divisible_by_16,
                }
            }
            "scalar" => {
                let (_, ty, divisible_by_16, equal_to_one): (String, String, bool, bool) =
                    obj.extract()?;
                ArgSpec::Scalar {
                    ty: scalar_type(&ty)?,
                    divisible_by_16,
                    equal_to_one,
                }
            }
            "constexpr" => ArgSpec::Constexpr(const_value(&obj.get_item(1)?, indents)?),
            other => return Err(bad(format!("unknown argument kind '{other}'"))),
        })
    }

    fn module_kind(name: &str) -> PyResult<ModuleKind> {
        Ok(match name {
            "language" => ModuleKind::Language,
            "math" => ModuleKind::LanguageMath,
            "libdevice" => ModuleKind::Libdevice,
            "triton" => ModuleKind::Triton,
            "pymath" => ModuleKind::PyMath,
            other => return Err(bad(format!("unknown module kind '{other}'"))),
        })
    }

    /// `(path, text, first_line, indent, name, {free name: binding})` where a binding is
    /// ("const", c) | ("module", kind) | ("jit", tree) | ("member", (kind, name)). Records each source's indentation in
    /// `indents` so that error positions can be moved back into the user's file.
    pub fn function_source(
        obj: &Bound<'_, PyAny>,
        indents: &mut Vec<Indent>,
    ) -> PyResult<Arc<FunctionSource>> {
        let (path, text, first_line, indent, name, bindings): (
            String,
            String,
            u32,
            String,
            String,
            Bound<'_, PyDict>,
        ) = obj.extract()?;
        let mut globals = BTreeMap::new();
        for (key, value) in bindings.iter() {
            let key: String = key.extract()?;
            let (tag, payload): (String, Bound<'_, PyAny>) = value.extract()?;
            let binding = match tag.as_str() {
                "const" => Binding::Const(const_value(&payload, indents)?),
                "module" => Binding::Module(module_kind(&payload.extract::<String>()?)?),
                "jit" => Binding::JitFunction(function_source(&payload, indents)?),
                "member" => {
                    let (kind, name): (String, String) = payload.extract()?;
                    Binding::ModuleMember {
                        module: module_kind(&kind)?,
                        name,
                    }
                }
                other => return Err(bad(format!("unknown binding tag '{other}'"))),
            };
            globals.insert(key, binding);
        }
        indents.push(Indent {
            path: path.clone(),
            first_line,
            lines: text.lines().count() as u32,
            indent,
        });
        Ok(Arc::new(FunctionSource {
            file: SourceFile::new(path, text, first_line),
            name,
            globals,
        }))
    }

    fn bad(msg: String) -> PyErr {
        PyValueError::new_err(format!("triton_metal internal: {msg}"))
    }
}
