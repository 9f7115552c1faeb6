#include "archetype/personas.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "archetype/error.hpp"

namespace archetype {
namespace {

const char* const kCatalog = ARCHETYPE_TEST_DATA_DIR "/personas.json";
const std::vector<std::string> kFeatures = {"Engagement Index", "Monetization Maturity"};

// Reference standardisation of the two features.
constexpr double kEngMean = 63.32346154, kEngStd = 26.5746479;
constexpr double kMonMean = 42.84840781, kMonStd = 28.75281799;

struct Cluster {
  double engagement, monetization;  // original units
  const char* expected;
};

// The reference k = 5 solution, listed in shuffled order.
const std::vector<Cluster> kReference = {
    {59.952, 19.775, "Steady Hobbyists"}, {79.615, 85.024, "The Power Stars"},
    {23.916, 24.962, "Inactive/Casual"},  {89.258, 19.963, "Growth Engines"},
    {39.271, 65.262, "Niche Experts"},
};

std::vector<double> z_centroids(const std::vector<Cluster>& clusters) {
  std::vector<double> z;
  for (const Cluster& c : clusters) {
    z.push_back((c.engagement - kEngMean) / kEngStd);
    z.push_back((c.monetization - kMonMean) / kMonStd);
  }
  return z;
}

class PersonasTest : public ::testing::Test {
 protected:
  void SetUp() override { catalog = load_persona_catalog(kCatalog); }

  /// A request whose quantiles are the normal CDF of the z-centroids.
  static PersonaRequest request(const std::vector<std::string>& names, const std::vector<double>& z, std::size_t k,
                                bool chosen = false) {
    PersonaRequest r;
    r.feature_names = names;
    r.k = k;
    r.z_centroids = z;
    for (double v : z) r.quantiles.push_back(0.5 * std::erfc(-v / std::sqrt(2.0)));
    r.catalog_chosen = chosen;
    return r;
  }
  std::vector<Persona> assign(const std::vector<std::string>& names, const std::vector<double>& z, std::size_t k,
                              bool chosen = false) {
    return assign_personas(catalog, request(names, z, k, chosen)).personas;
  }

