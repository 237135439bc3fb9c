//===- GpuKernelBench.cpp - CUDA kernels against the copy roofline --------===//
//
// cerium-gpu-bench [--log-n 16] [--limbs 40] [--reps 50]: times, on the
// device, a device-to-device copy of one batch (the roofline), the forward
// and inverse NTT of the batch, an elementwise modular multiply, a base
// conversion (ModUp-shaped) and the key-switching inner product, through the
// RnsBackend interface. Prints one JSON object; exits 2 without a GPU.
//
//===----------------------------------------------------------------------===//

#include "cerium/kernels/CudaBackend.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <numeric>
#include <random>

using namespace cerium::kernels;

int main(int argc, char **argv) {
  CLI::App app{"cerium-gpu-bench: CUDA RNS kernels"};
  unsigned logN = 16;
  size_t limbs = 40;
  int reps = 50;
  app.add_option("--log-n", logN);
  app.add_option("--limbs", limbs);
  app.add_option("--reps", reps);
  CLI11_PARSE(app, argc, argv);
  std::string why;
  if (!cudaDeviceAvailable(&why)) {
    std::fprintf(stderr, "no CUDA device (%s): nothing to measure\n",
                 why.c_str());
    return 2;
  }
  try {
    RnsContext ctx(logN, generatePrimes(logN, 28, limbs + 8));
    auto gpu = createCudaBackend(ctx);
    const size_t n = ctx.degree(), words = limbs * n;
    std::vector<uint32_t> ids(ctx.numPrimes());
    std::iota(ids.begin(), ids.end(), 0);
    std::mt19937 rng(1);
    std::vector<uint32_t> host(ctx.numPrimes() * n);
    for (size_t i = 0; i < host.size(); ++i)
      host[i] = rng() % ctx.modulus(uint32_t(i / n));
    BackendBuffer a(*gpu, host.size()), b(*gpu, host.size()),
        c(*gpu, host.size());
    for (auto *buf : {&a, &b, &c})
      gpu->copyFromHost(buf->data(), host.data(), host.size());
    auto view = [&](BackendBuffer &buf, size_t first, size_t count) {
      return Limbs{buf.data() + first * n,
                   std::span<const uint32_t>(ids).subspan(first, count), n};
    };
    auto time = [&](const std::function<void()> &f) {
      f(); // warm up
      gpu->synchronize();
      auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r)
        f();
      gpu->synchronize();
      return std::chrono::duration<double, std::micro>(
                 std::chrono::steady_clock::now() - t0)
                 .count() /
             reps;
    };
    Limbs x = view(a, 0, limbs);
    double copyUs = time([&] { gpu->copy(c.data(), a.data(), words); });
    double nttUs = time([&] { gpu->nttForward(x); });
    double inttUs = time([&] { gpu->nttInverse(x); });
    double mulUs =
        time([&] { gpu->mul(view(c, 0, limbs), x, view(b, 0, limbs)); });
    const size_t k = limbs / 4, m = limbs - k + 8;
    BaseConverter conv(ctx, std::span<const uint32_t>(ids).first(k),
                       std::span<const uint32_t>(ids).subspan(k, m));
    double convUs =
        time([&] { gpu->baseConvert(conv, view(c, 0, m), view(a, 0, k)); });
    std::vector<ConstLimbs> d(4, view(a, 0, limbs)), kb(4, view(b, 0, limbs)),
        ka(4, view(b, 0, limbs));
    BackendBuffer o1(*gpu, words);
    double ipUs = time([&] {
      gpu->keySwitchInnerProduct(view(c, 0, limbs), view(o1, 0, limbs), d, kb,
                                 ka);
    });
    const double bytes = 2.0 * 4 * words; // read + write of the batch
    fmt::print(
        "{{\"logN\": {}, \"limbs\": {}, \"copy_us\": {:.1f}, "
        "\"copy_GBps\": {:.1f}, \"ntt_us\": {:.1f}, \"ntt_GBps\": {:.1f}, "
        "\"ntt_fraction_of_copy\": {:.2f}, \"ntt_limbs_per_s\": {:.3g}, "
        "\"intt_us\": {:.1f}, \"mulmod_us\": {:.1f}, \"baseconv_us\": {:.1f}, "
        "\"keyswitch_inner_product_us\": {:.1f}}}\n",
        logN, limbs, copyUs, bytes / copyUs / 1e3, nttUs, bytes / nttUs / 1e3,
        copyUs / nttUs, double(limbs) / (nttUs * 1e-6), inttUs, mulUs, convUs,
        ipUs);
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
