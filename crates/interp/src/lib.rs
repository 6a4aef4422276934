//! Interpreter of Tile IR with Triton's semantics and exact memory checking.
