// The command line for people: each command's --help shows only its own
// options, with examples and without the build path; a misspelled command
// or option gets a "did you mean"; --delimiter; a user's table with a text
// column, a handle and semicolons runs end to end with one notice each.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

namespace archetype {
namespace {

TEST_F(CliManners, SeedsOutOfRangeAreRefused) {
  for (const char* seed : {"-1", "1e23", "18446744073709551616", "4.5", "+3"}) {
    const test::CliResult r = run(std::string("fit --k 3 --no-figures --seed ") + seed + " --out " + (dir_ / "o").string());
    EXPECT_EQ(r.code, 2) << seed;
    EXPECT_NE(r.err.find("expected an integer in [0, 18446744073709551615]"), std::string::npos) << r.err;
  }
  EXPECT_EQ(run("fit --k 3 --no-figures --quiet --seed 18446744073709551615 --out " + (dir_ / "o").string()).code, 0);
}

TEST_F(CliManners, Latin1NamesAndIdsBecomeValidUtf8) {
  const auto p = write("latin.csv", "name,caf\xe9,b\xe9" "b\xe9\nJos\xe9,1,2\nAna,3,4\nR\xfc" "di,5,9\nLi,7,1\n");
  const test::CliResult r = run("fit " + p.string() + " --k 2 --no-figures --backend cpu --json --out " + (dir_ / "o").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("not UTF-8: read as Latin-1"), std::string::npos) << r.err;
  const nlohmann::json s = nlohmann::json::parse(r.out);  // throws on invalid UTF-8
  EXPECT_EQ(s["input"]["columns"][0], "caf\xc3\xa9");
  const nlohmann::json file = nlohmann::json::parse(test::slurp(dir_ / "o" / "summary.json"));
  EXPECT_EQ(file["input"]["id_column"], "name");
  EXPECT_NE(test::slurp(dir_ / "o" / "labels.csv").find("Jos\xc3\xa9,"), std::string::npos);
}

}  // namespace
}  // namespace archetype

namespace archetype {
namespace {

// Header names that are terminal escape sequences or HTML reach neither the
// terminal nor report.md raw.
TEST_F(CliManners, NamesCannotInjectTerminalEscapesOrHtml) {
  const auto p = write("evil.csv",
                       "id,\"\x1b]0;pwned\x07x\",\"<img src=x onerror=alert(1)>\",z\x1b[2J,\xc2\x9bq\n"
                       "1,1,2,3,4\n2,4,5,6,1\n3,7,8,1,2\n4,2,2,2,9\n");
  const test::CliResult r = run("fit " + p.string() + " --k 2 --no-figures --backend cpu --out " + (dir_ / "o").string());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::string* text : {&r.out, &r.err}) {
    EXPECT_EQ(text->find('\x1b'), std::string::npos);
    EXPECT_EQ(text->find('\x07'), std::string::npos);
    EXPECT_EQ(text->find("\xc2\x9b"), std::string::npos);  // U+009B CSI
  }
  EXPECT_NE(r.out.find("\\x1b]0;pwned\\x07x"), std::string::npos) << r.out;
  const std::string md = test::slurp(dir_ / "o" / "report.md");
  EXPECT_EQ(md.find("<img"), std::string::npos);
  EXPECT_NE(md.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
}

}  // namespace
}  // namespace archetype
