//! Bind groups reused across launches that bind the same buffers to the same pipeline:
//! building one costs more than the rest of a launch.

use std::collections::HashMap;

/// Past this many entries the cache starts over: a program cycling through more
/// distinct argument sets than this gains nothing from it anyway.
const MAX_ENTRIES: usize = 512;

/// Keyed by `[pipeline id, buffer id...]`: a flat slice, so that a launch can look its
/// bind group up with a key it fills in place instead of allocating one.
#[derive(Default)]
pub(crate) struct BindGroupCache {
    groups: HashMap<Vec<u64>, wgpu::BindGroup>,
}

/// Fills `key` with the cache key of `pipeline` bound to `buffers`.
pub(crate) fn bind_key(key: &mut Vec<u64>, pipeline: u64, buffers: impl Iterator<Item = u64>) {
    key.clear();
    key.push(pipeline);
    key.extend(buffers);
}

impl BindGroupCache {
    pub(crate) fn get(&self, key: &[u64]) -> Option<wgpu::BindGroup> {
        self.groups.get(key).cloned()
    }

    pub(crate) fn insert(&mut self, key: &[u64], group: wgpu::BindGroup) {
        if self.groups.len() >= MAX_ENTRIES {
            self.groups.clear();
        }
        self.groups.insert(key.to_vec(), group);
    }

    pub(crate) fn forget_buffer(&mut self, id: u64) {
        if !self.groups.is_empty() {
            self.groups.retain(|k, _| !k[1..].contains(&id));
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }
}
