// The `archetype` command line: maps CLI11 options onto PipelineOptions,
// runs the pipeline, prints, and turns errors into exit codes (0 success,
// 2 bad usage, bad input, an output that cannot be written or a GPU that
// failed, 1 internal failure; 130/143/129 after SIGINT/SIGTERM/SIGHUP,
// see interrupt.hpp).
#include <omp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <vector>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "archetype/communicator.hpp"
#include "archetype/cuda.hpp"
#include "archetype/error.hpp"
#include "archetype/generator.hpp"
#include "dist/gpu_ranks.hpp"
#include "dist/mpi_world.hpp"
#include "io/interrupt.hpp"
#include "io/memory_need.hpp"
#include "io/printable.hpp"
#include "cli/pipeline.hpp"
#include "study/input_table.hpp"
#include "study/summary_json.hpp"

namespace {

using archetype::Command;
using archetype::PipelineOptions;

/// The most --threads a run may ask for: far above any useful count, far
/// below what makes thread creation fail or crash (each thread has a stack).
constexpr int kMaxThreads = 1024;

/// --threads N above kMaxThreads is bad usage (exit 2), refused before any
/// output folder is touched.
void check_threads(int threads) {
  if (threads > kMaxThreads)
    throw archetype::InputError("--threads " + std::to_string(threads) + ": at most " + std::to_string(kMaxThreads) +
                                " (this machine has " + std::to_string(omp_get_num_procs()) +
                                " hardware threads; 0 uses them all)");
}

struct CliState {
  PipelineOptions opts;
  std::string delimiter;  ///< --delimiter as given
  std::string seed_text;  ///< --seed as given (parsed strictly: no sign, no exponent, no wrap)
  std::string k_text;  ///< --k as given; empty: not given
  bool quiet = false;
  bool json = false;
};

/// The input table (every command).  List options are split at commas and
/// trimmed ("a, b" is "a" and "b").
void add_input_options(CLI::App* app, CliState& st, bool choose_columns) {
  PipelineOptions& o = st.opts;
  const std::function<std::string(std::string)> trimmed = [](std::string s) {
    const auto first = s.find_first_not_of(" \t"), last = s.find_last_not_of(" \t");
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
  };
  if (choose_columns) {
    app->add_option("--columns", o.csv_options.columns,
                    "Feature columns, names or 0-based indices, comma-separated (default: the reference dataset's "
                    "two metrics, or every numeric column but the id)")
        ->delimiter(',')
        ->transform(trimmed);
    app->add_option("--feature-names", o.feature_names, "Display names of the features, comma-separated")
        ->delimiter(',')
        ->transform(trimmed);
  }
  app->add_option("--id-column", o.csv_options.id_column,
                  "Id column name or index (default: a column named id/user_id/creator_id, else a text column "
                  "with distinct values)");
  app->add_option("--delimiter", st.delimiter, "Field delimiter (default: detected from the header)")
      ->check(CLI::Validator(
          [](std::string& v) {
            const bool known = v == "," || v == ";" || v == "tab" || v == "comma" || v == "semicolon" || v == "\t";
            return known ? std::string() : "expected comma, semicolon or tab (or , ;), not '" + v + "'";
          },
          "comma|semicolon|tab"));
  app->add_flag("--drop-invalid", o.csv_options.drop_invalid, "Skip invalid rows instead of failing (reports how many)");
}

/// Where and how the engine runs.
void add_compute_options(CLI::App* app, CliState& st) {
  PipelineOptions& o = st.opts;
  app->add_option("--backend", o.backend, "Compute backend")->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app->add_option("--device", o.device, "CUDA device index")->check(CLI::NonNegativeNumber)->capture_default_str();
}

/// K-Means, the silhouette and the personas (commands that fit).
void add_model_options(CLI::App* app, CliState& st) {
  PipelineOptions& o = st.opts;
  app->add_option("--seed", st.seed_text,
                  "Base random seed, an integer in [0, 2^64 - 1] (default 42); restart r uses seed + r (mod 2^64)");
  app->add_option("--n-init", o.kmeans.n_init, "K-Means runs per k (best inertia kept)")->check(CLI::Range(1, 100000))->capture_default_str();
  app->add_option("--max-iter", o.kmeans.max_iter, "Lloyd iterations per run at most")->check(CLI::Range(1, 100000000))->capture_default_str();
  app->add_option("--tol", o.kmeans.tol, "Convergence tolerance, relative to the mean feature variance")->check(CLI::NonNegativeNumber)->capture_default_str();
  app->add_option("--silhouette-sample", o.silhouette_sample,
                  "Evaluate the silhouette on a seeded sample of N rows (0 = the --silhouette rule)")
      ->capture_default_str();
  app->add_option("--silhouette", o.silhouette_mode,
                  "auto: exact up to --silhouette-threshold rows, a sample of that many above; exact: always exact")
      ->check(CLI::IsMember({"auto", "exact"}))
      ->capture_default_str();
  app->add_option("--silhouette-threshold", o.silhouette_threshold, "Rows above which --silhouette auto samples (for 2 features; x sqrt(6 / (features + 4)) for more, the same work)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

/// The output folder and the terminal (every command).
void add_output_options(CLI::App* app, CliState& st, bool figures) {
  PipelineOptions& o = st.opts;
  app->add_option("--threads", o.threads, "CPU threads (0 = all cores, at most 1024)")->check(CLI::NonNegativeNumber);
  app->add_option("--out", o.out_dir, "Output directory")->capture_default_str();
  app->add_flag("--force", o.force,
                "Overwrite Archetype's own files in an existing --out (other files there are never touched)");
  app->add_flag("--quiet", st.quiet, "No notices on stderr");
  app->add_flag("--no-figures{false}", o.figures,
                figures ? "Skip the figures (matplotlib) and their embedding in the reports"
                        : "Accepted for scripts; this command draws no figures");
  app->add_flag("--json", st.json, "Print summary.json on stdout instead of tables");
}

/// Commands that write labels.csv.
void add_label_options(CLI::App* app, CliState& st) {
  app->add_flag("--keep-columns", st.opts.keep_columns, "labels.csv also carries the input's feature columns");
}

void add_sweep_options(CLI::App* app, CliState& st) {
  app->add_option("--k-min", st.opts.k_min, "First k of the sweep")->check(CLI::Range(1, 100000))->capture_default_str();
  app->add_option("--k-max", st.opts.k_max, "Last k of the sweep")->check(CLI::Range(1, 100000))->capture_default_str();
}

// `generate`: synthetic creators from data/generator.json (not a pipeline
// command; self-contained here).
struct GenerateCli {
  archetype::GenerateOptions opts;
  std::string params;
  bool quiet = false;
  bool force = false;
};

CLI::App* add_generate_command(CLI::App& app, GenerateCli& g) {
  CLI::App* cmd = app.add_subcommand("generate", "Write synthetic creators that look like the reference dataset (CSV or .npy)");
  cmd->add_option("--rows", g.opts.rows, "Number of creators")->required();
  cmd->add_option("--seed", g.opts.seed, "Random seed (same seed, same bytes, any thread count)")->required();
  cmd->add_option("--out", g.opts.out, "Output file; a .npy name writes a float32 N x D matrix instead of CSV")->required();
  cmd->add_option("--features", g.opts.features, "Metrics per creator; above 2 adds correlated metric_3, metric_4, ...")
      ->check(CLI::Range(std::size_t{2}, archetype::kGeneratorMaxFeatures))
      ->capture_default_str();
  cmd->add_option("--params", g.params, "Mixture parameters (default: data/generator.json)");
  cmd->add_option("--threads", g.opts.threads, "CPU threads (0 = all cores, at most 1024); the output does not depend on it")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--quiet", g.quiet, "No summary line");
  cmd->add_flag("--force", g.force, "Replace FILE if it exists (without it an existing FILE is refused)");
  return cmd;
}

/// Runs a command body and maps what escapes it onto the exit codes:
/// InputError (bad usage, input or output) -> 2 with its message,
/// DeviceError (a GPU failure that --backend auto did not absorb) -> 2,
/// out of memory -> 2 with the workload (io/memory_need.hpp), anything
/// else -> 1.  By then the outputs are discarded (OutputFiles' destructor).
int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    std::cerr << "archetype: error: " << archetype::memory::out_of_memory_message() << "; no output was written\n";
    return 2;
  } catch (const archetype::InputError& e) {
    std::cerr << "archetype: error: " << archetype::terminal_safe(e.what()) << "\n";
    return 2;
  } catch (const archetype::DeviceError& e) {
    std::cerr << "archetype: error: GPU failed: " << e.what()
              << "; no output was written (--backend auto reruns on the CPU)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "archetype: internal error: " << e.what() << "\n";
    return 1;
  }
}

int run_generate_command(GenerateCli& g) {
  return guarded([&] {
    check_threads(g.opts.threads);
    const std::string params = g.params.empty() ? archetype::data_dir() + "/generator.json" : g.params;
    // The same rule as --out of the other commands: a file that is there
    // already (perhaps hours of someone's data) is replaced only on request.
    std::error_code ec;
    if (!g.force && std::filesystem::exists(std::filesystem::symlink_status(g.opts.out, ec)))
      throw archetype::InputError(g.opts.out + ": the file exists; pass --force to replace it");
    const archetype::GenerateResult r = archetype::generate_creators(archetype::load_generator_params(params), g.opts);
    if (!g.quiet) {
      const double mb = static_cast<double>(r.bytes) / 1e6;
      std::printf("Generated %zu creators x %zu features to %s: %.1f MB in %.2f s (%.0f MB/s)\n", r.rows,
                  g.opts.features, r.path.c_str(), mb, r.seconds, r.seconds > 0 ? mb / r.seconds : 0.0);
    }
    return 0;
  });
}

void write_stderr(const char* text) {
  for (std::size_t left = std::strlen(text); left > 0;) {
    const ssize_t n = ::write(STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<std::size_t>(n);
  }
}

/// An exception that cannot be caught (one thrown inside an OpenMP region,
/// or by a destructor while another unwinds) ends in std::terminate: clean
/// up as an interrupt does and exit as guarded() would (2 for out of memory
/// or bad input, 1 otherwise), instead of abort() (exit 134) with the
/// staging folder left behind.  Out of memory allocates nothing here.
[[noreturn]] void on_terminate() {
  const std::exception_ptr e = std::current_exception();  // keeps the exception alive
  int code = 1;
  const char* what = "an exception that could not be caught";
  try {
    if (e) std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    code = 2;
    what = archetype::memory::out_of_memory_message();
  } catch (const archetype::InputError& err) {
    code = 2;
    what = err.what();
  } catch (const std::exception& err) {
    what = err.what();
  } catch (...) {
  }
  archetype::interrupt::clean_up_now();
  write_stderr(code == 2 ? "archetype: error: " : "archetype: internal error: ");
  write_stderr(what);
  write_stderr("; unfinished outputs removed\n");
  ::_exit(code);
}

/// --seed: decimal digits only, at most 2^64 - 1 (CLI11 would wrap "-1" and
/// saturate 2^64); anything else is bad usage.
std::uint64_t parse_seed(const std::string& text) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ptr != end || ec != std::errc() || text[0] == '-' || text[0] == '+')
    throw archetype::InputError("--seed " + text + ": expected an integer in [0, 18446744073709551615]");
  return v;
}

