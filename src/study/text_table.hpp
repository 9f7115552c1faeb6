// Plain-text tables for the terminal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archetype/study_result.hpp"

namespace archetype {

/// Features listed one by one in the terminal tables and the reports (the
/// first ones); the rest are counted ("... and 2,980 more features"), so
/// that the text grows with the rows of a table, not with its width.  Every
/// feature's numbers stay in summary.json and model.json.
inline constexpr std::size_t kListedFeatures = 20;
/// Features with their own columns in a table of one column (or two) per
/// feature: the model tables of the terminal and the reports.
inline constexpr std::size_t kTableFeatures = 5;
/// Clusters listed in the terminal's model table: the largest ones, when
/// there are more (k in the hundreds or thousands); report.md, summary.json
/// and model.json have every cluster.
inline constexpr std::size_t kTableClusters = 30;
/// Characters of a cell shown in a terminal table (then "...").
inline constexpr std::size_t kMaxCellChars = 48;

/// "... and 2,980 more features (summary.json has every one)" when `shown`
/// of `total` features were listed; empty when all were.
std::string more_features(std::size_t shown, std::size_t total, const std::string& where);

/// 1234567 -> "1,234,567".
std::string count_text(std::int64_t n);

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  /// Aligned columns for a terminal; every cell on one line (control
  /// characters, line breaks included, as \xNN) and at most kMaxCellChars
  /// characters.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

std::string format_fixed(double v, int decimals);
std::string format_signed(double v, int decimals);  ///< "+0.257" / "-0.534"
std::string format_percent(double share);           ///< 0.2308 -> "23.1%"
/// A value or "n/a" (undefined), with fixed decimals.
std::string format_optional(const std::optional<double>& v, int decimals);

std::string render_profile_table(const std::vector<FeatureSummary>& profile, const std::string& path, std::size_t rows);
std::string render_sweep_table(const std::vector<SweepRow>& sweep, const SuggestedK& suggested);
std::string render_model_table(const ModelSummary& model, const std::vector<std::string>& names);
/// predict's table: each cluster's id, persona, rows and share (at most
/// kTableClusters, the largest, as in the model table).
std::string render_prediction_table(const PredictionSummary& p);

}  // namespace archetype
