// The study's report, generated from the typed study result (the numbers
// summary.json holds; never fixed prose), in the study's order: abstract,
// data and preprocessing, exploratory analysis, model selection, results and
// personas, strategic recommendations; figures embedded where produced.
#pragma once

#include <set>
#include <string>

#include "archetype/study_result.hpp"
#include "study/report_document.hpp"

namespace archetype {

/// `figures`: names of the figures present in figures/ (e.g.
/// "distributions"); the report embeds figures/NAME.png for those.
ReportDocument build_report(const StudyResult& summary, const std::set<std::string>& figures);

}  // namespace archetype
