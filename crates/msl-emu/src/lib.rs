//! MSL emulator: compiles our MSL with clang against a shim of Metal's library and runs it on the CPU.
