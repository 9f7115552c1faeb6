#include "cli/pipeline.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "archetype/backend.hpp"
#include "archetype/distribution.hpp"
#include "archetype/error.hpp"
#include "archetype/npy.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/personas.hpp"
#include "archetype/profile.hpp"
#include "archetype/scaler.hpp"
#include "archetype/sweep.hpp"
#include "engine/backend_select.hpp"
#include "cli/figures_runner.hpp"
#include "cli/k_checks.hpp"
#include "study/model_file.hpp"
#include "io/output_files.hpp"
#include "cli/progress.hpp"
#include "study/report.hpp"
#include "study/text_table.hpp"

namespace archetype {
namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

const char* kDefaultDataset = "instagram_visits_clustering.csv";

/// Display names of the reference dataset's columns (the study's vocabulary).
std::string default_display_name(const std::string& column) {
  static const std::map<std::string, std::string> names = {
      {"Instagram visit score", "Engagement Index"},
      {"Spending_rank(0 to 100)", "Monetization Maturity"},
  };
  const auto it = names.find(column);
  return it == names.end() ? column : it->second;
}

/// Wall-clock stage timer feeding summary.timings_ms.
class StageTimer {
 public:
  void start() { t0_ = Clock::now(); }
  void stop(const std::string& stage) {
    timings_[stage] = std::chrono::duration<double, std::milli>(Clock::now() - t0_).count();
  }
  json to_json(double total) const {
    json j = json::object();
    for (const auto& [k, v] : timings_) j[k] = v;
    j["total"] = total;
    return j;
  }

