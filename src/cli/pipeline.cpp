#include "cli/pipeline.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

#include "archetype/clusterer.hpp"
#include "archetype/error.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/personas.hpp"
#include "archetype/scaler.hpp"
#include "archetype/sweep.hpp"
#include "cli/command_support.hpp"
#include "cli/figures_runner.hpp"
#include "cli/job_outputs.hpp"
#include "cli/k_checks.hpp"
#include "cli/predict_command.hpp"
#include "cli/progress.hpp"
#include "io/memory_need.hpp"
#include "io/output_files.hpp"
#include "study/cluster_quantiles.hpp"
#include "study/feature_stats.hpp"
#include "study/input_table.hpp"
#include "study/model_file.hpp"
#include "study/model_summary.hpp"
#include "study/report.hpp"
#include "study/study_files.hpp"
#include "study/summary_json.hpp"
#include "study/transforms.hpp"
#include "study/text_table.hpp"

namespace archetype {
namespace {

const char* command_name(Command cmd) {
  switch (cmd) {
    case Command::Run: return "run";
    case Command::Profile: return "profile";
    case Command::Sweep: return "sweep";
    case Command::Fit: return "fit";
    case Command::Predict: return "predict";
  }
  return "?";
}

/// How k was chosen, in words (summary.json parameters.k_rule, the
/// terminal, the report).
std::string k_rule(const PipelineOptions& o, const std::optional<SweepResult>& sweep, int k) {
  if (o.k_auto) {
    std::string rule = "chosen automatically, the highest silhouette in the sweep";
    if (sweep)
      for (const SweepPoint& p : sweep->points)
        if (p.k == k && p.silhouette.defined) rule += ", " + format_fixed(p.silhouette.score, 4);
    return rule;
  }
  if (o.k_source == "reference") return "the reference study's choice (--k N or --k auto to change it)";
  if (o.k_source == "default") return "the default of --k (`archetype run` chooses k from a sweep)";
  return "given with --k";
}

StudyParameters study_parameters(const PipelineOptions& o, Command cmd, int k, const std::string& rule) {
  StudyParameters p;
  p.seed = o.kmeans.seed;
  p.n_init = o.kmeans.n_init;
  p.max_iter = o.kmeans.max_iter;
  p.tol = o.kmeans.tol;
  p.silhouette = o.silhouette_mode;
  p.silhouette_sample = o.silhouette_sample;
  p.silhouette_threshold = o.silhouette_threshold;
  if (cmd == Command::Run || cmd == Command::Sweep) p.k_range = std::make_pair(o.k_min, o.k_max);
  if (cmd == Command::Run || cmd == Command::Fit) {
    p.k = k;
    p.k_rule = rule;
  }
  return p;
}

PersonaCatalog load_catalog(const PipelineOptions& o) {
  return load_persona_catalog(o.personas_path.empty() ? (std::filesystem::path(data_dir()) / "personas.json").string()
                                                      : o.personas_path);
}

/// labels.csv and labels.npy: from this process's rows, or under a split
/// from every rank's rows in row order (written by rank 0).
void stage_labels(JobOutputs& files, const Table& table, const std::vector<std::int32_t>& labels,
                  const std::vector<std::string>& personas, const Matrix* kept, const RowSplit* split) {
  if (!split) {
    files.on_root([&](OutputFiles& f) {
      stage_labels_csv(f, table, labels, personas, kept);
      stage_labels_npy(f, labels);
    });
    return;
  }
  files.on_all([&](OutputFiles* f) { stage_labels_csv(f, table, labels, personas, kept, *split); });
  files.on_all([&](OutputFiles* f) { stage_labels_npy(f, labels, *split); });
}

/// Step 4: every k of the sweep, all restarts fused, with a progress line.
SweepResult sweep_k(Clusterer& engine, const PipelineOptions& o, const SilhouetteParams& silp) {
  SweepParams sp;
  sp.k_min = o.k_min;
  sp.k_max = o.k_max;
  sp.kmeans = o.kmeans;
  sp.silhouette = silp;
  Progress progress(o.progress);
  sp.progress = [&](const char* stage, int live, int models, long long passes) {
    progress.update("sweep", std::string(stage) + ": " + std::to_string(live) + " of " + std::to_string(models) +
                                 " models running, pass " + std::to_string(passes),
                    static_cast<double>(passes) * static_cast<double>(engine.rows()));
  };
  sp.on_scored = [&](int kk, int done, int total) {
    progress.update("sweep", "scoring k = " + std::to_string(kk) + " (" + std::to_string(done) + " of " +
                                 std::to_string(total) + ")");
  };
  SweepResult sweep = engine.sweep(sp, o.k_auto ? 0 : o.k);
  progress.done();
  return sweep;
}

/// Step 5: the chosen k, with its labels (the sweep's fit when it has it:
/// same parameters, same result).
KMeansResult fit_k(Clusterer& engine, const PipelineOptions& o, int k, std::optional<SweepResult>& sweep) {
  if (sweep && sweep->kept && sweep->kept->k == k) return std::move(*sweep->kept);
  KMeansParams kp = o.kmeans;
  kp.n_clusters = k;
  return engine.fit(kp);
}

/// One warning for every feature of zero variance (at most five named: a
/// table of thousands of constant columns gives one line, not thousands).
std::string zero_variance_warning(const std::vector<std::string>& names, const std::vector<bool>& constant) {
  std::string listed;
  std::size_t count = 0;
  for (std::size_t j = 0; j < constant.size(); ++j)
    if (constant[j] && ++count <= 5) listed += (count > 1 ? ", '" : "'") + names[j] + "'";
  if (count == 0) return {};
  if (count == 1) return "feature " + listed + " has zero variance: left unscaled (scale 1)";
  if (count > 5) listed += " and " + count_text(static_cast<std::int64_t>(count - 5)) + " more";
  return count_text(static_cast<std::int64_t>(count)) + " features have zero variance (" + listed +
         "): left unscaled (scale 1)";
}

PipelineOutcome run_study(Command cmd, const PipelineOptions& o, const NoticeFn& print_notice) {
  StageTimer timer;
  // A progress line for every stage on a terminal; a notice first ends it.
  Progress stages(o.progress);
  const NoticeFn notice = [&](const std::string& msg) {
    stages.done();
    print_notice(msg);
  };
  const auto stage = [&](const std::string& what) { stages.update(what, "..."); };
  // Under mpirun every rank runs this function on its share of the rows,
  // with the same results (the engine's and the study's collectives);
  // rank 0 holds --out and writes what a single process writes.
  Communicator* const comm = o.communicator && o.communicator->size() > 1 ? o.communicator : nullptr;
  JobOutputs files(comm, o.out_dir, output_names(), o.force);  // first: a refused --out fails before any work
  files.on_root([&](OutputFiles& f) { report_stale_staging(f, notice); });
  PipelineOutcome out;
  StudyResult& r = out.result;
  r.version = ARCHETYPE_VERSION;
  r.command = command_name(cmd);
  std::vector<std::string> warnings;
  const auto warn = [&](const std::string& w) {
    warnings.push_back(w);
    notice("warning: " + w);
  };
  const auto stage_summary = [&] {
    if (cmd != Command::Profile) r.warnings = warnings;
    r.distributed = distributed_summary(comm);
    r.timings_ms = timer.timings();
    files.stage("summary.json", summary_json(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  };

  // The figure script loads Python and matplotlib while the study computes
  // (a bad ARCHETYPE_FIGURES_TIMEOUT is refused here, before any work).
  // On rank 0 only under mpirun: it holds the staging folder.
  std::optional<FiguresHelper> figures_helper;
  if (o.figures && cmd != Command::Profile)
    files.on_root([&](OutputFiles& f) { figures_helper.emplace(f.staging_dir()); });

  // 1. Load and validate.
  stage("reading " + (o.csv.empty() ? std::string("the reference dataset") : o.csv));
  timer.start();
  if (!o.csv.empty()) files.protect_input(o.csv);
  if (!o.personas_path.empty()) files.protect_input(o.personas_path);
  LoadedInput data = load_input({o.csv, o.csv_options, o.feature_names}, notice, comm);
  const RowSplit* const split = data.split ? &*data.split : nullptr;  // this rank's share of the rows
  const Transforms transforms = parse_transforms(o.transform, data.table.column_names);
  apply_transforms(data.table.features, transforms, data.table.column_names, data.path, split);
  const std::vector<std::string> plain_names = data.names;  // for data-driven cluster names
  for (std::size_t j = 0; j < data.names.size(); ++j) data.names[j] = transformed_name(data.names[j], transforms[j]);
  const Matrix& raw = data.table.features;
  if (o.keep_columns)
    memory::note_workload(raw.rows, raw.cols, memory::study_bytes(raw.rows, raw.cols, 1, !data.table.ids.empty(), 0));
  r.input = input_summary(data);
  // sample_weight (--weight-column): read apart from the features, never
  // scaled or clustered; it weighs the scaler, the fits and their scores.
  const std::vector<double> weights = std::move(data.table.weights);
  const bool weighted = r.input.sample_weight.has_value();  // on every rank, also one without rows
  r.input.transforms = transforms;
  const std::size_t rows = r.input.rows;  // every rank's
  const std::vector<std::string> k_warnings = check_k_against_rows(cmd, o, rows, data.path);
  timer.stop("load");

  // 2. Profile every feature.
  stage("profiling " + std::to_string(raw.cols) + " feature(s) of " + std::to_string(rows) + " rows");
  timer.start();
  r.profile = profile_features(raw, data.table.column_names, data.names, o.threads, split);
  std::vector<FeatureProfile> profiles;
  for (const FeatureSummary& f : r.profile) profiles.push_back(f.stats);
  timer.stop("profile");

  for (const std::string& w : k_warnings) warn(w);
  {
    std::vector<double> skews, mins;
    for (const FeatureSummary& f : r.profile) {
      skews.push_back(f.stats.skew);
      mins.push_back(f.stats.min);
    }
    if (const std::string w = skew_warning(data.names, skews, mins, transforms); !w.empty()) warn(w);
  }
  std::ostringstream table;
  table << render_profile_table(r.profile, data.path, rows);
  if (cmd == Command::Profile) {
    out.table = table.str();
    if (o.tables_ready) {
      o.tables_ready(out.table);
      out.table.clear();
    }
    stage_summary();
    out.files = files.commit();
    return out;
  }

  // 3. Standardize.
  timer.start();
  // With weights, scikit-learn's StandardScaler(sample_weight=w): the
  // weighted mean and std, so that the study of aggregated rows is the
  // study of the rows they stand for.
  const StandardScaler scaler =
      weighted ? StandardScaler::weighted(raw, weights, split) : StandardScaler::from_profiles(profiles);
  if (const std::string w = zero_variance_warning(data.names, scaler.constant); !w.empty()) warn(w);
  const FigureSource fig_src = figure_source(raw, split);
  const Matrix kept = o.keep_columns ? raw : Matrix();  // the input values for labels.csv
  // Standardize in place: the raw values are not needed any more (profile,
  // histograms and the figure source are taken), so the data exist once.
  Matrix z = std::move(data.table.features);
  scaler.transform_in_place(z);
  timer.stop("scale");
  r.scaler = scaler;
  // The engine reads z in place; with --backend auto a GPU failure reruns
  // the failed call on the CPU (one notice), with the same results.
  DataView view = DataView::of(z);
  if (weighted) view.sample_weight = weights.data();  // copied by the Clusterer (none: this rank holds no rows)
  Clusterer engine(view, {o.backend, o.threads, o.device, notice, comm, o.poll});
  const auto record_backend = [&] {
    r.backend = engine.backend_name();
    r.device = engine.device();
  };
  record_backend();

  // 4. Sweep k.
  int k = o.k;
  std::optional<SweepResult> sweep;
  const SilhouetteParams silp{silhouette_sample_size(rows, o.silhouette_sample, o.silhouette_threshold,
                                                     o.silhouette_mode == "exact", z.cols),
                              o.kmeans.seed};
  if (cmd == Command::Run || cmd == Command::Sweep) {
    timer.start();
    sweep = sweep_k(engine, o, silp);
    timer.stop("sweep");
    if (o.k_auto) {
      if (!sweep->silhouette_k)
        throw InputError("--k auto: no k in the sweep has a defined silhouette (it needs 2 <= k < rows and two "
                         "non-empty clusters); give --k");
      k = *sweep->silhouette_k;
    }
    if (const auto w = sweep_empty_clusters_warning(*sweep)) warn(*w);
    r.sweep = sweep_rows(*sweep);
    r.suggested_k = suggested_k(*sweep);
    table << "\n" << render_sweep_table(*r.sweep, *r.suggested_k);
    files.stage("sweep.csv", sweep_csv(*r.sweep));
  }
  r.parameters = study_parameters(o, cmd, k, k_rule(o, sweep, k));
  if (r.sweep && cmd == Command::Run) table << "Using k = " << k << ": " << r.parameters->k_rule << "\n";

  if (cmd == Command::Run || cmd == Command::Fit) {
    // 5. Fit the chosen k.
    stage("fitting k = " + std::to_string(k));
    timer.start();
    const KMeansResult fit = fit_k(engine, o, k, sweep);
    timer.stop("fit");
    if (const auto w = empty_clusters_warning(fit.counts)) warn(*w);
    stage("silhouette");
    timer.start();
    const SilhouetteResult sil = engine.silhouette(fit.labels, k, silp);
    timer.stop("silhouette");

    // 6. Personas.
    timer.start();
    const PersonaCatalog catalog = load_catalog(o);
    std::string naming_note;
    const std::vector<double> quantiles =
        cluster_median_quantiles(z, fit.labels, k, r.profile, scaler, o.threads, split);
    r.model = model_summary(fit, sil, scaler, r.profile, quantiles, {&catalog, !o.personas_path.empty(), plain_names},
                            o.kmeans.n_init, o.kmeans.seed, naming_note, weighted);
    if (!naming_note.empty()) warn(naming_note);
    timer.stop("personas");
    table << "\n" << render_model_table(*r.model, data.names);
    stage_labels(files, data.table, fit.labels, persona_names(*r.model), o.keep_columns ? &kept : nullptr, split);
    if (o.return_labels) {
      out.labels = fit.labels;
      out.ids = data.table.ids;
    }
    files.stage("model.json", model_file_json(r, fit, o.kmeans).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    if (o.figures) {
      timer.start();
      const std::optional<Pca2> pca = figure_projection(z, split);
      if (pca) r.projection = projection_summary(*pca);
      if (split) {
        files.on_all([&](OutputFiles* f) { stage_figure_points(f, fig_src, pca, z, scaler, fit, *split); });
        files.on_all([&](OutputFiles* f) { stage_figure_silhouette(f, fit, sil, *split); });
      } else {
        files.on_root([&](OutputFiles& f) { stage_figure_data(f, fig_src, pca, z, scaler, fit, sil); });
      }
      timer.stop("figure_data");
    }
  }
  stages.done();
  record_backend();  // the CPU, if the GPU failed on the way
  // scripts/figures.py reads it; without figures only the final one below
  // is written (at k = 500, d = 256 summary.json is 12.8 MB, about 60 ms
  // to build and format).
  if (o.figures) stage_summary();
  out.table = table.str();
  if (o.tables_ready) {
    o.tables_ready(out.table);  // before the figures: the numbers first
    out.table.clear();
  }

  // 7. Figures (from the staged files, into the staging folder: they are
  // committed with everything else) and the reports that embed them.
  // On rank 0 only under mpirun: it holds the staged files.
  std::set<std::string> figures;
  if (o.figures) {
    timer.start();
    files.on_root([&](OutputFiles&) {
      Progress progress(o.progress);
      progress.update("figures", "drawing with matplotlib");
      figures = figures_helper->draw(notice).produced;
      progress.done();
    });
    timer.stop("figures");
  }
  stage("writing the report");
  timer.start();
  files.on_root([&](OutputFiles& f) {
    const ReportDocument report = build_report(r, figures);
    f.stage("report.md", report.markdown());
    f.stage("report.html", report.html(f.staging_dir()));
  });
  timer.stop("report");
  stage_summary();  // again, with the last stages' timings
  stages.done();
  out.files = files.commit();
  return out;
}

}  // namespace

PipelineOutcome run_pipeline(Command cmd, const PipelineOptions& o, const NoticeFn& notice) {
  return cmd == Command::Predict ? run_predict(o, notice) : run_study(cmd, o, notice);
}

}  // namespace archetype
