// The study's report, generated from summary.json's numbers (never fixed
// prose), in the study's order: abstract, data and preprocessing,
// exploratory analysis, model selection, results and personas, strategic
// recommendations; figures embedded where they were produced.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "study/report_document.hpp"

namespace archetype {

/// `figures`: names of the figures present in figures/ (e.g.
/// "distributions"); the report embeds figures/NAME.png for those.
ReportDocument build_report(const nlohmann::ordered_json& summary, const std::set<std::string>& figures);

}  // namespace archetype
