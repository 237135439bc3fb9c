//===- Safetensors.h - Reading safetensors weight files ---------*- C++ -*-===//
//
// Format: u64 little-endian header length, a JSON header mapping tensor
// names to {dtype, shape, data_offsets}, then the raw data. The file is
// memory-mapped; the header is parsed by nlohmann-json and checked (offsets
// in range, sizes matching dtype x shape) before any tensor is read.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DSL_SAFETENSORS_H
#define CERIUM_DSL_SAFETENSORS_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cerium::dsl {

class SafetensorsFile {
public:
  struct Tensor {
    std::string dtype; // F64, F32, F16 or BF16
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0; // byte offsets into the data section
  };

  /// Throws cerium::Error naming the path on a missing, truncated or
  /// malformed file, or an unsupported dtype.
  static std::shared_ptr<const SafetensorsFile> open(const std::string &path);
  ~SafetensorsFile();

  const std::string &path() const { return filePath; }
  const std::map<std::string, Tensor> &tensors() const { return entries; }
  const Tensor *find(const std::string &name) const;
  /// The values of a tensor, converted to double.
  std::vector<double> read(const std::string &name) const;
  /// Up to `max` names closest to `name` (edit distance), best first.
  std::vector<std::string> closeMatches(const std::string &name,
                                        size_t max = 3) const;

private:
  SafetensorsFile() = default;
  std::string filePath;
  std::map<std::string, Tensor> entries;
  const uint8_t *mapped = nullptr;
  size_t mappedBytes = 0;
  const uint8_t *data = nullptr;
  size_t dataBytes = 0;
};

} // namespace cerium::dsl

#endif // CERIUM_DSL_SAFETENSORS_H
