// Synthetic creators (see include/archetype/generator.hpp): parameter file
// validation, the per-chunk sampler, and the streamed, ordered writer.
#include "archetype/generator.hpp"

#include <fast_float/fast_float.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <utility>

#include "archetype/error.hpp"
#include "archetype/npy.hpp"
#include "io/interrupt.hpp"
#include "io/output_files.hpp"  // csv_field
#include "engine/random.hpp"         // splitmix64

namespace archetype {
namespace {

using json = nlohmann::json;

// Magnitude limits that keep every quantized value within int64 and every
// integer feature exact in float32 (the .npy output).
constexpr double kMaxMean = 1e6;
constexpr double kMaxVariance = 1e12;
constexpr double kMaxInteger = 16777216.0;  // 2^24
constexpr int kMaxDecimals = 9;

// ---------------------------------------------------------------------------
// Parameter file
// ---------------------------------------------------------------------------

/// Typed access to the JSON document with "FILE: FIELD: ..." errors.
class ParamReader {
 public:
  explicit ParamReader(const std::string& source) : source_(source) {}

  [[noreturn]] void bad(const std::string& field, const std::string& what) const {
    throw InputError(source_ + ": " + field + ": " + what);
  }
  const json& member(const json& obj, const std::string& key, const std::string& field) const {
    if (!obj.is_object()) bad(field, "expected an object, found " + obj.dump());
    const auto it = obj.find(key);
    if (it == obj.end()) bad(field, "missing field '" + key + "'");
    return *it;
  }
  double number(const json& v, const std::string& field) const {
    if (!v.is_number() || !std::isfinite(v.get<double>())) bad(field, "expected a finite number, found " + v.dump());
    return v.get<double>();
  }
  double number_in(const json& v, const std::string& field, double lo, double hi) const {
    const double x = number(v, field);
    if (x < lo || x > hi) bad(field, "expected a number in [" + num(lo) + ", " + num(hi) + "], found " + v.dump());
    return x;
  }
  long long integer_in(const json& v, const std::string& field, long long lo, long long hi) const {
    const double x = v.is_number() ? v.get<double>() : NAN;
    if (!std::isfinite(x) || x != std::floor(x) || x < static_cast<double>(lo) || x > static_cast<double>(hi))
      bad(field, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], found " + v.dump());
    return static_cast<long long>(x);
  }
  std::string text(const json& v, const std::string& field) const {
    if (!v.is_string() || v.get<std::string>().empty()) bad(field, "expected a non-empty string, found " + v.dump());
    return v.get<std::string>();
  }
  const json& array(const json& v, const std::string& field, std::size_t min_size, std::size_t max_size) const {
    if (!v.is_array() || v.size() < min_size || v.size() > max_size)
      bad(field, "expected an array of " +
                     (min_size == max_size ? std::to_string(min_size) : std::to_string(min_size) + " to " + std::to_string(max_size)) +
                     " elements, found " + v.dump());
    return v;
  }

