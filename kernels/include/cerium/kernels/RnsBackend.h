//===- RnsBackend.h - The limb-level kernel interface -----------*- C++ -*-===//
//
// The primitives that the compiler's rns-level schedules call. A backend (CPU
// now, CUDA next) implements each one over limb arrays that live in its own
// memory; views carry the prime id of every limb, so one call processes any
// batch of limbs, from one polynomial or from several ciphertexts stacked.
//
// Layout: limb i of a view occupies data[i * N, (i + 1) * N). Polynomials in
// the NTT domain hold their evaluations in bit-reversed order.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_KERNELS_RNSBACKEND_H
#define CERIUM_KERNELS_RNSBACKEND_H

#include "cerium/kernels/ElementwiseProgram.h"
#include "cerium/kernels/RnsContext.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

namespace cerium::kernels {

enum class Domain : uint8_t { Coefficient, Ntt };

template <class T> struct LimbsView {
  T *data = nullptr;
  std::span<const uint32_t> primes;
  size_t degree = 0;

  LimbsView() = default;
  LimbsView(T *data, std::span<const uint32_t> primes, size_t degree)
      : data(data), primes(primes), degree(degree) {}
  /// A mutable view converts to a const one.
  template <class U>
  requires(std::is_same_v<T, const U>) LimbsView(const LimbsView<U> &o)
      : data(o.data), primes(o.primes), degree(o.degree) {}

  size_t numLimbs() const { return primes.size(); }
  size_t numWords() const { return primes.size() * degree; }
  T *limb(size_t i) const { return data + i * degree; }
  /// Limbs [first, first + count) as a view of their own.
  LimbsView slice(size_t first, size_t count) const {
    return {data + first * degree, primes.subspan(first, count), degree};
  }
};
using Limbs = LimbsView<uint32_t>;
using ConstLimbs = LimbsView<const uint32_t>;

/// Tables for base conversion from basis A to basis B with the
/// Halevi-Polyakov-Shoup correction: y_i = [x_i (A/a_i)^-1]_{a_i},
/// v = round(sum_i y_i / a_i) (in double precision), and
/// x_b = sum_i y_i (A/a_i) - v A mod b. The result is the centered
/// representative of x mod A, in (-A/2, A/2], except within about 2^-45 A of
/// +-A/2 where double rounding may pick the neighbour (x +- A). Centering
/// matters: the uncorrected conversion (x + u A, 0 <= u < |A|) leaves a
/// biased error that ModDown turns into a noise polynomial whose constant
/// mean is amplified ~N-fold in the slots near zeta.
class BaseConverter {
public:
  BaseConverter(const RnsContext &ctx, std::span<const uint32_t> from,
                std::span<const uint32_t> to);

  std::span<const uint32_t> inputs() const { return from; }
  std::span<const uint32_t> outputs() const { return to; }
  /// (A/a_i)^-1 mod a_i and its Shoup quotient.
  std::span<const uint32_t> hatInverse() const { return hatInv; }
  std::span<const uint32_t> hatInverseShoup() const { return hatInvShoup; }
  /// (A/a_i) mod b_j, row-major [j][i].
  std::span<const uint32_t> hatModOutput() const { return hatMod; }
  /// 1 / a_i in double precision.
  std::span<const double> inputReciprocals() const { return recip; }
  /// A mod b_j.
  std::span<const uint32_t> productModOutput() const { return prodMod; }
  /// A^-1 mod b_j (for ModDown), and its Shoup quotient.
  std::span<const uint32_t> productInverse() const { return prodInv; }
  std::span<const uint32_t> productInverseShoup() const { return prodInvShoup; }

private:
  std::vector<uint32_t> from, to, hatInv, hatInvShoup, hatMod, prodMod, prodInv,
      prodInvShoup;
  std::vector<double> recip;
};

/// Kernel calls recorded once and replayed as a unit (a CUDA graph).
class RecordedWork {
public:
  virtual ~RecordedWork();
  /// Enqueues the recorded calls again, on the same buffers.
  virtual void replay() = 0;
};

class RnsBackend {
public:
  virtual ~RnsBackend();
  virtual const RnsContext &context() const = 0;

