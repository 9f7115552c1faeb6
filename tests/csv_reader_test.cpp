// Tests for read_csv / parse_csv: the reference data file, RFC 4180 quoting,
// line ends, column selection, the exact "FILE:LINE:COL: " of every error
// message, and that parallel parsing gives exactly the sequential result.
#include <gtest/gtest.h>
#include <omp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cfloat>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "archetype/csv.hpp"
#include "archetype/error.hpp"
#include "io/csv_chunks.hpp"
#include "io/csv_parallel.hpp"

namespace archetype {
namespace {

using Strings = std::vector<std::string>;

Table parse(std::string_view text, const CsvOptions& options = {}) { return parse_csv(text, "t.csv", options); }

// The InputError message of parsing `text`, or a test failure.
std::string error_of(std::string_view text, const CsvOptions& options = {}) {
  try {
    parse(text, options);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError for:\n" << text;
  return {};
}

CsvOptions with_columns(Strings columns) {
  CsvOptions options;
  options.columns = std::move(columns);
  return options;
}

CsvOptions with_id(std::string id) {
  CsvOptions options;
  options.id_column = std::move(id);
  return options;
}

CsvOptions dropping() {
  CsvOptions options;
  options.drop_invalid = true;
  return options;
}

// A file in the temp directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("archetype_csv_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".csv"))
                .string();
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------

TEST(CsvReferenceFile, ReadsInstagramVisits) {
  const Table table = read_csv(ARCHETYPE_TEST_DATA_DIR "/instagram_visits_clustering.csv", {});
  EXPECT_EQ(table.id_name, "User ID");
  EXPECT_EQ(table.column_names, (Strings{"Instagram visit score", "Spending_rank(0 to 100)"}));
  EXPECT_EQ(table.column_indices, (std::vector<std::size_t>{1, 2}));
  ASSERT_EQ(table.features.rows, 2600u);
  ASSERT_EQ(table.features.cols, 2u);
  ASSERT_EQ(table.features.values.size(), 5200u);
  EXPECT_EQ(table.features.at(0, 0), 63.0f);
  EXPECT_EQ(table.features.at(0, 1), 24.05070845f);
  ASSERT_EQ(table.ids.size(), 2600u);
  for (std::size_t i = 0; i < table.ids.size(); ++i) ASSERT_EQ(table.ids[i], std::to_string(i));
  EXPECT_EQ(table.dropped_rows, 0u);
  EXPECT_TRUE(table.drop_reasons.empty());
}

// ---------------------------------------------------------------------------

TEST(CsvQuoting, CommasQuotesAndNewlinesInsideQuotes) {
  const Table table = parse(
      "id,\"x, the \"\"first\"\"\",y\n"
      "\"a,b\",\"1.5\",2\n"
      "\"multi\nline \"\"id\"\"\",3,\" 4 \"\n");
  EXPECT_EQ(table.column_names, (Strings{"x, the \"first\"", "y"}));
  EXPECT_EQ(table.ids, (Strings{"a,b", "multi\nline \"id\""}));
  EXPECT_EQ(table.features.values, (std::vector<float>{1.5f, 2, 3, 4}));
}

TEST(CsvQuoting, ErrorLineIsWhereTheRecordStartsAfterAMultiLineField) {
  // Record 1 spans lines 2-4, so the bad record starts on line 5.
  EXPECT_EQ(error_of("id,x\n\"a\nb\nc\",1\nd,zz\n"), "t.csv:5:2: expected a number in column 'x', found 'zz'");
}

TEST(CsvQuoting, BlanksAroundQuotesAreTolerated) {
  const Table table = parse("a,b\n \"1\" ,\t\"2\"\n");
  EXPECT_EQ(table.features.values, (std::vector<float>{1, 2}));
}

TEST(CsvQuoting, TextAfterClosingQuoteIsAnError) {
  EXPECT_EQ(error_of("a,b\n1,\"2\"x\n"),
            "t.csv:2:2: expected a comma or a line end after the closing quote, found 'x'");
  EXPECT_EQ(error_of("a,\"b\"c\n1,2\n"),
            "t.csv:1:2: expected a comma or a line end after the closing quote, found 'c'");
}

TEST(CsvQuoting, UnterminatedQuote) {
  EXPECT_EQ(error_of("a,b\n1,2\n3,\"4\n5,6\n"), "t.csv:3:2: unterminated quoted field");
  EXPECT_EQ(error_of("\"a,b\n"), "t.csv:1:1: unterminated quoted field");
  // Fatal even with drop_invalid: the quote swallowed the rest of the file.
  EXPECT_EQ(error_of("a,b\n1,\"2\n", dropping()), "t.csv:2:2: unterminated quoted field");
}

TEST(CsvQuoting, QuoteInsideUnquotedFieldIsLiteral) {
  const Table table = parse("id,x\n5'10\",1\n");
  EXPECT_EQ(table.ids, (Strings{"5'10\""}));
}

// ---------------------------------------------------------------------------

TEST(CsvLineEnds, CrlfAndLf) {
  const Table crlf = parse("a,b\r\n1,2\r\n3,4\r\n");
  const Table lf = parse("a,b\n1,2\n3,4\n");
  EXPECT_EQ(crlf.features.values, lf.features.values);
  EXPECT_EQ(crlf.column_names, (Strings{"a", "b"}));
  EXPECT_EQ(crlf.features.values, (std::vector<float>{1, 2, 3, 4}));
}

TEST(CsvLineEnds, CrlfLineNumbers) {
  EXPECT_EQ(error_of("a,b\r\n1,2\r\n3,x\r\n"), "t.csv:3:2: expected a number in column 'b', found 'x'");
  EXPECT_EQ(error_of("id,b\r\n\"1\r\n\",2\r\n3,x\r\n"), "t.csv:4:2: expected a number in column 'b', found 'x'");
}

TEST(CsvLineEnds, LoneCrEndsALine) {
  const Table table = parse("a,b\r1,2\r3,4");
  EXPECT_EQ(table.features.rows, 2u);
}

TEST(CsvLineEnds, FinalLineWithoutNewlineAndTrailingEmptyLines) {
  EXPECT_EQ(parse("a\n1\n2").features.rows, 2u);
  EXPECT_EQ(parse("a\n1\n2\n\n").features.rows, 2u);
  EXPECT_EQ(parse("a\n1\n2\r\n\r\n\n").features.rows, 2u);
}

TEST(CsvLineEnds, EmptyRowInTheMiddle) {
  EXPECT_EQ(error_of("a,b\n1,2\n\n3,4\n"), "t.csv:3:1: expected 2 fields as in the header, found an empty row");
  EXPECT_EQ(error_of("a\n1\r\n\r\n3\n"), "t.csv:3:1: expected 1 field as in the header, found an empty row");
}

TEST(CsvBom, IsSkipped) {
  const Table table = parse("\xEF\xBB\xBFid,x\n7,1\n");
  EXPECT_EQ(table.id_name, "id");
  EXPECT_EQ(table.column_names, (Strings{"x"}));
  EXPECT_EQ(table.ids, (Strings{"7"}));
}

// ---------------------------------------------------------------------------

TEST(CsvColumns, HeaderNamesAreKeptExactly) {
  const Table table = parse(" a , b\n1,2\n");
  EXPECT_EQ(table.column_names, (Strings{" a ", " b"}));
}

TEST(CsvColumns, ByNameAndByIndexInTheGivenOrder) {
  const char* text = "a,b,c\n1,2,3\n";
  const Table by_name = parse(text, with_columns({"c", "a"}));
  EXPECT_EQ(by_name.column_names, (Strings{"c", "a"}));
  EXPECT_EQ(by_name.column_indices, (std::vector<std::size_t>{2, 0}));
  EXPECT_EQ(by_name.features.values, (std::vector<float>{3, 1}));
  const Table by_index = parse(text, with_columns({"2", "0"}));
  EXPECT_EQ(by_index.column_names, by_name.column_names);
  EXPECT_EQ(by_index.features.values, by_name.features.values);
}

TEST(CsvColumns, NameWinsOverIndex) {
  const Table table = parse("1,0,x\n10,20,30\n", with_columns({"0"}));
  EXPECT_EQ(table.column_indices, (std::vector<std::size_t>{1}));
  EXPECT_EQ(table.features.values, (std::vector<float>{20}));
}

TEST(CsvColumns, MissingColumn) {
  EXPECT_EQ(error_of("User ID,a,b\n1,2,3\n", with_columns({"foo"})),
            "t.csv:1:1: column 'foo' not found in the header (columns: 'User ID', 'a', 'b')");
  EXPECT_EQ(error_of("a,b\n1,2\n", with_columns({"2"})),
            "t.csv:1:1: column '2' not found in the header (columns: 'a', 'b')");
  EXPECT_EQ(error_of("a,b\n1,2\n", with_columns({"-1"})),
            "t.csv:1:1: column '-1' not found in the header (columns: 'a', 'b')");
}

TEST(CsvColumns, DuplicateSelection) {
  EXPECT_EQ(error_of("a,b\n1,2\n", with_columns({"b", "1"})), "t.csv:1:1: column 'b' (field 2) is selected twice");
}

// A selected column's name goes into model.json, where predict looks it up
// again: it must be unique, however the column was selected.
TEST(CsvColumns, DuplicateHeaderName) {
  const std::string twice = "t.csv:1:3: expected unique column names, found 'x' in fields 1 and 3";
  EXPECT_EQ(error_of("x,y,x\n1,2,3\n", with_columns({"x"})), twice);
  EXPECT_EQ(error_of("x,y,x\n1,2,3\n", with_id("x")), twice);
  EXPECT_EQ(error_of("x,y,x\n1,2,3\n", with_columns({"2", "y"})), twice);
  EXPECT_EQ(error_of("x,y,x\n1,2,3\n"), twice);
  // Not selected: fine.
  EXPECT_EQ(parse("x,y,x\n1,2,3\n", with_columns({"y"})).features.values, (std::vector<float>{2}));
}

TEST(CsvColumns, BlankHeaderName) {
  EXPECT_EQ(error_of(",a,b\n0,1,2\n"), "t.csv:1:1: expected a column name, found an empty header field");
  EXPECT_EQ(error_of("a, ,b\n0,1,2\n", with_columns({"1"})), "t.csv:1:2: expected a column name, found an empty header field");
  // pandas' index column, left out: fine.
  EXPECT_EQ(parse(",a,b\n0,1,2\n", with_columns({"a", "b"})).features.values, (std::vector<float>{1, 2}));
}

TEST(CsvColumns, IdAutoDetection) {
  for (const char* name : {"id", "ID", "User ID", "user_id", "Creator Id", "creator_id"}) {
    const Table table = parse(std::string("v,") + name + "\n1,abc\n2,def\n");
    EXPECT_EQ(table.id_name, name);
    EXPECT_EQ(table.ids, (Strings{"abc", "def"})) << name;
    EXPECT_EQ(table.column_names, (Strings{"v"})) << name;
  }
  const Table none = parse("v,identifier\n1,2\n3,4\n");
  EXPECT_EQ(none.id_name, "");
  EXPECT_EQ(none.ids, (Strings{"0", "1"}));
  EXPECT_EQ(none.features.cols, 2u);
}

TEST(CsvColumns, ExplicitIdColumn) {
  const char* text = "name,a,b\n\"Ann, Jr\",1,2\nBob,3,4\n";
  const Table by_name = parse(text, with_id("name"));
  EXPECT_EQ(by_name.id_name, "name");
  EXPECT_EQ(by_name.ids, (Strings{"Ann, Jr", "Bob"}));
  EXPECT_EQ(by_name.column_names, (Strings{"a", "b"}));
  const Table by_index = parse(text, with_id("0"));
  EXPECT_EQ(by_index.ids, by_name.ids);
  EXPECT_EQ(error_of(text, with_id("nope")),
            "t.csv:1:1: column 'nope' not found in the header (columns: 'name', 'a', 'b')");
}

TEST(CsvColumns, IdColumnMayAlsoBeAFeature) {
  CsvOptions options = with_columns({"id", "x"});
  const Table table = parse("id,x\n5,6\n", options);
  EXPECT_EQ(table.id_name, "id");
  EXPECT_EQ(table.ids, (Strings{"5"}));
  EXPECT_EQ(table.features.values, (std::vector<float>{5, 6}));
}

TEST(CsvColumns, OnlyAnIdColumn) {
  EXPECT_EQ(error_of("id\n1\n"), "t.csv:1:1: expected at least one feature column besides the id column 'id'");
}

TEST(CsvColumns, UnselectedColumnsMayHoldAnything) {
  const Table table = parse("a,note,b\n1,hello,2\n3,,4\n", with_columns({"a", "b"}));
  EXPECT_EQ(table.features.values, (std::vector<float>{1, 2, 3, 4}));
}

// ---------------------------------------------------------------------------

TEST(CsvNumbers, AcceptedForms) {
  const Table table = parse(
      "x\n"
      " 12.5\t\n"
      "\" -3 \"\n"
      "+1.5\n"
      "1e3\n"
      ".5\n"
      "-0\n"
      "3.4028235e38\n"
      "-3.40282356e38\n"  // just below the rounding midpoint to infinity
      "1e-50\n");
  EXPECT_EQ(table.features.values,
            (std::vector<float>{12.5f, -3.0f, 1.5f, 1000.0f, 0.5f, -0.0f, FLT_MAX, -FLT_MAX, 0.0f}));
}

TEST(CsvNumbers, RejectedCells) {
  const auto message = [](const std::string& cell) { return error_of("id,v\n1,2\n2," + cell + "\n"); };
  EXPECT_EQ(message("abc"), "t.csv:3:2: expected a number in column 'v', found 'abc'");
  EXPECT_EQ(message(""), "t.csv:3:2: expected a number in column 'v', found an empty cell");
  EXPECT_EQ(message("  "), "t.csv:3:2: expected a number in column 'v', found an empty cell");
  EXPECT_EQ(message("\"\""), "t.csv:3:2: expected a number in column 'v', found an empty cell");
  EXPECT_EQ(message("nan"), "t.csv:3:2: expected a finite number in column 'v', found 'nan'");
  EXPECT_EQ(message("NaN"), "t.csv:3:2: expected a finite number in column 'v', found 'NaN'");
  EXPECT_EQ(message("-inf"), "t.csv:3:2: expected a finite number in column 'v', found '-inf'");
  EXPECT_EQ(message("Infinity"), "t.csv:3:2: expected a finite number in column 'v', found 'Infinity'");
  EXPECT_EQ(message("+inf"), "t.csv:3:2: expected a number in column 'v', found '+inf'");
  EXPECT_EQ(message("1e39"),
            "t.csv:3:2: expected a number within float32 range (magnitude <= 3.4028235e+38) in column 'v', "
            "found '1e39'");
  EXPECT_EQ(message("-1e39"),
            "t.csv:3:2: expected a number within float32 range (magnitude <= 3.4028235e+38) in column 'v', "
            "found '-1e39'");
  EXPECT_EQ(message("3.4028236e38"),  // rounds to infinity as a float
            "t.csv:3:2: expected a number within float32 range (magnitude <= 3.4028235e+38) in column 'v', "
            "found '3.4028236e38'");
  EXPECT_EQ(message("1e400"),
            "t.csv:3:2: expected a number within float32 range (magnitude <= 3.4028235e+38) in column 'v', "
            "found '1e400'");
  for (const char* bad : {"0x10", "1.5.2", "1e", "1,5", "12abc", "--1", "++1", "1 2", "- 1"}) {
    EXPECT_NE(error_of(std::string("v\n") + "\"" + bad + "\"\n").find("expected a number"), std::string::npos)
        << bad;
  }
}

TEST(CsvNumbers, FoundTextIsTruncatedAndEscaped) {
  const std::string long_cell(60, 'z');
  EXPECT_EQ(error_of("v\n" + long_cell + "\n"),
            "t.csv:2:1: expected a number in column 'v', found '" + std::string(40, 'z') + "...'");
  EXPECT_EQ(error_of("v\n\"a\x01\xff\tb\"\n"), "t.csv:2:1: expected a number in column 'v', found 'a\\x01\\xff\\x09b'");
  // Valid UTF-8 stays readable.
  EXPECT_EQ(error_of("Größe\nzwölf\n"), "t.csv:2:1: expected a number in column 'Größe', found 'zwölf'");
}

// ---------------------------------------------------------------------------

TEST(CsvShape, RaggedRows) {
  EXPECT_EQ(error_of("a,b,c\n1,2,3\n1,2\n"), "t.csv:3:3: expected 3 fields as in the header, found 2");
  EXPECT_EQ(error_of("a,b,c\n1,2,3\n4,5,6,7\n"), "t.csv:3:4: expected 3 fields as in the header, found 4");
  EXPECT_EQ(error_of("a,b,c\n1,2,3,\n"), "t.csv:2:4: expected 3 fields as in the header, found 4");
  // The shape is reported in preference to a bad cell in the same row.
  EXPECT_EQ(error_of("a,b,c\nx,2\n"), "t.csv:2:3: expected 3 fields as in the header, found 2");
}

TEST(CsvShape, EmptyFile) {
  EXPECT_EQ(error_of(""), "t.csv:1:1: the file is empty, expected a header row");
  EXPECT_EQ(error_of("\xEF\xBB\xBF"), "t.csv:1:1: the file is empty, expected a header row");
  EXPECT_EQ(error_of("\n\r\n"), "t.csv:1:1: the file is empty, expected a header row");
  EXPECT_EQ(error_of("\na,b\n1,2\n"), "t.csv:1:1: expected a header row, found an empty line");
}

TEST(CsvShape, HeaderWithoutDataRows) {
  EXPECT_EQ(error_of("a,b\n"), "t.csv:2:1: no data rows after the header");
  EXPECT_EQ(error_of("a,b"), "t.csv:2:1: no data rows after the header");
  EXPECT_EQ(error_of("a,b\r\n\r\n"), "t.csv:2:1: no data rows after the header");
  EXPECT_EQ(error_of("\"a\nb\",c\n"), "t.csv:3:1: no data rows after the header");
}

TEST(CsvShape, NulByte) {
  EXPECT_EQ(error_of(std::string("a,b\n1,2\n3,\0\n", 12)),
            "t.csv:3:2: expected text, found a NUL byte (is this a binary or UTF-16 file?)");
  EXPECT_EQ(error_of(std::string("a,\"b\0\"\n1,2\n", 11)),
            "t.csv:1:2: expected text, found a NUL byte (is this a binary or UTF-16 file?)");
}

// Peak resident memory of this process so far, in MB.
long peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

TEST(CsvShape, WideHeaderOverEmptyLinesAllocatesLittle) {
  // The output used to be sized for one row per line break: this 230 KB
  // text (30,000 header names, 30,000 line feeds) took 4 GB and 17 s to
  // refuse, and 100,000 of each failed with std::bad_alloc (an internal
  // error, exit 1).  A row needs a comma per column, which bounds the rows.
  const std::size_t n = 30000;
  std::string text;
  for (std::size_t i = 0; i < n; ++i) text += (i ? ",c" : "c") + std::to_string(i);
  text += std::string(n + 1, '\n') + "1\n";
  const long before = peak_rss_mb();
  EXPECT_EQ(error_of(text), "t.csv:2:1: expected 30000 fields as in the header, found an empty row");
  EXPECT_EQ(error_of(text, dropping()).rfind("t.csv: no valid data rows (all 30001 were dropped", 0), 0u);
  EXPECT_LT(peak_rss_mb() - before, 256);
}

TEST(CsvShape, BinaryGarbageThrowsInputError) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::string garbage(1 + rng() % 2000, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    EXPECT_THROW(parse(garbage), InputError);
    EXPECT_THROW(parse(garbage, dropping()), InputError);
  }
  // A UTF-16 file.
  EXPECT_THROW(parse(std::string("\xFF\xFE" "a\0,\0b\0\n\0" "1\0,\0" "2\0\n\0", 18)), InputError);
}

TEST(CsvShape, MutatedInputNeverCrashes) {
  const std::string valid = "id,\"x\",y\r\n1,\"2.5\",3\r\n\"a\"\"b\",4,\"5\n\"\r\n7,8,9\r\n";
  const std::string alphabet("\",\r\n \t\0x1.e-", 12);
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string text = valid;
    for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
      const std::size_t at = rng() % (text.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: text.insert(at, 1, c); break;
        case 1: if (at < text.size()) text.erase(at, 1); break;
        default: if (at < text.size()) text[at] = c; break;
      }
    }
    for (const CsvOptions& options : {CsvOptions{}, dropping()}) {
      try {
        const Table table = parse(text, options);
        EXPECT_EQ(table.features.values.size(), table.features.rows * table.features.cols);
        EXPECT_EQ(table.ids.size(), table.features.rows);
      } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("t.csv:", 0), 0u) << e.what();
      }
    }
  }
}

