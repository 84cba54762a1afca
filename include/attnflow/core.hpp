// Umbrella header of attnflow::core (Eigen + Boost.Graph only).
#pragma once

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/correlation.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/core/flow.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/core/grad_rollout.hpp"
#include "attnflow/core/readout.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/core/rollout.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/core/types.hpp"
#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/core/util/float16.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "attnflow/version.hpp"
