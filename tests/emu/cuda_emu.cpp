// The CPU emulation of the CUDA runtime declared in
// tests/emu/include/cuda_runtime.h: device memory in host memory (with
// range checks), a fake device with an H100's limits, and launches run as
// one fiber per GPU thread, block after block.
// Configuration (environment, read once):
//   CUDA_EMU_DEVICES      devices reported (default 1; 0: "no device")
//   CUDA_EMU_SMS          multiprocessors (default 4: grids stay small)
//   CUDA_EMU_MEMORY_MB    device memory (default 8192)
//   CUDA_EMU_ORDER        "reverse": threads run in decreasing order
//   CUDA_EMU_HOST_REGISTER "refuse": cudaHostRegister fails
#include <cuda_runtime.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cuda_emu {
namespace {

struct Config {
  int devices = 1;
  int sms = 4;
  std::size_t memory = std::size_t{8192} << 20;
  bool reverse = false;
  bool refuse_register = false;
};

const Config& config() {
  static const Config c = [] {
    Config c;
    auto num = [](const char* name, long long fallback) {
      const char* v = std::getenv(name);
      return v && *v ? std::atoll(v) : fallback;
    };
    c.devices = static_cast<int>(num("CUDA_EMU_DEVICES", 1));
    c.sms = static_cast<int>(num("CUDA_EMU_SMS", 4));
    c.memory = static_cast<std::size_t>(num("CUDA_EMU_MEMORY_MB", 8192)) << 20;
    const char* order = std::getenv("CUDA_EMU_ORDER");
    c.reverse = order && std::string(order) == "reverse";
    const char* reg = std::getenv("CUDA_EMU_HOST_REGISTER");
    c.refuse_register = reg && std::string(reg) == "refuse";
    return c;
  }();
  return c;
}

constexpr std::size_t kSharedDefault = 48 * 1024;
constexpr std::size_t kSharedOptin = 227 * 1024;  // sm_90
constexpr int kMaxThreads = 1024;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "cuda_emu: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();  // a device would hang, fault or corrupt memory here
}

// --- state shared by every host thread ------------------------------------
std::mutex g_mutex;                               // the maps below
std::map<std::uintptr_t, std::size_t> g_device;   // cudaMalloc: base -> bytes
std::size_t g_used = 0;
std::map<std::uintptr_t, std::size_t> g_registered;  // cudaHostRegister
std::map<const void*, int> g_max_shared;          // cudaFuncSetAttribute
std::mutex g_launch;                              // one launch at a time (static __shared__)

thread_local cudaError_t t_last = cudaSuccess;
thread_local int t_device = 0;

bool valid_device(int device) { return device >= 0 && device < config().devices; }

/// Device memory not allocated; g_mutex held.
std::size_t free_memory() { return config().memory - g_used; }

cudaError_t record(cudaError_t e) {
  if (e != cudaSuccess) t_last = e;
  return e;
}

/// [p, p + bytes) inside one device allocation.
bool in_device(const void* p, std::size_t bytes) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_device.upper_bound(a);
  if (it == g_device.begin()) return false;
  --it;
  return a >= it->first && a - it->first + bytes <= it->second;
}

void check_range(const void* p, std::size_t bytes, const char* call, const char* side) {
  if (bytes == 0) return;
  if (!in_device(p, bytes))
    fail(std::string(call) + ": the " + side + " range (" + std::to_string(bytes) +
         " bytes) is not inside one cudaMalloc allocation");
}

// --- fibers -----------------------------------------------------------------
// A fiber switch saves the callee-saved registers (System V x86-64: rbx, rbp,
// r12-r15, MXCSR and the x87 control word) on the old stack and moves rsp to
// the new one: no system call, unlike swapcontext's signal-mask save, which
// made the emulation several times slower.
extern "C" void cuda_emu_switch(void** save_sp, void* new_sp);
asm(R"(
    .text
    .globl cuda_emu_switch
    .type cuda_emu_switch, @function
cuda_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size cuda_emu_switch, .-cuda_emu_switch
)");
static_assert(sizeof(void*) == 8, "the fiber switch is x86-64 assembly");

