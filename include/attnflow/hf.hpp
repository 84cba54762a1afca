// Umbrella header of attnflow::hf: Hugging Face formats without libtorch (safetensors,
// config.json, the tokenizer.json engine: WordPiece, BPE, Unigram).
#pragma once

#include "attnflow/hf/config.hpp"
#include "attnflow/hf/dtype.hpp"
#include "attnflow/hf/safetensors.hpp"
#include "attnflow/hf/safetensors_writer.hpp"
#include "attnflow/hf/tokenizer.hpp"
