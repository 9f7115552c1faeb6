// --transform log1p: parsing, application (and refusal of values <= -1),
// the heavy-tail warning, and predict applying the model's transforms so
// that the training rows get their training labels back.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "archetype/error.hpp"
#include "cli_support.hpp"
#include "study/transforms.hpp"

namespace archetype {
namespace {

TEST(Transforms, ParseAllOrSomeColumns) {
  const std::vector<std::string> cols = {"followers", "posts", "revenue"};
  EXPECT_EQ(parse_transforms("", cols), (Transforms{"none", "none", "none"}));
  EXPECT_EQ(parse_transforms("log1p", cols), (Transforms{"log1p", "log1p", "log1p"}));
  EXPECT_EQ(parse_transforms("revenue=log1p,followers=log1p", cols), (Transforms{"log1p", "none", "log1p"}));
  EXPECT_THROW(parse_transforms("views=log1p", cols), InputError);
  EXPECT_THROW(parse_transforms("followers=sqrt", cols), InputError);
  EXPECT_THROW(parse_transforms("followers", cols), InputError);
}

TEST(Transforms, ApplyLog1pAndRefuseValuesAtOrBelowMinusOne) {
  Matrix m(2, 2);
  m.values = {0.0f, 5.0f, 99.0f, -0.5f};
  apply_transforms(m, {"log1p", "none"}, {"a", "b"}, "t.csv");
  EXPECT_EQ(m.values[0], 0.0f);
  EXPECT_EQ(m.values[2], static_cast<float>(std::log1p(99.0)));
  EXPECT_EQ(m.values[1], 5.0f);
  Matrix bad(1, 1);
  bad.values = {-1.0f};
  try {
    apply_transforms(bad, {"log1p"}, {"a"}, "t.csv");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv: data row 1, column 'a': log1p needs values above -1"),
              std::string::npos);
  }
}

TEST(Transforms, HeavyTailWarningNamesUntransformedSkewedFeatures) {
  const std::string w = skew_warning({"followers", "posts", "rev"}, {21.3, 0.4, -3.0}, {0.0, 0.0, 1.0},
                                     {"none", "none", "log1p"});
  EXPECT_NE(w.find("'followers' (skew +21.3)"), std::string::npos) << w;
  EXPECT_EQ(w.find("posts"), std::string::npos);
  EXPECT_EQ(w.find("rev"), std::string::npos);  // already transformed
  EXPECT_TRUE(skew_warning({"a"}, {0.5}, {0.0}, {"none"}).empty());
}

class TransformCli : public test::CliTest {};

TEST_F(TransformCli, PredictAppliesTheModelsTransform) {
  std::string csv = "handle,followers,revenue\n";
  for (int i = 0; i < 120; ++i) {
    const double f = std::pow(10.0, 2 + (i % 4)) * (1 + i % 7), r = (i % 3) * 500.0 + i;
    csv += "h" + std::to_string(i) + "," + std::to_string(f) + "," + std::to_string(r) + "\n";
  }
  const auto p = write("t.csv", csv);
  const std::string out = (dir_ / "m").string();
  const test::CliResult fit =
      run("fit " + p.string() + " --k 4 --transform followers=log1p --no-figures --backend cpu --out " + out);
  ASSERT_EQ(fit.code, 0) << fit.err;
  const std::string summary = test::slurp(dir_ / "m" / "summary.json");
  EXPECT_NE(summary.find("\"log1p(followers)\""), std::string::npos);
  const test::CliResult pred = run("predict " + p.string() + " --model " + out +
                                   "/model.json --backend cpu --out " + (dir_ / "p").string());
  ASSERT_EQ(pred.code, 0) << pred.err;
  EXPECT_EQ(pred.err.find("warning"), std::string::npos) << pred.err;  // the same rows: nothing far
  EXPECT_EQ(test::slurp(dir_ / "p" / "labels.csv"), test::slurp(dir_ / "m" / "labels.csv"));
}

}  // namespace
}  // namespace archetype
