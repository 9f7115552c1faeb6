// The CSV reader's defaults for people's own tables: the delimiter found
// from the header, text columns skipped without --columns (a typo in a
// numeric column still an error), a distinct text column taken as the id,
// blanks around --columns names forgiven.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "archetype/csv.hpp"
#include "archetype/error.hpp"

namespace archetype {
namespace {

using Strings = std::vector<std::string>;

Table parse(std::string_view text, const CsvOptions& options = {}) { return parse_csv(text, "t.csv", options); }

TEST(CsvDelimiter, SemicolonAndTabAreDetected) {
  for (const char d : {';', '\t'}) {
    SCOPED_TRACE(d == ';' ? "semicolon" : "tab");
    // A comma inside a quoted name is text; blanks around quotes are padding
    // (not a tab that delimits).
    const std::string text = std::string("\"a,b\"") + d + "c" + d + "d\n1.5" + d + "2" + d + "3\n4" + d + "5" + d + "6\n";
    const Table t = parse(text);
    EXPECT_EQ(t.delimiter, d);
    EXPECT_EQ(t.column_names, (Strings{"a,b", "c", "d"}));
    EXPECT_EQ(t.features.values, (std::vector<float>{1.5f, 2, 3, 4, 5, 6}));
  }
  EXPECT_EQ(parse("a,b\n1,2\n").delimiter, ',');
  EXPECT_EQ(parse("a\n1\n").delimiter, ',');  // one column: no delimiter to see
}

TEST(CsvDelimiter, AnExplicitDelimiterWins) {
  CsvOptions o;
  o.delimiter = ';';
  const Table t = parse("a,b;c\n1,5;2\n1,5;3\n", o);  // "a,b" is one column, of text ("1,5")
  EXPECT_EQ(t.column_names, (Strings{"c"}));
  EXPECT_EQ(t.skipped_columns, (Strings{"a,b"}));
  try {
    parse("a,b;c\n1,5;2\n", [] {
      CsvOptions x;
      x.delimiter = ';';
      x.columns = {"a,b"};
      return x;
    }());
    ADD_FAILURE() << "1,5 is not a number";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv:2:1: expected a number in column 'a,b', found '1,5'"), std::string::npos)
        << e.what();
  }
}

TEST(CsvTextColumns, SkippedAndTheDistinctOneIsTheId) {
  const Table t = parse("handle,country,followers,revenue\n@a,US,10,1.5\n@b,US,20,2.5\n@c,BR,30,3.5\n");
  EXPECT_EQ(t.column_names, (Strings{"followers", "revenue"}));
  EXPECT_EQ(t.skipped_columns, (Strings{"country"}));
  EXPECT_EQ(t.id_name, "handle");
  EXPECT_TRUE(t.id_inferred);
  EXPECT_EQ(t.ids, (Strings{"@a", "@b", "@c"}));
}

TEST(CsvTextColumns, ANamedIdColumnIsKeptAndNoTextOneInferred) {
  const Table t = parse("user_id,handle,x\n1,@a,10\n2,@b,20\n");
  EXPECT_EQ(t.id_name, "user_id");
  EXPECT_FALSE(t.id_inferred);
  EXPECT_EQ(t.skipped_columns, (Strings{"handle"}));
  EXPECT_EQ(t.column_names, (Strings{"x"}));
}

TEST(CsvTextColumns, ATypoInANumericColumnIsStillAnError) {
  // One text cell among three numbers: the column is numeric, the cell bad.
  try {
    parse("a,b\n1,2\n3,x\n5,6\n7,8\n");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "t.csv:3:2: expected a number in column 'b', found 'x'");
  }
}

TEST(CsvTextColumns, RepeatedTextIsNotAnId) {
  const Table t = parse("country,x\nUS,1\nUS,2\n");
  EXPECT_TRUE(t.id_name.empty());
  EXPECT_EQ(t.skipped_columns, (Strings{"country"}));
}

TEST(CsvTextColumns, ChosenColumnsAreNotSniffedAndBlanksAreForgiven) {
  CsvOptions o;
  o.columns = {" revenue", "followers "};
  const Table t = parse("handle,followers,revenue\n@a,10,1.5\n@b,20,2.5\n", o);
  EXPECT_EQ(t.column_names, (Strings{"revenue", "followers"}));
  EXPECT_TRUE(t.skipped_columns.empty());
  EXPECT_FALSE(t.id_inferred);
}

}  // namespace
}  // namespace archetype

namespace archetype {
namespace {

TEST(CsvColumnsAmbiguity, ANameThatIsAlsoAnIndexIsReadAsTheNameAndSaidSo) {
  CsvOptions o;
  o.columns = {"0", "2"};
  const Table t = parse_csv("b,0,1\n5,6,7\n8,9,1\n", "t.csv", o);
  EXPECT_EQ(t.column_names, (std::vector<std::string>{"0", "1"}));  // "0" by name, "2" by index
  ASSERT_EQ(t.notes.size(), 1u);
  EXPECT_EQ(t.notes[0], "--columns '0': read as the column named so (field 2), not as 0-based index 0 ('b')");
  o.columns = {"b"};
  EXPECT_TRUE(parse_csv("b,0,1\n5,6,7\n", "t.csv", o).notes.empty());
}

}  // namespace
}  // namespace archetype
