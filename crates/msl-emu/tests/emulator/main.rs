//! Hand-written MSL in the printer's conventions, run through the emulator.

mod aliasing;
mod basics;
mod common;
mod faithfulness;
mod library;
mod matrix;
mod printed;
mod resources;
mod scratch;