 private:
  static std::string num(double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  }
  const std::string& source_;
};

GeneratedFeature parse_feature(const ParamReader& r, const json& f, const std::string& field, const std::string& column) {
  GeneratedFeature out;
  out.column = r.text(r.member(f, "column", field), field + ".column");
  if (out.column != column) r.bad(field + ".column", "expected '" + column + "' (columns[] names the same metric), found '" + out.column + "'");
  const json& integer = r.member(f, "integer", field);
  if (!integer.is_boolean()) r.bad(field + ".integer", "expected true or false, found " + integer.dump());
  out.integer = integer.get<bool>();
  if (out.integer) {
    const auto lim = static_cast<long long>(kMaxInteger);
    out.min = static_cast<double>(r.integer_in(r.member(f, "min", field), field + ".min", -lim, lim));
    out.max = static_cast<double>(r.integer_in(r.member(f, "max", field), field + ".max", -lim, lim));
    if (out.min > out.max) r.bad(field, "min is above max");
  } else {
    out.decimals = static_cast<int>(r.integer_in(r.member(f, "decimals", field), field + ".decimals", 0, kMaxDecimals));
    if (f.contains("min")) out.min = r.number(f["min"], field + ".min");
    if (f.contains("max")) out.max = r.number(f["max"], field + ".max");
  }
  return out;
}

MixtureComponent parse_component(const ParamReader& r, const json& c, const std::string& field) {
  MixtureComponent out;
  out.weight = r.number(r.member(c, "weight", field), field + ".weight");
  if (!(out.weight > 0.0)) r.bad(field + ".weight", "expected a positive number, found " + c["weight"].dump());
  const json& mean = r.array(r.member(c, "mean", field), field + ".mean", 2, 2);
  for (std::size_t j = 0; j < 2; ++j)
    out.mean[j] = r.number_in(mean[j], field + ".mean[" + std::to_string(j) + "]", -kMaxMean, kMaxMean);
  const json& cov = r.array(r.member(c, "cov", field), field + ".cov", 2, 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::string row_field = field + ".cov[" + std::to_string(i) + "]";
    const json& row = r.array(cov[i], row_field, 2, 2);
    for (std::size_t j = 0; j < 2; ++j)
      out.cov[i][j] = r.number_in(row[j], row_field + "[" + std::to_string(j) + "]", -kMaxVariance, kMaxVariance);
  }
  const auto& s = out.cov;
  const double tol = 1e-9 * (std::fabs(s[0][0]) + std::fabs(s[1][1]));
  if (std::fabs(s[0][1] - s[1][0]) > tol) r.bad(field + ".cov", "expected a symmetric matrix, found " + cov.dump());
  if (!(s[0][0] > 0.0) || !(s[0][0] * s[1][1] - s[0][1] * s[1][0] > 0.0))
    r.bad(field + ".cov", "expected a positive-definite matrix (positive variances, |correlation| < 1), found " + cov.dump());
  return out;
}

ExtraFeatureSpec parse_extra(const ParamReader& r, const json& e) {
  const std::string field = "extra_features";
  ExtraFeatureSpec out;
  out.center = r.number_in(r.member(e, "center", field), field + ".center", -kMaxMean, kMaxMean);
  out.scale = r.number_in(r.member(e, "scale", field), field + ".scale", 0.0, kMaxMean);
  if (!(out.scale > 0.0)) r.bad(field + ".scale", "expected a positive number");
  out.loading = r.number_in(r.member(e, "loading", field), field + ".loading", 0.0, 1.0);
  out.decimals = static_cast<int>(r.integer_in(r.member(e, "decimals", field), field + ".decimals", 0, kMaxDecimals));
  return out;
}

// ---------------------------------------------------------------------------
// Sampling
// ---------------------------------------------------------------------------

/// Natural logarithm of s > 0 from +, -, *, / and frexp only (all exact or
/// correctly rounded in IEEE arithmetic), so that the normals, hence the
/// generated files, are the same bits on every platform; libm's log may
/// differ in the last bit between implementations (glibc even picks a
/// variant by CPU).  Accurate to a few ulps: s = m 2^e with m in
/// [sqrt(1/2), sqrt(2)), log m = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.172,
/// whose odd series t + t^3/3 + ... converges to double precision by t^23.
double portable_log(double s) {
  int e = 0;
  double m = std::frexp(s, &e);
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  const double t = (m - 1.0) / (m + 1.0), t2 = t * t;
  double series = 1.0 / 23.0;
  for (int k = 10; k >= 0; --k) series = series * t2 + 1.0 / (2.0 * k + 1.0);
  return static_cast<double>(e) * 0.69314718055994530942 + 2.0 * t * series;
}

/// One chunk's random stream: mt19937_64 (its sequence is fixed by the
/// standard) with the uniform and normal transforms written out, because
/// std::normal_distribution's output is implementation-defined.
class ChunkRng {
 public:
  explicit ChunkRng(std::uint64_t seed) : gen_(seed) {}
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  /// Marsaglia's polar method; the second normal of each pair is kept for
  /// the next call.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0, v = 0.0, s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * portable_log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