constexpr std::size_t kStackBytes = 256 * 1024;

// AddressSanitizer must be told when the stack changes (ARCHETYPE_SANITIZE
// with ARCHETYPE_CUDA=EMU checks every kernel's memory accesses).
#if defined(__SANITIZE_ADDRESS__)
#define CUDA_EMU_ASAN 1
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old, std::size_t* size_old);
extern "C" void __asan_unpoison_memory_region(const volatile void* addr, std::size_t size);
#else
#define CUDA_EMU_ASAN 0
#endif

struct Fiber {
  enum State { Ready, AtBarrier, AtWarp, Done };
  void* sp = nullptr;  // saved stack pointer while switched out
  void* fake_stack = nullptr;  // AddressSanitizer's, while switched out
  char* stack = nullptr;
  State state = Ready;
  uint3 tid{};
  WarpOp op = WarpOp::Sync;
  unsigned mask = 0;
  unsigned long long value = 0, result = 0;
  int arg = 0;
};

struct Run {
  std::vector<Fiber> fibers;
  void* sched_sp = nullptr;
  void* sched_fake_stack = nullptr;                // AddressSanitizer's
  const void* sched_bottom = nullptr;               // the scheduler's stack, for AddressSanitizer
  std::size_t sched_size = 0;
  Fiber* current = nullptr;
  uint3 bid{};
  dim3 bdim, gdim;
  unsigned char* shared = nullptr;
  void (*body)(void*) = nullptr;
  void* arg = nullptr;
  std::string kernel;
};
Run* g_run = nullptr;  // under g_launch

char* stack_for(std::size_t i) {
  static std::vector<char*> stacks;
  while (stacks.size() <= i) {
    const long page = sysconf(_SC_PAGESIZE);
    void* m = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) fail("cannot map a fiber stack");
    mprotect(m, page, PROT_NONE);  // guard page: an overflow faults
    stacks.push_back(static_cast<char*>(m) + page);
  }
  return stacks[i];
}

/// In a fiber, after the switch to it.
void arrived_in_fiber(Fiber* f) {
#if CUDA_EMU_ASAN
  __sanitizer_finish_switch_fiber(f->fake_stack, &g_run->sched_bottom, &g_run->sched_size);
#else
  (void)f;
#endif
}
/// In a fiber, before the switch back to the scheduler (done: it never returns).
void leaving_fiber(Fiber* f, bool done) {
#if CUDA_EMU_ASAN
  __sanitizer_start_switch_fiber(done ? nullptr : &f->fake_stack, g_run->sched_bottom, g_run->sched_size);
#else
  (void)f;
  (void)done;
#endif
}

/// A fiber's first frame: entered by cuda_emu_switch's ret, as if called.
[[noreturn]] void fiber_main() {
  Run* r = g_run;
  arrived_in_fiber(r->current);
  r->body(r->arg);
  Fiber* f = r->current;
  f->state = Fiber::Done;
  leaving_fiber(f, true);
  cuda_emu_switch(&f->sp, r->sched_sp);
  fail("a finished fiber was resumed");
}

