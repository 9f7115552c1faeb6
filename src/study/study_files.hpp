// The study's output files besides summary.json and the reports: labels
// (CSV and .npy, streamed), sweep.csv, and the small inputs of the figure
// script.  Every file is staged in OutputFiles and committed with the rest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archetype/communicator.hpp"
#include "archetype/csv.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/matrix.hpp"
#include "archetype/scaler.hpp"
#include "archetype/study_result.hpp"
#include "io/output_files.hpp"
#include "study/projection.hpp"

namespace archetype {

std::string sweep_csv(const std::vector<SweepRow>& sweep);

/// labels.npy (int32, 1-D), streamed from the labels.
void stage_labels_npy(OutputFiles& files, const std::vector<std::int32_t>& labels);

/// labels.csv (id, cluster, persona), written in pieces of about 1 MB;
/// with `values` (the input's feature values, rows x table.column_names)
/// those columns go between the id and the cluster.
void stage_labels_csv(OutputFiles& files, const Table& table, const std::vector<std::int32_t>& labels,
                      const std::vector<std::string>& persona_names, const Matrix* values = nullptr);

/// The same two for a job split across processes, every rank with its
/// rows (table, labels, values) and rank 0 with the files (nullptr
/// elsewhere): rank 0 writes them in row order (io/gathered_output.hpp).
/// A collective; a failure to stage throws on rank 0 only (agree()).
void stage_labels_npy(OutputFiles* files, const std::vector<std::int32_t>& labels, const RowSplit& split);
void stage_labels_csv(OutputFiles* files, const Table& table, const std::vector<std::int32_t>& labels,
                      const std::vector<std::string>& persona_names, const Matrix* values, const RowSplit& split);

/// Above this many rows the segmentation figure gets per-cluster 2-D
/// histograms instead of every point.
constexpr std::size_t kMaxFigurePoints = 200000;

/// What the segmentation figure needs from the original values, kept
/// before the data are standardized in place.  With 1 or 2 features the
/// figure shows them in original units: up to kMaxFigurePoints rows the
/// values themselves; above that, only whether each is integer-valued (the
/// 2-D histogram is then binned from the z-scores mapped back to original
/// units, integers rounded back exactly).  With more, it shows the first two
/// principal components of the z-scores (projection.hpp): nothing is kept.
struct FigureSource {
  Matrix points;            ///< n x 2 original values (d <= 2, n <= kMaxFigurePoints), else empty
  bool integer[2] = {false, false};
  std::size_t cy = 0;       ///< column shown on the y axis (1, or 0 for one feature)
};

/// Taken from the raw values before they are standardized in place.  With
/// a split (raw: this process's rows; a collective) the points are this
/// process's rows' and the rules count every row.
FigureSource figure_source(const Matrix& raw, const RowSplit* split = nullptr);

/// The 2-D view for more than 2 features (none otherwise) and its summary
/// (with a split: fitted from every process's rows, a collective).
std::optional<Pca2> figure_projection(const Matrix& z, const RowSplit* split = nullptr);
ProjectionSummary projection_summary(const Pca2& pca);

/// figure_points.csv (`x,y,cluster` in original units, or `pc1,pc2,cluster`
/// with a projection) or figure_density.json (the same axes), and
/// figure_silhouette.csv.
void stage_figure_data(OutputFiles& files, const FigureSource& src, const std::optional<Pca2>& pca, const Matrix& z,
                       const StandardScaler& scaler, const KMeansResult& fit, const SilhouetteResult& sil);

/// Its two parts for a job split across processes (every rank with its
/// rows, rank 0 with the files, nullptr elsewhere; collectives, a staging
/// failure thrown on rank 0 only): the points or their histogram, and the
/// silhouettes of the evaluated rows.
void stage_figure_points(OutputFiles* files, const FigureSource& src, const std::optional<Pca2>& pca, const Matrix& z,
                         const StandardScaler& scaler, const KMeansResult& fit, const RowSplit& split);
void stage_figure_silhouette(OutputFiles* files, const KMeansResult& fit, const SilhouetteResult& sil,
                             const RowSplit& split);

}  // namespace archetype