 private:
  std::mt19937_64 gen_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

/// How one output column turns a real draw into the integer it writes:
/// integer features round and clamp; real features reflect at 0 and keep
/// `decimals` digits (the integer is value * 10^decimals).
struct Quantizer {
  bool integer = false;
  double lo = 0.0, hi = 0.0;
  int decimals = 0;
  double scale = 1.0;  // 10^decimals

  std::int64_t operator()(double x) const {
    if (integer) return static_cast<std::int64_t>(std::clamp(std::round(x), lo, hi));
    // Overflow guard only: validated parameters stay far below it.
    return static_cast<std::int64_t>(std::llround(std::min(std::fabs(x) * scale, 1e18)));
  }
};

Quantizer make_quantizer(bool integer, double lo, double hi, int decimals) {
  Quantizer q{integer, lo, hi, decimals, 1.0};
  for (int i = 0; i < decimals; ++i) q.scale *= 10.0;
  return q;
}

/// Everything a chunk needs, precomputed from the parameters.
struct Sampler {
  struct Component {
    double cum_weight, m1, m2, l11, l21, l22;  // Cholesky factor [[l11, 0], [l21, l22]]
  };
  std::vector<Component> components;
  std::vector<Quantizer> quantizers;  // one per feature
  double mu1 = 0, mu2 = 0, sd1 = 1, sd2 = 1;  // the mixture's overall moments
  std::vector<double> a, b;                   // extra loadings, index j - 2 (0-based feature)
  double noise = 0.0, center = 0.0, scale = 1.0;

  Sampler(const GeneratorParams& p, std::size_t features) {
    double cum = 0.0, e1 = 0.0, e2 = 0.0, s1 = 0.0, s2 = 0.0;
    for (const MixtureComponent& c : p.components) {
      cum += c.weight;
      const double l11 = std::sqrt(c.cov[0][0]);
      const double l21 = c.cov[1][0] / l11;
      components.push_back({cum, c.mean[0], c.mean[1], l11, l21, std::sqrt(c.cov[1][1] - l21 * l21)});
      e1 += c.weight * c.mean[0];
      e2 += c.weight * c.mean[1];
      s1 += c.weight * (c.cov[0][0] + c.mean[0] * c.mean[0]);
      s2 += c.weight * (c.cov[1][1] + c.mean[1] * c.mean[1]);
    }
    components.back().cum_weight = 1.0;  // no row may fall past the last component by rounding
    mu1 = e1;
    mu2 = e2;
    sd1 = std::sqrt(std::max(s1 - e1 * e1, 1e-300));
    sd2 = std::sqrt(std::max(s2 - e2 * e2, 1e-300));
    for (const GeneratedFeature& f : p.features) quantizers.push_back(make_quantizer(f.integer, f.min, f.max, f.decimals));
    for (std::size_t j = 2; j < features; ++j) {
      const std::array<double, 2> ab = extra_metric_loadings(j + 1, p.extra.loading);
      a.push_back(ab[0]);
      b.push_back(ab[1]);
      quantizers.push_back(make_quantizer(false, 0.0, 0.0, p.extra.decimals));
    }
    noise = std::sqrt(1.0 - p.extra.loading * p.extra.loading);
    center = p.extra.center;
    scale = p.extra.scale;
  }

