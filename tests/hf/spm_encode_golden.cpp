// Encodes strings with Debian's libsentencepiece, the reference for attnflow's own reading of
// spiece.model files. Built and run by make_spm_golden.mjs:
//   g++ tests/hf/spm_encode_golden.cpp -lsentencepiece -o spm_encode_golden
// stdin: for every string its byte length in decimal, a newline, then the bytes; stdout: one
// line of space-separated ids per string (SentencePieceProcessor::Encode, no BOS/EOS).
#include <sentencepiece_processor.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: spm_encode_golden MODEL < strings\n");
    return 2;
  }
  sentencepiece::SentencePieceProcessor sp;
  const auto status = sp.Load(argv[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    std::string text(std::stoul(line), '\0');
    std::cin.read(text.data(), static_cast<std::streamsize>(text.size()));
    std::vector<int> ids;
    if (!sp.Encode(text, &ids).ok()) return 1;
    for (std::size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
    std::cout << "\n";
  }
  return 0;
}
