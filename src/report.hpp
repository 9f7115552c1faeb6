// report.md: the study's sections, generated from summary.json's numbers
// (never fixed prose): data profile, preprocessing, choice of k, model,
// personas and strategic recommendations.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace archetype {

std::string render_report_markdown(const nlohmann::ordered_json& summary);

}  // namespace archetype
