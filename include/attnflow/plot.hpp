// Umbrella header of attnflow::plot (gnuplot figures; needs gnuplot at run time).
#pragma once

#include "attnflow/plot/attention_graph.hpp"
#include "attnflow/plot/color_scale.hpp"
#include "attnflow/plot/correlation_chart.hpp"
#include "attnflow/plot/curve_chart.hpp"
#include "attnflow/plot/figure.hpp"
#include "attnflow/plot/head_grid.hpp"
#include "attnflow/plot/heatmap.hpp"
#include "attnflow/plot/relevance_bars.hpp"
#include "attnflow/plot/side_by_side.hpp"
#include "attnflow/plot/target_maps.hpp"
#include "attnflow/plot/token_labels.hpp"
