// The CUDA backend: owns the device copies of the data and all scratch
// (sized once in bind), runs the kernels on its own stream, and returns the
// same exact integer sums as the CPU backend.
#include <cub/device/device_radix_sort.cuh>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "archetype/cuda.hpp"
#include "archetype/error.hpp"
#include "engine/cpu_silhouette.hpp"
#include "engine/kpp_cache.hpp"
#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "kernels.cuh"
#include "row_stream.cuh"

namespace archetype {
namespace {

using cuda::DeviceBuffer;

/// Tiles gathered per k-means++ sampling launch when streaming: up to 64,
/// within 64 MiB of rows (streaming means device memory is short; 64 tiles
/// of 1,024 features were 1 GiB), at least one.
std::size_t gather_tiles(std::size_t d) {
  const std::size_t tile_bytes = static_cast<std::size_t>(cuda::kSampleTile) * std::max<std::size_t>(d, 1) * sizeof(float);
  return std::clamp<std::size_t>((std::size_t{64} << 20) / tile_bytes, 1, 64);
}

/// The element counts of reserve_batch's device buffers for M models of
/// up to K centres together: the one formula that reserve_batch allocates
/// by and that cuda_bytes_needed counts, so the estimate cannot drift.
struct BatchScratch {
  std::size_t targets = 0;  // k-means++ candidates / sampling targets: M x kMaxTrials
  std::size_t centers = 0;  // floats: K centres and the candidates, d each
  std::size_t ks = 0;       // ints: ks, then trials
  std::size_t acc = 0;      // u64: the Lloyd sums of every model, or the k-means++ potentials
  std::size_t tiles = 0;    // k-means++ sampling tiles of the data
  std::size_t tile_pot = 0; // int64: M x tiles potentials
  std::size_t jobs = 0;     // int64: kJobValues per target
  std::size_t cache_off = 0;  // int64: per model, its k-means++ distance cache (or -1)
  std::size_t folds = 0;      // int64: kFoldValues per model (the cache's fold jobs)
  std::size_t gather = 0;   // floats, streaming only: the sampled tiles
  std::size_t gather_w = 0; // int32, streaming with weights: the sampled tiles' weights

