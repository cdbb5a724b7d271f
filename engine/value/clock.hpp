#pragma once
// The one wall clock seam reads: when a run started, when an exception was first seen,
// how old it is today. SEAM_NOW (ISO 8601 UTC) replaces it, so a checkpoint report can be
// reproduced as it read on a given day and multi-day tests need not wait days.
#include "engine/value/time.hpp"

namespace seam {

TimeUs clock_now();

}  // namespace seam
