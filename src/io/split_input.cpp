#include "io/split_input.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <vector>

#include "archetype/error.hpp"
#include "archetype/npy.hpp"
#include "io/csv_chunks.hpp"
#include "io/csv_mapped_file.hpp"
#include "io/csv_parallel.hpp"

namespace archetype {
namespace {

/// The first line start at or after `at` (a line start follows LF, or a CR
/// not followed by LF: a CRLF is never split); text.size() if none.
std::size_t line_start_at_or_after(std::string_view text, std::size_t at) {
  if (at == 0) return 0;
  for (std::size_t p = at; p < text.size(); ++p) {
    const char before = text[p - 1];
    if (before == '\n' || (before == '\r' && text[p] != '\n')) return p;
  }
  return text.size();
}

/// Strings gathered from every rank, rank after rank.
std::vector<std::string> allgather_strings(Communicator& comm, const std::vector<std::string>& mine) {
  std::vector<char> packed;
  for (const std::string& s : mine) {
    packed.insert(packed.end(), s.begin(), s.end());
    packed.push_back('\0');
  }
  const std::vector<char> all = allgather_vector(comm, packed);
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i] == '\0') {
      out.emplace_back(all.data() + start, i - start);
      start = i + 1;
    }
  return out;
}

/// "N processes for M rows": more ranks than rows cannot be split.
void check_rank_count(Communicator& comm, std::size_t rows, const std::string& path) {
  if (rows < static_cast<std::size_t>(comm.size()))
    throw AgreedError(path + ": " + std::to_string(comm.size()) + " processes for " + std::to_string(rows) +
                      " data rows: every process needs a row (start at most " + std::to_string(rows) + ")");
}

/// Each process reads its own byte range of the file, so the input must be
/// a regular file: a stream (`-` for stdin, which mpirun gives rank 0 only;
/// a pipe or FIFO, which the processes would share byte by byte) cannot be
/// split.  The same answer on every rank (the same path).
void check_splittable(Communicator& comm, const std::string& path) {
  agree(&comm, [&] {
    struct stat st {};
    const bool stream = path == "-" || (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode));
    if (!stream) return;  // a file, or what the reader itself reports (missing, a directory)
    throw InputError((path == "-" ? std::string("stdin") : path) + ": a job split across " +
                     std::to_string(comm.size()) +
                     " processes reads a regular file (each process reads its own share); save the stream to a "
                     "file, or run one process");
  });
}

}  // namespace