  static BatchScratch size(std::size_t n, std::size_t d, int models, int total_k, bool streaming,
                           bool weighted) {
    const std::size_t M = static_cast<std::size_t>(models), K = static_cast<std::size_t>(total_k);
    BatchScratch z;
    z.targets = M * kMaxTrials;
    z.centers = (K + z.targets) * d;
    z.ks = 2 * M;
    z.acc = std::max(K * (d + 1) + 2 * M, M * (kMaxTrials + 1));
    z.tiles = (n + cuda::kSampleTile - 1) / cuda::kSampleTile;
    z.tile_pot = M * z.tiles;
    z.jobs = cuda::kJobValues * z.targets;
    z.cache_off = M;
    z.folds = cuda::kFoldValues * M;
    z.gather = streaming ? gather_tiles(d) * cuda::kSampleTile * d : 0;
    z.gather_w = streaming && weighted ? gather_tiles(d) * cuda::kSampleTile : 0;
    return z;
  }
  std::size_t bytes() const {
    return centers * sizeof(float) + ks * sizeof(int) + acc * sizeof(unsigned long long) +
           (tile_pot + jobs + targets + cache_off + folds) * sizeof(long long) + gather * sizeof(float) +
           gather_w * sizeof(std::int32_t);
  }
};

/// bind's per-cluster buffers (acc_, centers_, ks_), in elements.
std::size_t bind_acc_count(std::size_t d, int k_max) {
  return static_cast<std::size_t>(k_max) * (std::max<std::size_t>(d, 2) + 1) + 2;
}

std::string mib(std::size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
    CUDA_CHECK(cudaSetDevice(device_));
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
    name_ = prop.name;
    sms_ = prop.multiProcessorCount;
    limits_ = cuda::device_limits(device_);
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  ~CudaBackend() override {
    rows_.release();  // waits on stream_, so before it is destroyed
    if (stream_) cudaStreamDestroy(stream_);
  }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda"; }
  std::string device() const override {
    return rows_.streaming() ? name_ + " (rows streamed from host memory in chunks of " +
                                   std::to_string(rows_.chunk_rows()) + ")"
                             : name_;
  }

  using Backend::bind;
  void bind(MatrixView X, const std::int32_t* weights, const FixedPoint& fp, int k_max) override {
    CUDA_CHECK(cudaSetDevice(device_));
    // The previous binding's rows, batch reservation and k-means++ cache go
    // first: they describe the old rows (a bind that throws leaves no stale
    // offsets behind), and their memory must count as free below, else
    // binding again (predict after a fit, a larger k) would stream data
    // that fit the first time.
    rows_.release();
    release_batch();
    host_ = X;
    weighted_ = weights != nullptr;
    fp_ = fp;
    n_ = X.rows;
    d_ = X.cols;
    k_max_ = std::max(k_max, 1);
    cuda::check_shapes(static_cast<int>(d_), k_max_, limits_);  // every k fits; only a huge d is refused
    std::size_t free_bytes = 0, total_bytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    rows_.bind(X.values, weights, n_, d_, chunk_rows_for(free_bytes), stream_);
    acc_.allocate(bind_acc_count(d_, k_max_));
    centers_.allocate(static_cast<std::size_t>(k_max_) * d_);
    ks_.allocate(1);
    acc_host_.assign(acc_.size(), 0);
    grid_ = std::max(1, sms_ * 4);  // the launchers clamp it to the tiles (cuda::grid_for_tiles)
    reset_labels();
    sync();
  }

  void reset_labels() override {
    use_device();
    rows_.reset_labels();
    labels_taken_ = false;
  }

  void lloyd_pass(const float* centers, int k, PassSums& out) override {
    use_device();
    check_k(k);
    // Stored labels belong to one k, as on the CPU: a pass with another k
    // starts from all -1 (every row counts as changed).
    if (labels_taken_ || k != labels_k_) reset_labels();
    labels_k_ = k;
    const std::size_t kk = static_cast<std::size_t>(k), kd = kk * d_, count = kk + kd + 2;
    centers_.upload(centers, kd, stream_);
    ks_host_single_ = k;
    ks_.upload(&ks_host_single_, 1, stream_);
    acc_.zero(count, stream_);
    rows_.for_each_chunk(true, true,
                         [&](const float* x, std::size_t, std::size_t rows, std::int32_t* labels, const std::int32_t* w) {
                           cuda::launch_lloyd_batch(x, w, rows, static_cast<int>(d_), centers_.data(), ks_.data(), &k, 1,
                                                    fp_.feature_scale(), fp_.dist_scale(), labels, acc_.data(), grid_,
                                                    limits_, stream_);
                         });
    fetch_acc(count);
    unpack_sums(acc_host_.data(), kk, out);
    out.changed = as_signed(acc_host_[kk + kd + 1]);
  }

  void reserve_batch(int max_models, int max_total_k) override {
    CUDA_CHECK(cudaSetDevice(device_));
    drop_kpp_cache();  // the previous reservation's: its memory is free for the scratch below
    batch_models_ = std::max(max_models, 1);
    batch_total_k_ = std::max(max_total_k, 1);
    const BatchScratch z = BatchScratch::size(n_, d_, batch_models_, batch_total_k_, rows_.streaming(), weighted_);
    b_centers_.allocate(z.centers);  // centres, then candidates
    b_ks_.allocate(z.ks);            // ks, then trials
    b_acc_.allocate(z.acc);
    b_acc_host_.assign(b_acc_.size(), 0);
    tiles_ = z.tiles;
    b_tile_pot_.allocate(z.tile_pot);
    tile_pot_host_.assign(z.tile_pot, 0);
    b_jobs_.allocate(z.jobs);
    jobs_host_.assign(z.jobs, 0);
    b_rows_.allocate(z.targets);
    gather_x_.allocate(z.gather);
    gather_w_.allocate(z.gather_w);
    if (z.gather > 0) gather_jobs_.assign(cuda::kJobValues * gather_tiles(d_), 0);
    b_cache_off_.allocate(z.cache_off);
    cache_off_host_.assign(z.cache_off, -1);
    b_folds_.allocate(z.folds);
    folds_host_.assign(z.folds, 0);
    staging_.reserve(z.centers);
    ks_host_.reserve(z.ks);
    reserve_kpp_cache();
  }

  void lloyd_batch(const ModelBatch& batch, PassSums* out) override {
    use_device();
    const std::size_t K = upload_batch(batch, nullptr, nullptr);
    const std::size_t count = K * (d_ + 1) + 2 * static_cast<std::size_t>(batch.models);
    b_acc_.zero(count, stream_);
    rows_.for_each_chunk(false, false,
                         [&](const float* x, std::size_t, std::size_t rows, std::int32_t*, const std::int32_t* w) {
                           cuda::launch_lloyd_batch(x, w, rows, static_cast<int>(d_), b_centers_.data(), b_ks_.data(),
                                                    batch.ks, batch.models, fp_.feature_scale(), fp_.dist_scale(),
                                                    nullptr, b_acc_.data(), grid_, limits_, stream_);
                         });
    b_acc_.download(b_acc_host_.data(), count, stream_);
    sync();
    std::size_t off = 0;
    for (int b = 0; b < batch.models; ++b) {
      const std::size_t kk = static_cast<std::size_t>(batch.ks[b]);
      unpack_sums(b_acc_host_.data() + off, kk, out[b]);
      out[b].changed = -1;
      off += kk * (d_ + 1) + 2;
    }
  }

  void kpp_potentials(const ModelBatch& batch, const float* candidates, const int* trials,
                      std::int64_t* out) override {
    use_device();
    std::size_t values = 0;
    upload_batch(batch, candidates, trials, &values);
    plan_kpp_cache(batch);
    b_acc_.zero(values, stream_);
    rows_.for_each_chunk(false, false,
                         [&](const float* x, std::size_t first, std::size_t rows, std::int32_t*, const std::int32_t* w) {
                           fold_kpp_cache(x, first, rows);
                           cuda::launch_kpp_potentials(x, w, rows, static_cast<int>(d_), b_centers_.data(),
                                                       b_ks_.data(), b_centers_.data() + batch_k_ * d_,
                                                       b_ks_.data() + batch.models, b_cache_off_.data(),
                                                       cache_.data(), first, batch.ks, trials, batch.models,
                                                       fp_.dist_scale(), b_acc_.data(), grid_, limits_, stream_);
                         });
    b_acc_.download(b_acc_host_.data(), values, stream_);
    sync();
    commit_kpp_cache(batch);
    for (std::size_t i = 0; i < values; ++i) out[i] = as_signed(b_acc_host_[i]);
  }

  void kpp_sample(const ModelBatch& batch, const std::int64_t* targets, const int* n_targets,
                  std::int64_t* out_rows) override {
    use_device();
    const std::size_t M = static_cast<std::size_t>(batch.models);
    for (std::size_t b = 0; b < M; ++b)  // jobs_host_ and b_rows_ hold kMaxTrials targets a model
      if (n_targets[b] < 0 || n_targets[b] > kMaxTrials) throw std::logic_error("CudaBackend: too many k-means++ targets");
    upload_batch(batch, nullptr, nullptr);
    plan_kpp_cache(batch);
    // Chunks hold whole tiles (chunk_rows_for), so tile t of a chunk is
    // tile first / kSampleTile + t of the data.
    rows_.for_each_chunk(
        false, false, [&](const float* x, std::size_t first, std::size_t rows, std::int32_t*, const std::int32_t* w) {
          fold_kpp_cache(x, first, rows);
          cuda::launch_kpp_tile_potentials(x, w, rows, static_cast<int>(d_), b_centers_.data(), b_ks_.data(),
                                           batch.models, b_cache_off_.data(), cache_.data(), fp_.dist_scale(),
                                           b_tile_pot_.data(), first / cuda::kSampleTile, tiles_, grid_, stream_);
        });
    b_tile_pot_.download(reinterpret_cast<long long*>(tile_pot_host_.data()), M * tiles_, stream_);
    sync();
    commit_kpp_cache(batch);  // the sampling launches below read the caches as they are now
    // Each target: the tile holding it (on the host, over the tile sums),
    // then one block scans that tile's rows on the device.
    std::size_t o = 0, coff = 0;
    for (std::size_t b = 0; b < M; ++b) {
      const std::int64_t* tp = tile_pot_host_.data() + b * tiles_;
      for (int i = 0; i < n_targets[b]; ++i, ++o) {
        std::int64_t before = 0;
        std::size_t tile = 0;
        while (tile + 1 < tiles_ && before + tp[tile] <= targets[o]) before += tp[tile++];
        const std::size_t begin = tile * cuda::kSampleTile;
        const std::size_t end = std::min(n_, begin + cuda::kSampleTile);
        long long* job = jobs_host_.data() + cuda::kJobValues * o;
        job[0] = static_cast<long long>(coff);
        job[1] = batch.ks[b];
        job[2] = static_cast<long long>(begin);
        job[3] = static_cast<long long>(end);
        job[4] = targets[o] - before;
        job[5] = cache_off_host_[b];
        job[6] = 0;  // resident: x is the whole data
      }
      coff += static_cast<std::size_t>(batch.ks[b]) * d_;
    }
    if (o == 0) return;
    if (!rows_.streaming()) {
      b_jobs_.upload(jobs_host_.data(), cuda::kJobValues * o, stream_);
      rows_.for_each_chunk(false, false,
                           [&](const float* x, std::size_t, std::size_t, std::int32_t*, const std::int32_t* w) {
                             cuda::launch_kpp_sample(x, w, static_cast<int>(d_), b_centers_.data(), cache_.data(),
                                                     b_jobs_.data(), static_cast<int>(o), fp_.dist_scale(),
                                                     b_rows_.data(), stream_);
                           });
      static_assert(sizeof(long long) == sizeof(std::int64_t), "row indices are 64-bit");
      b_rows_.download(reinterpret_cast<long long*>(out_rows), o, stream_);
      sync();
      return;
    }
    // Streaming: the targets' tiles are copied from the pinned host rows into
    // a gather buffer, gather_tiles(d) at a time, and scanned there (jobs with
    // tile-relative rows; the rows found are made absolute again).
    const std::size_t per_gather = gather_tiles(d_);
    for (std::size_t g = 0; g < o; g += per_gather) {
      const std::size_t count = std::min(per_gather, o - g);
      for (std::size_t j = 0; j < count; ++j) {
        const long long* job = jobs_host_.data() + cuda::kJobValues * (g + j);
        long long* rel = gather_jobs_.data() + cuda::kJobValues * j;
        rel[0] = job[0];
        rel[1] = job[1];
        rel[2] = static_cast<long long>(j * cuda::kSampleTile);
        rel[3] = rel[2] + (job[3] - job[2]);
        rel[4] = job[4];
        rel[5] = job[5];
        rel[6] = job[2] - rel[2];  // gathered row r is data row r + job[2] - rel[2]
        // A cached model's scan reads its distances, not the rows: only
        // the weights travel.
        if (job[5] < 0)
          CUDA_CHECK(cudaMemcpyAsync(gather_x_.data() + j * cuda::kSampleTile * d_, host_.values + job[2] * d_,
                                     static_cast<std::size_t>(job[3] - job[2]) * d_ * sizeof(float),
                                     cudaMemcpyHostToDevice, stream_));
        if (weighted_)
          CUDA_CHECK(cudaMemcpyAsync(gather_w_.data() + j * cuda::kSampleTile, rows_.host_weights() + job[2],
                                     static_cast<std::size_t>(job[3] - job[2]) * sizeof(std::int32_t),
                                     cudaMemcpyHostToDevice, stream_));
      }
      b_jobs_.upload(gather_jobs_.data(), cuda::kJobValues * count, stream_);
      cuda::launch_kpp_sample(gather_x_.data(), weighted_ ? gather_w_.data() : nullptr, static_cast<int>(d_),
                              b_centers_.data(), cache_.data(), b_jobs_.data(), static_cast<int>(count),
                              fp_.dist_scale(), b_rows_.data(), stream_);
      b_rows_.download(reinterpret_cast<long long*>(out_rows + g), count, stream_);
      sync();
      for (std::size_t j = 0; j < count; ++j)
        out_rows[g + j] += jobs_host_[cuda::kJobValues * (g + j) + 2] - static_cast<long long>(j * cuda::kSampleTile);
    }
  }

  void copy_labels(std::int32_t* out) const override {
    use_device();
    require_labels();
    rows_.copy_labels(out);
  }

  void take_labels(std::vector<std::int32_t>& out) override {
    use_device();
    require_labels();
    out.clear();
    out.shrink_to_fit();
    out.resize(n_);
    rows_.copy_labels(out.data());
    labels_taken_ = true;  // the store is empty, as on the CPU: the next pass starts from all -1
  }

  void gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out) const override {
    use_device();
    require_labels();
    rows_.gather_labels(rows, m, out);
  }

