//! Launcher-supplied buffers (`KernelAbi::scratch`): lock words for emulated atomics, debug
//! records. Each kind is declared once per kernel, on first use, after the argument buffers.

use tm_core::{ScalarType, ScratchBinding, ScratchKind};

use super::{BufInfo, LowerError, Lowerer};
use crate::ir::BufferParam;

impl Lowerer<'_> {
    /// The index in `buffers` of the launcher buffer of `kind` (u32 words, accessed with
    /// atomics), added on first use; `what` says what needs it, for the error when the
    /// target has no buffer slot left.
    pub(super) fn launcher_buffer(
        &mut self,
        kind: ScratchKind,
        name: &str,
        bytes: u32,
        what: &str,
    ) -> Result<u32, LowerError> {
        if let Some(s) = self.launcher_buffers.iter().find(|s| s.kind == kind) {
            return Ok(s.binding - 1);
        }
        let index = self.buffers.len() as u32;
        // One more buffer, plus the scalar buffer.
        if index + 2 > self.target.max_buffers {
            return Err(self.err(format!(
                "{what} besides the kernel's {index} buffers; {} allows {} buffers",
                self.target.name,
                self.target.max_buffers.saturating_sub(1)
            )));
        }
        self.bufs.push(BufInfo {
            pointee: ScalarType::U32,
            word_bits: None,
            atomic: true,
            float_bits: false,
        });
        self.buffers.push(BufferParam {
            name: name.into(),
            elem: ScalarType::U32,
            writes: true,
            atomic: true,
        });
        self.launcher_buffers.push(ScratchBinding {
            kind,
            binding: index + 1,
            bytes,
        });
        Ok(index)
    }
}
