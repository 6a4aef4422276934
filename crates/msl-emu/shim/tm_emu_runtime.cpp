// The fiber runtime of the MSL emulator. Threadgroups run one after another on the calling
// OS thread; the threads of one threadgroup are cooperative fibers that run until they reach
// a synchronisation point (threadgroup_barrier, a simd operation) or return, and step aside
// after every atomic operation (so that the other threads' atomics come in between, as
// they do on a GPU: a spin lock is then really contended, and a thread spinning on it lets
// the holder go on). When no fiber can run, the scheduler releases whatever is complete (a
// simdgroup whose lanes all wait at the same simd operation, a threadgroup whose threads all
// wait at the same barrier) or, if nothing is, reports the state of every thread instead of
// hanging; a group that keeps stepping aside without finishing is reported too.
//
// Because all fibers of a group share one OS thread, `static` storage in the kernel function
// is shared by them: that is how threadgroup arrays are emulated (the emulator rewrites
// `threadgroup T a[N];` into a static declaration that registers itself here, and every
// threadgroup starts with those arrays filled with a poison byte).
#include "tm_emu_abi.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace {

enum State : unsigned char { Runnable, AtBarrier, AtSimd, Done, Failed };

struct Fiber {
#if defined(__x86_64__)
  void *sp;
#else
  ucontext_t ctx;
#endif
  State state;
  unsigned line;
  const char *what;
  tm_emu_combine_fn combine;
};

struct Exchange {
  alignas(64) unsigned char in[TM_EMU_SIMD_WIDTH][TM_EMU_SLOT];
  alignas(64) unsigned char out[TM_EMU_SIMD_WIDTH][TM_EMU_SLOT];
};

struct Region {
  void *p;
  unsigned long n;
};

constexpr unsigned long kStack = 256 * 1024;
constexpr unsigned long kGuard = 4096;
constexpr unsigned kMaxRegions = 256;

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
unsigned char *g_stacks = nullptr;
unsigned g_stack_count = 0;
Fiber g_fibers[TM_EMU_MAX_THREADS];
Exchange g_exchange[TM_EMU_MAX_THREADS / TM_EMU_SIMD_WIDTH];
Region g_regions[kMaxRegions];
unsigned g_region_count = 0;
unsigned char g_poison = 0xff;
tm_emu_args g_args;
Fiber *g_current = nullptr;
bool g_failed = false;
// Atomic operations the current group has stepped aside after; past kMaxYields a thread is
// taken to spin forever (a lock never released, a flag never set).
unsigned long g_yields = 0;
constexpr unsigned long kMaxYields = 1ul << 26;
// 1: the threads could not all make progress; 3: tm_emu_fail.
int g_fail_code = 0;
char g_message[1024];
#if defined(__x86_64__)
void *g_sched_sp = nullptr;
#else
ucontext_t g_sched_ctx;
#endif

} // namespace

#if defined(__x86_64__)
// Saves the callee-saved registers of the System V ABI on the current stack, stores the stack
// pointer in *from and continues on the stack `to` (which was saved the same way or built by
// start_fiber).
extern "C" TM_EMU_HIDDEN void tm_emu_switch(void **from, void *to);
asm(R"(
  .text
  .p2align 4
  .globl tm_emu_switch
  .hidden tm_emu_switch
  .type tm_emu_switch,@function
tm_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size tm_emu_switch, .-tm_emu_switch
)");
#endif

namespace {

void set_message(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_message, sizeof g_message, fmt, ap);
  va_end(ap);
}

void to_scheduler() {
#if defined(__x86_64__)
  tm_emu_switch(&g_current->sp, g_sched_sp);
#else
  swapcontext(&g_current->ctx, &g_sched_ctx);
#endif
}

void resume(Fiber *f) {
  g_current = f;
#if defined(__x86_64__)
  tm_emu_switch(&g_sched_sp, f->sp);
#else
  swapcontext(&g_sched_ctx, &f->ctx);
#endif
  g_current = nullptr;
}

