// GPU failures, injected with ARCHETYPE_FAULT (no GPU needed: without one
// the CPU backend behind the fault-injecting decorator plays the GPU):
// --backend auto reruns on the CPU after one notice and writes exactly a
// CPU run's outputs; --backend cuda exits 2 with no output; --backend cpu
// ignores the variable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "archetype/cuda.hpp"
#include "archetype/error.hpp"
#include "cli_child.hpp"
#include "engine/fault_injection.hpp"
#include "engine/faulty_backend.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using archetype::DeviceError;
using archetype::FaultKind;
using archetype::parse_fault_spec;
using archetype::test::run_cli;
using archetype::test::slurp_file;
using archetype::test::tree;

// ---- the variable ------------------------------------------------------------

TEST(FaultSpec, ParsesTheDocumentedForms) {
  EXPECT_EQ(parse_fault_spec("").kind, FaultKind::None);
  const archetype::FaultSpec a = parse_fault_spec("alloc:1");
  EXPECT_EQ(a.kind, FaultKind::Alloc);
  EXPECT_EQ(a.n, 1);
  EXPECT_EQ(a.text, "ARCHETYPE_FAULT=alloc:1");
  EXPECT_EQ(parse_fault_spec("launch:25").kind, FaultKind::Launch);
  EXPECT_EQ(parse_fault_spec("launch:25").n, 25);
  EXPECT_EQ(parse_fault_spec("lost:3").kind, FaultKind::Lost);
  for (const char* bad : {"alloc", "alloc:", "alloc:0", "alloc:-1", "alloc:x", "alloc:1x", "oom:1", ":1"})
    EXPECT_THROW(parse_fault_spec(bad), archetype::InputError) << bad;
}

// ---- the decorator -------------------------------------------------------------

struct Bound {
  archetype::Matrix X = archetype::test::random_blobs(3000, 2, 3, 7);
  archetype::FixedPoint fp = archetype::FixedPoint::for_data(X);
};

std::unique_ptr<archetype::Backend> faulty(const std::string& spec) {
  return archetype::make_faulty_backend(archetype::make_cpu_backend(1), parse_fault_spec(spec));
}

void expect_device_error(const std::function<void()>& f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(FaultyBackend, ForwardsNameAndDevice) {
  const auto cpu = archetype::make_cpu_backend(1);
  const auto f = faulty("launch:1");
  EXPECT_EQ(f->name(), cpu->name());
  EXPECT_EQ(f->device(), cpu->device());
}

TEST(FaultyBackend, AllocOneFailsTheUpload) {
  Bound b;
  const auto f = faulty("alloc:1");
  expect_device_error([&] { f->bind(b.X, b.fp, 5); }, "cudaErrorMemoryAllocation (out of memory) at device allocation 1, in bind");
}

TEST(FaultyBackend, AllocTwoFailsMidRunAtTheSilhouette) {
  Bound b;
  const auto f = faulty("alloc:2");
  f->bind(b.X, b.fp, 5);
  std::vector<std::int32_t> labels(b.X.rows, 0);
  std::vector<double> s(b.X.rows);
  expect_device_error([&] { f->silhouette(b.X, labels.data(), 1, s.data()); }, "in silhouette");
}

TEST(FaultyBackend, LaunchNFailsTheNthPassAndForwardsTheOthers) {
  Bound b;
  const auto f = faulty("launch:4"), cpu = archetype::make_cpu_backend(1);
  f->bind(b.X, b.fp, 3);
  cpu->bind(b.X, b.fp, 3);
  const std::vector<float> centers = {0, 0, 1, 1, -1, 2};
  f->reset_labels();  // pass 1
  cpu->reset_labels();
  archetype::PassSums a, c;
  for (int pass = 2; pass <= 3; ++pass) {
    f->lloyd_pass(centers.data(), 3, a);
    cpu->lloyd_pass(centers.data(), 3, c);
    EXPECT_EQ(a.sums, c.sums);
    EXPECT_EQ(a.counts, c.counts);
    EXPECT_EQ(a.inertia_q, c.inertia_q);
  }
  expect_device_error([&] { f->lloyd_pass(centers.data(), 3, a); },
                      "cudaErrorLaunchFailure (unspecified launch failure) in lloyd_pass, pass 4");
  f->lloyd_pass(centers.data(), 3, a);  // fails once
}

TEST(FaultyBackend, LostReportsADeviceThatDisappeared) {
  Bound b;
  const auto f = faulty("lost:1");
  f->bind(b.X, b.fp, 3);
  expect_device_error([&] { f->reset_labels(); }, "the device disappeared");
}

// ---- the CLI -----------------------------------------------------------------------

class GpuFaults : public ::testing::Test {
 protected:
  GpuFaults() : scratch_(::testing::UnitTest::GetInstance()->current_test_info()->name()) {}
  const fs::path& dir() const { return scratch_.path(); }
  archetype::test::CliRun run(const std::string& out, const std::string& backend, const std::string& fault) {
    return run_cli(dir(), {"run", "--k-max", "4", "--no-figures", "--backend", backend, "--out", (dir() / out).string()},
                   {"ARCHETYPE_FAULT=" + fault});
  }
  archetype::test::ScratchDir scratch_;
};

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

nlohmann::json summary_without_timings(const fs::path& p) {
  nlohmann::json j = nlohmann::json::parse(slurp_file(p));
  j.erase("timings_ms");
  return j;
}

// At the upload, at the first mid-run allocation (the fused sweep's
// scratch), at a later one (alloc:5: a silhouette), at a pass in the sweep's
// k-means++ or Lloyd loop, and a lost device: each time one notice, then
// exactly a CPU run's files.
TEST_F(GpuFaults, AutoRerunsOnTheCpuWithTheSameOutputs) {
  ASSERT_EQ(run("cpu", "cpu", "").code, 0);
  for (const char* fault : {"alloc:1", "alloc:2", "alloc:5", "launch:30", "lost:12"}) {
    const std::string out = std::string("auto_") + fault;
    const auto r = run(out, "auto", fault);
    ASSERT_EQ(r.code, 0) << fault << ": " << r.err;
    EXPECT_EQ(count(r.err, "GPU failed: "), 1u) << fault << ": " << r.err;
    EXPECT_EQ(count(r.err, "; retrying on the CPU\n"), 1u) << fault << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("ARCHETYPE_FAULT=") + fault), std::string::npos) << r.err;
    EXPECT_EQ(summary_without_timings(dir() / out / "summary.json"), summary_without_timings(dir() / "cpu" / "summary.json"))
        << fault;
    for (const char* f : {"labels.csv", "labels.npy", "model.json", "sweep.csv", "report.md"})
      EXPECT_EQ(slurp_file(dir() / out / f), slurp_file(dir() / "cpu" / f)) << fault << ": " << f;
    EXPECT_EQ(tree(dir() / out), tree(dir() / "cpu")) << fault;
  }
}