/// The initial stack of a fiber: what cuda_emu_switch pops (MXCSR and x87
/// control word of this thread, six zero registers) and fiber_main as the
/// return address, placed so that fiber_main starts with the stack
/// alignment of a called function (rsp + 8 a multiple of 16).
void* initial_stack(char* stack) {
#if CUDA_EMU_ASAN
  // The last fiber on this stack left its frames' redzones behind (it was
  // switched away from, never returned).
  __asan_unpoison_memory_region(stack, kStackBytes);
#endif
  auto top = reinterpret_cast<std::uintptr_t>(stack + kStackBytes) & ~std::uintptr_t{15};
  auto* p = reinterpret_cast<std::uint64_t*>(top);
  *--p = 0;  // fiber_main's would-be return address slot: never used
  *--p = reinterpret_cast<std::uint64_t>(&fiber_main);
  for (int i = 0; i < 6; ++i) *--p = 0;  // rbp, rbx, r12-r15
  std::uint32_t csr = 0;
  std::uint16_t cw = 0;
  asm volatile("stmxcsr %0" : "=m"(csr));
  asm volatile("fnstcw %0" : "=m"(cw));
  *--p = static_cast<std::uint64_t>(csr) | static_cast<std::uint64_t>(cw) << 32;
  return p;
}

void yield(Fiber::State s) {
  Fiber* f = g_run->current;
  if (f == nullptr) fail("a device function was called outside a kernel");
  f->state = s;
  leaving_fiber(f, false);
  cuda_emu_switch(&f->sp, g_run->sched_sp);
  arrived_in_fiber(f);
}

/// The scheduler runs fiber f until it yields or ends.
void resume(Run& r, Fiber& f) {
  r.current = &f;
#if CUDA_EMU_ASAN
  __sanitizer_start_switch_fiber(&r.sched_fake_stack, f.stack, kStackBytes);
#endif
  cuda_emu_switch(&r.sched_sp, f.sp);
#if CUDA_EMU_ASAN
  __sanitizer_finish_switch_fiber(r.sched_fake_stack, nullptr, nullptr);
#endif
  r.current = nullptr;
}

std::string where(const Run& r, std::size_t i) {
  const Fiber& f = r.fibers[i];
  return "thread (" + std::to_string(f.tid.x) + "," + std::to_string(f.tid.y) + "," + std::to_string(f.tid.z) +
         ") of block (" + std::to_string(r.bid.x) + "," + std::to_string(r.bid.y) + "," + std::to_string(r.bid.z) +
         ")";
}

/// Releases the warp collectives whose lanes have all arrived (the same
/// collective with the same mask).
bool resolve_warps(Run& r) {
  bool released = false;
  const std::size_t n = r.fibers.size();
  for (std::size_t w0 = 0; w0 < n; w0 += 32) {
    const std::size_t lanes = std::min<std::size_t>(32, n - w0);
    for (std::size_t l = 0; l < lanes; ++l) {
      Fiber& f = r.fibers[w0 + l];
      if (f.state != Fiber::AtWarp) continue;
      const unsigned mask = f.mask;
      if (!(mask >> l & 1u)) fail(r.kernel + ": a warp collective's mask excludes its own lane, " + where(r, w0 + l));
      if (lanes < 32 && (mask >> lanes) != 0)
        fail(r.kernel + ": a warp collective's mask names lanes the block does not have, " + where(r, w0 + l));
      bool all = true;
      for (std::size_t j = 0; j < lanes; ++j) {
        if (!(mask >> j & 1u)) continue;
        // A lane of the mask still busy elsewhere (running, or in another
        // group's collective: legal with independent thread scheduling) is
        // waited for; lanes that can never meet end in the deadlock report.
        const Fiber& g = r.fibers[w0 + j];
        if (g.state != Fiber::AtWarp || g.mask != mask || g.op != f.op) {
          all = false;
          break;
        }
      }
      if (!all) continue;
      unsigned sum = 0;
      for (std::size_t j = 0; j < lanes; ++j)
        if (mask >> j & 1u) sum += static_cast<unsigned>(r.fibers[w0 + j].value);
      for (std::size_t j = 0; j < lanes; ++j) {
        if (!(mask >> j & 1u)) continue;
        Fiber& g = r.fibers[w0 + j];
        switch (g.op) {
          case WarpOp::Shfl:
          case WarpOp::ShflXor: {
            const unsigned src = g.op == WarpOp::Shfl ? static_cast<unsigned>(g.arg) & 31u
                                                      : (static_cast<unsigned>(j) ^ static_cast<unsigned>(g.arg)) & 31u;
            if (!(mask >> src & 1u) || src >= lanes)
              fail(r.kernel + ": a shuffle reads lane " + std::to_string(src) + ", outside its mask, " +
                   where(r, w0 + j));
            g.result = r.fibers[w0 + src].value;
            break;
          }
          case WarpOp::ReduceAddI32: g.result = sum; break;
          case WarpOp::MatchAny: {
            unsigned m = 0;
            for (std::size_t i = 0; i < lanes; ++i)
              if ((mask >> i & 1u) && r.fibers[w0 + i].value == g.value) m |= 1u << i;
            g.result = m;
            break;
          }
          case WarpOp::Sync: g.result = 0; break;
        }
      }
      for (std::size_t j = 0; j < lanes; ++j)
        if (mask >> j & 1u) r.fibers[w0 + j].state = Fiber::Ready;
      released = true;
    }
  }
  return released;
}