  // Memory the kernels operate on: host memory for the CPU backend, device
  // memory for CUDA. Views passed to the kernels point into it.
  virtual uint32_t *allocate(size_t words) = 0;
  virtual void deallocate(uint32_t *words) = 0;
  virtual void copyFromHost(uint32_t *dst, const uint32_t *src,
                            size_t words) = 0;
  virtual void copyToHost(uint32_t *dst, const uint32_t *src, size_t words) = 0;
  /// Copy within backend memory.
  virtual void copy(uint32_t *dst, const uint32_t *src, size_t words) = 0;
  /// Waits until all submitted kernels have finished.
  virtual void synchronize() = 0;
  /// Whether backend memory is host memory (then host data such as keys can
  /// be passed to the kernels without a copy).
  virtual bool hostAccessible() const { return false; }
  /// Bytes of backend memory free now (SIZE_MAX for host memory, which the
  /// operating system manages, or where unknown).
  virtual size_t freeMemory() const { return SIZE_MAX; }
  /// Threads the backend runs host work on (what host-side helpers such as
  /// the encoder's slot transform may use beside it).
  virtual int hostThreads() const { return 1; }

  /// Negacyclic NTT in place: coefficients -> evaluations (bit-reversed).
  virtual void nttForward(Limbs x) = 0;
  /// Inverse of nttForward, in place.
  virtual void nttInverse(Limbs x) = 0;
  /// out = nttForward of the integer polynomial `coefficients` (host
  /// memory) reduced modulo each prime of out: the last step of encoding a
  /// plaintext. M = coefficients.size() is the degree or a power of two
  /// below it, for the polynomial sum_k c_k X^(k N / M) (a vector of period
  /// M / 2 in the slots, encoded sparsely). The default expands and reduces
  /// on the host and copies; a backend may fuse the reduction into its
  /// transforms, and transform M words instead of N.
  virtual void nttForwardSigned(Limbs out,
                                std::span<const int64_t> coefficients);
  /// The size-M transform that nttForwardSigned repeats (M =
  /// coefficients.size() = out.degree, a power of two up to N): word j of
  /// each limb of out stands for words [j N/M, (j + 1) N/M) of the whole
  /// limb, which the bit-reversed order puts side by side. A constant's
  /// compact limbs, as elementwiseRepeated reads them. The default
  /// transforms whole limbs and keeps every (N/M)-th word.
  virtual void nttForwardSignedCompact(Limbs out,
                                       std::span<const int64_t> coefficients);
  /// nttForwardSigned of `count` coefficients held in backend memory, each
  /// int64 as two words (low word first, 8-byte aligned, as a buffer of its
  /// own is): a plaintext kept compact on a
  /// device and made into limbs right before each use. The default copies
  /// them to the host; a device backend spreads and transforms them where
  /// they are (no host copy, so a recorded run can replay it).
  virtual void nttForwardSignedResident(Limbs out, const uint32_t *coefficients,
                                        size_t count);

  // Elementwise limb operations. Outputs may alias inputs.
  virtual void add(Limbs out, ConstLimbs a, ConstLimbs b) = 0;
  virtual void sub(Limbs out, ConstLimbs a, ConstLimbs b) = 0;
  virtual void negate(Limbs out, ConstLimbs a) = 0;
  virtual void mul(Limbs out, ConstLimbs a, ConstLimbs b) = 0;
  /// out += a * b.
  virtual void mulAdd(Limbs out, ConstLimbs a, ConstLimbs b) = 0;
  /// out = a * s_i on limb i (s_i < p_i).
  virtual void mulScalar(Limbs out, ConstLimbs a,
                         std::span<const uint32_t> scalars) = 0;
  /// out = a + s_i on limb i (s_i < p_i): adds a constant polynomial in the
  /// NTT domain.
  virtual void addScalar(Limbs out, ConstLimbs a,
                         std::span<const uint32_t> scalars) = 0;
  /// out = (a - b) * s_i on limb i: the tail of ModDown and rescale.
  virtual void subMulScalar(Limbs out, ConstLimbs a, ConstLimbs b,
                            std::span<const uint32_t> scalars) = 0;