// ---------------------------------------------------------------------------

TEST(CsvDropInvalid, CountsAndKeepsTheFirstFiveReasons) {
  const Table table = parse(
      "a,b\n"
      "1,2\n"
      "x,2\n"       // line 3: non-numeric
      "3\n"         // line 4: too few fields
      "\n"          // line 5: empty row
      "4,nan\n"     // line 6
      "5,6,7\n"     // line 7: too many fields
      "6,1e39\n"    // line 8: sixth reason, not kept
      "7,8\n",
      dropping());
  EXPECT_EQ(table.features.rows, 2u);
  EXPECT_EQ(table.features.values, (std::vector<float>{1, 2, 7, 8}));
  EXPECT_EQ(table.ids, (Strings{"0", "7"}));  // data row numbers, dropped rows included
  EXPECT_EQ(table.dropped_rows, 6u);
  EXPECT_EQ(table.drop_reasons,
            (Strings{"t.csv:3:1: expected a number in column 'a', found 'x'",
                     "t.csv:4:2: expected 2 fields as in the header, found 1",
                     "t.csv:5:1: expected 2 fields as in the header, found an empty row",
                     "t.csv:6:2: expected a finite number in column 'b', found 'nan'",
                     "t.csv:7:3: expected 2 fields as in the header, found 3"}));
}

