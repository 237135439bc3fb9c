//===- CudaBackendTest.cpp - CUDA kernels bit-identical to the CPU ones ---===//
//
// Every primitive of RnsBackend runs on random inputs on both backends and
// the results must agree word for word, for N = 2^12 .. 2^17 and many limbs.
// Without a GPU every test skips with the reason (ctest label `gpu`).
//
//===----------------------------------------------------------------------===//

#include "../unit/TestSupport.h"

#include "cerium/kernels/CpuBackend.h"
#include "cerium/kernels/CudaBackend.h"

#include <numeric>

using namespace cerium;
using namespace cerium::kernels;

namespace {

class CudaBackendTest : public ::testing::TestWithParam<unsigned> {
protected:
  void SetUp() override {
    std::string why;
    if (!cudaDeviceAvailable(&why))
      GTEST_SKIP() << "no CUDA device (" << why << "): GPU test skipped";
    const unsigned logN = GetParam();
    // 12 "Q" primes of mixed widths, then 4 "P" primes.
    auto primes = generatePrimes(logN, 28, 6);
    for (uint32_t p : generatePrimes(logN, 25, 6))
      primes.push_back(p);
    for (uint32_t p : generatePrimes(logN, 30, 4))
      primes.push_back(p);
    ctx = std::make_unique<RnsContext>(logN, primes);
    cpu = createCpuBackend(*ctx);
    gpu = createCudaBackend(*ctx);
    ids.resize(ctx->numPrimes());
    std::iota(ids.begin(), ids.end(), 0);
  }

  std::vector<uint32_t> random(std::span<const uint32_t> primes, Prng &prng) {
    std::vector<uint32_t> v(primes.size() * ctx->degree());
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = prng.uniformBelow(ctx->modulus(primes[i / ctx->degree()]));
    return v;
  }

  /// A host vector mirrored in device memory.
  struct Mirror {
    Mirror(RnsBackend &gpu, std::vector<uint32_t> host)
        : host(std::move(host)), device(gpu, this->host.size()) {
      gpu.copyFromHost(device.data(), this->host.data(), this->host.size());
    }
    std::vector<uint32_t> host;
    BackendBuffer device;
  };
  Mirror mirror(std::vector<uint32_t> host) { return Mirror(*gpu, host); }
  Limbs hostView(Mirror &m, std::span<const uint32_t> primes) {
    return {m.host.data(), primes, ctx->degree()};
  }
  Limbs deviceView(Mirror &m, std::span<const uint32_t> primes) {
    return {m.device.data(), primes, ctx->degree()};
  }
  /// Device contents equal the host contents.
  void expectSame(Mirror &m, const char *what) {
    std::vector<uint32_t> back(m.host.size());
    gpu->copyToHost(back.data(), m.device.data(), back.size());
    ASSERT_EQ(back.size(), m.host.size());
    for (size_t i = 0; i < back.size(); ++i)
      ASSERT_EQ(back[i], m.host[i])
          << what << ": word " << i << " (limb " << i / ctx->degree() << ")";
  }

