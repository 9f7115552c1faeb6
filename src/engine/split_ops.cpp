#include "engine/split_ops.hpp"

#include <cmath>
#include <cstring>

#include "engine/host_assign.hpp"

namespace archetype {

void fetch_rows(const RowSplit* split, MatrixView X, const std::int64_t* rows, std::size_t m, float* out) {
  const std::size_t d = X.cols;
  if (!split) {
    for (std::size_t t = 0; t < m; ++t) {
      const float* src = X.row(static_cast<std::size_t>(rows[t]));
      std::copy(src, src + d, out + t * d);
    }
    return;
  }
  // Every rank knows who owns each row: rank r sends its rows in list
  // order, and the gathered buffer is unpacked by the same rule.
  const std::size_t N = split->counts.size();
  std::vector<std::size_t> bytes(N, 0);
  std::vector<int> owner(m);
  for (std::size_t t = 0; t < m; ++t) {
    owner[t] = split->owner(static_cast<std::size_t>(rows[t]));
    bytes[static_cast<std::size_t>(owner[t])] += d * sizeof(float);
  }
  std::vector<float> mine;
  mine.reserve(bytes[static_cast<std::size_t>(split->comm->rank())] / sizeof(float));
  for (std::size_t t = 0; t < m; ++t)
    if (owner[t] == split->comm->rank()) {
      const float* src = X.row(static_cast<std::size_t>(rows[t]) - split->offset);
      mine.insert(mine.end(), src, src + d);
    }
  std::vector<float> all(m * d);
  split->comm->allgatherv(mine.data(), bytes.data(), all.data());
  std::vector<std::size_t> next(N, 0);  // each rank's next row in `all`
  std::size_t at = 0;
  for (std::size_t r = 0; r < N; ++r) {
    next[r] = at;
    at += bytes[r] / sizeof(float);
  }
  for (std::size_t t = 0; t < m; ++t) {
    std::size_t& src = next[static_cast<std::size_t>(owner[t])];
    std::copy(all.data() + src, all.data() + src + d, out + t * d);
    src += d;
  }
}

void allreduce_pass_sums(Communicator& comm, PassSums* sums, std::size_t models, bool with_changed) {
  std::size_t values = 0;
  for (std::size_t b = 0; b < models; ++b) values += sums[b].sums.size() + sums[b].counts.size() + 1 + with_changed;
  std::vector<std::int64_t> buf;
  buf.reserve(values);
  for (std::size_t b = 0; b < models; ++b) {
    buf.insert(buf.end(), sums[b].sums.begin(), sums[b].sums.end());
    buf.insert(buf.end(), sums[b].counts.begin(), sums[b].counts.end());
    buf.push_back(sums[b].inertia_q);
    if (with_changed) buf.push_back(sums[b].changed);
  }
  comm.allreduce_sum(buf.data(), buf.size());
  const std::int64_t* p = buf.data();
  for (std::size_t b = 0; b < models; ++b) {
    std::copy(p, p + sums[b].sums.size(), sums[b].sums.begin());
    p += sums[b].sums.size();
    std::copy(p, p + sums[b].counts.size(), sums[b].counts.begin());
    p += sums[b].counts.size();
    sums[b].inertia_q = *p++;
    if (with_changed) sums[b].changed = *p++;
  }
}

FixedPoint fixed_point_for_data(MatrixView X, const RowSplit* split, const WeightGrid* weights) {
  if (!split) return FixedPoint::for_data(X, weights);
  // The same loops as FixedPoint::for_data, then the maxima of all ranks
  // (non-negative doubles: the maximum is exact and order-free).
  struct Bounds {
    double max_abs, max_norm2;
  } b{0.0, 0.0};
  for (std::size_t i = 0; i < X.rows; ++i) {
    const float* r = X.row(i);
    double norm2 = 0.0;
    for (std::size_t j = 0; j < X.cols; ++j) {
      const double v = static_cast<double>(r[j]);
      b.max_abs = std::max(b.max_abs, std::fabs(v));
      norm2 += v * v;
    }
    b.max_norm2 = std::max(b.max_norm2, norm2);
  }
  const Bounds all = fold_ranks(*split, b, [](const Bounds& a, const Bounds& c) {
    return Bounds{std::max(a.max_abs, c.max_abs), std::max(a.max_norm2, c.max_norm2)};
  });
  // As for_data: with weights, sized for their total (WeightGrid::total is
  // every rank's).
  const std::size_t count = weights ? static_cast<std::size_t>(weights->total) : split->total;
  FixedPoint fp = FixedPoint::for_bounds(all.max_abs, 4.0 * all.max_norm2, count);
  fp.weight_exp = weights ? weights->exp : 0;
  return fp;
}

int farthest_rows_split(const RowSplit& split, MatrixView X, const float* centers, int k, int m,
                        std::int64_t* out_rows, std::int32_t* out_weights, const std::int32_t* weights) {
  const std::vector<FarRow> mine =
      farthest_candidates(X, centers, k, m, static_cast<std::int64_t>(split.offset), weights);
  std::vector<FarRow> all = allgather_vector(*split.comm, mine);
  std::sort(all.begin(), all.end(), farther);
  const int found = std::min(m, static_cast<int>(all.size()));
  for (int i = 0; i < found; ++i) {
    out_rows[i] = all[static_cast<std::size_t>(i)].row;
    out_weights[i] = all[static_cast<std::size_t>(i)].w;
  }
  return found;
}

}  // namespace archetype
