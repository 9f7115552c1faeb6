// libFuzzer target: the .npy reader (read_npy).  It reads a file by path
// (streaming, with the file size checked against the header's shape), so
// each input is written to one temporary file, rewritten per input.
// Besides the contract (parse or InputError), a matrix read is checked:
// at least one column, rows x cols values, all finite.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "archetype/npy.hpp"
#include "fuzz_contract.hpp"

namespace {

using archetype::fuzz::finding;

std::string g_path;

void remove_input_file() { std::remove(g_path.c_str()); }

void write_input(const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(g_path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
    std::perror(g_path.c_str());
    std::exit(1);  // not a finding: the harness cannot run
  }
}

void check_matrix(const archetype::Matrix& m) {
  // No columns: rows without features, which the pipeline cannot use.
  if (m.cols == 0) finding("a matrix without columns");
  if (m.values.size() != m.rows * m.cols) finding("values.size() != rows * cols");
  for (float v : m.values)
    if (!std::isfinite(v)) finding("a non-finite value in a matrix read");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* tmp = std::getenv("TMPDIR");
  g_path = std::string(tmp && *tmp ? tmp : "/tmp") + "/archetype_fuzz_npy_" + std::to_string(::getpid()) + ".npy";
  std::atexit(remove_input_file);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  write_input(data, size);
  archetype::Matrix m;
  if (archetype::fuzz::parses_or_input_error([&] { m = archetype::read_npy(g_path); })) check_matrix(m);
  return 0;
}
