// The command line for people: each command's --help shows only its own
// options, with examples and without the build path; a misspelled command
// or option gets a "did you mean"; --delimiter; a user's table with a text
// column, a handle and semicolons runs end to end with one notice each.
#include <gtest/gtest.h>

#include <string>

#include "cli_support.hpp"

namespace archetype {
namespace {

class CliManners : public test::CliTest {};

TEST_F(CliManners, HelpShowsTheCommandsOwnOptionsAndExamples) {
  const test::CliResult profile = run("profile --help");
  EXPECT_EQ(profile.code, 0);
  EXPECT_NE(profile.out.find("Usage: archetype profile"), std::string::npos) << profile.out;
  EXPECT_NE(profile.out.find("Examples:"), std::string::npos);
  for (const char* other : {"--seed", "--n-init", "--k-max", "--personas", "--backend", "--silhouette"})
    EXPECT_EQ(profile.out.find(other), std::string::npos) << other << " in profile --help";
  const test::CliResult fit = run("fit --help");
  for (const char* own : {"--k ", "--seed", "--n-init", "--personas", "--backend", "--delimiter"})
    EXPECT_NE(fit.out.find(own), std::string::npos) << own << " missing in fit --help";
  EXPECT_EQ(fit.out.find("--k-max"), std::string::npos);
}

TEST_F(CliManners, DidYouMean) {
  test::CliResult r = run("fti");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("Did you mean the command 'fit'?"), std::string::npos) << r.err;
  r = run("fit --colums a");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("Did you mean '--columns'?"), std::string::npos) << r.err;
  r = run("sweep --kmax 4");
  EXPECT_NE(r.err.find("Did you mean '--k-max'?"), std::string::npos) << r.err;
  r = run("fit --zzzzzzzz 1");  // nothing close: no guess
  EXPECT_EQ(r.err.find("Did you mean"), std::string::npos) << r.err;
}

TEST_F(CliManners, AnOwnTableWithTextColumnsAndSemicolons) {
  std::string csv = "creator_handle;country;followers;revenue_usd\n";
  for (int i = 0; i < 60; ++i)
    csv += "@c" + std::to_string(i) + ";" + (i % 2 ? "US" : "BR") + ";" + std::to_string(100 + (i % 3) * 1000 + i) +
           ";" + std::to_string((i % 3) * 50 + i % 7) + "\n";
  const auto p = write("own.csv", csv);
  const test::CliResult r =
      run("fit " + p.string() + " --k 3 --no-figures --backend cpu --out " + (dir_ / "out").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("skipped 1 text column(s): 'country'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("using text column 'creator_handle' as the id"), std::string::npos);
  EXPECT_NE(r.err.find("read as semicolon-separated values"), std::string::npos);
  EXPECT_NE(r.err.find("the persona catalog describes"), std::string::npos);
  const std::string labels = test::slurp(dir_ / "out" / "labels.csv");
  EXPECT_EQ(labels.rfind("creator_handle,cluster,persona\n@c0,", 0), 0u) << labels.substr(0, 80);
  // The catalog's names and advice are not used for these metrics.
  EXPECT_EQ(labels.find("The Power Stars"), std::string::npos);
  // An explicit delimiter that does not fit the file: one column of text.
  const test::CliResult wrong = run("profile " + p.string() + " --delimiter comma --out " + (dir_ / "o2").string());
  EXPECT_EQ(wrong.code, 2) << wrong.err;
}

}  // namespace
}  // namespace archetype