void run_block(Run& r) {
  const std::size_t n = r.fibers.size();
  for (std::size_t i = 0; i < n; ++i) {
    Fiber& f = r.fibers[i];
    f.state = Fiber::Ready;
    f.tid = uint3{static_cast<unsigned>(i % r.bdim.x), static_cast<unsigned>(i / r.bdim.x % r.bdim.y),
                  static_cast<unsigned>(i / (r.bdim.x * r.bdim.y))};
    f.stack = stack_for(i);
    f.sp = initial_stack(f.stack);
    f.fake_stack = nullptr;  // the last block's fiber on this slot destroyed its own when it ended
  }
  for (;;) {
    bool ran = false;
    for (std::size_t k = 0; k < n; ++k) {
      Fiber& f = r.fibers[config().reverse ? n - 1 - k : k];
      if (f.state != Fiber::Ready) continue;
      resume(r, f);
      ran = true;
    }
    bool released = resolve_warps(r);
    std::size_t done = 0, barrier = 0, warp = 0;
    for (const Fiber& f : r.fibers) {
      done += f.state == Fiber::Done;
      barrier += f.state == Fiber::AtBarrier;
      warp += f.state == Fiber::AtWarp;
    }
    if (done == n) return;
    // Every thread of the block, none finished: a barrier that threads skip
    // by returning early is undefined behaviour in CUDA, and reported here.
    if (barrier == n) {
      for (Fiber& f : r.fibers)
        if (f.state == Fiber::AtBarrier) f.state = Fiber::Ready;
      released = true;
    }
    if (!ran && !released) {
      std::size_t first = 0;
      while (first < n && r.fibers[first].state == Fiber::Done) ++first;
      fail(r.kernel + ": deadlock, " + std::to_string(barrier) + " threads at __syncthreads, " +
           std::to_string(warp) + " at a warp collective, " + std::to_string(done) +
           " finished (a barrier or collective that not every thread reaches; first waiting: " + where(r, first) +
           ")");
    }
  }
}

}  // namespace

const uint3& thread_idx() { return g_run->current->tid; }
const uint3& block_idx() { return g_run->bid; }
const dim3& block_dim() { return g_run->bdim; }
const dim3& grid_dim() { return g_run->gdim; }
unsigned char* dynamic_shared() { return g_run->shared; }
void sync_threads() { yield(Fiber::AtBarrier); }

unsigned long long warp_collective(WarpOp op, unsigned mask, unsigned long long value, int arg) {
  Fiber* f = g_run ? g_run->current : nullptr;
  if (f == nullptr) fail("a warp collective was called outside a kernel");
  f->op = op;
  f->mask = mask;
  f->value = value;
  f->arg = arg;
  yield(Fiber::AtWarp);
  return f->result;
}