  /// Draws one row; writes its quantized values to q[0..features).
  void draw(ChunkRng& rng, std::int64_t* q) const {
    const double u = rng.uniform();
    std::size_t k = 0;
    while (u >= components[k].cum_weight) ++k;
    const Component& c = components[k];
    const double z1 = rng.normal(), z2 = rng.normal();
    const double x1 = c.m1 + c.l11 * z1;
    const double x2 = c.m2 + (c.l21 * z1 + c.l22 * z2);
    q[0] = quantizers[0](x1);
    q[1] = quantizers[1](x2);
    if (a.empty()) return;
    const double u1 = (x1 - mu1) / sd1, u2 = (x2 - mu2) / sd2;
    for (std::size_t j = 0; j < a.size(); ++j) {
      const double v = center + scale * (a[j] * u1 + b[j] * u2 + noise * rng.normal());
      q[j + 2] = quantizers[j + 2](v);
    }
  }
};

std::uint64_t chunk_seed(std::uint64_t seed, std::size_t chunk) {
  return splitmix64(splitmix64(seed) + static_cast<std::uint64_t>(chunk));
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

constexpr std::size_t kMaxFieldChars = 24;  // "-"/"0." + 19 digits + "." + separator

/// Writes q / 10^decimals in fixed notation (q >= 0 for real features).
char* write_fixed(char* out, std::int64_t q, int decimals) {
  if (decimals == 0) return std::to_chars(out, out + kMaxFieldChars, q).ptr;
  char digits[24];
  const auto len = static_cast<int>(std::to_chars(digits, digits + sizeof digits, q).ptr - digits);
  if (len <= decimals) {
    *out++ = '0';
    *out++ = '.';
    for (int i = len; i < decimals; ++i) *out++ = '0';
    std::memcpy(out, digits, static_cast<std::size_t>(len));
    return out + len;
  }
  const int whole = len - decimals;
  std::memcpy(out, digits, static_cast<std::size_t>(whole));
  out += whole;
  *out++ = '.';
  std::memcpy(out, digits + whole, static_cast<std::size_t>(decimals));
  return out + decimals;
}

/// The float read_csv would parse from the text write_fixed writes: the
/// float nearest to q / 10^decimals.  q / scale is the double nearest to it,
/// and rounding that to float can differ from rounding the exact value only
/// when the double lies exactly halfway between two floats (its 29 bits
/// below float precision are 1000...0); that rare case parses the text.
float fixed_as_float(std::int64_t q, int decimals, double scale) {
  const double r = static_cast<double>(q) / scale;
  std::uint64_t bits = 0;
  std::memcpy(&bits, &r, sizeof bits);
  if ((bits & 0x1FFFFFFFu) != 0x10000000u) return static_cast<float>(r);
  char text[kMaxFieldChars];
  char* end = write_fixed(text, q, decimals);
  float v = 0.0f;
  fast_float::from_chars(text, end, v);
  return v;
}

/// A thread's chunk: rows drawn from the chunk's own stream, formatted as
/// CSV text or packed as float32.
class ChunkBuffer {
 public:
  ChunkBuffer(const Sampler& s, std::size_t features, bool npy) : s_(s), d_(features), npy_(npy), q_(features) {
    // Text: sized for typical rows (a few digits per field) and grown on
    // demand, so a wide chunk never reserves its worst case.
    if (npy_) floats_.resize(kGeneratorChunkRows * d_);
    else text_.resize(kGeneratorChunkRows * (8 + 12 * d_));
  }

  void fill(std::uint64_t seed, std::size_t chunk, std::size_t first_row, std::size_t rows) {
    ChunkRng rng(chunk_seed(seed, chunk));
    const std::size_t row_bound = (d_ + 1) * kMaxFieldChars;
    std::size_t used = 0;
    float* f = floats_.data();
    for (std::size_t i = 0; i < rows; ++i) {
      s_.draw(rng, q_.data());
      if (npy_) {
        f = pack_row(f);
        continue;
      }
      if (text_.size() - used < row_bound) text_.resize(2 * text_.size() + row_bound);
      used = static_cast<std::size_t>(format_row(text_.data() + used, first_row + i) - text_.data());
    }
    size_ = npy_ ? rows * d_ * sizeof(float) : used;
  }
  const void* data() const { return npy_ ? static_cast<const void*>(floats_.data()) : text_.data(); }
  std::size_t size() const { return size_; }

 private:
  char* format_row(char* out, std::size_t id) {
    out = std::to_chars(out, out + kMaxFieldChars, id).ptr;
    for (std::size_t j = 0; j < d_; ++j) {
      *out++ = ',';
      const Quantizer& qz = s_.quantizers[j];
      out = qz.integer ? std::to_chars(out, out + kMaxFieldChars, q_[j]).ptr : write_fixed(out, q_[j], qz.decimals);
    }
    *out++ = '\n';
    return out;
  }
  float* pack_row(float* f) const {
    for (std::size_t j = 0; j < d_; ++j) {
      const Quantizer& qz = s_.quantizers[j];
      *f++ = qz.integer ? static_cast<float>(q_[j]) : fixed_as_float(q_[j], qz.decimals, qz.scale);
    }
    return f;
  }

  const Sampler& s_;
  std::size_t d_;
  bool npy_;
  std::vector<std::int64_t> q_;
  std::vector<char> text_;
  std::vector<float> floats_;
  std::size_t size_ = 0;
};

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

/// A file written under a temporary name next to its final path and renamed
/// into place by commit(); removed if destroyed before, or on an interrupt
/// (registered with interrupt.hpp).
class StagedFile {
 public:
  explicit StagedFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
    interrupt::track(tmp_, interrupt::Removal::Everything, [&] {
      f_ = std::fopen(tmp_.c_str(), "wb");
      if (!f_) throw InputError(path_ + ": cannot create: " + std::strerror(errno));
    });
  }
  ~StagedFile() {
    if (f_) std::fclose(f_);
    if (!committed_) std::remove(tmp_.c_str());
    interrupt::untrack(tmp_);
  }
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  /// False on failure, keeping the writing thread's errno for fail_write().
  bool write(const void* data, std::size_t n) {
    if (std::fwrite(data, 1, n, f_) != n) {
      write_errno_ = errno;
      return false;
    }
    bytes_ += n;
    return true;
  }
  std::size_t bytes() const { return bytes_; }
  [[noreturn]] void fail_write() const {
    throw InputError(path_ + ": write failed: " + std::strerror(write_errno_ ? write_errno_ : errno));
  }
  void commit() {
    const int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) fail_write();
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
      throw InputError(path_ + ": cannot rename into place: " + std::strerror(errno));
    committed_ = true;
  }

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  std::size_t bytes_ = 0;
  int write_errno_ = 0;
  bool committed_ = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Generates every chunk in parallel and writes them in chunk order; each
/// thread owns one buffer, so memory does not grow with the row count.
void write_chunks(const Sampler& sampler, const GenerateOptions& o, bool npy, StagedFile& file) {
  const std::size_t chunks = (o.rows + kGeneratorChunkRows - 1) / kGeneratorChunkRows;
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  std::atomic<bool> failed{false};
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    std::unique_ptr<ChunkBuffer> buf;
#pragma omp for ordered schedule(dynamic, 1)
    for (std::size_t c = 0; c < chunks; ++c) {
      const std::size_t first = c * kGeneratorChunkRows;
      try {
        if (!failed) {
          if (!buf) buf = std::make_unique<ChunkBuffer>(sampler, o.features, npy);
          buf->fill(o.seed, c, first, std::min(kGeneratorChunkRows, o.rows - first));
        }
      } catch (...) {
#pragma omp critical(archetype_generate_error)
        if (!error) error = std::current_exception();
        failed = true;
      }
#pragma omp ordered
      if (!failed && !file.write(buf->data(), buf->size())) failed = true;
    }
  }
  if (error) std::rethrow_exception(error);
  if (failed) file.fail_write();
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

GeneratorParams parse_generator_params(std::string_view text, const std::string& source_name) {
  if (text.size() > kMaxGeneratorParamsBytes)
    throw InputError(source_name + ": " + std::to_string(text.size()) +
                     " bytes, above the 16 MiB a generator parameter file may have");
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // Not only parse_error: the parser throws out_of_range for a number
    // beyond double's range ("1e999").
    throw InputError(source_name + ": not valid JSON: " + e.what());
  }
  const ParamReader r(source_name);
  if (!doc.is_object()) r.bad("(root)", "expected an object");
  r.integer_in(r.member(doc, "version", "(root)"), "version", 1, 1);

