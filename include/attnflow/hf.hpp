// Umbrella header of attnflow::hf: Hugging Face formats without libtorch (safetensors,
// config.json, WordPiece and byte-level BPE tokenizers).
#pragma once

#include "attnflow/hf/bpe.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/hf/dtype.hpp"
#include "attnflow/hf/safetensors.hpp"
#include "attnflow/hf/safetensors_writer.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/hf/wordpiece.hpp"
