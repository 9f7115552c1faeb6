// The workflow behind every CLI command: load and validate the CSV, profile,
// scale, sweep k, fit, name personas, and stage the output files.  The CLI
// (main.cpp) only maps options onto PipelineOptions and prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "archetype/communicator.hpp"
#include "archetype/csv.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/notice.hpp"
#include "archetype/study_result.hpp"

namespace archetype {

enum class Command { Run, Profile, Sweep, Fit, Predict };

struct PipelineOptions {
  std::string csv;                         ///< input; empty = the embedded reference dataset
  CsvOptions csv_options;                  ///< columns, id column, drop_invalid
  std::vector<std::string> feature_names;  ///< display names; empty = defaults
  std::string backend = "auto";            ///< auto | cpu | cuda
  int threads = 0;                         ///< 0 = OpenMP default
  int device = 0;                          ///< CUDA device index
  KMeansParams kmeans;                     ///< seed, n_init, max_iter, tol (n_clusters from k)
  int k_min = 2, k_max = 10;               ///< sweep range
  int k = 5;                               ///< final model's k (run, fit)
  bool k_auto = false;                     ///< run: take k from the sweep (silhouette maximum)
  /// Where k came from, for the terminal and the report: "given" (--k N),
  /// "auto", "reference" (the reference study's k = 5, run on the embedded
  /// dataset without --k) or "default" (fit without --k).
  std::string k_source = "given";
  /// Called with the terminal tables as soon as they are complete (before
  /// the figures are drawn); when empty they come back in PipelineOutcome.
  std::function<void(const std::string&)> tables_ready;
  std::size_t silhouette_sample = 0;       ///< > 0: sample this many rows (scikit-learn's sample_size)
  std::string silhouette_mode = "auto";    ///< auto | exact
  std::size_t silhouette_threshold = 50000;  ///< auto: exact up to this many rows, a sample of this size above
  std::string out_dir = "out";
  bool force = false;                      ///< overwrite Archetype's own files in an existing out_dir
  bool progress = false;                   ///< progress line on stderr (the CLI sets it for a terminal)
  bool figures = true;                     ///< run scripts/figures.py (matplotlib) and embed the figures
  std::string personas_path;               ///< empty = data/personas.json
  std::string model_path;                  ///< predict: model.json
  bool keep_columns = false;               ///< labels.csv also carries the input's feature columns
  std::string transform;                   ///< --transform: "", "log1p" or "COLUMN=log1p,..." (study/transforms.hpp)
  /// Started by mpirun with more than one process: this rank's job
  /// (communicator.hpp); nullptr for one process.  Every rank runs the
  /// command on its share of the rows; rank 0 writes the outputs.
  Communicator* communicator = nullptr;
  /// The engine's cancellation hook (EngineOptions::poll); the Python
  /// package sets it, the CLI does not (its signal watcher exits).
  std::function<void()> poll;
  bool return_labels = false;              ///< fill PipelineOutcome::labels and ids (the Python package)
};

struct PipelineOutcome {
  StudyResult result;               ///< everything summary.json holds, typed
  std::string table;                ///< human-readable summary for stdout
  std::vector<std::string> files;   ///< files written
  /// run, fit with return_labels: the final model's label of every kept row
  /// (labels.npy) and the rows' ids (labels.csv's first column).
  std::vector<std::int32_t> labels;
  std::vector<std::string> ids;
};


/// Runs one command end to end.  Throws InputError for bad input, and
/// DeviceError when the GPU fails unless the backend is "auto": then the
/// whole command reruns on the CPU after one notice.
PipelineOutcome run_pipeline(Command command, const PipelineOptions& options, const NoticeFn& notice);


}  // namespace archetype
