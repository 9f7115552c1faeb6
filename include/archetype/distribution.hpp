// Shapes of one feature's distribution for the report's figures: a
// histogram and a Gaussian kernel density estimate (scipy's gaussian_kde
// with Scott's bandwidth), both small enough for summary.json.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "archetype/matrix.hpp"

namespace archetype {

struct Histogram {
  std::vector<double> edges;         ///< bins + 1 edges, from min to max
  std::vector<std::int64_t> counts;  ///< rows per bin (the last bin includes max)
};

struct DensityCurve {
  std::vector<double> x, y;  ///< y integrates to 1 over x
  double bandwidth = 0.0;    ///< kernel standard deviation
};

/// `bins` equal-width bins over [min, max] of column `col`.
Histogram histogram(MatrixView X, std::size_t col, std::size_t bins);

/// Gaussian KDE of column `col` with Scott's rule (h = std * m^(-1/5)),
/// from at most `max_rows` rows (a fixed stride over the rows, so the result
/// is deterministic), evaluated at `points` points from min - 3h to max + 3h.
DensityCurve kernel_density(MatrixView X, std::size_t col, std::size_t points = 200,
                            std::size_t max_rows = 20000);

struct RowSplit;  // communicator.hpp

/// The same two over a column split across processes (X: this process's
/// rows; a collective): every rank gets the one-process result, bit for
/// bit (the density's strided rows are counted among all rows).
Histogram histogram(MatrixView X, std::size_t col, std::size_t bins, const RowSplit& split);
DensityCurve kernel_density(MatrixView X, std::size_t col, std::size_t points, std::size_t max_rows,
                            const RowSplit& split);

/// Rows per bin of a 2-D grid, one grid per label in [0, k):
/// counts[label][iy * nx + ix].
struct Histogram2D {
  std::vector<double> x_edges, y_edges;
  std::vector<std::vector<std::int64_t>> counts;
};

/// The grid over `rows` rows whose two coordinates come from `value(row,
/// axis)` (axis 0 = x, 1 = y), so the caller can bin values it does not hold
/// as a matrix (the pipeline maps z-scores back to original units).  An
/// integer-valued axis with fewer distinct values than bins gets one bin per
/// integer.
Histogram2D histogram_2d(std::size_t rows, const std::function<float(std::size_t, int)>& value,
                         const std::vector<std::int32_t>& labels, int k, std::size_t nx, std::size_t ny);
/// The same over rows split across processes (rows, value, labels: this
/// process's; a collective): every process's rows counted and ranged.
Histogram2D histogram_2d(std::size_t rows, const std::function<float(std::size_t, int)>& value,
                         const std::vector<std::int32_t>& labels, int k, std::size_t nx, std::size_t ny,
                         const RowSplit& split);

}  // namespace archetype
