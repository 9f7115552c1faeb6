#include "engine/faulty_backend.hpp"

#include <string>

#include "archetype/error.hpp"

namespace archetype {
namespace {

// One forwarding method per Backend method: each counts its event first.
class FaultyBackend final : public Backend {
 public:
  FaultyBackend(std::unique_ptr<Backend> inner, FaultSpec fault) : inner_(std::move(inner)), fault_(std::move(fault)) {}

  std::string name() const override { return inner_->name(); }
  std::string device() const override { return inner_->device(); }

  using Backend::bind;
  void bind(MatrixView X, const std::int32_t* weights, const FixedPoint& fp, int k_max) override {
    allocation("bind (uploading the data)");
    inner_->bind(X, weights, fp, k_max);
  }

  void reset_labels() override {
    pass("reset_labels");
    inner_->reset_labels();
  }
  void lloyd_pass(const float* centers, int k, PassSums& out) override {
    pass("lloyd_pass");
    inner_->lloyd_pass(centers, k, out);
  }
  void copy_labels(std::int32_t* out) const override {
    pass("copy_labels");
    inner_->copy_labels(out);
  }
  void take_labels(std::vector<std::int32_t>& out) override {
    pass("take_labels");
    inner_->take_labels(out);
  }
  void gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out) const override {
    allocation("gather_labels");
    pass("gather_labels");
    inner_->gather_labels(rows, m, out);
  }
  void reserve_batch(int max_models, int max_total_k) override {
    allocation("reserve_batch");
    inner_->reserve_batch(max_models, max_total_k);
  }
  void lloyd_batch(const ModelBatch& batch, PassSums* out) override {
    pass("lloyd_batch");
    inner_->lloyd_batch(batch, out);
  }
  void kpp_potentials(const ModelBatch& batch, const float* candidates, const int* trials,
                      std::int64_t* out) override {
    pass("kpp_potentials");
    inner_->kpp_potentials(batch, candidates, trials, out);
  }
  void kpp_sample(const ModelBatch& batch, const std::int64_t* targets, const int* n_targets,
                  std::int64_t* out_rows) override {
    pass("kpp_sample");
    inner_->kpp_sample(batch, targets, n_targets, out_rows);
  }
  void dispersion(const float* centers, int k, const std::int32_t* labels, std::int64_t* out_sq,
                  std::int64_t* out_root) override {
    allocation("dispersion");
    pass("dispersion");
    inner_->dispersion(centers, k, labels, out_sq, out_root);
  }
  void silhouette(MatrixView Y, const std::int32_t* labels, int k, double* out) override {
    allocation("silhouette");
    pass("silhouette");
    inner_->silhouette(Y, labels, k, out);
  }

 private:
  void allocation(const char* where) const {
    if (fault_.kind == FaultKind::Alloc && ++allocations_ == fault_.n)
      fail("cudaErrorMemoryAllocation (out of memory) at device allocation " + std::to_string(fault_.n) + ", in " +
           where);
  }
  void pass(const char* where) const {
    if (fault_.kind == FaultKind::Launch && ++passes_ == fault_.n)
      fail("cudaErrorLaunchFailure (unspecified launch failure) in " + std::string(where) + ", pass " +
           std::to_string(fault_.n));
    if (fault_.kind == FaultKind::Lost && ++passes_ == fault_.n)
      fail("cudaErrorDevicesUnavailable (the device disappeared) in " + std::string(where) + ", pass " +
           std::to_string(fault_.n));
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw DeviceError("simulated GPU: " + what + " [injected by " + fault_.text + "]");
  }

  std::unique_ptr<Backend> inner_;
  FaultSpec fault_;
  // copy_labels and gather_labels are const: the counters are bookkeeping.
  mutable long long allocations_ = 0, passes_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_faulty_backend(std::unique_ptr<Backend> inner, const FaultSpec& fault) {
  return std::make_unique<FaultyBackend>(std::move(inner), fault);
}

}  // namespace archetype
