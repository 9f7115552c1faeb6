// `archetype predict`: labels new creators with a saved model.json.
#pragma once

#include "archetype/notice.hpp"
#include "cli/pipeline.hpp"

namespace archetype {

PipelineOutcome run_predict(const PipelineOptions& options, const NoticeFn& notice);

}  // namespace archetype