  void dispersion(const float* centers, int k, const std::int32_t* labels, std::int64_t* out_sq,
                  std::int64_t* out_root) override {
    check_k(k);
    CUDA_CHECK(cudaSetDevice(device_));
    const std::size_t kk = static_cast<std::size_t>(k), count = kk + 2 * kk + 2;
    // The caller's labels, one chunk at a time (all rows when resident):
    // one chunk-sized buffer per call, outside any iteration loop.
    DeviceBuffer<std::int32_t> lab(rows_.chunk_rows());
    centers_.upload(centers, kk * d_, stream_);
    acc_.zero(count, stream_);
    rows_.for_each_chunk(
        false, false, [&](const float* x, std::size_t first, std::size_t rows, std::int32_t*, const std::int32_t* w) {
          lab.upload(labels + first, rows, stream_);  // on stream_: after the previous chunk's kernel
          cuda::launch_dispersion(x, w, rows, static_cast<int>(d_), centers_.data(), k, fp_.dist_scale(),
                                  fp_.root_scale(), lab.data(), acc_.data(), grid_, limits_, stream_);
        });
    fetch_acc(count);
    for (std::size_t c = 0; c < kk; ++c) {
      out_sq[c] = as_signed(acc_host_[kk + 2 * c]);
      out_root[c] = as_signed(acc_host_[kk + 2 * c + 1]);
    }
  }

