// CSV input: read_csv on a generated 1,000,000-row file in the reference
// dataset's layout (id, integer score, 8-decimal rank), written once to a
// temporary file and removed at exit.  Bytes/s is the file size over the
// wall time of the whole read (file read + parse + validation).
#include <benchmark/benchmark.h>

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

const TempCsv& csv_1m() {
  static const TempCsv file(1000000);
  return file;
}

void BM_CsvRead(benchmark::State& state) {
  const TempCsv& file = csv_1m();
  const CsvOptions options;  // every column but the auto-detected "User ID"
  std::size_t rows = 0;
  for (auto _ : state) {
    Table t = read_csv(file.path, options);
    rows = t.features.rows;
    benchmark::DoNotOptimize(t.features.values.data());
  }
  if (rows != 1000000) state.SkipWithError("read_csv returned the wrong number of rows");
  state.SetBytesProcessed(state.iterations() * file.bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows));
}
BENCHMARK(BM_CsvRead)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
