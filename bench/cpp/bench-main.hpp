// The driver shared by the C++ reference benchmarks.
//
//   <program> <inputs> <outputs|-> <seconds> <slice-seconds>
//
// inputs: little-endian doubles: rows, columns, then per column its valid range (min, max,
//   min inclusive 0/1, max inclusive 0/1), then the columns one after another (column-major), in the
//   order the program documents.
// outputs: written as rows, outputs, then the output columns ("-": not written, and the first pass
//   that computes them is skipped).
//
// Prices every row once (the values compared with TypeScript), then does what priceColumns does,
// pass after pass over all rows: checks every input against its valid range, allocates a fresh
// column per output (filled with NaN, as priceColumns's columns are) and prices every row into them; until `seconds` of CPU time have been used.
// Prints {"slices":[[samples, cpuSeconds], …], "checksum": …}, one entry per `slice-seconds` of CPU
// time (or per pass, if a pass takes longer). CPU time rather than wall-clock time, so that a
// shared, busy machine measures the work and not the waits for a core.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace surrogate {

inline bool readDoubles(const char* path, std::vector<double>& data) {
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return false;
  double buf[4096];
  size_t n;
  while ((n = std::fread(buf, sizeof(double), 4096, f)) > 0) data.insert(data.end(), buf, buf + n);
  std::fclose(f);
  return true;
}

inline double cpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Range {
  double min, max;
  bool minInclusive, maxInclusive;
  bool contains(double v) const {
    return (minInclusive ? v >= min : v > min) && (maxInclusive ? v <= max : v < max);
  }
};

/**
 * Whether every value of every column lies in its range (a NaN does not): each column's minimum
 * and maximum first, as priceColumns does.
 */
inline bool allInRange(const std::vector<const double*>& columns, const std::vector<Range>& ranges, size_t rows) {
  for (size_t k = 0; k < columns.size(); k++) {
    const double* c = columns[k];
    double lo = INFINITY;
    double hi = -INFINITY;
    bool nan = false;
    for (size_t i = 0; i < rows; i++) {
      const double v = c[i];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      nan |= v != v;
    }
    if (nan || !ranges[k].contains(lo) || !ranges[k].contains(hi)) return false;
  }
  return true;
}

/**
 * Runs the benchmark. `price(cols, row, out)` prices one row: cols[k][row] is input k, and it
 * writes `nOutputs` values into out.
 */
template <class Price>
int benchMain(int argc, char** argv, int nInputs, int nOutputs, Price price) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <inputs> <outputs> <seconds> <slice-seconds>\n", argv[0]);
    return 2;
  }
  std::vector<double> data;
  if (!readDoubles(argv[1], data) || data.size() < 2) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  const size_t rows = static_cast<size_t>(data[0]);
  const int cols = static_cast<int>(data[1]);
  if (cols != nInputs || data.size() != 2 + 4 * cols + rows * cols) {
    std::fprintf(stderr, "%s: expected %d input columns of %zu rows\n", argv[1], nInputs, rows);
    return 2;
  }
  const double seconds = std::atof(argv[3]);
  const double sliceSeconds = std::atof(argv[4]);
  std::vector<Range> ranges(cols);
  for (int k = 0; k < cols; k++) {
    const double* r = data.data() + 2 + 4 * k;
    ranges[k] = Range{r[0], r[1], r[2] != 0, r[3] != 0};
  }
  std::vector<const double*> columns(cols);
  for (int k = 0; k < cols; k++) columns[k] = data.data() + 2 + 4 * cols + k * rows;
  if (!allInRange(columns, ranges, rows)) {
    std::fprintf(stderr, "%s: an input is outside its valid range\n", argv[1]);
    return 3;
  }
  const bool writeOutputs = std::string(argv[2]) != "-";
  std::vector<double> results(writeOutputs ? rows * nOutputs : 0);
  double out[16];
  for (size_t i = 0; writeOutputs && i < rows; i++) {
    price(columns.data(), i, out);
    for (int j = 0; j < nOutputs; j++) results[j * rows + i] = out[j];
  }

  std::vector<std::pair<size_t, double>> slices;
  double checksum = 0;
  double total = 0;
  while (total < seconds) {
    const double start = cpuSeconds();
    size_t samples = 0;
    double elapsed = 0;
    do {
      if (!allInRange(columns, ranges, rows)) return 3;
      std::vector<std::vector<double>> outputs(nOutputs, std::vector<double>(rows, NAN));
      for (size_t i = 0; i < rows; i++) {
        price(columns.data(), i, out);
        for (int j = 0; j < nOutputs; j++) outputs[j][i] = out[j];
      }
      checksum += outputs[0][rows - 1];
      samples += rows;
      elapsed = cpuSeconds() - start;
    } while (elapsed < sliceSeconds);
    slices.emplace_back(samples, elapsed);
    total += elapsed;
  }

  if (writeOutputs) {
    FILE* f = std::fopen(argv[2], "wb");
    if (f == nullptr) {
      std::fprintf(stderr, "cannot write %s\n", argv[2]);
      return 2;
    }
    const double header[2] = {static_cast<double>(rows), static_cast<double>(nOutputs)};
    std::fwrite(header, sizeof(double), 2, f);
    std::fwrite(results.data(), sizeof(double), results.size(), f);
    std::fclose(f);
  }
  std::printf("{\"slices\":[");
  for (size_t s = 0; s < slices.size(); s++) {
    std::printf("%s[%zu,%.9f]", s == 0 ? "" : ",", slices[s].first, slices[s].second);
  }
  std::printf("],\"checksum\":%.17g}\n", checksum);
  return 0;
}

}  // namespace surrogate