  void silhouette(MatrixView Y, const std::int32_t* labels, int k, double* out) override {
    const std::size_t n = Y.rows, d = Y.cols, kk = static_cast<std::size_t>(k);
    if (n == 0) return;
    if (cuda::plan_silhouette(n, static_cast<int>(d), k, limits_).dims == 0) {
      // Beyond the kernel's registers per row: the same order on the CPU.
      cpu_silhouette(Y, labels, k, 0, out);
      return;
    }
    CUDA_CHECK(cudaSetDevice(device_));
    drop_kpp_cache();  // the fits are seeded: its memory goes to the buffers below
    std::vector<std::int64_t> counts(kk, 0), seg(kk + 1, 0);
    for (std::size_t i = 0; i < n; ++i) counts[static_cast<std::size_t>(labels[i])] += 1;
    for (std::size_t c = 0; c < kk; ++c) seg[c + 1] = seg[c] + counts[c];
    DeviceBuffer<float> y(n * d), xs(n * d);
    DeviceBuffer<std::int32_t> lab(n), sorted_lab(n), iota(n), order(n);
    DeviceBuffer<std::int64_t> dcounts(kk), dseg(kk + 1);
    DeviceBuffer<double> sums(n * kk), values(n);
    y.upload(Y.values, n * d, stream_);
    lab.upload(labels, n, stream_);
    dcounts.upload(counts.data(), kk, stream_);
    dseg.upload(seg.data(), kk + 1, stream_);
    cuda::launch_iota(iota.data(), n, stream_);  // a checked launch: a failure is a DeviceError
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
    cuda::launch_silhouette_sums(xs.data(), n, static_cast<int>(d), dseg.data(), k, sums.data(), limits_, stream_);
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
  void require_labels() const {
    if (labels_taken_) throw std::logic_error("CudaBackend: the stored labels were taken");
  }
  void sync() { CUDA_CHECK(cudaStreamSynchronize(stream_)); }
  // The current device is per host thread (and cuda_probe changes it): every
  // public call that touches the device selects it first, so that a caller
  // on another thread, or with another backend on another device, reaches
  // this one's stream and memory.
  void use_device() const { CUDA_CHECK(cudaSetDevice(device_)); }
  void fetch_acc(std::size_t count) {
    acc_.download(acc_host_.data(), count, stream_);
    sync();
  }
  /// 0 (resident) when the rows and labels fit the free device memory with
  /// room to spare; otherwise the rows per chunk for streaming (a multiple
  /// of kSampleTile, so that chunks hold whole sampling tiles).
  std::size_t chunk_rows_for(std::size_t free_bytes) const {
    const std::size_t row_bytes = d_ * sizeof(float) + sizeof(std::int32_t) * (weighted_ ? 2 : 1);
    if (const char* forced = std::getenv("ARCHETYPE_CUDA_CHUNK_ROWS")) {
      // Testing hook: stream even data that would fit.
      const std::size_t rows = std::strtoull(forced, nullptr, 10);
      if (rows > 0) return (rows + cuda::kSampleTile - 1) / cuda::kSampleTile * cuda::kSampleTile;
    }
    // Resident when the rows and labels leave a quarter of the free memory
    // for scratch (the silhouette's buffers, CUB's temporaries).
    if (n_ * row_bytes <= free_bytes / 4 * 3) return 0;
    // Streaming: two chunk buffers in at most half of the free memory.
    std::size_t rows = free_bytes / 2 / (2 * row_bytes);
    rows = std::min<std::size_t>(rows, std::size_t{1} << 26) / cuda::kSampleTile * cuda::kSampleTile;
    if (rows == 0)
      throw DeviceError("the GPU " + name_ + " has only " + mib(free_bytes) + " free: too little to stream the data; use --backend cpu");
    return rows;
  }

  void unpack_sums(const unsigned long long* acc, std::size_t kk, PassSums& out) const {
    const std::size_t kd = kk * d_;
    out.resize(kk, d_);
    for (std::size_t c = 0; c < kk; ++c) out.counts[c] = as_signed(acc[c]);
    for (std::size_t i = 0; i < kd; ++i) out.sums[i] = as_signed(acc[kk + i]);
    out.inertia_q = as_signed(acc[kk + kd]);
  }

  // ---- the k-means++ distance cache (kernels.cuh) ----------------------------
  // As the CPU backend's: a model with a slot below cache_slots_ keeps its
  // rows' nearest-centre distances between passes; a pass folds in only the
  // centres added since (k-means++ adds one per step), where each pass used
  // to compute every row's distance to all k centres, twice a step
  // (sampling and potentials): O(n k^2 d) over a seeding instead of
  // O(n k d).  A hint, as ModelBatch::slots says: the same bits without it.

  /// Device memory for the caches, for reservations whose models have
  /// kMinMeanK centres or more on average (the CPU backend's rule): below
  /// that, computing a row's few distances from centres in shared memory,
  /// all models in one read of the rows, costs less than reading and
  /// writing n floats per model.  As many slots (n floats each) as a
  /// quarter of the memory left free once everything else is reserved
  /// holds, so that the silhouette's and CUB's scratch still find room (the
  /// silhouette drops the cache).  It is a hint: when the allocation fails
  /// (another process took the memory meanwhile) the passes compute every
  /// distance.  ARCHETYPE_CUDA_KPP_CACHE=0 (testing hook) turns it off.
  static constexpr int kMinMeanK = 16;
  void reserve_kpp_cache() {
    drop_kpp_cache();
    const char* off = std::getenv("ARCHETYPE_CUDA_KPP_CACHE");
    if (n_ == 0 || (off && std::string(off) == "0")) return;
    if (static_cast<std::size_t>(batch_total_k_) < static_cast<std::size_t>(kMinMeanK) * batch_models_) return;
    std::size_t free_bytes = 0, total_bytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    const std::size_t fit = free_bytes / 4 / (n_ * sizeof(float));
    const int slots = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(batch_models_), fit));
    try {
      cache_.allocate(static_cast<std::size_t>(slots) * n_);
    } catch (const DeviceError&) {
      return;  // a failed cudaMalloc is not sticky (CUDA_CHECK cleared it): go on without
    }
    cache_slots_ = slots;
    cached_centres_.assign(static_cast<std::size_t>(cache_slots_), {});
  }
  void drop_kpp_cache() {
    cache_.allocate(0);
    cache_slots_ = 0;
    cached_centres_.clear();
  }

