//===- Ntt.cpp - Portable negacyclic NTT ----------------------------------===//
//
// Forward: Cooley-Tukey with psi folded into the twiddles (no pre-twist), so
// the output is the evaluations at psi^(2 brev(k) + 1) in bit-reversed order.
// Inverse: Gentleman-Sande, then a scaling by N^-1. Harvey's lazy butterflies
// (ModArith.h) keep words in [0, 4p) and reduce once at the end.
//
//===----------------------------------------------------------------------===//

#include "cerium/kernels/CpuBackend.h"

namespace cerium::kernels::cpu {

using namespace modarith;

void nttForwardPortable(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  const uint32_t p = t.modulus.value;
  const uint32_t *w = t.forwardTwiddles.data();
  const uint32_t *wq = t.forwardTwiddlesShoup.data();
  for (size_t m = 1, half = n >> 1; m < n; m <<= 1, half >>= 1) {
    for (size_t i = 0; i < m; ++i) {
      uint32_t *x = a + 2 * i * half;
      uint32_t *y = x + half;
      for (size_t j = 0; j < half; ++j)
        forwardButterfly(x[j], y[j], w[m + i], wq[m + i], p);
    }
  }
  for (size_t j = 0; j < n; ++j)
    a[j] = reduceFrom4p(a[j], p);
}

void nttInversePortable(uint32_t *a, const PrimeTables &t, unsigned logN) {
  const size_t n = size_t(1) << logN;
  const uint32_t p = t.modulus.value;
  const uint32_t *w = t.inverseTwiddles.data();
  const uint32_t *wq = t.inverseTwiddlesShoup.data();
  for (size_t m = n >> 1, half = 1; m >= 1; m >>= 1, half <<= 1) {
    for (size_t i = 0; i < m; ++i) {
      uint32_t *x = a + 2 * i * half;
      uint32_t *y = x + half;
      for (size_t j = 0; j < half; ++j)
        inverseButterfly(x[j], y[j], w[m + i], wq[m + i], p);
    }
  }
  for (size_t j = 0; j < n; ++j)
    a[j] = mulShoup(a[j], t.degreeInverse, t.degreeInverseShoup, p);
}

} // namespace cerium::kernels::cpu
