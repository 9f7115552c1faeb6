// The study's output files besides summary.json and the reports: labels
// (CSV and .npy, streamed), sweep.csv, and the small inputs of the figure
// script.  Every file is staged in OutputFiles and committed with the rest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "archetype/csv.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/matrix.hpp"
#include "archetype/scaler.hpp"
#include "archetype/study_result.hpp"
#include "io/output_files.hpp"

namespace archetype {

std::string sweep_csv(const std::vector<SweepRow>& sweep);

/// labels.npy (int32, 1-D), streamed from the labels.
void stage_labels_npy(OutputFiles& files, const std::vector<std::int32_t>& labels);

/// labels.csv (id, cluster, persona), written in pieces of about 1 MB.
void stage_labels_csv(OutputFiles& files, const Table& table, const std::vector<std::int32_t>& labels,
                      const std::vector<std::string>& persona_names);

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

/// Taken from the raw values before they are standardized in place.
FigureSource figure_source(const Matrix& raw);

/// figure_points.csv or figure_density.json, and figure_silhouette.csv.
void stage_figure_data(OutputFiles& files, const FigureSource& src, const Matrix& z, const StandardScaler& scaler,
                       const KMeansResult& fit, const SilhouetteResult& sil);

}  // namespace archetype
