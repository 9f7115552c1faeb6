// Plain-text tables for the terminal.
#pragma once

#include <string>
#include <vector>

#include <optional>

#include "archetype/study_result.hpp"

namespace archetype {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  /// Aligned columns for a terminal.
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

}  // namespace archetype