/// guarded() for one rank of a job split across processes (mpirun).  An
/// InputError there is every rank's (agreed, or computed alike from the
/// same results): rank 0 prints it and every rank exits 2 normally.  Any
/// other failure is this rank's alone, while the others wait for it in a
/// collective: it is printed with the rank and ends the whole job
/// (MPI_Abort; rank 0's staging folder goes with its SIGTERM), with exit
/// status 2 for out of memory and a GPU failure, as guarded() gives.
int guarded_rank(archetype::Communicator& world, const std::function<int()>& body) {
  const std::string who = "process " + std::to_string(world.rank()) + " of " + std::to_string(world.size()) + " (" +
                          world.host() + ")";
  try {
    return body();
  } catch (const archetype::InputError& e) {
    // Every rank has it: rank 0 says it; all wait until rank 0 has said it
    // and removed its staging folder, then exit 2 (mpirun ends the job at
    // the first non-zero exit, so no rank may still be busy then).
    if (world.rank() == 0) std::cerr << "archetype: error: " << archetype::terminal_safe(e.what()) << "\n" << std::flush;
    archetype::interrupt::quiet();
    if (!world.barrier_for(30.0)) world.abort(2);  // not every rank's after all: end the job anyway
    return 2;
  } catch (const std::bad_alloc&) {
    // This rank's memory (its share's workload, io/memory_need.hpp): exit 2
    // for the whole job, as one process would.
    std::cerr << "archetype: error: " << who << ": " << archetype::memory::out_of_memory_message()
              << "; no output was written\n" << std::flush;
    world.abort(2);
  } catch (const archetype::DeviceError& e) {
    std::cerr << "archetype: error: " << who << ": GPU failed: " << e.what() << "; no output was written\n"
              << std::flush;
    world.abort(2);
  } catch (const std::exception& e) {
    std::cerr << "archetype: internal error: " << who << ": " << e.what() << "\n" << std::flush;
    world.abort(1);
  }
  return 1;  // not reached: abort() ends the process
}

