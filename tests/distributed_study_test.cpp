// The study's pieces with rows split across processes, played by threads
// (run_thread_ranks): each rank reads its share of a CSV or .npy file, the
// profile and the collective error rule; the shares put together are
// what one read gives, messages included.  Also the launcher's
// environment, read before MPI exists.  (tests/mpi/test_mpi.py runs the
// whole CLI under mpirun.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>

#include "archetype/communicator.hpp"
#include "archetype/csv.hpp"
#include "archetype/distribution.hpp"
#include "archetype/npy.hpp"
#include "archetype/profile.hpp"
#include "cli_support.hpp"
#include "dist/gpu_ranks.hpp"
#include "dist/mpi_world.hpp"
#include "dist/thread_communicator.hpp"
#include "io/split_input.hpp"
#include "study/transforms.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// What a read gives: the table, or the error's text.
struct Read {
  Table table;
  std::string error;
};

/// read_csv_share on `ranks` threads, the shares put back together.
Read read_in_shares(const std::string& path, const CsvOptions& o, int ranks) {
  std::vector<Table> parts(static_cast<std::size_t>(ranks));
  std::vector<ShareInfo> infos(parts.size());
  std::vector<std::string> errors(parts.size());
  run_thread_ranks(ranks, [&](Communicator& comm) {
    const std::size_t r = static_cast<std::size_t>(comm.rank());
    try {
      parts[r] = read_csv_share(path, o, comm, infos[r]);
    } catch (const InputError& e) {  // AgreedError, or with one rank the error itself
      errors[r] = e.what();
    }
  });
  for (const std::string& e : errors) EXPECT_EQ(e, errors[0]) << "every rank throws the same";
  Read out;
  if (!errors[0].empty()) {
    out.error = errors[0];
    return out;
  }
  out.table = parts[0];
  out.table.features.values.clear();
  out.table.ids.clear();
  std::size_t offset = 0;
  for (std::size_t r = 0; r < parts.size(); ++r) {
    EXPECT_EQ(infos[r].row_offset, offset);
    offset += parts[r].features.rows;
    out.table.features.values.insert(out.table.features.values.end(), parts[r].features.values.begin(),
                                     parts[r].features.values.end());
    out.table.ids.insert(out.table.ids.end(), parts[r].ids.begin(), parts[r].ids.end());
    EXPECT_EQ(parts[r].dropped_rows, parts[0].dropped_rows);
    EXPECT_EQ(parts[r].drop_reasons, parts[0].drop_reasons);
  }
  out.table.features.rows = offset;
  for (const ShareInfo& i : infos) EXPECT_EQ(i.total_rows, offset);
  return out;
}

Read read_whole(const std::string& path, const CsvOptions& o) {
  Read out;
  try {
    out.table = read_csv(path, o);
  } catch (const InputError& e) {
    out.error = e.what();
  }
  return out;
}

class SplitCsv : public test::CliTest {
 protected:
  /// Shares of 1 to 5 ranks against one read: rows, ids, drops and messages
  /// (a failing share's message is prefixed with its process).
  void expect_shares_equal_whole(const std::string& text, const CsvOptions& o = {}) {
    const std::string path = write("t.csv", text).string();
    const Read whole = read_whole(path, o);
    for (int ranks = 1; ranks <= 5; ++ranks) {
      if (whole.error.empty() && static_cast<std::size_t>(ranks) > whole.table.features.rows) break;
      SCOPED_TRACE(std::to_string(ranks) + " ranks");
      const Read split = read_in_shares(path, o, ranks);
      if (!whole.error.empty()) {
        EXPECT_NE(split.error.find(whole.error), std::string::npos) << split.error << "\nvs\n" << whole.error;
        continue;
      }
      ASSERT_EQ(split.error, "");
      EXPECT_EQ(split.table.features.rows, whole.table.features.rows);
      EXPECT_EQ(split.table.features.values, whole.table.features.values);
      EXPECT_EQ(split.table.ids, whole.table.ids);
      EXPECT_EQ(split.table.column_names, whole.table.column_names);
      EXPECT_EQ(split.table.id_name, whole.table.id_name);
      EXPECT_EQ(split.table.dropped_rows, whole.table.dropped_rows);
      EXPECT_EQ(split.table.drop_reasons, whole.table.drop_reasons);
      EXPECT_EQ(split.table.skipped_columns, whole.table.skipped_columns);
    }
  }
};

