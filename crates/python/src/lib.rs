//! Python bindings: the triton_metal._core extension module.
