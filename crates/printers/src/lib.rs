//! Printers from SIMT IR to MSL and WGSL.
