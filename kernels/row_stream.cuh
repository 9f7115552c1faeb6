// RowStream: where the CUDA backend's rows (with their sample weights, and
// the stored labels) live, and the one way its passes visit them.  Resident mode: everything on the device,
// one chunk.  Streaming mode, for data larger than the free GPU memory: the
// rows stay in (pinned) host memory and each pass streams them through two
// device buffers, copying chunk c + 1 on a copy stream while the kernels
// work on chunk c (double buffering).  Every pass returns exact integer sums
// (atomics into accumulators that persist across chunks), so streaming
// gives the same bits as the resident path.  Private to kernels/.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cuda_check.cuh"
#include "device_buffer.cuh"

namespace archetype::cuda {

class RowStream {
 public:
  RowStream() = default;
  ~RowStream() { release(); }
  RowStream(const RowStream&) = delete;
  RowStream& operator=(const RowStream&) = delete;

  /// Binds n x d host rows and their n quantized weights (null: none, every
  /// row 1).  chunk_rows == 0: resident (the rows and weights are uploaded
  /// once); otherwise streamed in chunks of that many rows, the weights
  /// with them.
  void bind(const float* host, const std::int32_t* weights, std::size_t n, std::size_t d, std::size_t chunk_rows,
            cudaStream_t stream);

  bool streaming() const { return chunk_ > 0; }
  std::size_t chunk_rows() const { return chunk_ > 0 ? chunk_ : n_; }

  /// For each chunk in row order: fn(rows on the device, first row, row
  /// count, its labels on the device or nullptr, its weights on the device
  /// or nullptr when there are none), on `stream_`.  With
  /// labels_in the chunk's stored labels are on the device for fn; with
  /// labels_out fn's changes to them are kept.  Returns after the last
  /// chunk is enqueued (resident) or processed (streaming).
  template <typename Fn>
  void for_each_chunk(bool labels_in, bool labels_out, Fn&& fn) {
    if (!streaming()) {
      fn(static_cast<const float*>(x_.data()), std::size_t{0}, n_, labels_.data(), weights());
      return;
    }
    const std::size_t chunks = (n_ + chunk_ - 1) / chunk_;
    auto rows_of = [&](std::size_t c) { return c + 1 < chunks ? chunk_ : n_ - c * chunk_; };
    auto load = [&](std::size_t c) {
      const int b = static_cast<int>(c % 2);
      // The buffer's previous chunk must be done (kernels and label copy-back).
      CUDA_CHECK(cudaStreamWaitEvent(copy_, done_[b], 0));
      CUDA_CHECK(cudaMemcpyAsync(xbuf_[b].data(), host_ + c * chunk_ * d_, rows_of(c) * d_ * sizeof(float),
                                 cudaMemcpyHostToDevice, copy_));
      if (host_weights_)
        CUDA_CHECK(cudaMemcpyAsync(wbuf_[b].data(), host_weights_ + c * chunk_, rows_of(c) * sizeof(std::int32_t),
                                   cudaMemcpyHostToDevice, copy_));
      if (labels_in)
        CUDA_CHECK(cudaMemcpyAsync(lbuf_[b].data(), host_labels_ + c * chunk_, rows_of(c) * sizeof(std::int32_t),
                                   cudaMemcpyHostToDevice, copy_));
      CUDA_CHECK(cudaEventRecord(loaded_[b], copy_));
    };
    try {
      load(0);
      for (std::size_t c = 0; c < chunks; ++c) {
        const int b = static_cast<int>(c % 2);
        if (c + 1 < chunks) load(c + 1);  // overlaps with the kernels on chunk c
        CUDA_CHECK(cudaStreamWaitEvent(stream_, loaded_[b], 0));
        fn(static_cast<const float*>(xbuf_[b].data()), c * chunk_, rows_of(c), lbuf_[b].data(),
           host_weights_ ? static_cast<const std::int32_t*>(wbuf_[b].data()) : nullptr);
        if (labels_out)
          CUDA_CHECK(cudaMemcpyAsync(host_labels_ + c * chunk_, lbuf_[b].data(), rows_of(c) * sizeof(std::int32_t),
                                     cudaMemcpyDeviceToHost, stream_));
        CUDA_CHECK(cudaEventRecord(done_[b], stream_));
      }
    } catch (...) {
      // Cut short (a failed launch, an injected fault): a chunk's kernels
      // may be queued without their done_ event, so the next pass's copy
      // into that buffer could overtake them.
      drain();
      throw;
    }
    CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  /// All stored labels to -1.
  void reset_labels();
  /// Stored labels to host memory (n values).
  void copy_labels(std::int32_t* out);
  /// Stored labels of some rows.
  void gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out);
  /// The bound weights in host memory, or null.
  const std::int32_t* host_weights() const { return host_weights_; }

  /// Waits for the copies and kernels still in flight on its streams (a
  /// pass cut short by an error leaves some), then frees and unpins
  /// everything; never throws.  The owner calls it before destroying the
  /// stream it bound with.
  void release() noexcept;

 private:
  /// Waits for everything queued on both streams; never throws (the
  /// waits' own errors are cleared, so that they do not surface at the
  /// next launch check).
  void drain() noexcept;
  const std::int32_t* weights() const { return host_weights_ ? w_.data() : nullptr; }

  const float* host_ = nullptr;
  const std::int32_t* host_weights_ = nullptr;  // the bound weights (not owned), or null
  std::size_t n_ = 0, d_ = 0, chunk_ = 0;
  cudaStream_t stream_ = nullptr, copy_ = nullptr;
  // Resident mode.
  DeviceBuffer<float> x_;
  DeviceBuffer<std::int32_t> labels_, w_;
  // Streaming mode.
  DeviceBuffer<float> xbuf_[2];
  DeviceBuffer<std::int32_t> lbuf_[2], wbuf_[2];
  cudaEvent_t loaded_[2] = {nullptr, nullptr}, done_[2] = {nullptr, nullptr};
  bool registered_ = false;            // host_ page-locked by cudaHostRegister
  bool weights_registered_ = false;    // host_weights_ page-locked too
  std::int32_t* host_labels_ = nullptr;  // cudaMallocHost'ed n labels
};

}  // namespace archetype::cuda