  /// A fused elementwise kernel: outputs[k] = result k of `program` on the
  /// inputs, limb by limb (all views over the same primes, those the
  /// program's constants were reduced for). Outputs may alias inputs.
  virtual void elementwise(const ElementwiseProgram &program,
                           std::span<const Limbs> outputs,
                           std::span<const ConstLimbs> inputs) = 0;
  /// elementwise with input r given by its compact limbs where repeats[r] =
  /// g > 1 (inputs[r].degree = N / g; word j of the whole limb is word j / g,
  /// as nttForwardSignedCompact makes them): a periodic constant read where
  /// it is rather than spread over whole limbs first. The default spreads
  /// such inputs into whole limbs and calls elementwise.
  virtual void elementwiseRepeated(const ElementwiseProgram &program,
                                   std::span<const Limbs> outputs,
                                   std::span<const ConstLimbs> inputs,
                                   std::span<const uint32_t> repeats);

  /// Runs `work` (a sequence of calls on this backend) once and, if the
  /// backend can, returns it recorded for replay; nullptr otherwise (the
  /// default: the work has simply run). Replays must see the same buffers,
  /// and `work` must not copy from host memory, so callers record a warmed
  /// up sequence whose tables the backend already holds.
  virtual std::unique_ptr<RecordedWork>
  record(const std::function<void()> &work) {
    work();
    return nullptr;
  }

  /// Kernels generated for a program (ElementwiseProgram::kernelName names
  /// them): `source` is their CUDA C++, `image` what nvcc built from it (a
  /// fatbin; may be empty). A backend that runs them loads them here and
  /// launches them for programs that name one; the default keeps
  /// interpreting the programs.
  virtual void loadGeneratedKernels(const std::string &source,
                                    std::span<const uint8_t> image) {}

  /// out(X) = in(X^galois), galois odd, in either domain. out must not alias
  /// in.
  virtual void automorphism(Limbs out, ConstLimbs in, uint32_t galois,
                            Domain domain) = 0;

  /// Fast base conversion in the coefficient domain: in over conv.inputs(),
  /// out over conv.outputs().
  virtual void baseConvert(const BaseConverter &conv, Limbs out,
                           ConstLimbs in) = 0;

  /// ModUp of one key-switching digit (NTT domain in and out). `extended`
  /// covers the target basis; limbs [digitOffset, digitOffset + |digit|) of
  /// it receive the digit itself and the others its base conversion, whose
  /// primes conv.outputs() lists in the order of `extended` with the digit's
  /// primes removed. Composed once from the primitives above (a backend may
  /// override it with a fused kernel).
  virtual void modUp(const BaseConverter &conv, Limbs extended,
                     ConstLimbs digit, size_t digitOffset);

  /// ModDown (NTT domain in and out): `extended` = [P limbs, Q limbs]
  /// with the P primes first; out = (x - [x]_P) / P = round(x / P) over the
  /// Q primes ([x]_P centered). conv converts from P (its inputs) to the Q
  /// primes (its outputs). Composed from the primitives, like modUp.
  virtual void modDown(const BaseConverter &conv, Limbs out,
                       ConstLimbs extended);

  /// Divide-and-round by the last prime of `in`: out has in's primes minus
  /// the last one.
  virtual void rescaleByLastPrime(Limbs out, ConstLimbs in, Domain domain) = 0;