  PersonaCatalog catalog;
};

TEST_F(PersonasTest, CatalogLoads) {
  EXPECT_EQ(catalog.features, kFeatures);
  EXPECT_EQ(catalog.short_names, (std::vector<std::string>{"Engagement", "Monetization"}));
  ASSERT_EQ(catalog.aliases.size(), 2u);
  EXPECT_EQ(catalog.aliases[0].front(), "Instagram visit score");  // the generator's columns
  EXPECT_EQ(catalog.aliases[1].front(), "Spending_rank(0 to 100)");
  EXPECT_EQ(catalog.max_match_distance, 1.5);
  ASSERT_EQ(catalog.archetypes.size(), 5u);
  EXPECT_EQ(catalog.archetypes[0].name, "The Power Stars");
  EXPECT_EQ(catalog.archetypes[0].levels, (std::vector<double>{0.75, 1.25}));
  for (const Archetype& a : catalog.archetypes) {
    EXPECT_FALSE(a.characteristics.empty()) << a.name;
    EXPECT_FALSE(a.strategic_value.empty()) << a.name;
    EXPECT_FALSE(a.action.empty()) << a.name;
  }
}

TEST_F(PersonasTest, GoldenReferenceSolution) {
  const PersonaAssignment got = assign_personas(catalog, request(kFeatures, z_centroids(kReference), 5));
  EXPECT_TRUE(got.catalog_applies);
  EXPECT_TRUE(got.note.empty());
  const auto& personas = got.personas;
  ASSERT_EQ(personas.size(), 5u);
  for (std::size_t c = 0; c < 5; ++c) {
    EXPECT_EQ(personas[c].name, kReference[c].expected) << "cluster " << c;
    ASSERT_GE(personas[c].archetype, 0);
    EXPECT_EQ(catalog.archetypes[static_cast<std::size_t>(personas[c].archetype)].name,
              personas[c].name);
    EXPECT_GT(personas[c].distance, 0.0);
    EXPECT_LE(personas[c].distance, catalog.max_match_distance);
    EXPECT_FALSE(personas[c].action.empty());
  }
}

TEST_F(PersonasTest, FeaturesMatchedByNameOrAliasInAnyOrder) {
  // Same clusters with the two columns swapped and named accordingly.
  std::vector<double> z = z_centroids(kReference), swapped;
  for (std::size_t c = 0; c < 5; ++c) {
    swapped.push_back(z[2 * c + 1]);
    swapped.push_back(z[2 * c]);
  }
  for (const auto& names : {std::vector<std::string>{"monetization maturity", "Engagement"},
                            std::vector<std::string>{"spending_rank(0 TO 100)", "Instagram visit score"}}) {
    const auto personas = assign(names, swapped, 5);
    for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(personas[c].name, kReference[c].expected) << names[0];
  }
  // The file's column names count too, whatever the display names.
  PersonaRequest r = request({"Visits", "Spend"}, z, 5);
  r.columns = {"engagement_index", "monetization_maturity"};
  EXPECT_EQ(assign_personas(catalog, r).personas[0].name, kReference[0].expected);
}

TEST_F(PersonasTest, SevenClustersLeaveTwoDataNamed) {
  std::vector<Cluster> clusters = kReference;
  clusters.push_back({64.0, 43.0, ""});  // about (0, 0)
  clusters.push_back({66.0, 45.0, ""});  // about (0.1, 0.07): same levels
  const auto personas = assign(kFeatures, z_centroids(clusters), 7);
  ASSERT_EQ(personas.size(), 7u);
  for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(personas[c].name, kReference[c].expected);
  EXPECT_EQ(personas[5].name, "Typical (mid on every feature) (2)");  // lower quantiles: numbered second
  EXPECT_EQ(personas[6].name, "Typical (mid on every feature) (1)");
  for (std::size_t c = 5; c < 7; ++c) {
    EXPECT_EQ(personas[c].archetype, -1);
    EXPECT_EQ(personas[c].distance, 0.0);
    EXPECT_TRUE(personas[c].characteristics.empty());
    EXPECT_TRUE(personas[c].action.empty());
  }
}

TEST_F(PersonasTest, ThreeClusters) {
  const std::vector<Cluster> clusters = {kReference[3], kReference[1], kReference[4]};
  const auto personas = assign(kFeatures, z_centroids(clusters), 3);
  ASSERT_EQ(personas.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) EXPECT_EQ(personas[c].name, clusters[c].expected);
}

TEST_F(PersonasTest, FarClusterGetsADataDrivenName) {
  // z = (3, -3) is more than 1.5 from every prototype.
  const auto personas = assign(kFeatures, {3.0, -3.0, 0.8, 1.3}, 2);
  EXPECT_EQ(personas[0].name, "Top 1% Engagement Index");  // both parts would exceed 40 characters
  EXPECT_LE(personas[0].name.size(), 40u);
  EXPECT_EQ(personas[0].archetype, -1);
  EXPECT_EQ(personas[1].name, "The Power Stars");
}

TEST_F(PersonasTest, OtherMetricsOfTheSameCountAreNotTheCatalogs) {
  // "followers" does not stand in for monetization: data-driven names and a note.
  const PersonaAssignment got = assign_personas(catalog, request({"posts", "followers"}, z_centroids(kReference), 5));
  EXPECT_FALSE(got.catalog_applies);
  EXPECT_NE(got.note.find("describes Engagement Index and Monetization Maturity"), std::string::npos) << got.note;
  for (const Persona& p : got.personas) {
    EXPECT_EQ(p.archetype, -1);
    EXPECT_TRUE(p.action.empty());
    EXPECT_LE(p.name.size(), 40u);
  }
  EXPECT_EQ(got.personas[1].name, "Very high followers, high posts");  // (79.6, 85.0)
  // Swapping the columns changes no name.
  std::vector<double> z = z_centroids(kReference), swapped;
  for (std::size_t c = 0; c < 5; ++c) {
    swapped.push_back(z[2 * c + 1]);
    swapped.push_back(z[2 * c]);
  }
  const auto back = assign({"followers", "posts"}, swapped, 5);
  for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(back[c].name, got.personas[c].name);
}

TEST_F(PersonasTest, AChosenCatalogIsUsedByPosition) {
  const auto personas = assign({"visits", "spend"}, z_centroids(kReference), 5, /*chosen=*/true);
  for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(personas[c].name, kReference[c].expected);
}

TEST_F(PersonasTest, ThreeUnknownFeaturesGetDistinctNames) {
  const std::vector<double> z = {1.0,  -1.0, 0.0,  //
                                 1.0,  -1.0, 0.5,  //
                                 -0.7, 0.6,  0.5};
  const auto personas = assign({"a", "b", "c"}, z, 3);
  EXPECT_EQ(personas[0].name, "High a, mid c");  // the feature that tells the first two apart
  EXPECT_EQ(personas[1].name, "High a, high c");
  EXPECT_EQ(personas[2].name, "Low a, high b");  // quantiles 0.24 and 0.73
  for (const Persona& p : personas) EXPECT_EQ(p.archetype, -1);
}

TEST_F(PersonasTest, ExtraNamedFeatureIsIgnoredForMatching) {
  // Catalog features found by name among three; the third only shows up in
  // data-driven names.
  std::vector<double> z;
  for (double v : z_centroids({kReference[1]})) z.push_back(v);
  z.push_back(2.0);
  z.insert(z.end(), {-3.0, 3.0, -2.0});
  const auto personas = assign({"Engagement Index", "Monetization Maturity", "Tenure"}, z, 2);
  EXPECT_EQ(personas[0].name, "The Power Stars");
  EXPECT_EQ(personas[1].name, "Very low Engagement Index");
}

TEST_F(PersonasTest, PartialNameMatchIsDataNamed) {
  const PersonaAssignment got = assign_personas(catalog, request({"Engagement Index", "spend"}, {0.8, 1.5}, 1));
  EXPECT_FALSE(got.catalog_applies);
  EXPECT_EQ(got.personas[0].name, "Very high spend, high Engagement Index");
}

TEST_F(PersonasTest, BadShapes) {
  EXPECT_THROW(assign_personas(catalog, request(kFeatures, {1.0, 2.0, 3.0}, 2)), std::invalid_argument);
  EXPECT_TRUE(assign_personas(catalog, request(kFeatures, {}, 0)).personas.empty());
}

// ---------------------------------------------------------------------------
// Bad catalog files
// ---------------------------------------------------------------------------

class PersonasCatalogErrors : public ::testing::Test {
 protected:
  // One scratch file per test, named after it, so the expected messages can
  // spell out the path before the file is written.
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = (std::filesystem::path(::testing::TempDir()) /
            (std::string("archetype_personas_") + info->name() + ".json"))
               .string();
  }
  void TearDown() override { std::filesystem::remove(path); }

