// The bad-input catalogue of the README ("Bad input and degenerate data"),
// one test per case, through the real binary: exit code 2, exactly one line
// on stderr naming the file and where (line:column, the .npy header field
// or the model.json field) and what was expected, and no output file left
// behind.  The valid-but-unusual cases (quoting, CRLF, BOM) must succeed
// with the right values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "archetype/npy.hpp"
#include "cli_support.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using archetype::test::CliResult;
using archetype::test::slurp;

class BadInput : public archetype::test::CliTest {
 protected:
  // Fixed names, known before a run: the expected messages are built from
  // them in the same expression that runs the binary.
  void SetUp() override {
    CliTest::SetUp();
    csv_ = (dir_ / "in.csv").string();
    npy_ = (dir_ / "in.npy").string();
  }

  /// Runs `archetype ARGS --out DIR`, checks the contract of a refused
  /// input, and returns the message (without "archetype: error: ").
  std::string refused(const std::string& args) {
    const fs::path out = dir_ / "out";
    const CliResult r = run(args + " --no-figures --out " + out.string());
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not one line:\n" << r.err;
    EXPECT_FALSE(r.err.empty() || r.err.back() != '\n') << r.err;
    const std::string prefix = "archetype: error: ";
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << r.err;
    if (fs::exists(out)) {
      for (const auto& e : fs::recursive_directory_iterator(out))
        EXPECT_FALSE(e.is_regular_file()) << "output left behind: " << e.path();
    }
    std::string message = r.err.substr(std::min(prefix.size(), r.err.size()));
    if (!message.empty() && message.back() == '\n') message.pop_back();
    return message;
  }

  /// `fit FILE --k 2 ARGS` on a CSV with `content`; the message and the file.
  std::string refused_csv(const std::string& content, const std::string& args = "") {
    write("in.csv", content);
    return refused("fit " + csv_ + " --k 2 " + args);
  }

  std::string refused_npy(const std::string& bytes) {
    write("in.npy", bytes);
    return refused("fit " + npy_ + " --k 2");
  }

  std::string csv_, npy_;
};

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

TEST_F(BadInput, EmptyFile) {
  EXPECT_EQ(refused_csv(""), csv_ + ":1:1: the file is empty, expected a header row");
}

TEST_F(BadInput, HeaderOnly) {
  EXPECT_EQ(refused_csv("a,b\n"), csv_ + ":2:1: no data rows after the header");
}

TEST_F(BadInput, MissingColumnName) {
  EXPECT_EQ(refused_csv("a,,b\n1,2,3\n2,3,4\n"), csv_ + ":1:2: expected a column name, found an empty header field");
}

TEST_F(BadInput, DuplicatedColumnName) {
  EXPECT_EQ(refused_csv("a,b,a\n1,2,3\n2,3,4\n"),
            csv_ + ":1:3: expected unique column names, found 'a' in fields 1 and 3");
}

TEST_F(BadInput, RequestedColumnAbsent) {
  EXPECT_EQ(refused_csv("a,b\n1,2\n3,4\n", "--columns a,zz"),
            csv_ + ":1:1: column 'zz' not found in the header (columns: 'a', 'b')");
}

TEST_F(BadInput, RaggedRows) {
  EXPECT_EQ(refused_csv("a,b,c\n1,2,3\n4,5\n"), csv_ + ":3:3: expected 3 fields as in the header, found 2");
  EXPECT_EQ(refused_csv("a,b,c\n1,2,3\n4,5,6,7\n"), csv_ + ":3:4: expected 3 fields as in the header, found 4");
}

TEST_F(BadInput, UnterminatedQuote) {
  EXPECT_EQ(refused_csv("a,b\n1,2\n3,\"4\n5,6\n"), csv_ + ":3:2: unterminated quoted field");
}

TEST_F(BadInput, TextAfterClosingQuote) {
  EXPECT_EQ(refused_csv("a,b\n1,\"2\"x\n"),
            csv_ + ":2:2: expected a comma or a line end after the closing quote, found 'x'");
}

TEST_F(BadInput, NonNumericCell) {
  EXPECT_EQ(refused_csv("id,a,b\n1,2,3\n2,abc,4\n"), csv_ + ":3:2: expected a number in column 'a', found 'abc'");
}

TEST_F(BadInput, EmptyCell) {
  EXPECT_EQ(refused_csv("a,b\n1,\n2,3\n"), csv_ + ":2:2: expected a number in column 'b', found an empty cell");
}

TEST_F(BadInput, NanAndInfCells) {
  EXPECT_EQ(refused_csv("a,b\n1,NaN\n2,3\n"), csv_ + ":2:2: expected a finite number in column 'b', found 'NaN'");
  EXPECT_EQ(refused_csv("a,b\n1,2\n-inf,3\n"), csv_ + ":3:1: expected a finite number in column 'a', found '-inf'");
}

