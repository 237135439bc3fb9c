//===- KernelBench.cpp - CPU RNS kernel benchmarks ------------------------===//
//
// cerium-kernel-bench [--benchmark_format=json]. Counters:
//   bfly/s   NTT butterflies per second (N/2 log2 N per limb)
//   bytes/s  bytes read + written per second, comparable with the Memcpy
//            rows over the same bytes (the roofline reference of the run).
// Arguments are {log2 N, limbs} ({log2 N, levels} for Encode). Threads: all
// cores unless CERIUM_BENCH_THREADS is set ("1" measures one core).
//
//===----------------------------------------------------------------------===//

#include "cerium/CKKS/Encoder.h"
#include "cerium/kernels/CpuBackend.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>

using namespace cerium::kernels;

namespace {

int benchThreads() {
  const char *env = std::getenv("CERIUM_BENCH_THREADS");
  return env ? std::atoi(env) : 0;
}

/// A context with `limbs` 28-bit primes (and 4 extra for conversions), random
/// data, and a backend.
struct Bench {
  Bench(unsigned logN, size_t limbs, NttPath path = NttPath::Auto)
      : ctx(logN, generatePrimes(logN, 28, limbs + 4)),
        backend(createCpuBackend(ctx, {benchThreads(), path})) {
    ids.resize(ctx.numPrimes());
    std::iota(ids.begin(), ids.end(), 0);
    std::mt19937 rng(7);
    for (auto *v : {&a, &b, &c}) {
      v->resize(ctx.numPrimes() * ctx.degree());
      for (size_t i = 0; i < v->size(); ++i)
        (*v)[i] = rng() % ctx.modulus(uint32_t(i / ctx.degree()));
    }
  }
  Limbs view(std::vector<uint32_t> &v, size_t first, size_t count) {
    return {v.data() + first * ctx.degree(),
            std::span<const uint32_t>(ids).subspan(first, count), ctx.degree()};
  }
  RnsContext ctx;
  std::unique_ptr<RnsBackend> backend;
  std::vector<uint32_t> ids, a, b, c;
};

void setCounters(benchmark::State &state, double bytesPerIter,
                 double butterfliesPerIter = 0) {
  state.counters["bytes/s"] = benchmark::Counter(
      bytesPerIter, benchmark::Counter::kIsIterationInvariantRate);
  if (butterfliesPerIter)
    state.counters["bfly/s"] = benchmark::Counter(
        butterfliesPerIter, benchmark::Counter::kIsIterationInvariantRate);
}

template <bool Forward, NttPath Path> void BM_Ntt(benchmark::State &state) {
  const unsigned logN = unsigned(state.range(0));
  const size_t limbs = size_t(state.range(1));
  Bench b(logN, limbs, Path);
  Limbs x = b.view(b.a, 0, limbs);
  for (auto _ : state) {
    if constexpr (Forward)
      b.backend->nttForward(x);
    else
      b.backend->nttInverse(x);
    benchmark::DoNotOptimize(x.data);
  }
  const double n = double(b.ctx.degree());
  setCounters(state, 2 * 4 * n * limbs, n / 2 * logN * limbs);
}

// A plaintext's last encoding step: rounded coefficients (|c| < 2^50, as at
// a 2^50 scale) reduced modulo every limb's prime and transformed.
void BM_NttForwardSigned(benchmark::State &state) {
  const size_t limbs = size_t(state.range(1));
  Bench b(unsigned(state.range(0)), limbs);
  std::mt19937_64 rng(7);
  std::vector<int64_t> coefficients(b.ctx.degree());
  for (int64_t &c : coefficients)
    c = static_cast<int64_t>(rng()) >> 14;
  Limbs x = b.view(b.a, 0, limbs);
  for (auto _ : state) {
    b.backend->nttForwardSigned(x, coefficients);
    benchmark::DoNotOptimize(x.data);
  }
  const double n = double(b.ctx.degree());
  setCounters(state, (8 + 2 * 4) * n * limbs, n / 2 * state.range(0) * limbs);
}

/// Encoding full slots of random complex values at the top of a chain of
/// {levels} levels (2 primes each, insecure parameters: only the sizes
/// matter): the slot transform, rounding, reduction and NTTs, as the
/// homomorphic DFT's diagonals are encoded at run time.
void BM_Encode(benchmark::State &state) {
  cerium::ckks::ParamSpec spec;
  spec.logN = unsigned(state.range(0));
  spec.logSlots = spec.logN - 1;
  spec.levels = unsigned(state.range(1));
  spec.scaleBits = 59;
  spec.baseBits = 67;
  spec.insecure = true;
  auto params = cerium::ckks::Params::create(spec);
  auto backend = createCpuBackend(params->rns(), {benchThreads()});
  cerium::ckks::Encoder encoder(params);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(-1, 1);
  std::vector<std::complex<double>> values(params->slots());
  for (auto &v : values)
    v = {unit(rng), unit(rng)};
  const unsigned level = params->maxLevel();
  auto primes = params->qPrimeIds(level);
  std::vector<uint32_t> out(primes.size() * params->degree());
  Limbs limbs{out.data(), primes, params->degree()};
  for (auto _ : state) {
    encoder.encodeInto(values, 0x1p50, level, std::span(&limbs, 1), *backend);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["limbs"] = double(primes.size());
}

void BM_MulMod(benchmark::State &state) {
  const size_t limbs = size_t(state.range(1));
  Bench b(unsigned(state.range(0)), limbs);
  for (auto _ : state) {
    b.backend->mul(b.view(b.c, 0, limbs), b.view(b.a, 0, limbs),
                   b.view(b.b, 0, limbs));
    benchmark::DoNotOptimize(b.c.data());
  }
  setCounters(state, 3 * 4 * double(b.ctx.degree()) * limbs);
}

// ModUp-shaped conversion: `limbs` inputs (one digit) to limbs + 4 outputs
// is too narrow; use the dnum = 3 shape: limbs/3 -> limbs - limbs/3 + 4.
void BM_BaseConvert(benchmark::State &state) {
  const size_t limbs = size_t(state.range(1));
  Bench b(unsigned(state.range(0)), limbs);
  const size_t k = std::max<size_t>(1, limbs / 3), m = limbs - k + 4;
  BaseConverter conv(b.ctx, std::span<const uint32_t>(b.ids).first(k),
                     std::span<const uint32_t>(b.ids).subspan(k, m));
  for (auto _ : state) {
    b.backend->baseConvert(conv, b.view(b.c, k, m), b.view(b.a, 0, k));
    benchmark::DoNotOptimize(b.c.data());
  }
  setCounters(state, 4 * double(b.ctx.degree()) * (k + m));
}

// Inner product of 3 digits with a key, over limbs + 4 primes.
void BM_KeySwitchInnerProduct(benchmark::State &state) {
  const size_t limbs = size_t(state.range(1)) + 4;
  const size_t dnum = 3;
  Bench b(unsigned(state.range(0)), limbs);
  const size_t words = limbs * b.ctx.degree();
  std::vector<uint32_t> store(3 * dnum * words);
  for (size_t i = 0; i < store.size(); ++i)
    store[i] = b.a[i % b.a.size()] %
               b.ctx.modulus(uint32_t((i % words) / b.ctx.degree()));
  std::vector<ConstLimbs> d, kb, ka;
  auto prim = std::span<const uint32_t>(b.ids).first(limbs);
  for (size_t j = 0; j < dnum; ++j) {
    d.push_back({store.data() + (3 * j) * words, prim, b.ctx.degree()});
    kb.push_back({store.data() + (3 * j + 1) * words, prim, b.ctx.degree()});
    ka.push_back({store.data() + (3 * j + 2) * words, prim, b.ctx.degree()});
  }
  std::vector<uint32_t> out(2 * words);
  for (auto _ : state) {
    b.backend->keySwitchInnerProduct({out.data(), prim, b.ctx.degree()},
                                     {out.data() + words, prim, b.ctx.degree()},
                                     d, kb, ka);
    benchmark::DoNotOptimize(out.data());
  }
  setCounters(state, 4.0 * words * (3 * dnum + 2));
}

// The NTT-domain automorphism (a rotation's permutation) of `limbs` limbs.
void BM_Automorphism(benchmark::State &state) {
  const size_t limbs = size_t(state.range(1));
  Bench b(unsigned(state.range(0)), limbs);
  const uint32_t g = rotationGaloisElement(b.ctx.degree(), 1);
  for (auto _ : state) {
    b.backend->automorphism(b.view(b.c, 0, limbs), b.view(b.a, 0, limbs), g,
                            Domain::Ntt);
    benchmark::DoNotOptimize(b.c.data());
  }
  setCounters(state, 2 * 4 * double(b.ctx.degree()) * limbs);
}

// One limb of a switching key's uniform half (AES-256-CTR keystream,
// rejection to residues): what loading, making and streaming keys pay per
// limb, on the unit the best path takes and on each unit by name.
template <AesUnit Unit, bool Best>
void BM_UniformLimb(benchmark::State &state) {
  const unsigned logN = unsigned(state.range(0));
  const size_t limbs = size_t(state.range(1));
  const auto primes = generatePrimes(logN, 30, limbs);
  const AesUnit unit = Best ? aesUnitFor(resolveCpuPath()) : Unit;
  if (!cpuSupports(unit)) {
    state.SkipWithError("this CPU lacks the unit");
    return;
  }
  std::vector<uint32_t> out(primes.size() << logN);
  const std::array<uint32_t, 8> key = {1, 2, 3, 4, 5, 6, 7, 8};
  for (auto _ : state) {
    for (size_t i = 0; i < primes.size(); ++i)
      expandUniform(unit, key, 1, uint64_t(i) << 32, primes[i],
                    std::span(out).subspan(i << logN, size_t(1) << logN));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(aesUnitName(unit));
  setCounters(state, 4.0 * double(out.size()));
}

// The roofline reference: copy the bytes one NTT reads and writes.
void BM_Memcpy(benchmark::State &state) {
  const size_t words = (size_t(1) << state.range(0)) * size_t(state.range(1));
  std::vector<uint32_t> src(words, 1), dst(words);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), words * 4);
    benchmark::DoNotOptimize(dst.data());
  }
  setCounters(state, 2 * 4.0 * words);
}