  /// Before a k-means++ pass (the batch uploaded): per model, its cache
  /// offset (or -1) and the first centre its cache lacks (0: start over,
  /// when the cached centres are not a prefix of the model's), and the fold
  /// jobs of those that lack some.  A slot about to change is marked empty
  /// until commit_kpp_cache, so that a pass cut short by an error leaves no
  /// half-folded cache behind.  Slots are distinct within a batch
  /// (ModelBatch::slots: an id per model).
  void plan_kpp_cache(const ModelBatch& batch) {
    const float* centers = batch.centers;
    std::size_t coff = 0;
    fold_jobs_ = 0;
    for (int b = 0; b < batch.models; ++b) {
      const std::size_t i = static_cast<std::size_t>(b), kd = static_cast<std::size_t>(batch.ks[b]) * d_;
      const int slot = batch.slots ? batch.slots[b] : -1;
      cache_off_host_[i] = -1;
      if (slot >= 0 && slot < cache_slots_) {
        std::vector<float>& have = cached_centres_[static_cast<std::size_t>(slot)];
        const int from = folded_prefix(have, centers, batch.ks[b], d_);
        cache_off_host_[i] = static_cast<long long>(static_cast<std::size_t>(slot) * n_);
        if (from < batch.ks[b]) {
          have.clear();
          long long* job = folds_host_.data() + cuda::kFoldValues * static_cast<std::size_t>(fold_jobs_++);
          job[0] = static_cast<long long>(coff + static_cast<std::size_t>(from) * d_);
          job[1] = batch.ks[b] - from;
          job[2] = from == 0 ? 1 : 0;
          job[3] = cache_off_host_[i];
        }
      }
      centers += kd;
      coff += kd;
    }
    b_cache_off_.upload(cache_off_host_.data(), static_cast<std::size_t>(batch.models), stream_);
    if (fold_jobs_ > 0)
      b_folds_.upload(folds_host_.data(), cuda::kFoldValues * static_cast<std::size_t>(fold_jobs_), stream_);
  }

