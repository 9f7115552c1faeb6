// Data-driven cluster names: levels from quantiles, at most 40 characters,
// distinct, and the same whatever the order of the features.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "study/level_names.hpp"

namespace archetype {
namespace {

TEST(LevelNames, LevelsFromQuantiles) {
  EXPECT_STREQ(quantile_level(0.05), "Very low");
  EXPECT_STREQ(quantile_level(0.2), "Low");
  EXPECT_STREQ(quantile_level(0.5), "Mid");
  EXPECT_STREQ(quantile_level(0.8), "High");
  EXPECT_STREQ(quantile_level(0.95), "Very high");
  EXPECT_STREQ(quantile_level(0.995), "Top 1%");
}

TEST(LevelNames, TwoMostDistinctiveFeaturesInOrderOfDistinction) {
  const std::vector<std::string> f = {"followers", "revenue", "posts"};
  const auto names = level_names(f, {0.95, 0.2, 0.5,  //
                                     0.5, 0.5, 0.55},
                                 2);
  EXPECT_EQ(names[0], "Very high followers, low revenue");
  EXPECT_EQ(names[1], "Typical (mid on every feature)");
}

TEST(LevelNames, OneFeature) {
  const auto names = level_names({"followers"}, {0.95, 0.2, 0.5, 0.2}, 4);
  EXPECT_EQ(names[0], "Very high followers");
  EXPECT_EQ(names[1], "Low followers (1)");  // equal quantiles: numbered
  EXPECT_EQ(names[2], "Typical (mid on every feature)");
  EXPECT_EQ(names[3], "Low followers (2)");
}

TEST(LevelNames, LongNamesAreCutTo40Characters) {
  const std::vector<std::string> f = {std::string(60, 'x'), "revenue"};
  const auto names = level_names(f, {0.95, 0.2, 0.5, 0.02}, 2);
  for (const std::string& n : names) EXPECT_LE(n.size(), kMaxLevelNameLength) << n;
  EXPECT_EQ(names[0], "Very high " + std::string(27, 'x') + "...");  // the second part does not fit: dropped
  EXPECT_EQ(names[1], "Very low revenue");
}

TEST(LevelNames, DistinctWhateverTheFeatureOrder) {
  // Four clusters that agree on their two most distinctive features.
  const std::vector<std::string> f = {"a", "b", "c", "d"};
  const std::vector<double> q = {0.99, 0.01, 0.2, 0.5,  //
                                 0.99, 0.01, 0.8, 0.5,  //
                                 0.99, 0.01, 0.2, 0.5,  //
                                 0.99, 0.01, 0.8, 0.6};
  const auto names = level_names(f, q, 4);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 4u);
  // The same clusters with the features reversed get the same names.
  std::vector<double> rq;
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t j = 4; j-- > 0;) rq.push_back(q[c * 4 + j]);
  EXPECT_EQ(level_names({"d", "c", "b", "a"}, rq, 4), names);
}

}  // namespace
}  // namespace archetype
