// `--weight-column` end to end on generated CSVs (never the reference
// dataset): a weighted run labels its rows as the same run on the rows
// repeated w times labels theirs, with the same inertia; summary.json,
// model.json and the report record the weights; predict weighs its inertia
// only when given a weight column; bad weight cells name file, line and
// column, and write nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.hpp"

namespace archetype {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::CliResult;
using test::slurp;

class CliWeights : public test::CliTest {
 protected:
  /// 240 rows of three blobs with integer weights 1..4 (w.csv) and the same
  /// rows repeated w times (rep.csv); weights holds them.
  void write_tables() {
    std::mt19937_64 gen(17);
    std::normal_distribution<double> g(0.0, 1.0);
    std::ostringstream w, rep;
    w << "id,followers,revenue,weight\n";
    rep << "id,followers,revenue\n";
    for (int i = 0; i < 240; ++i) {
      const int c = i % 3, weight = 1 + static_cast<int>(gen() % 4);
      char a[32], b[32];
      std::snprintf(a, sizeof a, "%.5f", 10.0 * c + g(gen));
      std::snprintf(b, sizeof b, "%.5f", (c == 1 ? 8.0 : 0.0) + g(gen));
      w << "u" << i << "," << a << "," << b << "," << weight << "\n";
      for (int r = 0; r < weight; ++r) rep << "u" << i << "_" << r << "," << a << "," << b << "\n";
      weights.push_back(weight);
    }
    write("w.csv", w.str());
    write("rep.csv", rep.str());
  }

  std::vector<std::string> clusters(const fs::path& labels_csv) {
    std::istringstream in(slurp(labels_csv));
    std::string line;
    std::getline(in, line);  // header
    std::vector<std::string> out;
    while (std::getline(in, line)) out.push_back(line.substr(line.find(',') + 1, line.find(',', line.find(',') + 1) - line.find(',') - 1));
    return out;
  }

  std::vector<int> weights;
};

TEST_F(CliWeights, AWeightedRunIsTheRunOfRepeatedRows) {
  write_tables();
  const std::string common = " --k 3 --k-min 2 --k-max 4 --n-init 4 --no-figures --backend cpu --quiet --out ";
  const CliResult a = run("run " + (dir_ / "w.csv").string() + " --weight-column weight" + common + (dir_ / "a").string());
  ASSERT_EQ(a.code, 0) << a.err;
  const CliResult b = run("run " + (dir_ / "rep.csv").string() + common + (dir_ / "b").string());
  ASSERT_EQ(b.code, 0) << b.err;
  const json sa = json::parse(slurp(dir_ / "a" / "summary.json")), sb = json::parse(slurp(dir_ / "b" / "summary.json"));
  // The weight column is no feature; the summary records it.
  EXPECT_EQ(sa["input"]["columns"], json({"followers", "revenue"}));
  EXPECT_EQ(sa["input"]["sample_weight"]["column"], "weight");
  int total = 0;
  for (int w : weights) total += w;
  EXPECT_EQ(sa["input"]["sample_weight"]["total"], static_cast<double>(total));
  EXPECT_TRUE(sb["input"]["sample_weight"].is_null());
  // The weighted scaler is the repeated rows' scaler (double sums in another
  // order: to rounding).
  for (int j = 0; j < 2; ++j) {
    EXPECT_NEAR(sa["scaler"]["mean"][j].get<double>(), sb["scaler"]["mean"][j].get<double>(), 1e-12);
    EXPECT_NEAR(sa["scaler"]["scale"][j].get<double>(), sb["scaler"]["scale"][j].get<double>(), 1e-12);
  }
  // The same model: inertia, WCSS per k, weights as the repeated sizes.
  EXPECT_NEAR(sa["model"]["inertia"].get<double>(), sb["model"]["inertia"].get<double>(),
              1e-9 * sb["model"]["inertia"].get<double>());
  for (std::size_t i = 0; i < sa["sweep"].size(); ++i)
    EXPECT_NEAR(sa["sweep"][i]["wcss"].get<double>(), sb["sweep"][i]["wcss"].get<double>(),
                1e-9 * sb["sweep"][i]["wcss"].get<double>());
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(sa["model"]["clusters"][c]["weight"].get<double>(), sb["model"]["clusters"][c]["size"].get<double>());
    EXPECT_TRUE(sb["model"]["clusters"][c]["weight"].is_null());
  }
  // Each row's label is the label of its repeats.
  const std::vector<std::string> la = clusters(dir_ / "a" / "labels.csv"), lb = clusters(dir_ / "b" / "labels.csv");
  ASSERT_EQ(la.size(), weights.size());
  std::vector<std::string> expanded;
  for (std::size_t i = 0; i < la.size(); ++i) expanded.insert(expanded.end(), static_cast<std::size_t>(weights[i]), la[i]);
  EXPECT_EQ(expanded, lb);
  // The report says how the rows were weighted.
  EXPECT_NE(slurp(dir_ / "a" / "report.md").find("each weighted by column `weight`"), std::string::npos);
  EXPECT_EQ(slurp(dir_ / "b" / "report.md").find("weighted by column"), std::string::npos);
}

