// The typed study result at the edges: summary.json written from it (key
// order, nulls for undefined scores, sections only where computed), the
// report and model.json built from it, without any JSON read back.  A
// hand-made three-feature study, not the reference dataset.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "archetype/study_result.hpp"
#include "study/model_file.hpp"
#include "study/report.hpp"
#include "study/summary_json.hpp"
#include "study/text_table.hpp"

namespace archetype {
namespace {

StudyResult three_feature_fit() {
  StudyResult r;
  r.version = "9.9.9";
  r.command = "run";
  r.input.path = "shops.csv";
  r.input.rows = 1200;
  r.input.columns = {"orders", "returns", "basket"};
  r.input.feature_names = {"Orders", "Returns", "Basket"};
  r.backend = "cpu";
  r.device = "2 threads";
  for (std::size_t j = 0; j < 3; ++j) {
    FeatureSummary f;
    f.column = r.input.columns[j];
    f.name = r.input.feature_names[j];
    f.stats.mean = j == 1 ? 0.0 : 10.0 * static_cast<double>(j + 1);
    f.stats.std = 2.0;
    f.qq.r = 0.99;
    r.profile.push_back(f);
  }
  StandardScaler s;
  s.mean = {10.0, 0.0, 30.0};
  s.scale = {2.0, 2.0, 2.0};
  s.constant = {false, false, false};
  r.scaler = s;
  SweepRow a, b;
  a.k = 2;
  a.wcss = 900.0;
  a.silhouette = 0.61;
  b.k = 3;
  b.wcss = 400.0;  // no silhouette, no dispersion: undefined
  r.sweep = std::vector<SweepRow>{a, b};
  r.suggested_k = SuggestedK{3, std::nullopt};
  StudyParameters p;
  p.seed = 7;
  p.n_init = 4;
  p.k_range = std::make_pair(2, 3);
  p.k = 2;
  p.k_rule = "fixed";
  r.parameters = p;
  ModelSummary m;
  m.k = 2;
  m.inertia = 900.0;
  m.silhouette = 0.61;
  m.n_init = 4;
  for (int c = 0; c < 2; ++c) {
    ClusterSummary cs;
    cs.id = c;
    cs.size = c == 0 ? 800 : 400;
    cs.share = c == 0 ? 2.0 / 3.0 : 1.0 / 3.0;
    cs.centroid = {12.0, 1.0, 28.0};
    cs.centroid_scaled = {1.0, 0.5, -1.0};
    cs.relative_importance = {0.2, std::nullopt, -0.1};  // platform mean of Returns is 0
    cs.persona.name = c == 0 ? "Big Baskets" : "Returners";
    cs.persona.action = c == 0 ? "Upsell." : "";
    m.clusters.push_back(cs);
  }
  r.model = m;
  r.warnings = std::vector<std::string>{"a warning"};
  r.timings_ms = {{"load", 1.0}, {"total", 2.0}};
  return r;
}

TEST(SummaryJson, SectionsInOrderWithNullsForUndefinedScores) {
  const nlohmann::ordered_json s = summary_json(three_feature_fit());
  std::vector<std::string> keys;
  for (auto it = s.begin(); it != s.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"archetype_version", "command", "input", "backend", "device", "profile",
                                            "scaler", "sweep", "suggested_k", "parameters", "model", "warnings",
                                            "timings_ms"}));
  EXPECT_TRUE(s["input"]["id_column"].is_null());
  EXPECT_TRUE(s["sweep"][1]["silhouette"].is_null());
  EXPECT_TRUE(s["sweep"][1]["davies_bouldin"].is_null());
  EXPECT_TRUE(s["sweep"][0]["silhouette_ci"].is_null());
  EXPECT_EQ(s["suggested_k"]["elbow"], 3);
  EXPECT_TRUE(s["suggested_k"]["silhouette"].is_null());
  EXPECT_EQ(s["parameters"]["k_min"], 2);
  EXPECT_EQ(s["parameters"]["k"], 2);
  EXPECT_TRUE(s["model"]["clusters"][0]["relative_importance"][1].is_null());
  EXPECT_TRUE(s["model"]["clusters"][0]["persona_archetype"].is_null());
  EXPECT_EQ(s["timings_ms"]["total"], 2.0);
}

