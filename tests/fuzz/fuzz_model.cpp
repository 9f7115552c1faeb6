// libFuzzer target: the model.json loader behind `archetype predict`
// (parse_model_file, what load_model_file runs on the file's text).
// Besides the contract (load or InputError), a loaded model is checked for
// what predict relies on: k centroids of d values, k persona names, d
// positive scales, everything finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_contract.hpp"
#include "study/model_file.hpp"

namespace {

using archetype::fuzz::finding;

void check_model(const archetype::SavedModel& m) {
  const std::size_t d = m.columns.size(), k = static_cast<std::size_t>(m.k);
  if (d == 0 || m.k < 1) finding("a loaded model without features or clusters");
  if (m.names.size() != d || m.mean.size() != d || m.scale.size() != d) finding("feature arrays of different sizes");
  if (m.centroids_scaled.size() != k * d) finding("centroids_scaled is not k x d");
  if (m.persona_names.size() != k) finding("persona_names is not k long");
  for (double s : m.scale)
    if (!(s > 0.0) || !std::isfinite(s)) finding("a scale that is not positive and finite");
  for (double v : m.centroids_scaled)
    if (!std::isfinite(v)) finding("a non-finite centroid value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  archetype::SavedModel model;
  if (archetype::fuzz::parses_or_input_error([&] { model = archetype::parse_model_file(text, "fuzz.json"); })) {
    check_model(model);
  }
  return 0;
}