void ringArgs(benchmark::internal::Benchmark *b) {
  for (int logN : {14, 15, 16})
    for (int limbs : {1, 32})
      b->Args({logN, limbs});
  b->ArgNames({"logN", "limbs"})->Unit(benchmark::kMicrosecond);
}

} // namespace

BENCHMARK(BM_Ntt<true, NttPath::Auto>)->Name("NttForward")->Apply(ringArgs);
BENCHMARK(BM_Ntt<false, NttPath::Auto>)->Name("NttInverse")->Apply(ringArgs);
BENCHMARK(BM_Ntt<true, NttPath::Avx2>)->Name("NttForwardAvx2")->Apply(ringArgs);
BENCHMARK(BM_Ntt<true, NttPath::Portable>)
    ->Name("NttForwardPortable")
    ->Apply(ringArgs);
BENCHMARK(BM_NttForwardSigned)->Name("NttForwardSigned")->Apply(ringArgs);
BENCHMARK(BM_Encode)
    ->Name("Encode")
    ->Args({16, 1})
    ->Args({16, 5})
    ->Args({16, 23})
    ->ArgNames({"logN", "levels"})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MulMod)->Name("MulMod")->Apply(ringArgs);
BENCHMARK(BM_BaseConvert)->Name("BaseConvert")->Apply(ringArgs);
BENCHMARK(BM_KeySwitchInnerProduct)
    ->Name("KeySwitchInnerProduct")
    ->Apply(ringArgs);
BENCHMARK(BM_Automorphism)->Name("Automorphism")->Apply(ringArgs);
BENCHMARK(BM_UniformLimb<AesUnit::Software, true>)
    ->Name("UniformLimb")
    ->Apply(ringArgs);
BENCHMARK(BM_UniformLimb<AesUnit::Vaes512, false>)
    ->Name("UniformLimbVaes512")
    ->Apply(ringArgs);
BENCHMARK(BM_UniformLimb<AesUnit::Vaes256, false>)
    ->Name("UniformLimbVaes256")
    ->Apply(ringArgs);
BENCHMARK(BM_UniformLimb<AesUnit::AesNi, false>)
    ->Name("UniformLimbAesNi")
    ->Apply(ringArgs);
BENCHMARK(BM_UniformLimb<AesUnit::Software, false>)
    ->Name("UniformLimbSoftware")
    ->Apply(ringArgs);
BENCHMARK(BM_Memcpy)->Name("Memcpy")->Apply(ringArgs);

int main(int argc, char **argv) {
  // The code path every Auto row runs (CERIUM_CPU may force a lower one).
  benchmark::AddCustomContext("cerium_cpu_path", cpuPathName(resolveCpuPath()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