  /// Folds into the cached models the centres they lack, for the rows
  /// [first, first + rows) at x (one chunk, or all rows): one launch.
  void fold_kpp_cache(const float* x, std::size_t first, std::size_t rows) {
    if (fold_jobs_ > 0)
      cuda::launch_kpp_fold(x, rows, static_cast<int>(d_), b_centers_.data(), b_folds_.data(), fold_jobs_,
                            cache_.data() + first, grid_, stream_);
  }

  /// After the pass over every chunk: the cached slots hold all of their
  /// model's centres (those plan_kpp_cache emptied for a fold say so now).
  void commit_kpp_cache(const ModelBatch& batch) {
    const float* centers = batch.centers;
    for (int b = 0; b < batch.models; ++b) {
      const std::size_t kd = static_cast<std::size_t>(batch.ks[b]) * d_;
      if (cache_off_host_[static_cast<std::size_t>(b)] >= 0) {
        std::vector<float>& have = cached_centres_[static_cast<std::size_t>(batch.slots[b])];
        if (have.empty()) have.assign(centers, centers + kd);
      }
      centers += kd;
    }
  }

  /// Frees the batch reservation (reserve_batch's buffers) and the
  /// k-means++ cache; the batch passes refuse to run until the next one.
  void release_batch() {
    drop_kpp_cache();
    for (DeviceBuffer<float>* b : {&b_centers_, &gather_x_}) b->allocate(0);
    for (DeviceBuffer<long long>* b : {&b_tile_pot_, &b_jobs_, &b_rows_, &b_cache_off_, &b_folds_}) b->allocate(0);
    b_ks_.allocate(0);
    gather_w_.allocate(0);
    b_acc_.allocate(0);
    batch_models_ = batch_total_k_ = 0;
  }

