// The Clusterer's state (clusterer.hpp): the data, grids, backend and
// binding, and the one place where `--backend auto` gives up a failed GPU.
#pragma once

#include <memory>
#include <string>

#include "archetype/backend.hpp"
#include "archetype/clusterer.hpp"
#include "archetype/error.hpp"
#include "engine/data_view.hpp"

namespace archetype {

struct Clusterer::Impl {
  EngineOptions options;
  /// Set when the rows are split across processes (options.communicator
  /// with more than one rank): the backend is then the distributed decorator.
  std::unique_ptr<RowSplit> split;
  PreparedData data;
  /// sample_weight, quantized (the Clusterer's own copy); no weights: every row 1.
  WeightGrid weights;
  FixedPoint fp;
  std::unique_ptr<Backend> backend;
  /// k_max of the backend's binding to the data with `fp`; 0: not bound
  /// (or bound by predict, with other grids).
  int bound_k = 0;
  bool fell_back = false;  ///< auto gave up the GPU: no second fallback

  Impl(const DataView& view, const EngineOptions& opts);
  /// With a given backend instead of select_backend's (tests).
  Impl(const DataView& view, const EngineOptions& opts, std::unique_ptr<Backend> b);

  void say(const std::string& line) const {
    if (options.notice) options.notice(line);
  }
  /// Binds for k clusters unless bound with these grids for k or more.
  void bind(int k);

  /// fn(), and with backend "auto" after a DeviceError: one notice, the
  /// CPU backend from then on, and fn() again on it.  Results are the same
  /// bits on every backend, so the caller cannot tell but for the notice.
  template <typename Fn>
  auto with_fallback(Fn&& fn) -> decltype(fn()) {
    try {
      return fn();
    } catch (const DeviceError& e) {
      // Under a split, the other processes are inside the same call: a
      // rerun here alone would not meet them.  The job ends instead.
      if (options.backend != "auto" || fell_back || split) throw;
      say(std::string("GPU failed: ") + e.what() + "; retrying on the CPU");
      fall_back_to_cpu();
      return fn();
    }
  }
  void fall_back_to_cpu();
  /// The split (a collective), the checked data and the grids, before any backend.
  void prepare(const DataView& view);
  /// Under a split: every rank's labels checked, one agreed InputError if any is bad.
  void agree_on_labels(const std::vector<std::int32_t>& labels, int k) const;
};

}  // namespace archetype