  // Writes `text` to the scratch file and returns its path.
  std::string write(const std::string& text) {
    std::ofstream(path) << text;
    return path;
  }

  // Loads `text` and returns the InputError message ("" when it loads).
  std::string error_for(const std::string& text) {
    try {
      load_persona_catalog(write(text));
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }

  std::string path;
};

const std::string kFeaturesJson =
    R"("features": [{"name": "Engagement Index", "short": "Engagement"},
                    {"name": "Monetization Maturity"}])";

TEST_F(PersonasCatalogErrors, MinimalCatalogUsesDefaults) {
  const PersonaCatalog c =
      load_persona_catalog(write(R"({"version": 1, )" + kFeaturesJson +
                                 R"(, "archetypes": [{"name": "A", "levels": [1, 2]}]})"));
  EXPECT_EQ(c.short_names, (std::vector<std::string>{"Engagement", "Monetization Maturity"}));
  EXPECT_EQ(c.max_match_distance, 1.5);
  EXPECT_EQ(c.low_level, -0.5);
  EXPECT_TRUE(c.archetypes[0].action.empty());
}

TEST_F(PersonasCatalogErrors, WrongLevelCount) {
  const std::string msg = error_for(R"({"version": 1, )" + kFeaturesJson + R"(, "archetypes": [
      {"name": "A", "levels": [1, 2]}, {"name": "B", "levels": [1, 2]},
      {"name": "C", "levels": [1, 2, 3]}]})");
  EXPECT_EQ(msg, path + ": field 'archetypes[2].levels': expected 2 numbers, found 3");
}

