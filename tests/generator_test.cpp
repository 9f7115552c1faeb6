// `archetype generate`: determinism (seed, thread count), the CSV and .npy
// layouts, the distribution against data/generator.json and the reference
// dataset, extra correlated metrics, parameter validation, the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "archetype/csv.hpp"
#include "archetype/error.hpp"
#include "archetype/generator.hpp"
#include "archetype/npy.hpp"
#include "cli_support.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using archetype::GenerateOptions;
using archetype::GeneratorParams;
using archetype::InputError;
using archetype::Matrix;
using archetype::Table;
using json = nlohmann::ordered_json;

std::string params_path() { return archetype::test::data_dir() + "/generator.json"; }
const GeneratorParams& params() {
  static const GeneratorParams p = archetype::load_generator_params(params_path());
  return p;
}

using archetype::test::slurp;

Table read_generated(const fs::path& csv) {
  archetype::CsvOptions o;  // every column but the auto-detected "User ID"
  return archetype::read_csv(csv.string(), o);
}

// A temporary directory per test (and the binary, for GeneratorCli).
class GeneratorTest : public archetype::test::CliTest {
 protected:
  fs::path generate(const std::string& name, std::size_t rows, std::uint64_t seed, std::size_t features = 2, int threads = 0) {
    GenerateOptions o;
    o.rows = rows;
    o.seed = seed;
    o.features = features;
    o.threads = threads;
    o.out = (dir_ / name).string();
    const archetype::GenerateResult r = archetype::generate_creators(params(), o);
    EXPECT_EQ(r.rows, rows);
    EXPECT_EQ(r.bytes, fs::file_size(o.out));
    return o.out;
  }
};

// 150,000 rows: two full chunks and a partial one.
constexpr std::size_t kRows = 150000;

using GeneratorDeterminism = GeneratorTest;

TEST_F(GeneratorDeterminism, SameSeedSameBytes) {
  EXPECT_EQ(slurp(generate("a.csv", kRows, 7)), slurp(generate("b.csv", kRows, 7)));
}

TEST_F(GeneratorDeterminism, ThreadCountDoesNotMatter) {
  const std::string one = slurp(generate("t1.csv", kRows, 11, 3, 1));
  EXPECT_EQ(one, slurp(generate("t2.csv", kRows, 11, 3, 2)));
  EXPECT_EQ(one, slurp(generate("t3.csv", kRows, 11, 3, 3)));
  EXPECT_EQ(slurp(generate("t1.npy", kRows, 11, 3, 1)), slurp(generate("t2.npy", kRows, 11, 3, 2)));
}

TEST_F(GeneratorDeterminism, DifferentSeedsDiffer) {
  const Table a = read_generated(generate("s1.csv", 1000, 1));
  const Table b = read_generated(generate("s2.csv", 1000, 2));
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.features.rows; ++i) same += a.features.at(i, 1) == b.features.at(i, 1);
  EXPECT_LT(same, 10u);
}

TEST_F(GeneratorDeterminism, PrefixIsStableAcrossRowCounts) {
  // Chunk streams depend on (seed, chunk) only, so a longer file starts with a shorter one.
  const std::string shorter = slurp(generate("short.csv", 70000, 5));
  const std::string longer = slurp(generate("long.csv", 140000, 5));
  EXPECT_EQ(longer.compare(0, shorter.size(), shorter), 0);
}

using GeneratorCsv = GeneratorTest;

TEST_F(GeneratorCsv, HeaderColumnsAndIds) {
  const fs::path p = generate("h.csv", 5000, 3);
  const std::string text = slurp(p);
  EXPECT_EQ(text.substr(0, text.find('\n') + 1), "User ID,Instagram visit score,Spending_rank(0 to 100)\n");
  const Table t = read_generated(p);
  ASSERT_EQ(t.features.rows, 5000u);
  ASSERT_EQ(t.features.cols, 2u);
  EXPECT_EQ(t.id_name, "User ID");
  for (std::size_t i = 0; i < t.ids.size(); ++i) ASSERT_EQ(t.ids[i], std::to_string(i));
}

TEST_F(GeneratorCsv, ZeroRowsIsAHeaderOnly) {
  EXPECT_EQ(slurp(generate("zero.csv", 0, 3)), archetype::generated_csv_header(params(), 2));
}

TEST_F(GeneratorCsv, UnwritablePathIsAnInputErrorAndLeavesNothing) {
  GenerateOptions o;
  o.rows = 10;
  o.out = (dir_ / "no_dir" / "x.csv").string();
  EXPECT_THROW(archetype::generate_creators(params(), o), InputError);
  EXPECT_TRUE(fs::is_empty(dir_));
}

