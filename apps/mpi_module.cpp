// attnflow-mpi.so: MpiRanks over Debian's OpenMPI (rank 0's messages, tag 1, packed bytes; the
// broadcast of the outcome; MPI_Abort). A module that attnflow and attnflow-torch dlopen only
// when an MPI launcher started them (apps/mpi_ranks.cpp), so a plain run never loads libmpi and
// its libraries (about 1.5 ms of start-up).
#include <mpi.h>

#include <cstdint>
#include <cstring>
#include <iostream>
#include <vector>

#include "attnflow/pipeline/shard_job.hpp"

namespace attnflow::app {
namespace {

constexpr int kTag = 1;

void put(std::vector<char>& b, const void* p, std::size_t n) {
  const char* c = static_cast<const char*>(p);
  b.insert(b.end(), c, c + n);
}

template <class T>
void put(std::vector<char>& b, T v) {
  put(b, &v, sizeof v);
}

template <class T>
T get(const std::vector<char>& b, std::size_t& at) {
  T v{};
  if (at + sizeof v <= b.size()) std::memcpy(&v, b.data() + at, sizeof v);
  at += sizeof v;
  return v;
}

class MpiRanks : public pipeline::Ranks {
 public:
  MpiRanks() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiRanks() override {
    if (abort_) {
      std::cout.flush();
      std::cerr.flush();
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void send(const pipeline::RankMessage& m) override {
    std::vector<char> b;
    put(b, static_cast<std::int32_t>(m.kind));
    put(b, static_cast<std::int32_t>(m.rank));
    put(b, m.done);
    put(b, m.total);
    put(b, static_cast<std::int32_t>(m.ok));
    put(b, static_cast<std::int32_t>(m.figures.size()));
    for (double f : m.figures) put(b, f);
    put(b, m.error.data(), m.error.size());
    MPI_Send(b.data(), static_cast<int>(b.size()), MPI_BYTE, 0, kTag, MPI_COMM_WORLD);
  }

  bool receive(pipeline::RankMessage& m, bool wait) override {
    MPI_Status status;
    if (wait) {
      MPI_Probe(MPI_ANY_SOURCE, kTag, MPI_COMM_WORLD, &status);
    } else {
      int flag = 0;
      MPI_Iprobe(MPI_ANY_SOURCE, kTag, MPI_COMM_WORLD, &flag, &status);
      if (!flag) return false;
    }
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    std::vector<char> b(static_cast<std::size_t>(count));
    MPI_Recv(b.data(), count, MPI_BYTE, status.MPI_SOURCE, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    std::size_t at = 0;
    m = pipeline::RankMessage();
    m.kind = static_cast<pipeline::RankMessage::Kind>(get<std::int32_t>(b, at));
    m.rank = status.MPI_SOURCE;
    get<std::int32_t>(b, at);
    m.done = get<std::int64_t>(b, at);
    m.total = get<std::int64_t>(b, at);
    m.ok = get<std::int32_t>(b, at) != 0;
    const auto figures = get<std::int32_t>(b, at);
    for (std::int32_t k = 0; k < figures; ++k) m.figures.push_back(get<double>(b, at));
    if (at < b.size()) m.error.assign(b.data() + at, b.size() - at);
    return true;
  }

  bool broadcast(bool ok) override {
    int v = ok ? 1 : 0;
    MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return v != 0;
  }

  void end_others() override { abort_ = true; }

 private:
  int rank_ = 0, size_ = 1;
  bool abort_ = false;
};

}  // namespace

}  // namespace attnflow::app

/// The ranks of this MPI job (MPI_Init_thread on the call); the caller owns the object and
/// deletes it at exit (MPI_Finalize, or MPI_Abort after end_others()).
extern "C" __attribute__((visibility("default"))) attnflow::pipeline::Ranks* attnflow_mpi_ranks() {
  return new attnflow::app::MpiRanks();
}