TEST_F(BadInput, OutOfFloatRangeCell) {
  EXPECT_EQ(refused_csv("a,b\n1,1e39\n2,3\n"),
            csv_ + ":2:2: expected a number within float32 range (magnitude <= 3.4028235e+38) in column 'b', found '1e39'");
}

// A PNG's first bytes: the parser would take "\x89PNG" for a column name
// and "\x1a" for a bad number; the NUL on line 3 says "binary" instead.
TEST_F(BadInput, BinaryFile) {
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0", 20);
  EXPECT_EQ(refused_csv(png), csv_ + ":3:1: expected text, found a NUL byte (is this a binary or UTF-16 file?)");
  const std::string elf("\x7f" "ELF\x02\x01\x01\0\0\0\0\0", 12);
  EXPECT_EQ(refused_csv(elf), csv_ + ":1:1: expected text, found a NUL byte (is this a binary or UTF-16 file?)");
}

TEST_F(BadInput, NulByteInText) {
  EXPECT_EQ(refused_csv(std::string("a,b\n1,2\n3,4\0\n", 13)),
            csv_ + ":3:2: expected text, found a NUL byte (is this a binary or UTF-16 file?)");
}

TEST_F(BadInput, DirectoryGivenAsInput) {
  const fs::path sub = dir_ / "a_directory.csv";
  fs::create_directories(sub);
  EXPECT_EQ(refused("fit " + sub.string() + " --k 2"), sub.string() + ": expected a file, found a directory");
  fs::create_directories(dir_ / "d.npy");
  EXPECT_EQ(refused("fit " + (dir_ / "d.npy").string() + " --k 2"),
            (dir_ / "d.npy").string() + ": expected a file, found a directory");
}

TEST_F(BadInput, NonexistentFile) {
  const std::string p = (dir_ / "nope.csv").string();
  EXPECT_EQ(refused("fit " + p + " --k 2"), p + ": cannot open file (No such file or directory)");
}