TEST_F(CliWeights, PredictWeighsItsInertiaOnlyWithAWeightColumn) {
  write_tables();
  const fs::path model = dir_ / "fit" / "model.json";
  const CliResult f = run("fit " + (dir_ / "w.csv").string() + " --weight-column weight --k 3 --no-figures --backend cpu "
                          "--quiet --out " + (dir_ / "fit").string());
  ASSERT_EQ(f.code, 0) << f.err;
  const double trained = json::parse(slurp(dir_ / "fit" / "summary.json"))["model"]["inertia"].get<double>();
  const CliResult pw = run("predict " + (dir_ / "w.csv").string() + " --model " + model.string() +
                           " --weight-column weight --quiet --out " + (dir_ / "pw").string());
  ASSERT_EQ(pw.code, 0) << pw.err;
  const CliResult pu = run("predict " + (dir_ / "w.csv").string() + " --model " + model.string() + " --quiet --out " +
                           (dir_ / "pu").string());
  ASSERT_EQ(pu.code, 0) << pu.err;
  const json sw = json::parse(slurp(dir_ / "pw" / "summary.json")), su = json::parse(slurp(dir_ / "pu" / "summary.json"));
  // The training rows with their weights: the fit's inertia, a distance ratio of 1.
  EXPECT_NEAR(sw["prediction"]["inertia"].get<double>(), trained, 1e-9 * trained);
  EXPECT_NEAR(sw["prediction"]["distance_ratio"].get<double>(), 1.0, 1e-9);
  // Without the column every row counts once: a smaller inertia, the same labels.
  EXPECT_LT(su["prediction"]["inertia"].get<double>(), 0.6 * trained);
  EXPECT_TRUE(su["input"]["sample_weight"].is_null());
  EXPECT_EQ(slurp(dir_ / "pw" / "labels.csv"), slurp(dir_ / "pu" / "labels.csv"));
}

TEST_F(CliWeights, BadWeightsNameFileLineAndColumn) {
  struct Case {
    const char* name;
    const char* csv;
    const char* args;
    const char* expect;
  };
  const Case cases[] = {
      {"negative", "a,b,w\n1,2,1\n3,4,-2\n5,6,1\n", "--weight-column w",
       "neg.csv:3:3: expected a weight >= 0 in the weight column 'w', found '-2'"},
      {"empty", "a,b,w\n1,2,1\n3,4,\n5,6,1\n", "--weight-column w",
       "empty.csv:3:3: expected a weight (a number >= 0) in the weight column 'w', found an empty cell"},
      {"nan", "a,b,w\n1,2,1\n3,4,1\n5,6,nan\n", "--weight-column 2",
       "nan.csv:4:3: expected a finite weight in the weight column 'w', found 'nan'"},
      {"text", "a,w,b\n1,x,2\n3,1,4\n5,1,6\n", "--weight-column w",
       "text.csv:2:2: expected a weight (a number >= 0) in the weight column 'w', found 'x'"},
      {"zeros", "a,b,w\n1,2,0\n3,4,0\n5,6,0\n", "--weight-column w",
       "zeros.csv: every weight in the weight column 'w' is 0 (expected a positive total)"},
      {"feature", "a,b,w\n1,2,1\n3,4,1\n5,6,1\n", "--weight-column w --columns a,w",
       "feature.csv:1:3: column 'w' is the weight column (--weight-column); it cannot also be a feature"},
      {"missing", "a,b,w\n1,2,1\n3,4,1\n5,6,1\n", "--weight-column zz",
       "missing.csv:1:1: column 'zz' not found in the header"},
  };
  for (const Case& c : cases) {
    const std::string file = std::string(c.name == std::string("negative") ? "neg" : c.name) + ".csv";
    const fs::path p = write(file, c.csv);
    const fs::path out = dir_ / (std::string(c.name) + ".out");
    const CliResult r = run("fit " + p.string() + " --k 2 " + c.args + " --no-figures --out " + out.string());
    EXPECT_EQ(r.code, 2) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
    EXPECT_FALSE(fs::exists(out / "summary.json")) << c.name;
  }
  // --drop-invalid drops a row with a bad weight like any bad row.
  const fs::path p = write("drop.csv", "a,b,w\n1,2,1\n3,4,-2\n5,6,1\n7,8,2\n");
  const CliResult r =
      run("fit " + p.string() + " --k 2 --weight-column w --drop-invalid --no-figures --out " + (dir_ / "d").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = json::parse(slurp(dir_ / "d" / "summary.json"));
  EXPECT_EQ(s["input"]["rows"], 3);
  EXPECT_EQ(s["input"]["sample_weight"]["total"], 4.0);
}

}  // namespace
}  // namespace archetype