TEST(CsvDropInvalid, OnlySelectedColumnsMatter) {
  const Table table = parse("id,a,b\nk1,1,junk\nk2,x,2\n", [] {
    CsvOptions options = dropping();
    options.columns = {"a"};
    return options;
  }());
  EXPECT_EQ(table.ids, (Strings{"k1"}));
  EXPECT_EQ(table.dropped_rows, 1u);
}

TEST(CsvDropInvalid, EveryRowDropped) {
  EXPECT_EQ(error_of("a\nx\ny\n", dropping()),
            "t.csv: no valid data rows (all 2 were dropped; first reason: "
            "t.csv:2:1: expected a number in column 'a', found 'x')");
}

// ---------------------------------------------------------------------------

TEST(CsvReadFile, ReadsAFileAndUsesItsPathInMessages) {
  const TempFile good("\xEF\xBB\xBFid,v\r\n1,2.5\r\n");
  const Table table = read_csv(good.path(), {});
  EXPECT_EQ(table.ids, (Strings{"1"}));
  EXPECT_EQ(table.features.values, (std::vector<float>{2.5f}));

  const TempFile bad("id,v\n1,2.5\n2,oops\n");
  try {
    read_csv(bad.path(), {});
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), bad.path() + ":3:2: expected a number in column 'v', found 'oops'");
  }
}

