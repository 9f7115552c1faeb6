// The CSV reader's weight column (CsvOptions::weight_column): doubles, not
// float32 (integers beyond 2^24 and decimals stay exact), never a feature,
// aligned with the kept rows whatever the chunking and the dropped rows.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "archetype/csv.hpp"
#include "archetype/error.hpp"
#include "io/csv_parallel.hpp"

namespace archetype {
namespace {

TEST(CsvWeightColumn, ReadAsDoublesAndLeftOutOfTheFeatures) {
  CsvOptions o;
  o.weight_column = "w";
  const Table t = parse_csv("id,a,w,b\nx,1,0.1,2\ny,3,123456789,4\nz,5,+2.5e0,6\n", "t.csv", o);
  EXPECT_EQ(t.column_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.weight_name, "w");
  EXPECT_EQ(t.weights, (std::vector<double>{0.1, 123456789.0, 2.5}));
  EXPECT_EQ(t.features.cols, 2u);
  EXPECT_EQ(t.features.at(1, 1), 4.0f);
  // By index, and beside explicit feature columns.
  o.weight_column = "2";
  o.columns = {"b"};
  const Table u = parse_csv("id,a,w,b\nx,1,7,2\n", "t.csv", o);
  EXPECT_EQ(u.column_names, (std::vector<std::string>{"b"}));
  EXPECT_EQ(u.weights, (std::vector<double>{7.0}));
  // Without a weight column nothing is read.
  const Table v = parse_csv("a,w\n1,2\n", "t.csv", CsvOptions{});
  EXPECT_TRUE(v.weights.empty());
  EXPECT_TRUE(v.weight_name.empty());
  EXPECT_EQ(v.features.cols, 2u);
}

TEST(CsvWeightColumn, StaysAlignedAcrossChunksAndDroppedRows) {
  std::string text = "a,w\n";
  std::vector<double> expect;
  for (int i = 0; i < 5000; ++i) {
    if (i % 97 == 3) {
      text += std::to_string(i) + ",-1\n";  // a bad weight: dropped
      continue;
    }
    if (i % 89 == 5) {
      text += "oops," + std::to_string(i) + "\n";  // a bad feature: dropped
      continue;
    }
    text += std::to_string(i) + "," + std::to_string(i) + ".5\n";
    expect.push_back(i + 0.5);
  }
  CsvOptions o;
  o.weight_column = "w";
  o.drop_invalid = true;
  for (std::size_t chunks : {1u, 3u, 16u}) {
    const Table t = csv_detail::parse_csv_chunked(text, "t.csv", o, csv_detail::Chunking{chunks, 1});
    ASSERT_EQ(t.weights.size(), t.features.rows) << chunks;
    EXPECT_EQ(t.weights, expect) << chunks;
    for (std::size_t r = 0; r < t.features.rows; ++r)
      ASSERT_EQ(static_cast<double>(t.features.at(r, 0)) + 0.5, t.weights[r]) << chunks << " row " << r;
  }
  // Without drop_invalid the first bad weight is the error, at its line.
  o.drop_invalid = false;
  try {
    csv_detail::parse_csv_chunked(text, "t.csv", o, csv_detail::Chunking{16, 1});
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "t.csv:5:2: expected a weight >= 0 in the weight column 'w', found '-1'");
  }
}

TEST(CsvWeightColumn, TheIdCannotBeTheWeight) {
  CsvOptions o;
  o.weight_column = "id";
  try {
    parse_csv("id,a\n1,2\n", "t.csv", o);
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "t.csv:1:1: column 'id' cannot be both the id and the weight column");
  }
}

}  // namespace
}  // namespace archetype
