// predict you can trust: new rows far from the training data are flagged
// (the share outside the training range, the distance to the centres
// against training), and --keep-columns carries the input values.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli_support.hpp"

namespace archetype {
namespace {

class PredictTrust : public test::CliTest {
 protected:
  /// Three groups of shops, values multiplied by `scale`.
  std::string shops(double scale) {
    std::string csv = "shop,orders,basket\n";
    for (int i = 0; i < 90; ++i) {
      const double orders = (i % 3) * 100.0 + i % 11, basket = (i % 3 == 1 ? 80.0 : 20.0) + i % 5;
      csv += "s" + std::to_string(i) + "," + std::to_string(orders * scale) + "," + std::to_string(basket * scale) + "\n";
    }
    return csv;
  }
};

TEST_F(PredictTrust, FarRowsAreFlaggedAndTheSameRowsAreNot) {
  const auto train = write("train.csv", shops(1.0));
  const std::string out = (dir_ / "model").string();
  ASSERT_EQ(run("fit " + train.string() + " --k 3 --no-figures --backend cpu --out " + out).code, 0);

  test::CliResult same = run("predict " + train.string() + " --model " + out + "/model.json --backend cpu --json --out " +
                             (dir_ / "p1").string());
  ASSERT_EQ(same.code, 0) << same.err;
  EXPECT_EQ(same.err.find("warning"), std::string::npos) << same.err;
  const nlohmann::json a = nlohmann::json::parse(same.out)["prediction"];
  EXPECT_EQ(a["outside_training_share"], 0.0);
  EXPECT_NEAR(a["distance_ratio"].get<double>(), 1.0, 1e-6);

  const auto scaled = write("scaled.csv", shops(10.0));
  test::CliResult far = run("predict " + scaled.string() + " --model " + out +
                            "/model.json --backend cpu --json --keep-columns --out " + (dir_ / "p2").string());
  ASSERT_EQ(far.code, 0) << far.err;
  EXPECT_NE(far.err.find("of the rows lie outside the training range"), std::string::npos) << far.err;
  EXPECT_NE(far.err.find("farther from their nearest centre than the training rows"), std::string::npos);
  const nlohmann::json b = nlohmann::json::parse(far.out)["prediction"];
  EXPECT_GT(b["outside_training_share"].get<double>(), 0.5);
  EXPECT_GT(b["distance_ratio"].get<double>(), 1.5);
  const std::string labels = test::slurp(dir_ / "p2" / "labels.csv");
  // The training table's id column (a handle) is the id here too.
  EXPECT_EQ(labels.substr(0, labels.find('\n')), "shop,orders,basket,cluster,persona");
  EXPECT_EQ(labels.substr(labels.find('\n') + 1, 9), "s0,0,200,");  // orders 0, basket 20 x 10
}

}  // namespace
}  // namespace archetype
