// Hostile input and faults, round two: a commit that fails half way puts
// everything back, two runs into one --out never mix their files, an input
// file cut short while it is read is an input error (not SIGBUS, not "a NUL
// byte"), and an absurd --threads is refused or cleaned up after.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "archetype/csv.hpp"
#include "archetype/error.hpp"
#include "cli_child.hpp"
#include "io/csv_mapped_file.hpp"
#include "io/output_files.hpp"

namespace {

namespace fs = std::filesystem;
using archetype::test::run_cli;
using archetype::test::slurp_file;
using archetype::test::kFitOutputs;
using archetype::test::tree;
using Tree = std::set<std::string>;


class Hostile : public ::testing::Test {
 public:
  static void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

 protected:
  Hostile() : scratch_(std::string("hostile_") + ::testing::UnitTest::GetInstance()->current_test_info()->name()) {}
  const fs::path& dir() const { return scratch_.path(); }
  archetype::test::CliRun fit(const fs::path& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"fit", "--k", "3", "--no-figures", "--quiet", "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(dir(), args);
  }
  /// Every file's bytes below `d`.
  static std::map<std::string, std::string> contents(const fs::path& d) {
    std::map<std::string, std::string> m;
    for (const std::string& f : tree(d))
      if (fs::is_regular_file(d / f)) m[f] = slurp_file(d / f);
    return m;
  }

  archetype::test::ScratchDir scratch_;
};

/// Makes a folder unwritable for this process, root included (chattr +i;
/// for others the permission bits); undone on destruction.
class Unwritable {
 public:
  explicit Unwritable(fs::path p) : p_(std::move(p)) {
    if (::geteuid() != 0) {
      ok_ = ::chmod(p_.c_str(), fs::is_directory(p_) ? 0555 : 0444) == 0;
    } else {
      ok_ = std::system(("chattr +i '" + p_.string() + "' 2>/dev/null").c_str()) == 0;
    }
  }
  ~Unwritable() {
    if (::geteuid() != 0) ::chmod(p_.c_str(), 0755);
    else if (ok_) [[maybe_unused]] const int rc = std::system(("chattr -i '" + p_.string() + "'").c_str());
  }
  bool ok() const { return ok_; }

