// model.json loading (what `predict` reads): a valid model, and bad files
// refused with an InputError that names the file and the field.  Includes
// the regressions found by tests/fuzz/fuzz_model.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "archetype/error.hpp"
#include "study/model_file.hpp"

namespace archetype {
namespace {

const std::string kModel = R"({
  "format": "archetype-model", "version": 1,
  "features": [{"column": "visits", "name": "Engagement"}, {"column": "spend", "name": "Monetization"}],
  "scaler": {"mean": [63.3, 42.8], "scale": [26.5, 28.7]},
  "k": 2,
  "centroids_scaled": [[0.5, 1.4], [-1.1, -0.08]],
  "personas": ["The Power Stars", "Inactive/Casual"]
})";

// The InputError message of parsing `text`, or "" when it loads.
std::string error_of(const std::string& text) {
  try {
    parse_model_file(text, "m.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string with(const std::string& from, const std::string& to) {
  std::string text = kModel;
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

TEST(ModelFile, LoadsAValidModel) {
  const SavedModel m = parse_model_file(kModel, "m.json");
  EXPECT_EQ(m.columns, (std::vector<std::string>{"visits", "spend"}));
  EXPECT_EQ(m.names, (std::vector<std::string>{"Engagement", "Monetization"}));
  EXPECT_EQ(m.k, 2);
  EXPECT_EQ(m.centroids_scaled, (std::vector<double>{0.5, 1.4, -1.1, -0.08}));
  EXPECT_EQ(m.persona_names[1], "Inactive/Casual");
}

TEST(ModelFile, NumberBeyondDoubleRangeIsAnInputError) {
  // nlohmann's parser throws out_of_range, not parse_error, for "1e999":
  // it used to escape as an internal error (exit code 1).
  const std::string msg = error_of(with("63.3", "-1e999"));
  EXPECT_EQ(msg.rfind("m.json: not valid JSON (", 0), 0u) << msg;
  EXPECT_NE(msg.find("number overflow"), std::string::npos) << msg;
}

TEST(ModelFile, BadFilesNameTheField) {
  EXPECT_EQ(error_of("[1, 2]"), "m.json: expected a JSON object (a model.json written by fit or run), found array");
  EXPECT_EQ(error_of("").rfind("m.json: not valid JSON (", 0), 0u);
  EXPECT_EQ(error_of(with("\"k\": 2", "\"k\": 3")), "m.json: field 'centroids_scaled': expected 3 centroids");
  EXPECT_EQ(error_of(with("\"k\": 2", "\"k\": 1e3")), "m.json: field 'k': expected a positive integer");
  EXPECT_EQ(error_of(with("\"k\": 2", "\"k\": 18446744073709551615")), "m.json: field 'k': expected a positive integer");
  EXPECT_EQ(error_of(with("\"version\": 1", "\"version\": 4294967297")),
            "m.json: field 'version': expected 1 (the model format this build reads), found 4294967297");
  EXPECT_EQ(error_of(with("26.5", "-26.5")), "m.json: field 'scaler.scale[0]': expected a number >= 1e-30");
  // Values that would overflow later are named by file and field here.
  EXPECT_EQ(error_of(with("26.5", "1e-300")), "m.json: field 'scaler.scale[0]': expected a number >= 1e-30");
  EXPECT_EQ(error_of(with("63.3", "1e300")), "m.json: field 'scaler.mean[0]': expected |mean| <= 1e30");
  EXPECT_EQ(error_of(with("[0.5, 1.4]", "[1e300, 1.4]")),
            "m.json: field 'centroids_scaled[0][0]': expected a centre in z units (standard deviations, |value| <= "
            "1e6), found 1e+300");
  EXPECT_EQ(error_of(with("[0.5, 1.4]", "[0.5]")),
            "m.json: field 'centroids_scaled[0]': expected an array of 2 numbers");
  EXPECT_EQ(error_of(with("\"Inactive/Casual\"", "7")), "m.json: field 'personas[1]': expected a string");
  EXPECT_EQ(error_of(with("{\"column\": \"visits\", \"name\": \"Engagement\"}", "\"visits\"")),
            "m.json: field 'features[0].column': missing");
}

TEST(ModelFile, MissingFileIsAnInputError) {
  EXPECT_THROW(load_model_file("/nonexistent/model.json"), InputError);
  EXPECT_THROW(load_model_file(""), InputError);
}

}  // namespace
}  // namespace archetype

namespace archetype {
namespace {

// A model.json far above any Archetype writes is refused before parsing
// (parsed JSON takes about ten times its text).
TEST(ModelFile, AHugeFileIsRefusedBeforeParsing) {
  const std::string path = ::testing::TempDir() + "huge_model.json";
  {
    std::ofstream out(path, std::ios::binary);
    out << "[";
    const std::string chunk(1 << 20, ' ');
    for (long long written = 0; written <= kMaxModelFileBytes; written += chunk.size()) out << chunk;
    out << "]";
  }
  try {
    load_model_file(path);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("MiB a model.json may have"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace archetype