TEST_F(PersonasCatalogErrors, MissingFields) {
  EXPECT_EQ(error_for(R"({"version": 1, "archetypes": []})"), path + ": field 'features': missing");
  EXPECT_EQ(
      error_for(R"({"version": 1, )" + kFeaturesJson + R"(, "archetypes": [{"levels": [1, 2]}]})"),
      path + ": field 'archetypes[0].name': missing");
  EXPECT_EQ(error_for(R"({)" + kFeaturesJson + R"(, "archetypes": []})"),
            path + ": field 'version': missing");
}

TEST_F(PersonasCatalogErrors, WrongTypesAndValues) {
  EXPECT_EQ(error_for(R"({"version": 2, )" + kFeaturesJson + R"(, "archetypes": []})"),
            path + ": field 'version': unsupported version 2, expected 1");
  EXPECT_EQ(error_for(R"({"version": 1, "features": [], "archetypes": []})"),
            path + ": field 'features': must not be empty");
  EXPECT_EQ(error_for(R"({"version": 1, )" + kFeaturesJson +
                      R"(, "archetypes": [{"name": "A", "levels": [1, "x"]}]})"),
            path + ": field 'archetypes[0].levels[1]': expected a number, found string");
  EXPECT_EQ(error_for(R"({"version": 1, )" + kFeaturesJson +
                      R"(, "max_match_distnce": 2, "archetypes": []})"),
            path + ": field 'max_match_distnce': unknown field");
  EXPECT_EQ(error_for(R"({"version": 1, )" + kFeaturesJson +
                      R"(, "levels": {"high": -1}, "archetypes": []})"),
            path + ": field 'levels': 'low' is above 'high'");
  EXPECT_EQ(error_for(R"({"version": 1, )" + kFeaturesJson + R"(, "archetypes": [
      {"name": "A", "levels": [1, 2]}, {"name": "A", "levels": [0, 0]}]})"),
            path + ": field 'archetypes[1].name': duplicate archetype 'A'");
  EXPECT_EQ(error_for("[1, 2]"), path + ": expected a JSON object at the top level");
}

TEST_F(PersonasCatalogErrors, MalformedJson) {
  const std::string msg = error_for(R"({"version": 1, "features": [)");
  EXPECT_EQ(msg.rfind(path + ": invalid JSON at byte ", 0), 0u) << msg;
  EXPECT_NE(msg.find("parse error"), std::string::npos) << msg;
}

TEST_F(PersonasCatalogErrors, NumberBeyondDoubleRangeIsAnInputError) {
  // nlohmann's parser throws out_of_range (not parse_error) for it: it used
  // to escape as an internal error (exit code 1).
  const std::string msg = error_for(R"({"version": 1e999})");
  EXPECT_EQ(msg.rfind(path + ": invalid JSON: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("number overflow"), std::string::npos) << msg;
}

TEST_F(PersonasCatalogErrors, MissingFile) {
  const std::string missing = ::testing::TempDir() + "/archetype_no_such_catalog.json";
  try {
    load_persona_catalog(missing);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot open file");
  }
}

}  // namespace
}  // namespace archetype
