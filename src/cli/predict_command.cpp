#include "cli/predict_command.hpp"

#include <cmath>
#include <sstream>

#include "archetype/clusterer.hpp"
#include "archetype/error.hpp"
#include "archetype/scaler.hpp"
#include "cli/command_support.hpp"
#include "cli/job_outputs.hpp"
#include "io/memory_need.hpp"
#include "io/output_files.hpp"
#include "study/input_table.hpp"
#include "study/model_file.hpp"
#include "study/study_files.hpp"
#include "study/summary_json.hpp"
#include "study/text_table.hpp"
#include "study/transforms.hpp"

namespace archetype {

PipelineOutcome run_predict(const PipelineOptions& o, const NoticeFn& notice) {
  StageTimer timer;
  // Under mpirun: every rank labels its share of the rows, rank 0 writes.
  Communicator* const comm = o.communicator && o.communicator->size() > 1 ? o.communicator : nullptr;
  JobOutputs files(comm, o.out_dir, output_names(), o.force);  // first: a refused --out fails before any work
  files.on_root([&](OutputFiles& f) { report_stale_staging(f, notice); });
  timer.start();
  files.protect_input(o.model_path);
  files.protect_input(o.csv);
  const SavedModel model = load_model_file(o.model_path);
  if (o.csv.empty()) throw InputError("predict needs a CSV file of creators to label");
  InputRequest request{o.csv, o.csv_options, o.feature_names};
  request.csv.columns = model.columns;
  request.csv.columns_origin = "a feature of model " + o.model_path;
  request.csv.id_column_hint = model.id_column;
  LoadedInput data = load_input(request, notice, comm);
  const RowSplit* const split = data.split ? &*data.split : nullptr;
  apply_transforms(data.table.features, model.transforms, data.table.column_names, data.path, split);
  if (o.keep_columns) {
    const Matrix& x = data.table.features;
    memory::note_workload(x.rows, x.cols, memory::study_bytes(x.rows, x.cols, 1, !data.table.ids.empty(), 0));
  }
  timer.stop("load");

  timer.start();
  PipelineOutcome out;
  StudyResult& r = out.result;
  StandardScaler scaler;
  scaler.mean = model.mean;
  scaler.scale = model.scale;
  scaler.constant.assign(model.mean.size(), false);
  // Rows outside the training range, in original units, before scaling.
  std::size_t outside = 0;
  if (!model.training_min.empty()) {
    const Matrix& x = data.table.features;
    for (std::size_t i = 0; i < x.rows; ++i) {
      bool out_of_range = false;
      for (std::size_t j = 0; j < x.cols && !out_of_range; ++j)
        out_of_range = x.at(i, j) < model.training_min[j] || x.at(i, j) > model.training_max[j];
      outside += out_of_range;
    }
  }
  if (split) {  // every rank's rows
    std::int64_t all = static_cast<std::int64_t>(outside);
    split->comm->allreduce_sum(&all, 1);
    outside = static_cast<std::size_t>(all);
  }
  const Matrix kept = o.keep_columns ? data.table.features : Matrix();  // the input values for labels.csv
  scaler.transform_in_place(data.table.features);
  // --weight-column: the inertia (and the distance ratio) weighted by it;
  // the labels do not depend on weights.
  r.input = input_summary(data);  // before the weights move out
  const std::vector<double> weights = std::move(data.table.weights);
  DataView view = DataView::of(data.table.features);
  if (r.input.sample_weight) view.sample_weight = weights.data();  // every rank: none when it holds no rows
  Clusterer engine(view, {o.backend, o.threads, o.device, notice, comm, o.poll});
  const Prediction predicted = engine.predict(model.centroids_scaled, model.k);
  const std::vector<std::int32_t>& labels = predicted.labels;
  const double inertia = predicted.inertia;
  timer.stop("predict");

  r.version = ARCHETYPE_VERSION;
  r.command = "predict";
  r.backend = engine.backend_name();
  r.device = engine.device();
  PredictionSummary p;
  p.model_file = o.model_path;
  p.k = model.k;
  p.inertia = inertia;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(model.k), 0);
  for (std::int32_t l : labels) counts[static_cast<std::size_t>(l)] += 1;
  if (split) split->comm->allreduce_sum(counts.data(), counts.size());
  for (std::size_t c = 0; c < counts.size(); ++c)
    p.clusters.push_back({static_cast<int>(c), model.persona_names[c], counts[c],
                          static_cast<double>(counts[c]) / static_cast<double>(r.input.rows)});
  const double n = static_cast<double>(r.input.rows);
  const double total_weight = r.input.sample_weight ? r.input.sample_weight->total : n;
  if (!model.training_min.empty()) {
    p.outside_training_share = static_cast<double>(outside) / n;
    if (*p.outside_training_share > 0.01)
      notice("warning: " + format_percent(*p.outside_training_share) +
             " of the rows lie outside the training range of at least one feature: the model was not fitted on "
             "such creators");
  }
  if (model.training_rms_distance > 0.0) {
    p.distance_ratio = std::sqrt(inertia / total_weight) / model.training_rms_distance;
    if (*p.distance_ratio > 1.5)
      notice("warning: the rows lie " + format_fixed(*p.distance_ratio, 1) +
             "x farther from their nearest centre than the training rows (root mean square): the personas may not "
             "describe them (different units or another population?)");
  }
  r.prediction = p;

  std::ostringstream t;
  t << "Labelled " << r.input.rows << " creators with " << o.model_path << "\n";
  t << render_prediction_table(p);
  out.table = t.str();

  timer.start();
  const Matrix* values = o.keep_columns ? &kept : nullptr;
  if (split) {
    files.on_all([&](OutputFiles* f) { stage_labels_csv(f, data.table, labels, model.persona_names, values, *split); });
    files.on_all([&](OutputFiles* f) { stage_labels_npy(f, labels, *split); });
  } else {
    files.on_root([&](OutputFiles& f) {
      stage_labels_csv(f, data.table, labels, model.persona_names, values);
      stage_labels_npy(f, labels);
    });
  }
  timer.stop("write");
  r.distributed = distributed_summary(comm);
  r.timings_ms = timer.timings();
  files.stage("summary.json", summary_json(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  out.files = files.commit();
  return out;
}

}  // namespace archetype
