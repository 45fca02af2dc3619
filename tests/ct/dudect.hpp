// A dudect-style leakage test (Reparaz, Balasch, Verbauwhede, "Dude, is my
// code constant time?", DATE 2017), written for mfakit's targets:
//  - two classes of input, chosen at random for every measurement (so drift
//    in the machine's speed lands in both classes alike), the inputs of a
//    batch prepared before any of them is timed;
//  - each call timed in cycles (rdtsc behind lfence);
//  - Welch's t statistic between the classes, for the raw measurements, for
//    the measurements below each of a ladder of cropping thresholds (the
//    percentiles 1 - 0.5^(10 k / 100), k = 1..100, taken from the first
//    batch, which is otherwise discarded: cropping removes the long tail that
//    interrupts and preemption add), and a second-order test (the squared
//    distance of each measurement from its class mean).
// The verdict is the largest |t| over those tests that have seen at least
// 10^4 measurements; |t| > 4.5 says the time depends on the class.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace mfakit_ct {

/// The time stamp counter, fenced so the timed call neither starts before the
/// first read nor finishes after the second.
inline std::uint64_t cycles_begin() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
#else
#error "tests/ct needs an x86 time stamp counter"
#endif
}
inline std::uint64_t cycles_end() noexcept {
  unsigned aux = 0;
  const std::uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}

/// Keeps a value alive for the optimiser (the timed call must not be dropped).
template <class T>
inline void keep(const T& v) noexcept {
  asm volatile("" : : "r,m"(v) : "memory");
}

/// splitmix64: fast, for class choices and random inputs (not for secrets).
class prng {
 public:
  explicit prng(std::uint64_t seed) noexcept : s_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
  }
  /// Uniform in [0, n), n > 0 (the bias of a 64-bit modulo is negligible here).
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
  int bit() noexcept { return static_cast<int>(next() >> 63U); }

 private:
  std::uint64_t s_;
};

/// Welch's t-test, both classes' moments kept online (Welford).
class welch {
 public:
  void push(double x, int cls) noexcept {
    const auto c = static_cast<std::size_t>(cls);
    n_[c] += 1.0;
    const double d = x - mean_[c];
    mean_[c] += d / n_[c];
    m2_[c] += d * (x - mean_[c]);
  }
  [[nodiscard]] double n(int cls) const noexcept { return n_[static_cast<std::size_t>(cls)]; }
  [[nodiscard]] double total() const noexcept { return n_[0] + n_[1]; }
  [[nodiscard]] double mean(int cls) const noexcept { return mean_[static_cast<std::size_t>(cls)]; }
  [[nodiscard]] double t() const noexcept {
    if (n_[0] < 2 || n_[1] < 2) return 0;
    const double v0 = m2_[0] / (n_[0] - 1), v1 = m2_[1] / (n_[1] - 1);
    const double se = std::sqrt(v0 / n_[0] + v1 / n_[1]);
    if (se == 0) return mean_[0] == mean_[1] ? 0 : std::numeric_limits<double>::infinity();
    return (mean_[0] - mean_[1]) / se;
  }

 private:
  std::array<double, 2> n_{}, mean_{}, m2_{};
};

/// The ladder of tests over one target's measurements.
class leakage {
 public:
  static constexpr std::size_t crops = 100;
  static constexpr double enough = 10000;  ///< measurements a test needs before it counts
  static constexpr double threshold = 4.5;

  /// The cropping thresholds, from a first batch of measurements.
  void calibrate(std::vector<std::uint64_t> first) {
    std::sort(first.begin(), first.end());
    for (std::size_t k = 0; k < crops; ++k) {
      const double q = 1.0 - std::pow(0.5, 10.0 * static_cast<double>(k + 1) / static_cast<double>(crops));
      const auto at = static_cast<std::size_t>(q * static_cast<double>(first.size() - 1));
      crop_[k] = first[at];
    }
    calibrated_ = true;
  }
  [[nodiscard]] bool calibrated() const noexcept { return calibrated_; }

  void push(std::uint64_t cycles, int cls) noexcept {
    const auto x = static_cast<double>(cycles);
    raw_.push(x, cls);
    for (std::size_t k = 0; k < crops; ++k)
      if (cycles < crop_[k]) cropped_[k].push(x, cls);
    if (raw_.total() > enough) {  // class means settled: the second-order test
      const double d = x - raw_.mean(cls);
      second_.push(d * d, cls);
    }
  }

  struct verdict {
    double max_t = 0;
    std::string test;             ///< which test gave it: "raw", "crop k (< N cycles)", "2nd order"
    double n = 0;                 ///< measurements in that test
    double mean0 = 0, mean1 = 0;  ///< the class means in that test, cycles
  };
  [[nodiscard]] verdict worst() const {
    verdict v;
    auto consider = [&](const welch& w, const std::string& name) {
      if (w.total() < enough) return;
      const double t = std::fabs(w.t());
      if (t > v.max_t || v.test.empty()) v = {t, name, w.total(), w.mean(0), w.mean(1)};
    };
    consider(raw_, "raw");
    for (std::size_t k = 0; k < crops; ++k)
      consider(cropped_[k], "crop " + std::to_string(k + 1) + " (<" + std::to_string(crop_[k]) + " cyc)");
    consider(second_, "2nd order");
    return v;
  }
  [[nodiscard]] const welch& raw() const noexcept { return raw_; }

 private:
  bool calibrated_ = false;
  std::array<std::uint64_t, crops> crop_{};
  welch raw_;
  std::array<welch, crops> cropped_;
  welch second_;
};

}  // namespace mfakit_ct