// Valid but unusual: RFC 4180 quoting with commas, doubled quotes and a
// line break inside fields.
TEST_F(BadInput, QuotedFieldsAreRead) {
  const fs::path p = write("q.csv",
                           "id,\"x, the \"\"first\"\"\",y\n"
                           "\"a,b\",\"1.5\",2\n"
                           "\"multi\nline \"\"id\"\"\",3,\" 4 \"\n"
                           "c,4.5,9\n");
  const CliResult r = run("fit " + p.string() + " --k 2 --quiet --no-figures --out " + (dir_ / "o").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = json::parse(slurp(dir_ / "o" / "summary.json"));
  EXPECT_EQ(s["input"]["columns"], json::array({"x, the \"first\"", "y"}));
  EXPECT_EQ(s["input"]["rows"], 3);
  EXPECT_DOUBLE_EQ(s["profile"][0]["mean"].get<double>(), 3.0);  // (1.5 + 3 + 4.5) / 3
  EXPECT_DOUBLE_EQ(s["profile"][1]["mean"].get<double>(), 5.0);  // (2 + 4 + 9) / 3
  const std::string labels = slurp(dir_ / "o" / "labels.csv");
  EXPECT_EQ(labels.rfind("id,cluster,persona\n\"a,b\",", 0), 0u) << labels;
  EXPECT_NE(labels.find("\n\"multi\nline \"\"id\"\"\","), std::string::npos) << labels;
}

// Valid but unusual: a UTF-8 byte order mark and CRLF line ends.
TEST_F(BadInput, CrlfAndBomAreRead) {
  const fs::path p = write("w.csv", "\xEF\xBB\xBFid,a,b\r\n7,1,10\r\n8,2,20\r\n9,6,60\r\n");
  const CliResult r = run("fit " + p.string() + " --k 2 --quiet --no-figures --out " + (dir_ / "o").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = json::parse(slurp(dir_ / "o" / "summary.json"));
  EXPECT_EQ(s["input"]["id_column"], "id");
  EXPECT_EQ(s["input"]["columns"], json::array({"a", "b"}));
  EXPECT_DOUBLE_EQ(s["profile"][0]["mean"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(s["profile"][1]["max"].get<double>(), 60.0);
  const std::string labels = slurp(dir_ / "o" / "labels.csv");
  EXPECT_EQ(labels.rfind("id,cluster,persona\n7,", 0), 0u) << labels;
  EXPECT_EQ(labels.find('\r'), std::string::npos) << labels;
}

// ---------------------------------------------------------------------------
// .npy
// ---------------------------------------------------------------------------

/// A float32 .npy of `rows` x 2 values 0, 1, 2, ... as numpy.save writes it,
/// with its header dict edited by `edit` (same length keeps the alignment).
std::string npy_f4(std::size_t rows, const std::string& from = "", const std::string& to = "") {
  std::string header = archetype::npy_header("<f4", {rows, 2});
  if (!from.empty()) header.replace(header.find(from), from.size(), to);
  std::string data(rows * 2 * sizeof(float), '\0');
  for (std::size_t i = 0; i < rows * 2; ++i) {
    const float v = static_cast<float>(i);
    std::memcpy(&data[i * sizeof(float)], &v, sizeof v);
  }
  return header + data;
}

TEST_F(BadInput, NpyTruncatedData) {
  const std::string whole = npy_f4(5);
  EXPECT_EQ(refused_npy(whole.substr(0, whole.size() - 3)), npy_ + ": expected 40 bytes of data for shape (5, 2), found 37");
}

TEST_F(BadInput, NpyTruncatedHeader) {
  EXPECT_EQ(refused_npy(npy_f4(5).substr(0, 40)), npy_ + ": truncated header: expected 118 bytes, found 30");
}

TEST_F(BadInput, NpyBadMagic) {
  EXPECT_EQ(refused_npy("PK\x03\x04" + npy_f4(5).substr(4)),
            npy_ + ": not an .npy file: expected it to start with the magic string \"\\x93NUMPY\"");
}

TEST_F(BadInput, NpyWrongDtype) {
  const std::string expected = ": header field 'descr': unsupported dtype: expected float32 or float64 ('<f4'/'<f8'), found ";
  EXPECT_EQ(refused_npy(npy_f4(5, "<f4", "<i8")), npy_ + expected + "'<i8'");  // int64
  EXPECT_EQ(refused_npy(npy_f4(5, "<f4", "<c8")), npy_ + expected + "'<c8'");  // complex64
  EXPECT_EQ(refused_npy(npy_f4(5, "<f4", "<U1")), npy_ + expected + "'<U1'");  // strings
  EXPECT_EQ(refused_npy(npy_f4(5, "<f4", ">f4")), npy_ + expected + "'>f4'");  // big-endian
}

TEST_F(BadInput, NpyFortranOrder) {
  EXPECT_EQ(refused_npy(npy_f4(5, "False", "True ")),
            npy_ + ": header field 'fortran_order': unsupported Fortran (column-major) order: expected False (save a "
                   "C-order array)");
}

TEST_F(BadInput, NpyThreeDimensions) {
  EXPECT_EQ(refused_npy(npy_f4(5, "(5, 2)", "(5, 1, 2)")),
            npy_ + ": header field 'shape': expected (rows,) or (rows, columns), found (5, 1, 2)");
}

TEST_F(BadInput, NpyShapeClaimsMoreDataThanTheFileHolds) {
  EXPECT_EQ(refused_npy(npy_f4(5, "(5, 2)", "(9, 2)")), npy_ + ": expected 72 bytes of data for shape (9, 2), found 40");
}

TEST_F(BadInput, NpyZeroRowsOrColumns) {
  EXPECT_EQ(refused_npy(npy_f4(0)), npy_ + ": header field 'shape': expected at least one row, found (0, 2)");
  const std::string no_columns = archetype::npy_header("<f4", {5, 0});
  EXPECT_EQ(refused_npy(no_columns), npy_ + ": header field 'shape': expected at least one column, found (5, 0)");
}

TEST_F(BadInput, NpyNonFiniteValue) {
  std::string bytes = npy_f4(3);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&bytes[bytes.size() - 4 * sizeof(float) + sizeof(float)], &nan, sizeof nan);  // [1, 1]
  // Counted from 1, as the CSV's lines and fields.
  EXPECT_EQ(refused_npy(bytes), npy_ + ": row 2, column 2 (index [1, 1]): expected a finite number, found nan");
}

TEST_F(BadInput, NpyMalformedHeaderDict) {
  // The header is quoted on the one line, its line break escaped.
  const std::string message = refused_npy(npy_f4(5, "'shape'", "'shapf'"));
  EXPECT_EQ(message.rfind(npy_ + ": bad .npy header (unexpected key 'shapf', expected only 'descr', 'fortran_order' "
                                 "and 'shape'): {'descr': '<f4', 'fortran_order': False, 'shapf': (5, 2), }",
                          0),
            0u)
      << message;
}

// ---------------------------------------------------------------------------
// model.json (predict)
// ---------------------------------------------------------------------------

class BadModel : public BadInput {
 protected:
  void SetUp() override {
    BadInput::SetUp();
    write("in.csv", "id,a,b\n1,0,0\n2,10,10\n3,9,11\n");
    model_ = (dir_ / "model.json").string();
  }

  /// A valid model of columns a and b, as fit writes it.
  static json valid_model() {
    return json::parse(R"({
      "format": "archetype-model", "version": 1,
      "features": [{"column": "a", "name": "a"}, {"column": "b", "name": "b"}],
      "scaler": {"mean": [5.0, 5.0], "scale": [5.0, 5.0]},
      "k": 2, "centroids_scaled": [[-1.0, -1.0], [1.0, 1.0]],
      "personas": ["Low", "High"]})");
  }

  std::string predict_with_text(const std::string& model_text) {
    write("model.json", model_text);
    return refused("predict --model " + model_ + " " + csv_);
  }
  std::string predict_with(const json& model) { return predict_with_text(model.dump(2)); }

  std::string model_;
};

TEST_F(BadModel, TheValidModelPredicts) {
  write("model.json", valid_model().dump(2));
  const CliResult r = run("predict --model " + (dir_ / "model.json").string() + " " + csv_ + " --quiet --out " +
                          (dir_ / "o").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir_ / "o" / "labels.csv"), "id,cluster,persona\n1,0,Low\n2,1,High\n3,1,High\n");
}

TEST_F(BadModel, NotJson) {
  EXPECT_EQ(predict_with_text("{ not json"),
            model_ + ": not valid JSON ([json.exception.parse_error.101] parse error at line 1, column 4: syntax error "
                     "while parsing object key - invalid literal; last read: '{ no'; expected string literal)");
}

TEST_F(BadModel, JsonOfTheWrongShape) {
  EXPECT_EQ(predict_with_text("[1, 2]"), model_ + ": expected a JSON object (a model.json written by fit or run), found array");
  json m = valid_model();
  m["features"] = {{"a", 1}};
  EXPECT_EQ(predict_with(m), model_ + ": field 'features': expected a non-empty array");
}

TEST_F(BadModel, AnotherFormatOrVersion) {
  json m = valid_model();
  m["version"] = 2;
  EXPECT_EQ(predict_with(m), model_ + ": field 'version': expected 1 (the model format this build reads), found 2");
  m["version"] = 4294967297LL;  // would wrap to 1 as an int
  EXPECT_EQ(predict_with(m),
            model_ + ": field 'version': expected 1 (the model format this build reads), found 4294967297");
  m.erase("version");
  EXPECT_EQ(predict_with(m), model_ + ": field 'version': missing");
  m = valid_model();
  m["format"] = "sklearn-pickle";
  EXPECT_EQ(predict_with(m), model_ + ": field 'format': expected \"archetype-model\", found \"sklearn-pickle\"");
}

TEST_F(BadModel, WrongNumberOfFeatures) {
  json m = valid_model();
  m["scaler"]["mean"] = {5.0, 5.0, 5.0};
  EXPECT_EQ(predict_with(m), model_ + ": field 'scaler.mean': expected an array of 2 numbers");
  m = valid_model();
  m["centroids_scaled"][1] = {1.0};
  EXPECT_EQ(predict_with(m), model_ + ": field 'centroids_scaled[1]': expected an array of 2 numbers");
}

// JSON has no NaN: nlohmann and Python write null (or the invalid literal
// NaN); a number beyond double is an overflow, not a crash.
TEST_F(BadModel, NonFiniteCentres) {
  json m = valid_model();
  m["centroids_scaled"][0][1] = nullptr;
  EXPECT_EQ(predict_with(m), model_ + ": field 'centroids_scaled[0][1]': expected a number");
  std::string text = valid_model().dump();
  text.replace(text.find("[-1.0,-1.0]"), 11, "[-1.0,NaN]");
  EXPECT_EQ(predict_with_text(text).rfind(model_ + ": not valid JSON ([json.exception.parse_error.101] parse error at line 1",
                                     0),
            0u);
  text = valid_model().dump();
  text.replace(text.find("[-1.0,-1.0]"), 11, "[-1.0,1e400]");
  EXPECT_EQ(predict_with_text(text), model_ + ": not valid JSON ([json.exception.out_of_range.406] number overflow parsing '1e400')");
}

TEST_F(BadModel, FeatureNamesDifferFromTheCsv) {
  write("in.csv", "id,a,c\n1,0,0\n2,10,10\n");
  EXPECT_EQ(predict_with(valid_model()),
            csv_ + ":1:1: column 'b' (a feature of model " + model_ + ") not found in the header (columns: 'id', 'a', 'c')");
}

TEST_F(BadModel, MissingOrDirectory) {
  const std::string p = (dir_ / "nope.json").string();
  EXPECT_EQ(refused("predict --model " + p + " " + csv_), p + ": cannot open the model file (No such file or directory)");
  EXPECT_EQ(refused("predict --model " + dir_.string() + " " + csv_), dir_.string() + ": expected a model file, found a directory");
}

}  // namespace