TEST(CsvReadFile, EmptyFile) {
  const TempFile empty("");
  try {
    read_csv(empty.path(), {});
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), empty.path() + ":1:1: the file is empty, expected a header row");
  }
}

TEST(CsvReadFile, MissingFile) {
  const std::string path = "/nonexistent-dir/data.csv";
  try {
    read_csv(path, {});
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": cannot open file (No such file or directory)");
  }
}

TEST(CsvReadFile, DirectoryIsAnInputError) {
  EXPECT_THROW(read_csv(std::filesystem::temp_directory_path().string(), {}), InputError);
}

TEST(CsvReadFile, ReadsFromAPipe) {
  // A FIFO cannot be mapped: the reader falls back to reading it.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("archetype_csv_fifo_" + std::to_string(::getpid()) + ".csv"))
                               .string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(path, std::ios::binary) << "id,v\n7,1.5\n8,2.5\n"; });
  Table table;
  try {
    table = read_csv(path, {});
  } catch (...) {
    writer.join();
    std::filesystem::remove(path);
    throw;
  }
  writer.join();
  std::filesystem::remove(path);
  EXPECT_EQ(table.ids, (Strings{"7", "8"}));
  EXPECT_EQ(table.features.values, (std::vector<float>{1.5f, 2.5f}));
}