 private:
  Clock::time_point t0_;
  std::map<std::string, double> timings_;
};

struct LoadedData {
  Table table;
  std::string path;
  std::vector<std::string> names;  // display names
};

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A .npy matrix as a Table: columns are named by their 0-based index
/// ("0", "1", ...), so --columns selects them the same way; ids are the
/// 0-based row numbers.  NumPy files carry no id column.
Table read_npy_table(const std::string& path, const CsvOptions& options) {
  if (!options.id_column.empty()) throw InputError(path + ": a .npy file has no id column (--id-column)");
  Matrix m = read_npy(path);
  // A matrix without rows is valid NumPy but nothing to cluster (read_npy
  // itself refuses shapes without columns).
  if (m.rows == 0)
    throw InputError(path + ": header field 'shape': expected at least one row, found (0, " + std::to_string(m.cols) +
                     ")");
  std::vector<std::size_t> cols;
  if (options.columns.empty()) {
    for (std::size_t j = 0; j < m.cols; ++j) cols.push_back(j);
  } else {
    for (const std::string& c : options.columns) {
      std::size_t used = 0;
      unsigned long j = 0;
      try {
        j = std::stoul(c, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != c.size() || j >= m.cols)
        throw InputError(path + ": column '" + c + "' not found (a .npy file has columns 0.." + std::to_string(m.cols - 1) + ")");
      cols.push_back(j);
    }
  }
  Table t;
  bool all_in_order = cols.size() == m.cols;
  for (std::size_t j = 0; j < cols.size() && all_in_order; ++j) all_in_order = cols[j] == j;
  if (all_in_order) {
    t.features = std::move(m);  // no copy of a large matrix
  } else {
    t.features = Matrix(m.rows, cols.size());
    for (std::size_t i = 0; i < m.rows; ++i)
      for (std::size_t j = 0; j < cols.size(); ++j) t.features.at(i, j) = m.at(i, cols[j]);
  }
  for (std::size_t j : cols) {
    t.column_names.push_back(std::to_string(j));
    t.column_indices.push_back(j);
  }
  // ids stay empty: they are the row numbers (see drop_row_number_ids).
  return t;
}

/// Without an id column and with no dropped row, the ids are just the row
/// numbers 0..n-1: free them (32 bytes a row) and let the writers number
/// the rows.  An empty Table::ids means exactly that inside the pipeline.
void drop_row_number_ids(Table& t) {
  if (!t.id_name.empty() || t.dropped_rows != 0) return;
  std::vector<std::string>().swap(t.ids);
}

LoadedData load(const PipelineOptions& o, const NoticeFn& notice) {
  LoadedData data;
  CsvOptions csv = o.csv_options;
  data.path = o.csv.empty() ? (std::filesystem::path(data_dir()) / kDefaultDataset).string() : o.csv;
  if (o.csv.empty() && csv.columns.empty()) {
    csv.columns = {"Instagram visit score", "Spending_rank(0 to 100)"};
    if (csv.id_column.empty()) csv.id_column = "User ID";
  }
  const bool is_npy = has_suffix(data.path, ".npy");
  data.table = is_npy ? read_npy_table(data.path, csv) : read_csv(data.path, csv);
  drop_row_number_ids(data.table);
  const std::size_t d = data.table.column_names.size();
  if (!o.feature_names.empty() && o.feature_names.size() != d)
    throw InputError("--feature-names gives " + std::to_string(o.feature_names.size()) + " names for " +
                     std::to_string(d) + " feature columns");
  for (std::size_t j = 0; j < d; ++j)
    data.names.push_back(!o.feature_names.empty() ? o.feature_names[j]
                         : is_npy ? "Feature " + data.table.column_names[j]  // .npy columns are bare indices
                                  : default_display_name(data.table.column_names[j]));
  if (data.table.dropped_rows > 0) {
    notice("dropped " + std::to_string(data.table.dropped_rows) + " invalid row(s) (--drop-invalid); first: " +
           data.table.drop_reasons.front());
  }
  return data;
}

/// Histogram bins for n rows: about 2 n^(1/3) (Rice's rule), within 10..80.
std::size_t histogram_bins(std::size_t n) {
  const double b = 2.0 * std::cbrt(static_cast<double>(n));
  return static_cast<std::size_t>(std::clamp(b, 10.0, 80.0));
}

/// Everything the profile reports about one feature.
struct FeatureStats {
  FeatureProfile profile;
  QQData qq;
  Histogram histogram;
  DensityCurve density;
};

/// Rows that each feature's density curve is estimated from (evenly
/// strided): 5,000 up to 16 features, then fewer so that the work of all
/// the curves together stays that of 16 (at least 1,000 rows each).  The
/// curve is drawn at 200 points for a figure: more rows do not change it
/// visibly, and each costs 200 exponentials.
std::size_t density_rows(std::size_t features) {
  return features <= 16 ? 5000 : std::max<std::size_t>(1000, 5000 * 16 / features);
}

/// One feature's statistics from a matrix holding it in column `col`.
void stats_of(const Matrix& X, std::size_t col, std::size_t features, FeatureStats& out) {
  out.profile = profile_feature(X, col);
  out.qq = qq_normal(X, col);
  out.histogram = histogram(X, col, histogram_bins(X.rows));
  out.density = kernel_density(X, col, 200, density_rows(features));
}

/// Every feature's statistics.  Features are independent (each one's sums
/// keep their fixed order), so they are computed on all threads with the
/// same results as on one.  A wide matrix is first copied a block of
/// columns at a time into contiguous columns (one pass over the rows per
/// block, at most 64 MiB): each statistic reads its column several times,
/// and a strided read of a wide matrix costs a cache line per value.
std::vector<FeatureStats> feature_stats(const Matrix& raw, int threads) {
  const std::size_t d = raw.cols, n = raw.rows;
  std::vector<FeatureStats> out(d);
  const int nt = threads > 0 ? threads : omp_get_max_threads();
  if (d <= 2 || n == 0) {  // the rows are one cache line: read them in place
#pragma omp parallel for schedule(dynamic) num_threads(nt) if (d > 1)
    for (long long j = 0; j < static_cast<long long>(d); ++j)
      stats_of(raw, static_cast<std::size_t>(j), d, out[static_cast<std::size_t>(j)]);
    return out;
  }
  const std::size_t block = std::clamp<std::size_t>((std::size_t{64} << 20) / (n * sizeof(float)), 1, 16);
  std::vector<Matrix> columns(std::min(block, d), Matrix(n, 1));
  for (std::size_t j0 = 0; j0 < d; j0 += block) {
    const std::size_t b = std::min(block, d - j0);
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = raw.row(i) + j0;
      for (std::size_t c = 0; c < b; ++c) columns[c].values[i] = row[c];
    }
#pragma omp parallel for schedule(dynamic) num_threads(nt) if (b > 1)
    for (long long c = 0; c < static_cast<long long>(b); ++c)
      stats_of(columns[static_cast<std::size_t>(c)], 0, d, out[j0 + static_cast<std::size_t>(c)]);
  }
  return out;
}

json profile_json(const std::vector<FeatureStats>& stats, const LoadedData& data) {
  json arr = json::array();
  for (std::size_t j = 0; j < stats.size(); ++j) {
    const FeatureProfile& p = stats[j].profile;
    const QQData& qq = stats[j].qq;
    const Histogram& h = stats[j].histogram;
    const DensityCurve& kde = stats[j].density;
    arr.push_back({{"column", data.table.column_names[j]},
                   {"name", data.names[j]},
                   {"mean", p.mean},
                   {"std", p.std},
                   {"skew", p.skew},
                   {"skew_unbiased", p.skew_unbiased},
                   {"kurtosis", p.kurtosis},
                   {"min", p.min},
                   {"max", p.max},
                   {"qq", {{"theoretical", qq.theoretical},
                           {"sample", qq.sample},
                           {"slope", qq.slope},
                           {"intercept", qq.intercept},
                           {"r", qq.r}}},
                   {"histogram", {{"edges", h.edges}, {"counts", h.counts}}},
                   {"density", {{"x", kde.x}, {"y", kde.y}, {"bandwidth", kde.bandwidth}}}});
  }
  return arr;
}

json nullable(bool defined, double v) { return defined ? json(v) : json(nullptr); }

json sweep_json(const SweepResult& sweep) {
  json arr = json::array();
  for (const SweepPoint& p : sweep.points) {
    arr.push_back({{"k", p.k},
                   {"wcss", p.wcss},
                   {"silhouette", nullable(p.silhouette.defined, p.silhouette.score)},
                   {"silhouette_rows", p.silhouette.evaluated},
                   {"silhouette_ci", p.silhouette.defined && p.silhouette.sampled
                                         ? json::array({p.silhouette.ci_low, p.silhouette.ci_high})
                                         : json(nullptr)},
                   {"calinski_harabasz", nullable(p.dispersion.defined, p.dispersion.calinski_harabasz)},
                   {"davies_bouldin", nullable(p.dispersion.defined, p.dispersion.davies_bouldin)},
                   {"n_iter", p.n_iter},
                   {"sizes", p.sizes}});
  }
  return arr;
}

std::string sweep_csv(const SweepResult& sweep) {
  std::ostringstream s;
  s.precision(17);
  s << "k,wcss,silhouette,calinski_harabasz,davies_bouldin,n_iter\n";
  for (const SweepPoint& p : sweep.points) {
    s << p.k << ',' << p.wcss << ',';
    if (p.silhouette.defined) s << p.silhouette.score;
    s << ',';
    if (p.dispersion.defined) s << p.dispersion.calinski_harabasz;
    s << ',';
    if (p.dispersion.defined) s << p.dispersion.davies_bouldin;
    s << ',' << p.n_iter << '\n';
  }
  return s.str();
}

/// labels.npy (int32, 1-D) straight from the labels, without a second copy.
void stage_labels_npy(OutputFiles& files, const std::vector<std::int32_t>& labels) {
  files.stage_stream("labels.npy", [&](const std::function<void(const std::string&)>& write) {
    write(npy_header("<i4", {labels.size()}));
    constexpr std::size_t kPiece = 1 << 18;
    for (std::size_t i = 0; i < labels.size(); i += kPiece) {
      const std::size_t m = std::min(kPiece, labels.size() - i);
      write(std::string(reinterpret_cast<const char*>(labels.data() + i), m * sizeof(std::int32_t)));
    }
  });
}

/// labels.csv (id, cluster, persona), written in pieces of about 1 MB so
/// that it never exists whole in memory.
void stage_labels_csv(OutputFiles& files, const Table& table, const std::vector<std::int32_t>& labels,
                      const std::vector<std::string>& persona_names) {
  std::vector<std::string> quoted;
  for (const std::string& p : persona_names) quoted.push_back(csv_field(p));
  files.stage_stream("labels.csv", [&](const std::function<void(const std::string&)>& write) {
    std::string out = csv_field(table.id_name.empty() ? "row" : table.id_name) + ",cluster,persona\n";
    out.reserve(1 << 20);
    for (std::size_t i = 0; i < labels.size(); ++i) {
      out += table.ids.empty() ? std::to_string(i) : csv_field(table.ids[i]);
      out += ',';
      out += std::to_string(labels[i]);
      out += ',';
      out += quoted[static_cast<std::size_t>(labels[i])];
      out += '\n';
      if (out.size() > (1 << 20) - 256) {
        write(out);
        out.clear();
      }
    }
    write(out);
  });
}

/// Above this many rows the segmentation figure gets per-cluster 2-D
/// histograms instead of every point.
constexpr std::size_t kMaxFigurePoints = 200000;

/// What the segmentation figure needs from the original values, kept
/// before the data are standardized in place: up to kMaxFigurePoints rows,
/// the first two features themselves; above that, only whether each is
/// integer-valued (the 2-D histogram is then binned from the z-scores
/// mapped back to original units, integers rounded back exactly).
struct FigureSource {
  Matrix points;            ///< n x 2 original values (n <= kMaxFigurePoints), else empty
  bool integer[2] = {false, false};
  std::size_t cy = 0;       ///< column shown on the y axis (1, or 0 for one feature)
};

FigureSource figure_source(const Matrix& raw) {
  FigureSource f;
  f.cy = raw.cols > 1 ? 1 : 0;
  if (raw.rows <= kMaxFigurePoints) {
    f.points = Matrix(raw.rows, 2);
    for (std::size_t i = 0; i < raw.rows; ++i) {
      f.points.at(i, 0) = raw.at(i, 0);
      f.points.at(i, 1) = raw.cols > 1 ? raw.at(i, f.cy) : 0.0f;
    }
    return f;
  }
  for (int axis = 0; axis < 2; ++axis) {
    const std::size_t col = axis == 0 ? 0 : f.cy;
    bool all_int = true;
    for (std::size_t i = 0; i < raw.rows && all_int; ++i) all_int = raw.at(i, col) == std::nearbyint(raw.at(i, col));
    f.integer[axis] = all_int;
  }
  return f;
}

/// The small files scripts/figures.py reads besides summary.json: the
/// points (or their per-cluster 2-D histogram) in original units, and the
/// evaluated rows' silhouettes.
void stage_figure_data(OutputFiles& files, const FigureSource& src, const Matrix& z, const StandardScaler& scaler,
                       const KMeansResult& fit, const SilhouetteResult& sil) {
  const std::size_t n = z.rows;
  if (n <= kMaxFigurePoints) {
    std::string pts = "x,y,cluster\n";
    pts.reserve(n * 24);
    char buf[96];
    for (std::size_t i = 0; i < n; ++i) {
      std::snprintf(buf, sizeof buf, "%.9g,%.9g,%d\n", src.points.at(i, 0), src.points.at(i, 1), fit.labels[i]);
      pts += buf;
    }
    files.stage("figure_points.csv", pts);
  } else {
    const auto value = [&](std::size_t i, int axis) -> float {
      const std::size_t col = axis == 0 ? 0 : src.cy;
      if (z.cols == 1 && axis == 1) return 0.0f;
      const double x = scaler.inverse(z.at(i, col), col);
      return src.integer[axis] ? static_cast<float>(std::nearbyint(x)) : static_cast<float>(x);
    };
    const Histogram2D h = histogram_2d(n, value, fit.labels, fit.k, 256, 256);
    json clusters = json::array();
    for (std::size_t c = 0; c < h.counts.size(); ++c) {
      json rows = json::array();
      const std::size_t nx = h.x_edges.size() - 1;
      for (std::size_t iy = 0; iy + 1 < h.y_edges.size(); ++iy)
        rows.push_back(std::vector<std::int64_t>(h.counts[c].begin() + static_cast<std::ptrdiff_t>(iy * nx),
                                                 h.counts[c].begin() + static_cast<std::ptrdiff_t>((iy + 1) * nx)));
      clusters.push_back({{"id", c}, {"counts", rows}});
    }
    files.stage("figure_density.json", json{{"x_edges", h.x_edges}, {"y_edges", h.y_edges}, {"clusters", clusters}}.dump() + "\n");
  }
  if (sil.defined) {
    std::string out = "cluster,silhouette\n";
    char buf[64];
    for (std::size_t i = 0; i < sil.values.size(); ++i) {
      const std::size_t row = sil.rows.empty() ? i : sil.rows[i];
      std::snprintf(buf, sizeof buf, "%d,%.6f\n", fit.labels[row], sil.values[i]);
      out += buf;
    }
    files.stage("figure_silhouette.csv", out);
  }
}

PersonaCatalog load_catalog(const PipelineOptions& o) {
  return load_persona_catalog(o.personas_path.empty() ? (std::filesystem::path(data_dir()) / "personas.json").string()
                                                      : o.personas_path);
}

struct ModelReport {
  json model;
  std::vector<std::string> persona_names;
};

/// The fitted model's section of summary.json, personas included.
ModelReport model_json(const KMeansResult& fit, const SilhouetteResult& sil, const StandardScaler& scaler,
                       const std::vector<FeatureProfile>& profiles, const LoadedData& data,
                       const PersonaCatalog& catalog, const PipelineOptions& o) {
  const std::size_t k = static_cast<std::size_t>(fit.k), d = fit.d;
  const std::vector<Persona> personas = assign_personas(catalog, data.names, fit.centers, k);
  ModelReport r;
  std::int64_t n = 0;
  for (std::int64_t c : fit.counts) n += c;
  json clusters = json::array();
  for (std::size_t c = 0; c < k; ++c) {
    json centroid = json::array(), scaled = json::array(), rel = json::array();
    for (std::size_t j = 0; j < d; ++j) {
      centroid.push_back(scaler.inverse(fit.centers[c * d + j], j));
      scaled.push_back(fit.centers[c * d + j]);
      const double mean_orig = scaler.inverse(fit.means[c * d + j], j);
      rel.push_back(profiles[j].mean != 0.0 ? json(mean_orig / profiles[j].mean - 1.0) : json(nullptr));
    }
    const Persona& p = personas[c];
    r.persona_names.push_back(p.name);
    clusters.push_back({{"id", c},
                        {"size", fit.counts[c]},
                        {"share", n > 0 ? static_cast<double>(fit.counts[c]) / static_cast<double>(n) : 0.0},
                        {"centroid", centroid},
                        {"centroid_scaled", scaled},
                        {"relative_importance", rel},
                        // an empty cluster (k above the distinct rows) has no silhouette
                        {"silhouette", nullable(sil.defined && fit.counts[c] > 0,
                                                sil.cluster_means.empty() ? 0.0 : sil.cluster_means[c])},
                        {"persona", p.name},
                        {"persona_archetype", p.archetype >= 0 ? json(catalog.archetypes[static_cast<std::size_t>(p.archetype)].name) : json(nullptr)},
                        {"persona_distance", p.archetype >= 0 ? json(p.distance) : json(nullptr)},
                        {"characteristics", p.characteristics},
                        {"strategic_value", p.strategic_value},
                        {"action", p.action}});
  }
  std::vector<double> inertias;
  for (const KMeansRun& run : fit.runs) inertias.push_back(run.inertia);
  json runs = json::array();
  for (const KMeansRun& run : fit.runs)
    runs.push_back({{"seed", run.seed}, {"inertia", run.inertia}, {"n_iter", run.n_iter}, {"converged", run.converged}});
  r.model = {{"k", fit.k},
             {"inertia", fit.inertia},
             {"silhouette", nullable(sil.defined, sil.score)},
             {"silhouette_rows", sil.evaluated},
             {"silhouette_ci", sil.defined && sil.sampled ? json::array({sil.ci_low, sil.ci_high}) : json(nullptr)},
             {"n_iter", fit.n_iter},
             {"n_init", o.kmeans.n_init},
             {"seed", o.kmeans.seed},
             {"best_run", fit.best_run},
             {"stability", {{"inertia_min", fit.stability.inertia_min},
                            {"inertia_median", fit.stability.inertia_median},
                            {"inertia_max", fit.stability.inertia_max},
                            {"mean_ari", fit.stability.mean_ari},
                            {"rows_compared", fit.stability.rows_compared}}},
             {"runs", runs},
             {"clusters", clusters}};
  return r;
}

json input_json(const LoadedData& data) {
  return {{"path", data.path},
          {"rows", data.table.features.rows},
          {"columns", data.table.column_names},
          {"feature_names", data.names},
          {"id_column", data.table.id_name.empty() ? json(nullptr) : json(data.table.id_name)},
          {"dropped_rows", data.table.dropped_rows}};
}

json parameters_json(const PipelineOptions& o, Command cmd, int k) {
  json p = {{"seed", o.kmeans.seed},
            {"n_init", o.kmeans.n_init},
            {"max_iter", o.kmeans.max_iter},
            {"tol", o.kmeans.tol},
            {"init", "k-means++"},
            {"silhouette", o.silhouette_mode},
            {"silhouette_sample", o.silhouette_sample},
            {"silhouette_threshold", o.silhouette_threshold}};
  if (cmd == Command::Run || cmd == Command::Sweep) {
    p["k_min"] = o.k_min;
    p["k_max"] = o.k_max;
  }
  if (cmd == Command::Run || cmd == Command::Fit) {
    p["k"] = k;
    p["k_rule"] = o.k_auto ? "auto: highest silhouette in the sweep" : "fixed";
  }
  return p;
}

json scaler_json(const StandardScaler& s) {
  return {{"mean", s.mean}, {"scale", s.scale}, {"constant", s.constant}};
}

/// Every file Archetype writes into --out: an existing directory holding
/// any of them is refused without --force (output_files.hpp).
std::vector<std::string> output_names() {
  std::vector<std::string> names = {"summary.json",      "report.md",           "report.html",
                                    "labels.csv",        "labels.npy",          "sweep.csv",
                                    "model.json",        "figure_points.csv",   "figure_density.json",
                                    "figure_silhouette.csv"};
  for (const std::string& f : figure_names())
    for (const char* ext : {".png", ".svg"}) names.push_back("figures/" + f + ext);
  return names;
}

PipelineOutcome run_predict(const PipelineOptions& o, const NoticeFn& notice, const Clock::time_point t_start) {
  OutputFiles files(o.out_dir, output_names(), o.force);  // first: a refused --out fails before any work
  StageTimer timer;
  timer.start();
  const SavedModel model = load_model_file(o.model_path);
  PipelineOptions po = o;
  po.csv_options.columns = model.columns;
  po.csv_options.columns_origin = "a feature of model " + o.model_path;
  if (po.csv.empty()) throw InputError("predict needs a CSV file of creators to label");
  LoadedData data = load(po, notice);
  timer.stop("load");
  timer.start();
  StandardScaler scaler;
  scaler.mean = model.mean;
  scaler.scale = model.scale;
  scaler.constant.assign(model.mean.size(), false);
  const Matrix z = scaler.transform(data.table.features);
  std::unique_ptr<Backend> backend =
      select_backend({o.backend, o.threads, o.device, z.rows, z.cols, model.k}, notice);
  std::vector<std::int32_t> labels;
  const double inertia = assign_labels(*backend, z, model.centroids_scaled, model.k, labels);
  timer.stop("predict");
  std::vector<std::int64_t> counts(static_cast<std::size_t>(model.k), 0);
  for (std::int32_t l : labels) counts[static_cast<std::size_t>(l)] += 1;
  PipelineOutcome out;
  json& s = out.summary;
  s["archetype_version"] = ARCHETYPE_VERSION;
  s["command"] = "predict";
  s["input"] = input_json(data);
  s["backend"] = backend->name();
  s["device"] = backend->device();
  s["model_file"] = o.model_path;
  json clusters = json::array();
  for (std::size_t c = 0; c < counts.size(); ++c)
    clusters.push_back({{"id", c}, {"persona", model.persona_names[c]}, {"size", counts[c]},
                        {"share", static_cast<double>(counts[c]) / static_cast<double>(labels.size())}});
  s["prediction"] = {{"k", model.k}, {"inertia", inertia}, {"clusters", clusters}};
  std::ostringstream t;
  t << "Labelled " << labels.size() << " creators with " << o.model_path << "\n";
  TextTable table({"cluster", "persona", "size", "share"});
  for (std::size_t c = 0; c < counts.size(); ++c)
    table.add({std::to_string(c), model.persona_names[c], std::to_string(counts[c]),
               format_percent(static_cast<double>(counts[c]) / static_cast<double>(labels.size()))});
  t << table.render();
  out.table = t.str();
  timer.start();
  stage_labels_csv(files, data.table, labels, model.persona_names);
  stage_labels_npy(files, labels);
  timer.stop("write");
  s["timings_ms"] = timer.to_json(std::chrono::duration<double, std::milli>(Clock::now() - t_start).count());
  files.stage("summary.json", s.dump(2) + "\n");
  out.files = files.commit();
  return out;
}

}  // namespace

