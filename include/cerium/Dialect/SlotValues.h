//===- SlotValues.h - Compact plaintext slot values -------------*- C++ -*-===//
//
// The slot values of a plaintext constant (ckks.encode, poly.encode,
// rns.encode) as they are stored in the artifact: one period `values` (f64,
// or f32 when every value is exactly a float), repeated over `count` slots
// starting at slot `offset`; every other slot is zero. A diagonal of a
// linear layer pre-rotated for its giant step is `offset` zeros and one
// row's worth of values, a diagonal of a small matrix repeats every d slots,
// and weights loaded from f32 tensors are floats: storing them this way
// keeps the artifact near the size of the weights instead of n doubles per
// constant. Expansion is exact (float -> double and repetition), so the
// encoder sees the same doubles as before compaction. A `complex` encode
// stores (real, imaginary) pairs and counts slots in pairs.
//
//===----------------------------------------------------------------------===//

#ifndef CERIUM_DIALECT_SLOTVALUES_H
#define CERIUM_DIALECT_SLOTVALUES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <complex>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace cerium {

/// The values of a compact encode: one period, where it starts and how many
/// slots it fills (absent attributes: offset 0, count = the period).
struct CompactSlotValues {
  mlir::Attribute values; // DenseF64ArrayAttr or DenseF32ArrayAttr
  mlir::IntegerAttr offset, count;
};

/// Bitwise equality: -0.0 is not +0.0 to the encoder's FFT, so only values
/// with identical bits may share storage.
inline bool sameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

/// The smallest period of `window` that divides its length.
inline size_t smallestPeriod(llvm::ArrayRef<double> window) {
  for (size_t p = 1; p < window.size(); ++p) {
    if (window.size() % p)
      continue;
    bool periodic = true;
    for (size_t i = p; i < window.size() && periodic; ++i)
      periodic = sameBits(window[i], window[i - p]);
    if (periodic)
      return p;
  }
  return window.size();
}

/// The smallest storage of `slots` (slot i holds slots[i], the rest zero):
/// the window [offset, offset + count) either trims the +0.0 slots at an end
/// or keeps them (a mask [0 1 1 1 0 1 1 1] repeats only with its leading
/// zero), whichever leaves the shortest period dividing the window; f32 when
/// every value of the period converts back exactly.
inline CompactSlotValues compactSlotValues(mlir::Builder &b,
                                           llvm::ArrayRef<double> slots) {
  size_t begin = 0, end = slots.size();
  while (begin < end && sameBits(slots[begin], 0.0))
    ++begin;
  while (end > begin && sameBits(slots[end - 1], 0.0))
    --end;
  if (begin == end) // all zero: one zero slot encodes the same plaintext
    return {b.getDenseF32ArrayAttr({0.0f}), {}, {}};
  size_t offset = begin, count = end - begin,
         period = smallestPeriod(slots.slice(begin, end - begin));
  for (size_t first : {begin, size_t(0)})
    for (size_t last : {end, slots.size()}) {
      size_t p = smallestPeriod(slots.slice(first, last - first));
      if (p < period) {
        offset = first;
        count = last - first;
        period = p;
      }
    }
  llvm::ArrayRef<double> one = slots.slice(offset, period);
  std::vector<float> narrow;
  for (double v : one) {
    float f = static_cast<float>(v);
    if (!sameBits(static_cast<double>(f), v))
      break;
    narrow.push_back(f);
  }
  CompactSlotValues c;
  c.values = narrow.size() == one.size()
                 ? mlir::Attribute(b.getDenseF32ArrayAttr(narrow))
                 : mlir::Attribute(b.getDenseF64ArrayAttr(one));
  if (offset)
    c.offset = b.getI64IntegerAttr(int64_t(offset));
  if (period != count)
    c.count = b.getI64IntegerAttr(int64_t(count));
  return c;
}

/// One stored period wherever it lives: an attribute's storage (a program
/// compiled in this process) or the constant section of a mapped artifact
/// (rns.encode's #rns.stored). `data` is null where only the shape is known,
/// as a verifier sees values kept outside the program.
struct SlotValueData {
  const void *data = nullptr;
  size_t count = 0; // values in one period
  bool f32 = false;

  /// Bytes the artifact stores for the values (4 per f32, 8 per f64).
  size_t bytes() const { return count * (f32 ? 4 : 8); }
};

/// The values of a DenseF32ArrayAttr or DenseF64ArrayAttr.
inline SlotValueData slotValueData(mlir::Attribute values) {
  if (auto f = mlir::dyn_cast<mlir::DenseF32ArrayAttr>(values))
    return {f.asArrayRef().data(), f.asArrayRef().size(), true};
  auto d = mlir::cast<mlir::DenseF64ArrayAttr>(values);
  return {d.asArrayRef().data(), d.asArrayRef().size(), false};
}

/// Number of slots one period fills: values, or pairs of them if complex.
inline int64_t slotPeriod(SlotValueData values, bool complex) {
  return int64_t(values.count) / (complex ? 2 : 1);
}