TEST_F(GpuFaults, PredictRerunsOnTheCpu) {
  ASSERT_EQ(run_cli(dir(), {"fit", "--k", "4", "--no-figures", "--quiet", "--out", (dir() / "fit").string()}).code, 0);
  const auto r = run_cli(dir(),
                         {"predict", "--model", (dir() / "fit" / "model.json").string(), archetype::test::reference_csv(),
                          "--out", (dir() / "pred").string()},
                         {"ARCHETYPE_FAULT=alloc:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count(r.err, "; retrying on the CPU"), 1u) << r.err;
  EXPECT_EQ(slurp_file(dir() / "pred" / "labels.csv"), slurp_file(dir() / "fit" / "labels.csv"));
}

TEST_F(GpuFaults, BackendCudaExitsTwoAndWritesNothing) {
  fs::create_directories(dir() / "o");
  std::ofstream(dir() / "o" / "notes.txt") << "mine";
  for (const char* fault : {"alloc:1", "launch:30"}) {
    const auto r = run("o", "cuda", fault);
    EXPECT_EQ(r.code, 2) << fault << ": " << r.err;
    EXPECT_NE(r.err.find("archetype: error: GPU failed: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no output was written"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("retrying"), std::string::npos) << r.err;
    EXPECT_EQ(tree(dir() / "o"), std::set<std::string>({"notes.txt"})) << fault;
  }
  const auto fresh = run("new", "cuda", "launch:30");
  EXPECT_EQ(fresh.code, 2);
  EXPECT_FALSE(fs::exists(dir() / "new"));
}

TEST_F(GpuFaults, BackendCpuIgnoresTheVariable) {
  const auto r = run("o", "cpu", "alloc:1");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("GPU"), std::string::npos) << r.err;
}

TEST_F(GpuFaults, AMalformedValueExitsTwo) {
  const auto r = run("o", "auto", "oom");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("ARCHETYPE_FAULT=oom: expected alloc:N, launch:N or lost:N"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir() / "o"));
}

// A fault that never comes: the simulated GPU is the CPU backend, so the
// run is a CPU run.
TEST_F(GpuFaults, AFaultThatNeverFiresChangesNothing) {
  if (archetype::cuda_probe(0).usable) GTEST_SKIP() << "a GPU is usable: the real CUDA backend runs instead";
  ASSERT_EQ(run("cpu", "cpu", "").code, 0);
  const auto r = run("sim", "auto", "launch:100000000");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("GPU failed"), std::string::npos) << r.err;
  EXPECT_EQ(summary_without_timings(dir() / "sim" / "summary.json"), summary_without_timings(dir() / "cpu" / "summary.json"));
  EXPECT_EQ(slurp_file(dir() / "sim" / "labels.csv"), slurp_file(dir() / "cpu" / "labels.csv"));
}

}  // namespace
