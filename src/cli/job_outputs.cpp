#include "cli/job_outputs.hpp"

#include <utility>

namespace archetype {

JobOutputs::JobOutputs(Communicator* comm, const std::string& dir, std::vector<std::string> ours, bool force)
    : comm_(comm) {
  agree(comm_, [&] {
    if (root()) files_.emplace(dir, std::move(ours), force);
  });
}

void JobOutputs::stage(const std::string& name, const std::string& content) {
  on_root([&](OutputFiles& f) { f.stage(name, content); });
}

void JobOutputs::protect_input(const std::string& path) {
  on_root([&](OutputFiles& f) { f.protect_input(path); });
}

void JobOutputs::on_root(const std::function<void(OutputFiles&)>& fn) {
  agree(comm_, [&] {
    if (files_) fn(*files_);
  });
}

void JobOutputs::on_all(const std::function<void(OutputFiles*)>& fn) {
  agree(comm_, [&] { fn(files_ ? &*files_ : nullptr); });
}

std::vector<std::string> JobOutputs::commit() {
  std::vector<std::string> out;
  on_root([&](OutputFiles& f) { out = f.commit(); });
  return out;
}

}  // namespace archetype
