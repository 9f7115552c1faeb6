// A stand-in libnccl.so.2 for the CUDA emulator (docs/CUDA_EMULATION.md):
// the six calls src/dist/nccl_communicator.cpp opens with dlopen, with
// NCCL's documented semantics for what Archetype uses (an in-place int64
// sum over all ranks), between the processes of one machine through POSIX
// shared memory.  It lets the NCCL path (the vote, the start-up over the
// MPI world, the all-reduces, the teardown) run under mpirun on emulated
// GPUs; it says nothing about NCCL itself.
//
// Faults, for the tests: ARCHETYPE_FAKE_NCCL_FAIL=init:R makes rank R's
// ncclCommInitRank fail; allreduce:R:N its N-th ncclAllReduce (from 1).
//
// The unique id names a shared-memory segment; rank 0 creates it.  A
// segment holds a process-shared barrier and one slot of kSlotValues int64
// per rank: each rank copies its buffer into its slot, all meet, each sums
// the slots in rank order into its buffer, all meet again.
#include <fcntl.h>
#include <nccl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

namespace {

constexpr std::size_t kSlotValues = std::size_t{1} << 22;  // 32 MiB a rank (sparse until written)

struct Header {
  pthread_barrier_t barrier;
  int ready;  // set by rank 0 once the barrier is initialised
  int nranks;
};

struct Comm {
  int fd = -1;
  int rank = 0, nranks = 0;
  long reductions = 0;
  std::size_t bytes = 0;
  Header* header = nullptr;
  std::int64_t* slots = nullptr;
  char name[NCCL_UNIQUE_ID_BYTES] = {};
};

/// Whether the fault of ARCHETYPE_FAKE_NCCL_FAIL fires for this call:
/// `what` on `rank`, at its `call`-th time (init: always the first).
bool fault(const char* what, int rank, long call) {
  const char* spec = std::getenv("ARCHETYPE_FAKE_NCCL_FAIL");
  if (spec == nullptr) return false;
  char kind[32] = {};
  int r = -1;
  long n = 1;
  if (std::sscanf(spec, "%31[a-z]:%d:%ld", kind, &r, &n) < 2) return false;
  return std::strcmp(kind, what) == 0 && r == rank && n == call;
}

std::size_t segment_bytes(int nranks) {
  return 4096 + static_cast<std::size_t>(nranks) * kSlotValues * sizeof(std::int64_t);
}

}  // namespace

struct ncclComm : Comm {};

extern "C" {

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  std::memset(id, 0, sizeof *id);
  std::random_device rd;
  std::snprintf(id->internal, sizeof id->internal, "/archetype_fake_nccl_%d_%08x%08x", static_cast<int>(getpid()),
                rd(), rd());
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* out, int nranks, ncclUniqueId id, int rank) {
  if (nranks < 1 || rank < 0 || rank >= nranks || id.internal[0] != '/') return ncclInvalidArgument;
  if (fault("init", rank, 1)) return ncclSystemError;
  auto* c = new ncclComm;
  c->rank = rank;
  c->nranks = nranks;
  c->bytes = segment_bytes(nranks);
  std::memcpy(c->name, id.internal, sizeof c->name);
  c->name[sizeof c->name - 1] = '\0';
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  if (rank == 0) {
    c->fd = shm_open(c->name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (c->fd < 0 || ftruncate(c->fd, static_cast<off_t>(c->bytes)) != 0) return ncclSystemError;
  } else {
    while ((c->fd = shm_open(c->name, O_RDWR, 0600)) < 0) {  // rank 0 may not have created it yet
      if (std::chrono::steady_clock::now() > deadline) return ncclSystemError;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  void* m = MAP_FAILED;
  while (true) {  // rank 0 sizes the segment; mapping before that would map nothing
    struct stat st {};
    if (fstat(c->fd, &st) == 0 && static_cast<std::size_t>(st.st_size) == c->bytes) {
      m = mmap(nullptr, c->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) return ncclSystemError;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (m == MAP_FAILED) return ncclSystemError;
  c->header = static_cast<Header*>(m);
  c->slots = reinterpret_cast<std::int64_t*>(static_cast<char*>(m) + 4096);
  if (rank == 0) {
    pthread_barrierattr_t attr;
    pthread_barrierattr_init(&attr);
    pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_barrier_init(&c->header->barrier, &attr, static_cast<unsigned>(nranks));
    c->header->nranks = nranks;
    __atomic_store_n(&c->header->ready, 1, __ATOMIC_RELEASE);
  } else {
    while (__atomic_load_n(&c->header->ready, __ATOMIC_ACQUIRE) == 0) {
      if (std::chrono::steady_clock::now() > deadline) return ncclSystemError;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (c->header->nranks != nranks) return ncclInvalidUsage;
  }
  pthread_barrier_wait(&c->header->barrier);  // every rank is in: rank 0 may unlink the name
  if (rank == 0) shm_unlink(c->name);
  *out = c;
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* send, void* recv, size_t count, ncclDataType_t type, ncclRedOp_t op,
                           ncclComm_t c, cudaStream_t) {
  if (type != ncclInt64 || op != ncclSum) return ncclInvalidArgument;  // all Archetype asks for
  if (count > kSlotValues) return ncclInvalidArgument;
  if (fault("allreduce", c->rank, ++c->reductions)) return ncclSystemError;
  std::memcpy(c->slots + static_cast<std::size_t>(c->rank) * kSlotValues, send, count * sizeof(std::int64_t));
  pthread_barrier_wait(&c->header->barrier);
  auto* out = static_cast<std::int64_t*>(recv);
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t s = 0;  // wraps like NCCL's integer sum
    for (int r = 0; r < c->nranks; ++r) s += static_cast<std::uint64_t>(c->slots[static_cast<std::size_t>(r) * kSlotValues + i]);
    out[i] = static_cast<std::int64_t>(s);
  }
  pthread_barrier_wait(&c->header->barrier);  // nobody overwrites a slot still being read
  return ncclSuccess;
}

static void release(ncclComm_t c) {
  if (c->header) munmap(c->header, c->bytes);
  if (c->fd >= 0) close(c->fd);
  delete c;
}

// No barrier: the last all-reduce's second one already kept every rank
// from leaving while another read its slot.
ncclResult_t ncclCommDestroy(ncclComm_t c) {
  if (c != nullptr) release(c);
  return ncclSuccess;
}

ncclResult_t ncclCommAbort(ncclComm_t c) {
  if (c != nullptr) release(c);
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t r) {
  switch (r) {
    case ncclSuccess: return "no error";
    case ncclSystemError: return "system error (fake NCCL: shared memory)";
    case ncclInvalidArgument: return "invalid argument (fake NCCL: only in-place-able int64 sums)";
    case ncclInvalidUsage: return "invalid usage";
    default: return "error (fake NCCL)";
  }
}

}  // extern "C"
