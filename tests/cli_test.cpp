// End-to-end tests of the `archetype` binary: outputs, exit codes,
// error messages, determinism across thread counts, fit -> predict.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "archetype/npy.hpp"
#include "cli_support.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

using archetype::test::CliResult;
using archetype::test::slurp;

class Cli : public archetype::test::CliTest {};

json load_summary_without_timings(const fs::path& p) {
  json j = json::parse(slurp(p));
  j.erase("timings_ms");
  return j;
}

TEST_F(Cli, RunOnTheEmbeddedDatasetWritesTheWholeStudy) {
  const fs::path out = dir_ / "out";
  const CliResult r = run("run --quiet --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f : {"summary.json", "report.md", "labels.csv", "sweep.csv", "model.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  for (const auto& e : fs::directory_iterator(out))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  const json s = json::parse(slurp(out / "summary.json"));
  EXPECT_EQ(s["input"]["rows"], 2600);
  EXPECT_EQ(s["backend"], "cpu");
  EXPECT_NEAR(s["profile"][0]["skew"].get<double>(), -0.40554912, 1e-7);
  EXPECT_NEAR(s["profile"][1]["skew_unbiased"].get<double>(), 0.54996925, 1e-7);
  EXPECT_EQ(s["sweep"].size(), 9u);
  EXPECT_EQ(s["suggested_k"]["silhouette"], 4);
  const json& m = s["model"];
  EXPECT_EQ(m["k"], 5);
  EXPECT_NEAR(m["inertia"].get<double>() / 364.868961701, 1.0, 1e-6);
  EXPECT_NEAR(m["silhouette"].get<double>(), 0.627520886, 1e-6);
  std::map<std::string, std::pair<long long, double>> personas;
  for (const json& c : m["clusters"])
    personas[c["persona"].get<std::string>()] = {c["size"].get<long long>(), c["centroid"][0].get<double>()};
  const std::map<std::string, std::pair<long long, double>> expected = {
      {"The Power Stars", {600, 79.615}}, {"Growth Engines", {791, 89.258}}, {"Niche Experts", {398, 39.271}},
      {"Steady Hobbyists", {312, 59.952}}, {"Inactive/Casual", {499, 23.916}}};
  ASSERT_EQ(personas.size(), expected.size());
  for (const auto& [name, v] : expected) {
    ASSERT_TRUE(personas.count(name)) << name;
    EXPECT_EQ(personas[name].first, v.first) << name;
    EXPECT_NEAR(personas[name].second, v.second, 1e-3) << name;
  }
  const std::string labels = slurp(out / "labels.csv");
  EXPECT_EQ(labels.substr(0, labels.find('\n')), "User ID,cluster,persona");
  EXPECT_EQ(std::count(labels.begin(), labels.end(), '\n'), 2601);
  const std::string report = slurp(out / "report.md");
  // The personas first (a card each, with the catalog's meaning and action),
  // the statistics as an appendix.
  EXPECT_LT(report.find("## The personas"), report.find("## Appendix: how the segments were found"));
  for (const char* section : {"## Summary", "## The personas", "### The Power Stars", "**Action:** Retain:",
                              "## A. Data and preprocessing", "## B. Exploratory data analysis",
                              "## C. Model selection", "## D. The model in detail", "## E. Where each metric peaks",
                              "This report uses **k = 5**: the reference study's choice",
                              "The silhouette would pick k = 4", "The Power Stars"})
    EXPECT_NE(report.find(section), std::string::npos) << section;
  EXPECT_TRUE(fs::exists(out / "report.html"));
  EXPECT_NE(r.out.find("The Power Stars"), std::string::npos);
  // Figures, where Debian's matplotlib is installed (the README's set-up and
  // CI install it): all five, PNG and SVG, embedded in both reports.
  if (std::system("/usr/bin/python3 -c 'import matplotlib, numpy' >/dev/null 2>&1") == 0) {
    const std::string html = slurp(out / "report.html");
    for (const char* name : {"distributions", "model_selection", "segmentation", "silhouette", "persona_profile"}) {
      const fs::path png = out / "figures" / (std::string(name) + ".png");
      ASSERT_TRUE(fs::exists(png)) << png << "\n" << r.err;
      EXPECT_GT(fs::file_size(png), 10000u) << png;
      EXPECT_TRUE(fs::exists(out / "figures" / (std::string(name) + ".svg"))) << name;
      EXPECT_NE(report.find("(figures/" + std::string(name) + ".png)"), std::string::npos) << name;
    }
    EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);
  }
}

