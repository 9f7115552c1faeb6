#include "study/study_files.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "archetype/csv.hpp"
#include "archetype/distribution.hpp"
#include "archetype/npy.hpp"
#include "io/gathered_output.hpp"

namespace archetype {

using json = nlohmann::ordered_json;

std::string sweep_csv(const std::vector<SweepRow>& sweep) {
  std::ostringstream s;
  s.precision(17);
  s << "k,wcss,silhouette,calinski_harabasz,davies_bouldin,n_iter\n";
  for (const SweepRow& p : sweep) {
    s << p.k << ',' << p.wcss << ',';
    if (p.silhouette) s << *p.silhouette;
    s << ',';
    if (p.calinski_harabasz) s << *p.calinski_harabasz;
    s << ',';
    if (p.davies_bouldin) s << *p.davies_bouldin;
    s << ',' << p.n_iter << '\n';
  }
  return s.str();
}

namespace {

using Write = std::function<void(const std::string&)>;

/// The labels as int32 bytes, in pieces.
void label_bytes(const std::vector<std::int32_t>& labels, const Write& write) {
  constexpr std::size_t kPiece = 1 << 18;
  for (std::size_t i = 0; i < labels.size(); i += kPiece) {
    const std::size_t m = std::min(kPiece, labels.size() - i);
    write(std::string(reinterpret_cast<const char*>(labels.data() + i), m * sizeof(std::int32_t)));
  }
}

std::string labels_csv_header(const Table& table, const Matrix* values) {
  std::string out = csv_field(table.id_name.empty() ? "row" : table.id_name);
  if (values)
    for (const std::string& c : table.column_names) out += "," + csv_field(c);
  return out + ",cluster,persona\n";
}

/// labels.csv's rows, in pieces of about 1 MB; without ids a row is named
/// by its number, first_row for the first.
void labels_csv_rows(const Table& table, const std::vector<std::int32_t>& labels,
                     const std::vector<std::string>& persona_names, const Matrix* values, std::size_t first_row,
                     std::string out, const Write& write) {
  std::vector<std::string> quoted;
  for (const std::string& p : persona_names) quoted.push_back(csv_field(p));
  out.reserve(1 << 20);
  char number[32];
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out += table.ids.empty() ? std::to_string(first_row + i) : csv_field(table.ids[i]);
    out += ',';
    if (values) {
      for (std::size_t j = 0; j < values->cols; ++j) {
        // The shortest text that reads back as the same float32.
        const std::to_chars_result r = std::to_chars(number, number + sizeof number, values->at(i, j));
        out.append(number, r.ptr);
        out += ',';
      }
    }
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
}

}  // namespace

/// labels.npy (int32, 1-D) straight from the labels, without a second copy.
void stage_labels_npy(OutputFiles& files, const std::vector<std::int32_t>& labels) {
  files.stage_stream("labels.npy", [&](const Write& write) {
    write(npy_header("<i4", {labels.size()}));
    label_bytes(labels, write);
  });
}

/// labels.csv (id, cluster, persona), written in pieces of about 1 MB so
/// that it never exists whole in memory.
void stage_labels_csv(OutputFiles& files, const Table& table, const std::vector<std::int32_t>& labels,
                      const std::vector<std::string>& persona_names, const Matrix* values) {
  files.stage_stream("labels.csv", [&](const Write& write) {
    labels_csv_rows(table, labels, persona_names, values, 0, labels_csv_header(table, values), write);
  });
}

void stage_labels_npy(OutputFiles* files, const std::vector<std::int32_t>& labels, const RowSplit& split) {
  stage_gathered(*split.comm, files, "labels.npy", [&](const Write& write) {
    if (split.comm->rank() == 0) write(npy_header("<i4", {split.total}));
    label_bytes(labels, write);
  });
}

void stage_labels_csv(OutputFiles* files, const Table& table, const std::vector<std::int32_t>& labels,
                      const std::vector<std::string>& persona_names, const Matrix* values, const RowSplit& split) {
  stage_gathered(*split.comm, files, "labels.csv", [&](const Write& write) {
    labels_csv_rows(table, labels, persona_names, values, split.offset,
                    split.comm->rank() == 0 ? labels_csv_header(table, values) : std::string(), write);
  });
}

FigureSource figure_source(const Matrix& raw, const RowSplit* split) {
  FigureSource f;
  f.cy = raw.cols > 1 ? 1 : 0;
  if (raw.cols > 2) return f;  // a projection of the z-scores instead
  if ((split ? split->total : raw.rows) <= kMaxFigurePoints) {
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
    if (split) {
      std::int64_t not_int = all_int ? 0 : 1;
      split->comm->allreduce_sum(&not_int, 1);
      all_int = not_int == 0;
    }
    f.integer[axis] = all_int;
  }
  return f;
}

std::optional<Pca2> figure_projection(const Matrix& z, const RowSplit* split) {
  if (z.cols <= 2) return std::nullopt;
  if (!split) return fit_pca2(z);
  // The rows fit_pca2 would read of all rows, gathered in row order: the
  // same fit from them alone (fit_pca2 of those rows reads each once).
  std::vector<float> mine;
  for (std::size_t row : pca_rows(split->total, z.cols))
    if (split->holds(row)) mine.insert(mine.end(), z.row(row - split->offset), z.row(row - split->offset) + z.cols);
  Matrix picked;
  picked.values = allgather_vector(*split->comm, mine);
  picked.cols = z.cols;
  picked.rows = picked.values.size() / z.cols;
  return fit_pca2(picked);
}

ProjectionSummary projection_summary(const Pca2& pca) {
  ProjectionSummary p;
  p.features = pca.features;
  for (std::size_t a = 0; a < 2; ++a) {
    p.explained_variance_ratio[a] = pca.explained[a];
    char buf[64];
    std::snprintf(buf, sizeof buf, "PC%zu (%.1f%% of variance)", a + 1, 100.0 * pca.explained[a]);
    p.axes[a] = buf;
  }
  return p;
}

namespace {

std::string points_header(const std::optional<Pca2>& pca) { return pca ? "pc1,pc2,cluster\n" : "x,y,cluster\n"; }

/// figure_points.csv's lines of rows [0, z.rows) (a process's share under a split).
void point_lines(const FigureSource& src, const std::optional<Pca2>& pca, const Matrix& z,
                 const std::vector<std::int32_t>& labels, std::string& out) {
  char buf[96];
  for (std::size_t i = 0; i < z.rows; ++i) {
    if (pca) {
      const std::array<double, 2> s = pca->scores(z.row(i));
      std::snprintf(buf, sizeof buf, "%.6g,%.6g,%d\n", s[0], s[1], labels[i]);
    } else {
      std::snprintf(buf, sizeof buf, "%.9g,%.9g,%d\n", src.points.at(i, 0), src.points.at(i, 1), labels[i]);
    }
    out += buf;
  }
}

/// figure_silhouette.csv's lines of the evaluated rows whose values `sil` holds.
void silhouette_lines(const std::vector<std::int32_t>& labels, const SilhouetteResult& sil, std::size_t row_offset,
                      std::string& out) {
  char buf[64];
  for (std::size_t i = 0; i < sil.values.size(); ++i) {
    const std::size_t row = sil.rows.empty() ? sil.values_offset + i : sil.rows[sil.values_offset + i];
    std::snprintf(buf, sizeof buf, "%d,%.6f\n", labels[row - row_offset], sil.values[i]);
    out += buf;
  }
}

/// The per-cluster 2-D histogram of the figure's two axes (a collective under a split).
std::string density_json(const FigureSource& src, const std::optional<Pca2>& pca, const Matrix& z,
                         const StandardScaler& scaler, const KMeansResult& fit, const RowSplit* split) {
  const std::size_t n = z.rows;
  std::vector<float> scores;  // each row's two scores, once (the histogram reads each value twice)
  if (pca) {
    scores.resize(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::array<double, 2> s = pca->scores(z.row(i));
      scores[2 * i] = static_cast<float>(s[0]);
      scores[2 * i + 1] = static_cast<float>(s[1]);
    }
  }
  const auto value = [&](std::size_t i, int axis) -> float {
    if (pca) return scores[2 * i + static_cast<std::size_t>(axis)];
    const std::size_t col = axis == 0 ? 0 : src.cy;
    if (z.cols == 1 && axis == 1) return 0.0f;
    const double x = scaler.inverse(z.at(i, col), col);
    return src.integer[axis] ? static_cast<float>(std::nearbyint(x)) : static_cast<float>(x);
  };
  const Histogram2D h = split ? histogram_2d(n, value, fit.labels, fit.k, 256, 256, *split)
                              : histogram_2d(n, value, fit.labels, fit.k, 256, 256);
  json clusters = json::array();
  for (std::size_t c = 0; c < h.counts.size(); ++c) {
    json rows = json::array();
    const std::size_t nx = h.x_edges.size() - 1;
    for (std::size_t iy = 0; iy + 1 < h.y_edges.size(); ++iy)
      rows.push_back(std::vector<std::int64_t>(h.counts[c].begin() + static_cast<std::ptrdiff_t>(iy * nx),
                                               h.counts[c].begin() + static_cast<std::ptrdiff_t>((iy + 1) * nx)));
    clusters.push_back({{"id", c}, {"counts", rows}});
  }
  return json{{"x_edges", h.x_edges}, {"y_edges", h.y_edges}, {"clusters", clusters}}.dump() + "\n";
}

}  // namespace

/// The small files scripts/figures.py reads besides summary.json: the
/// points (or their per-cluster 2-D histogram), and the evaluated rows'
/// silhouettes.
void stage_figure_data(OutputFiles& files, const FigureSource& src, const std::optional<Pca2>& pca, const Matrix& z,
                       const StandardScaler& scaler, const KMeansResult& fit, const SilhouetteResult& sil) {
  const std::size_t n = z.rows;
  if (n <= kMaxFigurePoints) {
    std::string pts = points_header(pca);
    pts.reserve(n * 24);
    point_lines(src, pca, z, fit.labels, pts);
    files.stage("figure_points.csv", pts);
  } else {
    files.stage("figure_density.json", density_json(src, pca, z, scaler, fit, nullptr));
  }
  if (sil.defined) {
    std::string out = "cluster,silhouette\n";
    silhouette_lines(fit.labels, sil, 0, out);
    files.stage("figure_silhouette.csv", out);
  }
}

void stage_figure_points(OutputFiles* files, const FigureSource& src, const std::optional<Pca2>& pca, const Matrix& z,
                         const StandardScaler& scaler, const KMeansResult& fit, const RowSplit& split) {
  if (split.total <= kMaxFigurePoints) {
    stage_gathered(*split.comm, files, "figure_points.csv", [&](const std::function<void(const std::string&)>& write) {
      std::string pts = split.comm->rank() == 0 ? points_header(pca) : std::string();
      point_lines(src, pca, z, fit.labels, pts);
      write(pts);
    });
  } else {
    const std::string text = density_json(src, pca, z, scaler, fit, &split);
    if (files) files->stage("figure_density.json", text);
  }
}

void stage_figure_silhouette(OutputFiles* files, const KMeansResult& fit, const SilhouetteResult& sil,
                             const RowSplit& split) {
  if (!sil.defined) return;
  stage_gathered(*split.comm, files, "figure_silhouette.csv", [&](const std::function<void(const std::string&)>& write) {
    std::string out = split.comm->rank() == 0 ? "cluster,silhouette\n" : std::string();
    silhouette_lines(fit.labels, sil, split.offset, out);
    write(out);
  });
}

}  // namespace archetype
