// summary.json: the study result written as JSON, once, at the edge.  The
// key order and the nulls are part of the format (scripts/figures.py and
// users' scripts read it); nothing in Archetype reads it back.
#pragma once

#include <nlohmann/json.hpp>

#include "archetype/study_result.hpp"

namespace archetype {

nlohmann::ordered_json summary_json(const StudyResult& result);

}  // namespace archetype
