// The contract between three parts of every emulated kernel: the Metal shim (metal_stdlib),
// the generated entry thunk and the fiber runtime (tm_emu_runtime.cpp). All of them are
// linked into one shared object per kernel; only tm_emu_launch is exported.
#ifndef TM_EMU_ABI_H
#define TM_EMU_ABI_H

// Bytes a lane may deposit into, or receive from, one simd operation.
#define TM_EMU_SLOT 64
#define TM_EMU_SIMD_WIDTH 32
#define TM_EMU_MAX_THREADS 1024
#define TM_EMU_MAX_BINDINGS 31
#define TM_EMU_RUNTIME_VERSION 1

#define TM_EMU_HIDDEN __attribute__((visibility("hidden")))

extern "C" {

// Combines the deposits of all lanes of one simdgroup (`in`, lane-major, `stride` bytes
// apart) into one result per lane (`out`). Runs once, when every lane has arrived, before
// any lane resumes.
typedef void (*tm_emu_combine_fn)(const unsigned char *in, unsigned char *out, unsigned lanes,
                                  unsigned stride);

struct tm_emu_args {
  // Index n holds [[buffer(n)]]; 0 is the packed scalar buffer.
  void *bindings[TM_EMU_MAX_BINDINGS];
  unsigned group[3];
  unsigned groups[3];
  unsigned tid;
  unsigned threads_per_group;
};

struct tm_emu_launch_args {
  void *bindings[TM_EMU_MAX_BINDINGS];
  unsigned groups[3];
  unsigned threads_per_group;
  // 0: threads resume in increasing order between synchronisation points, 1: decreasing.
  unsigned reverse;
  // Byte that fills threadgroup memory at the start of every threadgroup.
  unsigned poison;
  // Out: the threadgroup that failed.
  unsigned failed_group[3];
};

TM_EMU_HIDDEN void tm_emu_barrier(unsigned line);
TM_EMU_HIDDEN void tm_emu_simd(const char *name, unsigned line, const void *in, unsigned in_size,
                               void *out, unsigned out_size, tm_emu_combine_fn combine);
TM_EMU_HIDDEN void tm_emu_tg_register(void *storage, unsigned long bytes);
// A switch point after every atomic operation: the fiber stays runnable and the others of
// its group run first, so that updates of shared memory interleave as on a GPU.
TM_EMU_HIDDEN void tm_emu_yield(void);
TM_EMU_HIDDEN unsigned tm_emu_tid(void);
TM_EMU_HIDDEN unsigned tm_emu_threads_per_group(void);
// Stops the launch with a message. From a kernel thread it does not return.
TM_EMU_HIDDEN void tm_emu_fail(const char *message);

// Generated per kernel: binds the arguments of one thread and calls the kernel.
TM_EMU_HIDDEN void tm_emu_entry(const struct tm_emu_args *args);

__attribute__((visibility("default"))) int tm_emu_launch(struct tm_emu_launch_args *args,
                                                         char *message, unsigned message_len);
__attribute__((visibility("default"))) unsigned tm_emu_runtime_version(void);
}

#endif
