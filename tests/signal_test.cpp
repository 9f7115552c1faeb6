// SIGINT and SIGTERM mid-run: exit 130 / 143 with one line on stderr, the
// staged files and any folder the run created removed, files that were
// there before (committed outputs included) untouched, and the figure
// script's process killed.  The run is started on 3,000,000 generated rows
// (tens of seconds of work) and signalled once its staging folder exists,
// so the signal always lands mid-run, however loaded the machine.
#include <gtest/gtest.h>

#include <cerrno>

#include "cli_child.hpp"

namespace {

namespace fs = std::filesystem;
using archetype::test::ChildSpec;
using archetype::test::run_cli;
using archetype::test::slurp_file;
using archetype::test::spawn_cli;
using archetype::test::tree;
using archetype::test::wait_cli;
using Tree = std::set<std::string>;

bool has_staging(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->path().filename().string().rfind(".archetype-staging-", 0) == 0) return true;
  return false;
}

/// Polls `ready` every 20 ms for up to `seconds`.
template <typename F>
bool wait_until(F ready, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class Signals : public ::testing::Test {
 protected:
  Signals() : scratch_(::testing::UnitTest::GetInstance()->current_test_info()->name()) {}
  void SetUp() override {
    big_ = dir() / "big.npy";
    const auto g = run_cli(dir(), {"generate", "--rows", "3000000", "--seed", "1", "--out", big_.string(), "--quiet"});
    ASSERT_EQ(g.code, 0) << g.err;
  }
  const fs::path& dir() const { return scratch_.path(); }

  /// Starts `run` on the big input into `out`, waits for its staging
  /// folder (the run has started writing), lets it compute a little, sends
  /// `sig`, and returns the exit status and stderr.
  std::pair<int, std::string> interrupt_run(const fs::path& out, int sig, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run", big_.string(), "--no-figures", "--quiet", "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    ChildSpec spec{args, {}, dir() / "stdout.txt", dir() / "stderr.txt"};
    const pid_t pid = spawn_cli(spec);
    const bool started = wait_until([&] { return has_staging(out); }, 30);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(pid, sig);
    const int code = wait_cli(pid, 20);
    EXPECT_TRUE(started) << "no staging folder appeared in " << out;
    return {code, slurp_file(spec.err)};
  }

  archetype::test::ScratchDir scratch_;
  fs::path big_;
};

TEST_F(Signals, SigintExits130AndLeavesOnlyWhatWasThere) {
  const fs::path out = dir() / "o";
  fs::create_directories(out);
  std::ofstream(out / "notes.txt") << "mine";
  const auto [code, err] = interrupt_run(out, SIGINT);
  EXPECT_EQ(code, 130) << err;
  EXPECT_EQ(err, "archetype: interrupted by SIGINT; unfinished outputs removed\n");
  EXPECT_EQ(tree(out), Tree({"notes.txt"}));
  EXPECT_EQ(slurp_file(out / "notes.txt"), "mine");
}

TEST_F(Signals, SigtermExits143AndRemovesTheFoldersItCreated) {
  const fs::path out = dir() / "new" / "o";
  const auto [code, err] = interrupt_run(out, SIGTERM);
  EXPECT_EQ(code, 143) << err;
  EXPECT_EQ(err, "archetype: interrupted by SIGTERM; unfinished outputs removed\n");
  EXPECT_FALSE(fs::exists(dir() / "new"));
}

TEST_F(Signals, AnInterruptedForceRunKeepsTheCommittedOutputs) {
  const fs::path out = dir() / "o";
  ASSERT_EQ(run_cli(dir(), {"fit", "--k", "3", "--no-figures", "--quiet", "--out", out.string()}).code, 0);
  const Tree before = tree(out);
  const std::string summary = slurp_file(out / "summary.json"), labels = slurp_file(out / "labels.csv");
  const auto [code, err] = interrupt_run(out, SIGINT, {"--force"});
  EXPECT_EQ(code, 130) << err;
  EXPECT_EQ(tree(out), before);
  EXPECT_EQ(slurp_file(out / "summary.json"), summary);
  EXPECT_EQ(slurp_file(out / "labels.csv"), labels);
}

// The figure script (here a stand-in that records its pid and sleeps) is
// killed and reaped, and nothing is committed: the outputs computed before
// the figures are not in place either.
TEST_F(Signals, AnInterruptDuringTheFiguresKillsTheScript) {
  const fs::path py = dir() / "slow_python.sh", pid_file = dir() / "figures.pid";
  std::ofstream(py) << "#!/bin/sh\n[ \"$1\" = -c ] && exit 0\necho $$ > '" << pid_file.string() << ".tmp'\nmv '"
                    << pid_file.string() << ".tmp' '" << pid_file.string() << "'\nexec sleep 60\n";
  fs::permissions(py, fs::perms::owner_all);
  const fs::path out = dir() / "o";
  ChildSpec spec{{"run", "--k-max", "3", "--quiet", "--out", out.string()},
                 {"ARCHETYPE_PYTHON=" + py.string()},
                 dir() / "stdout.txt",
                 dir() / "stderr.txt"};
  const pid_t pid = spawn_cli(spec);
  const bool drawing = wait_until([&] { return fs::exists(pid_file); }, 60);
  ::kill(pid, SIGTERM);
  const int code = wait_cli(pid, 20);
  ASSERT_TRUE(drawing) << slurp_file(spec.err);
  EXPECT_EQ(code, 143) << slurp_file(spec.err);
  const pid_t script = static_cast<pid_t>(std::stol(slurp_file(pid_file)));
  errno = 0;
  EXPECT_EQ(::kill(script, 0), -1) << "the figure script " << script << " is still there";
  EXPECT_EQ(errno, ESRCH);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
