// The CUDA backend: owns the device copies of the data and all scratch
// (sized once in bind), runs the kernels on its own stream, and returns the
// same exact integer sums as the CPU backend.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <thrust/binary_search.h>
#include <thrust/execution_policy.h>
#include <thrust/sequence.h>

#include <algorithm>
#include <string>
#include <vector>

#include "archetype/cuda.hpp"
#include "archetype/error.hpp"
#include "cpu_silhouette.hpp"
#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "kernels.cuh"

namespace archetype {
namespace {

using cuda::DeviceBuffer;

std::string mib(std::size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
    CUDA_CHECK(cudaSetDevice(device_));
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
    name_ = prop.name;
    sms_ = prop.multiProcessorCount;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  ~CudaBackend() override {
    if (stream_) cudaStreamDestroy(stream_);
  }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda"; }
  std::string device() const override { return name_; }

  void bind(const Matrix& X, const FixedPoint& fp, int k_max) override {
    CUDA_CHECK(cudaSetDevice(device_));
    host_ = &X;
    fp_ = fp;
    n_ = X.rows;
    d_ = X.cols;
    k_max_ = std::max(k_max, 1);
    const int kd = k_max_;
    if (cuda::tile_shared_bytes(kd, static_cast<int>(d_), static_cast<int>(std::max<std::size_t>(d_, 2)), nullptr) == 0)
      throw DeviceError("k = " + std::to_string(kd) + " with " + std::to_string(d_) +
                       " features does not fit the CUDA kernels' shared memory; use --backend cpu");
    std::size_t free_bytes = 0, total_bytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    const std::size_t need = cuda_bytes_needed(n_, d_, k_max_);
    if (need > free_bytes)
      throw DeviceError("the data need " + mib(need) + " of GPU memory but " + name_ + " has " + mib(free_bytes) +
                       " free; use --backend cpu");
    x_.allocate(n_ * d_);
    labels_.allocate(n_);
    closest_.allocate(n_);
    prefix_.allocate(n_);
    acc_.allocate(static_cast<std::size_t>(k_max_) * (std::max<std::size_t>(d_, 2) + 1) + 2 + cuda::kMaxTrials);
    centers_.allocate(static_cast<std::size_t>(std::max(k_max_, cuda::kMaxTrials)) * d_);
    targets_.allocate(cuda::kMaxTrials);
    rows_.allocate(cuda::kMaxTrials);
    std::size_t scan_bytes = 0;
    CUDA_CHECK(cub::DeviceScan::InclusiveSum(nullptr, scan_bytes, prefix_.data(), prefix_.data(), static_cast<int64_t>(n_),
                                             stream_));
    scan_tmp_.allocate(std::max<std::size_t>(scan_bytes, 1));
    x_.upload(X.values.data(), n_ * d_, stream_);
    acc_host_.assign(acc_.size(), 0);
    grid_ = std::max(1, std::min<int>(sms_ * 4, static_cast<int>((n_ + 255) / 256)));
    reset_labels();
    sync();
  }

  void reset_labels() override { CUDA_CHECK(cudaMemsetAsync(labels_.data(), 0xFF, n_ * sizeof(std::int32_t), stream_)); }

  void lloyd_pass(const float* centers, int k, PassSums& out) override {
    check_k(k);
    const std::size_t kk = static_cast<std::size_t>(k), kd = kk * d_, count = kk + kd + 2;
    centers_.upload(centers, kd, stream_);
    acc_.zero(count, stream_);
    cuda::launch_lloyd_pass(x_.data(), n_, static_cast<int>(d_), centers_.data(), k, fp_.feature_scale(),
                            fp_.dist_scale(), labels_.data(), acc_.data(), grid_, stream_);
    fetch_acc(count);
    out.resize(kk, d_);
    for (std::size_t c = 0; c < kk; ++c) out.counts[c] = as_signed(acc_host_[c]);
    for (std::size_t i = 0; i < kd; ++i) out.sums[i] = as_signed(acc_host_[kk + i]);
    out.inertia_q = as_signed(acc_host_[kk + kd]);
    out.changed = as_signed(acc_host_[kk + kd + 1]);
  }

  void farthest_rows(const float* centers, int k, int m, std::int64_t* out_rows, std::int32_t* out_labels) override {
    check_k(k);
    // Rare path (empty clusters): distances on the device, selection on the
    // host with the CPU backend's rule.
    centers_.upload(centers, static_cast<std::size_t>(k) * d_, stream_);
    cuda::launch_assigned_distances(x_.data(), n_, static_cast<int>(d_), centers_.data(), labels_.data(),
                                    closest_.data(), grid_, stream_);
    std::vector<float> d2(n_);
    std::vector<std::int32_t> labels(n_);
    closest_.download(d2.data(), n_, stream_);
    labels_.download(labels.data(), n_, stream_);
    sync();
    select_farthest(d2.data(), n_, m, out_rows);
    for (int i = 0; i < m; ++i) out_labels[i] = labels[static_cast<std::size_t>(out_rows[i])];
  }

  void copy_labels(std::int32_t* out) const override {
    // On the backend's stream: it does not synchronise with the legacy
    // default stream (cudaStreamNonBlocking).
    CUDA_CHECK(cudaMemcpyAsync(out, labels_.data(), n_ * sizeof(std::int32_t), cudaMemcpyDeviceToHost, stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out) const override {
    if (m == 0) return;
    DeviceBuffer<unsigned long long> drows(m);
    DeviceBuffer<std::int32_t> dout(m);
    static_assert(sizeof(std::size_t) == sizeof(unsigned long long), "row indices are 64-bit");
    drows.upload(reinterpret_cast<const unsigned long long*>(rows), m, stream_);
    cuda::launch_gather_labels(labels_.data(), drows.data(), m, dout.data(), stream_);
    dout.download(out, m, stream_);
    CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void seed_distances(const float* center) override {
    centers_.upload(center, d_, stream_);
    cuda::launch_seed_distances(x_.data(), n_, static_cast<int>(d_), centers_.data(), closest_.data(), grid_, stream_);
  }

  void trial_potentials(const float* candidates, int m, std::int64_t* out) override {
    if (m > cuda::kMaxTrials) throw std::logic_error("CudaBackend: too many k-means++ trials");
    centers_.upload(candidates, static_cast<std::size_t>(m) * d_, stream_);
    acc_.zero(static_cast<std::size_t>(m), stream_);
    cuda::launch_trial_potentials(x_.data(), n_, static_cast<int>(d_), centers_.data(), m, closest_.data(),
                                  fp_.dist_scale(), acc_.data(), grid_, stream_);
    fetch_acc(static_cast<std::size_t>(m));
    for (int t = 0; t < m; ++t) out[t] = as_signed(acc_host_[static_cast<std::size_t>(t)]);
  }

  void commit_center(const float* center) override {
    centers_.upload(center, d_, stream_);
    cuda::launch_commit_center(x_.data(), n_, static_cast<int>(d_), centers_.data(), closest_.data(), grid_, stream_);
  }

  std::int64_t potential() override {
    scan_potentials();
    long long total = 0;
    CUDA_CHECK(cudaMemcpyAsync(&total, prefix_.data() + (n_ - 1), sizeof(long long), cudaMemcpyDeviceToHost, stream_));
    sync();
    return total;
  }

  void sample_by_potential(const std::int64_t* targets, int m, std::int64_t* out_rows) override {
    if (m > cuda::kMaxTrials) throw std::logic_error("CudaBackend: too many k-means++ trials");
    scan_potentials();
    targets_.upload(reinterpret_cast<const long long*>(targets), static_cast<std::size_t>(m), stream_);
    // First row whose inclusive prefix exceeds the target (exact integers,
    // so any scan order gives these prefixes).
    thrust::upper_bound(thrust::cuda::par.on(stream_), prefix_.data(), prefix_.data() + n_, targets_.data(),
                        targets_.data() + m, rows_.data());
    CUDA_CHECK_LAUNCH();
    std::vector<long long> rows(static_cast<std::size_t>(m));
    rows_.download(rows.data(), rows.size(), stream_);
    sync();
    for (int t = 0; t < m; ++t)
      out_rows[t] = std::min<std::int64_t>(rows[static_cast<std::size_t>(t)], static_cast<std::int64_t>(n_) - 1);
  }

  void dispersion(const float* centers, int k, std::int64_t* out_sq, std::int64_t* out_root) override {
    check_k(k);
    const std::size_t kk = static_cast<std::size_t>(k), count = kk + 2 * kk + 2;
    centers_.upload(centers, kk * d_, stream_);
    acc_.zero(count, stream_);
    cuda::launch_dispersion(x_.data(), n_, static_cast<int>(d_), centers_.data(), k, fp_.dist_scale(),
                            fp_.root_scale(), labels_.data(), acc_.data(), grid_, stream_);
    fetch_acc(count);
    for (std::size_t c = 0; c < kk; ++c) {
      out_sq[c] = as_signed(acc_host_[kk + 2 * c]);
      out_root[c] = as_signed(acc_host_[kk + 2 * c + 1]);
    }
  }

  void silhouette(const Matrix& Y, const std::int32_t* labels, int k, double* out) override {
    const std::size_t n = Y.rows, d = Y.cols, kk = static_cast<std::size_t>(k);
    if (n == 0) return;
    if (d > 64) {  // beyond the kernel's per-thread row: same order on the CPU
      cpu_silhouette(Y, labels, k, 0, out);
      return;
    }
    CUDA_CHECK(cudaSetDevice(device_));
    std::vector<std::int64_t> counts(kk, 0), seg(kk + 1, 0);
    for (std::size_t i = 0; i < n; ++i) counts[static_cast<std::size_t>(labels[i])] += 1;
    for (std::size_t c = 0; c < kk; ++c) seg[c + 1] = seg[c] + counts[c];
    DeviceBuffer<float> y(n * d), xs(n * d);
    DeviceBuffer<std::int32_t> lab(n), sorted_lab(n), iota(n), order(n);
    DeviceBuffer<std::int64_t> dcounts(kk), dseg(kk + 1);
    DeviceBuffer<double> sums(n * kk), values(n);
    y.upload(Y.values.data(), n * d, stream_);
    lab.upload(labels, n, stream_);
    dcounts.upload(counts.data(), kk, stream_);
    dseg.upload(seg.data(), kk + 1, stream_);
    thrust::sequence(thrust::cuda::par.on(stream_), iota.data(), iota.data() + n);
    // Stable radix sort by label: rows of a cluster stay in row order.
    int bits = 1;
    while ((1 << bits) < k) ++bits;
    std::size_t sort_bytes = 0;
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, lab.data(), sorted_lab.data(), iota.data(),
                                               order.data(), static_cast<int64_t>(n), 0, bits, stream_));
    DeviceBuffer<unsigned char> sort_tmp(std::max<std::size_t>(sort_bytes, 1));
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(sort_tmp.data(), sort_bytes, lab.data(), sorted_lab.data(), iota.data(),
                                               order.data(), static_cast<int64_t>(n), 0, bits, stream_));
    cuda::launch_gather_columns(y.data(), order.data(), n, static_cast<int>(d), xs.data(), stream_);
    cuda::launch_silhouette_sums(xs.data(), n, static_cast<int>(d), dseg.data(), k, sums.data(), stream_);
    cuda::launch_silhouette_values(sums.data(), dcounts.data(), sorted_lab.data(), order.data(), n, k, values.data(),
                                   stream_);
    values.download(out, n, stream_);
    sync();
  }

 private:
  static std::int64_t as_signed(unsigned long long v) { return static_cast<std::int64_t>(v); }

  void check_k(int k) const {
    if (k < 1 || k > k_max_) throw std::logic_error("CudaBackend: k outside the bound range");
  }
  void sync() { CUDA_CHECK(cudaStreamSynchronize(stream_)); }
  void fetch_acc(std::size_t count) {
    acc_.download(acc_host_.data(), count, stream_);
    sync();
  }
  void scan_potentials() {
    cuda::launch_quantize_distances(closest_.data(), n_, fp_.dist_scale(), prefix_.data(), grid_, stream_);
    std::size_t bytes = scan_tmp_.size();
    CUDA_CHECK(cub::DeviceScan::InclusiveSum(scan_tmp_.data(), bytes, prefix_.data(), prefix_.data(),
                                             static_cast<int64_t>(n_), stream_));
  }

  int device_;
  std::string name_;
  int sms_ = 1;
  cudaStream_t stream_ = nullptr;
  const Matrix* host_ = nullptr;
  FixedPoint fp_;
  std::size_t n_ = 0, d_ = 0;
  int k_max_ = 1;
  int grid_ = 1;
  DeviceBuffer<float> x_, closest_, centers_;
  DeviceBuffer<std::int32_t> labels_;
  DeviceBuffer<long long> prefix_, targets_, rows_;
  DeviceBuffer<unsigned long long> acc_;
  DeviceBuffer<unsigned char> scan_tmp_;
  std::vector<unsigned long long> acc_host_;
};

}  // namespace

bool cuda_built() { return true; }

CudaStatus cuda_probe(int device) {
  CudaStatus s;
  s.device = device;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    s.reason = std::string("no usable CUDA driver or device (") + cudaGetErrorName(e) + ")";
    cudaGetLastError();  // clear the sticky error state of the runtime
    return s;
  }
  if (count == 0) {
    s.reason = "no CUDA device found";
    return s;
  }
  if (device < 0 || device >= count) {
    s.reason = "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " found)";
    return s;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess || cudaSetDevice(device) != cudaSuccess ||
      cudaMemGetInfo(&s.free_bytes, &s.total_bytes) != cudaSuccess) {
    s.reason = std::string("CUDA device ") + std::to_string(device) + " cannot be used (" +
               cudaGetErrorName(cudaGetLastError()) + ")";
    return s;
  }
  s.name = prop.name;
  s.usable = true;
  return s;
}

std::size_t cuda_bytes_needed(std::size_t n, std::size_t d, int k_max) {
  // data + labels + closest + prefix (+ scan scratch, roughly one more
  // prefix-sized margin is never needed: CUB's scan scratch is small) +
  // per-cluster buffers.
  return n * d * sizeof(float) + n * sizeof(std::int32_t) + n * sizeof(float) + n * sizeof(long long) +
         static_cast<std::size_t>(k_max) * (d + 3) * 16 + (16u << 20);
}

std::unique_ptr<Backend> make_cuda_backend(int device) {
  const CudaStatus s = cuda_probe(device);
  if (!s.usable) throw InputError("--backend cuda: " + s.reason);
  return std::make_unique<CudaBackend>(device);
}

}  // namespace archetype
