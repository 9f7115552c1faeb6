// .npy reading and writing, checked against files numpy itself wrote
// (tests/fixtures/npy/, made by make_fixtures.py there).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "archetype/error.hpp"
#include "archetype/npy.hpp"

namespace {

namespace fs = std::filesystem;
using archetype::InputError;
using archetype::Matrix;

std::string fixture(const std::string& name) { return std::string(ARCHETYPE_TEST_FIXTURES_DIR) + "/npy/" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The matrix make_fixtures.py saves in every dtype (exact in float32).
Matrix base_matrix() {
  Matrix m(4, 2);
  m.values = {1.5f, -2.25f, 3.0f, 4.125f, 0.0f, 1e-3f, 65536.0f, -0.5f};
  return m;
}

void expect_equal(const Matrix& a, const Matrix& b) {
  ASSERT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.cols, b.cols);
  EXPECT_EQ(a.values, b.values);
}

/// The InputError message of read_npy(fixture(name)), or "" when none.
std::string read_error(const std::string& path) {
  try {
    archetype::read_npy(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

class NpyTempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("archetype_npy_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

using NpyRoundTrip = NpyTempDir;

TEST_F(NpyRoundTrip, MatrixThroughAFile) {
  Matrix m(3, 5);
  for (std::size_t i = 0; i < m.values.size(); ++i) m.values[i] = static_cast<float>(i) * 0.37f - 2.0f;
  const std::string path = (dir_ / "m.npy").string();
  archetype::write_npy(path, m);
  expect_equal(archetype::read_npy(path), m);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1) << "no temporary left behind";
}

TEST_F(NpyRoundTrip, EmptyMatrix) {
  const std::string path = (dir_ / "empty.npy").string();
  archetype::write_npy(path, Matrix(0, 3));
  const Matrix back = archetype::read_npy(path);
  EXPECT_EQ(back.rows, 0u);
  EXPECT_EQ(back.cols, 3u);
}

TEST_F(NpyRoundTrip, UnwritablePathIsAnInputErrorAndLeavesNothing) {
  const std::string path = (dir_ / "missing_dir" / "m.npy").string();
  EXPECT_THROW(archetype::write_npy(path, base_matrix()), InputError);
  EXPECT_FALSE(fs::exists(dir_ / "missing_dir"));
}

TEST_F(NpyRoundTrip, LabelsFileIsWhatNumpyWrites) {
  const std::string path = (dir_ / "labels.npy").string();
  archetype::write_npy_labels(path, {0, 1, 4, -1, 2});
  EXPECT_EQ(slurp(path), slurp(fixture("i4_labels.npy")));
}

TEST(NpyBytes, SameBytesAsNumpySave) {
  EXPECT_EQ(archetype::npy_bytes(base_matrix()), slurp(fixture("f32_2d.npy")));
  EXPECT_EQ(archetype::npy_bytes(std::vector<std::int32_t>{0, 1, 4, -1, 2}), slurp(fixture("i4_labels.npy")));
  EXPECT_EQ(archetype::npy_bytes(Matrix(0, 3)), slurp(fixture("f32_empty.npy")));
}

TEST(NpyBytes, HeaderIsAlignedForLargeShapes) {
  const std::string h = archetype::npy_header("<f4", {10000000000ULL, 64});
  EXPECT_EQ(h.size() % 64, 0u);
  EXPECT_EQ(h.back(), '\n');
  EXPECT_NE(h.find("'shape': (10000000000, 64), }"), std::string::npos);
}

TEST(NpyReadNumpyFiles, Float32And64AndHeaderVersions) {
  for (const char* name : {"f32_2d.npy", "f64_2d.npy", "f32_v2.npy", "f64_v3.npy"}) {
    SCOPED_TRACE(name);
    expect_equal(archetype::read_npy(fixture(name)), base_matrix());
  }
}

TEST(NpyReadNumpyFiles, OneDimensionalIsAColumn) {
  Matrix expected(3, 1);
  expected.values = {0.5f, 1.5f, 2.5f};
  expect_equal(archetype::read_npy(fixture("f32_1d.npy")), expected);
}

TEST(NpyReadNumpyFiles, EmptyArray) {
  const Matrix m = archetype::read_npy(fixture("f32_empty.npy"));
  EXPECT_EQ(m.rows, 0u);
  EXPECT_EQ(m.cols, 3u);
}

TEST(NpyReadErrors, UnsupportedDtypes) {
  const std::string i8 = read_error(fixture("i8_2d.npy"));
  EXPECT_NE(i8.find("i8_2d.npy: "), std::string::npos) << i8;
  EXPECT_NE(i8.find("expected float32 or float64 ('<f4'/'<f8'), found '<i8'"), std::string::npos) << i8;
  const std::string be = read_error(fixture("f4_big_endian.npy"));
  EXPECT_NE(be.find("found '>f4'"), std::string::npos) << be;
}

TEST(NpyReadErrors, FortranOrderAndWrongShape) {
  const std::string fortran = read_error(fixture("f32_fortran.npy"));
  EXPECT_NE(fortran.find("f32_fortran.npy: "), std::string::npos) << fortran;
  EXPECT_NE(fortran.find("Fortran"), std::string::npos) << fortran;
  const std::string shape = read_error(fixture("f32_3d.npy"));
  EXPECT_NE(shape.find("f32_3d.npy: header field 'shape': expected (rows,) or (rows, columns), found (2, 2, 2)"),
            std::string::npos)
      << shape;
}

TEST(NpyReadErrors, TruncatedDataAndHeader) {
  const std::string data = read_error(fixture("f32_truncated.npy"));
  EXPECT_NE(data.find("f32_truncated.npy: expected 32 bytes of data for shape (4, 2), found 27"), std::string::npos)
      << data;
  const std::string header = read_error(fixture("header_truncated.npy"));
  EXPECT_NE(header.find("header_truncated.npy: truncated header: expected 118 bytes, found 30"), std::string::npos)
      << header;
}

// Hand-made files (regressions found with tests/fuzz/fuzz_npy): a version
// byte, the 2- or 4-byte header length (`claimed_length`, else the dict's
// own) and a header dict.
class NpyHandMade : public NpyTempDir {
 protected:
  /// Writes the file as `name` and returns read_npy's message with the
  /// folder cut off ("" when it reads).
  std::string error_for(const std::string& name, int version, const std::string& dict,
                        std::size_t claimed_length = 0) {
    const std::size_t length = claimed_length != 0 ? claimed_length : dict.size();
    std::string bytes = std::string("\x93NUMPY", 6) + static_cast<char>(version) + '\0';
    for (int b = 0; b < (version == 1 ? 2 : 4); ++b) bytes += static_cast<char>((length >> (8 * b)) & 0xFF);
    const fs::path file = dir_ / name;
    std::ofstream(file, std::ios::binary) << bytes + dict;
    const std::string message = read_error(file.string());
    return message.rfind(dir_.string() + "/", 0) == 0 ? message.substr(dir_.string().size() + 1) : message;
  }
};

TEST_F(NpyHandMade, HeaderLengthBeyondTheFileIsRefusedBeforeAllocating) {
  // Version 2.0 stores the header length in 32 bits: this 28-byte file
  // claims a 4 GB header, which used to be allocated before being read.
  EXPECT_EQ(error_for("huge_header.npy", 2, "{'descr': '<f4'}", 0xFFFFFFF0u),
            "huge_header.npy: truncated header: expected 4294967280 bytes, found 16");
}

TEST_F(NpyHandMade, ShapeWithoutColumnsIsRefused) {
  // (10^12, 0) has no data bytes, so the size check passed: a trillion rows
  // without features reached the pipeline (undefined behaviour in `run`).
  EXPECT_EQ(error_for("no_columns.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 0), }\n"),
            "no_columns.npy: header field 'shape': expected at least one column, found (1000000000000, 0)");
}

TEST_F(NpyHandMade, HugeShapeWithoutDataIsRefusedBeforeAllocating) {
  EXPECT_EQ(error_for("huge_shape.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 3), }\n"),
            "huge_shape.npy: expected 2399999999976 bytes of data for shape (99999999999, 3), found 0");
}

TEST(NpyReadErrors, NonFiniteAndOutOfRangeValuesNameRowAndColumn) {
  const std::string nan = read_error(fixture("f64_nan.npy"));
  EXPECT_NE(nan.find("f64_nan.npy: row 2, column 2 (index [1, 1]): expected a finite number, found nan"), std::string::npos) << nan;
  const std::string big = read_error(fixture("f64_overflow.npy"));
  EXPECT_NE(big.find("f64_overflow.npy: row 2, column 1 (index [1, 0]): value 1.0000000000000001e+300 is outside the float32 range"),
            std::string::npos)
      << big;
}

TEST(NpyReadErrors, NotAnNpyFileOrMissing) {
  const std::string csv = read_error(std::string(ARCHETYPE_TEST_DATA_DIR) + "/instagram_visits_clustering.csv");
  EXPECT_NE(csv.find("instagram_visits_clustering.csv: not an .npy file"), std::string::npos) << csv;
  const std::string missing = read_error(fixture("no_such_file.npy"));
  EXPECT_NE(missing.find("no_such_file.npy: cannot open"), std::string::npos) << missing;
}

}  // namespace