/// Levenshtein distance, for "did you mean".
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

/// The closest of `names` to `word`, if close enough to be a typo.
std::string closest(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& n : names) {
    const std::size_t d = edit_distance(word, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  return best;
}

/// After a parse error: "did you mean" for a misspelled command or option.
void suggest(CLI::App& app, int argc, char** argv) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  CLI::App* command = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!command && arg.rfind("-", 0) != 0) {
      if (std::find(commands.begin(), commands.end(), arg) != commands.end()) {
        command = app.get_subcommand(arg);
        continue;
      }
      if (const std::string c = closest(arg, commands); !c.empty())
        std::cerr << "Did you mean the command '" << c << "'?\n";
      return;
    }
    if (command && arg.rfind("--", 0) == 0) {
      const std::string name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
      std::vector<std::string> options;
      for (const CLI::Option* opt : command->get_options())
        for (const std::string& l : opt->get_lnames()) options.push_back(l);
      if (std::find(options.begin(), options.end(), name) != options.end()) continue;
      if (const std::string c = closest(name, options); !c.empty()) std::cerr << "Did you mean '--" << c << "'?\n";
      return;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  archetype::interrupt::install();  // before any other thread exists
  std::set_terminate(on_terminate);
  CliState st;
  CLI::App app{"Archetype: creator archetypes (personas) by K-Means, on CPU or GPU", "archetype"};
  app.require_subcommand(1);
  app.set_version_flag("--version", ARCHETYPE_VERSION);

  CLI::App* run = app.add_subcommand("run", "The whole workflow: profile, scale, sweep k, fit, personas, report");
  CLI::App* profile = app.add_subcommand("profile", "Profile the features (mean, std, skew, kurtosis, QQ data)");
  CLI::App* sweep = app.add_subcommand("sweep", "Elbow and silhouette sweep over a range of k");
  CLI::App* fit = app.add_subcommand("fit", "Fit one K-Means model and name its personas");
  CLI::App* predict = app.add_subcommand("predict", "Label new creators with a saved model.json");
  GenerateCli gen;
  CLI::App* generate = add_generate_command(app, gen);
  for (CLI::App* sub : {run, profile, sweep, fit}) {
    sub->add_option("csv", st.opts.csv, "Input CSV or .npy (default: the embedded reference dataset)");
    add_input_options(sub, st, true);
  }
  predict->add_option("csv", st.opts.csv, "Input CSV with the model's feature columns")->required();
  predict->add_option("--model", st.opts.model_path, "model.json written by fit or run")->required();
  add_input_options(predict, st, false);
  for (CLI::App* sub : {run, profile, sweep, fit})
    sub->add_option("--transform", st.opts.transform,
                    "log1p: cluster log(1 + x) of every feature (heavy tails); COLUMN=log1p,... for some");
  for (CLI::App* sub : {run, sweep, fit, predict})
    sub->add_option("--weight-column", st.opts.csv_options.weight_column,
                    "sample_weight column, name or 0-based index: a row of weight w counts as w rows in the scaler, "
                    "the fits, WCSS and the scores (not clustered; every weight finite and >= 0; predict: a weighted "
                    "inertia)");
  for (CLI::App* sub : {run, sweep, fit, predict}) add_compute_options(sub, st);
  for (CLI::App* sub : {run, sweep, fit}) add_model_options(sub, st);
  for (CLI::App* sub : {run, fit})
    sub->add_option("--personas", st.opts.personas_path,
                    "Persona catalog JSON for these features (default: data/personas.json, used only when the table "
                    "has its metrics)");
  add_sweep_options(run, st);
  add_sweep_options(sweep, st);
  run->add_option("--k", st.k_text,
                  "Final k, or 'auto' (highest silhouette in the sweep). Default: auto on your own table, 5 (the "
                  "reference study's k) on the embedded dataset");
  fit->add_option("--k", st.k_text, "Number of clusters (default 5)");
  for (CLI::App* sub : {run, fit, predict}) add_label_options(sub, st);
  add_output_options(run, st, true);
  add_output_options(fit, st, true);
  add_output_options(profile, st, false);
  add_output_options(sweep, st, false);
  add_output_options(predict, st, false);
  run->footer("Examples:\n  archetype run                               the reference study\n"
              "  archetype run creators.csv --out results    your table: k chosen by the silhouette\n"
              "  archetype run creators.csv --k 6 --columns followers,revenue_usd");
  profile->footer("Examples:\n  archetype profile creators.csv\n  archetype profile data.npy --out profile");
  sweep->footer("Examples:\n  archetype sweep creators.csv --k-min 2 --k-max 15\n"
                "  archetype sweep creators.csv --n-init 3 --silhouette-sample 20000");
  fit->footer("Examples:\n  archetype fit creators.csv --k 6 --out results\n"
              "  archetype fit data.npy --k 100 --n-init 1 --no-figures");
  predict->footer("Examples:\n  archetype predict new_creators.csv --model results/model.json --out labelled");
  generate->footer("Examples:\n  archetype generate --rows 1000000 --seed 7 --out creators.csv\n"
                   "  archetype generate --rows 10000000 --seed 7 --features 8 --out creators.npy");

  // Under mpirun with several processes only rank 0 speaks (usage, help,
  // notices, tables): the others would repeat it.
  const archetype::LaunchEnv launch = archetype::read_launch_env([](const char* name) { return std::getenv(name); });
  const bool silent_rank = launch.launched && launch.rank != 0;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream sink;
    const int code = silent_rank ? app.exit(e, sink, sink) : app.exit(e);
    if (code != 0 && !silent_rank) suggest(app, argc, argv);
    return code == 0 ? 0 : 2;
  }
  if (!st.delimiter.empty())
    st.opts.csv_options.delimiter = st.delimiter == "tab" || st.delimiter == "\t"         ? '\t'
                                    : st.delimiter == "semicolon" || st.delimiter == ";" ? ';'
                                                                                         : ',';
  if (*generate) return silent_rank ? 0 : run_generate_command(gen);  // one file: rank 0 writes it

  // Started by mpirun with several processes: join the job (MPI is not
  // initialised otherwise, so one process runs exactly as before).
  std::unique_ptr<archetype::Communicator> world;
  try {
    world = archetype::join_mpi_job(argc, argv);
  } catch (const std::exception& e) {
    if (!silent_rank) std::cerr << "archetype: error: " << archetype::terminal_safe(e.what()) << "\n";
    return 2;
  }
  const bool speaks = !world || world->rank() == 0;
  if (world) {
    // One rank per GPU: the node-local rank picks the device (unless
    // --device says), and with NCCL built, every rank's GPU usable and no
    // GPU shared by two ranks, the passes' integer sums go over NCCL
    // (ARCHETYPE_NCCL=0 on any rank: over MPI).
    // (`profile` runs no pass on a GPU: no device, no NCCL.)
    CLI::App* const computes = *run ? run : *sweep ? sweep : *fit ? fit : *predict ? predict : nullptr;
    if (computes && computes->count("--device") == 0)
      st.opts.device = archetype::device_for_local_rank(launch.local_rank, archetype::cuda_device_count());
    archetype::NcclVote vote;
    const char* env_nccl = std::getenv("ARCHETYPE_NCCL");
    vote.wanted = computes && st.opts.backend != "cpu" && !(env_nccl && std::string(env_nccl) == "0");
    if (vote.wanted && archetype::nccl_built()) {
      const archetype::CudaStatus gpu = archetype::cuda_probe(st.opts.device);
      vote.usable = gpu.usable && archetype::nccl_loadable();
      vote.device_id = gpu.uuid;
      vote.device_place = gpu.pci_bus_id;
    }
    const archetype::NcclDecision nccl = archetype::decide_nccl(*world, vote);  // a collective
    if (!nccl.why_not.empty() && world->rank() == 0 && !st.quiet)
      std::cerr << "archetype: " << archetype::terminal_safe(nccl.why_not) << "\n";
    if (nccl.use) {
      try {
        world = archetype::make_nccl_communicator(world, st.opts.device);
      } catch (const std::exception& e) {
        // NCCL failed to start on this rank while the others may wait in
        // its start-up: end the whole job (MPI_Abort) with this rank's cause.
        std::cerr << "archetype: error: process " << launch.rank << ": NCCL: " << archetype::terminal_safe(e.what())
                  << "\n" << std::flush;
        world->abort(2);
      }
    }
  }
  // mpirun and rank 0 report the job's end; rank 0 removes its staging
  // folder before the others leave (interrupt.hpp).
  if (!speaks) archetype::interrupt::quiet(500);

  Command cmd = Command::Run;
  if (*profile) cmd = Command::Profile;
  else if (*sweep) cmd = Command::Sweep;
  else if (*fit) cmd = Command::Fit;
  else if (*predict) cmd = Command::Predict;

  auto notice = [&](const std::string& msg) {
    if (!st.quiet && speaks) std::cerr << "archetype: " << archetype::terminal_safe(msg) << "\n";
  };
  const auto run_command = [&] {
    if (st.k_text.empty()) {
      // No --k: the study's k = 5 on the reference dataset (its stated
      // choice); on a user's own table `run` lets the sweep choose; `fit`
      // (no sweep) keeps the documented default.
      if (cmd == Command::Run && !st.opts.csv.empty()) {
        st.k_text = "auto";
        st.opts.k_source = "auto";
      } else {
        st.k_text = "5";
        st.opts.k_source = cmd == Command::Run ? "reference" : "default";
      }
    }
    if (st.k_text == "auto") {
      if (cmd != Command::Run) throw archetype::InputError("--k auto needs the sweep: use it with `archetype run`");
      st.opts.k_auto = true;
    } else {
      std::size_t used = 0;
      int k = 0;
      try {
        k = std::stoi(st.k_text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != st.k_text.size() || k < 1) throw archetype::InputError("--k must be a positive integer or 'auto', not '" + st.k_text + "'");
      st.opts.k = k;
    }
    if (!st.seed_text.empty()) st.opts.kmeans.seed = parse_seed(st.seed_text);
    check_threads(st.opts.threads);
    if (st.opts.threads > 0) omp_set_num_threads(st.opts.threads);
    st.opts.progress = !st.quiet && !st.json && ::isatty(2) && speaks;
    st.opts.communicator = world.get();
    // The tables are printed as soon as they are complete, before the
    // figures are drawn.
    if (!st.json)
      st.opts.tables_ready = [speaks](const std::string& tables) {
        if (speaks) std::cout << archetype::terminal_safe(tables) << std::flush;
      };
    const archetype::PipelineOutcome out = archetype::run_pipeline(cmd, st.opts, notice);
    if (!speaks) return 0;
    if (st.json) {
      std::cout << archetype::summary_json(out.result).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    } else {
      std::cout << archetype::terminal_safe(out.table);
      std::cout << "\nWrote:";
      for (const std::string& f : out.files) std::cout << " " << archetype::terminal_safe(f);
      std::cout << "\n";
    }
    return 0;
  };
  return world ? guarded_rank(*world, run_command) : guarded(run_command);
}