/// The shared verifier: a non-empty period that divides `count`, a
/// non-negative `offset`, slots that fit an int64, and whole pairs when
/// complex.
inline mlir::LogicalResult verifySlotValues(mlir::Operation *op,
                                            SlotValueData values,
                                            std::optional<int64_t> offset,
                                            std::optional<int64_t> count,
                                            bool complex = false) {
  if (complex && values.count % 2)
    return op->emitOpError("complex values come in (real, imaginary) pairs");
  const int64_t period = slotPeriod(values, complex);
  if (period == 0)
    return op->emitOpError("needs at least one slot value");
  if (offset && *offset < 0)
    return op->emitOpError("offset must be non-negative, got ") << *offset;
  if (count && (*count < period || *count % period))
    return op->emitOpError("count ") << *count << " is not a multiple of the "
                                     << period << " stored values";
  if (offset && count && *offset > std::numeric_limits<int64_t>::max() - *count)
    return op->emitOpError("offset + count overflows");
  return mlir::success();
}

/// The last slot the values fill, plus one.
inline int64_t slotValueEnd(SlotValueData values, std::optional<int64_t> offset,
                            std::optional<int64_t> count,
                            bool complex = false) {
  return offset.value_or(0) + count.value_or(slotPeriod(values, complex));
}

/// The slot count of the encoder for a constant filling `end` slots in a
/// program of `programSlots`: the program's, or the power of two past a
/// longer vector (a bootstrap's factors over 2n slots), whose period it is.
inline uint64_t encoderSlots(int64_t end, uint64_t programSlots) {
  return std::max(programSlots, std::bit_ceil(uint64_t(end)));
}

/// The stored period as doubles (values with their data: not a verifier's
/// shape-only view).
inline std::vector<double> storedSlotValues(SlotValueData values) {
  assert(values.data && "slot values without their data");
  if (values.f32) {
    const auto *f = static_cast<const float *>(values.data);
    return std::vector<double>(f, f + values.count);
  }
  const auto *d = static_cast<const double *>(values.data);
  return std::vector<double>(d, d + values.count);
}

/// Slots [0, offset + count) as the encoder takes them (it zero-pads the
/// rest). Callers bound offset + count by the slot count first.
inline std::vector<double> expandSlotValues(SlotValueData values,
                                            std::optional<int64_t> offset,
                                            std::optional<int64_t> count) {
  const std::vector<double> one = storedSlotValues(values);
  const size_t begin = size_t(offset.value_or(0));
  const size_t n = size_t(count.value_or(int64_t(one.size())));
  std::vector<double> slots(begin + n, 0.0);
  for (size_t i = 0; i < n; ++i)
    slots[begin + i] = one[i % one.size()];
  return slots;
}

/// The complex slots [0, offset + count) of a `complex` encode.
inline std::vector<std::complex<double>>
expandComplexSlotValues(SlotValueData values, std::optional<int64_t> offset,
                        std::optional<int64_t> count) {
  assert(values.data && "slot values without their data");
  const size_t period = size_t(slotPeriod(values, true));
  const size_t begin = size_t(offset.value_or(0));
  const size_t n = size_t(count.value_or(int64_t(period)));
  std::vector<std::complex<double>> slots(begin + n);
  // Straight from the stored values, without a division per slot:
  // the runtime expands a diagonal (tens of thousands of slots) per encode.
  auto fill = [&](auto pairs) {
    for (size_t i = 0, k = 0; i < n; ++i, k = k + 1 == period ? 0 : k + 1)
      slots[begin + i] = {double(pairs[2 * k]), double(pairs[2 * k + 1])};
  };
  if (values.f32)
    fill(static_cast<const float *>(values.data));
  else
    fill(static_cast<const double *>(values.data));
  return slots;
}

/// The slots [0, offset + count) of an encode as the encoder takes them,
/// complex (real values with zero imaginary parts).
inline std::vector<std::complex<double>>
expandEncodeSlotValues(SlotValueData values, std::optional<int64_t> offset,
                       std::optional<int64_t> count, bool complex) {
  if (complex)
    return expandComplexSlotValues(values, offset, count);
  const std::vector<double> real = expandSlotValues(values, offset, count);
  return std::vector<std::complex<double>>(real.begin(), real.end());
}

/// Custom assembly: `[1.0, 2.0]` for f64 values (the form before compact
/// storage), `f32 [1.0, 2.0]` for f32.
inline mlir::ParseResult parseSlotValues(mlir::OpAsmParser &parser,
                                         mlir::Attribute &values) {
  if (succeeded(parser.parseOptionalKeyword("f32")))
    values = mlir::DenseF32ArrayAttr::parse(parser, mlir::Type());
  else
    values = mlir::DenseF64ArrayAttr::parse(parser, mlir::Type());
  return mlir::success(values != nullptr);
}

inline void printSlotValues(mlir::OpAsmPrinter &printer, mlir::Operation *,
                            mlir::Attribute values) {
  if (auto f = mlir::dyn_cast<mlir::DenseF32ArrayAttr>(values)) {
    printer << "f32 ";
    f.print(printer);
    return;
  }
  mlir::cast<mlir::DenseF64ArrayAttr>(values).print(printer);
}

} // namespace cerium

#endif // CERIUM_DIALECT_SLOTVALUES_H
