// Hostile input and faults, round two (the rest of issue 13): work and
// output linear in the input's width, out of memory as an input error that
// leaves nothing behind, a figure helper that can neither hang the run nor
// outlive it, streamed input checked as it streams, and the small ones
// (line breaks in names, a dangling --out link, a double byte order mark,
// `-` for stdin, staging folders of killed runs).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_child.hpp"

namespace {

namespace fs = std::filesystem;
using archetype::test::run_cli;
using archetype::test::slurp_file;
using archetype::test::kFitOutputs;
using archetype::test::tree;
using Tree = std::set<std::string>;
using json = nlohmann::json;


class Limits : public ::testing::Test {
 protected:
  Limits() : scratch_(std::string("limits_") + ::testing::UnitTest::GetInstance()->current_test_info()->name()) {}
  const fs::path& dir() const { return scratch_.path(); }
  fs::path write(const std::string& name, const std::string& content) const {
    const fs::path p = dir() / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  /// A shell command line run with bash (pipes), its stdout and stderr in
  /// files; returns the exit code.
  int shell(const std::string& line, std::string* err = nullptr) const {
    const fs::path o = dir() / "sh_stdout.txt", e = dir() / "sh_stderr.txt";
    const std::string cmd = "bash -c '" + line + "' >" + o.string() + " 2>" + e.string();
    const int status = std::system(cmd.c_str());
    if (err) *err = slurp_file(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  static std::string cli() { return ARCHETYPE_CLI_PATH; }

  archetype::test::ScratchDir scratch_;
};

// ---- 10. the figure helper ----------------------------------------------------

/// Whether process `pid` is gone (or a zombie: dead, waiting for its
/// new parent to reap it).
bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t close = all.rfind(')');  // the state follows the command name in parentheses
  return close != std::string::npos && close + 2 < all.size() && (all[close + 2] == 'Z' || all[close + 2] == 'X');
}

bool wait_until(const std::function<bool()>& done, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// A stand-in for python3 that records its pid, then sleeps (a hung
/// `import matplotlib`).
fs::path hanging_python(const fs::path& dir, const fs::path& pid_file) {
  const fs::path py = dir / "hanging_python.sh";
  std::ofstream(py) << "#!/bin/sh\necho $$ > '" << pid_file.string() << ".tmp'\nmv '" << pid_file.string()
                    << ".tmp' '" << pid_file.string() << "'\nexec sleep 60\n";
  fs::permissions(py, fs::perms::owner_all);
  return py;
}

TEST_F(Limits, AFigureScriptThatHangsIsStoppedAndTheRunSucceeds) {
  const fs::path pid_file = dir() / "figures.pid", out = dir() / "o";
  const fs::path py = hanging_python(dir(), pid_file);
  const auto r = run_cli(dir(), {"fit", "--k", "3", "--out", out.string()},
                         {"ARCHETYPE_PYTHON=" + py.string(), "ARCHETYPE_FIGURES_TIMEOUT=1"}, -1, 50);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("figures skipped: the figure script was still running after 1 s and was stopped "
                       "(ARCHETYPE_FIGURES_TIMEOUT=SECONDS changes the limit, 0 removes it)"),
            std::string::npos)
      << r.err;
  Tree expected = kFitOutputs;  // and the figures' data, without figures
  expected.insert({"figure_points.csv", "figure_silhouette.csv"});
  EXPECT_EQ(tree(out), expected);
  ASSERT_TRUE(fs::exists(pid_file));
  const pid_t script = static_cast<pid_t>(std::stol(slurp_file(pid_file)));
  EXPECT_TRUE(process_gone(script)) << "the figure script " << script << " is still running";
}

TEST_F(Limits, AMalformedFiguresTimeoutIsRefusedBeforeAnyWork) {
  const auto r = run_cli(dir(), {"fit", "--k", "3", "--out", (dir() / "o").string()},
                         {"ARCHETYPE_FIGURES_TIMEOUT=soon"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err, "archetype: error: ARCHETYPE_FIGURES_TIMEOUT=soon: expected seconds, from 0 (no limit) to 86400\n");
  EXPECT_FALSE(fs::exists(dir() / "o"));
}

// kill -9 runs no cleanup at all: figures.py used to run on as an orphan,
// writing into the abandoned staging folder.
TEST_F(Limits, AKilledRunTakesTheFigureScriptWithIt) {
  const fs::path pid_file = dir() / "figures.pid";
  const fs::path py = hanging_python(dir(), pid_file);
  archetype::test::ChildSpec spec{{"fit", "--k", "3", "--quiet", "--out", (dir() / "o").string()},
                                  {"ARCHETYPE_PYTHON=" + py.string()},
                                  dir() / "stdout.txt",
                                  dir() / "stderr.txt"};
  const pid_t run = archetype::test::spawn_cli(spec);
  const bool drawing = wait_until([&] { return fs::exists(pid_file); }, 60);
  ::kill(run, SIGKILL);
  EXPECT_EQ(archetype::test::wait_cli(run, 20), 128 + SIGKILL);
  ASSERT_TRUE(drawing) << slurp_file(spec.err);
  const pid_t script = static_cast<pid_t>(std::stol(slurp_file(pid_file)));
  const bool gone = wait_until([&] { return process_gone(script); }, 5);
  if (!gone) ::kill(script, SIGKILL);
  EXPECT_TRUE(gone) << "the figure script " << script << " outlived the run";
}

// ---- 7. work and output linear in the width ---------------------------------

/// `rows` rows of `cols` columns c0..c{cols-1}, values varying by row and
/// column (no constant column).
std::string wide_csv(int rows, int cols) {
  std::string s;
  for (int j = 0; j < cols; ++j) s += (j ? ",c" : "c") + std::to_string(j);
  s += "\n";
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) s += (j ? "," : "") + std::to_string((i * 7 + j * 13) % 29) + ".5";
    s += "\n";
  }
  return s;
}

// 3,000 columns of 5 rows: the report used to list every feature in every
// section (1.4 MB of report.md), the terminal tables had 3,000 rows and
// 6,000 columns, and summary.json carried a density curve per feature
// (42 MB; 1.4 GB at 100,000 columns).
TEST_F(Limits, AWideTableGivesBoundedReportsTablesAndSummary) {
  constexpr int kCols = 3000;
  const fs::path in = write("wide.csv", wide_csv(5, kCols)), out = dir() / "o";
  const auto r = run_cli(dir(), {"fit", in.string(), "--k", "2", "--no-figures", "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(r.out.size(), 8'000u) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("... and 2,980 more features (summary.json has every one)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("... and 2,995 more features (every centre is in summary.json and model.json)"),
            std::string::npos)
      << r.out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("Wrote:", 0) != 0) {
      EXPECT_LT(line.size(), 400u) << line.substr(0, 200);
    }
  EXPECT_LT(fs::file_size(out / "report.md"), 32'000u);
  EXPECT_LT(fs::file_size(out / "report.html"), 48'000u);
  EXPECT_LT(fs::file_size(out / "summary.json"), kCols * 1'200u);
  // Every feature's numbers are still in the JSON outputs.
  const json s = json::parse(slurp_file(out / "summary.json"));
  ASSERT_EQ(s["profile"].size(), static_cast<std::size_t>(kCols));
  EXPECT_TRUE(s["profile"][11].contains("density"));
  EXPECT_FALSE(s["profile"][12].contains("density"));
  EXPECT_TRUE(s["profile"][kCols - 1].contains("skew"));
  EXPECT_TRUE(s["profile"][kCols - 1]["qq"].contains("r"));
  for (const json& c : s["model"]["clusters"]) EXPECT_EQ(c["centroid"].size(), static_cast<std::size_t>(kCols));
  const json m = json::parse(slurp_file(out / "model.json"));
  EXPECT_EQ(m["features"].size(), static_cast<std::size_t>(kCols));
}

// With figures, a table of more than two features gets a PCA view: its
// d x d covariance took 800 MB and 26 s at 10,000 columns (3.2 GB at
// 20,000, 80 GB at 100,000).  A stand-in figure script keeps the test fast.
TEST_F(Limits, AWideTableGetsItsProjectionInLinearMemory) {
  const fs::path in = write("wide.csv", wide_csv(5, 20000)), out = dir() / "o";
  const fs::path py = write("quick_python.sh", "#!/bin/sh\nexit 0\n");
  fs::permissions(py, fs::perms::owner_all);
  archetype::test::ChildSpec spec{{"fit", in.string(), "--k", "2", "--quiet", "--out", out.string()},
                                  {"ARCHETYPE_PYTHON=" + py.string()},
                                  dir() / "stdout.txt",
                                  dir() / "stderr.txt"};
#if !defined(__SANITIZE_ADDRESS__)
  spec.max_memory_bytes = 1LL << 30;
#endif
  const int code = archetype::test::wait_cli(archetype::test::spawn_cli(spec), 120);
  ASSERT_EQ(code, 0) << slurp_file(spec.err);
  const json s = json::parse(slurp_file(out / "summary.json"));
  ASSERT_TRUE(s.contains("projection")) << s.dump().substr(0, 300);
  const double first = s["projection"]["explained_variance_ratio"][0];
  EXPECT_GT(first, 0.0);
  EXPECT_LE(first, 1.0);
}

// A 50 MB header name cost gigabytes (copied into every output, line after
// line of the report); a used column's name is now refused at 1 KiB.
TEST_F(Limits, AHugeColumnNameIsRefusedWithItsField) {
  const std::string name(2000, 'x');
  const fs::path in = write("long.csv", "a," + name + ",b\n1,2,3\n4,5,6\n7,8,9\n");
  const auto r = run_cli(dir(), {"fit", in.string(), "--k", "2", "--no-figures", "--out", (dir() / "o").string()});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("archetype: error: " + in.string() +
                            ":1:2: expected a column name of at most 1024 bytes, found one of 2000 bytes ('xxx",
                        0),
            0u)
      << r.err;
  EXPECT_LT(r.err.size(), 400u);
  EXPECT_FALSE(fs::exists(dir() / "o"));
  // An unused column may have any name.
  const auto ok = run_cli(dir(), {"fit", in.string(), "--columns", "a,b", "--k", "2", "--no-figures", "--quiet",
                                  "--out", (dir() / "o2").string()});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// Thousands of constant columns gave thousands of warning lines (and as
// many sentences in the report).
TEST_F(Limits, ConstantColumnsGiveOneWarning) {
  std::string csv = "k0,k1,k2,k3,k4,k5,k6,k7,a,b\n";
  for (int i = 0; i < 6; ++i) csv += "1,1,1,1,1,1,1,1," + std::to_string(i) + "," + std::to_string(i % 3) + "\n";
  const fs::path in = write("const.csv", csv);
  const auto r = run_cli(dir(), {"fit", in.string(), "--k", "2", "--no-figures", "--out", (dir() / "o").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 8 features have zero variance ('k0', 'k1', 'k2', 'k3', 'k4' and 3 more): left "
                       "unscaled (scale 1)"),
            std::string::npos)
      << r.err;
  std::size_t mentions = 0;
  for (std::size_t p = r.err.find("zero variance"); p != std::string::npos; p = r.err.find("zero variance", p + 1))
    ++mentions;
  EXPECT_EQ(mentions, 1u) << r.err;
}

// ---- 9. out of memory ---------------------------------------------------------

// Under an address-space limit a 400,000-row fit was "internal error:
// std::bad_alloc" (exit 1).
TEST_F(Limits, OutOfMemoryIsAnInputErrorThatLeavesNothing) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of shadow memory: an address-space limit stops it at start";
#endif
  const fs::path in = dir() / "big.csv", out = dir() / "o";
  ASSERT_EQ(run_cli(dir(), {"generate", "--rows", "400000", "--seed", "1", "--quiet", "--out", in.string()}).code, 0);
  write("o/notes.txt", "mine");
  archetype::test::ChildSpec spec{{"fit", in.string(), "--k", "3", "--no-figures", "--quiet", "--threads", "1",
                                   "--out", out.string()},
                                  {},
                                  dir() / "stdout.txt",
                                  dir() / "stderr.txt"};
  spec.max_memory_bytes = 40'000LL * 1024;  // `ulimit -v 40000`
  const int code = archetype::test::wait_cli(archetype::test::spawn_cli(spec), 120);
  const std::string err = slurp_file(spec.err);
  EXPECT_EQ(code, 2) << err;
  EXPECT_EQ(err.rfind("archetype: error: not enough memory for 400,000 rows x 2 features (needs about ", 0), 0u) << err;
  EXPECT_NE(err.find(" MB)"), std::string::npos) << err;
  EXPECT_EQ(tree(out), Tree({"notes.txt"}));
}

// ---- 11. streamed input -------------------------------------------------------

// /dev/zero grew to 2.3 GB in 8 s before any check.
TEST_F(Limits, DevZeroIsRefusedAtItsFirstByte) {
  archetype::test::ChildSpec spec{{"fit", "/dev/zero", "--k", "2", "--out", (dir() / "o").string()},
                                  {},
                                  dir() / "stdout.txt",
                                  dir() / "stderr.txt"};
#if !defined(__SANITIZE_ADDRESS__)
  spec.max_memory_bytes = 1LL << 30;  // without the check it would read until this runs out
#endif
  const int code = archetype::test::wait_cli(archetype::test::spawn_cli(spec), 60);
  const std::string err = slurp_file(spec.err);
  EXPECT_EQ(code, 2) << err;
  EXPECT_EQ(err, "archetype: error: /dev/zero:1:1: expected text, found a NUL byte (is this a binary or UTF-16 "
                 "file?)\n");
  EXPECT_FALSE(fs::exists(dir() / "o"));
}

/// A shell's address-space limit for a run that would otherwise read an
/// endless stream until memory runs out (none under AddressSanitizer, whose
/// shadow memory cannot live under one).
std::string memory_limit() {
#if defined(__SANITIZE_ADDRESS__)
  return "";
#else
  return "ulimit -v 2000000; ";
#endif
}

// Valid rows, then NULs without end: reading stops at the first NUL (300 MB
// of random bytes reached 790 MB before the refusal); the message names its
// line.
TEST_F(Limits, ANulInAPipeIsRefusedWhereItIs) {
  write("head.csv", "a,b\n1,2\n3,4\n5,6\n");
  std::string err;
  const int code = shell(memory_limit() + "(cat " + (dir() / "head.csv").string() + "; cat /dev/zero) | timeout 60 " +
                             cli() + " fit /dev/stdin --k 2 --out " + (dir() / "o").string(),
                         &err);
  EXPECT_EQ(code, 2) << err;
  EXPECT_EQ(err, "archetype: error: /dev/stdin:5:1: expected text, found a NUL byte (is this a binary or UTF-16 file?)\n");
}

// No line break for 64 MiB through a pipe: refused there, not held on.
TEST_F(Limits, AStreamedLineAbove64MiBIsRefused) {
  std::string err;
  const int code = shell("head -c 80000000 /dev/zero | tr \"\\\\000\" a | " + cli() + " fit /dev/stdin --k 2 --out " +
                             (dir() / "o").string(),
                         &err);
  EXPECT_EQ(code, 2) << err;
  EXPECT_EQ(err, "archetype: error: /dev/stdin:1:1: expected a line break within 64 MiB, found none (is this a CSV "
                 "table?); a file (not a pipe) may have longer lines\n");
}

TEST_F(Limits, DashReadsTheTableFromStdin) {
  write("t.csv", "a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,5,9\n2,2,2\n3,1,2\n9,9,1\n0,4,4\n");
  std::string err;
  const fs::path out = dir() / "o";
  const int code = shell("cat " + (dir() / "t.csv").string() + " | " + cli() + " fit - --k 2 --no-figures --quiet --out " +
                             out.string(),
                         &err);
  ASSERT_EQ(code, 0) << err;
  const json s = json::parse(slurp_file(out / "summary.json"));
  EXPECT_EQ(s["input"]["path"], "stdin");
  EXPECT_EQ(s["input"]["rows"], 8);
  // A bad cell is named as stdin's.
  write("bad.csv", "a,b\n1,2\n3,x\n");
  EXPECT_EQ(shell(cli() + " fit - --k 2 --out " + (dir() / "o2").string() + " < " + (dir() / "bad.csv").string(), &err),
            2);
  EXPECT_EQ(err, "archetype: error: stdin:3:2: expected a number in column 'b', found 'x'\n");
}

// ---- 17. the small ones -------------------------------------------------------

// A line break in a column or persona name ended the table row it was in
// (terminal and report.md) and started a new one with the rest.
TEST_F(Limits, LineBreaksInNamesStayInsideTheirRow) {
  write("t.csv", "id,\"reach\nper week\",\"spend\tusd\"\n1,1,1\n2,1.2,1.1\n3,9,9\n4,9.5,8.7\n5,1.1,0.9\n6,9.2,9.1\n");
  write("cat.json", R"({"version": 1,
    "features": [{"name": "reach\nper week"}, {"name": "spend\tusd"}],
    "archetypes": [{"name": "Quiet\nOnes", "levels": [-1, -1]},
                   {"name": "Loud\r\n# Ones", "levels": [1, 1]}]})");
  const fs::path out = dir() / "o";
  const auto r = run_cli(dir(), {"fit", (dir() / "t.csv").string(), "--personas", (dir() / "cat.json").string(), "--k",
                                 "2", "--no-figures", "--quiet", "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("reach\\x0aper week"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("spend\\x09usd"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Quiet\\x0aOnes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Loud\\x0d\\x0a# Ones"), std::string::npos) << r.out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_NE(line.rfind("per week", 0), 0u) << r.out;
    EXPECT_NE(line.rfind("Ones", 0), 0u) << r.out;
    EXPECT_NE(line.rfind("# Ones", 0), 0u) << r.out;
  }
  const std::string md = slurp_file(out / "report.md");
  EXPECT_NE(md.find("reach\\x0aper week"), std::string::npos);
  EXPECT_NE(md.find("### Loud\\x0d\\x0a# Ones"), std::string::npos);
  std::istringstream md_lines(md);
  for (std::string line; std::getline(md_lines, line);) {
    if (!line.empty() && line[0] == '|') {
      EXPECT_EQ(line.back(), '|') << line;
    }
    EXPECT_NE(line.rfind("# Ones", 0), 0u) << "a heading made of a name: " << line;
  }
}

TEST_F(Limits, ADanglingOutLinkIsNamed) {
  const fs::path link = dir() / "results", target = dir() / "gone" / "results";
  fs::create_directory_symlink(target, link);
  const auto r = run_cli(dir(), {"fit", "--k", "3", "--no-figures", "--out", link.string()});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err, "archetype: error: " + link.string() + ": is a link to " + target.string() +
                       ", which does not exist (create it, or choose another --out)\n");
  EXPECT_FALSE(fs::exists(target));
}

// A file saved twice by a tool that adds a byte order mark each time: the
// second one became part of the first column's name, and "id" was no
// longer found as the id column (it was clustered as a feature instead).
TEST_F(Limits, ADoubleByteOrderMarkKeepsTheIdColumn) {
  write("t.csv", "\xEF\xBB\xBF\xEF\xBB\xBFid,a,b\n10,1,2\n11,3,4\n12,5,9\n13,1,1\n");
  const fs::path out = dir() / "o";
  const auto r = run_cli(dir(), {"fit", (dir() / "t.csv").string(), "--k", "2", "--no-figures", "--quiet", "--out",
                                 out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = json::parse(slurp_file(out / "summary.json"));
  EXPECT_EQ(s["input"]["id_column"], "id");
  EXPECT_EQ(s["input"]["columns"], json::array({"a", "b"}));
}

TEST_F(Limits, AStagingFolderOfAKilledRunIsReported) {
  const fs::path out = dir() / "o", stale = out / ".archetype-staging-AbC123";
  write("o/.archetype-staging-AbC123/labels.csv", "half");
  const auto r = run_cli(dir(), {"fit", "--k", "3", "--no-figures", "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("archetype: " + stale.string() +
                       ": a staging folder left by an Archetype run that was killed before it finished; nothing uses "
                       "it, delete it\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(slurp_file(stale / "labels.csv"), "half");  // not ours to delete
}

}  // namespace
