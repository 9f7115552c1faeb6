// The typed result of one study command (run, profile, sweep, fit,
// predict): every number the terminal tables, the report, model.json and
// summary.json show.  It travels as this struct; summary.json is written
// from it once, at the edge (src/study/summary_json.cpp), and nothing reads
// the JSON back.  An absent section (std::nullopt) is one the command does
// not compute: `profile` has no model, `sweep` no model, `fit` no sweep.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "archetype/distribution.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/personas.hpp"
#include "archetype/profile.hpp"
#include "archetype/scaler.hpp"

namespace archetype {

/// The sample_weight column (--weight-column).
struct WeightSummary {
  std::string column;         ///< as in the file (a .npy column's index)
  double total = 0.0;         ///< sum of the weights, in row order
  std::size_t zero_rows = 0;  ///< rows of weight 0 (labelled, but they move no centre)
};

/// The input table as read.
struct InputSummary {
  std::string path;
  std::size_t rows = 0;                    ///< rows kept (after --drop-invalid)
  std::vector<std::string> columns;        ///< feature columns as named in the file
  std::vector<std::string> feature_names;  ///< display names, one per column
  std::string id_column;                   ///< empty: no id column (rows are numbered)
  std::size_t dropped_rows = 0;
  std::vector<std::string> transforms;     ///< per feature: "none" or "log1p" (--transform)
  std::optional<WeightSummary> sample_weight;  ///< none: every row weighs 1
};

/// Step 2: one feature's profile.
struct FeatureSummary {
  std::string column;  ///< as in the file
  std::string name;    ///< display name
  FeatureProfile stats;
  QQData qq;
  Histogram histogram;
  DensityCurve density;
};

/// A 95% confidence interval (of a sampled silhouette).
using Interval = std::pair<double, double>;

/// Step 4: one k of the sweep.
struct SweepRow {
  int k = 0;
  double wcss = 0.0;                      ///< inertia of the best of n_init runs
  std::optional<double> silhouette;       ///< undefined for a single non-empty cluster
  std::size_t silhouette_rows = 0;        ///< rows the silhouette was evaluated on
  std::optional<Interval> silhouette_ci;  ///< only when sampled
  std::optional<double> calinski_harabasz, davies_bouldin;
  int n_iter = 0;
  std::vector<std::int64_t> sizes;        ///< rows per cluster
};

/// k as each criterion of the sweep suggests it (none when undefined).
struct SuggestedK {
  std::optional<int> elbow;       ///< Kneedle knee of WCSS
  std::optional<int> silhouette;  ///< highest silhouette, lowest k on a tie
};

/// The settings that shaped the result.
struct StudyParameters {
  std::uint64_t seed = 0;
  int n_init = 0, max_iter = 0;
  double tol = 0.0;
  std::string silhouette;  ///< "auto" or "exact"
  std::size_t silhouette_sample = 0, silhouette_threshold = 0;
  std::optional<std::pair<int, int>> k_range;  ///< run, sweep: k_min..k_max
  std::optional<int> k;                        ///< run, fit: the final model's k
  std::string k_rule;                          ///< how k was chosen (run, fit)
};

/// Step 6: one cluster of the final model.
struct ClusterSummary {
  int id = 0;
  std::int64_t size = 0;  ///< rows
  double share = 0.0;     ///< of the rows
  /// With sample weights: the cluster's total weight and its share of the
  /// total (none without weights).
  std::optional<double> weight, weight_share;
  std::vector<double> centroid;         ///< original units
  std::vector<double> centroid_scaled;  ///< z units
  /// cluster mean / platform mean - 1, per feature; none where the platform
  /// mean is 0.
  std::vector<std::optional<double>> relative_importance;
  std::optional<double> silhouette;  ///< mean s(i); none for an empty cluster or undefined score
  Persona persona;
  std::string archetype;  ///< the catalog archetype matched; empty for a descriptive name
};

/// Step 5: the final model.
struct ModelSummary {
  int k = 0;
  double inertia = 0.0;
  std::optional<double> silhouette;
  std::size_t silhouette_rows = 0;
  std::optional<Interval> silhouette_ci;
  int n_iter = 0, n_init = 0;
  std::uint64_t seed = 0;
  int best_run = 0;
  Stability stability;
  std::vector<KMeansRun> runs;  ///< seed, inertia, n_iter, converged (centres not reported)
  std::vector<ClusterSummary> clusters;
  /// true: the persona catalog applied to the table's features (clusters it
  /// matched carry its names and advice); false: every name is data-driven.
  bool catalog_personas = false;
};

/// `predict`: the new rows' labels summarised.
struct PredictionSummary {
  struct Cluster {
    int id = 0;
    std::string persona;
    std::int64_t size = 0;
    double share = 0.0;
  };
  std::string model_file;
  int k = 0;
  double inertia = 0.0;  ///< weighted when the rows have a weight column
  std::vector<Cluster> clusters;
  /// Against the training data (when model.json records it): the share of
  /// rows with a feature outside its training range, and the rows' root
  /// mean squared distance to their centre over the training rows' one.
  std::optional<double> outside_training_share, distance_ratio;
};

/// The segmentation figure's 2-D view of data with more than 2 features.
struct ProjectionSummary {
  std::string method = "pca";
  std::size_t features = 0;
  std::array<double, 2> explained_variance_ratio = {0, 0};
  std::array<std::string, 2> axes;  ///< axis titles, e.g. "PC1 (41.3% of variance)"
};

/// A run split across processes (mpirun with more than one): absent otherwise.
struct DistributedSummary {
  int ranks = 0;
  std::vector<std::string> hosts;      ///< distinct host names, in rank order
  double communication_seconds = 0.0;  ///< the most any rank spent in collectives
  std::string sums_over;               ///< "mpi" or "nccl": what carried the exact int64 sums
};

struct StudyResult {
  std::string version;  ///< Archetype's version
  std::string command;  ///< run | profile | sweep | fit | predict
  InputSummary input;
  std::string backend, device;  ///< empty for profile (no backend)
  std::optional<DistributedSummary> distributed;
  std::vector<FeatureSummary> profile;  ///< every command but predict
  std::optional<StandardScaler> scaler;
  std::optional<std::vector<SweepRow>> sweep;
  std::optional<SuggestedK> suggested_k;  ///< with the sweep
  std::optional<StudyParameters> parameters;
  std::optional<ModelSummary> model;
  std::optional<PredictionSummary> prediction;
  std::optional<ProjectionSummary> projection;  ///< run, fit with figures, more than 2 features
  std::optional<std::vector<std::string>> warnings;  ///< run, sweep, fit
  /// Wall time of each stage in milliseconds, in the order of the stage
  /// names, and "total" last.
  std::vector<std::pair<std::string, double>> timings_ms;
};

}  // namespace archetype