std::string numbered_rows(int n, const std::string& eol) {
  std::string t = "a,b" + eol;
  for (int i = 0; i < n; ++i) t += std::to_string(i) + "," + std::to_string(i * 7 % 11) + eol;
  return t;
}

TEST_F(SplitCsv, PlainRowsLfCrlfAndLoneCr) {
  for (const char* eol : {"\n", "\r\n", "\r"}) expect_shares_equal_whole(numbered_rows(40, eol));
}

TEST_F(SplitCsv, QuotedFieldsWithLineBreaksAndCrlf) {
  std::string t = "id,\"note, quoted\",x\r\n";
  for (int i = 0; i < 60; ++i)
    t += std::to_string(i) + ",\"line one\r\nline \"\"two\"\"\n\"," + std::to_string(i % 9) + ".5\r\n";
  expect_shares_equal_whole(t);
}

TEST_F(SplitCsv, DroppedRowsKeepFileRowNumbersAndTheFirstReasons) {
  std::string t = "a,b\n";
  for (int i = 0; i < 50; ++i) t += (i % 6 == 5 ? "x," : std::to_string(i) + ",") + std::to_string(i) + "\n";
  CsvOptions o;
  o.drop_invalid = true;
  expect_shares_equal_whole(t, o);  // no id column: ids are the file's data row numbers
}

TEST_F(SplitCsv, TheFirstBadRowInFileOrderIsReportedWithItsLine) {
  std::string t = "a,b\n";
  for (int i = 0; i < 50; ++i) t += std::to_string(i) + "," + (i == 31 || i == 44 ? "oops" : "1") + "\n";
  expect_shares_equal_whole(t);
  expect_shares_equal_whole("a,b\n1,2\n3,\"unterminated\n4,5\n");
  expect_shares_equal_whole("a,b\n");  // no data rows
}

TEST_F(SplitCsv, EmptyLinesAndAFewRows) {
  expect_shares_equal_whole("a,b\n1,2\n\n3,4\n5,6\n", [] {
    CsvOptions o;
    o.drop_invalid = true;
    return o;
  }());
}

TEST_F(SplitCsv, MoreRanksThanRowsIsAnAgreedError) {
  const std::string path = write("t.csv", "a,b\n1,2\n3,4\n").string();
  const Read split = read_in_shares(path, {}, 3);
  EXPECT_NE(split.error.find("3 processes for 2 data rows"), std::string::npos) << split.error;
}

TEST_F(SplitCsv, NpyRowRangesPutTogetherAreTheFile) {
  const Matrix X = test::random_blobs(101, 3, 2, 4);
  const std::string path = (dir_ / "x.npy").string();
  write_npy(path, X);
  for (int ranks = 1; ranks <= 4; ++ranks) {
    std::vector<Matrix> parts(static_cast<std::size_t>(ranks));
    run_thread_ranks(ranks, [&](Communicator& comm) {
      ShareInfo info;
      parts[static_cast<std::size_t>(comm.rank())] = read_npy_share(path, comm, info);
      EXPECT_EQ(info.total_rows, X.rows);
    });
    std::vector<float> all;
    for (const Matrix& m : parts) all.insert(all.end(), m.values.begin(), m.values.end());
    EXPECT_EQ(all, X.values);
  }
}