// ---------------------------------------------------------------------------
// Parallel parsing
// ---------------------------------------------------------------------------

// The outcome of a parse, comparable as a whole: the table or the message.
struct Outcome {
  bool ok = false;
  std::string error;
  Table table;
};

Outcome outcome_of(const std::function<Table()>& parse_it) {
  Outcome outcome;
  try {
    outcome.table = parse_it();
    outcome.ok = true;
  } catch (const InputError& e) {
    outcome.error = e.what();
  }
  return outcome;
}

void expect_same(const Outcome& expected, const Outcome& actual, const std::string& context) {
  ASSERT_EQ(expected.ok, actual.ok) << context << "\nexpected error: " << expected.error
                                    << "\nactual error: " << actual.error;
  EXPECT_EQ(expected.error, actual.error) << context;
  const Table& e = expected.table;
  const Table& a = actual.table;
  EXPECT_EQ(e.features.rows, a.features.rows) << context;
  EXPECT_EQ(e.features.cols, a.features.cols) << context;
  EXPECT_EQ(e.features.values, a.features.values) << context;
  EXPECT_EQ(e.column_names, a.column_names) << context;
  EXPECT_EQ(e.column_indices, a.column_indices) << context;
  EXPECT_EQ(e.id_name, a.id_name) << context;
  EXPECT_EQ(e.ids, a.ids) << context;
  EXPECT_EQ(e.dropped_rows, a.dropped_rows) << context;
  EXPECT_EQ(e.drop_reasons, a.drop_reasons) << context;
}