  /// Uploads a batch's centres and ks (with `trials`: the candidates after
  /// the centres and the trials after the ks), checked against
  /// reserve_batch.  Returns the number of centres; *values gets the number
  /// of k-means++ potentials (models + candidates).
  std::size_t upload_batch(const ModelBatch& batch, const float* candidates, const int* trials,
                           std::size_t* values = nullptr) {
    if (batch.models < 1 || batch.models > batch_models_) throw std::logic_error("CudaBackend: batch larger than reserved");
    std::size_t K = 0, cands = 0;
    for (int b = 0; b < batch.models; ++b) {
      if (batch.ks[b] < 1) throw std::logic_error("CudaBackend: a model without centres");
      K += static_cast<std::size_t>(batch.ks[b]);
      if (trials) {
        if (trials[b] < 0 || trials[b] > kMaxTrials) throw std::logic_error("CudaBackend: too many k-means++ trials");
        cands += static_cast<std::size_t>(trials[b]);
      }
    }
    if (K > static_cast<std::size_t>(batch_total_k_)) throw std::logic_error("CudaBackend: batch larger than reserved");
    batch_k_ = K;
    staging_.assign(batch.centers, batch.centers + K * d_);
    ks_host_.assign(batch.ks, batch.ks + batch.models);
    if (trials) {
      staging_.insert(staging_.end(), candidates, candidates + cands * d_);
      ks_host_.insert(ks_host_.end(), trials, trials + batch.models);
    }
    b_centers_.upload(staging_.data(), staging_.size(), stream_);
    b_ks_.upload(ks_host_.data(), ks_host_.size(), stream_);
    // The host staging vectors must outlive the asynchronous copies: every
    // caller synchronises the stream before they change again.
    if (values) *values = static_cast<std::size_t>(batch.models) + cands;
    return K;
  }