// The report's numbers are those of summary.json: every persona's size and
// share, the silhouette, the picks of both criteria.
TEST_F(Cli, ReportNumbersComeFromTheSummary) {
  const fs::path out = dir_ / "out";
  ASSERT_EQ(run("run --quiet --no-figures --k 4 --out " + out.string()).code, 0);
  const json s = json::parse(slurp(out / "summary.json"));
  const std::string md = slurp(out / "report.md");
  const std::string html = slurp(out / "report.html");
  for (const json& c : s["model"]["clusters"]) {
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%", 100.0 * c["share"].get<double>());
    std::string size = std::to_string(c["size"].get<long long>());
    if (size.size() > 3) size.insert(size.size() - 3, ",");
    const std::string row = "| **" + c["persona"].get<std::string>() + "** | " + size + " | " + share + " |";
    EXPECT_NE(md.find(row), std::string::npos) << row;
    EXPECT_NE(html.find(c["persona"].get<std::string>()), std::string::npos);
  }
  char sil[32];
  std::snprintf(sil, sizeof sil, "%.4f", s["model"]["silhouette"].get<double>());
  EXPECT_NE(md.find(sil), std::string::npos) << sil;
  EXPECT_NE(md.find("Elbow (Kneedle knee of the WCSS curve): **k = " + std::to_string(s["suggested_k"]["elbow"].get<int>())),
            std::string::npos);
  // k = 4 is what both criteria pick on the reference data: no disagreement.
  EXPECT_EQ(md.find("disagree"), std::string::npos);
  // Self-contained HTML: no external resources.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_FALSE(fs::exists(out / "figure_points.csv"));
}

TEST_F(Cli, WithoutMatplotlibTheRunSucceedsAndSaysWhatIsMissing) {
  const fs::path out = dir_ / "out";
  const std::string cmd = "ARCHETYPE_PYTHON=/nonexistent/python3 " + std::string(ARCHETYPE_CLI_PATH) +
                          " run --k-max 4 --out " + out.string() + " >/dev/null 2>" + (dir_ / "err.txt").string();
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const std::string err = slurp(dir_ / "err.txt");
  EXPECT_NE(err.find("apt-get install python3-matplotlib"), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(out / "report.md"));
  EXPECT_TRUE(fs::exists(out / "report.html"));
  EXPECT_FALSE(fs::exists(out / "figures" / "segmentation.png"));
}

TEST_F(Cli, OneAndTwoThreadsGiveByteIdenticalResults) {
  const CliResult a = run("run --quiet --no-figures --threads 1 --out " + (dir_ / "a").string());
  const CliResult b = run("run --quiet --no-figures --threads 2 --out " + (dir_ / "b").string());
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(load_summary_without_timings(dir_ / "a" / "summary.json").dump(2),
            load_summary_without_timings(dir_ / "b" / "summary.json").dump(2));
  EXPECT_EQ(slurp(dir_ / "a" / "labels.csv"), slurp(dir_ / "b" / "labels.csv"));
  EXPECT_EQ(slurp(dir_ / "a" / "model.json"), slurp(dir_ / "b" / "model.json"));
}

TEST_F(Cli, FitThenPredictReproducesTheLabels) {
  const CliResult f = run("fit " + archetype::test::reference_csv() + " --k 5 --quiet --no-figures --out " + (dir_ / "fit").string());
  ASSERT_EQ(f.code, 0) << f.err;
  const json s = json::parse(slurp(dir_ / "fit" / "summary.json"));
  EXPECT_FALSE(s.contains("sweep"));
  EXPECT_TRUE(s.contains("model"));
  const CliResult p = run("predict --model " + (dir_ / "fit" / "model.json").string() + " " +
                          archetype::test::reference_csv() + " --quiet --out " + (dir_ / "pred").string());
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(slurp(dir_ / "fit" / "labels.csv"), slurp(dir_ / "pred" / "labels.csv"));
}