TEST(SplitProfile, EveryStatisticIsTheOneProcessOne) {
  // Ties, both zeros and a constant stretch: the order statistics and the
  // first-wins minimum are where a careless reduction would differ.
  Matrix X = test::random_blobs(9001, 2, 3, 8);
  for (std::size_t i = 0; i < X.rows; i += 5) X.at(i, 1) = 0.25f;
  X.at(100, 0) = -0.0f;
  X.at(7000, 0) = 0.0f;
  const std::vector<std::vector<std::size_t>> splits = {{9001}, {4500, 4501}, {1, 0, 8999, 1}, {3000, 3000, 3001}};
  for (const auto& sizes : splits) {
    run_thread_ranks(static_cast<int>(sizes.size()), [&](Communicator& comm) {
      const RowSplit split = RowSplit::of(comm, sizes[static_cast<std::size_t>(comm.rank())]);
      Matrix mine(split.rows, X.cols);
      std::copy(X.row(split.offset), X.row(split.offset) + split.rows * X.cols, mine.values.begin());
      for (std::size_t j = 0; j < X.cols; ++j) {
        const FeatureProfile a = profile_feature(X, j), b = profile_feature(mine, j, split);
        EXPECT_TRUE(same_bits(a.mean, b.mean) && same_bits(a.std, b.std) && same_bits(a.skew, b.skew) &&
                    same_bits(a.kurtosis, b.kurtosis) && same_bits(a.min, b.min) && same_bits(a.max, b.max));
        const QQData qa = qq_normal(X, j), qb = qq_normal(mine, j, split);
        EXPECT_EQ(qa.sample, qb.sample);
        EXPECT_TRUE(same_bits(qa.slope, qb.slope) && same_bits(qa.r, qb.r));
        const Histogram ha = histogram(X, j, 30), hb = histogram(mine, j, 30, split);
        EXPECT_EQ(ha.edges, hb.edges);
        EXPECT_EQ(ha.counts, hb.counts);
        const DensityCurve da = kernel_density(X, j, 50, 700), db = kernel_density(mine, j, 50, 700, split);
        EXPECT_EQ(da.y, db.y);
        EXPECT_TRUE(same_bits(da.bandwidth, db.bandwidth));
      }
    });
  }
}

// log1p's first bad value in a whole read's order (column by column), even
// when a later rank holds the bad value of an earlier column.
TEST(SplitTransforms, TheFirstBadValueColumnByColumnOfAllRanks) {
  Matrix X(30, 2);
  for (std::size_t i = 0; i < X.rows; ++i) X.at(i, 0) = X.at(i, 1) = 1.0f;
  X.at(3, 1) = -2.0f;   // rank 0, column 1
  X.at(25, 0) = -5.0f;  // rank 2, column 0: reported first
  std::string whole;
  try {
    Matrix copy = X;
    apply_transforms(copy, {"log1p", "log1p"}, {"a", "b"}, "t.csv");
  } catch (const InputError& e) {
    whole = e.what();
  }
  EXPECT_NE(whole.find("data row 26, column 'a'"), std::string::npos) << whole;
  std::vector<std::string> got(3);
  run_thread_ranks(3, [&](Communicator& comm) {
    const RowSplit split = RowSplit::of(comm, 10);
    Matrix mine(10, 2);
    std::copy(X.row(split.offset), X.row(split.offset + 10), mine.values.begin());
    try {
      apply_transforms(mine, {"log1p", "log1p"}, {"a", "b"}, "t.csv", &split);
    } catch (const InputError& e) {
      got[static_cast<std::size_t>(comm.rank())] = e.what();
    }
  });
  for (const std::string& g : got) EXPECT_EQ(g, whole);
}

TEST(Agree, TheLowestFailingRanksMessageEverywhere) {
  for (const std::vector<int>& failing : std::vector<std::vector<int>>{{}, {2}, {1, 3}, {0, 1, 2, 3}}) {
    std::vector<std::string> got(4);
    run_thread_ranks(4, [&](Communicator& comm) {
      try {
        agree(&comm, [&] {
          if (std::find(failing.begin(), failing.end(), comm.rank()) != failing.end())
            throw InputError("bad share " + std::to_string(failing.size() == 4 ? 0 : comm.rank()));
        });
      } catch (const AgreedError& e) {
        got[static_cast<std::size_t>(comm.rank())] = e.what();
      }
    });
    const std::string expect = failing.empty()         ? ""
                               : failing.size() == 4 ? "bad share 0"
                                                     : "process " + std::to_string(failing[0]) + " of 4: bad share " +
                                                           std::to_string(failing[0]);
    for (const std::string& g : got) EXPECT_EQ(g, expect);
  }
}