  /// Key-switching inner product over digits j (NTT domain):
  /// out0 = sum_j digits[j] * keyB[j], out1 = sum_j digits[j] * keyA[j],
  /// all over the same primes, reduced once per output word.
  virtual void keySwitchInnerProduct(Limbs out0, Limbs out1,
                                     std::span<const ConstLimbs> digits,
                                     std::span<const ConstLimbs> keyB,
                                     std::span<const ConstLimbs> keyA) = 0;

  /// Makes limb `limb` of digit `digit` of a switching key's uniform half
  /// into `out` (N words, NTT domain). Kernel threads call it concurrently,
  /// so it must not throw.
  using UniformLimbSource =
      std::function<void(size_t digit, size_t limb, std::span<uint32_t> out)>;
  /// keySwitchInnerProduct for a key held with its uniform halves as seeds:
  /// limb i of digit j of keyA is keyA(j, firstKeyLimb + i, ...), made
  /// right before its products instead of read from memory (the key then
  /// takes half the bytes, and those products read half as much). The
  /// default makes every limb into a host buffer first: backends whose
  /// memory the host cannot address (hostAccessible) hold keys whole.
  virtual void keySwitchInnerProduct(Limbs out0, Limbs out1,
                                     std::span<const ConstLimbs> digits,
                                     std::span<const ConstLimbs> keyB,
                                     const UniformLimbSource &keyA,
                                     size_t firstKeyLimb);

  /// The two inner products above with every digit read through the
  /// NTT-domain automorphism X -> X^galois (galois odd), as
  /// automorphism(..., Domain::Ntt) would write it: a hoisted rotation's
  /// raised digits used where they are. The defaults rotate the digits into
  /// backend memory first; a backend may permute them as the products read
  /// them.
  virtual void keySwitchInnerProductRotated(Limbs out0, Limbs out1,
                                            std::span<const ConstLimbs> digits,
                                            std::span<const ConstLimbs> keyB,
                                            std::span<const ConstLimbs> keyA,
                                            uint32_t galois);
  virtual void keySwitchInnerProductRotated(Limbs out0, Limbs out1,
                                            std::span<const ConstLimbs> digits,
                                            std::span<const ConstLimbs> keyB,
                                            const UniformLimbSource &keyA,
                                            size_t firstKeyLimb,
                                            uint32_t galois);

protected:
  /// nttForwardSigned's operands (every override's): a power of two of
  /// coefficients, at most one per word of a limb.
  static void checkSignedCoefficients(Limbs out, size_t count);
  /// nttForwardSignedCompact's: one coefficient per word of a limb, a power
  /// of two up to the degree.
  void checkCompactCoefficients(Limbs out, size_t count) const;
  /// elementwiseRepeated's: one repeat per input, and each repeated
  /// input's words times its repeat the degree.
  void checkRepeatedInputs(std::span<const ConstLimbs> inputs,
                           std::span<const uint32_t> repeats) const;
};

/// Backend memory owned RAII-style.
class BackendBuffer {
public:
  BackendBuffer() = default;
  BackendBuffer(RnsBackend &backend, size_t words)
      : backend(&backend), ptr(words ? backend.allocate(words) : nullptr),
        count(words) {}
  BackendBuffer(BackendBuffer &&o) noexcept
      : backend(o.backend), ptr(o.ptr), count(o.count) {
    o.ptr = nullptr;
    o.count = 0;
  }
  BackendBuffer &operator=(BackendBuffer &&o) noexcept {
    std::swap(backend, o.backend);
    std::swap(ptr, o.ptr);
    std::swap(count, o.count);
    return *this;
  }
  ~BackendBuffer() {
    if (ptr)
      backend->deallocate(ptr);
  }
  uint32_t *data() const { return ptr; }
  size_t size() const { return count; }

private:
  RnsBackend *backend = nullptr;
  uint32_t *ptr = nullptr;
  size_t count = 0;
};

} // namespace cerium::kernels

#endif // CERIUM_KERNELS_RNSBACKEND_H