// A .npy matrix gives the same clustering as the CSV it came from, and the
// labels come back as .npy too.
TEST_F(Cli, NpyInputAndLabelsOutput) {
  archetype::CsvOptions o;
  o.columns = {"Instagram visit score", "Spending_rank(0 to 100)"};
  const archetype::Table t = archetype::read_csv(archetype::test::reference_csv(), o);
  const fs::path npy = dir_ / "ref.npy";
  archetype::write_npy(npy.string(), t.features);
  const CliResult a = run("fit " + archetype::test::reference_csv() + " --k 5 --quiet --no-figures --out " + (dir_ / "csv").string());
  const CliResult b = run("fit " + npy.string() + " --k 5 --quiet --no-figures --feature-names 'Engagement Index,Monetization Maturity' --out " +
                          (dir_ / "npy").string());
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  const std::string la = slurp(dir_ / "csv" / "labels.npy"), lb = slurp(dir_ / "npy" / "labels.npy");
  EXPECT_EQ(la.substr(0, 6), "\x93NUMPY");
  EXPECT_NE(la.find("'descr': '<i4'"), std::string::npos);
  EXPECT_GE(la.size(), 2600u * 4u);
  EXPECT_EQ(la, lb);
  const json s = json::parse(slurp(dir_ / "npy" / "summary.json"));
  EXPECT_EQ(s["input"]["columns"][1], "1");
  EXPECT_EQ(s["model"]["clusters"].size(), 5u);
  // Column selection by index, and a column that does not exist.
  EXPECT_EQ(run("fit " + npy.string() + " --columns 1 --k 2 --quiet --no-figures --out " + (dir_ / "one").string()).code, 0);
  const CliResult bad = run("fit " + npy.string() + " --columns 7 --k 2 --out " + (dir_ / "bad").string());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("ref.npy: column '7' not found"), std::string::npos) << bad.err;
}