void fiber_main() {
  tm_emu_args args = g_args;
  args.tid = (unsigned)(g_current - g_fibers);
  tm_emu_entry(&args);
  g_current->state = Done;
  to_scheduler();
  __builtin_trap();
}

unsigned char *stack_top(unsigned t) {
  return g_stacks + (unsigned long)(t + 1) * (kStack + kGuard);
}

void start_fiber(unsigned t) {
  Fiber *f = &g_fibers[t];
  f->state = Runnable;
  f->line = 0;
  f->what = nullptr;
  f->combine = nullptr;
#if defined(__x86_64__)
  // Laid out as tm_emu_switch leaves a stack: six saved registers, then the address it
  // returns to. Below the 16-byte aligned top sits a fake return address of fiber_main, so
  // that fiber_main starts with the stack alignment of a called function.
  void **top = (void **)stack_top(t);
  top[-1] = nullptr;
  top[-2] = (void *)&fiber_main;
  for (int i = 3; i <= 8; i++)
    top[-i] = nullptr;
  f->sp = (void *)(top - 8);
#else
  getcontext(&f->ctx);
  f->ctx.uc_stack.ss_sp = stack_top(t) - kStack;
  f->ctx.uc_stack.ss_size = kStack;
  f->ctx.uc_link = nullptr;
  makecontext(&f->ctx, &fiber_main, 0);
#endif
}

void release_stacks() {
  if (g_stacks)
    munmap(g_stacks, (unsigned long)g_stack_count * (kStack + kGuard));
  g_stacks = nullptr;
  g_stack_count = 0;
}

bool ensure_stacks(unsigned count) {
  if (count <= g_stack_count)
    return true;
  release_stacks();
  unsigned long total = (unsigned long)count * (kStack + kGuard);
  void *p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    g_stacks = nullptr;
    return false;
  }
  g_stacks = (unsigned char *)p;
  // A guard page below every stack turns an overflow into a fault instead of silently
  // corrupting the neighbouring fiber.
  for (unsigned i = 0; i < count; i++)
    mprotect(g_stacks + (unsigned long)i * (kStack + kGuard), kGuard, PROT_NONE);
  g_stack_count = count;
  return true;
}

const char *state_text(const Fiber &f, char *buf, unsigned len) {
  switch (f.state) {
  case Runnable:
    return "runnable";
  case Done:
    return "returned";
  case Failed:
    return "failed";
  case AtBarrier:
  case AtSimd:
    snprintf(buf, len, "wait at %s (line %u)", f.what ? f.what : "?", f.line);
    return buf;
  }
  return "?";
}

bool same_wait(const Fiber &a, const Fiber &b) {
  if (a.state != b.state)
    return false;
  if (a.state != AtBarrier && a.state != AtSimd)
    return true;
  return a.line == b.line && a.what && b.what && strcmp(a.what, b.what) == 0;
}

// "threads 0-15 wait at simd_sum (line 12); threads 16-31 returned"
void describe_threads(unsigned first, unsigned count, char *out, unsigned len) {
  unsigned used = 0;
  out[0] = 0;
  unsigned start = first;
  for (unsigned t = first + 1; t <= first + count; t++) {
    if (t < first + count && same_wait(g_fibers[t], g_fibers[start]))
      continue;
    char buf[160];
    const char *s = state_text(g_fibers[start], buf, sizeof buf);
    int n;
    if (t - 1 == start)
      n = snprintf(out + used, len - used, "%sthread %u %s", used ? "; " : "", start, s);
    else
      n = snprintf(out + used, len - used, "%sthreads %u-%u %s", used ? "; " : "", start, t - 1, s);
    if (n < 0 || (unsigned)n >= len - used)
      return;
    used += (unsigned)n;
    start = t;
  }
}

