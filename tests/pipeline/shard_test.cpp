// Shards (pipeline/shard.hpp), the rank protocol (pipeline/shard_job.hpp) over an in-process
// transport of threads, and shards analysed one by one and merged (pipeline/merge.hpp) against
// the unsharded run, map for map.
#include "attnflow/pipeline/shard.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "../io/store_test_util.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/analyze_corpus.hpp"
#include "attnflow/pipeline/merge.hpp"
#include "attnflow/pipeline/shard_job.hpp"

namespace attnflow::pipeline {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Shard, ParsesKOfN) {
  const Shard s = parse_shard("2/5");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(to_string(s), "2/5");
  EXPECT_EQ(error_of([] { parse_shard("3/2"); }),
            "--shard 3/2: K must be less than N (shards are numbered 0 to 1)");
  EXPECT_EQ(error_of([] { parse_shard("x"); }),
            "--shard x: not K/N (shard K of N, 0 <= K < N, e.g. 0/4)");
  EXPECT_EQ(error_of([] { parse_shard("0/0"); }), "--shard 0/0: N must be at least 1");
  for (const char* bad :
       {"", "/", "1/", "/2", "-1/2", "1/-2", "1/2/3", " 1/2", "1.0/2", "99999999999/2"}) {
    EXPECT_NE(error_of([&] { parse_shard(bad); }), "") << bad;
  }
}

TEST(Shard, RangesAreContiguousAndBalancedByCost) {
  // Hand-computed: costs 8 1 1 1 1 4, prefix sums 0 8 9 10 11 12 16. Two shards: the sum
  // nearest 8 is 8 (after 1 unit). Three: nearest 5.33 is 8 (1 unit), nearest 10.67 is 11
  // (4 units).
  const std::vector<double> c = {8, 1, 1, 1, 1, 4};
  const auto two = balanced_ranges(c, 2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].first, 0);
  EXPECT_EQ(two[0].end, 1);
  EXPECT_EQ(two[1].first, 1);
  EXPECT_EQ(two[1].end, 6);
  const auto three = balanced_ranges(c, 3);
  EXPECT_EQ(three[0].end, 1);
  EXPECT_EQ(three[1].end, 4);
  EXPECT_EQ(three[2].end, 6);
  // Equal costs: equal counts. More shards than units: empty ranges, still contiguous.
  const auto even = balanced_ranges(std::vector<double>(12, 1.0), 4);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(even[static_cast<std::size_t>(k)].end, 3 * (k + 1));
  const auto many = balanced_ranges({1, 1}, 5);
  std::int64_t covered = 0;
  for (const ExampleRange& r : many) {
    EXPECT_EQ(r.first, covered);
    EXPECT_GE(r.end, r.first);
    covered = r.end;
  }
  EXPECT_EQ(covered, 2);
  EXPECT_TRUE(balanced_ranges({}, 3).back().end == 0);
}

TEST(Shard, CostModelAndFileNames) {
  EXPECT_DOUBLE_EQ(analysis_cost(10, true), 1000.0 + 32768.0);
  EXPECT_DOUBLE_EQ(analysis_cost(10, false), 100.0 + 1024.0);
  EXPECT_EQ(shard_path("out/corpus.h5", Shard{1, 4}), "out/corpus.shard-1-of-4.h5");
  EXPECT_EQ(shard_path("a.b/summary.csv", Shard{0, 2}), "a.b/summary.shard-0-of-2.csv");
  EXPECT_EQ(shard_path("a.b/noext", Shard{0, 2}), "a.b/noext.shard-0-of-2.h5");
}

/// N ranks as threads: messages to rank 0 through one queue, the broadcast through a barrier.
class ThreadRanks {
 public:
  explicit ThreadRanks(int n) : n_(n) {}
  class Rank : public Ranks {
   public:
    Rank(ThreadRanks& all, int rank) : all_(all), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return all_.n_; }
    void send(const RankMessage& m) override {
      std::lock_guard<std::mutex> lock(all_.mutex_);
      all_.queue_.push_back(m);
      all_.queue_.back().rank = rank_;
      all_.wake_.notify_all();
    }
    bool receive(RankMessage& m, bool wait) override {
      std::unique_lock<std::mutex> lock(all_.mutex_);
      if (wait) all_.wake_.wait(lock, [&] { return !all_.queue_.empty(); });
      if (all_.queue_.empty()) return false;
      m = all_.queue_.front();
      all_.queue_.pop_front();
      return true;
    }
    bool broadcast(bool ok) override {
      std::unique_lock<std::mutex> lock(all_.mutex_);
      if (rank_ == 0) {
        all_.outcome_ = ok;
        all_.decided_ = true;
        all_.wake_.notify_all();
      }
      all_.wake_.wait(lock, [&] { return all_.decided_; });
      return all_.outcome_;
    }
    void end_others() override {  // as MPI_Abort would: the ranks still running are ended
      std::lock_guard<std::mutex> lock(all_.mutex_);
      all_.ended_ = true;
      all_.decided_ = true;
      all_.outcome_ = false;
      all_.wake_.notify_all();
    }

   private:
    ThreadRanks& all_;
    int rank_;
  };

  int n_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<RankMessage> queue_;
  bool decided_ = false, outcome_ = false, ended_ = false;
};

struct JobResult {
  std::vector<double> sum;
  std::vector<std::string> errors;  ///< per rank: "" (returned), the Error, or "silent"
  std::int64_t last_done = 0, last_total = 0;
  bool finished = false;
};