std::string data_dir() {
  if (const char* env = std::getenv("ARCHETYPE_DATA_DIR"); env && *env) return env;
  return ARCHETYPE_SOURCE_DATA_DIR;
}

namespace {

PipelineOutcome run_once(Command cmd, const PipelineOptions& o, const NoticeFn& notice) {
  const Clock::time_point t_start = Clock::now();
  if (cmd == Command::Predict) return run_predict(o, notice, t_start);
  OutputFiles files(o.out_dir, output_names(), o.force);  // first: a refused --out fails before any work
  StageTimer timer;

  // 1. Load and validate.
  timer.start();
  LoadedData data = load(o, notice);
  const Matrix& raw = data.table.features;
  const std::vector<std::string> k_warnings = check_k_against_rows(cmd, o, raw.rows, data.path);
  timer.stop("load");

  // 2. Profile every feature.
  timer.start();
  const std::vector<FeatureStats> stats = feature_stats(raw, o.threads);
  std::vector<FeatureProfile> profiles;
  for (const FeatureStats& f : stats) profiles.push_back(f.profile);
  timer.stop("profile");

  PipelineOutcome out;
  json& s = out.summary;
  s["archetype_version"] = ARCHETYPE_VERSION;
  s["command"] = cmd == Command::Run ? "run" : cmd == Command::Profile ? "profile" : cmd == Command::Sweep ? "sweep" : "fit";
  s["input"] = input_json(data);
  std::unique_ptr<Backend> backend;
  if (cmd != Command::Profile) {
    backend = select_backend({o.backend, o.threads, o.device, raw.rows, raw.cols, std::max({o.k, o.k_max, 1})}, notice);
    s["backend"] = backend->name();
    s["device"] = backend->device();
  }
  s["profile"] = profile_json(stats, data);
  json warnings = json::array();
  const auto warn = [&](const std::string& w) {
    warnings.push_back(w);
    notice("warning: " + w);
  };
  for (const std::string& w : k_warnings) warn(w);
  std::ostringstream table;
  table << render_profile_table(s["profile"], data.path, raw.rows);

  if (cmd == Command::Profile) {
    s["timings_ms"] = timer.to_json(std::chrono::duration<double, std::milli>(Clock::now() - t_start).count());
    out.table = table.str();
    files.stage("summary.json", s.dump(2) + "\n");
    out.files = files.commit();
    return out;
  }

  // 3. Standardize.
  timer.start();
  const StandardScaler scaler = StandardScaler::from_profiles(profiles);
  for (std::size_t j = 0; j < scaler.constant.size(); ++j) {
    if (!scaler.constant[j]) continue;
    warn("feature '" + data.names[j] + "' has zero variance: left unscaled (scale 1)");
  }
  const FigureSource fig_src = figure_source(raw);
  // Standardize in place: the raw values are not needed any more (profile,
  // histograms and the figure source are taken), so the data exist once.
  Matrix z = std::move(data.table.features);
  scaler.transform_in_place(z);
  const FixedPoint fp = FixedPoint::for_data(z);
  timer.stop("scale");
  s["scaler"] = scaler_json(scaler);

  int k = o.k;
  const int k_bound = std::max({o.k, o.k_max, 1});
  backend->bind(z, fp, k_bound);

  // 4. Sweep k.
  std::optional<SweepResult> sweep;
  SilhouetteParams silp{silhouette_sample_size(z.rows, o.silhouette_sample, o.silhouette_threshold,
                                               o.silhouette_mode == "exact", z.cols),
                        o.kmeans.seed};
  if (cmd == Command::Run || cmd == Command::Sweep) {
    timer.start();
    SweepParams sp;
    sp.k_min = o.k_min;
    sp.k_max = o.k_max;
    sp.kmeans = o.kmeans;
    sp.silhouette = silp;
    Progress progress(o.progress);
    sp.progress = [&](const char* stage, int live, int models, long long passes) {
      progress.update("sweep", std::string(stage) + ": " + std::to_string(live) + " of " + std::to_string(models) +
                                   " models running, pass " + std::to_string(passes),
                      static_cast<double>(passes) * static_cast<double>(z.rows));
    };
    sp.on_scored = [&](int kk, int done, int total) {
      progress.update("sweep", "scoring k = " + std::to_string(kk) + " (" + std::to_string(done) + " of " +
                                   std::to_string(total) + ")");
    };
    sweep = run_sweep(*backend, z, fp, sp, o.k_auto ? 0 : o.k);
    progress.done();
    timer.stop("sweep");
    if (o.k_auto) {
      if (!sweep->silhouette_k) throw InputError("--k auto: no k in the sweep has a defined silhouette");
      k = *sweep->silhouette_k;
    }
    if (const auto w = sweep_empty_clusters_warning(*sweep)) warn(*w);
    s["sweep"] = sweep_json(*sweep);
    s["suggested_k"] = {{"elbow", sweep->elbow_k ? json(*sweep->elbow_k) : json(nullptr)},
                        {"silhouette", sweep->silhouette_k ? json(*sweep->silhouette_k) : json(nullptr)}};
    table << "\n" << render_sweep_table(s["sweep"], s["suggested_k"]);
    files.stage("sweep.csv", sweep_csv(*sweep));
  }
  s["parameters"] = parameters_json(o, cmd, k);

  if (cmd == Command::Run || cmd == Command::Fit) {
    // 5. Fit the chosen k (the sweep's fit when it has it: same parameters,
    // same result).
    timer.start();
    KMeansResult fit;
    if (sweep && sweep->kept && sweep->kept->k == k) {
      fit = std::move(*sweep->kept);
    } else {
      KMeansParams kp = o.kmeans;
      kp.n_clusters = k;
      fit = fit_kmeans(*backend, z, fp, kp);
    }
    timer.stop("fit");
    if (const auto w = empty_clusters_warning(fit.counts)) warn(*w);
    timer.start();
    const SilhouetteResult sil = silhouette(*backend, z, fit.labels, k, silp);
    timer.stop("silhouette");

    // 6. Personas.
    timer.start();
    const PersonaCatalog catalog = load_catalog(o);
    ModelReport mr = model_json(fit, sil, scaler, profiles, data, catalog, o);
    timer.stop("personas");
    s["model"] = mr.model;
    table << "\n" << render_model_table(s["model"], data.names);
    stage_labels_csv(files, data.table, fit.labels, mr.persona_names);
    stage_labels_npy(files, fit.labels);
    files.stage("model.json", model_file_json(s, data.table.column_names, data.names, scaler, fit, mr.persona_names, o.kmeans).dump(2) + "\n");
    if (o.figures) stage_figure_data(files, fig_src, z, scaler, fit, sil);
  }
  s["warnings"] = warnings;
  s["timings_ms"] = timer.to_json(std::chrono::duration<double, std::milli>(Clock::now() - t_start).count());
  files.stage("summary.json", s.dump(2) + "\n");

  // 7. Figures (from the staged files, into the staging folder: they are
  // committed with everything else) and the reports that embed them.
  std::set<std::string> figures;
  if (o.figures) {
    timer.start();
    figures = run_figures_script(files.staging_dir(), notice).produced;
    timer.stop("figures");
  }
  timer.start();
  const ReportDocument report = build_report(s, figures);
  files.stage("report.md", report.markdown());
  files.stage("report.html", report.html(files.staging_dir()));
  timer.stop("report");
  s["timings_ms"] = timer.to_json(std::chrono::duration<double, std::milli>(Clock::now() - t_start).count());
  files.stage("summary.json", s.dump(2) + "\n");  // again, with the last stages' timings
  out.files = files.commit();
  out.table = table.str();
  return out;
}

}  // namespace

PipelineOutcome run_pipeline(Command cmd, const PipelineOptions& o, const NoticeFn& notice) {
  // A notice the failed attempt gave (a warning, dropped rows) is not
  // repeated by the rerun.
  std::set<std::string> said;
  const NoticeFn once = [&](const std::string& msg) {
    if (said.insert(msg).second) notice(msg);
  };
  try {
    return run_once(cmd, o, once);
  } catch (const DeviceError& e) {
    if (o.backend != "auto") throw;
    // The whole computation again, from the input: exactly a CPU run's
    // outputs (the failed attempt's staged files are already gone).
    once(std::string("GPU failed: ") + e.what() + "; retrying on the CPU");
    PipelineOptions cpu = o;
    cpu.backend = "cpu";
    return run_once(cmd, cpu, once);
  }
}

}  // namespace archetype