Table read_csv_share(const std::string& path, const CsvOptions& options, Communicator& comm, ShareInfo& info) {
  const std::size_t N = static_cast<std::size_t>(comm.size()), me = static_cast<std::size_t>(comm.rank());
  std::unique_ptr<MappedFile> file;
  std::unique_ptr<csv_detail::CsvSplitView> view;
  check_splittable(comm, path);
  // The header and the columns: the same bytes on every rank, so the same
  // result (or the same error).
  agree(&comm, [&] {
    file = std::make_unique<MappedFile>(path);
    view = std::make_unique<csv_detail::CsvSplitView>(file->text(), path, options);
  });
  const std::string_view data = view->data();
  std::vector<std::size_t> nominal(N + 1);
  for (std::size_t r = 0; r <= N; ++r) nominal[r] = static_cast<std::size_t>(
      static_cast<unsigned __int128>(data.size()) * r / N);
  const std::string_view mine_nominal = data.substr(nominal[me], nominal[me + 1] - nominal[me]);
  const bool quoted = allreduce_or(comm, std::memchr(mine_nominal.data(), '"', mine_nominal.size()) != nullptr);
  std::size_t begin = 0, end = data.size();
  if (quoted) {
    std::vector<std::uint64_t> starts(N + 1, data.size());
    starts[0] = 0;
    if (me == 0) {
      const std::vector<std::size_t> offsets(nominal.begin() + 1, nominal.end() - 1);
      const std::vector<std::size_t> found = view->record_starts(offsets);
      for (std::size_t r = 1; r < N; ++r) starts[r] = found[r - 1];
    }
    comm.broadcast(starts.data(), starts.size() * sizeof(std::uint64_t), 0);
    begin = static_cast<std::size_t>(starts[me]);
    end = static_cast<std::size_t>(starts[me + 1]);
  } else {
    begin = line_start_at_or_after(data, nominal[me]);
    end = me + 1 == N ? data.size() : line_start_at_or_after(data, nominal[me + 1]);
  }
  end = std::max(begin, end);
  const std::vector<std::uint64_t> lines =
      allgather_value<std::uint64_t>(comm, scan_text(data.substr(begin, end - begin)).line_breaks);
  std::size_t first_line = view->first_data_line();
  for (std::size_t r = 0; r < me; ++r) first_line += static_cast<std::size_t>(lines[r]);

  csv_detail::CsvSection section;
  agree(&comm, [&] {
    section = view->parse(begin, end, first_line);
    file->check_unchanged();  // a file cut short while read: say so, rather than what the parse tripped on
    if (!section.error.empty()) throw InputError(section.error);
  });
  Table& t = section.table;

  // The whole file's counts, in row order.
  struct Counts {
    std::uint64_t seen, kept, dropped;
  };
  const std::vector<Counts> counts =
      allgather_value<Counts>(comm, Counts{section.rows_seen, t.features.rows, t.dropped_rows});
  std::size_t seen_before = 0, data_rows = 0, dropped = 0;
  info = ShareInfo{};
  for (std::size_t r = 0; r < N; ++r) {
    if (r < me) {
      seen_before += static_cast<std::size_t>(counts[r].seen);
      info.row_offset += static_cast<std::size_t>(counts[r].kept);
    }
    data_rows += static_cast<std::size_t>(counts[r].seen);
    info.total_rows += static_cast<std::size_t>(counts[r].kept);
    dropped += static_cast<std::size_t>(counts[r].dropped);
  }
  if (data_rows == 0) throw AgreedError(csv_detail::no_rows_message(path, view->first_data_line()));
  std::vector<std::string> reasons = allgather_strings(comm, t.drop_reasons);
  if (reasons.size() > 5) reasons.resize(5);  // the first five of the file, as read_csv keeps
  if (info.total_rows == 0) throw AgreedError(csv_detail::all_dropped_message(path, data_rows, reasons.front()));
  check_rank_count(comm, info.total_rows, path);
  t.dropped_rows = dropped;
  t.drop_reasons = reasons;
  // Without an id column the ids are data row numbers: this share's count
  // from its own first row, moved to the file's.
  if (t.id_name.empty() && seen_before > 0) {
    char digits[24];
    for (std::string& id : t.ids) {
      std::size_t row = 0;
      std::from_chars(id.data(), id.data() + id.size(), row);
      const auto r = std::to_chars(digits, digits + sizeof digits, row + seen_before);
      id.assign(digits, r.ptr);
    }
  }
  return std::move(t);
}

Matrix read_npy_share(const std::string& path, Communicator& comm, ShareInfo& info) {
  check_splittable(comm, path);
  NpyShape shape;
  agree(&comm, [&] { shape = read_npy_shape(path); });
  const std::size_t N = static_cast<std::size_t>(comm.size()), me = static_cast<std::size_t>(comm.rank());
  if (shape.rows == 0)  // the message read_npy_table gives for a file without rows
    throw AgreedError(path + ": header field 'shape': expected at least one row, found (0, " +
                      std::to_string(shape.cols) + ")");
  check_rank_count(comm, shape.rows, path);
  const std::size_t begin = shape.rows * me / N, end = shape.rows * (me + 1) / N;
  Matrix m;
  agree(&comm, [&] { m = read_npy_rows(path, begin, end); });
  info.row_offset = begin;
  info.total_rows = shape.rows;
  return m;
}

}  // namespace archetype