 private:
  fs::path p_;
  bool ok_ = false;
};

// ---- 1. the commit is all or nothing ----------------------------------------

// An earlier summary.json replaced by a folder, then --force: the renames
// used to stop at summary.json with new labels and model.json already in
// place beside the old report.
TEST_F(Hostile, AFolderWhereAnOutputGoesChangesNothing) {
  const fs::path out = dir() / "o";
  ASSERT_EQ(fit(out).code, 0);
  fs::remove(out / "summary.json");
  write(out / "summary.json" / "mine.txt", "mine");
  const auto before = contents(out);
  const auto r = fit(out, {"--force", "--seed", "7"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find((out / "summary.json").string() + ": "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no output was committed"), std::string::npos) << r.err;
  EXPECT_EQ(contents(out), before);
  Tree expected = kFitOutputs;
  expected.insert("summary.json/mine.txt");
  EXPECT_EQ(tree(out), expected);
}

// figures/ a link to another filesystem: a rename into it fails with EXDEV
// after every other file was already replaced.
TEST_F(Hostile, FiguresOnAnotherFilesystemChangesNothing) {
  const fs::path py = dir() / "fake_python.sh";
  write(py, "#!/bin/sh\n"
            "[ \"$1\" = -c ] && exit 0\n"
            "mkdir -p \"$2/figures\" && printf PNG > \"$2/figures/segmentation.png\"\n");
  fs::permissions(py, fs::perms::owner_all);
  const fs::path out = dir() / "o";
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", "--k-max", "3", "--quiet", "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(dir(), args, {"ARCHETYPE_PYTHON=" + py.string()});
  };
  ASSERT_EQ(run({}).code, 0);
  const fs::path elsewhere = fs::path("/dev/shm") / ("archetype_figures_" + std::to_string(::getpid()));
  struct stat a {}, b {};
  if (::stat("/dev/shm", &a) != 0 || ::stat(dir().c_str(), &b) != 0 || a.st_dev == b.st_dev)
    GTEST_SKIP() << "no second filesystem at /dev/shm";
  fs::remove_all(elsewhere);
  fs::create_directories(elsewhere);
  fs::copy(out / "figures", elsewhere);
  fs::remove_all(out / "figures");
  fs::create_directory_symlink(elsewhere, out / "figures");
  write(elsewhere / "segmentation.png", "OLD");
  const auto before = contents(out);
  const Tree names = tree(out);
  const auto r = run({"--force", "--seed", "7"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find((out / "figures").string()), std::string::npos) << r.err;
  EXPECT_EQ(contents(out), before);
  EXPECT_EQ(tree(out), names);
  EXPECT_EQ(slurp_file(elsewhere / "segmentation.png"), "OLD");
  fs::remove_all(elsewhere);
}

/// An output folder holding an earlier a.txt, b.txt and figures/x.png,
/// and an OutputFiles that stages new ones.
struct EarlierRun {
  explicit EarlierRun(const fs::path& out) : out(out) {
    Hostile::write(out / "a.txt", "old a");
    Hostile::write(out / "b.txt", "old b");
    Hostile::write(out / "figures" / "x.png", "old x");
  }
  void stage(archetype::OutputFiles& files) const {
    files.stage("a.txt", "new a");
    files.stage("b.txt", "new b");
    Hostile::write(fs::path(files.staging_dir()) / "figures" / "x.png", "new x");
  }
  void expect_unchanged() const {
    EXPECT_EQ(slurp_file(out / "a.txt"), "old a");
    EXPECT_EQ(slurp_file(out / "b.txt"), "old b");
    EXPECT_EQ(slurp_file(out / "figures" / "x.png"), "old x");
    EXPECT_EQ(tree(out), Tree({"a.txt", "b.txt", "figures", "figures/x.png"}));
  }
  fs::path out;
};

TEST_F(Hostile, AnUnwritableFiguresFolderChangesNothing) {
  const EarlierRun earlier(dir() / "o");
  {
    archetype::OutputFiles files(earlier.out.string(), {"a.txt", "b.txt", "figures/x.png"}, true);
    earlier.stage(files);
    const Unwritable locked(earlier.out / "figures");
    if (!locked.ok()) GTEST_SKIP() << "cannot make a folder unwritable here";
    try {
      files.commit();
      ADD_FAILURE() << "committed into an unwritable figures/";
    } catch (const archetype::InputError& e) {
      EXPECT_NE(std::string(e.what()).find((earlier.out / "figures").string()), std::string::npos) << e.what();
    }
  }
  earlier.expect_unchanged();
}

// A failure that no check foresees (an old figure that cannot be replaced:
// immutable) after a.txt and b.txt were renamed: they are put back.
TEST_F(Hostile, ARenameThatFailsPutsTheEarlierFilesBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs chattr +i (root)";
  const EarlierRun earlier(dir() / "o");
  {
    archetype::OutputFiles files(earlier.out.string(), {"a.txt", "b.txt", "figures/x.png"}, true);
    earlier.stage(files);
    const Unwritable locked(earlier.out / "figures" / "x.png");
    if (!locked.ok()) GTEST_SKIP() << "chattr +i failed";
    try {
      files.commit();
      ADD_FAILURE() << "replaced an immutable file";
    } catch (const archetype::InputError& e) {
      EXPECT_NE(std::string(e.what()).find((earlier.out / "figures" / "x.png").string()), std::string::npos) << e.what();
    }
  }
  earlier.expect_unchanged();
}

// ---- 2. one run at a time per --out ------------------------------------------

/// Holds the lock on `out` as another run would: flock and its pid inside.
class LockHolder {
 public:
  explicit LockHolder(const fs::path& out) : path_(out / archetype::kLockFileName) {
    fs::create_directories(out);
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    const std::string pid = std::to_string(::getpid()) + "\n";
    ok_ = fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0 &&
          ::pwrite(fd_, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
  }
  ~LockHolder() { release(); }
  void release() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // as a run lets go
    ::close(fd_);
    fd_ = -1;
  }
  bool ok() const { return ok_; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  int fd_ = -1;
  bool ok_ = false;
};

TEST_F(Hostile, ASecondRunIntoTheSameOutExitsTwoNamingTheFirst) {
  const fs::path out = dir() / "o";
  write(out / "notes.txt", "mine");
  LockHolder holder(out);
  ASSERT_TRUE(holder.ok());
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = fit(out);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(out.string() + ": another Archetype run (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << r.err;
  EXPECT_GE(waited, archetype::kLockWaitSeconds - 0.5);
  EXPECT_EQ(tree(out), Tree({"notes.txt", archetype::kLockFileName}));
  holder.release();
  EXPECT_EQ(tree(out), Tree({"notes.txt"}));
}

/// Whether process `pid` has `path` open (it is waiting on the lock).
bool has_open(pid_t pid, const fs::path& path) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code ec2;
    if (fs::read_symlink(e.path(), ec2) == path) return true;
  }
  return false;
}

TEST_F(Hostile, ASecondRunWaitsForTheFirstToLetGo) {
  const fs::path out = dir() / "o";
  LockHolder holder(out);
  ASSERT_TRUE(holder.ok());
  archetype::test::ChildSpec spec{{"fit", "--k", "3", "--no-figures", "--quiet", "--out", out.string()},
                                  {},
                                  dir() / "stdout.txt",
                                  dir() / "stderr.txt"};
  const pid_t pid = archetype::test::spawn_cli(spec);
  // Deterministic: it keeps the lock file open while it waits.
  bool waiting = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!waiting && std::chrono::steady_clock::now() < deadline) {
    waiting = has_open(pid, holder.path());
    int status = 0;
    if (!waiting && ::waitpid(pid, &status, WNOHANG) == pid) break;  // never waited
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(waiting) << "the run never waited for the lock: " << slurp_file(spec.err);
  holder.release();
  if (waiting) {
    EXPECT_EQ(archetype::test::wait_cli(pid, 120), 0) << slurp_file(spec.err);
  }
  EXPECT_EQ(tree(out), kFitOutputs);
}

// ---- 3. an input file that changes while it is read --------------------------

/// A CSV of `rows` rows, several pages long.
std::string long_csv(int rows) {
  std::string s = "id,a,b\n";
  for (int i = 0; i < rows; ++i) s += std::to_string(i) + "," + std::to_string(i % 17) + ".25," + std::to_string(i % 5) + "\n";
  return s;
}

std::size_t g_cut_to = 0;
void cut(const std::string& path) { ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(g_cut_to)), 0); }

/// read_csv with `hook` run between the map and the parse: its error.
std::string read_changed(const fs::path& p, void (*hook)(const std::string&)) {
  archetype::MappedFile::after_map_for_testing = hook;
  std::string message = "no error";
  try {
    archetype::read_csv(p.string(), {});
  } catch (const archetype::InputError& e) {
    message = e.what();
  }
  archetype::MappedFile::after_map_for_testing = nullptr;
  return message;
}

/// read_csv on a file cut to `to` bytes between the map and the parse.
std::string read_cut(const fs::path& p, std::size_t to) {
  g_cut_to = to;
  return read_changed(p, cut);
}

// Whole pages gone: SIGBUS used to kill the process (exit 135).
TEST_F(Hostile, AFileCutShortWhileMappedIsAnInputError) {
  const fs::path p = dir() / "in.csv";
  const std::string text = long_csv(20000);
  write(p, text);
  EXPECT_EQ(read_cut(p, 100), p.string() + ": the file changed while it was read (" + std::to_string(text.size()) +
                                  " bytes when opened, 100 now); read it again once nothing is writing to it");
}

// Cut inside the last page: the rest of the page reads as zeros, which used
// to be reported as "a NUL byte (binary?)".
TEST_F(Hostile, AFileCutInsideItsLastPageIsNotCalledBinary) {
  const fs::path p = dir() / "in.csv";
  const std::string text = long_csv(200);
  ASSERT_LT(text.size(), 4096u);
  write(p, text);
  const std::string message = read_cut(p, 1000);
  EXPECT_NE(message.find(": the file changed while it was read"), std::string::npos) << message;
  EXPECT_EQ(message.find("NUL"), std::string::npos) << message;
}

// Rewritten in place, same size: the rows read may mix two versions.
TEST_F(Hostile, AFileWrittenToWhileMappedIsAnInputError) {
  const fs::path p = dir() / "in.csv";
  write(p, long_csv(200));
  const std::string message = read_changed(p, [](const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::pwrite(fd, "9", 1, 10), 1);
    const timespec times[2] = {{12345, 0}, {12345, 0}};  // surely not the time it had
    EXPECT_EQ(::futimens(fd, times), 0);
    ::close(fd);
  });
  EXPECT_EQ(message, p.string() + ": the file changed while it was read (written to as it was read); read it again once "
                                  "nothing is writing to it");
}

TEST_F(Hostile, MappedPagesOfACutFileReadAsZeros) {
  const fs::path p = dir() / "in.csv";
  write(p, long_csv(20000));
  archetype::MappedFile file(p.string());
  ASSERT_EQ(::truncate(p.c_str(), 10), 0);
  std::size_t nonzero = 0;
  for (char c : file.text()) nonzero += c != 0;  // every page, the missing ones too
  EXPECT_EQ(nonzero, 10u);
  EXPECT_THROW(file.check_unchanged(), archetype::InputError);
}

// ---- 4. --threads -----------------------------------------------------------

TEST_F(Hostile, AbsurdThreadCountsAreRefusedAtOnce) {
  const fs::path out = dir() / "o";
  write(out / "notes.txt", "mine");
  for (const char* n : {"100000", "30000", "1025"}) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = fit(out, {"--threads", n});
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
    EXPECT_EQ(r.code, 2) << n << ": " << r.err;
    EXPECT_EQ(r.err.rfind(std::string("archetype: error: --threads ") + n + ": at most 1024", 0), 0u) << r.err;
    EXPECT_EQ(tree(out), Tree({"notes.txt"})) << n;
  }
  const auto g = run_cli(dir(), {"generate", "--rows", "10", "--seed", "1", "--threads", "5000", "--out", (dir() / "g.csv").string()});
  EXPECT_EQ(g.code, 2) << g.err;
  EXPECT_FALSE(fs::exists(dir() / "g.csv"));
}

// Threads that cannot be created (their stacks do not fit the address
// space limit): libgomp exits mid-run; the staging folder and the lock go.
TEST_F(Hostile, ThreadCreationFailureLeavesNothingBehind) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of shadow memory: an address-space limit stops it at start";
#endif
  const fs::path out = dir() / "o";
  write(out / "notes.txt", "mine");
  archetype::test::ChildSpec spec{{"fit", "--k", "3", "--no-figures", "--quiet", "--threads", "1000", "--out", out.string()},
                                  {},
                                  dir() / "stdout.txt",
                                  dir() / "stderr.txt"};
  spec.max_memory_bytes = 1000LL * 1000 * 1000;
  const int code = archetype::test::wait_cli(archetype::test::spawn_cli(spec), 120);
  const std::string err = slurp_file(spec.err);
  if (code == 0) GTEST_SKIP() << "1,000 threads fit in 1 GB here";
  EXPECT_EQ(code, 1) << err;
  EXPECT_NE(err.find("unfinished outputs removed"), std::string::npos) << err;
  EXPECT_EQ(tree(out), Tree({"notes.txt"}));
}

}  // namespace