TEST(LaunchEnv, OpenMpiPmixSlurmAndNone) {
  const auto env = [](std::map<std::string, std::string> vars) {
    return read_launch_env([vars](const char* name) -> const char* {
      const auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    });
  };
  LaunchEnv e = env({});
  EXPECT_FALSE(e.launched);
  EXPECT_EQ(e.unusable, "");
  e = env({{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}});
  EXPECT_TRUE(e.launched);
  EXPECT_EQ(e.size, 4);
  EXPECT_EQ(e.rank, 2);
  EXPECT_EQ(e.local_rank, 1);
  e = env({{"PMIX_RANK", "3"}, {"SLURM_LOCALID", "1"}});  // srun --mpi=pmix
  EXPECT_TRUE(e.launched);
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.size, 0);  // MPI will say
  EXPECT_EQ(e.local_rank, 1);
  e = env({{"SLURM_STEP_NUM_TASKS", "8"}, {"SLURM_PROCID", "5"}});  // srun without an MPI plugin
  EXPECT_FALSE(e.launched);
  EXPECT_NE(e.unusable.find("srun --mpi=pmix"), std::string::npos);
  e = env({{"SLURM_STEP_NUM_TASKS", "1"}, {"SLURM_PROCID", "0"}});  // one task: a plain process
  EXPECT_FALSE(e.launched);
  EXPECT_EQ(e.unusable, "");
}

TEST(GpuRanks, OneRankPerDeviceRoundRobin) {
  EXPECT_EQ(device_for_local_rank(0, 8), 0);
  EXPECT_EQ(device_for_local_rank(7, 8), 7);
  EXPECT_EQ(device_for_local_rank(9, 8), 1);  // more ranks than GPUs on the node: shared, round robin
  EXPECT_EQ(device_for_local_rank(3, 0), 0);  // no GPU: the CPU backend ignores it
}

// Every rank takes part in the vote whatever its own (a rank that skipped
// the collective would hang the others), and all reach the same answer.
TEST(GpuRanks, NcclOnlyWhenEveryRankWantsAndCanOnAGpuOfItsOwn) {
  std::vector<int> use(3, -1);
  std::vector<std::string> why(3);
  const auto decide = [&](const std::function<NcclVote(int)>& vote_of) {
    run_thread_ranks(3, [&](Communicator& comm) {
      const NcclDecision d = decide_nccl(comm, vote_of(comm.rank()));
      use[static_cast<std::size_t>(comm.rank())] = d.use ? 1 : 0;
      why[static_cast<std::size_t>(comm.rank())] = d.why_not;
    });
  };
  const auto gpu = [](int wanted, int usable, int r) {
    return NcclVote{wanted != 0, usable != 0, "5f3a" + std::to_string(r), "0000:0" + std::to_string(r) + ":00.0"};
  };
  decide([&](int r) { return gpu(1, 1, r); });
  for (int u : use) EXPECT_EQ(u, nccl_built() ? 1 : 0);
  for (const std::string& w : why) EXPECT_EQ(w, "");
  // One rank without a usable GPU or NCCL; one rank where NCCL is not
  // wanted (ARCHETYPE_NCCL=0 on its node only, or --backend cpu): over MPI,
  // silently, on every rank.
  decide([&](int r) { return gpu(1, r != 1, r); });
  for (int u : use) EXPECT_EQ(u, 0);
  decide([&](int r) { return gpu(r != 2, 1, r); });
  for (int u : use) EXPECT_EQ(u, 0);
  // A GPU that does not report its UUID cannot be told apart: no NCCL.
  decide([&](int r) { return r == 1 ? NcclVote{true, true, "", "0000:01:00.0"} : gpu(1, 1, r); });
  for (int u : use) EXPECT_EQ(u, 0);
  for (const std::string& w : why) EXPECT_EQ(w, "");
  // Processes 0 and 2 on one GPU (more processes than GPUs, or the same
  // --device): NCCL would refuse the communicator; over MPI, with a notice.
  decide([&](int r) { return gpu(1, 1, r % 2); });
  for (int u : use) EXPECT_EQ(u, 0);
  for (const std::string& w : why) {
    if (!nccl_built()) continue;
    EXPECT_NE(w.find("processes 0 and 2 share the GPU 0000:00:00.0 on "), std::string::npos) << w;
    EXPECT_NE(w.find("over MPI"), std::string::npos) << w;
  }
}

}  // namespace
}  // namespace archetype