// Sets the OpenMP thread count for one scope.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : saved_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ThreadCount() { omp_set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

// The reference layout, `rows` rows (about 1.3 MB for 60,000: several
// chunks per thread); bad_every > 0 puts a different kind of bad row every
// bad_every rows.
std::string generated_csv(std::size_t rows, std::size_t bad_every, bool with_id) {
  static const char* const kBadRows[] = {"x,1.5", "1", "", "2,nan", "3,4,5", "6,1e39"};
  std::mt19937 rng(99);
  std::string text = with_id ? "User ID,Instagram visit score,Spending_rank(0 to 100)\n" : "score,rank\n";
  char line[64];
  for (std::size_t i = 0; i < rows; ++i) {
    if (with_id) text += std::to_string(i) + ",";
    if (bad_every != 0 && i % bad_every == bad_every - 1) {
      text += kBadRows[(i / bad_every) % std::size(kBadRows)];
    } else {
      std::snprintf(line, sizeof line, "%u,%.8f", static_cast<unsigned>(5 + rng() % 113), (rng() % 10600000) / 1e5);
      text += line;
    }
    text += '\n';
  }
  return text;
}

TEST(CsvParallel, OutputDoesNotDependOnTheThreadCount) {
  struct Case {
    const char* name;
    std::size_t bad_every;
    bool with_id;
    bool drop_invalid;
  };
  const Case cases[] = {{"valid", 0, true, false},           {"valid, auto ids", 0, false, false},
                        {"first error", 40000, true, false}, {"dropped rows", 7001, true, true},
                        {"dropped rows, auto ids", 5003, false, true}};
  for (const Case& c : cases) {
    const TempFile file(generated_csv(60000, c.bad_every, c.with_id));
    CsvOptions options;
    options.drop_invalid = c.drop_invalid;
    const auto read = [&] { return read_csv(file.path(), options); };
    Outcome one, two;
    {
      const ThreadCount threads(1);
      one = outcome_of(read);
    }
    {
      const ThreadCount threads(2);
      two = outcome_of(read);
    }
    expect_same(one, two, c.name);
    if (c.bad_every == 0 || c.drop_invalid) {
      EXPECT_TRUE(two.ok) << c.name;
    }
  }
}

