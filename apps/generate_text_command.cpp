// `attnflow generate text`: options -> pipeline::generate_text -> prompt + continuation.
#include "generate_text_command.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "attnflow/pipeline/train_lm.hpp"

namespace attnflow::app {

void add_generate_text_command(CLI::App& app) {
  CLI::App* generate = app.add_subcommand("generate", "Make text or a corpus");
  generate->require_subcommand(1);
  auto o = std::make_shared<pipeline::GenerateTextOptions>();
  auto only_new = std::make_shared<bool>(false);
  CLI::App* cmd = generate->add_subcommand(
      "text",
      "Sample a continuation of a prompt from a causal LM (softmax of the last position, the "
      "context cropped to the model's positions)");
  cmd->add_option("model", o->model, "Model directory (e.g. from `attnflow train lm`)")->required();
  cmd->add_option("--prompt", o->prompt, "Text to continue")->required();
  cmd->add_option("-n,--count", o->sampling.count, "New tokens (characters for a char GPT)")
      ->capture_default_str();
  cmd->add_option("-s,--seed", o->sampling.seed, "Seed: the same seed gives the same text")
      ->capture_default_str();
  cmd->add_option("--temperature", o->sampling.temperature, "Logits are divided by it")
      ->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("-j,--threads", o->threads, "CPU threads (0 = libtorch default)")
      ->capture_default_str();
  cmd->add_flag("--only-new", *only_new, "Print only the sampled text, not the prompt first");
  cmd->callback([o, only_new] {
    const pipeline::GenerateTextReport r = pipeline::generate_text(*o);
    std::cout << (*only_new ? "" : o->prompt) << r.text << "\n";
  });
}

}  // namespace attnflow::app
