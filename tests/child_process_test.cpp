// The figure script's process: started early, told to go through stdin,
// and never left running when the run ends without it (a failed run).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "cli/child_process.hpp"

namespace archetype {
namespace {

namespace fs = std::filesystem;

TEST(ChildProcess, SendReachesTheChildsStdinThenWaitReadsItsOutput) {
  ChildProcess child({"/bin/sh", "-c", "read word; echo \"got $word\"; exit 4"}, true);
  ASSERT_TRUE(child.started());
  child.send("go\n");
  const ChildOutcome r = child.wait();
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.last_line, "got go");
}

TEST(ChildProcess, WaitWithoutSendGivesEndOfInput) {
  ChildProcess child({"/bin/sh", "-c", "if read word; then echo read; else echo eof; fi"}, true);
  EXPECT_EQ(child.wait().last_line, "eof");
}

TEST(ChildProcess, SendToAChildThatEndedIsHarmless) {
  ChildProcess child({"/bin/sh", "-c", "exit 0"}, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  child.send(std::string(1 << 20, 'x'));  // EPIPE, not SIGPIPE
  EXPECT_EQ(child.wait().exit_code, 0);
}

TEST(ChildProcess, AMissingProgramIsNotStarted) {
  ChildProcess child({"/nonexistent/archetype-no-such-program"}, true);
  EXPECT_FALSE(child.started());
  child.send("go\n");
  const ChildOutcome r = child.wait();
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.last_line.find("cannot run"), std::string::npos);
}

TEST(ChildProcess, DestroyedUnwaitedItIsKilledAndReaped) {
  const fs::path pid_file = fs::temp_directory_path() / ("archetype-child-" + std::to_string(::getpid()));
  fs::remove(pid_file);
  pid_t pid = -1;
  {
    ChildProcess child({"/bin/sh", "-c", "echo $$ > '" + pid_file.string() + "'; exec sleep 60"}, true);
    ASSERT_TRUE(child.started());
    for (int i = 0; i < 500 && pid <= 0; ++i) {
      std::ifstream(pid_file) >> pid;
      if (pid <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GT(pid, 0);
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  // Reaped as well as killed: not even a zombie is left under its pid.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  fs::remove(pid_file);
}

}  // namespace
}  // namespace archetype
