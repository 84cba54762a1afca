// Trains a SentencePiece model with Debian's libsentencepiece_train (the trainer flags are the
// one argument). Built and run by make_engine_golden.mjs for tests/data/tokenizers/t5_spiece/:
//   g++ tests/hf/make_spiece_model.cpp -lsentencepiece_train -lsentencepiece -o make_spiece_model
#include <sentencepiece_trainer.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_spiece_model '--input=... --model_prefix=... ...'\n");
    return 2;
  }
  const auto status = sentencepiece::SentencePieceTrainer::Train(argv[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
