// CSV input: read_csv on generated 1,000,000-row (22 MB) and 10,000,000-row
// (220 MB) files in the reference dataset's layout (id, integer score,
// 8-decimal rank), each written once to a temporary file when first needed
// and removed at exit, with 1 and 2 OpenMP threads.  Bytes/s is the file
// size over the wall time of the whole read (mapping + parse + validation).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "archetype/csv.hpp"
#include "bench_data.hpp"

namespace {

using namespace archetype;

/// The generated CSV on disk; the file is deleted when the program exits.
struct TempCsv {
  std::string path;
  std::int64_t bytes = 0;

  explicit TempCsv(std::size_t rows) {
    path = (std::filesystem::temp_directory_path() /
            ("archetype_bench_" + std::to_string(::getpid()) + "_" + std::to_string(rows) + ".csv"))
               .string();
    const std::string text = bench::blobs_csv(rows);
    std::ofstream f(path, std::ios::binary);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
    bytes = static_cast<std::int64_t>(text.size());
  }
  ~TempCsv() { std::remove(path.c_str()); }
  TempCsv(const TempCsv&) = delete;
  TempCsv& operator=(const TempCsv&) = delete;
};

// The file for `rows` (one of the benchmarked sizes), generated on first use
// so that filtering out the 10M-row runs also skips writing 220 MB.
const TempCsv& csv_file(std::size_t rows) {
  if (rows == 1000000) {
    static const TempCsv file(1000000);
    return file;
  }
  static const TempCsv file(10000000);
  return file;
}

// Sets the OpenMP thread count for one benchmark run.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : saved_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ThreadCount() { omp_set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

void BM_CsvRead(benchmark::State& state) {
  const auto expected_rows = static_cast<std::size_t>(state.range(0));
  const TempCsv& file = csv_file(expected_rows);
  const ThreadCount threads(static_cast<int>(state.range(1)));
  const CsvOptions options;  // every column but the auto-detected "User ID"
  std::size_t rows = 0;
  for (auto _ : state) {
    Table t = read_csv(file.path, options);
    rows = t.features.rows;
    benchmark::DoNotOptimize(t.features.values.data());
  }
  if (rows != expected_rows) state.SkipWithError("read_csv returned the wrong number of rows");
  state.SetBytesProcessed(state.iterations() * file.bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows));
}
BENCHMARK(BM_CsvRead)
    ->ArgNames({"rows", "threads"})
    ->ArgsProduct({{1000000, 10000000}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
