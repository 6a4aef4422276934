//! Bind groups reused across launches that bind the same buffers to the same pipeline:
//! building one costs more than the rest of a launch.

use std::collections::HashMap;

/// Past this many entries the cache starts over: a program cycling through more
/// distinct argument sets than this gains nothing from it anyway.
const MAX_ENTRIES: usize = 512;

#[derive(Default)]
pub(crate) struct BindGroupCache {
    groups: HashMap<BindKey, wgpu::BindGroup>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct BindKey {
    pub(crate) pipeline: u64,
    pub(crate) buffers: Vec<u64>,
}

impl BindGroupCache {
    pub(crate) fn get(&self, key: &BindKey) -> Option<wgpu::BindGroup> {
        self.groups.get(key).cloned()
    }

    pub(crate) fn insert(&mut self, key: BindKey, group: wgpu::BindGroup) {
        if self.groups.len() >= MAX_ENTRIES {
            self.groups.clear();
        }
        self.groups.insert(key, group);
    }

    pub(crate) fn forget_buffer(&mut self, id: u64) {
        if !self.groups.is_empty() {
            self.groups.retain(|k, _| !k.buffers.contains(&id));
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }
}