// The mixture's per-component density in original units, for posteriors.
double density(const archetype::MixtureComponent& c, double x1, double x2) {
  const double a = c.cov[0][0], b = c.cov[0][1], d = c.cov[1][1];
  const double det = a * d - b * b;
  const double u = x1 - c.mean[0], v = x2 - c.mean[1];
  const double q = (d * u * u - 2.0 * b * u * v + a * v * v) / det;
  return std::exp(-0.5 * q) / std::sqrt(det);
}

using GeneratorDistribution = GeneratorTest;

TEST_F(GeneratorDistribution, RangesProportionsAndMoments) {
  const Table t = read_generated(generate("dist.csv", 200000, 2024));
  const Matrix& X = t.features;
  const auto& comps = params().components;
  std::vector<double> posterior_sum(comps.size(), 0.0);
  double sum[2] = {0, 0}, sq[2] = {0, 0};
  for (std::size_t i = 0; i < X.rows; ++i) {
    const double e = X.at(i, 0), m = X.at(i, 1);
    ASSERT_EQ(e, std::round(e)) << "row " << i;
    ASSERT_GE(e, 5.0);
    ASSERT_LE(e, 118.0);
    ASSERT_GE(m, 0.0) << "row " << i;
    // The mean posterior of component c estimates its weight without the
    // bias that assigning each row to one component would have.
    std::vector<double> p(comps.size());
    double total = 0.0;
    for (std::size_t c = 0; c < comps.size(); ++c) total += p[c] = comps[c].weight * density(comps[c], e, m);
    for (std::size_t c = 0; c < comps.size(); ++c) posterior_sum[c] += p[c] / total;
    for (int j = 0; j < 2; ++j) {
      const double v = j == 0 ? e : m;
      sum[j] += v;
      sq[j] += v * v;
    }
  }
  const double n = static_cast<double>(X.rows);
  for (std::size_t c = 0; c < comps.size(); ++c) EXPECT_NEAR(posterior_sum[c] / n, comps[c].weight, 0.006) << "component " << c;
  // The reference dataset's moments (README: data profile).
  const double ref_mean[2] = {63.32346154, 42.84840781}, ref_std[2] = {26.5746479, 28.75281799};
  for (int j = 0; j < 2; ++j) {
    const double mean = sum[j] / n, sd = std::sqrt(sq[j] / n - mean * mean);
    EXPECT_NEAR(mean, ref_mean[j], 0.3) << "feature " << j;
    EXPECT_NEAR(sd, ref_std[j], 0.3) << "feature " << j;
  }
}

double correlation(const Matrix& X, std::size_t a, std::size_t b) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (std::size_t i = 0; i < X.rows; ++i) {
    const double x = X.at(i, a), y = X.at(i, b);
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
  }
  const double n = static_cast<double>(X.rows);
  return (sab / n - sa / n * sb / n) / std::sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
}

using GeneratorExtraFeatures = GeneratorTest;

TEST_F(GeneratorExtraFeatures, FiveMetricsCorrelatedWithTheFirstTwo) {
  const fs::path p = generate("five.csv", 100000, 9, 5);
  const std::string text = slurp(p);
  EXPECT_EQ(text.substr(0, text.find('\n')), "User ID,Instagram visit score,Spending_rank(0 to 100),metric_3,metric_4,metric_5");
  const Table t = read_generated(p);
  ASSERT_EQ(t.features.cols, 5u);
  const double r12 = correlation(t.features, 0, 1);
  const double loading = params().extra.loading;
  for (std::size_t j = 2; j < 5; ++j) {
    SCOPED_TRACE("metric_" + std::to_string(j + 1));
    const double r1 = correlation(t.features, j, 0), r2 = correlation(t.features, j, 1);
    // Share of metric_j's variance explained by the first two metrics: the loading squared.
    const double r_squared = (r1 * r1 + r2 * r2 - 2.0 * r1 * r2 * r12) / (1.0 - r12 * r12);
    EXPECT_NEAR(r_squared, loading * loading, 0.03);
    const auto ab = archetype::extra_metric_loadings(j + 1, loading);
    EXPECT_NEAR(r1, ab[0] + ab[1] * r12, 0.03);
    double lo = 1e30;
    for (std::size_t i = 0; i < t.features.rows; ++i) lo = std::min<double>(lo, t.features.at(i, j));
    EXPECT_GE(lo, 0.0);
  }
}

using GeneratorNpy = GeneratorTest;

TEST_F(GeneratorNpy, ShapeAndSameValuesAsTheCsv) {
  const Matrix m = archetype::read_npy(generate("x.npy", 100000, 17, 4).string());
  EXPECT_EQ(m.rows, 100000u);
  EXPECT_EQ(m.cols, 4u);
  const Table t = read_generated(generate("x.csv", 100000, 17, 4));
  EXPECT_EQ(m.values, t.features.values) << "the .npy holds what read_csv reads from the CSV";
}

