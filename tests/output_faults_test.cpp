// The output rules (README, "Faults and outputs"): an existing --out with
// Archetype's files is refused without --force, --force replaces only ours,
// other files are never touched, a missing --out is created (and removed
// again on failure), an unwritable --out or a full disk exits 2 naming the
// file and leaves nothing behind, and the figures are part of the same
// all-or-nothing commit.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "archetype/error.hpp"
#include "cli_child.hpp"
#include "io/output_files.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using archetype::test::run_cli;
using archetype::test::slurp_file;
using archetype::test::kFitOutputs;
using archetype::test::tree;
using Tree = std::set<std::string>;

class OutputRules : public ::testing::Test {
 protected:
  OutputRules() : scratch_(::testing::UnitTest::GetInstance()->current_test_info()->name()) {}
  const fs::path& dir() const { return scratch_.path(); }
  void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  /// A quick fit (the embedded dataset, no figures) into `out`.
  archetype::test::CliRun fit(const fs::path& out, std::vector<std::string> extra = {}, long long max_file_bytes = -1) {
    std::vector<std::string> args = {"fit", "--k", "3", "--no-figures", "--quiet", "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(dir(), args, {}, max_file_bytes);
  }

  archetype::test::ScratchDir scratch_;
};


Tree with(Tree a, const Tree& b) {
  a.insert(b.begin(), b.end());
  return a;
}

TEST_F(OutputRules, ExistingOutputsAreRefusedWithoutForce) {
  const fs::path out = dir() / "o";
  ASSERT_EQ(fit(out).code, 0);
  write(out / "notes.txt", "mine");
  const std::string summary = slurp_file(out / "summary.json"), labels = slurp_file(out / "labels.csv");
  const auto r = fit(out, {"--seed", "7"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find((out / "summary.json").string() + " already exists"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(tree(out), with(kFitOutputs, {"notes.txt"}));
  EXPECT_EQ(slurp_file(out / "summary.json"), summary);
  EXPECT_EQ(slurp_file(out / "labels.csv"), labels);
  EXPECT_EQ(slurp_file(out / "notes.txt"), "mine");
}

TEST_F(OutputRules, AnyOfOurFilesIsAConflictEvenAFigure) {
  const fs::path out = dir() / "o";
  write(out / "figures" / "segmentation.png", "old figure");
  const auto r = fit(out);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find((out / "figures" / "segmentation.png").string()), std::string::npos) << r.err;
  EXPECT_EQ(tree(out), Tree({"figures", "figures/segmentation.png"}));
}

TEST_F(OutputRules, ForceReplacesOurFilesAndTouchesNothingElse) {
  const fs::path out = dir() / "o";
  write(out / "notes.txt", "mine");
  write(out / "labels.csv.bak", "backup");
  write(out / "figures" / "mine.png", "my picture");
  write(out / "summary.json", "old summary");
  write(out / "sweep.csv", "an earlier sweep");  // ours, but not written by fit: removed (one run per folder)
  const auto r = fit(out, {"--force"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(slurp_file(out / "summary.json"))["model"]["k"], 3);
  EXPECT_EQ(slurp_file(out / "notes.txt"), "mine");
  EXPECT_EQ(slurp_file(out / "labels.csv.bak"), "backup");
  EXPECT_EQ(slurp_file(out / "figures" / "mine.png"), "my picture");
  EXPECT_FALSE(fs::exists(out / "sweep.csv"));
  EXPECT_EQ(tree(out), with(kFitOutputs, {"notes.txt", "labels.csv.bak", "figures", "figures/mine.png"}));
}

TEST_F(OutputRules, MissingFoldersAreCreatedAndRemovedAgainWhenTheRunFails) {
  ASSERT_EQ(fit(dir() / "a" / "b" / "c").code, 0);
  EXPECT_EQ(tree(dir() / "a" / "b" / "c"), kFitOutputs);
  write(dir() / "bad.csv", "id,a,b\n1,2,3\n2,x,4\n");
  const auto r = run_cli(dir(), {"fit", (dir() / "bad.csv").string(), "--k", "2", "--out", (dir() / "x" / "y").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(dir() / "x")) << "a failed run leaves no folder it created";
}

TEST_F(OutputRules, AFailedRunLeavesOtherFilesAlone) {
  const fs::path out = dir() / "o";
  write(out / "notes.txt", "mine");
  write(dir() / "bad.csv", "id,a,b\n1,2,3\n2,x,4\n");
  const auto r = run_cli(dir(), {"fit", (dir() / "bad.csv").string(), "--k", "2", "--out", out.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(tree(out), Tree({"notes.txt"}));
}

TEST_F(OutputRules, OutUnderARegularFileExitsTwo) {
  write(dir() / "file", "x");
  const fs::path out = dir() / "file" / "out";
  const auto r = fit(out);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot create the output directory"), std::string::npos) << r.err;
  EXPECT_EQ(slurp_file(dir() / "file"), "x");
}

TEST_F(OutputRules, OutThatIsAFileExitsTwo) {
  write(dir() / "file", "x");
  const auto r = fit(dir() / "file");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
  EXPECT_EQ(slurp_file(dir() / "file"), "x");
}

TEST_F(OutputRules, ReadOnlyOutExitsTwo) {
  if (::geteuid() == 0) {
    // Permission bits do not stop root; /proc is a directory that nobody,
    // root included, can create files or folders in.
    const auto r = fit("/proc");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err.rfind("archetype: error: /proc: cannot write in the output directory (", 0), 0u) << r.err;
    EXPECT_FALSE(fs::exists("/proc/summary.json"));
    return;
  }
  const fs::path out = dir() / "o";
  write(out / "notes.txt", "mine");
  ::chmod(out.c_str(), 0555);
  const auto r = fit(out);
  ::chmod(out.c_str(), 0755);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot write in the output directory"), std::string::npos) << r.err;
  EXPECT_EQ(tree(out), Tree({"notes.txt"}));
}

// A full disk, simulated by a file size limit: the first write past it
// fails with EFBIG ("File too large").
TEST_F(OutputRules, FullDiskExitsTwoNamesTheFileAndLeavesNothing) {
  const fs::path out = dir() / "o";
  write(out / "notes.txt", "mine");
  const auto r = fit(out, {}, 16 * 1024);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(out.string() + "/"), std::string::npos) << r.err;
  EXPECT_EQ(tree(out), Tree({"notes.txt"}));
}

TEST_F(OutputRules, FullDiskKeepsTheOutputsOfTheRunBefore) {
  const fs::path out = dir() / "o";
  ASSERT_EQ(fit(out).code, 0);
  const std::string summary = slurp_file(out / "summary.json"), labels = slurp_file(out / "labels.csv");
  const auto r = fit(out, {"--force", "--seed", "7"}, 16 * 1024);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  EXPECT_EQ(tree(out), kFitOutputs);
  EXPECT_EQ(slurp_file(out / "summary.json"), summary);
  EXPECT_EQ(slurp_file(out / "labels.csv"), labels);
}

// The figures are drawn into the staging folder and committed with the
// rest.  A stand-in for python records the folder it was given, draws one
// "figure" and leaves one of its own temporaries behind.
TEST_F(OutputRules, FiguresAreCommittedWithTheRest) {
  const fs::path py = dir() / "fake_python.sh", arg = dir() / "figures_dir.txt";
  write(py, "#!/bin/sh\n"
            "[ \"$1\" = -c ] && exit 0\n"
            "printf %s \"$2\" > '" + arg.string() + "'\n"
            "mkdir -p \"$2/figures\" && printf PNG > \"$2/figures/segmentation.png\" && printf x > \"$2/figures/.segmentation.png.1.tmp\"\n");
  fs::permissions(py, fs::perms::owner_all);
  const fs::path out = dir() / "o";
  const auto r = run_cli(dir(), {"run", "--k-max", "3", "--quiet", "--out", out.string()}, {"ARCHETYPE_PYTHON=" + py.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp_file(arg).find(out.string() + "/.archetype-staging-"), std::string::npos) << slurp_file(arg);
  EXPECT_EQ(slurp_file(out / "figures" / "segmentation.png"), "PNG");
  EXPECT_EQ(tree(out / "figures"), Tree({"segmentation.png"}));
  EXPECT_NE(slurp_file(out / "report.md").find("(figures/segmentation.png)"), std::string::npos);
  for (const std::string& f : tree(out)) EXPECT_EQ(f.find(".archetype-staging"), std::string::npos) << f;
}

// ---- OutputFiles itself ------------------------------------------------------

TEST_F(OutputRules, WriteFileReportsAFullDeviceAtTheFlush) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  // Ten bytes sit in stdio's buffer: only the flush meets the full device.
  try {
    archetype::write_file("/dev/full", "out/labels.csv", [](const auto& w) { w("0123456789"); });
    FAIL() << "no error";
  } catch (const archetype::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("out/labels.csv: write failed (No space left on device)"), std::string::npos)
        << e.what();
  }
}

TEST_F(OutputRules, UncommittedStagingLeavesNothing) {
  {
    archetype::OutputFiles files((dir() / "new").string(), {"a.txt"}, false);
    files.stage("a.txt", "hello");
    EXPECT_TRUE(fs::exists(fs::path(files.staging_dir()) / "a.txt"));
  }
  EXPECT_FALSE(fs::exists(dir() / "new"));
}

TEST_F(OutputRules, CommitChecksAgainForFilesThatAppearedMeanwhile) {
  const fs::path out = dir() / "o";
  fs::create_directories(out);
  {
    archetype::OutputFiles files(out.string(), {"a.txt", "b.txt"}, false);
    files.stage("a.txt", "ours");
    files.stage("b.txt", "ours");
    write(out / "b.txt", "theirs");
    EXPECT_THROW(files.commit(), archetype::InputError);
  }
  EXPECT_EQ(tree(out), Tree({"b.txt"}));
  EXPECT_EQ(slurp_file(out / "b.txt"), "theirs");
}

}  // namespace

namespace archetype {
namespace {

// `predict --force` into a `run` folder: the earlier run's report, sweep and
// figures go (the folder describes the prediction only), and the model it
// reads from that folder stays.
TEST_F(OutputRules, PredictIntoARunFolderLeavesNoStaleReportAndKeepsItsModel) {
  const fs::path out = dir() / "o";
  fs::copy_file(ARCHETYPE_TEST_DATA_DIR "/instagram_visits_clustering.csv", dir() / "in.csv");
  ASSERT_EQ(fit(out).code, 0);
  write(out / "sweep.csv", "an earlier sweep");
  const std::string model = (out / "model.json").string();
  const std::string before = slurp_file(out / "model.json");
  const auto r = run_cli(dir(), {"predict", (dir() / "in.csv").string(), "--model", model, "--out", out.string(), "--force"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out / "report.md"));
  EXPECT_FALSE(fs::exists(out / "report.html"));
  EXPECT_FALSE(fs::exists(out / "sweep.csv"));
  EXPECT_EQ(slurp_file(out / "model.json"), before);
  EXPECT_EQ(nlohmann::json::parse(slurp_file(out / "summary.json"))["command"], "predict");
}

// An input is never replaced, whatever its name.
TEST_F(OutputRules, AnInputNamedLikeAnOutputIsNeverReplaced) {
  const fs::path out = dir() / "o";
  ASSERT_EQ(fit(out).code, 0);
  fs::copy_file(ARCHETYPE_TEST_DATA_DIR "/instagram_visits_clustering.csv", out / "labels.csv",
                fs::copy_options::overwrite_existing);
  const std::string data = slurp_file(out / "labels.csv");
  const auto r = run_cli(dir(), {"fit", (out / "labels.csv").string(), "--k", "2", "--no-figures", "--out",
                                 out.string(), "--force"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("is this run's input"), std::string::npos) << r.err;
  EXPECT_EQ(slurp_file(out / "labels.csv"), data);
}

}  // namespace
}  // namespace archetype