cudaError_t set_max_dynamic_shared(const void* kernel, int bytes) {
  if (bytes < 0 || static_cast<std::size_t>(bytes) > kSharedOptin) return record(cudaErrorInvalidValue);
  std::lock_guard<std::mutex> lock(g_mutex);
  g_max_shared[kernel] = bytes;
  return cudaSuccess;
}

void run_grid(const LaunchShape& s, void (*body)(void*), void* arg) {
  const unsigned long long threads = 1ull * s.block.x * s.block.y * s.block.z;
  if (threads == 0 || threads > kMaxThreads || s.block.z > 64 || s.grid.x == 0 || s.grid.y == 0 || s.grid.z == 0 ||
      s.grid.y > 65535 || s.grid.z > 65535 || s.grid.x > 2147483647u) {
    record(cudaErrorInvalidConfiguration);
    return;
  }
  if (s.max_threads > 0 && threads > static_cast<unsigned long long>(s.max_threads)) {
    record(cudaErrorLaunchOutOfResources);  // more threads than __launch_bounds__ compiled for
    return;
  }
  std::size_t allowed = kSharedDefault;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_max_shared.find(s.kernel);
    if (it != g_max_shared.end()) allowed = std::max<std::size_t>(allowed, static_cast<std::size_t>(it->second));
  }
  if (s.shared_bytes > allowed) {
    record(cudaErrorInvalidValue);  // "too many resources requested for launch"
    return;
  }
  std::lock_guard<std::mutex> lock(g_launch);
  Run r;
  r.fibers.resize(threads);
  r.bdim = s.block;
  r.gdim = s.grid;
  r.body = body;
  r.arg = arg;
  r.kernel = s.name;
  // Exactly the launch's bytes, 16-aligned as the kernels' __align__(16) asks.
  void* shared = nullptr;
  if (posix_memalign(&shared, 16, std::max<std::size_t>(s.shared_bytes, 1)) != 0) fail("out of host memory");
  std::unique_ptr<void, void (*)(void*)> shared_owner(shared, std::free);
  r.shared = static_cast<unsigned char*>(shared);
  g_run = &r;
  for (unsigned z = 0; z < s.grid.z; ++z)
    for (unsigned y = 0; y < s.grid.y; ++y)
      for (unsigned x = 0; x < s.grid.x; ++x) {
        r.bid = uint3{x, y, z};
        std::memset(r.shared, 0xFF, s.shared_bytes);  // uninitialised: NaN floats, -1 integers
        run_block(r);
      }
  g_run = nullptr;
}

}  // namespace cuda_emu

using namespace cuda_emu;