// Releases every simdgroup whose lanes all wait at one simd operation, and returns whether
// any was released. Lanes of one simdgroup waiting at different simd operations (or at one
// operation on different lines) fail the launch.
bool release_simdgroups(unsigned tpg) {
  bool released = false;
  for (unsigned base = 0; base < tpg; base += TM_EMU_SIMD_WIDTH) {
    unsigned lanes = tpg - base < TM_EMU_SIMD_WIDTH ? tpg - base : TM_EMU_SIMD_WIDTH;
    bool all = true;
    for (unsigned l = 0; l < lanes; l++)
      all = all && g_fibers[base + l].state == AtSimd;
    if (!all)
      continue;
    for (unsigned l = 1; l < lanes; l++) {
      if (!same_wait(g_fibers[base], g_fibers[base + l])) {
        char buf[700];
        describe_threads(base, lanes, buf, sizeof buf);
        set_message("the lanes of simdgroup %u reach different simd operations (divergent "
                    "control flow): %s",
                    base / TM_EMU_SIMD_WIDTH, buf);
        g_failed = true;
        g_fail_code = 1;
        return false;
      }
    }
    Exchange &x = g_exchange[base / TM_EMU_SIMD_WIDTH];
    if (g_fibers[base].combine)
      g_fibers[base].combine(&x.in[0][0], &x.out[0][0], lanes, TM_EMU_SLOT);
    if (g_failed)
      return false;
    for (unsigned l = 0; l < lanes; l++)
      g_fibers[base + l].state = Runnable;
    released = true;
  }
  return released;
}

// 0: the group completed; 1: a thread failed or the threads cannot all make progress.
int run_group(unsigned tpg, bool reverse) {
  g_yields = 0;
  for (unsigned r = 0; r < g_region_count; r++)
    memset(g_regions[r].p, g_poison, g_regions[r].n);
  for (unsigned t = 0; t < tpg; t++)
    start_fiber(t);
  for (;;) {
    for (unsigned i = 0; i < tpg; i++) {
      unsigned t = reverse ? tpg - 1 - i : i;
      if (g_fibers[t].state == Runnable)
        resume(&g_fibers[t]);
      if (g_failed)
        return 1;
    }
    if (release_simdgroups(tpg))
      continue;
    if (g_failed)
      return 1;
    unsigned done = 0, at_barrier = 0, runnable = 0;
    for (unsigned t = 0; t < tpg; t++) {
      done += g_fibers[t].state == Done;
      at_barrier += g_fibers[t].state == AtBarrier;
      runnable += g_fibers[t].state == Runnable;
    }
    if (done == tpg)
      return 0;
    // Threads that stepped aside after an atomic go on in the next round.
    if (runnable)
      continue;
    if (at_barrier == tpg) {
      bool same = true;
      for (unsigned t = 1; t < tpg; t++)
        same = same && same_wait(g_fibers[0], g_fibers[t]);
      if (same) {
        for (unsigned t = 0; t < tpg; t++)
          g_fibers[t].state = Runnable;
        continue;
      }
    }
    char buf[900];
    describe_threads(0, tpg, buf, sizeof buf);
    set_message("the threads of a threadgroup can not all make progress (a barrier or simd "
                "operation in divergent control flow, or threads that returned early): %s",
                buf);
    g_failed = true;
    g_fail_code = 1;
    return 1;
  }
}

} // namespace