  std::unique_ptr<RnsContext> ctx;
  std::unique_ptr<RnsBackend> cpu, gpu;
  std::vector<uint32_t> ids;
};

TEST_P(CudaBackendTest, NttMatchesCpu) {
  CERIUM_SEEDED_PRNG(prng);
  Mirror x = mirror(random(ids, prng));
  cpu->nttForward(hostView(x, ids));
  gpu->nttForward(deviceView(x, ids));
  expectSame(x, "nttForward");
  cpu->nttInverse(hostView(x, ids));
  gpu->nttInverse(deviceView(x, ids));
  expectSame(x, "nttInverse");
}

TEST_P(CudaBackendTest, ElementwiseMatchesCpu) {
  CERIUM_SEEDED_PRNG(prng);
  Mirror a = mirror(random(ids, prng)), b = mirror(random(ids, prng));
  Mirror out = mirror(random(ids, prng));
  std::vector<uint32_t> scalars(ids.size());
  for (size_t i = 0; i < ids.size(); ++i)
    scalars[i] = prng.uniformBelow(ctx->modulus(ids[i]));
  auto both = [&](const char *what, auto op) {
    op(*cpu, hostView(out, ids), hostView(a, ids), hostView(b, ids));
    op(*gpu, deviceView(out, ids), deviceView(a, ids), deviceView(b, ids));
    expectSame(out, what);
  };
  both("add", [](RnsBackend &k, Limbs o, Limbs x, Limbs y) { k.add(o, x, y); });
  both("sub", [](RnsBackend &k, Limbs o, Limbs x, Limbs y) { k.sub(o, x, y); });
  both("negate",
       [](RnsBackend &k, Limbs o, Limbs x, Limbs) { k.negate(o, x); });
  both("mul", [](RnsBackend &k, Limbs o, Limbs x, Limbs y) { k.mul(o, x, y); });
  both("mulAdd",
       [](RnsBackend &k, Limbs o, Limbs x, Limbs y) { k.mulAdd(o, x, y); });
  both("mulScalar", [&](RnsBackend &k, Limbs o, Limbs x, Limbs) {
    k.mulScalar(o, x, scalars);
  });
  both("addScalar", [&](RnsBackend &k, Limbs o, Limbs x, Limbs) {
    k.addScalar(o, x, scalars);
  });
  both("subMulScalar", [&](RnsBackend &k, Limbs o, Limbs x, Limbs y) {
    k.subMulScalar(o, x, y, scalars);
  });
}

TEST_P(CudaBackendTest, AutomorphismMatchesCpu) {
  CERIUM_SEEDED_PRNG(prng);
  const uint32_t twoN = uint32_t(2 * ctx->degree());
  for (uint32_t g : {5u, 25u, twoN - 1, 2 * prng.uniformBelow(twoN / 2) + 1})
    for (Domain d : {Domain::Coefficient, Domain::Ntt}) {
      Mirror in = mirror(random(ids, prng)), out = mirror(random(ids, prng));
      cpu->automorphism(hostView(out, ids), hostView(in, ids), g, d);
      gpu->automorphism(deviceView(out, ids), deviceView(in, ids), g, d);
      expectSame(out, "automorphism");
    }
}

// A compact plaintext made into limbs on the device: signed coefficients of
// every magnitude (both signs, up to 2^62) and every power-of-two count
// (periods), spread and transformed, equal the CPU's signed transform.
TEST_P(CudaBackendTest, SignedTransformOfResidentCoefficientsMatchesCpu) {
  CERIUM_SEEDED_PRNG(prng);
  for (size_t count = 2; count <= ctx->degree(); count *= 8) {
    std::vector<int64_t> coefficients(count);
    for (size_t k = 0; k < count; ++k) {
      const int bits = int(prng.uniformBelow(63));
      const int64_t magnitude = int64_t(prng.uniformBelow(1u << 31))
                                << std::max(0, bits - 31);
      coefficients[k] = prng.uniformBelow(2) ? magnitude : -magnitude;
    }
    Mirror out = mirror(random(ids, prng));
    BackendBuffer resident(*gpu, 2 * count);
    gpu->copyFromHost(resident.data(),
                      reinterpret_cast<const uint32_t *>(coefficients.data()),
                      2 * count);
    cpu->nttForwardSigned(hostView(out, ids), coefficients);
    gpu->nttForwardSignedResident(deviceView(out, ids), resident.data(), count);
    expectSame(out, "nttForwardSignedResident");
  }
}

// The key-switch product reading its digits through an automorphism (a
// hoisted rotation's digits used in place) equals the CPU's, for several
// Galois elements.
TEST_P(CudaBackendTest, RotatedKeySwitchInnerProductMatchesCpu) {
  CERIUM_SEEDED_PRNG(prng);
  const size_t beta = 3;
  std::vector<Mirror> digits, keyB, keyA;
  for (size_t d = 0; d < beta; ++d) {
    digits.push_back(mirror(random(ids, prng)));
    keyB.push_back(mirror(random(ids, prng)));
    keyA.push_back(mirror(random(ids, prng)));
  }
  auto views = [&](std::vector<Mirror> &v, bool device) {
    std::vector<ConstLimbs> out;
    for (Mirror &m : v)
      out.push_back(device ? deviceView(m, ids) : hostView(m, ids));
    return out;
  };
  const uint32_t twoN = uint32_t(2 * ctx->degree());
  for (uint32_t g : {5u, twoN - 1, 2 * prng.uniformBelow(twoN / 2) + 1}) {
    Mirror out0 = mirror(random(ids, prng)), out1 = mirror(random(ids, prng));
    cpu->keySwitchInnerProductRotated(hostView(out0, ids), hostView(out1, ids),
                                      views(digits, false), views(keyB, false),
                                      views(keyA, false), g);
    gpu->keySwitchInnerProductRotated(
        deviceView(out0, ids), deviceView(out1, ids), views(digits, true),
        views(keyB, true), views(keyA, true), g);
    expectSame(out0, "rotated key switch (b)");
    expectSame(out1, "rotated key switch (a)");
  }
}

TEST_P(CudaBackendTest, BaseConversionModUpModDownMatchCpu) {
  CERIUM_SEEDED_PRNG(prng);
  std::span<const uint32_t> all(ids);
  // Extended basis [P, Q] with P = ids 12..15, Q = ids 0..11.
  std::vector<uint32_t> ext(all.begin() + 12, all.end());
  ext.insert(ext.end(), all.begin(), all.begin() + 12);
  std::vector<uint32_t> p(all.begin() + 12, all.end()),
      q(all.begin(), all.begin() + 12);
  // Digit = Q ids 4..7 at offset 4 + 4 of the extended basis.
  std::vector<uint32_t> digit(q.begin() + 4, q.begin() + 8), rest(ext);
  rest.erase(rest.begin() + 8, rest.begin() + 12);

  BaseConverter toP(*ctx, q, p);
  Mirror in = mirror(random(q, prng)), out = mirror(random(p, prng));
  cpu->baseConvert(toP, hostView(out, p), hostView(in, q));
  gpu->baseConvert(toP, deviceView(out, p), deviceView(in, q));
  expectSame(out, "baseConvert");

  BaseConverter up(*ctx, digit, rest);
  Mirror d = mirror(random(digit, prng)), e = mirror(random(ext, prng));
  cpu->modUp(up, hostView(e, ext), hostView(d, digit), 8);
  gpu->modUp(up, deviceView(e, ext), deviceView(d, digit), 8);
  expectSame(e, "modUp");

  BaseConverter down(*ctx, p, q);
  Mirror x = mirror(random(ext, prng)), y = mirror(random(q, prng));
  cpu->modDown(down, hostView(y, q), hostView(x, ext));
  gpu->modDown(down, deviceView(y, q), deviceView(x, ext));
  expectSame(y, "modDown");
}

TEST_P(CudaBackendTest, RescaleAndKeySwitchInnerProductMatchCpu) {
  CERIUM_SEEDED_PRNG(prng);
  std::span<const uint32_t> q = std::span<const uint32_t>(ids).first(12);
  for (Domain d : {Domain::Coefficient, Domain::Ntt}) {
    Mirror in = mirror(random(q, prng)),
           out = mirror(random(q.first(11), prng));
    cpu->rescaleByLastPrime(hostView(out, q.first(11)), hostView(in, q), d);
    gpu->rescaleByLastPrime(deviceView(out, q.first(11)), deviceView(in, q), d);
    expectSame(out, "rescaleByLastPrime");
  }
  for (size_t beta : {1u, 4u, 17u}) {
    std::vector<Mirror> parts;
    for (size_t i = 0; i < 3 * beta; ++i)
      parts.push_back(mirror(random(ids, prng)));
    std::vector<ConstLimbs> hd, hb, ha, dd, db, da;
    for (size_t j = 0; j < beta; ++j) {
      hd.push_back(hostView(parts[3 * j], ids));
      hb.push_back(hostView(parts[3 * j + 1], ids));
      ha.push_back(hostView(parts[3 * j + 2], ids));
      dd.push_back(deviceView(parts[3 * j], ids));
      db.push_back(deviceView(parts[3 * j + 1], ids));
      da.push_back(deviceView(parts[3 * j + 2], ids));
    }
    Mirror o0 = mirror(random(ids, prng)), o1 = mirror(random(ids, prng));
    cpu->keySwitchInnerProduct(hostView(o0, ids), hostView(o1, ids), hd, hb,
                               ha);
    gpu->keySwitchInnerProduct(deviceView(o0, ids), deviceView(o1, ids), dd, db,
                               da);
    expectSame(o0, "keySwitchInnerProduct b");
    expectSame(o1, "keySwitchInnerProduct a");
  }
}

INSTANTIATE_TEST_SUITE_P(Rings, CudaBackendTest,
                         ::testing::Values(12u, 13u, 14u, 15u, 16u, 17u),
                         [](const auto &info) {
                           return "logN" + std::to_string(info.param);
                         });

} // namespace
