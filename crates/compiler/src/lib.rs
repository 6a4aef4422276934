//! The pipeline in one call: source → Tile IR → passes → layouts/SIMT → MSL or WGSL.
