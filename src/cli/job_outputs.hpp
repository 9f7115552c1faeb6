// The output folder of a command, for one process or a job split across
// processes (mpirun): there, rank 0 alone holds the folder (lock, staging,
// commit), every rank makes each call, and a failure on rank 0 is agreed
// (agree(), communicator.hpp) so that every rank throws it and exits 2.
// With one process each call is the OutputFiles call itself.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "archetype/communicator.hpp"
#include "io/output_files.hpp"

namespace archetype {

class JobOutputs {
 public:
  /// comm: nullptr for one process.  Creates the folder on rank 0 (or refuses it).
  JobOutputs(Communicator* comm, const std::string& dir, std::vector<std::string> ours, bool force);

  bool root() const { return !comm_ || comm_->rank() == 0; }
  /// Stages `content` on rank 0 (the other ranks compute it too: the same text).
  void stage(const std::string& name, const std::string& content);
  void protect_input(const std::string& path);
  /// fn(rank 0's files) on rank 0 only, its failure agreed.
  void on_root(const std::function<void(OutputFiles&)>& fn);
  /// fn(rank 0's files, or nullptr elsewhere) on every rank (a gathered file), its failure agreed.
  void on_all(const std::function<void(OutputFiles*)>& fn);
  /// The final paths (on rank 0; empty elsewhere).
  std::vector<std::string> commit();

 private:
  Communicator* comm_;
  std::optional<OutputFiles> files_;
};

}  // namespace archetype
