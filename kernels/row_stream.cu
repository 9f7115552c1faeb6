#include "row_stream.cuh"

#include <algorithm>

#include "kernels.cuh"

namespace archetype::cuda {
namespace {

/// Page-locks host memory that the copies only read, so that the chunk
/// copies are asynchronous DMA; returns whether this call registered it
/// (release unregisters only that).  Memory mapped read-only (a NumPy
/// array from np.load(mmap_mode="r"), bound in place) refuses the default
/// registration: registered read-only then, where the device supports it.
/// Memory already page-locked (cudaHostAlloc'd, pinned by a framework, or
/// by another binding) needs nothing; where the driver refuses both (a
/// range too large to lock), the copies run from pageable memory: the same
/// bytes, without the overlap.
bool pin(void* p, std::size_t bytes) {
  const cudaError_t e = cudaHostRegister(p, bytes, cudaHostRegisterDefault);
  if (e == cudaSuccess) return true;
  cudaGetLastError();  // a refusal must not surface at the next launch check
  if (e == cudaErrorHostMemoryAlreadyRegistered) return false;
  if (cudaHostRegister(p, bytes, cudaHostRegisterReadOnly) == cudaSuccess) return true;
  cudaGetLastError();
  return false;
}

}  // namespace

void RowStream::bind(const float* host, const std::int32_t* weights, std::size_t n, std::size_t d,
                     std::size_t chunk_rows, cudaStream_t stream) {
  release();
  host_ = host;
  host_weights_ = weights;
  n_ = n;
  d_ = d;
  stream_ = stream;
  chunk_ = chunk_rows >= n ? 0 : chunk_rows;
  if (!streaming()) {
    x_.allocate(n * d);
    labels_.allocate(n);
    x_.upload(host, n * d, stream);
    if (weights) {
      w_.allocate(n);
      w_.upload(weights, n, stream);
    }
    return;
  }
  // Pinned host memory, so that the chunk copies are true asynchronous DMA
  // that overlaps with the kernels.
  registered_ = pin(const_cast<float*>(host), n * d * sizeof(float));
  if (weights) weights_registered_ = pin(const_cast<std::int32_t*>(weights), n * sizeof(std::int32_t));
  void* labels = nullptr;
  CUDA_CHECK(cudaMallocHost(&labels, n * sizeof(std::int32_t)));
  host_labels_ = static_cast<std::int32_t*>(labels);
  CUDA_CHECK(cudaStreamCreateWithFlags(&copy_, cudaStreamNonBlocking));
  for (int b = 0; b < 2; ++b) {
    xbuf_[b].allocate(chunk_ * d);
    lbuf_[b].allocate(chunk_);
    if (weights) wbuf_[b].allocate(chunk_);
    CUDA_CHECK(cudaEventCreateWithFlags(&loaded_[b], cudaEventDisableTiming));
    CUDA_CHECK(cudaEventCreateWithFlags(&done_[b], cudaEventDisableTiming));
    CUDA_CHECK(cudaEventRecord(done_[b], stream_));  // both buffers start free
  }
}

void RowStream::reset_labels() {
  if (!streaming()) {
    CUDA_CHECK(cudaMemsetAsync(labels_.data(), 0xFF, n_ * sizeof(std::int32_t), stream_));
    return;
  }
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::fill(host_labels_, host_labels_ + n_, -1);
}

void RowStream::copy_labels(std::int32_t* out) {
  if (!streaming()) {
    labels_.download(out, n_, stream_);
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    return;
  }
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::copy(host_labels_, host_labels_ + n_, out);
}

void RowStream::gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out) {
  if (m == 0) return;
  if (streaming()) {
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    for (std::size_t i = 0; i < m; ++i) out[i] = host_labels_[rows[i]];
    return;
  }
  DeviceBuffer<unsigned long long> drows(m);
  DeviceBuffer<std::int32_t> dout(m);
  static_assert(sizeof(std::size_t) == sizeof(unsigned long long), "row indices are 64-bit");
  drows.upload(reinterpret_cast<const unsigned long long*>(rows), m, stream_);
  launch_gather_labels(labels_.data(), drows.data(), m, dout.data(), stream_);
  dout.download(out, m, stream_);
  CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void RowStream::drain() noexcept {
  if (copy_) cudaStreamSynchronize(copy_);
  if (stream_) cudaStreamSynchronize(stream_);
  cudaGetLastError();
}

void RowStream::release() noexcept {
  // Never throws (destructor path): errors here are ignored.  A pass that
  // threw (a failed launch, an injected fault) may have left the next
  // chunk's copy or a label copy-back queued: wait for both streams before
  // the pinned memory they read and write is unpinned and freed.
  drain();
  if (registered_) cudaHostUnregister(const_cast<float*>(host_));
  registered_ = false;
  if (weights_registered_) cudaHostUnregister(const_cast<std::int32_t*>(host_weights_));
  weights_registered_ = false;
  if (host_labels_) cudaFreeHost(host_labels_);
  host_labels_ = nullptr;
  for (int b = 0; b < 2; ++b) {
    if (loaded_[b]) cudaEventDestroy(loaded_[b]);
    if (done_[b]) cudaEventDestroy(done_[b]);
    loaded_[b] = done_[b] = nullptr;
    xbuf_[b] = DeviceBuffer<float>();
    lbuf_[b] = DeviceBuffer<std::int32_t>();
    wbuf_[b] = DeviceBuffer<std::int32_t>();
  }
  if (copy_) cudaStreamDestroy(copy_);
  copy_ = nullptr;
  x_ = DeviceBuffer<float>();
  labels_ = DeviceBuffer<std::int32_t>();
  w_ = DeviceBuffer<std::int32_t>();
  chunk_ = 0;
  stream_ = nullptr;
}

}  // namespace archetype::cuda