extern "C" {

void tm_emu_barrier(unsigned line) {
  if (!g_current) {
    tm_emu_fail("threadgroup_barrier outside a kernel thread");
    return;
  }
  g_current->state = AtBarrier;
  g_current->what = "threadgroup_barrier";
  g_current->line = line;
  to_scheduler();
}

void tm_emu_simd(const char *name, unsigned line, const void *in, unsigned in_size, void *out,
                 unsigned out_size, tm_emu_combine_fn combine) {
  if (!g_current) {
    tm_emu_fail("simd operation outside a kernel thread");
    return;
  }
  unsigned tid = (unsigned)(g_current - g_fibers);
  Exchange &x = g_exchange[tid / TM_EMU_SIMD_WIDTH];
  unsigned lane = tid % TM_EMU_SIMD_WIDTH;
  if (in_size)
    memcpy(x.in[lane], in, in_size);
  g_current->state = AtSimd;
  g_current->what = name;
  g_current->line = line;
  g_current->combine = combine;
  to_scheduler();
  if (out_size)
    memcpy(out, x.out[lane], out_size);
}

void tm_emu_yield(void) {
  if (!g_current)
    return;
  if (++g_yields > kMaxYields) {
    tm_emu_fail("the threadgroup keeps doing atomic operations without finishing (a thread "
                "spinning on a lock that is never released?)");
    return;
  }
  to_scheduler();
}

void tm_emu_tg_register(void *storage, unsigned long bytes) {
  for (unsigned r = 0; r < g_region_count; r++)
    if (g_regions[r].p == storage)
      return;
  if (g_region_count == kMaxRegions) {
    tm_emu_fail("too many threadgroup arrays");
    return;
  }
  g_regions[g_region_count++] = Region{storage, bytes};
  // First seen in the middle of this group, before any thread used it (a thread passes the
  // declaration before it can name the array).
  memset(storage, g_poison, bytes);
}

unsigned tm_emu_tid(void) { return g_current ? (unsigned)(g_current - g_fibers) : 0; }

unsigned tm_emu_threads_per_group(void) { return g_args.threads_per_group; }

void tm_emu_fail(const char *message) {
  if (!g_failed) {
    if (g_current)
      set_message("thread %u: %s", (unsigned)(g_current - g_fibers), message);
    else
      set_message("%s", message);
    g_fail_code = 3;
  }
  g_failed = true;
  if (g_current) {
    g_current->state = Failed;
    to_scheduler();
    __builtin_trap();
  }
}

// float -> bfloat conversion, which clang calls out of line. libgcc has it only from GCC 13
// on (Debian 12 ships 12), so every kernel library carries its own: round to nearest even,
// NaN stays a quiet NaN.
TM_EMU_HIDDEN __bf16 __truncsfbf2(float x) {
  unsigned u = __builtin_bit_cast(unsigned, x);
  unsigned short r;
  if ((u & 0x7fffffffu) > 0x7f800000u)
    r = (unsigned short)((u >> 16) | 0x40u);
  else
    r = (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  return __builtin_bit_cast(__bf16, r);
}

unsigned tm_emu_runtime_version(void) { return TM_EMU_RUNTIME_VERSION; }

int tm_emu_launch(tm_emu_launch_args *la, char *message, unsigned message_len) {
  pthread_mutex_lock(&g_lock);
  int rc = 0;
  unsigned tpg = la->threads_per_group;
  g_failed = false;
  g_fail_code = 0;
  g_message[0] = 0;
  if (tpg == 0 || tpg > TM_EMU_MAX_THREADS) {
    set_message("threads per threadgroup must be 1..%u, not %u", TM_EMU_MAX_THREADS, tpg);
    rc = 2;
  } else if (!ensure_stacks(tpg)) {
    set_message("could not map %u fiber stacks", tpg);
    rc = 2;
  } else {
    g_poison = (unsigned char)la->poison;
    memcpy(g_args.bindings, la->bindings, sizeof g_args.bindings);
    memcpy(g_args.groups, la->groups, sizeof g_args.groups);
    g_args.threads_per_group = tpg;
    for (unsigned z = 0; z < la->groups[2] && rc == 0; z++)
      for (unsigned y = 0; y < la->groups[1] && rc == 0; y++)
        for (unsigned x = 0; x < la->groups[0] && rc == 0; x++) {
          g_args.group[0] = x;
          g_args.group[1] = y;
          g_args.group[2] = z;
          if (run_group(tpg, la->reverse != 0)) {
            la->failed_group[0] = x;
            la->failed_group[1] = y;
            la->failed_group[2] = z;
            rc = g_fail_code ? g_fail_code : 1;
          }
        }
  }
  if (message && message_len)
    snprintf(message, message_len, "%s", g_message);
  g_current = nullptr;
  // Every kernel library links its own copy of this runtime, and each stack's guard page
  // splits the mapping: kept between launches, a few hundred loaded kernels would exhaust
  // the process's memory-map limit (vm.max_map_count) and make thread creation fail.
  release_stacks();
  pthread_mutex_unlock(&g_lock);
  return rc;
}
}