TEST(CsvParallel, FirstErrorInFileOrderAcrossChunks) {
  // A bad row every 9000 rows, so in nearly every chunk: the first one
  // (data row 8999, line 9001) is reported, whichever chunk finishes first.
  const TempFile file(generated_csv(60000, 9000, true));
  const ThreadCount threads(2);
  try {
    read_csv(file.path(), {});
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              file.path() + ":9001:2: expected a number in column 'Instagram visit score', found 'x'");
  }
}

TEST(CsvParallel, DroppedRowsMergeInFileOrder) {
  const std::string text = generated_csv(60000, 5003, false);
  CsvOptions options = dropping();
  const ThreadCount threads(2);
  const Table table = parse(text, options);
  EXPECT_EQ(table.dropped_rows, 60000u / 5003);
  EXPECT_EQ(table.features.rows, 60000u - 60000u / 5003);
  ASSERT_EQ(table.drop_reasons.size(), 5u);
  EXPECT_EQ(table.drop_reasons[0], "t.csv:5004:1: expected a number in column 'score', found 'x'");
  EXPECT_EQ(table.drop_reasons[4], "t.csv:25016:3: expected 2 fields as in the header, found 3");
  // Auto ids are data row numbers, dropped rows included.
  EXPECT_EQ(table.ids[5001], "5001");
  EXPECT_EQ(table.ids[5002], "5003");
  EXPECT_EQ(table.ids.back(), "59999");
}

