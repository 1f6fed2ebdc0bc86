// What the benchmark binaries share: a console reporter that remembers what it reported.
#ifndef TESSERA_BENCH_RECORDING_REPORTER_H_
#define TESSERA_BENCH_RECORDING_REPORTER_H_

#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tessera::bench {

// The console reporter, also keeping every counter of every benchmark, and its real and CPU time
// per operation as "ns_per_op" and "cpu_ns_per_op", for the summary each binary prints last.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  explicit RecordingReporter(OutputOptions options) : ConsoleReporter(options) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const std::string name = run.run_name.str();
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") {
          for (const auto& [counter, value] : run.counters) medians_[{name, counter}] = value;
          medians_[{name, "ns_per_op"}] = run.GetAdjustedRealTime();
          medians_[{name, "cpu_ns_per_op"}] = run.GetAdjustedCPUTime();
        }
      } else {
        for (const auto& [counter, value] : run.counters) {
          repetitions_[{name, counter}].push_back(value);
        }
        repetitions_[{name, "ns_per_op"}].push_back(run.GetAdjustedRealTime());
        repetitions_[{name, "cpu_ns_per_op"}].push_back(run.GetAdjustedCPUTime());
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // The median of `counter` of benchmark `name` (with --benchmark_repetitions, the reported
  // median aggregate; else the median of the runs seen), or nullopt when it did not run.
  std::optional<double> Median(const std::string& name, const std::string& counter) const {
    const std::pair<std::string, std::string> key(name, counter);
    if (const auto it = medians_.find(key); it != medians_.end()) return it->second;
    const auto it = repetitions_.find(key);
    if (it == repetitions_.end() || it->second.empty()) return std::nullopt;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }

 private:
  std::map<std::pair<std::string, std::string>, double> medians_;
  std::map<std::pair<std::string, std::string>, std::vector<double>> repetitions_;
};

}  // namespace tessera::bench

#endif  // TESSERA_BENCH_RECORDING_REPORTER_H_