JobResult run_job(int n, int failing) {
  ThreadRanks all(n);
  JobResult r;
  r.errors.resize(static_cast<std::size_t>(n));
  RankJob job;
  job.work = [&](const Shard& s, const RankProgress& progress) {
    const std::int64_t total = 10 * (s.index + 1);
    for (std::int64_t d = 1; d <= total; ++d) progress(d, total);
    if (s.index == failing) throw Error("shard " + to_string(s) + " broke");
    return std::vector<double>{static_cast<double>(total), 1.0};
  };
  job.finish = [&] { r.finished = true; };
  job.progress = [&](std::int64_t d, std::int64_t t) {
    r.last_done = d;
    r.last_total = t;
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < n; ++k) {
    threads.emplace_back([&, k] {
      ThreadRanks::Rank me(all, k);
      try {
        const auto sum = run_ranks(me, job);
        if (k == 0) r.sum = sum;
      } catch (const ReportedByRankZero&) {
        r.errors[static_cast<std::size_t>(k)] = "silent";
      } catch (const Error& e) {
        r.errors[static_cast<std::size_t>(k)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  return r;
}

TEST(RankJob, SumsFiguresAndProgressOfAllRanks) {
  const JobResult r = run_job(3, -1);
  ASSERT_EQ(r.sum.size(), 2u);
  EXPECT_EQ(r.sum[0], 10 + 20 + 30);
  EXPECT_EQ(r.sum[1], 3);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.last_done, 60);  // every rank's last progress arrives (done == total is sent)
  EXPECT_EQ(r.last_total, 60);
  for (const std::string& e : r.errors) EXPECT_EQ(e, "");
}

TEST(RankJob, AFailingRankFailsTheJobWithItsMessage) {
  const JobResult r = run_job(3, 2);
  EXPECT_FALSE(r.finished);
  EXPECT_EQ(r.errors[0], "rank 2 of 3: shard 2/3 broke");
  EXPECT_EQ(r.errors[1], "silent");
  EXPECT_EQ(r.errors[2], "silent");
  const JobResult own = run_job(2, 0);
  EXPECT_EQ(own.errors[0], "rank 0 of 2: shard 0/2 broke");
  EXPECT_EQ(own.errors[1], "silent");
}

std::string temp_path(const std::string& name) {
  const std::string p = testing::TempDir() + "attnflow_shard_" + name;
  std::remove(p.c_str());
  std::remove((p + ".partial").c_str());
  return p;
}

TEST(ShardMerge, ShardsAnalysedApartAndMergedEqualTheWholeRun) {
  io::StoreInfo info;
  info.model = "m";
  info.tokenizer = "t";
  info.layers = 4;
  info.heads = 2;
  const std::string corpus = temp_path("corpus.h5");
  {
    io::Store store = io::Store::create(corpus, info);
    for (int i = 0; i < 23; ++i) store.append(test::make_example(i, info, 3, false, 17));
  }
  CorpusAnalysisOptions o;
  o.analysis.methods = {Method::Raw, Method::Rollout, Method::Flow};
  o.analysis.target_rows = {0, -1};
  o.threads = 1;
  o.output = CorpusOutput::File;
  const std::string whole = temp_path("whole.h5");
  o.output_path = whole;
  analyze_corpus(corpus, o);
  MergeOptions m;
  std::int64_t covered = 0;
  for (int k = 0; k < 3; ++k) {
    o.shard = Shard{k, 3};
    o.output_path = temp_path("part" + std::to_string(k) + ".h5");
    std::vector<std::int64_t> seen;
    o.on_result = [&](const CorpusItem& item) { seen.push_back(item.index); };
    const CorpusAnalysisStats stats = analyze_corpus(corpus, o);
    EXPECT_EQ(stats.range.first, covered);  // contiguous, indices of the corpus
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.front(), covered);
    covered = stats.range.end;
    m.shards.push_back(o.output_path);
  }
  EXPECT_EQ(covered, 23);
  for (bool copy : {false, true}) {
    m.output = temp_path(copy ? "copied.h5" : "linked.h5");
    m.copy = copy;
    const MergeReport report = merge_shards(m);
    EXPECT_EQ(report.examples, 23);
    const io::Store a = io::Store::open(whole), b = io::Store::open(m.output);
    ASSERT_EQ(b.size(), 23);
    EXPECT_FALSE(b.info().shard.active());
    EXPECT_EQ(io::run_info(b, "analyze").status, io::RunStatus::Complete);
    for (std::int64_t i = 0; i < 23; ++i) {
      EXPECT_EQ(b.read(i).tokens, a.read(i).tokens) << i;
      const AnalysisResult x = io::read_derived(a, "analyze", i),
                           y = io::read_derived(b, "analyze", i);
      for (const auto& [method, maps] : x.maps) {
        const LayerMaps& other = y.maps.at(method);
        EXPECT_EQ(other.rows, maps.rows);
        for (std::size_t k = 0; k < maps.maps.size(); ++k) {
          EXPECT_EQ(other.maps[k], maps.maps[k]) << "example " << i << " layer " << k;
        }
      }
    }
  }
  m.shards.pop_back();
  m.output = temp_path("short.h5");
  EXPECT_EQ(error_of([&] { merge_shards(m); }).rfind("examples ", 0), 0u);
}

}  // namespace
}  // namespace attnflow::pipeline
