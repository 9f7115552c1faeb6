// End to end on tables that are not the reference one, as a new user runs
// them: other metric names, a text column and a handle, heavy tails, 1 to
// 10 features.  Checks what a reader of the outputs relies on.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>

#include "cli_support.hpp"

namespace archetype {
namespace {

class OwnTables : public test::CliTest, public ::testing::WithParamInterface<int> {};

/// d heavy-tailed metrics in 4 groups, a handle and a text column.
std::string table(int d, std::mt19937& rng) {
  std::string csv = "creator_handle,country";
  for (int j = 0; j < d; ++j) csv += ",metric_" + std::string(1, static_cast<char>('a' + j));
  csv += "\n";
  std::normal_distribution<double> noise(0.0, 0.5);
  for (int i = 0; i < 400; ++i) {
    const int g = i % 4;
    csv += "@c" + std::to_string(i) + "," + (g % 2 ? "US" : "BR");
    for (int j = 0; j < d; ++j) {
      char v[32];
      std::snprintf(v, sizeof v, ",%.3f", std::exp(1.0 + ((g + j) % 4) * 0.9 + noise(rng)));
      csv += v;
    }
    csv += "\n";
  }
  return csv;
}

TEST_P(OwnTables, RunGivesHonestOutputs) {
  const int d = GetParam();
  std::mt19937 rng(static_cast<unsigned>(d));
  const auto p = write("t.csv", table(d, rng));
  const std::string out = (dir_ / "out").string();
  const test::CliResult r = run("run " + p.string() + " --no-figures --backend cpu --json --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["input"]["columns"].size(), static_cast<std::size_t>(d));
  EXPECT_EQ(s["input"]["id_column"], "creator_handle");
  EXPECT_EQ(s["parameters"]["k"], s["suggested_k"]["silhouette"]);  // --k auto on one's own table
  EXPECT_FALSE(s["model"]["persona_catalog"]);
  std::set<std::string> names;
  for (const auto& c : s["model"]["clusters"]) {
    const std::string name = c["persona"];
    EXPECT_LE(name.size(), 40u) << name;
    EXPECT_TRUE(c["action"].get<std::string>().empty()) << "no catalog advice for " << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), s["model"]["clusters"].size()) << "names are distinct";
  // One warning about the catalog; the skew warning where the tails are heavy.
  int catalog_warnings = 0;
  for (const auto& w : s["warnings"]) catalog_warnings += w.get<std::string>().find("persona catalog") != std::string::npos;
  EXPECT_EQ(catalog_warnings, 1);
  const std::string report = test::slurp(dir_ / "out" / "report.md");
  EXPECT_LT(report.find("## The personas"), report.find("## Appendix"));
  EXPECT_EQ(report.find("TikTok"), std::string::npos);  // nothing of the catalog's advice
  const std::string labels = test::slurp(dir_ / "out" / "labels.csv");
  EXPECT_EQ(labels.rfind("creator_handle,cluster,persona\n@c0,", 0), 0u);
}

INSTANTIATE_TEST_SUITE_P(Features, OwnTables, ::testing::Values(1, 2, 3, 6, 10),
                         [](const ::testing::TestParamInfo<int>& i) { return "d" + std::to_string(i.param); });

}  // namespace
}  // namespace archetype