  GeneratorParams p;
  const json& columns = r.array(r.member(doc, "columns", "(root)"), "columns", 3, 3);
  std::array<std::string, 3> names;
  for (std::size_t j = 0; j < 3; ++j) names[j] = r.text(columns[j], "columns[" + std::to_string(j) + "]");
  p.id_column = names[0];

  const json& features = r.array(r.member(doc, "features", "(root)"), "features", 2, 2);
  for (std::size_t j = 0; j < 2; ++j)
    p.features[j] = parse_feature(r, features[j], "features[" + std::to_string(j) + "]", names[j + 1]);

  const json& comps = r.array(r.member(doc, "components", "(root)"), "components", 1, 1000);
  double total = 0.0;
  for (std::size_t c = 0; c < comps.size(); ++c) {
    p.components.push_back(parse_component(r, comps[c], "components[" + std::to_string(c) + "]"));
    total += p.components.back().weight;
  }
  if (std::fabs(total - 1.0) > 1e-6)
    r.bad("components", "expected weights that sum to 1, found a sum of " + std::to_string(total));
  for (MixtureComponent& c : p.components) c.weight /= total;

  p.extra = parse_extra(r, r.member(doc, "extra_features", "(root)"));
  return p;
}

GeneratorParams load_generator_params(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  if (const std::streamoff size = in.tellg(); size > static_cast<std::streamoff>(kMaxGeneratorParamsBytes))
    throw InputError(path + ": " + std::to_string(static_cast<long long>(size)) +
                     " bytes, above the 16 MiB a generator parameter file may have");
  in.seekg(0, std::ios::beg);
  std::ostringstream s;
  s << in.rdbuf();
  return parse_generator_params(s.str(), path);
}

std::array<double, 2> extra_metric_loadings(std::size_t j, double loading) {
  // (cos t_j, sin t_j) for t_j = pi/4 + (j - 3) * golden angle: metric_3
  // loads equally on both metrics, later ones take mixes that never repeat.
  // Rotating step by step with the golden angle's cosine and sine as
  // literals uses basic IEEE operations only (no libm cos/sin), so the
  // loadings are the same bits on every platform.
  constexpr double kCosGolden = -0.7373688780783197, kSinGolden = 0.6754902942615238;
  double c = std::sqrt(0.5), s = c;
  for (std::size_t step = 3; step < j; ++step) {
    const double next_c = c * kCosGolden - s * kSinGolden;
    s = s * kCosGolden + c * kSinGolden;
    c = next_c;
  }
  return {loading * c, loading * s};
}

std::string generated_csv_header(const GeneratorParams& params, std::size_t features) {
  std::string h = csv_field(params.id_column);
  for (const GeneratedFeature& f : params.features) h += "," + csv_field(f.column);
  for (std::size_t j = 3; j <= features; ++j) h += ",metric_" + std::to_string(j);
  return h + "\n";
}

GenerateResult generate_creators(const GeneratorParams& params, const GenerateOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.features < 2 || o.features > kGeneratorMaxFeatures)
    throw InputError("--features must be in [2, " + std::to_string(kGeneratorMaxFeatures) + "], not " + std::to_string(o.features));
  if (o.out.empty()) throw InputError("--out: expected a file name");
  const bool npy = ends_with(o.out, ".npy");
  const Sampler sampler(params, o.features);

  StagedFile file(o.out);
  const std::string header = npy ? npy_header("<f4", {o.rows, o.features}) : generated_csv_header(params, o.features);
  if (!file.write(header.data(), header.size())) file.fail_write();
  write_chunks(sampler, o, npy, file);
  file.commit();

  GenerateResult r;
  r.path = o.out;
  r.rows = o.rows;
  r.bytes = file.bytes();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace archetype