TEST(SummaryJson, AProfileHasNoBackendAndNoModelSections) {
  StudyResult r = three_feature_fit();
  r.command = "profile";
  r.backend.clear();
  r.scaler.reset();
  r.sweep.reset();
  r.suggested_k.reset();
  r.parameters.reset();
  r.model.reset();
  r.warnings.reset();
  const nlohmann::ordered_json s = summary_json(r);
  std::vector<std::string> keys;
  for (auto it = s.begin(); it != s.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"archetype_version", "command", "input", "profile", "timings_ms"}));
}

TEST(Report, ReadsTheTypedResult) {
  const std::string md = build_report(three_feature_fit(), {}).markdown();
  EXPECT_NE(md.find("1,200 creators were profiled on 3 metrics (Orders, Returns, Basket)"), std::string::npos) << md;
  EXPECT_NE(md.find("**The criteria disagree**: the elbow points to k = 3 while the silhouette prefers no clear k"),
            std::string::npos);
  EXPECT_NE(md.find("**Big Baskets** 66.7%, **Returners** 33.3%"), std::string::npos);
  EXPECT_NE(md.find("+20.0%, n/a, -10.0%"), std::string::npos);  // relative importance in %, undefined as n/a
  // A card per persona, largest first, before the appendix.
  EXPECT_LT(md.find("### Big Baskets"), md.find("### Returners"));
  EXPECT_LT(md.find("### Returners"), md.find("## Appendix"));
  EXPECT_NE(md.find("**Against the platform average:** Orders +20.0%, Basket -10.0%."), std::string::npos) << md;
  EXPECT_NE(md.find("**Action:** Upsell."), std::string::npos);
  EXPECT_NE(md.find("**Action:** not a catalog persona"), std::string::npos);
  EXPECT_NE(md.find("Highest Orders: **Big Baskets** (+20.0% vs the platform average)."), std::string::npos);
  EXPECT_EQ(md.find("Highest Returns"), std::string::npos);  // no defined value: no line
  EXPECT_NE(md.find("no archetype matched this segment"), std::string::npos);  // Returners has no action
}

TEST(TerminalTables, UndefinedScoresAreNA) {
  const StudyResult r = three_feature_fit();
  const std::string t = render_sweep_table(*r.sweep, *r.suggested_k);
  EXPECT_NE(t.find("Elbow (Kneedle): k = 3; highest silhouette: k = none"), std::string::npos) << t;
  EXPECT_NE(t.find("n/a"), std::string::npos);
}

// The terminal's model table: every cluster up to kTableClusters (in the
// model's order); beyond, the largest ones, largest first, and a count of
// the rest.
/// three_feature_fit with kTableClusters + 12 clusters named P1..P42 by
/// size (sizes 1..42 in a shuffled order, shares size / 1000).
StudyResult many_clusters() {
  StudyResult r = three_feature_fit();
  ModelSummary& m = *r.model;
  const ClusterSummary first = m.clusters[0];
  m.clusters.clear();
  const std::size_t k = kTableClusters + 12;
  for (std::size_t c = 0; c < k; ++c) {
    ClusterSummary cs = first;
    cs.id = static_cast<int>(c);
    cs.size = static_cast<std::int64_t>((c * 37) % k) + 1;
    cs.share = static_cast<double>(cs.size) / 1000.0;
    cs.persona.name = "P" + std::to_string(cs.size);
    m.clusters.push_back(cs);
  }
  m.k = static_cast<int>(k);
  return r;
}