std::string param_error(const json& doc) {
  try {
    archetype::parse_generator_params(doc.dump(), "gen.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(GeneratorParams, ReferenceFileMatchesTheStudy) {
  // Five components whose weights are the study's cluster sizes / 2600.
  std::vector<long> sizes;
  for (const auto& c : params().components) sizes.push_back(std::lround(c.weight * 2600.0));
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<long>{312, 398, 499, 600, 791}));
  EXPECT_TRUE(params().features[0].integer);
  EXPECT_FALSE(params().features[1].integer);
}

TEST(GeneratorParams, BadFilesNameTheFileAndField) {
  json good;
  std::ifstream(params_path()) >> good;
  ASSERT_EQ(param_error(good), "");
  auto with = [&](auto&& edit) {
    json d = good;
    edit(d);
    return param_error(d);
  };
  EXPECT_NE(with([](json& d) { d["components"][1]["cov"] = {{1.0, 2.0}, {2.0, 1.0}}; })
                .find("gen.json: components[1].cov: expected a positive-definite matrix"),
            std::string::npos);
  EXPECT_NE(with([](json& d) { d["components"][0]["cov"][0][1] = 5.0; }).find("components[0].cov: expected a symmetric matrix"),
            std::string::npos);
  EXPECT_NE(with([](json& d) { d["components"][2]["weight"] = 0.5; }).find("gen.json: components: expected weights that sum to 1"),
            std::string::npos);
  EXPECT_NE(with([](json& d) { d["components"][3].erase("mean"); }).find("gen.json: components[3]: missing field 'mean'"),
            std::string::npos);
  EXPECT_NE(with([](json& d) { d["features"][0]["min"] = 2.5; }).find("gen.json: features[0].min: expected an integer"),
            std::string::npos);
  EXPECT_NE(with([](json& d) { d["features"][1]["column"] = "spend"; }).find("gen.json: features[1].column"), std::string::npos);
  EXPECT_NE(with([](json& d) { d["version"] = 2; }).find("gen.json: version"), std::string::npos);
  EXPECT_NE(with([](json& d) { d["extra_features"]["loading"] = 1.5; }).find("gen.json: extra_features.loading"),
            std::string::npos);
  EXPECT_NE(param_error(json::array()).find("gen.json: (root): expected an object"), std::string::npos);
  EXPECT_THROW(archetype::parse_generator_params("{ not json", "gen.json"), InputError);
  // The parser's out_of_range for a number beyond double's range used to escape as an internal error.
  EXPECT_THROW(archetype::parse_generator_params(R"({"version": -1e999})", "gen.json"), InputError);
  EXPECT_THROW(archetype::load_generator_params("/nonexistent/generator.json"), InputError);
}

// The binary: summary line, exit codes, bad parameters.
using GeneratorCli = GeneratorTest;

TEST_F(GeneratorCli, SummaryAndExitCodes) {
  const fs::path csv = dir_ / "g.csv";
  archetype::test::CliResult r = run("generate --rows 1000 --seed 3 --threads 2 --params " + params_path() + " --out " + csv.string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Generated 1000 creators x 2 features to " + csv.string()), std::string::npos) << r.out;
  EXPECT_EQ(read_generated(csv).features.rows, 1000u);

  r = run("generate --rows 10 --seed 3 --quiet --params " + params_path() + " --out " + (dir_ / "q.csv").string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");

  const fs::path bad = dir_ / "bad.json";
  std::ofstream(bad) << R"({"version": 1})";
  r = run("generate --rows 10 --seed 1 --params " + bad.string() + " --out " + (dir_ / "b.csv").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(bad.string() + ": (root): missing field 'columns'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "b.csv"));

  // An existing file is replaced only with --force (and kept as it was without it).
  r = run("generate --rows 10 --seed 3 --quiet --params " + params_path() + " --out " + csv.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "archetype: error: " + csv.string() + ": the file exists; pass --force to replace it\n");
  EXPECT_EQ(read_generated(csv).features.rows, 1000u);
  r = run("generate --rows 10 --seed 3 --quiet --force --params " + params_path() + " --out " + csv.string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_generated(csv).features.rows, 10u);

  r = run("generate --rows 10 --seed 1 --features 1 --out " + (dir_ / "f.csv").string());
  EXPECT_EQ(r.code, 2);
  r = run("generate --seed 1 --out " + (dir_ / "f.csv").string());
  EXPECT_EQ(r.code, 2) << "--rows is required";
}

}  // namespace