cudaError_t cudaGetDeviceCount(int* count) {
  if (config().devices <= 0) {
    *count = 0;
    return record(cudaErrorNoDevice);
  }
  *count = config().devices;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (!valid_device(device)) return record(cudaErrorInvalidDevice);
  t_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = t_device;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (!valid_device(device)) return record(cudaErrorInvalidDevice);
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "CUDA emulator on the CPU (device %d)", device);
  for (int i = 0; i < 16; ++i) p->uuid.bytes[i] = static_cast<char>(0x40 + i + 16 * device);
  p->totalGlobalMem = config().memory;
  p->sharedMemPerBlock = kSharedDefault;
  p->sharedMemPerBlockOptin = kSharedOptin;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = kMaxThreads;
  p->maxThreadsDim[0] = p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 2147483647;
  p->maxGridSize[1] = p->maxGridSize[2] = 65535;
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = config().sms;
  p->pciBusID = 0x10 + device;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!valid_device(device)) return record(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = kMaxThreads; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(kSharedDefault); return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(kSharedOptin); return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = config().sms; return cudaSuccess;
  }
  return record(cudaErrorInvalidValue);
}
cudaError_t cudaDeviceGetPCIBusId(char* bus, int len, int device) {
  if (!valid_device(device)) return record(cudaErrorInvalidDevice);
  std::snprintf(bus, static_cast<std::size_t>(len), "0000:%02x:00.0", 0x10 + device);
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes) {
  std::lock_guard<std::mutex> lock(g_mutex);
  *total_bytes = config().memory;
  *free_bytes = free_memory();
  return cudaSuccess;
}
cudaError_t cudaMalloc(void** p, std::size_t bytes) {
  *p = nullptr;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (bytes > free_memory()) return record(cudaErrorMemoryAllocation);
  void* m = nullptr;  // exactly `bytes` (256-aligned like cudaMalloc): an overrun is a heap overflow
  if (posix_memalign(&m, 256, std::max<std::size_t>(bytes, 1)) != 0) return record(cudaErrorMemoryAllocation);
  std::memset(m, 0xA5, bytes);  // device memory starts with garbage
  g_device[reinterpret_cast<std::uintptr_t>(m)] = bytes;
  g_used += bytes;
  *p = m;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (p == nullptr) return cudaSuccess;
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_device.find(reinterpret_cast<std::uintptr_t>(p));
  if (it == g_device.end()) fail("cudaFree of a pointer cudaMalloc did not return");
  g_used -= it->second;
  g_device.erase(it);
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** p, std::size_t bytes) {
  *p = std::malloc(std::max<std::size_t>(bytes, 1));
  return *p ? cudaSuccess : record(cudaErrorMemoryAllocation);
}
cudaError_t cudaHostAlloc(void** p, std::size_t bytes, unsigned) { return cudaMallocHost(p, bytes); }
cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaHostRegister(void* p, std::size_t bytes, unsigned) {
  if (config().refuse_register) return record(cudaErrorNotSupported);
  std::lock_guard<std::mutex> lock(g_mutex);
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  auto it = g_registered.upper_bound(a + bytes - 1);
  if (it != g_registered.begin()) {
    --it;
    if (it->first + it->second > a) return record(cudaErrorHostMemoryAlreadyRegistered);
  }
  g_registered[a] = bytes;
  return cudaSuccess;
}
cudaError_t cudaHostUnregister(void* p) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_registered.erase(reinterpret_cast<std::uintptr_t>(p)) == 0) return record(cudaErrorHostMemoryNotRegistered);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  return cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  if (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice)
    check_range(dst, bytes, "cudaMemcpyAsync", "destination");
  if (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice)
    check_range(src, bytes, "cudaMemcpyAsync", "source");
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemset(void* p, int value, std::size_t bytes) { return cudaMemsetAsync(p, value, bytes, nullptr); }
cudaError_t cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t) {
  check_range(p, bytes, "cudaMemsetAsync", "destination");
  if (bytes) std::memset(p, value, bytes);
  return cudaSuccess;
}
// Streams and events: every call completes before it returns, so they
// only need to be distinct, owned handles (a leak shows under LeakSanitizer).
template <typename Handle>
cudaError_t create_handle(Handle* h) {
  *h = reinterpret_cast<Handle>(new char);
  return cudaSuccess;
}
template <typename Handle>
cudaError_t destroy_handle(Handle h) {
  delete reinterpret_cast<char*>(h);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return create_handle(s); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { return create_handle(s); }
cudaError_t cudaStreamDestroy(cudaStream_t s) { return destroy_handle(s); }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned) { return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t* e) { return create_handle(e); }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned) { return create_handle(e); }
cudaError_t cudaEventDestroy(cudaEvent_t e) { return destroy_handle(e); }
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaGetLastError() {
  const cudaError_t e = t_last;
  t_last = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return t_last; }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorHostMemoryAlreadyRegistered: return "cudaErrorHostMemoryAlreadyRegistered";
    case cudaErrorHostMemoryNotRegistered: return "cudaErrorHostMemoryNotRegistered";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorDevicesUnavailable: return "cudaErrorDevicesUnavailable";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "cudaErrorUnknown";
}
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected (CUDA emulator)";
    default: return "error (CUDA emulator)";
  }
}