TEST(TerminalTables, ManyClustersListTheLargest) {
  const StudyResult r = three_feature_fit();
  const std::vector<std::string> names = {"Orders", "Returns", "Basket"};
  const std::string two = render_model_table(*r.model, names);
  EXPECT_LT(two.find("Big Baskets"), two.find("Returners")) << two;
  EXPECT_EQ(two.find("smaller cluster"), std::string::npos);
  const std::size_t k = kTableClusters + 12;
  const std::string t = render_model_table(*many_clusters().model, names);
  EXPECT_NE(t.find("... and 12 smaller clusters (report.md, summary.json and model.json have every one)"),
            std::string::npos) << t;
  EXPECT_LT(t.find("P" + std::to_string(k) + " "), t.find("P" + std::to_string(k - 1) + " ")) << t;
  EXPECT_NE(t.find("P13 "), std::string::npos) << t;  // the smallest listed: k - kTableClusters + 1 = 13
  EXPECT_EQ(t.find("P12 "), std::string::npos) << t;
}

// predict's table follows the same rule: every cluster in id order up to
// kTableClusters, else the largest and a count.
TEST(TerminalTables, PredictionTableListsTheLargest) {
  PredictionSummary p;
  for (int c = 0; c < 3; ++c) p.clusters.push_back({c, "P" + std::to_string(c), 10 - c, 0.1});
  const std::string few = render_prediction_table(p);
  EXPECT_LT(few.find("P0"), few.find("P2")) << few;
  EXPECT_EQ(few.find("smaller"), std::string::npos) << few;
  p.clusters.clear();
  const std::size_t k = kTableClusters + 12;
  const StudyResult many = many_clusters();
  for (const ClusterSummary& c : many.model->clusters)
    p.clusters.push_back({c.id, c.persona.name, c.size, c.share});
  const std::string t = render_prediction_table(p);
  EXPECT_NE(t.find("... and 12 smaller clusters (summary.json has every one)"), std::string::npos) << t;
  EXPECT_LT(t.find("P" + std::to_string(k) + " "), t.find("P13 ")) << t;
  EXPECT_EQ(t.find("P12 "), std::string::npos) << t;
}

// The report with many personas: cards, the abstract's list and section E's
// bullets for the largest kTableClusters, the rest counted with their share;
// section D's table keeps every one.
TEST(Report, ManyPersonasCardTheLargest) {
  const std::string md = build_report(many_clusters(), {}).markdown();
  std::size_t cards = 0;
  for (std::size_t at = md.find("\n### "); at != std::string::npos; at = md.find("\n### ", at + 1)) ++cards;
  EXPECT_EQ(cards, kTableClusters) << md;
  // The 12 smallest (sizes 1..12) hold 78 of the 1000 share units: 7.8%.
  EXPECT_NE(md.find(", and 12 smaller ones (7.8% of the creators together)."), std::string::npos) << md;
  EXPECT_NE(md.find("The 30 largest personas have a card; the 12 smaller ones"), std::string::npos) << md;
  EXPECT_NE(md.find("- ... and 12 smaller ones (7.8% of the creators together): see section D"), std::string::npos);
  EXPECT_EQ(md.find("### P12\n"), std::string::npos) << md;
  EXPECT_NE(md.find("**P1**"), std::string::npos) << md;  // section D's table lists the smallest too
}

TEST(ModelFile, WrittenFromTheStudyLoadsBack) {
  const StudyResult r = three_feature_fit();
  KMeansResult fit;
  fit.k = 2;
  fit.d = 3;
  fit.centers = {1.0, 0.5, -1.0, -1.0, -0.5, 1.0};
  fit.inertia = 900.0;
  const SavedModel m = parse_model_file(model_file_json(r, fit, KMeansParams{}).dump(), "m.json");
  EXPECT_EQ(m.columns, r.input.columns);
  EXPECT_EQ(m.names, r.input.feature_names);
  EXPECT_EQ(m.persona_names, (std::vector<std::string>{"Big Baskets", "Returners"}));
  EXPECT_EQ(m.centroids_scaled, fit.centers);
  EXPECT_EQ(m.mean, r.scaler->mean);
}

}  // namespace
}  // namespace archetype
