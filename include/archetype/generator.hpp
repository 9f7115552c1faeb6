// Synthetic creators that look like the reference dataset: a Gaussian
// mixture (weights, means, full 2x2 covariances in original units) fitted by
// scripts/fit_generator.py and stored in data/generator.json, whose
// "_comment" field documents the format.
//
// Generation rules (per row):
//  - pick a component with probability `weight`, draw mean + L z with L the
//    Cholesky factor of its covariance and z two standard normals;
//  - an integer feature (engagement) is rounded to the nearest integer (half
//    away from zero) and clamped to the file's [min, max];
//  - a real feature (monetization) is reflected at 0 (x -> |x|), so it is
//    never negative while its density near 0 stays continuous, and written
//    with the file's `decimals` digits (value = round(x * 10^decimals) /
//    10^decimals);
//  - with D > 2 features, extra metrics metric_3..metric_D are correlated
//    with the first two (the formula is in data/generator.json's comment and
//    extra_metric_loadings() below), reflected at 0 like monetization.
//
// Determinism: rows are cut into chunks of kGeneratorChunkRows; chunk c draws
// from its own std::mt19937_64 seeded with splitmix64(splitmix64(seed) + c),
// with uniform and normal (Marsaglia polar, with a logarithm built from
// IEEE basic operations) transforms spelled out, so the output bytes depend
// on (params, seed, features) only: never on the thread count or the
// platform, and a file of N rows is a prefix of any longer one.
//
// The .npy output holds, bit for bit, the float32 values that read_csv
// returns for the CSV output of the same arguments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace archetype {

/// Rows per chunk (part of the determinism contract: changing it changes
/// the generated data of every seed).
constexpr std::size_t kGeneratorChunkRows = 65536;
/// Largest --features: bounds the per-thread chunk buffers (about 1.3 MB per
/// feature per thread).
constexpr std::size_t kGeneratorMaxFeatures = 64;

struct GeneratedFeature {
  std::string column;
  bool integer = false;
  double min = 0.0, max = 0.0;  ///< integer: the clamp range; real: informational
  int decimals = 6;             ///< real only: digits after the point
};

struct MixtureComponent {
  double weight = 0.0;
  std::array<double, 2> mean{};
  std::array<std::array<double, 2>, 2> cov{};
};

struct ExtraFeatureSpec {
  double center = 50.0, scale = 15.0, loading = 0.8;
  int decimals = 6;
};

struct GeneratorParams {
  std::string id_column;
  std::array<GeneratedFeature, 2> features;
  std::vector<MixtureComponent> components;  ///< weights normalized to sum to 1
  ExtraFeatureSpec extra;
};

/// The most a generator parameter file may have (it is a few kilobytes;
/// parsed JSON takes about ten times its text).
inline constexpr std::size_t kMaxGeneratorParamsBytes = std::size_t{16} << 20;

/// Loads and validates a generator parameter file; every problem is an
/// InputError "FILE: FIELD: ..." (e.g. "gen.json: components[2].cov: ...").
/// A file above kMaxGeneratorParamsBytes is refused before it is read.
GeneratorParams load_generator_params(const std::string& path);
/// Same on JSON text; `source_name` stands for the file in messages.
GeneratorParams parse_generator_params(std::string_view text, const std::string& source_name);

/// (a_j, b_j): the loadings of metric_j (j >= 3, 1-based column number among
/// the features) on the standardized first two features.
std::array<double, 2> extra_metric_loadings(std::size_t j, double loading);

struct GenerateOptions {
  std::size_t rows = 0;
  std::uint64_t seed = 0;
  std::size_t features = 2;  ///< 2..kGeneratorMaxFeatures
  int threads = 0;           ///< 0: OpenMP's default
  std::string out;           ///< ".npy" suffix: float32 N x D matrix; else CSV
};

struct GenerateResult {
  std::string path;
  std::size_t rows = 0;
  std::size_t bytes = 0;
  double seconds = 0.0;
};

/// Streams the generated creators to options.out (written under a temporary
/// name, renamed into place when complete).  InputError for bad options or
/// an unwritable path.
GenerateResult generate_creators(const GeneratorParams& params, const GenerateOptions& options);

/// The CSV header line (with '\n') of a generated file with D features.
std::string generated_csv_header(const GeneratorParams& params, std::size_t features);

}  // namespace archetype