TEST_F(Cli, KAutoTakesTheSilhouetteMaximum) {
  const CliResult r = run("run --k auto --json --quiet --no-figures --out " + (dir_ / "o").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = json::parse(r.out);
  EXPECT_EQ(s["model"]["k"], 4);
}

TEST_F(Cli, ProfileAndSweepCommands) {
  CliResult r = run("profile --json --quiet --out " + (dir_ / "p").string());
  ASSERT_EQ(r.code, 0) << r.err;
  json s = json::parse(r.out);
  EXPECT_EQ(s["profile"].size(), 2u);
  EXPECT_FALSE(s.contains("model"));
  EXPECT_EQ(s["profile"][0]["qq"]["theoretical"].size(), s["profile"][0]["qq"]["sample"].size());
  r = run("sweep --k-min 2 --k-max 4 --json --quiet --no-figures --out " + (dir_ / "s").string());
  ASSERT_EQ(r.code, 0) << r.err;
  s = json::parse(r.out);
  EXPECT_EQ(s["sweep"].size(), 3u);
  EXPECT_TRUE(fs::exists(dir_ / "s" / "sweep.csv"));
}

struct BadCase {
  const char* name;
  const char* csv;
  const char* args;
  const char* expect;  // substring of stderr
};

TEST_F(Cli, BadInputExitsTwoWithFileLineColumn) {
  const BadCase cases[] = {
      {"text.csv", "id,a,b\n1,2,3\n2,x,4\n", "", "text.csv:3:2: expected a number in column 'a', found 'x'"},
      {"empty.csv", "", "", "empty.csv:1:1: the file is empty"},
      {"header.csv", "id,a,b\n", "", "header.csv:2:1: no data rows"},
      {"ragged.csv", "id,a,b\n1,2,3\n2,3\n", "", "ragged.csv:3:"},
      {"nan.csv", "id,a,b\n1,nan,3\n2,3,4\n", "", "nan.csv:2:2:"},
      {"inf.csv", "id,a,b\n1,1,3\n2,3,inf\n", "", "inf.csv:3:3:"},
      {"blank.csv", "id,a,b\n1,,3\n2,3,4\n", "", "blank.csv:2:2:"},
      {"missing.csv", "id,a,b\n1,2,3\n2,3,4\n", "--columns a,zzz", "column 'zzz' not found"},
      {"binary.csv", "\x7f" "ELF\x01\x02\x00\x00garbage", "", "binary.csv:"},
  };
  for (const BadCase& c : cases) {
    const fs::path p = write(c.name, std::string(c.csv, std::char_traits<char>::length(c.csv) + (std::string(c.name) == "binary.csv" ? 8 : 0)));
    const fs::path out = dir_ / (std::string(c.name) + ".out");
    const CliResult r = run("fit " + p.string() + " --k 2 " + c.args + " --out " + out.string());
    EXPECT_EQ(r.code, 2) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
    EXPECT_FALSE(fs::exists(out / "summary.json")) << c.name;
    EXPECT_FALSE(fs::exists(out / "labels.csv")) << c.name;
  }
}

TEST_F(Cli, DropInvalidSkipsAndReports) {
  std::string csv = "id,a,b\n";
  for (int i = 0; i < 20; ++i) csv += std::to_string(i) + "," + std::to_string(i % 7) + "," + std::to_string(i % 5) + "\n";
  csv += "20,oops,1\n";
  const fs::path p = write("d.csv", csv);
  const CliResult r = run("fit " + p.string() + " --k 2 --drop-invalid --no-figures --out " + (dir_ / "o").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("dropped 1 invalid row"), std::string::npos) << r.err;
  const json s = json::parse(slurp(dir_ / "o" / "summary.json"));
  EXPECT_EQ(s["input"]["rows"], 20);
  EXPECT_EQ(s["input"]["dropped_rows"], 1);
}

TEST_F(Cli, BadUsageExitsTwo) {
  EXPECT_EQ(run("run --no-such-option").code, 2);
  EXPECT_EQ(run("fit --k 0 --out " + (dir_ / "o").string()).code, 2);
  EXPECT_EQ(run("fit --k many --out " + (dir_ / "o").string()).code, 2);
  EXPECT_EQ(run("fit --k 3000 --out " + (dir_ / "o").string()).code, 2);
  EXPECT_EQ(run("run --backend gpu").code, 2);
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("--help").code, 0);
  EXPECT_EQ(run("run --feature-names OnlyOne --out " + (dir_ / "o").string()).code, 2);
}

TEST_F(Cli, PredictRejectsBadModels) {
  const fs::path csv = write("x.csv", "id,a,b\n1,2,3\n2,3,4\n");
  const fs::path bad_json = write("bad.json", "{ not json");
  CliResult r = run("predict --model " + bad_json.string() + " " + csv.string() + " --out " + (dir_ / "o").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  const fs::path other = write("v2.json", R"({"format":"archetype-model","version":2})");
  r = run("predict --model " + other.string() + " " + csv.string() + " --out " + (dir_ / "o").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("version"), std::string::npos) << r.err;
  // A valid model whose feature columns the CSV lacks.
  ASSERT_EQ(run("fit --k 3 --quiet --no-figures --out " + (dir_ / "fit").string()).code, 0);
  r = run("predict --model " + (dir_ / "fit" / "model.json").string() + " " + csv.string() + " --out " + (dir_ / "o").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("Instagram visit score"), std::string::npos) << r.err;
}

TEST_F(Cli, FeatureNamesAndColumnsByIndex) {
  const CliResult r = run("fit " + archetype::test::reference_csv() +
                          " --columns 1,2 --feature-names Eng,Mon --k 3 --json --quiet --no-figures --out " + (dir_ / "o").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = json::parse(r.out);
  EXPECT_EQ(s["profile"][0]["name"], "Eng");
  EXPECT_EQ(s["profile"][1]["column"], "Spending_rank(0 to 100)");
}

}  // namespace