// A random small CSV mixing every kind of row, line end and blank line, so
// that tiny chunks put a boundary next to each of them.  Only one file in
// four has quotes (which force a single chunk).
std::string random_csv(std::mt19937& rng) {
  static const char* const kEnds[] = {"\n", "\r\n", "\r"};
  static const char* const kCells[] = {"1", "-2.5", "+3", " 4 ", "", "x", "nan", "1e39", "7e-3", "\"5\"", "a\"b"};
  const bool with_id = rng() % 2 == 0;
  const std::size_t cell_kinds = rng() % 4 == 0 ? std::size(kCells) : std::size(kCells) - 2;
  const char* end = kEnds[rng() % 3];
  std::string text = with_id ? "id,a,b" : "a,b";
  text += end;
  const std::size_t rows = 1 + rng() % 40;
  for (std::size_t i = 0; i < rows; ++i) {
    const unsigned kind = rng() % 20;
    if (kind == 0) {
      // an empty row
    } else if (kind == 1) {
      text += "1,2,3,4";
    } else if (kind == 2) {
      text += std::string("3,\0", 3);
    } else if (kind == 3 && cell_kinds == std::size(kCells)) {
      text += "\"q\nq\",1,2";  // a quoted line break
    } else {
      if (with_id) text += "k" + std::to_string(i) + ",";
      const std::size_t cells = kind < 16 ? 2 : 1 + rng() % 3;
      for (std::size_t c = 0; c < cells; ++c) {
        if (c != 0) text += ',';
        text += kind < 12 ? std::to_string(rng() % 1000) : kCells[rng() % cell_kinds];
      }
    }
    text += rng() % 8 == 0 ? kEnds[rng() % 3] : end;
  }
  for (std::size_t blank = rng() % 3; blank > 0; --blank) text += end;
  return text;
}

TEST(CsvParallel, TinyChunksGiveTheSequentialResult) {
  // The chunking, not the threads, is under test here (the tests above run
  // real threads): one thread avoids thousands of tiny parallel regions,
  // which take milliseconds each when the other core is busy.
  const ThreadCount threads(1);
  std::mt19937 rng(2024);
  for (int round = 0; round < 1500; ++round) {
    const std::string text = random_csv(rng);
    CsvOptions options;
    options.drop_invalid = rng() % 2 == 0;
    const auto chunked = [&](std::size_t chunks) {
      return outcome_of([&] {
        return csv_detail::parse_csv_chunked(text, "t.csv", options, csv_detail::Chunking{chunks, 1});
      });
    };
    const Outcome sequential = chunked(1);
    for (std::size_t chunks : {2, 3, 7, 64}) {
      expect_same(sequential, chunked(chunks), "chunks " + std::to_string(chunks) + ":\n" + text);
      if (HasFatalFailure()) return;
    }
  }
}

// ---------------------------------------------------------------------------

TEST(CsvChunks, PiecesStartAfterALineFeedAndCoverTheText) {
  std::mt19937 rng(5);
  for (int round = 0; round < 500; ++round) {
    std::string text(rng() % 300, 'a');
    for (char& c : text) c = "ab,\n\r"[rng() % 5];
    const std::size_t wanted = 1 + rng() % 9;
    const auto pieces = split_at_line_starts(text, wanted);
    ASSERT_FALSE(pieces.empty());
    EXPECT_LE(pieces.size(), wanted);
    std::string joined;
    for (std::size_t k = 0; k < pieces.size(); ++k) {
      if (k != 0) {
        EXPECT_FALSE(pieces[k].empty()) << text;
        EXPECT_EQ(pieces[k - 1].back(), '\n') << text;
      }
      joined += pieces[k];
    }
    EXPECT_EQ(joined, text);
  }
  EXPECT_EQ(split_at_line_starts("", 4), (std::vector<std::string_view>{""}));
  EXPECT_EQ(split_at_line_starts("a\nb\nc\nd", 2), (std::vector<std::string_view>{"a\nb\n", "c\nd"}));
  // A line feed that ends the text never starts a piece.
  EXPECT_EQ(split_at_line_starts("ab\n", 2), (std::vector<std::string_view>{"ab\n"}));
}

TEST(CsvChunks, ScanCountsLineBreaksLikeTheTokenizer) {
  std::mt19937 rng(6);
  for (int round = 0; round < 300; ++round) {
    std::string text(rng() % 2000, 'a');  // longer than a 255-byte counting block
    for (char& c : text) c = "a1,\"\n\r\n\r"[rng() % 8];
    std::size_t breaks = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++breaks;
    }
    const TextScan scan = scan_text(text);
    EXPECT_EQ(scan.line_breaks, breaks);
    EXPECT_EQ(scan.has_quote, text.find('"') != std::string::npos);
  }
  EXPECT_EQ(scan_text(std::string(1000, '\n')).line_breaks, 1000u);
  EXPECT_EQ(scan_text("").line_breaks, 0u);
  EXPECT_EQ(trim_trailing_line_breaks("a\r\n\n\r"), "a");
}

}  // namespace
}  // namespace archetype
