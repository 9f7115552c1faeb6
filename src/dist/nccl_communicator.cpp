// The NCCL communicator (built with the CUDA backend, MPI and nccl.h from
// /usr/local/cuda): one rank per GPU; the exact int64 sums of every pass
// go through ncclAllReduce (ncclInt64, ncclSum) on this rank's device,
// everything else through the MPI world it wraps.  Integer sums are exact,
// so NCCL's ring or tree order gives the bits MPI or one process gives.
//
// The passes hand their sums to the host (PassSums), so each sum is copied
// to a device buffer, reduced there and copied back: the buffer (the
// kernels' DeviceBuffer, the one owner of cudaMalloc; CUDA_CHECK on every
// call) grows to the largest sum seen (a sweep's batch, k d + k + 1
// integers per model) and is reused; nothing else is allocated per call.
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "archetype/error.hpp"
#include "dist/gpu_ranks.hpp"
#include "kernels/cuda_check.cuh"
#include "kernels/device_buffer.cuh"

namespace archetype {
namespace {

/// libnccl.so.2, opened at the first use: the binary does not need NCCL
/// (200 MB) to start, and a machine without it sums over MPI.
struct NcclApi {
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclCommAbort) comm_abort = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
  std::string missing;  ///< why it cannot be used; empty when loaded

  static const NcclApi& get() {
    static const NcclApi api = load();
    return api;
  }

 private:
  static NcclApi load() {
    NcclApi a;
    void* lib = ::dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      a.missing = std::string("cannot load libnccl.so.2 (") + ::dlerror() + ")";
      return a;
    }
    const auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
      if (!fn && a.missing.empty()) a.missing = std::string("libnccl.so.2 lacks ") + name;
    };
    sym(a.get_unique_id, "ncclGetUniqueId");
    sym(a.comm_init_rank, "ncclCommInitRank");
    sym(a.all_reduce, "ncclAllReduce");
    sym(a.comm_destroy, "ncclCommDestroy");
    sym(a.comm_abort, "ncclCommAbort");
    sym(a.error_string, "ncclGetErrorString");
    return a;
  }
};

void nccl_ok(ncclResult_t r, const char* what) {
  if (r != ncclSuccess)
    throw DeviceError(std::string("NCCL ") + what + " failed: " + NcclApi::get().error_string(r));
}

class NcclCommunicator final : public Communicator {
 public:
  /// Starts NCCL over `world` (rank 0's id broadcast on it) without taking
  /// it: when this throws, the caller still holds the world and can end
  /// the whole job with it (MPI_Abort).  Destroying the world here, while
  /// unwinding, would finalize MPI, which waits for the other ranks, which
  /// wait in the broadcast or in NCCL's start-up for this one.
  NcclCommunicator(Communicator& world, int device) : api_(NcclApi::get()), device_(device) {
    if (!api_.missing.empty()) throw DeviceError("NCCL: " + api_.missing);
    CUDA_CHECK(cudaSetDevice(device_));
    ncclUniqueId id{};
    // Rank 0 broadcasts whatever it has: a failed GetUniqueId there still
    // answers the others' broadcast before it throws.
    const ncclResult_t got = world.rank() == 0 ? api_.get_unique_id(&id) : ncclSuccess;
    world.broadcast(&id, sizeof id, 0);
    nccl_ok(got, "GetUniqueId");
    nccl_ok(api_.comm_init_rank(&comm_, world.size(), id, world.rank()), "CommInitRank");
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  /// Takes the world once NCCL is up: every call but the int64 sums goes to it.
  void adopt(std::unique_ptr<Communicator> world) { world_ = std::move(world); }
  ~NcclCommunicator() override {
    cudaSetDevice(device_);  // the buffer and stream live there (the current device is per thread)
    buffer_ = cuda::DeviceBuffer<std::int64_t>();  // before its stream goes
    if (stream_) cudaStreamDestroy(stream_);
    if (comm_) api_.comm_destroy(comm_);
  }

  int rank() const override { return world_->rank(); }
  int size() const override { return world_->size(); }

  void allreduce_sum(std::int64_t* values, std::size_t count) override {
    if (count == 0) return;
    const auto t0 = std::chrono::steady_clock::now();
    CUDA_CHECK(cudaSetDevice(device_));  // the current device is per thread, and cuda_probe changes it
    buffer_.reserve(count);  // grows to the largest sum, then stays
    buffer_.upload(values, count, stream_);
    nccl_ok(api_.all_reduce(buffer_.data(), buffer_.data(), count, ncclInt64, ncclSum, comm_, stream_), "AllReduce");
    buffer_.download(values, count, stream_);
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  void allgather(const void* send, std::size_t bytes, void* out) override { world_->allgather(send, bytes, out); }
  void allgatherv(const void* send, const std::size_t* counts, void* out) override {
    world_->allgatherv(send, counts, out);
  }
  void broadcast(void* data, std::size_t bytes, int root) override { world_->broadcast(data, bytes, root); }
  void send(const void* data, std::size_t bytes, int to) override { world_->send(data, bytes, to); }
  void receive(void* data, std::size_t bytes, int from) override { world_->receive(data, bytes, from); }
  void barrier() override { world_->barrier(); }
  bool barrier_for(double seconds) override { return world_->barrier_for(seconds); }
  [[noreturn]] void abort(int status) override {
    if (comm_) api_.comm_abort(comm_);
    comm_ = nullptr;
    world_->abort(status);
    std::_Exit(status);  // not reached: the world's abort ends the process
  }
  std::string host() const override { return world_->host(); }
  std::string sums_over() const override { return "nccl"; }
  double communication_seconds() const override { return seconds_ + world_->communication_seconds(); }

 private:
  const NcclApi& api_;
  std::unique_ptr<Communicator> world_;
  int device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cuda::DeviceBuffer<std::int64_t> buffer_;
  double seconds_ = 0.0;
};

}  // namespace

bool nccl_built() { return true; }

bool nccl_loadable() { return NcclApi::get().missing.empty(); }

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator>& world, int device) {
  auto nccl = std::make_unique<NcclCommunicator>(*world, device);  // throws with `world` still the caller's
  nccl->adopt(std::move(world));
  return nccl;
}

}  // namespace archetype
