// libFuzzer target: the generator parameter reader behind `archetype
// generate --params` (parse_generator_params).  Besides the contract (load
// or InputError), accepted parameters are checked (weights that sum to 1,
// finite means, symmetric positive-definite covariances, a loading in
// [0, 1]) and then used: 64 rows of 3 features are generated into a .npy
// file and read back, where every value must be finite (read_npy refuses
// anything else, so an accepted file that generates NaN is a finding).
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "archetype/generator.hpp"
#include "archetype/npy.hpp"
#include "fuzz_contract.hpp"

namespace {

using archetype::fuzz::finding;

std::string g_path;

void remove_output_file() { std::remove(g_path.c_str()); }

void check_params(const archetype::GeneratorParams& p) {
  if (p.components.empty()) finding("accepted parameters without components");
  double total = 0.0;
  for (const archetype::MixtureComponent& c : p.components) {
    if (!(c.weight > 0.0) || !std::isfinite(c.weight)) finding("a weight that is not positive and finite");
    total += c.weight;
    for (double m : c.mean)
      if (!std::isfinite(m)) finding("a non-finite mean");
    const auto& s = c.cov;
    if (!(s[0][0] > 0.0) || !(s[1][1] > 0.0) || !(s[0][0] * s[1][1] - s[0][1] * s[1][0] > 0.0))
      finding("a covariance that is not positive definite");
  }
  if (std::fabs(total - 1.0) > 1e-9) finding("weights that do not sum to 1 after normalisation");
  if (!(p.extra.loading >= 0.0 && p.extra.loading <= 1.0)) finding("a loading outside [0, 1]");
  if (!std::isfinite(p.extra.center) || !(p.extra.scale > 0.0) || !std::isfinite(p.extra.scale))
    finding("extra features with a non-finite centre or scale");
  for (const archetype::GeneratedFeature& f : p.features)
    if (f.column.empty()) finding("a feature without a column name");
}

void check_generation(const archetype::GeneratorParams& p) {
  archetype::GenerateOptions o;
  o.rows = 64;
  o.seed = 7;
  o.features = 3;
  o.threads = 1;
  o.out = g_path;
  if (!archetype::fuzz::parses_or_input_error([&] { archetype::generate_creators(p, o); }))
    finding("accepted parameters that cannot generate");
  archetype::Matrix m;
  if (!archetype::fuzz::parses_or_input_error([&] { m = archetype::read_npy(g_path); }))
    finding("accepted parameters that generate values read_npy refuses (not finite)");
  if (m.rows != o.rows || m.cols != o.features) finding("a generated matrix of the wrong shape");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* tmp = std::getenv("TMPDIR");
  g_path = std::string(tmp && *tmp ? tmp : "/tmp") + "/archetype_fuzz_generator_" + std::to_string(::getpid()) + ".npy";
  std::atexit(remove_output_file);
  archetype::fuzz::single_threaded();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  archetype::GeneratorParams params;
  if (archetype::fuzz::parses_or_input_error([&] { params = archetype::parse_generator_params(text, "fuzz.json"); })) {
    check_params(params);
    check_generation(params);
  }
  return 0;
}