  int device_;
  std::string name_;
  int sms_ = 1;
  cuda::DeviceLimits limits_;
  cudaStream_t stream_ = nullptr;
  MatrixView host_;  // the bound rows (not owned)
  FixedPoint fp_;
  std::size_t n_ = 0, d_ = 0;
  int k_max_ = 1;
  int grid_ = 1;
  bool labels_taken_ = false;  // take_labels emptied the store (label-store rule, backend.hpp)
  int labels_k_ = 0;           // the k of the stored labels' last lloyd_pass
  bool weighted_ = false;      // bound with sample weights (RowStream keeps them beside the rows)
  int ks_host_single_ = 0;  // source of the single-model ks upload (outlives the async copy)
  mutable cuda::RowStream rows_;  // the rows and stored labels (resident or streamed)
  DeviceBuffer<float> centers_;
  DeviceBuffer<int> ks_;
  DeviceBuffer<float> gather_x_;         // streaming: the sampled tiles
  DeviceBuffer<std::int32_t> gather_w_;  // streaming with weights: their weights
  std::vector<long long> gather_jobs_;
  DeviceBuffer<unsigned long long> acc_;
  std::vector<unsigned long long> acc_host_;
  // Batch scratch, sized by reserve_batch.
  int batch_models_ = 0, batch_total_k_ = 0;
  std::size_t batch_k_ = 0, tiles_ = 0;
  DeviceBuffer<float> b_centers_;
  DeviceBuffer<int> b_ks_;
  DeviceBuffer<unsigned long long> b_acc_;
  DeviceBuffer<long long> b_tile_pot_, b_jobs_, b_rows_;
  std::vector<unsigned long long> b_acc_host_;
  std::vector<std::int64_t> tile_pot_host_;
  std::vector<long long> jobs_host_;
  std::vector<float> staging_;
  std::vector<int> ks_host_;
  // The k-means++ distance cache (reserve_kpp_cache).
  int cache_slots_ = 0;
  DeviceBuffer<float> cache_;                      // cache_slots_ x n
  std::vector<std::vector<float>> cached_centres_;  // per slot: the centres folded into it
  DeviceBuffer<long long> b_cache_off_;            // per model of the batch: its cache offset, or -1
  std::vector<long long> cache_off_host_;
  DeviceBuffer<long long> b_folds_;                // the pass's fold jobs (kFoldValues each)
  std::vector<long long> folds_host_;
  int fold_jobs_ = 0;
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
  static const char* hex = "0123456789abcdef";
  for (unsigned char byte : prop.uuid.bytes) {
    s.uuid.push_back(hex[byte >> 4]);
    s.uuid.push_back(hex[byte & 15]);
  }
  if (s.uuid.find_first_not_of('0') == std::string::npos) s.uuid.clear();  // all zero: not reported
  char bus[32] = {};
  if (cudaDeviceGetPCIBusId(bus, static_cast<int>(sizeof bus), device) == cudaSuccess)
    s.pci_bus_id = bus;
  else
    cudaGetLastError();  // not sticky; the id only tells processes sharing a GPU apart
  s.usable = true;
  return s;
}

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error state of the runtime
    return 0;
  }
  return count;
}

std::size_t cuda_bytes_needed(std::size_t n, std::size_t d, int k_max, int max_models) {
  // The least the backend can run with: data that do not fit are streamed
  // through two chunk buffers of rows and labels (at least one sampling
  // tile each), with dispersion's chunk of labels; bind's per-cluster
  // buffers; the batch scratch exactly as reserve_batch sizes it (streaming,
  // for max_models models of up to k_max centres each); a margin for CUB.
  const std::size_t chunk = std::min<std::size_t>(n, cuda::kSampleTile);
  const int models = std::max(max_models, 1), k = std::max(k_max, 1);
  // (each row's weight, when there are weights, counted too: 4 bytes more a
  // row.)  chunk_rows_for streams only when two chunk buffers fit in half
  // of the free memory: four chunks' worth.
  const std::size_t rows = 4 * chunk * (d * sizeof(float) + 2 * sizeof(std::int32_t)) + chunk * sizeof(std::int32_t);
  const std::size_t bound = bind_acc_count(d, k) * sizeof(unsigned long long) +
                            static_cast<std::size_t>(k) * d * sizeof(float) + sizeof(int);
  const long long total_k = std::min<long long>(static_cast<long long>(models) * k, std::numeric_limits<int>::max());
  const std::size_t batch = BatchScratch::size(n, d, models, static_cast<int>(total_k), true, true).bytes();
  return rows + bound + batch + (16u << 20);
}

std::unique_ptr<Backend> make_cuda_backend(int device) {
  const CudaStatus s = cuda_probe(device);
  if (!s.usable) throw InputError("--backend cuda: " + s.reason);
  return std::make_unique<CudaBackend>(device);
}

}  // namespace archetype
